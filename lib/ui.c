#include "ui.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt.h"
#include "xalloc.h"
#include "banned.h"

#ifndef ZKEEP_VERSION
#define ZKEEP_VERSION "0.0.0-dev"
#endif

/* ---- escaping ---------------------------------------------------------- */

void ui_escape(struct buf *out, const char *s)
{
	static const char *const ent[128] = {
	    ['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;", ['\''] = "&#39;",
	};
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p < 128 && ent[*p])
			buf_adds(out, ent[*p]);
		else if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			buf_adds(out, "&#xFFFD;"); /* controls are not allowed in HTML; a name may
			                              hold them */
		else
			buf_addch(out, (char)*p);
	}
}

/* Appends fmt, where each %s is a string HTML-escaped (NULL as "") and %%
 * a percent sign; nothing else is a conversion. Markup is the format's,
 * data only ever an argument, so no string can slip in unescaped. */
static void html(struct buf *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's') {
			ui_escape(o, va_arg(ap, const char *));
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			buf_addch(o, '%');
			p++;
		} else {
			buf_addch(o, *p);
		}
	}
	va_end(ap);
}

/* ---- Accept ------------------------------------------------------------ */

/* The q of the media range at r (length n), 1 when not given. */
static double accept_q(const char *r, size_t n)
{
	const char *q = NULL;
	for (size_t i = 0; i + 2 < n; i++)
		if (r[i] == ';') {
			size_t j = i + 1;
			while (j < n && r[j] == ' ')
				j++;
			if (j + 1 < n && r[j] == 'q' && r[j + 1] == '=')
				q = r + j + 2;
		}
	if (!q)
		return 1.0;
	char tmp[16];
	size_t l = (size_t)(r + n - q);
	if (l >= sizeof(tmp))
		l = sizeof(tmp) - 1;
	memcpy(tmp, q, l);
	tmp[l] = '\0';
	char *end;
	double v = strtod(tmp, &end);
	return end == tmp || !(v >= 0) ? 0 : v > 1 ? 1 : v;
}

bool ui_accept_prefers_html(const char *accept)
{
	if (!accept)
		return false;
	double qhtml = -1, qjson = -1, qany = -1;
	const char *p = accept;
	while (*p) {
		p += strspn(p, ", ");
		size_t n = strcspn(p, ",");
		size_t t = strcspn(p, ";,");
		while (t && p[t - 1] == ' ')
			t--;
		double q = accept_q(p, n);
		if (t == 9 && !strncasecmp(p, "text/html", 9))
			qhtml = q;
		else if (t == 16 && !strncasecmp(p, "application/json", 16))
			qjson = q;
		else if (t == 3 && !strncmp(p, "*/*", 3))
			qany = q;
		p += n;
	}
	if (qjson < 0)
		qjson = qany;
	return qhtml > 0 && qhtml > qjson;
}

/* ---- history ----------------------------------------------------------- */

struct ui_history *ui_history_ref(struct ui_history *h)
{
	if (h)
		__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
	return h;
}

struct ui_history *ui_history_new(time_t start, time_t end)
{
	struct ui_history *h = xcalloc(1, sizeof(*h));
	h->refs = 1;
	h->start = start;
	h->end = end;
	return h;
}

void ui_series_set_free(struct ui_series_set *set)
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

