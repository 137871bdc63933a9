/* Prometheus text exposition (metrics.h): the writer's format rules and the
 * rendering of a view into the seed's metric families and zkeep's. */
#include "metrics.h"

#include <math.h>
#include <string.h>

#include "attention.h"
#include "log.h"
#include "banned.h"

void metrics_init(struct metrics *m, struct buf *out, const char *hostname)
{
	m->out = out;
	m->hostname = hostname;
	m->family = NULL;
	strvec_init(&m->seen);
}

void metrics_free(struct metrics *m)
{
	strvec_clear(&m->seen);
}

void metrics_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(out, "\\\\");
		else if (*s == '"')
			buf_adds(out, "\\\"");
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addch(out, *s);
	}
}

static void help_escape(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			buf_adds(out, "\\\\");
		else if (*s == '\n')
			buf_adds(out, "\\n");
		else
			buf_addch(out, *s);
	}
}

void metrics_family(struct metrics *m, const char *name, const char *type, const char *help)
{
	if (strvec_has(&m->seen, name)) {
		log_error("metrics: family '%s' declared twice; its second part is dropped", name);
		m->family = NULL;
		return;
	}
	strvec_push(&m->seen, name);
	m->family = m->seen.v[m->seen.n - 1];
	buf_addf(m->out, "# HELP %s ", name);
	help_escape(m->out, help);
	buf_addf(m->out, "\n# TYPE %s %s\n", name, type);
}

static void labels(struct metrics *m, const char *const *l)
{
	buf_adds(m->out, m->family);
	buf_adds(m->out, "{hostname=\"");
	metrics_escape(m->out, m->hostname);
	buf_addch(m->out, '"');
	for (; l && l[0]; l += 2) { /* keys are never NULL: the terminator is */
		buf_addf(m->out, ",%s=\"", l[0]);
		metrics_escape(m->out, l[1] ? l[1] : "");
		buf_addch(m->out, '"');
	}
	buf_adds(m->out, "} ");
}

void metrics_sample(struct metrics *m, double value, const char *const *l)
{
	if (!m->family)
		return;
	labels(m, l);
	if (isnan(value))
		buf_adds(m->out, "NaN");
	else if (isinf(value))
		buf_adds(m->out, value > 0 ? "+Inf" : "-Inf");
	else if (value == floor(value) && fabs(value) < 9007199254740992.0)
		buf_addf(m->out, "%.0f", value);
	else
		buf_addf(m->out, "%.9g", value);
	buf_addch(m->out, '\n');
}

void metrics_sample_u64(struct metrics *m, uint64_t value, const char *const *l)
{
	if (!m->family)
		return;
	labels(m, l);
	buf_addf(m->out, "%llu\n", (unsigned long long)value);
}

/* ---- the view's families --------------------------------------------- */

static const char *const pool_states[] = {"ONLINE",  "DEGRADED", "FAULTED",  "OFFLINE",
                                          "UNAVAIL", "REMOVED",  "SUSPENDED"};
#define N_POOL_STATES (sizeof(pool_states) / sizeof(pool_states[0]))

/* The numeric `zpool list` columns, one family each; a column zpool printed
 * as "-" (ZFS_NONE) has no sample rather than a made-up 0. */
static void pool_sizes(struct metrics *m, const struct zpool_list *pl)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} num[] = {
	    {"zfs_pool_capacity_percent", "Pool capacity used, percent",
	     offsetof(struct zpool, capacity)},
	    {"zfs_pool_size_bytes", "Pool size", offsetof(struct zpool, size)},
	    {"zfs_pool_allocated_bytes", "Pool space allocated", offsetof(struct zpool, allocated)},
	    {"zfs_pool_free_bytes", "Pool space free", offsetof(struct zpool, free)},
	    {"zfs_pool_fragmentation_percent",
	     "Pool free space fragmentation, percent (absent when zpool prints -)",
	     offsetof(struct zpool, fragmentation)},
	};
	for (size_t k = 0; k < sizeof(num) / sizeof(num[0]); k++) {
		metrics_family(m, num[k].name, "gauge", num[k].help);
		for (size_t i = 0; i < pl->n; i++) {
			uint64_t x;
			memcpy(&x, (const char *)&pl->v[i] + num[k].off, sizeof(x));
			if (x != ZFS_NONE)
				metrics_sample_u64(m, x, ML("pool", pl->v[i].name));
		}
	}
}

