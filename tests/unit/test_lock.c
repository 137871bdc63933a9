#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The lock file holds our PID, the seed's format: no newline. */
static void assert_file_holds_our_pid(void)
{
	char b[32] = "", want[32];
	int fd = open(path, O_RDONLY);
	assert_true(read(fd, b, sizeof(b) - 1) > 0);
	close(fd);
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	assert_string_equal(b, want);
}

/* lock_probe says held (by pid, a seed job or not) or not held. */
static void assert_probe(bool want_held, pid_t pid, bool seed)
{
	bool held;
	struct lock_holder who;
	time_t since;
	struct zerr e = ZERR_INIT;
	assert_int_equal(lock_probe(path, &held, &who, &since, &e), 0);
	assert_int_equal(held, want_held);
	if (!want_held)
		return;
	assert_int_equal(who.pid, pid);
	assert_int_equal(who.seed, seed);
	assert_true(since > 0);
}

static void test_acquire_release(void **state)
{
	(void)state;
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	assert_file_holds_our_pid();
	assert_probe(true, getpid(), false);
	lock_release(&l);
	assert_int_equal(access(path, F_OK), -1);
	assert_probe(false, 0, false);
	lock_release(&l); /* twice is fine */
}

static void test_held_and_sigkill(void **state)
{
	(void)state;
	pid_t h = holder(30000);
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	struct lock_holder who = {0, true};
	assert_int_equal(lock_acquire(&l, path, 0, &who, &e), -EWOULDBLOCK);
	assert_int_equal(who.pid, h);
	assert_false(who.seed);
	char want[80];
	snprintf(want, sizeof(want), "Another instance is already running (PID %ld)", (long)h);
	assert_string_equal(e.msg, want);
	assert_probe(true, h, false);
	/* SIGKILL: no cleanup ran, the stale file stays, and the lock is free */
	kill(h, SIGKILL);
	waitpid(h, NULL, 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_probe(false, 0, false);
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

static void write_pid_file(pid_t pid, time_t mtime)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "%ld", (long)pid);
	fclose(f);
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* A running seed job holds the lock: zkeep says so, leaves its file. */
static void test_seed_holds(void **state)
{
	(void)state;
	char said[64];
	pid_t s = unit_seed_job(path, "30", said, sizeof(said));
	assert_string_equal(said, "took");
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	struct lock_holder who = {0, false};
	assert_int_equal(lock_acquire(&l, path, 0, &who, &e), -EWOULDBLOCK);
	assert_int_equal(who.pid, s);
	assert_true(who.seed);
	assert_non_null(strstr(e.msg, "the seed's job"));
	assert_probe(true, s, true);
	/* waiting: taken once the seed job ends (it removes its file) */
	kill(s, SIGTERM);
	assert_int_equal(lock_acquire(&l, path, 10, &who, &e), 0);
	int st;
	waitpid(s, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	/* the seed job's file was its own: ours is fresh */
	assert_file_holds_our_pid();
	lock_release(&l);
}

/* zkeep holds the lock: a seed job finds our live PID and stays out,
 * leaving our file as it was. */
static void test_seed_sees_zkeep(void **state)
{
	(void)state;
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	char said[64], want[64];
	pid_t s = unit_seed_job(path, "0", said, sizeof(said));
	snprintf(want, sizeof(want), "held %ld", (long)getpid());
	assert_string_equal(said, want);
	int st;
	waitpid(s, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_probe(true, getpid(), false);
	assert_file_holds_our_pid();
	lock_release(&l);
	assert_int_equal(access(path, F_OK), -1);
}

/* A PID file is stale unless its process is a seed job that started
 * before the file was written: a dead PID, a live process of another
 * name, and a seed job started after the file (a reused PID) are all
 * taken over. */
static void test_seed_stale(void **state)
{
	(void)state;
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	write_pid_file(dead, time(NULL));
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	lock_release(&l);

	write_pid_file(getppid(), time(NULL));
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	lock_release(&l);

	/* a real seed job, but the file is older than the process: it names
	 * the PID of some earlier process, reused */
	char said[64];
	pid_t s = unit_seed_job(path, "30", said, sizeof(said));
	assert_string_equal(said, "took");
	assert_true(lock_seed_holder(s, time(NULL)));
	write_pid_file(s, time(NULL) - 3600);
	assert_false(lock_seed_holder(s, time(NULL) - 3600));
	assert_probe(false, 0, false);
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	lock_release(&l);
	kill(s, SIGKILL);
	waitpid(s, NULL, 0);
}

/* An empty file: a seed job between its open and its write, looked at
 * again; or one that crashed there, taken over once it is a few seconds
 * old. And a temporary name zkeep cannot make is an error, not a spin. */
static void test_empty_and_stuck(void **state)
{
	(void)state;
	FILE *f = fopen(path, "w");
	fclose(f);
	struct lock l = LOCK_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(lock_acquire(&l, path, 0, NULL, &e), 0);
	assert_file_holds_our_pid();
	lock_release(&l);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	assert_int_equal(mkdir(tmp, 0700), 0);
	int r = lock_acquire(&l, path, 0, NULL, &e);
	rmdir(tmp);
	assert_int_equal(r, -EBUSY);
	assert_non_null(strstr(e.msg, tmp));
}

/* Whatever a seed job reads at the path while zkeep takes and releases
 * the lock over and over is a whole PID, never an empty or partial file. */
static void test_never_empty(void **state)
{
	(void)state;
	pid_t kid = fork();
	if (kid == 0) {
		for (int i = 0; i < 2000; i++) {
			struct lock l = LOCK_INIT;
			if (lock_acquire(&l, path, 0, NULL, NULL) == 0)
				lock_release(&l);
		}
		_exit(0);
	}
	long reads = 0, bad = 0;
	int st;
	while (waitpid(kid, &st, WNOHANG) == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		char b[32];
		ssize_t n = read(fd, b, sizeof(b) - 1);
		close(fd);
		reads++;
		if (n <= 0) {
			bad++;
			continue;
		}
		b[n] = '\0';
		char *end;
		long v = strtol(b, &end, 10);
		bad += v != kid || *end;
	}
	if (bad)
		fail_msg("%ld of %ld reads of the lock file were not the holder's PID", bad, reads);
	assert_true(reads > 0);
}

/* 20 starters at once: exactly one runs; with no file, and with a stale
 * one to take over. */
static void twenty_starters(void)
{
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

static void test_twenty_starters(void **state)
{
	(void)state;
	twenty_starters();
	assert_int_equal(access(path, F_OK), -1);
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	write_pid_file(dead, time(NULL) - 60);
	twenty_starters();
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
	    cmocka_unit_test_setup_teardown(test_seed_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seed_sees_zkeep, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seed_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_empty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_and_stuck, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
