#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

pid_t unit_seed_job(const char *lockfile, const char *hold, char *said, size_t n)
{
	int p[2];
	if (pipe(p) < 0)
		fail_msg("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl("tests/helpers/seed/zfs-pull-backups", "zfs-pull-backups", lockfile, hold,
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	while (got < n - 1 && read(p[0], said + got, 1) == 1 && said[got] != '\n')
		got++;
	said[got] = '\0';
	close(p[0]);
	return pid;
}
