#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "policy.h"

/* Local wall-clock time in the current TZ to epoch; isdst picks the side
 * of an ambiguous hour (1 summer time, 0 winter time, -1 don't care). */
static time_t local(int Y, int M, int D, int h, int m, int isdst)
{
	struct tm tm = {0};
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_isdst = isdst;
	return mktime(&tm);
}

static int setup_berlin(void **state)
{
	(void)state;
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	return 0;
}

/* A dataset's snapshots, made up as zfs would list them. */
struct fake {
	struct zfs_obj objs[32];
	char names[32][96];
	struct policy_snaps snaps;
	size_t n;
};

static void fake_add(struct fake *f, const char *snap, uint64_t creation, uint64_t userrefs)
{
	size_t i = f->n++;
	snprintf(f->names[i], sizeof(f->names[i]), "tank/a@%s", snap);
	memset(&f->objs[i], 0, sizeof(f->objs[i]));
	f->objs[i].name = f->names[i];
	f->objs[i].type = ZFS_TYPE_SNAPSHOT;
	f->objs[i].createtxg = 100 + i;
	f->objs[i].creation = creation;
	f->objs[i].userrefs = userrefs;
}

static void fake_index(struct fake *f)
{
	for (size_t i = 0; i < f->n; i++)
		policy_snaps_push(&f->snaps, &f->objs[i]);
}

