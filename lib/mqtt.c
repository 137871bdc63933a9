/*
 * MQTT with Home Assistant discovery: the pull's and the report's
 * messages (pure, from listings) and their publishing with libmosquitto.
 * The contract is in mqtt.h (seed-system.md 9).
 */
#include "mqtt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dl.h"
#include "log.h"
#include "state.h"
#include "xalloc.h"
#include "banned.h"

void mqtt_msgs_add(struct mqtt_msgs *m, const char *topic, json_t *payload, bool retain)
{
	m->v = xgrow(m->v, &m->alloc, m->n + 1, sizeof(*m->v));
	/* the seed's json.dumps: ", " and ": ", ASCII only, keys as built */
	char *text = json_dumps(payload, JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	m->v[m->n++] = (struct mqtt_msg){xstrdup(topic), xstrdup(text ? text : "null"), retain};
	free(text);
	json_decref(payload);
}

void mqtt_msgs_free(struct mqtt_msgs *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].topic);
		free(m->v[i].payload);
	}
	free(m->v);
	*m = (struct mqtt_msgs)MQTT_MSGS_INIT;
}

void mqtt_id(struct buf *out, const char *name)
{
	for (const char *c = name; *c; c++)
		buf_addch(out, *c == '-' || *c == '.' ? '_' : *c);
}

void mqtt_local_time(struct buf *out, time_t t)
{
	struct tm tm;
	char s[64];
	if (!localtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(s, sizeof(s), "1970-01-01T00:00:00");
	buf_adds(out, s);
}

time_t mqtt_newest_by_name(const struct policy_snaps *s, const char *prefix, enum zk_interval iv)
{
	time_t newest = 0;
	for (size_t i = 0; i < s->n; i++) {
		const char *at = strchr(s->v[i]->name, '@');
		enum zk_interval got;
		struct tm tm;
		if (!at || policy_snapname_parse(at + 1, prefix, &got, &tm) < 0 ||
		    (iv != ZK_N_INTERVALS && got != iv))
			continue;
		time_t t = mktime(&tm);
		if (t != (time_t)-1 && t > newest)
			newest = t;
	}
	return newest;
}

bool mqtt_pull_stale(const struct policy_snaps *s, const char *prefix, time_t now)
{
	time_t t = mqtt_newest_by_name(s, prefix, ZK_N_INTERVALS);
	return !t || now - t > MQTT_PULL_STALE_S;
}

bool mqtt_report_stale(const struct policy_snaps *s, const char *prefix, const struct zk_policy *p,
                       time_t now)
{
	/* the seed's nominal lengths: a month 30 days, a year 365 */
	static const int64_t len[ZK_N_INTERVALS] = {3600, 86400, 30 * 86400L, 365 * 86400L};
	for (int k = 0; k < ZK_N_INTERVALS; k++) {
		if (p->keep[k] <= 0)
			continue;
		time_t t = mqtt_newest_by_name(s, prefix, (enum zk_interval)k);
		return !t || (int64_t)(now - t) > 2 * len[k];
	}
	return false;
}

/* The discovery config of one binary sensor (the keys in the seed's order). */
static json_t *discovery(const char *name, const char *unique_id, const char *state_topic)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", name, "state_topic",
	                 state_topic, "value_template",
	                 "{{ 'ON' if not value_json.ok else 'OFF' }}", "payload_on", "ON",
	                 "payload_off", "OFF", "device_class", "safety", "unique_id", unique_id,
	                 "json_attributes_topic", state_topic);
}

/* Appends the discovery message of a sensor: kind "backups" or "snapshots". */
static void add_discovery(struct mqtt_msgs *out, const char *kind, const char *who,
                          const char *title, const char *state_topic)
{
	struct buf id = BUF_INIT, topic = BUF_INIT, name = BUF_INIT;
	buf_addf(&id, "zfs_%s_", kind);
	mqtt_id(&id, who);
	buf_addf(&topic, "homeassistant/binary_sensor/%s/config", id.s);
	buf_addf(&name, "%s %s", who, title);
	mqtt_msgs_add(out, topic.s, discovery(name.s, id.s, state_topic), true);
	buf_free(&id);
	buf_free(&topic);
	buf_free(&name);
}

/* zfs's order of names: a parent before its children ('/' first). */
static int name_cmp(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a;
	const unsigned char *y = *(const unsigned char *const *)b;
	for (; *x && *x == *y; x++, y++)
		;
	int cx = *x == '/' ? 1 : *x ? *x + 1 : 0, cy = *y == '/' ? 1 : *y ? *y + 1 : 0;
	return cx - cy;
}

