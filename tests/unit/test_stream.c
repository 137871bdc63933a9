#include "unit.h"

#include <errno.h>
#include <string.h>

#include "stream.h"

/*
 * First records laid out as OpenZFS writes them (dmu_replay_record_t), in
 * either byte order, so a test can make what a hostile client could send;
 * tests/it/t_gate.sh has the real streams (send -p, send -R) refused.
 */
struct rec {
	unsigned char b[STREAM_HEAD_LEN];
};

static void put(unsigned char *p, uint64_t v, int n, int be)
{
	for (int i = 0; i < n; i++)
		p[be ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* hdr: 1 substream, 2 compound */
static struct rec make(const char *toname, int hdr, uint32_t payload, int be)
{
	struct rec r;
	memset(&r, 0, sizeof(r));
	put(r.b + 0, 0, 4, be); /* DRR_BEGIN */
	put(r.b + 4, payload, 4, be);
	put(r.b + 8, 0x2F5bacbacULL, 8, be);
	put(r.b + 16, (uint64_t)hdr | (0x4ULL << 2), 8, be); /* a feature flag too */
	put(r.b + 40, 0x1122334455667788ULL, 8, be);
	put(r.b + 48, 0x99, 8, be);
	strcpy((char *)r.b + 56, toname);
	return r;
}

static int check(const struct rec *r, const char *ds, struct zerr *e)
{
	return stream_head_check(r->b, sizeof(r->b), ds, false, e);
}

static void test_accepts_what_zkeep_asks_for(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	for (int be = 0; be <= 1; be++) {
		struct rec sub = make("tank/a@s2", 1, 0, be);       /* send [-w] [-i] */
		struct rec inc = make("tank/a@s2", 2, 0, be);       /* send -I */
		struct rec resumed = make("tank/a@s2", 1, 184, be); /* send -t: the resume nvlist */
		assert_int_equal(check(&sub, "tank/a", &e), 0);
		assert_int_equal(check(&inc, "tank/a", &e), 0);
		assert_int_equal(check(&resumed, "tank/a", &e), 0);
		/* from a sender not trusted with packages: one snapshot's only */
		assert_int_equal(stream_head_check(sub.b, sizeof(sub.b), "tank/a", true, &e), 0);
		assert_int_equal(stream_head_check(inc.b, sizeof(inc.b), "tank/a", true, &e),
		                 -EBADMSG);
		assert_non_null(strstr(e.msg, "package of streams (zfs send -I)"));
		struct stream_head h;
		assert_int_equal(stream_head_parse(sub.b, sizeof(sub.b), &h, &e), 0);
		assert_int_equal(h.toguid, 0x1122334455667788ULL);
		assert_int_equal(h.fromguid, 0x99);
		assert_false(h.compound);
		assert_string_equal(h.toname, "tank/a@s2");
	}
}

static void test_refuses_replication_and_property_streams(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	struct rec rec = make("tank/a@s2", 2, 1024, 0); /* send -R, -p, --holds */
	assert_int_equal(check(&rec, "tank/a", &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "send -R or -p"));
	assert_non_null(strstr(e.msg, "tank/a@s2"));
}

static void test_refuses_another_dataset(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	struct rec other = make("tank/b@s2", 1, 0, 0);
	struct rec longer = make("tank/ab@s2", 1, 0, 0);
	struct rec child = make("tank/a/c@s2", 1, 0, 0);
	struct rec bare = make("tank/a", 1, 0, 0);
	assert_int_equal(check(&other, "tank/a", &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "'tank/b@s2' where 'tank/a' was asked for"));
	assert_int_equal(check(&longer, "tank/a", &e), -EBADMSG);
	assert_int_equal(check(&child, "tank/a", &e), -EBADMSG);
	assert_int_equal(check(&bare, "tank/a", &e), -EBADMSG);
}

static void test_refuses_what_is_not_a_stream(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	struct rec r = make("tank/a@s2", 1, 0, 0);
	assert_int_equal(check(&r, "tank/a", &e), 0);
	/* short: a sender that stopped inside the header */
	assert_int_equal(stream_head_check(r.b, STREAM_HEAD_LEN - 1, "tank/a", false, &e),
	                 -ENODATA);
	assert_non_null(strstr(e.msg, "ended after 311 bytes"));
	struct rec bad = r;
	bad.b[8] ^= 1; /* magic */
	assert_int_equal(check(&bad, "tank/a", &e), -EBADMSG);
	bad = r;
	bad.b[0] = 1; /* a DRR_OBJECT first */
	assert_int_equal(check(&bad, "tank/a", &e), -EBADMSG);
	bad = r;
	bad.b[16] = (unsigned char)((bad.b[16] & ~3) | 3); /* header type 3 */
	assert_int_equal(check(&bad, "tank/a", &e), -EBADMSG);
	bad = r;
	bad.b[36] |= 1; /* DRR_FLAG_CLONE */
	assert_int_equal(check(&bad, "tank/a", &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "clone"));
	bad = r;
	memset(bad.b + 56, 'a', 256); /* toname without its NUL */
	assert_int_equal(check(&bad, "tank/a", &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "not terminated"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_what_zkeep_asks_for),
	    cmocka_unit_test(test_refuses_replication_and_property_streams),
	    cmocka_unit_test(test_refuses_another_dataset),
	    cmocka_unit_test(test_refuses_what_is_not_a_stream),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
