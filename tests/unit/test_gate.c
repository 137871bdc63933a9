#include "unit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gate.h"
#include "token.h"

struct row {
	const char *line;
	const char *want; /* the exec'd argv joined by '|', or NULL: refused */
};

static void check_rows(const struct gate *g, const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct strvec argv = STRVEC_INIT;
		struct zerr e = ZERR_INIT;
		int r = gate_check(g, rows[i].line, &argv, &e);
		struct buf got = BUF_INIT;
		for (size_t k = 0; k < argv.n; k++)
			buf_addf(&got, "%s%s", k ? "|" : "", argv.v[k]);
		if (rows[i].want && (r != 0 || strcmp(got.s, rows[i].want)))
			fail_msg("'%s': want [%s], got %d [%s] %s", rows[i].line, rows[i].want, r,
			         got.s, e.msg);
		if (!rows[i].want && (r != -EPERM || argv.n || !e.msg[0]))
			fail_msg("'%s' was allowed as [%s]", rows[i].line, got.s);
		strvec_clear(&argv);
		buf_free(&got);
	}
}

static void test_seed_compat(void **state)
{
	(void)state;
	struct gate g;
	gate_init(&g);
	g.seed = true;
	g.zfs = "/sbin/zfs";
	assert_int_equal(gate_add_prefix(&g, "fastpool/backups", NULL), 0);
	static const struct row rows[] = {
	    {"ls", "/bin/ls"},
	    {"zfs list fastpool/backups", "/sbin/zfs|list|fastpool/backups"},
	    {"zfs list fastpool/backups/raw/host-a/x_y-z",
	     "/sbin/zfs|list|fastpool/backups/raw/host-a/x_y-z"},
	    {"zfs list -t snapshot -H -o name -s creation -r fastpool/backups/raw",
	     "/sbin/zfs|list|-t|snapshot|-H|-o|name|-s|creation|-r|fastpool/backups/raw"},
	    {"zfs create -o canmount=off fastpool/backups/raw",
	     "/sbin/zfs|create|-o|canmount=off|fastpool/backups/raw"},
	    {"zfs receive -F -u fastpool/backups/raw/a",
	     "/sbin/zfs|receive|-F|-u|fastpool/backups/raw/a"},
	    /* anything else: refused */
	    {"zfs destroy fastpool/backups/raw/a", NULL},
	    {"zfs receive -u -F fastpool/backups/raw/a", NULL},
	    {"zfs receive -F -u -s fastpool/backups/raw/a", NULL},
	    {"zfs receive -F -u fastpool/other", NULL},
	    {"zfs receive -F -u fastpool/backupsX", NULL},
	    {"zfs receive -F -u fastpool", NULL},
	    {"zfs list fastpool/backups/a.b", NULL}, /* '.' is outside the seed's DS */
	    {"zfs list fastpool/backups/a b", NULL},
	    {"zfs list -t snapshot -H -o name -s creation fastpool/backups", NULL},
	    {"zfs list fastpool/backups extra", NULL},
	    {"zfs send fastpool/backups@x", NULL},
	    {"zfs list fastpool/backups/../x", NULL},
	    {"zfs list fastpool/backups//x", NULL},
	    {"zfs create -o canmount=on fastpool/backups/x", NULL},
	    {"ls -la", NULL},
	    {"bash", NULL},
	    {"", NULL},
	};
	check_rows(&g, rows, sizeof(rows) / sizeof(rows[0]));
	gate_free(&g);
}

/* A seed key (--compat seed) with --prefix prefix, or with --any-dataset
 * when prefix is NULL. */
static void seed_key(struct gate *g, const char *prefix)
{
	gate_init(g);
	g->seed = true;
	g->zfs = "/sbin/zfs";
	if (prefix)
		assert_int_equal(gate_add_prefix(g, prefix, NULL), 0);
	else
		g->any_dataset = true;
}

/* A line and whether a seed key takes it: with --prefix SEED_PREFIX, and
 * with --any-dataset. Taken means exec'd as its own words, ls or zfs by
 * absolute path, nothing added. */
#define SEED_PREFIX "fastpool/encryptedbackups"
struct seed_row {
	const char *line;
	bool with_prefix, any_dataset;
};

