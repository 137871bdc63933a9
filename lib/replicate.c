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

#include "gate.h"
#include "leaf.h"
#include "log.h"
#include "plan.h"
#include "policy.h"
#include "proc.h"
#include "record.h"
#include "relay.h"
#include "stream.h"
#include "token.h"
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

/* The first line of a captured stderr file that is not an ssh warning
 * (a new host key, say), for a one-line message that says what failed:
 * "cannot resume send" must be found behind such a warning. */
static void err_line(FILE *f, char *out, size_t len)
{
	out[0] = '\0';
	if (!f)
		return;
	rewind(f);
	char line[1024];
	bool first = true;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		bool warning = !strncmp(line, "Warning: ", 9);
		if (first || !warning) { /* cut to len, as a message may be */
			size_t n = strlen(line) < len ? strlen(line) : len - 1;
			memcpy(out, line, n);
			out[n] = '\0';
		}
		if (!warning)
			return;
		first = false;
	}
}

/* What the relay's callbacks know of one transfer: what a progress line
 * shows (the stream, its size as zfs estimated it, 0: not known) and what
 * the stream's first record must be. */
struct progress {
	const char *what;
	uint64_t estimate;
	const char *source; /* the dataset the stream must be a snapshot of */
	bool one_snapshot;  /* an untrusted sender: no package (stream.h) */
};

static void show_progress(void *arg, uint64_t bytes, double secs)
{
	const struct progress *pg = arg;
	double mib = (double)bytes / 1048576.0, rate = secs > 0 ? mib / secs : 0.0;
	if (pg->estimate) {
		/* the estimate is zfs's: the stream may run a little past it */
		double left = bytes < pg->estimate && rate > 0
		                  ? (double)(pg->estimate - bytes) / 1048576.0 / rate
		                  : 0.0;
		double pct = 100.0 * (double)bytes / (double)pg->estimate;
		fprintf(stderr, "\r%s: %.1f of %.1f MiB (%d%%), %.1f MiB/s, ETA %dm%02ds   ",
		        pg->what, mib, (double)pg->estimate / 1048576.0, pct > 100 ? 100 : (int)pct,
		        rate, (int)left / 60, (int)left % 60);
	} else {
		fprintf(stderr, "\r%s: %.1f MiB, %.1f MiB/s   ", pg->what, mib, rate);
	}
	fflush(stderr);
}

/* The size of the stream sargv (zfs send ...) will make, from the same
 * send with -nvP: its last "size" line. 0 when zfs does not say; only a
 * progress line depends on it. */
static uint64_t send_estimate(const struct repl_job *j, const struct strvec *sargv)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct zerr e = ZERR_INIT;
	uint64_t size = 0;
	strvec_pushv(&argv, (const char *const[]){"zfs", "send", "-nvP", NULL});
	for (size_t i = 2; i < sargv->n; i++)
		strvec_push(&argv, sargv->v[i]);
	if (host_run(j->src, (const char *const *)argv.v, &out, 65536, j->timeout_ms, &e) == 0) {
		for (const char *l = out.s; l && *l;
		     l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (!strncmp(l, "size\t", 5))
				size = strtoull(l + 5, NULL, 10);
	} else {
		log_debug("no size estimate: %s", e.msg);
	}
	strvec_clear(&argv);
	buf_free(&out);
	return size;
}

/* What this run found out about the two sides, and what they refused. */
struct run {
	bool resume;      /* the target receives with -s (and lists tokens) */
	bool bookmarks;   /* the source can bookmark */
	bool hold_failed; /* a refusal warned about once: not tried again */
	bool bookmark_failed;
	bool changed;            /* both sides are asked for snapshots_changed */
	time_t no_changed_since; /* when a side had no snapshots_changed (OpenZFS
	                          * < 2.2), 0: it has, or not known */
	time_t listed_at;
	struct buf tag;    /* zkeep:<job>[:<host>] (job_marks) */
	struct buf bmname; /* zkeep_<job>[:<host>]_ : the job's bookmark names start so */
};

/* The snapshot named name in the source listing sd, or NULL. */
static const struct zfs_obj *source_snapshot(const struct policy_dataset *sd, const char *name)
{
	for (size_t i = 0; sd && i < sd->snaps.n; i++)
		if (!strcmp(sd->snaps.v[i]->name, name))
			return sd->snaps.v[i];
	return NULL;
}

static int head_check(void *arg, const unsigned char *head, size_t len, struct zerr *e)
{
	const struct progress *pg = arg;
	return stream_head_check(head, len, pg->source, pg->one_snapshot, e);
}

/* One send | relay | receive of the source dataset's snapshots: the step
 * s, or, with token, the rest of an interrupted one (send -t; s->to then
 * only names it). The relay checks the stream's first record before the
 * receiver sees a byte (stream_head_check: a snapshot of source, no
 * replication or property stream). Receiver errors are reported ahead of
 * the sender's (whose broken pipe is only the echo of them). */
