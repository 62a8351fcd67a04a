/*
 * test_model.c -- the deployment model: building, sorted lookup, merging
 * by find-or-add, and the value rules the planner compares through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/model.h"

#include "support.h"

struct fixture {
	struct cmr_state *st;
	struct cmr_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_cmr_ok(cmr_state_new(&f->st, CMR_STATE_LIVE, &f->err), &f->err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cmr_state_free(f->st);
	free(f);
	return 0;
}

/* ----------------------------------------------------------------------
 * Values
 */

static void scalar(struct fixture *f, struct cmr_value *v, const char *text,
                   enum cmr_scalar_style style)
{
	assert_cmr_ok(cmr_value_from_scalar(v, &f->st->arena, text,
	                                    strlen(text), style, &f->err),
	              &f->err);
}

static void test_model__plain_scalars_keep_their_text(void **state)
{
	struct fixture *f = *state;
	const char *keep[] = { "022", "5.0", "yes", "0x1F", "1e3", "on", "" };
	struct cmr_value v;
	size_t i;

	for (i = 0; i + 1 < CMR_ARRAY_SIZE(keep); i++) {
		scalar(f, &v, keep[i], CMR_SCALAR_PLAIN);
		assert_int_equal(v.kind, CMR_VALUE_TEXT);
		assert_string_equal(v.text, keep[i]);
	}
}

static void test_model__booleans_in_any_case_are_normalised(void **state)
{
	struct fixture *f = *state;
	struct cmr_value v;

	scalar(f, &v, "TRUE", CMR_SCALAR_PLAIN);
	assert_string_equal(v.text, "true");
	scalar(f, &v, "tRuE", CMR_SCALAR_PLAIN);
	assert_string_equal(v.text, "true");
	scalar(f, &v, "False", CMR_SCALAR_PLAIN);
	assert_string_equal(v.text, "false");
	assert_true(cmr_value_is_bool(&v));
	/* Quoted, the text is taken byte for byte. */
	scalar(f, &v, "True", CMR_SCALAR_QUOTED);
	assert_string_equal(v.text, "True");
	assert_false(cmr_value_is_bool(&v));
}

static void test_model__null_and_tilde_reset(void **state)
{
	struct fixture *f = *state;
	struct cmr_value v;

	scalar(f, &v, "null", CMR_SCALAR_PLAIN);
	assert_int_equal(v.kind, CMR_VALUE_RESET);
	assert_null(v.text);
	scalar(f, &v, "~", CMR_SCALAR_PLAIN);
	assert_int_equal(v.kind, CMR_VALUE_RESET);
	scalar(f, &v, "NULL", CMR_SCALAR_PLAIN);
	assert_int_equal(v.kind, CMR_VALUE_RESET);
	/* A quoted "null" is the four letters. */
	scalar(f, &v, "null", CMR_SCALAR_QUOTED);
	assert_int_equal(v.kind, CMR_VALUE_TEXT);
	assert_string_equal(v.text, "null");
}

static void test_model__null_words(void **state)
{
	(void)state;
	assert_true(cmr_scalar_is_null("", 0));
	assert_true(cmr_scalar_is_null("~", 1));
	assert_true(cmr_scalar_is_null("nUlL", 4));
	assert_true(cmr_scalar_is_null("nullx", 4)); /* only len bytes */
	assert_false(cmr_scalar_is_null("nil", 3));
	assert_false(cmr_scalar_is_null("none", 4));
	assert_false(cmr_scalar_is_null("~~", 2));
}

static void test_model__empty_plain_value_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct cmr_value v;

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_value_from_scalar(&v, &f->st->arena, "", 0,
	                                            CMR_SCALAR_PLAIN, &f->err),
	                      &f->err);
	assert_non_null(strstr(f->err.msg, "write null to reset"));
	/* An explicitly quoted empty string is a value. */
	cmr_error_clear(&f->err);
	scalar(f, &v, "", CMR_SCALAR_QUOTED);
	assert_int_equal(v.kind, CMR_VALUE_TEXT);
	assert_string_equal(v.text, "");
}

