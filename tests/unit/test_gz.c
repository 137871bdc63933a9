#include "unit.h"

#include <string.h>
#include <zlib.h>

#include "gz.h"

/* The gzip of prefix + tail as gz_prefix_build and gz_finish make it,
 * read back by zlib's own gzip reader (which checks CRC and length). */
static void round_trip(const char *prefix, size_t plen, const char *tail, size_t tlen)
{
	struct gz_prefix p;
	gz_prefix_init(&p);
	assert_int_equal(gz_prefix_build(&p, prefix, plen), 0);
	struct buf body = BUF_INIT;
	buf_add(&body, p.z.s, p.z.len);
	gz_finish(&p, tail, tlen, &body);

	z_stream z = {0};
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK); /* gzip only */
	size_t want = plen + tlen;
	char *out = malloc(want + 1);
	assert_non_null(out);
	z.next_in = (Bytef *)body.s;
	z.avail_in = (uInt)body.len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)want + 1;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, want);
	assert_int_equal(z.avail_in, 0); /* one member, nothing after it */
	assert_memory_equal(out, prefix, plen);
	assert_memory_equal(out + plen, tail, tlen);
	inflateEnd(&z);
	free(out);
	buf_free(&body);
	gz_prefix_free(&p);
}

static void test_gz_round_trip(void **state)
{
	(void)state;
	const char *m = "# HELP zfs_pool_health x\n# TYPE zfs_pool_health gauge\n"
	                "zfs_pool_health{hostname=\"h\",pool=\"tank\"} 0\n";
	round_trip(m, strlen(m), "zkeep_api_view_age_seconds 3\n", 29);
	round_trip(m, strlen(m), "", 0); /* no tail: an empty final block */
	round_trip("", 0, m, strlen(m)); /* no prefix: only stored blocks */
	round_trip("", 0, "", 0);
}

static void test_gz_large(void **state)
{
	(void)state;
	/* a prefix of several deflate blocks, a tail over one stored block's
	 * 65535 bytes, and bytes of every value */
	size_t plen = 3 * 1024 * 1024, tlen = 200000;
	char *a = malloc(plen), *b = malloc(tlen);
	assert_non_null(a);
	assert_non_null(b);
	unsigned x = 12345;
	for (size_t i = 0; i < plen; i++) {
		x = x * 1103515245u + 12345u;
		a[i] = i % 7 ? (char)('a' + (i / 97) % 26) : (char)(x >> 16);
	}
	for (size_t i = 0; i < tlen; i++)
		b[i] = (char)(i * 31);
	round_trip(a, plen, b, tlen);
	round_trip(a, plen, b, 65535); /* exactly one full stored block */
	round_trip(a, plen, b, 65536);
	free(a);
	free(b);
}

static void test_gz_compresses(void **state)
{
	(void)state;
	/* what the prefix is for: /metrics text shrinks several times */
	struct buf m = BUF_INIT;
	for (int i = 0; i < 2000; i++)
		buf_addf(&m,
		         "zfs_snapshot_count{hostname=\"backup1\",pool=\"tank\","
		         "dataset=\"home/u%04d\"} %d\n",
		         i, i * 7 % 101);
	struct gz_prefix p;
	gz_prefix_init(&p);
	assert_int_equal(gz_prefix_build(&p, m.s, m.len), 0);
	assert_true(p.z.len * 5 < m.len);
	assert_int_equal(p.size, m.len);
	assert_int_equal(p.z.cap, p.z.len + 1); /* kept with the view: no slack */
	gz_prefix_free(&p);
	assert_int_equal(p.z.len, 0);
	buf_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_gz_round_trip),
	    cmocka_unit_test(test_gz_large),
	    cmocka_unit_test(test_gz_compresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
