/*
 * The "needs attention" rule (attention.h): the levels and reasons of
 * pools, datasets' snapshots and backups, from a view and [attention].
 * Owns the rule's checks and their names; nothing else decides them.
 */
#include "attention.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fmt.h"
#include "xalloc.h"
#include "banned.h"

static const char *const kind_names[] = {"pool", "snapshots", "backup"};
static const char *const check_names[ATT_N_CHECKS] = {"health", "errors",  "capacity", "compliance",
                                                      "stale",  "missing", "age",      "failed"};

const char *attention_kind_name(enum att_kind k)
{
	return kind_names[k];
}

const char *attention_check_name(enum att_check c)
{
	return check_names[c];
}

static void begin(struct att_object *o, enum att_kind kind, const char *name)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->name = xstrdup(name);
}

/* Adds a check at level; the reason (printf-style) is kept only when the
 * level is not ok. */
static void add(struct att_object *o, enum att_check c, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(struct att_object *o, enum att_check c, int level, const char *fmt, ...)
{
	struct att_finding *f = &o->checks[o->n_checks++];
	f->check = c;
	f->level = level;
	f->reason = NULL;
	if (level == ZK_LEVEL_OK)
		return;
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	f->reason = buf_detach(&b, NULL);
	if (level > o->level)
		o->level = level;
}

void attention_pool(const struct view_pool *p, const struct zk_attention_cfg *a,
                    struct att_object *out)
{
	const struct zpool *z = p->zp;
	begin(out, ATT_POOL, z->name);
	bool online = !strcmp(z->health, "ONLINE");
	add(out, ATT_HEALTH, online ? ZK_LEVEL_OK : a->pool_unhealthy, "pool %s is %s", z->name,
	    z->health);
	add(out, ATT_ERRORS, view_pool_has_errors(p) ? a->pool_errors : ZK_LEVEL_OK,
	    "pool %s has read, write, checksum or scan errors", z->name);
	/* above the threshold, as the alert rules always said (> 80) */
	uint64_t cap = z->capacity == ZFS_NONE ? 0 : z->capacity;
	int lvl = cap > (uint64_t)a->pool_capacity_critical  ? ZK_LEVEL_CRITICAL
	          : cap > (uint64_t)a->pool_capacity_warning ? ZK_LEVEL_WARNING
	                                                     : ZK_LEVEL_OK;
	add(out, ATT_CAPACITY, lvl, "pool %s is %llu%% full (%s above %d%%)", z->name,
	    (unsigned long long)cap, lvl == ZK_LEVEL_CRITICAL ? "critical" : "warning",
	    lvl == ZK_LEVEL_CRITICAL ? a->pool_capacity_critical : a->pool_capacity_warning);
}

/* The intervals of d for which bad() holds, as "hourly 2/48, daily 0/7". */
static void intervals(struct buf *b, const struct view_dataset *d,
                      bool (*bad)(const struct policy_compliance *,
                                  const struct zk_attention_cfg *),
                      const struct zk_attention_cfg *a)
{
	for (int k = 0; k < ZK_N_INTERVALS; k++) {
		const struct policy_compliance *c = &d->comp[k];
		if (c->retention <= 0 || !bad(c, a))
			continue;
		buf_addf(b, "%s%s %u/%d", b->len ? ", " : "", zk_interval_names[k], c->count,
		         c->retention);
	}
}

static bool low(const struct policy_compliance *c, const struct zk_attention_cfg *a)
{
	return c->seed_percent < a->snapshot_compliance;
}

/* The newest is there but too old (no snapshot at all is compliance's). */
static bool stale(const struct policy_compliance *c, const struct zk_attention_cfg *a)
{
	(void)a;
	return !c->fresh && c->newest != ZFS_NONE;
}

void attention_snapshots(const struct view_dataset *d, int age_factor,
                         const struct zk_attention_cfg *a, struct att_object *out)
{
	const char *name = d->pd->obj->name;
	const char *policy = d->pd->policy ? d->pd->policy->name : "none";
	struct buf lo = BUF_INIT, st = BUF_INIT;
	begin(out, ATT_SNAPSHOTS, name);
	if (d->pd->policy) {
		intervals(&lo, d, low, a);
		intervals(&st, d, stale, a);
	}
	add(out, ATT_COMPLIANCE, lo.len ? ZK_LEVEL_WARNING : ZK_LEVEL_OK,
	    "snapshots of %s are short of policy %s: %s (below %d%%)", name, policy, lo.s,
	    a->snapshot_compliance);
	add(out, ATT_STALE, st.len ? a->snapshot_stale : ZK_LEVEL_OK,
	    "snapshots of %s are stale (newest older than %d intervals): %s", name, age_factor,
	    st.s);
	add(out, ATT_MISSING, ZK_LEVEL_OK, "-");
	buf_free(&lo);
	buf_free(&st);
}

static void missing(const char *name, const struct zk_attention_cfg *a, struct att_object *out)
{
	begin(out, ATT_SNAPSHOTS, name);
	add(out, ATT_COMPLIANCE, ZK_LEVEL_OK, "-");
	add(out, ATT_STALE, ZK_LEVEL_OK, "-");
	add(out, ATT_MISSING, a->dataset_missing, "%s is declared in the config but does not exist",
	    name);
}

void attention_backup(const struct view_backup *b, const struct zk_attention_cfg *a, time_t now,
                      struct att_object *out)
{
	struct buf n = BUF_INIT, age = BUF_INIT, lim = BUF_INIT;
	buf_addf(&n, "%s:%s", b->job, b->source);
	begin(out, ATT_BACKUP, n.s);
	int64_t limit = !strcmp(b->kind, "push") ? a->backup_age_push : a->backup_age_pull;
	/* never a success: its failed runs are "failed"'s, as the alerts had it */
	bool old = b->last_success && (int64_t)now - b->last_success > limit;
	if (old) {
		fmt_age(&age, (int64_t)now - b->last_success);
		fmt_age(&lim, limit);
	}
	add(out, ATT_AGE, old ? ZK_LEVEL_CRITICAL : ZK_LEVEL_OK,
	    "backup %s (%s) of %s: last success %s ago (critical after %s)", b->job, b->kind,
	    b->source, age.s, lim.s);
	add(out, ATT_FAILED, view_backup_ok(b) ? ZK_LEVEL_OK : a->backup_failed,
	    "backup %s (%s) of %s: last run %s: %s", b->job, b->kind, b->source, b->result,
	    b->error ? b->error : "see the run record");
	buf_free(&n);
	buf_free(&age);
	buf_free(&lim);
}

void attention_object_free(struct att_object *o)
{
	for (size_t i = 0; i < o->n_checks; i++)
		free(o->checks[i].reason);
	free(o->name);
	memset(o, 0, sizeof(*o));
}

void attention_decide(const struct view *v, const struct zk_attention_cfg *a, time_t now,
                      struct attention *out)
{
	size_t cap = v->pools.n + v->ix.n + v->ix.missing.n + v->n_backups;
	memset(out, 0, sizeof(*out));
	out->v = xcalloc(cap ? cap : 1, sizeof(*out->v));
	for (size_t i = 0; i < v->pools.n; i++)
		attention_pool(&v->vpools[i], a, &out->v[out->n++]);
	for (size_t i = 0; i < v->ix.n; i++)
		if (v->ds[i].pd->policy)
			attention_snapshots(&v->ds[i], v->cfg->compliance_age_factor, a,
			                    &out->v[out->n++]);
	for (size_t i = 0; i < v->ix.missing.n; i++)
		missing(v->ix.missing.v[i], a, &out->v[out->n++]);
	for (size_t i = 0; i < v->n_backups; i++)
		attention_backup(&v->backups[i], a, now, &out->v[out->n++]);
	for (size_t i = 0; i < out->n; i++) {
		const struct att_object *o = &out->v[i];
		if (o->level > out->worst)
			out->worst = o->level;
		for (size_t k = 0; k < o->n_checks; k++)
			out->n_bad += o->checks[k].level != ZK_LEVEL_OK;
	}
}

void attention_free(struct attention *att)
{
	for (size_t i = 0; i < att->n; i++)
		attention_object_free(&att->v[i]);
	free(att->v);
	memset(att, 0, sizeof(*att));
}

const struct att_finding **attention_worst_first(const struct attention *att)
{
	const struct att_finding **v = xcalloc(att->n_bad + 1, sizeof(const struct att_finding *));
	size_t n = 0;
	for (int lvl = ZK_LEVEL_CRITICAL; lvl > ZK_LEVEL_OK; lvl--)
		for (size_t i = 0; i < att->n; i++)
			for (size_t k = 0; k < att->v[i].n_checks; k++)
				if (att->v[i].checks[k].level == lvl)
					v[n++] = &att->v[i].checks[k];
	return v;
}

void attention_thresholds(const struct zk_attention_cfg *a,
                          struct att_threshold out[ATT_N_THRESHOLDS])
{
	const struct att_threshold t[ATT_N_THRESHOLDS] = {
	    {"pool_capacity_warning", a->pool_capacity_warning},
	    {"pool_capacity_critical", a->pool_capacity_critical},
	    {"snapshot_compliance", a->snapshot_compliance},
	    {"backup_age_pull", (double)a->backup_age_pull},
	    {"backup_age_push", (double)a->backup_age_push},
	    {"pool_unhealthy", a->pool_unhealthy},
	    {"pool_errors", a->pool_errors},
	    {"snapshot_stale", a->snapshot_stale},
	    {"dataset_missing", a->dataset_missing},
	    {"backup_failed", a->backup_failed},
	};
	memcpy(out, t, sizeof(t));
}
