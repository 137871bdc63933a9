/*
 * The history behind /ui/'s sparklines: the pools' capacity and the
 * backups' age over the last history range, asked of a VictoriaMetrics (or
 * any Prometheus-compatible store) at `[api] history_url` through its
 * /api/v1/query_range, with libcurl, and parsed with jansson.
 *
 * Owns: which URLs the client takes (history_url_check, also config's check
 * of history_url, so config accepts exactly what the fetch can use), the
 * two queries, the client's limits, the answer's parsing into series, and
 * the reference-counted history and its holder.
 *
 * The client: plain http:// only (https, user info, a query or a fragment
 * in the base URL are refused), no proxy from the environment, no
 * redirects (a 3xx is an answer that is not 200), one HTTP/1.0 GET per
 * query on a connection of its own, both queries within one timeout, at
 * most HISTORY_MAX bytes of body each. It is meant for a store on loopback
 * or a trusted network.
 *
 * Threads: the collector thread fetches and swaps a new history into a
 * holder (history_holder_set); request threads take a reference
 * (history_holder_get) and drop it (history_put). A history is never
 * changed once in a holder, so a slow or dead store costs the collector at
 * most the timeout and the page its sparklines, never a request's time.
 *
 * Errors: negative errno and a struct zerr, as everywhere in lib/: -EINVAL
 * a URL or an answer refused, -ETIMEDOUT out of time, -ECONNREFUSED (or
 * the connect's errno) nobody listening, -EHOSTUNREACH a name that does
 * not resolve, -EPROTO an answer that is not HTTP 200, -E2BIG a body over
 * HISTORY_MAX, -EIO any other transfer failure.
 */
#ifndef ZK_HISTORY_H
#define ZK_HISTORY_H

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "err.h"

#define HISTORY_RANGE   86400     /* seconds of history by default */
#define HISTORY_POINTS  120       /* samples asked for per series */
#define HISTORY_TIMEOUT 2000      /* ms for the whole fetch */
#define HISTORY_EVERY   30        /* seconds between fetches at most */
#define HISTORY_MAX     (4 << 20) /* bytes of one answer's body at most */

/* One series: one pool's capacity or one backup's age. */
struct history_series {
	char *key; /* the pool, or the backup's target dataset */
	size_t n;
	double *t, *v; /* n each, t ascending (epoch seconds) */
};

struct history_series_set {
	struct history_series *s;
	size_t n;
};

/* Immutable once in a holder; reference counted like a view. */
struct history {
	int refs;
	time_t start, end;                 /* the range asked for */
	struct history_series_set pools;   /* zfs_pool_capacity_percent by pool */
	struct history_series_set backups; /* seconds since the last success, by target */
};

/* A new empty history for [start, end], with one reference. */
struct history *history_new(time_t start, time_t end);

/* Parses a /api/v1/query_range answer into set (emptied first), one
 * series per value of label. Series without that label and samples that
 * are not finite numbers or not in time order are skipped; an answer that
 * is not a successful matrix is -EINVAL and leaves set as it was. */
int history_parse(const char *json, size_t len, const char *label, struct history_series_set *set,
                  struct zerr *e);
void history_series_set_free(struct history_series_set *set); /* empties it */

/* Whether url is one history_fetch can use: http://HOST[:PORT][/PATH]. */
int history_url_check(const char *url, struct zerr *e);

/* Asks base_url for the capacity of this host's pools and the age of its
 * backups (by the hostname label the api's metrics carry) over
 * [now - range, now], two queries in at most timeout_ms together. On
 * success *out is a new history with one reference; on failure *out is
 * left as it was. */
int history_fetch(const char *base_url, const char *hostname, time_t now, int range, int timeout_ms,
                  struct history **out, struct zerr *e);

struct history *history_ref(struct history *h);
void history_put(struct history *h); /* NULL is fine */

/* Shared between the collector (history_holder_set) and the request
 * threads (history_holder_get, then history_put). */
struct history_holder {
	pthread_mutex_t mu;
	struct history *cur; /* NULL: no history (none configured or failing) */
};

void history_holder_init(struct history_holder *h);
void history_holder_free(struct history_holder *h);
struct history *history_holder_get(struct history_holder *h);
/* h takes over the caller's reference to hist (NULL clears). */
void history_holder_set(struct history_holder *h, struct history *hist);

#endif
