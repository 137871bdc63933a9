/*
 * A growable, NULL-terminated vector of owned strings, the shape execve()
 * wants. Invariant: v->v is never NULL and v->v[v->n] == NULL.
 * The vector owns every string pushed into it (copies are made).
 */
#ifndef ZK_STRVEC_H
#define ZK_STRVEC_H

#include <stddef.h>

struct strvec {
	char **v;
	size_t n;
	size_t alloc; /* 0 while v points at the shared empty vector */
};

extern char *strvec_empty[];
#define STRVEC_INIT                                                                                \
	{                                                                                          \
		strvec_empty, 0, 0                                                                 \
	}

void strvec_init(struct strvec *sv);
void strvec_clear(struct strvec *sv); /* back to STRVEC_INIT; NULL is fine */
const char *strvec_push(struct strvec *sv, const char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Pushes each string of the NULL-terminated array. */
void strvec_pushv(struct strvec *sv, const char *const *v);
/* Splits s on runs of spaces and tabs and pushes the words. */
void strvec_split(struct strvec *sv, const char *s);
/* 1 when s is already in the vector. */
int strvec_has(const struct strvec *sv, const char *s);
/* Removes every copy of s, keeping the others' order. */
void strvec_remove(struct strvec *sv, const char *s);
/* Sorts the strings (strcmp order) and drops repeats. */
void strvec_sort_unique(struct strvec *sv);

#endif
