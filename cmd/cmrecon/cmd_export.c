/*
 * cmd_export.c -- `cmrecon export`: write CM's live state as a
 * desired-state file that cmrecon itself accepts.
 *
 * Two reads, both GET only:
 *   1. the whole deployment (CMR_READ_ALL_CLUSTERS), to learn the clusters
 *      and check --cluster/--service against them;
 *   2. again with a desired state naming exactly what will be exported
 *      (cmr_export_selection), which adds each cluster's parcel list (the
 *      authoritative stages) and, with --omit-defaults, the view=full
 *      metadata of every scope with settings (CMR_READ_ALL_PARAMS), so a
 *      setting equal to its default can be left out.
 * Then lib/render/export.c writes the YAML (a pure function), to stdout or
 * atomically to -o FILE with mode 0600 (it names secrets' variables and
 * the deployment's layout: not for everyone's eyes).
 *
 * Exit codes: 0 written; 1 CM could not be read or the text could not be
 * written; 64 usage, including a --cluster or --service CM does not have
 * (like a --target that names nothing).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmr/client.h"
#include "cmr/export.h"
#include "cmr/vec.h"

#include "session.h"

struct export_args {
	struct cmr_str_vec clusters;
	struct cmr_str_vec services;
	const char *out_file;
	bool omit_defaults;
};

/* Adds the NAME of --cluster NAME or --service NAME (argv[*i]) to list. */
static int take_name(struct cmr_str_vec *list, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];

	if (++*i >= argc)
		return cli_usage_error("'%s' needs a value", arg);
	if (!argv[*i][0])
		return cli_usage_error("'%s' needs a non-empty name", arg);
	if (cmr_vec_push(list, argv[*i]) < 0)
		return CLI_EXIT_ERROR;
	return 0;
}

static int parse_args(struct export_args *a, int argc, char **argv)
{
	int i;
	int rc;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];
		struct cmr_str_vec *list = NULL;

		if (strcmp(arg, "--cluster") == 0)
			list = &a->clusters;
		else if (strcmp(arg, "--service") == 0)
			list = &a->services;
		if (list) {
			rc = take_name(list, argc, argv, &i);
			if (rc != 0)
				return rc;
		} else if (strcmp(arg, "-o") == 0 ||
		           strcmp(arg, "--out") == 0) {
			if (++i >= argc)
				return cli_usage_error("'%s' needs a file",
				                       arg);
			a->out_file = argv[i];
		} else if (strcmp(arg, "--omit-defaults") == 0) {
			a->omit_defaults = true;
		} else if (arg[0] == '-') {
			return cli_usage_error("unknown option '%s' for "
			                       "'export'",
			                       arg);
		} else {
			return cli_usage_error("'export' takes no file "
			                       "arguments (got '%s'); use -o "
			                       "FILE to write to a file",
			                       arg);
		}
	}
	return 0;
}

static void now_iso(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes the export to -o FILE (atomically, mode 0600) or to stdout. */
static int write_out(const struct export_args *a, const struct cli_globals *g,
                     const struct cmr_buf *out)
{
	int rc;

	if (a->out_file) {
		rc = session_write_file(a->out_file, out->ptr, out->len);
		if (rc != 0)
			return rc;
		if (g->verbosity >= 0)
			fprintf(stderr,
			        "Exported the desired state to %s; check it "
			        "with `cmrecon plan --detailed-exitcode %s`.\n",
			        a->out_file, a->out_file);
		return CLI_EXIT_OK;
	}
	fwrite(out->ptr, 1, out->len, stdout);
	if (fflush(stdout) != 0) {
		cli_error("cannot write the export to stdout");
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int cmd_export(int argc, char **argv, const struct cli_globals *g)
{
	struct export_args a;
	struct session s;
	struct cmr_state *all = NULL;
	struct cmr_state *sel = NULL;
	struct cmr_state *live = NULL;
	struct cmr_params *params0 = NULL;
	struct cmr_params *params = NULL;
	struct cmr_read_options ropt;
	struct cmr_export_options xopt;
	struct cmr_buf out = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	char when[32];
	char ver[16];
	int rc;
	int error;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	memset(&ropt, 0, sizeof(ropt));
	memset(&xopt, 0, sizeof(xopt));
	s.g = g;
	if ((rc = parse_args(&a, argc, argv)) != 0)
		goto done;
	if (cmr_state_new(&s.desired, CMR_STATE_DESIRED, &err) < 0) {
		cli_error("%s", err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if ((rc = session_connect(&s)) != 0)
		goto done;

	xopt.flags = a.omit_defaults ? CMR_EXPORT_OMIT_DEFAULTS : 0;
	xopt.clusters = a.clusters.items;
	xopt.nclusters = a.clusters.len;
	xopt.services = a.services.items;
	xopt.nservices = a.services.len;

	/* 1: the whole deployment, to know what there is. */
	ropt.flags = CMR_READ_ALL_CLUSTERS | CMR_READ_NO_PARAMS;
	if (cmr_api_read_live(&all, &params0, s.client, NULL, &ropt, &err) <
	    0) {
		cli_error("reading the live state from %s: %s", s.url, err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if (cmr_client_last_read(s.client)->fallback) {
		/* Without the deployment only named clusters can be read,
		 * and export names none: it would silently miss them. */
		cli_error("CM refused GET /cm/deployment (HTTP 403): export "
		          "needs an account that may read the whole deployment "
		          "(Full or Cluster Administrator)");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	error = cmr_export_selection(&sel, all, &xopt, &err);
	if (error < 0) {
		cli_error("%s", err.msg);
		rc = error == CMR_ENOMEM ? CLI_EXIT_ERROR : CLI_EXIT_USAGE;
		goto done;
	}
	/* 2: what will be exported, with parcels (and metadata). */
	ropt.flags = a.omit_defaults ? CMR_READ_ALL_PARAMS : CMR_READ_NO_PARAMS;
	if (cmr_api_read_live(&live, &params, s.client, sel, &ropt, &err) < 0) {
		cli_error("reading the live state from %s: %s", s.url, err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	now_iso(when, sizeof(when));
	snprintf(ver, sizeof(ver), "v%u", cmr_client_api_version(s.client));
	xopt.params = params;
	xopt.cm_url = s.url;
	xopt.api_version = ver;
	xopt.created = when;
	error = cmr_export_yaml(&out, live, &xopt, &err);
	if (error < 0) {
		cli_error("%s", err.msg);
		rc = error == CMR_ENOTFOUND ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
		goto done;
	}
	rc = write_out(&a, g, &out);
done:
	cmr_buf_release(&out);
	cmr_state_free(all);
	cmr_state_free(sel);
	cmr_state_free(live);
	cmr_params_free(params0);
	cmr_params_free(params);
	session_release(&s);
	cmr_vec_release(&a.clusters);
	cmr_vec_release(&a.services);
	return rc;
}
