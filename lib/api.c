/* The api's endpoints (api.h): each route's answer rendered from a view,
 * the kept bodies, and the backup log endpoints' reads of the log directory. */
#include "api.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autosnap.h"
#include "fmt.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

#ifndef ZKEEP_VERSION
#define ZKEEP_VERSION "0.0.0-dev"
#endif

#define LOG_TAIL_MAX ((off_t)1 << 20) /* a log request reads at most this from the end */

static void reply(struct http_response *res, int status, json_t *j)
{
	res->status = status;
	res->content_type = "application/json";
	buf_reset(&res->body);
	/* compact, as FastAPI writes; 15 digits print a number rounded to
	 * two decimals as Python does (33.33, not 33.329999999999998) */
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (s)
		buf_adds(&res->body, s);
	free(s);
	json_decref(j);
}

static json_t *human(uint64_t n)
{
	struct buf b = BUF_INIT;
	fmt_bytes_human(&b, n == ZFS_NONE ? 0 : n);
	json_t *j = json_string(b.s);
	buf_free(&b);
	return j;
}

static json_t *num(uint64_t n)
{
	return n == ZFS_NONE ? json_null() : json_integer((json_int_t)n);
}

/* t as the API writes times (fmt_iso), or null when it has none; usec
 * adds the microseconds the seed's isoformat() writes in its "now"
 * values, only when they are not zero. */
static json_t *iso_usec(int64_t t, long usec)
{
	struct buf b = BUF_INIT;
	bool frac = usec > 0 && usec < 1000000;
	json_t *j =
	    fmt_iso(&b, t, frac ? usec * 1000 : 0, frac ? 6 : 0) ? json_string(b.s) : json_null();
	buf_free(&b);
	return j;
}

static json_t *iso(int64_t t)
{
	return iso_usec(t, 0);
}

/* A compressratio as zfs prints it ("1.50"; older zfs "1.50x"). */
static bool ratio_value(const char *s, double *out)
{
	char *end = NULL;
	double r = s ? strtod(s, &end) : 0;
	if (!end || end == s || (*end && strcmp(end, "x")) || !(r > 0))
		return false;
	*out = r;
	return true;
}

/* compression_savings_percent, which the seed writes only when the ratio
 * is above 1: round((1 - 1/ratio) * 100, 2). %.2f rounds the exact binary
 * value half to even, as Python's round() does. */
static void add_savings(json_t *j, const char *ratio)
{
	double r;
	if (!ratio_value(ratio, &r) || r <= 1.0)
		return;
	char t[64];
	snprintf(t, sizeof(t), "%.2f", (1.0 - 1.0 / r) * 100.0);
	json_object_set_new(j, "compression_savings_percent", json_real(strtod(t, NULL)));
}

/* ---- pools ----------------------------------------------------------- */

static json_t *pool_json(const struct zpool *p)
{
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(p->name));
	json_object_set_new(j, "health", json_string(p->health));
	json_object_set_new(j, "size_bytes", num(p->size));
	json_object_set_new(j, "allocated_bytes", num(p->allocated));
	json_object_set_new(j, "free_bytes", num(p->free));
	json_object_set_new(j, "capacity_percent", num(p->capacity));
	json_object_set_new(j, "fragmentation_percent", num(p->fragmentation));
	json_object_set_new(j, "size_human", human(p->size));
	json_object_set_new(j, "allocated_human", human(p->allocated));
	json_object_set_new(j, "free_human", human(p->free));
	return j;
}

static void pools(const struct view *v, struct http_response *res)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->pools.n; i++)
		json_array_append_new(a, pool_json(&v->pools.v[i]));
	reply(res, 200, json_pack("{s:o, s:I}", "pools", a, "count", (json_int_t)v->pools.n));
}

/* The first line of section key ("status", "scan"...) of zpool status'
 * text, trimmed, or NULL: the seed's fields hold that line only. */
static char *status_line(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *l = text; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		size_t sp = strspn(l, " \t");
		if (sp + kl < n && !strncmp(l + sp, key, kl) && l[sp + kl] == ':') {
			const char *v = l + sp + kl + 1;
			v += strspn(v, " \t");
			size_t vl = (size_t)(l + n - v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
				vl--;
			return xstrndup(v, vl);
		}
		l = end ? end + 1 : NULL;
	}
	return NULL;
}

static json_t *line_or_null(const char *text, const char *key)
{
	char *l = status_line(text, key);
	json_t *j = l ? json_string(l) : json_null();
	free(l);
	return j;
}

/* The seed's scan object, from the first scan line: {} without one,
 * {"status": "none requested"}, else type when the line names it, status
 * when it says in progress/completed/canceled, errors from "with N errors"
 * (else 0). zkeep's reading of the whole scan section follows under its
 * own names (state, end_time, text). */
static json_t *scan_json(const struct view_pool *p)
{
	char *l = p->status.text ? status_line(p->status.text, "scan") : NULL;
	json_t *j = json_object();
	if (!l)
		return j;
	if (strstr(l, "none requested")) {
		json_object_set_new(j, "status", json_string("none requested"));
	} else {
		if (strstr(l, "scrub"))
			json_object_set_new(j, "type", json_string("scrub"));
		else if (strstr(l, "resilver"))
			json_object_set_new(j, "type", json_string("resilver"));
		static const char *const said[] = {"in progress", "completed", "canceled"};
		for (size_t i = 0; i < sizeof(said) / sizeof(said[0]); i++)
			if (strstr(l, said[i])) {
				json_object_set_new(j, "status", json_string(said[i]));
				break;
			}
		long long errors = 0;
		const char *w = strstr(l, "with ");
		char *end;
		if (w) {
			long long n = strtoll(w + 5, &end, 10);
			if (end > w + 5 && !strncmp(end, " errors", 7) && n >= 0)
				errors = n;
		}
		json_object_set_new(j, "errors", json_integer(errors));
	}
	free(l);
	json_object_set_new(j, "state", json_string(p->scan.state));
	json_object_set_new(j, "end_time", p->scan.end ? iso(p->scan.end) : json_null());
	json_object_set_new(j, "text", p->status.scan ? json_string(p->status.scan) : json_null());
	return j;
}

