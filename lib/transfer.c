/*
 * One send | relay | receive (transfer.h): the command lines of both
 * sides, the progress line, and which side to blame when it fails.
 */
#include "transfer.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gate.h"
#include "log.h"
#include "relay.h"
#include "stream.h"
#include "banned.h"

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

static int head_check(void *arg, const unsigned char *head, size_t len, struct zerr *e)
{
	const struct progress *pg = arg;
	return stream_head_check(head, len, pg->source, pg->one_snapshot, e);
}

/* The size of the stream sargv (zfs send ...) will make, from the same
 * send with -n -v -P: its last "size" line. 0 when zfs does not say; only
 * a progress line depends on it. The flags go as separate words because
 * that is the form a gated key accepts (lib/gate.c match_send); -nvP was
 * refused there, so a pull through a gate had no estimate. */
static uint64_t send_estimate(const struct transfer *t, const struct strvec *sargv)
{
	struct strvec argv = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct zerr e = ZERR_INIT;
	uint64_t size = 0;
	strvec_pushv(&argv, (const char *const[]){"zfs", "send", "-n", "-v", "-P", NULL});
	for (size_t i = 2; i < sargv->n; i++)
		strvec_push(&argv, sargv->v[i]);
	if (host_run(t->src, (const char *const *)argv.v, &out, 65536, t->timeout_ms, &e) == 0) {
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

static void send_argv(const struct transfer *t, struct strvec *v)
{
	strvec_pushv(v, (const char *const[]){"zfs", "send", NULL});
	/* With a token too: the token carries the first send's flags, but it
	 * comes from the target. -w is ours to give (libzfs ORs it with the
	 * token's), so a token without rawok cannot make a raw job send
	 * plaintext; the caller has checked the rest (token_check). */
	if (t->raw)
		strvec_push(v, "-w");
	/* a resumed send takes these from the token, which the first send
	 * made with the flags it had */
	if (!t->raw && !t->token) {
		if (t->wire & TRANSFER_WIRE_COMPRESSED)
			strvec_push(v, "-c");
		if (t->wire & TRANSFER_WIRE_LARGE)
			strvec_push(v, "-L");
		if (t->wire & TRANSFER_WIRE_EMBEDDED)
			strvec_push(v, "-e");
	}
	if (t->token) {
		strvec_pushv(v, (const char *const[]){"-t", t->token, NULL});
		return;
	}
	if (t->from) {
		strvec_push(v, t->intermediates ? "-I" : "-i");
		strvec_push(v, t->from);
	}
	strvec_push(v, t->to);
}

/* The flags both c1 and c2 (either may be NULL: not known) support. */
static unsigned wire_of(const struct zfs_caps *c1, const struct zfs_caps *c2)
{
	if (!c1 || !c2)
		return 0;
	return (c1->send_compressed && c2->send_compressed ? TRANSFER_WIRE_COMPRESSED : 0) |
	       (c1->send_large_blocks && c2->send_large_blocks ? TRANSFER_WIRE_LARGE : 0) |
	       (c1->send_embedded && c2->send_embedded ? TRANSFER_WIRE_EMBEDDED : 0);
}

/* Why one side cannot take -L, into out; nothing when it can. */
static void wire_lacks(struct buf *out, const char *side, const char *label, const char *why,
                       const struct zfs_caps *c, const char *what)
{
	if (c && c->send_large_blocks)
		return;
	if (out->len)
		buf_adds(out, "; ");
	if (c)
		buf_addf(out, "the %s %s runs OpenZFS %d.%d.%d, which cannot %s -L", side, label,
		         c->major, c->minor, c->patch, what);
	else
		buf_addf(out, "the %s %s's OpenZFS is not known (%s)", side, label,
		         why ? why : "not asked");
}

int transfer_wire(const struct transfer_wire_in *in, const char *target, unsigned *flags,
                  struct zerr *e)
{
	*flags = 0;
	if (in->raw) /* -w sends blocks as stored: -L -e -c implied */
		return 0;
	const struct zpool_features *pf = in->dst_pool;
	if (!in->restricted && pf) {
		*flags = wire_of(in->src, in->dst);
		if (!pf->lz4 || !pf->zstd)
			*flags &= ~(unsigned)TRANSFER_WIRE_COMPRESSED;
		if (!pf->embedded || pf->encryption_active)
			*flags &= ~(unsigned)TRANSFER_WIRE_EMBEDDED;
		if (!pf->large || !(in->full || in->large_before))
			*flags &= ~(unsigned)TRANSFER_WIRE_LARGE;
	}
	if (!in->large_before || (*flags & TRANSFER_WIRE_LARGE))
		return 0;
	struct buf why = BUF_INIT;
	if (in->restricted) {
		buf_addf(&why,
		         "%s takes the seed's command lines only, which do not say its OpenZFS",
		         in->dst_label);
	} else {
		wire_lacks(&why, "source", in->src_label, in->src_why, in->src, "send");
		wire_lacks(&why, "target", in->dst_label, in->dst_why, in->dst, "receive");
		if (!pf)
			buf_addf(&why, "%sthe target pool's features are not known (%s)",
			         why.len ? "; " : "", in->pool_why ? in->pool_why : "not asked");
		else if (!pf->large)
			buf_addf(&why, "%sthe target pool has no feature@large_blocks",
			         why.len ? "; " : "");
	}
	int r = zerr_set(e, -EOPNOTSUPP,
	                 "not sending into '%s' without -L: zkeep sent it large-block streams "
	                 "(-L) before, and zfs refuses an incremental without -L after one; "
	                 "but %s. Make both hosts' 'zfs version' answer with OpenZFS 2.0 or "
	                 "later, or destroy '%s' for a fresh full receive",
	                 target, why.s, target);
	buf_free(&why);
	return r;
}

static void receive_argv(const struct transfer *t, struct strvec *v)
{
	if (t->restricted) { /* the only receive the seed's remote accepts */
		strvec_pushv(v, gate_seed_lines[GATE_SEED_RECEIVE]);
	} else {
		/* The sender chooses the stream's properties: a hostile client
		 * can send mountpoint=/etc. The target keeps its own mountpoint
		 * and never mounts at boot (canmount applies to filesystems). */
		strvec_pushv(
		    v, (const char *const[]){"zfs", "receive", "-u", "-x", "mountpoint", NULL});
		if (t->type == ZFS_TYPE_FILESYSTEM)
			strvec_pushv(v, (const char *const[]){"-o", "canmount=noauto", NULL});
	}
	for (size_t i = 0; t->recv_opts && i < t->recv_opts->n; i++)
		strvec_push(v, t->recv_opts->v[i]);
	if (t->rollback && !t->restricted)
		strvec_push(v, "-F");
	if (t->resumable && !t->restricted) /* an interruption leaves a token */
		strvec_push(v, "-s");
	strvec_push(v, t->target);
}

enum transfer_blame transfer_blame(const struct proc_status *snd, const struct proc_status *rcv,
                                   int relay_r)
{
	/* the stream was refused (or ended inside its first record while the
	 * sender said all was well): nothing was received */
	if (relay_r == -EBADMSG || (relay_r == -ENODATA && snd->code == 0 && !snd->signal))
		return BLAME_STREAM;
	/* The receiver's error comes first, unless the sender failed on its
	 * own: not of the broken pipe the receiver left, nor killed after the
	 * relay gave up, nor after the receiver closed the stream and failed
	 * (then ssh's exit is the echo). Then the receiver's "failed to read
	 * from stream" is only the echo of the sender's failure. */
	if (snd->code != 0 && snd->signal != SIGPIPE && !(snd->signal && relay_r < 0) &&
	    !(relay_r == -EPIPE && rcv->code != 0))
		return BLAME_SENDER;
	if (rcv->code != 0)
		return BLAME_RECEIVER;
	if (snd->code != 0)
		return BLAME_SENDER;
	return relay_r < 0 ? BLAME_RELAY : BLAME_NONE;
}

/* A side's stderr (captured in f): its whole text, for zfs_err_kind, and
 * the line that says what failed; its exit status for people, naming a
 * lost ssh connection as such. */
struct side {
	struct buf text;
	char line[512], status[320];
};

static void side_read(struct side *sd, FILE *f, const struct proc_status *st, const struct host *h)
{
	char chunk[4096];
	size_t n;
	rewind(f);
	/* the first 64 KiB is plenty to find what zfs said */
	while (sd->text.len < 65536 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&sd->text, chunk, n);
	host_err_line(sd->text.s, sd->line, sizeof(sd->line));
	proc_status_str(st, sd->status, sizeof(sd->status));
	/* ssh's own exit code: the connection, not zfs, went away */
	if (!host_is_local(h) && st->code == 255 && !st->signal)
		snprintf(sd->status, sizeof(sd->status), "lost its ssh connection to %s", h->label);
}

/* The error for a transfer that ended as snd/rcv/relay_r say. */
static int transfer_error(const struct transfer *t, const char *lbl, FILE *serr, FILE *rerr,
                          const struct proc_status *ss, const struct proc_status *rs, int rr,
                          const struct zerr *re, struct zerr *e)
{
	struct side s = {BUF_INIT, "", ""}, r = {BUF_INIT, "", ""};
	int ret = 0;
	side_read(&s, serr, ss, t->src);
	side_read(&r, rerr, rs, t->dst);
	enum zfs_err rkind = zfs_err_kind(r.text.s);
	switch (transfer_blame(ss, rs, rr)) {
	case BLAME_STREAM:
		ret = zerr_set(e, rr, "%s refused: %s", lbl, re->msg);
		break;
	case BLAME_SENDER:
		ret = zerr_set(e, -EIO, "%s %s%s%s%s%s", lbl, s.status, *s.line ? ": " : "", s.line,
		               rs->code ? "; receive: " : "", rs->code ? r.line : "");
		e->kind = (int)zfs_err_kind(s.text.s);
		break;
	case BLAME_RECEIVER:
		if (t->restricted && rkind == ZFS_ERR_PARTIAL_RECEIVE)
			/* the seed's allowlist has no receive -A: only its operator can */
			ret =
			    zerr_set(e, -EIO,
			             "'%s' on %s holds a partial receive (%s), which zkeep cannot "
			             "clear through the seed's five command lines: run 'zfs "
			             "receive -A %s' on that host, then push again",
			             t->target, t->dst->label, r.line, t->target);
		else
			ret = zerr_set(e, -EIO, "receive into '%s' %s%s%s", t->target, r.status,
			               *r.line ? ": " : "", r.line);
		e->kind = (int)rkind;
		break;
	case BLAME_RELAY:
		ret = zerr_set(e, rr, "%s", re->msg);
		break;
	case BLAME_NONE:
		break;
	}
	buf_free(&s.text);
	buf_free(&r.text);
	return ret;
}

/* Starts the receiver, then the sender, with their stderr in the files. */
static int start_both(const struct transfer *t, const struct strvec *sargv,
                      const struct strvec *rargv, struct proc *snd, struct proc *rcv, FILE *serr,
                      FILE *rerr, struct zerr *e)
{
	int r;
	if ((r = host_command(t->src, (const char *const *)sargv->v, snd, e)) < 0 ||
	    (r = host_command(t->dst, (const char *const *)rargv->v, rcv, e)) < 0)
		return r;
	rcv->in = PROC_IO_PIPE;
	rcv->out = PROC_IO_NULL;
	rcv->err = PROC_IO_FD;
	rcv->err_fd = fileno(rerr);
	snd->in = PROC_IO_NULL;
	snd->out = PROC_IO_PIPE;
	snd->err = PROC_IO_FD;
	snd->err_fd = fileno(serr);
	if ((r = proc_start(rcv, e)) < 0)
		return r;
	if ((r = proc_start(snd, e)) < 0) {
		proc_kill(rcv, SIGTERM);
		struct proc_status ignored;
		proc_wait(rcv, 10000, &ignored, NULL);
	}
	return r;
}

int transfer_run(const struct transfer *t, uint64_t *bytes, struct zerr *e)
{
	struct strvec sargv = STRVEC_INIT, rargv = STRVEC_INIT;
	struct proc snd, rcv;
	FILE *serr = tmpfile(), *rerr = tmpfile();
	struct relay_stats st = {0};
	struct zerr re = ZERR_INIT;
	struct buf lbl = BUF_INIT;
	int r;

	proc_init(&snd);
	proc_init(&rcv);
	buf_addf(&lbl, t->token ? "resumed send into '%s'" : "send of '%s'", t->to);
	send_argv(t, &sargv);
	receive_argv(t, &rargv);
	if (!serr || !rerr) {
		r = zerr_set(e, -errno, "cannot make a temporary file: %s", strerror(errno));
		goto out;
	}
	if ((r = start_both(t, &sargv, &rargv, &snd, &rcv, serr, rerr, e)) < 0)
		goto out;
	struct progress pg = {t->to, t->progress ? send_estimate(t, &sargv) : 0, t->source,
	                      !host_is_local(t->src)};
	struct relay_opts ro = {t->bwlimit,
	                        t->stall_timeout_ms,
	                        t->progress ? 1000 : 0,
	                        t->progress ? show_progress : NULL,
	                        &pg,
	                        STREAM_HEAD_LEN,
	                        head_check};
	int rr = relay_run(snd.out_fd, rcv.in_fd, &ro, &st, &re);
	if (t->progress)
		fputc('\n', stderr);
	*bytes += st.bytes;
	log_debug("relayed %" PRIu64 " bytes in %.2f s (%s, %" PRIu64 " moves, cpu %.3f s)",
	          st.bytes, st.seconds, st.spliced ? "splice" : "read/write", st.moves, st.cpu);
	if (rr < 0) /* the stream is broken: the sender must not hang on */
		proc_kill(&snd, SIGTERM);
	struct proc_status ss, rs;
	/* closing our pipe ends gives the receiver its EOF */
	proc_wait(&rcv, t->timeout_ms, &rs, NULL);
	proc_wait(&snd, t->timeout_ms, &ss, NULL);
	r = transfer_error(t, lbl.s, serr, rerr, &ss, &rs, rr, &re, e);
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
