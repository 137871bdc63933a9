#include "lock.h"

#include <errno.h>
#include <fcntl.h>
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

static void nap(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

int lock_acquire(struct lock *l, const char *path, int wait_s, pid_t *holder, struct zerr *e)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (holder)
		*holder = 0;
	for (;;) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0)
			return zerr_set(e, -errno, "cannot open lock '%s': %s", path,
			                strerror(errno));
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			/* Taken; but is it still the file at path? A holder that
			 * released in between removed it. */
			struct stat a, b;
			if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino) {
				char pid[32];
				int n = snprintf(pid, sizeof(pid), "%ld", (long)getpid());
				if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
					int err = errno;
					close(fd);
					return zerr_set(e, -err, "cannot write lock '%s': %s", path,
					                strerror(err));
				}
				l->fd = fd;
				free(l->path);
				l->path = xstrdup(path);
				return 0;
			}
			close(fd);
			continue;
		}
		int err = errno;
		if (err != EWOULDBLOCK) {
			close(fd);
			return zerr_set(e, -err, "cannot lock '%s': %s", path, strerror(err));
		}
		pid_t pid = read_pid(fd);
		close(fd);
		if (holder)
			*holder = pid;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (wait_s == 0)
			return zerr_set(e, -EWOULDBLOCK,
			                "another instance is already running (PID %ld)", (long)pid);
		if (wait_s > 0 && now.tv_sec - start.tv_sec >= wait_s)
			return zerr_set(e, -ETIMEDOUT,
			                "another instance is still running (PID %ld) after %d s",
			                (long)pid, wait_s);
		nap(100);
	}
}

void lock_release(struct lock *l)
{
	int fd = l->fd;
	/* Released before the unlink, for a signal handler that releases the
	 * lock it sees held: after the unlink the path may already be another
	 * process's fresh lock file, which a second unlink would remove. */
	l->fd = -1;
	atomic_signal_fence(memory_order_seq_cst);
	if (fd >= 0) {
		/* Remove while still holding: a waiter that opened this inode
		 * finds it unlinked and starts over on a fresh file. */
		unlink(l->path);
		close(fd);
	}
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

int lock_probe(const char *path, bool *held, pid_t *pid, time_t *since, struct zerr *e)
{
	struct stat st;
	*held = false;
	*pid = 0;
	*since = 0;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return zerr_set(e, -errno, "cannot stat lock '%s': %s", path, strerror(errno));
	}
	int r = proc_locks(st.st_dev, st.st_ino, pid);
	if (r < 0)
		return zerr_set(e, -ENOTSUP, "cannot read /proc/locks to probe '%s'", path);
	*held = r == 1;
	if (*held)
		*since = st.st_mtime;
	return 0;
}
