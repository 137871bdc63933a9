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
 * Sparklines: when the api has a struct history (lib/history.h: the
 * pools' capacity and the backups' age from VictoriaMetrics), the pools and
 * backups tables get a column of them; without one the page is the same
 * less those columns. Rendering never waits for or fails on the history.
 *
 * Layout: the page fits a 1280 px wide window without a horizontal scroll
 * bar (tests/host/t_ui.sh checks it in Chromium with long dataset names):
 * long names break anywhere, times and ages never wrap, and the full time
 * of a last success is in its cell's title.
 *
 * What needs attention (the box at the top, the colour of a last success
 * and of a capacity bar) is lib/attention.h's rule with the view's config
 * thresholds, the same that `zkeep status` exits with and /metrics exports.
 *
 * Owns: the page's markup and CSS, HTML escaping, the Accept rule that
 * sends a browser from / to /ui/. Not the history (lib/history.h), not
 * the attention rule (lib/attention.h).
 *
 * Rendering cannot fail: it only appends to a struct buf.
 */
#ifndef ZK_UI_H
#define ZK_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "history.h"
#include "view.h"

/* True when an Accept header ranks text/html above application/json (a
 * browser's does; curl's "*" "/" "*", a missing header and API clients'
 * do not): only then does / redirect to /ui/. */
bool ui_accept_prefers_html(const char *accept);

/* Appends the whole page for v (NULL: nothing collected yet) to out. st
 * and hist may be NULL. */
void ui_render(const struct view *v, const struct view_status *st, const struct history *hist,
               time_t now, struct buf *out);

/* Appends s with & < > " ' escaped and control characters replaced, so
 * it is safe in HTML text and in quoted attribute values. */
void ui_escape(struct buf *out, const char *s);

#endif
