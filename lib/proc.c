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

int proc_start(struct proc *p, struct zerr *e)
{
	struct buf path = BUF_INIT;
	struct strvec env = STRVEC_INIT;
	int child[3] = {-1, -1, -1}, parent[3] = {-1, -1, -1};
	int report[2] = {-1, -1};
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
	if (pipe2(report, O_CLOEXEC) < 0) {
		ret = zerr_set(e, -errno, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	/* Started with a standard fd closed, the report pipe could sit on
	 * 0..2, where the child's dup2 would overwrite it. */
	for (int i = 0; i < 2; i++)
		if (report[i] < 3) {
			int hi = fcntl(report[i], F_DUPFD_CLOEXEC, 3);
			close(report[i]);
			report[i] = hi;
		}
	if (report[0] < 0 || report[1] < 0) {
		ret = zerr_set(e, -EMFILE, "cannot make a pipe: out of file descriptors");
		goto out;
	}
	struct rlimit rl;
	int maxfd = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)maxfd)
		maxfd = (int)rl.rlim_cur;

	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		child_exec(path.s, p->argv.v, env.v, child, report[1], maxfd, p->own_group);
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		ret = zerr_set(e, -fork_errno, "cannot fork for '%s': %s", p->argv.v[0],
		               strerror(fork_errno));
		goto out;
	}

	close_fd(&report[1]);
	int child_errno = 0;
	ssize_t n;
	do
		n = read(report[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		ret = zerr_set(e, -(child_errno ? child_errno : EIO), "cannot run '%s': %s", path.s,
		               strerror(child_errno));
		goto out;
	}

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
	ret = 0;
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
		int left = -1;
		if (deadline >= 0) {
			int64_t l = deadline - now_ms();
			if (l <= 0)
				return 0;
			left = l > INT32_MAX ? INT32_MAX : (int)l;
		}
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

int proc_capture(struct proc *p, const void *input, size_t input_len, int timeout_ms,
                 struct proc_capture *c, struct zerr *e)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	const char *in = input;
	size_t in_off = 0;
	bool out_cut = false;
	int ret;

	p->in = input ? PROC_IO_PIPE : PROC_IO_NULL;
	p->out = PROC_IO_PIPE;
	p->err = PROC_IO_PIPE;
	if ((ret = proc_start(p, e)) < 0)
		return ret;
	if (p->in_fd >= 0)
		fcntl(p->in_fd, F_SETFL, O_NONBLOCK);

	bool reaped = false;
	while (p->out_fd >= 0 || p->err_fd >= 0) {
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
		if (p->pidfd >= 0 && !reaped)
			pf[ipid = n++] = (struct pollfd){p->pidfd, POLLIN, 0};
		int left = -1;
		if (deadline >= 0) {
			int64_t l = deadline - now_ms();
			if (l <= 0) {
				ret = zerr_set(e, -ETIMEDOUT, "'%s' timed out after %d ms",
				               p->argv.v[0], timeout_ms);
				goto kill;
			}
			left = l > INT32_MAX ? INT32_MAX : (int)l;
		}
		if (poll(pf, (nfds_t)n, left) < 0) {
			if (errno == EINTR)
				continue;
			ret = zerr_set(e, -errno, "poll: %s", strerror(errno));
			goto kill;
		}
		if (iout >= 0 && pf[iout].revents) {
			int r = drain(p->out_fd, &c->out, c->out_cap, &out_cut);
			if (r <= 0)
				close_fd(&p->out_fd);
			if (out_cut) {
				ret =
				    zerr_set(e, -E2BIG,
				             "output of '%s' is larger than the %zu bytes allowed",
				             p->argv.v[0], c->out_cap);
				goto kill;
			}
		}
		if (ierr >= 0 && pf[ierr].revents) {
			if (drain(p->err_fd, &c->err, c->err_cap, &c->err_truncated) <= 0)
				close_fd(&p->err_fd);
		}
		if (iin >= 0 && pf[iin].revents) {
			ssize_t w = write(p->in_fd, in + in_off, input_len - in_off);
			if (w > 0)
				in_off += (size_t)w;
			/* EPIPE: the child stopped reading, which is its business. */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || in_off == input_len)
				close_fd(&p->in_fd);
		}
		if (ipid >= 0 && pf[ipid].revents) {
			if ((ret = try_reap(p, &c->st, e)) < 0)
				goto kill;
			if (ret == 1) {
				/* What the child wrote is in the pipes already: take
				 * it without waiting for writers it left behind. */
				reaped = true;
				if (p->out_fd >= 0)
					fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
				if (p->err_fd >= 0)
					fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
			}
		}
		if (reaped) {
			while (p->out_fd >= 0 &&
			       drain(p->out_fd, &c->out, c->out_cap, &out_cut) > 0 && !out_cut &&
			       pipe_has_data(p->out_fd))
				;
			while (p->err_fd >= 0 &&
			       drain(p->err_fd, &c->err, c->err_cap, &c->err_truncated) > 0 &&
			       pipe_has_data(p->err_fd))
				;
			if (out_cut) {
				ret =
				    zerr_set(e, -E2BIG,
				             "output of '%s' is larger than the %zu bytes allowed",
				             p->argv.v[0], c->out_cap);
				close_our_pipes(p);
				return ret;
			}
			close_our_pipes(p);
		}
	}
	close_fd(&p->in_fd);
	if (reaped)
		return 0;
	return wait_deadline(p, deadline, &c->st, e);
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
