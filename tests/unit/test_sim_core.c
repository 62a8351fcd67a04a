/*
 * test_sim_core.c -- cmsim's simulation without HTTP: config merge and
 * validation, staleness rules, commands over a stopped clock, parcel
 * stages, faults, the state file.
 *
 * Every test starts from the demo seed (examples/demo-seed.json) and the
 * catalog in cmd/cmsim/data/catalog, with the clock stopped (time scale
 * 0), so time moves only through cmsim_advance, as with
 * POST /_sim/clock?advance=N.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim.h"

#define CATALOG  CMR_SOURCE_DIR "/cmd/cmsim/data/catalog"
#define SEED     CMR_SOURCE_DIR "/examples/demo-seed.json"
#define REPO     CMR_SOURCE_DIR "/examples/parcel-repo/manifest.json"
#define REPO_URL "https://archive.example.com/p/cdh7/7.1.9/parcels/"
#define CDH_NEW  "7.1.9-1.cdh7.1.9.p0.44702451"
#define CDH_OLD  "7.1.8-1.cdh7.1.8.p0.30990532"
#define SPARK3   "3.3.2.3.3.7190.0-91-1.p0.45265883"

struct fx {
	struct cmsim sim;
	struct json_object *cluster;
};

static int load(struct fx *fx, bool keep_secrets)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *seed = json_object_from_file(SEED);

	if (cmsim_init(&fx->sim, &err) < 0 || !seed)
		return -1;
	fx->sim.keep_seed_secrets = keep_secrets;
	cmsim_set_time_scale(&fx->sim, 0);
	if (cmsim_catalog_load(&fx->sim.catalog, CATALOG, &err) < 0 ||
	    cmsim_state_from_seed(&fx->sim, seed, &err) < 0) {
		fprintf(stderr, "fixture: %s\n", err.msg);
		json_object_put(seed);
		return -1;
	}
	json_object_put(seed);
	fx->sim.repos = calloc(1, sizeof(*fx->sim.repos));
	fx->sim.repos[0].url = strdup(REPO_URL);
	fx->sim.repos[0].manifest = json_object_from_file(REPO);
	fx->sim.nrepos = 1;
	fx->cluster = cmsim_cluster(&fx->sim, "Cluster 1");
	return fx->cluster ? 0 : -1;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	*state = fx;
	return fx ? load(fx, false) : -1;
}

static int teardown(void **state)
{
	struct fx *fx = *state;

	cmsim_release(&fx->sim);
	free(fx);
	return 0;
}

static struct json_object *svc(struct fx *fx, const char *name)
{
	return cmsim_service(fx->cluster, name);
}

static void service_scope(struct fx *fx, struct cmsim_scope *sc,
                          const char *name)
{
	memset(sc, 0, sizeof(*sc));
	sc->kind = CMSIM_SCOPE_SERVICE;
	sc->cluster = fx->cluster;
	sc->service = svc(fx, name);
	sc->owner = sc->service;
	sc->svc_type = cmsim_jstr(sc->service, "type");
	sc->scope = "SERVICE";
}

static void group_scope(struct fx *fx, struct cmsim_scope *sc,
                        const char *service, const char *group)
{
	service_scope(fx, sc, service);
	sc->kind = CMSIM_SCOPE_RCG;
	sc->owner = cmsim_rcg(sc->service, group);
	sc->scope = cmsim_jstr(sc->owner, "roleType");
}

static int put(struct fx *fx, const struct cmsim_scope *sc, const char *json,
               struct cmr_error *err)
{
	struct json_object *body = json_tokener_parse(json);
	int rc;

	assert_non_null(body);
	rc = cmsim_config_put(&fx->sim, sc, body, "unit test", err);
	json_object_put(body);
	return rc;
}

static const char *role_staleness(struct fx *fx, const char *service,
                                  const char *type, const char *group)
{
	struct json_object *roles = cmsim_jget(svc(fx, service), "roles");
	size_t i, n = json_object_array_length(roles);

	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);
		const char *g = cmsim_jstr(cmsim_jget(r, "roleConfigGroupRef"),
		                           "roleConfigGroupName");

		if (strcmp(cmsim_jstr(r, "type"), type) == 0 &&
		    (!group || strcmp(g, group) == 0))
			return cmsim_jstr(r, "configStalenessStatus");
	}
	return NULL;
}

/* --- seed ----------------------------------------------------------------- */

static void test_sim_core__seed_lists_active_parcel_once(void **state)
{
	struct fx *fx = *state;
	struct json_object *parcels = cmsim_jget(fx->cluster, "parcels");

	assert_int_equal(json_object_array_length(parcels), 2);
	assert_string_equal(
	        cmsim_jstr(cmsim_parcel(fx->cluster, "CDH", CDH_NEW), "stage"),
	        "ACTIVATED");
	assert_string_equal(
	        cmsim_jstr(cmsim_parcel(fx->cluster, "CDH", CDH_OLD), "stage"),
	        "DISTRIBUTED");
}

