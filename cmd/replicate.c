/*
 * zkeep pull / zfs-pull-backups: pull datasets from client hosts over ssh
 * into DEST/<name>/<dataset>.
 * zkeep push / zfs-push-backups: push raw streams of local datasets to an
 * offsite host, into DEST/<dataset minus the strip prefix>, optionally
 * through the seed's five-line allowlist (--restricted).
 * With --host, one job from the flags (the seed's interface, no config
 * needed); without, every [pull NAME] / [push NAME] section of the config
 * (or the one --job names), up to --jobs (4) at a time, each in its own
 * process. Each job holds the seed's per-host lock while it runs. See zkeep-pull(1), zkeep-push(1).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "lock.h"
#include "log.h"
#include "opt.h"
#include "replicate.h"
#include "xalloc.h"
#include "zfs.h"
#include "banned.h"

/* The lock held right now, for the signal handler. */
static struct lock held = LOCK_INIT;
/* With --jobs: the job processes running now (0: a free slot). */
#define MAX_JOBS 64
static volatile pid_t workers[MAX_JOBS];
/* The lock key of each running job process. */
static const char *worker_lock[MAX_JOBS];

static void on_signal(int sig)
{
	/* async-signal-safe: pass the signal on to the job processes, unlink +
	 * close our lock, then leave; the zfs children see their pipes break
	 * and the receive is abandoned (or left resumable), never half-applied */
	for (int i = 0; i < MAX_JOBS; i++)
		if (workers[i] > 0)
			kill(workers[i], sig);
	lock_drop(&held); // NOLINT(bugprone-signal-handler): async-signal-safe (lock.h)
	_exit(1);
}

struct repl_opts {
	bool push;
	const char *host, *user, *destination, *name, *config, *lock_dir, *identity, *strip;
	const char *job; /* --job: only this config section */
	struct strvec datasets;
	int port, wait_s, stall_s, jobs;
	bool dry_run, force, full_newest, progress, restricted;
	uint64_t bwlimit;
	int keep[ZK_N_INTERVALS];
	bool has_keep;
};

/* One job: the remote side and what to do there. name keys its run record
 * and hold tag (and, for a pull, its target's D/<name>/); lock keys its lock
 * file (config_job_lock_key; with --host, the name), so that two [push]
 * sections to one offsite host take turns but keep their own records. */
struct job_spec {
	const char *name, *lock, *host, *user, *identity, *destination, *strip;
	int port;
	const struct strvec *datasets;
	const struct strvec *ssh_options; /* [pull]/[push] ssh_options, or NULL */
	uint64_t bwlimit;
	bool restricted;
	bool allow_unencrypted; /* push: [push] allow_unencrypted */
	const int *keep;        /* NULL: no retention on the target */
};

