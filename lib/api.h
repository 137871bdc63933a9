/*
 * The api's endpoints: what each route answers, from a view. Pure of I/O
 * except the backup log endpoints, which read the configured log
 * directory. JSON shapes are the seed's (seed-system.md section 5): its
 * keys in its order with its types; zkeep's additions are extra fields
 * under names the seed does not use, after the seed's. docs/openapi.json
 * is the contract, docs/schema/ the same per endpoint.
 */
#ifndef ZK_API_H
#define ZK_API_H

#include <time.h>

#include "buf.h"
#include "http.h"
#include "ui.h"
#include "view.h"

struct api_ctx {
	const struct view *v; /* NULL before the first collection */
	const struct view_status *st;
	const char *hostname;
	const char *log_dir; /* NULL: none configured */
	time_t now;
	const struct history *history; /* for /ui/; NULL: no sparklines */
	const char *accept;            /* the request's Accept header, or NULL */
	long now_usec;                 /* microseconds of now, for the seed's "now" times */
};

/* A body written as the client reads it: the snapshot lists, which built
 * whole would cost per request a jansson object per snapshot (at 50,000
 * snapshots, over 100 MB) and a copy of the text. It holds a reference
 * to its view, so a collection may swap the view meanwhile. */
struct api_stream;

struct api_response {
	int status;
	const char *content_type;
	struct buf body;
	const char *location;      /* a redirect's Location (static), or NULL */
	struct api_stream *stream; /* when set (owned), the body is this, not body */
	int retry_after;           /* seconds for a Retry-After header, or 0 */
};

/* Copies the next at most max bytes of the body into out; 0 at its end. */
size_t api_stream_read(struct api_stream *s, char *out, size_t max);
void api_stream_free(struct api_stream *s); /* NULL is fine */

/* Fills res for route r; lines is the raw ?lines= value or NULL. / answers
 * the seed's JSON, or a redirect to /ui/ when c->accept prefers HTML. */
void api_handle(const struct api_ctx *c, const struct http_route *r, const char *lines,
                struct api_response *res);
/* A JSON error body {"detail": msg} (FastAPI's HTTPException). */
void api_error(struct api_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The OpenAPI document built into the binary (docs/openapi.json). */
extern const char api_openapi_json[];

#endif