/* The datasets of l under base/ (sorted, once each) and their snapshots. */
struct pulled {
	const char **names; /* relative to base/ */
	struct policy_snaps *snaps;
	size_t n;
};

static const char *relative(const char *name, const char *base)
{
	size_t bl = strlen(base);
	return !strncmp(name, base, bl) && name[bl] == '/' && name[bl + 1] ? name + bl + 1 : NULL;
}

static ssize_t pulled_find(const struct pulled *d, const char *rel, size_t len)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strncmp(d->names[i], rel, len) && !d->names[i][len])
			return (ssize_t)i;
	return -1;
}

/* A failed dataset that has no target yet is listed too: without
 * snapshots, it is stale by the rule. */
static void pulled_build(struct pulled *d, const struct zfs_list *l, const char *base,
                         const struct strvec *failed)
{
	size_t nf = failed ? failed->n : 0;
	memset(d, 0, sizeof(*d));
	d->names = xcalloc(l->n + nf + 1, sizeof(*d->names));
	for (size_t i = 0; i < l->n; i++) {
		const char *rel = relative(l->v[i].name, base);
		if (rel && l->v[i].type != ZFS_TYPE_SNAPSHOT && l->v[i].type != ZFS_TYPE_BOOKMARK &&
		    pulled_find(d, rel, strlen(rel)) < 0)
			d->names[d->n++] = rel;
	}
	for (size_t i = 0; i < nf; i++)
		if (pulled_find(d, failed->v[i], strlen(failed->v[i])) < 0)
			d->names[d->n++] = failed->v[i];
	qsort(d->names, d->n, sizeof(*d->names), name_cmp);
	d->snaps = xcalloc(d->n + 1, sizeof(*d->snaps));
	for (size_t i = 0; i < l->n; i++) {
		const char *rel = relative(l->v[i].name, base), *at = rel ? strchr(rel, '@') : NULL;
		ssize_t k = at && l->v[i].type == ZFS_TYPE_SNAPSHOT
		                ? pulled_find(d, rel, (size_t)(at - rel))
		                : -1;
		if (k >= 0)
			policy_snaps_push(&d->snaps[k], &l->v[i]);
	}
}

static void pulled_free(struct pulled *d)
{
	for (size_t i = 0; i < d->n; i++)
		policy_snaps_free(&d->snaps[i]);
	free(d->snaps);
	free(d->names);
}

void mqtt_pull_messages(struct mqtt_msgs *out, const struct mqtt_pull *p, const struct zfs_list *l)
{
	struct pulled d;
	struct buf topic = BUF_INIT, at = BUF_INIT;
	json_t *stale = json_array(), *healthy = json_array();
	pulled_build(&d, l, p->base, p->failed);
	for (size_t i = 0; i < d.n; i++) {
		bool bad = mqtt_pull_stale(&d.snaps[i], p->snap_prefix, p->now) ||
		           (p->failed && strvec_has(p->failed, d.names[i]));
		json_array_append_new(bad ? stale : healthy, json_string(d.names[i]));
	}
	bool ok = p->run_ok && !json_array_size(stale);
	buf_addf(&topic, "%s/%s/backups", p->topic_prefix, p->name);
	mqtt_local_time(&at, p->now);
	add_discovery(out, "backups", p->name, "ZFS Backups", topic.s);
	mqtt_msgs_add(out, topic.s,
	              json_pack("{s:b, s:s, s:s, s:o, s:o}", "ok", ok, "host", p->name, "pulled_at",
	                        at.s, "stale_datasets", stale, "healthy_datasets", healthy),
	              true);
	pulled_free(&d);
	buf_free(&topic);
	buf_free(&at);
}

/* A managed dataset as the seed's report listed it. */
static json_t *report_entry(const struct policy_dataset *d, const char *prefix)
{
	unsigned n[ZK_N_INTERVALS], total;
	json_t *counts = json_object(), *retention = json_object();
	policy_counts(&d->snaps, prefix, n, &total);
	for (int k = 0; k < ZK_N_INTERVALS; k++) {
		json_object_set_new(counts, zk_interval_names[k], json_integer(n[k]));
		json_object_set_new(retention, zk_interval_names[k],
		                    json_integer(d->policy->keep[k]));
	}
	return json_pack("{s:s, s:s, s:o, s:o}", "dataset", d->obj->name, "policy", d->policy->name,
	                 "counts", counts, "retention", retention);
}

