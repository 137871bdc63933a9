#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mqtt.h"

/* 2026-11-26 00:00:00 UTC; the tests run in UTC (name times are local) */
#define NOW ((time_t)1795651200)

static int setup_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* "autosnap_<NOW - age in local time>_<iv>" */
static const char *snapname(char *out, size_t n, time_t age, const char *iv)
{
	struct buf b = BUF_INIT;
	time_t t = NOW - age;
	struct tm tm;
	char s[32];
	localtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%d_%H:%M:%S", &tm);
	buf_addf(&b, "autosnap_%s_%s", s, iv);
	snprintf(out, n, "%s", b.s);
	buf_free(&b);
	return out;
}

/* Rows of a listing (cols 0): names with '@' are snapshots, '#' bookmarks. */
static void list_of(struct zfs_list *l, const char *const *names)
{
	struct buf text = BUF_INIT;
	struct zerr e = ZERR_INIT;
	for (int i = 0; names[i]; i++)
		buf_addf(&text, "%s\t%s\t%d\t%d\t1769000000\t1\t1\t1\n", names[i],
		         strchr(names[i], '@')   ? "snapshot"
		         : strchr(names[i], '#') ? "bookmark"
		                                 : "filesystem",
		         1000 + i, 1 + i);
	memset(l, 0, sizeof(*l));
	if (zfs_list_parse(l, text.s, text.len, 0, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&text);
}

/* The snapshots of a listing, as one dataset's */
static void snaps_of(struct policy_snaps *s, const struct zfs_list *l)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].type == ZFS_TYPE_SNAPSHOT)
			policy_snaps_push(s, &l->v[i]);
}

static void test_id(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	mqtt_id(&b, "host-storage.lan_1");
	assert_string_equal(b.s, "host_storage_lan_1");
	buf_free(&b);
}

/* The pull's rule: newest by name, any interval, 4 h; other names and
 * bookmarks do not count */
static void test_pull_stale(void **state)
{
	(void)state;
	char a[64], b[64], c[64], d[64];
	struct {
		const char *names[4];
		bool stale;
	} cases[] = {
	    {{"p/x", "p/x@manual", NULL}, true}, /* no policy snapshot */
	    {{"p/x", "p/x#autosnap_2026-11-25_23:00:00_hourly", NULL}, true},
	    {{"p/x", snapname(a, sizeof(a), 4 * 3600, "hourly"), NULL}, false}, /* exactly 4 h */
	    {{"p/x", snapname(b, sizeof(b), 4 * 3600 + 1, "daily"), NULL}, true},
	    {{"p/x", snapname(c, sizeof(c), 60, "monthly"), "p/x@autosnap_bogus_hourly", NULL},
	     false},
	    {{"p/x", "p/x@autosnap_2026-11-25_23:59:00_weekly",
	      snapname(d, sizeof(d), 86400, "yearly")},
	     true},
	};
	/* the names above lack "p/x@": add it */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *v[5] = {NULL};
		char full[4][96];
		for (int k = 0; k < 4 && cases[i].names[k]; k++) {
			const char *n = cases[i].names[k];
			snprintf(full[k], sizeof(full[k]), "%s%s",
			         strchr(n, '@') || strchr(n, '#') || !strncmp(n, "p/x", 3) ? ""
			                                                                   : "p/x@",
			         n);
			v[k] = full[k];
		}
		struct zfs_list l;
		struct policy_snaps s;
		list_of(&l, v);
		snaps_of(&s, &l);
		if (mqtt_pull_stale(&s, "autosnap", NOW) != cases[i].stale)
			fail_msg("case %zu: stale should be %d", i, cases[i].stale);
		policy_snaps_free(&s);
		zfs_list_free(&l);
	}
}

