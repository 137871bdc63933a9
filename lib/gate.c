/* The forced-command gate's pure part (gate.h): splitting the client's line
 * into words, matching them against the allowed operations, the seed's five lines. */
#include "gate.h"

#include <errno.h>
#include <string.h>

#include "buf.h"
#include "fmt.h"
#include "token.h"
#include "zfs.h"
#include "banned.h"

/* Every byte a permitted command line can hold. Anything else (quotes,
 * backslash, $, `, ;, |, &, <, >, *, ?, newline, control and non-ASCII
 * bytes, ...) has no business in a zfs command zkeep sends. */
static const char line_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789@#/_-.:,= ";

void gate_init(struct gate *g)
{
	memset(g, 0, sizeof(*g));
	strvec_init(&g->prefixes);
	g->zfs = "/sbin/zfs";
	g->ls = "/bin/ls";
}

void gate_free(struct gate *g)
{
	if (g)
		strvec_clear(&g->prefixes);
}

int gate_parse_allow(const char *s, unsigned *out, struct zerr *e)
{
	static const struct {
		const char *name;
		unsigned bit;
	} ops[] = {{"ls", GATE_OP_LS},           {"list", GATE_OP_LIST},
	           {"create", GATE_OP_CREATE},   {"receive", GATE_OP_RECEIVE},
	           {"send", GATE_OP_SEND},       {"hold", GATE_OP_HOLD},
	           {"release", GATE_OP_RELEASE}, {"bookmark", GATE_OP_BOOKMARK}};
	*out = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		size_t i;
		for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (strlen(ops[i].name) == len && !strncmp(ops[i].name, s, len))
				break;
		if (i == sizeof(ops) / sizeof(ops[0]))
			return zerr_set(
			    e, -EINVAL,
			    "unknown operation '%.*s' (ls, list, create, receive, send, "
			    "hold, release, bookmark)",
			    (int)len, s);
		*out |= ops[i].bit;
		s += len;
		if (*s == ',')
			s++;
	}
	if (!*out)
		return zerr_set(e, -EINVAL, "no operation allowed");
	return 0;
}

int gate_add_prefix(struct gate *g, const char *prefix, struct zerr *e)
{
	int r = zfs_name_check(prefix, ZFS_TYPE_DATASET, e);
	if (r < 0)
		return r;
	strvec_push(&g->prefixes, prefix);
	return 0;
}

int gate_split(const char *line, struct strvec *words, struct zerr *e)
{
	size_t len = strnlen(line, GATE_LINE_MAX + 1);
	strvec_clear(words);
	if (len == 0)
		return zerr_set(e, -EPERM, "empty command");
	if (len > GATE_LINE_MAX)
		return zerr_set(e, -EPERM, "command longer than %d bytes", GATE_LINE_MAX);
	size_t ok = strspn(line, line_chars);
	if (line[ok])
		return zerr_set(e, -EPERM, "character 0x%02x at offset %zu is not allowed",
		                (unsigned char)line[ok], ok);
	if (line[0] == ' ' || line[len - 1] == ' ' || strstr(line, "  "))
		return zerr_set(e, -EPERM, "words must be separated by single spaces");
	strvec_split(words, line);
	return 0;
}

/* ---- matching ------------------------------------------------------- */

struct m {
	const struct gate *g;
	char **w;
	size_t n, i; /* words, count, next */
	struct zerr *e;
};

static int refuse(struct m *m, const char *why, const char *word)
{
	return zerr_set(m->e, -EPERM, "%s%s%s%s", why, word ? " '" : "", word ? word : "",
	                word ? "'" : "");
}

static bool is(struct m *m, const char *word)
{
	if (m->i < m->n && !strcmp(m->w[m->i], word)) {
		m->i++;
		return true;
	}
	return false;
}

static bool under_prefix(const struct gate *g, const char *name)
{
	if (g->seed && g->any_dataset && !g->prefixes.n)
		return true;
	size_t dlen = strcspn(name, "@#");
	for (size_t i = 0; i < g->prefixes.n; i++) {
		const char *p = g->prefixes.v[i];
		size_t plen = strlen(p);
		if (dlen >= plen && !strncmp(name, p, plen) && (dlen == plen || name[plen] == '/'))
			return true;
	}
	return false;
}

/* A proper ancestor of a prefix, by whole components: "tank" and
 * "tank/a" for the prefix "tank/a/b". */
