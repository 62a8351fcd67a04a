/*
 * render.c -- the state as CM API response bodies.
 *
 * Every body cmsim sends is built here from the state, field by field,
 * with the field names of the v45 Swagger definitions, so that nothing
 * private (kinds, start times in ms, t0...) ever reaches a client and a
 * null field is simply left out, as CM does.  The conformance test
 * (tests/cli/sim_conformance.py) checks every body against the spec.
 *
 * Sensitive values: /cm/deployment?view=export shows them, as CM does for
 * admins; export_redacted and ordinary config reads show "REDACTED" (what
 * CM 7 returns, FACTS §3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/buf.h"

#include "sim.h"

#define REDACTED "REDACTED"

static void add_ref(struct json_object *o, const char *key,
                    struct json_object *ref)
{
	json_object_object_add(o, key, ref);
}

static struct json_object *cluster_ref(struct json_object *c)
{
	struct json_object *ref = json_object_new_object();

	cmsim_jset_str(ref, "clusterName", cmsim_jstr(c, "name"));
	cmsim_jset_str(ref, "displayName", cmsim_jstr(c, "displayName"));
	return ref;
}

static struct json_object *service_ref(struct json_object *c,
                                       struct json_object *s)
{
	struct json_object *ref = json_object_new_object();

	if (c)
		cmsim_jset_str(ref, "clusterName", cmsim_jstr(c, "name"));
	cmsim_jset_str(ref, "serviceName", cmsim_jstr(s, "name"));
	cmsim_jset_str(ref, "serviceDisplayName", cmsim_jstr(s, "displayName"));
	cmsim_jset_str(ref, "serviceType", cmsim_jstr(s, "type"));
	return ref;
}

static struct json_object *tags_of(struct json_object *owner)
{
	struct json_object *tags = cmsim_jget(owner, "tags");

	return tags ? cmsim_jdup(tags) : json_object_new_array();
}

struct json_object *cmsim_render_tags(struct json_object *owner)
{
	return tags_of(owner);
}

/* The entities whose maintenance mode this one inherits (ApiEntityType). */
static struct json_object *
mm_owners(struct json_object *c, struct json_object *s, struct json_object *r)
{
	struct json_object *owners = json_object_new_array();

	if (cmsim_jbool(c, "maintenanceMode", false))
		json_object_array_add(owners,
		                      json_object_new_string("CLUSTER"));
	if (cmsim_jbool(s, "maintenanceMode", false))
		json_object_array_add(owners,
		                      json_object_new_string("SERVICE"));
	if (cmsim_jbool(r, "maintenanceMode", false))
		json_object_array_add(owners, json_object_new_string("ROLE"));
	return owners;
}

static const char *entity_status(const char *state, const char *health)
{
	if (state && strcmp(state, "STOPPED") == 0)
		return "STOPPED";
	if (state && strcmp(state, "STARTING") == 0)
		return "STARTING";
	if (state && strcmp(state, "STOPPING") == 0)
		return "STOPPING";
	if (!health)
		return "UNKNOWN_HEALTH";
	if (strcmp(health, "GOOD") == 0)
		return "GOOD_HEALTH";
	if (strcmp(health, "CONCERNING") == 0)
		return "CONCERNING_HEALTH";
	if (strcmp(health, "BAD") == 0)
		return "BAD_HEALTH";
	return "UNKNOWN_HEALTH";
}

const char *cmsim_cluster_type(struct json_object *c)
{
	const char *t = cmsim_jstr(c, "clusterType");

	return t && strcmp(t, "COMPUTE_CLUSTER") == 0 ? "COMPUTE_CLUSTER"
	                                              : "BASE_CLUSTER";
}

struct json_object *cmsim_render_cluster(struct cmsim *sim,
                                         struct json_object *c, int ver)
{
	struct json_object *o = json_object_new_object();
	struct cmr_buf url = CMR_BUF_INIT;

