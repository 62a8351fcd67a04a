/*
 * schema.c -- the node tree of one file, checked against format version 1
 * and merged into the state.
 *
 * Each level has a function that knows its fields.  Problems are reported
 * and the walk goes on with the next field, so one run shows everything
 * wrong with a file; only an unsupported `version` stops it (the rest of
 * such a file is in a format this code does not know).  What is valid is
 * written into the state even when other parts of the file are not, which
 * keeps later checks (a type conflict with a later file) meaningful.
 *
 * Merging needs no code of its own: the model's add functions find what an
 * earlier file created, and setters replace.  The one rule that needs a
 * check is the service type, which must not change between files.
 *
 * Values are never quoted in messages: a value may be a secret that the
 * user put in the wrong place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/load.h"

#include "load_int.h"

/* ----------------------------------------------------------------------
 * Node helpers
 */

static bool is_null(const struct node *n)
{
	return n->kind == NODE_SCALAR && n->plain &&
	       cmr_scalar_is_null(n->text, n->len);
}

/* "a map", "a list", "null", "nothing"...: for "must be X, not Y" messages. */
static const char *describe(const struct node *n)
{
	if (n->kind == NODE_MAP)
		return "a map";
	if (n->kind == NODE_SEQ)
		return "a list";
	if (n->plain && n->len == 0)
		return "nothing";
	if (is_null(n))
		return "null";
	if (n->len == 0)
		return "an empty string";
	return "a string";
}

static bool is_word(const struct node *n, const char *w)
{
	return n->kind == NODE_SCALAR && strcmp(n->text, w) == 0;
}

/*
 * Whether a map entry should be looked at: keys already reported (bad,
 * repeated) are skipped, and a key that is itself a map or a list is
 * reported here.
 */
static bool usable_key(struct ld *ld, const struct node *key)
{
	if (ld->stopped || key->bad || key->dup)
		return false;
	if (key->kind != NODE_SCALAR) {
		ld_error(ld, &key->mark, "a key must be a name, not %s",
		         describe(key));
		return false;
	}
	return true;
}

/* A name used as a key (cluster, service, group, parcel, setting). */
static bool name_ok(struct ld *ld, const struct node *key, const char *what)
{
	if (key->len == 0 || is_null(key)) {
		ld_error(ld, &key->mark, "empty %s name", what);
		return false;
	}
	return true;
}

/*
 * A plain scalar such as "dfs_replication:3" where a map belongs: the
 * author meant a key and a value, but without a space after the colon
 * YAML reads one string.  (The text is not shown: it may be a secret.)
 */
static bool missing_space(const struct node *n)
{
	const char *c;

	if (n->kind != NODE_SCALAR || !n->plain)
		return false;
	c = memchr(n->text, ':', n->len);
	return c != NULL && c > n->text && c + 1 < n->text + n->len &&
	       c[1] != ' ' && c[1] != '/';
}

static bool expect_map(struct ld *ld, const struct node *val, const char *what)
{
	if (val->bad)
		return false;
	if (val->kind != NODE_MAP) {
		ld_error(
		        ld, &val->mark, "%s must be a map, not %s%s", what,
		        describe(val),
		        missing_space(val)
		                ? "; is a space missing after ':'? (YAML needs 'key: value')"
		                : "");
		return false;
	}
	return true;
}

/*
 * Checks that `key` is one of `fields` (NULL-terminated); reports it with
 * the closest field as a suggestion when it is not.
 */
static bool known_field(struct ld *ld, const struct node *key,
                        const char *const *fields, const char *where)
{
	const char *hint;
	size_t i;

	for (i = 0; fields[i]; i++)
		if (strcmp(key->text, fields[i]) == 0)
			return true;
	hint = ld_suggest(key->text, fields);
	if (hint) {
		ld_error(ld, &key->mark,
		         "unknown field '%.200s' in %s; did you mean '%s'?",
		         key->text, where, hint);
	} else {
		char list[256];
		size_t at = 0;

		list[0] = '\0';
		for (i = 0; fields[i] && at < sizeof(list); i++) {
			int k = snprintf(list + at, sizeof(list) - at, "%s%s",
			                 i ? ", " : "", fields[i]);

			if (k < 0)
				break;
			at += (size_t)k;
		}
		ld_error(ld, &key->mark,
		         "unknown field '%.200s' in %s (expected %s)",
		         key->text, where, list);
	}
	return false;
}

