#include "unit.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "host.h"

static const char *const hostile[] = {
    "tank/plain",
    "tank/with space",
    "tank/it's",
    "tank/\"dq\"",
    "tank/$(touch /tmp/zk-pwned)",
    "tank/`touch /tmp/zk-pwned`",
    "tank/a;touch /tmp/zk-pwned",
    "tank/new\nline",
    "tank/back\\slash",
    "tank/glob*?[a]",
    "tank/$HOME ${HOME}",
    "tank/a|b&c>d<e",
    "-rf",
    "''",
    "'",
    "tank/~root",
    "tank/!event",
    "",
};

/* What a POSIX shell makes of the quoted line must be the words we gave. */
static void roundtrip(const char *shell, const char *word)
{
	struct buf line = BUF_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(
	    host_quote(&line, (const char *const[]){"printf", "%s", word, NULL}, false, &e), 0);
	struct proc p;
	proc_init(&p);
	strvec_pushv(&p.argv, (const char *const[]){shell, "-c", line.s, NULL});
	struct proc_capture c = PROC_CAPTURE_INIT(65536, 4096);
	assert_int_equal(proc_capture(&p, NULL, 0, 5000, &c, &e), 0);
	assert_int_equal(c.st.code, 0);
	assert_string_equal(c.out.s, word);
	proc_capture_free(&c);
	proc_free(&p);
	buf_free(&line);
}

static void test_quote_roundtrip_in_shells(void **state)
{
	(void)state;
	unlink("/tmp/zk-pwned");
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		roundtrip("sh", hostile[i]);
		roundtrip("bash", hostile[i]);
	}
	assert_int_equal(access("/tmp/zk-pwned", F_OK), -1);
}

static void test_quote_forms(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	assert_int_equal(
	    host_quote(&b,
	               (const char *const[]){"zfs", "send", "-I",
	                                     "tank/a@autosnap_2026-01-21_14:00:00_hourly",
	                                     "tank/my data@x", "it's", "", NULL},
	               false, NULL),
	    0);
	assert_string_equal(b.s, "zfs send -I tank/a@autosnap_2026-01-21_14:00:00_hourly "
	                         "'tank/my data@x' 'it'\\''s' ''");
	buf_free(&b);
}

static void test_exact_mode(void **state)
{
	(void)state;
	struct buf b = BUF_INIT;
	struct zerr e = ZERR_INIT;
	assert_int_equal(host_quote(&b,
	                            (const char *const[]){"zfs", "list", "-t", "snapshot", "-H",
	                                                  "-o", "name", "-s", "creation", "-r",
	                                                  "fastpool/backups/raw/x", NULL},
	                            true, &e),
	                 0);
	assert_string_equal(
	    b.s, "zfs list -t snapshot -H -o name -s creation -r fastpool/backups/raw/x");
	buf_reset(&b);
	assert_int_equal(
	    host_quote(&b, (const char *const[]){"zfs", "list", "a b", NULL}, true, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "'a b'"));
	assert_int_equal(host_quote(&b, (const char *const[]){"zfs", "list", "", NULL}, true, &e),
	                 -EINVAL);
	buf_free(&b);
}

static void test_ssh_command(void **state)
{
	(void)state;
	struct host h;
	struct zerr e = ZERR_INIT;
	assert_int_equal(host_init_ssh(&h, "zfsbackup", "10.0.0.5", 2222, &e), 0);
	h.identity = strdup("/root/.ssh/id_backup");
	h.control_dir = strdup("/run/zkeep");
	strvec_push(&h.ssh_opts, "Compression=no");
	assert_string_equal(h.label, "zfsbackup@10.0.0.5:2222");
	struct proc p;
	proc_init(&p);
	assert_int_equal(
	    host_command(&h, (const char *const[]){"zfs", "list", "tank/a b", NULL}, &p, &e), 0);
	struct buf all = BUF_INIT;
	for (size_t i = 0; i < p.argv.n; i++)
		buf_addf(&all, "%s|", p.argv.v[i]);
	assert_string_equal(
	    all.s, "ssh|-o|BatchMode=yes|-o|ServerAliveInterval=15|-o|"
	           "ServerAliveCountMax=4|-o|ConnectTimeout=30|-p|2222|-o|IdentitiesOnly=yes|-i|"
	           "/root/.ssh/id_backup|-o|ControlMaster=auto|-o|ControlPersist=60|"
	           "-o|ControlPath=/run/zkeep/cm-%C|-o|Compression=no|-l|zfsbackup|--|"
	           "10.0.0.5|zfs list 'tank/a b'|");
	buf_free(&all);
	proc_free(&p);
	host_free(&h);
}

static void test_ssh_names_refused(void **state)
{
	(void)state;
	struct host h;
	struct zerr e = ZERR_INIT;
	static const char *const bad_hosts[] = {"-oProxyCommand=x", "a b", "h;id", "h$(x)", "",
	                                        "user@host",        "h\n"};
	for (size_t i = 0; i < sizeof(bad_hosts) / sizeof(bad_hosts[0]); i++) {
		assert_int_equal(host_init_ssh(&h, NULL, bad_hosts[i], 0, &e), -EINVAL);
		host_free(&h);
	}
	assert_int_equal(host_init_ssh(&h, "-l", "host", 0, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "user"));
	host_free(&h);
	assert_int_equal(host_init_ssh(&h, "u", "host", 70000, &e), -EINVAL);
	host_free(&h);
	assert_int_equal(host_init_ssh(&h, "u", "fe80::1%eth0", 0, &e), 0);
	host_free(&h);
}

static void test_local_run(void **state)
{
	(void)state;
	struct host h;
	struct buf out = BUF_INIT;
	struct zerr e = ZERR_INIT;
	host_init_local(&h);
	assert_true(host_is_local(&h));
	assert_int_equal(
	    host_run(&h, (const char *const[]){"printf", "%s", "a b", NULL}, &out, 100, 5000, &e),
	    0);
	assert_string_equal(out.s, "a b");
	assert_int_equal(
	    host_run(&h,
	             (const char *const[]){"sh", "-c",
	                                   "echo 'cannot open x: no such dataset' >&2; "
	                                   "echo second >&2; exit 1",
	                                   NULL},
	             &out, 100, 5000, &e),
	    -EIO);
	assert_non_null(strstr(e.msg, "on local exited 1: cannot open x: no such dataset"));
	/* only the first line of stderr: the message ends there */
	const char *tail = "no such dataset";
	assert_string_equal(e.msg + strlen(e.msg) - strlen(tail), tail);
	buf_free(&out);
	host_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_quote_roundtrip_in_shells),
	    cmocka_unit_test(test_quote_forms),
	    cmocka_unit_test(test_exact_mode),
	    cmocka_unit_test(test_ssh_command),
	    cmocka_unit_test(test_ssh_names_refused),
	    cmocka_unit_test(test_local_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
