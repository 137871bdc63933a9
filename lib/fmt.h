/*
 * Formatting shared by reports, status, the api and the log: byte counts,
 * ages and times for people, ISO 8601 times for programs. The one home of
 * a time's text but for snapshot names (a policy rule: lib/policy.c).
 */
#ifndef ZK_FMT_H
#define ZK_FMT_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* The seed's "*_human" form: "%.2f UNIT", UNIT in B KB MB GB TB PB EB,
 * steps of 1024: 0 -> "0.00 B", 1536 -> "1.50 KB". */
void fmt_bytes_human(struct buf *b, uint64_t n);

/* A short age for humans: "-" when secs < 0, else minutes under an hour
 * ("42m"), hours under two days ("30h"), days after ("9d"). */
void fmt_age(struct buf *b, int64_t secs);

/* A time for people: local "2026-12-06 04:40", or with FMT_UTC
 * "2026-12-06 04:40 UTC"; "-" for t <= 0 (no time). The one format of
 * zkeep status, zkeep report's table and the /ui/ page. */
enum fmt_zone { FMT_LOCAL, FMT_UTC };
void fmt_when(struct buf *b, int64_t t, enum fmt_zone z);

/* A time as the api and the JSON log write it: UTC, ISO 8601,
 * "2026-12-06T04:40:00Z"; digits 3 or 6 add that many digits of nsec as a
 * fraction ("...:00.123Z", truncated), 0 none. Returns false, appending
 * nothing, when t has no such text (beyond gmtime_r's years). */
bool fmt_iso(struct buf *b, int64_t t, long nsec, int digits);

/* s is a decimal number that fits 64 bits: digits only (no sign, space or
 * empty string). */
bool fmt_parse_u64(const char *s, uint64_t *out);

#endif