static int transfer(const struct repl_job *j, const struct run *rn, const char *source,
                    const struct plan_step *s, const char *token, const char *target,
                    enum zfs_type type, bool rollback, const struct strvec *recv_opts,
                    uint64_t *bytes, struct zerr *e)
{
	struct strvec sargv = STRVEC_INIT, rargv = STRVEC_INIT;
	struct proc snd, rcv;
	FILE *serr = tmpfile(), *rerr = tmpfile();
	struct relay_stats st = {0};
	struct zerr re = ZERR_INIT;
	struct buf lbl = BUF_INIT;
	int r, rr = 0;

	proc_init(&snd);
	proc_init(&rcv);
	const char *what = s->to;
	buf_addf(&lbl, token ? "resumed send into '%s'" : "send of '%s'", what);
	strvec_pushv(&sargv, (const char *const[]){"zfs", "send", NULL});
	if (token) {
		/* The token carries the first send's flags, but it comes from the
		 * target: -w is ours to give (libzfs ORs it with the token's), so
		 * a token without rawok cannot make a raw job send plaintext.
		 * resume_pending() has checked the rest (token_check). */
		if (j->raw)
			strvec_push(&sargv, "-w");
		strvec_pushv(&sargv, (const char *const[]){"-t", token, NULL});
	} else {
		if (j->raw)
			strvec_push(&sargv, "-w");
		if (s->from) {
			strvec_push(&sargv, s->intermediates ? "-I" : "-i");
			strvec_push(&sargv, s->from);
		}
		strvec_push(&sargv, s->to);
	}
	if (j->restricted) { /* the only receive the seed's remote accepts */
		strvec_pushv(&rargv, gate_seed_lines[GATE_SEED_RECEIVE]);
	} else {
		/* The sender chooses the stream's properties: a hostile client
		 * can send mountpoint=/etc. The target keeps its own mountpoint
		 * and never mounts at boot (canmount applies to filesystems). */
		strvec_pushv(&rargv, (const char *const[]){"zfs", "receive", "-u", "-x",
		                                           "mountpoint", NULL});
		if (type == ZFS_TYPE_FILESYSTEM)
			strvec_pushv(&rargv, (const char *const[]){"-o", "canmount=noauto", NULL});
	}
	for (size_t i = 0; recv_opts && i < recv_opts->n; i++)
		strvec_push(&rargv, recv_opts->v[i]);
	if (rollback && !j->restricted)
		strvec_push(&rargv, "-F");
	if (rn->resume && !j->restricted) /* an interruption leaves a token */
		strvec_push(&rargv, "-s");
	strvec_push(&rargv, target);

	if (!serr || !rerr) {
		r = zerr_set(e, -errno, "cannot make a temporary file: %s", strerror(errno));
		goto out;
	}
	if ((r = host_command(j->src, (const char *const *)sargv.v, &snd, e)) < 0 ||
	    (r = host_command(j->dst, (const char *const *)rargv.v, &rcv, e)) < 0)
		goto out;
	rcv.in = PROC_IO_PIPE;
	rcv.out = PROC_IO_NULL;
	rcv.err = PROC_IO_FD;
	rcv.err_fd = fileno(rerr);
	snd.in = PROC_IO_NULL;
	snd.out = PROC_IO_PIPE;
	snd.err = PROC_IO_FD;
	snd.err_fd = fileno(serr);
	if ((r = proc_start(&rcv, e)) < 0)
		goto out;
	if ((r = proc_start(&snd, e)) < 0) {
		proc_kill(&rcv, SIGTERM);
		struct proc_status ignored;
		proc_wait(&rcv, 10000, &ignored, NULL);
		goto out;
	}
	struct progress pg = {what, j->progress ? send_estimate(j, &sargv) : 0, source,
	                      !host_is_local(j->src)};
	struct relay_opts ro = {j->bwlimit,
	                        j->stall_timeout_ms,
	                        j->progress ? 1000 : 0,
	                        j->progress ? show_progress : NULL,
	                        &pg,
	                        STREAM_HEAD_LEN,
	                        head_check};
	rr = relay_run(snd.out_fd, rcv.in_fd, &ro, &st, &re);
	if (j->progress)
		fputc('\n', stderr);
	*bytes += st.bytes;
	log_debug("relayed %" PRIu64 " bytes in %.2f s (%s, %" PRIu64 " moves, cpu %.3f s)",
	          st.bytes, st.seconds, st.spliced ? "splice" : "read/write", st.moves, st.cpu);
	if (rr < 0) /* the stream is broken: the sender must not hang on */
		proc_kill(&snd, SIGTERM);
	struct proc_status ss, rs;
	/* closing our pipe ends gives the receiver its EOF */
	proc_wait(&rcv, j->timeout_ms, &rs, NULL);
	proc_wait(&snd, j->timeout_ms, &ss, NULL);
	char sline[512], rline[512], sbuf[320], rbuf[320];
	err_line(serr, sline, sizeof(sline));
	err_line(rerr, rline, sizeof(rline));
	proc_status_str(&ss, sbuf, sizeof(sbuf));
	proc_status_str(&rs, rbuf, sizeof(rbuf));
	/* ssh's own exit code: the connection, not zfs, went away */
	if (!host_is_local(j->src) && ss.code == 255 && !ss.signal)
		snprintf(sbuf, sizeof(sbuf), "lost its ssh connection to %s", j->src->label);
	if (!host_is_local(j->dst) && rs.code == 255 && !rs.signal)
		snprintf(rbuf, sizeof(rbuf), "lost its ssh connection to %s", j->dst->label);
	/* The receiver's error comes first, unless the sender failed on its
	 * own (not of the broken pipe the receiver left, nor after the receiver
	 * closed the stream and failed: then ssh's exit is the echo): then the
	 * receiver's "failed to read from stream" is only the echo of it. */
	bool sender_first = ss.code != 0 && ss.signal != SIGPIPE && !(ss.signal && rr < 0) &&
	                    !(rr == -EPIPE && rs.code != 0);
	/* the stream was refused (or ended inside its first record while the
	 * sender said all was well): nothing was received */
	if (rr == -EBADMSG || (rr == -ENODATA && ss.code == 0 && !ss.signal)) {
		r = zerr_set(e, rr, "%s refused: %s", lbl.s, re.msg);
	} else if (sender_first) {
		r = zerr_set(e, -EIO, "%s %s%s%s%s%s", lbl.s, sbuf, *sline ? ": " : "", sline,
		             rs.code ? "; receive: " : "", rs.code ? rline : "");
	} else if (rs.code != 0 && j->restricted &&
	           zfs_err_kind(rline) == ZFS_ERR_PARTIAL_RECEIVE) {
		/* the seed's allowlist has no receive -A: only its operator can */
		r = zerr_set(e, -EIO,
		             "'%s' on %s holds a partial receive (%s), which zkeep cannot clear "
		             "through the seed's five command lines: run 'zfs receive -A %s' on "
		             "that host, then push again",
		             target, j->dst->label, rline, target);
	} else if (rs.code != 0) {
		r = zerr_set(e, -EIO, "receive into '%s' %s%s%s", target, rbuf, *rline ? ": " : "",
		             rline);
	} else if (ss.code != 0) {
		r = zerr_set(e, -EIO, "%s %s%s%s", lbl.s, sbuf, *sline ? ": " : "", sline);
	} else if (rr < 0) {
		r = zerr_set(e, rr, "%s", re.msg);
	} else {
		r = 0;
	}
out:
	if (serr)
		fclose(serr);
	if (rerr)
		fclose(rerr);
	proc_free(&snd);
	proc_free(&rcv);
	strvec_clear(&sargv);
	strvec_clear(&rargv);
	buf_free(&lbl);
	return r;
}

