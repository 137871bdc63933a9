/* The api's view of this host (view.h): one collection of zfs and zpool
 * output into an immutable view, incremental from the previous one. */
#include "view.h"

#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autosnap.h"
#include "lock.h"
#include "log.h"
#include "record.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

#define IOSTAT_CAP ((size_t)4 << 20)

/* ---- names and scan lines ------------------------------------------- */

void view_split_name(const char *name, struct buf *pool, const char **rest)
{
	size_t n = strcspn(name, "/@#");
	buf_add(pool, name, n);
	*rest = name[n] == '/' ? name + n + 1 : "";
}

void view_scan_parse(const char *scan, struct view_scan *out)
{
	out->type = "none";
	out->state = "none";
	out->errors = -1;
	out->end = 0;
	if (!scan)
		return;
	if (!strncmp(scan, "scrub", 5))
		out->type = "scrub";
	else if (!strncmp(scan, "resilver", 8))
		out->type = "resilver";
	else
		return;
	if (strstr(scan, "in progress"))
		out->state = "in_progress";
	else if (strstr(scan, "canceled"))
		out->state = "canceled";
	else if (strstr(scan, "paused"))
		out->state = "paused";
	else if (strstr(scan, "repaired") || strstr(scan, "resilvered"))
		out->state = "finished";
	const char *w = strstr(scan, " with ");
	if (w) {
		char *end;
		long long n = strtoll(w + 6, &end, 10);
		if (end != w + 6 && !strncmp(end, " error", 6) && n >= 0)
			out->errors = n;
	}
	/* "... on Thu Nov 26 07:50:59 2026": zpool prints local time */
	if (!strcmp(out->state, "finished") || !strcmp(out->state, "canceled")) {
		const char *on = NULL;
		for (const char *p = strstr(scan, " on "); p; p = strstr(p + 1, " on "))
			on = p;
		if (on) {
			struct tm tm;
			memset(&tm, 0, sizeof(tm));
			const char *end = strptime(on + 4, "%a %b %d %H:%M:%S %Y", &tm);
			if (end && (!*end || *end == ' ')) {
				tm.tm_isdst = -1;
				time_t t = mktime(&tm);
				if (t != (time_t)-1)
					out->end = (int64_t)t;
			}
		}
	}
}

/* ---- bodies rendered once per view ----------------------------------- */

/* Open addressing on (kind, index); bodies are allocated one by one so a
 * pointer handed out stays valid when the table grows. */
struct view_bodies {
	pthread_mutex_t mu;
	struct body_slot {
		uint64_t key; /* 0: empty; else the key + 1 */
		struct view_body *b;
	} * slots;
	size_t cap, n; /* cap a power of two, n < cap / 2 */
	size_t rendered;
	size_t bytes, budget; /* kept, and kept at most (view_body) */
};

static struct view_bodies *bodies_new(void)
{
	struct view_bodies *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->cap = 16;
	c->slots = xcalloc(c->cap, sizeof(*c->slots));
	c->budget = VIEW_BODIES_MAX;
	return c;
}

static void bodies_free(struct view_bodies *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].b) {
			buf_free(&c->slots[i].b->text);
			free(c->slots[i].b);
		}
	free(c->slots);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static struct body_slot *body_slot(struct body_slot *slots, size_t cap, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
	while (slots[i].key && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static void bodies_grow(struct view_bodies *c)
{
	size_t cap = c->cap * 2;
	struct body_slot *slots = xcalloc(cap, sizeof(*slots));
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].key)
			*body_slot(slots, cap, c->slots[i].key) = c->slots[i];
	free(c->slots);
	c->slots = slots;
	c->cap = cap;
}

const struct view_body *view_body(const struct view *v, unsigned kind, size_t index,
                                  view_render_fn *fn, const void *cls, struct view_body *scratch)
{
	struct view_bodies *c = v->bodies;
	uint64_t key = (((uint64_t)(kind & 0xffff) << 48) | (uint64_t)index) + 1;
	pthread_mutex_lock(&c->mu);
	struct body_slot *s = body_slot(c->slots, c->cap, key);
	if (!s->key && c->bytes >= c->budget) { /* full: served, not kept */
		c->rendered++;
		pthread_mutex_unlock(&c->mu);
		fn(v, kind, index, cls, scratch);
		return scratch;
	}
	if (!s->key) {
		struct view_body *b = xcalloc(1, sizeof(*b));
		buf_init(&b->text);
		fn(v, kind, index, cls, b);
		c->rendered++;
		c->bytes += b->text.len;
		if (2 * (c->n + 1) >= c->cap) {
			bodies_grow(c);
			s = body_slot(c->slots, c->cap, key);
		}
		s->key = key;
		s->b = b;
		c->n++;
	}
	const struct view_body *b = s->b;
	pthread_mutex_unlock(&c->mu);
	return b;
}

