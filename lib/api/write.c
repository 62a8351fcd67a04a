/*
 * write.c -- CM's write calls and command reads: request targets, request
 * bodies and the decoders of commands, parcels, services, roles.
 *
 * Every path comes from the v45 spec (FACTS.md §3-§7); names are single
 * percent-encoded path segments, as in build.c.  Decoded results are
 * plain structs with fixed-size texts, so lib/exec keeps no json-c object
 * and frees nothing but the command lists.  A text longer than its array
 * is truncated: these texts are for messages, never compared in full.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/api_write.h"
#include "cmr/vec.h"

#include "api_int.h"

static void service_path(struct cmr_buf *out, unsigned version,
                         const char *cluster, const char *service)
{
	api_cluster_path(out, version, cluster);
	cmr_buf_adds(out, "/services");
	api_path_seg(out, service);
}

static void copy_text(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

/* Appends "; " + s to a fixed array, truncating. */
static void join_text(char *dst, size_t cap, const char *sep, const char *s)
{
	size_t n = strlen(dst);

	if (n + 1 >= cap)
		return;
	snprintf(dst + n, cap - n, "%s%s", n ? sep : "", s);
}

/* ----------------------------------------------------------------------
 * Settings
 */

int cmr_api_build_config_put(struct cmr_buf *out, unsigned version,
                             const struct cmr_scope *scope, const char *message)
{
	int error = cmr_api_build_config(out, version, scope, NULL);

	if (error < 0 || !message)
		return error;
	cmr_buf_adds(out, "?message=");
	cmr_buf_add_urlenc(out, message);
	return cmr_buf_error(out);
}

int cmr_api_body_config(struct cmr_buf *out,
                        const struct cmr_api_config_item *items, size_t n)
{
	size_t i;

	cmr_buf_adds(out, "{\"items\":[");
	for (i = 0; i < n; i++) {
		cmr_buf_adds(out, i ? ",{\"name\":" : "{\"name\":");
		cmr_buf_add_json_str(out, items[i].name);
		cmr_buf_adds(out, ",\"value\":");
		if (items[i].value)
			cmr_buf_add_json_str(out, items[i].value);
		else
			cmr_buf_adds(out, "null");
		cmr_buf_addc(out, '}');
	}
	cmr_buf_adds(out, "]}");
	return cmr_buf_error(out);
}

/* ----------------------------------------------------------------------
 * Commands
 */

void cmr_api_command_list_release(struct cmr_api_command_list *l)
{
	if (!l)
		return;
	cmr_vec_release(l);
	l->errors[0] = '\0';
}

int cmr_api_build_command(struct cmr_buf *out, unsigned version, int64_t id)
{
	api_path_prefix(out, version);
	cmr_buf_addf(out, "/commands/%lld", (long long)id);
	return cmr_buf_error(out);
}

int cmr_api_build_refresh_parcel_repos(struct cmr_buf *out, unsigned version)
{
	api_path_prefix(out, version);
	cmr_buf_adds(out, "/cm/commands/refreshParcelRepos");
	return cmr_buf_error(out);
}

int cmr_api_build_service_command(struct cmr_buf *out, unsigned version,
                                  const char *cluster, const char *service,
                                  const char *name)
{
	service_path(out, version, cluster, service);
	cmr_buf_adds(out, "/commands");
	api_path_seg(out, name);
	return cmr_buf_error(out);
}

int cmr_api_build_role_command(struct cmr_buf *out, unsigned version,
                               const char *cluster, const char *service,
                               const char *name)
{
	service_path(out, version, cluster, service);
	cmr_buf_adds(out, "/roleCommands");
	api_path_seg(out, name);
	return cmr_buf_error(out);
}

int cmr_api_build_active_commands(struct cmr_buf *out, unsigned version,
                                  const char *cluster, const char *service)
{
	if (!cluster) {
		api_path_prefix(out, version);
		cmr_buf_adds(out, "/cm/commands");
	} else if (!service) {
		api_cluster_path(out, version, cluster);
		cmr_buf_adds(out, "/commands");
	} else {
		service_path(out, version, cluster, service);
		cmr_buf_adds(out, "/commands");
	}
	return cmr_buf_error(out);
}

