/*
 * state.c -- cmsim's state document: seed, state file, lookups, config.
 *
 * The state is one json-c tree (see sim.h).  Entities keep CM's field
 * names, and the runtime fields CM reports beside the configuration
 * (serviceState, roleState, healthSummary, configStalenessStatus, ...) are
 * stored on the same objects; renderers choose what each view shows, so
 * /cm/deployment never leaks runtime fields and services never leak
 * config.
 *
 * Config items are stored as {name, value[, sensitive]}.  A value is
 * always a string, as CM returns it; a reset removes the item, so "unset"
 * and "default" cannot be told apart, exactly as in CM's summary view.
 *
 * Staleness follows FACTS §10 by rule: the catalog says whether a
 * parameter needs a restart, a refresh or a client-config deployment
 * (make-catalog.py documents the rules), and a change marks the roles it
 * reaches: all roles of the service for a service setting, the group's
 * roles for a group setting, one role for a role override.  Gateways have
 * no process: a gateway-scope change makes the service's client
 * configuration stale instead.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmr/buf.h"

#include "sim.h"

#define PLACEHOLDER "cmsim-placeholder"

/* --- the simulator object and its clock ----------------------------------- */

int64_t cmsim_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cmsim_init(struct cmsim *sim, struct cmr_error *err)
{
	memset(sim, 0, sizeof(*sim));
	if (pthread_mutex_init(&sim->lock, NULL) != 0)
		return cmr_error_set(err, CMR_ERROR, "cannot create a mutex");
	sim->api_max = CMSIM_API_MAX;
	sim->time_scale = 1.0;
	sim->base_sim_ms = wall_ms();
	sim->base_mono_ms = cmsim_mono_ms();
	sim->rng = (uint64_t)wall_ms() ^ ((uint64_t)getpid() << 32) ^
	           0x9e3779b97f4a7c15ULL;
	sim->stats = json_object_new_object();
	sim->root = json_object_new_object();
	if (!sim->stats || !sim->root)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

void cmsim_release(struct cmsim *sim)
{
	size_t i;

	json_object_put(sim->root);
	json_object_put(sim->stats);
	json_object_put(sim->sessions);
	cmsim_catalog_release(&sim->catalog);
	for (i = 0; i < sim->nrepos; i++) {
		free(sim->repos[i].url);
		json_object_put(sim->repos[i].manifest);
	}
	free(sim->repos);
	for (i = 0; i < sim->nusers; i++) {
		free(sim->users[i].name);
		free(sim->users[i].password);
	}
	free(sim->users);
	cmsim_fault_list_clear(&sim->faults);
	free(sim->faults.items);
	free(sim->state_file);
	pthread_mutex_destroy(&sim->lock);
	memset(sim, 0, sizeof(*sim));
}

int64_t cmsim_now(struct cmsim *sim)
{
	double delta =
	        (double)(cmsim_mono_ms() - sim->base_mono_ms) * sim->time_scale;

	return sim->base_sim_ms + (int64_t)delta;
}

void cmsim_advance(struct cmsim *sim, int64_t ms)
{
	sim->base_sim_ms += ms;
}

void cmsim_set_time_scale(struct cmsim *sim, double scale)
{
	int64_t now = cmsim_now(sim);

	sim->base_sim_ms = now;
	sim->base_mono_ms = cmsim_mono_ms();
	sim->time_scale = scale;
}

double cmsim_rand(struct cmsim *sim)
{
	/* xorshift64*: plenty for fault rates and jitter. */
	uint64_t x = sim->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	sim->rng = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) /
	       (double)(1ULL << 53);
}

/* --- lookups -------------------------------------------------------------- */

static struct json_object *find_named(struct json_object *arr, const char *key,
                                      const char *name)
{
	size_t i;
	size_t n;

	if (!arr || !name || !json_object_is_type(arr, json_type_array))
		return NULL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		const char *s = cmsim_jstr(o, key);

		if (s && strcmp(s, name) == 0)
			return o;
	}
	return NULL;
}

struct json_object *cmsim_cluster(struct cmsim *sim, const char *name)
{
	struct json_object *clusters = cmsim_jget(sim->root, "clusters");
	struct json_object *c = find_named(clusters, "name", name);

	/* Real CM also accepts the displayName in the path (FACTS §1). */
	return c ? c : find_named(clusters, "displayName", name);
}

struct json_object *cmsim_service(struct json_object *cluster, const char *name)
{
	return find_named(cmsim_jget(cluster, "services"), "name", name);
}

struct json_object *cmsim_mgmt(struct cmsim *sim)
{
	struct json_object *m = cmsim_jget(sim->root, "managementService");

	return m && json_object_is_type(m, json_type_object) ? m : NULL;
}

struct json_object *cmsim_rcg(struct json_object *service, const char *name)
{
	return find_named(cmsim_jget(service, "roleConfigGroups"), "name",
	                  name);
}

struct json_object *cmsim_role(struct json_object *service, const char *name)
{
	return find_named(cmsim_jget(service, "roles"), "name", name);
}

struct json_object *cmsim_parcel(struct json_object *cluster,
                                 const char *product, const char *version)
{
	struct json_object *arr = cmsim_jget(cluster, "parcels");
	size_t i;
	size_t n;

	if (!arr)
		return NULL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		const char *pr = cmsim_jstr(p, "product");
		const char *v = cmsim_jstr(p, "version");

		if (pr && v && strcmp(pr, product) == 0 &&
		    strcmp(v, version) == 0)
			return p;
	}
	return NULL;
}

