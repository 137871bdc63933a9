/*
 * /etc/zkeep/zkeep.conf: INI (parsed by inih) into typed structs.
 *
 * Sections: [global], [api], [attention], [policy NAME], [dataset NAME],
 * [pull NAME], [push NAME], [compat], [snapshot], [mqtt]. A config is accepted whole or refused
 * whole: unknown sections or keys, bad values, duplicate sections or keys and missing required keys
 * all fail the load with "FILE:LINE: message" in the zerr (-EINVAL), and nothing of it is used. One
 * thing only warns: a [dataset] whose policy names no policy (see struct zk_dataset_cfg), as the
 * seed took an unknown name for none.
 *
 * List values (datasets, ssh_options) may continue on indented lines:
 *   datasets = tank/a tank/b
 *       tank/c
 * Lines are limited to 198 characters (inih's line buffer); a longer line
 * is refused rather than silently split.
 *
 * Ownership: everything hangs off struct zk_config and is freed by
 * config_free().
 */
#ifndef ZK_CONFIG_H
#define ZK_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "strvec.h"

enum zk_interval { ZK_HOURLY = 0, ZK_DAILY, ZK_MONTHLY, ZK_YEARLY, ZK_N_INTERVALS };
extern const char *const zk_interval_names[ZK_N_INTERVALS];

#define ZK_KEEP_ALL       (-1) /* in a keep spec: this interval is not pruned */
#define ZK_DEFAULT_CONFIG "/etc/zkeep/zkeep.conf"

/* Snapshot hooks of a [policy] or [dataset] section (zkeep.conf(5)):
 * commands in lib/hooks.h's form, checked when the config is loaded.
 * NULL / 0 where the section does not set them. */
struct zk_snap_hooks {
	char *pre, *post; /* pre_snapshot, post_snapshot */
	int timeout;      /* hook_timeout in seconds; 0: not set here */
};
#define ZK_HOOK_TIMEOUT_DEFAULT 60 /* seconds, when no section sets one */

struct zk_policy {
	char *name;
	int keep[ZK_N_INTERVALS];
	bool autosnap, autoprune;
	bool builtin; /* one of none/low/high/critical, not overridden */
	struct zk_snap_hooks hooks;
};

/* A [dataset NAME] section. After loading, policy is the dataset's
 * effective policy name, the seed's rule: its own `policy` key if it has
 * one (even "none"), else what its nearest declared ancestor passes down,
 * else NULL. An ancestor passes down its effective policy when it says
 * children_inherit_policy, else what it inherited itself as long as it has
 * no `policy` key of its own (so chains reach grandchildren and an
 * explicit policy ends them).
 *
 * unknown: the effective policy names no policy (a typo, an empty
 * `policy =`, the seed's null) or there is none at all. Such a dataset is
 * shown as policy none but, unlike an explicit none (whose retention 0
 * destroys every policy snapshot), it is never snapshotted or pruned:
 * a typo must not cost snapshots. config_dataset_warnings names each. */
struct zk_dataset_cfg {
	char *name;
	char *policy;
	bool has_policy; /* the section has its own `policy` key */
	bool unknown;
	bool discover_children, children_inherit_policy;
	int line;                   /* where `policy =` was, for late validation */
	struct zk_snap_hooks hooks; /* this dataset's own, not its children's */
};

/* How to reach a remote host (pull source or push target). */
struct zk_remote {
	char *host, *user, *identity_file;
	int port; /* 0: ssh's default */
	struct strvec ssh_options;
};

/* What a run tells when it ends (lib/notify): a healthchecks.io-style
 * check, a signed webhook, a command on success or failure. NULL: not set.
 * hook_timeout is in seconds (default NOTIFY_HOOK_TIMEOUT_S). */
struct zk_notify_cfg {
	char *healthcheck_url, *webhook_url, *webhook_secret_file;
	char *on_success, *on_failure;
	int hook_timeout;
};

/* The most datasets one job transfers at once ([pull]/[push] parallel,
 * --parallel): each takes an ssh session on the job's one connection,
 * and sshd's MaxSessions is 10 by default. */
#define ZK_PARALLEL_MAX 8

