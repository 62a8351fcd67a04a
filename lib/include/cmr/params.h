/*
 * params.h -- what CM says about the parameters of a scope (view=full).
 *
 * The model (model.h) holds values; planning also needs to know, for the
 * scopes where the file names keys that live leaves unset, which names CM
 * knows for the scope, their defaults, whether they are sensitive, and
 * CM's validation verdicts.  That comes from `GET .../config?view=full`
 * and is kept here, per scope, beside the live state.  lib/api fills it;
 * lib/plan reads it.  A scope that was not read with view=full is simply
 * absent: the planner then knows only what the live values tell it.
 *
 * Scopes are identified by their scope key (cmr_scope_key in model.h:
 * "cm", "mgmt", "mgmt/GROUP", "CLUSTER/SERVICE", "CLUSTER/SERVICE/GROUP").
 *
 * Ownership: one arena per struct cmr_params, freed by cmr_params_free.
 * Strings passed in are copied.  Lookups return borrowed pointers.
 */
#ifndef CMR_PARAMS_H
#define CMR_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/arena.h"
#include "cmr/buf.h"
#include "cmr/common.h"
#include "cmr/error.h"

enum cmr_validation {
	CMR_VALIDATION_NONE = 0, /* not reported */
	CMR_VALIDATION_OK,
	CMR_VALIDATION_WARNING,
	CMR_VALIDATION_ERROR,
};

const char *cmr_validation_name(enum cmr_validation v);
int cmr_validation_parse(enum cmr_validation *out,
                         const char *s) CMR_WARN_UNUSED;

/* One parameter of one scope, as view=full reports it. */
struct cmr_param {
	const char *name;
	const char *default_value; /* NULL: CM reports no default */
	const char *display_name;  /* NULL when absent */
	const char *related_name;  /* NULL when absent */
	bool sensitive;
	bool required;
	enum cmr_validation validation;
	const char *validation_message; /* NULL when absent */
};

struct cmr_param_list {
	struct cmr_param **items;
	size_t len, alloc;
};

struct cmr_scope_params {
	const char *key; /* the scope key (see above) */

	struct cmr_param_list params; /* sorted by name */
};

struct cmr_scope_params_list {
	struct cmr_scope_params **items;
	size_t len, alloc;
};

struct cmr_params {
	struct cmr_arena arena;

	struct cmr_scope_params_list scopes; /* sorted by key */
};

/* A new, empty set; *out is the caller's (cmr_params_free).  0/ENOMEM. */
int cmr_params_new(struct cmr_params **out, struct cmr_error *err);
void cmr_params_free(struct cmr_params *p);

/* Find or add the scope `key`; *out is borrowed.  0/EINVAL/ENOMEM. */
int cmr_params_add_scope(struct cmr_scope_params **out, struct cmr_params *p,
                         const char *key, struct cmr_error *err);

/* The scope, or NULL when it was not read. */
struct cmr_scope_params *cmr_params_find_scope(const struct cmr_params *p,
                                               const char *key);

/*
 * Find or add parameter `name` in the scope; *out is borrowed and zeroed
 * when new (the caller fills the fields, copying strings with
 * cmr_params_strdup).  0/EINVAL/ENOMEM.
 */
int cmr_scope_add_param(struct cmr_param **out, struct cmr_params *p,
                        struct cmr_scope_params *scope, const char *name,
                        struct cmr_error *err);

/* The parameter, or NULL. */
struct cmr_param *cmr_scope_find_param(const struct cmr_scope_params *scope,
                                       const char *name);

/* A copy of s in the set's arena (NULL for NULL, or when out of memory). */
const char *cmr_params_strdup(struct cmr_params *p, const char *s);

/*
 * Up to `max` names of the scope closest to `name` (edit distance, then
 * alphabetical), for "did you mean" suggestions; only names within a
 * distance that makes a typo plausible.  Returns how many were stored in
 * out[] (borrowed).
 */
size_t cmr_scope_suggest(const char **out, size_t max,
                         const struct cmr_scope_params *scope,
                         const char *name);

#endif
