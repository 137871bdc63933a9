/* Snapshot policies (policy.h): names, what is due, what expires,
 * compliance, and the index of listings by dataset. Pure: no zfs, no clock. */
#include "policy.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "banned.h"

void policy_snapname(struct buf *out, const char *prefix, enum zk_interval iv, time_t now)
{
	struct tm tm;
	char ts[32];
	localtime_r(&now, &tm);
	size_t n = strftime(ts, sizeof(ts), "%Y-%m-%d_%H:%M:%S", &tm);
	ts[n] = '\0';
	buf_addf(out, "%s_%s_%s", prefix, ts, zk_interval_names[iv]);
}

/* n digits at *p into *v; advances *p. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		*v = *v * 10 + (c - '0');
	}
	*p += n;
	return true;
}

static bool lit(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

int policy_snapname_parse(const char *snap, const char *prefix, enum zk_interval *iv, struct tm *tm)
{
	size_t plen = strlen(prefix);
	if (strncmp(snap, prefix, plen))
		return -EINVAL;
	const char *p = snap + plen;
	int Y, M, D, h, m, s;
	if (!lit(&p, '_') || !digits(&p, 4, &Y) || !lit(&p, '-') || !digits(&p, 2, &M) ||
	    !lit(&p, '-') || !digits(&p, 2, &D) || !lit(&p, '_') || !digits(&p, 2, &h) ||
	    !lit(&p, ':') || !digits(&p, 2, &m) || !lit(&p, ':') || !digits(&p, 2, &s) ||
	    !lit(&p, '_'))
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60)
		return -EINVAL;
	if (config_parse_interval(p, iv, NULL) < 0)
		return -EINVAL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = Y - 1900;
	tm->tm_mon = M - 1;
	tm->tm_mday = D;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = s;
	tm->tm_isdst = -1;
	return 0;
}

int64_t policy_period(enum zk_interval iv, const struct tm *tm)
{
	int64_t y = tm->tm_year + 1900;
	switch (iv) {
	case ZK_HOURLY:
		return ((y * 100 + tm->tm_mon + 1) * 100 + tm->tm_mday) * 100 + tm->tm_hour;
	case ZK_DAILY:
		return (y * 100 + tm->tm_mon + 1) * 100 + tm->tm_mday;
	case ZK_MONTHLY:
		return y * 100 + tm->tm_mon + 1;
	case ZK_YEARLY:
	case ZK_N_INTERVALS:
		break;
	}
	return y;
}

int64_t policy_interval_seconds(enum zk_interval iv)
{
	static const int64_t secs[ZK_N_INTERVALS] = {3600, 86400, 31LL * 86400, 366LL * 86400};
	return secs[iv];
}

void policy_snaps_push(struct policy_snaps *s, const struct zfs_obj *o)
{
	s->v = xgrow(s->v, &s->alloc, s->n + 1, sizeof(const struct zfs_obj *));
	s->v[s->n++] = o;
}

void policy_snaps_free(struct policy_snaps *s)
{
	if (!s)
		return;
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- the index ------------------------------------------------------ */

static int cmp_dataset(const void *a, const void *b)
{
	const struct policy_dataset *x = a, *y = b;
	return strcmp(x->obj->name, y->obj->name);
}

static struct policy_dataset *find_n(const struct policy_index *ix, const char *name, size_t len)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = ix->v[mid].obj->name;
		int c = strncmp(m, name, len);
		if (c == 0)
			c = m[len] ? 1 : 0;
		if (c == 0)
			return &ix->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct policy_dataset *policy_index_find(const struct policy_index *ix, const char *name)
{
	return find_n(ix, name, strlen(name));
}

static char unknown_name[] = "none";
const struct zk_policy policy_unknown = {unknown_name, {0, 0, 0, 0}, false, false, true};

static const struct zk_dataset_cfg *declared(const struct zk_config *c, const char *name,
                                             size_t len)
{
	for (size_t i = 0; i < c->n_datasets; i++)
		if (strlen(c->datasets[i].name) == len && !strncmp(c->datasets[i].name, name, len))
			return &c->datasets[i];
	return NULL;
}