	(void)sim;
	cmsim_jcopy(o, c, "name");
	cmsim_jcopy(o, c, "displayName");
	cmsim_jcopy(o, c, "version");
	cmsim_jcopy(o, c, "fullVersion");
	cmsim_jset_bool(o, "maintenanceMode",
	                cmsim_in_maintenance(c, NULL, NULL));
	json_object_object_add(o, "maintenanceOwners",
	                       mm_owners(c, NULL, NULL));
	cmr_buf_adds(&url, "http://localhost:7180/cmf/clusterRedirect/");
	cmr_buf_add_urlenc(&url, cmsim_jstr(c, "name"));
	cmsim_jset_str(o, "clusterUrl", url.ptr);
	cmr_buf_adds(&url, "/hosts");
	cmsim_jset_str(o, "hostsUrl", url.ptr);
	cmsim_jset_str(o, "entityStatus", "GOOD_HEALTH");
	cmsim_jcopy(o, c, "uuid");
	if (ver >= 32)
		cmsim_jset_str(o, "clusterType", cmsim_cluster_type(c));
	if (ver >= 41)
		json_object_object_add(o, "tags", tags_of(c));
	cmr_buf_release(&url);
	return o;
}

struct json_object *cmsim_render_service(struct cmsim *sim,
                                         struct json_object *c,
                                         struct json_object *s, int ver,
                                         enum cmsim_view view)
{
	struct json_object *o = json_object_new_object();
	const char *stale = cmsim_service_staleness(s);
	const char *state = cmsim_jstr(s, "serviceState");
	const char *health = cmsim_jstr(s, "healthSummary");
	struct cmr_buf url = CMR_BUF_INIT;

	(void)sim;
	cmsim_jcopy(o, s, "name");
	cmsim_jcopy(o, s, "type");
	if (c)
		add_ref(o, "clusterRef", cluster_ref(c));
	cmsim_jset_str(o, "serviceState", state);
	cmsim_jset_str(o, "healthSummary", health);
	cmsim_jset_bool(o, "configStale", strcmp(stale, "FRESH") != 0);
	cmsim_jset_str(o, "configStalenessStatus", stale);
	cmsim_jcopy(o, s, "clientConfigStalenessStatus");
	if (view != CMSIM_VIEW_SUMMARY) {
		struct json_object *hc = cmsim_jget(s, "healthChecks");

		json_object_object_add(o, "healthChecks",
		                       hc ? cmsim_jdup(hc)
		                          : json_object_new_array());
	}
	if (c) {
		cmr_buf_adds(&url,
		             "http://localhost:7180/cmf/serviceRedirect/");
		cmr_buf_add_urlenc(&url, cmsim_jstr(s, "name"));
		cmsim_jset_str(o, "serviceUrl", url.ptr);
		cmr_buf_adds(&url, "/instances");
		cmsim_jset_str(o, "roleInstancesUrl", url.ptr);
	}
	cmsim_jset_bool(o, "maintenanceMode", cmsim_in_maintenance(c, s, NULL));
	json_object_object_add(o, "maintenanceOwners", mm_owners(c, s, NULL));
	cmsim_jcopy(o, s, "displayName");
	cmsim_jset_str(o, "entityStatus", entity_status(state, health));
	if (ver >= 41)
		json_object_object_add(o, "tags", tags_of(s));
	cmr_buf_release(&url);
	return o;
}

struct json_object *cmsim_render_rcg(struct cmsim *sim, struct json_object *c,
                                     struct json_object *s,
                                     struct json_object *g, int ver)
{
	struct json_object *o = json_object_new_object();
	struct cmsim_scope sc;

	(void)ver;
	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_RCG;
	sc.cluster = c;
	sc.service = s;
	sc.owner = g;
	sc.svc_type = cmsim_jstr(s, "type");
	sc.scope = cmsim_jstr(g, "roleType");
	cmsim_jcopy(o, g, "name");
	cmsim_jcopy(o, g, "roleType");
	cmsim_jset_bool(o, "base", cmsim_jbool(g, "base", false));
	json_object_object_add(
	        o, "config", cmsim_render_config(sim, &sc, CMSIM_VIEW_SUMMARY));
	cmsim_jcopy(o, g, "displayName");
	add_ref(o, "serviceRef", service_ref(c, s));
	return o;
}

static struct json_object *host_ref(struct cmsim *sim, struct json_object *r)
{
	struct json_object *ref = cmsim_jget(r, "hostRef");
	struct json_object *o = json_object_new_object();
	struct json_object *hosts = cmsim_jget(sim->root, "hosts");
	const char *id = cmsim_jstr(ref, "hostId");
	size_t i;
	size_t n = hosts ? json_object_array_length(hosts) : 0;

	cmsim_jset_str(o, "hostId", id);
	for (i = 0; id && i < n; i++) {
		struct json_object *h = json_object_array_get_idx(hosts, i);
		const char *hid = cmsim_jstr(h, "hostId");

		if (hid && strcmp(hid, id) == 0)
			cmsim_jcopy(o, h, "hostname");
	}
	if (!cmsim_jget(o, "hostname"))
		cmsim_jcopy(o, ref, "hostname");
	return o;
}

