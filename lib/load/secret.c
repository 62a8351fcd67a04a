/*
 * secret.c -- reading what a secret reference points at.
 *
 * The desired-state file never holds a secret, only where to find it:
 * {env: NAME} or {file: PATH}.  plan and apply resolve the reference when
 * they need the value (to compare it with the record kept in CM, or to
 * write it).  The value goes into a caller-owned buffer and nowhere else:
 * no message here ever contains it.
 *
 * A secret file usually ends in a newline because editors and `echo` add
 * one; exactly one is dropped (cmr_secret_trim_newline), so a secret that
 * really ends in a newline can still be written with two.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmr/load.h"

#define SECRET_MAX ((size_t)1 << 20)

static int read_secret_file(struct cmr_buf *out, const char *path,
                            struct cmr_error *err)
{
	struct stat sb;
	size_t start = out->len;
	char chunk[4096];
	int fd;
	int error = CMR_ERROR;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cmr_error_set(
		        err, errno == ENOENT ? CMR_ENOTFOUND : CMR_ERROR,
		        "cannot open secret file '%s': %s", path,
		        strerror(errno));
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		error = cmr_error_set(err, CMR_ERROR,
		                      "secret file '%s' is a directory", path);
		goto done;
	}
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			error = cmr_error_set(
			        err, CMR_ERROR,
			        "cannot read secret file '%s': %s", path,
			        strerror(errno));
			goto done;
		}
		if (got == 0)
			break;
		if (out->len - start + (size_t)got > SECRET_MAX) {
			error = cmr_error_set(
			        err, CMR_ERROR,
			        "secret file '%s' is larger than 1 MiB", path);
			goto done;
		}
		if (cmr_buf_add(out, chunk, (size_t)got) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM,
			                      "out of memory reading '%s'",
			                      path);
			goto done;
		}
	}
	/* CM's values are text: a NUL byte would end the secret early
	 * wherever it is handled as a C string. */
	if (memchr(out->ptr + start, '\0', out->len - start)) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "secret file '%s' holds a NUL byte; a "
		                      "secret must be text",
		                      path);
		goto done;
	}
	cmr_buf_truncate(out,
	                 start + cmr_secret_trim_newline(out->ptr + start,
	                                                 out->len - start));
	error = 0;

done:
	/* The chunk held part of the secret. */
	memset(chunk, 0, sizeof(chunk));
	if (error < 0 && out->len > start) {
		memset(out->ptr + start, 0, out->len - start);
		cmr_buf_truncate(out, start);
	}
	close(fd);
	return error;
}

int cmr_secret_resolve(struct cmr_buf *out, const struct cmr_value *v,
                       struct cmr_error *err)
{
	const char *s;

	switch (v->kind) {
	case CMR_VALUE_ENV:
		s = getenv(v->text);
		if (!s)
			return cmr_error_set(
			        err, CMR_ENOTFOUND,
			        "environment variable '%s' (a secret reference) is not set",
			        v->text);
		if (cmr_buf_adds(out, s) < 0)
			return cmr_error_set(err, CMR_ENOMEM, "out of memory");
		return 0;
	case CMR_VALUE_FILE:
		return read_secret_file(out, v->text, err);
	case CMR_VALUE_TEXT:
	case CMR_VALUE_RESET:
		break;
	}
	return cmr_error_set(err, CMR_EINVAL, "not a secret reference");
}
