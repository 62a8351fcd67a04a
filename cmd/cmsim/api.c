/*
 * api.c -- the CM API routes cmsim serves, and their handlers.
 *
 * Routes are a table of {method, template, handler}.  Templates use the
 * placeholders of the v45 Swagger spec ({clusterName}, {serviceName},
 * ...), so the statistics in GET /_sim/stats name endpoints exactly as the
 * spec does, and GET /_sim/routes gives the conformance test the list to
 * walk.  The /cm/service routes reuse the cluster-service handlers with
 * CMSIM_ROUTE_MGMT set: the management service is a service without a
 * cluster.
 *
 * Handlers run with the simulator lock held, after cmsim_tick, and set
 * req->status and req->resp.  Status codes follow FACTS §1: 200 for every
 * success (also POST/PUT/DELETE), 400 for bad input or an illegal state,
 * 404 for a missing object, with {"message": ...} bodies.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/buf.h"

#include "sim.h"

void cmsim_req_error(struct cmsim_req *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_put(req->resp);
	req->resp = json_object_new_object();
	cmsim_jset_str(req->resp, "message", msg);
	req->status = status;
}

static void ok(struct cmsim_req *r, struct json_object *body)
{
	json_object_put(r->resp);
	r->resp = body;
	r->status = 200;
}

static const char *query(struct cmsim_req *r, const char *key)
{
	return cmsim_jstr(r->query, key);
}

static struct json_object *list_of(struct json_object *arr)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "items", arr);
	return o;
}

static bool view_of(struct cmsim_req *r, enum cmsim_view dflt,
                    enum cmsim_view *out)
{
	const char *v = query(r, "view");

	*out = dflt;
	if (!v || !*v)
		return true;
	if (cmsim_streq_ci(v, "summary"))
		*out = CMSIM_VIEW_SUMMARY;
	else if (cmsim_streq_ci(v, "full") ||
	         cmsim_streq_ci(v, "full_with_health_check_explanation"))
		*out = CMSIM_VIEW_FULL;
	else if (cmsim_streq_ci(v, "export"))
		*out = CMSIM_VIEW_EXPORT;
	else if (cmsim_streq_ci(v, "export_redacted"))
		*out = CMSIM_VIEW_EXPORT_REDACTED;
	else {
		cmsim_req_error(r, 400,
		                "Illegal view='%s'. Supported views: summary, "
		                "full, full_with_health_check_explanation, "
		                "export, export_redacted",
		                v);
		return false;
	}
	return true;
}

/* --- resolving path parameters -------------------------------------------- */

static bool need_cluster(struct cmsim_req *r, struct json_object **c)
{
	*c = cmsim_cluster(r->sim, r->params[0]);
	if (!*c) {
		cmsim_req_error(r, 404, "Cluster '%s' not found.",
		                r->params[0]);
		return false;
	}
	return true;
}

static bool need_service(struct cmsim_req *r, struct json_object **c,
                         struct json_object **s)
{
	if (r->mgmt) {
		*c = NULL;
		*s = cmsim_mgmt(r->sim);
		if (!*s) {
			cmsim_req_error(r, 404,
			                "Cloudera Management Service not "
			                "found.");
			return false;
		}
		return true;
	}
	if (!need_cluster(r, c))
		return false;
	*s = cmsim_service(*c, r->params[1]);
	if (!*s) {
		cmsim_req_error(r, 404,
		                "Service '%s' not found in cluster '%s'.",
		                r->params[1], r->params[0]);
		return false;
	}
	return true;
}

/* The i-th parameter after the cluster/service ones. */
static const char *arg(struct cmsim_req *r, size_t i)
{
	size_t base = r->mgmt ? 0 : 2;

	return base + i < r->nparams ? r->params[base + i] : "";
}

static bool need_rcg(struct cmsim_req *r, struct json_object *s,
                     struct json_object **g)
{
	*g = cmsim_rcg(s, arg(r, 0));
	if (!*g) {
		cmsim_req_error(r, 404, "Role config group '%s' not found.",
		                arg(r, 0));
		return false;
	}
	return true;
}

static bool need_role(struct cmsim_req *r, struct json_object *s,
                      struct json_object **role)
{
	*role = cmsim_role(s, arg(r, 0));
	if (!*role) {
		cmsim_req_error(r, 404, "Role '%s' not found.", arg(r, 0));
		return false;
	}
	return true;
}

static void scope_service(struct cmsim_scope *sc, struct json_object *c,
                          struct json_object *s)
{
	memset(sc, 0, sizeof(*sc));
	sc->kind = CMSIM_SCOPE_SERVICE;
	sc->cluster = c;
	sc->service = s;
	sc->owner = s;
	sc->svc_type = cmsim_jstr(s, "type");
	sc->scope = "SERVICE";
}

static void scope_cm(struct cmsim_req *r, struct cmsim_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->kind = CMSIM_SCOPE_CM;
	sc->owner = cmsim_jget(r->sim->root, "managerSettings");
	if (!sc->owner) {
		sc->owner = json_object_new_object();
		json_object_object_add(r->sim->root, "managerSettings",
		                       sc->owner);
	}
	sc->svc_type = "CM";
	sc->scope = "CM";
}

/* --- config GET / PUT, shared by every scope ------------------------------ */

static void config_get(struct cmsim_req *r, const struct cmsim_scope *sc)
{
	enum cmsim_view view;

	if (!view_of(r, CMSIM_VIEW_SUMMARY, &view))
		return;
	if (view != CMSIM_VIEW_FULL)
		view = CMSIM_VIEW_SUMMARY;
	ok(r, cmsim_render_config(r->sim, sc, view));
}