/* One sample per known state, 0 or 1; a state not in pool_states still
 * shows, as its own 1, instead of vanishing. */
static void pool_state_onehot(struct metrics *m, const struct zpool_list *pl)
{
	metrics_family(m, "zfs_pool_state", "gauge",
	               "Pool state, one-hot: 1 for the state the pool is in");
	for (size_t i = 0; i < pl->n; i++) {
		bool known = false;
		for (size_t s = 0; s < N_POOL_STATES; s++) {
			known |= !strcmp(pl->v[i].health, pool_states[s]);
			metrics_sample(m, strcmp(pl->v[i].health, pool_states[s]) ? 0 : 1,
			               ML("pool", pl->v[i].name, "state", pool_states[s]));
		}
		if (!known)
			metrics_sample(m, 1, ML("pool", pl->v[i].name, "state", pl->v[i].health));
	}
}

/* The last scrub or resilver from `zpool status`: only pools whose status
 * was read, and the end time and errors only when the scan reported them. */
static void pool_scans(struct metrics *m, const struct view *v)
{
	const struct zpool_list *pl = &v->pools;
	metrics_family(m, "zfs_pool_scan_state", "gauge",
	               "1 for the pool's last or running scan (scrub or resilver) and its state");
	for (size_t i = 0; i < pl->n; i++)
		if (v->vpools[i].have_status)
			metrics_sample(m, 1,
			               ML("pool", pl->v[i].name, "type", v->vpools[i].scan.type,
			                  "state", v->vpools[i].scan.state));
	metrics_family(m, "zfs_pool_scan_end_timestamp_seconds", "gauge",
	               "When the pool's last scan finished or was canceled");
	for (size_t i = 0; i < pl->n; i++)
		if (v->vpools[i].scan.end)
			metrics_sample(m, (double)v->vpools[i].scan.end,
			               ML("pool", pl->v[i].name, "type", v->vpools[i].scan.type));
	metrics_family(m, "zfs_pool_scan_errors", "gauge", "Errors found by the pool's last scan");
	for (size_t i = 0; i < pl->n; i++)
		if (v->vpools[i].scan.errors >= 0)
			metrics_sample(m, (double)v->vpools[i].scan.errors,
			               ML("pool", pl->v[i].name, "type", v->vpools[i].scan.type));
}

/* Per-vdev error counters from `zpool status`, one family per column; a
 * counter the status did not show (ZFS_NONE) has no sample. */
static void vdev_errors(struct metrics *m, const struct view *v)
{
	const struct zpool_list *pl = &v->pools;
	static const struct {
		const char *name, *help;
		size_t off;
	} errs[] = {
	    {"zfs_vdev_read_errors", "Read errors of a vdev since the last zpool clear",
	     offsetof(struct zpool_vdev, read_errors)},
	    {"zfs_vdev_write_errors", "Write errors of a vdev since the last zpool clear",
	     offsetof(struct zpool_vdev, write_errors)},
	    {"zfs_vdev_checksum_errors", "Checksum errors of a vdev since the last zpool clear",
	     offsetof(struct zpool_vdev, checksum_errors)},
	};
	for (size_t k = 0; k < sizeof(errs) / sizeof(errs[0]); k++) {
		metrics_family(m, errs[k].name, "gauge", errs[k].help);
		for (size_t i = 0; i < pl->n; i++) {
			const struct zpool_status *s = &v->vpools[i].status;
			for (size_t d = 0; v->vpools[i].have_status && d < s->n_vdevs; d++) {
				uint64_t x;
				memcpy(&x, (const char *)&s->vdevs[d] + errs[k].off, sizeof(x));
				if (x != ZFS_NONE)
					metrics_sample_u64(
					    m, x,
					    ML("pool", pl->v[i].name, "vdev", s->vdevs[d].name));
			}
		}
	}
}

