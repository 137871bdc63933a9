#include "unit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* The example of design.md section 2, as a sysadmin would write it. */
static const char example[] =
    "[global]\n"
    "snapshot_prefix = autosnap\n"
    "state_dir = /var/lib/zkeep\n"
    "\n"
    "[policy critical]            ; none/low/high/critical are built in, may be overridden\n"
    "hourly = 36\n"
    "daily = 30\n"
    "monthly = 3\n"
    "yearly = 5\n"
    "\n"
    "[dataset fastpool/compositions]\n"
    "policy = critical\n"
    "discover_children = yes\n"
    "\n"
    "[pull host-storage]          ; one section per client host\n"
    "host = 10.0.0.5\n"
    "user = zfsbackup\n"
    "datasets = fastpool/compositions fastpool/acme\n"
    "destination = slowpool/backups/raw\n"
    "keep = hourly=48 daily=60 monthly=12 yearly=10   ; retention on the backup server\n"
    "parallel = 4\n"
    "\n"
    "[push offsite]\n"
    "host = offsite.example.net\n"
    "destination = fastpool/backups/raw\n"
    "datasets = slowpool/backups/raw/host-storage\n"
    "strip_prefix = slowpool/backups/raw\n"
    "bwlimit = 3M\n"
    "restricted = yes             ; the remote only accepts the seed's five command lines\n"
    "\n"
    "[api]\n"
    "listen = 127.0.0.1:8000\n"
    "api_key_file = /etc/zkeep/api-key\n";

static void test_defaults(void **state)
{
	(void)state;
	struct zk_config c;
	config_init(&c);
	const struct zk_policy *p = config_policy(&c, "high");
	assert_non_null(p);
	assert_int_equal(p->keep[ZK_HOURLY], 24);
	assert_int_equal(p->keep[ZK_DAILY], 14);
	assert_int_equal(p->keep[ZK_MONTHLY], 1);
	assert_int_equal(p->keep[ZK_YEARLY], 1);
	assert_false(config_policy(&c, "none")->autosnap);
	assert_true(config_policy(&c, "none")->autoprune);
	assert_int_equal(config_policy(&c, "low")->keep[ZK_DAILY], 7);
	assert_int_equal(config_policy(&c, "critical")->keep[ZK_YEARLY], 5);
	assert_null(config_policy(&c, "medium"));
	assert_string_equal(c.snapshot_prefix, "autosnap");
	assert_string_equal(c.lock_dir, "/var/run");
	assert_int_equal(c.api.listen_port, 8000);
	config_free(&c);
}

