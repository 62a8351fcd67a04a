/*
 * test_exec.c -- the waiter and the executor, against the scripted fake
 * transport and a fake clock (every wait is instant; the sleeps are
 * recorded so the backoff can be checked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api_write.h"
#include "cmr/client.h"
#include "cmr/exec.h"
#include "cmr/plan.h"
#include "cmr/vec.h"

#include "fake_transport.h"
#include "support.h"

#define ANY CMR_FAKE_ANY_WAVE
#define V   "/api/v45"

/* ----------------------------------------------------------------------
 * A clock that only moves when slept on
 */

struct fake_clock {
	struct cmr_clock base;
	int64_t now;
	int64_t sleeps[256];
	size_t nsleeps;
};

static int64_t fc_now(struct cmr_clock *c)
{
	return cmr_container_of(c, struct fake_clock, base)->now;
}

static void fc_sleep(struct cmr_clock *c, int64_t ms)
{
	struct fake_clock *f = cmr_container_of(c, struct fake_clock, base);

	if (f->nsleeps < CMR_ARRAY_SIZE(f->sleeps))
		f->sleeps[f->nsleeps++] = ms;
	f->now += ms;
}

static int64_t fc_wall(struct cmr_clock *c)
{
	return (int64_t)1764300000000 + fc_now(c);
}

struct fixture {
	struct cmr_fake_transport *fake;
	struct cmr_client *client;
	struct fake_clock clock;
	struct cmr_waiter w;
	struct cmr_error err;
	bool verify;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct cmr_client_options copt;

	assert_non_null(fx);
	memset(&copt, 0, sizeof(copt));
	copt.api_version = "v45";
	fx->fake = cmr_fake_transport_new();
	cmr_fake_wave(fx->fake, ANY);
	assert_cmr_ok(cmr_client_new(&fx->client,
	                             cmr_fake_transport_base(fx->fake), &copt,
	                             &fx->err),
	              &fx->err);
	fx->clock.base.now_ms = fc_now;
	fx->clock.base.sleep_ms = fc_sleep;
	fx->clock.base.wall_ms = fc_wall;
	fx->w.client = fx->client;
	fx->w.clock = &fx->clock.base;
	fx->verify = true;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;

	if (fx->verify)
		assert_cmr_ok(cmr_fake_transport_verify(fx->fake, &err), &err);
	cmr_client_free(fx->client);
	cmr_fake_transport_free(fx->fake);
	free(fx);
	return 0;
}

static void expect(struct fixture *fx, const char *method, const char *path,
                   long status, const char *body)
{
	cmr_fake_expect(fx->fake, method, path, NULL, status, body);
}

/* ======================================================================
 * The waiter
 */

