/*
 * Run records (record.h): the one place that knows their schema, their
 * versions, their file names and how they are written and read. The JSON
 * is built and taken apart here and nowhere else.
 */
#include "record.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "state.h"
#include "xalloc.h"
#include "zfs.h"
#include "banned.h"

/* ---- the struct ------------------------------------------------------ */

void record_init(struct record *r, enum record_kind kind, const char *job)
{
	memset(r, 0, sizeof(*r));
	r->version = RECORD_VERSION;
	r->kind = kind;
	r->job = xstrdup(job);
	r->n_keep = -1;
	strvec_init(&r->warnings);
}

struct record_dataset *record_add(struct record *r, const char *source, const char *target,
                                  enum record_result result)
{
	r->datasets = xgrow(r->datasets, &r->alloc, r->n_datasets + 1, sizeof(*r->datasets));
	struct record_dataset *d = &r->datasets[r->n_datasets++];
	memset(d, 0, sizeof(*d));
	d->source = xstrdup(source);
	d->target = xstrdup(target);
	d->result = result;
	d->src_changed = d->dst_changed = ZFS_NONE;
	return d;
}

/* The largest time or count a record holds: exact as a double (jq), and
 * every sum or difference of two of them (ages, durations, rates) fits in
 * an int64_t. */
#define RECORD_INT_MAX ((int64_t)1 << 53)

void record_add_note(struct record *r, const char *channel, bool ok, const char *error, int64_t at,
                     int attempts)
{
	r->notes = xgrow(r->notes, &r->notes_alloc, r->n_notes + 1, sizeof(*r->notes));
	r->notes[r->n_notes++] = (struct record_note){.channel = xstrdup(channel),
	                                              .ok = ok,
	                                              .error = error ? xstrdup(error) : NULL,
	                                              .at = at,
	                                              .attempts = attempts};
}

void record_tally(struct record *r, const char *channel, int64_t sent, int64_t failed)
{
	size_t i = 0;
	while (i < r->n_tallies && strcmp(r->tallies[i].channel, channel) < 0)
		i++;
	if (i == r->n_tallies || strcmp(r->tallies[i].channel, channel)) {
		r->tallies =
		    xgrow(r->tallies, &r->tallies_alloc, r->n_tallies + 1, sizeof(*r->tallies));
		memmove(&r->tallies[i + 1], &r->tallies[i],
		        (r->n_tallies - i) * sizeof(*r->tallies));
		r->tallies[i] = (struct record_tally){.channel = xstrdup(channel)};
		r->n_tallies++;
	}
	/* bounded as every count a record holds (2^53: exact as a double) */
	struct record_tally *t = &r->tallies[i];
	t->sent = t->sent + sent > RECORD_INT_MAX ? RECORD_INT_MAX : t->sent + sent;
	t->failed = t->failed + failed > RECORD_INT_MAX ? RECORD_INT_MAX : t->failed + failed;
}

void record_carry_tallies(struct record *r, const struct record *prev)
{
	for (size_t i = 0; i < prev->n_tallies; i++)
		record_tally(r, prev->tallies[i].channel, prev->tallies[i].sent,
		             prev->tallies[i].failed);
}

void record_free(struct record *r)
{
	for (size_t i = 0; i < r->n_tallies; i++)
		free(r->tallies[i].channel);
	free(r->tallies);
	for (size_t i = 0; i < r->n_notes; i++) {
		free(r->notes[i].channel);
		free(r->notes[i].error);
	}
	free(r->notes);
	for (size_t i = 0; i < r->n_datasets; i++) {
		struct record_dataset *d = &r->datasets[i];
		free(d->source);
		free(d->target);
		free(d->error);
		free(d->newest);
		free(d->resume_token);
		free(d->resume_refused);
		free(d->leaf_props);
	}
	free(r->datasets);
	free(r->by_target);
	free(r->job);
	free(r->source_host);
	free(r->destination_host);
	free(r->error);
	if (r->warnings.v) /* a zeroed record has no vector yet */
		strvec_clear(&r->warnings);
	memset(r, 0, sizeof(*r));
}

