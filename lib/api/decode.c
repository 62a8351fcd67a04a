/*
 * decode.c -- CM's JSON answers -> the model (model.h) and parameter
 * metadata (params.h).
 *
 * Every public decoder parses the whole body with json-c, walks the tree
 * with the strict accessors of json.c, copies what it keeps into the
 * target's arena, and releases the tree before returning, whatever
 * happened.  The shapes are those of the v45 spec (ApiDeployment2,
 * ApiServiceList, ApiParcelList, ApiEntityTag[], ApiRoleConfigGroupList,
 * ApiConfigList / ApiServiceConfig, ApiVersionInfo, ApiErrorMessage), and
 * the rules those of CM's wire format (FACTS.md §1): nulls are omitted,
 * values are strings, unknown fields are ignored.
 *
 * Two CM habits need care:
 *   - sensitive values come back as the text "REDACTED" (always in
 *     export_redacted): kept as that text, marked sensitive, so the
 *     planner knows it cannot compare them directly;
 *   - an active parcel is listed twice in exports, once DISTRIBUTED and
 *     once ACTIVATED: one parcel is kept, with the higher stage.
 */
#include <string.h>

#include "cmr/api.h"
#include "cmr/client.h"
#include "cmr/parse.h"
#include "cmr/vec.h"

#include "api_int.h"

/* The text CM puts in place of a sensitive value it will not show. */
#define REDACTED "REDACTED"

static int nomem(struct cmr_error *err)
{
	return cmr_error_set(err, CMR_ENOMEM, "out of memory");
}

/* ======================================================================
 * Enumerations: unknown spellings are kept as "unknown", not refused, so a
 * newer CM with a new state still reads.
 */

static int get_run_state(enum cmr_run_state *out, struct jctx *j,
                         struct json_object *o, const char *key)
{
	const char *s;
	int error = jget_str(&s, j, o, key);

	if (error < 0 || s == NULL)
		return error;
	if (cmr_run_state_parse(out, s) < 0)
		*out = CMR_RUN_UNKNOWN;
	return 0;
}

static int get_staleness(enum cmr_staleness *out, struct jctx *j,
                         struct json_object *o, const char *key)
{
	const char *s;
	int error = jget_str(&s, j, o, key);

	if (error < 0 || s == NULL)
		return error;
	if (cmr_staleness_parse(out, s) < 0)
		*out = CMR_STALE_NONE;
	return 0;
}

static int get_health(enum cmr_health *out, struct jctx *j,
                      struct json_object *o, const char *key)
{
	const char *s;
	int error = jget_str(&s, j, o, key);

	if (error < 0 || s == NULL)
		return error;
	if (cmr_health_parse(out, s) < 0)
		*out = CMR_HEALTH_NONE;
	return 0;
}

/* Copies s (NULL stays NULL) into the state's arena. */
static int dup_into(const char **out, struct cmr_state *st, const char *s,
                    struct cmr_error *err)
{
	if (s == NULL)
		return 0;
	*out = cmr_state_strdup(st, s);
	return *out == NULL ? nomem(err) : 0;
}

/* Like dup_into, for the params arena, mapping "" to NULL (CM sends
 * "relatedName": "" for parameters without one). */
static int pdup(const char **out, struct cmr_params *p, const char *s,
                bool empty_is_null, struct cmr_error *err)
{
	*out = NULL;
	if (s == NULL || (empty_is_null && s[0] == '\0'))
		return 0;
	*out = cmr_params_strdup(p, s);
	return *out == NULL ? nomem(err) : 0;
}

/* ======================================================================
 * Config lists
 */

static int dec_param(struct jctx *j, struct cmr_params *params,
                     struct cmr_scope_params *scope, const char *name,
                     struct json_object *item)
{
	struct cmr_param *p = NULL;
	const char *def;
	const char *display;
	const char *related;
	const char *vstate;
	const char *vmsg;
	bool sensitive = false;
	bool required = false;
	int error;

