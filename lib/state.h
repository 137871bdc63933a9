/*
 * Files zkeep writes for others to read (the report cache, run records):
 * always whole, never half-written. A temporary file in the same directory
 * is written, flushed to disk, given its mode and renamed over the target,
 * so a reader sees the old content or the new, and a crash leaves the old.
 *
 * And the other way: files zkeep reads from its state and log directories
 * are input that anyone with write access there could replace. The readers
 * here open without following a symlink and without blocking (a FIFO would
 * hang open() and read() forever), and take only a regular file of sane
 * size.
 */
#ifndef ZK_STATE_H
#define ZK_STATE_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes len bytes to path atomically with the given mode. The directory
 * must exist. Errors name the path: -errno of the failing step. */
int state_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct zerr *e);

/* A run record or report cache larger than this is not zkeep's. */
#define STATE_RECORD_MAX ((off_t)16 << 20)

/* Opens name relative to dirfd (AT_FDCWD for a plain path) for reading: no
 * symlink followed, never blocking, a regular file of at most max bytes.
 * Returns the fd (O_CLOEXEC; the caller closes it) or -errno: -ENOENT when
 * it does not exist, -EINVAL when it is not a regular file, -EFBIG when it
 * is larger than max; e names the file. *size gets its size when not NULL. */
int state_open_read(int dirfd, const char *name, off_t max, off_t *size, struct zerr *e);

/* Reads the JSON document in name (as state_open_read), rejecting duplicate
 * keys. Returns 0 and a new reference in *out, or -errno (-EBADMSG when it
 * is not JSON) with *out NULL; e names the file and what is wrong. */
int state_load_json(int dirfd, const char *name, off_t max, json_t **out, struct zerr *e);

#endif
