/*
 * planfile.c -- the JSON form of a plan: writing it, reading it back.
 *
 * The writer builds the text itself with cmr_buf rather than through a
 * json-c tree: the member order, the indentation and the placement of
 * short arrays on one line are part of the format (docs/plan-format.md),
 * and a hand-written writer keeps them fixed whatever json-c version is
 * installed.  Every string goes through cmr_buf_add_json_str.
 *
 * The reader parses with json-c (strict mode), walks the tree once,
 * copies what it needs into the new plan's arena and releases the tree
 * before returning.  It is deliberately unforgiving: every member is
 * required, unknown members are refused, enumerations must be spelled as
 * names.c spells them, and the rules plan.h states (a sensitive change
 * carries no value, a reset has no new value, ...) are checked, each
 * failure naming the path of the offending member.  A plan file drives
 * writes to a production CM; guessing at a damaged one is not an option.
 */
#include "cmr/planfile.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cmr/vec.h"

/* ======================================================================
 * Names of the flag sets (the enums have names.c; flags live here)
 */

static const char *const effect_names[] = { "restart", "refresh",
	                                    "client_config" };

static const char *const reason_names[] = { "settings", "parcel",
	                                    "already_stale" };

/* Summary members, in the order they are written. */
static const char *const summary_names[] = {
	"settings",       "unverified", "parcels",     "restarts", "refreshes",
	"client_configs", "deferred",   "maintenance", "errors",   "warnings",
};

/* ======================================================================
 * Writing
 */

static void indent(struct cmr_buf *b, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		cmr_buf_adds(b, "  ");
}

/*
 * Starts member `name` of an object at nesting `depth`: a separator from
 * the previous member (tracked in *first), the indentation and the key.
 */
static void member(struct cmr_buf *b, int depth, bool *first, const char *name)
{
	cmr_buf_adds(b, *first ? "\n" : ",\n");
	*first = false;
	indent(b, depth);
	cmr_buf_add_json_str(b, name);
	cmr_buf_adds(b, ": ");
}

/* Closes an object or array opened at depth-1 whose items were at depth. */
static void close_block(struct cmr_buf *b, int depth, bool empty, char c)
{
	if (!empty) {
		cmr_buf_addc(b, '\n');
		indent(b, depth - 1);
	}
	cmr_buf_addc(b, c);
}

static void str_or_null(struct cmr_buf *b, const char *s)
{
	if (s)
		cmr_buf_add_json_str(b, s);
	else
		cmr_buf_adds(b, "null");
}

static void put_str(struct cmr_buf *b, int depth, bool *first, const char *name,
                    const char *s)
{
	member(b, depth, first, name);
	str_or_null(b, s);
}

static void put_bool(struct cmr_buf *b, int depth, bool *first,
                     const char *name, bool v)
{
	member(b, depth, first, name);
	cmr_buf_adds(b, v ? "true" : "false");
}

static void put_uint(struct cmr_buf *b, int depth, bool *first,
                     const char *name, uintmax_t v)
{
	member(b, depth, first, name);
	cmr_buf_addf(b, "%ju", v);
}

/* A name, or null for the "" of an enum's 0 value. */
static void put_name(struct cmr_buf *b, int depth, bool *first,
                     const char *name, const char *value)
{
	put_str(b, depth, first, name, value && *value ? value : NULL);
}

/* An array of strings, on one line. */
static void put_strs(struct cmr_buf *b, int depth, bool *first,
                     const char *name, const char *const *items, size_t n)
{
	size_t i;

	member(b, depth, first, name);
	cmr_buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		if (i)
			cmr_buf_adds(b, ", ");
		str_or_null(b, items[i]);
	}
	cmr_buf_addc(b, ']');
}

/* The set bits of `flags` as an array of names, on one line. */
static void put_flags(struct cmr_buf *b, int depth, bool *first,
                      const char *name, unsigned flags,
                      const char *const *names, size_t n)
{
	const char *set[8];
	size_t i;
	size_t k = 0;

	for (i = 0; i < n && i < CMR_ARRAY_SIZE(set); i++)
		if (flags & (1u << i))
			set[k++] = names[i];
	put_strs(b, depth, first, name, set, k);
}

static bool mark_known(const struct cmr_mark *m)
{
	return m->file || m->line || m->col;
}

static void put_mark(struct cmr_buf *b, int depth, bool *first,
                     const struct cmr_mark *m)
{
	member(b, depth, first, "mark");
	if (!mark_known(m)) {
		cmr_buf_adds(b, "null");
		return;
	}
	cmr_buf_adds(b, "{\"file\": ");
	str_or_null(b, m->file);
	cmr_buf_addf(b, ", \"line\": %u, \"column\": %u}", (unsigned)m->line,
	             (unsigned)m->col);
}