static void test_exec__wait_command_polls_with_backoff(void **state)
{
	struct fixture *fx = *state;
	struct cmr_api_command cmd;

	expect(fx, "GET", V "/commands/7", 200,
	       "{\"id\":7,\"name\":\"Restart\",\"active\":true}");
	expect(fx, "GET", V "/commands/7", 200,
	       "{\"id\":7,\"name\":\"Restart\",\"active\":true}");
	expect(fx, "GET", V "/commands/7", 200,
	       "{\"id\":7,\"name\":\"Restart\",\"active\":true}");
	expect(fx, "GET", V "/commands/7", 200,
	       "{\"id\":7,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true,\"resultMessage\":\"ok\"}");
	assert_cmr_ok(
	        cmr_wait_command(&cmd, &fx->w, 7, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_true(cmd.success);
	assert_string_equal(cmd.name, "Restart");
	/* First look immediate, then 1 s, 2 s, 4 s, each jittered into
	 * [d/2, d]. */
	assert_int_equal(fx->clock.nsleeps, 3);
	assert_in_range(fx->clock.sleeps[0], 500, 1000);
	assert_in_range(fx->clock.sleeps[1], 1000, 2000);
	assert_in_range(fx->clock.sleeps[2], 2000, 4000);
}

static void test_exec__backoff_is_capped(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < 9; i++)
		expect(fx, "GET", V "/commands/8", 200,
		       "{\"id\":8,\"name\":\"Restart\",\"active\":true}");
	expect(fx, "GET", V "/commands/8", 200,
	       "{\"id\":8,\"active\":false,\"success\":true}");
	assert_cmr_ok(
	        cmr_wait_command(NULL, &fx->w, 8, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_int_equal(fx->clock.nsleeps, 9);
	for (i = 0; i < 9; i++)
		assert_in_range(fx->clock.sleeps[i], 1, CMR_WAIT_MAX_MS);
	assert_in_range(fx->clock.sleeps[8], CMR_WAIT_MAX_MS / 2,
	                CMR_WAIT_MAX_MS);
}

static void test_exec__failed_command_names_deepest_child(void **state)
{
	struct fixture *fx = *state;

	expect(fx, "GET", V "/commands/9", 200,
	       "{\"id\":9,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":false,\"resultMessage\":\"Command failed\","
	       "\"children\":{\"items\":[{\"id\":10,\"name\":\"Start\","
	       "\"active\":false,\"success\":false,\"resultMessage\":"
	       "\"Role failed\",\"children\":{\"items\":[{\"id\":11,"
	       "\"name\":\"DataNode\",\"active\":false,\"success\":false,"
	       "\"resultMessage\":\"port 9866 in use\"}]}}]}}");
	assert_cmr_fails_with(
	        CMR_EAPI,
	        cmr_wait_command(NULL, &fx->w, 9, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "Restart"));
	assert_non_null(strstr(fx->err.msg, "9"));
	assert_non_null(strstr(fx->err.msg, "DataNode: port 9866 in use"));
}

static void test_exec__timeout_is_unknown_outcome(void **state)
{
	struct fixture *fx = *state;
	int i;

	/* More answers than the deadline allows: the wait ends first. */
	fx->verify = false;
	fx->w.timeout_ms = 5000;
	for (i = 0; i < 20; i++)
		expect(fx, "GET", V "/commands/5", 200,
		       "{\"id\":5,\"name\":\"Refresh\",\"active\":true}");
	assert_cmr_fails_with(
	        CMR_ETIMEOUT,
	        cmr_wait_command(NULL, &fx->w, 5, CMR_WAIT_REFRESH, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "unknown"));
	assert_true(fx->clock.now >= 5000);
	assert_true(fx->clock.now <= 5000 + CMR_WAIT_MAX_MS);
}

static void test_exec__default_deadlines(void **state)
{
	(void)state;
	assert_int_equal(cmr_wait_default_ms(CMR_WAIT_REFRESH), 600000);
	assert_int_equal(cmr_wait_default_ms(CMR_WAIT_CLIENT_CONFIG), 600000);
	assert_int_equal(cmr_wait_default_ms(CMR_WAIT_RESTART), 3600000);
	assert_int_equal(cmr_wait_default_ms(CMR_WAIT_DOWNLOAD), 7200000);
	assert_int_equal(cmr_wait_default_ms(CMR_WAIT_DISTRIBUTE), 3600000);
	assert_int_equal(cmr_wait_default_ms(CMR_WAIT_ACTIVATE), 3600000);
}

static void test_exec__tolerates_five_transport_errors(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < 3; i++)
		cmr_fake_expect_error(fx->fake, "GET", V "/commands/3", NULL,
		                      CMR_ETRANSPORT, 0, "connection refused");
	for (i = 0; i < 2; i++)
		expect(fx, "GET", V "/commands/3", 503,
		       "{\"message\":\"starting\"}");
	expect(fx, "GET", V "/commands/3", 200,
	       "{\"id\":3,\"active\":false,\"success\":true}");
	assert_cmr_ok(
	        cmr_wait_command(NULL, &fx->w, 3, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_int_equal(fx->w.transport_errors, 5);
}

static void test_exec__six_transport_errors_fail(void **state)
{
	struct fixture *fx = *state;
	int i;

	for (i = 0; i < 6; i++)
		cmr_fake_expect_error(fx->fake, "GET", V "/commands/4", NULL,
		                      CMR_ETRANSPORT, 0, "connection refused");
	assert_cmr_fails_with(
	        CMR_ETRANSPORT,
	        cmr_wait_command(NULL, &fx->w, 4, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "connection refused"));
}

static void test_exec__404_is_not_retried(void **state)
{
	struct fixture *fx = *state;

	expect(fx, "GET", V "/commands/6", 404,
	       "{\"message\":\"Command '6' not found.\"}");
	assert_cmr_fails_with(
	        CMR_EAPI,
	        cmr_wait_command(NULL, &fx->w, 6, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "not found"));
}

static int stop_tick(const char *what, void *ud)
{
	(void)what;
	(void)ud;
	return 1;
}

static void test_exec__tick_interrupts(void **state)
{
	struct fixture *fx = *state;

	fx->w.tick = stop_tick;
	expect(fx, "GET", V "/commands/2", 200,
	       "{\"id\":2,\"name\":\"Restart\",\"active\":true}");
	assert_cmr_fails_with(
	        CMR_EINTR,
	        cmr_wait_command(NULL, &fx->w, 2, CMR_WAIT_RESTART, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "keeps running"));
}

#define PARCEL V "/clusters/Cluster%201/parcels/products/SPARK3/versions/3.3"

static void test_exec__wait_parcel_reaches_stage(void **state)
{
	struct fixture *fx = *state;
	struct cmr_api_parcel_status st;

	expect(fx, "GET", PARCEL, 200,
	       "{\"product\":\"SPARK3\",\"version\":\"3.3\",\"stage\":"
	       "\"DOWNLOADING\",\"state\":{\"progress\":10,"
	       "\"totalProgress\":100,\"errors\":[]}}");
	expect(fx, "GET", PARCEL, 200,
	       "{\"product\":\"SPARK3\",\"version\":\"3.3\",\"stage\":"
	       "\"DOWNLOADED\",\"state\":{\"progress\":100,"
	       "\"totalProgress\":100}}");
	assert_cmr_ok(cmr_wait_parcel(&st, &fx->w, "Cluster 1", "SPARK3", "3.3",
	                              CMR_PARCEL_DOWNLOADED, CMR_WAIT_DOWNLOAD,
	                              &fx->err),
	              &fx->err);
	assert_int_equal(st.stage, CMR_PARCEL_DOWNLOADED);
}

static void test_exec__wait_parcel_fails_on_errors(void **state)
{
	struct fixture *fx = *state;

	expect(fx, "GET", PARCEL, 200,
	       "{\"product\":\"SPARK3\",\"version\":\"3.3\",\"stage\":"
	       "\"DISTRIBUTING\",\"state\":{\"count\":2,\"totalCount\":4,"
	       "\"errors\":[\"Hash verification failed\"]}}");
	assert_cmr_fails_with(CMR_EAPI,
	                      cmr_wait_parcel(NULL, &fx->w, "Cluster 1",
	                                      "SPARK3", "3.3",
	                                      CMR_PARCEL_DISTRIBUTED,
	                                      CMR_WAIT_DISTRIBUTE, &fx->err),
	                      &fx->err);
	assert_non_null(strstr(fx->err.msg, "Hash verification failed"));
	assert_non_null(strstr(fx->err.msg, "DISTRIBUTING"));
}

#define HDFS V "/clusters/Cluster%201/services/hdfs"

static void test_exec__health_gate(void **state)
{
	struct fixture *fx = *state;
	struct cmr_api_service_status st;

	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTING\","
	       "\"healthSummary\":\"BAD\"}");
	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"CONCERNING\"}");
	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"GOOD\"}");
	assert_cmr_ok(cmr_wait_healthy(&st, &fx->w, "Cluster 1", "hdfs", false,
	                               &fx->err),
	              &fx->err);
	assert_int_equal(st.health, CMR_HEALTH_GOOD);
}

static void test_exec__health_bad_names_checks(void **state)
{
	struct fixture *fx = *state;

	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"BAD\",\"healthChecks\":[{\"name\":"
	       "\"HDFS_CANARY_HEALTH\",\"summary\":\"GOOD\"},{\"name\":"
	       "\"HDFS_MISSING_BLOCKS\",\"summary\":\"BAD\"},{\"name\":"
	       "\"HDFS_X\",\"summary\":\"BAD\",\"suppressed\":true}]}");
	assert_cmr_fails_with(CMR_EAPI,
	                      cmr_wait_healthy(NULL, &fx->w, "Cluster 1",
	                                       "hdfs", true, &fx->err),
	                      &fx->err);
	assert_non_null(strstr(fx->err.msg, "HDFS_MISSING_BLOCKS (BAD)"));
	assert_null(strstr(fx->err.msg, "CANARY"));
	assert_null(strstr(fx->err.msg, "HDFS_X"));
}