/* A non-empty scalar string, or NULL (reported). */
static const char *string_of(struct ld *ld, const struct node *key,
                             const struct node *val)
{
	if (val->bad)
		return NULL;
	if (val->kind != NODE_SCALAR || is_null(val) || val->len == 0) {
		ld_error(ld, &val->mark, "'%s' must be a string, not %s",
		         key->text, describe(val));
		return NULL;
	}
	return val->text;
}

/* path as written, or joined with the directory of the file. */
static const char *relative_path(struct ld *ld, const char *path)
{
	const char *p;

	if (path[0] == '/' || ld->dir[0] == '\0')
		p = cmr_arena_strdup(&ld->tmp, path);
	else
		p = cmr_arena_sprintf(&ld->tmp, "%s%s", ld->dir, path);
	if (!p)
		ld->oom = true;
	return p;
}

static bool oom_check(struct ld *ld, int rc)
{
	if (rc == CMR_ENOMEM)
		ld->oom = true;
	return rc == 0;
}

/*
 * The pairs of a name-keyed map in the order of their names: offsets
 * (2 * pair) into map->items, sorted by key text, ties in document order.
 * Maps of names are walked in this order because the model keeps its
 * collections sorted: adding in order appends, where adding in document
 * order would shift the array on every insert -- quadratic for a hostile
 * file with a few hundred thousand settings.  The order of diagnostics
 * does not matter (they are sorted for output).  NULL when out of memory.
 */
struct order_key {
	const struct node *key;
	size_t at;
};

static int cmp_order_key(const void *a, const void *b)
{
	const struct order_key *x = a;
	const struct order_key *y = b;
	const char *tx = x->key->kind == NODE_SCALAR ? x->key->text : "";
	const char *ty = y->key->kind == NODE_SCALAR ? y->key->text : "";
	int c = strcmp(tx, ty);

	if (c)
		return c;
	return x->at < y->at ? -1 : x->at > y->at;
}

static size_t *by_name(struct ld *ld, const struct node *map)
{
	size_t n = map->n / 2;
	size_t i;
	struct order_key *keys;
	size_t *order;

	keys = cmr_arena_calloc(&ld->tmp, n ? n : 1, sizeof(*keys));
	order = cmr_arena_calloc(&ld->tmp, n ? n : 1, sizeof(*order));
	if (!keys || !order) {
		ld->oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		keys[i].key = map->items[2 * i];
		keys[i].at = 2 * i;
	}
	qsort(keys, n, sizeof(*keys), cmp_order_key);
	for (i = 0; i < n; i++)
		order[i] = keys[i].at;
	return order;
}

/* ----------------------------------------------------------------------
 * Values
 */

static bool env_name_ok(const char *s)
{
	size_t i;

	if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
	      s[0] == '_'))
		return false;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/*
 * A map in value position: {env: NAME} or {file: PATH}.  Returns true
 * with *v filled, or false after reporting what is wrong with it.
 */