static int run_job(const struct repl_opts *o, const struct zk_config *cfg,
                   const struct job_spec *js)
{
	struct host remote, local;
	struct zerr e = ZERR_INIT;
	struct buf lpath = BUF_INIT;
	struct repl_result res;
	int ret = EXIT_FAILED;
	struct lock_holder holder;

	host_init_local(&local);
	if (host_init_ssh(&remote, js->user, js->host, js->port, &e) < 0) {
		log_error("%s", e.msg);
		host_free(&remote);
		host_free(&local);
		return EXIT_USAGE;
	}
	if (js->identity)
		remote.identity = strdup(js->identity);
	for (size_t i = 0; js->ssh_options && i < js->ssh_options->n; i++)
		strvec_push(&remote.ssh_opts, js->ssh_options->v[i]);
	remote.exact = js->restricted;
	/* one ssh connection for the job's many short calls (listing, holds,
	 * bookmarks), in a private directory; without one, each call pays a
	 * full ssh handshake */
	char cdir[] = "/tmp/zkeep-ssh-XXXXXX";
	if (mkdtemp(cdir))
		remote.control_dir = strdup(cdir);
	else
		log_debug("no ssh connection sharing: cannot make %s: %s", cdir, strerror(errno));
	/* run records (and a skip for a seed job's lock) only where writable */
	const char *state_dir = cfg->state_dir;
	if (access(state_dir, W_OK) < 0) {
		log_debug("no run record: cannot write to %s", state_dir);
		state_dir = NULL;
	}
	lock_path(&lpath, o->lock_dir ? o->lock_dir : cfg->lock_dir, o->push ? "push" : "pull",
	          js->lock);
	int r = lock_acquire(&held, lpath.s, o->wait_s, &holder, &e);
	if (r == -EWOULDBLOCK || r == -ETIMEDOUT) {
		/* the seed's later behaviour: on stderr (cron mails it), exit 0 */
		log_error("%s; lock %s", e.msg, lpath.s);
		if (holder.seed) {
			struct repl_job hj = {.name = js->name,
			                      .is_push = o->push,
			                      .state_dir = state_dir,
			                      .dry_run = o->dry_run};
			struct zerr he = ZERR_INIT;
			if (repl_record_lock_held(&hj, holder.pid, time(NULL), &he) < 0)
				log_warn("%s", he.msg);
		}
		ret = EXIT_OK;
		goto out;
	}
	if (r < 0) {
		log_error("%s", e.msg);
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
	    .timeout_ms = cfg->zfs_timeout * 1000,
	    .progress = o->progress,
	    .state_dir = state_dir,
	    .keep = js->keep,
	    .prefix = cfg->snapshot_prefix,
	};

	if (o->push)
		log_info("Pushing %zu dataset(s) to %s:%s%s", js->datasets->n, remote.label,
		         js->destination, js->restricted ? " (restricted)" : "");
	else
		log_info("Pulling %zu dataset(s) from %s into %s/%s", js->datasets->n, remote.label,
		         js->destination, js->name);
	r = repl_run(&j, &res);
	size_t ok = 0, failed = 0, n[4] = {0, 0, 0, 0};
	for (size_t i = 0; i < res.n; i++) {
		res.v[i].outcome == REPL_FAILED ? failed++ : ok++;
		n[res.v[i].outcome]++;
	}
	if (r == 0)
		log_info("Done: %zu dataset(s) replicated, %zu up to date, %zu skipped", n[REPL_OK],
		         n[REPL_UP_TO_DATE], n[REPL_SKIPPED]);
	else if (res.error)
		log_error("%s %s failed: %s", o->push ? "push to" : "pull from", remote.label,
		          res.error);
	else
		log_error("%s %s: %zu dataset(s) failed, %zu fine",
		          o->push ? "push to" : "pull from", remote.label, failed, ok);
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
	repl_result_free(&res);
	lock_release(&held);
out:
	host_disconnect(&remote);
	if (remote.control_dir) {
		/* the master removes its socket on exit; a killed one may not */
		struct buf sock = BUF_INIT;
		DIR *dir = opendir(remote.control_dir);
		for (struct dirent *de; dir && (de = readdir(dir));) {
			if (de->d_name[0] == '.')
				continue;
			buf_reset(&sock);
			buf_addf(&sock, "%s/%s", remote.control_dir, de->d_name);
			unlink(sock.s);
		}
		if (dir)
			closedir(dir);
		rmdir(remote.control_dir);
		buf_free(&sock);
	}
	host_free(&remote);
	host_free(&local);
	buf_free(&lpath);
	return ret;
}

/* Folds one job's exit code into the run's: a usage error wins, then any
 * failure. */
static int fold_exit(int ret, int r)
{
	return ret == EXIT_USAGE || r == EXIT_OK ? ret : r;
}

/* Waits for one job process to end; frees its slot. A child that is not a
 * job process is reaped and not counted. */
