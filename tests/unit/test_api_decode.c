/*
 * test_api_decode.c -- the pure half of lib/api: request targets, the
 * decoders (on real CM answers and on hand-made v45-shaped ones) and the
 * choice of the scopes that need a view=full read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/client.h"
#include "cmr/model.h"
#include "cmr/params.h"

#include "support.h"

struct fixture {
	struct cmr_state *live;
	struct cmr_params *params;
	struct cmr_buf buf;
	struct cmr_error err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	cmr_error_clear(&fx->err);
	assert_cmr_ok(cmr_state_new(&fx->live, CMR_STATE_LIVE, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_params_new(&fx->params, &fx->err), &fx->err);
	cmr_buf_init(&fx->buf, 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cmr_state_free(fx->live);
	cmr_params_free(fx->params);
	cmr_buf_release(&fx->buf);
	free(fx);
	return 0;
}

/* A fixture file's text, freed by the caller with cmr_free. */
static char *fixture_text(const char *path, size_t *len)
{
	return cmr_test_read_file(path, len);
}

static void decode_deployment_file(struct fixture *fx,
                                   const struct cmr_state *only)
{
	size_t len;
	char *text = fixture_text("api/deployment.json", &len);

	assert_cmr_ok(cmr_api_decode_deployment(fx->live, only, "deployment",
	                                        text, len, &fx->err),
	              &fx->err);
	cmr_free(text);
}

static const char *value_of(const struct cmr_config *cfg, const char *name)
{
	const struct cmr_config_entry *e = cmr_config_find(cfg, name);

	return e != NULL ? e->value.text : NULL;
}

/* ======================================================================
 * Request targets
 */

static void test_api_decode__builds_paths(void **state)
{
	struct fixture *fx = *state;
	struct cmr_scope s = { CMR_SCOPE_GROUP, "Cluster 1", "hdfs",
		               "hdfs-DATANODE-BASE" };

	assert_cmr_ok(cmr_api_build_version(&fx->buf), &fx->err);
	assert_string_equal(fx->buf.ptr, "/api/version");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_cm_version(&fx->buf, 45), &fx->err);
	assert_string_equal(fx->buf.ptr, "/api/v45/cm/version");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_deployment(&fx->buf, 45), &fx->err);
	assert_string_equal(fx->buf.ptr,
	                    "/api/v45/cm/deployment?view=export_redacted");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_cluster(&fx->buf, 45, "Compute 1"),
	              &fx->err);
	assert_string_equal(fx->buf.ptr, "/api/v45/clusters/Compute%201");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_services(&fx->buf, 41, "Cluster 1"),
	              &fx->err);
	assert_string_equal(fx->buf.ptr,
	                    "/api/v41/clusters/Cluster%201/services");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_parcels(&fx->buf, 45, "a/b"), &fx->err);
	assert_string_equal(fx->buf.ptr,
	                    "/api/v45/clusters/a%2Fb/parcels?view=full");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_tags(&fx->buf, 45, "Cluster 1", 1000, 0),
	              &fx->err);
	assert_string_equal(
	        fx->buf.ptr,
	        "/api/v45/clusters/Cluster%201/tags?limit=1000&offset=0");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_config(&fx->buf, 45, &s, "full"), &fx->err);
	assert_string_equal(
	        fx->buf.ptr,
	        "/api/v45/clusters/Cluster%201/services/hdfs/roleConfigGroups/hdfs-DATANODE-BASE/config?view=full");
	cmr_buf_reset(&fx->buf);
	s.kind = CMR_SCOPE_SERVICE;
	assert_cmr_ok(cmr_api_build_config(&fx->buf, 45, &s, NULL), &fx->err);
	assert_string_equal(
	        fx->buf.ptr,
	        "/api/v45/clusters/Cluster%201/services/hdfs/config");
	cmr_buf_reset(&fx->buf);
	s.kind = CMR_SCOPE_CM;
	assert_cmr_ok(cmr_api_build_config(&fx->buf, 45, &s, "full"), &fx->err);
	assert_string_equal(fx->buf.ptr, "/api/v45/cm/config?view=full");
	cmr_buf_reset(&fx->buf);
	s.kind = CMR_SCOPE_MGMT;
	assert_cmr_ok(cmr_api_build_config(&fx->buf, 45, &s, "full"), &fx->err);
	assert_string_equal(fx->buf.ptr,
	                    "/api/v45/cm/service/config?view=full");
	cmr_buf_reset(&fx->buf);
	s.kind = CMR_SCOPE_MGMT_GROUP;
	s.group = "mgmt-HOSTMONITOR-BASE";
	assert_cmr_ok(cmr_api_build_config(&fx->buf, 45, &s, "full"), &fx->err);
	assert_string_equal(
	        fx->buf.ptr,
	        "/api/v45/cm/service/roleConfigGroups/mgmt-HOSTMONITOR-BASE/config?view=full");
	cmr_buf_reset(&fx->buf);
	assert_cmr_ok(cmr_api_build_groups(&fx->buf, 45, "C", "my svc"),
	              &fx->err);
	assert_string_equal(
	        fx->buf.ptr,
	        "/api/v45/clusters/C/services/my%20svc/roleConfigGroups");
}