static void check_seed_rows(const struct gate *g, const struct seed_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool want = g->any_dataset ? rows[i].any_dataset : rows[i].with_prefix;
		struct strvec argv = STRVEC_INIT, words = STRVEC_INIT;
		struct zerr e = ZERR_INIT;
		struct buf got = BUF_INIT, exp = BUF_INIT;
		int r = gate_check(g, rows[i].line, &argv, &e);
		for (size_t k = 0; k < argv.n; k++)
			buf_addf(&got, "%s%s", k ? "|" : "", argv.v[k]);
		strvec_split(&words, rows[i].line);
		for (size_t k = 0; want && k < words.n; k++)
			buf_addf(&exp, "%s%s", k ? "|" : "",
			         k                           ? words.v[k]
			         : !strcmp(words.v[0], "ls") ? "/bin/ls"
			                                     : "/sbin/zfs");
		if (want && (r != 0 || strcmp(got.s, exp.s)))
			fail_msg("%s: '%s': want [%s], got %d [%s] %s",
			         g->any_dataset ? "--any-dataset" : "--prefix", rows[i].line, exp.s,
			         r, got.s, e.msg);
		if (!want && (r != -EPERM || argv.n || !e.msg[0]))
			fail_msg("%s: '%s' was allowed as [%s]",
			         g->any_dataset ? "--any-dataset" : "--prefix", rows[i].line,
			         got.s);
		strvec_clear(&argv);
		strvec_clear(&words);
		buf_free(&got);
		buf_free(&exp);
	}
}

/* Every line the seed's push sends (seed-system.md section 3) to its
 * destination D = SEED_PREFIX, pushing host-a/data (X minus the strip
 * prefix) and a/b: the preflight, each proper ancestor of the target
 * from the pool down listed (created only where missing: never above D,
 * which must exist), the target's snapshots listed, streams received. */
static const struct seed_row seed_push_rows[] = {
    {"ls", true, true},
    {"zfs list fastpool/encryptedbackups", true, true},
    {"zfs list fastpool", true, true},
    {"zfs list fastpool/encryptedbackups/host-a", true, true},
    {"zfs create -o canmount=off fastpool/encryptedbackups/host-a", true, true},
    {"zfs list -t snapshot -H -o name -s creation -r fastpool/encryptedbackups/host-a/data", true,
     true},
    {"zfs receive -F -u fastpool/encryptedbackups/host-a/data", true, true},
    {"zfs list fastpool/encryptedbackups/a", true, true},
    {"zfs create -o canmount=off fastpool/encryptedbackups/a", true, true},
    {"zfs list -t snapshot -H -o name -s creation -r fastpool/encryptedbackups/a/b", true, true},
    {"zfs receive -F -u fastpool/encryptedbackups/a/b", true, true},
    {"zfs list fastpool/encryptedbackups/a/b", true, true},
    {"zfs list fastpool/encryptedbackups/x_y-Z/0", true, true},
};

/* Near misses: what the seed's script refused is refused (the charset,
 * exact spacing and flags, one line), and with --prefix nothing is
 * created, received, or its snapshots listed outside the prefix; an
 * ancestor of the prefix is only listed. */