void policy_index_build(struct policy_index *ix, const struct zfs_list *l,
                        const struct zk_config *c)
{
	size_t alloc = 0;
	memset(ix, 0, sizeof(*ix));
	strvec_init(&ix->missing);
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type & ZFS_TYPE_DATASET) {
			ix->v = xgrow(ix->v, &alloc, ix->n + 1, sizeof(*ix->v));
			memset(&ix->v[ix->n], 0, sizeof(ix->v[0]));
			ix->v[ix->n++].obj = &l->v[i];
		}
	if (ix->n)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_dataset);
	/* The listing is in createtxg order, so each dataset's snapshots are
	 * appended in history order. */
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].type != ZFS_TYPE_SNAPSHOT)
			continue;
		const char *name = l->v[i].name;
		struct policy_dataset *d = find_n(ix, name, strcspn(name, "@"));
		if (d)
			policy_snaps_push(&d->snaps, &l->v[i]);
	}
	if (!c)
		return;
	for (size_t i = 0; i < ix->n; i++) {
		struct policy_dataset *d = &ix->v[i];
		const char *name = d->obj->name;
		size_t len = strlen(name);
		/* this dataset if declared, else its nearest discovering ancestor;
		 * the seed appended undeclared descendants after each discovering
		 * entry, declared ones in between or not. (Nested discovering
		 * entries listed a dataset twice there; here the nearest wins.) */
		for (;;) {
			const struct zk_dataset_cfg *dc = declared(c, name, len);
			if (dc && (len == strlen(name) || dc->discover_children)) {
				d->unknown = dc->unknown;
				d->policy =
				    dc->unknown ? &policy_unknown : config_policy(c, dc->policy);
				d->from = dc->name;
				ix->discovered += len != strlen(name);
				break;
			}
			const char *slash = memrchr(name, '/', len); /* up one level */
			if (!slash)
				break;
			len = (size_t)(slash - name);
		}
	}
	for (size_t i = 0; i < c->n_datasets; i++)
		if (!policy_index_find(ix, c->datasets[i].name))
			strvec_push(&ix->missing, c->datasets[i].name);
}

void policy_index_free(struct policy_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n; i++)
		policy_snaps_free(&ix->v[i].snaps);
	free(ix->v);
	strvec_clear(&ix->missing);
	memset(ix, 0, sizeof(*ix));
}

/* ---- due, expired, compliance --------------------------------------- */

static bool snap_interval(const struct zfs_obj *o, const char *prefix, enum zk_interval *iv,
                          struct tm *tm)
{
	const char *at = strchr(o->name, '@');
	return at && policy_snapname_parse(at + 1, prefix, iv, tm) == 0;
}

bool policy_is_due(const struct policy_snaps *s, const char *prefix, enum zk_interval iv,
                   time_t now)
{
	struct tm tnow, tm;
	enum zk_interval got;
	localtime_r(&now, &tnow);
	int64_t want = policy_period(iv, &tnow);
	for (size_t i = 0; i < s->n; i++)
		if (snap_interval(s->v[i], prefix, &got, &tm) && got == iv &&
		    policy_period(iv, &tm) == want)
			return false;
	return true;
}

void policy_expired(const struct policy_snaps *s, const char *prefix, enum zk_interval iv, int keep,
                    struct policy_snaps *out, struct policy_snaps *held)
{
	enum zk_interval got;
	struct tm tm;
	size_t total = 0;
	for (size_t i = 0; i < s->n; i++)
		total += snap_interval(s->v[i], prefix, &got, &tm) && got == iv;
	if (keep < 0 || total <= (size_t)keep)
		return;
	size_t drop = total - (size_t)keep; /* the oldest ones, by createtxg */
	for (size_t i = 0; i < s->n && drop; i++) {
		if (!snap_interval(s->v[i], prefix, &got, &tm) || got != iv)
			continue;
		drop--;
		bool is_held = s->v[i]->userrefs != ZFS_NONE && s->v[i]->userrefs > 0;
		policy_snaps_push(is_held ? held : out, s->v[i]);
	}
}

