/*
 * zkeep report / zfs-snapshot-report: policy compliance per dataset and
 * interval, as a table, as JSON (the seed's shape plus zkeep's fields), or
 * written atomically to a cache file for the api. See zkeep-report(1).
 */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autosnap.h"
#include "cmd.h"
#include "config.h"
#include "fmt.h"
#include "host.h"
#include "log.h"
#include "mqtt.h"
#include "opt.h"
#include "state.h"
#include "banned.h"

static void when(char *out, size_t len, json_t *t)
{
	struct buf b = BUF_INIT;
	fmt_when(&b, json_is_integer(t) ? (int64_t)json_integer_value(t) : 0, FMT_LOCAL);
	snprintf(out, len, "%s", b.s);
	buf_free(&b);
}

static void print_table(json_t *report)
{
	json_t *managed = json_object_get(report, "managed");
	size_t i;
	json_t *d;
	printf("%-32s %-9s %-8s %5s %5s %6s %-7s %-16s %-16s\n", "DATASET", "POLICY", "INTERVAL",
	       "COUNT", "KEEP", "PCT", "STATE", "NEWEST", "OLDEST");
	json_array_foreach(managed, i, d)
	{
		for (int k = 0; k < ZK_N_INTERVALS; k++) {
			const char *iv = zk_interval_names[k];
			json_int_t count =
			    json_integer_value(json_object_get(json_object_get(d, "counts"), iv));
			json_int_t keep = json_integer_value(
			    json_object_get(json_object_get(d, "retention"), iv));
			if (!count && !keep)
				continue;
			json_int_t pct = json_integer_value(
			    json_object_get(json_object_get(d, "compliance"), iv));
			bool fresh = json_is_true(json_object_get(json_object_get(d, "fresh"), iv));
			const char *state = pct < 100 ? "LOW" : !fresh ? "STALE" : "ok";
			char newest[32], oldest[32];
			when(newest, sizeof(newest),
			     json_object_get(json_object_get(d, "newest"), iv));
			when(oldest, sizeof(oldest),
			     json_object_get(json_object_get(d, "oldest"), iv));
			printf("%-32s %-9s %-8s %5lld %5lld %5lld%% %-7s %-16s %-16s\n",
			       json_string_value(json_object_get(d, "dataset")),
			       json_string_value(json_object_get(d, "policy")), iv,
			       (long long)count, (long long)keep, (long long)pct, state, newest,
			       oldest);
		}
	}
	json_t *un = json_object_get(report, "unmanaged");
	if (json_array_size(un))
		printf("\n%zu unmanaged datasets (no policy): see --json\n", json_array_size(un));
}

static void print_seed_table(const json_t *report)
{
	struct buf b = BUF_INIT;
	autosnap_seed_table(report, &b);
	fputs(b.s, stdout);
	buf_free(&b);
}

const struct opt report_opts[] = {
    {'j', "json", OPT_NONE, NULL, "the report as JSON, as the old zfs-snapshot-report --json",
     false, true},
    {OPT_LONG + 1, "cache-file", OPT_VALUE, "PATH",
     "write the JSON report to PATH atomically (for zkeep api)", false, true},
    {OPT_LONG + 2, "mqtt-publish", OPT_NONE, NULL,
     "publish the snapshots' state to MQTT (Home Assistant discovery)", false, true},
    {OPT_LONG + 3, "mqtt-host", OPT_VALUE, "B",
     "the MQTT broker (default [mqtt] host, else localhost)", false, true},
    {OPT_LONG + 4, "mqtt-topic", OPT_VALUE, "T", "the state's topic (needed with --mqtt-publish)",
     false, true},
    OPT_DEBUG,
    OPT_QUIET,
    OPT_LOG,
    OPT_CONFIG,
    OPT_HELP,
    OPT_END_OF_TABLE,
};

/* --mqtt-publish: the snapshots' state to the broker. A failure is said
 * and changes no exit code (as the seed's). */
static void publish(const struct zk_config *cfg, const struct autosnap *a, const char *host,
                    const char *topic)
{
	struct mqtt_broker b;
	struct mqtt_msgs msgs = MQTT_MSGS_INIT;
	struct zerr e = ZERR_INIT;
	char name[256];
	if (gethostname(name, sizeof(name)) < 0 || !*name)
		snprintf(name, sizeof(name), "localhost");
	name[sizeof(name) - 1] = '\0';
	mqtt_broker_of(&b, &cfg->mqtt, host ? host : cfg->mqtt.host ? cfg->mqtt.host : "localhost");
	mqtt_report_messages(&msgs, name, topic, &a->ix, cfg->snapshot_prefix, (time_t)cmd_now());
	if (mqtt_publish(&b, &msgs, &e) < 0)
		log_error("snapshot state not published: %s", e.msg);
	else
		log_debug("snapshot state published to %s:%d %s", b.host, b.port, topic);
	mqtt_msgs_free(&msgs);
}

