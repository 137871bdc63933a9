/*
 * A growable byte buffer. Invariant: b->s is never NULL and b->s[b->len] is
 * always '\0', so b->s can be used as a C string at any time (it may hold
 * NULs of its own when filled with binary data). Allocation failure aborts
 * (see xalloc.h); sizes are overflow-checked.
 *
 * Ownership: the buffer owns b->s until buf_detach() hands it to the caller.
 */
#ifndef ZK_BUF_H
#define ZK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *s;
	size_t len;
	size_t cap; /* 0 while s points at the shared empty string */
};

extern char buf_empty[];
#define BUF_INIT                                                                                   \
	{                                                                                          \
		buf_empty, 0, 0                                                                    \
	}

void buf_init(struct buf *b);
void buf_free(struct buf *b);  /* back to BUF_INIT; NULL is fine */
void buf_reset(struct buf *b); /* len = 0, keeps the memory */
void buf_grow(struct buf *b, size_t extra);
void buf_setlen(struct buf *b, size_t len); /* len <= cap - 1 */
void buf_add(struct buf *b, const void *data, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, char c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Appends s[0..n) as a JSON string literal, quotes included. Bytes that are
 * not valid UTF-8 are written as U+FFFD so the output is always valid JSON. */
void buf_add_json_str(struct buf *b, const char *s, size_t n);
/* Appends s[0..n) with every control byte (below 0x20, and 0x7f) as \xNN,
 * so a name carrying a newline cannot forge a second log line. With
 * BUF_ESC_ASCII, a backslash and every byte above 0x7e too: the output is
 * printable ASCII and unambiguous (for a command line shown in syslog). */
#define BUF_ESC_ASCII 1
void buf_add_escaped(struct buf *b, const char *s, size_t n, int flags);
/* Gives back the capacity beyond len, for a buffer kept long. */
void buf_compact(struct buf *b);
/* Removes trailing whitespace. */
void buf_rtrim(struct buf *b);
/* Gives the caller the string (free() it); the buffer is empty again. */
char *buf_detach(struct buf *b, size_t *len);

#endif
