/*
 * test_api_read.c -- the reader of live state against the scripted fake
 * transport: the exact requests of each wave, the number of waves, the 403
 * fallback, clusters CM does not have, and failures that must come back as
 * clear errors without leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/client.h"
#include "cmr/model.h"
#include "cmr/params.h"

#include "fake_transport.h"
#include "support.h"

#define V  "/api/v45"
#define C1 "/api/v45/clusters/Cluster%201"

struct fixture {
	struct cmr_fake_transport *f;
	struct cmr_client *c;
	struct cmr_state *desired;
	struct cmr_service *hdfs;
	struct cmr_role_config_group *dn;
	struct cmr_state *live;
	struct cmr_params *params;
	struct cmr_error err;
};

static void make_client(struct fixture *fx, const char *version)
{
	struct cmr_client_options o = { version, NULL };

	cmr_client_free(fx->c);
	fx->c = NULL;
	assert_cmr_ok(cmr_client_new(&fx->c, cmr_fake_transport_base(fx->f), &o,
	                             &fx->err),
	              &fx->err);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct cmr_cluster *c = NULL;

	assert_non_null(fx);
	cmr_error_clear(&fx->err);
	fx->f = cmr_fake_transport_new();
	make_client(fx, "v45");
	assert_cmr_ok(cmr_state_new(&fx->desired, CMR_STATE_DESIRED, &fx->err),
	              &fx->err);
	assert_cmr_ok(
	        cmr_state_add_cluster(&c, fx->desired, "Cluster 1", &fx->err),
	        &fx->err);
	assert_cmr_ok(cmr_cluster_add_service(&fx->hdfs, fx->desired, c, "hdfs",
	                                      &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_service_add_group(&fx->dn, fx->desired, fx->hdfs,
	                                    "hdfs-DATANODE-BASE", &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, fx->desired, &fx->hdfs->config,
	                                  "dfs_replication", "3", false,
	                                  &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, fx->desired, &fx->dn->config,
	                                  "dfs_data_dir_list", "/data/1", false,
	                                  &fx->err),
	              &fx->err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct cmr_error verr = CMR_ERROR_INIT;
	int rc = cmr_fake_transport_verify(fx->f, &verr);

	cmr_client_free(fx->c);
	cmr_fake_transport_free(fx->f);
	cmr_state_free(fx->desired);
	cmr_state_free(fx->live);
	cmr_params_free(fx->params);
	free(fx);
	assert_cmr_ok(rc, &verr);
	return 0;
}

/* The main wave for "Cluster 1", as CM 7 answers it. */
static void expect_main(struct fixture *fx, unsigned wave, long deploy_status,
                        const char *deploy_file)
{
	cmr_fake_wave(fx->f, wave);
	cmr_fake_expect_file(fx->f, "GET",
	                     V "/cm/deployment?view=export_redacted", NULL,
	                     deploy_status, deploy_file);
	cmr_fake_expect_file(fx->f, "GET", C1 "/services", NULL, 200,
	                     "api/services.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL,
	                     200, "api/tags.json");
}

static int read_live(struct fixture *fx, unsigned flags)
{
	struct cmr_read_options opt = { flags };

	return cmr_api_read_live(&fx->live, &fx->params, fx->c, fx->desired,
	                         &opt, &fx->err);
}

static void assert_request(const struct fixture *fx, size_t i, unsigned wave,
                           const char *url)
{
	const struct cmr_fake_request *r = cmr_fake_transport_request(fx->f, i);

	assert_non_null(r);
	assert_int_equal(r->wave, wave);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->url, url);
}

/* ======================================================================
 * The normal path
 */

