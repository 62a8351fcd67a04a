/*
 * test_render.c -- plans as text: every op, secrets in every status,
 * multi-line diffs, parcels up and down, restarts of every action,
 * maintenance skips, notes with marks, the empty plan, colour on and off.
 *
 * Expected texts live in tests/fixtures/render/ (NAME.txt); run with
 * CMR_RENDER_UPDATE=1 to rewrite them, then review the diff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/planfile.h"
#include "cmr/render.h"

#include "render_plans.h"
#include "support.h"

/* Compares `got` with fixture render/NAME (or rewrites it). */
static void check_fixture(const char *name, const struct cmr_buf *got)
{
	char path[512];
	char *want;
	size_t len;

	snprintf(path, sizeof(path), "%s/render/%s", CMR_TEST_FIXTURES, name);
	if (getenv("CMR_RENDER_UPDATE")) {
		FILE *f = fopen(path, "wb");

		assert_non_null(f);
		assert_int_equal(fwrite(got->ptr, 1, got->len, f), got->len);
		assert_int_equal(fclose(f), 0);
		return;
	}
	want = cmr_test_read_file(path, &len);
	if (len != got->len || memcmp(want, got->ptr, len) != 0) {
		fprintf(stderr, "--- expected %s\n%s--- got\n%s---\n", name,
		        want, got->ptr);
		cmr_free(want);
		fail_msg("render/%s differs (CMR_RENDER_UPDATE=1 rewrites it)",
		         name);
	}
	cmr_free(want);
}

/* Renders `p` as text with the given colour and checks fixture `name`. */
static void check_text(struct cmr_plan *p, bool color, const char *name)
{
	struct cmr_render_options opt;
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;

	memset(&opt, 0, sizeof(opt));
	opt.color = color;
	opt.title = "cmrecon plan prod.yaml";
	assert_cmr_ok(cmr_render_plan_text(&b, p, &opt, &err), &err);
	if (!color)
		assert_null(strchr(b.ptr, '\033'));
	check_fixture(name, &b);
	cmr_buf_release(&b);
	cmr_plan_free(p);
}

static void test_render__rich_plan(void **state)
{
	(void)state;
	check_text(rp_rich(), false, "rich.txt");
}

static void test_render__rich_plan_in_colour(void **state)
{
	(void)state;
	check_text(rp_rich(), true, "rich-color.txt");
}

static void test_render__empty_plan(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_header(p);
	rp_add_fingerprints(p);
	check_text(p, false, "empty.txt");
}

static void test_render__empty_plan_without_header_fields(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_new();

	(void)state;
	assert_cmr_ok(cmr_render_plan_text(&b, p, NULL, &err), &err);
	assert_string_equal(b.ptr,
	                    "cmrecon plan\n\n"
	                    "No changes. CM matches the desired state.\n");
	cmr_buf_release(&b);
	cmr_plan_free(p);
}

static void test_render__each_op(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_cm(p);
	rp_add_mgmt(p);
	rp_add_ops(p);
	check_text(p, false, "ops.txt");
}

static void test_render__secrets_in_every_status(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_secrets(p);
	check_text(p, false, "secrets.txt");
}

static void test_render__multiline_values_as_diff(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_diff(p);
	check_text(p, false, "diff.txt");
}

static void test_render__parcels_up_and_down(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_parcels(p);
	check_text(p, false, "parcels.txt");
}

static void test_render__restarts_every_action(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_restarts(p);
	check_text(p, false, "restarts.txt");
}

static void test_render__notes_with_marks(void **state)
{
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_notes(p);
	check_text(p, false, "notes.txt");
}

static void test_render__show_origin(void **state)
{
	struct cmr_render_options opt;
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_new();

	(void)state;
	rp_add_header(p);
	memset(&opt, 0, sizeof(opt));
	opt.title = "cmrecon show prod.plan";
	opt.show_origin = true;
	assert_cmr_ok(cmr_render_plan_text(&b, p, &opt, &err), &err);
	assert_string_equal(b.ptr,
	                    "cmrecon show prod.plan   (CM 7.11.3 at "
	                    "https://cm.example.com:7183, API v54)\n"
	                    "plan 5f0c2a9e41d7b3c8, made 2026-11-28T05:00:00Z\n"
	                    "clusters: \"Base Cluster\", \"Edge\"\n"
	                    "targets: Base Cluster, Edge/solr\n"
	                    "\n"
	                    "No changes. CM matches the desired state.\n");
	cmr_buf_release(&b);
	cmr_plan_free(p);
}

