/*
 * view, metrics and api from outputs captured on real OpenZFS
 * (tests/fixtures/2.1 and 2.3): the same code the daemon runs after its
 * zfs calls, with run records and lock files in a temporary directory.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "fmt.h"
#include "metrics.h"
#include "state.h"
#include "view.h"

struct fx {
	struct buf version, zpools, zlist, zget, st_deg, st_fixt, io;
	struct zk_config cfg;
	char dir[64];
	struct view *v;
};

static void fx_load(struct fx *f, const char *fl)
{
	struct buf p = BUF_INIT;
#define READ(b, name)                                                                              \
	do {                                                                                       \
		buf_reset(&p);                                                                     \
		buf_addf(&p, "%s/%s", fl, name);                                                   \
		fixture_read(p.s, &(b));                                                           \
	} while (0)
	READ(f->version, "version.out");
	READ(f->zpools, "zpool-list.out");
	READ(f->zlist, "zfs-list.out");
	READ(f->zget, "zfs-get-all.out");
	READ(f->st_deg, "zpool-status-degraded.out");
	READ(f->st_fixt, "zpool-status.out");
#undef READ
	buf_free(&p);
}

static int setup(void **state, const char *fl)
{
	struct fx *f = calloc(1, sizeof(*f));
	buf_init(&f->version);
	buf_init(&f->zpools);
	buf_init(&f->zlist);
	buf_init(&f->zget);
	buf_init(&f->st_deg);
	buf_init(&f->st_fixt);
	buf_init(&f->io);
	fx_load(f, fl);
	snprintf(f->dir, sizeof(f->dir), "/tmp/zk-test-view-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_init(&f->cfg);
	struct buf conf = BUF_INIT;
	buf_addf(&conf,
	         "[global]\nstate_dir = %s\nlock_dir = %s\n"
	         "[dataset fixt/data]\npolicy = low\ndiscover_children = yes\n"
	         "[pull fixt-host]\nhost = client.example\ndatasets = tank/a\n"
	         "destination = fixt/backups\n",
	         f->dir, f->dir);
	struct zerr e = ZERR_INIT;
	if (config_load_string(&f->cfg, "test.conf", conf.s, &e) < 0)
		fail_msg("config: %s", e.msg);
	buf_free(&conf);
	*state = f;
	return 0;
}

static int setup23(void **state)
{
	return setup(state, "2.3");
}

static int setup21(void **state)
{
	return setup(state, "2.1");
}

static int teardown(void **state)
{
	struct fx *f = *state;
	view_put(f->v);
	config_free(&f->cfg);
	struct buf cmd = BUF_INIT;
	buf_addf(&cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd.s), 0);
	buf_free(&cmd);
	buf_free(&f->version);
	buf_free(&f->zpools);
	buf_free(&f->zlist);
	buf_free(&f->zget);
	buf_free(&f->st_deg);
	buf_free(&f->st_fixt);
	buf_free(&f->io);
	free(f);
	return 0;
}

static void write_file(struct fx *f, const char *name, const char *text)
{
	struct buf p = BUF_INIT;
	struct zerr e = ZERR_INIT;
	buf_addf(&p, "%s/%s", f->dir, name);
	if (state_write_atomic(p.s, text, strlen(text), 0644, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&p);
}

static const char record_ok[] =
    "{\"job\": \"fixt-host\", \"kind\": \"pull\", \"source_host\": \"client.example\","
    " \"destination_host\": \"local\", \"start\": 1795679000, \"end\": 1795679100,"
    " \"result\": \"ok\", \"error\": null, \"datasets\": [{\"source\": \"tank/a\","
    " \"target\": \"fixt/backups/fixt-host/tank/a\", \"result\": \"ok\", \"error\": null,"
    " \"bytes\": 4096, \"start\": 1795679010, \"end\": 1795679070, \"newest\": {\"name\":"
    " \"autosnap_2026-11-26_07:00:00_hourly\", \"guid\": 1, \"creation\": 1795670000},"
    " \"resume_token\": null, \"matched_by_name\": false}]}";

static const char record_failed[] =
    "{\"job\": \"fixt-host\", \"kind\": \"pull\", \"source_host\": \"client.example\","
    " \"destination_host\": \"local\", \"start\": 1795689000, \"end\": 1795689100,"
    " \"result\": \"failed\", \"error\": null, \"datasets\": [{\"source\": \"tank/a\","
    " \"target\": \"fixt/backups/fixt-host/tank/a\", \"result\": \"failed\", \"error\":"
    " \"ssh: connection refused\", \"bytes\": 0, \"start\": 1795689010, \"end\": 1795689020,"
    " \"newest\": null, \"resume_token\": \"1-abc\", \"matched_by_name\": false}]}";

/* as zkeep pull writes it now: the last success carried in the record */
static const char record_failed_carried[] =
    "{\"job\": \"fixt-host\", \"kind\": \"pull\", \"source_host\": \"client.example\","
    " \"destination_host\": \"local\", \"start\": 1795689000, \"end\": 1795689100,"
    " \"result\": \"failed\", \"error\": null, \"datasets\": [{\"source\": \"tank/a\","
    " \"target\": \"fixt/backups/fixt-host/tank/a\", \"result\": \"failed\", \"error\":"
    " \"ssh: connection refused\", \"bytes\": 0, \"start\": 1795689010, \"end\": 1795689020,"
    " \"newest\": null, \"resume_token\": null, \"matched_by_name\": false,"
    " \"last_success\": 1795600000}]}";

static int build(struct fx *f, const struct view *prev, struct view **out)
{
	const char *status[] = {f->st_deg.s, f->st_fixt.s};
	const char *iostat[] = {NULL, "iostat text"};
	struct view_texts t = {f->version.s, f->zpools.s, f->zlist.s, f->zget.s, status, iostat, 0};
	struct view_opts o = {&f->cfg, NULL, "host\"1", 0, 1795680000, false, metrics_render_view};
	struct zerr e = ZERR_INIT;
	int r = view_build(&o, &t, prev, out, &e);
	if (r < 0)
		fail_msg("view_build: %s", e.msg);
	return r;
}

static void test_pools(void **state)
{
	struct fx *f = *state;
	build(f, NULL, &f->v);
	const struct view *v = f->v;
	assert_int_equal(v->pools.n, 2);
	const struct view_pool *deg = view_pool(v, "deg"), *fixt = view_pool(v, "fixt");
	assert_non_null(deg);
	assert_non_null(fixt);
	assert_null(view_pool(v, "nope"));
	assert_true(deg->have_status);
	assert_string_equal(deg->status.state, "DEGRADED");
	assert_true(fixt->have_status);
	assert_string_equal(fixt->scan.type, "scrub");
	assert_string_equal(fixt->scan.state, "finished");
	assert_int_equal(fixt->scan.errors, 0);
	assert_true(fixt->scan.end > 1700000000);
	assert_string_equal(fixt->iostat, "iostat text");
	assert_null(deg->iostat);
	assert_int_equal(fixt->dataset_available, view_dataset(v, "fixt")->pd->obj->available);
	assert_int_equal(deg->dataset_available, ZFS_NONE); /* not in this listing */
}

static void test_datasets(void **state)
{
	struct fx *f = *state;
	build(f, NULL, &f->v);
	const struct view *v = f->v;
	const struct view_dataset *d = view_dataset(v, "fixt/data");
	assert_non_null(d);
	assert_true(d->n_props > 50);
	assert_string_equal(d->mountpoint, "/fixt/data");
	assert_string_equal(d->compressratio, "1.00");
	assert_int_equal(d->pd->snaps.n, 3);
	assert_string_equal(d->pd->policy->name, "low");
	assert_int_equal(d->counts[ZK_HOURLY], 1);
	assert_int_equal(d->counts[ZK_DAILY], 1);
	assert_int_equal(d->comp[ZK_HOURLY].retention, 3);
	assert_int_equal(d->comp[ZK_HOURLY].percent, 33);
	assert_int_equal(d->newest_snapshot, d->pd->snaps.v[d->pd->snaps.n - 1]->creation);
	const struct view_dataset *sp = view_dataset(v, "fixt/data/with space");
	assert_non_null(sp);
	assert_string_equal(sp->pd->policy->name, "low"); /* discovered child */
	assert_string_equal(sp->mountpoint, "-");         /* no properties captured */
	const struct view_dataset *root = view_dataset(v, "fixt");
	assert_null(root->pd->policy);
	assert_int_equal(root->newest_snapshot, ZFS_NONE);
}

static void test_scan_lines(void **state)
{
	(void)state;
	struct view_scan s;
	view_scan_parse("none requested", &s);
	assert_string_equal(s.type, "none");
	view_scan_parse("scrub in progress since Thu Nov 26 07:50:59 2026 1.2G scanned", &s);
	assert_string_equal(s.type, "scrub");
	assert_string_equal(s.state, "in_progress");
	assert_int_equal(s.end, 0);
	view_scan_parse("resilvered 1.50M in 00:00:01 with 2 errors on Thu Nov 26 07:50:59 2026",
	                &s);
	assert_string_equal(s.type, "resilver");
	assert_string_equal(s.state, "finished");
	assert_int_equal(s.errors, 2);
	assert_true(s.end > 0);
	view_scan_parse("scrub canceled on Thu Nov 26 07:50:59 2026", &s);
	assert_string_equal(s.state, "canceled");
	assert_true(s.end > 0);
	view_scan_parse("scrub repaired 0B in 00:00:01 with 0 errors on garbage", &s);
	assert_string_equal(s.state, "finished");
	assert_int_equal(s.end, 0);
	view_scan_parse(NULL, &s);
	assert_string_equal(s.type, "none");
}

/* a family's HELP and TYPE appear exactly once */
static void once(const char *text, const char *family)
{
	struct buf h = BUF_INIT;
	buf_addf(&h, "# HELP %s ", family);
	const char *p = strstr(text, h.s);
	if (!p)
		fail_msg("no HELP for %s", family);
	if (strstr(p + 1, h.s))
		fail_msg("HELP for %s twice", family);
	buf_free(&h);
}

static void has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("metrics lack [%s]", line);
}

