/*
 * Per-host job locks, crash-safe, on the seed's paths:
 *   <dir>/zfs-pull-backups-<host>.lock, <dir>/zfs-push-backups-<host>.lock
 * (<dir> is /var/run unless configured; <host> with every character other
 * than ASCII letters, digits, '.' and '-' turned into '-').
 *
 * The lock is flock(2) on that file, never a check-then-write: two starters
 * cannot both win, a holder killed even by SIGKILL frees it at once, and a
 * PID left in a stale file (or reused by another process) cannot fake a
 * holder. The holder's PID is written into the file after locking, without
 * a newline (the seed's format), for humans and for `zkeep status`.
 *
 * Release unlinks the file while still holding the lock; a waiter that had
 * opened the old file notices (its inode is no longer the path's) and
 * starts over, so removal never lets two holders in.
 */
#ifndef ZK_LOCK_H
#define ZK_LOCK_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "err.h"

struct lock {
	int fd; /* -1 when not held */
	char *path;
};

#define LOCK_INIT                                                                                  \
	{                                                                                          \
		-1, NULL                                                                           \
	}

/* Appends the lock path for kind ("pull" or "push") and host. */
void lock_path(struct buf *out, const char *dir, const char *kind, const char *host);

/* Takes the lock at path. wait_s: 0 fails at once when held, > 0 waits up
 * to that many seconds, < 0 waits for ever. Returns 0 when taken;
 * -EWOULDBLOCK (or -ETIMEDOUT after waiting) when another process holds it,
 * with its PID in *holder when the file says; other -errno naming the
 * path. */
int lock_acquire(struct lock *l, const char *path, int wait_s, pid_t *holder, struct zerr *e);

/* Releases and removes the file. Safe on a lock not held. A signal handler
 * that unlinks and closes l->path while l->fd >= 0 never races it. */
void lock_release(struct lock *l);

/* Whether path is held right now, by which PID, since when (the file's
 * mtime). A missing file is not held. */
int lock_probe(const char *path, bool *held, pid_t *pid, time_t *since, struct zerr *e);

#endif
