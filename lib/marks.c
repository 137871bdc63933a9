/*
 * The job's hold on its source, or its bookmark where the hold is
 * refused (marks.h).
 */
#include "marks.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "xalloc.h"
#include "banned.h"

/* Appends name's first n chars with only those a hold tag and a bookmark
 * take, others as '-'; ':' parts the job from the host, and in a bookmark
 * '_' ends the job part (job "off" would otherwise take every bookmark
 * of job "off_eu" for its own, and destroy them), so neither is kept. */
static void add_mark_part(struct buf *b, const char *name, size_t n, bool bookmark)
{
	for (size_t i = 0; i < n && name[i]; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '.' || c == '-' || (c == '_' && !bookmark);
		buf_addch(b, ok ? c : '-');
	}
}

void marks_init(struct marks *m, const char *name, bool is_push, bool bookmarks,
                const struct host *src, int timeout_ms)
{
	char hn[256] = "";
	memset(m, 0, sizeof(*m));
	buf_init(&m->tag);
	buf_init(&m->bmname);
	strvec_init(&m->hold);
	strvec_init(&m->bookmark);
	strvec_init(&m->release);
	strvec_init(&m->destroy);
	strvec_init(&m->unkept);
	m->src = src;
	m->timeout_ms = timeout_ms;
	m->bookmarks = bookmarks;
	if (!is_push && (gethostname(hn, sizeof(hn) - 1) < 0 || !hn[0]))
		snprintf(hn, sizeof(hn), "localhost");
	size_t hl = strcspn(hn, ".");
	for (int k = 0; k < 2; k++) {
		struct buf *b = k ? &m->bmname : &m->tag;
		buf_adds(b, k ? "zkeep_" : "zkeep:");
		add_mark_part(b, name, strlen(name), k);
		if (hl) {
			buf_addch(b, ':');
			add_mark_part(b, hn, hl, k);
		}
	}
	buf_addch(&m->bmname, '_');
}

/* Empties the queues (marks_flush's end, marks_free). */
static void queues_clear(struct marks *m)
{
	strvec_clear(&m->hold);
	strvec_clear(&m->bookmark);
	strvec_clear(&m->release);
	strvec_clear(&m->destroy);
	free(m->release_of);
	free(m->destroy_of);
	free(m->kept);
	m->release_of = m->destroy_of = NULL;
	m->kept = NULL;
	m->arel = m->ades = 0;
}

void marks_free(struct marks *m)
{
	buf_free(&m->tag);
	buf_free(&m->bmname);
	strvec_clear(&m->unkept);
	queues_clear(m);
}

bool marks_has_bookmark(const struct marks *m, const struct zfs_obj *snap,
                        const struct zfs_obj *const *bms, size_t nbm)
{
	for (size_t k = 0; snap && k < nbm; k++)
		if (bms[k]->guid == snap->guid &&
		    !strncmp(strchr(bms[k]->name, '#') + 1, m->bmname.s, m->bmname.len))
			return true;
	return false;
}

bool marks_kept(const struct marks *m, const char *snap)
{
	return !strvec_has(&m->unkept, snap);
}

/* Runs a short zfs command on the source; a failure of the kind benign
 * (e.g. ZFS_ERR_EXISTS: the mark is there already) counts as success. */
static int run_quiet(const struct marks *m, const char *const *argv, enum zfs_err benign,
                     struct zerr *e)
{
	struct buf out = BUF_INIT;
	int r = zfs_run(m->src, argv, &out, 65536, m->timeout_ms, e);
	buf_free(&out);
	if (r < 0 && benign != ZFS_ERR_OTHER && e->kind == (int)benign)
		r = 0;
	return r;
}

/* Queues name (to release or destroy) behind entry. */
static void queue(struct strvec *v, size_t **of, size_t *cap, const char *name, size_t entry)
{
	if (strvec_has(v, name))
		return;
	*of = xgrow(*of, cap, v->n + 1, sizeof(**of));
	(*of)[v->n] = entry;
	strvec_push(v, name);
}

static bool has_snapshot(const struct policy_dataset *sd, const char *name)
{
	for (size_t k = 0; sd && k < sd->snaps.n; k++)
		if (!strcmp(sd->snaps.v[k]->name, name))
			return true;
	return false;
}

void marks_protect(struct marks *m, const struct zfs_obj *newest, const struct zfs_obj *prev,
                   const char *recorded, const struct policy_dataset *sd,
                   const struct zfs_obj *const *bms, size_t nbm)
{
	const char *at = strchr(newest->name, '@');
	size_t dslen = (size_t)(at - newest->name);
	struct buf bm = BUF_INIT, snap = BUF_INIT;
	buf_add(&bm, newest->name, dslen);
	buf_addf(&bm, "#%s%s", m->bmname.s, at + 1);
	size_t entry = m->hold.n;
	strvec_push(&m->hold, newest->name);
	strvec_push(&m->bookmark, bm.s);
	/* the previous marks: released and destroyed once the new base is
	 * protected, ignoring what is gone */
	if (prev && prev != newest && prev->type == ZFS_TYPE_SNAPSHOT)
		queue(&m->release, &m->release_of, &m->arel, prev->name, entry);
	/* the base the last record names, when this run's plan started from
	 * another (a resumed transfer finished it): else its hold would stay
	 * for good */
	if (recorded && has_snapshot(sd, recorded) && strcmp(recorded, newest->name) &&
	    (!prev || strcmp(recorded, prev->name)))
		queue(&m->release, &m->release_of, &m->arel, recorded, entry);
	for (size_t k = 0; k < nbm; k++) {
		const char *h = strchr(bms[k]->name, '#') + 1;
		if (strncmp(h, m->bmname.s, m->bmname.len) || !strcmp(bms[k]->name, bm.s))
			continue;
		buf_reset(&snap);
		buf_add(&snap, newest->name, dslen);
		buf_addf(&snap, "@%s", h + m->bmname.len);
		if (has_snapshot(sd, snap.s) && strcmp(snap.s, newest->name))
			queue(&m->release, &m->release_of, &m->arel, snap.s, entry);
		queue(&m->destroy, &m->destroy_of, &m->ades, bms[k]->name, entry);
	}
	buf_free(&bm);
	buf_free(&snap);
}