static bool secret_ref(struct ld *ld, struct cmr_value *v, const char *name,
                       const struct node *map)
{
	static const char *const fields[] = { "env", "file", NULL };
	const struct node *env = NULL;
	const struct node *file = NULL;
	bool ok = true;
	size_t i;

	if (map->n == 0) {
		ld_error(
		        ld, &map->mark,
		        "'%.200s': a map here must be a secret reference, {env: NAME} or {file: PATH}",
		        name);
		return false;
	}
	for (i = 0; i + 1 < map->n; i += 2) {
		const struct node *k = map->items[i];

		if (!usable_key(ld, k))
			return false;
		if (is_word(k, "env"))
			env = map->items[i + 1];
		else if (is_word(k, "file"))
			file = map->items[i + 1];
		else if (!known_field(ld, k, fields, "a secret reference"))
			ok = false;
	}
	if (!ok)
		return false;
	if (env && file) {
		ld_error(
		        ld, &map->mark,
		        "'%.200s': a secret reference takes 'env' or 'file', not both",
		        name);
		return false;
	}
	if (env) {
		if (env->bad)
			return false;
		if (env->kind != NODE_SCALAR || is_null(env) ||
		    !env_name_ok(env->text)) {
			ld_error(
			        ld, &env->mark,
			        "'%.200s': 'env' must name an environment variable (letters, digits and '_', not starting with a digit)%s",
			        name,
			        env->kind == NODE_SCALAR && env->text[0] == '$'
			                ? "; write the name without '$'"
			                : "");
			return false;
		}
		v->kind = CMR_VALUE_ENV;
		v->text = env->text;
		return true;
	}
	if (!file || file->bad)
		return false; /* !file: every key was reported above */
	if (file->kind != NODE_SCALAR || is_null(file) || file->len == 0) {
		ld_error(
		        ld, &file->mark,
		        "'%.200s': 'file' must be the path of the file holding the secret",
		        name);
		return false;
	}
	v->kind = CMR_VALUE_FILE;
	v->text = relative_path(ld, file->text);
	return v->text != NULL;
}

/* A list of scalars, joined with ",". */
static bool list_value(struct ld *ld, struct cmr_value *v, const char *name,
                       const struct node *seq)
{
	struct cmr_error e = CMR_ERROR_INIT;
	const char **texts = NULL;
	bool ok = true;
	size_t i;
	int rc;

	if (seq->n) {
		texts = cmr_arena_calloc(&ld->tmp, seq->n, sizeof(*texts));
		if (!texts) {
			ld->oom = true;
			return false;
		}
	}
	for (i = 0; i < seq->n; i++) {
		const struct node *it = seq->items[i];
		struct cmr_value iv;

		if (it->bad) {
			ok = false;
			continue;
		}
		if (it->kind != NODE_SCALAR) {
			ld_error(
			        ld, &it->mark,
			        "'%.200s': list items must be single values, not %s",
			        name, describe(it));
			ok = false;
			continue;
		}
		if (is_null(it)) {
			ld_error(
			        ld, &it->mark,
			        "'%.200s': list item %zu is %s; a list holds values only",
			        name, i + 1, describe(it));
			ok = false;
			continue;
		}
		rc = cmr_value_from_scalar(
		        &iv, &ld->tmp, it->text, it->len,
		        it->plain ? CMR_SCALAR_PLAIN : CMR_SCALAR_QUOTED, &e);
		if (!oom_check(ld, rc))
			return false;
		texts[i] = iv.text;
	}
	if (!ok)
		return false;
	rc = cmr_value_join(v, &ld->tmp, texts, seq->n, &e);
	if (rc == CMR_EINVAL) {
		ld_error(ld, &seq->mark, "'%.200s': %s", name, e.msg);
		return false;
	}
	return oom_check(ld, rc);
}

/* One `name: value` of a config map. */
static void config_entry(struct ld *ld, struct cmr_config *cfg,
                         const struct node *key, const struct node *val)
{
	struct cmr_error e = CMR_ERROR_INIT;
	struct cmr_value v = { CMR_VALUE_TEXT, NULL };
	const char *name = key->text;
	bool sensitive = false;
	int rc;

	if (val->bad)
		return;
	switch (val->kind) {
	case NODE_SCALAR:
		rc = cmr_value_from_scalar(
		        &v, &ld->tmp, val->text, val->len,
		        val->plain ? CMR_SCALAR_PLAIN : CMR_SCALAR_QUOTED, &e);
		if (rc == CMR_EINVAL) {
			ld_error(ld, &key->mark, "'%.200s': %s", name, e.msg);
			return;
		}
		if (!oom_check(ld, rc))
			return;
		break;
	case NODE_SEQ:
		if (!list_value(ld, &v, name, val))
			return;
		break;
	case NODE_MAP:
		if (!secret_ref(ld, &v, name, val))
			return;
		sensitive = true;
		break;
	}
	if (cmr_secret_literal_refused(name, &v)) {
		ld_error(
		        ld, &val->mark,
		        "'%.200s' looks like a secret: write {env: NAME} or {file: PATH} instead of a literal value",
		        name);
		return;
	}
	oom_check(ld, cmr_config_set(NULL, ld->st, cfg, name, &v, sensitive,
	                             &key->mark, &e));
}