void view_bodies_budget(const struct view *v, size_t bytes)
{
	pthread_mutex_lock(&v->bodies->mu);
	v->bodies->budget = bytes;
	pthread_mutex_unlock(&v->bodies->mu);
}

size_t view_bodies_rendered(const struct view *v)
{
	pthread_mutex_lock(&v->bodies->mu);
	size_t n = v->bodies->rendered;
	pthread_mutex_unlock(&v->bodies->mu);
	return n;
}

size_t view_bodies_kept(const struct view *v)
{
	pthread_mutex_lock(&v->bodies->mu);
	size_t n = v->bodies->bytes;
	pthread_mutex_unlock(&v->bodies->mu);
	return n;
}

/* ---- references ------------------------------------------------------ */

struct view *view_ref(struct view *v)
{
	if (v)
		__atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
	return v;
}

void view_put(struct view *v)
{
	if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < v->pools.n && v->vpools; i++) {
		zpool_status_free(&v->vpools[i].status);
		free(v->vpools[i].iostat);
	}
	free(v->vpools);
	zpool_list_free(&v->pools);
	policy_index_free(&v->ix);
	zfs_list_free(&v->list);
	zfs_props_free(&v->props);
	free(v->ds);
	free(v->backups);
	free(v->skips);
	record_list_free(&v->runs);
	record_list_free(&v->timers);
	for (int i = 0; i < ZK_N_INTERVALS; i++)
		json_decref(v->snap_hooks[i]);
	for (size_t i = 0; i < v->n_locks; i++) {
		free(v->locks[i].job);
		free(v->locks[i].kind);
		free(v->locks[i].host);
		free(v->locks[i].path);
	}
	free(v->locks);
	strvec_clear(&v->warnings);
	buf_free(&v->metrics);
	gz_prefix_free(&v->metrics_gz);
	bodies_free(v->bodies);
	free(v->hostname);
	free(v);
}

/* ---- lookups --------------------------------------------------------- */

const struct view_dataset *view_dataset(const struct view *v, const char *name)
{
	const struct policy_dataset *pd = policy_index_find(&v->ix, name);
	return pd ? &v->ds[pd - v->ix.v] : NULL;
}

const struct record *view_notifier(const struct view *v, size_t i)
{
	return i < v->runs.n ? &v->runs.v[i] : &v->timers.v[i - v->runs.n];
}

const struct view_pool *view_pool(const struct view *v, const char *name)
{
	for (size_t i = 0; i < v->pools.n; i++)
		if (!strcmp(v->pools.v[i].name, name))
			return &v->vpools[i];
	return NULL;
}

bool view_pool_has_errors(const struct view_pool *p)
{
	if (p->scan.errors > 0)
		return true;
	for (size_t d = 0; p->have_status && d < p->status.n_vdevs; d++) {
		const struct zpool_vdev *vd = &p->status.vdevs[d];
		if ((vd->read_errors && vd->read_errors != ZFS_NONE) ||
		    (vd->write_errors && vd->write_errors != ZFS_NONE) ||
		    (vd->checksum_errors && vd->checksum_errors != ZFS_NONE))
			return true;
	}
	return false;
}

bool view_backup_ok(const struct view_backup *b)
{
	return !strcmp(b->result, "ok") || !strcmp(b->result, "up_to_date") ||
	       !strcmp(b->result, "skipped");
}

/* ---- building -------------------------------------------------------- */

static void warn(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct view *v, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	log_warn("%s", b.s);
	strvec_push(&v->warnings, b.s);
	buf_free(&b);
}

static void index_props(struct view *v)
{
	size_t i = 0;
	while (i < v->props.n) {
		size_t j = i;
		while (j < v->props.n && !strcmp(v->props.v[j].dataset, v->props.v[i].dataset))
			j++;
		const struct policy_dataset *pd = policy_index_find(&v->ix, v->props.v[i].dataset);
		if (pd) {
			struct view_dataset *d = &v->ds[pd - v->ix.v];
			d->props = &v->props.v[i];
			d->n_props = j - i;
			for (size_t k = i; k < j; k++) {
				const struct zfs_prop *p = &v->props.v[k];
				if (!strcmp(p->property, "mountpoint"))
					d->mountpoint = p->value;
				else if (!strcmp(p->property, "compression"))
					d->compression = p->value;
				else if (!strcmp(p->property, "compressratio"))
					d->compressratio = p->value;
			}
		}
		i = j;
	}
}

