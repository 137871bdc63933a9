/* The policy jobs on one host (autosnap.h): loading what is due from the
 * listings, taking the due snapshots, destroying the expired, the compliance report. */
#include "autosnap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "log.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

#define OUT_CAP ((size_t)1 << 20)

int autosnap_load(struct autosnap *a, const struct zk_config *c, const struct host *h,
                  int timeout_ms, struct zerr *e)
{
	memset(a, 0, sizeof(*a));
	a->cfg = c;
	a->host = h;
	a->timeout_ms = timeout_ms;
	int r = zfs_probe(h, timeout_ms, &a->caps, e);
	a->zfs_calls++;
	if (r < 0)
		return r;
	/* no userrefs here: zfs looks up holds snapshot by snapshot, which on a
	 * large pool costs more than the whole listing; prune asks for the
	 * holds of its candidates only */
	r = zfs_list_run(h, &a->caps, ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT, 0, true, NULL,
	                 timeout_ms, &a->list, e);
	a->zfs_calls++;
	if (r < 0)
		return r;
	policy_index_build(&a->ix, &a->list, c);
	return 0;
}

/* The declared datasets that no other declared one contains: the roots
 * one recursive listing needs. */
static void managed_roots(const struct zk_config *c, struct strvec *roots)
{
	for (size_t i = 0; i < c->n_datasets; i++) {
		const char *n = c->datasets[i].name;
		bool inner = false;
		for (size_t k = 0; k < c->n_datasets && !inner; k++) {
			const char *o = c->datasets[k].name;
			size_t ol = strlen(o);
			inner = k != i && !strncmp(n, o, ol) && n[ol] == '/';
		}
		if (!inner && !strvec_has(roots, n))
			strvec_push(roots, n);
	}
}

/* a empty for c on h, and the roots to list (the declared datasets not
 * inside another). */
static void load_begin(struct autosnap *a, const struct zk_config *c, const struct host *h,
                       int timeout_ms, struct strvec *roots)
{
	memset(a, 0, sizeof(*a));
	a->cfg = c;
	a->host = h;
	a->timeout_ms = timeout_ms;
	managed_roots(c, roots);
}

/* One names listing into l: argv as it is (names NULL), or argv followed
 * by names, in as few calls as they fit (zfs_run_names). */
static int list_names_into(struct autosnap *a, const struct strvec *argv,
                           const struct strvec *names, struct zfs_list *l, struct zerr *e)
{
	struct buf out = BUF_INIT;
	const char *const *v = (const char *const *)argv->v;
	a->zfs_calls++;
	int r = names ? zfs_run_names(a->host, v, names, ZFS_ERR_OTHER, &out, a->timeout_ms, e)
	              : zfs_run(a->host, v, &out, ZFS_OUTPUT_MAX, a->timeout_ms, e);
	if (r == 0)
		r = zfs_names_tree_parse(l, out.s ? out.s : "", out.len, e);
	buf_free(&out);
	return r;
}

static int list_names(struct autosnap *a, const char *const *roots, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	zfs_names_tree_argv(&argv, roots);
	int r = list_names_into(a, &argv, NULL, &a->list, e);
	strvec_clear(&argv);
	return r;
}

int autosnap_load_names(struct autosnap *a, const struct zk_config *c, const struct host *h,
                        int timeout_ms, struct zerr *e)
{
	struct strvec roots = STRVEC_INIT;
	load_begin(a, c, h, timeout_ms, &roots);
	int r = 0;
	if (roots.n) {
		r = list_names(a, (const char *const *)roots.v, e);
		if (r < 0 && e && e->kind == ZFS_ERR_NOENT) {
			/* a declared dataset is missing: list everything so the
			 * others are still served and it is named as missing */
			log_debug("%s; listing every dataset instead", e->msg);
			r = list_names(a, (const char *const[]){NULL}, e);
		}
	}
	strvec_clear(&roots);
	if (r < 0)
		return r;
	policy_index_build(&a->ix, &a->list, c);
	return 0;
}

/* Whether a dataset whose snapshots last changed at changed (ZFS_NONE:
 * never) may have a snapshot named for now's period of iv. */