/* The report's: the finest interval the policy keeps, twice its length */
static void test_report_stale(void **state)
{
	(void)state;
	struct zk_policy hourly = {.name = "high", .keep = {24, 14, 1, 1}};
	struct zk_policy daily = {.name = "d", .keep = {0, 7, 1, 0}};
	struct zk_policy monthly = {.name = "m", .keep = {0, 0, 3, 0}};
	struct zk_policy nothing = {.name = "n", .keep = {0, 0, 0, 0}};
	char s1[96], s2[96], s3[96], s4[96];
	char n1[64], n2[64], n3[64], n4[64];
	snprintf(s1, sizeof(s1), "p/x@%s", snapname(n1, sizeof(n1), 2 * 3600, "hourly"));
	snprintf(s2, sizeof(s2), "p/x@%s", snapname(n2, sizeof(n2), 2 * 86400 + 1, "daily"));
	snprintf(s3, sizeof(s3), "p/x@%s", snapname(n3, sizeof(n3), 60L * 86400, "monthly"));
	snprintf(s4, sizeof(s4), "p/x@%s", snapname(n4, sizeof(n4), 10, "yearly"));
	const char *names[] = {"p/x", s1, s2, s3, s4, NULL};
	struct zfs_list l;
	struct policy_snaps s;
	list_of(&l, names);
	snaps_of(&s, &l);
	assert_false(mqtt_report_stale(&s, "autosnap", &hourly, NOW));  /* 2 h: not older */
	assert_true(mqtt_report_stale(&s, "autosnap", &daily, NOW));    /* 2 d + 1 s */
	assert_false(mqtt_report_stale(&s, "autosnap", &monthly, NOW)); /* 60 d: 2 x 30 d */
	assert_false(mqtt_report_stale(&s, "autosnap", &nothing, NOW)); /* keeps none */
	assert_true(mqtt_report_stale(&s, "autosnap", &hourly, NOW + 1));
	/* a policy keeping hourly with only daily snapshots: none of its finest */
	struct policy_snaps only_daily = {0};
	policy_snaps_push(&only_daily, &l.v[2]);
	assert_true(mqtt_report_stale(&only_daily, "autosnap", &hourly, NOW));
	assert_int_equal(mqtt_newest_by_name(&s, "autosnap", ZK_N_INTERVALS), NOW - 10);
	assert_int_equal(mqtt_newest_by_name(&s, "autosnap", ZK_DAILY), NOW - 2 * 86400 - 1);
	policy_snaps_free(&only_daily);
	policy_snaps_free(&s);
	zfs_list_free(&l);
}

/* The pull's two messages, byte for byte */
static void test_pull_messages(void **state)
{
	(void)state;
	char f[64], o[64], c[128], s[128], g[128];
	snapname(f, sizeof(f), 3600, "hourly");
	snapname(o, sizeof(o), 5 * 3600, "hourly");
	snprintf(c, sizeof(c), "bk/host-a.lan/tank/data@%s", f);
	snprintf(s, sizeof(s), "bk/host-a.lan/tank/data/old@%s", o);
	snprintf(g, sizeof(g), "bk/host-a.lan/tank/data/kid@%s", f);
	const char *names[] = {"bk/host-a.lan/tank/data",
	                       "bk/host-a.lan/tank/data/old",
	                       "bk/host-a.lan/tank/data/kid",
	                       "bk/host-a.lan/tank/data-x",
	                       "bk/host-a.lan/tank/data/none",
	                       c,
	                       s,
	                       g,
	                       "bk/host-a.lan/tank/data/none@manual",
	                       "bk/other/tank/data",
	                       NULL};
	struct zfs_list l;
	struct mqtt_msgs m = MQTT_MSGS_INIT;
	list_of(&l, names);
	struct mqtt_pull p = {.name = "host-a.lan",
	                      .topic_prefix = "homeinfra/monitoring/zfs",
	                      .base = "bk/host-a.lan",
	                      .run_ok = true,
	                      .snap_prefix = "autosnap",
	                      .now = NOW};
	mqtt_pull_messages(&m, &p, &l);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].topic,
	                    "homeassistant/binary_sensor/zfs_backups_host_a_lan/config");
	assert_true(m.v[0].retain);
	assert_string_equal(
	    m.v[0].payload,
	    "{\"name\": \"host-a.lan ZFS Backups\", "
	    "\"state_topic\": \"homeinfra/monitoring/zfs/host-a.lan/backups\", "
	    "\"value_template\": \"{{ 'ON' if not value_json.ok else 'OFF' }}\", "
	    "\"payload_on\": \"ON\", \"payload_off\": \"OFF\", \"device_class\": \"safety\", "
	    "\"unique_id\": \"zfs_backups_host_a_lan\", "
	    "\"json_attributes_topic\": \"homeinfra/monitoring/zfs/host-a.lan/backups\"}");
	assert_string_equal(m.v[1].topic, "homeinfra/monitoring/zfs/host-a.lan/backups");
	assert_true(m.v[1].retain);
	/* zfs's order (a parent before its children, '/' first); relative to
	 * D/M/; a dataset with no policy snapshot is stale */
	assert_string_equal(m.v[1].payload,
	                    "{\"ok\": false, \"host\": \"host-a.lan\", "
	                    "\"pulled_at\": \"2026-11-26T00:00:00\", "
	                    "\"stale_datasets\": [\"tank/data/none\", \"tank/data/old\", "
	                    "\"tank/data-x\"], "
	                    "\"healthy_datasets\": [\"tank/data\", \"tank/data/kid\"]}");
	mqtt_msgs_free(&m);

	/* a failed run: its failed datasets are stale, also one not there */
	struct strvec failed = STRVEC_INIT;
	strvec_push(&failed, "tank/data/kid");
	strvec_push(&failed, "tank/new");
	p.failed = &failed;
	p.run_ok = false;
	mqtt_pull_messages(&m, &p, &l);
	json_t *j = json_loads(m.v[1].payload, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_false(json_object_get(j, "ok")));
	char *st = json_dumps(json_object_get(j, "stale_datasets"), JSON_COMPACT);
	char *he = json_dumps(json_object_get(j, "healthy_datasets"), JSON_COMPACT);
	assert_string_equal(st, "[\"tank/data/kid\",\"tank/data/none\",\"tank/data/old\",\"tank/"
	                        "data-x\",\"tank/new\"]");
	assert_string_equal(he, "[\"tank/data\"]");
	free(st);
	free(he);
	json_decref(j);
	mqtt_msgs_free(&m);
	strvec_clear(&failed);
	zfs_list_free(&l);

	/* all fresh and the run ok: ok true */
	snprintf(c, sizeof(c), "bk/h/t/c@%s", f);
	const char *fresh[] = {"bk/h/t/c", c, NULL};
	list_of(&l, fresh);
	p = (struct mqtt_pull){.name = "h",
	                       .topic_prefix = "p",
	                       .base = "bk/h",
	                       .run_ok = true,
	                       .snap_prefix = "autosnap",
	                       .now = NOW};
	mqtt_pull_messages(&m, &p, &l);
	assert_string_equal(m.v[1].payload, "{\"ok\": true, \"host\": \"h\", "
	                                    "\"pulled_at\": \"2026-11-26T00:00:00\", "
	                                    "\"stale_datasets\": [], "
	                                    "\"healthy_datasets\": [\"t/c\"]}");
	mqtt_msgs_free(&m);
	zfs_list_free(&l);
}

