/* The listing read as it comes (zfs_list_reader, host_run_stream): the
 * same rows and the same errors as zfs_list_parse of the whole text,
 * wherever the pieces cut the lines, on the captured listings of both
 * flavours. */
#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "zfs.h"

static const struct {
	const char *path;
	unsigned cols;
} listings[] = {
    {"2.1/zfs-list.out", 0},
    {"2.1/zfs-list-snapshots.out", 0},
    {"2.3/zfs-list.out", 0},
    {"2.3/zfs-list-snapshots.out", 0},
    {"2.3/zfs-list-changed.out", ZFS_COL_SNAPSHOTS_CHANGED},
    {"2.3/zfs-list-resume.out", ZFS_COL_RESUME_TOKEN},
};

static const size_t pieces[] = {1, 2, 3, 7, 64, 113, 4096, (size_t)1 << 20};

static void assert_same_rows(const struct zfs_list *a, const struct zfs_list *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->cols, b->cols);
	for (size_t i = 0; i < a->n; i++) {
		const struct zfs_obj *x = &a->v[i], *y = &b->v[i];
		assert_string_equal(x->name, y->name);
		assert_int_equal(x->type, y->type);
		assert_true(x->guid == y->guid && x->createtxg == y->createtxg);
		assert_true(x->creation == y->creation && x->used == y->used);
		assert_true(x->available == y->available && x->referenced == y->referenced);
		assert_true(x->snapshots_changed == y->snapshots_changed);
		assert_true(x->userrefs == y->userrefs);
		if (x->resume_token || y->resume_token) {
			assert_non_null(x->resume_token);
			assert_non_null(y->resume_token);
			assert_string_equal(x->resume_token, y->resume_token);
		}
	}
}

/* text fed to a reader in pieces of size k (each its own writable copy,
 * freed after the call, as host_run_stream's scratch is reused). */
static int read_in_pieces(struct zfs_list *l, const char *text, size_t len, unsigned cols, size_t k,
                          struct zerr *e)
{
	struct zfs_list_reader rd;
	zfs_list_reader_init(&rd, l, cols);
	for (size_t off = 0; off < len; off += k) {
		size_t n = len - off < k ? len - off : k;
		char *piece = malloc(n);
		assert_non_null(piece);
		memcpy(piece, text + off, n);
		zfs_list_reader_feed(&rd, piece, n, e);
		memset(piece, 'X', n); /* nothing may point into a piece */
		free(piece);
	}
	return zfs_list_reader_end(&rd, e);
}

static void test_reader_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(listings) / sizeof(listings[0]); i++) {
		struct buf text = BUF_INIT;
		struct zfs_list whole, read;
		struct zerr e = ZERR_INIT;
		fixture_read(listings[i].path, &text);
		if (zfs_list_parse(&whole, text.s, text.len, listings[i].cols, &e) < 0)
			fail_msg("%s: %s", listings[i].path, e.msg);
		assert_true(whole.n > 0);
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			if (read_in_pieces(&read, text.s, text.len, listings[i].cols, pieces[k],
			                   &e) < 0)
				fail_msg("%s in pieces of %zu: %s", listings[i].path, pieces[k],
				         e.msg);
			assert_same_rows(&whole, &read);
			zfs_list_free(&read);
		}
		/* a last line without its newline is a line */
		assert_int_equal(text.s[text.len - 1], '\n');
		assert_int_equal(
		    read_in_pieces(&read, text.s, text.len - 1, listings[i].cols, 5, &e), 0);
		assert_same_rows(&whole, &read);
		zfs_list_free(&read);
		zfs_list_free(&whole);
		buf_free(&text);
	}
}

/* Malformed listings: the reader fails as the whole parse does, with the
 * same message (the same line number), wherever the pieces cut. */