static void build_datasets(struct view *v, time_t now)
{
	const char *prefix = v->cfg->snapshot_prefix;
	v->ds = xcalloc(v->ix.n ? v->ix.n : 1, sizeof(*v->ds));
	for (size_t i = 0; i < v->ix.n; i++) {
		struct view_dataset *d = &v->ds[i];
		const struct policy_dataset *pd = &v->ix.v[i];
		unsigned total;
		d->pd = pd;
		d->mountpoint = d->compression = d->compressratio = "-";
		policy_counts(&pd->snaps, prefix, d->counts, &total);
		if (pd->policy)
			policy_compliance(&pd->snaps, prefix, pd->policy, now,
			                  v->cfg->compliance_age_factor, d->comp);
		d->newest_snapshot = ZFS_NONE;
		for (size_t k = 0; k < pd->snaps.n; k++) {
			const struct zfs_obj *s = pd->snaps.v[k];
			if (s->creation != ZFS_NONE &&
			    (d->newest_snapshot == ZFS_NONE || s->creation > d->newest_snapshot))
				d->newest_snapshot = s->creation;
			if (s->used != ZFS_NONE)
				d->snapshots_used += s->used;
		}
	}
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The run records (lib/record), sorted by file name so the order is
 * stable; what could not be read is in the warnings. */
static void read_runs(struct view *v)
{
	record_list_read(v->cfg->state_dir, &v->runs);
	for (size_t i = 0; i < v->runs.warnings.n; i++)
		warn(v, "%s", v->runs.warnings.v[i]);
	record_timer_list_read(v->cfg->state_dir, &v->timers);
	for (size_t i = 0; i < v->timers.warnings.n; i++)
		warn(v, "%s", v->timers.warnings.v[i]);
}

/* What the last snapshot run with hooks of each interval recorded. */
static void read_snap_hooks(struct view *v)
{
	for (int i = 0; i < ZK_N_INTERVALS; i++) {
		struct buf path = BUF_INIT;
		struct zerr e = ZERR_INIT;
		autosnap_hook_state_name(&path, v->cfg->state_dir, (enum zk_interval)i);
		int r = state_load_json(AT_FDCWD, path.s, STATE_RECORD_MAX, &v->snap_hooks[i], &e);
		if (r < 0 && r != -ENOENT)
			warn(v, "%s", e.msg);
		buf_free(&path);
	}
}

/* The runs skipped because a seed job held the lock. */
static void build_skips(struct view *v)
{
	v->skips = xcalloc(v->runs.n + 1, sizeof(*v->skips));
	for (size_t i = 0; i < v->runs.n; i++) {
		const struct record *r = &v->runs.v[i];
		if (!r->lock_held)
			continue;
		struct view_skip *s = &v->skips[v->n_skips++];
		s->job = r->job;
		s->kind = record_kind_name(r->kind);
		s->at = r->held_at;
		s->pid = r->held_pid;
	}
}

static const struct view_backup *prev_backup(const struct view *prev, const struct view_backup *b)
{
	for (size_t i = 0; prev && i < prev->n_backups; i++) {
		const struct view_backup *p = &prev->backups[i];
		if (!strcmp(p->job, b->job) && !strcmp(p->kind, b->kind) &&
		    !strcmp(p->source, b->source) && !strcmp(p->target, b->target))
			return p;
	}
	return NULL;
}

static void build_backup(struct view_backup *b, const struct record *r,
                         const struct record_dataset *d, const struct view *prev)
{
	b->job = r->job;
	b->kind = record_kind_name(r->kind);
	b->source_host = r->source_host ? r->source_host : "";
	b->destination_host = r->destination_host ? r->destination_host : "";
	b->run_result = record_run_result_name(r->result);
	b->run_error = r->error;
	b->run_start = r->start;
	b->run_end = r->end;
	b->source = d->source;
	b->target = d->target;
	b->result = record_result_name(d->result);
	b->error = d->error;
	b->start = d->start;
	b->end = d->end;
	b->bytes = d->bytes;
	b->newest_name = d->newest;
	b->newest_creation = d->newest_creation;
	b->resume_pending = d->resume_token != NULL;
	/* the record carries the last success across failed runs; a record
	 * from before that field: an older success is remembered from the
	 * previous view while the daemon lives */
	if (d->last_success) {
		b->last_success = d->last_success;
	} else {
		const struct view_backup *p = prev_backup(prev, b);
		b->last_success = p ? p->last_success : 0;
	}
}

static void build_backups(struct view *v, const struct view *prev)
{
	size_t n = 0;
	for (size_t i = 0; i < v->runs.n; i++)
		n += v->runs.v[i].n_datasets;
	v->backups = xcalloc(n ? n : 1, sizeof(*v->backups));
	for (size_t i = 0; i < v->runs.n; i++) {
		const struct record *r = &v->runs.v[i];
		for (size_t k = 0; k < r->n_datasets; k++)
			build_backup(&v->backups[v->n_backups++], r, &r->datasets[k], prev);
	}
}

static void add_lock(struct view *v, const char *job, const char *kind, const char *host,
                     const char *path)
{
	for (size_t i = 0; i < v->n_locks; i++)
		if (!strcmp(v->locks[i].path, path))
			return;
	v->locks = xreallocarray(v->locks, v->n_locks + 1, sizeof(*v->locks));
	struct view_lock *l = &v->locks[v->n_locks++];
	memset(l, 0, sizeof(*l));
	l->job = xstrdup(job ? job : "");
	l->kind = xstrdup(kind);
	l->host = xstrdup(host);
	l->path = xstrdup(path);
	struct zerr e = ZERR_INIT;
	struct lock_holder who;
	if (lock_probe(path, &l->held, &who, &l->since, &e) < 0)
		warn(v, "%s", e.msg);
	l->pid = who.pid;
	l->seed = who.seed;
}

/* The configured jobs' locks, and any other zkeep/seed lock file in
 * lock_dir (jobs started from the command line have no config entry). */
static void read_locks(struct view *v)
{
	const struct zk_config *c = v->cfg;
	for (size_t i = 0; i < c->n_jobs; i++) {
		const struct zk_job *j = &c->jobs[i];
		if (!j->remote.host)
			continue;
		struct buf p = BUF_INIT;
		const char *kind = j->is_push ? "push" : "pull";
		/* where zkeep pull and push take it; the host label is that key,
		 * as for the lock files found below */
		const char *key = config_job_lock_key(j);
		lock_path(&p, c->lock_dir, kind, key);
		add_lock(v, j->name, kind, key, p.s);
		buf_free(&p);
	}
	DIR *d = c->lock_dir ? opendir(c->lock_dir) : NULL;
	if (!d)
		return;
	const struct dirent *de;
	struct strvec names = STRVEC_INIT;
	while ((de = readdir(d)))
		strvec_push(&names, de->d_name);
	closedir(d);
	qsort(names.v, names.n, sizeof(*names.v), cmp_name);
	for (size_t i = 0; i < names.n; i++) {
		const char *n = names.v[i];
		size_t len = strlen(n);
		const char *kind = !strncmp(n, "zfs-pull-backups-", 17)   ? "pull"
		                   : !strncmp(n, "zfs-push-backups-", 17) ? "push"
		                                                          : NULL;
		if (!kind || len <= 17 + 5 || strcmp(n + len - 5, ".lock"))
			continue;
		char *host = xstrndup(n + 17, len - 17 - 5);
		struct buf p = BUF_INIT;
		buf_addf(&p, "%s/%s", c->lock_dir, n);
		add_lock(v, NULL, kind, host, p.s);
		buf_free(&p);
		free(host);
	}
	strvec_clear(&names);
}

/* parse_all, taking over listed (already parsed; zfs_list_free'd on
 * failure) when not NULL, instead of parsing t->zfs_list. */
static int parse_all(struct view *v, const struct view_texts *t, struct zfs_list *listed,
                     struct zerr *e)
{
	int r;
	const char *ver = t->version ? t->version : "";
	const char *zp = t->zpool_list ? t->zpool_list : "";
	if ((r = zfs_version_parse(&v->caps, ver, strlen(ver), e)) < 0 ||
	    (r = zpool_list_parse(&v->pools, zp, strlen(zp), e)) < 0) {
		zfs_list_free(listed);
		return r;
	}
	if (listed) {
		v->list = *listed;
		memset(listed, 0, sizeof(*listed));
		return 0;
	}
	const char *zl = t->zfs_list ? t->zfs_list : "";
	return zfs_list_parse(&v->list, zl, strlen(zl), t->list_cols, e);
}

/* view_build, taking over listed (the parsed listing, freed here on
 * failure) when not NULL. */
static int build(const struct view_opts *o, const struct view_texts *t, struct zfs_list *listed,
                 const struct view *prev, struct view **out, struct zerr *e)
{
	struct view *v = xcalloc(1, sizeof(*v));
	v->refs = 1;
	v->cfg = o->cfg;
	v->hostname = xstrdup(o->hostname);
	v->collected = o->now;
	strvec_init(&v->warnings);
	buf_init(&v->metrics);
	gz_prefix_init(&v->metrics_gz);
	v->bodies = bodies_new();
	int r = parse_all(v, t, listed, e);
	if (r < 0) {
		view_put(v);
		return r;
	}
	policy_index_build(&v->ix, &v->list, o->cfg);
	build_datasets(v, o->now);
	if (t->zfs_get) {
		struct zerr pe = ZERR_INIT;
		if (zfs_props_parse(&v->props, t->zfs_get, strlen(t->zfs_get), &pe) < 0)
			warn(v, "dataset properties not available: %s", pe.msg);
		else
			index_props(v);
	}
	v->vpools = xcalloc(v->pools.n ? v->pools.n : 1, sizeof(*v->vpools));
	for (size_t i = 0; i < v->pools.n; i++) {
		struct view_pool *p = &v->vpools[i];
		p->zp = &v->pools.v[i];
		view_scan_parse(NULL, &p->scan);
		const struct policy_dataset *root = policy_index_find(&v->ix, p->zp->name);
		p->dataset_available = root ? root->obj->available : ZFS_NONE;
		const char *st = t->status ? t->status[i] : NULL;
		if (st) {
			struct zerr se = ZERR_INIT;
			if (zpool_status_parse(&p->status, st, strlen(st), &se) < 0) {
				warn(v, "zpool status of '%s' not understood: %s", p->zp->name,
				     se.msg);
				memset(&p->status, 0, sizeof(p->status));
			} else {
				p->have_status = true;
				view_scan_parse(p->status.scan, &p->scan);
			}
		}
		if (t->iostat && t->iostat[i])
			p->iostat = xstrdup(t->iostat[i]);
	}
	read_runs(v);
	read_snap_hooks(v);
	build_backups(v, prev);
	build_skips(v);
	read_locks(v);
	if (o->render_metrics)
		o->render_metrics(&v->metrics, v);
	/* once per collection, not per scrape; failing (no memory) only
	 * means scrapers get the text uncompressed */
	if (o->gzip_metrics && gz_prefix_build(&v->metrics_gz, v->metrics.s, v->metrics.len) < 0)
		warn(v, "cannot compress /metrics: out of memory; serving it uncompressed");
	*out = v;
	return 0;
}

int view_build(const struct view_opts *o, const struct view_texts *t, const struct view *prev,
               struct view **out, struct zerr *e)
{
	return build(o, t, NULL, prev, out, e);
}

/* host_run, or the test's stand-in (view_opts.run). */
static int run_cmd(const struct view_opts *o, const char *const *argv, struct buf *out, size_t cap,
                   struct zerr *e)
{
	if (o->run)
		return o->run(o->host, argv, out, cap, o->timeout_ms, e);
	return host_run(o->host, argv, out, cap, o->timeout_ms, e);
}

static int run_text_len(const struct view_opts *o, const char *const *argv, size_t cap, char **out,
                        size_t *len, struct zerr *e)
{
	struct buf b = BUF_INIT;
	int r = run_cmd(o, argv, &b, cap, e);
	if (r < 0) {
		buf_free(&b);
		return r;
	}
	*out = buf_detach(&b, len);
	return 0;
}

static int run_text(const struct view_opts *o, const char *const *argv, size_t cap, char **out,
                    struct zerr *e)
{
	return run_text_len(o, argv, cap, out, NULL, e);
}

/* The full listing into l, parsed as zfs prints it, never held as text
 * (110 MB at 1,000 datasets x 1,000 snapshots); a test's o->run answers
 * with text, parsed in place. */
static int list_full(const struct view_opts *o, const char *const *argv, unsigned cols,
                     struct zfs_list *l, struct zerr *e)
{
	if (o->run) {
		char *s;
		size_t len;
		int r = run_text_len(o, argv, ZFS_OUTPUT_MAX, &s, &len, e);
		return r < 0 ? r : zfs_list_parse_owned(l, s, len, cols, e);
	}
	struct zfs_list_reader rd;
	zfs_list_reader_init(&rd, l, cols);
	int r = host_run_stream(o->host, argv, ZFS_OUTPUT_MAX, o->timeout_ms, zfs_list_reader_sink,
	                        &rd, e);
	if (r < 0 && rd.err == 0)
		rd.err = r; /* what was read of a failed listing is dropped */
	return zfs_list_reader_end(&rd, e);
}

/* One listing row as zfs prints it with -Hp, from the parsed object. */
static void format_row(struct buf *b, const struct zfs_obj *o, unsigned cols)
{
	const uint64_t v[] = {o->guid, o->createtxg, o->creation,
	                      o->used, o->available, o->referenced};
	buf_addf(b, "%s\t%s", o->name, zfs_type_name(o->type));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (v[i] == ZFS_NONE)
			buf_adds(b, "\t-");
		else
			buf_addf(b, "\t%llu", (unsigned long long)v[i]);
	}
	if (cols & ZFS_COL_SNAPSHOTS_CHANGED) {
		if (o->snapshots_changed == ZFS_NONE)
			buf_adds(b, "\t-");
		else
			buf_addf(b, "\t%llu", (unsigned long long)o->snapshots_changed);
	}
	buf_addch(b, '\n');
}

