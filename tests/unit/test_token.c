#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "token.h"

/*
 * Tokens are made here the way OpenZFS makes them (a packed nvlist, zlib,
 * fletcher4's first word, hex), so that a test can forge what a hostile
 * offsite host could hand back; real tokens from 2.1 and 2.3 are fixtures.
 */
enum { T_BOOL = 1, T_U64 = 8, T_STR = 9, T_U64_ARRAY = 16 };
struct kv {
	const char *name;
	int type;
	uint64_t u;
	const char *s;
};

static void put32(struct buf *b, uint32_t v, bool le)
{
	unsigned char x[4];
	for (int i = 0; i < 4; i++)
		x[le ? i : 3 - i] = (unsigned char)(v >> (8 * i));
	buf_add(b, x, 4);
}

static void put64(struct buf *b, uint64_t v, bool le)
{
	put32(b, (uint32_t)(le ? v : v >> 32), le);
	put32(b, (uint32_t)(le ? v >> 32 : v), le);
}

static void pad(struct buf *b, size_t to)
{
	while (b->len % to)
		buf_addch(b, '\0');
}

static void pack_native(struct buf *b, const struct kv *kv)
{
	static const char hdr[4] = {0, 1, 0, 0};
	buf_add(b, hdr, 4);
	put32(b, 0, true);
	put32(b, 1, true);
	for (; kv->name; kv++) {
		size_t start = b->len, nsz = strlen(kv->name) + 1;
		put32(b, 0, true); /* size, set below */
		unsigned char h[4] = {(unsigned char)nsz, (unsigned char)(nsz >> 8), 0, 0};
		buf_add(b, h, 4);
		put32(b, kv->type == T_BOOL ? 0 : kv->type == T_U64_ARRAY ? 2 : 1, true);
		put32(b, (uint32_t)kv->type, true);
		buf_add(b, kv->name, nsz);
		while ((b->len - 4) % 8) /* aligned within the stream after the header */
			buf_addch(b, '\0');
		if (kv->type == T_U64)
			put64(b, kv->u, true);
		else if (kv->type == T_U64_ARRAY)
			put64(b, kv->u, true), put64(b, kv->u, true);
		else if (kv->type == T_STR)
			buf_add(b, kv->s, strlen(kv->s) + 1);
		while ((b->len - 4) % 8)
			buf_addch(b, '\0');
		uint32_t size = (uint32_t)(b->len - start);
		for (int i = 0; i < 4; i++)
			b->s[start + i] = (char)(size >> (8 * i));
	}
	put32(b, 0, true);
}

static void xdr_string(struct buf *b, const char *s)
{
	put32(b, (uint32_t)strlen(s), false);
	buf_adds(b, s);
	pad(b, 4);
}

static void pack_xdr(struct buf *b, const struct kv *kv)
{
	static const char hdr[4] = {1, 1, 0, 0};
	buf_add(b, hdr, 4);
	put32(b, 0, false);
	put32(b, 1, false);
	for (; kv->name; kv++) {
		struct buf p = BUF_INIT;
		xdr_string(&p, kv->name);
		put32(&p, (uint32_t)kv->type, false);
		put32(&p, kv->type == T_BOOL ? 0 : 1, false);
		if (kv->type == T_U64)
			put64(&p, kv->u, false);
		else if (kv->type == T_STR)
			xdr_string(&p, kv->s);
		put32(b, (uint32_t)(p.len + 8), false);
		put32(b, 64, false); /* the decoded size: not read */
		buf_add(b, p.s, p.len);
		buf_free(&p);
	}
	put32(b, 0, false);
	put32(b, 0, false);
}

/* The token text of a packed nvlist. */
static void make_token(struct buf *out, const struct buf *packed)
{
	uLongf clen = compressBound(packed->len);
	unsigned char *c = malloc(clen);
	assert_int_equal(compress2(c, &clen, (const Bytef *)packed->s, packed->len, 6), Z_OK);
	uint64_t sum = 0;
	for (size_t i = 0; i + 4 <= clen; i += 4)
		sum += (uint32_t)c[i] | (uint32_t)c[i + 1] << 8 | (uint32_t)c[i + 2] << 16 |
		       (uint32_t)c[i + 3] << 24;
	buf_addf(out, "1-%llx-%zx-", (unsigned long long)sum, packed->len);
	for (size_t i = 0; i < clen; i++)
		buf_addf(out, "%02x", c[i]);
	free(c);
}