static void test_sim_core__seed_starts_everything_fresh(void **state)
{
	struct fx *fx = *state;
	struct json_object *s = svc(fx, "hdfs");

	assert_string_equal(cmsim_jstr(s, "serviceState"), "STARTED");
	assert_string_equal(cmsim_jstr(s, "healthSummary"), "GOOD");
	assert_string_equal(cmsim_service_staleness(s), "FRESH");
	assert_string_equal(cmsim_jstr(s, "clientConfigStalenessStatus"),
	                    "FRESH");
	assert_non_null(cmsim_rcg(s, "hdfs-DATANODE-1"));
	assert_non_null(cmsim_rcg(s, "hdfs-GATEWAY-BASE"));
}

static void test_sim_core__seed_secrets_replaced_unless_kept(void **state)
{
	struct fx *fx = *state;
	struct cmsim_scope sc;
	struct fx kept;

	service_scope(fx, &sc, "hive");
	assert_string_equal(
	        cmsim_scope_get(&sc, "hive_metastore_database_password"),
	        "cmsim-placeholder");
	memset(&kept, 0, sizeof(kept));
	assert_int_equal(load(&kept, true), 0);
	service_scope(&kept, &sc, "hive");
	assert_string_equal(
	        cmsim_scope_get(&sc, "hive_metastore_database_password"),
	        "demo-seed-password-not-a-secret");
	cmsim_release(&kept.sim);
}

static void test_sim_core__malformed_seeds_are_errors(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"clusters\": [1]}",
		"{\"clusters\": {\"name\": \"c\"}}",
		"{\"clusters\": [{\"services\": []}]}",
		"{\"clusters\": [{\"name\": \"c\", \"services\": "
		"[{\"name\": \"s\"}]}]}",
		"{\"clusters\": [{\"name\": \"c\", \"services\": "
		"[{\"name\": \"s\", \"type\": \"HDFS\", \"roles\": "
		"[\"r\"]}]}]}",
		"{\"clusters\": [{\"name\": \"c\", \"services\": "
		"[{\"name\": \"s\", \"type\": \"HDFS\", \"config\": "
		"{\"items\": [7]}}]}]}",
		"{\"managementService\": []}",
		"{\"managerSettings\": {\"items\": \"x\"}}",
		"{\"hosts\": [null]}",
	};
	struct fx *fx = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cmr_error err = CMR_ERROR_INIT;
		struct json_object *seed = json_tokener_parse(bad[i]);

		assert_non_null(seed);
		assert_int_equal(cmsim_state_from_seed(&fx->sim, seed, &err),
		                 CMR_EINVAL);
		assert_true(strlen(err.msg) > 0);
		json_object_put(seed);
	}
	/* The state is the demo's still. */
	assert_non_null(cmsim_cluster(&fx->sim, "Cluster 1"));
}

static void test_sim_core__old_style_seed_loads(void **state)
{
	/* v2-era export bits: roleTypeConfigs, no groups, no runtime
	 * fields, a value that is a number, an unknown setting name. */
	static const char seed_text[] =
	        "{\"clusters\": [{\"name\": \"cluster\", \"version\": "
	        "\"CDH5\", \"tags\": [{\"value\": \"nameless\"}, "
	        "{\"name\": \"t\"}], \"services\": [{\"name\": \"hdfs1\", "
	        "\"type\": \"HDFS\", \"config\": {\"roleTypeConfigs\": "
	        "[], \"items\": [{\"name\": \"dfs_replication\", "
	        "\"value\": 2}, {\"name\": \"made_up_key\", \"value\": "
	        "\"x\"}]}, \"roles\": [{\"name\": \"hdfs1-DATANODE-1\", "
	        "\"type\": \"DATANODE\", \"hostRef\": {\"hostId\": "
	        "\"h1\"}}]}]}]}";
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *seed = json_tokener_parse(seed_text);
	struct json_object *c, *s, *body;
	struct cmsim_scope sc;

	assert_int_equal(cmsim_state_from_seed(&fx->sim, seed, &err), 0);
	json_object_put(seed);
	c = cmsim_cluster(&fx->sim, "cluster");
	s = cmsim_service(c, "hdfs1");
	assert_non_null(cmsim_rcg(s, "hdfs1-DATANODE-BASE"));
	/* Tags without a name are dropped, a missing value is "". */
	assert_int_equal(json_object_array_length(cmsim_jget(c, "tags")), 1);
	assert_string_equal(
	        cmsim_jstr(json_object_array_get_idx(cmsim_jget(c, "tags"), 0),
	                   "value"),
	        "");
	assert_string_equal(cmsim_jstr(s, "serviceState"), "STARTED");
	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_SERVICE;
	sc.cluster = c;
	sc.service = s;
	sc.owner = s;
	sc.svc_type = "HDFS";
	sc.scope = "SERVICE";
	assert_string_equal(cmsim_scope_get(&sc, "dfs_replication"), "2");
	/* A name the seed sets is valid for its scope from then on. */
	body = json_tokener_parse(
	        "{\"items\": [{\"name\": \"made_up_key\", \"value\": "
	        "\"y\"}]}");
	assert_int_equal(cmsim_config_put(&fx->sim, &sc, body, NULL, &err), 0);
	json_object_put(body);
	assert_string_equal(cmsim_scope_get(&sc, "made_up_key"), "y");
}

