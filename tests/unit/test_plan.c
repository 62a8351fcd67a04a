/*
 * test_plan.c -- the planner's rules, one behaviour per test, on small
 * models built in code (no YAML, no HTTP): that the planner is a pure
 * function of two models is what makes this possible.
 */
#include <stdlib.h>
#include <string.h>

#include "cmr/buf.h"
#include "cmr/hmac.h"
#include "cmr/model.h"
#include "cmr/params.h"
#include "cmr/plan.h"

#include "support.h"

struct fixture {
	struct cmr_state *want;
	struct cmr_state *live;
	struct cmr_params *params;
	struct cmr_plan *plan;
	struct cmr_plan_options opt;
	struct cmr_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_cmr_ok(cmr_state_new(&f->want, CMR_STATE_DESIRED, &f->err),
	              &f->err);
	assert_cmr_ok(cmr_state_new(&f->live, CMR_STATE_LIVE, &f->err),
	              &f->err);
	assert_cmr_ok(cmr_params_new(&f->params, &f->err), &f->err);
	f->opt.cm_url = "https://cm.example.com:7183";
	f->opt.api_version = "v45";
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cmr_plan_free(f->plan);
	cmr_params_free(f->params);
	cmr_state_free(f->want);
	cmr_state_free(f->live);
	free(f);
	return 0;
}

/* --- building models ---------------------------------------------------- */

static struct cmr_service *svc(struct cmr_state *st, const char *cluster,
                               const char *name, const char *type)
{
	struct cmr_cluster *c;
	struct cmr_service *s;

	assert_cmr_ok(cmr_state_add_cluster(&c, st, cluster, NULL), NULL);
	assert_cmr_ok(cmr_cluster_add_service(&s, st, c, name, NULL), NULL);
	if (type)
		s->type = cmr_state_strdup(st, type);
	if (st->origin == CMR_STATE_LIVE) {
		s->state = CMR_RUN_STARTED;
		s->config_staleness = CMR_STALE_FRESH;
		s->client_config_staleness = CMR_STALE_FRESH;
		s->health = CMR_HEALTH_GOOD;
	}
	return s;
}

static struct cmr_role_config_group *grp(struct cmr_state *st,
                                         struct cmr_service *s,
                                         const char *name,
                                         const char *role_type)
{
	struct cmr_role_config_group *g;

	assert_cmr_ok(cmr_service_add_group(&g, st, s, name, NULL), NULL);
	if (role_type)
		g->role_type = cmr_state_strdup(st, role_type);
	return g;
}

static void set(struct cmr_state *st, struct cmr_config *cfg, const char *name,
                const char *text)
{
	assert_cmr_ok(
	        cmr_config_set_text(NULL, st, cfg, name, text, false, NULL),
	        NULL);
}

static void set_sensitive(struct cmr_state *st, struct cmr_config *cfg,
                          const char *name)
{
	assert_cmr_ok(cmr_config_set_text(NULL, st, cfg, name, "REDACTED", true,
	                                  NULL),
	              NULL);
}

static void set_kind(struct cmr_state *st, struct cmr_config *cfg,
                     const char *name, enum cmr_value_kind kind,
                     const char *text)
{
	struct cmr_value v = { kind, text };

	assert_cmr_ok(
	        cmr_config_set(NULL, st, cfg, name, &v,
	                       kind == CMR_VALUE_ENV || kind == CMR_VALUE_FILE,
	                       NULL, NULL),
	        NULL);
}

static struct cmr_param *param(struct fixture *f, const char *cluster,
                               const char *service, const char *group,
                               const char *name, const char *def)
{
	struct cmr_scope sc = { !cluster ? (group     ? CMR_SCOPE_MGMT_GROUP
		                            : service ? CMR_SCOPE_MGMT
		                                      : CMR_SCOPE_CM)
		                : group  ? CMR_SCOPE_GROUP
		                         : CMR_SCOPE_SERVICE,
		                cluster, service, group };
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_scope_params *sp;
	struct cmr_param *prm;

	assert_int_equal(cmr_scope_key(&key, &sc), 0);
	assert_cmr_ok(cmr_params_add_scope(&sp, f->params, key.ptr, NULL),
	              NULL);
	assert_cmr_ok(cmr_scope_add_param(&prm, f->params, sp, name, NULL),
	              NULL);
	prm->default_value = cmr_params_strdup(f->params, def);
	cmr_buf_release(&key);
	return prm;
}

static struct cmr_parcel *parcel(struct cmr_state *st, const char *cluster,
                                 const char *product, const char *version,
                                 enum cmr_parcel_stage stage)
{
	struct cmr_cluster *c;
	struct cmr_parcel *p;