static const struct seed_row seed_near_rows[] = {
    /* outside the prefix: the seed's script took them, --prefix does not */
    {"zfs create -o canmount=off fastpool", false, true},
    {"zfs receive -F -u fastpool", false, true},
    {"zfs list -t snapshot -H -o name -s creation -r fastpool", false, true},
    {"zfs list fastpool/other", false, true},
    {"zfs list fastpool/encrypted", false, true},
    {"zfs list fastpool/encryptedbackupsX", false, true},
    {"zfs list otherpool", false, true},
    {"zfs create -o canmount=off fastpool/other/x", false, true},
    {"zfs receive -F -u fastpool/encryptedbackupsX/a", false, true},
    {"zfs receive -F -u otherpool/encryptedbackups/a", false, true},
    /* the seed's charset: no '.', ':', '@', spaces */
    {"zfs list fastpool/encryptedbackups/a.b", false, false},
    {"zfs list fastpool/encryptedbackups/a:b", false, false},
    {"zfs list fastpool/encryptedbackups/a b", false, false},
    {"zfs receive -F -u fastpool/encryptedbackups/a@s1", false, false},
    {"zfs list fastpool/encryptedbackups/../x", false, false},
    /* the charset, but no dataset: an option, or an invalid name */
    {"zfs list -r", false, false},
    {"zfs list -H", false, false},
    {"zfs receive -F -u -d", false, false},
    {"zfs list /fastpool", false, false},
    {"zfs list fastpool//encryptedbackups", false, false},
    {"zfs list fastpool/encryptedbackups/", false, false},
    /* one line: the seed's grep passed a line that matched and ran all */
    {"zfs list fastpool/encryptedbackups\nzfs destroy -r fastpool", false, false},
    {"zfs destroy -r fastpool\nzfs list fastpool/encryptedbackups", false, false},
    {"ls\nrm -rf /", false, false},
    {"ls\n", false, false},
    {"\nls", false, false},
    {"zfs list fastpool/encryptedbackups\r", false, false},
    {"zfs list\tfastpool/encryptedbackups", false, false},
    /* spacing */
    {"zfs list fastpool/encryptedbackups ", false, false},
    {"ls ", false, false},
    {" ls", false, false},
    {"zfs  list fastpool/encryptedbackups", false, false},
    {"zfs receive -F  -u fastpool/encryptedbackups/a", false, false},
    /* extra, missing or reordered flags */
    {"zfs receive -F -u -s fastpool/encryptedbackups/a", false, false},
    {"zfs receive -u -F fastpool/encryptedbackups/a", false, false},
    {"zfs receive -F fastpool/encryptedbackups/a", false, false},
    {"zfs receive -F -u -o mountpoint=/etc fastpool/encryptedbackups/a", false, false},
    {"zfs receive -F -u -x mountpoint fastpool/encryptedbackups/a", false, false},
    {"zfs create -p -o canmount=off fastpool/encryptedbackups/a", false, false},
    {"zfs create -o canmount=on fastpool/encryptedbackups/a", false, false},
    {"zfs create fastpool/encryptedbackups/a", false, false},
    {"zfs list -r fastpool/encryptedbackups", false, false},
    {"zfs list -H fastpool/encryptedbackups", false, false},
    {"zfs list -t snapshot -H -o name -s creation fastpool/encryptedbackups", false, false},
    {"zfs list -t snapshot -H -o name -s creation -r -d 1 fastpool/encryptedbackups", false, false},
    {"zfs list -t snapshot -H -o name,guid -s creation -r fastpool/encryptedbackups", false, false},
    {"zfs list fastpool/encryptedbackups fastpool", false, false},
    {"zfs list", false, false},
    /* other commands */
    {"zfs destroy -r fastpool/encryptedbackups/a", false, false},
    {"zfs send fastpool/encryptedbackups/a@s1", false, false},
    {"zfs receive -A fastpool/encryptedbackups/a", false, false},
    {"/sbin/zfs list fastpool", false, false},
    {"ls -la", false, false},
    {"ls /", false, false},
    {"bash", false, false},
    {"zfs", false, false},
    {"", false, false},
};

static void test_seed_every_push_line_and_near_misses(void **state)
{
	(void)state;
	struct gate p, any;
	seed_key(&p, SEED_PREFIX);
	seed_key(&any, NULL);
	check_seed_rows(&p, seed_push_rows, sizeof(seed_push_rows) / sizeof(seed_push_rows[0]));
	check_seed_rows(&any, seed_push_rows, sizeof(seed_push_rows) / sizeof(seed_push_rows[0]));
	check_seed_rows(&p, seed_near_rows, sizeof(seed_near_rows) / sizeof(seed_near_rows[0]));
	check_seed_rows(&any, seed_near_rows, sizeof(seed_near_rows) / sizeof(seed_near_rows[0]));
	/* why an ancestor's create is refused: the admin is told */
	struct strvec argv = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(gate_check(&p, "zfs create -o canmount=off fastpool", &argv, &e), -EPERM);
	assert_non_null(strstr(e.msg, "only 'zfs list' of an ancestor"));
	gate_free(&p);
	gate_free(&any);
}

/* The same rule for any destination and depth: every ancestor of the
 * prefix is listed, at every depth of target; with two prefixes, one
 * inside the other, the inner one's ancestor is still the outer one's
 * dataset to create. */
static void test_seed_prefix_ancestors_listed_only(void **state)
{
	(void)state;
	static const char *const targets[] = {
	    "fastpool/backups/raw/h/data", "fastpool/backups/raw/a/b/c/d", "fastpool/backups/raw"};
	struct gate g;
	seed_key(&g, "fastpool/backups/raw");
	for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
		const char *r = targets[t];
		for (const char *s = strchr(r, '/'); s; s = strchr(s + 1, '/')) {
			int n = (int)(s - r);
			bool above = n < (int)strlen("fastpool/backups/raw");
			struct buf list = BUF_INIT, create = BUF_INIT;
			buf_addf(&list, "zfs list %.*s", n, r);
			buf_addf(&create, "zfs create -o canmount=off %.*s", n, r);
			const struct seed_row rows[] = {{list.s, true, true},
			                                {create.s, !above, true}};
			check_seed_rows(&g, rows, 2);
			buf_free(&list);
			buf_free(&create);
		}
	}
	gate_free(&g);
	seed_key(&g, "tank/a/b");
	assert_int_equal(gate_add_prefix(&g, "tank/a", NULL), 0);
	static const struct seed_row two[] = {
	    {"zfs list tank", true, true},
	    {"zfs create -o canmount=off tank", false, true},
	    {"zfs create -o canmount=off tank/a", true, true},
	    {"zfs receive -F -u tank/a", true, true},
	    {"zfs receive -F -u tank/a/c", true, true},
	};
	check_seed_rows(&g, two, sizeof(two) / sizeof(two[0]));
	gate_free(&g);
}

