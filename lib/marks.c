/*
 * The job's hold and bookmark on its source (marks.h).
 */
#include "marks.h"

#include <string.h>
#include <unistd.h>

#include "log.h"
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
	strvec_init(&m->release);
	strvec_init(&m->destroy);
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

void marks_free(struct marks *m)
{
	buf_free(&m->tag);
	buf_free(&m->bmname);
	strvec_clear(&m->hold);
	strvec_clear(&m->release);
	strvec_clear(&m->destroy);
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

bool marks_intact(const struct marks *m)
{
	return !m->bookmark_failed && !m->hold_failed;
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

/* Queues snap's release, once. */
static void release(struct marks *m, const char *snap)
{
	if (!strvec_has(&m->release, snap))
		strvec_push(&m->release, snap);
}

static bool has_snapshot(const struct policy_dataset *sd, const char *name)
{
	for (size_t k = 0; sd && k < sd->snaps.n; k++)
		if (!strcmp(sd->snaps.v[k]->name, name))
			return true;
	return false;
}

/* The new marks of newest: its bookmark (bm), then its hold. Returns
 * whether the bookmark exists now (then the old ones may go). */
static bool mark_newest(struct marks *m, const struct zfs_obj *newest, const char *bm,
                        const struct zfs_obj *const *bms, size_t nbm)
{
	struct zerr e = ZERR_INIT;
	bool marked = false;
	if (m->bookmarks && !m->bookmark_failed && zfs_name_check(bm, ZFS_TYPE_BOOKMARK, &e) == 0) {
		for (size_t k = 0; k < nbm; k++)
			marked |= !strcmp(bms[k]->name, bm);
		if (!marked &&
		    run_quiet(m, (const char *const[]){"zfs", "bookmark", newest->name, bm, NULL},
		              ZFS_ERR_EXISTS, &e) < 0) {
			m->bookmark_failed = true;
			log_info("no bookmarks of the replicated snapshots on %s (%s); allow "
			         "'bookmark' to keep the chain across a prune",
			         m->src->label, e.msg);
		} else {
			marked = true;
		}
	}
	if (!m->hold_failed && !strvec_has(&m->hold, newest->name))
		strvec_push(&m->hold, newest->name);
	return marked;
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
	bool marked = mark_newest(m, newest, bm.s, bms, nbm);
	/* the previous marks: release and destroy, ignoring what is gone */
	if (prev && prev != newest && prev->type == ZFS_TYPE_SNAPSHOT)
		release(m, prev->name);
	/* the base the last record names, when this run's plan started from
	 * another (a resumed transfer finished it): else, with no bookmark
	 * to find it by, its hold would stay for good */
	if (recorded && has_snapshot(sd, recorded) && strcmp(recorded, newest->name) &&
	    (!prev || strcmp(recorded, prev->name)))
		release(m, recorded);
	for (size_t k = 0; marked && k < nbm; k++) {
		const char *h = strchr(bms[k]->name, '#') + 1;
		if (strncmp(h, m->bmname.s, m->bmname.len) || !strcmp(bms[k]->name, bm.s))
			continue;
		buf_reset(&snap);
		buf_add(&snap, newest->name, dslen);
		buf_addf(&snap, "@%s", h + m->bmname.len);
		if (has_snapshot(sd, snap.s) && strcmp(snap.s, newest->name))
			release(m, snap.s);
		strvec_push(&m->destroy, bms[k]->name);
	}
	buf_free(&bm);
	buf_free(&snap);
}

void marks_flush(struct marks *m)
{
	struct zerr e = ZERR_INIT;
	if (m->hold.n && !m->hold_failed &&
	    zfs_run_names(m->src, (const char *const[]){"zfs", "hold", m->tag.s, NULL}, &m->hold,
	                  ZFS_ERR_EXISTS, NULL, m->timeout_ms, &e) < 0) {
		m->hold_failed = true;
		log_warn("cannot hold the replicated snapshots on %s (%s); going on without holds",
		         m->src->label, e.msg);
	}
	/* a base no longer held by the job is one the new hold replaced: not
	 * released when that hold failed */
	for (size_t k = 0; k < m->hold.n; k++)
		strvec_remove(&m->release, m->hold.v[k]);
	e = (struct zerr)ZERR_INIT;
	if (m->release.n && !m->hold_failed &&
	    zfs_run_names(m->src, (const char *const[]){"zfs", "release", m->tag.s, NULL},
	                  &m->release, ZFS_ERR_NO_SUCH_TAG, NULL, m->timeout_ms, &e) < 0)
		log_warn("cannot release %s from the old bases on %s: %s", m->tag.s, m->src->label,
		         e.msg);
	for (size_t k = 0; k < m->destroy.n; k++) {
		e = (struct zerr)ZERR_INIT;
		if (run_quiet(m, (const char *const[]){"zfs", "destroy", m->destroy.v[k], NULL},
		              ZFS_ERR_NOENT, &e) < 0)
			log_warn("cannot destroy the old bookmark %s: %s", m->destroy.v[k], e.msg);
	}
	strvec_clear(&m->hold);
	strvec_clear(&m->release);
	strvec_clear(&m->destroy);
}
