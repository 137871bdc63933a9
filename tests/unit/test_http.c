#include "unit.h"

#include <errno.h>
#include <string.h>

#include "api.h"
#include "http.h"

static void route(const char *path, enum http_route_id id, const char *arg)
{
	struct http_route r;
	int rc = http_route_parse(path, &r);
	if (id == ROUTE_NONE) {
		if (rc != -ENOENT)
			fail_msg("'%s' routed to %d, want none", path, r.id);
		assert_null(r.arg);
		return;
	}
	if (rc != 0 || r.id != id)
		fail_msg("'%s': rc %d id %d, want id %d", path, rc, r.id, id);
	if (arg)
		assert_string_equal(r.arg, arg);
	else
		assert_null(r.arg);
	http_route_free(&r);
}

static void test_routes(void **state)
{
	(void)state;
	route("/", ROUTE_ROOT, NULL);
	route("/api/v1/health", ROUTE_HEALTH, NULL);
	route("/api/v1/health/", ROUTE_HEALTH, NULL);
	route("/api/openapi.json", ROUTE_OPENAPI, NULL);
	route("/api/docs", ROUTE_DOCS, NULL);
	route("/api/redoc", ROUTE_DOCS, NULL);
	route("/metrics", ROUTE_METRICS, NULL);
	route("/api/v1/pools", ROUTE_POOLS, NULL);
	route("/api/v1/pools/tank", ROUTE_POOL, "tank");
	route("/api/v1/pools/tank/status", ROUTE_POOL_STATUS, "tank");
	route("/api/v1/pools/tank/iostat", ROUTE_POOL_IOSTAT, "tank");
	route("/api/v1/pools/tank/other", ROUTE_NONE, NULL);
	route("/api/v1/pools//status", ROUTE_NONE, NULL);
	route("/api/v1/datasets", ROUTE_DATASETS, NULL);
	route("/api/v1/datasets/tank", ROUTE_DATASET, "tank");
	route("/api/v1/datasets/tank/a b/c", ROUTE_DATASET, "tank/a b/c");
	/* the seed's shadowed routes are reachable */
	route("/api/v1/datasets/tank/a/snapshots", ROUTE_DATASET_SNAPSHOTS, "tank/a");
	route("/api/v1/datasets/tank/snapshots/", ROUTE_DATASET_SNAPSHOTS, "tank");
	route("/api/v1/datasets//x", ROUTE_NONE, NULL);
	route("/api/v1/snapshots", ROUTE_SNAPSHOTS, NULL);
	route("/api/v1/snapshots/_all", ROUTE_SNAPSHOTS_ALL, NULL);
	route("/api/v1/snapshots/tank/a", ROUTE_SNAPSHOTS_DATASET, "tank/a");
	route("/api/v1/backups", ROUTE_BACKUPS, NULL);
	route("/api/v1/backups/logs", ROUTE_BACKUP_LOGS, NULL);
	route("/api/v1/backups/logs/pull.log", ROUTE_BACKUP_LOG, "pull.log");
	route("/api/v1/backups/logs/../etc/passwd", ROUTE_NONE, NULL);
	route("/ui", ROUTE_UI, NULL);
	route("/ui/", ROUTE_UI, NULL);
	route("/ui/app.css", ROUTE_UI, "app.css");
	route("/api/v1", ROUTE_NONE, NULL);
	route("/api/v1/poolsx", ROUTE_NONE, NULL);
	route("", ROUTE_NONE, NULL);
	route("metrics", ROUTE_NONE, NULL);
	route("/docs", ROUTE_NONE, NULL);
}

