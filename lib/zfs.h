/*
 * The zfs and zpool command lines zkeep runs, and parsers of their
 * script-mode output (-H tab-separated, -p exact numbers) into a model.
 *
 * Parsers are strict: every line must have exactly the columns asked for,
 * numbers must be plain decimal (or '-' where zfs prints that for "none"),
 * names must be valid ZFS names; anything else fails the whole parse with
 * -EPROTO and "zfs list output line N: ..." rather than yielding a partial
 * model. Input is capped (ZFS_OUTPUT_MAX bytes, ZFS_LINE_MAX per line).
 *
 * Ownership: a parsed list owns one copy of the text it was parsed from;
 * every string in it points into that copy and lives until *_free(). (A
 * zfs_list keeps only copies of its names and tokens, in its arena.)
 */
#ifndef ZK_ZFS_H
#define ZK_ZFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "host.h"
#include "strvec.h"

#define ZFS_NONE       UINT64_MAX          /* a '-' in zfs output */
#define ZFS_OUTPUT_MAX ((size_t)512 << 20) /* one listing, at most */
#define ZFS_LINE_MAX   65536               /* one line, at most */
#define ZFS_NAME_MAX   255                 /* ZFS_MAX_DATASET_NAME_LEN - 1 */

enum zfs_type {
	ZFS_TYPE_FILESYSTEM = 1 << 0,
	ZFS_TYPE_VOLUME = 1 << 1,
	ZFS_TYPE_SNAPSHOT = 1 << 2,
	ZFS_TYPE_BOOKMARK = 1 << 3,
};
#define ZFS_TYPE_DATASET (ZFS_TYPE_FILESYSTEM | ZFS_TYPE_VOLUME)

/* Optional columns of a listing, after the fixed ones, in this order. */
#define ZFS_COL_SNAPSHOTS_CHANGED (1u << 0) /* OpenZFS >= 2.2 */
#define ZFS_COL_USERREFS          (1u << 1) /* holds on a snapshot */
#define ZFS_COL_RESUME_TOKEN      (1u << 2) /* receive_resume_token (0.7) */
/* The short forms, which OpenZFS >= 2.2 can list without opening each
 * snapshot (zfs_list_only_by_fast: name, guid, createtxg and a few more):
 * ZFS_COL_SHORT drops creation,used,available,referenced (ZFS_NONE in the
 * model); ZFS_COL_NOTYPE also drops type, which a snapshot or bookmark
 * row's name says ('@', '#'). A snapshot listing of name,guid,createtxg
 * is SHORT|NOTYPE; the datasets' facts come from a -t filesystem,volume
 * listing with SHORT and the optional columns. */
#define ZFS_COL_SHORT  (1u << 3)
#define ZFS_COL_NOTYPE (1u << 4)

/* One row of zkeep's listing: name,type,guid,createtxg,creation,used,
 * available,referenced[,snapshots_changed][,userrefs][,receive_resume_token]
 * (less the columns ZFS_COL_SHORT and ZFS_COL_NOTYPE leave out).
 * ZFS_NONE where zfs printed '-' or the column was not listed;
 * resume_token is NULL then (a token is hex digits and dashes only). */
struct zfs_obj {
	const char *name;
	enum zfs_type type;
	uint64_t guid, createtxg, creation, used, available, referenced;
	uint64_t snapshots_changed;
	uint64_t userrefs;
	const char *resume_token;
};

struct zfs_arena;
struct zfs_list {
	struct zfs_arena *arena; /* the names and tokens the rows point into */
	struct zfs_obj *v;
	size_t n, alloc;
	unsigned cols; /* the ZFS_COL_* listed */
};

/* A listing parsed as it is read (zfs_list_reader_sink is a host_sink_fn
 * for host_run_stream), so that a large one is never held as text: the
 * rows keep copies of their names and tokens only. Errors are those of
 * zfs_list_parse, with the same line numbers. feed's data must be
 * writable (it is split in place); it may cut lines anywhere. After the
 * first error every call returns it. end finishes (a last line without
 * '\n' counts) and returns 0 or the error, l freed then. */
