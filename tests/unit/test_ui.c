/*
 * The /ui/ page rendered from a view built from outputs captured on real
 * OpenZFS 2.3 (tests/fixtures/2.3), with run records whose names and
 * errors are hostile; the history parser on a query_range answer of the
 * shape VictoriaMetrics gives; the history fetch against a tiny HTTP
 * server on loopback (what it asks, what it does with a slow or broken
 * answer); the Accept rule for /.
 */
#include "unit.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "history.h"
#include "state.h"
#include "ui.h"
#include "view.h"

#define NOW 1795680000

struct uifx {
	struct zk_config cfg;
	char dir[64];
	struct view *v;
};

/* A pull whose job, source and error try to break out of the page. */
static const char hostile_record[] =
    "{\"job\": \"<script>alert(1)</script>\", \"kind\": \"pull\", \"source_host\":"
    " \"evil\\\"host\", \"destination_host\": \"local\", \"start\": 1795679000,"
    " \"end\": 1795679100, \"result\": \"failed\", \"error\": null, \"datasets\": ["
    "{\"source\": \"tank/a'b\", \"target\": \"fixt/backups/x/tank/a'b\", \"result\":"
    " \"failed\", \"error\": \"<img src=x onerror=alert(2)> & \\u0001\", \"bytes\": 0,"
    " \"start\": 1795679010, \"end\": 1795679020, \"newest\": null, \"resume_token\":"
    " null, \"matched_by_name\": false}]}";

/* A good pull, an hour old at NOW. */
static const char good_record[] =
    "{\"job\": \"h\", \"kind\": \"pull\", \"source_host\": \"client.example\","
    " \"destination_host\": \"local\", \"start\": 1795676300, \"end\": 1795676400,"
    " \"result\": \"ok\", \"error\": null, \"datasets\": [{\"source\": \"tank/good\","
    " \"target\": \"fixt/backups/h/tank/good\", \"result\": \"ok\", \"error\": null,"
    " \"bytes\": 1048576, \"start\": 1795676310, \"end\": 1795676370, \"newest\":"
    " {\"name\": \"autosnap_2026-11-26_06:00:00_hourly\", \"guid\": 1, \"creation\":"
    " 1795672000}, \"resume_token\": null, \"matched_by_name\": false}]}";

static void put(const char *dir, const char *name, const char *text)
{
	struct buf p = BUF_INIT;
	struct zerr e = ZERR_INIT;
	buf_addf(&p, "%s/%s", dir, name);
	if (state_write_atomic(p.s, text, strlen(text), 0644, &e) < 0)
		fail_msg("%s", e.msg);
	buf_free(&p);
}

static int setup(void **state)
{
	struct uifx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/zk-test-ui-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	config_init(&f->cfg);
	struct buf conf = BUF_INIT;
	buf_addf(&conf,
	         "[global]\nstate_dir = %s\nlock_dir = %s\n[dataset fixt/data]\npolicy = low\n"
	         "discover_children = yes\n",
	         f->dir, f->dir);
	struct zerr e = ZERR_INIT;
	if (config_load_string(&f->cfg, "ui.conf", conf.s, &e) < 0)
		fail_msg("config: %s", e.msg);
	buf_free(&conf);
	put(f->dir, "pull-evil.json", hostile_record);
	put(f->dir, "pull-h.json", good_record);

	struct buf ver = BUF_INIT, pools = BUF_INIT, list = BUF_INIT, get = BUF_INIT,
	           deg = BUF_INIT, ok = BUF_INIT;
	fixture_read("2.3/version.out", &ver);
	fixture_read("2.3/zpool-list.out", &pools);
	fixture_read("2.3/zfs-list.out", &list);
	fixture_read("2.3/zfs-get-all.out", &get);
	fixture_read("2.3/zpool-status-degraded.out", &deg);
	fixture_read("2.3/zpool-status.out", &ok);
	const char *status[] = {deg.s, ok.s};
	struct view_texts t = {ver.s, pools.s, list.s, get.s, status, NULL, 0};
	/* the hostname comes from the environment: hostile too */
	struct view_opts o = {&f->cfg, NULL, "<b>host</b>", 0, NOW};
	if (view_build(&o, &t, NULL, &f->v, &e) < 0)
		fail_msg("view_build: %s", e.msg);
	buf_free(&ver);
	buf_free(&pools);
	buf_free(&list);
	buf_free(&get);
	buf_free(&deg);
	buf_free(&ok);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct uifx *f = *state;
	view_put(f->v);
	config_free(&f->cfg);
	struct buf p = BUF_INIT;
	buf_addf(&p, "%s/pull-evil.json", f->dir);
	unlink(p.s);
	buf_reset(&p);
	buf_addf(&p, "%s/pull-h.json", f->dir);
	unlink(p.s);
	rmdir(f->dir);
	buf_free(&p);
	free(f);
	return 0;
}

