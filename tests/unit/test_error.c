/*
 * test_error.c -- the error struct: first message wins, prefixes add
 * context, NULL is accepted, logging honours its level.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/error.h"
#include "cmr/log.h"

#include "support.h"

static void test_error__set_returns_code_and_first_wins(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;

	(void)state;
	assert_int_equal(cmr_error_set(&err, CMR_EINVAL, "unknown key '%s'",
	                               "dfs_replicaton"),
	                 CMR_EINVAL);
	assert_int_equal(cmr_error_set(&err, CMR_ENOTFOUND, "later"),
	                 CMR_ENOTFOUND);
	assert_int_equal(err.code, CMR_EINVAL);
	assert_string_equal(err.msg, "unknown key 'dfs_replicaton'");
	cmr_error_clear(&err);
	assert_int_equal(err.code, CMR_OK);
	assert_string_equal(err.msg, "");
}

static void test_error__null_is_accepted(void **state)
{
	(void)state;
	assert_int_equal(cmr_error_set(NULL, CMR_ETIMEOUT, "x"), CMR_ETIMEOUT);
	assert_int_equal(cmr_error_prefix(NULL, "x"), CMR_ERROR);
	cmr_error_clear(NULL);
}

static void test_error__prefix_adds_context(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;

	(void)state;
	cmr_error_set(&err, CMR_EINVAL, "unknown role type 'FOO'");
	assert_int_equal(cmr_error_prefix(&err, "loading '%s'", "prod.yaml"),
	                 CMR_EINVAL);
	assert_string_equal(err.msg,
	                    "loading 'prod.yaml': unknown role type 'FOO'");
}

static void test_error__long_messages_truncate(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;
	char big[2000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cmr_error_set(&err, CMR_EINVAL, "%s", big);
	assert_int_equal(strlen(err.msg), CMR_ERROR_MSG_MAX - 1);
	cmr_error_prefix(&err, "ctx");
	assert_int_equal(strlen(err.msg), CMR_ERROR_MSG_MAX - 1);
	assert_memory_equal(err.msg, "ctx: aaa", 8);
}

static void test_error__http_status_recorded(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;

	(void)state;
	assert_int_equal(
	        cmr_error_set_http(&err, 404, "Cluster '%s' not found.", "x"),
	        CMR_EAPI);
	assert_int_equal(err.http_status, 404);
	assert_string_equal(cmr_code_name(err.code), "EAPI");
	assert_string_equal(cmr_code_name(12345), "UNKNOWN");
}

struct captured {
	int calls;
	char last[256];
};

static void capture(enum cmr_log_level level, const char *component,
                    const char *msg, void *ud)
{
	struct captured *c = ud;

	c->calls++;
	snprintf(c->last, sizeof(c->last), "%s/%s/%s",
	         cmr_log_level_name(level), component, msg);
}

static void test_error__log_respects_level(void **state)
{
	struct captured c = { 0, "" };
	struct cmr_logger lg = { capture, &c, CMR_LOG_INFO };

	(void)state;
	cmr_log(&lg, CMR_LOG_DEBUG, "http", "hidden %d", 1);
	assert_int_equal(c.calls, 0);
	cmr_log(&lg, CMR_LOG_WARN, "api", "shown %d", 2);
	assert_int_equal(c.calls, 1);
	assert_string_equal(c.last, "warning/api/shown 2");
	cmr_log((const struct cmr_logger *)NULL, CMR_LOG_ERROR, "x", "y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error__set_returns_code_and_first_wins),
		cmocka_unit_test(test_error__null_is_accepted),
		cmocka_unit_test(test_error__prefix_adds_context),
		cmocka_unit_test(test_error__long_messages_truncate),
		cmocka_unit_test(test_error__http_status_recorded),
		cmocka_unit_test(test_error__log_respects_level),
	};

	return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
