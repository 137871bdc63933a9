/*
 * zkeep status: one screen of what this host's ZFS looks like, from the
 * same collection the api daemon makes (lib/view), run once.
 *
 * The OpenZFS version and capabilities; every pool with health, space,
 * object counts and its last scrub; policy compliance per managed dataset
 * and interval; every backup's last result, last success, age and lag from
 * the run records; the pull/push locks held. Exits as a Nagios check does,
 * by the one "needs attention" rule (lib/attention.h, the config's
 * [attention]): 0 ok, 1 warning, 2 critical, 3 unknown (its own usage,
 * config or collection error); the reasons are listed at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "attention.h"
#include "autosnap.h"
#include "cmd.h"
#include "config.h"
#include "fmt.h"
#include "host.h"
#include "log.h"
#include "opt.h"
#include "view.h"
#include "banned.h"

struct pool_counts {
	size_t fs, vol, snap, bm;
};

static void count(const struct zfs_list *l, const char *pool, struct pool_counts *c)
{
	size_t plen = strlen(pool);
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < l->n; i++) {
		const char *n = l->v[i].name;
		if (strncmp(n, pool, plen) || (n[plen] && !strchr("/@#", n[plen])))
			continue;
		switch (l->v[i].type) {
		case ZFS_TYPE_FILESYSTEM:
			c->fs++;
			break;
		case ZFS_TYPE_VOLUME:
			c->vol++;
			break;
		case ZFS_TYPE_SNAPSHOT:
			c->snap++;
			break;
		case ZFS_TYPE_BOOKMARK:
			c->bm++;
			break;
		}
	}
}

static bool color;

static const char *paint(const char *s, bool bad)
{
	static char b[4][160];
	static int k;
	if (!color)
		return s;
	char *o = b[k++ % 4];
	snprintf(o, sizeof(b[0]), "\033[%sm%s\033[0m", bad ? "1;31" : "32", s);
	return o;
}

static void when(char *out, size_t len, int64_t t)
{
	struct buf b = BUF_INIT;
	fmt_when(&b, t, FMT_LOCAL);
	snprintf(out, len, "%s", b.s);
	buf_free(&b);
}

static void age(char *out, size_t len, int64_t secs)
{
	struct buf b = BUF_INIT;
	fmt_age(&b, secs);
	snprintf(out, len, "%s", b.s);
	buf_free(&b);
}

/* What needs attention (lib/attention decides), one line each, worst
 * first as on the /ui/ page: the level, then the reason. */
static void attention_lines(const struct attention *att, struct strvec *out)
{
	const struct att_finding **f = attention_worst_first(att);
	for (size_t i = 0; i < att->n_bad; i++)
		strvec_pushf(out, "%s: %s", zk_level_names[f[i]->level], f[i]->reason);
	free(f);
}

/* w widened to fit s: the name columns fit the longest name, so a long
 * dataset or job name does not push the rest of its row out of line. */
static int fit(int w, const char *s)
{
	size_t n = strlen(s);
	return n > (size_t)w ? (int)n : w;
}

/* Each channel whose notification after its job's last run failed
 * (lib/notify): shown, not counted as needing attention, since the backup
 * itself is what the exit code speaks for. */
static void notes_text(const struct view *v)
{
	for (size_t i = 0; i < v->runs.n + v->timers.n; i++) {
		const struct record *r = view_notifier(v, i);
		for (size_t n = 0; n < r->n_notes; n++) {
			const struct record_note *x = &r->notes[n];
			char at[32];
			if (x->ok)
				continue;
			when(at, sizeof(at), x->at);
			printf("%s %s of %s %s failed %s (%d attempt(s)): %s\n",
			       paint("notification", true), x->channel, record_kind_name(r->kind),
			       r->job, at, x->attempts, x->error ? x->error : "");
		}
	}
}

