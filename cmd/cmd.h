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

struct cmd {
	const char *name;      /* the subcommand, e.g. "pull" */
	const char *seed_name; /* the seed tool it replaces, or NULL */
	int (*fn)(int argc, char **argv, const struct cmd *self);
	const char *usage; /* one line of synopsis, without "zkeep NAME" */
	const char *summary;
};

extern const char zkeep_version[];

int cmd_status(int argc, char **argv, const struct cmd *self);
int cmd_not_yet(int argc, char **argv, const struct cmd *self);

/* The usage line as printed by --help and on misuse. */
void cmd_print_usage(const struct cmd *self, int to_stderr);

#endif