#define RELIST_BATCH 256 /* dataset names per zfs list or zfs get call */

/* Whether prev's `zfs get all` rows of a dataset (was) no longer hold:
 * prev has none, or its used or referenced moved (a collection re-reads
 * the snapshots' datasets besides). written is not asked for: it moves
 * only with one of them (a block written after the newest snapshot adds
 * to referenced; one that replaces a snapshot's block adds to used), and
 * listing it would cost a column on every dataset. */
static bool props_moved(const struct zfs_obj *now, const struct view_dataset *was)
{
	const struct zfs_obj *o = was->pd->obj;
	return !was->props || now->used != o->used || now->referenced != o->referenced;
}

/* prev's `zfs get all` rows of a dataset (was) as zfs prints them, but
 * available from the new listing (now): it moves with every write to the
 * pool, so it would be stale on every dataset carried over. */
static void carry_props(struct buf *b, const struct view_dataset *was, const struct zfs_obj *now)
{
	for (size_t i = 0; i < was->n_props; i++) {
		const struct zfs_prop *p = &was->props[i];
		buf_addf(b, "%s\t%s\t", now->name, p->property);
		if (!strcmp(p->property, "available") && now->available != ZFS_NONE)
			buf_addf(b, "%llu", (unsigned long long)now->available);
		else
			buf_adds(b, p->value);
		buf_addf(b, "\t%s\n", p->source);
	}
}

