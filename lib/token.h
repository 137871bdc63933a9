/*
 * Resume tokens: what an interrupted `zfs receive -s` leaves in the target's
 * receive_resume_token, and what `zfs send -t` resumes from. A token comes
 * from the side that received, so zkeep treats it as untrusted input: an
 * offsite host can hand back a token it made itself (naming any snapshot,
 * without the raw flag), and `zfs send -t` would send what it names.
 *
 * This module owns the one decoder and the one rule for accepting a token;
 * push, pull and the gate all call it. The decoder is bounded (token text,
 * compressed and unpacked sizes, pair count) and pure: it reads no files
 * and runs nothing.
 *
 * Format (OpenZFS 0.7 and later, version 1):
 *   1-<fletcher4 word 0 of the payload, hex>-<unpacked length, hex>-<payload, hex>
 * where the payload is a zlib stream of a packed nvlist. The packed
 * nvlist's header names its encoding (native or XDR) and byte order;
 * both are read. Keys read: object, offset, bytes, toguid, toname,
 * fromguid, and the flags largeblockok, embedok,
 * compressok, rawok, savedok. Any other key (redact_snaps,
 * book_redact_snaps, a future one) is recorded as unknown, which
 * token_check refuses.
 *
 * Errors: -EINVAL with a message naming what is wrong ("resume token:
 * ..."); nothing is allocated on failure, and a decoded token owns no
 * heap memory.
 */
#ifndef ZK_TOKEN_H
#define ZK_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zfs.h"

#define TOKEN_TEXT_MAX   65536 /* characters of a token we decode at all */
#define TOKEN_PACKED_MAX 65536 /* bytes of the unpacked nvlist */
#define TOKEN_NAME_MAX   256   /* a dataset@snapshot name (ZFS_MAX_DATASET_NAME_LEN) */

enum {
	TOKEN_HAS_FROMGUID = 1 << 0,
	TOKEN_LARGEBLOCK = 1 << 1,
	TOKEN_EMBED = 1 << 2,
	TOKEN_COMPRESS = 1 << 3,
	TOKEN_RAW = 1 << 4,
	TOKEN_SAVED = 1 << 5,
};

struct token {
	uint64_t object, offset, bytes, toguid, fromguid;
	char toname[TOKEN_NAME_MAX];
	unsigned flags;   /* TOKEN_* */
	char unknown[64]; /* the first key not listed above, "" if none */
};

/* Decodes text into t. */
int token_decode(const char *text, struct token *t, struct zerr *e);

/* What the token must match to be resumed by a job. */
struct token_expect {
	const char *dataset; /* the job's source dataset: toname is <dataset>@<snap> */
	/* the source's snapshots of that dataset, oldest first (createtxg order) */
	const struct zfs_obj *const *snaps;
	size_t n_snaps;
	/* that dataset's bookmarks on the source: the base may be one */
	const struct zfs_obj *const *marks;
	size_t n_marks;
	/* the guid of the target's newest snapshot, 0 if the target has none */
	uint64_t target_newest_guid;
	bool raw; /* the job sends raw: rawok must be there, and only then */
};

/* The rule for resuming: 0 when t may be resumed by the job x describes,
 * else -EPERM with why in e:
 *  - toname is <x->dataset>@<snap>, that snapshot is the source's and its
 *    guid is toguid;
 *  - it is newer than the target's newest, which the source has as a
 *    snapshot or a bookmark (same guid; compared by createtxg);
 *  - fromguid, if present, is the target's newest; if absent, the target
 *    has no snapshot (a full stream);
 *  - rawok is present exactly when the job is raw;
 *  - no savedok, no key the decoder does not know (redaction among them). */
int token_check(const struct token *t, const struct token_expect *x, struct zerr *e);

#endif
