/*
 * Run records: what the last run of a pull or push job did, one JSON file
 * per job in state_dir, named {pull,push}-NAME.json (NAME with '/', '\'
 * and '.' written as '-'). This module owns the record: its schema and
 * version, its file name, its atomic writing (lib/state) and its reading.
 * lib/replicate writes one after each run and reads the last one back
 * (which datasets may be skipped, what a failed dataset carries over);
 * lib/view reads them all for the api, /metrics, `zkeep status` and /ui/.
 *
 * Version 1 (RECORD_VERSION), written with one-space indentation, keys in
 * this order, every key present except lock_held:
 *   {"version": 1, "job": S, "kind": "pull"|"push",
 *    "source_host": S|null, "destination_host": S|null,  (null: not known)
 *    "start": T, "end": T, "result": "ok"|"failed"|"held", "error": S|null,
 *    "snapshots_changed": B, "no_snapshots_changed_since": T|null,
 *    "keep": [hourly, daily, monthly, yearly]|[]|null,  ([]: no pruning)
 *    "datasets": [D, ...],
 *    "lock_held": {"at": T, "pid": N, "by": "seed"},     (only after a skip)
 *    "notifications": [M, ...],                          (only after notifying)
 *    "notification_totals": {CHANNEL: {"sent": N, "failed": N}, ...}}
 *                                               (only once a run notified)
 *   D: {"source": S, "target": S,
 *       "result": "ok"|"up_to_date"|"failed"|"skipped", "error": S|null,
 *       "bytes": N, "start": T, "end": T,
 *       "newest": {"name": S, "guid": G, "creation": T}|null,
 *       "resume_token": S|null, "resume_refused": S|null,
 *       "leaf_props": S|null,
 *       "matched_by_name": B, "large_blocks": B, "protected": B,
 *       "snapshots_changed": {"source": T, "target": T, "source_guid": G,
 *                             "target_guid": G, "checked": T,
 *                             "protected": B}|null,
 *       "last_success": T|null}
 *   M: {"channel": "healthcheck_start"|"healthcheck"|"webhook"|"on_success"|
 *                  "on_failure", "ok": B, "error": S|null, "at": T,
 *       "attempts": N}
 * notification_totals counts every channel's notifications over all runs
 * of the job since its record was first written: the record written at a
 * run's end carries the earlier runs' totals (so the webhook's body and a
 * hook's stdin have those), the one rewritten after notifying adds this
 * run's. A deleted record starts them again at 0, as a counter's reset.
 * CHANNEL is one of M's channels; reading leaves any other out.
 * T is seconds since the epoch, N a count; G a guid as a decimal string, as
 * zfs prints it (a JSON number cannot carry half of them: jansson's
 * integers are signed 64-bit, jq's numbers doubles). Strings that are not
 * UTF-8 (a message cut mid-character, a Latin-1 ssh banner) are written
 * with U+FFFD in their place.
 *
 * Version 0 is every record without "version" (zkeep 0.2.0 and before);
 * it is read as then: guids also as signed integers (the same bits), keys
 * added later (last_success, resume_refused, the snapshots_changed ones,
 * keep) may be missing. leaf_props, notifications and notification_totals
 * came later within version 1: leaf_props is read as null when missing,
 * notification_totals as none; a reader that does not know the other two
 * ignores them, as readers of version 1 ignore keys
 * they do not know, so neither took a new version. large_blocks (the
 * target has received a stream sent with -L, so every later send needs
 * -L: transfer.h) came later within version 1 too, read as false when
 * missing: a new version would make every older zkeep refuse the whole
 * record (api, status) and keep no key either. "protected" (the
 * newest snapshot had the job's hold, or its bookmark, after the run)
 * came later within version 1 at the dataset's level: it was only in
 * snapshots_changed (still written there, for older readers), and is read
 * from there when missing. A record of a newer
 * version is refused, not guessed at. A record read and written again is
 * written as version 1.
 *
 * Timer records: the snapshot and prune timers (`zkeep snapshot --type
 * INTERVAL`, `zkeep prune`) write one when they notify (a healthcheck_url
 * in [snapshot]), so what their check was told is kept as a job's is:
 * state_dir/timer-NAME.json, NAME "snapshot-INTERVAL" or "prune", kind
 * "snapshot" or "prune", the same keys with no hosts, no keep (null) and
 * no datasets ([]), result "ok" or "failed", notifications and
 * notification_totals as above. They came within version 1: an older
 * zkeep lists only {pull,push}-*.json and never sees them.
 *
 * Reading takes what it can: a time or count outside 0..2^53 (or not a
 * number) is read as 0, "not known", with a warning in the record's
 * warnings naming the file and key, so no age, duration or rate computed
 * from one can overflow; a dataset entry without source, target and
 * result is left out; an unknown result is RECORD_UNKNOWN.
 *
 * Ownership: a struct record owns every string in it; record_free frees
 * them. Nothing here is shared between threads.
 */