int cmr_api_body_rolling_restart(struct cmr_buf *out)
{
	cmr_buf_adds(out, "{\"staleConfigsOnly\":true}");
	return cmr_buf_error(out);
}

int cmr_api_body_role_names(struct cmr_buf *out, const char *const *names,
                            size_t n)
{
	size_t i;

	cmr_buf_adds(out, "{\"items\":[");
	for (i = 0; i < n; i++) {
		if (i)
			cmr_buf_addc(out, ',');
		cmr_buf_add_json_str(out, names[i]);
	}
	cmr_buf_adds(out, "]}");
	return cmr_buf_error(out);
}

/*
 * The deepest failing child: depth-first through children.items, keeping
 * the failing command found at the greatest depth (CM nests a role's
 * failure under the service step under the command).
 */
static int find_failure(struct jctx *j, struct json_object *cmd, int depth,
                        int *best, char *out, size_t cap)
{
	struct json_object *children = NULL;
	struct json_object *items = NULL;
	bool success = true, has = false;
	const char *name = NULL;
	const char *msg = NULL;
	size_t i;
	size_t n;
	int error;

	if (!json_object_is_type(cmd, json_type_object))
		return 0;
	if ((error = jget_str(&name, j, cmd, "name")) < 0 ||
	    (error = jget_str(&msg, j, cmd, "resultMessage")) < 0)
		return error;
	if (json_object_object_get_ex(cmd, "success", NULL)) {
		has = true;
		if ((error = jget_bool(&success, j, cmd, "success")) < 0)
			return error;
	}
	if (has && !success && depth > *best && msg && *msg) {
		*best = depth;
		snprintf(out, cap, "%s: %s", name ? name : "command", msg);
	}
	if ((error = jget_obj(&children, j, cmd, "children")) < 0)
		return error;
	if (!children)
		return 0;
	if ((error = jget_arr(&items, j, children, "items")) < 0)
		return error;
	n = items ? json_object_array_length(items) : 0;
	for (i = 0; i < n; i++) {
		error = find_failure(j, json_object_array_get_idx(items, i),
		                     depth + 1, best, out, cap);
		if (error < 0)
			return error;
	}
	return 0;
}

static int ref_name(char *out, size_t cap, struct jctx *j,
                    struct json_object *o, const char *ref, const char *key)
{
	struct json_object *r = NULL;
	const char *s = NULL;
	int error;

	if ((error = jget_obj(&r, j, o, ref)) < 0)
		return error;
	if (r && (error = jget_str(&s, j, r, key)) < 0)
		return error;
	copy_text(out, cap, s);
	return 0;
}

static int dec_command(struct cmr_api_command *out, struct jctx *j,
                       struct json_object *o)
{
	const char *name = NULL;
	const char *msg = NULL;
	int64_t id = -1;
	int best = 0;
	int error;

	memset(out, 0, sizeof(*out));
	out->id = -1;
	if ((error = jexpect(j, o, json_type_object)) < 0)
		return error;
	if (json_object_object_get_ex(o, "id", NULL) &&
	    (error = jget_i64(&id, j, o, "id")) < 0)
		return error;
	out->id = id;
	if ((error = jget_str(&name, j, o, "name")) < 0 ||
	    (error = jget_bool(&out->active, j, o, "active")) < 0 ||
	    (error = jget_str(&msg, j, o, "resultMessage")) < 0)
		return error;
	if (json_object_object_get_ex(o, "success", NULL)) {
		struct json_object *v = NULL;

		json_object_object_get_ex(o, "success", &v);
		if (v != NULL) {
			out->has_success = true;
			error = jget_bool(&out->success, j, o, "success");
			if (error < 0)
				return error;
		}
	}
	copy_text(out->name, sizeof(out->name), name);
	copy_text(out->result_message, sizeof(out->result_message), msg);
	if ((error = ref_name(out->service, sizeof(out->service), j, o,
	                      "serviceRef", "serviceName")) < 0 ||
	    (error = ref_name(out->cluster, sizeof(out->cluster), j, o,
	                      "clusterRef", "clusterName")) < 0)
		return error;
	if (out->has_success && !out->success)
		return find_failure(j, o, 0, &best, out->failure,
		                    sizeof(out->failure));
	return 0;
}

