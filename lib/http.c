/* Routing, the server (libmicrohttpd), auth, limits and /metrics; the
 * other routes' answers come from the handler (http.h). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "dl.h"
#include "log.h"
#include "metrics.h"
#include "xalloc.h"
#include "banned.h"

/* ---- routing ---------------------------------------------------------- */

static const struct {
	const char *path;
	enum http_route_id id;
} exact[] = {
    {"/", ROUTE_ROOT},
    {"/api/v1/health", ROUTE_HEALTH},
    {"/api/openapi.json", ROUTE_OPENAPI},
    {"/api/docs", ROUTE_DOCS},
    {"/api/redoc", ROUTE_DOCS},
    {"/metrics", ROUTE_METRICS},
    {"/api/v1/pools", ROUTE_POOLS},
    {"/api/v1/datasets", ROUTE_DATASETS},
    {"/api/v1/snapshots", ROUTE_SNAPSHOTS},
    {"/api/v1/snapshots/_all", ROUTE_SNAPSHOTS_ALL},
    {"/api/v1/backups", ROUTE_BACKUPS},
    {"/api/v1/backups/logs", ROUTE_BACKUP_LOGS},
    {"/ui", ROUTE_UI},
};

static bool has_prefix(const char *s, size_t len, const char *p, size_t *rest)
{
	size_t n = strlen(p);
	if (len <= n || strncmp(s, p, n))
		return false;
	*rest = n;
	return true;
}

static int found(struct http_route *r, enum http_route_id id, const char *arg, size_t len)
{
	r->id = id;
	r->arg = arg ? xstrndup(arg, len) : NULL;
	return 0;
}

int http_route_parse(const char *path, struct http_route *r)
{
	r->id = ROUTE_NONE;
	r->arg = NULL;
	if (!path || path[0] != '/')
		return -ENOENT;
	size_t len = strlen(path), off;
	if (len > HTTP_URL_MAX)
		return -ENOENT;
	if (len > 1 && path[len - 1] == '/')
		len--;
	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i].path) == len && !strncmp(exact[i].path, path, len))
			return found(r, exact[i].id, NULL, 0);
	if (has_prefix(path, len, "/ui/", &off))
		return found(r, ROUTE_UI, path + off, len - off);
	if (has_prefix(path, len, "/api/v1/pools/", &off)) {
		const char *a = path + off;
		size_t n = len - off;
		const char *slash = memchr(a, '/', n);
		if (!slash)
			return found(r, ROUTE_POOL, a, n);
		size_t pl = (size_t)(slash - a), tl = n - pl - 1;
		if (!pl)
			return -ENOENT;
		if (tl == 6 && !strncmp(slash + 1, "status", 6))
			return found(r, ROUTE_POOL_STATUS, a, pl);
		if (tl == 6 && !strncmp(slash + 1, "iostat", 6))
			return found(r, ROUTE_POOL_IOSTAT, a, pl);
		return -ENOENT;
	}
	if (has_prefix(path, len, "/api/v1/datasets/", &off)) {
		const char *a = path + off;
		size_t n = len - off;
		if (a[0] == '/')
			return -ENOENT;
		if (n > 10 && !strncmp(a + n - 10, "/snapshots", 10))
			return found(r, ROUTE_DATASET_SNAPSHOTS, a, n - 10);
		return found(r, ROUTE_DATASET, a, n);
	}
	if (has_prefix(path, len, "/api/v1/snapshots/", &off)) {
		if (path[off] == '/')
			return -ENOENT;
		return found(r, ROUTE_SNAPSHOTS_DATASET, path + off, len - off);
	}
	if (has_prefix(path, len, "/api/v1/backups/logs/", &off)) {
		if (memchr(path + off, '/', len - off))
			return -ENOENT;
		return found(r, ROUTE_BACKUP_LOG, path + off, len - off);
	}
	return -ENOENT;
}

void http_route_free(struct http_route *r)
{
	free(r->arg);
	r->arg = NULL;
}