static void test_names(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	time_t t = local(2026, 1, 21, 14, 0, -1);
	policy_snapname(&b, "autosnap", ZK_HOURLY, t);
	assert_string_equal(b.s, "autosnap_2026-01-21_14:00:00_hourly");
	enum zk_interval iv;
	struct tm tm;
	assert_int_equal(policy_snapname_parse(b.s, "autosnap", &iv, &tm), 0);
	assert_int_equal(iv, ZK_HOURLY);
	assert_int_equal(tm.tm_hour, 14);
	assert_int_equal(tm.tm_mday, 21);
	buf_free(&b);

	static const char *const bad[] = {
	    "autosnap_2026-01-21_14:00:00_weekly",  "autosnap_2026-13-21_14:00:00_daily",
	    "autosnap_2026-01-21_24:00:00_daily",   "autosnap_2026-01-21_14:00:00_daily_",
	    "autosnap_2026-01-21_14:00:00_dailyx",  "autosnap_2026-1-21_14:00:00_daily",
	    "autosnapx_2026-01-21_14:00:00_daily",  "autosnap-2026-01-21_14:00:00_daily",
	    "Autosnap_2026-01-21_14:00:00_daily",   "autosnap_2026-01-21T14:00:00_daily",
	    "autosnap_2026-01-21_14:00:00",         "manual",
	    "autosnap_2026-00-21_14:00:00_monthly", "autosnap_2026-01-00_14:00:00_yearly",
	    "autosnap_+026-01-21_14:00:00_daily",   "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (policy_snapname_parse(bad[i], "autosnap", &iv, &tm) != -EINVAL)
			fail_msg("'%s' was taken for a policy snapshot", bad[i]);
	/* another prefix */
	assert_int_equal(policy_snapname_parse("zk_2026-01-21_14:00:00_daily", "zk", &iv, &tm), 0);
	assert_int_equal(
	    policy_snapname_parse("zk_2026-01-21_14:00:00_daily", "autosnap", &iv, &tm), -EINVAL);
}

/* A daily snapshot is due once per local day, on 23- and 25-hour days. */
static void test_due_across_dst(void **state)
{
	(void)state;
	struct fake f = {0};
	/* 25-hour day: summer time ends on 2026-10-25 at 03:00 CEST */
	fake_add(&f, "autosnap_2026-10-25_00:15:00_daily", 0, 0);
	fake_index(&f);
	assert_false(policy_is_due(&f.snaps, "autosnap", ZK_DAILY, local(2026, 10, 25, 0, 15, -1)));
	assert_false(
	    policy_is_due(&f.snaps, "autosnap", ZK_DAILY, local(2026, 10, 25, 23, 59, -1)));
	assert_true(policy_is_due(&f.snaps, "autosnap", ZK_DAILY, local(2026, 10, 26, 0, 15, -1)));
	/* 24 hours after the snapshot is still the same local day */
	assert_false(policy_is_due(&f.snaps, "autosnap", ZK_DAILY,
	                           local(2026, 10, 25, 0, 15, -1) + 24 * 3600));
	policy_snaps_free(&f.snaps);

	/* 23-hour day: summer time starts on 2026-03-29 at 02:00 CET */
	struct fake g = {0};
	fake_add(&g, "autosnap_2026-03-29_00:15:00_daily", 0, 0);
	fake_index(&g);
	assert_false(policy_is_due(&g.snaps, "autosnap", ZK_DAILY, local(2026, 3, 29, 23, 59, -1)));
	/* 23 hours after the snapshot is already the next local day */
	assert_true(policy_is_due(&g.snaps, "autosnap", ZK_DAILY,
	                          local(2026, 3, 29, 0, 15, -1) + 23 * 3600));
	/* other intervals' snapshots do not count */
	assert_true(policy_is_due(&g.snaps, "autosnap", ZK_HOURLY, local(2026, 3, 29, 0, 15, -1)));
	policy_snaps_free(&g.snaps);
}

/* The hour that repeats when summer time ends: both passes have the same
 * name, so the second is not due (rather than failing on a name clash). */
static void test_repeated_hour(void **state)
{
	(void)state;
	time_t first = local(2026, 10, 25, 2, 0, 1); /* 02:00 CEST */
	time_t second = first + 3600;                /* 02:00 CET */
	struct buf a = BUF_INIT, b = BUF_INIT;
	policy_snapname(&a, "autosnap", ZK_HOURLY, first);
	policy_snapname(&b, "autosnap", ZK_HOURLY, second);
	assert_string_equal(a.s, "autosnap_2026-10-25_02:00:00_hourly");
	assert_string_equal(a.s, b.s);
	struct fake f = {0};
	fake_add(&f, a.s, (uint64_t)first, 0);
	fake_index(&f);
	assert_false(policy_is_due(&f.snaps, "autosnap", ZK_HOURLY, second));
	assert_true(policy_is_due(&f.snaps, "autosnap", ZK_HOURLY, second + 3600));
	policy_snaps_free(&f.snaps);
	buf_free(&a);
	buf_free(&b);
}

static void test_expired(void **state)
{
	(void)state;
	struct fake f = {0};
	fake_add(&f, "autosnap_2026-01-21_10:00:00_hourly", 0, 0); /* oldest */
	fake_add(&f, "manual", 0, 0);
	fake_add(&f, "autosnap_2026-01-21_11:00:00_hourly", 0, 2); /* held */
	fake_add(&f, "autosnap_2026-01-22_00:15:00_daily", 0, 0);
	fake_add(&f, "autosnap_2026-01-21_12:00:00_hourly", 0, 0);
	fake_add(&f, "other_2026-01-21_12:30:00_hourly", 0, 0);
	/* clock jumped back: a newer (by txg) snapshot with an older name */
	fake_add(&f, "autosnap_2020-01-01_00:00:00_hourly", 0, 0);
	fake_add(&f, "autosnap_2026-01-21_13:00:00_hourly", 0, 0);
	fake_index(&f);
	struct policy_snaps out = {0}, held = {0};
	policy_expired(&f.snaps, "autosnap", ZK_HOURLY, 2, &out, &held);
	/* 5 hourly, keep the 2 newest by createtxg: 3 expire, one is held */
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0]->name, "tank/a@autosnap_2026-01-21_10:00:00_hourly");
	assert_string_equal(out.v[1]->name, "tank/a@autosnap_2026-01-21_12:00:00_hourly");
	assert_int_equal(held.n, 1);
	assert_string_equal(held.v[0]->name, "tank/a@autosnap_2026-01-21_11:00:00_hourly");
	policy_snaps_free(&out);
	policy_snaps_free(&held);
	/* keep 0: every hourly goes, nothing else */
	policy_expired(&f.snaps, "autosnap", ZK_HOURLY, 0, &out, &held);
	assert_int_equal(out.n + held.n, 5);
	policy_snaps_free(&out);
	policy_snaps_free(&held);
	/* keep more than there are, or keep-all: nothing */
	policy_expired(&f.snaps, "autosnap", ZK_DAILY, 1, &out, &held);
	policy_expired(&f.snaps, "autosnap", ZK_HOURLY, 9, &out, &held);
	policy_expired(&f.snaps, "autosnap", ZK_HOURLY, ZK_KEEP_ALL, &out, &held);
	assert_int_equal(out.n + held.n, 0);
	policy_snaps_free(&f.snaps);
}