/* Every channel's result after each job's last run, for --json. */
static json_t *notes_json(const struct view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->runs.n + v->timers.n; i++) {
		const struct record *r = view_notifier(v, i);
		for (size_t n = 0; n < r->n_notes; n++) {
			const struct record_note *x = &r->notes[n];
			json_array_append_new(
			    a,
			    json_pack("{s:s, s:s, s:s, s:b, s:o, s:I, s:i}", "job", r->job, "kind",
			              record_kind_name(r->kind), "channel", x->channel, "ok", x->ok,
			              "error", x->error ? json_string(x->error) : json_null(), "at",
			              (json_int_t)x->at, "attempts", x->attempts));
		}
	}
	return a;
}

/* The OpenZFS version and what it can do. */
static void print_caps(const struct view *v)
{
	const struct zfs_caps *caps = &v->caps;
	printf("host %s, OpenZFS %d.%d.%d (%s, %s)\n", v->hostname, caps->major, caps->minor,
	       caps->patch, caps->userland, *caps->kmod ? caps->kmod : "no kernel module");
	printf("features: resume %s, raw send %s, bookmarks %s, snapshots_changed %s\n\n",
	       caps->resume ? "yes" : "no", caps->raw_send ? "yes" : "no",
	       caps->bookmarks ? "yes" : "no", caps->snapshots_changed ? "yes" : "no");
}

/* One row of the pools' table, its name column wp wide. */
static void print_pool(const struct view *v, const struct view_pool *vp, int wp)
{
	const struct zpool *p = vp->zp;
	struct pool_counts c;
	struct buf sz = BUF_INIT, al = BUF_INIT, fr = BUF_INIT;
	count(&v->list, p->name, &c);
	fmt_bytes_human(&sz, p->size);
	fmt_bytes_human(&al, p->allocated);
	fmt_bytes_human(&fr, p->free);
	char frag[32], end[32], health[64];
	if (p->fragmentation == ZFS_NONE)
		snprintf(frag, sizeof(frag), "-");
	else
		snprintf(frag, sizeof(frag), "%llu%%", (unsigned long long)p->fragmentation);
	when(end, sizeof(end), vp->scan.end);
	snprintf(health, sizeof(health), "%-9s", p->health);
	printf("%-*s %s %12s %12s %12s %3llu%% %5s %6zu %6zu %9zu %9zu  %s %s%s%s\n", wp, p->name,
	       paint(health, strcmp(p->health, "ONLINE") != 0), sz.s, al.s, fr.s,
	       (unsigned long long)p->capacity, frag, c.fs, c.vol, c.snap, c.bm, vp->scan.type,
	       vp->scan.state, vp->scan.end ? " " : "", vp->scan.end ? end : "");
	buf_free(&sz);
	buf_free(&al);
	buf_free(&fr);
}

static void print_pools(const struct view *v)
{
	int wp = 16;
	for (size_t i = 0; i < v->pools.n; i++)
		wp = fit(wp, v->vpools[i].zp->name);
	if (!v->pools.n)
		printf("no pools\n");
	else
		printf("%-*s %-9s %12s %12s %12s %4s %5s %6s %6s %9s %9s  %s\n", wp, "POOL",
		       "HEALTH", "SIZE", "ALLOC", "FREE", "CAP", "FRAG", "FS", "VOL", "SNAPSHOTS",
		       "BOOKMARKS", "LAST SCAN");
	for (size_t i = 0; i < v->pools.n; i++)
		print_pool(v, &v->vpools[i], wp);
}

/* Policy compliance: a row per managed dataset, a count/keep cell per
 * interval ("!" when not fresh). */
