/* Where commands run (host.h): local or over one shared OpenSSH connection,
 * the quoting of remote words, and an ssh failure (exit 255) told from the
 * command's own. */
#include "host.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"
#include "banned.h"

#define STDERR_CAP 65536

static const char safe_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789_@%+=:,./-";

void host_init_local(struct host *h)
{
	memset(h, 0, sizeof(*h));
	strvec_init(&h->ssh_opts);
	h->connect_timeout = 30;
	h->label = xstrdup("local");
}

static int check_word(const char *what, const char *s, const char *allowed, struct zerr *e)
{
	if (!*s)
		return zerr_set(e, -EINVAL, "empty ssh %s", what);
	if (*s == '-')
		return zerr_set(e, -EINVAL, "invalid ssh %s '%s': must not start with '-'", what,
		                s);
	if (strlen(s) > 255)
		return zerr_set(e, -EINVAL, "invalid ssh %s: longer than 255 characters", what);
	size_t ok = strspn(s, allowed);
	if (s[ok])
		return zerr_set(e, -EINVAL, "invalid ssh %s '%s': character '%c' not allowed", what,
		                s, s[ok]);
	return 0;
}

int host_check_name(const char *name, struct zerr *e)
{
	static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                 "0123456789.-_:[]%";
	return check_word("host", name, host_chars, e);
}

int host_check_user(const char *user, struct zerr *e)
{
	static const char user_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                 "0123456789.-_";
	return check_word("user", user, user_chars, e);
}

int host_init_ssh(struct host *h, const char *user, const char *name, int port, struct zerr *e)
{
	int r;
	host_init_local(h);
	if ((r = host_check_name(name, e)) < 0)
		return r;
	if (user && (r = host_check_user(user, e)) < 0)
		return r;
	if (port < 0 || port > 65535)
		return zerr_set(e, -EINVAL, "invalid ssh port %d for '%s'", port, name);
	h->name = xstrdup(name);
	h->user = user ? xstrdup(user) : NULL;
	h->port = port;
	struct buf l = BUF_INIT;
	if (user)
		buf_addf(&l, "%s@", user);
	buf_adds(&l, name);
	if (port)
		buf_addf(&l, ":%d", port);
	free(h->label);
	h->label = buf_detach(&l, NULL);
	return 0;
}

void host_free(struct host *h)
{
	if (!h)
		return;
	free(h->name);
	free(h->user);
	free(h->identity);
	free(h->control_dir);
	free(h->label);
	strvec_clear(&h->ssh_opts);
	memset(h, 0, sizeof(*h));
	strvec_init(&h->ssh_opts);
}

bool host_is_local(const struct host *h)
{
	return h->name == NULL;
}

int host_quote(struct buf *out, const char *const *argv, bool exact, struct zerr *e)
{
	for (size_t i = 0; argv[i]; i++) {
		const char *w = argv[i];
		bool plain = *w && !w[strspn(w, safe_chars)];
		if (i)
			buf_addch(out, ' ');
		if (plain) {
			buf_adds(out, w);
			continue;
		}
		if (exact)
			return zerr_set(e, -EINVAL,
			                "cannot send '%s' to a restricted remote: it only accepts "
			                "plain words of [A-Za-z0-9_@%%+=:,./-]",
			                w);
		buf_addch(out, '\'');
		for (; *w; w++) {
			if (*w == '\'')
				buf_adds(out, "'\\''");
			else
				buf_addch(out, *w);
		}
		buf_addch(out, '\'');
	}
	return 0;
}

/* ctl, when not NULL, is a ControlMaster command for "ssh -O ctl". */
static void ssh_argv(const struct host *h, const char *ctl, struct strvec *v)
{
	strvec_push(v, "ssh");
	if (ctl) {
		strvec_push(v, "-O");
		strvec_push(v, ctl);
	}
	strvec_pushv(v, (const char *const[]){"-o", "BatchMode=yes", "-o", "ServerAliveInterval=15",
	                                      "-o", "ServerAliveCountMax=4", NULL});
	strvec_push(v, "-o");
	strvec_pushf(v, "ConnectTimeout=%d", h->connect_timeout);
	if (h->port) {
		strvec_push(v, "-p");
		strvec_pushf(v, "%d", h->port);
	}
	if (h->identity) {
		/* only this key: a forced-command key must not lose to an agent's */
		strvec_pushv(v, (const char *const[]){"-o", "IdentitiesOnly=yes", "-i", NULL});
		strvec_push(v, h->identity);
	}
	if (h->control_dir) {
		strvec_pushv(v, (const char *const[]){"-o", "ControlMaster=auto", "-o",
		                                      "ControlPersist=60", NULL});
		strvec_push(v, "-o");
		strvec_pushf(v, "ControlPath=%s/cm-%%C", h->control_dir);
	}
	for (size_t i = 0; i < h->ssh_opts.n; i++) {
		strvec_push(v, "-o");
		strvec_push(v, h->ssh_opts.v[i]);
	}
	if (h->user) {
		strvec_push(v, "-l");
		strvec_push(v, h->user);
	}
	strvec_push(v, "--"); /* nothing after this is an ssh option */
	strvec_push(v, h->name);
}

