/*
 * alloc.c -- the allocation hooks.
 *
 * All of lib/'s own allocations funnel through here so that a test can
 * make the Nth one fail and check that every caller turns that into
 * CMR_ENOMEM without leaking (tests/unit/test_chaos.c).  The hooks are a
 * plain global because they are process configuration, set once, not
 * per-call state.
 */
#include "cmr/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct cmr_alloc_hooks hooks = { malloc, realloc, free };

void cmr_alloc_set_hooks(const struct cmr_alloc_hooks *h)
{
	if (h) {
		hooks = *h;
	} else {
		hooks.malloc_fn = malloc;
		hooks.realloc_fn = realloc;
		hooks.free_fn = free;
	}
}

void *cmr_malloc(size_t size)
{
	/* malloc(0) may return NULL legitimately; never hand that out. */
	return hooks.malloc_fn(size ? size : 1);
}

void *cmr_calloc(size_t nmemb, size_t size)
{
	void *p;

	if (size && nmemb > SIZE_MAX / size)
		return NULL;
	p = cmr_malloc(nmemb * size);
	if (p)
		memset(p, 0, nmemb * size);
	return p;
}

void *cmr_realloc(void *ptr, size_t size)
{
	return hooks.realloc_fn(ptr, size ? size : 1);
}

void cmr_free(void *ptr)
{
	if (ptr)
		hooks.free_fn(ptr);
}

char *cmr_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = cmr_malloc(len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *cmr_strdup(const char *s)
{
	return cmr_strndup(s, SIZE_MAX);
}
