/*
 * vec.h -- a typed growable array, as a struct you declare:
 *
 *     struct name_vec { char **items; size_t len, alloc; };
 *     struct name_vec v = { 0 };
 *     if (cmr_vec_push(&v, name) < 0) goto done;
 *     char **it;
 *     cmr_vec_foreach(&v, it) use(*it);
 *     cmr_vec_release(&v);
 *
 * Any struct with members `items`, `len` and `alloc` works.  Memory comes
 * from cmr_realloc (so the chaos test can fail it); on failure the vector is
 * unchanged and CMR_ENOMEM is returned.
 */
#ifndef CMR_VEC_H
#define CMR_VEC_H

#include <stddef.h>

#include "cmr/common.h"
#include "cmr/error.h"

/*
 * Makes room for `need` elements of `elem` bytes in the array whose pointer
 * is stored at `itemsp` (a T **, passed as void *).  0 or CMR_ENOMEM.
 */
int cmr_vec_grow_(void *itemsp, size_t *alloc, size_t need, size_t elem);

/* Frees the array behind itemsp and sets it to NULL. */
void cmr_vec_free_(void *itemsp);

/*
 * Makes room for n elements in v; 0 or CMR_ENOMEM.
 *
 * The element size is sizeof(*(v)->items).  For a vector of struct pointers
 * that is sizeof(struct T *), which bugprone-sizeof-expression reads as the
 * classic "sizeof(pointer) instead of sizeof(struct)" slip.  Here it is what
 * we mean (the elements are pointers), and C11 has no typeof to name the
 * element type instead, so the check is silenced on this one line only and
 * stays on everywhere else.
 */
#define cmr_vec_reserve(v, n)                  \
	cmr_vec_grow_(                         \
	        &(v)->items, &(v)->alloc, (n), \
	        sizeof(*(v)->items)) /* NOLINT(bugprone-sizeof-expression) */

/* Appends x (evaluated once, after growth); 0 or CMR_ENOMEM. */
#define cmr_vec_push(v, x)                      \
	(cmr_vec_reserve((v), (v)->len + 1) < 0 \
	         ? CMR_ENOMEM                   \
	         : ((v)->items[(v)->len++] = (x), 0))

#define cmr_vec_foreach(v, it)                                                \
	for ((it) = (v)->items; (it) != NULL && (it) < (v)->items + (v)->len; \
	     (it)++)

/* The most common vector: borrowed or arena-owned C strings. */
struct cmr_str_vec {
	const char **items;
	size_t len, alloc;
};

#define cmr_vec_release(v)                  \
	do {                                \
		cmr_vec_free_(&(v)->items); \
		(v)->len = 0;               \
		(v)->alloc = 0;             \
	} while (0)

#endif
