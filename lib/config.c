/* zkeep.conf (config.h): parsing every section and key into typed structs,
 * validation with FILE:LINE errors, inheritance of dataset policies. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "history.h"
#include "hooks.h"
#include "host.h"
#include "notify.h"
#include "state.h"
#include "xalloc.h"
#include "zfs.h"
#include "banned.h"

#define CONFIG_FILE_MAX (1 << 20)

const char *const zk_interval_names[ZK_N_INTERVALS] = {"hourly", "daily", "monthly", "yearly"};
const char *const zk_level_names[3] = {"ok", "warning", "critical"};

static const struct {
	const char *name;
	int keep[ZK_N_INTERVALS];
	bool autosnap;
} builtin_policies[] = {
    {"none", {0, 0, 0, 0}, false},
    {"low", {3, 7, 1, 0}, true},
    {"high", {24, 14, 1, 1}, true},
    {"critical", {36, 30, 3, 5}, true},
};

/* ---- value parsers -------------------------------------------------- */

int config_parse_bool(const char *s, bool *out, struct zerr *e)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return zerr_set(e, -EINVAL, "'%s' is not a boolean (use yes or no)", s);
}

int config_parse_int(const char *s, long min, long max, long *out, struct zerr *e)
{
	char *end;
	if (!*s || strspn(s, "-0123456789") != strlen(s))
		return zerr_set(e, -EINVAL, "'%s' is not a whole number", s);
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end)
		return zerr_set(e, -EINVAL, "'%s' is not a whole number", s);
	if (v < min || v > max)
		return zerr_set(e, -EINVAL, "%s is out of range (%ld to %ld)", s, min, max);
	*out = v;
	return 0;
}

int config_parse_rate(const char *s, uint64_t *out, struct zerr *e)
{
	/* The forms pv -L takes, since the seed's --bwlimit went to pv verbatim:
	 * "500k", "10m", "1.5M" (or "1,5M"), "3 M", plain bytes; a fraction
	 * counts to four places, as pv's does. zkeep's own "3MB" too. */
	const char *p = s + strspn(s, " \t");
	size_t digits = strspn(p, "0123456789");
	if (!digits || digits > 15)
		goto bad;
	uint64_t v = 0, frac = 0, div = 1;
	for (size_t i = 0; i < digits; i++)
		v = v * 10 + (uint64_t)(p[i] - '0');
	p += digits;
	if (*p == '.' || *p == ',') {
		size_t fd = strspn(++p, "0123456789");
		if (!fd)
			goto bad;
		for (size_t i = 0; i < fd && div < 10000; i++, div *= 10)
			frac = frac * 10 + (uint64_t)(p[i] - '0');
		p += fd;
	}
	p += strspn(p, " \t");
	int shift = 0;
	if (*p) {
		const char *u = strchr("KMGT", *p & ~0x20);
		if (!u || !*u)
			goto bad;
		shift = 10 * (int)(u - "KMGT" + 1);
		p++;
		if (*p == 'B' || *p == 'b')
			p++;
		if (*p)
			goto bad;
	}
	if (v > (UINT64_MAX >> (shift + 1)))
		goto bad;
	v = (v << shift) + (frac << shift) / div;
	if (v == 0)
		goto bad;
	*out = v;
	return 0;
bad:
	return zerr_set(e, -EINVAL,
	                "invalid rate '%s' (a positive number of bytes a second, with an "
	                "optional K, M, G or T suffix, e.g. 3M, 1.5M, 500k)",
	                s);
}

int config_parse_interval(const char *s, enum zk_interval *out, struct zerr *e)
{
	for (int i = 0; i < ZK_N_INTERVALS; i++)
		if (!strcmp(s, zk_interval_names[i])) {
			*out = (enum zk_interval)i;
			return 0;
		}
	return zerr_set(e, -EINVAL, "unknown interval '%s' (hourly, daily, monthly or yearly)", s);
}

int config_parse_duration(const char *s, int64_t *out, struct zerr *e)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7L * 86400}};
	size_t digits = strspn(s, "0123456789");
	if (digits && digits <= 9 && s[digits] && !s[digits + 1]) {
		int64_t n = strtoll(s, NULL, 10);
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			if (s[digits] != units[i].unit)
				continue;
			if (n * units[i].secs < 60 || n * units[i].secs > 366L * 86400)
				return zerr_set(e, -EINVAL, "%s is out of range (1m to 366d)", s);
			*out = n * units[i].secs;
			return 0;
		}
	}
	return zerr_set(e, -EINVAL,
	                "'%s' is not a duration (a whole number and one of s, m, h, d, w: "
	                "e.g. 14h, 3d)",
	                s);
}

int config_parse_level(const char *s, int *out, struct zerr *e)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, zk_level_names[i])) {
			*out = i;
			return 0;
		}
	return zerr_set(e, -EINVAL, "'%s' is not ok, warning or critical", s);
}

int config_parse_keep(const char *s, int keep[ZK_N_INTERVALS], struct zerr *e)
{
	struct strvec words = STRVEC_INIT;
	bool seen[ZK_N_INTERVALS] = {false};
	int r = 0;
	for (int i = 0; i < ZK_N_INTERVALS; i++)
		keep[i] = ZK_KEEP_ALL;
	strvec_split(&words, s);
	if (!words.n)
		r = zerr_set(e, -EINVAL, "empty keep (e.g. hourly=48 daily=60 monthly=12)");
	for (size_t i = 0; i < words.n && !r; i++) {
		char *eq = strchr(words.v[i], '=');
		enum zk_interval iv = ZK_HOURLY;
		long n = 0;
		if (!eq) {
			r = zerr_set(e, -EINVAL, "invalid keep '%s': expected INTERVAL=COUNT",
			             words.v[i]);
			break;
		}
		*eq = '\0';
		if ((r = config_parse_interval(words.v[i], &iv, e)) < 0)
			break;
		if (seen[iv]) {
			r = zerr_set(e, -EINVAL, "keep names '%s' twice", words.v[i]);
			break;
		}
		if ((r = config_parse_int(eq + 1, 0, 1000000, &n, e)) < 0) {
			zerr_prefix(e, "keep %s", words.v[i]);
			break;
		}
		seen[iv] = true;
		keep[iv] = (int)n;
	}
	strvec_clear(&words);
	return r;
}

/* ---- the model ------------------------------------------------------ */