static void pool_status(const struct view_pool *p, struct http_response *res)
{
	if (!p->have_status) { /* the seed: its zpool status call failed */
		http_error(res, 404, "Could not get status for pool '%s'", p->zp->name);
		return;
	}
	const struct zpool_status *s = &p->status;
	json_t *cfg = json_array();
	for (size_t i = 0; i < s->n_vdevs; i++) {
		const struct zpool_vdev *d = &s->vdevs[i];
		json_t *v =
		    json_pack("{s:s, s:s}", "name", d->name, "state", d->state ? d->state : "");
		/* the counts only where the line has them, as the seed */
		if (d->read_errors != ZFS_NONE && d->write_errors != ZFS_NONE &&
		    d->checksum_errors != ZFS_NONE) {
			json_object_set_new(v, "read_errors", num(d->read_errors));
			json_object_set_new(v, "write_errors", num(d->write_errors));
			json_object_set_new(v, "checksum_errors", num(d->checksum_errors));
		}
		json_object_set_new(v, "depth", json_integer(d->depth));
		json_array_append_new(cfg, v);
	}
	const char *t = s->text ? s->text : "";
	json_t *j = json_object();
	json_object_set_new(j, "pool", json_string(p->zp->name));
	json_object_set_new(j, "state", line_or_null(t, "state"));
	json_object_set_new(j, "status", line_or_null(t, "status"));
	json_object_set_new(j, "action", line_or_null(t, "action"));
	json_object_set_new(j, "scan", scan_json(p));
	json_object_set_new(j, "config", cfg);
	json_object_set_new(j, "errors", line_or_null(t, "errors"));
	json_object_set_new(j, "raw_output", json_string(t));
	reply(res, 200, j);
}

/* ---- datasets -------------------------------------------------------- */

static json_t *dataset_json(const struct view_dataset *d)
{
	const struct zfs_obj *o = d->pd->obj;
	json_t *j = json_object();
	json_object_set_new(j, "name", json_string(o->name));
	json_object_set_new(j, "used_bytes", num(o->used));
	json_object_set_new(j, "available_bytes", num(o->available));
	json_object_set_new(j, "referenced_bytes", num(o->referenced));
	/* strings as zfs prints them ("-" for a volume's mountpoint) */
	json_object_set_new(j, "mountpoint", json_string(d->mountpoint));
	json_object_set_new(j, "compression", json_string(d->compression));
	json_object_set_new(j, "compression_ratio", json_string(d->compressratio));
	json_object_set_new(j, "used_human", human(o->used));
	json_object_set_new(j, "available_human", human(o->available));
	json_object_set_new(j, "referenced_human", human(o->referenced));
	add_savings(j, d->compressratio);
	json_object_set_new(j, "type", json_string(zfs_type_name(o->type)));
	json_object_set_new(j, "snapshot_count", json_integer((json_int_t)d->pd->snaps.n));
	return j;
}

static void datasets(const struct view *v, struct http_response *res)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->ix.n; i++)
		json_array_append_new(a, dataset_json(&v->ds[i]));
	reply(res, 200, json_pack("{s:o, s:I}", "datasets", a, "count", (json_int_t)v->ix.n));
}

/* A property's value as a byte count, or false when it is not one. */
static bool prop_bytes(const struct view_dataset *d, const char *name, uint64_t *out)
{
	for (size_t i = 0; i < d->n_props; i++) {
		const char *v = d->props[i].value;
		if (strcmp(d->props[i].property, name))
			continue;
		if (!*v || strspn(v, "0123456789") != strlen(v))
			return false;
		errno = 0;
		char *end;
		unsigned long long n = strtoull(v, &end, 10);
		if (errno)
			return false;
		*out = n;
		return true;
	}
	return false;
}

static void dataset(const struct view_dataset *d, struct http_response *res)
{
	json_t *props = json_object();
	const char *ratio = NULL;
	for (size_t i = 0; i < d->n_props; i++) {
		json_object_set_new(props, d->props[i].property, json_string(d->props[i].value));
		if (!strcmp(d->props[i].property, "compressratio"))
			ratio = d->props[i].value;
	}
	json_t *j = json_pack("{s:s, s:o}", "name", d->pd->obj->name, "properties", props);
	/* the seed's optional fields: each where its property is there */
	static const char *const human_of[][2] = {{"used", "used_human"},
	                                          {"available", "available_human"},
	                                          {"referenced", "referenced_human"}};
	for (size_t i = 0; i < sizeof(human_of) / sizeof(human_of[0]); i++) {
		uint64_t n;
		if (prop_bytes(d, human_of[i][0], &n))
			json_object_set_new(j, human_of[i][1], human(n));
	}
	add_savings(j, ratio);
	reply(res, 200, j);
}

/* ---- snapshot lists, streamed ---------------------------------------- */

enum stream_shape {
	SHAPE_ALL,     /* /api/v1/snapshots/_all: the groups of every dataset with snapshots */
	SHAPE_GROUP,   /* /api/v1/snapshots/{path}: one group */
	SHAPE_DATASET, /* /api/v1/datasets/{path}/snapshots */
};

struct api_stream {
	struct view *v; /* referenced */
	enum stream_shape shape;
	size_t first, i, end; /* datasets [first, end) of v->ds; i the one being written */
	size_t k;             /* its next snapshot */
	size_t groups;        /* groups begun */
	bool started, in_group, done;
	struct buf pend; /* written and not yet read, from off */
	size_t off;
};

/* The writers of one member: key is its text up to the value, as
 * ",\"name\":". */
static void put_num(struct buf *b, const char *key, uint64_t n)
{
	buf_adds(b, key);
	if (n == ZFS_NONE)
		buf_adds(b, "null");
	else /* unsigned: half of all guids are above INT64_MAX */
		buf_addf(b, "%llu", (unsigned long long)n);
}

static void put_human(struct buf *b, const char *key, uint64_t n)
{
	buf_adds(b, key);
	buf_addch(b, '"');
	fmt_bytes_human(b, n == ZFS_NONE ? 0 : n);
	buf_addch(b, '"');
}

static void put_str(struct buf *b, const char *key, const char *s)
{
	buf_adds(b, key);
	if (s)
		buf_add_json_str(b, s, strlen(s));
	else
		buf_adds(b, "null");
}