struct json_object *cmsim_render_role(struct cmsim *sim, struct json_object *c,
                                      struct json_object *s,
                                      struct json_object *r, int ver)
{
	struct json_object *o = json_object_new_object();
	const char *state = cmsim_jstr(r, "roleState");
	const char *health = cmsim_jstr(r, "healthSummary");
	const char *stale = cmsim_jstr(r, "configStalenessStatus");
	struct json_object *ref = json_object_new_object();
	struct cmr_buf url = CMR_BUF_INIT;

	cmsim_jcopy(o, r, "name");
	cmsim_jcopy(o, r, "type");
	add_ref(o, "hostRef", host_ref(sim, r));
	add_ref(o, "serviceRef", service_ref(c, s));
	cmsim_jset_str(o, "roleState", state);
	cmsim_jcopy(o, r, "commissionState");
	cmsim_jset_str(o, "healthSummary", health);
	cmsim_jset_bool(o, "configStale", stale && strcmp(stale, "FRESH") != 0);
	cmsim_jset_str(o, "configStalenessStatus", stale ? stale : "FRESH");
	json_object_object_add(o, "healthChecks", json_object_new_array());
	cmr_buf_adds(&url, "http://localhost:7180/cmf/roleRedirect/");
	cmr_buf_add_urlenc(&url, cmsim_jstr(r, "name"));
	cmsim_jset_str(o, "roleUrl", url.ptr);
	cmsim_jset_bool(o, "maintenanceMode", cmsim_in_maintenance(c, s, r));
	json_object_object_add(o, "maintenanceOwners", mm_owners(c, s, r));
	cmsim_jcopy(ref, cmsim_jget(r, "roleConfigGroupRef"),
	            "roleConfigGroupName");
	add_ref(o, "roleConfigGroupRef", ref);
	cmsim_jset_str(o, "entityStatus",
	               cmsim_role_is_gateway(r) ? "NONE"
	                                        : entity_status(state, health));
	if (ver >= 41)
		json_object_object_add(o, "tags", tags_of(r));
	cmr_buf_release(&url);
	return o;
}

static struct json_object *config_item(struct json_object *param,
                                       struct json_object *item,
                                       const char *name, bool full, bool redact)
{
	struct json_object *o = json_object_new_object();
	const char *value = cmsim_jstr(item, "value");
	bool sensitive = cmsim_param_sensitive(param) ||
	                 cmsim_jbool(item, "sensitive", false);

	cmsim_jset_str(o, "name", name);
	if (value)
		cmsim_jset_str(o, "value",
		               sensitive && redact ? REDACTED : value);
	if (full) {
		cmsim_jset_bool(o, "required",
		                cmsim_jbool(param, "required", false));
		if (cmsim_jstr(param, "default"))
			cmsim_jset_str(o, "default",
			               sensitive
			                       ? REDACTED
			                       : cmsim_jstr(param, "default"));
		cmsim_jcopy(o, param, "displayName");
		cmsim_jcopy(o, param, "relatedName");
	}
	cmsim_jset_bool(o, "sensitive", sensitive);
	if (full)
		cmsim_jset_str(o, "validationState", "OK");
	return o;
}

static bool fault_scope_matches(const struct cmsim_fault *f,
                                const struct cmsim_scope *sc)
{
	const char *owner = cmsim_jstr(sc->owner, "name");

	if (f->cluster &&
	    (!sc->cluster ||
	     strcmp(f->cluster, cmsim_jstr(sc->cluster, "name")) != 0))
		return false;
	if (f->service &&
	    (!sc->service ||
	     strcmp(f->service, cmsim_jstr(sc->service, "name")) != 0))
		return false;
	if (f->group && (sc->kind != CMSIM_SCOPE_RCG || !owner ||
	                 strcmp(f->group, owner) != 0))
		return false;
	if (f->role && (sc->kind != CMSIM_SCOPE_ROLE || !owner ||
	                strcmp(f->role, owner) != 0))
		return false;
	return true;
}

static size_t count_roles(struct json_object *service, const char *type)
{
	struct json_object *roles = cmsim_jget(service, "roles");
	size_t i;
	size_t n = roles ? json_object_array_length(roles) : 0;
	size_t k = 0;

	for (i = 0; i < n; i++) {
		const char *t =
		        cmsim_jstr(json_object_array_get_idx(roles, i), "type");

		if (t && strcmp(t, type) == 0)
			k++;
	}
	return k;
}