static bool above_prefix(const struct gate *g, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < g->prefixes.n; i++) {
		const char *p = g->prefixes.v[i];
		if (strlen(p) > n && !strncmp(p, name, n) && p[n] == '/')
			return true;
	}
	return false;
}

/* The next word as a name of one of types, confined to the prefixes. */
static int name(struct m *m, unsigned types)
{
	if (m->i >= m->n)
		return refuse(m, "missing dataset", NULL);
	const char *w = m->w[m->i];
	struct zerr ne = ZERR_INIT;
	if (w[0] == '-' || zfs_name_check(w, types, &ne) < 0)
		return refuse(m, "not a valid name:", w);
	if (!under_prefix(m->g, w))
		return refuse(m, "outside the allowed datasets:", w);
	m->i++;
	return 0;
}

static int end(struct m *m)
{
	return m->i == m->n ? 0 : refuse(m, "unexpected word", m->w[m->i]);
}

/* One or more names, up to the last word. */
static int names_to_end(struct m *m, unsigned types)
{
	do {
		int r = name(m, types);
		if (r < 0)
			return r;
	} while (m->i < m->n);
	return 0;
}

/* A name, and nothing after it. */
static int name_end(struct m *m, unsigned types)
{
	int r = name(m, types);
	return r < 0 ? r : end(m);
}

const char *const gate_seed_lines[GATE_SEED_N][GATE_SEED_WORDS + 1] = {
    [GATE_SEED_LIST] = {"zfs", "list", NULL},
    [GATE_SEED_LIST_SNAPSHOTS] = {"zfs", "list", "-t", "snapshot", "-H", "-o", "name", "-s",
                                  "creation", "-r", NULL},
    [GATE_SEED_CREATE] = {"zfs", "create", "-o", "canmount=off", NULL},
    [GATE_SEED_RECEIVE] = {"zfs", "receive", "-F", "-u", NULL},
};

void gate_seed_argv(enum gate_seed_line line, const char *ds, const char **argv)
{
	size_t k = 0;
	for (; gate_seed_lines[line][k]; k++)
		argv[k] = gate_seed_lines[line][k];
	argv[k++] = ds;
	argv[k] = NULL;
}

void gate_log_escape(struct buf *out, const char *s)
{
	size_t n = strlen(s);
	buf_add_escaped(out, s, n < GATE_LOG_MAX ? n : GATE_LOG_MAX, BUF_ESC_ASCII);
	if (n > GATE_LOG_MAX)
		buf_adds(out, "...");
}

void gate_seed_blocked(struct buf *out, const char *client, const char *line)
{
	buf_adds(out, "BLOCKED non-whitelisted command (client ");
	gate_log_escape(out, client ? client : "");
	buf_adds(out, "): ");
	gate_log_escape(out, line ? line : "");
}

/* The seed's five lines, exactly; DS also in the seed's [a-zA-Z0-9/_-]+,
 * a valid dataset name (not an option: "zfs list -r" would list them
 * all), at or under a prefix. "zfs list A" also for an ancestor A of a
 * prefix: it is never created, received into or its snapshots listed
 * (that would list those of every dataset under A). */
static int match_seed(struct m *m)
{
	static const char ds_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                               "0123456789/_-";
	const char *const(*forms)[GATE_SEED_WORDS + 1] = gate_seed_lines;
	for (size_t f = 0; f < GATE_SEED_N; f++) {
		size_t k = 0;
		while (forms[f][k] && k < m->n && !strcmp(m->w[k], forms[f][k]))
			k++;
		if (forms[f][k] || m->n != k + 1)
			continue;
		const char *ds = m->w[k];
		if (strspn(ds, ds_chars) != strlen(ds))
			return refuse(m, "not a dataset the seed allowlist accepts:", ds);
		m->i = k;
		if (!under_prefix(m->g, ds) && above_prefix(m->g, ds)) {
			if (f != GATE_SEED_LIST)
				return refuse(m,
				              "only 'zfs list' of an ancestor of the prefix:", ds);
			m->i++;
			return 0;
		}
		return name_end(m, ZFS_TYPE_DATASET);
	}
	return refuse(m, "not one of the five permitted command lines", NULL);
}

static bool word_in(const char *w, const char *const *set)
{
	for (; *set; set++)
		if (!strcmp(w, *set))
			return true;
	return false;
}