/* --- config --------------------------------------------------------------- */

static void test_sim_core__config_put_merges_and_resets(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;

	service_scope(fx, &sc, "hdfs");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_replication\","
	                     "\"value\":2},{\"name\":\"dfs_umaskmode\","
	                     "\"value\":\"022\"}]}",
	                     &err),
	                 0);
	/* Numbers are stored as CM returns them: strings. */
	assert_string_equal(cmsim_scope_get(&sc, "dfs_replication"), "2");
	assert_string_equal(cmsim_scope_get(&sc, "dfs_umaskmode"), "022");
	/* Untouched keys stay (merge, not replace). */
	assert_string_equal(cmsim_scope_get(&sc, "zookeeper_service"),
	                    "zookeeper");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_replication\","
	                     "\"value\":null}]}",
	                     &err),
	                 0);
	assert_null(cmsim_scope_get(&sc, "dfs_replication"));
	assert_string_equal(cmsim_scope_get(&sc, "dfs_umaskmode"), "022");
}

static void test_sim_core__config_put_unknown_name_changes_nothing(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;

	service_scope(fx, &sc, "hdfs");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_replication\","
	                     "\"value\":\"1\"},{\"name\":\"no_such_key\","
	                     "\"value\":\"x\"}]}",
	                     &err),
	                 CMR_EINVAL);
	assert_string_equal(err.msg,
	                    "Unknown configuration attribute 'no_such_key'.");
	assert_string_equal(cmsim_scope_get(&sc, "dfs_replication"), "3");
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "FRESH");
}

static void test_sim_core__config_put_rejects_bad_values(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;

	group_scope(fx, &sc, "hdfs", "hdfs-DATANODE-BASE");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"process_auto_restart\","
	                     "\"value\":\"maybe\"}]}",
	                     &err),
	                 CMR_EINVAL);
	assert_non_null(strstr(err.msg, "process_auto_restart"));
	cmr_error_clear(&err);
	/* Booleans are accepted in any case and stored lower-case. */
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"process_auto_restart\","
	                     "\"value\":\"TRUE\"}]}",
	                     &err),
	                 0);
	assert_string_equal(cmsim_scope_get(&sc, "process_auto_restart"),
	                    "true");
	/* A name valid for another role type is unknown here. */
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_replication\","
	                     "\"value\":\"2\"}]}",
	                     &err),
	                 CMR_EINVAL);
}

static void test_sim_core__exact_types_are_strict(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *p;

	/* A CSD-typed parameter with limits (Kafka's service.sdl). */
	p = cmsim_catalog_param(&fx->sim.catalog, "KAFKA", "SERVICE",
	                        "default.replication.factor");
	assert_non_null(p);
	assert_false(cmsim_jbool(p, "lenient", true));
	assert_int_equal(cmsim_param_check(p, "1.5", &err), CMR_EINVAL);
	cmr_error_clear(&err);
	assert_int_equal(cmsim_param_check(p, "-5", &err), CMR_EINVAL);
	cmr_error_clear(&err);
	cmr_error_clear(&err);
	assert_int_equal(cmsim_param_check(p, "0", &err), CMR_EINVAL);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(cmsim_param_check(p, "3", NULL), 0);
	/* An inferred type is checked leniently: any number will do. */
	p = cmsim_catalog_param(&fx->sim.catalog, "HDFS", "SERVICE",
	                        "dfs_replication");
	assert_true(cmsim_jbool(p, "lenient", false));
	assert_int_equal(cmsim_param_check(p, "2.5", NULL), 0);
	assert_int_equal(cmsim_param_check(p, "two", NULL), CMR_EINVAL);
}

static void test_sim_core__exact_enums_need_a_valid_value(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *p = cmsim_catalog_param(
	        &fx->sim.catalog, "KAFKA", "KAFKA_BROKER", "ssl.client.auth");

	assert_non_null(p);
	assert_int_equal(cmsim_param_check(p, "required", &err), 0);
	assert_int_equal(cmsim_param_check(p, "sometimes", &err), CMR_EINVAL);
	assert_non_null(strstr(err.msg, "none, required, requested"));
}