	assert_cmr_ok(cmr_state_add_cluster(&c, st, cluster, NULL), NULL);
	assert_cmr_ok(cmr_cluster_add_parcel(&p, st, c, product, version, NULL),
	              NULL);
	p->stage = stage;
	return p;
}

static void build(struct fixture *f)
{
	cmr_plan_free(f->plan);
	f->plan = NULL;
	assert_cmr_ok(cmr_plan_build(&f->plan, f->want, f->live, f->params,
	                             &f->opt, &f->err),
	              &f->err);
}

/* The change for key in the n-th scope, or NULL. */
static const struct cmr_change *change(const struct fixture *f, size_t n,
                                       const char *key)
{
	const struct cmr_scope_change *sc;
	size_t i;

	if (n >= f->plan->scopes.len)
		return NULL;
	sc = f->plan->scopes.items[n];
	for (i = 0; i < sc->changes.len; i++)
		if (strcmp(sc->changes.items[i]->key, key) == 0)
			return sc->changes.items[i];
	return NULL;
}

static const struct cmr_note *note_with(const struct fixture *f,
                                        const char *text)
{
	size_t i;

	for (i = 0; i < f->plan->notes.len; i++)
		if (strstr(f->plan->notes.items[i]->message, text))
			return f->plan->notes.items[i];
	return NULL;
}

static const struct cmr_fingerprint *fingerprint(const struct fixture *f,
                                                 const char *scope)
{
	size_t i;

	for (i = 0; i < f->plan->fingerprints.len; i++)
		if (strcmp(f->plan->fingerprints.items[i]->scope, scope) == 0)
			return f->plan->fingerprints.items[i];
	return NULL;
}

static void dump_notes(const struct fixture *f)
{
	size_t i;

	for (i = 0; i < f->plan->notes.len; i++)
		print_message("note: %s\n", f->plan->notes.items[i]->message);
}

/* --- settings ----------------------------------------------------------- */

static void test_plan__update_set_reset_and_default(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hdfs", "HDFS");
	struct cmr_service *ls = svc(f->live, "C", "hdfs", "HDFS");
	const struct cmr_change *ch;

	set(f->want, &ws->config, "dfs_replication", "2");
	set(f->live, &ls->config, "dfs_replication", "3");
	set(f->want, &ws->config, "dfs_umaskmode", "022");
	set_kind(f->want, &ws->config, "dfs_block_size", CMR_VALUE_RESET, NULL);
	set(f->live, &ls->config, "dfs_block_size", "268435456");
	/* equal to the default while live leaves it unset: no change */
	set(f->want, &ws->config, "dfs_permissions", "true");
	param(f, "C", "hdfs", NULL, "dfs_permissions", "true");
	param(f, "C", "hdfs", NULL, "dfs_umaskmode", "022x");
	param(f, "C", "hdfs", NULL, "dfs_replication", "3");
	param(f, "C", "hdfs", NULL, "dfs_block_size", "134217728");
	/* a null for a key live leaves unset: no change */
	set_kind(f->want, &ws->config, "dfs_namenode_handler_count",
	         CMR_VALUE_RESET, NULL);
	param(f, "C", "hdfs", NULL, "dfs_namenode_handler_count", "30");
	build(f);
	dump_notes(f);
	assert_int_equal(f->plan->scopes.len, 1);
	assert_int_equal(f->plan->scopes.items[0]->scope.kind,
	                 CMR_SCOPE_SERVICE);
	assert_int_equal(f->plan->scopes.items[0]->changes.len, 3);
	ch = change(f, 0, "dfs_replication");
	assert_int_equal(ch->op, CMR_OP_UPDATE);
	assert_string_equal(ch->old_value, "3");
	assert_string_equal(ch->new_value, "2");
	assert_true(ch->effect & CMR_EFFECT_RESTART);
	ch = change(f, 0, "dfs_umaskmode");
	assert_int_equal(ch->op, CMR_OP_SET);
	assert_null(ch->old_value);
	assert_string_equal(ch->default_value, "022x");
	ch = change(f, 0, "dfs_block_size");
	assert_int_equal(ch->op, CMR_OP_RESET);
	assert_string_equal(ch->old_value, "268435456");
	assert_string_equal(ch->default_value, "134217728");
	assert_null(change(f, 0, "dfs_permissions"));
	assert_true(cmr_plan_has_changes(f->plan));
}

