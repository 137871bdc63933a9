#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

static int run(const char *const *argv, struct proc_capture *c, int timeout_ms, struct zerr *e)
{
	struct proc p;
	proc_init(&p);
	strvec_pushv(&p.argv, argv);
	int r = proc_capture(&p, NULL, 0, timeout_ms, c, e);
	proc_free(&p);
	return r;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_capture_output_and_status(void **state)
{
	(void)state;
	struct proc_capture c = PROC_CAPTURE_INIT(1 << 20, 4096);
	struct zerr e = ZERR_INIT;
	assert_int_equal(
	    run((const char *const[]){"sh", "-c", "printf 'a\\tb\\n'; echo oops >&2; exit 3", NULL},
	        &c, 5000, &e),
	    0);
	assert_string_equal(c.out.s, "a\tb\n");
	assert_string_equal(c.err.s, "oops\n");
	assert_int_equal(c.st.code, 3);
	assert_int_equal(c.st.signal, 0);
	proc_capture_free(&c);

	struct proc_capture k = PROC_CAPTURE_INIT(1024, 1024);
	assert_int_equal(
	    run((const char *const[]){"sh", "-c", "kill -TERM $$", NULL}, &k, 5000, &e), 0);
	assert_int_equal(k.st.signal, SIGTERM);
	assert_int_equal(k.st.code, 128 + SIGTERM);
	proc_capture_free(&k);
}

static void test_exec_errors_are_reported(void **state)
{
	(void)state;
	struct proc_capture c = PROC_CAPTURE_INIT(1024, 1024);
	struct zerr e = ZERR_INIT;
	assert_int_equal(run((const char *const[]){"zkeep-no-such-command", NULL}, &c, 5000, &e),
	                 -ENOENT);
	assert_non_null(strstr(e.msg, "zkeep-no-such-command"));
	assert_int_equal(run((const char *const[]){"/nonexistent/bin/x", NULL}, &c, 5000, &e),
	                 -ENOENT);
	/* a file that exists but is not executable: the child's execve fails */
	char tmpl[] = "/tmp/zk-noexec-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(run((const char *const[]){tmpl, NULL}, &c, 5000, &e), -EACCES);
	assert_non_null(strstr(e.msg, tmpl));
	unlink(tmpl);
	proc_capture_free(&c);
}

static void test_timeout_kills(void **state)
{
	(void)state;
	struct proc_capture c = PROC_CAPTURE_INIT(1024, 1024);
	struct zerr e = ZERR_INIT;
	double t0 = now_s();
	assert_int_equal(run((const char *const[]){"sleep", "30", NULL}, &c, 200, &e), -ETIMEDOUT);
	assert_true(now_s() - t0 < 5);
	assert_true(c.st.timed_out);
	assert_non_null(strstr(e.msg, "timed out"));
	proc_capture_free(&c);

	/* proc_wait's own timeout: SIGTERM first */
	struct proc p;
	struct proc_status st;
	proc_init(&p);
	strvec_pushv(&p.argv, (const char *const[]){"sleep", "30", NULL});
	assert_int_equal(proc_start(&p, &e), 0);
	assert_int_equal(proc_wait(&p, 100, &st, &e), 0);
	assert_true(st.timed_out);
	assert_int_equal(st.signal, SIGTERM);
	assert_int_equal(p.pid, 0);
	proc_free(&p);
}

static void test_output_caps(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	struct proc_capture c = PROC_CAPTURE_INIT(1000, 1024);
	assert_int_equal(run((const char *const[]){"yes", NULL}, &c, 5000, &e), -E2BIG);
	assert_non_null(strstr(e.msg, "1000 bytes"));
	proc_capture_free(&c);

	/* stderr is kept up to its cap and drained: the child is not blocked */
	struct proc_capture d = PROC_CAPTURE_INIT(1024, 100);
	assert_int_equal(
	    run((const char *const[]){"sh", "-c", "head -c 300000 /dev/zero >&2; echo ok", NULL},
	        &d, 5000, &e),
	    0);
	assert_true(d.err_truncated);
	assert_int_equal(d.err.len, 100);
	assert_string_equal(d.out.s, "ok\n");
	assert_int_equal(d.st.code, 0);
	proc_capture_free(&d);
}

static void test_input_large(void **state)
{
	(void)state;
	size_t n = 3 << 20; /* larger than any pipe buffer, both ways at once */
	char *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	struct proc p;
	struct zerr e = ZERR_INIT;
	struct proc_capture c = PROC_CAPTURE_INIT(n, 1024);
	proc_init(&p);
	strvec_push(&p.argv, "cat");
	assert_int_equal(proc_capture(&p, in, n, 10000, &c, &e), 0);
	assert_int_equal(c.st.code, 0);
	assert_int_equal(c.out.len, n);
	assert_memory_equal(c.out.s, in, n);
	proc_capture_free(&c);
	proc_free(&p);
	free(in);
}

static void test_child_environment(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	setenv("ZK_SECRET_TEST_VAR", "leak", 1);
	struct proc p;
	proc_init(&p);
	strvec_push(&p.argv, "env");
	strvec_push(&p.env, "ZK_EXTRA=1");
	struct proc_capture c = PROC_CAPTURE_INIT(65536, 1024);
	assert_int_equal(proc_capture(&p, NULL, 0, 5000, &c, &e), 0);
	assert_non_null(strstr(c.out.s, "PATH=/usr/local/sbin:"));
	assert_non_null(strstr(c.out.s, "LC_ALL=C\n"));
	assert_non_null(strstr(c.out.s, "ZK_EXTRA=1\n"));
	assert_null(strstr(c.out.s, "ZK_SECRET_TEST_VAR"));
	proc_capture_free(&c);
	proc_free(&p);
}

static void test_child_signals_and_fds(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	/* the parent ignores SIGPIPE and blocks SIGUSR1: the child must not */
	signal(SIGPIPE, SIG_IGN);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* no O_CLOEXEC on purpose, and well above the fd ls itself opens */
	int leak = dup2(open("/dev/null", O_RDONLY), 57);
	assert_int_equal(leak, 57);

	struct proc_capture c = PROC_CAPTURE_INIT(65536, 1024);
	assert_int_equal(
	    run((const char *const[]){"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status", NULL}, &c,
	        5000, &e),
	    0);
	assert_non_null(strstr(c.out.s, "SigBlk:\t0000000000000000"));
	assert_non_null(strstr(c.out.s, "SigIgn:\t0000000000000000"));
	proc_capture_free(&c);

	struct proc_capture f = PROC_CAPTURE_INIT(65536, 1024);
	assert_int_equal(run((const char *const[]){"ls", "/proc/self/fd", NULL}, &f, 5000, &e), 0);
	/* 0, 1, 2 and ls's own directory fd: nothing of ours leaked */
	char want[16];
	snprintf(want, sizeof(want), "\n%d\n", leak);
	assert_null(strstr(f.out.s, want));
	proc_capture_free(&f);
	close(leak);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
}

/* A child that leaves a daemon holding its stdout is done when it exits. */
static void test_capture_ends_with_child(void **state)
{
	(void)state;
	struct proc_capture c = PROC_CAPTURE_INIT(1024, 1024);
	struct zerr e = ZERR_INIT;
	double t0 = now_s();
	assert_int_equal(
	    run((const char *const[]){"sh", "-c", "sleep 30 & echo hi", NULL}, &c, 10000, &e), 0);
	assert_true(now_s() - t0 < 5);
	assert_string_equal(c.out.s, "hi\n");
	assert_int_equal(c.st.code, 0);
	proc_capture_free(&c);
}

/* Started with stdin and stderr closed, exec errors still come back. */
static void test_closed_stdio(void **state)
{
	(void)state;
	int saved0 = dup(0), saved2 = dup(2);
	close(0);
	close(2);
	struct proc_capture c = PROC_CAPTURE_INIT(1024, 1024);
	struct zerr e = ZERR_INIT;
	int r = run((const char *const[]){"/nonexistent/bin/x", NULL}, &c, 5000, &e);
	int r2 =
	    run((const char *const[]){"sh", "-c", "echo out; echo err >&2", NULL}, &c, 5000, &e);
	dup2(saved0, 0);
	dup2(saved2, 2);
	close(saved0);
	close(saved2);
	assert_int_equal(r, -ENOENT);
	assert_int_equal(r2, 0);
	assert_string_equal(c.out.s, "out\n");
	assert_string_equal(c.err.s, "err\n");
	proc_capture_free(&c);
}
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_capture_output_and_status),
	    cmocka_unit_test(test_exec_errors_are_reported),
	    cmocka_unit_test(test_timeout_kills),
	    cmocka_unit_test(test_output_caps),
	    cmocka_unit_test(test_input_large),
	    cmocka_unit_test(test_child_environment),
	    cmocka_unit_test(test_child_signals_and_fds),
	    cmocka_unit_test(test_capture_ends_with_child),
	    cmocka_unit_test(test_closed_stdio),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