static void test_api_decode__scope_keys(void **state)
{
	struct fixture *fx = *state;
	struct cmr_scope s = { CMR_SCOPE_GROUP, "a/b", "hdfs", "g" };

	assert_cmr_ok(cmr_scope_key(&fx->buf, &s), &fx->err);
	assert_string_equal(fx->buf.ptr, "a%2Fb/hdfs/g");
	cmr_buf_reset(&fx->buf);
	s.kind = CMR_SCOPE_CM;
	assert_cmr_ok(cmr_scope_key(&fx->buf, &s), &fx->err);
	assert_string_equal(fx->buf.ptr, "cm");
	cmr_buf_reset(&fx->buf);
	s.kind = CMR_SCOPE_MGMT_GROUP;
	s.group = "mgmt-X-BASE";
	assert_cmr_ok(cmr_scope_key(&fx->buf, &s), &fx->err);
	assert_string_equal(fx->buf.ptr, "mgmt/mgmt-X-BASE");
}

/* ======================================================================
 * Version
 */

static void test_api_decode__version_real_body(void **state)
{
	struct fixture *fx = *state;
	unsigned v = 0;
	size_t len;
	char *text = fixture_text("cm-responses/api_version_v16.txt", &len);

	/* The real body is "v16\n": trimmed, then refused by the floor. */
	assert_cmr_ok(cmr_api_decode_version(&v, text, len, &fx->err),
	              &fx->err);
	assert_int_equal(v, 16);
	assert_cmr_fails_with(CMR_EINVAL, cmr_api_check_version(v, &fx->err),
	                      &fx->err);
	assert_non_null(strstr(fx->err.msg, "'v16'"));
	assert_non_null(strstr(fx->err.msg, "'v30'"));
	cmr_free(text);
}

static void test_api_decode__version_forms(void **state)
{
	struct fixture *fx = *state;
	unsigned v = 0;

	assert_cmr_ok(cmr_api_decode_version(&v, " \"v45\"\r\n", 8, &fx->err),
	              &fx->err);
	assert_int_equal(v, 45);
	assert_cmr_ok(cmr_api_decode_version(&v, "54", 2, &fx->err), &fx->err);
	assert_int_equal(v, 54);
	assert_cmr_ok(cmr_api_check_version(30, &fx->err), &fx->err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_version(&v, "<html>", 6, &fx->err),
	                      &fx->err);
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_version(&v, "v", 1, &fx->err),
	                      &fx->err);
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_version(&v, "v45x", 4, &fx->err),
	                      &fx->err);
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_version(&v, "", 0, &fx->err),
	                      &fx->err);
}

static void test_api_decode__cm_version_real(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *text = fixture_text("cm-responses/cm_version_v16.json", &len);

	assert_cmr_ok(cmr_api_decode_cm_version(fx->live, "cm/version", text,
	                                        len, &fx->err),
	              &fx->err);
	assert_string_equal(fx->live->manager.cm_version, "5.11.2");
	cmr_free(text);
}

/* ======================================================================
 * The deployment
 */