void policy_expire(const struct policy_snaps *s, const char *prefix, const int keep[ZK_N_INTERVALS],
                   struct policy_snaps *out, unsigned counts[ZK_N_INTERVALS])
{
	enum zk_interval iv;
	struct tm tm;
	signed char *ivs = s->n ? xcalloc(s->n, 1) : NULL;
	size_t drop[ZK_N_INTERVALS] = {0};
	memset(counts, 0, sizeof(unsigned) * ZK_N_INTERVALS);
	for (size_t i = 0; i < s->n; i++) {
		ivs[i] = snap_interval(s->v[i], prefix, &iv, &tm) ? (signed char)iv : -1;
		if (ivs[i] >= 0)
			counts[iv]++;
	}
	for (int k = 0; k < ZK_N_INTERVALS; k++)
		if (keep[k] >= 0 && counts[k] > (unsigned)keep[k])
			drop[k] = counts[k] - (unsigned)keep[k];
	for (size_t i = 0; i < s->n; i++)
		if (ivs[i] >= 0 && drop[ivs[i]]) {
			drop[ivs[i]]--;
			policy_snaps_push(out, s->v[i]);
		}
	free(ivs);
}

void policy_counts(const struct policy_snaps *s, const char *prefix,
                   unsigned counts[ZK_N_INTERVALS], unsigned *autosnap_total)
{
	enum zk_interval iv;
	struct tm tm;
	memset(counts, 0, sizeof(unsigned) * ZK_N_INTERVALS);
	*autosnap_total = 0;
	for (size_t i = 0; i < s->n; i++)
		if (snap_interval(s->v[i], prefix, &iv, &tm)) {
			counts[iv]++;
			(*autosnap_total)++;
		}
}

void policy_compliance(const struct policy_snaps *s, const char *prefix, const struct zk_policy *p,
                       time_t now, int factor, struct policy_compliance out[ZK_N_INTERVALS])
{
	enum zk_interval iv;
	struct tm tm;
	for (int i = 0; i < ZK_N_INTERVALS; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		out[i].retention = p->keep[i];
		out[i].newest = out[i].oldest = ZFS_NONE;
	}
	for (size_t k = 0; k < s->n; k++) {
		if (!snap_interval(s->v[k], prefix, &iv, &tm))
			continue;
		struct policy_compliance *c = &out[iv];
		uint64_t t = s->v[k]->creation;
		c->count++;
		if (c->newest == ZFS_NONE || t > c->newest)
			c->newest = t;
		if (c->oldest == ZFS_NONE || t < c->oldest)
			c->oldest = t;
	}
	for (int i = 0; i < ZK_N_INTERVALS; i++) {
		struct policy_compliance *c = &out[i];
		if (c->retention <= 0) {
			c->seed_percent = c->percent = 100;
			c->fresh = true;
		} else {
			/* the seed's float arithmetic (seed-system.md 1.6): 23 of
			 * 5 is 459 and 29 of 100 is 28, where zkeep's exact
			 * integer figure says 460 and 29 */
			double seed = (double)c->count / (double)c->retention * 100.0;
			c->seed_percent = seed >= (double)INT_MAX ? INT_MAX : (int)seed;
			uint64_t pct = (uint64_t)c->count * 100 / (uint64_t)c->retention;
			c->percent = pct > 100 ? 100 : (int)pct;
			int64_t limit =
			    (int64_t)factor * policy_interval_seconds((enum zk_interval)i);
			/* a newest snapshot "in the future" (clock set back) is fresh */
			c->fresh =
			    c->newest != ZFS_NONE && (int64_t)now - (int64_t)c->newest < limit;
		}
		c->compliant = c->percent == 100 && c->fresh;
	}
}