static void test_plan__no_change_is_empty(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hdfs", "HDFS");
	struct cmr_service *ls = svc(f->live, "C", "hdfs", "HDFS");
	struct cmr_plan_summary s;

	set(f->want, &ws->config, "dfs_replication", "3");
	set(f->live, &ls->config, "dfs_replication", "3");
	set(f->live, &ls->config, "other", "x");
	build(f);
	assert_int_equal(f->plan->scopes.len, 0);
	assert_int_equal(f->plan->restarts.len, 0);
	assert_false(cmr_plan_has_changes(f->plan));
	cmr_plan_summarize(&s, f->plan);
	assert_int_equal(s.settings + s.parcels + s.restarts, 0);
	/* fingerprints: CM settings, the service, the parcels */
	assert_int_equal(f->plan->fingerprints.len, 3);
}

static void test_plan__unknown_key_suggests(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hdfs", "HDFS");
	const struct cmr_note *n;

	svc(f->live, "C", "hdfs", "HDFS");
	set(f->want, &ws->config, "dfs_replicaton", "2");
	param(f, "C", "hdfs", NULL, "dfs_replication", "3");
	param(f, "C", "hdfs", NULL, "dfs_permissions", "true");
	build(f);
	n = note_with(f, "unknown setting 'dfs_replicaton'");
	assert_non_null(n);
	assert_int_equal(n->level, CMR_NOTE_ERROR);
	assert_non_null(strstr(n->message, "did you mean 'dfs_replication'?"));
	assert_null(strstr(n->message, "dfs_permissions"));
	assert_int_equal(f->plan->scopes.len, 0);
}

static void test_plan__prune_resets_unnamed_but_not_sensitive(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hive", "HIVE");
	struct cmr_service *ls = svc(f->live, "C", "hive", "HIVE");
	struct cmr_role_config_group *wg, *lg, *lg2;

	ws->prune = true;
	set(f->want, &ws->config, "a", "1");
	set(f->live, &ls->config, "a", "1");
	set(f->live, &ls->config, "b", "2");
	set(f->live, &ls->config, "zookeeper_service", "zk");
	set_sensitive(f->live, &ls->config, "hive_metastore_database_password");
	wg = grp(f->want, ws, "hive-HIVESERVER2-BASE", NULL);
	lg = grp(f->live, ls, "hive-HIVESERVER2-BASE", "HIVESERVER2");
	set(f->live, &lg->config, "hs2_x", "9");
	(void)wg;
	/* a group the file does not name is left alone */
	lg2 = grp(f->live, ls, "hive-GATEWAY-BASE", "GATEWAY");
	set(f->live, &lg2->config, "gw", "1");
	build(f);
	assert_int_equal(f->plan->scopes.len, 2);
	assert_int_equal(f->plan->scopes.items[0]->changes.len, 1);
	assert_true(change(f, 0, "b")->pruned);
	assert_int_equal(change(f, 0, "b")->op, CMR_OP_RESET);
	assert_null(change(f, 0, "hive_metastore_database_password"));
	assert_null(change(f, 0, "zookeeper_service"));
	assert_string_equal(f->plan->scopes.items[1]->scope.group,
	                    "hive-HIVESERVER2-BASE");
	assert_true(change(f, 1, "hs2_x")->pruned);
}

static void test_plan__literal_for_sensitive_key_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hive", "HIVE");
	struct cmr_service *ls = svc(f->live, "C", "hive", "HIVE");
	const struct cmr_note *n;

	set(f->want, &ws->config, "hive_metastore_database_password", "pw");
	set_sensitive(f->live, &ls->config, "hive_metastore_database_password");
	build(f);
	n = note_with(f, "is sensitive in CM");
	assert_non_null(n);
	assert_int_equal(n->level, CMR_NOTE_ERROR);
	assert_int_equal(f->plan->scopes.len, 0);
}

/* --- secrets ------------------------------------------------------------ */

static int fake_resolve(struct cmr_buf *out, const struct cmr_value *ref,
                        void *ud, struct cmr_error *err)
{
	(void)ud;
	if (strcmp(ref->text, "UNSET") == 0)
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "environment variable '%s' is not set",
		                     ref->text);
	cmr_buf_addf(out, "secret-of-%s", ref->text);
	return cmr_buf_error(out);
}

/* Stores the record for `key` in service hive of cluster C as it would
 * be after writing value "secret-of-<var>". */
static void store_record(struct fixture *f, const char *key, const char *var)
{
	struct cmr_buf tag = CMR_BUF_INIT, rec = CMR_BUF_INIT,
	               val = CMR_BUF_INIT;
	struct cmr_cluster *c = cmr_state_find_cluster(f->live, "C");

	assert_int_equal(cmr_plan_secret_tag(&tag, "C/hive", key), 0);
	cmr_buf_addf(&val, "secret-of-%s", var);
	assert_int_equal(cmr_hmac_record(&rec, "k3y", 3, val.ptr, val.len), 0);
	set(f->live, &c->tags, tag.ptr, rec.ptr);
	cmr_buf_release(&tag);
	cmr_buf_release(&rec);
	cmr_buf_release(&val);
}