/* policy_expire: prune's one-pass decision agrees with policy_expired
 * interval by interval, and counts each interval's snapshots. */
static void test_expire_one_pass(void **state)
{
	(void)state;
	struct fake f = {0};
	fake_add(&f, "autosnap_2026-01-21_10:00:00_hourly", 0, 0);
	fake_add(&f, "manual", 0, 0);
	fake_add(&f, "autosnap_2026-01-21_00:15:00_daily", 0, 0);
	fake_add(&f, "autosnap_2026-01-21_11:00:00_hourly", 0, 0);
	fake_add(&f, "autosnap_2026-01-22_00:15:00_daily", 0, 0);
	fake_add(&f, "other_2026-01-21_12:30:00_hourly", 0, 0);
	fake_add(&f, "autosnap_2020-01-01_00:00:00_hourly", 0, 0); /* newer by txg */
	fake_add(&f, "autosnap_2026-01-21_13:00:00_hourly", 0, 0);
	fake_add(&f, "autosnap_2026-01-01_00:20:00_monthly", 0, 0);
	fake_index(&f);
	const int keep[ZK_N_INTERVALS] = {2, 1, ZK_KEEP_ALL, 0};
	unsigned counts[ZK_N_INTERVALS];
	struct policy_snaps out = {0};
	policy_expire(&f.snaps, "autosnap", keep, &out, counts);
	assert_int_equal(counts[ZK_HOURLY], 4);
	assert_int_equal(counts[ZK_DAILY], 2);
	assert_int_equal(counts[ZK_MONTHLY], 1);
	assert_int_equal(counts[ZK_YEARLY], 0);
	/* the 2 oldest hourly by createtxg and the older daily, in listing order */
	assert_int_equal(out.n, 3);
	assert_string_equal(out.v[0]->name, "tank/a@autosnap_2026-01-21_10:00:00_hourly");
	assert_string_equal(out.v[1]->name, "tank/a@autosnap_2026-01-21_00:15:00_daily");
	assert_string_equal(out.v[2]->name, "tank/a@autosnap_2026-01-21_11:00:00_hourly");
	policy_snaps_free(&out);
	/* none's keep 0 everywhere: every policy snapshot, nothing else */
	const int none[ZK_N_INTERVALS] = {0, 0, 0, 0};
	policy_expire(&f.snaps, "autosnap", none, &out, counts);
	assert_int_equal(out.n, 7);
	for (size_t i = 0; i < out.n; i++)
		assert_null(strstr(out.v[i]->name, "manual"));
	policy_snaps_free(&out);
	policy_snaps_free(&f.snaps);
}

