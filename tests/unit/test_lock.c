#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"

static char dir[] = "/tmp/zk-lock-XXXXXX";
static char path[256];

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/zfs-pull-backups-h.lock", dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	rmdir(dir);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A child that takes the lock, says so through a pipe, and holds it for
 * hold_ms (or until killed). */
static pid_t holder(int hold_ms)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct lock l = LOCK_INIT;
		close(p[0]);
		if (lock_acquire(&l, path, 0, NULL, NULL) != 0)
			_exit(3);
		ssize_t w = write(p[1], "x", 1);
		(void)w;
		struct timespec ts = {hold_ms / 1000, (long)(hold_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		lock_release(&l);
		_exit(0);
	}
	close(p[1]);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static void test_paths(void **state)
{
	(void)state;
	static const struct {
		const char *kind, *host, *want;
	} cases[] = {
	    {"push", "backup1.example.com", "/var/run/zfs-push-backups-backup1.example.com.lock"},
	    {"pull", "192.168.1.100", "/var/run/zfs-pull-backups-192.168.1.100.lock"},
	    {"pull", "server@remote", "/var/run/zfs-pull-backups-server-remote.lock"},
	    {"push", "a/b c_d:e", "/var/run/zfs-push-backups-a-b-c-d-e.lock"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		lock_path(&b, "/var/run", cases[i].kind, cases[i].host);
		assert_string_equal(b.s, cases[i].want);
		buf_free(&b);
	}
}

static void test_acquire_release(void **state)
{
	(void)state;
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	char b[32] = "";
	int fd = open(path, O_RDONLY);
	assert_true(read(fd, b, sizeof(b) - 1) > 0);
	close(fd);
	char want[32];
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	assert_string_equal(b, want); /* the PID, no newline */
	bool held;
	pid_t pid;
	time_t since;
	assert_int_equal(lock_probe(path, &held, &pid, &since, &e), 0);
	assert_true(held);
	assert_int_equal(pid, getpid());
	lock_release(&l);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(lock_probe(path, &held, &pid, &since, &e), 0);
	assert_false(held);
	lock_release(&l); /* twice is fine */
}

static void test_held_and_sigkill(void **state)
{
	(void)state;
	pid_t h = holder(30000);
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	pid_t who = 0;
	assert_int_equal(lock_acquire(&l, path, 0, &who, &e), -EWOULDBLOCK);
	assert_int_equal(who, h);
	char want[80];
	snprintf(want, sizeof(want), "another instance is already running (PID %ld)", (long)h);
	assert_string_equal(e.msg, want);
	bool held;
	pid_t pid;
	time_t since;
	assert_int_equal(lock_probe(path, &held, &pid, &since, &e), 0);
	assert_true(held);
	assert_int_equal(pid, h);
	/* SIGKILL: no cleanup ran, the stale file stays, and the lock is free */
	kill(h, SIGKILL);
	waitpid(h, NULL, 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(lock_probe(path, &held, &pid, &since, &e), 0);
	assert_false(held);
	assert_int_equal(lock_acquire(&l, path, 0, &who, &e), 0);
	lock_release(&l);
}

static void test_stale_file_with_live_pid(void **state)
{
	(void)state;
	/* a leftover file naming a live, unrelated process (our parent) */
	FILE *f = fopen(path, "w");
	fprintf(f, "%ld", (long)getppid());
	fclose(f);
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	lock_release(&l);
}

/* 20 starters at once: exactly one runs. */
static void test_twenty_starters(void **state)
{
	(void)state;
	int gate[2], res[2];
	pid_t kids[20];
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(pipe(res), 0);
	for (int i = 0; i < 20; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			char c;
			close(gate[1]);
			if (read(gate[0], &c, 1) != 0)
				_exit(2);
			struct lock l = LOCK_INIT;
			int r = lock_acquire(&l, path, 0, NULL, NULL);
			ssize_t w = write(res[1], r == 0 ? "W" : "L", 1);
			(void)w;
			if (r == 0) {
				struct timespec ts = {1, 500000000L};
				nanosleep(&ts, NULL);
				lock_release(&l);
			}
			_exit(0);
		}
	}
	close(gate[0]);
	close(res[1]);
	close(gate[1]); /* all start now */
	char got[64];
	size_t n = 0;
	ssize_t r;
	while (n < 20 && (r = read(res[0], got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	for (int i = 0; i < 20; i++)
		waitpid(kids[i], NULL, 0);
	close(res[0]);
	assert_int_equal(n, 20);
	int winners = 0;
	for (size_t i = 0; i < n; i++)
		winners += got[i] == 'W';
	assert_int_equal(winners, 1);
}

static void test_wait(void **state)
{
	(void)state;
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	/* the holder leaves (and removes the file) while we wait: we get a
	 * fresh file at the path */
	pid_t h = holder(300);
	double t0 = now_s();
	assert_int_equal(lock_acquire(&l, path, 5, NULL, &e), 0);
	assert_true(now_s() - t0 < 3);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	lock_release(&l);
	waitpid(h, NULL, 0);
	/* waiting has its limit */
	h = holder(3000);
	assert_int_equal(lock_acquire(&l, path, 1, NULL, &e), -ETIMEDOUT);
	assert_non_null(strstr(e.msg, "still running"));
	kill(h, SIGKILL);
	waitpid(h, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test_setup_teardown(test_acquire_release, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_held_and_sigkill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_file_with_live_pid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_twenty_starters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
