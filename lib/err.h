/*
 * Errors: a library function returns 0 on success or a negative errno value
 * (-EINVAL, -ENOENT, -EIO, -ETIMEDOUT, -E2BIG, ...) and, when it fails, fills
 * a struct zerr with a message for humans. Messages are lowercase, with no
 * full stop, and quote their subject: "cannot open 'x': no such file".
 * Only cmd/ decides what an error means for the exit code.
 */
#ifndef ZK_ERR_H
#define ZK_ERR_H

#define ZERR_MSG_MAX 1024

struct zerr {
	int code; /* the negative errno of the last failure, or 0 */
	/* What a failed command's stderr said, as a code of the module that
	 * read it (lib/zfs.h's enum zfs_err for zfs), so that callers test a
	 * code rather than search the message; 0: nothing known. zerr_set
	 * clears it, zerr_prefix keeps it. */
	int kind;
	char msg[ZERR_MSG_MAX]; /* NUL-terminated; "..." marks a cut message */
};

#define ZERR_INIT                                                                                  \
	{                                                                                          \
		0, 0, ""                                                                           \
	}

/* Sets e (which may be NULL) and returns code, so callers can
 * `return zerr_set(e, -EINVAL, "...")`. code must be negative. */
int zerr_set(struct zerr *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in e with "prefix: ", keeping the code. */
int zerr_prefix(struct zerr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
