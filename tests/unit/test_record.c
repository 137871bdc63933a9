/*
 * Run records (lib/record): a round trip, the version 0 records earlier
 * builds wrote (tests/fixtures/records/v0, made by their writer, see the
 * README there), the older signed-integer guids, a newer version refused,
 * files that are not records refused with a message naming them, numbers
 * out of range, text that is not UTF-8, the skip for a seed job's lock, and
 * /api/v1/backups unchanged, byte for byte, for version 0 and 1 records.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "record.h"
#include "state.h"
#include "view.h"
#include "zfs.h"

static char dir[] = "/tmp/zk-record-XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	alarm(60); /* a reader that blocks on a FIFO fails instead of hanging */
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A fresh empty directory under dir for one test. */
static void subdir(const char *name, struct buf *p)
{
	buf_reset(p);
	buf_addf(p, "%s/%s", dir, name);
	assert_int_equal(mkdir(p->s, 0755), 0);
}

static void put(const char *d, const char *name, const char *text, size_t len)
{
	struct buf p = BUF_INIT;
	struct zerr e = ZERR_INIT;
	buf_addf(&p, "%s/%s", d, name);
	if (state_write_atomic(p.s, text, len, 0644, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&p);
}

static void put_fixture(const char *d, const char *name)
{
	struct buf f = BUF_INIT, rel = BUF_INIT;
	buf_addf(&rel, "records/v0/%s", name);
	fixture_read(rel.s, &f);
	put(d, name, f.s, f.len);
	buf_free(&f);
	buf_free(&rel);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *s = NULL;
	size_t n = 0;
	if (getdelim(&s, &n, '\0', f) < 0)
		s = strdup("");
	fclose(f);
	return s;
}

/* The record as written, without its version: what a version 0 writer
 * wrote for the same run. */
/* ... and without the keys version 1 added later, null or false in a
 * version 0 record (leaf_props, large_blocks). */
static char *text_without_version(const struct record *r)
{
	json_t *j = record_to_json(r);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), RECORD_VERSION);
	json_object_del(j, "version");
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(j, "datasets"), i, d)
	{
		assert_true(json_is_null(json_object_get(d, "leaf_props")));
		json_object_del(d, "leaf_props");
		assert_true(json_is_false(json_object_get(d, "large_blocks")));
		json_object_del(d, "large_blocks");
		/* protected, read from snapshots_changed where a version 0 record
		 * has it, and false where not */
		const json_t *sc = json_object_get(d, "snapshots_changed");
		assert_true(json_equal(json_object_get(d, "protected"),
		                       json_is_object(sc) ? json_object_get(sc, "protected")
		                                          : json_false()));
		json_object_del(d, "protected");
	}
	char *s = json_dumps(j, JSON_INDENT(1));
	json_decref(j);
	return s;
}