/* cmd run with names appended, at most RELIST_BATCH at a time, in
 * batches of RELIST_BATCH, appending what each prints to out. failed NULL:
 * the first failure stops it (-errno, e set). failed not NULL: a failed
 * batch is said there (its first name, how many, why) and the rest still
 * run, since one dataset destroyed between the listing and this call
 * fails its whole batch; returns 0. */
static int run_batched(const struct view_opts *o, const char *const *cmd,
                       const struct strvec *names, struct buf *out, struct strvec *failed,
                       struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	struct buf b = BUF_INIT;
	int r = 0;
	for (size_t i = 0; i < names->n && r == 0; i += RELIST_BATCH) {
		size_t n = 0;
		strvec_pushv(&argv, cmd);
		for (size_t k = i; k < names->n && k < i + RELIST_BATCH; k++, n++)
			strvec_push(&argv, names->v[k]);
		buf_reset(&b);
		struct zerr be = ZERR_INIT;
		r = run_cmd(o, (const char *const *)argv.v, &b, ZFS_OUTPUT_MAX, failed ? &be : e);
		strvec_clear(&argv);
		if (r == 0) {
			buf_add(out, b.s, b.len);
		} else if (failed) {
			strvec_pushf(failed, "cannot read %s of '%s' (and %zu more): %s", cmd[1],
			             names->v[i], n - 1, be.msg);
			r = 0;
		}
	}
	buf_free(&b);
	return r;
}

