/* The empty leaf a first pull may replace (leaf.h): the checks that it is
 * empty and the seed's, its properties kept, and its destruction. */
#include "leaf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xalloc.h"
#include "banned.h"

/* A role-made leaf holds a few hundred bytes of metadata; data is more. */
#define LEAF_MAX_REFERENCED ((uint64_t)1 << 20)

/* Notes the first thing found in the leaf. */
static void not_empty(struct leaf *lf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void not_empty(struct leaf *lf, const char *fmt, ...)
{
	if (lf->why[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lf->why, sizeof(lf->why), fmt, ap);
	va_end(ap);
}

int leaf_parse(const char *target, const char *text, struct leaf *lf, struct zerr *e)
{
	memset(lf, 0, sizeof(*lf));
	size_t tlen = strlen(target);
	bool seen = false, canmount_off = false, refer_ok = false;
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char *l = xstrndup(line, len);
		line += len + (nl ? 1 : 0);
		char *f[4], *save = NULL;
		int n = 0;
		for (char *t = strtok_r(l, "\t", &save); t && n < 4;
		     t = strtok_r(NULL, "\t", &save))
			f[n++] = t;
		if (n != 4) {
			int r =
			    len ? zerr_set(e, -EINVAL, "unexpected zfs get output for '%s': '%s'",
			                   target, l)
			        : 0;
			free(l);
			if (r < 0)
				return r;
			continue;
		}
		const char *name = f[0], *prop = f[1], *val = f[2], *src = f[3];
		if (strcmp(name, target)) {
			/* anything listed under it: a snapshot, bookmark or child */
			if (!strncmp(name, target, tlen) && name[tlen] == '@')
				not_empty(lf, "a snapshot, %s", name);
			else if (!strncmp(name, target, tlen) && name[tlen] == '#')
				not_empty(lf, "a bookmark, %s", name);
			else
				not_empty(lf, "a child, %s", name);
			free(l);
			continue;
		}
		seen = true;
		if (!strcmp(prop, "guid")) {
			char *end;
			lf->guid = strtoull(val, &end, 10);
			if (*end || !lf->guid) {
				free(l);
				return zerr_set(e, -EINVAL, "'%s': unexpected guid '%s'", target,
				                val);
			}
		} else if (!strcmp(prop, "canmount")) {
			canmount_off = !strcmp(val, "off");
			if (!canmount_off)
				not_empty(lf, "canmount=%s, not off as the role made it", val);
		} else if (!strcmp(prop, "encryption")) {
			lf->encrypted = strcmp(val, "off") && strcmp(val, "-");
		} else if (!strcmp(prop, "encryptionroot")) {
			lf->own_key = !strcmp(val, target);
		} else if (!strcmp(prop, "referenced")) {
			char *end;
			uint64_t v = strtoull(val, &end, 10);
			refer_ok = !*end && v <= LEAF_MAX_REFERENCED;
			if (!refer_ok)
				not_empty(lf, "%s bytes of data", val);
		} else if (!strcmp(prop, "receive_resume_token")) {
			if (strcmp(val, "-"))
				not_empty(lf, "a partial receive (a resume token)");
		} else if ((!strcmp(prop, "acltype") || !strcmp(prop, "xattr")) &&
		           !strcmp(src, "local")) {
			char **dst = prop[0] == 'a' ? &lf->acltype : &lf->xattr;
			free(*dst);
			*dst = xstrdup(val);
		}
		free(l);
	}
	if (!seen || !lf->guid)
		return zerr_set(e, -EINVAL, "zfs get said nothing of '%s'", target);
	if (!canmount_off)
		not_empty(lf, "no canmount=off");
	if (!refer_ok)
		not_empty(lf, "no referenced size");
	return 0;
}

static int zfs_quiet(const struct host *h, const char *const *argv, struct buf *out, int timeout_ms,
                     struct zerr *e)
{
	buf_reset(out);
	return host_run(h, argv, out, 1 << 20, timeout_ms, e);
}

/* Whether target exists now (a failed listing counts as not). */
static bool exists(const struct host *h, const char *target, int timeout_ms)
{
	struct buf out = BUF_INIT;
	struct zerr e = ZERR_INIT;
	int r = zfs_quiet(h, (const char *const[]){"zfs", "list", "-H", "-o", "name", target, NULL},
	                  &out, timeout_ms, &e);
	buf_free(&out);
	return r == 0;
}

/* A plain stream received under target's parent inherits the parent's
 * encryption: its key must be loaded, or the receive fails after the
 * leaf is gone. A target at the pool's root has no parent to ask. */
static int parent_key_loaded(const struct host *h, const char *target, struct buf *out,
                             int timeout_ms, struct zerr *e)
{
	const char *slash = strrchr(target, '/');
	if (!slash)
		return 0;
	char *parent = xstrndup(target, (size_t)(slash - target));
	int r = zfs_quiet(
	    h, (const char *const[]){"zfs", "get", "-Hp", "-o", "value", "keystatus", parent, NULL},
	    out, timeout_ms, e);
	if (r == 0 && strcmp(out->s ? out->s : "", "available\n"))
		r = zerr_set(e, -EACCES,
		             "the key of '%s' is not loaded: a plain stream cannot be received "
		             "under it; load it (zfs load-key %s) and pull again",
		             parent, parent);
	free(parent);
	return r;
}

/* Destroys the leaf leaf_parse looked at, if its guid is still the one
 * seen (else -ESTALE), and has the receive carry its own acltype and
 * xattr, which the destroy loses. */
static int destroy_leaf(const struct host *h, const char *target, struct leaf_take *t,
                        struct buf *out, int timeout_ms, struct zerr *e)
{
	char want[32];
	int r;
	snprintf(want, sizeof(want), "%" PRIu64 "\n", t->lf.guid);
	if ((r = zfs_quiet(
	         h, (const char *const[]){"zfs", "get", "-Hp", "-o", "value", "guid", target, NULL},
	         out, timeout_ms, e)) < 0)
		return r;
	if (strcmp(out->s ? out->s : "", want))
		return zerr_set(e, -ESTALE, "'%s' changed while zkeep looked at it: not replaced",
		                target);
	/* without -r: zfs itself refuses if a snapshot or child appeared */
	if ((r = zfs_quiet(h, (const char *const[]){"zfs", "destroy", target, NULL}, out,
	                   timeout_ms, e)) < 0)
		return r;
	t->destroyed = true;
	log_info("replaced the empty leaf %s (made by the old setup) with the first receive",
	         target);
	if (t->lf.acltype) {
		strvec_push(&t->recv_opts, "-o");
		strvec_pushf(&t->recv_opts, "acltype=%s", t->lf.acltype);
	}
	if (t->lf.xattr) {
		strvec_push(&t->recv_opts, "-o");
		strvec_pushf(&t->recv_opts, "xattr=%s", t->lf.xattr);
	}
	return 0;
}

int leaf_take(const struct host *h, const char *target, bool raw, bool dry_run, int timeout_ms,
              struct leaf_take *t, struct zerr *e)
{
	struct buf out = BUF_INIT;
	int r;
	memset(t, 0, sizeof(*t));
	strvec_init(&t->recv_opts);
	r = zfs_quiet(h,
	              (const char *const[]){"zfs", "get", "-Hp", "-r", "-t", "all", "-o",
	                                    "name,property,value,source", LEAF_PROPS, target, NULL},
	              &out, timeout_ms, e);
	if (r < 0 && !exists(h, target, timeout_ms)) {
		/* gone since the listing (a partial receive aborted): the
		 * receive makes it, nothing to take over */
		r = 0;
		goto out;
	}
	if (r < 0 || (r = leaf_parse(target, out.s ? out.s : "", &t->lf, e)) < 0)
		goto out;
	if (t->lf.why[0]) {
		r = zerr_set(e, -EEXIST,
		             "'%s' exists without snapshots but is not empty (%s): zkeep never "
		             "overwrites it, --force or not; move it aside or destroy it after "
		             "checking, then pull again",
		             target, t->lf.why);
		goto out;
	}
	if (!raw && !t->lf.encrypted) {
		t->force = true; /* libzfs lets -F replace it */
		if (dry_run)
			log_info("would receive over the empty leaf %s (made by the old setup)",
			         target);
		goto out;
	}
	if (t->lf.own_key) {
		r = zerr_set(e, -EPERM,
		             "'%s' is an empty leaf with its own encryption key: zkeep cannot "
		             "replace it and put the key back; destroy it by hand, then pull again",
		             target);
		goto out;
	}
	if (!raw && (r = parent_key_loaded(h, target, &out, timeout_ms, e)) < 0)
		goto out;
	if (dry_run) {
		log_info("would replace the empty leaf %s (made by the old setup) with the first "
		         "receive",
		         target);
		goto out;
	}
	r = destroy_leaf(h, target, t, &out, timeout_ms, e);
out:
	buf_free(&out);
	return r;
}

int leaf_restore(const struct host *h, const char *target, const struct leaf_take *t,
                 int timeout_ms, struct zerr *e)
{
	/* the receive made it after all (its sender failed at the end) */
	if (exists(h, target, timeout_ms))
		return 0;
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	strvec_pushv(&argv, (const char *const[]){"zfs", "create", "-o", "canmount=off", NULL});
	for (size_t i = 0; i < t->recv_opts.n; i++)
		strvec_push(&argv, t->recv_opts.v[i]);
	strvec_push(&argv, target);
	int r = zfs_quiet(h, (const char *const *)argv.v, &out, timeout_ms, e);
	strvec_clear(&argv);
	buf_free(&out);
	return r;
}

void leaf_props_of(const struct leaf_take *t, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < t->recv_opts.n; i++)
		if (strcmp(t->recv_opts.v[i], "-o"))
			buf_addf(out, "%s%s", out->len ? " " : "", t->recv_opts.v[i]);
}

