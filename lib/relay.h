/*
 * The relay: zkeep moves a zfs stream from the sender's stdout to the
 * receiver's stdin itself, so it can count the bytes, limit the rate, show
 * progress and notice a stall, without a pv or mbuffer in between.
 *
 * On Linux the bytes go pipe to pipe by splice(2) and never enter user
 * space; where splice cannot be used (an fd that is not a pipe on either
 * side, or another kernel) it falls back to read/write through one buffer.
 */
#ifndef ZK_RELAY_H
#define ZK_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct relay_opts {
	uint64_t bwlimit;     /* bytes per second, 0 = no limit */
	int stall_timeout_ms; /* no byte moved for this long: give up; 0 = never */
	int progress_ms;      /* how often progress is called, 0 = never */
	void (*progress)(void *arg, uint64_t bytes, double seconds);
	void *arg;
	/* When head_len is set, the first head_len bytes are read and given
	 * to head_check before any byte reaches out_fd; a check that fails
	 * ends the relay with its error and nothing written. A stream that
	 * ends before its first byte is not checked (the sender failed). */
	size_t head_len;
	int (*head_check)(void *arg, const unsigned char *head, size_t len, struct zerr *e);
};

struct relay_stats {
	uint64_t bytes;
	double seconds;
	double cpu;     /* this process's CPU seconds over the relay (getrusage) */
	uint64_t moves; /* splices or writes that moved bytes: bytes/moves is the batch */
	bool spliced;   /* the zero-copy path was used */
};

/* Moves everything from in_fd to out_fd until EOF on in_fd. Neither fd is
 * closed. Errors: -ETIMEDOUT (stall), -EPIPE (the receiver went away),
 * head_check's error, other -errno; the stats say how far it got. */
int relay_run(int in_fd, int out_fd, const struct relay_opts *o, struct relay_stats *st,
              struct zerr *e);

/* The relay's nap, in seconds, after a move of moved bytes between pipes
 * of cap bytes, given the nap before it: a move of 7/8 of the pipe or more
 * (the sender's pipe was full) stops the naps, half or more halves the nap
 * (0 below 50 us), under an eighth doubles it (50 us to 50 ms). Pure. */
double relay_next_nap(double nap, size_t moved, size_t cap);

#endif