bool cmsim_in_maintenance(struct json_object *cluster,
                          struct json_object *service, struct json_object *role)
{
	return cmsim_jbool(cluster, "maintenanceMode", false) ||
	       cmsim_jbool(service, "maintenanceMode", false) ||
	       cmsim_jbool(role, "maintenanceMode", false);
}

bool cmsim_role_is_gateway(struct json_object *role)
{
	const char *t = cmsim_jstr(role, "type");

	return t && strcmp(t, "GATEWAY") == 0;
}

static int stale_rank(const char *s)
{
	if (!s)
		return 0;
	if (strcmp(s, "STALE") == 0)
		return 2;
	if (strcmp(s, "STALE_REFRESHABLE") == 0)
		return 1;
	return 0;
}

static const char *const stale_names[] = { "FRESH", "STALE_REFRESHABLE",
	                                   "STALE" };

const char *cmsim_service_staleness(struct json_object *service)
{
	struct json_object *roles = cmsim_jget(service, "roles");
	size_t i;
	size_t n = roles ? json_object_array_length(roles) : 0;
	int worst = 0;

	for (i = 0; i < n; i++) {
		int r = stale_rank(
		        cmsim_jstr(json_object_array_get_idx(roles, i),
		                   "configStalenessStatus"));

		if (r > worst)
			worst = r;
	}
	return stale_names[worst];
}

void cmsim_note_restart(struct cmsim *sim, struct json_object *cluster,
                        struct json_object *service)
{
	struct json_object *restarts = cmsim_jget(sim->stats, "restarts");
	struct cmr_buf key = CMR_BUF_INIT;

	if (!restarts) {
		restarts = json_object_new_object();
		json_object_object_add(sim->stats, "restarts", restarts);
	}
	cmr_buf_addf(&key, "%s/%s",
	             cluster ? cmsim_jstr(cluster, "name") : "cm",
	             cmsim_jstr(service, "name"));
	if (!cmr_buf_error(&key))
		cmsim_jset_int(restarts, key.ptr,
		               cmsim_jint(restarts, key.ptr, 0) + 1);
	cmr_buf_release(&key);
}

/* --- seed ----------------------------------------------------------------- */

static const char *svc_type_of(struct json_object *service)
{
	const char *t = cmsim_jstr(service, "type");

	return t ? t : "UNKNOWN";
}

static void default_str(struct json_object *o, const char *key, const char *v)
{
	if (!cmsim_jstr(o, key))
		cmsim_jset_str(o, key, v);
}

static void default_bool(struct json_object *o, const char *key, bool v)
{
	if (!cmsim_jget(o, key))
		cmsim_jset_bool(o, key, v);
}

/* Keeps only well-formed {name, value} tags (value "" when missing). */
static void normalize_tags(struct json_object *owner)
{
	struct json_object *in = cmsim_jget(owner, "tags");
	struct json_object *out = json_object_new_array();
	size_t i;
	size_t n = in && json_object_is_type(in, json_type_array)
	                   ? json_object_array_length(in)
	                   : 0;

	for (i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(in, i);
		struct json_object *nt;

		if (!cmsim_jstr(t, "name"))
			continue;
		nt = json_object_new_object();
		cmsim_jset_str(nt, "name", cmsim_jstr(t, "name"));
		cmsim_jset_str(nt, "value",
		               cmsim_jstr(t, "value") ? cmsim_jstr(t, "value")
		                                      : "");
		json_object_array_add(out, nt);
	}
	json_object_object_add(owner, "tags", out);
}

/* Keeps only {name, value, sensitive} of each item; values as strings. */
static void normalize_items(struct json_object *owner)
{
	struct json_object *cfg = cmsim_jget(owner, "config");
	struct json_object *items;
	struct json_object *out;
	size_t i;
	size_t n;

	if (!cfg || !json_object_is_type(cfg, json_type_object)) {
		cfg = json_object_new_object();
		json_object_object_add(owner, "config", cfg);
	}
	items = cmsim_jarr(cfg, "items");
	out = json_object_new_array();
	n = json_object_array_length(items);
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *v = cmsim_jget(it, "value");
		const char *name = cmsim_jstr(it, "name");
		struct json_object *c;

		if (!name || !v || json_object_is_type(v, json_type_null))
			continue;
		c = json_object_new_object();
		cmsim_jset_str(c, "name", name);
		cmsim_jset_str(c, "value", json_object_get_string(v));
		if (cmsim_jbool(it, "sensitive", false))
			cmsim_jset_bool(c, "sensitive", true);
		json_object_array_add(out, c);
	}
	json_object_object_add(cfg, "items", out);
	/* roleTypeConfigs is a v2 relic (FACTS §3): not kept. */
	json_object_object_del(cfg, "roleTypeConfigs");
}

static void normalize_role(struct json_object *svc, struct json_object *role)
{
	const char *type = cmsim_jstr(role, "type");
	bool gw = type && strcmp(type, "GATEWAY") == 0;
	struct json_object *ref = cmsim_jget(role, "roleConfigGroupRef");

	default_str(role, "roleState", gw ? "NA" : "STARTED");
	default_str(role, "configStalenessStatus", "FRESH");
	default_str(role, "healthSummary", "GOOD");
	default_str(role, "commissionState", "COMMISSIONED");
	default_bool(role, "maintenanceMode", false);
	normalize_tags(role);
	normalize_items(role);
	if (!cmsim_jstr(ref, "roleConfigGroupName")) {
		struct cmr_buf name = CMR_BUF_INIT;

		cmr_buf_addf(&name, "%s-%s-BASE", cmsim_jstr(svc, "name"),
		             type ? type : "UNKNOWN");
		ref = json_object_new_object();
		cmsim_jset_str(ref, "roleConfigGroupName", name.ptr);
		json_object_object_add(role, "roleConfigGroupRef", ref);
		cmr_buf_release(&name);
	}
}

