/* The replication plan for one dataset (plan.h): the common base by guid,
 * the steps to send, divergence. Pure: no zfs calls. */
#include "plan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static const char *snap_part(const char *name)
{
	const char *s = strpbrk(name, "@#");
	return s ? s + 1 : name;
}

static bool same(const struct zfs_obj *a, const struct zfs_obj *b, bool by_name)
{
	return by_name ? !strcmp(snap_part(a->name), snap_part(b->name)) : a->guid == b->guid;
}

static void diverged(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void diverged(struct plan *p, const char *fmt, ...)
{
	va_list ap;
	p->kind = PLAN_DIVERGED;
	va_start(ap, fmt);
	int n = vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(p->reason))
		p->reason[sizeof(p->reason) - 1] = '\0';
}

void plan_make(const struct plan_input *in, struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->matched_by_name = in->by_name;
	if (!in->n_src) {
		p->kind = PLAN_NO_SNAPSHOT;
		snprintf(p->reason, sizeof(p->reason), "the source has no snapshot to send");
		return;
	}
	const struct zfs_obj *newest = in->src[in->n_src - 1];
	if (!in->n_dst) {
		p->kind = PLAN_SEND;
		const struct zfs_obj *first = in->full_newest ? newest : in->src[0];
		p->steps[p->n_steps++] = (struct plan_step){NULL, first->name, false};
		if (first != newest)
			p->steps[p->n_steps++] =
			    (struct plan_step){first->name, newest->name, true};
		return;
	}
	/* The base: the newest target snapshot the source still has, as a
	 * snapshot or (by guid only) as a bookmark. A base pruned on the source
	 * after it was replicated lives on as the job's bookmark, and it beats
	 * an older snapshot both sides still have (a daily outlives the hourly
	 * base): basing on that one would see the target's copy of the pruned
	 * base as divergence. */
	const struct zfs_obj *base = NULL, *bookmark = NULL;
	size_t di = in->n_dst;
	while (di-- > 0) {
		for (size_t i = in->n_src; i-- > 0 && !base;)
			if (same(in->src[i], in->dst[di], in->by_name))
				base = in->src[i];
		for (size_t b = 0; !base && !bookmark && !in->by_name && b < in->n_bookmarks; b++)
			if (in->bookmarks[b]->guid == in->dst[di]->guid)
				bookmark = in->bookmarks[b];
		if (base || bookmark)
			break;
	}
	if (!base && !bookmark) {
		diverged(
		    p,
		    "no common snapshot: the target has snapshots (newest '%s') but none of "
		    "the source's (newest '%s'); it was not made from this source, or its base "
		    "was destroyed on both sides",
		    in->dst[in->n_dst - 1]->name, newest->name);
		return;
	}
	p->base_src = base ? base : bookmark;
	p->base_dst = in->dst[di];
	if (di + 1 < in->n_dst) {
		if (!in->force) {
			diverged(
			    p,
			    "the target has snapshots after the common base '%s' (newest '%s'); "
			    "refusing to roll it back without --force",
			    p->base_dst->name, in->dst[in->n_dst - 1]->name);
			p->base_src = p->base_dst = NULL;
			return;
		}
		p->rollback = true;
	}
	if (base == newest || (bookmark && bookmark->createtxg >= newest->createtxg)) {
		p->kind = PLAN_UP_TO_DATE;
		return;
	}
	p->kind = PLAN_SEND;
	if (base) {
		p->steps[p->n_steps++] = (struct plan_step){base->name, newest->name, true};
		return;
	}
	/* -I cannot start at a bookmark: -i to the first snapshot after it,
	 * then -I on from there, so every snapshot in between still goes */
	const struct zfs_obj *first = newest;
	for (size_t i = 0; i < in->n_src; i++)
		if (in->src[i]->createtxg > bookmark->createtxg) {
			first = in->src[i];
			break;
		}
	p->steps[p->n_steps++] = (struct plan_step){bookmark->name, first->name, false};
	if (first != newest)
		p->steps[p->n_steps++] = (struct plan_step){first->name, newest->name, true};
}

/* Where name is among the source snapshots (in->n_src: not there). */
static size_t src_index(const struct plan_input *in, const char *name)
{
	for (size_t i = 0; i < in->n_src; i++)
		if (!strcmp(in->src[i]->name, name))
			return i;
	return in->n_src;
}

size_t plan_after(const struct plan_input *in, const struct plan *p, const struct zfs_obj **out,
                  size_t *n_own)
{
	size_t n = in->n_dst;
	if (p->kind == PLAN_SEND && p->rollback) {
		/* receive -F destroys what follows the base */
		for (n = 0; n < in->n_dst && in->dst[n] != p->base_dst; n++)
			;
		n += n < in->n_dst;
	}
	if (n) /* in->dst may be NULL: a target without snapshots */
		memcpy(out, in->dst, n * sizeof(const struct zfs_obj *));
	*n_own = n;
	for (size_t k = 0; p->kind == PLAN_SEND && k < p->n_steps; k++) {
		const struct plan_step *s = &p->steps[k];
		size_t to = src_index(in, s->to);
		size_t from = s->from && s->intermediates ? src_index(in, s->from) : to;
		if (to == in->n_src || from > to) /* not a plan of this input */
			continue;
		for (size_t i = from == to ? to : from + 1; i <= to; i++)
			out[n++] = in->src[i];
	}
	return n;
}

size_t plan_split(const struct plan_input *in, const struct plan_step *s, struct plan_step *out)
{
	size_t from = s->from && s->intermediates ? src_index(in, s->from) : in->n_src;
	size_t to = src_index(in, s->to);
	if (from >= to || to == in->n_src) { /* nothing between, or not of this input */
		out[0] = *s;
		return 1;
	}
	size_t n = 0;
	for (size_t i = from; i < to; i++)
		out[n++] = (struct plan_step){in->src[i]->name, in->src[i + 1]->name, false};
	return n;
}

bool plan_unchanged(const struct plan_record *rec, const struct zfs_obj *src,
                    const struct zfs_obj *dst, time_t now)
{
	return rec && rec->ok && src && dst && !dst->resume_token && rec->source &&
	       !strcmp(rec->source, src->name) && rec->src_guid == src->guid &&
	       rec->dst_guid == dst->guid && src->snapshots_changed != ZFS_NONE &&
	       dst->snapshots_changed != ZFS_NONE && rec->src_changed == src->snapshots_changed &&
	       rec->dst_changed == dst->snapshots_changed &&
	       (rec->protected || rec->checked + 86400 > now);
}

bool plan_trust_target(const struct plan_record *rec, const struct zfs_obj *src,
                       const struct zfs_obj *dst)
{
	if (!rec || !rec->ok || !src || !dst || dst->resume_token || !rec->source ||
	    strcmp(rec->source, src->name) || !rec->newest || !rec->newest_guid ||
	    dst->snapshots_changed == ZFS_NONE || rec->end <= 0 ||
	    dst->snapshots_changed > (uint64_t)rec->end)
		return false;
	/* a snapshot of that source (not a bookmark standing in for one) */
	size_t n = strlen(src->name);
	return !strncmp(rec->newest, src->name, n) && rec->newest[n] == '@' && rec->newest[n + 1];
}