static const char *const kind_names[] = {"pull", "push", "snapshot", "prune"};
#define N_KINDS (sizeof(kind_names) / sizeof(kind_names[0]))
static const char *const run_names[] = {"ok", "failed", "held", "unknown"};
static const char *const result_names[] = {"ok", "up_to_date", "failed", "skipped", "unknown"};

const char *record_kind_name(enum record_kind k)
{
	return kind_names[k];
}

bool record_kind_is_timer(enum record_kind k)
{
	return k == RECORD_SNAPSHOT || k == RECORD_PRUNE;
}

const char *record_run_result_name(enum record_run_result r)
{
	return run_names[r];
}

const char *record_result_name(enum record_result r)
{
	return result_names[r];
}

bool record_result_ok(enum record_result r)
{
	return r == RECORD_OK || r == RECORD_UP_TO_DATE;
}

void record_path(struct buf *path, const char *state_dir, enum record_kind kind, const char *job)
{
	if (record_kind_is_timer(kind))
		buf_addf(path, "%s/timer-", state_dir);
	else
		buf_addf(path, "%s/%s-", state_dir, kind_names[kind]);
	for (const char *p = job; *p; p++)
		buf_addch(path, strchr("/\\", *p) || *p == '.' ? '-' : *p);
	buf_adds(path, ".json");
}

/* ---- writing --------------------------------------------------------- */

/* s as a JSON string, null for NULL. Bytes that are not UTF-8 become
 * U+FFFD rather than making jansson refuse it and the record lose it. */
static json_t *text_json(const char *s)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (v)
		return v;
	struct buf b = BUF_INIT;
	buf_add_json_str(&b, s, strlen(s));
	v = json_loads(b.s, JSON_DECODE_ANY, NULL);
	buf_free(&b);
	return v ? v : json_string("(not UTF-8)");
}

static json_t *guid_json(uint64_t g)
{
	char s[24];
	snprintf(s, sizeof(s), "%" PRIu64, g);
	return json_string(s);
}

/* A time that may be unknown: null then. */
static json_t *time_json(int64_t t)
{
	return t ? json_integer(t) : json_null();
}

static json_t *keep_json(const struct record *r)
{
	if (r->n_keep < 0)
		return json_null();
	json_t *k = json_array();
	for (int i = 0; i < r->n_keep; i++)
		json_array_append_new(k, json_integer(r->keep[i]));
	return k;
}

static json_t *dataset_json(const struct record_dataset *d)
{
	json_t *newest = json_null(), *changed = json_null();
	if (d->newest)
		newest = json_pack("{s:o, s:o, s:I}", "name", text_json(d->newest), "guid",
		                   guid_json(d->newest_guid), "creation",
		                   (json_int_t)d->newest_creation);
	if (d->src_changed != ZFS_NONE && d->dst_changed != ZFS_NONE)
		changed = json_pack("{s:I, s:I, s:o, s:o, s:I, s:b}", "source",
		                    (json_int_t)d->src_changed, "target",
		                    (json_int_t)d->dst_changed, "source_guid",
		                    guid_json(d->src_guid), "target_guid", guid_json(d->dst_guid),
		                    "checked", (json_int_t)d->checked, "protected", d->protected);
	return json_pack(
	    "{s:o, s:o, s:s, s:o, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:b, s:b, s:b, s:o, s:o}",
	    "source", text_json(d->source), "target", text_json(d->target), "result",
	    result_names[d->result], "error", text_json(d->error), "bytes", (json_int_t)d->bytes,
	    "start", (json_int_t)d->start, "end", (json_int_t)d->end, "newest", newest,
	    "resume_token", text_json(d->resume_token), "resume_refused",
	    text_json(d->resume_refused), "leaf_props", text_json(d->leaf_props), "matched_by_name",
	    d->matched_by_name, "large_blocks", d->large_blocks, "protected", d->protected,
	    "snapshots_changed", changed, "last_success", time_json(d->last_success));
}