static void ensure_base_group(struct json_object *svc, const char *role_type)
{
	struct json_object *rcgs = cmsim_jarr(svc, "roleConfigGroups");
	struct cmr_buf name = CMR_BUF_INIT;
	struct json_object *g;
	size_t i;
	size_t n = json_object_array_length(rcgs);

	for (i = 0; i < n; i++) {
		g = json_object_array_get_idx(rcgs, i);
		if (cmsim_jbool(g, "base", false) &&
		    strcmp(cmsim_jstr(g, "roleType") ? cmsim_jstr(g, "roleType")
		                                     : "",
		           role_type) == 0)
			return;
	}
	cmr_buf_addf(&name, "%s-%s-BASE", cmsim_jstr(svc, "name"), role_type);
	if (!cmsim_rcg(svc, name.ptr)) {
		g = json_object_new_object();
		cmsim_jset_str(g, "name", name.ptr);
		cmsim_jset_str(g, "roleType", role_type);
		cmsim_jset_bool(g, "base", true);
		cmsim_jset_str(g, "displayName", name.ptr);
		normalize_items(g);
		json_object_array_add(rcgs, g);
	}
	cmr_buf_release(&name);
}

static void normalize_service(struct json_object *svc, bool mgmt)
{
	struct json_object *rcgs;
	struct json_object *roles;
	size_t i;
	size_t n;

	default_str(svc, "serviceState", "STARTED");
	default_str(svc, "healthSummary", "GOOD");
	default_str(svc, "clientConfigStalenessStatus", "FRESH");
	default_bool(svc, "maintenanceMode", false);
	if (mgmt) {
		default_str(svc, "name", "mgmt");
		default_str(svc, "type", "MGMT");
		default_str(svc, "displayName", "Cloudera Management Service");
	}
	default_str(svc, "displayName", cmsim_jstr(svc, "name"));
	/* Runtime fields a seed may carry but that cmsim computes. */
	json_object_object_del(svc, "configStalenessStatus");
	json_object_object_del(svc, "configStale");
	json_object_object_del(svc, "entityStatus");
	json_object_object_del(svc, "clusterRef");
	normalize_tags(svc);
	normalize_items(svc);
	rcgs = cmsim_jarr(svc, "roleConfigGroups");
	n = json_object_array_length(rcgs);
	for (i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(rcgs, i);

		normalize_items(g);
		json_object_object_del(g, "serviceRef");
		default_bool(g, "base", false);
	}
	roles = cmsim_jarr(svc, "roles");
	n = json_object_array_length(roles);
	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);

		json_object_object_del(r, "serviceRef");
		normalize_role(svc, r);
		if (cmsim_jstr(r, "type"))
			ensure_base_group(svc, cmsim_jstr(r, "type"));
	}
	for (i = 0; i < json_object_array_length(rcgs); i++) {
		const char *rt = cmsim_jstr(json_object_array_get_idx(rcgs, i),
		                            "roleType");

		if (rt)
			ensure_base_group(svc, rt);
	}
}

static int stage_rank(const char *stage)
{
	static const char *const order[] = {
		"UNAVAILABLE", "AVAILABLE_REMOTELY", "DOWNLOADING",
		"DOWNLOADED",  "DISTRIBUTING",       "UNDISTRIBUTING",
		"DISTRIBUTED", "ACTIVATING",         "ACTIVATED",
	};
	size_t i;

	for (i = 0; stage && i < CMR_ARRAY_SIZE(order); i++)
		if (strcmp(order[i], stage) == 0)
			return (int)i;
	return -1;
}

static struct json_object *new_parcel_state(void)
{
	struct json_object *st = json_object_new_object();

	cmsim_jset_int(st, "progress", 0);
	cmsim_jset_int(st, "totalProgress", 0);
	cmsim_jset_int(st, "count", 0);
	cmsim_jset_int(st, "totalCount", 0);
	json_object_object_add(st, "errors", json_object_new_array());
	json_object_object_add(st, "warnings", json_object_new_array());
	return st;
}

/*
 * The export lists an active parcel twice, DISTRIBUTED and ACTIVATED
 * (FACTS §7): keep one entry per product/version, at the highest stage.
 */
static void normalize_parcels(struct json_object *cluster, int64_t now)
{
	struct json_object *in = cmsim_jget(cluster, "parcels");
	struct json_object *out = json_object_new_array();
	size_t i;
	size_t n = in && json_object_is_type(in, json_type_array)
	                   ? json_object_array_length(in)
	                   : 0;

	json_object_object_add(cluster, "parcelsTmp", out);
	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(in, i);
		const char *prod = cmsim_jstr(p, "product");
		const char *ver = cmsim_jstr(p, "version");
		const char *stage = cmsim_jstr(p, "stage");
		struct json_object *have;
		struct json_object *np;
		size_t j;
		size_t m = json_object_array_length(out);

		if (!prod || !ver || stage_rank(stage) < 0)
			continue;
		have = NULL;
		for (j = 0; j < m; j++) {
			struct json_object *q =
			        json_object_array_get_idx(out, j);

			if (strcmp(cmsim_jstr(q, "product"), prod) == 0 &&
			    strcmp(cmsim_jstr(q, "version"), ver) == 0)
				have = q;
		}
		if (have) {
			if (stage_rank(stage) >
			    stage_rank(cmsim_jstr(have, "stage")))
				cmsim_jset_str(have, "stage", stage);
			continue;
		}
		np = json_object_new_object();
		cmsim_jset_str(np, "product", prod);
		cmsim_jset_str(np, "version", ver);
		cmsim_jset_str(np, "stage", stage);
		cmsim_jcopy(np, p, "displayName");
		cmsim_jcopy(np, p, "description");
		json_object_object_add(np, "state", new_parcel_state());
		cmsim_jset_int(np, "t0", now);
		cmsim_jset_int(np, "sizeBytes", 2000000000);
		json_object_array_add(out, np);
	}
	json_object_object_add(cluster, "parcels", json_object_get(out));
	json_object_object_del(cluster, "parcelsTmp");
}