/*
 * validationState for view=full.  CM runs its validators here; cmsim has
 * one real rule (HDFS warns when the replication factor exceeds the
 * number of DataNodes) and the `validation` fault, which makes any
 * parameter report WARNING or ERROR so cmrecon's display of CM's
 * validation can be tested.
 */
static void validate(struct cmsim *sim, const struct cmsim_scope *sc,
                     struct json_object *o, const char *name)
{
	const char *value = cmsim_jstr(o, "value");
	const char *eff = value ? value : cmsim_jstr(o, "default");
	char msg[256];
	size_t i;

	for (i = 0; i < sim->faults.len; i++) {
		const struct cmsim_fault *f = sim->faults.items[i];

		if (f->kind != CMSIM_FAULT_VALIDATION ||
		    strcmp(f->name, name) != 0 || !fault_scope_matches(f, sc))
			continue;
		cmsim_jset_str(o, "validationState",
		               f->state ? f->state : "WARNING");
		cmsim_jset_str(o, "validationMessage",
		               f->message ? f->message
		                          : "Simulated validation warning "
		                            "(cmsim fault).");
		return;
	}
	if (sc->kind == CMSIM_SCOPE_SERVICE && eff &&
	    strcmp(sc->svc_type, "HDFS") == 0 &&
	    strcmp(name, "dfs_replication") == 0) {
		size_t dns = count_roles(sc->service, "DATANODE");
		char *end = NULL;
		long long rep = strtoll(eff, &end, 10);

		if (end && *end == '\0' && rep > 0 && (size_t)rep > dns) {
			snprintf(
			        msg, sizeof(msg),
			        "The replication factor (%lld) is greater than "
			        "the number of DataNodes (%zu).",
			        rep, dns);
			cmsim_jset_str(o, "validationState", "WARNING");
			cmsim_jset_str(o, "validationMessage", msg);
		}
	}
}

struct json_object *cmsim_render_config(struct cmsim *sim,
                                        const struct cmsim_scope *sc,
                                        enum cmsim_view view)
{
	struct json_object *o = json_object_new_object();
	struct json_object *out = json_object_new_array();
	struct json_object *items = cmsim_scope_items(sc);
	struct json_object *cat =
	        cmsim_catalog_scope(&sim->catalog, sc->svc_type, sc->scope);
	bool redact = view != CMSIM_VIEW_EXPORT;
	struct json_object *entry;
	size_t i;
	size_t n = json_object_array_length(items);

	json_object_object_add(o, "items", out);
	if (view == CMSIM_VIEW_FULL && cat) {
		json_object_object_foreach(cat, name, param)
		{
			struct json_object *item = NULL;

			for (i = 0; i < n; i++) {
				struct json_object *it =
				        json_object_array_get_idx(items, i);

				if (strcmp(cmsim_jstr(it, "name"), name) == 0)
					item = it;
			}
			entry = config_item(param, item, name, true, redact);
			validate(sim, sc, entry, name);
			json_object_array_add(out, entry);
		}
		return o;
	}
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *name = cmsim_jstr(it, "name");
		struct json_object *param = cmsim_jget(cat, name);

		entry = config_item(param, it, name, view == CMSIM_VIEW_FULL,
		                    redact);
		if (view == CMSIM_VIEW_FULL)
			validate(sim, sc, entry, name);
		json_object_array_add(out, entry);
	}
	return o;
}

struct json_object *cmsim_render_command(struct cmsim *sim,
                                         struct json_object *cmd, bool children)
{
	struct json_object *o = json_object_new_object();
	const char *cname = cmsim_jstr(cmd, "clusterName");
	const char *sname = cmsim_jstr(cmd, "serviceName");
	const char *rname = cmsim_jstr(cmd, "roleName");
	struct json_object *cluster = cname ? cmsim_cluster(sim, cname) : NULL;
	bool active = cmsim_jbool(cmd, "active", false);
	char when[40];

