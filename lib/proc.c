/* Child processes (proc.h): the one spawn path (fixed PATH, minimal
 * environment, report pipe), waiting with deadlines, and capturing output. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"
#include "banned.h"

const char proc_fixed_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static const char *const passed_env[] = {"HOME", "USER", "LOGNAME", "SSH_AUTH_SOCK", "TZ", NULL};

void proc_init(struct proc *p)
{
	memset(p, 0, sizeof(*p));
	strvec_init(&p->argv);
	strvec_init(&p->env);
	p->in_fd = p->out_fd = p->err_fd = -1;
	p->pidfd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void close_our_pipes(struct proc *p)
{
	if (p->in == PROC_IO_PIPE)
		close_fd(&p->in_fd);
	if (p->out == PROC_IO_PIPE)
		close_fd(&p->out_fd);
	if (p->err == PROC_IO_PIPE)
		close_fd(&p->err_fd);
}

void proc_free(struct proc *p)
{
	if (!p)
		return;
	close_our_pipes(p);
	close_fd(&p->pidfd);
	strvec_clear(&p->argv);
	strvec_clear(&p->env);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll's timeout to the deadline (monotonic ms): -1 when there is none
 * (deadline < 0), 0 once it has passed, else at least 1 (at most
 * INT32_MAX), so 0 always means "too late". */
static int ms_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t l = deadline - now_ms();
	if (l <= 0)
		return 0;
	return l > INT32_MAX ? INT32_MAX : (int)l;
}

/* Finds argv[0] in the fixed PATH; a name with a slash is used as is. */
static int resolve(const char *name, struct buf *path, struct zerr *e)
{
	if (!*name)
		return zerr_set(e, -EINVAL, "cannot run an empty command name");
	if (strchr(name, '/')) {
		buf_adds(path, name);
		return 0;
	}
	const char *dir = proc_fixed_path;
	while (*dir) {
		size_t len = strcspn(dir, ":");
		buf_reset(path);
		buf_add(path, dir, len);
		buf_addch(path, '/');
		buf_adds(path, name);
		if (access(path->s, X_OK) == 0)
			return 0;
		dir += len;
		if (*dir == ':')
			dir++;
	}
	return zerr_set(e, -ENOENT, "cannot run '%s': command not found in %s", name,
	                proc_fixed_path);
}

static void build_env(const struct proc *p, struct strvec *env)
{
	strvec_pushf(env, "PATH=%s", proc_fixed_path);
	strvec_push(env, "LC_ALL=C"); /* zfs output must not vary with locale */
	for (const char *const *n = passed_env; *n; n++) {
		const char *v = getenv(*n);
		if (v)
			strvec_pushf(env, "%s=%s", *n, v);
	}
	strvec_pushv(env, (const char *const *)p->env.v);
}