void config_init(struct zk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->snapshot_prefix = xstrdup("autosnap");
	c->state_dir = xstrdup("/var/lib/zkeep");
	c->lock_dir = xstrdup("/var/run");
	c->compliance_age_factor = 2;
	c->zfs_timeout = 300;
	for (size_t i = 0; i < sizeof(builtin_policies) / sizeof(builtin_policies[0]); i++) {
		c->policies =
		    xgrow(c->policies, &c->policies_alloc, c->n_policies + 1, sizeof(*c->policies));
		struct zk_policy *p = &c->policies[c->n_policies++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(builtin_policies[i].name);
		memcpy(p->keep, builtin_policies[i].keep, sizeof(p->keep));
		p->autosnap = builtin_policies[i].autosnap;
		p->autoprune = true;
		p->builtin = true;
	}
	c->api.listen_host = xstrdup("127.0.0.1");
	c->api.listen_port = 8000;
	c->api.interval = 30;
	c->api.request_deadline = 10;
	c->api.history_range = HISTORY_RANGE;
	c->attention = (struct zk_attention_cfg){
	    .pool_capacity_warning = 80,
	    .pool_capacity_critical = 90,
	    .snapshot_compliance = 80,
	    .backup_age_pull = 14L * 3600, /* the seed's pulls: longest gap 10 h, + 4 h */
	    .backup_age_push = 30L * 3600, /* nightly pushes: 24 h + 6 h */
	    .pool_unhealthy = ZK_LEVEL_CRITICAL,
	    .pool_errors = ZK_LEVEL_WARNING,
	    .snapshot_stale = ZK_LEVEL_WARNING,
	    .dataset_missing = ZK_LEVEL_WARNING,
	    .backup_failed = ZK_LEVEL_WARNING,
	};
	c->mqtt.port = ZK_MQTT_PORT;
}

static void job_free(struct zk_job *j)
{
	free(j->name);
	free(j->remote.host);
	free(j->remote.user);
	free(j->remote.identity_file);
	strvec_clear(&j->remote.ssh_options);
	strvec_clear(&j->datasets);
	free(j->destination);
	free(j->strip_prefix);
	free(j->notify.healthcheck_url);
	free(j->notify.webhook_url);
	free(j->notify.webhook_secret_file);
	free(j->notify.on_success);
	free(j->notify.on_failure);
}

static void snap_hooks_free(struct zk_snap_hooks *h)
{
	free(h->pre);
	free(h->post);
	memset(h, 0, sizeof(*h));
}

void config_free(struct zk_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->snapshot_prefix);
	free(c->state_dir);
	free(c->lock_dir);
	for (size_t i = 0; i < c->n_policies; i++) {
		free(c->policies[i].name);
		snap_hooks_free(&c->policies[i].hooks);
	}
	free(c->policies);
	for (size_t i = 0; i < c->n_datasets; i++) {
		free(c->datasets[i].name);
		free(c->datasets[i].policy);
		snap_hooks_free(&c->datasets[i].hooks);
	}
	free(c->datasets);
	for (size_t i = 0; i < c->n_jobs; i++)
		job_free(&c->jobs[i]);
	free(c->jobs);
	free(c->api.listen_host);
	free(c->api.api_key_file);
	free(c->api.log_dir);
	free(c->api.report_cache);
	free(c->api.cors_origins);
	free(c->api.history_url);
	free(c->api.tls_cert);
	free(c->api.tls_key);
	free(c->compat.pull_user);
	free(c->compat.pull_destination);
	free(c->compat.push_user);
	free(c->compat.push_strip_prefix);
	free(c->snapshot_healthcheck_url);
	free(c->mqtt.host);
	free(c->mqtt.tls_ca);
	free(c->mqtt.user);
	free(c->mqtt.password_file);
	free(c->mqtt.topic_prefix);
	memset(c, 0, sizeof(*c));
}

const struct zk_policy *config_policy(const struct zk_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_policies; i++)
		if (!strcmp(c->policies[i].name, name))
			return &c->policies[i];
	return NULL;
}

const struct zk_dataset_cfg *config_dataset(const struct zk_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_datasets; i++)
		if (!strcmp(c->datasets[i].name, name))
			return &c->datasets[i];
	return NULL;
}

void config_snap_hooks(const struct zk_config *c, const char *name, const struct zk_policy *p,
                       struct zk_snap_hooks *out)
{
	const struct zk_dataset_cfg *d = name ? config_dataset(c, name) : NULL;
	const struct zk_snap_hooks none = {NULL, NULL, 0};
	const struct zk_snap_hooks *own = d ? &d->hooks : &none, *pol = p ? &p->hooks : &none;
	out->pre = own->pre ? own->pre : pol->pre;
	out->post = own->post ? own->post : pol->post;
	out->timeout = own->timeout   ? own->timeout
	               : pol->timeout ? pol->timeout
	                              : ZK_HOOK_TIMEOUT_DEFAULT;
}

const struct zk_job *config_job(const struct zk_config *c, const char *name, bool is_push)
{
	for (size_t i = 0; i < c->n_jobs; i++)
		if (c->jobs[i].is_push == is_push && !strcmp(c->jobs[i].name, name))
			return &c->jobs[i];
	return NULL;
}

const char *config_job_lock_key(const struct zk_job *j)
{
	return j->is_push ? j->remote.host : j->name;
}

/* ---- parsing -------------------------------------------------------- */

enum sect {
	S_NONE,
	S_GLOBAL,
	S_API,
	S_ATTENTION,
	S_POLICY,
	S_DATASET,
	S_PULL,
	S_PUSH,
	S_COMPAT,
	S_SNAPSHOT,
	S_MQTT
};

struct parse {
	struct zk_config *c;
	const char *file;
	const char *text, *pos; /* the reader's input */
	int line;               /* the line the reader handed out last */
	const char *line_text;  /* that line in text, as written */
	size_t line_len;
	bool continuation; /* that line started with white space */
	bool too_long;
	enum sect sect;
	char *sect_name; /* the full "[...]" text of the current section */
	void *obj;       /* the policy, dataset or job being filled */
	struct strvec seen_sections;
	struct strvec seen_keys; /* keys of the current section */
	struct zerr *e;
	int failed;
};