static void print_compliance(const struct view *v, time_t now)
{
	int wd = 40;
	bool any = false;
	for (size_t i = 0; i < v->ix.n; i++)
		if (v->ds[i].pd->policy)
			wd = fit(wd, v->ds[i].pd->obj->name);
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		if (!d->pd->policy)
			continue;
		if (!any)
			printf("\n%-*s %-9s %-8s %-8s %-8s %-8s %s\n", wd, "DATASET", "POLICY",
			       "HOURLY", "DAILY", "MONTHLY", "YEARLY", "NEWEST");
		any = true;
		bool ok = true;
		char cells[ZK_N_INTERVALS][32];
		for (int k = 0; k < ZK_N_INTERVALS; k++) {
			const struct policy_compliance *pc = &d->comp[k];
			snprintf(cells[k], sizeof(cells[k]), "%u/%d%s", pc->count, pc->retention,
			         pc->retention > 0 && !pc->fresh ? "!" : "");
			ok &= pc->retention <= 0 || pc->compliant;
		}
		char newest[48], a[32];
		age(a, sizeof(a),
		    d->newest_snapshot == ZFS_NONE ? -1
		                                   : (int64_t)now - (int64_t)d->newest_snapshot);
		snprintf(newest, sizeof(newest), "%s ago", a);
		printf("%-*s %-9s %-8s %-8s %-8s %-8s %s %s\n", wd, d->pd->obj->name,
		       d->pd->policy->name, cells[0], cells[1], cells[2], cells[3],
		       d->newest_snapshot == ZFS_NONE ? "-" : newest,
		       paint(ok ? "ok" : "LOW", !ok));
	}
}

/* Every backup's last result, last success and lag. */
static void print_backups(const struct view *v, time_t now)
{
	int wj = 14, ws = 32;
	for (size_t i = 0; i < v->n_backups; i++) {
		wj = fit(wj, v->backups[i].job);
		ws = fit(ws, v->backups[i].source);
	}
	if (v->n_backups)
		printf("\n%-*s %-4s %-*s %-10s %-16s %-8s %s\n", wj, "JOB", "KIND", ws, "SOURCE",
		       "RESULT", "LAST SUCCESS", "LAG", "TARGET");
	for (size_t i = 0; i < v->n_backups; i++) {
		const struct view_backup *b = &v->backups[i];
		char ls[32], lag[32];
		when(ls, sizeof(ls), b->last_success);
		age(lag, sizeof(lag), b->newest_creation ? (int64_t)now - b->newest_creation : -1);
		char res[32];
		snprintf(res, sizeof(res), "%-10s", b->result);
		printf("%-*s %-4s %-*s %s %-16s %-8s %s\n", wj, b->job, b->kind, ws, b->source,
		       paint(res, !view_backup_ok(b)), ls, lag, b->target);
	}
}

/* The pull/push locks held, and by whom. */
static void print_locks(const struct view *v)
{
	for (size_t i = 0; i < v->n_locks; i++) {
		const struct view_lock *l = &v->locks[i];
		if (!l->held)
			continue;
		char since[32];
		when(since, sizeof(since), l->since);
		printf("\nlock: %s %s held by pid %d%s since %s", l->kind, l->host, (int)l->pid,
		       l->seed ? " (a job of the replaced scripts)" : "", since);
	}
	printf("\n");
}

static void print_text(const struct view *v, const struct strvec *att, time_t now)
{
	print_caps(v);
	print_pools(v);
	print_compliance(v, now);
	print_backups(v, now);
	print_locks(v);
	notes_text(v);
	if (att->n) {
		printf("\n%s\n", paint("needs attention:", true));
		for (size_t i = 0; i < att->n; i++)
			printf("  %s\n", att->v[i]);
	}
	for (size_t i = 0; i < v->warnings.n; i++)
		printf("warning: %s\n", v->warnings.v[i]);
}

