/*
 * test_parse.c -- checked numbers and durations: whole string or nothing.
 */
#include <stdint.h>
#include <string.h>

#include "cmr/parse.h"

#include "support.h"

static void test_parse__i64_accepts_only_whole_numbers(void **state)
{
	int64_t v = 42;

	(void)state;
	assert_int_equal(cmr_parse_i64("-12", &v), 0);
	assert_int_equal(v, -12);
	assert_int_equal(cmr_parse_i64("+7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(cmr_parse_i64("9223372036854775807", &v), 0);
	assert_true(v == INT64_MAX);
	v = 42;
	assert_int_equal(cmr_parse_i64("", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_i64(" 1", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_i64("1 ", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_i64("12abc", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_i64("-", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_i64("9223372036854775808", &v), CMR_EINVAL);
	assert_int_equal(v, 42);
}

static void test_parse__u64_refuses_signs(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(cmr_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cmr_parse_u64("-1", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_u64("+1", &v), CMR_EINVAL);
	assert_int_equal(cmr_parse_u64("18446744073709551616", &v), CMR_EINVAL);
}

static void test_parse__double_refuses_hex_inf_nan(void **state)
{
	double d = 0;

	(void)state;
	assert_int_equal(cmr_parse_double("1.5", &d), 0);
	assert_true(d == 1.5);
	assert_int_equal(cmr_parse_double("-.25", &d), 0);
	assert_true(d == -0.25);
	assert_int_equal(cmr_parse_double("1e3", &d), 0);
	assert_true(d == 1000.0);
	assert_int_equal(cmr_parse_double("0x10", &d), CMR_EINVAL);
	assert_int_equal(cmr_parse_double("inf", &d), CMR_EINVAL);
	assert_int_equal(cmr_parse_double("nan", &d), CMR_EINVAL);
	assert_int_equal(cmr_parse_double("1e999", &d), CMR_EINVAL);
	assert_int_equal(cmr_parse_double(".", &d), CMR_EINVAL);
	assert_int_equal(cmr_parse_double("1.5x", &d), CMR_EINVAL);
}

static void test_parse__durations(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;
	int64_t ms = 0;

	(void)state;
	assert_int_equal(cmr_parse_duration_ms("30s", &ms, &err), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(cmr_parse_duration_ms("5m", &ms, &err), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(cmr_parse_duration_ms("2h", &ms, &err), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(cmr_parse_duration_ms("1h30m", &ms, &err), 0);
	assert_int_equal(ms, 5400000);
	assert_int_equal(cmr_parse_duration_ms("250ms", &ms, &err), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(cmr_parse_duration_ms("1d", &ms, &err), 0);
	assert_int_equal(ms, 86400000);
}

static void test_parse__bad_durations_say_why(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;
	int64_t ms = 7;

	(void)state;
	assert_int_equal(cmr_parse_duration_ms("30", &ms, &err), CMR_EINVAL);
	assert_non_null(strstr(err.msg, "a unit (ms, s, m, h, d)"));
	cmr_error_clear(&err);
	assert_int_equal(cmr_parse_duration_ms("", &ms, &err), CMR_EINVAL);
	assert_int_equal(cmr_parse_duration_ms("5x", &ms, NULL), CMR_EINVAL);
	assert_int_equal(cmr_parse_duration_ms("-5s", &ms, NULL), CMR_EINVAL);
	assert_int_equal(cmr_parse_duration_ms("0s", &ms, NULL), CMR_EINVAL);
	assert_int_equal(cmr_parse_duration_ms("5 s", &ms, NULL), CMR_EINVAL);
	assert_int_equal(
	        cmr_parse_duration_ms("99999999999999999999h", &ms, NULL),
	        CMR_EINVAL);
	assert_int_equal(cmr_parse_duration_ms("9999999999999999h", &ms, NULL),
	                 CMR_EINVAL);
	assert_int_equal(ms, 7);
}

static void test_parse__format_duration(void **state)
{
	char s[32];

	(void)state;
	cmr_format_duration(s, sizeof(s), 250);
	assert_string_equal(s, "250ms");
	cmr_format_duration(s, sizeof(s), 1500);
	assert_string_equal(s, "1.5s");
	cmr_format_duration(s, sizeof(s), 30000);
	assert_string_equal(s, "30s");
	cmr_format_duration(s, sizeof(s), 5400000);
	assert_string_equal(s, "1h30m");
	cmr_format_duration(s, sizeof(s), 7200000);
	assert_string_equal(s, "2h");
	cmr_format_duration(s, sizeof(s), 90000);
	assert_string_equal(s, "1m30s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse__i64_accepts_only_whole_numbers),
		cmocka_unit_test(test_parse__u64_refuses_signs),
		cmocka_unit_test(test_parse__double_refuses_hex_inf_nan),
		cmocka_unit_test(test_parse__durations),
		cmocka_unit_test(test_parse__bad_durations_say_why),
		cmocka_unit_test(test_parse__format_duration),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