static void config_map(struct ld *ld, struct cmr_config *cfg,
                       const struct node *map)
{
	size_t *order;
	size_t j;

	if (!expect_map(ld, map, "'config'"))
		return;
	order = by_name(ld, map);
	for (j = 0; order && j < map->n / 2 && !ld->oom; j++) {
		const struct node *k = map->items[order[j]];

		if (!usable_key(ld, k) || !name_ok(ld, k, "setting"))
			continue;
		config_entry(ld, cfg, k, map->items[order[j] + 1]);
	}
}

/* ----------------------------------------------------------------------
 * Services and role config groups
 */

static void group_map(struct ld *ld, struct cmr_service *s,
                      const struct node *map)
{
	static const char *const fields[] = { "config", NULL };
	size_t *order;
	size_t j;
	size_t m;

	if (!expect_map(ld, map, "'role_config_groups'"))
		return;
	order = by_name(ld, map);
	for (j = 0; order && j < map->n / 2 && !ld->oom; j++) {
		const struct node *k = map->items[order[j]];
		const struct node *gv = map->items[order[j] + 1];
		struct cmr_role_config_group *g;
		char where[256];

		if (!usable_key(ld, k) || !name_ok(ld, k, "role config group"))
			continue;
		snprintf(where, sizeof(where), "role config group '%.200s'",
		         k->text);
		if (!expect_map(ld, gv, "a role config group"))
			continue;
		if (!oom_check(ld, cmr_service_add_group(&g, ld->st, s, k->text,
		                                         NULL)))
			return;
		if (!g->mark.file)
			g->mark = k->mark;
		for (m = 0; m + 1 < gv->n; m += 2) {
			const struct node *f = gv->items[m];

			if (!usable_key(ld, f) ||
			    !known_field(ld, f, fields, where))
				continue;
			config_map(ld, &g->config, gv->items[m + 1]);
		}
	}
}

static bool service_type_ok(const char *t)
{
	size_t i;

	if (!(t[0] >= 'A' && t[0] <= 'Z'))
		return false;
	for (i = 1; t[i]; i++)
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_'))
			return false;
	return true;
}

static void service_type(struct ld *ld, struct cmr_service *s,
                         const struct node *key, const struct node *val)
{
	const char *t = string_of(ld, key, val);

	if (!t)
		return;
	if (!service_type_ok(t)) {
		ld_error(
		        ld, &val->mark,
		        "'type' must be a CM service type in capitals, such as HDFS or SPARK_ON_YARN");
		return;
	}
	if (s->type && strcmp(s->type, t) != 0) {
		ld_error(
		        ld, &val->mark,
		        "service '%.200s' has type '%.64s' here but '%.64s' at %s:%u:%u",
		        s->name, t, s->type,
		        s->type_mark.file ? s->type_mark.file : "?",
		        (unsigned)s->type_mark.line,
		        (unsigned)s->type_mark.col);
		return;
	}
	if (!s->type && !(s->type = cmr_state_strdup(ld->st, t))) {
		ld->oom = true;
		return;
	}
	s->type_mark = val->mark;
}