static void test_metrics(void **state)
{
	struct fx *f = *state;
	write_file(f, "pull-fixt-host.json", record_ok);
	write_file(f, "zfs-pull-backups-client.example.lock", "4242");
	build(f, NULL, &f->v);
	const char *m = f->v->metrics.s;
	static const char *const seed[] = {
	    "zfs_pool_health",
	    "zfs_pool_capacity_percent",
	    "zfs_pool_size_bytes",
	    "zfs_pool_allocated_bytes",
	    "zfs_pool_free_bytes",
	    "zfs_pool_fragmentation_percent",
	    "zfs_dataset_used_bytes",
	    "zfs_dataset_available_bytes",
	    "zfs_dataset_referenced_bytes",
	    "zfs_snapshot_count",
	    "zfs_snapshot_retention",
	    "zfs_snapshot_compliance_percent",
	    "zfs_pool_state",
	    "zfs_snapshot_last_created_timestamp",
	    "zfs_snapshot_compliant",
	    "zfs_backup_last_success_timestamp",
	    "zfs_backup_duration_seconds",
	    "zfs_backup_lock_held",
	};
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
		once(m, seed[i]);
	/* label escaping of the hostname, the seed's labels */
	has(m, "zfs_pool_health{hostname=\"host\\\"1\",pool=\"deg\",state=\"DEGRADED\"} 0\n");
	has(m, "zfs_pool_health{hostname=\"host\\\"1\",pool=\"fixt\",state=\"ONLINE\"} 1\n");
	has(m, "zfs_pool_state{hostname=\"host\\\"1\",pool=\"deg\",state=\"DEGRADED\"} 1\n");
	has(m, "zfs_pool_state{hostname=\"host\\\"1\",pool=\"deg\",state=\"ONLINE\"} 0\n");
	has(m, "zfs_pool_size_bytes{hostname=\"host\\\"1\",pool=\"fixt\"} 251658240\n");
	has(m, "zfs_pool_fragmentation_percent{hostname=\"host\\\"1\",pool=\"fixt\"} 4\n");
	has(m, "zfs_dataset_used_bytes{hostname=\"host\\\"1\",pool=\"fixt\",dataset=\"\"} "
	       "26497024\n");
	has(m, "zfs_dataset_used_bytes{hostname=\"host\\\"1\",pool=\"fixt\",dataset=\"data/with "
	       "space\"} 98304\n");
	has(m, "zfs_snapshot_count{hostname=\"host\\\"1\",pool=\"fixt\",dataset=\"data\",policy="
	       "\"low\",interval=\"hourly\"} 1\n");
	has(m, "zfs_snapshot_retention{hostname=\"host\\\"1\",pool=\"fixt\",dataset=\"data\","
	       "policy=\"low\",interval=\"daily\"} 7\n");
	has(m, "zfs_snapshot_compliance_percent{hostname=\"host\\\"1\",pool=\"fixt\",dataset="
	       "\"data\",policy=\"low\",interval=\"yearly\"} 100\n");
	has(m, "zfs_snapshot_last_created_timestamp{hostname=\"host\\\"1\",pool=\"fixt\",dataset="
	       "\"data\"} 1795679456\n");
	has(m, "zfs_vdev_checksum_errors{hostname=\"host\\\"1\",pool=\"deg\",vdev=\"/var/tmp/"
	       "deg-b\"} 0\n");
	has(m, "zfs_pool_scan_state{hostname=\"host\\\"1\",pool=\"fixt\",type=\"scrub\",state="
	       "\"finished\"} 1\n");
	const char *bl =
	    "{hostname=\"host\\\"1\",backup_job=\"fixt-host\",kind=\"pull\",source=\"client."
	    "example\",dataset=\"tank/a\",destination=\"local\",target=\"fixt/backups/"
	    "fixt-host/tank/a\"} ";
	struct buf want = BUF_INIT;
	buf_addf(&want, "zfs_backup_last_success_timestamp%s1795679070\n", bl);
	has(m, want.s);
	buf_reset(&want);
	buf_addf(&want, "zfs_backup_duration_seconds%s60\n", bl);
	has(m, want.s);
	buf_free(&want);
	/* the lock file is there but nobody holds it */
	has(m, "zfs_backup_lock_held{hostname=\"host\\\"1\",kind=\"pull\",host=\"client.example\"} "
	       "0\n");
	/* the configured pull's lock is keyed by its name, as zkeep pull takes
	 * it (zfs-pull-backups-fixt-host.lock), not by its host */
	has(m, "zfs_backup_lock_held{hostname=\"host\\\"1\",kind=\"pull\",host=\"fixt-host\"} 0\n");
	/* the one attention rule (lib/attention), per object and check, at the
	 * collection's time; and its thresholds */
	once(m, "zkeep_attention_state");
	once(m, "zkeep_attention_threshold");
	has(m, "zkeep_attention_state{hostname=\"host\\\"1\",kind=\"pool\",object=\"deg\","
	       "check=\"health\"} 2\n");
	has(m, "zkeep_attention_state{hostname=\"host\\\"1\",kind=\"pool\",object=\"fixt\","
	       "check=\"capacity\"} 0\n");
	has(m, "zkeep_attention_state{hostname=\"host\\\"1\",kind=\"backup\",object=\"fixt-host:"
	       "tank/a\",check=\"age\"} 0\n");
	has(m, "zkeep_attention_state{hostname=\"host\\\"1\",kind=\"backup\",object=\"fixt-host:"
	       "tank/a\",check=\"failed\"} 0\n");
	has(m, "zkeep_attention_state{hostname=\"host\\\"1\",kind=\"snapshots\",object=\"fixt/"
	       "data\",check=\"compliance\"} ");
	has(m, "zkeep_attention_threshold{hostname=\"host\\\"1\",name=\"backup_age_pull\"} "
	       "50400\n");
	has(m, "zkeep_attention_threshold{hostname=\"host\\\"1\",name=\"pool_capacity_critical\"} "
	       "90\n");
}

/* A seed job holding a job's lock (its PID file, no flock) shows as held,
 * by the seed; a run that skipped for it shows when, from its record. */
static void test_metrics_seed_lock(void **state)
{
	struct fx *f = *state;
	struct buf rec = BUF_INIT, lock = BUF_INIT, want = BUF_INIT;
	buf_addf(&rec, "%.*s, \"lock_held\": {\"at\": 1795680500, \"pid\": 77, \"by\": \"seed\"}}",
	         (int)strlen(record_ok) - 1, record_ok);
	write_file(f, "pull-fixt-host.json", rec.s);
	buf_addf(&lock, "%s/zfs-pull-backups-fixt-host.lock", f->dir);
	char said[16];
	pid_t seed = unit_seed_job(lock.s, "30", said, sizeof(said));
	assert_string_equal(said, "took"); /* its PID is in the file */
	build(f, NULL, &f->v);
	kill(seed, SIGKILL);
	waitpid(seed, NULL, 0);
	const char *m = f->v->metrics.s;
	const char *l = "{hostname=\"host\\\"1\",kind=\"pull\",host=\"fixt-host\"} ";
	buf_addf(&want, "zfs_backup_lock_held%s1\n", l);
	has(m, want.s);
	buf_reset(&want);
	buf_addf(&want, "zfs_backup_lock_held_by_seed%s1\n", l);
	has(m, want.s);
	buf_reset(&want);
	buf_addf(&want, "zfs_backup_lock_holder_pid%s%ld\n", l, (long)seed);
	has(m, want.s);
	has(m, "zfs_backup_lock_skipped_timestamp_seconds{hostname=\"host\\\"1\",backup_job="
	       "\"fixt-host\",kind=\"pull\"} 1795680500\n");
	buf_free(&rec);
	buf_free(&lock);
	buf_free(&want);
}

/* m has the notification family's sample for job, kind and channel. */
static void has_note_sample(const char *m, const char *family, const char *job, const char *kind,
                            const char *channel, long long value)
{
	struct buf line = BUF_INIT;
	buf_addf(&line,
	         "%s{hostname=\"host\\\"1\",backup_job=\"%s\",kind=\"%s\",channel=\"%s\"} "
	         "%lld\n",
	         family, job, kind, channel, value);
	has(m, line.s);
	buf_free(&line);
}

/* What the last run's notifications did (its record's notifications):
 * a gauge per channel of success, time and attempts; and the totals over
 * the job's runs (notification_totals) as two counters per channel. */
static void test_metrics_notifications(void **state)
{
	struct fx *f = *state;
	struct buf rec = BUF_INIT;
	buf_addf(&rec,
	         "%.*s, \"notifications\": [{\"channel\": \"healthcheck\", \"ok\": true,"
	         " \"error\": null, \"at\": 1795679101, \"attempts\": 1}, {\"channel\":"
	         " \"webhook\", \"ok\": false, \"error\": \"HTTP 500\", \"at\": 1795679109,"
	         " \"attempts\": 3}], \"notification_totals\": {\"webhook\": {\"sent\": 41,"
	         " \"failed\": 2}, \"healthcheck\": {\"sent\": 43, \"failed\": 0}}}",
	         (int)strlen(record_ok) - 1, record_ok);
	write_file(f, "pull-fixt-host.json", rec.s);
	build(f, NULL, &f->v);
	const char *m = f->v->metrics.s;
	has(m, "# TYPE zkeep_notification_success gauge\n");
	has(m, "# HELP zkeep_notification_attempts ");
	static const struct {
		const char *family, *channel;
		long long value;
	} want[] = {
	    {"zkeep_notification_success", "healthcheck", 1},
	    {"zkeep_notification_success", "webhook", 0},
	    {"zkeep_notification_timestamp_seconds", "webhook", 1795679109},
	    {"zkeep_notification_attempts", "webhook", 3},
	    {"zkeep_notifications_sent_total", "webhook", 41},
	    {"zkeep_notifications_failed_total", "webhook", 2},
	    {"zkeep_notifications_sent_total", "healthcheck", 43},
	};
	has(m, "# TYPE zkeep_notifications_sent_total counter\n");
	has(m, "# TYPE zkeep_notifications_failed_total counter\n");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		has_note_sample(m, want[i].family, "fixt-host", "pull", want[i].channel,
		                want[i].value);
	buf_free(&rec);
}

/* A snapshot or prune timer's record (what its check was told, written by
 * zkeep snapshot and zkeep prune) gives the same families as a job's, the
 * timer's name as backup_job and its kind; a job's families are not
 * disturbed by it (no freshness or dataset series for a timer). */
