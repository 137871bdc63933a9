/*
 * lib/attention: the one "needs attention" rule, per pool, dataset and
 * backup, at the config's thresholds and the defaults the shipped alerts
 * had; the [attention] section's keys and their errors.
 */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attention.h"
#include "config.h"
#include "view.h"

#define NOW 1795680000

static struct zk_config cfg;

static int setup(void **state)
{
	(void)state;
	config_init(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	return 0;
}

/* [attention] lines over the defaults, into cfg. */
static void load(const char *text)
{
	struct zerr e = ZERR_INIT;
	if (config_load_string(&cfg, "t.conf", text, &e) < 0)
		fail_msg("%s", e.msg);
}

static const struct att_finding *find(const struct att_object *o, enum att_check c)
{
	for (size_t i = 0; i < o->n_checks; i++)
		if (o->checks[i].check == c)
			return &o->checks[i];
	fail_msg("object %s has no check %s", o->name, attention_check_name(c));
	return NULL;
}

/* The level of o's check c, its reason (kept until the next call) in
 * *reason when asked; frees o. */
static int take(struct att_object *o, enum att_check c, const char **reason)
{
	static char kept[256];
	const struct att_finding *f = find(o, c);
	int level = f->level;
	snprintf(kept, sizeof(kept), "%s", f->reason ? f->reason : "");
	if (reason)
		*reason = kept;
	attention_object_free(o);
	return level;
}

static int pool_level(const char *health, uint64_t cap, uint64_t cksum, enum att_check c,
                      const char **reason)
{
	struct zpool z = {"tank", health, 100, cap, 100 - cap, 0, cap};
	struct zpool_vdev vd = {"sda", "ONLINE", 1, 0, 0, cksum};
	struct view_pool p = {0};
	p.zp = &z;
	p.have_status = true;
	p.status.vdevs = &vd;
	p.status.n_vdevs = 1;
	p.scan.errors = -1;
	struct att_object o;
	attention_pool(&p, &cfg.attention, &o);
	assert_string_equal(o.name, "tank");
	assert_int_equal(o.n_checks, 3);
	return take(&o, c, reason);
}

static void test_pool(void **state)
{
	(void)state;
	const char *r;
	/* the defaults: above 80 warns, above 90 is critical (the alerts' > 80, > 90) */
	assert_int_equal(pool_level("ONLINE", 80, 0, ATT_CAPACITY, NULL), ZK_LEVEL_OK);
	assert_int_equal(pool_level("ONLINE", 81, 0, ATT_CAPACITY, &r), ZK_LEVEL_WARNING);
	assert_string_equal(r, "pool tank is 81% full (warning above 80%)");
	assert_int_equal(pool_level("ONLINE", 90, 0, ATT_CAPACITY, NULL), ZK_LEVEL_WARNING);
	assert_int_equal(pool_level("ONLINE", 91, 0, ATT_CAPACITY, &r), ZK_LEVEL_CRITICAL);
	assert_string_equal(r, "pool tank is 91% full (critical above 90%)");
	assert_int_equal(pool_level("DEGRADED", 10, 0, ATT_HEALTH, &r), ZK_LEVEL_CRITICAL);
	assert_string_equal(r, "pool tank is DEGRADED");
	assert_int_equal(pool_level("ONLINE", 10, 0, ATT_HEALTH, NULL), ZK_LEVEL_OK);
	assert_int_equal(pool_level("ONLINE", 10, 3, ATT_ERRORS, NULL), ZK_LEVEL_WARNING);
	assert_int_equal(pool_level("ONLINE", 10, ZFS_NONE, ATT_ERRORS, NULL), ZK_LEVEL_OK);
	/* thresholds and levels from the config */
	load("[attention]\npool_capacity_warning = 50\n"
	     "pool_capacity_critical = 70\npool_unhealthy = warning\n"
	     "pool_errors = ok\n");
	assert_int_equal(pool_level("ONLINE", 51, 0, ATT_CAPACITY, NULL), ZK_LEVEL_WARNING);
	assert_int_equal(pool_level("ONLINE", 71, 0, ATT_CAPACITY, NULL), ZK_LEVEL_CRITICAL);
	assert_int_equal(pool_level("FAULTED", 10, 0, ATT_HEALTH, NULL), ZK_LEVEL_WARNING);
	assert_int_equal(pool_level("ONLINE", 10, 3, ATT_ERRORS, NULL), ZK_LEVEL_OK);
}

/* A dataset with the policy keeping hourly 10 and daily 5, count and
 * newest age per interval. */
static void snaps(unsigned hourly, int64_t hourly_age, struct att_object *o)
{
	static struct zk_policy pol = {"p", {10, 5, 0, 0}, true, true, false};
	static struct zfs_obj obj = {.name = "tank/data"};
	static struct policy_dataset pd;
	struct view_dataset d;
	memset(&d, 0, sizeof(d));
	pd.obj = &obj;
	pd.policy = &pol;
	d.pd = &pd;
	for (int k = 0; k < ZK_N_INTERVALS; k++) {
		d.comp[k].retention = pol.keep[k];
		d.comp[k].seed_percent = 100;
		d.comp[k].fresh = true;
		d.comp[k].newest = ZFS_NONE;
	}
	d.comp[ZK_DAILY].count = 5;
	d.comp[ZK_DAILY].newest = NOW - 3600;
	d.comp[ZK_HOURLY].count = hourly;
	d.comp[ZK_HOURLY].seed_percent = (int)(hourly * 10);
	d.comp[ZK_HOURLY].newest = hourly ? (uint64_t)(NOW - hourly_age) : ZFS_NONE;
	d.comp[ZK_HOURLY].fresh = hourly && hourly_age < 2 * 3600;
	attention_snapshots(&d, 2, &cfg.attention, o);
}

static void test_snapshots(void **state)
{
	(void)state;
	struct att_object o;
	snaps(10, 600, &o);
	assert_int_equal(o.kind, ATT_SNAPSHOTS);
	assert_string_equal(o.name, "tank/data");
	assert_int_equal(o.level, ZK_LEVEL_OK);
	attention_object_free(&o);
	/* 80 % is not below 80 %: the alert's < 80 */
	snaps(8, 600, &o);
	assert_int_equal(find(&o, ATT_COMPLIANCE)->level, ZK_LEVEL_OK);
	attention_object_free(&o);
	snaps(7, 600, &o);
	assert_int_equal(o.level, ZK_LEVEL_WARNING);
	assert_string_equal(
	    find(&o, ATT_COMPLIANCE)->reason,
	    "snapshots of tank/data are short of policy p: hourly 7/10 (below 80%)");
	assert_int_equal(find(&o, ATT_STALE)->level, ZK_LEVEL_OK);
	attention_object_free(&o);
	/* stale: there is a newest, and it is too old */
	snaps(10, 3 * 3600, &o);
	assert_int_equal(find(&o, ATT_STALE)->level, ZK_LEVEL_WARNING);
	assert_int_equal(find(&o, ATT_COMPLIANCE)->level, ZK_LEVEL_OK);
	assert_non_null(strstr(find(&o, ATT_STALE)->reason, "hourly 10/10"));
	attention_object_free(&o);
	/* none at all: compliance's, not stale's */
	snaps(0, 0, &o);
	assert_int_equal(find(&o, ATT_STALE)->level, ZK_LEVEL_OK);
	assert_int_equal(find(&o, ATT_COMPLIANCE)->level, ZK_LEVEL_WARNING);
	attention_object_free(&o);
	load("[attention]\nsnapshot_compliance = 50\n"
	     "snapshot_stale = critical\n");
	snaps(7, 3 * 3600, &o);
	assert_int_equal(find(&o, ATT_COMPLIANCE)->level, ZK_LEVEL_OK);
	assert_int_equal(o.level, ZK_LEVEL_CRITICAL);
	attention_object_free(&o);
}

static int backup_level(const char *kind, const char *result, int64_t age, enum att_check c,
                        const char **reason)
{
	struct view_backup b = {0};
	b.job = "nas1";
	b.kind = kind;
	b.source = "tank/data";
	b.target = "backup/nas1/tank/data";
	b.result = result;
	b.error = !strcmp(result, "failed") ? "cannot receive: out of space" : NULL;
	b.last_success = age < 0 ? 0 : NOW - age;
	struct att_object o;
	attention_backup(&b, &cfg.attention, NOW, &o);
	assert_string_equal(o.name, "nas1:tank/data");
	assert_int_equal(o.kind, ATT_BACKUP);
	return take(&o, c, reason);
}

static void test_backup(void **state)
{
	(void)state;
	const char *r;
	/* per kind: a pull is critical after 14 h, a push after 30 h (the
	 * shipped ZfsBackupStale), not one figure for both */
	assert_int_equal(backup_level("pull", "ok", 14 * 3600, ATT_AGE, NULL), ZK_LEVEL_OK);
	assert_int_equal(backup_level("pull", "ok", 14 * 3600 + 1, ATT_AGE, &r), ZK_LEVEL_CRITICAL);
	assert_string_equal(r, "backup nas1 (pull) of tank/data: last success 14h ago "
	                       "(critical after 14h)");
	assert_int_equal(backup_level("push", "ok", 20 * 3600, ATT_AGE, NULL), ZK_LEVEL_OK);
	assert_int_equal(backup_level("push", "ok", 30 * 3600 + 1, ATT_AGE, NULL),
	                 ZK_LEVEL_CRITICAL);
	/* never a success: the failed run says it, age does not */
	assert_int_equal(backup_level("pull", "failed", -1, ATT_AGE, NULL), ZK_LEVEL_OK);
	assert_int_equal(backup_level("pull", "failed", -1, ATT_FAILED, &r), ZK_LEVEL_WARNING);
	assert_string_equal(r, "backup nas1 (pull) of tank/data: last run failed: cannot "
	                       "receive: out of space");
	assert_int_equal(backup_level("pull", "up_to_date", 60, ATT_FAILED, NULL), ZK_LEVEL_OK);
	assert_int_equal(backup_level("pull", "skipped", 60, ATT_FAILED, NULL), ZK_LEVEL_OK);
	load("[attention]\nbackup_age_pull = 3d\n"
	     "backup_age_push = 90m\nbackup_failed = critical\n");
	assert_int_equal(backup_level("pull", "ok", 2 * 86400, ATT_AGE, NULL), ZK_LEVEL_OK);
	assert_int_equal(backup_level("push", "ok", 91 * 60, ATT_AGE, NULL), ZK_LEVEL_CRITICAL);
	assert_int_equal(backup_level("pull", "failed", 60, ATT_FAILED, NULL), ZK_LEVEL_CRITICAL);
}

static void test_config(void **state)
{
	(void)state;
	struct att_threshold t[ATT_N_THRESHOLDS];
	attention_thresholds(&cfg.attention, t);
	assert_string_equal(t[0].name, "pool_capacity_warning");
	assert_true(t[0].value == 80);
	assert_true(t[1].value == 90);
	assert_true(t[2].value == 80);
	assert_string_equal(t[3].name, "backup_age_pull");
	assert_true(t[3].value == 14 * 3600);
	assert_true(t[4].value == 30 * 3600);
	assert_true(t[5].value == ZK_LEVEL_CRITICAL);

	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"[attention]\nbackup_age_pull = 14\n",
	     "t.conf:2: backup_age_pull: '14' is not a duration"},
	    {"[attention]\n\nbackup_age_push = 30s\n",
	     "t.conf:3: backup_age_push: 30s is out of range"},
	    {"[attention]\npool_capacity_warning = 101\n",
	     "t.conf:2: pool_capacity_warning: 101 is out"},
	    {"[attention]\npool_errors = bad\n",
	     "t.conf:2: pool_errors: 'bad' is not ok, warning or"},
	    {"[attention]\nbackup_age = 3d\n", "t.conf:2: unknown key 'backup_age' in [attention]"},
	    {"[attention]\npool_capacity_critical = 70\n",
	     "t.conf:2: [attention] pool_capacity_warning (80) is above pool_capacity_critical "
	     "(70)"},
	    {"[attention x]\n", "t.conf:1: section [attention] takes no name"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zk_config c;
		struct zerr e = ZERR_INIT;
		config_init(&c);
		if (config_load_string(&c, "t.conf", bad[i].text, &e) != -EINVAL ||
		    strncmp(e.msg, bad[i].msg, strlen(bad[i].msg)))
			fail_msg("[%s]: got '%s', want '%s...'", bad[i].text, e.msg, bad[i].msg);
		config_free(&c);
	}
	struct zerr e = ZERR_INIT;
	int64_t d;
	assert_int_equal(config_parse_duration("2w", &d, &e), 0);
	assert_int_equal(d, 14 * 86400);
	assert_true(config_parse_duration("1h30m", &d, &e) < 0);
	assert_true(config_parse_duration("-1h", &d, &e) < 0);
	assert_true(config_parse_duration("367d", &d, &e) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_snapshots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
