/*
 * A job's marks on its source: a hold tagged zkeep:<job> on the newest
 * replicated snapshot and a bookmark DS#zkeep_<job>_<snap> of it, so the
 * next run's base survives a prune (zkeep-pull(1), "Protecting the
 * base"). Owns the tag and bookmark names and the order in which marks are
 * made and removed. A source that refuses holds or bookmarks (a gate key
 * without them) is warned about once per job, then left alone: the data
 * on the target is safe either way, only the next base is less protected.
 *
 * Cost: a bookmark takes one `zfs bookmark` per snapshot (the command
 * takes one) and an old one one `zfs destroy`; holds and releases are
 * queued per dataset and made for the whole job at its end, in one
 * `zfs hold` and one `zfs release` (marks_flush), so a pull of N changed
 * datasets adds 2N + 2 zfs processes on the source, not 4N. Bookmarks
 * stay (rather than holds alone): a hold can be released by hand or by
 * another tool, and only a bookmark outlives its snapshot as a base.
 */
#ifndef ZK_MARKS_H
#define ZK_MARKS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "host.h"
#include "policy.h"
#include "zfs.h"

struct marks {
	const struct host *src;
	int timeout_ms;
	struct buf tag;    /* zkeep:<job>[:<host>] */
	struct buf bmname; /* zkeep_<job>[:<host>]_ : the job's bookmark names start so */
	bool bookmarks;    /* the source is asked for bookmarks */
	bool hold_failed, bookmark_failed; /* refused once: not tried again */
	/* queued for marks_flush: snapshots to hold, to release, then the
	 * old bookmarks to destroy (in that order: a crash leaves no hold
	 * without a bookmark of the job to find it by) */
	struct strvec hold, release, destroy;
};

/* The marks of job name on src. A pull's job is qualified with this
 * host's short name (zkeep:<job>:<host>): a client pulled by two backup
 * servers under the same job name must not have one release the other's
 * hold or destroy its bookmarks. A push's source is this host's own
 * pool, where the job name alone is unique. bookmarks: try them. */
void marks_init(struct marks *m, const char *name, bool is_push, bool bookmarks,
                const struct host *src, int timeout_ms);
void marks_free(struct marks *m);

/* Whether one of bms (a dataset's bookmarks as listed) is the job's
 * bookmark of snap. Pure. */
bool marks_has_bookmark(const struct marks *m, const struct zfs_obj *snap,
                        const struct zfs_obj *const *bms, size_t nbm);

/* Bookmarks newest now, and queues the rest for marks_flush: its hold,
 * then the removal of the job's older marks: the hold on prev (the
 * plan's base), the hold on recorded (the base the last record names, a
 * name, or NULL) and each older bookmark of the job with the hold on its
 * snapshot. sd: the dataset's snapshots as listed, bms its bookmarks.
 * Failures are logged, never returned. */
void marks_protect(struct marks *m, const struct zfs_obj *newest, const struct zfs_obj *prev,
                   const char *recorded, const struct policy_dataset *sd,
                   const struct zfs_obj *const *bms, size_t nbm);

/* Makes what marks_protect queued: one `zfs hold` of every new base
 * (a tag already there counts as held), one `zfs release` of the old
 * ones (only when the hold was made; a tag already gone is fine), then
 * each old bookmark's destroy. Failures are logged, never returned. */
void marks_flush(struct marks *m);

/* True when the source kept both kinds of mark so far in this run. */
bool marks_intact(const struct marks *m);

#endif
