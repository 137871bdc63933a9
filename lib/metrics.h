/*
 * Prometheus text exposition (format 0.0.4): a small writer and the
 * rendering of a view into the seed's metric families plus zkeep's.
 *
 * The writer keeps the format's rules so callers cannot break them: HELP
 * and TYPE are written once per family, before its samples (a family
 * declared twice is a programming error and is skipped with its samples);
 * label values are escaped (\\, \", \n); every sample carries the
 * hostname label first, as the seed's did.
 *
 * Every series of the seed keeps its name and labels (see
 * seed-system.md section 5); what zkeep adds follows Prometheus naming
 * (base units, _timestamp_seconds for times) and is listed in
 * zkeep-api(1).
 */
#ifndef ZK_METRICS_H
#define ZK_METRICS_H

#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "strvec.h"
#include "view.h"

struct metrics {
	struct buf *out;
	const char *hostname;
	const char *family; /* the family being written, NULL when it was refused */
	struct strvec seen; /* families written so far */
};

void metrics_init(struct metrics *m, struct buf *out, const char *hostname);
void metrics_free(struct metrics *m);
/* Starts a family: type is "gauge" or "counter". */
void metrics_family(struct metrics *m, const char *name, const char *type, const char *help);
/* One sample of the current family. labels is NULL or a NULL-terminated
 * array of name, value pairs (ML() makes one); hostname is added first; a
 * NULL value is written as "". Integral values are written without a
 * decimal point. */
void metrics_sample(struct metrics *m, double value, const char *const *labels);
void metrics_sample_u64(struct metrics *m, uint64_t value, const char *const *labels);
#define ML(...) ((const char *const[]){__VA_ARGS__, NULL})
/* Appends s as an escaped label value (no quotes). */
void metrics_escape(struct buf *out, const char *s);

/* All the families computed from v, into out. */
void metrics_render_view(struct buf *out, const struct view *v);
/* The collector's own families: duration, success, view age at now. */
void metrics_render_collector(struct buf *out, const char *hostname, const struct view_status *st,
                              const struct view *v, time_t now);

#endif