/* "a,b,c" with every item in set. */
static bool list_of(const char *w, const char *const *set)
{
	char item[64];
	while (*w) {
		size_t len = strcspn(w, ",");
		if (!len || len >= sizeof(item))
			return false;
		memcpy(item, w, len);
		item[len] = '\0';
		if (!word_in(item, set))
			return false;
		w += len;
		if (*w == ',' && !*++w)
			return false;
	}
	return true;
}

static int match_list(struct m *m)
{
	static const char *const types[] = {"filesystem", "volume", "snapshot", "bookmark", NULL};
	static const char *const cols[] = {"name",
	                                   "type",
	                                   "guid",
	                                   "createtxg",
	                                   "creation",
	                                   "used",
	                                   "available",
	                                   "referenced",
	                                   "snapshots_changed",
	                                   "userrefs",
	                                   "receive_resume_token",
	                                   "written",
	                                   "logicalreferenced",
	                                   NULL};
	if (m->n == 2 && is(m, "version"))
		return 0;
	if (is(m, "holds")) {
		if (!is(m, "-H") && !is(m, "-Hp"))
			return refuse(m, "zfs holds takes -H or -Hp", NULL);
		return names_to_end(m, ZFS_TYPE_SNAPSHOT);
	}
	if (is(m, "get")) {
		if (!is(m, "-Hp") || !is(m, "-o") || !is(m, "name,property,value,source"))
			return refuse(m, "zfs get takes -Hp -o name,property,value,source", NULL);
		if (m->i >= m->n || !list_of(m->w[m->i], cols))
			return refuse(m, "zfs get of properties zkeep does not read", NULL);
		m->i++;
		/* a bookmark: the creation of a base that is one */
		return names_to_end(m, ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK);
	}
	if (!is(m, "list"))
		return refuse(m, "not a permitted zfs command:", m->i < m->n ? m->w[m->i] : "");
	if (m->n == 3) /* the seed's "zfs list DS" */
		return name(m, ZFS_TYPE_DATASET);
	if (is(m, "-t")) { /* the seed's snapshot listing */
		if (!is(m, "snapshot") || !is(m, "-H") || !is(m, "-o") || !is(m, "name") ||
		    !is(m, "-s") || !is(m, "creation") || !is(m, "-r"))
			return refuse(m, "not a permitted zfs list form", NULL);
		return name_end(m, ZFS_TYPE_DATASET);
	}
	/* zkeep's own: zfs list -Hp -t TYPES -o COLS -s createtxg [-r | -d 1]
	 * DS... (-d 1: the snapshots of the datasets named, not of their
	 * children) */
	if (!is(m, "-Hp") || !is(m, "-t") || m->i >= m->n || !list_of(m->w[m->i++], types) ||
	    !is(m, "-o") || m->i >= m->n || !list_of(m->w[m->i++], cols) || !is(m, "-s") ||
	    !is(m, "createtxg"))
		return refuse(m, "not a permitted zfs list form", NULL);
	if (!is(m, "-r") && is(m, "-d") && !is(m, "1"))
		return refuse(m, "zfs list takes only -d 1", NULL);
	return names_to_end(m, ZFS_TYPE_DATASET);
}

/* zfs receive -u -x mountpoint [-o canmount=noauto] [-F] [-s] DS, flags in
 * any order, each once; or receive -A DS. Without -u and -x mountpoint a
 * stream could mount itself over /etc: zkeep 0.1.0 sent that form, and is
 * refused by name (GATE_RECEIVE_SINCE). */
static int match_receive(struct m *m)
{
	if (is(m, "-A"))
		return name_end(m, ZFS_TYPE_DATASET);
	bool F = false, u = false, s = false, x = false, o = false;
	for (;;) {
		if (!F && is(m, "-F"))
			F = true;
		else if (!u && is(m, "-u"))
			u = true;
		else if (!s && is(m, "-s"))
			s = true;
		else if (!x && m->i + 1 < m->n && !strcmp(m->w[m->i], "-x") &&
		         !strcmp(m->w[m->i + 1], "mountpoint"))
			x = true, m->i += 2;
		else if (!o && m->i + 1 < m->n && !strcmp(m->w[m->i], "-o") &&
		         !strcmp(m->w[m->i + 1], "canmount=noauto"))
			o = true, m->i += 2;
		else
			break;
	}
	if (!u || !x)
		return refuse(
		    m,
		    "zfs receive needs -u -x mountpoint (sent by zkeep " GATE_RECEIVE_SINCE
		    " and later: upgrade zkeep on the sending host)",
		    NULL);
	return name_end(m, ZFS_TYPE_DATASET);
}