static void test_metrics_timer_notifications(void **state)
{
	struct fx *f = *state;
	write_file(f, "timer-snapshot-hourly.json",
	           "{\"version\": 1, \"job\": \"snapshot-hourly\", \"kind\": \"snapshot\","
	           " \"start\": 1795679000, \"end\": 1795679004, \"result\": \"failed\","
	           " \"error\": null, \"keep\": null, \"datasets\": [], \"notifications\":"
	           " [{\"channel\": \"healthcheck\", \"ok\": false, \"error\": \"HTTP 503\","
	           " \"at\": 1795679005, \"attempts\": 3}], \"notification_totals\":"
	           " {\"healthcheck\": {\"sent\": 7, \"failed\": 1}}}");
	build(f, NULL, &f->v);
	const char *m = f->v->metrics.s;
	static const struct {
		const char *family;
		long long value;
	} want[] = {
	    {"zkeep_notification_success", 0},
	    {"zkeep_notification_timestamp_seconds", 1795679005},
	    {"zkeep_notification_attempts", 3},
	    {"zkeep_notifications_sent_total", 7},
	    {"zkeep_notifications_failed_total", 1},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		has_note_sample(m, want[i].family, "snapshot-hourly", "snapshot", "healthcheck",
		                want[i].value);
	assert_null(strstr(m, "zfs_backup_last_success_timestamp_seconds{hostname=\"host\\\"1\","
	                      "backup_job=\"snapshot-hourly\""));
	assert_int_equal(f->v->warnings.n, 0);
}

/* The snapshot hooks' state file (as zkeep snapshot writes it) becomes
 * zkeep_snapshot_hook_failed; without one there is no such family. */
static void test_metrics_snapshot_hooks(void **state)
{
	struct fx *f = *state;
	build(f, NULL, &f->v);
	assert_null(strstr(f->v->metrics.s, "zkeep_snapshot_hook_failed"));
	view_put(f->v);
	write_file(f, "snapshot-hooks-hourly.json",
	           "{\"version\": 1, \"interval\": \"hourly\", \"time\": 1795680000,"
	           " \"datasets\": [{\"dataset\": \"fixt/data\", \"pre_snapshot\": \"timeout\","
	           " \"snapshot\": \"skipped\", \"post_snapshot\": \"ok\"},"
	           " {\"dataset\": \"fixt/other\", \"pre_snapshot\": null,"
	           " \"snapshot\": \"ok\", \"post_snapshot\": \"exit\"}]}");
	build(f, NULL, &f->v);
	const char *m = f->v->metrics.s;
	has(m, "# TYPE zkeep_snapshot_hook_failed gauge\n");
	has(m, "zkeep_snapshot_hook_failed{hostname=\"host\\\"1\",dataset=\"fixt/data\","
	       "hook=\"pre_snapshot\",interval=\"hourly\"} 1\n");
	has(m, "zkeep_snapshot_hook_failed{hostname=\"host\\\"1\",dataset=\"fixt/data\","
	       "hook=\"post_snapshot\",interval=\"hourly\"} 0\n");
	has(m, "zkeep_snapshot_hook_failed{hostname=\"host\\\"1\",dataset=\"fixt/other\","
	       "hook=\"post_snapshot\",interval=\"hourly\"} 1\n");
	assert_null(strstr(m, "dataset=\"fixt/other\",hook=\"pre_snapshot\""));
}

static void test_backups_carry_success(void **state)
{
	struct fx *f = *state;
	write_file(f, "pull-fixt-host.json", record_ok);
	struct view *v1 = NULL, *v2 = NULL;
	build(f, NULL, &v1);
	assert_int_equal(v1->n_backups, 1);
	assert_int_equal(v1->backups[0].last_success, 1795679070);
	write_file(f, "pull-fixt-host.json", record_failed);
	write_file(f, "push-broken.json", "{not json");
	build(f, v1, &v2);
	assert_int_equal(v2->n_backups, 1);
	assert_string_equal(v2->backups[0].result, "failed");
	assert_int_equal(v2->backups[0].last_success, 1795679070); /* carried over */
	assert_true(v2->backups[0].resume_pending);
	assert_int_equal(v2->warnings.n, 1); /* the broken record, named */
	assert_non_null(strstr(v2->warnings.v[0], "push-broken.json"));
	struct view *v3 = NULL;
	build(f, NULL, &v3); /* a fresh daemon does not know the old success */
	assert_int_equal(v3->backups[0].last_success, 0);
	assert_null(strstr(v3->metrics.s, "zfs_backup_last_success_timestamp{"));
	/* unless the record carries it: then a fresh daemon knows it too */
	struct view *v4 = NULL;
	write_file(f, "pull-fixt-host.json", record_failed_carried);
	build(f, NULL, &v4);
	assert_int_equal(v4->backups[0].last_success, 1795600000);
	assert_non_null(strstr(v4->metrics.s, "zfs_backup_last_success_timestamp{"));
	view_put(v1);
	view_put(v2);
	view_put(v3);
	view_put(v4);
}

/* Numbers at the edges of int64 in a record (UBSan aborted on the ages and
 * rates computed from them): taken as unknown, each named in a warning. */
static void test_record_numbers_out_of_range(void **state)
{
	struct fx *f = *state;
	write_file(f, "pull-fixt-host.json",
	           "{\"job\": \"fixt-host\", \"kind\": \"pull\", \"start\": -9223372036854775808,"
	           " \"end\": 9223372036854775807, \"result\": \"ok\", \"datasets\": [{\"source\":"
	           " \"tank/a\", \"target\": \"fixt/backups/fixt-host/tank/a\", \"result\": \"ok\","
	           " \"bytes\": -1, \"start\": 9223372036854775807, \"end\": -9223372036854775808,"
	           " \"newest\": {\"name\": \"s\", \"creation\": 1e300}, \"last_success\":"
	           " 9007199254740993}]}");
	struct view *v = NULL;
	build(f, NULL, &v);
	assert_int_equal(v->n_backups, 1);
	const struct view_backup *b = &v->backups[0];
	assert_int_equal(b->run_start, 0);
	assert_int_equal(b->run_end, 0);
	assert_int_equal(b->start, 0);
	assert_int_equal(b->end, 0);
	assert_int_equal(b->bytes, 0);
	assert_int_equal(b->newest_creation, 0);
	assert_int_equal(b->last_success, 0);
	assert_int_equal(v->warnings.n, 7);
	assert_non_null(strstr(v->warnings.v[0], "'pull-fixt-host.json': 'start'"));
	view_put(v);
}

static void test_fragmentation_dash(void **state)
{
	struct fx *f = *state;
	buf_reset(&f->zpools);
	buf_adds(&f->zpools, "fixt\t251658240\t7954432\t243703808\t-\t3\tONLINE\n");
	const char *status[] = {NULL};
	struct view_texts t = {f->version.s, f->zpools.s, f->zlist.s, NULL, status, NULL, 0};
	struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, metrics_render_view};
	struct zerr e = ZERR_INIT;
	assert_int_equal(view_build(&o, &t, NULL, &f->v, &e), 0);
	assert_null(strstr(f->v->metrics.s, "zfs_pool_fragmentation_percent{"));
	has(f->v->metrics.s, "zfs_pool_capacity_percent{hostname=\"h\",pool=\"fixt\"} 3\n");
	assert_false(view_pool(f->v, "fixt")->have_status);
	struct view_status st = {0};
	struct api_ctx c = {f->v, &st, "h", NULL, 1795680000};
	struct http_route r = {ROUTE_POOL, (char *)"fixt"};
	struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 200);
	json_t *j = json_loads(res.body.s, 0, NULL);
	assert_true(json_is_null(json_object_get(j, "fragmentation_percent")));
	assert_string_equal(json_string_value(json_object_get(j, "free_human")), "232.41 MB");
	json_decref(j);
	r.id = ROUTE_POOL_STATUS; /* no status collected: the seed's 404 */
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 404);
	assert_string_equal(res.body.s, "{\"detail\":\"Could not get status for pool 'fixt'\"}");
	buf_free(&res.body);
}

static void test_bad_listing_fails(void **state)
{
	struct fx *f = *state;
	struct view_texts t = {
	    f->version.s, "fixt\tnot a number\n", f->zlist.s, NULL, NULL, NULL, 0};
	struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, metrics_render_view};
	struct zerr e = ZERR_INIT;
	struct view *v = NULL;
	assert_true(view_build(&o, &t, NULL, &v, &e) < 0);
	assert_null(v);
	assert_true(strlen(e.msg) > 0);
}

/* ---- api over the view ----------------------------------------------- */

/* A streamed body, read in pieces of max bytes (any size must give the
 * same text). */
static void drain(struct http_response *res, size_t max)
{
	char piece[4096];
	size_t n;
	assert_true(max <= sizeof(piece));
	buf_reset(&res->body);
	while ((n = api_stream_read(res->stream, piece, max)) > 0)
		buf_add(&res->body, piece, n);
	api_stream_free(res->stream);
	res->stream = NULL;
}

/* Every "guid": in a body is the unsigned guid of a listed object (jansson
 * would print half of them negative, and cannot read them back): checked,
 * then blanked to 0 so that the body parses. */
static void guids_checked(struct fx *f, struct buf *body)
{
	for (char *p = body->s; (p = strstr(p, "\"guid\":"));) {
		p += 7;
		char *end;
		errno = 0;
		unsigned long long g = strtoull(p, &end, 10);
		assert_int_equal(errno, 0);
		assert_true(end > p && *p != '-');
		bool found = false;
		for (size_t i = 0; i < f->v->list.n && !found; i++)
			found = f->v->list.v[i].guid == g;
		if (!found)
			fail_msg("guid %llu is no listed object's", g);
		*p = '0';
		memset(p + 1, ' ', (size_t)(end - p - 1));
	}
}

/* The OpenAPI path of each route, for the bodies dumped below. */
static const char *route_template(enum http_route_id id)
{
	switch (id) {
	case ROUTE_ROOT:
		return "/";
	case ROUTE_HEALTH:
		return "/api/v1/health";
	case ROUTE_POOLS:
		return "/api/v1/pools";
	case ROUTE_POOL:
		return "/api/v1/pools/{pool}";
	case ROUTE_POOL_STATUS:
		return "/api/v1/pools/{pool}/status";
	case ROUTE_POOL_IOSTAT:
		return "/api/v1/pools/{pool}/iostat";
	case ROUTE_DATASETS:
		return "/api/v1/datasets";
	case ROUTE_DATASET:
		return "/api/v1/datasets/{path}";
	case ROUTE_DATASET_SNAPSHOTS:
		return "/api/v1/datasets/{path}/snapshots";
	case ROUTE_SNAPSHOTS:
		return "/api/v1/snapshots";
	case ROUTE_SNAPSHOTS_ALL:
		return "/api/v1/snapshots/_all";
	case ROUTE_SNAPSHOTS_DATASET:
		return "/api/v1/snapshots/{path}";
	case ROUTE_BACKUPS:
		return "/api/v1/backups";
	case ROUTE_BACKUP_LOGS:
		return "/api/v1/backups/logs";
	case ROUTE_BACKUP_LOG:
		return "/api/v1/backups/logs/{file}";
	default:
		return NULL;
	}
}

/* With ZK_TEST_API_BODIES=DIR, every JSON body a test reads is also written
 * to DIR, listed in DIR/bodies.tsv (path template, status, file), for
 * tests/host/t_api_schema.sh to validate against docs/schema/ with a real
 * JSON Schema validator. */
static void dump_body(enum http_route_id id, const char *arg, int status, const struct buf *body)
{
	static unsigned seq;
	const char *dir = getenv("ZK_TEST_API_BODIES"), *tpl = route_template(id);
	if (!dir || !*dir || !tpl)
		return;
	struct buf p = BUF_INIT, line = BUF_INIT;
	buf_addf(&p, "%s/body-%u-%u.json", dir, (unsigned)getpid(), seq++);
	FILE *fp = fopen(p.s, "w");
	assert_non_null(fp);
	fwrite(body->s, 1, body->len, fp);
	fclose(fp);
	buf_addf(&line, "%s\t%d\t%s\t%s\n", tpl, status, p.s, arg ? arg : "");
	buf_reset(&p);
	buf_addf(&p, "%s/bodies.tsv", dir);
	fp = fopen(p.s, "a");
	assert_non_null(fp);
	fputs(line.s, fp);
	fclose(fp);
	buf_free(&p);
	buf_free(&line);
}

/* The route's answer in res, a streamed body read into res->body (in
 * 4096-byte pieces and in 1-byte pieces, which must give the same text).
 * Returns whether the body was streamed. */
static bool answer(struct fx *f, enum http_route_id id, const char *arg, const char *lines,
                   struct http_response *res)
{
	struct view_status st = {0};
	struct api_ctx c = {f->v, &st, "h", f->dir, 1795680000};
	struct http_route r = {id, (char *)arg};
	api_handle(&c, &r, lines, res);
	if (!res->stream)
		return false;
	struct buf whole = BUF_INIT;
	drain(res, 4096);
	buf_add(&whole, res->body.s, res->body.len);
	api_handle(&c, &r, lines, res);
	drain(res, 1);
	assert_string_equal(res->body.s, whole.s);
	buf_free(&whole);
	return true;
}

