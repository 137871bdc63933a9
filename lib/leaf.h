/*
 * A first pull into a target that exists but has no snapshots: the empty
 * leaf the seed's Ansible role pre-created for every critical dataset
 * (D/<client>/<ds>, canmount=off, acltype=posix, xattr=sa), which the
 * seed's first `zfs receive -F -u` overwrote.
 *
 * Empty means: no snapshots, bookmarks or children, no resume token,
 * canmount=off (as the role created it) and referenced <= 1 MiB (written
 * is never 0 without a snapshot). A target with anything more is never
 * overwritten, --force or not: it may be someone's data.
 *
 * Taking an empty leaf over:
 *  - a plain stream into an unencrypted leaf: the receive gets -F;
 *  - an encrypted leaf, or a raw stream (libzfs refuses -F for both): for
 *    a plain stream the parent's key must be loaded (the new dataset
 *    inherits its encryption); the leaf's guid is checked unchanged and it
 *    is destroyed (plain `zfs destroy`, which refuses a dataset with
 *    snapshots or children), and the receive, without -F, carries the
 *    leaf's own acltype and xattr as -o. A leaf that is its own encryption
 *    root is refused: its key could not be put back. If the receive fails,
 *    leaf_restore makes the leaf again as it was.
 *
 * Owns: struct leaf_take's strings and vector, freed by leaf_take_free.
 * Errors: -EEXIST when the target is not empty (the message says what is
 * in it), -EACCES when the parent's key is not loaded, -ESTALE when the
 * leaf changed between the look and the destroy, -EPERM for an encryption
 * root; others from the zfs calls, naming the target.
 */
#ifndef ZK_LEAF_H
#define ZK_LEAF_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "host.h"
#include "strvec.h"

/* What `zfs get` says of the target and everything under it. */
struct leaf {
	uint64_t guid;
	bool encrypted;        /* encryption is not off */
	bool own_key;          /* it is its own encryption root */
	char *acltype, *xattr; /* set locally on it (to carry over), or NULL */
	char why[256];         /* not empty: what is in it; "" when empty */
};

struct leaf_take {
	bool force;              /* the first receive takes -F */
	bool destroyed;          /* the leaf is gone: leaf_restore if the receive fails */
	struct strvec recv_opts; /* "-o", "acltype=posix", ... for the receive */
	struct leaf lf;
};

/* The properties leaf_parse reads, for `zfs get -Hp -r -t all -o
 * name,property,value,source LEAF_PROPS target`. */
#define LEAF_PROPS                                                                                 \
	"guid,canmount,encryption,encryptionroot,referenced,receive_resume_token,acltype,xattr"

/* Parses that output for target into lf. -EINVAL for output that is not
 * zfs get's (named). */
int leaf_parse(const char *target, const char *text, struct leaf *lf, struct zerr *e);

/* Makes target, which was listed without snapshots, ready for a first
 * full receive of a plain (raw false) or raw stream of a filesystem, as
 * above. A target gone since (a partial receive aborted) is nothing to
 * take over. dry_run: every check, and what would be done is said;
 * nothing destroyed. */
int leaf_take(const struct host *h, const char *target, bool raw, bool dry_run, int timeout_ms,
              struct leaf_take *t, struct zerr *e);

/* After a failed receive into a leaf leaf_take destroyed: creates it again
 * with canmount=off and its own acltype and xattr, unless the target
 * exists (the receive made it after all). */
int leaf_restore(const struct host *h, const char *target, const struct leaf_take *t,
                 int timeout_ms, struct zerr *e);

/* The properties t carries for the receive, as "acltype=posix xattr=sa"
 * into out (empty when none): what leaf_props_set must set later when the
 * first receive was interrupted (a resumed receive takes no -o). */
void leaf_props_of(const struct leaf_take *t, struct buf *out);

/* Sets props (leaf_props_of's form, read back from a run record) on
 * target with one `zfs set`. Only acltype and xattr with values of
 * letters and digits are taken: -EINVAL for anything else, naming it,
 * and nothing is set. */
int leaf_props_set(const struct host *h, const char *target, const char *props, int timeout_ms,
                   struct zerr *e);

void leaf_take_free(struct leaf_take *t);

#endif