void ui_history_put(struct ui_history *h)
{
	if (!h || __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	ui_series_set_free(&h->pools);
	ui_series_set_free(&h->backups);
	free(h);
}

void ui_history_holder_init(struct ui_history_holder *h)
{
	pthread_mutex_init(&h->mu, NULL);
	h->cur = NULL;
}

void ui_history_holder_free(struct ui_history_holder *h)
{
	ui_history_put(h->cur);
	h->cur = NULL;
	pthread_mutex_destroy(&h->mu);
}

struct ui_history *ui_history_holder_get(struct ui_history_holder *h)
{
	pthread_mutex_lock(&h->mu);
	struct ui_history *r = ui_history_ref(h->cur);
	pthread_mutex_unlock(&h->mu);
	return r;
}

void ui_history_holder_set(struct ui_history_holder *h, struct ui_history *hist)
{
	pthread_mutex_lock(&h->mu);
	struct ui_history *old = h->cur;
	h->cur = hist;
	pthread_mutex_unlock(&h->mu);
	ui_history_put(old);
}

static int series_parse(json_t *r, const char *label, struct ui_series *s)
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

int ui_history_parse(const char *json, size_t len, const char *label, struct ui_series_set *out,
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
	ui_series_set_free(out);
	out->s = xreallocarray(NULL, n ? n : 1, sizeof(*out->s));
	for (size_t i = 0; i < n; i++) {
		struct ui_series *s = &out->s[out->n];
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

struct url {
	char *host, *port, *path;
};

static void url_free(struct url *u)
{
	free(u->host);
	free(u->port);
	free(u->path);
	memset(u, 0, sizeof(*u));
}

static int url_parse(const char *url, struct url *u, struct zerr *e)
{
	memset(u, 0, sizeof(*u));
	if (strncmp(url, "http://", 7))
		return zerr_set(e, -EINVAL,
		                "history_url '%s': only plain http:// is supported (put the store "
		                "on loopback or a trusted network)",
		                url);
	const char *h = url + 7, *slash = h + strcspn(h, "/");
	if (strpbrk(h, "?#"))
		return zerr_set(e, -EINVAL, "history_url '%s': no query or fragment, please", url);
	const char *hend = slash, *colon = NULL;
	if (*h == '[') { /* [v6]:port */
		const char *rb = memchr(h, ']', (size_t)(slash - h));
		if (!rb)
			return zerr_set(e, -EINVAL, "history_url '%s': bad IPv6 address", url);
		hend = rb;
		h++;
		colon = rb + 1 < slash && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(slash - h));
		if (colon)
			hend = colon;
	}
	if (hend == h || memchr(h, '@', (size_t)(slash - h)))
		return zerr_set(e, -EINVAL, "history_url '%s': no host (or user info)", url);
	u->host = xstrndup(h, (size_t)(hend - h));
	u->port = colon ? xstrndup(colon + 1, (size_t)(slash - colon - 1)) : xstrdup("80");
	if (!*u->port || strspn(u->port, "0123456789") != strlen(u->port) || strlen(u->port) > 5) {
		url_free(u);
		return zerr_set(e, -EINVAL, "history_url '%s': bad port", url);
	}
	size_t pl = strlen(slash);
	while (pl && slash[pl - 1] == '/')
		pl--; /* the API path is appended */
	u->path = xstrndup(slash, pl);
	for (const char *p = u->path; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			url_free(u);
			return zerr_set(e, -EINVAL, "history_url '%s': bad path", url);
		}
	return 0;
}

int ui_history_url_check(const char *url, struct zerr *e)
{
	struct url u;
	int r = url_parse(url, &u, e);
	if (r == 0)
		url_free(&u);
	return r;
}

static void url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
			buf_addch(b, (char)*p);
		} else {
			buf_addch(b, '%');
			buf_addch(b, hex[*p >> 4]);
			buf_addch(b, hex[*p & 15]);
		}
	}
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for ev on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short ev, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - ms_now();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = {fd, ev, 0};
		int r = poll(&pf, 1, (int)left);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int tcp_connect(const struct url *u, int64_t deadline, struct zerr *e)
{
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	int gr = getaddrinfo(u->host, u->port, &hints, &ai);
	if (gr)
		return zerr_set(e, -EHOSTUNREACH, "cannot resolve '%s': %s", u->host,
		                gai_strerror(gr));
	int fd = -1, err = ECONNREFUSED;
	for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            a->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		err = errno;
		if (err == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0) {
			int so = 0;
			socklen_t sl = sizeof(so);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) == 0 && so == 0)
				break;
			err = so ? so : ETIMEDOUT;
		} else if (err == EINPROGRESS) {
			err = ETIMEDOUT;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return zerr_set(e, -err, "cannot connect to %s:%s: %s", u->host, u->port,
		                strerror(err));
	return fd;
}