/* Backup-side retention: the target's policy snapshots past what keep
 * says, after a good run. The target's snapshots are what the plan left
 * of them and what it sent (plan_after); the next run's base (the newest
 * of them, or the target's copy of the base when nothing was sent) is
 * never destroyed. */
static void prune_target(const struct repl_job *j, struct repl_dataset *d,
                         const struct plan_input *in, const struct plan *p)
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
	if (out.n) {
		struct buf list = BUF_INIT, res = BUF_INIT;
		struct zerr e = ZERR_INIT;
		buf_adds(&list, d->target);
		for (size_t k = 0; k < out.n; k++)
			buf_addf(&list, "%c%s", k ? ',' : '@', strchr(out.v[k]->name, '@') + 1);
		if (host_run(j->dst, (const char *const[]){"zfs", "destroy", list.s, NULL}, &res,
		             65536, j->timeout_ms, &e) < 0)
			fail_dataset(d, e.msg);
		else
			log_info("pruned %zu snapshot(s) of %s (keep)", out.n, d->target);
		buf_free(&list);
		buf_free(&res);
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
			buf_free(&out);
			return zerr_set(e, -ENOENT, "destination '%s' does not exist on %s (%s)",
			                j->destination, j->dst->label, e->msg);
		}
		buf_reset(&out);
		gate_seed_argv(GATE_SEED_LIST_SNAPSHOTS, j->destination, argv);
		r = host_run(j->dst, argv, &out, ZFS_OUTPUT_MAX, j->timeout_ms, e);
		if (r == 0)
			r = zfs_names_parse(dl, out.s, out.len, e);
		buf_free(&out);
		return r;
	}
	int r = zfs_list_run(j->dst, NULL, list_types(), ZFS_COL_USERREFS | cols, true,
	                     (const char *const[]){root, NULL}, j->timeout_ms, dl, e);
	if (r == 0 || !strstr(e->msg, "does not exist"))
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

static void *listing_run(void *arg)
{
	struct listing *l = arg;
	if (l->argv.n)
		l->r = host_run(l->h, (const char *const *)l->argv.v, &l->out, ZFS_OUTPUT_MAX,
		                l->timeout_ms, &l->e);
	strvec_clear(&l->argv);
	return NULL;
}

/* Runs both listings at once (one side is always local, so no ssh
 * connection is shared): a run costs the slower of them, not the sum. */
static void listing_both(struct listing *a, struct listing *b)
{
	pthread_t t;
	bool threaded = pthread_create(&t, NULL, listing_run, b) == 0;
	listing_run(a);
	if (threaded)
		pthread_join(t, NULL);
	else
		listing_run(b);
}

/* The snapshot rows (and bookmarks) of names, depth 1, appended to l->out
 * in batches of argv-friendly size; a and b run side by side. */
#define LIST_BATCH 256

static int list_snapshots_of(const struct strvec *an, unsigned acols, struct listing *a,
                             const struct strvec *bn, unsigned bcols, struct listing *b)
{
	for (size_t i = 0; i < an->n || i < bn->n; i += LIST_BATCH) {
		const struct strvec *names[2] = {an, bn};
		struct listing *ls[2] = {a, b};
		unsigned cols[2] = {acols, bcols};
		for (int s = 0; s < 2; s++) {
			if (i >= names[s]->n)
				continue;
			zfs_list_argv(&ls[s]->argv, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, cols[s],
			              false, NULL);
			strvec_pushv(&ls[s]->argv, (const char *const[]){"-d", "1", NULL});
			for (size_t k = i; k < names[s]->n && k < i + LIST_BATCH; k++)
				strvec_push(&ls[s]->argv, names[s]->v[k]);
		}
		listing_both(a, b);
		if (a->r < 0 || b->r < 0)
			return -1;
	}
	return 0;
}

/* Both sides listed at once. With snapshots_changed on both (rn->changed)
 * and a record of the last run, the datasets first, then the snapshots of
 * only those whose snapshots_changed moved on either side since the
 * record; the others go into unchanged. Returns 0, or -1 for anything
 * out of the ordinary (a side without the property, a target tree not
 * made yet, a refused listing): e says it, and the caller lists the
 * careful way. */