static void write_change(struct cmr_buf *b, int depth,
                         const struct cmr_change *c)
{
	bool first = true;
	/* Redaction is enforced here too, whatever the struct holds. */
	bool s = c->sensitive;
	struct cmr_buf src = CMR_BUF_INIT;

	cmr_buf_addc(b, '{');
	put_str(b, depth, &first, "key", c->key);
	put_str(b, depth, &first, "op", cmr_change_op_name(c->op));
	put_str(b, depth, &first, "old_value", s ? NULL : c->old_value);
	put_str(b, depth, &first, "default_value", s ? NULL : c->default_value);
	put_str(b, depth, &first, "new_value", s ? NULL : c->new_value);
	put_bool(b, depth, &first, "sensitive", s);
	put_str(b, depth, &first, "secret", cmr_secret_status_name(c->secret));
	put_str(b, depth, &first, "secret_source",
	        cmr_value_is_ref(&c->secret_source) &&
	                        cmr_value_ref_text(&src, &c->secret_source) == 0
	                ? src.ptr
	                : NULL);
	cmr_buf_release(&src);
	put_bool(b, depth, &first, "pruned", c->pruned);
	put_flags(b, depth, &first, "effects", c->effect, effect_names,
	          CMR_ARRAY_SIZE(effect_names));
	put_name(b, depth, &first, "validation",
	         cmr_validation_name(c->validation));
	put_str(b, depth, &first, "validation_message",
	        s ? NULL : c->validation_message);
	put_mark(b, depth, &first, &c->mark);
	close_block(b, depth, false, '}');
}

static void write_scope(struct cmr_buf *b, int depth,
                        const struct cmr_scope_change *sc)
{
	bool first = true;
	size_t i;

	cmr_buf_addc(b, '{');
	put_str(b, depth, &first, "kind", cmr_scope_kind_name(sc->scope.kind));
	put_str(b, depth, &first, "cluster", sc->scope.cluster);
	put_str(b, depth, &first, "service", sc->scope.service);
	put_str(b, depth, &first, "service_type", sc->service_type);
	put_str(b, depth, &first, "group", sc->scope.group);
	member(b, depth, &first, "changes");
	cmr_buf_addc(b, '[');
	for (i = 0; i < sc->changes.len; i++) {
		cmr_buf_adds(b, i ? ",\n" : "\n");
		indent(b, depth + 1);
		write_change(b, depth + 2, sc->changes.items[i]);
	}
	close_block(b, depth + 1, sc->changes.len == 0, ']');
	close_block(b, depth, false, '}');
}

static void write_parcel(struct cmr_buf *b, int depth,
                         const struct cmr_parcel_change *p)
{
	const char *steps[CMR_PARCEL_MAX_STEPS];
	bool first = true;
	size_t i;
	size_t n = p->nsteps;

	if (n > CMR_PARCEL_MAX_STEPS)
		n = CMR_PARCEL_MAX_STEPS;
	for (i = 0; i < n; i++)
		steps[i] = cmr_parcel_cmd_verb(p->steps[i]);
	cmr_buf_addc(b, '{');
	put_str(b, depth, &first, "cluster", p->cluster);
	put_str(b, depth, &first, "product", p->product);
	put_str(b, depth, &first, "version", p->version);
	put_name(b, depth, &first, "from", cmr_parcel_stage_name(p->from));
	put_name(b, depth, &first, "to", cmr_parcel_stage_name(p->to));
	put_str(b, depth, &first, "replaces", p->replaces);
	put_strs(b, depth, &first, "steps", steps, n);
	put_bool(b, depth, &first, "needs_repo_refresh", p->needs_repo_refresh);
	put_mark(b, depth, &first, &p->mark);
	close_block(b, depth, false, '}');
}

static void write_restart(struct cmr_buf *b, int depth,
                          const struct cmr_restart *r)
{
	bool first = true;

	cmr_buf_addc(b, '{');
	put_str(b, depth, &first, "cluster", r->cluster);
	put_str(b, depth, &first, "service", r->service);
	put_str(b, depth, &first, "service_type", r->service_type);
	put_str(b, depth, &first, "action", cmr_restart_action_name(r->action));
	put_flags(b, depth, &first, "reasons", r->reasons, reason_names,
	          CMR_ARRAY_SIZE(reason_names));
	put_bool(b, depth, &first, "maintenance", r->maintenance);
	put_uint(b, depth, &first, "order", r->order);
	close_block(b, depth, false, '}');
}

static void write_note(struct cmr_buf *b, int depth, const struct cmr_note *n)
{
	bool first = true;

	cmr_buf_addc(b, '{');
	put_str(b, depth, &first, "level", cmr_note_level_name(n->level));
	put_str(b, depth, &first, "scope", n->scope);
	put_str(b, depth, &first, "message", n->message);
	put_mark(b, depth, &first, &n->mark);
	close_block(b, depth, false, '}');
}

static void write_fingerprint(struct cmr_buf *b, int depth,
                              const struct cmr_fingerprint *f)
{
	bool first = true;

	cmr_buf_addc(b, '{');
	put_str(b, depth, &first, "scope", f->scope);
	put_str(b, depth, &first, "sha256", f->sha256);
	close_block(b, depth, false, '}');
}

static void write_summary(struct cmr_buf *b, int depth, bool *first,
                          const struct cmr_plan *plan)
{
	struct cmr_plan_summary s;
	size_t v[CMR_ARRAY_SIZE(summary_names)];
	bool f = true;
	size_t i;

	cmr_plan_summarize(&s, plan);
	v[0] = s.settings;
	v[1] = s.unverified;
	v[2] = s.parcels;
	v[3] = s.restarts;
	v[4] = s.refreshes;
	v[5] = s.client_configs;
	v[6] = s.deferred;
	v[7] = s.maintenance;
	v[8] = s.errors;
	v[9] = s.warnings;
	member(b, depth, first, "summary");
	cmr_buf_addc(b, '{');
	for (i = 0; i < CMR_ARRAY_SIZE(summary_names); i++)
		put_uint(b, depth + 1, &f, summary_names[i], v[i]);
	close_block(b, depth + 1, false, '}');
}