/* ======================================================================
 * The executor
 */

static struct cmr_change *change(struct cmr_plan *p, const char *key,
                                 const char *value)
{
	struct cmr_change *c = cmr_arena_alloc(&p->arena, sizeof(*c));

	assert_non_null(c);
	c->key = cmr_arena_strdup(&p->arena, key);
	c->op = CMR_OP_UPDATE;
	c->new_value = cmr_arena_strdup(&p->arena, value);
	c->effect = CMR_EFFECT_RESTART;
	return c;
}

static struct cmr_scope_change *
scope(struct cmr_plan *p, enum cmr_scope_kind kind, const char *service)
{
	struct cmr_scope_change *s = cmr_arena_alloc(&p->arena, sizeof(*s));

	assert_non_null(s);
	s->scope.kind = kind;
	if (service) {
		s->scope.cluster = "Cluster 1";
		s->scope.service = service;
		s->service_type = "HDFS";
	}
	assert_int_equal(cmr_vec_push(&p->scopes, s), 0);
	return s;
}

/* CM setting, a parcel to distribute, an hdfs setting, hdfs restart. */
static struct cmr_plan *sample_plan(void)
{
	struct cmr_plan *p = NULL;
	struct cmr_scope_change *s;
	struct cmr_parcel_change *pc;
	struct cmr_restart *rs;

	assert_int_equal(cmr_plan_new(&p, NULL), 0);
	p->plan_id = "feedc0de";
	assert_int_equal(cmr_vec_push(&p->clusters, "Cluster 1"), 0);
	s = scope(p, CMR_SCOPE_CM, NULL);
	assert_int_equal(
	        cmr_vec_push(&s->changes, change(p, "PARCEL_UPDATE_FREQ", "1")),
	        0);
	s = scope(p, CMR_SCOPE_SERVICE, "hdfs");
	assert_int_equal(
	        cmr_vec_push(&s->changes, change(p, "dfs_replication", "2")),
	        0);
	pc = cmr_arena_alloc(&p->arena, sizeof(*pc));
	pc->cluster = "Cluster 1";
	pc->product = "SPARK3";
	pc->version = "3.3";
	pc->from = CMR_PARCEL_AVAILABLE_REMOTELY;
	pc->to = CMR_PARCEL_DISTRIBUTED;
	pc->steps[0] = CMR_PARCEL_CMD_DOWNLOAD;
	pc->steps[1] = CMR_PARCEL_CMD_DISTRIBUTE;
	pc->nsteps = 2;
	assert_int_equal(cmr_vec_push(&p->parcels, pc), 0);
	rs = cmr_arena_alloc(&p->arena, sizeof(*rs));
	rs->cluster = "Cluster 1";
	rs->service = "hdfs";
	rs->service_type = "HDFS";
	rs->action = CMR_ACTION_RESTART;
	rs->reasons = CMR_REASON_SETTINGS;
	assert_int_equal(cmr_vec_push(&p->restarts, rs), 0);
	return p;
}

#define PARCEL_BODY(stage)                                               \
	"{\"product\":\"SPARK3\",\"version\":\"3.3\",\"stage\":\"" stage \
	"\",\"state\":{}}"

#define SERVICES                                                             \
	"{\"items\":[{\"name\":\"hdfs\",\"type\":\"HDFS\",\"serviceState\":" \
	"\"STARTED\",\"configStalenessStatus\":\"STALE\","                   \
	"\"clientConfigStalenessStatus\":\"FRESH\",\"healthSummary\":"       \
	"\"GOOD\"},{\"name\":\"zookeeper\",\"type\":\"ZOOKEEPER\","          \
	"\"serviceState\":\"STARTED\",\"configStalenessStatus\":\"FRESH\","  \
	"\"clientConfigStalenessStatus\":\"FRESH\",\"healthSummary\":"       \
	"\"GOOD\"}]}"

/* Scripts the whole happy path of sample_plan up to the restart POST. */
static void script_until_restart(struct fixture *fx, bool none_running)
{
	expect(fx, "PUT", V "/cm/config?message=*", 200, "{\"items\":[]}");
	expect(fx, "GET", V "/cm/config", 200,
	       "{\"items\":[{\"name\":\"PARCEL_UPDATE_FREQ\",\"value\":"
	       "\"1\"}]}");
	expect(fx, "GET", PARCEL, 200, PARCEL_BODY("AVAILABLE_REMOTELY"));
	expect(fx, "POST", PARCEL "/commands/startDownload", 200,
	       "{\"active\":false,\"success\":true}");
	expect(fx, "PUT", HDFS "/config?message=*", 200, "{\"items\":[]}");
	expect(fx, "GET", HDFS "/config", 200,
	       "{\"items\":[{\"name\":\"dfs_replication\",\"value\":\"2\"}]}");
	expect(fx, "GET", PARCEL, 200, PARCEL_BODY("DOWNLOADING"));
	expect(fx, "GET", PARCEL, 200, PARCEL_BODY("DOWNLOADED"));
	expect(fx, "GET", PARCEL, 200, PARCEL_BODY("DOWNLOADED"));
	expect(fx, "POST", PARCEL "/commands/startDistribution", 200,
	       "{\"active\":false,\"success\":true}");
	expect(fx, "GET", PARCEL, 200, PARCEL_BODY("DISTRIBUTED"));
	expect(fx, "GET", V "/clusters/Cluster%201/services", 200, SERVICES);
	if (none_running)
		expect(fx, "GET", HDFS "/commands", 200, "{\"items\":[]}");
}