static void has(const char *page, const char *want)
{
	if (!strstr(page, want))
		fail_msg("page lacks '%s'", want);
}

static void lacks(const char *page, const char *bad)
{
	if (strstr(page, bad))
		fail_msg("page has '%s'", bad);
}

/* The <tr> whose attributes start with attrs, up to its </tr>. */
static char *row(const char *page, const char *attrs)
{
	const char *s = strstr(page, attrs);
	if (!s)
		fail_msg("no row with '%s'", attrs);
	const char *e = strstr(s, "</tr>");
	assert_non_null(e);
	return strndup(s, (size_t)(e - s));
}

static void test_page(void **state)
{
	struct uifx *f = *state;
	struct view_status st = {0};
	st.last_ok = true;
	struct buf b = BUF_INIT;
	ui_render(f->v, &st, NULL, NOW, &b);
	const char *p = b.s;
	has(p, "<!DOCTYPE html>");
	/* no scripts, nothing fetched from elsewhere */
	lacks(p, "<script");
	lacks(p, "<link");
	lacks(p, "<img");
	lacks(p, "url(");
	lacks(p, "http://");
	lacks(p, "https://");

	/* pools: health coloured, a capacity bar, no history column */
	char *r = row(p, "class=\"pool\" data-pool=\"deg\"");
	has(r, "<span class=\"b warn\">DEGRADED</span>");
	has(r, "<svg class=\"cap\"");
	has(r, "aria-label=\"0% used\"");
	has(r, "<td class=\"n\">9%</td>"); /* fragmentation */
	has(r, "<td>never</td>");          /* no scan line: never scrubbed */
	free(r);
	r = row(p, "class=\"pool\" data-pool=\"fixt\"");
	has(r, "<span class=\"b ok\">ONLINE</span>");
	has(r, "aria-label=\"3% used\"");
	has(r, "<td class=\"n\">4%</td>");
	has(r, "scrub finished");
	free(r);
	lacks(p, "<th>history</th>");
	lacks(p, "class=\"spark\"");

	/* compliance: fixt/data and its children under policy low */
	r = row(p, "class=\"dataset\" data-dataset=\"fixt/data\"");
	has(r, "<td>low</td>");
	has(r, "/3"); /* hourly: count of 3 */
	free(r);
	has(p, "data-dataset=\"fixt/data/with space\"");

	/* backups: the good one green and an hour old, the failed one red */
	r = row(p, "class=\"backup\" data-job=\"h\"");
	has(r, "<span class=\"b ok\">ok</span>");
	has(r, "<span class=\"b ok\">1h ago</span>");
	/* one short line: the age, its time in the title (1280 px, t_ui.sh) */
	has(r, "<td class=\"t\" title=\"2026-11-26 06:59 UTC\"><span class=\"b ok\">1h "
	       "ago</span></td>");
	has(r, "<td class=\"nm\">fixt/backups/h/tank/good</td>");
	has(r, "1.00 MB");
	free(r);
	r = row(p, "class=\"backup\" data-job=\"&lt;script&gt;alert(1)&lt;/script&gt;\"");
	has(r, "<span class=\"b bad\">failed</span>");
	has(r, "<td class=\"t\"><span class=\"b bad\">never</span></td>");
	has(r, "evil&quot;host:tank/a&#39;b");
	has(r, "&lt;img src=x onerror=alert(2)&gt; &amp; &#xFFFD;");
	free(r);
	lacks(p, "<img");
	lacks(p, "<b>host");
	has(p, "<h1>&lt;b&gt;host&lt;/b&gt;</h1>");

	/* what needs attention (lib/attention's rule): the degraded pool
	 * (critical, listed first), the failed backup (a warning) */
	has(p, "id=\"attention\" data-state=\"critical\"");
	has(p, "<li class=\"critical\">critical: pool deg is DEGRADED</li>");
	has(p, "<li class=\"warning\">warning: backup &lt;script&gt;");
	assert_true(strstr(p, "critical: pool deg") < strstr(p, "warning: backup &lt;script&gt;"));
	buf_free(&b);
}