static void test_compliance(void **state)
{
	(void)state;
	struct zk_policy p = {"t", {3, 2, 0, 1}, true, true, false};
	time_t now = local(2026, 1, 21, 14, 30, -1);
	struct fake f = {0};
	fake_add(&f, "autosnap_2026-01-21_12:00:00_hourly", (uint64_t)now - 9000, 0);
	fake_add(&f, "autosnap_2026-01-21_13:00:00_hourly", (uint64_t)now - 5400, 0);
	fake_add(&f, "autosnap_2026-01-21_14:00:00_hourly", (uint64_t)now - 1800, 0);
	fake_add(&f, "autosnap_2026-01-20_00:15:00_daily", (uint64_t)now - 5 * 86400, 0);
	fake_add(&f, "autosnap_2026-01-19_00:15:00_daily", (uint64_t)now - 6 * 86400, 0);
	fake_add(&f, "autosnap_2026-01-18_00:15:00_daily", (uint64_t)now - 7 * 86400, 0);
	fake_index(&f);
	struct policy_compliance c[ZK_N_INTERVALS];
	policy_compliance(&f.snaps, "autosnap", &p, now, 2, c);
	assert_int_equal(c[ZK_HOURLY].count, 3);
	assert_int_equal(c[ZK_HOURLY].percent, 100);
	assert_true(c[ZK_HOURLY].fresh && c[ZK_HOURLY].compliant);
	assert_true(c[ZK_HOURLY].newest == (uint64_t)now - 1800);
	assert_true(c[ZK_HOURLY].oldest == (uint64_t)now - 9000);
	/* 3 of 2 daily: the seed says 150, zkeep caps at 100 ... */
	assert_int_equal(c[ZK_DAILY].seed_percent, 150);
	assert_int_equal(c[ZK_DAILY].percent, 100);
	/* ... and the newest is 5 days old: not fresh, not compliant */
	assert_false(c[ZK_DAILY].fresh);
	assert_false(c[ZK_DAILY].compliant);
	/* retention 0: nothing is asked */
	assert_int_equal(c[ZK_MONTHLY].percent, 100);
	assert_true(c[ZK_MONTHLY].compliant);
	/* none of 1 yearly */
	assert_int_equal(c[ZK_YEARLY].count, 0);
	assert_int_equal(c[ZK_YEARLY].percent, 0);
	assert_true(c[ZK_YEARLY].newest == ZFS_NONE);
	assert_false(c[ZK_YEARLY].fresh);
	/* the age limit is factor intervals: just inside and just outside */
	policy_compliance(&f.snaps, "autosnap", &p, now + 5400 - 1, 2, c);
	assert_true(c[ZK_HOURLY].fresh);
	policy_compliance(&f.snaps, "autosnap", &p, now + 5400, 2, c);
	assert_false(c[ZK_HOURLY].fresh);
	/* a clock set back makes the newest "future": still fresh */
	policy_compliance(&f.snaps, "autosnap", &p, now - 86400, 2, c);
	assert_true(c[ZK_HOURLY].fresh);
	unsigned counts[ZK_N_INTERVALS], total;
	policy_counts(&f.snaps, "autosnap", counts, &total);
	assert_int_equal(total, 6);
	assert_int_equal(counts[ZK_DAILY], 3);
	policy_snaps_free(&f.snaps);
}

/* The seed's figure is its float arithmetic's, truncated, as /metrics
 * and /metrics export it (seed_percent): 23 of 5 is 459 and 29 of 100 is 28;
 * zkeep's own percent is exact (29) and capped (100). */
