/*
 * zkeep pull / zfs-pull-backups: pull datasets from client hosts over ssh
 * into DEST/<name>/<dataset>.
 * zkeep push / zfs-push-backups: push raw streams of local datasets to an
 * offsite host, into DEST/<dataset minus the strip prefix>, optionally
 * through the seed's five-line allowlist (--restricted).
 * With --host, one job from the flags (the seed's interface, no config
 * needed); without, every [pull NAME] / [push NAME] section of the config
 * (or the one --job names), up to --jobs (4) at a time, each in its own
 * process (lib/jobs). Each job holds the seed's per-host lock while it
 * runs. This file turns argv and the config into job specs. See
 * zkeep-pull(1), zkeep-push(1).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "jobs.h"
#include "host.h"
#include "log.h"
#include "mqtt.h"
#include "opt.h"
#include "xalloc.h"
#include "zfs.h"
#include "banned.h"

struct repl_opts {
	const struct cmd *self;
	bool push;
	const char *host, *user, *destination, *name, *config, *lock_dir, *identity, *strip;
	const char *job; /* --job: only this config section */
	const char *mqtt_host, *mqtt_prefix, *mqtt_name;
	struct strvec datasets;
	int port, wait_s, stall_s, jobs, parallel;
	bool dry_run, force, full_newest, progress, restricted;
	uint64_t bwlimit;
	int keep[ZK_N_INTERVALS];
	bool has_keep;
	int quiet, debug;
};