/* GET u->path + rest; the body of a 200 answer into body. */
static int http_get(const struct url *u, const char *rest, int timeout_ms, struct buf *body,
                    struct zerr *e)
{
	int64_t deadline = ms_now() + timeout_ms;
	int fd = tcp_connect(u, deadline, e);
	if (fd < 0)
		return fd;
	struct buf req = BUF_INIT, ans = BUF_INIT;
	int r = 0;
	/* HTTP/1.0: the server closes when done and sends no chunked body */
	buf_addf(&req, "GET %s%s HTTP/1.0\r\nHost: %s:%s\r\nUser-Agent: zkeep/%s\r\n\r\n", u->path,
	         rest, u->host, u->port, ZKEEP_VERSION);
	for (size_t off = 0; off < req.len;) {
		ssize_t n = send(fd, req.s + off, req.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
				goto io;
		} else {
			r = -errno;
			goto io;
		}
	}
	for (;;) {
		if (ans.len > UI_HISTORY_MAX) {
			r = zerr_set(e, -E2BIG, "answer from %s:%s is over %d bytes", u->host,
			             u->port, UI_HISTORY_MAX);
			goto out;
		}
		buf_grow(&ans, 65536);
		ssize_t n = recv(fd, ans.s + ans.len, 65536, 0);
		if (n > 0) {
			buf_setlen(&ans, ans.len + (size_t)n);
		} else if (n == 0) {
			break;
		} else if (errno == EAGAIN || errno == EINTR) {
			if ((r = wait_fd(fd, POLLIN, deadline)) < 0)
				goto io;
		} else {
			r = -errno;
			goto io;
		}
	}
	{
		const char *hend = strstr(ans.s, "\r\n\r\n");
		int code = 0;
		if (!hend || sscanf(ans.s, "HTTP/1.%*d %d", &code) != 1) {
			r = zerr_set(e, -EPROTO, "%s:%s did not answer HTTP", u->host, u->port);
			goto out;
		}
		if (code != 200) {
			r = zerr_set(e, -EPROTO, "%s:%s answered %d", u->host, u->port, code);
			goto out;
		}
		/* a header named Transfer-Encoding would mean a body we do not decode */
		for (const char *p = strstr(ans.s, "\r\n"); p && p < hend;
		     p = strstr(p + 2, "\r\n"))
			if (!strncasecmp(p + 2, "transfer-encoding:", 18)) {
				r = zerr_set(e, -EPROTO, "%s:%s sent a transfer-encoded body",
				             u->host, u->port);
				goto out;
			}
		buf_add(body, hend + 4, ans.len - (size_t)(hend + 4 - ans.s));
	}
	goto out;
io:
	zerr_set(e, r, "talking to %s:%s: %s", u->host, u->port, strerror(-r));
out:
	close(fd);
	buf_free(&req);
	buf_free(&ans);
	return r;
}

/* One query_range of expr over [start, end] into set, keyed by label. */
static int query(const struct url *u, const char *expr, time_t start, time_t end, int step,
                 const char *label, int64_t deadline, struct ui_series_set *set, struct zerr *e)
{
	struct buf rest = BUF_INIT, body = BUF_INIT;
	int64_t left = deadline - ms_now();
	buf_adds(&rest, "/api/v1/query_range?query=");
	url_encode(&rest, expr);
	buf_addf(&rest, "&start=%lld&end=%lld&step=%ds", (long long)start, (long long)end, step);
	int r = left <= 0 ? zerr_set(e, -ETIMEDOUT, "no time left for '%s'", expr)
	                  : http_get(u, rest.s, (int)left, &body, e);
	if (r == 0)
		r = ui_history_parse(body.s, body.len, label, set, e);
	buf_free(&rest);
	buf_free(&body);
	return r;
}

int ui_history_fetch(const char *base_url, const char *hostname, time_t now, int range,
                     int timeout_ms, struct ui_history **out, struct zerr *e)
{
	struct url u;
	int r = url_parse(base_url, &u, e);
	if (r < 0)
		return r;
	int64_t deadline = ms_now() + timeout_ms;
	if (range < UI_HISTORY_POINTS)
		range = UI_HISTORY_POINTS;
	int step = range / UI_HISTORY_POINTS;
	struct ui_history *h = ui_history_new(now - range, now);
	/* the hostname label as a PromQL string: backslash and quote escaped */
	struct buf sel = BUF_INIT, q = BUF_INIT;
	buf_adds(&sel, "{hostname=\"");
	for (const char *p = hostname; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_addch(&sel, '\\');
		buf_addch(&sel, *p);
	}
	buf_adds(&sel, "\"}");
	buf_addf(&q, "zfs_pool_capacity_percent%s", sel.s);
	r = query(&u, q.s, h->start, now, step, "pool", deadline, &h->pools, e);
	if (r == 0) {
		/* a backup's age: keyed by its target dataset, one per backup row */
		buf_reset(&q);
		buf_addf(&q, "time() - zfs_backup_last_success_timestamp%s", sel.s);
		r = query(&u, q.s, h->start, now, step, "target", deadline, &h->backups, e);
	}
	if (r == 0)
		*out = h;
	else
		ui_history_put(h);
	buf_free(&sel);
	buf_free(&q);
	url_free(&u);
	return r;
}