bool http_route_needs_view(enum http_route_id id)
{
	switch (id) {
	case ROUTE_POOLS:
	case ROUTE_POOL:
	case ROUTE_POOL_STATUS:
	case ROUTE_POOL_IOSTAT:
	case ROUTE_DATASETS:
	case ROUTE_DATASET:
	case ROUTE_DATASET_SNAPSHOTS:
	case ROUTE_SNAPSHOTS:
	case ROUTE_SNAPSHOTS_ALL:
	case ROUTE_SNAPSHOTS_DATASET:
	case ROUTE_BACKUPS:
		return true;
	default:
		return false;
	}
}

bool http_route_needs_auth(enum http_route_id id)
{
	return id != ROUTE_HEALTH;
}

int http_parse_lines(const char *s, int *out)
{
	if (!s) {
		*out = HTTP_LINES_DEFAULT;
		return 0;
	}
	const char *d = s + (*s == '+' || *s == '-');
	size_t n = strlen(d);
	if (!n || strspn(d, "0123456789") != n)
		return -EINVAL;
	/* clamped, as the seed does, however large the number */
	d += strspn(d, "0");
	size_t len = strlen(d);
	long v = len > 9 ? HTTP_LINES_MAX + 1 : strtol(d, NULL, 10);
	if (*s == '-' || v < 1)
		*out = 1;
	else
		*out = v > HTTP_LINES_MAX ? HTTP_LINES_MAX : (int)v;
	return 0;
}

bool http_log_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 255 || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\')
			return false;
	}
	return true;
}

bool http_key_equal(const char *given, const char *want)
{
	size_t gl = strlen(given), wl = strlen(want);
	/* walk given's length whatever want is, so timing shows no prefix */
	volatile unsigned char diff = gl != wl;
	for (size_t i = 0; i < gl; i++)
		diff |= (unsigned char)given[i] ^ (unsigned char)(wl ? want[i % wl] : 0);
	return wl > 0 && diff == 0;
}

bool http_origin_allowed(const char *origins, const char *origin)
{
	if (!origins || !origin || !*origin)
		return false;
	size_t ol = strlen(origin);
	const char *p = origins;
	while (*p) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if ((n == 1 && *p == '*') || (n == ol && !strncmp(p, origin, n)))
			return true;
		p += n;
	}
	return false;
}

/* A weight (RFC 9110 12.4.2: "0" or "1" with up to three decimals) above
 * zero; a malformed one counts as zero, so it never enables an encoding. */
static bool weight_nonzero(const char *q, size_t n)
{
	if (n == 0 || (q[0] != '0' && q[0] != '1') || n > 5 || (n > 1 && q[1] != '.'))
		return false;
	bool frac = false;
	for (size_t i = 2; i < n; i++) {
		if (q[i] < '0' || q[i] > '9' || (q[0] == '1' && q[i] != '0'))
			return false;
		frac |= q[i] != '0';
	}
	return q[0] == '1' || frac;
}

#define OWS " \t"

bool http_accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1; /* not named, or whether its weight admits it */
	const char *p = ae;
	while (p && *p) {
		size_t n = strcspn(p, ","); /* one element: coding *( ";" param ) */
		const char *end = p + n, *c = p + strspn(p, OWS);
		size_t cl = strcspn(c, ";," OWS);
		bool ok = true;
		for (const char *q = c + cl; q < end && (q = memchr(q, ';', (size_t)(end - q)));) {
			q++;
			q += strspn(q, OWS);
			if ((*q == 'q' || *q == 'Q') && q[1] == '=')
				ok = weight_nonzero(q + 2, strcspn(q + 2, ";," OWS));
		}
		if ((cl == 4 && !strncasecmp(c, "gzip", 4)) ||
		    (cl == 6 && !strncasecmp(c, "x-gzip", 6)))
			gzip = ok;
		else if (cl == 1 && *c == '*')
			star = ok;
		p = *end ? end + 1 : end;
	}
	return gzip >= 0 ? gzip == 1 : star == 1;
}