int cmr_api_decode_command(struct cmr_api_command *out, const char *what,
                           const char *body, size_t len, struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct jctx j;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	error = dec_command(out, &j, root);
	json_object_put(root);
	return error;
}

int cmr_api_decode_command_list(struct cmr_api_command_list *out,
                                const char *what, const char *body, size_t len,
                                struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct json_object *items = NULL;
	struct json_object *errors = NULL;
	struct jctx j;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) < 0 ||
	    (error = jget_arr(&items, &j, root, "items")) < 0 ||
	    (error = jget_arr(&errors, &j, root, "errors")) < 0)
		goto done;
	n = items ? json_object_array_length(items) : 0;
	old = jpath_key(&j, "items");
	for (i = 0; i < n; i++) {
		struct cmr_api_command c;
		size_t o2 = jpath_index(&j, i);

		error = dec_command(&c, &j,
		                    json_object_array_get_idx(items, i));
		if (error < 0)
			goto done;
		if (cmr_vec_push(out, c) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
		jpath_pop(&j, o2);
	}
	jpath_pop(&j, old);
	n = errors ? json_object_array_length(errors) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(errors, i);

		if (json_object_is_type(e, json_type_string))
			join_text(out->errors, sizeof(out->errors), "; ",
			          json_object_get_string(e));
	}
	error = 0;
done:
	json_object_put(root);
	return error;
}

/* ----------------------------------------------------------------------
 * Parcels
 */

static void parcel_path(struct cmr_buf *out, unsigned version,
                        const char *cluster, const char *product,
                        const char *parcel_version)
{
	api_cluster_path(out, version, cluster);
	cmr_buf_adds(out, "/parcels/products");
	api_path_seg(out, product);
	cmr_buf_adds(out, "/versions");
	api_path_seg(out, parcel_version);
}

int cmr_api_build_parcel(struct cmr_buf *out, unsigned version,
                         const char *cluster, const char *product,
                         const char *parcel_version)
{
	parcel_path(out, version, cluster, product, parcel_version);
	return cmr_buf_error(out);
}

int cmr_api_build_parcel_command(struct cmr_buf *out, unsigned version,
                                 const char *cluster, const char *product,
                                 const char *parcel_version, const char *name)
{
	parcel_path(out, version, cluster, product, parcel_version);
	cmr_buf_adds(out, "/commands");
	api_path_seg(out, name);
	return cmr_buf_error(out);
}

int cmr_api_decode_parcel(struct cmr_api_parcel_status *out, const char *what,
                          const char *body, size_t len, struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct json_object *state = NULL;
	struct json_object *errors = NULL;
	const char *stage = NULL;
	struct jctx j;
	size_t i;
	size_t n;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) < 0 ||
	    (error = jneed_str(&stage, &j, root, "stage")) < 0 ||
	    (error = jget_obj(&state, &j, root, "state")) < 0)
		goto done;
	if (cmr_parcel_stage_parse(&out->stage, stage) < 0)
		out->stage = CMR_PARCEL_STAGE_UNKNOWN;
	if (state) {
		size_t old = jpath_key(&j, "state");

		if ((error = jget_i64(&out->progress, &j, state, "progress")) <
		            0 ||
		    (error = jget_i64(&out->total_progress, &j, state,
		                      "totalProgress")) < 0 ||
		    (error = jget_i64(&out->count, &j, state, "count")) < 0 ||
		    (error = jget_i64(&out->total_count, &j, state,
		                      "totalCount")) < 0 ||
		    (error = jget_arr(&errors, &j, state, "errors")) < 0)
			goto done;
		jpath_pop(&j, old);
	}
	n = errors ? json_object_array_length(errors) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(errors, i);

		if (json_object_is_type(e, json_type_string))
			join_text(out->error, sizeof(out->error), "; ",
			          json_object_get_string(e));
	}
	error = 0;
done:
	json_object_put(root);
	return error;
}

