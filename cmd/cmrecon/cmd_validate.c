/*
 * cmd_validate.c -- `cmrecon validate FILE... [--json]`.
 *
 * Loads and merges the files exactly as plan and apply will (lib/load),
 * without contacting CM, and reports every problem:
 *   - as `FILE:LINE:COL: error: message` lines on stderr, sorted by file,
 *     line and column, so editors and CI annotations can jump to them;
 *   - with --json, as one JSON document on stdout instead (for tools).
 * Exit codes: 0 no problems, 1 problems found, 64 usage or a file that
 * cannot be read.  The loader never puts a setting's value in a message,
 * so nothing printed here can leak a secret.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"
#include "cmr/diag.h"
#include "cmr/load.h"
#include "cmr/model.h"

#include "cli.h"

struct validate_opts {
	bool json;
	const char **files;
	size_t nfiles;
};

static int parse_args(struct validate_opts *o, int argc, char **argv)
{
	bool rest = false;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!rest && strcmp(a, "--") == 0) {
			rest = true;
		} else if (!rest && strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (!rest && a[0] == '-' && a[1] != '\0') {
			return cli_usage_error("validate: unknown option '%s'",
			                       a);
		} else {
			/* argv outlives the command: borrow the strings. */
			o->files[o->nfiles++] = a;
		}
	}
	if (o->nfiles == 0)
		return cli_usage_error(
		        "validate: no file given (usage: cmrecon validate FILE... [--json])");
	return 0;
}

static size_t count_services(const struct cmr_state *st)
{
	size_t n = st->manager.mgmt ? 1 : 0;
	size_t i;

	for (i = 0; i < st->clusters.len; i++)
		n += st->clusters.items[i]->services.len;
	return n;
}

static size_t count_parcels(const struct cmr_state *st)
{
	size_t n = 0;
	size_t i;

	for (i = 0; i < st->clusters.len; i++)
		n += st->clusters.items[i]->parcels.len;
	return n;
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* The whole result as JSON, built in a buffer and written at once. */
static int print_json(const struct validate_opts *o,
                      const struct cmr_diag_list *diags,
                      const struct cmr_state *st)
{
	struct cmr_buf b = CMR_BUF_INIT;
	size_t i;
	int ok;

	cmr_buf_addf(&b, "{\n  \"valid\": %s,\n  \"files\": [",
	             diags->errors == 0 ? "true" : "false");
	for (i = 0; i < o->nfiles; i++) {
		cmr_buf_adds(&b, i ? ", " : "");
		cmr_buf_add_json_str(&b, o->files[i]);
	}
	cmr_buf_addf(&b, "],\n  \"errors\": %zu,\n", diags->errors);
	if (st)
		cmr_buf_addf(
		        &b,
		        "  \"summary\": {\"clusters\": %zu, \"services\": %zu, \"parcels\": %zu, \"settings\": %zu},\n",
		        st->clusters.len, count_services(st), count_parcels(st),
		        cmr_state_count_settings(st));
	cmr_buf_adds(&b, "  \"diagnostics\": [");
	for (i = 0; i < diags->len; i++) {
		const struct cmr_diag *d = &diags->items[i];

		cmr_buf_adds(&b,
		             i ? ",\n    {\"file\": " : "\n    {\"file\": ");
		cmr_buf_add_json_str(&b, d->where.file ? d->where.file : "");
		cmr_buf_addf(&b, ", \"line\": %u, \"column\": %u, ",
		             (unsigned)d->where.line, (unsigned)d->where.col);
		cmr_buf_adds(&b, "\"severity\": ");
		cmr_buf_add_json_str(&b, cmr_diag_severity_name(d->severity));
		cmr_buf_adds(&b, ", \"message\": ");
		cmr_buf_add_json_str(&b, d->msg);
		cmr_buf_adds(&b, "}");
	}
	cmr_buf_adds(&b, diags->len ? "\n  ]\n}\n" : "]\n}\n");
	ok = cmr_buf_error(&b) == 0 &&
	     fwrite(b.ptr, 1, b.len, stdout) == b.len && fflush(stdout) == 0;
	cmr_buf_release(&b);
	if (!ok) {
		cli_error("validate: cannot write the JSON result");
		return CLI_EXIT_ERROR;
	}
	return 0;
}

static void print_text(const struct cmr_diag_list *diags)
{
	size_t i;

	for (i = 0; i < diags->len; i++) {
		const struct cmr_diag *d = &diags->items[i];

		fprintf(stderr, "%s:%u:%u: %s: %s\n",
		        d->where.file ? d->where.file : "-",
		        (unsigned)d->where.line, (unsigned)d->where.col,
		        cmr_diag_severity_name(d->severity), d->msg);
	}
}

int cmd_validate(int argc, char **argv, const struct cli_globals *g)
{
	struct validate_opts o;
	struct cmr_diag_list diags;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_state *st = NULL;
	int rc;
	int exit_code = CLI_EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	cmr_diag_list_init(&diags);
	o.files = cmr_calloc(argc > 0 ? (size_t)argc : 1, sizeof(*o.files));
	if (!o.files) {
		cli_error("validate: out of memory");
		goto done;
	}
	exit_code = parse_args(&o, argc, argv);
	if (exit_code != 0)
		goto done;

	rc = cmr_load_files(&st, (const char *const *)o.files, o.nfiles, &diags,
	                    &err);
	if (rc == CMR_ENOTFOUND || rc == CMR_ERROR) {
		exit_code = cli_usage_error("validate: %s", err.msg);
		goto done;
	}
	if (rc == CMR_ENOMEM || diags.oom) {
		cli_error("validate: out of memory");
		exit_code = CLI_EXIT_ERROR;
		goto done;
	}
	cmr_diag_list_sort(&diags);
	if (o.json) {
		exit_code = print_json(&o, &diags, st);
		if (exit_code != 0)
			goto done;
	} else {
		print_text(&diags);
	}
	if (diags.errors > 0) {
		if (!o.json && g->verbosity >= 0)
			fprintf(stderr, "cmrecon: %zu problem%s found\n",
			        diags.errors, plural(diags.errors));
		exit_code = CLI_EXIT_ERROR;
		goto done;
	}
	if (!o.json && g->verbosity >= 0)
		printf("valid: %zu file%s; %zu cluster%s, %zu service%s, %zu parcel%s, %zu setting%s\n",
		       o.nfiles, plural(o.nfiles), st->clusters.len,
		       plural(st->clusters.len), count_services(st),
		       plural(count_services(st)), count_parcels(st),
		       plural(count_parcels(st)), cmr_state_count_settings(st),
		       plural(cmr_state_count_settings(st)));
	exit_code = CLI_EXIT_OK;

done:
	cmr_state_free(st);
	cmr_diag_list_release(&diags);
	cmr_free(o.files);
	return exit_code;
}
