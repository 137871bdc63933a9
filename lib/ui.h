/*
 * The /ui/ status page: one HTML page rendered on the server from the
 * current view, with inline CSS and inline SVG only (no scripts, no
 * external assets), so it works without JavaScript, behind a strict CSP
 * and on an air-gapped host. Pools with capacity bars and health, policy
 * compliance per dataset and interval, every backup's last result and
 * age, held locks and the collector's state, coloured by what needs a
 * human. Every string that comes from zfs, the config or a run record is
 * HTML-escaped.
 *
 * History: when `[api] history_url` names a VictoriaMetrics (or any
 * Prometheus-compatible) base URL, the collector thread fetches the pools'
 * capacity and the backups' age (time since zfs_backup_last_success_timestamp)
 * over the last history range from /api/v1/query_range into a
 * struct ui_history and swaps it into a holder, like the view. Requests
 * only read the holder: a slow or dead VictoriaMetrics costs the
 * collector at most the fetch timeout and the page its sparklines, never
 * a request's time. The fetch is a minimal HTTP/1.0 GET over a plain TCP
 * socket (no TLS, no redirects, no chunked bodies), meant for a store on
 * loopback or a trusted network; https URLs are refused by
 * ui_history_url_check.
 *
 * Errors: negative errno and a struct zerr, as everywhere in lib/.
 */
#ifndef ZK_UI_H
#define ZK_UI_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "err.h"
#include "view.h"

#define UI_HISTORY_RANGE   86400        /* seconds of history by default */
#define UI_HISTORY_POINTS  120          /* samples asked for per series */
#define UI_HISTORY_TIMEOUT 2000         /* ms for the whole fetch */
#define UI_HISTORY_EVERY   30           /* seconds between fetches at most */
#define UI_HISTORY_MAX     (4 << 20)    /* bytes of answer read at most */
#define UI_BACKUP_OLD      (26L * 3600) /* a backup older than this is amber */
#define UI_BACKUP_STALE    (3L * 86400) /* and older than this red */

/* One series of the history: one pool's capacity or one backup's age. */
struct ui_series {
	char *key; /* the pool, or the backup's target dataset */
	size_t n;
	double *t, *v; /* n each, t ascending (epoch seconds) */
};

struct ui_series_set {
	struct ui_series *s;
	size_t n;
};

/* Immutable once built; reference counted like a view. */
struct ui_history {
	int refs;
	time_t start, end;            /* the range asked for */
	struct ui_series_set pools;   /* zfs_pool_capacity_percent by pool */
	struct ui_series_set backups; /* seconds since the last success, by target */
};

/* A new empty history for [start, end], with one reference. */
struct ui_history *ui_history_new(time_t start, time_t end);

/* Parses a /api/v1/query_range answer into set (emptied first), one
 * series per value of label. Series without that label and samples that
 * are not finite numbers or not in time order are skipped; an answer that
 * is not a successful matrix is -EINVAL and leaves set as it was. */
int ui_history_parse(const char *json, size_t len, const char *label, struct ui_series_set *set,
                     struct zerr *e);
void ui_series_set_free(struct ui_series_set *set); /* empties it */

/* Whether url is one ui_history_fetch can use: http://HOST[:PORT][/PATH]. */
int ui_history_url_check(const char *url, struct zerr *e);

/* Asks base_url for the capacity of this host's pools and the age of its
 * backups (by the hostname label the api's metrics carry) over
 * [now - range, now], two queries in at most timeout_ms together. On
 * success *out is a new history with one reference. */
int ui_history_fetch(const char *base_url, const char *hostname, time_t now, int range,
                     int timeout_ms, struct ui_history **out, struct zerr *e);

struct ui_history *ui_history_ref(struct ui_history *h);
void ui_history_put(struct ui_history *h); /* NULL is fine */

/* Shared between the collector (ui_history_holder_set) and the request
 * threads (ui_history_holder_get, then ui_history_put). */
struct ui_history_holder {
	pthread_mutex_t mu;
	struct ui_history *cur; /* NULL: no history (none configured or failing) */
};

void ui_history_holder_init(struct ui_history_holder *h);
void ui_history_holder_free(struct ui_history_holder *h);
struct ui_history *ui_history_holder_get(struct ui_history_holder *h);
/* h takes over the caller's reference to hist (NULL clears). */
void ui_history_holder_set(struct ui_history_holder *h, struct ui_history *hist);

/* True when an Accept header ranks text/html above application/json (a
 * browser's does; curl's "*" "/" "*", a missing header and API clients'
 * do not): only then does / redirect to /ui/. */
bool ui_accept_prefers_html(const char *accept);

/* Appends the whole page for v (NULL: nothing collected yet) to out. st
 * and hist may be NULL. */
void ui_render(const struct view *v, const struct view_status *st, const struct ui_history *hist,
               time_t now, struct buf *out);

/* Appends s with & < > " ' escaped and control characters replaced, so
 * it is safe in HTML text and in quoted attribute values. */
void ui_escape(struct buf *out, const char *s);

#endif
