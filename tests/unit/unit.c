#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

static void fixture_path(const char *rel, struct buf *path)
{
	const char *root = getenv("ZKEEP_FIXTURES");
	buf_addf(path, "%s/%s", root ? root : "tests/fixtures", rel);
}

int fixture_exists(const char *rel)
{
	struct buf path = BUF_INIT;
	fixture_path(rel, &path);
	FILE *f = fopen(path.s, "r");
	buf_free(&path);
	if (f)
		fclose(f);
	return f != NULL;
}

void fixture_read(const char *rel, struct buf *b)
{
	struct buf path = BUF_INIT;
	fixture_path(rel, &path);
	FILE *f = fopen(path.s, "r");
	if (!f)
		fail_msg("missing fixture %s (run tests/fixtures/capture)", path.s);
	char tmp[8192];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(b, tmp, n);
	fclose(f);
	buf_free(&path);
}