/* ----------------------------------------------------------------------
 * Services and roles
 */

int cmr_api_build_service(struct cmr_buf *out, unsigned version,
                          const char *cluster, const char *service)
{
	service_path(out, version, cluster, service);
	return cmr_buf_error(out);
}

int cmr_api_build_roles(struct cmr_buf *out, unsigned version,
                        const char *cluster, const char *service)
{
	service_path(out, version, cluster, service);
	cmr_buf_adds(out, "/roles");
	return cmr_buf_error(out);
}

/* Enum strings this build does not know stay 0 (api.h's rule). */
static int get_enum(struct jctx *j, struct json_object *o, const char *key,
                    const char **out)
{
	*out = NULL;
	return jget_str(out, j, o, key);
}

static int dec_checks(struct cmr_api_service_status *out, struct jctx *j,
                      struct json_object *o)
{
	struct json_object *checks = NULL;
	size_t i;
	size_t n;
	int error;

	if ((error = jget_arr(&checks, j, o, "healthChecks")) < 0)
		return error;
	n = checks ? json_object_array_length(checks) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(checks, i);
		const char *name = NULL;
		const char *summary = NULL;
		bool suppressed = false;
		char one[CMR_API_NAME_MAX];
		size_t old = jpath_index(j, i);

		if (!json_object_is_type(c, json_type_object))
			continue;
		if ((error = jget_str(&name, j, c, "name")) < 0 ||
		    (error = jget_str(&summary, j, c, "summary")) < 0 ||
		    (error = jget_bool(&suppressed, j, c, "suppressed")) < 0)
			return error;
		jpath_pop(j, old);
		if (suppressed || !summary || strcmp(summary, "GOOD") == 0 ||
		    strcmp(summary, "DISABLED") == 0)
			continue;
		snprintf(one, sizeof(one), "%s (%s)", name ? name : "?",
		         summary);
		join_text(out->failing_checks, sizeof(out->failing_checks),
		          ", ", one);
	}
	return 0;
}

int cmr_api_decode_service(struct cmr_api_service_status *out, const char *what,
                           const char *body, size_t len, struct cmr_error *err)
{
	struct json_object *root = NULL;
	const char *state;
	const char *health;
	const char *stale;
	const char *cstale;
	struct jctx j;
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) < 0 ||
	    (error = get_enum(&j, root, "serviceState", &state)) < 0 ||
	    (error = get_enum(&j, root, "healthSummary", &health)) < 0 ||
	    (error = get_enum(&j, root, "configStalenessStatus", &stale)) < 0 ||
	    (error = get_enum(&j, root, "clientConfigStalenessStatus",
	                      &cstale)) < 0 ||
	    (error = jget_bool(&out->maintenance, &j, root,
	                       "maintenanceMode")) < 0 ||
	    (error = dec_checks(out, &j, root)) < 0)
		goto done;
	if (state && cmr_run_state_parse(&out->state, state) < 0)
		out->state = CMR_RUN_NONE;
	if (health && cmr_health_parse(&out->health, health) < 0)
		out->health = CMR_HEALTH_NONE;
	if (stale && cmr_staleness_parse(&out->config_staleness, stale) < 0)
		out->config_staleness = CMR_STALE_NONE;
	if (cstale && cmr_staleness_parse(&out->client_staleness, cstale) < 0)
		out->client_staleness = CMR_STALE_NONE;
done:
	json_object_put(root);
	return error;
}

static int dec_role(struct jctx *j, struct cmr_state *live,
                    struct cmr_service *s, struct json_object *o)
{
	const char *name = NULL;
	const char *type = NULL;
	const char *state = NULL;
	const char *stale = NULL;
	const char *health = NULL;
	struct cmr_role *r = NULL;
	bool mm = false;
	int error;