static void test_api_decode__deployment(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_cluster *c;
	const struct cmr_service *s, *m;
	const struct cmr_role_config_group *g;
	const struct cmr_role *r;
	const struct cmr_config_entry *e;

	decode_deployment_file(fx, NULL);
	assert_string_equal(fx->live->manager.cm_version, "7.11.3");
	assert_string_equal(
	        value_of(&fx->live->manager.config, "PARCEL_UPDATE_FREQ"),
	        "60");
	/* REDACTED without a sensitive flag is still sensitive. */
	e = cmr_config_find(&fx->live->manager.config, "KDC_ADMIN_PASSWORD");
	assert_non_null(e);
	assert_string_equal(e->value.text, "REDACTED");
	assert_true(e->sensitive);

	m = fx->live->manager.mgmt;
	assert_non_null(m);
	assert_string_equal(m->name, "mgmt");
	assert_string_equal(m->type, "MGMT");
	assert_string_equal(value_of(&m->config, "enable_alerts"), "false");
	g = cmr_service_find_group(m, "mgmt-HOSTMONITOR-BASE");
	assert_non_null(g);
	assert_string_equal(value_of(&g->config, "firehose_heapsize"),
	                    "1073741824");
	assert_int_equal(m->roles.len, 1);

	assert_int_equal(fx->live->clusters.len, 2);
	c = cmr_state_find_cluster(fx->live, "Cluster 1");
	assert_non_null(c);
	assert_string_equal(c->display_name, "Cluster 1");
	assert_string_equal(c->version, "CDH7");
	assert_string_equal(c->full_version, "7.1.9");
	assert_non_null(cmr_state_find_cluster(fx->live, "Other/Cluster"));

	/* CDH is listed twice (DISTRIBUTED, ACTIVATED): one parcel. */
	assert_int_equal(c->parcels.len, 2);
	assert_int_equal(cmr_cluster_find_parcel(c, "CDH",
	                                         "7.1.9-1.cdh7.1.9.p0.44702451")
	                         ->stage,
	                 CMR_PARCEL_ACTIVATED);
	assert_int_equal(cmr_cluster_find_product(c, "SPARK3")->stage,
	                 CMR_PARCEL_DISTRIBUTED);

	s = cmr_cluster_find_service(c, "hdfs");
	assert_non_null(s);
	assert_string_equal(s->type, "HDFS");
	assert_string_equal(s->display_name, "HDFS");
	assert_string_equal(value_of(&s->config, "dfs_replication"), "2");
	e = cmr_config_find(&s->config, "hdfs_sentry_password");
	assert_non_null(e);
	assert_true(e->sensitive);
	assert_string_equal(e->value.text, "REDACTED");
	assert_false(cmr_config_find(&s->config, "dfs_replication")->sensitive);
	/* No run-time fields in an export. */
	assert_int_equal(s->state, CMR_RUN_NONE);

	g = cmr_service_find_group(s, "hdfs-DATANODE-BASE");
	assert_non_null(g);
	assert_string_equal(g->role_type, "DATANODE");
	assert_string_equal(g->display_name, "DataNode Default Group");
	assert_true(g->base);
	assert_string_equal(value_of(&g->config, "dfs_data_dir_list"),
	                    "/data/1/dfs/dn,/data/2/dfs/dn");
	assert_int_equal(s->groups.len, 2);

	assert_int_equal(s->roles.len, 2);
	r = cmr_service_find_role(
	        s, "hdfs-DATANODE-836bffd2ca7e541e2fbf0fa44bc05645");
	assert_non_null(r);
	assert_string_equal(r->type, "DATANODE");
	assert_string_equal(r->group, "hdfs-DATANODE-BASE");
	assert_string_equal(r->host_id, "2f0b7c4e-host-1");
	assert_string_equal(r->hostname, "node1.example.com");
	assert_string_equal(value_of(&r->config, "dfs_datanode_du_reserved"),
	                    "1073741824");
	assert_non_null(cmr_cluster_find_service(c, "zookeeper"));
}

static void test_api_decode__deployment_keeps_only_named(void **state)
{
	struct fixture *fx = *state;
	struct cmr_state *only = NULL;
	struct cmr_cluster *c = NULL;

	assert_cmr_ok(cmr_state_new(&only, CMR_STATE_DESIRED, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_state_add_cluster(&c, only, "Cluster 1", &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_state_add_cluster(&c, only, "Missing", &fx->err),
	              &fx->err);
	decode_deployment_file(fx, only);
	assert_int_equal(fx->live->clusters.len, 1);
	assert_non_null(cmr_state_find_cluster(fx->live, "Cluster 1"));
	assert_null(cmr_state_find_cluster(fx->live, "Missing"));
	cmr_state_free(only);
}

/* Wrong types are refused with the field's path in the message. */
static void test_api_decode__deployment_wrong_type(void **state)
{
	struct fixture *fx = *state;
	const char *body =
	        "{\"clusters\":[{\"name\":\"c\",\"services\":[{\"name\":\"s\","
	        "\"config\":{\"items\":[{\"name\":\"k\",\"value\":3}]}}]}]}";

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_deployment(fx->live, NULL, "GET x",
	                                                body, strlen(body),
	                                                &fx->err),
	                      &fx->err);
	assert_string_equal(
	        fx->err.msg,
	        "GET x: clusters[0].services[0].config.items[0].value: expected a string, got int");
}

static void test_api_decode__missing_name(void **state)
{
	struct fixture *fx = *state;
	const char *body = "{\"clusters\":[{\"displayName\":\"c\"}]}";

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_deployment(fx->live, NULL, "GET x",
	                                                body, strlen(body),
	                                                &fx->err),
	                      &fx->err);
	assert_string_equal(fx->err.msg, "GET x: clusters[0].name: missing");
}

static void test_api_decode__malformed_json(void **state)
{
	struct fixture *fx = *state;
	static const char *bodies[] = {
		"{\"clusters\": [",   "{\"clusters\": [}", "",
		"<html>login</html>", "{} trailing",       "[1,2",
	};
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(bodies); i++) {
		cmr_error_clear(&fx->err);
		assert_cmr_fails_with(
		        CMR_EINVAL,
		        cmr_api_decode_deployment(fx->live, NULL, "GET d",
		                                  bodies[i], strlen(bodies[i]),
		                                  &fx->err),
		        &fx->err);
		assert_non_null(strstr(fx->err.msg, "GET d: not JSON"));
	}
	/* A JSON value of the wrong kind at the top. */
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_deployment(fx->live, NULL, "GET d",
	                                                "[]", 2, &fx->err),
	                      &fx->err);
	assert_string_equal(fx->err.msg,
	                    "GET d: expected an object, got array");
}

