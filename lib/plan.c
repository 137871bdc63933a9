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
	/* the newest source snapshot the target also has */
	size_t bi = in->n_src, di = 0;
	for (size_t i = in->n_src; i-- > 0 && bi == in->n_src;)
		for (size_t k = 0; k < in->n_dst; k++)
			if (same(in->src[i], in->dst[k], in->by_name)) {
				bi = i;
				di = k;
				break;
			}
	const struct zfs_obj *base = bi < in->n_src ? in->src[bi] : NULL;
	const struct zfs_obj *bookmark = NULL;
	if (!base && !in->by_name) {
		/* the base snapshot may be gone from the source, its bookmark not:
		 * the newest target snapshot a bookmark matches */
		for (size_t k = in->n_dst; k-- > 0 && !bookmark;)
			for (size_t j = 0; j < in->n_bookmarks; j++)
				if (in->bookmarks[j]->guid == in->dst[k]->guid) {
					bookmark = in->bookmarks[j];
					di = k;
					break;
				}
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
	if (base == newest) {
		p->kind = PLAN_UP_TO_DATE;
		return;
	}
	p->kind = PLAN_SEND;
	if (bookmark && bookmark->createtxg >= newest->createtxg) {
		p->kind = PLAN_UP_TO_DATE;
		return;
	}
	p->steps[p->n_steps++] = (struct plan_step){p->base_src->name, newest->name, base != NULL};
}
