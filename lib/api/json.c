/*
 * json.c -- small, strict accessors over json-c for the decoders.
 *
 * CM's answers are decoded by walking json-c trees with these helpers, so
 * that the rules are the same everywhere: an absent or null member is
 * "not given" (CM omits nulls), a member of the wrong type is an error
 * that names the field by its path, and unknown members are never looked
 * at.  The path is kept in a fixed buffer (a truncated path is still a
 * useful message; reporting never allocates).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api_int.h"

void jctx_init(struct jctx *j, const char *what, struct cmr_error *err)
{
	j->what = what;
	j->err = err;
	j->path[0] = '\0';
	j->len = 0;
}

static void path_add(struct jctx *j, const char *s)
{
	size_t n = strlen(s);

	if (j->len + n >= sizeof(j->path))
		n = sizeof(j->path) - 1 - j->len;
	memcpy(j->path + j->len, s, n);
	j->len += n;
	j->path[j->len] = '\0';
}

size_t jpath_key(struct jctx *j, const char *key)
{
	size_t old = j->len;

	if (j->len > 0)
		path_add(j, ".");
	path_add(j, key);
	return old;
}

size_t jpath_index(struct jctx *j, size_t i)
{
	size_t old = j->len;
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "[%zu]", i);
	path_add(j, tmp);
	return old;
}

void jpath_pop(struct jctx *j, size_t old)
{
	if (old <= j->len) {
		j->len = old;
		j->path[old] = '\0';
	}
}

int jfail(struct jctx *j, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	/* a false positive of clang-tidy 14: ap is started just above */
	/* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (j->len > 0)
		return cmr_error_set(j->err, CMR_EINVAL, "%s: %s: %s", j->what,
		                     j->path, msg);
	return cmr_error_set(j->err, CMR_EINVAL, "%s: %s", j->what, msg);
}

int jparse(struct json_object **out, const char *what, const char *body,
           size_t len, struct cmr_error *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	enum json_tokener_error jerr;
	size_t used;
	size_t i;
	int error = CMR_ERROR;

	*out = NULL;
	if (len > (size_t)INT32_MAX) {
		error = cmr_error_set(err, CMR_EINVAL, "%s: answer too large",
		                      what);
		goto done;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	o = json_tokener_parse_ex(tok, body, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_continue) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "%s: not JSON: unexpected end of text",
		                      what);
		goto done;
	}
	if (jerr != json_tokener_success || o == NULL) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "%s: not JSON: %s at offset %zu", what,
		                      json_tokener_error_desc(jerr),
		                      json_tokener_get_parse_end(tok));
		goto done;
	}
	used = json_tokener_get_parse_end(tok);
	for (i = used; i < len; i++) {
		char c = body[i];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			error = cmr_error_set(
			        err, CMR_EINVAL,
			        "%s: not JSON: trailing text at offset %zu",
			        what, i);
			goto done;
		}
	}
	*out = o;
	o = NULL;
	error = 0;
done:
	json_object_put(o);
	if (tok != NULL)
		json_tokener_free(tok);
	return error;
}

static const char *type_name(struct json_object *o)
{
	return json_type_to_name(json_object_get_type(o));
}

static const char *wanted_name(enum json_type t)
{
	switch (t) {
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	case json_type_boolean:
		return "a boolean";
	case json_type_int:
		return "an integer";
	default:
		return json_type_to_name(t);
	}
}

int jexpect(struct jctx *j, struct json_object *o, enum json_type type)
{
	if (o != NULL && json_object_is_type(o, type))
		return 0;
	return jfail(j, "expected %s, got %s", wanted_name(type),
	             o == NULL ? "null" : type_name(o));
}

/* The member `key` of o when present and not null, else NULL.  o must be
 * an object (callers check with jexpect first). */
static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v; /* NULL for a JSON null */
}

static int member_typed(struct json_object **out, struct jctx *j,
                        struct json_object *o, const char *key,
                        enum json_type type)
{
	struct json_object *v = member(o, key);
	size_t old;
	int error;

	*out = NULL;
	if (v == NULL)
		return 0;
	if (json_object_is_type(v, type)) {
		*out = v;
		return 0;
	}
	old = jpath_key(j, key);
	error = jexpect(j, v, type);
	jpath_pop(j, old);
	return error;
}

int jget_str(const char **out, struct jctx *j, struct json_object *o,
             const char *key)
{
	struct json_object *v;
	int error = member_typed(&v, j, o, key, json_type_string);

	*out = v != NULL ? json_object_get_string(v) : NULL;
	return error;
}

int jneed_str(const char **out, struct jctx *j, struct json_object *o,
              const char *key)
{
	size_t old;
	int error = jget_str(out, j, o, key);

	if (error < 0)
		return error;
	if (*out != NULL && (*out)[0] != '\0')
		return 0;
	old = jpath_key(j, key);
	error = jfail(j, "%s", *out == NULL ? "missing" : "empty");
	jpath_pop(j, old);
	return error;
}

int jget_bool(bool *out, struct jctx *j, struct json_object *o, const char *key)
{
	struct json_object *v;
	int error = member_typed(&v, j, o, key, json_type_boolean);

	*out = v != NULL ? json_object_get_boolean(v) != 0 : false;
	return error;
}

int jget_i64(int64_t *out, struct jctx *j, struct json_object *o,
             const char *key)
{
	struct json_object *v = member(o, key);

	if (v == NULL)
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return 0;
	}
	/* The v32 spec typed counters as `number`: 5.0 is accepted, 5.5
	 * is not. */
	if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);

		if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d) {
			*out = (int64_t)d;
			return 0;
		}
	}
	return member_typed(&v, j, o, key, json_type_int);
}

int jget_obj(struct json_object **out, struct jctx *j, struct json_object *o,
             const char *key)
{
	return member_typed(out, j, o, key, json_type_object);
}

int jget_arr(struct json_object **out, struct jctx *j, struct json_object *o,
             const char *key)
{
	return member_typed(out, j, o, key, json_type_array);
}
