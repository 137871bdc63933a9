/* The growable byte buffer (buf.h): its allocation and overflow checks. */
#include "buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "banned.h"

char buf_empty[1];

void buf_init(struct buf *b)
{
	b->s = buf_empty;
	b->len = 0;
	b->cap = 0;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	if (b->cap)
		free(b->s);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->s[0] = '\0'; /* buf_empty stays "" either way */
}

void buf_grow(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1) {
		fprintf(stderr, "zkeep: buffer size overflow\n");
		abort();
	}
	size_t want = b->len + extra + 1;
	if (want <= b->cap)
		return;
	int fresh = b->cap == 0;
	char *old = b->s;
	b->s = xgrow(fresh ? NULL : b->s, &b->cap, want, 1);
	if (fresh)
		memcpy(b->s, old, b->len + 1);
}

void buf_compact(struct buf *b)
{
	if (b->cap > b->len + 1) {
		b->s = xreallocarray(b->s, b->len + 1, 1);
		b->cap = b->len + 1;
	}
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->cap && len == 0)
		return;
	if (len >= b->cap) {
		fprintf(stderr, "zkeep: buf_setlen beyond capacity\n");
		abort();
	}
	b->len = len;
	b->s[len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t n)
{
	if (!n)
		return;
	buf_grow(b, n);
	memcpy(b->s + b->len, data, n);
	buf_setlen(b, b->len + n);
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	char small[256];
	int n = vsnprintf(small, sizeof(small), fmt, cp);
	va_end(cp);
	if (n < 0)
		return; /* only an invalid format can do this */
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		return;
	}
	buf_grow(b, (size_t)n);
	int m = vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	if (m != n) {
		fprintf(stderr, "zkeep: vsnprintf changed its mind\n");
		abort();
	}
	buf_setlen(b, b->len + (size_t)n);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void buf_add_json_str(struct buf *b, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	buf_addch(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			buf_addch(b, '\\');
			buf_addch(b, (char)c);
		} else if (c == '\n') {
			buf_adds(b, "\\n");
		} else if (c == '\t') {
			buf_adds(b, "\\t");
		} else if (c == '\r') {
			buf_adds(b, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			buf_addf(b, "\\u%04x", c);
		} else if (c >= 0x80) {
			size_t l = utf8_len(s + i, n - i);
			if (!l) {
				buf_adds(b, "\\ufffd");
				i++;
				continue;
			}
			buf_add(b, s + i, l);
			i += l;
			continue;
		} else {
			buf_addch(b, (char)c);
		}
		i++;
	}
	buf_addch(b, '"');
}

void buf_add_escaped(struct buf *b, const char *s, size_t n, int flags)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool plain = c >= 0x20 && c != 0x7f;
		if (flags & BUF_ESC_ASCII)
			plain = plain && c < 0x7f && c != '\\';
		if (plain)
			buf_addch(b, (char)c);
		else
			buf_addf(b, "\\x%02x", c);
	}
}

void buf_rtrim(struct buf *b)
{
	size_t n = b->len;
	while (n && (b->s[n - 1] == ' ' || b->s[n - 1] == '\t' || b->s[n - 1] == '\n' ||
	             b->s[n - 1] == '\r'))
		n--;
	buf_setlen(b, n);
}

char *buf_detach(struct buf *b, size_t *len)
{
	if (len)
		*len = b->len;
	char *s = b->cap ? b->s : xstrdup("");
	buf_init(b);
	return s;
}
