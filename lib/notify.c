/*
 * Notifications at the end of a run (notify.h): healthcheck pings, signed
 * webhooks (libcurl; OpenSSL's HMAC), run hooks (lib/proc), and the
 * deadline they share (the hooks themselves run through lib/hooks). The
 * one place that sends anything about a run.
 */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dl.h"
#include "hooks.h"
#include "log.h"
#include "xalloc.h"
#include "banned.h"

#ifndef ZKEEP_VERSION
#define ZKEEP_VERSION "0.0.0-dev"
#endif

/* ---- pure parts ------------------------------------------------------ */

int notify_url_check(const char *url, struct zerr *e)
{
	size_t skip = !strncmp(url, "http://", 7) ? 7 : !strncmp(url, "https://", 8) ? 8 : 0;
	if (!skip)
		return zerr_set(e, -EINVAL, "'%s' is not an http:// or https:// URL", url);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return zerr_set(e, -EINVAL, "'%s' has a blank or control character", url);
	size_t host = strcspn(url + skip, "/?#");
	if (!host)
		return zerr_set(e, -EINVAL, "'%s' names no host", url);
	if (memchr(url + skip, '@', host))
		return zerr_set(e, -EINVAL,
		                "'%s' has user:password@ in it; put the secret in the path "
		                "(healthchecks.io's UUID) or use webhook_secret_file",
		                url);
	return 0;
}

int notify_signature(const void *key, size_t key_len, const void *body, size_t len,
                     char out[NOTIFY_SIG_LEN], struct zerr *e)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (dl_crypto(e) < 0)
		return zerr_prefix(e, "cannot sign the webhook");
	if (!sym_HMAC(sym_EVP_sha256(), key, (int)key_len, body, len, md, &md_len) || md_len != 32)
		return zerr_set(e, -EIO, "cannot sign the webhook: HMAC-SHA256 failed");
	memcpy(out, "sha256=", 7);
	for (unsigned int i = 0; i < md_len && i < 32; i++)
		snprintf(out + 7 + 2 * (size_t)i, 3, "%02x", md[i]);
	out[7 + 64] = '\0';
	return 0;
}

int64_t notify_attempt_ms(int64_t now_ms, int64_t deadline_ms)
{
	int64_t left = deadline_ms - now_ms;
	if (left < NOTIFY_MIN_ATTEMPT_MS)
		return 0;
	return left < NOTIFY_REQUEST_MS ? left : NOTIFY_REQUEST_MS;
}

int64_t notify_retry_at(int64_t now_ms, int attempts, int64_t deadline_ms)
{
	int shift = attempts < 1 ? 0 : attempts > 4 ? 3 : attempts - 1;
	int64_t at = now_ms + ((int64_t)1000 << shift);
	return notify_attempt_ms(at, deadline_ms) ? at : -1;
}

void notify_ping_url(struct buf *out, const char *url, const char *suffix)
{
	size_t n = strlen(url);
	while (n > 0 && url[n - 1] == '/' && *suffix)
		n--;
	buf_add(out, url, n);
	buf_adds(out, suffix);
}

void notify_hooks_env(struct strvec *env, const struct record *rec, const char *record_path,
                      const char *summary)
{
	size_t failed = 0;
	for (size_t i = 0; i < rec->n_datasets; i++)
		failed += !record_result_ok(rec->datasets[i].result) &&
		          rec->datasets[i].result != RECORD_SKIPPED;
	strvec_pushf(env, "ZKEEP_JOB=%s", rec->job);
	strvec_pushf(env, "ZKEEP_KIND=%s", record_kind_name(rec->kind));
	strvec_pushf(env, "ZKEEP_RESULT=%s", record_run_result_name(rec->result));
	strvec_pushf(env, "ZKEEP_ERROR=%s", rec->error ? rec->error : "");
	strvec_pushf(env, "ZKEEP_START=%" PRId64, rec->start);
	strvec_pushf(env, "ZKEEP_END=%" PRId64, rec->end);
	strvec_pushf(env, "ZKEEP_DATASETS=%zu", rec->n_datasets);
	strvec_pushf(env, "ZKEEP_FAILED=%zu", failed);
	strvec_pushf(env, "ZKEEP_RECORD=%s", record_path ? record_path : "");
	strvec_pushf(env, "ZKEEP_SUMMARY=%s", summary ? summary : "");
}

