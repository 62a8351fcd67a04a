/*
 * parse.c -- YAML text -> node tree, with the format's limits.
 *
 * This is the only file that includes <yaml.h>.  It uses libyaml's event
 * parser, not its document loader, for two reasons:
 *   - an alias can be refused the moment it appears, before anything is
 *     expanded, so a "billion laughs" file costs one event, not gigabytes;
 *   - each node keeps its own mark (line and column), which the
 *     document API would also give, but only after building the whole
 *     document, aliases included.
 *
 * What makes a file unreadable stops its parse and is reported alone: a
 * syntax error (libyaml cannot continue), invalid UTF-8, an anchor or an
 * alias, nesting deeper than CMR_LOAD_MAX_DEPTH, a second document.  Tags
 * outside the core schema, NUL bytes in scalars and duplicate keys are
 * reported and parsing goes on, so the schema pass can find the rest.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cmr/alloc.h"
#include "cmr/load.h"
#include "cmr/vec.h"

#include "load_int.h"

#define CORE_TAG "tag:yaml.org,2002:"

struct node_vec {
	struct node **items;
	size_t len, alloc;
};

struct frame {
	struct node *node;
	struct node_vec kids;
};

struct parser {
	struct ld *ld;
	const char *data;
	size_t len;
	struct frame stack[CMR_LOAD_MAX_DEPTH];
	size_t depth;
	struct node *root;
	int documents;
	bool fatal;
};

static struct cmr_mark mark_of(const struct ld *ld, yaml_mark_t m)
{
	struct cmr_mark mk;

	mk.file = ld->file;
	mk.line = m.line + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(m.line + 1);
	mk.col = m.column + 1 > UINT32_MAX ? UINT32_MAX
	                                   : (uint32_t)(m.column + 1);
	return mk;
}

/*
 * Line and column (in characters) of a byte offset, for the problems
 * libyaml's reader reports by offset and for our own UTF-8 check.
 */
static struct cmr_mark mark_at(const struct ld *ld, const char *data,
                               size_t offset)
{
	struct cmr_mark mk;
	size_t i;

	mk.file = ld->file;
	mk.line = 1;
	mk.col = 1;
	for (i = 0; i < offset; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\n') {
			if (mk.line < UINT32_MAX)
				mk.line++;
			mk.col = 1;
		} else if ((c & 0xC0) != 0x80 && mk.col < UINT32_MAX) {
			mk.col++; /* count characters, not continuation bytes */
		}
	}
	return mk;
}

/* ----------------------------------------------------------------------
 * Encoding
 *
 * libyaml would also reject bad UTF-8, but it silently accepts UTF-16 with
 * a byte-order mark, and its messages ("invalid leading UTF-8 octet") do not
 * say what to do.  Checking first gives one clear message at the exact
 * place.  Overlong forms, surrogates and code points above U+10FFFF are
 * invalid (RFC 3629).
 */
static size_t utf8_invalid_at(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return i;
		i += n + 1;
	}
	return SIZE_MAX;
}

/* ----------------------------------------------------------------------
 * Tags
 *
 * The core schema's tags are accepted: !!str makes a scalar literal (like
 * quoting it), !!null/!!bool/!!int/!!float leave the value rules to decide
 * (CM values are strings anyway), !!map and !!seq must sit on a map and a
 * list.  The non-specific "!" is YAML for "a string".  Everything else
 * (!!binary, !!timestamp, !!set, local !tags) would mean something the
 * model cannot hold, so it is refused.
 */

enum tag_use {
	TAG_NONE,
	TAG_STR,
	TAG_SCALAR,
	TAG_MAP,
	TAG_SEQ,
	TAG_BAD,
};

static enum tag_use classify_tag(const char *tag)
{
	size_t n = strlen(CORE_TAG);