static void test_model__scalar_length_is_respected(void **state)
{
	struct fixture *f = *state;
	struct cmr_value v;

	/* Not NUL-terminated where the scalar ends. */
	assert_cmr_ok(cmr_value_from_scalar(&v, &f->st->arena, "truex", 4,
	                                    CMR_SCALAR_PLAIN, &f->err),
	              &f->err);
	assert_string_equal(v.text, "true");
}

static void test_model__lists_join_with_commas(void **state)
{
	struct fixture *f = *state;
	const char *items[] = { "/data/1/dfs/dn", "/data/2/dfs/dn", "true" };
	struct cmr_value v;

	assert_cmr_ok(cmr_value_join(&v, &f->st->arena, items, 3, &f->err),
	              &f->err);
	assert_int_equal(v.kind, CMR_VALUE_TEXT);
	assert_string_equal(v.text, "/data/1/dfs/dn,/data/2/dfs/dn,true");
	assert_cmr_ok(cmr_value_join(&v, &f->st->arena, items, 1, &f->err),
	              &f->err);
	assert_string_equal(v.text, "/data/1/dfs/dn");
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_value_join(&v, &f->st->arena, items, 0, &f->err), &f->err);
}

static void test_model__value_equality(void **state)
{
	struct cmr_value a = { CMR_VALUE_TEXT, "2" };
	struct cmr_value b = { CMR_VALUE_TEXT, "2" };
	struct cmr_value c = { CMR_VALUE_TEXT, "02" };
	struct cmr_value r1 = { CMR_VALUE_RESET, NULL };
	struct cmr_value r2 = { CMR_VALUE_RESET, NULL };
	struct cmr_value e1 = { CMR_VALUE_ENV, "PW" };
	struct cmr_value f1 = { CMR_VALUE_FILE, "PW" };

	(void)state;
	assert_true(cmr_value_equal(&a, &b));
	assert_false(cmr_value_equal(&a, &c)); /* text, not numbers */
	assert_true(cmr_value_equal(&r1, &r2));
	assert_false(cmr_value_equal(&a, &r1));
	assert_false(cmr_value_equal(&e1, &f1));
}

static void test_model__secret_names(void **state)
{
	(void)state;
	assert_true(cmr_secret_name("hive_metastore_database_password"));
	assert_true(cmr_secret_name("ssl_server_keystore_password"));
	assert_true(cmr_secret_name("truststore_password"));
	assert_true(cmr_secret_name("KDC_ADMIN_PASSWORD"));
	assert_true(cmr_secret_name("LDAP_BIND_PW"));
	assert_true(cmr_secret_name("secret_key"));
	assert_true(cmr_secret_name("http_auth_signature_secret"));
	assert_false(cmr_secret_name("dfs_replication"));
	assert_false(cmr_secret_name("pw")); /* no "_pw" ending */
	assert_false(cmr_secret_name("pwd_length"));
	assert_false(cmr_secret_name(
	        "service_config_suppression_hive_metastore_database_password"));
	assert_false(cmr_secret_name("SCM_CONFIG_SUPPRESSION_LDAP_BIND_PW"));
}

static void test_model__secret_literal_rule(void **state)
{
	struct cmr_value lit = { CMR_VALUE_TEXT, "hunter2" };
	struct cmr_value yes = { CMR_VALUE_TEXT, "true" };
	struct cmr_value env = { CMR_VALUE_ENV, "PW" };
	struct cmr_value reset = { CMR_VALUE_RESET, NULL };

	(void)state;
	assert_true(cmr_secret_literal_refused("database_password", &lit));
	assert_false(cmr_secret_literal_refused("database_password", &yes));
	assert_false(cmr_secret_literal_refused("database_password", &env));
	assert_false(cmr_secret_literal_refused("database_password", &reset));
	assert_false(cmr_secret_literal_refused("dfs_replication", &lit));
}

