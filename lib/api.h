/*
 * The api's endpoints: what each route answers, from a view; api_serve is
 * the handler lib/http calls (http below api). Pure of I/O
 * except the backup log endpoints, which read the configured log
 * directory. JSON shapes are the seed's (seed-system.md section 5): its
 * keys in its order with its types; zkeep's additions are extra fields
 * under names the seed does not use, after the seed's. docs/openapi.json
 * is the contract, docs/schema/ the same per endpoint.
 */
#ifndef ZK_API_H
#define ZK_API_H

#include <stdbool.h>
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
	/* Bodies rendered once per view are handed over without a copy
	 * (res->shared, lib/http); false: copied into res->body. */
	bool share;
};

/* A body written as the client reads it: /api/v1/snapshots/_all, every
 * snapshot of the host, which kept whole would hold the text of the whole
 * host per view (about 330 bytes a snapshot). It holds a reference to its
 * view, so a collection may swap the view meanwhile. The one-dataset lists
 * are written with the same code, once per view (view_body). */
struct api_stream;

/* A streamed body (res->stream, with res->stream_read and stream_free
 * set to these): copies the next at most max bytes into out; 0 at its
 * end. */
size_t api_stream_read(struct api_stream *s, char *out, size_t max);
void api_stream_free(struct api_stream *s); /* NULL is fine */

/* Fills res for route r; lines is the raw ?lines= value or NULL. / answers
 * the seed's JSON, or a redirect to /ui/ when c->accept prefers HTML. */
void api_handle(const struct api_ctx *c, const struct http_route *r, const char *lines,
                struct http_response *res);

/* What the handler answers from besides the request. */
struct api_site {
	const char *hostname;
	const char *log_dir; /* NULL: none configured */
};
/* lib/http's handler (http_opts.handler, cls a struct api_site that
 * outlives the server): api_handle for the request. */
void api_serve(void *cls, const struct http_request *rq, struct http_response *res);

/* The OpenAPI document built into the binary (docs/openapi.json). */
extern const char api_openapi_json[];

#endif