void http_error(struct http_response *res, int status, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	res->status = status;
	res->content_type = "application/json";
	buf_reset(&res->body);
	buf_adds(&res->body, "{\"detail\":");
	buf_add_json_str(&res->body, msg.s, msg.len);
	buf_adds(&res->body, "}");
	buf_free(&msg);
}

/* ---- the server ------------------------------------------------------- */

/* One accepted connection, from libmicrohttpd's "started" notification to
 * its "closed" one (the socket is closed after that: while an entry is in
 * the list, under the lock, its fd is the connection's). */
struct conn {
	int fd;
	struct timespec since; /* accepted, or its previous response done */
	bool busy;             /* a request is in (headers complete): served */
	bool cut;              /* shut down by the sweeper */
	struct conn *prev, *next;
};

struct http_server {
	struct MHD_Daemon *d;
	struct http_opts o;
	char *api_key, *cors, *hostname;
	pthread_mutex_t mu; /* conns, stop */
	pthread_cond_t cv;
	struct conn *conns;
	bool stop, sweeping;
	pthread_t sweeper;
	long deadline_ms;
};

static long ms_since(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L + (now.tv_nsec - t->tv_nsec) / 1000000L;
}

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *s = cls;
	pthread_mutex_lock(&s->mu);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    sym_MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		struct conn *n = xcalloc(1, sizeof(*n));
		n->fd = ci ? ci->connect_fd : -1;
		clock_gettime(CLOCK_MONOTONIC, &n->since);
		n->next = s->conns;
		if (s->conns)
			s->conns->prev = n;
		s->conns = n;
		*socket_context = n;
	} else if (*socket_context) {
		struct conn *n = *socket_context;
		if (n->prev)
			n->prev->next = n->next;
		else
			s->conns = n->next;
		if (n->next)
			n->next->prev = n->prev;
		free(n);
		*socket_context = NULL;
	}
	pthread_mutex_unlock(&s->mu);
}

static struct conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    sym_MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* A response is done: the next request on this connection has its own
 * deadline. */
static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	(void)con_cls;
	(void)toe;
	pthread_mutex_lock(&s->mu);
	struct conn *n = conn_of(c);
	if (n) {
		n->busy = false;
		clock_gettime(CLOCK_MONOTONIC, &n->since);
	}
	pthread_mutex_unlock(&s->mu);
}

/* Every 200 ms: shut down the connections still without a whole request
 * after the deadline. shutdown(2), not close: libmicrohttpd owns the fd,
 * sees the end of the stream and closes it in its own thread. */
static void *sweep(void *arg)
{
	struct http_server *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		for (struct conn *n = s->conns; n; n = n->next)
			if (!n->busy && !n->cut && n->fd >= 0 &&
			    ms_since(&n->since) > s->deadline_ms) {
				shutdown(n->fd, SHUT_RDWR);
				n->cut = true;
				log_debug(
				    "http: request deadline (%ld ms) passed: connection closed",
				    s->deadline_ms);
			}
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += 200 * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->cv, &s->mu, &t);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void client_addr(struct MHD_Connection *c, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    sym_MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, len, "?");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
		          (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          out, (socklen_t)len);
}

/* A handler's streamed body, handed to libmicrohttpd. */
struct body_stream {
	void *stream;
	size_t (*read)(void *stream, char *out, size_t max);
	void (*free)(void *stream);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct body_stream *b = cls;
	(void)pos;
	size_t n = b->read(b->stream, out, max);
	return n ? (ssize_t)n : (ssize_t)MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
	struct body_stream *b = cls;
	b->free(b->stream);
	free(b);
}

/* /metrics: the view's families are rendered once per collection and sent
 * from the view itself, held by a reference until the response is done;
 * only the collector's lines (the view's age) are written per request.
 * Scrapers that take gzip (Prometheus and VictoriaMetrics ask for it) get
 * the view's gzipped families, compressed once per collection, and the
 * collector's lines appended to that gzip member (lib/gz.h). */