/* The pool families; the call order is the output's family order. */
static void pools(struct metrics *m, const struct view *v)
{
	const struct zpool_list *pl = &v->pools;
	metrics_family(m, "zfs_pool_health", "gauge", "1 when the pool is ONLINE, else 0");
	for (size_t i = 0; i < pl->n; i++)
		metrics_sample(m, strcmp(pl->v[i].health, "ONLINE") ? 0 : 1,
		               ML("pool", pl->v[i].name, "state", pl->v[i].health));
	pool_sizes(m, pl);
	pool_state_onehot(m, pl);
	metrics_family(m, "zfs_pool_dataset_available_bytes", "gauge",
	               "Free space as the pool's root dataset sees it");
	for (size_t i = 0; i < pl->n; i++)
		if (v->vpools[i].dataset_available != ZFS_NONE)
			metrics_sample_u64(m, v->vpools[i].dataset_available,
			                   ML("pool", pl->v[i].name));
	pool_scans(m, v);
	vdev_errors(m, v);
}

static void datasets(struct metrics *m, const struct view *v)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} num[] = {
	    {"zfs_dataset_used_bytes", "Space used by the dataset and its descendants",
	     offsetof(struct zfs_obj, used)},
	    {"zfs_dataset_available_bytes", "Space available to the dataset",
	     offsetof(struct zfs_obj, available)},
	    {"zfs_dataset_referenced_bytes", "Space referenced by the dataset",
	     offsetof(struct zfs_obj, referenced)},
	};
	struct buf pool = BUF_INIT;
	const char *rest;
	for (size_t k = 0; k < sizeof(num) / sizeof(num[0]); k++) {
		metrics_family(m, num[k].name, "gauge", num[k].help);
		for (size_t i = 0; i < v->ix.n; i++) {
			const struct zfs_obj *o = v->ix.v[i].obj;
			uint64_t x;
			memcpy(&x, (const char *)o + num[k].off, sizeof(x));
			if (x == ZFS_NONE)
				continue;
			buf_reset(&pool);
			view_split_name(o->name, &pool, &rest);
			metrics_sample_u64(m, x, ML("pool", pool.s, "dataset", rest));
		}
	}
	metrics_family(m, "zfs_dataset_snapshots", "gauge",
	               "Snapshots of the dataset, of any name");
	for (size_t i = 0; i < v->ix.n; i++) {
		buf_reset(&pool);
		view_split_name(v->ix.v[i].obj->name, &pool, &rest);
		metrics_sample_u64(m, v->ix.v[i].snaps.n, ML("pool", pool.s, "dataset", rest));
	}
	metrics_family(m, "zfs_snapshot_last_created_timestamp", "gauge",
	               "Creation time of the dataset's newest snapshot, of any name");
	for (size_t i = 0; i < v->ix.n; i++) {
		if (v->ds[i].newest_snapshot == ZFS_NONE)
			continue;
		buf_reset(&pool);
		view_split_name(v->ix.v[i].obj->name, &pool, &rest);
		metrics_sample_u64(m, v->ds[i].newest_snapshot,
		                   ML("pool", pool.s, "dataset", rest));
	}
	buf_free(&pool);
}

enum comp_field { CF_COUNT, CF_RETENTION, CF_PERCENT, CF_NEWEST, CF_OLDEST, CF_COMPLIANT };

static void compliance(struct metrics *m, const struct view *v, const char *name, const char *help,
                       enum comp_field f)
{
	struct buf pool = BUF_INIT;
	const char *rest;
	metrics_family(m, name, "gauge", help);
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		if (!d->pd->policy)
			continue;
		buf_reset(&pool);
		view_split_name(d->pd->obj->name, &pool, &rest);
		for (int k = 0; k < ZK_N_INTERVALS; k++) {
			const struct policy_compliance *c = &d->comp[k];
			uint64_t x;
			switch (f) {
			case CF_COUNT:
				x = c->count;
				break;
			case CF_RETENTION:
				x = (uint64_t)(c->retention > 0 ? c->retention : 0);
				break;
			case CF_PERCENT: /* the seed's value, uncapped: dashboards read the same */
				x = (uint64_t)c->seed_percent;
				break;
			case CF_NEWEST:
				x = c->newest;
				break;
			case CF_OLDEST:
				x = c->oldest;
				break;
			default:
				x = c->compliant;
				break;
			}
			if (x == ZFS_NONE)
				continue;
			metrics_sample_u64(m, x,
			                   ML("pool", pool.s, "dataset", rest, "policy",
			                      d->pd->policy->name, "interval",
			                      zk_interval_names[k]));
		}
	}
	buf_free(&pool);
}

