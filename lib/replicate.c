/* Replication of one job (replicate.h): the listings of both sides, a plan
 * per dataset, the transfers, the bases' protection, target retention, the run record. */
#include "replicate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "gate.h"
#include "leaf.h"
#include "marks.h"
#include "log.h"
#include "plan.h"
#include "policy.h"
#include "record.h"
#include "token.h"
#include "transfer.h"
#include "xalloc.h"
#include "zfs.h"
#include "banned.h"

static unsigned list_types(void)
{
	return ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK;
}

static struct repl_dataset *add_dataset(struct repl_result *res, const char *src, const char *dst)
{
	res->v = xgrow(res->v, &res->alloc, res->n + 1, sizeof(*res->v));
	struct repl_dataset *d = &res->v[res->n++];
	memset(d, 0, sizeof(*d));
	d->source = xstrdup(src);
	d->target = xstrdup(dst);
	d->start = time(NULL);
	d->src_changed = d->dst_changed = ZFS_NONE;
	return d;
}

static void fail_dataset(struct repl_dataset *d, const char *msg)
{
	d->outcome = REPL_FAILED;
	free(d->error);
	d->error = xstrdup(msg);
	log_error("%s: %s", d->source, msg);
}

/* The target of source dataset name. */
static void target_of(const struct repl_job *j, const char *name, struct buf *out)
{
	if (j->is_push) {
		size_t pl = j->strip_prefix ? strlen(j->strip_prefix) : 0;
		if (pl && !strncmp(name, j->strip_prefix, pl) && name[pl] == '/')
			name += pl + 1;
		buf_addf(out, "%s/%s", j->destination, name);
	} else {
		buf_addf(out, "%s/%s/%s", j->destination, j->name, name);
	}
}

/* What this run found out about the two sides, and what they refused. */
struct run {
	bool resume;             /* the target receives with -s (and lists tokens) */
	struct marks marks;      /* the job's hold and bookmarks on the source */
	bool changed;            /* both sides are asked for snapshots_changed */
	time_t no_changed_since; /* when a side had no snapshots_changed (OpenZFS
	                          * < 2.2), 0: it has, or not known */
	time_t listed_at;
	/* both sides' OpenZFS and the target pool's features, for the wire
	 * flags (transfer_wire): asked once (wire_probe), before the first
	 * plain send, so that a run that sends nothing starts no zfs for it;
	 * *_known false with why in *_why when a probe failed or was not
	 * made */
	bool probed, src_known, dst_known, pool_known;
	struct zfs_caps src_caps, dst_caps;
	struct zpool_features dst_pool;
	struct zerr src_why, dst_why, pool_why;
	int streams; /* at most this many transfers at once (run_datasets) */
};

/* The snapshot named name in the source listing sd, or NULL. */
static const struct zfs_obj *source_snapshot(const struct policy_dataset *sd, const char *name)
{
	for (size_t i = 0; sd && i < sd->snaps.n; i++)
		if (!strcmp(sd->snaps.v[i]->name, name))
			return sd->snaps.v[i];
	return NULL;
}

/* A transfer of source into target with the job's settings; the caller
 * sets what to send. */
static struct transfer transfer_of(const struct repl_job *j, const struct run *rn,
                                   const char *source, const char *target, enum zfs_type type)
{
	/* streams at once share the job's limit, a fixed share each (not
	 * handed on when fewer run); each shows no progress line (several
	 * would overwrite one another's) */
	bool par = rn->streams > 1;
	return (struct transfer){.src = j->src,
	                         .dst = j->dst,
	                         .source = source,
	                         .target = target,
	                         .type = type,
	                         .raw = j->raw,
	                         .restricted = j->restricted,
	                         .resumable = rn->resume,
	                         .progress = j->progress && !par,
	                         .bwlimit = par && j->bwlimit
	                                        ? (j->bwlimit + (uint64_t)rn->streams - 1) /
	                                              (uint64_t)rn->streams
	                                        : j->bwlimit,
	                         .stall_timeout_ms = j->stall_timeout_ms,
	                         .timeout_ms = j->timeout_ms};
}

/* A target's snapshots past keep, to destroy at the end of the run. */
struct prune {
	size_t dataset;      /* its index in the result */
	struct strvec snaps; /* full names */
};

struct prunes {
	struct prune *v;
	size_t n, alloc;
};

/* The destroys prune_target queued: one `zfs holds` of them all, then,
 * per target, one `zfs destroy T@a,b,c` of those nobody holds (a destroy
 * of several snapshots is all or nothing, and a held one fails it). */
static void prune_flush(const struct repl_job *j, struct prunes *pq, struct repl_result *res)
{
	struct strvec all = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct zfs_holds h = {0};
	struct zerr e = ZERR_INIT;
	for (size_t i = 0; i < pq->n; i++)
		for (size_t k = 0; k < pq->v[i].snaps.n; k++)
			strvec_push(&all, pq->v[i].snaps.v[k]);
	if (all.n && (zfs_run_names(j->dst, (const char *const[]){"zfs", "holds", "-H", NULL}, &all,
	                            ZFS_ERR_OTHER, &out, j->timeout_ms, &e) < 0 ||
	              zfs_holds_parse(&h, out.s, out.len, &e) < 0)) {
		log_warn("not pruning the targets: cannot read the holds on %s: %s", j->dst->label,
		         e.msg);
		goto out;
	}
	for (size_t i = 0; i < pq->n; i++) {
		struct repl_dataset *d = &res->v[pq->v[i].dataset];
		struct buf list = BUF_INIT, rb = BUF_INIT;
		size_t n = 0;
		buf_adds(&list, d->target);
		for (size_t k = 0; k < pq->v[i].snaps.n; k++) {
			const char *sn = pq->v[i].snaps.v[k];
			bool held = false;
			for (size_t x = 0; x < h.n && !held; x++)
				held = !strcmp(h.v[x].snapshot, sn);
			if (held)
				log_info("keeping %s: held", sn);
			else
				buf_addf(&list, "%c%s", n++ ? ',' : '@', strchr(sn, '@') + 1);
		}
		e = (struct zerr)ZERR_INIT;
		if (n && host_run(j->dst, (const char *const[]){"zfs", "destroy", list.s, NULL},
		                  &rb, 65536, j->timeout_ms, &e) < 0)
			fail_dataset(d, e.msg);
		else if (n)
			log_info("pruned %zu snapshot(s) of %s (keep)", n, d->target);
		buf_free(&list);
		buf_free(&rb);
	}
out:
	for (size_t i = 0; i < pq->n; i++)
		strvec_clear(&pq->v[i].snaps);
	free(pq->v);
	memset(pq, 0, sizeof(*pq));
	zfs_holds_free(&h);
	strvec_clear(&all);
	buf_free(&out);
}

/* Backup-side retention: the target's policy snapshots past what keep
 * says, after a good run. The target's snapshots are what the plan left
 * of them and what it sent (plan_after); the next run's base (the newest
 * of them, or the target's copy of the base when nothing was sent) is
 * never destroyed. */
static void prune_target(const struct repl_job *j, struct prunes *pq, size_t dataset,
                         struct repl_dataset *d, const struct plan_input *in, const struct plan *p)
{
	struct policy_snaps all = {0}, out = {0}, held = {0};
	const struct zfs_obj **after =
	    xcalloc(in->n_dst + in->n_src + 1, sizeof(const struct zfs_obj *));
	struct zfs_obj *sent = xcalloc(in->n_src + 1, sizeof(*sent));
	struct strvec names = STRVEC_INIT;
	size_t own, n = plan_after(in, p, after, &own);
	for (size_t i = 0; i < n; i++) {
		if (i < own) {
			policy_snaps_push(&all, after[i]);
			continue;
		}
		/* a sent snapshot as the target has it now: its name, no holds */
		struct zfs_obj *o = &sent[i - own];
		*o = *after[i];
		o->name = strvec_pushf(&names, "%s%s", d->target, strchr(after[i]->name, '@'));
		o->userrefs = 0;
		policy_snaps_push(&all, o);
	}
	for (int iv = 0; iv < ZK_N_INTERVALS; iv++)
		policy_expired(&all, j->prefix, (enum zk_interval)iv, j->keep[iv], &out, &held);
	/* up to date with a target --force may roll back later: its newest
	 * is not the base, its copy of the base is */
	const struct zfs_obj *base = p->kind == PLAN_SEND ? NULL : p->base_dst;
	for (size_t k = 0; k < out.n;)
		if ((all.n && out.v[k] == all.v[all.n - 1]) || (base && out.v[k] == base))
			out.v[k] = out.v[--out.n];
		else
			k++;
	for (size_t k = 0; k < held.n; k++)
		log_info("keeping %s: held", held.v[k]->name);
	/* destroyed at the end of the run, after one `zfs holds` of all of
	 * them (prune_flush): the listings do not ask for holds */
	if (out.n) {
		pq->v = xgrow(pq->v, &pq->alloc, pq->n + 1, sizeof(*pq->v));
		struct prune *q = &pq->v[pq->n++];
		q->dataset = dataset;
		strvec_init(&q->snaps);
		for (size_t k = 0; k < out.n; k++)
			strvec_pushf(&q->snaps, "%s%s", d->target, strchr(out.v[k]->name, '@'));
	}
	policy_snaps_free(&all);
	policy_snaps_free(&out);
	policy_snaps_free(&held);
	strvec_clear(&names);
	free(sent);
	free(after);
}

static int cmp_obj_name(const void *a, const void *b)
{
	return strcmp((*(const struct zfs_obj *const *)a)->name,
	              (*(const struct zfs_obj *const *)b)->name);
}

/* Where the bookmarks of ds start among the name-sorted bookmarks bm: the
 * first name at or after "ds#". All names that begin "ds#" sort next to
 * each other, so they are the run from there. */