/* Makes the child's end of one standard fd; *parent gets our pipe end. */
static int setup_io(enum proc_io mode, int given, int is_input, int *child, int *parent,
                    struct zerr *e)
{
	int fds[2];
	*child = -1;
	*parent = -1;
	switch (mode) {
	case PROC_IO_NULL:
		*child = open("/dev/null", (is_input ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
		if (*child < 0)
			return zerr_set(e, -errno, "cannot open /dev/null: %s", strerror(errno));
		return 0;
	case PROC_IO_INHERIT:
		return 0;
	case PROC_IO_FD:
		if (given < 0)
			return zerr_set(e, -EBADF, "no fd given for a child's standard stream");
		*child = given;
		return 0;
	case PROC_IO_PIPE:
		if (pipe2(fds, O_CLOEXEC) < 0)
			return zerr_set(e, -errno, "cannot make a pipe: %s", strerror(errno));
		*child = is_input ? fds[0] : fds[1];
		*parent = is_input ? fds[1] : fds[0];
		return 0;
	}
	return zerr_set(e, -EINVAL, "bad stream mode");
}

/* Every signal back to its default action. glibc's sigaction() refuses
 * signals 32 and 33 (its own), yet a parent such as make may have left them
 * ignored, and an ignored signal stays ignored across execve; so on Linux
 * the kernel is asked directly. Fails harmlessly for KILL and STOP. */
static void reset_signals(void)
{
#if defined(__linux__) && defined(SYS_rt_sigaction)
	struct {
		void *handler; /* SIG_DFL is 0 */
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} k;
	for (int sig = 1; sig < NSIG; sig++) {
		memset(&k, 0, sizeof(k));
		syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
	}
#else
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
#endif
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__((noreturn))
child_exec(const char *path, char *const argv[], char *const envp[], int fd[3], int report,
           int maxfd, bool own_group)
{
	/* Before exec, so the group exists once proc_start returns. */
	if (own_group && setpgid(0, 0) < 0)
		goto fail;
	/* Signals stay blocked (by the parent, across fork) until every handler
	 * is back to default: a signal in between must not run the parent's
	 * handler in the child. */
	reset_signals();
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Move the fds out of 0..2 first so no dup2 clobbers a later source. */
	int moved[3];
	for (int i = 0; i < 3; i++)
		moved[i] = fd[i] >= 0 ? fcntl(fd[i], F_DUPFD, 3) : -1;
	for (int i = 0; i < 3; i++) {
		if (fd[i] >= 0 && (moved[i] < 0 || dup2(moved[i], i) < 0))
			goto fail;
	}
	/* Close everything else but the report pipe (close-on-exec). */
	for (int i = 0; i < 3; i++)
		if (moved[i] >= 3 && moved[i] != report)
			close(moved[i]);
	long cr = -1;
#ifdef SYS_close_range
	cr = report > 3 ? syscall(SYS_close_range, 3, (unsigned)report - 1, 0) : 0;
	if (cr == 0)
		cr = syscall(SYS_close_range, (unsigned)report + 1, ~0U, 0);
#endif
	if (cr != 0) /* no close_range (Linux < 5.9): one by one */
		for (int i = 3; i < maxfd; i++)
			if (i != report)
				close(i);
	execve(path, argv, envp);
fail:;
	int err = errno;
	ssize_t w = write(report, &err, sizeof(err));
	(void)w;
	_exit(127);
}

/* The pipe an exec failure comes back through (close-on-exec both ends).
 * Started with a standard fd closed, the pipe could sit on 0..2, where
 * the child's dup2 would overwrite it: both ends go to 3 or above. */
static int report_pipe(int report[2], struct zerr *e)
{
	if (pipe2(report, O_CLOEXEC) < 0)
		return zerr_set(e, -errno, "cannot make a pipe: %s", strerror(errno));
	for (int i = 0; i < 2; i++)
		if (report[i] < 3) {
			int hi = fcntl(report[i], F_DUPFD_CLOEXEC, 3);
			close(report[i]);
			report[i] = hi;
		}
	if (report[0] < 0 || report[1] < 0)
		return zerr_set(e, -EMFILE, "cannot make a pipe: out of file descriptors");
	return 0;
}

/* The highest fd the child closes one by one when it has no close_range:
 * the fd limit, but never more than 65536 fds to walk. Read here, since
 * the child may call nothing but async-signal-safe functions. */
static int child_fd_limit(void)
{
	struct rlimit rl;
	int maxfd = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)maxfd)
		maxfd = (int)rl.rlim_cur;
	return maxfd;
}

/* Forks and execs path with every signal blocked across the fork (the
 * child unblocks them once their handlers are default), then reads the
 * report pipe: EOF means the exec succeeded, an errno that it failed, and
 * that child is reaped here. Sets *pid on success; closes report[1]. */
static int fork_exec(const struct proc *p, const char *path, char *const envp[], int child[3],
                     int report[2], pid_t *pid, struct zerr *e)
{
	int maxfd = child_fd_limit();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pd = fork();
	if (pd == 0)
		child_exec(path, p->argv.v, envp, child, report[1], maxfd, p->own_group);
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pd < 0)
		return zerr_set(e, -fork_errno, "cannot fork for '%s': %s", p->argv.v[0],
		                strerror(fork_errno));