static void config_put(struct cmsim_req *r, const struct cmsim_scope *sc)
{
	struct cmr_error err = CMR_ERROR_INIT;

	if (cmsim_config_put(r->sim, sc, r->body, query(r, "message"), &err) <
	    0) {
		cmsim_req_error(r, 400, "%s", err.msg);
		return;
	}
	ok(r, cmsim_render_config(r->sim, sc, CMSIM_VIEW_SUMMARY));
}

/* --- Cloudera Manager ----------------------------------------------------- */

static void h_cm_version(struct cmsim_req *r)
{
	ok(r, cmsim_jdup(cmsim_jget(r->sim->root, "versionInfo")));
}

static void h_cm_config_get(struct cmsim_req *r)
{
	struct cmsim_scope sc;

	scope_cm(r, &sc);
	config_get(r, &sc);
}

static void h_cm_config_put(struct cmsim_req *r)
{
	struct cmsim_scope sc;

	scope_cm(r, &sc);
	config_put(r, &sc);
}

static void h_deployment(struct cmsim_req *r)
{
	enum cmsim_view view;

	if (!view_of(r, CMSIM_VIEW_EXPORT, &view))
		return;
	if (view != CMSIM_VIEW_EXPORT && view != CMSIM_VIEW_EXPORT_REDACTED) {
		cmsim_req_error(r, 400,
		                "Illegal view='%s'. Supported views: export, "
		                "export_redacted",
		                query(r, "view"));
		return;
	}
	ok(r, cmsim_render_deployment(r->sim, r->ver,
	                              view == CMSIM_VIEW_EXPORT_REDACTED));
}

/* Active top-level commands, filtered by cluster / service / role. */
static struct json_object *active_commands(struct cmsim_req *r,
                                           const char *cluster,
                                           const char *service,
                                           const char *role, bool global)
{
	struct json_object *cmds = cmsim_jget(r->sim->root, "commands");
	struct json_object *out = json_object_new_array();
	size_t i;
	size_t n = cmds ? json_object_array_length(cmds) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cmds, i);
		const char *cn = cmsim_jstr(c, "clusterName");
		const char *sn = cmsim_jstr(c, "serviceName");
		const char *rn = cmsim_jstr(c, "roleName");

		if (!cmsim_jbool(c, "active", false))
			continue;
		if (global && (cn || sn))
			continue;
		if (cluster && (!cn || strcmp(cn, cluster) != 0))
			continue;
		if (service && (!sn || strcmp(sn, service) != 0))
			continue;
		if (role && (!rn || strcmp(rn, role) != 0))
			continue;
		if (r->mgmt && !cmsim_jbool(c, "mgmt", false))
			continue;
		json_object_array_add(out,
		                      cmsim_render_command(r->sim, c, false));
	}
	return list_of(out);
}

static void h_cm_commands(struct cmsim_req *r)
{
	ok(r, active_commands(r, NULL, NULL, NULL, true));
}

static void h_refresh_repos(struct cmsim_req *r)
{
	struct json_object *cmd = NULL;

	cmsim_cmd_refresh_repos(&cmd, r->sim, NULL);
	ok(r, cmsim_render_command(r->sim, cmd, false));
}

/* --- clusters ------------------------------------------------------------- */

static void h_clusters(struct cmsim_req *r)
{
	struct json_object *arr = cmsim_jget(r->sim->root, "clusters");
	struct json_object *out = json_object_new_array();
	enum cmsim_view view;
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	const char *type = query(r, "clusterType");
	bool any = false;
	bool compute = false;

	if (!view_of(r, CMSIM_VIEW_SUMMARY, &view)) {
		json_object_put(out);
		return;
	}
	/* v32+: base (the default), compute or any. */
	if (type && *type && r->ver >= 32) {
		any = cmsim_streq_ci(type, "any");
		compute = cmsim_streq_ci(type, "compute");
		if (!any && !compute && !cmsim_streq_ci(type, "base")) {
			json_object_put(out);
			cmsim_req_error(r, 400,
			                "Illegal clusterType='%s'. Supported "
			                "types: base, compute, any",
			                type);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		bool is_compute =
		        strcmp(cmsim_cluster_type(c), "COMPUTE_CLUSTER") == 0;

		if (!any && is_compute != compute)
			continue;
		json_object_array_add(out,
		                      cmsim_render_cluster(r->sim, c, r->ver));
	}
	ok(r, list_of(out));
}

static void h_cluster_get(struct cmsim_req *r)
{
	struct json_object *c;

	if (need_cluster(r, &c))
		ok(r, cmsim_render_cluster(r->sim, c, r->ver));
}

static void h_cluster_export(struct cmsim_req *r)
{
	struct json_object *c;

	if (need_cluster(r, &c))
		ok(r, cmsim_render_template(r->sim, c));
}

static void h_cluster_hosts(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *seen;
	struct json_object *out;
	struct json_object *hosts;
	struct json_object *svcs;
	size_t i;
	size_t j;
	size_t n;

	if (!need_cluster(r, &c))
		return;
	seen = json_object_new_object();
	out = json_object_new_array();
	svcs = cmsim_jget(c, "services");
	n = svcs ? json_object_array_length(svcs) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *roles =
		        cmsim_jget(json_object_array_get_idx(svcs, i), "roles");
		size_t m = roles ? json_object_array_length(roles) : 0;

		for (j = 0; j < m; j++) {
			const char *h = cmsim_jstr(
			        cmsim_jget(json_object_array_get_idx(roles, j),
			                   "hostRef"),
			        "hostId");

			if (h)
				json_object_object_add(seen, h, NULL);
		}
	}
	hosts = cmsim_jget(r->sim->root, "hosts");
	n = hosts ? json_object_array_length(hosts) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(hosts, i);
		const char *id = cmsim_jstr(h, "hostId");

		if (id && json_object_object_get_ex(seen, id, NULL)) {
			struct json_object *ref = json_object_new_object();

			cmsim_jset_str(ref, "hostId", id);
			cmsim_jcopy(ref, h, "hostname");
			json_object_array_add(out, ref);
		}
	}
	json_object_put(seen);
	ok(r, list_of(out));
}

