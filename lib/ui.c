/*
 * The /ui/ page: HTML from a view and, when there is one, a history
 * (sparklines); the escaping every piece of data goes through; the Accept
 * rule for /. What the page promises is in ui.h.
 */
#include "ui.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "attention.h"
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
    ".att li.critical{font-weight:600;color:#8a1c1c}"
    "svg{vertical-align:middle}"
    /* at 1280 px and less: names and errors (the long parts of a row)
     * break anywhere, names not below 8em, so a table fits the window;
     * badges, times and numbers stay on one line */
    "td.nm,.err{overflow-wrap:anywhere}td.nm{min-width:8em}"
    ".b,td.t,td.n,td .sub{white-space:nowrap}";

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

/* A level's colour: the rule's (lib/attention), never one of our own. */
static const char *level_color(int level)
{
	return level == ZK_LEVEL_CRITICAL ? "#c53030" : level ? "#d69e2e" : "#38a169";
}

static const char *level_class(int level)
{
	return level == ZK_LEVEL_CRITICAL ? "bad" : level ? "warn" : "ok";
}

/* The bar in the colour of the capacity check's level, with a mark at
 * the warning threshold. */
static void capacity_bar(struct buf *o, uint64_t cap, int level, int warn_at)
{
	uint64_t w = cap > 100 ? 100 : cap;
	buf_addf(o,
	         "<svg class=\"cap\" width=\"160\" height=\"14\" role=\"img\" "
	         "aria-label=\"%llu%% used\"><rect width=\"160\" height=\"14\" rx=\"3\" "
	         "fill=\"#e4e7ec\"/><rect width=\"%llu\" height=\"14\" rx=\"3\" fill=\"%s\"/>"
	         "<line x1=\"%d\" y1=\"0\" x2=\"%d\" y2=\"14\" stroke=\"#0004\"/></svg> %llu%%",
	         (unsigned long long)cap, (unsigned long long)(w * 160 / 100), level_color(level),
	         warn_at * 160 / 100, warn_at * 160 / 100, (unsigned long long)cap);
}

/* The level of one check of an object (ok when it has no such check). */
static int check_level(const struct att_object *o, enum att_check c)
{
	for (size_t i = 0; i < o->n_checks; i++)
		if (o->checks[i].check == c)
			return o->checks[i].level;
	return ZK_LEVEL_OK;
}

static const struct history_series *series_of(const struct history_series_set *set, const char *key)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->s[i].key, key))
			return &set->s[i];
	return NULL;
}

/* A series over the history range as a line in a 160x28 box, values
 * 0..top on a fixed scale (so a flat line at 95 % looks as full as it is,
 * and an age line at the top means older than top); what says what it is. */