/* ---- HTTP ------------------------------------------------------------ */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* One channel's POST and its attempts. */
struct xfer {
	const char *channel;
	CURL *h;
	struct curl_slist *hdr;
	char *url, *body;
	char errbuf[CURL_ERROR_SIZE];
	char error[CURL_ERROR_SIZE + 64];
	int attempts;
	int64_t next_at; /* monotonic ms of the next attempt */
	bool active, done, ok;
	int64_t at; /* when it ended (epoch seconds) */
};

static void xfer_end(struct xfer *x, bool ok)
{
	x->done = true;
	x->ok = ok;
	x->at = (int64_t)time(NULL);
	if (ok)
		x->error[0] = '\0';
}

/* A POST of body (copied) to url, not started. false: curl failed (x
 * ended, with its error). */
static bool xfer_init(struct xfer *x, const char *channel, const char *url, const char *body,
                      const char *content_type)
{
	memset(x, 0, sizeof(*x));
	x->channel = channel;
	x->url = xstrdup(url);
	x->body = xstrdup(body ? body : "");
	struct zerr e = ZERR_INIT;
	if (dl_curl(&e) < 0 || !(x->h = sym_curl_easy_init())) {
		snprintf(x->error, sizeof(x->error), "%.*s", (int)sizeof(x->error) - 1,
		         e.code ? e.msg : "cannot start libcurl");
		xfer_end(x, false);
		return false;
	}
	x->hdr = sym_curl_slist_append(NULL, content_type);
	sym_curl_easy_setopt(x->h, CURLOPT_URL, x->url);
	sym_curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	sym_curl_easy_setopt(x->h, CURLOPT_POSTFIELDS, x->body);
	sym_curl_easy_setopt(x->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(x->body));
	sym_curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L); /* /start runs in a thread */
	sym_curl_easy_setopt(x->h, CURLOPT_USERAGENT, "zkeep/" ZKEEP_VERSION);
	sym_curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, discard);
	sym_curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
	return true;
}

static void xfer_header(struct xfer *x, const char *h)
{
	x->hdr = sym_curl_slist_append(x->hdr, h);
}

static void xfer_free(struct xfer *x)
{
	/* a handle or a header list means libcurl was loaded (xfer_init) */
	if (x->h)
		sym_curl_easy_cleanup(x->h);
	if (x->hdr)
		sym_curl_slist_free_all(x->hdr);
	free(x->url);
	free(x->body);
}

/* Arms the next attempt with t ms. */
static void xfer_arm(struct xfer *x, int64_t t)
{
	sym_curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdr);
	sym_curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)t);
	sym_curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS, (long)t);
	x->errbuf[0] = '\0';
	x->attempts++;
}

/* The end of an attempt: whether it succeeded, and whether another one
 * may help (no connection, a timeout, a 5xx or 429). */
static bool xfer_judge(struct xfer *x, CURLcode rc, bool *retry)
{
	long code = 0;
	*retry = false;
	if (rc == CURLE_OK) {
		sym_curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
		if (code >= 200 && code < 300)
			return true;
		snprintf(x->error, sizeof(x->error), "%s answered HTTP %ld", x->url, code);
		*retry = code >= 500 || code == 429;
		return false;
	}
	snprintf(x->error, sizeof(x->error), "%s: %s", x->url,
	         x->errbuf[0] ? x->errbuf : sym_curl_easy_strerror(rc));
	*retry = rc == CURLE_COULDNT_CONNECT || rc == CURLE_OPERATION_TIMEDOUT ||
	         rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_SEND_ERROR ||
	         rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING || rc == CURLE_SSL_CONNECT_ERROR;
	return false;
}