static void h_cluster_commands(struct cmsim_req *r)
{
	struct json_object *c;

	if (need_cluster(r, &c))
		ok(r, active_commands(r, cmsim_jstr(c, "name"), NULL, NULL,
		                      false));
}

static void cluster_cmd(struct cmsim_req *r, const char *what)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *c;
	struct json_object *cmd = NULL;

	if (!need_cluster(r, &c))
		return;
	if (cmsim_cmd_cluster(&cmd, r->sim, c, what, r->body, &err) < 0) {
		cmsim_req_error(r, 400, "%s", err.msg);
		return;
	}
	ok(r, cmsim_render_command(r->sim, cmd, false));
}

#define CLUSTER_CMD(fn, what)               \
	static void fn(struct cmsim_req *r) \
	{                                   \
		cluster_cmd(r, what);       \
	}
CLUSTER_CMD(h_cl_start, "start")
CLUSTER_CMD(h_cl_stop, "stop")
CLUSTER_CMD(h_cl_restart, "restart")
CLUSTER_CMD(h_cl_rolling, "rollingRestart")
CLUSTER_CMD(h_cl_refresh, "refresh")
CLUSTER_CMD(h_cl_deploy, "deployClientConfig")
CLUSTER_CMD(h_cl_deploy_refresh, "deployClientConfigsAndRefresh")

/* --- maintenance mode: cluster, service or role, by number of params ------ */

static void maintenance(struct cmsim_req *r, bool on)
{
	struct json_object *c = NULL;
	struct json_object *s = NULL;
	struct json_object *role = NULL;
	struct json_object *cmd;
	size_t n = r->mgmt ? r->nparams + 2 : r->nparams;

	if (n == 1) {
		if (!need_cluster(r, &c))
			return;
	} else if (!need_service(r, &c, &s) ||
	           (n == 3 && !need_role(r, s, &role))) {
		return;
	}
	cmd = cmsim_cmd_maintenance(r->sim, c, s, role, on);
	ok(r, cmsim_render_command(r->sim, cmd, false));
}

static void h_mm_enter(struct cmsim_req *r)
{
	maintenance(r, true);
}

static void h_mm_exit(struct cmsim_req *r)
{
	maintenance(r, false);
}

/* --- tags (v41+): cluster, service or role, by number of parameters ------- */

static struct json_object *tag_owner(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *role;

	if (r->nparams == 1)
		return need_cluster(r, &c) ? c : NULL;
	if (!need_service(r, &c, &s))
		return NULL;
	if (r->nparams == 2)
		return s;
	return need_role(r, s, &role) ? role : NULL;
}

static void h_tags_get(struct cmsim_req *r)
{
	struct json_object *owner = tag_owner(r);
	struct json_object *tags;
	struct json_object *out;
	int64_t limit = 10; /* limit and offset: the v45 spec's defaults */
	int64_t offset = 0;
	int64_t i;
	int64_t n;

	if (!owner)
		return;
	if (query(r, "limit"))
		limit = strtoll(query(r, "limit"), NULL, 10);
	if (query(r, "offset"))
		offset = strtoll(query(r, "offset"), NULL, 10);
	if (offset < 0)
		offset = 0;
	tags = cmsim_jarr(owner, "tags");
	n = (int64_t)json_object_array_length(tags);
	out = json_object_new_array();
	for (i = offset; i < n && i - offset < limit; i++)
		json_object_array_add(out, cmsim_jdup(json_object_array_get_idx(
		                                   tags, (size_t)i)));
	ok(r, out);
}

static bool tag_body(struct cmsim_req *r)
{
	size_t i;
	size_t n;

	if (!r->body || !json_object_is_type(r->body, json_type_array)) {
		cmsim_req_error(r, 400,
		                "Invalid request body: expected a list of "
		                "tags [{\"name\": ..., \"value\": ...}].");
		return false;
	}
	n = json_object_array_length(r->body);
	for (i = 0; i < n; i++)
		if (!cmsim_jstr(json_object_array_get_idx(r->body, i),
		                "name")) {
			cmsim_req_error(r, 400,
			                "Invalid request body: tag %zu has no "
			                "name.",
			                i);
			return false;
		}
	return true;
}

static void h_tags_put(struct cmsim_req *r)
{
	struct json_object *owner = tag_owner(r);
	struct json_object *tags;
	size_t i;
	size_t j;
	size_t n;

	if (!owner || !tag_body(r))
		return;
	tags = cmsim_jarr(owner, "tags");
	n = json_object_array_length(r->body);
	for (i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(r->body, i);
		const char *name = cmsim_jstr(t, "name");
		const char *value = cmsim_jstr(t, "value");
		struct json_object *have = NULL;
		struct json_object *nt;

		for (j = 0; j < json_object_array_length(tags); j++) {
			struct json_object *e =
			        json_object_array_get_idx(tags, j);

			if (strcmp(cmsim_jstr(e, "name"), name) == 0)
				have = e;
		}
		if (have) {
			cmsim_jset_str(have, "value", value ? value : "");
			continue;
		}
		nt = json_object_new_object();
		cmsim_jset_str(nt, "name", name);
		cmsim_jset_str(nt, "value", value ? value : "");
		json_object_array_add(tags, nt);
	}
	r->sim->dirty = true;
	ok(r, cmsim_render_tags(owner));
}

