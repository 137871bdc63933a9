#include "unit.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_when),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
