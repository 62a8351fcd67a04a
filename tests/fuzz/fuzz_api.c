/*
 * fuzz_api.c -- libFuzzer target for the JSON decoders of CM's answers.
 *
 * The first input byte picks a decoder (selector % NDECODERS, see the
 * table below); the rest is the response body, handed over without a
 * terminating NUL, as the transport delivers it.  Every cmr_api_decode_*
 * function of api.h is reached, the config decoder in its three modes
 * (values only, metadata only, both), and api_write.h's cluster-type
 * decoder.
 *
 * Checked, beyond "does not crash" (ASan/UBSan do that part):
 *   - the return code is 0 or a negative cmr_code the header allows
 *     (CMR_EINVAL, CMR_ENOMEM; CMR_EAPI, always, for decode_error), and
 *     err->code equals it with a non-empty message; on success err is
 *     untouched;
 *   - on failure there is no output: decode_version leaves *out alone;
 *   - on success the state is well formed: every collection strictly
 *     sorted with non-empty names, text entries carry text, resets none;
 *     parameter scopes sorted, params sorted and named;
 *   - decoding is a merge ("find or add"): the same body decoded a second
 *     time onto the state it just filled gives the same verdict;
 *   - messages are NUL-terminated inside the error buffer.
 * A broken promise aborts; libFuzzer reports it with the input.
 *
 * Built by tests/fuzz/build.sh; see docs/fuzzing.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/model.h"
#include "cmr/params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WHAT "GET /api/v45/fuzz"

enum decoder {
	DEC_VERSION = 0,
	DEC_CM_VERSION,
	DEC_DEPLOYMENT,
	DEC_DEPLOYMENT_ONLY,
	DEC_SERVICES,
	DEC_PARCELS,
	DEC_TAGS,
	DEC_GROUPS,
	DEC_MGMT_GROUPS,
	DEC_CONFIG_VALUES,
	DEC_CONFIG_PARAMS,
	DEC_CONFIG_BOTH,
	DEC_ERROR,
	DEC_CLUSTER_TYPE,
	NDECODERS
};

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_api: broken promise: %s\n", what);
		abort();
	}
}

/* ======================================================================
 * Well-formedness of what a decoder left behind
 */

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
		check(e->value.kind == CMR_VALUE_TEXT, "live values are texts");
	}
}

static void check_service(const struct cmr_service *s)
{
	size_t i;

	check_config(&s->config);
	for (i = 0; i < s->groups.len; i++) {
		check(s->groups.items[i]->name &&
		              *s->groups.items[i]->name != '\0',
		      "group has a name");
		check(i == 0 || strcmp(s->groups.items[i - 1]->name,
		                       s->groups.items[i]->name) < 0,
		      "groups sorted and unique");
		check_config(&s->groups.items[i]->config);
	}
	for (i = 0; i < s->roles.len; i++) {
		check(s->roles.items[i]->name &&
		              *s->roles.items[i]->name != '\0',
		      "role has a name");
		check(i == 0 || strcmp(s->roles.items[i - 1]->name,
		                       s->roles.items[i]->name) < 0,
		      "roles sorted and unique");
		check_config(&s->roles.items[i]->config);
	}
}

static int parcel_cmp(const struct cmr_parcel *a, const struct cmr_parcel *b)
{
	int c = strcmp(a->product, b->product);

	return c != 0 ? c : strcmp(a->version, b->version);
}

static void check_cluster(const struct cmr_cluster *c)
{
	size_t j;

	check(c->name && *c->name != '\0', "cluster has a name");
	check_config(&c->tags);
	for (j = 0; j < c->parcels.len; j++) {
		const struct cmr_parcel *p = c->parcels.items[j];

		check(p->product && p->version, "parcel has product, version");
		check(j == 0 || parcel_cmp(c->parcels.items[j - 1], p) < 0,
		      "parcels sorted and unique");
	}
	for (j = 0; j < c->services.len; j++) {
		const struct cmr_service *s = c->services.items[j];

		check(s->name && *s->name != '\0', "service has a name");
		check(j == 0 || strcmp(c->services.items[j - 1]->name,
		                       s->name) < 0,
		      "services sorted and unique");
		check_service(s);
	}
}

static void check_state(const struct cmr_state *st)
{
	size_t i;

	check_config(&st->manager.config);
	if (st->manager.mgmt)
		check_service(st->manager.mgmt);
	for (i = 0; i < st->clusters.len; i++) {
		check(i == 0 || strcmp(st->clusters.items[i - 1]->name,
		                       st->clusters.items[i]->name) < 0,
		      "clusters sorted and unique");
		check_cluster(st->clusters.items[i]);
	}
}

static void check_params(const struct cmr_params *p)
{
	size_t i;
	size_t j;

	for (i = 0; i < p->scopes.len; i++) {
		const struct cmr_scope_params *s = p->scopes.items[i];

		check(s->key && *s->key, "scope has a key");
		check(i == 0 || strcmp(p->scopes.items[i - 1]->key, s->key) < 0,
		      "scopes sorted and unique");
		for (j = 0; j < s->params.len; j++) {
			check(s->params.items[j]->name &&
			              *s->params.items[j]->name,
			      "param has a name");
			check(j == 0 || strcmp(s->params.items[j - 1]->name,
			                       s->params.items[j]->name) < 0,
			      "params sorted and unique");
		}
	}
}

static void check_err(int rc, const struct cmr_error *err)
{
	check(memchr(err->msg, '\0', sizeof(err->msg)) != NULL,
	      "message is NUL-terminated in its buffer");
	if (rc == 0) {
		check(err->code == CMR_OK && err->msg[0] == '\0',
		      "success leaves the error untouched");
		return;
	}
	check(rc == CMR_EINVAL || rc == CMR_ENOMEM,
	      "decoders return 0, CMR_EINVAL or CMR_ENOMEM");
	check((int)err->code == rc, "err->code is the return code");
	check(err->msg[0] != '\0', "a failure has a message");
}

