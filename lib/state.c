/* Files zkeep writes for others and reads back (state.h): atomic
 * whole-file writes, and careful reads of its state and log directories. */
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

int state_open_read(int dirfd, const char *name, off_t max, off_t *size, struct zerr *e)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return zerr_set(e, -errno, "cannot open '%s': %s", name, strerror(errno));
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = zerr_set(e, -errno, "cannot read '%s': %s", name, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = zerr_set(e, -EINVAL, "cannot read '%s': not a regular file", name);
	else if (st.st_size > max)
		r = zerr_set(e, -EFBIG, "cannot read '%s': larger than %lld bytes", name,
		             (long long)max);
	if (r < 0) {
		close(fd);
		return r;
	}
	if (size)
		*size = st.st_size;
	return fd;
}

int state_load_json(int dirfd, const char *name, off_t max, json_t **out, struct zerr *e)
{
	*out = NULL;
	int fd = state_open_read(dirfd, name, max, NULL, e);
	if (fd < 0)
		return fd;
	/* at most max bytes, whatever the file grows to while it is read */
	struct buf b = BUF_INIT;
	char chunk[65536];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && (off_t)b.len <= max)
		buf_add(&b, chunk, (size_t)n);
	int err = errno;
	close(fd);
	if (n < 0 || (off_t)b.len > max) {
		int r = n < 0 ? zerr_set(e, -err, "cannot read '%s': %s", name, strerror(err))
		              : zerr_set(e, -EFBIG, "cannot read '%s': larger than %lld bytes",
		                         name, (long long)max);
		buf_free(&b);
		return r;
	}
	json_error_t je;
	*out = json_loadb(b.s, b.len, JSON_REJECT_DUPLICATES, &je);
	buf_free(&b);
	if (!*out)
		return zerr_set(e, -EBADMSG, "cannot read '%s': line %d: %s", name, je.line,
		                je.text);
	return 0;
}
