/*
 * zkeep prune / zfs-prune: destroy the policy snapshots past what each
 * policy keeps, one destroy per dataset, held snapshots kept.
 * See zkeep-prune(1).
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

const struct opt prune_opts[] = {
    OPT_DRY_RUN, OPT_DEBUG, OPT_QUIET, OPT_LOG, OPT_CONFIG, OPT_HELP, OPT_END_OF_TABLE,
};

int cmd_prune(int argc, char **argv, const struct cmd *self)
{
	const char *config = NULL, *v;
	int dry = 0, debug = 0, quiet = 0, c;
	struct opt_parser op;
	opt_begin(&op, prune_opts, false);
	if (cmd_is_seed(self, argv[0]))
		opt_seed_prefixes(&op, argc, argv);
	while ((c = opt_next(&op, argc, argv, &v)) != -1) {
		switch (c) {
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
	bool seed = cmd_is_seed(self, argv[0]);
	int ret = cmd_seed_root_check(self, argv[0], dry);
	if (ret != EXIT_OK)
		return ret;
	cmd_setup_log(self, argv[0], quiet, debug);

	struct zk_config cfg;
	struct host local;
	struct autosnap a;
	struct autosnap_result res = {0};
	ret = cmd_autosnap_open(config, &cfg, &local, &a, true, NULL);
	struct notify_start *hc = notify_start(dry ? NULL : cfg.snapshot_healthcheck_url);
	if (ret == EXIT_OK) {
		ret = autosnap_prune(&a, dry, &res) < 0 ? EXIT_FAILED : EXIT_OK;
		log_debug("%u destroyed, %u held, %u failed, %u zfs calls", res.done, res.skipped,
		          res.failed, a.zfs_calls);
	}
	cmd_autosnap_ping_end(hc, cfg.state_dir, ret, self->name, NULL,
	                      res.done + res.skipped + res.failed ? &res : NULL);
	cmd_autosnap_close(&cfg, &local, &a);
	/* zfs-prune exits 1 only when not root (seed-system.md 1.4): failures
	 * are in its output, and its timer's unit stays green */
	if (seed && ret == EXIT_FAILED)
		ret = EXIT_OK;
	return ret;
}
