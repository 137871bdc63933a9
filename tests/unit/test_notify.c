/*
 * The pure parts of lib/notify: the webhook signature (RFC 4231's HMAC-SHA256
 * vectors), the URLs taken, the deadline
 * arithmetic, the ping URLs, the hooks' environment, and the config keys
 * that carry them. The HTTP and hook runs themselves are tested against a
 * real server by tests/host/t_notify.sh and tests/it/t_notify.sh.
 */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "notify.h"
#include "record.h"
#include "strvec.h"

static void test_signature(void **state)
{
	(void)state;
	char sig[NOTIFY_SIG_LEN];
	/* RFC 4231, test case 2 */
	const char *data = "what do ya want for nothing?";
	assert_int_equal(notify_signature("Jefe", 4, data, strlen(data), sig, NULL), 0);
	assert_string_equal(
	    sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* RFC 4231, test case 1: 20 bytes of 0x0b, "Hi There" */
	unsigned char key[20];
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(notify_signature(key, sizeof(key), "Hi There", 8, sig, NULL), 0);
	assert_string_equal(
	    sig, "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* the body is signed byte for byte: one byte more, another signature */
	char other[NOTIFY_SIG_LEN];
	assert_int_equal(
	    notify_signature("Jefe", 4, "what do ya want for nothing?!", 29, other, NULL), 0);
	assert_string_not_equal(sig, other);
}

static void url(const char *u, int want)
{
	struct zerr e = ZERR_INIT;
	int r = notify_url_check(u, &e);
	if (r != want)
		fail_msg("'%s': %d (%s), want %d", u, r, e.msg, want);
	if (r < 0)
		assert_non_null(strstr(e.msg, u));
}

static void test_url(void **state)
{
	(void)state;
	url("https://hc-ping.com/5c1e0a6e-8a5c-4f0b-9e77-3c1b2b0c1d2e", 0);
	url("http://127.0.0.1:8080/ping/abc", 0);
	url("http://[::1]:8080/x?y=1", 0);
	url("ftp://example.com/x", -EINVAL);
	url("hc-ping.com/uuid", -EINVAL);
	url("http:///nohost", -EINVAL);
	url("https://example.com/a b", -EINVAL);
	url("https://user:pw@example.com/", -EINVAL);
	url("https://example.com/\x01", -EINVAL);
	url("https://example.com/x@y", 0); /* an @ in the path is not a user */
}

static void test_deadline(void **state)
{
	(void)state;
	/* a whole request while the deadline is far */
	assert_int_equal(notify_attempt_ms(0, NOTIFY_DEADLINE_MS), NOTIFY_REQUEST_MS);
	/* what is left when less than a request */
	assert_int_equal(notify_attempt_ms(10000, NOTIFY_DEADLINE_MS), 5000);
	assert_int_equal(notify_attempt_ms(14500, NOTIFY_DEADLINE_MS), NOTIFY_MIN_ATTEMPT_MS);
	/* no attempt on crumbs, nor past it */
	assert_int_equal(notify_attempt_ms(14501, NOTIFY_DEADLINE_MS), 0);
	assert_int_equal(notify_attempt_ms(20000, NOTIFY_DEADLINE_MS), 0);
	/* retries after 1 s, 2 s, 4 s, 8 s, then 8 s each */
	assert_int_equal(notify_retry_at(0, 1, 100000), 1000);
	assert_int_equal(notify_retry_at(0, 2, 100000), 2000);
	assert_int_equal(notify_retry_at(0, 3, 100000), 4000);
	assert_int_equal(notify_retry_at(0, 4, 100000), 8000);
	assert_int_equal(notify_retry_at(0, 9, 100000), 8000);
	/* a retry that would find no time left is not scheduled: a server
	 * refusing at once gets attempts at 0, 1, 3 and 7 s, not at 15 */
	assert_int_equal(notify_retry_at(7000, 4, NOTIFY_DEADLINE_MS), -1);
	assert_int_equal(notify_retry_at(3000, 3, NOTIFY_DEADLINE_MS), 7000);
	assert_int_equal(notify_retry_at(14000, 1, NOTIFY_DEADLINE_MS), -1);
}

static void ping(const char *u, const char *suffix, const char *want)
{
	struct buf b = BUF_INIT;
	notify_ping_url(&b, u, suffix);
	assert_string_equal(b.s, want);
	buf_free(&b);
}

static void test_ping_url(void **state)
{
	(void)state;
	ping("https://hc-ping.com/u", "/start", "https://hc-ping.com/u/start");
	ping("https://hc-ping.com/u/", "/fail", "https://hc-ping.com/u/fail");
	ping("https://hc-ping.com/u", "", "https://hc-ping.com/u");
	ping("https://hc-ping.com/u/", "", "https://hc-ping.com/u/");
}

static void test_hooks_env(void **state)
{
	(void)state;
	struct record r;
	struct strvec env = STRVEC_INIT;
	record_init(&r, RECORD_PUSH, "offsite");
	r.start = 100;
	r.end = 160;
	r.result = RECORD_RUN_FAILED;
	record_add(&r, "tank/a", "pool/a", RECORD_OK);
	record_add(&r, "tank/b", "pool/b", RECORD_FAILED);
	record_add(&r, "tank/c", "pool/c", RECORD_SKIPPED);
	notify_hooks_env(&env, &r, "/var/lib/zkeep/push-offsite.json", "push offsite: 1 failed");
	const char *want[] = {"ZKEEP_JOB=offsite",
	                      "ZKEEP_KIND=push",
	                      "ZKEEP_RESULT=failed",
	                      "ZKEEP_ERROR=",
	                      "ZKEEP_START=100",
	                      "ZKEEP_END=160",
	                      "ZKEEP_DATASETS=3",
	                      "ZKEEP_FAILED=1",
	                      "ZKEEP_RECORD=/var/lib/zkeep/push-offsite.json",
	                      "ZKEEP_SUMMARY=push offsite: 1 failed"};
	assert_int_equal(env.n, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < env.n; i++)
		assert_string_equal(env.v[i], want[i]);
	strvec_clear(&env);
	record_free(&r);
}

static int load(const char *text, struct zk_config *c, struct zerr *e)
{
	config_init(c);
	return config_load_string(c, "t.conf", text, e);
}

#define JOB "[pull a]\nhost = h\ndatasets = tank/x\ndestination = pool/b\n"

static void bad(const char *text, const char *msg)
{
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	assert_int_equal(load(text, &c, &e), -EINVAL);
	if (!strstr(e.msg, msg))
		fail_msg("got '%s', want '%s' in it", e.msg, msg);
	config_free(&c);
}

static void test_config(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	int r = load(JOB "healthcheck_url = https://hc-ping.com/u\n"
	                 "webhook_url = https://example.com/hook\n"
	                 "webhook_secret_file = /etc/zkeep/webhook-secret\n"
	                 "on_success = /usr/bin/logger -t zkeep 'pull ok'\n"
	                 "on_failure = sh: mail -s failed root\n"
	                 "hook_timeout = 5\n"
	                 "[snapshot]\nhealthcheck_url = https://hc-ping.com/s\n",
	             &c, &e);
	if (r < 0)
		fail_msg("%s", e.msg);
	const struct zk_notify_cfg *n = &c.jobs[0].notify;
	assert_string_equal(n->healthcheck_url, "https://hc-ping.com/u");
	assert_string_equal(n->webhook_url, "https://example.com/hook");
	assert_string_equal(n->webhook_secret_file, "/etc/zkeep/webhook-secret");
	assert_string_equal(n->on_success, "/usr/bin/logger -t zkeep 'pull ok'");
	assert_string_equal(n->on_failure, "sh: mail -s failed root");
	assert_int_equal(n->hook_timeout, 5);
	assert_string_equal(c.snapshot_healthcheck_url, "https://hc-ping.com/s");
	config_free(&c);

	/* the defaults: nothing to tell, hooks get 60 s */
	assert_int_equal(load(JOB, &c, &e), 0);
	assert_null(c.jobs[0].notify.healthcheck_url);
	assert_null(c.snapshot_healthcheck_url);
	assert_int_equal(c.jobs[0].notify.hook_timeout, NOTIFY_HOOK_TIMEOUT_S);
	config_free(&c);

	bad(JOB "healthcheck_url = hc-ping.com/u\n", "t.conf:5: healthcheck_url: 'hc-ping.com/u'");
	bad(JOB "on_failure = echo 'oops\n",
	    "t.conf:5: on_failure: hook 'echo 'oops' has an unclosed ' quote");
	bad(JOB "hook_timeout = 0\n", "t.conf:5: hook_timeout:");
	bad(JOB "webhook_url = https://example.com/hook\n",
	    "[pull a] needs both webhook_url and webhook_secret_file");
	bad(JOB "webhook_secret_file = etc/secret\n", "t.conf:5: webhook_secret_file:");
	bad("[snapshot]\nwebhook_url = https://example.com/\n",
	    "t.conf:2: unknown key 'webhook_url' in [snapshot]");
	bad("[snapshot x]\n", "section [snapshot] takes no name");
}

/* A record with notifications, written and read back the same; one
 * without keeps none and writes no key. */
static void test_record_notes(void **state)
{
	(void)state;
	struct record r, back;
	struct zerr e = ZERR_INIT;
	char dir[] = "/tmp/zk-notify-XXXXXX";
	assert_non_null(mkdtemp(dir));
	record_init(&r, RECORD_PULL, "client1");
	r.start = 1;
	r.end = 2;
	json_t *j = record_to_json(&r);
	assert_null(json_object_get(j, "notifications"));
	json_decref(j);
	record_add_note(&r, "healthcheck", true, NULL, 1796600000, 1);
	record_add_note(&r, "webhook", false, "http://h/x answered HTTP 500", 1796600009, 3);
	assert_int_equal(record_write(dir, &r, &e), 0);
	struct buf p = BUF_INIT;
	record_path(&p, dir, RECORD_PULL, "client1");
	if (record_read(p.s, &back, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(back.version, RECORD_VERSION);
	assert_int_equal(back.n_notes, 2);
	assert_string_equal(back.notes[0].channel, "healthcheck");
	assert_true(back.notes[0].ok);
	assert_null(back.notes[0].error);
	assert_int_equal(back.notes[0].at, 1796600000);
	assert_int_equal(back.notes[0].attempts, 1);
	assert_string_equal(back.notes[1].channel, "webhook");
	assert_false(back.notes[1].ok);
	assert_string_equal(back.notes[1].error, "http://h/x answered HTTP 500");
	assert_int_equal(back.notes[1].at, 1796600009);
	assert_int_equal(back.notes[1].attempts, 3);
	/* the JSON: keys in the documented order */
	j = record_to_json(&back);
	char *s = json_dumps(json_object_get(j, "notifications"), JSON_COMPACT);
	assert_string_equal(s, "[{\"channel\":\"healthcheck\",\"ok\":true,\"error\":null,"
	                       "\"at\":1796600000,\"attempts\":1},{\"channel\":\"webhook\","
	                       "\"ok\":false,\"error\":\"http://h/x answered HTTP 500\","
	                       "\"at\":1796600009,\"attempts\":3}]");
	free(s);
	json_decref(j);
	unlink(p.s);
	rmdir(dir);
	buf_free(&p);
	record_free(&back);
	record_free(&r);
}

/* A job with a hook only: no transfer at all (libcurl is neither needed
 * nor touched: this crashed once, drive() calling into a libcurl not
 * loaded), the hook's result in the record and in its totals. */
static void test_hook_only(void **state)
{
	(void)state;
	struct zk_notify_cfg cfg = {.on_success = (char *)"/bin/true", .hook_timeout = 10};
	struct notify_run n = {.cfg = &cfg, .summary = "pull x: ok"};
	struct record rec;
	record_init(&rec, RECORD_PULL, "x");
	rec.result = RECORD_RUN_OK;
	notify_run_end(NULL, &n, &rec);
	assert_int_equal(rec.n_notes, 1);
	assert_string_equal(rec.notes[0].channel, "on_success");
	assert_true(rec.notes[0].ok);
	assert_int_equal(rec.n_tallies, 1);
	assert_int_equal(rec.tallies[0].sent, 1);
	assert_int_equal(rec.tallies[0].failed, 0);
	record_free(&rec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signature),    cmocka_unit_test(test_url),
	    cmocka_unit_test(test_deadline),     cmocka_unit_test(test_ping_url),
	    cmocka_unit_test(test_hooks_env),    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_record_notes), cmocka_unit_test(test_hook_only),
	};
	/* As every caller must (lib/notify.h): a hook that exits without
	 * reading the record on its stdin (/bin/true here) would otherwise
	 * kill the test with SIGPIPE whenever it exits before the write. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
