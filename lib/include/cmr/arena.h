/*
 * arena.h -- one allocation arena per state tree.
 *
 * A loaded desired state, a live state read from CM, or a plan keeps all of
 * its nodes and strings in one arena and is freed at once, never node by
 * node.  Allocation failures are sticky: after one, every later allocation
 * returns NULL and cmr_arena_error() reports CMR_ENOMEM, so builders can
 * check once at the end (they must still not dereference a NULL result).
 *
 * Debug mode: compiled with CMR_DEBUG_ARENA, every allocation is its own
 * malloc, tracked in a list, so ASan and valgrind see each object's bounds
 * (libgit2's DEBUG_POOL).  The behaviour is otherwise identical.
 *
 * Memory from cmr_arena_alloc is zeroed and aligned for any object type.
 */
#ifndef CMR_ARENA_H
#define CMR_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/common.h"

struct cmr_arena_chunk;

struct cmr_arena {
	struct cmr_arena_chunk *head; /* newest chunk (or tracked object) */
	size_t used;                  /* bytes used in head */
	size_t chunk_size;            /* size of the next regular chunk */
	size_t total;                 /* bytes handed out, for statistics */
	bool oom;                     /* sticky allocation failure */
};

#define CMR_ARENA_INIT               \
	{                            \
		NULL, 0, 0, 0, false \
	}

void cmr_arena_init(struct cmr_arena *a);

/* Frees everything the arena handed out; it can be used again afterwards. */
void cmr_arena_release(struct cmr_arena *a);

/* n zeroed bytes, or NULL (and the sticky flag) when out of memory. */
void *cmr_arena_alloc(struct cmr_arena *a, size_t n);

/* n zeroed elements of `size` bytes; NULL on overflow or out of memory. */
void *cmr_arena_calloc(struct cmr_arena *a, size_t n, size_t size);

/* Copies of strings inside the arena; NULL when out of memory. */
char *cmr_arena_strdup(struct cmr_arena *a, const char *s);
char *cmr_arena_strndup(struct cmr_arena *a, const char *s, size_t n);
char *cmr_arena_sprintf(struct cmr_arena *a, const char *fmt, ...)
        CMR_PRINTF(2, 3);

/* 0, or CMR_ENOMEM once any allocation has failed. */
int cmr_arena_error(const struct cmr_arena *a);

/* Bytes handed out so far (not counting chunk overhead). */
size_t cmr_arena_bytes(const struct cmr_arena *a);

#endif