void view_incr_plan(const struct view *prev, const struct zfs_list *datasets, unsigned cols,
                    struct view_incr *out)
{
	strvec_init(&out->relist);
	strvec_init(&out->reread);
	buf_init(&out->list);
	buf_init(&out->props);
	for (size_t i = 0; i < datasets->n; i++) {
		const struct zfs_obj *d = &datasets->v[i];
		const struct view_dataset *was = view_dataset(prev, d->name);
		/* seconds only: a change in the second prev's listing started may
		 * not be in it, so that second counts as changed too. Another guid
		 * under the same name is another dataset (renamed, or destroyed
		 * and created again), whatever its snapshots_changed says. */
		if (!was || was->pd->obj->guid != d->guid || d->snapshots_changed == ZFS_NONE ||
		    was->pd->obj->snapshots_changed != d->snapshots_changed ||
		    d->snapshots_changed + 1 >= (uint64_t)prev->started) {
			strvec_push(&out->relist, d->name);
			strvec_push(&out->reread, d->name);
			continue;
		}
		for (size_t k = 0; k < was->pd->snaps.n; k++)
			format_row(&out->list, was->pd->snaps.v[k], cols);
		if (props_moved(d, was))
			strvec_push(&out->reread, d->name);
		else
			carry_props(&out->props, was, d);
	}
}

void view_incr_free(struct view_incr *p)
{
	strvec_clear(&p->relist);
	strvec_clear(&p->reread);
	buf_free(&p->list);
	buf_free(&p->props);
}

/* OpenZFS >= 2.2: list the datasets only, then what view_incr_plan says
 * must be read again; the rest is prev's, written back as text so that
 * one parse builds the view as always. A failed zfs get leaves out the
 * properties of the datasets it was for (said in failed, as in a full
 * collection), the other batches still read; *get_out is NULL when there
 * are no properties at all. */
