#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"

/* In a child: keep only fd (as fd 3) and stdio, so no pipe end stays open
 * by accident and every EOF arrives. */
static int only(int fd)
{
	if (dup2(fd, 100) < 0 || dup2(100, 3) < 0)
		_exit(9);
	for (int i = 4; i < 1024; i++)
		close(i);
	return 3;
}

/* A child writing n pseudo-random bytes to fd (seeded, so the reader can
 * check them) in pieces of piece bytes with gap_us between them, after a
 * first KiB and a pause of pause_ms. */
static pid_t trickle(int fd, size_t n, int pause_ms, size_t piece, long gap_us)
{
	pid_t pid = fork();
	if (pid == 0) {
		fd = only(fd);
		unsigned x = 12345;
		char b[65536];
		size_t done = 0;
		while (done < n) {
			size_t k = n - done < piece ? n - done : piece;
			if (pause_ms && done == 0)
				k = 1024;
			for (size_t i = 0; i < k; i++)
				b[i] = (char)((x = x * 1103515245 + 12345) >> 16);
			if (write(fd, b, k) != (ssize_t)k)
				_exit(1);
			done += k;
			long us = pause_ms && done == 1024 ? pause_ms * 1000L : gap_us;
			if (us) {
				struct timespec ts = {us / 1000000, (us % 1000000) * 1000L};
				nanosleep(&ts, NULL);
			}
		}
		_exit(0);
	}
	return pid;
}

static pid_t writer(int fd, size_t n, int pause_ms)
{
	return trickle(fd, n, pause_ms, 65536, 0);
}

/* A child reading fd to EOF (or stop bytes), exiting 0 when every byte
 * matches the writer's sequence and the count is want. */
static pid_t reader(int fd, size_t want, size_t stop)
{
	pid_t pid = fork();
	if (pid == 0) {
		fd = only(fd);
		unsigned x = 12345;
		char b[65536];
		size_t got = 0;
		ssize_t k;
		while ((k = read(fd, b, sizeof(b))) > 0) {
			for (ssize_t i = 0; i < k; i++)
				if (b[i] != (char)((x = x * 1103515245 + 12345) >> 16))
					_exit(2);
			got += (size_t)k;
			if (stop && got >= stop)
				_exit(0);
		}
		_exit(got == want ? 0 : 3);
	}
	return pid;
}