static void h_tags_delete(struct cmsim_req *r)
{
	struct json_object *owner = tag_owner(r);
	struct json_object *tags;
	size_t i;
	size_t j;
	size_t n;

	if (!owner || !tag_body(r))
		return;
	tags = cmsim_jarr(owner, "tags");
	n = json_object_array_length(r->body);
	for (i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(r->body, i);
		const char *name = cmsim_jstr(t, "name");
		const char *value = cmsim_jstr(t, "value");

		for (j = 0; j < json_object_array_length(tags);) {
			struct json_object *e =
			        json_object_array_get_idx(tags, j);

			if (strcmp(cmsim_jstr(e, "name"), name) == 0 &&
			    (!value ||
			     strcmp(value, cmsim_jstr(e, "value")) == 0))
				json_object_array_del_idx(tags, j, 1);
			else
				j++;
		}
	}
	r->sim->dirty = true;
	ok(r, cmsim_render_tags(owner));
}

/* --- parcels -------------------------------------------------------------- */

static void h_parcels(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *arr;
	struct json_object *out;
	enum cmsim_view view;
	size_t i;
	size_t n;

	if (!need_cluster(r, &c) || !view_of(r, CMSIM_VIEW_SUMMARY, &view))
		return;
	arr = cmsim_jget(c, "parcels");
	out = json_object_new_array();
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(
		        out, cmsim_render_parcel(
		                     c, json_object_array_get_idx(arr, i)));
	ok(r, list_of(out));
}

static bool need_parcel(struct cmsim_req *r, struct json_object **c,
                        struct json_object **p)
{
	if (!need_cluster(r, c))
		return false;
	*p = cmsim_parcel(*c, r->params[1], r->params[2]);
	if (!*p) {
		cmsim_req_error(r, 404,
		                "Parcel '%s' version '%s' not found in cluster "
		                "'%s'.",
		                r->params[1], r->params[2], r->params[0]);
		return false;
	}
	return true;
}

static void h_parcel_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *p;

	if (need_parcel(r, &c, &p))
		ok(r, cmsim_render_parcel(c, p));
}

static void parcel_cmd(struct cmsim_req *r, const char *what)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *c;
	struct json_object *p;
	struct json_object *o;
	char when[40];

	if (!need_parcel(r, &c, &p))
		return;
	if (cmsim_parcel_command(r->sim, c, p, what, &err) < 0) {
		cmsim_req_error(r, 400, "%s", err.msg);
		return;
	}
	/* Synchronous: no id (FACTS §6/§12), finished at once. */
	o = json_object_new_object();
	cmsim_jset_str(o, "name", what);
	cmsim_iso_time(when, sizeof(when), cmsim_now(r->sim));
	cmsim_jset_str(o, "startTime", when);
	cmsim_jset_str(o, "endTime", when);
	cmsim_jset_bool(o, "active", false);
	cmsim_jset_bool(o, "success", true);
	cmsim_jset_str(o, "resultMessage", cmsim_jstr(p, "stage"));
	{
		struct json_object *ref = json_object_new_object();

		cmsim_jset_str(ref, "clusterName", cmsim_jstr(c, "name"));
		cmsim_jset_str(ref, "displayName",
		               cmsim_jstr(c, "displayName"));
		json_object_object_add(o, "clusterRef", ref);
	}
	ok(r, o);
}

#define PARCEL_CMD(fn, what)                \
	static void fn(struct cmsim_req *r) \
	{                                   \
		parcel_cmd(r, what);        \
	}
PARCEL_CMD(h_p_start_download, "startDownload")
PARCEL_CMD(h_p_cancel_download, "cancelDownload")
PARCEL_CMD(h_p_remove_download, "removeDownload")
PARCEL_CMD(h_p_start_distribution, "startDistribution")
PARCEL_CMD(h_p_cancel_distribution, "cancelDistribution")
PARCEL_CMD(h_p_remove_distribution, "startRemovalOfDistribution")
PARCEL_CMD(h_p_activate, "activate")
PARCEL_CMD(h_p_deactivate, "deactivate")

/* --- services ------------------------------------------------------------- */

static void h_services(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *arr;
	struct json_object *out;
	enum cmsim_view view;
	size_t i;
	size_t n;

	if (!need_cluster(r, &c) || !view_of(r, CMSIM_VIEW_SUMMARY, &view))
		return;
	arr = cmsim_jget(c, "services");
	out = json_object_new_array();
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(
		        out,
		        cmsim_render_service(r->sim, c,
		                             json_object_array_get_idx(arr, i),
		                             r->ver, view));
	ok(r, list_of(out));
}

static void h_service_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	enum cmsim_view view;

	if (need_service(r, &c, &s) && view_of(r, CMSIM_VIEW_FULL, &view))
		ok(r, cmsim_render_service(r->sim, c, s, r->ver, view));
}

static void h_service_config_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s))
		return;
	scope_service(&sc, c, s);
	config_get(r, &sc);
}

static void h_service_config_put(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s))
		return;
	scope_service(&sc, c, s);
	config_put(r, &sc);
}

static void h_role_types(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *seen;
	struct json_object *out;
	struct json_object *arr;
	size_t i;
	size_t n;

	if (!need_service(r, &c, &s))
		return;
	seen = json_object_new_object();
	out = json_object_new_array();
	arr = cmsim_jget(s, "roleConfigGroups");
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		const char *t = cmsim_jstr(json_object_array_get_idx(arr, i),
		                           "roleType");

		if (t && !json_object_object_get_ex(seen, t, NULL)) {
			json_object_object_add(seen, t, NULL);
			json_object_array_add(out, json_object_new_string(t));
		}
	}
	json_object_put(seen);
	ok(r, list_of(out));
}

