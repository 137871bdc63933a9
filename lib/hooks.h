/*
 * Hooks: one configured command run to an outcome (snapshot hooks, run
 * hooks, anything a user asks zkeep to run around its work).
 *
 * A hook is a string from the config. It is split into argv WITHOUT a shell
 * (hook_split), by this rule, documented in zkeep.conf(5):
 *   - words are separated by spaces and tabs;
 *   - '...' keeps everything up to the next ' as it is;
 *   - "..." keeps everything up to the next unescaped ", where \" and \\
 *     stand for " and \ (any other backslash stays a backslash);
 *   - outside quotes a backslash takes the next character as it is;
 *   - nothing else is special: no variables, globs, pipes or redirections.
 * A hook that starts with "sh:" is run as /bin/sh -c '<the rest>' instead,
 * for users who want a shell (the rest has its leading blanks dropped).
 * An empty command, an unclosed quote or a trailing backslash is an error.
 *
 * hook_run starts the command with lib/proc (fixed PATH, minimal
 * environment plus the caller's variables), in a process group of its own;
 * stdin carries the caller's bytes or /dev/null; stdout is read and
 * dropped; stderr is kept (its first HOOK_ERR_CAP bytes) for its last line.
 * At the timeout the whole process group is killed (SIGKILL), so a shell
 * hook's children do not outlive it.
 *
 * Thread-safety: none needed beyond lib/proc's (no globals here).
 */
#ifndef ZK_HOOKS_H
#define ZK_HOOKS_H

#include <stddef.h>

#include "err.h"
#include "strvec.h"

#define HOOK_ERR_CAP ((size_t)64 * 1024)
#define HOOK_OUT_CAP ((size_t)4 * 1024 * 1024)

enum hook_outcome {
	HOOK_OK = 0,      /* exited 0 */
	HOOK_EXIT,        /* exited non-zero: code */
	HOOK_SIGNAL,      /* killed by a signal it did not get from us: signal */
	HOOK_TIMEOUT,     /* still running at the timeout: killed */
	HOOK_NOT_STARTED, /* bad command line, not found, not executable, ... */
};

struct hook_result {
	enum hook_outcome outcome;
	int code;   /* the exit code (HOOK_OK, HOOK_EXIT) */
	int signal; /* HOOK_SIGNAL */
	/* stderr's last non-empty line (HOOK_NOT_STARTED: why), "" if none;
	 * control characters replaced by '?', cut to fit */
	char line[256];
};

struct hook_spec {
	const char *cmd;        /* the configured command, as above */
	const char *const *env; /* extra "NAME=value" entries, NULL-terminated, or NULL */
	const void *input;      /* bytes for stdin, or NULL for /dev/null */
	size_t input_len;
	int timeout_ms; /* < 0: no timeout */
};

/* Splits cmd by the rule above into argv (appended). Errors: -EINVAL with
 * a message naming what is wrong; argv may then hold some words. */
int hook_split(const char *cmd, struct strvec *argv, struct zerr *e);

/* Runs the hook to its outcome in r. Returns 0 when it ran (whatever its
 * outcome: the caller reads r), or a negative errno when it could not be
 * started (r->outcome is then HOOK_NOT_STARTED and e and r->line say why). */
int hook_run(const struct hook_spec *h, struct hook_result *r, struct zerr *e);

/* "ok", "exit", "signal", "timeout", "not-started": the one spelling of an
 * outcome for environment variables, state files and metrics. */
const char *hook_outcome_name(enum hook_outcome o);

/* For people: "ok", "exited 3: <line>", "killed by signal 9", "timed out
 * after 30 s", "not started: <why>". */
const char *hook_result_str(const struct hook_result *r, int timeout_ms, char *buf, size_t len);

#endif
