/*
 * test_planfile.c -- plan files: the JSON written for a rich plan (a
 * fixture, so format changes are reviewed), the byte-identical round trip,
 * no secret ever written, and the reader's refusals, each with a message
 * that locates the problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/planfile.h"

#include "render_plans.h"
#include "support.h"

static char *write_plan(struct cmr_plan *p)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	char *s;

	assert_cmr_ok(cmr_planfile_write(&b, p, &err), &err);
	s = cmr_buf_detach(&b, NULL);
	assert_non_null(s);
	return s;
}

/* write -> read -> write gives the same bytes. */
static void check_round_trip(struct cmr_plan *p)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *q = NULL;
	char *one = write_plan(p), *two;

	assert_cmr_ok(cmr_planfile_read(&q, one, strlen(one), &err), &err);
	two = write_plan(q);
	assert_string_equal(one, two);
	cmr_free(one);
	cmr_free(two);
	cmr_plan_free(q);
}

static void test_planfile__rich_plan_round_trips(void **state)
{
	struct cmr_plan *p = rp_rich();

	(void)state;
	check_round_trip(p);
	cmr_plan_free(p);
}

static void test_planfile__empty_plan_round_trips(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	check_round_trip(p);
	cmr_plan_free(p);
}

/* Quotes, backslashes, control bytes, UTF-8 and stray bytes survive. */
static void test_planfile__odd_strings_round_trip(void **state)
{
	static const char odd[] =
	        "a \"q\" \\ \n\t\r\x01\x1f\x7f caf\xc3\xa9 \xff/";
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_rich(), *q = NULL;
	struct cmr_change *c = p->scopes.items[0]->changes.items[0];
	char *text;

	(void)state;
	c->new_value = odd;
	c->key = odd;
	p->scopes.items[3]->scope.service = odd;
	p->notes.items[0]->message = odd;
	p->cm_url = odd;
	check_round_trip(p);
	text = write_plan(p);
	assert_cmr_ok(cmr_planfile_read(&q, text, strlen(text), &err), &err);
	assert_string_equal(q->scopes.items[0]->changes.items[0]->new_value,
	                    odd);
	assert_string_equal(q->cm_url, odd);
	cmr_free(text);
	cmr_plan_free(p);
	cmr_plan_free(q);
}

static void test_planfile__read_keeps_every_field(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_rich(), *q = NULL;
	char *text = write_plan(p);
	const struct cmr_change *c;
	const struct cmr_parcel_change *pc;

	(void)state;
	assert_cmr_ok(cmr_planfile_read(&q, text, strlen(text), &err), &err);
	assert_string_equal(q->cm_url, "https://cm.example.com:7183");
	assert_string_equal(q->plan_id, "5f0c2a9e41d7b3c8");
	assert_int_equal(q->clusters.len, 2);
	assert_int_equal(q->targets.len, 2);
	assert_true(q->refresh_parcel_repos);
	assert_int_equal(q->scopes.len, p->scopes.len);
	assert_int_equal(q->scopes.items[0]->scope.kind, CMR_SCOPE_CM);
	c = q->scopes.items[0]->changes.items[0];
	assert_string_equal(c->key, "PARCEL_UPDATE_FREQ");
	assert_int_equal(c->op, CMR_OP_UPDATE);
	assert_string_equal(c->old_value, "60");
	assert_string_equal(c->new_value, "1");
	assert_string_equal(c->mark.file, "prod.yaml");
	assert_int_equal(c->mark.line, 6);
	assert_int_equal(c->mark.col, 5);
	pc = q->parcels.items[0];
	assert_string_equal(pc->product, "CDH");
	assert_int_equal(pc->from, CMR_PARCEL_AVAILABLE_REMOTELY);
	assert_int_equal(pc->to, CMR_PARCEL_ACTIVATED);
	assert_int_equal(pc->nsteps, 3);
	assert_int_equal(pc->steps[2], CMR_PARCEL_CMD_ACTIVATE);
	assert_string_equal(pc->replaces, "7.1.8-1.cdh7.1.8.p0.30990532");
	assert_null(q->restarts.items[0]->cluster);
	assert_int_equal(q->restarts.items[3]->action, CMR_ACTION_ROLLING);
	assert_int_equal(q->restarts.items[3]->reasons,
	                 CMR_REASON_SETTINGS | CMR_REASON_PARCEL);
	assert_true(q->restarts.items[4]->maintenance);
	assert_int_equal(q->notes.len, 5);
	assert_int_equal(q->notes.items[2]->level, CMR_NOTE_ERROR);
	assert_int_equal(q->fingerprints.len, 3);
	assert_true(cmr_plan_has_changes(q));
	cmr_free(text);
	cmr_plan_free(p);
	cmr_plan_free(q);
}

/* Compares the JSON of `p` with fixture render/NAME (or rewrites it). */
static void check_json_fixture(struct cmr_plan *p, const char *name)
{
	char *text = write_plan(p), *want;
	char path[512];
	size_t len;

	snprintf(path, sizeof(path), "%s/render/%s", CMR_TEST_FIXTURES, name);
	if (getenv("CMR_RENDER_UPDATE")) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		fputs(text, f);
		assert_int_equal(fclose(f), 0);
	}
	want = cmr_test_read_file(path, &len);
	assert_string_equal(text, want);
	cmr_free(want);
	cmr_free(text);
	cmr_plan_free(p);
}