/* Every truncation of a real-shaped answer fails cleanly (ASan watches). */
static void test_api_decode__every_truncation(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	size_t n;
	size_t ok = 0;
	char *text = fixture_text("api/deployment.json", &len);

	for (n = 0; n <= len; n++) {
		int rc;

		cmr_error_clear(&fx->err);
		rc = cmr_api_decode_deployment(fx->live, NULL, "d", text, n,
		                               &fx->err);
		if (rc == 0)
			ok++;
		else
			assert_int_equal(rc, CMR_EINVAL);
	}
	/* only the whole text, with or without its final newline */
	assert_true(ok >= 1 && ok <= 2);
	cmr_free(text);
}

/* Unknown fields anywhere are ignored; absent optional ones are fine. */
static void test_api_decode__unknown_and_missing_fields(void **state)
{
	struct fixture *fx = *state;
	const char *body =
	        "{\"future\":{\"x\":[1,2]},\"clusters\":[{\"name\":\"c\","
	        "\"newField\":true,\"services\":[{\"name\":\"s\"}]}]}";
	const struct cmr_cluster *c;

	assert_cmr_ok(cmr_api_decode_deployment(fx->live, NULL, "GET d", body,
	                                        strlen(body), &fx->err),
	              &fx->err);
	c = cmr_state_find_cluster(fx->live, "c");
	assert_non_null(c);
	assert_null(c->display_name);
	assert_non_null(cmr_cluster_find_service(c, "s"));
	assert_null(fx->live->manager.mgmt);
}

/* ======================================================================
 * Services, parcels, tags, groups
 */

static struct cmr_cluster *cluster1(struct fixture *fx)
{
	struct cmr_cluster *c = NULL;

	assert_cmr_ok(
	        cmr_state_add_cluster(&c, fx->live, "Cluster 1", &fx->err),
	        &fx->err);
	return c;
}

static void test_api_decode__services(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c;
	const struct cmr_service *s;
	size_t len;
	char *text;

	decode_deployment_file(fx, NULL);
	c = cluster1(fx);
	text = fixture_text("api/services.json", &len);
	assert_cmr_ok(cmr_api_decode_services(fx->live, c, "services", text,
	                                      len, &fx->err),
	              &fx->err);
	cmr_free(text);
	s = cmr_cluster_find_service(c, "hdfs");
	assert_int_equal(s->state, CMR_RUN_STARTED);
	assert_int_equal(s->health, CMR_HEALTH_GOOD);
	assert_int_equal(s->config_staleness, CMR_STALE_STALE);
	assert_int_equal(s->client_config_staleness, CMR_STALE_FRESH);
	assert_false(s->maintenance_mode);
	/* merged, not replaced: the config from the deployment stays */
	assert_string_equal(value_of(&s->config, "dfs_replication"), "2");
	s = cmr_cluster_find_service(c, "zookeeper");
	assert_int_equal(s->state, CMR_RUN_STOPPED);
	assert_int_equal(s->health, CMR_HEALTH_DISABLED);
	assert_int_equal(s->client_config_staleness, CMR_STALE_REFRESHABLE);
	assert_true(s->maintenance_mode);
}

/* GET /clusters/C: a compute cluster is told from a base cluster; a
 * cluster from before v32 (no clusterType) is a base cluster. */
static void test_api_decode__cluster_type(void **state)
{
	struct fixture *fx = *state;
	static const char compute[] =
	        "{\"name\":\"Compute 1\",\"displayName\":\"Compute 1\","
	        "\"version\":\"CDH7\",\"fullVersion\":\"7.1.9\","
	        "\"clusterType\":\"COMPUTE_CLUSTER\",\"dataContextRefs\":"
	        "[{\"name\":\"dc1\"}],\"tags\":[]}";
	static const char base[] = "{\"name\":\"Cluster 1\","
	                           "\"clusterType\":\"BASE_CLUSTER\"}";
	static const char old[] = "{\"name\":\"Cluster 1\",\"version\":"
	                          "\"CDH5\"}";
	static const char refs[] = "{\"name\":\"C\",\"dataContextRefs\":"
	                           "[{\"name\":\"dc\"}]}";
	bool is = false;
	size_t len;
	char *text = fixture_text("api/cluster-compute.json", &len);

	assert_cmr_ok(cmr_api_decode_cluster_type(&is, "c", compute,
	                                          strlen(compute), &fx->err),
	              &fx->err);
	assert_true(is);
	is = false;
	assert_cmr_ok(
	        cmr_api_decode_cluster_type(&is, "c", text, len, &fx->err),
	        &fx->err);
	cmr_free(text);
	assert_true(is);
	/* no clusterType: data contexts make a compute cluster */
	is = false;
	assert_cmr_ok(cmr_api_decode_cluster_type(&is, "c", refs, strlen(refs),
	                                          &fx->err),
	              &fx->err);
	assert_true(is);
	assert_cmr_ok(cmr_api_decode_cluster_type(&is, "c", base, strlen(base),
	                                          &fx->err),
	              &fx->err);
	assert_false(is);
	assert_cmr_ok(cmr_api_decode_cluster_type(&is, "c", old, strlen(old),
	                                          &fx->err),
	              &fx->err);
	assert_false(is);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_cluster_type(&is, "c",
	                                                  "{\"clusterType\":7}",
	                                                  17, &fx->err),
	                      &fx->err);
	assert_non_null(strstr(fx->err.msg, "clusterType"));
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_api_decode_cluster_type(&is, "c", "[]", 2, &fx->err),
	        &fx->err);
}

