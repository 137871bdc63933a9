/*
 * zkeep gate: an OpenSSH forced command for backup keys. Reads
 * SSH_ORIGINAL_COMMAND, lets through only the operations the key was given
 * on datasets under its prefixes (lib/gate), and execs zfs directly with
 * an argv and a fixed environment, never through a shell. Every decision
 * is logged with the client's address, to syslog (authpriv facility)
 * unless --log says otherwise; under --compat seed a refusal also gives
 * the seed's local0.crit line (always to syslog) and stderr message.
 * See zkeep-gate(1).
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "cmd.h"
#include "gate.h"
#include "host.h"
#include "token.h"
#include "banned.h"

static const char *client(void)
{
	static char addr[64];
	const char *c = getenv("SSH_CLIENT");
	if (!c)
		return "unknown";
	size_t n = strcspn(c, " ");
	if (n >= sizeof(addr))
		n = sizeof(addr) - 1;
	memcpy(addr, c, n);
	addr[n] = '\0';
	return addr;
}

static const char *find_zfs(void)
{
	static const char *const paths[] = {"/usr/sbin/zfs", "/sbin/zfs", "/usr/local/sbin/zfs",
	                                    NULL};
	for (const char *const *p = paths; *p; p++)
		if (access(*p, X_OK) == 0)
			return *p;
	return "/sbin/zfs";
}

/* The seed's refusal line (gate_seed_blocked) at local0.crit, tagged as
 * the seed's `logger -p local0.crit` tagged it: with the name of the
 * user the key logs in as (util-linux logger: the real uid's name; older
 * ones took getlogin(), the same user under sshd), no pid. */
static void log_seed_refusal(const char *line)
{
	char tag[64];
	const struct passwd *pw = getpwuid(getuid());
	snprintf(tag, sizeof(tag), "%s", pw && pw->pw_name[0] ? pw->pw_name : "zkeep-gate");
	struct buf text = BUF_INIT;
	gate_seed_blocked(&text, getenv("SSH_CLIENT"), line);
	log_syslog_as(tag, LOG_LOCAL0, LOG_CRIT, text.s);
	buf_free(&text);
}

/* A send -t: the token's snapshot (and base) must be in toname's own
 * dataset, inside the prefix, with the token's guids (gate_token_verify). */
static int verify_token(const struct gate *g, const struct strvec *argv, struct zerr *e)
{
	struct token t;
	struct strvec list = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct host local;
	int r = gate_token_listing(g, argv, &t, &list, e);
	if (r <= 0) {
		strvec_clear(&list);
		return r;
	}
	host_init_local(&local);
	r = host_run(&local, (const char *const *)list.v, &out, 64 << 20, 60000, e);
	if (r < 0)
		zerr_prefix(e, "cannot check the resume token");
	else
		r = gate_token_verify(&t, out.s, e);
	host_free(&local);
	buf_free(&out);
	strvec_clear(&list);
	return r;
}

enum { GATE_ALLOW = OPT_LONG + 1, GATE_PREFIX, GATE_COMPAT, GATE_ANY_DATASET, GATE_ZFS };
const struct opt gate_opts[] = {
    {GATE_ALLOW, "allow", OPT_VALUE, "OPS", "the operations allowed: send, receive, list, ...",
     false},
    {GATE_PREFIX, "prefix", OPT_VALUE, "DS", "datasets at or under DS only (repeatable)", false},
    {GATE_COMPAT, "compat", OPT_VALUE, "seed", "exactly the old offsite host's five command lines",
     false},
    {GATE_ANY_DATASET, "any-dataset", OPT_NONE, NULL,
     "with --compat seed and no --prefix: on any dataset, as the old host did", false},
    {GATE_ZFS, "zfs", OPT_VALUE, "PATH", "the zfs to run (default: /usr/sbin/zfs or /sbin/zfs)",
     false},
    OPT_DRY_RUN,
    OPT_LOG,
    OPT_HELP,
    OPT_END_OF_TABLE,
};

/* What the flags say. */
struct gate_args {
	const struct cmd *self;
	struct gate g;
	int dry;
};

