/*
 * zkeep api / zfs-api: the per-host HTTP daemon (JSON API, /metrics and
 * the /ui/ status page).
 *
 * A collector thread (lib/periodic.c) collects a view, swaps it in,
 * fetches the /ui/ sparklines' history when history_url is set, and
 * sleeps --interval seconds. The main thread only takes signals: SIGHUP
 * collects at once, SIGTERM and SIGINT stop, within about a second even
 * while a zfs command hangs. libmicrohttpd's threads serve requests from
 * the current view and never run zfs. The server starts before the first collection so
 * /api/v1/health and /metrics answer at once, even when zfs is missing.
 *
 * Settings, strongest first: flags, the seed's environment variables,
 * the [api] section of the config, the defaults (127.0.0.1:8000, 30 s).
 * See zkeep-api(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "cmd.h"
#include "config.h"
#include "history.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "mqtt.h"
#include "periodic.h"
#include "state.h"
#include "view.h"
#include "xalloc.h"
#include "banned.h"

struct api_settings {
	char *host;
	int port;
	int interval;
	int timeout_s;
	bool auth;
	char *key;
	char *cors;
	char *hostname;
	char *history_url; /* NULL: no sparklines on /ui/ */
	int history_range;
	enum log_level level;
};

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* The seed's levels were uvicorn's: critical and trace too. */
static int parse_level(const char *v, enum log_level *out)
{
	if (!strcasecmp(v, "critical")) {
		*out = LOG_LVL_ERROR;
		return 0;
	}
	if (!strcasecmp(v, "trace")) {
		*out = LOG_LVL_DEBUG;
		return 0;
	}
	return log_level_parse(v, out);
}