static void test_long_path(void **state)
{
	(void)state;
	char p[HTTP_URL_MAX + 32];
	memset(p, 'a', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	memcpy(p, "/api/v1/datasets/", 17);
	route(p, ROUTE_NONE, NULL);
}

static void test_needs(void **state)
{
	(void)state;
	assert_false(http_route_needs_auth(ROUTE_HEALTH));
	assert_true(http_route_needs_auth(ROUTE_METRICS));
	assert_true(http_route_needs_auth(ROUTE_ROOT));
	assert_true(http_route_needs_view(ROUTE_POOLS));
	assert_false(http_route_needs_view(ROUTE_METRICS));
	assert_false(http_route_needs_view(ROUTE_HEALTH));
	assert_false(http_route_needs_view(ROUTE_BACKUP_LOG));
}

static void test_lines(void **state)
{
	(void)state;
	int n = 0;
	assert_int_equal(http_parse_lines(NULL, &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(http_parse_lines("5", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(http_parse_lines("1000", &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(http_parse_lines("1001", &n), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(http_parse_lines("99999999999999999", &n), 0);
	assert_int_equal(n, 1000);
	/* the seed clamps any integer to 1..1000 (seed-system.md 5): 0, a
	 * negative number and one past 64 bits are not refused */
	assert_int_equal(http_parse_lines("0", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(http_parse_lines("-1", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(http_parse_lines("-99999999999999999999", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(http_parse_lines("+7", &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(http_parse_lines("0005", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(http_parse_lines("9999999999999999999999", &n), 0);
	assert_int_equal(n, 1000);
	/* not an integer: the seed's 422 */
	assert_int_equal(http_parse_lines("", &n), -EINVAL);
	assert_int_equal(http_parse_lines("-", &n), -EINVAL);
	assert_int_equal(http_parse_lines("1e3", &n), -EINVAL);
	assert_int_equal(http_parse_lines("1.0", &n), -EINVAL);
	assert_int_equal(http_parse_lines("abc", &n), -EINVAL);
	assert_int_equal(http_parse_lines(" 5", &n), -EINVAL);
}

static void test_log_names(void **state)
{
	(void)state;
	assert_true(http_log_name_ok("pull-host.log"));
	assert_true(http_log_name_ok("a b.log"));
	assert_false(http_log_name_ok(""));
	assert_false(http_log_name_ok("."));
	assert_false(http_log_name_ok(".."));
	assert_false(http_log_name_ok(".hidden"));
	assert_false(http_log_name_ok("a/b"));
	assert_false(http_log_name_ok("/etc/passwd"));
	assert_false(http_log_name_ok("a\nb"));
	assert_false(http_log_name_ok("a\\b"));
}

static void test_key(void **state)
{
	(void)state;
	assert_true(http_key_equal("s3cret", "s3cret"));
	assert_false(http_key_equal("s3cre", "s3cret"));
	assert_false(http_key_equal("s3cretX", "s3cret"));
	assert_false(http_key_equal("S3cret", "s3cret"));
	assert_false(http_key_equal("", "s3cret"));
	assert_false(http_key_equal("", ""));
	assert_false(http_key_equal("x", ""));
}

static void test_origins(void **state)
{
	(void)state;
	assert_true(http_origin_allowed("*", "https://a.example"));
	assert_true(
	    http_origin_allowed("https://a.example, https://b.example", "https://b.example"));
	assert_false(http_origin_allowed("https://a.example", "https://a.example.evil"));
	assert_false(http_origin_allowed("https://a.example", NULL));
	assert_false(http_origin_allowed(NULL, "https://a.example"));
	assert_false(http_origin_allowed("", "https://a.example"));
}

static void test_accept_encoding(void **state)
{
	(void)state;
	/* what scrapers send: Go's net/http, curl --compressed */
	assert_true(http_accepts_gzip("gzip"));
	assert_true(http_accepts_gzip("deflate, gzip"));
	assert_true(http_accepts_gzip("gzip, deflate, br, zstd"));
	assert_true(http_accepts_gzip(" GZip ;q=0.5 , identity"));
	assert_true(http_accepts_gzip("x-gzip"));
	assert_true(http_accepts_gzip("gzip;q=1"));
	assert_true(http_accepts_gzip("gzip;q=1.000"));
	assert_true(http_accepts_gzip("gzip;q=0.001"));
	assert_true(http_accepts_gzip("*"));
	assert_true(http_accepts_gzip("br, *;q=0.1"));
	/* refused, or not asked for: identity */
	assert_false(http_accepts_gzip(NULL));
	assert_false(http_accepts_gzip(""));
	assert_false(http_accepts_gzip("identity"));
	assert_false(http_accepts_gzip("deflate, br"));
	assert_false(http_accepts_gzip("gzip;q=0"));
	assert_false(http_accepts_gzip("gzip; q=0.000"));
	assert_false(http_accepts_gzip("gzip;Q=0., *")); /* named gzip beats "*" */
	assert_false(http_accepts_gzip("*;q=0"));
	assert_false(http_accepts_gzip("gzipx, xgzip, gzi")); /* whole tokens only */
	/* malformed weights never enable it */
	assert_false(http_accepts_gzip("gzip;q=2"));
	assert_false(http_accepts_gzip("gzip;q=1.5"));
	assert_false(http_accepts_gzip("gzip;q=0.0001"));
	assert_false(http_accepts_gzip("gzip;q="));
	assert_false(http_accepts_gzip("gzip;q=abc"));
	assert_true(http_accepts_gzip("gzip;level=9;q=0.7"));
	assert_true(http_accepts_gzip(",,gzip,,"));
	assert_false(http_accepts_gzip(";;;,;q=1"));
}

/* The handler http is given: api_serve answers from the request's view,
 * status and clock and its site's name; http_error's body is the seed's
 * {"detail": ...}. */
static void test_handler(void **state)
{
	(void)state;
	struct api_site site = {"host-a", NULL};
	struct view_status st = {0};
	snprintf(st.last_error, sizeof(st.last_error), "zfs hung");
	struct http_route r = {ROUTE_POOLS, NULL};
	struct http_request rq = {&r, NULL, &st, NULL, NULL, NULL, {1795680000, 250000000}};
	struct http_response res = {0, NULL, BUF_INIT, NULL, NULL};
	api_serve(&site, &rq, &res);
	assert_int_equal(res.status, 503);
	assert_string_equal(res.body.s, "{\"detail\":\"no data collected yet: zfs hung\"}");
	r.id = ROUTE_HEALTH;
	api_serve(&site, &rq, &res);
	assert_int_equal(res.status, 200);
	assert_non_null(strstr(res.body.s, "\"timestamp\":\"2026-11-26T08:00:00.250000Z\""));
	assert_null(res.stream);
	http_error(&res, 414, "URL %s", "too long");
	assert_int_equal(res.status, 414);
	assert_string_equal(res.content_type, "application/json");
	assert_string_equal(res.body.s, "{\"detail\":\"URL too long\"}");
	buf_free(&res.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes),    cmocka_unit_test(test_long_path),
	    cmocka_unit_test(test_needs),     cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_log_names), cmocka_unit_test(test_key),
	    cmocka_unit_test(test_origins),   cmocka_unit_test(test_accept_encoding),
	    cmocka_unit_test(test_handler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