/*
 * The format itself, reviewed as fixtures (CMR_RENDER_UPDATE=1); the
 * schema test validates them and `cmrecon show --json` of them.
 */
static void test_planfile__rich_plan_matches_fixture(void **state)
{
	(void)state;
	check_json_fixture(rp_rich(), "rich.plan.json");
}

static void test_planfile__empty_plan_matches_fixture(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_header(p);
	rp_add_fingerprints(p);
	check_json_fixture(p, "empty.plan.json");
}

static void test_planfile__never_contains_a_secret(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_leaky(), *q = NULL;
	char *text = write_plan(p);

	(void)state;
	assert_null(strstr(text, RP_SECRET));
	assert_non_null(strstr(text, "\"sensitive\": true"));
	/* What was written is a valid plan, still without the secret. */
	assert_cmr_ok(cmr_planfile_read(&q, text, strlen(text), &err), &err);
	assert_null(q->scopes.items[0]->changes.items[0]->new_value);
	cmr_free(text);
	cmr_plan_free(p);
	cmr_plan_free(q);
}

static void test_planfile__detects_plans_by_content(void **state)
{
	struct cmr_plan *p = rp_rich();
	char *text = write_plan(p);

	(void)state;
	assert_true(cmr_planfile_detect(text, strlen(text)));
	assert_false(cmr_planfile_detect("version: 1\nclusters: {}\n", 24));
	assert_false(cmr_planfile_detect("{\"kind\": \"other\"}", 17));
	assert_false(cmr_planfile_detect("{version: 1}", 12));
	assert_false(cmr_planfile_detect("", 0));
	cmr_free(text);
	cmr_plan_free(p);
}

/* ----------------------------------------------------------------------
 * Refusals
 */

/* The rich plan's JSON with the n-th (0-based) `from` replaced by `to`. */
static char *mutated(const char *from, size_t n, const char *to)
{
	struct cmr_plan *p = rp_rich();
	char *text = write_plan(p), *at = text, *res;
	struct cmr_buf b = CMR_BUF_INIT;

	for (;;) {
		at = strstr(at, from);
		assert_non_null(at);
		if (n-- == 0)
			break;
		at += strlen(from);
	}
	cmr_buf_add(&b, text, (size_t)(at - text));
	cmr_buf_adds(&b, to);
	cmr_buf_adds(&b, at + strlen(from));
	res = cmr_buf_detach(&b, NULL);
	assert_non_null(res);
	cmr_free(text);
	cmr_plan_free(p);
	return res;
}

static void refused(const char *text, const char *msg)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *q = NULL;

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_planfile_read(&q, text, strlen(text), &err),
	                      &err);
	assert_null(q);
	assert_string_equal(err.msg, msg);
}

static void refused_mutation(const char *from, size_t n, const char *to,
                             const char *msg)
{
	char *text = mutated(from, n, to);

	refused(text, msg);
	cmr_free(text);
}

static void test_planfile__refuses_unknown_op(void **state)
{
	(void)state;
	/* Updates: 0 in CM (scopes[0]), 1 in hbase, 2 in hdfs (scopes[5]). */
	refused_mutation("\"op\": \"update\"", 2, "\"op\": \"frob\"",
	                 "plan file: scopes[5].changes[0].op: unknown value "
	                 "'frob'");
}

static void test_planfile__refuses_unknown_format_version(void **state)
{
	(void)state;
	refused_mutation("\"format_version\": 1", 0, "\"format_version\": 2",
	                 "plan file: format_version 2 is not supported (this "
	                 "cmrecon reads 1)");
}

#define NOT_A_PLAN                                                    \
	"plan file: not a cmrecon plan (expected a JSON object with " \
	"\"kind\": \"cmrecon-plan\")"

static void test_planfile__refuses_other_documents(void **state)
{
	(void)state;
	refused("{\"kind\": \"something\"}", NOT_A_PLAN);
	refused("[1, 2]", NOT_A_PLAN);
	refused("version: 1\n", NOT_A_PLAN);
	refused("", NOT_A_PLAN);
	refused(" \n", NOT_A_PLAN);
}

static void test_planfile__refuses_invalid_json_with_location(void **state)
{
	(void)state;
	refused("{\n  \"kind\": \"cmrecon-plan\",\n  x\n}",
	        "plan file: invalid JSON at line 3, column 3: quoted object "
	        "property name expected");
	refused("{\"kind\": ", "plan file: invalid JSON at line 1, column 10: "
	                       "unexpected end of data");
}

static void test_planfile__refuses_text_after_the_plan(void **state)
{
	(void)state;
	refused("{\"kind\": \"cmrecon-plan\"}\n{}\n",
	        "plan file: invalid JSON at line 2, column 1: unexpected "
	        "character");
}