static void forge(struct buf *out, const struct kv *kv, bool xdr)
{
	struct buf p = BUF_INIT;
	if (xdr)
		pack_xdr(&p, kv);
	else
		pack_native(&p, kv);
	make_token(out, &p);
	buf_free(&p);
}

/* The source: tank/a@s1..s4 (guids 11..14, txg 1..4) and a bookmark of s1. */
static struct zfs_obj snaps[4] = {
    {.name = "tank/a@s1", .guid = 11, .createtxg = 1},
    {.name = "tank/a@s2", .guid = 12, .createtxg = 2},
    {.name = "tank/a@s3", .guid = 13, .createtxg = 3},
    {.name = "tank/a@s4", .guid = 14, .createtxg = 4},
};
static const struct zfs_obj *const sp[4] = {&snaps[0], &snaps[1], &snaps[2], &snaps[3]};
static struct zfs_obj mark = {.name = "tank/a#zkeep_j_s1", .guid = 11, .createtxg = 1};
static const struct zfs_obj *const mp[1] = {&mark};

/* checks a forged token against the source above, the target at
 * target_newest (0: no snapshot); 0 or the refusal's code */
static int check(const struct kv *kv, uint64_t target_newest, bool raw, bool xdr, char *why,
                 size_t n)
{
	struct buf text = BUF_INIT;
	struct token t;
	struct zerr e = ZERR_INIT;
	forge(&text, kv, xdr);
	int r = token_decode(text.s, &t, &e);
	if (r == 0) {
		struct token_expect x = {"tank/a", sp, 4, NULL, 0, target_newest, raw};
		r = token_check(&t, &x, &e);
	}
	snprintf(why, n, "%s", e.msg);
	buf_free(&text);
	return r;
}

#define BASE_KV(to, toguid)                                                                        \
	{"object", T_U64, 1, NULL}, {"offset", T_U64, 0, NULL}, {"bytes", T_U64, 4096, NULL},      \
	    {"toguid", T_U64, toguid, NULL},                                                       \
	{                                                                                          \
		"toname", T_STR, 0, to                                                             \
	}

static void test_accepts_a_matching_token(void **state)
{
	(void)state;
	char why[256];
	const struct kv raw_incr[] = {BASE_KV("tank/a@s3", 13),
	                              {"fromguid", T_U64, 12, NULL},
	                              {"largeblockok", T_BOOL, 0, NULL},
	                              {"embedok", T_BOOL, 0, NULL},
	                              {"compressok", T_BOOL, 0, NULL},
	                              {"rawok", T_BOOL, 0, NULL},
	                              {0}};
	assert_int_equal(check(raw_incr, 12, true, false, why, sizeof(why)), 0);
	assert_int_equal(check(raw_incr, 12, true, true, why, sizeof(why)), 0); /* XDR too */
	const struct kv plain_full[] = {BASE_KV("tank/a@s1", 11), {0}};
	assert_int_equal(check(plain_full, 0, false, false, why, sizeof(why)), 0);
}

