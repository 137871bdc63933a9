/*
 * One transfer: zfs send on one host | zkeep's relay | zfs receive on
 * another, and what went wrong when it did. Owns the send and receive
 * command lines (the receive's safety options: -u, -x mountpoint,
 * canmount=noauto; the seed's receive line on a restricted remote), the
 * progress line, and the one rule of which side of the pipeline to blame.
 *
 * Errors: transfer_run returns 0 when both sides exited 0 and the relay
 * moved the whole stream; -EBADMSG/-ENODATA when the relay refused the
 * stream's first record (nothing was received); otherwise -EIO (or the
 * relay's error) with a message that names the side to blame first and
 * e->kind the zfs_err_kind of that side's stderr.
 */
#ifndef ZK_TRANSFER_H
#define ZK_TRANSFER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "host.h"
#include "proc.h"
#include "strvec.h"
#include "zfs.h"

struct transfer {
	const struct host *src, *dst;
	const char *source; /* the dataset the stream must be a snapshot of */
	const char *target; /* the dataset received into */
	const char *from;   /* base snapshot or bookmark; NULL: a full send */
	const char *to;     /* the snapshot sent up to (with token: a name for messages) */
	bool intermediates; /* -I rather than -i */
	const char *token;  /* resume this token (send -t) instead */
	enum zfs_type type; /* the source's type: filesystem or volume */
	bool raw;           /* send -w (also with a token: it is ours to give) */
	bool restricted;    /* the target takes the seed's receive line only */
	bool rollback;      /* receive -F */
	bool resumable;     /* receive -s */
	bool progress;      /* a progress line on stderr */
	const struct strvec *recv_opts; /* more receive options, or NULL */
	uint64_t bwlimit;               /* bytes/s, 0: none */
	int stall_timeout_ms, timeout_ms;
};

/* Runs t; adds the bytes relayed to *bytes. */
int transfer_run(const struct transfer *t, uint64_t *bytes, struct zerr *e);

/* Which side's failure is the cause, from how both ended and what the
 * relay returned (relay_r: 0 or its negative error). Pure. */
enum transfer_blame {
	BLAME_NONE,     /* all went well */
	BLAME_STREAM,   /* the relay refused the stream's first record */
	BLAME_SENDER,   /* the sender failed on its own */
	BLAME_RECEIVER, /* the receiver failed (the sender's error is its echo) */
	BLAME_RELAY,    /* both exited 0 but the relay failed (stall, ...) */
};
enum transfer_blame transfer_blame(const struct proc_status *snd, const struct proc_status *rcv,
                                   int relay_r);

#endif