/* ---- rendering --------------------------------------------------------- */

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1d2430;background:#f6f7f9}"
    "h1{font-size:1.4em;margin:0}h2{font-size:1.1em;margin:1.6em 0 .5em}"
    ".sub{color:#5b6472}table{border-collapse:collapse;background:#fff;"
    "box-shadow:0 1px 2px #0002}th,td{padding:.35em .7em;text-align:left;"
    "border-bottom:1px solid #e4e7ec;vertical-align:middle}th{font-weight:600;"
    "background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".b{display:inline-block;padding:0 .5em;border-radius:.6em;font-weight:600;"
    "font-size:.9em}.ok{background:#d3f3dc;color:#14532d}.warn{background:#fdecc8;"
    "color:#7a4a00}.bad{background:#fbd5d5;color:#8a1c1c}.off{background:#e9ecf0;"
    "color:#5b6472}.err{color:#8a1c1c;font-size:.9em}.att{background:#fff4f4;"
    "border-left:4px solid #c53030;padding:.5em 1em}.att li{margin:.2em 0}"
    "svg{vertical-align:middle}";

/* The class of a badge: ok, warn, bad or off. */
static void badge(struct buf *o, const char *cls, const char *text)
{
	html(o, "<span class=\"b %s\">%s</span>", cls, text);
}

static void human(struct buf *o, uint64_t n)
{
	if (n == ZFS_NONE)
		buf_adds(o, "-");
	else
		fmt_bytes_human(o, n);
}

static void when(struct buf *o, int64_t t)
{
	fmt_when(o, t, FMT_UTC);
}

static const char *health_class(const char *h)
{
	if (!strcmp(h, "ONLINE"))
		return "ok";
	if (!strcmp(h, "DEGRADED"))
		return "warn";
	return "bad";
}

static const char *cap_color(uint64_t cap)
{
	return cap >= 90 ? "#c53030" : cap >= 80 ? "#d69e2e" : "#38a169";
}

static void capacity_bar(struct buf *o, uint64_t cap)
{
	uint64_t w = cap > 100 ? 100 : cap;
	buf_addf(o,
	         "<svg class=\"cap\" width=\"160\" height=\"14\" role=\"img\" "
	         "aria-label=\"%llu%% used\"><rect width=\"160\" height=\"14\" rx=\"3\" "
	         "fill=\"#e4e7ec\"/><rect width=\"%llu\" height=\"14\" rx=\"3\" fill=\"%s\"/>"
	         "<line x1=\"128\" y1=\"0\" x2=\"128\" y2=\"14\" stroke=\"#0004\"/></svg> %llu%%",
	         (unsigned long long)cap, (unsigned long long)(w * 160 / 100), cap_color(cap),
	         (unsigned long long)cap);
}

static const struct ui_series *series_of(const struct ui_series_set *set, const char *key)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i].key, key))
			return &set->s[i];
	return NULL;
}

/* A series over the history range as a line in a 160x28 box, values
 * 0..top on a fixed scale (so a flat line at 95 % looks as full as it is,
 * and an age line at the top means older than top); what says what it is. */