static json_t *to_json(const struct view *v, const struct strvec *att, int worst, time_t now)
{
	const struct zfs_caps *caps = &v->caps;
	json_t *jp = json_array();
	for (size_t i = 0; i < v->pools.n; i++) {
		const struct view_pool *vp = &v->vpools[i];
		const struct zpool *p = vp->zp;
		struct pool_counts c;
		count(&v->list, p->name, &c);
		json_array_append_new(
		    jp,
		    json_pack(
		        "{s:s, s:s, s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:{s:s, s:s, "
		        "s:o, s:o}}",
		        "name", p->name, "health", p->health, "size_bytes", (json_int_t)p->size,
		        "allocated_bytes", (json_int_t)p->allocated, "free_bytes",
		        (json_int_t)p->free, "fragmentation_percent",
		        p->fragmentation == ZFS_NONE ? json_null()
		                                     : json_integer((json_int_t)p->fragmentation),
		        "capacity_percent", (json_int_t)p->capacity, "filesystems",
		        (json_int_t)c.fs, "volumes", (json_int_t)c.vol, "snapshots",
		        (json_int_t)c.snap, "bookmarks", (json_int_t)c.bm, "scan", "type",
		        vp->scan.type, "state", vp->scan.state, "end",
		        vp->scan.end ? json_integer(vp->scan.end) : json_null(), "errors",
		        vp->scan.errors >= 0 ? json_integer(vp->scan.errors) : json_null()));
	}
	static const struct autosnap_member per_interval[] = {
	    {"count", AUTOSNAP_COUNT},         {"retention", AUTOSNAP_RETENTION},
	    {"percent", AUTOSNAP_PERCENT},     {"fresh", AUTOSNAP_FRESH},
	    {"compliant", AUTOSNAP_COMPLIANT}, {"newest", AUTOSNAP_NEWEST}};
	json_t *jc = json_array();
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		if (!d->pd->policy)
			continue;
		json_array_append_new(jc,
		                      json_pack("{s:s, s:s, s:o}", "dataset", d->pd->obj->name,
		                                "policy", d->pd->policy->name, "intervals",
		                                autosnap_by_interval(d->comp, per_interval,
		                                                     sizeof(per_interval) /
		                                                         sizeof(per_interval[0]))));
	}
	json_t *jb = json_array();
	for (size_t i = 0; i < v->n_backups; i++) {
		const struct view_backup *b = &v->backups[i];
		json_array_append_new(
		    jb,
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:I}", "job", b->job,
		              "kind", b->kind, "source", b->source, "target", b->target, "result",
		              b->result, "error", b->error ? json_string(b->error) : json_null(),
		              "last_run", (json_int_t)b->end, "last_success",
		              b->last_success ? json_integer(b->last_success) : json_null(),
		              "lag_seconds",
		              b->newest_creation ? json_integer(now - b->newest_creation)
		                                 : json_null(),
		              "bytes", (json_int_t)b->bytes));
	}
	json_t *jl = json_array();
	for (size_t i = 0; i < v->n_locks; i++) {
		const struct view_lock *l = &v->locks[i];
		json_array_append_new(
		    jl,
		    json_pack("{s:s, s:s, s:b, s:o, s:b, s:o}", "kind", l->kind, "host", l->host,
		              "held", l->held, "pid",
		              l->held && l->pid ? json_integer(l->pid) : json_null(), "seed",
		              l->seed, "since", l->held ? json_integer(l->since) : json_null()));
	}
	json_t *ja = json_array(), *jw = json_array();
	for (size_t i = 0; i < att->n; i++)
		json_array_append_new(ja, json_string(att->v[i]));
	for (size_t i = 0; i < v->warnings.n; i++)
		json_array_append_new(jw, json_string(v->warnings.v[i]));
	return json_pack(
	    "{s:s, s:{s:s, s:s, s:b, s:b, s:b, s:b}, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o}",
	    "hostname", v->hostname, "openzfs", "userland", caps->userland, "kmod", caps->kmod,
	    "resume", caps->resume, "raw_send", caps->raw_send, "bookmarks", caps->bookmarks,
	    "snapshots_changed", caps->snapshots_changed, "pools", jp, "compliance", jc, "backups",
	    jb, "notifications", notes_json(v), "locks", jl, "state", zk_level_names[worst],
	    "attention", ja, "warnings", jw);
}

#define STATUS_UNKNOWN 3 /* Nagios' UNKNOWN: the check itself could not run */

