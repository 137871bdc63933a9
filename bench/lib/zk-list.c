/*
 * zk-list: zkeep's snapshot listing of a pull's source side, alone, for
 * bench/listing (issue 22). It does what lib/replicate.c's list_fast does
 * for the source when every dataset may have changed: the argv from
 * zfs_list_argv(snapshot|bookmark, SNAP_COLS, recursive, ROOT...), one
 * zfs_run on the local host (lib/proc.c: fixed PATH, LC_ALL=C, output
 * read from a pipe), then zfs_list_parse of the text with the same
 * columns. Nothing else: no probe, no dataset listing.
 *
 *   zk-list ROOT...
 * Prints "BYTES ROWS" (the listing's bytes and the rows parsed) on stdout;
 * with ZK_LIST_ECHO=1 in the environment, the listing's text instead.
 * Exit 0, or 1 with the library's message.
 *
 * Built by bench/listing against build/libzkeep.a; it is bench code, not
 * part of zkeep.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "zfs.h"

/* lib/replicate.c's SNAP_COLS */
#define SNAP_COLS (ZFS_COL_SHORT | ZFS_COL_NOTYPE)

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("usage: zk-list ROOT...\n", stderr);
		return 2;
	}
	struct host h;
	struct strvec av = STRVEC_INIT;
	struct buf out = BUF_INIT;
	struct zerr e = ZERR_INIT;
	struct zfs_list l;
	const char *echo = getenv("ZK_LIST_ECHO");

	host_init_local(&h);
	zfs_list_argv(&av, ZFS_TYPE_SNAPSHOT | ZFS_TYPE_BOOKMARK, SNAP_COLS, true,
	              (const char *const *)argv + 1);
	int r = zfs_run(&h, (const char *const *)av.v, &out, ZFS_OUTPUT_MAX, 300000, &e);
	if (r == 0 && echo && !strcmp(echo, "1"))
		fwrite(out.s, 1, out.len, stdout);
	if (r == 0)
		r = zfs_list_parse(&l, out.s, out.len, SNAP_COLS, &e);
	if (r < 0) {
		fprintf(stderr, "zk-list: %s\n", e.msg);
		return 1;
	}
	if (!(echo && !strcmp(echo, "1")))
		printf("%zu %zu\n", out.len, l.n);
	zfs_list_free(&l);
	strvec_clear(&av);
	buf_free(&out);
	return 0;
}
