/*
 * A job's mark on its source: a hold tagged zkeep:<job> on the newest
 * replicated snapshot, so the next run's base survives a prune
 * (zkeep-pull(1), "Protecting the base"); a bookmark
 * DS#zkeep_<job>_<snap> of it only where the source refuses the hold (a
 * gate key or a delegation without `hold`). Owns the tag and bookmark
 * names and the order in which marks are made and removed. A source that
 * refuses both is warned about once per run, then left alone: the data on
 * the target is safe either way, only the next base is less protected.
 *
 * Cost: holds and releases are queued per dataset and made for the whole
 * job at its end, in one `zfs hold` and one `zfs release` (marks_flush),
 * so a pull of N changed datasets adds 2 zfs processes on the source.
 * Where that hold fails, each base is held on its own (N calls: the
 * batch's stderr cannot say which it refused, and `hold` may be allowed
 * on some datasets only), and a refused one bookmarked: a bookmark takes
 * one `zfs bookmark` per snapshot (the command takes one) and the old one
 * a `zfs destroy`: up to 3N more, which is why bookmarks are the fallback
 * and not the rule (issue 22's hourly case; bench/RESULTS.md).
 * What holds alone give up: a hold released by hand or by another tool
 * leaves the base to the next prune, and then the dataset needs a full
 * send (the target's data is kept: zkeep does not roll it back to match).
 * The job's bookmarks of an earlier version are destroyed, and their
 * snapshots' holds released, once the new base is protected.
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
	bool bookmarks;    /* a refused hold may fall back to a bookmark */
	bool hold_failed, bookmark_failed; /* refused in this run */
	/* queued for marks_flush, one entry per protected dataset: the new
	 * base to hold (and its bookmark name, should the hold be refused);
	 * the old bases to release and the job's old bookmarks to destroy,
	 * each with the entry it waits for (made only once that entry's new
	 * base is protected: a failure never leaves a dataset without the
	 * marks it had) */
	struct strvec hold, bookmark;
	struct strvec release, destroy;
	size_t *release_of, *destroy_of; /* entry index of each */
	size_t arel, ades;
	bool *kept;           /* per entry, in marks_flush: the new base is protected */
	struct strvec unkept; /* after marks_flush: the new bases left unprotected */
};

/* The marks of job name on src. A pull's job is qualified with this
 * host's short name (zkeep:<job>:<host>): a client pulled by two backup
 * servers under the same job name must not have one release the other's
 * hold or destroy its bookmarks. A push's source is this host's own
 * pool, where the job name alone is unique. bookmarks: fall back to
 * them where a hold is refused. */
void marks_init(struct marks *m, const char *name, bool is_push, bool bookmarks,
                const struct host *src, int timeout_ms);
void marks_free(struct marks *m);

/* Whether one of bms (a dataset's bookmarks as listed) is the job's
 * bookmark of snap. Pure. */
bool marks_has_bookmark(const struct marks *m, const struct zfs_obj *snap,
                        const struct zfs_obj *const *bms, size_t nbm);

/* Queues for marks_flush the hold of newest, then the removal of the
 * job's older marks: the hold on prev (the plan's base), the hold on
 * recorded (the base the last record names, a name, or NULL) and each
 * older bookmark of the job with the hold on its snapshot. sd: the
 * dataset's snapshots as listed, bms its bookmarks. Runs nothing. */
void marks_protect(struct marks *m, const struct zfs_obj *newest, const struct zfs_obj *prev,
                   const char *recorded, const struct policy_dataset *sd,
                   const struct zfs_obj *const *bms, size_t nbm);

/* Makes what marks_protect queued: one `zfs hold` of every new base (a
 * tag already there counts as held); if it fails, each again on its own:
 * a snapshot gone since the listing is skipped, a refused one gets a
 * bookmark instead (a refused bookmark stops the rest); then, for the
 * entries whose new base is now protected, one `zfs release` of the old
 * bases and each old bookmark's destroy (a tag or bookmark already gone
 * is fine). Failures are logged, never returned. */
void marks_flush(struct marks *m);

/* After marks_flush: whether the new base snap (a name marks_protect was
 * given) is protected, by its hold or, where the hold was refused, by
 * its bookmark. */
bool marks_kept(const struct marks *m, const char *snap);

#endif