static void test_model__secret_file_loses_one_newline(void **state)
{
	(void)state;
	assert_int_equal(cmr_secret_trim_newline("pw\n", 3), 2);
	assert_int_equal(cmr_secret_trim_newline("pw\r\n", 4), 2);
	assert_int_equal(cmr_secret_trim_newline("pw\n\n", 4), 3);
	assert_int_equal(cmr_secret_trim_newline("pw", 2), 2);
	assert_int_equal(cmr_secret_trim_newline("", 0), 0);
}

/* ----------------------------------------------------------------------
 * Enumerations
 */

static void test_model__enum_names_round_trip(void **state)
{
	enum cmr_parcel_stage ps;
	enum cmr_run_state rs;
	enum cmr_staleness sl;
	enum cmr_health h;
	enum cmr_restart_policy rp;

	(void)state;
	assert_int_equal(cmr_parcel_stage_parse(&ps, "DISTRIBUTED"), 0);
	assert_int_equal(ps, CMR_PARCEL_DISTRIBUTED);
	assert_string_equal(cmr_parcel_stage_name(ps), "DISTRIBUTED");
	assert_int_equal(cmr_parcel_stage_parse(&ps, "INSTALLED"), CMR_EINVAL);
	assert_int_equal(cmr_parcel_stage_parse(&ps, ""), CMR_EINVAL);
	assert_true(cmr_parcel_stage_is_target(CMR_PARCEL_ACTIVATED));
	assert_false(cmr_parcel_stage_is_target(CMR_PARCEL_DOWNLOADING));
	assert_true(cmr_parcel_stage_rank(CMR_PARCEL_DOWNLOADED) <
	            cmr_parcel_stage_rank(CMR_PARCEL_ACTIVATED));

	assert_int_equal(cmr_run_state_parse(&rs, "STARTED"), 0);
	assert_int_equal(rs, CMR_RUN_STARTED);
	assert_string_equal(cmr_run_state_name(CMR_RUN_NA), "NA");
	assert_int_equal(cmr_staleness_parse(&sl, "STALE_REFRESHABLE"), 0);
	assert_int_equal(sl, CMR_STALE_REFRESHABLE);
	assert_int_equal(cmr_health_parse(&h, "CONCERNING"), 0);
	assert_int_equal(h, CMR_HEALTH_CONCERNING);
	assert_string_equal(cmr_health_name(CMR_HEALTH_NONE), "");
	assert_int_equal(cmr_restart_policy_parse(&rp, "rolling"), 0);
	assert_int_equal(rp, CMR_RESTART_ROLLING);
	assert_int_equal(cmr_restart_policy_parse(&rp, "ROLLING"), CMR_EINVAL);
	assert_string_equal(cmr_restart_policy_name(CMR_RESTART_RESTART),
	                    "restart");
}

/* ----------------------------------------------------------------------
 * The tree
 */

static void test_model__collections_stay_sorted(void **state)
{
	struct fixture *f = *state;
	const char *names[] = { "zookeeper", "hdfs",   "yarn",
		                "hive",      "impala", "spark_on_yarn" };
	struct cmr_cluster *c;
	struct cmr_service *s;
	size_t i;

	assert_cmr_ok(cmr_state_add_cluster(&c, f->st, "Cluster 1", &f->err),
	              &f->err);
	for (i = 0; i < CMR_ARRAY_SIZE(names); i++)
		assert_cmr_ok(cmr_cluster_add_service(&s, f->st, c, names[i],
		                                      &f->err),
		              &f->err);
	assert_int_equal(c->services.len, CMR_ARRAY_SIZE(names));
	for (i = 1; i < c->services.len; i++)
		assert_true(strcmp(c->services.items[i - 1]->name,
		                   c->services.items[i]->name) < 0);
	assert_string_equal(c->services.items[0]->name, "hdfs");
	assert_ptr_equal(cmr_cluster_find_service(c, "yarn"),
	                 c->services.items[4]);
	assert_null(cmr_cluster_find_service(c, "hbase"));
}