/*
 * Arrays of objects share one shape; the item writer is chosen by `kind`
 * so the loop is written once.
 */
enum item_kind { ITEM_SCOPE, ITEM_PARCEL, ITEM_RESTART, ITEM_NOTE, ITEM_FP };

static void put_items(struct cmr_buf *b, int depth, bool *first,
                      const char *name, enum item_kind kind, void *const *items,
                      size_t n)
{
	size_t i;

	member(b, depth, first, name);
	cmr_buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		cmr_buf_adds(b, i ? ",\n" : "\n");
		indent(b, depth + 1);
		switch (kind) {
		case ITEM_SCOPE:
			write_scope(b, depth + 2, items[i]);
			break;
		case ITEM_PARCEL:
			write_parcel(b, depth + 2, items[i]);
			break;
		case ITEM_RESTART:
			write_restart(b, depth + 2, items[i]);
			break;
		case ITEM_NOTE:
			write_note(b, depth + 2, items[i]);
			break;
		case ITEM_FP:
			write_fingerprint(b, depth + 2, items[i]);
			break;
		}
	}
	close_block(b, depth + 1, n == 0, ']');
}

int cmr_planfile_write(struct cmr_buf *out, const struct cmr_plan *plan,
                       struct cmr_error *err)
{
	bool first = true;

	cmr_buf_addc(out, '{');
	put_str(out, 1, &first, "kind", CMR_PLANFILE_KIND);
	put_uint(out, 1, &first, "format_version", CMR_PLAN_FORMAT_VERSION);
	put_str(out, 1, &first, "plan_id", plan->plan_id);
	put_str(out, 1, &first, "created", plan->created);
	put_str(out, 1, &first, "cm_url", plan->cm_url);
	put_str(out, 1, &first, "cm_version", plan->cm_version);
	put_str(out, 1, &first, "api_version", plan->api_version);
	put_strs(out, 1, &first, "clusters",
	         (const char *const *)plan->clusters.items, plan->clusters.len);
	put_strs(out, 1, &first, "targets",
	         (const char *const *)plan->targets.items, plan->targets.len);
	put_bool(out, 1, &first, "has_changes", cmr_plan_has_changes(plan));
	write_summary(out, 1, &first, plan);
	put_items(out, 1, &first, "scopes", ITEM_SCOPE,
	          (void *const *)plan->scopes.items, plan->scopes.len);
	put_items(out, 1, &first, "parcels", ITEM_PARCEL,
	          (void *const *)plan->parcels.items, plan->parcels.len);
	put_bool(out, 1, &first, "refresh_parcel_repos",
	         plan->refresh_parcel_repos);
	put_items(out, 1, &first, "restarts", ITEM_RESTART,
	          (void *const *)plan->restarts.items, plan->restarts.len);
	put_items(out, 1, &first, "notes", ITEM_NOTE,
	          (void *const *)plan->notes.items, plan->notes.len);
	put_items(out, 1, &first, "fingerprints", ITEM_FP,
	          (void *const *)plan->fingerprints.items,
	          plan->fingerprints.len);
	cmr_buf_adds(out, "\n}\n");
	if (cmr_buf_error(out) < 0)
		return cmr_error_set(
		        err, CMR_ENOMEM,
		        "plan file: out of memory writing the plan");
	return 0;
}

/* ======================================================================
 * Reading
 */

struct reader {
	struct cmr_plan *plan;
	struct cmr_error *err;
};

#define PATH_MAX_LEN 256

/* Formats a member path ("scopes[2].changes[0]") into dst. */
static void pathf(char *dst, const char *fmt, ...) CMR_PRINTF(2, 3);

static void pathf(char *dst, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(dst, PATH_MAX_LEN, fmt, ap);
	va_end(ap);
}

/* "base.name", or "name" at the top level. */
static void member_path(char *dst, const char *base, const char *name)
{
	if (*base)
		pathf(dst, "%s.%s", base, name);
	else
		pathf(dst, "%s", name);
}

static int bad(struct reader *r, const char *path, const char *fmt, ...)
        CMR_PRINTF(3, 4);

static int bad(struct reader *r, const char *path, const char *fmt, ...)
{
	char msg[CMR_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*path)
		return cmr_error_set(r->err, CMR_EINVAL, "plan file: %s: %s",
		                     path, msg);
	return cmr_error_set(r->err, CMR_EINVAL, "plan file: %s", msg);
}

/* Like bad(), for member `name` of the object at `path`. */
static int bad_member(struct reader *r, const char *path, const char *name,
                      const char *fmt, ...) CMR_PRINTF(4, 5);

static int bad_member(struct reader *r, const char *path, const char *name,
                      const char *fmt, ...)
{
	char p[PATH_MAX_LEN];
	char msg[CMR_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	member_path(p, path, name);
	return bad(r, p, "%s", msg);
}

static int oom(struct reader *r)
{
	return cmr_error_set(r->err, CMR_ENOMEM,
	                     "plan file: out of memory reading the plan");
}

static const char *type_word(json_type t)
{
	switch (t) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
	case json_type_int:
		return "a number";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "something else";
}

/* Refuses members of `obj` not listed in `names`. */
static int check_members(struct reader *r, struct json_object *obj,
                         const char *path, const char *const *names, size_t n)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);
	char p[PATH_MAX_LEN];

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(names[i], name) == 0)
				break;
		if (i == n) {
			member_path(p, path, name);
			return bad(r, p, "unknown member");
		}
	}
	return 0;
}

