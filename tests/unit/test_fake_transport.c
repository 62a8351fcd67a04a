/*
 * test_fake_transport.c -- the scripted fake transport must be as strict as
 * the tests that lean on it assume: order-free within a wave, wave
 * boundaries enforced, unexpected and unused requests reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmr/transport.h"

#include "fake_transport.h"
#include "support.h"

struct fixture {
	struct cmr_fake_transport *f;
	struct cmr_transport *t;
	struct cmr_http_response resp[4];
	struct cmr_error err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	size_t i;

	assert_non_null(fx);
	fx->f = cmr_fake_transport_new();
	fx->t = cmr_fake_transport_base(fx->f);
	for (i = 0; i < CMR_ARRAY_SIZE(fx->resp); i++)
		cmr_http_response_init(&fx->resp[i]);
	cmr_error_clear(&fx->err);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(fx->resp); i++)
		cmr_http_response_release(&fx->resp[i]);
	cmr_transport_free(fx->t);
	free(fx);
	return 0;
}

static void release_all(struct fixture *fx)
{
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(fx->resp); i++)
		cmr_http_response_release(&fx->resp[i]);
}

static void test_fake_transport__matches_regardless_of_order(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req[] = {
		{ .method = "GET", .url = "/b" },
		{ .method = "GET", .url = "/a" },
	};

	cmr_fake_expect(fx->f, "GET", "/a", NULL, 200, "A");
	cmr_fake_expect(fx->f, "GET", "/b", NULL, 404, "{\"message\":\"B\"}");
	assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 2, &fx->err),
	              &fx->err);
	assert_int_equal(fx->resp[0].status, 404);
	assert_string_equal(fx->resp[0].body.ptr, "{\"message\":\"B\"}");
	assert_string_equal(fx->resp[0].content_type, "application/json");
	assert_int_equal(fx->resp[1].status, 200);
	assert_string_equal(fx->resp[1].body.ptr, "A");
	assert_cmr_ok(cmr_fake_transport_verify(fx->f, &fx->err), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 1);
	assert_int_equal(cmr_fake_transport_requests(fx->f), 2);
	assert_int_equal(fx->t->stats.waves, 1);
	assert_int_equal(fx->t->stats.requests, 2);
}

static void test_fake_transport__unexpected_request_fails(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req[] = {
		{ .method = "GET", .url = "/a" },
		{ .method = "DELETE", .url = "/a" },
	};

	cmr_fake_expect(fx->f, "GET", "/a", NULL, 200, "A");
	assert_cmr_fails_with(
	        CMR_ERROR,
	        cmr_transport_send_all(fx->t, req, fx->resp, 2, &fx->err),
	        &fx->err);
	assert_non_null(strstr(fx->err.msg, "unexpected request DELETE /a"));
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[1].status, 0);
	assert_int_equal(fx->resp[1].err.code, CMR_ERROR);
	cmr_error_clear(&fx->err);
	assert_cmr_fails_with(CMR_ERROR,
	                      cmr_fake_transport_verify(fx->f, &fx->err),
	                      &fx->err);
	assert_non_null(strstr(fx->err.msg, "unexpected request DELETE /a"));
}

static void test_fake_transport__reports_unconsumed(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req = { .method = "GET", .url = "/a" };

	cmr_fake_expect(fx->f, "GET", "/a", NULL, 200, "A");
	cmr_fake_expect(fx->f, "GET", "/late", NULL, 200, "");
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect(fx->f, "PUT", "/never", NULL, 200, "");
	cmr_fake_wave(fx->f, CMR_FAKE_ANY_WAVE);
	cmr_fake_expect(fx->f, "POST", "/any", NULL, 200, "");
	assert_cmr_ok(cmr_transport_send(fx->t, &req, fx->resp, &fx->err),
	              &fx->err);
	assert_cmr_fails_with(CMR_ERROR,
	                      cmr_fake_transport_verify(fx->f, &fx->err),
	                      &fx->err);
	assert_non_null(
	        strstr(fx->err.msg,
	               "wave 1 ended without the expected request GET /late"));
	assert_non_null(
	        strstr(fx->err.msg, "never requested: PUT /never (wave 2"));
	assert_non_null(strstr(fx->err.msg, "never requested: POST /any"));
}

static void test_fake_transport__enforces_wave_boundaries(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request a = { .method = "GET", .url = "/a" };
	const struct cmr_http_request b = { .method = "GET", .url = "/b" };

	cmr_fake_expect(fx->f, "GET", "/a", NULL, 200, "A");
	cmr_fake_wave(fx->f, 2);
	cmr_fake_expect(fx->f, "GET", "/b", NULL, 200, "B");
	/* /b asked for in wave 1 is unexpected there */
	assert_cmr_fails_with(CMR_ERROR,
	                      cmr_transport_send(fx->t, &b, fx->resp, &fx->err),
	                      &fx->err);
	release_all(fx);
	cmr_error_clear(&fx->err);
	/* wave 2 now: /b is served */
	assert_cmr_ok(cmr_transport_send(fx->t, &b, fx->resp, &fx->err),
	              &fx->err);
	assert_string_equal(fx->resp[0].body.ptr, "B");
	assert_int_equal(cmr_fake_transport_waves(fx->f), 2);
	assert_int_not_equal(cmr_fake_transport_verify(fx->f, &fx->err), 0);
	assert_non_null(
	        strstr(cmr_fake_transport_failures(fx->f),
	               "wave 1 ended without the expected request GET /a"));
	(void)a;
}

