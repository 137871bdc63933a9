/*
 * MQTT with Home Assistant discovery (seed-system.md 9): the messages a
 * pull and the snapshot report publish, and their publishing to a broker
 * with libmosquitto.
 *
 * Two halves. The payloads are pure: built from a listing, the run's
 * failed datasets and "now" (always a parameter), so that the unit tests
 * check them field by field. mqtt_publish is the network: connect,
 * publish every message with QoS 1 and wait for each PUBACK, all within
 * one deadline; any failure is an error returned to the caller (never an
 * exit, and never the job's exit code: the callers only report it).
 *
 * The contract, M the pull's name (--mqtt-name, else --name, else
 * --host), P the topic prefix (default homeinfra/monitoring/zfs), <id> a
 * name with '-' and '.' written as '_'; every message retained:
 *   homeassistant/binary_sensor/zfs_backups_<id>/config
 *     {"name": "<M> ZFS Backups", "state_topic": "P/M/backups",
 *      "value_template": "{{ 'ON' if not value_json.ok else 'OFF' }}",
 *      "payload_on": "ON", "payload_off": "OFF", "device_class": "safety",
 *      "unique_id": "zfs_backups_<id>", "json_attributes_topic": "P/M/backups"}
 *   P/M/backups
 *     {"ok": B, "host": M, "pulled_at": "%Y-%m-%dT%H:%M:%S" (local time),
 *      "stale_datasets": [S...], "healthy_datasets": [S...]}
 * and the snapshot report's, H the host name, T its --mqtt-topic:
 *   homeassistant/binary_sensor/zfs_snapshots_<id>/config
 *     the same keys: name "<H> ZFS Snapshots", state_topic and
 *     json_attributes_topic T, unique_id "zfs_snapshots_<id>"
 *   T {"ok": B, "host": H, "checked_at": "%Y-%m-%dT%H:%M:%S",
 *      "stale": [S...], "healthy": [S...],
 *      "datasets": [{"dataset", "policy", "counts", "retention"}...]}
 * Payloads are written as the seed's json.dumps wrote them: ", " and ": "
 * between members, keys in the order above, non-ASCII as \u escapes.
 *
 * Ownership: struct mqtt_msgs owns its topics and payloads
 * (mqtt_msgs_free). Nothing here keeps state between calls; mqtt_publish
 * may run in any one thread at a time.
 */
#ifndef ZK_MQTT_H
#define ZK_MQTT_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "host.h"
#include "policy.h"
#include "strvec.h"
#include "zfs.h"

/* The seed's topic prefix, when neither --mqtt-topic-prefix nor [mqtt]
 * topic_prefix gives one. */
#define MQTT_DEFAULT_PREFIX "homeinfra/monitoring/zfs"
/* How long a publish may take in all: connect, send, every PUBACK. */
#define MQTT_TIMEOUT_MS 10000
/* The pull's rule: stale when the newest policy snapshot is older. */
#define MQTT_PULL_STALE_S (4 * 3600L)

struct mqtt_msg {
	char *topic, *payload;
	bool retain;
};