void mqtt_report_messages(struct mqtt_msgs *out, const char *host, const char *topic,
                          const struct policy_index *ix, const char *snap_prefix, time_t now)
{
	json_t *stale = json_array(), *healthy = json_array(), *list = json_array();
	struct buf at = BUF_INIT;
	for (size_t i = 0; i < ix->n; i++) {
		const struct policy_dataset *d = &ix->v[i];
		if (!d->policy || !strcmp(d->policy->name, "none"))
			continue;
		bool bad = mqtt_report_stale(&d->snaps, snap_prefix, d->policy, now);
		json_array_append_new(bad ? stale : healthy, json_string(d->obj->name));
		json_array_append_new(list, report_entry(d, snap_prefix));
	}
	mqtt_local_time(&at, now);
	add_discovery(out, "snapshots", host, "ZFS Snapshots", topic);
	mqtt_msgs_add(out, topic,
	              json_pack("{s:b, s:s, s:s, s:o, s:o, s:o}", "ok", !json_array_size(stale),
	                        "host", host, "checked_at", at.s, "stale", stale, "healthy",
	                        healthy, "datasets", list),
	              true);
	buf_free(&at);
}

/* One pool's two sensors and state (mqtt.h). */
static void pool_messages(struct mqtt_msgs *out, const char *host, const char *topic_prefix,
                          const struct zpool *zp, const char *at)
{
	struct buf state = BUF_INIT, id = BUF_INIT, topic = BUF_INIT, name = BUF_INIT;
	buf_addf(&state, "%s/%s/pools/%s", topic_prefix, host, zp->name);
	mqtt_id(&id, host);
	buf_addch(&id, '_');
	mqtt_id(&id, zp->name);
	buf_addf(&topic, "homeassistant/sensor/zfs_pool_%s/config", id.s);
	buf_addf(&name, "%s %s capacity", host, zp->name);
	struct buf uid = BUF_INIT;
	buf_addf(&uid, "zfs_pool_%s", id.s);
	mqtt_msgs_add(out, topic.s,
	              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "name", name.s, "state_topic",
	                        state.s, "value_template", "{{ value_json.capacity_percent }}",
	                        "unit_of_measurement", "%", "unique_id", uid.s,
	                        "json_attributes_topic", state.s),
	              true);
	buf_reset(&topic);
	buf_reset(&name);
	buf_reset(&uid);
	buf_addf(&topic, "homeassistant/binary_sensor/zfs_pool_health_%s/config", id.s);
	buf_addf(&name, "%s %s health", host, zp->name);
	buf_addf(&uid, "zfs_pool_health_%s", id.s);
	json_t *c = discovery(name.s, uid.s, state.s);
	json_object_set_new(c, "value_template",
	                    json_string("{{ 'ON' if value_json.health != 'ONLINE' else 'OFF' }}"));
	json_object_set_new(c, "device_class", json_string("problem"));
	mqtt_msgs_add(out, topic.s, c, true);
	mqtt_msgs_add(out, state.s,
	              json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s}", "pool", zp->name, "health",
	                        zp->health, "capacity_percent", (json_int_t)zp->capacity, "size",
	                        (json_int_t)zp->size, "allocated", (json_int_t)zp->allocated,
	                        "free", (json_int_t)zp->free, "checked_at", at),
	              true);
	buf_free(&state);
	buf_free(&id);
	buf_free(&topic);
	buf_free(&name);
	buf_free(&uid);
}

void mqtt_pool_messages(struct mqtt_msgs *out, const char *host, const char *topic_prefix,
                        const struct zpool_list *pools, time_t now)
{
	struct buf at = BUF_INIT;
	mqtt_local_time(&at, now);
	for (size_t i = 0; i < pools->n; i++)
		pool_messages(out, host, topic_prefix, &pools->v[i], at.s);
	buf_free(&at);
}

/* ---- the network ----------------------------------------------------- */

void mqtt_broker_of(struct mqtt_broker *b, const struct zk_mqtt_cfg *c, const char *host)
{
	*b = (struct mqtt_broker){.host = host ? host : c->host,
	                          .port = c->port ? c->port : ZK_MQTT_PORT,
	                          .tls_ca = c->tls_ca,
	                          .user = c->user,
	                          .password_file = c->password_file,
	                          .timeout_ms = MQTT_TIMEOUT_MS};
}

