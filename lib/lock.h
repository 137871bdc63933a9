/*
 * Per-host job locks, crash-safe, on the seed's paths:
 *   <dir>/zfs-pull-backups-<host>.lock, <dir>/zfs-push-backups-<host>.lock
 * (<dir> is /var/run unless configured; <host> with every character other
 * than ASCII letters, digits, '.' and '-' turned into '-').
 *
 * Between zkeep processes the lock is flock(2) on that file, never a
 * check-then-write: two starters cannot both win, a holder killed even by
 * SIGKILL frees it at once, and a PID left in a stale file (or reused by
 * another process) cannot fake a holder.
 *
 * The seed's own protocol is honoured both ways, for switch-over day when
 * a seed job may still run: the seed writes its PID into the file (no
 * newline, no flock) and treats a file whose PID is alive as held.
 *  - A file nobody flocks counts as held by a seed job only when its PID
 *    is alive, that process names zfs-pull-backups or zfs-push-backups in
 *    its command line, and it started before the file was last written
 *    (so a reused PID cannot fake one). Otherwise it is stale and taken.
 *  - zkeep's file appears at the path only with its PID already in it: it
 *    is written and flocked under a temporary name, then linked to the
 *    path (or renamed over a stale one), so a seed job never reads an
 *    empty or half-written file, and finds a live PID while zkeep holds it.
 * A seed job's file that is empty (it opens, then writes) is looked at
 * again for a moment before it counts as stale.
 * What the seed's protocol cannot prevent: a seed job that checks before
 * zkeep's link and writes after it overwrites zkeep's PID, and one that
 * removes its file between zkeep's look and zkeep's takeover (the seed's
 * own races, seed against seed too); release then leaves the seed's file
 * alone.
 *
 * Release removes the file only while it still holds this process's PID,
 * while still holding the flock; a waiter that had opened the old file
 * notices (its inode is no longer the path's) and starts over.
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

/* Who holds a lock. */
struct lock_holder {
	pid_t pid; /* 0 when the file names none */
	bool seed; /* a running seed job, by its PID file (it takes no flock) */
};

/* Takes the lock at path. wait_s: 0 fails at once when held, > 0 waits up
 * to that many seconds, < 0 waits for ever. Returns 0 when taken;
 * -EWOULDBLOCK (or -ETIMEDOUT after waiting) when another process holds it,
 * described in *holder when not NULL; other -errno naming the path. */
int lock_acquire(struct lock *l, const char *path, int wait_s, struct lock_holder *holder,
                 struct zerr *e);

/* Releases and removes the file (when it still holds our PID). Safe on a
 * lock not held. */
void lock_release(struct lock *l);

/* lock_release's first half, async-signal-safe, for a signal handler:
 * removes the file as above and closes it; l->path stays allocated. */
void lock_drop(struct lock *l);

/* Whether path is held right now (by a zkeep flock or a live seed job),
 * by whom, since when (the file's mtime). A missing file is not held. */
int lock_probe(const char *path, bool *held, struct lock_holder *who, time_t *since,
               struct zerr *e);

/* Whether pid is a running seed job that wrote a lock file last modified
 * at written: alive, zfs-pull-backups or zfs-push-backups in its command
 * line, started no later than written (give or take a few seconds). */
bool lock_seed_holder(pid_t pid, time_t written);

#endif
