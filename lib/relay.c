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
			r = errno == EPIPE
			        ? zerr_set(e, -EPIPE, "the receiving side closed the stream")
			        : zerr_set(e, -errno, "relay: %s", strerror(errno));
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

int relay_run(int in_fd, int out_fd, const struct relay_opts *o, struct relay_stats *st,
              struct zerr *e)
{
	static const struct relay_opts none = {0};
	if (!o)
		o = &none;
	memset(st, 0, sizeof(*st));
	double t0 = now_s(), last_progress = t0, cpu0 = cpu_s();
	size_t chunk = CHUNK;
	if (o->bwlimit && o->bwlimit / 10 < chunk)
		chunk = o->bwlimit / 10 > 4096 ? (size_t)(o->bwlimit / 10) : 4096;
#ifdef F_SETPIPE_SZ
	/* larger pipes: the sender writes more before it blocks and each
	 * splice moves more (fails harmlessly on what is not a pipe, or past
	 * the system's pipe-max-size) */
	fcntl(in_fd, F_SETPIPE_SZ, (int)CHUNK);
	fcntl(out_fd, F_SETPIPE_SZ, (int)CHUNK);
#endif
	size_t cap = pipe_cap(in_fd, out_fd);
	double nap = 0;
	int in_fl = fcntl(in_fd, F_GETFL), out_fl = fcntl(out_fd, F_GETFL);
	fcntl(in_fd, F_SETFL, in_fl | O_NONBLOCK);
	fcntl(out_fd, F_SETFL, out_fl | O_NONBLOCK);
	char *buf = NULL;
	size_t pending = 0, off = 0; /* read/write fallback: bytes in buf */
	bool use_splice = true;
	int r = 0;
	if (o->head_len && o->head_check && (r = relay_head(in_fd, out_fd, o, st, e)) < 0)
		goto done;
	const uint64_t head_bytes = st->bytes;

	for (;;) {
		ssize_t n;
		if (use_splice) {
			/* splice first, wait only when it cannot move anything:
			 * one syscall per move while the stream flows */
			n = splice(in_fd, NULL, out_fd, NULL, chunk,
			           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n < 0 && errno == EAGAIN) {
				/* nothing to read, or no room to write: wait for
				 * the one that is not ready (both return at once
				 * when ready) */
				if ((r = wait_fd(in_fd, POLLIN, o->stall_timeout_ms, e)) < 0 ||
				    (r = wait_fd(out_fd, POLLOUT, o->stall_timeout_ms, e)) < 0)
					break;
				continue;
			}
			if (n < 0 && (errno == EINVAL || errno == ENOSYS) &&
			    st->bytes == head_bytes) {
				use_splice = false; /* not two pipes: copy instead */
				buf = malloc(chunk);
				if (!buf) {
					r = zerr_set(e, -ENOMEM, "out of memory");
					break;
				}
				continue;
			}
		} else if (pending) {
			if ((r = wait_fd(out_fd, POLLOUT, o->stall_timeout_ms, e)) < 0)
				break;
			n = write(out_fd, buf + off, pending);
			if (n > 0) {
				off += (size_t)n;
				pending -= (size_t)n;
			}
		} else {
			if ((r = wait_fd(in_fd, POLLIN, o->stall_timeout_ms, e)) < 0)
				break;
			n = read(in_fd, buf, chunk);
			if (n > 0) {
				pending = (size_t)n;
				off = 0;
				continue; /* counted once written */
			}
		}
		if (n == 0 && (use_splice || !pending))
			break; /* EOF from the sender */
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			r = errno == EPIPE
			        ? zerr_set(e, -EPIPE, "the receiving side closed the stream")
			        : zerr_set(e, -errno, "relay: %s", strerror(errno));
			break;
		}
		st->bytes += (uint64_t)n;
		st->moves++;
		throttle(o->bwlimit, st->bytes, t0);
		/* no naps with a bandwidth limit, which paces the loop by
		 * itself. A small move right after a poll() counts too: the
		 * nap before it was shorter than the gap between writes. */
		if (use_splice && !o->bwlimit && (nap = relay_next_nap(nap, (size_t)n, cap)) > 0)
			nap_for(nap);
		if (o->progress && o->progress_ms &&
		    (now_s() - last_progress) * 1000 >= o->progress_ms) {
			last_progress = now_s();
			o->progress(o->arg, st->bytes, last_progress - t0);
		}
	}
done:
	st->seconds = now_s() - t0;
	st->cpu = cpu_s() - cpu0;
	st->spliced = use_splice;
	if (r == 0 && o->progress)
		o->progress(o->arg, st->bytes, st->seconds);
	fcntl(in_fd, F_SETFL, in_fl);
	fcntl(out_fd, F_SETFL, out_fl);
	free(buf);
	return r;
}