static void test_seed_ratio(void **state)
{
	(void)state;
	static const struct {
		unsigned count;
		int keep, seed, pct;
	} ratio[] = {{23, 5, 459, 100}, {29, 100, 28, 29}, {3, 2, 150, 100}, {1, 0, 100, 100}};
	time_t now = local(2026, 1, 21, 14, 30, -1);
	for (size_t i = 0; i < sizeof(ratio) / sizeof(ratio[0]); i++) {
		struct zk_policy p = {"t", {ratio[i].keep, 0, 0, 0}, true, true, false};
		struct fake f = {0};
		for (unsigned k = 0; k < ratio[i].count; k++) {
			char name[64];
			snprintf(name, sizeof(name), "autosnap_2026-01-%02u_%02u:00:00_hourly",
			         20 + k / 24, k % 24);
			fake_add(&f, name, (uint64_t)now - 60, 0);
		}
		fake_index(&f);
		struct policy_compliance c[ZK_N_INTERVALS];
		policy_compliance(&f.snaps, "autosnap", &p, now, 2, c);
		assert_int_equal(c[ZK_HOURLY].count, ratio[i].count);
		assert_int_equal(c[ZK_HOURLY].seed_percent, ratio[i].seed);
		assert_int_equal(c[ZK_HOURLY].percent, ratio[i].pct);
		policy_snaps_free(&f.snaps);
	}
}

/* Policies applied to a real listing (OpenZFS 2.3 fixture). */
static void test_index_on_fixture(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	struct zfs_list l;
	struct zerr e = ZERR_INIT;
	fixture_read("2.3/zfs-list-changed.out", &text);
	assert_int_equal(zfs_list_parse(&l, text.s, text.len, ZFS_COL_SNAPSHOTS_CHANGED, &e), 0);
	struct zk_config c;
	config_init(&c);
	const char *conf = "[dataset fixt/data]\npolicy = critical\ndiscover_children = yes\n"
	                   "[dataset fixt/data/child]\npolicy = low\n"
	                   "[dataset fixt/vol]\npolicy = high\n"
	                   "[dataset fixt/gone]\npolicy = high\n";
	if (config_load_string(&c, "t", conf, &e) < 0)
		fail_msg("%s", e.msg);
	struct policy_index ix;
	policy_index_build(&ix, &l, &c);
	struct policy_dataset *d = policy_index_find(&ix, "fixt/data");
	assert_string_equal(d->policy->name, "critical");
	assert_int_equal(d->snaps.n, 3); /* two autosnap and "manual" */
	/* declared itself: its own policy */
	assert_string_equal(policy_index_find(&ix, "fixt/data/child")->policy->name, "low");
	/* discovered: the ancestor's */
	d = policy_index_find(&ix, "fixt/data/with space");
	assert_string_equal(d->policy->name, "critical");
	assert_string_equal(d->from, "fixt/data");
	assert_string_equal(policy_index_find(&ix, "fixt/vol")->policy->name, "high");
	assert_null(policy_index_find(&ix, "fixt")->policy);
	assert_null(policy_index_find(&ix, "fixt/enc")->policy);
	assert_null(policy_index_find(&ix, "fixt/dat"));
	assert_int_equal(ix.missing.n, 1);
	assert_string_equal(ix.missing.v[0], "fixt/gone");
	unsigned counts[ZK_N_INTERVALS], total;
	policy_counts(&policy_index_find(&ix, "fixt/data")->snaps, "autosnap", counts, &total);
	assert_int_equal(counts[ZK_HOURLY], 1);
	assert_int_equal(counts[ZK_DAILY], 1);
	assert_int_equal(total, 2);
	policy_index_free(&ix);
	config_free(&c);
	zfs_list_free(&l);
	buf_free(&text);
}