/* One snapshot, with the fields (and in the order) of the seed's API. */
static void snapshot_write(struct buf *b, const struct zfs_obj *s)
{
	const char *at = strchr(s->name, '@');
	put_str(b, "{\"name\":", at ? at + 1 : s->name);
	put_str(b, ",\"full_name\":", s->name);
	put_num(b, ",\"creation_timestamp\":", s->creation);
	put_num(b, ",\"used_bytes\":", s->used);
	put_num(b, ",\"referenced_bytes\":", s->referenced);
	put_human(b, ",\"used_human\":", s->used);
	put_human(b, ",\"referenced_human\":", s->referenced);
	buf_adds(b, ",\"creation_iso\":\"");
	/* written in place: a list may have 50,000 of them */
	if (s->creation != ZFS_NONE && fmt_iso(b, (int64_t)s->creation, 0, 0)) {
		buf_addch(b, '"');
	} else {
		buf_setlen(b, b->len - 1);
		buf_adds(b, "null");
	}
	put_num(b, ",\"guid\":", s->guid);
	put_num(b, ",\"createtxg\":", s->createtxg);
	buf_addch(b, '}');
}

/* A group's fields before its snapshots; "]}" closes it. */
static void group_head(struct buf *b, const struct view_dataset *d)
{
	put_str(b, "{\"dataset\":", d->pd->obj->name);
	buf_addf(b, ",\"snapshot_count\":%zu,\"total_used_bytes\":%llu", d->pd->snaps.n,
	         (unsigned long long)d->snapshots_used);
	put_human(b, ",\"total_used_human\":", d->snapshots_used);
	buf_adds(b, ",\"snapshots\":[");
}

/* Appends the next piece of the body to s->pend: its head, a group's
 * head, one snapshot, a group's end, or the body's end. */
static void stream_step(struct api_stream *s)
{
	struct buf *b = &s->pend;
	const struct view *v = s->v;
	if (!s->started) {
		s->started = true;
		if (s->shape == SHAPE_ALL) {
			size_t groups = 0, total = 0;
			for (size_t i = 0; i < v->ix.n; i++) {
				groups += v->ds[i].pd->snaps.n > 0;
				total += v->ds[i].pd->snaps.n;
			}
			buf_addf(b, "{\"dataset_count\":%zu,\"snapshot_count\":%zu,\"datasets\":[",
			         groups, total);
		} else if (s->shape == SHAPE_DATASET) {
			put_str(b, "{\"dataset\":", v->ds[s->first].pd->obj->name);
			buf_adds(b, ",\"snapshots\":[");
		}
		return;
	}
	while (s->i < s->end) {
		const struct view_dataset *d = &v->ds[s->i];
		if (!s->in_group) {
			if (s->shape == SHAPE_ALL && !d->pd->snaps.n) {
				s->i++;
				continue;
			}
			s->in_group = true;
			s->k = 0;
			if (s->shape == SHAPE_DATASET)
				continue;
			if (s->groups++)
				buf_addch(b, ',');
			group_head(b, d);
			return;
		}
		if (s->k < d->pd->snaps.n) {
			if (s->k)
				buf_addch(b, ',');
			snapshot_write(b, d->pd->snaps.v[s->k++]);
			return;
		}
		s->in_group = false;
		s->i++;
		if (s->shape != SHAPE_DATASET) {
			buf_adds(b, "]}");
			return;
		}
	}
	if (s->shape == SHAPE_ALL)
		buf_adds(b, "]}");
	else if (s->shape == SHAPE_DATASET)
		buf_addf(b, "],\"count\":%zu}", v->ds[s->first].pd->snaps.n);
	s->done = true;
}

size_t api_stream_read(struct api_stream *s, char *out, size_t max)
{
	if (s->off) { /* keep what is unread at the front, so pend stays small */
		memmove(s->pend.s, s->pend.s + s->off, s->pend.len - s->off);
		buf_setlen(&s->pend, s->pend.len - s->off);
		s->off = 0;
	}
	while (s->pend.len < max && !s->done)
		stream_step(s);
	size_t n = s->pend.len < max ? s->pend.len : max;
	memcpy(out, s->pend.s, n);
	s->off = n;
	return n;
}

void api_stream_free(struct api_stream *s)
{
	if (!s)
		return;
	view_put(s->v);
	buf_free(&s->pend);
	free(s);
}

static size_t stream_read(void *s, char *out, size_t max)
{
	return api_stream_read(s, out, max);
}

static void stream_free(void *s)
{
	api_stream_free(s);
}

/* Answers with the snapshots of datasets [first, end) of v, as shape. */
static void snapshots_stream(const struct view *v, enum stream_shape shape, size_t first,
                             size_t end, struct http_response *res)
{
	struct api_stream *s = xcalloc(1, sizeof(*s));
	/* a reference, not a change: the view itself stays immutable */
	s->v = view_ref((struct view *)v);
	s->shape = shape;
	s->first = s->i = first;
	s->end = end;
	buf_init(&s->pend);
	res->status = 200;
	res->content_type = "application/json";
	buf_reset(&res->body);
	if (res->stream)
		res->stream_free(res->stream);
	res->stream = s;
	res->stream_read = stream_read;
	res->stream_free = stream_free;
}

/* The seed's compliance report (seed-system.md 5, REPORT), from the view:
 * per interval the seed's uncapped count ratio (seed_percent);
 * summary.avg_compliance the int mean of every interval value above 0
 * across datasets (0 if none); a dataset is low when any interval is under
 * 80, and its alert's avg_compliance is the int mean of its four values.
 * zkeep's age-aware compliance follows under its own names: per dataset
 * fresh, compliant and newest per interval, and summary.compliant_datasets
 * (every interval compliant: all its snapshots, the newest fresh). */
