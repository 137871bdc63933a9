/*
 * The api's view of this host: one immutable snapshot of everything the
 * JSON endpoints, /metrics, `zkeep status` and the /ui/ page show, built by
 * one collection and never changed afterwards.
 *
 * One collection runs, on the local host, each with the configured timeout:
 *   zfs version                          capabilities
 *   zpool list -Hp                       pools
 *   zpool status -p POOL                 per pool (health, scan, vdev errors)
 *   zpool iostat -v POOL                 per pool, kept as text
 *   zfs list -Hp ... -t fs,vol,snap,bookmark  every dataset, snapshot and bookmark
 *   zfs get -Hp ... -t fs,vol all        every property of every dataset
 * On OpenZFS >= 2.2, with a previous view, the two zfs calls are instead
 * one listing of the datasets, then the snapshots and properties only of
 * the datasets that changed (view_incr_plan), the rest carried over from
 * the previous view by copying; see VIEW_FULL_EVERY.
 * and reads, without running anything, the run records in state_dir
 * ({pull,push}-NAME.json) and the lock files of the configured jobs.
 *
 * The `zfs get all` costs about as much as the listing itself at 500
 * datasets (80 lines per dataset, none per snapshot); it is what lets
 * /api/v1/datasets/{path} answer without a zfs call. The zpool and zfs list
 * calls must succeed for the collection to succeed; a pool whose status or
 * iostat fails, properties that do not parse, unreadable run records and
 * lock files are noted in warnings and the rest is still used.
 *
 * Sharing: a view is reference counted. The collector builds a new view and
 * swaps it into a struct view_holder; readers take a reference under the
 * holder's mutex (view_holder_get) and drop it when done (view_put), so a
 * reader never sees a half-built view and an old view lives until its last
 * reader lets go. Nothing in a view may be written after view_collect
 * returns, except its cache of rendered bodies (view_body), which fills
 * under its own lock and never changes a body once rendered.
 *
 * Ownership: every pointer inside a view points into memory the view owns,
 * except cfg, which must outlive every view built from it.
 */
#ifndef ZK_VIEW_H
#define ZK_VIEW_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "gz.h"
#include "host.h"
#include "policy.h"
#include "record.h"
#include "strvec.h"
#include "zfs.h"

/* The pool's last or running scrub/resilver, from the "scan:" line. */
struct view_scan {
	const char *type;  /* "scrub", "resilver" or "none" */
	const char *state; /* "finished", "in_progress", "canceled", "paused", "none" */
	int64_t errors;    /* "with N errors", -1 when not said */
	int64_t end;       /* when it finished or was canceled (epoch), 0 when unknown */
};

struct view_pool {
	const struct zpool *zp;     /* into view.pools */
	struct zpool_status status; /* all zero when !have_status */
	bool have_status;
	struct view_scan scan;
	char *iostat;               /* the text of `zpool iostat -v POOL`, or NULL */
	uint64_t dataset_available; /* free space as the root dataset sees it, or ZFS_NONE */
};

/* A filesystem or volume. pd->snaps are its snapshots in createtxg order. */
struct view_dataset {
	const struct policy_dataset *pd; /* into view.ix */
	const struct zfs_prop *props;    /* its `zfs get all` rows (n_props), or NULL */
	size_t n_props;
	const char *mountpoint, *compression, *compressratio; /* "-" when not known */
	unsigned counts[ZK_N_INTERVALS];                      /* policy snapshots per interval */
	struct policy_compliance comp[ZK_N_INTERVALS];        /* when pd->policy */
	uint64_t newest_snapshot;                             /* creation, or ZFS_NONE */
	uint64_t snapshots_used;                              /* sum of the snapshots' used */
};

/* One dataset of one run record (the last run of a pull or push job). */
struct view_backup {
	const char *job, *kind, *source_host, *destination_host; /* of the run */
	const char *run_result, *run_error;                      /* run_error may be NULL */
	int64_t run_start, run_end;
	const char *source, *target, *result, *error; /* error may be NULL */
	int64_t start, end, bytes;
	const char *newest_name; /* the newest snapshot on the target, or NULL */
	int64_t newest_creation; /* 0 when none */
	bool resume_pending;     /* a resume token was left */
	int64_t last_success;    /* end of the last good run known, 0 when none known */
};

/* A run that found its lock held by a seed job and skipped (its run
 * record's "lock_held"); pointers into view->runs. */
struct view_skip {
	const char *job, *kind;
	int64_t at;
	int64_t pid;
};