	cmsim_jcopy(o, cmd, "id");
	cmsim_jcopy(o, cmd, "name");
	cmsim_iso_time(when, sizeof(when), cmsim_jint(cmd, "startMs", 0));
	cmsim_jset_str(o, "startTime", when);
	if (!active) {
		cmsim_iso_time(when, sizeof(when), cmsim_jint(cmd, "endMs", 0));
		cmsim_jset_str(o, "endTime", when);
	}
	cmsim_jset_bool(o, "active", active);
	if (!active) {
		cmsim_jset_bool(o, "success",
		                cmsim_jbool(cmd, "success", false));
		cmsim_jcopy(o, cmd, "resultMessage");
	}
	if (cname) {
		struct json_object *ref = json_object_new_object();

		cmsim_jset_str(ref, "clusterName", cname);
		if (cluster)
			cmsim_jcopy(ref, cluster, "displayName");
		add_ref(o, "clusterRef", ref);
	}
	if (sname) {
		struct json_object *ref = json_object_new_object();

		if (cname)
			cmsim_jset_str(ref, "clusterName", cname);
		cmsim_jset_str(ref, "serviceName", sname);
		add_ref(o, "serviceRef", ref);
	}
	if (rname) {
		struct json_object *ref = json_object_new_object();

		if (cname)
			cmsim_jset_str(ref, "clusterName", cname);
		cmsim_jset_str(ref, "serviceName", sname);
		cmsim_jset_str(ref, "roleName", rname);
		add_ref(o, "roleRef", ref);
	}
	if (children) {
		struct json_object *list = json_object_new_object();
		struct json_object *arr = json_object_new_array();
		struct json_object *ch = cmsim_jget(cmd, "children");
		size_t i;
		size_t n = ch ? json_object_array_length(ch) : 0;

		for (i = 0; i < n; i++)
			json_object_array_add(
			        arr,
			        cmsim_render_command(
			                sim, json_object_array_get_idx(ch, i),
			                false));
		json_object_object_add(list, "items", arr);
		json_object_object_add(o, "children", list);
	}
	cmsim_jset_bool(o, "canRetry", false);
	return o;
}

struct json_object *cmsim_render_parcel(struct json_object *c,
                                        struct json_object *p)
{
	struct json_object *o = json_object_new_object();

	cmsim_jcopy(o, p, "product");
	cmsim_jcopy(o, p, "version");
	cmsim_jcopy(o, p, "stage");
	cmsim_jcopy(o, p, "state");
	add_ref(o, "clusterRef", cluster_ref(c));
	cmsim_jcopy(o, p, "displayName");
	cmsim_jcopy(o, p, "description");
	return o;
}

struct json_object *cmsim_render_host(struct json_object *h, int ver)
{
	static const char *const fields[] = {
		"hostId",           "ipAddress",
		"hostname",         "rackId",
		"hostUrl",          "maintenanceMode",
		"commissionState",  "numCores",
		"numPhysicalCores", "totalPhysMemBytes",
		"entityStatus",     "clusterRef",
	};
	struct json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(fields); i++)
		cmsim_jcopy(o, h, fields[i]);
	if (ver >= 41)
		json_object_object_add(o, "tags", tags_of(h));
	return o;
}

/* --- export views --------------------------------------------------------- */

static struct json_object *
export_items(struct cmsim *sim, const struct cmsim_scope *sc, bool redacted)
{
	return cmsim_render_config(sim, sc,
	                           redacted ? CMSIM_VIEW_EXPORT_REDACTED
	                                    : CMSIM_VIEW_EXPORT);
}