/* The seed's refusal line, one line whatever the command held. */
static void test_seed_blocked_line_as_the_seed_logged_it(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	gate_seed_blocked(&b, "192.0.2.7 50022 22", "zfs destroy -r fastpool");
	assert_string_equal(
	    b.s,
	    "BLOCKED non-whitelisted command (client 192.0.2.7 50022 22): zfs destroy -r fastpool");
	buf_reset(&b);
	gate_seed_blocked(&b, NULL, NULL); /* bash: unset is empty */
	assert_string_equal(b.s, "BLOCKED non-whitelisted command (client ): ");
	buf_reset(&b);
	gate_seed_blocked(&b, "::1 1 22", "ls\nrm -rf /\r\t\\x \x1b[2J\xc3\xa9");
	assert_string_equal(b.s, "BLOCKED non-whitelisted command (client ::1 1 22): "
	                         "ls\\x0arm -rf /\\x0d\\x09\\x5cx \\x1b[2J\\xc3\\xa9");
	assert_null(strchr(b.s, '\n'));
	/* a long command is cut, and says so */
	struct buf big = BUF_INIT;
	for (int i = 0; i < GATE_LOG_MAX + 10; i++)
		buf_addch(&big, 'a');
	buf_reset(&b);
	gate_seed_blocked(&b, "", big.s);
	assert_int_equal(b.len,
	                 strlen("BLOCKED non-whitelisted command (client ): ") + GATE_LOG_MAX + 3);
	assert_string_equal(b.s + b.len - 4, "a...");
	buf_free(&big);
	buf_free(&b);
}

static void test_metacharacters_refused(void **state)
{
	(void)state;
	struct gate g;
	gate_init(&g);
	g.seed = true;
	gate_add_prefix(&g, "tank/b", NULL);
	static const char *const metas[] = {"'",    "\"", "\\", "$", "`",  ";",  "|",  "&",
	                                    "<",    ">",  "*",  "?", "\n", "\t", "\r", "\x01",
	                                    "\x7f", "(",  ")",  "{", "}",  "!",  "~",  "\xc3\xa9"};
	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++) {
		struct buf line = BUF_INIT;
		struct strvec argv = STRVEC_INIT;
		struct zerr e = ZERR_INIT;
		buf_addf(&line, "zfs list tank/b%s", metas[i]);
		assert_int_equal(gate_check(&g, line.s, &argv, &e), -EPERM);
		assert_non_null(strstr(e.msg, "not allowed"));
		buf_reset(&line);
		buf_addf(&line, "zfs list tank/b;zfs destroy tank/b%s", metas[i]);
		assert_int_equal(gate_check(&g, line.s, &argv, &e), -EPERM);
		buf_free(&line);
		strvec_clear(&argv);
	}
	/* spacing: leading, trailing, double */
	static const char *const spaced[] = {" zfs list tank/b", "zfs list tank/b ",
	                                     "zfs  list tank/b"};
	for (size_t i = 0; i < 3; i++) {
		struct strvec argv = STRVEC_INIT;
		struct zerr e = ZERR_INIT;
		assert_int_equal(gate_check(&g, spaced[i], &argv, &e), -EPERM);
		assert_non_null(strstr(e.msg, "single spaces"));
	}
	/* over-long */
	struct buf big = BUF_INIT;
	buf_adds(&big, "zfs list tank/b/");
	for (int i = 0; i < GATE_LINE_MAX; i++)
		buf_addch(&big, 'a');
	struct strvec argv = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(gate_check(&g, big.s, &argv, &e), -EPERM);
	assert_non_null(strstr(e.msg, "longer than"));
	buf_free(&big);
	gate_free(&g);
}

/* send -t with real tokens (tests/fixtures/2.3/resume-token.out: the
 * first names tok/plain@s1, the second tok/enc@e2 from tok/enc@e1): the
 * name must be inside the prefix, and the guids in toname's dataset. */