static json_t *get(struct fx *f, enum http_route_id id, const char *arg, const char *lines,
                   int want_status)
{
	struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
	answer(f, id, arg, lines, &res);
	/* the snapshot lists, written without jansson, may hold guids above
	 * INT64_MAX (jansson, reading them back below, refuses those) */
	if (id == ROUTE_DATASET_SNAPSHOTS || id == ROUTE_SNAPSHOTS_DATASET ||
	    id == ROUTE_SNAPSHOTS_ALL)
		guids_checked(f, &res.body);
	if (res.status != want_status)
		fail_msg("route %d '%s': status %d, want %d: %s", id, arg ? arg : "", res.status,
		         want_status, res.body.s);
	assert_string_equal(res.content_type, "application/json");
	json_error_t je;
	json_t *j = json_loads(res.body.s, 0, &je);
	if (!j)
		fail_msg("not JSON: %s: %s", je.text, res.body.s);
	dump_body(id, arg, res.status, &res.body);
	buf_free(&res.body);
	return j;
}

#define S(j, k) json_string_value(json_object_get((j), (k)))
#define I(j, k) json_integer_value(json_object_get((j), (k)))

static void test_api(void **state)
{
	struct fx *f = *state;
	write_file(f, "pull-fixt-host.json", record_ok);
	build(f, NULL, &f->v);
	json_t *j = get(f, ROUTE_POOLS, NULL, NULL, 200);
	assert_int_equal(I(j, "count"), 2);
	json_t *p = json_array_get(json_object_get(j, "pools"), 1);
	assert_string_equal(S(p, "name"), "fixt");
	assert_string_equal(S(p, "health"), "ONLINE");
	assert_int_equal(I(p, "capacity_percent"), 3);
	assert_int_equal(I(p, "fragmentation_percent"), 4);
	assert_string_equal(S(p, "size_human"), "240.00 MB");
	json_decref(j);
	json_decref(get(f, ROUTE_POOL, "nope", NULL, 404));
	j = get(f, ROUTE_POOL_STATUS, "deg", NULL, 200);
	assert_string_equal(S(j, "state"), "DEGRADED");
	assert_int_equal(json_array_size(json_object_get(j, "config")), 4);
	assert_string_equal(S(json_array_get(json_object_get(j, "config"), 3), "state"), "OFFLINE");
	json_decref(j);
	/* no iostat collected: the seed's 404 (it was a 503) */
	j = get(f, ROUTE_POOL_IOSTAT, "deg", NULL, 404);
	assert_string_equal(S(j, "detail"), "Could not get I/O stats for pool 'deg'");
	json_decref(j);
	j = get(f, ROUTE_POOL_IOSTAT, "fixt", NULL, 200);
	assert_string_equal(S(j, "iostat"), "iostat text");
	json_decref(j);

	j = get(f, ROUTE_DATASETS, NULL, NULL, 200);
	assert_int_equal(I(j, "count"), 6);
	json_decref(j);
	j = get(f, ROUTE_DATASET, "fixt/data", NULL, 200);
	assert_string_equal(S(json_object_get(j, "properties"), "mountpoint"), "/fixt/data");
	json_decref(j);
	json_decref(get(f, ROUTE_DATASET, "fixt/nope", NULL, 404));
	j = get(f, ROUTE_DATASET_SNAPSHOTS, "fixt/data", NULL, 200);
	assert_int_equal(I(j, "count"), 3);
	json_t *s0 = json_array_get(json_object_get(j, "snapshots"), 0);
	assert_string_equal(S(s0, "name"), "autosnap_2026-01-21_14:00:00_hourly");
	assert_string_equal(S(s0, "full_name"), "fixt/data@autosnap_2026-01-21_14:00:00_hourly");
	assert_string_equal(S(s0, "used_human"), "0.00 B");
	assert_string_equal(S(s0, "creation_iso"), "2026-11-26T07:50:56Z");
	json_decref(j);
	j = get(f, ROUTE_SNAPSHOTS_DATASET, "fixt/data/with space", NULL, 200);
	assert_int_equal(I(j, "snapshot_count"), 2);
	json_decref(j);
	j = get(f, ROUTE_SNAPSHOTS_ALL, NULL, NULL, 200);
	assert_int_equal(I(j, "snapshot_count"), 8);
	json_decref(j);
	{ /* a guid above INT64_MAX, as zfs printed it (jansson made it negative) */
		struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
		answer(f, ROUTE_DATASET_SNAPSHOTS, "fixt/data", NULL, &res);
		assert_non_null(strstr(res.body.s,
		                       "\"full_name\":\"fixt/data@autosnap_2026-01-22_00:"
		                       "15:00_daily\",\"creation_timestamp\":1795679456,"));
		assert_non_null(
		    strstr(res.body.s, "\"guid\":13054426998380856122,\"createtxg\":19}"));
		buf_free(&res.body);
	}
	j = get(f, ROUTE_SNAPSHOTS, NULL, NULL, 200);
	assert_string_equal(S(j, "hostname"), "h");
	assert_int_equal(I(json_object_get(j, "summary"), "total_datasets"), 3);
	assert_int_equal(I(json_object_get(j, "summary"), "low_compliance_count"), 3);
	json_decref(j);
	j = get(f, ROUTE_BACKUPS, NULL, NULL, 200);
	json_t *run = json_array_get(json_object_get(j, "runs"), 0);
	assert_string_equal(S(run, "last_result"), "ok");
	assert_int_equal(I(run, "lag_seconds"), 10000);
	assert_int_equal(I(run, "last_success_timestamp"), 1795679070);
	json_decref(j);
	j = get(f, ROUTE_HEALTH, NULL, NULL, 200);
	assert_string_equal(S(j, "status"), "healthy");
	assert_string_equal(S(j, "service"), "zfs-api");
	json_decref(j);
}

static void test_api_before_collection(void **state)
{
	struct fx *f = *state;
	json_t *j = get(f, ROUTE_POOLS, NULL, NULL, 503);
	assert_non_null(S(j, "detail"));
	json_decref(j);
	json_decref(get(f, ROUTE_HEALTH, NULL, NULL, 200));
	json_decref(get(f, ROUTE_ROOT, NULL, NULL, 200));
	json_decref(get(f, ROUTE_BACKUP_LOGS, NULL, NULL, 200));
}

static void test_logs(void **state)
{
	struct fx *f = *state;
	write_file(f, "pull.log", "one\ntwo\nthree\n");
	write_file(f, "noeol.log", "a\nb");
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/link.log", f->dir);
	assert_int_equal(symlink("/etc/passwd", p.s), 0);
	buf_free(&p);
	json_t *j = get(f, ROUTE_BACKUP_LOGS, NULL, NULL, 200);
	assert_true(json_is_true(json_object_get(j, "available")));
	assert_int_equal(I(j, "log_count"), 2); /* not the symlink, not the lock/records */
	json_decref(j);
	j = get(f, ROUTE_BACKUP_LOG, "pull.log", "2", 200);
	assert_string_equal(S(j, "content"), "two\nthree");
	assert_int_equal(I(j, "lines_returned"), 2);
	assert_int_equal(I(j, "total_lines"), 3);
	assert_int_equal(I(j, "lines_requested"), 2);
	json_decref(j);
	j = get(f, ROUTE_BACKUP_LOG, "pull.log", NULL, 200);
	assert_string_equal(S(j, "content"), "one\ntwo\nthree");
	json_decref(j);
	j = get(f, ROUTE_BACKUP_LOG, "noeol.log", "1", 200);
	assert_string_equal(S(j, "content"), "b");
	assert_int_equal(I(j, "total_lines"), 2);
	json_decref(j);
	json_decref(get(f, ROUTE_BACKUP_LOG, "link.log", NULL, 404));
	json_decref(get(f, ROUTE_BACKUP_LOG, "..", NULL, 400));
	/* not an integer: the seed's (FastAPI's) 422 with its validation body
	 * (it was a 400); out of range is clamped */
	j = get(f, ROUTE_BACKUP_LOG, "pull.log", "abc", 422);
	json_t *e0 = json_array_get(json_object_get(j, "detail"), 0);
	assert_string_equal(S(e0, "type"), "int_parsing");
	assert_string_equal(json_string_value(json_array_get(json_object_get(e0, "loc"), 1)),
	                    "lines");
	assert_string_equal(S(e0, "input"), "abc");
	json_decref(j);
	j = get(f, ROUTE_BACKUP_LOG, "pull.log", "0", 200);
	assert_string_equal(S(j, "content"), "three");
	assert_int_equal(I(j, "lines_requested"), 1);
	json_decref(j);
	json_decref(get(f, ROUTE_BACKUP_LOG, "missing.log", NULL, 404));
}

/* Large logs: at most the last MiB is read, whole lines where there is
 * one; total_lines is counted once and then over what was appended. */
static void test_logs_large(void **state)
{
	struct fx *f = *state;
	struct buf t = BUF_INIT;
	for (int i = 0; i < 1000; i++) { /* 1000 lines of 2000 bytes */
		buf_addf(&t, "%04d", i);
		for (int k = 4; k < 1999; k++)
			buf_addch(&t, 'x');
		buf_addch(&t, '\n');
	}
	write_file(f, "big.log", t.s);
	json_t *j = get(f, ROUTE_BACKUP_LOG, "big.log", "1000", 200);
	assert_int_equal(I(j, "total_lines"), 1000);
	assert_int_equal(I(j, "lines_returned"), 524); /* 1 MiB / 2000, whole lines */
	assert_true(json_is_true(json_object_get(j, "truncated")));
	assert_int_equal(strncmp(S(j, "content"), "0476x", 5), 0);
	json_decref(j);
	j = get(f, ROUTE_BACKUP_LOG, "big.log", "3", 200);
	assert_int_equal(I(j, "lines_returned"), 3);
	assert_true(json_is_false(json_object_get(j, "truncated")));
	json_decref(j);
	/* appended: counted from where the last count ended */
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/big.log", f->dir);
	FILE *fp = fopen(p.s, "a");
	assert_non_null(fp);
	fputs("one more\nand a last", fp);
	fclose(fp);
	j = get(f, ROUTE_BACKUP_LOG, "big.log", "2", 200);
	assert_int_equal(I(j, "total_lines"), 1002);
	assert_string_equal(S(j, "content"), "one more\nand a last");
	json_decref(j);
	/* replaced by a shorter file (same inode): counted again */
	assert_int_equal(truncate(p.s, 4000), 0);
	j = get(f, ROUTE_BACKUP_LOG, "big.log", "5", 200);
	assert_int_equal(I(j, "total_lines"), 2);
	json_decref(j);
	/* the window starts exactly at a line start: that line is whole */
	buf_reset(&t);
	for (int i = 0; i < 1024; i++) { /* 1024 lines of 2048 bytes: 512 in the MiB */
		buf_addf(&t, "%04d", i);
		for (int k = 4; k < 2047; k++)
			buf_addch(&t, 'y');
		buf_addch(&t, '\n');
	}
	write_file(f, "even.log", t.s);
	j = get(f, ROUTE_BACKUP_LOG, "even.log", "1000", 200);
	assert_int_equal(I(j, "lines_returned"), 512);
	assert_true(json_is_true(json_object_get(j, "truncated"))); /* lines left out */
	assert_int_equal(strncmp(S(j, "content"), "0512y", 5), 0);
	json_decref(j);
	/* one line of 2 MiB: its last MiB, flagged */
	buf_reset(&t);
	for (int i = 0; i < 2 << 20; i++)
		buf_addch(&t, 'a' + i % 26);
	write_file(f, "one.log", t.s);
	j = get(f, ROUTE_BACKUP_LOG, "one.log", "10", 200);
	assert_int_equal(I(j, "total_lines"), 1);
	assert_int_equal(I(j, "lines_returned"), 1);
	assert_true(json_is_true(json_object_get(j, "truncated")));
	assert_int_equal(strlen(S(j, "content")), 1 << 20);
	json_decref(j);
	buf_free(&p);
	buf_free(&t);
}