/* One option into the gate_args at ctx (cmd_parse's take). */
static int take(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct gate_args *a = ctx;
	struct zerr e = ZERR_INIT;
	(void)argc;
	(void)argv;
	switch (c) {
	case GATE_ALLOW:
		if (gate_parse_allow(v, &a->g.allow, &e) < 0)
			return cmd_usage_error(a->self, "--allow: %s", e.msg);
		break;
	case GATE_PREFIX:
		if (gate_add_prefix(&a->g, v, &e) < 0)
			return cmd_usage_error(a->self, "--prefix: %s", e.msg);
		break;
	case GATE_COMPAT:
		if (strcmp(v, "seed"))
			return cmd_usage_error(a->self, "--compat takes only 'seed'");
		a->g.seed = true;
		break;
	case GATE_ANY_DATASET:
		a->g.any_dataset = true;
		break;
	case 'n':
		a->dry = 1;
		break;
	case GATE_ZFS:
		if (v[0] != '/')
			return cmd_usage_error(a->self, "--zfs needs an absolute path");
		a->g.zfs = v;
		break;
	default:
		return CMD_NOT_MINE;
	}
	return CMD_GO_ON;
}

/* What the options say together. A seed-mode key is open to every
 * dataset only where --any-dataset says so: the role always gives a
 * prefix, and a key written by hand without one fails at its first use,
 * in the admin's sight, rather than being found open later. */
static int check_args(const struct cmd *self, const struct gate *g)
{
	if (g->any_dataset && (!g->seed || g->prefixes.n))
		return cmd_usage_error(self,
		                       "--any-dataset goes with --compat seed, without --prefix");
	if (g->seed && !g->prefixes.n && !g->any_dataset)
		return cmd_usage_error(self,
		                       "--compat seed needs --prefix DS (or --any-dataset: any "
		                       "dataset, as the old offsite host's script)");
	if (!g->seed && (!g->prefixes.n || !g->allow))
		return cmd_usage_error(self, "needs --prefix and --allow (or --compat seed)");
	return EXIT_OK;
}

/* A refused line (shown: escaped) and why, in the log and on stderr. */
static int refuse(const struct gate *g, bool dry, const char *line, const char *shown,
                  const struct zerr *e)
{
	/* the reason may quote the line: escaped as well */
	struct buf why = BUF_INIT;
	buf_add_escaped(&why, e->msg, strlen(e->msg), 0);
	log_warn("refused from %s: \"%s\": %s", client(), shown, why.s);
	if (g->seed && !dry) {
		/* what the seed's script logged and printed, for the
		 * monitoring and the push that watch for them; the
		 * reason is in the line above */
		log_seed_refusal(line);
		fputs(GATE_SEED_REFUSAL "\n", stderr);
	} else {
		fprintf(stderr, "zkeep gate: command not permitted: %s\n", why.s);
	}
	buf_free(&why);
	return EXIT_FAILED;
}

/* An allowed line: its argv run in place of this process (only a failed
 * exec returns), or with --dry-run printed. */
static int allow(bool dry, const struct strvec *exec_argv, const char *shown)
{
	if (dry) {
		struct buf q = BUF_INIT;
		host_quote(&q, (const char *const *)exec_argv->v, false, NULL);
		printf("%s\n", q.s);
		buf_free(&q);
		return EXIT_OK;
	}
	log_info("allowed from %s: \"%s\"", client(), shown);
	char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	fflush(NULL);
	execve(exec_argv->v[0], exec_argv->v, env);
	const char *why = strerror(errno);
	fprintf(stderr, "zkeep gate: cannot run '%s': %s\n", exec_argv->v[0], why);
	log_error("cannot run '%s': %s", exec_argv->v[0], why);
	return EXIT_FAILED;
}

/* SSH_ORIGINAL_COMMAND, checked (lib/gate), then refused or allowed. */
static int decide(const struct gate *g, bool dry)
{
	struct zerr e = ZERR_INIT;
	const char *line = getenv("SSH_ORIGINAL_COMMAND");
	struct strvec exec_argv = STRVEC_INIT;
	struct buf shown = BUF_INIT;
	int r = line ? gate_check(g, line, &exec_argv, &e)
	             : zerr_set(&e, -1, "no command (interactive login)");
	gate_log_escape(&shown, line ? line : "");
	if (r == 0)
		r = verify_token(g, &exec_argv, &e);
	int ret = r < 0 ? refuse(g, dry, line, shown.s, &e) : allow(dry, &exec_argv, shown.s);
	strvec_clear(&exec_argv);
	buf_free(&shown);
	return ret;
}

int cmd_gate(int argc, char **argv, const struct cmd *self)
{
	struct gate_args a = {.self = self};
	gate_init(&a.g);
	a.g.zfs = find_zfs();
	int ret = cmd_parse(self, argc, argv, 0, take, &a);
	if (ret == CMD_GO_ON && (ret = check_args(self, &a.g)) == EXIT_OK) {
		log_set_facility(LOG_AUTHPRIV);
		log_setup("zkeep-gate", LOG_SINK_SYSLOG, LOG_LVL_INFO);
		ret = decide(&a.g, a.dry);
	}
	gate_free(&a.g);
	return ret;
}