static void test_no_view(void **state)
{
	(void)state;
	struct view_status st = {0};
	st.last_attempt = NOW;
	snprintf(st.last_error, sizeof(st.last_error), "cannot run 'zfs' <now>");
	struct buf b = BUF_INIT;
	ui_render(NULL, &st, NULL, NOW, &b);
	has(b.s, "nothing collected yet");
	has(b.s, "last collection failed");
	has(b.s, "cannot run &#39;zfs&#39; &lt;now&gt;");
	buf_free(&b);
}

/* What VictoriaMetrics answers to query_range (its shape, values made up):
 * one series per pool, values as strings, plus one without a pool label
 * and one NaN sample that must be skipped. */
static const char range_answer[] =
    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
    "{\"metric\":{\"__name__\":\"zfs_pool_capacity_percent\",\"hostname\":\"h\","
    "\"pool\":\"fixt\"},\"values\":[[1795593600,\"0\"],[1795636800,\"50\"],"
    "[1795650000,\"NaN\"],[1795680000,\"100\"]]},"
    "{\"metric\":{\"hostname\":\"h\",\"pool\":\"deg\"},\"values\":[[1795679000,\"9\"]]},"
    "{\"metric\":{\"hostname\":\"h\"},\"values\":[[1795679000,\"1\"]]}]},"
    "\"stats\":{\"seriesFetched\":\"3\"}}";

/* time() - zfs_backup_last_success_timestamp: the good backup's age, 0 a
 * day ago and 52 h now (over the 26 h amber line, so the line's top). */
static const char age_answer[] =
    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
    "{\"metric\":{\"backup_job\":\"h\",\"hostname\":\"h\",\"target\":"
    "\"fixt/backups/h/tank/good\"},\"values\":[[1795593600,\"0\"],[1795680000,\"187200\"]]}]}}";

static void test_history(void **state)
{
	struct uifx *f = *state;
	struct history *h = history_new(NOW - 86400, NOW);
	struct zerr e = ZERR_INIT;
	assert_int_equal(history_parse(range_answer, strlen(range_answer), "pool", &h->pools, &e),
	                 0);
	assert_int_equal(h->pools.n, 2);
	assert_string_equal(h->pools.s[0].key, "fixt");
	assert_int_equal(h->pools.s[0].n, 3); /* NaN skipped */
	assert_int_equal(history_parse(age_answer, strlen(age_answer), "target", &h->backups, &e),
	                 0);
	struct buf b = BUF_INIT;
	ui_render(f->v, NULL, h, NOW, &b);
	has(b.s, "<th>history</th>");
	char *r = row(b.s, "class=\"pool\" data-pool=\"fixt\"");
	/* 0 % at the start, 50 % half way, 100 % now: x 0..160, y 27..1 */
	has(r, "<svg class=\"spark\"");
	has(r, "points=\"0.0,27.0 80.0,14.0 160.0,1.0\"");
	free(r);
	/* one sample is no line */
	r = row(b.s, "class=\"pool\" data-pool=\"deg\"");
	lacks(r, "class=\"spark\"");
	free(r);
	/* backups: the age line of the good one, none for the other */
	has(b.s, "<th>age history</th>");
	r = row(b.s, "class=\"backup\" data-job=\"h\"");
	has(r, "aria-label=\"age of the last success over the last 24h\"");
	has(r, "points=\"0.0,27.0 160.0,1.0\"");
	free(r);
	r = row(b.s, "class=\"backup\" data-job=\"&lt;script&gt;");
	lacks(r, "class=\"spark\"");
	free(r);
	buf_free(&b);
	history_put(h);

	/* errors and other shapes are refused */
	const char *bad[] = {"not json", "{\"status\":\"error\",\"error\":\"bad query\"}",
	                     "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
	                     "\"result\":[]}}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct history_series_set set = {NULL, 0};
		assert_int_equal(history_parse(bad[i], strlen(bad[i]), "pool", &set, &e), -EINVAL);
		assert_int_equal(set.n, 0);
	}
	has(e.msg, "query_range");
}