static void test_planfile__refuses_unknown_member(void **state)
{
	(void)state;
	refused_mutation("\"pruned\": false", 0,
	                 "\"pruned\": false, \"frob\": 1",
	                 "plan file: scopes[0].changes[0].frob: unknown "
	                 "member");
}

static void test_planfile__refuses_missing_member(void **state)
{
	(void)state;
	refused_mutation("\"needs_repo_refresh\": false,", 0, "",
	                 "plan file: parcels[0].needs_repo_refresh: missing");
}

static void test_planfile__refuses_wrong_types(void **state)
{
	(void)state;
	refused_mutation("\"line\": 6", 0, "\"line\": \"6\"",
	                 "plan file: scopes[0].changes[0].mark.line: expected "
	                 "a number, not a string");
	refused_mutation("\"line\": 6", 0, "\"line\": -6",
	                 "plan file: scopes[0].changes[0].mark.line: out of "
	                 "range");
	refused_mutation("\"key\": \"PARCEL_UPDATE_FREQ\"", 0, "\"key\": null",
	                 "plan file: scopes[0].changes[0].key: expected a "
	                 "string, not null");
	refused_mutation("\"reasons\": [\"already_stale\"]", 0,
	                 "\"reasons\": [\"bored\"]",
	                 "plan file: restarts[1].reasons[0]: unknown value "
	                 "'bored'");
	refused_mutation("\"steps\": [\"download\"", 0,
	                 "\"steps\": [\"teleport\"",
	                 "plan file: parcels[0].steps[0]: unknown value "
	                 "'teleport'");
}

static void test_planfile__refuses_a_secret_value(void **state)
{
	(void)state;
	/* The sixth null old_value is hive's first secret (scopes[7]). */
	refused_mutation("\"old_value\": null", 5, "\"old_value\": \"hunter2\"",
	                 "plan file: scopes[7].changes[0]: a sensitive change "
	                 "may not carry a value");
}

static void test_planfile__refuses_impossible_changes(void **state)
{
	(void)state;
	refused_mutation("\"new_value\": \"1\"", 0, "\"new_value\": null",
	                 "plan file: scopes[0].changes[0]: new_value is "
	                 "required for op 'update'");
	refused_mutation("\"kind\": \"group\"", 0, "\"kind\": \"service\"",
	                 "plan file: scopes[4]: a 'service' scope needs a "
	                 "cluster, a service and no group");
}

static void test_planfile__refuses_bad_fingerprint(void **state)
{
	(void)state;
	refused_mutation("\"sha256\": \"0f1e", 0, "\"sha256\": \"0F1e",
	                 "plan file: fingerprints[0].sha256: expected 64 "
	                 "lowercase hex digits");
}

/*
 * Out of memory at every allocation of ours while reading (json-c's own
 * allocations are not hooked): CMR_ENOMEM, nothing leaked (ASan).
 */
static void test_planfile__read_out_of_memory_is_enomem(void **state)
{
	struct cmr_plan *p = rp_rich();
	char *text = write_plan(p);
	long n;

	(void)state;
	for (n = 0;; n++) {
		struct cmr_error err = CMR_ERROR_INIT;
		struct cmr_plan *q = NULL;
		int rc;

		cmr_test_fail_alloc_after(n);
		rc = cmr_planfile_read(&q, text, strlen(text), &err);
		cmr_test_alloc_reset();
		if (rc == 0) {
			cmr_plan_free(q);
			break;
		}
		assert_int_equal(rc, CMR_ENOMEM);
		assert_null(q);
		assert_true(n < 100000);
	}
	assert_true(n > 0);
	cmr_free(text);
	cmr_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_planfile__rich_plan_round_trips),
		cmocka_unit_test(test_planfile__empty_plan_round_trips),
		cmocka_unit_test(test_planfile__odd_strings_round_trip),
		cmocka_unit_test(test_planfile__read_keeps_every_field),
		cmocka_unit_test(test_planfile__rich_plan_matches_fixture),
		cmocka_unit_test(test_planfile__empty_plan_matches_fixture),
		cmocka_unit_test(test_planfile__never_contains_a_secret),
		cmocka_unit_test(test_planfile__detects_plans_by_content),
		cmocka_unit_test(test_planfile__refuses_unknown_op),
		cmocka_unit_test(test_planfile__refuses_unknown_format_version),
		cmocka_unit_test(test_planfile__refuses_other_documents),
		cmocka_unit_test(
		        test_planfile__refuses_invalid_json_with_location),
		cmocka_unit_test(test_planfile__refuses_text_after_the_plan),
		cmocka_unit_test(test_planfile__refuses_unknown_member),
		cmocka_unit_test(test_planfile__refuses_missing_member),
		cmocka_unit_test(test_planfile__refuses_wrong_types),
		cmocka_unit_test(test_planfile__refuses_a_secret_value),
		cmocka_unit_test(test_planfile__refuses_impossible_changes),
		cmocka_unit_test(test_planfile__refuses_bad_fingerprint),
		cmocka_unit_test(test_planfile__read_out_of_memory_is_enomem),
	};

	return cmocka_run_group_tests_name("planfile", tests, NULL, NULL);
}
