#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

static char dir[] = "/tmp/zk-state-XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	/* a reader that blocks on a FIFO fails the test instead of hanging it */
	alarm(20);
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *name, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	struct zerr e = ZERR_INIT;
	assert_int_equal(state_write_atomic(p, text, strlen(text), 0644, &e), 0);
}

static int dfd(void)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void test_load_json(void **state)
{
	(void)state;
	int d = dfd();
	json_t *j;
	struct zerr e = ZERR_INIT;
	put("ok.json", "{\"job\": \"h\"}");
	assert_int_equal(state_load_json(d, "ok.json", 1024, &j, &e), 0);
	assert_string_equal(json_string_value(json_object_get(j, "job")), "h");
	json_decref(j);

	assert_int_equal(state_load_json(d, "missing.json", 1024, &j, &e), -ENOENT);
	assert_null(j);
	assert_non_null(strstr(e.msg, "'missing.json'"));

	put("dup.json", "{\"job\": \"h\", \"job\": \"x\"}");
	assert_int_equal(state_load_json(d, "dup.json", 1024, &j, &e), -EBADMSG);
	assert_null(j);
	put("bad.json", "{\"job\": ");
	assert_int_equal(state_load_json(d, "bad.json", 1024, &j, &e), -EBADMSG);

	put("big.json", "{\"job\": \"0123456789\"}");
	assert_int_equal(state_load_json(d, "big.json", 10, &j, &e), -EFBIG);
	assert_null(j);
	close(d);
}

/* A FIFO, a directory or a symlink where a record belongs: refused at
 * once, never waited on (issue 19 item 4: a FIFO hung the collector). */
static void test_not_regular(void **state)
{
	(void)state;
	int d = dfd();
	json_t *j;
	struct zerr e = ZERR_INIT;
	char p[256];
	snprintf(p, sizeof(p), "%s/fifo.json", dir);
	assert_int_equal(mkfifo(p, 0644), 0);
	assert_int_equal(state_load_json(d, "fifo.json", 1024, &j, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not a regular file"));
	/* the same through a full path, as pull reads its last record */
	assert_int_equal(state_load_json(AT_FDCWD, p, 1024, &j, &e), -EINVAL);

	assert_int_equal(mkdirat(d, "dir.json", 0755), 0);
	assert_int_equal(state_load_json(d, "dir.json", 1024, &j, &e), -EINVAL);

	put("target.json", "{}");
	assert_int_equal(symlinkat("target.json", d, "link.json"), 0);
	assert_int_equal(state_load_json(d, "link.json", 1024, &j, &e), -ELOOP);
	assert_null(j);

	off_t size = -1;
	int fd = state_open_read(d, "target.json", 1024, &size, &e);
	assert_true(fd >= 0);
	assert_int_equal(size, 2);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_json),
	    cmocka_unit_test(test_not_regular),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