static int collect_incremental(const struct view_opts *o, const struct view *prev, unsigned cols,
                               struct zfs_list *list_out, char **get_out, struct view_incr *plan,
                               size_t *total, struct strvec *failed, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	struct buf b = BUF_INIT, text = BUF_INIT;
	struct zfs_list dl = {0};
	int r;
	zfs_list_argv(&argv, ZFS_TYPE_DATASET, cols, true, NULL);
	r = run_cmd(o, (const char *const *)argv.v, &b, ZFS_OUTPUT_MAX, e);
	strvec_clear(&argv);
	if (r < 0 || (r = zfs_list_parse(&dl, b.s, b.len, cols, e)) < 0)
		goto out;
	*total = dl.n;
	view_incr_plan(prev, &dl, cols, plan);
	/* the datasets first, as a full listing has them */
	buf_add(&text, b.s, b.len);
	buf_add(&text, plan->list.s, plan->list.len);
	zfs_list_argv(&argv, ZFS_TYPE_SNAPSHOT, cols, false, NULL);
	strvec_pushv(&argv, (const char *const[]){"-d", "1", NULL});
	r = run_batched(o, (const char *const *)argv.v, &plan->relist, &text, NULL, e);
	strvec_clear(&argv);
	if (r < 0)
		goto out;
	zfs_get_argv(&argv, "all", NULL);
	run_batched(o, (const char *const *)argv.v, &plan->reread, &plan->props, failed, NULL);
	size_t len;
	char *s = buf_detach(&text, &len);
	if ((r = zfs_list_parse_owned(list_out, s, len, cols, e)) < 0)
		goto out;
	*get_out = plan->props.len ? buf_detach(&plan->props, NULL) : NULL;
out:
	zfs_list_free(&dl);
	strvec_clear(&argv);
	buf_free(&b);
	buf_free(&text);
	return r;
}

/* A full collection's listing of everything (streamed) and `zfs get
 * all` of every dataset; a failed zfs get is noted in failed, *get_out
 * NULL then. */
static int collect_full(const struct view_opts *o, unsigned cols, struct zfs_list *list_out,
                        char **get_out, struct strvec *failed, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	zfs_list_argv(&argv, ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, cols, true,
	              NULL);
	int r = list_full(o, (const char *const *)argv.v, cols, list_out, e);
	strvec_clear(&argv);
	if (r < 0)
		return r;
	log_debug("snapshots listed in full");
	struct zerr ge = ZERR_INIT;
	strvec_pushv(&argv,
	             (const char *const[]){"zfs", "get", "-Hp", "-o", "name,property,value,source",
	                                   "-t", "filesystem,volume", "all", NULL});
	if (run_text(o, (const char *const *)argv.v, ZFS_OUTPUT_MAX, get_out, &ge) < 0)
		strvec_push(failed, ge.msg);
	strvec_clear(&argv);
	return 0;
}

/* Each pool's zpool status and iostat text, NULL where it failed (said
 * in the log; the view notes the pool as not understood). */
static void collect_pools(const struct view_opts *o, const struct zpool_list *pl, char **status,
                          char **iostat)
{
	struct strvec argv = STRVEC_INIT;
	for (size_t i = 0; i < pl->n; i++) {
		struct zerr pe = ZERR_INIT;
		zpool_status_argv(&argv, pl->v[i].name);
		if (run_text(o, (const char *const *)argv.v, ZFS_OUTPUT_MAX, &status[i], &pe) < 0)
			log_warn("%s", pe.msg);
		strvec_clear(&argv);
		strvec_pushv(&argv,
		             (const char *const[]){"zpool", "iostat", "-v", pl->v[i].name, NULL});
		if (run_text(o, (const char *const *)argv.v, IOSTAT_CAP, &iostat[i], &pe) < 0)
			log_warn("%s", pe.msg);
		strvec_clear(&argv);
	}
}

/* zfs version, parsed into what this OpenZFS can list, and the text of
 * zpool list; both texts are the caller's, even on failure. */
static int collect_versions(const struct view_opts *o, char **version, char **zpools,
                            struct zfs_caps *caps, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	int r = run_text(o, (const char *const[]){"zfs", "version", NULL}, 65536, version, e);
	if (r < 0 || (r = zfs_version_parse(caps, *version, strlen(*version), e)) < 0)
		return r;
	zpool_list_argv(&argv);
	r = run_text(o, (const char *const *)argv.v, ZFS_OUTPUT_MAX, zpools, e);
	strvec_clear(&argv);
	return r;
}

/* The datasets' listing and properties: incrementally where this
 * OpenZFS and prev's both give snapshots_changed and a full collection
 * is not yet due (every VIEW_FULL_EVERY-th one is, to catch what the
 * property cannot tell), else in full. *since_full is the new view's
 * count of collections since the last full one. */
