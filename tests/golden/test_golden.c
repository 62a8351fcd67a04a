/*
 * test_golden.c -- data-driven plan cases (after curl's tests/data and
 * jq.test): each folder tests/golden/<case>/ holds
 *
 *   desired.yaml          the desired state (and overlay.yaml, if present,
 *                         merged on top)
 *   live.json             what CM answers, as one bundle:
 *                           {"deployment": ApiDeployment2,
 *                            "clusters": {"NAME": {"services": ApiServiceList,
 *                                                  "parcels": ApiParcelList,
 *                                                  "tags": [ApiEntityTag]}},
 *                            "full": {"SCOPE-KEY": ApiConfigList (view=full)}}
 *   options.json          optional: {"targets": [...], "force_secrets": bool,
 *                            "hmac_key": "...", "secrets": {"VAR": "value"}}
 *   expected.plan.txt     the text plan
 *   expected.plan.json    the JSON plan
 *
 * The live bundle goes through the real decoders of lib/api and the
 * desired file through the real loader, so a case tests the whole pure
 * pipeline: load -> decode -> plan -> render.  Run with
 * CMR_GOLDEN_UPDATE=1 to rewrite the expected files (then review the
 * diff).  Usage: test_golden CASE_DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cmr/api.h"
#include "cmr/buf.h"
#include "cmr/diag.h"
#include "cmr/load.h"
#include "cmr/model.h"
#include "cmr/params.h"
#include "cmr/plan.h"
#include "cmr/render.h"

static int failures;

static void fail_msg(const char *what, const char *msg)
{
	fprintf(stderr, "golden: %s: %s\n", what, msg);
	failures++;
}

static char *slurp(const char *path, size_t *len)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char chunk[8192];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cmr_buf_add(&b, chunk, n);
	fclose(f);
	return cmr_buf_detach(&b, len);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* --- options ----------------------------------------------------------- */

struct options {
	json_object *root;
	const char *targets[16];
	size_t ntargets;
	bool force;
	const char *hmac_key;
	json_object *secrets;
};

static int fake_resolve(struct cmr_buf *out, const struct cmr_value *ref,
                        void *ud, struct cmr_error *err)
{
	const struct options *o = ud;
	json_object *v = NULL;

	if (!o->secrets ||
	    !json_object_object_get_ex(o->secrets, ref->text, &v))
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "secret '%s' is not set", ref->text);
	cmr_buf_adds(out, json_object_get_string(v));
	return cmr_buf_error(out);
}

static void read_options(struct options *o, const char *dir)
{
	char path[4096];
	json_object *v;

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "%s/options.json", dir);
	if (!exists(path))
		return;
	o->root = json_object_from_file(path);
	if (!o->root) {
		fail_msg(path, "invalid JSON");
		return;
	}
	if (json_object_object_get_ex(o->root, "targets", &v)) {
		size_t i, n = json_object_array_length(v);

		for (i = 0; i < n && i < 16; i++)
			o->targets[o->ntargets++] = json_object_get_string(
			        json_object_array_get_idx(v, i));
	}
	if (json_object_object_get_ex(o->root, "force_secrets", &v))
		o->force = json_object_get_boolean(v);
	if (json_object_object_get_ex(o->root, "hmac_key", &v))
		o->hmac_key = json_object_get_string(v);
	json_object_object_get_ex(o->root, "secrets", &o->secrets);
}

/* --- the live bundle --------------------------------------------------- */

static int decode_part(json_object *part, const char *what,
                       int (*fn)(struct cmr_state *, struct cmr_cluster *,
                                 const char *, const char *, size_t,
                                 struct cmr_error *),
                       struct cmr_state *live, struct cmr_cluster *c,
                       struct cmr_error *err)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
	        part, JSON_C_TO_STRING_PLAIN, &len);

	return fn(live, c, what, text, len, err);
}

static int read_live(struct cmr_state **out_live, struct cmr_params **out_p,
                     const struct cmr_state *desired, const char *dir,
                     struct cmr_error *err)
{
	char path[4096];
	json_object *root, *part, *clusters, *full;
	struct cmr_state *live = NULL;
	struct cmr_params *params = NULL;
	const char *text;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "%s/live.json", dir);
	root = json_object_from_file(path);
	if (!root)
		return cmr_error_set(err, CMR_EINVAL, "%s: invalid JSON", path);
	rc = cmr_state_new(&live, CMR_STATE_LIVE, err);
	if (rc == 0)
		rc = cmr_params_new(&params, err);
	if (rc == 0 && json_object_object_get_ex(root, "deployment", &part)) {
		text = json_object_to_json_string_length(
		        part, JSON_C_TO_STRING_PLAIN, &len);
		rc = cmr_api_decode_deployment(live, desired, "deployment",
		                               text, len, err);
	}
	if (rc == 0 && json_object_object_get_ex(root, "clusters", &clusters)) {
		json_object_object_foreach(clusters, name, cl)
		{
			struct cmr_cluster *c = NULL;

			if (rc == 0)
				rc = cmr_state_add_cluster(&c, live, name, err);
			if (rc == 0 &&
			    json_object_object_get_ex(cl, "services", &part))
				rc = decode_part(part, "services",
				                 cmr_api_decode_services, live,
				                 c, err);
			if (rc == 0 &&
			    json_object_object_get_ex(cl, "parcels", &part))
				rc = decode_part(part, "parcels",
				                 cmr_api_decode_parcels, live,
				                 c, err);
			if (rc == 0 &&
			    json_object_object_get_ex(cl, "tags", &part)) {
				text = json_object_to_json_string_length(
				        part, JSON_C_TO_STRING_PLAIN, &len);
				rc = cmr_api_decode_tags(NULL, live, c, "tags",
				                         text, len, err);
			}
		}
	}
	if (rc == 0 && json_object_object_get_ex(root, "full", &full)) {
		json_object_object_foreach(full, key, cfg)
		{
			if (rc != 0)
				break;
			text = json_object_to_json_string_length(
			        cfg, JSON_C_TO_STRING_PLAIN, &len);
			rc = cmr_api_decode_config(live, NULL, params, key, key,
			                           text, len, err);
		}
	}
	json_object_put(root);
	if (rc < 0) {
		cmr_state_free(live);
		cmr_params_free(params);
		return rc;
	}
	*out_live = live;
	*out_p = params;
	return 0;
}