static bool changed_in_period(uint64_t changed, enum zk_interval iv, time_t now)
{
	if (changed == ZFS_NONE)
		return false; /* no snapshot at all */
	struct tm tc, tn;
	time_t t = (time_t)changed;
	localtime_r(&t, &tc);
	localtime_r(&now, &tn);
	return policy_period(iv, &tc) >= policy_period(iv, &tn);
}

/* The snapshot names of the datasets in names, into a->snl. */
static int list_snapshot_names(struct autosnap *a, const struct strvec *names, struct zerr *e)
{
	struct strvec head = STRVEC_INIT;
	zfs_names_snapshots_argv(&head);
	int r = list_names_into(a, &head, names, &a->snl, e);
	strvec_clear(&head);
	return r;
}

int autosnap_load_due(struct autosnap *a, const struct zk_config *c, const struct host *h,
                      int timeout_ms, enum zk_interval iv, time_t now, struct zerr *e)
{
	struct strvec roots = STRVEC_INIT, changed = STRVEC_INIT;
	load_begin(a, c, h, timeout_ms, &roots);
	int r = 0;
	if (roots.n) {
		a->zfs_calls++;
		r = zfs_list_run(h, NULL, ZFS_TYPE_DATASET,
		                 ZFS_COL_SHORT | ZFS_COL_SNAPSHOTS_CHANGED, true,
		                 (const char *const *)roots.v, timeout_ms, &a->dsl, e);
	}
	if (r < 0) {
		/* OpenZFS < 2.2, or a declared dataset missing: as before */
		unsigned calls = a->zfs_calls;
		log_debug("%s; listing the snapshot names instead", e->msg);
		zfs_list_free(&a->dsl);
		*e = (struct zerr)ZERR_INIT;
		strvec_clear(&roots);
		r = autosnap_load_names(a, c, h, timeout_ms, e);
		a->zfs_calls += calls;
		return r;
	}
	for (size_t i = 0; i < a->dsl.n; i++)
		if (changed_in_period(a->dsl.v[i].snapshots_changed, iv, now))
			strvec_push(&changed, a->dsl.v[i].name);
	log_debug("snapshot names listed for %zu of %zu datasets (the others have none of this "
	          "period)",
	          changed.n, a->dsl.n);
	if (changed.n)
		r = list_snapshot_names(a, &changed, e);
	strvec_clear(&roots);
	strvec_clear(&changed);
	if (r < 0)
		return r;
	zfs_list_join(&a->list, &a->dsl, &a->snl);
	policy_index_build(&a->ix, &a->list, c);
	return 0;
}

void autosnap_free(struct autosnap *a)
{
	if (!a)
		return;
	policy_index_free(&a->ix);
	zfs_list_free(&a->list);
	zfs_list_free(&a->dsl);
	zfs_list_free(&a->snl);
	memset(a, 0, sizeof(*a));
}

static int run(struct autosnap *a, const char *const *argv, struct zerr *e)
{
	struct buf out = BUF_INIT;
	a->zfs_calls++;
	int r = host_run(a->host, argv, &out, OUT_CAP, a->timeout_ms, e);
	buf_free(&out);
	return r;
}

static void log_discovered(const struct autosnap *a)
{
	if (a->ix.discovered)
		log_info("Discovered %zu child datasets at runtime", a->ix.discovered);
}

/* Whether the declared, missing dataset name would take iv's snapshot. */
static bool missing_takes(const struct autosnap *a, const char *name, enum zk_interval iv)
{
	for (size_t i = 0; i < a->cfg->n_datasets; i++) {
		const struct zk_dataset_cfg *dc = &a->cfg->datasets[i];
		if (strcmp(dc->name, name))
			continue;
		const struct zk_policy *p = dc->unknown ? NULL : config_policy(a->cfg, dc->policy);
		return p && p->autosnap && p->keep[iv] > 0;
	}
	return false;
}

/* One dataset of a snapshot run: its hooks and what became of it. */
struct due {
	const struct policy_dataset *d;
	struct zk_snap_hooks hooks;
	size_t order; /* its [dataset] section's place in the config */
	char *full;   /* "ds@name" */
	bool has_pre;
	struct hook_result pre;
	const char *snap; /* "ok", "failed", "skipped" (its pre-hook failed) */
	struct hook_result post;
	bool post_ran;
};

