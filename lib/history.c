/*
 * The sparklines' history: the query_range client (libcurl), the parser of
 * its answers (jansson) and the reference-counted history with its holder.
 * What the client accepts and refuses is in history.h.
 */
#include "history.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "dl.h"
#include "xalloc.h"
#include "banned.h"

#ifndef ZKEEP_VERSION
#define ZKEEP_VERSION "0.0.0-dev"
#endif

/* ---- the history and its holder ---------------------------------------- */

struct history *history_ref(struct history *h)
{
	if (h)
		__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
	return h;
}

struct history *history_new(time_t start, time_t end)
{
	struct history *h = xcalloc(1, sizeof(*h));
	h->refs = 1;
	h->start = start;
	h->end = end;
	return h;
}

void history_series_set_free(struct history_series_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->s[i].key);
		free(set->s[i].t);
		free(set->s[i].v);
	}
	free(set->s);
	set->s = NULL;
	set->n = 0;
}

void history_put(struct history *h)
{
	if (!h || __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	history_series_set_free(&h->pools);
	history_series_set_free(&h->backups);
	free(h);
}

void history_holder_init(struct history_holder *h)
{
	pthread_mutex_init(&h->mu, NULL);
	h->cur = NULL;
}

void history_holder_free(struct history_holder *h)
{
	history_put(h->cur);
	h->cur = NULL;
	pthread_mutex_destroy(&h->mu);
}

struct history *history_holder_get(struct history_holder *h)
{
	pthread_mutex_lock(&h->mu);
	struct history *r = history_ref(h->cur);
	pthread_mutex_unlock(&h->mu);
	return r;
}

void history_holder_set(struct history_holder *h, struct history *hist)
{
	pthread_mutex_lock(&h->mu);
	struct history *old = h->cur;
	h->cur = hist;
	pthread_mutex_unlock(&h->mu);
	history_put(old);
}

/* ---- query_range answers ------------------------------------------------ */

static int series_parse(json_t *r, const char *label, struct history_series *s)
{
	const char *key = json_string_value(json_object_get(json_object_get(r, "metric"), label));
	json_t *vals = json_object_get(r, "values");
	if (!key || !json_is_array(vals))
		return -EINVAL;
	size_t n = json_array_size(vals), k = 0;
	s->key = xstrdup(key);
	s->t = xreallocarray(NULL, n ? n : 1, sizeof(double));
	s->v = xreallocarray(NULL, n ? n : 1, sizeof(double));
	for (size_t i = 0; i < n; i++) {
		json_t *pt = json_array_get(vals, i);
		json_t *t = json_array_get(pt, 0);
		const char *vs = json_string_value(json_array_get(pt, 1));
		char *end;
		if (!json_is_number(t) || !vs)
			continue;
		double v = strtod(vs, &end);
		if (end == vs || *end || !isfinite(v))
			continue; /* NaN, +Inf: nothing to draw */
		s->t[k] = json_number_value(t);
		s->v[k] = v;
		if (k && s->t[k] < s->t[k - 1])
			continue; /* out of order: a broken answer, keep what is ascending */
		k++;
	}
	s->n = k;
	return 0;
}

int history_parse(const char *json, size_t len, const char *label, struct history_series_set *out,
                  struct zerr *e)
{
	json_error_t je;
	json_t *j = json_loadb(json, len, 0, &je);
	if (!j)
		return zerr_set(e, -EINVAL, "query_range answer is not JSON: %s", je.text);
	json_t *data = json_object_get(j, "data");
	json_t *res = json_object_get(data, "result");
	const char *status = json_string_value(json_object_get(j, "status"));
	const char *type = json_string_value(json_object_get(data, "resultType"));
	if (!status || strcmp(status, "success") || !type || strcmp(type, "matrix") ||
	    !json_is_array(res)) {
		const char *err = json_string_value(json_object_get(j, "error"));
		int r = zerr_set(e, -EINVAL, "query_range did not answer a matrix%s%s",
		                 err ? ": " : "", err ? err : "");
		json_decref(j);
		return r;
	}
	size_t n = json_array_size(res);
	history_series_set_free(out);
	out->s = xreallocarray(NULL, n ? n : 1, sizeof(*out->s));
	for (size_t i = 0; i < n; i++) {
		struct history_series *s = &out->s[out->n];
		memset(s, 0, sizeof(*s));
		if (series_parse(json_array_get(res, i), label, s) == 0) {
			out->n++;
		} else {
			free(s->key);
			free(s->t);
			free(s->v);
		}
	}
	json_decref(j);
	return 0;
}

/* ---- the client --------------------------------------------------------- */

int history_url_check(const char *url, struct zerr *e)
{
	/* the prefix first: libcurl would take https, ftp or a bare host */
	if (strncmp(url, "http://", 7))
		return zerr_set(e, -EINVAL,
		                "history_url '%s': only plain http:// is supported (put the store "
		                "on loopback or a trusted network)",
		                url);
	if (strpbrk(url, "?#"))
		return zerr_set(e, -EINVAL, "history_url '%s': no query or fragment, please", url);
	/* the rest as libcurl will read it: a host, a decimal port, no
	 * spaces or control characters */
	if (dl_curl(e) < 0)
		return zerr_prefix(e, "history_url '%s'", url);
	CURLU *u = sym_curl_url();
	if (!u)
		return zerr_set(e, -ENOMEM, "history_url '%s': out of memory", url);
	char *user = NULL, *pass = NULL;
	int r = 0;
	CURLUcode uc = sym_curl_url_set(u, CURLUPART_URL, url, 0);
	if (uc)
		r = zerr_set(e, -EINVAL, "history_url '%s': %s", url, sym_curl_url_strerror(uc));
	else if (!sym_curl_url_get(u, CURLUPART_USER, &user, 0) ||
	         !sym_curl_url_get(u, CURLUPART_PASSWORD, &pass, 0))
		r = zerr_set(e, -EINVAL, "history_url '%s': no user info, please", url);
	sym_curl_free(user);
	sym_curl_free(pass);
	sym_curl_url_cleanup(u);
	return r;
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The body of an answer, cut off (and refused) past HISTORY_MAX. */
struct body {
	struct buf b;
	bool big;
};

static size_t take(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;
	if (b->b.len + len > HISTORY_MAX) {
		b->big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	buf_add(&b->b, p, len);
	return len;
}

/* A client with the limits of history.h; NULL when libcurl cannot start.
 * libcurl is loaded already (history_url_check). */
static CURL *client_new(struct body *body, char *errbuf)
{
	CURL *c = sym_curl_easy_init();
	if (!c)
		return NULL;
	sym_curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	sym_curl_easy_setopt(c, CURLOPT_PROXY, ""); /* never http_proxy from the environment */
	sym_curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* one short request per query on a connection the store closes */
	sym_curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_0);
	sym_curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* the collector is one thread of many */
	sym_curl_easy_setopt(c, CURLOPT_USERAGENT, "zkeep/" ZKEEP_VERSION);
	sym_curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HISTORY_MAX);
	sym_curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, take);
	sym_curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	sym_curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	return c;
}