/* o's first keys are want (NULL-terminated), in that order: the seed's
 * fields first, zkeep's own only after them. */
static void keys_are(json_t *o, const char *const *want)
{
	assert_true(json_is_object(o));
	void *it = json_object_iter(o);
	for (size_t i = 0; want[i]; i++) {
		if (!it)
			fail_msg("key %zu: '%s' missing", i, want[i]);
		if (strcmp(json_object_iter_key(it), want[i]))
			fail_msg("key %zu: '%s', want '%s'", i, json_object_iter_key(it), want[i]);
		it = json_object_iter_next(o, it);
	}
}

/* The seed's *_human form: "%.2f U", U one of B KB MB GB TB PB EB. */
static void human_ok(const char *s)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
	assert_non_null(s);
	size_t d = strspn(s, "0123456789");
	if (!d || s[d] != '.' || strspn(s + d + 1, "0123456789") != 2 || s[d + 3] != ' ')
		fail_msg("not a human size: '%s'", s);
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(s + d + 4, units[i]))
			return;
	fail_msg("not a human unit: '%s'", s);
}

#define KEYS(o, ...)                                                                               \
	do {                                                                                       \
		static const char *const want_[] = {__VA_ARGS__, NULL};                            \
		keys_are((o), want_);                                                              \
	} while (0)
#define IS_INT(j, k)  assert_true(json_is_integer(json_object_get((j), (k))))
#define IS_STR(j, k)  assert_true(json_is_string(json_object_get((j), (k))))
#define IS_NULL(j, k) assert_true(json_is_null(json_object_get((j), (k))))
#define ABSENT(j, k)  assert_null(json_object_get((j), (k)))

/* Every endpoint of seed-system.md section 5, field by field: names, key
 * order, types, nulls and optional fields. */
static void test_api_seed_shapes(void **state)
{
	struct fx *f = *state;
	write_file(f, "pull-fixt-host.json", record_ok);
	build(f, NULL, &f->v);

	json_t *j = get(f, ROUTE_ROOT, NULL, NULL, 200);
	KEYS(j, "message", "version", "documentation", "openapi");
	assert_string_equal(S(j, "message"), "ZFS Status API");
	assert_string_equal(S(j, "version"), "1.0.0");
	assert_string_equal(S(j, "documentation"), "/api/docs");
	assert_string_equal(S(j, "openapi"), "/api/openapi.json");
	json_decref(j);
	j = get(f, ROUTE_HEALTH, NULL, NULL, 200);
	KEYS(j, "status", "service", "version", "timestamp");
	assert_string_equal(S(j, "version"), "1.0.0");
	/* "now" without microseconds (0 here) has no fraction, as isoformat() */
	assert_string_equal(S(j, "timestamp"), "2026-11-26T08:00:00Z");
	json_decref(j);

	j = get(f, ROUTE_POOLS, NULL, NULL, 200);
	KEYS(j, "pools", "count");
	json_t *p = json_array_get(json_object_get(j, "pools"), 1);
	KEYS(p, "name", "health", "size_bytes", "allocated_bytes", "free_bytes", "capacity_percent",
	     "fragmentation_percent", "size_human", "allocated_human", "free_human");
	IS_INT(p, "size_bytes");
	IS_INT(p, "capacity_percent");
	IS_INT(p, "fragmentation_percent");
	human_ok(S(p, "size_human"));
	human_ok(S(p, "allocated_human"));
	human_ok(S(p, "free_human"));
	json_decref(j);
	j = get(f, ROUTE_POOL, "fixt", NULL, 200);
	KEYS(j, "name", "health", "size_bytes", "allocated_bytes", "free_bytes", "capacity_percent",
	     "fragmentation_percent", "size_human", "allocated_human", "free_human");
	json_decref(j);
	j = get(f, ROUTE_POOL, "nope", NULL, 404);
	KEYS(j, "detail");
	assert_string_equal(S(j, "detail"), "Pool 'nope' not found");
	json_decref(j);
	j = get(f, ROUTE_POOL, "_version", NULL, 404);
	json_decref(j);

	j = get(f, ROUTE_POOL_STATUS, "fixt", NULL, 200);
	KEYS(j, "pool", "state", "status", "action", "scan", "config", "errors", "raw_output");
	assert_string_equal(S(j, "state"), "ONLINE");
	IS_NULL(j, "status");
	IS_NULL(j, "action");
	assert_string_equal(S(j, "errors"), "No known data errors");
	json_t *scan = json_object_get(j, "scan");
	/* "scrub repaired ... with 0 errors on ...": named, no status word */
	KEYS(scan, "type", "errors");
	assert_string_equal(S(scan, "type"), "scrub");
	ABSENT(scan, "status");
	assert_int_equal(I(scan, "errors"), 0);
	json_t *v0 = json_array_get(json_object_get(j, "config"), 0);
	KEYS(v0, "name", "state", "read_errors", "write_errors", "checksum_errors");
	assert_string_equal(S(v0, "name"), "fixt");
	IS_INT(v0, "checksum_errors");
	json_decref(j);
	j = get(f, ROUTE_POOL_STATUS, "deg", NULL, 200);
	assert_string_equal(S(j, "state"), "DEGRADED");
	IS_STR(j, "status"); /* the first line only */
	assert_null(strchr(S(j, "status"), '\n'));
	IS_STR(j, "action");
	json_decref(j);
	j = get(f, ROUTE_POOL_STATUS, "nope", NULL, 404);
	assert_string_equal(S(j, "detail"), "Could not get status for pool 'nope'");
	json_decref(j);
	j = get(f, ROUTE_POOL_IOSTAT, "fixt", NULL, 200);
	KEYS(j, "pool", "iostat");
	json_decref(j);
	j = get(f, ROUTE_POOL_IOSTAT, "nope", NULL, 404);
	assert_string_equal(S(j, "detail"), "Could not get I/O stats for pool 'nope'");
	json_decref(j);

	j = get(f, ROUTE_DATASETS, NULL, NULL, 200);
	KEYS(j, "datasets", "count");
	json_t *a = json_object_get(j, "datasets");
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *d = json_array_get(a, i);
		KEYS(d, "name", "used_bytes", "available_bytes", "referenced_bytes", "mountpoint",
		     "compression", "compression_ratio", "used_human", "available_human",
		     "referenced_human");
		IS_INT(d, "used_bytes");
		IS_STR(d, "mountpoint");
		IS_STR(d, "compression");
		IS_STR(d, "compression_ratio"); /* a string, as zfs prints it */
		/* every ratio here is 1.00 (or unknown): no savings field */
		ABSENT(d, "compression_savings_percent");
		if (!strcmp(S(d, "name"), "fixt/data")) {
			assert_string_equal(S(d, "compression_ratio"), "1.00");
			assert_string_equal(S(d, "mountpoint"), "/fixt/data");
		}
	}
	json_decref(j);

	j = get(f, ROUTE_DATASET, "fixt/data", NULL, 200);
	KEYS(j, "name", "properties", "used_human", "available_human", "referenced_human");
	ABSENT(j, "compression_savings_percent");
	{ /* the human form of the property's own value */
		struct buf h = BUF_INIT;
		fmt_bytes_human(&h,
		                strtoull(S(json_object_get(j, "properties"), "used"), NULL, 10));
		assert_string_equal(S(j, "used_human"), h.s);
		buf_free(&h);
	}
	json_t *pr;
	const char *k;
	json_object_foreach(json_object_get(j, "properties"), k, pr)
	{
		if (!json_is_string(pr))
			fail_msg("property %s is not a string", k);
	}
	json_decref(j);
	j = get(f, ROUTE_DATASET, "fixt/nope", NULL, 404);
	assert_string_equal(S(j, "detail"), "Dataset 'fixt/nope' not found");
	json_decref(j);

	j = get(f, ROUTE_SNAPSHOTS_DATASET, "fixt/data", NULL, 200);
	KEYS(j, "dataset", "snapshot_count", "total_used_bytes", "total_used_human", "snapshots");
	json_t *s0 = json_array_get(json_object_get(j, "snapshots"), 0);
	KEYS(s0, "name", "full_name", "creation_timestamp", "used_bytes", "referenced_bytes",
	     "used_human", "referenced_human", "creation_iso");
	IS_INT(s0, "creation_timestamp");
	json_decref(j);
	/* unknown: the seed's 200 with nothing in it */
	j = get(f, ROUTE_SNAPSHOTS_DATASET, "fixt/nope", NULL, 200);
	KEYS(j, "dataset", "snapshot_count", "total_used_bytes", "total_used_human", "snapshots");
	assert_string_equal(S(j, "dataset"), "fixt/nope");
	assert_int_equal(I(j, "snapshot_count"), 0);
	assert_int_equal(I(j, "total_used_bytes"), 0);
	assert_string_equal(S(j, "total_used_human"), "0.00 B");
	assert_int_equal(json_array_size(json_object_get(j, "snapshots")), 0);
	json_decref(j);

	j = get(f, ROUTE_SNAPSHOTS, NULL, NULL, 200);
	KEYS(j, "hostname", "timestamp", "datasets", "summary", "alerts");
	json_t *d0 = json_array_get(json_object_get(j, "datasets"), 0);
	KEYS(d0, "dataset", "policy", "counts", "retention", "compliance", "total_snapshots");
	KEYS(json_object_get(d0, "counts"), "hourly", "daily", "monthly", "yearly");
	KEYS(json_object_get(d0, "compliance"), "hourly", "daily", "monthly", "yearly");
	assert_string_equal(S(d0, "dataset"), "fixt/data");
	/* the manual snapshot is not an autosnap one */
	assert_int_equal(I(d0, "total_snapshots"), 2);
	ABSENT(d0, "avg_compliance");
	json_t *sum = json_object_get(j, "summary");
	KEYS(sum, "total_datasets", "total_snapshots", "avg_compliance", "low_compliance_count");
	IS_INT(sum, "avg_compliance");
	json_t *low = json_array_get(
	    json_object_get(json_object_get(j, "alerts"), "low_compliance_datasets"), 0);
	KEYS(low, "dataset", "policy", "avg_compliance");
	IS_INT(low, "avg_compliance");
	json_decref(j);

	j = get(f, ROUTE_BACKUPS, NULL, NULL, 200);
	KEYS(j, "backup_datasets", "total_local_backups", "total_offsite_backups", "note");
	KEYS(json_object_get(j, "backup_datasets"), "local_backups", "offsite_backups");
	IS_STR(j, "note");
	json_decref(j);

	j = get(f, ROUTE_BACKUP_LOGS, NULL, NULL, 200);
	KEYS(j, "available", "log_directory", "log_count", "logs");
	json_decref(j);
}

