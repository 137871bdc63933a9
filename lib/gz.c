/* The two-part gzip body of /metrics (gz.h): the prefix deflated once per
 * collection, the tail added per response as stored blocks. */
#include "gz.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <zlib.h>
#include "banned.h"

#define GZ_STORED_MAX 65535u /* a stored block's LEN is 16 bits */

void gz_prefix_init(struct gz_prefix *p)
{
	buf_init(&p->z);
	p->crc = 0;
	p->size = 0;
}

void gz_prefix_free(struct gz_prefix *p)
{
	if (!p)
		return;
	buf_free(&p->z);
	gz_prefix_init(p);
}

int gz_prefix_build(struct gz_prefix *p, const char *s, size_t len)
{
	/* the fixed header: magic, deflate, no flags, no mtime, OS unknown */
	static const unsigned char head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255};
	z_stream z = {0};
	/* raw deflate (negative window bits): the header and trailer are ours */
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	buf_add(&p->z, head, sizeof(head));
	uLong crc = crc32(0, Z_NULL, 0);
	int r = Z_OK;
	while (len && r == Z_OK) {
		/* zlib counts in uInt: feed at most UINT_MAX at a time */
		uInt in = len > UINT_MAX ? UINT_MAX : (uInt)len;
		z.next_in = (Bytef *)(uintptr_t)s;
		z.avail_in = in;
		crc = crc32(crc, (const Bytef *)s, in);
		s += in;
		len -= in;
		p->size += in;
		int flush = len ? Z_NO_FLUSH : Z_SYNC_FLUSH;
		do {
			/* room for all of it, or for the rest of the flush */
			buf_grow(&p->z, (size_t)deflateBound(&z, z.avail_in) + 64);
			size_t room = p->z.cap - p->z.len - 1;
			z.next_out = (Bytef *)p->z.s + p->z.len;
			z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
			r = deflate(&z, flush);
			buf_setlen(&p->z, (size_t)((char *)z.next_out - p->z.s));
		} while (r == Z_OK && (z.avail_in || z.avail_out == 0));
	}
	/* Z_BUF_ERROR with all input taken only means "no progress possible",
	 * which is the end here */
	bool ok = !len && !z.avail_in && (r == Z_OK || r == Z_BUF_ERROR);
	/* it answers Z_DATA_ERROR for a stream left unfinished, as this one is
	 * on purpose, and frees the state all the same */
	(void)deflateEnd(&z);
	if (!ok) {
		gz_prefix_free(p);
		return -ENOMEM;
	}
	p->crc = (uint32_t)crc;
	/* sized for the worst case, about 25 times what /metrics needs; the
	 * view keeps it for a whole collection interval */
	buf_compact(&p->z);
	return 0;
}

static void add_le32(struct buf *out, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
	                      (unsigned char)(v >> 24)};
	buf_add(out, b, sizeof(b));
}

void gz_finish(const struct gz_prefix *p, const char *tail, size_t len, struct buf *out)
{
	uLong crc = crc32(0, Z_NULL, 0);
	size_t left = len;
	const char *s = tail;
	/* stored blocks (RFC 1951 3.2.4): the prefix ended byte-aligned, so
	 * each is BFINAL/BTYPE in one byte, LEN and its complement, the bytes */
	do {
		unsigned n = left > GZ_STORED_MAX ? GZ_STORED_MAX : (unsigned)left;
		unsigned char h[5] = {n == left ? 1 : 0, (unsigned char)n, (unsigned char)(n >> 8),
		                      (unsigned char)~n, (unsigned char)(~n >> 8)};
		buf_add(out, h, sizeof(h));
		buf_add(out, s, n);
		crc = crc32(crc, (const Bytef *)s, n);
		s += n;
		left -= n;
	} while (left);
	add_le32(out, (uint32_t)crc32_combine(p->crc, crc, (z_off_t)len));
	add_le32(out, (uint32_t)(p->size + len)); /* ISIZE: the length mod 2^32 */
}