static void service_restart(struct ld *ld, struct cmr_service *s,
                            const struct node *val)
{
	static const char *const names[] = { "restart", "rolling", "never",
		                             NULL };
	enum cmr_restart_policy p;
	const char *hint;

	if (val->bad)
		return;
	if (val->kind == NODE_SCALAR &&
	    cmr_restart_policy_parse(&p, val->text) == 0) {
		s->restart = p;
		return;
	}
	hint = val->kind == NODE_SCALAR ? ld_suggest(val->text, names) : NULL;
	if (hint)
		ld_error(
		        ld, &val->mark,
		        "'restart' must be restart, rolling or never; did you mean '%s'?",
		        hint);
	else if (val->kind == NODE_SCALAR && !is_null(val))
		ld_error(
		        ld, &val->mark,
		        "'restart' must be restart, rolling or never, not '%.64s'",
		        val->text);
	else
		ld_error(ld, &val->mark,
		         "'restart' must be restart, rolling or never, not %s",
		         describe(val));
}

static void service_prune(struct ld *ld, struct cmr_service *s,
                          const struct node *val)
{
	struct cmr_value v;
	struct cmr_error e = CMR_ERROR_INIT;

	if (val->bad)
		return;
	if (val->kind == NODE_SCALAR && val->plain && val->len > 0 &&
	    oom_check(ld,
	              cmr_value_from_scalar(&v, &ld->tmp, val->text, val->len,
	                                    CMR_SCALAR_PLAIN, &e)) &&
	    cmr_value_is_bool(&v)) {
		s->prune = strcmp(v.text, "true") == 0;
		return;
	}
	if (ld->oom)
		return;
	if (val->kind == NODE_SCALAR && !val->plain && val->len > 0 &&
	    cmr_value_from_scalar(&v, &ld->tmp, val->text, val->len,
	                          CMR_SCALAR_PLAIN, &e) == 0 &&
	    cmr_value_is_bool(&v))
		ld_error(
		        ld, &val->mark,
		        "'prune' must be true or false, not a quoted string; remove the quotes");
	else if (val->kind == NODE_SCALAR && !is_null(val))
		ld_error(ld, &val->mark,
		         "'prune' must be true or false, not '%.64s'",
		         val->text);
	else
		ld_error(ld, &val->mark,
		         "'prune' must be true or false, not %s",
		         describe(val));
}

/* The fields of a service, or of the management service (mgmt true). */
static void service_fields(struct ld *ld, struct cmr_service *s,
                           const struct node *map, bool mgmt, const char *where)
{
	static const char *const fields[] = {
		"type", "restart", "prune", "config", "role_config_groups", NULL
	};
	static const char *const mgmt_fields[] = { "config",
		                                   "role_config_groups", NULL };
	size_t i;

	for (i = 0; i + 1 < map->n && !ld->oom; i += 2) {
		const struct node *k = map->items[i];
		const struct node *v = map->items[i + 1];

		if (!usable_key(ld, k) ||
		    !known_field(ld, k, mgmt ? mgmt_fields : fields, where))
			continue;
		if (is_word(k, "type"))
			service_type(ld, s, k, v);
		else if (is_word(k, "restart"))
			service_restart(ld, s, v);
		else if (is_word(k, "prune"))
			service_prune(ld, s, v);
		else if (is_word(k, "config"))
			config_map(ld, &s->config, v);
		else
			group_map(ld, s, v);
	}
}

/* Whether a key under 'services' is one of a service's own fields. */
static bool is_service_field(const struct node *k)
{
	return is_word(k, "type") || is_word(k, "restart") ||
	       is_word(k, "prune") || is_word(k, "config") ||
	       is_word(k, "role_config_groups");
}

static void services_map(struct ld *ld, struct cmr_cluster *c,
                         const struct node *map)
{
	size_t *order;
	size_t j;

	if (!expect_map(ld, map, "'services'"))
		return;
	order = by_name(ld, map);
	for (j = 0; order && j < map->n / 2 && !ld->oom; j++) {
		const struct node *k = map->items[order[j]];
		const struct node *v = map->items[order[j] + 1];
		struct cmr_service *s;
		char where[256];

		if (!usable_key(ld, k) || !name_ok(ld, k, "service"))
			continue;
		if (v->kind != NODE_MAP && !v->bad && is_service_field(k)) {
			ld_error(
			        ld, &k->mark,
			        "'%s' is a field of a service, not a service name; is the service's name missing? (e.g. 'hdfs:' with '%s' indented under it)",
			        k->text, k->text);
			continue;
		}
		if (!expect_map(ld, v, "a service"))
			continue;
		if (!oom_check(ld, cmr_cluster_add_service(&s, ld->st, c,
		                                           k->text, NULL)))
			return;
		if (!s->mark.file)
			s->mark = k->mark;
		snprintf(where, sizeof(where), "service '%.200s'", k->text);
		service_fields(ld, s, v, false, where);
	}
}

