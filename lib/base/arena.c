/*
 * arena.c -- bump allocation for state trees.
 *
 * A state tree (a loaded file, CM's live state, a plan) is built once,
 * read many times and freed as a whole, which is exactly the life of an
 * arena: allocation is a pointer bump inside a chunk, and freeing walks the
 * chunk list once.  Requests larger than a quarter chunk get a chunk of
 * their own so big strings (XML safety valves) do not waste the rest of a
 * regular chunk.
 *
 * With CMR_DEBUG_ARENA every allocation is its own chunk, sized exactly,
 * so ASan and valgrind can see an overrun of any single object.
 */
#include "cmr/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/error.h"

#define FIRST_CHUNK 4096
#define MAX_CHUNK   ((size_t)1024 * 1024)

/* Alignment good enough for any object we store. */
#define ALIGN (sizeof(long double) > sizeof(void *) ? 16 : sizeof(void *))

/*
 * A chunk: `size` usable bytes in `data`, which is a flexible array of a
 * union so that it is aligned for any type we store.
 */
union cmr_arena_align {
	long double ld;
	void *p;
	long long ll;
};

struct cmr_arena_chunk {
	struct cmr_arena_chunk *next;
	size_t size;
	union cmr_arena_align data[];
};

void cmr_arena_init(struct cmr_arena *a)
{
	memset(a, 0, sizeof(*a));
}

void cmr_arena_release(struct cmr_arena *a)
{
	struct cmr_arena_chunk *c = a->head;

	while (c) {
		struct cmr_arena_chunk *next = c->next;

		cmr_free(c);
		c = next;
	}
	cmr_arena_init(a);
}

static struct cmr_arena_chunk *new_chunk(size_t size)
{
	struct cmr_arena_chunk *c;

	if (size > SIZE_MAX - sizeof(*c))
		return NULL;
	c = cmr_malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->next = NULL;
	c->size = size;
	return c;
}

#ifdef CMR_DEBUG_ARENA
void *cmr_arena_alloc(struct cmr_arena *a, size_t n)
{
	struct cmr_arena_chunk *c;

	if (a->oom)
		return NULL;
	c = new_chunk(n);
	if (!c) {
		a->oom = true;
		return NULL;
	}
	/* Keep the head chunk (if any) as the bump chunk: insert after. */
	c->next = a->head;
	a->head = c;
	a->used = n;
	a->total += n;
	memset(c->data, 0, n);
	return c->data;
}
#else
void *cmr_arena_alloc(struct cmr_arena *a, size_t n)
{
	struct cmr_arena_chunk *c = a->head;
	size_t rounded;
	char *p;

	if (a->oom)
		return NULL;
	if (n > SIZE_MAX - ALIGN) {
		a->oom = true;
		return NULL;
	}
	rounded = (n + ALIGN - 1) & ~(ALIGN - 1);
	if (rounded == 0)
		rounded = ALIGN;
	if (!a->chunk_size)
		a->chunk_size = FIRST_CHUNK;
	if (rounded > a->chunk_size / 4) {
		/* Big object: its own chunk, linked behind the current one so
		 * the current chunk's free space stays usable. */
		c = new_chunk(rounded);
		if (!c) {
			a->oom = true;
			return NULL;
		}
		if (a->head) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			a->head = c;
			a->used = rounded;
		}
		a->total += n;
		memset(c->data, 0, rounded);
		return c->data;
	}
	if (!c || c->size - a->used < rounded) {
		c = new_chunk(a->chunk_size);
		if (!c) {
			a->oom = true;
			return NULL;
		}
		c->next = a->head;
		a->head = c;
		a->used = 0;
		if (a->chunk_size < MAX_CHUNK)
			a->chunk_size *= 2;
	}
	p = (char *)c->data + a->used;
	a->used += rounded;
	a->total += n;
	memset(p, 0, rounded);
	return p;
}
#endif

void *cmr_arena_calloc(struct cmr_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		a->oom = true;
		return NULL;
	}
	return cmr_arena_alloc(a, n * size);
}

char *cmr_arena_strndup(struct cmr_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p;

	if (len == SIZE_MAX) {
		a->oom = true;
		return NULL;
	}
	p = cmr_arena_alloc(a, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *cmr_arena_strdup(struct cmr_arena *a, const char *s)
{
	return cmr_arena_strndup(a, s, SIZE_MAX - 1);
}

char *cmr_arena_sprintf(struct cmr_arena *a, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		a->oom = true;
		return NULL;
	}
	p = cmr_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

int cmr_arena_error(const struct cmr_arena *a)
{
	return a->oom ? CMR_ENOMEM : 0;
}

size_t cmr_arena_bytes(const struct cmr_arena *a)
{
	return a->total;
}