static void sparkline(struct buf *o, const struct ui_history *h, const struct ui_series *s,
                      double top, const char *what)
{
	const double W = 160, H = 28;
	double span = (double)(h->end - h->start);
	if (!s || s->n < 2 || span <= 0 || top <= 0) {
		buf_adds(o, "<span class=\"sub\">-</span>");
		return;
	}
	struct buf range = BUF_INIT;
	fmt_age(&range, (int64_t)span);
	html(o,
	     "<svg class=\"spark\" width=\"160\" height=\"28\" role=\"img\" aria-label=\"%s over "
	     "the last %s\">",
	     what, range.s);
	buf_free(&range);
	buf_adds(o, "<rect width=\"160\" height=\"28\" fill=\"#f0f2f5\"/><polyline fill=\"none\" "
	            "stroke=\"#2b6cb0\" stroke-width=\"1.5\" points=\"");
	for (size_t i = 0; i < s->n; i++) {
		double x = (s->t[i] - (double)h->start) / span * W;
		double v = s->v[i] < 0 ? 0 : s->v[i] > top ? top : s->v[i];
		x = x < 0 ? 0 : x > W ? W : x;
		buf_addf(o, "%s%.1f,%.1f", i ? " " : "", x, H - 1 - v / top * (H - 2));
	}
	buf_addf(o, "\"/></svg>");
}

/* The age line's top: the amber threshold, or the oldest age shown. */
static double age_top(const struct ui_series *s)
{
	double top = (double)UI_BACKUP_OLD;
	for (size_t i = 0; s && i < s->n; i++)
		if (s->v[i] > top)
			top = s->v[i];
	return top;
}

static void pools(struct buf *o, const struct view *v, const struct ui_history *hist)
{
	buf_adds(o, "<h2>Pools</h2>\n");
	if (!v->pools.n) {
		buf_adds(o, "<p class=\"sub\">no pools</p>\n");
		return;
	}
	buf_adds(o, "<table id=\"pools\"><tr><th>pool</th><th>health</th><th>capacity</th>");
	if (hist)
		buf_adds(o, "<th>history</th>");
	buf_adds(o, "<th>size</th><th>available</th><th>frag</th><th>last scan</th><th>errors</th>"
	            "</tr>\n");
	for (size_t i = 0; i < v->pools.n; i++) {
		const struct view_pool *p = &v->vpools[i];
		const struct zpool *z = p->zp;
		bool errs = view_pool_has_errors(p);
		html(o, "<tr class=\"pool\" data-pool=\"%s\"><td>%s</td><td>", z->name, z->name);
		badge(o, health_class(z->health), z->health);
		buf_adds(o, "</td><td>");
		capacity_bar(o, z->capacity);
		if (hist) {
			buf_adds(o, "</td><td>");
			sparkline(o, hist, series_of(&hist->pools, z->name), 100, "capacity");
		}
		buf_adds(o, "</td><td class=\"n\">");
		human(o, z->size);
		buf_adds(o, "</td><td class=\"n\">");
		human(o, p->dataset_available != ZFS_NONE ? p->dataset_available : z->free);
		buf_adds(o, "</td><td class=\"n\">");
		if (z->fragmentation == ZFS_NONE)
			buf_adds(o, "-");
		else
			buf_addf(o, "%llu%%", (unsigned long long)z->fragmentation);
		buf_adds(o, "</td><td>");
		if (!strcmp(p->scan.type, "none"))
			buf_adds(o, "never");
		else
			html(o, "%s %s", p->scan.type, p->scan.state);
		if (p->scan.end) {
			buf_adds(o, " ");
			when(o, p->scan.end);
		}
		buf_adds(o, "</td><td>");
		badge(o, errs ? "bad" : "ok", errs ? "errors" : "none");
		buf_adds(o, "</td></tr>\n");
	}
	buf_adds(o, "</table>\n");
}

static void compliance(struct buf *o, const struct view *v, time_t now)
{
	bool any = false;
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		if (!d->pd->policy)
			continue;
		if (!any) {
			buf_adds(o, "<h2>Snapshot policies</h2>\n<table id=\"compliance\"><tr>"
			            "<th>dataset</th><th>policy</th>");
			for (int k = 0; k < ZK_N_INTERVALS; k++)
				buf_addf(o, "<th>%s</th>", zk_interval_names[k]);
			buf_adds(o, "<th>newest</th></tr>\n");
		}
		any = true;
		html(o, "<tr class=\"dataset\" data-dataset=\"%s\"><td>%s</td><td>%s</td>",
		     d->pd->obj->name, d->pd->obj->name, d->pd->policy->name);
		for (int k = 0; k < ZK_N_INTERVALS; k++) {
			const struct policy_compliance *c = &d->comp[k];
			struct buf t = BUF_INIT;
			buf_adds(o, "<td>");
			if (c->retention <= 0) {
				badge(o, "off", "-");
			} else {
				buf_addf(&t, "%u/%d%s", c->count, c->retention,
				         c->fresh ? "" : " stale");
				badge(o, c->compliant ? "ok" : c->fresh ? "warn" : "bad", t.s);
			}
			buf_free(&t);
			buf_adds(o, "</td>");
		}
		buf_adds(o, "<td>");
		fmt_age(o, d->newest_snapshot == ZFS_NONE
		               ? -1
		               : (int64_t)now - (int64_t)d->newest_snapshot);
		buf_adds(o, d->newest_snapshot == ZFS_NONE ? "" : " ago");
		buf_adds(o, "</td></tr>\n");
	}
	if (any)
		buf_adds(o, "</table>\n");
}

