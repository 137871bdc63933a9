/*
 * The subcommands of zkeep. Each takes its own argv (argv[0] is the
 * subcommand or seed-tool name) and returns the process exit code:
 *   0  success
 *   1  the job ran and something failed (each failure is named)
 *   2  usage or configuration error; nothing was changed
 */
#ifndef ZK_CMD_H
#define ZK_CMD_H

#define EXIT_OK     0
#define EXIT_FAILED 1
#define EXIT_USAGE  2

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "opt.h"

struct cmd {
	const char *name;      /* the subcommand, e.g. "pull" */
	const char *seed_name; /* the seed tool it replaces, or NULL */
	int (*fn)(int argc, char **argv, const struct cmd *self);
	const char *usage; /* one line of synopsis, without "zkeep NAME" */
	const char *summary;
	const struct opt *opts; /* its option table (lib/opt.h) */
};

/* --log SINK, every command's: applied as it is parsed (lib/opt.h's
 * apply, here log_choose), so it is the sink from then on, whatever sink
 * the command sets up. */
#define OPT_LOG                                                                                    \
	{                                                                                          \
		OPT_ID_LOG, "log", OPT_VALUE, "SINK",                                              \
		    "where log lines go: stderr, json (lines on stderr) or syslog", false, false,  \
		    log_choose                                                                     \
	}

/* Each command's option table: getopt, --help and the man page test
 * (tests/host/t_cli_docs.sh) all read it. */
extern const struct opt snapshot_opts[], prune_opts[], report_opts[], pull_opts[], push_opts[],
    api_opts[], status_opts[], gate_opts[];

extern const char zkeep_version[];

int cmd_status(int argc, char **argv, const struct cmd *self);
int cmd_snapshot(int argc, char **argv, const struct cmd *self);
int cmd_prune(int argc, char **argv, const struct cmd *self);
int cmd_report(int argc, char **argv, const struct cmd *self);
int cmd_pull(int argc, char **argv, const struct cmd *self);
int cmd_push(int argc, char **argv, const struct cmd *self);
int cmd_api(int argc, char **argv, const struct cmd *self);
int cmd_gate(int argc, char **argv, const struct cmd *self);

/* A step of a command that did not end it: not an exit code. */
#define CMD_GO_ON (-1)
/* A cmd_parse callback's answer for an id it does not take: cmd_parse
 * reports it as cmd_opt_error does. */
#define CMD_NOT_MINE (-2)

/* cmd_parse's flags: stop at the first operand (an option takes a list:
 * --datasets A B); under the seed tool's name, resolve the seed's
 * abbreviations first (opt_seed_prefixes). */
#define CMD_PARSE_LISTS 1u
#define CMD_PARSE_SEED  2u

/* Each option of argv by self->opts: -h prints the help; any other id goes
 * to take(ctx, id, value, argc, argv), which returns CMD_GO_ON, an exit
 * code to stop with, or CMD_NOT_MINE. An operand left over is a usage
 * error. Returns CMD_GO_ON when the command is to run, else its exit code
 * (--help's EXIT_OK, a usage error's EXIT_USAGE after saying why, or
 * take's). */
typedef int (*cmd_take_fn)(void *ctx, int id, const char *value, int argc, char **argv);
int cmd_parse(const struct cmd *self, int argc, char **argv, unsigned flags, cmd_take_fn take,
              void *ctx);

/* The flags snapshot and prune share, and cmd_parse's take for them
 * (ctx: a struct cmd_args): -n, -c, --[no-]debug, -q. */
struct cmd_args {
	const char *config;
	int dry, debug, quiet;
};
int cmd_take_args(void *ctx, int id, const char *value, int argc, char **argv);

/* The usage line as printed on misuse. */
void cmd_print_usage(const struct cmd *self, int to_stderr);

/* --help: the usage line and every option of the command's table. */
void cmd_print_help(const struct cmd *self);

/* What opt_next's ':', '?' or OPT_BAD_VALUE means, as a usage error
 * (EXIT_USAGE). */
int cmd_opt_error(const struct cmd *self, int c, char **argv);

/* Misuse: "zkeep NAME: msg", the usage on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const struct cmd *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* true when argv0 (its base name) is the command's seed tool name. */
bool cmd_is_seed(const struct cmd *self, const char *argv0);

/* Under the seed tool's name, zfs-snapshot and zfs-prune refuse to run
 * unless root or dry_run: "! This script must be run as root (use sudo)"
 * and EXIT_FAILED. EXIT_OK otherwise; zkeep's own names run with ZFS
 * delegation. */
int cmd_seed_root_check(const struct cmd *self, const char *argv0, bool dry_run);

/* Logging for a command: the seed's "* " style when run under the seed
 * tool's name (argv0), zkeep's own otherwise; -q keeps errors only. */
void cmd_setup_log(const struct cmd *self, const char *argv0, int quiet, int debug);

struct zk_config;
/* Loads path (or /etc/zkeep/zkeep.conf when NULL) over the defaults.
 * Returns EXIT_OK, or EXIT_USAGE after logging why; warns as
 * cmd_config_warnings. */
int cmd_load_config(struct zk_config *c, const char *path);
/* A warning for each [dataset] of unknown policy (config_dataset_warnings). */
void cmd_config_warnings(const struct zk_config *c);

struct host;
struct autosnap;
/* What snapshot, prune and report start from: the config, this host, and
 * its listing: due (not NULL: the interval and time of a snapshot run),
 * autosnap_load_due; else names_only, autosnap_load_names (prune); else
 * autosnap_load's full one (the report). Returns EXIT_OK, or the exit
 * code after logging why; cmd_autosnap_close frees whatever was opened,
 * in either case. */
struct cmd_due {
	enum zk_interval iv;
	time_t now;
};
int cmd_autosnap_open(const char *config, struct zk_config *cfg, struct host *local,
                      struct autosnap *a, bool names_only, const struct cmd_due *due);
void cmd_autosnap_close(struct zk_config *cfg, struct host *local, struct autosnap *a);

/* The end of a snapshot or prune run for its [snapshot] healthcheck_url
 * (hc from notify_start; NULL: nothing): URL or URL/fail as ret says, with
 * the command, the interval (NULL for prune) and res's counts as the body;
 * res NULL when the run never got to work. What the check was told goes
 * into the timer's record in state_dir (NULL: the config was not read),
 * named snapshot-INTERVAL or prune (lib/notify.h notify_timer_end). */
struct notify_start;
struct autosnap_result;
void cmd_autosnap_ping_end(struct notify_start *hc, const char *state_dir, int ret, const char *cmd,
                           const char *type, const struct autosnap_result *res);

/* The time jobs run at: $ZKEEP_NOW (seconds since the epoch) when set, so
 * tests can stand on any instant, else the clock. */
long long cmd_now(void);

#endif