/* The report's messages from a host's index */
static void test_report_messages(void **state)
{
	(void)state;
	struct zk_config cfg;
	struct zerr e = ZERR_INIT;
	config_init(&cfg);
	if (config_load_string(&cfg, "t",
	                       "[dataset t/a]\npolicy = critical\n[dataset t/b]\npolicy = low\n"
	                       "[dataset t/n]\npolicy = none\n[dataset t/typo]\npolicy = crit\n",
	                       &e) < 0)
		fail_msg("%s", e.msg);
	char n1[64], n2[64], a[96], b[96];
	snprintf(a, sizeof(a), "t/a@%s", snapname(n1, sizeof(n1), 600, "hourly"));
	snprintf(b, sizeof(b), "t/b@%s", snapname(n2, sizeof(n2), 600, "daily"));
	const char *names[] = {"t", "t/a", "t/b", "t/n", "t/typo", "t/u", a, b, NULL};
	struct zfs_list l;
	struct policy_index ix;
	struct mqtt_msgs m = MQTT_MSGS_INIT;
	list_of(&l, names);
	policy_index_build(&ix, &l, &cfg);
	mqtt_report_messages(&m, "my-host", "homeinfra/monitoring/zfs/my-host/snapshots", &ix,
	                     "autosnap", NOW);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].topic,
	                    "homeassistant/binary_sensor/zfs_snapshots_my_host/config");
	assert_string_equal(
	    m.v[0].payload,
	    "{\"name\": \"my-host ZFS Snapshots\", "
	    "\"state_topic\": \"homeinfra/monitoring/zfs/my-host/snapshots\", "
	    "\"value_template\": \"{{ 'ON' if not value_json.ok else 'OFF' }}\", "
	    "\"payload_on\": \"ON\", \"payload_off\": \"OFF\", \"device_class\": \"safety\", "
	    "\"unique_id\": \"zfs_snapshots_my_host\", "
	    "\"json_attributes_topic\": \"homeinfra/monitoring/zfs/my-host/snapshots\"}");
	assert_true(m.v[0].retain && m.v[1].retain);
	assert_string_equal(m.v[1].topic, "homeinfra/monitoring/zfs/my-host/snapshots");
	/* t/b keeps hourly (low) and has only a daily: stale; none and the
	 * unknown policy (shown as none) are left out */
	assert_string_equal(
	    m.v[1].payload,
	    "{\"ok\": false, \"host\": \"my-host\", \"checked_at\": \"2026-11-26T00:00:00\", "
	    "\"stale\": [\"t/b\"], \"healthy\": [\"t/a\"], \"datasets\": ["
	    "{\"dataset\": \"t/a\", \"policy\": \"critical\", "
	    "\"counts\": {\"hourly\": 1, \"daily\": 0, \"monthly\": 0, \"yearly\": 0}, "
	    "\"retention\": {\"hourly\": 36, \"daily\": 30, \"monthly\": 3, \"yearly\": 5}}, "
	    "{\"dataset\": \"t/b\", \"policy\": \"low\", "
	    "\"counts\": {\"hourly\": 0, \"daily\": 1, \"monthly\": 0, \"yearly\": 0}, "
	    "\"retention\": {\"hourly\": 3, \"daily\": 7, \"monthly\": 1, \"yearly\": 0}}]}");
	mqtt_msgs_free(&m);
	policy_index_free(&ix);
	zfs_list_free(&l);
	config_free(&cfg);
}

