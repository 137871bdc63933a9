/* Per-host job locks on the seed's paths (lock.h): flock-based taking,
 * seed-holder detection, stale-lock takeover and the signal-safe drop. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysmacros.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"
#include "banned.h"

void lock_path(struct buf *out, const char *dir, const char *kind, const char *host)
{
	buf_addf(out, "%s/zfs-%s-backups-", dir, kind);
	for (const char *p = host; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '-';
		buf_addch(out, ok ? c : '-');
	}
	buf_adds(out, ".lock");
}

/* The PID in the file: decimal, no newline (the seed's), or with one. */
static pid_t read_pid(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	char *end;
	long v = strtol(b, &end, 10);
	return v > 0 && v < 1L << 30 && (*end == '\0' || *end == '\n') ? (pid_t)v : 0;
}

/* Whether the file holds exactly our PID; async-signal-safe (no stdio). */
static bool holds_our_pid(int fd)
{
	char b[24], want[24];
	int n = 0;
	for (long p = (long)getpid(); p > 0 && n < 23; p /= 10)
		want[n++] = (char)('0' + p % 10);
	ssize_t got = pread(fd, b, sizeof(b), 0);
	if (got != n)
		return false;
	for (int i = 0; i < n; i++)
		if (b[i] != want[n - 1 - i])
			return false;
	return true;
}

/* How long a seed job's freshly opened file may be empty (it writes its
 * PID right after opening), and the slack for its start time. */
#define SEED_WRITE_S  2
#define START_SLACK_S 5

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* When pid started, in epoch seconds (rounded down): /proc/PID/stat's
 * starttime, in clock ticks after boot, plus /proc/stat's btime. */
static int start_time(pid_t pid, time_t *out)
{
	char p[64], b[1024];
	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(p, "re");
	if (!f)
		return -1;
	size_t n = fread(b, 1, sizeof(b) - 1, f);
	fclose(f);
	b[n] = '\0';
	/* the command name is in parentheses and may hold anything: the
	 * fields start after the last ')'; starttime is field 22, the 20th
	 * after it */
	const char *q = strrchr(b, ')');
	unsigned long long ticks = 0;
	for (int field = 2; q && *q && field < 22; field++)
		q = strchr(q + 1, ' ');
	if (!q || sscanf(q + 1, "%llu", &ticks) != 1)
		return -1;
	f = fopen("/proc/stat", "re");
	if (!f)
		return -1;
	long long btime = -1;
	while (btime < 0 && fgets(b, sizeof(b), f))
		if (sscanf(b, "btime %lld", &btime) != 1)
			btime = -1;
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	if (btime < 0 || hz <= 0)
		return -1;
	*out = (time_t)(btime + (long long)(ticks / (unsigned long long)hz));
	return 0;
}

/* Whether one word of pid's command line is (or ends in /) a seed job's
 * name: the seed runs as "python .../zfs-pull-backups ...". */
