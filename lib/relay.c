/* The relay (relay.h): moving a zfs stream from sender to receiver by
 * splice or read/write, with byte counts, rate limit, progress and stall detection. */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"

#define CHUNK ((size_t)1 << 20)

/* This process's user and system CPU seconds. */
static double cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until fd is ready for ev, or the stall limit passes. */
static int wait_fd(int fd, short ev, int timeout_ms, struct zerr *e)
{
	for (;;) {
		struct pollfd p = {fd, ev, 0};
		int r = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return zerr_set(e, -errno, "poll: %s", strerror(errno));
		if (r == 0)
			return zerr_set(e, -ETIMEDOUT, "the stream stalled: no data for %d s",
			                timeout_ms / 1000);
		if (ev == POLLOUT && (p.revents & (POLLERR | POLLHUP)) && !(p.revents & POLLOUT))
			return zerr_set(e, -EPIPE, "the receiving side closed the stream");
		return 0;
	}
}

/* Sleeps as long as it takes for bytes moved since t0 to stay within the
 * limit. */
static void throttle(uint64_t limit, uint64_t bytes, double t0)
{
	if (!limit)
		return;
	double ahead = (double)bytes / (double)limit - (now_s() - t0);
	if (ahead > 0) {
		struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

/* Batching. A pipe wakes its reader for every write, so a relay that moves
 * the bytes as soon as poll() sees them moves what one write left (a few
 * KiB from ssh, 8 KiB from a cat) and pays two polls and two splices for
 * it: 0.3 CPU s per GiB on a quiet host, several in a TCG VM. Once the
 * stream flows, the relay naps between moves instead, so each move takes a
 * good share of the pipe, and it tunes the nap by what the moves find (see
 * relay_next_nap). With moves of an eighth to a half of the pipe, neither
 * side waits on the relay: the sender has half a pipe of room left, and the
 * receiver has the last move to work through. When nothing at all can
 * move, the relay still waits in poll(), which is where a stall is seen. */
#define NAP_MIN 50e-6
#define NAP_MAX 50e-3
double relay_next_nap(double nap, size_t moved, size_t cap)
{
	if (moved >= cap - cap / 8)
		return 0; /* the sender's pipe was full: the relay held it back */
	if (moved >= cap / 2)
		return nap / 2 < NAP_MIN ? 0 : nap / 2;
	if (moved < cap / 8)
		return nap * 2 < NAP_MIN ? NAP_MIN : nap * 2 > NAP_MAX ? NAP_MAX : nap * 2;
	return nap;
}

static void nap_for(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	nanosleep(&ts, NULL);
}

/* What the smaller of the two pipes holds (both are resized to CHUNK where
 * the system allows; a new pipe holds 64 KiB, or 8 KiB past the user's
 * pipe-user-pages-soft). */
static size_t pipe_cap(int in_fd, int out_fd)
{
	size_t cap = CHUNK;
#ifdef F_GETPIPE_SZ
	int a = fcntl(in_fd, F_GETPIPE_SZ), b = fcntl(out_fd, F_GETPIPE_SZ);
	if (a > 0 && (size_t)a < cap)
		cap = (size_t)a;
	if (b > 0 && (size_t)b < cap)
		cap = (size_t)b;
#else
	(void)in_fd;
	(void)out_fd;
	cap = 65536;
#endif
	return cap;
}

/* A failed write (or splice) toward the receiver: EPIPE means it went
 * away, which is said as such; anything else is the errno's text. */
static int write_error(struct zerr *e)
{
	return errno == EPIPE ? zerr_set(e, -EPIPE, "the receiving side closed the stream")
	                      : zerr_set(e, -errno, "relay: %s", strerror(errno));
}

/* Reads the first o->head_len bytes, checks them, writes them on: see
 * relay.h. Both fds are non-blocking. */
static int relay_head(int in_fd, int out_fd, const struct relay_opts *o, struct relay_stats *st,
                      struct zerr *e)
{
	unsigned char *head = malloc(o->head_len);
	size_t got = 0, put = 0;
	int r = 0;
	if (!head)
		return zerr_set(e, -ENOMEM, "out of memory");
	while (got < o->head_len) {
		if ((r = wait_fd(in_fd, POLLIN, o->stall_timeout_ms, e)) < 0)
			goto out;
		ssize_t n = read(in_fd, head + got, o->head_len - got);
		if (n == 0)
			break;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			r = zerr_set(e, -errno, "relay: %s", strerror(errno));
			goto out;
		}
		got += (size_t)n;
	}
	if (got == 0) /* the sender failed before its stream began */
		goto out;
	if ((r = o->head_check(o->arg, head, got, e)) < 0)
		goto out;
	while (put < got) {
		if ((r = wait_fd(out_fd, POLLOUT, o->stall_timeout_ms, e)) < 0)
			goto out;
		ssize_t n = write(out_fd, head + put, got - put);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0) {
			r = write_error(e);
			goto out;
		}
		put += (size_t)n;
	}
	st->bytes += got;
	st->moves++;
out:
	free(head);
	return r;
}

