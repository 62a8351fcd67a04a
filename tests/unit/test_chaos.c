/*
 * test_chaos.c -- fail the Nth allocation, for every N, and check that
 * each out-of-memory path reports CMR_ENOMEM and leaks nothing (LSan in
 * the sanitizer build catches the leaks).  After jansson's test_chaos.
 *
 * Each scenario is a function that does a realistic sequence of work and
 * returns its status; the loop raises N until the scenario succeeds.
 */
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/arena.h"
#include "cmr/buf.h"
#include "cmr/diag.h"

#include "support.h"

typedef int scenario_fn(void);

static int scenario_buf(void)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char *s;
	int i;

	for (i = 0; i < 200; i++)
		cmr_buf_addf(&b, "%s-%d,", "hdfs-DATANODE", i);
	cmr_buf_add_json_str(&b, "value\n");
	s = cmr_buf_detach(&b, NULL);
	if (!s)
		return CMR_ENOMEM;
	cmr_free(s);
	return 0;
}

static int scenario_arena(void)
{
	struct cmr_arena a = CMR_ARENA_INIT;
	int i, rc;

	for (i = 0; i < 500; i++)
		cmr_arena_sprintf(&a, "key_%d", i);
	cmr_arena_alloc(&a, 100000);
	rc = cmr_arena_error(&a);
	cmr_arena_release(&a);
	return rc;
}

static int scenario_diag(void)
{
	struct cmr_diag_list l;
	struct cmr_mark m = { "a.yaml", 1, 1 };
	int i, rc = 0;

	cmr_diag_list_init(&l);
	for (i = 0; i < 50; i++)
		if (cmr_diag_add(&l, CMR_DIAG_ERROR, &m, "problem %d", i) < 0)
			rc = CMR_ENOMEM;
	if (l.oom)
		rc = CMR_ENOMEM;
	cmr_diag_list_release(&l);
	return rc;
}

static void run_chaos(scenario_fn *fn)
{
	long n;

	for (n = 0;; n++) {
		int rc;

		cmr_test_fail_alloc_after(n);
		rc = fn();
		cmr_test_alloc_reset();
		if (rc == 0)
			break;
		assert_int_equal(rc, CMR_ENOMEM);
		assert_true(n < 100000);
	}
	/* It needed at least one allocation, or the test proved nothing. */
	assert_true(n > 0);
}

static void test_chaos__buf(void **state)
{
	(void)state;
	run_chaos(scenario_buf);
}

static void test_chaos__arena(void **state)
{
	(void)state;
	run_chaos(scenario_arena);
}

static void test_chaos__diag(void **state)
{
	(void)state;
	run_chaos(scenario_diag);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chaos__buf),
		cmocka_unit_test(test_chaos__arena),
		cmocka_unit_test(test_chaos__diag),
	};

	return cmocka_run_group_tests_name("chaos", tests, NULL, NULL);
}