static bool names_seed_job(pid_t pid)
{
	char p[64], b[4096];
	snprintf(p, sizeof(p), "/proc/%ld/cmdline", (long)pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return false;
	b[n] = '\0';
	for (const char *w = b; w < b + n; w += strlen(w) + 1) {
		const char *base = strrchr(w, '/');
		base = base ? base + 1 : w;
		if (!strcmp(base, "zfs-pull-backups") || !strcmp(base, "zfs-push-backups"))
			return true;
	}
	return false;
}

bool lock_seed_holder(pid_t pid, time_t written)
{
	if (pid <= 0 || pid == getpid() || (kill(pid, 0) < 0 && errno != EPERM))
		return false;
	time_t started;
	/* btime is whole seconds, starttime in ticks, and btime moves when
	 * the wall clock is stepped: allow a few seconds (a PID reused that
	 * soon by another seed job is not a real risk) */
	return names_seed_job(pid) && start_time(pid, &started) == 0 &&
	       started <= written + START_SLACK_S;
}

/* A new lock file for path with our PID in it, flocked, under a temporary
 * name in the same directory; then linked to path (replace false: fails
 * with -EEXIST when there is one) or renamed over it (replace true: path
 * is a stale file whose flock we hold). Returns the fd or -errno. */
static int publish(const char *path, bool replace, struct zerr *e)
{
	struct buf tmp = BUF_INIT;
	buf_addf(&tmp, "%s.%ld.tmp", path, (long)getpid());
	int fd = open(tmp.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == EEXIST) { /* left by a killed run of our PID */
		unlink(tmp.s);
		fd = open(tmp.s, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	}
	int err = 0;
	if (fd < 0) {
		/* -EEXIST is kept for "another starter linked first" */
		err = errno == EEXIST ? EBUSY : errno;
		zerr_set(e, -err, "cannot create lock '%s': %s", tmp.s, strerror(errno));
		buf_free(&tmp);
		return -err;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	/* nobody else knows this file yet: the flock cannot fail */
	errno = 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		err = errno ? errno : EIO;
	else if (replace ? rename(tmp.s, path) < 0 : link(tmp.s, path) < 0)
		err = errno;
	if (!replace || err)
		unlink(tmp.s);
	if (err) {
		close(fd);
		/* only link's EEXIST means "another starter was first" */
		if (err == EEXIST && replace)
			err = EBUSY;
		if (err != EEXIST)
			zerr_set(e, -err, "cannot write lock '%s': %s", path, strerror(err));
		buf_free(&tmp);
		return -err;
	}
	buf_free(&tmp);
	return fd;
}

static int proc_locks(dev_t dev, ino_t ino, pid_t *pid);

/* Whether fd is still the file at path (a holder that released in between
 * removed it; a takeover replaced it). */
static bool still_at(int fd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* What one look at the lock file found (a negative errno otherwise). */
enum look { LOOK_AGAIN, LOOK_BUSY, LOOK_TAKEN };

/* We hold *fd's flock, so no zkeep holds the lock: the file is a seed
 * job's (busy, *who says which), one the seed is still writing (look
 * again), or stale (taken over: *fd becomes our new file). *fd as it
 * came is closed in every case. */
static int flocked(const char *path, int *fd, struct lock_holder *who, struct zerr *e)
{
	if (!still_at(*fd, path)) {
		close(*fd);
		return LOOK_AGAIN;
	}
	struct stat st;
	pid_t pid = read_pid(*fd);
	if (fstat(*fd, &st) < 0) {
		int err = errno;
		close(*fd);
		return zerr_set(e, -err, "cannot stat lock '%s': %s", path, strerror(err));
	}
	if (!pid && time(NULL) - st.st_mtime < SEED_WRITE_S) {
		/* the seed opens its file for writing, then writes: empty for a
		 * moment. zkeep's never is. Look again. */
		close(*fd);
		nap(20);
		return LOOK_AGAIN;
	}
	if (lock_seed_holder(pid, st.st_mtime)) {
		*who = (struct lock_holder){pid, true};
		close(*fd);
		return LOOK_BUSY;
	}
	int nfd = publish(path, true, e);
	close(*fd); /* a waiter on the stale file finds it replaced */
	if (nfd < 0)
		return nfd;
	*fd = nfd;
	return LOOK_TAKEN;
}

/* One look at the lock: none yet (we publish ours), one nobody flocks
 * (see flocked), or one a zkeep holds (busy, *who its PID). *fd is ours
 * when LOOK_TAKEN; nothing stays open otherwise. */
static int look(const char *path, int *fd, struct lock_holder *who, struct zerr *e)
{
	*fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0 && errno == ENOENT) {
		*fd = publish(path, false, e);
		if (*fd == -EEXIST) /* another starter was first: look at its file */
			return LOOK_AGAIN;
		return *fd < 0 ? *fd : LOOK_TAKEN;
	}
	if (*fd < 0)
		return zerr_set(e, -errno, "cannot open lock '%s': %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return flocked(path, fd, who, e);
	if (errno != EWOULDBLOCK) {
		int err = errno;
		close(*fd);
		return zerr_set(e, -err, "cannot lock '%s': %s", path, strerror(err));
	}
	*who = (struct lock_holder){read_pid(*fd), false};
	struct stat hs;
	if (!who->pid && fstat(*fd, &hs) == 0) /* a holder that wrote no PID */
		proc_locks(hs.st_dev, hs.st_ino, &who->pid);
	close(*fd);
	return LOOK_BUSY;
}

/* The lock is held by *who: the error that says so with no wait (wait_s
 * 0) or once wait_s has passed since start; else 0 after a nap, to look
 * again. *holder (when given) learns who. */
static int held(const struct lock_holder *who, int wait_s, const struct timespec *start,
                struct lock_holder *holder, struct zerr *e)
{
	if (holder)
		*holder = *who;
	const char *by = who->seed ? " (the seed's job)" : "";
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (wait_s == 0)
		return zerr_set(e, -EWOULDBLOCK, "Another instance is already running (PID %ld)%s",
		                (long)who->pid, by);
	if (wait_s > 0 && now.tv_sec - start->tv_sec >= wait_s)
		return zerr_set(e, -ETIMEDOUT,
		                "Another instance is still running (PID %ld)%s after %d s",
		                (long)who->pid, by, wait_s);
	nap(100);
	return 0;
}

int lock_acquire(struct lock *l, const char *path, int wait_s, struct lock_holder *holder,
                 struct zerr *e)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct lock_holder who = {0, false};
	int fd, r;
	while ((r = look(path, &fd, &who, e)) != LOOK_TAKEN) {
		if (r < 0)
			return r;
		if (r == LOOK_BUSY && (r = held(&who, wait_s, &start, holder, e)) < 0)
			return r;
	}
	/* the path before the fd: a signal handler that sees the fd
	 * (lock_drop) must find the path it belongs to */
	char *old = l->path, *p = xstrdup(path);
	l->path = p;
	free(old);
	atomic_signal_fence(memory_order_seq_cst);
	l->fd = fd;
	return 0;
}

void lock_drop(struct lock *l)
{
	int fd = l->fd;
	/* Marked free before the unlink, for a signal handler that drops the
	 * lock it sees held: after the unlink the path may already be another
	 * process's fresh lock file, which a second unlink would remove. */
	l->fd = -1;
	atomic_signal_fence(memory_order_seq_cst);
	if (fd < 0)
		return;
	/* Removed while still holding the flock: a waiter that opened this
	 * inode finds it unlinked and starts over. A seed job that overwrote
	 * our PID in it (its race) keeps its file. */
	if (still_at(fd, l->path) && holds_our_pid(fd))
		unlink(l->path);
	close(fd);
}

void lock_release(struct lock *l)
{
	lock_drop(l);
	free(l->path);
	l->path = NULL;
}

/* Looks for a flock on (dev, ino) in /proc/locks: 1 found (pid set), 0 not
 * found, -1 cannot tell. Reading it takes no lock, unlike a test flock(),
 * which could make a starting job think another instance is running. */
static int proc_locks(dev_t dev, ino_t ino, pid_t *pid)
{
	FILE *f = fopen("/proc/locks", "re");
	if (!f)
		return -1;
	char line[256];
	int found = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char type[16];
		long p;
		unsigned maj, min;
		unsigned long long i;
		/* "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" ("->" marks waiters) */
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &p, &maj, &min, &i) != 5)
			continue;
		if (!strcmp(type, "FLOCK") && makedev(maj, min) == dev && (ino_t)i == ino) {
			*pid = (pid_t)p;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

int lock_probe(const char *path, bool *held, struct lock_holder *who, time_t *since, struct zerr *e)
{
	struct stat st;
	*held = false;
	*who = (struct lock_holder){0, false};
	*since = 0;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return zerr_set(e, -errno, "cannot stat lock '%s': %s", path, strerror(errno));
	}
	int r = proc_locks(st.st_dev, st.st_ino, &who->pid);
	if (r < 0)
		return zerr_set(e, -ENOTSUP, "cannot read /proc/locks to probe '%s'", path);
	if (r == 0) {
		/* no flock: a seed job's PID file, or stale */
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		pid_t pid = fd >= 0 ? read_pid(fd) : 0;
		if (fd >= 0)
			close(fd);
		if (lock_seed_holder(pid, st.st_mtime))
			*who = (struct lock_holder){pid, true};
	}
	*held = who->pid != 0;
	if (*held)
		*since = st.st_mtime;
	return 0;
}
