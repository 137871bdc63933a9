#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

struct streams {
	char *out_s, *err_s;
	size_t out_n, err_n;
	FILE *out, *err;
};

static void open_streams(struct streams *s)
{
	memset(s, 0, sizeof(*s));
	s->out = open_memstream(&s->out_s, &s->out_n);
	s->err = open_memstream(&s->err_s, &s->err_n);
	log_set_streams(s->out, s->err);
}

static void close_streams(struct streams *s)
{
	fclose(s->out);
	fclose(s->err);
	log_set_streams(NULL, NULL);
}

static void free_streams(struct streams *s)
{
	free(s->out_s);
	free(s->err_s);
}

static void test_levels_and_stderr(void **state)
{
	(void)state;
	struct streams s;
	open_streams(&s);
	log_setup("zkeep", LOG_SINK_STDERR, LOG_LVL_INFO);
	log_error("cannot open '%s'", "tank/a");
	log_warn("careful");
	log_info("hello");
	log_debug("hidden");
	close_streams(&s);
	assert_string_equal(s.err_s, "zkeep: error: cannot open 'tank/a'\n"
	                             "zkeep: warn: careful\n"
	                             "zkeep: hello\n");
	assert_string_equal(s.out_s, "");
	free_streams(&s);
}

static void test_compat_style(void **state)
{
	(void)state;
	struct streams s;
	open_streams(&s);
	log_setup("zfs-pull-backups", LOG_SINK_COMPAT, LOG_LVL_DEBUG);
	log_info("Up to date: tank/a");
	log_debug("listing");
	log_error("dataset failed");
	close_streams(&s);
	/* the seed's style: info "* ", debug with the info emoji, errors apart */
	assert_string_equal(s.out_s, "* Up to date: tank/a\n\u2139\ufe0f  listing\n");
	assert_string_equal(s.err_s, "\U0001F6A8 dataset failed\n");
	free_streams(&s);
	/* the policy tools' mark */
	open_streams(&s);
	log_set_error_mark("! ");
	log_error("cannot snapshot tank/a");
	close_streams(&s);
	log_set_error_mark("\U0001F6A8 ");
	assert_string_equal(s.err_s, "! cannot snapshot tank/a\n");
	free_streams(&s);
}

static void test_json_lines(void **state)
{
	(void)state;
	struct streams s;
	open_streams(&s);
	log_setup("zkeep-api", LOG_SINK_JSON, LOG_LVL_INFO);
	log_warn("odd \"name\"\n\x01 here");
	close_streams(&s);
	json_error_t je;
	json_t *j = json_loads(s.err_s, 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
	assert_string_equal(json_string_value(json_object_get(j, "ident")), "zkeep-api");
	assert_string_equal(json_string_value(json_object_get(j, "msg")),
	                    "odd \"name\"\n\x01 here");
	const char *ts = json_string_value(json_object_get(j, "ts"));
	assert_int_equal(strlen(ts), 24); /* 2026-11-26T07:00:00.123Z */
	assert_int_equal(ts[23], 'Z');
	json_decref(j);
	assert_int_equal(s.err_s[s.err_n - 1], '\n');
	free_streams(&s);
}

/* A name with a newline cannot forge a second line in any text sink (a
 * %0a in an HTTP path reached the api's log raw). */
static void test_control_escaped(void **state)
{
	(void)state;
	struct streams s;
	open_streams(&s);
	log_setup("zkeep-api", LOG_SINK_STDERR, LOG_LVL_INFO);
	log_info("GET /api/v1/x\nzkeep-api: error: forged\r\x1b[2J");
	log_setup("zfs-pull-backups", LOG_SINK_COMPAT, LOG_LVL_INFO);
	log_warn("cannot receive 'tank/a':\ncannot open\n\n");
	log_info("Full send of pool/\xc3\xa9t\xc3\xa9\t1");
	close_streams(&s);
	assert_string_equal(s.err_s,
	                    "zkeep-api: GET /api/v1/x\\x0azkeep-api: error: forged\\x0d\\x1b[2J\n"
	                    "Warning: cannot receive 'tank/a':\\x0acannot open\n");
	/* UTF-8 stays as it is */
	assert_string_equal(s.out_s, "* Full send of pool/\xc3\xa9t\xc3\xa9\\x091\n");
	free_streams(&s);
}

static void test_parse(void **state)
{
	(void)state;
	enum log_level l;
	enum log_sink k;
	assert_int_equal(log_level_parse("DEBUG", &l), 0);
	assert_int_equal(l, LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("warning", &l), 0);
	assert_int_equal(l, LOG_LVL_WARN);
	assert_int_equal(log_level_parse("loud", &l), -1);
	assert_int_equal(log_sink_parse("syslog", &k), 0);
	assert_int_equal(k, LOG_SINK_SYSLOG);
	assert_int_equal(log_sink_parse("file", &k), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_levels_and_stderr),
	    cmocka_unit_test(test_compat_style),
	    cmocka_unit_test(test_json_lines),
	    cmocka_unit_test(test_control_escaped),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