struct view_lock {
	char *job, *kind, *host, *path;
	bool held;
	pid_t pid; /* 0 when not held or not written */
	bool seed; /* held by a running seed job (its PID file) */
	time_t since;
};

struct view_bodies;

struct view {
	int refs; /* see view_holder */
	const struct zk_config *cfg;
	char *hostname;
	time_t started;   /* when the collection began (its listings are not older) */
	time_t collected; /* when the collection finished */
	double duration;  /* seconds it took */
	struct zfs_caps caps;

	struct zpool_list pools;
	struct view_pool *vpools; /* pools.n of them, same order */
	struct zfs_list list;     /* datasets, snapshots and bookmarks */
	struct zfs_props props;
	struct policy_index ix;  /* datasets by name, with snapshots and policies */
	struct view_dataset *ds; /* ix.n of them, same order (sorted by name) */

	struct record_list runs; /* the run records in state_dir (lib/record.h) */
	/* the snapshot and prune timers' records (what their check was told) */
	struct record_list timers;
	/* the snapshot hooks' last outcomes per interval (autosnap_hook_state_name),
	 * NULL where no run with hooks wrote one */
	json_t *snap_hooks[ZK_N_INTERVALS];
	struct view_backup *backups;
	size_t n_backups;
	struct view_skip *skips;
	size_t n_skips;
	struct view_lock *locks;
	size_t n_locks;

	struct view_bodies *bodies;  /* view_body's cache (its own lock) */
	unsigned since_full;         /* collections since the last full snapshot listing */
	struct strvec warnings;      /* partial failures of this collection */
	struct buf metrics;          /* /metrics for this view, rendered once (view_opts) */
	struct gz_prefix metrics_gz; /* the same, gzipped (lib/gz.h); empty unless asked for */
};

/* On OpenZFS >= 2.2 a collection re-reads the snapshots and properties
 * only of datasets that changed (view_incr_plan); every VIEW_FULL_EVERY-th
 * lists and reads all (the used of carried-over snapshots moves as their
 * datasets diverge; a property may be set without any space moving). */
#define VIEW_FULL_EVERY 10

struct view_opts {
	const struct zk_config *cfg;
	const struct host *host;
	const char *hostname;
	int timeout_ms;    /* per zfs/zpool call */
	time_t now;        /* for compliance */
	bool gzip_metrics; /* also keep /metrics gzipped (the api, for scrapers) */
	/* Renders /metrics from the finished view, once per collection (the
	 * api passes lib/metrics' metrics_render_view); NULL: no /metrics.
	 * The view calls it, so it need not know the renderer (layering). */
	void (*render_metrics)(struct buf *out, const struct view *v);
	/* Runs every zfs and zpool call of view_collect (the unit tests pass
	 * one that answers from captured output or fails, to reach the
	 * failure paths without zfs); NULL: host_run on host. Same contract as
	 * host_run. */
	int (*run)(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
	           int timeout_ms, struct zerr *e);
};

/* Runs one collection. prev (may be NULL) carries backups' last success
 * over runs whose record no longer shows one. On success *out is a new view
 * with one reference; on failure (zfs or zpool missing, failing, timing
 * out or printing what does not parse) a negative errno and e. */
int view_collect(const struct view_opts *o, const struct view *prev, struct view **out,
                 struct zerr *e);

/* What an incremental collection (OpenZFS >= 2.2, a previous view)
 * reads again and what it carries over from the previous view. */
struct view_incr {
	/* datasets whose snapshots_changed moved (or that prev lacks, or has
	 * with another guid, or whose change falls in the second prev's
	 * collection started): their snapshots are listed again */
	struct strvec relist;
	/* those, and the datasets whose used or referenced moved: their
	 * `zfs get all` is run again (written moves only with one of them) */
	struct strvec reread;
	/* prev's snapshot rows of the other datasets, as `zfs list -Hp` with
	 * cols prints them; prev's property rows of the datasets not reread,
	 * as `zfs get -Hp -o name,property,value,source` prints them, but
	 * available from the new listing (it moves with any write to the pool) */
	struct buf list, props;
};
/* Decides from prev and the new listing of every dataset (datasets, with
 * snapshots_changed) what to read again; out is initialised here and
 * released with view_incr_free. Pure: runs nothing. */
void view_incr_plan(const struct view *prev, const struct zfs_list *datasets, unsigned cols,
                    struct view_incr *out);
/* Also fine on an all-zero struct view_incr (one never planned, as when
 * the dataset listing fails before view_incr_plan runs). */
void view_incr_free(struct view_incr *p);