/* ----------------------------------------------------------------------
 * Parcels
 */

static const char *const target_stages[] = { "AVAILABLE_REMOTELY", "DOWNLOADED",
	                                     "DISTRIBUTED", "ACTIVATED", NULL };

static bool parcel_stage(struct ld *ld, enum cmr_parcel_stage *out,
                         const char *product, const struct node *val)
{
	const char *hint;

	if (val->bad)
		return false;
	if (val->kind != NODE_SCALAR || is_null(val)) {
		ld_error(
		        ld, &val->mark,
		        "parcel '%.200s': 'stage' must be one of AVAILABLE_REMOTELY, DOWNLOADED, DISTRIBUTED, ACTIVATED, not %s",
		        product, describe(val));
		return false;
	}
	if (cmr_parcel_stage_parse(out, val->text) == 0 &&
	    cmr_parcel_stage_is_target(*out))
		return true;
	if (cmr_parcel_stage_parse(out, val->text) == 0) {
		ld_error(
		        ld, &val->mark,
		        "parcel '%.200s': stage '%.64s' is not a stage to ask for; use AVAILABLE_REMOTELY, DOWNLOADED, DISTRIBUTED or ACTIVATED",
		        product, val->text);
		return false;
	}
	hint = ld_suggest(val->text, target_stages);
	if (hint)
		ld_error(
		        ld, &val->mark,
		        "parcel '%.200s': unknown stage '%.64s'; did you mean '%s'?",
		        product, val->text, hint);
	else
		ld_error(
		        ld, &val->mark,
		        "parcel '%.200s': unknown stage '%.64s' (expected AVAILABLE_REMOTELY, DOWNLOADED, DISTRIBUTED or ACTIVATED)",
		        product, val->text);
	return false;
}

static void parcel_entry(struct ld *ld, struct cmr_cluster *c,
                         const struct node *key, const struct node *val)
{
	static const char *const fields[] = { "version", "stage", NULL };
	enum cmr_parcel_stage stage = CMR_PARCEL_ACTIVATED;
	const char *product = key->text;
	const char *version = NULL;
	struct cmr_parcel *p;
	bool ok = true;
	size_t i;

	if (val->bad)
		return;
	if (val->kind == NODE_SEQ || is_null(val)) {
		ld_error(
		        ld, &val->mark,
		        "parcel '%.200s' must be a version, or {version: V, stage: S}, not %s",
		        product, describe(val));
		return;
	}
	if (val->kind == NODE_SCALAR) {
		version = val->text;
	} else {
		char where[256];
		const struct node *vnode = NULL;

		snprintf(where, sizeof(where), "parcel '%.200s'", product);
		for (i = 0; i + 1 < val->n; i += 2) {
			const struct node *k = val->items[i];

			if (!usable_key(ld, k) ||
			    !known_field(ld, k, fields, where)) {
				ok = false;
				continue;
			}
			if (is_word(k, "version")) {
				vnode = val->items[i + 1];
				version = string_of(ld, k, vnode);
				ok = ok && version;
			} else {
				ok = parcel_stage(ld, &stage, product,
				                  val->items[i + 1]) &&
				     ok;
			}
		}
		if (!vnode) {
			ld_error(ld, &val->mark,
			         "parcel '%.200s': 'version' is missing",
			         product);
			return;
		}
	}
	if (!ok || !version)
		return;
	/* A later file asking for another version replaces the earlier. */
	p = cmr_cluster_find_product(c, product);
	if (p && strcmp(p->version, version) != 0)
		cmr_cluster_remove_parcel(c, p);
	if (!oom_check(ld, cmr_cluster_add_parcel(&p, ld->st, c, product,
	                                          version, NULL)))
		return;
	p->stage = stage;
	p->mark = key->mark;
}

