/*
 * Replication of one job: the datasets of a source host into a target
 * dataset tree, over ssh on one side (pull: the source is remote; push:
 * the target is). Per job: one recursive listing per side, a plan per
 * dataset (lib/plan: common base by guid), then for each step
 *   source: zfs send [-w | -c -L -e] [-I|-i base] snap
 *     ->  relay  ->  target: zfs receive -u [-s] [-F] T
 * with zkeep itself relaying the bytes (lib/relay). One failing dataset
 * does not stop the others; the result lists every dataset's outcome.
 *
 * Beyond the seed (none of it on a restricted remote, which takes five
 * command lines and nothing else):
 *  - receives run with -s where the target's OpenZFS can resume; a target
 *    left with a receive_resume_token is resumed first (send -t). A token
 *    the sender refuses ("cannot resume send") is aborted (receive -A) and
 *    the dataset is sent from its base as if nothing had happened; any
 *    other failure keeps the token for the next run.
 *  - after a good transfer the newest replicated snapshot is protected on
 *    the source: a hold tagged zkeep:<job> (released from the previous
 *    base), or where the source refuses holds a bookmark
 *    DS#zkeep_<job>_<snap> (older ones of the job destroyed), so the
 *    chain survives a prune (lib/marks.h says why holds first). A pull's
 *    <job> is <name>:<this host's short name>, as two backup servers may
 *    pull one client under the same name. A source that refuses both (a
 *    gate key without hold or bookmark) gets one warning per run and the
 *    replication goes on without them.
 *
 *  - plain (pull) sends go with -c -L -e where both sides' OpenZFS has
 *    them (zfs version, asked once a run before the first send; -e not
 *    into a pool with encrypted datasets), so the stream is the blocks
 *    as stored: compressed, large and embedded. A target sent -L once is
 *    recorded so (large_blocks) and is never sent without -L again while
 *    it exists: that dataset fails instead (transfer_wire).
 *  - OpenZFS >= 2.2 on both sides: a dataset found up to date is recorded
 *    with both sides' snapshots_changed; while neither moves, the next
 *    runs list that dataset's filesystem row only, not its snapshots, and
 *    report it up to date from the record. The source and target listings
 *    run at the same time.
 *
 * Target layout, as the seed's: pull  DEST/<name>/<source dataset>
 *                                push  DEST/<source dataset minus strip_prefix/>
 * Missing parents are created with `zfs create -o canmount=off`.
 *
 * Messages go through log in the seed's wording ("Up to date", "Full
 * send", "Incremental send"). Nothing here takes the job lock; cmd/ does.
 */
#ifndef ZK_REPLICATE_H
#define ZK_REPLICATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "host.h"
#include "record.h"
#include "strvec.h"

struct repl_job {
	const char *name; /* the job: pull's <name>, push's host */
	bool is_push;
	const struct host *src;      /* where the datasets are */
	const struct host *dst;      /* where they go */
	const char *const *datasets; /* source roots, each with its descendants */
	const char *destination;     /* target root */
	const char *strip_prefix;    /* push: removed from source names */
	bool raw;                    /* send -w */
	bool allow_unencrypted;      /* push: a raw push of an encryption=off dataset
	                              * warns instead of failing that dataset */
	bool restricted;             /* the target takes the seed's five command lines only:
	                              * names, not guids; always receive -F -u */
	bool force;                  /* roll back a diverged target */
	bool full_newest;            /* a first sync sends the newest only */
	bool dry_run;
	uint64_t bwlimit; /* bytes/s, 0 = none */
	int stall_timeout_ms;
	int timeout_ms;        /* every non-streaming zfs/ssh call */
	bool progress;         /* progress lines on stderr */
	int parallel;          /* datasets transferred at once (<= 1: one at a time) */
	const char *state_dir; /* run records go here; NULL: none */
	const int *keep;       /* retention on the target per interval (ZK_KEEP_ALL:
	                        * none), NULL: no pruning of the target */
	const char *prefix;    /* the policy snapshot prefix, for keep */
};

enum repl_outcome { REPL_OK, REPL_UP_TO_DATE, REPL_FAILED, REPL_SKIPPED };

struct repl_dataset {
	char *source, *target;
	enum repl_outcome outcome;
	char *error; /* REPL_FAILED: why */
	uint64_t bytes;
	time_t start, end;
	char *newest; /* newest snapshot on the target after the run */
	uint64_t newest_guid, newest_creation;
	bool matched_by_name;
	char *resume_token;   /* the target's pending token after the run, or NULL */
	char *resume_refused; /* why the target's token was not resumed, or NULL */
	char *leaf_props;     /* record.h: still to be set after an interrupted first receive */
	/* snapshots_changed of source and target as listed when the dataset
	 * was found up to date (ZFS_NONE otherwise): the next run skips it
	 * while both stay the same */
	uint64_t src_changed, dst_changed;
	uint64_t src_guid, dst_guid; /* the two datasets they were read from */
	time_t checked;              /* when a listing read them */
	bool protected;              /* the base had its hold (or bookmark) then */
	/* the target has received a stream sent with -L (or -w, which implies
	 * it), in this run or an earlier one: later sends need -L */
	bool large_blocks;
	bool by_record; /* up to date by the record, its snapshots unlisted */
	/* the end of the last run that left it replicated or up to date, this
	 * one or (from the previous record) an earlier one; 0: never */
	time_t last_success;
};

struct repl_result {
	struct repl_dataset *v;
	size_t n, alloc;
	time_t start, end;
	char *error; /* a failure of the whole job (listing, destination) */
	/* the run record as written (or as it would have been, without a
	 * state_dir), for the run's notifications; NULL on a dry run */
	struct record *record;
};

/* Runs the job. Returns 0 when every dataset is replicated or up to date,
 * -EIO when any failed (see res), or the error that stopped the job before
 * any dataset (res->error says it too). Writes the run record when
 * state_dir is set. */
int repl_run(const struct repl_job *j, struct repl_result *res);

/* A run skipped because a seed job (pid) held the lock: noted in the job's
 * run record as "lock_held": {at, pid, by: "seed"}, the rest of the record
 * kept (a job without one gets one with no datasets, result "held"). Only
 * for a seed holder: no zkeep process can be writing this record then, as
 * a zkeep run of the job would need the lock. Uses j's name, is_push,
 * state_dir and dry_run only. */
int repl_record_lock_held(const struct repl_job *j, pid_t pid, time_t at, struct zerr *e);
void repl_result_free(struct repl_result *res);

#endif