/* The first line of the password file, which others must not read. */
static int read_password(const char *path, char **out, struct zerr *e)
{
	struct stat st;
	int fd = state_open_read(AT_FDCWD, path, 4096, NULL, e);
	if (fd < 0)
		return zerr_prefix(e, "MQTT password_file");
	if (fstat(fd, &st) < 0 || (st.st_mode & (S_IROTH | S_IWOTH))) {
		close(fd);
		return zerr_set(e, -EACCES,
		                "MQTT password_file '%s' is readable or writable by others: "
		                "chmod o= it",
		                path);
	}
	char s[4097];
	ssize_t n = read(fd, s, sizeof(s) - 1);
	close(fd);
	s[n > 0 ? n : 0] = '\0';
	s[strcspn(s, "\r\n")] = '\0';
	if (!*s)
		return zerr_set(e, -EINVAL, "MQTT password_file '%s' is empty", path);
	*out = xstrdup(s);
	return 0;
}

struct session {
	bool connected; /* a CONNACK came */
	int connack;    /* its code */
	size_t acked;   /* PUBACKs */
};

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	(void)m;
	struct session *s = arg;
	s->connected = true;
	s->connack = rc;
}

static void on_publish(struct mosquitto *m, void *arg, int mid)
{
	(void)m;
	(void)mid;
	((struct session *)arg)->acked++;
}