/* A listing of filesystems only, made up: one name a line. */
static void fake_listing(struct zfs_list *l, const char *const *names)
{
	struct buf text = BUF_INIT;
	struct zerr e = ZERR_INIT;
	for (int i = 0; names[i]; i++)
		buf_addf(&text, "%s\tfilesystem\t%d\t%d\t1769000000\t1\t1\t1\n", names[i], 1000 + i,
		         1 + i);
	if (zfs_list_parse(l, text.s, text.len, 0, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&text);
}

/* Inheritance and discovery as seed-system.md 1.2 says, config text in,
 * each dataset's policy out: "-" unmanaged, "?" unknown (listed as none,
 * never snapshotted or pruned), else the policy's name. */
static void test_inheritance_table(void **state)
{
	(void)state;
	static const char *const names[] = {
	    "tank",        "tank/a",        "tank/a/b", "tank/a/b/c", "tank/a/b/c/d",
	    "tank/a/logs", "tank/a/logs/x", "tank/a/u", "tank/a/u/v", "tank/d",
	    "tank/d/e",    "tank/d/e/f",    NULL,
	};
	static const struct {
		const char *what, *conf, *want;
	} cases[] = {
	    {"declared", "[dataset tank/a]\npolicy = low\n",
	     "tank=- tank/a=low tank/a/b=- tank/a/u=- tank/d=-"},
	    {"inherited",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b]\n",
	     "tank/a=high tank/a/b=high tank/a/u=- tank/a/b/c=-"},
	    {"inherited past an undeclared level",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b/c]\n",
	     "tank/a/b=- tank/a/b/c=high"},
	    {"a chain reaches grandchildren and deeper",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b]\n[dataset tank/a/b/c]\n[dataset tank/a/b/c/d]\n",
	     "tank/a/b=high tank/a/b/c=high tank/a/b/c/d=high"},
	    {"an explicit policy stops the chain",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b]\npolicy = low\n[dataset tank/a/b/c]\n",
	     "tank/a/b=low tank/a/b/c=?"},
	    {"... unless it passes its own on",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b]\npolicy = low\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b/c]\n",
	     "tank/a/b=low tank/a/b/c=low"},
	    {"an explicit none stops the chain",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/logs]\npolicy = none\n[dataset tank/a/logs/x]\n",
	     "tank/a=high tank/a/logs=none tank/a/logs/x=?"},
	    {"an explicit none passed on is an explicit none",
	     "[dataset tank/a/logs]\npolicy = none\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/logs/x]\n",
	     "tank/a/logs=none tank/a/logs/x=none"},
	    {"no policy given or inherited", "[dataset tank/a]\ndiscover_children = yes\n",
	     "tank/a=? tank/a/u=? tank=-"},
	    {"discovered at any depth",
	     "[dataset tank/a]\npolicy = critical\ndiscover_children = yes\n",
	     "tank=- tank/a=critical tank/a/b=critical tank/a/b/c/d=critical tank/a/u/v=critical "
	     "tank/d=-"},
	    {"discovery passes declared children that do not discover",
	     "[dataset tank/a]\npolicy = critical\ndiscover_children = yes\n"
	     "[dataset tank/a/b]\npolicy = low\n",
	     "tank/a/b=low tank/a/b/c=critical tank/a/b/c/d=critical tank/a/u=critical"},
	    {"explicit none below a discovering ancestor",
	     "[dataset tank/a]\npolicy = critical\ndiscover_children = yes\n"
	     "[dataset tank/a/logs]\npolicy = none\n",
	     "tank/a=critical tank/a/logs=none tank/a/logs/x=critical tank/a/u=critical"},
	    {"nested discovering entries: the nearest",
	     "[dataset tank/a]\npolicy = critical\ndiscover_children = yes\n"
	     "[dataset tank/a/b]\npolicy = low\ndiscover_children = yes\n",
	     "tank/a/b/c=low tank/a/b/c/d=low tank/a/u=critical"},
	    {"a discovering entry's inherited policy",
	     "[dataset tank/a]\npolicy = high\nchildren_inherit_policy = yes\n"
	     "[dataset tank/a/b]\ndiscover_children = yes\n",
	     "tank/a/b=high tank/a/b/c=high tank/a/b/c/d=high tank/a/u=-"},
	    {"an unknown name, discovered and inherited",
	     "[dataset tank/a]\npolicy = hgih\ndiscover_children = yes\n"
	     "children_inherit_policy = yes\n[dataset tank/a/b]\n",
	     "tank/a=? tank/a/b=? tank/a/b/c=? tank/a/u=?"},
	    {"an empty policy (the seed's null)", "[dataset tank/d]\npolicy =\n",
	     "tank/d=? tank/d/e=-"},
	    {"an overridden none is still explicit",
	     "[policy none]\nautoprune = no\n[dataset tank/d]\npolicy = none\n", "tank/d=none"},
	};
	struct zfs_list l;
	fake_listing(&l, names);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zk_config c;
		struct zerr e = ZERR_INIT;
		struct policy_index ix;
		struct strvec want = STRVEC_INIT;
		config_init(&c);
		if (config_load_string(&c, "t", cases[i].conf, &e) < 0)
			fail_msg("%s: %s", cases[i].what, e.msg);
		policy_index_build(&ix, &l, &c);
		strvec_split(&want, cases[i].want);
		for (size_t k = 0; k < want.n; k++) {
			char *eq = strchr(want.v[k], '=');
			*eq = '\0';
			const struct policy_dataset *d = policy_index_find(&ix, want.v[k]);
			const char *got = !d->policy ? "-" : d->unknown ? "?" : d->policy->name;
			if (strcmp(got, eq + 1))
				fail_msg("%s: %s has %s, want %s", cases[i].what, want.v[k], got,
				         eq + 1);
			/* unknown: listed as none, but neither taken nor pruned */
			if (d->unknown &&
			    (d->policy != &policy_unknown || strcmp(d->policy->name, "none") ||
			     d->policy->autosnap || d->policy->autoprune))
				fail_msg("%s: %s is unknown but can be snapshotted or pruned",
				         cases[i].what, want.v[k]);
		}
		strvec_clear(&want);
		policy_index_free(&ix);
		config_free(&c);
	}
	zfs_list_free(&l);
}