static void test_sim_core__mgmt_roles_take_common_parameters(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *mgmt = cmsim_mgmt(&fx->sim);
	struct json_object *p;
	struct cmsim_scope sc;

	/* Extrapolated from the parameters every daemon role has. */
	p = cmsim_catalog_param(&fx->sim.catalog, "MGMT", "SERVICEMONITOR",
	                        "process_auto_restart");
	assert_non_null(p);
	assert_true(cmsim_jbool(p, "extrapolated", false));
	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_RCG;
	sc.service = mgmt;
	sc.owner = cmsim_rcg(mgmt, "mgmt-SERVICEMONITOR-BASE");
	sc.svc_type = "MGMT";
	sc.scope = "SERVICEMONITOR";
	assert_non_null(sc.owner);
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"process_auto_restart\","
	                     "\"value\":true}]}",
	                     &err),
	                 0);
	assert_string_equal(cmsim_scope_get(&sc, "process_auto_restart"),
	                    "true");
	/* Complete catalogs (view=full dumps) are not extended. */
	assert_null(cmsim_catalog_param(&fx->sim.catalog, "HDFS", "BALANCER",
	                                "process_auto_restart"));
}

/* --- staleness ------------------------------------------------------------ */

static void test_sim_core__service_setting_makes_all_roles_stale(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;

	service_scope(fx, &sc, "hdfs");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_replication\","
	                     "\"value\":\"2\"}]}",
	                     &err),
	                 0);
	assert_string_equal(role_staleness(fx, "hdfs", "NAMENODE", NULL),
	                    "STALE");
	assert_string_equal(role_staleness(fx, "hdfs", "DATANODE", NULL),
	                    "STALE");
	/* Gateways have no process and stay FRESH. */
	assert_string_equal(role_staleness(fx, "hdfs", "GATEWAY", NULL),
	                    "FRESH");
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "STALE");
	/* Other services are untouched. */
	assert_string_equal(cmsim_service_staleness(svc(fx, "yarn")), "FRESH");
}

static void test_sim_core__same_value_is_no_change(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;

	service_scope(fx, &sc, "hdfs");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_replication\","
	                     "\"value\":\"3\"}]}",
	                     &err),
	                 0);
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "FRESH");
}

static void test_sim_core__group_setting_reaches_only_its_roles(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;

	group_scope(fx, &sc, "yarn", "yarn-NODEMANAGER-1");
	assert_int_equal(
	        put(fx, &sc,
	            "{\"items\":[{\"name\":"
	            "\"yarn_nodemanager_resource_memory_mb\",\"value\":"
	            "\"16384\"}]}",
	            &err),
	        0);
	assert_string_equal(
	        role_staleness(fx, "yarn", "NODEMANAGER", "yarn-NODEMANAGER-1"),
	        "STALE");
	assert_string_equal(role_staleness(fx, "yarn", "NODEMANAGER",
	                                   "yarn-NODEMANAGER-BASE"),
	                    "FRESH");
	assert_string_equal(role_staleness(fx, "yarn", "RESOURCEMANAGER", NULL),
	                    "FRESH");
}

static void
test_sim_core__refreshable_setting_is_stale_refreshable(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;
	struct json_object *cmd = NULL;

	group_scope(fx, &sc, "hdfs", "hdfs-DATANODE-BASE");
	assert_int_equal(put(fx, &sc,
	                     "{\"items\":[{\"name\":\"dfs_data_dir_list\","
	                     "\"value\":\"/data/9/dfs/dn\"}]}",
	                     &err),
	                 0);
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")),
	                    "STALE_REFRESHABLE");
	/* A cluster refresh clears it without a restart. */
	assert_int_equal(cmsim_cmd_cluster(&cmd, &fx->sim, fx->cluster,
	                                   "refresh", NULL, &err),
	                 0);
	cmsim_advance(&fx->sim, 5000);
	cmsim_tick(&fx->sim);
	assert_false(cmsim_jbool(cmd, "active", true));
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "FRESH");
	assert_null(cmsim_jget(fx->sim.stats, "restarts"));
}

