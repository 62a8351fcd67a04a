/*
 * vec.c -- growth for the typed arrays of vec.h.
 *
 * The array pointer is read and written through memcpy because the macro
 * passes a T ** as void *: copying the representation avoids pretending
 * that a T ** is a void ** (which C does not promise).
 */
#include "cmr/vec.h"

#include <stdint.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/error.h"

int cmr_vec_grow_(void *itemsp, size_t *alloc, size_t need, size_t elem)
{
	void *items;
	void *p;
	size_t n;

	if (need <= *alloc)
		return 0;
	n = *alloc ? *alloc : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return CMR_ENOMEM;
		n *= 2;
	}
	if (elem && n > SIZE_MAX / elem)
		return CMR_ENOMEM;
	memcpy(&items, itemsp, sizeof(items));
	p = cmr_realloc(items, n * elem);
	if (!p)
		return CMR_ENOMEM;
	memcpy(itemsp, &p, sizeof(p));
	*alloc = n;
	return 0;
}

void cmr_vec_free_(void *itemsp)
{
	void *items;

	memcpy(&items, itemsp, sizeof(items));
	cmr_free(items);
	items = NULL;
	memcpy(itemsp, &items, sizeof(items));
}