	if ((error = jexpect(j, o, json_type_object)) < 0 ||
	    (error = jneed_str(&name, j, o, "name")) < 0 ||
	    (error = jget_str(&type, j, o, "type")) < 0 ||
	    (error = jget_str(&state, j, o, "roleState")) < 0 ||
	    (error = jget_str(&stale, j, o, "configStalenessStatus")) < 0 ||
	    (error = jget_str(&health, j, o, "healthSummary")) < 0 ||
	    (error = jget_bool(&mm, j, o, "maintenanceMode")) < 0)
		return error;
	if ((error = cmr_service_add_role(&r, live, s, name, j->err)) < 0)
		return error;
	if (type && !r->type && !(r->type = cmr_state_strdup(live, type)))
		return cmr_error_set(j->err, CMR_ENOMEM, "out of memory");
	if (state && cmr_run_state_parse(&r->state, state) < 0)
		r->state = CMR_RUN_NONE;
	if (stale && cmr_staleness_parse(&r->config_staleness, stale) < 0)
		r->config_staleness = CMR_STALE_NONE;
	if (health && cmr_health_parse(&r->health, health) < 0)
		r->health = CMR_HEALTH_NONE;
	r->maintenance_mode = mm;
	return 0;
}

int cmr_api_decode_roles(struct cmr_state *live, struct cmr_service *s,
                         const char *what, const char *body, size_t len,
                         struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct json_object *items = NULL;
	struct jctx j;
	size_t i;
	size_t n;
	size_t old;
	int error;

	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) < 0 ||
	    (error = jget_arr(&items, &j, root, "items")) < 0)
		goto done;
	n = items ? json_object_array_length(items) : 0;
	old = jpath_key(&j, "items");
	for (i = 0; i < n; i++) {
		size_t o2 = jpath_index(&j, i);

		error = dec_role(&j, live, s,
		                 json_object_array_get_idx(items, i));
		if (error < 0)
			goto done;
		jpath_pop(&j, o2);
	}
	jpath_pop(&j, old);
	error = 0;
done:
	json_object_put(root);
	return error;
}

/* ----------------------------------------------------------------------
 * Tags
 */

int cmr_api_build_tags_path(struct cmr_buf *out, unsigned version,
                            const char *cluster)
{
	api_cluster_path(out, version, cluster);
	cmr_buf_adds(out, "/tags");
	return cmr_buf_error(out);
}

int cmr_api_build_cluster(struct cmr_buf *out, unsigned version,
                          const char *cluster)
{
	api_cluster_path(out, version, cluster);
	return cmr_buf_error(out);
}

int cmr_api_body_tags(struct cmr_buf *out, const struct cmr_api_tag *tags,
                      size_t n)
{
	size_t i;

	cmr_buf_addc(out, '[');
	for (i = 0; i < n; i++) {
		cmr_buf_adds(out, i ? ",{\"name\":" : "{\"name\":");
		cmr_buf_add_json_str(out, tags[i].name);
		if (tags[i].value) {
			cmr_buf_adds(out, ",\"value\":");
			cmr_buf_add_json_str(out, tags[i].value);
		}
		cmr_buf_addc(out, '}');
	}
	cmr_buf_addc(out, ']');
	return cmr_buf_error(out);
}

/* ----------------------------------------------------------------------
 * Answers
 */

int cmr_api_check_answer(const struct cmr_http_request *req,
                         const struct cmr_http_response *resp,
                         struct cmr_error *err)
{
	return cmr_api_check_response(req, resp, err);
}

int cmr_api_decode_cluster_type(bool *compute, const char *what,
                                const char *body, size_t len,
                                struct cmr_error *err)
{
	struct json_object *root = NULL;
	struct json_object *refs = NULL;
	const char *type = NULL;
	struct jctx j;
	int error;

	*compute = false;
	if ((error = jparse(&root, what, body, len, err)) < 0)
		return error;
	jctx_init(&j, what, err);
	if ((error = jexpect(&j, root, json_type_object)) == 0 &&
	    (error = jget_str(&type, &j, root, "clusterType")) == 0 &&
	    (error = jget_arr(&refs, &j, root, "dataContextRefs")) == 0) {
		/* The spec: unspecified, it is COMPUTE_CLUSTER when data
		 * contexts are given, else BASE_CLUSTER. */
		if (type)
			*compute = strcmp(type, "COMPUTE_CLUSTER") == 0;
		else
			*compute = refs && json_object_array_length(refs) > 0;
	}
	json_object_put(root);
	return error;
}