static void secrets_setup(struct fixture *f)
{
	struct cmr_service *ws = svc(f->want, "C", "hive", "HIVE");
	struct cmr_service *ls = svc(f->live, "C", "hive", "HIVE");

	f->opt.resolve = fake_resolve;
	set_kind(f->want, &ws->config, "new_password", CMR_VALUE_ENV, "A");
	set_kind(f->want, &ws->config, "same_password", CMR_VALUE_ENV, "B");
	set_kind(f->want, &ws->config, "rotated_password", CMR_VALUE_FILE,
	         "pw.txt");
	set_kind(f->want, &ws->config, "unrecorded_password", CMR_VALUE_ENV,
	         "D");
	set_sensitive(f->live, &ls->config, "same_password");
	set_sensitive(f->live, &ls->config, "rotated_password");
	set_sensitive(f->live, &ls->config, "unrecorded_password");
	store_record(f, "same_password", "B");
	store_record(f, "rotated_password", "old.txt");
}

static void test_plan__secrets_compared_through_records(void **state)
{
	struct fixture *f = *state;
	struct cmr_plan_summary s;
	const struct cmr_change *ch;
	size_t i;

	secrets_setup(f);
	f->opt.hmac_key = "k3y";
	f->opt.hmac_key_len = 3;
	build(f);
	dump_notes(f);
	ch = change(f, 0, "new_password");
	assert_int_equal(ch->secret, CMR_SECRET_NEW);
	assert_int_equal(ch->op, CMR_OP_SET);
	assert_int_equal(ch->secret_source.kind, CMR_VALUE_ENV);
	assert_string_equal(ch->secret_source.text, "A");
	assert_null(ch->new_value);
	assert_true(ch->sensitive);
	assert_null(change(f, 0, "same_password"));
	ch = change(f, 0, "rotated_password");
	assert_int_equal(ch->secret, CMR_SECRET_ROTATED);
	assert_int_equal(ch->secret_source.kind, CMR_VALUE_FILE);
	assert_string_equal(ch->secret_source.text, "pw.txt");
	ch = change(f, 0, "unrecorded_password");
	assert_int_equal(ch->secret, CMR_SECRET_UNVERIFIED);
	cmr_plan_summarize(&s, f->plan);
	assert_int_equal(s.settings, 2);
	assert_int_equal(s.unverified, 1);
	/* The secrets it writes are fingerprinted (a saved plan goes stale
	 * when one changes); the unverified one is not written, so not. */
	assert_non_null(fingerprint(f, "secret:C/hive/new_password"));
	assert_non_null(fingerprint(f, "secret:C/hive/rotated_password"));
	assert_null(fingerprint(f, "secret:C/hive/unrecorded_password"));
	assert_null(fingerprint(f, "secret:C/hive/same_password"));
	/* Nothing in the plan carries a secret's value. */
	for (i = 0; i < f->plan->scopes.items[0]->changes.len; i++) {
		const struct cmr_change *c =
		        f->plan->scopes.items[0]->changes.items[i];

		assert_null(c->new_value);
		assert_null(c->old_value);
	}
}

static void test_plan__force_secrets_and_missing_key(void **state)
{
	struct fixture *f = *state;

	secrets_setup(f);
	f->opt.flags = CMR_PLAN_FORCE_SECRETS;
	build(f);
	/* Without CMRECON_HMAC_KEY nothing can be compared: a warning, and
	 * every live secret is written because of --force-secrets. */
	assert_non_null(note_with(f, "CMRECON_HMAC_KEY is not set"));
	/* ...and without the key no secret can be fingerprinted */
	assert_null(fingerprint(f, "secret:C/hive/new_password"));
	assert_int_equal(change(f, 0, "same_password")->secret,
	                 CMR_SECRET_FORCED);
	assert_int_equal(change(f, 0, "unrecorded_password")->secret,
	                 CMR_SECRET_FORCED);
	assert_int_equal(change(f, 0, "new_password")->secret, CMR_SECRET_NEW);
}

static void test_plan__unset_env_secret_fails(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hive", "HIVE");
	struct cmr_plan *plan = NULL;

	svc(f->live, "C", "hive", "HIVE");
	f->opt.resolve = fake_resolve;
	set_kind(f->want, &ws->config, "x_password", CMR_VALUE_ENV, "UNSET");
	assert_cmr_fails_with(
	        CMR_ENOTFOUND,
	        cmr_plan_build(&plan, f->want, f->live, NULL, &f->opt, &f->err),
	        &f->err);
	assert_null(plan);
	assert_non_null(strstr(f->err.msg, "UNSET"));
}

/* --- parcels ------------------------------------------------------------ */