static void
test_sim_core__gateway_setting_makes_client_config_stale(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;
	struct json_object *cmd = NULL;
	struct json_object *p;
	const char *name = NULL;

	group_scope(fx, &sc, "hdfs", "hdfs-GATEWAY-BASE");
	p = cmsim_catalog_scope(&fx->sim.catalog, "HDFS", "GATEWAY");
	json_object_object_foreach(p, key, val)
	{
		if (strcmp(cmsim_jstr(val, "type"), "boolean") == 0) {
			name = key;
			break;
		}
	}
	assert_non_null(name);
	assert_int_equal(cmsim_config_set(&fx->sim, &sc, name, "false"), 0);
	assert_string_equal(
	        cmsim_jstr(svc(fx, "hdfs"), "clientConfigStalenessStatus"),
	        "STALE");
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "FRESH");
	assert_int_equal(cmsim_cmd_service(&cmd, &fx->sim, fx->cluster,
	                                   svc(fx, "hdfs"),
	                                   CMSIM_CMD_SVC_DEPLOY_CC, NULL, &err),
	                 0);
	cmsim_advance(&fx->sim, 10000);
	cmsim_tick(&fx->sim);
	assert_string_equal(
	        cmsim_jstr(svc(fx, "hdfs"), "clientConfigStalenessStatus"),
	        "FRESH");
}

/* --- commands ------------------------------------------------------------- */

static void test_sim_core__restart_takes_time_and_clears_staleness(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;
	struct json_object *cmd = NULL, *children;
	size_t i;

	service_scope(fx, &sc, "hdfs");
	assert_int_equal(
	        cmsim_config_set(&fx->sim, &sc, "dfs_replication", "2"), 0);
	assert_int_equal(cmsim_cmd_service(&cmd, &fx->sim, fx->cluster,
	                                   svc(fx, "hdfs"),
	                                   CMSIM_CMD_SVC_RESTART, NULL, &err),
	                 0);
	assert_true(cmsim_jint(cmd, "id", -1) >= 0);
	/* While it runs, CM shows the transition. */
	assert_string_equal(cmsim_jstr(svc(fx, "hdfs"), "serviceState"),
	                    "STARTING");
	cmsim_advance(&fx->sim, 29000);
	cmsim_tick(&fx->sim);
	assert_true(cmsim_jbool(cmd, "active", false));
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "STALE");
	cmsim_advance(&fx->sim, 1000);
	cmsim_tick(&fx->sim);
	assert_false(cmsim_jbool(cmd, "active", true));
	assert_true(cmsim_jbool(cmd, "success", false));
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "FRESH");
	children = cmsim_jget(cmd, "children");
	/* One step per process: 6 daemon roles, the 4 gateways have none. */
	assert_int_equal(json_object_array_length(children), 6);
	for (i = 0; i < 6; i++)
		assert_true(cmsim_jbool(json_object_array_get_idx(children, i),
		                        "success", false));
	assert_int_equal(cmsim_jint(cmsim_jget(fx->sim.stats, "restarts"),
	                            "Cluster 1/hdfs", 0),
	                 1);
	assert_ptr_equal(cmsim_cmd_find(&fx->sim, cmsim_jint(cmd, "id", -1)),
	                 cmd);
}

static void test_sim_core__cluster_restart_only_stale(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;
	struct json_object *cmd = NULL;
	struct json_object *args =
	        json_tokener_parse("{\"restartOnlyStaleServices\":true}");

	service_scope(fx, &sc, "yarn");
	cmsim_config_set(&fx->sim, &sc, "hdfs_service", "hdfs2");
	assert_int_equal(cmsim_cmd_cluster(&cmd, &fx->sim, fx->cluster,
	                                   "restart", args, &err),
	                 0);
	json_object_put(args);
	assert_int_equal(json_object_array_length(cmsim_jget(cmd, "children")),
	                 1);
	assert_string_equal(cmsim_jstr(json_object_array_get_idx(
	                                       cmsim_jget(cmd, "children"), 0),
	                               "serviceName"),
	                    "yarn");
	cmsim_advance(&fx->sim, 30000);
	cmsim_tick(&fx->sim);
	assert_true(cmsim_jbool(cmd, "success", false));
	assert_string_equal(cmsim_service_staleness(svc(fx, "yarn")), "FRESH");
}

static void test_sim_core__abort_stops_a_command(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *cmd = NULL;

	assert_int_equal(cmsim_cmd_cluster(&cmd, &fx->sim, fx->cluster, "stop",
	                                   NULL, &err),
	                 0);
	cmsim_advance(&fx->sim, 30000);
	cmsim_tick(&fx->sim);
	/* The second step (spark_on_yarn is done, impala is stopping). */
	assert_string_equal(cmsim_jstr(svc(fx, "impala"), "serviceState"),
	                    "STOPPING");
	assert_int_equal(cmsim_cmd_abort(&fx->sim, cmd, &err), 0);
	/* The abort leaves impala as its processes are: still running. */
	assert_string_equal(cmsim_jstr(svc(fx, "impala"), "serviceState"),
	                    "STARTED");
	assert_false(cmsim_jbool(cmd, "success", true));
	assert_string_equal(cmsim_jstr(cmd, "resultMessage"),
	                    "Command aborted.");
	/* The last service (stopped first) is down, the first still up. */
	assert_string_equal(
	        cmsim_jstr(svc(fx, "spark_on_yarn"), "serviceState"),
	        "STOPPED");
	assert_string_equal(cmsim_jstr(svc(fx, "zookeeper"), "serviceState"),
	                    "STARTED");
	assert_int_equal(cmsim_cmd_abort(&fx->sim, cmd, &err), CMR_EINVAL);
}