static void gen_uuid(struct cmsim *sim, char *dst, size_t size)
{
	uint64_t a = (uint64_t)(cmsim_rand(sim) * 4294967296.0);
	uint64_t b = (uint64_t)(cmsim_rand(sim) * 4294967296.0);
	uint64_t c = (uint64_t)(cmsim_rand(sim) * 4294967296.0);

	snprintf(dst, size, "%08llx-%04llx-4%03llx-a%03llx-%08llx%04llx",
	         (unsigned long long)a, (unsigned long long)(b & 0xffff),
	         (unsigned long long)((b >> 16) & 0xfff),
	         (unsigned long long)(c & 0xfff),
	         (unsigned long long)(c >> 12) & 0xffffffffULL,
	         (unsigned long long)(a & 0xffff));
}

static void for_each_scope(struct cmsim *sim,
                           void (*fn)(struct cmsim *sim,
                                      const struct cmsim_scope *sc, void *ud),
                           void *ud);

static void learn_scope(struct cmsim *sim, const struct cmsim_scope *sc,
                        void *ud)
{
	struct json_object *items = cmsim_scope_items(sc);
	size_t i;
	size_t n = json_object_array_length(items);

	(void)ud;
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);

		cmsim_catalog_learn(&sim->catalog, sc->svc_type, sc->scope,
		                    cmsim_jstr(it, "name"),
		                    cmsim_jbool(it, "sensitive", false));
	}
}

static void scrub_scope(struct cmsim *sim, const struct cmsim_scope *sc,
                        void *ud)
{
	struct json_object *items = cmsim_scope_items(sc);
	size_t i;
	size_t n = json_object_array_length(items);

	(void)ud;
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct json_object *p =
		        cmsim_catalog_param(&sim->catalog, sc->svc_type,
		                            sc->scope, cmsim_jstr(it, "name"));

		if (cmsim_jbool(it, "sensitive", false) ||
		    cmsim_param_sensitive(p))
			cmsim_jset_str(it, "value", PLACEHOLDER);
	}
}

int cmsim_state_learn_names(struct cmsim *sim, struct cmr_error *err)
{
	(void)err;
	for_each_scope(sim, learn_scope, NULL);
	return 0;
}

/*
 * json-c asserts when an object operation meets another type, so a seed's
 * shape is checked before anything is normalised: every list must hold
 * objects.  A wrong seed is an error message, never a crash.
 */
static int check_objects(struct json_object *o, const char *key,
                         const char *where, struct cmr_error *err)
{
	struct json_object *v = cmsim_jget(o, key);
	size_t i;
	size_t n;

	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return cmr_error_set(err, CMR_EINVAL,
		                     "seed: %s.%s is not a list", where, key);
	n = json_object_array_length(v);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(v, i),
		                         json_type_object))
			return cmr_error_set(err, CMR_EINVAL,
			                     "seed: %s.%s[%zu] is not an "
			                     "object",
			                     where, key, i);
	return 0;
}

static int check_config(struct json_object *owner, const char *where,
                        struct cmr_error *err)
{
	struct json_object *cfg = cmsim_jget(owner, "config");

	if (!cfg || json_object_is_type(cfg, json_type_null))
		return 0;
	if (!json_object_is_type(cfg, json_type_object))
		return cmr_error_set(err, CMR_EINVAL,
		                     "seed: %s.config is not an object", where);
	return check_objects(cfg, "items", where, err);
}

static int check_service(struct json_object *svc, const char *where,
                         struct cmr_error *err)
{
	static const char *const lists[] = { "roles", "roleConfigGroups" };
	size_t k;
	size_t i;
	size_t n;
	char sub[256];

	if (!cmsim_jstr(svc, "name") || !cmsim_jstr(svc, "type"))
		return cmr_error_set(err, CMR_EINVAL,
		                     "seed: %s needs a name and a type", where);
	if (check_config(svc, where, err) < 0)
		return CMR_EINVAL;
	for (k = 0; k < CMR_ARRAY_SIZE(lists); k++) {
		struct json_object *arr = cmsim_jget(svc, lists[k]);

		if (check_objects(svc, lists[k], where, err) < 0)
			return CMR_EINVAL;
		n = arr && json_object_is_type(arr, json_type_array)
		            ? json_object_array_length(arr)
		            : 0;
		for (i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s.%s[%zu]", where,
			         lists[k], i);
			if (check_config(json_object_array_get_idx(arr, i), sub,
			                 err) < 0)
				return CMR_EINVAL;
		}
	}
	return 0;
}

/* clusterType, when given, is one of CM's two values. */
static int check_cluster_type(struct json_object *c, const char *where,
                              struct cmr_error *err)
{
	struct json_object *t = cmsim_jget(c, "clusterType");
	const char *v;

