/*
 * What zkeep checks of a zfs send stream before zfs receive reads it.
 *
 * The sending host chooses the stream (a pull's client is only partly
 * trusted). zkeep asks for one dataset's snapshots (send [-w] [-i|-I]
 * or send -t), never for a replication or property stream (send -R, -p,
 * --holds), which carries an nvlist in its first record: with it, zfs
 * receive creates datasets the job did not ask for (children of a -R
 * stream keep canmount=on, which -o canmount=noauto does not reach) and
 * sets properties the sender chose. So the first record must be a
 * stream header (DRR_BEGIN with the backup magic, either byte order)
 * for a snapshot of the dataset asked for, not a clone's, and from an
 * untrusted sender one snapshot's stream: a package header (what -I
 * sends too, without an nvlist) lets zfs receive go on to whatever
 * streams follow, a child's or another package with its nvlist, so a pull
 * asks a client for -i steps only (plan_split). From a trusted sender (a
 * push sends its own datasets) a package without an nvlist passes.
 *
 * Owns: the layout of that first record (dmu_replay_record_t, 312
 * bytes, as OpenZFS 2.1 to 2.3 write it). Pure: no I/O.
 */
#ifndef ZK_STREAM_H
#define ZK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define STREAM_HEAD_LEN 312 /* sizeof(dmu_replay_record_t) */

struct stream_head {
	uint32_t payload_len; /* bytes of nvlist after the record */
	int compound;         /* 1: a package header (-I, -R, -p), 0: one snapshot's stream */
	int clone;            /* DRR_FLAG_CLONE: from a snapshot of another dataset */
	uint64_t toguid;
	uint64_t fromguid;
	char toname[257]; /* "dataset@snapshot", as the sender named it */
};

/* Parses the first record of a stream (len bytes at head). Errors:
 * -ENODATA (fewer than STREAM_HEAD_LEN bytes: the sender stopped),
 * -EBADMSG (not a zfs send stream, with what was wrong). */
int stream_head_parse(const unsigned char *head, size_t len, struct stream_head *h, struct zerr *e);

/* Parses and checks the first record of a stream asked for as a snapshot
 * of dataset (the part of toname before '@' must be dataset);
 * one_snapshot: no package header at all (an untrusted sender). Errors:
 * -ENODATA as stream_head_parse, -EBADMSG naming what the sender sent
 * instead. */
int stream_head_check(const unsigned char *head, size_t len, const char *dataset, bool one_snapshot,
                      struct zerr *e);

#endif