/* A real GET of one service (v14), wrapped as a list, decodes. */
static void test_api_decode__services_real_v14(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c = cluster1(fx);
	struct cmr_buf list = CMR_BUF_INIT;
	const struct cmr_service *s;
	size_t len;
	char *text = fixture_text(
	        "cm-responses/service_get_full_started_v14.json", &len);

	cmr_buf_adds(&list, "{\"items\":[");
	cmr_buf_add(&list, text, len);
	cmr_buf_adds(&list, "]}");
	assert_cmr_ok(cmr_api_decode_services(fx->live, c, "services", list.ptr,
	                                      list.len, &fx->err),
	              &fx->err);
	s = cmr_cluster_find_service(c, "hive");
	assert_non_null(s);
	assert_string_equal(s->type, "HIVE");
	assert_string_equal(s->display_name, "Hive");
	assert_int_equal(s->state, CMR_RUN_STARTED);
	assert_int_equal(s->health, CMR_HEALTH_GOOD);
	assert_int_equal(s->config_staleness, CMR_STALE_FRESH);
	cmr_buf_release(&list);
	cmr_free(text);
}

static void test_api_decode__parcels(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c;
	const struct cmr_parcel *p;
	size_t len;
	char *text;

	decode_deployment_file(fx, NULL);
	c = cluster1(fx);
	text = fixture_text("api/parcels.json", &len);
	assert_cmr_ok(cmr_api_decode_parcels(fx->live, c, "parcels", text, len,
	                                     &fx->err),
	              &fx->err);
	cmr_free(text);
	assert_int_equal(c->parcels.len, 5);
	/* ACTIVATED first, then DISTRIBUTED: the higher stage stays */
	p = cmr_cluster_find_parcel(c, "CDH", "7.1.9-1.cdh7.1.9.p0.44702451");
	assert_int_equal(p->stage, CMR_PARCEL_ACTIVATED);
	/* the list replaces the deployment's stage */
	p = cmr_cluster_find_product(c, "SPARK3");
	assert_int_equal(p->stage, CMR_PARCEL_DISTRIBUTING);
	assert_int_equal(p->count, 1);
	assert_int_equal(p->total_count, 3);
	p = cmr_cluster_find_parcel(c, "CDH", "7.1.8-1.cdh7.1.8.p0.30990532");
	assert_int_equal(p->stage, CMR_PARCEL_DOWNLOADING);
	assert_int_equal(p->progress, 1048576);
	assert_true(p->total_progress == (int64_t)2147483648LL);
	assert_string_equal(p->error, "Hash verification failed");
	assert_int_equal(cmr_cluster_find_product(c, "FLINK")->stage,
	                 CMR_PARCEL_AVAILABLE_REMOTELY);
	/* an unknown stage is kept as UNKNOWN, not refused */
	assert_int_equal(cmr_cluster_find_product(c, "KUDU")->stage,
	                 CMR_PARCEL_STAGE_UNKNOWN);
}

/* Counters typed `number` by the v32 spec: integral doubles are read. */
static void test_api_decode__parcel_counters(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c = cluster1(fx);
	const char *ok =
	        "{\"items\":[{\"product\":\"P\",\"version\":\"1\","
	        "\"stage\":\"DOWNLOADING\",\"state\":{\"progress\":5.0}}]}";
	const char *bad = "{\"items\":[{\"product\":\"P\",\"version\":\"1\","
	                  "\"state\":{\"count\":5.5}}]}";

	assert_cmr_ok(cmr_api_decode_parcels(fx->live, c, "p", ok, strlen(ok),
	                                     &fx->err),
	              &fx->err);
	assert_int_equal(cmr_cluster_find_product(c, "P")->progress, 5);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_parcels(fx->live, c, "p", bad,
	                                             strlen(bad), &fx->err),
	                      &fx->err);
	assert_string_equal(
	        fx->err.msg,
	        "p: items[0].state.count: expected an integer, got double");
}

static void test_api_decode__tags(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c = cluster1(fx);
	size_t len, n = 0;
	char *text = fixture_text("api/tags.json", &len);

	assert_cmr_ok(cmr_api_decode_tags(&n, fx->live, c, "tags", text, len,
	                                  &fx->err),
	              &fx->err);
	cmr_free(text);
	assert_int_equal(n, 3);
	assert_int_equal(c->tags.len, 3);
	assert_string_equal(
	        value_of(&c->tags, "cmrecon.secret.0123456789abcdef"),
	        "hmac-sha256:q83vEjRWeJA=");
	assert_string_equal(value_of(&c->tags, "_cldr_cm_ek"), "");
	/* not an array nor {"items": [...]} */
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_decode_tags(&n, fx->live, c, "tags",
	                                          "\"x\"", 3, &fx->err),
	                      &fx->err);
	assert_string_equal(fx->err.msg, "tags: expected an array, got string");
}