/* zkeep api's pool sensors: capacity and health, per pool */
static void test_pool_messages(void **state)
{
	(void)state;
	struct zpool_list pools;
	struct zerr e = ZERR_INIT;
	struct mqtt_msgs m = MQTT_MSGS_INIT;
	const char text[] = "fast-pool\t1000\t810\t190\t12\t81\tONLINE\n"
	                    "slow\t2000\t100\t1900\t-\t5\tDEGRADED\n";
	memset(&pools, 0, sizeof(pools));
	if (zpool_list_parse(&pools, text, sizeof(text) - 1, &e) < 0)
		fail_msg("%s", e.msg);
	mqtt_pool_messages(&m, "nas.lan", "p", &pools, NOW);
	assert_int_equal(m.n, 6);
	assert_string_equal(m.v[0].topic, "homeassistant/sensor/zfs_pool_nas_lan_fast_pool/config");
	assert_string_equal(m.v[0].payload,
	                    "{\"name\": \"nas.lan fast-pool capacity\", "
	                    "\"state_topic\": \"p/nas.lan/pools/fast-pool\", "
	                    "\"value_template\": \"{{ value_json.capacity_percent }}\", "
	                    "\"unit_of_measurement\": \"%\", "
	                    "\"unique_id\": \"zfs_pool_nas_lan_fast_pool\", "
	                    "\"json_attributes_topic\": \"p/nas.lan/pools/fast-pool\"}");
	assert_string_equal(m.v[1].topic,
	                    "homeassistant/binary_sensor/zfs_pool_health_nas_lan_fast_pool/config");
	assert_string_equal(
	    m.v[1].payload,
	    "{\"name\": \"nas.lan fast-pool health\", "
	    "\"state_topic\": \"p/nas.lan/pools/fast-pool\", "
	    "\"value_template\": \"{{ 'ON' if value_json.health != 'ONLINE' else 'OFF' }}\", "
	    "\"payload_on\": \"ON\", \"payload_off\": \"OFF\", \"device_class\": \"problem\", "
	    "\"unique_id\": \"zfs_pool_health_nas_lan_fast_pool\", "
	    "\"json_attributes_topic\": \"p/nas.lan/pools/fast-pool\"}");
	assert_string_equal(m.v[2].topic, "p/nas.lan/pools/fast-pool");
	assert_string_equal(m.v[2].payload,
	                    "{\"pool\": \"fast-pool\", \"health\": \"ONLINE\", "
	                    "\"capacity_percent\": 81, \"size\": 1000, \"allocated\": 810, "
	                    "\"free\": 190, \"checked_at\": \"2026-11-26T00:00:00\"}");
	assert_string_equal(m.v[5].topic, "p/nas.lan/pools/slow");
	assert_non_null(strstr(m.v[5].payload, "\"health\": \"DEGRADED\""));
	for (size_t i = 0; i < m.n; i++)
		assert_true(m.v[i].retain);
	mqtt_msgs_free(&m);
	zpool_list_free(&pools);
}

/* json.dumps' form: non-ASCII as \u escapes (jansson writes their hex in
 * capitals; the same JSON) */
static void test_payload_ascii(void **state)
{
	(void)state;
	struct mqtt_msgs m = MQTT_MSGS_INIT;
	mqtt_msgs_add(&m, "t", json_pack("{s:s, s:i}", "host", "caf\xc3\xa9", "n", 1), false);
	assert_string_equal(m.v[0].payload, "{\"host\": \"caf\\u00E9\", \"n\": 1}");
	assert_false(m.v[0].retain);
	mqtt_msgs_free(&m);
}