#define BACKUP_LABELS(b)                                                                           \
	ML("backup_job", (b)->job, "kind", (b)->kind, "source", (b)->source_host, "dataset",       \
	   (b)->source, "destination", (b)->destination_host, "target", (b)->target)

/* What each job's last run told (its record's notifications, lib/notify):
 * per channel, whether it got through, when, and in how many attempts. */
static void notifications(struct metrics *m, const struct view *v)
{
	static const char *const help[] = {
	    "1 when the channel's notification after the job's last run got through "
	    "(a hook: exited 0)",
	    "When the channel's notification after the job's last run ended",
	    "Attempts the channel's notification after the job's last run took"};
	static const char *const names[] = {"zkeep_notification_success",
	                                    "zkeep_notification_timestamp_seconds",
	                                    "zkeep_notification_attempts"};
	for (int k = 0; k < 3; k++) {
		metrics_family(m, names[k], "gauge", help[k]);
		for (size_t i = 0; i < v->runs.n + v->timers.n; i++) {
			const struct record *r = view_notifier(v, i);
			for (size_t n = 0; n < r->n_notes; n++) {
				const struct record_note *x = &r->notes[n];
				double val = k == 0   ? (x->ok ? 1 : 0)
				             : k == 1 ? (double)x->at
				                      : x->attempts;
				metrics_sample(m, val,
				               ML("backup_job", r->job, "kind",
				                  record_kind_name(r->kind), "channel",
				                  x->channel));
			}
		}
	}
}

/* Every channel's notifications over the job's runs (its record's
 * notification_totals): counters, reset only with the record. */
static void notification_totals(struct metrics *m, const struct view *v)
{
	for (int k = 0; k < 2; k++) {
		metrics_family(
		    m, k ? "zkeep_notifications_failed_total" : "zkeep_notifications_sent_total",
		    "counter",
		    k ? "Notifications of the channel that failed, over the job's runs"
		      : "Notifications of the channel that got through (a hook: exited 0), "
		        "over the job's runs");
		for (size_t i = 0; i < v->runs.n + v->timers.n; i++) {
			const struct record *r = view_notifier(v, i);
			for (size_t n = 0; n < r->n_tallies; n++)
				metrics_sample(
				    m, (double)(k ? r->tallies[n].failed : r->tallies[n].sent),
				    ML("backup_job", r->job, "kind", record_kind_name(r->kind),
				       "channel", r->tallies[n].channel));
		}
	}
}