struct zfs_list_reader {
	struct zfs_list *l;
	struct buf line; /* a line begun in an earlier piece */
	size_t lineno;
	int err;
};
void zfs_list_reader_init(struct zfs_list_reader *rd, struct zfs_list *l, unsigned cols);
int zfs_list_reader_feed(struct zfs_list_reader *rd, char *data, size_t len, struct zerr *e);
int zfs_list_reader_end(struct zfs_list_reader *rd, struct zerr *e);
int zfs_list_reader_sink(void *rd, char *data, size_t len, struct zerr *e);

/* What the running OpenZFS can do, from `zfs version`. The feature flags
 * follow the older of the userland and kernel module versions. */
struct zfs_caps {
	char userland[64], kmod[64]; /* e.g. "zfs-2.1.11-1", "zfs-kmod-2.1.11-1" */
	int major, minor, patch;
	bool resume;    /* receive -s, send -t (0.7) */
	bool bookmarks; /* zfs bookmark, send -i #bm (0.6.4) */
	bool holds;     /* zfs hold/release (always) */
	bool raw_send;  /* send -w (0.8) */
	/* a plain send's stream as stored: send -c (0.7) keeps compressed
	 * blocks compressed, -e (0.6.4) embedded blocks embedded, -L records
	 * over 128 KiB whole. -L came in 0.6.5, but until 2.0 a receive of an
	 * incremental that switched -L on or off could zero files
	 * (openzfs#6224, fixed by #10383), so 2.0. Such a switch is still
	 * reported to zero files on 2.2 (openzfs#17866, open), so zkeep never
	 * makes one: -L only from a target's first full receive on
	 * (lib/transfer.h transfer_wire). */
	bool send_compressed, send_large_blocks, send_embedded;
	bool snapshots_changed; /* the snapshots_changed property (2.2) */
	bool holds_parsable;    /* zfs holds -p (2.2) */
};

struct zpool {
	const char *name, *health;
	uint64_t size, allocated, free, fragmentation, capacity; /* frag may be ZFS_NONE */
};

struct zpool_list {
	char *text;
	struct zpool *v;
	size_t n, alloc;
};

struct zfs_prop {
	const char *dataset, *property, *value, *source;
};

struct zfs_props {
	char *text;
	struct zfs_prop *v;
	size_t n, alloc;
};

struct zfs_hold {
	const char *snapshot, *tag, *timestamp; /* timestamp as zfs printed it */
};

struct zfs_holds {
	char *text;
	struct zfs_hold *v;
	size_t n, alloc;
};

struct zpool_vdev {
	const char *name, *state;
	int depth; /* indentation level under "config:", 0 = the pool */
	uint64_t read_errors, write_errors, checksum_errors;
};

/* `zpool status -p POOL`. Free-text sections are joined with single spaces. */
struct zpool_status {
	char *text; /* the raw output, NUL-terminated */
	char *pool, *state, *status, *action, *scan, *errors;
	struct zpool_vdev *vdevs;
	size_t n_vdevs, alloc;
	char *strings; /* storage for the fields above (owned) */
};

/* Names: validity per OpenZFS's rules (components of [A-Za-z0-9_.: -],
 * no empty, "." or ".." component, at most ZFS_NAME_MAX bytes, a pool name
 * starting with a letter; one '@' for a snapshot, one '#' for a bookmark).
 * types says which kinds are acceptable. */
int zfs_name_check(const char *name, unsigned types, struct zerr *e);
/* The pool of a name: its first component, written into out. */
int zfs_name_pool(const char *name, char *out, size_t len);

/* What zfs's error text says, for callers that act on it: the one home of
 * zfs's message wording (OpenZFS 2.1 to 2.3 word these alike). Callers
 * test the code zfs_run leaves in zerr.kind, never the text. */