const struct opt status_opts[] = {
    {'j', "json", OPT_NONE, NULL, "the same as JSON", false},
    {OPT_LONG + 1, "color", OPT_VALUE, "WHEN", "auto (a terminal, no NO_COLOR), always or never",
     false},
    OPT_DEBUG,
    OPT_QUIET,
    OPT_LOG,
    OPT_CONFIG,
    OPT_HELP,
    OPT_END_OF_TABLE,
};

/* What the flags say. */
struct status_args {
	const char *config, *color;
	bool json;
};

/* One option into the status_args at ctx (cmd_parse's take). --debug and
 * -q set the log level as they come, so the last one wins. */
static int take(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct status_args *a = ctx;
	(void)argc;
	(void)argv;
	switch (c) {
	case 'j':
		a->json = true;
		break;
	case OPT_ID_DEBUG:
	case OPT_ID_DEBUG | OPT_NO:
		log_set_level(c & OPT_NO ? LOG_LVL_INFO : LOG_LVL_DEBUG);
		break;
	case 'q':
	case 'q' | OPT_NO:
		log_set_level(c & OPT_NO ? LOG_LVL_INFO : LOG_LVL_ERROR);
		break;
	case 'c':
		a->config = v;
		break;
	case OPT_LONG + 1:
		a->color = v;
		break;
	default:
		return CMD_NOT_MINE;
	}
	return CMD_GO_ON;
}

/* The view, once, and what needs attention in it, as text or JSON;
 * returns the worst level (ZK_LEVEL_* are Nagios' 0, 1, 2), or
 * STATUS_UNKNOWN. */
static int report(const char *config, bool json)
{
	struct zk_config cfg;
	struct host local;
	struct zerr e = ZERR_INIT;
	struct view *v = NULL;
	struct strvec att = STRVEC_INIT;
	struct attention decided = {0};
	int ret = STATUS_UNKNOWN;
	char hostname[256];
	if (gethostname(hostname, sizeof(hostname)) < 0)
		snprintf(hostname, sizeof(hostname), "unknown");
	hostname[sizeof(hostname) - 1] = '\0';
	config_init(&cfg);
	host_init_local(&local);
	/* without a config file: the pools and datasets, no policies */
	if (config_load_file(&cfg, config ? config : ZK_DEFAULT_CONFIG, &e) < 0 &&
	    (config || e.code != -ENOENT)) {
		log_error("%s", e.msg);
		goto out;
	}
	cmd_config_warnings(&cfg);
	time_t now = (time_t)cmd_now();
	struct view_opts vo = {&cfg, &local, hostname, cfg.zfs_timeout * 1000, now};
	if (view_collect(&vo, NULL, &v, &e) < 0) {
		log_error("%s", e.msg);
		goto out;
	}
	attention_decide(v, &cfg.attention, now, &decided);
	attention_lines(&decided, &att);
	if (json) {
		json_t *j = to_json(v, &att, decided.worst, now);
		json_dumpf(j, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(j);
	} else {
		print_text(v, &att, now);
	}
	ret = decided.worst;
out:
	attention_free(&decided);
	strvec_clear(&att);
	view_put(v);
	host_free(&local);
	config_free(&cfg);
	return ret;
}

int cmd_status(int argc, char **argv, const struct cmd *self)
{
	struct status_args a = {.color = "auto"};
	int ret = cmd_parse(self, argc, argv, 0, take, &a);
	if (ret != CMD_GO_ON) /* its own usage error is Nagios' UNKNOWN */
		return ret == EXIT_USAGE ? STATUS_UNKNOWN : ret;
	const char *col = a.color;
	if (strcmp(col, "auto") && strcmp(col, "always") && strcmp(col, "never")) {
		cmd_usage_error(self, "--color: '%s' is not auto, always or never", col);
		return STATUS_UNKNOWN;
	}
	color = !strcmp(col, "always") ||
	        (!strcmp(col, "auto") && isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	return report(a.config, a.json);
}