static int fail(struct parse *ps, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct parse *ps, int line, const char *fmt, ...)
{
	if (ps->failed)
		return 0; /* the first error is the one to fix */
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	zerr_set(ps->e, -EINVAL, "%s:%d: %s", ps->file, line, b.s);
	buf_free(&b);
	ps->failed = 1;
	return 0;
}

/* An absolute path without a ".." component: a value never climbs out of
 * the directory it names. */
static bool path_ok(const char *s)
{
	if (s[0] != '/' || strlen(s) >= PATH_MAX)
		return false;
	for (const char *c = s; (c = strstr(c, "..")); c += 2)
		if (c[-1] == '/' && (c[2] == '/' || c[2] == '\0'))
			return false;
	return true;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, n - lead + 1);
}

/* Records the section "TYPE NAME" as seen; true when it was already. The
 * key is what the header means, so "[pull  a]" repeats "[pull a]". */
static bool section_seen(struct parse *ps, const char *type, size_t tlen, const char *arg)
{
	struct buf key = BUF_INIT;
	buf_addf(&key, "%.*s %s", (int)tlen, type, arg);
	bool dup = strvec_has(&ps->seen_sections, key.s);
	strvec_push(&ps->seen_sections, key.s);
	buf_free(&key);
	return dup;
}

/* [policy NAME]: a name of its own, or a built-in one given anew. */
static void open_policy(struct parse *ps, const char *arg, int line)
{
	struct zk_config *c = ps->c;
	if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                         "0123456789_-") != strlen(arg)) {
		fail(ps, line, "[policy NAME] needs a name of letters, digits, '_' and '-'");
		return;
	}
	struct zk_policy *p = (struct zk_policy *)config_policy(c, arg);
	if (!p) {
		c->policies =
		    xgrow(c->policies, &c->policies_alloc, c->n_policies + 1, sizeof(*c->policies));
		p = &c->policies[c->n_policies++];
		memset(p, 0, sizeof(*p));
		p->name = xstrdup(arg);
		p->autosnap = p->autoprune = true;
	}
	p->builtin = false;
	ps->obj = p;
	ps->sect = S_POLICY;
}

/* [dataset NAME]: NAME must be a valid zfs dataset name. */
static void open_dataset(struct parse *ps, const char *arg, int line)
{
	struct zk_config *c = ps->c;
	struct zerr ne = ZERR_INIT;
	if (zfs_name_check(arg, ZFS_TYPE_DATASET, &ne) < 0) {
		fail(ps, line, "[dataset NAME]: %s", ne.msg);
		return;
	}
	c->datasets =
	    xgrow(c->datasets, &c->datasets_alloc, c->n_datasets + 1, sizeof(*c->datasets));
	struct zk_dataset_cfg *d = &c->datasets[c->n_datasets++];
	memset(d, 0, sizeof(*d));
	d->name = xstrdup(arg);
	d->line = line;
	ps->obj = d;
	ps->sect = S_DATASET;
}

/* [pull NAME] or [push NAME]: a job with every default that is not zero
 * (keep all, the hooks' timeout). NAME may not start with '-'. */
static void open_job(struct parse *ps, const char *arg, int line, bool push)
{
	struct zk_config *c = ps->c;
	if (!*arg ||
	    strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                "0123456789_.-") != strlen(arg) ||
	    arg[0] == '-') {
		fail(ps, line, "[%s NAME] needs a name of letters, digits, '.', '_' and '-'",
		     push ? "push" : "pull");
		return;
	}
	c->jobs = xgrow(c->jobs, &c->jobs_alloc, c->n_jobs + 1, sizeof(*c->jobs));
	struct zk_job *j = &c->jobs[c->n_jobs++];
	memset(j, 0, sizeof(*j));
	j->name = xstrdup(arg);
	j->is_push = push;
	strvec_init(&j->remote.ssh_options);
	strvec_init(&j->datasets);
	for (int i = 0; i < ZK_N_INTERVALS; i++)
		j->keep[i] = ZK_KEEP_ALL;
	j->line = line;
	j->notify.hook_timeout = NOTIFY_HOOK_TIMEOUT_S;
	ps->obj = j;
	ps->sect = push ? S_PUSH : S_PULL;
}

/* A "[type name]" header seen by the reader: open the section's object. */
static void open_section(struct parse *ps, const char *raw)
{
	char *text = xstrdup(raw);
	trim(text);
	free(ps->sect_name);
	ps->sect_name = text;
	strvec_clear(&ps->seen_keys);
	ps->obj = NULL;
	ps->sect = S_NONE;

	const char *sp = strpbrk(text, " \t");
	size_t tlen = sp ? (size_t)(sp - text) : strlen(text);
	char *arg = xstrdup(sp ? sp + 1 : "");
	trim(arg);
	if (section_seen(ps, text, tlen, arg)) {
		fail(ps, ps->line, "duplicate section [%s]", text);
		free(arg);
		return;
	}
	int line = ps->line;

#define TYPE_IS(s) (tlen == strlen(s) && !strncmp(text, s, tlen))
	if (TYPE_IS("global") || TYPE_IS("api") || TYPE_IS("attention") || TYPE_IS("compat") ||
	    TYPE_IS("snapshot") || TYPE_IS("mqtt")) {
		if (*arg)
			fail(ps, line, "section [%.*s] takes no name", (int)tlen, text);
		ps->sect = TYPE_IS("global")      ? S_GLOBAL
		           : TYPE_IS("api")       ? S_API
		           : TYPE_IS("attention") ? S_ATTENTION
		           : TYPE_IS("compat")    ? S_COMPAT
		           : TYPE_IS("snapshot")  ? S_SNAPSHOT
		                                  : S_MQTT;
	} else if (TYPE_IS("policy")) {
		open_policy(ps, arg, line);
	} else if (TYPE_IS("dataset")) {
		open_dataset(ps, arg, line);
	} else if (TYPE_IS("pull") || TYPE_IS("push")) {
		open_job(ps, arg, line, TYPE_IS("push"));
	} else {
		fail(ps, line,
		     "unknown section [%s] (expected global, api, attention, policy NAME, dataset "
		     "NAME, pull NAME, push NAME, compat, snapshot or mqtt)",
		     text);
	}
#undef TYPE_IS
	free(arg);
}