struct metrics_resp {
	struct view *v; /* referenced; NULL before the first collection */
	bool gzip;      /* the body is v->metrics_gz.z and then tail */
	struct buf tail;
};

static void metrics_resp_free(void *cls)
{
	struct metrics_resp *m = cls;
	if (!m)
		return;
	view_put(m->v);
	buf_free(&m->tail);
	free(m);
}

/* Queues res, or *mr (taken over when it is set) for /metrics. */
static enum MHD_Result respond(struct http_server *s, struct MHD_Connection *c,
                               struct http_response *res, bool allow, struct metrics_resp **mr)
{
	struct MHD_Response *r;
	if (*mr) {
		const struct view *v = (*mr)->v;
		bool gzip = (*mr)->gzip;
		const struct buf *head = !v ? NULL : gzip ? &v->metrics_gz.z : &v->metrics;
		struct MHD_IoVec iov[2] = {{head ? head->s : NULL, head ? head->len : 0},
		                           {(*mr)->tail.s, (*mr)->tail.len}};
		r = sym_MHD_create_response_from_iovec(head ? iov : iov + 1, head ? 2 : 1,
		                                       metrics_resp_free, *mr);
		if (!r)
			return MHD_NO; /* the caller frees *mr */
		*mr = NULL;
		/* caches must not give one scraper's encoding to another */
		sym_MHD_add_response_header(r, "Vary", "Accept-Encoding");
		if (gzip)
			sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	} else if (res->shared) { /* a body rendered once per view: no copy */
		struct MHD_IoVec iov = {res->shared, res->shared_len};
		r = sym_MHD_create_response_from_iovec(&iov, 1, res->shared_free, res->shared_cls);
		if (!r)
			return MHD_NO; /* the caller releases it */
		res->shared = NULL;
		res->shared_free = NULL;
	} else if (res->stream) { /* chunked, written as the client reads */
		struct body_stream *b = xmalloc(sizeof(*b));
		*b = (struct body_stream){res->stream, res->stream_read, res->stream_free};
		r = sym_MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, HTTP_STREAM_BLOCK,
		                                          stream_read, b, stream_free);
		if (!r) {
			free(b);
			return MHD_NO; /* the caller frees the stream */
		}
		res->stream = NULL;
	} else {
		size_t len;
		char *body = buf_detach(&res->body, &len);
		r = sym_MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
		if (!r) {
			free(body);
			return MHD_NO;
		}
	}
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
	sym_MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	sym_MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (!strncmp(res->content_type, "text/html",
	             9)) /* the page: no scripts, nothing from outside */
		sym_MHD_add_response_header(r, "Content-Security-Policy",
		                            "default-src 'none'; style-src 'unsafe-inline'; "
		                            "frame-ancestors 'none'");
	if (res->location)
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, res->location);
	if (res->retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", res->retry_after);
		sym_MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	const char *origin = sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	if (s->cors && http_origin_allowed(s->cors, origin)) {
		sym_MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
		sym_MHD_add_response_header(r, "Vary", "Origin");
	}
	enum MHD_Result ret = sym_MHD_queue_response(c, (unsigned)res->status, r);
	sym_MHD_destroy_response(r);
	return ret;
}

/* The request is whole: its connection's deadline is met, so the sweep
 * leaves it alone while the answer is made and sent. */
static void conn_mark_busy(struct http_server *s, struct MHD_Connection *c)
{
	pthread_mutex_lock(&s->mu);
	struct conn *cn = conn_of(c);
	if (cn)
		cn->busy = true;
	pthread_mutex_unlock(&s->mu);
}

/* A CORS preflight (OPTIONS, with [api] cors set): an empty 204, with the
 * Access-Control headers only for an allowed origin, so a browser page
 * elsewhere can send X-API-Key and nothing else. */