	if (!tag)
		return TAG_NONE;
	if (strcmp(tag, "!") == 0)
		return TAG_STR;
	if (strncmp(tag, CORE_TAG, n) != 0)
		return TAG_BAD;
	tag += n;
	if (strcmp(tag, "str") == 0)
		return TAG_STR;
	if (strcmp(tag, "null") == 0 || strcmp(tag, "bool") == 0 ||
	    strcmp(tag, "int") == 0 || strcmp(tag, "float") == 0)
		return TAG_SCALAR;
	if (strcmp(tag, "map") == 0)
		return TAG_MAP;
	if (strcmp(tag, "seq") == 0)
		return TAG_SEQ;
	return TAG_BAD;
}

/* Reports a refused tag, spelt as the user likely wrote it. */
static void bad_tag(struct parser *p, const struct cmr_mark *mk,
                    const char *tag, const char *on)
{
	size_t n = strlen(CORE_TAG);

	if (strncmp(tag, CORE_TAG, n) == 0)
		ld_error(
		        p->ld, mk,
		        "tag '!!%.64s' is not allowed on %s; only the YAML core schema tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are",
		        tag + n, on);
	else
		ld_error(
		        p->ld, mk,
		        "tag '%.64s' is not allowed on %s; only the YAML core schema tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq are",
		        tag, on);
}

/* ----------------------------------------------------------------------
 * Building the tree
 */

static struct node *new_node(struct parser *p, enum node_kind kind,
                             yaml_mark_t m)
{
	struct node *n = cmr_arena_alloc(&p->ld->tmp, sizeof(*n));

	if (!n) {
		p->ld->oom = true;
		return NULL;
	}
	n->kind = kind;
	n->mark = mark_of(p->ld, m);
	return n;
}

/* Hangs a finished node under the open collection, or makes it the root. */
static int attach(struct parser *p, struct node *n)
{
	if (p->depth == 0) {
		p->root = n;
		return 0;
	}
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	if (cmr_vec_push(&p->stack[p->depth - 1].kids, n) < 0) {
		p->ld->oom = true;
		return CMR_ENOMEM;
	}
	return 0;
}

struct key_ref {
	const struct node *key;
	size_t index;
};

static int cmp_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a;
	const struct key_ref *y = b;
	size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
	int c = memcmp(x->key->text, y->key->text, n);

	if (c)
		return c;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	/* Equal keys stay in document order, so the first one is kept. */
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Flags and reports repeated keys of a finished map.  Sorting a copy of
 * the keys makes this O(n log n): a hostile file with a million keys in
 * one map must not take a million squared steps.
 */
static int check_duplicates(struct parser *p, struct node *map)
{
	struct key_ref *refs;
	size_t npairs = map->n / 2;
	size_t n = 0;
	size_t i;
	size_t run;

	if (npairs < 2)
		return 0;
	refs = cmr_calloc(npairs, sizeof(*refs));
	if (!refs) {
		p->ld->oom = true;
		return CMR_ENOMEM;
	}
	for (i = 0; i < npairs; i++) {
		const struct node *k = map->items[2 * i];

		if (k->kind != NODE_SCALAR || k->bad)
			continue;
		refs[n].key = k;
		refs[n].index = i;
		n++;
	}
	qsort(refs, n, sizeof(*refs), cmp_key_ref);
	for (i = 1, run = 0; i < n && !p->ld->stopped; i++) {
		const struct node *first = refs[run].key;
		struct node *again;

		if (first->len != refs[i].key->len ||
		    memcmp(first->text, refs[i].key->text, first->len) != 0) {
			run = i; /* a new key starts a new run */
			continue;
		}
		again = map->items[2 * refs[i].index];
		again->dup = true;
		ld_error(p->ld, &again->mark,
		         "duplicate key '%.200s' (first at line %u, column %u)",
		         again->text, (unsigned)first->mark.line,
		         (unsigned)first->mark.col);
	}
	cmr_free(refs);
	return 0;
}

static int open_collection(struct parser *p, const yaml_event_t *ev,
                           enum node_kind kind)
{
	const char *tag = kind == NODE_MAP
	                          ? (const char *)ev->data.mapping_start.tag
	                          : (const char *)ev->data.sequence_start.tag;
	enum tag_use use = classify_tag(tag);
	struct cmr_mark mk = mark_of(p->ld, ev->start_mark);
	struct node *n;

