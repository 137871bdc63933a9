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
