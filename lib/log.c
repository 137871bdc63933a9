/* Logging: levels, the four sinks, --log's choice of sink. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <strings.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "buf.h"
#include "fmt.h"
#include "banned.h"

static const char *g_ident = "zkeep";
static const char *g_error_mark = "\U0001F6A8 ";
static enum log_sink g_sink = LOG_SINK_STDERR;
static bool g_chosen; /* by --log: log_setup keeps g_sink */
static int g_facility = LOG_DAEMON;
static enum log_level g_level = LOG_LVL_INFO;
static FILE *g_out, *g_err;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void open_syslog(void)
{
	if (g_sink == LOG_SINK_SYSLOG)
		openlog(g_ident, LOG_PID, g_facility);
}

void log_setup(const char *ident, enum log_sink sink, enum log_level level)
{
	g_ident = ident ? ident : "zkeep";
	if (!g_chosen)
		g_sink = sink;
	g_level = level;
	open_syslog();
}

int log_choose(const char *name)
{
	enum log_sink k;
	if (!name) {
		g_chosen = false;
		return 0;
	}
	if (log_sink_parse(name, &k) < 0 || k == LOG_SINK_COMPAT)
		return -1;
	g_sink = k;
	g_chosen = true;
	open_syslog();
	return 0;
}

void log_set_facility(int facility)
{
	g_facility = facility;
}

void log_syslog_as(const char *tag, int facility, int level, const char *msg)
{
	closelog();
	openlog(tag, 0, facility);
	syslog(level, "%s", msg);
	closelog();
	open_syslog(); /* the sink's own identity again */
}

void log_set_error_mark(const char *mark)
{
	g_error_mark = mark;
}

void log_set_level(enum log_level level)
{
	g_level = level;
}

enum log_level log_get_level(void)
{
	return g_level;
}

void log_set_streams(FILE *out, FILE *err)
{
	g_out = out;
	g_err = err;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++)
		if (!strcasecmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	if (!strcasecmp(s, "warning")) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

int log_sink_parse(const char *s, enum log_sink *out)
{
	static const char *const names[] = {"stderr", "compat", "json", "syslog"};
	for (int i = 0; i <= LOG_SINK_SYSLOG; i++)
		if (!strcasecmp(s, names[i])) {
			*out = (enum log_sink)i;
			return 0;
		}
	return -1;
}

static void write_line(FILE *f, const struct buf *b)
{
	/* One fwrite per line keeps lines whole when threads log at once. */
	fwrite(b->s, 1, b->len, f);
	fflush(f);
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	if (lvl > g_level)
		return;
	FILE *out = g_out ? g_out : stdout;
	FILE *err = g_err ? g_err : stderr;
	struct buf raw = BUF_INIT, msg = BUF_INIT, line = BUF_INIT;
	buf_vaddf(&raw, fmt, ap);
	/* Messages quote names that others chose (datasets, paths, HTTP
	 * requests, what a remote printed): one message stays one line. JSON
	 * has its own escaping. */
	buf_rtrim(&raw);
	if (g_sink == LOG_SINK_JSON)
		buf_add(&msg, raw.s, raw.len);
	else
		buf_add_escaped(&msg, raw.s, raw.len, 0);
	buf_free(&raw);

	switch (g_sink) {
	case LOG_SINK_SYSLOG: {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[lvl], "%s", msg.s);
		break;
	}
	case LOG_SINK_JSON: {
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		buf_adds(&line, "{\"ts\":\"");
		fmt_iso(&line, now.tv_sec, now.tv_nsec, 3);
		buf_addf(&line, "\",\"level\":\"%s\",\"ident\":", level_names[lvl]);
		buf_add_json_str(&line, g_ident, strlen(g_ident));
		buf_adds(&line, ",\"msg\":");
		buf_add_json_str(&line, msg.s, msg.len);
		buf_adds(&line, "}\n");
		write_line(err, &line);
		break;
	}
	case LOG_SINK_COMPAT:
		if (lvl == LOG_LVL_INFO)
			buf_addf(&line, "* %s\n", msg.s);
		else if (lvl == LOG_LVL_DEBUG)
			buf_addf(&line, "\u2139\ufe0f  %s\n", msg.s);
		else if (lvl == LOG_LVL_ERROR)
			buf_addf(&line, "%s%s\n", g_error_mark, msg.s);
		else
			buf_addf(&line, "Warning: %s\n", msg.s);
		write_line(lvl >= LOG_LVL_INFO ? out : err, &line);
		break;
	case LOG_SINK_STDERR:
		if (lvl == LOG_LVL_INFO)
			buf_addf(&line, "%s: %s\n", g_ident, msg.s);
		else
			buf_addf(&line, "%s: %s: %s\n", g_ident, level_names[lvl], msg.s);
		write_line(err, &line);
		break;
	}
	buf_free(&msg);
	buf_free(&line);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
