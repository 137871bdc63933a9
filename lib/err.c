/* struct zerr (err.h): setting, prefixing and printing error messages. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"

static void mark_cut(char *msg, size_t size)
{
	/* A cut message says so rather than passing for a whole one. */
	memcpy(msg + size - 4, "...", 4);
}

int zerr_set(struct zerr *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		e->msg[0] = '\0';
	else if ((size_t)n >= sizeof(e->msg))
		mark_cut(e->msg, sizeof(e->msg));
	e->code = code;
	e->kind = 0;
	return code;
}

int zerr_prefix(struct zerr *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char old[ZERR_MSG_MAX];
	memcpy(old, e->msg, sizeof(old));
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(e->msg)) {
		mark_cut(e->msg, sizeof(e->msg));
		return e->code;
	}
	int m = snprintf(e->msg + n, sizeof(e->msg) - (size_t)n, ": %s", old);
	if (m < 0 || (size_t)m >= sizeof(e->msg) - (size_t)n)
		mark_cut(e->msg, sizeof(e->msg));
	return e->code;
}