/* A failed transfer as the codes of history.h. */
static int transfer_error(CURL *c, CURLcode cc, const struct body *body)
{
	long oserr = 0;
	sym_curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &oserr);
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		return oserr > 0 ? -(int)oserr : -ECONNREFUSED;
	case CURLE_FILESIZE_EXCEEDED:
		return -E2BIG;
	case CURLE_WRITE_ERROR:
		return body->big ? -E2BIG : -EIO;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTO;
	default:
		return oserr > 0 ? -(int)oserr : -EIO;
	}
}

/* GETs url within timeout_ms; the body of a 200 answer into body->b.
 * Messages leave the store's URL to the caller, who knows it. */
static int get(CURL *c, const char *url, long timeout_ms, struct body *body, char *errbuf,
               struct zerr *e)
{
	buf_reset(&body->b);
	body->big = false;
	errbuf[0] = '\0';
	sym_curl_easy_setopt(c, CURLOPT_URL, url);
	sym_curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	CURLcode cc = sym_curl_easy_perform(c);
	if (cc != CURLE_OK) {
		int r = transfer_error(c, cc, body);
		if (r == -E2BIG)
			return zerr_set(e, r, "query_range answered over %d bytes", HISTORY_MAX);
		return zerr_set(e, r, "query_range: %s",
		                *errbuf ? errbuf : sym_curl_easy_strerror(cc));
	}
	long code = 0;
	sym_curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return zerr_set(e, -EPROTO, "query_range answered %ld", code);
	return 0;
}