static void test_render__colour_only_when_asked(void **state)
{
	struct cmr_render_options opt;
	struct cmr_buf plain = CMR_BUF_INIT, col = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_rich();

	(void)state;
	memset(&opt, 0, sizeof(opt));
	assert_cmr_ok(cmr_render_plan_text(&plain, p, &opt, &err), &err);
	opt.color = true;
	assert_cmr_ok(cmr_render_plan_text(&col, p, &opt, &err), &err);
	assert_null(strchr(plain.ptr, '\033'));
	assert_non_null(strstr(col.ptr, "\033[32m+\033[0m "));
	assert_non_null(strstr(col.ptr, "\033[33m~\033[0m "));
	assert_non_null(strstr(col.ptr, "\033[31m-\033[0m "));
	assert_non_null(strstr(col.ptr, "\033[1mCluster \"Base Cluster\""));
	cmr_buf_release(&plain);
	cmr_buf_release(&col);
	cmr_plan_free(p);
}

static void test_render__deterministic(void **state)
{
	struct cmr_buf a = CMR_BUF_INIT, b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_rich(), *q = rp_rich();

	(void)state;
	assert_cmr_ok(cmr_render_plan_text(&a, p, NULL, &err), &err);
	assert_cmr_ok(cmr_render_plan_text(&b, q, NULL, &err), &err);
	assert_string_equal(a.ptr, b.ptr);
	cmr_buf_release(&a);
	cmr_buf_release(&b);
	cmr_plan_free(p);
	cmr_plan_free(q);
}

static void test_render__never_prints_a_secret(void **state)
{
	struct cmr_render_options opt;
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_leaky();

	(void)state;
	memset(&opt, 0, sizeof(opt));
	assert_cmr_ok(cmr_render_plan_text(&b, p, &opt, &err), &err);
	assert_null(strstr(b.ptr, RP_SECRET));
	assert_non_null(strstr(b.ptr, "(sensitive)"));
	cmr_buf_reset(&b);
	opt.color = true;
	assert_cmr_ok(cmr_render_plan_text(&b, p, &opt, &err), &err);
	assert_null(strstr(b.ptr, RP_SECRET));
	cmr_buf_reset(&b);
	assert_cmr_ok(cmr_render_plan_json(&b, p, &opt, &err), &err);
	assert_null(strstr(b.ptr, RP_SECRET));
	cmr_buf_release(&b);
	cmr_plan_free(p);
}

static void test_render__json_is_the_plan_file(void **state)
{
	struct cmr_buf a = CMR_BUF_INIT, b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_rich();

	(void)state;
	assert_cmr_ok(cmr_render_plan_json(&a, p, NULL, &err), &err);
	assert_cmr_ok(cmr_planfile_write(&b, p, &err), &err);
	assert_string_equal(a.ptr, b.ptr);
	assert_null(strchr(a.ptr, '\033'));
	cmr_buf_release(&a);
	cmr_buf_release(&b);
	cmr_plan_free(p);
}

static void test_render__out_of_space_is_enomem(void **state)
{
	struct cmr_buf b;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_plan *p = rp_rich();

	(void)state;
	cmr_buf_init(&b, 100);
	assert_cmr_fails_with(CMR_ENOMEM,
	                      cmr_render_plan_text(&b, p, NULL, &err), &err);
	cmr_buf_release(&b);
	cmr_plan_free(p);
}

/* Out of memory at every allocation of ours: CMR_ENOMEM, no leak. */
static void test_render__out_of_memory_is_enomem(void **state)
{
	struct cmr_plan *p = rp_rich();
	long n;

	(void)state;
	for (n = 0;; n++) {
		struct cmr_buf b = CMR_BUF_INIT;
		struct cmr_error err = CMR_ERROR_INIT;
		int rc;

		cmr_test_fail_alloc_after(n);
		rc = cmr_render_plan_text(&b, p, NULL, &err);
		if (rc == 0)
			rc = cmr_render_plan_json(&b, p, NULL, &err);
		cmr_test_alloc_reset();
		cmr_buf_release(&b);
		if (rc == 0)
			break;
		assert_int_equal(rc, CMR_ENOMEM);
		assert_true(n < 100000);
	}
	assert_true(n > 0);
	cmr_plan_free(p);
}

/* ----------------------------------------------------------------------
 * The diff on its own
 */

static void diff_is(const char *a, const char *b, const char *want)
{
	struct cmr_buf out = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;

	assert_cmr_ok(cmr_render_diff(&out, a, b, "  ", false, &err), &err);
	assert_string_equal(out.ptr, want);
	cmr_buf_release(&out);
}

static void test_render__diff_identical_is_empty(void **state)
{
	(void)state;
	diff_is("a\nb\n", "a\nb\n", "");
	diff_is("", "", "");
}