static int exit_of(enum jobs_result r)
{
	return r == JOBS_OK ? EXIT_OK : r == JOBS_USAGE ? EXIT_USAGE : EXIT_FAILED;
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
	R_PARALLEL,
	R_JOB,
	R_STRIP,
	R_RESTRICTED,
	R_KEEP,
	R_MQTT_HOST,
	R_MQTT_PREFIX,
	R_MQTT_NAME,
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
	    {R_JOBS, "jobs", OPT_VALUE, "N", "config jobs at once (default 4)", false},              \
	    {R_PARALLEL, "parallel", OPT_VALUE, "N", "datasets at once in a job (1 to 8)", false},   \
	    {R_JOB, "job", OPT_VALUE, "NAME", "the [pull NAME] or [push NAME] job of the config",    \
	     false},                                                                                 \
	    OPT_LOG, OPT_CONFIG, OPT_HELP
const struct opt pull_opts[] = {
    R_COMMON_SEED,
    {R_NAME, "name", OPT_VALUE, "N", "the name under the destination (default: H)", false, true},
    {R_MQTT_HOST, "mqtt-host", OPT_VALUE, "B", "publish the backups' state to the MQTT broker B",
     false, true},
    {R_MQTT_PREFIX, "mqtt-topic-prefix", OPT_VALUE, "P",
     "its topics under P (default homeinfra/monitoring/zfs)", false, true},
    {R_MQTT_NAME, "mqtt-name", OPT_VALUE, "M", "its name there (default: N, else H)", false, true},
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

/* The [pull NAME] or [push NAME] sections of the config (only --job's,
 * with --job) as job specs; *n of them. */
static struct job_spec *config_specs(const struct repl_opts *o, const struct zk_config *cfg,
                                     size_t *n)
{
	struct job_spec *specs = xcalloc(cfg->n_jobs + 1, sizeof(*specs));
	for (size_t i = 0; i < cfg->n_jobs; i++) {
		const struct zk_job *jb = &cfg->jobs[i];
		if (jb->is_push != o->push || (o->job && strcmp(o->job, jb->name)))
			continue;
		specs[(*n)++] = (struct job_spec){.name = jb->name,
		                                  .lock = config_job_lock_key(jb),
		                                  .host = jb->remote.host,
		                                  .user = jb->remote.user,
		                                  .identity = jb->remote.identity_file,
		                                  .destination = jb->destination,
		                                  .strip = jb->strip_prefix,
		                                  .port = jb->remote.port,
		                                  .datasets = &jb->datasets,
		                                  .ssh_options = &jb->remote.ssh_options,
		                                  .bwlimit = o->bwlimit ? o->bwlimit : jb->bwlimit,
		                                  .parallel = jb->parallel,
		                                  .restricted = jb->restricted || o->restricted,
		                                  .allow_unencrypted = jb->allow_unencrypted,
		                                  .notify = &jb->notify,
		                                  .keep = o->has_keep    ? o->keep
		                                          : jb->has_keep ? jb->keep
		                                                         : NULL};
	}
	return specs;
}

/* --mqtt-*: what they name must be usable as given. */
static int mqtt_args(const struct cmd *self, const struct repl_opts *o)
{
	struct zerr e = ZERR_INIT;
	if (o->mqtt_host && host_check_name(o->mqtt_host, &e) < 0)
		return cmd_usage_error(self, "--mqtt-host: %s", e.msg);
	if (o->mqtt_prefix && config_parse_topic(o->mqtt_prefix, &e) < 0)
		return cmd_usage_error(self, "--mqtt-topic-prefix: %s", e.msg);
	if (o->mqtt_name && config_parse_topic(o->mqtt_name, &e) < 0)
		return cmd_usage_error(self, "--mqtt-name: %s", e.msg);
	/* one name for several jobs would be one sensor for all of them */
	if (o->mqtt_name && !o->host && !o->job)
		return cmd_usage_error(self, "--mqtt-name names one pull: give --host or --job");
	return EXIT_OK;
}

/* Whether the pulls publish their state, and where: the flags, else
 * [mqtt]. Under the seed's name only after a fully successful pull. */
static bool mqtt_setup(const struct repl_opts *o, const struct zk_config *cfg, bool seed,
                       struct jobs_mqtt *jm)
{
	const char *host = o->mqtt_host ? o->mqtt_host : cfg->mqtt.host;
	if (o->push)
		return false;
	if (!host) {
		if (o->mqtt_prefix || o->mqtt_name)
			log_warn("--mqtt-topic-prefix and --mqtt-name need --mqtt-host (or [mqtt] "
			         "host): nothing is published");
		return false;
	}
	memset(jm, 0, sizeof(*jm));
	mqtt_broker_of(&jm->broker, &cfg->mqtt, host);
	jm->topic_prefix = o->mqtt_prefix           ? o->mqtt_prefix
	                   : cfg->mqtt.topic_prefix ? cfg->mqtt.topic_prefix
	                                            : MQTT_DEFAULT_PREFIX;
	jm->name = o->mqtt_name;
	jm->on_failure = !seed;
	return true;
}

/* --stall-timeout, --wait=S, --port, --jobs, --parallel: whole numbers
 * in their ranges. */
static int take_number(struct repl_opts *o, int c, const char *v, char **argv)
{
	struct zerr e = ZERR_INIT;
	long n;
	if (!v && c == R_WAIT) {
		o->wait_s = -1; /* --wait alone: for ever */
		return CMD_GO_ON;
	}
	if (config_parse_int(v, c == 'p' || c == R_JOBS || c == R_PARALLEL ? 1 : 0,
	                     c == 'p'          ? 65535
	                     : c == R_JOBS     ? JOBS_MAX
	                     : c == R_PARALLEL ? ZK_PARALLEL_MAX
	                                       : 86400 * 7,
	                     &n, &e) < 0)
		return cmd_usage_error(o->self, "%s: %s", argv[optind - 1], e.msg);
	*(c == R_STALL      ? &o->stall_s
	  : c == R_WAIT     ? &o->wait_s
	  : c == 'p'        ? &o->port
	  : c == R_PARALLEL ? &o->parallel
	                    : &o->jobs) = (int)n;
	return CMD_GO_ON;
}

/* The options with a value that is checked as it is read. */
static int take_checked(struct repl_opts *o, int c, const char *v, char **argv)
{
	struct zerr e = ZERR_INIT;
	switch (c) {
	case R_KEEP:
		if (config_parse_keep(v, o->keep, &e) < 0)
			return cmd_usage_error(o->self, "--keep: %s", e.msg);
		o->has_keep = true;
		return CMD_GO_ON;
	case R_BWLIMIT:
		if (config_parse_rate(v, &o->bwlimit, &e) < 0)
			return cmd_usage_error(o->self, "--bwlimit: %s", e.msg);
		return CMD_GO_ON;
	default:
		return take_number(o, c, v, argv);
	}
}

/* One option into the repl_opts at ctx (cmd_parse's take). */
static int take(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct repl_opts *o = ctx;
	switch (c) {
	case 'H':
		o->host = v;
		break;
	case 'D':
		strvec_push(&o->datasets, v);
		while (optind < argc && argv[optind][0] != '-')
			strvec_push(&o->datasets, argv[optind++]);
		break;
	case 'u':
		o->user = v;
		break;
	case R_DEST:
		o->destination = v;
		break;
	case R_NAME:
		o->name = v;
		break;
	case R_STRIP:
		o->strip = v;
		break;
	case R_MQTT_HOST:
		o->mqtt_host = v;
		break;
	case R_MQTT_PREFIX:
		o->mqtt_prefix = v;
		break;
	case R_MQTT_NAME:
		o->mqtt_name = v;
		break;
	case R_RESTRICTED:
		o->restricted = true;
		break;
	case 'q':
	case 'q' | OPT_NO:
		o->quiet = !(c & OPT_NO);
		o->progress = !o->quiet && isatty(STDERR_FILENO);
		break;
	case 'c':
		o->config = v;
		break;
	case 'n':
		o->dry_run = true;
		break;
	case R_FORCE:
		o->force = true;
		break;
	case R_FULL_NEWEST:
		o->full_newest = true;
		break;
	case R_PROGRESS:
		o->progress = true;
		break;
	case R_LOCK_DIR:
		o->lock_dir = v;
		break;
	case R_JOB:
		o->job = v;
		break;
	case 'i':
		o->identity = v;
		break;
	case R_KEEP:
	case R_BWLIMIT:
	case R_STALL:
	case R_WAIT:
	case 'p':
	case R_JOBS:
	case R_PARALLEL:
		return take_checked(o, c, v, argv);
	default:
		return opt_flag(c, OPT_ID_DEBUG, &o->debug) ? CMD_GO_ON : CMD_NOT_MINE;
	}
	return CMD_GO_ON;
}

/* What the options say together, and the names they give. */
static int check_args(const struct cmd *self, const struct repl_opts *o)
{
	struct zerr e = ZERR_INIT;
	if (!o->push && (o->strip || o->restricted))
		return cmd_usage_error(self, "--strip-prefix and --restricted are for push");
	if (o->push && o->name)
		return cmd_usage_error(self, "--name is for pull");
	for (size_t i = 0; i < o->datasets.n; i++)
		if (zfs_name_check(o->datasets.v[i], ZFS_TYPE_DATASET, &e) < 0)
			return cmd_usage_error(self, "--datasets: %s", e.msg);
	if (o->destination && zfs_name_check(o->destination, ZFS_TYPE_DATASET, &e) < 0)
		return cmd_usage_error(self, "--destination: %s", e.msg);
	if (o->strip && zfs_name_check(o->strip, ZFS_TYPE_DATASET, &e) < 0)
		return cmd_usage_error(self, "--strip-prefix: %s", e.msg);
	return mqtt_args(self, o);
}

/* The one job of --host, from the flags alone. */
static int run_host(const struct repl_opts *o, const struct jobs_opts *jo)
{
	if (!o->datasets.n || !o->destination)
		return cmd_usage_error(o->self, "--host needs --datasets and --destination");
	if (o->job)
		return cmd_usage_error(o->self, "--job selects a config section: not with --host");
	const char *name = o->name ? o->name : o->host;
	struct job_spec js = {.name = name,
	                      .lock = name,
	                      .host = o->host,
	                      .user = o->user,
	                      .identity = o->identity,
	                      .destination = o->destination,
	                      .strip = o->strip,
	                      .port = o->port,
	                      .datasets = &o->datasets,
	                      .bwlimit = o->bwlimit,
	                      .restricted = o->restricted,
	                      .keep = o->has_keep ? o->keep : NULL};
	return exit_of(jobs_run(jo, &js, 1));
}

/* The config's [pull NAME] or [push NAME] jobs (only --job's). */
static int run_config(const struct repl_opts *o, const struct zk_config *cfg,
                      const struct jobs_opts *jo)
{
	const char *kind = o->push ? "push" : "pull";
	size_t n = 0;
	struct job_spec *specs = config_specs(o, cfg, &n);
	int ret = EXIT_OK;
	if (o->job && !n) {
		log_error("no [%s %s] section in %s", kind, o->job, cfg->path);
		ret = EXIT_USAGE;
	} else if (!n) {
		log_warn("no [%s NAME] sections in %s and no --host: nothing to do", kind,
		         cfg->path);
	} else {
		ret = exit_of(jobs_run(jo, specs, n));
	}
	free(specs);
	return ret;
}

/* The jobs, with the flags over the config's [global]. */
static int run(const struct repl_opts *o, const struct zk_config *cfg, bool seed)
{
	struct jobs_mqtt jm;
	bool mqtt = mqtt_setup(o, cfg, seed, &jm);
	jobs_catch_signals();
	struct jobs_opts jo = {.push = o->push,
	                       .dry_run = o->dry_run,
	                       .force = o->force,
	                       .full_newest = o->full_newest,
	                       .progress = o->progress,
	                       .lock_dir = o->lock_dir ? o->lock_dir : cfg->lock_dir,
	                       .state_dir = cfg->state_dir,
	                       .prefix = cfg->snapshot_prefix,
	                       .wait_s = o->wait_s,
	                       .stall_s = o->stall_s,
	                       .zfs_timeout_s = cfg->zfs_timeout,
	                       .jobs = o->jobs,
	                       .parallel = o->parallel,
	                       .mqtt = mqtt ? &jm : NULL};
	return o->host ? run_host(o, &jo) : run_config(o, cfg, &jo);
}

/* argv, the seed's checks, the config (not needed by --host unless
 * there is one), the seed's defaults, the jobs. */
static int cmd_replicate(int argc, char **argv, const struct cmd *self, bool push)
{
	struct repl_opts o = {.self = self, .push = push, .stall_s = 600, .jobs = 4};
	struct zk_config cfg;
	bool seed = cmd_is_seed(self, argv[0]);
	strvec_init(&o.datasets);
	o.progress = isatty(STDERR_FILENO);
	config_init(&cfg);
	int ret = cmd_parse(self, argc, argv, CMD_PARSE_LISTS | CMD_PARSE_SEED, take, &o);
	if (ret != CMD_GO_ON || (ret = check_args(self, &o)) != EXIT_OK)
		goto out;
	cmd_setup_log(self, argv[0], o.quiet, o.debug);
	if (seed && (ret = seed_args(&o)) != EXIT_OK)
		goto out;
	if ((o.config || !o.host || access(ZK_DEFAULT_CONFIG, R_OK) == 0) &&
	    (ret = cmd_load_config(&cfg, o.config)) != EXIT_OK)
		goto out;
	if (seed && (ret = seed_defaults(&o, &cfg)) != EXIT_OK)
		goto out;
	ret = run(&o, &cfg, seed);
out:
	config_free(&cfg);
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