enum zfs_err {
	ZFS_ERR_OTHER = 0,
	ZFS_ERR_PARTIAL_RECEIVE, /* the target holds a partial receive -s */
	ZFS_ERR_NOENT,           /* "dataset does not exist", "bookmark ... does not exist" */
	ZFS_ERR_EXISTS,          /* "already exists" (a bookmark, a hold's tag) */
	ZFS_ERR_NO_SUCH_TAG,     /* release of a hold that is not there */
	ZFS_ERR_RESUME_REFUSED,  /* the sender cannot resume this token */
	ZFS_ERR_BAD_PROPERTY,    /* a property this zfs does not know */
	/* an incremental receive whose base is gone from the target: "most
	 * recent snapshot of X does not\nmatch incremental source" */
	ZFS_ERR_BASE_MISMATCH,
	/* an incremental receive into a target written to after its base:
	 * "destination X has been modified\nsince most recent snapshot" */
	ZFS_ERR_MODIFIED,
};
/* The kind of a failed zfs command's whole stderr (every line is read: an
 * ssh warning may come first). A bookmark that exists says "bookmark
 * exists", one that does not "bookmark 'X' does not exist". */
enum zfs_err zfs_err_kind(const char *text);
/* host_run for a zfs or zpool command: on failure e->kind is the
 * zfs_err_kind of its stderr. */
int zfs_run(const struct host *h, const char *const *argv, struct buf *out, size_t out_cap,
            int timeout_ms, struct zerr *e);

/* Whether every line of a failed zfs command's stderr that says
 * something (ssh's "Warning: " lines aside) is of kind: a batched hold or
 * release says one line per snapshot it failed on. False for no line. */
bool zfs_err_all(const char *text, enum zfs_err kind);

/* Names in one call, at most this many bytes of them: a remote command
 * line is one argument of the remote shell (Linux takes 128 KiB), and
 * the gate's line limit (GATE_LINE_MAX) is above it. */
#define ZFS_ARGV_NAMES_MAX 60000

/* Runs head (a zfs command's words) followed by names on h, as few calls
 * as ZFS_ARGV_NAMES_MAX allows (one for a pull of hundreds of datasets),
 * each one's stdout appended to out (may be NULL). A call that fails
 * only with errors of kind benign (zfs_err_all; ZFS_ERR_OTHER: none is)
 * counts as done. Every batch runs; returns 0 or the first failure (e,
 * with e->kind). No names: nothing runs. */
int zfs_run_names(const struct host *h, const char *const *head, const struct strvec *names,
                  enum zfs_err benign, struct buf *out, int timeout_ms, struct zerr *e);

/* argv builders. datasets may be NULL/empty for "everything". */
void zfs_list_argv(struct strvec *argv, unsigned types, unsigned cols, bool recursive,
                   const char *const *datasets);
void zpool_list_argv(struct strvec *argv);
void zfs_get_argv(struct strvec *argv, const char *props, const char *const *datasets);
void zfs_holds_argv(struct strvec *argv, const char *const *snapshots, bool parsable);
void zpool_status_argv(struct strvec *argv, const char *pool);

/* Parsers: take len bytes of text (copied; the caller keeps its own). */
int zfs_list_parse(struct zfs_list *l, const char *text, size_t len, unsigned cols, struct zerr *e);
/* The same without the copy, for a listing too large to hold twice: text
 * (malloc'd, len bytes and a NUL after them, as buf_detach gives it) is
 * parsed in place and freed, whatever the result; its pages go back to
 * the kernel (madvise) as the parse passes them, so a listing costs its
 * rows and names, not its text. */
int zfs_list_parse_owned(struct zfs_list *l, char *text, size_t len, unsigned cols, struct zerr *e);
void zfs_list_free(struct zfs_list *l);
/* The seed's names-only snapshot listing (`zfs list -t snapshot -H -o name
 * -s creation -r DS`, all a restricted remote answers) as a zfs_list: a
 * filesystem row for each dataset seen, then its snapshots, in the order
 * listed (createtxg numbers them), guid 0. */