static int cmp_due(const void *x, const void *y)
{
	const struct due *a = x, *b = y;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return strcmp(a->d->obj->name, b->d->obj->name);
}

/* Config order: by the [dataset] section that gave the policy (discovered
 * children right after their discovering section, as the seed listed them). */
static size_t section_order(const struct zk_config *c, const char *from)
{
	for (size_t i = 0; from && i < c->n_datasets; i++)
		if (!strcmp(c->datasets[i].name, from))
			return i;
	return c->n_datasets;
}

/* The datasets due for iv, in config order, into *out (n of them). */
static size_t collect_due(struct autosnap *a, enum zk_interval iv, time_t now, const char *snap,
                          struct due **out, struct autosnap_result *res)
{
	const char *prefix = a->cfg->snapshot_prefix;
	struct due *v = NULL;
	size_t n = 0, alloc = 0;
	for (size_t i = 0; i < a->ix.n; i++) {
		const struct policy_dataset *d = &a->ix.v[i];
		if (!d->policy)
			continue;
		if (!d->policy->autosnap || d->policy->keep[iv] <= 0) {
			res->skipped++;
			continue;
		}
		if (!policy_is_due(&d->snaps, prefix, iv, now)) {
			log_debug("%s already has its %s snapshot for this period", d->obj->name,
			          zk_interval_names[iv]);
			res->skipped++;
			continue;
		}
		v = xgrow(v, &alloc, n + 1, sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		v[n].d = d;
		v[n].order = section_order(a->cfg, d->from);
		config_snap_hooks(a->cfg, d->obj->name, d->unknown ? NULL : d->policy, &v[n].hooks);
		struct buf full = BUF_INIT;
		buf_addf(&full, "%s@%s", d->obj->name, snap);
		v[n++].full = buf_detach(&full, NULL);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_due);
	*out = v;
	return n;
}

static void run_hook(struct due *u, const char *which, const char *cmd, enum zk_interval iv,
                     struct hook_result *r)
{
	struct strvec env = STRVEC_INIT;
	strvec_pushf(&env, "ZKEEP_HOOK=%s", which);
	strvec_pushf(&env, "ZKEEP_DATASET=%s", u->d->obj->name);
	strvec_pushf(&env, "ZKEEP_SNAPSHOT=%s", u->full);
	strvec_pushf(&env, "ZKEEP_INTERVAL=%s", zk_interval_names[iv]);
	if (u->snap) { /* a post-hook: what happened before it */
		strvec_pushf(&env, "ZKEEP_PRE_RESULT=%s",
		             u->has_pre ? hook_outcome_name(u->pre.outcome) : "none");
		strvec_pushf(&env, "ZKEEP_SNAPSHOT_RESULT=%s", u->snap);
	}
	struct hook_spec h = {cmd, (const char *const *)env.v, NULL, 0, u->hooks.timeout * 1000};
	struct zerr e = ZERR_INIT;
	char why[512];
	hook_run(&h, r, &e);
	if (r->outcome == HOOK_OK)
		log_info("%s hook of %s: ok", which, u->d->obj->name);
	else
		log_error("%s hook of %s %s", which, u->d->obj->name,
		          hook_result_str(r, h.timeout_ms, why, sizeof(why)));
	strvec_clear(&env);
}

/* One atomic zfs snapshot of every dataset still to take (snap NULL);
 * should it fail, one call each, so one bad dataset cannot stop the others. */
static void take_snapshots(struct autosnap *a, struct due *v, size_t n, struct autosnap_result *res)
{
	struct strvec argv = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	strvec_pushv(&argv, (const char *const[]){"zfs", "snapshot", NULL});
	for (size_t i = 0; i < n; i++)
		if (!v[i].snap)
			strvec_push(&argv, v[i].full);
	size_t want = argv.n - 2;
	if (want && run(a, (const char *const *)argv.v, &e) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!v[i].snap) {
				log_info("created %s", v[i].full);
				v[i].snap = "ok";
			}
		res->done += (unsigned)want;
	} else if (want) {
		log_warn("one snapshot call for %zu datasets failed (%s); retrying them one by one",
		         want, e.msg);
		for (size_t i = 0; i < n; i++) {
			struct zerr one = ZERR_INIT;
			if (v[i].snap)
				continue;
			if (run(a, (const char *const[]){"zfs", "snapshot", v[i].full, NULL},
			        &one) == 0) {
				log_info("created %s", v[i].full);
				v[i].snap = "ok";
				res->done++;
			} else {
				log_error("cannot snapshot '%s': %s", v[i].full, one.msg);
				v[i].snap = "failed";
				res->failed++;
			}
		}
	}
	strvec_clear(&argv);
}