/* One relay in progress: what relay_run's moves share. */
struct relay {
	int in_fd, out_fd;
	const struct relay_opts *o;
	struct relay_stats *st;
	int in_fl, out_fl;    /* the fds' flags before, restored at the end */
	size_t chunk;         /* the most one move takes */
	size_t cap;           /* what the smaller pipe holds, for the naps */
	double t0, cpu0;      /* when it began, and this process's CPU then */
	double last_progress; /* when progress was last called */
	double nap;           /* see relay_next_nap */
	bool use_splice;      /* false: read/write through buf */
	char *buf;            /* the fallback's buffer, chunk bytes */
	size_t pending, off;  /* the fallback: bytes in buf from off not yet written */
	uint64_t head_bytes;  /* bytes relay_head moved: splice may fail only before more */
};

/* Sets the relay up: the move size (a tenth of a second's bytes under a
 * bandwidth limit, at least 4 KiB, so the limit paces evenly), larger
 * pipes, and both fds non-blocking. */
static void relay_begin(struct relay *rl, int in_fd, int out_fd, const struct relay_opts *o,
                        struct relay_stats *st)
{
	memset(st, 0, sizeof(*st));
	*rl = (struct relay){.in_fd = in_fd, .out_fd = out_fd, .o = o, .st = st};
	rl->t0 = now_s();
	rl->last_progress = rl->t0;
	rl->cpu0 = cpu_s();
	rl->chunk = CHUNK;
	if (o->bwlimit && o->bwlimit / 10 < rl->chunk)
		rl->chunk = o->bwlimit / 10 > 4096 ? (size_t)(o->bwlimit / 10) : 4096;
#ifdef F_SETPIPE_SZ
	/* larger pipes: the sender writes more before it blocks and each
	 * splice moves more (fails harmlessly on what is not a pipe, or past
	 * the system's pipe-max-size) */
	fcntl(in_fd, F_SETPIPE_SZ, (int)CHUNK);
	fcntl(out_fd, F_SETPIPE_SZ, (int)CHUNK);
#endif
	rl->cap = pipe_cap(in_fd, out_fd);
	rl->in_fl = fcntl(in_fd, F_GETFL);
	rl->out_fl = fcntl(out_fd, F_GETFL);
	fcntl(in_fd, F_SETFL, rl->in_fl | O_NONBLOCK);
	fcntl(out_fd, F_SETFL, rl->out_fl | O_NONBLOCK);
	rl->use_splice = true;
}

/* One splice, and a wait only when it cannot move anything: one syscall
 * per move while the stream flows. 0 with *n (and errno) the splice's,
 * 1 to try again, or -errno. */
