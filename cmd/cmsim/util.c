/*
 * util.c -- small json-c accessors used across cmsim.
 *
 * json-c's own getters need an out-pointer and a type check at every use;
 * these wrappers return a default instead, which keeps the handlers short.
 * Every pointer they return is borrowed from the object passed in.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

struct json_object *cmsim_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *cmsim_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = cmsim_jget(o, key);

	if (!v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

bool cmsim_jbool(struct json_object *o, const char *key, bool dflt)
{
	struct json_object *v = cmsim_jget(o, key);

	if (!v || !json_object_is_type(v, json_type_boolean))
		return dflt;
	return json_object_get_boolean(v) != 0;
}

int64_t cmsim_jint(struct json_object *o, const char *key, int64_t dflt)
{
	struct json_object *v = cmsim_jget(o, key);

	if (!v || !(json_object_is_type(v, json_type_int) ||
	            json_object_is_type(v, json_type_double)))
		return dflt;
	return json_object_get_int64(v);
}

struct json_object *cmsim_jarr(struct json_object *o, const char *key)
{
	struct json_object *v = cmsim_jget(o, key);

	if (!o)
		return NULL;
	if (v && json_object_is_type(v, json_type_array))
		return v;
	v = json_object_new_array();
	json_object_object_add(o, key, v);
	return v;
}

void cmsim_jset_str(struct json_object *o, const char *key, const char *v)
{
	if (!v) {
		json_object_object_del(o, key);
		return;
	}
	json_object_object_add(o, key, json_object_new_string(v));
}

void cmsim_jset_int(struct json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void cmsim_jset_bool(struct json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v ? 1 : 0));
}

struct json_object *cmsim_jdup(struct json_object *o)
{
	struct json_object *copy = NULL;

	if (!o)
		return NULL;
	if (json_object_deep_copy(o, &copy, NULL) != 0)
		return NULL;
	return copy;
}

void cmsim_jcopy(struct json_object *dst, struct json_object *src,
                 const char *key)
{
	struct json_object *v = cmsim_jget(src, key);

	if (v)
		json_object_object_add(dst, key, cmsim_jdup(v));
}

void cmsim_iso_time(char *dst, size_t size, int64_t epoch_ms)
{
	time_t secs = (time_t)(epoch_ms / 1000);
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	gmtime_r(&secs, &tm);
	snprintf(dst, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, (int)(epoch_ms % 1000));
}

bool cmsim_streq_ci(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	while (*a && *b) {
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
		a++;
		b++;
	}
	return *a == *b;
}