static void exec_options(struct cmr_exec_options *o, struct fixture *fx)
{
	memset(o, 0, sizeof(*o));
	o->flags = CMR_EXEC_NO_LOCK | CMR_EXEC_NO_VERIFY;
	o->clock = &fx->clock.base;
	o->change_ref = "abc1234";
}

/* "METHOD PATH-WITHOUT-QUERY" of the i-th request. */
static const char *req(struct fixture *fx, size_t i, char *buf, size_t cap)
{
	const struct cmr_fake_request *r =
	        cmr_fake_transport_request(fx->fake, i);

	assert_non_null(r);
	snprintf(buf, cap, "%s %s", r->method, r->url);
	buf[strcspn(buf, "?")] = '\0';
	return buf;
}

static void test_exec__apply_order(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = sample_plan();
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	const struct cmr_fake_request *put;
	static const char *const want[] = {
		"PUT " V "/cm/config",
		"GET " V "/cm/config",
		"GET " PARCEL,
		"POST " PARCEL "/commands/startDownload",
		"PUT " HDFS "/config",
		"GET " HDFS "/config",
		"GET " PARCEL,
		"GET " PARCEL,
		"GET " PARCEL,
		"POST " PARCEL "/commands/startDistribution",
		"GET " PARCEL,
		"GET " V "/clusters/Cluster%201/services",
		"GET " HDFS "/commands",
		"POST " HDFS "/commands/restart",
		"GET " V "/commands/42",
		"GET " HDFS,
	};
	char buf[512];
	size_t i;

	script_until_restart(fx, true);
	expect(fx, "POST", HDFS "/commands/restart", 200,
	       "{\"id\":42,\"name\":\"Restart\",\"active\":true}");
	expect(fx, "GET", V "/commands/42", 200,
	       "{\"id\":42,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true}");
	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"GOOD\"}");
	exec_options(&o, fx);
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	assert_int_equal(cmr_fake_transport_requests(fx->fake),
	                 CMR_ARRAY_SIZE(want));
	for (i = 0; i < CMR_ARRAY_SIZE(want); i++)
		assert_string_equal(req(fx, i, buf, sizeof(buf)), want[i]);
	/* The audit message names cmrecon, the plan and the change. */
	put = cmr_fake_transport_request(fx->fake, 0);
	assert_non_null(strstr(put->url, "message=cmrecon"));
	assert_non_null(strstr(put->url, "feedc0de"));
	assert_non_null(strstr(put->url, "abc1234"));
	assert_non_null(strstr(put->body, "\"PARCEL_UPDATE_FREQ\""));
	assert_int_equal(rep.writes, 2);
	assert_int_equal(rep.settings, 2);
	assert_int_equal(rep.parcel_steps, 2);
	assert_int_equal(rep.restarted, 1);
	cmr_plan_free(plan);
}

/* Cluster N: an hdfsN setting and its restart. */
static void add_cluster(struct cmr_plan *p, const char *cluster,
                        const char *service)
{
	struct cmr_scope_change *s = cmr_arena_alloc(&p->arena, sizeof(*s));
	struct cmr_restart *rs = cmr_arena_alloc(&p->arena, sizeof(*rs));

	assert_non_null(s);
	assert_non_null(rs);
	assert_int_equal(cmr_vec_push(&p->clusters, cluster), 0);
	s->scope.kind = CMR_SCOPE_SERVICE;
	s->scope.cluster = cluster;
	s->scope.service = service;
	s->service_type = "HDFS";
	assert_int_equal(
	        cmr_vec_push(&s->changes, change(p, "dfs_replication", "2")),
	        0);
	assert_int_equal(cmr_vec_push(&p->scopes, s), 0);
	rs->cluster = cluster;
	rs->service = service;
	rs->service_type = "HDFS";
	rs->action = CMR_ACTION_RESTART;
	rs->reasons = CMR_REASON_SETTINGS;
	assert_int_equal(cmr_vec_push(&p->restarts, rs), 0);
}

#define C2    V "/clusters/Cluster%202"
#define HDFS2 C2 "/services/hdfs2"
#define STALE2                                                                \
	"{\"items\":[{\"name\":\"hdfs2\",\"type\":\"HDFS\",\"serviceState\":" \
	"\"STARTED\",\"configStalenessStatus\":\"STALE\","                    \
	"\"clientConfigStalenessStatus\":\"FRESH\",\"healthSummary\":"        \
	"\"GOOD\"}]}"

static void script_cluster2(struct fixture *fx)
{
	expect(fx, "PUT", HDFS2 "/config?message=*", 200, "{\"items\":[]}");
	expect(fx, "GET", HDFS2 "/config", 200,
	       "{\"items\":[{\"name\":\"dfs_replication\",\"value\":\"2\"}]}");
	expect(fx, "GET", C2 "/services", 200, STALE2);
	expect(fx, "GET", HDFS2 "/commands", 200, "{\"items\":[]}");
	expect(fx, "POST", HDFS2 "/commands/restart", 200,
	       "{\"id\":43,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true}");
	expect(fx, "GET", V "/commands/43", 200,
	       "{\"id\":43,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true}");
	expect(fx, "GET", HDFS2, 200,
	       "{\"name\":\"hdfs2\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"GOOD\"}");
}

/*
 * Two clusters through a transport that cannot be cloned (this fake):
 * the lanes run one after the other, each cluster's settings, parcels
 * and restarts together, and the reports add up.
 */