static int status_of(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void progress(void *arg, uint64_t bytes, double secs)
{
	(void)secs;
	uint64_t *last = arg;
	assert_true(bytes >= *last);
	*last = bytes;
}

/* n bytes from a writer in pieces of piece bytes, gap_us apart, through
 * the relay to a reader that checks each one: all arrive, in order. */
static void relay_through(size_t n, size_t piece, long gap_us, const struct relay_opts *o,
                          struct relay_stats *st)
{
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pid_t w = trickle(a[1], n, 0, piece, gap_us);
	pid_t r = reader(b[0], n, 0);
	close(a[1]);
	close(b[0]);
	struct zerr e = ZERR_INIT;
	assert_int_equal(relay_run(a[0], b[1], o, st, &e), 0);
	close(a[0]);
	close(b[1]);
	assert_int_equal(status_of(w), 0);
	assert_int_equal(status_of(r), 0);
	assert_true(st->bytes == n);
}

static void test_relay_bytes(void **state)
{
	(void)state;
	size_t n = (size_t)48 << 20;
	uint64_t last = 0;
	struct relay_opts o = {0, 5000, 1, progress, &last};
	struct relay_stats st;
	relay_through(n, 65536, 0, &o, &st);
	assert_true(last == n); /* the final progress call has the total */
	assert_true(st.spliced);
}

/* A sender that trickles (3000 bytes every 200 us, small writes as ssh
 * makes them, at 15 MB/s) is moved in batches, not one wakeup per write;
 * every byte arrives in order. How large a batch is depends on the
 * scheduler, so only a loose bound is asserted: a slower machine batches
 * more, not less. With pipes left at 64 KiB (F_SETPIPE_SZ refused) the
 * batches are small by design, and only the bytes are checked. */
static void test_relay_trickle(void **state)
{
	(void)state;
	size_t writes = 1500;
	struct relay_opts o = {0, 5000, 0, NULL, NULL};
	struct relay_stats st;
	int p[2];
	assert_int_equal(pipe(p), 0);
	bool big = fcntl(p[0], F_SETPIPE_SZ, 1 << 20) >= 1 << 20;
	close(p[0]);
	close(p[1]);
	relay_through(writes * 3000, 3000, 200, &o, &st);
	assert_true(st.moves > 0);
	if (big)
		assert_true(st.moves < writes / 4);
	else
		print_message("pipes stay small here: batch size not checked\n");
}

/* The nap policy, move by move (a pipe of 1 MiB). */
static void test_relay_next_nap(void **state)
{
	(void)state;
	size_t cap = (size_t)1 << 20;
	/* small moves double the nap, from 50 us, up to 50 ms */
	assert_true(relay_next_nap(0, 4096, cap) == 50e-6);
	assert_true(relay_next_nap(50e-6, 4096, cap) == 100e-6);
	assert_true(relay_next_nap(40e-3, 4096, cap) == 50e-3);
	assert_true(relay_next_nap(50e-3, 4096, cap) == 50e-3);
	/* an eighth to a half of the pipe: the nap is right */
	assert_true(relay_next_nap(8e-3, cap / 8, cap) == 8e-3);
	assert_true(relay_next_nap(8e-3, cap / 2 - 1, cap) == 8e-3);
	/* half or more halves it, to nothing below 50 us */
	assert_true(relay_next_nap(8e-3, cap / 2, cap) == 4e-3);
	assert_true(relay_next_nap(80e-6, cap / 2, cap) == 0);
	/* a full pipe (the sender was held back) stops the naps at once */
	assert_true(relay_next_nap(50e-3, cap - cap / 8, cap) == 0);
	assert_true(relay_next_nap(50e-3, cap, cap) == 0);
	/* a pipe left at 64 KiB scales the same way */
	assert_true(relay_next_nap(1e-3, 4096, 65536) == 2e-3);
	assert_true(relay_next_nap(1e-3, 65536, 65536) == 0);
}

static void test_relay_not_pipes(void **state)
{
	(void)state;
	/* a regular file in, a pipe out: Linux splices a file into a pipe */
	char path[] = "/tmp/zk-relay-XXXXXX";
	int fd = mkstemp(path);
	int b[2];
	assert_int_equal(pipe(b), 0);
	pid_t w = writer(fd, (size_t)3 << 20, 0);
	assert_int_equal(status_of(w), 0);
	lseek(fd, 0, SEEK_SET);
	pid_t r = reader(b[0], (size_t)3 << 20, 0);
	close(b[0]);
	struct relay_stats st;
	struct zerr e = ZERR_INIT;
	assert_int_equal(relay_run(fd, b[1], NULL, &st, &e), 0);
	close(b[1]);
	assert_int_equal(status_of(r), 0);
	assert_true(st.bytes == (size_t)3 << 20);
	assert_true(st.spliced);

	/* a pipe in, a file opened O_APPEND out: splice refuses it
	 * (EINVAL), and the relay copies through its buffer instead */
	int out = open(path, O_WRONLY | O_TRUNC | O_APPEND);
	assert_true(out >= 0);
	int a[2];
	assert_int_equal(pipe(a), 0);
	w = writer(a[1], (size_t)3 << 20, 0);
	close(a[1]);
	assert_int_equal(relay_run(a[0], out, NULL, &st, &e), 0);
	close(a[0]);
	assert_int_equal(status_of(w), 0);
	assert_true(st.bytes == (size_t)3 << 20);
	assert_false(st.spliced);
	close(out);
	lseek(fd, 0, SEEK_SET);
	r = reader(fd, (size_t)3 << 20, 0);
	assert_int_equal(status_of(r), 0);
	close(fd);
	unlink(path);
}

static void test_relay_bwlimit(void **state)
{
	(void)state;
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	size_t n = (size_t)2 << 20;
	pid_t w = writer(a[1], n, 0);
	pid_t r = reader(b[0], n, 0);
	close(a[1]);
	close(b[0]);
	struct relay_opts o = {(uint64_t)4 << 20, 5000, 0, NULL, NULL};
	struct relay_stats st;
	struct zerr e = ZERR_INIT;
	assert_int_equal(relay_run(a[0], b[1], &o, &st, &e), 0);
	close(a[0]);
	close(b[1]);
	status_of(w);
	assert_int_equal(status_of(r), 0);
	/* 2 MiB at 4 MiB/s: at least about half a second, and not much more */
	assert_true(st.seconds >= 0.45);
	assert_true(st.seconds < 3.0);
}

static void test_relay_stall_and_epipe(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pid_t w = writer(a[1], (size_t)1 << 20, 20000); /* 1 KiB, then 20 s silence */
	pid_t r = reader(b[0], 0, 0);
	close(a[1]);
	close(b[0]);
	struct relay_opts o = {0, 300, 0, NULL, NULL};
	struct relay_stats st;
	struct zerr e = ZERR_INIT;
	assert_int_equal(relay_run(a[0], b[1], &o, &st, &e), -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "stalled"));
	assert_true(st.bytes == 1024);
	kill(w, SIGKILL);
	status_of(w);
	close(a[0]);
	close(b[1]);
	status_of(r);

	/* the receiver reads 1 MiB and goes away */
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	w = writer(a[1], (size_t)16 << 20, 0);
	r = reader(b[0], 0, (size_t)1 << 20);
	close(a[1]);
	close(b[0]);
	o.stall_timeout_ms = 5000;
	assert_int_equal(relay_run(a[0], b[1], &o, &st, &e), -EPIPE);
	assert_non_null(strstr(e.msg, "receiving side"));
	close(a[0]);
	close(b[1]);
	status_of(w);
	assert_int_equal(status_of(r), 0);
	signal(SIGPIPE, SIG_DFL);
}