static void h_service_commands(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;

	if (need_service(r, &c, &s))
		ok(r, active_commands(r, c ? cmsim_jstr(c, "name") : NULL,
		                      cmsim_jstr(s, "name"), NULL, false));
}

static void service_cmd(struct cmsim_req *r, enum cmsim_cmd_kind kind)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *c;
	struct json_object *s;
	struct json_object *cmd = NULL;

	if (!need_service(r, &c, &s))
		return;
	if (cmsim_cmd_service(&cmd, r->sim, c, s, kind, r->body, &err) < 0) {
		cmsim_req_error(r, 400, "%s", err.msg);
		return;
	}
	ok(r, cmsim_render_command(r->sim, cmd, false));
}

#define SERVICE_CMD(fn, kind)               \
	static void fn(struct cmsim_req *r) \
	{                                   \
		service_cmd(r, kind);       \
	}
SERVICE_CMD(h_s_start, CMSIM_CMD_SVC_START)
SERVICE_CMD(h_s_stop, CMSIM_CMD_SVC_STOP)
SERVICE_CMD(h_s_restart, CMSIM_CMD_SVC_RESTART)
SERVICE_CMD(h_s_rolling, CMSIM_CMD_SVC_ROLLING)
SERVICE_CMD(h_s_deploy, CMSIM_CMD_SVC_DEPLOY_CC)

static void role_cmds(struct cmsim_req *r, enum cmsim_cmd_kind kind)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *items;
	struct json_object *out;
	struct json_object *errors;
	size_t i;
	size_t n;

	if (!need_service(r, &c, &s))
		return;
	items = cmsim_jget(r->body, "items");
	if (!items || !json_object_is_type(items, json_type_array)) {
		cmsim_req_error(r, 400,
		                "Invalid request body: expected "
		                "{\"items\": [role names]}.");
		return;
	}
	out = json_object_new_array();
	errors = json_object_new_array();
	n = json_object_array_length(items);
	for (i = 0; i < n; i++) {
		const char *name = json_object_get_string(
		        json_object_array_get_idx(items, i));
		struct json_object *role = cmsim_role(s, name ? name : "");
		struct json_object *cmd = NULL;
		struct cmr_error err = CMR_ERROR_INIT;

		if (!role) {
			char msg[600];

			snprintf(msg, sizeof(msg), "Role '%s' not found.",
			         name ? name : "");
			json_object_array_add(errors,
			                      json_object_new_string(msg));
			continue;
		}
		if (cmsim_cmd_role(&cmd, r->sim, c, s, role, kind, &err) < 0) {
			json_object_array_add(errors,
			                      json_object_new_string(err.msg));
			continue;
		}
		json_object_array_add(out,
		                      cmsim_render_command(r->sim, cmd, false));
	}
	{
		struct json_object *o = list_of(out);

		json_object_object_add(o, "errors", errors);
		ok(r, o);
	}
}

#define ROLE_CMD(fn, kind)                  \
	static void fn(struct cmsim_req *r) \
	{                                   \
		role_cmds(r, kind);         \
	}
ROLE_CMD(h_r_start, CMSIM_CMD_ROLE_START)
ROLE_CMD(h_r_stop, CMSIM_CMD_ROLE_STOP)
ROLE_CMD(h_r_restart, CMSIM_CMD_ROLE_RESTART)
ROLE_CMD(h_r_refresh, CMSIM_CMD_ROLE_REFRESH)

/* --- role config groups --------------------------------------------------- */

static void h_rcgs(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *arr;
	struct json_object *out;
	size_t i;
	size_t n;

	if (!need_service(r, &c, &s))
		return;
	arr = cmsim_jget(s, "roleConfigGroups");
	out = json_object_new_array();
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(
		        out, cmsim_render_rcg(r->sim, c, s,
		                              json_object_array_get_idx(arr, i),
		                              r->ver));
	ok(r, list_of(out));
}

static void h_rcg_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *g;

	if (need_service(r, &c, &s) && need_rcg(r, s, &g))
		ok(r, cmsim_render_rcg(r->sim, c, s, g, r->ver));
}

static void rcg_scope(struct cmsim_scope *sc, struct json_object *c,
                      struct json_object *s, struct json_object *g)
{
	scope_service(sc, c, s);
	sc->kind = CMSIM_SCOPE_RCG;
	sc->owner = g;
	sc->scope = cmsim_jstr(g, "roleType");
}

static void h_rcg_put(struct cmsim_req *r)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *c;
	struct json_object *s;
	struct json_object *g;
	struct json_object *cfg;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s) || !need_rcg(r, s, &g))
		return;
	if (!r->body || !json_object_is_type(r->body, json_type_object)) {
		cmsim_req_error(r, 400,
		                "Invalid request body: expected an "
		                "ApiRoleConfigGroup.");
		return;
	}
	rcg_scope(&sc, c, s, g);
	cfg = cmsim_jget(r->body, "config");
	if (cfg &&
	    cmsim_config_put(r->sim, &sc, cfg, query(r, "message"), &err) < 0) {
		cmsim_req_error(r, 400, "%s", err.msg);
		return;
	}
	if (cmsim_jstr(r->body, "displayName")) {
		cmsim_jcopy(g, r->body, "displayName");
		r->sim->dirty = true;
	}
	ok(r, cmsim_render_rcg(r->sim, c, s, g, r->ver));
}