static void compliance_report(const struct view *v, const char *hostname, struct http_response *res)
{
	static const struct autosnap_member seed[] = {{"counts", AUTOSNAP_COUNT},
	                                              {"retention", AUTOSNAP_RETENTION},
	                                              {"compliance", AUTOSNAP_SEED_PERCENT}};
	static const struct autosnap_member own[] = {{"fresh", AUTOSNAP_FRESH},
	                                             {"compliant", AUTOSNAP_COMPLIANT},
	                                             {"newest", AUTOSNAP_NEWEST}};
	json_t *list = json_array(), *low = json_array();
	size_t total_snaps = 0, n = 0, n_pos = 0, n_compliant = 0;
	long long sum_pos = 0;
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		if (!d->pd->policy)
			continue;
		long long dsum = 0;
		size_t autosnaps = 0;
		bool is_low = false, all_ok = true;
		for (int k = 0; k < ZK_N_INTERVALS; k++) {
			const struct policy_compliance *pc = &d->comp[k];
			autosnaps += pc->count;
			dsum += pc->seed_percent;
			is_low |= pc->seed_percent < 80;
			all_ok &= pc->compliant;
			if (pc->seed_percent > 0) {
				sum_pos += pc->seed_percent;
				n_pos++;
			}
		}
		n++;
		n_compliant += all_ok;
		total_snaps += autosnaps;
		json_t *e = json_pack("{s:s, s:s}", "dataset", d->pd->obj->name, "policy",
		                      d->pd->policy->name);
		autosnap_add_maps(e, d->comp, seed, sizeof(seed) / sizeof(seed[0]));
		json_object_set_new(e, "total_snapshots", json_integer((json_int_t)autosnaps));
		autosnap_add_maps(e, d->comp, own, sizeof(own) / sizeof(own[0]));
		json_array_append_new(list, e);
		if (is_low)
			json_array_append_new(
			    low, json_pack("{s:s, s:s, s:I}", "dataset", d->pd->obj->name, "policy",
			                   d->pd->policy->name, "avg_compliance",
			                   (json_int_t)((double)dsum / ZK_N_INTERVALS)));
	}
	json_t *summary = json_pack("{s:I, s:I, s:I, s:I, s:I}", "total_datasets", (json_int_t)n,
	                            "total_snapshots", (json_int_t)total_snaps, "avg_compliance",
	                            (json_int_t)(n_pos ? (double)sum_pos / (double)n_pos : 0),
	                            "low_compliance_count", (json_int_t)json_array_size(low),
	                            "compliant_datasets", (json_int_t)n_compliant);
	reply(res, 200,
	      json_pack("{s:s, s:o, s:o, s:o, s:{s:o}}", "hostname", hostname, "timestamp",
	                iso(v->collected), "datasets", list, "summary", summary, "alerts",
	                "low_compliance_datasets", low));
}

/* ---- backups --------------------------------------------------------- */

static json_t *backup_entry(const struct view_dataset *d)
{
	const struct zfs_obj *o = d->pd->obj;
	return json_pack("{s:s, s:o, s:o, s:o, s:o}", "name", o->name, "used_bytes", num(o->used),
	                 "used_human", human(o->used), "available_bytes", num(o->available),
	                 "available_human", human(o->available));
}

static json_t *runs_json(const struct api_ctx *c)
{
	const struct view *v = c->v;
	json_t *a = json_array();
	for (size_t i = 0; i < v->n_backups; i++) {
		const struct view_backup *b = &v->backups[i];
		json_t *j = json_object();
		json_object_set_new(j, "job", json_string(b->job));
		json_object_set_new(j, "kind", json_string(b->kind));
		json_object_set_new(j, "source_host", json_string(b->source_host));
		json_object_set_new(j, "destination_host", json_string(b->destination_host));
		json_object_set_new(j, "source", json_string(b->source));
		json_object_set_new(j, "target", json_string(b->target));
		json_object_set_new(j, "last_result", json_string(b->result));
		json_object_set_new(j, "last_error",
		                    b->error ? json_string(b->error) : json_null());
		json_object_set_new(j, "last_run", b->end ? iso(b->end) : json_null());
		json_object_set_new(j, "last_run_timestamp", json_integer(b->end));
		json_object_set_new(j, "last_success",
		                    b->last_success ? iso(b->last_success) : json_null());
		json_object_set_new(j, "last_success_timestamp",
		                    b->last_success ? json_integer(b->last_success) : json_null());
		json_object_set_new(j, "bytes", json_integer(b->bytes));
		json_object_set_new(j, "duration_seconds",
		                    json_integer(b->end >= b->start ? b->end - b->start : 0));
		json_object_set_new(j, "newest_snapshot",
		                    b->newest_name ? json_string(b->newest_name) : json_null());
		json_object_set_new(j, "newest_snapshot_timestamp",
		                    b->newest_creation ? json_integer(b->newest_creation)
		                                       : json_null());
		/* lag: how far behind now the newest replicated snapshot is */
		json_object_set_new(j, "lag_seconds",
		                    b->newest_creation ? json_integer(c->now - b->newest_creation)
		                                       : json_null());
		json_object_set_new(j, "resume_pending", json_boolean(b->resume_pending));
		json_object_set_new(j, "run_result", json_string(b->run_result));
		json_object_set_new(j, "run_error",
		                    b->run_error ? json_string(b->run_error) : json_null());
		json_array_append_new(a, j);
	}
	return a;
}

static json_t *locks_json(const struct view *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n_locks; i++) {
		const struct view_lock *l = &v->locks[i];
		json_array_append_new(
		    a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:o, s:o}", "job", l->job, "kind",
		                 l->kind, "host", l->host, "path", l->path, "held", l->held, "pid",
		                 l->held && l->pid ? json_integer(l->pid) : json_null(), "since",
		                 l->held ? iso(l->since) : json_null()));
	}
	return a;
}

/* The seed's rule: a backup is a dataset whose name contains /backups/ or
 * /encryptedbackups/ or starts with backups/; offsite when the name
 * contains encryptedbackups anywhere, local otherwise. */
static int backup_kind(const char *n)
{
	if (!strstr(n, "/backups/") && !strstr(n, "/encryptedbackups/") &&
	    strncmp(n, "backups/", 8))
		return 0;
	return strstr(n, "encryptedbackups") ? 2 : 1;
}

