/*
 * test_arena.c -- arena allocation: zeroed, aligned, big objects, sticky
 * out-of-memory, release and reuse.
 */
#include <stdint.h>
#include <string.h>

#include "cmr/arena.h"

#include "support.h"

static void test_arena__allocations_are_zeroed_and_aligned(void **state)
{
	struct cmr_arena a = CMR_ARENA_INIT;
	int i;

	(void)state;
	for (i = 1; i < 200; i++) {
		unsigned char *p = cmr_arena_alloc(&a, (size_t)i);
		int k;

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % sizeof(void *), 0);
		for (k = 0; k < i; k++)
			assert_int_equal(p[k], 0);
		memset(p, 0xab, (size_t)i);
	}
	assert_int_equal(cmr_arena_error(&a), 0);
	assert_int_equal(cmr_arena_bytes(&a), 199 * 200 / 2);
	cmr_arena_release(&a);
}

static void test_arena__big_objects_and_strings(void **state)
{
	struct cmr_arena a = CMR_ARENA_INIT;
	char *big, *s, *f;

	(void)state;
	s = cmr_arena_strdup(&a, "hdfs-DATANODE-BASE");
	big = cmr_arena_alloc(&a, 1 << 20);
	assert_non_null(big);
	memset(big, 'x', 1 << 20);
	f = cmr_arena_sprintf(&a, "%s/%d", "Cluster 1", 7);
	assert_string_equal(s, "hdfs-DATANODE-BASE");
	assert_string_equal(f, "Cluster 1/7");
	assert_string_equal(cmr_arena_strndup(&a, "abcdef", 3), "abc");
	cmr_arena_release(&a);
	/* Reusable after release. */
	assert_string_equal(cmr_arena_strdup(&a, "again"), "again");
	cmr_arena_release(&a);
}

static void test_arena__oom_is_sticky(void **state)
{
	struct cmr_arena a = CMR_ARENA_INIT;

	(void)state;
	cmr_test_fail_alloc_after(0);
	assert_null(cmr_arena_alloc(&a, 16));
	cmr_test_alloc_reset();
	assert_int_equal(cmr_arena_error(&a), CMR_ENOMEM);
	assert_null(cmr_arena_strdup(&a, "x"));
	assert_null(cmr_arena_calloc(&a, SIZE_MAX / 2, 4));
	cmr_arena_release(&a);
	assert_int_equal(cmr_arena_error(&a), 0);
}

static void test_arena__calloc_overflow_fails(void **state)
{
	struct cmr_arena a = CMR_ARENA_INIT;

	(void)state;
	assert_null(cmr_arena_calloc(&a, SIZE_MAX / 2, 4));
	assert_int_equal(cmr_arena_error(&a), CMR_ENOMEM);
	cmr_arena_release(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_arena__allocations_are_zeroed_and_aligned),
		cmocka_unit_test(test_arena__big_objects_and_strings),
		cmocka_unit_test(test_arena__oom_is_sticky),
		cmocka_unit_test(test_arena__calloc_overflow_fails),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
