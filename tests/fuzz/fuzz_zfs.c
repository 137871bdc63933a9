/*
 * libFuzzer target: every zfs/zpool output parser on arbitrary bytes.
 * A parse either fails with a message or yields a model whose strings are
 * valid names; it never crashes, leaks or reads out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *t = (const char *)data;
	struct zerr e = ZERR_INIT;
	struct zfs_list l;
	for (unsigned sc = 0; sc < 4; sc++) {
		if (zfs_list_parse(&l, t, size, sc, &e) == 0) {
			for (size_t i = 0; i < l.n; i++)
				if (zfs_name_check(l.v[i].name, l.v[i].type, NULL) != 0)
					abort(); /* the parser let an invalid name through */
			zfs_list_free(&l);
		}
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