static void test_model__add_is_find_or_add(void **state)
{
	struct fixture *f = *state;
	struct cmr_cluster *c1;
	struct cmr_cluster *c2;
	struct cmr_service *s1;
	struct cmr_service *s2;
	struct cmr_role_config_group *g1;
	struct cmr_role_config_group *g2;

	assert_cmr_ok(cmr_state_add_cluster(&c1, f->st, "Cluster 1", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_cluster_add_service(&s1, f->st, c1, "hdfs", &f->err),
	              &f->err);
	s1->type = cmr_state_strdup(f->st, "HDFS");
	assert_cmr_ok(cmr_service_add_group(&g1, f->st, s1,
	                                    "hdfs-DATANODE-BASE", &f->err),
	              &f->err);
	/* Again: the same nodes come back, with what was set on them. */
	assert_cmr_ok(cmr_state_add_cluster(&c2, f->st, "Cluster 1", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_cluster_add_service(&s2, f->st, c2, "hdfs", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_service_add_group(&g2, f->st, s2,
	                                    "hdfs-DATANODE-BASE", &f->err),
	              &f->err);
	assert_ptr_equal(c1, c2);
	assert_ptr_equal(s1, s2);
	assert_ptr_equal(g1, g2);
	assert_string_equal(s2->type, "HDFS");
	assert_int_equal(f->st->clusters.len, 1);
}

static void test_model__pointers_stay_valid_while_growing(void **state)
{
	struct fixture *f = *state;
	struct cmr_cluster *c;
	struct cmr_cluster *first;
	char name[32];
	int i;

	assert_cmr_ok(cmr_state_add_cluster(&first, f->st, "m", &f->err),
	              &f->err);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "c%03d", 499 - i);
		assert_cmr_ok(cmr_state_add_cluster(&c, f->st, name, &f->err),
		              &f->err);
	}
	assert_int_equal(f->st->clusters.len, 501);
	assert_string_equal(first->name, "m");
	assert_ptr_equal(cmr_state_find_cluster(f->st, "m"), first);
	assert_string_equal(f->st->clusters.items[0]->name, "c000");
	assert_string_equal(f->st->clusters.items[500]->name, "m");
}

static void test_model__empty_names_are_refused(void **state)
{
	struct fixture *f = *state;
	struct cmr_cluster *c;
	struct cmr_service *s;
	struct cmr_parcel *p;

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_state_add_cluster(&c, f->st, "", &f->err),
	                      &f->err);
	assert_null(c);
	cmr_error_clear(&f->err);
	assert_cmr_ok(cmr_state_add_cluster(&c, f->st, "x", &f->err), &f->err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_cluster_add_service(&s, f->st, c, NULL, &f->err), &f->err);
	cmr_error_clear(&f->err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_cluster_add_parcel(&p, f->st, c, "CDH", "", &f->err),
	        &f->err);
}

static void test_model__config_set_replaces_and_sorts(void **state)
{
	struct fixture *f = *state;
	struct cmr_config cfg = { NULL, 0, 0 };
	struct cmr_config_entry *e;
	struct cmr_value reset = { CMR_VALUE_RESET, NULL };
	struct cmr_mark mk = { "prod.yaml", 12, 7 };
	char temp[8] = "3";

	assert_cmr_ok(cmr_config_set_text(NULL, f->st, &cfg, "dfs_replication",
	                                  temp, false, &f->err),
	              &f->err);
	/* The text was copied: changing the caller's buffer changes nothing. */
	temp[0] = '9';
	assert_cmr_ok(cmr_config_set_text(NULL, f->st, &cfg, "dfs_block_size",
	                                  "134217728", false, &f->err),
	              &f->err);
	assert_int_equal(cfg.len, 2);
	assert_string_equal(cfg.items[0]->name, "dfs_block_size");
	e = cmr_config_find(&cfg, "dfs_replication");
	assert_non_null(e);
	assert_string_equal(e->value.text, "3");

	assert_cmr_ok(cmr_config_set(&e, f->st, &cfg, "dfs_replication", &reset,
	                             false, &mk, &f->err),
	              &f->err);
	assert_int_equal(cfg.len, 2);
	assert_int_equal(e->value.kind, CMR_VALUE_RESET);
	assert_null(e->value.text);
	assert_int_equal(e->mark.line, 12);
	assert_int_equal(e->mark.col, 7);
	assert_null(cmr_config_find(&cfg, "nope"));
}

