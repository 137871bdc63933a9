/*
 * libFuzzer target: every zfs/zpool output parser on arbitrary bytes.
 * A parse either fails with a message or yields a model whose strings are
 * valid names; it never crashes, leaks or reads out of bounds. The listing
 * read in pieces (zfs_list_reader, cut where the first byte says) gives
 * the same rows, or the same error, as the whole parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reader fed t in pieces of k bytes must agree with whole (r). */
static void same_in_pieces(const char *t, size_t size, unsigned cols, size_t k, int r,
                           const struct zerr *we, const struct zfs_list *whole)
{
	struct zfs_list l;
	struct zfs_list_reader rd;
	struct zerr e = ZERR_INIT;
	zfs_list_reader_init(&rd, &l, cols);
	for (size_t off = 0; off < size; off += k) {
		size_t n = size - off < k ? size - off : k;
		char *piece = malloc(n ? n : 1);
		memcpy(piece, t + off, n);
		zfs_list_reader_feed(&rd, piece, n, &e);
		free(piece);
	}
	int r2 = zfs_list_reader_end(&rd, &e);
	if (r2 != r)
		abort(); /* one succeeded, or they failed differently */
	/* the NUL check comes first in the whole parse only */
	if (r < 0 && strcmp(e.msg, we->msg) && !memchr(t, '\0', size))
		abort();
	if (r < 0)
		return;
	if (l.n != whole->n)
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (strcmp(l.v[i].name, whole->v[i].name) || l.v[i].guid != whole->v[i].guid ||
		    l.v[i].used != whole->v[i].used || l.v[i].type != whole->v[i].type)
			abort();
	zfs_list_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct zerr e = ZERR_INIT;
	struct zfs_list l;
	for (unsigned sc = 0; sc < 4; sc++) {
		int r = zfs_list_parse(&l, t, size, sc, &e);
		if (r == 0)
			for (size_t i = 0; i < l.n; i++)
				if (zfs_name_check(l.v[i].name, l.v[i].type, NULL) != 0)
					abort(); /* the parser let an invalid name through */
		if (size <= ZFS_LINE_MAX)        /* an over-long line may be cut differently */
			same_in_pieces(t, size, sc, size ? (size_t)data[0] % 64 + 1 : 1, r, &e, &l);
		if (r == 0)
			zfs_list_free(&l);
	}
	struct zpool_list p;
	if (zpool_list_parse(&p, t, size, &e) == 0)
		zpool_list_free(&p);
	struct zfs_props pr;
	if (zfs_props_parse(&pr, t, size, &e) == 0)
		zfs_props_free(&pr);
	struct zfs_holds h;
	if (zfs_holds_parse(&h, t, size, &e) == 0)
		zfs_holds_free(&h);
	struct zpool_status s;
	if (zpool_status_parse(&s, t, size, &e) == 0)
		zpool_status_free(&s);
	struct zfs_caps c;
	(void)zfs_version_parse(&c, t, size, &e);
	char *name = strndup(t, size);
	(void)zfs_name_check(name, ZFS_TYPE_DATASET | ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, &e);
	free(name);
	return 0;
}