/* An explicit none is the seed's: autoprune with nothing kept, so prune
 * destroys every policy snapshot (and only those); an unknown one is
 * never pruned. */
static void test_none_and_unknown(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	const char *conf = "[dataset tank/d]\npolicy = none\n[dataset tank/a]\npolicy = nnoe\n";
	if (config_load_string(&c, "t", conf, &e) < 0)
		fail_msg("%s", e.msg);
	assert_false(c.datasets[0].unknown);
	assert_true(c.datasets[1].unknown);
	const struct zk_policy *none = config_policy(&c, c.datasets[0].policy);
	assert_true(none->autoprune && !none->autosnap);
	struct fake f = {0};
	fake_add(&f, "autosnap_2026-01-21_10:00:00_hourly", 0, 0);
	fake_add(&f, "manual", 0, 0);
	fake_add(&f, "autosnap_2026-01-22_00:15:00_daily", 0, 0);
	fake_add(&f, "autosnap_2026-01-21_14:00:00_weekly", 0, 0);
	fake_index(&f);
	struct policy_snaps out = {0}, held = {0};
	for (int iv = 0; iv < ZK_N_INTERVALS; iv++)
		policy_expired(&f.snaps, "autosnap", (enum zk_interval)iv, none->keep[iv], &out,
		               &held);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0]->name, "tank/a@autosnap_2026-01-21_10:00:00_hourly");
	assert_string_equal(out.v[1]->name, "tank/a@autosnap_2026-01-22_00:15:00_daily");
	policy_snaps_free(&out);
	policy_snaps_free(&held);
	policy_snaps_free(&f.snaps);
	assert_false(policy_unknown.autoprune);
	assert_false(policy_unknown.autosnap);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_due_across_dst),
	    cmocka_unit_test(test_repeated_hour),
	    cmocka_unit_test(test_expired),
	    cmocka_unit_test(test_expire_one_pass),
	    cmocka_unit_test(test_compliance),
	    cmocka_unit_test(test_seed_ratio),
	    cmocka_unit_test(test_index_on_fixture),
	    cmocka_unit_test(test_inheritance_table),
	    cmocka_unit_test(test_none_and_unknown),
	};
	return cmocka_run_group_tests(tests, setup_berlin, NULL);
}