static void test_plan__parcel_up_with_replacement(void **state)
{
	struct fixture *f = *state;
	const struct cmr_parcel_change *pc;
	size_t i;
	bool hdfs_restart = false;

	svc(f->live, "C", "hdfs", "HDFS");
	svc(f->live, "C", "spark3", "SPARK3_ON_YARN");
	parcel(f->want, "C", "CDH", "7.1.9", CMR_PARCEL_ACTIVATED);
	parcel(f->live, "C", "CDH", "7.1.9", CMR_PARCEL_AVAILABLE_REMOTELY);
	parcel(f->live, "C", "CDH", "7.1.8", CMR_PARCEL_ACTIVATED);
	build(f);
	dump_notes(f);
	assert_int_equal(f->plan->parcels.len, 1);
	pc = f->plan->parcels.items[0];
	assert_int_equal(pc->nsteps, 3);
	assert_int_equal(pc->steps[0], CMR_PARCEL_CMD_DOWNLOAD);
	assert_int_equal(pc->steps[1], CMR_PARCEL_CMD_DISTRIBUTE);
	assert_int_equal(pc->steps[2], CMR_PARCEL_CMD_ACTIVATE);
	assert_string_equal(pc->replaces, "7.1.8");
	/* CDH carries every service: all of them restart */
	assert_int_equal(f->plan->restarts.len, 2);
	for (i = 0; i < f->plan->restarts.len; i++) {
		const struct cmr_restart *r = f->plan->restarts.items[i];

		assert_true(r->reasons & CMR_REASON_PARCEL);
		if (strcmp(r->service, "hdfs") == 0)
			hdfs_restart = true;
	}
	assert_true(hdfs_restart);
}

static void test_plan__parcel_down_and_to_distributed(void **state)
{
	struct fixture *f = *state;
	const struct cmr_parcel_change *pc;

	svc(f->live, "C", "hdfs", "HDFS");
	parcel(f->want, "C", "SPARK3", "3.3", CMR_PARCEL_AVAILABLE_REMOTELY);
	parcel(f->live, "C", "SPARK3", "3.3", CMR_PARCEL_ACTIVATED);
	parcel(f->want, "C", "KAFKA", "2.8", CMR_PARCEL_DISTRIBUTED);
	parcel(f->live, "C", "KAFKA", "2.8", CMR_PARCEL_DOWNLOADED);
	build(f);
	assert_int_equal(f->plan->parcels.len, 2);
	pc = f->plan->parcels.items[0];
	assert_string_equal(pc->product, "KAFKA");
	assert_int_equal(pc->nsteps, 1);
	assert_int_equal(pc->steps[0], CMR_PARCEL_CMD_DISTRIBUTE);
	pc = f->plan->parcels.items[1];
	assert_string_equal(pc->product, "SPARK3");
	assert_int_equal(pc->nsteps, 3);
	assert_int_equal(pc->steps[0], CMR_PARCEL_CMD_DEACTIVATE);
	assert_int_equal(pc->steps[1], CMR_PARCEL_CMD_UNDISTRIBUTE);
	assert_int_equal(pc->steps[2], CMR_PARCEL_CMD_REMOVE_DOWNLOAD);
	/* hdfs is not a SPARK3 service: nothing to restart */
	assert_int_equal(f->plan->restarts.len, 0);
}

static void test_plan__unknown_parcel_names_repo_setting(void **state)
{
	struct fixture *f = *state;

	svc(f->live, "C", "hdfs", "HDFS");
	parcel(f->want, "C", "CDH", "9.9", CMR_PARCEL_DISTRIBUTED);
	build(f);
	assert_non_null(note_with(f, "REMOTE_PARCEL_REPO_URLS"));
	assert_int_equal(f->plan->parcels.len, 0);
	/* ...unless the file changes the repository list too */
	set(f->want, &f->want->manager.config, "REMOTE_PARCEL_REPO_URLS",
	    "https://repo/new/");
	build(f);
	assert_int_equal(f->plan->parcels.len, 1);
	assert_true(f->plan->parcels.items[0]->needs_repo_refresh);
	assert_true(f->plan->refresh_parcel_repos);
	assert_int_equal(f->plan->scopes.items[0]->scope.kind, CMR_SCOPE_CM);
}

/* --- restarts ----------------------------------------------------------- */