static void test_example(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	if (config_load_string(&c, "zkeep.conf", example, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.n_datasets, 1);
	assert_string_equal(c.datasets[0].name, "fastpool/compositions");
	assert_true(c.datasets[0].discover_children);
	assert_false(c.datasets[0].children_inherit_policy);
	const struct zk_job *pull = config_job(&c, "host-storage", false);
	assert_non_null(pull);
	assert_string_equal(pull->remote.host, "10.0.0.5");
	assert_string_equal(pull->remote.user, "zfsbackup");
	assert_int_equal(pull->datasets.n, 2);
	assert_string_equal(pull->datasets.v[1], "fastpool/acme");
	assert_true(pull->has_keep);
	assert_int_equal(pull->keep[ZK_HOURLY], 48);
	assert_int_equal(pull->keep[ZK_YEARLY], 10);
	assert_int_equal(pull->parallel, 4);
	const struct zk_job *push = config_job(&c, "offsite", true);
	assert_non_null(push);
	assert_true(push->restricted);
	assert_true(push->bwlimit == 3u << 20);
	assert_int_equal(push->parallel, 0); /* not given: one at a time */
	assert_string_equal(push->strip_prefix, "slowpool/backups/raw");
	assert_false(push->has_keep);
	assert_int_equal(push->keep[ZK_DAILY], ZK_KEEP_ALL);
	assert_null(config_job(&c, "offsite", false));
	assert_true(c.api.auth);
	assert_string_equal(c.api.api_key_file, "/etc/zkeep/api-key");
	assert_string_equal(c.path, "zkeep.conf");
	config_free(&c);
}

static void test_continuation_and_new_policy(void **state)
{
	(void)state;
	const char *text = "[policy weekly-ish]\n"
	                   "daily = 10\n"
	                   "autosnap = no\n"
	                   "[dataset tank/a b]\n"
	                   "policy = weekly-ish\n"
	                   "children_inherit_policy = true\n"
	                   "[pull h1]\n"
	                   "host = h1.example\n"
	                   "port = 2222\n"
	                   "datasets = tank/a tank/b\n"
	                   "    tank/c\n"
	                   "\ttank/a\n"
	                   "destination = backup/h1\n"
	                   "ssh_options = Compression=no\n"
	                   "[api]\n"
	                   "listen = [::1]:9000\n";
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	if (config_load_string(&c, "t.conf", text, &e) < 0)
		fail_msg("%s", e.msg);
	const struct zk_policy *p = config_policy(&c, "weekly-ish");
	assert_non_null(p);
	assert_int_equal(p->keep[ZK_DAILY], 10);
	assert_int_equal(p->keep[ZK_HOURLY], 0);
	assert_false(p->autosnap);
	assert_string_equal(c.datasets[0].name, "tank/a b");
	const struct zk_job *j = config_job(&c, "h1", false);
	assert_int_equal(j->datasets.n, 3); /* the repeated tank/a is dropped */
	assert_string_equal(j->datasets.v[2], "tank/c");
	assert_int_equal(j->remote.port, 2222);
	assert_string_equal(j->remote.ssh_options.v[0], "Compression=no");
	assert_string_equal(c.api.listen_host, "::1");
	assert_int_equal(c.api.listen_port, 9000);
	config_free(&c);
}

/* Each bad config is refused whole, with the file and line of the fault. */
/* A BOM does not hide the first section (it read as "\xef\xbb\xbf[policy"),
 * and a ".." that is not a whole component is only a name. */
static void test_bom_and_dots(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	assert_int_equal(config_load_string(
	                     &c, "c", "\xEF\xBB\xBF[global]\nstate_dir = /var/lib/z..k/..x\n", &e),
	                 0);
	assert_string_equal(c.state_dir, "/var/lib/z..k/..x");
	config_free(&c);
}

static void test_refused(void **state)
{
	(void)state;
	static const struct {
		const char *text, *where, *what;
	} cases[] = {
	    {"[global]\nsnapshot_prefix = auto snap\n", "c:2:", "snapshot_prefix"},
	    {"[global]\nbogus = 1\n", "c:2:", "unknown key 'bogus' in [global]"},
	    {"[globl]\n", "c:1:", "unknown section [globl]"},
	    {"[compat]\npull_user = -oProxyCommand=x\n", "c:2:", "pull_user"},
	    {"[compat]\npull_destination = slowpool/x;y\n", "c:2:", "pull_destination"},
	    {"[compat]\npush_strip_prefix = /slowpool\n", "c:2:", "push_strip_prefix"},
	    {"[compat]\npull_name = x\n", "c:2:", "unknown key 'pull_name' in [compat]"},
	    {"[compat x]\n", "c:1:", "takes no name"},
	    {"[policy p]\nhourly = -1\n", "c:2:", "out of range"},
	    {"[policy p]\nhourly = ten\n", "c:2:", "not a whole number"},
	    {"[policy p]\nweekly = 3\n", "c:2:", "unknown key 'weekly'"},
	    {"[policy p]\nhourly = 1\nhourly = 2\n", "c:3:", "duplicate key 'hourly'"},
	    {"[dataset tank/a]\ndiscover_children = yes\ndiscover_children = no\n",
	     "c:3:", "duplicate key"},
	    {"[dataset tank/a]\npolicy = low\n[dataset tank/a]\npolicy = high\n",
	     "c:3:", "duplicate section"},
	    {"[dataset tank/it's]\npolicy = low\n", "c:1:", "invalid name"},
	    {"[dataset tank/a]\npolicy = low\ndiscover_children = maybe\n",
	     "c:3:", "not a boolean"},
	    {"[pull h]\nhost = -oProxyCommand=x\n", "c:2:", "host: invalid ssh host"},
	    {"[pull h]\nhost = h\ndatasets = tank/a\n", "c:1:", "needs destination"},
	    {"[pull h]\nhost = h\ndestination = b\n", "c:1:", "needs datasets"},
	    {"[pull h]\nhost = h\ndatasets = tank/a;id\ndestination = b\n", "c:3:", "invalid name"},
	    {"[pull h]\nhost = h\ndatasets = t/a\ndestination = b\nkeep = hourly=1 hourly=2\n",
	     "c:5:", "twice"},
	    {"[pull h]\nhost = h\ndatasets = t/a\ndestination = b\nkeep = fortnightly=3\n",
	     "c:5:", "unknown interval"},
	    {"[pull h]\nhost = h\ndatasets = t/a\ndestination = b\nrestricted = yes\n",
	     "c:5:", "unknown key 'restricted' in [pull h]"},
	    {"[push o]\nhost = o\ndatasets = t/a\ndestination = b\nbwlimit = 3X\n",
	     "c:5:", "invalid rate"},
	    {"[push o]\nhost = o\ndatasets = t/a\ndestination = b\nbwlimit = 0\n",
	     "c:5:", "invalid rate"},
	    {"[push o]\nhost = o\ndatasets = t/a\ndestination = b\nparallel = 0\n",
	     "c:5:", "parallel: "},
	    {"[pull h]\nhost = h\ndatasets = t/a\ndestination = b\nparallel = 9\n",
	     "c:5:", "parallel: "},
	    {"[api]\nlisten = 8000\n", "c:2:", "HOST:PORT"},
	    {"[api]\nlisten = ::1\n", "c:2:", "brackets"},
	    {"[pull a]\n [pull b]\nhost = h\n", "c:1:", "[pull a] needs host"},
	    {"[policy p]\nhourly = 1\n[policy  p]\n", "c:3:", "duplicate section"},
	    {"[pull a]\nhost = h\ndatasets = t/a\ndestination = b\n[pull\ta]\n",
	     "c:5:", "duplicate section"},
	    {"[api]\nlisten = 127.0.0.1:99999\n", "c:2:", "out of range"},
	    {"[api]\nlog_dir = relative/dir\n", "c:2:", "absolute path"},
	    {"[api]\nlog_dir = /var/log/..\n", "c:2:", "without '..'"},
	    {"[api]\ntls_key = /etc/zkeep/tls.key\n", "c:0:", "needs both tls_cert and tls_key"},
	    {"[api]\ntls_cert = tls.pem\n", "c:2:", "absolute path"},
	    {"[global]\nstate_dir = /var/lib/../../etc\n", "c:2:", "without '..'"},
	    {"[pull h]\nidentity_file = /root/../x\n", "c:2:", "without '..'"},
	    {"key = value\n", "c:1:", "outside any section"},
	    {"[global]\nthis is not a key\n", "c:2:", "syntax error"},
	    {"[global]\nsnapshot_prefix = a\n   continued = x\n", "c:3:", "indented line"},
	    {"[global\n", "c:1:", "without ']'"},
	    {"[policy]\n", "c:1:", "needs a name"},
	    {"[global]\nstate_dir =\n", "c:2:", "has no value"},
	    /* inih ends a value at " ;": a command must not lose its tail */
	    {"[pull h]\nhost = h\ndatasets = t/a\ndestination = b\n"
	     "on_success = /bin/a ; /bin/b\n",
	     "c:5:",
	     "on_success: a ';' after a blank starts a comment here, so the command "
	     "would end at '/bin/a'"},
	    {"[policy p]\npre_snapshot = sh:flush \t; sync\n", "c:2:", "would end at 'sh:flush'"},
	    {"[dataset t/a]\npost_snapshot = x 'y ; z'\n", "c:2:", "post_snapshot: a ';'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct zk_config c;
		struct zerr e = ZERR_INIT;
		config_init(&c);
		int r = config_load_string(&c, "c", cases[i].text, &e);
		if (r != -EINVAL || strncmp(e.msg, cases[i].where, strlen(cases[i].where)) ||
		    !strstr(e.msg, cases[i].what))
			fail_msg("case %zu: got %d '%s', want %s ... %s", i, r, e.msg,
			         cases[i].where, cases[i].what);
		config_free(&c);
	}
}

/* A ';' that inih leaves in the value (no blank before it) is part of the
 * command: only a cut one is refused (test_refused). */
static void test_hook_commands(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	assert_int_equal(config_load_string(&c, "c",
	                                    "[policy p]\npre_snapshot = sh:flush; sync\n"
	                                    "post_snapshot = /bin/echo 'done;'\n",
	                                    &e),
	                 0);
	const struct zk_policy *p = config_policy(&c, "p");
	assert_string_equal(p->hooks.pre, "sh:flush; sync");
	assert_string_equal(p->hooks.post, "/bin/echo 'done;'");
	config_free(&c);
}

/* A dataset's unknown, empty or missing policy is kept, not refused (the
 * seed took it for none; issue 20): the config loads, the dataset is
 * marked unknown and one warning names it, its line and the value. */
static void test_unknown_policy_warns(void **state)
{
	(void)state;
	const char *text = "[dataset tank/a]\n"
	                   "policy = nope\n"
	                   "children_inherit_policy = yes\n"
	                   "[dataset tank/a/b]\n"
	                   "[dataset tank/c]\n"
	                   "policy =\n"
	                   "[dataset tank/d]\n"
	                   "discover_children = yes\n"
	                   "[dataset tank/e]\n"
	                   "policy = none\n";
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	struct strvec w = STRVEC_INIT;
	config_init(&c);
	if (config_load_string(&c, "c", text, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.n_datasets, 5);
	for (size_t i = 0; i < 4; i++)
		assert_true(c.datasets[i].unknown);
	assert_false(c.datasets[4].unknown);
	assert_string_equal(c.datasets[1].policy, "nope");
	assert_false(c.datasets[1].has_policy);
	assert_true(c.datasets[2].has_policy);
	assert_null(c.datasets[3].policy);
	config_dataset_warnings(&c, &w);
	assert_int_equal(w.n, 4);
	assert_string_equal(w.v[0], "c:2: [dataset tank/a]: unknown policy 'nope': shown as none, "
	                            "never snapshotted or pruned");
	assert_non_null(strstr(w.v[1], "[dataset tank/a/b]: unknown policy 'nope' (inherited)"));
	assert_non_null(strstr(w.v[2], "c:6: [dataset tank/c]: empty policy ''"));
	assert_non_null(strstr(w.v[3], "c:7: [dataset tank/d] has no policy and inherits none"));
	strvec_clear(&w);
	config_free(&c);
}

static void test_long_line_refused(void **state)
{
	(void)state;
	struct buf t = BUF_INIT;
	buf_adds(&t, "[pull h]\nhost = h\ndestination = b\ndatasets =");
	for (int i = 0; i < 40; i++)
		buf_addf(&t, " tank/dataset%02d", i);
	buf_adds(&t, "\n");
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	assert_int_equal(config_load_string(&c, "c", t.s, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "c:4: line longer than"));
	config_free(&c);
	buf_free(&t);
}

static void test_file(void **state)
{
	(void)state;
	char path[] = "/tmp/zk-conf-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)), (ssize_t)strlen(example));
	close(fd);
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &e), 0);
	assert_string_equal(c.path, path);
	config_free(&c);
	unlink(path);
	config_init(&c);
	assert_int_equal(config_load_file(&c, path, &e), -ENOENT);
	assert_non_null(strstr(e.msg, path));
	config_free(&c);
}

/* The example shipped for admins must load as it is. */
static void test_shipped_example(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	if (config_load_file(&c, "deploy/zkeep.conf.example", &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(c.n_jobs, 2);
	config_free(&c);
}

/* [compat]: the seed scripts' baked-in defaults, as the role writes them. */
static void test_compat(void **state)
{
	(void)state;
	struct zk_config c;
	struct zerr e = ZERR_INIT;
	config_init(&c);
	assert_null(c.compat.pull_user);
	if (config_load_string(&c, "c",
	                       "[compat]\npull_user = zfsbackups\npull_destination = "
	                       "slowpool/encryptedbackups\npush_user = zfsbackups\n"
	                       "push_strip_prefix = slowpool/encryptedbackups\n",
	                       &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(c.compat.pull_user, "zfsbackups");
	assert_string_equal(c.compat.pull_destination, "slowpool/encryptedbackups");
	assert_string_equal(c.compat.push_user, "zfsbackups");
	assert_string_equal(c.compat.push_strip_prefix, "slowpool/encryptedbackups");
	config_free(&c);
}

/* text written to path, then loaded as a report cache into a fresh c */
static int load_cache(const char *path, const char *text, struct zk_config *c, struct zerr *e)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	config_init(c);
	return config_add_report_cache(c, path, e);
}

/* The old report's cache as [dataset] declarations, both forms; a bad
 * one adds nothing. */
static void test_report_cache(void **state)
{
	(void)state;
	char dir[] = "/tmp/zk-cache-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.json", dir);
	static const char *const good[] = {
	    "[{\"dataset\": \"tank/a\", \"policy\": \"critical\", \"counts\": {}},"
	    " {\"dataset\": \"tank/a/b\", \"policy\": \"nosuch\"},"
	    " {\"dataset\": \"tank/c\", \"policy\": null}]",
	    "{\"managed\": [{\"dataset\": \"tank/a\", \"policy\": \"critical\"},"
	    " {\"dataset\": \"tank/a/b\", \"policy\": \"nosuch\"},"
	    " {\"dataset\": \"tank/c\", \"policy\": null}],"
	    " \"unmanaged\": [{\"dataset\": \"tank/u\"}]}",
	};
	for (size_t i = 0; i < 2; i++) {
		struct zk_config c;
		struct zerr e = ZERR_INIT;
		if (load_cache(path, good[i], &c, &e) < 0)
			fail_msg("form %zu: %s", i, e.msg);
		assert_int_equal(c.n_datasets, 3);
		assert_string_equal(c.datasets[0].name, "tank/a");
		assert_string_equal(c.datasets[0].policy, "critical");
		assert_false(c.datasets[0].unknown);
		assert_true(c.datasets[1].unknown); /* shown as none, never touched */
		assert_true(c.datasets[2].unknown);
		config_free(&c);
	}
	static const char *const bad[] = {
	    "{\"datasets\": []}",
	    "[{\"dataset\": \"tank/a\", \"policy\": \"low\"}, {\"policy\": \"low\"}]",
	    "[{\"dataset\": \"tank/a;rm\", \"policy\": \"low\"}]",
	    "[{\"dataset\": \"tank/a\", \"policy\": 3}]",
	    "[{\"dataset\": \"tank/a\"}, {\"dataset\": \"tank/a\"}]",
	    "not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct zk_config c;
		struct zerr e = ZERR_INIT;
		if (load_cache(path, bad[i], &c, &e) >= 0)
			fail_msg("bad %zu accepted", i);
		assert_int_equal(c.n_datasets, 0);
		assert_non_null(strstr(e.msg, path));
		config_free(&c);
	}
	unlink(path);
	rmdir(dir);
}

static void test_value_parsers(void **state)
{
	(void)state;
	uint64_t r;
	assert_int_equal(config_parse_rate("512", &r, NULL), 0);
	assert_true(r == 512);
	assert_int_equal(config_parse_rate("3M", &r, NULL), 0);
	assert_true(r == 3u << 20);
	assert_int_equal(config_parse_rate("1g", &r, NULL), 0);
	assert_true(r == 1u << 30);
	assert_int_equal(config_parse_rate("20000000", &r, NULL), 0);
	assert_true(r == 20000000);
	assert_int_equal(config_parse_rate("10KB", &r, NULL), 0);
	assert_true(r == 10240);
	/* every form pv -L takes, as the seed passed --bwlimit to pv verbatim */
	static const struct {
		const char *s;
		uint64_t v;
	} pv[] = {{"10m", 10u << 20},   {"1.5M", 3u << 19}, {"500k", 500u << 10},
	          {"1,5M", 3u << 19},   {"3 M", 3u << 20},  {" 7", 7},
	          {"2T", 2ull << 40},   {"0.5k", 512},      {"1.00001K", 1024},
	          {"1.25G", 5ull << 28}};
	for (size_t i = 0; i < sizeof(pv) / sizeof(pv[0]); i++) {
		assert_int_equal(config_parse_rate(pv[i].s, &r, NULL), 0);
		if (r != pv[i].v)
			fail_msg("rate '%s': %llu, expected %llu", pv[i].s, (unsigned long long)r,
			         (unsigned long long)pv[i].v);
	}
	static const char *const bad[] = {"",     "M",    "3MM", "-1", "99999999999999999999G",
	                                  "1.M",  ".5M",  "0",   "0k", "1.5MiB",
	                                  "1.5X", "3 M x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_parse_rate(bad[i], &r, NULL), -EINVAL);
	int keep[ZK_N_INTERVALS];
	assert_int_equal(config_parse_keep("daily=7 yearly=0", keep, NULL), 0);
	assert_int_equal(keep[ZK_DAILY], 7);
	assert_int_equal(keep[ZK_YEARLY], 0);
	assert_int_equal(keep[ZK_HOURLY], ZK_KEEP_ALL);
	assert_int_equal(config_parse_keep("", keep, NULL), -EINVAL);
	assert_int_equal(config_parse_keep("daily", keep, NULL), -EINVAL);
	assert_int_equal(config_parse_keep("daily=-1", keep, NULL), -EINVAL);
}

/* --listen and [api] listen: one parser */
static void test_parse_listen(void **state)
{
	(void)state;
	struct zerr e = ZERR_INIT;
	char *h = NULL;
	int port = 0;
	assert_int_equal(config_parse_listen("0.0.0.0:8000", &h, &port, &e), 0);
	assert_string_equal(h, "0.0.0.0");
	assert_int_equal(port, 8000);
	free(h);
	assert_int_equal(config_parse_listen("[::1]:9000", &h, &port, &e), 0);
	assert_string_equal(h, "::1");
	free(h);
	const char *bad[] = {"8000", ":8000", "::1", "host:0", "host:65536", "ho st:80", "a;b:80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(config_parse_listen(bad[i], &h, &port, &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_listen),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_continuation_and_new_policy),
	    cmocka_unit_test(test_bom_and_dots),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_hook_commands),
	    cmocka_unit_test(test_unknown_policy_warns),
	    cmocka_unit_test(test_long_line_refused),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test(test_shipped_example),
	    cmocka_unit_test(test_value_parsers),
	    cmocka_unit_test(test_compat),
	    cmocka_unit_test(test_report_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
