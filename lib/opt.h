/*
 * Command-line options: one table per command drives getopt_long, the
 * --help text, and the test that compares them with the man pages
 * (tests/host/t_cli_docs.sh). A letter is given to an option only where
 * that letter means the same thing in every command (opt.c lists them).
 *
 * Owns nothing past a parse: the getopt arrays are built by opt_begin and
 * freed by opt_end.
 */
#ifndef ZK_OPT_H
#define ZK_OPT_H

#include <stdbool.h>
#include <stdio.h>

/* ids above the letters, for options without one */
#define OPT_LONG 0x100
/* opt_next's value for --no-NAME of a negatable option: id | OPT_NO */
#define OPT_NO 0x10000

enum opt_arg { OPT_NONE, OPT_VALUE, OPT_MAYBE };

struct opt {
	int id;           /* the letter when it has one ('c'), else OPT_LONG + n */
	const char *name; /* the long name, without "--" */
	enum opt_arg arg; /* OPT_MAYBE: only as --name=VALUE */
	const char *meta; /* the value's name in --help ("FILE"), NULL without one */
	const char *help; /* one line */
	bool negatable;   /* --no-NAME too (the seed's pull and push have them) */
	bool seed;        /* the seed tool has it: abbreviations resolve to it first */
	/* When set, opt_next hands the value to apply and goes on to the next
	 * option (git's OPT_CALLBACK), so no command's loop sees this one; a
	 * negative return refuses the value: opt_next returns OPT_BAD_VALUE. */
	int (*apply)(const char *value);
};

/* opt_next's value for a value an entry's apply refused */
#define OPT_BAD_VALUE '!'

/* The entries every command that has them shares; ids fixed here. (The
 * shared --log entry, OPT_LOG, is in cmd/cmd.h: it applies a choice of
 * lib/log, which this layer does not know.) */
#define OPT_ID_DEBUG (OPT_LONG + 0)
#define OPT_ID_LOG   (OPT_LONG + 0xff)
#define OPT_CONFIG                                                                                 \
	{                                                                                          \
		'c', "config", OPT_VALUE, "FILE",                                                  \
		    "the configuration (default /etc/zkeep/zkeep.conf)", false                     \
	}
#define OPT_DEBUG                                                                                  \
	{                                                                                          \
		OPT_ID_DEBUG, "debug", OPT_NONE, NULL, "say what is done and why", true, true      \
	}
#define OPT_QUIET                                                                                  \
	{                                                                                          \
		'q', "quiet", OPT_NONE, NULL, "print errors only", true, true                      \
	}
#define OPT_DRY_RUN                                                                                \
	{                                                                                          \
		'n', "dry-run", OPT_NONE, NULL, "say what would be done; change nothing", false,   \
		    true                                                                           \
	}
#define OPT_HELP                                                                                   \
	{                                                                                          \
		'h', "help", OPT_NONE, NULL, "this help", false, true                              \
	}
#define OPT_END_OF_TABLE                                                                           \
	{                                                                                          \
		0, NULL, OPT_NONE, NULL, NULL, false                                               \
	}

struct opt_parser {
	const struct opt *t; /* ends with OPT_END_OF_TABLE */
	void *longs;         /* struct option[] */
	char *shorts;
};

/* Prepares a parse of t. stop_at_operand: stop at the first argument that
 * is not an option (for options that take a list: --datasets A B). */
void opt_begin(struct opt_parser *p, const struct opt *t, bool stop_at_operand);

/* The next option's id (| OPT_NO for --no-NAME), -1 at the end, ':' for
 * a missing value, '?' for an unknown option, OPT_BAD_VALUE for a value
 * an entry's apply refused; *value is its value or NULL. argv[optind - 1]
 * is the option (or value) just read (for messages). */
int opt_next(struct opt_parser *p, int argc, char **argv, const char **value);

void opt_end(struct opt_parser *p);

/* When c (opt_next's value) is the negatable option id or its --no- form:
 * sets *flag to 1 or 0 and returns true. */
bool opt_flag(int c, int id, int *flag);

/* Under a seed tool's name: an abbreviated --NAME[=V] that is a prefix of
 * exactly one of the seed's options (entries marked seed, and their
 * --no- forms) is written out in full in argv, before opt_next, so that
 * zkeep's own options never make the seed's abbreviations ambiguous
 * (argparse resolved them against the seed's options only: --st is
 * --strip-prefix to zfs-push-backups, though zkeep push has
 * --stall-timeout too). Stops at "--". The words written live as long as
 * the process (a value after '=' is used after opt_end). */
void opt_seed_prefixes(struct opt_parser *p, int argc, char **argv);

/* "  -c, --config FILE   the configuration ..." for each option of t. */
void opt_print_help(FILE *f, const struct opt *t);

#endif
