/*
 * Shared by the cmocka unit tests: includes in the order cmocka needs, and
 * a loader for fixtures captured from real OpenZFS (tests/fixtures).
 */
#ifndef ZK_UNIT_H
#define ZK_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <sys/types.h>

#include "buf.h"

/* Reads tests/fixtures/<rel> into b; fails the test when it is missing.
 * The fixture root is $ZKEEP_FIXTURES, or tests/fixtures from the cwd. */
void fixture_read(const char *rel, struct buf *b);
/* 1 when the fixture exists (flavour-specific ones may not). */
int fixture_exists(const char *rel);

/* Starts the seed's zfs-pull-backups as far as its lock goes (a Python
 * stand-in following its protocol, tests/helpers/seed/zfs-pull-backups) on
 * lockfile, holding it for hold seconds; returns its PID once it said
 * "took" or "held N", which is put in said. The caller reaps it. */
pid_t unit_seed_job(const char *lockfile, const char *hold, char *said, size_t n);

#endif