/* Pinned version, every desired key set live: ONE wave of 4 requests. */
static void test_api_read__pinned_no_change_is_one_wave(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_read_report *rep;
	const struct cmr_cluster *c;
	const struct cmr_service *s;

	expect_main(fx, 1, 200, "api/deployment.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);

	assert_int_equal(cmr_fake_transport_waves(fx->f), 1);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 4);
	rep = cmr_client_last_read(fx->c);
	assert_int_equal(rep->waves, 1);
	assert_int_equal(rep->requests, 4);
	assert_int_equal(rep->api_version, 45);
	assert_false(rep->negotiated);
	assert_false(rep->fallback);
	assert_true(rep->tags_read);
	assert_int_equal(rep->full_scopes, 0);

	/* only the desired cluster; run-time fields merged onto config */
	assert_int_equal(fx->live->origin, CMR_STATE_LIVE);
	assert_int_equal(fx->live->clusters.len, 1);
	c = cmr_state_find_cluster(fx->live, "Cluster 1");
	s = cmr_cluster_find_service(c, "hdfs");
	assert_int_equal(s->state, CMR_RUN_STARTED);
	assert_int_equal(s->config_staleness, CMR_STALE_STALE);
	assert_string_equal(
	        cmr_config_find(&s->config, "dfs_replication")->value.text,
	        "2");
	assert_int_equal(c->tags.len, 3);
	assert_int_equal(cmr_cluster_find_product(c, "SPARK3")->stage,
	                 CMR_PARCEL_DISTRIBUTING);
	assert_string_equal(fx->live->manager.cm_version, "7.11.3");
	assert_int_equal(fx->params->scopes.len, 0);
}