/* Entry k's new base where its hold was refused: a bookmark instead. A
 * refused bookmark stops the others' (no `bookmark` allowed either). */
static void bookmark_instead(struct marks *m, size_t k)
{
	struct zerr e = ZERR_INIT;
	const char *bm = m->bookmark.v[k];
	if (!m->bookmarks || m->bookmark_failed)
		return;
	if (zfs_name_check(bm, ZFS_TYPE_BOOKMARK, &e) < 0) {
		log_warn("cannot bookmark %s: %s", m->hold.v[k], e.msg);
		return;
	}
	if (run_quiet(m, (const char *const[]){"zfs", "bookmark", m->hold.v[k], bm, NULL},
	              ZFS_ERR_EXISTS, &e) == 0) {
		m->kept[k] = true;
	} else if (e.kind != ZFS_ERR_NOENT) {
		m->bookmark_failed = true;
		log_warn("no bookmarks of the replicated snapshots on %s either (%s); allow 'hold' "
		         "(or 'bookmark') to keep the chain across a prune",
		         m->src->label, e.msg);
	}
}

/* The batched hold failed: each new base on its own, to know which are
 * held (zfs hold goes on past a snapshot it cannot hold, and its stderr
 * may mix kinds: a snapshot gone, a dataset where `hold` is not allowed).
 * Held (or already): kept; gone since the listing: nothing to protect;
 * refused: bookmarked instead. */
static void hold_each(struct marks *m)
{
	for (size_t k = 0; k < m->hold.n; k++) {
		struct zerr e = ZERR_INIT;
		if (run_quiet(m, (const char *const[]){"zfs", "hold", m->tag.s, m->hold.v[k], NULL},
		              ZFS_ERR_EXISTS, &e) == 0) {
			m->kept[k] = true;
			continue;
		}
		if (e.kind == ZFS_ERR_NOENT)
			continue;
		if (!m->hold_failed)
			log_warn(
			    "cannot hold %s on %s (%s); bookmarking the bases it refuses instead",
			    m->hold.v[k], m->src->label, e.msg);
		m->hold_failed = true;
		bookmark_instead(m, k);
	}
}

/* Of names, those whose entry (of[k]) is kept. */
static void kept_only(const struct marks *m, const struct strvec *names, const size_t *of,
                      struct strvec *out)
{
	for (size_t k = 0; k < names->n; k++)
		if (m->kept[of[k]])
			strvec_push(out, names->v[k]);
}

void marks_flush(struct marks *m)
{
	struct zerr e = ZERR_INIT;
	m->kept = xcalloc(m->hold.n + 1, sizeof(*m->kept));
	int r = zfs_run_names(m->src, (const char *const[]){"zfs", "hold", m->tag.s, NULL},
	                      &m->hold, ZFS_ERR_EXISTS, NULL, m->timeout_ms, &e);
	if (r == 0)
		for (size_t k = 0; k < m->hold.n; k++)
			m->kept[k] = true;
	else
		hold_each(m);
	strvec_clear(&m->unkept);
	for (size_t k = 0; k < m->hold.n; k++)
		if (!m->kept[k])
			strvec_push(&m->unkept, m->hold.v[k]);
	/* the old bases of the datasets whose new base is protected (by its
	 * hold or its bookmark: an old base may be held from before holds
	 * were refused); an old base that is a new base too (two datasets'
	 * plans) stays */
	struct strvec rel = STRVEC_INIT;
	kept_only(m, &m->release, m->release_of, &rel);
	for (size_t k = 0; k < m->hold.n; k++)
		strvec_remove(&rel, m->hold.v[k]);
	e = (struct zerr)ZERR_INIT;
	if (zfs_run_names(m->src, (const char *const[]){"zfs", "release", m->tag.s, NULL}, &rel,
	                  ZFS_ERR_NO_SUCH_TAG, NULL, m->timeout_ms, &e) < 0) {
		/* where holds are refused, so may releases be: said above */
		if (m->hold_failed)
			log_debug("cannot release %s from the old bases on %s: %s", m->tag.s,
			          m->src->label, e.msg);
		else
			log_warn("cannot release %s from the old bases on %s: %s", m->tag.s,
			         m->src->label, e.msg);
	}
	strvec_clear(&rel);
	for (size_t k = 0; k < m->destroy.n; k++) {
		if (!m->kept[m->destroy_of[k]])
			continue;
		e = (struct zerr)ZERR_INIT;
		if (run_quiet(m, (const char *const[]){"zfs", "destroy", m->destroy.v[k], NULL},
		              ZFS_ERR_NOENT, &e) < 0)
			log_warn("cannot destroy the old bookmark %s: %s", m->destroy.v[k], e.msg);
	}
	queues_clear(m);
}