static struct json_object *export_service(struct cmsim *sim,
                                          struct json_object *c,
                                          struct json_object *s, bool redacted,
                                          int ver)
{
	struct json_object *o = json_object_new_object();
	struct json_object *roles = json_object_new_array();
	struct json_object *rcgs = json_object_new_array();
	struct json_object *arr;
	struct cmsim_scope sc;
	size_t i;
	size_t n;

	memset(&sc, 0, sizeof(sc));
	sc.cluster = c;
	sc.service = s;
	sc.svc_type = cmsim_jstr(s, "type");
	sc.kind = CMSIM_SCOPE_SERVICE;
	sc.owner = s;
	sc.scope = "SERVICE";
	cmsim_jcopy(o, s, "name");
	cmsim_jcopy(o, s, "type");
	if (c)
		add_ref(o, "clusterRef", cluster_ref(c));
	json_object_object_add(o, "config", export_items(sim, &sc, redacted));
	arr = cmsim_jget(s, "roles");
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(arr, i);
		struct json_object *ro = json_object_new_object();
		struct json_object *ref = json_object_new_object();

		sc.kind = CMSIM_SCOPE_ROLE;
		sc.owner = r;
		sc.scope = cmsim_jstr(r, "type");
		cmsim_jcopy(ro, r, "name");
		cmsim_jcopy(ro, r, "type");
		add_ref(ro, "hostRef", host_ref(sim, r));
		json_object_object_add(ro, "config",
		                       export_items(sim, &sc, redacted));
		cmsim_jcopy(ref, cmsim_jget(r, "roleConfigGroupRef"),
		            "roleConfigGroupName");
		add_ref(ro, "roleConfigGroupRef", ref);
		if (ver >= 41 &&
		    json_object_array_length(cmsim_jarr(r, "tags")))
			json_object_object_add(ro, "tags", tags_of(r));
		json_object_array_add(roles, ro);
	}
	json_object_object_add(o, "roles", roles);
	cmsim_jcopy(o, s, "displayName");
	arr = cmsim_jget(s, "roleConfigGroups");
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(arr, i);
		struct json_object *go = json_object_new_object();

		sc.kind = CMSIM_SCOPE_RCG;
		sc.owner = g;
		sc.scope = cmsim_jstr(g, "roleType");
		cmsim_jcopy(go, g, "name");
		cmsim_jcopy(go, g, "roleType");
		cmsim_jset_bool(go, "base", cmsim_jbool(g, "base", false));
		json_object_object_add(go, "config",
		                       export_items(sim, &sc, redacted));
		cmsim_jcopy(go, g, "displayName");
		add_ref(go, "serviceRef", service_ref(c, s));
		json_object_array_add(rcgs, go);
	}
	json_object_object_add(o, "roleConfigGroups", rcgs);
	if (ver >= 41 && json_object_array_length(cmsim_jarr(s, "tags")))
		json_object_object_add(o, "tags", tags_of(s));
	return o;
}

/* The export lists an active parcel twice (FACTS §7): DISTRIBUTED, then
 * ACTIVATED.  cmsim reproduces the quirk so cmrecon's handling is tested. */
static struct json_object *export_parcels(struct json_object *c)
{
	struct json_object *out = json_object_new_array();
	struct json_object *arr = cmsim_jget(c, "parcels");
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		const char *stage = cmsim_jstr(p, "stage");
		struct json_object *o;

		if (stage && strcmp(stage, "ACTIVATED") == 0) {
			o = json_object_new_object();
			cmsim_jcopy(o, p, "product");
			cmsim_jcopy(o, p, "version");
			cmsim_jset_str(o, "stage", "DISTRIBUTED");
			add_ref(o, "clusterRef", cluster_ref(c));
			json_object_array_add(out, o);
		}
		o = json_object_new_object();
		cmsim_jcopy(o, p, "product");
		cmsim_jcopy(o, p, "version");
		cmsim_jcopy(o, p, "stage");
		add_ref(o, "clusterRef", cluster_ref(c));
		json_object_array_add(out, o);
	}
	return out;
}

struct json_object *cmsim_render_deployment(struct cmsim *sim, int ver,
                                            bool redacted)
{
	struct json_object *o = json_object_new_object();
	struct json_object *clusters = json_object_new_array();
	struct json_object *hosts = json_object_new_array();
	struct json_object *users = json_object_new_array();
	struct json_object *arr = cmsim_jget(sim->root, "clusters");
	struct json_object *list;
	struct cmsim_scope sc;
	char when[40];
	size_t i;
	size_t j;
	size_t n = arr ? json_object_array_length(arr) : 0;

	cmsim_iso_time(when, sizeof(when), cmsim_now(sim));
	cmsim_jset_str(o, "timestamp", when);
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(arr, i);
		struct json_object *co = json_object_new_object();
		struct json_object *svcs = json_object_new_array();
		struct json_object *sarr = cmsim_jget(c, "services");
		size_t m = sarr ? json_object_array_length(sarr) : 0;

		cmsim_jcopy(co, c, "name");
		cmsim_jcopy(co, c, "displayName");
		cmsim_jcopy(co, c, "version");
		cmsim_jcopy(co, c, "fullVersion");
		for (j = 0; j < m; j++)
			json_object_array_add(
			        svcs, export_service(sim, c,
			                             json_object_array_get_idx(
			                                     sarr, j),
			                             redacted, ver));
		json_object_object_add(co, "services", svcs);
		json_object_object_add(co, "parcels", export_parcels(c));
		cmsim_jcopy(co, c, "uuid");
		if (ver >= 32)
			cmsim_jset_str(co, "clusterType",
			               cmsim_cluster_type(c));
		if (ver >= 41 &&
		    json_object_array_length(cmsim_jarr(c, "tags")))
			json_object_object_add(co, "tags", tags_of(c));
		json_object_array_add(clusters, co);
	}
	json_object_object_add(o, "clusters", clusters);
	arr = cmsim_jget(sim->root, "hosts");
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++)
		json_object_array_add(
		        hosts, cmsim_render_host(
		                       json_object_array_get_idx(arr, i), ver));
	json_object_object_add(o, "hosts", hosts);
	for (i = 0; i < sim->nusers; i++) {
		struct json_object *u = json_object_new_object();

		cmsim_jset_str(u, "name", sim->users[i].name);
		json_object_array_add(users, u);
	}
	json_object_object_add(o, "users", users);
	cmsim_jcopy(o, sim->root, "versionInfo");
	if (cmsim_mgmt(sim))
		json_object_object_add(o, "managementService",
		                       export_service(sim, NULL,
		                                      cmsim_mgmt(sim), redacted,
		                                      ver));
	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_CM;
	sc.owner = cmsim_jget(sim->root, "managerSettings");
	sc.svc_type = "CM";
	sc.scope = "CM";
	json_object_object_add(o, "managerSettings",
	                       export_items(sim, &sc, redacted));
	list = json_object_new_object();
	json_object_object_add(list, "items", json_object_new_array());
	json_object_object_add(o, "allHostsConfig", list);
	json_object_object_add(o, "peers", json_object_new_array());
	list = json_object_new_object();
	json_object_object_add(list, "items", json_object_new_array());
	json_object_object_add(o, "hostTemplates", list);
	return o;
}