static void test_exec__clusters_in_turn_without_clone(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = sample_plan();
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	char buf[512];
	size_t i, first2 = 0, last1 = 0;

	add_cluster(plan, "Cluster 2", "hdfs2");
	script_until_restart(fx, true);
	expect(fx, "POST", HDFS "/commands/restart", 200,
	       "{\"id\":42,\"name\":\"Restart\",\"active\":true}");
	expect(fx, "GET", V "/commands/42", 200,
	       "{\"id\":42,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true}");
	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"GOOD\"}");
	script_cluster2(fx);
	exec_options(&o, fx);
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	for (i = 0; i < cmr_fake_transport_requests(fx->fake); i++) {
		req(fx, i, buf, sizeof(buf));
		if (strstr(buf, "Cluster%201"))
			last1 = i;
		if (strstr(buf, "Cluster%202") && !first2)
			first2 = i;
	}
	assert_true(first2 > last1);
	assert_int_equal(rep.writes, 3);
	assert_int_equal(rep.restarted, 2);
	assert_int_equal(rep.commands, 2);
	cmr_plan_free(plan);
}

/* ... and the first cluster's failure leaves the second untouched. */
static void test_exec__failed_cluster_stops_the_next(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = sample_plan();
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	char buf[512];
	size_t i;

	add_cluster(plan, "Cluster 2", "hdfs2");
	expect(fx, "PUT", V "/cm/config?message=*", 200, "{\"items\":[]}");
	expect(fx, "GET", V "/cm/config", 200,
	       "{\"items\":[{\"name\":\"PARCEL_UPDATE_FREQ\",\"value\":"
	       "\"1\"}]}");
	expect(fx, "GET", PARCEL, 200, PARCEL_BODY("AVAILABLE_REMOTELY"));
	expect(fx, "POST", PARCEL "/commands/startDownload", 200,
	       "{\"active\":false,\"success\":true}");
	expect(fx, "PUT", HDFS "/config?message=*", 500,
	       "{\"message\":\"Database is down\"}");
	exec_options(&o, fx);
	assert_cmr_fails_with(
	        CMR_EAPI, cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "Database is down"));
	for (i = 0; i < cmr_fake_transport_requests(fx->fake); i++)
		assert_null(
		        strstr(req(fx, i, buf, sizeof(buf)), "Cluster%202"));
	assert_int_equal(rep.restarted, 0);
	cmr_plan_free(plan);
}

static void test_exec__lost_answer_is_looked_up(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = sample_plan();
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	size_t i, posts = 0;

	script_until_restart(fx, true);
	cmr_fake_expect_error(fx->fake, "POST", HDFS "/commands/restart", NULL,
	                      CMR_ETRANSPORT, CMR_HTTP_RESP_MAYBE_APPLIED,
	                      "connection reset after the request was sent");
	expect(fx, "GET", HDFS "/commands", 200,
	       "{\"items\":[{\"id\":42,\"name\":\"Restart\",\"active\":true}]}");
	expect(fx, "GET", V "/commands/42", 200,
	       "{\"id\":42,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true}");
	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"GOOD\"}");
	exec_options(&o, fx);
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	for (i = 0; i < cmr_fake_transport_requests(fx->fake); i++) {
		const struct cmr_fake_request *r =
		        cmr_fake_transport_request(fx->fake, i);

		if (strcmp(r->method, "POST") == 0 && strstr(r->url, "restart"))
			posts++;
	}
	assert_int_equal(posts, 1); /* never re-sent */
	cmr_plan_free(plan);
}

static void test_exec__running_command_is_waited_on(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = sample_plan();
	struct cmr_exec_options o;
	struct cmr_exec_report rep;

	/* The restart's active-command look finds one still running (an
	 * interrupted apply): it is waited on, not started again. */
	script_until_restart(fx, false);
	expect(fx, "GET", HDFS "/commands", 200,
	       "{\"items\":[{\"id\":77,\"name\":\"Restart\","
	       "\"active\":true}]}");
	expect(fx, "GET", V "/commands/77", 200,
	       "{\"id\":77,\"name\":\"Restart\",\"active\":false,"
	       "\"success\":true}");
	expect(fx, "GET", HDFS, 200,
	       "{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"healthSummary\":\"GOOD\"}");
	exec_options(&o, fx);
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	assert_int_equal(rep.commands, 0); /* nothing started */
	assert_int_equal(rep.restarted, 1);
	cmr_plan_free(plan);
}

static void test_exec__ignored_write_fails(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = NULL;
	struct cmr_scope_change *s;
	struct cmr_exec_options o;
	struct cmr_exec_report rep;

	assert_int_equal(cmr_plan_new(&plan, NULL), 0);
	s = scope(plan, CMR_SCOPE_SERVICE, "hdfs");
	assert_int_equal(
	        cmr_vec_push(&s->changes, change(plan, "dfs_replication", "2")),
	        0);
	expect(fx, "PUT", HDFS "/config?message=*", 200, "{\"items\":[]}");
	expect(fx, "GET", HDFS "/config", 200,
	       "{\"items\":[{\"name\":\"dfs_replication\",\"value\":\"3\"}]}");
	exec_options(&o, fx);
	assert_cmr_fails_with(
	        CMR_EAPI, cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "did not keep"));
	assert_non_null(strstr(fx->err.msg, "dfs_replication"));
	cmr_plan_free(plan);
}