/* inih's line source: hands out one line at a time so we know its number,
 * whether it continues the previous key, and where sections start. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *ps = stream;
	if (!*ps->pos || ps->too_long)
		return NULL;
	const char *nl = strchr(ps->pos, '\n');
	size_t len = nl ? (size_t)(nl - ps->pos) + 1 : strlen(ps->pos);
	ps->line++;
	if (len + 1 > (size_t)num) {
		ps->too_long = true;
		fail(ps, ps->line,
		     "line longer than %d characters (continue lists on indented "
		     "lines)",
		     num - 2);
		return NULL;
	}
	memcpy(str, ps->pos, len);
	str[len] = '\0';
	ps->line_text = ps->pos;
	ps->line_len = len;
	ps->pos += len;

	const char *p = str + strspn(str, " \t");
	bool blank = !*p || *p == '\n' || *p == '\r' || *p == ';' || *p == '#';
	ps->continuation = !blank && p != str && *p != '[';
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close) {
			fail(ps, ps->line, "section header without ']'");
		} else {
			char *name = xstrndup(p + 1, (size_t)(close - p - 1));
			open_section(ps, name);
			free(name);
		}
	}
	return str;
}

static int set_str(struct parse *ps, char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
	(void)ps;
	return 1;
}

/* Whether inih cut value v of the current line at an inline comment: a
 * ';' after a blank ends a value, so "a ; b" arrives as "a". */
static bool cut_by_comment(const struct parse *ps, const char *v)
{
	const char *eq = memchr(ps->line_text, '=', ps->line_len);
	const char *end = ps->line_text + ps->line_len;
	size_t vl = strlen(v);
	if (!eq || !vl)
		return false;
	for (const char *p = eq + 1; p + vl <= end; p++) {
		if (memcmp(p, v, vl))
			continue;
		const char *r = p + vl;
		while (r < end && (*r == ' ' || *r == '\t'))
			r++;
		return r < end && *r == ';';
	}
	return false;
}

/* A hook's command: split now, so that a bad quote fails the load, not
 * the hook; and whole, never silently cut at a ';' inih took for a
 * comment. */
static int key_command(struct parse *ps, char **dst, const char *k, const char *v)
{
	struct zerr e = ZERR_INIT;
	struct strvec argv = STRVEC_INIT;
	if (cut_by_comment(ps, v))
		return fail(ps, ps->line,
		            "%s: a ';' after a blank starts a comment here, so the command would "
		            "end at '%s'; put a comment on a line of its own, and the commands "
		            "in a script or their ';' without a blank before it",
		            k, v);
	int r = hook_split(v, &argv, &e);
	strvec_clear(&argv);
	if (r < 0)
		return fail(ps, ps->line, "%s: %s", k, e.msg);
	return set_str(ps, dst, v);
}

