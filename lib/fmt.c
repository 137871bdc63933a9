/* Formatting for people and programs: see fmt.h. */
#include "fmt.h"

#include <string.h>
#include <time.h>

#include "banned.h"

void fmt_bytes_human(struct buf *b, uint64_t n)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	buf_addf(b, "%.2f %s", v, units[u]);
}

void fmt_age(struct buf *b, int64_t secs)
{
	if (secs < 0)
		buf_adds(b, "-");
	else if (secs < 3600)
		buf_addf(b, "%lldm", (long long)secs / 60);
	else if (secs < 2LL * 86400)
		buf_addf(b, "%lldh", (long long)secs / 3600);
	else
		buf_addf(b, "%lldd", (long long)secs / 86400);
}

bool fmt_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s || strlen(s) > 20)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

void fmt_when(struct buf *b, int64_t t, enum fmt_zone z)
{
	char s[40];
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !(z == FMT_UTC ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) ||
	    !strftime(s, sizeof(s), z == FMT_UTC ? "%Y-%m-%d %H:%M UTC" : "%Y-%m-%d %H:%M", &tm))
		buf_adds(b, "-");
	else
		buf_adds(b, s);
}

bool fmt_iso(struct buf *b, int64_t t, long nsec, int digits)
{
	char s[64];
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		return false;
	buf_adds(b, s);
	if (digits == 3)
		buf_addf(b, ".%03ld", nsec / 1000000);
	else if (digits == 6)
		buf_addf(b, ".%06ld", nsec / 1000);
	buf_addch(b, 'Z');
	return true;
}
