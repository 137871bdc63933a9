/*
 * zkeep snapshot / zfs-snapshot: the policy snapshots due for one interval,
 * all datasets in one zfs call. See zkeep-snapshot(1).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "autosnap.h"
#include "cmd.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "opt.h"
#include "banned.h"

const struct opt snapshot_opts[] = {
    {'t', "type", OPT_VALUE, "INTERVAL", "hourly, daily, monthly or yearly", false, true},
    OPT_DRY_RUN,
    OPT_DEBUG,
    OPT_QUIET,
    OPT_LOG,
    OPT_CONFIG,
    OPT_HELP,
    OPT_END_OF_TABLE,
};

int cmd_snapshot(int argc, char **argv, const struct cmd *self)
{
	const char *type = NULL, *config = NULL, *v;
	int dry = 0, debug = 0, quiet = 0, c;
	struct opt_parser op;
	opt_begin(&op, snapshot_opts, false);
	if (cmd_is_seed(self, argv[0]))
		opt_seed_prefixes(&op, argc, argv);
	while ((c = opt_next(&op, argc, argv, &v)) != -1) {
		switch (c) {
		case 't':
			type = v;
			break;
		case 'n':
			dry = 1;
			break;
		case 'c':
			config = v;
			break;
		case 'h':
			opt_end(&op);
			cmd_print_help(self);
			return EXIT_OK;
		default:
			if (opt_flag(c, OPT_ID_DEBUG, &debug) || opt_flag(c, 'q', &quiet))
				break;
			opt_end(&op);
			return cmd_opt_error(self, c, argv);
		}
	}
	opt_end(&op);
	if (optind < argc)
		return cmd_usage_error(self, "unexpected argument '%s'", argv[optind]);
	enum zk_interval iv;
	struct zerr e = ZERR_INIT;
	if (!type)
		return cmd_usage_error(self, "--type is required");
	if (config_parse_interval(type, &iv, &e) < 0)
		return cmd_usage_error(self, "%s", e.msg);
	int ret = cmd_seed_root_check(self, argv[0], dry);
	if (ret != EXIT_OK)
		return ret;
	cmd_setup_log(self, argv[0], quiet, debug);

	struct zk_config cfg;
	struct host local;
	struct autosnap a;
	struct autosnap_result res = {0};
	/* one time for the listing's choice and the due check */
	const struct cmd_due due = {iv, (time_t)cmd_now()};
	ret = cmd_autosnap_open(config, &cfg, &local, &a, true, &due);
	struct notify_start *hc = notify_start(dry ? NULL : cfg.snapshot_healthcheck_url);
	if (ret == EXIT_OK) {
		ret = autosnap_snapshot(&a, iv, due.now, dry, &res) < 0 ? EXIT_FAILED : EXIT_OK;
		log_debug("%u taken, %u not due, %u failed, %u zfs calls", res.done, res.skipped,
		          res.failed, a.zfs_calls);
	}
	cmd_autosnap_ping_end(hc, cfg.state_dir, ret, self->name, type,
	                      res.done + res.skipped + res.failed ? &res : NULL);
	cmd_autosnap_close(&cfg, &local, &a);
	return ret;
}