static void h_rcg_config_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *g;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s) || !need_rcg(r, s, &g))
		return;
	rcg_scope(&sc, c, s, g);
	config_get(r, &sc);
}

static void h_rcg_config_put(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *g;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s) || !need_rcg(r, s, &g))
		return;
	rcg_scope(&sc, c, s, g);
	config_put(r, &sc);
}

/*
 * Whether a rendered role passes a role-list filter: key==value
 * constraints joined with ';' (type, hostname, hostId, roleState).  A
 * constraint on any other key rejects every role; a part without "=="
 * (or with a key of 64 bytes or more) is ignored.
 */
static bool filter_keeps(struct json_object *rendered, const char *filter)
{
	bool keep = true;
	const char *p = filter;

	while (p && *p && keep) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		const char *eq = strstr(p, "==");
		const char *v = NULL;
		char key[64];

		if (eq && (size_t)(eq - p) < len &&
		    (size_t)(eq - p) < sizeof(key)) {
			snprintf(key, sizeof(key), "%.*s", (int)(eq - p), p);
			if (strcmp(key, "type") == 0)
				v = cmsim_jstr(rendered, "type");
			else if (strcmp(key, "hostname") == 0 ||
			         strcmp(key, "hostId") == 0)
				v = cmsim_jstr(cmsim_jget(rendered, "hostRef"),
				               key);
			else if (strcmp(key, "roleState") == 0)
				v = cmsim_jstr(rendered, "roleState");
			keep = v && strlen(v) == len - (size_t)(eq + 2 - p) &&
			       strncmp(v, eq + 2, strlen(v)) == 0;
		}
		p = semi ? semi + 1 : NULL;
	}
	return keep;
}

static void roles_matching(struct cmsim_req *r, struct json_object *c,
                           struct json_object *s, const char *group)
{
	struct json_object *arr = cmsim_jget(s, "roles");
	struct json_object *out = json_object_new_array();
	const char *filter = query(r, "filter");
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *role = json_object_array_get_idx(arr, i);
		const char *g =
		        cmsim_jstr(cmsim_jget(role, "roleConfigGroupRef"),
		                   "roleConfigGroupName");
		struct json_object *rendered;

		if (group && (!g || strcmp(g, group) != 0))
			continue;
		rendered = cmsim_render_role(r->sim, c, s, role, r->ver);
		if (filter_keeps(rendered, filter))
			json_object_array_add(out, rendered);
		else
			json_object_put(rendered);
	}
	ok(r, list_of(out));
}

static void h_rcg_roles(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *g;

	if (need_service(r, &c, &s) && need_rcg(r, s, &g))
		roles_matching(r, c, s, cmsim_jstr(g, "name"));
}

/* --- roles ---------------------------------------------------------------- */

static void h_roles(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	enum cmsim_view view;

	if (need_service(r, &c, &s) && view_of(r, CMSIM_VIEW_SUMMARY, &view))
		roles_matching(r, c, s, NULL);
}

static void h_role_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *role;

	if (need_service(r, &c, &s) && need_role(r, s, &role))
		ok(r, cmsim_render_role(r->sim, c, s, role, r->ver));
}

static void role_scope(struct cmsim_scope *sc, struct json_object *c,
                       struct json_object *s, struct json_object *role)
{
	scope_service(sc, c, s);
	sc->kind = CMSIM_SCOPE_ROLE;
	sc->owner = role;
	sc->scope = cmsim_jstr(role, "type");
}

static void h_role_config_get(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *role;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s) || !need_role(r, s, &role))
		return;
	role_scope(&sc, c, s, role);
	config_get(r, &sc);
}

static void h_role_config_put(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *role;
	struct cmsim_scope sc;

	if (!need_service(r, &c, &s) || !need_role(r, s, &role))
		return;
	role_scope(&sc, c, s, role);
	config_put(r, &sc);
}

static void h_role_commands(struct cmsim_req *r)
{
	struct json_object *c;
	struct json_object *s;
	struct json_object *role;

	if (need_service(r, &c, &s) && need_role(r, s, &role))
		ok(r, active_commands(r, c ? cmsim_jstr(c, "name") : NULL,
		                      cmsim_jstr(s, "name"),
		                      cmsim_jstr(role, "name"), false));
}

/* --- commands and hosts --------------------------------------------------- */

static bool need_command(struct cmsim_req *r, struct json_object **cmd)
{
	char *end = NULL;
	long long id = strtoll(r->params[0], &end, 10);

	*cmd = end && *end == '\0' && end != r->params[0]
	               ? cmsim_cmd_find(r->sim, id)
	               : NULL;
	if (!*cmd) {
		cmsim_req_error(r, 404, "Command '%s' not found.",
		                r->params[0]);
		return false;
	}
	return true;
}

static void h_command_get(struct cmsim_req *r)
{
	struct json_object *cmd;

	if (need_command(r, &cmd))
		ok(r, cmsim_render_command(r->sim, cmd, true));
}

static void h_command_abort(struct cmsim_req *r)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *cmd;

	if (!need_command(r, &cmd))
		return;
	if (cmsim_cmd_abort(r->sim, cmd, &err) < 0) {
		cmsim_req_error(r, 400, "%s", err.msg);
		return;
	}
	ok(r, cmsim_render_command(r->sim, cmd, true));
}

static void h_hosts(struct cmsim_req *r)
{
	struct json_object *arr = cmsim_jget(r->sim->root, "hosts");
	struct json_object *out = json_object_new_array();
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++)
		json_object_array_add(
		        out,
		        cmsim_render_host(json_object_array_get_idx(arr, i),
		                          r->ver));
	ok(r, list_of(out));
}