static json_t *outcome_json(bool ran, const struct hook_result *r)
{
	return ran ? json_string(hook_outcome_name(r->outcome)) : json_null();
}

/* The last run's hook outcomes for /metrics (autosnap_hook_state_name). */
static void hook_state_write(const struct autosnap *a, enum zk_interval iv, time_t now,
                             const struct due *v, size_t n)
{
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		if (!v[i].hooks.pre && !v[i].hooks.post)
			continue;
		json_array_append_new(
		    list, json_pack("{s:s, s:o, s:s, s:o}", "dataset", v[i].d->obj->name,
		                    "pre_snapshot", outcome_json(v[i].has_pre, &v[i].pre),
		                    "snapshot", v[i].snap ? v[i].snap : "failed", "post_snapshot",
		                    outcome_json(v[i].post_ran, &v[i].post)));
	}
	json_t *doc = json_pack("{s:i, s:s, s:I, s:o}", "version", 1, "interval",
	                        zk_interval_names[iv], "time", (json_int_t)now, "datasets", list);
	char *text = json_dumps(doc, JSON_INDENT(2));
	struct buf path = BUF_INIT;
	struct zerr e = ZERR_INIT;
	autosnap_hook_state_name(&path, a->cfg->state_dir, iv);
	if (!text || state_write_atomic(path.s, text, strlen(text), 0644, &e) < 0)
		log_warn("cannot record the snapshot hooks' outcomes: %s",
		         text ? e.msg : "out of memory");
	free(text);
	json_decref(doc);
	buf_free(&path);
}

void autosnap_hook_state_name(struct buf *path, const char *state_dir, enum zk_interval iv)
{
	buf_addf(path, "%s/snapshot-hooks-%s.json", state_dir, zk_interval_names[iv]);
}

/* Pre-hooks in config order; the snapshot of those that passed; post-hooks
 * in reverse order, each also after a failed pre-hook or snapshot. */
static void hooked_snapshot(struct autosnap *a, enum zk_interval iv, struct due *v, size_t n,
                            struct autosnap_result *res)
{
	for (size_t i = 0; i < n; i++) {
		if (!v[i].hooks.pre)
			continue;
		v[i].has_pre = true;
		run_hook(&v[i], "pre_snapshot", v[i].hooks.pre, iv, &v[i].pre);
		if (v[i].pre.outcome != HOOK_OK) {
			log_error("not snapshotting %s: its pre_snapshot hook failed",
			          v[i].d->obj->name);
			v[i].snap = "skipped";
			res->failed++;
		}
	}
	take_snapshots(a, v, n, res);
	for (size_t i = n; i-- > 0;) {
		if (!v[i].hooks.post)
			continue;
		v[i].post_ran = true;
		run_hook(&v[i], "post_snapshot", v[i].hooks.post, iv, &v[i].post);
		if (v[i].post.outcome != HOOK_OK)
			res->hook_failures++;
	}
}

int autosnap_snapshot(struct autosnap *a, enum zk_interval iv, time_t now, bool dry_run,
                      struct autosnap_result *res)
{
	const char *ivn = zk_interval_names[iv];
	struct buf name = BUF_INIT;
	struct due *v = NULL;