	if ((error = jget_str(&def, j, item, "default")) < 0 ||
	    (error = jget_str(&display, j, item, "displayName")) < 0 ||
	    (error = jget_str(&related, j, item, "relatedName")) < 0 ||
	    (error = jget_str(&vstate, j, item, "validationState")) < 0 ||
	    (error = jget_str(&vmsg, j, item, "validationMessage")) < 0 ||
	    (error = jget_bool(&sensitive, j, item, "sensitive")) < 0 ||
	    (error = jget_bool(&required, j, item, "required")) < 0)
		return error;
	if ((error = cmr_scope_add_param(&p, params, scope, name, j->err)) < 0)
		return error;
	if ((error = pdup(&p->default_value, params, def, false, j->err)) < 0 ||
	    (error = pdup(&p->display_name, params, display, true, j->err)) <
	            0 ||
	    (error = pdup(&p->related_name, params, related, true, j->err)) <
	            0 ||
	    (error = pdup(&p->validation_message, params, vmsg, true, j->err)) <
	            0)
		return error;
	p->sensitive = sensitive;
	p->required = required;
	p->validation = CMR_VALIDATION_NONE;
	if (vstate != NULL && cmr_validation_parse(&p->validation, vstate) < 0)
		p->validation = CMR_VALIDATION_NONE;
	return 0;
}

static int dec_config_item(struct jctx *j, struct cmr_state *live,
                           struct cmr_config *cfg, struct cmr_params *params,
                           struct cmr_scope_params *scope,
                           struct json_object *item)
{
	const char *name;
	const char *value;
	bool sensitive = false;
	int error;

	if ((error = jexpect(j, item, json_type_object)) < 0 ||
	    (error = jneed_str(&name, j, item, "name")) < 0 ||
	    (error = jget_str(&value, j, item, "value")) < 0 ||
	    (error = jget_bool(&sensitive, j, item, "sensitive")) < 0)
		return error;
	if (cfg != NULL && value != NULL) {
		if (strcmp(value, REDACTED) == 0)
			sensitive = true;
		error = cmr_config_set_text(NULL, live, cfg, name, value,
		                            sensitive, j->err);
		if (error < 0)
			return error;
	}
	if (scope != NULL)
		return dec_param(j, params, scope, name, item);
	return 0;
}

int dec_config_list(struct jctx *j, struct cmr_state *live,
                    struct cmr_config *cfg, struct cmr_params *params,
                    const char *scope_key, struct json_object *list)
{
	struct cmr_scope_params *scope = NULL;
	struct json_object *items = NULL;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = jexpect(j, list, json_type_object)) < 0 ||
	    (error = jget_arr(&items, j, list, "items")) < 0)
		return error;
	if (scope_key != NULL) {
		error = cmr_params_add_scope(&scope, params, scope_key, j->err);
		if (error < 0)
			return error;
	}
	n = items != NULL ? json_object_array_length(items) : 0;
	old = jpath_key(j, "items");
	for (i = 0; i < n; i++) {
		size_t o2 = jpath_index(j, i);

		error = dec_config_item(j, live, cfg, params, scope,
		                        json_object_array_get_idx(items, i));
		if (error < 0)
			return error;
		jpath_pop(j, o2);
	}
	jpath_pop(j, old);
	return 0;
}

/* The member `key` (an ApiConfigList) into cfg, when present. */
static int dec_config_member(struct jctx *j, struct cmr_state *live,
                             struct cmr_config *cfg, struct json_object *o,
                             const char *key)
{
	struct json_object *list;
	size_t old;
	int error;

	if ((error = jget_obj(&list, j, o, key)) < 0 || list == NULL)
		return error;
	old = jpath_key(j, key);
	error = dec_config_list(j, live, cfg, NULL, NULL, list);
	if (error == 0)
		jpath_pop(j, old);
	return error;
}

/* ======================================================================
 * Services, role config groups, roles
 */

static int dec_group(struct jctx *j, struct cmr_state *live,
                     struct cmr_service *s, struct json_object *o)
{
	struct cmr_role_config_group *g;
	const char *name;
	const char *role_type;
	const char *display;
	bool base = false;
	int error;

	if ((error = jexpect(j, o, json_type_object)) < 0 ||
	    (error = jneed_str(&name, j, o, "name")) < 0 ||
	    (error = jget_str(&role_type, j, o, "roleType")) < 0 ||
	    (error = jget_str(&display, j, o, "displayName")) < 0 ||
	    (error = jget_bool(&base, j, o, "base")) < 0)
		return error;
	if ((error = cmr_service_add_group(&g, live, s, name, j->err)) < 0 ||
	    (error = dup_into(&g->role_type, live, role_type, j->err)) < 0 ||
	    (error = dup_into(&g->display_name, live, display, j->err)) < 0)
		return error;
	g->base = base;
	return dec_config_member(j, live, &g->config, o, "config");
}