static int list_fast(const struct repl_job *j, const struct run *rn, const char *troot,
                     const struct prev_run *pr, struct zfs_list *sl, struct zfs_list *dl,
                     struct strvec *unchanged, struct zerr *e)
{
	unsigned scol = rn->changed ? ZFS_COL_SNAPSHOTS_CHANGED : 0;
	unsigned dcol = ZFS_COL_USERREFS | ZFS_COL_RESUME_TOKEN | scol;
	bool incremental = scol && pr->rec.n_datasets && pr->may_skip;
	unsigned types = incremental ? ZFS_TYPE_DATASET : list_types();
	struct listing a = {j->src, STRVEC_INIT, BUF_INIT, ZERR_INIT, j->timeout_ms, 0};
	struct listing b = {j->dst, STRVEC_INIT, BUF_INIT, ZERR_INIT, j->timeout_ms, 0};
	struct zfs_list sd = {0}, dd = {0};
	struct policy_index di = {0};
	struct strvec cs = STRVEC_INIT, cd = STRVEC_INIT;
	struct buf tname = BUF_INIT;
	struct zerr pe = ZERR_INIT;
	int r = -1;

	zfs_list_argv(&a.argv, types, scol, true, j->datasets);
	zfs_list_argv(&b.argv, types, dcol, true, (const char *const[]){troot, NULL});
	listing_both(&a, &b);
	if (a.r < 0 || b.r < 0)
		goto out;
	if (incremental) {
		if (zfs_list_parse(&sd, a.out.s, a.out.len, scol, &pe) < 0 ||
		    zfs_list_parse(&dd, b.out.s, b.out.len, dcol, &pe) < 0)
			goto out;
		policy_index_build(&di, &dd, NULL);
		for (size_t i = 0; i < sd.n; i++) {
			const struct zfs_obj *o = &sd.v[i];
			buf_reset(&tname);
			target_of(j, o->name, &tname);
			const struct policy_dataset *t = policy_index_find(&di, tname.s);
			const struct record_dataset *p = prev_find(pr, tname.s);
			/* the same two datasets (a rename or a changed layout
			 * may map another onto the target), neither side's
			 * snapshots moved, and the base protected or checked
			 * within a day (a hold or bookmark refused then may be
			 * allowed now) */
			if (p && record_result_ok(p->result) && t && !t->obj->resume_token &&
			    !strcmp(p->source, o->name) && p->src_guid == o->guid &&
			    p->dst_guid == t->obj->guid && o->snapshots_changed != ZFS_NONE &&
			    t->obj->snapshots_changed != ZFS_NONE &&
			    p->src_changed == o->snapshots_changed &&
			    p->dst_changed == t->obj->snapshots_changed &&
			    (p->protected || p->checked + 86400 > rn->listed_at)) {
				strvec_push(unchanged, o->name);
				continue;
			}
			strvec_push(&cs, o->name);
			if (t)
				strvec_push(&cd, tname.s);
		}
		/* overlapping roots list a dataset twice: list its snapshots once */
		strvec_sort_unique(&cs);
		strvec_sort_unique(&cd);
		log_debug("snapshots listed for %zu of %zu datasets (the others unchanged)", cs.n,
		          sd.n);
		if (list_snapshots_of(&cs, scol, &a, &cd, dcol, &b) < 0)
			goto out;
	}
	if (zfs_list_parse(sl, a.out.s, a.out.len, scol, &pe) < 0 ||
	    zfs_list_parse(dl, b.out.s, b.out.len, dcol, &pe) < 0)
		goto out;
	r = 0;
out:
	if (r < 0)
		zerr_set(e, -EIO, "%s", a.r < 0 ? a.e.msg : b.r < 0 ? b.e.msg : pe.msg);
	policy_index_free(&di);
	zfs_list_free(&sd);
	zfs_list_free(&dd);
	strvec_clear(&a.argv);
	strvec_clear(&b.argv);
	strvec_clear(&cs);
	strvec_clear(&cd);
	buf_free(&a.out);
	buf_free(&b.out);
	buf_free(&tname);
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
	x->matched_by_name = d->matched_by_name;
	/* trusted next time only if old enough (see CHANGED_MARGIN) */
	if (d->src_changed != ZFS_NONE && d->dst_changed != ZFS_NONE &&
	    d->src_changed + CHANGED_MARGIN < (uint64_t)rn->listed_at &&
	    d->dst_changed + CHANGED_MARGIN < (uint64_t)rn->listed_at) {
		x->src_changed = d->src_changed;
		x->dst_changed = d->dst_changed;
		x->src_guid = d->src_guid;
		x->dst_guid = d->dst_guid;
		x->checked = d->checked;
		x->protected = d->protected;
	}
	x->last_success = d->last_success;
}

static void write_record(const struct repl_job *j, const struct run *rn,
                         const struct repl_result *res)
{
	if (!j->state_dir || j->dry_run)
		return;
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
	for (size_t i = 0; i < res->n; i++) {
		record_dataset_of(&rec, rn, &res->v[i]);
		if (res->v[i].outcome == REPL_FAILED)
			rec.result = RECORD_RUN_FAILED;
	}
	struct zerr e = ZERR_INIT;
	if (record_write(j->state_dir, &rec, &e) < 0)
		log_warn("cannot write the run record: %s", e.msg);
	record_free(&rec);
}

int repl_record_lock_held(const struct repl_job *j, pid_t pid, time_t at, struct zerr *e)
{
	if (!j->state_dir || j->dry_run)
		return 0;
	return record_note_lock_held(j->state_dir, job_kind(j), j->name, pid, at, e);
}

/* Runs a short zfs command on h; an error whose stderr says `benign` (e.g.
 * "already exists") counts as success. */
static int run_quiet(const struct repl_job *j, const struct host *h, const char *const *argv,
                     const char *benign, struct zerr *e)
{
	struct buf out = BUF_INIT;
	int r = host_run(h, argv, &out, 65536, j->timeout_ms, e);
	buf_free(&out);
	if (r < 0 && benign && strstr(e->msg, benign))
		r = 0;
	return r;
}

