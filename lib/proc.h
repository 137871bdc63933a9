/*
 * Child processes: the one spawn API of zkeep.
 *
 * A struct proc describes a child: its argv, and for each of stdin, stdout
 * and stderr whether it is /dev/null, inherited, a new pipe, or a given fd.
 * proc_start() resolves argv[0] in a fixed PATH before forking, builds a
 * minimal environment (PATH, LC_ALL=C, and HOME, USER, LOGNAME,
 * SSH_AUTH_SOCK, TZ when set), and in the child only calls async-signal-safe
 * functions: signal mask and dispositions reset, fds moved into place, all
 * others closed, execve. An exec failure comes back through a close-on-exec
 * pipe as a real error (-ENOENT, -EACCES, ...), not as exit code 127.
 *
 * Ownership: pipe ends made for PROC_IO_PIPE belong to the caller after
 * proc_start() (p->in_fd, p->out_fd, p->err_fd), except that proc_capture()
 * and proc_wait() close any still open. Fds given with PROC_IO_FD stay the
 * caller's; the child gets its own copies.
 *
 * SIGPIPE: callers writing to children must ignore SIGPIPE (cmd/ does) and
 * handle EPIPE; proc never changes the parent's signal handling.
 */
#ifndef ZK_PROC_H
#define ZK_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"
#include "strvec.h"

enum proc_io {
	PROC_IO_NULL = 0, /* /dev/null */
	PROC_IO_INHERIT,  /* the parent's own fd */
	PROC_IO_PIPE,     /* a new pipe; the parent's end lands in *_fd */
	PROC_IO_FD,       /* the fd in *_fd */
};

struct proc {
	struct strvec argv;
	enum proc_io in, out, err;
	int in_fd, out_fd, err_fd;
	struct strvec env; /* extra "NAME=value" entries for the child */
	/* The child leads a process group of its own, and proc_kill (and so a
	 * timeout) signals that whole group: what it started dies with it. */
	bool own_group;
	pid_t pid; /* set by proc_start, 0 after the child is reaped */
	int pidfd; /* -1 when the kernel has no pidfd_open */
};

/* Exit status in the shape of a shell's $?: the exit code, or 128 + signal. */
struct proc_status {
	int code;
	int signal; /* 0 unless killed by a signal */
	bool timed_out;
};

void proc_init(struct proc *p);
void proc_free(struct proc *p); /* closes our pipe ends; does not wait */

/* Starts the child. Errors: -ENOENT (not in PATH), -EACCES, other exec or
 * fork errnos; nothing is left running on error. */
int proc_start(struct proc *p, struct zerr *e);

/* Waits for the child to end. timeout_ms < 0 waits forever; on timeout the
 * child gets SIGTERM, then SIGKILL 2 s later, and st->timed_out is set.
 * Returns 0 once reaped (whatever the status), or a negative errno. */
int proc_wait(struct proc *p, int timeout_ms, struct proc_status *st, struct zerr *e);

/* Sends sig to a started, unreaped child (to its group with own_group). */
void proc_kill(struct proc *p, int sig);

/* Output of a captured run. out is capped at out_cap bytes: more is an error
 * (-E2BIG) and the child is killed, since half an answer from zfs is no
 * answer. err keeps its first err_cap bytes and drains the rest. */
struct proc_capture {
	struct buf out, err;
	size_t out_cap, err_cap;
	bool err_truncated;
	struct proc_status st;
};

#define PROC_CAPTURE_INIT(ocap, ecap)                                                              \
	{                                                                                          \
		BUF_INIT, BUF_INIT, (ocap), (ecap), false,                                         \
		{                                                                                  \
			0, 0, false                                                                \
		}                                                                                  \
	}
void proc_capture_free(struct proc_capture *c);

/* Runs p (whose out and err are set to pipes here; in is /dev/null unless
 * input is given, then a pipe fed with it) and collects its output within
 * timeout_ms. Returns 0 when the child ran to an exit status (see c->st),
 * -ETIMEDOUT, -E2BIG, or a spawn error. */
int proc_capture(struct proc *p, const void *input, size_t input_len, int timeout_ms,
                 struct proc_capture *c, struct zerr *e);

/* "exited 3", "killed by SIGKILL", "timed out": for messages. */
const char *proc_status_str(const struct proc_status *st, char *buf, size_t len);

/* The directories searched for a bare argv[0], in order. */
extern const char proc_fixed_path[];

#endif
