/*
 * load.c -- the loader's entry points: read files, run the two passes
 * (parse.c, schema.c), merge into one state.
 *
 * A file that cannot be read at all (missing, a directory, no permission)
 * is a failure of the call, reported through `err`: the user named the
 * wrong thing, and the CLI answers that with exit 64.  Everything about a
 * file's content is a diagnostic instead, so all of it is shown at once.
 */
#include "cmr/load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/suggest.h"

#include "load_int.h"

/* ----------------------------------------------------------------------
 * Diagnostics and suggestions
 */

void ld_error(struct ld *ld, const struct cmr_mark *where, const char *fmt, ...)
{
	struct cmr_mark start = { ld->file, 1, 1 };
	char msg[768];
	va_list ap;

	if (ld->stopped)
		return;
	if (ld->errors >= CMR_LOAD_MAX_ERRORS) {
		if (cmr_diag_add(
		            ld->diags, CMR_DIAG_ERROR, where ? where : &start,
		            "too many problems (more than %d); stopping here",
		            CMR_LOAD_MAX_ERRORS) < 0)
			ld->oom = true;
		ld->stopped = true;
		return;
	}
	va_start(ap, fmt);
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): started above */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->errors++;
	if (cmr_diag_add(ld->diags, CMR_DIAG_ERROR, where ? where : &start,
	                 "%s", msg) < 0)
		ld->oom = true;
}

/* "Did you mean": the closest of the candidates, by lib/base's rule. */
const char *ld_suggest(const char *word, const char *const *candidates)
{
	struct cmr_suggest sg;
	size_t i;

	cmr_suggest_init(&sg, word);
	for (i = 0; candidates[i]; i++)
		cmr_suggest_offer(&sg, candidates[i]);
	return sg.n ? sg.names[0] : NULL;
}

/* ----------------------------------------------------------------------
 * One file
 */

/* The directory part of a path, with its final '/', or "". */
static const char *dir_of(struct cmr_state *st, const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return "";
	return cmr_arena_strndup(&st->arena, name, (size_t)(slash - name) + 1);
}

int cmr_load_buffer(struct cmr_state *st, const char *name, const char *data,
                    size_t len, struct cmr_diag_list *diags,
                    struct cmr_error *err)
{
	struct cmr_mark start;
	struct node *root = NULL;
	struct ld ld;
	int error = CMR_ENOMEM;

	/* libyaml wants a pointer even for no input. */
	if (!data)
		data = "";
	memset(&ld, 0, sizeof(ld));
	cmr_arena_init(&ld.tmp);
	ld.st = st;
	ld.diags = diags;
	/* Marks in the state point at this copy, which lives as long as
	 * the state. */
	ld.file = cmr_state_strdup(st, name);
	ld.dir = ld.file ? dir_of(st, ld.file) : NULL;
	if (!ld.file || !ld.dir)
		goto done;
	start.file = ld.file;
	start.line = 1;
	start.col = 1;

	if (len > CMR_LOAD_MAX_FILE_SIZE) {
		ld_error(
		        &ld, &start,
		        "file is larger than %zu MiB; desired-state files are limited to that",
		        CMR_LOAD_MAX_FILE_SIZE >> 20);
	} else if (ld_parse(&root, &ld, data, len) < 0) {
		goto done;
	} else if (root) {
		ld_schema(&ld, root);
	} else if (ld.errors == 0) {
		ld_error(
		        &ld, &start,
		        "empty file; a desired-state file starts with 'version: %d'",
		        CMR_FORMAT_VERSION);
	}
	if (ld.oom || diags->oom)
		goto done;
	error = 0;
	if (ld.errors > 0)
		error = cmr_error_set(err, CMR_EINVAL, "%zu problem%s in '%s'",
		                      ld.errors, ld.errors == 1 ? "" : "s",
		                      name);

done:
	if (error == CMR_ENOMEM)
		cmr_error_set(err, CMR_ENOMEM, "out of memory loading '%s'",
		              name);
	cmr_arena_release(&ld.tmp);
	return error;
}

/*
 * Makes room in *data for more bytes, doubling up to `cap`.  Returns 1 when
 * there is room, 0 when the buffer is already at the cap (the file is too
 * big: the caller reports that), CMR_ENOMEM.
 */
static int grow_buffer(char **data, size_t *alloc, size_t cap)
{
	size_t n = *alloc ? *alloc * 2 : 65536;
	char *bigger;

	if (n > cap)
		n = cap;
	if (n == *alloc)
		return 0;
	bigger = cmr_realloc(*data, n);
	if (!bigger)
		return CMR_ENOMEM;
	*data = bigger;
	*alloc = n;
	return 1;
}

/*
 * Reads a whole file, refusing to read more than the size limit plus one
 * byte (enough to know it is too big, without reading gigabytes).
 */
static int read_file(char **out, size_t *out_len, const char *path,
                     struct cmr_error *err)
{
	struct stat sb;
	size_t len = 0;
	size_t alloc = 0;
	char *data = NULL;
	int fd;
	int error = CMR_ERROR;

	*out = NULL;
	*out_len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cmr_error_set(
		        err, errno == ENOENT ? CMR_ENOTFOUND : CMR_ERROR,
		        "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		error = cmr_error_set(err, CMR_ERROR,
		                      "cannot read '%s': it is a directory",
		                      path);
		goto done;
	}
	for (;;) {
		ssize_t got;

		if (len == alloc) {
			int room = grow_buffer(&data, &alloc,
			                       CMR_LOAD_MAX_FILE_SIZE + 1);

			if (room == 0)
				break;
			if (room < 0) {
				error = cmr_error_set(
				        err, CMR_ENOMEM,
				        "out of memory reading '%s'", path);
				goto done;
			}
		}
		got = read(fd, data + len, alloc - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			error = cmr_error_set(err, CMR_ERROR,
			                      "cannot read '%s': %s", path,
			                      strerror(errno));
			goto done;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	*out = data;
	*out_len = len;
	data = NULL;
	error = 0;

done:
	cmr_free(data);
	close(fd);
	return error;
}

int cmr_load_file(struct cmr_state *st, const char *path,
                  struct cmr_diag_list *diags, struct cmr_error *err)
{
	char *data = NULL;
	size_t len = 0;
	int error;

	error = read_file(&data, &len, path, err);
	if (error < 0)
		return error;
	error = cmr_load_buffer(st, path, data, len, diags, err);
	cmr_free(data);
	return error;
}

/* ----------------------------------------------------------------------
 * Several files
 */

int cmr_load_files(struct cmr_state **out, const char *const *files, size_t n,
                   struct cmr_diag_list *diags, struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	size_t i;
	size_t before = diags->errors;
	size_t problems;
	int error;

	*out = NULL;
	if (n == 0)
		return cmr_error_set(err, CMR_EINVAL, "no desired-state file");
	error = cmr_state_new(&st, CMR_STATE_DESIRED, err);
	if (error < 0)
		return error;
	for (i = 0; i < n; i++) {
		struct cmr_error one = CMR_ERROR_INIT;

		/* Per-file problems are in diags; keep going so every file's
		 * problems are shown in one run. */
		error = cmr_load_file(st, files[i], diags, &one);
		if (error < 0 && error != CMR_EINVAL) {
			cmr_error_set(err, error, "%s", one.msg);
			goto done;
		}
	}
	problems = diags->errors - before;
	if (problems > 0) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "%zu problem%s in the desired state",
		                      problems, problems == 1 ? "" : "s");
		goto done;
	}
	*out = st;
	st = NULL;
	error = 0;

done:
	cmr_state_free(st);
	return error;
}
