/*
 * One transfer: zfs send on one host | zkeep's relay | zfs receive on
 * another, and what went wrong when it did. Owns the send and receive
 * command lines (the receive's safety options: -u, -x mountpoint,
 * canmount=noauto; the seed's receive line on a restricted remote), the
 * progress line, and the one rule of which side of the pipeline to blame.
 *
 * Errors: transfer_run returns 0 when both sides exited 0 and the relay
 * moved the whole stream; -EBADMSG/-ENODATA when the relay refused the
 * stream's first record (nothing was received); otherwise -EIO (or the
 * relay's error) with a message that names the side to blame first and
 * e->kind the zfs_err_kind of that side's stderr.
 *
 * The wire: a plain send carries decompressed data, 128 KiB records and
 * no embedded blocks unless asked for -c -L -e; transfer_wire decides
 * those flags for a job and a target (a raw send's -w implies them).
 */
#ifndef ZK_TRANSFER_H
#define ZK_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "host.h"
#include "proc.h"
#include "strvec.h"
#include "zfs.h"

struct transfer {
	const struct host *src, *dst;
	const char *source; /* the dataset the stream must be a snapshot of */
	const char *target; /* the dataset received into */
	const char *from;   /* base snapshot or bookmark; NULL: a full send */
	const char *to;     /* the snapshot sent up to (with token: a name for messages) */
	bool intermediates; /* -I rather than -i */
	const char *token;  /* resume this token (send -t) instead */
	enum zfs_type type; /* the source's type: filesystem or volume */
	bool raw;           /* send -w (also with a token: it is ours to give) */
	unsigned wire;      /* TRANSFER_WIRE_*: plain sends only, not with a token */
	bool restricted;    /* the target takes the seed's receive line only */
	bool rollback;      /* receive -F */
	bool resumable;     /* receive -s */
	bool progress;      /* a progress line on stderr */
	const struct strvec *recv_opts; /* more receive options, or NULL */
	uint64_t bwlimit;               /* bytes/s, 0: none */
	int stall_timeout_ms, timeout_ms;
};

/* A plain send's stream as stored on the source (transfer_wire). */
enum {
	TRANSFER_WIRE_COMPRESSED = 1 << 0, /* send -c: compressed blocks stay so */
	TRANSFER_WIRE_LARGE = 1 << 1,      /* send -L: records over 128 KiB whole */
	TRANSFER_WIRE_EMBEDDED = 1 << 2,   /* send -e: embedded blocks stay so */
};

/* What transfer_wire decides from: each side's probe (NULL: not known,
 * the probe failed or, on a restricted remote, was not run) and labels
 * for the message; the target pool's features (NULL: not known); whether
 * the job is raw or the target restricted; whether these sends start
 * with a full one (the target is made by them); whether the target has
 * received a stream with -L (or -w) before. */
struct transfer_wire_in {
	const struct zfs_caps *src, *dst;
	const char *src_label, *dst_label;
	const char *src_why, *dst_why; /* why a side is not known, or NULL */
	const struct zpool_features *dst_pool;
	const char *pool_why; /* why dst_pool is not known, or NULL */
	bool raw, restricted, full, large_before;
};

/* The TRANSFER_WIRE_* flags of plain sends into target: each one both
 * sides support and the target pool has the feature for (-c: lz4 and
 * zstd, since the source's algorithm is not known; -e: embedded_data);
 * none for a raw job (-w implies them), a restricted target (the seed's
 * remote is asked nothing but its five lines, so its OpenZFS is not
 * known) or a pool whose features are not known; no -e where the pool has
 * encrypted datasets (zfs refuses an embedded-data stream into one).
 *
 * -L only into a target made with it (full, or large_before): switching
 * an existing target's incrementals to -L has zeroed files on receive
 * (openzfs#6224; still reported on 2.2, openzfs#17866), so a target the
 * seed or an older zkeep filled without -L keeps going without it. And
 * -L is a one-way door: once a target has received a large-block stream,
 * zfs refuses an incremental without -L into it; so where large_before
 * holds and -L cannot be given, returns -EOPNOTSUPP with a message
 * naming target, what cannot and what to do, rather than send without
 * -L. Pure: tests/unit/test_replicate.c walks its whole table. */
int transfer_wire(const struct transfer_wire_in *in, const char *target, unsigned *flags,
                  struct zerr *e);

/* Runs t; adds the bytes relayed to *bytes. */
int transfer_run(const struct transfer *t, uint64_t *bytes, struct zerr *e);

/* Which side's failure is the cause, from how both ended and what the
 * relay returned (relay_r: 0 or its negative error). Pure. */
enum transfer_blame {
	BLAME_NONE,     /* all went well */
	BLAME_STREAM,   /* the relay refused the stream's first record */
	BLAME_SENDER,   /* the sender failed on its own */
	BLAME_RECEIVER, /* the receiver failed (the sender's error is its echo) */
	BLAME_RELAY,    /* both exited 0 but the relay failed (stall, ...) */
};
enum transfer_blame transfer_blame(const struct proc_status *snd, const struct proc_status *rcv,
                                   int relay_r);

#endif