/* Without a pinned version: GET /api/version first, alone. */
static void test_api_read__negotiated_is_two_waves(void **state)
{
	struct fixture *fx = *state;

	make_client(fx, NULL);
	cmr_fake_wave(fx->f, 1);
	cmr_fake_expect(fx->f, "GET", "/api/version", NULL, 200, "v45\n");
	expect_main(fx, 2, 200, "api/deployment.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 2);
	assert_request(fx, 0, 1, "/api/version");
	assert_int_equal(cmr_client_last_read(fx->c)->waves, 2);
	assert_true(cmr_client_last_read(fx->c)->negotiated);
	assert_int_equal(cmr_client_api_version(fx->c), 45);
	assert_false(cmr_client_version_pinned(fx->c));
}

/* Keys live leaves unset: a third wave of view=full, only for them. */
static void test_api_read__unset_keys_add_full_wave(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_scope_params *sc;

	make_client(fx, NULL);
	assert_cmr_ok(cmr_config_set_text(NULL, fx->desired, &fx->dn->config,
	                                  "process_auto_restart", "true", false,
	                                  &fx->err),
	              &fx->err);
	cmr_fake_wave(fx->f, 1);
	cmr_fake_expect(fx->f, "GET", "/api/version", NULL, 200, "v45");
	expect_main(fx, 2, 200, "api/deployment.json");
	cmr_fake_wave(fx->f, 3);
	cmr_fake_expect_file(
	        fx->f, "GET",
	        C1
	        "/services/hdfs/roleConfigGroups/hdfs-DATANODE-BASE/config?view=full",
	        NULL, 200, "api/group_config_full.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 3);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 6);
	assert_int_equal(cmr_client_last_read(fx->c)->full_scopes, 1);
	sc = cmr_params_find_scope(fx->params,
	                           "Cluster 1/hdfs/hdfs-DATANODE-BASE");
	assert_non_null(sc);
	assert_string_equal(
	        cmr_scope_find_param(sc, "process_auto_restart")->default_value,
	        "false");
	/* view=full does not change the live values (the export's) */
	assert_null(cmr_config_find(
	        &cmr_service_find_group(
	                 cmr_cluster_find_service(
	                         cmr_state_find_cluster(fx->live, "Cluster 1"),
	                         "hdfs"),
	                 "hdfs-DATANODE-BASE")
	                 ->config,
	        "process_auto_restart"));
	/* a second read on the same client does not negotiate again */
	cmr_state_free(fx->live);
	cmr_params_free(fx->params);
	fx->live = NULL;
	fx->params = NULL;
	expect_main(fx, 4, 200, "api/deployment.json");
	assert_cmr_ok(read_live(fx, CMR_READ_NO_PARAMS), &fx->err);
	assert_int_equal(cmr_client_last_read(fx->c)->waves, 1);
}

/* Every request count is the same with 2 or 200 roles: nothing per role.
 * (The deployment fixture has roles; none of them is requested.) */
static void test_api_read__all_params_and_mgmt(void **state)
{
	struct fixture *fx = *state;
	struct cmr_service *m = NULL;

	assert_cmr_ok(cmr_manager_add_mgmt(&m, fx->desired, NULL, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, fx->desired, &m->config,
	                                  "enable_alerts", "true", false,
	                                  &fx->err),
	              &fx->err);
	expect_main(fx, 1, 200, "api/deployment.json");
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect_file(fx->f, "GET", V "/cm/service/config?view=full",
	                     NULL, 200, "api/mgmt_config_full.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services/hdfs/config?view=full",
	                     NULL, 200, "api/hdfs_config_full.json");
	cmr_fake_expect_file(
	        fx->f, "GET",
	        C1
	        "/services/hdfs/roleConfigGroups/hdfs-DATANODE-BASE/config?view=full",
	        NULL, 200, "api/group_config_full.json");
	assert_cmr_ok(read_live(fx, CMR_READ_ALL_PARAMS), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 2);
	assert_non_null(cmr_params_find_scope(fx->params, "mgmt"));
	assert_non_null(cmr_params_find_scope(fx->params, "Cluster 1/hdfs"));
	assert_int_equal(fx->params->scopes.len, 3);
}

/*
 * A deployment with 400 roles on 200 hosts costs the same 4 requests as
 * one with 2: nothing is read per role or per host, and nothing but GET.
 */
static void test_api_read__requests_independent_of_roles(void **state)
{
	struct fixture *fx = *state;
	struct cmr_buf d = CMR_BUF_INIT;
	const struct cmr_service *s;
	size_t i;

	cmr_buf_adds(&d, "{\"clusters\":[{\"name\":\"Cluster 1\","
	                 "\"services\":[{\"name\":\"hdfs\",\"type\":\"HDFS\","
	                 "\"roles\":[");
	for (i = 0; i < 400; i++)
		cmr_buf_addf(&d,
		             "%s{\"name\":\"hdfs-DATANODE-%03zu\","
		             "\"type\":\"DATANODE\",\"hostRef\":{\"hostId\":"
		             "\"h%03zu\"},\"roleConfigGroupRef\":{"
		             "\"roleConfigGroupName\":\"hdfs-DATANODE-BASE\"}}",
		             i ? "," : "", i, i / 2);
	cmr_buf_adds(&d, "]}]}]}");
	cmr_fake_expect(fx->f, "GET", V "/cm/deployment?view=export_redacted",
	                NULL, 200, d.ptr);
	cmr_fake_expect_file(fx->f, "GET", C1 "/services", NULL, 200,
	                     "api/services.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL,
	                     200, "api/tags.json");
	/* the desired keys are unset in this deployment: one full wave */
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect_file(fx->f, "GET", C1 "/services/hdfs/config?view=full",
	                     NULL, 200, "api/hdfs_config_full.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	s = cmr_cluster_find_service(
	        cmr_state_find_cluster(fx->live, "Cluster 1"), "hdfs");
	assert_int_equal(s->roles.len, 400);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 5);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 2);
	for (i = 0; i < cmr_fake_transport_requests(fx->f); i++)
		assert_string_equal(
		        cmr_fake_transport_request(fx->f, i)->method, "GET");
	cmr_buf_release(&d);
}

/* ======================================================================
 * Absent things, old versions
 */