static void test_api_decode__groups(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c = cluster1(fx);
	struct cmr_service *s = NULL;
	const struct cmr_role_config_group *g;
	size_t len;
	char *text = fixture_text("api/groups.json", &len);

	assert_cmr_ok(
	        cmr_cluster_add_service(&s, fx->live, c, "hdfs", &fx->err),
	        &fx->err);
	assert_cmr_ok(cmr_api_decode_groups(fx->live, s, "groups", text, len,
	                                    &fx->err),
	              &fx->err);
	cmr_free(text);
	assert_int_equal(s->groups.len, 2);
	g = cmr_service_find_group(s, "hdfs-DATANODE-1");
	assert_false(g->base);
	assert_string_equal(g->role_type, "DATANODE");
	g = cmr_service_find_group(s, "hdfs-DATANODE-BASE");
	assert_true(g->base);
	assert_string_equal(value_of(&g->config, "dfs_data_dir_list"),
	                    "/data/1/dfs/dn,/data/2/dfs/dn");
}

/* ======================================================================
 * Config lists and view=full
 */

static void test_api_decode__config_summary_real(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *text =
	        fixture_text("cm-responses/cm_config_summary_v16.json", &len);

	assert_cmr_ok(cmr_api_decode_config(fx->live, &fx->live->manager.config,
	                                    NULL, NULL, "cm/config", text, len,
	                                    &fx->err),
	              &fx->err);
	cmr_free(text);
	assert_int_equal(fx->live->manager.config.len, 7);
	assert_string_equal(
	        value_of(&fx->live->manager.config, "SECURITY_REALM"),
	        "WGSEBC.COM");
}

static void test_api_decode__config_full_real(void **state)
{
	struct fixture *fx = *state;
	struct cmr_service *s = NULL;
	const struct cmr_scope_params *sc;
	const struct cmr_param *p;
	size_t len;
	char *text = fixture_text(
	        "cm-responses/hive_service_config_view_full_v1.json", &len);

	assert_cmr_ok(cmr_cluster_add_service(&s, fx->live, cluster1(fx),
	                                      "hive", &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_api_decode_config(fx->live, &s->config, fx->params,
	                                    "Cluster 1/hive", "config", text,
	                                    len, &fx->err),
	              &fx->err);
	cmr_free(text);
	sc = cmr_params_find_scope(fx->params, "Cluster 1/hive");
	assert_non_null(sc);
	/* service-wide items only; roleTypeConfigs (API v1-v2) ignored */
	assert_int_equal(sc->params.len, 127);
	p = cmr_scope_find_param(sc, "hive_metastore_database_host");
	assert_non_null(p);
	assert_string_equal(p->default_value, "localhost");
	assert_string_equal(p->display_name, "Hive Metastore Database Host");
	assert_null(p->related_name); /* "" in the answer */
	assert_int_equal(p->validation, CMR_VALIDATION_OK);
	assert_null(cmr_scope_find_param(sc, "client_config_priority"));
	/* the values set (6 in this answer) land in the live config */
	assert_int_equal(s->config.len, 6);
	assert_string_equal(
	        value_of(&s->config, "hive_metastore_database_host"),
	        "ip-172-31-57-21.ec2.internal");
}

static void test_api_decode__config_full(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_scope_params *sc;
	const struct cmr_param *p;
	size_t len;
	char *text = fixture_text("api/hdfs_config_full.json", &len);

	assert_cmr_ok(cmr_api_decode_config(fx->live, NULL, fx->params, "c/s",
	                                    "config", text, len, &fx->err),
	              &fx->err);
	cmr_free(text);
	sc = cmr_params_find_scope(fx->params, "c/s");
	assert_int_equal(sc->params.len, 4);
	p = cmr_scope_find_param(sc, "dfs_umaskmode");
	assert_string_equal(p->default_value, "022");
	assert_string_equal(p->related_name, "fs.permissions.umask-mode");
	assert_int_equal(p->validation, CMR_VALIDATION_WARNING);
	assert_string_equal(p->validation_message,
	                    "Umask 022 lets every user read new files.");
	p = cmr_scope_find_param(sc, "hdfs_sentry_password");
	assert_true(p->sensitive);
	assert_null(p->default_value);
	p = cmr_scope_find_param(sc, "zookeeper_service");
	assert_true(p->required);
	assert_int_equal(p->validation, CMR_VALIDATION_ERROR);
	/* an empty list still records that the scope was read */
	assert_cmr_ok(cmr_api_decode_config(fx->live, NULL, fx->params, "e",
	                                    "config", "{}", 2, &fx->err),
	              &fx->err);
	assert_non_null(cmr_params_find_scope(fx->params, "e"));
}

static void test_api_decode__config_wrong_type(void **state)
{
	struct fixture *fx = *state;
	const char *body = "{\"items\":[{\"name\":\"a\"},{\"name\":\"b\","
	                   "\"sensitive\":\"yes\"}]}";

	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_api_decode_config(fx->live, &fx->live->manager.config,
	                              fx->params, "cm", "GET c", body,
	                              strlen(body), &fx->err),
	        &fx->err);
	assert_string_equal(
	        fx->err.msg,
	        "GET c: items[1].sensitive: expected a boolean, got string");
}

