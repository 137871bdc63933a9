/*
 * Pull and push jobs run, one or several at a time, and the signals that
 * end them (jobs.h).
 */
#include "jobs.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "lock.h"
#include "log.h"
#include "notify.h"
#include "replicate.h"
#include "xalloc.h"
#include "banned.h"

/* The lock held right now, for the signal handler. */
static struct lock held = LOCK_INIT;
/* The job processes running now (0: a free slot). */
static volatile pid_t workers[JOBS_MAX];
/* The lock key of each running job process. */
static const char *worker_lock[JOBS_MAX];

static void on_signal(int sig)
{
	/* async-signal-safe: pass the signal on to the job processes, unlink +
	 * close our lock, then leave; the zfs children see their pipes break
	 * and the receive is abandoned (or left resumable), never half-applied */
	for (int i = 0; i < JOBS_MAX; i++)
		if (workers[i] > 0)
			kill(workers[i], sig);
	lock_drop(&held); // NOLINT(bugprone-signal-handler): async-signal-safe (lock.h)
	_exit(1);
}

/* The remote host of js, with one ssh connection for the job's many short
 * calls (listing, holds, bookmarks) in a private directory: without one,
 * each call pays a full ssh handshake. */
static int remote_init(struct host *remote, const struct job_spec *js, struct zerr *e)
{
	if (host_init_ssh(remote, js->user, js->host, js->port, e) < 0)
		return -EINVAL;
	if (js->identity)
		remote->identity = xstrdup(js->identity);
	for (size_t i = 0; js->ssh_options && i < js->ssh_options->n; i++)
		strvec_push(&remote->ssh_opts, js->ssh_options->v[i]);
	remote->exact = js->restricted;
	char cdir[] = "/tmp/zkeep-ssh-XXXXXX";
	if (mkdtemp(cdir))
		remote->control_dir = xstrdup(cdir);
	else
		log_debug("no ssh connection sharing: cannot make %s: %s", cdir, strerror(errno));
	return 0;
}

/* Ends the shared connection and removes its directory: the master
 * removes its socket on exit, a killed one may not. */
static void remote_end(struct host *remote)
{
	host_disconnect(remote);
	if (remote->control_dir) {
		struct buf sock = BUF_INIT;
		DIR *dir = opendir(remote->control_dir);
		for (struct dirent *de; dir && (de = readdir(dir));) {
			if (de->d_name[0] == '.')
				continue;
			buf_reset(&sock);
			buf_addf(&sock, "%s/%s", remote->control_dir, de->d_name);
			unlink(sock.s);
		}
		if (dir)
			closedir(dir);
		rmdir(remote->control_dir);
		buf_free(&sock);
	}
	host_free(remote);
}

/* Takes the job's lock on the seed's path. Returns 0 when taken, 1 when
 * another run holds it (said on stderr, and noted in the run record when
 * that is a seed job: the seed's later behaviour, exit 0), -1 on error. */
static int take_lock(const struct jobs_opts *o, const struct job_spec *js, const char *state_dir,
                     struct buf *lpath)
{
	struct zerr e = ZERR_INIT;
	struct lock_holder holder;
	lock_path(lpath, o->lock_dir, o->push ? "push" : "pull", js->lock);
	int r = lock_acquire(&held, lpath->s, o->wait_s, &holder, &e);
	if (r == -EWOULDBLOCK || r == -ETIMEDOUT) {
		log_error("%s; lock %s", e.msg, lpath->s);
		if (holder.seed) {
			struct repl_job hj = {.name = js->name,
			                      .is_push = o->push,
			                      .state_dir = state_dir,
			                      .dry_run = o->dry_run};
			struct zerr he = ZERR_INIT;
			if (repl_record_lock_held(&hj, holder.pid, time(NULL), &he) < 0)
				log_warn("%s", he.msg);
		}
		return 1;
	}
	if (r < 0) {
		log_error("%s", e.msg);
		return -1;
	}
	return 0;
}

/* The run's last line: what was done, or what failed; also into body, as
 * "<kind> <job>: <that line>" and a line per failed dataset (the
 * healthcheck's body). */
static void summary(const struct jobs_opts *o, const struct job_spec *js, const struct host *remote,
                    const struct repl_result *res, int r, struct buf *body)
{
	size_t ok = 0, failed = 0, n[4] = {0, 0, 0, 0};
	struct buf line = BUF_INIT;
	for (size_t i = 0; i < res->n; i++) {
		res->v[i].outcome == REPL_FAILED ? failed++ : ok++;
		n[res->v[i].outcome]++;
	}
	if (r == 0)
		buf_addf(&line, "Done: %zu dataset(s) replicated, %zu up to date, %zu skipped",
		         n[REPL_OK], n[REPL_UP_TO_DATE], n[REPL_SKIPPED]);
	else if (res->error)
		buf_addf(&line, "%s %s failed: %s", o->push ? "push to" : "pull from",
		         remote->label, res->error);
	else
		buf_addf(&line, "%s %s: %zu dataset(s) failed, %zu fine",
		         o->push ? "push to" : "pull from", remote->label, failed, ok);
	if (r == 0)
		log_info("%s", line.s);
	else
		log_error("%s", line.s);
	buf_addf(body, "%s %s: %s\n", o->push ? "push" : "pull", js->name, line.s);
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i].outcome == REPL_FAILED)
			buf_addf(body, "%s -> %s: %s\n", res->v[i].source, res->v[i].target,
			         res->v[i].error ? res->v[i].error : "failed");
	buf_free(&line);
}

