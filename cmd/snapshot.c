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
#include "banned.h"

int cmd_snapshot(int argc, char **argv, const struct cmd *self)
{
	static const struct option opts[] = {
	    {"type", required_argument, NULL, 't'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"config", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *type = NULL, *config = NULL;
	int dry = 0, debug = 0, quiet = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":t:ndqc:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			type = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			cmd_print_usage(self, 0);
			return EXIT_OK;
		case ':':
			return cmd_usage_error(self, "'%s' needs a value", argv[optind - 1]);
		default:
			return cmd_usage_error(self, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cmd_usage_error(self, "unexpected argument '%s'", argv[optind]);
	enum zk_interval iv;
	struct zerr e = ZERR_INIT;
	if (!type)
		return cmd_usage_error(self, "--type is required");
	if (config_parse_interval(type, &iv, &e) < 0)
		return cmd_usage_error(self, "%s", e.msg);
	cmd_setup_log(self, argv[0], quiet, debug);

	struct zk_config cfg;
	struct host local;
	struct autosnap a;
	struct autosnap_result res;
	int ret = cmd_autosnap_open(config, &cfg, &local, &a);
	if (ret == EXIT_OK) {
		ret = autosnap_snapshot(&a, iv, (time_t)cmd_now(), dry, &res) < 0 ? EXIT_FAILED
		                                                                  : EXIT_OK;
		log_debug("%u taken, %u not due, %u failed, %u zfs calls", res.done, res.skipped,
		          res.failed, a.zfs_calls);
	}
	cmd_autosnap_close(&cfg, &local, &a);
	return ret;
}