/* Starts each transfer that is due; returns how many are not done and
 * lowers *wait to the time until the next one is. */
static size_t start_due(CURLM *m, struct xfer *v, size_t n, int64_t deadline, int64_t *wait)
{
	size_t left = 0;
	int64_t now = mono_ms();
	for (size_t i = 0; i < n; i++) {
		struct xfer *x = &v[i];
		if (x->done)
			continue;
		if (!x->active && now >= x->next_at) {
			int64_t t = notify_attempt_ms(now, deadline);
			if (!t) {
				if (!x->error[0])
					snprintf(x->error, sizeof(x->error),
					         "no time left before the deadline");
				xfer_end(x, false);
				continue;
			}
			xfer_arm(x, t);
			sym_curl_multi_add_handle(m, x->h);
			x->active = true;
		} else if (!x->active && x->next_at - now < *wait) {
			*wait = x->next_at - now;
		}
		left++;
	}
	return left;
}

/* Runs the transfers at once until each succeeded, failed for good or ran
 * out of deadline (monotonic ms). */
static void drive(struct xfer *v, size_t n, int64_t deadline)
{
	/* none (a job with hooks only), or libcurl absent: then every transfer
	 * ended in xfer_init with the loader's message */
	if (!n || dl_curl(NULL) < 0)
		return;
	CURLM *m = sym_curl_multi_init();
	for (;;) {
		int64_t wait = 1000;
		if (!start_due(m, v, n, deadline, &wait))
			break;
		int running = 0, queued = 0;
		bool ended = false;
		sym_curl_multi_perform(m, &running);
		for (CURLMsg *msg; (msg = sym_curl_multi_info_read(m, &queued));) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (size_t i = 0; i < n; i++) {
				struct xfer *x = &v[i];
				if (x->h != msg->easy_handle)
					continue;
				CURLcode rc = msg->data.result; /* msg dies with the removal */
				sym_curl_multi_remove_handle(m, x->h);
				x->active = false;
				ended = true;
				bool retry, ok = xfer_judge(x, rc, &retry);
				x->next_at =
				    retry ? notify_retry_at(mono_ms(), x->attempts, deadline) : -1;
				if (ok || x->next_at < 0)
					xfer_end(x, ok);
				break;
			}
		}
		if (!ended)
			sym_curl_multi_poll(m, NULL, 0, (int)(wait > 0 ? wait : 1), NULL);
	}
	sym_curl_multi_cleanup(m);
}

/* ---- the /start ping ------------------------------------------------ */

struct notify_start {
	char *url;  /* the check's URL */
	int64_t at; /* when the run started (epoch seconds) */
	pthread_t thread;
	bool started;
	struct xfer x;
};

static void *start_thread(void *arg)
{
	struct notify_start *s = arg;
	xfer_arm(&s->x, NOTIFY_REQUEST_MS);
	bool retry;
	xfer_end(&s->x, xfer_judge(&s->x, sym_curl_easy_perform(s->x.h), &retry));
	return NULL;
}

struct notify_start *notify_start(const char *healthcheck_url)
{
	if (!healthcheck_url)
		return NULL;
	struct notify_start *s = xcalloc(1, sizeof(*s));
	struct buf url = BUF_INIT;
	s->url = xstrdup(healthcheck_url);
	s->at = (int64_t)time(NULL);
	notify_ping_url(&url, healthcheck_url, "/start");
	/* curl is set up here, in the caller's thread, as it must be */
	if (xfer_init(&s->x, "healthcheck_start", url.s, "", "Content-Type: text/plain"))
		s->started = !pthread_create(&s->thread, NULL, start_thread, s);
	if (!s->started && !s->x.done) {
		snprintf(s->x.error, sizeof(s->x.error), "cannot start a thread");
		xfer_end(&s->x, false);
	}
	buf_free(&url);
	return s;
}

/* Waits for the /start ping (bounded by its own NOTIFY_REQUEST_MS). */
static void start_join(struct notify_start *s)
{
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = false;
}