static void backups(struct buf *o, const struct view *v, const struct ui_history *hist, time_t now)
{
	buf_adds(o, "<h2>Backups</h2>\n");
	if (!v->n_backups) {
		buf_adds(o, "<p class=\"sub\">no run records</p>\n");
		return;
	}
	buf_adds(o, "<table id=\"backups\"><tr><th>job</th><th>kind</th><th>source</th>"
	            "<th>target</th><th>last result</th><th>last success</th>");
	if (hist)
		buf_adds(o, "<th>age history</th>");
	buf_adds(o, "<th>newest snapshot</th><th>bytes</th></tr>\n");
	for (size_t i = 0; i < v->n_backups; i++) {
		const struct view_backup *b = &v->backups[i];
		int64_t age = b->last_success ? (int64_t)now - b->last_success : -1;
		const char *acls = age < 0                 ? "bad"
		                   : age > UI_BACKUP_STALE ? "bad"
		                   : age > UI_BACKUP_OLD   ? "warn"
		                                           : "ok";
		html(
		    o,
		    "<tr class=\"backup\" data-job=\"%s\" data-source=\"%s\"><td>%s</td><td>%s</td>"
		    "<td>%s:%s</td><td>%s</td><td>",
		    b->job, b->source, b->job, b->kind, b->source_host, b->source, b->target);
		badge(o, view_backup_ok(b) ? "ok" : "bad", b->result);
		if (b->resume_pending)
			buf_adds(o, " <span class=\"sub\">resumable</span>");
		if (b->error)
			html(o, "<div class=\"err\">%s</div>", b->error);
		buf_adds(o, "</td><td>");
		{
			struct buf a = BUF_INIT;
			if (age >= 0) {
				fmt_age(&a, age);
				buf_adds(&a, " ago");
			} else {
				buf_adds(&a, "never");
			}
			badge(o, acls, a.s);
			buf_free(&a);
		}
		buf_adds(o, " <span class=\"sub\">");
		when(o, b->last_success);
		buf_adds(o, "</span></td><td>");
		if (hist) {
			const struct ui_series *s = series_of(&hist->backups, b->target);
			sparkline(o, hist, s, age_top(s), "age of the last success");
			buf_adds(o, "</td><td>");
		}
		if (b->newest_name) {
			html(o, "%s <span class=\"sub\">(", b->newest_name);
			fmt_age(o, b->newest_creation ? (int64_t)now - b->newest_creation : -1);
			buf_adds(o, " old)</span>");
		} else {
			buf_adds(o, "-");
		}
		buf_adds(o, "</td><td class=\"n\">");
		human(o, b->bytes < 0 ? ZFS_NONE : (uint64_t)b->bytes);
		buf_adds(o, "</td></tr>\n");
	}
	buf_adds(o, "</table>\n");
}

static void locks_and_warnings(struct buf *o, const struct view *v)
{
	bool any = false;
	for (size_t i = 0; i < v->n_locks; i++) {
		const struct view_lock *l = &v->locks[i];
		if (!l->held)
			continue;
		if (!any)
			buf_adds(o, "<h2>Locks held</h2>\n<ul id=\"locks\">");
		any = true;
		html(o, "<li>%s %s", l->kind, l->host);
		buf_addf(o, " by pid %d since ", (int)l->pid);
		when(o, l->since);
		buf_adds(o, "</li>");
	}
	if (any)
		buf_adds(o, "</ul>\n");
	if (v->warnings.n) {
		buf_adds(o, "<h2>Collection warnings</h2>\n<ul id=\"warnings\">");
		for (size_t i = 0; i < v->warnings.n; i++)
			html(o, "<li>%s</li>", v->warnings.v[i]);
		buf_adds(o, "</ul>\n");
	}
}