json_t *record_to_json(const struct record *r)
{
	json_t *ds = json_array();
	for (size_t i = 0; i < r->n_datasets; i++)
		json_array_append_new(ds, dataset_json(&r->datasets[i]));
	json_t *j = json_pack(
	    "{s:i, s:o, s:s, s:o, s:o, s:I, s:I, s:s, s:o, s:b, s:o, s:o, s:o}", "version",
	    RECORD_VERSION, "job", text_json(r->job), "kind", kind_names[r->kind], "source_host",
	    text_json(r->source_host), "destination_host", text_json(r->destination_host), "start",
	    (json_int_t)r->start, "end", (json_int_t)r->end, "result", run_names[r->result],
	    "error", text_json(r->error), "snapshots_changed", r->snapshots_changed,
	    "no_snapshots_changed_since", time_json(r->no_changed_since), "keep", keep_json(r),
	    "datasets", ds);
	if (r->lock_held)
		json_object_set_new(j, "lock_held",
		                    json_pack("{s:I, s:I, s:s}", "at", (json_int_t)r->held_at,
		                              "pid", (json_int_t)r->held_pid, "by", "seed"));
	if (r->n_notes) {
		json_t *ns = json_array();
		for (size_t i = 0; i < r->n_notes; i++) {
			const struct record_note *n = &r->notes[i];
			json_array_append_new(ns, json_pack("{s:o, s:b, s:o, s:I, s:i}", "channel",
			                                    text_json(n->channel), "ok", n->ok,
			                                    "error", text_json(n->error), "at",
			                                    (json_int_t)n->at, "attempts",
			                                    n->attempts));
		}
		json_object_set_new(j, "notifications", ns);
	}
	if (r->n_tallies) {
		json_t *ts = json_object();
		for (size_t i = 0; i < r->n_tallies; i++)
			json_object_set_new(ts, r->tallies[i].channel,
			                    json_pack("{s:I, s:I}", "sent",
			                              (json_int_t)r->tallies[i].sent, "failed",
			                              (json_int_t)r->tallies[i].failed));
		json_object_set_new(j, "notification_totals", ts);
	}
	return j;
}

int record_write(const char *state_dir, const struct record *r, struct zerr *e)
{
	struct buf path = BUF_INIT;
	record_path(&path, state_dir, r->kind, r->job);
	json_t *j = record_to_json(r);
	char *text = j ? json_dumps(j, JSON_INDENT(1)) : NULL;
	int ret = text ? state_write_atomic(path.s, text, strlen(text), 0644, e)
	               : zerr_set(e, -ENOMEM, "cannot write the run record '%s'", path.s);
	free(text);
	json_decref(j);
	buf_free(&path);
	return ret;
}

/* ---- reading --------------------------------------------------------- */

struct reader {
	struct record *r;
	const char *name; /* for warnings */
};

/* A time or count: 0 when absent or null, and, with a warning, when not an
 * integer from 0 to 2^53. */
static int64_t get_num(struct reader *rd, const json_t *o, const char *k)
{
	const json_t *x = json_object_get(o, k);
	if (!x || json_is_null(x))
		return 0;
	json_int_t n = json_is_integer(x) ? json_integer_value(x) : -1;
	if (n < 0 || n > RECORD_INT_MAX) {
		strvec_pushf(
		    &rd->r->warnings,
		    "run record '%s': '%s' is not a number from 0 to 2^53, taken as unknown",
		    rd->name, k);
		return 0;
	}
	return (int64_t)n;
}

/* A guid: a decimal string, or (version 0) a signed integer read back as
 * the same bits; 0 when missing or malformed, which no dataset has. */
static uint64_t get_guid(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);
	uint64_t g = 0;
	if (json_is_string(v) && fmt_parse_u64(json_string_value(v), &g))
		return g;
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

static char *get_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? xstrdup(s) : NULL;
}

