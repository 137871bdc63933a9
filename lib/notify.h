/*
 * Notifications at the end of a run: this module owns how zkeep tells
 * others that a run started and how it ended.
 *
 *  - healthcheck (a healthchecks.io check or a self-hosted clone): POST
 *    URL/start when the run starts, never waited for (a thread of its own,
 *    joined before the run's final ping); then POST URL on success or
 *    URL/fail on failure, the run's summary as the body (text/plain).
 *  - webhook: POST of the run record JSON as lib/record wrote it before
 *    notifying, Content-Type application/json, with
 *    X-Zkeep-Signature: sha256=<lowercase hex HMAC-SHA256 of the body,
 *    keyed with the contents of webhook_secret_file>.
 *  - run hooks: on_success or on_failure, a command run with the run record
 *    JSON on stdin and ZKEEP_* facts in its environment (notify_hooks_env),
 *    killed after hook_timeout seconds (lib/hooks).
 *
 * Deadlines: the HTTP channels of a run (the final ping and the webhook)
 * run at the same time and share one deadline, NOTIFY_DEADLINE_MS after
 * the run ended; each request takes at most NOTIFY_REQUEST_MS; a request
 * that could not connect, timed out or got a 5xx or 429 is tried again
 * (after 1 s, 2 s, 4 s...) only while at least NOTIFY_MIN_ATTEMPT_MS of
 * the deadline is left. The run hooks run after them, each with its own
 * timeout. Nothing here changes a run's exit code: each channel's result
 * goes into the record's notifications (lib/record) and the log.
 *
 * Hook commands (on_success, on_failure) run through lib/hooks: argv
 * split without a shell (hooks.h has the rule), "sh:" for /bin/sh -c, a
 * process group of their own killed at the timeout.
 *
 * Threads: notify_start's thread owns only its own curl handle and result
 * fields, which are read after pthread_join. Everything else runs in the
 * calling thread. Callers ignore SIGPIPE (cmd/ does).
 */
#ifndef ZK_NOTIFY_H
#define ZK_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "record.h"
#include "strvec.h"

#define NOTIFY_DEADLINE_MS    15000        /* all HTTP channels, from the run's end */
#define NOTIFY_REQUEST_MS     10000        /* one request */
#define NOTIFY_MIN_ATTEMPT_MS 500          /* no attempt with less time than this */
#define NOTIFY_HOOK_TIMEOUT_S 60           /* hook_timeout's default */
#define NOTIFY_SIG_LEN        (7 + 64 + 1) /* "sha256=" + hex + NUL */

/* ---- pure parts (unit-tested) ---------------------------------------- */

/* A URL zkeep may POST to: http:// or https://, a host, no blanks or
 * control characters, no user:password@ (the check's address is its
 * secret already). -EINVAL with a message naming the URL. */
int notify_url_check(const char *url, struct zerr *e);

/* "sha256=<hex>" of body keyed with key, into out. -ENOENT when
 * libcrypto cannot be loaded (lib/dl.h), -EIO when HMAC fails. */
int notify_signature(const void *key, size_t key_len, const void *body, size_t len,
                     char out[NOTIFY_SIG_LEN], struct zerr *e);

/* How long an attempt started at now_ms may take before deadline_ms:
 * NOTIFY_REQUEST_MS at most, 0 when less than NOTIFY_MIN_ATTEMPT_MS is
 * left (no attempt). */
int64_t notify_attempt_ms(int64_t now_ms, int64_t deadline_ms);
/* When to try again after `attempts` failed attempts (1 s, 2 s, 4 s, ...
 * after now_ms), or -1 when that retry would get no attempt. */
int64_t notify_retry_at(int64_t now_ms, int attempts, int64_t deadline_ms);

/* The healthcheck URL of a ping: url + "/start", "" or "/fail" (a trailing
 * '/' of url not doubled). */
void notify_ping_url(struct buf *out, const char *url, const char *suffix);

/* ---- a run's notifications ------------------------------------------- */

/* A run's /start ping in flight (NULL when there is no check). */
struct notify_start;

/* Sends URL/start from a thread of its own and returns at once; NULL url:
 * nothing, NULL. */
struct notify_start *notify_start(const char *healthcheck_url);

/* A snapshot or prune run's end: its check gets URL or URL/fail with
 * summary as the body, after the /start ping ended, within the deadline;
 * a failure is logged as a warning. Frees s (NULL: nothing). */
void notify_ping_end(struct notify_start *s, bool ok, const char *summary);

/* A snapshot or prune timer's end (kind RECORD_SNAPSHOT or RECORD_PRUNE,
 * name its timer record's, lib/record.h): as notify_ping_end, and what the
 * check was told is written to the timer's record in state_dir (its
 * notifications, totals carried from the last one) for /metrics and
 * `zkeep status`. state_dir NULL (no config): the ping alone. A record
 * that cannot be read or written is a warning; nothing here changes how
 * the run went. Frees s (NULL: nothing). */
void notify_timer_end(struct notify_start *s, const char *state_dir, enum record_kind kind,
                      const char *name, bool ok, const char *summary);

/* What a pull or push job's end needs. */
struct notify_run {
	const struct zk_notify_cfg *cfg; /* NULL: nothing to send */
	const char *summary;             /* the healthcheck's body */
	const char *record_path;         /* ZKEEP_RECORD, or NULL when not written */
};

/* A pull or push run's end: the final ping (after s's /start), the
 * webhook and the run hook, as this header says. rec is the run's record
 * as written (the webhook's body); each channel's result is appended to
 * rec's notifications, for the caller to write again. Frees s. */
void notify_run_end(struct notify_start *s, const struct notify_run *n, struct record *rec);

/* The environment of a run hook, "NAME=value" each (unit-tested):
 * ZKEEP_JOB, ZKEEP_KIND (pull/push), ZKEEP_RESULT (ok/failed),
 * ZKEEP_ERROR (the run's error, or empty), ZKEEP_START, ZKEEP_END (epoch
 * seconds), ZKEEP_DATASETS, ZKEEP_FAILED (dataset counts), ZKEEP_RECORD
 * (the record's path, or empty), ZKEEP_SUMMARY. */
void notify_hooks_env(struct strvec *env, const struct record *rec, const char *record_path,
                      const char *summary);

#endif