static void test_exec__maintenance_and_deferred_skipped(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = NULL;
	struct cmr_restart *rs;
	struct cmr_exec_options o;
	struct cmr_exec_report rep;

	assert_int_equal(cmr_plan_new(&plan, NULL), 0);
	assert_int_equal(cmr_vec_push(&plan->clusters, "Cluster 1"), 0);
	rs = cmr_arena_alloc(&plan->arena, sizeof(*rs));
	rs->cluster = "Cluster 1";
	rs->service = "zookeeper";
	rs->action = CMR_ACTION_DEFERRED;
	assert_int_equal(cmr_vec_push(&plan->restarts, rs), 0);
	expect(fx, "GET", V "/clusters/Cluster%201/services", 200,
	       "{\"items\":[{\"name\":\"hdfs\",\"serviceState\":\"STARTED\","
	       "\"configStalenessStatus\":\"STALE\",\"maintenanceMode\":true},"
	       "{\"name\":\"zookeeper\",\"serviceState\":\"STARTED\","
	       "\"configStalenessStatus\":\"STALE\"}]}");
	exec_options(&o, fx);
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	assert_int_equal(rep.maintenance, 1);
	assert_int_equal(rep.deferred, 1);
	assert_int_equal(rep.restarted, 0);
	assert_int_equal(rep.commands, 0);
	cmr_plan_free(plan);
}

static void test_exec__lock_refused_names_holder(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = NULL;
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	size_t i, deletes = 0;

	assert_int_equal(cmr_plan_new(&plan, NULL), 0);
	assert_int_equal(cmr_vec_push(&plan->clusters, "Cluster 1"), 0);
	expect(fx, "PUT", V "/clusters/Cluster%201/tags", 200, "[]");
	expect(fx, "GET", V "/clusters/Cluster%201/tags?*", 200,
	       "[{\"name\":\"cmrecon.lock.0000\",\"value\":\"holder=ci@r7;"
	       "host=r7;plan=x;created=2020-01-01T00:00:00.000Z;"
	       "expires=2999-01-01T00:00:00.000Z\"},"
	       "{\"name\":\"cmrecon.lock.ffff\",\"value\":\"holder=me;"
	       "created=2026-01-01T00:00:00.000Z;"
	       "expires=2999-01-01T00:00:00.000Z\"}]");
	expect(fx, "DELETE", V "/clusters/Cluster%201/tags", 200, "[]");
	exec_options(&o, fx);
	o.flags &= ~(unsigned)CMR_EXEC_NO_LOCK;
	assert_cmr_fails_with(
	        CMR_ECONFLICT,
	        cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err), &fx->err);
	assert_non_null(strstr(fx->err.msg, "ci@r7"));
	assert_non_null(strstr(fx->err.msg, "0000"));
	for (i = 0; i < cmr_fake_transport_requests(fx->fake); i++)
		if (strcmp(cmr_fake_transport_request(fx->fake, i)->method,
		           "DELETE") == 0)
			deletes++;
	assert_int_equal(deletes, 1); /* its own tag, removed */
	cmr_plan_free(plan);
}

static void test_exec__desired_from_plan(void **state)
{
	struct cmr_plan *plan = sample_plan();
	struct cmr_state *d = NULL;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_fingerprint fp = { "Cluster%2F2/svc/grp", "00" };
	/* A secret's fingerprint names a setting, not a cluster: it adds
	 * nothing (its scope has a fingerprint of its own). */
	struct cmr_fingerprint sfp = { "secret:Cluster 1/hive/pw", "00" };
	struct cmr_fingerprint pfp = { "parcels:Cluster%2F3", "00" };
	const struct cmr_cluster *c;

	(void)state;
	assert_int_equal(cmr_vec_push(&plan->fingerprints, &fp), 0);
	assert_int_equal(cmr_vec_push(&plan->fingerprints, &sfp), 0);
	assert_int_equal(cmr_vec_push(&plan->fingerprints, &pfp), 0);
	assert_cmr_ok(cmr_exec_desired_from_plan(&d, plan, &err), &err);
	assert_string_equal(
	        cmr_config_find(&d->manager.config, "PARCEL_UPDATE_FREQ")
	                ->value.text,
	        "1");
	c = cmr_state_find_cluster(d, "Cluster 1");
	assert_non_null(c);
	assert_non_null(cmr_cluster_find_service(c, "hdfs"));
	assert_int_equal(cmr_cluster_find_parcel(c, "SPARK3", "3.3")->stage,
	                 CMR_PARCEL_DISTRIBUTED);
	c = cmr_state_find_cluster(d, "Cluster/2");
	assert_non_null(c);
	assert_non_null(cmr_service_find_group(
	        cmr_cluster_find_service(c, "svc"), "grp"));
	assert_non_null(cmr_state_find_cluster(d, "Cluster/3"));
	assert_null(cmr_state_find_cluster(d, "secret:Cluster 1"));
	c = cmr_state_find_cluster(d, "Cluster 1");
	assert_null(cmr_cluster_find_service(c, "hive"));
	assert_int_equal(d->clusters.len, 3);
	cmr_state_free(d);
	cmr_plan_free(plan);
}

/* Collects every event message, to look for leaks. */
static void collect(const struct cmr_exec_event *ev, void *ud)
{
	struct cmr_buf *b = ud;

	cmr_buf_addf(b, "%s %s %s\n", ev->phase, ev->target, ev->message);
}

static int fixed_secret(struct cmr_buf *out, const struct cmr_value *ref,
                        void *ud, struct cmr_error *err)
{
	(void)ud;
	(void)err;
	assert_int_equal(ref->kind, CMR_VALUE_ENV);
	assert_string_equal(ref->text, "HIVE_DB_PW");
	return cmr_buf_adds(out, "s3cr3t-value");
}