/* --- comparing --------------------------------------------------------- */

static void check_expected(const char *dir, const char *name,
                           const struct cmr_buf *got)
{
	char path[4096];
	const char *update = getenv("CMR_GOLDEN_UPDATE");
	size_t len = 0;
	char *want;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (update && *update && strcmp(update, "0") != 0) {
		FILE *f = fopen(path, "wb");

		if (!f || fwrite(got->ptr, 1, got->len, f) != got->len)
			fail_msg(path, "cannot write");
		if (f)
			fclose(f);
		return;
	}
	want = slurp(path, &len);
	if (!want) {
		fail_msg(path, "missing (run with CMR_GOLDEN_UPDATE=1)");
		return;
	}
	if (len != got->len || memcmp(want, got->ptr, len) != 0) {
		fprintf(stderr, "golden: %s differs; got:\n%s\n", path,
		        got->ptr);
		failures++;
	}
	free(want);
}

static int run_case(const char *dir)
{
	char desired_path[4096], overlay_path[4096];
	const char *files[2];
	size_t nfiles = 1;
	struct cmr_diag_list diags;
	struct cmr_state *desired = NULL, *live = NULL;
	struct cmr_params *params = NULL;
	struct cmr_plan *plan = NULL;
	struct cmr_plan_options popt;
	struct cmr_render_options ropt;
	struct cmr_buf text = CMR_BUF_INIT, json = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct options o;
	size_t i;

	/* Work inside the case folder, so marks and secret file paths read
	 * "desired.yaml:3:5" and "keystore.pw" wherever the checkout is. */
	if (chdir(dir) < 0) {
		fail_msg(dir, "cannot enter the case folder");
		return failures;
	}
	dir = ".";
	read_options(&o, dir);
	cmr_diag_list_init(&diags);
	snprintf(desired_path, sizeof(desired_path), "desired.yaml");
	snprintf(overlay_path, sizeof(overlay_path), "overlay.yaml");
	files[0] = desired_path;
	if (exists(overlay_path))
		files[nfiles++] = overlay_path;
	if (cmr_load_files(&desired, files, nfiles, &diags, &err) < 0) {
		for (i = 0; i < diags.len; i++)
			fprintf(stderr, "%s:%u:%u: %s\n",
			        diags.items[i].where.file,
			        diags.items[i].where.line,
			        diags.items[i].where.col, diags.items[i].msg);
		fail_msg(dir, err.msg);
		goto done;
	}
	if (read_live(&live, &params, desired, dir, &err) < 0) {
		fail_msg(dir, err.msg);
		goto done;
	}
	memset(&popt, 0, sizeof(popt));
	popt.cm_url = "https://cm.example.com:7183";
	popt.api_version = "v45";
	popt.targets = o.targets;
	popt.ntargets = o.ntargets;
	popt.flags = o.force ? CMR_PLAN_FORCE_SECRETS : 0;
	popt.resolve = fake_resolve;
	popt.resolve_ud = &o;
	popt.hmac_key = o.hmac_key;
	popt.hmac_key_len = o.hmac_key ? strlen(o.hmac_key) : 0;
	if (cmr_plan_build(&plan, desired, live, params, &popt, &err) < 0) {
		fail_msg(dir, err.msg);
		goto done;
	}
	memset(&ropt, 0, sizeof(ropt));
	ropt.title = "cmrecon plan desired.yaml";
	if (cmr_render_plan_text(&text, plan, &ropt, &err) < 0 ||
	    cmr_render_plan_json(&json, plan, &ropt, &err) < 0) {
		fail_msg(dir, err.msg);
		goto done;
	}
	check_expected(dir, "expected.plan.txt", &text);
	check_expected(dir, "expected.plan.json", &json);
done:
	cmr_buf_release(&text);
	cmr_buf_release(&json);
	cmr_plan_free(plan);
	cmr_params_free(params);
	cmr_state_free(live);
	cmr_state_free(desired);
	cmr_diag_list_release(&diags);
	if (o.root)
		json_object_put(o.root);
	return failures;
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: test_golden CASE_DIR...\n");
		return 64;
	}
	/* One case per process: run_case changes directory. */
	if (argc != 2) {
		fprintf(stderr, "usage: test_golden CASE_DIR\n");
		return 64;
	}
	for (i = 1; i < argc; i++)
		run_case(argv[i]);
	if (failures == 0)
		printf("golden: %d case%s passed\n", argc - 1,
		       argc == 2 ? "" : "s");
	return failures ? 1 : 0;
}