static void backups(const struct api_ctx *c, struct http_response *res)
{
	const struct view *v = c->v;
	json_t *local = json_array(), *offsite = json_array();
	uint64_t lsum = 0, osum = 0;
	for (size_t i = 0; i < v->ix.n; i++) {
		const struct view_dataset *d = &v->ds[i];
		const char *n = d->pd->obj->name;
		uint64_t used = d->pd->obj->used == ZFS_NONE ? 0 : d->pd->obj->used;
		int kind = backup_kind(n);
		if (kind == 2) {
			json_array_append_new(offsite, backup_entry(d));
			osum += used;
		} else if (kind == 1) {
			json_array_append_new(local, backup_entry(d));
			lsum += used;
		}
	}
	json_t *j = json_object();
	json_object_set_new(
	    j, "backup_datasets",
	    json_pack("{s:o, s:o}", "local_backups", local, "offsite_backups", offsite));
	json_object_set_new(j, "total_local_backups",
	                    json_integer((json_int_t)json_array_size(local)));
	json_object_set_new(j, "total_offsite_backups",
	                    json_integer((json_int_t)json_array_size(offsite)));
	json_object_set_new(j, "note",
	                    json_string("datasets are grouped by name (/backups/ local, "
	                                "encryptedbackups offsite); runs and locks come from "
	                                "zkeep's run records and lock files"));
	/* zkeep's own, after the seed's */
	json_object_set_new(j, "total_local_bytes", json_integer((json_int_t)lsum));
	json_object_set_new(j, "total_local_human", human(lsum));
	json_object_set_new(j, "total_offsite_bytes", json_integer((json_int_t)osum));
	json_object_set_new(j, "total_offsite_human", human(osum));
	json_object_set_new(j, "runs", runs_json(c));
	json_object_set_new(j, "locks", locks_json(v));
	reply(res, 200, j);
}

#define LOGS_LISTED 20 /* the seed lists the newest 20 */

struct log_file {
	char *name;
	struct stat st;
};

static int log_newer_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct log_file *)a)->st.st_mtim,
	                      *y = &((const struct log_file *)b)->st.st_mtim;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? 1 : -1;
	if (x->tv_nsec != y->tv_nsec)
		return x->tv_nsec < y->tv_nsec ? 1 : -1;
	return strcmp(((const struct log_file *)a)->name, ((const struct log_file *)b)->name);
}

static void logs(const struct api_ctx *c, struct http_response *res)
{
	DIR *d = c->log_dir ? opendir(c->log_dir) : NULL;
	if (!d) { /* the seed's shape when its directory is not there */
		reply(res, 200,
		      json_pack("{s:b, s:s, s:s}", "available", 0, "message",
		                c->log_dir ? "Log directory not found"
		                           : "No backup log directory is configured",
		                "path", c->log_dir ? c->log_dir : ""));
		return;
	}
	struct log_file *files = NULL;
	size_t n = 0, alloc = 0;
	const struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (!http_log_name_ok(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		files = xgrow(files, &alloc, n + 1, sizeof(*files));
		files[n].name = xstrdup(de->d_name);
		files[n++].st = st;
	}
	closedir(d);
	if (n)
		qsort(files, n, sizeof(*files), log_newer_first);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		if (i < LOGS_LISTED) {
			struct buf path = BUF_INIT;
			buf_addf(&path, "%s/%s", c->log_dir, files[i].name);
			json_array_append_new(
			    a, json_pack("{s:s, s:s, s:I, s:o}", "filename", files[i].name, "path",
			                 path.s, "size_bytes", (json_int_t)files[i].st.st_size,
			                 "modified",
			                 iso_usec(files[i].st.st_mtim.tv_sec,
			                          files[i].st.st_mtim.tv_nsec / 1000)));
			buf_free(&path);
		}
		free(files[i].name);
	}
	free(files);
	reply(res, 200,
	      json_pack("{s:b, s:s, s:I, s:o}", "available", 1, "log_directory", c->log_dir,
	                "log_count", (json_int_t)json_array_size(a), "logs", a));
}

/* total_lines of a log, counted once per file and then only over the bytes
 * appended since; counted again from the start when the file shrank, its
 * mtime moved back or its first bytes changed (a rotated log's new file can
 * get the old one's inode). Guarded by log_mu. */
#define LOG_HEAD 4096
struct line_count {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	uint64_t head; /* FNV-1a of the first min(size, LOG_HEAD) bytes */
	uint64_t newlines;
	bool ends_nl; /* the last byte counted is a newline (or none was) */
};
static struct line_count line_counts[8];
static size_t line_counts_next;
/* One log request at a time: the others get 503 (a 1 GiB log is read
 * through once to count its lines). */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static uint64_t head_hash(int fd, off_t size)
{
	char h[LOG_HEAD];
	ssize_t n = pread(fd, h, size < LOG_HEAD ? (size_t)size : LOG_HEAD, 0);
	uint64_t x = 14695981039346656037ULL;
	for (ssize_t i = 0; i < n; i++)
		x = (x ^ (unsigned char)h[i]) * 1099511628211ULL;
	return x;
}

static int count_lines(int fd, const struct stat *st, uint64_t *total)
{
	struct line_count *lc = NULL;
	for (size_t i = 0; i < sizeof(line_counts) / sizeof(line_counts[0]); i++)
		if (line_counts[i].dev == st->st_dev && line_counts[i].ino == st->st_ino &&
		    line_counts[i].size)
			lc = &line_counts[i];
	if (!lc || st->st_size < lc->size || ts_before(&st->st_mtim, &lc->mtime) ||
	    head_hash(fd, lc->size) != lc->head) {
		if (!lc)
			lc = &line_counts[line_counts_next++ %
			                  (sizeof(line_counts) / sizeof(line_counts[0]))];
		*lc = (struct line_count){.dev = st->st_dev, .ino = st->st_ino, .ends_nl = true};
	}
	char chunk[65536];
	off_t pos = lc->size;
	while (pos < st->st_size) {
		size_t want = (size_t)(st->st_size - pos) < sizeof(chunk)
		                  ? (size_t)(st->st_size - pos)
		                  : sizeof(chunk);
		ssize_t n = pread(fd, chunk, want, pos);
		if (n <= 0) {
			lc->size = 0; /* not counted: again next time */
			return -EIO;
		}
		for (const char *p = chunk; (p = memchr(p, '\n', (size_t)(chunk + n - p))); p++)
			lc->newlines++;
		lc->ends_nl = chunk[n - 1] == '\n';
		pos += n;
	}
	if (lc->size < LOG_HEAD)
		lc->head = head_hash(fd, pos);
	lc->size = pos;
	lc->mtime = st->st_mtim;
	*total = lc->newlines + (pos && !lc->ends_nl ? 1 : 0);
	return 0;
}