/* What needs a human, at the top of the page. */
static void attention(struct buf *o, const struct view *v, time_t now)
{
	struct buf a = BUF_INIT;
	size_t n = 0;
	for (size_t i = 0; i < v->pools.n; i++) {
		const struct zpool *z = v->vpools[i].zp;
		if (strcmp(z->health, "ONLINE") || view_pool_has_errors(&v->vpools[i]) ||
		    z->capacity >= 80) {
			html(&a, "<li>pool %s: %s", z->name, z->health);
			buf_addf(&a, ", %llu%% full%s</li>", (unsigned long long)z->capacity,
			         view_pool_has_errors(&v->vpools[i]) ? ", errors" : "");
			n++;
		}
	}
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		bool bad = false;
		for (int k = 0; d->pd->policy && k < ZK_N_INTERVALS; k++)
			bad |= d->comp[k].retention > 0 && !d->comp[k].compliant;
		if (bad) {
			html(&a, "<li>snapshots of %s are short of policy %s</li>",
			     d->pd->obj->name, d->pd->policy->name);
			n++;
		}
	}
	for (size_t i = 0; i < v->ix.missing.n; i++) {
		html(&a, "<li>%s is in the config but does not exist</li>", v->ix.missing.v[i]);
		n++;
	}
	for (size_t i = 0; i < v->n_backups; i++) {
		const struct view_backup *b = &v->backups[i];
		bool stale = !b->last_success || now - b->last_success > UI_BACKUP_STALE;
		if (view_backup_ok(b) && !stale)
			continue;
		if (view_backup_ok(b))
			html(&a, "<li>backup %s of %s: no success for days</li>", b->job,
			     b->source);
		else
			html(&a, "<li>backup %s of %s: last run %s</li>", b->job, b->source,
			     b->result);
		n++;
	}
	if (n)
		buf_addf(o,
		         "<div class=\"att\" id=\"attention\"><strong>%zu thing%s need%s "
		         "attention</strong><ul>%s</ul></div>\n",
		         n, n == 1 ? "" : "s", n == 1 ? "s" : "", a.s);
	else
		buf_adds(o, "<p id=\"attention\"><span class=\"b ok\">all good</span></p>\n");
	buf_free(&a);
}

void ui_render(const struct view *v, const struct view_status *st, const struct ui_history *hist,
               time_t now, struct buf *o)
{
	buf_adds(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
	            "<meta http-equiv=\"refresh\" content=\"60\"><title>zkeep: ");
	html(o, "%s</title><style>", v ? v->hostname : "no data");
	buf_adds(o, css);
	html(o, "</style></head><body>\n<h1>%s</h1>\n<p class=\"sub\">", v ? v->hostname : "zkeep");
	if (v) {
		buf_addf(o, "OpenZFS %d.%d.%d &middot; collected ", v->caps.major, v->caps.minor,
		         v->caps.patch);
		when(o, v->collected);
		buf_adds(o, " (");
		fmt_age(o, (int64_t)now - v->collected);
		buf_adds(o, " ago)");
	} else {
		buf_adds(o, "nothing collected yet");
	}
	if (st && !st->last_ok && st->last_attempt) {
		buf_adds(o, " &middot; <span class=\"b bad\">last collection failed</span> ");
		ui_escape(o, st->last_error);
	}
	buf_adds(o, " &middot; zkeep " ZKEEP_VERSION "</p>\n");
	if (v) {
		attention(o, v, now);
		pools(o, v, hist);
		compliance(o, v, now);
		backups(o, v, hist, now);
		locks_and_warnings(o, v);
	}
	buf_adds(o, "<p class=\"sub\">JSON: <a href=\"/api/v1/pools\">/api/v1/pools</a>, "
	            "<a href=\"/api/v1/snapshots\">/api/v1/snapshots</a>, "
	            "<a href=\"/api/v1/backups\">/api/v1/backups</a>, "
	            "<a href=\"/metrics\">/metrics</a></p>\n</body></html>\n");
}