static int mosq_err(struct zerr *e, const struct mqtt_broker *b, const char *what, int rc)
{
	int code = rc == MOSQ_ERR_CONN_REFUSED ? -ECONNREFUSED : -EIO;
	const char *why = rc == MOSQ_ERR_ERRNO ? strerror(errno) : sym_mosquitto_strerror(rc);
	if (rc == MOSQ_ERR_ERRNO && errno == ECONNREFUSED)
		code = -ECONNREFUSED;
	return zerr_set(e, code, "MQTT broker %s:%d: %s: %s", b->host, b->port, what, why);
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drives the session until every message is acknowledged or deadline. */
static int session_run(struct mosquitto *mq, struct session *s, const struct mqtt_broker *b,
                       const struct mqtt_msgs *m, int64_t deadline, struct zerr *e)
{
	bool sent = false;
	for (;;) {
		int64_t left = deadline - ms_now();
		if (left <= 0)
			return zerr_set(
			    e, -ETIMEDOUT, "MQTT broker %s:%d: no %s within %d s", b->host, b->port,
			    s->connected ? "acknowledgement of every message" : "connection",
			    (b->timeout_ms + 999) / 1000);
		int rc = sym_mosquitto_loop(mq, (int)(left < 100 ? left : 100), 1);
		if (s->connected && s->connack)
			return zerr_set(
			    e, s->connack == 4 || s->connack == 5 ? -EACCES : -ECONNREFUSED,
			    "MQTT broker %s:%d refused the connection: %s", b->host, b->port,
			    sym_mosquitto_connack_string(s->connack));
		if (rc != MOSQ_ERR_SUCCESS)
			return mosq_err(e, b, s->connected ? "publishing" : "connecting", rc);
		if (s->connected && !sent) {
			for (size_t i = 0; i < m->n; i++) {
				rc = sym_mosquitto_publish(mq, NULL, m->v[i].topic,
				                           (int)strlen(m->v[i].payload),
				                           m->v[i].payload, 1, m->v[i].retain);
				if (rc != MOSQ_ERR_SUCCESS)
					return mosq_err(e, b, m->v[i].topic, rc);
			}
			sent = true;
		}
		if (sent && s->acked >= m->n)
			return 0;
	}
}

int mqtt_publish(const struct mqtt_broker *b, const struct mqtt_msgs *m, struct zerr *e)
{
	struct session s = {false, 0, 0};
	char *password = NULL;
	int r;
	if (!b->host || !*b->host)
		return zerr_set(e, -EINVAL, "no MQTT broker: give --mqtt-host or [mqtt] host");
	if (dl_mosquitto(e) < 0)
		return zerr_prefix(e, "MQTT");
	if (b->user && b->password_file && (r = read_password(b->password_file, &password, e)) < 0)
		return r;
	int64_t deadline = ms_now() + (b->timeout_ms > 0 ? b->timeout_ms : MQTT_TIMEOUT_MS);
	/* a broker gone mid-write must be an error here, not the process's end */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	sym_mosquitto_lib_init();
	struct mosquitto *mq = sym_mosquitto_new(NULL, true, &s);
	if (!mq) {
		r = zerr_set(e, -ENOMEM, "MQTT: cannot make a client: %s", strerror(errno));
		goto out;
	}
	sym_mosquitto_int_option(mq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	sym_mosquitto_connect_callback_set(mq, on_connect);
	sym_mosquitto_publish_callback_set(mq, on_publish);
	if (b->tls_ca && (r = sym_mosquitto_tls_set(mq, b->tls_ca, NULL, NULL, NULL, NULL))) {
		r = mosq_err(e, b, b->tls_ca, r);
		goto out;
	}
	if (b->user && (r = sym_mosquitto_username_pw_set(mq, b->user, password))) {
		r = mosq_err(e, b, "login", r);
		goto out;
	}
	/* async: the TCP connect does not block; the loop below finishes it */
	r = sym_mosquitto_connect_async(mq, b->host, b->port, 30);
	if (r != MOSQ_ERR_SUCCESS) {
		r = mosq_err(e, b, "connecting", r);
		goto out;
	}
	r = session_run(mq, &s, b, m, deadline, e);
	if (r == 0) {
		sym_mosquitto_disconnect(mq);
		sym_mosquitto_loop(mq, 10, 1);
	}
out:
	if (mq)
		sym_mosquitto_destroy(mq);
	sym_mosquitto_lib_cleanup();
	sigaction(SIGPIPE, &old, NULL);
	if (password) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	return r;
}

/* base/<arg> for each arg, listed with their snapshots in one call. When
 * a target does not exist (a failed first pull), the ones that do are
 * listed again without it, and it goes to missing: stale by its absence. */
static int list_targets(const struct host *local, const char *base, const struct strvec *args,
                        int timeout_ms, struct zfs_list *l, struct strvec *missing, struct zerr *e)
{
	unsigned types = ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT;
	struct strvec roots = STRVEC_INIT, there = STRVEC_INIT;
	for (size_t i = 0; i < args->n; i++)
		strvec_pushf(&roots, "%s/%s", base, args->v[i]);
	int r = zfs_list_run(local, NULL, types, 0, true, (const char *const *)roots.v, timeout_ms,
	                     l, e);
	if (r < 0 && e->kind == ZFS_ERR_NOENT) {
		r = 0;
		for (size_t i = 0; i < roots.n && r == 0; i++) {
			struct zfs_list one;
			memset(&one, 0, sizeof(one));
			const char *root[] = {roots.v[i], NULL};
			r = zfs_list_run(local, NULL, ZFS_TYPE_DATASET, 0, false, root, timeout_ms,
			                 &one, e);
			if (r < 0 && e->kind == ZFS_ERR_NOENT)
				r = 0, strvec_push(missing, args->v[i]);
			else if (r == 0)
				strvec_push(&there, roots.v[i]);
			zfs_list_free(&one);
		}
		zfs_list_free(l);
		memset(l, 0, sizeof(*l));
		if (r == 0 && there.n)
			r = zfs_list_run(local, NULL, types, 0, true, (const char *const *)there.v,
			                 timeout_ms, l, e);
	}
	strvec_clear(&roots);
	strvec_clear(&there);
	return r;
}

int mqtt_pull_publish(const struct mqtt_broker *b, const struct mqtt_pull *p,
                      const struct host *local, const struct strvec *args, int timeout_ms,
                      struct zerr *e)
{
	struct zfs_list l;
	struct mqtt_msgs msgs = MQTT_MSGS_INIT;
	struct strvec missing = STRVEC_INIT;
	memset(&l, 0, sizeof(l));
	int r = list_targets(local, p->base, args, timeout_ms, &l, &missing, e);
	if (r == 0) {
		struct mqtt_pull q = *p;
		struct strvec failed = STRVEC_INIT;
		for (size_t i = 0; p->failed && i < p->failed->n; i++)
			strvec_push(&failed, p->failed->v[i]);
		for (size_t i = 0; i < missing.n; i++)
			if (!strvec_has(&failed, missing.v[i]))
				strvec_push(&failed, missing.v[i]);
		q.failed = &failed;
		mqtt_pull_messages(&msgs, &q, &l);
		r = mqtt_publish(b, &msgs, e);
		strvec_clear(&failed);
	}
	mqtt_msgs_free(&msgs);
	strvec_clear(&missing);
	zfs_list_free(&l);
	return r;
}