static void test_exec__secret_written_recorded_never_shown(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = NULL;
	struct cmr_state *desired = NULL;
	struct cmr_cluster *dc = NULL;
	struct cmr_service *ds = NULL;
	struct cmr_scope_change *s;
	struct cmr_change *ch;
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	struct cmr_plan_options po;
	struct cmr_value ref = { CMR_VALUE_ENV, "HIVE_DB_PW" };
	struct cmr_buf events = CMR_BUF_INIT, tag = CMR_BUF_INIT;
	const struct cmr_fake_request *put;
	char *dir = cmr_test_mkdtemp(), *journal;
	char path[512];
	size_t len;

	assert_int_equal(cmr_plan_new(&plan, NULL), 0);
	plan->plan_id = "5ec2e7";
	assert_int_equal(cmr_vec_push(&plan->clusters, "Cluster 1"), 0);
	s = scope(plan, CMR_SCOPE_SERVICE, "hive");
	ch = change(plan, "hive_metastore_database_password", "x");
	ch->new_value = NULL;
	ch->sensitive = true;
	ch->secret = CMR_SECRET_FORCED;
	ch->secret_source.kind = CMR_VALUE_ENV;
	ch->secret_source.text = "HIVE_DB_PW";
	assert_int_equal(cmr_vec_push(&s->changes, ch), 0);
	assert_cmr_ok(cmr_state_new(&desired, CMR_STATE_DESIRED, &fx->err),
	              &fx->err);
	assert_cmr_ok(
	        cmr_state_add_cluster(&dc, desired, "Cluster 1", &fx->err),
	        &fx->err);
	assert_cmr_ok(
	        cmr_cluster_add_service(&ds, desired, dc, "hive", &fx->err),
	        &fx->err);
	assert_cmr_ok(cmr_config_set(NULL, desired, &ds->config,
	                             "hive_metastore_database_password", &ref,
	                             true, NULL, &fx->err),
	              &fx->err);
	assert_int_equal(
	        cmr_plan_secret_tag(&tag, "Cluster 1/hive",
	                            "hive_metastore_database_password"),
	        0);

	expect(fx, "PUT", V "/clusters/Cluster%201/services/hive/config?*", 200,
	       "{\"items\":[]}");
	expect(fx, "GET", V "/clusters/Cluster%201/services/hive/config", 200,
	       "{\"items\":[{\"name\":\"hive_metastore_database_password\","
	       "\"value\":\"REDACTED\",\"sensitive\":true}]}");
	cmr_fake_expect(fx->fake, "PUT", V "/clusters/Cluster%201/tags",
	                tag.ptr, 200, "[]");
	expect(fx, "GET", V "/clusters/Cluster%201/services", 200,
	       "{\"items\":[]}");

	memset(&po, 0, sizeof(po));
	po.resolve = fixed_secret;
	po.hmac_key = "k3y";
	po.hmac_key_len = 3;
	exec_options(&o, fx);
	o.desired = desired;
	o.plan_opt = &po;
	o.progress = collect;
	o.progress_ud = &events;
	snprintf(path, sizeof(path), "%s/j.journal", dir);
	o.journal_path = path;
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	assert_int_equal(rep.secrets, 1);
	assert_int_equal(rep.secret_records, 1);
	put = cmr_fake_transport_request(fx->fake, 0);
	assert_non_null(strstr(put->body, "\"s3cr3t-value\""));
	/* The record is the HMAC, never the value. */
	put = cmr_fake_transport_request(fx->fake, 2);
	assert_non_null(strstr(put->body, "hmac-sha256:"));
	assert_null(strstr(put->body, "s3cr3t"));
	assert_null(strstr(events.ptr, "s3cr3t"));
	assert_non_null(strstr(events.ptr, "hive"));
	journal = cmr_test_read_file(path, &len);
	assert_true(len > 0);
	assert_null(strstr(journal, "s3cr3t"));
	assert_non_null(strstr(journal, "\"plan\":\"5ec2e7\""));
	cmr_free(journal);
	cmr_test_rmtree(dir);
	cmr_free(dir);
	cmr_buf_release(&events);
	cmr_buf_release(&tag);
	cmr_state_free(desired);
	cmr_plan_free(plan);
}

static size_t count_requests(struct fixture *fx, const char *method,
                             const char *path_prefix)
{
	size_t i, n = 0;

	for (i = 0; i < cmr_fake_transport_requests(fx->fake); i++) {
		const struct cmr_fake_request *r =
		        cmr_fake_transport_request(fx->fake, i);

		if (strcmp(r->method, method) == 0 &&
		    strncmp(r->url, path_prefix, strlen(path_prefix)) == 0)
			n++;
	}
	return n;
}

static void test_exec__lock_renewed_during_waits(void **state)
{
	struct fixture *fx = *state;
	struct cmr_plan *plan = NULL;
	struct cmr_exec_options o;
	struct cmr_exec_report rep;
	int i;

	assert_int_equal(cmr_plan_new(&plan, NULL), 0);
	plan->plan_id = "10c4";
	plan->refresh_parcel_repos = true;
	assert_int_equal(cmr_vec_push(&plan->clusters, "Cluster 1"), 0);
	expect(fx, "PUT", V "/clusters/Cluster%201/tags", 200, "[]");
	expect(fx, "GET", V "/clusters/Cluster%201/tags?*", 200, "[]");
	expect(fx, "GET", V "/cm/commands", 200, "{\"items\":[]}");
	expect(fx, "POST", V "/cm/commands/refreshParcelRepos", 200,
	       "{\"id\":5,\"name\":\"RefreshParcelRepos\",\"active\":true}");
	for (i = 0; i < 3; i++)
		expect(fx, "GET", V "/commands/5", 200,
		       "{\"id\":5,\"name\":\"RefreshParcelRepos\","
		       "\"active\":true}");
	expect(fx, "GET", V "/commands/5", 200,
	       "{\"id\":5,\"active\":false,\"success\":true}");
	/* A lifetime so short that every wait renews: the first tick comes
	 * before the clock moved, the next two after a sleep. */
	for (i = 0; i < 2; i++) {
		expect(fx, "PUT", V "/clusters/Cluster%201/tags", 200, "[]");
		expect(fx, "DELETE", V "/clusters/Cluster%201/tags", 200, "[]");
	}
	expect(fx, "GET", V "/clusters/Cluster%201/services", 200,
	       "{\"items\":[]}");
	expect(fx, "DELETE", V "/clusters/Cluster%201/tags", 200, "[]");
	exec_options(&o, fx);
	o.flags = CMR_EXEC_NO_VERIFY;
	o.lock_ttl_ms = 3;
	o.holder = "ci@runner";
	assert_cmr_ok(cmr_exec_apply(&rep, plan, fx->client, &o, &fx->err),
	              &fx->err);
	assert_int_equal(count_requests(fx, "PUT", V "/clusters"), 3);
	assert_int_equal(count_requests(fx, "DELETE", V "/clusters"), 3);
	/* The release deletes the tag by name, every value. */
	assert_null(strstr(
	        cmr_fake_transport_request(
	                fx->fake, cmr_fake_transport_requests(fx->fake) - 1)
	                ->body,
	        "\"value\""));
	assert_non_null(strstr(cmr_fake_transport_request(fx->fake, 0)->body,
	                       "holder=ci@runner"));
	assert_non_null(strstr(cmr_fake_transport_request(fx->fake, 0)->body,
	                       "plan=10c4"));
	assert_int_equal(strlen(rep.lock_id), 16);
	cmr_plan_free(plan);
}