static int collect_datasets(const struct view_opts *o, const struct view *prev, unsigned cols,
                            struct zfs_list *zlist, char **zget, struct strvec *failed,
                            unsigned *since_full, struct zerr *e)
{
	*since_full = 0;
	if (!cols || !prev || !prev->caps.snapshots_changed ||
	    prev->since_full + 1 >= VIEW_FULL_EVERY)
		return collect_full(o, cols, zlist, zget, failed, e);
	/* zeroed: the listing may fail before view_incr_plan fills it, and
	 * it is freed either way */
	struct view_incr plan = {0};
	size_t total = 0;
	int r = collect_incremental(o, prev, cols, zlist, zget, &plan, &total, failed, e);
	if (r == 0)
		log_debug("snapshots re-read for %zu of %zu datasets, properties for %zu",
		          plan.relist.n, total, plan.reread.n);
	view_incr_free(&plan);
	if (r < 0)
		return r;
	*since_full = prev->since_full + 1;
	return 0;
}

/* What a freshly built view records of its collection. It is not yet
 * shared, so the properties that could not be read become its warnings
 * (the api's and status' partial-failure notes) without a lock. */
static void stamp_collection(struct view *v, const struct strvec *failed, unsigned since_full,
                             time_t started, const struct timespec *t0)
{
	struct timespec t1;
	for (size_t i = 0; i < failed->n; i++) {
		log_warn("%s", failed->v[i]);
		strvec_push(&v->warnings, failed->v[i]);
	}
	v->since_full = since_full;
	v->started = started;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	v->duration = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Frees the n texts of collect_pools' array and the array. */
static void free_texts(char **texts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}

int view_collect(const struct view_opts *o, const struct view *prev, struct view **out,
                 struct zerr *e)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	time_t started = time(NULL);
	char *version = NULL, *zpools = NULL, *zget = NULL;
	struct zfs_list zlist = {0};
	char **status = NULL, **iostat = NULL;
	struct zpool_list pl = {0};
	struct zfs_caps caps;
	struct strvec failed = STRVEC_INIT; /* properties not read, for the warnings */
	size_t npools = 0;
	unsigned since_full = 0;
	int r;

	if ((r = collect_versions(o, &version, &zpools, &caps, e)) < 0)
		goto out;
	unsigned cols = caps.snapshots_changed ? ZFS_COL_SNAPSHOTS_CHANGED : 0;
	if ((r = collect_datasets(o, prev, cols, &zlist, &zget, &failed, &since_full, e)) < 0)
		goto out;
	/* the pools as listed, to ask each one's status and iostat */
	if ((r = zpool_list_parse(&pl, zpools, strlen(zpools), e)) < 0)
		goto out;
	npools = pl.n;
	status = xcalloc(npools + 1, sizeof(*status));
	iostat = xcalloc(npools + 1, sizeof(*iostat));
	collect_pools(o, &pl, status, iostat);
	struct view_texts t = {
	    version, zpools, NULL, zget, (const char *const *)status, (const char *const *)iostat,
	    cols};
	struct view_opts o2 = *o;
	o2.now = time(NULL);
	r = build(&o2, &t, &zlist, prev, out, e); /* zlist is the view's, or freed */
	if (r == 0)
		stamp_collection(*out, &failed, since_full, started, &t0);
out:
	free_texts(status, npools);
	free_texts(iostat, npools);
	zpool_list_free(&pl);
	strvec_clear(&failed);
	free(version);
	free(zpools);
	zfs_list_free(&zlist);
	free(zget);
	return r;
}

/* ---- the holder ------------------------------------------------------ */

void view_holder_init(struct view_holder *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->mu, NULL);
}

void view_holder_free(struct view_holder *h)
{
	view_put(h->cur);
	h->cur = NULL;
	pthread_mutex_destroy(&h->mu);
}

struct view *view_holder_get(struct view_holder *h, struct view_status *st)
{
	pthread_mutex_lock(&h->mu);
	struct view *v = view_ref(h->cur);
	if (st)
		*st = h->st;
	pthread_mutex_unlock(&h->mu);
	return v;
}

void view_holder_update(struct view_holder *h, struct view *v, double duration,
                        const struct zerr *e)
{
	struct view *old = NULL;
	pthread_mutex_lock(&h->mu);
	h->st.last_attempt = (int64_t)time(NULL);
	h->st.last_duration = duration;
	h->st.collections++;
	if (v) {
		old = h->cur;
		h->cur = v;
		h->st.last_ok = true;
		h->st.last_success = h->st.last_attempt;
		h->st.last_error[0] = '\0';
	} else {
		h->st.last_ok = false;
		h->st.failures++;
		snprintf(h->st.last_error, sizeof(h->st.last_error), "%s",
		         e && *e->msg ? e->msg : "collection failed");
	}
	pthread_mutex_unlock(&h->mu);
	view_put(old); /* the last reader of the old view may be us: free outside the lock */
}
