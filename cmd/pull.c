/*
 * zkeep pull / zfs-pull-backups: pull datasets from client hosts over ssh
 * into DEST/<name>/<dataset>. With --host, one job from the flags (the
 * seed's interface, no config needed); without, every [pull NAME] section
 * of the config, one after the other. Each job holds the seed's per-host
 * lock while it runs. See zkeep-pull(1).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "lock.h"
#include "log.h"
#include "replicate.h"
#include "zfs.h"
#include "banned.h"

/* The lock held right now, for the signal handler. */
static struct lock held = LOCK_INIT;

static void on_signal(int sig)
{
	(void)sig;
	/* async-signal-safe: unlink + close, then leave; the children see
	 * their pipes break and the receive is abandoned, never half-applied */
	if (held.fd >= 0) {
		unlink(held.path);
		close(held.fd);
	}
	_exit(1);
}

struct pull_opts {
	const char *host, *user, *destination, *name, *config, *lock_dir, *identity;
	struct strvec datasets;
	int port, wait_s, stall_s;
	bool dry_run, force, full_newest, progress;
	uint64_t bwlimit;
};

static int run_job(const struct pull_opts *o, const struct zk_config *cfg, const char *name,
                   const char *hostname, const char *user, int port, const char *identity,
                   const struct strvec *datasets, const char *destination, uint64_t bwlimit)
{
	struct host src, dst;
	struct zerr e = ZERR_INIT;
	struct buf lpath = BUF_INIT;
	struct repl_result res;
	int ret = EXIT_FAILED;
	pid_t holder = 0;

	host_init_local(&dst);
	if (host_init_ssh(&src, user, hostname, port, &e) < 0) {
		log_error("%s", e.msg);
		host_free(&src);
		host_free(&dst);
		return EXIT_USAGE;
	}
	if (identity)
		src.identity = strdup(identity);
	lock_path(&lpath, o->lock_dir ? o->lock_dir : cfg->lock_dir, "pull", name);
	int r = lock_acquire(&held, lpath.s, o->wait_s, &holder, &e);
	if (r == -EWOULDBLOCK || r == -ETIMEDOUT) {
		/* the seed's later behaviour: say so, exit 0, cron stays quiet */
		log_info("%s", e.msg);
		ret = EXIT_OK;
		goto out;
	}
	if (r < 0) {
		log_error("%s", e.msg);
		goto out;
	}
	struct repl_job j = {
	    .name = name,
	    .src = &src,
	    .dst = &dst,
	    .datasets = (const char *const *)datasets->v,
	    .destination = destination,
	    .force = o->force,
	    .full_newest = o->full_newest,
	    .dry_run = o->dry_run,
	    .bwlimit = bwlimit,
	    .stall_timeout_ms = o->stall_s * 1000,
	    .timeout_ms = cfg->zfs_timeout * 1000,
	    .progress = o->progress,
	    .state_dir = cfg->state_dir,
	};
	if (access(cfg->state_dir, W_OK) < 0) {
		log_debug("no run record: cannot write to %s", cfg->state_dir);
		j.state_dir = NULL;
	}
	log_info("Pulling %zu dataset(s) from %s into %s/%s", datasets->n, src.label, destination,
	         name);
	r = repl_run(&j, &res);
	size_t ok = 0, failed = 0;
	for (size_t i = 0; i < res.n; i++)
		res.v[i].outcome == REPL_FAILED ? failed++ : ok++;
	if (r == 0)
		log_info("Done: %zu dataset(s) up to date", ok);
	else if (res.error)
		log_error("pull from %s failed: %s", src.label, res.error);
	else
		log_error("pull from %s: %zu dataset(s) failed, %zu fine", src.label, failed, ok);
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
	repl_result_free(&res);
	lock_release(&held);
out:
	host_disconnect(&src);
	host_free(&src);
	host_free(&dst);
	buf_free(&lpath);
	return ret;
}