static int dec_role(struct jctx *j, struct cmr_state *live,
                    struct cmr_service *s, struct json_object *o)
{
	struct json_object *host = NULL;
	struct json_object *gref = NULL;
	const char *name;
	const char *type;
	const char *host_id = NULL;
	const char *hostname = NULL;
	const char *group = NULL;
	struct cmr_role *r;
	size_t old;
	int error;

	if ((error = jexpect(j, o, json_type_object)) < 0 ||
	    (error = jneed_str(&name, j, o, "name")) < 0 ||
	    (error = jget_str(&type, j, o, "type")) < 0 ||
	    (error = jget_obj(&host, j, o, "hostRef")) < 0 ||
	    (error = jget_obj(&gref, j, o, "roleConfigGroupRef")) < 0)
		return error;
	if (host != NULL) {
		old = jpath_key(j, "hostRef");
		if ((error = jget_str(&host_id, j, host, "hostId")) < 0 ||
		    (error = jget_str(&hostname, j, host, "hostname")) < 0)
			return error;
		jpath_pop(j, old);
	}
	if (gref != NULL) {
		old = jpath_key(j, "roleConfigGroupRef");
		error = jget_str(&group, j, gref, "roleConfigGroupName");
		if (error < 0)
			return error;
		jpath_pop(j, old);
	}
	if ((error = cmr_service_add_role(&r, live, s, name, j->err)) < 0 ||
	    (error = dup_into(&r->type, live, type, j->err)) < 0 ||
	    (error = dup_into(&r->group, live, group, j->err)) < 0 ||
	    (error = dup_into(&r->host_id, live, host_id, j->err)) < 0 ||
	    (error = dup_into(&r->hostname, live, hostname, j->err)) < 0 ||
	    (error = get_run_state(&r->state, j, o, "roleState")) < 0 ||
	    (error = get_staleness(&r->config_staleness, j, o,
	                           "configStalenessStatus")) < 0 ||
	    (error = get_health(&r->health, j, o, "healthSummary")) < 0 ||
	    (error = jget_bool(&r->maintenance_mode, j, o, "maintenanceMode")) <
	            0)
		return error;
	return dec_config_member(j, live, &r->config, o, "config");
}

/* Decodes each element of array member `key` of o with fn. */
static int dec_each(struct jctx *j, struct cmr_state *live,
                    struct cmr_service *s, struct json_object *o,
                    const char *key,
                    int (*fn)(struct jctx *, struct cmr_state *,
                              struct cmr_service *, struct json_object *))
{
	struct json_object *arr;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = jget_arr(&arr, j, o, key)) < 0 || arr == NULL)
		return error;
	n = json_object_array_length(arr);
	old = jpath_key(j, key);
	for (i = 0; i < n; i++) {
		size_t o2 = jpath_index(j, i);

		error = fn(j, live, s, json_object_array_get_idx(arr, i));
		if (error < 0)
			return error;
		jpath_pop(j, o2);
	}
	jpath_pop(j, old);
	return 0;
}

/*
 * The body of one ApiService (its name already used to find `s`): type,
 * display name, run-time fields when present, config, groups and roles.
 */
static int dec_service_body(struct jctx *j, struct cmr_state *live,
                            struct cmr_service *s, struct json_object *o)
{
	const char *type;
	const char *display;
	int error;

	if ((error = jget_str(&type, j, o, "type")) < 0 ||
	    (error = jget_str(&display, j, o, "displayName")) < 0)
		return error;
	if (s->type == NULL &&
	    (error = dup_into(&s->type, live, type, j->err)) < 0)
		return error;
	if ((error = dup_into(&s->display_name, live, display, j->err)) < 0 ||
	    (error = get_run_state(&s->state, j, o, "serviceState")) < 0 ||
	    (error = get_staleness(&s->config_staleness, j, o,
	                           "configStalenessStatus")) < 0 ||
	    (error = get_staleness(&s->client_config_staleness, j, o,
	                           "clientConfigStalenessStatus")) < 0 ||
	    (error = get_health(&s->health, j, o, "healthSummary")) < 0 ||
	    (error = jget_bool(&s->maintenance_mode, j, o, "maintenanceMode")) <
	            0)
		return error;
	if ((error = dec_config_member(j, live, &s->config, o, "config")) < 0)
		return error;
	if ((error = dec_each(j, live, s, o, "roleConfigGroups", dec_group)) <
	    0)
		return error;
	return dec_each(j, live, s, o, "roles", dec_role);
}