static void test_send_token(void **state)
{
	(void)state;
	struct buf fx = BUF_INIT;
	fixture_read("2.3/resume-token.out", &fx);
	char name[2][256], from[2][32], tok[2][4096];
	unsigned long long guid[2];
	int raw;
	char *save = NULL, *line = strtok_r(fx.s, "\n", &save);
	for (int i = 0; i < 2; i++, line = strtok_r(NULL, "\n", &save)) {
		assert_non_null(line);
		assert_int_equal(sscanf(line, "%255s %llu %31s %d %4095s", name[i], &guid[i],
		                        from[i], &raw, tok[i]),
		                 5);
	}
	struct gate in, out;
	gate_init(&in);
	gate_init(&out);
	in.allow = out.allow = GATE_OP_SEND;
	gate_add_prefix(&in, "tok", NULL);
	gate_add_prefix(&out, "tok/enc", NULL);
	struct strvec argv = STRVEC_INIT, list = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	struct buf cmd = BUF_INIT, listing = BUF_INIT;
	struct token t;
	buf_addf(&cmd, "zfs send -w -t %s", tok[0]);
	assert_int_equal(gate_check(&in, cmd.s, &argv, &e), 0);
	assert_int_equal(gate_check(&out, cmd.s, &argv, &e), -EPERM); /* tok/plain@s1 */
	assert_non_null(strstr(e.msg, "outside the allowed datasets"));
	assert_int_equal(gate_check(&in, cmd.s, &argv, &e), 0);
	assert_int_equal(gate_token_listing(&in, &argv, &t, &list, &e), 1);
	assert_int_equal(list.n, 10);
	assert_string_equal(list.v[9], "tok/plain");
	/* the listing decides: the guid of the named snapshot */
	buf_addf(&listing, "tok/plain@s0\t5\ntok/plain@s1\t%llu\n", guid[0]);
	assert_int_equal(gate_token_verify(&t, listing.s, &e), 0);
	buf_reset(&listing);
	buf_addf(&listing, "tok/plain@s1\t%llu\n", guid[0] + 1);
	assert_int_equal(gate_token_verify(&t, listing.s, &e), -EPERM);
	buf_reset(&listing); /* the right guid under another name */
	buf_addf(&listing, "tok/plain@s0\t%llu\n", guid[0]);
	assert_int_equal(gate_token_verify(&t, listing.s, &e), -EPERM);
	/* an incremental token: its base must be there too */
	buf_reset(&cmd);
	buf_addf(&cmd, "zfs send -t %s", tok[1]);
	assert_int_equal(gate_check(&in, cmd.s, &argv, &e), 0);
	assert_int_equal(gate_token_listing(&in, &argv, &t, &list, &e), 1);
	buf_reset(&listing);
	buf_addf(&listing, "tok/enc@e2\t%llu\n", guid[1]);
	assert_int_equal(gate_token_verify(&t, listing.s, &e), -EPERM);
	buf_addf(&listing, "tok/enc#zkeep_j_e1\t%s\n", from[1]);
	assert_int_equal(gate_token_verify(&t, listing.s, &e), 0);
	/* another send needs no listing */
	assert_int_equal(gate_check(&in, "zfs send tok/enc@e2", &argv, &e), 0);
	assert_int_equal(gate_token_listing(&in, &argv, &t, &list, &e), 0);
	strvec_clear(&argv);
	strvec_clear(&list);
	buf_free(&cmd);
	buf_free(&listing);
	buf_free(&fx);
	gate_free(&in);
	gate_free(&out);
}