/* [mqtt]: every key, its defaults, and what is refused (naming the line) */
static void test_config(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	assert_int_equal(c.mqtt.port, 1883);
	assert_null(c.mqtt.host);
	assert_int_equal(config_load_string(&c, "t",
	                                    "[mqtt]\nhost = broker.lan\nport = 8883\n"
	                                    "tls_ca = /etc/ssl/ca.pem\nuser = zkeep\n"
	                                    "password_file = /etc/zkeep/mqtt-password\n"
	                                    "topic_prefix = home/zfs\n",
	                                    &e),
	                 0);
	assert_string_equal(c.mqtt.host, "broker.lan");
	assert_int_equal(c.mqtt.port, 8883);
	assert_string_equal(c.mqtt.tls_ca, "/etc/ssl/ca.pem");
	assert_string_equal(c.mqtt.user, "zkeep");
	assert_string_equal(c.mqtt.password_file, "/etc/zkeep/mqtt-password");
	assert_string_equal(c.mqtt.topic_prefix, "home/zfs");
	struct mqtt_broker b;
	mqtt_broker_of(&b, &c.mqtt, "other");
	assert_string_equal(b.host, "other");
	assert_int_equal(b.port, 8883);
	assert_int_equal(b.timeout_ms, MQTT_TIMEOUT_MS);
	config_free(&c);
	static const struct {
		const char *text, *msg;
	} bad[] = {
	    {"[mqtt]\nuser = u\n", "t:0: [mqtt] needs both user and password_file"},
	    {"[mqtt]\nport = 0\n", "t:2: port:"},
	    {"[mqtt]\ntopic_prefix = a/#\n", "t:2: topic_prefix:"},
	    {"[mqtt]\ntopic_prefix = a/+/b\n", "t:2: topic_prefix:"},
	    {"[mqtt]\npassword_file = rel/pw\n", "t:2: password_file:"},
	    {"[mqtt]\nhost = -oops\n", "t:2: host:"},
	    {"[mqtt]\nqos = 2\n", "t:2: unknown key 'qos' in [mqtt]"},
	    {"[mqtt x]\n", "t:1: section [mqtt] takes no name"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c);
		e = (struct zerr)ZERR_INIT;
		if (config_load_string(&c, "t", bad[i].text, &e) != -EINVAL ||
		    !strstr(e.msg, bad[i].msg))
			fail_msg("%s: got '%s'", bad[i].text, e.msg);
		config_free(&c);
	}
}

static void one_msg(struct mqtt_msgs *m)
{
	json_t *j = json_pack("{s:b}", "ok", 1);
	mqtt_msgs_add(m, "t/x", j, true);
}

/* Failures are errors with codes, within the deadline, never a crash */
static void test_publish_errors(void **state)
{
	(void)state;
	struct mqtt_msgs m = MQTT_MSGS_INIT;
	struct zerr e = ZERR_INIT;
	one_msg(&m);
	struct mqtt_broker b = {.host = NULL, .port = 1883, .timeout_ms = 500};
	assert_int_equal(mqtt_publish(&b, &m, &e), -EINVAL);

	/* a password file others can read is refused before connecting */
	char pw[] = "/tmp/zk-mqtt-pw-XXXXXX";
	int fd = mkstemp(pw);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret\n", 7), 7);
	close(fd);
	chmod(pw, 0644);
	b = (struct mqtt_broker){
	    .host = "127.0.0.1", .port = 1, .user = "u", .password_file = pw, .timeout_ms = 500};
	assert_int_equal(mqtt_publish(&b, &m, &e), -EACCES);
	assert_non_null(strstr(e.msg, pw));
	unlink(pw);

	/* nothing listening: refused */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
	int port = ntohs(sa.sin_port);
	b = (struct mqtt_broker){.host = "127.0.0.1", .port = port, .timeout_ms = 2000};
	assert_int_equal(mqtt_publish(&b, &m, &e), -ECONNREFUSED);
	assert_non_null(strstr(e.msg, "127.0.0.1:"));

	/* a listener that never answers MQTT: the deadline */
	assert_int_equal(listen(s, 4), 0);
	b.timeout_ms = 300;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(mqtt_publish(&b, &m, &e), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 290 && ms < 2000);
	close(s);
	mqtt_msgs_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_id),
	    cmocka_unit_test(test_pull_stale),
	    cmocka_unit_test(test_report_stale),
	    cmocka_unit_test(test_pull_messages),
	    cmocka_unit_test(test_report_messages),
	    cmocka_unit_test(test_pool_messages),
	    cmocka_unit_test(test_payload_ascii),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_publish_errors),
	};
	return cmocka_run_group_tests(tests, setup_utc, NULL);
}