/* The key file: its first line, which must not be empty. */
static int read_key_file(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("cannot read the API key file '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & S_IROTH)
		log_warn("the API key file '%s' is readable by everyone", path);
	char b[4097];
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	b[n] = '\0';
	b[strcspn(b, "\r\n")] = '\0';
	if (!*b) {
		log_error("the API key file '%s' holds no key", path);
		return -1;
	}
	*out = xstrdup(b);
	return 0;
}

/* A PEM file for TLS, whole: at most 1 MiB, a regular file. */
static char *read_pem(const char *path, bool secret)
{
	struct zerr e = ZERR_INIT;
	off_t size = 0;
	/* the operator's own path, often a symlink (certbot's live/): resolved
	 * first, then opened as any other file zkeep reads */
	char *real = realpath(path, NULL);
	int fd = state_open_read(AT_FDCWD, real ? real : path, (off_t)1 << 20, &size, &e);
	free(real);
	if (fd < 0) {
		log_error("TLS: %s", e.msg);
		return NULL;
	}
	struct stat st;
	if (secret && fstat(fd, &st) == 0 && (st.st_mode & S_IROTH))
		log_warn("the TLS key '%s' is readable by everyone", path);
	char *b = xmalloc((size_t)size + 1);
	ssize_t n = read(fd, b, (size_t)size);
	close(fd);
	if (n != (ssize_t)size || !n) {
		log_error("TLS: cannot read '%s'", path);
		free(b);
		return NULL;
	}
	b[n] = '\0';
	return b;
}

/* env over config: returns EXIT_OK or EXIT_USAGE after logging why */
static int apply_env(struct api_settings *s)
{
	const char *v;
	struct zerr e = ZERR_INIT;
	long n;
	if ((v = getenv("ZFS_API_HOST")) && *v)
		set_str(&s->host, v);
	if ((v = getenv("ZFS_API_PORT")) && *v) {
		if (config_parse_int(v, 1, 65535, &n, &e) < 0) {
			log_error("ZFS_API_PORT: %s", e.msg);
			return EXIT_USAGE;
		}
		s->port = (int)n;
	}
	if ((v = getenv("ZFS_API_LOG_LEVEL")) && *v && parse_level(v, &s->level) < 0) {
		log_error("ZFS_API_LOG_LEVEL: unknown level '%s'", v);
		return EXIT_USAGE;
	}
	if ((v = getenv("ZFS_API_CORS_ORIGINS")))
		set_str(&s->cors, v);
	if ((v = getenv("ZFS_API_COMMAND_TIMEOUT")) && *v) {
		if (config_parse_int(v, 1, 86400, &n, &e) < 0) {
			log_error("ZFS_API_COMMAND_TIMEOUT: %s", e.msg);
			return EXIT_USAGE;
		}
		s->timeout_s = (int)n;
	}
	if ((v = getenv("HOSTNAME")) && *v)
		set_str(&s->hostname, v);
	if ((v = getenv("ZFS_API_AUTH_ENABLED")) && *v) {
		bool b;
		if (config_parse_bool(v, &b, &e) < 0) {
			log_error("ZFS_API_AUTH_ENABLED: %s", e.msg);
			return EXIT_USAGE;
		}
		s->auth = b;
	}
	if ((v = getenv("ZFS_API_API_KEY")) && *v)
		set_str(&s->key, v);
	if ((v = getenv("ZFS_API_HISTORY_URL"))) {
		if (*v && history_url_check(v, &e) < 0) {
			log_error("ZFS_API_HISTORY_URL: %s", e.msg);
			return EXIT_USAGE;
		}
		set_str(&s->history_url, v); /* empty: none, over the config */
	}
	return EXIT_OK;
}

static int collect_once(const struct view_opts *vo, struct view_holder *h)
{
	struct zerr e = ZERR_INIT;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct view *prev = view_holder_get(h, NULL), *v = NULL;
	struct view_opts o = *vo;
	o.now = time(NULL);
	int r = view_collect(&o, prev, &v, &e);
	view_put(prev);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double d = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (r < 0)
		log_error("collection failed: %s", e.msg);
	else
		log_debug("collected in %.3f s: %zu pools, %zu datasets, %zu objects", d,
		          v->pools.n, v->ix.n, v->list.n);
	view_holder_update(h, r < 0 ? NULL : v, d, &e);
	return r;
}

/* The sparklines' history into h, at most every HISTORY_EVERY seconds,
 * from the collector thread so no request waits for VictoriaMetrics. A
 * failure leaves the page without sparklines and says why in the log. */
static void fetch_history(const struct api_settings *s, struct history_holder *h, time_t *last)
{
	time_t now = time(NULL);
	if (!s->history_url || !*s->history_url || (*last && now - *last < HISTORY_EVERY))
		return;
	*last = now;
	struct zerr e = ZERR_INIT;
	struct history *hist = NULL;
	if (history_fetch(s->history_url, s->hostname, now, s->history_range, HISTORY_TIMEOUT,
	                  &hist, &e) < 0)
		log_warn("history for /ui/ from '%s': %s", s->history_url, e.msg);
	else
		log_debug("history for /ui/: %zu pools, %zu backups", hist->pools.n,
		          hist->backups.n);
	history_holder_set(h, hist);
}

/* The pools' health and capacity to [mqtt]'s broker, from the collector
 * thread: when a pool's health or capacity changed, else every
 * MQTT_POOLS_EVERY seconds (the messages are retained; this only keeps
 * checked_at fresh). *last_sig is what was last published. */
#define MQTT_POOLS_EVERY 300
static void publish_pools(const struct zk_config *cfg, struct view_holder *h, const char *hostname,
                          char **last_sig, time_t *last)
{
	if (!cfg->mqtt.host)
		return;
	struct view *v = view_holder_get(h, NULL);
	if (!v)
		return;
	struct buf sig = BUF_INIT;
	for (size_t i = 0; i < v->pools.n; i++)
		buf_addf(&sig, "%s %s %llu\n", v->pools.v[i].name, v->pools.v[i].health,
		         (unsigned long long)v->pools.v[i].capacity);
	time_t now = time(NULL);
	if (*last_sig && !strcmp(*last_sig, sig.s) && now - *last < MQTT_POOLS_EVERY) {
		buf_free(&sig);
		view_put(v);
		return;
	}
	struct mqtt_broker b;
	struct mqtt_msgs m = MQTT_MSGS_INIT;
	struct zerr e = ZERR_INIT;
	mqtt_broker_of(&b, &cfg->mqtt, NULL);
	mqtt_pool_messages(&m, hostname,
	                   cfg->mqtt.topic_prefix ? cfg->mqtt.topic_prefix : MQTT_DEFAULT_PREFIX,
	                   &v->pools, now);
	view_put(v);
	if (mqtt_publish(&b, &m, &e) < 0) {
		log_warn("pools' state not published: %s", e.msg);
		buf_free(&sig);
	} else {
		log_debug("pools' state published to %s:%d", b.host, b.port);
		free(*last_sig);
		*last_sig = buf_detach(&sig, NULL);
		*last = now;
	}
	mqtt_msgs_free(&m);
}

/* One collection, the pools to MQTT and the sparklines' history: the
 * periodic job. */
struct collect_ctx {
	const struct view_opts *vo;
	struct view_holder *holder;
	const struct api_settings *s;
	struct history_holder *history;
	time_t history_last;
	char *mqtt_sig;
	time_t mqtt_last;
};
static void collect_tick(void *arg)
{
	struct collect_ctx *c = arg;
	if (collect_once(c->vo, c->holder) == 0)
		publish_pools(c->vo->cfg, c->holder, c->s->hostname, &c->mqtt_sig, &c->mqtt_last);
	fetch_history(c->s, c->history, &c->history_last);
}

const struct opt api_opts[] = {
    {'l', "listen", OPT_VALUE, "HOST:PORT", "where to listen (default 127.0.0.1:8000)", false},
    {OPT_LONG + 1, "interval", OPT_VALUE, "S", "seconds between collections (default 30)", false},
    {OPT_LONG + 2, "metrics-once", OPT_NONE, NULL, "collect once, print /metrics, exit", false},
    OPT_DEBUG,
    OPT_QUIET,
    OPT_LOG,
    OPT_CONFIG,
    OPT_HELP,
    {OPT_LONG + 3, "version", OPT_NONE, NULL, "print the version", false},
    OPT_END_OF_TABLE,
};

/* What the flags say. */
struct api_args {
	const char *config, *listen, *interval;
	int debug, quiet, once;
};

/* One option into the api_args at ctx (cmd_parse's take). */
static int take(void *ctx, int c, const char *v, int argc, char **argv)
{
	struct api_args *a = ctx;
	(void)argc;
	(void)argv;
	switch (c) {
	case 'l':
		a->listen = v;
		break;
	case OPT_LONG + 1:
		a->interval = v;
		break;
	case 'c':
		a->config = v;
		break;
	case OPT_LONG + 2:
		a->once = 1;
		break;
	case OPT_LONG + 3:
		printf("zkeep %s\n", zkeep_version);
		return EXIT_OK;
	default:
		if (opt_flag(c, OPT_ID_DEBUG, &a->debug) || opt_flag(c, 'q', &a->quiet))
			break;
		return CMD_NOT_MINE;
	}
	return CMD_GO_ON;
}

/* The config (none is fine unless --config names one), and the policies
 * of a host whose policy snapshots are still the old tools': their
 * report's cache names the managed datasets and their policies. */
static int load_config(const char *path, struct zk_config *cfg)
{
	struct zerr e = ZERR_INIT;
	if (config_load_file(cfg, path ? path : ZK_DEFAULT_CONFIG, &e) < 0 &&
	    (path || e.code != -ENOENT)) {
		log_error("%s", e.msg);
		return EXIT_USAGE;
	}
	const char *cache = getenv("ZFS_SNAPSHOT_REPORT_CACHE");
	if (!cache || !*cache)
		cache = cfg->api.report_cache;
	if (cache && cfg->n_datasets)
		log_info("the report cache '%s' is not read: %s has [dataset] sections", cache,
		         cfg->path);
	else if (cache && config_add_report_cache(cfg, cache, &e) < 0)
		log_warn("no policies from the report cache: %s", e.msg);
	else if (cache)
		log_info("policies of %zu dataset(s) from the report cache '%s'", cfg->n_datasets,
		         cache);
	cmd_config_warnings(cfg);
	return EXIT_OK;
}

/* The settings, strongest first: flags, the seed's environment, [api]. */
static int settings(const struct cmd *self, const struct api_args *a, const struct zk_config *cfg,
                    struct api_settings *s)
{
	struct zerr e = ZERR_INIT;
	char hn[256];
	s->host = xstrdup(cfg->api.listen_host);
	s->port = cfg->api.listen_port;
	s->interval = cfg->api.interval;
	s->timeout_s = cfg->zfs_timeout;
	s->auth = cfg->api.auth;
	s->level = LOG_LVL_INFO;
	if (cfg->api.cors_origins)
		s->cors = xstrdup(cfg->api.cors_origins);
	if (cfg->api.history_url)
		s->history_url = xstrdup(cfg->api.history_url);
	s->history_range = cfg->api.history_range;
	if (gethostname(hn, sizeof(hn)) < 0)
		snprintf(hn, sizeof(hn), "unknown");
	hn[sizeof(hn) - 1] = '\0';
	s->hostname = xstrdup(hn);
	int ret = apply_env(s);
	if (ret != EXIT_OK)
		return ret;
	if (a->listen) {
		char *h = NULL;
		if (config_parse_listen(a->listen, &h, &s->port, &e) < 0)
			return cmd_usage_error(self, "--listen: %s", e.msg);
		free(s->host);
		s->host = h;
	}
	if (a->interval) {
		long n;
		if (config_parse_int(a->interval, 1, 86400, &n, &e) < 0)
			return cmd_usage_error(self, "--interval: %s", e.msg);
		s->interval = (int)n;
	}
	log_set_level(a->debug ? LOG_LVL_DEBUG : a->quiet ? LOG_LVL_ERROR : s->level);
	return EXIT_OK;
}

static void settings_free(struct api_settings *s)
{
	free(s->host);
	free(s->key);
	free(s->cors);
	free(s->hostname);
	free(s->history_url);
}

/* --metrics-once, for checks and benchmarks: one collection (the pools
 * to MQTT as the daemon's would), its /metrics on stdout. */
static int metrics_once(const struct view_opts *vo, const struct api_settings *s)
{
	struct view_holder holder;
	view_holder_init(&holder);
	int r = collect_once(vo, &holder);
	char *sig = NULL;
	time_t last = 0;
	if (r == 0)
		publish_pools(vo->cfg, &holder, s->hostname, &sig, &last);
	free(sig);
	struct view_status st;
	struct view *v = view_holder_get(&holder, &st);
	struct buf b = BUF_INIT;
	if (v)
		buf_add(&b, v->metrics.s, v->metrics.len);
	metrics_render_collector(&b, s->hostname, &st, v, time(NULL));
	fwrite(b.s, 1, b.len, stdout);
	buf_free(&b);
	view_put(v);
	view_holder_free(&holder);
	return r < 0 ? EXIT_FAILED : EXIT_OK;
}

/* The API key when auth is on: ZFS_API_API_KEY's, else api_key_file's;
 * none at all when auth is off. */
static int auth_key(const struct zk_config *cfg, struct api_settings *s)
{
	if (!s->auth) {
		free(s->key);
		s->key = NULL;
		return EXIT_OK;
	}
	if (s->key)
		return EXIT_OK;
	if (!cfg->api.api_key_file) {
		log_error("auth is on but no key is given (ZFS_API_API_KEY or api_key_file)");
		return EXIT_USAGE;
	}
	return read_key_file(cfg->api.api_key_file, &s->key) < 0 ? EXIT_USAGE : EXIT_OK;
}

/* The daemon's signals, blocked in every thread (the threads started
 * after inherit the mask): only wait_signals takes them. */
static void block_signals(sigset_t *sigs)
{
	sigemptyset(sigs);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

/* Until SIGTERM or SIGINT; SIGHUP collects at once. */
static void wait_signals(const sigset_t *sigs, struct periodic *coll)
{
	for (;;) {
		int sig = sigwaitinfo(sigs, NULL);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on signal %d", sig);
			return;
		}
		if (sig == SIGHUP) {
			log_info("SIGHUP: collecting now");
			periodic_kick(coll);
		}
	}
}

/* The collector thread and the server, until a signal stops them. The
 * server starts first, so /api/v1/health and /metrics answer at once. */
static int run_daemon(const struct view_opts *vo, struct api_settings *s, const char *cert,
                      const char *tls_key, const sigset_t *sigs)
{
	const struct zk_config *cfg = vo->cfg;
	struct zerr e = ZERR_INIT;
	struct view_holder holder;
	struct history_holder history;
	struct http_server *srv = NULL;
	struct periodic *coll = NULL;
	int ret = EXIT_FAILED;
	view_holder_init(&holder);
	history_holder_init(&history);
	struct api_site site = {s->hostname, cfg->api.log_dir};
	struct http_opts ho = {s->host, s->port,     s->key,
	                       s->cors, s->hostname, 4,
	                       &holder, &history,    cfg->api.request_deadline,
	                       cert,    tls_key,     api_serve,
	                       &site};
	struct collect_ctx cc = {vo, &holder, s, &history, 0, NULL, 0};
	if (http_start(&ho, &srv, &e) < 0) {
		log_error("%s", e.msg);
		goto out;
	}
	log_info("listening on %s:%d (%s, auth %s), collecting every %d s", s->host, s->port,
	         cert ? "https" : "http", s->key ? "on" : "off", s->interval);
	if (s->history_url && *s->history_url)
		log_info("/ui/ sparklines from %s (%d s of history)", s->history_url,
		         s->history_range);
	/* The collections run in a thread of their own: this one only waits
	 * for signals, so SIGTERM is prompt even while a zfs command hangs. */
	if (periodic_start(&coll, s->interval, collect_tick, &cc, &e) < 0) {
		log_error("%s", e.msg);
		goto out;
	}
	wait_signals(sigs, coll);
	http_stop(srv);
	srv = NULL;
	if (periodic_stop(coll, 1000) < 0) {
		/* its zfs command has not answered: what the collection uses
		 * stays as it is, and the process ends around it */
		log_warn("exiting during a collection that has not finished (a zfs command not "
		         "answering?)");
		fflush(NULL);
		_exit(EXIT_OK);
	}
	ret = EXIT_OK;
out:
	free(cc.mqtt_sig);
	http_stop(srv);
	view_holder_free(&holder);
	history_holder_free(&history);
	return ret;
}

/* The daemon: its key, memory, signals and TLS, then run_daemon. */
static int serve(const struct view_opts *vo, struct api_settings *s)
{
	const struct zk_config *cfg = vo->cfg;
	char *cert = NULL, *tls_key = NULL; /* PEM text, when [api] serves HTTPS */
	sigset_t sigs;
	int ret = auth_key(cfg, s);
	if (ret != EXIT_OK)
		return ret;
	/* Each collection frees a view of tens of MB (50,000 snapshots: about
	 * 20 MB). glibc's default thresholds rise after such frees, and the
	 * memory then stays in the daemon's RSS (measured on 50,000 snapshots:
	 * 54 MiB, against 31 MiB with this). A fixed threshold hands freed
	 * memory back to the kernel and keeps large blocks in their own maps. */
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
	block_signals(&sigs);
	if (cfg->api.tls_cert && (!(cert = read_pem(cfg->api.tls_cert, false)) ||
	                          !(tls_key = read_pem(cfg->api.tls_key, true))))
		ret = EXIT_FAILED;
	else
		ret = run_daemon(vo, s, cert, tls_key, &sigs);
	free(cert);
	if (tls_key) /* the private key does not linger in freed memory */
		explicit_bzero(tls_key, strlen(tls_key));
	free(tls_key);
	return ret;
}

int cmd_api(int argc, char **argv, const struct cmd *self)
{
	struct api_args a = {0};
	int ret = cmd_parse(self, argc, argv, 0, take, &a);
	if (ret != CMD_GO_ON)
		return ret;
	log_setup("zkeep-api", LOG_SINK_STDERR, LOG_LVL_INFO);

	struct zk_config cfg;
	struct api_settings s = {0};
	struct host local;
	config_init(&cfg);
	host_init_local(&local);
	if ((ret = load_config(a.config, &cfg)) == EXIT_OK &&
	    (ret = settings(self, &a, &cfg, &s)) == EXIT_OK) {
		struct view_opts vo = {&cfg, &local, s.hostname,         s.timeout_s * 1000,
		                       0,    true,   metrics_render_view};
		ret = a.once ? metrics_once(&vo, &s) : serve(&vo, &s);
	}
	host_free(&local);
	config_free(&cfg);
	settings_free(&s);
	return ret;
}