static void add_fault(struct fx *fx, const char *spec)
{
	struct cmr_error err = CMR_ERROR_INIT;

	assert_int_equal(cmsim_faults_add(&fx->sim, spec, &err), 0);
}

static void test_sim_core__command_fail_fault_fails_a_child(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *cmd = NULL, *children, *last;

	add_fault(fx, "command-fail,command=Restart,service=hive,message=Role "
	              "failed to start, see logs");
	assert_int_equal(cmsim_cmd_service(&cmd, &fx->sim, fx->cluster,
	                                   svc(fx, "hive"),
	                                   CMSIM_CMD_SVC_RESTART, NULL, &err),
	                 0);
	cmsim_advance(&fx->sim, 30000);
	cmsim_tick(&fx->sim);
	assert_false(cmsim_jbool(cmd, "success", true));
	assert_string_equal(cmsim_jstr(cmd, "resultMessage"),
	                    "Failed to execute command Restart on service "
	                    "hive");
	children = cmsim_jget(cmd, "children");
	last = json_object_array_get_idx(
	        children, json_object_array_length(children) - 1);
	assert_false(cmsim_jbool(last, "success", true));
	assert_string_equal(cmsim_jstr(last, "resultMessage"),
	                    "Role failed to start, see logs");
	/* count defaults to 1: the next restart succeeds. */
	assert_int_equal(cmsim_cmd_service(&cmd, &fx->sim, fx->cluster,
	                                   svc(fx, "hive"),
	                                   CMSIM_CMD_SVC_RESTART, NULL, &err),
	                 0);
	cmsim_advance(&fx->sim, 30000);
	cmsim_tick(&fx->sim);
	assert_true(cmsim_jbool(cmd, "success", false));
}

static void test_sim_core__bad_health_fault_survives_restart(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *cmd = NULL;

	add_fault(fx, "bad-health,service=impala");
	assert_int_equal(cmsim_cmd_service(&cmd, &fx->sim, fx->cluster,
	                                   svc(fx, "impala"),
	                                   CMSIM_CMD_SVC_RESTART, NULL, &err),
	                 0);
	cmsim_advance(&fx->sim, 30000);
	cmsim_tick(&fx->sim);
	assert_true(cmsim_jbool(cmd, "success", false));
	assert_string_equal(cmsim_jstr(svc(fx, "impala"), "healthSummary"),
	                    "BAD");
	assert_non_null(cmsim_jget(svc(fx, "impala"), "healthChecks"));
}

static void test_sim_core__concurrent_write_fires_at_its_moment(void **state)
{
	struct fx *fx = *state;
	struct cmsim_scope sc;

	add_fault(fx, "concurrent-write,at=60,cluster=Cluster 1,service=hdfs,"
	              "name=dfs_replication,value=1");
	service_scope(fx, &sc, "hdfs");
	cmsim_advance(&fx->sim, 59000);
	cmsim_tick(&fx->sim);
	assert_string_equal(cmsim_scope_get(&sc, "dfs_replication"), "3");
	cmsim_advance(&fx->sim, 1000);
	cmsim_tick(&fx->sim);
	assert_string_equal(cmsim_scope_get(&sc, "dfs_replication"), "1");
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "STALE");
}

static void test_sim_core__fault_grammar_errors(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_fault *f = NULL;

	(void)state;
	assert_int_equal(cmsim_fault_parse(&f, "nonsense", 0, &err),
	                 CMR_EINVAL);
	assert_null(f);
	cmr_error_clear(&err);
	assert_int_equal(cmsim_fault_parse(&f, "http-error,rate=2", 0, &err),
	                 CMR_EINVAL);
	cmr_error_clear(&err);
	assert_int_equal(cmsim_fault_parse(&f, "slow", 0, &err), CMR_EINVAL);
	cmr_error_clear(&err);
	assert_int_equal(cmsim_fault_parse(&f, "drop,when=later", 0, &err),
	                 CMR_EINVAL);
	cmr_error_clear(&err);
	assert_int_equal(
	        cmsim_fault_parse(&f, "http-error,colour=red", 0, &err),
	        CMR_EINVAL);
	cmr_error_clear(&err);
	assert_int_equal(cmsim_fault_parse(&f,
	                                   "http-error,status=502,rate=0.5,"
	                                   "method=GET,path=/clusters",
	                                   0, &err),
	                 0);
	assert_int_equal(f->status, 502);
	assert_true(cmsim_fault_matches(f, "get", "/clusters/x"));
	assert_false(cmsim_fault_matches(f, "PUT", "/clusters/x"));
	assert_false(cmsim_fault_matches(f, "GET", "/cm/config"));
	cmsim_fault_free(f);
}

