/*
 * hooks: owns the hook command-line rule (hook_split: argv without a shell,
 * or "sh:" for /bin/sh -c) and running one hook to an outcome (hook_run:
 * exit code, signal, timeout, stderr's last line). What a hook means (when
 * it runs, what its failure skips) belongs to its caller.
 */
#include "hooks.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "proc.h"
#include "banned.h"

#define SHELL_MARK "sh:"

/* One word from *pp into w; *pp moves past it. 0, or -EINVAL. */
static int split_word(const char **pp, struct buf *w, const char *cmd, struct zerr *e)
{
	const char *p = *pp;
	while (*p && *p != ' ' && *p != '\t') {
		char q = *p;
		if (q == '\\') {
			if (!p[1])
				return zerr_set(e, -EINVAL, "hook '%s' ends with a lone backslash",
				                cmd);
			buf_addch(w, p[1]);
			p += 2;
		} else if (q == '\'' || q == '"') {
			p++;
			while (*p && *p != q) {
				/* In "...", \" and \\ are the only escapes. */
				if (q == '"' && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
					p++;
				buf_addch(w, *p++);
			}
			if (!*p)
				return zerr_set(e, -EINVAL, "hook '%s' has an unclosed %c quote",
				                cmd, q);
			p++;
		} else {
			buf_addch(w, *p++);
		}
	}
	*pp = p;
	return 0;
}

int hook_split(const char *cmd, struct strvec *argv, struct zerr *e)
{
	const char *p = cmd ? cmd : "";
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncmp(p, SHELL_MARK, strlen(SHELL_MARK)) == 0) {
		p += strlen(SHELL_MARK);
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return zerr_set(e, -EINVAL, "hook '%s' has no shell command after 'sh:'",
			                cmd);
		strvec_pushv(argv, (const char *const[]){"/bin/sh", "-c", p, NULL});
		return 0;
	}
	struct buf w = BUF_INIT;
	size_t n0 = argv->n;
	int ret = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		buf_reset(&w);
		if ((ret = split_word(&p, &w, cmd ? cmd : "", e)) < 0)
			break;
		strvec_push(argv, w.s ? w.s : "");
	}
	buf_free(&w);
	if (ret == 0 && argv->n == n0)
		ret = zerr_set(e, -EINVAL, "hook is an empty command");
	return ret;
}

/* The last non-empty line of s, made printable, into out. */
static void last_line(const char *s, size_t len, char *out, size_t cap)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	size_t start = len;
	while (start && s[start - 1] != '\n')
		start--;
	size_t n = len - start < cap - 1 ? len - start : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[start + i];
		out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[n] = '\0';
}

static void set_line(struct hook_result *r, const char *s)
{
	last_line(s, strlen(s), r->line, sizeof(r->line));
}

int hook_run(const struct hook_spec *h, struct hook_result *r, struct zerr *e)
{
	struct proc p;
	struct proc_capture c = PROC_CAPTURE_INIT(HOOK_OUT_CAP, HOOK_ERR_CAP);
	memset(r, 0, sizeof(*r));
	proc_init(&p);
	p.own_group = true;
	int ret = hook_split(h->cmd, &p.argv, e);
	if (ret == 0 && h->env)
		strvec_pushv(&p.env, h->env);
	if (ret == 0)
		ret = proc_capture(&p, h->input ? h->input : NULL, h->input ? h->input_len : 0,
		                   h->timeout_ms, &c, e);
	if (c.err.len)
		last_line(c.err.s, c.err.len, r->line, sizeof(r->line));
	if (ret == -ETIMEDOUT && c.st.timed_out) {
		r->outcome = HOOK_TIMEOUT;
		ret = 0;
	} else if (ret == -E2BIG) {
		/* Killed by us for writing too much: a failure, not a crash. */
		r->outcome = HOOK_SIGNAL;
		r->signal = SIGKILL;
		set_line(r, e ? e->msg : "stdout too large");
		ret = 0;
	} else if (ret < 0) {
		r->outcome = HOOK_NOT_STARTED;
		set_line(r, e ? e->msg : "cannot start");
	} else if (c.st.signal) {
		r->outcome = HOOK_SIGNAL;
		r->signal = c.st.signal;
	} else {
		r->code = c.st.code;
		r->outcome = c.st.code == 0 ? HOOK_OK : HOOK_EXIT;
	}
	proc_capture_free(&c);
	proc_free(&p);
	return ret;
}

const char *hook_outcome_name(enum hook_outcome o)
{
	switch (o) {
	case HOOK_OK:
		return "ok";
	case HOOK_EXIT:
		return "exit";
	case HOOK_SIGNAL:
		return "signal";
	case HOOK_TIMEOUT:
		return "timeout";
	case HOOK_NOT_STARTED:
		break;
	}
	return "not-started";
}

const char *hook_result_str(const struct hook_result *r, int timeout_ms, char *buf, size_t len)
{
	const char *sep = r->line[0] ? ": " : "";
	switch (r->outcome) {
	case HOOK_OK:
		snprintf(buf, len, "ok");
		break;
	case HOOK_EXIT:
		snprintf(buf, len, "exited %d%s%s", r->code, sep, r->line);
		break;
	case HOOK_SIGNAL:
		snprintf(buf, len, "killed by signal %d (%s)%s%s", r->signal, strsignal(r->signal),
		         sep, r->line);
		break;
	case HOOK_TIMEOUT:
		if (timeout_ms % 1000)
			snprintf(buf, len, "timed out after %d ms, killed%s%s", timeout_ms, sep,
			         r->line);
		else
			snprintf(buf, len, "timed out after %d s, killed%s%s", timeout_ms / 1000,
			         sep, r->line);
		break;
	case HOOK_NOT_STARTED:
		snprintf(buf, len, "not started%s%s", sep, r->line);
		break;
	}
	return buf;
}
