/*
 * Logging: the only way lib/ and cmd/ print anything but a command's own
 * output. Levels error < warn < info < debug; a message is written when its
 * level is at or below the configured one.
 *
 * Sinks:
 *  LOG_SINK_STDERR  "zkeep: error: msg" style lines on stderr
 *  LOG_SINK_COMPAT  the seed tools' style: info "* msg" on stdout, debug
 *                   "ℹ️  msg" on stdout, errors "🚨 msg" (or the mark
 *                   log_set_error_mark gives) and warnings "Warning: msg"
 *                   on stderr
 *  LOG_SINK_JSON    one JSON object per line on stderr (ts, level, ident, msg)
 *  LOG_SINK_SYSLOG  syslog(3) with the ident and its pid, LOG_DAEMON facility
 *                   unless log_set_facility says otherwise
 * Each command has its default (zkeep's stderr, the compat sink under a
 * seed tool's name, syslog for the gate); --log picks one of stderr, json
 * and syslog instead (log_choose).
 *
 * The state is process-wide and set once at start-up by cmd/; messages may
 * come from any thread (each line is written with one call).
 */
#ifndef ZK_LOG_H
#define ZK_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };
enum log_sink { LOG_SINK_STDERR = 0, LOG_SINK_COMPAT, LOG_SINK_JSON, LOG_SINK_SYSLOG };

/* ident must outlive the logging. sink is the command's default: a sink
 * log_choose was given stays. */
void log_setup(const char *ident, enum log_sink sink, enum log_level level);
/* --log's choice: "stderr", "json" or "syslog" (any case) from now on,
 * whatever sink log_setup is given later (it still sets the ident and
 * level). -1 for any other name (the compat sink is only a seed tool's
 * default). NULL forgets the choice (for tests). */
int log_choose(const char *name);
/* syslog(3)'s facility for the syslog sink (default LOG_DAEMON); before
 * log_setup. */
void log_set_facility(int facility);
/* One line to syslog as another program would send it: tagged tag, no
 * pid, at facility and level (syslog.h's values), whatever the sink: the
 * gate's copy of the seed's refusal line. msg is sent as it is (the
 * caller escapes it). Not while other threads log. */
void log_syslog_as(const char *tag, int facility, int level, const char *msg);
void log_set_level(enum log_level level);
/* The compat sink's error prefix: the seed's pull and push wrote "🚨 ",
 * its policy tools "! ". mark must outlive the logging. */
void log_set_error_mark(const char *mark);
enum log_level log_get_level(void);
/* For tests: where "stdout" and "stderr" lines go (NULL restores them). */
void log_set_streams(FILE *out, FILE *err);
/* Parses "error", "warn"/"warning", "info", "debug" (any case). */
int log_level_parse(const char *s, enum log_level *out);
int log_sink_parse(const char *s, enum log_sink *out);

void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
