/*
 * The policy jobs on one host: take the snapshots that are due, destroy
 * the ones that expired, report compliance. A snapshot run starts from the
 * declared datasets' snapshots_changed and the snapshot names of only
 * those that changed in the period (autosnap_load_due); prune from one
 * names listing under the declared datasets (autosnap_load_names: no
 * probe, name and createtxg only); the report from zfs version and one
 * full recursive listing (autosnap_load). Each is indexed by policy.
 *
 * Snapshots are taken in ONE `zfs snapshot` call (atomic: the same txg for
 * every dataset). Should that call fail, each dataset is retried on its
 * own so one bad dataset cannot stop the others, and the failures are
 * named. Expired snapshots are destroyed with one `zfs destroy
 * ds@a,b,c` per dataset; held snapshots are kept and said to be (their
 * holds are asked for in one `zfs get userrefs` of the candidates only).
 *
 * Messages go through log (info for what is done, debug for what is not,
 * error for each failure).
 */
#ifndef ZK_AUTOSNAP_H
#define ZK_AUTOSNAP_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "host.h"
#include "policy.h"
#include "zfs.h"

struct autosnap {
	const struct zk_config *cfg; /* not owned */
	const struct host *host;     /* not owned */
	int timeout_ms;
	struct zfs_caps caps;
	struct zfs_list list;
	struct zfs_list dsl, snl; /* autosnap_load_due: what list joins */
	struct policy_index ix;
	unsigned zfs_calls; /* zfs processes started, for the benchmarks */
};

struct autosnap_result {
	unsigned done;          /* snapshots taken / destroyed */
	unsigned failed;        /* datasets that failed */
	unsigned skipped;       /* snapshot: managed datasets not taken (not due, or their
	                           policy takes no such snapshot); prune: held */
	unsigned kept;          /* prune: policy snapshots of pruned datasets left */
	unsigned hook_failures; /* snapshot: post_snapshot hooks that failed */
};

/* Probes and lists h. Errors: the zfs call's, with its message. */
int autosnap_load(struct autosnap *a, const struct zk_config *c, const struct host *h,
                  int timeout_ms, struct zerr *e);
void autosnap_free(struct autosnap *a);

/* Lists h for snapshot and prune: one names listing (zfs_names_tree_argv)
 * under the declared datasets, no probe. When a declared dataset does not
 * exist the listing fails; then the whole host is listed by name instead,
 * so that it is named as missing. No [dataset] section: nothing listed. */
int autosnap_load_names(struct autosnap *a, const struct zk_config *c, const struct host *h,
                        int timeout_ms, struct zerr *e);

/* Lists h for a snapshot run of iv at now: the datasets under the
 * declared ones with their snapshots_changed (one fast listing), then the
 * snapshot names of only those whose snapshots changed in now's period
 * (or later: a clock set back), in one more listing where there are any.
 * A dataset whose snapshots did not change since before the period began
 * has no snapshot of it, which is all policy_is_due asks; so an hourly
 * run lists no snapshot at all. Where snapshots_changed is not known
 * (OpenZFS < 2.2) or a declared dataset is missing: autosnap_load_names.
 * Datasets that are not listed carry no snapshots in a->ix. */
int autosnap_load_due(struct autosnap *a, const struct zk_config *c, const struct host *h,
                      int timeout_ms, enum zk_interval iv, time_t now, struct zerr *e);

/* The file in state_dir where a snapshot run with hooks records their
 * outcomes (JSON, version 1: interval, time, and per dataset with hooks
 * its pre_snapshot and post_snapshot outcomes, hook_outcome_name or null
 * when it has none, and its snapshot: "ok", "failed" or "skipped"). */
void autosnap_hook_state_name(struct buf *path, const char *state_dir, enum zk_interval iv);

/* Snapshots every managed dataset whose policy has autosnap and keeps iv,
 * unless it already has iv's snapshot for now's local period. Declared
 * datasets that do not exist count as failed when their policy takes iv.
 * Logs the seed's lines: "Creating <iv> snapshots: <name>", "Discovered
 * <n> child datasets at runtime" (n > 0), "Summary: <c> created, <s>
 * skipped, <f> failed". Returns 0, or -EIO when any dataset failed (each
 * one logged) or a post_snapshot hook failed.
 *
 * Hooks (zkeep.conf(5), config_snap_hooks): the due datasets in config
 * order; every pre_snapshot hook in that order; then ONE zfs snapshot of
 * the datasets whose pre-hook passed or who have none; then every
 * post_snapshot hook in reverse order, also after a failed pre-hook or
 * snapshot (ZKEEP_PRE_RESULT, ZKEEP_SNAPSHOT_RESULT say what happened). A
 * failed pre-hook skips that dataset's snapshot and counts as failed. A
 * run with hooks writes autosnap_hook_state_name. Dry runs run no hooks. */
int autosnap_snapshot(struct autosnap *a, enum zk_interval iv, time_t now, bool dry_run,
                      struct autosnap_result *res);

/* Destroys, per managed dataset with autoprune, the policy snapshots past
 * what the policy keeps. Logs the seed's "Starting snapshot pruning", the
 * discovery line, and "Pruning complete: <d> destroyed, <k> kept". Returns
 * 0, or -EIO when any dataset failed. */
int autosnap_prune(struct autosnap *a, bool dry_run, struct autosnap_result *res);

/* ---- compliance as JSON: the one home of its values ----------------
 * The report below, the api's /api/v1/snapshots and zkeep status --json
 * each have their own shape (their contracts: seed-system.md 1.5 and 5,
 * zkeep-status(1)); what a value is comes from here. */
enum autosnap_field {
	AUTOSNAP_COUNT,        /* the interval's policy snapshots */
	AUTOSNAP_RETENTION,    /* how many the policy keeps */
	AUTOSNAP_PERCENT,      /* zkeep's percent, capped at 100 */
	AUTOSNAP_SEED_PERCENT, /* the seed's uncapped figure */
	AUTOSNAP_FRESH,        /* booleans */
	AUTOSNAP_COMPLIANT,
	AUTOSNAP_NEWEST, /* creation times, null without a snapshot */
	AUTOSNAP_OLDEST,
};
struct autosnap_member {
	const char *key;
	enum autosnap_field field;
};
/* Adds to obj, for each of the n members in order, its key and the map
 * {"hourly": value, "daily": ..., "monthly": ..., "yearly": ...}. */
void autosnap_add_maps(json_t *obj, const struct policy_compliance c[ZK_N_INTERVALS],
                       const struct autosnap_member *m, size_t n);
/* {"hourly": {key: value, ... for the n members}, "daily": ...}. The
 * caller owns the result. */
json_t *autosnap_by_interval(const struct policy_compliance c[ZK_N_INTERVALS],
                             const struct autosnap_member *m, size_t n);

/* The seed's report: {"managed": [...], "unmanaged": [...]}, managed
 * entries with the seed's dataset, policy, counts and retention, plus
 * compliance, fresh, compliant, newest, oldest (per interval) and
 * total_snapshots. The caller owns the result (json_decref). */
json_t *autosnap_report(const struct autosnap *a, time_t now);

/* The seed's report table (seed-system.md 1.5) of report's managed
 * datasets, appended to out: a header "Dataset Policy Hourly Daily Monthly
 * Yearly", a dash rule, a line per dataset with "count/retention" right
 * aligned in 10 per interval, a dash rule and "Total: <n> datasets, <m>
 * autosnap snapshots"; "No datasets found." when there are none. */
void autosnap_seed_table(const json_t *report, struct buf *out);

#endif