static int reap_one(int ret)
{
	for (;;) {
		int st;
		pid_t pid = wait(&st);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0) { /* no children left: no slot is running */
			for (int i = 0; i < MAX_JOBS; i++)
				workers[i] = 0;
			return fold_exit(ret, EXIT_FAILED);
		}
		for (int i = 0; i < MAX_JOBS; i++)
			if (workers[i] == pid) {
				workers[i] = 0;
				return fold_exit(ret,
				                 WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_FAILED);
			}
	}
}

/* Whether a running job process holds (or is taking) the lock key. */
static bool lock_busy(const char *key)
{
	for (int k = 0; k < MAX_JOBS; k++)
		if (workers[k] > 0 && !strcmp(worker_lock[k], key))
			return true;
	return false;
}

/* The config's jobs, up to --jobs at a time, each in its own process (its
 * own lock, ssh master and run record); one job runs right here. Jobs that
 * share a lock (pushes to one host) run one after the other, in the
 * config's order, instead of the later one finding the lock held and
 * giving up; meanwhile the jobs after them whose locks are free start. */
static int run_jobs(const struct repl_opts *o, const struct zk_config *cfg,
                    const struct job_spec *specs, size_t n)
{
	int ret = EXIT_OK, running = 0;
	if (n == 1 || o->jobs == 1) {
		for (size_t i = 0; i < n; i++)
			ret = fold_exit(ret, run_job(o, cfg, &specs[i]));
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
			ret = fold_exit(ret, EXIT_FAILED);
			continue;
		}
		if (pid == 0) {
			for (int k = 0; k < MAX_JOBS; k++)
				workers[k] = 0;
			int r = run_job(o, cfg, &specs[i]);
			fflush(NULL);
			_exit(r);
		}
		for (int k = 0; k < MAX_JOBS; k++)
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

enum {
	R_DEST = OPT_LONG + 1,
	R_NAME,
	R_FORCE,
	R_FULL_NEWEST,
	R_BWLIMIT,
	R_PROGRESS,
	R_STALL,
	R_WAIT,
	R_LOCK_DIR,
	R_JOBS,
	R_JOB,
	R_STRIP,
	R_RESTRICTED,
	R_KEEP,
};
/* The seed's flags first (zfs-pull-backups, zfs-push-backups), then zkeep's. */
#define R_COMMON_SEED                                                                              \
	{'H', "host", OPT_VALUE, "H", "the client (pull) or offsite host (push)", false, true},    \
	    {'D',   "datasets", OPT_VALUE, "DS...", "the datasets, with their descendants",        \
	     false, true},                                                                         \
	    {'u', "user", OPT_VALUE, "U", "the ssh user on H", false, true},                       \
	    {R_DEST, "destination", OPT_VALUE, "D", "where the copies go", false, true},           \
	    OPT_DEBUG, OPT_QUIET
#define R_COMMON                                                                                     \
	{R_BWLIMIT, "bwlimit", OPT_VALUE, "RATE", "at most RATE bytes a second (K, M, G: 1024s)",    \
	 false,     true},                                                                           \
	    OPT_DRY_RUN,                                                                             \
	    {R_FORCE, "force", OPT_NONE, NULL, "roll the target back to the base when it moved",     \
	     false},                                                                                 \
	    {R_FULL_NEWEST,                                                                          \
	     "full-newest",                                                                          \
	     OPT_NONE,                                                                               \
	     NULL,                                                                                   \
	     "a first sync sends only the newest snapshot",                                          \
	     false},                                                                                 \
	    {R_KEEP, "keep", OPT_VALUE, "SPEC", "prune the target's policy snapshots to SPEC",       \
	     false},                                                                                 \
	    {R_PROGRESS, "progress", OPT_NONE, NULL, "a progress line (default on a terminal)",      \
	     false},                                                                                 \
	    {R_STALL, "stall-timeout", OPT_VALUE, "S", "give up on a stream idle S seconds", false}, \
	    {R_WAIT, "wait", OPT_MAYBE, "S", "wait for the lock (S seconds, or for ever)", false},   \
	    {R_LOCK_DIR, "lock-dir", OPT_VALUE, "DIR", "the lock files' directory", false},          \
	    {'p', "port", OPT_VALUE, "PORT", "ssh's port on H", false},                              \
	    {'i', "identity", OPT_VALUE, "FILE", "ssh's key for H", false},                          \
	    {R_JOBS, "jobs", OPT_VALUE, "N", "datasets at once (default 4)", false},                 \
	    {R_JOB, "job", OPT_VALUE, "NAME", "the [pull NAME] or [push NAME] job of the config",    \
	     false},                                                                                 \
	    OPT_LOG, OPT_CONFIG, OPT_HELP
const struct opt pull_opts[] = {
    R_COMMON_SEED,
    {R_NAME, "name", OPT_VALUE, "N", "the name under the destination (default: H)", false, true},
    R_COMMON,
    OPT_END_OF_TABLE,
};
const struct opt push_opts[] = {
    R_COMMON_SEED,
    {R_STRIP, "strip-prefix", OPT_VALUE, "P", "take P/ off each dataset's name on H", false, true},
    {R_RESTRICTED, "restricted", OPT_NONE, NULL, "only the old offsite host's five command lines",
     false},
    R_COMMON,
    OPT_END_OF_TABLE,
};

/* The seed's own usage line, verbatim (its flag names were out of date
 * even then: --datasets-source is --datasets), as scripts may look for it. */
static void seed_usage(bool push)
{
	if (push)
		fputs("Usage: zfs-push-backups --host <host> --datasets <space-separated list> "
		      "--destination <remote-dataset> [--user <user>]\n",
		      stderr);
	else
		fputs("Usage: zfs-pull-backups --user <user> --host <host> --datasets-source "
		      "<space-seperated list> [--datasets-destination <destination>]\n",
		      stderr);
}

/* Under the seed's names, before the config is read (as the seed checked
 * its arguments first): push's --destination was argparse-required (exit
 * 2); no --host or --datasets is the seed's usage line and exit 1. */
static int seed_args(const struct repl_opts *o)
{
	if (o->push && !o->destination) {
		fprintf(stderr, "zfs-push-backups: error: the following arguments are required: "
		                "--destination\n");
		return EXIT_USAGE;
	}
	if (o->host && o->datasets.n)
		return EXIT_OK;
	seed_usage(o->push);
	return EXIT_FAILED;
}

/* Then what the seed's scripts had baked in at deploy time comes from
 * [compat] (the role writes it from the same inventory variables), and a
 * push speaks only the offsite host's five command lines, as the seed's
 * did. What is still missing stops the run before the lock with the
 * seed's usage line and exit 1: a user or a pool is never guessed. */
static int seed_defaults(struct repl_opts *o, const struct zk_config *cfg)
{
	const struct zk_compat_cfg *c = &cfg->compat;
	if (!o->user)
		o->user = o->push ? c->push_user : c->pull_user;
	if (o->push) {
		o->restricted = true;
		if (!o->strip)
			o->strip = c->push_strip_prefix;
	} else if (!o->destination) {
		o->destination = c->pull_destination;
	}
	/* what the seed had built in, and the key the role writes it to */
	const char *flag = NULL, *key = NULL;
	if (!o->user)
		flag = "user", key = o->push ? "push_user" : "pull_user";
	else if (!o->destination)
		flag = "destination", key = "pull_destination";
	else if (o->push && !o->strip)
		flag = "strip-prefix", key = "push_strip_prefix";
	if (!key)
		return EXIT_OK;
	seed_usage(o->push);
	log_error("no --%s and no [compat] %s in %s: the seed's script had it built in", flag, key,
	          cfg->path ? cfg->path : ZK_DEFAULT_CONFIG);
	return EXIT_FAILED;
}

static int cmd_replicate(int argc, char **argv, const struct cmd *self, bool push)
{
	struct repl_opts o;
	struct zerr e = ZERR_INIT;
	int debug = 0, quiet = 0, c, ret = EXIT_USAGE;
	long n;
	const char *v;
	memset(&o, 0, sizeof(o));
	strvec_init(&o.datasets);
	o.push = push;
	o.stall_s = 600;
	o.jobs = 4;
	o.progress = isatty(STDERR_FILENO);
	/* stop at the first operand, so --datasets can take a list */
	struct opt_parser op;
	opt_begin(&op, push ? push_opts : pull_opts, true);
	if (cmd_is_seed(self, argv[0]))
		opt_seed_prefixes(&op, argc, argv);
	while ((c = opt_next(&op, argc, argv, &v)) != -1) {
		switch (c) {
		case 'H':
			o.host = v;
			break;
		case 'D':
			strvec_push(&o.datasets, v);
			while (optind < argc && argv[optind][0] != '-')
				strvec_push(&o.datasets, argv[optind++]);
			break;
		case 'u':
			o.user = v;
			break;
		case R_DEST:
			o.destination = v;
			break;
		case R_NAME:
			o.name = v;
			break;
		case R_STRIP:
			o.strip = v;
			break;
		case R_KEEP:
			if (config_parse_keep(v, o.keep, &e) < 0) {
				ret = cmd_usage_error(self, "--keep: %s", e.msg);
				goto out;
			}
			o.has_keep = true;
			break;
		case R_RESTRICTED:
			o.restricted = true;
			break;
		case 'q':
			quiet = 1;
			o.progress = false;
			break;
		case 'q' | OPT_NO:
			quiet = 0;
			o.progress = isatty(STDERR_FILENO);
			break;
		case 'c':
			o.config = v;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case R_FORCE:
			o.force = true;
			break;
		case R_FULL_NEWEST:
			o.full_newest = true;
			break;
		case R_BWLIMIT:
			if (config_parse_rate(v, &o.bwlimit, &e) < 0) {
				ret = cmd_usage_error(self, "--bwlimit: %s", e.msg);
				goto out;
			}
			break;
		case R_PROGRESS:
			o.progress = true;
			break;
		case R_STALL:
		case R_WAIT:
		case 'p':
		case R_JOBS:
			if (!v && c == R_WAIT) {
				o.wait_s = -1;
				break;
			}
			if (config_parse_int(v, c == 'p' || c == R_JOBS ? 1 : 0,
			                     c == 'p'      ? 65535
			                     : c == R_JOBS ? MAX_JOBS
			                                   : 86400 * 7,
			                     &n, &e) < 0) {
				ret = cmd_usage_error(self, "%s: %s", argv[optind - 1], e.msg);
				goto out;
			}
			if (c == R_STALL)
				o.stall_s = (int)n;
			else if (c == R_WAIT)
				o.wait_s = (int)n;
			else if (c == 'p')
				o.port = (int)n;
			else
				o.jobs = (int)n;
			break;
		case R_LOCK_DIR:
			o.lock_dir = v;
			break;
		case R_JOB:
			o.job = v;
			break;
		case 'i':
			o.identity = v;
			break;
		case 'h':
			cmd_print_help(self);
			ret = EXIT_OK;
			goto out;
		default:
			if (opt_flag(c, OPT_ID_DEBUG, &debug))
				break;
			ret = cmd_opt_error(self, c, argv);
			goto out;
		}
	}
	if (optind < argc) {
		ret = cmd_usage_error(self, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!push && (o.strip || o.restricted)) {
		ret = cmd_usage_error(self, "--strip-prefix and --restricted are for push");
		goto out;
	}
	if (push && o.name) {
		ret = cmd_usage_error(self, "--name is for pull");
		goto out;
	}
	for (size_t i = 0; i < o.datasets.n; i++)
		if (zfs_name_check(o.datasets.v[i], ZFS_TYPE_DATASET, &e) < 0) {
			ret = cmd_usage_error(self, "--datasets: %s", e.msg);
			goto out;
		}
	if (o.destination && zfs_name_check(o.destination, ZFS_TYPE_DATASET, &e) < 0) {
		ret = cmd_usage_error(self, "--destination: %s", e.msg);
		goto out;
	}
	if (o.strip && zfs_name_check(o.strip, ZFS_TYPE_DATASET, &e) < 0) {
		ret = cmd_usage_error(self, "--strip-prefix: %s", e.msg);
		goto out;
	}
	cmd_setup_log(self, argv[0], quiet, debug);

	bool seed = cmd_is_seed(self, argv[0]);
	if (seed && (ret = seed_args(&o)) != EXIT_OK)
		goto out;
	struct zk_config cfg;
	config_init(&cfg);
	if (o.config || !o.host || access(ZK_DEFAULT_CONFIG, R_OK) == 0) {
		if ((ret = cmd_load_config(&cfg, o.config)) != EXIT_OK)
			goto out_cfg;
	}
	if (seed && (ret = seed_defaults(&o, &cfg)) != EXIT_OK)
		goto out_cfg;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	if (o.host) {
		if (!o.datasets.n || !o.destination) {
			ret = cmd_usage_error(self, "--host needs --datasets and --destination");
			goto out_cfg;
		}
		if (o.job) {
			ret = cmd_usage_error(self,
			                      "--job selects a config section: not with --host");
			goto out_cfg;
		}
		const char *name = o.name ? o.name : o.host;
		struct job_spec js = {.name = name,
		                      .lock = name,
		                      .host = o.host,
		                      .user = o.user,
		                      .identity = o.identity,
		                      .destination = o.destination,
		                      .strip = o.strip,
		                      .port = o.port,
		                      .datasets = &o.datasets,
		                      .bwlimit = o.bwlimit,
		                      .restricted = o.restricted,
		                      .keep = o.has_keep ? o.keep : NULL};
		ret = run_job(&o, &cfg, &js);
	} else {
		struct job_spec *specs = xcalloc(cfg.n_jobs + 1, sizeof(*specs));
		size_t njobs = 0;
		for (size_t i = 0; i < cfg.n_jobs; i++) {
			const struct zk_job *jb = &cfg.jobs[i];
			if (jb->is_push != push || (o.job && strcmp(o.job, jb->name)))
				continue;
			specs[njobs++] =
			    (struct job_spec){.name = jb->name,
			                      .lock = config_job_lock_key(jb),
			                      .host = jb->remote.host,
			                      .user = jb->remote.user,
			                      .identity = jb->remote.identity_file,
			                      .destination = jb->destination,
			                      .strip = jb->strip_prefix,
			                      .port = jb->remote.port,
			                      .datasets = &jb->datasets,
			                      .ssh_options = &jb->remote.ssh_options,
			                      .bwlimit = o.bwlimit ? o.bwlimit : jb->bwlimit,
			                      .restricted = jb->restricted || o.restricted,
			                      .allow_unencrypted = jb->allow_unencrypted,
			                      .keep = o.has_keep     ? o.keep
			                              : jb->has_keep ? jb->keep
			                                             : NULL};
		}
		if (o.job && !njobs) {
			log_error("no [%s %s] section in %s", push ? "push" : "pull", o.job,
			          cfg.path);
			ret = EXIT_USAGE;
		} else if (!njobs) {
			log_warn("no [%s NAME] sections in %s and no --host: nothing to do",
			         push ? "push" : "pull", cfg.path);
			ret = EXIT_OK;
		} else {
			ret = run_jobs(&o, &cfg, specs, njobs);
		}
		free(specs);
	}
out_cfg:
	config_free(&cfg);
out:
	opt_end(&op);
	strvec_clear(&o.datasets);
	return ret;
}

int cmd_pull(int argc, char **argv, const struct cmd *self)
{
	return cmd_replicate(argc, argv, self, false);
}

int cmd_push(int argc, char **argv, const struct cmd *self)
{
	return cmd_replicate(argc, argv, self, true);
}