	memset(res, 0, sizeof(*res));
	policy_snapname(&name, a->cfg->snapshot_prefix, iv, now);
	log_info("Creating %s snapshots: %s", ivn, name.s);
	log_discovered(a);
	for (size_t i = 0; i < a->ix.missing.n; i++) {
		/* the seed's zfs snapshot failed for it, if it tried at all */
		if (!missing_takes(a, a->ix.missing.v[i], iv)) {
			res->skipped++;
			continue;
		}
		log_error("cannot snapshot '%s': dataset does not exist (declared in %s)",
		          a->ix.missing.v[i], a->cfg->path ? a->cfg->path : "the config");
		res->failed++;
	}
	size_t n = collect_due(a, iv, now, name.s, &v, res);
	bool hooks = false;
	for (size_t i = 0; i < n; i++)
		hooks |= v[i].hooks.pre || v[i].hooks.post;
	if (!n) {
		log_info("no %s snapshots are due", ivn);
	} else if (dry_run) {
		for (size_t i = 0; i < n; i++) {
			if (v[i].hooks.pre || v[i].hooks.post)
				log_info("DRY-RUN: the hooks of %s are not run", v[i].d->obj->name);
			log_info("DRY-RUN: Would create snapshot %s", v[i].full);
		}
		res->done = (unsigned)n;
	} else {
		hooked_snapshot(a, iv, v, n, res);
		if (hooks)
			hook_state_write(a, iv, now, v, n);
	}
	log_info("Summary: %u created, %u skipped, %u failed", res->done, res->skipped,
	         res->failed);
	for (size_t i = 0; i < n; i++)
		free(v[i].full);
	free(v);
	buf_free(&name);
	return res->failed || res->hook_failures ? -EIO : 0;
}