static enum MHD_Result preflight(const struct http_server *s, struct MHD_Connection *c)
{
	const char *origin = sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	struct MHD_Response *pr =
	    sym_MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!pr)
		return MHD_NO;
	if (http_origin_allowed(s->cors, origin)) {
		sym_MHD_add_response_header(pr, "Access-Control-Allow-Origin", origin);
		sym_MHD_add_response_header(pr, "Access-Control-Allow-Methods", "GET, HEAD");
		sym_MHD_add_response_header(pr, "Access-Control-Allow-Headers", "X-API-Key");
		sym_MHD_add_response_header(pr, "Access-Control-Max-Age", "600");
		sym_MHD_add_response_header(pr, "Vary", "Origin");
	}
	enum MHD_Result ret = sym_MHD_queue_response(c, MHD_HTTP_NO_CONTENT, pr);
	sym_MHD_destroy_response(pr);
	return ret;
}

/* The checks every request passes before anything is read for it: method,
 * URL length, route, API key. Returns false with res filled (and *allow
 * set for a 405) when one fails; r is parsed when the route is known. */
static bool request_admitted(const struct http_server *s, struct MHD_Connection *c,
                             const char *method, const char *url, const char *addr,
                             struct http_route *r, struct http_response *res, bool *allow)
{
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		/* the seed's (Starlette's) text; the Allow header says what is */
		http_error(res, 405, "Method Not Allowed");
		*allow = true;
		return false;
	}
	if (strlen(url) > HTTP_URL_MAX) {
		http_error(res, 414, "URL too long");
		return false;
	}
	if (http_route_parse(url, r) < 0) {
		http_error(res, 404, "Not Found"); /* the seed's (Starlette's) text */
		return false;
	}
	if (s->api_key && http_route_needs_auth(r->id)) {
		const char *key = sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-API-Key");
		if (!key || !http_key_equal(key, s->api_key)) {
			log_warn("401 %s %s from %s: %s API key", method, url, addr,
			         key ? "wrong" : "no");
			http_error(res, 401, "%s", key ? "invalid API key" : "missing API key");
			return false;
		}
	}
	return true;
}

/* /metrics's answer: a reference to the view's rendered families and the
 * collector's lines made now; gzipped when the scraper takes it and the
 * view has its families compressed (see struct metrics_resp). */
static struct metrics_resp *metrics_answer(const struct http_server *s, struct MHD_Connection *c,
                                           struct view *v, const struct view_status *st, time_t now)
{
	struct metrics_resp *mr = xcalloc(1, sizeof(*mr));
	mr->v = view_ref(v);
	buf_init(&mr->tail);
	metrics_render_collector(&mr->tail, s->hostname, st, v, now);
	if (v && v->metrics_gz.z.len &&
	    http_accepts_gzip(sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                                      MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
		struct buf plain = mr->tail;
		buf_init(&mr->tail);
		gz_finish(&v->metrics_gz, plain.s, plain.len, &mr->tail);
		buf_free(&plain);
		mr->gzip = true;
	}
	return mr;
}

/* An admitted request's answer, from the current view: /metrics here
 * (into *mr), every other route from the handler zkeep api gave (into
 * res). The view (and the sparklines' history, for /ui/) are held only
 * while the answer is made; *mr holds its own reference. */
static void answer(struct http_server *s, struct MHD_Connection *c, const struct http_route *r,
                   struct http_response *res, struct metrics_resp **mr)
{
	struct view_status st;
	struct view *v = view_holder_get(s->o.views, &st);
	struct history *hist = NULL;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (r->id == ROUTE_METRICS) {
		*mr = metrics_answer(s, c, v, &st, ts.tv_sec);
		res->status = 200;
		res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		if (r->id == ROUTE_UI && s->o.history)
			hist = history_holder_get(s->o.history);
		struct http_request rq = {
		    r,
		    v,
		    &st,
		    hist,
		    sym_MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT),
		    sym_MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lines"),
		    ts};
		res->status = 500;
		s->o.handler(s->o.handler_cls, &rq, res);
	}
	history_put(hist);
	view_put(v);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	struct http_response res = {0, "application/json", BUF_INIT, NULL, NULL};
	struct http_route r = {ROUTE_NONE, NULL};
	char addr[64];
	struct metrics_resp *mr = NULL;
	bool allow = false;
	client_addr(c, addr, sizeof(addr));
	*upload_size = 0; /* bodies are never read: a GET has none worth reading */
	conn_mark_busy(s, c);