static void h_host_get(struct cmsim_req *r)
{
	struct json_object *arr = cmsim_jget(r->sim->root, "hosts");
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(arr, i);
		const char *id = cmsim_jstr(h, "hostId");

		if (id && strcmp(id, r->params[0]) == 0) {
			ok(r, cmsim_render_host(h, r->ver));
			return;
		}
	}
	cmsim_req_error(r, 404, "Host '%s' not found.", r->params[0]);
}

/* --- the table ------------------------------------------------------------ */

#define C  "/clusters/{clusterName}"
#define S  C "/services/{serviceName}"
#define P  C "/parcels/products/{product}/versions/{version}"
#define M  "/cm/service"
#define MG CMSIM_ROUTE_MGMT

const struct cmsim_route cmsim_routes[] = {
	{ "GET", "/cm/version", h_cm_version, 0, 1 },
	{ "GET", "/cm/config", h_cm_config_get, 0, 1 },
	{ "PUT", "/cm/config", h_cm_config_put, CMSIM_ROUTE_FULL_ADMIN, 1 },
	{ "GET", "/cm/deployment", h_deployment, CMSIM_ROUTE_ADMIN, 1 },
	{ "GET", "/cm/commands", h_cm_commands, 0, 1 },
	{ "POST", "/cm/commands/refreshParcelRepos", h_refresh_repos, 0, 1 },
	{ "GET", "/clusters", h_clusters, 0, 1 },
	{ "GET", C, h_cluster_get, 0, 1 },
	{ "GET", C "/export", h_cluster_export, 0, 12 },
	{ "GET", C "/hosts", h_cluster_hosts, 0, 1 },
	{ "GET", C "/commands", h_cluster_commands, 0, 1 },
	{ "POST", C "/commands/start", h_cl_start, 0, 1 },
	{ "POST", C "/commands/stop", h_cl_stop, 0, 1 },
	{ "POST", C "/commands/restart", h_cl_restart, 0, 1 },
	{ "POST", C "/commands/rollingRestart", h_cl_rolling, 0, 4 },
	{ "POST", C "/commands/refresh", h_cl_refresh, 0, 6 },
	{ "POST", C "/commands/deployClientConfig", h_cl_deploy, 0, 2 },
	{ "POST", C "/commands/deployClientConfigsAndRefresh",
	  h_cl_deploy_refresh, 0, 41 },
	{ "POST", C "/commands/enterMaintenanceMode", h_mm_enter, 0, 2 },
	{ "POST", C "/commands/exitMaintenanceMode", h_mm_exit, 0, 2 },
	{ "GET", C "/tags", h_tags_get, 0, 41 },
	{ "PUT", C "/tags", h_tags_put, 0, 41 },
	{ "DELETE", C "/tags", h_tags_delete, 0, 41 },
	{ "GET", C "/parcels", h_parcels, 0, 3 },
	{ "GET", P, h_parcel_get, 0, 3 },
	{ "POST", P "/commands/startDownload", h_p_start_download, 0, 3 },
	{ "POST", P "/commands/cancelDownload", h_p_cancel_download, 0, 3 },
	{ "POST", P "/commands/removeDownload", h_p_remove_download, 0, 3 },
	{ "POST", P "/commands/startDistribution", h_p_start_distribution, 0,
	  3 },
	{ "POST", P "/commands/cancelDistribution", h_p_cancel_distribution, 0,
	  3 },
	{ "POST", P "/commands/startRemovalOfDistribution",
	  h_p_remove_distribution, 0, 3 },
	{ "POST", P "/commands/activate", h_p_activate, 0, 3 },
	{ "POST", P "/commands/deactivate", h_p_deactivate, 0, 3 },
	{ "GET", C "/services", h_services, 0, 1 },
	{ "GET", S, h_service_get, 0, 1 },
	{ "GET", S "/config", h_service_config_get, 0, 1 },
	{ "PUT", S "/config", h_service_config_put, 0, 1 },
	{ "GET", S "/roleTypes", h_role_types, 0, 1 },
	{ "GET", S "/commands", h_service_commands, 0, 1 },
	{ "POST", S "/commands/start", h_s_start, 0, 1 },
	{ "POST", S "/commands/stop", h_s_stop, 0, 1 },
	{ "POST", S "/commands/restart", h_s_restart, 0, 1 },
	{ "POST", S "/commands/rollingRestart", h_s_rolling, 0, 3 },
	{ "POST", S "/commands/deployClientConfig", h_s_deploy, 0, 1 },
	{ "POST", S "/commands/enterMaintenanceMode", h_mm_enter, 0, 2 },
	{ "POST", S "/commands/exitMaintenanceMode", h_mm_exit, 0, 2 },
	{ "POST", S "/roles/{roleName}/commands/enterMaintenanceMode",
	  h_mm_enter, 0, 2 },
	{ "POST", S "/roles/{roleName}/commands/exitMaintenanceMode", h_mm_exit,
	  0, 2 },
	{ "POST", S "/roleCommands/start", h_r_start, 0, 1 },
	{ "POST", S "/roleCommands/stop", h_r_stop, 0, 1 },
	{ "POST", S "/roleCommands/restart", h_r_restart, 0, 1 },
	{ "POST", S "/roleCommands/refresh", h_r_refresh, 0, 1 },
	{ "GET", S "/tags", h_tags_get, 0, 41 },
	{ "PUT", S "/tags", h_tags_put, 0, 41 },
	{ "DELETE", S "/tags", h_tags_delete, 0, 41 },
	{ "GET", S "/roleConfigGroups", h_rcgs, 0, 3 },
	{ "GET", S "/roleConfigGroups/{roleConfigGroupName}", h_rcg_get, 0, 3 },
	{ "PUT", S "/roleConfigGroups/{roleConfigGroupName}", h_rcg_put, 0, 3 },
	{ "GET", S "/roleConfigGroups/{roleConfigGroupName}/config",
	  h_rcg_config_get, 0, 3 },
	{ "PUT", S "/roleConfigGroups/{roleConfigGroupName}/config",
	  h_rcg_config_put, 0, 3 },
	{ "GET", S "/roleConfigGroups/{roleConfigGroupName}/roles", h_rcg_roles,
	  0, 3 },
	{ "GET", S "/roles", h_roles, 0, 1 },
	{ "GET", S "/roles/{roleName}", h_role_get, 0, 1 },
	{ "GET", S "/roles/{roleName}/config", h_role_config_get, 0, 1 },
	{ "PUT", S "/roles/{roleName}/config", h_role_config_put, 0, 1 },
	{ "GET", S "/roles/{roleName}/commands", h_role_commands, 0, 1 },
	{ "GET", S "/roles/{roleName}/tags", h_tags_get, 0, 41 },
	{ "PUT", S "/roles/{roleName}/tags", h_tags_put, 0, 41 },
	{ "DELETE", S "/roles/{roleName}/tags", h_tags_delete, 0, 41 },
	{ "GET", M, h_service_get, MG, 1 },
	{ "GET", M "/config", h_service_config_get, MG, 1 },
	{ "PUT", M "/config", h_service_config_put, MG, 1 },
	{ "GET", M "/roleTypes", h_role_types, MG, 1 },
	{ "GET", M "/commands", h_service_commands, MG, 1 },
	{ "POST", M "/commands/start", h_s_start, MG, 1 },
	{ "POST", M "/commands/stop", h_s_stop, MG, 1 },
	{ "POST", M "/commands/restart", h_s_restart, MG, 1 },
	{ "POST", M "/commands/enterMaintenanceMode", h_mm_enter, MG, 2 },
	{ "POST", M "/commands/exitMaintenanceMode", h_mm_exit, MG, 2 },
	{ "POST", M "/roles/{roleName}/commands/enterMaintenanceMode",
	  h_mm_enter, MG, 2 },
	{ "POST", M "/roles/{roleName}/commands/exitMaintenanceMode", h_mm_exit,
	  MG, 2 },
	{ "POST", M "/roleCommands/start", h_r_start, MG, 1 },
	{ "POST", M "/roleCommands/stop", h_r_stop, MG, 1 },
	{ "POST", M "/roleCommands/restart", h_r_restart, MG, 1 },
	{ "GET", M "/roleConfigGroups", h_rcgs, MG, 3 },
	{ "GET", M "/roleConfigGroups/{roleConfigGroupName}", h_rcg_get, MG,
	  3 },
	{ "PUT", M "/roleConfigGroups/{roleConfigGroupName}", h_rcg_put, MG,
	  3 },
	{ "GET", M "/roleConfigGroups/{roleConfigGroupName}/config",
	  h_rcg_config_get, MG, 3 },
	{ "PUT", M "/roleConfigGroups/{roleConfigGroupName}/config",
	  h_rcg_config_put, MG, 3 },
	{ "GET", M "/roleConfigGroups/{roleConfigGroupName}/roles", h_rcg_roles,
	  MG, 3 },
	{ "GET", M "/roles", h_roles, MG, 1 },
	{ "GET", M "/roles/{roleName}", h_role_get, MG, 1 },
	{ "GET", M "/roles/{roleName}/config", h_role_config_get, MG, 1 },
	{ "PUT", M "/roles/{roleName}/config", h_role_config_put, MG, 1 },
	{ "GET", M "/roles/{roleName}/commands", h_role_commands, MG, 1 },
	{ "GET", "/commands/{commandId}", h_command_get, 0, 1 },
	{ "POST", "/commands/{commandId}/abort", h_command_abort, 0, 1 },
	{ "GET", "/hosts", h_hosts, 0, 1 },
	{ "GET", "/hosts/{hostId}", h_host_get, 0, 1 },
};