int host_command(const struct host *h, const char *const *argv, struct proc *p, struct zerr *e)
{
	if (!argv[0])
		return zerr_set(e, -EINVAL, "empty command for %s", h->label);
	if (host_is_local(h)) {
		strvec_pushv(&p->argv, argv);
		return 0;
	}
	struct buf line = BUF_INIT;
	int r = host_quote(&line, argv, h->exact, e);
	if (r == 0) {
		ssh_argv(h, NULL, &p->argv);
		strvec_push(&p->argv, line.s);
	}
	buf_free(&line);
	return r;
}

void host_err_line(const char *text, char *out, size_t len)
{
	out[0] = '\0';
	bool first = true;
	for (const char *l = text; l && *l;) {
		size_t n = strcspn(l, "\n");
		bool warning = !strncmp(l, "Warning: ", 9);
		if (first || !warning) { /* cut to len, as a message may be */
			size_t m = n < len ? n : len - 1;
			while (m > 0 && (l[m - 1] == ' ' || l[m - 1] == '\r' || l[m - 1] == '\t'))
				m--;
			memcpy(out, l, m);
			out[m] = '\0';
		}
		if (!warning)
			return;
		first = false;
		l = l[n] ? l + n + 1 : NULL;
	}
}

/* The error of a command that ran and exited non-zero (c->st). */
static int exit_error(const struct host *h, const char *shown, const struct proc_status *st,
                      const struct buf *errtext, struct buf *err, struct zerr *e)
{
	char line[512], sbuf[64];
	int r;
	host_err_line(errtext->s, line, sizeof(line));
	if (!host_is_local(h) && st->code == 255 && !st->signal)
		r = zerr_set(e, -ECONNREFUSED, "cannot reach %s over ssh: %s", h->label,
		             *line ? line : "ssh exited 255");
	else
		r = zerr_set(e, -EIO, "'%s' on %s %s%s%s", shown, h->label,
		             proc_status_str(st, sbuf, sizeof(sbuf)), *line ? ": " : "", line);
	if (err)
		buf_add(err, errtext->s, errtext->len);
	return r;
}

int host_run_err(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
                 struct buf *err, int timeout_ms, struct zerr *e)
{
	struct proc p;
	struct proc_capture c = PROC_CAPTURE_INIT(out_cap, STDERR_CAP);
	struct buf shown = BUF_INIT;
	int r;

	proc_init(&p);
	host_quote(&shown, argv, false, NULL);
	if ((r = host_command(h, argv, &p, e)) < 0)
		goto out;
	r = proc_capture(&p, NULL, 0, timeout_ms, &c, e);
	if (r < 0) {
		zerr_prefix(e, "%s", h->label);
		goto out;
	}
	if (c.st.code != 0) {
		r = exit_error(h, shown.s, &c.st, &c.err, err, e);
		goto out;
	}
	if (out->len == 0) { /* handed over, not copied: a listing may be 100 MB */
		buf_free(out);
		*out = c.out;
		buf_init(&c.out);
	} else {
		buf_add(out, c.out.s, c.out.len);
	}
out:
	proc_capture_free(&c);
	proc_free(&p);
	buf_free(&shown);
	return r;
}

#define STREAM_PIECE ((size_t)256 << 10) /* stdout read at a time */

/* Where stdout goes, and how much of it came. */
struct stream_out {
	host_sink_fn *sink;
	void *ctx;
	size_t total, cap;
	bool refused; /* the sink failed: its error is the caller's, as it is */
};

/* Reads what is ready on *fd: stdout to the sink, stderr into err (its
 * first STDERR_CAP bytes). The fd is closed at EOF. */