	if (!t || json_object_is_type(t, json_type_null))
		return 0;
	v = json_object_is_type(t, json_type_string) ? json_object_get_string(t)
	                                             : NULL;
	if (v && (strcmp(v, "BASE_CLUSTER") == 0 ||
	          strcmp(v, "COMPUTE_CLUSTER") == 0))
		return 0;
	return cmr_error_set(err, CMR_EINVAL,
	                     "seed: %s.clusterType must be BASE_CLUSTER or "
	                     "COMPUTE_CLUSTER",
	                     where);
}

static int check_seed(struct json_object *seed, struct cmr_error *err)
{
	struct json_object *clusters = cmsim_jget(seed, "clusters");
	struct json_object *mgmt = cmsim_jget(seed, "managementService");
	size_t i;
	size_t j;
	size_t n;
	char where[128];

	if (check_objects(seed, "clusters", "deployment", err) < 0 ||
	    check_objects(seed, "hosts", "deployment", err) < 0 ||
	    check_config(seed, "deployment", err) < 0)
		return CMR_EINVAL;
	if (mgmt && !json_object_is_type(mgmt, json_type_null)) {
		if (!json_object_is_type(mgmt, json_type_object))
			return cmr_error_set(err, CMR_EINVAL,
			                     "seed: managementService is not "
			                     "an object");
		if (check_service(mgmt, "managementService", err) < 0)
			return CMR_EINVAL;
	}
	if (cmsim_jget(seed, "managerSettings") &&
	    !json_object_is_type(cmsim_jget(seed, "managerSettings"),
	                         json_type_object))
		return cmr_error_set(err, CMR_EINVAL,
		                     "seed: managerSettings is not an object");
	if (check_objects(cmsim_jget(seed, "managerSettings"), "items",
	                  "managerSettings", err) < 0)
		return CMR_EINVAL;
	n = clusters && json_object_is_type(clusters, json_type_array)
	            ? json_object_array_length(clusters)
	            : 0;
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(clusters, i);
		struct json_object *svcs = cmsim_jget(c, "services");
		size_t m;

		snprintf(where, sizeof(where), "clusters[%zu]", i);
		if (check_cluster_type(c, where, err) < 0 ||
		    check_objects(c, "services", where, err) < 0 ||
		    check_objects(c, "parcels", where, err) < 0)
			return CMR_EINVAL;
		m = svcs && json_object_is_type(svcs, json_type_array)
		            ? json_object_array_length(svcs)
		            : 0;
		for (j = 0; j < m; j++) {
			snprintf(where, sizeof(where),
			         "clusters[%zu].services[%zu]", i, j);
			if (check_service(json_object_array_get_idx(svcs, j),
			                  where, err) < 0)
				return CMR_EINVAL;
		}
	}
	return 0;
}

int cmsim_state_from_seed(struct cmsim *sim, struct json_object *seed,
                          struct cmr_error *err)
{
	struct json_object *root = json_object_new_object();
	struct json_object *clusters;
	struct json_object *settings;
	struct json_object *mgmt;
	struct json_object *hosts;
	struct json_object *vi;
	int64_t now = cmsim_now(sim);
	size_t i;
	size_t n;

	if (!seed || !json_object_is_type(seed, json_type_object)) {
		json_object_put(root);
		return cmr_error_set(err, CMR_EINVAL,
		                     "the seed is not a JSON object "
		                     "(expected the shape of GET "
		                     "/cm/deployment)");
	}
	if (check_seed(seed, err) < 0) {
		json_object_put(root);
		return CMR_EINVAL;
	}
	cmsim_jset_str(root, "format", "cmsim-state");
	cmsim_jset_int(root, "formatVersion", 1);
	cmsim_jset_int(root, "nextId", 100);
	vi = cmsim_jdup(cmsim_jget(seed, "versionInfo"));
	if (!vi) {
		vi = json_object_new_object();
		cmsim_jset_str(vi, "version", CMSIM_CM_VERSION);
		cmsim_jset_bool(vi, "snapshot", false);
		cmsim_jset_str(vi, "buildUser", "cmsim");
		cmsim_jset_str(vi, "buildTimestamp", "20211110-1505");
		cmsim_jset_str(vi, "gitHash", "cmsim");
	}
	json_object_object_add(root, "versionInfo", vi);
	settings = cmsim_jdup(cmsim_jget(seed, "managerSettings"));
	if (!settings || !json_object_is_type(settings, json_type_object)) {
		json_object_put(settings);
		settings = json_object_new_object();
	}
	{
		/* normalize_items works on an owner's "config": lend it one. */
		struct json_object *holder = json_object_new_object();

		json_object_object_add(holder, "config", settings);
		normalize_items(holder);
		json_object_object_add(
		        root, "managerSettings",
		        json_object_get(cmsim_jget(holder, "config")));
		json_object_put(holder);
	}
	hosts = cmsim_jdup(cmsim_jget(seed, "hosts"));
	json_object_object_add(root, "hosts",
	                       hosts ? hosts : json_object_new_array());
	mgmt = cmsim_jdup(cmsim_jget(seed, "managementService"));
	if (mgmt && json_object_is_type(mgmt, json_type_object)) {
		normalize_service(mgmt, true);
		json_object_object_add(root, "managementService", mgmt);
	} else {
		json_object_put(mgmt);
	}
	clusters = cmsim_jdup(cmsim_jget(seed, "clusters"));
	if (!clusters || !json_object_is_type(clusters, json_type_array)) {
		json_object_put(clusters);
		clusters = json_object_new_array();
	}
	json_object_object_add(root, "clusters", clusters);
	n = json_object_array_length(clusters);
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(clusters, i);
		struct json_object *svcs = cmsim_jarr(c, "services");
		size_t j;
		size_t m = json_object_array_length(svcs);
		char uuid[64];

