#include "autosnap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
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

void autosnap_free(struct autosnap *a)
{
	if (!a)
		return;
	policy_index_free(&a->ix);
	zfs_list_free(&a->list);
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

int autosnap_snapshot(struct autosnap *a, enum zk_interval iv, time_t now, bool dry_run,
                      struct autosnap_result *res)
{
	const char *prefix = a->cfg->snapshot_prefix;
	const char *ivn = zk_interval_names[iv];
	struct buf name = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	struct zerr e = ZERR_INIT;

	memset(res, 0, sizeof(*res));
	policy_snapname(&name, prefix, iv, now);
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
	strvec_pushv(&argv, (const char *const[]){"zfs", "snapshot", NULL});
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
			          ivn);
			res->skipped++;
			continue;
		}
		strvec_pushf(&argv, "%s@%s", d->obj->name, name.s);
	}
	size_t want = argv.n - 2;
	if (!want) {
		log_info("no %s snapshots are due", ivn);
	} else if (dry_run) {
		for (size_t i = 2; i < argv.n; i++)
			log_info("DRY-RUN: Would create snapshot %s", argv.v[i]);
		res->done = (unsigned)want;
	} else if (run(a, (const char *const *)argv.v, &e) == 0) {
		for (size_t i = 2; i < argv.n; i++)
			log_info("created %s", argv.v[i]);
		res->done = (unsigned)want;
	} else {
		/* One dataset can make the atomic call fail for all: take the
		 * others one by one, and name each that still fails. */
		log_warn("one snapshot call for %zu datasets failed (%s); retrying them one by one",
		         want, e.msg);
		for (size_t i = 2; i < argv.n; i++) {
			struct zerr one = ZERR_INIT;
			if (run(a, (const char *const[]){"zfs", "snapshot", argv.v[i], NULL},
			        &one) == 0) {
				log_info("created %s", argv.v[i]);
				res->done++;
			} else {
				log_error("cannot snapshot '%s': %s", argv.v[i], one.msg);
				res->failed++;
			}
		}
	}
	log_info("Summary: %u created, %u skipped, %u failed", res->done, res->skipped,
	         res->failed);
	strvec_clear(&argv);
	buf_free(&name);
	return res->failed ? -EIO : 0;
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

static void expired_of(const struct policy_dataset *d, const char *prefix, struct policy_snaps *out)
{
	struct policy_snaps unused = {0}; /* no userrefs listed: none counted held here */
	for (int iv = 0; iv < ZK_N_INTERVALS; iv++)
		policy_expired(&d->snaps, prefix, (enum zk_interval)iv, d->policy->keep[iv], out,
		               &unused);
	policy_snaps_free(&unused);
}

int autosnap_prune(struct autosnap *a, bool dry_run, struct autosnap_result *res)
{
	const char *prefix = a->cfg->snapshot_prefix;
	struct policy_snaps cand = {0};
	struct strvec held = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	memset(res, 0, sizeof(*res));
	log_info("Starting snapshot pruning");
	log_discovered(a);
	for (size_t i = 0; i < a->ix.n; i++)
		if (a->ix.v[i].policy && a->ix.v[i].policy->autoprune) {
			unsigned counts[ZK_N_INTERVALS], total;
			expired_of(&a->ix.v[i], prefix, &cand);
			policy_counts(&a->ix.v[i].snaps, prefix, counts, &total);
			res->kept += total; /* less what is destroyed below */
		}
	/* a held snapshot (a backup's base, an admin's hold) is never destroyed;
	 * without knowing the holds, nothing is */
	if (cand.n && query_holds(a, &cand, &held, &e) < 0) {
		log_error("cannot read the holds of the expired snapshots: %s", e.msg);
		res->failed++;
		goto out;
	}
	for (size_t i = 0; i < a->ix.n; i++) {
		const struct policy_dataset *d = &a->ix.v[i];
		if (!d->policy || !d->policy->autoprune)
			continue;
		struct policy_snaps exp = {0};
		struct buf list = BUF_INIT;
		size_t n = 0;
		expired_of(d, prefix, &exp);
		buf_adds(&list, d->obj->name);
		for (size_t k = 0; k < exp.n; k++) {
			const char *name = exp.v[k]->name;
			if (strvec_has(&held, name)) {
				log_info("keeping %s: expired but held", name);
				res->skipped++;
				continue;
			}
			/* one destroy per dataset: "ds@a,b,c" */
			buf_addf(&list, "%c%s", n++ ? ',' : '@', strchr(name, '@') + 1);
			if (dry_run)
				log_info("would destroy %s", name);
		}
		if (n && dry_run) {
			res->done += (unsigned)n;
			res->kept -= (unsigned)n;
		} else if (n &&
		           run(a, (const char *const[]){"zfs", "destroy", list.s, NULL}, &e) == 0) {
			for (size_t k = 0; k < exp.n; k++)
				if (!strvec_has(&held, exp.v[k]->name))
					log_info("destroyed %s", exp.v[k]->name);
			res->done += (unsigned)n;
			res->kept -= (unsigned)n;
		} else if (n) {
			log_error("cannot prune '%s': %s", d->obj->name, e.msg);
			res->failed++;
		}
		buf_free(&list);
		policy_snaps_free(&exp);
	}
	if (!res->done && !res->failed)
		log_info("nothing to prune");
out:
	log_info("Pruning complete: %u destroyed, %u kept", res->done, res->kept);
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
