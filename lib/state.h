/*
 * Files zkeep writes for others to read (the report cache, run records):
 * always whole, never half-written. A temporary file in the same directory
 * is written, flushed to disk, given its mode and renamed over the target,
 * so a reader sees the old content or the new, and a crash leaves the old.
 */
#ifndef ZK_STATE_H
#define ZK_STATE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* Writes len bytes to path atomically with the given mode. The directory
 * must exist. Errors name the path: -errno of the failing step. */
int state_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct zerr *e);

#endif
