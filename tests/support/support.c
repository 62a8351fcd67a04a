/*
 * support.c -- shared test helpers: assertions that print the library's
 * error message, fixture loading, temporary directories and allocation
 * failure injection.
 */
#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"

void cmr_test_check_ok(int rc, const struct cmr_error *err, const char *expr,
                       const char *file, int line)
{
	if (rc == 0)
		return;
	print_error("%s:%d: %s returned %d (%s): %s\n", file, line, expr, rc,
	            cmr_code_name(rc), err ? err->msg : "(no error struct)");
	_fail(file, line);
}

void cmr_test_check_fails(int want, int rc, const struct cmr_error *err,
                          const char *expr, const char *file, int line)
{
	if (rc == want)
		return;
	print_error("%s:%d: %s returned %d (%s), expected %d (%s): %s\n", file,
	            line, expr, rc, cmr_code_name(rc), want,
	            cmr_code_name(want), err ? err->msg : "(no error struct)");
	_fail(file, line);
}

char *cmr_test_read_file(const char *path, size_t *len_out)
{
	struct cmr_buf full = CMR_BUF_INIT;
	struct cmr_buf b = CMR_BUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *f;

	if (path[0] == '/')
		cmr_buf_adds(&full, path);
	else
		cmr_buf_addf(&full, "%s/%s", CMR_TEST_FIXTURES, path);
	f = fopen(full.ptr, "rb");
	if (!f) {
		print_error("cannot open fixture '%s'\n", full.ptr);
		cmr_buf_release(&full);
		fail();
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cmr_buf_add(&b, chunk, n);
	fclose(f);
	cmr_buf_release(&full);
	assert_int_equal(cmr_buf_error(&b), 0);
	return cmr_buf_detach(&b, len_out);
}

char *cmr_test_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	struct cmr_buf b = CMR_BUF_INIT;

	cmr_buf_addf(&b, "%s/cmr-test-XXXXXX", base && *base ? base : "/tmp");
	assert_int_equal(cmr_buf_error(&b), 0);
	assert_non_null(mkdtemp(b.ptr));
	return cmr_buf_detach(&b, NULL);
}

void cmr_test_rmtree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		unlink(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct cmr_buf p = CMR_BUF_INIT;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		cmr_buf_addf(&p, "%s/%s", path, e->d_name);
		if (lstat(p.ptr, &st) == 0 && S_ISDIR(st.st_mode))
			cmr_test_rmtree(p.ptr);
		else
			unlink(p.ptr);
		cmr_buf_release(&p);
	}
	closedir(d);
	rmdir(path);
}

/* --- allocation failure injection ------------------------------------- */

static long alloc_budget = -1; /* -1: unlimited */
static long alloc_count;

static void *failing_malloc(size_t n)
{
	alloc_count++;
	if (alloc_budget >= 0 && alloc_count > alloc_budget)
		return NULL;
	return malloc(n);
}

static void *failing_realloc(void *p, size_t n)
{
	alloc_count++;
	if (alloc_budget >= 0 && alloc_count > alloc_budget)
		return NULL;
	return realloc(p, n);
}

static const struct cmr_alloc_hooks failing_hooks = { failing_malloc,
	                                              failing_realloc, free };

void cmr_test_fail_alloc_after(long n)
{
	alloc_budget = n;
	alloc_count = 0;
	cmr_alloc_set_hooks(&failing_hooks);
}

void cmr_test_alloc_reset(void)
{
	alloc_budget = -1;
	cmr_alloc_set_hooks(NULL);
}

long cmr_test_alloc_count(void)
{
	return alloc_count;
}