	close_fd(&report[1]);
	int child_errno = 0;
	ssize_t n;
	do
		n = read(report[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		int status;
		while (waitpid(pd, &status, 0) < 0 && errno == EINTR)
			;
		return zerr_set(e, -(child_errno ? child_errno : EIO), "cannot run '%s': %s", path,
		                strerror(child_errno));
	}
	*pid = pd;
	return 0;
}

/* The child runs: p takes its pid, a pidfd when the kernel has them, and
 * our ends of the pipes made for it (taken out of parent[]). */
static void adopt_child(struct proc *p, pid_t pid, int parent[3])
{
	p->pid = pid;
#ifdef SYS_pidfd_open
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p->pidfd >= 0)
		fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
#endif
	if (p->in == PROC_IO_PIPE)
		p->in_fd = parent[0], parent[0] = -1;
	if (p->out == PROC_IO_PIPE)
		p->out_fd = parent[1], parent[1] = -1;
	if (p->err == PROC_IO_PIPE)
		p->err_fd = parent[2], parent[2] = -1;
}

int proc_start(struct proc *p, struct zerr *e)
{
	struct buf path = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	int child[3] = {-1, -1, -1}, parent[3] = {-1, -1, -1};
	int report[2] = {-1, -1};
	pid_t pid = 0;
	int ret;

	if (p->argv.n == 0) {
		ret = zerr_set(e, -EINVAL, "cannot run a command with no arguments");
		goto out;
	}
	if ((ret = resolve(p->argv.v[0], &path, e)) < 0)
		goto out;
	build_env(p, &env);
	if ((ret = setup_io(p->in, p->in_fd, 1, &child[0], &parent[0], e)) < 0 ||
	    (ret = setup_io(p->out, p->out_fd, 0, &child[1], &parent[1], e)) < 0 ||
	    (ret = setup_io(p->err, p->err_fd, 0, &child[2], &parent[2], e)) < 0)
		goto out;
	if ((ret = report_pipe(report, e)) < 0 ||
	    (ret = fork_exec(p, path.s, env.v, child, report, &pid, e)) < 0)
		goto out;
	adopt_child(p, pid, parent);
out:
	/* The child's ends we made are ours to close; given fds stay open. */
	if (p->in != PROC_IO_FD)
		close_fd(&child[0]);
	if (p->out != PROC_IO_FD)
		close_fd(&child[1]);
	if (p->err != PROC_IO_FD)
		close_fd(&child[2]);
	for (int i = 0; i < 3; i++)
		close_fd(&parent[i]);
	close_fd(&report[0]);
	close_fd(&report[1]);
	buf_free(&path);
	strvec_clear(&env);
	return ret;
}

void proc_kill(struct proc *p, int sig)
{
	if (p->pid > 0)
		kill(p->own_group ? -p->pid : p->pid, sig);
}

static void fill_status(int status, struct proc_status *st)
{
	if (WIFEXITED(status)) {
		st->code = WEXITSTATUS(status);
		st->signal = 0;
	} else if (WIFSIGNALED(status)) {
		st->signal = WTERMSIG(status);
		st->code = 128 + st->signal;
	}
}

