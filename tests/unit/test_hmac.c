/*
 * test_hmac.c -- the digests of secret records, against published test
 * vectors (FIPS 180-2 for SHA-256, RFC 4231 test case 2 for HMAC).
 */
#include <string.h>

#include "cmr/hmac.h"

#include "support.h"

static void test_hmac__sha256_known_vector(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	assert_int_equal(cmr_sha256_hex(&b, "abc", 3), 0);
	assert_string_equal(b.ptr, "ba7816bf8f01cfea414140de5dae2223"
	                           "b00361a396177a9cb410ff61f20015ad");
	cmr_buf_release(&b);
}

static void test_hmac__record_known_vector(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;
	const char *data = "what do ya want for nothing?";

	(void)state;
	assert_int_equal(cmr_hmac_record(&b, "Jefe", 4, data, strlen(data)), 0);
	/* 5bdcc146...64ec3843 in base64 */
	assert_string_equal(
	        b.ptr,
	        "hmac-sha256:W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
	cmr_buf_release(&b);
}

static void test_hmac__secure_streq(void **state)
{
	(void)state;
	assert_true(cmr_secure_streq("hmac-sha256:abc", "hmac-sha256:abc"));
	assert_false(cmr_secure_streq("hmac-sha256:abc", "hmac-sha256:abd"));
	assert_false(cmr_secure_streq("abc", "abcd"));
	assert_true(cmr_secure_streq("", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac__sha256_known_vector),
		cmocka_unit_test(test_hmac__record_known_vector),
		cmocka_unit_test(test_hmac__secure_streq),
	};

	return cmocka_run_group_tests_name("hmac", tests, NULL, NULL);
}
