/*
 * load_int.h -- what the files of lib/load share (not installed, not
 * included outside lib/load).
 *
 * Loading is two passes over one file:
 *   1. parse.c turns libyaml's events into a small tree of nodes (scalars
 *      with their text and style, maps as key/value pairs, lists), checking
 *      the limits on the way: syntax, UTF-8, anchors and aliases, tags,
 *      nesting depth, duplicate keys.  libyaml stops at parse.c.
 *   2. schema.c walks that tree against format version 1 and writes what
 *      is valid into the state, collecting every problem.
 * The tree lives in a scratch arena that is dropped when the file is done;
 * only the state keeps anything.
 */
#ifndef CMR_LOAD_LOAD_INT_H
#define CMR_LOAD_LOAD_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/arena.h"
#include "cmr/common.h"
#include "cmr/diag.h"
#include "cmr/error.h"
#include "cmr/model.h"

enum node_kind {
	NODE_SCALAR = 0,
	NODE_MAP,
	NODE_SEQ,
};

struct node {
	enum node_kind kind;
	/* Scalar written plain, so null/true/false are recognised. */
	bool plain;
	/* Already reported (bad tag, NUL byte): later checks skip it. */
	bool bad;
	/* A map key that repeats an earlier key of the same map. */
	bool dup;
	struct cmr_mark mark;
	const char *text; /* scalar: NUL-terminated copy */
	size_t len;       /* scalar: bytes in text */
	/*
	 * Collections: a list's items, or a map's keys and values
	 * interleaved (items[2i] is a key, items[2i + 1] its value); n counts
	 * entries in items.
	 */
	struct node **items;
	size_t n;
};

/* The state of loading one file. */
struct ld {
	struct cmr_state *st;
	struct cmr_diag_list *diags;
	const char *file;     /* the file's name, in the state's arena */
	const char *dir;      /* its directory with a final '/', or "" */
	struct cmr_arena tmp; /* the node tree */
	size_t errors;        /* errors reported for this file */
	bool stopped;         /* too many errors: stop walking */
	bool oom;             /* an allocation failed somewhere */
};

/*
 * Reports one problem at `where` (may be NULL: the start of the file).
 * After CMR_LOAD_MAX_ERRORS of them, reports that it stops and sets
 * ld->stopped.
 */
void ld_error(struct ld *ld, const struct cmr_mark *where, const char *fmt, ...)
        CMR_PRINTF(3, 4);

/*
 * Pass 1: parses len bytes into a tree in ld->tmp.  *root is NULL when the
 * file had a fatal problem (already reported) or no document.  Returns 0,
 * or CMR_ENOMEM (ld->oom set).
 */
int ld_parse(struct node **root, struct ld *ld, const char *data, size_t len);

/* Pass 2: checks the tree and merges it into ld->st. */
void ld_schema(struct ld *ld, const struct node *root);

/*
 * The candidate closest to `word` by edit distance, if close enough to be
 * a plausible typo; else NULL.  `candidates` ends with NULL.
 */
const char *ld_suggest(const char *word, const char *const *candidates);

#endif