struct mqtt_msgs {
	struct mqtt_msg *v;
	size_t n, alloc;
};
#define MQTT_MSGS_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Appends a message; payload is written as the seed wrote JSON and its
 * reference is taken (decref'd here). */
void mqtt_msgs_add(struct mqtt_msgs *m, const char *topic, json_t *payload, bool retain);
void mqtt_msgs_free(struct mqtt_msgs *m);

/* Appends name's <id>: '-' and '.' become '_'. */
void mqtt_id(struct buf *out, const char *name);

/* When the newest snapshot of s named by prefix's pattern (of interval
 * iv, or of any with iv == ZK_N_INTERVALS) was taken, read from its name
 * (local time, as the seed did, never its creation); 0 when there is none. */
time_t mqtt_newest_by_name(const struct policy_snaps *s, const char *prefix, enum zk_interval iv);

/* The pull's stale rule: no policy snapshot, or the newest (by name) more
 * than MQTT_PULL_STALE_S before now. */
bool mqtt_pull_stale(const struct policy_snaps *s, const char *prefix, time_t now);

/* The report's: the finest interval p keeps (hourly first) has no
 * snapshot, or its newest (by name) is more than twice that interval (1 h,
 * 1 d, 30 d, 365 d) before now. false when p keeps none. */
bool mqtt_report_stale(const struct policy_snaps *s, const char *prefix, const struct zk_policy *p,
                       time_t now);

/* One pull's facts for its messages. */
struct mqtt_pull {
	const char *name;            /* M */
	const char *topic_prefix;    /* P */
	const char *base;            /* the pull's target root D/<name>: datasets are named
	                              * relative to base/ */
	bool run_ok;                 /* every dataset replicated or up to date */
	const struct strvec *failed; /* the run's failed datasets, relative; NULL: none */
	const char *snap_prefix;     /* the policy snapshot prefix (autosnap) */
	time_t now;
};

/* Appends the pull's discovery config and state to out: the datasets are
 * every filesystem and volume of l under base/ (l: a recursive listing of
 * base/<arg> for each argument, with snapshots), in name order; stale by
 * mqtt_pull_stale, plus each failed one (also when l lacks it); ok when
 * the run was ok and none is stale. */
void mqtt_pull_messages(struct mqtt_msgs *out, const struct mqtt_pull *p, const struct zfs_list *l);

/* Appends the report's discovery config and state to out, for the
 * managed datasets of ix whose policy is not none. */
void mqtt_report_messages(struct mqtt_msgs *out, const char *host, const char *topic,
                          const struct policy_index *ix, const char *snap_prefix, time_t now);

/* zkeep api's pool sensors (zkeep's own; the seed had none), per pool
 * of pools, S = P/<host>/pools/<pool>, <hid> and <pid> the <id>s of the
 * host and the pool, every message retained:
 *   homeassistant/sensor/zfs_pool_<hid>_<pid>/config
 *     {"name": "<host> <pool> capacity", "state_topic": S,
 *      "value_template": "{{ value_json.capacity_percent }}",
 *      "unit_of_measurement": "%", "unique_id": "zfs_pool_<hid>_<pid>",
 *      "json_attributes_topic": S}
 *   homeassistant/binary_sensor/zfs_pool_health_<hid>_<pid>/config
 *     {"name": "<host> <pool> health", "state_topic": S,
 *      "value_template": "{{ 'ON' if value_json.health != 'ONLINE' else 'OFF' }}",
 *      "payload_on": "ON", "payload_off": "OFF", "device_class": "problem",
 *      "unique_id": "zfs_pool_health_<hid>_<pid>", "json_attributes_topic": S}
 *   S {"pool": S, "health": S, "capacity_percent": N, "size": N,
 *      "allocated": N, "free": N, "checked_at": "%Y-%m-%dT%H:%M:%S"}
 * (sizes in bytes). */
void mqtt_pool_messages(struct mqtt_msgs *out, const char *host, const char *topic_prefix,
                        const struct zpool_list *pools, time_t now);

/* "%Y-%m-%dT%H:%M:%S" of t in local time, appended to out. */
void mqtt_local_time(struct buf *out, time_t t);

/* Where to publish. */
struct mqtt_broker {
	const char *host;
	int port;
	const char *tls_ca;        /* NULL: plain TCP */
	const char *user;          /* NULL: no login */
	const char *password_file; /* with user: its first line; not readable by others */
	int timeout_ms;            /* 0: MQTT_TIMEOUT_MS */
};

/* The broker of [mqtt] with host (a flag's, or [mqtt] host when NULL). */
void mqtt_broker_of(struct mqtt_broker *b, const struct zk_mqtt_cfg *c, const char *host);

/* Publishes every message of m with QoS 1, waiting for each PUBACK, then
 * disconnects; the whole within b's timeout. Errors (-ETIMEDOUT,
 * -ECONNREFUSED, -EACCES for a refused login or a password file others
 * can read, -EIO otherwise) name the broker and what failed. */
int mqtt_publish(const struct mqtt_broker *b, const struct mqtt_msgs *m, struct zerr *e);

/* A pull's publishing after its run: lists base/<arg> for each of args on
 * local (one zfs call; an argument whose target does not exist is stale),
 * builds the messages and publishes them. Errors: the listing's or
 * mqtt_publish's. */
int mqtt_pull_publish(const struct mqtt_broker *b, const struct mqtt_pull *p,
                      const struct host *local, const struct strvec *args, int timeout_ms,
                      struct zerr *e);

#endif