static void test_exec__write_paths_and_bodies(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_scope sc = { CMR_SCOPE_GROUP, "a/b c", "hdfs",
		                "hdfs-DATANODE-BASE" };
	struct cmr_api_config_item items[] = { { "k1", "v\"1" },
		                               { "k2", NULL } };
	struct cmr_api_tag tags[] = { { "cmrecon.lock.1", "x=y" },
		                      { "cmrecon.lock.2", NULL } };
	const char *names[] = { "r1", "r2" };

	(void)state;
	assert_int_equal(
	        cmr_api_build_config_put(&b, 45, &sc, "cmrecon apply, plan 1"),
	        0);
	assert_string_equal(b.ptr, V "/clusters/a%2Fb%20c/services/hdfs/"
	                             "roleConfigGroups/hdfs-DATANODE-BASE/"
	                             "config?message=cmrecon%20apply%2C%20"
	                             "plan%201");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_api_body_config(&b, items, 2), 0);
	assert_string_equal(b.ptr, "{\"items\":[{\"name\":\"k1\",\"value\":"
	                           "\"v\\\"1\"},{\"name\":\"k2\",\"value\":"
	                           "null}]}");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_api_build_parcel_command(&b, 45, "C", "CDH",
	                                              "7.1.9-1", "activate"),
	                 0);
	assert_string_equal(b.ptr, V "/clusters/C/parcels/products/CDH/"
	                             "versions/7.1.9-1/commands/activate");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_api_build_active_commands(&b, 45, NULL, NULL), 0);
	assert_string_equal(b.ptr, V "/cm/commands");
	cmr_buf_reset(&b);
	assert_int_equal(
	        cmr_api_build_role_command(&b, 45, "C", "hdfs", "refresh"), 0);
	assert_string_equal(b.ptr, V "/clusters/C/services/hdfs/"
	                             "roleCommands/refresh");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_api_body_role_names(&b, names, 2), 0);
	assert_string_equal(b.ptr, "{\"items\":[\"r1\",\"r2\"]}");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_api_body_tags(&b, tags, 2), 0);
	assert_string_equal(b.ptr, "[{\"name\":\"cmrecon.lock.1\",\"value\":"
	                           "\"x=y\"},{\"name\":\"cmrecon.lock.2\"}]");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_api_body_rolling_restart(&b), 0);
	assert_string_equal(b.ptr, "{\"staleConfigsOnly\":true}");
	cmr_buf_release(&b);
}

static void test_exec__decode_bulk_and_refs(void **state)
{
	struct cmr_api_command_list l;
	struct cmr_error err = CMR_ERROR_INIT;
	static const char body[] =
	        "{\"items\":[{\"id\":1,\"name\":\"Refresh\",\"active\":true,"
	        "\"serviceRef\":{\"clusterName\":\"C\",\"serviceName\":"
	        "\"hdfs\"},\"clusterRef\":{\"clusterName\":\"C\"}}],"
	        "\"errors\":[\"role r9 not found\",\"role r8 busy\"]}";

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_cmr_ok(cmr_api_decode_command_list(&l, "bulk", body,
	                                          sizeof(body) - 1, &err),
	              &err);
	assert_int_equal(l.len, 1);
	assert_int_equal(l.items[0].id, 1);
	assert_string_equal(l.items[0].service, "hdfs");
	assert_string_equal(l.items[0].cluster, "C");
	assert_string_equal(l.errors, "role r9 not found; role r8 busy");
	cmr_api_command_list_release(&l);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_api_decode_command_list(&l, "bulk", "[1]", 3, &err), &err);
	cmr_api_command_list_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_exec__wait_command_polls_with_backoff),
		T(test_exec__backoff_is_capped),
		T(test_exec__failed_command_names_deepest_child),
		T(test_exec__timeout_is_unknown_outcome),
		T(test_exec__default_deadlines),
		T(test_exec__tolerates_five_transport_errors),
		T(test_exec__six_transport_errors_fail),
		T(test_exec__404_is_not_retried),
		T(test_exec__tick_interrupts),
		T(test_exec__wait_parcel_reaches_stage),
		T(test_exec__wait_parcel_fails_on_errors),
		T(test_exec__health_gate),
		T(test_exec__health_bad_names_checks),
		T(test_exec__apply_order),
		T(test_exec__clusters_in_turn_without_clone),
		T(test_exec__failed_cluster_stops_the_next),
		T(test_exec__lost_answer_is_looked_up),
		T(test_exec__running_command_is_waited_on),
		T(test_exec__ignored_write_fails),
		T(test_exec__maintenance_and_deferred_skipped),
		T(test_exec__lock_refused_names_holder),
		T(test_exec__desired_from_plan),
		T(test_exec__secret_written_recorded_never_shown),
		T(test_exec__lock_renewed_during_waits),
		T(test_exec__write_paths_and_bodies),
		T(test_exec__decode_bulk_and_refs),
#undef T
	};

	return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