static int find_name(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

static void get_keep(struct record *r, const json_t *k)
{
	r->n_keep = -1;
	if (!json_is_array(k) || json_array_size(k) > ZK_N_INTERVALS)
		return;
	for (size_t i = 0; i < json_array_size(k); i++) {
		const json_t *x = json_array_get(k, i);
		json_int_t n = json_integer_value(x);
		if (!json_is_integer(x) || n < INT_MIN || n > INT_MAX)
			return;
		r->keep[i] = (int)n;
	}
	r->n_keep = (int)json_array_size(k);
}

static void get_dataset(struct reader *rd, const json_t *d)
{
	const char *src = json_string_value(json_object_get(d, "source"));
	const char *t = json_string_value(json_object_get(d, "target"));
	const char *res = json_string_value(json_object_get(d, "result"));
	if (!src || !t || !res)
		return;
	int k = find_name(result_names, RECORD_UNKNOWN, res);
	struct record_dataset *x =
	    record_add(rd->r, src, t, k < 0 ? RECORD_UNKNOWN : (enum record_result)k);
	x->error = get_str(d, "error");
	x->start = get_num(rd, d, "start");
	x->end = get_num(rd, d, "end");
	x->bytes = get_num(rd, d, "bytes");
	const json_t *nw = json_object_get(d, "newest");
	x->newest = get_str(nw, "name");
	x->newest_guid = get_guid(nw, "guid");
	x->newest_creation = get_num(rd, nw, "creation");
	x->resume_token = get_str(d, "resume_token");
	x->resume_refused = get_str(d, "resume_refused");
	x->leaf_props = get_str(d, "leaf_props");
	x->matched_by_name = json_is_true(json_object_get(d, "matched_by_name"));
	x->large_blocks = json_is_true(json_object_get(d, "large_blocks"));
	/* protected came later within version 1 at this level: before, only
	 * in snapshots_changed (read there below when missing here) */
	const json_t *pr = json_object_get(d, "protected");
	x->protected = json_is_true(pr);
	const json_t *sc = json_object_get(d, "snapshots_changed");
	if (json_is_object(sc)) {
		int64_t s = get_num(rd, sc, "source"), dc = get_num(rd, sc, "target");
		x->src_changed = s ? (uint64_t)s : ZFS_NONE;
		x->dst_changed = dc ? (uint64_t)dc : ZFS_NONE;
		x->src_guid = get_guid(sc, "source_guid");
		x->dst_guid = get_guid(sc, "target_guid");
		x->checked = get_num(rd, sc, "checked");
		if (!pr)
			x->protected = json_is_true(json_object_get(sc, "protected"));
	}
	x->last_success = get_num(rd, d, "last_success");
	/* a record from before last_success: a good run's own end */
	if (!json_object_get(d, "last_success") && record_result_ok(x->result))
		x->last_success = x->end;
}

/* The notifications: an entry without a channel is left out. */
static void get_notes(struct reader *rd, const json_t *ns)
{
	for (size_t i = 0; i < json_array_size(ns); i++) {
		const json_t *n = json_array_get(ns, i);
		const char *ch = json_string_value(json_object_get(n, "channel"));
		if (!ch)
			continue;
		int64_t attempts = get_num(rd, n, "attempts");
		record_add_note(rd->r, ch, json_is_true(json_object_get(n, "ok")),
		                json_string_value(json_object_get(n, "error")),
		                get_num(rd, n, "at"), attempts > INT_MAX ? INT_MAX : (int)attempts);
	}
}

/* The channels a record's notifications name (record.h's M). */
static const char *const channel_names[] = {"healthcheck_start", "healthcheck", "webhook",
                                            "on_success", "on_failure"};

/* notification_totals: the channels above only (the file is not trusted:
 * any other key is left out with a warning, so a crafted record cannot
 * grow the totals, which every later record carries, nor the metrics'
 * labels); totals that are not an object are left out; a count that is
 * not one is read as 0 (get_num warns). */
static void get_tallies(struct reader *rd, const json_t *ts)
{
	const char *ch;
	const json_t *t;
	json_object_foreach((json_t *)ts, ch, t)
	{
		if (find_name(channel_names, sizeof(channel_names) / sizeof(channel_names[0]), ch) <
		    0)
			strvec_pushf(&rd->r->warnings,
			             "run record '%s': notification_totals has an unknown channel, "
			             "left out",
			             rd->name);
		else if (json_is_object(t))
			record_tally(rd->r, ch, get_num(rd, t, "sent"), get_num(rd, t, "failed"));
	}
}

/* The version, or -errno: a record is an object with a version this build
 * reads (none: 0), a job, a kind and datasets. */
static int check(const json_t *j, const char *name, int *version, struct zerr *e)
{
	const json_t *v = json_object_get(j, "version");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		return zerr_set(e, -ENOMSG,
		                "'%s' is not a zkeep run record: its version is not a number",
		                name);
	if (v && json_integer_value(v) > RECORD_VERSION)
		return zerr_set(
		    e, -EPROTONOSUPPORT,
		    "cannot read '%s': run record version %" JSON_INTEGER_FORMAT
		    " is newer than this zkeep's (%d): a newer zkeep wrote it; run "
		    "that one, or remove the file (the job's next run writes a new one)",
		    name, json_integer_value(v), RECORD_VERSION);
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "job")) ||
	    find_name(kind_names, N_KINDS, json_string_value(json_object_get(j, "kind"))) < 0 ||
	    !json_is_array(json_object_get(j, "datasets")))
		return zerr_set(e, -ENOMSG, "'%s' is not a zkeep run record", name);
	*version = v ? (int)json_integer_value(v) : 0;
	return 0;
}

