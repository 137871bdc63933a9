/*
 * The api's HTTP side: request routing and query parsing (pure, fuzzed),
 * and the server (libmicrohttpd, its own threads) with auth, limits and
 * /metrics. What the other routes answer is the handler's (struct
 * http_opts), lib/api's api_serve in zkeep api: http knows no endpoint.
 *
 * Limits, so one client cannot hurt the others or the host:
 *  - requests whose headers do not fit HTTP_CONN_MEMORY are refused by
 *    libmicrohttpd (431/413); URLs longer than HTTP_URL_MAX get 414;
 *  - a connection whose request is not complete request_deadline seconds
 *    after it was accepted (or after its previous response) is shut down,
 *    however steadily it dribbles bytes (slowloris: libmicrohttpd's own
 *    timeout, HTTP_CONN_TIMEOUT, counts idle time only and still ends an
 *    idle response); at most HTTP_MAX_CONNS connections, HTTP_MAX_PER_IP
 *    per client address;
 *  - only GET and HEAD (405 with Allow otherwise; OPTIONS only as a CORS
 *    preflight when CORS is configured); request bodies are never read.
 * Every error is JSON: {"detail": "..."} with the proper status.
 *
 * Auth: when a key is configured, every path but /api/v1/health needs the
 * X-API-Key header, compared in time independent of where it differs; a
 * missing or wrong key is a 401 JSON error, logged with the client address
 * and path, never the key.
 */
#ifndef ZK_HTTP_H
#define ZK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "ui.h"
#include "view.h"

#define HTTP_URL_MAX          4096
#define HTTP_CONN_MEMORY      (32 * 1024)
#define HTTP_CONN_TIMEOUT     15
#define HTTP_REQUEST_DEADLINE 10
#define HTTP_MAX_CONNS        256
#define HTTP_MAX_PER_IP       32
#define HTTP_LINES_DEFAULT    100
#define HTTP_LINES_MAX        1000
#define HTTP_STREAM_BLOCK     ((size_t)64 * 1024) /* a streamed body is written in pieces of this */

enum http_route_id {
	ROUTE_NONE = 0,
	ROUTE_ROOT,
	ROUTE_HEALTH,
	ROUTE_OPENAPI,
	ROUTE_DOCS, /* /api/docs and /api/redoc: the document as an HTML page */
	ROUTE_METRICS,
	ROUTE_POOLS,
	ROUTE_POOL,
	ROUTE_POOL_STATUS,
	ROUTE_POOL_IOSTAT,
	ROUTE_DATASETS,
	ROUTE_DATASET,
	ROUTE_DATASET_SNAPSHOTS,
	ROUTE_SNAPSHOTS,
	ROUTE_SNAPSHOTS_ALL,
	ROUTE_SNAPSHOTS_DATASET,
	ROUTE_BACKUPS,
	ROUTE_BACKUP_LOGS,
	ROUTE_BACKUP_LOG,
	ROUTE_UI, /* /ui and /ui/: the HTML status page (lib/ui.h) */
};

struct http_route {
	enum http_route_id id;
	char *arg; /* the pool, dataset or file named in the path (owned), or NULL */
};

/* Routes a decoded path (no query string). Returns 0 with r filled, or
 * -ENOENT for a path no route takes. /api/v1/datasets/X/snapshots is the
 * snapshots of X (the handler falls back to the dataset "X/snapshots"
 * when X has no such route target but that dataset exists). One trailing
 * slash is ignored. */
int http_route_parse(const char *path, struct http_route *r);
void http_route_free(struct http_route *r);
/* Whether the route serves data from the view (503 until the first
 * collection) and whether it needs the key when auth is on. */
bool http_route_needs_view(enum http_route_id id);
bool http_route_needs_auth(enum http_route_id id);

/* ?lines=N as the seed reads it: NULL gives HTTP_LINES_DEFAULT; an integer
 * (optional sign, any size) is clamped to 1..HTTP_LINES_MAX; anything else
 * is -EINVAL (the seed's 422). */
int http_parse_lines(const char *s, int *out);
/* A log file name: one path component, no leading dot, printable, short. */
bool http_log_name_ok(const char *name);
/* Constant-time in the content of want: only given's length shows. */
bool http_key_equal(const char *given, const char *want);
/* origins: comma/space separated list or "*". */
bool http_origin_allowed(const char *origins, const char *origin);
/* Whether an Accept-Encoding value admits gzip: "gzip" or "x-gzip" with a
 * weight above zero, or "*" with one when gzip is not named (RFC 9110
 * 12.5.3). NULL (no header) or anything malformed: identity only. */
bool http_accepts_gzip(const char *accept_encoding);

/* What a handler answers with. */
struct http_response {
	int status;
	const char *content_type;
	struct buf body;
	const char *location; /* a redirect's Location (static), or NULL */
	/* When set (owned), the body is this instead of body: read as the
	 * client reads it with stream_read (0 at its end), then freed with
	 * stream_free, in libmicrohttpd's threads. */
	void *stream;
	int retry_after; /* seconds for a Retry-After header, or 0 */
	size_t (*stream_read)(void *stream, char *out, size_t max);
	void (*stream_free)(void *stream);
	/* When shared is set, the body is these bytes instead of body, sent
	 * without a copy: a body rendered once per view (view_body). They stay
	 * valid until shared_free(shared_cls) is called (NULL: static), once
	 * the response is sent, or by the caller when it was not queued. */
	const char *shared;
	size_t shared_len;
	void (*shared_free)(void *cls);
	void *shared_cls;
};

/* A JSON error body {"detail": msg} (FastAPI's HTTPException). */
void http_error(struct http_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A routed request, authorised, as the handler gets it. */
struct http_request {
	const struct http_route *route;
	const struct view *v;          /* NULL before the first collection */
	const struct view_status *st;  /* the collector's */
	const struct history *history; /* /ui/'s sparklines, or NULL */
	const char *accept;            /* the Accept header, or NULL */
	const char *lines;             /* ?lines=, or NULL */
	struct timespec now;           /* CLOCK_REALTIME when it came */
};

/* Fills res (status 500 and an empty body until it says otherwise) for
 * rq. Called from libmicrohttpd's threads, several at once. */
typedef void http_handler_fn(void *cls, const struct http_request *rq, struct http_response *res);

struct http_opts {
	const char *host; /* address or name to listen on */
	int port;
	const char *api_key; /* NULL: no auth */
	const char *cors_origins;
	const char *hostname;
	unsigned threads;
	struct view_holder *views;
	struct history_holder *history; /* /ui/'s sparklines; may be NULL */
	int request_deadline;           /* seconds; 0: HTTP_REQUEST_DEADLINE */
	const char *tls_cert, *tls_key; /* PEM text: HTTPS (GnuTLS), or NULL */
	http_handler_fn *handler;       /* every route but /metrics */
	void *handler_cls;
};

struct http_server;

/* Binds and starts serving in libmicrohttpd's threads, and a thread that
 * enforces the request deadline. */
int http_start(const struct http_opts *o, struct http_server **out, struct zerr *e);
void http_stop(struct http_server *s); /* NULL is fine */

#endif