static void test_render__diff_one_line_changed(void **state)
{
	(void)state;
	diff_is("a\nb\nc\n", "a\nB\nc\n",
	        "  @@ -1,3 +1,3 @@\n"
	        "   a\n"
	        "  -b\n"
	        "  +B\n"
	        "   c\n");
}

static void test_render__diff_separate_hunks(void **state)
{
	(void)state;
	diff_is("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
	        "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
	        "  @@ -1,4 +1,4 @@\n"
	        "  -1\n"
	        "  +one\n"
	        "   2\n"
	        "   3\n"
	        "   4\n"
	        "  @@ -9,4 +9,4 @@\n"
	        "   9\n"
	        "   10\n"
	        "   11\n"
	        "  -12\n"
	        "  +twelve\n");
}

static void test_render__diff_from_empty_and_to_empty(void **state)
{
	(void)state;
	diff_is("", "x\ny\n",
	        "  @@ -0,0 +1,2 @@\n"
	        "  +x\n"
	        "  +y\n");
	diff_is("x\n", "",
	        "  @@ -1 +0,0 @@\n"
	        "  -x\n");
}

static void test_render__diff_trailing_newline(void **state)
{
	(void)state;
	diff_is("a\nb\n", "a\nb",
	        "  @@ -1,2 +1,2 @@\n"
	        "   a\n"
	        "  -b\n"
	        "  +b\n"
	        "  \\ No newline at end of file\n");
}

static void test_render__diff_insertion_in_middle(void **state)
{
	(void)state;
	diff_is("a\nb\nc\nd\n", "a\nb\nX\nc\nd\n",
	        "  @@ -1,4 +1,5 @@\n"
	        "   a\n"
	        "   b\n"
	        "  +X\n"
	        "   c\n"
	        "   d\n");
}

/* Text from CM cannot drive the terminal: control bytes are escaped. */
static void test_render__control_characters_are_escaped(void **state)
{
	(void)state;
	diff_is("a\n", "a\n\033[2Jx\ty\r\n",
	        "  @@ -1 +1,2 @@\n"
	        "   a\n"
	        "  +\\x1b[2Jx\ty\\x0d\n");
}

/* A middle too large for the table is shown as one block; no blow-up. */
static void test_render__diff_large_input_is_bounded(void **state)
{
	struct cmr_buf a = CMR_BUF_INIT, b = CMR_BUF_INIT, out = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	size_t i, minus = 0, plus = 0;
	const char *q;

	(void)state;
	for (i = 0; i < 3000; i++) {
		cmr_buf_addf(&a, "line %zu\n", i);
		cmr_buf_addf(&b, "line %zu\n", i % 2 ? i : i + 100000);
	}
	assert_cmr_ok(cmr_render_diff(&out, a.ptr, b.ptr, "", false, &err),
	              &err);
	for (q = out.ptr; *q; q = strchr(q, '\n') + 1) {
		minus += *q == '-';
		plus += *q == '+';
	}
	/* Line 0 and 2999 differ... all between is replaced as a block. */
	assert_int_equal(minus, 2999);
	assert_int_equal(plus, 2999);
	cmr_buf_release(&a);
	cmr_buf_release(&b);
	cmr_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render__rich_plan),
		cmocka_unit_test(test_render__rich_plan_in_colour),
		cmocka_unit_test(test_render__empty_plan),
		cmocka_unit_test(test_render__empty_plan_without_header_fields),
		cmocka_unit_test(test_render__each_op),
		cmocka_unit_test(test_render__secrets_in_every_status),
		cmocka_unit_test(test_render__multiline_values_as_diff),
		cmocka_unit_test(test_render__parcels_up_and_down),
		cmocka_unit_test(test_render__restarts_every_action),
		cmocka_unit_test(test_render__notes_with_marks),
		cmocka_unit_test(test_render__show_origin),
		cmocka_unit_test(test_render__colour_only_when_asked),
		cmocka_unit_test(test_render__deterministic),
		cmocka_unit_test(test_render__never_prints_a_secret),
		cmocka_unit_test(test_render__json_is_the_plan_file),
		cmocka_unit_test(test_render__out_of_space_is_enomem),
		cmocka_unit_test(test_render__out_of_memory_is_enomem),
		cmocka_unit_test(test_render__diff_identical_is_empty),
		cmocka_unit_test(test_render__diff_one_line_changed),
		cmocka_unit_test(test_render__diff_separate_hunks),
		cmocka_unit_test(test_render__diff_from_empty_and_to_empty),
		cmocka_unit_test(test_render__diff_trailing_newline),
		cmocka_unit_test(test_render__diff_insertion_in_middle),
		cmocka_unit_test(test_render__diff_large_input_is_bounded),
		cmocka_unit_test(test_render__control_characters_are_escaped),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
