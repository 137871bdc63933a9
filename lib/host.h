/*
 * Where a command runs: on this machine, or on user@host over OpenSSH.
 *
 * Remote commands are one string interpreted by the remote user's POSIX
 * shell, so every word is quoted: words made only of [A-Za-z0-9_@%+=:,./-]
 * go as they are, anything else in single quotes with ' written as '\''.
 * No dataset name can run a command on the remote side.
 *
 * Exact-line mode (h->exact, for the seed's restricted offsite host that
 * compares the whole command line byte for byte): words are joined with
 * single spaces and never quoted; a word that would need quoting is refused
 * with -EINVAL rather than sent in a form the remote does not expect.
 *
 * ssh always runs with BatchMode=yes (never a password prompt), a connect
 * timeout, and, when control_dir is set, a shared ControlMaster connection
 * so the many short zfs calls of one run share one handshake.
 */
#ifndef ZK_HOST_H
#define ZK_HOST_H

#include <stdbool.h>

#include "buf.h"
#include "err.h"
#include "proc.h"
#include "strvec.h"

struct host {
	char *name;             /* NULL: the local machine */
	char *user;             /* NULL: ssh's default */
	int port;               /* 0: ssh's default */
	char *identity;         /* ssh -i, or NULL */
	struct strvec ssh_opts; /* extra "-o" values, e.g. "Compression=no" */
	char *control_dir;      /* directory for the ControlMaster socket, or NULL */
	bool exact;             /* restricted remote: exact command lines */
	int connect_timeout;    /* seconds, for ssh ConnectTimeout */
	char *label;            /* "local" or "user@host:port", for messages */
};

void host_init_local(struct host *h);
/* Validates user and name (no leading '-', no characters ssh or a shell
 * would read specially): -EINVAL with a message naming the bad part. */
int host_init_ssh(struct host *h, const char *user, const char *name, int port, struct zerr *e);
void host_free(struct host *h);
/* The checks host_init_ssh applies, for config and flag parsers. */
int host_check_name(const char *name, struct zerr *e);
int host_check_user(const char *user, struct zerr *e);
bool host_is_local(const struct host *h);

/* Appends argv as one remote command line (see above for quoting). */
int host_quote(struct buf *out, const char *const *argv, bool exact, struct zerr *e);

/* Fills p->argv with what runs argv on h: argv itself when local, the ssh
 * command line otherwise. */
int host_command(const struct host *h, const char *const *argv, struct proc *p, struct zerr *e);

/* Runs argv on h and captures stdout (at most out_cap bytes) into out.
 * Returns 0 only when the command exited 0; otherwise -EIO (or the spawn,
 * -ETIMEDOUT, -E2BIG error) with a message naming the host, the command and
 * the first line of its stderr. ssh's own failure (exit 255) is reported as
 * a connection error. */
int host_run(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
             int timeout_ms, struct zerr *e);
/* host_run that also hands back, when the command exited non-zero, its
 * whole stderr (appended to err, which may be NULL): for a caller that
 * reads it into a code (zfs_run). */
int host_run_err(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
                 struct buf *err, int timeout_ms, struct zerr *e);
/* Takes a command's stdout piece by piece as it is read (data is the
 * caller's scratch, writable, valid for the call only); a negative errno
 * (with e set) stops the command. */
typedef int host_sink_fn(void *ctx, char *data, size_t len, struct zerr *e);
/* host_run for output too large to hold: stdout goes to sink as it comes,
 * at most out_cap bytes in all (-E2BIG beyond). Errors as host_run's,
 * prefixed with the host; a sink's error is returned as it is. On any error
 * the command is killed and reaped. What the sink was given before a
 * failure is for the caller to discard. */
int host_run_stream(const struct host *h, const char *const *argv, size_t out_cap, int timeout_ms,
                    host_sink_fn *sink, void *ctx, struct zerr *e);
/* The line of a command's stderr text that says what failed: the first
 * one that is not an ssh "Warning: " line (a new host key, say), or the
 * first line when all are; cut to len. out[0] is NUL for empty text. */
void host_err_line(const char *text, char *out, size_t len);

/* Closes a shared ControlMaster connection, if one was opened. */
void host_disconnect(const struct host *h);

#endif