/* The member `name` of `obj`, which must exist and be of type `t`. */
static int get(struct reader *r, struct json_object **out,
               struct json_object *obj, const char *path, const char *name,
               json_type t, bool nullable)
{
	struct json_object *v = NULL;
	char p[PATH_MAX_LEN];

	member_path(p, path, name);
	if (!json_object_object_get_ex(obj, name, &v))
		return bad(r, p, "missing");
	if (v == NULL && nullable) {
		*out = NULL;
		return 0;
	}
	if (!json_object_is_type(v, t))
		return bad(r, p, "expected %s%s, not %s", type_word(t),
		           nullable ? " or null" : "",
		           type_word(json_object_get_type(v)));
	*out = v;
	return 0;
}

/* A string member copied into the plan's arena (NULL for null). */
static int get_str(struct reader *r, const char **out, struct json_object *obj,
                   const char *path, const char *name, bool nullable)
{
	struct json_object *v = NULL;
	const char *s;
	int error = get(r, &v, obj, path, name, json_type_string, nullable);

	if (error < 0)
		return error;
	if (!v) {
		*out = NULL;
		return 0;
	}
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return bad_member(r, path, name, "contains a NUL character");
	*out = cmr_arena_strdup(&r->plan->arena, s);
	return *out ? 0 : oom(r);
}

static int get_bool(struct reader *r, bool *out, struct json_object *obj,
                    const char *path, const char *name)
{
	struct json_object *v = NULL;
	int error = get(r, &v, obj, path, name, json_type_boolean, false);

	if (error < 0)
		return error;
	*out = json_object_get_boolean(v) != 0;
	return 0;
}

static int get_uint(struct reader *r, uint32_t *out, struct json_object *obj,
                    const char *path, const char *name)
{
	struct json_object *v = NULL;
	int64_t n;
	int error = get(r, &v, obj, path, name, json_type_int, false);

	if (error < 0)
		return error;
	n = json_object_get_int64(v);
	if (n < 0 || n > (int64_t)UINT32_MAX)
		return bad_member(r, path, name, "out of range");
	*out = (uint32_t)n;
	return 0;
}

/*
 * An enumeration member: a string parsed by `parse` (a names.c parser, cast
 * to a common shape), or -- when `nullable` -- null for the enum's 0 value.
 */
static int get_enum(struct reader *r, int *out, struct json_object *obj,
                    const char *path, const char *name, bool nullable,
                    int (*parse)(int *out, const char *s))
{
	struct json_object *v = NULL;
	const char *s;
	int error = get(r, &v, obj, path, name, json_type_string, nullable);

	if (error < 0)
		return error;
	if (!v) {
		*out = 0;
		return 0;
	}
	s = json_object_get_string(v);
	if (parse(out, s) < 0)
		return bad_member(r, path, name, "unknown value '%.200s'", s);
	return 0;
}

/*
 * Adapters from the typed parsers of names.c and model/params to the int
 * shape get_enum takes (enums are not interchangeable through pointers).
 */
