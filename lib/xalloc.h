/*
 * Allocation that cannot fail. Running out of memory is not an error zkeep
 * can recover from in any useful way, so these print one line and abort();
 * every other error is returned to the caller.
 */
#ifndef ZK_XALLOC_H
#define ZK_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* reallocarray with overflow checking: aborts when nmemb * size overflows. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Grows *cap geometrically until it holds want elements of size sz. */
void *xgrow(void *p, size_t *cap, size_t want, size_t sz);

#endif