		if (!cmsim_jstr(c, "name")) {
			json_object_put(root);
			return cmr_error_set(err, CMR_EINVAL,
			                     "seed: clusters[%zu] has no name",
			                     i);
		}
		default_str(c, "displayName", cmsim_jstr(c, "name"));
		default_str(c, "version", "CDH7");
		default_bool(c, "maintenanceMode", false);
		if (!cmsim_jstr(c, "uuid")) {
			gen_uuid(sim, uuid, sizeof(uuid));
			cmsim_jset_str(c, "uuid", uuid);
		}
		normalize_tags(c);
		normalize_parcels(c, now);
		for (j = 0; j < m; j++)
			normalize_service(json_object_array_get_idx(svcs, j),
			                  false);
	}
	json_object_object_add(root, "commands", json_object_new_array());
	json_object_object_add(root, "audit", json_object_new_array());
	json_object_put(sim->root);
	sim->root = root;
	for_each_scope(sim, learn_scope, NULL);
	if (!sim->keep_seed_secrets)
		for_each_scope(sim, scrub_scope, NULL);
	sim->dirty = true;
	return 0;
}

/* --- state file ----------------------------------------------------------- */

int cmsim_state_load(struct cmsim *sim, const char *path, struct cmr_error *err)
{
	struct json_object *root = json_object_from_file(path);

	if (!root)
		return cmr_error_set(err, CMR_EINVAL,
		                     "cannot read state file '%s': %s", path,
		                     json_util_get_last_err());
	if (!cmsim_jstr(root, "format") ||
	    strcmp(cmsim_jstr(root, "format"), "cmsim-state") != 0) {
		json_object_put(root);
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%s' is not a cmsim state file", path);
	}
	json_object_put(sim->root);
	sim->root = root;
	/* Resume the simulated clock where it stopped. */
	if (cmsim_jget(root, "simTimeMs")) {
		sim->base_sim_ms = cmsim_jint(root, "simTimeMs", 0);
		sim->base_mono_ms = cmsim_mono_ms();
	}
	return cmsim_state_learn_names(sim, err);
}

/* True when `name` is "<base>.tmp.<pid>" of a process gone. */
static bool stale_tmp(const char *name, const char *base, size_t blen)
{
	char *end = NULL;
	long pid;

	if (strncmp(name, base, blen) != 0 ||
	    strncmp(name + blen, ".tmp.", 5) != 0)
		return false;
	errno = 0;
	pid = strtol(name + blen + 5, &end, 10);
	if (errno != 0 || !end || *end || pid <= 0 || end == name + blen + 5)
		return false;
	return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

size_t cmsim_state_sweep(const char *state_file)
{
	struct cmr_buf dir = CMR_BUF_INIT;
	struct cmr_buf path = CMR_BUF_INIT;
	const char *slash = strrchr(state_file, '/');
	const char *base = slash ? slash + 1 : state_file;
	size_t blen = strlen(base);
	size_t removed = 0;
	struct dirent *e;
	DIR *d;

	if (slash)
		cmr_buf_add(&dir, state_file, (size_t)(slash - state_file) + 1);
	else
		cmr_buf_adds(&dir, "./");
	d = cmr_buf_error(&dir) ? NULL : opendir(dir.ptr);
	while (d && (e = readdir(d)) != NULL) {
		if (!stale_tmp(e->d_name, base, blen))
			continue;
		cmr_buf_reset(&path);
		cmr_buf_addf(&path, "%s%s", dir.ptr, e->d_name);
		if (!cmr_buf_error(&path) && unlink(path.ptr) == 0)
			removed++;
	}
	if (d)
		closedir(d);
	cmr_buf_release(&dir);
	cmr_buf_release(&path);
	return removed;
}

int cmsim_state_save(struct cmsim *sim, struct cmr_error *err)
{
	struct cmr_buf tmp = CMR_BUF_INIT;
	const char *text;
	size_t len;
	int fd = -1;
	int error = CMR_ERROR;

	if (!sim->state_file)
		return 0;
	cmsim_jset_int(sim->root, "simTimeMs", cmsim_now(sim));
	cmr_buf_addf(&tmp, "%s.tmp.%ld", sim->state_file, (long)getpid());
	if (cmr_buf_error(&tmp)) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	text = json_object_to_json_string_ext(sim->root,
	                                      JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		error = cmr_error_set(err, CMR_ERROR, "cannot write '%s': %s",
		                      tmp.ptr, strerror(errno));
		goto done;
	}
	while (len > 0) {
		ssize_t w = write(fd, text, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			error = cmr_error_set(err, CMR_ERROR,
			                      "cannot write '%s': %s", tmp.ptr,
			                      strerror(errno));
			goto done;
		}
		text += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		error = cmr_error_set(err, CMR_ERROR, "cannot write '%s': %s",
		                      tmp.ptr, strerror(errno));
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, sim->state_file) != 0) {
		error = cmr_error_set(err, CMR_ERROR,
		                      "cannot rename '%s' to '%s': %s", tmp.ptr,
		                      sim->state_file, strerror(errno));
		goto done;
	}
	sim->dirty = false;
	error = 0;
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp.ptr);
	}
	cmr_buf_release(&tmp);
	return error;
}

/* --- config scopes -------------------------------------------------------- */

struct json_object *cmsim_scope_items(const struct cmsim_scope *sc)
{
	struct json_object *cfg;

