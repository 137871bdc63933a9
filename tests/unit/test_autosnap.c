#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "autosnap.h"
#include "log.h"

/* A made-up host: datasets and snapshots as zfs would list them, the
 * config, and the log of the seed tools ("* " lines on out). */
struct fixture {
	struct zk_config cfg;
	struct host host;
	struct autosnap a;
	char *out_s, *err_s;
	size_t out_n, err_n;
	FILE *out, *err;
};

static void fixture_open(struct fixture *f, const char *conf, const char *const *names)
{
	struct buf text = BUF_INIT;
	struct zerr e = ZERR_INIT;
	memset(f, 0, sizeof(*f));
	config_init(&f->cfg);
	if (config_load_string(&f->cfg, "t", conf, &e) < 0)
		fail_msg("%s", e.msg);
	host_init_local(&f->host);
	f->a.cfg = &f->cfg;
	f->a.host = &f->host;
	for (int i = 0; names[i]; i++)
		buf_addf(&text, "%s\t%s\t%d\t%d\t1769000000\t1\t1\t1\n", names[i],
		         strchr(names[i], '@') ? "snapshot" : "filesystem", 1000 + i, 1 + i);
	if (zfs_list_parse(&f->a.list, text.s, text.len, 0, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&text);
	policy_index_build(&f->a.ix, &f->a.list, &f->cfg);
	f->out = open_memstream(&f->out_s, &f->out_n);
	f->err = open_memstream(&f->err_s, &f->err_n);
	log_set_streams(f->out, f->err);
	log_setup("zfs-snapshot", LOG_SINK_COMPAT, LOG_LVL_INFO);
}

static void fixture_logs_done(struct fixture *f)
{
	fclose(f->out);
	fclose(f->err);
	log_set_streams(NULL, NULL);
}

static void fixture_close(struct fixture *f)
{
	autosnap_free(&f->a);
	host_free(&f->host);
	config_free(&f->cfg);
	free(f->out_s);
	free(f->err_s);
}

static const char conf[] = "[dataset tank/a]\npolicy = critical\ndiscover_children = yes\n"
                           "[dataset tank/b]\npolicy = none\n"
                           "[dataset tank/c]\npolicy = nosuch\n"
                           "[dataset tank/gone]\npolicy = low\n"
                           "[dataset tank/gone-none]\npolicy = none\n";

static const char *const names[] = {
    "tank",   "tank/a", "tank/a/u", "tank/a@autosnap_2026-01-21_14:00:00_hourly",
    "tank/b", "tank/c", "tank/d",   "tank/c@autosnap_2026-01-20_14:00:00_hourly",
    NULL,
};

/* zfs-snapshot's lines (seed-system.md 1.3), from a dry run: no zfs is
 * called. tank/a has this hour's snapshot (not due), tank/a/u is
 * discovered, none and the unknown policy take nothing, a declared
 * dataset that does not exist fails when its policy would take one. */
static void test_snapshot_seed_lines(void **state)
{
	(void)state;
	struct fixture f;
	struct autosnap_result res;
	fixture_open(&f, conf, names);
	time_t now = 1769004000 + 1200; /* 2026-01-21 14:20 UTC */
	assert_int_equal(autosnap_snapshot(&f.a, ZK_HOURLY, now, true, &res), -EIO);
	fixture_logs_done(&f);
	assert_string_equal(f.out_s,
	                    "* Creating hourly snapshots: autosnap_2026-01-21_14:20:00_hourly\n"
	                    "* Discovered 1 child datasets at runtime\n"
	                    "* DRY-RUN: Would create snapshot "
	                    "tank/a/u@autosnap_2026-01-21_14:20:00_hourly\n"
	                    "* Summary: 1 created, 4 skipped, 1 failed\n");
	assert_non_null(strstr(f.err_s, "cannot snapshot 'tank/gone': dataset does not exist"));
	assert_null(strstr(f.err_s, "gone-none"));
	assert_int_equal(res.done, 1);
	assert_int_equal(res.skipped, 4); /* a (not due), b, c, gone-none */
	assert_int_equal(res.failed, 1);
	fixture_close(&f);
}

/* zfs-prune's lines (1.4) when nothing has expired (no zfs called): the
 * policy snapshots of pruned datasets are counted kept; those of the
 * unknown policy's tank/c are not pruned, so not counted. */
static void test_prune_seed_lines(void **state)
{
	(void)state;
	struct fixture f;
	struct autosnap_result res;
	fixture_open(&f, conf, names);
	assert_int_equal(autosnap_prune(&f.a, false, &res), 0);
	fixture_logs_done(&f);
	assert_string_equal(f.out_s, "* Starting snapshot pruning\n"
	                             "* Discovered 1 child datasets at runtime\n"
	                             "* nothing to prune\n"
	                             "* Pruning complete: 0 destroyed, 1 kept\n");
	fixture_close(&f);
}

/* Snapshot hooks, ordered and told what happened: pre-hooks in config
 * order (a, b, c, whatever their names' order), a failed pre-hook skips
 * its dataset and counts as failed, post-hooks in reverse order and also
 * after a failed pre-hook or snapshot. This host has no zfs (or no such
 * pool), so every snapshot fails: the post-hooks say so. */
static void test_snapshot_hook_order(void **state)
{
	(void)state;
	char dir[] = "/tmp/zkeep-hooks-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct buf c = BUF_INIT, log = BUF_INIT, path = BUF_INIT;
	buf_addf(&c,
	         "[global]\nstate_dir = %s\n"
	         "[policy p]\nhourly = 3\n"
	         "pre_snapshot = sh: echo \"pre $ZKEEP_DATASET $ZKEEP_SNAPSHOT\" >>%s/log\n"
	         "post_snapshot = sh: echo \"post $ZKEEP_DATASET $ZKEEP_PRE_RESULT "
	         "$ZKEEP_SNAPSHOT_RESULT $ZKEEP_INTERVAL\" >>%s/log\n"
	         "[dataset tank/z]\npolicy = p\n"
	         "[dataset tank/b]\npolicy = p\npre_snapshot = sh: echo \"pre b\" >>%s/log; "
	         "echo not ready >&2; exit 4\n"
	         "[dataset tank/m]\npolicy = p\npost_snapshot = false\n",
	         dir, dir, dir, dir);
	static const char *const hnames[] = {"tank", "tank/b", "tank/m", "tank/z", NULL};
	struct fixture f;
	struct autosnap_result res;
	fixture_open(&f, c.s, hnames);
	time_t now = 1769004000; /* 2026-01-21 14:00 UTC */
	assert_int_equal(autosnap_snapshot(&f.a, ZK_HOURLY, now, false, &res), -EIO);
	fixture_logs_done(&f);
	assert_int_equal(res.done, 0);
	assert_int_equal(res.failed, 3);        /* b's pre-hook, z's and m's snapshots */
	assert_int_equal(res.hook_failures, 1); /* m's post-hook */
	buf_addf(&path, "%s/log", dir);
	FILE *fp = fopen(path.s, "r");
	assert_non_null(fp);
	char line[256];
	while (fgets(line, sizeof(line), fp))
		buf_adds(&log, line);
	fclose(fp);
	assert_string_equal(log.s, "pre tank/z tank/z@autosnap_2026-01-21_14:00:00_hourly\n"
	                           "pre b\n"
	                           "pre tank/m tank/m@autosnap_2026-01-21_14:00:00_hourly\n"
	                           "post tank/b exit skipped hourly\n"
	                           "post tank/z ok failed hourly\n");
	assert_non_null(strstr(f.err_s, "pre_snapshot hook of tank/b exited 4: not ready"));
	assert_non_null(strstr(f.err_s, "post_snapshot hook of tank/m exited 1"));
	assert_non_null(strstr(f.err_s, "not snapshotting tank/b"));
	/* the state file for /metrics */
	buf_reset(&path);
	autosnap_hook_state_name(&path, dir, ZK_HOURLY);
	json_error_t je;
	json_t *st = json_load_file(path.s, 0, &je);
	assert_non_null(st);
	json_t *ds = json_object_get(st, "datasets");
	assert_int_equal(json_array_size(ds), 3);
	json_t *b = json_array_get(ds, 1);
	assert_string_equal(json_string_value(json_object_get(b, "dataset")), "tank/b");
	assert_string_equal(json_string_value(json_object_get(b, "pre_snapshot")), "exit");
	assert_string_equal(json_string_value(json_object_get(b, "snapshot")), "skipped");
	json_t *m = json_array_get(ds, 2);
	assert_true(json_is_null(json_object_get(m, "pre_snapshot")) == 0);
	assert_string_equal(json_string_value(json_object_get(m, "post_snapshot")), "exit");
	json_decref(st);
	unlink(path.s);
	buf_reset(&path);
	buf_addf(&path, "%s/log", dir);
	unlink(path.s);
	rmdir(dir);
	buf_free(&c);
	buf_free(&log);
	buf_free(&path);
	fixture_close(&f);
}

/* The report (seed-system.md 1.5): an unknown policy and an explicit none
 * are both listed as none; the seed's table. */
static void test_report_seed_table(void **state)
{
	(void)state;
	struct fixture f;
	struct buf b = BUF_INIT;
	fixture_open(&f, conf, names);
	fixture_logs_done(&f);
	json_t *r = autosnap_report(&f.a, 1769004000);
	json_t *m = json_object_get(r, "managed");
	assert_int_equal(json_array_size(m), 4);
	static const char *const want[][2] = {{"tank/a", "critical"},
	                                      {"tank/a/u", "critical"},
	                                      {"tank/b", "none"},
	                                      {"tank/c", "none"}};
	for (size_t i = 0; i < 4; i++) {
		json_t *d = json_array_get(m, i);
		assert_string_equal(json_string_value(json_object_get(d, "dataset")), want[i][0]);
		assert_string_equal(json_string_value(json_object_get(d, "policy")), want[i][1]);
	}
	/* the unknown policy's retention is none's: all 0 */
	json_t *ret = json_object_get(json_array_get(m, 3), "retention");
	for (int k = 0; k < ZK_N_INTERVALS; k++)
		assert_int_equal(json_integer_value(json_object_get(ret, zk_interval_names[k])), 0);
	assert_int_equal(json_array_size(json_object_get(r, "unmanaged")), 2); /* tank, tank/d */
	autosnap_seed_table(r, &b);
	assert_string_equal(b.s, "Dataset   Policy      Hourly     Daily   Monthly    Yearly\n"
	                         "----------------------------------------------------------\n"
	                         "tank/a    critical      1/36      0/30       0/3       0/5\n"
	                         "tank/a/u  critical      0/36      0/30       0/3       0/5\n"
	                         "tank/b    none           0/0       0/0       0/0       0/0\n"
	                         "tank/c    none           1/0       0/0       0/0       0/0\n"
	                         "----------------------------------------------------------\n"
	                         "Total: 4 datasets, 2 autosnap snapshots\n");
	buf_free(&b);
	json_decref(r);
	/* nothing managed */
	r = json_pack("{s:[], s:[]}", "managed", "unmanaged");
	autosnap_seed_table(r, &b);
	assert_string_equal(b.s, "No datasets found.\n");
	buf_free(&b);
	json_decref(r);
	fixture_close(&f);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_seed_lines),
	    cmocka_unit_test(test_prune_seed_lines),
	    cmocka_unit_test(test_snapshot_hook_order),
	    cmocka_unit_test(test_report_seed_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