	if (!strcmp(method, "OPTIONS") && s->cors)
		return preflight(s, c);
	if (request_admitted(s, c, method, url, addr, &r, &res, &allow))
		answer(s, c, &r, &res, &mr);
	log_debug("%s %s from %s: %d%s", method, url, addr, res.status,
	          mr && mr->gzip ? " (gzip)" : "");
	enum MHD_Result ret = respond(s, c, &res, allow, &mr);
	buf_free(&res.body);
	/* not handed over: the response failed */
	if (res.stream)
		res.stream_free(res.stream);
	if (res.shared_free)
		res.shared_free(res.shared_cls);
	metrics_resp_free(mr);
	http_route_free(&r);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	struct buf b = BUF_INIT;
	buf_vaddf(&b, fmt, ap);
	buf_rtrim(&b);
	log_debug("http: %s", b.s);
	buf_free(&b);
}

int http_start(const struct http_opts *o, struct http_server **out, struct zerr *e)
{
	if (dl_mhd(e) < 0)
		return zerr_prefix(e, "cannot serve HTTP");
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	char port[16];
	snprintf(port, sizeof(port), "%d", o->port);
	int gr = getaddrinfo(o->host, port, &hints, &ai);
	if (gr != 0)
		return zerr_set(e, -EINVAL, "cannot resolve listen address '%s': %s", o->host,
		                gai_strerror(gr));
	struct http_server *s = xcalloc(1, sizeof(*s));
	s->o = *o;
	s->api_key = o->api_key ? xstrdup(o->api_key) : NULL;
	s->cors = o->cors_origins && *o->cors_origins ? xstrdup(o->cors_origins) : NULL;
	s->hostname = xstrdup(o->hostname);
	s->deadline_ms =
	    1000L * (o->request_deadline > 0 ? o->request_deadline : HTTP_REQUEST_DEADLINE);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* HTTPS: libmicrohttpd's GnuTLS, with the PEM text the caller read */
	struct MHD_OptionItem tls[] = {
	    {MHD_OPTION_HTTPS_MEM_CERT, 0, (void *)(uintptr_t)o->tls_cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, (void *)(uintptr_t)o->tls_key},
	    {MHD_OPTION_END, 0, NULL},
	};
	if (o->tls_cert && o->tls_key)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	s->d = sym_MHD_start_daemon(
	    flags, (uint16_t)o->port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
	    o->threads ? o->threads : 2u, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTP_CONN_TIMEOUT, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_MAX_PER_IP,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, s, MHD_OPTION_NOTIFY_COMPLETED,
	    request_completed, s, MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	int err = errno;
	freeaddrinfo(ai);
	if (!s->d) {
		/* libmicrohttpd says why only to its logger (debug level) */
		http_stop(s);
		return zerr_set(e, -(err ? err : EADDRINUSE), "cannot listen on %s:%d: %s%s",
		                o->host, o->port, strerror(err ? err : EADDRINUSE),
		                o->tls_cert ? " (or tls_cert and tls_key are not a matching PEM "
		                              "certificate and key; --debug shows more)"
		                            : "");
	}
	int pr = pthread_create(&s->sweeper, NULL, sweep, s);
	if (pr != 0) {
		http_stop(s);
		return zerr_set(e, -pr, "cannot start a thread: %s", strerror(pr));
	}
	s->sweeping = true;
	*out = s;
	return 0;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->sweeping) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->sweeper, NULL);
	}
	if (s->d)
		sym_MHD_stop_daemon(s->d);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->api_key);
	free(s->cors);
	free(s->hostname);
	free(s);
}
