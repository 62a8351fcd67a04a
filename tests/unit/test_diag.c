/*
 * test_diag.c -- collected diagnostics: copies, counts, stable sorting,
 * and the vec.h arrays underneath.
 */
#include <string.h>

#include "cmr/diag.h"
#include "cmr/vec.h"

#include "support.h"

static void test_diag__copies_file_and_message(void **state)
{
	struct cmr_diag_list l;
	char file[] = "prod.yaml";
	struct cmr_mark m = { file, 3, 5 };

	(void)state;
	cmr_diag_list_init(&l);
	assert_int_equal(cmr_diag_add(&l, CMR_DIAG_ERROR, &m,
	                              "unknown key '%s'", "dfs_replicaton"),
	                 0);
	assert_int_equal(cmr_diag_add(&l, CMR_DIAG_WARNING, NULL, "no mark"),
	                 0);
	file[0] = 'X'; /* the list must not borrow the caller's name */
	assert_int_equal(l.len, 2);
	assert_int_equal(l.errors, 1);
	assert_string_equal(l.items[0].where.file, "prod.yaml");
	assert_int_equal(l.items[0].where.line, 3);
	assert_int_equal(l.items[0].where.col, 5);
	assert_string_equal(l.items[0].msg, "unknown key 'dfs_replicaton'");
	assert_null(l.items[1].where.file);
	assert_string_equal(cmr_diag_severity_name(l.items[1].severity),
	                    "warning");
	cmr_diag_list_release(&l);
	assert_int_equal(l.len, 0);
}

static void test_diag__sort_is_by_position_and_stable(void **state)
{
	struct cmr_diag_list l;
	struct cmr_mark b9 = { "b.yaml", 9, 1 }, a2 = { "a.yaml", 2, 7 },
	                a2b = { "a.yaml", 2, 3 }, a10 = { "a.yaml", 10, 1 };

	(void)state;
	cmr_diag_list_init(&l);
	cmr_diag_add(&l, CMR_DIAG_ERROR, &b9, "b9");
	cmr_diag_add(&l, CMR_DIAG_ERROR, &a10, "a10");
	cmr_diag_add(&l, CMR_DIAG_ERROR, &a2, "a2-7 first");
	cmr_diag_add(&l, CMR_DIAG_ERROR, &a2b, "a2-3");
	cmr_diag_add(&l, CMR_DIAG_ERROR, &a2, "a2-7 second");
	cmr_diag_list_sort(&l);
	assert_string_equal(l.items[0].msg, "a2-3");
	assert_string_equal(l.items[1].msg, "a2-7 first");
	assert_string_equal(l.items[2].msg, "a2-7 second");
	assert_string_equal(l.items[3].msg, "a10");
	assert_string_equal(l.items[4].msg, "b9");
	cmr_diag_list_release(&l);
}

struct int_vec {
	int *items;
	size_t len, alloc;
};

static void test_diag__vec_push_and_foreach(void **state)
{
	struct int_vec v = { NULL, 0, 0 };
	int i, sum = 0, *it;

	(void)state;
	for (i = 0; i < 1000; i++)
		assert_int_equal(cmr_vec_push(&v, i), 0);
	assert_int_equal(v.len, 1000);
	cmr_vec_foreach (&v, it)
		sum += *it;
	assert_int_equal(sum, 999 * 1000 / 2);
	cmr_vec_release(&v);
	assert_null(v.items);
	assert_int_equal(v.len, 0);
	cmr_vec_foreach (&v, it)
		fail();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag__copies_file_and_message),
		cmocka_unit_test(test_diag__sort_is_by_position_and_stable),
		cmocka_unit_test(test_diag__vec_push_and_foreach),
	};

	return cmocka_run_group_tests_name("diag", tests, NULL, NULL);
}
