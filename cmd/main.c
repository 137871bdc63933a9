/*
 * zkeep: one binary, git-style subcommands. Invoked under a seed tool's
 * name (zfs-pull-backups, ...) through a symlink, it behaves as that tool.
 * Subcommands are matched by exact name only: a verb that destroys data is
 * never reached by a prefix or a typo.
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "log.h"
#include "opt.h"
#include "banned.h"

#ifndef ZKEEP_VERSION
#define ZKEEP_VERSION "0.0.0-dev"
#endif
const char zkeep_version[] = ZKEEP_VERSION;

static const struct cmd commands[] = {
    {"snapshot", "zfs-snapshot", cmd_snapshot,
     "--type hourly|daily|monthly|yearly [--dry-run] [--debug] [-q] [--config FILE]",
     "take the policy snapshots due for one interval, in one zfs call", snapshot_opts},
    {"prune", "zfs-prune", cmd_prune, "[--dry-run] [--debug] [-q] [--config FILE]",
     "destroy expired policy snapshots", prune_opts},
    {"report", "zfs-snapshot-report", cmd_report,
     "[--json] [--debug] [-q] [--cache-file PATH] [--mqtt-publish --mqtt-topic T "
     "[--mqtt-host B]] [--config FILE]",
     "policy compliance as a table or JSON", report_opts},
    {"pull", "zfs-pull-backups", cmd_pull,
     "--host H --datasets DS... --destination D [--user U] [--name N] [-q] [--debug] [--dry-run] "
     "[--force] [--full-newest] [--bwlimit RATE] [--keep SPEC] [--wait[=S]] [--config FILE] "
     "[--job NAME] [--jobs N] [--mqtt-host B [--mqtt-topic-prefix P] [--mqtt-name M]]",
     "pull datasets from a client host over ssh", pull_opts},
    {"push", "zfs-push-backups", cmd_push,
     "--host H --datasets DS... --destination D [--user U] [--strip-prefix P] [--restricted] "
     "[--bwlimit RATE] [-q] [--debug] [--dry-run] [--force] [--wait[=S]] [--config FILE] "
     "[--job NAME] [--jobs N]",
     "push raw streams to an offsite host over ssh", push_opts},
    {"api", "zfs-api", cmd_api,
     "[--listen HOST:PORT] [--interval S] [--metrics-once] [--debug] [-q] [--config FILE]",
     "the per-host HTTP daemon: JSON API and /metrics", api_opts},
    {"status", NULL, cmd_status, "[--json] [--color auto|always|never] [--config FILE]",
     "one screen: pools, policy compliance, backups and locks; exit 1 on trouble", status_opts},
    {"gate", NULL, cmd_gate,
     "(--allow OPS | --compat seed) --prefix DS [--prefix DS]... [--dry-run]\n"
     "   or: zkeep gate --compat seed --any-dataset [--dry-run]",
     "an ssh forced command for backup keys", gate_opts},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void cmd_print_usage(const struct cmd *self, int to_stderr)
{
	FILE *f = to_stderr ? stderr : stdout;
	if (self->seed_name)
		fprintf(f, "usage: zkeep %s %s\n   or: %s %s\n", self->name, self->usage,
		        self->seed_name, self->usage);
	else
		fprintf(f, "usage: zkeep %s %s\n", self->name, self->usage);
}

void cmd_print_help(const struct cmd *self)
{
	cmd_print_usage(self, 0);
	printf("\n%s\n\noptions:\n", self->summary);
	opt_print_help(stdout, self->opts);
	printf("\nSee man zkeep-%s.\n", self->name);
}

static void help(FILE *f)
{
	fprintf(f, "usage: zkeep <command> [options]\n"
	           "       zkeep help | --help | --version\n\n"
	           "ZFS snapshots, replication and monitoring for a small fleet.\n\n"
	           "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'zkeep <command> --help' shows a command's options; man zkeep-<command> "
	           "has the rest.\n"
	           "Exit codes: 0 success, 1 something failed, 2 usage or configuration "
	           "error.\n");
}

/* Edit distance of a and b (short words: subcommand names), for "did
 * you mean". */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[32];
	if (la >= 31 || lb >= 31)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Started by cron or a daemon with fd 0, 1 or 2 closed, the next open()
 * would land there and a child's output would go into it. */
static void ensure_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

int main(int argc, char **argv)
{
	ensure_stdio();
	/* Writes to a dead child must fail with EPIPE, not kill us. */
	signal(SIGPIPE, SIG_IGN);
	log_setup("zkeep", LOG_SINK_STDERR, LOG_LVL_INFO);

	const char *self = argc > 0 ? base_name(argv[0]) : "zkeep";
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (commands[i].seed_name && !strcmp(self, commands[i].seed_name))
			return commands[i].fn(argc, argv, &commands[i]);

	if (argc < 2) {
		help(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("zkeep %s\n", zkeep_version);
		return EXIT_OK;
	}
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc > 2)
			for (size_t i = 0; i < N_COMMANDS; i++)
				if (!strcmp(argv[2], commands[i].name)) {
					cmd_print_help(&commands[i]);
					return EXIT_OK;
				}
		help(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return commands[i].fn(argc - 1, argv + 1, &commands[i]);
	/* a suggestion only: commands are never run by a near match */
	const char *near = NULL;
	size_t best = 3;
	for (size_t i = 0; i < N_COMMANDS; i++) {
		size_t d = distance(name, commands[i].name);
		if (d < best) {
			best = d;
			near = commands[i].name;
		}
	}
	if (near)
		fprintf(stderr, "zkeep: '%s' is not a zkeep command; did you mean '%s'?\n", name,
		        near);
	else
		fprintf(stderr, "zkeep: '%s' is not a zkeep command; see 'zkeep help'\n", name);
	return EXIT_USAGE;
}