/* Keeps the source from losing the next run's base. First a bookmark of
 * the newest replicated snapshot (a base even after the snapshot is
 * pruned), then a hold tagged zkeep:<job> on it, then the job's previous
 * marks go: the hold on the previous base, and each older bookmark of the
 * job together with the hold on its snapshot, and the hold on the base
 * the last run recorded (recorded, a name). That order leaves no stale
 * hold behind a crash: every held snapshot has a bookmark of the job until
 * a later run releases both. bms: the dataset's bookmarks as listed; sd:
 * its snapshots. Failures are warnings: the data on the target is safe
 * either way, only the next run's base is less protected. */
static void protect_base(const struct repl_job *j, struct run *rn, const struct zfs_obj *newest,
                         const struct zfs_obj *prev, const char *recorded,
                         const struct policy_dataset *sd, const struct zfs_obj *const *bms,
                         size_t nbm)
{
	struct zerr e = ZERR_INIT;
	const char *at = strchr(newest->name, '@');
	size_t dslen = (size_t)(at - newest->name);
	struct buf bm = BUF_INIT, snap = BUF_INIT;
	bool marked = false; /* the new bookmark exists: the old ones may go */
	buf_add(&bm, newest->name, dslen);
	buf_addf(&bm, "#%s%s", rn->bmname.s, at + 1);
	if (rn->bookmarks && !rn->bookmark_failed &&
	    zfs_name_check(bm.s, ZFS_TYPE_BOOKMARK, &e) == 0) {
		for (size_t k = 0; k < nbm; k++)
			marked |= !strcmp(bms[k]->name, bm.s);
		if (!marked &&
		    run_quiet(j, j->src,
		              (const char *const[]){"zfs", "bookmark", newest->name, bm.s, NULL},
		              "already exists", &e) < 0) {
			rn->bookmark_failed = true;
			log_info("no bookmarks of the replicated snapshots on %s (%s); allow "
			         "'bookmark' to keep the chain across a prune",
			         j->src->label, e.msg);
		} else {
			marked = true;
		}
	}
	if (!rn->hold_failed &&
	    run_quiet(j, j->src,
	              (const char *const[]){"zfs", "hold", rn->tag.s, newest->name, NULL},
	              "tag already exists", &e) < 0) {
		rn->hold_failed = true;
		log_warn("cannot hold the replicated snapshots on %s (%s); going on without holds",
		         j->src->label, e.msg);
	}
	/* the previous marks: release and destroy, ignoring what is gone */
	if (!rn->hold_failed && prev && prev != newest && prev->type == ZFS_TYPE_SNAPSHOT &&
	    run_quiet(j, j->src,
	              (const char *const[]){"zfs", "release", rn->tag.s, prev->name, NULL},
	              "no such tag", &e) < 0)
		log_warn("cannot release %s from %s: %s", rn->tag.s, prev->name, e.msg);
	/* the base the last record names, when this run's plan started from
	 * another (a resumed transfer finished it): else, with no bookmark
	 * to find it by, its hold would stay for good */
	bool rec_exists = false;
	for (size_t m = 0; recorded && sd && m < sd->snaps.n; m++)
		rec_exists |= !strcmp(sd->snaps.v[m]->name, recorded);
	if (!rn->hold_failed && rec_exists && strcmp(recorded, newest->name) &&
	    (!prev || strcmp(recorded, prev->name)) &&
	    run_quiet(j, j->src, (const char *const[]){"zfs", "release", rn->tag.s, recorded, NULL},
	              "no such tag", &e) < 0)
		log_warn("cannot release %s from %s: %s", rn->tag.s, recorded, e.msg);
	for (size_t k = 0; marked && k < nbm; k++) {
		const char *h = strchr(bms[k]->name, '#') + 1;
		if (strncmp(h, rn->bmname.s, rn->bmname.len) || !strcmp(bms[k]->name, bm.s))
			continue;
		buf_reset(&snap);
		buf_add(&snap, newest->name, dslen);
		buf_addf(&snap, "@%s", h + rn->bmname.len);
		bool exists = false;
		for (size_t m = 0; sd && m < sd->snaps.n; m++)
			exists |= !strcmp(sd->snaps.v[m]->name, snap.s);
		if (exists && !rn->hold_failed && strcmp(snap.s, newest->name) &&
		    run_quiet(j, j->src,
		              (const char *const[]){"zfs", "release", rn->tag.s, snap.s, NULL},
		              "no such tag", &e) < 0)
			log_warn("cannot release %s from %s: %s", rn->tag.s, snap.s, e.msg);
		if (run_quiet(j, j->src,
		              (const char *const[]){"zfs", "destroy", bms[k]->name, NULL},
		              "could not find", &e) < 0)
			log_warn("cannot destroy the old bookmark %s: %s", bms[k]->name, e.msg);
	}
	buf_free(&bm);
	buf_free(&snap);
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
	if (run_quiet(j, j->dst, (const char *const[]){"zfs", "receive", "-A", d->target, NULL},
	              NULL, &ae) < 0) {
		fail_dataset(d, ae.msg);
		return -1;
	}
	return 0;
}

/* A target left with a resume token: finish that transfer first. The token
 * comes from the target, so it is untrusted: it is resumed only if
 * token_check() accepts it for this job (x), else the partial receive is
 * aborted and the dataset sent from its base, with why in the record.
 * Returns 1 when it was resumed (the target's snapshots have changed: list
 * again), 0 when there was nothing to resume or the token was refused or
 * stale and is now aborted (the target is as listed), -1 when the dataset
 * failed. */