static int cmp_target(const void *a, const void *b)
{
	return strcmp((*(struct record_dataset *const *)a)->target,
	              (*(struct record_dataset *const *)b)->target);
}

static int from_json(const json_t *j, const char *name, struct record *r, struct zerr *e)
{
	int version = 0, ret = check(j, name, &version, e);
	if (ret < 0)
		return ret;
	int kind = find_name(kind_names, N_KINDS, json_string_value(json_object_get(j, "kind")));
	record_init(r, (enum record_kind)kind, json_string_value(json_object_get(j, "job")));
	r->version = version;
	struct reader rd = {r, name};
	r->source_host = get_str(j, "source_host");
	r->destination_host = get_str(j, "destination_host");
	r->start = get_num(&rd, j, "start");
	r->end = get_num(&rd, j, "end");
	int res = find_name(run_names, RECORD_RUN_UNKNOWN,
	                    json_string_value(json_object_get(j, "result")));
	r->result = res < 0 ? RECORD_RUN_UNKNOWN : (enum record_run_result)res;
	r->error = get_str(j, "error");
	r->snapshots_changed = json_is_true(json_object_get(j, "snapshots_changed"));
	r->no_changed_since = get_num(&rd, j, "no_snapshots_changed_since");
	get_keep(r, json_object_get(j, "keep"));
	const json_t *ds = json_object_get(j, "datasets");
	for (size_t i = 0; i < json_array_size(ds); i++)
		get_dataset(&rd, json_array_get(ds, i));
	const json_t *h = json_object_get(j, "lock_held");
	if (json_is_object(h)) {
		r->lock_held = true;
		r->held_at = get_num(&rd, h, "at");
		r->held_pid = get_num(&rd, h, "pid");
	}
	get_notes(&rd, json_object_get(j, "notifications"));
	get_tallies(&rd, json_object_get(j, "notification_totals"));
	r->by_target = xcalloc(r->n_datasets + 1, sizeof(struct record_dataset *));
	for (size_t i = 0; i < r->n_datasets; i++)
		r->by_target[i] = &r->datasets[i];
	qsort(r->by_target, r->n_datasets, sizeof(struct record_dataset *), cmp_target);
	return 0;
}