/* A snapshot line of zfs list -Hp as the view lists (name, type, guid,
 * createtxg, creation, used, available, referenced). */
static void snap_line(struct buf *zl, const char *name, unsigned txg)
{
	buf_addf(zl, "%s\tsnapshot\t%u\t%u\t1795679456\t0\t-\t98304\n", name, 1000 + txg, txg);
}

/* The seed's compliance arithmetic (1.6, 5 REPORT) on a listing made for it:
 * uncapped, IEEE double truncated, zeros left out of avg_compliance. And the
 * backups' name rule, savings above a ratio of 1, and the logs' order. */
static void test_api_seed_values(void **state)
{
	struct fx *f = *state;
	config_free(&f->cfg);
	config_init(&f->cfg);
	struct buf conf = BUF_INIT, zl = BUF_INIT, zg = BUF_INIT;
	buf_addf(&conf,
	         "[global]\nstate_dir = %s\nlock_dir = %s\n"
	         "[policy over]\nhourly = 24\ndaily = 5\nmonthly = 1\nyearly = 0\n"
	         "[dataset fixt/data]\npolicy = over\n"
	         "[dataset fixt/full]\npolicy = low\n",
	         f->dir, f->dir);
	struct zerr e = ZERR_INIT;
	if (config_load_string(&f->cfg, "test.conf", conf.s, &e) < 0)
		fail_msg("config: %s", e.msg);
	static const char *const fs[] = {"fixt",
	                                 "fixt/data",
	                                 "fixt/full",
	                                 "fixt/backups",
	                                 "fixt/backups/h1/tank",
	                                 "fixt/encryptedbackups/h2",
	                                 "fixt/backups/encryptedbackups-old/x",
	                                 "fixt/xbackups/y"};
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		buf_addf(&zl, "%s\tfilesystem\t%zu\t1\t1795679445\t%zu\t99332096\t98304\n", fs[i],
		         100 + i, 1000 * (i + 1));
	unsigned txg = 10;
	struct buf n = BUF_INIT;
	for (int i = 0; i < 35; i++) { /* 35 of 24 hourly: 145 */
		buf_reset(&n);
		buf_addf(&n, "fixt/data@autosnap_2026-11-%02d_%02d:00:00_hourly", 20 + i / 24,
		         i % 24);
		snap_line(&zl, n.s, txg++);
	}
	for (int i = 0; i < 23; i++) { /* 23 of 5 daily: 459 (integer arithmetic: 460) */
		buf_reset(&n);
		buf_addf(&n, "fixt/data@autosnap_2026-10-%02d_00:15:00_daily", 1 + i);
		snap_line(&zl, n.s, txg++);
	}
	for (int i = 0; i < 3; i++) { /* low: 3 hourly, 7 daily, 1 monthly: 100 */
		buf_reset(&n);
		buf_addf(&n, "fixt/full@autosnap_2026-11-26_0%d:00:00_hourly", i);
		snap_line(&zl, n.s, txg++);
	}
	for (int i = 0; i < 7; i++) {
		buf_reset(&n);
		buf_addf(&n, "fixt/full@autosnap_2026-11-%02d_00:15:00_daily", 19 + i);
		snap_line(&zl, n.s, txg++);
	}
	snap_line(&zl, "fixt/full@autosnap_2026-11-01_00:20:00_monthly", txg);
	buf_free(&n);
	buf_adds(&zg, "fixt/data\tused\t2000\t-\nfixt/data\tcompressratio\t1.50x\t-\n"
	              "fixt/data\tmountpoint\tnone\t-\nfixt/data\tcompression\tlz4\t-\n"
	              "fixt/full\tcompressratio\t3.00\t-\nfixt/full\tavailable\t-\t-\n");
	const char *status[] = {NULL, NULL};
	struct view_texts t = {f->version.s, f->zpools.s, zl.s, zg.s, status, NULL, 0};
	struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, metrics_render_view};
	if (view_build(&o, &t, NULL, &f->v, &e) < 0)
		fail_msg("view_build: %s", e.msg);
	buf_free(&conf);
	buf_free(&zl);
	buf_free(&zg);

	json_t *j = get(f, ROUTE_SNAPSHOTS, NULL, NULL, 200);
	json_t *ds = json_object_get(j, "datasets");
	assert_int_equal(json_array_size(ds), 2);
	json_t *d = json_array_get(ds, 0), *c = json_object_get(d, "compliance");
	assert_string_equal(S(d, "dataset"), "fixt/data");
	assert_int_equal(I(c, "hourly"), 145);
	assert_int_equal(I(c, "daily"), 459);
	assert_int_equal(I(c, "monthly"), 0);
	assert_int_equal(I(c, "yearly"), 100); /* retention 0 */
	assert_int_equal(I(json_object_get(d, "retention"), "yearly"), 0);
	assert_int_equal(I(d, "total_snapshots"), 58);
	c = json_object_get(json_array_get(ds, 1), "compliance");
	assert_int_equal(I(c, "hourly"), 100);
	assert_int_equal(I(c, "daily"), 100);
	assert_int_equal(I(c, "monthly"), 100);
	json_t *sum = json_object_get(j, "summary");
	/* 145, 459, 100 and 100 x 4 (the zero left out): 1104 / 7 */
	assert_int_equal(I(sum, "avg_compliance"), 157);
	assert_int_equal(I(sum, "total_snapshots"), 69);
	assert_int_equal(I(sum, "low_compliance_count"), 1);
	json_t *low = json_object_get(json_object_get(j, "alerts"), "low_compliance_datasets");
	assert_int_equal(json_array_size(low), 1);
	/* (145 + 459 + 0 + 100) / 4 */
	assert_int_equal(I(json_array_get(low, 0), "avg_compliance"), 176);
	json_decref(j);
	has(f->v->metrics.s, "zfs_snapshot_compliance_percent{hostname=\"h\",pool=\"fixt\","
	                     "dataset=\"data\",policy=\"over\",interval=\"daily\"} 459\n");

	j = get(f, ROUTE_DATASETS, NULL, NULL, 200);
	for (size_t i = 0; (d = json_array_get(json_object_get(j, "datasets"), i)); i++)
		if (!strcmp(S(d, "name"), "fixt/data"))
			break;
	assert_non_null(d);
	assert_string_equal(S(d, "compression_ratio"), "1.50x");
	assert_string_equal(S(d, "mountpoint"), "none");
	assert_true(json_is_real(json_object_get(d, "compression_savings_percent")));
	assert_float_equal(json_real_value(json_object_get(d, "compression_savings_percent")),
	                   33.33, 1e-9);
	json_decref(j);
	{ /* printed as Python does */
		struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
		answer(f, ROUTE_DATASETS, NULL, NULL, &res);
		assert_non_null(strstr(res.body.s, "\"compression_savings_percent\":33.33,"));
		assert_non_null(strstr(res.body.s, "\"compression_savings_percent\":66.67,"));
		buf_free(&res.body);
	}
	j = get(f, ROUTE_DATASET, "fixt/data", NULL, 200);
	KEYS(j, "name", "properties", "used_human", "compression_savings_percent");
	assert_string_equal(S(j, "used_human"), "1.95 KB");
	json_decref(j);
	j = get(f, ROUTE_DATASET, "fixt/full", NULL, 200); /* available "-": no human form */
	KEYS(j, "name", "properties", "compression_savings_percent");
	json_decref(j);

	j = get(f, ROUTE_BACKUPS, NULL, NULL, 200);
	json_t *bd = json_object_get(j, "backup_datasets");
	json_t *lo = json_object_get(bd, "local_backups"),
	       *off = json_object_get(bd, "offsite_backups");
	assert_int_equal(json_array_size(lo), 1);
	assert_string_equal(S(json_array_get(lo, 0), "name"), "fixt/backups/h1/tank");
	KEYS(json_array_get(lo, 0), "name", "used_bytes", "used_human", "available_bytes",
	     "available_human");
	assert_int_equal(json_array_size(off), 2);
	assert_string_equal(S(json_array_get(off, 0), "name"),
	                    "fixt/backups/encryptedbackups-old/x");
	assert_string_equal(S(json_array_get(off, 1), "name"), "fixt/encryptedbackups/h2");
	assert_int_equal(I(j, "total_local_backups"), 1);
	assert_int_equal(I(j, "total_offsite_backups"), 2);
	json_decref(j);

	/* logs: newest first, at most 20 */
	struct buf name = BUF_INIT, path = BUF_INIT;
	for (int i = 0; i < 25; i++) {
		buf_reset(&name);
		buf_addf(&name, "run-%02d.log", i);
		write_file(f, name.s, "x\n");
		buf_reset(&path);
		buf_addf(&path, "%s/%s", f->dir, name.s);
		struct timespec ts[2] = {{1795600000 + i, 250000000}, {1795600000 + i, 250000000}};
		assert_int_equal(utimensat(AT_FDCWD, path.s, ts, 0), 0);
	}
	buf_free(&name);
	buf_free(&path);
	j = get(f, ROUTE_BACKUP_LOGS, NULL, NULL, 200);
	assert_int_equal(I(j, "log_count"), 20);
	json_t *l0 = json_array_get(json_object_get(j, "logs"), 0);
	KEYS(l0, "filename", "path", "size_bytes", "modified");
	assert_string_equal(S(l0, "filename"), "run-24.log");
	assert_string_equal(S(l0, "modified"), "2026-11-25T09:47:04.250000Z");
	json_decref(j);
}

/* Without a log directory: the seed's {available: false, message, path}. */
static void test_api_no_log_dir(void **state)
{
	struct fx *f = *state;
	struct view_status st = {0};
	struct api_ctx c = {NULL, &st, "h", NULL, 1795680000};
	struct http_route r = {ROUTE_BACKUP_LOGS, NULL};
	struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
	(void)f;
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 200);
	json_t *j = json_loads(res.body.s, 0, NULL);
	KEYS(j, "available", "message", "path");
	assert_true(json_is_false(json_object_get(j, "available")));
	json_decref(j);
	c.log_dir = "/nonexistent/zk-logs";
	api_handle(&c, &r, NULL, &res);
	j = json_loads(res.body.s, 0, NULL);
	KEYS(j, "available", "message", "path");
	assert_string_equal(S(j, "path"), "/nonexistent/zk-logs");
	json_decref(j);
	/* /api/docs: a page, from the document */
	r.id = ROUTE_DOCS;
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/html; charset=utf-8");
	assert_non_null(strstr(res.body.s, "<code>GET /api/v1/pools/{pool}/status</code>"));
	assert_null(strstr(res.body.s, "<script"));
	/* now with microseconds: isoformat()'s fraction */
	r.id = ROUTE_HEALTH;
	c.now_usec = 1234;
	api_handle(&c, &r, NULL, &res);
	j = json_loads(res.body.s, 0, NULL);
	assert_string_equal(S(j, "timestamp"), "2026-11-26T08:00:00.001234Z");
	json_decref(j);
	buf_free(&res.body);
}