static void test_reader_errors(void **state)
{
	(void)state;
	struct buf text = BUF_INIT, longline = BUF_INIT;
	fixture_read("2.3/zfs-list.out", &text);
	const char *second = strchr(text.s, '\n') + 1;
	size_t first_len = (size_t)(second - text.s);
	struct buf cases[8];
	size_t nc = 0;
	const char *edits[] = {
	    "fixt/x\tfilesystem\t1\t2\t3\n",                /* too few fields */
	    "fixt/x\tfilesystem\t1\t2\t3\t4\t5\t6\t7\n",    /* too many */
	    "fixt/x\tdisk\t1\t2\t3\t4\t5\t6\n",             /* a type zfs has not */
	    "fixt/x\tfilesystem\t1\t2\t3\tlots\t5\t6\n",    /* not a number */
	    "fixt/x\tfilesystem\t1\t2\t3\t4\t5\t6\r\n",     /* carriage return */
	    "\n",                                           /* an empty line */
	    "fixt/a b\x01\tfilesystem\t1\t2\t3\t4\t5\t6\n", /* not a ZFS name */
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		buf_init(&cases[nc]);
		buf_add(&cases[nc], text.s, first_len); /* the error is on line 2 */
		buf_adds(&cases[nc], edits[i]);
		buf_adds(&cases[nc], second);
		nc++;
	}
	for (size_t c = 0; c < nc; c++) {
		struct zfs_list l;
		struct zerr whole = ZERR_INIT;
		assert_int_equal(zfs_list_parse(&l, cases[c].s, cases[c].len, 0, &whole), -EPROTO);
		assert_non_null(strstr(whole.msg, "line 2"));
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			struct zerr e = ZERR_INIT;
			assert_int_equal(
			    read_in_pieces(&l, cases[c].s, cases[c].len, 0, pieces[k], &e),
			    -EPROTO);
			assert_string_equal(e.msg, whole.msg);
			assert_int_equal(l.n, 0); /* nothing half-read is left */
		}
		buf_free(&cases[c]);
	}
	/* a NUL byte anywhere; a line longer than ZFS_LINE_MAX */
	struct zfs_list l;
	struct zerr e = ZERR_INIT;
	static const char nul[] =
	    "fixt\tfilesystem\t1\t2\t3\t4\t5\t6\nfi\0t\tfilesystem\t1\t2\t3\t4\t5\t6\n";
	for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		assert_int_equal(read_in_pieces(&l, nul, sizeof(nul) - 1, 0, pieces[k], &e),
		                 -EPROTO);
		assert_non_null(strstr(e.msg, "NUL byte"));
	}
	buf_add(&longline, text.s, first_len);
	for (size_t i = 0; i < ZFS_LINE_MAX + 1; i++)
		buf_addch(&longline, 'a');
	buf_adds(&longline, "\n");
	struct zerr whole = ZERR_INIT;
	assert_int_equal(zfs_list_parse(&l, longline.s, longline.len, 0, &whole), -E2BIG);
	for (size_t k = 3; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		assert_int_equal(read_in_pieces(&l, longline.s, longline.len, 0, pieces[k], &e),
		                 -E2BIG);
		assert_string_equal(e.msg, whole.msg);
	}
	buf_free(&longline);
	buf_free(&text);
}

/* A listing larger than the slices zfs_list_parse_owned releases as it
 * goes (4 MiB): every row intact, the lines cut at a slice's end too. */
