/* The first record of a zfs send stream: see stream.h. */
#include "stream.h"

#include <errno.h>
#include <string.h>
#include "banned.h"

/* From OpenZFS's zfs_ioctl.h (the on-wire stream format, stable since the
 * compound header appeared): offsets into dmu_replay_record_t. */
#define DRR_BEGIN       0
#define BACKUP_MAGIC    0x2F5bacbacULL
#define HDR_SUBSTREAM   1
#define HDR_COMPOUND    2
#define OFF_TYPE        0
#define OFF_PAYLOADLEN  4
#define OFF_MAGIC       8
#define OFF_VERSIONINFO 16
#define OFF_FLAGS       36
#define FLAG_CLONE      1
#define OFF_TOGUID      40
#define OFF_FROMGUID    48
#define OFF_TONAME      56
#define TONAME_LEN      256

static uint64_t get(const unsigned char *p, int n, int swap)
{
	uint64_t v = 0;
	/* the sender's native order: little-endian on the hosts zkeep runs
	 * on, big-endian when swapped */
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[swap ? n - 1 - i : i] << (8 * i);
	return v;
}

int stream_head_parse(const unsigned char *head, size_t len, struct stream_head *h, struct zerr *e)
{
	memset(h, 0, sizeof(*h));
	if (len < STREAM_HEAD_LEN)
		return zerr_set(e, -ENODATA, "the stream ended after %zu bytes, in its header",
		                len);
	int swap;
	if (get(head + OFF_MAGIC, 8, 0) == BACKUP_MAGIC)
		swap = 0;
	else if (get(head + OFF_MAGIC, 8, 1) == BACKUP_MAGIC)
		swap = 1;
	else
		return zerr_set(e, -EBADMSG, "not a zfs send stream (no stream magic)");
	if (get(head + OFF_TYPE, 4, swap) != DRR_BEGIN)
		return zerr_set(e, -EBADMSG,
		                "not a zfs send stream (the first record is not a BEGIN)");
	uint64_t hdr = get(head + OFF_VERSIONINFO, 8, swap) & 3;
	if (hdr != HDR_SUBSTREAM && hdr != HDR_COMPOUND)
		return zerr_set(e, -EBADMSG, "unknown zfs stream header type %u", (unsigned)hdr);
	const char *name = (const char *)head + OFF_TONAME;
	size_t nl = strnlen(name, TONAME_LEN);
	if (nl == TONAME_LEN)
		return zerr_set(e, -EBADMSG, "the stream's snapshot name is not terminated");
	h->payload_len = (uint32_t)get(head + OFF_PAYLOADLEN, 4, swap);
	h->compound = hdr == HDR_COMPOUND;
	h->clone = (get(head + OFF_FLAGS, 4, swap) & FLAG_CLONE) != 0;
	h->toguid = get(head + OFF_TOGUID, 8, swap);
	h->fromguid = get(head + OFF_FROMGUID, 8, swap);
	memcpy(h->toname, name, nl);
	h->toname[nl] = '\0';
	return 0;
}

int stream_head_check(const unsigned char *head, size_t len, const char *dataset, bool one_snapshot,
                      struct zerr *e)
{
	struct stream_head h;
	int r = stream_head_parse(head, len, &h, e);
	if (r < 0)
		return r;
	size_t dl = strlen(dataset);
	if (strncmp(h.toname, dataset, dl) != 0 || h.toname[dl] != '@')
		return zerr_set(e, -EBADMSG,
		                "the sender sent a stream of '%s' where '%s' was asked for",
		                h.toname, dataset);
	/* -I sends a compound header without an nvlist; -R, -p and --holds
	 * put the datasets and their properties in one */
	if (h.compound && h.payload_len)
		return zerr_set(
		    e, -EBADMSG,
		    "the sender sent a replication or property stream (zfs send -R or -p) "
		    "of '%s', which zkeep does not ask for and does not receive",
		    h.toname);
	if (h.compound && one_snapshot)
		return zerr_set(e, -EBADMSG,
		                "the sender sent a package of streams (zfs send -I) of '%s' where "
		                "zkeep asked for one snapshot's",
		                h.toname);
	if (h.clone)
		return zerr_set(e, -EBADMSG,
		                "the sender sent a clone's stream of '%s' (from another dataset's "
		                "snapshot), which zkeep does not ask for",
		                h.toname);
	return 0;
}