static size_t first_bookmark(const struct policy_snaps *bm, const char *ds)
{
	size_t lo = 0, hi = bm->n, len = strlen(ds);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *n = bm->v[mid]->name;
		int c = strncmp(n, ds, len);
		if (c == 0)
			c = (unsigned char)n[len] - (unsigned char)'#';
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Creates the missing ancestors of target below the destination (down to,
 * not including, target itself). */
static int make_parents(const struct repl_job *j, const char *target, const struct policy_index *di,
                        const struct repl_result *res, struct strvec *made, struct zerr *e)
{
	/* only below the destination, which must exist already */
	size_t root = strlen(j->destination);
	for (const char *p = target + root; (p = strchr(p + 1, '/'));) {
		char *parent = xstrndup(target, (size_t)(p - target));
		int r = 0;
		bool exists = policy_index_find(di, parent) || strvec_has(made, parent);
		/* a parent that is itself replicated in this run exists if its
		 * receive did; an empty stand-in for a failed one would stop
		 * its next full receive ("destination exists") */
		for (size_t k = 0; !exists && k < res->n; k++) {
			if (strcmp(res->v[k].target, parent))
				continue;
			if (res->v[k].outcome != REPL_FAILED) {
				/* received, or an empty stand-in made below */
				exists = res->v[k].outcome != REPL_SKIPPED;
			} else if (!j->dry_run) {
				r = zerr_set(e, -ENOENT, "its parent '%s' was not received",
				             parent);
				free(parent);
				return r;
			}
		}
		if (!exists && j->restricted) {
			/* names-only listings show no dataset without snapshots */
			struct buf out = BUF_INIT;
			struct zerr le = ZERR_INIT;
			exists =
			    host_run(j->dst, (const char *const[]){"zfs", "list", parent, NULL},
			             &out, 65536, j->timeout_ms, &le) == 0;
			buf_free(&out);
		}
		if (!exists) {
			if (j->dry_run) {
				log_info("would create %s", parent);
			} else {
				struct buf out = BUF_INIT;
				const char *argv[GATE_SEED_WORDS + 2];
				gate_seed_argv(GATE_SEED_CREATE, parent, argv);
				/* a pull's parents as the later seed made them: POSIX
				 * ACLs and xattrs in the dnode are what the clients'
				 * datasets use (a push keeps the offsite's line) */
				const char *pull_argv[] = {
				    "zfs",           "create", "-o",       "canmount=off", "-o",
				    "acltype=posix", "-o",     "xattr=sa", parent,         NULL};
				r = host_run(j->dst, j->is_push ? argv : pull_argv, &out, 4096,
				             j->timeout_ms, e);
				buf_free(&out);
				if (r == 0)
					log_info("created %s", parent);
			}
			strvec_push(made, parent);
		}
		free(parent);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Lists the target tree; a tree that does not exist yet is empty, as long
 * as the destination itself exists. */
static int list_target(const struct repl_job *j, const char *root, unsigned cols,
                       struct zfs_list *dl, struct zerr *e)
{
	if (j->restricted) {
		/* the seed's two list forms, byte for byte */
		struct buf out = BUF_INIT;
		const char *argv[GATE_SEED_WORDS + 2];
		gate_seed_argv(GATE_SEED_LIST, j->destination, argv);
		int r = host_run(j->dst, argv, &out, ZFS_OUTPUT_MAX, j->timeout_ms, e);
		if (r < 0) {
			char why[ZERR_MSG_MAX]; /* e->msg cannot be both source and target */
			snprintf(why, sizeof(why), "%s", e->msg);
			buf_free(&out);
			return zerr_set(e, -ENOENT, "destination '%s' does not exist on %s (%s)",
			                j->destination, j->dst->label, why);
		}
		buf_reset(&out);
		gate_seed_argv(GATE_SEED_LIST_SNAPSHOTS, j->destination, argv);
		r = host_run(j->dst, argv, &out, ZFS_OUTPUT_MAX, j->timeout_ms, e);
		if (r == 0)
			r = zfs_names_parse(dl, out.s, out.len, e);
		buf_free(&out);
		return r;
	}
	int r = zfs_list_run(j->dst, NULL, list_types(), cols, true,
	                     (const char *const[]){root, NULL}, j->timeout_ms, dl, e);
	if (r == 0 || e->kind != ZFS_ERR_NOENT)
		return r;
	struct zerr de = ZERR_INIT;
	r = zfs_list_run(j->dst, NULL, ZFS_TYPE_DATASET, 0, false,
	                 (const char *const[]){j->destination, NULL}, j->timeout_ms, dl, &de);
	if (r < 0)
		return zerr_set(e, -ENOENT, "destination '%s' does not exist on %s", j->destination,
		                j->dst->label);
	zfs_list_free(dl);
	memset(dl, 0, sizeof(*dl));
	return 0;
}

/* How old a snapshots_changed must be, by our clock, to be trusted: it
 * has one-second resolution, so a snapshot made in the second a listing
 * ran may be missing from it while the value no longer moves. The margin
 * also covers clocks between the hosts that disagree by less than it. */
#define CHANGED_MARGIN 60

/* The last run's record and what it allows this run. no_changed_since:
 * when a side was found without snapshots_changed (OpenZFS < 2.2), if less
 * than a day ago (then it is not asked for now), else 0. may_skip: the
 * record is of this job as it is now (same hosts, same keep), so its
 * values may let a dataset be skipped. */
struct prev_run {
	struct record rec; /* zeroed: no record, or none readable */
	time_t no_changed_since;
	bool may_skip;
};

static enum record_kind job_kind(const struct repl_job *j)
{
	return j->is_push ? RECORD_PUSH : RECORD_PULL;
}

/* The job's keep as a record holds it, to notice a changed one. */
static void job_keep(const struct repl_job *j, struct record *r)
{
	r->n_keep = j->keep ? ZK_N_INTERVALS : 0;
	for (int i = 0; j->keep && i < ZK_N_INTERVALS; i++)
		r->keep[i] = j->keep[i];
}

/* Reads the job's last record. Anything missing or malformed leaves pr
 * empty: the run then lists everything, which is always right. */
static void prev_load(const struct repl_job *j, struct prev_run *pr)
{
	struct buf path = BUF_INIT;
	memset(pr, 0, sizeof(*pr));
	if (!j->state_dir)
		return;
	record_path(&path, j->state_dir, job_kind(j), j->name);
	struct zerr e = ZERR_INIT;
	int r = record_read(path.s, &pr->rec, &e);
	buf_free(&path);
	if (r < 0) {
		if (r != -ENOENT)
			log_warn("ignoring the last run record: %s", e.msg);
		return;
	}
	for (size_t i = 0; i < pr->rec.warnings.n; i++)
		log_debug("%s", pr->rec.warnings.v[i]);
	/* asked again a day later: the hosts may have been upgraded */
	if (pr->rec.no_changed_since && pr->rec.no_changed_since + 86400 > time(NULL))
		pr->no_changed_since = (time_t)pr->rec.no_changed_since;
	const char *sh = pr->rec.source_host, *dh = pr->rec.destination_host;
	struct record now = {0};
	job_keep(j, &now);
	pr->may_skip = sh && dh && !strcmp(sh, j->src->label) && !strcmp(dh, j->dst->label) &&
	               pr->rec.n_keep == now.n_keep &&
	               !memcmp(pr->rec.keep, now.keep, sizeof(now.keep[0]) * (size_t)now.n_keep);
}

static const struct record_dataset *prev_find(const struct prev_run *pr, const char *target)
{
	return record_find(&pr->rec, target);
}

static void prev_free(struct prev_run *pr)
{
	record_free(&pr->rec);
	memset(pr, 0, sizeof(*pr));
}

/* What a dataset's record keeps across runs: the last success, and, for a
 * failed dataset, the newest snapshot the last good run left on the target
 * (a failed transfer leaves that one in place). */
static void carry_over(struct repl_dataset *d, const struct record_dataset *p)
{
	if (d->outcome == REPL_OK || d->outcome == REPL_UP_TO_DATE) {
		d->last_success = d->end;
		return;
	}
	if (!p)
		return;
	d->last_success = (time_t)p->last_success;
	if (!d->leaf_props && p->leaf_props)
		d->leaf_props = xstrdup(p->leaf_props);
	if (d->outcome == REPL_FAILED && !d->newest && p->newest) {
		d->newest = xstrdup(p->newest);
		d->newest_guid = p->newest_guid;
		d->newest_creation = (uint64_t)p->newest_creation;
	}
}

/* One listing command and what it answered. */
struct listing {
	const struct host *h;
	struct strvec argv;
	struct buf out;
	struct zerr e;
	int timeout_ms, r;
};

/* fn(arg) beside the caller's own work: in a thread, or here at once
 * when none can start (beside_join then returns at once). */
struct beside {
	pthread_t t;
	bool threaded;
};

static void beside_start(struct beside *b, void *(*fn)(void *), void *arg)
{
	b->threaded = pthread_create(&b->t, NULL, fn, arg) == 0;
	if (!b->threaded)
		fn(arg);
}

static void beside_join(struct beside *b)
{
	if (b->threaded)
		pthread_join(b->t, NULL);
}

static void *listing_run(void *arg)
{
	struct listing *l = arg;
	if (l->argv.n)
		l->r = zfs_run(l->h, (const char *const *)l->argv.v, &l->out, ZFS_OUTPUT_MAX,
		               l->timeout_ms, &l->e);
	strvec_clear(&l->argv);
	return NULL;
}

/* Runs both listings at once (one side is always local, so no ssh
 * connection is shared): a run costs the slower of them, not the sum. */
static void listing_both(struct listing *a, struct listing *b)
{
	struct beside bs;
	beside_start(&bs, listing_run, b);
	listing_run(a);
	beside_join(&bs);
}

/* The snapshot listings' columns: name,guid,createtxg, which OpenZFS
 * >= 2.2 lists without opening each snapshot; the type is in the name. */
#define SNAP_COLS (ZFS_COL_SHORT | ZFS_COL_NOTYPE)

/* The snapshots (on the source with its bookmarks, which may stand in for
 * a base) of the datasets in an and bn, depth 1, as few calls as the
 * names fit (zfs_run_names' bound); a and b run side by side, each
 * after a listing already in its argv. Nothing to list: no call. */
static int list_snapshots_of(const struct strvec *an, struct listing *a, const struct strvec *bn,
                             struct listing *b)
{
	size_t next[2] = {0, 0};
	const struct strvec *names[2] = {an, bn};
	struct listing *ls[2] = {a, b};
	for (;;) {
		for (int s = 0; s < 2; s++) {
			if (ls[s]->argv.n || next[s] >= names[s]->n)
				continue;
			zfs_list_argv(&ls[s]->argv, ZFS_TYPE_SNAPSHOT | (s ? 0 : ZFS_TYPE_BOOKMARK),
			              SNAP_COLS, false, NULL);
			strvec_pushv(&ls[s]->argv, (const char *const[]){"-d", "1", NULL});
			for (size_t bytes = 0;
			     next[s] < names[s]->n &&
			     (!bytes || bytes + strlen(names[s]->v[next[s]]) < ZFS_ARGV_NAMES_MAX);
			     next[s]++) {
				bytes += strlen(names[s]->v[next[s]]) + 1;
				strvec_push(&ls[s]->argv, names[s]->v[next[s]]);
			}
		}
		if (!a->argv.n && !b->argv.n)
			return 0;
		listing_both(a, b);
		if (a->r < 0 || b->r < 0)
			return -1;
	}
}

/* The four listings of a run: each side's datasets (their facts) and
 * their snapshots; sl and dl join them. */
struct listings {
	struct zfs_list sds, sss, dds, dss;
};

static void listings_free(struct listings *ls)
{
	zfs_list_free(&ls->sds);
	zfs_list_free(&ls->sss);
	zfs_list_free(&ls->dds);
	zfs_list_free(&ls->dss);
}

/* The target tree is not there yet (a first pull): empty, when the
 * destination itself is. */
static int target_missing(const struct repl_job *j, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	zfs_list_argv(&argv, ZFS_TYPE_DATASET, ZFS_COL_SHORT, false,
	              (const char *const[]){j->destination, NULL});
	int r = zfs_run(j->dst, (const char *const *)argv.v, &out, 65536, j->timeout_ms, e);
	strvec_clear(&argv);
	buf_free(&out);
	if (r < 0)
		return zerr_set(e, -ENOENT, "destination '%s' does not exist on %s", j->destination,
		                j->dst->label);
	return 0;
}

/* The record of a target dataset as the planner reads it. */
static struct plan_record plan_record_of(const struct record_dataset *p)
{
	if (!p)
		return (struct plan_record){0};
	return (struct plan_record){
	    .source = p->source,
	    .ok = record_result_ok(p->result),
	    .protected = p->protected,
	    .src_changed = p->src_changed,
	    .dst_changed = p->dst_changed,
	    .src_guid = p->src_guid,
	    .dst_guid = p->dst_guid,
	    .checked = (time_t)p->checked,
	    .newest = p->newest,
	    .newest_guid = p->newest_guid,
	    .end = (time_t)p->end,
	};
}

/* Whether the job may take a target's snapshots from its record
 * (plan_trust_target): not where the receive rolls back (the seed's
 * remote receives with -F, --force), nor with retention on the target,
 * nor in a dry run (no receive checks the record's word). A local target
 * only: its snapshots_changed and the record's end are read off the
 * same clock. */
static bool job_may_trust(const struct repl_job *j)
{
	return !j->restricted && !j->force && !j->keep && !j->dry_run && host_is_local(j->dst);
}

/* Which source datasets' snapshots to list (cs) and their targets' (cd):
 * all (*all) without a record to skip by, else those plan_unchanged
 * does not let skip; the skipped go into unchanged. A target whose
 * snapshots the record may stand for (plan_trust_target) goes into
 * trusted instead of cd. */
static void choose_changed(const struct repl_job *j, const struct run *rn,
                           const struct prev_run *pr, const struct zfs_list *sd,
                           const struct zfs_list *dd, struct strvec *cs, struct strvec *cd,
                           struct strvec *trusted, struct strvec *unchanged, bool *all)
{
	struct policy_index di = {0};
	struct buf tname = BUF_INIT;
	*all = !(rn->changed && pr->rec.n_datasets && pr->may_skip);
	policy_index_build(&di, dd, NULL);
	for (size_t i = 0; i < sd->n; i++) {
		const struct zfs_obj *o = &sd->v[i];
		buf_reset(&tname);
		target_of(j, o->name, &tname);
		const struct policy_dataset *t = policy_index_find(&di, tname.s);
		const struct zfs_obj *tobj = t ? t->obj : NULL;
		const struct record_dataset *p = *all ? NULL : prev_find(pr, tname.s);
		struct plan_record rec = plan_record_of(p);
		if (p && plan_unchanged(&rec, o, tobj, rn->listed_at)) {
			strvec_push(unchanged, o->name);
			continue;
		}
		strvec_push(cs, o->name);
		if (p && job_may_trust(j) && plan_trust_target(&rec, o, tobj))
			strvec_push(trusted, tname.s);
		else if (t)
			strvec_push(cd, tname.s);
	}
	/* overlapping roots list a dataset twice: list its snapshots once */
	strvec_sort_unique(cs);
	strvec_sort_unique(cd);
	strvec_sort_unique(trusted);
	if (!*all)
		log_debug("snapshots listed for %zu of %zu datasets (the others unchanged), the "
		          "targets' of %zu (%zu as their records say)",
		          cs->n, sd->n, cd->n, trusted->n);
	/* every dataset: one recursive listing of the roots says it shorter */
	if (!unchanged->n)
		*all = true;
	policy_index_free(&di);
	buf_free(&tname);
}

/* A trusted target, by its source's name, with the source's newest
 * snapshot as listed (0: none). */
struct trusted_src {
	const struct record_dataset *p; /* its record */
	size_t len;                     /* of p->source */
	uint64_t newest;
};

static int cmp_trusted_src(const void *a, const void *b)
{
	const struct trusted_src *x = a, *y = b;
	return strcmp(x->p->source, y->p->source);
}

/* A snapshot's dataset (name, len) against an entry. */
struct ds_key {
	const char *name;
	size_t len;
};

static int cmp_ds_key(const void *key, const void *elt)
{
	const struct ds_key *k = key;
	const struct trusted_src *t = elt;
	int c = strncmp(k->name, t->p->source, k->len < t->len ? k->len : t->len);
	return c ? c : (k->len > t->len) - (k->len < t->len);
}

/* The trusted targets whose source has nothing newer than the record's
 * newest move from trusted to again: up to date, which no receive would
 * check (another dataset renamed onto the target's name keeps its
 * snapshots_changed), so they are listed after all, in one call. The
 * rest are the hourly case: a receive checks them. sss: the source's
 * snapshots in createtxg order. */
static void untrust_up_to_date(const struct prev_run *pr, const struct zfs_list *sss,
                               struct strvec *trusted, struct strvec *again)
{
	size_t n = trusted->n;
	if (!n)
		return;
	struct trusted_src *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct record_dataset *p = prev_find(pr, trusted->v[i]);
		v[i] = (struct trusted_src){p, strlen(p->source), 0};
	}
	qsort(v, n, sizeof(*v), cmp_trusted_src);
	for (size_t i = 0; i < sss->n; i++) {
		const struct zfs_obj *o = &sss->v[i];
		struct ds_key k = {o->name, strcspn(o->name, "@")};
		struct trusted_src *t;
		if (o->type == ZFS_TYPE_SNAPSHOT &&
		    (t = bsearch(&k, v, n, sizeof(*v), cmp_ds_key)) != NULL)
			t->newest = o->guid; /* the last one is the newest */
	}
	struct strvec keep = STRVEC_INIT;
	for (size_t i = 0; i < n; i++)
		strvec_push(v[i].newest && v[i].newest != v[i].p->newest_guid ? &keep : again,
		            v[i].p->target);
	strvec_sort_unique(&keep);
	strvec_sort_unique(again);
	strvec_clear(trusted);
	*trusted = keep;
	free(v);
}

/* The target's snapshots as the record says (plan_trust_target): its
 * newest, the one the last run left, under the target's name. */
static void trusted_rows(const struct strvec *trusted, const struct prev_run *pr,
                         struct zfs_list *dss)
{
	struct buf name = BUF_INIT;
	for (size_t i = 0; i < trusted->n; i++) {
		const struct record_dataset *p = prev_find(pr, trusted->v[i]);
		buf_reset(&name);
		buf_addf(&name, "%s%s", p->target, strchr(p->newest, '@'));
		struct zfs_obj o = {.name = name.s,
		                    .type = ZFS_TYPE_SNAPSHOT,
		                    .guid = p->newest_guid,
		                    .createtxg = ZFS_NONE,
		                    .creation = p->newest_creation ? (uint64_t)p->newest_creation
		                                                   : ZFS_NONE,
		                    .used = ZFS_NONE,
		                    .available = ZFS_NONE,
		                    .referenced = ZFS_NONE,
		                    .snapshots_changed = ZFS_NONE,
		                    .userrefs = ZFS_NONE};
		zfs_list_add(dss, &o);
	}
	buf_free(&name);
}

/* Both sides listed at once, each in two listings: its datasets with
 * their facts (type, snapshots_changed where rn->changed, on the target
 * the resume token), then the snapshots of the datasets that may have
 * changed (choose_changed), name,guid,createtxg only. Returns 0, or -1
 * for anything out of the ordinary (a side without snapshots_changed, a
 * refused listing): e says it, and the caller lists the careful way. */
static int list_fast(const struct repl_job *j, const struct run *rn, const char *troot,
                     const struct prev_run *pr, struct listings *ls, struct zfs_list *sl,
                     struct zfs_list *dl, struct strvec *trusted, struct strvec *unchanged,
                     struct zerr *e)
{
	unsigned scol = ZFS_COL_SHORT | (rn->changed ? ZFS_COL_SNAPSHOTS_CHANGED : 0);
	unsigned dcol = scol | ZFS_COL_RESUME_TOKEN;
	struct listing a = {j->src, STRVEC_INIT, BUF_INIT, ZERR_INIT, j->timeout_ms, 0};
	struct listing b = {j->dst, STRVEC_INIT, BUF_INIT, ZERR_INIT, j->timeout_ms, 0};
	struct strvec cs = STRVEC_INIT, cd = STRVEC_INIT, none = STRVEC_INIT, again = STRVEC_INIT;
	struct zerr pe = ZERR_INIT;
	bool all, all_dst, no_target = false;
	int r = -1;

	zfs_list_argv(&a.argv, ZFS_TYPE_DATASET, scol, true, j->datasets);
	zfs_list_argv(&b.argv, ZFS_TYPE_DATASET, dcol, true, (const char *const[]){troot, NULL});
	listing_both(&a, &b);
	if (a.r == 0 && b.r < 0 && b.e.kind == ZFS_ERR_NOENT) {
		if (target_missing(j, &b.e) < 0)
			goto out;
		no_target = true;
		b.r = 0;
	}
	if (a.r < 0 || b.r < 0 || zfs_list_parse(&ls->sds, a.out.s, a.out.len, scol, &pe) < 0 ||
	    zfs_list_parse(&ls->dds, b.out.s, b.out.len, dcol, &pe) < 0)
		goto out;
	choose_changed(j, rn, pr, &ls->sds, &ls->dds, &cs, &cd, trusted, unchanged, &all);
	/* the target's tree at once, unless some of it is taken from the
	 * record: then the rest by name */
	all_dst = all && !trusted->n && !no_target;
	buf_reset(&a.out);
	buf_reset(&b.out);
	if (all)
		zfs_list_argv(&a.argv, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, SNAP_COLS, true,
		              j->datasets);
	if (all_dst)
		zfs_list_argv(&b.argv, ZFS_TYPE_SNAPSHOT, SNAP_COLS, true,
		              (const char *const[]){troot, NULL});
	if (list_snapshots_of(all ? &none : &cs, &a, all_dst ? &none : &cd, &b) < 0 ||
	    zfs_list_parse(&ls->sss, a.out.s, a.out.len, SNAP_COLS, &pe) < 0)
		goto out;
	untrust_up_to_date(pr, &ls->sss, trusted, &again);
	if (list_snapshots_of(&none, &a, &again, &b) < 0 ||
	    zfs_list_parse(&ls->dss, b.out.s, b.out.len, SNAP_COLS, &pe) < 0)
		goto out;
	trusted_rows(trusted, pr, &ls->dss);
	zfs_list_join(sl, &ls->sds, &ls->sss);
	zfs_list_join(dl, &ls->dds, &ls->dss);
	r = 0;
out:
	if (r < 0 && (a.r < 0 || b.r < 0))
		*e = a.r < 0 ? a.e : b.e; /* with the kind zfs_run read */
	else if (r < 0)
		zerr_set(e, -EIO, "%s", pe.msg);
	strvec_clear(&a.argv);
	strvec_clear(&b.argv);
	strvec_clear(&cs);
	strvec_clear(&cd);
	strvec_clear(&again);
	buf_free(&a.out);
	buf_free(&b.out);
	return r;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* One dataset of the run as its record holds it. */
static void record_dataset_of(struct record *rec, const struct run *rn,
                              const struct repl_dataset *d)
{
	static const enum record_result result[] = {[REPL_OK] = RECORD_OK,
	                                            [REPL_UP_TO_DATE] = RECORD_UP_TO_DATE,
	                                            [REPL_FAILED] = RECORD_FAILED,
	                                            [REPL_SKIPPED] = RECORD_SKIPPED};
	struct record_dataset *x = record_add(rec, d->source, d->target, result[d->outcome]);
	x->error = dup_or_null(d->error);
	x->bytes = (int64_t)d->bytes;
	x->start = d->start;
	x->end = d->end;
	if (d->newest) {
		x->newest = xstrdup(d->newest);
		x->newest_guid = d->newest_guid;
		x->newest_creation = (int64_t)d->newest_creation;
	}
	x->resume_token = dup_or_null(d->resume_token);
	x->resume_refused = dup_or_null(d->resume_refused);
	x->leaf_props = dup_or_null(d->leaf_props);
	x->matched_by_name = d->matched_by_name;
	x->large_blocks = d->large_blocks;
	/* trusted next time only if old enough (see CHANGED_MARGIN) */
	if (d->src_changed != ZFS_NONE && d->dst_changed != ZFS_NONE &&
	    d->src_changed + CHANGED_MARGIN < (uint64_t)rn->listed_at &&
	    d->dst_changed + CHANGED_MARGIN < (uint64_t)rn->listed_at) {
		x->src_changed = d->src_changed;
		x->dst_changed = d->dst_changed;
		x->src_guid = d->src_guid;
		x->dst_guid = d->dst_guid;
		x->checked = d->checked;
	}
	x->protected = d->protected;
	x->last_success = d->last_success;
}

/* The run's record, written when there is a state_dir, kept in res. */
static void write_record(const struct repl_job *j, const struct run *rn, const struct record *prev,
                         struct repl_result *res)
{
	if (j->dry_run)
		return;
	res->record = xcalloc(1, sizeof(*res->record));
	struct record rec;
	record_init(&rec, job_kind(j), j->name);
	rec.source_host = xstrdup(j->src->label);
	rec.destination_host = xstrdup(j->dst->label);
	rec.start = res->start;
	rec.end = res->end;
	rec.result = res->error ? RECORD_RUN_FAILED : RECORD_RUN_OK;
	rec.error = dup_or_null(res->error);
	rec.snapshots_changed = !rn->no_changed_since;
	rec.no_changed_since = rn->no_changed_since;
	job_keep(j, &rec);
	record_carry_tallies(&rec, prev); /* the notifications' totals go on */
	for (size_t i = 0; i < res->n; i++) {
		record_dataset_of(&rec, rn, &res->v[i]);
		if (res->v[i].outcome == REPL_FAILED)
			rec.result = RECORD_RUN_FAILED;
	}
	struct zerr e = ZERR_INIT;
	if (j->state_dir && record_write(j->state_dir, &rec, &e) < 0)
		log_warn("cannot write the run record: %s", e.msg);
	*res->record = rec;
}

int repl_record_lock_held(const struct repl_job *j, pid_t pid, time_t at, struct zerr *e)
{
	if (!j->state_dir || j->dry_run)
		return 0;
	return record_note_lock_held(j->state_dir, job_kind(j), j->name, pid, at, e);
}

/* The target's pending resume token, read after a failed transfer. */
static char *read_token(const struct repl_job *j, const char *target)
{
	struct zfs_props p;
	struct buf out = BUF_INIT;
	struct strvec argv = STRVEC_INIT;
	struct zerr e = ZERR_INIT;
	char *tok = NULL;
	zfs_get_argv(&argv, "receive_resume_token", (const char *const[]){target, NULL});
	if (host_run(j->dst, (const char *const *)argv.v, &out, 65536, j->timeout_ms, &e) == 0 &&
	    zfs_props_parse(&p, out.s, out.len, &e) == 0) {
		if (p.n == 1 && strcmp(p.v[0].value, "-") &&
		    strspn(p.v[0].value, "0123456789abcdef-") == strlen(p.v[0].value))
			tok = xstrdup(p.v[0].value);
		zfs_props_free(&p);
	}
	buf_free(&out);
	strvec_clear(&argv);
	return tok;
}

/* Aborts the partial receive into d's target, so that it is sent from the
 * base; 0, or -1 with d failed. */
static int abort_partial(const struct repl_job *j, struct repl_dataset *d)
{
	struct zerr ae = ZERR_INIT;
	if (j->dry_run) {
		log_info("would abort the partial receive into %s", d->target);
		return 0;
	}
	struct buf out = BUF_INIT;
	int r = zfs_run(j->dst, (const char *const[]){"zfs", "receive", "-A", d->target, NULL},
	                &out, 65536, j->timeout_ms, &ae);
	buf_free(&out);
	if (r < 0)
		fail_dataset(d, ae.msg);
	return r < 0 ? -1 : 0;
}

/* A target left with a resume token: finish that transfer first. The token
 * comes from the target, so it is untrusted: it is resumed only if
 * token_check() accepts it for this job (x), else the partial receive is
 * aborted and the dataset sent from its base, with why in the record.
 * Returns 1 when it was resumed (the target's snapshots have changed: list
 * again), 0 when there was nothing to resume or the token was refused or
 * stale and is now aborted (the target is as listed), -1 when the dataset
 * failed. mu: held, and let go while the stream flows (run_step). */
static int resume_pending(const struct repl_job *j, const struct run *rn, pthread_mutex_t *mu,
                          struct repl_dataset *d, enum zfs_type type, const char *token,
                          const struct token_expect *x)
{
	struct zerr e = ZERR_INIT;
	struct token t;
	if (!token)
		return 0;
	if (token_decode(token, &t, &e) < 0 || token_check(&t, x, &e) < 0) {
		log_warn("not resuming the interrupted receive (%s); aborting the partial receive "
		         "into %s and sending from the base",
		         e.msg, d->target);
		free(d->resume_refused);
		d->resume_refused = xstrdup(e.msg);
		return abort_partial(j, d) < 0 ? -1 : 0;
	}
	if (j->dry_run) {
		log_info("would resume the interrupted receive into %s", d->target);
		return 0;
	}
	log_info("Resuming the interrupted receive into %s", d->target);
	struct transfer tr = transfer_of(j, rn, d->source, d->target, type);
	tr.to = d->target; /* for messages */
	tr.token = token;
	pthread_mutex_unlock(mu); /* as run_step's streams */
	int r = transfer_run(&tr, &d->bytes, &e);
	pthread_mutex_lock(mu);
	if (r == 0) {
		d->large_blocks |= j->raw || (t.flags & TOKEN_LARGEBLOCK);
		return 1;
	}
	if (e.kind != ZFS_ERR_RESUME_REFUSED) {
		fail_dataset(d, e.msg);
		d->resume_token = read_token(j, d->target);
		return -1;
	}
	/* the sender refuses the token (its snapshot is gone, say): start over */
	log_warn("%s; aborting the partial receive into %s and sending from the base", e.msg,
	         d->target);
	return abort_partial(j, d) < 0 ? -1 : 0;
}

/* A raw push of an unencrypted dataset sends its plaintext to the offsite
 * host, whose copy is meant to be unreadable there. Fills plain with the
 * source datasets under the job's roots that have encryption=off. */
static int list_unencrypted(const struct repl_job *j, struct strvec *plain, struct zerr *e)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct zfs_props p = {0};
	strvec_pushv(&argv,
	             (const char *const[]){"zfs", "get", "-Hp", "-r", "-t", "filesystem,volume",
	                                   "-o", "name,property,value,source", "encryption", NULL});
	strvec_pushv(&argv, j->datasets);
	int r = host_run(j->src, (const char *const *)argv.v, &out, 16 << 20, j->timeout_ms, e);
	if (r == 0 && (r = zfs_props_parse(&p, out.s, out.len, e)) == 0)
		for (size_t i = 0; i < p.n; i++)
			if (!strcmp(p.v[i].value, "off"))
				strvec_push(plain, p.v[i].dataset);
	if (r < 0)
		zerr_prefix(e, "cannot read the source datasets' encryption");
	zfs_props_free(&p);
	buf_free(&out);
	strvec_clear(&argv);
	return r;
}

/* One run of a job, shared by its phases: both listings, the last run's
 * record and what this run found out. */
struct job_run {
	const struct repl_job *j;
	struct repl_result *res;
	struct run rn;
	struct prev_run pr;
	struct buf troot;       /* the target tree's root */
	struct zfs_list sl, dl; /* the source's and the target's listing */
	struct listings ls;     /* what sl and dl join, when listed fast */
	struct policy_index si, di;
	struct policy_snaps all_bm; /* the source's bookmarks, in name order */
	struct strvec unchanged;    /* source datasets the record lets skip */
	struct strvec trusted;      /* targets whose snapshots the record says */
	struct strvec plain;        /* push: unencrypted sources */
	struct strvec made;         /* parents created in this run */
	bool *done, *skip;          /* per si entry: replicated; unchanged */
	struct prunes prunes;       /* the targets' destroys, made at the end */
	/* With --parallel, held by the dataset workers (repl_run) all the
	 * time but while a stream flows (run_step): everything in jr and
	 * res is theirs only under it. */
	pthread_mutex_t mu;
};

/* Both sides: at once and only what moved since the record where both
 * can (list_fast), else one after the other with the fallbacks for an
 * older zfs on either side. */
static int list_sides(struct job_run *jr, struct zerr *e)
{
	const struct repl_job *j = jr->j;
	struct run *rn = &jr->rn;
	int r = -1;
	if (!j->restricted) {
		r = list_fast(j, rn, jr->troot.s, &jr->pr, &jr->ls, &jr->sl, &jr->dl, &jr->trusted,
		              &jr->unchanged, e);
		if (r < 0 && rn->changed && e->kind == ZFS_ERR_BAD_PROPERTY) {
			log_debug("no snapshots_changed: %s", e->msg);
			rn->changed = false;
			rn->no_changed_since = time(NULL);
			zfs_list_free(&jr->sl);
			zfs_list_free(&jr->dl);
			listings_free(&jr->ls);
			strvec_clear(&jr->unchanged);
			strvec_clear(&jr->trusted);
			*e = (struct zerr)ZERR_INIT;
			r = list_fast(j, rn, jr->troot.s, &jr->pr, &jr->ls, &jr->sl, &jr->dl,
			              &jr->trusted, &jr->unchanged, e);
		}
		if (r == 0)
			return 0;
		log_debug("listing one side after the other: %s", e->msg);
	}
	rn->changed = false;
	zfs_list_free(&jr->sl);
	zfs_list_free(&jr->dl);
	listings_free(&jr->ls);
	strvec_clear(&jr->unchanged);
	strvec_clear(&jr->trusted);
	*e = (struct zerr)ZERR_INIT;
	if (zfs_list_run(j->src, NULL, list_types(), 0, true, j->datasets, j->timeout_ms, &jr->sl,
	                 e) < 0)
		return zerr_prefix(e, "cannot list the source datasets");
	r = list_target(j, jr->troot.s, rn->resume ? ZFS_COL_RESUME_TOKEN : 0, &jr->dl, e);
	if (r < 0 && rn->resume && e->kind == ZFS_ERR_BAD_PROPERTY) {
		log_debug("no resumable receives on %s: %s", j->dst->label, e->msg);
		rn->resume = false;
		*e = (struct zerr)ZERR_INIT;
		r = list_target(j, jr->troot.s, 0, &jr->dl, e);
	}
	return r;
}

/* Gathers what the run decides from: both listings, indexed, the
 * bookmarks by name, which datasets the record lets skip, and for a raw
 * push the unencrypted sources. */
static int gather(struct job_run *jr, struct zerr *e)
{
	const struct repl_job *j = jr->j;
	int r;
	if ((r = list_sides(jr, e)) < 0)
		return r;
	if (j->is_push && j->raw && (r = list_unencrypted(j, &jr->plain, e)) < 0)
		return r;
	policy_index_build(&jr->si, &jr->sl, NULL);
	policy_index_build(&jr->di, &jr->dl, NULL);
	/* the bookmarks in name order: each dataset's are one run of them */
	for (size_t i = 0; i < jr->sl.n; i++)
		if (jr->sl.v[i].type == ZFS_TYPE_BOOKMARK)
			policy_snaps_push(&jr->all_bm, &jr->sl.v[i]);
	if (jr->all_bm.n)
		qsort(jr->all_bm.v, jr->all_bm.n, sizeof(const struct zfs_obj *), cmp_obj_name);
	jr->done = xcalloc(jr->si.n + 1, sizeof(*jr->done));
	jr->skip = xcalloc(jr->si.n + 1, sizeof(*jr->skip));
	for (size_t i = 0; i < jr->unchanged.n; i++) {
		const struct policy_dataset *u = policy_index_find(&jr->si, jr->unchanged.v[i]);
		if (u)
			jr->skip[u - jr->si.v] = true;
	}
	return 0;
}

/* A raw push of an unencrypted source: refused (true, d failed) unless
 * the job allows it, which only warns. */
static bool refuse_plaintext(const struct job_run *jr, struct repl_dataset *d)
{
	const struct repl_job *j = jr->j;
	if (!strvec_has(&jr->plain, d->source))
		return false;
	if (j->allow_unencrypted) {
		log_warn("%s is not encrypted: pushed in plaintext to %s (allow_unencrypted)",
		         d->source, j->dst->label);
		return false;
	}
	struct buf m = BUF_INIT;
	buf_addf(&m,
	         "'%s' is not encrypted: a raw push would send it in plaintext to %s (encrypt "
	         "it, or set allow_unencrypted = yes in its [push] section)",
	         d->source, j->dst->label);
	fail_dataset(d, m.s);
	buf_free(&m);
	return true;
}

/* Up to date as the record says: neither side's snapshots moved since a
 * run found it so, so it still is, and its newest is the same. */
static void up_to_date_by_record(struct repl_dataset *d, const struct zfs_obj *o,
                                 const struct zfs_obj *tobj, const struct record_dataset *pd)
{
	d->outcome = REPL_UP_TO_DATE;
	d->by_record = true;
	d->src_changed = o->snapshots_changed;
	d->dst_changed = tobj->snapshots_changed;
	d->src_guid = o->guid;
	d->dst_guid = tobj->guid;
	d->checked = pd->checked;
	d->protected = pd->protected;
	if (pd->newest) {
		d->newest = xstrdup(pd->newest);
		d->newest_guid = pd->newest_guid;
		d->newest_creation = pd->newest_creation;
	}
	log_info("Up to date: %s", d->target);
}

/* One source dataset's side of things: its listing, its bookmarks (from
 * the one list of all of them), and the target as listed (or as listed
 * again after a resumed transfer changed it). */
struct ds {
	const struct zfs_obj *o;    /* the source dataset */
	struct policy_dataset *sd;  /* its snapshots */
	const struct zfs_obj **bms; /* its bookmarks */
	size_t nbm, abm;
	struct policy_dataset *dd;  /* the target's snapshots, or NULL */
	const struct zfs_obj *tobj; /* the target dataset as first listed */
	struct zfs_list rl;         /* the target listed again after a resume */
	struct policy_index ri;
	struct leaf_take leaf; /* an empty leaf taken over (leaf.h) */
	unsigned wire;         /* TRANSFER_WIRE_* of its plain sends */
	/* dd is the record's word, not a listing (plan_trust_target); the
	 * receive refused its base, so the target is to be listed */
	bool trusted, refused;
};

static void ds_bookmarks(const struct job_run *jr, struct ds *x)
{
	const struct policy_snaps *all = &jr->all_bm;
	const char *name = x->o->name;
	size_t len = strlen(name);
	for (size_t k = first_bookmark(all, name);
	     k < all->n && !strncmp(all->v[k]->name, name, len) && all->v[k]->name[len] == '#';
	     k++) {
		x->bms = xgrow(x->bms, &x->abm, x->nbm + 1, sizeof(const struct zfs_obj *));
		x->bms[x->nbm++] = all->v[k];
	}
}

/* The target's snapshots listed (again): after a resume changed them, or
 * where the record stood for them and was wrong. -1: d failed. */
static int list_target_again(struct job_run *jr, struct repl_dataset *d, struct ds *x)
{
	const struct repl_job *j = jr->j;
	struct zerr e = ZERR_INIT;
	policy_index_free(&x->ri);
	zfs_list_free(&x->rl);
	x->trusted = false;
	if (zfs_list_run(j->dst, NULL, list_types(), 0, true,
	                 (const char *const[]){d->target, NULL}, j->timeout_ms, &x->rl, &e) < 0) {
		fail_dataset(d, e.msg);
		return -1;
	}
	policy_index_build(&x->ri, &x->rl, NULL);
	x->dd = policy_index_find(&x->ri, d->target);
	return 0;
}

/* A pending resume token on the target first (resume_pending); after a
 * resume, the target listed again. Returns resume_pending's answer. */
static int resume_first(struct job_run *jr, struct repl_dataset *d, struct ds *x)
{
	const struct repl_job *j = jr->j;
	const struct token_expect tx = {
	    .dataset = x->o->name,
	    .snaps = x->sd ? (const struct zfs_obj *const *)x->sd->snaps.v : NULL,
	    .n_snaps = x->sd ? x->sd->snaps.n : 0,
	    .marks = (const struct zfs_obj *const *)x->bms,
	    .n_marks = x->nbm,
	    .target_newest_guid =
	        x->dd && x->dd->snaps.n ? x->dd->snaps.v[x->dd->snaps.n - 1]->guid : 0,
	    .raw = j->raw};
	int rs = resume_pending(j, &jr->rn, &jr->mu, d, x->o->type,
	                        x->tobj ? x->tobj->resume_token : NULL, &tx);
	if (rs <= 0)
		return rs;
	return list_target_again(jr, d, x) < 0 ? -1 : rs;
}

/* Whether the first step goes into the seed role's empty leaf: a first
 * full receive into a pull target that exists without snapshots. */
static bool into_empty_leaf(const struct job_run *jr, const struct ds *x, const struct plan *p)
{
	return p->n_steps && !p->steps[0].from && x->tobj && !(x->dd && x->dd->snaps.n) &&
	       !jr->j->is_push && x->o->type == ZFS_TYPE_FILESYSTEM;
}

/* One step of the plan, as -i steps for a sender not trusted with -I
 * (stream.h: its stream is a package, which can carry other datasets'
 * streams), each stream checked on its own. first: the plan's first
 * transfer (rollback and the leaf's receive options). Returns the newest
 * source snapshot received, or NULL; d failed when a transfer did. */
static const struct zfs_obj *run_step(struct job_run *jr, struct repl_dataset *d, struct ds *x,
                                      const struct plan_input *in, const struct plan *p,
                                      const struct plan_step *s, bool first)
{
	const struct repl_job *j = jr->j;
	const struct zfs_obj *got = NULL;
	struct plan_step *split = xcalloc(in->n_src + 1, sizeof(*split));
	struct zerr e = ZERR_INIT;
	size_t ns = 1;
	if (!host_is_local(j->src) && s->intermediates) {
		ns = plan_split(in, s, split);
		s = split;
	}
	for (size_t m = 0; m < ns && d->outcome != REPL_FAILED; m++) {
		if (ns > 1)
			log_debug("send -i %s %s", s[m].from, s[m].to);
		bool now_first = first && m == 0;
		struct transfer t = transfer_of(j, &jr->rn, d->source, d->target, x->o->type);
		t.from = s[m].from;
		t.to = s[m].to;
		t.intermediates = s[m].intermediates;
		t.rollback = now_first && (p->rollback || x->leaf.force);
		t.recv_opts = now_first ? &x->leaf.recv_opts : NULL;
		t.wire = x->wire;
		/* kept from the attempt on, not its success: a receive that
		 * completed while the transfer was said to fail (or a killed
		 * run's partial state) must not be sent without -L next time */
		d->large_blocks |= j->raw || (t.wire & TRANSFER_WIRE_LARGE);
		/* the stream is this dataset's alone: other datasets' go on */
		pthread_mutex_unlock(&jr->mu);
		int tr = transfer_run(&t, &d->bytes, &e);
		pthread_mutex_lock(&jr->mu);
		if (tr == 0) {
			got = source_snapshot(x->sd, s[m].to);
			continue;
		}
		if (x->trusted && now_first &&
		    (e.kind == ZFS_ERR_BASE_MISMATCH || e.kind == ZFS_ERR_MODIFIED)) {
			/* refused at its start, nothing received: list, plan
			 * again, and say it as a listing would */
			log_debug("%s: %s", d->target, e.msg);
			x->refused = true;
			break;
		}
		fail_dataset(d, e.msg);
		if (jr->rn.resume)
			d->resume_token = read_token(j, d->target);
		/* the leaf it replaced, unless the receive left a partial one
		 * to resume */
		struct zerr le = ZERR_INIT;
		if (now_first && x->leaf.destroyed && !d->resume_token &&
		    leaf_restore(j->dst, d->target, &x->leaf, j->timeout_ms, &le) < 0)
			log_error("cannot make the empty %s again: %s", d->target, le.msg);
		/* or the leaf's acltype and xattr, for after the resume */
		if (now_first && x->leaf.destroyed && d->resume_token && x->leaf.recv_opts.n) {
			struct buf lp = BUF_INIT;
			leaf_props_of(&x->leaf, &lp);
			d->leaf_props = buf_detach(&lp, NULL);
		}
	}
	free(split);
	return got;
}

struct src_probe {
	const struct repl_job *j;
	struct run *rn;
};

static void *src_probe_run(void *arg)
{
	struct src_probe *sp = arg;
	sp->rn->src_known =
	    zfs_probe(sp->j->src, sp->j->timeout_ms, &sp->rn->src_caps, &sp->rn->src_why) == 0;
	return NULL;
}

/* Both sides' OpenZFS (zfs version) and the target pool's features, once
 * a run (plain sends only: a raw job's -w says it all); a restricted
 * remote is asked nothing beyond its five lines. */
static void wire_probe(const struct repl_job *j, struct run *rn)
{
	rn->probed = true;
	/* the source (over ssh) while the target answers its two: the
	 * probe is on the way of the first send */
	struct src_probe sp = {j, rn};
	struct beside bs;
	beside_start(&bs, src_probe_run, &sp);
	char pool[256];
	snprintf(pool, sizeof(pool), "%.*s", (int)strcspn(j->destination, "/"), j->destination);
	if (j->restricted)
		zerr_set(&rn->dst_why, -EPERM, "a restricted remote");
	else
		rn->dst_known = zfs_probe(j->dst, j->timeout_ms, &rn->dst_caps, &rn->dst_why) == 0;
	if (rn->dst_known)
		rn->pool_known = zpool_features_run(j->dst, pool, j->timeout_ms, &rn->dst_pool,
		                                    &rn->pool_why) == 0;
	beside_join(&bs);
	if (!rn->src_known)
		log_warn(
		    "cannot ask %s for its OpenZFS version (%s): plain sends go without -c -L -e",
		    j->src->label, rn->src_why.msg);
	if (!rn->dst_known && !j->restricted)
		log_warn(
		    "cannot ask %s for its OpenZFS version (%s): plain sends go without -c -L -e",
		    j->dst->label, rn->dst_why.msg);
	if (!rn->src_known || !rn->dst_known) {
		rn->pool_known = false;
		return;
	}
	if (!rn->pool_known) /* a plain send needs no feature: it goes as before */
		log_warn("%s: plain sends go without -c -L -e", rn->pool_why.msg);
}

/* The wire flags of d's plain sends (transfer_wire) for plan p, the
 * sides probed first where this run has not yet; -1 with d failed when
 * its target needs -L and cannot have it. */
static int wire_choose(struct job_run *jr, struct repl_dataset *d, const struct plan *p,
                       unsigned *flags)
{
	const struct repl_job *j = jr->j;
	struct run *rn = &jr->rn;
	if (!j->raw && !rn->probed)
		wire_probe(j, rn);
	const struct transfer_wire_in in = {.src = rn->src_known ? &rn->src_caps : NULL,
	                                    .dst = rn->dst_known ? &rn->dst_caps : NULL,
	                                    .src_label = j->src->label,
	                                    .dst_label = j->dst->label,
	                                    .src_why = rn->src_why.msg,
	                                    .dst_why = rn->dst_why.msg,
	                                    .raw = j->raw,
	                                    .restricted = j->restricted,
	                                    .dst_pool = rn->pool_known ? &rn->dst_pool : NULL,
	                                    .pool_why = rn->pool_why.msg,
	                                    .full = p->n_steps && !p->steps[0].from,
	                                    .large_before = d->large_blocks};
	struct zerr e = ZERR_INIT;
	if (transfer_wire(&in, d->target, flags, &e) == 0)
		return 0;
	fail_dataset(d, e.msg);
	return -1;
}

/* Carries out plan p (after resume_first answered rs): parents, the
 * empty leaf, then each step. Returns the newest source snapshot the
 * target received, or NULL. */
static const struct zfs_obj *execute(struct job_run *jr, struct repl_dataset *d, struct ds *x,
                                     const struct plan_input *in, const struct plan *p, int rs)
{
	const struct repl_job *j = jr->j;
	const struct zfs_obj *got = NULL;
	struct zerr e = ZERR_INIT;
	if (rs < 0)
		return NULL; /* failed above: the error is said */
	switch (p->kind) {
	case PLAN_UP_TO_DATE:
		d->outcome = rs > 0 ? REPL_OK : REPL_UP_TO_DATE;
		if (rs == 0 && x->tobj) {
			d->src_changed = x->o->snapshots_changed;
			d->dst_changed = x->tobj->snapshots_changed;
			d->src_guid = x->o->guid;
			d->dst_guid = x->tobj->guid;
			d->checked = jr->rn.listed_at;
		}
		log_info("Up to date: %s", d->target);
		return NULL;
	case PLAN_NO_SNAPSHOT:
		d->outcome = REPL_SKIPPED;
		log_warn("%s: no snapshot to send, skipped", d->source);
		return NULL;
	case PLAN_DIVERGED:
		fail_dataset(d, p->reason);
		return NULL;
	case PLAN_SEND:
		break;
	}
	if (wire_choose(jr, d, p, &x->wire) < 0)
		return NULL;
	if (make_parents(j, d->target, &jr->di, jr->res, &jr->made, &e) < 0 ||
	    (into_empty_leaf(jr, x, p) &&
	     leaf_take(j->dst, d->target, j->raw, j->dry_run, j->timeout_ms, &x->leaf, &e) < 0)) {
		fail_dataset(d, e.msg);
		return NULL;
	}
	for (size_t k = 0; k < p->n_steps && d->outcome != REPL_FAILED; k++) {
		const struct plan_step *s = &p->steps[k];
		if (s->from)
			log_info("Incremental send %s -> %s into %s", s->from, s->to, d->target);
		else
			log_info("Full send of %s into %s", s->to, d->target);
		if (j->dry_run)
			continue;
		const struct zfs_obj *g = run_step(jr, d, x, in, p, s, k == 0);
		if (g)
			got = g;
		if (x->refused)
			return NULL;
	}
	if (d->outcome != REPL_FAILED)
		d->outcome = REPL_OK;
	return got;
}

/* After the transfers: the newest snapshot the target has now, the next
 * run's base protected on the source, the target pruned. got: the newest
 * snapshot received in this run (after a transfer that failed part way,
 * the last one the target received: the protected base, so a client that
 * prunes it before the next run does not leave the target looking
 * diverged). */
static void finish(struct job_run *jr, struct repl_dataset *d, const struct ds *x,
                   const struct plan_input *in, const struct plan *p, const struct zfs_obj *got)
{
	const struct repl_job *j = jr->j;
	struct marks *mk = &jr->rn.marks;
	const struct zfs_obj *newest = NULL;
	if (d->outcome == REPL_OK && x->sd && x->sd->snaps.n)
		newest = x->sd->snaps.v[x->sd->snaps.n - 1];
	else if (d->outcome == REPL_UP_TO_DATE && p->base_src)
		newest = p->base_src;
	else if (d->outcome == REPL_FAILED && got)
		newest = got;
	if (newest) {
		d->newest = xstrdup(newest->name);
		d->newest_guid = newest->guid;
		/* unlisted (name,guid,createtxg): newest_creations reads it */
		d->newest_creation = newest->creation != ZFS_NONE ? newest->creation : 0;
	}
	/* protect the next run's base: after a transfer, or when an up to
	 * date dataset is not known to be protected (the last record did not
	 * say so of this snapshot, and it has no bookmark of the job: a
	 * target another tool made, say) */
	const struct record_dataset *rec = prev_find(&jr->pr, d->target);
	bool known = newest && (marks_has_bookmark(mk, newest, x->bms, x->nbm) ||
	                        (rec && rec->protected && rec->newest_guid == newest->guid));
	bool marking = newest && !j->restricted && !j->dry_run &&
	               newest->type == ZFS_TYPE_SNAPSHOT &&
	               (d->outcome == REPL_OK || got || !known);
	if (marking)
		marks_protect(mk, newest, p->base_src, rec ? rec->newest : NULL, x->sd, x->bms,
		              x->nbm);
	/* the next run's base is protected (an up to date dataset skipped
	 * later relies on it; the marks are made at the end of the run, and
	 * protected is taken back there if they fail) */
	d->protected = !j->restricted && (marking || known);
	if (j->keep && !j->restricted && !j->dry_run &&
	    (d->outcome == REPL_OK || d->outcome == REPL_UP_TO_DATE))
		prune_target(j, &jr->prunes, (size_t)(d - jr->res->v), d, in, p);
}

/* The empty leaf's acltype and xattr that an interrupted first receive
 * left in the last record (pd): set once the target is complete, carried
 * to the next record while it is not. */
static void leaf_props_finish(const struct repl_job *j, struct repl_dataset *d,
                              const struct record_dataset *pd)
{
	struct zerr e = ZERR_INIT;
	if (!pd || !pd->leaf_props || d->leaf_props || j->dry_run)
		return;
	if (d->outcome != REPL_OK && d->outcome != REPL_UP_TO_DATE) {
		d->leaf_props = xstrdup(pd->leaf_props);
		return;
	}
	if (leaf_props_set(j->dst, d->target, pd->leaf_props, j->timeout_ms, &e) < 0) {
		d->leaf_props = xstrdup(pd->leaf_props);
		fail_dataset(d, e.msg);
		return;
	}
	log_info("set %s on %s, as the empty leaf it replaced had them", pd->leaf_props, d->target);
}

/* The result of source dataset o, added in the order the datasets start
 * (run_datasets). */
static struct repl_dataset *dataset_result(struct job_run *jr, const struct zfs_obj *o)
{
	struct buf tname = BUF_INIT;
	target_of(jr->j, o->name, &tname);
	struct repl_dataset *d = add_dataset(jr->res, o->name, tname.s);
	buf_free(&tname);
	return d;
}

/* One source dataset (its result d): skip, refuse, resume, plan,
 * execute, protect. */
static void replicate_dataset(struct job_run *jr, const struct zfs_obj *o,
                              struct policy_dataset *sd, struct repl_dataset *d)
{
	const struct repl_job *j = jr->j;
	d->start = time(NULL);
	struct ds x = {.o = o, .sd = sd, .dd = policy_index_find(&jr->di, d->target)};
	x.tobj = x.dd ? x.dd->obj : NULL;
	const struct record_dataset *pd = prev_find(&jr->pr, d->target);
	/* -L is a one-way door (transfer_wire) while the target exists: one
	 * destroyed for a fresh full receive may be sent without again */
	d->large_blocks = pd && pd->large_blocks && x.tobj;
	if (refuse_plaintext(jr, d))
		goto out;
	if (jr->skip[sd - jr->si.v] && pd && x.tobj) {
		up_to_date_by_record(d, o, x.tobj, pd);
		goto out;
	}
	ds_bookmarks(jr, &x);
	x.trusted = x.dd && strvec_has(&jr->trusted, d->target);
	int rs = resume_first(jr, d, &x);
	struct plan_input in;
	struct plan p;
	const struct zfs_obj *got = NULL;
	for (;;) {
		in = (struct plan_input){sd->snaps.v,
		                         sd->snaps.n,
		                         x.bms,
		                         x.nbm,
		                         x.dd ? x.dd->snaps.v : NULL,
		                         x.dd ? x.dd->snaps.n : 0,
		                         j->restricted,
		                         j->full_newest,
		                         j->force};
		plan_make(&in, &p);
		d->matched_by_name = p.matched_by_name;
		/* the record's word for the target is worth a plan that sends
		 * from it, which the receive checks; anything else (up to
		 * date: no receive checks it) is decided on a listing */
		bool relist = x.trusted && rs == 0 && p.kind != PLAN_SEND;
		got = relist ? NULL : execute(jr, d, &x, &in, &p, rs);
		if (!relist && !x.refused)
			break;
		log_info("%s: not as the last run left it; listing its snapshots", d->target);
		x.refused = false;
		if (list_target_again(jr, d, &x) < 0)
			break; /* d failed: said there */
	}
	leaf_props_finish(j, d, pd);
	if (j->dry_run && x.tobj && x.tobj->resume_token)
		d->resume_token = xstrdup(x.tobj->resume_token);
	finish(jr, d, &x, &in, &p, got);
out:
	d->end = time(NULL);
	carry_over(d, pd);
	free(x.bms);
	policy_index_free(&x.ri);
	zfs_list_free(&x.rl);
	leaf_take_free(&x.leaf);
}

/* The job failed before any dataset (listing, destination): every
 * dataset of the last run failed with it, so the record (and the backup
 * metrics made from it) keeps them, with their last success, rather than
 * forgetting them. */
static void job_failed(struct job_run *jr, const struct zerr *e)
{
	const struct prev_run *pr = &jr->pr;
	jr->res->error = xstrdup(e->msg);
	log_error("%s", e->msg);
	for (size_t i = 0; i < pr->rec.n_datasets; i++) {
		const struct record_dataset *p = pr->rec.by_target[i];
		struct repl_dataset *d = add_dataset(jr->res, p->source, p->target);
		d->outcome = REPL_FAILED;
		d->error = xstrdup(e->msg);
		d->end = time(NULL);
		if (p->resume_token) /* still pending on the target */
			d->resume_token = xstrdup(p->resume_token);
		d->large_blocks = p->large_blocks; /* the target is as it was */
		carry_over(d, p);
	}
}

/* The datasets of a run, in the order they start. */
struct work_item {
	const struct zfs_obj *o;
	struct policy_dataset *sd;
	size_t parent; /* the item of its nearest ancestor in the run, or SIZE_MAX */
	bool finished;
};
struct work {
	struct job_run *jr;
	struct work_item *items;
	size_t n, alloc, next;
	pthread_cond_t done; /* an item finished (under jr->mu) */
};

/* A worker: the next dataset in order, once its ancestor's receive is
 * over (a child's full receive needs its parent on the target, and
 * make_parents judges the parent by its outcome). Holds jr->mu but while
 * a stream flows. */
static void *work_run(void *arg)
{
	struct work *w = arg;
	pthread_mutex_lock(&w->jr->mu);
	while (w->next < w->n) {
		struct work_item *it = &w->items[w->next++];
		/* its result now, so the results keep the items' order */
		struct repl_dataset *d = dataset_result(w->jr, it->o);
		while (it->parent != SIZE_MAX && !w->items[it->parent].finished)
			pthread_cond_wait(&w->done, &w->jr->mu);
		replicate_dataset(w->jr, it->o, it->sd, d);
		it->finished = true;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->jr->mu);
	return NULL;
}

/* Replicates w's items, up to parallel at a time (the result order and
 * every per-dataset rule as one at a time: the items start in order, and
 * only the streams overlap). */
static void run_datasets(struct work *w, int parallel)
{
	struct repl_result *res = w->jr->res;
	size_t nt = parallel > 1 ? (size_t)parallel : 1;
	if (nt > w->n)
		nt = w->n;
	/* each item adds one result: room for all now, so that no worker's
	 * result moves while another holds a pointer to its own */
	res->v = xgrow(res->v, &res->alloc, res->n + w->n + 1, sizeof(*res->v));
	w->jr->rn.streams = (int)nt;
	/* a dataset waits for the one whose target is its target's nearest
	 * ancestor (a push's strip prefix can make that another source tree) */
	struct buf *tn = xcalloc(w->n + 1, sizeof(*tn));
	for (size_t i = 0; i < w->n; i++)
		buf_init(&tn[i]);
	for (size_t i = 0; nt > 1 && i < w->n; i++) {
		target_of(w->jr->j, w->items[i].o->name, &tn[i]);
		for (size_t k = i; k-- > 0;) {
			if (!strncmp(tn[i].s, tn[k].s, tn[k].len) && tn[i].s[tn[k].len] == '/') {
				w->items[i].parent = k;
				break;
			}
		}
	}
	for (size_t i = 0; i < w->n; i++)
		buf_free(&tn[i]);
	free(tn);
	pthread_cond_init(&w->done, NULL);
	pthread_t *t = xcalloc(nt, sizeof(*t));
	size_t started = 0;
	for (; nt > 1 && started < nt; started++)
		if (pthread_create(&t[started], NULL, work_run, w) != 0)
			break;
	if (!started) /* one at a time, or no thread could start */
		work_run(w);
	for (size_t k = 0; k < started; k++)
		pthread_join(t[k], NULL);
	free(t);
	pthread_cond_destroy(&w->done);
}

static void run_begin(struct job_run *jr, const struct repl_job *j, struct repl_result *res)
{
	memset(jr, 0, sizeof(*jr));
	pthread_mutex_init(&jr->mu, NULL);
	memset(res, 0, sizeof(*res));
	jr->j = j;
	jr->res = res;
	buf_init(&jr->troot);
	strvec_init(&jr->unchanged);
	strvec_init(&jr->plain);
	strvec_init(&jr->made);
	res->start = time(NULL);
	/* Resume and bookmarks are assumed (OpenZFS >= 0.7) rather than probed,
	 * which would cost a zfs process per side: a target that does not know
	 * receive_resume_token fails its listing and is listed again without,
	 * and a refused bookmark turns bookmarks off for the job. A restricted
	 * remote is asked nothing beyond its five lines. */
	jr->rn.resume = !j->restricted;
	marks_init(&jr->rn.marks, j->name, j->is_push, !j->restricted, j->src, j->timeout_ms);
	if (j->is_push)
		buf_adds(&jr->troot, j->destination);
	else
		buf_addf(&jr->troot, "%s/%s", j->destination, j->name);
	prev_load(j, &jr->pr);
	/* a side without the property stays without it for a day */
	jr->rn.no_changed_since = jr->pr.no_changed_since;
	jr->rn.changed = !j->restricted && !jr->pr.no_changed_since;
	jr->rn.listed_at = time(NULL);
}

static void run_end(struct job_run *jr)
{
	policy_index_free(&jr->si);
	policy_index_free(&jr->di);
	policy_snaps_free(&jr->all_bm);
	zfs_list_free(&jr->sl);
	zfs_list_free(&jr->dl);
	listings_free(&jr->ls);
	strvec_clear(&jr->made);
	strvec_clear(&jr->unchanged);
	strvec_clear(&jr->trusted);
	strvec_clear(&jr->plain);
	free(jr->done);
	free(jr->skip);
	prev_free(&jr->pr);
	buf_free(&jr->troot);
	marks_free(&jr->rn.marks);
	pthread_mutex_destroy(&jr->mu);
}

/* The newest snapshots' creation times, for the record (newest.creation,
 * the freshness metrics): from the last record where it names the same
 * snapshot, else one `zfs get creation` of all the others on the source
 * (the snapshot listings leave creation out to be fast). */
static void newest_creations(const struct job_run *jr)
{
	const struct repl_job *j = jr->j;
	struct repl_result *res = jr->res;
	struct strvec names = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct zfs_props p = {0};
	struct zerr e = ZERR_INIT;
	for (size_t i = 0; i < res->n; i++) {
		struct repl_dataset *d = &res->v[i];
		const struct record_dataset *pd = prev_find(&jr->pr, d->target);
		if (!d->newest || d->newest_creation)
			continue;
		if (pd && pd->newest && pd->newest_creation > 0 &&
		    pd->newest_guid == d->newest_guid && !strcmp(pd->newest, d->newest))
			d->newest_creation = (uint64_t)pd->newest_creation;
		else if (!strvec_has(&names, d->newest))
			strvec_push(&names, d->newest);
	}
	if (!names.n || j->dry_run)
		goto out;
	if (zfs_run_names(j->src,
	                  (const char *const[]){"zfs", "get", "-Hp", "-o",
	                                        "name,property,value,source", "creation", NULL},
	                  &names, ZFS_ERR_OTHER, &out, j->timeout_ms, &e) < 0 ||
	    zfs_props_parse(&p, out.s, out.len, &e) < 0) {
		log_warn("cannot read the newest snapshots' creation times: %s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < res->n; i++)
		for (size_t k = 0; res->v[i].newest && !res->v[i].newest_creation && k < p.n; k++)
			if (!strcmp(p.v[k].dataset, res->v[i].newest) &&
			    !strcmp(p.v[k].property, "creation") &&
			    !fmt_parse_u64(p.v[k].value, &res->v[i].newest_creation))
				res->v[i].newest_creation = 0;
out:
	zfs_props_free(&p);
	strvec_clear(&names);
	buf_free(&out);
}

static void *newest_creations_run(void *arg)
{
	newest_creations(arg);
	return NULL;
}

/* The end of a run's datasets: the holds and releases queued for the
 * whole job (marks_flush), the targets' queued prunes, and beside them
 * the newest snapshots' creation times (a zfs process or two on a side
 * each, holds and destroys a sync task each; the times touch only
 * newest_creation of the results). */
static void run_flush(struct job_run *jr)
{
	struct beside bs;
	beside_start(&bs, newest_creations_run, jr);
	marks_flush(&jr->rn.marks);
	for (size_t i = 0; i < jr->res->n; i++) {
		struct repl_dataset *d = &jr->res->v[i];
		if (!d->by_record && d->newest && !marks_kept(&jr->rn.marks, d->newest))
			d->protected = false;
	}
	prune_flush(jr->j, &jr->prunes, jr->res);
	beside_join(&bs);
}

int repl_run(const struct repl_job *j, struct repl_result *res)
{
	struct job_run jr;
	struct zerr e = ZERR_INIT;
	int r;

	run_begin(&jr, j, res);
	if ((r = gather(&jr, &e)) < 0) {
		job_failed(&jr, &e);
	} else {
		/* every source dataset, parents first (createtxg order), once
		 * (roots that overlap list some twice) */
		struct work w = {.jr = &jr};
		for (size_t i = 0; i < jr.sl.n; i++) {
			const struct zfs_obj *o = &jr.sl.v[i];
			struct policy_dataset *sd =
			    o->type & ZFS_TYPE_DATASET ? policy_index_find(&jr.si, o->name) : NULL;
			if (!sd || jr.done[sd - jr.si.v])
				continue;
			jr.done[sd - jr.si.v] = true;
			w.items = xgrow(w.items, &w.alloc, w.n + 1, sizeof(*w.items));
			w.items[w.n++] = (struct work_item){o, sd, SIZE_MAX, false};
		}
		run_datasets(&w, j->parallel);
		free(w.items);
		run_flush(&jr);
		for (size_t i = 0; i < res->n; i++)
			if (res->v[i].outcome == REPL_FAILED)
				r = -EIO;
	}
	res->end = time(NULL);
	write_record(j, &jr.rn, &jr.pr.rec, res);
	run_end(&jr);
	return r;
}

void repl_result_free(struct repl_result *res)
{
	if (!res)
		return;
	for (size_t i = 0; i < res->n; i++) {
		free(res->v[i].source);
		free(res->v[i].target);
		free(res->v[i].error);
		free(res->v[i].newest);
		free(res->v[i].resume_token);
		free(res->v[i].resume_refused);
		free(res->v[i].leaf_props);
	}
	free(res->v);
	free(res->error);
	if (res->record)
		record_free(res->record);
	free(res->record);
	memset(res, 0, sizeof(*res));
}
