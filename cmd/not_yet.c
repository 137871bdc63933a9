/*
 * Subcommands whose issues are still open. They say so plainly and exit 2
 * rather than pretend: a cron job calling them must not read success.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "banned.h"

int cmd_not_yet(int argc, char **argv, const struct cmd *self)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cmd_print_usage(self, 0);
			printf("\n%s: not implemented yet in zkeep %s\n", self->name,
			       zkeep_version);
			return EXIT_OK;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("zkeep %s\n", zkeep_version);
			return EXIT_OK;
		}
	}
	fprintf(stderr, "zkeep %s: not implemented yet in zkeep %s\n", self->name, zkeep_version);
	return EXIT_USAGE;
}