static void test_model__config_set_needs_text(void **state)
{
	struct fixture *f = *state;
	struct cmr_config cfg = { NULL, 0, 0 };
	struct cmr_value env = { CMR_VALUE_ENV, NULL };

	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_config_set(NULL, f->st, &cfg, "pw", &env,
	                                     true, NULL, &f->err),
	                      &f->err);
	assert_int_equal(cfg.len, 0);
}

static void test_model__parcels_sort_by_product_then_version(void **state)
{
	struct fixture *f = *state;
	struct cmr_cluster *c;
	struct cmr_parcel *p;
	struct cmr_parcel *cdh8;

	assert_cmr_ok(cmr_state_add_cluster(&c, f->st, "Cluster 1", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_cluster_add_parcel(
	                      &p, f->st, c, "SPARK3",
	                      "3.3.2.3.3.7190.0-91-1.p0.45265883", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_cluster_add_parcel(&p, f->st, c, "CDH",
	                                     "7.1.9-1.cdh7.1.9.p0.44702451",
	                                     &f->err),
	              &f->err);
	p->stage = CMR_PARCEL_ACTIVATED;
	assert_cmr_ok(cmr_cluster_add_parcel(&cdh8, f->st, c, "CDH",
	                                     "7.1.8-1.cdh7.1.8.p0.30990532",
	                                     &f->err),
	              &f->err);
	assert_int_equal(c->parcels.len, 3);
	assert_ptr_equal(c->parcels.items[0], cdh8);
	assert_ptr_equal(c->parcels.items[1], p);
	assert_string_equal(c->parcels.items[2]->product, "SPARK3");
	assert_ptr_equal(cmr_cluster_find_product(c, "CDH"), cdh8);
	assert_ptr_equal(cmr_cluster_find_parcel(
	                         c, "CDH", "7.1.9-1.cdh7.1.9.p0.44702451"),
	                 p);
	assert_null(cmr_cluster_find_product(c, "KAFKA"));

	cmr_cluster_remove_parcel(c, cdh8);
	assert_int_equal(c->parcels.len, 2);
	assert_ptr_equal(cmr_cluster_find_product(c, "CDH"), p);
	assert_int_equal(p->stage, CMR_PARCEL_ACTIVATED);
}

static void test_model__live_fields_and_mgmt(void **state)
{
	struct fixture *f = *state;
	struct cmr_service *mgmt;
	struct cmr_service *again;
	struct cmr_role *r;
	struct cmr_cluster *c;
	struct cmr_service *s;

	assert_cmr_ok(cmr_manager_add_mgmt(&mgmt, f->st, "mgmt", &f->err),
	              &f->err);
	assert_string_equal(mgmt->type, "MGMT");
	assert_string_equal(mgmt->name, "mgmt");
	assert_cmr_ok(cmr_manager_add_mgmt(&again, f->st, NULL, &f->err),
	              &f->err);
	assert_ptr_equal(mgmt, again);

	assert_cmr_ok(cmr_state_add_cluster(&c, f->st, "Cluster 1", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_cluster_add_service(&s, f->st, c, "hdfs", &f->err),
	              &f->err);
	assert_int_equal(cmr_staleness_parse(&s->config_staleness, "STALE"), 0);
	assert_cmr_ok(cmr_service_add_role(&r, f->st, s,
	                                   "hdfs-DATANODE-836bffd2", &f->err),
	              &f->err);
	assert_cmr_ok(cmr_config_set_text(NULL, f->st, &r->config,
	                                  "role_jceks_password", "REDACTED",
	                                  true, &f->err),
	              &f->err);
	assert_ptr_equal(cmr_service_find_role(s, "hdfs-DATANODE-836bffd2"), r);
	assert_cmr_ok(cmr_config_set_text(NULL, f->st, &c->tags,
	                                  "cmrecon.lock.abc", "{}", false,
	                                  &f->err),
	              &f->err);
	assert_int_equal(c->tags.len, 1);
	assert_int_equal(cmr_state_count_settings(f->st), 0);
	assert_cmr_ok(cmr_config_set_text(NULL, f->st, &s->config,
	                                  "dfs_replication", "3", false,
	                                  &f->err),
	              &f->err);
	assert_int_equal(cmr_state_count_settings(f->st), 1);
}

/* Every allocation failure is CMR_ENOMEM, and nothing leaks (ASan). */
static void test_model__out_of_memory_is_reported(void **state)
{
	long n;
	int failures = 0;

	(void)state;
	for (n = 0; n < 200; n++) {
		struct cmr_error err = CMR_ERROR_INIT;
		struct cmr_state *st = NULL;
		struct cmr_cluster *c;
		struct cmr_service *s;
		int rc;
		int i;

		cmr_test_fail_alloc_after(n);
		rc = cmr_state_new(&st, CMR_STATE_DESIRED, &err);
		for (i = 0; rc == 0 && i < 40; i++) {
			char name[16];

			snprintf(name, sizeof(name), "s%d", i);
			rc = cmr_state_add_cluster(&c, st, "c", &err);
			if (rc == 0)
				rc = cmr_cluster_add_service(&s, st, c, name,
				                             &err);
			if (rc == 0)
				rc = cmr_config_set_text(NULL, st, &s->config,
				                         name, "v", false,
				                         &err);
		}
		cmr_test_alloc_reset();
		if (rc != 0) {
			assert_int_equal(rc, CMR_ENOMEM);
			failures++;
		}
		cmr_state_free(st);
	}
	assert_true(failures > 0);
}

/* ----------------------------------------------------------------------
 * Scopes
 */

/* Every kind's key reads back as the same scope; names with '/' and '%'
 * survive; the label is the unescaped form. */
static void test_model__scope_keys_round_trip(void **state)
{
	static const struct cmr_scope scopes[] = {
		{ CMR_SCOPE_CM, NULL, NULL, NULL },
		{ CMR_SCOPE_MGMT, NULL, NULL, NULL },
		{ CMR_SCOPE_MGMT_GROUP, NULL, NULL, "mgmt-HOSTMONITOR-BASE" },
		{ CMR_SCOPE_SERVICE, "Cluster 1", "hdfs", NULL },
		{ CMR_SCOPE_GROUP, "a/b%c", "s/1", "g%2F" },
	};
	static const char *const keys[] = {
		"cm",
		"mgmt",
		"mgmt/mgmt-HOSTMONITOR-BASE",
		"Cluster 1/hdfs",
		"a%2Fb%25c/s%2F1/g%252F",
	};
	static const char *const labels[] = {
		"CM",
		"mgmt",
		"mgmt/mgmt-HOSTMONITOR-BASE",
		"Cluster 1/hdfs",
		"a/b%c/s/1/g%2F",
	};
	struct cmr_arena a;
	size_t i;

	(void)state;
	cmr_arena_init(&a);
	for (i = 0; i < CMR_ARRAY_SIZE(scopes); i++) {
		struct cmr_buf key = CMR_BUF_INIT;
		struct cmr_buf label = CMR_BUF_INIT;
		struct cmr_scope back;
		struct cmr_error err = CMR_ERROR_INIT;

		assert_int_equal(cmr_scope_key(&key, &scopes[i]), 0);
		assert_string_equal(key.ptr, keys[i]);
		assert_int_equal(cmr_scope_label(&label, &scopes[i]), 0);
		assert_string_equal(label.ptr, labels[i]);
		assert_cmr_ok(cmr_scope_from_key(&back, &a, key.ptr, &err),
		              &err);
		assert_true(cmr_scope_equal(&back, &scopes[i]));
		cmr_buf_release(&key);
		cmr_buf_release(&label);
	}
	cmr_arena_release(&a);
}

static void test_model__scope_bad_keys(void **state)
{
	static const char *const bad[] = {
		"", "/", "c", "c//g", "c/s/g/x", "mgmt/", "c/s/", "/s",
	};
	struct cmr_arena a;
	size_t i;

	(void)state;
	cmr_arena_init(&a);
	for (i = 0; i < CMR_ARRAY_SIZE(bad); i++) {
		struct cmr_scope s;
		struct cmr_error err = CMR_ERROR_INIT;

		assert_cmr_fails_with(CMR_EINVAL,
		                      cmr_scope_from_key(&s, &a, bad[i], &err),
		                      &err);
	}
	cmr_arena_release(&a);
}

/* Finding a scope's config and adding one are the same walk. */
static void test_model__scope_config(void **state)
{
	struct cmr_state *st = NULL;
	struct cmr_config *cfg = NULL;
	struct cmr_error err = CMR_ERROR_INIT;
	const struct cmr_scope g = { CMR_SCOPE_GROUP, "C", "hdfs", "dn" };
	const struct cmr_scope mg = { CMR_SCOPE_MGMT_GROUP, NULL, NULL, "hm" };
	const struct cmr_scope cm = { CMR_SCOPE_CM, NULL, NULL, NULL };

	(void)state;
	assert_cmr_ok(cmr_state_new(&st, CMR_STATE_DESIRED, &err), &err);
	assert_null(cmr_scope_find_config(st, &g));
	assert_null(cmr_scope_find_config(st, &mg));
	assert_ptr_equal(cmr_scope_find_config(st, &cm), &st->manager.config);
	assert_cmr_ok(cmr_scope_add_config(&cfg, st, &g, &err), &err);
	assert_ptr_equal(cmr_scope_find_config(st, &g), cfg);
	assert_ptr_equal(
	        cfg, &cmr_service_find_group(
	                      cmr_cluster_find_service(
	                              cmr_state_find_cluster(st, "C"), "hdfs"),
	                      "dn")
	                      ->config);
	assert_cmr_ok(cmr_scope_add_config(&cfg, st, &mg, &err), &err);
	assert_ptr_equal(cmr_scope_find_config(st, &mg), cfg);
	cmr_state_free(st);
}

/* Secret references: "env NAME" / "file PATH" both ways. */
static void test_model__secret_ref_text(void **state)
{
	struct cmr_value v = { CMR_VALUE_FILE, "a b/pw" };
	struct cmr_value back;
	struct cmr_value lit = { CMR_VALUE_TEXT, "x" };
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	assert_int_equal(cmr_value_ref_text(&b, &v), 0);
	assert_string_equal(b.ptr, "file a b/pw");
	assert_int_equal(cmr_value_ref_parse(&back, b.ptr), 0);
	assert_true(cmr_value_equal(&back, &v));
	assert_int_equal(cmr_value_ref_parse(&back, "env X"), 0);
	assert_int_equal(back.kind, CMR_VALUE_ENV);
	assert_string_equal(back.text, "X");
	assert_int_equal(cmr_value_ref_parse(&back, "env "), CMR_EINVAL);
	assert_int_equal(cmr_value_ref_parse(&back, "X"), CMR_EINVAL);
	assert_int_equal(cmr_value_ref_text(&b, &lit), CMR_EINVAL);
	cmr_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_model__plain_scalars_keep_their_text),
		T(test_model__booleans_in_any_case_are_normalised),
		T(test_model__null_and_tilde_reset),
		T(test_model__null_words),
		T(test_model__empty_plain_value_is_an_error),
		T(test_model__scalar_length_is_respected),
		T(test_model__lists_join_with_commas),
		T(test_model__value_equality),
		T(test_model__secret_names),
		T(test_model__secret_literal_rule),
		T(test_model__secret_file_loses_one_newline),
		T(test_model__enum_names_round_trip),
		T(test_model__collections_stay_sorted),
		T(test_model__add_is_find_or_add),
		T(test_model__pointers_stay_valid_while_growing),
		T(test_model__empty_names_are_refused),
		T(test_model__config_set_replaces_and_sorts),
		T(test_model__config_set_needs_text),
		T(test_model__parcels_sort_by_product_then_version),
		T(test_model__live_fields_and_mgmt),
		T(test_model__out_of_memory_is_reported),
		T(test_model__scope_keys_round_trip),
		T(test_model__scope_bad_keys),
		T(test_model__scope_config),
		T(test_model__secret_ref_text),
#undef T
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
