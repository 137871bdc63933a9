/*
 * zkeep prune / zfs-prune: destroy the policy snapshots past what each
 * policy keeps, one destroy per dataset, held snapshots kept.
 * See zkeep-prune(1).
 */
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
	struct cmd_args a = {0};
	int ret = cmd_parse(self, argc, argv, CMD_PARSE_SEED, cmd_take_args, &a);
	if (ret != CMD_GO_ON)
		return ret;
	bool seed = cmd_is_seed(self, argv[0]);
	if ((ret = cmd_seed_root_check(self, argv[0], a.dry)) != EXIT_OK)
		return ret;
	cmd_setup_log(self, argv[0], a.quiet, a.debug);

	struct zk_config cfg;
	struct host local;
	struct autosnap as;
	struct autosnap_result res = {0};
	ret = cmd_autosnap_open(a.config, &cfg, &local, &as, true, NULL);
	struct notify_start *hc = notify_start(a.dry ? NULL : cfg.snapshot_healthcheck_url);
	if (ret == EXIT_OK) {
		ret = autosnap_prune(&as, a.dry, &res) < 0 ? EXIT_FAILED : EXIT_OK;
		log_debug("%u destroyed, %u held, %u failed, %u zfs calls", res.done, res.skipped,
		          res.failed, as.zfs_calls);
	}
	cmd_autosnap_ping_end(hc, cfg.state_dir, ret, self->name, NULL,
	                      res.done + res.skipped + res.failed ? &res : NULL);
	cmd_autosnap_close(&cfg, &local, &as);
	/* zfs-prune exits 1 only when not root (seed-system.md 1.4): failures
	 * are in its output, and its timer's unit stays green */
	if (seed && ret == EXIT_FAILED)
		ret = EXIT_OK;
	return ret;
}