static void test_plan__restarts_in_dependency_order(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *zk, *hdfs, *yarn, *hive;
	const char *order[4];
	size_t i;

	zk = svc(f->live, "C", "zk", "ZOOKEEPER");
	hdfs = svc(f->live, "C", "hdfs", "HDFS");
	yarn = svc(f->live, "C", "yarn", "YARN");
	hive = svc(f->live, "C", "aaa-hive", "HIVE");
	set(f->live, &hdfs->config, "zookeeper_service", "zk");
	set(f->live, &yarn->config, "hdfs_service", "hdfs");
	set(f->live, &hive->config, "mapreduce_yarn_service", "yarn");
	(void)zk;
	set(f->want, &svc(f->want, "C", "aaa-hive", NULL)->config, "x", "1");
	set(f->want, &svc(f->want, "C", "yarn", NULL)->config, "x", "1");
	set(f->want, &svc(f->want, "C", "zk", NULL)->config, "x", "1");
	set(f->want, &svc(f->want, "C", "hdfs", NULL)->config, "x", "1");
	build(f);
	assert_int_equal(f->plan->restarts.len, 4);
	for (i = 0; i < 4; i++) {
		order[i] = f->plan->restarts.items[i]->service;
		assert_int_equal(f->plan->restarts.items[i]->order, i);
	}
	assert_string_equal(order[0], "zk");
	assert_string_equal(order[1], "hdfs");
	assert_string_equal(order[2], "yarn");
	assert_string_equal(order[3], "aaa-hive");
}

static void test_plan__restart_actions_by_rule_and_policy(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *wh = svc(f->want, "C", "hdfs", "HDFS");
	struct cmr_service *lh = svc(f->live, "C", "hdfs", "HDFS");
	struct cmr_service *wy = svc(f->want, "C", "yarn", "YARN");
	struct cmr_service *wi = svc(f->want, "C", "impala", "IMPALA");
	struct cmr_service *li = svc(f->live, "C", "impala", "IMPALA");
	struct cmr_service *lk = svc(f->live, "C", "kafka", "KAFKA");
	struct cmr_plan_summary s;

	svc(f->live, "C", "yarn", "YARN");
	/* hdfs: a DataNode directory list refreshes; a gateway setting
	 * needs client config; rolling policy unused (no restart) */
	wh->restart = CMR_RESTART_ROLLING;
	set(f->want, &grp(f->want, wh, "hdfs-DATANODE-BASE", NULL)->config,
	    "dfs_data_dir_list", "/d1,/d2");
	grp(f->live, lh, "hdfs-DATANODE-BASE", "DATANODE");
	set(f->want, &grp(f->want, wh, "hdfs-GATEWAY-BASE", NULL)->config,
	    "dfs_client_use_trash", "true");
	grp(f->live, lh, "hdfs-GATEWAY-BASE", "GATEWAY");
	/* yarn: restart: never */
	wy->restart = CMR_RESTART_NEVER;
	set(f->want, &wy->config, "yarn_x", "1");
	/* impala: in maintenance mode */
	li->maintenance_mode = true;
	set(f->want, &wi->config, "impala_x", "1");
	/* kafka: not in the file, but stale already */
	lk->config_staleness = CMR_STALE_STALE;
	build(f);
	cmr_plan_summarize(&s, f->plan);
	assert_int_equal(s.refreshes, 1);
	assert_int_equal(s.client_configs, 1);
	assert_int_equal(s.deferred, 1);
	assert_int_equal(s.maintenance, 1);
	assert_int_equal(s.restarts, 1); /* kafka */
	assert_int_equal(f->plan->restarts.len, 5);
	assert_string_equal(f->plan->restarts.items[0]->service, "hdfs");
	assert_int_equal(f->plan->restarts.items[0]->action,
	                 CMR_ACTION_CLIENT_CONFIG);
	assert_int_equal(f->plan->restarts.items[1]->action,
	                 CMR_ACTION_REFRESH);
	assert_string_equal(f->plan->restarts.items[2]->service, "kafka");
	assert_true(f->plan->restarts.items[2]->reasons &
	            CMR_REASON_ALREADY_STALE);
	assert_string_equal(f->plan->restarts.items[3]->service, "yarn");
	assert_int_equal(f->plan->restarts.items[3]->action,
	                 CMR_ACTION_DEFERRED);
	assert_true(f->plan->restarts.items[4]->maintenance);
}

static void test_plan__rolling_policy(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *wh = svc(f->want, "C", "hdfs", "HDFS");

	svc(f->live, "C", "hdfs", "HDFS");
	wh->restart = CMR_RESTART_ROLLING;
	set(f->want, &wh->config, "dfs_replication", "2");
	/* monitoring-only settings make nothing stale */
	set(f->want, &wh->config, "hdfs_free_space_thresholds", "{}");
	build(f);
	assert_int_equal(f->plan->restarts.len, 1);
	assert_int_equal(f->plan->restarts.items[0]->action,
	                 CMR_ACTION_ROLLING);
	assert_int_equal(change(f, 0, "hdfs_free_space_thresholds")->effect,
	                 CMR_EFFECT_NONE);
}

/* --- what CM does not have ---------------------------------------------- */

