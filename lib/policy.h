/*
 * Snapshot policies, pure: snapshot names, what is due, what expires, and
 * compliance. No zfs calls and no clock: "now" is always a parameter, and
 * local time comes from the process's TZ (localtime_r), so tests can set
 * TZ to a zone with DST and any instant they like.
 *
 * Names are "<prefix>_%Y-%m-%d_%H:%M:%S_<interval>" in local time (the
 * seed's form). Only names that match that exact pattern are ever counted
 * or expired; every other snapshot is left alone.
 *
 * Ownership: struct policy_index points into the zfs_list it was built
 * from (which must outlive it) and owns only its arrays.
 */
#ifndef ZK_POLICY_H
#define ZK_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "strvec.h"
#include "zfs.h"

/* Appends the snapshot name (the part after '@') for iv at now. */
void policy_snapname(struct buf *out, const char *prefix, enum zk_interval iv, time_t now);

/* 0 when snap (the part after '@') is exactly the pattern for prefix, with
 * a valid date; fills *iv and *tm (local fields, tm_isdst = -1). -EINVAL
 * otherwise. */
int policy_snapname_parse(const char *snap, const char *prefix, enum zk_interval *iv,
                          struct tm *tm);

/* The local period (hour, day, month, year) a time falls in, as a number
 * that is equal for two times exactly when they share the period. */
int64_t policy_period(enum zk_interval iv, const struct tm *tm);

/* The nominal length of an interval in seconds (month 31 d, year 366 d):
 * the unit of the compliance age limit. */
int64_t policy_interval_seconds(enum zk_interval iv);

/* The snapshots of one dataset, in createtxg order (history order). */
struct policy_snaps {
	const struct zfs_obj **v;
	size_t n, alloc;
};

/* A filesystem or volume of the listing, with its snapshots and, when it
 * is managed, its policy and the config section that gave it. */
struct policy_dataset {
	const struct zfs_obj *obj;
	const struct zk_policy *policy; /* NULL: unmanaged */
	const char *from;               /* the [dataset] that set the policy */
	bool unknown; /* that [dataset]'s policy is unknown: policy is &policy_unknown */
	struct policy_snaps snaps;
};

/* What a dataset of unknown policy gets (struct zk_dataset_cfg): named
 * "none", keeps nothing, and neither autosnap nor autoprune, so that it
 * is listed as none and never snapshotted or pruned. */
extern const struct zk_policy policy_unknown;

struct policy_index {
	struct policy_dataset *v; /* sorted by name */
	size_t n;
	size_t discovered;     /* undeclared datasets given a policy by discovery */
	struct strvec missing; /* [dataset] sections with no such dataset */
};

/* Groups l's snapshots under their datasets and applies the config's
 * [dataset] sections (the seed's discovery): a declared dataset gets its
 * own effective policy; an undeclared one gets that of its nearest
 * declared ancestor that says discover_children, at any depth and past
 * declared ancestors that do not (seed-system.md 1.2), else it is
 * unmanaged. */
void policy_index_build(struct policy_index *ix, const struct zfs_list *l,
                        const struct zk_config *c);
void policy_index_free(struct policy_index *ix);
struct policy_dataset *policy_index_find(const struct policy_index *ix, const char *name);

/* true when ds has no snapshot of iv named for now's local period. */
bool policy_is_due(const struct policy_snaps *s, const char *prefix, enum zk_interval iv,
                   time_t now);

/* The snapshots of iv beyond the newest keep (by createtxg, never by the
 * clock), oldest first, into out; those among them with holds go to held
 * instead and are not to be destroyed. */
void policy_expired(const struct policy_snaps *s, const char *prefix, enum zk_interval iv, int keep,
                    struct policy_snaps *out, struct policy_snaps *held);

/* Prune's decision for one dataset in one pass (each name parsed once):
 * counts[iv] gets the snapshots of each interval; out gets, for each
 * interval with keep[iv] >= 0, the oldest beyond the newest keep[iv] (by
 * createtxg, never by the clock), in listing order. Holds are the
 * caller's to honour. */
void policy_expire(const struct policy_snaps *s, const char *prefix, const int keep[ZK_N_INTERVALS],
                   struct policy_snaps *out, unsigned counts[ZK_N_INTERVALS]);

struct policy_compliance {
	unsigned count;   /* snapshots of the interval that match the pattern */
	int retention;    /* what the policy keeps */
	int seed_percent; /* the seed's int(count / retention * 100) in IEEE
	                     double, uncapped (seed-system.md 1.6; 100 when
	                     none is kept): its API's and /metrics' figure */
	int percent;      /* count * 100 / retention exactly, capped at 100 */
	uint64_t newest;  /* creation of the newest, ZFS_NONE when none */
	uint64_t oldest;  /* creation of the oldest, ZFS_NONE when none */
	bool fresh;       /* newest younger than factor intervals (or retention 0) */
	bool compliant;   /* percent == 100 and fresh */
};

void policy_compliance(const struct policy_snaps *s, const char *prefix, const struct zk_policy *p,
                       time_t now, int factor, struct policy_compliance out[ZK_N_INTERVALS]);

/* Counts matching snapshots per interval (for unmanaged datasets too). */
void policy_counts(const struct policy_snaps *s, const char *prefix,
                   unsigned counts[ZK_N_INTERVALS], unsigned *autosnap_total);

void policy_snaps_push(struct policy_snaps *s, const struct zfs_obj *o);
void policy_snaps_free(struct policy_snaps *s);

#endif