/* Reaps the child if it has ended; 1 when reaped, 0 when still running. */
static int try_reap(struct proc *p, struct proc_status *st, struct zerr *e)
{
	int status;
	pid_t r;
	do
		r = waitpid(p->pid, &status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return zerr_set(e, -errno, "cannot wait for '%s': %s", p->argv.v[0],
		                strerror(errno));
	if (r == 0)
		return 0;
	fill_status(status, st);
	p->pid = 0;
	close_fd(&p->pidfd);
	return 1;
}

/* Waits until the child ends or the deadline (ms on the monotonic clock,
 * < 0 for none) passes. 1 reaped, 0 deadline passed. */
static int wait_until(struct proc *p, int64_t deadline, struct proc_status *st, struct zerr *e)
{
	int sleep_ms = 1;
	for (;;) {
		int r = try_reap(p, st, e);
		if (r != 0)
			return r;
		int left = ms_left(deadline);
		if (left == 0)
			return 0;
		if (p->pidfd >= 0) {
			struct pollfd pfd = {p->pidfd, POLLIN, 0};
			if (poll(&pfd, 1, left) < 0 && errno != EINTR)
				return zerr_set(e, -errno, "poll: %s", strerror(errno));
		} else {
			/* No pidfd: back off from 1 ms to 50 ms between checks. */
			int nap = left >= 0 && left < sleep_ms ? left : sleep_ms;
			struct timespec ts = {0, (long)nap * 1000000L};
			nanosleep(&ts, NULL);
			if (sleep_ms < 50)
				sleep_ms *= 2;
		}
	}
}

static int wait_deadline(struct proc *p, int64_t deadline, struct proc_status *st, struct zerr *e)
{
	memset(st, 0, sizeof(*st));
	if (p->pid <= 0)
		return zerr_set(e, -ECHILD, "no child to wait for");
	int r = wait_until(p, deadline, st, e);
	if (r != 0)
		return r < 0 ? r : 0;
	st->timed_out = true;
	proc_kill(p, SIGTERM);
	r = wait_until(p, now_ms() + 2000, st, e);
	if (r == 0) {
		proc_kill(p, SIGKILL);
		/* A process in uninterruptible sleep (zfs on a suspended pool)
		 * outlives SIGKILL: give up on it rather than hang with it. The
		 * pid stays set; the zombie is reaped by a later wait, if ever. */
		r = wait_until(p, now_ms() + 5000, st, e);
		if (r == 0) {
			st->timed_out = true;
			return zerr_set(e, -ETIMEDOUT,
			                "'%s' did not exit after SIGKILL (stuck in the kernel?)",
			                p->argv.v[0]);
		}
	}
	st->timed_out = true;
	return r < 0 ? r : 0;
}

int proc_wait(struct proc *p, int timeout_ms, struct proc_status *st, struct zerr *e)
{
	close_our_pipes(p);
	return wait_deadline(p, timeout_ms < 0 ? -1 : now_ms() + timeout_ms, st, e);
}

void proc_capture_free(struct proc_capture *c)
{
	if (!c)
		return;
	buf_free(&c->out);
	buf_free(&c->err);
}

static bool pipe_has_data(int fd)
{
	struct pollfd pf = {fd, POLLIN, 0};
	return poll(&pf, 1, 0) > 0 && (pf.revents & POLLIN);
}

/* Reads what is there from fd into b; 0 at EOF, 1 more may come, -errno. */
static int drain(int fd, struct buf *b, size_t cap, bool *cut)
{
	char tmp[65536];
	ssize_t n = read(fd, tmp, sizeof(tmp));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	if (n == 0)
		return 0;
	size_t room = b->len < cap ? cap - b->len : 0;
	if ((size_t)n > room) {
		*cut = true;
		buf_add(b, tmp, room);
	} else {
		buf_add(b, tmp, (size_t)n);
	}
	return 1;
}

/* One captured run in progress: what proc_capture's rounds share. */
struct capture {
	struct proc *p;
	struct proc_capture *c;
	const char *in; /* the input; what is left starts at in + in_off */
	size_t in_len, in_off;
	int64_t deadline; /* monotonic ms, < 0 for none */
	int timeout_ms;   /* as asked, for the error */
	bool out_cut;     /* stdout went over c->out_cap */
	bool reaped;      /* the child has ended; c->st is its status */
};

static int output_too_big(const struct capture *k, struct zerr *e)
{
	return zerr_set(e, -E2BIG, "output of '%s' is larger than the %zu bytes allowed",
	                k->p->argv.v[0], k->c->out_cap);
}

/* Writes what the child's stdin takes now; closes it once all is written
 * or the child stopped reading (EPIPE is its business, not an error). */
static void feed_input(struct capture *k)
{
	struct proc *p = k->p;
	ssize_t w = write(p->in_fd, k->in + k->in_off, k->in_len - k->in_off);
	if (w > 0)
		k->in_off += (size_t)w;
	if ((w < 0 && errno != EAGAIN && errno != EINTR) || k->in_off == k->in_len)
		close_fd(&p->in_fd);
}

/* The child's pidfd is readable: reaps it. What the child wrote is in the
 * pipes already, so they turn non-blocking to take it without waiting
 * for writers it left behind. */
static int reap_captured(struct capture *k, struct zerr *e)
{
	struct proc *p = k->p;
	int r = try_reap(p, &k->c->st, e);
	if (r == 1) {
		k->reaped = true;
		if (p->out_fd >= 0)
			fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
		if (p->err_fd >= 0)
			fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	}
	return r < 0 ? r : 0;
}

/* One round: waits (until the deadline) for output, room for input or the
 * child's end, and handles what came. 0 to go on, -errno to kill. */
static int capture_round(struct capture *k, struct zerr *e)
{
	struct proc *p = k->p;
	struct proc_capture *c = k->c;
	struct pollfd pf[4];
	int n = 0, iout = -1, ierr = -1, iin = -1, ipid = -1;
	if (p->out_fd >= 0)
		pf[iout = n++] = (struct pollfd){p->out_fd, POLLIN, 0};
	if (p->err_fd >= 0)
		pf[ierr = n++] = (struct pollfd){p->err_fd, POLLIN, 0};
	if (p->in_fd >= 0)
		pf[iin = n++] = (struct pollfd){p->in_fd, POLLOUT, 0};
	/* The child's end, not EOF, ends the capture: a daemon it left
	 * behind may hold its stdout open for ever. */
	if (p->pidfd >= 0 && !k->reaped)
		pf[ipid = n++] = (struct pollfd){p->pidfd, POLLIN, 0};
	int left = ms_left(k->deadline);
	if (left == 0)
		return zerr_set(e, -ETIMEDOUT, "'%s' timed out after %d ms", p->argv.v[0],
		                k->timeout_ms);
	if (poll(pf, (nfds_t)n, left) < 0)
		return errno == EINTR ? 0 : zerr_set(e, -errno, "poll: %s", strerror(errno));
	if (iout >= 0 && pf[iout].revents) {
		if (drain(p->out_fd, &c->out, c->out_cap, &k->out_cut) <= 0)
			close_fd(&p->out_fd);
		if (k->out_cut)
			return output_too_big(k, e);
	}
	if (ierr >= 0 && pf[ierr].revents &&
	    drain(p->err_fd, &c->err, c->err_cap, &c->err_truncated) <= 0)
		close_fd(&p->err_fd);
	if (iin >= 0 && pf[iin].revents)
		feed_input(k);
	if (ipid >= 0 && pf[ipid].revents)
		return reap_captured(k, e);
	return 0;
}

/* After the reap: takes what is left in the pipes, then closes them. The
 * child is gone, so an output too big needs no kill. */
static int capture_rest(struct capture *k, struct zerr *e)
{
	struct proc *p = k->p;
	struct proc_capture *c = k->c;
	while (p->out_fd >= 0 && drain(p->out_fd, &c->out, c->out_cap, &k->out_cut) > 0 &&
	       !k->out_cut && pipe_has_data(p->out_fd))
		;
	while (p->err_fd >= 0 && drain(p->err_fd, &c->err, c->err_cap, &c->err_truncated) > 0 &&
	       pipe_has_data(p->err_fd))
		;
	close_our_pipes(p);
	return k->out_cut ? output_too_big(k, e) : 0;
}

int proc_capture(struct proc *p, const void *input, size_t input_len, int timeout_ms,
                 struct proc_capture *c, struct zerr *e)
{
	struct capture k = {.p = p,
	                    .c = c,
	                    .in = input,
	                    .in_len = input_len,
	                    .deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms,
	                    .timeout_ms = timeout_ms};
	int ret;

	p->in = input ? PROC_IO_PIPE : PROC_IO_NULL;
	p->out = PROC_IO_PIPE;
	p->err = PROC_IO_PIPE;
	if ((ret = proc_start(p, e)) < 0)
		return ret;
	if (p->in_fd >= 0)
		fcntl(p->in_fd, F_SETFL, O_NONBLOCK);

	while (p->out_fd >= 0 || p->err_fd >= 0) {
		if ((ret = capture_round(&k, e)) < 0)
			goto kill;
		if (k.reaped && (ret = capture_rest(&k, e)) < 0)
			return ret;
	}
	close_fd(&p->in_fd);
	if (k.reaped)
		return 0;
	return wait_deadline(p, k.deadline, &c->st, e);
kill:
	close_our_pipes(p);
	proc_kill(p, SIGKILL);
	struct proc_status st;
	wait_deadline(p, now_ms() + 1000, &st, NULL);
	c->st = st;
	c->st.timed_out = ret == -ETIMEDOUT;
	return ret;
}

const char *proc_status_str(const struct proc_status *st, char *buf, size_t len)
{
	int n;
	if (st->timed_out)
		n = snprintf(buf, len, "timed out");
	else if (st->signal)
		n = snprintf(buf, len, "killed by signal %d (%s)", st->signal,
		             strsignal(st->signal));
	else
		n = snprintf(buf, len, "exited %d", st->code);
	if ((n < 0 || (size_t)n >= len) && len)
		buf[len - 1] = '\0';
	return buf;
}