/* ======================================================================
 * Errors
 */

static void test_api_decode__error_bodies(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *text = fixture_text("api/error_404_cluster.json", &len);

	assert_int_equal(
	        cmr_api_decode_error(&fx->err, 404, "GET /x", text, len),
	        CMR_EAPI);
	assert_int_equal(fx->err.code, CMR_EAPI);
	assert_int_equal(fx->err.http_status, 404);
	assert_string_equal(fx->err.msg,
	                    "GET /x: HTTP 404: Cluster 'Nope' not found.");
	cmr_free(text);

	cmr_error_clear(&fx->err);
	text = fixture_text("api/error_403.json", &len);
	cmr_api_decode_error(&fx->err, 403, "GET /d", text, len);
	assert_int_equal(fx->err.http_status, 403);
	assert_non_null(strstr(fx->err.msg, "GET /d: HTTP 403: Access denied"));
	assert_non_null(strstr(fx->err.msg, "(org.springframework"));
	cmr_free(text);

	cmr_error_clear(&fx->err);
	cmr_api_decode_error(&fx->err, 502, "GET /x",
	                     "<html>Bad gateway</html>\nmore", 30);
	assert_string_equal(fx->err.msg,
	                    "GET /x: HTTP 502: <html>Bad gateway</html>");
	cmr_error_clear(&fx->err);
	cmr_api_decode_error(&fx->err, 500, "GET /x", NULL, 0);
	assert_string_equal(fx->err.msg, "GET /x: HTTP 500");
}

/* ======================================================================
 * Which scopes need view=full
 */

struct scopes_fx {
	struct cmr_state *desired;
	struct cmr_cluster *dc;
	struct cmr_service *ds;
	struct cmr_role_config_group *dg;
};

