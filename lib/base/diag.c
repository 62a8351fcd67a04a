/*
 * diag.c -- collected diagnostics.
 *
 * Validation reports every problem at once, so diagnostics are collected
 * rather than returned.  Each entry copies its file name and message into
 * the list's own arena: the list stays valid after the parser and the
 * model that produced the marks are gone.
 */
#include "cmr/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/vec.h"

void cmr_diag_list_init(struct cmr_diag_list *l)
{
	memset(l, 0, sizeof(*l));
	cmr_arena_init(&l->arena);
}

void cmr_diag_list_release(struct cmr_diag_list *l)
{
	cmr_vec_release(l);
	cmr_arena_release(&l->arena);
	cmr_diag_list_init(l);
}

int cmr_diag_add(struct cmr_diag_list *l, enum cmr_diag_severity severity,
                 const struct cmr_mark *where, const char *fmt, ...)
{
	struct cmr_diag d;
	char msg[1024];
	va_list ap;

	memset(&d, 0, sizeof(d));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	d.severity = severity;
	d.msg = cmr_arena_strdup(&l->arena, msg);
	if (where) {
		d.where = *where;
		if (where->file)
			d.where.file = cmr_arena_strdup(&l->arena, where->file);
	}
	if (!d.msg || (where && where->file && !d.where.file) ||
	    cmr_vec_push(l, d) < 0) {
		l->oom = true;
		return CMR_ENOMEM;
	}
	if (severity == CMR_DIAG_ERROR)
		l->errors++;
	return 0;
}

static int cmp_diag(const struct cmr_diag *a, const struct cmr_diag *b)
{
	const char *fa = a->where.file ? a->where.file : "";
	const char *fb = b->where.file ? b->where.file : "";
	int c = strcmp(fa, fb);

	if (c)
		return c;
	if (a->where.line != b->where.line)
		return a->where.line < b->where.line ? -1 : 1;
	if (a->where.col != b->where.col)
		return a->where.col < b->where.col ? -1 : 1;
	return 0;
}

void cmr_diag_list_sort(struct cmr_diag_list *l)
{
	size_t i;
	size_t j;

	/* Insertion sort: stable, and diagnostic lists are short and
	 * nearly sorted already. */
	for (i = 1; i < l->len; i++) {
		struct cmr_diag d = l->items[i];

		for (j = i; j > 0 && cmp_diag(&l->items[j - 1], &d) > 0; j--)
			l->items[j] = l->items[j - 1];
		l->items[j] = d;
	}
}

const char *cmr_diag_severity_name(enum cmr_diag_severity severity)
{
	switch (severity) {
	case CMR_DIAG_ERROR:
		return "error";
	case CMR_DIAG_WARNING:
		return "warning";
	case CMR_DIAG_NOTE:
		return "note";
	}
	return "error";
}