/* --- parcels -------------------------------------------------------------- */

static int pcmd(struct fx *fx, const char *product, const char *version,
                const char *command, struct cmr_error *err)
{
	return cmsim_parcel_command(&fx->sim, fx->cluster,
	                            cmsim_parcel(fx->cluster, product, version),
	                            command, err);
}

static void test_sim_core__parcel_appears_after_repo_refresh(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *cmd = NULL;

	assert_null(cmsim_parcel(fx->cluster, "SPARK3", SPARK3));
	assert_int_equal(cmsim_cmd_refresh_repos(&cmd, &fx->sim, &err), 0);
	cmsim_advance(&fx->sim, 5000);
	cmsim_tick(&fx->sim);
	assert_string_equal(
	        cmsim_jstr(cmsim_parcel(fx->cluster, "SPARK3", SPARK3),
	                   "stage"),
	        "AVAILABLE_REMOTELY");
}

static void test_sim_core__parcel_stages_and_progress(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *p, *st;

	cmsim_parcels_refresh_repos(&fx->sim);
	p = cmsim_parcel(fx->cluster, "SPARK3", SPARK3);
	assert_non_null(p);
	/* Illegal transitions are refused, nothing changes. */
	assert_int_equal(pcmd(fx, "SPARK3", SPARK3, "activate", &err),
	                 CMR_EINVAL);
	assert_string_equal(cmsim_jstr(p, "stage"), "AVAILABLE_REMOTELY");
	cmr_error_clear(&err);
	assert_int_equal(pcmd(fx, "SPARK3", SPARK3, "cancelDownload", &err),
	                 CMR_EINVAL);
	cmr_error_clear(&err);
	assert_int_equal(pcmd(fx, "SPARK3", SPARK3, "startDownload", &err), 0);
	assert_string_equal(cmsim_jstr(p, "stage"), "DOWNLOADING");
	cmsim_advance(&fx->sim, 5000);
	cmsim_tick(&fx->sim);
	st = cmsim_jget(p, "state");
	assert_int_equal(cmsim_jint(st, "totalProgress", 0), 2000000000);
	assert_int_equal(cmsim_jint(st, "progress", 0), 500000000);
	cmsim_advance(&fx->sim, 15000);
	cmsim_tick(&fx->sim);
	assert_string_equal(cmsim_jstr(p, "stage"), "DOWNLOADED");
	assert_int_equal(pcmd(fx, "SPARK3", SPARK3, "startDistribution", &err),
	                 0);
	cmsim_advance(&fx->sim, 10000);
	cmsim_tick(&fx->sim);
	st = cmsim_jget(p, "state");
	assert_string_equal(cmsim_jstr(p, "stage"), "DISTRIBUTING");
	assert_int_equal(cmsim_jint(st, "totalCount", 0), 4);
	assert_int_equal(cmsim_jint(st, "count", 0), 1);
	cmsim_advance(&fx->sim, 30000);
	cmsim_tick(&fx->sim);
	assert_string_equal(cmsim_jstr(p, "stage"), "DISTRIBUTED");
	assert_int_equal(pcmd(fx, "SPARK3", SPARK3, "activate", &err), 0);
	cmsim_advance(&fx->sim, 5000);
	cmsim_tick(&fx->sim);
	assert_string_equal(cmsim_jstr(p, "stage"), "ACTIVATED");
	/* Activation leaves running roles on old bits: they are stale. */
	assert_string_equal(cmsim_service_staleness(svc(fx, "hdfs")), "STALE");
}

static void test_sim_core__activation_replaces_active_version(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;

	assert_int_equal(pcmd(fx, "CDH", CDH_OLD, "activate", &err), 0);
	assert_string_equal(
	        cmsim_jstr(cmsim_parcel(fx->cluster, "CDH", CDH_NEW), "stage"),
	        "ACTIVATED");
	cmsim_advance(&fx->sim, 5000);
	cmsim_tick(&fx->sim);
	assert_string_equal(
	        cmsim_jstr(cmsim_parcel(fx->cluster, "CDH", CDH_OLD), "stage"),
	        "ACTIVATED");
	assert_string_equal(
	        cmsim_jstr(cmsim_parcel(fx->cluster, "CDH", CDH_NEW), "stage"),
	        "DISTRIBUTED");
	assert_string_equal(cmsim_jstr(fx->cluster, "fullVersion"), "7.1.8");
}