static struct json_object *template_configs(struct cmsim *sim,
                                            const struct cmsim_scope *sc,
                                            const char *prefix,
                                            struct json_object *variables)
{
	struct json_object *out = json_object_new_array();
	struct json_object *items = cmsim_scope_items(sc);
	size_t i;
	size_t n = json_object_array_length(items);

	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *name = cmsim_jstr(it, "name");
		struct json_object *p = cmsim_catalog_param(
		        &sim->catalog, sc->svc_type, sc->scope, name);
		struct json_object *o = json_object_new_object();

		cmsim_jset_str(o, "name", name);
		if (cmsim_param_sensitive(p) ||
		    cmsim_jbool(it, "sensitive", false)) {
			/* Secrets become instantiator variables, as CM
			 * exports them. */
			struct cmr_buf var = CMR_BUF_INIT;
			struct json_object *v = json_object_new_object();

			cmr_buf_addf(&var, "%s-%s", prefix, name);
			cmsim_jset_str(o, "variable", var.ptr);
			cmsim_jset_str(v, "name", var.ptr);
			cmsim_jset_str(v, "value", REDACTED);
			json_object_array_add(variables, v);
			cmr_buf_release(&var);
		} else {
			cmsim_jcopy(o, it, "value");
		}
		json_object_array_add(out, o);
	}
	return out;
}

/* The products of the parcels activated on a cluster. */
static struct json_object *template_products(struct json_object *c)
{
	struct json_object *products = json_object_new_array();
	struct json_object *arr = cmsim_jget(c, "parcels");
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		const char *st = cmsim_jstr(p, "stage");

		if (st && strcmp(st, "ACTIVATED") == 0) {
			struct json_object *pv = json_object_new_object();

			cmsim_jcopy(pv, p, "product");
			cmsim_jcopy(pv, p, "version");
			json_object_array_add(products, pv);
		}
	}
	return products;
}

/*
 * One service of a cluster template.  Its secrets go to variables, and
 * the host ids of its roles become keys of seen_hosts.
 */
static struct json_object *template_service(struct cmsim *sim,
                                            struct json_object *c,
                                            struct json_object *s,
                                            struct json_object *variables,
                                            struct json_object *seen_hosts)
{
	struct json_object *so = json_object_new_object();
	struct json_object *groups = json_object_new_array();
	struct json_object *roles = json_object_new_array();
	struct json_object *g = cmsim_jget(s, "roleConfigGroups");
	struct json_object *r = cmsim_jget(s, "roles");
	struct cmsim_scope sc;
	size_t j;
	size_t m = g ? json_object_array_length(g) : 0;