/* head_check: the first bytes must be the writer's sequence; counts calls
 * in *arg, refuses when *arg starts negative */
static int head_ok(void *arg, const unsigned char *head, size_t len, struct zerr *e)
{
	int *calls = arg;
	unsigned x = 12345;
	for (size_t i = 0; i < len; i++)
		if (head[i] != (unsigned char)(char)((x = x * 1103515245 + 12345) >> 16))
			return zerr_set(e, -EINVAL, "head byte %zu differs", i);
	if (*calls < 0)
		return zerr_set(e, -EBADMSG, "refused by the check");
	(*calls)++;
	return 0;
}

static void test_relay_head(void **state)
{
	(void)state;
	int calls = 0;
	struct relay_opts o = {0};
	o.head_len = 312;
	o.head_check = head_ok;
	o.arg = &calls;
	struct relay_stats st;
	/* checked once, then every byte, the head included, arrives in order */
	relay_through((size_t)2 << 20, 100, 0, &o, &st);
	assert_int_equal(calls, 1);
	assert_true(st.spliced);

	/* refused: the relay ends with the check's error, the receiver reads
	 * nothing at all */
	calls = -1;
	int a[2], b[2];
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	pid_t w = writer(a[1], (size_t)1 << 20, 0);
	pid_t r = reader(b[0], 0, 0);
	close(a[1]);
	close(b[0]);
	struct zerr e = ZERR_INIT;
	assert_int_equal(relay_run(a[0], b[1], &o, &st, &e), -EBADMSG);
	assert_string_equal(e.msg, "refused by the check");
	assert_true(st.bytes == 0);
	close(a[0]);
	close(b[1]);
	status_of(w); /* its broken pipe */
	assert_int_equal(status_of(r), 0);

	/* a sender that wrote nothing: no check, no error (its exit says why) */
	calls = 0;
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	close(a[1]);
	assert_int_equal(relay_run(a[0], b[1], &o, &st, &e), 0);
	assert_int_equal(calls, 0);
	assert_true(st.bytes == 0);
	close(a[0]);
	close(b[0]);
	close(b[1]);

	/* the head, then the copy through a buffer where splice cannot go
	 * (an O_APPEND file) */
	char path[] = "/tmp/zk-relay-XXXXXX";
	int out = mkstemp(path);
	assert_true(out >= 0);
	close(out);
	out = open(path, O_WRONLY | O_APPEND);
	assert_int_equal(pipe(a), 0);
	w = writer(a[1], (size_t)1 << 20, 0);
	close(a[1]);
	assert_int_equal(relay_run(a[0], out, &o, &st, &e), 0);
	close(a[0]);
	close(out);
	assert_int_equal(status_of(w), 0);
	assert_true(st.bytes == (size_t)1 << 20);
	assert_false(st.spliced);
	int in = open(path, O_RDONLY);
	r = reader(in, (size_t)1 << 20, 0);
	assert_int_equal(status_of(r), 0);
	close(in);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_relay_bytes),   cmocka_unit_test(test_relay_next_nap),
	    cmocka_unit_test(test_relay_trickle), cmocka_unit_test(test_relay_not_pipes),
	    cmocka_unit_test(test_relay_bwlimit), cmocka_unit_test(test_relay_stall_and_epipe),
	    cmocka_unit_test(test_relay_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