static void test_escape_and_accept(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	ui_escape(&b, "a<b>&\"c'\x1b\td\xc3\xa9");
	assert_string_equal(b.s, "a&lt;b&gt;&amp;&quot;c&#39;&#xFFFD;\td\xc3\xa9");
	buf_free(&b);

	/* browsers */
	assert_true(ui_accept_prefers_html(
	    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"));
	assert_true(ui_accept_prefers_html("text/html, */*; q=0.5"));
	/* API clients and tools keep the JSON */
	assert_false(ui_accept_prefers_html(NULL));
	assert_false(ui_accept_prefers_html(""));
	assert_false(ui_accept_prefers_html("*/*"));
	assert_false(ui_accept_prefers_html("application/json"));
	assert_false(ui_accept_prefers_html("application/json, text/html"));
	assert_false(ui_accept_prefers_html("text/html;q=0.5, application/json"));
	assert_false(ui_accept_prefers_html("text/html;q=0"));
	assert_false(ui_accept_prefers_html("text/html;q=0.8, */*"));
}

static void test_url_check(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	assert_int_equal(history_url_check("http://127.0.0.1:8428", &e), 0);
	assert_int_equal(history_url_check("http://vm.example.net/", &e), 0);
	assert_int_equal(history_url_check("http://[::1]:8428/prefix", &e), 0);
	assert_int_equal(history_url_check("https://vm.example.net", &e), -EINVAL);
	has(e.msg, "only plain http://");
	assert_int_equal(history_url_check("http://:80", &e), -EINVAL);
	assert_int_equal(history_url_check("http://u:p@h", &e), -EINVAL);
	assert_int_equal(history_url_check("http://h:x", &e), -EINVAL);
	assert_int_equal(history_url_check("http://h/?q=1", &e), -EINVAL);
	assert_int_equal(history_url_check("http://h/a b", &e), -EINVAL);
}

/* ---- the fetch, against a one-shot server on loopback ---------------- */

struct srv {
	int fd, port;
	const char *answer; /* NULL: accept, read, and never answer */
	int conns;          /* connections to take */
	char request[8192]; /* what they sent, one after the other */
};

static void *serve(void *arg)
{
	struct srv *s = arg;
	size_t n = 0;
	for (int k = 0; k < s->conns; k++) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		size_t start = n;
		while (n + 1 < sizeof(s->request) && !strstr(s->request + start, "\r\n\r\n")) {
			ssize_t r = read(c, s->request + n, sizeof(s->request) - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			s->request[n] = '\0';
		}
		if (s->answer) {
			/* the client may hang up first (an answer it refuses) */
			ssize_t w = send(c, s->answer, strlen(s->answer), MSG_NOSIGNAL);
			(void)w;
		} else {
			usleep(800 * 1000); /* longer than the fetch's timeout */
		}
		close(c);
	}
	return NULL;
}

static void srv_start(struct srv *s, pthread_t *t)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->fd, 1), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(t, NULL, serve, s), 0);
}

static int fetch(struct srv *s, struct history **h, struct zerr *e)
{
	pthread_t t;
	char url[64];
	srv_start(s, &t);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/vm/", s->port);
	int r = history_fetch(url, "h\"1", NOW, 86400, 300, h, e);
	/* a fetch that went elsewhere or stopped early leaves serve() in
	 * accept(): shutting the listener down wakes it */
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(s->fd);
	return r;
}