int zfs_names_parse(struct zfs_list *l, const char *text, size_t len, struct zerr *e);
/* The policy jobs' names listing: `zfs list -H -o name -s createtxg -t
 * filesystem,volume,snapshot -r ROOTS...` (name and createtxg only, so
 * OpenZFS >= 2.2 lists it without reading each object's properties). */
void zfs_names_tree_argv(struct strvec *argv, const char *const *roots);
/* The snapshot names of the given datasets alone (`zfs list -H -o name -s
 * createtxg -t snapshot -d 1 DS...`, as fast as the tree's), without
 * the datasets: the head for zfs_run_names. Parsed by
 * zfs_names_tree_parse. */
void zfs_names_snapshots_argv(struct strvec *argv);
/* Its output as a zfs_list: a name without '@' is a dataset (given type
 * filesystem: this listing cannot tell a volume), one with '@' a snapshot;
 * createtxg is the line number (the listing's order), other columns 0 or
 * ZFS_NONE. */
int zfs_names_tree_parse(struct zfs_list *l, const char *text, size_t len, struct zerr *e);
int zpool_list_parse(struct zpool_list *l, const char *text, size_t len, struct zerr *e);
void zpool_list_free(struct zpool_list *l);
int zfs_props_parse(struct zfs_props *p, const char *text, size_t len, struct zerr *e);
void zfs_props_free(struct zfs_props *p);
int zfs_holds_parse(struct zfs_holds *h, const char *text, size_t len, struct zerr *e);
void zfs_holds_free(struct zfs_holds *h);
int zpool_status_parse(struct zpool_status *s, const char *text, size_t len, struct zerr *e);
void zpool_status_free(struct zpool_status *s);
int zfs_version_parse(struct zfs_caps *c, const char *text, size_t len, struct zerr *e);

const char *zfs_type_name(enum zfs_type t);

/* Runners: one zfs call on h, parsed. timeout_ms as for host_run.
 * zfs_list_run lists cols, plus snapshots_changed where c says it exists. */
int zfs_probe(const struct host *h, int timeout_ms, struct zfs_caps *c, struct zerr *e);
/* The features of a pool that decide what a plain send into it may
 * carry (zfs receive refuses a stream that needs a feature the pool has
 * not enabled): "enabled" or "active" is true. */
struct zpool_features {
	bool encryption_active; /* some dataset is encrypted: no -e into it */
	bool lz4, zstd;         /* lz4_compress, zstd_compress: send -c */
	bool embedded;          /* embedded_data: send -e */
	bool large;             /* large_blocks: send -L */
};
/* From `zpool get -Hp -o property,value all POOL`: a feature the output
 * does not name (an older OpenZFS) is not enabled. -EPROTO (a message
 * naming the line) on a feature line whose value is not one of active,
 * enabled, disabled, or when no feature line is there at all. Pure. */
int zpool_features_parse(struct zpool_features *f, const char *text, size_t len, struct zerr *e);
/* The same, asked of h (one zpool get). */
int zpool_features_run(const struct host *h, const char *pool, int timeout_ms,
                       struct zpool_features *f, struct zerr *e);
int zfs_list_run(const struct host *h, const struct zfs_caps *c, unsigned types, unsigned cols,
                 bool recursive, const char *const *datasets, int timeout_ms, struct zfs_list *l,
                 struct zerr *e);
/* l: the rows of a, then those of b, pointing into their text: l owns
 * no text, and a and b must outlive it (zfs_list_free(l) frees its rows
 * only). For one listing of datasets and one of their snapshots. */
void zfs_list_join(struct zfs_list *l, const struct zfs_list *a, const struct zfs_list *b);
/* Appends a row: o, its name (and token) copied into l's own strings. */
void zfs_list_add(struct zfs_list *l, const struct zfs_obj *o);
/* The object named name in l, or NULL (linear; for tests and small lists). */
const struct zfs_obj *zfs_list_find(const struct zfs_list *l, const char *name);
int zpool_list_run(const struct host *h, int timeout_ms, struct zpool_list *l, struct zerr *e);

#endif