/* The last `want` lines of the file, from at most its last LOG_TAIL_MAX
 * bytes: a line cut by that window is left out, unless it is the only one
 * (then its end is returned); *truncated says that lines were left out or
 * cut. Returns the text's start and end in b. */
static void tail_lines(int fd, off_t size, int want, struct buf *b, size_t *from, size_t *to,
                       int *got, bool *truncated)
{
	size_t win = size < LOG_TAIL_MAX ? (size_t)size : (size_t)LOG_TAIL_MAX;
	/* one byte more before the window, when there is one: whether the
	 * window starts at a line start */
	size_t lo = (off_t)win < size ? 1 : 0;
	buf_grow(b, win + lo);
	ssize_t n = win ? pread(fd, b->s, win + lo, size - (off_t)(win + lo)) : 0;
	buf_setlen(b, n > (ssize_t)lo ? (size_t)n : lo);
	size_t end = b->len > lo && b->s[b->len - 1] == '\n' ? b->len - 1 : b->len, start = end;
	*got = 0;
	*truncated = false;
	if (b->len > lo) {
		*got = 1;
		while (start > lo) {
			if (b->s[start - 1] == '\n') {
				if (*got == want)
					break;
				(*got)++;
			}
			start--;
		}
	}
	if (start == lo && lo) {            /* the window ran out before `want` lines */
		bool cut = b->s[0] != '\n'; /* its first line began before it */
		*truncated = cut || *got < want;
		const char *nl = cut && *got > 1 ? memchr(b->s + lo, '\n', end - lo) : NULL;
		if (nl) { /* whole lines only */
			start = (size_t)(nl - b->s) + 1;
			(*got)--;
		}
	}
	*from = start;
	*to = end;
}

static void log_tail(const struct api_ctx *c, const char *name, const char *lines_arg,
                     struct http_response *res)
{
	int want;
	if (http_parse_lines(lines_arg, &want) < 0) {
		/* FastAPI's validation error (pydantic 2), as the seed answers */
		reply(res, 422,
		      json_pack("{s:[{s:s, s:[s,s], s:s, s:s}]}", "detail", "type", "int_parsing",
		                "loc", "query", "lines", "msg",
		                "Input should be a valid integer, unable to parse string as an "
		                "integer",
		                "input", lines_arg));
		return;
	}
	if (!http_log_name_ok(name)) {
		http_error(res, 400, "invalid log file name");
		return;
	}
	if (!c->log_dir) {
		http_error(res, 404, "no backup log directory is configured");
		return;
	}
	if (pthread_mutex_trylock(&log_mu) != 0) {
		http_error(res, 503, "busy");
		res->retry_after = 1;
		return;
	}
	/* relative to the directory, no symlink followed: nothing outside it */
	int dfd = open(c->log_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct zerr e = ZERR_INIT;
	int fd = dfd < 0 ? -ENOENT : state_open_read(dfd, name, INT64_MAX, NULL, &e);
	if (dfd >= 0)
		close(dfd);
	struct stat st;
	uint64_t total = 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		http_error(res, 404, "log file '%s' not found", name);
	} else if (count_lines(fd, &st, &total) < 0) {
		http_error(res, 500, "cannot read log file '%s'", name);
	} else {
		struct buf b = BUF_INIT;
		size_t from, to;
		int got;
		bool truncated;
		tail_lines(fd, st.st_size, want, &b, &from, &to, &got, &truncated);
		json_t *j = json_object();
		json_object_set_new(j, "filename", json_string(name));
		json_object_set_new(j, "lines_requested", json_integer(want));
		json_object_set_new(j, "lines_returned", json_integer(got));
		json_object_set_new(j, "total_lines", json_integer((json_int_t)total));
		/* valid UTF-8 in JSON even when the log is not */
		struct buf s = BUF_INIT;
		buf_add_json_str(&s, b.s + from, to - from);
		buf_free(&b);
		json_error_t je;
		json_t *content = json_loadb(s.s, s.len, JSON_DECODE_ANY, &je);
		json_object_set_new(j, "content", content ? content : json_string(""));
		/* zkeep's own field, after the seed's (whose order stays) */
		json_object_set_new(j, "truncated", json_boolean(truncated));
		buf_free(&s);
		reply(res, 200, j);
	}
	if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&log_mu);
}

/* ---- bodies rendered once per view ------------------------------------ */

/* What view_body keys mean here: one kind per route whose body depends on
 * the view and the path only, the index a pool's or dataset's position in
 * the view (0 for the lists). */
enum body_kind {
	BODY_POOLS,
	BODY_POOL,
	BODY_POOL_STATUS,
	BODY_POOL_IOSTAT,
	BODY_DATASETS,
	BODY_DATASET,
	BODY_SNAPSHOTS,         /* the compliance report */
	BODY_SNAPSHOTS_GROUP,   /* /api/v1/snapshots/{path} */
	BODY_DATASET_SNAPSHOTS, /* /api/v1/datasets/{path}/snapshots */
};

/* The whole of a one-dataset snapshot list (dataset i of v, as shape) in
 * out: the stream's pieces, written at once since the text is kept. */
static void stream_whole(const struct view *v, enum stream_shape shape, size_t i, struct buf *out)
{
	/* not referenced: the caller holds v for as long as this runs */
	struct api_stream s = {
	    .v = (struct view *)v, .shape = shape, .first = i, .i = i, .end = i + 1, .pend = *out};
	while (!s.done)
		stream_step(&s);
	*out = s.pend;
}

/* view_render_fn: the same functions that answered each request before,
 * once per view. cls is the site's hostname, constant for the process. */
