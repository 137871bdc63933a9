/*
 * The ssh forced-command gate, pure part: from the command line a client
 * asked for (SSH_ORIGINAL_COMMAND) to the argv to exec, or a refusal.
 *
 * The line is split into words without any shell: only plain words
 * separated by single spaces are accepted; quotes, backslashes, '$', '`',
 * ';', '|', '&', '<', '>', '*', '?', newlines and control characters are
 * refused outright. The words must then match one operation of the
 * grammar the key was given (GATE_OP_*), with every dataset confined to
 * one of the prefixes (whole path components only). In seed mode only the
 * seed's five command lines, byte for byte, are accepted: on datasets at
 * or under a prefix, and "zfs list A" for a proper ancestor A of one (the
 * seed's push lists every ancestor of its target from the pool down, and
 * a listing of A tells only that A exists and its space figures); or, with
 * any_dataset and no prefix, on any dataset of the seed's charset, as the
 * seed's script did.
 *
 * Nothing here runs anything; cmd/gate.c runs the token check's listing
 * (gate_token_listing) and execs the result.
 */
#ifndef ZK_GATE_H
#define ZK_GATE_H

#include <stdbool.h>

#include "buf.h"
#include "err.h"
#include "strvec.h"

/* Longer command lines are refused. zkeep batches names into one call
 * up to ZFS_ARGV_NAMES_MAX bytes (a hold or listing of every dataset of
 * a job), which fits with room to spare; a remote command line is one
 * argument of the remote shell, which Linux caps at 128 KiB. */
#define GATE_LINE_MAX 65536
/* The first zkeep whose receives carry -u -x mountpoint, which the gate
 * requires (a refusal of an older sender's receive names it). */
#define GATE_RECEIVE_SINCE "0.2.0"

/* The seed offsite host's allowlist (its restrict_commands.sh): "ls" and
 * these four command lines, each followed by one dataset. The gate
 * accepts exactly them under --compat seed, and a push to a restricted
 * remote sends nothing else: both read them from here. */
enum gate_seed_line {
	GATE_SEED_LIST,           /* zfs list DS */
	GATE_SEED_LIST_SNAPSHOTS, /* zfs list -t snapshot -H -o name -s creation -r DS */
	GATE_SEED_CREATE,         /* zfs create -o canmount=off DS */
	GATE_SEED_RECEIVE,        /* zfs receive -F -u DS */
	GATE_SEED_N
};
#define GATE_SEED_WORDS 10 /* the longest line's words, without DS */
extern const char *const gate_seed_lines[GATE_SEED_N][GATE_SEED_WORDS + 1];

/* gate_seed_lines[line] followed by ds, into argv (room for
 * GATE_SEED_WORDS + 2 pointers, NULL-terminated). */
void gate_seed_argv(enum gate_seed_line line, const char *ds, const char **argv);

/* A refusal under --compat seed, as the seed's script made it, so that the
 * monitoring that watches for it keeps working: this line to syslog at
 * local0.crit, tagged as logger(1) tags it (the user's name), then
 * GATE_SEED_REFUSAL on stderr and exit 1. */
#define GATE_SEED_REFUSAL "Command not permitted"
/* Appends "BLOCKED non-whitelisted command (client CLIENT): LINE" to out,
 * both escaped as gate_log_escape() does (so a multi-line command is one
 * log line, where the seed logged its newlines as they came); NULL for
 * either is empty, as bash expands an unset variable. */
void gate_seed_blocked(struct buf *out, const char *client, const char *line);

/* s as it may go into a log line: printable ASCII, a backslash and every
 * other byte as \xNN (BUF_ESC_ASCII), at most GATE_LOG_MAX bytes of s,
 * then "..." when there was more. */
#define GATE_LOG_MAX 400
void gate_log_escape(struct buf *out, const char *s);

enum gate_op {
	GATE_OP_LS = 1 << 0,       /* "ls" */
	GATE_OP_LIST = 1 << 1,     /* zfs list / get / holds / version, read only */
	GATE_OP_CREATE = 1 << 2,   /* zfs create -o canmount=off DS */
	GATE_OP_RECEIVE = 1 << 3,  /* zfs receive -u -x mountpoint [-o canmount=noauto] [-F]
	                            * [-s] DS, zfs receive -A DS */
	GATE_OP_SEND = 1 << 4,     /* zfs send of allowed snapshots, or -t TOKEN */
	GATE_OP_HOLD = 1 << 5,     /* zfs hold zkeep:TAG SNAP... */
	GATE_OP_RELEASE = 1 << 6,  /* zfs release zkeep:TAG SNAP... */
	GATE_OP_BOOKMARK = 1 << 7, /* zfs bookmark SNAP DS#zkeep..., zfs destroy DS#zkeep... */
};

struct gate {
	unsigned allow;         /* GATE_OP_* */
	bool seed;              /* --compat seed: the five lines, nothing more */
	bool any_dataset;       /* with seed and no prefix: any dataset (the
	                         * seed's script); ignored without seed */
	struct strvec prefixes; /* datasets must be these or below them */
	const char *zfs;        /* absolute path of zfs */
	const char *ls;         /* absolute path of ls */
};

void gate_init(struct gate *g);
void gate_free(struct gate *g);
/* "ls,list,receive" -> GATE_OP_* bits; -EINVAL naming an unknown one. */
int gate_parse_allow(const char *s, unsigned *out, struct zerr *e);
/* Adds a prefix after checking it is a valid dataset name. */
int gate_add_prefix(struct gate *g, const char *prefix, struct zerr *e);

/* Splits line into words (see above). -EPERM with the reason. */
int gate_split(const char *line, struct strvec *words, struct zerr *e);

/* Decides: 0 and argv (absolute program first) to exec when line is
 * allowed, -EPERM with the reason otherwise. argv is cleared first. */
int gate_check(const struct gate *g, const char *line, struct strvec *argv, struct zerr *e);

/* A `zfs send -t TOKEN` that gate_check accepted names its snapshot by
 * guid, and zfs looks for that guid from toname's dataset up to the pool
 * root, so the name (checked by gate_check) does not confine it alone.
 * gate_token_listing() returns 1 and the argv of the listing that must
 * show the snapshot with that guid (and the token's base, if any) in
 * toname's own dataset, when argv is such a send; 0 when it is not; -EINVAL
 * for a bad token. gate_token_verify() decides from that listing's output
 * (name<TAB>guid lines): 0, or -EPERM with why. */
struct token;
int gate_token_listing(const struct gate *g, const struct strvec *argv, struct token *t,
                       struct strvec *list_argv, struct zerr *e);
int gate_token_verify(const struct token *t, const char *listing, struct zerr *e);

#endif
