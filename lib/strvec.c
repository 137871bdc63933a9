/* The NULL-terminated vector of owned strings (strvec.h). */
#include "strvec.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"
#include "banned.h"

char *strvec_empty[1];

void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->n = 0;
	sv->alloc = 0;
}

void strvec_clear(struct strvec *sv)
{
	if (!sv)
		return;
	if (sv->alloc) {
		for (size_t i = 0; i < sv->n; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

static const char *push_owned(struct strvec *sv, char *s)
{
	char **old = sv->alloc ? sv->v : NULL;
	sv->v = xgrow(old, &sv->alloc, sv->n + 2, sizeof(*sv->v));
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
	return s;
}

const char *strvec_push(struct strvec *sv, const char *s)
{
	return push_owned(sv, xstrdup(s));
}

const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return push_owned(sv, buf_detach(&b, NULL));
}

void strvec_pushv(struct strvec *sv, const char *const *v)
{
	for (; *v; v++)
		strvec_push(sv, *v);
}

void strvec_split(struct strvec *sv, const char *s)
{
	while (*s) {
		size_t skip = strspn(s, " \t");
		s += skip;
		size_t len = strcspn(s, " \t");
		if (len)
			push_owned(sv, xstrndup(s, len));
		s += len;
	}
}

int strvec_has(const struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

void strvec_remove(struct strvec *sv, const char *s)
{
	size_t k = 0;
	for (size_t i = 0; i < sv->n; i++) {
		if (!strcmp(sv->v[i], s))
			free(sv->v[i]);
		else
			sv->v[k++] = sv->v[i];
	}
	sv->n = k;
	if (sv->alloc)
		sv->v[k] = NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort_unique(struct strvec *sv)
{
	if (sv->n < 2)
		return;
	qsort(sv->v, sv->n, sizeof(char *), cmp_str);
	size_t w = 1;
	for (size_t i = 1; i < sv->n; i++) {
		if (strcmp(sv->v[i], sv->v[w - 1]))
			sv->v[w++] = sv->v[i];
		else
			free(sv->v[i]);
	}
	sv->n = w;
	sv->v[w] = NULL;
}
