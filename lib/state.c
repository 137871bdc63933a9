#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "banned.h"

int state_write_atomic(const char *path, const void *data, size_t len, mode_t mode, struct zerr *e)
{
	struct buf tmp = BUF_INIT;
	const char *p = data;
	int fd = -1, r = 0;

	buf_addf(&tmp, "%s.tmp.XXXXXX", path);
	fd = mkstemp(tmp.s);
	if (fd < 0) {
		r = zerr_set(e, -errno, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = zerr_set(e, -errno, "cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		r = zerr_set(e, -errno, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = zerr_set(e, -errno, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.s, path) < 0)
		r = zerr_set(e, -errno, "cannot replace '%s': %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp.len)
		unlink(tmp.s);
	buf_free(&tmp);
	return r;
}