static void backups(struct metrics *m, const struct view *v)
{
	metrics_family(m, "zfs_backup_last_success_timestamp", "gauge",
	               "End of the last successful replication of the dataset (epoch seconds)");
	for (size_t i = 0; i < v->n_backups; i++)
		if (v->backups[i].last_success)
			metrics_sample(m, (double)v->backups[i].last_success,
			               BACKUP_LABELS(&v->backups[i]));
	metrics_family(m, "zfs_backup_last_run_timestamp_seconds", "gauge",
	               "End of the dataset's last replication attempt");
	for (size_t i = 0; i < v->n_backups; i++)
		metrics_sample(m, (double)v->backups[i].end, BACKUP_LABELS(&v->backups[i]));
	metrics_family(m, "zfs_backup_last_run_success", "gauge",
	               "1 when the dataset's last replication succeeded (or was up to date)");
	for (size_t i = 0; i < v->n_backups; i++) {
		const char *r = v->backups[i].result;
		metrics_sample(m, !strcmp(r, "ok") || !strcmp(r, "up_to_date") ? 1 : 0,
		               BACKUP_LABELS(&v->backups[i]));
	}
	metrics_family(m, "zfs_backup_duration_seconds", "gauge",
	               "How long the dataset's last replication took");
	for (size_t i = 0; i < v->n_backups; i++)
		if (v->backups[i].end >= v->backups[i].start)
			metrics_sample(m, (double)(v->backups[i].end - v->backups[i].start),
			               BACKUP_LABELS(&v->backups[i]));
	metrics_family(m, "zfs_backup_bytes", "gauge",
	               "Bytes sent by the dataset's last replication");
	for (size_t i = 0; i < v->n_backups; i++)
		metrics_sample(m, (double)v->backups[i].bytes, BACKUP_LABELS(&v->backups[i]));
	metrics_family(m, "zfs_backup_newest_snapshot_timestamp_seconds", "gauge",
	               "Creation time of the newest snapshot on the backup target");
	for (size_t i = 0; i < v->n_backups; i++)
		if (v->backups[i].newest_creation)
			metrics_sample(m, (double)v->backups[i].newest_creation,
			               BACKUP_LABELS(&v->backups[i]));
	metrics_family(m, "zfs_backup_resume_pending", "gauge",
	               "1 when an interrupted transfer left a resume token");
	for (size_t i = 0; i < v->n_backups; i++)
		metrics_sample(m, v->backups[i].resume_pending ? 1 : 0,
		               BACKUP_LABELS(&v->backups[i]));

	notifications(m, v);
	notification_totals(m, v);
	metrics_family(m, "zfs_backup_lock_held", "gauge",
	               "1 while a pull or push holds its per-host lock");
	for (size_t i = 0; i < v->n_locks; i++)
		metrics_sample(m, v->locks[i].held ? 1 : 0,
		               ML("kind", v->locks[i].kind, "host", v->locks[i].host));
	metrics_family(m, "zfs_backup_lock_held_by_seed", "gauge",
	               "1 while a job of the replaced scripts holds the lock (its PID file)");
	for (size_t i = 0; i < v->n_locks; i++)
		if (v->locks[i].held)
			metrics_sample(m, v->locks[i].seed ? 1 : 0,
			               ML("kind", v->locks[i].kind, "host", v->locks[i].host));
	metrics_family(m, "zfs_backup_lock_skipped_timestamp_seconds", "gauge",
	               "When the job last found its lock held by a job of the replaced "
	               "scripts and skipped (until its next run)");
	for (size_t i = 0; i < v->n_skips; i++)
		metrics_sample(m, (double)v->skips[i].at,
		               ML("backup_job", v->skips[i].job, "kind", v->skips[i].kind));
	metrics_family(m, "zfs_backup_lock_holder_pid", "gauge", "PID of the lock's holder");
	for (size_t i = 0; i < v->n_locks; i++)
		if (v->locks[i].held && v->locks[i].pid)
			metrics_sample(m, (double)v->locks[i].pid,
			               ML("kind", v->locks[i].kind, "host", v->locks[i].host));
	metrics_family(m, "zfs_backup_lock_since_timestamp_seconds", "gauge",
	               "Since when the lock is held");
	for (size_t i = 0; i < v->n_locks; i++)
		if (v->locks[i].held)
			metrics_sample(m, (double)v->locks[i].since,
			               ML("kind", v->locks[i].kind, "host", v->locks[i].host));
}

/* The one rule's decisions (lib/attention) at the collection's time: one
 * series per object and check, 0 ok, 1 warning, 2 critical, and the
 * thresholds it used, so alert rules and dashboards follow the config. */
static void attention(struct metrics *m, const struct view *v)
{
	struct attention att;
	attention_decide(v, &v->cfg->attention, v->collected, &att);
	metrics_family(m, "zkeep_attention_state", "gauge",
	               "What needs attention (zkeep status, /ui/): 0 ok, 1 warning, 2 critical, "
	               "per object (pool, dataset, JOB:SOURCE) and check");
	for (size_t i = 0; i < att.n; i++) {
		const struct att_object *o = &att.v[i];
		for (size_t k = 0; k < o->n_checks; k++)
			metrics_sample(m, o->checks[k].level,
			               ML("kind", attention_kind_name(o->kind), "object", o->name,
			                  "check", attention_check_name(o->checks[k].check)));
	}
	attention_free(&att);
	struct att_threshold t[ATT_N_THRESHOLDS];
	attention_thresholds(&v->cfg->attention, t);
	metrics_family(m, "zkeep_attention_threshold", "gauge",
	               "The [attention] thresholds: percents, seconds, levels (0 ok, 1 warning, "
	               "2 critical)");
	for (size_t i = 0; i < ATT_N_THRESHOLDS; i++)
		metrics_sample(m, t[i].value, ML("name", t[i].name));
}

