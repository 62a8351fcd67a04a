/*
 * alloc.h -- the allocation hooks every allocation of lib/ goes through.
 *
 * lib/ never calls malloc directly: it calls cmr_malloc and friends, which
 * forward to replaceable hooks.  Tests install hooks that fail the Nth
 * allocation (tests/unit/test_chaos.c) to prove that every out-of-memory
 * path returns CMR_ENOMEM and leaks nothing.  Third-party libraries (json-c,
 * libyaml, libcurl) allocate on their own and are not covered.
 */
#ifndef CMR_ALLOC_H
#define CMR_ALLOC_H

#include <stddef.h>

#include "cmr/common.h"

struct cmr_alloc_hooks {
	void *(*malloc_fn)(size_t size);
	void *(*realloc_fn)(void *ptr, size_t size);
	void (*free_fn)(void *ptr);
};

/*
 * Replaces the hooks; NULL restores the libc ones.  Not thread-safe: call it
 * before any other cmrecon function, or from a single-threaded test.
 */
void cmr_alloc_set_hooks(const struct cmr_alloc_hooks *h);

/* Like malloc/calloc/realloc/free; NULL on failure (and on overflow). */
void *cmr_malloc(size_t size);
void *cmr_calloc(size_t nmemb, size_t size);
void *cmr_realloc(void *ptr, size_t size);
void cmr_free(void *ptr);

/*
 * Copies of a string (or of its first n bytes, NUL-terminated).  The caller
 * owns the result and frees it with cmr_free.  NULL when out of memory.
 */
char *cmr_strdup(const char *s);
char *cmr_strndup(const char *s, size_t n);

#endif