static void test_plan__missing_things_are_errors(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws;
	const struct cmr_note *n;

	svc(f->live, "Cluster 1", "hdfs", "HDFS");
	svc(f->want, "Cluster 2", "hdfs", "HDFS");
	ws = svc(f->want, "Cluster 1", "hdsf", "HDFS");
	(void)ws;
	svc(f->want, "Cluster 1", "hdfs", "YARN");
	grp(f->want, svc(f->want, "Cluster 1", "hdfs", NULL),
	    "hdfs-DATANODE-BAS", NULL);
	grp(f->live, svc(f->live, "Cluster 1", "hdfs", NULL),
	    "hdfs-DATANODE-BASE", "DATANODE");
	build(f);
	n = note_with(f, "cluster 'Cluster 2' does not exist in CM");
	assert_non_null(n);
	assert_non_null(strstr(n->message, "did you mean 'Cluster 1'?"));
	n = note_with(f, "service 'hdsf' does not exist");
	assert_non_null(n);
	assert_non_null(strstr(n->message, "did you mean 'hdfs'?"));
	assert_non_null(strstr(n->message, "out of scope"));
	assert_non_null(note_with(f, "has type HDFS in CM, not YARN"));
	/* a type mismatch stops planning that service */
	assert_null(note_with(f, "hdfs-DATANODE-BAS'"));
}

static void test_plan__missing_group_suggests(void **state)
{
	struct fixture *f = *state;
	const struct cmr_note *n;

	grp(f->want, svc(f->want, "C", "hdfs", "HDFS"), "hdfs-DATANODE-BAS",
	    NULL);
	grp(f->live, svc(f->live, "C", "hdfs", "HDFS"), "hdfs-DATANODE-BASE",
	    "DATANODE");
	build(f);
	n = note_with(f, "role config group 'hdfs-DATANODE-BAS'");
	assert_non_null(n);
	assert_non_null(strstr(n->message, "'hdfs-DATANODE-BASE'"));
	assert_int_equal(n->level, CMR_NOTE_ERROR);
}

static void test_plan__role_overrides_are_noted(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ls = svc(f->live, "C", "zk", "ZOOKEEPER");
	struct cmr_role *r;
	const struct cmr_note *n;

	svc(f->want, "C", "zk", "ZOOKEEPER");
	assert_cmr_ok(
	        cmr_service_add_role(&r, f->live, ls, "zk-SERVER-1", NULL),
	        NULL);
	set(f->live, &r->config, "serverId", "1"); /* CM bookkeeping */
	assert_cmr_ok(
	        cmr_service_add_role(&r, f->live, ls, "zk-SERVER-2", NULL),
	        NULL);
	set(f->live, &r->config, "serverId", "2");
	set(f->live, &r->config, "maxClientCnxns", "100");
	build(f);
	n = note_with(f, "per-role overrides");
	assert_non_null(n);
	assert_int_equal(n->level, CMR_NOTE_INFO);
	assert_non_null(strstr(n->message, "1 role carries"));
	assert_non_null(strstr(n->message, "zk-SERVER-2 (maxClientCnxns)"));
	assert_null(strstr(n->message, "serverId"));
}

/* --- targets, management service, fingerprints -------------------------- */

static void test_plan__target_limits_the_plan(void **state)
{
	struct fixture *f = *state;
	static const char *const targets[] = { "C/hdfs/hdfs-DATANODE-BASE" };
	struct cmr_service *wh = svc(f->want, "C", "hdfs", "HDFS");
	struct cmr_service *lh = svc(f->live, "C", "hdfs", "HDFS");
	struct cmr_plan *plan = NULL;

	set(f->want, &wh->config, "dfs_replication", "2");
	set(f->want, &grp(f->want, wh, "hdfs-DATANODE-BASE", NULL)->config, "x",
	    "1");
	grp(f->live, lh, "hdfs-DATANODE-BASE", "DATANODE");
	set(f->want, &svc(f->want, "C", "yarn", "YARN")->config, "y", "1");
	svc(f->live, "C", "yarn", "YARN");
	set(f->want, &f->want->manager.config, "PARCEL_UPDATE_FREQ", "1");
	f->opt.targets = targets;
	f->opt.ntargets = 1;
	build(f);
	assert_int_equal(f->plan->scopes.len, 1);
	assert_string_equal(f->plan->scopes.items[0]->scope.group,
	                    "hdfs-DATANODE-BASE");
	assert_int_equal(f->plan->targets.len, 1);
	/* A target that names nothing in the file is refused. */
	static const char *const bad[] = { "C/hbase" };

	f->opt.targets = bad;
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_plan_build(&plan, f->want, f->live, NULL, &f->opt, &f->err),
	        &f->err);
	assert_non_null(strstr(f->err.msg, "no service 'hbase'"));
}