static int stream_read(int *fd, char *piece, struct buf *err, struct stream_out *so, struct zerr *e)
{
	ssize_t n = read(*fd, piece, STREAM_PIECE);
	if (n < 0)
		return errno == EINTR || errno == EAGAIN
		           ? 0
		           : zerr_set(e, -errno, "read: %s", strerror(errno));
	if (n == 0) {
		close(*fd);
		*fd = -1;
		return 0;
	}
	if (err) {
		size_t keep = err->len < STDERR_CAP ? STDERR_CAP - err->len : 0;
		buf_add(err, piece, (size_t)n < keep ? (size_t)n : keep);
		return 0;
	}
	if ((so->total += (size_t)n) > so->cap)
		return zerr_set(e, -E2BIG, "output is larger than the %zu bytes allowed", so->cap);
	int r = so->sink(so->ctx, piece, (size_t)n, e);
	so->refused = r < 0;
	return r;
}

/* Feeds p's stdout to the sink and keeps its stderr until both end (EOF:
 * zfs leaves nothing behind holding them), by the deadline. */
static int stream_pump(struct proc *p, int timeout_ms, struct buf *err, struct stream_out *so,
                       struct zerr *e)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	char *piece = xmalloc(STREAM_PIECE);
	int r = 0;
	while (r == 0 && (p->out_fd >= 0 || p->err_fd >= 0)) {
		struct pollfd pf[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long long spent =
		    (long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (timeout_ms >= 0 && spent >= timeout_ms) {
			r = zerr_set(e, -ETIMEDOUT, "'%s' timed out after %d ms", p->argv.v[0],
			             timeout_ms);
			break;
		}
		int left = timeout_ms < 0 ? -1 : (int)(timeout_ms - spent);
		if (poll(pf, 2, left) < 0) { /* a negative fd is skipped */
			if (errno != EINTR)
				r = zerr_set(e, -errno, "poll: %s", strerror(errno));
			continue;
		}
		if (pf[0].revents)
			r = stream_read(&p->out_fd, piece, NULL, so, e);
		if (r == 0 && pf[1].revents)
			r = stream_read(&p->err_fd, piece, err, so, e);
	}
	free(piece);
	return r;
}

int host_run_stream(const struct host *h, const char *const *argv, size_t out_cap, int timeout_ms,
                    host_sink_fn *sink, void *ctx, struct zerr *e)
{
	struct proc p;
	struct proc_status st = {0};
	struct buf shown = BUF_INIT, err = BUF_INIT;
	int r;

	proc_init(&p);
	p.in = PROC_IO_NULL;
	p.out = PROC_IO_PIPE;
	p.err = PROC_IO_PIPE;
	host_quote(&shown, argv, false, NULL);
	if ((r = host_command(h, argv, &p, e)) < 0 || (r = proc_start(&p, e)) < 0)
		goto out;
	struct stream_out so = {sink, ctx, 0, out_cap, false};
	r = stream_pump(&p, timeout_ms, &err, &so, e);
	/* on an error the child is not waited for: it is killed (SIGTERM,
	 * then SIGKILL) by a wait that times out at once */
	struct zerr we = ZERR_INIT;
	int w = proc_wait(&p, r < 0 ? 0 : timeout_ms, &st, &we);
	if (r == 0 && (w < 0 || st.timed_out)) /* stdout closed, the command went on */
		r = w < 0 ? zerr_set(e, w, "%s", we.msg)
		          : zerr_set(e, -ETIMEDOUT, "'%s' timed out after %d ms", p.argv.v[0],
		                     timeout_ms);
	if (r < 0) {
		if (!so.refused)
			zerr_prefix(e, "%s", h->label);
	} else if (st.code != 0) {
		r = exit_error(h, shown.s, &st, &err, NULL, e);
	}
out:
	proc_free(&p);
	buf_free(&shown);
	buf_free(&err);
	return r;
}

int host_run(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
             int timeout_ms, struct zerr *e)
{
	return host_run_err(h, argv, out, out_cap, NULL, timeout_ms, e);
}

void host_disconnect(const struct host *h)
{
	if (host_is_local(h) || !h->control_dir)
		return;
	struct proc p;
	struct proc_capture c = PROC_CAPTURE_INIT(4096, 4096);
	proc_init(&p);
	ssh_argv(h, "exit", &p.argv);
	proc_capture(&p, NULL, 0, 10000, &c, NULL);
	proc_capture_free(&c);
	proc_free(&p);
}