#ifndef ZK_RECORD_H
#define ZK_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "strvec.h"

#define RECORD_VERSION 1

/* A job's run (pull, push), or a timer's (snapshot, prune: see "Timer
 * records" above). */
enum record_kind { RECORD_PULL, RECORD_PUSH, RECORD_SNAPSHOT, RECORD_PRUNE };

/* A run as a whole. RECORD_RUN_UNKNOWN: missing or not known (read only). */
enum record_run_result { RECORD_RUN_OK, RECORD_RUN_FAILED, RECORD_RUN_HELD, RECORD_RUN_UNKNOWN };

/* A dataset in a run. RECORD_UNKNOWN: a result this build does not know
 * (read only; shown as "unknown", not ok). */
enum record_result { RECORD_OK, RECORD_UP_TO_DATE, RECORD_FAILED, RECORD_SKIPPED, RECORD_UNKNOWN };

/* Times are seconds since the epoch, 0 when not known. */
struct record_dataset {
	char *source, *target;
	enum record_result result;
	char *error; /* why it failed, or NULL */
	int64_t bytes, start, end;
	char *newest; /* the newest snapshot on the target after the run, or NULL */
	uint64_t newest_guid;
	int64_t newest_creation;
	char *resume_token;   /* the target's pending token after the run, or NULL */
	char *resume_refused; /* why the target's token was not resumed, or NULL */
	/* "acltype=posix xattr=sa": the properties of the empty leaf the first
	 * receive replaced (leaf.h), still to be set on the target because
	 * that receive was interrupted and a resume carries no -o; or NULL */
	char *leaf_props;
	bool matched_by_name; /* the plan matched snapshots by name, not guid */
	/* the target has received a stream sent with -L (or -w): every later
	 * send into it needs -L (zfs refuses an incremental without) */
	bool large_blocks;
	/* snapshots_changed of source and target when the run found the
	 * dataset up to date and old enough to trust, ZFS_NONE (both) when
	 * not recorded; the guids of the two datasets then, when a listing
	 * read them, whether the base had the job's hold and bookmark */
	uint64_t src_changed, dst_changed;
	uint64_t src_guid, dst_guid;
	int64_t checked;
	bool protected;
	/* the end of the last run that left it replicated or up to date, 0:
	 * none known (a version 0 record without the key: end, when ok) */
	int64_t last_success;
};

/* What one notification channel did after the run (lib/notify). */
struct record_note {
	char *channel;
	bool ok;
	char *error; /* why it failed, or NULL */
	int64_t at;  /* when it finished */
	int attempts;
};

/* A channel's notifications over the job's runs (notification_totals). */
struct record_tally {
	char *channel;
	int64_t sent, failed;
};

struct record {
	int version; /* as read (0: before the field); always written as RECORD_VERSION */
	char *job;
	enum record_kind kind;
	char *source_host, *destination_host; /* host labels, NULL: not known */
	int64_t start, end;
	enum record_run_result result;
	char *error;              /* a failure of the whole job, or NULL */
	bool snapshots_changed;   /* both sides were asked for snapshots_changed */
	int64_t no_changed_since; /* when a side was found without it, 0: not */
	/* the job's keep per interval (ZK_KEEP_ALL: not pruned); n_keep 0: no
	 * pruning, -1: not known (or not understood) */
	int keep[ZK_N_INTERVALS];
	int n_keep;
	struct record_dataset *datasets;
	size_t n_datasets, alloc;
	/* a run skipped because a seed job held the lock */
	bool lock_held;
	int64_t held_at, held_pid;
	/* the notifications sent after the run, in the order sent */
	struct record_note *notes;
	size_t n_notes, notes_alloc;
	/* per channel, over all runs: sorted by channel */
	struct record_tally *tallies;
	size_t n_tallies, tallies_alloc;
	/* what reading took as unknown, each naming the file */
	struct strvec warnings;
	/* datasets sorted by target, for record_find (record_read fills it) */
	struct record_dataset **by_target;
};