static int resume_pending(const struct repl_job *j, const struct run *rn, struct repl_dataset *d,
                          enum zfs_type type, const char *token, const struct token_expect *x)
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
	const struct plan_step step = {NULL, d->target, false}; /* for messages */
	if (transfer(j, rn, d->source, &step, token, d->target, type, false, NULL, &d->bytes, &e) ==
	    0)
		return 1;
	if (!strstr(e.msg, "cannot resume send")) {
		fail_dataset(d, e.msg);
		d->resume_token = read_token(j, d->target);
		return -1;
	}
	/* the sender refuses the token (its snapshot is gone, say): start over */
	log_warn("%s; aborting the partial receive into %s and sending from the base", e.msg,
	         d->target);
	return abort_partial(j, d) < 0 ? -1 : 0;
}

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

/* The job's marks on the source: hold tag zkeep:<job> and bookmark prefix
 * zkeep_<job>_. A pull's job is qualified with this host's short name
 * (zkeep:<job>:<host>): a client pulled by two backup servers, each with
 * the seed's default job name (the client's host name), must not have
 * one server release the other's hold or destroy its bookmarks. A push's
 * source is this host's own pool, where the job name alone is unique. */
static void job_marks(const struct repl_job *j, struct buf *tag, struct buf *bm)
{
	char hn[256] = "";
	if (!j->is_push && (gethostname(hn, sizeof(hn) - 1) < 0 || !hn[0]))
		snprintf(hn, sizeof(hn), "localhost");
	size_t hl = strcspn(hn, ".");
	for (int k = 0; k < 2; k++) {
		struct buf *b = k ? bm : tag;
		buf_adds(b, k ? "zkeep_" : "zkeep:");
		add_mark_part(b, j->name, strlen(j->name), k);
		if (hl) {
			buf_addch(b, ':');
			add_mark_part(b, hn, hl, k);
		}
	}
	buf_addch(bm, '_');
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

int repl_run(const struct repl_job *j, struct repl_result *res)
{
	struct zfs_list sl = {0}, dl = {0};
	struct policy_index si = {0}, di = {0};
	struct policy_snaps all_bm = {0};
	struct strvec made = STRVEC_INIT;
	bool *done = NULL, *skip = NULL;
	struct buf troot = BUF_INIT;
	struct run rn = {false, false, false, false, false, 0, 0, BUF_INIT, BUF_INIT};
	struct prev_run pr;
	struct strvec unchanged = STRVEC_INIT;
	struct strvec plain = STRVEC_INIT; /* push: unencrypted sources */
	struct zerr e = ZERR_INIT;
	int r;

	memset(res, 0, sizeof(*res));
	res->start = time(NULL);
	/* Resume and bookmarks are assumed (OpenZFS >= 0.7) rather than probed,
	 * which would cost a zfs process per side: a target that does not know
	 * receive_resume_token fails its listing and is listed again without,
	 * and a refused bookmark turns bookmarks off for the job. A restricted
	 * remote is asked nothing beyond its five lines. */
	rn.resume = rn.bookmarks = !j->restricted;
	job_marks(j, &rn.tag, &rn.bmname);
	if (j->is_push)
		buf_adds(&troot, j->destination);
	else
		buf_addf(&troot, "%s/%s", j->destination, j->name);
	/* one listing per side, both at once */
	prev_load(j, &pr);
	/* a side without the property stays without it for a day */
	rn.no_changed_since = pr.no_changed_since;
	rn.changed = !j->restricted && !pr.no_changed_since;
	rn.listed_at = time(NULL);
	r = j->restricted ? -1 : list_fast(j, &rn, troot.s, &pr, &sl, &dl, &unchanged, &e);
	if (r < 0 && rn.changed && strstr(e.msg, "invalid property 'snapshots_changed'")) {
		log_debug("no snapshots_changed: %s", e.msg);
		rn.changed = false;
		rn.no_changed_since = time(NULL);
		zfs_list_free(&sl);
		zfs_list_free(&dl);
		strvec_clear(&unchanged);
		e = (struct zerr)ZERR_INIT;
		r = list_fast(j, &rn, troot.s, &pr, &sl, &dl, &unchanged, &e);
	}
	if (r == 0)
		goto listed;
	/* the careful way, one side after the other, with its fallbacks */
	if (!j->restricted)
		log_debug("listing one side after the other: %s", e.msg);
	rn.changed = false;
	zfs_list_free(&sl);
	zfs_list_free(&dl);
	strvec_clear(&unchanged);
	e = (struct zerr)ZERR_INIT;
	if ((r = zfs_list_run(j->src, NULL, list_types(), 0, true, j->datasets, j->timeout_ms, &sl,
	                      &e)) < 0) {
		zerr_prefix(&e, "cannot list the source datasets");
		goto job_failed;
	}
	r = list_target(j, troot.s, rn.resume ? ZFS_COL_RESUME_TOKEN : 0, &dl, &e);
	if (r < 0 && rn.resume && strstr(e.msg, "receive_resume_token")) {
		log_debug("no resumable receives on %s: %s", j->dst->label, e.msg);
		rn.resume = false;
		e = (struct zerr)ZERR_INIT;
		r = list_target(j, troot.s, 0, &dl, &e);
	}
	if (r < 0)
		goto job_failed;
listed:
	if (j->is_push && j->raw && (r = list_unencrypted(j, &plain, &e)) < 0)
		goto job_failed;
	policy_index_build(&si, &sl, NULL);
	policy_index_build(&di, &dl, NULL);
	/* the bookmarks in name order: each dataset's are one run of them */
	for (size_t i = 0; i < sl.n; i++)
		if (sl.v[i].type == ZFS_TYPE_BOOKMARK)
			policy_snaps_push(&all_bm, &sl.v[i]);
	if (all_bm.n)
		qsort(all_bm.v, all_bm.n, sizeof(const struct zfs_obj *), cmp_obj_name);
	/* per source dataset (by its place in si): done, and unchanged */
	done = xcalloc(si.n + 1, sizeof(*done));
	skip = xcalloc(si.n + 1, sizeof(*skip));
	for (size_t i = 0; i < unchanged.n; i++) {
		const struct policy_dataset *u = policy_index_find(&si, unchanged.v[i]);
		if (u)
			skip[u - si.v] = true;
	}

	/* every source dataset, parents first (createtxg order), once (roots
	 * that overlap list some twice) */
	for (size_t i = 0; i < sl.n; i++) {
		const struct zfs_obj *o = &sl.v[i];
		struct policy_dataset *sd =
		    o->type & ZFS_TYPE_DATASET ? policy_index_find(&si, o->name) : NULL;
		if (!sd || done[sd - si.v])
			continue;
		done[sd - si.v] = true;
		struct buf tname = BUF_INIT;
		target_of(j, o->name, &tname);
		struct repl_dataset *d = add_dataset(res, o->name, tname.s);
		if (strvec_has(&plain, o->name)) {
			if (!j->allow_unencrypted) {
				struct buf m = BUF_INIT;
				buf_addf(
				    &m,
				    "'%s' is not encrypted: a raw push would send it in plaintext "
				    "to %s (encrypt it, or set allow_unencrypted = yes in its "
				    "[push] section)",
				    o->name, j->dst->label);
				fail_dataset(d, m.s);
				buf_free(&m);
				d->end = time(NULL);
				buf_free(&tname);
				continue;
			}
			log_warn(
			    "%s is not encrypted: pushed in plaintext to %s (allow_unencrypted)",
			    o->name, j->dst->label);
		}
		struct policy_dataset *dd = policy_index_find(&di, tname.s);
		const struct zfs_obj *tobj = dd ? dd->obj : NULL;
		const struct record_dataset *pd = skip[sd - si.v] ? prev_find(&pr, tname.s) : NULL;
		if (pd && tobj) {
			/* neither side's snapshots moved since the record said
			 * up to date: it still is, and its newest is the same */
			d->outcome = REPL_UP_TO_DATE;
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
			log_info("Up to date: %s", tname.s);
			d->end = time(NULL);
			carry_over(d, pd);
			buf_free(&tname);
			continue;
		}
		/* this dataset's bookmarks, from the one list of all of them */
		const struct zfs_obj **bms = NULL;
		size_t nbm = 0, abm = 0, olen = strlen(o->name);
		for (size_t k = first_bookmark(&all_bm, o->name);
		     k < all_bm.n && !strncmp(all_bm.v[k]->name, o->name, olen) &&
		     all_bm.v[k]->name[olen] == '#';
		     k++) {
			bms = xgrow(bms, &abm, nbm + 1, sizeof(const struct zfs_obj *));
			bms[nbm++] = all_bm.v[k];
		}
		struct zfs_list rl = {0}; /* the target again, after a resume */
		struct policy_index ri = {0};
		struct leaf_take leaf = {0}; /* an empty leaf taken over (leaf.h) */
		const struct token_expect tx = {
		    .dataset = o->name,
		    .snaps = sd ? (const struct zfs_obj *const *)sd->snaps.v : NULL,
		    .n_snaps = sd ? sd->snaps.n : 0,
		    .marks = (const struct zfs_obj *const *)bms,
		    .n_marks = nbm,
		    .target_newest_guid =
		        dd && dd->snaps.n ? dd->snaps.v[dd->snaps.n - 1]->guid : 0,
		    .raw = j->raw};
		int rs = resume_pending(j, &rn, d, o->type, tobj ? tobj->resume_token : NULL, &tx);
		if (rs > 0) {
			if (zfs_list_run(j->dst, NULL, list_types(), ZFS_COL_USERREFS, true,
			                 (const char *const[]){tname.s, NULL}, j->timeout_ms, &rl,
			                 &e) < 0) {
				fail_dataset(d, e.msg);
				rs = -1;
			} else {
				policy_index_build(&ri, &rl, NULL);
				dd = policy_index_find(&ri, tname.s);
			}
		}
		struct plan_input in = {sd ? sd->snaps.v : NULL,
		                        sd ? sd->snaps.n : 0,
		                        bms,
		                        nbm,
		                        dd ? dd->snaps.v : NULL,
		                        dd ? dd->snaps.n : 0,
		                        j->restricted,
		                        j->full_newest,
		                        j->force};
		struct plan p;
		plan_make(&in, &p);
		/* the newest source snapshot the target received in this run */
		const struct zfs_obj *got = NULL;
		d->matched_by_name = p.matched_by_name;
		if (rs < 0) {
			/* failed above: the error is said */
		} else if (p.kind == PLAN_UP_TO_DATE) {
			d->outcome = rs > 0 ? REPL_OK : REPL_UP_TO_DATE;
			if (rs == 0 && tobj) {
				d->src_changed = o->snapshots_changed;
				d->dst_changed = tobj->snapshots_changed;
				d->src_guid = o->guid;
				d->dst_guid = tobj->guid;
				d->checked = rn.listed_at;
			}
			log_info("Up to date: %s", tname.s);
		} else if (p.kind == PLAN_NO_SNAPSHOT) {
			d->outcome = REPL_SKIPPED;
			log_warn("%s: no snapshot to send, skipped", o->name);
		} else if (p.kind == PLAN_DIVERGED) {
			fail_dataset(d, p.reason);
		} else if (make_parents(j, tname.s, &di, res, &made, &e) < 0 ||
		           /* a first full receive into a pull target that exists
		            * without snapshots: the seed role's empty leaf */
		           (p.n_steps && !p.steps[0].from && tobj && !(dd && dd->snaps.n) &&
		            !j->is_push && o->type == ZFS_TYPE_FILESYSTEM &&
		            leaf_take(j->dst, tname.s, j->raw, j->dry_run, j->timeout_ms, &leaf,
		                      &e) < 0)) {
			fail_dataset(d, e.msg);
		} else {
			struct plan_step *split = xcalloc(in.n_src + 1, sizeof(*split));
			for (size_t k = 0; k < p.n_steps && d->outcome != REPL_FAILED; k++) {
				const struct plan_step *s = &p.steps[k];
				if (s->from)
					log_info("Incremental send %s -> %s into %s", s->from,
					         s->to, tname.s);
				else
					log_info("Full send of %s into %s", s->to, tname.s);
				if (j->dry_run)
					continue;
				/* a client is not trusted with -I (stream.h): one -i
				 * per snapshot, each stream checked on its own */
				size_t ns = 1;
				if (!host_is_local(j->src) && s->intermediates) {
					ns = plan_split(&in, s, split);
					s = split;
				}
				for (size_t m = 0; m < ns && d->outcome != REPL_FAILED; m++) {
					if (ns > 1)
						log_debug("send -i %s %s", s[m].from, s[m].to);
					bool first = k == 0 && m == 0;
					if (transfer(j, &rn, d->source, &s[m], NULL, tname.s,
					             o->type, first && (p.rollback || leaf.force),
					             first ? &leaf.recv_opts : NULL, &d->bytes,
					             &e) < 0) {
						fail_dataset(d, e.msg);
						if (rn.resume)
							d->resume_token = read_token(j, tname.s);
						/* the leaf it replaced, unless the receive left a
						 * partial one to resume */
						struct zerr le = ZERR_INIT;
						if (first && leaf.destroyed && !d->resume_token &&
						    leaf_restore(j->dst, tname.s, &leaf,
						                 j->timeout_ms, &le) < 0)
							log_error(
							    "cannot make the empty %s again: %s",
							    tname.s, le.msg);
					} else {
						got = source_snapshot(sd, s[m].to);
					}
				}
			}
			free(split);
			if (d->outcome != REPL_FAILED)
				d->outcome = REPL_OK;
		}
		if (j->dry_run && tobj && tobj->resume_token)
			d->resume_token = xstrdup(tobj->resume_token);
		/* the newest snapshot the target has now: after a transfer that
		 * failed part way, the last one it received, which becomes the
		 * protected base (a client that prunes it before the next run
		 * must not leave the target looking diverged) */
		const struct zfs_obj *newest = NULL;
		if (d->outcome == REPL_OK && sd && sd->snaps.n)
			newest = sd->snaps.v[sd->snaps.n - 1];
		else if (d->outcome == REPL_UP_TO_DATE && p.base_src)
			newest = p.base_src;
		else if (d->outcome == REPL_FAILED && got)
			newest = got;
		if (newest) {
			d->newest = xstrdup(newest->name);
			d->newest_guid = newest->guid;
			d->newest_creation = newest->creation;
		}
		/* protect the next run's base: after a transfer, or when an up to
		 * date dataset has no bookmark of the job yet (a target another
		 * tool made, say) */
		bool marked = false;
		for (size_t k = 0; newest && k < nbm; k++)
			marked |=
			    bms[k]->guid == newest->guid &&
			    !strncmp(strchr(bms[k]->name, '#') + 1, rn.bmname.s, rn.bmname.len);
		if (newest && !j->restricted && !j->dry_run && newest->type == ZFS_TYPE_SNAPSHOT &&
		    (d->outcome == REPL_OK || got ||
		     (rn.bookmarks && !rn.bookmark_failed && !marked))) {
			const struct record_dataset *rec = prev_find(&pr, tname.s);
			protect_base(j, &rn, newest, p.base_src, rec ? rec->newest : NULL, sd, bms,
			             nbm);
		}
		/* the next run's base has the job's bookmark and hold (an up to
		 * date dataset skipped later relies on it) */
		d->protected = !j->restricted && (marked || rn.bookmarks) && !rn.bookmark_failed &&
		               !rn.hold_failed;
		free(bms);
		if (j->keep && !j->restricted && !j->dry_run &&
		    (d->outcome == REPL_OK || d->outcome == REPL_UP_TO_DATE))
			prune_target(j, d, &in, &p);
		d->end = time(NULL);
		carry_over(d, prev_find(&pr, tname.s));
		policy_index_free(&ri);
		zfs_list_free(&rl);
		leaf_take_free(&leaf);
		buf_free(&tname);
	}
	r = 0;
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i].outcome == REPL_FAILED)
			r = -EIO;
	goto done;
