/*
 * "Needs attention": the one rule that says whether a pool, a dataset's
 * snapshots or a backup is ok, a warning or critical, and why. `zkeep
 * status` (its exit code and its list), the /ui/ page's attention box and
 * /metrics' zkeep_attention_state (which the shipped alert rules alert on)
 * all read this; none has a rule of its own.
 *
 * The thresholds are the config's [attention] section (struct
 * zk_attention_cfg); the facts are the view's. Pure: no I/O, no clock (the
 * caller passes now), so the same view and now give the same answer.
 *
 * What is checked, per object (each check is always present, ok when
 * fine, so /metrics has a stable set of series):
 *   pool       health     not ONLINE: pool_unhealthy's level
 *              errors     vdev read/write/checksum or scan errors: pool_errors's
 *              capacity   above pool_capacity_critical: critical; above
 *                         pool_capacity_warning: warning
 *   snapshots  compliance an interval the policy keeps below
 *              (object:   snapshot_compliance percent (the seed's figure,
 *              a dataset  /metrics' zfs_snapshot_compliance_percent): warning
 *              with a     stale: an interval's newest snapshot older than
 *              policy, or compliance_age_factor intervals: snapshot_stale's
 *              a declared missing: declared in the config, absent: dataset_missing's
 *              dataset)
 *   backup     age        no success for longer than backup_age_pull or
 *              (object:   backup_age_push (by the job's kind): critical; a
 *              JOB:SOURCE) backup that never succeeded is left to "failed"
 *              failed     the last run failed: backup_failed's level
 *
 * Ownership: an attention list owns its names and reasons; free it with
 * attention_free. Deciding cannot fail.
 */
#ifndef ZK_ATTENTION_H
#define ZK_ATTENTION_H

#include <stddef.h>
#include <time.h>

#include "config.h"
#include "view.h"

enum att_kind { ATT_POOL, ATT_SNAPSHOTS, ATT_BACKUP };

enum att_check {
	ATT_HEALTH,
	ATT_ERRORS,
	ATT_CAPACITY,
	ATT_COMPLIANCE,
	ATT_STALE,
	ATT_MISSING,
	ATT_AGE,
	ATT_FAILED,
	ATT_N_CHECKS
};

#define ATT_MAX_CHECKS 3 /* checks of one kind */

struct att_finding {
	enum att_check check;
	int level;    /* ZK_LEVEL_* */
	char *reason; /* a short sentence for people, NULL when ok */
};

struct att_object {
	enum att_kind kind;
	char *name; /* pool, dataset, or JOB:SOURCE for a backup */
	int level;  /* the worst of its checks */
	struct att_finding checks[ATT_MAX_CHECKS];
	size_t n_checks;
};

struct attention {
	struct att_object *v; /* pools, then snapshots, then backups, in the view's order */
	size_t n;
	int worst;    /* over all objects: what `zkeep status` exits with */
	size_t n_bad; /* findings not ok */
};

/* Decides every pool, every dataset with a policy (and every declared
 * dataset that is missing) and every backup of v, at now, with a's
 * thresholds. */
void attention_decide(const struct view *v, const struct zk_attention_cfg *a, time_t now,
                      struct attention *out);
void attention_free(struct attention *att);
/* The findings that are not ok, worst first (the critical ones, then the
 * warnings; the rule's order within a level), as every reader lists them:
 * att->n_bad pointers into att, in a new array (free it). */
const struct att_finding **attention_worst_first(const struct attention *att);

/* One object each (what attention_decide runs per object). */
void attention_pool(const struct view_pool *p, const struct zk_attention_cfg *a,
                    struct att_object *out);
void attention_snapshots(const struct view_dataset *d, int age_factor,
                         const struct zk_attention_cfg *a, struct att_object *out);
void attention_backup(const struct view_backup *b, const struct zk_attention_cfg *a, time_t now,
                      struct att_object *out);
void attention_object_free(struct att_object *o);

const char *attention_kind_name(enum att_kind k);   /* "pool", "snapshots", "backup" */
const char *attention_check_name(enum att_check c); /* "health", "capacity", ... */

/* The thresholds by name (the [attention] keys), as /metrics exports
 * them: percents, seconds and levels (0, 1, 2). */
struct att_threshold {
	const char *name;
	double value;
};
#define ATT_N_THRESHOLDS 10
void attention_thresholds(const struct zk_attention_cfg *a,
                          struct att_threshold out[ATT_N_THRESHOLDS]);

#endif