static void read_fixture(const char *name, struct record *r)
{
	struct buf p = BUF_INIT;
	struct zerr e = ZERR_INIT;
	const char *root = getenv("ZKEEP_FIXTURES");
	buf_addf(&p, "%s/records/v0/%s", root ? root : "tests/fixtures", name);
	if (record_read(p.s, r, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&p);
}

static void test_round_trip(void **state)
{
	(void)state;
	struct record r, back;
	record_init(&r, RECORD_PUSH, "off.site/x");
	r.source_host = strdup("local");
	r.destination_host = strdup("zkb@offsite");
	r.start = 1795679000;
	r.end = 1795679100;
	r.result = RECORD_RUN_FAILED;
	r.error = strdup("one failed");
	r.no_changed_since = 1795600000;
	r.n_keep = ZK_N_INTERVALS;
	r.keep[0] = 24, r.keep[1] = 14, r.keep[2] = 1, r.keep[3] = ZK_KEEP_ALL;
	struct record_dataset *d = record_add(&r, "fast/a", "off/a", RECORD_OK);
	d->bytes = 1 << 20;
	d->start = 1795679010;
	d->end = 1795679070;
	d->newest = strdup("fast/a@s2");
	d->newest_guid = UINT64_MAX - 1; /* no JSON number carries it */
	d->newest_creation = 1795670000;
	d->src_changed = 1795670000;
	d->dst_changed = 1795670100;
	d->src_guid = (uint64_t)1 << 63;
	d->dst_guid = 42;
	d->checked = 1795679000;
	d->protected = true;
	d->large_blocks = true;
	d->last_success = 1795679070;
	d = record_add(&r, "fast/b", "off/b", RECORD_FAILED);
	d->error = strdup("cannot receive");
	d->resume_token = strdup("1-abc");
	d->resume_refused = strdup("another dataset");
	d->leaf_props = strdup("acltype=posix xattr=sa");
	d->matched_by_name = true;
	d->protected = true; /* kept without snapshots_changed too */
	r.lock_held = true;
	r.held_at = 1795680000;
	r.held_pid = 4242;
	/* the notifications' totals: a channel at a time, sorted, summed, and
	 * carried from the last run's record */
	record_tally(&r, "webhook", 1, 0);
	record_tally(&r, "healthcheck", 0, 1);
	record_tally(&r, "webhook", 0, 1);
	struct record last;
	record_init(&last, RECORD_PUSH, "off.site/x");
	record_tally(&last, "webhook", 40, 2);
	record_tally(&last, "on_success", 7, 0);
	record_carry_tallies(&r, &last);
	record_free(&last);
	assert_int_equal(r.n_tallies, 3);
	assert_string_equal(r.tallies[0].channel, "healthcheck");
	assert_string_equal(r.tallies[1].channel, "on_success");
	assert_string_equal(r.tallies[2].channel, "webhook");
	assert_int_equal(r.tallies[2].sent, 41);
	assert_int_equal(r.tallies[2].failed, 3);
	struct buf p = BUF_INIT, want = BUF_INIT;
	struct zerr e = ZERR_INIT;
	subdir("round", &p);
	assert_int_equal(record_write(p.s, &r, &e), 0);
	/* the job's '/' and '.' are '-' in its file name */
	buf_addf(&want, "%s/push-off-site-x.json", p.s);
	buf_reset(&p);
	record_path(&p, dir, RECORD_PUSH, "off.site/x");
	assert_string_equal(p.s + strlen(dir), "/push-off-site-x.json");
	struct stat st;
	assert_int_equal(stat(want.s, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(record_read(want.s, &back, &e), 0);
	assert_int_equal(back.version, RECORD_VERSION);
	assert_int_equal(back.warnings.n, 0);
	assert_string_equal(back.job, "off.site/x");
	assert_int_equal(back.kind, RECORD_PUSH);
	assert_int_equal(back.result, RECORD_RUN_FAILED);
	assert_int_equal(back.n_keep, ZK_N_INTERVALS);
	assert_int_equal(back.keep[3], ZK_KEEP_ALL);
	assert_int_equal(back.n_datasets, 2);
	const struct record_dataset *a = record_find(&back, "off/a"),
	                            *b = record_find(&back, "off/b");
	assert_non_null(a);
	assert_non_null(b);
	assert_null(record_find(&back, "off/c"));
	assert_true(a->newest_guid == UINT64_MAX - 1);
	assert_true(a->src_guid == (uint64_t)1 << 63);
	assert_int_equal(a->src_changed, 1795670000);
	assert_true(a->protected);
	assert_true(a->large_blocks);
	assert_false(b->large_blocks);
	assert_int_equal(b->src_changed, ZFS_NONE); /* none recorded */
	assert_true(b->protected);
	assert_int_equal(b->last_success, 0);
	assert_string_equal(b->resume_refused, "another dataset");
	assert_string_equal(b->leaf_props, "acltype=posix xattr=sa");
	assert_null(a->leaf_props);
	assert_true(back.lock_held);
	assert_int_equal(back.held_pid, 4242);
	assert_int_equal(back.n_tallies, 3);
	assert_int_equal(back.tallies[1].sent, 7);
	/* everything the struct holds comes back */
	json_t *j1 = record_to_json(&r), *j2 = record_to_json(&back);
	assert_true(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
	char *text = slurp(want.s);
	assert_non_null(strstr(text, "{\n \"version\": 1,\n \"job\": \"off.site/x\","));
	assert_non_null(strstr(text, "\"guid\": \"18446744073709551614\""));
	assert_non_null(strstr(text, "\"webhook\": {\n   \"sent\": 41,\n   \"failed\": 3\n  }"));
	free(text);
	record_free(&r);
	record_free(&back);
	buf_free(&p);
	buf_free(&want);
}

/* Records today's writer made (before the version field): read as then,
 * and written again exactly as then, with "version": 1 added. */
static void test_version0(void **state)
{
	(void)state;
	static const char *const same[] = {"pull-h.json", "push-off-site-x.json"};
	for (size_t i = 0; i < 2; i++) {
		struct record r;
		struct buf f = BUF_INIT, rel = BUF_INIT;
		read_fixture(same[i], &r);
		assert_int_equal(r.version, 0);
		buf_addf(&rel, "records/v0/%s", same[i]);
		fixture_read(rel.s, &f);
		char *again = text_without_version(&r);
		assert_string_equal(again, f.s);
		free(again);
		record_free(&r);
		buf_free(&f);
		buf_free(&rel);
	}
	struct record r;
	read_fixture("pull-h.json", &r);
	assert_string_equal(r.job, "h");
	assert_int_equal(r.kind, RECORD_PULL);
	assert_string_equal(r.source_host, "zfsbackup@client.example");
	assert_int_equal(r.result, RECORD_RUN_FAILED);
	assert_null(r.error);
	assert_true(r.snapshots_changed);
	assert_int_equal(r.n_keep, 4);
	assert_int_equal(r.n_datasets, 4);
	const struct record_dataset *d = &r.datasets[0];
	assert_string_equal(d->target, "backup/h/tank/a");
	assert_int_equal(d->result, RECORD_OK);
	assert_true(d->newest_guid == 16045690984833335023ULL);
	assert_true(d->src_guid == 9223372036854775808ULL);
	assert_int_equal(d->dst_changed, 1795670100);
	assert_int_equal(d->last_success, 1795679070);
	assert_true(d->protected);
	d = &r.datasets[2];
	assert_int_equal(d->result, RECORD_FAILED);
	assert_string_equal(d->resume_token, "1-e604ea4bf-e0-789c63");
	assert_int_equal(d->src_changed, ZFS_NONE);
	assert_int_equal(d->last_success, 1795500100);
	d = &r.datasets[3];
	assert_int_equal(d->result, RECORD_SKIPPED);
	assert_true(d->matched_by_name);
	assert_false(d->large_blocks); /* no such key then */
	assert_null(d->newest);
	assert_int_equal(d->last_success, 0);
	record_free(&r);

	read_fixture("push-off-site-x.json", &r);
	assert_int_equal(r.kind, RECORD_PUSH);
	assert_string_equal(r.job, "off.site/x");
	assert_false(r.snapshots_changed);
	assert_int_equal(r.no_changed_since, 1795600000);
	assert_int_equal(r.n_keep, 0);
	assert_true(r.lock_held);
	assert_int_equal(r.held_at, 1795680600);
	assert_int_equal(r.held_pid, 4343);
	record_free(&r);

	/* a skip before any run: now written with every key */
	read_fixture("pull-held.json", &r);
	assert_int_equal(r.result, RECORD_RUN_HELD);
	assert_null(r.source_host);
	assert_int_equal(r.n_keep, -1);
	assert_int_equal(r.n_datasets, 0);
	assert_int_equal(r.start, 1795680500);
	assert_true(r.lock_held);
	assert_int_equal(r.held_pid, 4242);
	assert_int_equal(r.warnings.n, 0);
	record_free(&r);
}

/* Records of builds before the guid strings and before last_success,
 * resume_refused, keep and the run's snapshots_changed. */
static void test_version0_signed_guids(void **state)
{
	(void)state;
	struct record r;
	read_fixture("pull-old.json", &r);
	assert_int_equal(r.version, 0);
	assert_int_equal(r.n_keep, -1);
	assert_false(r.snapshots_changed);
	const struct record_dataset *a = record_find(&r, "backup/old/tank/a");
	assert_non_null(a);
	/* -2401053088876216593 and INT64_MIN: the same bits */
	assert_true(a->newest_guid == 16045690984833335023ULL);
	assert_true(a->src_guid == 9223372036854775808ULL);
	assert_true(a->dst_guid == 42);
	assert_int_equal(a->last_success, a->end); /* ok: its own end */
	assert_int_equal(record_find(&r, "backup/old/tank/a/c")->last_success, 1795679072);
	assert_int_equal(record_find(&r, "backup/old/tank/b")->last_success, 0);
	assert_null(record_find(&r, "backup/old/tank/b")->resume_refused);
	assert_int_equal(r.warnings.n, 0);
	/* written again: guids as strings */
	json_t *j = record_to_json(&r);
	json_t *nw = json_object_get(json_array_get(json_object_get(j, "datasets"), 0), "newest");
	assert_string_equal(json_string_value(json_object_get(nw, "guid")), "16045690984833335023");
	json_decref(j);
	record_free(&r);
}

static void test_newer_version(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, path = BUF_INIT, f = BUF_INIT;
	subdir("newer", &p);
	fixture_read("records/v0/pull-h.json", &f);
	struct buf v2 = BUF_INIT;
	buf_addf(&v2, "{\"version\": 2, %s", f.s + 1);
	put(p.s, "pull-h.json", v2.s, v2.len);
	buf_addf(&path, "%s/pull-h.json", p.s);
	struct record r;
	struct zerr e = ZERR_INIT;
	assert_int_equal(record_read(path.s, &r, &e), -EPROTONOSUPPORT);
	assert_null(r.job);
	assert_non_null(strstr(e.msg, path.s));
	assert_non_null(strstr(e.msg, "version 2"));
	assert_non_null(strstr(e.msg, "newer zkeep"));
	assert_non_null(strstr(e.msg, "remove the file"));
	/* the view leaves it out, saying why */
	struct record_list l;
	record_list_read(p.s, &l);
	assert_int_equal(l.n, 0);
	assert_int_equal(l.warnings.n, 1);
	assert_non_null(strstr(l.warnings.v[0], "cannot read run record in '"));
	assert_non_null(strstr(l.warnings.v[0], "'pull-h.json': run record version 2"));
	record_list_free(&l);
	/* a skip does not write over it */
	assert_int_equal(record_note_lock_held(p.s, RECORD_PULL, "h", 77, 1795680000, &e),
	                 -EPROTONOSUPPORT);
	char *now = slurp(path.s);
	assert_string_equal(now, v2.s);
	free(now);
	buf_free(&p);
	buf_free(&path);
	buf_free(&f);
	buf_free(&v2);
}

static void refused(const char *d, const char *name, const char *text, size_t len, int code,
                    const char *said)
{
	struct buf path = BUF_INIT;
	struct record r;
	struct zerr e = ZERR_INIT;
	if (text)
		put(d, name, text, len);
	buf_addf(&path, "%s/%s", d, name);
	int ret = record_read(path.s, &r, &e);
	if (ret != code || !strstr(e.msg, path.s) || !strstr(e.msg, said))
		fail_msg("%s: %d, '%s'; want %d and '%s'", name, ret, e.msg, code, said);
	assert_null(r.job);
	assert_int_equal(r.n_datasets, 0);
	record_free(&r);
	buf_free(&path);
}

static void test_not_records(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, f = BUF_INIT, big = BUF_INIT;
	subdir("bad", &p);
	fixture_read("records/v0/pull-h.json", &f);
#define T(s) s, sizeof(s) - 1
	refused(p.s, "missing.json", NULL, 0, -ENOENT, "cannot open");
	refused(p.s, "cut.json", f.s, f.len / 2, -EBADMSG, "cannot read");
	refused(p.s, "empty.json", T(""), -EBADMSG, "cannot read");
	refused(p.s, "garbage.json", T("\x01\xff{{not json"), -EBADMSG, "cannot read");
	refused(p.s, "array.json", T("[]"), -ENOMSG, "is not a zkeep run record");
	refused(p.s, "nojob.json", T("{\"kind\": \"pull\", \"datasets\": []}"), -ENOMSG,
	        "is not a zkeep run record");
	refused(p.s, "kind.json", T("{\"job\": \"h\", \"kind\": \"pully\", \"datasets\": []}"),
	        -ENOMSG, "is not a zkeep run record");
	refused(p.s, "nods.json", T("{\"job\": \"h\", \"kind\": \"pull\"}"), -ENOMSG,
	        "is not a zkeep run record");
	refused(p.s, "version.json",
	        T("{\"version\": \"1\", \"job\": \"h\", \"kind\": \"pull\", \"datasets\": []}"),
	        -ENOMSG, "version is not a number");
#undef T
	/* a good record, padded with spaces to a byte more than a record may be */
	buf_add(&big, f.s, f.len);
	while ((off_t)big.len <= STATE_RECORD_MAX)
		buf_addch(&big, ' ');
	refused(p.s, "big.json", big.s, big.len, -EFBIG, "larger than");
	struct buf fifo = BUF_INIT;
	buf_addf(&fifo, "%s/fifo.json", p.s);
	assert_int_equal(mkfifo(fifo.s, 0644), 0);
	refused(p.s, "fifo.json", NULL, 0, -EINVAL, "not a regular file");
	buf_free(&fifo);
	buf_free(&p);
	buf_free(&f);
	buf_free(&big);
}

/* Times and counts outside 0..2^53 are unknown, each with a warning that
 * names the file and key; entries without source, target and result are
 * left out; an unknown result is "unknown". */
static void test_numbers_and_entries(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, path = BUF_INIT;
	subdir("numbers", &p);
	static const char rec[] =
	    "{\"job\": \"h\", \"kind\": \"pull\", \"start\": -1, \"end\": 9007199254740993,"
	    " \"result\": \"weird\", \"datasets\": [{\"source\": \"a\", \"target\": \"t/a\","
	    " \"result\": \"ok\", \"bytes\": 1e300, \"start\": \"5\", \"end\": 9007199254740992,"
	    " \"newest\": {\"name\": \"a@s\", \"guid\": \"x\", \"creation\": -5}},"
	    " {\"source\": \"b\", \"target\": \"t/b\"}, {\"source\": \"c\", \"target\": \"t/c\","
	    " \"result\": \"exploded\", \"last_success\": 7}], \"lock_held\": {\"pid\": -2}}";
	put(p.s, "pull-h.json", rec, sizeof(rec) - 1);
	buf_addf(&path, "%s/pull-h.json", p.s);
	struct record r;
	struct zerr e = ZERR_INIT;
	assert_int_equal(record_read(path.s, &r, &e), 0);
	static const char *const keys[] = {"start", "end", "start", "bytes", "creation", "pid"};
	assert_int_equal(r.warnings.n, 6);
	for (size_t i = 0; i < 6; i++) {
		struct buf w = BUF_INIT;
		buf_addf(&w,
		         "run record '%s': '%s' is not a number from 0 to 2^53, taken as unknown",
		         path.s, keys[i]);
		assert_string_equal(r.warnings.v[i], w.s);
		buf_free(&w);
	}
	assert_int_equal(r.start, 0);
	assert_int_equal(r.end, 0);
	assert_int_equal(r.result, RECORD_RUN_UNKNOWN);
	assert_int_equal(r.n_datasets, 2);
	assert_int_equal(r.datasets[0].bytes, 0);
	assert_int_equal(r.datasets[0].end, 9007199254740992);
	assert_int_equal(r.datasets[0].last_success, 9007199254740992);
	assert_int_equal(r.datasets[0].newest_guid, 0);
	assert_int_equal(r.datasets[1].result, RECORD_UNKNOWN);
	assert_string_equal(record_result_name(r.datasets[1].result), "unknown");
	assert_false(record_result_ok(r.datasets[1].result));
	assert_int_equal(r.datasets[1].last_success, 7);
	assert_true(r.lock_held);
	assert_int_equal(r.held_pid, 0);
	record_free(&r);
	buf_free(&p);
	buf_free(&path);
}

/* Text that is not UTF-8 (a message cut mid-character, a Latin-1 banner)
 * is written with U+FFFD in place of each bad byte, not lost. */
static void test_not_utf8(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, path = BUF_INIT;
	subdir("utf8", &p);
	struct record r, back;
	record_init(&r, RECORD_PULL, "h");
	r.error = strdup("ssh: \xe9t\xe9");
	struct record_dataset *d = record_add(&r, "tank/a", "b/tank/a", RECORD_FAILED);
	d->error = strdup("cannot receive: \xff\xfe banner \xe2\x82");
	struct zerr e = ZERR_INIT;
	assert_int_equal(record_write(p.s, &r, &e), 0);
	buf_addf(&path, "%s/pull-h.json", p.s);
	assert_int_equal(record_read(path.s, &back, &e), 0);
	assert_string_equal(back.error, "ssh: \xef\xbf\xbdt\xef\xbf\xbd");
	assert_string_equal(back.datasets[0].error,
	                    "cannot receive: \xef\xbf\xbd\xef\xbf\xbd banner "
	                    "\xef\xbf\xbd\xef\xbf\xbd");
	record_free(&r);
	record_free(&back);
	buf_free(&p);
	buf_free(&path);
}

/* A skip for a seed job's lock: a fresh record without one, the rest of
 * the record kept with one. */
static void test_lock_held(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, path = BUF_INIT;
	subdir("held", &p);
	struct zerr e = ZERR_INIT;
	struct record r;
	assert_int_equal(record_note_lock_held(p.s, RECORD_PULL, "new", 77, 1795680000, &e), 0);
	buf_addf(&path, "%s/pull-new.json", p.s);
	assert_int_equal(record_read(path.s, &r, &e), 0);
	assert_int_equal(r.version, RECORD_VERSION);
	assert_string_equal(r.job, "new");
	assert_int_equal(r.result, RECORD_RUN_HELD);
	assert_int_equal(r.start, 1795680000);
	assert_int_equal(r.end, 1795680000);
	assert_int_equal(r.n_datasets, 0);
	assert_true(r.lock_held);
	assert_int_equal(r.held_at, 1795680000);
	assert_int_equal(r.held_pid, 77);
	record_free(&r);

	put_fixture(p.s, "pull-h.json");
	struct record before;
	buf_reset(&path);
	buf_addf(&path, "%s/pull-h.json", p.s);
	assert_int_equal(record_read(path.s, &before, &e), 0);
	assert_int_equal(record_note_lock_held(p.s, RECORD_PULL, "h", 78, 1795680001, &e), 0);
	assert_int_equal(record_read(path.s, &r, &e), 0);
	assert_true(r.lock_held);
	assert_int_equal(r.held_pid, 78);
	r.lock_held = false;
	r.held_at = r.held_pid = 0;
	json_t *j1 = record_to_json(&before), *j2 = record_to_json(&r);
	assert_true(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
	record_free(&r);
	record_free(&before);
	buf_free(&p);
	buf_free(&path);
}

/* Every record of a directory, by file name; the rest said. */
static void test_list(void **state)
{
	(void)state;
	struct buf p = BUF_INIT;
	subdir("list", &p);
	put_fixture(p.s, "push-off-site-x.json");
	put_fixture(p.s, "pull-h.json");
	put(p.s, "pull-broken.json", "{not json", 9);
	put(p.s, "pull-other.json", "{\"job\": \"x\"}", 12);
	put(p.s, "other.json", "{}", 2);      /* not a record's name */
	put(p.s, "pull-h.json.tmp", "{}", 2); /* nor this */
	struct record_list l;
	record_list_read(p.s, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].job, "h");
	assert_string_equal(l.v[1].job, "off.site/x");
	assert_int_equal(l.warnings.n, 2);
	struct buf w = BUF_INIT;
	buf_addf(&w,
	         "cannot read run record in '%s': cannot read 'pull-broken.json': line 1:", p.s);
	assert_memory_equal(l.warnings.v[0], w.s, w.len);
	buf_reset(&w);
	buf_addf(&w, "run record '%s/pull-other.json' is not a zkeep run record", p.s);
	assert_string_equal(l.warnings.v[1], w.s);
	record_list_free(&l);
	buf_reset(&w);
	buf_addf(&w, "%s/none", dir);
	record_list_read(w.s, &l); /* no state directory yet: nothing to say */
	assert_int_equal(l.n, 0);
	assert_int_equal(l.warnings.n, 0);
	record_list_free(&l);
	buf_free(&w);
	buf_free(&p);
}

/* A timer's record (what a snapshot or prune run's check was told) is
 * written as timer-NAME.json and listed only with the timers' records; a
 * file whose kind is not what its name promises is said, not taken. */
static void test_timer_records(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, path = BUF_INIT, w = BUF_INIT;
	struct zerr e = ZERR_INIT;
	subdir("timers", &p);
	put_fixture(p.s, "pull-h.json");
	struct record r;
	record_init(&r, RECORD_SNAPSHOT, "snapshot-hourly");
	r.start = 1795680000;
	r.end = 1795680004;
	r.result = RECORD_RUN_FAILED;
	record_add_note(&r, "healthcheck", false, "HTTP 503", 1795680005, 3);
	record_tally(&r, "healthcheck", 4, 1);
	assert_int_equal(record_write(p.s, &r, &e), 0);
	record_free(&r);
	record_path(&path, p.s, RECORD_PRUNE, "prune");
	buf_addf(&w, "%s/timer-prune.json", p.s);
	assert_string_equal(path.s, w.s);
	put(p.s, "timer-pull.json", "{\"job\": \"x\", \"kind\": \"pull\", \"datasets\": []}", 44);
	put(p.s, "pull-snap.json", "{\"job\": \"x\", \"kind\": \"snapshot\", \"datasets\": []}",
	    48);

	struct record_list l;
	record_timer_list_read(p.s, &l);
	assert_int_equal(l.n, 1);
	const struct record *t = &l.v[0];
	assert_int_equal(t->kind, RECORD_SNAPSHOT);
	assert_true(record_kind_is_timer(t->kind));
	assert_string_equal(record_kind_name(t->kind), "snapshot");
	assert_string_equal(t->job, "snapshot-hourly");
	assert_int_equal(t->result, RECORD_RUN_FAILED);
	assert_int_equal(t->start, 1795680000);
	assert_int_equal(t->n_notes, 1);
	assert_string_equal(t->notes[0].error, "HTTP 503");
	assert_int_equal(t->notes[0].attempts, 3);
	assert_int_equal(t->n_tallies, 1);
	assert_int_equal(t->tallies[0].sent, 4);
	assert_int_equal(t->tallies[0].failed, 1);
	assert_int_equal(t->n_datasets, 0);
	assert_int_equal(l.warnings.n, 1);
	buf_reset(&w);
	buf_addf(&w, "run record '%s/timer-pull.json' is not a zkeep run record", p.s);
	assert_string_equal(l.warnings.v[0], w.s);
	record_list_free(&l);

	record_list_read(p.s, &l); /* the jobs' records: no timer among them */
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].job, "h");
	assert_int_equal(l.warnings.n, 1);
	buf_reset(&w);
	buf_addf(&w, "run record '%s/pull-snap.json' is not a zkeep run record", p.s);
	assert_string_equal(l.warnings.v[0], w.s);
	record_list_free(&l);
	buf_free(&w);
	buf_free(&path);
	buf_free(&p);
}

/* The "runs" of /api/v1/backups for a state directory of records. */
static char *api_runs(struct zk_config *cfg, const char *state_dir, struct view **vp)
{
	struct buf conf = BUF_INIT, version = BUF_INIT, zpools = BUF_INIT, zlist = BUF_INIT,
	           zget = BUF_INIT;
	buf_addf(&conf, "[global]\nstate_dir = %s\nlock_dir = %s\n", state_dir, state_dir);
	config_init(cfg);
	struct zerr e = ZERR_INIT;
	if (config_load_string(cfg, "t.conf", conf.s, &e) < 0)
		fail_msg("%s", e.msg);
	fixture_read("2.3/version.out", &version);
	fixture_read("2.3/zpool-list.out", &zpools);
	fixture_read("2.3/zfs-list.out", &zlist);
	fixture_read("2.3/zfs-get-all.out", &zget);
	struct view_texts t = {version.s, zpools.s, zlist.s, zget.s, NULL, NULL, 0};
	struct view_opts o = {cfg, NULL, "h", 0, 1795680000, false};
	if (view_build(&o, &t, NULL, vp, &e) < 0)
		fail_msg("%s", e.msg);
	struct api_ctx c = {0};
	c.v = *vp;
	c.now = 1795680000;
	struct http_route r = {ROUTE_BACKUPS, NULL};
	struct http_response res = {0, "application/json", BUF_INIT, NULL, NULL, 0, NULL, NULL};
	api_handle(&c, &r, NULL, &res);
	json_t *j = json_loads(res.body.s, 0, NULL);
	assert_non_null(j);
	char *runs = json_dumps(json_object_get(j, "runs"), JSON_INDENT(1));
	json_decref(j);
	buf_free(&res.body);
	buf_free(&conf);
	buf_free(&version);
	buf_free(&zpools);
	buf_free(&zlist);
	buf_free(&zget);
	return runs;
}

/* /api/v1/backups as the build before lib/record served it for the
 * version 0 fixtures (tests/fixtures/records/api-runs.json), from those
 * records and from the same records written again as version 1. */
static void test_api_unchanged(void **state)
{
	(void)state;
	static const char *const names[] = {"pull-h.json", "pull-held.json", "pull-old.json",
	                                    "push-off-site-x.json"};
	struct buf v0 = BUF_INIT, v1 = BUF_INIT, want = BUF_INIT;
	fixture_read("records/api-runs.json", &want);
	subdir("api0", &v0);
	subdir("api1", &v1);
	for (size_t i = 0; i < 4; i++) {
		put_fixture(v0.s, names[i]);
		struct record r;
		struct zerr e = ZERR_INIT;
		read_fixture(names[i], &r);
		assert_int_equal(record_write(v1.s, &r, &e), 0);
		record_free(&r);
	}
	const char *dirs[] = {v0.s, v1.s};
	for (size_t i = 0; i < 2; i++) {
		struct view *v = NULL;
		struct zk_config cfg;
		char *runs = api_runs(&cfg, dirs[i], &v);
		struct buf got = BUF_INIT;
		buf_addf(&got, "%s\n", runs);
		assert_string_equal(got.s, want.s);
		assert_int_equal(v->warnings.n, 0);
		/* the skips for a seed job's lock, from the same records */
		assert_int_equal(v->n_skips, 2);
		assert_string_equal(v->skips[0].job, "held");
		assert_string_equal(v->skips[0].kind, "pull");
		assert_int_equal(v->skips[0].at, 1795680500);
		assert_int_equal(v->skips[1].pid, 4343);
		assert_string_equal(v->skips[1].kind, "push");
		free(runs);
		buf_free(&got);
		view_put(v);
		config_free(&cfg);
	}
	buf_free(&v0);
	buf_free(&v1);
	buf_free(&want);
}

/* notification_totals from a file not trusted: only the five channels,
 * an object each; anything else left out with a warning. */
static void test_tallies_untrusted(void **state)
{
	(void)state;
	struct buf p = BUF_INIT, path = BUF_INIT;
	subdir("tallies", &p);
	static const char rec[] =
	    "{\"version\": 1, \"job\": \"h\", \"kind\": \"pull\", \"datasets\": [],"
	    " \"notification_totals\": {\"webhook\": {\"sent\": 3, \"failed\": -1},"
	    " \"x-label\\\"}\": {\"sent\": 1}, \"healthcheck\": 7, \"on_failure\": {}}}";
	put(p.s, "pull-h.json", rec, sizeof(rec) - 1);
	buf_addf(&path, "%s/pull-h.json", p.s);
	struct record r;
	struct zerr e = ZERR_INIT;
	assert_int_equal(record_read(path.s, &r, &e), 0);
	assert_int_equal(r.n_tallies, 2);
	assert_string_equal(r.tallies[0].channel, "on_failure");
	assert_int_equal(r.tallies[0].sent + r.tallies[0].failed, 0);
	assert_string_equal(r.tallies[1].channel, "webhook");
	assert_int_equal(r.tallies[1].sent, 3);
	assert_int_equal(r.tallies[1].failed, 0);
	assert_int_equal(r.warnings.n, 2); /* the -1, the unknown channel */
	record_free(&r);
	buf_free(&p);
	buf_free(&path);
}

/* large_blocks came within version 1: a version 1 record written before
 * it (no key) reads as "never sent -L", and one with it reads it back. */
static void test_large_blocks_key(void **state)
{
	(void)state;
	struct record r, back;
	struct buf p = BUF_INIT;
	struct zerr e = ZERR_INIT;
	record_init(&r, RECORD_PULL, "h");
	record_add(&r, "tank/a", "backup/h/tank/a", RECORD_OK)->large_blocks = true;
	record_add(&r, "tank/b", "backup/h/tank/b", RECORD_OK);
	json_t *j = record_to_json(&r);
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(j, "datasets"), i, d)
	{
		assert_true(json_is_boolean(json_object_get(d, "large_blocks")));
		json_object_del(d, "large_blocks"); /* as the writer before it */
	}
	subdir("large", &p);
	buf_adds(&p, "/pull-h.json");
	assert_int_equal(json_dump_file(j, p.s, 0), 0);
	json_decref(j);
	assert_int_equal(record_read(p.s, &back, &e), 0);
	assert_int_equal(back.warnings.n, 0);
	assert_int_equal(back.n_datasets, 2);
	assert_false(record_find(&back, "backup/h/tank/a")->large_blocks);
	assert_false(record_find(&back, "backup/h/tank/b")->large_blocks);
	record_free(&back);
	record_free(&r); /* written with the key: test_round_trip */
	buf_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_large_blocks_key),
	    cmocka_unit_test(test_version0),
	    cmocka_unit_test(test_version0_signed_guids),
	    cmocka_unit_test(test_newer_version),
	    cmocka_unit_test(test_not_records),
	    cmocka_unit_test(test_numbers_and_entries),
	    cmocka_unit_test(test_tallies_untrusted),
	    cmocka_unit_test(test_not_utf8),
	    cmocka_unit_test(test_lock_held),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_timer_records),
	    cmocka_unit_test(test_api_unchanged),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
