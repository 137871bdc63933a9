#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "zfs.h"

static const char *const flavours[] = {"2.1", "2.3"};
#define FOR_FLAVOURS(var, name, path)                                                              \
	for (size_t var##_i = 0; var##_i < 2; var##_i++)                                           \
		for (int var##_once =                                                              \
		         snprintf(path, sizeof(path), "%s/%s", flavours[var##_i], name),           \
		         var = fixture_exists(path);                                               \
		     var##_once >= 0 && var; var##_once = -1, var = 0)

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_names(void **state)
{
	(void)state;
	static const char *const good[] = {
	    "tank",        "tank/a",      "tank/with space",
	    "t/a.b:c-d_e", "tank/a@snap", "tank@autosnap_2026-01-21_14:00:00_hourly",
	    "tank/a#bm",
	};
	static const struct {
		const char *name;
		unsigned types;
	} bad[] = {
	    {"", ZFS_TYPE_DATASET},
	    {"/tank", ZFS_TYPE_DATASET},
	    {"tank/", ZFS_TYPE_DATASET},
	    {"tank//a", ZFS_TYPE_DATASET},
	    {"tank/../etc", ZFS_TYPE_DATASET},
	    {"tank/.", ZFS_TYPE_DATASET},
	    {"1tank", ZFS_TYPE_DATASET},
	    {"tank/it's", ZFS_TYPE_DATASET},
	    {"tank/\"q\"", ZFS_TYPE_DATASET},
	    {"tank/$(x)", ZFS_TYPE_DATASET},
	    {"tank/a;b", ZFS_TYPE_DATASET},
	    {"tank/`x`", ZFS_TYPE_DATASET},
	    {"tank/new\nline", ZFS_TYPE_DATASET},
	    {"tank/tab\t", ZFS_TYPE_DATASET},
	    {"tank@a@b", ZFS_TYPE_SNAPSHOT},
	    {"tank@", ZFS_TYPE_SNAPSHOT},
	    {"tank@a/b", ZFS_TYPE_SNAPSHOT},
	    {"tank@a#b", ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK},
	    {"tank@snap", ZFS_TYPE_DATASET},
	    {"tank/a", ZFS_TYPE_SNAPSHOT},
	};
	struct zerr e = ZERR_INIT;
	unsigned all = ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(zfs_name_check(good[i], all, &e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		if (zfs_name_check(bad[i].name, bad[i].types, &e) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i].name);
		assert_non_null(strstr(e.msg, "invalid name"));
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(zfs_name_check(longname, all, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than"));
	char pool[64];
	assert_int_equal(zfs_name_pool("tank/a/b@s", pool, sizeof(pool)), 0);
	assert_string_equal(pool, "tank");
}

static void test_list_argv(void **state)
{
	(void)state;
	struct strvec v = STRVEC_INIT;
	zfs_list_argv(&v, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, 0, true,
	              (const char *const[]){"tank/a", "tank/b c", NULL});
	struct buf all = BUF_INIT;
	for (size_t i = 0; i < v.n; i++)
		buf_addf(&all, "%s|", v.v[i]);
	assert_string_equal(all.s, "zfs|list|-Hp|-t|snapshot,bookmark|-o|name,type,guid,createtxg,"
	                           "creation,used,available,referenced|-s|createtxg|-r|tank/a|"
	                           "tank/b c|");
	buf_free(&all);
	strvec_clear(&v);
}

static void joined(const struct strvec *v, const char *want)
{
	struct buf all = BUF_INIT;
	for (size_t i = 0; i < v->n; i++)
		buf_addf(&all, "%s|", v->v[i]);
	assert_string_equal(all.s, want);
	buf_free(&all);
}

/* The short forms (issue 22): snapshots as name,guid,createtxg, which
 * OpenZFS >= 2.2 lists without opening each one, the type from the name;
 * the datasets' facts apart. */
static void test_short_listings(void **state)
{
	(void)state;
	struct strvec v = STRVEC_INIT;
	zfs_list_argv(&v, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, ZFS_COL_SHORT | ZFS_COL_NOTYPE,
	              true, (const char *const[]){"tank/a", NULL});
	joined(&v, "zfs|list|-Hp|-t|snapshot,bookmark|-o|name,guid,createtxg|-s|createtxg|-r|"
	           "tank/a|");
	strvec_clear(&v);
	zfs_list_argv(&v, ZFS_TYPE_DATASET,
	              ZFS_COL_SHORT | ZFS_COL_SNAPSHOTS_CHANGED | ZFS_COL_RESUME_TOKEN, true,
	              (const char *const[]){"tank/a", NULL});
	joined(&v, "zfs|list|-Hp|-t|filesystem,volume|-o|name,type,guid,createtxg,snapshots_"
	           "changed,receive_resume_token|-s|createtxg|-r|tank/a|");
	strvec_clear(&v);

	struct zfs_list l;
	struct zerr e = ZERR_INIT;
	static const char snaps[] = "tank/a@s1\t1234\t40\ntank/a#zkeep_h_s1\t1234\t40\n"
	                            "tank/a@s 2\t99\t41\n";
	assert_int_equal(
	    zfs_list_parse(&l, snaps, strlen(snaps), ZFS_COL_SHORT | ZFS_COL_NOTYPE, &e), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[0].type, ZFS_TYPE_SNAPSHOT);
	assert_int_equal(l.v[1].type, ZFS_TYPE_BOOKMARK);
	assert_string_equal(l.v[2].name, "tank/a@s 2");
	assert_true(l.v[0].guid == 1234 && l.v[0].createtxg == 40);
	assert_true(l.v[0].creation == ZFS_NONE && l.v[0].used == ZFS_NONE);
	assert_true(l.v[0].userrefs == ZFS_NONE && !l.v[0].resume_token);
	zfs_list_free(&l);

	static const char ds[] = "tank/a\tfilesystem\t77\t3\t1700000000\t-\n"
	                         "tank/a/v\tvolume\t78\t9\t-\t1-abc-0\n";
	assert_int_equal(
	    zfs_list_parse(&l, ds, strlen(ds),
	                   ZFS_COL_SHORT | ZFS_COL_SNAPSHOTS_CHANGED | ZFS_COL_RESUME_TOKEN, &e),
	    0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].type, ZFS_TYPE_VOLUME);
	assert_true(l.v[0].snapshots_changed == 1700000000 && l.v[1].snapshots_changed == ZFS_NONE);
	assert_string_equal(l.v[1].resume_token, "1-abc-0");
	zfs_list_free(&l);

	/* a dataset row where only snapshots may be, a row of the long form,
	 * a missing guid: refused whole */
	static const char *const bad[] = {"tank/a\t1\t2\n", "tank/a@s1\tsnapshot\t1\t2\n",
	                                  "tank/a@s1\t-\t2\n", "tank/a@s1\t1\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e = (struct zerr)ZERR_INIT;
		assert_int_equal(
		    zfs_list_parse(&l, bad[i], strlen(bad[i]), ZFS_COL_SHORT | ZFS_COL_NOTYPE, &e),
		    -EPROTO);
		assert_non_null(strstr(e.msg, "line 1"));
	}
}

/* A batched hold or release fails as a whole when one snapshot of it
 * does: done, when every line says the benign thing. */
static void test_err_all(void **state)
{
	(void)state;
	static const char exists[] =
	    "cannot hold snapshot 'tank/a@s1': tag already exists on this dataset\n"
	    "cannot hold snapshot 'tank/b@s1': tag already exists on this dataset\n";
	assert_true(zfs_err_all(exists, ZFS_ERR_EXISTS));
	assert_true(zfs_err_all("Warning: Permanently added 'h' (ED25519) to the list of known "
	                        "hosts.\r\ncannot hold snapshot 'tank/a@s1': tag already exists "
	                        "on this dataset\n",
	                        ZFS_ERR_EXISTS));
	assert_false(zfs_err_all("cannot hold snapshot 'tank/a@s1': tag already exists on this "
	                         "dataset\ncannot hold: permission denied\n",
	                         ZFS_ERR_EXISTS));
	assert_true(zfs_err_all("cannot release hold from snapshot 'tank/a@s1': no such tag on "
	                        "this dataset\n",
	                        ZFS_ERR_NO_SUCH_TAG));
	assert_false(zfs_err_all("", ZFS_ERR_EXISTS));
	assert_false(zfs_err_all(exists, ZFS_ERR_NO_SUCH_TAG));
}

/* The listing of the fixture pool: every line parsed, in order. */
static void test_list_fixture(void **state)
{
	(void)state;
	char path[64];
	int seen = 0;
	FOR_FLAVOURS(ok, "zfs-list.out", path)
	{
		struct buf text = BUF_INIT;
		struct zfs_list l;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zfs_list_parse(&l, text.s, text.len, 0, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_int_equal(l.n, count_lines(text.s));
		const struct zfs_obj *root = zfs_list_find(&l, "fixt");
		assert_non_null(root);
		assert_int_equal(root->type, ZFS_TYPE_FILESYSTEM);
		assert_true(root->available != ZFS_NONE && root->guid != 0);
		const struct zfs_obj *sp = zfs_list_find(&l, "fixt/data/with space");
		assert_non_null(sp);
		const struct zfs_obj *vol = zfs_list_find(&l, "fixt/vol");
		assert_int_equal(vol->type, ZFS_TYPE_VOLUME);
		const struct zfs_obj *snap =
		    zfs_list_find(&l, "fixt/data@autosnap_2026-01-22_00:15:00_daily");
		const struct zfs_obj *bm = zfs_list_find(&l, "fixt/data#zkeep-base");
		assert_non_null(snap);
		assert_non_null(bm);
		assert_int_equal(snap->type, ZFS_TYPE_SNAPSHOT);
		assert_int_equal(snap->available, ZFS_NONE);
		assert_int_equal(bm->type, ZFS_TYPE_BOOKMARK);
		assert_int_equal(bm->used, ZFS_NONE);
		/* a bookmark carries the guid and txg of its snapshot */
		assert_true(bm->guid == snap->guid);
		assert_true(bm->createtxg == snap->createtxg);
		/* -s createtxg: history order */
		for (size_t i = 1; i < l.n; i++)
			assert_true(l.v[i - 1].createtxg <= l.v[i].createtxg);
		zfs_list_free(&l);
		buf_free(&text);
		seen++;
	}
	assert_true(seen >= 1);
}

/* The policy jobs' names listing: its argv, and its output parsed as the
 * names of a captured listing (-s createtxg, bookmarks left out as the
 * names listing does not ask for them) give the same datasets and
 * snapshots in the same order; a volume reads as a dataset. */
static void test_names_tree(void **state)
{
	(void)state;
	struct strvec argv = STRVEC_INIT;
	zfs_names_tree_argv(&argv, (const char *const[]){"tank/a", "tank/b", NULL});
	struct buf cmd = BUF_INIT;
	for (size_t i = 0; i < argv.n; i++)
		buf_addf(&cmd, "%s%s", i ? " " : "", argv.v[i]);
	assert_string_equal(cmd.s, "zfs list -H -o name -s createtxg -t "
	                           "filesystem,volume,snapshot -r tank/a tank/b");
	strvec_clear(&argv);
	buf_free(&cmd);
	char path[64];
	int seen = 0;
	FOR_FLAVOURS(ok, "zfs-list.out", path)
	{
		struct buf text = BUF_INIT, names = BUF_INIT;
		struct zfs_list full, l;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		assert_int_equal(zfs_list_parse(&full, text.s, text.len, 0, &e), 0);
		for (size_t i = 0; i < full.n; i++)
			if (full.v[i].type != ZFS_TYPE_BOOKMARK)
				buf_addf(&names, "%s\n", full.v[i].name);
		if (zfs_names_tree_parse(&l, names.s, names.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		size_t k = 0;
		for (size_t i = 0; i < full.n; i++) {
			if (full.v[i].type == ZFS_TYPE_BOOKMARK)
				continue;
			assert_string_equal(l.v[k].name, full.v[i].name);
			assert_true((l.v[k].type == ZFS_TYPE_SNAPSHOT) ==
			            (full.v[i].type == ZFS_TYPE_SNAPSHOT));
			assert_true(k == 0 || l.v[k - 1].createtxg < l.v[k].createtxg);
			k++;
		}
		assert_int_equal(l.n, k);
		assert_int_equal(zfs_list_find(&l, "fixt/vol")->type, ZFS_TYPE_FILESYSTEM);
		zfs_list_free(&l);
		zfs_list_free(&full);
		buf_free(&text);
		buf_free(&names);
		seen++;
	}
	assert_true(seen >= 1);
	struct zfs_list bad;
	struct zerr e = ZERR_INIT;
	assert_int_equal(zfs_names_tree_parse(&bad, "tank/a\tx\n", 9, &e), -EPROTO);
	assert_int_equal(zfs_names_tree_parse(&bad, "tank/a@\n", 8, &e), -EPROTO);
}

static void test_list_snapshots_changed(void **state)
{
	(void)state;
	char path[64];
	FOR_FLAVOURS(ok, "zfs-list-changed.out", path)
	{
		struct buf text = BUF_INIT;
		struct zfs_list l;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zfs_list_parse(&l, text.s, text.len, ZFS_COL_SNAPSHOTS_CHANGED, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		const struct zfs_obj *d = zfs_list_find(&l, "fixt/data");
		assert_true(d->snapshots_changed != ZFS_NONE && d->snapshots_changed > 0);
		/* and the 8-column parse refuses the 9-column text */
		struct zfs_list l8;
		assert_int_equal(zfs_list_parse(&l8, text.s, text.len, 0, &e), -EPROTO);
		zfs_list_free(&l);
		buf_free(&text);
	}
}

/* receive_resume_token: captured from a real interrupted `receive -s` of
 * a full stream (the partial dataset lists with its token). */
static void test_list_resume_token(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	struct zfs_list l;
	struct zerr e = ZERR_INIT;
	fixture_read("2.3/zfs-list-resume.out", &text);
	if (zfs_list_parse(&l, text.s, text.len, ZFS_COL_RESUME_TOKEN, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(l.n, 1);
	assert_non_null(l.v[0].resume_token);
	assert_true(!strncmp(l.v[0].resume_token, "1-", 2));
	assert_true(strlen(l.v[0].resume_token) > 100);
	zfs_list_free(&l);

	/* '-' is no token; anything but hex and dashes is refused */
	const char *tab = strrchr(text.s, '\t');
	assert_non_null(tab);
	static const char *const bad[] = {"1-abc;rm -rf /", "", "1-ABC", "1 2", NULL};
	for (int k = -1; k < 0 || bad[k]; k++) {
		struct buf edit = BUF_INIT;
		buf_add(&edit, text.s, (size_t)(tab + 1 - text.s));
		buf_addf(&edit, "%s\n", k < 0 ? "-" : bad[k]);
		int r = zfs_list_parse(&l, edit.s, edit.len, ZFS_COL_RESUME_TOKEN, &e);
		if (k < 0) {
			assert_int_equal(r, 0);
			assert_null(l.v[0].resume_token);
			zfs_list_free(&l);
		} else {
			assert_int_equal(r, -EPROTO);
			assert_non_null(strstr(e.msg, "line 1"));
		}
		buf_free(&edit);
	}
	/* the column is asked for by name */
	struct strvec argv = STRVEC_INIT;
	zfs_list_argv(&argv, ZFS_TYPE_DATASET, ZFS_COL_RESUME_TOKEN, true, NULL);
	assert_non_null(strstr(argv.v[6], ",referenced,receive_resume_token"));
	strvec_clear(&argv);
	buf_free(&text);
}

/* Malformed input: every variant of a real line is refused with its line. */
static void test_list_malformed(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	fixture_read("2.1/zfs-list.out", &text);
	char *first_nl = strchr(text.s, '\n');
	assert_non_null(first_nl);
	struct buf good_line = BUF_INIT;
	buf_add(&good_line, text.s, (size_t)(first_nl - text.s));

	static const struct {
		const char *from, *to, *msg;
	} edits[] = {
	    {"\tfilesystem\t", "\tpony\t", "unknown type"},
	    {"\tfilesystem\t", "\tfilesystem\t\t", "more than 8 fields"},
	    {"\tfilesystem\t", "\t", "expected 8 fields"},
	    {"fixt\t", "fixt;rm -rf /\t", "invalid name"},
	};
	struct zerr e = ZERR_INIT;
	struct zfs_list l;
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		struct buf bad = BUF_INIT;
		const char *at = strstr(good_line.s, edits[i].from);
		assert_non_null(at);
		buf_add(&bad, text.s, (size_t)(first_nl - text.s) + 1); /* a good line 1 */
		buf_add(&bad, good_line.s, (size_t)(at - good_line.s));
		buf_adds(&bad, edits[i].to);
		buf_adds(&bad, at + strlen(edits[i].from));
		buf_addch(&bad, '\n');
		assert_int_equal(zfs_list_parse(&l, bad.s, bad.len, 0, &e), -EPROTO);
		if (!strstr(e.msg, edits[i].msg) || !strstr(e.msg, "line 2"))
			fail_msg("edit %zu: unexpected message '%s'", i, e.msg);
		buf_free(&bad);
	}
	/* numbers: not digits, negative, overflowing */
	static const char *const nums[] = {"12a", "-5", "18446744073709551616", "", "1e9", " 1"};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		struct buf bad = BUF_INIT;
		buf_addf(&bad, "fixt\tfilesystem\t%s\t1\t1\t1\t1\t1\n", nums[i]);
		assert_int_equal(zfs_list_parse(&l, bad.s, bad.len, 0, &e), -EPROTO);
		assert_non_null(strstr(e.msg, "guid"));
		buf_free(&bad);
	}
	/* '-' is "none" for sizes, never for identity (guid, createtxg, creation) */
	const char dash_guid[] = "fixt\tfilesystem\t-\t1\t1\t1\t1\t1\n";
	assert_int_equal(zfs_list_parse(&l, dash_guid, sizeof(dash_guid) - 1, 0, &e), -EPROTO);
	const char dash_txg[] = "fixt\tfilesystem\t5\t-\t1\t1\t1\t1\n";
	assert_int_equal(zfs_list_parse(&l, dash_txg, sizeof(dash_txg) - 1, 0, &e), -EPROTO);
	const char dash_used[] = "fixt#b\tbookmark\t5\t1\t1\t-\t-\t1\n";
	assert_int_equal(zfs_list_parse(&l, dash_used, sizeof(dash_used) - 1, 0, &e), 0);
	zfs_list_free(&l);
	/* NUL and CR bytes, an overlong line, oversized output */
	const char nul[] = "fixt\tfilesystem\t1\t1\t1\t1\t1\t1\n\0";
	assert_int_equal(zfs_list_parse(&l, nul, sizeof(nul) - 1, 0, &e), -EPROTO);
	const char cr[] = "fixt\tfilesystem\t1\t1\t1\t1\t1\t1\r\n";
	assert_int_equal(zfs_list_parse(&l, cr, sizeof(cr) - 1, 0, &e), -EPROTO);
	struct buf huge = BUF_INIT;
	buf_adds(&huge, "fixt/");
	for (int i = 0; i < ZFS_LINE_MAX; i++)
		buf_addch(&huge, 'a');
	buf_adds(&huge, "\tfilesystem\t1\t1\t1\t1\t1\t1\n");
	assert_int_equal(zfs_list_parse(&l, huge.s, huge.len, 0, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "longer than"));
	/* the size check comes before the text is touched */
	assert_int_equal(zfs_list_parse(&l, "", ZFS_OUTPUT_MAX + 1, 0, &e), -E2BIG);
	/* empty output is an empty list */
	assert_int_equal(zfs_list_parse(&l, "", 0, 0, &e), 0);
	assert_int_equal(l.n, 0);
	zfs_list_free(&l);
	buf_free(&huge);
	buf_free(&good_line);
	buf_free(&text);
}

static void test_zpool_list_fixture(void **state)
{
	(void)state;
	char path[64];
	FOR_FLAVOURS(ok, "zpool-list.out", path)
	{
		struct buf text = BUF_INIT;
		struct zpool_list l;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zpool_list_parse(&l, text.s, text.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.v[0].name, "deg");
		assert_string_equal(l.v[0].health, "DEGRADED");
		assert_string_equal(l.v[1].name, "fixt");
		assert_string_equal(l.v[1].health, "ONLINE");
		assert_true(l.v[1].size == l.v[1].allocated + l.v[1].free);
		assert_true(l.v[1].fragmentation != ZFS_NONE);
		assert_true(l.v[1].capacity <= 100);
		zpool_list_free(&l);

		/* fragmentation '-' (pools without the feature) is "none", not
		 * an error, unlike the seed; '-' anywhere else is refused */
		char *tab = text.s;
		for (int i = 0; i < 4; i++)
			tab = strchr(tab, '\t') + 1;
		struct buf dash = BUF_INIT;
		buf_add(&dash, text.s, (size_t)(tab - text.s));
		buf_adds(&dash, "-");
		buf_adds(&dash, strchr(tab, '\t'));
		assert_int_equal(zpool_list_parse(&l, dash.s, dash.len, &e), 0);
		assert_true(l.v[0].fragmentation == ZFS_NONE);
		zpool_list_free(&l);
		buf_reset(&dash);
		/* an UNAVAIL or FAULTED pool: zpool prints '-' for every number */
		buf_adds(&dash, "tank\t-\t-\t-\t-\t-\tFAULTED\n");
		assert_int_equal(zpool_list_parse(&l, dash.s, dash.len, &e), 0);
		assert_true(l.v[0].size == ZFS_NONE && l.v[0].capacity == ZFS_NONE);
		zpool_list_free(&l);
		buf_reset(&dash);
		buf_adds(&dash, "tank\tbig\t1\t1\t1\t1\tONLINE\n");
		assert_int_equal(zpool_list_parse(&l, dash.s, dash.len, &e), -EPROTO);
		buf_reset(&dash);
		buf_adds(&dash, "tank/x\t1\t1\t1\t1\t1\tONLINE\n");
		assert_int_equal(zpool_list_parse(&l, dash.s, dash.len, &e), -EPROTO);
		buf_reset(&dash);
		buf_adds(&dash, "tank\t1\t1\t1\t1\t1\tonline; rm\n");
		assert_int_equal(zpool_list_parse(&l, dash.s, dash.len, &e), -EPROTO);
		buf_free(&dash);
		buf_free(&text);
	}
}

static void test_props_and_holds_fixture(void **state)
{
	(void)state;
	char path[64];
	FOR_FLAVOURS(ok, "zfs-get-all.out", path)
	{
		struct buf text = BUF_INIT;
		struct zfs_props p;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zfs_props_parse(&p, text.s, text.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_int_equal(p.n, count_lines(text.s));
		assert_true(p.n > 40);
		int found = 0;
		for (size_t i = 0; i < p.n; i++) {
			assert_string_equal(p.v[i].dataset, "fixt/data");
			if (!strcmp(p.v[i].property, "type")) {
				assert_string_equal(p.v[i].value, "filesystem");
				found++;
			}
			if (!strcmp(p.v[i].property, "mountpoint")) {
				assert_string_equal(p.v[i].value, "/fixt/data");
				found++;
			}
		}
		assert_int_equal(found, 2);
		zfs_props_free(&p);
		/* a user property whose value fakes a second row is refused */
		struct buf forged = BUF_INIT;
		buf_add(&forged, text.s, text.len);
		buf_adds(&forged,
		         "fixt/data\tcom.x:note\tv\tlocal\nfixt/data\tcompression\toff\tlocal\n");
		assert_int_equal(zfs_props_parse(&p, forged.s, forged.len, &e), -EPROTO);
		assert_non_null(strstr(e.msg, "appears twice"));
		buf_free(&forged);
		buf_free(&text);
	}
	FOR_FLAVOURS(ok2, "zfs-holds.out", path)
	{
		struct buf text = BUF_INIT;
		struct zfs_holds h;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zfs_holds_parse(&h, text.s, text.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_int_equal(h.n, 2);
		int zk = 0;
		for (size_t i = 0; i < h.n; i++) {
			assert_string_equal(h.v[i].snapshot,
			                    "fixt/data@autosnap_2026-01-22_00:15:00_daily");
			zk += !strcmp(h.v[i].tag, "zkeep:pull-a");
		}
		assert_int_equal(zk, 1);
		zfs_holds_free(&h);
		buf_free(&text);
	}
}

static void test_zpool_status_fixture(void **state)
{
	(void)state;
	char path[64];
	FOR_FLAVOURS(ok, "zpool-status.out", path)
	{
		struct buf text = BUF_INIT;
		struct zpool_status s;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zpool_status_parse(&s, text.s, text.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_string_equal(s.pool, "fixt");
		assert_string_equal(s.state, "ONLINE");
		assert_non_null(strstr(s.scan, "scrub repaired"));
		assert_string_equal(s.errors, "No known data errors");
		assert_int_equal(s.n_vdevs, 4);
		assert_string_equal(s.vdevs[0].name, "fixt");
		assert_int_equal(s.vdevs[0].depth, 0);
		assert_string_equal(s.vdevs[1].name, "mirror-0");
		assert_int_equal(s.vdevs[1].depth, 1);
		assert_string_equal(s.vdevs[3].name, "/var/tmp/fixt-b");
		assert_int_equal(s.vdevs[3].depth, 2);
		assert_string_equal(s.text, text.s);
		zpool_status_free(&s);
		/* file vdevs may have spaces in their names */
		struct buf sp = BUF_INIT;
		const char *at = strstr(text.s, "/var/tmp/fixt-a");
		assert_non_null(at);
		buf_add(&sp, text.s, (size_t)(at - text.s));
		buf_adds(&sp, "/var/tmp/fixt a");
		buf_adds(&sp, at + strlen("/var/tmp/fixt-a"));
		if (zpool_status_parse(&s, sp.s, sp.len, &e) < 0)
			fail_msg("%s", e.msg);
		assert_string_equal(s.vdevs[2].name, "/var/tmp/fixt a");
		assert_string_equal(s.vdevs[2].state, "ONLINE");
		zpool_status_free(&s);
		buf_free(&sp);
		buf_free(&text);
	}
	FOR_FLAVOURS(ok2, "zpool-status-degraded.out", path)
	{
		struct buf text = BUF_INIT;
		struct zpool_status s;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		if (zpool_status_parse(&s, text.s, text.len, &e) < 0)
			fail_msg("%s: %s", path, e.msg);
		assert_string_equal(s.state, "DEGRADED");
		/* continuation lines are joined into one sentence */
		assert_non_null(strstr(s.status, "taken offline by the administrator. Sufficient"));
		assert_non_null(strstr(s.action, "zpool online"));
		assert_string_equal(s.vdevs[3].state, "OFFLINE");
		zpool_status_free(&s);

		/* two pools in one parse, a bad counter, no header: refused */
		struct buf two = BUF_INIT;
		buf_add(&two, text.s, text.len);
		buf_add(&two, text.s, text.len);
		assert_int_equal(zpool_status_parse(&s, two.s, two.len, &e), -EPROTO);
		assert_int_equal(zpool_status_parse(&s, "config:\n", 8, &e), -EPROTO);
		const char *bad = "  pool: x\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE "
		                  "CKSUM\n\tx ONLINE 0 zero 0\n";
		assert_int_equal(zpool_status_parse(&s, bad, strlen(bad), &e), -EPROTO);
		assert_non_null(strstr(e.msg, "WRITE"));
		buf_free(&two);
		buf_free(&text);
	}
}

static void test_version(void **state)
{
	(void)state;
	char path[64];
	int seen = 0;
	FOR_FLAVOURS(ok, "version.out", path)
	{
		struct buf text = BUF_INIT;
		struct zfs_caps c;
		struct zerr e = ZERR_INIT;
		fixture_read(path, &text);
		assert_int_equal(zfs_version_parse(&c, text.s, text.len, &e), 0);
		assert_int_equal(c.major, 2);
		assert_int_equal(c.minor, flavours[ok_i][2] - '0');
		assert_true(c.resume && c.raw_send && c.bookmarks && c.holds);
		assert_true(c.send_compressed && c.send_large_blocks && c.send_embedded);
		assert_int_equal(c.snapshots_changed, c.minor >= 2);
		buf_free(&text);
		seen++;
	}
	assert_true(seen >= 1);
	struct zfs_caps c;
	struct zerr e = ZERR_INIT;
	/* the older of userland and module decides */
	const char *mixed = "zfs-2.3.1-1~bpo12+1\nzfs-kmod-2.1.11-1\n";
	assert_int_equal(zfs_version_parse(&c, mixed, strlen(mixed), &e), 0);
	assert_int_equal(c.minor, 1);
	assert_false(c.snapshots_changed);
	const char *nomod = "zfs-2.2.0-rc4\n";
	assert_int_equal(zfs_version_parse(&c, nomod, strlen(nomod), &e), 0);
	assert_true(c.snapshots_changed);
	assert_int_equal(zfs_version_parse(&c, "garbage\n", 8, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "0.8"));
	/* send -e came in 0.6.4, -c in 0.7; -L is taken from 2.0 on (zfs.h) */
	static const struct {
		const char *text;
		bool c, l, e;
	} sends[] = {{"zfs-0.6.3-1\n", false, false, false},
	             {"zfs-0.6.4-1\n", false, false, true},
	             {"zfs-0.6.5.11-1\n", false, false, true},
	             {"zfs-0.7.0-1\n", true, false, true},
	             {"zfs-0.8.6-1\n", true, false, true},
	             {"zfs-2.0.0-1\n", true, true, true},
	             {"zfs-2.3.1-1\nzfs-kmod-0.8.3-1\n", true, false, true},
	             {"zfs-2.3.1-1\nzfs-kmod-0.6.5.9-1\n", false, false, true}};
	for (size_t i = 0; i < sizeof(sends) / sizeof(sends[0]); i++) {
		assert_int_equal(zfs_version_parse(&c, sends[i].text, strlen(sends[i].text), &e),
		                 0);
		assert_int_equal(c.send_compressed, sends[i].c);
		assert_int_equal(c.send_large_blocks, sends[i].l);
		assert_int_equal(c.send_embedded, sends[i].e);
	}
}

/* A pool's features from zpool get all: active and enabled are on,
 * encryption only when active; a feature an older OpenZFS does not
 * name is off; an unknown value or no feature at all is refused. */
static void test_pool_features(void **state)
{
	(void)state;
	static const char all[] = "size\t10737418240\nfeature@async_destroy\tenabled\n"
	                          "feature@lz4_compress\tactive\nfeature@large_blocks\tenabled\n"
	                          "feature@embedded_data\tactive\nfeature@encryption\tenabled\n"
	                          "feature@zstd_compress\tdisabled\n";
	struct zpool_features f;
	struct zerr e = ZERR_INIT;
	assert_int_equal(zpool_features_parse(&f, all, strlen(all), &e), 0);
	assert_true(f.lz4 && f.large && f.embedded);
	assert_false(f.zstd);
	assert_false(f.encryption_active);
	static const char old[] = "feature@lz4_compress\tactive\nfeature@encryption\tactive";
	assert_int_equal(zpool_features_parse(&f, old, strlen(old), &e), 0);
	assert_true(f.lz4 && f.encryption_active);
	assert_false(f.zstd || f.large || f.embedded);
	static const char bad[] = "feature@large_blocks\tmaybe\n";
	assert_int_equal(zpool_features_parse(&f, bad, strlen(bad), &e), -EPROTO);
	assert_string_equal(e.msg, "zpool get said 'feature@large_blocks\tmaybe'");
	e = (struct zerr)ZERR_INIT;
	assert_int_equal(zpool_features_parse(&f, "size\t1\n", 7, &e), -EPROTO);
	assert_string_equal(e.msg, "zpool get named no feature");
}

/* zfs's wording, as OpenZFS 2.1 and 2.3 print it through ssh */
static void test_err_kind(void **state)
{
	(void)state;
	assert_int_equal(zfs_err_kind("cannot receive new filesystem stream: destination contains "
	                              "partially-complete state from \"zfs receive -s\"."),
	                 ZFS_ERR_PARTIAL_RECEIVE);
	assert_int_equal(zfs_err_kind("cannot receive incremental stream: destination "
	                              "tank/a has been modified"),
	                 ZFS_ERR_MODIFIED);
	assert_int_equal(zfs_err_kind("cannot receive: failed to read from stream"), ZFS_ERR_OTHER);
	assert_int_equal(zfs_err_kind(""), ZFS_ERR_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_list_argv),
	    cmocka_unit_test(test_list_fixture),
	    cmocka_unit_test(test_names_tree),
	    cmocka_unit_test(test_list_snapshots_changed),
	    cmocka_unit_test(test_list_malformed),
	    cmocka_unit_test(test_list_resume_token),
	    cmocka_unit_test(test_zpool_list_fixture),
	    cmocka_unit_test(test_props_and_holds_fixture),
	    cmocka_unit_test(test_zpool_status_fixture),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_err_kind),
	    cmocka_unit_test(test_short_listings),
	    cmocka_unit_test(test_err_all),
	    cmocka_unit_test(test_pool_features),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