const size_t cmsim_nroutes = CMR_ARRAY_SIZE(cmsim_routes);

/* Compares a template with path segments; fills params on a match. */
static bool match_template(const char *tpl, char *const *segs, size_t nsegs,
                           struct cmsim_req *req)
{
	const char *p = tpl;
	size_t i = 0;

	req->nparams = 0;
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t len = end ? (size_t)(end - p - 1) : strlen(p + 1);

		if (i >= nsegs)
			return false;
		if (p[1] == '{') {
			if (req->nparams >= CMR_ARRAY_SIZE(req->params) ||
			    !segs[i][0])
				return false;
			req->params[req->nparams++] = segs[i];
		} else if (strlen(segs[i]) != len ||
		           memcmp(segs[i], p + 1, len) != 0) {
			return false;
		}
		i++;
		p += len + 1;
	}
	return i == nsegs;
}

const struct cmsim_route *cmsim_route_match(const char *method,
                                            char *const *segs, size_t nsegs,
                                            struct cmsim_req *req,
                                            bool *path_known)
{
	size_t i;

	*path_known = false;
	for (i = 0; i < cmsim_nroutes; i++) {
		if (!match_template(cmsim_routes[i].path, segs, nsegs, req))
			continue;
		*path_known = true;
		if (strcmp(cmsim_routes[i].method, method) == 0) {
			req->mgmt = (cmsim_routes[i].flags & MG) != 0;
			return &cmsim_routes[i];
		}
	}
	req->nparams = 0;
	return NULL;
}