static void test_refuses_plaintext_for_a_raw_job(void **state)
{
	(void)state;
	char why[256];
	/* what a hostile offsite hands back: the right snapshot, no rawok */
	const struct kv kv[] = {BASE_KV("tank/a@s3", 13), {"fromguid", T_U64, 12, NULL}, {0}};
	assert_int_equal(check(kv, 12, true, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "not of a raw send"));
	/* and the other way: a raw token for a job that is not raw */
	const struct kv r[] = {BASE_KV("tank/a@s1", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(r, 0, false, false, why, sizeof(why)), -EPERM);
}

static void test_refuses_a_snapshot_outside_the_job(void **state)
{
	(void)state;
	char why[256];
	const struct kv other[] = {BASE_KV("tank/secret@s1", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(other, 0, true, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "not a snapshot of 'tank/a'"));
	/* a sibling whose name starts with the dataset's */
	const struct kv sib[] = {BASE_KV("tank/ab@s1", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(sib, 0, true, false, why, sizeof(why)), -EPERM);
	/* a child: zfs send -t would search upwards by guid from there */
	const struct kv child[] = {BASE_KV("tank/a/b@s1", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(child, 0, true, false, why, sizeof(why)), -EPERM);
	/* the right name with another snapshot's guid */
	const struct kv guid[] = {BASE_KV("tank/a@s1", 99), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(guid, 0, true, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "guid"));
	/* a name the source does not have */
	const struct kv gone[] = {BASE_KV("tank/a@s9", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(gone, 0, true, false, why, sizeof(why)), -EPERM);
	const struct kv bare[] = {BASE_KV("tank/a@", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(bare, 0, true, false, why, sizeof(why)), -EPERM);
}

static void test_refuses_a_wrong_base(void **state)
{
	(void)state;
	char why[256];
	/* not newer than the target's newest (s3) */
	const struct kv old[] = {BASE_KV("tank/a@s2", 12),
	                         {"fromguid", T_U64, 11, NULL},
	                         {"rawok", T_BOOL, 0, NULL},
	                         {0}};
	assert_int_equal(check(old, 13, true, false, why, sizeof(why)), -EPERM);
	/* from a snapshot that is not the target's newest */
	const struct kv from[] = {BASE_KV("tank/a@s4", 14),
	                          {"fromguid", T_U64, 11, NULL},
	                          {"rawok", T_BOOL, 0, NULL},
	                          {0}};
	assert_int_equal(check(from, 13, true, false, why, sizeof(why)), -EPERM);
	/* a full stream into a target that has snapshots */
	const struct kv full[] = {BASE_KV("tank/a@s4", 14), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(full, 13, true, false, why, sizeof(why)), -EPERM);
	/* incremental into a target with no snapshot */
	const struct kv inc[] = {BASE_KV("tank/a@s4", 14),
	                         {"fromguid", T_U64, 13, NULL},
	                         {"rawok", T_BOOL, 0, NULL},
	                         {0}};
	assert_int_equal(check(inc, 0, true, false, why, sizeof(why)), -EPERM);
	/* the target's newest is one the source no longer has as a snapshot
	 * but as a bookmark: accepted with the bookmark, refused without */
	struct buf text = BUF_INIT;
	struct token t;
	struct zerr e = ZERR_INIT;
	const struct zfs_obj *const later[2] = {&snaps[2], &snaps[3]};
	const struct kv bm[] = {BASE_KV("tank/a@s3", 13),
	                        {"fromguid", T_U64, 11, NULL},
	                        {"rawok", T_BOOL, 0, NULL},
	                        {0}};
	forge(&text, bm, false);
	assert_int_equal(token_decode(text.s, &t, &e), 0);
	struct token_expect x = {"tank/a", later, 2, mp, 1, 11, true};
	assert_int_equal(token_check(&t, &x, &e), 0);
	x.n_marks = 0;
	assert_int_equal(token_check(&t, &x, &e), -EPERM);
	buf_free(&text);
}

static void test_refuses_saved_and_redacted(void **state)
{
	(void)state;
	char why[256];
	const struct kv saved[] = {BASE_KV("tank/a@s1", 11),
	                           {"rawok", T_BOOL, 0, NULL},
	                           {"savedok", T_BOOL, 0, NULL},
	                           {0}};
	assert_int_equal(check(saved, 0, true, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "savedok"));
	const struct kv red[] = {BASE_KV("tank/a@s1", 11),
	                         {"rawok", T_BOOL, 0, NULL},
	                         {"redact_snaps", T_U64_ARRAY, 5, NULL},
	                         {0}};
	assert_int_equal(check(red, 0, true, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "redact_snaps"));
	const struct kv book[] = {BASE_KV("tank/a@s1", 11),
	                          {"rawok", T_BOOL, 0, NULL},
	                          {"book_redact_snaps", T_U64_ARRAY, 5, NULL},
	                          {0}};
	assert_int_equal(check(book, 0, true, false, why, sizeof(why)), -EPERM);
}

static void test_refuses_malformed_tokens(void **state)
{
	(void)state;
	char why[256];
	struct token t;
	struct zerr e = ZERR_INIT;
	/* a key twice: the second could hide behind the first */
	const struct kv dup[] = {BASE_KV("tank/a@s1", 11),
	                         {"toname", T_STR, 0, "tank/b@s1"},
	                         {"rawok", T_BOOL, 0, NULL},
	                         {0}};
	assert_int_equal(check(dup, 0, true, false, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "twice"));
	const struct kv dupx[] = {
	    BASE_KV("tank/a@s1", 11), {"toguid", T_U64, 12, NULL}, {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(dupx, 0, true, true, why, sizeof(why)), -EINVAL);
	/* a toname carrying a newline, a wrong type */
	const struct kv nl[] = {BASE_KV("tank/a@s1\nfake", 11), {"rawok", T_BOOL, 0, NULL}, {0}};
	assert_int_equal(check(nl, 0, true, false, why, sizeof(why)), -EINVAL);
	const struct kv ty[] = {{"toguid", T_STR, 0, "11"}, {"toname", T_STR, 0, "tank/a@s1"}, {0}};
	assert_int_equal(check(ty, 0, false, false, why, sizeof(why)), -EINVAL);
	const struct kv none[] = {{"object", T_U64, 1, NULL}, {0}};
	assert_int_equal(check(none, 0, false, false, why, sizeof(why)), -EINVAL);

	/* the text around a good token */
	struct buf good = BUF_INIT, b = BUF_INIT;
	const struct kv ok[] = {BASE_KV("tank/a@s1", 11), {0}};
	forge(&good, ok, false);
	assert_int_equal(token_decode(good.s, &t, &e), 0);
	const char *bad[] = {"",         "-",         "1-",
	                     "1-0-0-",   "2-0-10-00", "1-zz-10-00",
	                     "x",        "1-0-0",     "1-0-ffffffffffffffff-00",
	                     "1-0-10-0", "1-0-10-0g"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(token_decode(bad[i], &t, &e), -EINVAL);
	/* a wrong checksum, a cut payload, a byte changed */
	buf_adds(&b, good.s);
	b.s[2] = b.s[2] == '0' ? '1' : '0';
	assert_int_equal(token_decode(b.s, &t, &e), -EINVAL);
	buf_reset(&b);
	buf_add(&b, good.s, good.len - 2);
	assert_int_equal(token_decode(b.s, &t, &e), -EINVAL);
	/* the unpacked length lies */
	buf_reset(&b);
	const char *p = strchr(strchr(good.s, '-') + 1, '-') + 1;
	buf_add(&b, good.s, (size_t)(p - good.s));
	buf_adds(&b, "8-");
	buf_adds(&b, strchr(p, '-') + 1);
	assert_int_equal(token_decode(b.s, &t, &e), -EINVAL);
	/* too long to look at */
	char *huge = malloc(TOKEN_TEXT_MAX + 2);
	memset(huge, 'a', TOKEN_TEXT_MAX + 1);
	huge[TOKEN_TEXT_MAX + 1] = '\0';
	assert_int_equal(token_decode(huge, &t, &e), -EINVAL);
	free(huge);
	buf_free(&good);
	buf_free(&b);
}

/* Real tokens of interrupted receives (tests/fixtures/F/resume-token.out,
 * made by resume-token.cmd): a raw incremental and a plain full one. */
static void real(const char *flavour)
{
	char rel[64];
	snprintf(rel, sizeof(rel), "%s/resume-token.out", flavour);
	struct buf b = BUF_INIT;
	fixture_read(rel, &b);
	char *save = NULL, *line = strtok_r(b.s, "\n", &save);
	int n = 0;
	for (; line; line = strtok_r(NULL, "\n", &save)) {
		/* <toname> <toguid> <fromguid or -> <raw 0/1> <token> */
		char toname[256], from[32], tok[4096];
		unsigned long long toguid;
		int raw;
		assert_int_equal(
		    sscanf(line, "%255s %llu %31s %d %4095s", toname, &toguid, from, &raw, tok), 5);
		struct token t;
		struct zerr e = ZERR_INIT;
		if (token_decode(tok, &t, &e) < 0)
			fail_msg("%s: %s", flavour, e.msg);
		assert_string_equal(t.toname, toname);
		assert_true(t.toguid == toguid);
		if (!strcmp(from, "-")) {
			assert_false(t.flags & TOKEN_HAS_FROMGUID);
		} else {
			assert_true(t.flags & TOKEN_HAS_FROMGUID);
			assert_true(t.fromguid == strtoull(from, NULL, 10));
		}
		assert_int_equal(!!(t.flags & TOKEN_RAW), raw);
		assert_string_equal(t.unknown, "");
		n++;
	}
	assert_true(n >= 2);
	buf_free(&b);
}

static void test_real_tokens_2_1(void **state)
{
	(void)state;
	real("2.1");
}

static void test_real_tokens_2_3(void **state)
{
	(void)state;
	real("2.3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_a_matching_token),
	    cmocka_unit_test(test_refuses_plaintext_for_a_raw_job),
	    cmocka_unit_test(test_refuses_a_snapshot_outside_the_job),
	    cmocka_unit_test(test_refuses_a_wrong_base),
	    cmocka_unit_test(test_refuses_saved_and_redacted),
	    cmocka_unit_test(test_refuses_malformed_tokens),
	    cmocka_unit_test(test_real_tokens_2_1),
	    cmocka_unit_test(test_real_tokens_2_3),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