int record_read_at(int dirfd, const char *name, struct record *r, struct zerr *e)
{
	json_t *j;
	memset(r, 0, sizeof(*r));
	int ret = state_load_json(dirfd, name, STATE_RECORD_MAX, &j, e);
	if (ret == 0)
		ret = from_json(j, name, r, e);
	json_decref(j);
	return ret;
}

int record_read(const char *path, struct record *r, struct zerr *e)
{
	return record_read_at(AT_FDCWD, path, r, e);
}

const struct record_dataset *record_find(const struct record *r, const char *target)
{
	struct record_dataset key = {.target = (char *)target}, *k = &key;
	struct record_dataset **f = r->n_datasets && r->by_target
	                                ? bsearch(&k, r->by_target, r->n_datasets,
	                                          sizeof(struct record_dataset *), cmp_target)
	                                : NULL;
	return f ? *f : NULL;
}

/* ---- a skip, and every record ---------------------------------------- */

int record_note_lock_held(const char *state_dir, enum record_kind kind, const char *job, pid_t pid,
                          time_t at, struct zerr *e)
{
	struct buf path = BUF_INIT;
	struct record r;
	record_path(&path, state_dir, kind, job);
	int ret = record_read(path.s, &r, e);
	if (ret == -ENOENT) {
		/* no run yet: a record with no datasets, which readers accept */
		record_init(&r, kind, job);
		r.result = RECORD_RUN_HELD;
		r.start = r.end = at;
		ret = 0;
	}
	if (ret == 0) {
		r.lock_held = true;
		r.held_at = at;
		r.held_pid = pid;
		ret = record_write(state_dir, &r, e);
	}
	record_free(&r);
	buf_free(&path);
	return ret;
}

/* The records in dir whose file names start with one of prefixes, and
 * whose kind is a timer's exactly when timers: a job's record that says it
 * is a timer's (or the other way) is not what its name promises. */
static void list_read(const char *dir, const char *const *prefixes, bool timers,
                      struct record_list *out)
{
	memset(out, 0, sizeof(*out));
	strvec_init(&out->warnings);
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d) {
		if (dir && errno != ENOENT)
			strvec_pushf(&out->warnings, "cannot read run records in '%s': %s", dir,
			             strerror(errno));
		return;
	}
	struct strvec names = STRVEC_INIT;
	const struct dirent *de;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		for (const char *const *p = prefixes; *p; p++)
			if (!strncmp(de->d_name, *p, strlen(*p)) && n > strlen(*p) + 5 &&
			    !strcmp(de->d_name + n - 5, ".json"))
				strvec_push(&names, de->d_name);
	}
	strvec_sort_unique(&names);
	out->v = xcalloc(names.n + 1, sizeof(*out->v));
	for (size_t i = 0; i < names.n; i++) {
		struct record *r = &out->v[out->n];
		struct zerr e = ZERR_INIT;
		int ret = record_read_at(dirfd(d), names.v[i], r, &e);
		if (ret == 0 && record_kind_is_timer(r->kind) != timers) {
			record_free(r);
			ret = -ENOMSG;
		}
		if (ret == -ENOMSG)
			strvec_pushf(&out->warnings, "run record '%s/%s' is not a zkeep run record",
			             dir, names.v[i]);
		else if (ret < 0)
			strvec_pushf(&out->warnings, "cannot read run record in '%s': %s", dir,
			             e.msg);
		if (ret < 0)
			continue;
		for (size_t k = 0; k < r->warnings.n; k++)
			strvec_push(&out->warnings, r->warnings.v[k]);
		out->n++;
	}
	strvec_clear(&names);
	closedir(d);
}

void record_list_read(const char *dir, struct record_list *out)
{
	list_read(dir, (const char *const[]){"pull-", "push-", NULL}, false, out);
}

void record_timer_list_read(const char *dir, struct record_list *out)
{
	list_read(dir, (const char *const[]){"timer-", NULL}, true, out);
}

void record_list_free(struct record_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		record_free(&l->v[i]);
	free(l->v);
	if (l->warnings.v)
		strvec_clear(&l->warnings);
	memset(l, 0, sizeof(*l));
}