static int dec_service(struct jctx *j, struct cmr_state *live,
                       struct cmr_cluster *c, struct json_object *o)
{
	struct cmr_service *s;
	const char *name;
	int error;

	if ((error = jexpect(j, o, json_type_object)) < 0 ||
	    (error = jneed_str(&name, j, o, "name")) < 0 ||
	    (error = cmr_cluster_add_service(&s, live, c, name, j->err)) < 0)
		return error;
	return dec_service_body(j, live, s, o);
}

/* ======================================================================
 * Parcels
 */

struct parcel_seen {
	struct cmr_parcel **items;
	size_t len;
	size_t alloc;
};

static bool seen_has(const struct parcel_seen *seen, const struct cmr_parcel *p)
{
	size_t i;

	for (i = 0; i < seen->len; i++)
		if (seen->items[i] == p)
			return true;
	return false;
}

static int dec_parcel_state(struct jctx *j, struct cmr_state *live,
                            struct cmr_parcel *p, struct json_object *st)
{
	struct json_object *errors = NULL;
	size_t old = jpath_key(j, "state");
	int error;

	p->progress = p->total_progress = p->count = p->total_count = 0;
	p->error = NULL;
	if ((error = jget_i64(&p->progress, j, st, "progress")) < 0 ||
	    (error = jget_i64(&p->total_progress, j, st, "totalProgress")) <
	            0 ||
	    (error = jget_i64(&p->count, j, st, "count")) < 0 ||
	    (error = jget_i64(&p->total_count, j, st, "totalCount")) < 0 ||
	    (error = jget_arr(&errors, j, st, "errors")) < 0)
		return error;
	if (errors != NULL && json_object_array_length(errors) > 0) {
		struct json_object *e0 = json_object_array_get_idx(errors, 0);
		size_t o2 = jpath_key(j, "errors[0]");

		if ((error = jexpect(j, e0, json_type_string)) < 0)
			return error;
		jpath_pop(j, o2);
		error = dup_into(&p->error, live, json_object_get_string(e0),
		                 j->err);
		if (error < 0)
			return error;
	}
	jpath_pop(j, old);
	return 0;
}

static int dec_parcel(struct jctx *j, struct cmr_state *live,
                      struct cmr_cluster *c, struct parcel_seen *seen,
                      struct json_object *o)
{
	struct json_object *st = NULL;
	const char *product;
	const char *version;
	const char *stage_s;
	enum cmr_parcel_stage stage = CMR_PARCEL_STAGE_NONE;
	struct cmr_parcel *p;
	int error;

	if ((error = jexpect(j, o, json_type_object)) < 0 ||
	    (error = jneed_str(&product, j, o, "product")) < 0 ||
	    (error = jneed_str(&version, j, o, "version")) < 0 ||
	    (error = jget_str(&stage_s, j, o, "stage")) < 0 ||
	    (error = jget_obj(&st, j, o, "state")) < 0)
		return error;
	if (stage_s != NULL && cmr_parcel_stage_parse(&stage, stage_s) < 0)
		stage = CMR_PARCEL_STAGE_UNKNOWN;
	p = cmr_cluster_find_parcel(c, product, version);
	if (p != NULL && seen_has(seen, p) &&
	    cmr_parcel_stage_rank(p->stage) > cmr_parcel_stage_rank(stage))
		return 0; /* the double listing: keep the higher stage */
	if (p == NULL && (error = cmr_cluster_add_parcel(&p, live, c, product,
	                                                 version, j->err)) < 0)
		return error;
	/* the elements are pointers, as cmr_vec_push means */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if (!seen_has(seen, p) && cmr_vec_push(seen, p) < 0)
		return nomem(j->err);
	p->stage = stage;
	if (st != NULL)
		return dec_parcel_state(j, live, p, st);
	return 0;
}

static int dec_parcels(struct jctx *j, struct cmr_state *live,
                       struct cmr_cluster *c, struct json_object *arr)
{
	struct parcel_seen seen = { 0 };
	size_t i;
	size_t n = json_object_array_length(arr);
	int error = 0;