static void test_parse_owned_large(void **state)
{
	(void)state;
	struct buf text = BUF_INIT;
	size_t rows = 0;
	while (text.len < ((size_t)9 << 20)) {
		buf_addf(&text,
		         "big/ds%04zu@autosnap_2026-01-01_00:00:00_hourly_%zu\tsnapshot\t%zu\t%zu\t"
		         "1767225600\t65536\t-\t65536\n",
		         rows % 1000, rows, rows + 1, rows + 7);
		rows++;
	}
	char *owned = malloc(text.len + 1);
	assert_non_null(owned);
	memcpy(owned, text.s, text.len + 1);
	struct zfs_list l;
	struct zerr e = ZERR_INIT;
	if (zfs_list_parse_owned(&l, owned, text.len, 0, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(l.n, rows);
	for (size_t i = 0; i < rows; i++) {
		char want[128];
		snprintf(want, sizeof(want), "big/ds%04zu@autosnap_2026-01-01_00:00:00_hourly_%zu",
		         i % 1000, i);
		assert_string_equal(l.v[i].name, want);
		assert_true(l.v[i].guid == i + 1 && l.v[i].createtxg == i + 7);
		assert_true(l.v[i].available == ZFS_NONE && l.v[i].used == 65536);
	}
	zfs_list_free(&l);
	buf_free(&text);
}

static int sink_fail_at_once(void *ctx, char *data, size_t len, struct zerr *e)
{
	(void)data;
	(void)len;
	++*(int *)ctx;
	return zerr_set(e, -EPROTO, "the sink refuses");
}

/* host_run_stream on this machine: a real command's stdout into a reader;
 * its failures as host_run reports them. */
static void test_host_run_stream(void **state)
{
	(void)state;
	struct host h;
	host_init_local(&h);
	struct buf text = BUF_INIT, path = BUF_INIT;
	const char *root = getenv("ZKEEP_FIXTURES");
	buf_addf(&path, "%s/2.3/zfs-list-changed.out", root ? root : "tests/fixtures");
	fixture_read("2.3/zfs-list-changed.out", &text);
	struct zfs_list whole, read;
	struct zerr e = ZERR_INIT;
	assert_int_equal(zfs_list_parse(&whole, text.s, text.len, ZFS_COL_SNAPSHOTS_CHANGED, &e),
	                 0);
	struct zfs_list_reader rd;
	zfs_list_reader_init(&rd, &read, ZFS_COL_SNAPSHOTS_CHANGED);
	const char *cat[] = {"cat", path.s, NULL};
	if (host_run_stream(&h, cat, ZFS_OUTPUT_MAX, 10000, zfs_list_reader_sink, &rd, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(zfs_list_reader_end(&rd, &e), 0);
	assert_same_rows(&whole, &read);
	zfs_list_free(&read);

	/* more than out_cap */
	zfs_list_reader_init(&rd, &read, ZFS_COL_SNAPSHOTS_CHANGED);
	assert_int_equal(host_run_stream(&h, cat, 100, 10000, zfs_list_reader_sink, &rd, &e),
	                 -E2BIG);
	rd.err = -E2BIG;
	assert_int_equal(zfs_list_reader_end(&rd, NULL), -E2BIG);

	/* a failing command: its status and stderr's line, as host_run says */
	const char *fails[] = {"sh", "-c", "echo partial; echo 'cannot open fixt/x' >&2; exit 1",
	                       NULL};
	int calls = 0;
	struct zerr e2 = ZERR_INIT;
	assert_int_equal(host_run_stream(&h, fails, 4096, 10000, sink_fail_at_once, &calls, &e),
	                 -EPROTO);
	assert_int_equal(calls, 1);
	assert_string_equal(e.msg, "the sink refuses");
	const char *fails_quiet[] = {"sh", "-c", "echo 'cannot open fixt/x' >&2; exit 1", NULL};
	assert_int_equal(
	    host_run_stream(&h, fails_quiet, 4096, 10000, sink_fail_at_once, &calls, &e), -EIO);
	struct buf out = BUF_INIT;
	assert_int_equal(host_run(&h, fails_quiet, &out, 4096, 10000, &e2), -EIO);
	assert_string_equal(e.msg, e2.msg);
	assert_non_null(strstr(e.msg, "cannot open fixt/x"));

	/* an endless stream the sink refuses is stopped, not read to the end */
	const char *yes[] = {"yes", NULL};
	calls = 0;
	assert_int_equal(
	    host_run_stream(&h, yes, ZFS_OUTPUT_MAX, 10000, sink_fail_at_once, &calls, &e),
	    -EPROTO);
	assert_int_equal(calls, 1);

	/* a timeout */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *slow[] = {"sleep", "10", NULL};
	assert_int_equal(host_run_stream(&h, slow, 4096, 200, sink_fail_at_once, &calls, &e),
	                 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 8);
	assert_non_null(strstr(e.msg, "timed out"));
	/* one that closes its output and goes on is timed out too */
	const char *closes[] = {"sh", "-c", "exec >/dev/null 2>&1; sleep 10", NULL};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(host_run_stream(&h, closes, 4096, 300, sink_fail_at_once, &calls, &e),
	                 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 8);

	buf_free(&out);
	zfs_list_free(&whole);
	buf_free(&text);
	buf_free(&path);
	host_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reader_fixtures),
	    cmocka_unit_test(test_reader_errors),
	    cmocka_unit_test(test_parse_owned_large),
	    cmocka_unit_test(test_host_run_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