static void desired_for_scopes(struct fixture *fx, struct scopes_fx *d)
{
	struct cmr_cluster *c = NULL;
	struct cmr_service *m = NULL, *s = NULL;
	struct cmr_role_config_group *g = NULL;

	assert_cmr_ok(cmr_state_new(&d->desired, CMR_STATE_DESIRED, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_state_add_cluster(&d->dc, d->desired, "Cluster 1",
	                                    &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_cluster_add_service(&d->ds, d->desired, d->dc, "hdfs",
	                                      &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_service_add_group(&d->dg, d->desired, d->ds,
	                                    "hdfs-DATANODE-BASE", &fx->err),
	              &fx->err);
	/* equal to live: no read needed for these */
	assert_cmr_ok(cmr_config_set_text(NULL, d->desired, &d->ds->config,
	                                  "dfs_replication", "3", false,
	                                  &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, d->desired, &d->dg->config,
	                                  "dfs_data_dir_list", "/d", false,
	                                  &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(
	                      NULL, d->desired, &d->desired->manager.config,
	                      "PARCEL_UPDATE_FREQ", "1", false, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_manager_add_mgmt(&m, d->desired, NULL, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, d->desired, &m->config,
	                                  "enable_alerts", "true", false,
	                                  &fx->err),
	              &fx->err);
	/* scopes CM does not have: never read */
	assert_cmr_ok(cmr_cluster_add_service(&s, d->desired, d->dc, "nosvc",
	                                      &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, d->desired, &s->config, "x",
	                                  "1", false, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_service_add_group(&g, d->desired, d->ds, "nogroup",
	                                    &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, d->desired, &g->config, "x",
	                                  "1", false, &fx->err),
	              &fx->err);
	assert_cmr_ok(
	        cmr_state_add_cluster(&c, d->desired, "Missing", &fx->err),
	        &fx->err);
	assert_cmr_ok(
	        cmr_cluster_add_service(&s, d->desired, c, "hdfs", &fx->err),
	        &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, d->desired, &s->config, "x",
	                                  "1", false, &fx->err),
	              &fx->err);
}

static void test_api_decode__full_scopes_none_needed(void **state)
{
	struct fixture *fx = *state;
	struct cmr_api_scope_list l = { 0 };
	struct scopes_fx d;

	decode_deployment_file(fx, NULL);
	desired_for_scopes(fx, &d);
	assert_cmr_ok(cmr_api_full_scopes(&l, d.desired, fx->live, 0, &fx->err),
	              &fx->err);
	assert_int_equal(l.len, 0);
	/* ALL_PARAMS: every existing scope with keys */
	assert_cmr_ok(cmr_api_full_scopes(&l, d.desired, fx->live,
	                                  CMR_READ_ALL_PARAMS, &fx->err),
	              &fx->err);
	assert_int_equal(l.len, 4);
	assert_int_equal(l.items[0].kind, CMR_SCOPE_CM);
	assert_int_equal(l.items[1].kind, CMR_SCOPE_MGMT);
	assert_int_equal(l.items[2].kind, CMR_SCOPE_SERVICE);
	assert_string_equal(l.items[2].service, "hdfs");
	assert_int_equal(l.items[3].kind, CMR_SCOPE_GROUP);
	assert_string_equal(l.items[3].group, "hdfs-DATANODE-BASE");
	cmr_api_scope_list_release(&l);
	cmr_state_free(d.desired);
}

static void test_api_decode__full_scopes_unset_keys(void **state)
{
	struct fixture *fx = *state;
	struct cmr_api_scope_list l = { 0 };
	struct cmr_value reset = { CMR_VALUE_RESET, NULL };
	struct scopes_fx d;

	decode_deployment_file(fx, NULL);
	desired_for_scopes(fx, &d);
	/* a key live leaves unset, and a reset of a key live leaves unset */
	assert_cmr_ok(cmr_config_set_text(NULL, d.desired, &d.dg->config,
	                                  "process_auto_restart", "true", false,
	                                  &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set(NULL, d.desired, &d.ds->config,
	                             "dfs_umaskmode", &reset, false, NULL,
	                             &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_api_full_scopes(&l, d.desired, fx->live, 0, &fx->err),
	              &fx->err);
	assert_int_equal(l.len, 2);
	assert_int_equal(l.items[0].kind, CMR_SCOPE_SERVICE);
	assert_string_equal(l.items[0].cluster, "Cluster 1");
	assert_int_equal(l.items[1].kind, CMR_SCOPE_GROUP);
	cmr_api_scope_list_release(&l);
	/* NO_PARAMS: nothing */
	assert_cmr_ok(cmr_api_full_scopes(&l, d.desired, fx->live,
	                                  CMR_READ_NO_PARAMS, &fx->err),
	              &fx->err);
	assert_int_equal(l.len, 0);
	cmr_api_scope_list_release(&l);
	cmr_state_free(d.desired);
}

static void test_api_decode__fallback_scopes(void **state)
{
	struct fixture *fx = *state;
	struct cmr_api_scope_list l = { 0 };
	struct cmr_service *s = NULL;
	struct cmr_cluster *c = cluster1(fx);
	struct scopes_fx d;

	/* live as known after the main wave of a 403: the service list */
	assert_cmr_ok(
	        cmr_cluster_add_service(&s, fx->live, c, "hdfs", &fx->err),
	        &fx->err);
	desired_for_scopes(fx, &d);
	assert_cmr_ok(
	        cmr_api_fallback_scopes(&l, d.desired, fx->live, &fx->err),
	        &fx->err);
	/* cm, mgmt, hdfs, hdfs-DATANODE-BASE, nogroup (nosvc and Missing
	 * are known to be absent) */
	assert_int_equal(l.len, 5);
	assert_int_equal(l.items[0].kind, CMR_SCOPE_CM);
	assert_int_equal(l.items[1].kind, CMR_SCOPE_MGMT);
	assert_int_equal(l.items[2].kind, CMR_SCOPE_SERVICE);
	assert_int_equal(l.items[3].kind, CMR_SCOPE_GROUP);
	assert_string_equal(l.items[3].group, "hdfs-DATANODE-BASE");
	assert_string_equal(l.items[4].group, "nogroup");
	cmr_api_scope_list_release(&l);
	cmr_state_free(d.desired);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_api_decode__builds_paths),
		T(test_api_decode__scope_keys),
		T(test_api_decode__version_real_body),
		T(test_api_decode__cluster_type),
		T(test_api_decode__version_forms),
		T(test_api_decode__cm_version_real),
		T(test_api_decode__deployment),
		T(test_api_decode__deployment_keeps_only_named),
		T(test_api_decode__deployment_wrong_type),
		T(test_api_decode__missing_name),
		T(test_api_decode__malformed_json),
		T(test_api_decode__every_truncation),
		T(test_api_decode__unknown_and_missing_fields),
		T(test_api_decode__services),
		T(test_api_decode__services_real_v14),
		T(test_api_decode__parcels),
		T(test_api_decode__parcel_counters),
		T(test_api_decode__tags),
		T(test_api_decode__groups),
		T(test_api_decode__config_summary_real),
		T(test_api_decode__config_full_real),
		T(test_api_decode__config_full),
		T(test_api_decode__config_wrong_type),
		T(test_api_decode__error_bodies),
		T(test_api_decode__full_scopes_none_needed),
		T(test_api_decode__full_scopes_unset_keys),
		T(test_api_decode__fallback_scopes),
#undef T
	};

	return cmocka_run_group_tests_name("api_decode", tests, NULL, NULL);
}