static void test_api_read__missing_cluster_is_absent(void **state)
{
	struct fixture *fx = *state;
	struct cmr_cluster *c = NULL;

	assert_cmr_ok(cmr_state_add_cluster(&c, fx->desired, "Nope", &fx->err),
	              &fx->err);
	expect_main(fx, 1, 200, "api/deployment.json");
	cmr_fake_expect_file(fx->f, "GET", V "/clusters/Nope/services", NULL,
	                     404, "api/error_404_cluster.json");
	cmr_fake_expect_file(fx->f, "GET", V "/clusters/Nope/parcels?view=full",
	                     NULL, 404, "api/error_404_cluster.json");
	cmr_fake_expect_file(fx->f, "GET",
	                     V "/clusters/Nope/tags?limit=1000&offset=0", NULL,
	                     404, "api/error_404_cluster.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 1);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 7);
	assert_null(cmr_state_find_cluster(fx->live, "Nope"));
	assert_non_null(cmr_state_find_cluster(fx->live, "Cluster 1"));
}

static void test_api_read__missing_service_is_absent(void **state)
{
	struct fixture *fx = *state;
	struct cmr_service *s = NULL;
	struct cmr_cluster *c =
	        cmr_state_find_cluster(fx->desired, "Cluster 1");

	assert_cmr_ok(
	        cmr_cluster_add_service(&s, fx->desired, c, "kafka", &fx->err),
	        &fx->err);
	assert_cmr_ok(cmr_config_set_text(NULL, fx->desired, &s->config, "x",
	                                  "1", false, &fx->err),
	              &fx->err);
	expect_main(fx, 1, 200, "api/deployment.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 1);
	assert_null(cmr_cluster_find_service(
	        cmr_state_find_cluster(fx->live, "Cluster 1"), "kafka"));
}

/* Below v41 there are no tags: no tags request, and the report says so. */
static void test_api_read__no_tags_below_v41(void **state)
{
	struct fixture *fx = *state;

	make_client(fx, "v40");
	cmr_fake_expect_file(fx->f, "GET",
	                     "/api/v40/cm/deployment?view=export_redacted",
	                     NULL, 200, "api/deployment.json");
	cmr_fake_expect_file(fx->f, "GET",
	                     "/api/v40/clusters/Cluster%201/services", NULL,
	                     200, "api/services.json");
	cmr_fake_expect_file(fx->f, "GET",
	                     "/api/v40/clusters/Cluster%201/parcels?view=full",
	                     NULL, 200, "api/parcels.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 3);
	assert_false(cmr_client_last_read(fx->c)->tags_read);
	assert_int_equal(
	        cmr_state_find_cluster(fx->live, "Cluster 1")->tags.len, 0);
}

/* A full page of tags: the next page is read in one more wave. */
static void test_api_read__tags_paging(void **state)
{
	struct fixture *fx = *state;
	struct cmr_buf page = CMR_BUF_INIT;
	unsigned i;

	cmr_buf_addc(&page, '[');
	for (i = 0; i < CMR_API_TAGS_PAGE; i++)
		cmr_buf_addf(&page, "%s{\"name\":\"t%04u\",\"value\":\"v\"}",
		             i ? "," : "", i);
	cmr_buf_addc(&page, ']');
	cmr_fake_expect_file(fx->f, "GET",
	                     V "/cm/deployment?view=export_redacted", NULL, 200,
	                     "api/deployment.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services", NULL, 200,
	                     "api/services.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL, 200,
	                page.ptr);
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=1000",
	                     NULL, 200, "api/tags.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 2);
	assert_int_equal(
	        cmr_state_find_cluster(fx->live, "Cluster 1")->tags.len, 1003);
	cmr_buf_release(&page);
}

/* Export: every cluster of the deployment, no per-cluster reads. */
static void test_api_read__all_clusters_without_desired(void **state)
{
	struct fixture *fx = *state;
	struct cmr_read_options opt = { CMR_READ_ALL_CLUSTERS };

	cmr_fake_expect_file(fx->f, "GET",
	                     V "/cm/deployment?view=export_redacted", NULL, 200,
	                     "api/deployment.json");
	assert_cmr_ok(cmr_api_read_live(&fx->live, &fx->params, fx->c, NULL,
	                                &opt, &fx->err),
	              &fx->err);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 1);
	assert_int_equal(fx->live->clusters.len, 2);
	assert_non_null(cmr_state_find_cluster(fx->live, "Other/Cluster"));
}

/* ======================================================================
 * The 403 fallback
 */

static void test_api_read__fallback_on_403(void **state)
{
	struct fixture *fx = *state;
	struct cmr_service *m = NULL;
	struct cmr_role_config_group *g = NULL;
	const struct cmr_read_report *rep;
	const struct cmr_service *s;
	const struct cmr_role_config_group *lg;
	const struct cmr_cluster *c;

	assert_cmr_ok(cmr_manager_add_mgmt(&m, fx->desired, NULL, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_service_add_group(&g, fx->desired, m,
	                                    "mgmt-HOSTMONITOR-BASE", &fx->err),
	              &fx->err);
	/* a desired group CM does not have */
	assert_cmr_ok(cmr_service_add_group(&g, fx->desired, fx->hdfs,
	                                    "hdfs-DATANODE-9", &fx->err),
	              &fx->err);
	expect_main(fx, 1, 403, "api/error_403.json");
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect_file(fx->f, "GET", V "/cm/version", NULL, 200,
	                     "cm-responses/cm_version_v16.json");
	cmr_fake_expect_file(fx->f, "GET", V "/cm/config?view=full", NULL, 200,
	                     "api/cm_config_full.json");
	cmr_fake_expect_file(fx->f, "GET", V "/cm/service/config?view=full",
	                     NULL, 200, "api/mgmt_config_full.json");
	cmr_fake_expect_file(fx->f, "GET", V "/cm/service/roleConfigGroups",
	                     NULL, 200, "api/mgmt_groups.json");
	cmr_fake_expect_file(
	        fx->f, "GET",
	        V
	        "/cm/service/roleConfigGroups/mgmt-HOSTMONITOR-BASE/config?view=full",
	        NULL, 200, "api/group_config_full.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services/hdfs/config?view=full",
	                     NULL, 200, "api/hdfs_config_full.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services/hdfs/roleConfigGroups",
	                     NULL, 200, "api/groups.json");
	cmr_fake_expect_file(
	        fx->f, "GET",
	        C1
	        "/services/hdfs/roleConfigGroups/hdfs-DATANODE-BASE/config?view=full",
	        NULL, 200, "api/group_config_full.json");
	cmr_fake_expect_file(
	        fx->f, "GET",
	        C1
	        "/services/hdfs/roleConfigGroups/hdfs-DATANODE-9/config?view=full",
	        NULL, 404, "api/error_404_cluster.json");

	assert_cmr_ok(read_live(fx, 0), &fx->err);
	rep = cmr_client_last_read(fx->c);
	assert_true(rep->fallback);
	assert_int_equal(rep->waves, 2);
	assert_int_equal(rep->requests, 4 + 9);
	assert_int_equal(rep->full_scopes, 6);

	assert_string_equal(fx->live->manager.cm_version, "5.11.2");
	assert_true(
	        cmr_config_find(&fx->live->manager.config, "KDC_ADMIN_PASSWORD")
	                ->sensitive);
	assert_null(
	        cmr_config_find(&fx->live->manager.config,
	                        "PARCEL_DISTRIBUTE_RATE_LIMIT_KBS_PER_SECOND"));
	assert_non_null(fx->live->manager.mgmt);
	assert_non_null(cmr_service_find_group(fx->live->manager.mgmt,
	                                       "mgmt-HOSTMONITOR-BASE"));
	c = cmr_state_find_cluster(fx->live, "Cluster 1");
	assert_non_null(c);
	assert_string_equal(c->display_name, "Cluster 1");
	s = cmr_cluster_find_service(c, "hdfs");
	assert_string_equal(s->type, "HDFS");
	assert_int_equal(s->state, CMR_RUN_STARTED);
	assert_string_equal(
	        cmr_config_find(&s->config, "dfs_replication")->value.text,
	        "2");
	lg = cmr_service_find_group(s, "hdfs-DATANODE-1");
	assert_non_null(lg); /* from the group list */
	lg = cmr_service_find_group(s, "hdfs-DATANODE-BASE");
	assert_string_equal(lg->role_type, "DATANODE");
	assert_null(cmr_service_find_group(s, "hdfs-DATANODE-9"));
	assert_non_null(cmr_params_find_scope(fx->params, "cm"));
	assert_non_null(cmr_params_find_scope(
	        fx->params, "Cluster 1/hdfs/hdfs-DATANODE-BASE"));
	assert_null(cmr_params_find_scope(fx->params,
	                                  "Cluster 1/hdfs/hdfs-DATANODE-9"));
	assert_int_equal(c->tags.len, 3);
}

/* After a 403, a missing cluster and a missing management service are
 * absent, as on the normal path. */
static void test_api_read__fallback_absent(void **state)
{
	struct fixture *fx = *state;
	struct cmr_service *m = NULL;
	struct cmr_cluster *c = NULL;

	assert_cmr_ok(cmr_manager_add_mgmt(&m, fx->desired, NULL, &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_state_add_cluster(&c, fx->desired, "Nope", &fx->err),
	              &fx->err);
	expect_main(fx, 1, 403, "api/error_403.json");
	cmr_fake_expect(fx->f, "GET", V "/clusters/Nope/services", NULL, 404,
	                "{\"message\":\"Cluster 'Nope' not found.\"}");
	cmr_fake_expect(fx->f, "GET", V "/clusters/Nope/parcels?view=full",
	                NULL, 404,
	                "{\"message\":\"Cluster 'Nope' not found.\"}");
	cmr_fake_expect(fx->f, "GET",
	                V "/clusters/Nope/tags?limit=1000&offset=0", NULL, 404,
	                "{\"message\":\"Cluster 'Nope' not found.\"}");
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect_file(fx->f, "GET", V "/cm/version", NULL, 200,
	                     "cm-responses/cm_version_v16.json");
	cmr_fake_expect_file(fx->f, "GET", V "/cm/config?view=full", NULL, 200,
	                     "api/cm_config_full.json");
	cmr_fake_expect(fx->f, "GET", V "/cm/service/config?view=full", NULL,
	                404, "{\"message\":\"No management service\"}");
	cmr_fake_expect(fx->f, "GET", V "/cm/service/roleConfigGroups", NULL,
	                404, "{\"message\":\"No management service\"}");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services/hdfs/config?view=full",
	                     NULL, 200, "api/hdfs_config_full.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services/hdfs/roleConfigGroups",
	                     NULL, 200, "api/groups.json");
	cmr_fake_expect_file(
	        fx->f, "GET",
	        C1
	        "/services/hdfs/roleConfigGroups/hdfs-DATANODE-BASE/config?view=full",
	        NULL, 200, "api/group_config_full.json");
	assert_cmr_ok(read_live(fx, 0), &fx->err);
	assert_int_equal(cmr_client_last_read(fx->c)->waves, 2);
	assert_null(fx->live->manager.mgmt);
	assert_null(cmr_state_find_cluster(fx->live, "Nope"));
	assert_int_equal(fx->live->clusters.len, 1);
	assert_null(cmr_params_find_scope(fx->params, "mgmt"));
}

/* ======================================================================
 * Failures
 */

static void assert_failed_clean(struct fixture *fx)
{
	assert_null(fx->live);
	assert_null(fx->params);
}

static void test_api_read__cm_error_is_eapi(void **state)
{
	struct fixture *fx = *state;

	cmr_fake_expect(
	        fx->f, "GET", V "/cm/deployment?view=export_redacted", NULL,
	        500, "{\"message\":\"Internal error\",\"causes\":[\"NPE\"]}");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services", NULL, 200,
	                     "api/services.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL,
	                     200, "api/tags.json");
	assert_cmr_fails_with(CMR_EAPI, read_live(fx, 0), &fx->err);
	assert_int_equal(fx->err.http_status, 500);
	assert_string_equal(
	        fx->err.msg,
	        "GET " V
	        "/cm/deployment?view=export_redacted: HTTP 500: Internal error (NPE)");
	assert_failed_clean(fx);
}

static void test_api_read__malformed_deployment(void **state)
{
	struct fixture *fx = *state;

	cmr_fake_expect(fx->f, "GET", V "/cm/deployment?view=export_redacted",
	                NULL, 200,
	                "{\"clusters\": [ {\"name\": \"Cluster 1\", ");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services", NULL, 200,
	                     "api/services.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL,
	                     200, "api/tags.json");
	assert_cmr_fails_with(CMR_EINVAL, read_live(fx, 0), &fx->err);
	assert_non_null(strstr(
	        fx->err.msg, "/cm/deployment?view=export_redacted: not JSON"));
	assert_failed_clean(fx);
}

static void test_api_read__malformed_services(void **state)
{
	struct fixture *fx = *state;

	cmr_fake_expect_file(fx->f, "GET",
	                     V "/cm/deployment?view=export_redacted", NULL, 200,
	                     "api/deployment.json");
	cmr_fake_expect(fx->f, "GET", C1 "/services", NULL, 200,
	                "{\"items\":[{\"name\":\"hdfs\",\"serviceState\":7}]}");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL,
	                     200, "api/tags.json");
	assert_cmr_fails_with(CMR_EINVAL, read_live(fx, 0), &fx->err);
	assert_string_equal(
	        fx->err.msg,
	        "GET " C1
	        "/services: items[0].serviceState: expected a string, got int");
	assert_failed_clean(fx);
}