	if (sc->kind == CMSIM_SCOPE_CM)
		return cmsim_jarr(sc->owner, "items");
	cfg = cmsim_jget(sc->owner, "config");
	if (!cfg) {
		cfg = json_object_new_object();
		json_object_object_add(sc->owner, "config", cfg);
	}
	return cmsim_jarr(cfg, "items");
}

static struct json_object *scope_item(const struct cmsim_scope *sc,
                                      const char *name, size_t *idx)
{
	struct json_object *items = cmsim_scope_items(sc);
	size_t i;
	size_t n = json_object_array_length(items);

	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *s = cmsim_jstr(it, "name");

		if (s && strcmp(s, name) == 0) {
			if (idx)
				*idx = i;
			return it;
		}
	}
	return NULL;
}

const char *cmsim_scope_get(const struct cmsim_scope *sc, const char *name)
{
	return cmsim_jstr(scope_item(sc, name, NULL), "value");
}

static void for_each_service_scope(
        struct cmsim *sim, struct json_object *cluster, struct json_object *svc,
        void (*fn)(struct cmsim *sim, const struct cmsim_scope *sc, void *ud),
        void *ud)
{
	struct cmsim_scope sc;
	struct json_object *arr;
	size_t i;
	size_t n;

	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_SERVICE;
	sc.cluster = cluster;
	sc.service = svc;
	sc.owner = svc;
	sc.svc_type = svc_type_of(svc);
	sc.scope = "SERVICE";
	fn(sim, &sc, ud);
	arr = cmsim_jget(svc, "roleConfigGroups");
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		sc.kind = CMSIM_SCOPE_RCG;
		sc.owner = json_object_array_get_idx(arr, i);
		sc.scope = cmsim_jstr(sc.owner, "roleType");
		if (sc.scope)
			fn(sim, &sc, ud);
	}
	arr = cmsim_jget(svc, "roles");
	n = arr ? json_object_array_length(arr) : 0;
	for (i = 0; i < n; i++) {
		sc.kind = CMSIM_SCOPE_ROLE;
		sc.owner = json_object_array_get_idx(arr, i);
		sc.scope = cmsim_jstr(sc.owner, "type");
		if (sc.scope)
			fn(sim, &sc, ud);
	}
}

static void for_each_scope(struct cmsim *sim,
                           void (*fn)(struct cmsim *sim,
                                      const struct cmsim_scope *sc, void *ud),
                           void *ud)
{
	struct json_object *clusters = cmsim_jget(sim->root, "clusters");
	struct cmsim_scope sc;
	size_t i;
	size_t j;
	size_t n;
	size_t m;

	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_CM;
	sc.owner = cmsim_jget(sim->root, "managerSettings");
	sc.svc_type = "CM";
	sc.scope = "CM";
	if (sc.owner)
		fn(sim, &sc, ud);
	if (cmsim_mgmt(sim))
		for_each_service_scope(sim, NULL, cmsim_mgmt(sim), fn, ud);
	n = clusters ? json_object_array_length(clusters) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(clusters, i);
		struct json_object *svcs = cmsim_jget(c, "services");

		m = svcs ? json_object_array_length(svcs) : 0;
		for (j = 0; j < m; j++)
			for_each_service_scope(
			        sim, c, json_object_array_get_idx(svcs, j), fn,
			        ud);
	}
}

/* --- config writes and staleness ------------------------------------------ */

static void mark_role(struct json_object *role, int rank)
{
	if (cmsim_role_is_gateway(role))
		return;
	if (rank > stale_rank(cmsim_jstr(role, "configStalenessStatus")))
		cmsim_jset_str(role, "configStalenessStatus",
		               stale_names[rank]);
}

static bool role_in_scope(const struct cmsim_scope *sc,
                          struct json_object *role)
{
	const char *g;

	switch (sc->kind) {
	case CMSIM_SCOPE_SERVICE:
		return true;
	case CMSIM_SCOPE_RCG:
		g = cmsim_jstr(cmsim_jget(role, "roleConfigGroupRef"),
		               "roleConfigGroupName");
		return g && strcmp(g, cmsim_jstr(sc->owner, "name")) == 0;
	case CMSIM_SCOPE_ROLE:
		return role == sc->owner;
	case CMSIM_SCOPE_CM:
		break;
	}
	return false;
}

static void mark_stale(const struct cmsim_scope *sc, int rank, bool client)
{
	struct json_object *roles;
	size_t i;
	size_t n;

	if (!sc->service)
		return;
	if (client)
		cmsim_jset_str(sc->service, "clientConfigStalenessStatus",
		               "STALE");
	if (rank == 0)
		return;
	roles = cmsim_jget(sc->service, "roles");
	n = roles ? json_object_array_length(roles) : 0;
	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);

		if (role_in_scope(sc, r))
			mark_role(r, rank);
	}
}

static void effect_rank(const char *effect, int *rank, bool *client)
{
	if (strcmp(effect, "client") == 0)
		*client = true;
	else if (strcmp(effect, "refresh") == 0)
		*rank = *rank > 1 ? *rank : 1;
	else
		*rank = 2;
}

/* Sets or removes one item; true when the value changed. */
static bool apply_item(const struct cmsim_scope *sc, const char *name,
                       const char *value)
{
	size_t idx = 0;
	struct json_object *it = scope_item(sc, name, &idx);
	struct json_object *items = cmsim_scope_items(sc);

	if (!value) {
		if (!it)
			return false;
		json_object_array_del_idx(items, idx, 1);
		return true;
	}
	if (it) {
		const char *old = cmsim_jstr(it, "value");

		if (old && strcmp(old, value) == 0)
			return false;
		cmsim_jset_str(it, "value", value);
		return true;
	}
	it = json_object_new_object();
	cmsim_jset_str(it, "name", name);
	cmsim_jset_str(it, "value", value);
	json_object_array_add(items, it);
	return true;
}