struct zk_job {
	char *name; /* the section's NAME: the job and (pull) the target's name */
	bool is_push;
	struct zk_remote remote;
	struct strvec datasets;
	char *destination;
	char *strip_prefix;       /* push */
	bool restricted;          /* push: the remote takes the seed's 5 lines only */
	bool allow_unencrypted;   /* push: pushing an unencrypted dataset only warns */
	int keep[ZK_N_INTERVALS]; /* ZK_KEEP_ALL where not given */
	bool has_keep;
	uint64_t bwlimit; /* bytes/s, 0 = none */
	int parallel;     /* datasets at once, 0: not given (1) */
	struct zk_notify_cfg notify;
	int line;
};

struct zk_api_cfg {
	char *listen_host;
	int listen_port;
	char *api_key_file;
	bool auth;
	char *log_dir;
	char *report_cache;
	int interval;         /* seconds between collections */
	int request_deadline; /* seconds from accept to a complete request */
	char *cors_origins;
	char *history_url;        /* VictoriaMetrics for /ui/'s sparklines, or NULL */
	char *tls_cert, *tls_key; /* PEM files: serve HTTPS (both or neither) */
	int history_range;        /* seconds of history the sparklines show */
};

/* [compat]: the values the seed's pull and push scripts had baked in at
 * deploy time, used only when zkeep runs under the seed's names
 * (zfs-pull-backups, zfs-push-backups) and the flag is not given. NULL
 * when not set: then the seed name's run stops with the seed's usage line
 * rather than guess a user or a pool. */
struct zk_compat_cfg {
	char *pull_user, *pull_destination;  /* --user, --destination of a pull */
	char *push_user, *push_strip_prefix; /* --user, --strip-prefix of a push */
};

/* [attention]: the thresholds of the one "needs attention" rule
 * (lib/attention.h decides with them). The levels are ZK_LEVEL_*. The
 * defaults are what the shipped alert rules did before the rule had a
 * home: capacity above 80 % warns and above 90 % is critical, a pull
 * without a success for 14 h and a push for 30 h is critical. */
enum { ZK_LEVEL_OK = 0, ZK_LEVEL_WARNING = 1, ZK_LEVEL_CRITICAL = 2 };
extern const char *const zk_level_names[3]; /* "ok", "warning", "critical" */

struct zk_attention_cfg {
	int pool_capacity_warning, pool_capacity_critical; /* percent; above it */
	int snapshot_compliance;                           /* percent; an interval below it warns */
	int64_t backup_age_pull, backup_age_push;          /* seconds since the last success */
	int pool_unhealthy;                                /* level of a pool not ONLINE */
	int pool_errors;                                   /* of vdev or scan errors */
	int snapshot_stale;                                /* of an interval's newest too old */
	int dataset_missing;                               /* of a declared dataset absent */
	int backup_failed;                                 /* of a failed last run */
	int capacity_line;                                 /* where a capacity key was, or 0 */
};

/* [mqtt]: the broker that pulls (and the report, with --mqtt-publish)
 * publish Home Assistant discovery and state to (seed-system.md 9).
 * host NULL: pulls publish only with --mqtt-host. Flags win over these. */
struct zk_mqtt_cfg {
	char *host;
	int port;            /* 1883 */
	char *tls_ca;        /* a CA file: TLS to the broker; NULL: plain TCP */
	char *user;          /* NULL: no login */
	char *password_file; /* its first line is user's password */
	char *topic_prefix;  /* NULL: the seed's homeinfra/monitoring/zfs */
};

/* The default port of [mqtt] and --mqtt-host. */
#define ZK_MQTT_PORT 1883

struct zk_config {
	char *path;
	char *snapshot_prefix;
	char *state_dir;
	char *lock_dir;
	int compliance_age_factor; /* newest snapshot younger than N intervals */
	int zfs_timeout;           /* seconds for a non-streaming zfs/ssh call */