static void test_api_read__transport_error(void **state)
{
	struct fixture *fx = *state;

	cmr_fake_expect_error(fx->f, "GET",
	                      V "/cm/deployment?view=export_redacted", NULL,
	                      CMR_ETRANSPORT, 0, "connection refused");
	cmr_fake_expect_file(fx->f, "GET", C1 "/services", NULL, 200,
	                     "api/services.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/parcels?view=full", NULL, 200,
	                     "api/parcels.json");
	cmr_fake_expect_file(fx->f, "GET", C1 "/tags?limit=1000&offset=0", NULL,
	                     200, "api/tags.json");
	assert_cmr_fails_with(CMR_ETRANSPORT, read_live(fx, 0), &fx->err);
	assert_non_null(strstr(fx->err.msg, "connection refused"));
	assert_failed_clean(fx);
}

static void test_api_read__old_server_refused(void **state)
{
	struct fixture *fx = *state;

	make_client(fx, NULL);
	cmr_fake_expect_file(fx->f, "GET", "/api/version", NULL, 200,
	                     "cm-responses/api_version_v16.txt");
	assert_cmr_fails_with(CMR_EINVAL, read_live(fx, 0), &fx->err);
	assert_non_null(strstr(fx->err.msg, "'v16' is older"));
	assert_int_equal(cmr_fake_transport_waves(fx->f), 1);
	assert_failed_clean(fx);
}