	if (p->depth >= CMR_LOAD_MAX_DEPTH) {
		ld_error(p->ld, &mk, "nesting deeper than %d levels",
		         CMR_LOAD_MAX_DEPTH);
		p->fatal = true;
		return 0;
	}
	n = new_node(p, kind, ev->start_mark);
	if (!n)
		return CMR_ENOMEM;
	if (use != TAG_NONE && use != (kind == NODE_MAP ? TAG_MAP : TAG_SEQ)) {
		bad_tag(p, &mk, tag, kind == NODE_MAP ? "a map" : "a list");
		n->bad = true;
	}
	p->stack[p->depth].node = n;
	memset(&p->stack[p->depth].kids, 0, sizeof(p->stack[p->depth].kids));
	p->depth++;
	return 0;
}

static int close_collection(struct parser *p)
{
	struct frame *f = &p->stack[p->depth - 1];
	struct node *n = f->node;
	size_t bytes = f->kids.len * sizeof(struct node *);

	assert(n != NULL); /* every open frame has its node */
	if (f->kids.len) {
		n->items = cmr_arena_alloc(&p->ld->tmp, bytes);
		if (!n->items) {
			p->ld->oom = true;
			return CMR_ENOMEM;
		}
		memcpy(n->items, f->kids.items, bytes);
		n->n = f->kids.len;
	}
	cmr_vec_release(&f->kids);
	p->depth--;
	if (n->kind == NODE_MAP && check_duplicates(p, n) < 0)
		return CMR_ENOMEM;
	return attach(p, n);
}

static int scalar(struct parser *p, const yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	enum tag_use use = classify_tag(tag);
	struct node *n = new_node(p, NODE_SCALAR, ev->start_mark);

	if (!n)
		return CMR_ENOMEM;
	n->len = ev->data.scalar.length;
	n->text = cmr_arena_strndup(
	        &p->ld->tmp, (const char *)ev->data.scalar.value, n->len);
	if (!n->text) {
		p->ld->oom = true;
		return CMR_ENOMEM;
	}
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	           use != TAG_STR;
	if (use == TAG_MAP || use == TAG_SEQ || use == TAG_BAD) {
		bad_tag(p, &n->mark, tag, "a scalar");
		n->bad = true;
	}
	if (memchr(ev->data.scalar.value, '\0', n->len)) {
		ld_error(p->ld, &n->mark, "NUL character in a value");
		n->bad = true;
	}
	return attach(p, n);
}

/* Whether line `line` (1-based) of the file is indented with a tab. */
static bool tab_indented(const struct parser *p, uint32_t line)
{
	uint32_t at = 1;
	size_t i = 0;

	while (at < line && i < p->len) {
		if (p->data[i++] == '\n')
			at++;
	}
	for (; i < p->len && (p->data[i] == ' ' || p->data[i] == '\t'); i++)
		if (p->data[i] == '\t')
			return true;
	return false;
}

/*
 * libyaml's words for two common mistakes say what the scanner saw, not
 * what the author did: a tab in the indentation ("found character that
 * cannot start any token") and a plain key longer than the 1024
 * characters YAML allows ("mapping values are not allowed in this
 * context", at a column past 1024).  Those get a plain explanation.
 */
static const char *syntax_hint(const struct parser *p, const char *problem,
                               const struct cmr_mark *mk)
{
	if (strcmp(problem, "found character that cannot start any token") ==
	            0 &&
	    tab_indented(p, mk->line))
		return "a tab in the indentation; YAML indents with spaces only";
	if (strcmp(problem, "mapping values are not allowed in this context") ==
	            0 &&
	    mk->col > 1024)
		return "a key longer than 1024 characters; YAML does not allow a plain key that long";
	return NULL;
}