	for (i = 0; i < n && error == 0; i++) {
		size_t old = jpath_index(j, i);

		error = dec_parcel(j, live, c, &seen,
		                   json_object_array_get_idx(arr, i));
		if (error == 0)
			jpath_pop(j, old);
	}
	cmr_vec_release(&seen);
	return error;
}

/* ======================================================================
 * The deployment
 */

static int dec_cluster(struct jctx *j, struct cmr_state *live,
                       const struct cmr_state *only, struct json_object *o)
{
	struct json_object *parcels = NULL;
	struct json_object *services = NULL;
	const char *name;
	const char *display;
	const char *version;
	const char *full;
	struct cmr_cluster *c;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = jexpect(j, o, json_type_object)) < 0 ||
	    (error = jneed_str(&name, j, o, "name")) < 0)
		return error;
	if (only != NULL && cmr_state_find_cluster(only, name) == NULL)
		return 0;
	if ((error = jget_str(&display, j, o, "displayName")) < 0 ||
	    (error = jget_str(&version, j, o, "version")) < 0 ||
	    (error = jget_str(&full, j, o, "fullVersion")) < 0 ||
	    (error = jget_arr(&parcels, j, o, "parcels")) < 0 ||
	    (error = jget_arr(&services, j, o, "services")) < 0)
		return error;
	if ((error = cmr_state_add_cluster(&c, live, name, j->err)) < 0 ||
	    (error = dup_into(&c->display_name, live, display, j->err)) < 0 ||
	    (error = dup_into(&c->version, live, version, j->err)) < 0 ||
	    (error = dup_into(&c->full_version, live, full, j->err)) < 0)
		return error;
	if (parcels != NULL) {
		old = jpath_key(j, "parcels");
		if ((error = dec_parcels(j, live, c, parcels)) < 0)
			return error;
		jpath_pop(j, old);
	}
	n = services != NULL ? json_object_array_length(services) : 0;
	old = jpath_key(j, "services");
	for (i = 0; i < n; i++) {
		size_t o2 = jpath_index(j, i);

		error = dec_service(j, live, c,
		                    json_object_array_get_idx(services, i));
		if (error < 0)
			return error;
		jpath_pop(j, o2);
	}
	jpath_pop(j, old);
	return 0;
}

static int dec_deployment(struct jctx *j, struct cmr_state *live,
                          const struct cmr_state *only,
                          struct json_object *root)
{
	struct json_object *info = NULL;
	struct json_object *mgmt = NULL;
	struct json_object *clusters = NULL;
	const char *cm_version = NULL;
	const char *mgmt_name = NULL;
	struct cmr_service *s;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = jexpect(j, root, json_type_object)) < 0 ||
	    (error = jget_obj(&info, j, root, "versionInfo")) < 0 ||
	    (error = jget_obj(&mgmt, j, root, "managementService")) < 0 ||
	    (error = jget_arr(&clusters, j, root, "clusters")) < 0)
		return error;
	if (info != NULL) {
		old = jpath_key(j, "versionInfo");
		if ((error = jget_str(&cm_version, j, info, "version")) < 0)
			return error;
		jpath_pop(j, old);
		error = dup_into(&live->manager.cm_version, live, cm_version,
		                 j->err);
		if (error < 0)
			return error;
	}
	error = dec_config_member(j, live, &live->manager.config, root,
	                          "managerSettings");
	if (error < 0)
		return error;
	if (mgmt != NULL) {
		old = jpath_key(j, "managementService");
		if ((error = jexpect(j, mgmt, json_type_object)) < 0 ||
		    (error = jget_str(&mgmt_name, j, mgmt, "name")) < 0)
			return error;
		error = cmr_manager_add_mgmt(
		        &s, live, mgmt_name != NULL ? mgmt_name : "mgmt",
		        j->err);
		if (error < 0 ||
		    (error = dec_service_body(j, live, s, mgmt)) < 0)
			return error;
		jpath_pop(j, old);
	}
	n = clusters != NULL ? json_object_array_length(clusters) : 0;
	old = jpath_key(j, "clusters");
	for (i = 0; i < n; i++) {
		size_t o2 = jpath_index(j, i);

		error = dec_cluster(j, live, only,
		                    json_object_array_get_idx(clusters, i));
		if (error < 0)
			return error;
		jpath_pop(j, o2);
	}
	jpath_pop(j, old);
	return 0;
}

/* ======================================================================
 * Public decoders: parse, decode, release
 */