static void test_grammar(void **state)
{
	(void)state;
	struct gate g;
	struct zerr e = ZERR_INIT;
	gate_init(&g);
	g.zfs = "/sbin/zfs";
	assert_int_equal(gate_parse_allow("send,list,hold,release", &g.allow, &e), 0);
	gate_add_prefix(&g, "tank/data", NULL);
	gate_add_prefix(&g, "tank/more", NULL);
	static const struct row rows[] = {
	    {"zfs version", "/sbin/zfs|version"},
	    {"zfs list -Hp -t filesystem,volume,snapshot -o name,type,guid,createtxg,creation,used,"
	     "available,referenced,snapshots_changed -s createtxg -r tank/data tank/more/x",
	     "/sbin/"
	     "zfs|list|-Hp|-t|filesystem,volume,snapshot|-o|name,type,guid,createtxg,creation,"
	     "used,available,referenced,snapshots_changed|-s|createtxg|-r|tank/data|tank/more/x"},
	    {"zfs get -Hp -o name,property,value,source receive_resume_token tank/data/a",
	     "/sbin/zfs|get|-Hp|-o|name,property,value,source|receive_resume_token|tank/data/a"},
	    /* this release's forms (issue 22): the datasets' facts, then the
	     * snapshots as name,guid,createtxg (listed fast on OpenZFS >= 2.2),
	     * recursively or of the datasets named; the newest snapshots'
	     * creation in one get; holds of the prune candidates */
	    {"zfs list -Hp -t filesystem,volume -o name,type,guid,createtxg,snapshots_changed -s "
	     "createtxg -r tank/data tank/more/x",
	     "/sbin/zfs|list|-Hp|-t|filesystem,volume|-o|name,type,guid,createtxg,snapshots_"
	     "changed|-s|createtxg|-r|tank/data|tank/more/x"},
	    {"zfs list -Hp -t filesystem,volume -o name,type,guid,createtxg,snapshots_changed,"
	     "receive_resume_token -s createtxg -r tank/data/h",
	     "/sbin/zfs|list|-Hp|-t|filesystem,volume|-o|name,type,guid,createtxg,snapshots_"
	     "changed,receive_resume_token|-s|createtxg|-r|tank/data/h"},
	    {"zfs list -Hp -t filesystem,volume -o name,type,guid,createtxg -s createtxg tank/data",
	     "/sbin/zfs|list|-Hp|-t|filesystem,volume|-o|name,type,guid,createtxg|-s|createtxg|"
	     "tank/data"},
	    {"zfs list -Hp -t snapshot,bookmark -o name,guid,createtxg -s createtxg -r tank/data",
	     "/sbin/zfs|list|-Hp|-t|snapshot,bookmark|-o|name,guid,createtxg|-s|createtxg|-r|"
	     "tank/data"},
	    {"zfs list -Hp -t snapshot,bookmark -o name,guid,createtxg -s createtxg -d 1 tank/data "
	     "tank/data/a tank/more/x",
	     "/sbin/zfs|list|-Hp|-t|snapshot,bookmark|-o|name,guid,createtxg|-s|createtxg|-d|1|"
	     "tank/data|tank/data/a|tank/more/x"},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 1 tank/more/x",
	     "/sbin/zfs|list|-Hp|-t|snapshot|-o|name,guid,createtxg|-s|createtxg|-d|1|"
	     "tank/more/x"},
	    {"zfs get -Hp -o name,property,value,source creation tank/data@s1 tank/data/a@s2 "
	     "tank/data#zkeep_h_s1",
	     "/sbin/zfs|get|-Hp|-o|name,property,value,source|creation|tank/data@s1|tank/data/"
	     "a@s2|tank/data#zkeep_h_s1"},
	    {"zfs hold zkeep:h:backup1 tank/data@s2 tank/data/a@s2 tank/more/x@s2",
	     "/sbin/zfs|hold|zkeep:h:backup1|tank/data@s2|tank/data/a@s2|tank/more/x@s2"},
	    {"zfs holds -H tank/data@s1 tank/data/a@s2",
	     "/sbin/zfs|holds|-H|tank/data@s1|tank/data/a@s2"},
	    {"zfs send -w -L -e -c tank/data@s1", "/sbin/zfs|send|-w|-L|-e|-c|tank/data@s1"},
	    {"zfs send -I tank/data@s1 tank/data@s9",
	     "/sbin/zfs|send|-I|tank/data@s1|tank/data@s9"},
	    {"zfs send -w -i tank/data#zkeep-base tank/data@s9",
	     "/sbin/zfs|send|-w|-i|tank/data#zkeep-base|tank/data@s9"},
	    {"zfs send -n -v -P tank/data@s9", "/sbin/zfs|send|-n|-v|-P|tank/data@s9"},
	    /* the size estimate before a send, as lib/transfer.c asks it */
	    {"zfs send -n -v -P -c -L -e -i tank/data#zkeep-base tank/data@s9",
	     "/sbin/zfs|send|-n|-v|-P|-c|-L|-e|-i|tank/data#zkeep-base|tank/data@s9"},
	    /* a pull's plain sends as stored (issue 22's wire): -c -L -e
	     * where both sides have them, before -I/-i, full or incremental */
	    {"zfs send -c -L -e tank/data@s1", "/sbin/zfs|send|-c|-L|-e|tank/data@s1"},
	    {"zfs send -c -L -e -I tank/data@s1 tank/data@s9",
	     "/sbin/zfs|send|-c|-L|-e|-I|tank/data@s1|tank/data@s9"},
	    {"zfs send -c -L -e -i tank/data#zkeep-base tank/data@s9",
	     "/sbin/zfs|send|-c|-L|-e|-i|tank/data#zkeep-base|tank/data@s9"},
	    {"zfs send -c -L -I tank/data@s1 tank/data@s9", /* -e not into encryption */
	     "/sbin/zfs|send|-c|-L|-I|tank/data@s1|tank/data@s9"},
	    {"zfs send -c -e -i tank/data@s1 tank/data@s9", /* no -L before OpenZFS 2.0 */
	     "/sbin/zfs|send|-c|-e|-i|tank/data@s1|tank/data@s9"},
	    /* a token is decoded, not only its characters checked (it was
	     * accepted before the security issue's item 2) */
	    {"zfs send -t 1-abc123-def", NULL},
	    {"zfs hold zkeep:pull-host-a tank/data@s9",
	     "/sbin/zfs|hold|zkeep:pull-host-a|tank/data@s9"},
	    {"zfs release zkeep:pull-host-a tank/data@s1 tank/data/a@s1",
	     "/sbin/zfs|release|zkeep:pull-host-a|tank/data@s1|tank/data/a@s1"},
	    /* refused */
	    {"zfs send tank/other@s1", NULL},
	    {"zfs send -I tank/other@s1 tank/data@s9", NULL},
	    {"zfs send -R tank/data@s9", NULL},
	    {"zfs send -w -w tank/data@s9", NULL},
	    {"zfs send -c -L -e -c tank/data@s9", NULL},
	    {"zfs send -c -L -L -I tank/data@s1 tank/data@s9", NULL},
	    {"zfs send -I tank/data@s1 -c -L -e tank/data@s9", NULL},
	    {"zfs send -cLe tank/data@s9", NULL},
	    {"zfs send tank/data", NULL},
	    {"zfs send -t zz;rm", NULL},
	    {"zfs send -t ../../x", NULL},
	    {"zfs hold keep tank/data@s9", NULL},
	    {"zfs release mytag tank/data@s9", NULL},
	    {"zfs receive -F tank/data/x", NULL}, /* not allowed for this key */
	    {"zfs create -o canmount=off tank/data/x", NULL},
	    {"zfs destroy tank/data@s1", NULL},
	    {"zfs bookmark tank/data@s1 tank/data#zkeep1", NULL},
	    {"zfs get -Hp -o name,property,value,source all tank/data", NULL},
	    {"zfs list -Hp -t filesystem -o name,mountpoint -s createtxg tank/data", NULL},
	    {"zfs list -Hp -t filesystem -o name -s createtxg tank/datax", NULL},
	    {"zfs list -Hp -t filesystem -o name -s createtxg -r", NULL},
	    {"zfs list -Hp -t filesystem -o name -s createtxg -- tank/data", NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 2 tank/data", NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d tank/data", NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 1", NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 1 -r tank/data",
	     NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -r -d 1 tank/data",
	     NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 1 tank/other", NULL},
	    {"zfs list -Hp -t snapshot -o name,guid,createtxg -s createtxg -d 1 tank/data@s1",
	     NULL},
	    {"zfs get -Hp -o name,property,value,source creation tank/other@s1", NULL},
	    {"zfs holds -H tank/data@s1 tank/other@s1", NULL},
	    {"zfs hold zkeep:h tank/data@s2 tank/other@s2", NULL},
	    {"zfs send -- tank/data@s1", NULL},
	    {"ls", NULL},
	    {"zfs", NULL},
	    {"/sbin/zfs list tank/data", NULL},
	    {"sudo zfs list tank/data", NULL},
	};
	check_rows(&g, rows, sizeof(rows) / sizeof(rows[0]));

	/* one hold of a job's every new base: 1,000 snapshots in one line */
	struct buf many = BUF_INIT;
	struct strvec hv = STRVEC_INIT;
	buf_adds(&many, "zfs hold zkeep:h:backup1");
	for (int i = 0; i < 1000; i++)
		buf_addf(&many, " tank/data/dataset-%04d@autosnap_2026-01-21_03:00:00_hourly", i);
	assert_true(many.len > 40000);
	assert_int_equal(gate_check(&g, many.s, &hv, &e), 0);
	assert_int_equal(hv.n, 1003);
	strvec_clear(&hv);
	buf_free(&many);

	/* a receiving key */
	struct gate r;
	gate_init(&r);
	r.zfs = "/sbin/zfs";
	assert_int_equal(gate_parse_allow("ls,list,create,receive,bookmark", &r.allow, &e), 0);
	gate_add_prefix(&r, "slow/backups", NULL);
	static const struct row rrows[] = {
	    {"ls", "/bin/ls"},
	    /* zkeep's receives: -u -x mountpoint always, canmount=noauto for
	     * filesystems, -F and -s as the run needs */
	    {"zfs receive -u -x mountpoint -o canmount=noauto -s slow/backups/h/a",
	     "/sbin/zfs|receive|-u|-x|mountpoint|-o|canmount=noauto|-s|slow/backups/h/a"},
	    {"zfs receive -u -x mountpoint -F -s slow/backups/h/vol",
	     "/sbin/zfs|receive|-u|-x|mountpoint|-F|-s|slow/backups/h/vol"},
	    {"zfs receive -u -x mountpoint -o canmount=noauto -F slow/backups/h/a",
	     "/sbin/zfs|receive|-u|-x|mountpoint|-o|canmount=noauto|-F|slow/backups/h/a"},
	    /* zkeep 0.1.0's forms: a stream could mount itself anywhere */
	    {"zfs receive -s -u slow/backups/h/a", NULL},
	    {"zfs receive -F -u -s slow/backups/h/a", NULL},
	    {"zfs receive -x mountpoint slow/backups/h/a", NULL},
	    {"zfs receive -u -x canmount slow/backups/h/a", NULL},
	    {"zfs receive -u -x mountpoint -o canmount=on slow/backups/h/a", NULL},
	    {"zfs receive -u -x mountpoint -x mountpoint slow/backups/h/a", NULL},
	    {"zfs receive -u -x mountpoint -o mountpoint=/etc slow/backups/h/a", NULL},
	    {"zfs receive -A slow/backups/h/a", "/sbin/zfs|receive|-A|slow/backups/h/a"},
	    {"zfs create -o canmount=off slow/backups/h",
	     "/sbin/zfs|create|-o|canmount=off|slow/backups/h"},
	    {"zfs bookmark slow/backups/a@s1 slow/backups/a#zkeep-s1",
	     "/sbin/zfs|bookmark|slow/backups/a@s1|slow/backups/a#zkeep-s1"},
	    {"zfs receive -F -F slow/backups/h/a", NULL},
	    {"zfs receive -d slow/backups/h/a", NULL},
	    {"zfs receive -o mountpoint=/etc slow/backups/h/a", NULL},
	    {"zfs receive -A -F slow/backups/h/a", NULL},
	    {"zfs receive -u -x mountpoint slow/backups",
	     "/sbin/zfs|receive|-u|-x|mountpoint|slow/backups"},
	    {"zfs receive -u slow/backups", NULL},
	    {"zfs receive -u slow", NULL},
	    {"zfs bookmark slow/backups/a@s1 slow/backups/b#zkeep-s1", NULL},
	    {"zfs bookmark slow/backups/a@s1 slow/backups/a#mine", NULL},
	    {"zfs send slow/backups/a@s1", NULL},
	    /* bookmark also lets zkeep destroy its own bookmarks, nothing else */
	    {"zfs destroy slow/backups/a#zkeep_j_s1",
	     "/sbin/zfs|destroy|slow/backups/a#zkeep_j_s1"},
	    {"zfs destroy slow/backups/a#mine", NULL},
	    {"zfs destroy slow/backups/a@zkeep_s1", NULL},
	    {"zfs destroy slow/backups/a", NULL},
	    {"zfs destroy -r slow/backups/a#zkeep_j_s1", NULL},
	    {"zfs destroy slow/backups/a#zkeep_1 slow/backups/a#zkeep_2", NULL},
	    {"zfs destroy other/a#zkeep_j_s1", NULL},
	};
	check_rows(&r, rrows, sizeof(rrows) / sizeof(rrows[0]));
	/* an old sender is told which zkeep it needs */
	struct strvec av = STRVEC_INIT;
	assert_int_equal(gate_check(&r, "zfs receive -F -u slow/backups/h/a", &av, &e), -EPERM);
	assert_non_null(strstr(e.msg, "-u -x mountpoint"));
	assert_non_null(strstr(e.msg, "zkeep " GATE_RECEIVE_SINCE));
	strvec_clear(&av);
	gate_free(&r);
	gate_free(&g);
}

static void test_setup_errors(void **state)
{
	(void)state;
	unsigned allow;
	struct zerr e = ZERR_INIT;
	assert_int_equal(gate_parse_allow("list,destroy", &allow, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'destroy'"));
	assert_int_equal(gate_parse_allow("", &allow, &e), -EINVAL);
	struct gate g;
	gate_init(&g);
	assert_int_equal(gate_add_prefix(&g, "tank/../x", &e), -EINVAL);
	assert_int_equal(gate_add_prefix(&g, "", &e), -EINVAL);
	/* no prefix: nothing passes, not even ls */
	g.seed = true;
	struct strvec argv = STRVEC_INIT;
	assert_int_equal(gate_check(&g, "ls", &argv, &e), -EPERM);
	gate_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_compat),
	    cmocka_unit_test(test_seed_every_push_line_and_near_misses),
	    cmocka_unit_test(test_seed_prefix_ancestors_listed_only),
	    cmocka_unit_test(test_seed_blocked_line_as_the_seed_logged_it),
	    cmocka_unit_test(test_send_token),
	    cmocka_unit_test(test_metacharacters_refused),
	    cmocka_unit_test(test_grammar),
	    cmocka_unit_test(test_setup_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