/* What the two queries of one fetch share. */
struct query {
	CURL *c;
	const char *base; /* history_url, trailing slashes and all */
	time_t start, end;
	int step;
	int64_t deadline;
	struct body body;
	char errbuf[CURL_ERROR_SIZE];
};

/* One query_range of expr over [q->start, q->end] into set, keyed by
 * label, in the time left before q->deadline. */
static int query(struct query *q, const char *expr, const char *label,
                 struct history_series_set *set, struct zerr *e)
{
	int64_t left = q->deadline - ms_now();
	if (left <= 0)
		return zerr_set(e, -ETIMEDOUT, "no time left for '%s'", expr);
	char *enc = sym_curl_easy_escape(q->c, expr, 0);
	if (!enc)
		return zerr_set(e, -ENOMEM, "cannot escape '%s'", expr);
	size_t bl = strlen(q->base);
	while (bl && q->base[bl - 1] == '/')
		bl--; /* the API path is appended */
	struct buf url = BUF_INIT;
	buf_add(&url, q->base, bl);
	buf_addf(&url, "/api/v1/query_range?query=%s&start=%lld&end=%lld&step=%ds", enc,
	         (long long)q->start, (long long)q->end, q->step);
	sym_curl_free(enc);
	int r = get(q->c, url.s, (long)left, &q->body, q->errbuf, e);
	if (r == 0)
		r = history_parse(q->body.b.s, q->body.b.len, label, set, e);
	buf_free(&url);
	return r;
}

/* {hostname="NAME"}: the label as a PromQL string, backslash and quote
 * escaped. */
static void host_selector(struct buf *sel, const char *hostname)
{
	buf_adds(sel, "{hostname=\"");
	for (const char *p = hostname; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_addch(sel, '\\');
		buf_addch(sel, *p);
	}
	buf_adds(sel, "\"}");
}

int history_fetch(const char *base_url, const char *hostname, time_t now, int range, int timeout_ms,
                  struct history **out, struct zerr *e)
{
	int r = history_url_check(base_url, e);
	if (r < 0)
		return r;
	struct query q = {NULL, base_url, 0, now, 0, ms_now() + timeout_ms, {BUF_INIT, false}, ""};
	q.c = client_new(&q.body, q.errbuf);
	if (!q.c)
		return zerr_set(e, -ENOMEM, "cannot start libcurl");
	if (range < HISTORY_POINTS)
		range = HISTORY_POINTS;
	q.step = range / HISTORY_POINTS;
	q.start = now - range;
	struct history *h = history_new(q.start, now);
	struct buf sel = BUF_INIT, expr = BUF_INIT;
	host_selector(&sel, hostname);
	buf_addf(&expr, "zfs_pool_capacity_percent%s", sel.s);
	r = query(&q, expr.s, "pool", &h->pools, e);
	if (r == 0) {
		/* a backup's age: keyed by its target dataset, one per backup row */
		buf_reset(&expr);
		buf_addf(&expr, "time() - zfs_backup_last_success_timestamp%s", sel.s);
		r = query(&q, expr.s, "target", &h->backups, e);
	}
	if (r == 0)
		*out = h;
	else
		history_put(h);
	sym_curl_easy_cleanup(q.c);
	buf_free(&q.body.b);
	buf_free(&sel);
	buf_free(&expr);
	return r;
}