static void parcels_map(struct ld *ld, struct cmr_cluster *c,
                        const struct node *map)
{
	size_t *order;
	size_t j;

	if (!expect_map(ld, map, "'parcels'"))
		return;
	order = by_name(ld, map);
	for (j = 0; order && j < map->n / 2 && !ld->oom; j++) {
		const struct node *k = map->items[order[j]];

		if (!usable_key(ld, k) || !name_ok(ld, k, "parcel product"))
			continue;
		parcel_entry(ld, c, k, map->items[order[j] + 1]);
	}
}

/* ----------------------------------------------------------------------
 * Clusters and the manager
 */

static void clusters_map(struct ld *ld, const struct node *map)
{
	static const char *const fields[] = { "parcels", "services", NULL };
	size_t *order;
	size_t j;
	size_t m;

	if (!expect_map(ld, map, "'clusters'"))
		return;
	order = by_name(ld, map);
	for (j = 0; order && j < map->n / 2 && !ld->oom; j++) {
		const struct node *k = map->items[order[j]];
		const struct node *v = map->items[order[j] + 1];
		struct cmr_cluster *c;
		char where[256];

		if (!usable_key(ld, k) || !name_ok(ld, k, "cluster") ||
		    !expect_map(ld, v, "a cluster"))
			continue;
		if (!oom_check(ld, cmr_state_add_cluster(&c, ld->st, k->text,
		                                         NULL)))
			return;
		if (!c->mark.file)
			c->mark = k->mark;
		snprintf(where, sizeof(where), "cluster '%.200s'", k->text);
		for (m = 0; m + 1 < v->n && !ld->oom; m += 2) {
			const struct node *f = v->items[m];

			if (!usable_key(ld, f) ||
			    !known_field(ld, f, fields, where))
				continue;
			if (is_word(f, "parcels"))
				parcels_map(ld, c, v->items[m + 1]);
			else
				services_map(ld, c, v->items[m + 1]);
		}
	}
}