static int key_remote(struct parse *ps, struct zk_remote *r, const char *k, const char *v)
{
	struct zerr e = ZERR_INIT;
	long n = 0;
	if (!strcmp(k, "host") || !strcmp(k, "user")) {
		bool is_host = k[0] == 'h';
		if ((is_host ? host_check_name(v, &e) : host_check_user(v, &e)) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return set_str(ps, is_host ? &r->host : &r->user, v);
	}
	if (!strcmp(k, "port")) {
		if (config_parse_int(v, 1, 65535, &n, &e) < 0)
			return fail(ps, ps->line, "port: %s", e.msg);
		r->port = (int)n;
		return 1;
	}
	if (!strcmp(k, "identity_file")) {
		if (!path_ok(v))
			return fail(ps, ps->line,
			            "identity_file: '%s' is not an absolute path without '..'", v);
		return set_str(ps, &r->identity_file, v);
	}
	if (!strcmp(k, "ssh_options")) {
		/* Each word is one "-o" value: Name=value, no spaces. */
		struct strvec w = STRVEC_INIT;
		strvec_split(&w, v);
		for (size_t i = 0; i < w.n; i++) {
			if (!strchr(w.v[i], '=') || w.v[i][0] == '-' || w.v[i][0] == '=')
				fail(ps, ps->line, "ssh_options: '%s' is not Name=value", w.v[i]);
			else
				strvec_push(&r->ssh_options, w.v[i]);
		}
		strvec_clear(&w);
		return 1;
	}
	return -1; /* not a remote key */
}

/* A check's or webhook's URL, as lib/notify takes it. */
static int key_url(struct parse *ps, char **dst, const char *k, const char *v)
{
	struct zerr e = ZERR_INIT;
	if (notify_url_check(v, &e) < 0)
		return fail(ps, ps->line, "%s: %s", k, e.msg);
	return set_str(ps, dst, v);
}

/* hook_timeout, of a job's run hooks and of snapshot hooks alike. */
static int key_hook_timeout(struct parse *ps, int *dst, const char *v)
{
	struct zerr e = ZERR_INIT;
	long n = 0;
	if (config_parse_int(v, 1, 86400, &n, &e) < 0)
		return fail(ps, ps->line, "hook_timeout: %s", e.msg);
	*dst = (int)n;
	return 1;
}

/* A job's notification keys (struct zk_notify_cfg); -1: not one. */
static int key_notify(struct parse *ps, struct zk_notify_cfg *n, const char *k, const char *v)
{
	if (!strcmp(k, "healthcheck_url") || !strcmp(k, "webhook_url"))
		return key_url(ps, k[0] == 'h' ? &n->healthcheck_url : &n->webhook_url, k, v);
	if (!strcmp(k, "webhook_secret_file")) {
		if (!path_ok(v))
			return fail(ps, ps->line, "%s: '%s' is not an absolute path without '..'",
			            k, v);
		return set_str(ps, &n->webhook_secret_file, v);
	}
	if (!strcmp(k, "on_success") || !strcmp(k, "on_failure"))
		return key_command(ps, k[3] == 's' ? &n->on_success : &n->on_failure, k, v);
	if (!strcmp(k, "hook_timeout"))
		return key_hook_timeout(ps, &n->hook_timeout, v);
	return -1;
}

static int key_job(struct parse *ps, struct zk_job *j, const char *k, const char *v)
{
	struct zerr e = ZERR_INIT;
	int r = key_remote(ps, &j->remote, k, v);
	if (r >= 0)
		return r;
	if ((r = key_notify(ps, &j->notify, k, v)) >= 0)
		return r;
	if (!strcmp(k, "datasets")) {
		struct strvec w = STRVEC_INIT;
		strvec_split(&w, v);
		for (size_t i = 0; i < w.n; i++) {
			if (zfs_name_check(w.v[i], ZFS_TYPE_DATASET, &e) < 0)
				fail(ps, ps->line, "datasets: %s", e.msg);
			else if (!strvec_has(&j->datasets, w.v[i]))
				strvec_push(&j->datasets, w.v[i]);
		}
		strvec_clear(&w);
		return 1;
	}
	if (!strcmp(k, "destination") || (j->is_push && !strcmp(k, "strip_prefix"))) {
		if (zfs_name_check(v, ZFS_TYPE_DATASET, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return set_str(ps, k[0] == 'd' ? &j->destination : &j->strip_prefix, v);
	}
	if (!strcmp(k, "keep")) {
		if (config_parse_keep(v, j->keep, &e) < 0)
			return fail(ps, ps->line, "keep: %s", e.msg);
		j->has_keep = true;
		return 1;
	}
	if (!strcmp(k, "bwlimit")) {
		if (config_parse_rate(v, &j->bwlimit, &e) < 0)
			return fail(ps, ps->line, "bwlimit: %s", e.msg);
		return 1;
	}
	if (!strcmp(k, "parallel")) {
		long n = 0;
		if (config_parse_int(v, 1, ZK_PARALLEL_MAX, &n, &e) < 0)
			return fail(ps, ps->line, "parallel: %s", e.msg);
		j->parallel = (int)n;
		return 1;
	}
	if (j->is_push && !strcmp(k, "restricted")) {
		if (config_parse_bool(v, &j->restricted, &e) < 0)
			return fail(ps, ps->line, "restricted: %s", e.msg);
		return 1;
	}
	if (j->is_push && !strcmp(k, "allow_unencrypted")) {
		if (config_parse_bool(v, &j->allow_unencrypted, &e) < 0)
			return fail(ps, ps->line, "allow_unencrypted: %s", e.msg);
		return 1;
	}
	return -1;
}

static int key_global(struct parse *ps, const char *k, const char *v)
{
	struct zk_config *c = ps->c;
	struct zerr e = ZERR_INIT;
	long n = 0;
	if (!strcmp(k, "snapshot_prefix")) {
		if (!*v ||
		    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		              "0123456789_-.") != strlen(v) ||
		    strlen(v) > 64)
			return fail(
			    ps, ps->line,
			    "snapshot_prefix: '%s' must be 1 to 64 letters, digits, '_', '-' "
			    "or '.'",
			    v);
		return set_str(ps, &c->snapshot_prefix, v);
	}
	if (!strcmp(k, "state_dir") || !strcmp(k, "lock_dir")) {
		if (!path_ok(v))
			return fail(ps, ps->line, "%s: '%s' is not an absolute path without '..'",
			            k, v);
		return set_str(ps, k[0] == 's' ? &c->state_dir : &c->lock_dir, v);
	}
	if (!strcmp(k, "compliance_age_factor")) {
		if (config_parse_int(v, 1, 1000, &n, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		c->compliance_age_factor = (int)n;
		return 1;
	}
	if (!strcmp(k, "zfs_timeout")) {
		if (config_parse_int(v, 1, 86400, &n, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		c->zfs_timeout = (int)n;
		return 1;
	}
	return -1;
}

int config_parse_listen(const char *v, char **host, int *port, struct zerr *e)
{
	const char *colon = strrchr(v, ':');
	long n = 0;
	if (!colon || colon == v)
		return zerr_set(e, -EINVAL, "'%s' is not HOST:PORT", v);
	if (config_parse_int(colon + 1, 1, 65535, &n, e) < 0)
		return zerr_prefix(e, "the port of '%s'", v);
	char *h = xstrndup(v, (size_t)(colon - v));
	size_t hl = strlen(h);
	if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') { /* [::1]:8000 */
		memmove(h, h + 1, hl - 2);
		h[hl - 2] = '\0';
	} else if (strchr(h, ':')) { /* "::1" would read as host ":" port 1 */
		free(h);
		return zerr_set(e, -EINVAL,
		                "'%s': write an IPv6 address in brackets, e.g. [::1]:8000", v);
	}
	if (strspn(h, "0123456789abcdefABCDEF.:") != strlen(h) &&
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
	        strlen(h)) {
		free(h);
		return zerr_set(e, -EINVAL, "invalid address in '%s'", v);
	}
	*host = h;
	*port = (int)n;
	return 0;
}

int config_parse_topic(const char *s, struct zerr *e)
{
	if (!*s)
		return zerr_set(e, -EINVAL, "an empty MQTT topic");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '+' || *p == '#' || *p < 0x20 || *p == 0x7f)
			return zerr_set(e, -EINVAL,
			                "'%s' is not an MQTT topic to publish to: no '+', '#' "
			                "or control characters",
			                s);
	if (strlen(s) > 1024)
		return zerr_set(e, -EINVAL, "MQTT topic '%.40s...' is too long", s);
	return 0;
}

static int parse_listen(struct parse *ps, const char *v)
{
	struct zerr e = ZERR_INIT;
	char *h = NULL;
	int port = 0;
	if (config_parse_listen(v, &h, &port, &e) < 0)
		return fail(ps, ps->line, "listen: %s", e.msg);
	free(ps->c->api.listen_host);
	ps->c->api.listen_host = h;
	ps->c->api.listen_port = port;
	return 1;
}

static int key_api(struct parse *ps, const char *k, const char *v)
{
	struct zk_api_cfg *a = &ps->c->api;
	struct zerr e = ZERR_INIT;
	long n = 0;
	if (!strcmp(k, "listen"))
		return parse_listen(ps, v);
	if (!strcmp(k, "api_key_file") || !strcmp(k, "log_dir") || !strcmp(k, "report_cache") ||
	    !strcmp(k, "tls_cert") || !strcmp(k, "tls_key")) {
		if (!path_ok(v))
			return fail(ps, ps->line, "%s: '%s' is not an absolute path without '..'",
			            k, v);
		char **dst = k[0] == 'a'              ? &a->api_key_file
		             : k[0] == 'l'            ? &a->log_dir
		             : k[0] == 'r'            ? &a->report_cache
		             : !strcmp(k, "tls_cert") ? &a->tls_cert
		                                      : &a->tls_key;
		if (k[0] == 'a')
			a->auth = true;
		return set_str(ps, dst, v);
	}
	if (!strcmp(k, "auth")) {
		if (config_parse_bool(v, &a->auth, &e) < 0)
			return fail(ps, ps->line, "auth: %s", e.msg);
		return 1;
	}
	if (!strcmp(k, "interval")) {
		if (config_parse_int(v, 1, 86400, &n, &e) < 0)
			return fail(ps, ps->line, "interval: %s", e.msg);
		a->interval = (int)n;
		return 1;
	}
	if (!strcmp(k, "request_deadline")) {
		if (config_parse_int(v, 1, 3600, &n, &e) < 0)
			return fail(ps, ps->line, "request_deadline: %s", e.msg);
		a->request_deadline = (int)n;
		return 1;
	}
	if (!strcmp(k, "cors_origins"))
		return set_str(ps, &a->cors_origins, v);
	if (!strcmp(k, "history_url")) {
		/* exactly what the history client can fetch: its rule, not a copy */
		if (history_url_check(v, &e) < 0)
			return fail(ps, ps->line, "%s", e.msg);
		return set_str(ps, &a->history_url, v);
	}
	if (!strcmp(k, "history_range")) {
		if (config_parse_int(v, HISTORY_POINTS, 366L * 86400, &n, &e) < 0)
			return fail(ps, ps->line, "history_range: %s", e.msg);
		a->history_range = (int)n;
		return 1;
	}
	return -1;
}

/* [attention]: each key's value checked here, the pair of capacity
 * thresholds in validate(). */
static int key_attention(struct parse *ps, const char *k, const char *v)
{
	struct zk_attention_cfg *a = &ps->c->attention;
	struct zerr e = ZERR_INIT;
	long n = 0;
	int *pct = !strcmp(k, "pool_capacity_warning")    ? &a->pool_capacity_warning
	           : !strcmp(k, "pool_capacity_critical") ? &a->pool_capacity_critical
	           : !strcmp(k, "snapshot_compliance")    ? &a->snapshot_compliance
	                                                  : NULL;
	if (pct) {
		if (config_parse_int(v, 0, 100, &n, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		*pct = (int)n;
		if (k[0] == 'p')
			a->capacity_line = ps->line;
		return 1;
	}
	int64_t *age = !strcmp(k, "backup_age_pull")   ? &a->backup_age_pull
	               : !strcmp(k, "backup_age_push") ? &a->backup_age_push
	                                               : NULL;
	if (age) {
		if (config_parse_duration(v, age, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return 1;
	}
	int *lvl = !strcmp(k, "pool_unhealthy")    ? &a->pool_unhealthy
	           : !strcmp(k, "pool_errors")     ? &a->pool_errors
	           : !strcmp(k, "snapshot_stale")  ? &a->snapshot_stale
	           : !strcmp(k, "dataset_missing") ? &a->dataset_missing
	           : !strcmp(k, "backup_failed")   ? &a->backup_failed
	                                           : NULL;
	if (lvl) {
		if (config_parse_level(v, lvl, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return 1;
	}
	return -1;
}

/* pre_snapshot, post_snapshot, hook_timeout: 1 taken, 0 failed, -1 not one of them. */
static int key_hooks(struct parse *ps, struct zk_snap_hooks *h, const char *k, const char *v)
{
	if (!strcmp(k, "pre_snapshot") || !strcmp(k, "post_snapshot"))
		return key_command(ps, k[1] == 'r' ? &h->pre : &h->post, k, v);
	if (!strcmp(k, "hook_timeout"))
		return key_hook_timeout(ps, &h->timeout, v);
	return -1;
}

static int key_policy(struct parse *ps, struct zk_policy *p, const char *k, const char *v)
{
	int hr = key_hooks(ps, &p->hooks, k, v);
	if (hr >= 0)
		return hr;
	struct zerr e = ZERR_INIT;
	enum zk_interval iv = ZK_HOURLY;
	long n = 0;
	if (config_parse_interval(k, &iv, NULL) == 0) {
		if (config_parse_int(v, 0, 1000000, &n, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		p->keep[iv] = (int)n;
		return 1;
	}
	if (!strcmp(k, "autosnap") || !strcmp(k, "autoprune")) {
		if (config_parse_bool(v, k[4] == 's' ? &p->autosnap : &p->autoprune, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return 1;
	}
	return -1;
}

static int key_dataset(struct parse *ps, struct zk_dataset_cfg *d, const char *k, const char *v)
{
	struct zerr e = ZERR_INIT;
	int hr = key_hooks(ps, &d->hooks, k, v);
	if (hr >= 0)
		return hr;
	if (!strcmp(k, "policy")) {
		d->line = ps->line;
		d->has_policy = true;
		return set_str(ps, &d->policy, v);
	}
	if (!strcmp(k, "discover_children") || !strcmp(k, "children_inherit_policy")) {
		if (config_parse_bool(
		        v, k[0] == 'd' ? &d->discover_children : &d->children_inherit_policy, &e) <
		    0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return 1;
	}
	return -1;
}

static bool is_list_key(const char *k)
{
	return !strcmp(k, "datasets") || !strcmp(k, "ssh_options");
}

static int key_compat(struct parse *ps, const char *k, const char *v)
{
	struct zk_compat_cfg *c = &ps->c->compat;
	struct zerr e = ZERR_INIT;
	bool pull = !strncmp(k, "pull_", 5);
	if (!strcmp(k, "pull_user") || !strcmp(k, "push_user")) {
		if (host_check_user(v, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return set_str(ps, pull ? &c->pull_user : &c->push_user, v);
	}
	if (!strcmp(k, "pull_destination") || !strcmp(k, "push_strip_prefix")) {
		if (zfs_name_check(v, ZFS_TYPE_DATASET, &e) < 0)
			return fail(ps, ps->line, "%s: %s", k, e.msg);
		return set_str(ps, pull ? &c->pull_destination : &c->push_strip_prefix, v);
	}
	return -1;
}

static int key_mqtt(struct parse *ps, const char *k, const char *v)
{
	struct zk_mqtt_cfg *m = &ps->c->mqtt;
	struct zerr e = ZERR_INIT;
	long n = 0;
	if (!strcmp(k, "host")) {
		if (host_check_name(v, &e) < 0)
			return fail(ps, ps->line, "host: %s", e.msg);
		return set_str(ps, &m->host, v);
	}
	if (!strcmp(k, "port")) {
		if (config_parse_int(v, 1, 65535, &n, &e) < 0)
			return fail(ps, ps->line, "port: %s", e.msg);
		m->port = (int)n;
		return 1;
	}
	if (!strcmp(k, "tls_ca") || !strcmp(k, "password_file")) {
		if (!path_ok(v))
			return fail(ps, ps->line, "%s: '%s' is not an absolute path without '..'",
			            k, v);
		return set_str(ps, k[0] == 't' ? &m->tls_ca : &m->password_file, v);
	}
	if (!strcmp(k, "user"))
		return set_str(ps, &m->user, v);
	if (!strcmp(k, "topic_prefix")) {
		if (config_parse_topic(v, &e) < 0)
			return fail(ps, ps->line, "topic_prefix: %s", e.msg);
		return set_str(ps, &m->topic_prefix, v);
	}
	return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	(void)section; /* the reader tracks sections, including empty ones */
	if (ps->failed)
		return 1;
	if (ps->sect == S_NONE)
		return ps->sect_name ? 1 : fail(ps, ps->line, "'%s' is outside any section", name);
	if (ps->continuation) {
		if (!is_list_key(name))
			return fail(ps, ps->line,
			            "indented line: only datasets and ssh_options "
			            "continue on further lines");
	} else if (strvec_has(&ps->seen_keys, name)) {
		return fail(ps, ps->line, "duplicate key '%s' in [%s]", name, ps->sect_name);
	} else {
		strvec_push(&ps->seen_keys, name);
	}
	/* a dataset's empty policy is the seed's `policy:` (null): kept, with
	 * a warning, as an unknown name is (struct zk_dataset_cfg) */
	if (!*value && !is_list_key(name) && !(ps->sect == S_DATASET && !strcmp(name, "policy")))
		return fail(ps, ps->line, "'%s' has no value", name);

	int r = -1;
	switch (ps->sect) {
	case S_GLOBAL:
		r = key_global(ps, name, value);
		break;
	case S_API:
		r = key_api(ps, name, value);
		break;
	case S_ATTENTION:
		r = key_attention(ps, name, value);
		break;
	case S_POLICY:
		r = key_policy(ps, ps->obj, name, value);
		break;
	case S_DATASET:
		r = key_dataset(ps, ps->obj, name, value);
		break;
	case S_PULL:
	case S_PUSH:
		r = key_job(ps, ps->obj, name, value);
		break;
	case S_COMPAT:
		r = key_compat(ps, name, value);
		break;
	case S_SNAPSHOT:
		if (!strcmp(name, "healthcheck_url"))
			r = key_url(ps, &ps->c->snapshot_healthcheck_url, name, value);
		break;
	case S_MQTT:
		r = key_mqtt(ps, name, value);
		break;
	case S_NONE:
		break;
	}
	if (r < 0)
		fail(ps, ps->line, "unknown key '%s' in [%s]", name, ps->sect_name);
	return 1;
}

/* The nearest declared proper ancestor of name: the seed's parent in
 * the zfs: tree. */
static const struct zk_dataset_cfg *declared_parent(const struct zk_config *c, const char *name)
{
	size_t len = strlen(name);
	const char *slash;
	while ((slash = memrchr(name, '/', len))) {
		len = (size_t)(slash - name);
		for (size_t i = 0; i < c->n_datasets; i++)
			if (strlen(c->datasets[i].name) == len &&
			    !strncmp(c->datasets[i].name, name, len))
				return &c->datasets[i];
	}
	return NULL;
}

static const char *inherited_policy(const struct zk_config *c, const struct zk_dataset_cfg *d);

/* What p passes down to its declared children (config.h): its effective
 * policy with children_inherit_policy, else what it inherited as long as
 * it has no policy key. Reads p->policy only when it is p's own. */
static const char *passed_down(const struct zk_config *c, const struct zk_dataset_cfg *p)
{
	if (p->has_policy)
		return p->children_inherit_policy ? p->policy : NULL;
	return inherited_policy(c, p);
}

/* The chain is as long as the name has components: it ends. */
static const char *inherited_policy(const struct zk_config *c, const struct zk_dataset_cfg *d)
{
	const struct zk_dataset_cfg *p = declared_parent(c, d->name);
	return p ? passed_down(c, p) : NULL;
}

void config_dataset_warnings(const struct zk_config *c, struct strvec *out)
{
	for (size_t i = 0; i < c->n_datasets; i++) {
		const struct zk_dataset_cfg *d = &c->datasets[i];
		if (!d->unknown)
			continue;
		const char *file = c->path ? c->path : "the config";
		if (!d->policy)
			strvec_pushf(out,
			             "%s:%d: [dataset %s] has no policy and inherits none: shown "
			             "as none, never snapshotted or pruned",
			             file, d->line, d->name);
		else
			strvec_pushf(out,
			             "%s:%d: [dataset %s]: %s policy '%s'%s: shown as none, never "
			             "snapshotted or pruned",
			             file, d->line, d->name, *d->policy ? "unknown" : "empty",
			             d->policy, d->has_policy ? "" : " (inherited)");
	}
}

/* Checks that need the whole file: references and required keys. */
static void validate(struct parse *ps)
{
	struct zk_config *c = ps->c;
	if (!c->api.tls_cert != !c->api.tls_key)
		fail(ps, 0, "[api] needs both tls_cert and tls_key, or neither");
	if (c->attention.pool_capacity_warning > c->attention.pool_capacity_critical)
		fail(ps, c->attention.capacity_line,
		     "[attention] pool_capacity_warning (%d) is above pool_capacity_critical (%d): "
		     "the warning must come first",
		     c->attention.pool_capacity_warning, c->attention.pool_capacity_critical);
	if (!c->mqtt.user != !c->mqtt.password_file)
		fail(ps, 0, "[mqtt] needs both user and password_file, or neither");
	for (size_t i = 0; i < c->n_datasets && !ps->failed; i++) {
		struct zk_dataset_cfg *d = &c->datasets[i];
		for (size_t k = 0; k < i && !ps->failed; k++)
			if (!strcmp(c->datasets[k].name, d->name))
				fail(ps, d->line, "dataset '%s' is declared twice", d->name);
	}
	/* In place: passed_down reads only own policies, which stay. */
	for (size_t i = 0; i < c->n_datasets && !ps->failed; i++) {
		struct zk_dataset_cfg *d = &c->datasets[i];
		const char *inherited = d->has_policy ? NULL : inherited_policy(c, d);
		if (inherited)
			d->policy = xstrdup(inherited);
		d->unknown = !d->policy || !config_policy(c, d->policy);
	}
	for (size_t i = 0; i < c->n_jobs && !ps->failed; i++) {
		struct zk_job *j = &c->jobs[i];
		const char *kind = j->is_push ? "push" : "pull";
		if (!j->remote.host)
			fail(ps, j->line, "[%s %s] needs host", kind, j->name);
		else if (!j->datasets.n)
			fail(ps, j->line, "[%s %s] needs datasets", kind, j->name);
		else if (!j->destination)
			fail(ps, j->line, "[%s %s] needs destination", kind, j->name);
		else if (!j->notify.webhook_url != !j->notify.webhook_secret_file)
			fail(ps, j->line,
			     "[%s %s] needs both webhook_url and webhook_secret_file, or neither",
			     kind, j->name);
	}
}

int config_load_string(struct zk_config *c, const char *name, const char *text, struct zerr *e)
{
	struct parse ps;
	memset(&ps, 0, sizeof(ps));
	ps.c = c;
	ps.file = name;
	/* a UTF-8 byte order mark (editors on other systems write one) is
	 * not part of the first section's name */
	if (!strncmp(text, "\xEF\xBB\xBF", 3))
		text += 3;
	ps.text = ps.pos = text;
	ps.e = e;
	strvec_init(&ps.seen_sections);
	strvec_init(&ps.seen_keys);

	if (strlen(text) > CONFIG_FILE_MAX) {
		fail(&ps, 0, "larger than %d bytes", CONFIG_FILE_MAX);
	} else {
		int r = ini_parse_stream(reader, &ps, handler, &ps);
		if (r > 0 && !ps.failed)
			fail(&ps, r, "syntax error (expected [section] or key = value)");
		else if (r < 0 && !ps.failed)
			fail(&ps, 0, "cannot parse (out of memory)");
	}
	if (!ps.failed)
		validate(&ps);
	if (!ps.failed) {
		free(c->path);
		c->path = xstrdup(name);
	}
	free(ps.sect_name);
	strvec_clear(&ps.seen_sections);
	strvec_clear(&ps.seen_keys);
	return ps.failed ? -EINVAL : 0;
}

int config_load_file(struct zk_config *c, const char *path, struct zerr *e)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return zerr_set(e, -errno, "cannot open config '%s': %s", path, strerror(errno));
	struct buf b = BUF_INIT;
	char tmp[8192];
	size_t n;
	int r = 0;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		buf_add(&b, tmp, n);
		if (b.len > CONFIG_FILE_MAX) {
			r = zerr_set(e, -EINVAL, "%s: larger than %d bytes", path, CONFIG_FILE_MAX);
			break;
		}
	}
	if (!r && ferror(f))
		r = zerr_set(e, -EIO, "cannot read config '%s': %s", path, strerror(errno));
	fclose(f);
	if (!r && memchr(b.s, '\0', b.len))
		r = zerr_set(e, -EINVAL, "%s: contains a NUL byte", path);
	if (!r)
		r = config_load_string(c, path, b.s, e);
	buf_free(&b);
	return r;
}

/* One entry of the old report's JSON: {"dataset": NAME, "policy": NAME or
 * null, ...}. Checked whole before anything is added. */
static int cache_entry(const json_t *o, size_t i, const char *path, const char **name,
                       const char **policy, struct zerr *e)
{
	struct zerr ne = ZERR_INIT;
	const json_t *n = json_object_get(o, "dataset"), *p = json_object_get(o, "policy");
	*name = json_string_value(n);
	*policy = json_string_value(p);
	if (!json_is_object(o) || !*name || (p && !json_is_null(p) && !*policy))
		return zerr_set(e, -EINVAL,
		                "%s: entry %zu is not {\"dataset\": NAME, \"policy\": NAME}", path,
		                i);
	if (zfs_name_check(*name, ZFS_TYPE_DATASET, &ne) < 0)
		return zerr_set(e, -EINVAL, "%s: entry %zu: %s", path, i, ne.msg);
	return 0;
}

int config_add_report_cache(struct zk_config *c, const char *path, struct zerr *e)
{
	json_t *doc = NULL;
	int r = state_load_json(AT_FDCWD, path, STATE_RECORD_MAX, &doc, e);
	if (r < 0)
		return r;
	/* the first form is a bare list; the later {"managed": [...],
	 * "unmanaged": [...]} */
	const json_t *list = json_is_array(doc) ? doc : json_object_get(doc, "managed");
	if (!json_is_array(list)) {
		json_decref(doc);
		return zerr_set(e, -EINVAL,
		                "%s: not a snapshot report (a list, or an object with \"managed\")",
		                path);
	}
	size_t i;
	const json_t *o;
	const char *name, *policy;
	json_array_foreach(list, i, o)
	{
		if ((r = cache_entry(o, i, path, &name, &policy, e)) < 0)
			break;
		for (size_t k = 0; k < c->n_datasets && r == 0; k++)
			if (!strcmp(c->datasets[k].name, name))
				r = zerr_set(e, -EINVAL, "%s: dataset '%s' is listed twice", path,
				             name);
		for (size_t k = 0; k < i && r == 0; k++) {
			const char *other =
			    json_string_value(json_object_get(json_array_get(list, k), "dataset"));
			if (!strcmp(other, name))
				r = zerr_set(e, -EINVAL, "%s: dataset '%s' is listed twice", path,
				             name);
		}
		if (r < 0)
			break;
	}
	json_array_foreach(list, i, o)
	{
		if (r < 0)
			break;
		cache_entry(o, i, path, &name, &policy, e);
		c->datasets =
		    xgrow(c->datasets, &c->datasets_alloc, c->n_datasets + 1, sizeof(*c->datasets));
		struct zk_dataset_cfg *d = &c->datasets[c->n_datasets++];
		memset(d, 0, sizeof(*d));
		d->name = xstrdup(name);
		/* the report lists each dataset with its effective policy,
		 * discovered ones included: nothing to inherit or discover */
		d->policy = policy ? xstrdup(policy) : NULL;
		d->has_policy = policy != NULL;
		d->unknown = !policy || !config_policy(c, policy);
	}
	json_decref(doc);
	return r;
}
