/*
 * libFuzzer target: request routing and query parsing on arbitrary input
 * (the input is split at the first NUL into a path and a lines= value).
 * Beyond "no crash", the harness asserts the router's promises: a routed
 * argument is a substring of the path, a log file argument is one path
 * component, pool arguments hold no '/', and lines is always 1..1000; a
 * log name accepted by http_log_name_ok never escapes its directory.
 * Accept-Encoding parsing admits gzip only when the value names gzip or *.
 * The /ui/ page's parsers get the same input: the Accept rule, the
 * history_url check, the query_range parser (whatever it accepts has
 * ascending times and finite values), and the HTML escaper (its output
 * holds no markup character).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "http.h"
#include "ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 2);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	in[size + 1] = '\0';
	const char *path = in;
	const char *lines = in + strlen(in) + 1 <= in + size ? in + strlen(in) + 1 : NULL;

	struct http_route r;
	int rc = http_route_parse(path, &r);
	if (rc == 0) {
		if (r.id == ROUTE_NONE)
			abort();
		if (r.arg) {
			if (!strstr(path, r.arg))
				abort();
			if ((r.id == ROUTE_POOL || r.id == ROUTE_POOL_STATUS ||
			     r.id == ROUTE_POOL_IOSTAT || r.id == ROUTE_BACKUP_LOG) &&
			    strchr(r.arg, '/'))
				abort();
			if (r.id != ROUTE_UI && !*r.arg)
				abort();
		}
		(void)http_route_needs_view(r.id);
		(void)http_route_needs_auth(r.id);
		if (r.id == ROUTE_BACKUP_LOG && http_log_name_ok(r.arg) &&
		    (!strcmp(r.arg, "..") || strchr(r.arg, '/') || r.arg[0] == '.'))
			abort();
	} else if (r.arg || r.id != ROUTE_NONE) {
		abort();
	}
	http_route_free(&r);

	int n = 0;
	if (http_parse_lines(lines, &n) == 0 && (n < 1 || n > HTTP_LINES_MAX))
		abort();
	(void)http_key_equal(path, lines ? lines : "");
	(void)http_origin_allowed(path, lines);
	if (http_accepts_gzip(path) && !strcasestr(path, "gzip") && !strchr(path, '*'))
		abort();

	(void)ui_accept_prefers_html(path);
	(void)history_url_check(path, NULL);
	struct buf esc = BUF_INIT;
	ui_escape(&esc, path);
	if (strpbrk(esc.s, "<>\"'"))
		abort();
	buf_free(&esc);
	struct history_series_set set = {NULL, 0};
	if (history_parse((const char *)data, size, "pool", &set, NULL) == 0) {
		for (size_t i = 0; i < set.n; i++)
			for (size_t k = 0; k < set.s[i].n; k++)
				if (!isfinite(set.s[i].v[k]) ||
				    (k && set.s[i].t[k] < set.s[i].t[k - 1]))
					abort();
	}
	history_series_set_free(&set);
	free(in);
	return 0;
}