static int splice_step(struct relay *rl, ssize_t *n, struct zerr *e)
{
	*n =
	    splice(rl->in_fd, NULL, rl->out_fd, NULL, rl->chunk, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (*n < 0 && errno == EAGAIN) {
		/* nothing to read, or no room to write: wait for the one that
		 * is not ready (both return at once when ready) */
		int r;
		if ((r = wait_fd(rl->in_fd, POLLIN, rl->o->stall_timeout_ms, e)) < 0 ||
		    (r = wait_fd(rl->out_fd, POLLOUT, rl->o->stall_timeout_ms, e)) < 0)
			return r;
		return 1;
	}
	if (*n < 0 && (errno == EINVAL || errno == ENOSYS) && rl->st->bytes == rl->head_bytes) {
		rl->use_splice = false; /* not two pipes: copy instead */
		rl->buf = malloc(rl->chunk);
		if (!rl->buf)
			return zerr_set(e, -ENOMEM, "out of memory");
		return 1;
	}
	return 0;
}

/* The fallback's step: writes what buf holds, or reads into an empty
 * buf. 0 with *n (and errno) the write's or a read's that got nothing,
 * 1 after a read that filled buf (its bytes count once written), or
 * -errno. */
static int copy_step(struct relay *rl, ssize_t *n, struct zerr *e)
{
	int r;
	if (rl->pending) {
		if ((r = wait_fd(rl->out_fd, POLLOUT, rl->o->stall_timeout_ms, e)) < 0)
			return r;
		*n = write(rl->out_fd, rl->buf + rl->off, rl->pending);
		if (*n > 0) {
			rl->off += (size_t)*n;
			rl->pending -= (size_t)*n;
		}
		return 0;
	}
	if ((r = wait_fd(rl->in_fd, POLLIN, rl->o->stall_timeout_ms, e)) < 0)
		return r;
	*n = read(rl->in_fd, rl->buf, rl->chunk);
	if (*n > 0) {
		rl->pending = (size_t)*n;
		rl->off = 0;
		return 1;
	}
	return 0;
}

/* n bytes moved: counts them, keeps to the limit, naps, tells progress. */
static void relay_moved(struct relay *rl, size_t n)
{
	const struct relay_opts *o = rl->o;
	rl->st->bytes += (uint64_t)n;
	rl->st->moves++;
	throttle(o->bwlimit, rl->st->bytes, rl->t0);
	/* no naps with a bandwidth limit, which paces the loop by itself. A
	 * small move right after a poll() counts too: the nap before it was
	 * shorter than the gap between writes. */
	if (rl->use_splice && !o->bwlimit && (rl->nap = relay_next_nap(rl->nap, n, rl->cap)) > 0)
		nap_for(rl->nap);
	if (o->progress && o->progress_ms &&
	    (now_s() - rl->last_progress) * 1000 >= o->progress_ms) {
		rl->last_progress = now_s();
		o->progress(o->arg, rl->st->bytes, rl->last_progress - rl->t0);
	}
}

/* Moves until EOF from the sender, or an error. */
static int relay_loop(struct relay *rl, struct zerr *e)
{
	for (;;) {
		ssize_t n;
		int r = rl->use_splice ? splice_step(rl, &n, e) : copy_step(rl, &n, e);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (n == 0 && (rl->use_splice || !rl->pending))
			return 0; /* EOF from the sender */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return write_error(e);
		}
		relay_moved(rl, (size_t)n);
	}
}

int relay_run(int in_fd, int out_fd, const struct relay_opts *o, struct relay_stats *st,
              struct zerr *e)
{
	static const struct relay_opts none = {0};
	struct relay rl;
	relay_begin(&rl, in_fd, out_fd, o ? o : &none, st);
	o = rl.o;
	int r = 0;
	if (o->head_len && o->head_check)
		r = relay_head(in_fd, out_fd, o, st, e);
	if (r >= 0) {
		rl.head_bytes = st->bytes;
		r = relay_loop(&rl, e);
	}
	st->seconds = now_s() - rl.t0;
	st->cpu = cpu_s() - rl.cpu0;
	st->spliced = rl.use_splice;
	if (r == 0 && o->progress)
		o->progress(o->arg, st->bytes, st->seconds);
	fcntl(in_fd, F_SETFL, rl.in_fl);
	fcntl(out_fd, F_SETFL, rl.out_fl);
	free(rl.buf);
	return r;
}