static void start_free(struct notify_start *s)
{
	xfer_free(&s->x);
	free(s->url);
	free(s);
}

/* The final ping of s's check, not started. */
static void final_ping(struct xfer *x, const struct notify_start *s, bool ok, const char *summary)
{
	struct buf url = BUF_INIT;
	notify_ping_url(&url, s->url, ok ? "" : "/fail");
	xfer_init(x, "healthcheck", url.s, summary, "Content-Type: text/plain; charset=utf-8");
	buf_free(&url);
}

static void log_result(const struct xfer *x)
{
	if (x->ok)
		log_debug("%s: sent (%d attempt(s))", x->channel, x->attempts);
	else
		log_warn("%s: not sent after %d attempt(s): %s", x->channel, x->attempts, x->error);
}

void notify_ping_end(struct notify_start *s, bool ok, const char *summary)
{
	if (!s)
		return;
	int64_t deadline = mono_ms() + NOTIFY_DEADLINE_MS;
	start_join(s);
	log_result(&s->x);
	struct xfer x;
	final_ping(&x, s, ok, summary);
	drive(&x, 1, deadline);
	log_result(&x);
	xfer_free(&x);
	start_free(s);
}

/* ---- webhooks and hooks ---------------------------------------------- */

/* The webhook's secret: the first line of a file only its owner (root or
 * this user) can read. */
static int read_secret(const char *path, struct buf *out, struct zerr *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return zerr_set(e, -err, "cannot read webhook_secret_file '%s': %s", path,
		                strerror(err));
	}
	int r = 0;
	char b[4097];
	ssize_t n = S_ISREG(st.st_mode) ? read(fd, b, sizeof(b) - 1) : -1;
	close(fd);
	if (!S_ISREG(st.st_mode) || n < 0)
		r = zerr_set(e, -EINVAL, "webhook_secret_file '%s' is not a readable file", path);
	else if (st.st_mode & 077)
		r = zerr_set(e, -EPERM,
		             "webhook_secret_file '%s' is open to group or others (mode %03o): "
		             "chmod 600 it",
		             path, (unsigned)(st.st_mode & 0777));
	else if (st.st_uid != 0 && st.st_uid != geteuid())
		r = zerr_set(e, -EPERM, "webhook_secret_file '%s' is owned by uid %u, not root",
		             path, (unsigned)st.st_uid);
	if (r < 0)
		return r;
	b[n] = '\0';
	b[strcspn(b, "\r\n")] = '\0';
	if (!*b)
		return zerr_set(e, -EINVAL, "webhook_secret_file '%s' holds no secret", path);
	buf_adds(out, b);
	return 0;
}

/* The webhook's POST, signed; false (with x->error) when it cannot be. */
static bool webhook(struct xfer *x, const struct zk_notify_cfg *cfg, const char *json)
{
	struct buf key = BUF_INIT;
	struct zerr e = ZERR_INIT;
	bool ok = xfer_init(x, "webhook", cfg->webhook_url, json, "Content-Type: application/json");
	if (ok && read_secret(cfg->webhook_secret_file, &key, &e) < 0) {
		snprintf(x->error, sizeof(x->error), "%.*s", (int)sizeof(x->error) - 1, e.msg);
		xfer_end(x, false);
		ok = false;
	}
	if (ok) {
		char sig[NOTIFY_SIG_LEN], h[NOTIFY_SIG_LEN + 32];
		if (notify_signature(key.s, key.len, json, strlen(json), sig, &e) < 0) {
			snprintf(x->error, sizeof(x->error), "%.*s", (int)sizeof(x->error) - 1,
			         e.msg);
			xfer_end(x, false);
			ok = false;
		} else {
			snprintf(h, sizeof(h), "X-Zkeep-Signature: %s", sig);
			xfer_header(x, h);
		}
	}
	buf_free(&key);
	return ok;
}

/* A channel's result into the run's record: this run's note, and the
 * job's totals (which the record carries from run to run). */