static void test_api_read__version_404(void **state)
{
	struct fixture *fx = *state;

	make_client(fx, NULL);
	cmr_fake_expect(fx->f, "GET", "/api/version", NULL, 404, "Not Found");
	assert_cmr_fails_with(CMR_EAPI, read_live(fx, 0), &fx->err);
	assert_string_equal(fx->err.msg,
	                    "GET /api/version: HTTP 404: Not Found");
	assert_failed_clean(fx);
}

static void test_api_read__bad_pinned_version(void **state)
{
	struct fixture *fx = *state;
	struct cmr_client *c = NULL;
	struct cmr_client_options o = { "v19", NULL };

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_client_new(&c, cmr_fake_transport_base(fx->f),
	                                     &o, &fx->err),
	                      &fx->err);
	assert_null(c);
	cmr_error_clear(&fx->err);
	o.api_version = "latest";
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_client_new(&c, cmr_fake_transport_base(fx->f),
	                                     &o, &fx->err),
	                      &fx->err);
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_api_read_live(&fx->live, &fx->params, fx->c,
	                                        NULL, NULL, &fx->err),
	                      &fx->err);
}

/*
 * Every allocation of the read failing in turn: the read fails cleanly
 * (no live state, no params, no leak under ASan) or succeeds.  Response
 * bodies are allocated through the same hooks, so a failure can also
 * surface as a decoding error; any error is fine, a crash or leak is not.
 */