static void test_sim_core__parcel_stall_fault_reports_errors(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *p, *errors;

	add_fault(fx, "parcel-stall,product=SPARK3,message=Hash mismatch");
	cmsim_parcels_refresh_repos(&fx->sim);
	p = cmsim_parcel(fx->cluster, "SPARK3", SPARK3);
	assert_int_equal(pcmd(fx, "SPARK3", SPARK3, "startDownload", &err), 0);
	cmsim_advance(&fx->sim, 3600000);
	cmsim_tick(&fx->sim);
	assert_string_equal(cmsim_jstr(p, "stage"), "DOWNLOADING");
	errors = cmsim_jget(cmsim_jget(p, "state"), "errors");
	assert_int_equal(json_object_array_length(errors), 1);
	assert_string_equal(
	        json_object_get_string(json_object_array_get_idx(errors, 0)),
	        "Hash mismatch");
}

/* --- state file ----------------------------------------------------------- */

static void test_sim_core__state_file_round_trip(void **state)
{
	struct fx *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim_scope sc;
	struct json_object *cmd = NULL;
	struct fx again;
	char path[] = "/tmp/cmsim-state-XXXXXX";
	int fd = mkstemp(path);
	int64_t id;

	assert_true(fd >= 0);
	close(fd);
	fx->sim.state_file = strdup(path);
	service_scope(fx, &sc, "hdfs");
	cmsim_config_set(&fx->sim, &sc, "dfs_replication", "2");
	assert_int_equal(cmsim_cmd_service(&cmd, &fx->sim, fx->cluster,
	                                   svc(fx, "hdfs"),
	                                   CMSIM_CMD_SVC_RESTART, NULL, &err),
	                 0);
	id = cmsim_jint(cmd, "id", -1);
	assert_int_equal(cmsim_state_save(&fx->sim, &err), 0);

	/* A new simulator resumes mid-command from the file. */
	memset(&again, 0, sizeof(again));
	assert_int_equal(cmsim_init(&again.sim, &err), 0);
	cmsim_set_time_scale(&again.sim, 0);
	assert_int_equal(cmsim_catalog_load(&again.sim.catalog, CATALOG, &err),
	                 0);
	assert_int_equal(cmsim_state_load(&again.sim, path, &err), 0);
	again.cluster = cmsim_cluster(&again.sim, "Cluster 1");
	cmd = cmsim_cmd_find(&again.sim, id);
	assert_non_null(cmd);
	assert_true(cmsim_jbool(cmd, "active", false));
	assert_string_equal(cmsim_service_staleness(svc(&again, "hdfs")),
	                    "STALE");
	cmsim_advance(&again.sim, 30000);
	cmsim_tick(&again.sim);
	assert_true(cmsim_jbool(cmd, "success", false));
	assert_string_equal(cmsim_service_staleness(svc(&again, "hdfs")),
	                    "FRESH");
	cmsim_release(&again.sim);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_sim_core__seed_lists_active_parcel_once),
		T(test_sim_core__seed_starts_everything_fresh),
		T(test_sim_core__seed_secrets_replaced_unless_kept),
		T(test_sim_core__malformed_seeds_are_errors),
		T(test_sim_core__old_style_seed_loads),
		T(test_sim_core__config_put_merges_and_resets),
		T(test_sim_core__config_put_unknown_name_changes_nothing),
		T(test_sim_core__config_put_rejects_bad_values),
		T(test_sim_core__exact_types_are_strict),
		T(test_sim_core__exact_enums_need_a_valid_value),
		T(test_sim_core__mgmt_roles_take_common_parameters),
		T(test_sim_core__service_setting_makes_all_roles_stale),
		T(test_sim_core__same_value_is_no_change),
		T(test_sim_core__group_setting_reaches_only_its_roles),
		T(test_sim_core__refreshable_setting_is_stale_refreshable),
		T(test_sim_core__gateway_setting_makes_client_config_stale),
		T(test_sim_core__restart_takes_time_and_clears_staleness),
		T(test_sim_core__cluster_restart_only_stale),
		T(test_sim_core__abort_stops_a_command),
		T(test_sim_core__command_fail_fault_fails_a_child),
		T(test_sim_core__bad_health_fault_survives_restart),
		T(test_sim_core__concurrent_write_fires_at_its_moment),
		T(test_sim_core__fault_grammar_errors),
		T(test_sim_core__parcel_appears_after_repo_refresh),
		T(test_sim_core__parcel_stages_and_progress),
		T(test_sim_core__activation_replaces_active_version),
		T(test_sim_core__parcel_stall_fault_reports_errors),
		T(test_sim_core__state_file_round_trip),
#undef T
	};

	return cmocka_run_group_tests_name("sim_core", tests, NULL, NULL);
}