/* Initialises r as an empty record of a job (n_keep -1, version
 * RECORD_VERSION); job is copied. */
void record_init(struct record *r, enum record_kind kind, const char *job);
/* Appends a dataset entry (strings copied; newest and the rest zero,
 * src_changed and dst_changed ZFS_NONE) and returns it; it moves with the
 * next append. */
struct record_dataset *record_add(struct record *r, const char *source, const char *target,
                                  enum record_result result);
/* Appends a notification's result (strings copied; error may be NULL). */
void record_add_note(struct record *r, const char *channel, bool ok, const char *error, int64_t at,
                     int attempts);
/* Adds sent and failed to channel's totals (the channel added at 0 when
 * new; channel copied). */
void record_tally(struct record *r, const char *channel, int64_t sent, int64_t failed);
/* Adds every total of prev (the job's last record) to r's. */
void record_carry_tallies(struct record *r, const struct record *prev);
/* Frees everything r owns and zeroes it; a zeroed r is fine. */
void record_free(struct record *r);

/* Whether k is a timer's (snapshot, prune). */
bool record_kind_is_timer(enum record_kind k);
/* "pull"/"push"/"snapshot"/"prune", "ok"/"failed"/"held"/"unknown",
 * "ok"/"up_to_date"/"failed"/"skipped"/"unknown". */
const char *record_kind_name(enum record_kind k);
const char *record_run_result_name(enum record_run_result r);
const char *record_result_name(enum record_result r);
/* A dataset left replicated or up to date. */
bool record_result_ok(enum record_result r);

/* Appends state_dir/{pull,push}-NAME.json to path; a timer's record:
 * state_dir/timer-NAME.json. */
void record_path(struct buf *path, const char *state_dir, enum record_kind kind, const char *job);

/* The record as version 1 JSON (a new reference). */
json_t *record_to_json(const struct record *r);

/* Writes r, as version 1, atomically (lib/state: the old record or the new
 * one, never half) to its path in state_dir, mode 0644. Returns 0 or -errno;
 * e names the file. */
int record_write(const char *state_dir, const struct record *r, struct zerr *e);

/* Reads the record in name (relative to dirfd, AT_FDCWD for a path) into
 * r, which must not hold one (it is zeroed first, and left zeroed on
 * failure). Opens as lib/state does (no symlink, no FIFO, at most
 * STATE_RECORD_MAX bytes). Returns 0, or -errno with e naming the file:
 *   -ENOENT       no record
 *   -EBADMSG      not JSON (cut short, garbage)
 *   -ENOMSG       JSON, but not a run record (no object with "job", "kind"
 *                 pull or push and "datasets")
 *   -EPROTONOSUPPORT  a version newer than RECORD_VERSION: written by a
 *                 newer zkeep, which should read it
 * and lib/state's (-EINVAL not a regular file, -EFBIG too large, ...). */
int record_read_at(int dirfd, const char *name, struct record *r, struct zerr *e);
int record_read(const char *path, struct record *r, struct zerr *e);

/* The dataset entry for target in a record that record_read filled, or
 * NULL. */
const struct record_dataset *record_find(const struct record *r, const char *target);

/* A run that found its job's lock held by a seed job (pid) at `at`: noted
 * in the job's record as lock_held, the rest kept (a job without a record
 * gets one with no datasets, result "held"). Refuses (and leaves alone) a
 * record it cannot read, as record_read says. Returns 0 or -errno. */
int record_note_lock_held(const char *state_dir, enum record_kind kind, const char *job, pid_t pid,
                          time_t at, struct zerr *e);

/* Every record in dir, sorted by file name: the files named like a record
 * ({pull,push}-*.json). A file that cannot be read, or is not a record, is
 * left out with a warning naming it; a missing dir has none. */
struct record_list {
	struct record *v;
	size_t n;
	struct strvec warnings; /* the files left out, and each record's own */
};
void record_list_read(const char *dir, struct record_list *out);
/* The same for the timers' records (timer-*.json): only records of a
 * timer's kind, as record_list_read only takes a job's. */
void record_timer_list_read(const char *dir, struct record_list *out);
void record_list_free(struct record_list *l);

#endif