/* Builds a view from outputs already captured (the unit tests' fixtures);
 * NULL texts are treated as empty output. status and iostat are indexed
 * like the pools of zpool_text. */
struct view_texts {
	const char *version, *zpool_list, *zfs_list, *zfs_get;
	const char *const *status; /* may be NULL */
	const char *const *iostat; /* may be NULL */
	unsigned list_cols;        /* ZFS_COL_* in zfs_list */
};
int view_build(const struct view_opts *o, const struct view_texts *t, const struct view *prev,
               struct view **out, struct zerr *e);

struct view *view_ref(struct view *v);
void view_put(struct view *v); /* NULL is fine */

/* ---- bodies rendered once per view ----------------------------------- */

/* A response body that depends on nothing but the view and a key, so
 * every request for that key can be given the same bytes (lib/api decides
 * what the bodies are; the view only keeps them). */
struct view_body {
	int status;
	struct buf text;
};
typedef void view_render_fn(const struct view *v, unsigned kind, size_t index, const void *cls,
                            struct view_body *out);
/* The body for the key (kind, index), kind < 65536 (the caller's numbering,
 * index e.g. a pool's or dataset's position in v): rendered by
 * fn(v, kind, index, cls, out), out->text empty, on the first call for
 * that key, and the same body returned by every later call without
 * calling fn. Thread-safe: a first render holds the view's cache lock, so
 * concurrent first requests wait for it instead of rendering twice. The
 * body is the view's; the caller must hold a reference to v while it uses
 * it. Keys should name only what exists in v (an index of a pool or
 * dataset), so that what clients ask cannot grow the cache by count.
 *
 * By size: once the view keeps VIEW_BODIES_MAX bytes of bodies (a client
 * walking every dataset's snapshots would otherwise make each view keep
 * all of them, twice the text of /api/v1/snapshots/_all), a key not yet
 * kept is rendered into scratch (status 0, text empty on entry) outside
 * the lock and scratch is returned: then the caller owns scratch->text.
 * Compare the result with scratch to know which. */
const struct view_body *view_body(const struct view *v, unsigned kind, size_t index,
                                  view_render_fn *fn, const void *cls, struct view_body *scratch);
/* The bytes of bodies v keeps at most (tests set a small one; the
 * default is VIEW_BODIES_MAX). Part of the cache, not of the view. */
#define VIEW_BODIES_MAX ((size_t)32 << 20)
void view_bodies_budget(const struct view *v, size_t bytes);
/* How many bodies v has rendered so far, kept or not (tests: a second
 * request for a kept key renders nothing), and how many bytes it keeps. */
size_t view_bodies_rendered(const struct view *v);
size_t view_bodies_kept(const struct view *v);

/* Lookups (binary search where the data is sorted). */
const struct view_dataset *view_dataset(const struct view *v, const char *name);
const struct view_pool *view_pool(const struct view *v, const char *name);
/* The i-th record that notifies: the jobs' runs, then the timers'
 * (i < runs.n + timers.n), for what every channel was told. */
const struct record *view_notifier(const struct view *v, size_t i);

/* A pool with read, write or checksum errors on a vdev, or a scan that
 * found errors. */
bool view_pool_has_errors(const struct view_pool *p);
/* A backup whose last run did what it should (ok, up to date, skipped). */
bool view_backup_ok(const struct view_backup *b);

/* The pool of a dataset name and the rest ("" for the pool's root), as the
 * seed's metrics label them. */
void view_split_name(const char *name, struct buf *pool, const char **rest);

/* Parses a zpool status scan line (the text after "scan:"). */
void view_scan_parse(const char *scan, struct view_scan *out);

/* ---- sharing between the collector and readers --------------------- */

struct view_status {
	int64_t last_attempt, last_success; /* epoch, 0 = never */
	double last_duration;               /* seconds, of the last attempt */
	bool last_ok;
	uint64_t collections, failures;
	char last_error[ZERR_MSG_MAX];
};

struct view_holder {
	pthread_mutex_t mu;
	struct view *cur; /* NULL until the first collection succeeds */
	struct view_status st;
};

void view_holder_init(struct view_holder *h);
void view_holder_free(struct view_holder *h);
/* The current view with a reference taken (view_put it), or NULL; and a
 * copy of the collector's status when st is not NULL. */
struct view *view_holder_get(struct view_holder *h, struct view_status *st);
/* Records one attempt; v (may be NULL on failure) replaces the current
 * view, the holder taking over the caller's reference. */
void view_holder_update(struct view_holder *h, struct view *v, double duration,
                        const struct zerr *e);

#endif