static void sparkline(struct buf *o, const struct history *h, const struct history_series *s,
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

/* The age line's top: the age the rule calls critical, or the oldest age
 * shown. */
static double age_top(const struct history_series *s, int64_t limit)
{
	double top = (double)limit;
	for (size_t i = 0; s && i < s->n; i++)
		if (s->v[i] > top)
			top = s->v[i];
	return top;
}

static void pools(struct buf *o, const struct view *v, const struct attention *att,
                  const struct history *hist)
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
		html(o, "<tr class=\"pool\" data-pool=\"%s\"><td class=\"nm\">%s</td><td>", z->name,
		     z->name);
		badge(o, health_class(z->health), z->health);
		buf_adds(o, "</td><td>");
		capacity_bar(o, z->capacity, check_level(&att->v[i], ATT_CAPACITY),
		             v->cfg->attention.pool_capacity_warning);
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
		html(
		    o,
		    "<tr class=\"dataset\" data-dataset=\"%s\"><td class=\"nm\">%s</td><td>%s</td>",
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

/* The last success as its age, coloured by acls; the full time in the
 * cell's title, so the cell stays one short line. */
static void last_success_cell(struct buf *o, int64_t last_success, int64_t age, const char *acls)
{
	struct buf a = BUF_INIT;
	if (age >= 0) {
		when(&a, last_success);
		html(o, "<td class=\"t\" title=\"%s\">", a.s);
		buf_reset(&a);
		fmt_age(&a, age);
		buf_adds(&a, " ago");
	} else {
		buf_adds(o, "<td class=\"t\">");
		buf_adds(&a, "never");
	}
	badge(o, acls, a.s);
	buf_free(&a);
	buf_adds(o, "</td>");
}

static void backup_row(struct buf *o, const struct view_backup *b, const struct att_object *ba,
                       const struct zk_attention_cfg *a, const struct history *hist, time_t now)
{
	int64_t age = b->last_success ? (int64_t)now - b->last_success : -1;
	const char *acls = age < 0 ? "bad" : level_class(check_level(ba, ATT_AGE));
	html(o,
	     "<tr class=\"backup\" data-job=\"%s\" data-source=\"%s\"><td class=\"nm\">%s</td>"
	     "<td>%s</td><td class=\"nm\">%s:%s</td><td class=\"nm\">%s</td><td>",
	     b->job, b->source, b->job, b->kind, b->source_host, b->source, b->target);
	badge(o, view_backup_ok(b) ? "ok" : "bad", b->result);
	if (b->resume_pending)
		buf_adds(o, " <span class=\"sub\">resumable</span>");
	if (b->error)
		html(o, "<div class=\"err\">%s</div>", b->error);
	buf_adds(o, "</td>");
	last_success_cell(o, b->last_success, age, acls);
	if (hist) {
		const struct history_series *s = series_of(&hist->backups, b->target);
		buf_adds(o, "<td>");
		sparkline(
		    o, hist, s,
		    age_top(s, !strcmp(b->kind, "push") ? a->backup_age_push : a->backup_age_pull),
		    "age of the last success");
		buf_adds(o, "</td>");
	}
	buf_adds(o, "<td class=\"nm\">");
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

static void backups(struct buf *o, const struct view *v, const struct attention *att,
                    const struct history *hist, time_t now)
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
	/* the rule's backups are its last objects, in the view's order */
	for (size_t i = 0; i < v->n_backups; i++)
		backup_row(o, &v->backups[i], &att->v[att->n - v->n_backups + i],
		           &v->cfg->attention, hist, now);
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

/* What needs a human, at the top of the page: every finding of the rule
 * that is not ok, worst first. */
static void attention_box(struct buf *o, const struct attention *att)
{
	struct buf a = BUF_INIT;
	const struct att_finding **f = attention_worst_first(att);
	for (size_t i = 0; i < att->n_bad; i++)
		html(&a, "<li class=\"%s\">%s: %s</li>", zk_level_names[f[i]->level],
		     zk_level_names[f[i]->level], f[i]->reason);
	free(f);
	size_t n = att->n_bad;
	if (n) {
		html(o, "<div class=\"att\" id=\"attention\" data-state=\"%s\"><strong>",
		     zk_level_names[att->worst]);
		buf_addf(o, "%zu thing%s need%s attention</strong><ul>%s</ul></div>\n", n,
		         n == 1 ? "" : "s", n == 1 ? "s" : "", a.s);
	} else {
		buf_adds(o, "<p id=\"attention\" data-state=\"ok\"><span class=\"b ok\">all "
		            "good</span></p>\n");
	}
	buf_free(&a);
}

void ui_render(const struct view *v, const struct view_status *st, const struct history *hist,
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
		struct attention att;
		attention_decide(v, &v->cfg->attention, now, &att);
		attention_box(o, &att);
		pools(o, v, &att, hist);
		compliance(o, v, now);
		backups(o, v, &att, hist, now);
		locks_and_warnings(o, v);
		attention_free(&att);
	}
	buf_adds(o, "<p class=\"sub\">JSON: <a href=\"/api/v1/pools\">/api/v1/pools</a>, "
	            "<a href=\"/api/v1/snapshots\">/api/v1/snapshots</a>, "
	            "<a href=\"/api/v1/backups\">/api/v1/backups</a>, "
	            "<a href=\"/metrics\">/metrics</a></p>\n</body></html>\n");
}