static void test_api_read__allocation_failures(void **state)
{
	struct fixture *fx = *state;
	long n, total;
	int rc;

	cmr_test_alloc_reset();
	for (n = 0;; n++) {
		struct cmr_fake_transport *f = cmr_fake_transport_new();
		struct cmr_client *c = NULL;
		struct cmr_state *live = NULL;
		struct cmr_params *params = NULL;
		struct cmr_error err = CMR_ERROR_INIT;
		struct cmr_client_options o = { "v45", NULL };

		cmr_fake_expect_file(f, "GET",
		                     V "/cm/deployment?view=export_redacted",
		                     NULL, 200, "api/deployment.json");
		cmr_fake_expect_file(f, "GET", C1 "/services", NULL, 200,
		                     "api/services.json");
		cmr_fake_expect_file(f, "GET", C1 "/parcels?view=full", NULL,
		                     200, "api/parcels.json");
		cmr_fake_expect_file(f, "GET", C1 "/tags?limit=1000&offset=0",
		                     NULL, 200, "api/tags.json");
		cmr_test_fail_alloc_after(n);
		rc = cmr_client_new(&c, cmr_fake_transport_base(f), &o, &err);
		if (rc == 0)
			rc = cmr_api_read_live(&live, &params, c, fx->desired,
			                       NULL, &err);
		total = cmr_test_alloc_count();
		cmr_test_alloc_reset();
		if (rc < 0) {
			assert_null(live);
			assert_null(params);
			assert_int_not_equal(err.code, CMR_OK);
		}
		cmr_state_free(live);
		cmr_params_free(params);
		cmr_client_free(c);
		cmr_fake_transport_free(f);
		if (rc == 0 && total <= n)
			break;
		assert_true(n < 100000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_api_read__pinned_no_change_is_one_wave),
		T(test_api_read__negotiated_is_two_waves),
		T(test_api_read__unset_keys_add_full_wave),
		T(test_api_read__all_params_and_mgmt),
		T(test_api_read__requests_independent_of_roles),
		T(test_api_read__missing_cluster_is_absent),
		T(test_api_read__missing_service_is_absent),
		T(test_api_read__no_tags_below_v41),
		T(test_api_read__tags_paging),
		T(test_api_read__all_clusters_without_desired),
		T(test_api_read__fallback_on_403),
		T(test_api_read__fallback_absent),
		T(test_api_read__cm_error_is_eapi),
		T(test_api_read__malformed_deployment),
		T(test_api_read__malformed_services),
		T(test_api_read__transport_error),
		T(test_api_read__old_server_refused),
		T(test_api_read__version_404),
		T(test_api_read__bad_pinned_version),
		T(test_api_read__allocation_failures),
#undef T
	};

	return cmocka_run_group_tests_name("api_read", tests, NULL, NULL);
}
