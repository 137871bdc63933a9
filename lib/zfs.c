/* The zfs and zpool command lines (zfs.h), and the strict parsers of
 * their script-mode output into a model; the kind of a failure read once
 * from zfs's stderr. */
#include "zfs.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "buf.h"
#include "fmt.h"
#include "xalloc.h"
#include "banned.h"

/* ---- names ---------------------------------------------------------- */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == ':' || c == ' ';
}

static int check_component(const char *name, const char *s, size_t len, const char *what,
                           struct zerr *e)
{
	if (len == 0)
		return zerr_set(e, -EINVAL, "invalid name '%s': empty %s", name, what);
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return zerr_set(e, -EINVAL, "invalid name '%s': '.' and '..' are not allowed",
		                name);
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return zerr_set(
			    e, -EINVAL,
			    "invalid name '%s': character %s%c%s (0x%02x) is not allowed "
			    "(ZFS names use letters, digits, '_', '-', '.', ':' and space)",
			    name, s[i] >= 0x20 && s[i] < 0x7f ? "'" : "",
			    s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?',
			    s[i] >= 0x20 && s[i] < 0x7f ? "'" : "", (unsigned char)s[i]);
	return 0;
}

int zfs_name_check(const char *name, unsigned types, struct zerr *e)
{
	size_t len = strnlen(name, ZFS_NAME_MAX + 1);
	if (len == 0)
		return zerr_set(e, -EINVAL, "invalid name: empty");
	if (len > ZFS_NAME_MAX)
		return zerr_set(e, -EINVAL, "invalid name '%.40s...': longer than %d bytes", name,
		                ZFS_NAME_MAX);
	const char *at = strchr(name, '@'), *hash = strchr(name, '#');
	const char *sep = at ? at : hash;
	if ((at && hash) || (at && strchr(at + 1, '@')) || (hash && strchr(hash + 1, '#')))
		return zerr_set(e, -EINVAL, "invalid name '%s': more than one '@' or '#'", name);
	unsigned kind = at ? ZFS_TYPE_SNAPSHOT : hash ? ZFS_TYPE_BOOKMARK : ZFS_TYPE_DATASET;
	if (!(kind & types))
		return zerr_set(e, -EINVAL, "invalid name '%s': expected a %s", name,
		                types & ZFS_TYPE_DATASET    ? "dataset name"
		                : types & ZFS_TYPE_SNAPSHOT ? "snapshot name (dataset@snapshot)"
		                                            : "bookmark name (dataset#bookmark)");
	size_t base_len = sep ? (size_t)(sep - name) : len;
	if (sep && strchr(sep + 1, '/'))
		return zerr_set(e, -EINVAL, "invalid name '%s': '/' after '%c'", name, *sep);

	int r;
	const char *p = name, *end = name + base_len;
	bool first = true;
	for (;;) {
		const char *slash = memchr(p, '/', (size_t)(end - p));
		size_t clen = slash ? (size_t)(slash - p) : (size_t)(end - p);
		if ((r = check_component(name, p, clen, "component", e)) < 0)
			return r;
		if (first) {
			if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z')))
				return zerr_set(
				    e, -EINVAL,
				    "invalid name '%s': a pool name must start with a letter",
				    name);
			first = false;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	if (sep && (r = check_component(name, sep + 1, len - base_len - 1,
	                                at ? "snapshot name" : "bookmark name", e)) < 0)
		return r;
	return 0;
}

int zfs_name_pool(const char *name, char *out, size_t len)
{
	size_t n = strcspn(name, "/@#");
	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

const char *zfs_type_name(enum zfs_type t)
{
	switch (t) {
	case ZFS_TYPE_FILESYSTEM:
		return "filesystem";
	case ZFS_TYPE_VOLUME:
		return "volume";
	case ZFS_TYPE_SNAPSHOT:
		return "snapshot";
	case ZFS_TYPE_BOOKMARK:
		return "bookmark";
	}
	return "unknown";
}

/* ---- argv builders -------------------------------------------------- */

static void push_types(struct strvec *argv, unsigned types)
{
	struct buf t = BUF_INIT;
	static const enum zfs_type order[] = {ZFS_TYPE_FILESYSTEM, ZFS_TYPE_VOLUME,
	                                      ZFS_TYPE_SNAPSHOT, ZFS_TYPE_BOOKMARK};
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (types & order[i])
			buf_addf(&t, "%s%s", t.len ? "," : "", zfs_type_name(order[i]));
	strvec_push(argv, "-t");
	strvec_push(argv, t.s);
	buf_free(&t);
}

void zfs_list_argv(struct strvec *argv, unsigned types, unsigned cols, bool recursive,
                   const char *const *datasets)
{
	strvec_pushv(argv, (const char *const[]){"zfs", "list", "-Hp", NULL});
	push_types(argv, types);
	strvec_push(argv, "-o");
	strvec_pushf(argv, "name%s,guid,createtxg%s%s%s%s", cols & ZFS_COL_NOTYPE ? "" : ",type",
	             cols & ZFS_COL_SHORT ? "" : ",creation,used,available,referenced",
	             cols & ZFS_COL_SNAPSHOTS_CHANGED ? ",snapshots_changed" : "",
	             cols & ZFS_COL_USERREFS ? ",userrefs" : "",
	             cols & ZFS_COL_RESUME_TOKEN ? ",receive_resume_token" : "");
	/* createtxg order is the order of history; creation has 1 s resolution. */
	strvec_pushv(argv, (const char *const[]){"-s", "createtxg", NULL});
	if (recursive)
		strvec_push(argv, "-r");
	if (datasets)
		strvec_pushv(argv, datasets);
}

void zpool_list_argv(struct strvec *argv)
{
	strvec_pushv(argv, (const char *const[]){
	                       "zpool", "list", "-Hp", "-o",
	                       "name,size,allocated,free,fragmentation,capacity,health", NULL});
}

void zfs_get_argv(struct strvec *argv, const char *props, const char *const *datasets)
{
	strvec_pushv(argv, (const char *const[]){"zfs", "get", "-Hp", "-o",
	                                         "name,property,value,source", NULL});
	strvec_push(argv, props);
	if (datasets)
		strvec_pushv(argv, datasets);
}

void zfs_holds_argv(struct strvec *argv, const char *const *snapshots, bool parsable)
{
	strvec_pushv(argv, (const char *const[]){"zfs", "holds", parsable ? "-Hp" : "-H", NULL});
	strvec_pushv(argv, snapshots);
}

void zpool_status_argv(struct strvec *argv, const char *pool)
{
	strvec_pushv(argv, (const char *const[]){"zpool", "status", "-p", pool, NULL});
}

/* ---- tab-separated output ------------------------------------------- */

struct tsv {
	char *p, *end;
	size_t lineno;
	const char *what;
};

/* Copies text for a parse, refusing oversized or binary input. */
static int take_text(char **dst, const char *text, size_t len, const char *what, struct zerr *e)
{
	if (len > ZFS_OUTPUT_MAX)
		return zerr_set(e, -E2BIG, "%s output is larger than %zu bytes", what,
		                ZFS_OUTPUT_MAX);
	if (memchr(text, '\0', len))
		return zerr_set(e, -EPROTO, "%s output contains a NUL byte", what);
	*dst = xmalloc(len + 1);
	memcpy(*dst, text, len);
	(*dst)[len] = '\0';
	return 0;
}

/* Next line split at tabs into exactly nf fields (NUL-terminated in
 * place). 1 for a row, 0 at the end, negative on malformed input. */
static int tsv_next(struct tsv *t, char **f, size_t nf, struct zerr *e)
{
	static char none[] = "";
	for (size_t i = 0; i < nf; i++)
		f[i] = none; /* every field is a string, whatever happens below */
	if (t->p >= t->end)
		return 0;
	t->lineno++;
	char *nl = memchr(t->p, '\n', (size_t)(t->end - t->p));
	char *eol = nl ? nl : t->end;
	if ((size_t)(eol - t->p) > ZFS_LINE_MAX)
		return zerr_set(e, -E2BIG, "%s output line %zu: longer than %d bytes", t->what,
		                t->lineno, ZFS_LINE_MAX);
	*eol = '\0';
	char *s = t->p;
	t->p = eol + 1;
	if (strchr(s, '\r'))
		return zerr_set(e, -EPROTO, "%s output line %zu: carriage return in line", t->what,
		                t->lineno);
	size_t n = 0;
	for (;;) {
		if (n == nf)
			return zerr_set(e, -EPROTO, "%s output line %zu: more than %zu fields",
			                t->what, t->lineno, nf);
		f[n++] = s;
		char *tab = strchr(s, '\t');
		if (!tab)
			break;
		*tab = '\0';
		s = tab + 1;
	}
	if (n != nf)
		return zerr_set(e, -EPROTO, "%s output line %zu: expected %zu fields, got %zu",
		                t->what, t->lineno, nf, n);
	return 1;
}

static int parse_u64(struct tsv *t, const char *col, const char *s, bool dash_ok, uint64_t *out,
                     struct zerr *e)
{
	if (dash_ok && !strcmp(s, "-")) {
		*out = ZFS_NONE;
		return 0;
	}
	uint64_t v;
	if (fmt_parse_u64(s, &v) && v != ZFS_NONE) { /* that value stands for '-' */
		*out = v;
		return 0;
	}
	return zerr_set(e, -EPROTO, "%s output line %zu: %s '%.40s' is not a number", t->what,
	                t->lineno, col, s);
}

static int parse_name(struct tsv *t, const char *s, unsigned types, struct zerr *e)
{
	struct zerr ne = ZERR_INIT;
	if (zfs_name_check(s, types, &ne) < 0)
		return zerr_set(e, -EPROTO, "%s output line %zu: %s", t->what, t->lineno, ne.msg);
	return 0;
}

#define GROW(obj, want) ((obj)->v = xgrow((obj)->v, &(obj)->alloc, (want), sizeof(*(obj)->v)))

/* A row's type: its type column, or without one (ZFS_COL_NOTYPE) what
 * its name says, a snapshot ('@') or a bookmark ('#'). */
static int row_type(struct tsv *t, unsigned cols, char **f, enum zfs_type *type, struct zerr *e)
{
	static const enum zfs_type types[] = {ZFS_TYPE_FILESYSTEM, ZFS_TYPE_VOLUME,
	                                      ZFS_TYPE_SNAPSHOT, ZFS_TYPE_BOOKMARK};
	if (cols & ZFS_COL_NOTYPE) {
		*type = strchr(f[0], '@') ? ZFS_TYPE_SNAPSHOT : ZFS_TYPE_BOOKMARK;
		if (!strpbrk(f[0], "@#"))
			return zerr_set(
			    e, -EPROTO,
			    "zfs list output line %zu: '%.60s' is neither a snapshot nor "
			    "a bookmark",
			    t->lineno, f[0]);
		return 0;
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(f[1], zfs_type_name(types[i]))) {
			*type = types[i];
			return 0;
		}
	return zerr_set(e, -EPROTO, "zfs list output line %zu: unknown type '%.40s'", t->lineno,
	                f[1]);
}

/* How to read the columns cols says a listing has. */
struct list_cols {
	size_t idx[8], nnum; /* the numeric columns present, by index in list_col_names */
	size_t nt, nf;       /* where the numbers start; how many fields a row has */
};

static const char *const list_col_names[] = {
    "guid",      "createtxg",  "creation",          "used",
    "available", "referenced", "snapshots_changed", "userrefs"};

static void list_cols_init(struct list_cols *lc, unsigned cols)
{
	lc->nnum = 0;
	for (size_t i = 0; i < (cols & ZFS_COL_SHORT ? 2 : 6); i++)
		lc->idx[lc->nnum++] = i;
	if (cols & ZFS_COL_SNAPSHOTS_CHANGED)
		lc->idx[lc->nnum++] = 6;
	if (cols & ZFS_COL_USERREFS)
		lc->idx[lc->nnum++] = 7;
	lc->nt = cols & ZFS_COL_NOTYPE ? 1 : 2;
	lc->nf = lc->nnum + lc->nt + (cols & ZFS_COL_RESUME_TOKEN ? 1 : 0);
}

/* One row's fields (f, split in place) into o; o->name and
 * o->resume_token point at the fields. */
static int list_row(struct tsv *t, unsigned cols, const struct list_cols *lc, char **f,
                    struct zfs_obj *o, struct zerr *e)
{
	int r;
	memset(o, 0, sizeof(*o));
	o->name = f[0];
	if ((r = row_type(t, cols, f, &o->type, e)) < 0 ||
	    (r = parse_name(t, o->name, o->type, e)) < 0)
		return r;
	uint64_t *num[] = {&o->guid,      &o->createtxg,  &o->creation,          &o->used,
	                   &o->available, &o->referenced, &o->snapshots_changed, &o->userrefs};
	o->creation = o->used = o->available = o->referenced = ZFS_NONE;
	o->snapshots_changed = o->userrefs = ZFS_NONE;
	for (size_t i = 0; i < lc->nnum; i++)
		/* identity (guid, createtxg, creation) is never '-': a missing
		 * guid must not match another missing guid */
		if ((r = parse_u64(t, list_col_names[lc->idx[i]], f[i + lc->nt], lc->idx[i] >= 3,
		                   num[lc->idx[i]], e)) < 0)
			return r;
	if (cols & ZFS_COL_RESUME_TOKEN) {
		const char *tok = f[lc->nf - 1];
		/* it goes into a send -t argument: hex and dashes only */
		if (strcmp(tok, "-") &&
		    (!tok[0] || strspn(tok, "0123456789abcdef-") != strlen(tok)))
			return zerr_set(e, -EPROTO,
			                "zfs list output line %zu: not a resume token '%.40s'",
			                t->lineno, tok);
		o->resume_token = strcmp(tok, "-") ? tok : NULL;
	}
	return 0;
}

/* ---- the listing, read as it comes ----------------------------------- */

/* The kept strings of a list (names, resume tokens): blocks that never
 * move, so the rows can point into them. */
struct zfs_arena {
	struct zfs_arena *next;
	size_t len, cap;
	char s[];
};

/* Blocks double from 4 KiB (most listings are a few rows) to 1 MiB. */
#define ARENA_FIRST ((size_t)4 << 10)
#define ARENA_BLOCK ((size_t)1 << 20)

static const char *arena_add(struct zfs_list *l, const char *s)
{
	size_t n = strlen(s) + 1;
	struct zfs_arena *a = l->arena;
	if (!a || a->cap - a->len < n) {
		size_t cap = !a ? ARENA_FIRST : a->cap < ARENA_BLOCK ? a->cap * 2 : ARENA_BLOCK;
		if (cap < n)
			cap = n;
		a = xmalloc(sizeof(*a) + cap);
		a->next = l->arena;
		a->len = 0;
		a->cap = cap;
		l->arena = a;
	}
	char *to = a->s + a->len;
	memcpy(to, s, n);
	a->len += n;
	return to;
}

void zfs_list_reader_init(struct zfs_list_reader *rd, struct zfs_list *l, unsigned cols)
{
	memset(l, 0, sizeof(*l));
	l->cols = cols;
	memset(rd, 0, sizeof(*rd));
	rd->l = l;
	buf_init(&rd->line);
}

/* One whole line, [s, end) with end[-1] the '\n' or end[0] a byte that
 * may be overwritten: a row of l, its strings copied. */
static int reader_line(struct zfs_list_reader *rd, char *s, char *end, struct zerr *e)
{
	struct tsv t = {s, end, rd->lineno, "zfs list"};
	struct list_cols lc;
	list_cols_init(&lc, rd->l->cols);
	char *f[11];
	struct zfs_obj o;
	int r = tsv_next(&t, f, lc.nf, e);
	rd->lineno = t.lineno;
	if (r < 0 || (r = list_row(&t, rd->l->cols, &lc, f, &o, e)) < 0)
		return r;
	o.name = arena_add(rd->l, o.name);
	if (o.resume_token)
		o.resume_token = arena_add(rd->l, o.resume_token);
	struct zfs_list *l = rd->l;
	GROW(l, l->n + 1);
	l->v[l->n++] = o;
	return 0;
}

/* The line begun in an earlier piece grows by n bytes (at most to
 * ZFS_LINE_MAX, as tsv_next allows). */
static int reader_carry(struct zfs_list_reader *rd, const char *data, size_t n, struct zerr *e)
{
	if (rd->line.len + n > ZFS_LINE_MAX + 1)
		return zerr_set(e, -E2BIG, "zfs list output line %zu: longer than %d bytes",
		                rd->lineno + 1, ZFS_LINE_MAX);
	buf_add(&rd->line, data, n);
	return 0;
}

int zfs_list_reader_feed(struct zfs_list_reader *rd, char *data, size_t len, struct zerr *e)
{
	int r = rd->err;
	if (r < 0)
		return r;
	if (len && memchr(data, '\0', len))
		r = zerr_set(e, -EPROTO, "zfs list output contains a NUL byte");
	while (r == 0 && len) {
		char *nl = memchr(data, '\n', len);
		if (!nl) { /* the rest of the piece begins a line */
			r = reader_carry(rd, data, len, e);
			break;
		}
		size_t n = (size_t)(nl - data) + 1;
		if (rd->line.len) { /* the end of a line begun before */
			if ((r = reader_carry(rd, data, n, e)) == 0)
				r = reader_line(rd, rd->line.s, rd->line.s + rd->line.len, e);
			buf_reset(&rd->line);
		} else {
			r = reader_line(rd, data, nl + 1, e);
		}
		data += n;
		len -= n;
	}
	return rd->err = r;
}

int zfs_list_reader_end(struct zfs_list_reader *rd, struct zerr *e)
{
	int r = rd->err;
	if (r == 0 && rd->line.len) /* a last line without its '\n' */
		r = reader_line(rd, rd->line.s, rd->line.s + rd->line.len, e);
	buf_free(&rd->line);
	if (r < 0)
		zfs_list_free(rd->l);
	return rd->err = r;
}

int zfs_list_reader_sink(void *rd, char *data, size_t len, struct zerr *e)
{
	return zfs_list_reader_feed(rd, data, len, e);
}

/* Gives the kernel back the whole pages of [from, to), parsed and never
 * read again: of a listing of a million snapshots (110 MB) only the names
 * are kept, so the text must not stay resident while the rows are built
 * (bench/RESULTS.md, api-synth). The memory stays the caller's: touched
 * again, it comes back as zero pages. */
static void release_pages(char *from, char *to)
{
	static uintptr_t page;
	if (!page) {
		long sz = sysconf(_SC_PAGESIZE);
		page = sz > 0 ? (uintptr_t)sz : 4096;
	}
	uintptr_t a = ((uintptr_t)from + page - 1) & ~(page - 1), b = (uintptr_t)to & ~(page - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

#define OWNED_SLICE ((size_t)4 << 20) /* parsed, then released, at a time */

int zfs_list_parse_owned(struct zfs_list *l, char *text, size_t len, unsigned cols, struct zerr *e)
{
	struct zfs_list_reader rd;
	zfs_list_reader_init(&rd, l, cols);
	if (len > ZFS_OUTPUT_MAX)
		rd.err =
		    zerr_set(e, -E2BIG, "zfs list output is larger than %zu bytes", ZFS_OUTPUT_MAX);
	else if (memchr(text, '\0', len)) /* before any line's error, as always */
		rd.err = zerr_set(e, -EPROTO, "zfs list output contains a NUL byte");
	for (size_t off = 0; off < len && rd.err == 0; off += OWNED_SLICE) {
		size_t n = len - off < OWNED_SLICE ? len - off : OWNED_SLICE;
		/* a line cut at the slice's end is carried (copied) whole */
		zfs_list_reader_feed(&rd, text + off, n, e);
		release_pages(text + off, text + off + n);
	}
	int r = zfs_list_reader_end(&rd, e);
	free(text);
	return r;
}

int zfs_list_parse(struct zfs_list *l, const char *text, size_t len, unsigned cols, struct zerr *e)
{
	if (len > ZFS_OUTPUT_MAX) { /* not even copied */
		memset(l, 0, sizeof(*l));
		return zerr_set(e, -E2BIG, "zfs list output is larger than %zu bytes",
		                ZFS_OUTPUT_MAX);
	}
	char *copy = xmalloc(len + 1);
	if (len)
		memcpy(copy, text, len);
	copy[len] = '\0';
	return zfs_list_parse_owned(l, copy, len, cols, e);
}

/* A names-only listing as zkeep's rows: snapshots only (snaps_only, a
 * dataset row made for each dataset seen) or datasets and snapshots as
 * listed; createtxg is the line number. */
static int names_parse(struct zfs_list *l, const char *text, size_t len, bool snaps_only,
                       struct zerr *e)
{
	char *copy = NULL;
	struct buf rows = BUF_INIT, last = BUF_INIT;
	int r = take_text(&copy, text, len, "zfs list", e);
	if (r < 0)
		return r;
	struct tsv t = {copy, copy + len, 0, "zfs list"};
	char *f[1];
	while ((r = tsv_next(&t, f, 1, e)) > 0) {
		bool snap = snaps_only || strchr(f[0], '@');
		if ((r = parse_name(&t, f[0], snap ? ZFS_TYPE_SNAPSHOT : ZFS_TYPE_DATASET, e)) < 0)
			break;
		size_t dl = strcspn(f[0], "@");
		if (snaps_only && (last.len != dl || strncmp(last.s, f[0], dl))) {
			buf_reset(&last);
			buf_add(&last, f[0], dl);
			buf_addf(&rows, "%s\tfilesystem\t0\t%zu\t0\t-\t-\t-\n", last.s, t.lineno);
		}
		buf_addf(&rows, "%s\t%s\t0\t%zu\t0\t-\t-\t-\n", f[0],
		         snap ? "snapshot" : "filesystem", t.lineno);
	}
	if (r == 0)
		r = zfs_list_parse(l, rows.s, rows.len, 0, e);
	free(copy);
	buf_free(&rows);
	buf_free(&last);
	return r;
}

int zfs_names_parse(struct zfs_list *l, const char *text, size_t len, struct zerr *e)
{
	return names_parse(l, text, len, true, e);
}

void zfs_names_tree_argv(struct strvec *argv, const char *const *roots)
{
	strvec_pushv(argv,
	             (const char *const[]){"zfs", "list", "-H", "-o", "name", "-s", "createtxg",
	                                   "-t", "filesystem,volume,snapshot", "-r", NULL});
	strvec_pushv(argv, roots);
}

void zfs_names_snapshots_argv(struct strvec *argv)
{
	strvec_pushv(argv, (const char *const[]){"zfs", "list", "-H", "-o", "name", "-s",
	                                         "createtxg", "-t", "snapshot", "-d", "1", NULL});
}

int zfs_names_tree_parse(struct zfs_list *l, const char *text, size_t len, struct zerr *e)
{
	return names_parse(l, text, len, false, e);
}

void zfs_list_join(struct zfs_list *l, const struct zfs_list *a, const struct zfs_list *b)
{
	memset(l, 0, sizeof(*l));
	l->cols = a->cols | b->cols;
	GROW(l, a->n + b->n + 1);
	if (a->n)
		memcpy(l->v, a->v, a->n * sizeof(*l->v));
	if (b->n)
		memcpy(l->v + a->n, b->v, b->n * sizeof(*l->v));
	l->n = a->n + b->n;
}

void zfs_list_add(struct zfs_list *l, const struct zfs_obj *o)
{
	GROW(l, l->n + 1);
	struct zfs_obj *to = &l->v[l->n++];
	*to = *o;
	to->name = arena_add(l, o->name);
	if (o->resume_token)
		to->resume_token = arena_add(l, o->resume_token);
}

const struct zfs_obj *zfs_list_find(const struct zfs_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

void zfs_list_free(struct zfs_list *l)
{
	if (!l)
		return;
	for (struct zfs_arena *a = l->arena, *next; a; a = next) {
		next = a->next;
		free(a);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int zpool_list_parse(struct zpool_list *l, const char *text, size_t len, struct zerr *e)
{
	static const char *const cols[] = {"size", "allocated", "free", "fragmentation",
	                                   "capacity"};
	memset(l, 0, sizeof(*l));
	int r = take_text(&l->text, text, len, "zpool list", e);
	if (r < 0)
		return r;
	struct tsv t = {l->text, l->text + len, 0, "zpool list"};
	char *f[7];
	while ((r = tsv_next(&t, f, 7, e)) > 0) {
		struct zpool p;
		p.name = f[0];
		p.health = f[6];
		if ((r = parse_name(&t, p.name, ZFS_TYPE_FILESYSTEM, e)) < 0)
			break;
		if (strchr(p.name, '/')) {
			r = zerr_set(e, -EPROTO,
			             "zpool list output line %zu: '%s' is not a pool name",
			             t.lineno, p.name);
			break;
		}
		uint64_t *num[] = {&p.size, &p.allocated, &p.free, &p.fragmentation, &p.capacity};
		for (size_t i = 0; i < 5; i++) {
			/* '-': fragmentation without spacemap_histogram, and every
			 * number of an UNAVAIL or FAULTED pool */
			if ((r = parse_u64(&t, cols[i], f[i + 1], true, num[i], e)) < 0)
				break;
		}
		if (r < 0)
			break;
		if (!*p.health ||
		    strspn(p.health, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(p.health)) {
			r = zerr_set(e, -EPROTO, "zpool list output line %zu: bad health '%.40s'",
			             t.lineno, p.health);
			break;
		}
		GROW(l, l->n + 1);
		l->v[l->n++] = p;
	}
	if (r < 0)
		zpool_list_free(l);
	return r;
}

void zpool_list_free(struct zpool_list *l)
{
	if (!l)
		return;
	free(l->text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int zfs_props_parse(struct zfs_props *p, const char *text, size_t len, struct zerr *e)
{
	memset(p, 0, sizeof(*p));
	int r = take_text(&p->text, text, len, "zfs get", e);
	if (r < 0)
		return r;
	struct tsv t = {p->text, p->text + len, 0, "zfs get"};
	char *f[4];
	while ((r = tsv_next(&t, f, 4, e)) > 0) {
		if ((r = parse_name(&t, f[0],
		                    ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, e)) <
		    0)
			break;
		if (!*f[1] ||
		    strspn(f[1], "abcdefghijklmnopqrstuvwxyz0123456789_:.@-") != strlen(f[1])) {
			r = zerr_set(e, -EPROTO,
			             "zfs get output line %zu: bad property name '%.40s'", t.lineno,
			             f[1]);
			break;
		}
		/* A user property's value may hold a tab and a newline, and so
		 * fake a row: a property seen twice for one dataset is refused. */
		for (size_t k = p->n; k-- > 0 && !strcmp(p->v[k].dataset, f[0]);)
			if (!strcmp(p->v[k].property, f[1])) {
				r = zerr_set(e, -EPROTO,
				             "zfs get output line %zu: property '%.60s' of '%.60s' "
				             "appears twice",
				             t.lineno, f[1], f[0]);
				goto done;
			}
		GROW(p, p->n + 1);
		p->v[p->n++] = (struct zfs_prop){f[0], f[1], f[2], f[3]};
	}
done:
	if (r < 0)
		zfs_props_free(p);
	return r;
}

void zfs_props_free(struct zfs_props *p)
{
	if (!p)
		return;
	free(p->text);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

int zfs_holds_parse(struct zfs_holds *h, const char *text, size_t len, struct zerr *e)
{
	memset(h, 0, sizeof(*h));
	int r = take_text(&h->text, text, len, "zfs holds", e);
	if (r < 0)
		return r;
	struct tsv t = {h->text, h->text + len, 0, "zfs holds"};
	char *f[3];
	while ((r = tsv_next(&t, f, 3, e)) > 0) {
		if ((r = parse_name(&t, f[0], ZFS_TYPE_SNAPSHOT, e)) < 0)
			break;
		if (!*f[1]) {
			r = zerr_set(e, -EPROTO, "zfs holds output line %zu: empty tag", t.lineno);
			break;
		}
		GROW(h, h->n + 1);
		h->v[h->n++] = (struct zfs_hold){f[0], f[1], f[2]};
	}
	if (r < 0)
		zfs_holds_free(h);
	return r;
}

void zfs_holds_free(struct zfs_holds *h)
{
	if (!h)
		return;
	free(h->text);
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* ---- zpool status --------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* "  pool: tank" -> key "pool", value "tank"; NULL when not a header line. */
static char *header_key(char *line, char **value)
{
	char *p = line;
	while (*p == ' ')
		p++;
	char *k = p;
	while ((*p >= 'a' && *p <= 'z') || *p == '_')
		p++;
	if (p == k || *p != ':' || (p[1] && p[1] != ' '))
		return NULL;
	*p = '\0';
	p++;
	while (*p == ' ')
		p++;
	*value = p;
	return k;
}

static const char *const vdev_states[] = {"ONLINE",  "DEGRADED", "FAULTED", "OFFLINE", "UNAVAIL",
                                          "REMOVED", "AVAIL",    "INUSE",   "SPLIT",   NULL};

/* The first whitespace-delimited vdev state word after the first word. */
static char *find_state(char *s)
{
	char *p = s + strcspn(s, " \t");
	while (*p) {
		while (is_space(*p))
			p++;
		size_t len = strcspn(p, " \t");
		for (const char *const *st = vdev_states; *st; st++)
			if (len == strlen(*st) && !strncmp(p, *st, len))
				return p;
		p += len;
	}
	return NULL;
}

static char *next_word(char **p)
{
	while (is_space(**p))
		(*p)++;
	if (!**p)
		return NULL;
	char *w = *p;
	while (**p && !is_space(**p))
		(*p)++;
	if (**p)
		*(*p)++ = '\0';
	return w;
}

/* Where zpool_status_parse is in the text: the free-text sections being
 * gathered (in status_keys' order), the one a continuation line belongs
 * to, and whether the config block's column header has passed. */
#define STATUS_SECTIONS 6
static const char *const status_keys[STATUS_SECTIONS] = {"pool",   "state", "status",
                                                         "action", "scan",  "errors"};
struct status_parse {
	struct buf sect[STATUS_SECTIONS];
	int cur; /* index into sect, -1 for a section the model does not keep */
	bool in_config, saw_header;
	size_t lineno;
};

/* The next line of [*p, end), NUL-terminated in place and *p moved past
 * it; a line longer than any zpool writes is refused, not truncated. */
static int status_cut_line(char **p, char *end, size_t lineno, char **line, struct zerr *e)
{
	char *nl = memchr(*p, '\n', (size_t)(end - *p));
	char *eol = nl ? nl : end;
	*line = *p;
	if ((size_t)(eol - *p) > ZFS_LINE_MAX)
		return zerr_set(e, -E2BIG, "zpool status output line %zu: too long", lineno);
	*eol = '\0';
	*p = eol + 1;
	return 0;
}

/* "key: value" starts a section: a kept one (status_keys) collects the
 * value, "config:" switches to vdev rows. A second "pool:" means two
 * pools' status in one text, which the model cannot hold. */
static int status_header(struct status_parse *sp, const char *key, const char *value,
                         struct zerr *e)
{
	sp->in_config = !strcmp(key, "config");
	sp->cur = -1;
	for (int i = 0; i < STATUS_SECTIONS; i++)
		if (!strcmp(key, status_keys[i]))
			sp->cur = i;
	if (sp->cur == 0 && sp->sect[0].len)
		return zerr_set(e, -EPROTO, "zpool status output line %zu: more than one pool",
		                sp->lineno);
	if (sp->cur >= 0)
		buf_adds(&sp->sect[sp->cur], value);
	return 0;
}

/* The READ, WRITE and CKSUM counters after a vdev's state, in rest. */
static int vdev_counters(struct zpool_vdev *v, char *rest, size_t lineno, struct zerr *e)
{
	uint64_t *num[] = {&v->read_errors, &v->write_errors, &v->checksum_errors};
	static const char *const ncol[] = {"READ", "WRITE", "CKSUM"};
	for (int i = 0; i < 3; i++) {
		char *w = next_word(&rest);
		if (!w)
			break; /* spares and caches list no counters */
		struct tsv vt = {NULL, NULL, lineno, "zpool status"};
		int r = parse_u64(&vt, ncol[i], w, false, num[i], e);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One line of the config block: a tab-indented vdev row (two spaces of
 * indent per level) becomes a vdev of s; the NAME header row before the
 * first vdev and lines that are not rows are passed over. */
static int status_vdev_row(struct zpool_status *s, struct status_parse *sp, char *line,
                           struct zerr *e)
{
	if (*line != '\t') /* rows are tab-indented */
		return 0;
	char *p = line + 1;
	int spaces = 0;
	while (p[spaces] == ' ')
		spaces++;
	char *name = p + spaces;
	if (!*name)
		return 0;
	if (!sp->saw_header) {
		sp->saw_header = !strncmp(name, "NAME", 4) && is_space(name[4]);
		return 0;
	}
	/* A name may hold spaces (file vdevs, pools): it ends where the
	 * first state word stands on its own. */
	char *state = find_state(name);
	if (!state)
		return zerr_set(e, -EPROTO, "zpool status output line %zu: no state in '%.60s'",
		                sp->lineno, name);
	char *end = state;
	while (end > name && is_space(end[-1]))
		end--;
	*end = '\0';
	char *rest = state;
	state = next_word(&rest);
	struct zpool_vdev v = {name, state, spaces / 2, 0, 0, 0};
	int r = vdev_counters(&v, rest, sp->lineno, e);
	if (r < 0)
		return r;
	s->vdevs = xgrow(s->vdevs, &s->alloc, s->n_vdevs + 1, sizeof(*s->vdevs));
	s->vdevs[s->n_vdevs++] = v;
	return 0;
}

/* A continuation line of the current free-text section, joined to it
 * with one space as the wrapped text it is. */
static void status_continue(struct status_parse *sp, const char *line)
{
	if (sp->cur < 0)
		return;
	while (is_space(*line))
		line++;
	if (*line)
		buf_addf(&sp->sect[sp->cur], "%s%s", sp->sect[sp->cur].len ? " " : "", line);
}

/* One line, by what it is: a header (never tab-indented), a config row
 * or a continuation of the section before it. */
static int status_line(struct zpool_status *s, struct status_parse *sp, char *line, struct zerr *e)
{
	char *value;
	char *key = line[0] != '\t' ? header_key(line, &value) : NULL;
	if (key)
		return status_header(sp, key, value, e);
	if (sp->in_config)
		return status_vdev_row(s, sp, line, e);
	status_continue(sp, line);
	return 0;
}

int zpool_status_parse(struct zpool_status *s, const char *text, size_t len, struct zerr *e)
{
	memset(s, 0, sizeof(*s));
	char *work = NULL;
	struct status_parse sp = {
	    .sect = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT}, .cur = -1};
	int r;

	if ((r = take_text(&s->text, text, len, "zpool status", e)) < 0)
		return r;
	if ((r = take_text(&work, text, len, "zpool status", e)) < 0)
		goto out;
	for (char *p = work, *end = work + len; p < end;) {
		char *line;
		if ((r = status_cut_line(&p, end, ++sp.lineno, &line, e)) < 0 ||
		    (r = status_line(s, &sp, line, e)) < 0)
			goto out;
	}
	if (!sp.sect[0].len || !sp.sect[1].len) {
		r = zerr_set(e, -EPROTO, "zpool status output: no 'pool:' and 'state:' lines");
		goto out;
	}
	/* The vdev names point into work, which the model keeps. */
	s->strings = work;
	work = NULL;
	char **dst[] = {&s->pool, &s->state, &s->status, &s->action, &s->scan, &s->errors};
	for (int i = 0; i < STATUS_SECTIONS; i++)
		*dst[i] = buf_detach(&sp.sect[i], NULL);
out:
	for (int i = 0; i < STATUS_SECTIONS; i++)
		buf_free(&sp.sect[i]);
	free(work);
	if (r < 0)
		zpool_status_free(s);
	return r;
}

void zpool_status_free(struct zpool_status *s)
{
	if (!s)
		return;
	free(s->text);
	free(s->pool);
	free(s->state);
	free(s->status);
	free(s->action);
	free(s->scan);
	free(s->errors);
	free(s->vdevs);
	free(s->strings);
	memset(s, 0, sizeof(*s));
}

/* ---- version and capabilities --------------------------------------- */

static int parse_version(const char *s, int v[3])
{
	/* "2.1.11-1", "2.3.1-1~bpo12+1", "2.2.0-rc4": the leading x.y[.z] */
	v[0] = v[1] = v[2] = 0;
	for (int i = 0; i < 3; i++) {
		if (*s < '0' || *s > '9')
			return i >= 2 ? 0 : -1;
		long n = 0;
		while (*s >= '0' && *s <= '9' && n < 100000)
			n = n * 10 + (*s++ - '0');
		v[i] = (int)n;
		if (*s != '.')
			return i >= 1 ? 0 : -1;
		s++;
	}
	return 0;
}

int zfs_version_parse(struct zfs_caps *c, const char *text, size_t len, struct zerr *e)
{
	char *copy = NULL;
	int r = take_text(&copy, text, len, "zfs version", e);
	if (r < 0)
		return r;
	memset(c, 0, sizeof(*c));
	int uv[3] = {0, 0, 0}, kv[3] = {0, 0, 0};
	bool have_u = false, have_k = false;
	char *save = NULL;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		if (n >= sizeof(c->userland))
			continue;
		if (!strncmp(line, "zfs-kmod-", 9) && parse_version(line + 9, kv) == 0) {
			memcpy(c->kmod, line, n + 1);
			have_k = true;
		} else if (!strncmp(line, "zfs-", 4) && parse_version(line + 4, uv) == 0) {
			memcpy(c->userland, line, n + 1);
			have_u = true;
		}
	}
	free(copy);
	if (!have_u)
		return zerr_set(e, -EPROTO,
		                "cannot read the OpenZFS version from 'zfs version' "
		                "(OpenZFS 0.8 or later is needed)");
	/* Without a loaded module only userland is known; features need both. */
	int *v = uv;
	if (have_k && (kv[0] < uv[0] || (kv[0] == uv[0] && kv[1] < uv[1]) ||
	               (kv[0] == uv[0] && kv[1] == uv[1] && kv[2] < uv[2])))
		v = kv;
	c->major = v[0];
	c->minor = v[1];
	c->patch = v[2];
	int ver = v[0] * 100 + v[1];
	c->holds = true;
	c->bookmarks = true;
	c->resume = ver >= 7;
	c->raw_send = ver >= 8;
	c->send_compressed = ver >= 7;
	c->send_embedded = ver >= 7 || (ver == 6 && v[2] >= 4);
	c->send_large_blocks = ver >= 200; /* not 0.6.5: see zfs.h */
	c->snapshots_changed = ver >= 202;
	c->holds_parsable = ver >= 202;
	return 0;
}

/* ---- runners -------------------------------------------------------- */

int zfs_probe(const struct host *h, int timeout_ms, struct zfs_caps *c, struct zerr *e)
{
	struct buf out = BUF_INIT;
	int r =
	    host_run(h, (const char *const[]){"zfs", "version", NULL}, &out, 4096, timeout_ms, e);
	if (r == 0)
		r = zfs_version_parse(c, out.s, out.len, e);
	buf_free(&out);
	return r;
}

int zpool_features_parse(struct zpool_features *f, const char *text, size_t len, struct zerr *e)
{
	static const struct {
		const char *name;
		size_t off;
	} known[] = {
	    {"feature@encryption", offsetof(struct zpool_features, encryption_active)},
	    {"feature@lz4_compress", offsetof(struct zpool_features, lz4)},
	    {"feature@zstd_compress", offsetof(struct zpool_features, zstd)},
	    {"feature@embedded_data", offsetof(struct zpool_features, embedded)},
	    {"feature@large_blocks", offsetof(struct zpool_features, large)},
	};
	memset(f, 0, sizeof(*f));
	bool any = false;
	for (const char *l = text, *end = text + len; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		size_t n = nl ? (size_t)(nl - l) : (size_t)(end - l);
		const char *tab = memchr(l, '\t', n);
		if (tab && !strncmp(l, "feature@", 8)) {
			const char *v = tab + 1;
			size_t vn = n - (size_t)(v - l);
			bool on = (vn == 6 && !memcmp(v, "active", 6)) ||
			          (vn == 7 && !memcmp(v, "enabled", 7));
			if (!on && !(vn == 8 && !memcmp(v, "disabled", 8)))
				return zerr_set(e, -EPROTO, "zpool get said '%.*s'",
				                (int)(n > 80 ? 80 : n), l);
			any = true;
			for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
				if ((size_t)(tab - l) == strlen(known[k].name) &&
				    !memcmp(l, known[k].name, (size_t)(tab - l)))
					/* encryption counts only when active: an enabled
					 * feature with no encrypted dataset refuses nothing */
					*(bool *)((char *)f + known[k].off) = k == 0 ? vn == 6 : on;
		}
		l += n + 1;
	}
	if (!any)
		return zerr_set(e, -EPROTO, "zpool get named no feature");
	return 0;
}

int zpool_features_run(const struct host *h, const char *pool, int timeout_ms,
                       struct zpool_features *f, struct zerr *e)
{
	struct buf out = BUF_INIT;
	int r = host_run(
	    h,
	    (const char *const[]){"zpool", "get", "-Hp", "-o", "property,value", "all", pool, NULL},
	    &out, 65536, timeout_ms, e);
	if (r == 0 && (r = zpool_features_parse(f, out.s, out.len, e)) < 0)
		zerr_prefix(e, "the features of pool %s", pool);
	buf_free(&out);
	return r;
}

int zfs_list_run(const struct host *h, const struct zfs_caps *c, unsigned types, unsigned cols,
                 bool recursive, const char *const *datasets, int timeout_ms, struct zfs_list *l,
                 struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	if (c && c->snapshots_changed)
		cols |= ZFS_COL_SNAPSHOTS_CHANGED;
	zfs_list_argv(&argv, types, cols, recursive, datasets);
	int r = zfs_run(h, (const char *const *)argv.v, &out, ZFS_OUTPUT_MAX, timeout_ms, e);
	if (r == 0)
		r = zfs_list_parse(l, out.s, out.len, cols, e);
	strvec_clear(&argv);
	buf_free(&out);
	return r;
}

int zpool_list_run(const struct host *h, int timeout_ms, struct zpool_list *l, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	zpool_list_argv(&argv);
	int r = host_run(h, (const char *const *)argv.v, &out, ZFS_OUTPUT_MAX, timeout_ms, e);
	if (r == 0)
		r = zpool_list_parse(l, out.s, out.len, e);
	strvec_clear(&argv);
	buf_free(&out);
	return r;
}

enum zfs_err zfs_err_kind(const char *text)
{
	/* most specific first: "cannot resume send: ... does not exist" is a
	 * refused token, "tag already exists" is EXISTS either way */
	static const struct {
		const char *says;
		enum zfs_err kind;
	} kinds[] = {
	    /* "destination contains partially-complete state from \"zfs receive -s\"" */
	    {"partially-complete state", ZFS_ERR_PARTIAL_RECEIVE},
	    {"cannot resume send", ZFS_ERR_RESUME_REFUSED},
	    {"match incremental source", ZFS_ERR_BASE_MISMATCH},
	    {"has been modified", ZFS_ERR_MODIFIED},
	    {"no such tag", ZFS_ERR_NO_SUCH_TAG},
	    {"invalid property", ZFS_ERR_BAD_PROPERTY},
	    {"bad property list", ZFS_ERR_BAD_PROPERTY},
	    {"already exists", ZFS_ERR_EXISTS},
	    {"bookmark exists", ZFS_ERR_EXISTS},
	    {"does not exist", ZFS_ERR_NOENT},
	};
	for (size_t i = 0; text && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strstr(text, kinds[i].says))
			return kinds[i].kind;
	return ZFS_ERR_OTHER;
}

int zfs_run(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
            int timeout_ms, struct zerr *e)
{
	struct buf err = BUF_INIT;
	int r = host_run_err(h, argv, out, out_cap, &err, timeout_ms, e);
	if (r < 0 && e)
		e->kind = (int)zfs_err_kind(err.s);
	buf_free(&err);
	return r;
}

bool zfs_err_all(const char *text, enum zfs_err kind)
{
	bool any = false;
	char line[1024];
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		size_t n = len < sizeof(line) - 1 ? len : sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		p += len + (p[len] == '\n');
		if (!n || !strncmp(line, "Warning: ", 9))
			continue;
		if (zfs_err_kind(line) != kind)
			return false;
		any = true;
	}
	return any;
}

int zfs_run_names(const struct host *h, const char *const *head, const struct strvec *names,
                  enum zfs_err benign, struct buf *out, int timeout_ms, struct zerr *e)
{
	int first = 0;
	for (size_t i = 0; i < names->n;) {
		struct strvec argv = STRVEC_INIT;
		struct buf res = BUF_INIT, err = BUF_INIT;
		struct zerr be = ZERR_INIT;
		strvec_pushv(&argv, head);
		for (size_t bytes = 0; i < names->n && (bytes == 0 || bytes + strlen(names->v[i]) <
		                                                          ZFS_ARGV_NAMES_MAX);
		     i++) {
			bytes += strlen(names->v[i]) + 1;
			strvec_push(&argv, names->v[i]);
		}
		int r = host_run_err(h, (const char *const *)argv.v, &res, ZFS_OUTPUT_MAX, &err,
		                     timeout_ms, &be);
		if (r < 0) {
			be.kind = (int)zfs_err_kind(err.s);
			if (benign != ZFS_ERR_OTHER && r == -EIO && zfs_err_all(err.s, benign))
				r = 0;
		}
		if (out)
			buf_add(out, res.s, res.len);
		if (r < 0 && !first) {
			first = r;
			if (e)
				*e = be;
		}
		strvec_clear(&argv);
		buf_free(&res);
		buf_free(&err);
	}
	return first;
}
