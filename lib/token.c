/*
 * Resume tokens: the bounded decoder and the rule for resuming (token.h).
 * Owns nothing beyond the caller's struct token.
 */
#include "token.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "xalloc.h"
#include "banned.h"

/* A bounded reader over bytes in one byte order. */
struct rd {
	const unsigned char *p;
	size_t len, off;
	bool le;
};

static bool rd_u32(struct rd *r, uint32_t *v)
{
	if (r->len - r->off < 4)
		return false;
	const unsigned char *b = r->p + r->off;
	*v = r->le ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	                 (uint32_t)b[3] << 24
	           : (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 |
	                 (uint32_t)b[0] << 24;
	r->off += 4;
	return true;
}

static bool rd_u64(struct rd *r, uint64_t *v)
{
	uint32_t a, b;
	if (!rd_u32(r, &a) || !rd_u32(r, &b))
		return false;
	*v = r->le ? (uint64_t)b << 32 | a : (uint64_t)a << 32 | b;
	return true;
}

static bool rd_u16(struct rd *r, uint16_t *v)
{
	if (r->len - r->off < 2)
		return false;
	const unsigned char *b = r->p + r->off;
	*v = r->le ? (uint16_t)(b[0] | b[1] << 8) : (uint16_t)(b[1] | b[0] << 8);
	r->off += 2;
	return true;
}

/* nvpair data types (sys/nvpair.h) that a token uses */
enum { NV_BOOLEAN = 1, NV_UINT64 = 8, NV_STRING = 9 };

/* One key and value, as both encodings give them to store(). */
struct pair {
	const char *name;
	size_t name_len;
	uint32_t type, nelem;
	uint64_t u64;    /* NV_UINT64 */
	const char *str; /* NV_STRING, not NUL-terminated */
	size_t str_len;
};

static bool name_is(const struct pair *p, const char *s)
{
	return p->name_len == strlen(s) && !memcmp(p->name, s, p->name_len);
}

/* Stores one pair into t; refuses a key seen twice or of the wrong type. */
static int store(struct token *t, const struct pair *p, unsigned *seen, struct zerr *e)
{
	static const char *const u64_keys[] = {"object", "offset", "bytes", "toguid", "fromguid"};
	static const struct {
		const char *name;
		unsigned flag;
	} flag_keys[] = {{"largeblockok", TOKEN_LARGEBLOCK},
	                 {"embedok", TOKEN_EMBED},
	                 {"compressok", TOKEN_COMPRESS},
	                 {"rawok", TOKEN_RAW},
	                 {"savedok", TOKEN_SAVED}};
	for (size_t i = 0; i < sizeof(u64_keys) / sizeof(u64_keys[0]); i++) {
		if (!name_is(p, u64_keys[i]))
			continue;
		if (*seen & 1u << i)
			return zerr_set(e, -EINVAL, "resume token: key '%s' twice", u64_keys[i]);
		if (p->type != NV_UINT64 || p->nelem != 1)
			return zerr_set(e, -EINVAL, "resume token: '%s' is not a number",
			                u64_keys[i]);
		*seen |= 1u << i;
		uint64_t *dst[] = {&t->object, &t->offset, &t->bytes, &t->toguid, &t->fromguid};
		*dst[i] = p->u64;
		if (i == 4)
			t->flags |= TOKEN_HAS_FROMGUID;
		return 0;
	}
	if (name_is(p, "toname")) {
		if (*seen & 1u << 5)
			return zerr_set(e, -EINVAL, "resume token: key 'toname' twice");
		if (p->type != NV_STRING || p->nelem != 1)
			return zerr_set(e, -EINVAL, "resume token: 'toname' is not a string");
		if (p->str_len == 0 || p->str_len >= sizeof(t->toname))
			return zerr_set(e, -EINVAL, "resume token: 'toname' is empty or too long");
		for (size_t i = 0; i < p->str_len; i++) /* no dataset name has them */
			if ((unsigned char)p->str[i] < ' ' || p->str[i] == 127)
				return zerr_set(e, -EINVAL,
				                "resume token: 'toname' has a control character");
		memcpy(t->toname, p->str, p->str_len);
		t->toname[p->str_len] = '\0';
		*seen |= 1u << 5;
		return 0;
	}
	for (size_t i = 0; i < sizeof(flag_keys) / sizeof(flag_keys[0]); i++) {
		if (!name_is(p, flag_keys[i].name))
			continue;
		if (t->flags & flag_keys[i].flag)
			return zerr_set(e, -EINVAL, "resume token: key '%s' twice",
			                flag_keys[i].name);
		if (p->type != NV_BOOLEAN)
			return zerr_set(e, -EINVAL, "resume token: '%s' is not a flag",
			                flag_keys[i].name);
		t->flags |= flag_keys[i].flag;
		return 0;
	}
	if (!t->unknown[0]) { /* kept for token_check's refusal; printable only */
		size_t n =
		    p->name_len < sizeof(t->unknown) - 1 ? p->name_len : sizeof(t->unknown) - 1;
		for (size_t i = 0; i < n; i++)
			t->unknown[i] = p->name[i] > ' ' && p->name[i] < 127 ? p->name[i] : '?';
		t->unknown[n] = '\0';
		if (!n) {
			t->unknown[0] = '?';
			t->unknown[1] = '\0';
		}
	}
	return 0;
}

/* The value of a native pair at v (size n bytes) into p. */
static int native_value(struct pair *p, const unsigned char *v, size_t n, bool le, struct zerr *e)
{
	if (p->type == NV_UINT64 && p->nelem == 1) {
		struct rd r = {v, n, 0, le};
		if (!rd_u64(&r, &p->u64))
			return zerr_set(e, -EINVAL, "resume token: a number is cut short");
	} else if (p->type == NV_STRING && p->nelem == 1) {
		const unsigned char *z = memchr(v, '\0', n);
		if (!z)
			return zerr_set(e, -EINVAL, "resume token: a string is not terminated");
		p->str = (const char *)v;
		p->str_len = (size_t)(z - v);
	}
	return 0;
}

/* NV_ENCODE_NATIVE: the in-memory nvpair_t of the writer, in its byte order:
 * int32 size, int16 name size (with NUL), int16 reserved, int32 elements,
 * int32 type, the name, the value at the next multiple of 8; a size of 0
 * ends the list. */
static int decode_native(struct rd *r, struct token *t, struct zerr *e)
{
	unsigned seen = 0;
	uint32_t ver, flag;
	if (!rd_u32(r, &ver) || !rd_u32(r, &flag))
		return zerr_set(e, -EINVAL, "resume token: the nvlist header is cut short");
	for (unsigned n = 0;; n++) {
		size_t start = r->off;
		uint32_t size, nelem, type;
		uint16_t name_sz, reserved;
		if (!rd_u32(r, &size))
			return zerr_set(e, -EINVAL, "resume token: the nvlist has no end");
		if (size == 0)
			break;
		if (n >= 64)
			return zerr_set(e, -EINVAL, "resume token: too many keys");
		if (size < 16 || size % 8 || size > r->len - start || !rd_u16(r, &name_sz) ||
		    !rd_u16(r, &reserved) || !rd_u32(r, &nelem) || !rd_u32(r, &type))
			return zerr_set(e, -EINVAL, "resume token: a key has a bad size");
		size_t value_off = (16 + (size_t)name_sz + 7) & ~(size_t)7;
		if (name_sz < 2 || value_off > size || r->p[start + 16 + name_sz - 1] != '\0')
			return zerr_set(e, -EINVAL, "resume token: a key has a bad name");
		struct pair p = {
		    (const char *)r->p + start + 16, (size_t)name_sz - 1u, type, nelem, 0, NULL, 0};
		int rc = native_value(&p, r->p + start + value_off, size - value_off, r->le, e);
		if (rc < 0 || (rc = store(t, &p, &seen, e)) < 0)
			return rc;
		r->off = start + size;
	}
	if (r->off != r->len)
		return zerr_set(e, -EINVAL, "resume token: bytes after the nvlist");
	return 0;
}

/* An XDR string (length, bytes, padding to 4) at r, not copied. */
static bool xdr_str(struct rd *r, const char **s, size_t *n)
{
	uint32_t len;
	if (!rd_u32(r, &len) || len > r->len - r->off)
		return false;
	size_t padded = ((size_t)len + 3) & ~(size_t)3;
	if (padded > r->len - r->off)
		return false;
	*s = (const char *)r->p + r->off;
	*n = len;
	r->off += padded;
	return true;
}

/* NV_ENCODE_XDR, big-endian: int32 encoded size (of the whole pair), int32
 * decoded size, the name as an XDR string, int32 type, int32 elements,
 * the value; two zero sizes end the list. */
static int decode_xdr(struct rd *r, struct token *t, struct zerr *e)
{
	unsigned seen = 0;
	uint32_t ver, flag;
	if (!rd_u32(r, &ver) || !rd_u32(r, &flag))
		return zerr_set(e, -EINVAL, "resume token: the nvlist header is cut short");
	for (unsigned n = 0;; n++) {
		size_t start = r->off;
		uint32_t esize, dsize;
		if (!rd_u32(r, &esize) || !rd_u32(r, &dsize))
			return zerr_set(e, -EINVAL, "resume token: the nvlist has no end");
		if (esize == 0 && dsize == 0)
			break;
		if (n >= 64)
			return zerr_set(e, -EINVAL, "resume token: too many keys");
		if (esize < 20 || esize % 4 || esize > r->len - start)
			return zerr_set(e, -EINVAL, "resume token: a key has a bad size");
		struct rd pr = {r->p, start + esize, r->off, false}; /* this pair only */
		struct pair p = {0};
		if (!xdr_str(&pr, &p.name, &p.name_len) || !p.name_len ||
		    memchr(p.name, '\0', p.name_len) || !rd_u32(&pr, &p.type) ||
		    !rd_u32(&pr, &p.nelem))
			return zerr_set(e, -EINVAL, "resume token: a key has a bad name");
		if (p.type == NV_UINT64 && p.nelem == 1 && !rd_u64(&pr, &p.u64))
			return zerr_set(e, -EINVAL, "resume token: a number is cut short");
		if (p.type == NV_STRING && p.nelem == 1 && !xdr_str(&pr, &p.str, &p.str_len))
			return zerr_set(e, -EINVAL, "resume token: a string is cut short");
		int rc = store(t, &p, &seen, e);
		if (rc < 0)
			return rc;
		r->off = start + esize;
	}
	if (r->off != r->len)
		return zerr_set(e, -EINVAL, "resume token: bytes after the nvlist");
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A hex number of 1..16 digits ending at '-'; advances *s past the '-'. */
static bool hex_field(const char **s, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0;
	for (; **s && **s != '-'; (*s)++, n++) {
		int d = hexval(**s);
		if (d < 0 || n >= 16)
			return false;
		x = x << 4 | (uint64_t)d;
	}
	if (**s != '-' || n == 0)
		return false;
	(*s)++;
	*v = x;
	return true;
}

int token_decode(const char *text, struct token *t, struct zerr *e)
{
	memset(t, 0, sizeof(*t));
	size_t tlen = strnlen(text, TOKEN_TEXT_MAX + 1);
	if (tlen > TOKEN_TEXT_MAX)
		return zerr_set(e, -EINVAL, "resume token: longer than %d characters",
		                TOKEN_TEXT_MAX);
	const char *s = text;
	uint64_t version, cksum, packed_len;
	if (!hex_field(&s, &version) || !hex_field(&s, &cksum) || !hex_field(&s, &packed_len))
		return zerr_set(e, -EINVAL,
		                "resume token: not <version>-<checksum>-<length>-<data>");
	if (version != 1)
		return zerr_set(e, -EINVAL, "resume token: version %llu, only 1 is known",
		                (unsigned long long)version);
	if (packed_len < 4 || packed_len > TOKEN_PACKED_MAX)
		return zerr_set(e, -EINVAL, "resume token: an unpacked length of %llu bytes",
		                (unsigned long long)packed_len);
	size_t hlen = strlen(s);
	if (hlen == 0 || hlen % 2)
		return zerr_set(e, -EINVAL, "resume token: the data is not whole bytes of hex");
	size_t clen = hlen / 2;
	unsigned char *comp = xmalloc(clen), *packed = xmalloc(packed_len);
	int r = 0;
	uint64_t sum_le = 0, sum_be = 0;
	for (size_t i = 0; i < clen; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			r = zerr_set(e, -EINVAL, "resume token: the data is not hex");
			goto out;
		}
		comp[i] = (unsigned char)(hi << 4 | lo);
	}
	/* fletcher4's first word: the sum of the whole 32-bit words, in the
	 * writer's byte order (not a defence: anyone can compute it, but a
	 * token cut or garbled in transit is caught here) */
	for (size_t i = 0; i + 4 <= clen; i += 4) {
		sum_le += (uint32_t)comp[i] | (uint32_t)comp[i + 1] << 8 |
		          (uint32_t)comp[i + 2] << 16 | (uint32_t)comp[i + 3] << 24;
		sum_be += (uint32_t)comp[i + 3] | (uint32_t)comp[i + 2] << 8 |
		          (uint32_t)comp[i + 1] << 16 | (uint32_t)comp[i] << 24;
	}
	if (cksum != sum_le && cksum != sum_be) {
		r = zerr_set(e, -EINVAL, "resume token: checksum mismatch");
		goto out;
	}
	uLongf out_len = (uLongf)packed_len;
	if (uncompress(packed, &out_len, comp, (uLong)clen) != Z_OK || out_len != packed_len) {
		r = zerr_set(e, -EINVAL, "resume token: the data does not unpack to %llu bytes",
		             (unsigned long long)packed_len);
		goto out;
	}
	/* nvs_header_t: encoding (0 native, 1 XDR), byte order (1 little), 2 reserved */
	struct rd rd = {packed, packed_len, 4, packed[1] == 1};
	if (packed[0] == 0 && packed[1] <= 1) {
		r = decode_native(&rd, t, e);
	} else if (packed[0] == 1) {
		rd.le = false;
		r = decode_xdr(&rd, t, e);
	} else {
		r = zerr_set(e, -EINVAL, "resume token: unknown nvlist encoding %u/%u", packed[0],
		             packed[1]);
	}
	if (r == 0 && (!t->toname[0] || !t->toguid))
		r = zerr_set(e, -EINVAL, "resume token: no toname or toguid");
out:
	free(comp);
	free(packed);
	if (r < 0)
		memset(t, 0, sizeof(*t));
	return r;
}

int token_check(const struct token *t, const struct token_expect *x, struct zerr *e)
{
	size_t dl = strlen(x->dataset);
	if (strncmp(t->toname, x->dataset, dl) || t->toname[dl] != '@' || !t->toname[dl + 1])
		return zerr_set(e, -EPERM, "the token names '%s', not a snapshot of '%s'",
		                t->toname, x->dataset);
	const struct zfs_obj *to = NULL, *base = NULL;
	for (size_t i = 0; i < x->n_snaps; i++) {
		if (!strcmp(x->snaps[i]->name, t->toname))
			to = x->snaps[i];
		if (x->target_newest_guid && x->snaps[i]->guid == x->target_newest_guid)
			base = x->snaps[i];
	}
	for (size_t i = 0; i < x->n_marks && x->target_newest_guid && !base; i++)
		if (x->marks[i]->guid == x->target_newest_guid)
			base = x->marks[i];
	if (!to)
		return zerr_set(e, -EPERM, "the token names '%s', which the source does not have",
		                t->toname);
	if (to->guid != t->toguid)
		return zerr_set(e, -EPERM, "the token's guid %llu is not that of '%s'",
		                (unsigned long long)t->toguid, t->toname);
	if (x->target_newest_guid) {
		if (!base)
			return zerr_set(e, -EPERM,
			                "the target's newest snapshot is not on the source");
		if (to->createtxg <= base->createtxg)
			return zerr_set(e, -EPERM,
			                "the token names '%s', not newer than the target's",
			                t->toname);
		if (!(t->flags & TOKEN_HAS_FROMGUID) || t->fromguid != x->target_newest_guid)
			return zerr_set(e, -EPERM,
			                "the token's base is not the target's newest snapshot");
	} else if (t->flags & TOKEN_HAS_FROMGUID) {
		return zerr_set(e, -EPERM, "the token is incremental, the target has no snapshot");
	}
	if (!(t->flags & TOKEN_RAW) != !x->raw)
		return zerr_set(e, -EPERM,
		                x->raw ? "the token is not of a raw send, the job is raw"
		                       : "the token is of a raw send, the job is not");
	if (t->flags & TOKEN_SAVED)
		return zerr_set(e, -EPERM, "the token is of a saved send (savedok)");
	if (t->unknown[0])
		return zerr_set(e, -EPERM, "the token has a key zkeep does not resume: '%s'",
		                t->unknown);
	return 0;
}