	memset(&sc, 0, sizeof(sc));
	sc.cluster = c;
	sc.service = s;
	sc.svc_type = cmsim_jstr(s, "type");
	sc.kind = CMSIM_SCOPE_SERVICE;
	sc.owner = s;
	sc.scope = "SERVICE";
	cmsim_jcopy(so, s, "name");
	json_object_object_add(so, "refName",
	                       cmsim_jdup(cmsim_jget(s, "name")));
	json_object_object_del(so, "name");
	cmsim_jset_str(so, "serviceType", sc.svc_type);
	json_object_object_add(
	        so, "serviceConfigs",
	        template_configs(sim, &sc, cmsim_jstr(s, "name"), variables));
	for (j = 0; j < m; j++) {
		struct json_object *gg = json_object_array_get_idx(g, j);
		struct json_object *go = json_object_new_object();

		sc.kind = CMSIM_SCOPE_RCG;
		sc.owner = gg;
		sc.scope = cmsim_jstr(gg, "roleType");
		cmsim_jset_str(go, "refName", cmsim_jstr(gg, "name"));
		cmsim_jcopy(go, gg, "roleType");
		cmsim_jset_bool(go, "base", cmsim_jbool(gg, "base", false));
		cmsim_jcopy(go, gg, "displayName");
		json_object_object_add(go, "configs",
		                       template_configs(sim, &sc,
		                                        cmsim_jstr(gg, "name"),
		                                        variables));
		json_object_array_add(groups, go);
	}
	json_object_object_add(so, "roleConfigGroups", groups);
	m = r ? json_object_array_length(r) : 0;
	for (j = 0; j < m; j++) {
		struct json_object *rr = json_object_array_get_idx(r, j);
		struct json_object *ro = json_object_new_object();
		const char *hid =
		        cmsim_jstr(cmsim_jget(rr, "hostRef"), "hostId");

		cmsim_jset_str(ro, "refName", cmsim_jstr(rr, "name"));
		cmsim_jset_str(ro, "roleType", cmsim_jstr(rr, "type"));
		json_object_array_add(roles, ro);
		if (hid)
			json_object_object_add(seen_hosts, hid, NULL);
	}
	json_object_object_add(so, "roles", roles);
	cmsim_jcopy(so, s, "displayName");
	json_object_object_add(so, "tags", tags_of(s));
	return so;
}

/*
 * The instantiator's hosts: one per key of seen_hosts (a host id), named
 * by the hostname of the host with that id, else by the id.
 */
static struct json_object *template_hosts(struct cmsim *sim,
                                          struct json_object *seen_hosts)
{
	struct json_object *hosts = json_object_new_array();

	json_object_object_foreach(seen_hosts, hid, unused)
	{
		struct json_object *h = json_object_new_object();
		struct json_object *all = cmsim_jget(sim->root, "hosts");
		size_t k;
		size_t hn = all ? json_object_array_length(all) : 0;

		(void)unused;
		cmsim_jset_str(h, "hostName", hid);
		for (k = 0; k < hn; k++) {
			struct json_object *hh =
			        json_object_array_get_idx(all, k);

			if (strcmp(cmsim_jstr(hh, "hostId")
			                   ? cmsim_jstr(hh, "hostId")
			                   : "",
			           hid) == 0)
				cmsim_jset_str(h, "hostName",
				               cmsim_jstr(hh, "hostname"));
		}
		json_object_array_add(hosts, h);
	}
	return hosts;
}

struct json_object *cmsim_render_template(struct cmsim *sim,
                                          struct json_object *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *services = json_object_new_array();
	struct json_object *variables = json_object_new_array();
	struct json_object *inst = json_object_new_object();
	struct json_object *arr = cmsim_jget(c, "services");
	struct json_object *seen_hosts = json_object_new_object();
	size_t i;
	size_t n = arr ? json_object_array_length(arr) : 0;

	cmsim_jset_str(o, "cdhVersion", cmsim_jstr(c, "fullVersion"));
	json_object_object_add(o, "products", template_products(c));
	for (i = 0; i < n; i++)
		json_object_array_add(
		        services,
		        template_service(sim, c,
		                         json_object_array_get_idx(arr, i),
		                         variables, seen_hosts));
	json_object_object_add(o, "services", services);
	json_object_object_add(o, "hostTemplates", json_object_new_array());
	cmsim_jcopy(o, c, "displayName");
	cmsim_jset_str(
	        o, "cmVersion",
	        cmsim_jstr(cmsim_jget(sim->root, "versionInfo"), "version"));
	json_object_object_add(o, "repositories", json_object_new_array());
	cmsim_jset_str(inst, "clusterName", cmsim_jstr(c, "name"));
	json_object_object_add(inst, "hosts", template_hosts(sim, seen_hosts));
	json_object_object_add(inst, "variables", variables);
	json_object_object_add(o, "instantiator", inst);
	json_object_object_add(o, "tags", tags_of(c));
	json_object_put(seen_hosts);
	return o;
}
