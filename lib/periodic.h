/*
 * A periodic job in a thread of its own: fn runs at once, then every
 * interval seconds, or at once when kicked. The daemon's main thread stays
 * free to take signals, so a job stuck in a command that does not answer
 * (a zfs list on a suspended pool) never delays SIGTERM.
 *
 * Owns the thread, its lock and condition variable; fn's argument stays
 * the caller's. The thread is created with the caller's signal mask
 * (block the daemon's signals first).
 */
#ifndef ZK_PERIODIC_H
#define ZK_PERIODIC_H

#include "err.h"

struct periodic;

/* Starts the thread. Errors: -errno from pthread_create. */
int periodic_start(struct periodic **out, int interval_s, void (*fn)(void *arg), void *arg,
                   struct zerr *e);

/* The next run starts now, or as soon as the one in progress ends. */
void periodic_kick(struct periodic *p);

/* No run starts after this; waits up to wait_ms for the one in progress.
 * 0: the thread has ended and p is freed. -ETIMEDOUT: a run is still in
 * progress; p and whatever fn uses stay in use (the caller may stop
 * again, or exit without freeing them). */
int periodic_stop(struct periodic *p, int wait_ms);

#endif
