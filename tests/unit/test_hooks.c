#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Splits cmd and checks the words against want (NULL-terminated). */
static void check_split(const char *cmd, const char *const *want)
{
	struct strvec v = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(hook_split(cmd, &v, &e), 0);
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(v.n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v.v[i], want[i]);
	strvec_clear(&v);
}

static void check_split_fails(const char *cmd, const char *why)
{
	struct strvec v = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(hook_split(cmd, &v, &e), -EINVAL);
	assert_non_null(strstr(e.msg, why));
	strvec_clear(&v);
}

static void test_split_rule(void **state)
{
	(void)state;
	check_split("/usr/bin/pg-flush  --db main\t-v",
	            (const char *const[]){"/usr/bin/pg-flush", "--db", "main", "-v", NULL});
	check_split("echo 'a b' \"c d\" e\\ f",
	            (const char *const[]){"echo", "a b", "c d", "e f", NULL});
	/* single quotes keep backslashes; double quotes know \" and \\ only */
	check_split("x 'a\\b' \"q\\\"q\\\\z\\n\"",
	            (const char *const[]){"x", "a\\b", "q\"q\\z\\n", NULL});
	/* no shell: $, *, ; and | are plain characters */
	check_split("echo $HOME * ; | >x",
	            (const char *const[]){"echo", "$HOME", "*", ";", "|", ">x", NULL});
	check_split("x ''", (const char *const[]){"x", "", NULL});
	check_split("a'b'\"c\"d", (const char *const[]){"abcd", NULL});
	check_split("  sh:  echo $X | tr a b",
	            (const char *const[]){"/bin/sh", "-c", "echo $X | tr a b", NULL});
	check_split_fails("", "empty");
	check_split_fails(" \t ", "empty");
	check_split_fails("echo 'abc", "unclosed ' quote");
	check_split_fails("echo \"abc", "unclosed \" quote");
	check_split_fails("echo abc\\", "lone backslash");
	check_split_fails("sh:  ", "no shell command");
}

static int run(const char *cmd, const char *const *env, const char *input, int timeout_ms,
               struct hook_result *r)
{
	struct hook_spec h = {cmd, env, input, input ? strlen(input) : 0, timeout_ms};
	struct zerr e = ZERR_INIT;
	return hook_run(&h, r, &e);
}

static void test_outcomes(void **state)
{
	(void)state;
	struct hook_result r;
	char buf[512];
	assert_int_equal(run("true", NULL, NULL, 5000, &r), 0);
	assert_int_equal(r.outcome, HOOK_OK);
	assert_string_equal(hook_result_str(&r, 5000, buf, sizeof(buf)), "ok");

	assert_int_equal(run("false", NULL, NULL, 5000, &r), 0);
	assert_int_equal(r.outcome, HOOK_EXIT);
	assert_int_equal(r.code, 1);

	assert_int_equal(
	    run("sh: echo first >&2; printf 'the\\tlast\\n\\n' >&2; exit 7", NULL, NULL, 5000, &r),
	    0);
	assert_int_equal(r.outcome, HOOK_EXIT);
	assert_int_equal(r.code, 7);
	assert_string_equal(r.line, "the?last");
	assert_string_equal(hook_result_str(&r, 5000, buf, sizeof(buf)), "exited 7: the?last");
	assert_string_equal(hook_outcome_name(r.outcome), "exit");

	assert_int_equal(run("sh: kill -USR1 $$", NULL, NULL, 5000, &r), 0);
	assert_int_equal(r.outcome, HOOK_SIGNAL);
	assert_int_equal(r.signal, SIGUSR1);

	/* argv without a shell: the quoted word reaches the child whole */
	assert_int_equal(run("sh -c 'echo \"$0\" >&2; exit 3' 'one arg'", NULL, NULL, 5000, &r), 0);
	assert_int_equal(r.code, 3);
	assert_string_equal(r.line, "one arg");
}

static void test_not_started(void **state)
{
	(void)state;
	struct hook_result r;
	assert_int_equal(run("zkeep-no-such-hook --x", NULL, NULL, 5000, &r), -ENOENT);
	assert_int_equal(r.outcome, HOOK_NOT_STARTED);
	assert_non_null(strstr(r.line, "zkeep-no-such-hook"));
	assert_string_equal(hook_outcome_name(r.outcome), "not-started");
	assert_int_equal(run("echo 'open", NULL, NULL, 5000, &r), -EINVAL);
	assert_int_equal(r.outcome, HOOK_NOT_STARTED);
	assert_non_null(strstr(r.line, "unclosed"));
}

static void test_env_and_stdin(void **state)
{
	(void)state;
	struct hook_result r;
	const char *env[] = {"ZKEEP_DATASET=tank/db", "ZKEEP_PRE_RESULT=ok", NULL};
	assert_int_equal(run("sh: read l; echo \"$ZKEEP_DATASET $ZKEEP_PRE_RESULT $l\" >&2; "
	                     "exit 4",
	                     env, "from stdin\nmore\n", 5000, &r),
	                 0);
	assert_int_equal(r.code, 4);
	assert_string_equal(r.line, "tank/db ok from stdin");
	/* no input: stdin is /dev/null, read fails at once */
	assert_int_equal(run("sh: read l || exit 9", NULL, NULL, 5000, &r), 0);
	assert_int_equal(r.code, 9);
}

/* The timeout kills the hook's whole process group: a shell's child too. */
static void test_timeout_kills_group(void **state)
{
	(void)state;
	char pidfile[] = "/tmp/zkeep-hook-XXXXXX";
	int fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sh: echo started >&2; sleep 30 & echo $! >%s; wait", pidfile);
	struct hook_result r;
	char buf[512];
	double t0 = now_s();
	assert_int_equal(run(cmd, NULL, NULL, 500, &r), 0);
	assert_true(now_s() - t0 < 5);
	assert_int_equal(r.outcome, HOOK_TIMEOUT);
	assert_string_equal(r.line, "started");
	assert_string_equal(hook_result_str(&r, 500, buf, sizeof(buf)),
	                    "timed out after 500 ms, killed: started");
	assert_string_equal(hook_outcome_name(r.outcome), "timeout");

	FILE *f = fopen(pidfile, "r");
	assert_non_null(f);
	int pid = 0;
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(pidfile);
	/* the sleep was in the group: gone (reaped by init) within a moment */
	int alive = 1;
	for (int i = 0; i < 50 && alive; i++) {
		alive = kill(pid, 0) == 0;
		if (alive)
			usleep(100 * 1000);
	}
	assert_false(alive);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split_rule),          cmocka_unit_test(test_outcomes),
	    cmocka_unit_test(test_not_started),         cmocka_unit_test(test_env_and_stdin),
	    cmocka_unit_test(test_timeout_kills_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
