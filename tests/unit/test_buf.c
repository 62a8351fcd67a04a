/*
 * test_buf.c -- the string builder's invariants: never NULL, always
 * NUL-terminated, capped, sticky errors, and the escaping appenders.
 */
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"

#include "support.h"

static void test_buf__init_is_empty_never_null(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	assert_non_null(b.ptr);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	cmr_buf_release(&b);
	assert_non_null(b.ptr);
}

static void test_buf__appends_and_terminates(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(cmr_buf_adds(&b, "dfs"), 0);
	assert_int_equal(cmr_buf_addc(&b, '_'), 0);
	assert_int_equal(cmr_buf_addf(&b, "%s=%d", "replication", 3), 0);
	assert_string_equal(b.ptr, "dfs_replication=3");
	assert_int_equal(b.len, strlen("dfs_replication=3"));
	for (i = 0; i < 1000; i++)
		cmr_buf_adds(&b, "0123456789");
	assert_int_equal(cmr_buf_error(&b), 0);
	assert_int_equal(b.len, 17 + 10000);
	assert_int_equal(b.ptr[b.len], '\0');
	cmr_buf_release(&b);
}

static void test_buf__cap_is_sticky(void **state)
{
	struct cmr_buf b;

	(void)state;
	cmr_buf_init(&b, 8);
	assert_int_equal(cmr_buf_adds(&b, "12345678"), 0);
	assert_int_equal(cmr_buf_addc(&b, '9'), CMR_ENOMEM);
	assert_true(cmr_buf_toobig(&b));
	/* Contents unchanged, and later appends are no-ops. */
	assert_string_equal(b.ptr, "12345678");
	assert_int_equal(cmr_buf_adds(&b, ""), CMR_ENOMEM);
	assert_null(cmr_buf_detach(&b, NULL));
	assert_string_equal(b.ptr, "");
	cmr_buf_release(&b);
}

static void test_buf__oom_is_sticky(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	cmr_test_fail_alloc_after(0);
	assert_int_equal(cmr_buf_adds(&b, "x"), CMR_ENOMEM);
	cmr_test_alloc_reset();
	assert_true(b.oom);
	assert_int_equal(cmr_buf_adds(&b, "y"), CMR_ENOMEM);
	assert_string_equal(b.ptr, "");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_buf_adds(&b, "y"), 0);
	assert_string_equal(b.ptr, "y");
	cmr_buf_release(&b);
}

static void test_buf__detach_transfers_ownership(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;
	size_t len = 99;
	char *s;

	(void)state;
	s = cmr_buf_detach(&b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	cmr_free(s);
	cmr_buf_adds(&b, "hdfs");
	s = cmr_buf_detach(&b, &len);
	assert_string_equal(s, "hdfs");
	assert_int_equal(len, 4);
	assert_string_equal(b.ptr, "");
	cmr_free(s);
}

static void test_buf__urlenc_encodes_reserved(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	assert_int_equal(cmr_buf_add_urlenc(&b, "Cluster 1/a?b&c=d~_.-"), 0);
	assert_string_equal(b.ptr, "Cluster%201%2Fa%3Fb%26c%3Dd~_.-");
	cmr_buf_reset(&b);
	cmr_buf_add_urlenc(&b, "\xc3\xa9");
	assert_string_equal(b.ptr, "%C3%A9");
	cmr_buf_release(&b);
}

static void test_buf__json_str_escapes(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	assert_int_equal(cmr_buf_add_json_str(&b, "a\"b\\c\nd\te\x01\xc3\xa9"),
	                 0);
	assert_string_equal(b.ptr, "\"a\\\"b\\\\c\\nd\\te\\u0001\xc3\xa9\"");
	cmr_buf_release(&b);
}

static void test_buf__truncate_and_reset(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	cmr_buf_adds(&b, "abcdef");
	cmr_buf_truncate(&b, 3);
	assert_string_equal(b.ptr, "abc");
	cmr_buf_truncate(&b, 10);
	assert_string_equal(b.ptr, "abc");
	cmr_buf_reset(&b);
	assert_string_equal(b.ptr, "");
	assert_int_equal(b.len, 0);
	cmr_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf__init_is_empty_never_null),
		cmocka_unit_test(test_buf__appends_and_terminates),
		cmocka_unit_test(test_buf__cap_is_sticky),
		cmocka_unit_test(test_buf__oom_is_sticky),
		cmocka_unit_test(test_buf__detach_transfers_ownership),
		cmocka_unit_test(test_buf__urlenc_encodes_reserved),
		cmocka_unit_test(test_buf__json_str_escapes),
		cmocka_unit_test(test_buf__truncate_and_reset),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
