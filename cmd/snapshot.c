/*
 * zkeep snapshot / zfs-snapshot: the policy snapshots due for one interval,
 * all datasets in one zfs call. See zkeep-snapshot(1).
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

/* What the flags say: the shared ones and --type. */
struct snapshot_args {
	struct cmd_args common;
	const char *type;
};

static int take(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct snapshot_args *a = ctx;
	if (c != 't')
		return cmd_take_args(&a->common, c, v, argc, argv);
	a->type = v;
	return CMD_GO_ON;
}

int cmd_snapshot(int argc, char **argv, const struct cmd *self)
{
	struct snapshot_args sa = {{0}, NULL};
	const struct cmd_args *a = &sa.common;
	int ret = cmd_parse(self, argc, argv, CMD_PARSE_SEED, take, &sa);
	if (ret != CMD_GO_ON)
		return ret;
	const char *type = sa.type;
	enum zk_interval iv;
	struct zerr e = ZERR_INIT;
	if (!type)
		return cmd_usage_error(self, "--type is required");
	if (config_parse_interval(type, &iv, &e) < 0)
		return cmd_usage_error(self, "%s", e.msg);
	if ((ret = cmd_seed_root_check(self, argv[0], a->dry)) != EXIT_OK)
		return ret;
	cmd_setup_log(self, argv[0], a->quiet, a->debug);

	struct zk_config cfg;
	struct host local;
	struct autosnap as;
	struct autosnap_result res = {0};
	/* one time for the listing's choice and the due check */
	const struct cmd_due due = {iv, (time_t)cmd_now()};
	ret = cmd_autosnap_open(a->config, &cfg, &local, &as, true, &due);
	struct notify_start *hc = notify_start(a->dry ? NULL : cfg.snapshot_healthcheck_url);
	if (ret == EXIT_OK) {
		ret = autosnap_snapshot(&as, iv, due.now, a->dry, &res) < 0 ? EXIT_FAILED : EXIT_OK;
		log_debug("%u taken, %u not due, %u failed, %u zfs calls", res.done, res.skipped,
		          res.failed, as.zfs_calls);
	}
	cmd_autosnap_ping_end(hc, cfg.state_dir, ret, self->name, type,
	                      res.done + res.skipped + res.failed ? &res : NULL);
	cmd_autosnap_close(&cfg, &local, &as);
	return ret;
}
