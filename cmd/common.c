/*
 * What every subcommand does the same way: misuse messages, logging set-up,
 * loading the config, and the clock.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autosnap.h"
#include "cmd.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "banned.h"

int cmd_usage_error(const struct cmd *self, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "zkeep %s: ", self->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cmd_print_usage(self, 1);
	return EXIT_USAGE;
}

int cmd_opt_error(const struct cmd *self, int c, char **argv)
{
	if (c == ':')
		return cmd_usage_error(self, "'%s' needs a value", argv[optind - 1]);
	if (c == OPT_BAD_VALUE) /* --log is the one entry that applies itself */
		return cmd_usage_error(self, "'%s': --log takes stderr, json or syslog",
		                       argv[optind - 1]);
	return cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
}

int cmd_parse(const struct cmd *self, int argc, char **argv, unsigned flags, cmd_take_fn take,
              void *ctx)
{
	struct opt_parser op;
	const char *v;
	int c, ret = CMD_GO_ON;
	opt_begin(&op, self->opts, flags & CMD_PARSE_LISTS);
	if ((flags & CMD_PARSE_SEED) && cmd_is_seed(self, argv[0]))
		opt_seed_prefixes(&op, argc, argv);
	while (ret == CMD_GO_ON && (c = opt_next(&op, argc, argv, &v)) != -1) {
		if (c == 'h') {
			cmd_print_help(self);
			ret = EXIT_OK;
		} else if ((ret = take(ctx, c, v, argc, argv)) == CMD_NOT_MINE) {
			ret = cmd_opt_error(self, c, argv);
		}
	}
	opt_end(&op);
	if (ret == CMD_GO_ON && optind < argc)
		ret = cmd_usage_error(self, "unexpected argument '%s'", argv[optind]);
	return ret;
}

int cmd_take_args(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct cmd_args *a = ctx;
	(void)argc;
	(void)argv;
	if (c == 'n')
		a->dry = 1;
	else if (c == 'c')
		a->config = v;
	else if (!opt_flag(c, OPT_ID_DEBUG, &a->debug) && !opt_flag(c, 'q', &a->quiet))
		return CMD_NOT_MINE;
	return CMD_GO_ON;
}

bool cmd_is_seed(const struct cmd *self, const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	return self->seed_name && !strcmp(base, self->seed_name);
}

int cmd_seed_root_check(const struct cmd *self, const char *argv0, bool dry_run)
{
	if (!cmd_is_seed(self, argv0) || dry_run || geteuid() == 0)
		return EXIT_OK;
	fputs("! This script must be run as root (use sudo)\n", stderr);
	return EXIT_FAILED;
}

void cmd_setup_log(const struct cmd *self, const char *argv0, int quiet, int debug)
{
	bool seed = cmd_is_seed(self, argv0);
	/* -q wins over --debug, as the seed's -q hid its debug lines too */
	enum log_level lvl = quiet ? LOG_LVL_ERROR : debug ? LOG_LVL_DEBUG : LOG_LVL_INFO;
	log_setup(seed ? self->seed_name : "zkeep", seed ? LOG_SINK_COMPAT : LOG_SINK_STDERR, lvl);
	/* the seed's policy tools marked errors "! ", its pull and push "🚨 " */
	if (seed && strcmp(self->name, "pull") && strcmp(self->name, "push"))
		log_set_error_mark("! ");
}

void cmd_config_warnings(const struct zk_config *c)
{
	struct strvec w = STRVEC_INIT;
	config_dataset_warnings(c, &w);
	for (size_t i = 0; i < w.n; i++)
		log_warn("%s", w.v[i]);
	strvec_clear(&w);
}

int cmd_load_config(struct zk_config *c, const char *path)
{
	struct zerr e = ZERR_INIT;
	if (config_load_file(c, path ? path : ZK_DEFAULT_CONFIG, &e) < 0) {
		log_error("%s", e.msg);
		if (e.code == -ENOENT && !path)
			log_error("write one (see /usr/share/doc/zkeep/zkeep.conf.example) or pass "
			          "--config FILE");
		return EXIT_USAGE;
	}
	cmd_config_warnings(c);
	return EXIT_OK;
}

int cmd_autosnap_open(const char *config, struct zk_config *cfg, struct host *local,
                      struct autosnap *a, bool names_only, const struct cmd_due *due)
{
	struct zerr e = ZERR_INIT;
	config_init(cfg);
	host_init_local(local);
	memset(a, 0, sizeof(*a));
	int ret = cmd_load_config(cfg, config);
	if (ret != EXIT_OK)
		return ret;
	int ms = cfg->zfs_timeout * 1000;
	int r = due          ? autosnap_load_due(a, cfg, local, ms, due->iv, due->now, &e)
	        : names_only ? autosnap_load_names(a, cfg, local, ms, &e)
	                     : autosnap_load(a, cfg, local, ms, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

void cmd_autosnap_close(struct zk_config *cfg, struct host *local, struct autosnap *a)
{
	autosnap_free(a);
	host_free(local);
	config_free(cfg);
}

void cmd_autosnap_ping_end(struct notify_start *hc, const char *state_dir, int ret, const char *cmd,
                           const char *type, const struct autosnap_result *res)
{
	if (!hc)
		return;
	struct buf body = BUF_INIT;
	buf_addf(&body, "%s%s%s: %s", cmd, type ? " " : "", type ? type : "",
	         ret == EXIT_OK ? "ok" : "failed");
	if (res)
		buf_addf(&body, ", %u done, %u skipped, %u failed", res->done, res->skipped,
		         res->failed);
	buf_addch(&body, '\n');
	struct buf name = BUF_INIT;
	buf_addf(&name, "%s%s", type ? "snapshot-" : "prune", type ? type : "");
	notify_timer_end(hc, state_dir, type ? RECORD_SNAPSHOT : RECORD_PRUNE, name.s,
	                 ret == EXIT_OK, body.s);
	buf_free(&name);
	buf_free(&body);
}

long long cmd_now(void)
{
	const char *s = getenv("ZKEEP_NOW");
	if (s && *s) {
		char *end;
		long long v = strtoll(s, &end, 10);
		if (!*end && v > 0)
			return v;
		log_warn("ignoring ZKEEP_NOW='%s': not a number of seconds", s);
	}
	return (long long)time(NULL);
}