job_failed:
	res->error = xstrdup(e.msg);
	log_error("%s", e.msg);
	/* every dataset of the last run failed with the job, so the record
	 * (and the backup metrics made from it) keeps them, with their last
	 * success, rather than forgetting them */
	for (size_t i = 0; i < pr.rec.n_datasets; i++) {
		const struct record_dataset *p = pr.rec.by_target[i];
		struct repl_dataset *d = add_dataset(res, p->source, p->target);
		d->outcome = REPL_FAILED;
		d->error = xstrdup(e.msg);
		d->end = time(NULL);
		if (p->resume_token) /* still pending on the target */
			d->resume_token = xstrdup(p->resume_token);
		carry_over(d, p);
	}
done:
	res->end = time(NULL);
	write_record(j, &rn, res);
	policy_index_free(&si);
	policy_index_free(&di);
	policy_snaps_free(&all_bm);
	zfs_list_free(&sl);
	zfs_list_free(&dl);
	strvec_clear(&made);
	free(done);
	free(skip);
	strvec_clear(&unchanged);
	strvec_clear(&plain);
	prev_free(&pr);
	buf_free(&troot);
	buf_free(&rn.tag);
	buf_free(&rn.bmname);
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
	}
	free(res->v);
	free(res->error);
	memset(res, 0, sizeof(*res));
}
