/*
 * cmd_plan.c -- `cmrecon plan FILE...`: read CM, show what apply would do.
 *
 * The flow is the data flow of DESIGN.md: load the files into the desired
 * model, read the live model (a handful of GET waves, never a write),
 * plan, render.  Exit codes: 0 (no changes, or changes without
 * --detailed-exitcode), 2 (changes, with --detailed-exitcode), 1 (the plan
 * has errors, or CM could not be read), 64 (usage).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"
#include "cmr/client.h"
#include "cmr/planfile.h"
#include "cmr/render.h"
#include "cmr/vec.h"

#include "report.h"
#include "session.h"

struct file_list {
	char **items;
	size_t len, alloc;
};

struct plan_args {
	bool json;
	bool detailed;
	bool force_secrets;
	const char *out_file;
	const char *report_file;  /* --report: JSON run report */
	const char *metrics_file; /* --metrics: Prometheus text */

	struct cmr_str_vec targets; /* --target scopes, as given */
	struct file_list files;     /* the desired-state files */
};

/* The options without a value; true when arg was one of them. */
static bool take_flag(struct plan_args *a, const char *arg)
{
	if (strcmp(arg, "--json") == 0)
		a->json = true;
	else if (strcmp(arg, "--detailed-exitcode") == 0)
		a->detailed = true;
	else if (strcmp(arg, "--force-secrets") == 0)
		a->force_secrets = true;
	else
		return false;
	return true;
}

/*
 * The options with a value: "-o/--out FILE", "--report FILE", "--metrics
 * FILE", "--target SCOPE" and "--target=SCOPE".  Sets *taken when argv[*i]
 * was one of them (*i then indexes its value) and returns 0 or a CLI exit
 * code.
 */
static int take_value_option(struct plan_args *a, int argc, char **argv, int *i,
                             bool *taken)
{
	const char *arg = argv[*i];
	const char **file = NULL;

	*taken = true;
	if (strcmp(arg, "--target") == 0) {
		if (++*i >= argc)
			return cli_usage_error("'--target' needs "
			                       "CLUSTER[/SERVICE[/"
			                       "GROUP]]");
		return cmr_vec_push(&a->targets, argv[*i]) < 0 ? CLI_EXIT_ERROR
		                                               : 0;
	}
	if (strncmp(arg, "--target=", 9) == 0)
		return cmr_vec_push(&a->targets, arg + 9) < 0 ? CLI_EXIT_ERROR
		                                              : 0;
	if (strcmp(arg, "-o") == 0 || strcmp(arg, "--out") == 0)
		file = &a->out_file;
	else if (strcmp(arg, "--report") == 0)
		file = &a->report_file;
	else if (strcmp(arg, "--metrics") == 0)
		file = &a->metrics_file;
	if (!file) {
		*taken = false;
		return 0;
	}
	if (++*i >= argc)
		return cli_usage_error("'%s' needs a file", arg);
	*file = argv[*i];
	return 0;
}

static int parse_args(struct plan_args *a, int argc, char **argv)
{
	int i;
	bool rest = false;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool taken;
		int rc;

		if (!rest && strcmp(arg, "--") == 0) {
			rest = true;
			continue;
		}
		if (rest || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (cmr_vec_push(&a->files, argv[i]) < 0)
				return CLI_EXIT_ERROR;
			continue;
		}
		if (take_flag(a, arg))
			continue;
		rc = take_value_option(a, argc, argv, &i, &taken);
		if (rc)
			return rc;
		if (!taken)
			return cli_usage_error("unknown option '%s' for "
			                       "'plan'",
			                       arg);
	}
	if (a->files.len == 0)
		return cli_usage_error("'plan' needs at least one "
		                       "desired-state file");
	return 0;
}

/* "cmrecon plan a.yaml b.yaml" for the header line. */
static void title(struct cmr_buf *b, const struct plan_args *a)
{
	size_t i;

	cmr_buf_adds(b, "cmrecon plan");
	for (i = 0; i < a->files.len; i++)
		cmr_buf_addf(b, " %s", a->files.items[i]);
}

static void log_read(const struct cli_globals *g, struct cmr_client *c)
{
	const struct cmr_read_report *r = cmr_client_last_read(c);

	if (!r)
		return;
	cmr_log(&g->logger, CMR_LOG_INFO, "plan",
	        "read live state with API v%u: %llu requests in %llu "
	        "round-trip waves%s%s",
	        r->api_version, (unsigned long long)r->requests,
	        (unsigned long long)r->waves,
	        r->fallback ? " (per-scope fallback: /cm/deployment refused)"
	                    : "",
	        r->tags_read ? "" : " (no entity tags below API v41)");
}

/*
 * Builds the plan from the desired and live states with the CLI's options:
 * 0, or a CLI exit code after printing the error.
 */