static bool leaf_prop_ok(const char *p)
{
	const char *eq = strchr(p, '=');
	if (!eq || !eq[1] ||
	    strspn(eq + 1, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(eq + 1))
		return false;
	size_t n = (size_t)(eq - p);
	return (n == 7 && !strncmp(p, "acltype", n)) || (n == 5 && !strncmp(p, "xattr", n));
}

int leaf_props_set(const struct host *h, const char *target, const char *props, int timeout_ms,
                   struct zerr *e)
{
	struct strvec argv = STRVEC_INIT, words = STRVEC_INIT;
	struct buf out = BUF_INIT;
	int r = 0;
	strvec_split(&words, props);
	strvec_pushv(&argv, (const char *const[]){"zfs", "set", NULL});
	for (size_t i = 0; i < words.n && !r; i++) {
		if (!leaf_prop_ok(words.v[i]))
			r = zerr_set(e, -EINVAL,
			             "'%s': the run record's leaf_props for %s has '%s', which is "
			             "not acltype=VALUE or xattr=VALUE; nothing set",
			             target, target, words.v[i]);
		strvec_push(&argv, words.v[i]);
	}
	strvec_push(&argv, target);
	if (!r && words.n)
		r = zfs_quiet(h, (const char *const *)argv.v, &out, timeout_ms, e);
	strvec_clear(&argv);
	strvec_clear(&words);
	buf_free(&out);
	return r;
}

void leaf_take_free(struct leaf_take *t)
{
	free(t->lf.acltype);
	free(t->lf.xattr);
	strvec_clear(&t->recv_opts);
	memset(t, 0, sizeof(*t));
}
