/*
 * The replication plan for one dataset, from the two snapshot lists: what
 * to send so the target catches up with the source. Pure: no zfs calls.
 *
 * The common base is the newest target snapshot whose guid the source
 * also has (by name only for a restricted remote that lists names, not
 * guids): as a snapshot, or as a bookmark that stands in for a base
 * snapshot since destroyed on the source (send -i from the bookmark).
 *
 *   target has no snapshot        full send of the oldest (or, with
 *                                 full_newest, the newest) source snapshot,
 *                                 then -I to the newest
 *   base is the source's newest   up to date: nothing to send
 *   base found                    -I base newest (from a bookmark: -i to the
 *                                 first snapshot after it, then -I on)
 *   target has snapshots after    diverged: refused, unless force, which
 *   its copy of the base          rolls the target back (receive -F)
 *   no common snapshot at all     diverged: refused, even with force, since
 *                                 only a full replace could continue and
 *                                 zkeep never destroys a target to do it
 */
#ifndef ZK_PLAN_H
#define ZK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "zfs.h"

enum plan_kind {
	PLAN_UP_TO_DATE,
	PLAN_SEND,        /* steps to run */
	PLAN_DIVERGED,    /* refused: see reason */
	PLAN_NO_SNAPSHOT, /* the source has no snapshot to send */
};

struct plan_step {
	const char *from;   /* full name of the base snapshot or bookmark, NULL: full */
	const char *to;     /* full name of the snapshot to send up to */
	bool intermediates; /* -I (every snapshot in between) rather than -i */
};

struct plan_input {
	const struct zfs_obj *const *src; /* source snapshots, createtxg order */
	size_t n_src;
	const struct zfs_obj *const *bookmarks; /* source bookmarks */
	size_t n_bookmarks;
	const struct zfs_obj *const *dst; /* target snapshots, createtxg order */
	size_t n_dst;
	bool by_name;     /* match names, not guids (restricted remote) */
	bool full_newest; /* a first sync sends only the newest */
	bool force;       /* roll back a diverged target to the base */
};

struct plan {
	enum plan_kind kind;
	struct plan_step steps[2];
	size_t n_steps;
	const struct zfs_obj *base_src; /* the common base on the source, or NULL */
	const struct zfs_obj *base_dst; /* its copy on the target, or NULL */
	bool rollback;                  /* receive with -F */
	bool matched_by_name;
	char reason[512]; /* for DIVERGED and NO_SNAPSHOT */
};

void plan_make(const struct plan_input *in, struct plan *out);

/* The step s as -i steps, one per source snapshot after s->from up to
 * s->to (createtxg order), into out (room for in->n_src steps); a step
 * without intermediates is copied as it is. For a sender that is not
 * trusted with -I: its stream is a package, which can carry other
 * datasets' streams (stream.h). Returns the number of steps. Pure. */
size_t plan_split(const struct plan_input *in, const struct plan_step *s, struct plan_step *out);

/* The target's snapshots once p's steps have run, in order: its own (up
 * to its copy of the base when a receive -F rolls it back), then each
 * source snapshot the steps send (-I: every one after its base). For any
 * plan but PLAN_SEND, its own only. out: room for n_dst + n_src pointers
 * into in->dst and in->src; *n_own: how many of them are the target's
 * own (the rest carry source names). Returns the count. */
size_t plan_after(const struct plan_input *in, const struct plan *p, const struct zfs_obj **out,
                  size_t *n_own);

/* What the last run's record says of one target dataset, for
 * plan_unchanged. */
struct plan_record {
	const char *source; /* the source dataset it was replicated from */
	bool ok;            /* replicated or up to date then */
	bool protected;     /* the base had the job's hold and bookmark then */
	/* snapshots_changed of both sides then (ZFS_NONE: none), and the
	 * guids of both datasets */
	uint64_t src_changed, dst_changed, src_guid, dst_guid;
	time_t checked; /* when a listing last read them */
	/* the newest source snapshot the target held after that run (full
	 * name), its guid, and when the run was done with the dataset */
	const char *newest;
	uint64_t newest_guid;
	time_t end;
};

/* Whether a dataset may be reported up to date from the record, without
 * listing its snapshots (OpenZFS >= 2.2 on both sides): the same two
 * datasets as then (a rename or a changed layout may map another onto
 * the target), neither side's snapshots_changed moved, no partial
 * receive pending, and the base protected, or checked within a day (a
 * hold or bookmark refused then may be allowed now). src, dst: the two
 * datasets as listed at now. Pure. */
bool plan_unchanged(const struct plan_record *rec, const struct zfs_obj *src,
                    const struct zfs_obj *dst, time_t now);

/* Whether the target's snapshots need not be listed for this run: the
 * record says which source snapshot the target's newest is, and nothing
 * changed the target's snapshots since (its snapshots_changed is not
 * after the record's end; OpenZFS >= 2.2), and no partial receive is
 * pending. The plan then takes that snapshot as the target's only one:
 * an incremental from it, which zfs receive refuses where the snapshot
 * is gone from the target (ZFS_ERR_BASE_MISMATCH) or the target was
 * written after it (ZFS_ERR_MODIFIED): then list, and plan again. A
 * snapshot made on the target after it with nothing written (possible
 * only within the second the run ended) is kept, and the stream
 * received after it. Only for a receive without -F, which would roll
 * back instead of refusing, without retention on the target, which
 * needs every snapshot, and for a target on the clock that wrote the
 * record: the caller's to check. src, dst: the datasets as listed.
 * Pure. */
bool plan_trust_target(const struct plan_record *rec, const struct zfs_obj *src,
                       const struct zfs_obj *dst);

#endif