static void render_body(const struct view *v, unsigned kind, size_t i, const void *cls,
                        struct view_body *out)
{
	struct http_response res = {500, "application/json", BUF_INIT, NULL, NULL};
	const struct view_pool *p = kind <= BODY_POOL_IOSTAT ? &v->vpools[i] : NULL;
	switch ((enum body_kind)kind) {
	case BODY_POOLS:
		pools(v, &res);
		break;
	case BODY_POOL:
		reply(&res, 200, pool_json(p->zp));
		break;
	case BODY_POOL_STATUS:
		pool_status(p, &res);
		break;
	case BODY_POOL_IOSTAT: /* the seed's text: its iostat call failed */
		if (!p->iostat)
			http_error(&res, 404, "Could not get I/O stats for pool '%s'", p->zp->name);
		else
			reply(&res, 200,
			      json_pack("{s:s, s:s}", "pool", p->zp->name, "iostat", p->iostat));
		break;
	case BODY_DATASETS:
		datasets(v, &res);
		break;
	case BODY_DATASET:
		dataset(&v->ds[i], &res);
		break;
	case BODY_SNAPSHOTS:
		compliance_report(v, cls, &res);
		break;
	case BODY_SNAPSHOTS_GROUP:
	case BODY_DATASET_SNAPSHOTS:
		res.status = 200;
		stream_whole(v, kind == BODY_SNAPSHOTS_GROUP ? SHAPE_GROUP : SHAPE_DATASET, i,
		             &res.body);
		break;
	}
	out->status = res.status;
	out->text = res.body;
}

static void view_release(void *v)
{
	view_put(v);
}

/* Answers with the view's body for (kind, i), rendered on its first
 * request: without a copy when c->share (the body holds a reference to
 * the view until it is sent), else copied into res->body; a body the
 * view did not keep (its cache full, lib/view.h) becomes res->body. */
static void cached(const struct api_ctx *c, enum body_kind kind, size_t i,
                   struct http_response *res)
{
	struct view_body scratch = {0, BUF_INIT};
	const struct view_body *b = view_body(c->v, kind, i, render_body, c->hostname, &scratch);
	res->status = b->status;
	res->content_type = "application/json";
	buf_reset(&res->body);
	if (b == &scratch) {
		buf_free(&res->body);
		res->body = scratch.text;
	} else if (c->share) {
		/* a reference, not a change: the view itself stays immutable */
		res->shared_cls = view_ref((struct view *)c->v);
		res->shared_free = view_release;
		res->shared = b->text.s;
		res->shared_len = b->text.len;
	} else {
		buf_add(&res->body, b->text.s, b->text.len);
	}
}

/* ---- dispatch -------------------------------------------------------- */

/* The seed's API version, which its clients may compare; zkeep's own
 * version is zkeep_version. */
#define SEED_API_VERSION "1.0.0"

static void root(struct http_response *res)
{
	reply(res, 200,
	      json_pack("{s:s, s:s, s:s, s:s, s:s}", "message", "ZFS Status API", "version",
	                SEED_API_VERSION, "documentation", "/api/docs", "openapi",
	                "/api/openapi.json", "zkeep_version", ZKEEP_VERSION));
}

static void health(const struct api_ctx *c, struct http_response *res)
{
	json_t *j =
	    json_pack("{s:s, s:s, s:s, s:o}", "status", "healthy", "service", "zfs-api", "version",
	              SEED_API_VERSION, "timestamp", iso_usec(c->now, c->now_usec));
	json_object_set_new(j, "zkeep_version", json_string(ZKEEP_VERSION));
	json_object_set_new(j, "collector_ok", json_boolean(c->st && c->st->last_ok));
	json_object_set_new(j, "view_age_seconds",
	                    c->v ? json_integer(c->now - c->v->collected) : json_null());
	reply(res, 200, j);
}

/* /api/docs and /api/redoc: the seed served Swagger UI and ReDoc, scripts
 * from a CDN; zkeep serves the same document as one static page (no
 * script, so the page's Content-Security-Policy holds): each path with
 * its summary and description, and a link to the JSON. */
static void docs_render(struct buf *b)
{
	json_error_t je;
	json_t *doc = json_loads(api_openapi_json, 0, &je);
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	            "<title>");
	ui_escape(b, json_string_value(json_object_get(json_object_get(doc, "info"), "title")));
	buf_adds(b, "</title></head>\n<body>\n<h1>");
	ui_escape(b, json_string_value(json_object_get(json_object_get(doc, "info"), "title")));
	buf_adds(b, "</h1>\n<p>");
	ui_escape(b,
	          json_string_value(json_object_get(json_object_get(doc, "info"), "description")));
	buf_adds(b, "</p>\n<p>The OpenAPI document: <a href=\"/api/openapi.json\">"
	            "/api/openapi.json</a>; one JSON Schema per endpoint in zkeep's "
	            "docs/schema/.</p>\n<dl>\n");
	const char *path;
	json_t *item;
	json_object_foreach(json_object_get(doc, "paths"), path, item)
	{
		json_t *get = json_object_get(item, "get");
		buf_adds(b, "<dt><code>GET ");
		ui_escape(b, path);
		buf_adds(b, "</code></dt><dd>");
		ui_escape(b, json_string_value(json_object_get(get, "summary")));
		const char *desc = json_string_value(json_object_get(get, "description"));
		if (desc) {
			buf_adds(b, "<br>");
			ui_escape(b, desc);
		}
		buf_adds(b, "</dd>\n");
	}
	buf_adds(b, "</dl>\n</body></html>\n");
	json_decref(doc);
}

/* The page depends on the built-in document only: rendered once for the
 * process, on its first request. */
static pthread_once_t docs_once = PTHREAD_ONCE_INIT;
static struct buf docs_page = BUF_INIT;

static void docs_init(void)
{
	docs_render(&docs_page);
}

/* Answers with text that lives as long as the process: without a copy when
 * c->share. */
static void static_body(const struct api_ctx *c, const char *text, size_t len,
                        struct http_response *res)
{
	res->status = 200;
	buf_reset(&res->body);
	if (c->share) {
		res->shared = text;
		res->shared_len = len;
	} else {
		buf_add(&res->body, text, len);
	}
}

/* Routes that read the view answer 503 until the first collection, with
 * the collector's last error when there is one, so the client knows why. */
static bool no_data_yet(const struct api_ctx *c, const struct http_route *r,
                        struct http_response *res)
{
	if (!http_route_needs_view(r->id) || c->v)
		return false;
	http_error(res, 503, "no data collected yet%s%s", c->st && *c->st->last_error ? ": " : "",
	           c->st && *c->st->last_error ? c->st->last_error : "");
	return true;
}

/* /api/docs and /api/redoc: the page rendered on the first request, then shared. */
static void docs_route(const struct api_ctx *c, struct http_response *res)
{
	pthread_once(&docs_once, docs_init);
	res->content_type = "text/html; charset=utf-8";
	static_body(c, docs_page.s, docs_page.len, res);
}