int cmr_api_decode_deployment(struct cmr_state *live,
                              const struct cmr_state *only, const char *what,
                              const char *body, size_t len,
                              struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	error = dec_deployment(&j, live, only, root);
	json_object_put(root);
	return error;
}

/* Fetches the "items" array of a list answer (absent: empty list). */
static int list_items(struct json_object **out, struct jctx *j,
                      struct json_object *root)
{
	int error = jexpect(j, root, json_type_object);

	*out = NULL;
	if (error < 0)
		return error;
	return jget_arr(out, j, root, "items");
}

static int dec_services_list(struct jctx *j, struct cmr_state *live,
                             struct cmr_cluster *c, struct json_object *root)
{
	struct json_object *items;
	struct json_object *cref = NULL;
	const char *display = NULL;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = list_items(&items, j, root)) < 0 || items == NULL)
		return error;
	n = json_object_array_length(items);
	old = jpath_key(j, "items");
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(items, i);
		size_t o2 = jpath_index(j, i);

		if ((error = dec_service(j, live, c, o)) < 0 ||
		    (error = jget_obj(&cref, j, o, "clusterRef")) < 0)
			return error;
		if (cref != NULL && c->display_name == NULL) {
			size_t o3 = jpath_key(j, "clusterRef");

			error = jget_str(&display, j, cref, "displayName");
			if (error < 0)
				return error;
			jpath_pop(j, o3);
			error = dup_into(&c->display_name, live, display,
			                 j->err);
			if (error < 0)
				return error;
		}
		jpath_pop(j, o2);
	}
	jpath_pop(j, old);
	return 0;
}

int cmr_api_decode_services(struct cmr_state *live, struct cmr_cluster *c,
                            const char *what, const char *body, size_t len,
                            struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	error = dec_services_list(&j, live, c, root);
	json_object_put(root);
	return error;
}

int cmr_api_decode_parcels(struct cmr_state *live, struct cmr_cluster *c,
                           const char *what, const char *body, size_t len,
                           struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct json_object *items = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	error = list_items(&items, &j, root);
	if (error == 0 && items != NULL) {
		size_t old = jpath_key(&j, "items");

		error = dec_parcels(&j, live, c, items);
		if (error == 0)
			jpath_pop(&j, old);
	}
	json_object_put(root);
	return error;
}

static int dec_tags(size_t *out_count, struct jctx *j, struct cmr_state *live,
                    struct cmr_cluster *c, struct json_object *root)
{
	struct json_object *arr = root;
	size_t i;
	size_t n;
	int error;

	/* v45 answers a bare array; a wrapped {"items": [...]} is accepted
	 * too, as every other CM list is wrapped. */
	if (json_object_is_type(root, json_type_object)) {
		if ((error = jget_arr(&arr, j, root, "items")) < 0)
			return error;
		if (arr == NULL)
			return 0;
	} else if ((error = jexpect(j, root, json_type_array)) < 0) {
		return error;
	}
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *name;
		const char *value;
		size_t old = jpath_index(j, i);

		if ((error = jexpect(j, o, json_type_object)) < 0 ||
		    (error = jneed_str(&name, j, o, "name")) < 0 ||
		    (error = jget_str(&value, j, o, "value")) < 0)
			return error;
		error = cmr_config_set_text(NULL, live, &c->tags, name,
		                            value != NULL ? value : "", false,
		                            j->err);
		if (error < 0)
			return error;
		jpath_pop(j, old);
	}
	if (out_count != NULL)
		*out_count = n;
	return 0;
}

int cmr_api_decode_tags(size_t *out_count, struct cmr_state *live,
                        struct cmr_cluster *c, const char *what,
                        const char *body, size_t len, struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct jctx j;
	int error;

	if (out_count != NULL)
		*out_count = 0;
	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	error = dec_tags(out_count, &j, live, c, root);
	json_object_put(root);
	return error;
}

int cmr_api_decode_groups(struct cmr_state *live, struct cmr_service *s,
                          const char *what, const char *body, size_t len,
                          struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) == 0)
		error = dec_each(&j, live, s, root, "items", dec_group);
	json_object_put(root);
	return error;
}

int cmr_api_decode_config(struct cmr_state *live, struct cmr_config *cfg,
                          struct cmr_params *params, const char *scope_key,
                          const char *what, const char *body, size_t len,
                          struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	error = dec_config_list(&j, live, cfg, params, scope_key, root);
	json_object_put(root);
	return error;
}