static void noted(struct record *rec, const char *channel, bool ok, const char *error, int64_t at,
                  int attempts)
{
	record_add_note(rec, channel, ok, error, at, attempts);
	record_tally(rec, channel, ok, !ok);
}

/* A run hook (lib/hooks), its result appended to rec. */
static void run_hook(const char *channel, const char *cmd, int timeout_s, const char *json,
                     const struct strvec *env, struct record *rec)
{
	struct zerr e = ZERR_INIT;
	struct hook_result hr;
	struct hook_spec h = {.cmd = cmd,
	                      .env = (const char *const *)env->v,
	                      .input = json,
	                      .input_len = strlen(json),
	                      .timeout_ms = timeout_s * 1000};
	hook_run(&h, &hr, &e);
	char why[512];
	hook_result_str(&hr, h.timeout_ms, why, sizeof(why));
	bool ok = hr.outcome == HOOK_OK;
	if (ok)
		log_debug("%s: %s ran", channel, cmd);
	else
		log_warn("%s: %s failed: %s", channel, cmd, why);
	noted(rec, channel, ok, ok ? NULL : why, (int64_t)time(NULL), 1);
}

static void note(struct record *rec, const struct xfer *x)
{
	log_result(x);
	noted(rec, x->channel, x->ok, x->ok ? NULL : x->error, x->at, x->attempts);
}

void notify_run_end(struct notify_start *s, const struct notify_run *n, struct record *rec)
{
	const struct zk_notify_cfg *cfg = n->cfg;
	int64_t deadline = mono_ms() + NOTIFY_DEADLINE_MS;
	bool ok = rec->result == RECORD_RUN_OK;
	json_t *j = record_to_json(rec);
	char *json = j ? json_dumps(j, JSON_INDENT(1)) : NULL;
	json_decref(j);
	struct xfer x[2];
	size_t nx = 0;
	if (s) {
		start_join(s);
		note(rec, &s->x);
		final_ping(&x[nx++], s, ok, n->summary);
	}
	if (cfg && cfg->webhook_url)
		webhook(&x[nx++], cfg, json ? json : "{}");
	drive(x, nx, deadline);
	for (size_t i = 0; i < nx; i++) {
		note(rec, &x[i]);
		xfer_free(&x[i]);
	}
	const char *hook = !cfg ? NULL : ok ? cfg->on_success : cfg->on_failure;
	if (hook) {
		struct strvec env = STRVEC_INIT;
		notify_hooks_env(&env, rec, n->record_path, n->summary);
		run_hook(ok ? "on_success" : "on_failure", hook, cfg->hook_timeout,
		         json ? json : "{}", &env, rec);
		strvec_clear(&env);
	}
	free(json);
	if (s)
		start_free(s);
}

void notify_timer_end(struct notify_start *s, const char *state_dir, enum record_kind kind,
                      const char *name, bool ok, const char *summary)
{
	if (!s)
		return;
	if (!state_dir) { /* no config: nowhere to keep what the check was told */
		notify_ping_end(s, ok, summary);
		return;
	}
	struct record rec, prev;
	struct buf path = BUF_INIT;
	struct zerr e = ZERR_INIT;
	record_init(&rec, kind, name);
	rec.start = s->at;
	rec.end = (int64_t)time(NULL);
	rec.result = ok ? RECORD_RUN_OK : RECORD_RUN_FAILED;
	record_path(&path, state_dir, kind, name);
	int r = record_read(path.s, &prev, &e);
	if (r == 0) {
		record_carry_tallies(&rec, &prev);
		record_free(&prev);
	} else if (r != -ENOENT) { /* its totals start again, as a counter's reset */
		log_warn("%s", e.msg);
	}
	notify_run_end(s, &(struct notify_run){.summary = summary}, &rec);
	if (record_write(state_dir, &rec, &e) < 0)
		log_warn("cannot write the %s timer's record: %s", name, e.msg);
	record_free(&rec);
	buf_free(&path);
}