/* Whether the job has anything to notify. */
static bool notifies(const struct job_spec *js)
{
	const struct zk_notify_cfg *c = js->notify;
	return c && (c->healthcheck_url || c->webhook_url || c->on_success || c->on_failure);
}

/* The run's notifications (lib/notify), their results written into its
 * record again. Never changes how the run went. */
static void notify_end(const struct jobs_opts *o, const struct job_spec *js, const char *state_dir,
                       struct notify_start *ns, const struct repl_result *res, bool ok,
                       const char *body)
{
	if (!res->record) { /* none made: only the check can be told */
		notify_ping_end(ns, ok, body);
		return;
	}
	struct buf path = BUF_INIT;
	struct zerr e = ZERR_INIT;
	if (state_dir)
		record_path(&path, state_dir, o->push ? RECORD_PUSH : RECORD_PULL, js->name);
	struct notify_run n = {
	    .cfg = js->notify, .summary = body, .record_path = state_dir ? path.s : NULL};
	notify_run_end(ns, &n, res->record);
	if (state_dir && record_write(state_dir, res->record, &e) < 0)
		log_warn("cannot write the run record: %s", e.msg);
	buf_free(&path);
}

/* The pull's state to MQTT, after its run (struct jobs_mqtt). */
static void publish_state(const struct jobs_opts *o, const struct job_spec *js,
                          const struct host *local, const struct repl_result *res, bool ok)
{
	const struct jobs_mqtt *m = o->mqtt;
	if (!ok && !m->on_failure) {
		log_debug("no MQTT state: the pull did not succeed");
		return;
	}
	if (o->dry_run) {
		log_info("dry run: no MQTT state published to %s", m->broker.host);
		return;
	}
	struct strvec failed = STRVEC_INIT;
	struct buf base = BUF_INIT;
	struct zerr e = ZERR_INIT;
	for (size_t i = 0; i < res->n; i++)
		if (res->v[i].outcome == REPL_FAILED)
			strvec_push(&failed, res->v[i].source);
	buf_addf(&base, "%s/%s", js->destination, js->name);
	struct mqtt_pull p = {.name = m->name ? m->name : js->name,
	                      .topic_prefix = m->topic_prefix,
	                      .base = base.s,
	                      .run_ok = ok,
	                      .failed = &failed,
	                      .snap_prefix = o->prefix,
	                      .now = time(NULL)};
	if (mqtt_pull_publish(&m->broker, &p, local, js->datasets, o->zfs_timeout_s * 1000, &e) < 0)
		log_error("MQTT state of %s not published: %s", p.name, e.msg);
	else
		log_debug("MQTT state of %s published to %s:%d", p.name, m->broker.host,
		          m->broker.port);
	strvec_clear(&failed);
	buf_free(&base);
}

/* One job, here: its host, its lock, the replication, its summary. */
static enum jobs_result run_job(const struct jobs_opts *o, const struct job_spec *js)
{
	struct host remote, local;
	struct zerr e = ZERR_INIT;
	struct buf lpath = BUF_INIT;
	struct repl_result res;
	enum jobs_result ret = JOBS_FAILED;