int cmr_api_decode_cm_version(struct cmr_state *live, const char *what,
                              const char *body, size_t len,
                              struct cmr_error *err)
{
	struct json_object *root = NULL;
	const char *version = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) == 0 &&
	    (error = jneed_str(&version, &j, root, "version")) == 0)
		error = dup_into(&live->manager.cm_version, live, version, err);
	json_object_put(root);
	return error;
}

/* ======================================================================
 * The version and error answers
 */

static bool is_trim(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '"' ||
	       c == '\'';
}

int cmr_api_decode_version(unsigned *out, const char *body, size_t len,
                           struct cmr_error *err)
{
	char digits[16];
	size_t a = 0;
	size_t b = len;
	size_t n;
	uint64_t v;

	while (a < b && is_trim(body[a]))
		a++;
	while (b > a && is_trim(body[b - 1]))
		b--;
	if (a < b && (body[a] == 'v' || body[a] == 'V'))
		a++;
	n = b - a;
	if (n == 0 || n >= sizeof(digits))
		goto bad;
	memcpy(digits, body + a, n);
	digits[n] = '\0';
	if (digits[0] < '0' || digits[0] > '9' ||
	    cmr_parse_u64(digits, &v) < 0 || v == 0 || v > 9999)
		goto bad;
	*out = (unsigned)v;
	return 0;
bad:
	return cmr_error_set(err, CMR_EINVAL,
	                     "bad CM API version '%.*s' (expected e.g. 'v45')",
	                     (int)(len > 40 ? 40 : len), body);
}

int cmr_api_check_version(unsigned version, struct cmr_error *err)
{
	if (version >= CMR_API_VERSION_MIN)
		return 0;
	return cmr_error_set(
	        err, CMR_EINVAL,
	        "CM API 'v%u' is older than the oldest supported, 'v%u' (Cloudera Manager 6.0)",
	        version, CMR_API_VERSION_MIN);
}

/* Appends to dst (size cap) the printable prefix of the first line. */
static void first_line(char *dst, size_t cap, const char *s, size_t len)
{
	size_t i;
	size_t k = 0;

	for (i = 0; i < len && k + 1 < cap && k < 200; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || c == '\r')
			break;
		dst[k++] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	dst[k] = '\0';
}

/* " (cause; cause)" from CM's `causes` strings into extra (size cap). */
static void join_causes(char *extra, size_t size, struct json_object *causes)
{
	size_t n = causes != NULL ? json_object_array_length(causes) : 0;
	size_t k = 0;
	size_t i;

	extra[0] = '\0';
	for (i = 0; i < n && k + 4 < size; i++) {
		struct json_object *c = json_object_array_get_idx(causes, i);
		int w;

		if (!json_object_is_type(c, json_type_string))
			continue;
		w = snprintf(extra + k, size - k, "%s%s", k == 0 ? " (" : "; ",
		             json_object_get_string(c));
		if (w < 0)
			break;
		k = k + (size_t)w < size ? k + (size_t)w : size - 1;
	}
	if (k > 0 && k + 1 < size) {
		extra[k] = ')';
		extra[k + 1] = '\0';
	}
}

int cmr_api_decode_error(struct cmr_error *err, long status, const char *what,
                         const char *body, size_t len)
{
	struct json_object *root = NULL;
	struct json_object *causes = NULL;
	const char *message = NULL;
	char extra[256];
	char line[208];
	struct jctx j;

	if (body != NULL && len > 0 &&
	    jparse(&root, what, body, len, NULL) == 0 &&
	    json_object_is_type(root, json_type_object)) {
		jctx_init(&j, what, NULL);
		if (jget_str(&message, &j, root, "message") < 0)
			message = NULL;
		if (jget_arr(&causes, &j, root, "causes") < 0)
			causes = NULL;
	}
	join_causes(extra, sizeof(extra), causes);
	if (message != NULL) {
		cmr_error_set_http(err, (int)status, "%s: HTTP %ld: %s%s", what,
		                   status, message, extra);
	} else {
		first_line(line, sizeof(line), body != NULL ? body : "",
		           body != NULL ? len : 0);
		cmr_error_set_http(err, (int)status, "%s: HTTP %ld%s%s", what,
		                   status, line[0] ? ": " : "", line);
	}
	json_object_put(root);
	return CMR_EAPI;
}