/* ---- bodies rendered once per view ----------------------------------- */

/* Every route whose body is the view's and a key's only, with a key that
 * exists in the fixture. */
static const struct {
	enum http_route_id id;
	const char *arg;
} cached_routes[] = {
    {ROUTE_POOLS, NULL},
    {ROUTE_POOL, "fixt"},
    {ROUTE_POOL_STATUS, "deg"},
    {ROUTE_POOL_IOSTAT, "fixt"},
    {ROUTE_POOL_IOSTAT, "deg"}, /* a 404 of the view (no iostat): kept too */
    {ROUTE_DATASETS, NULL},
    {ROUTE_DATASET, "fixt/data"},
    {ROUTE_DATASET_SNAPSHOTS, "fixt/data"},
    {ROUTE_SNAPSHOTS, NULL},
    {ROUTE_SNAPSHOTS_DATASET, "fixt/data/with space"},
};
#define N_CACHED (sizeof(cached_routes) / sizeof(cached_routes[0]))

/* The answer of v to (id, arg), copied (share false) or handed over
 * (share true: res->shared, released here after it is copied). */
static void ask(struct view *v, enum http_route_id id, const char *arg, bool share,
                struct http_response *res)
{
	struct view_status st = {0};
	struct api_ctx c = {v, &st, "h", NULL, 1795680000, NULL, NULL, 0, share};
	struct http_route r = {id, (char *)arg};
	buf_reset(&res->body);
	api_handle(&c, &r, NULL, res);
	assert_null(res->stream);
	if (res->shared) {
		buf_add(&res->body, res->shared, res->shared_len);
		if (res->shared_free)
			res->shared_free(res->shared_cls);
		res->shared = NULL;
		res->shared_free = NULL;
	}
}

/* The first request for a key renders its body, every later one renders
 * nothing and gets the same bytes, copied or shared; a view built anew
 * from the same texts renders the same bytes again. */
static void test_api_bodies_once(void **state)
{
	struct fx *f = *state;
	struct view *fresh = NULL;
	build(f, NULL, &f->v);
	struct http_response a = {0, NULL, BUF_INIT, NULL, NULL}, b = a;
	for (size_t i = 0; i < N_CACHED; i++) {
		const char *arg = cached_routes[i].arg;
		enum http_route_id id = cached_routes[i].id;
		size_t n0 = view_bodies_rendered(f->v);
		ask(f->v, id, arg, false, &a);
		assert_int_equal(view_bodies_rendered(f->v), n0 + 1);
		ask(f->v, id, arg, false, &b);
		ask(f->v, id, arg, true, &b);
		assert_int_equal(view_bodies_rendered(f->v), n0 + 1);
		assert_int_equal(a.status, b.status);
		assert_int_equal(a.body.len, b.body.len);
		assert_memory_equal(a.body.s, b.body.s, a.body.len);
		build(f, NULL, &fresh);
		ask(fresh, id, arg, false, &b);
		assert_int_equal(b.body.len, a.body.len);
		assert_memory_equal(a.body.s, b.body.s, a.body.len);
		view_put(fresh);
	}
	/* shared: the cached bytes themselves, the view held until released */
	ask(f->v, ROUTE_SNAPSHOTS, NULL, false, &a);
	struct view_status st = {0};
	struct api_ctx c = {f->v, &st, "h", NULL, 1795680000, NULL, NULL, 0, true};
	struct http_route r = {ROUTE_SNAPSHOTS, NULL};
	int refs = f->v->refs;
	api_handle(&c, &r, NULL, &b);
	assert_non_null(b.shared);
	assert_int_equal(b.shared_len, a.body.len);
	assert_memory_equal(b.shared, a.body.s, a.body.len);
	assert_int_equal(f->v->refs, refs + 1);
	b.shared_free(b.shared_cls);
	assert_int_equal(f->v->refs, refs);
	buf_free(&a.body);
	buf_free(&b.body);
}

/* Past its byte budget a view keeps no more bodies (a client walking
 * every dataset cannot make it keep them all): each route is still
 * answered with the same bytes as a view that keeps it, shared or not,
 * but the kept bytes stop growing and a second request renders again. */
static void test_api_bodies_budget(void **state)
{
	struct fx *f = *state;
	struct view *keeps = NULL;
	build(f, NULL, &f->v);
	build(f, NULL, &keeps);
	view_bodies_budget(f->v, 1); /* full after the first body kept */
	struct http_response a = {0, NULL, BUF_INIT, NULL, NULL}, b = a;
	ask(f->v, cached_routes[0].id, cached_routes[0].arg, false, &a);
	size_t kept = view_bodies_kept(f->v);
	assert_true(kept > 0);
	for (size_t i = 1; i < N_CACHED; i++) {
		const char *arg = cached_routes[i].arg;
		enum http_route_id id = cached_routes[i].id;
		ask(keeps, id, arg, false, &a);
		for (int shared = 0; shared < 2; shared++) {
			size_t n0 = view_bodies_rendered(f->v);
			ask(f->v, id, arg, shared, &b);
			assert_int_equal(view_bodies_rendered(f->v), n0 + 1);
			assert_int_equal(a.status, b.status);
			assert_int_equal(a.body.len, b.body.len);
			assert_memory_equal(a.body.s, b.body.s, a.body.len);
		}
	}
	assert_int_equal(view_bodies_kept(f->v), kept);
	view_put(keeps);
	buf_free(&a.body);
	buf_free(&b.body);
}

/* A one-dataset list kept whole is the group the streamed _all writes
 * for that dataset (the uncached writer), byte for byte. */
static void test_api_bodies_match_stream(void **state)
{
	struct fx *f = *state;
	build(f, NULL, &f->v);
	struct http_response all = {0, NULL, BUF_INIT, NULL, NULL}, one = all;
	struct view_status st = {0};
	struct api_ctx c = {f->v, &st, "h", NULL, 1795680000};
	struct http_route r = {ROUTE_SNAPSHOTS_ALL, NULL};
	api_handle(&c, &r, NULL, &all);
	assert_non_null(all.stream);
	drain(&all, 4096);
	api_stream_free(all.stream);
	all.stream = NULL;
	static const char *const groups[] = {"fixt/data", "fixt/data/with space"};
	for (size_t i = 0; i < 2; i++) {
		ask(f->v, ROUTE_SNAPSHOTS_DATASET, groups[i], false, &one);
		assert_int_equal(one.status, 200);
		assert_true(one.body.len > 40);
		if (!strstr(all.body.s, one.body.s))
			fail_msg("group of %s not in _all: %s", groups[i], one.body.s);
	}
	buf_free(&all.body);
	buf_free(&one.body);
}

/* Names that are not in the view: the usual 404 (or the seed's empty
 * group), nothing rendered, nothing kept. */
static void test_api_bodies_unknown(void **state)
{
	struct fx *f = *state;
	build(f, NULL, &f->v);
	static const enum http_route_id ids[] = {ROUTE_POOL, ROUTE_POOL_STATUS, ROUTE_POOL_IOSTAT,
	                                         ROUTE_DATASET, ROUTE_DATASET_SNAPSHOTS};
	struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
	for (unsigned k = 0; k < 50; k++)
		for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
			char name[32];
			snprintf(name, sizeof(name), "fixt/nope%u", k);
			ask(f->v, ids[i], name, true, &res);
			assert_int_equal(res.status, 404);
		}
	ask(f->v, ROUTE_SNAPSHOTS_DATASET, "fixt/nope", true, &res);
	assert_int_equal(res.status, 200);
	assert_int_equal(view_bodies_rendered(f->v), 0);
	buf_free(&res.body);
}

struct racer {
	struct view *v;
	pthread_barrier_t *start;
	enum http_route_id id;
	struct http_response res;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->start);
	ask(r->v, r->id, NULL, true, &r->res);
	return NULL;
}

/* Concurrent first requests for one key: one renders, all get its bytes. */
static void test_api_bodies_concurrent(void **state)
{
	struct fx *f = *state;
	enum { N = 8 };
	static const enum http_route_id ids[] = {ROUTE_SNAPSHOTS, ROUTE_DATASETS, ROUTE_POOLS};
	for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
		struct view *v = NULL;
		build(f, NULL, &v);
		struct racer r[N];
		pthread_t t[N];
		pthread_barrier_t start;
		pthread_barrier_init(&start, NULL, N);
		for (int i = 0; i < N; i++) {
			r[i] = (struct racer){v, &start, ids[k], {0, NULL, BUF_INIT, NULL, NULL}};
			assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
		}
		for (int i = 0; i < N; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&start);
		assert_int_equal(view_bodies_rendered(v), 1);
		for (int i = 0; i < N; i++) {
			assert_int_equal(r[i].res.status, 200);
			assert_int_equal(r[i].res.body.len, r[0].res.body.len);
			assert_memory_equal(r[i].res.body.s, r[0].res.body.s, r[0].res.body.len);
		}
		for (int i = 0; i < N; i++)
			buf_free(&r[i].res.body);
		assert_int_equal(v->refs, 1);
		view_put(v);
	}
}

/* ---- incremental collection: what is read again, what is carried ---- */

/* Whether every line of text is a line of whole (carried rows are
 * prev's rows as zfs printed them). */
static void lines_of(const char *text, const char *whole)
{
	for (const char *l = text; *l;) {
		const char *end = strchr(l, '\n');
		assert_non_null(end);
		char *line = strndup(l, (size_t)(end - l + 1));
		const char *at = strstr(whole, line);
		if (!at || (at != whole && at[-1] != '\n'))
			fail_msg("carried row not in the capture: %s", line);
		free(line);
		l = end + 1;
	}
}

static void strvec_is(const struct strvec *v, const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		if (n >= v->n)
			fail_msg("only %zu names, want '%s' next", v->n, want[n]);
		assert_string_equal(v->v[n], want[n]);
	}
	assert_int_equal(v->n, n);
}

/* From a previous view (2.3 with snapshots_changed) and a new listing of
 * the datasets: snapshots are listed again only where snapshots_changed
 * moved (or is unknown, or is new, or falls in the second prev started),
 * properties read again only there and where used or referenced moved;
 * the rest is prev's rows, available taken from the new listing. */
