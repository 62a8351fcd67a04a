/*
 * fuzz_load.c -- libFuzzer target for the desired-state loader.
 *
 * Feeds arbitrary bytes to cmr_load_buffer, as a file would reach it, and
 * checks the loader's contract, not just that it does not crash:
 *   - the return code matches the diagnostics (0 with no error, CMR_EINVAL
 *     with at least one, CMR_ENOMEM only when memory ran out);
 *   - every diagnostic is located in the file, with a message;
 *   - a state that loaded cleanly is well formed: names non-empty,
 *     collections strictly sorted, value kinds consistent with their text;
 *   - loading the same bytes again (a merge with itself) gives the same
 *     verdict and never a type conflict.
 * A broken promise aborts, which libFuzzer reports as a crash with the
 * input that caused it.
 *
 * Built by tests/fuzz/build.sh with clang -fsanitize=fuzzer,address,
 * undefined; see docs/format.md ("Fuzzing") for longer runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/diag.h"
#include "cmr/load.h"
#include "cmr/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz/input.yaml"

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_load: broken promise: %s\n", what);
		abort();
	}
}

static void check_config(const struct cmr_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->len; i++) {
		const struct cmr_config_entry *e = cfg->items[i];

		check(e->name && *e->name, "setting has a name");
		check(i == 0 || strcmp(cfg->items[i - 1]->name, e->name) < 0,
		      "settings sorted and unique");
		check((e->value.kind == CMR_VALUE_RESET) ==
		              (e->value.text == NULL),
		      "a reset has no text, anything else has");
		check(e->mark.line >= 1 && e->mark.col >= 1,
		      "setting has a mark");
		check(!cmr_secret_literal_refused(e->name, &e->value),
		      "no literal secret accepted");
	}
}

static void check_service(const struct cmr_service *s)
{
	size_t i;

	check_config(&s->config);
	for (i = 0; i < s->groups.len; i++) {
		check(*s->groups.items[i]->name != '\0', "group has a name");
		check(i == 0 || strcmp(s->groups.items[i - 1]->name,
		                       s->groups.items[i]->name) < 0,
		      "groups sorted and unique");
		check_config(&s->groups.items[i]->config);
	}
}

static void check_state(const struct cmr_state *st)
{
	size_t i;
	size_t j;

	check_config(&st->manager.config);
	if (st->manager.password)
		check(st->manager.password->value.kind == CMR_VALUE_ENV ||
		              st->manager.password->value.kind ==
		                      CMR_VALUE_FILE,
		      "manager password is a reference");
	if (st->manager.mgmt)
		check_service(st->manager.mgmt);
	for (i = 0; i < st->clusters.len; i++) {
		const struct cmr_cluster *c = st->clusters.items[i];

		check(*c->name != '\0', "cluster has a name");
		check(i == 0 || strcmp(st->clusters.items[i - 1]->name,
		                       c->name) < 0,
		      "clusters sorted and unique");
		for (j = 0; j < c->parcels.len; j++) {
			const struct cmr_parcel *p = c->parcels.items[j];

			check(cmr_parcel_stage_is_target(p->stage),
			      "parcel stage is a target stage");
			check(j == 0 || strcmp(c->parcels.items[j - 1]->product,
			                       p->product) < 0,
			      "one version per product, sorted");
		}
		for (j = 0; j < c->services.len; j++) {
			check(j == 0 || strcmp(c->services.items[j - 1]->name,
			                       c->services.items[j]->name) < 0,
			      "services sorted and unique");
			check_service(c->services.items[j]);
		}
	}
}

static void check_diags(const struct cmr_diag_list *d, size_t from)
{
	size_t i;

	for (i = from; i < d->len; i++) {
		check(d->items[i].where.file &&
		              strcmp(d->items[i].where.file, NAME) == 0,
		      "diagnostic names the file");
		check(d->items[i].where.line >= 1 && d->items[i].where.col >= 1,
		      "diagnostic has a position");
		check(d->items[i].msg && *d->items[i].msg,
		      "diagnostic has a message");
	}
}

/* Loads once; returns the code after checking it against the diags. */
static int load_once(struct cmr_state *st, struct cmr_diag_list *diags,
                     const uint8_t *data, size_t size, size_t *errors)
{
	struct cmr_error err = CMR_ERROR_INIT;
	size_t before = diags->errors;
	size_t from = diags->len;
	int rc = cmr_load_buffer(st, NAME, (const char *)data, size, diags,
	                         &err);

	*errors = diags->errors - before;
	if (rc == CMR_ENOMEM)
		return rc;
	check(rc == 0 || rc == CMR_EINVAL, "only 0, EINVAL or ENOMEM");
	check((rc == 0) == (*errors == 0), "code agrees with diagnostics");
	check(rc == 0 || err.msg[0] != '\0', "a failure has a message");
	check(*errors <= CMR_LOAD_MAX_ERRORS + 1, "problems are capped");
	check_diags(diags, from);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmr_diag_list diags;
	struct cmr_state *st = NULL;
	size_t first;
	size_t second;
	int rc;
	int rc2;

	cmr_diag_list_init(&diags);
	if (cmr_state_new(&st, CMR_STATE_DESIRED, NULL) != 0)
		goto done;
	rc = load_once(st, &diags, data, size, &first);
	if (rc == CMR_ENOMEM)
		goto done;
	if (rc == 0)
		check_state(st);
	/* The same file merged onto itself: same verdict, no conflict. */
	rc2 = load_once(st, &diags, data, size, &second);
	if (rc2 == CMR_ENOMEM)
		goto done;
	check(rc2 == rc, "a file merged onto itself gets the same verdict");
	check(second == first, "and the same number of problems");
	if (rc2 == 0)
		check_state(st);

done:
	cmr_state_free(st);
	cmr_diag_list_release(&diags);
	return 0;
}
