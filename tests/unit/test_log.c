#include "unit.h"

#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

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

/* --log's choice outlasts the command's own log_setup: under a seed
 * tool's name --log=json gives JSON lines, not the seed's style. */
static void test_choose(void **state)
{
	(void)state;
	struct streams s;
	assert_int_equal(log_choose("compat"), -1); /* a seed name's default only */
	assert_int_equal(log_choose("file"), -1);
	open_streams(&s);
	assert_int_equal(log_choose("JSON"), 0);
	log_setup("zfs-pull-backups", LOG_SINK_COMPAT, LOG_LVL_INFO);
	log_info("Up to date: tank/a");
	assert_int_equal(log_choose("stderr"), 0);
	log_setup("zfs-pull-backups", LOG_SINK_COMPAT, LOG_LVL_INFO);
	log_info("then stderr");
	log_choose(NULL);
	log_setup("zfs-pull-backups", LOG_SINK_COMPAT, LOG_LVL_INFO);
	log_info("the default again");
	close_streams(&s);
	json_error_t je;
	json_t *j = json_loadb(s.err_s, (size_t)(strchr(s.err_s, '\n') - s.err_s), 0, &je);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "ident")), "zfs-pull-backups");
	assert_string_equal(json_string_value(json_object_get(j, "msg")), "Up to date: tank/a");
	json_decref(j);
	assert_string_equal(strchr(s.err_s, '\n') + 1, "zfs-pull-backups: then stderr\n");
	assert_string_equal(s.out_s, "* the default again\n");
	free_streams(&s);
}

/* In a child with a private mount namespace and a tmpfs on /dev holding
 * the test's own /dev/log (as tests/host/t_gate_seed_syslog.sh does, so
 * the host's syslog sees nothing): the gate's set-up (authpriv, its
 * ident and pid), a message escaped as in every sink, the level filter,
 * and a line sent as another program (the seed's refusal) after which the
 * sink's own identity is back. 0, 1 for a mismatch (said on stderr), 77
 * when the namespace cannot be had (not root). */
static int syslog_child(void)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("zkeep-test-dev", "/dev", "tmpfs", 0, "mode=755") < 0)
		return 77;
	struct sockaddr_un a = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		return 77;
	log_set_facility(LOG_AUTHPRIV);
	log_setup("zkeep-gate", LOG_SINK_SYSLOG, LOG_LVL_INFO);
	log_warn("refused from 192.0.2.7: \"zfs destroy\nx\"");
	log_debug("not at info");
	log_syslog_as("alice", LOG_LOCAL0, LOG_CRIT, "BLOCKED non-whitelisted command");
	log_info("allowed");
	/* <facility * 8 + level>, a time stamp, the tag (and pid), the text */
	char want[3][128];
	snprintf(want[0], sizeof(want[0]),
	         "<84>* zkeep-gate[%d]: refused from 192.0.2.7: "
	         "\"zfs destroy\\x0ax\"",
	         (int)getpid());
	snprintf(want[1], sizeof(want[1]), "<130>* alice: BLOCKED non-whitelisted command");
	snprintf(want[2], sizeof(want[2]), "<86>* zkeep-gate[%d]: allowed", (int)getpid());
	for (int i = 0; i < 4; i++) {
		char got[512];
		ssize_t n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);
		if (i == 3 && n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 || i == 3) {
			fprintf(stderr, "datagram %d: %s\n", i,
			        n < 0 ? strerror(errno) : "one too many");
			return 1;
		}
		got[n] = '\0';
		/* the time stamp: "Mmm dd hh:mm:ss " after the priority */
		const char *gt = strchr(got, '>'), *wt = strchr(want[i], '>');
		if (!gt || strlen(gt) < 17 || (size_t)(gt - got) != (size_t)(wt - want[i]) ||
		    strncmp(got, want[i], (size_t)(gt - got)) || strcmp(gt + 17, wt + 3)) {
			fprintf(stderr, "datagram %d: '%s', want '%s'\n", i, got, want[i]);
			return 1;
		}
	}
	return 1;
}

static void test_syslog(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0)
		_exit(syslog_child());
	int st;
	assert_int_equal(waitpid(p, &st, 0), p);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
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
	    cmocka_unit_test(test_choose),
	    cmocka_unit_test(test_syslog),
	    cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