/* The names among cand that have holds, asked of zfs in batches. */
static int query_holds(struct autosnap *a, const struct policy_snaps *cand, struct strvec *held,
                       struct zerr *e)
{
	const size_t batch = 1000; /* keeps the argv well under ARG_MAX */
	for (size_t i = 0; i < cand->n; i += batch) {
		struct strvec argv = STRVEC_INIT;
		struct buf out = BUF_INIT;
		struct zfs_props props;
		zfs_get_argv(&argv, "userrefs", NULL);
		for (size_t k = i; k < cand->n && k < i + batch; k++)
			strvec_push(&argv, cand->v[k]->name);
		a->zfs_calls++;
		int r = host_run(a->host, (const char *const *)argv.v, &out, ZFS_OUTPUT_MAX,
		                 a->timeout_ms, e);
		if (r == 0)
			r = zfs_props_parse(&props, out.s, out.len, e);
		if (r == 0) {
			for (size_t k = 0; k < props.n; k++)
				if (strcmp(props.v[k].value, "0") && strcmp(props.v[k].value, "-"))
					strvec_push(held, props.v[k].dataset);
			zfs_props_free(&props);
		}
		strvec_clear(&argv);
		buf_free(&out);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* held sorted (strvec_sort_unique): a lookup is a binary search. */
static bool is_held(const struct strvec *held, const char *name)
{
	return held->n && bsearch(&name, held->v, held->n, sizeof(char *), cmp_str);
}

/* One "zfs destroy ds@a,b,c" of exp less the held; logs what it did. */
static void prune_one(struct autosnap *a, const struct policy_dataset *d,
                      const struct policy_snaps *exp, const struct strvec *held, bool dry_run,
                      struct autosnap_result *res)
{
	struct buf list = BUF_INIT;
	struct zerr e = ZERR_INIT;
	size_t n = 0;
	buf_adds(&list, d->obj->name);
	for (size_t k = 0; k < exp->n; k++) {
		const char *name = exp->v[k]->name;
		if (is_held(held, name)) {
			log_info("keeping %s: expired but held", name);
			res->skipped++;
			continue;
		}
		buf_addf(&list, "%c%s", n++ ? ',' : '@', strchr(name, '@') + 1);
		if (dry_run)
			log_info("would destroy %s", name);
	}
	if (n && dry_run) {
		res->done += (unsigned)n;
		res->kept -= (unsigned)n;
	} else if (n && run(a, (const char *const[]){"zfs", "destroy", list.s, NULL}, &e) == 0) {
		for (size_t k = 0; k < exp->n; k++)
			if (!is_held(held, exp->v[k]->name))
				log_info("destroyed %s", exp->v[k]->name);
		res->done += (unsigned)n;
		res->kept -= (unsigned)n;
	} else if (n) {
		log_error("cannot prune '%s': %s", d->obj->name, e.msg);
		res->failed++;
	}
	buf_free(&list);
}

int autosnap_prune(struct autosnap *a, bool dry_run, struct autosnap_result *res)
{
	const char *prefix = a->cfg->snapshot_prefix;
	struct policy_snaps cand = {0};
	struct policy_snaps *exp = a->ix.n ? xcalloc(a->ix.n, sizeof(*exp)) : NULL;
	struct strvec held = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	memset(res, 0, sizeof(*res));
	log_info("Starting snapshot pruning");
	log_discovered(a);
	for (size_t i = 0; i < a->ix.n; i++) {
		const struct policy_dataset *d = &a->ix.v[i];
		if (!d->policy || !d->policy->autoprune)
			continue;
		unsigned counts[ZK_N_INTERVALS];
		policy_expire(&d->snaps, prefix, d->policy->keep, &exp[i], counts);
		for (int k = 0; k < ZK_N_INTERVALS; k++)
			res->kept += counts[k]; /* less what is destroyed below */
		for (size_t k = 0; k < exp[i].n; k++)
			policy_snaps_push(&cand, exp[i].v[k]);
	}
	/* a held snapshot (a backup's base, an admin's hold) is never destroyed;
	 * without knowing the holds, nothing is */
	if (cand.n && query_holds(a, &cand, &held, &e) < 0) {
		log_error("cannot read the holds of the expired snapshots: %s", e.msg);
		res->failed++;
		goto out;
	}
	strvec_sort_unique(&held);
	for (size_t i = 0; i < a->ix.n; i++)
		if (exp[i].n)
			prune_one(a, &a->ix.v[i], &exp[i], &held, dry_run, res);
	if (!res->done && !res->failed)
		log_info("nothing to prune");
out:
	log_info("Pruning complete: %u destroyed, %u kept", res->done, res->kept);
	for (size_t i = 0; i < a->ix.n; i++)
		policy_snaps_free(&exp[i]);
	free(exp);
	policy_snaps_free(&cand);
	strvec_clear(&held);
	return res->failed ? -EIO : 0;
}

static json_t *field_json(const struct policy_compliance *c, enum autosnap_field f)
{
	switch (f) {
	case AUTOSNAP_COUNT:
		return json_integer((json_int_t)c->count);
	case AUTOSNAP_RETENTION:
		return json_integer(c->retention);
	case AUTOSNAP_PERCENT:
		return json_integer(c->percent);
	case AUTOSNAP_SEED_PERCENT:
		return json_integer(c->seed_percent);
	case AUTOSNAP_FRESH:
		return json_boolean(c->fresh);
	case AUTOSNAP_COMPLIANT:
		return json_boolean(c->compliant);
	case AUTOSNAP_NEWEST:
	case AUTOSNAP_OLDEST: {
		uint64_t t = f == AUTOSNAP_NEWEST ? c->newest : c->oldest;
		return t == ZFS_NONE ? json_null() : json_integer((json_int_t)t);
	}
	}
	return json_null();
}

void autosnap_add_maps(json_t *obj, const struct policy_compliance c[ZK_N_INTERVALS],
                       const struct autosnap_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *map = json_object();
		for (int k = 0; k < ZK_N_INTERVALS; k++)
			json_object_set_new(map, zk_interval_names[k],
			                    field_json(&c[k], m[i].field));
		json_object_set_new(obj, m[i].key, map);
	}
}

json_t *autosnap_by_interval(const struct policy_compliance c[ZK_N_INTERVALS],
                             const struct autosnap_member *m, size_t n)
{
	json_t *o = json_object();
	for (int k = 0; k < ZK_N_INTERVALS; k++) {
		json_t *iv = json_object();
		for (size_t i = 0; i < n; i++)
			json_object_set_new(iv, m[i].key, field_json(&c[k], m[i].field));
		json_object_set_new(o, zk_interval_names[k], iv);
	}
	return o;
}

/* The seed's fields (dataset, policy, counts, retention), then zkeep's */
static json_t *managed_json(const struct policy_dataset *d,
                            const struct policy_compliance c[ZK_N_INTERVALS])
{
	static const struct autosnap_member maps[] = {
	    {"counts", AUTOSNAP_COUNT},        {"retention", AUTOSNAP_RETENTION},
	    {"compliance", AUTOSNAP_PERCENT},  {"fresh", AUTOSNAP_FRESH},
	    {"compliant", AUTOSNAP_COMPLIANT}, {"newest", AUTOSNAP_NEWEST},
	    {"oldest", AUTOSNAP_OLDEST}};
	json_t *j = json_pack("{s:s, s:s}", "dataset", d->obj->name, "policy", d->policy->name);
	autosnap_add_maps(j, c, maps, sizeof(maps) / sizeof(maps[0]));
	json_object_set_new(j, "total_snapshots", json_integer((json_int_t)d->snaps.n));
	return j;
}

/* An unmanaged dataset: the seed's four fields, counts as a managed one's */
static json_t *unmanaged_json(const struct policy_dataset *d, const char *prefix)
{
	static const struct autosnap_member counts = {"counts", AUTOSNAP_COUNT};
	struct policy_compliance c[ZK_N_INTERVALS];
	unsigned n[ZK_N_INTERVALS], total;
	policy_counts(&d->snaps, prefix, n, &total);
	memset(c, 0, sizeof(c));
	for (int k = 0; k < ZK_N_INTERVALS; k++)
		c[k].count = n[k];
	json_t *j = json_pack("{s:s, s:I, s:I}", "dataset", d->obj->name, "total_snapshots",
	                      (json_int_t)d->snaps.n, "autosnap_snapshots", (json_int_t)total);
	autosnap_add_maps(j, c, &counts, 1);
	return j;
}

json_t *autosnap_report(const struct autosnap *a, time_t now)
{
	const char *prefix = a->cfg->snapshot_prefix;
	json_t *managed = json_array(), *unmanaged = json_array();
	for (size_t i = 0; i < a->ix.n; i++) {
		const struct policy_dataset *d = &a->ix.v[i];
		if (!d->policy) {
			json_array_append_new(unmanaged, unmanaged_json(d, prefix));
			continue;
		}
		struct policy_compliance c[ZK_N_INTERVALS];
		policy_compliance(&d->snaps, prefix, d->policy, now, a->cfg->compliance_age_factor,
		                  c);
		json_array_append_new(managed, managed_json(d, c));
	}
	return json_pack("{s:o, s:o}", "managed", managed, "unmanaged", unmanaged);
}

static int64_t per_interval(const json_t *d, const char *key, int iv)
{
	return (int64_t)json_integer_value(
	    json_object_get(json_object_get(d, key), zk_interval_names[iv]));
}

void autosnap_seed_table(const json_t *report, struct buf *out)
{
	const json_t *managed = json_object_get(report, "managed"), *d;
	size_t i, wname = strlen("Dataset"), wpol = strlen("Policy");
	int64_t total = 0;
	if (!json_array_size(managed)) {
		buf_adds(out, "No datasets found.\n");
		return;
	}
	json_array_foreach(managed, i, d)
	{
		size_t n = strlen(json_string_value(json_object_get(d, "dataset")));
		size_t p = strlen(json_string_value(json_object_get(d, "policy")));
		wname = n > wname ? n : wname;
		wpol = p > wpol ? p : wpol;
	}
	size_t width = wname + 2 + wpol + (size_t)ZK_N_INTERVALS * 10;
	buf_addf(out, "%-*s  %-*s", (int)wname, "Dataset", (int)wpol, "Policy");
	for (int k = 0; k < ZK_N_INTERVALS; k++) {
		char head[16];
		snprintf(head, sizeof(head), "%c%s", zk_interval_names[k][0] - 'a' + 'A',
		         zk_interval_names[k] + 1);
		buf_addf(out, "%10s", head);
	}
	buf_adds(out, "\n");
	for (size_t k = 0; k < width; k++)
		buf_adds(out, "-");
	buf_adds(out, "\n");
	json_array_foreach(managed, i, d)
	{
		buf_addf(out, "%-*s  %-*s", (int)wname,
		         json_string_value(json_object_get(d, "dataset")), (int)wpol,
		         json_string_value(json_object_get(d, "policy")));
		for (int k = 0; k < ZK_N_INTERVALS; k++) {
			char cell[48];
			int64_t count = per_interval(d, "counts", k);
			snprintf(cell, sizeof(cell), "%lld/%lld", (long long)count,
			         (long long)per_interval(d, "retention", k));
			buf_addf(out, "%10s", cell);
			total += count;
		}
		buf_adds(out, "\n");
	}
	for (size_t k = 0; k < width; k++)
		buf_adds(out, "-");
	buf_addf(out, "\nTotal: %zu datasets, %lld autosnap snapshots\n", json_array_size(managed),
	         (long long)total);
}