int cmsim_config_set(struct cmsim *sim, const struct cmsim_scope *sc,
                     const char *name, const char *value)
{
	struct json_object *p = cmsim_catalog_param(&sim->catalog, sc->svc_type,
	                                            sc->scope, name);
	int rank = 0;
	bool client = false;

	if (!apply_item(sc, name, value))
		return 0;
	effect_rank(cmsim_param_effect(p), &rank, &client);
	if (sc->kind == CMSIM_SCOPE_SERVICE && client)
		client = true;
	mark_stale(sc, rank, client);
	sim->dirty = true;
	return 0;
}

/* The value of a PUT item as CM stores it: a string, or NULL (reset). */
static int item_value(const char **out, struct json_object *v, const char *name,
                      struct cmr_error *err)
{
	*out = NULL;
	if (!v || json_object_is_type(v, json_type_null))
		return 0;
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
	case json_type_boolean:
		*out = json_object_get_string(v);
		return 0;
	default:
		return cmr_error_set(err, CMR_EINVAL,
		                     "Invalid value for parameter '%s': "
		                     "expected a string.",
		                     name);
	}
}

static void record_audit(struct cmsim *sim, const struct cmsim_scope *sc,
                         const char *message, struct json_object *names)
{
	struct json_object *audit = cmsim_jarr(sim->root, "audit");
	struct json_object *e = json_object_new_object();
	char when[40];

	cmsim_iso_time(when, sizeof(when), cmsim_now(sim));
	cmsim_jset_str(e, "time", when);
	if (sc->cluster)
		cmsim_jset_str(e, "cluster", cmsim_jstr(sc->cluster, "name"));
	if (sc->service)
		cmsim_jset_str(e, "service", cmsim_jstr(sc->service, "name"));
	if (sc->kind == CMSIM_SCOPE_RCG)
		cmsim_jset_str(e, "roleConfigGroup",
		               cmsim_jstr(sc->owner, "name"));
	if (sc->kind == CMSIM_SCOPE_ROLE)
		cmsim_jset_str(e, "role", cmsim_jstr(sc->owner, "name"));
	if (message)
		cmsim_jset_str(e, "message", message);
	json_object_object_add(e, "names", names);
	json_object_array_add(audit, e);
	/* Keep the audit trail bounded: the newest 200 entries. */
	if (json_object_array_length(audit) > 200)
		json_object_array_del_idx(audit, 0, 1);
}

/*
 * The first pass of a config PUT: checks every item (a name, a known
 * setting, a value of the right type) and changes nothing.
 */
static int check_items(struct cmsim *sim, const struct cmsim_scope *sc,
                       struct json_object *items, struct cmr_error *err)
{
	size_t i;
	size_t n = json_object_array_length(items);

	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *name = cmsim_jstr(it, "name");
		const char *value;
		struct json_object *p;
		int rc;

		if (!name)
			return cmr_error_set(err, CMR_EINVAL,
			                     "Invalid request body: config "
			                     "item %zu has no name.",
			                     i);
		p = cmsim_catalog_param(&sim->catalog, sc->svc_type, sc->scope,
		                        name);
		if (!p)
			return cmr_error_set(err, CMR_EINVAL,
			                     "Unknown configuration attribute "
			                     "'%s'.",
			                     name);
		rc = item_value(&value, cmsim_jget(it, "value"), name, err);
		if (rc < 0)
			return rc;
		if (value) {
			rc = cmsim_param_check(p, value, err);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Booleans are stored lower-case, as CM returns them. */
static void lower_boolean(struct json_object *param, char *value)
{
	const char *type = cmsim_jstr(param, "type");
	char *c;

	if (!type || strcmp(type, "boolean") != 0)
		return;
	for (c = value; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

int cmsim_config_put(struct cmsim *sim, const struct cmsim_scope *sc,
                     struct json_object *body, const char *message,
                     struct cmr_error *err)
{
	struct json_object *items = cmsim_jget(body, "items");
	struct json_object *names;
	size_t i;
	size_t n;
	int rank = 0;
	int rc;
	bool client = false;

	if (!items || !json_object_is_type(items, json_type_array))
		return cmr_error_set(err, CMR_EINVAL,
		                     "Invalid request body: expected an object "
		                     "with an 'items' list of configs.");
	rc = check_items(sim, sc, items, err);
	if (rc < 0)
		return rc;
	n = json_object_array_length(items);
	names = json_object_new_array();
	for (i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		const char *name = cmsim_jstr(it, "name");
		const char *value = NULL;
		struct json_object *p = cmsim_catalog_param(
		        &sim->catalog, sc->svc_type, sc->scope, name);
		char *copy;

		(void)item_value(&value, cmsim_jget(it, "value"), name, NULL);
		copy = value ? strdup(value) : NULL;
		if (value && !copy)
			continue; /* out of memory: leave this one alone */
		if (copy)
			lower_boolean(p, copy);
		if (apply_item(sc, name, copy)) {
			effect_rank(cmsim_param_effect(p), &rank, &client);
			json_object_array_add(names,
			                      json_object_new_string(name));
		}
		free(copy);
	}
	mark_stale(sc, rank, client);
	record_audit(sim, sc, message, names);
	sim->dirty = true;
	return 0;
}