static int build_plan(struct cmr_plan **plan, struct session *s,
                      const struct plan_args *a, const struct cmr_state *live,
                      const struct cmr_params *params)
{
	struct cmr_plan_options popt;
	struct cmr_error err = CMR_ERROR_INIT;
	char ver[16];
	int rc;

	memset(&popt, 0, sizeof(popt));
	session_plan_options(s, &popt);
	popt.flags = a->force_secrets ? CMR_PLAN_FORCE_SECRETS : 0;
	popt.targets = a->targets.items;
	popt.ntargets = a->targets.len;
	snprintf(ver, sizeof(ver), "v%u", cmr_client_api_version(s->client));
	popt.api_version = ver;
	rc = cmr_plan_build(plan, s->desired, live, params, &popt, &err);
	if (rc < 0) {
		cli_error("%s", err.msg);
		return rc == CMR_EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
	}
	return session_stamp_plan(*plan) ? CLI_EXIT_ERROR : 0;
}

/*
 * Renders the plan to stdout (text or JSON).  Returns 0, or CLI_EXIT_ERROR
 * when rendering fails or the plan has errors (noted in the run report).
 */
static int show_plan(const struct cmr_plan *plan, const struct plan_args *a,
                     const struct cli_globals *g, struct run_report *rr)
{
	struct cmr_buf out = CMR_BUF_INIT;
	struct cmr_buf head = CMR_BUF_INIT;
	struct cmr_render_options ropt;
	struct cmr_plan_summary sum;
	struct cmr_error err = CMR_ERROR_INIT;
	int rc;

	memset(&ropt, 0, sizeof(ropt));
	title(&head, a);
	ropt.color = g->color && !a->json;
	ropt.title = head.ptr;
	rc = a->json ? cmr_render_plan_json(&out, plan, &ropt, &err)
	             : cmr_render_plan_text(&out, plan, &ropt, &err);
	if (rc < 0) {
		cli_error("rendering the plan: %s", err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	fwrite(out.ptr, 1, out.len, stdout);
	fflush(stdout);
	cmr_plan_summarize(&sum, plan);
	if (sum.errors) {
		cli_error("the plan has %zu error%s (see above); fix the "
		          "desired state before applying",
		          sum.errors, sum.errors == 1 ? "" : "s");
		report_set_error(rr, "the plan has errors (see "
		                     "drift.problems)");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	rc = 0;
done:
	cmr_buf_release(&out);
	cmr_buf_release(&head);
	return rc;
}

/* Writes the plan file for `cmrecon apply` to path: 0 or CLI_EXIT_ERROR. */
static int save_plan(const struct cmr_plan *plan, const char *path,
                     const struct cli_globals *g)
{
	struct cmr_buf out = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	int rc;

	if (cmr_planfile_write(&out, plan, &err) < 0) {
		cli_error("writing the plan file: %s", err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	rc = session_write_file(path, out.ptr, out.len);
	if (rc)
		goto done;
	if (g->verbosity >= 0)
		fprintf(stderr,
		        "Saved the plan to %s; apply it with "
		        "`cmrecon apply %s`.\n",
		        path, path);
done:
	cmr_buf_release(&out);
	return rc;
}

/*
 * A drift timer's report, written for failed runs too.  Returns the exit
 * code, turned into CLI_EXIT_ERROR when a successful run cannot write it.
 */
static int write_report(struct run_report *rr, const struct plan_args *a,
                        int rc)
{
	if (!a->report_file && !a->metrics_file)
		return rc;
	report_finish(rr, rc);
	if (report_write(rr, a->report_file, a->metrics_file) != 0 &&
	    (rc == CLI_EXIT_OK || rc == CLI_EXIT_CHANGES))
		return CLI_EXIT_ERROR;
	return rc;
}

int cmd_plan(int argc, char **argv, const struct cli_globals *g)
{
	struct plan_args a;
	struct session s;
	struct cmr_state *live = NULL;
	struct cmr_params *params = NULL;
	struct cmr_plan *plan = NULL;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_read_options rdopt;
	struct run_report rr;
	bool parsed = false;
	int rc;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	memset(&rdopt, 0, sizeof(rdopt));
	s.g = g;
	report_init(&rr, "plan");
	rc = parse_args(&a, argc, argv);
	if (rc)
		goto done;
	parsed = true;
	rc = session_load(&s, a.files.items, (int)a.files.len);
	if (rc)
		goto done;
	rc = session_connect(&s);
	if (rc)
		goto done;
	if (cmr_api_read_live(&live, &params, s.client, s.desired, &rdopt,
	                      &err) < 0) {
		cli_error("reading the live state from %s: %s", s.url, err.msg);
		report_set_error(&rr, err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	log_read(g, s.client);
	rc = build_plan(&plan, &s, &a, live, params);
	if (rc)
		goto done;
	rr.plan = plan;
	rr.cm_url = s.url;
	rc = show_plan(plan, &a, g, &rr);
	if (rc)
		goto done;
	if (a.out_file) {
		rc = save_plan(plan, a.out_file, g);
		if (rc)
			goto done;
	}
	rc = a.detailed && cmr_plan_has_changes(plan) ? CLI_EXIT_CHANGES
	                                              : CLI_EXIT_OK;
done:
	if (parsed)
		rc = write_report(&rr, &a, rc);
	cmr_plan_free(plan);
	cmr_params_free(params);
	cmr_state_free(live);
	session_release(&s);
	cmr_vec_release(&a.targets);
	cmr_vec_release(&a.files);
	return rc;
}
