#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"

static void test_when(void **state)
{
	(void)state;
	/* a POSIX TZ rule: no tzdata needed */
	setenv("TZ", "GMT0BST,M3.5.0/1,M10.5.0", 1);
	tzset();
	struct buf b = BUF_INIT;
	fmt_when(&b, 1784900000, FMT_UTC); /* 2026-07-24 13:33:20 UTC */
	assert_string_equal(b.s, "2026-07-24 13:33 UTC");
	buf_reset(&b);
	fmt_when(&b, 1784900000, FMT_LOCAL); /* British Summer Time */
	assert_string_equal(b.s, "2026-07-24 14:33");
	for (int64_t none = 0; none >= -1; none--) {
		buf_reset(&b);
		fmt_when(&b, none, FMT_LOCAL);
		assert_string_equal(b.s, "-");
	}
	buf_free(&b);
}

/* The api's and the JSON log's form: UTC whatever TZ says, a fraction
 * only where asked, truncated (the seed's isoformat() and the log's
 * milliseconds). */
static void test_iso(void **state)
{
	(void)state;
	setenv("TZ", "GMT0BST,M3.5.0/1,M10.5.0", 1);
	tzset();
	struct buf b = BUF_INIT;
	assert_true(fmt_iso(&b, 1784900000, 987654321, 0));
	assert_string_equal(b.s, "2026-07-24T13:33:20Z");
	buf_reset(&b);
	assert_true(fmt_iso(&b, 1784900000, 987654321, 3));
	assert_string_equal(b.s, "2026-07-24T13:33:20.987Z");
	buf_reset(&b);
	assert_true(fmt_iso(&b, 1784900000, 5000, 6));
	assert_string_equal(b.s, "2026-07-24T13:33:20.000005Z");
	buf_reset(&b);
	assert_true(fmt_iso(&b, 0, 0, 0)); /* the epoch is a time, not "none" */
	assert_string_equal(b.s, "1970-01-01T00:00:00Z");
	/* beyond gmtime_r's years: nothing appended */
	buf_reset(&b);
	buf_adds(&b, "x");
	assert_false(fmt_iso(&b, INT64_MAX, 0, 3));
	assert_string_equal(b.s, "x");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_when),
	    cmocka_unit_test(test_iso),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
