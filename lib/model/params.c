/*
 * params.c -- per-scope parameter metadata from CM's view=full.
 *
 * Kept apart from the values of model.h because only some scopes are read
 * with view=full (those where the file names keys live leaves unset), and
 * because the planner asks different questions of it: "does CM know this
 * name here?", "what is its default?", "is it sensitive?".  Both levels
 * are sorted arrays of pointers, so lookups are binary searches and
 * iteration is deterministic.
 */
#include "cmr/params.h"

#include <string.h>

#include "cmr/alloc.h"
#include "cmr/suggest.h"
#include "cmr/vec.h"

static const char *const validation_names[] = { "", "OK", "WARNING", "ERROR" };

const char *cmr_validation_name(enum cmr_validation v)
{
	if ((size_t)v >= CMR_ARRAY_SIZE(validation_names))
		return "";
	return validation_names[v];
}

int cmr_validation_parse(enum cmr_validation *out, const char *s)
{
	size_t k;

	for (k = 1; k < CMR_ARRAY_SIZE(validation_names); k++)
		if (strcmp(s, validation_names[k]) == 0) {
			*out = (enum cmr_validation)k;
			return 0;
		}
	return CMR_EINVAL;
}

int cmr_params_new(struct cmr_params **out, struct cmr_error *err)
{
	struct cmr_params *p = cmr_calloc(1, sizeof(*p));

	if (!p)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	cmr_arena_init(&p->arena);
	*out = p;
	return 0;
}

/*
 * The params array of each scope is a vec of the scope, allocated with
 * cmr_realloc; free them too.  Kept in a helper so cmr_params_free reads
 * as "scopes, then arena".
 */
static void free_scope_arrays(struct cmr_params *p)
{
	size_t i;

	for (i = 0; i < p->scopes.len; i++)
		cmr_vec_release(&p->scopes.items[i]->params);
}

void cmr_params_free(struct cmr_params *p)
{
	if (!p)
		return;
	free_scope_arrays(p);
	cmr_vec_release(&p->scopes);
	cmr_arena_release(&p->arena);
	cmr_free(p);
}

const char *cmr_params_strdup(struct cmr_params *p, const char *s)
{
	return s ? cmr_arena_strdup(&p->arena, s) : NULL;
}

/*
 * Binary searches over the sorted pointer arrays: the index of the match,
 * or the insertion point with *found = 0.
 */
static size_t find_scope_index(const struct cmr_params *p, const char *key,
                               int *found)
{
	size_t lo = 0;
	size_t hi = p->scopes.len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(p->scopes.items[mid]->key, key);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static size_t find_param_index(const struct cmr_scope_params *s,
                               const char *name, int *found)
{
	size_t lo = 0;
	size_t hi = s->params.len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->params.items[mid]->name, name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

struct cmr_scope_params *cmr_params_find_scope(const struct cmr_params *p,
                                               const char *key)
{
	int found;
	size_t i;

	if (!p)
		return NULL;
	i = find_scope_index(p, key, &found);
	return found ? p->scopes.items[i] : NULL;
}

int cmr_params_add_scope(struct cmr_scope_params **out, struct cmr_params *p,
                         const char *key, struct cmr_error *err)
{
	struct cmr_scope_params *s;
	int found;
	size_t i;

	if (!key || !*key)
		return cmr_error_set(err, CMR_EINVAL, "empty scope key");
	i = find_scope_index(p, key, &found);
	if (found) {
		*out = p->scopes.items[i];
		return 0;
	}
	s = cmr_arena_alloc(&p->arena, sizeof(*s));
	if (s)
		s->key = cmr_arena_strdup(&p->arena, key);
	if (!s || !s->key || cmr_vec_reserve(&p->scopes, p->scopes.len + 1))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	memmove(&p->scopes.items[i + 1], &p->scopes.items[i],
	        (p->scopes.len - i) * sizeof(struct cmr_scope_params *));
	p->scopes.items[i] = s;
	p->scopes.len++;
	*out = s;
	return 0;
}

struct cmr_param *cmr_scope_find_param(const struct cmr_scope_params *scope,
                                       const char *name)
{
	int found;
	size_t i;

	if (!scope)
		return NULL;
	i = find_param_index(scope, name, &found);
	return found ? scope->params.items[i] : NULL;
}

int cmr_scope_add_param(struct cmr_param **out, struct cmr_params *p,
                        struct cmr_scope_params *scope, const char *name,
                        struct cmr_error *err)
{
	struct cmr_param *prm;
	int found;
	size_t i;

	if (!name || !*name)
		return cmr_error_set(err, CMR_EINVAL, "empty parameter name");
	i = find_param_index(scope, name, &found);
	if (found) {
		*out = scope->params.items[i];
		return 0;
	}
	prm = cmr_arena_alloc(&p->arena, sizeof(*prm));
	if (prm)
		prm->name = cmr_arena_strdup(&p->arena, name);
	if (!prm || !prm->name ||
	    cmr_vec_reserve(&scope->params, scope->params.len + 1))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	memmove(&scope->params.items[i + 1], &scope->params.items[i],
	        (scope->params.len - i) * sizeof(struct cmr_param *));
	scope->params.items[i] = prm;
	scope->params.len++;
	*out = prm;
	return 0;
}

size_t cmr_scope_suggest(const char **out, size_t max,
                         const struct cmr_scope_params *scope, const char *name)
{
	struct cmr_suggest s;
	size_t i;

	cmr_suggest_init(&s, name);
	for (i = 0; scope && i < scope->params.len; i++)
		cmr_suggest_offer(&s, scope->params.items[i]->name);
	for (i = 0; i < s.n && i < max; i++)
		out[i] = s.names[i];
	return i;
}