int cmd_pull(int argc, char **argv, const struct cmd *self)
{
	static const struct option opts[] = {
	    {"host", required_argument, NULL, 'H'},
	    {"datasets", required_argument, NULL, 'D'},
	    {"user", required_argument, NULL, 'u'},
	    {"destination", required_argument, NULL, 'd'},
	    {"name", required_argument, NULL, 'N'},
	    {"debug", no_argument, NULL, 'g'},
	    {"no-debug", no_argument, NULL, 'G'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"config", required_argument, NULL, 'c'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"force", no_argument, NULL, 'f'},
	    {"full-newest", no_argument, NULL, 'F'},
	    {"bwlimit", required_argument, NULL, 'b'},
	    {"progress", no_argument, NULL, 'P'},
	    {"stall-timeout", required_argument, NULL, 's'},
	    {"wait", optional_argument, NULL, 'w'},
	    {"lock-dir", required_argument, NULL, 'l'},
	    {"port", required_argument, NULL, 'p'},
	    {"identity", required_argument, NULL, 'i'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct pull_opts o;
	struct zerr e = ZERR_INIT;
	int debug = 0, quiet = 0, c, ret = EXIT_USAGE;
	long n;
	memset(&o, 0, sizeof(o));
	strvec_init(&o.datasets);
	o.stall_s = 600;
	o.progress = isatty(STDERR_FILENO);
	optind = 1;
	/* '+': stop at the first non-option, so --datasets can take a list */
	while ((c = getopt_long(argc, argv, "+:H:D:u:d:N:gGqc:nfFb:Ps:w::l:p:i:j:h", opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'H':
			o.host = optarg;
			break;
		case 'D':
			strvec_push(&o.datasets, optarg);
			while (optind < argc && argv[optind][0] != '-')
				strvec_push(&o.datasets, argv[optind++]);
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'd':
			o.destination = optarg;
			break;
		case 'N':
			o.name = optarg;
			break;
		case 'g':
			debug = 1;
			break;
		case 'G':
			debug = 0;
			break;
		case 'q':
			quiet = 1;
			o.progress = false;
			break;
		case 'c':
			o.config = optarg;
			break;
		case 'n':
			o.dry_run = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'F':
			o.full_newest = true;
			break;
		case 'b':
			if (config_parse_rate(optarg, &o.bwlimit, &e) < 0) {
				ret = cmd_usage_error(self, "--bwlimit: %s", e.msg);
				goto out;
			}
			break;
		case 'P':
			o.progress = true;
			break;
		case 's':
		case 'w':
		case 'p':
		case 'j':
			if (!optarg && c == 'w') {
				o.wait_s = -1;
				break;
			}
			if (config_parse_int(optarg, c == 'p' ? 1 : 0, c == 'p' ? 65535 : 86400 * 7,
			                     &n, &e) < 0) {
				ret = cmd_usage_error(self, "%s: %s", argv[optind - 1], e.msg);
				goto out;
			}
			if (c == 's')
				o.stall_s = (int)n;
			else if (c == 'w')
				o.wait_s = (int)n;
			else if (c == 'p')
				o.port = (int)n;
			break;
		case 'l':
			o.lock_dir = optarg;
			break;
		case 'i':
			o.identity = optarg;
			break;
		case 'h':
			cmd_print_usage(self, 0);
			ret = EXIT_OK;
			goto out;
		case ':':
			ret = cmd_usage_error(self, "'%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			ret = cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		ret = cmd_usage_error(self, "unexpected argument '%s'", argv[optind]);
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
	cmd_setup_log(self, argv[0], quiet, debug);

	struct zk_config cfg;
	config_init(&cfg);
	if (o.config || !o.host || access(ZK_DEFAULT_CONFIG, R_OK) == 0) {
		if ((ret = cmd_load_config(&cfg, o.config)) != EXIT_OK)
			goto out_cfg;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	if (o.host) {
		if (!o.datasets.n || !o.destination) {
			ret = cmd_usage_error(self, "--host needs --datasets and --destination");
			goto out_cfg;
		}
		ret = run_job(&o, &cfg, o.name ? o.name : o.host, o.host, o.user, o.port,
		              o.identity, &o.datasets, o.destination, o.bwlimit);
	} else {
		ret = EXIT_OK;
		size_t jobs = 0;
		for (size_t i = 0; i < cfg.n_jobs; i++) {
			const struct zk_job *jb = &cfg.jobs[i];
			if (jb->is_push)
				continue;
			jobs++;
			int r = run_job(&o, &cfg, jb->name, jb->remote.host, jb->remote.user,
			                jb->remote.port, jb->remote.identity_file, &jb->datasets,
			                jb->destination, o.bwlimit ? o.bwlimit : jb->bwlimit);
			if (r != EXIT_OK && ret != EXIT_USAGE)
				ret = r;
		}
		if (!jobs)
			log_warn("no [pull NAME] sections in %s and no --host: nothing to do",
			         cfg.path);
	}
out_cfg:
	config_free(&cfg);
out:
	strvec_clear(&o.datasets);
	return ret;
}
