/*
 * A gzip body in two parts, for /metrics: a large prefix compressed once
 * (per collection) and a small tail added per response, without
 * compressing the prefix again.
 *
 * gz_prefix_build deflates the prefix and ends it with a sync flush, so it
 * stops on a byte boundary with no final block. gz_finish then appends the
 * tail as stored (uncompressed) deflate blocks, the last one final, and
 * the gzip trailer (CRC-32 of prefix and tail together, length mod 2^32).
 * The result, prefix part then finish part, is one ordinary gzip member
 * (RFC 1952), so every client that reads gzip reads it; the tail is a few
 * hundred bytes, so storing it uncompressed costs nothing worth a deflate
 * state per request.
 *
 * Ownership: a gz_prefix owns its buffer (gz_prefix_free). Errors: only a
 * failed allocation inside zlib (-ENOMEM), after which the prefix is empty
 * and the caller serves the body uncompressed.
 */
#ifndef ZK_GZ_H
#define ZK_GZ_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct gz_prefix {
	struct buf z;  /* gzip header + raw deflate of the prefix; len 0: none */
	uint32_t crc;  /* CRC-32 of the uncompressed prefix */
	uint64_t size; /* its uncompressed length */
};

void gz_prefix_init(struct gz_prefix *p);
void gz_prefix_free(struct gz_prefix *p); /* back to empty; NULL is fine */
/* Compresses s[0..len) into p (which must be empty). */
int gz_prefix_build(struct gz_prefix *p, const char *s, size_t len);
/* Appends to out what follows p->z to make the gzip of prefix + tail. */
void gz_finish(const struct gz_prefix *p, const char *tail, size_t len, struct buf *out);

#endif
