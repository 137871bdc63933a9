/*
 * libFuzzer target: the resume token decoder and check (lib/token.c). The
 * first byte picks the layer: odd, the rest is token text as a target
 * would hand it back; even, the rest is a packed nvlist, wrapped here into
 * a well-formed token (zlib, checksum, hex) so that the fuzzer reaches the
 * nvlist readers instead of stopping at the checksum. Beyond "no crash":
 * an accepted token has a terminated toname without control characters,
 * and token_check only accepts a snapshot of the expected dataset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *wrap(const uint8_t *p, size_t n)
{
	uLongf clen = compressBound(n);
	unsigned char *c = malloc(clen);
	if (compress2(c, &clen, p, n, 1) != Z_OK) {
		free(c);
		return NULL;
	}
	uint64_t sum = 0;
	for (size_t i = 0; i + 4 <= clen; i += 4)
		sum += (uint32_t)c[i] | (uint32_t)c[i + 1] << 8 | (uint32_t)c[i + 2] << 16 |
		       (uint32_t)c[i + 3] << 24;
	char *t = malloc(64 + 2 * clen), *w = t;
	w += sprintf(w, "1-%llx-%zx-", (unsigned long long)sum, n);
	for (size_t i = 0; i < clen; i++)
		w += sprintf(w, "%02x", c[i]);
	free(c);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text =
	    data[0] & 1 ? strndup((const char *)data + 1, size - 1) : wrap(data + 1, size - 1);
	if (!text)
		return 0;
	struct token t;
	struct zerr e = ZERR_INIT;
	if (token_decode(text, &t, &e) == 0) {
		size_t n = strnlen(t.toname, sizeof(t.toname));
		if (n == 0 || n == sizeof(t.toname))
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)t.toname[i] < ' ')
				abort();
		struct zfs_obj s1 = {.name = "tank/a@s1", .guid = 11, .createtxg = 1};
		const struct zfs_obj *const sp[1] = {&s1};
		struct token_expect x = {"tank/a", sp, 1, NULL, 0, 0, (t.flags & TOKEN_RAW) != 0};
		if (token_check(&t, &x, &e) == 0 &&
		    (strcmp(t.toname, "tank/a@s1") || t.toguid != 11))
			abort();
	}
	free(text);
	return 0;
}