/* What the flags say. */
struct report_args {
	const struct cmd *self;
	const char *config, *cache, *mqtt_host, *mqtt_topic;
	int json, debug, quiet;
	bool mqtt, seed;
};

/* One option into the report_args at ctx (cmd_parse's take). */
static int take(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct report_args *a = ctx;
	struct zerr e = ZERR_INIT;
	(void)argc;
	(void)argv;
	switch (c) {
	case 'j':
		a->json = 1;
		break;
	case OPT_LONG + 1:
		a->cache = v;
		break;
	case OPT_LONG + 2:
		a->mqtt = true;
		break;
	case OPT_LONG + 3:
		if (host_check_name(v, &e) < 0)
			return cmd_usage_error(a->self, "--mqtt-host: %s", e.msg);
		a->mqtt_host = v;
		break;
	case OPT_LONG + 4:
		if (config_parse_topic(v, &e) < 0)
			return cmd_usage_error(a->self, "--mqtt-topic: %s", e.msg);
		a->mqtt_topic = v;
		break;
	case 'c':
		a->config = v;
		break;
	default:
		if (opt_flag(c, OPT_ID_DEBUG, &a->debug) || opt_flag(c, 'q', &a->quiet))
			break;
		return CMD_NOT_MINE;
	}
	return CMD_GO_ON;
}

/* --cache-file: text (json_dumps', NUL-terminated) and a newline, written
 * atomically. */
static int write_cache(const char *path, char *text)
{
	struct zerr e = ZERR_INIT;
	size_t len = strlen(text);
	text[len] = '\n'; /* json_dumps' NUL becomes the final newline */
	int r = state_write_atomic(path, text, len + 1, 0644, &e);
	text[len] = '\0';
	if (r < 0) {
		log_error("%s", e.msg);
		return EXIT_FAILED;
	}
	log_debug("wrote %s", path);
	return EXIT_OK;
}

/* The report, its cache file, stdout, MQTT, as the flags say. */
static int output(const struct report_args *a, const struct zk_config *cfg,
                  const struct autosnap *as)
{
	int ret = EXIT_OK;
	json_t *report = autosnap_report(as, (time_t)cmd_now());
	/* zfs-snapshot-report --json: the seed's bare list of the managed
	 * datasets (1.5); zkeep report --json and every cache file: the
	 * later {"managed", "unmanaged"} (seed-system.md 9) */
	char *text = json_dumps(a->seed && !a->cache ? json_object_get(report, "managed") : report,
	                        JSON_INDENT(2));
	if (a->cache && (ret = write_cache(a->cache, text)) != EXIT_OK)
		goto out;
	/* with --cache-file, stdout has nothing (zkeep report --json: the JSON) */
	if (!a->cache || (!a->seed && a->json)) {
		if (a->json)
			printf("%s\n", text);
		else if (a->seed)
			print_seed_table(report);
		else
			print_table(report);
	}
	if (a->mqtt) {
		fflush(stdout);
		publish(cfg, as, a->mqtt_host, a->mqtt_topic);
	}
out:
	free(text);
	json_decref(report);
	return ret;
}

int cmd_report(int argc, char **argv, const struct cmd *self)
{
	struct report_args a = {.self = self, .seed = cmd_is_seed(self, argv[0])};
	int ret = cmd_parse(self, argc, argv, CMD_PARSE_SEED, take, &a);
	if (ret != CMD_GO_ON)
		return ret;
	cmd_setup_log(self, argv[0], a.quiet, a.debug);
	/* the seed's report wrote its debug lines to stderr: stdout is the
	 * table or the JSON, or nothing at all with --cache-file */
	if (a.seed)
		log_set_streams(stderr, stderr);
	/* the seed's rule: a topic is needed to publish, exit 1 without */
	if (a.mqtt && !a.mqtt_topic) {
		log_error("--mqtt-topic is required with --mqtt-publish");
		return EXIT_FAILED;
	}

	struct zk_config cfg;
	struct host local;
	struct autosnap as;
	ret = cmd_autosnap_open(a.config, &cfg, &local, &as, false, NULL);
	if (ret == EXIT_OK) {
		for (size_t i = 0; i < as.ix.missing.n; i++)
			log_warn("'%s' is declared in %s but does not exist", as.ix.missing.v[i],
			         cfg.path);
		ret = output(&a, &cfg, &as);
	}
	cmd_autosnap_close(&cfg, &local, &as);
	return ret;
}