static int match_send(struct m *m)
{
	static const char *const flags[] = {"-w", "-L", "-e", "-c", "-p",
	                                    "-h", "-n", "-v", "-P", NULL};
	unsigned seen = 0;
	for (;;) {
		size_t k;
		for (k = 0; flags[k]; k++)
			if (!(seen & (1u << k)) && m->i < m->n && !strcmp(m->w[m->i], flags[k]))
				break;
		if (!flags[k])
			break;
		seen |= 1u << k;
		m->i++;
	}
	if (is(m, "-t")) {
		/* zfs finds the token's snapshot by guid, from toname's dataset
		 * up to the pool root: the name is checked here, the guid by
		 * gate_token_verify() before anything runs */
		struct token t;
		struct zerr te = ZERR_INIT;
		if (m->i >= m->n || token_decode(m->w[m->i], &t, &te) < 0)
			return refuse(m, "not a resume token", NULL);
		if (zfs_name_check(t.toname, ZFS_TYPE_SNAPSHOT, &te) < 0)
			return refuse(m, "the resume token names an invalid snapshot", NULL);
		if (!under_prefix(m->g, t.toname))
			return refuse(
			    m, "the resume token names a snapshot outside the allowed datasets:",
			    t.toname);
		m->i++;
		return end(m);
	}
	if (is(m, "-i") || is(m, "-I")) {
		int r = name(m, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK);
		if (r < 0)
			return r;
	}
	return name_end(m, ZFS_TYPE_SNAPSHOT);
}

static bool zkeep_tag(const char *w)
{
	return !strncmp(w, "zkeep:", 6) && w[6] &&
	       strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") ==
	           strlen(w);
}

static int match_hold(struct m *m)
{
	if (m->i >= m->n || !zkeep_tag(m->w[m->i]))
		return refuse(m, "only zkeep's own hold tags (zkeep:...)", NULL);
	m->i++;
	return names_to_end(m, ZFS_TYPE_SNAPSHOT);
}

static int match_bookmark(struct m *m)
{
	if (m->i + 2 != m->n)
		return refuse(m, "zfs bookmark takes a snapshot and a bookmark", NULL);
	const char *snap = m->w[m->i], *bm = m->w[m->i + 1];
	size_t ds = strcspn(snap, "@");
	const char *hash = strchr(bm, '#');
	if (!hash || (size_t)(hash - bm) != ds || strncmp(snap, bm, ds) ||
	    strncmp(hash + 1, "zkeep", 5))
		return refuse(m, "only zkeep's bookmarks (DS#zkeep...) of DS's own snapshots",
		              NULL);
	int r = name(m, ZFS_TYPE_SNAPSHOT);
	return r < 0 ? r : name(m, ZFS_TYPE_BOOKMARK);
}

/* zfs destroy DS#zkeep...: only the job's own bookmarks, which hold no
 * data; never a snapshot or a dataset. */
static int match_destroy_bookmark(struct m *m)
{
	const char *hash = m->i + 1 == m->n ? strchr(m->w[m->i], '#') : NULL;
	if (!hash || strncmp(hash + 1, "zkeep", 5))
		return refuse(m, "zfs destroy takes only one of zkeep's bookmarks (DS#zkeep...)",
		              NULL);
	return name_end(m, ZFS_TYPE_BOOKMARK);
}