/* "/": a browser is sent to the page; API clients keep the seed's JSON. */
static void root_route(const struct api_ctx *c, struct http_response *res)
{
	if (ui_accept_prefers_html(c->accept)) {
		http_error(res, 303, "see /ui/");
		res->location = "/ui/";
		return;
	}
	root(res);
}

/* /api/v1/pools/{pool}, its status and its iostat; the 404 texts are the seed's,
 * which came from whichever of its zpool calls failed. */
static void pool_route(const struct api_ctx *c, const struct http_route *r,
                       struct http_response *res)
{
	const struct view *v = c->v;
	const struct view_pool *p = view_pool(v, r->arg);
	if (r->id == ROUTE_POOL && !p)
		http_error(res, 404, "Pool '%s' not found", r->arg);
	else if (r->id == ROUTE_POOL_STATUS && !p)
		http_error(res, 404, "Could not get status for pool '%s'", r->arg);
	else if (!p)
		http_error(res, 404, "Could not get I/O stats for pool '%s'", r->arg);
	else
		cached(c,
		       r->id == ROUTE_POOL          ? BODY_POOL
		       : r->id == ROUTE_POOL_STATUS ? BODY_POOL_STATUS
		                                    : BODY_POOL_IOSTAT,
		       (size_t)(p - v->vpools), res);
}

/* One dataset's body, or the 404 naming what the client asked for. */
static void dataset_or_404(const struct api_ctx *c, const struct view_dataset *d, const char *asked,
                           struct http_response *res)
{
	if (d)
		cached(c, BODY_DATASET, (size_t)(d - c->v->ds), res);
	else
		http_error(res, 404, "Dataset '%s' not found", asked);
}

/* /api/v1/datasets/{name}/snapshots: the dataset's snapshots, or else the dataset
 * whose own name ends in "/snapshots", which the route pattern also matches. */
static void dataset_snapshots_route(const struct api_ctx *c, const struct http_route *r,
                                    struct http_response *res)
{
	const struct view *v = c->v;
	const struct view_dataset *d = view_dataset(v, r->arg);
	if (d) {
		cached(c, BODY_DATASET_SNAPSHOTS, (size_t)(d - v->ds), res);
		return;
	}
	struct buf full = BUF_INIT;
	buf_addf(&full, "%s/snapshots", r->arg);
	d = view_dataset(v, full.s);
	buf_free(&full);
	dataset_or_404(c, d, r->arg, res);
}

/* /api/v1/snapshots/{dataset}; the seed lists nothing for an unknown dataset, with
 * a 200 and an empty group rather than a 404. */
static void snapshots_group_route(const struct api_ctx *c, const struct http_route *r,
                                  struct http_response *res)
{
	const struct view_dataset *d = view_dataset(c->v, r->arg);
	if (d) {
		cached(c, BODY_SNAPSHOTS_GROUP, (size_t)(d - c->v->ds), res);
		return;
	}
	res->status = 200;
	buf_reset(&res->body);
	put_str(&res->body, "{\"dataset\":", r->arg);
	buf_adds(&res->body, ",\"snapshot_count\":0,\"total_used_bytes\":0,"
	                     "\"total_used_human\":\"0.00 B\",\"snapshots\":[]}");
}

/* /ui: one page, nothing below it; before the first collection it still
 * renders, saying so, with a 503. */
static void ui_route(const struct api_ctx *c, const struct http_route *r, struct http_response *res)
{
	if (r->arg) {
		http_error(res, 404, "not found");
		return;
	}
	res->status = c->v ? 200 : 503;
	res->content_type = "text/html; charset=utf-8";
	buf_reset(&res->body);
	ui_render(c->v, c->st, c->history, c->now, &res->body);
}

void api_handle(const struct api_ctx *c, const struct http_route *r, const char *lines,
                struct http_response *res)
{
	res->status = 500;
	res->content_type = "application/json";
	if (no_data_yet(c, r, res))
		return;
	switch (r->id) {
	case ROUTE_ROOT:
		root_route(c, res);
		return;
	case ROUTE_HEALTH:
		health(c, res);
		return;
	case ROUTE_DOCS:
		docs_route(c, res);
		return;
	case ROUTE_OPENAPI:
		static_body(c, api_openapi_json, strlen(api_openapi_json), res);
		return;
	case ROUTE_POOLS:
		cached(c, BODY_POOLS, 0, res);
		return;
	case ROUTE_POOL:
	case ROUTE_POOL_STATUS:
	case ROUTE_POOL_IOSTAT:
		pool_route(c, r, res);
		return;
	case ROUTE_DATASETS:
		cached(c, BODY_DATASETS, 0, res);
		return;
	case ROUTE_DATASET_SNAPSHOTS:
		dataset_snapshots_route(c, r, res);
		return;
	case ROUTE_DATASET:
		dataset_or_404(c, view_dataset(c->v, r->arg), r->arg, res);
		return;
	case ROUTE_SNAPSHOTS:
		cached(c, BODY_SNAPSHOTS, 0, res);
		return;
	case ROUTE_SNAPSHOTS_ALL:
		snapshots_stream(c->v, SHAPE_ALL, 0, c->v->ix.n, res);
		return;
	case ROUTE_SNAPSHOTS_DATASET:
		snapshots_group_route(c, r, res);
		return;
	case ROUTE_BACKUPS:
		backups(c, res);
		return;
	case ROUTE_BACKUP_LOGS:
		logs(c, res);
		return;
	case ROUTE_BACKUP_LOG:
		log_tail(c, r->arg, lines, res);
		return;
	case ROUTE_UI:
		ui_route(c, r, res);
		return;
	case ROUTE_METRICS: /* served by the http module from the view's text */
	case ROUTE_NONE:
		break;
	}
	http_error(res, 404, "Not Found");
}

void api_serve(void *cls, const struct http_request *rq, struct http_response *res)
{
	const struct api_site *site = cls;
	struct api_ctx c = {
	    rq->v,       rq->st,     site->hostname,         site->log_dir, rq->now.tv_sec,
	    rq->history, rq->accept, rq->now.tv_nsec / 1000, true};
	api_handle(&c, rq->route, rq->lines, res);
}