static bool api_version_ok(const char *s)
{
	size_t i;

	if (s[0] != 'v' || !s[1])
		return false;
	for (i = 1; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Stores a copy of a manager string field; false when out of memory. */
static bool keep(struct ld *ld, const char **field, const char *s)
{
	*field = cmr_state_strdup(ld->st, s);
	if (!*field)
		ld->oom = true;
	return *field != NULL;
}

static void manager_password(struct ld *ld, const struct node *key,
                             const struct node *val)
{
	struct cmr_config_entry *pw;
	struct cmr_value v;

	if (val->bad)
		return;
	if (val->kind != NODE_MAP) {
		ld_error(
		        ld, &val->mark,
		        "'password' must be a secret reference, {env: NAME} or {file: PATH}, never a literal");
		return;
	}
	if (!secret_ref(ld, &v, "password", val))
		return;
	pw = ld->st->manager.password;
	if (!pw) {
		pw = cmr_arena_alloc(&ld->st->arena, sizeof(*pw));
		if (!pw || !(pw->name = cmr_state_strdup(ld->st, "password"))) {
			ld->oom = true;
			return;
		}
	}
	pw->value.kind = v.kind;
	pw->value.text = cmr_state_strdup(ld->st, v.text);
	pw->sensitive = true;
	pw->mark = key->mark;
	if (!pw->value.text) {
		ld->oom = true;
		return;
	}
	ld->st->manager.password = pw;
}

static void manager_string(struct ld *ld, const struct node *k,
                           const struct node *v)
{
	struct cmr_manager *m = &ld->st->manager;
	const char *s = string_of(ld, k, v);

	if (!s)
		return;
	if (is_word(k, "url")) {
		if (strncmp(s, "https://", 8) != 0 &&
		    strncmp(s, "http://", 7) != 0) {
			ld_error(ld, &v->mark,
			         "'url' must start with https:// or http://");
			return;
		}
		keep(ld, &m->url, s);
	} else if (is_word(k, "api_version")) {
		if (!api_version_ok(s)) {
			ld_error(
			        ld, &v->mark,
			        "'api_version' must be 'v' and a number, such as v45");
			return;
		}
		keep(ld, &m->api_version, s);
	} else if (is_word(k, "ca_file")) {
		s = relative_path(ld, s);
		if (s)
			keep(ld, &m->ca_file, s);
	} else {
		keep(ld, &m->username, s);
	}
}

static void manager_map(struct ld *ld, const struct node *map)
{
	static const char *const fields[] = { "url",
		                              "api_version",
		                              "ca_file",
		                              "username",
		                              "password",
		                              "config",
		                              "management_service",
		                              NULL };
	struct cmr_manager *m = &ld->st->manager;
	size_t i;

	if (!expect_map(ld, map, "'manager'"))
		return;
	if (!m->mark.file)
		m->mark = map->mark;
	for (i = 0; i + 1 < map->n && !ld->oom; i += 2) {
		const struct node *k = map->items[i];
		const struct node *v = map->items[i + 1];
		struct cmr_service *mgmt;

		if (!usable_key(ld, k) ||
		    !known_field(ld, k, fields, "'manager'"))
			continue;
		if (is_word(k, "password")) {
			manager_password(ld, k, v);
		} else if (is_word(k, "config")) {
			config_map(ld, &m->config, v);
		} else if (is_word(k, "management_service")) {
			if (!expect_map(ld, v, "'management_service'"))
				continue;
			if (!oom_check(ld, cmr_manager_add_mgmt(&mgmt, ld->st,
			                                        NULL, NULL)))
				return;
			if (!mgmt->mark.file)
				mgmt->mark = k->mark;
			service_fields(ld, mgmt, v, true,
			               "'management_service'");
		} else {
			manager_string(ld, k, v);
		}
	}
}

/* ----------------------------------------------------------------------
 * The top level
 */

/* Checks `version`; false when the rest of the file must not be read. */
static bool format_version(struct ld *ld, const struct node *root)
{
	const struct node *v = NULL;
	size_t i;

	for (i = 0; i + 1 < root->n; i += 2)
		if (!root->items[i]->dup && is_word(root->items[i], "version"))
			v = root->items[i + 1];
	if (!v) {
		ld_error(
		        ld, &root->mark,
		        "'version' is missing; start the file with 'version: %d'",
		        CMR_FORMAT_VERSION);
		return true;
	}
	if (v->bad)
		return true;
	if (v->kind != NODE_SCALAR || is_null(v) || !v->plain) {
		ld_error(ld, &v->mark,
		         "'version' must be the number %d, not %s",
		         CMR_FORMAT_VERSION,
		         v->kind == NODE_SCALAR && !is_null(v)
		                 ? "a quoted string"
		                 : describe(v));
		return true;
	}
	if (strcmp(v->text, "1") == 0)
		return true;
	ld_error(
	        ld, &v->mark,
	        "unsupported format version '%.32s'; this cmrecon reads version %d",
	        v->text, CMR_FORMAT_VERSION);
	return false;
}

void ld_schema(struct ld *ld, const struct node *root)
{
	static const char *const fields[] = { "version", "manager", "clusters",
		                              NULL };
	size_t i;

	if (root->bad)
		return;
	if (root->kind != NODE_MAP) {
		ld_error(
		        ld, &root->mark,
		        "the top level must be a map starting with 'version: %d', not %s",
		        CMR_FORMAT_VERSION, describe(root));
		return;
	}
	if (!format_version(ld, root))
		return;
	for (i = 0; i + 1 < root->n && !ld->oom && !ld->stopped; i += 2) {
		const struct node *k = root->items[i];
		const struct node *v = root->items[i + 1];

		if (!usable_key(ld, k) ||
		    !known_field(ld, k, fields, "the top level"))
			continue;
		if (is_word(k, "manager"))
			manager_map(ld, v);
		else if (is_word(k, "clusters"))
			clusters_map(ld, v);
	}
}