/* Reports what libyaml could not parse; the file's parse ends here. */
static void syntax_error(struct parser *p, const yaml_parser_t *yp)
{
	struct cmr_mark mk;
	const char *problem = yp->problem ? yp->problem : "unknown problem";
	const char *hint;

	if (yp->error == YAML_READER_ERROR)
		mk = mark_at(p->ld, p->data,
		             yp->problem_offset < p->len ? yp->problem_offset
		                                         : p->len);
	else
		mk = mark_of(p->ld, yp->problem_mark);
	if (yp->error == YAML_MEMORY_ERROR) {
		p->ld->oom = true;
		return;
	}
	hint = yp->error == YAML_SCANNER_ERROR ? syntax_hint(p, problem, &mk)
	                                       : NULL;
	if (hint)
		ld_error(p->ld, &mk, "YAML syntax error: %s", hint);
	else if (yp->context)
		ld_error(
		        p->ld, &mk,
		        "YAML syntax error: %s (%s that starts at line %u, column %u)",
		        problem, yp->context,
		        (unsigned)(yp->context_mark.line + 1),
		        (unsigned)(yp->context_mark.column + 1));
	else
		ld_error(p->ld, &mk, "YAML syntax error: %s", problem);
	p->fatal = true;
}

/* Handles one event; sets p->fatal to stop.  0 or CMR_ENOMEM. */
static int on_event(struct parser *p, const yaml_event_t *ev)
{
	struct cmr_mark mk = mark_of(p->ld, ev->start_mark);
	const char *anchor = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++p->documents > 1) {
			ld_error(
			        p->ld, &mk,
			        "a second YAML document; a desired-state file holds one (use several files to merge)");
			p->fatal = true;
		}
		return 0;
	case YAML_ALIAS_EVENT:
		ld_error(
		        p->ld, &mk,
		        "alias '*%.64s': anchors and aliases are not allowed; write the value out",
		        (const char *)ev->data.alias.anchor);
		p->fatal = true;
		return 0;
	case YAML_SCALAR_EVENT:
		anchor = (const char *)ev->data.scalar.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = (const char *)ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = (const char *)ev->data.sequence_start.anchor;
		break;
	default:
		break;
	}
	if (anchor) {
		ld_error(
		        p->ld, &mk,
		        "anchor '&%.64s': anchors and aliases are not allowed; write the value out",
		        anchor);
		p->fatal = true;
		return 0;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return scalar(p, ev);
	case YAML_MAPPING_START_EVENT:
		return open_collection(p, ev, NODE_MAP);
	case YAML_SEQUENCE_START_EVENT:
		return open_collection(p, ev, NODE_SEQ);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		return close_collection(p);
	default:
		return 0;
	}
}

int ld_parse(struct node **root, struct ld *ld, const char *data, size_t len)
{
	struct parser p;
	yaml_parser_t yp;
	yaml_event_t ev;
	size_t bad;
	size_t i;
	bool done = false;
	int error = 0;

	*root = NULL;
	memset(&p, 0, sizeof(p));
	p.ld = ld;
	p.data = data;
	p.len = len;

	bad = utf8_invalid_at((const unsigned char *)data, len);
	if (bad != SIZE_MAX) {
		struct cmr_mark mk = mark_at(ld, data, bad);

		ld_error(
		        ld, &mk,
		        "invalid UTF-8 (byte 0x%02x); desired-state files must be UTF-8 text",
		        (unsigned)(unsigned char)data[bad]);
		return 0;
	}
	if (!yaml_parser_initialize(&yp)) {
		ld->oom = true;
		return CMR_ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)data, len);
	while (!done && !p.fatal && !ld->oom) {
		if (!yaml_parser_parse(&yp, &ev)) {
			syntax_error(&p, &yp);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		error = on_event(&p, &ev);
		yaml_event_delete(&ev);
		if (error < 0)
			break;
	}
	yaml_parser_delete(&yp);
	for (i = 0; i < p.depth; i++)
		cmr_vec_release(&p.stack[i].kids);
	if (ld->oom)
		return CMR_ENOMEM;
	if (!p.fatal)
		*root = p.root;
	return 0;
}
