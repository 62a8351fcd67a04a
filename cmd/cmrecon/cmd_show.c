/*
 * cmd_show.c -- `cmrecon show PLANFILE [--json]`: render a saved plan.
 *
 * Reads a plan file written by `plan -o` (or `plan --json`), checks it the
 * way `apply PLANFILE` will (lib/plan/planfile.c refuses anything it does
 * not fully understand), and prints it as text -- with where it was made,
 * its id and targets -- or, with --json, in the plan-file format again
 * (normalised).  It does not contact CM: whether the plan is still fresh
 * is for apply to find out.
 *
 * Exit codes: 0 shown; 1 the file is not a valid plan; 64 usage, or the
 * file cannot be opened.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmr/buf.h"
#include "cmr/plan.h"
#include "cmr/planfile.h"
#include "cmr/render.h"

#include "cli.h"

struct show_opts {
	bool json;
	const char *file;
};

static int parse_args(struct show_opts *o, int argc, char **argv)
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
			return cli_usage_error("show: unknown option '%s'", a);
		} else if (o->file) {
			return cli_usage_error("show: more than one plan file "
			                       "(usage: cmrecon show PLANFILE "
			                       "[--json])");
		} else {
			o->file = a;
		}
	}
	if (!o->file)
		return cli_usage_error("show: no plan file given (usage: "
		                       "cmrecon show PLANFILE [--json])");
	return 0;
}

/*
 * Reads the whole file into b (capped at the plan-file size limit).
 * Returns 0, CLI_EXIT_USAGE when it cannot be opened, or CLI_EXIT_ERROR.
 */
static int read_file(struct cmr_buf *b, const char *path)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	if (!f) {
		cli_error("show: cannot open '%s': %s", path, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (cmr_buf_add(b, chunk, n) < 0)
			break;
	if (ferror(f)) {
		cli_error("show: cannot read '%s': %s", path, strerror(errno));
		rc = CLI_EXIT_ERROR;
	} else if (cmr_buf_error(b) < 0) {
		cli_error("show: '%s' is too large for a plan file", path);
		rc = CLI_EXIT_ERROR;
	}
	fclose(f);
	return rc;
}

int cmd_show(int argc, char **argv, const struct cli_globals *g)
{
	struct show_opts o;
	struct cmr_buf text;
	struct cmr_buf out = CMR_BUF_INIT;
	struct cmr_buf title = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_render_options ropt;
	struct cmr_plan *plan = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&ropt, 0, sizeof(ropt));
	cmr_buf_init(&text, CMR_PLANFILE_MAX_SIZE);
	rc = parse_args(&o, argc, argv);
	if (rc)
		goto done;
	rc = read_file(&text, o.file);
	if (rc)
		goto done;
	if (cmr_planfile_read(&plan, text.ptr, text.len, &err) < 0) {
		cli_error("show: '%s': %s", o.file, err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	cmr_buf_addf(&title, "cmrecon show %s", o.file);
	ropt.color = g->color && !o.json;
	ropt.title = title.ptr;
	ropt.show_origin = true;
	if ((o.json ? cmr_render_plan_json(&out, plan, &ropt, &err)
	            : cmr_render_plan_text(&out, plan, &ropt, &err)) < 0 ||
	    cmr_buf_error(&title) < 0) {
		cli_error("show: rendering the plan: %s",
		          err.msg[0] ? err.msg : "out of memory");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if (fwrite(out.ptr, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		cli_error("show: cannot write the plan: %s", strerror(errno));
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	rc = CLI_EXIT_OK;
done:
	cmr_plan_free(plan);
	cmr_buf_release(&text);
	cmr_buf_release(&out);
	cmr_buf_release(&title);
	return rc;
}