static void test_fake_transport__matches_body_and_prefix(void **state)
{
	struct fixture *fx = *state;
	const char *body = "{\"items\":[{\"name\":\"dfs_replication\"}]}";
	const struct cmr_http_request req[] = {
		{ .method = "PUT",
		  .url = "/api/v45/clusters/c/services/hdfs/config?message=x",
		  .body = body,
		  .body_len = strlen(body) },
		{ .method = "PUT",
		  .url = "/api/v45/clusters/c/services/yarn/config",
		  .body = "{}",
		  .body_len = 2 },
	};

	cmr_fake_expect(fx->f, "PUT", "/api/v45/clusters/c/services/*",
	                "dfs_replication", 200, "{\"items\":[]}");
	cmr_fake_expect(fx->f, "PUT", "/api/v45/clusters/c/services/*", "{}",
	                400, "{\"message\":\"bad\"}");
	assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 2, &fx->err),
	              &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[1].status, 400);
	assert_cmr_ok(cmr_fake_transport_verify(fx->f, &fx->err), &fx->err);
	assert_string_equal(cmr_fake_transport_request(fx->f, 0)->body, body);
	assert_int_equal(cmr_fake_transport_request(fx->f, 0)->wave, 1);
	assert_null(cmr_fake_transport_request(fx->f, 2));
}

static void test_fake_transport__body_from_file(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req = { .method = "GET", .url = "/f" };
	char path[] = "/tmp/cmr-fake-XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs("{\"items\": []}\n", fp);
	fclose(fp);
	cmr_fake_expect_file(fx->f, "GET", "/f", NULL, 200, path);
	unlink(path);
	assert_cmr_ok(cmr_transport_send(fx->t, &req, fx->resp, &fx->err),
	              &fx->err);
	assert_string_equal(fx->resp[0].body.ptr, "{\"items\": []}\n");
	assert_cmr_ok(cmr_fake_transport_verify(fx->f, &fx->err), &fx->err);

	cmr_fake_expect_file(fx->f, "GET", "/g", NULL, 200,
	                     "/nonexistent/cmr-fake.json");
	assert_int_not_equal(cmr_fake_transport_verify(fx->f, &fx->err), 0);
	assert_non_null(strstr(fx->err.msg, "cannot read body file"));
}

static void test_fake_transport__scripted_transport_error(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req[] = {
		{ .method = "GET", .url = "/ok" },
		{ .method = "POST", .url = "/cmd" },
	};

	cmr_fake_expect(fx->f, "GET", "/ok", NULL, 200, "");
	cmr_fake_expect_error(fx->f, "POST", "/cmd", NULL, CMR_ETRANSPORT,
	                      CMR_HTTP_RESP_MAYBE_APPLIED, "connection reset");
	assert_cmr_fails_with(
	        CMR_ETRANSPORT,
	        cmr_transport_send_all(fx->t, req, fx->resp, 2, &fx->err),
	        &fx->err);
	assert_string_equal(fx->err.msg, "connection reset");
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[1].status, 0);
	assert_true(fx->resp[1].flags & CMR_HTTP_RESP_MAYBE_APPLIED);
	assert_cmr_ok(cmr_fake_transport_verify(fx->f, &fx->err), &fx->err);
}

static void test_fake_transport__any_wave_pool(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request poll = { .method = "GET",
		                               .url = "/api/v45/commands/7" };
	int i;

	cmr_fake_wave(fx->f, CMR_FAKE_ANY_WAVE);
	cmr_fake_expect(fx->f, "GET", "/api/v45/commands/7", NULL, 200,
	                "{\"active\":true}");
	cmr_fake_expect(fx->f, "GET", "/api/v45/commands/7", NULL, 200,
	                "{\"active\":false}");
	for (i = 0; i < 2; i++) {
		release_all(fx);
		assert_cmr_ok(
		        cmr_transport_send(fx->t, &poll, fx->resp, &fx->err),
		        &fx->err);
	}
	/* in the order they were added */
	assert_string_equal(fx->resp[0].body.ptr, "{\"active\":false}");
	assert_cmr_ok(cmr_fake_transport_verify(fx->f, &fx->err), &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 2);
}

static void test_fake_transport__empty_wave_is_noop(void **state)
{
	struct fixture *fx = *state;

	assert_cmr_ok(
	        cmr_transport_send_all(fx->t, NULL, fx->resp, 0, &fx->err),
	        &fx->err);
	assert_int_equal(cmr_fake_transport_waves(fx->f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_fake_transport__matches_regardless_of_order),
		T(test_fake_transport__unexpected_request_fails),
		T(test_fake_transport__reports_unconsumed),
		T(test_fake_transport__enforces_wave_boundaries),
		T(test_fake_transport__matches_body_and_prefix),
		T(test_fake_transport__body_from_file),
		T(test_fake_transport__scripted_transport_error),
		T(test_fake_transport__any_wave_pool),
		T(test_fake_transport__empty_wave_is_noop),
#undef T
	};

	return cmocka_run_group_tests_name("fake_transport", tests, NULL, NULL);
}