	struct zk_policy *policies;
	size_t n_policies, policies_alloc;
	struct zk_dataset_cfg *datasets;
	size_t n_datasets, datasets_alloc;
	struct zk_job *jobs;
	size_t n_jobs, jobs_alloc;
	struct zk_api_cfg api;
	struct zk_attention_cfg attention;
	struct zk_compat_cfg compat;
	char *snapshot_healthcheck_url; /* [snapshot] healthcheck_url: snapshot and prune runs */
	struct zk_mqtt_cfg mqtt;
};

/* The defaults: built-in policies, prefix "autosnap", /var/lib/zkeep, ... */
void config_init(struct zk_config *c);
void config_free(struct zk_config *c);

/* Loads path over the defaults in c. -ENOENT when the file does not exist
 * (callers decide whether that is fine), -EINVAL for any bad content. */
int config_load_file(struct zk_config *c, const char *path, struct zerr *e);
/* The same for text in memory; name is used in messages. */
int config_load_string(struct zk_config *c, const char *name, const char *text, struct zerr *e);

const struct zk_policy *config_policy(const struct zk_config *c, const char *name);
/* The [dataset NAME] section of exactly name, or NULL. */
const struct zk_dataset_cfg *config_dataset(const struct zk_config *c, const char *name);
/* The hooks that apply to dataset name under policy p (either may be
 * NULL): each of pre, post and timeout from the dataset's own section if it
 * sets it, else from p's; timeout ZK_HOOK_TIMEOUT_DEFAULT if neither does.
 * Points into c. */
void config_snap_hooks(const struct zk_config *c, const char *name, const struct zk_policy *p,
                       struct zk_snap_hooks *out);
/* One message per [dataset] whose policy is unknown, naming the dataset,
 * where it is and the value, appended to out (for the commands to warn). */
void config_dataset_warnings(const struct zk_config *c, struct strvec *out);

/* The old snapshot report's cache (its --cache-file; the old api's
 * ZFS_SNAPSHOT_REPORT_CACHE) as [dataset] declarations: each listed
 * dataset with the policy the report gave it (its effective one), for an
 * api whose host still takes its policy snapshots with the old tools.
 * Both forms: a bare list, or {"managed": [...], "unmanaged": [...]}. The
 * file is read whole and checked whole: on any error (-errno from
 * state_load_json, -EINVAL naming the entry) nothing is added. */
int config_add_report_cache(struct zk_config *c, const char *path, struct zerr *e);
const struct zk_job *config_job(const struct zk_config *c, const char *name, bool is_push);
/* The key of a job's lock file (lock_path's host), as the seed's: a pull's
 * name (the seed's --name), a push's offsite host, so that sections that
 * push to one host take turns. Owned by j. */
const char *config_job_lock_key(const struct zk_job *j);

/* Value parsers, shared with command-line flags. Each returns 0 or
 * -EINVAL with a message that names the value. */
int config_parse_bool(const char *s, bool *out, struct zerr *e);
int config_parse_int(const char *s, long min, long max, long *out, struct zerr *e);
/* "3M" -> 3145728, "1.5m" -> 1572864: the forms pv -L takes (a number,
 * a fraction to four places, an optional K, M, G or T suffix in either
 * case, 1024s), and "3MB". Zero is refused. */
int config_parse_rate(const char *s, uint64_t *out, struct zerr *e);
/* "hourly=48 daily=60": intervals not named get ZK_KEEP_ALL. */
int config_parse_keep(const char *s, int keep[ZK_N_INTERVALS], struct zerr *e);
int config_parse_interval(const char *s, enum zk_interval *out, struct zerr *e);
/* "90s", "30m", "14h", "3d", "2w" (one number, one unit) -> seconds, at
 * least a minute and at most 366 days. */
int config_parse_duration(const char *s, int64_t *out, struct zerr *e);
/* "ok", "warning" or "critical" -> ZK_LEVEL_*. */
int config_parse_level(const char *s, int *out, struct zerr *e);
/* "HOST:PORT", "[::1]:PORT": *host allocated (brackets removed). The one
 * rule for [api] listen and --listen. */
int config_parse_listen(const char *s, char **host, int *port, struct zerr *e);
/* An MQTT topic to publish to (or a prefix of one): not empty, no '+' or
 * '#' (wildcards are for subscribers), no control characters. */
int config_parse_topic(const char *s, struct zerr *e);

#endif