int gate_check(const struct gate *g, const char *line, struct strvec *argv, struct zerr *e)
{
	struct strvec words = STRVEC_INIT;
	int r = gate_split(line, &words, e);
	strvec_clear(argv);
	if (r < 0)
		goto out;
	struct m m = {g, words.v, words.n, 1, e};
	if (!g->prefixes.n && !(g->seed && g->any_dataset)) {
		r = zerr_set(e, -EPERM, "no --prefix: no dataset is allowed");
		goto out;
	}
	if (words.n == 1 && !strcmp(words.v[0], "ls")) {
		if (!(g->allow & GATE_OP_LS) && !g->seed) {
			r = refuse(&m, "ls is not allowed for this key", NULL);
			goto out;
		}
		strvec_push(argv, g->ls);
		goto out;
	}
	if (strcmp(words.v[0], "zfs") || words.n < 2) {
		r = refuse(&m, "not a permitted command:", words.v[0]);
		goto out;
	}
	if (g->seed) {
		r = match_seed(&m);
	} else {
		const char *verb = words.v[1];
		unsigned need = !strcmp(verb, "list") || !strcmp(verb, "get") ||
		                        !strcmp(verb, "holds") || !strcmp(verb, "version")
		                    ? GATE_OP_LIST
		                : !strcmp(verb, "create")   ? GATE_OP_CREATE
		                : !strcmp(verb, "receive")  ? GATE_OP_RECEIVE
		                : !strcmp(verb, "send")     ? GATE_OP_SEND
		                : !strcmp(verb, "hold")     ? GATE_OP_HOLD
		                : !strcmp(verb, "release")  ? GATE_OP_RELEASE
		                : !strcmp(verb, "bookmark") ? GATE_OP_BOOKMARK
		                : !strcmp(verb, "destroy")  ? GATE_OP_BOOKMARK
		                                            : 0;
		if (!(g->allow & need)) {
			r = refuse(&m, "operation not allowed for this key: zfs", verb);
			goto out;
		}
		m.i = 2;
		switch (need) {
		case GATE_OP_LIST:
			m.i = 1;
			r = match_list(&m);
			break;
		case GATE_OP_CREATE:
			r = (is(&m, "-o") && is(&m, "canmount=off"))
			        ? name_end(&m, ZFS_TYPE_DATASET)
			        : refuse(&m, "zfs create takes only -o canmount=off DS", NULL);
			break;
		case GATE_OP_RECEIVE:
			r = match_receive(&m);
			break;
		case GATE_OP_SEND:
			r = match_send(&m);
			break;
		case GATE_OP_HOLD:
		case GATE_OP_RELEASE:
			r = match_hold(&m);
			break;
		default:
			r = strcmp(verb, "destroy") ? match_bookmark(&m)
			                            : match_destroy_bookmark(&m);
			break;
		}
	}
	if (r == 0) {
		strvec_push(argv, g->zfs);
		strvec_pushv(argv, (const char *const *)words.v + 1);
	}
out:
	if (r < 0)
		strvec_clear(argv);
	strvec_clear(&words);
	return r;
}

int gate_token_listing(const struct gate *g, const struct strvec *argv, struct token *t,
                       struct strvec *list_argv, struct zerr *e)
{
	strvec_clear(list_argv);
	/* gate_check's send -t: zfs send [flags] -t TOKEN, the token last */
	if (argv->n < 4 || strcmp(argv->v[1], "send") || strcmp(argv->v[argv->n - 2], "-t"))
		return 0;
	int r = token_decode(argv->v[argv->n - 1], t, e);
	if (r < 0)
		return r;
	size_t dl = strcspn(t->toname, "@");
	char ds[TOKEN_NAME_MAX];
	memcpy(ds, t->toname, dl);
	ds[dl] = '\0';
	strvec_pushv(list_argv,
	             (const char *const[]){g->zfs, "list", "-Hp", "-t", "snapshot,bookmark", "-o",
	                                   "name,guid", "-d", "1", ds, NULL});
	return 1;
}

int gate_token_verify(const struct token *t, const char *listing, struct zerr *e)
{
	bool to = false, from = !(t->flags & TOKEN_HAS_FROMGUID);
	size_t dl = strcspn(t->toname, "@");
	for (const char *l = listing; *l;) {
		size_t len = strcspn(l, "\n");
		const char *tab = memchr(l, '\t', len);
		char num[32];
		uint64_t guid;
		size_t nl = tab ? (size_t)(tab - l) : 0, gl = tab ? len - nl - 1 : 0;
		if (tab && gl > 0 && gl < sizeof(num)) {
			memcpy(num, tab + 1, gl);
			num[gl] = '\0';
			/* only the token's own dataset's snapshots and bookmarks count */
			if (fmt_parse_u64(num, &guid) && nl > dl && !strncmp(l, t->toname, dl) &&
			    (l[dl] == '@' || l[dl] == '#')) {
				if (nl == strlen(t->toname) && !strncmp(l, t->toname, nl) &&
				    guid == t->toguid)
					to = true;
				if ((t->flags & TOKEN_HAS_FROMGUID) && guid == t->fromguid)
					from = true;
			}
		}
		l += len + (l[len] == '\n');
	}
	if (!to)
		return zerr_set(e, -EPERM, "the resume token's guid is not that of '%s'",
		                t->toname);
	if (!from)
		return zerr_set(e, -EPERM,
		                "the resume token's base is not a snapshot or bookmark of '%.*s'",
		                (int)dl, t->toname);
	return 0;
}