static void test_plan__cm_settings_and_mgmt(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *wm, *lm;

	set(f->want, &f->want->manager.config, "PARCEL_UPDATE_FREQ", "1");
	assert_cmr_ok(cmr_manager_add_mgmt(&wm, f->want, NULL, NULL), NULL);
	set(f->want, &grp(f->want, wm, "mgmt-HOSTMONITOR-BASE", NULL)->config,
	    "firehose_heapsize", "1073741824");
	build(f);
	assert_non_null(note_with(f, "CM has none"));
	assert_cmr_ok(cmr_manager_add_mgmt(&lm, f->live, "mgmt", NULL), NULL);
	grp(f->live, lm, "mgmt-HOSTMONITOR-BASE", "HOSTMONITOR");
	build(f);
	assert_int_equal(f->plan->scopes.len, 2);
	assert_int_equal(f->plan->scopes.items[0]->scope.kind, CMR_SCOPE_CM);
	assert_int_equal(change(f, 0, "PARCEL_UPDATE_FREQ")->effect,
	                 CMR_EFFECT_NONE);
	assert_int_equal(f->plan->scopes.items[1]->scope.kind,
	                 CMR_SCOPE_MGMT_GROUP);
	assert_int_equal(f->plan->restarts.len, 1);
	assert_string_equal(f->plan->restarts.items[0]->service, "mgmt");
	assert_null(f->plan->restarts.items[0]->cluster);
}

static void test_plan__fingerprints_track_live(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ls = svc(f->live, "C", "hdfs", "HDFS");
	char before[65];

	svc(f->want, "C", "hdfs", "HDFS");
	set(f->live, &ls->config, "a", "1");
	build(f);
	assert_int_equal(f->plan->fingerprints.len, 3);
	assert_string_equal(f->plan->fingerprints.items[0]->scope, "C/hdfs");
	assert_string_equal(f->plan->fingerprints.items[1]->scope, "cm");
	assert_string_equal(f->plan->fingerprints.items[2]->scope, "parcels:C");
	memcpy(before, f->plan->fingerprints.items[0]->sha256, 65);
	build(f);
	assert_string_equal(before, f->plan->fingerprints.items[0]->sha256);
	set(f->live, &ls->config, "a", "2");
	build(f);
	assert_string_not_equal(before, f->plan->fingerprints.items[0]->sha256);
}

static void test_plan__oom_paths(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *ws = svc(f->want, "C", "hdfs", "HDFS");
	struct cmr_service *ls = svc(f->live, "C", "hdfs", "HDFS");
	struct cmr_plan *plan;
	long n;
	int rc;

	set(f->want, &ws->config, "dfs_replication", "2");
	set(f->live, &ls->config, "dfs_replication", "3");
	set(f->want, &svc(f->want, "X", "s", NULL)->config, "k", "v");
	parcel(f->want, "C", "CDH", "1", CMR_PARCEL_ACTIVATED);
	parcel(f->live, "C", "CDH", "1", CMR_PARCEL_DISTRIBUTED);
	for (n = 0;; n++) {
		struct cmr_error err = CMR_ERROR_INIT;

		plan = NULL;
		cmr_test_fail_alloc_after(n);
		rc = cmr_plan_build(&plan, f->want, f->live, NULL, &f->opt,
		                    &err);
		cmr_test_alloc_reset();
		if (rc == 0)
			break;
		assert_int_equal(rc, CMR_ENOMEM);
		assert_null(plan);
	}
	assert_true(n > 5);
	cmr_plan_free(plan);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_plan__update_set_reset_and_default),
		T(test_plan__no_change_is_empty),
		T(test_plan__unknown_key_suggests),
		T(test_plan__prune_resets_unnamed_but_not_sensitive),
		T(test_plan__literal_for_sensitive_key_is_an_error),
		T(test_plan__secrets_compared_through_records),
		T(test_plan__force_secrets_and_missing_key),
		T(test_plan__unset_env_secret_fails),
		T(test_plan__parcel_up_with_replacement),
		T(test_plan__parcel_down_and_to_distributed),
		T(test_plan__unknown_parcel_names_repo_setting),
		T(test_plan__restarts_in_dependency_order),
		T(test_plan__restart_actions_by_rule_and_policy),
		T(test_plan__rolling_policy),
		T(test_plan__missing_things_are_errors),
		T(test_plan__missing_group_suggests),
		T(test_plan__role_overrides_are_noted),
		T(test_plan__target_limits_the_plan),
		T(test_plan__cm_settings_and_mgmt),
		T(test_plan__fingerprints_track_live),
		T(test_plan__oom_paths),
	};
#undef T

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