	host_init_local(&local);
	if (remote_init(&remote, js, &e) < 0) {
		log_error("%s", e.msg);
		host_free(&remote);
		host_free(&local);
		return JOBS_USAGE;
	}
	/* run records (and a skip for a seed job's lock) only where writable */
	const char *state_dir = o->state_dir;
	if (state_dir && access(state_dir, W_OK) < 0) {
		log_debug("no run record: cannot write to %s", state_dir);
		state_dir = NULL;
	}
	int r = take_lock(o, js, state_dir, &lpath);
	if (r != 0) {
		ret = r > 0 ? JOBS_OK : JOBS_FAILED;
		goto out;
	}
	struct repl_job j = {
	    .name = js->name,
	    .is_push = o->push,
	    .src = o->push ? &local : &remote,
	    .dst = o->push ? &remote : &local,
	    .datasets = (const char *const *)js->datasets->v,
	    .destination = js->destination,
	    .strip_prefix = js->strip,
	    .raw = o->push, /* the offsite host never sees keys */
	    .restricted = js->restricted,
	    .allow_unencrypted = js->allow_unencrypted,
	    .force = o->force,
	    .full_newest = o->full_newest,
	    .dry_run = o->dry_run,
	    .bwlimit = js->bwlimit,
	    .stall_timeout_ms = o->stall_s * 1000,
	    .timeout_ms = o->zfs_timeout_s * 1000,
	    .progress = o->progress,
	    .parallel = o->parallel ? o->parallel : js->parallel,
	    .state_dir = state_dir,
	    .keep = js->keep,
	    .prefix = o->prefix,
	};
	if (o->push)
		log_info("Pushing %zu dataset(s) to %s:%s%s", js->datasets->n, remote.label,
		         js->destination, js->restricted ? " (restricted)" : "");
	else
		log_info("Pulling %zu dataset(s) from %s into %s/%s", js->datasets->n, remote.label,
		         js->destination, js->name);
	/* a dry run tells no one */
	struct notify_start *ns =
	    notifies(js) && !o->dry_run ? notify_start(js->notify->healthcheck_url) : NULL;
	r = repl_run(&j, &res);
	struct buf body = BUF_INIT;
	summary(o, js, &remote, &res, r, &body);
	if (notifies(js) && !o->dry_run)
		notify_end(o, js, state_dir, ns, &res, r == 0, body.s);
	buf_free(&body);
	ret = r == 0 ? JOBS_OK : JOBS_FAILED;
	if (o->mqtt && !o->push)
		publish_state(o, js, &local, &res, r == 0);
	repl_result_free(&res);
	lock_release(&held);
out:
	remote_end(&remote);
	host_free(&local);
	buf_free(&lpath);
	return ret;
}

/* Folds one job's result into the run's: a usage error wins, then any
 * failure. */
static enum jobs_result fold(enum jobs_result ret, enum jobs_result r)
{
	return ret == JOBS_USAGE || r == JOBS_OK ? ret : r;
}

/* Waits for one job process to end; frees its slot. A child that is not a
 * job process is reaped and not counted. */
static enum jobs_result reap_one(enum jobs_result ret)
{
	for (;;) {
		int st;
		pid_t pid = wait(&st);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0) { /* no children left: no slot is running */
			for (int i = 0; i < JOBS_MAX; i++)
				workers[i] = 0;
			return fold(ret, JOBS_FAILED);
		}
		for (int i = 0; i < JOBS_MAX; i++)
			if (workers[i] == pid) {
				workers[i] = 0;
				/* a job process exits with its enum jobs_result */
				return fold(ret, WIFEXITED(st) && WEXITSTATUS(st) <= JOBS_USAGE
				                     ? (enum jobs_result)WEXITSTATUS(st)
				                     : JOBS_FAILED);
			}
	}
}

/* Whether a running job process holds (or is taking) the lock key. */
static bool lock_busy(const char *key)
{
	for (int k = 0; k < JOBS_MAX; k++)
		if (workers[k] > 0 && !strcmp(worker_lock[k], key))
			return true;
	return false;
}

/* The config's jobs, up to --jobs at a time, each in its own process (its
 * own lock, ssh master and run record); one job runs right here. Jobs that
 * share a lock (pushes to one host) run one after the other, in the
 * config's order, instead of the later one finding the lock held and
 * giving up; meanwhile the jobs after them whose locks are free start. */
enum jobs_result jobs_run(const struct jobs_opts *o, const struct job_spec *specs, size_t n)
{
	enum jobs_result ret = JOBS_OK;
	int running = 0;
	if (n == 1 || o->jobs == 1) {
		for (size_t i = 0; i < n; i++)
			ret = fold(ret, run_job(o, &specs[i]));
		return ret;
	}
	bool *started = xcalloc(n, sizeof(*started));
	size_t left = n;
	while (left > 0 || running > 0) {
		/* the first job not started whose lock no running job holds; with
		 * none running, that is the first job not started */
		size_t i = n;
		if (left > 0 && running < o->jobs)
			for (i = 0; i < n && (started[i] || lock_busy(specs[i].lock)); i++)
				;
		if (i == n) {
			ret = reap_one(ret);
			running--;
			continue;
		}
		started[i] = true;
		left--;
		fflush(NULL); /* nothing buffered is written twice */
		pid_t pid = fork();
		if (pid < 0) {
			log_error("cannot start the job for %s: %s", specs[i].name,
			          strerror(errno));
			ret = fold(ret, JOBS_FAILED);
			continue;
		}
		if (pid == 0) {
			for (int k = 0; k < JOBS_MAX; k++)
				workers[k] = 0;
			enum jobs_result r = run_job(o, &specs[i]);
			fflush(NULL);
			_exit(r);
		}
		for (int k = 0; k < JOBS_MAX; k++)
			if (!workers[k]) {
				workers[k] = pid;
				worker_lock[k] = specs[i].lock;
				break;
			}
		running++;
	}
	free(started);
	return ret;
}

void jobs_catch_signals(void)
{
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
}