static void test_fetch(void **state)
{
	(void)state;
	struct buf ans = BUF_INIT;
	buf_addf(&ans, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n%s", range_answer);
	struct srv s = {-1, 0, ans.s, 2, ""};
	struct history *h = NULL;
	struct zerr e = ZERR_INIT;
	if (fetch(&s, &h, &e) < 0)
		fail_msg("fetch: %s", e.msg);
	assert_int_equal(h->pools.n, 2);
	assert_int_equal(h->backups.n, 0); /* the answer has no target labels */
	assert_int_equal(h->end, NOW);
	assert_int_equal(h->start, NOW - 86400);
	history_put(h);
	h = NULL;
	/* the path under the base URL, the host's label quoted, a step for 120 points */
	has(s.request, "GET "
	               "/vm/api/v1/"
	               "query_range?query=zfs_pool_capacity_percent%7Bhostname%3D%22h%5C%221%22%7D&"
	               "start=1795593600&end=1795680000&step=720s HTTP/1.0\r\n");
	has(s.request, "GET /vm/api/v1/query_range?query=time%28%29%20-%20"
	               "zfs_backup_last_success_timestamp%7Bhostname%3D%22h%5C%221%22%7D&"
	               "start=1795593600&end=1795680000&step=720s HTTP/1.0\r\n");

	struct srv s404 = {-1, 0, "HTTP/1.1 404 Not Found\r\n\r\nno", 1, ""};
	h = NULL;
	assert_int_equal(fetch(&s404, &h, &e), -EPROTO);
	assert_null(h);
	has(e.msg, "answered 404");

	/* a redirect is not followed: it is an answer that is not 200 */
	struct srv moved = {-1, 0, "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\n\r\n", 1,
	                    ""};
	assert_int_equal(fetch(&moved, &h, &e), -EPROTO);
	has(e.msg, "answered 302");
	struct srv nothttp = {-1, 0, "SSH-2.0-OpenSSH_9.2\r\n", 1, ""};
	assert_int_equal(fetch(&nothttp, &h, &e), -EPROTO);
	assert_null(h);

	/* libcurl decodes a chunked body (the hand-written client refused one) */
	buf_reset(&ans);
	buf_addf(&ans,
	         "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
	         strlen(range_answer), range_answer);
	struct srv chunked = {-1, 0, ans.s, 2, ""};
	if (fetch(&chunked, &h, &e) < 0)
		fail_msg("fetch of a chunked answer: %s", e.msg);
	assert_int_equal(h->pools.n, 2);
	history_put(h);
	h = NULL;

	/* an answer over HISTORY_MAX, announced or not, is refused */
	struct srv announced = {-1, 0, "HTTP/1.1 200 OK\r\nContent-Length: 4194305\r\n\r\n{}", 1,
	                        ""};
	assert_int_equal(fetch(&announced, &h, &e), -E2BIG);
	buf_reset(&ans);
	buf_adds(&ans, "HTTP/1.1 200 OK\r\n\r\n");
	while (ans.len < HISTORY_MAX + 100)
		buf_adds(&ans, "[1795680000,\"1\"],");
	struct srv big = {-1, 0, ans.s, 1, ""};
	assert_int_equal(fetch(&big, &h, &e), -E2BIG);
	has(e.msg, "over 4194304 bytes");
	assert_null(h);
	buf_free(&ans);

	/* no proxy from the environment: the store is asked directly */
	setenv("http_proxy", "http://127.0.0.1:1", 1);
	buf_addf(&ans, "HTTP/1.1 200 OK\r\n\r\n%s", range_answer);
	struct srv direct = {-1, 0, ans.s, 2, ""};
	int r = fetch(&direct, &h, &e);
	unsetenv("http_proxy");
	if (r < 0)
		fail_msg("fetch with http_proxy set: %s", e.msg);
	history_put(h);
	h = NULL;
	buf_free(&ans);

	struct srv slow = {-1, 0, NULL, 1, ""};
	assert_int_equal(fetch(&slow, &h, &e), -ETIMEDOUT);
	assert_null(h);

	/* nobody listening */
	assert_int_equal(history_fetch("http://127.0.0.1:1", "h", NOW, 86400, 300, &h, &e),
	                 -ECONNREFUSED);
}

static void test_api_routes(void **state)
{
	struct uifx *f = *state;
	struct view_status st = {0};
	struct api_ctx c = {f->v, &st, "h", NULL, NOW, NULL, "text/html,*/*;q=0.8"};
	struct http_route r = {ROUTE_ROOT, NULL};
	struct http_response res = {0, NULL, BUF_INIT, NULL};
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 303);
	assert_string_equal(res.location, "/ui/");
	c.accept = "*/*";
	res.location = NULL;
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_null(res.location);
	has(res.body.s, "\"openapi\":\"/api/openapi.json\"");

	r.id = ROUTE_UI;
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.content_type, "text/html; charset=utf-8");
	has(res.body.s, "data-pool=\"fixt\"");
	r.arg = (char *)"app.css";
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 404);
	r.arg = NULL;
	c.v = NULL;
	api_handle(&c, &r, NULL, &res);
	assert_int_equal(res.status, 503);
	has(res.body.s, "nothing collected yet");
	buf_free(&res.body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_page, setup, teardown),
	    cmocka_unit_test(test_no_view),
	    cmocka_unit_test_setup_teardown(test_history, setup, teardown),
	    cmocka_unit_test(test_escape_and_accept),
	    cmocka_unit_test(test_url_check),
	    cmocka_unit_test(test_fetch),
	    cmocka_unit_test_setup_teardown(test_api_routes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
