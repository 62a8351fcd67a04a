/*
 * diag.h -- collected diagnostics with file positions.
 *
 * Validation does not stop at the first problem: it collects every problem
 * into a cmr_diag_list so the user sees all of them in one run.  Each entry
 * owns a copy of its file name and message, so the list outlives whatever
 * produced it.  Entries are kept in the order they were added;
 * cmr_diag_list_sort orders them by file, line, column.
 */
#ifndef CMR_DIAG_H
#define CMR_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/arena.h"
#include "cmr/common.h"
#include "cmr/error.h"

enum cmr_diag_severity {
	CMR_DIAG_ERROR = 0,
	CMR_DIAG_WARNING = 1,
	CMR_DIAG_NOTE = 2,
};

struct cmr_diag {
	enum cmr_diag_severity severity;
	struct cmr_mark where; /* where.file points into the list's arena */
	const char *msg;       /* owned by the list's arena */
};

struct cmr_diag_list {
	struct cmr_diag *items;
	size_t len, alloc;
	size_t errors; /* number of CMR_DIAG_ERROR entries */
	struct cmr_arena arena;
	bool oom; /* an entry could not be recorded */
};

void cmr_diag_list_init(struct cmr_diag_list *l);
void cmr_diag_list_release(struct cmr_diag_list *l);

/*
 * Adds one diagnostic.  `where` may be NULL (no position).  Returns 0, or
 * CMR_ENOMEM (then `oom` is set and the entry is lost).
 */
int cmr_diag_add(struct cmr_diag_list *l, enum cmr_diag_severity severity,
                 const struct cmr_mark *where, const char *fmt, ...)
        CMR_PRINTF(4, 5);

/* Orders entries by file name, line, column, then insertion (stable). */
void cmr_diag_list_sort(struct cmr_diag_list *l);

/* "error", "warning", "note". */
const char *cmr_diag_severity_name(enum cmr_diag_severity severity);

#endif