/* zkeep_snapshot_hook_failed: per hook that ran in the last snapshot run
 * with hooks of an interval, 1 when it did not succeed. No family at all
 * on a host without hooks. */
static void snap_hooks(struct metrics *m, const struct view *v)
{
	static const char *const hooks[] = {"pre_snapshot", "post_snapshot"};
	bool any = false;
	for (int iv = 0; iv < ZK_N_INTERVALS; iv++) {
		json_t *ds = json_object_get(v->snap_hooks[iv], "datasets");
		for (size_t i = 0; i < json_array_size(ds); i++) {
			json_t *d = json_array_get(ds, i);
			const char *name = json_string_value(json_object_get(d, "dataset"));
			for (size_t h = 0; name && h < 2; h++) {
				const char *o = json_string_value(json_object_get(d, hooks[h]));
				if (!o)
					continue;
				if (!any)
					metrics_family(
					    m, "zkeep_snapshot_hook_failed", "gauge",
					    "1 when the snapshot hook failed, timed out or "
					    "did not start in the interval's last run");
				any = true;
				metrics_sample(m, strcmp(o, "ok") ? 1 : 0,
				               ML("dataset", name, "hook", hooks[h], "interval",
				                  zk_interval_names[iv]));
			}
		}
	}
}

void metrics_render_view(struct buf *out, const struct view *v)
{
	struct metrics m;
	metrics_init(&m, out, v->hostname);
	pools(&m, v);
	datasets(&m, v);
	compliance(&m, v, "zfs_snapshot_count", "Policy snapshots of the interval", CF_COUNT);
	compliance(&m, v, "zfs_snapshot_retention", "Snapshots the policy keeps for the interval",
	           CF_RETENTION);
	compliance(&m, v, "zfs_snapshot_compliance_percent",
	           "int(count / retention * 100), not capped (the seed's)", CF_PERCENT);
	compliance(&m, v, "zfs_snapshot_newest_timestamp_seconds",
	           "Creation time of the interval's newest policy snapshot", CF_NEWEST);
	compliance(&m, v, "zfs_snapshot_oldest_timestamp_seconds",
	           "Creation time of the interval's oldest policy snapshot", CF_OLDEST);
	compliance(&m, v, "zfs_snapshot_compliant",
	           "1 when the interval has all its snapshots and the newest is fresh",
	           CF_COMPLIANT);
	backups(&m, v);
	attention(&m, v);
	snap_hooks(&m, v);
	metrics_free(&m);
}

void metrics_render_collector(struct buf *out, const char *hostname, const struct view_status *st,
                              const struct view *v, time_t now)
{
	struct metrics m;
	metrics_init(&m, out, hostname);
	metrics_family(&m, "zkeep_api_collect_success", "gauge",
	               "1 when the last collection succeeded");
	if (st->collections)
		metrics_sample(&m, st->last_ok ? 1 : 0, NULL);
	metrics_family(&m, "zkeep_api_collect_duration_seconds", "gauge",
	               "How long the last collection took");
	if (st->collections)
		metrics_sample(&m, st->last_duration, NULL);
	metrics_family(&m, "zkeep_api_collect_last_success_timestamp_seconds", "gauge",
	               "When a collection last succeeded");
	if (st->last_success)
		metrics_sample(&m, (double)st->last_success, NULL);
	metrics_family(&m, "zkeep_api_view_age_seconds", "gauge", "Age of the data being served");
	if (v)
		metrics_sample(&m, (double)(now - v->collected), NULL);
	metrics_family(&m, "zkeep_api_collections_total", "counter", "Collections attempted");
	metrics_sample_u64(&m, st->collections, NULL);
	metrics_family(&m, "zkeep_api_collect_failures_total", "counter",
	               "Collections that failed");
	metrics_sample_u64(&m, st->failures, NULL);
	metrics_free(&m);
}