static int parse_op(int *out, const char *s)
{
	enum cmr_change_op v;

	if (cmr_change_op_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_kind(int *out, const char *s)
{
	enum cmr_scope_kind v;

	if (cmr_scope_kind_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_secret(int *out, const char *s)
{
	enum cmr_secret_status v;

	if (cmr_secret_status_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_validation(int *out, const char *s)
{
	enum cmr_validation v;

	if (cmr_validation_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_stage(int *out, const char *s)
{
	enum cmr_parcel_stage v;

	if (cmr_parcel_stage_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_action(int *out, const char *s)
{
	enum cmr_restart_action v;

	if (cmr_restart_action_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_level(int *out, const char *s)
{
	enum cmr_note_level v;

	if (cmr_note_level_parse(&v, s) < 0)
		return CMR_EINVAL;
	*out = (int)v;
	return 0;
}

/* An array member; *n is its length. */
static int get_array(struct reader *r, struct json_object **out, size_t *n,
                     struct json_object *obj, const char *path,
                     const char *name)
{
	int error = get(r, out, obj, path, name, json_type_array, false);

	if (error < 0)
		return error;
	*n = json_object_array_length(*out);
	return 0;
}

/* An array of flag names into a bit set; duplicates are refused. */
static int get_flags(struct reader *r, unsigned *out, struct json_object *obj,
                     const char *path, const char *name,
                     const char *const *names, size_t nnames)
{
	struct json_object *arr = NULL;
	char p[PATH_MAX_LEN];
	size_t i;
	size_t k;
	size_t n = 0;
	int error = get_array(r, &arr, &n, obj, path, name);

	if (error < 0)
		return error;
	*out = 0;
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s;

		if (!json_object_is_type(v, json_type_string)) {
			pathf(p, "%s%s%s[%zu]", path, *path ? "." : "", name,
			      i);
			return bad(r, p, "expected a string");
		}
		s = json_object_get_string(v);
		for (k = 0; k < nnames; k++)
			if (strcmp(names[k], s) == 0)
				break;
		if (k == nnames || (*out & (1u << k))) {
			pathf(p, "%s%s%s[%zu]", path, *path ? "." : "", name,
			      i);
			return bad(r, p, "%s value '%.200s'",
			           k == nnames ? "unknown" : "repeated", s);
		}
		*out |= 1u << k;
	}
	return 0;
}

/*
 * The plan's string lists (clusters, targets): anonymous structs, so the
 * array's members are passed one by one to the vec.h primitive.
 */
static int get_str_list(struct reader *r, const char ***items, size_t *len,
                        size_t *alloc, struct json_object *obj,
                        const char *name)
{
	struct json_object *arr = NULL;
	char p[PATH_MAX_LEN];
	size_t i;
	size_t n = 0;
	int error = get_array(r, &arr, &n, obj, "", name);

	if (error < 0)
		return error;
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s;

		if (!json_object_is_type(v, json_type_string)) {
			pathf(p, "%s[%zu]", name, i);
			return bad(r, p, "expected a string");
		}
		s = cmr_arena_strdup(&r->plan->arena,
		                     json_object_get_string(v));
		if (!s ||
		    cmr_vec_grow_(items, alloc, *len + 1, sizeof(**items)) < 0)
			return oom(r);
		(*items)[(*len)++] = s;
	}
	return 0;
}

static int get_mark(struct reader *r, struct cmr_mark *out,
                    struct json_object *obj, const char *path)
{
	static const char *const names[] = { "file", "line", "column" };
	struct json_object *m = NULL;
	char p[PATH_MAX_LEN];
	int error = get(r, &m, obj, path, "mark", json_type_object, true);

	if (error < 0 || !m)
		return error;
	member_path(p, path, "mark");
	if ((error = check_members(r, m, p, names, 3)) < 0 ||
	    (error = get_str(r, &out->file, m, p, "file", true)) < 0 ||
	    (error = get_uint(r, &out->line, m, p, "line")) < 0 ||
	    (error = get_uint(r, &out->col, m, p, "column")) < 0)
		return error;
	return 0;
}

/* Object `name`[i] of array `arr`, with its path written into p. */
static int get_item(struct reader *r, struct json_object **out,
                    struct json_object *arr, size_t i, const char *base,
                    const char *name, char *p)
{
	if (*base)
		pathf(p, "%s.%s[%zu]", base, name, i);
	else
		pathf(p, "%s[%zu]", name, i);
	*out = json_object_array_get_idx(arr, i);
	if (!json_object_is_type(*out, json_type_object))
		return bad(r, p, "expected an object, not %s",
		           type_word(json_object_get_type(*out)));
	return 0;
}

static int read_change(struct reader *r, struct cmr_change **out,
                       struct json_object *o, const char *p)
{
	static const char *const names[] = {
		"key",       "op",        "old_value",  "default_value",
		"new_value", "sensitive", "secret",     "secret_source",
		"pruned",    "effects",   "validation", "validation_message",
		"mark",
	};
	struct cmr_change *c = cmr_arena_alloc(&r->plan->arena, sizeof(*c));
	const char *source = NULL;
	int op = 0;
	int secret = 0;
	int validation = 0;
	int error;

	if (!c)
		return oom(r);
	if ((error = check_members(r, o, p, names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_str(r, &c->key, o, p, "key", false)) < 0 ||
	    (error = get_enum(r, &op, o, p, "op", false, parse_op)) < 0 ||
	    (error = get_str(r, &c->old_value, o, p, "old_value", true)) < 0 ||
	    (error = get_str(r, &c->default_value, o, p, "default_value",
	                     true)) < 0 ||
	    (error = get_str(r, &c->new_value, o, p, "new_value", true)) < 0 ||
	    (error = get_bool(r, &c->sensitive, o, p, "sensitive")) < 0 ||
	    (error = get_enum(r, &secret, o, p, "secret", false,
	                      parse_secret)) < 0 ||
	    (error = get_str(r, &source, o, p, "secret_source", true)) < 0 ||
	    (error = get_bool(r, &c->pruned, o, p, "pruned")) < 0 ||
	    (error = get_flags(r, &c->effect, o, p, "effects", effect_names,
	                       CMR_ARRAY_SIZE(effect_names))) < 0 ||
	    (error = get_enum(r, &validation, o, p, "validation", true,
	                      parse_validation)) < 0 ||
	    (error = get_str(r, &c->validation_message, o, p,
	                     "validation_message", true)) < 0 ||
	    (error = get_mark(r, &c->mark, o, p)) < 0)
		return error;
	c->op = (enum cmr_change_op)op;
	c->secret = (enum cmr_secret_status)secret;
	c->validation = (enum cmr_validation)validation;
	if (source && cmr_value_ref_parse(&c->secret_source, source) < 0)
		return bad(r, p,
		           "secret_source is '%s', not \"env NAME\" or "
		           "\"file PATH\"",
		           source);
	if (source && !c->sensitive)
		return bad(r, p, "a secret_source needs sensitive: true");

	/* The rules of plan.h, so apply never acts on an impossible change. */
	if (c->sensitive && (c->old_value || c->new_value || c->default_value ||
	                     c->validation_message))
		return bad(r, p, "a sensitive change may not carry a value");
	if (!c->sensitive && c->secret != CMR_SECRET_NONE)
		return bad(r, p, "secret is '%s' but sensitive is false",
		           cmr_secret_status_name(c->secret));
	if (c->op == CMR_OP_RESET && c->new_value)
		return bad(r, p, "a reset has no new_value");
	if (c->op != CMR_OP_RESET && !c->sensitive && !c->new_value)
		return bad(r, p, "new_value is required for op '%s'",
		           cmr_change_op_name(c->op));
	if (c->op == CMR_OP_UPDATE && !c->sensitive && !c->old_value)
		return bad(r, p, "old_value is required for op 'update'");
	*out = c;
	return 0;
}

static int read_scope(struct reader *r, struct json_object *o, const char *p)
{
	static const char *const names[] = { "kind",    "cluster",
		                             "service", "service_type",
		                             "group",   "changes" };
	struct cmr_scope_change *sc =
	        cmr_arena_alloc(&r->plan->arena, sizeof(*sc));
	struct json_object *arr = NULL;
	struct json_object *item = NULL;
	char cp[PATH_MAX_LEN];
	bool need_cluster, need_service, need_group;
	size_t i;
	size_t n = 0;
	int kind = 0;
	int error;

	if (!sc)
		return oom(r);
	if (cmr_vec_push(&r->plan->scopes, sc) < 0)
		return oom(r);
	if ((error = check_members(r, o, p, names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_enum(r, &kind, o, p, "kind", false, parse_kind)) < 0 ||
	    (error = get_str(r, &sc->scope.cluster, o, p, "cluster", true)) <
	            0 ||
	    (error = get_str(r, &sc->scope.service, o, p, "service", true)) <
	            0 ||
	    (error = get_str(r, &sc->service_type, o, p, "service_type",
	                     true)) < 0 ||
	    (error = get_str(r, &sc->scope.group, o, p, "group", true)) < 0 ||
	    (error = get_array(r, &arr, &n, o, p, "changes")) < 0)
		return error;
	sc->scope.kind = (enum cmr_scope_kind)kind;

	need_cluster = cmr_scope_in_cluster(sc->scope.kind);
	need_service = sc->scope.kind != CMR_SCOPE_CM;
	need_group = cmr_scope_is_group(sc->scope.kind);
	if (need_cluster != (sc->scope.cluster != NULL) ||
	    need_service != (sc->scope.service != NULL) ||
	    need_group != (sc->scope.group != NULL))
		return bad(r, p,
		           "a '%s' scope %s cluster, %s service and %s group",
		           cmr_scope_kind_name(sc->scope.kind),
		           need_cluster ? "needs a" : "has no",
		           need_service ? "a" : "no", need_group ? "a" : "no");

	for (i = 0; i < n; i++) {
		struct cmr_change *c = NULL;

		if ((error = get_item(r, &item, arr, i, p, "changes", cp)) <
		            0 ||
		    (error = read_change(r, &c, item, cp)) < 0)
			return error;
		if (cmr_vec_push(&sc->changes, c) < 0)
			return oom(r);
	}
	return 0;
}

static int read_parcel(struct reader *r, struct json_object *o, const char *p)
{
	static const char *const names[] = {
		"cluster", "product",  "version", "from",
		"to",      "replaces", "steps",   "needs_repo_refresh",
		"mark",
	};
	struct cmr_parcel_change *pc =
	        cmr_arena_alloc(&r->plan->arena, sizeof(*pc));
	struct json_object *arr = NULL;
	char sp[PATH_MAX_LEN];
	size_t i;
	size_t n = 0;
	int from = 0;
	int to = 0;
	int error;

	if (!pc)
		return oom(r);
	if (cmr_vec_push(&r->plan->parcels, pc) < 0)
		return oom(r);
	if ((error = check_members(r, o, p, names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_str(r, &pc->cluster, o, p, "cluster", false)) < 0 ||
	    (error = get_str(r, &pc->product, o, p, "product", false)) < 0 ||
	    (error = get_str(r, &pc->version, o, p, "version", false)) < 0 ||
	    (error = get_enum(r, &from, o, p, "from", true, parse_stage)) < 0 ||
	    (error = get_enum(r, &to, o, p, "to", true, parse_stage)) < 0 ||
	    (error = get_str(r, &pc->replaces, o, p, "replaces", true)) < 0 ||
	    (error = get_array(r, &arr, &n, o, p, "steps")) < 0 ||
	    (error = get_bool(r, &pc->needs_repo_refresh, o, p,
	                      "needs_repo_refresh")) < 0 ||
	    (error = get_mark(r, &pc->mark, o, p)) < 0)
		return error;
	pc->from = (enum cmr_parcel_stage)from;
	pc->to = (enum cmr_parcel_stage)to;
	if (n > CMR_PARCEL_MAX_STEPS) {
		pathf(sp, "%s.steps", p);
		return bad(r, sp, "more than %d steps", CMR_PARCEL_MAX_STEPS);
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		pathf(sp, "%s.steps[%zu]", p, i);
		if (!json_object_is_type(v, json_type_string))
			return bad(r, sp, "expected a string");
		if (cmr_parcel_cmd_parse(&pc->steps[i],
		                         json_object_get_string(v)) < 0)
			return bad(r, sp, "unknown value '%.200s'",
			           json_object_get_string(v));
	}
	pc->nsteps = n;
	return 0;
}

static int read_restart(struct reader *r, struct json_object *o, const char *p)
{
	static const char *const names[] = { "cluster",      "service",
		                             "service_type", "action",
		                             "reasons",      "maintenance",
		                             "order" };
	struct cmr_restart *rs = cmr_arena_alloc(&r->plan->arena, sizeof(*rs));
	int action = 0;
	int error;

	if (!rs)
		return oom(r);
	if (cmr_vec_push(&r->plan->restarts, rs) < 0)
		return oom(r);
	if ((error = check_members(r, o, p, names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_str(r, &rs->cluster, o, p, "cluster", true)) < 0 ||
	    (error = get_str(r, &rs->service, o, p, "service", false)) < 0 ||
	    (error = get_str(r, &rs->service_type, o, p, "service_type",
	                     true)) < 0 ||
	    (error = get_enum(r, &action, o, p, "action", false,
	                      parse_action)) < 0 ||
	    (error = get_flags(r, &rs->reasons, o, p, "reasons", reason_names,
	                       CMR_ARRAY_SIZE(reason_names))) < 0 ||
	    (error = get_bool(r, &rs->maintenance, o, p, "maintenance")) < 0 ||
	    (error = get_uint(r, &rs->order, o, p, "order")) < 0)
		return error;
	rs->action = (enum cmr_restart_action)action;
	return 0;
}

static int read_note(struct reader *r, struct json_object *o, const char *p)
{
	static const char *const names[] = { "level", "scope", "message",
		                             "mark" };
	struct cmr_note *n = cmr_arena_alloc(&r->plan->arena, sizeof(*n));
	int level = 0;
	int error;

	if (!n)
		return oom(r);
	if (cmr_vec_push(&r->plan->notes, n) < 0)
		return oom(r);
	if ((error = check_members(r, o, p, names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_enum(r, &level, o, p, "level", false, parse_level)) <
	            0 ||
	    (error = get_str(r, &n->scope, o, p, "scope", false)) < 0 ||
	    (error = get_str(r, &n->message, o, p, "message", false)) < 0 ||
	    (error = get_mark(r, &n->mark, o, p)) < 0)
		return error;
	n->level = (enum cmr_note_level)level;
	return 0;
}

static bool is_sha256_hex(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

static int read_fingerprint(struct reader *r, struct json_object *o,
                            const char *p)
{
	static const char *const names[] = { "scope", "sha256" };
	struct cmr_fingerprint *f =
	        cmr_arena_alloc(&r->plan->arena, sizeof(*f));
	int error;

	if (!f)
		return oom(r);
	if (cmr_vec_push(&r->plan->fingerprints, f) < 0)
		return oom(r);
	if ((error = check_members(r, o, p, names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_str(r, &f->scope, o, p, "scope", false)) < 0 ||
	    (error = get_str(r, &f->sha256, o, p, "sha256", false)) < 0)
		return error;
	if (!is_sha256_hex(f->sha256))
		return bad_member(r, p, "sha256",
		                  "expected 64 lowercase hex digits");
	return 0;
}

/* Reads every object of array member `name` with `fn`. */
static int
read_items(struct reader *r, struct json_object *root, const char *name,
           int (*fn)(struct reader *r, struct json_object *o, const char *p))
{
	struct json_object *arr = NULL;
	struct json_object *item = NULL;
	char p[PATH_MAX_LEN];
	size_t i;
	size_t n = 0;
	int error = get_array(r, &arr, &n, root, "", name);

	for (i = 0; error == 0 && i < n; i++) {
		error = get_item(r, &item, arr, i, "", name, p);
		if (error == 0)
			error = fn(r, item, p);
	}
	return error;
}

/* The derived summary: only its shape is checked (it is recomputed). */
static int read_summary(struct reader *r, struct json_object *root)
{
	struct json_object *s = NULL;
	uint32_t v;
	size_t i;
	int error = get(r, &s, root, "", "summary", json_type_object, false);

	if (error < 0)
		return error;
	error = check_members(r, s, "summary", summary_names,
	                      CMR_ARRAY_SIZE(summary_names));
	for (i = 0; error == 0 && i < CMR_ARRAY_SIZE(summary_names); i++)
		error = get_uint(r, &v, s, "summary", summary_names[i]);
	return error;
}

static int not_a_plan(struct cmr_error *err)
{
	return cmr_error_set(err, CMR_EINVAL,
	                     "plan file: not a cmrecon plan (expected a JSON "
	                     "object with \"kind\": \"%s\")",
	                     CMR_PLANFILE_KIND);
}

static int read_root(struct reader *r, struct json_object *root)
{
	static const char *const names[] = {
		"kind",         "format_version",
		"plan_id",      "created",
		"cm_url",       "cm_version",
		"api_version",  "clusters",
		"targets",      "has_changes",
		"summary",      "scopes",
		"parcels",      "refresh_parcel_repos",
		"restarts",     "notes",
		"fingerprints",
	};
	struct cmr_plan *plan = r->plan;
	struct json_object *v = NULL;
	bool has_changes;
	int error;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "kind", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), CMR_PLANFILE_KIND) != 0)
		return not_a_plan(r->err);
	if (!json_object_object_get_ex(root, "format_version", &v) ||
	    !json_object_is_type(v, json_type_int))
		return bad(r, "format_version", "missing or not an integer");
	if (json_object_get_int64(v) != CMR_PLAN_FORMAT_VERSION)
		return bad(
		        r, "",
		        "format_version %lld is not supported (this cmrecon reads %d)",
		        (long long)json_object_get_int64(v),
		        CMR_PLAN_FORMAT_VERSION);

	if ((error = check_members(r, root, "", names, CMR_ARRAY_SIZE(names))) <
	            0 ||
	    (error = get_str(r, &plan->plan_id, root, "", "plan_id", true)) <
	            0 ||
	    (error = get_str(r, &plan->created, root, "", "created", true)) <
	            0 ||
	    (error = get_str(r, &plan->cm_url, root, "", "cm_url", true)) < 0 ||
	    (error = get_str(r, &plan->cm_version, root, "", "cm_version",
	                     true)) < 0 ||
	    (error = get_str(r, &plan->api_version, root, "", "api_version",
	                     true)) < 0 ||
	    (error = get_str_list(r, &plan->clusters.items, &plan->clusters.len,
	                          &plan->clusters.alloc, root, "clusters")) <
	            0 ||
	    (error = get_str_list(r, &plan->targets.items, &plan->targets.len,
	                          &plan->targets.alloc, root, "targets")) < 0 ||
	    (error = get_bool(r, &has_changes, root, "", "has_changes")) < 0 ||
	    (error = read_summary(r, root)) < 0 ||
	    (error = read_items(r, root, "scopes", read_scope)) < 0 ||
	    (error = read_items(r, root, "parcels", read_parcel)) < 0 ||
	    (error = get_bool(r, &plan->refresh_parcel_repos, root, "",
	                      "refresh_parcel_repos")) < 0 ||
	    (error = read_items(r, root, "restarts", read_restart)) < 0 ||
	    (error = read_items(r, root, "notes", read_note)) < 0 ||
	    (error = read_items(r, root, "fingerprints", read_fingerprint)) < 0)
		return error;
	return 0;
}

/* 1-based line and column of byte `off` in text. */
static void locate(size_t *line, size_t *col, const char *text, size_t off)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/*
 * Parses the whole text as one strict JSON value.  *out is the caller's
 * (json_object_put).  On failure sets a located message when err is
 * given.
 */
static int parse_json(struct json_object **out, const char *text, size_t len,
                      struct cmr_error *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL;
	enum json_tokener_error jerr;
	size_t end;
	size_t line;
	size_t col;
	int error = CMR_EINVAL;

	*out = NULL;
	if (len > CMR_PLANFILE_MAX_SIZE) {
		cmr_error_set(err, CMR_EINVAL,
		              "plan file: larger than %zu bytes",
		              CMR_PLANFILE_MAX_SIZE);
		goto done;
	}
	tok = json_tokener_new_ex(64);
	if (!tok) {
		error = cmr_error_set(err, CMR_ENOMEM,
		                      "plan file: out of memory parsing JSON");
		goto done;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		locate(&line, &col, text, len);
		cmr_error_set(
		        err, CMR_EINVAL,
		        "plan file: invalid JSON at line %zu, column %zu: unexpected end of data",
		        line, col);
		goto done;
	}
	if (jerr != json_tokener_success) {
		locate(&line, &col, text, end < len ? end : len);
		cmr_error_set(
		        err, CMR_EINVAL,
		        "plan file: invalid JSON at line %zu, column %zu: %s",
		        line, col, json_tokener_error_desc(jerr));
		goto done;
	}
	for (; end < len; end++)
		if (!strchr(" \t\r\n", text[end]) || text[end] == '\0')
			break;
	if (end < len) {
		locate(&line, &col, text, end);
		cmr_error_set(
		        err, CMR_EINVAL,
		        "plan file: invalid JSON at line %zu, column %zu: text after the end of the plan",
		        line, col);
		goto done;
	}
	*out = root;
	root = NULL;
	error = 0;
done:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	return error;
}

int cmr_planfile_read(struct cmr_plan **out, const char *text, size_t len,
                      struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct cmr_plan *plan = NULL;
	struct reader r;
	size_t i;
	int error;

	*out = NULL;
	/* Say what the file is not before complaining about its syntax. */
	for (i = 0; i < len && text[i] && strchr(" \t\r\n", text[i]); i++)
		;
	if (i == len || text[i] != '{') {
		error = not_a_plan(err);
		goto done;
	}
	if ((error = parse_json(&root, text, len, err)) < 0)
		goto done;
	if ((error = cmr_plan_new(&plan, err)) < 0)
		goto done;
	r.plan = plan;
	r.err = err;
	if ((error = read_root(&r, root)) < 0)
		goto done;
	if (cmr_arena_error(&plan->arena) < 0) {
		error = oom(&r);
		goto done;
	}
	*out = plan;
	plan = NULL;
done:
	json_object_put(root);
	cmr_plan_free(plan);
	return error;
}

bool cmr_planfile_detect(const char *text, size_t len)
{
	struct json_object *root = NULL;
	struct json_object *kind;
	bool yes = false;

	/* Cheap test first: a plan file is a JSON object. */
	while (len > 0 && strchr(" \t\r\n", *text) && *text) {
		text++;
		len--;
	}
	if (len == 0 || *text != '{')
		return false;
	if (parse_json(&root, text, len, NULL) < 0)
		return false;
	yes = json_object_object_get_ex(root, "kind", &kind) &&
	      json_object_is_type(kind, json_type_string) &&
	      strcmp(json_object_get_string(kind), CMR_PLANFILE_KIND) == 0;
	json_object_put(root);
	return yes;
}