static void test_incremental_plan(void **state)
{
	struct fx *f = *state;
	struct buf list = BUF_INIT;
	fixture_read("2.3/zfs-list-changed.out", &list);
	const char *status[] = {f->st_deg.s, f->st_fixt.s};
	struct view_texts t = {
	    f->version.s, f->zpools.s, list.s, f->zget.s, status, NULL, ZFS_COL_SNAPSHOTS_CHANGED};
	struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, NULL};
	struct zerr e = ZERR_INIT;
	assert_int_equal(view_build(&o, &t, NULL, &f->v, &e), 0);
	f->v->started = 1795680000; /* view_collect's; well after every change */
	/* the new listing: fixt/data's available moved (a write elsewhere in
	 * the pool), the child's used, the snapshots of 'with space'; fixt and
	 * fixt/enc have no snapshots_changed; fixt/new is new */
	const char *now =
	    "fixt\tfilesystem\t15544076503146417656\t1\t1795679445\t26497024\t99000000\t98304\t-\n"
	    "fixt/"
	    "data\tfilesystem\t1925232054694848514\t8\t1795679446\t6668288\t99000000\t4300800\t"
	    "1795679456\n"
	    "fixt/data/child\tfilesystem\t5508791881013782340\t9\t1795679446\t2300000\t99000000\t"
	    "2203648\t1795679456\n"
	    "fixt/data/with space\tfilesystem\t5959370234554937223\t11\t1795679447\t98304\t"
	    "99000000\t98304\t1795679500\n"
	    "fixt/vol\tvolume\t18063833195923972832\t12\t1795679447\t18931712\t118206464\t57344\t"
	    "1795679457\n"
	    "fixt/"
	    "enc\tfilesystem\t7888079171936769089\t15\t1795679455\t196608\t99000000\t196608\t-\n"
	    "fixt/new\tfilesystem\t42\t30\t1795679600\t98304\t99000000\t98304\t1795679600\n";
	struct zfs_list dl;
	assert_int_equal(zfs_list_parse(&dl, now, strlen(now), ZFS_COL_SNAPSHOTS_CHANGED, &e), 0);
	struct view_incr p;
	view_incr_plan(f->v, &dl, ZFS_COL_SNAPSHOTS_CHANGED, &p);
	strvec_is(&p.relist, (const char *const[]){"fixt", "fixt/data/with space", "fixt/enc",
	                                           "fixt/new", NULL});
	/* fixt/vol: no properties in the capture, so read again */
	strvec_is(&p.reread,
	          (const char *const[]){"fixt", "fixt/data/child", "fixt/data/with space",
	                                "fixt/vol", "fixt/enc", "fixt/new", NULL});
	/* the snapshots of fixt/data, its child and fixt/vol, as listed */
	size_t rows = 0;
	for (const char *c = p.list.s; *c; c++)
		rows += *c == '\n';
	size_t want = view_dataset(f->v, "fixt/data")->pd->snaps.n +
	              view_dataset(f->v, "fixt/data/child")->pd->snaps.n +
	              view_dataset(f->v, "fixt/vol")->pd->snaps.n;
	assert_true(want > 3);
	assert_int_equal(rows, want);
	lines_of(p.list.s, list.s);
	/* fixt/data's properties carried, available the new listing's */
	assert_non_null(strstr(p.props.s, "fixt/data\tavailable\t99000000\t-\n"));
	assert_null(strstr(p.props.s, "99332096"));
	assert_int_equal(p.props.len, f->zget.len + strlen("99000000") - strlen("99332096"));
	struct buf other = BUF_INIT; /* every other row as captured */
	for (const char *l = p.props.s; *l; l = strchr(l, '\n') + 1)
		if (strncmp(l, "fixt/data\tavailable\t", 20))
			buf_add(&other, l, (size_t)(strchr(l, '\n') - l + 1));
	lines_of(other.s, f->zget.s);
	buf_free(&other);
	view_incr_free(&p);
	/* a change in the second prev started may be missing from prev */
	f->v->started = 1795679458; /* fixt/vol's change: 1795679457 */
	view_incr_plan(f->v, &dl, ZFS_COL_SNAPSHOTS_CHANGED, &p);
	strvec_is(&p.relist, (const char *const[]){"fixt", "fixt/data/with space", "fixt/vol",
	                                           "fixt/enc", "fixt/new", NULL});
	view_incr_free(&p);
	zfs_list_free(&dl);
	/* fixt/data as before but for its guid (renamed, or destroyed and
	 * created again under the name): another dataset, nothing carried */
	f->v->started = 1795680000;
	static const char *const guids[] = {"1925232054694848514", "1925232054694848515"};
	for (size_t i = 0; i < 2; i++) {
		struct buf row = BUF_INIT;
		buf_addf(&row,
		         "fixt/data\tfilesystem\t%s\t8\t1795679446\t6668288\t99000000\t4300800\t"
		         "1795679456\n",
		         guids[i]);
		assert_int_equal(zfs_list_parse(&dl, row.s, row.len, ZFS_COL_SNAPSHOTS_CHANGED, &e),
		                 0);
		view_incr_plan(f->v, &dl, ZFS_COL_SNAPSHOTS_CHANGED, &p);
		const char *const none[] = {NULL}, *const data[] = {"fixt/data", NULL};
		strvec_is(&p.relist, i ? data : none);
		strvec_is(&p.reread, i ? data : none);
		assert_int_equal(p.list.len == 0, i == 1);
		assert_int_equal(p.props.len == 0, i == 1);
		view_incr_free(&p);
		zfs_list_free(&dl);
		buf_free(&row);
	}
	buf_free(&list);
}

/* ---- view_collect with the zfs calls answered from captures ---------- */

/* What the stand-in for host_run answers (view_opts.run): the captured
 * version and pool list, the dataset listing given here (NULL: the call
 * fails), no snapshots for a relisted dataset, and a zfs get that fails
 * for the batch holding get_fail_on. */
static struct {
	const struct fx *f;
	const char *datasets;
	const char *get_fail_on;
	unsigned gets;
} fake;

static bool argv_has(const char *const *argv, const char *w)
{
	for (; *argv; argv++)
		if (!strcmp(*argv, w))
			return true;
	return false;
}

static int fake_run(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
                    int timeout_ms, struct zerr *e)
{
	(void)h, (void)out_cap, (void)timeout_ms;
	const char *a1 = argv[1];
	if (!strcmp(argv[0], "zfs") && !strcmp(a1, "version"))
		buf_add(out, fake.f->version.s, fake.f->version.len);
	else if (!strcmp(argv[0], "zpool") && !strcmp(a1, "list"))
		buf_add(out, fake.f->zpools.s, fake.f->zpools.len);
	else if (!strcmp(argv[0], "zfs") && !strcmp(a1, "list") && argv_has(argv, "-d"))
		; /* the snapshots of the relisted datasets: none */
	else if (!strcmp(argv[0], "zfs") && !strcmp(a1, "list") && fake.datasets)
		buf_adds(out, fake.datasets);
	else if (!strcmp(argv[0], "zfs") && !strcmp(a1, "get") &&
	         !(fake.get_fail_on && argv_has(argv, fake.get_fail_on))) {
		fake.gets++;
	} else
		return zerr_set(e, -EIO, "%s %s: failed (fake)", argv[0], a1);
	return 0;
}

/* Fills the stack below the caller with non-zero bytes, so that a
 * variable the next call leaves uninitialised holds garbage, not zero. */
static void __attribute__((noinline)) dirty_stack(void)
{
	volatile unsigned char junk[32768];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = 0xa5;
}

/* A previous view that makes the next view_collect incremental (2.3,
 * snapshots_changed listed). */
static struct view *incremental_prev(struct fx *f)
{
	struct buf list = BUF_INIT;
	fixture_read("2.3/zfs-list-changed.out", &list);
	struct view_texts t = {
	    f->version.s, f->zpools.s, list.s, f->zget.s, NULL, NULL, ZFS_COL_SNAPSHOTS_CHANGED};
	struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, NULL};
	struct zerr e = ZERR_INIT;
	struct view *v = NULL;
	assert_int_equal(view_build(&o, &t, NULL, &v, &e), 0);
	assert_true(v->caps.snapshots_changed);
	buf_free(&list);
	return v;
}

/* An incremental collection whose dataset listing fails, or prints what
 * does not parse, fails cleanly: nothing of the plan it never made is
 * freed (it was uninitialised stack: ASan reports a bad free, a plain
 * build usually crashes). */
static void test_collect_incremental_listing_fails(void **state)
{
	struct fx *f = *state;
	struct view *prev = incremental_prev(f);
	static const char *const listings[] = {NULL, "fixt\tfilesystem\tnot a number\n"};
	for (size_t i = 0; i < 2; i++) {
		fake = (__typeof__(fake)){f, listings[i], NULL, 0};
		struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, NULL, fake_run};
		struct zerr e = ZERR_INIT;
		struct view *v = NULL;
		dirty_stack();
		assert_true(view_collect(&o, prev, &v, &e) < 0);
		assert_null(v);
		assert_true(strlen(e.msg) > 0);
	}
	view_put(prev);
}

/* One failed zfs get batch (a dataset destroyed between the listing and
 * the get fails the whole call) leaves out that batch's properties only:
 * the batches after it are still read, and the view's warnings name the
 * batch's first dataset (fixt: its space moved too) and the error. */
static void test_collect_incremental_get_fails(void **state)
{
	struct fx *f = *state;
	struct view *prev = incremental_prev(f);
	struct buf list = BUF_INIT;
	buf_adds(&list, "fixt\tfilesystem\t15544076503146417656\t1\t1795679445\t26497024\t"
	                "99332096\t98304\t-\n");
	/* 600 datasets prev never saw: all read again, 3 batches of 256 */
	for (int i = 0; i < 600; i++)
		buf_addf(&list,
		         "fixt/n%03d\tfilesystem\t%d\t9\t1795679446\t98304\t99332096\t98304\t"
		         "1795679456\n",
		         i, 1000 + i);
	fake = (__typeof__(fake)){f, list.s, "fixt/n000", 0};
	struct view_opts o = {&f->cfg, NULL, "h", 0, 1795680000, false, NULL, fake_run};
	struct zerr e = ZERR_INIT;
	struct view *v = NULL;
	assert_int_equal(view_collect(&o, prev, &v, &e), 0);
	assert_int_equal(fake.gets, 2); /* the two batches after the failed one */
	bool said = false;
	for (size_t i = 0; i < v->warnings.n; i++)
		said |= strstr(v->warnings.v[i], "cannot read get of 'fixt' (and 255 more): "
		                                 "zfs get: failed (fake)") != NULL;
	assert_true(said);
	view_put(v);
	view_put(prev);
	buf_free(&list);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pools, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_pools, setup21, teardown),
	    cmocka_unit_test_setup_teardown(test_datasets, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_datasets, setup21, teardown),
	    cmocka_unit_test(test_scan_lines),
	    cmocka_unit_test_setup_teardown(test_metrics, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_seed_lock, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_notifications, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_timer_notifications, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_snapshot_hooks, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_backups_carry_success, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_record_numbers_out_of_range, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_fragmentation_dash, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_listing_fails, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_seed_shapes, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_seed_shapes, setup21, teardown),
	    cmocka_unit_test_setup_teardown(test_api_seed_values, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_no_log_dir, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_before_collection, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_logs, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_logs_large, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_bodies_once, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_bodies_once, setup21, teardown),
	    cmocka_unit_test_setup_teardown(test_api_bodies_budget, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_bodies_match_stream, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_bodies_unknown, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_api_bodies_concurrent, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_incremental_plan, setup23, teardown),
	    cmocka_unit_test_setup_teardown(test_collect_incremental_listing_fails, setup23,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_collect_incremental_get_fails, setup23, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
