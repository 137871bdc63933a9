#include "fmt.h"

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
