/* leaf_parse: what `zfs get -Hp -r -t all -o name,property,value,source`
 * says of a target decides whether zkeep may take it over (lib/leaf.h). */
#include "unit.h"

#include <errno.h>
#include <string.h>

#include "leaf.h"

#define T "slowpool/encryptedbackups/client/fastpool/data"

/* The leaf as the seed's role made it, under an encrypted backup dataset. */
static const char role_leaf[] =
    T "\tguid\t1234567890123\t-\n" T "\tcanmount\toff\tlocal\n" T "\tencryption\taes-256-gcm\t-\n" T
      "\tencryptionroot\tslowpool/encryptedbackups\t-\n" T "\treferenced\t196608\t-\n" T
      "\treceive_resume_token\t-\t-\n" T "\tacltype\tposix\tlocal\n" T "\txattr\tsa\tlocal\n";

static void test_role_leaf(void **state)
{
	(void)state;
	struct leaf lf;
	struct zerr e = ZERR_INIT;
	assert_int_equal(leaf_parse(T, role_leaf, &lf, &e), 0);
	assert_string_equal(lf.why, "");
	assert_true(lf.guid == 1234567890123ull);
	assert_true(lf.encrypted);
	assert_false(lf.own_key);
	assert_string_equal(lf.acltype, "posix");
	assert_string_equal(lf.xattr, "sa");
	free(lf.acltype);
	free(lf.xattr);
}

/* text parses, and says the leaf is not empty because of why */
static void assert_not_empty(const char *text, const char *why)
{
	struct leaf lf;
	struct zerr e = ZERR_INIT;
	assert_int_equal(leaf_parse(T, text, &lf, &e), 0);
	if (!strstr(lf.why, why))
		fail_msg("'%s', want %s", lf.why, why);
	free(lf.acltype);
	free(lf.xattr);
}

/* Anything more than the role made: never taken over. */
static void test_not_empty(void **state)
{
	(void)state;
	static const struct {
		const char *extra, *why;
	} cases[] = {
	    {T "@autosnap_2026-01-01_00:00:00_daily\tguid\t5\t-\n", "a snapshot"},
	    {T "#zkeep_x\tguid\t6\t-\n", "a bookmark"},
	    {T "/child\tguid\t7\t-\n", "a child"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		buf_adds(&b, role_leaf);
		buf_adds(&b, cases[i].extra);
		assert_not_empty(b.s, cases[i].why);
		buf_free(&b);
	}
	static const struct {
		const char *from, *to, *why;
	} edits[] = {
	    {"\treferenced\t196608\t", "\treferenced\t1048577\t", "1048577 bytes of data"},
	    {"\tcanmount\toff\t", "\tcanmount\ton\t", "canmount=on"},
	    {"\treceive_resume_token\t-\t", "\treceive_resume_token\t1-e3f-c8-789c\t",
	     "partial receive"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(role_leaf, edits[i].from);
		assert_non_null(at);
		struct buf b = BUF_INIT;
		buf_add(&b, role_leaf, (size_t)(at - role_leaf));
		buf_adds(&b, edits[i].to);
		buf_adds(&b, at + strlen(edits[i].from));
		assert_not_empty(b.s, edits[i].why);
		buf_free(&b);
	}
}

/* Unencrypted, properties inherited, its own key; and output that is not
 * zfs get's. */
static void test_variants(void **state)
{
	(void)state;
	struct leaf lf;
	struct zerr e = ZERR_INIT;
	assert_int_equal(leaf_parse("d/x",
	                            "d/x\tguid\t9\t-\nd/x\tcanmount\toff\tlocal\n"
	                            "d/x\tencryption\toff\tdefault\nd/x\tencryptionroot\t-\t-\n"
	                            "d/x\treferenced\t24576\t-\nd/x\treceive_resume_token\t-\t-\n"
	                            "d/x\tacltype\tposix\tinherited from d\n"
	                            "d/x\txattr\tsa\tinherited from d\n",
	                            &lf, &e),
	                 0);
	assert_string_equal(lf.why, "");
	assert_false(lf.encrypted);
	assert_null(lf.acltype);
	assert_null(lf.xattr);
	assert_int_equal(leaf_parse("d/x",
	                            "d/x\tguid\t9\t-\nd/x\tcanmount\toff\tlocal\n"
	                            "d/x\tencryption\taes-256-gcm\t-\nd/x\tencryptionroot\td/x\t-\n"
	                            "d/x\treferenced\t98304\t-\n",
	                            &lf, &e),
	                 0);
	assert_true(lf.own_key);
	assert_int_equal(leaf_parse("d/x", "cannot open 'd/x': dataset does not exist\n", &lf, &e),
	                 -EINVAL);
	assert_int_equal(leaf_parse("d/x", "", &lf, &e), -EINVAL);
	/* a listing of another dataset only says nothing of this one */
	assert_int_equal(leaf_parse("d/x", "d/y\tguid\t9\t-\n", &lf, &e), -EINVAL);
}

/* The leaf's properties, kept in the run record across an interrupted
 * first receive, go back as one string, and only acltype and xattr with
 * plain values are ever set from a record: anything else is refused
 * before zfs runs (this machine has none: a run would fail otherwise). */
static void test_leaf_props(void **state)
{
	(void)state;
	struct leaf_take t = {0};
	struct buf b = BUF_INIT;
	leaf_props_of(&t, &b);
	assert_string_equal(b.s ? b.s : "", "");
	strvec_pushv(&t.recv_opts,
	             (const char *const[]){"-o", "acltype=posix", "-o", "xattr=sa", NULL});
	leaf_props_of(&t, &b);
	assert_string_equal(b.s, "acltype=posix xattr=sa");
	struct host h;
	host_init_local(&h);
	static const char *const bad[] = {"acltype=posix mountpoint=/etc",
	                                  "xattr=sa;reboot",
	                                  "acltype=",
	                                  "acltype",
	                                  "xattrs=sa",
	                                  "acltype=POSIX"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zerr e = ZERR_INIT;
		assert_int_equal(leaf_props_set(&h, "zb/h/data", bad[i], 1000, &e), -EINVAL);
		assert_non_null(strstr(e.msg, "zb/h/data"));
		assert_non_null(strstr(e.msg, "nothing set"));
	}
	host_free(&h);
	buf_free(&b);
	leaf_take_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_role_leaf),
	    cmocka_unit_test(test_not_empty),
	    cmocka_unit_test(test_variants),
	    cmocka_unit_test(test_leaf_props),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
