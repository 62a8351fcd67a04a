/*
 * support.h -- helpers shared by the cmocka tests.
 *
 * Include after <cmocka.h> (which needs <stdarg.h>, <stddef.h>, <setjmp.h>
 * and <stdint.h> before it; this header includes them in that order).
 */
#ifndef CMR_TEST_SUPPORT_H
#define CMR_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cmr/error.h"

/*
 * assert_cmr_ok(expr, &err): expr must return 0; on failure prints the
 * error's code and message (libgit2's cl_git_pass).
 */
#define assert_cmr_ok(expr, errp) \
	cmr_test_check_ok((expr), (errp), #expr, __FILE__, __LINE__)

/* assert_cmr_fails_with(code, expr, &err): expr must return `code`. */
#define assert_cmr_fails_with(code, expr, errp) \
	cmr_test_check_fails((code), (expr), (errp), #expr, __FILE__, __LINE__)

void cmr_test_check_ok(int rc, const struct cmr_error *err, const char *expr,
                       const char *file, int line);
void cmr_test_check_fails(int want, int rc, const struct cmr_error *err,
                          const char *expr, const char *file, int line);

/*
 * Reads a whole file into a NUL-terminated heap string (free with
 * cmr_free).  A path not starting with '/' is taken relative to
 * CMR_TEST_FIXTURES.  Fails the test if the file cannot be read.
 */
char *cmr_test_read_file(const char *path, size_t *len_out);

/*
 * Makes a fresh temporary directory and returns its path (free with
 * cmr_free); cmr_test_rmtree removes it and its contents.
 */
char *cmr_test_mkdtemp(void);
void cmr_test_rmtree(const char *path);

/*
 * Allocation failure injection (jansson's test_chaos): after
 * cmr_test_fail_alloc_after(n), the first n allocations through cmr_alloc
 * succeed and every later one fails, until cmr_test_alloc_reset().
 * cmr_test_alloc_count() is the number of allocations attempted since the
 * last reset.
 */
void cmr_test_fail_alloc_after(long n);
void cmr_test_alloc_reset(void);
long cmr_test_alloc_count(void);

#endif
