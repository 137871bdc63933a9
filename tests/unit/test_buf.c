#include "unit.h"

#include <string.h>

#include "buf.h"
#include "err.h"
#include "fmt.h"
#include "strvec.h"

static void test_buf_basics(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	assert_non_null(b.s);
	assert_string_equal(b.s, "");
	buf_adds(&b, "abc");
	buf_addch(&b, '-');
	buf_addf(&b, "%d/%s", 42, "x");
	assert_string_equal(b.s, "abc-42/x");
	assert_int_equal(b.len, 8);
	buf_reset(&b);
	assert_string_equal(b.s, "");
	buf_free(&b);
	assert_non_null(b.s);
	buf_reset(&b); /* on the shared empty string: must not write */
	buf_free(&b);
}

static void test_buf_long_format(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_addf(&b, "<%s>", big);
	assert_int_equal(b.len, sizeof(big) + 1);
	assert_int_equal(b.s[0], '<');
	assert_int_equal(b.s[b.len - 1], '>');
	assert_int_equal(b.s[b.len], '\0');
	buf_free(&b);
}

static void test_buf_detach_and_trim(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	char *s = buf_detach(&b, NULL); /* empty buffer: still a real string */
	assert_string_equal(s, "");
	free(s);
	buf_adds(&b, "line \t\n\n");
	buf_rtrim(&b);
	size_t len;
	s = buf_detach(&b, &len);
	assert_string_equal(s, "line");
	assert_int_equal(len, 4);
	assert_string_equal(b.s, "");
	free(s);
}

static void test_buf_json(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	const char in[] = "a\"b\\c\nd\te\x01\x7f é \xff\xc3";
	buf_add_json_str(&b, in, sizeof(in) - 1);
	assert_string_equal(b.s, "\"a\\\"b\\\\c\\nd\\te\\u0001\\u007f é \\ufffd\\ufffd\"");
	buf_reset(&b);
	/* overlong encoding and a surrogate are not valid UTF-8 */
	buf_add_json_str(&b, "\xc0\xaf\xed\xa0\x80", 5);
	assert_string_equal(b.s, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	buf_free(&b);
}

static void test_buf_escaped(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	const char s[] = "a\nb\\c\x7f\xc3\xa9\0z";
	buf_add_escaped(&b, s, sizeof(s) - 1, 0);
	assert_string_equal(b.s, "a\\x0ab\\c\\x7f\xc3\xa9\\x00z");
	buf_reset(&b);
	buf_add_escaped(&b, s, sizeof(s) - 1, BUF_ESC_ASCII);
	assert_string_equal(b.s, "a\\x0ab\\x5cc\\x7f\\xc3\\xa9\\x00z");
	buf_free(&b);
}

static void test_strvec(void **state)
{
	(void)state;
	struct strvec v = STRVEC_INIT;
	assert_null(v.v[0]);
	strvec_push(&v, "zfs");
	strvec_pushf(&v, "-%c", 'H');
	strvec_pushv(&v, (const char *const[]){"list", "tank/a b", NULL});
	assert_int_equal(v.n, 4);
	assert_string_equal(v.v[3], "tank/a b");
	assert_null(v.v[4]);
	assert_true(strvec_has(&v, "list"));
	assert_false(strvec_has(&v, "lis"));
	strvec_clear(&v);
	assert_int_equal(v.n, 0);
	strvec_split(&v, "  a\tbb   c  ");
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[1], "bb");
	for (int i = 0; i < 1000; i++)
		strvec_pushf(&v, "%d", i);
	assert_string_equal(v.v[1002], "999");
	assert_null(v.v[1003]);
	strvec_clear(&v);
	strvec_split(&v, "b a b c a");
	strvec_sort_unique(&v);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.v[0], "a");
	assert_string_equal(v.v[2], "c");
	assert_null(v.v[3]);
	strvec_clear(&v);
	strvec_sort_unique(&v); /* empty: nothing to do */
	assert_int_equal(v.n, 0);
}

static void test_err(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	assert_int_equal(zerr_set(&e, -22, "cannot open '%s'", "x"), -22);
	assert_string_equal(e.msg, "cannot open 'x'");
	zerr_prefix(&e, "job %d", 3);
	assert_string_equal(e.msg, "job 3: cannot open 'x'");
	assert_int_equal(e.code, -22);
	char big[3000];
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	zerr_set(&e, -7, "%s", big);
	assert_int_equal(strlen(e.msg), ZERR_MSG_MAX - 1);
	assert_string_equal(e.msg + ZERR_MSG_MAX - 4, "...");
	assert_int_equal(zerr_set(NULL, -5, "x"), -5);
}

static void test_fmt_human(void **state)
{
	(void)state;
	static const struct {
		uint64_t n;
		const char *s;
	} cases[] = {
	    {0, "0.00 B"},
	    {1023, "1023.00 B"},
	    {1024, "1.00 KB"},
	    {1536, "1.50 KB"},
	    {(uint64_t)5 << 30, "5.00 GB"},
	    {UINT64_MAX, "16.00 EB"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		fmt_bytes_human(&b, cases[i].n);
		assert_string_equal(b.s, cases[i].s);
		buf_free(&b);
	}
}

static void test_fmt_parse_u64(void **state)
{
	(void)state;
	uint64_t v = 7;
	assert_true(fmt_parse_u64("0", &v));
	assert_int_equal(v, 0);
	assert_true(fmt_parse_u64("13054426998380856122", &v)); /* a guid above INT64_MAX */
	assert_true(v == 13054426998380856122u);
	assert_true(fmt_parse_u64("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_false(fmt_parse_u64("18446744073709551616", &v)); /* 2^64 */
	assert_false(fmt_parse_u64("99999999999999999999", &v));
	assert_false(fmt_parse_u64("000000000000000000001", &v)); /* 21 digits */
	assert_false(fmt_parse_u64("", &v));
	assert_false(fmt_parse_u64("-1", &v));
	assert_false(fmt_parse_u64("+1", &v));
	assert_false(fmt_parse_u64(" 1", &v));
	assert_false(fmt_parse_u64("1 ", &v));
	assert_false(fmt_parse_u64("0x10", &v));
	assert_int_equal(v, 7); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_basics),
	    cmocka_unit_test(test_buf_long_format),
	    cmocka_unit_test(test_buf_detach_and_trim),
	    cmocka_unit_test(test_buf_json),
	    cmocka_unit_test(test_buf_escaped),
	    cmocka_unit_test(test_strvec),
	    cmocka_unit_test(test_err),
	    cmocka_unit_test(test_fmt_human),
	    cmocka_unit_test(test_fmt_parse_u64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