/* ======================================================================
 * One decode
 */

struct target {
	struct cmr_state *live;
	struct cmr_state *only;
	struct cmr_params *params;
	struct cmr_cluster *cluster;
	struct cmr_service *service;
	struct cmr_service *mgmt;
};

static int target_init(struct target *t)
{
	struct cmr_cluster *oc = NULL;

	memset(t, 0, sizeof(*t));
	if (cmr_state_new(&t->live, CMR_STATE_LIVE, NULL) < 0 ||
	    cmr_state_new(&t->only, CMR_STATE_DESIRED, NULL) < 0 ||
	    cmr_params_new(&t->params, NULL) < 0 ||
	    cmr_state_add_cluster(&t->cluster, t->live, "Cluster 1", NULL) <
	            0 ||
	    cmr_cluster_add_service(&t->service, t->live, t->cluster, "hdfs",
	                            NULL) < 0 ||
	    cmr_manager_add_mgmt(&t->mgmt, t->live, "mgmt", NULL) < 0 ||
	    cmr_state_add_cluster(&oc, t->only, "Cluster 1", NULL) < 0)
		return -1;
	return 0;
}

static void target_release(struct target *t)
{
	cmr_state_free(t->live);
	cmr_state_free(t->only);
	cmr_params_free(t->params);
}

static int decode(struct target *t, enum decoder d, const char *body,
                  size_t len)
{
	struct cmr_error err = CMR_ERROR_INIT;
	size_t count = (size_t)-1;
	unsigned version = 7777;
	int rc = 0;

	switch (d) {
	case DEC_VERSION:
		rc = cmr_api_decode_version(&version, body, len, &err);
		check(rc != 0 || (version >= 1 && version <= 9999),
		      "a version is in range");
		check(rc == 0 || version == 7777, "no output on failure");
		break;
	case DEC_CM_VERSION:
		rc = cmr_api_decode_cm_version(t->live, WHAT, body, len, &err);
		break;
	case DEC_DEPLOYMENT:
		rc = cmr_api_decode_deployment(t->live, NULL, WHAT, body, len,
		                               &err);
		break;
	case DEC_DEPLOYMENT_ONLY:
		rc = cmr_api_decode_deployment(t->live, t->only, WHAT, body,
		                               len, &err);
		if (rc == 0)
			check(t->live->clusters.len <= 1,
			      "only the clusters asked for are kept");
		break;
	case DEC_SERVICES:
		rc = cmr_api_decode_services(t->live, t->cluster, WHAT, body,
		                             len, &err);
		break;
	case DEC_PARCELS:
		rc = cmr_api_decode_parcels(t->live, t->cluster, WHAT, body,
		                            len, &err);
		break;
	case DEC_TAGS:
		rc = cmr_api_decode_tags(&count, t->live, t->cluster, WHAT,
		                         body, len, &err);
		check(rc != 0 || count <= len, "a tag count fits the body");
		break;
	case DEC_GROUPS:
		rc = cmr_api_decode_groups(t->live, t->service, WHAT, body, len,
		                           &err);
		break;
	case DEC_MGMT_GROUPS:
		rc = cmr_api_decode_groups(t->live, t->mgmt, WHAT, body, len,
		                           &err);
		break;
	case DEC_CONFIG_VALUES:
		rc = cmr_api_decode_config(t->live, &t->service->config, NULL,
		                           NULL, WHAT, body, len, &err);
		break;
	case DEC_CONFIG_PARAMS:
		rc = cmr_api_decode_config(t->live, NULL, t->params,
		                           "Cluster 1/hdfs", WHAT, body, len,
		                           &err);
		break;
	case DEC_CONFIG_BOTH:
		rc = cmr_api_decode_config(t->live, &t->mgmt->config, t->params,
		                           "mgmt", WHAT, body, len, &err);
		break;
	case DEC_ERROR:
		rc = cmr_api_decode_error(&err, 503, WHAT, body, len);
		check(rc == CMR_EAPI && err.code == CMR_EAPI,
		      "decode_error returns CMR_EAPI");
		check(err.http_status == 503, "decode_error keeps the status");
		check(strncmp(err.msg, WHAT ": HTTP 503", strlen(WHAT) + 10) ==
		              0,
		      "decode_error's message names the request and status");
		return rc;
	case DEC_CLUSTER_TYPE: {
		bool compute = true;

		rc = cmr_api_decode_cluster_type(&compute, WHAT, body, len,
		                                 &err);
		check(rc == 0 || !compute, "no compute verdict on failure");
		break;
	}
	case NDECODERS:
		break;
	}
	check_err(rc, &err);
	if (rc == 0) {
		check_state(t->live);
		check_params(t->params);
	}
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target t;
	enum decoder d;
	const char *body;
	size_t len;
	int rc;
	int rc2;

	if (size < 1)
		return 0;
	d = (enum decoder)(data[0] % NDECODERS);
	/* libFuzzer's buffer ends right after the body, with no NUL, so
	 * ASan sees any read past it. */
	len = size - 1;
	body = (const char *)data + 1;
	if (target_init(&t) < 0)
		goto done;
	rc = decode(&t, d, body, len);
	if (rc == CMR_ENOMEM)
		goto done;
	if (rc == 0 && d != DEC_ERROR) {
		/* Find-or-add: the same answer again changes nothing. */
		rc2 = decode(&t, d, body, len);
		check(rc2 == 0 || rc2 == CMR_ENOMEM,
		      "an answer decoded twice is accepted twice");
	}
done:
	target_release(&t);
	return 0;
}
