/*
 * test_export.c -- the export writer: scalar quoting, block scalars,
 * secrets as references, sorting, the selection, and the round-trip
 * property: whatever the values, the YAML it writes reloads through
 * cmr_load_buffer to exactly the same texts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/export.h"
#include "cmr/load.h"

#include "support.h"

struct fixture {
	struct cmr_state *live;
	struct cmr_state *back; /* the export loaded again */
	struct cmr_diag_list diags;
	struct cmr_buf out;
	struct cmr_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->out = (struct cmr_buf)CMR_BUF_INIT;
	f->err = (struct cmr_error)CMR_ERROR_INIT;
	cmr_diag_list_init(&f->diags);
	if (cmr_state_new(&f->live, CMR_STATE_LIVE, &f->err) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cmr_state_free(f->live);
	cmr_state_free(f->back);
	cmr_diag_list_release(&f->diags);
	cmr_buf_release(&f->out);
	free(f);
	return 0;
}

/* The scalar `text` as written after "key: " (column 0). */
static const char *scalar(struct cmr_buf *b, const char *text, bool key)
{
	struct cmr_error err = CMR_ERROR_INIT;

	cmr_buf_reset(b);
	assert_cmr_ok(cmr_export_scalar(b, text, 0, key, &err), &err);
	return b->ptr;
}

static void test_export__quotes_only_what_yaml_would_change(void **state)
{
	static const char *const cases[][2] = {
		/* cmrecon keeps plain text: these stay plain */
		{ "022", "022" },
		{ "5.0", "5.0" },
		{ "yes", "yes" },
		{ "true", "true" },
		{ "false", "false" },
		{ "/data/1,/data/2", "/data/1,/data/2" },
		{ "-Xmx4g -XX:+UseG1GC", "-Xmx4g -XX:+UseG1GC" },
		{ "a:b", "a:b" },
		{ "a#b", "a#b" },
		{ "héllo wörld", "héllo wörld" },
		{ "http://x:8080/p?q=1", "http://x:8080/p?q=1" },
		/* the loader would turn these into something else */
		{ "", "''" },
		{ "True", "'True'" },
		{ "FALSE", "'FALSE'" },
		{ "null", "'null'" },
		{ "NULL", "'NULL'" },
		{ "~", "'~'" },
		/* YAML syntax */
		{ " lead", "' lead'" },
		{ "trail ", "'trail '" },
		{ "a: b", "'a: b'" },
		{ "ends:", "'ends:'" },
		{ "a #b", "'a #b'" },
		{ "#x", "'#x'" },
		{ "- x", "'- x'" },
		{ "-", "'-'" },
		{ "--x", "'--x'" },
		{ "---", "'---'" },
		{ "...", "'...'" },
		{ "[a]", "'[a]'" },
		{ "{a: 1}", "'{a: 1}'" },
		{ "*alias", "'*alias'" },
		{ "&anchor", "'&anchor'" },
		{ "!!str", "'!!str'" },
		{ "%TAG", "'%TAG'" },
		{ "@x", "'@x'" },
		{ "`x", "'`x'" },
		{ "|", "'|'" },
		{ ">", "'>'" },
		{ "?", "'?'" },
		{ "'q'", "'''q'''" },
		{ "\"q\"", "'\"q\"'" },
		/* escapes: double quotes */
		{ "a\tb", "\"a\\tb\"" },
		{ "a\rb", "\"a\\rb\"" },
		{ "bell\a", "\"bell\\x07\"" },
		{ "del\x7f", "\"del\\x7F\"" },
		{ "nel\xc2\x85", "\"nel\\N\"" },
		{ "ls\xe2\x80\xa8", "\"ls\\L\"" },
		{ "bom\xef\xbb\xbf", "\"bom\\uFEFF\"" },
		{ "q\"\\\x01", "\"q\\\"\\\\\\x01\"" },
		{ "\n", "\"\\n\"" },
		{ "\n\n", "\"\\n\\n\"" },
		{ "line\r\nline\r\n", "\"line\\r\\nline\\r\\n\"" },
	};
	struct cmr_buf b = CMR_BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < CMR_ARRAY_SIZE(cases); i++)
		if (strcmp(scalar(&b, cases[i][0], false), cases[i][1]) != 0)
			fail_msg("'%s' written as %s, expected %s", cases[i][0],
			         b.ptr, cases[i][1]);
	/* Keys: booleans are quoted too, never a block. */
	assert_string_equal(scalar(&b, "true", true), "'true'");
	assert_string_equal(scalar(&b, "Cluster 1", true), "Cluster 1");
	assert_string_equal(scalar(&b, "a\nb", true), "\"a\\nb\"");
	cmr_buf_release(&b);
}

static void test_export__block_scalars_keep_every_byte(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	/* one trailing newline: clip */
	assert_string_equal(scalar(&b, "<a>\n  <b/>\n</a>\n", false),
	                    "|\n  <a>\n    <b/>\n  </a>\n");
	/* none: strip */
	assert_string_equal(scalar(&b, "x\ny", false), "|-\n  x\n  y\n");
	/* several: keep */
	assert_string_equal(scalar(&b, "x\n\n\n", false), "|+\n  x\n\n\n");
	/* a leading space or empty line: an explicit indentation */
	assert_string_equal(scalar(&b, "  x\ny", false), "|2-\n    x\n  y\n");
	assert_string_equal(scalar(&b, "\nx\n", false), "|2\n\n  x\n");
	assert_string_equal(scalar(&b, "\tx\ny", false), "|2-\n  \tx\n  y\n");
	/* empty lines inside are written empty */
	assert_string_equal(scalar(&b, "a\n\nb\n", false), "|\n  a\n\n  b\n");
	cmr_buf_release(&b);
}

static void test_export__refuses_text_that_is_not_utf8(void **state)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;

	(void)state;
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_export_scalar(&b, "caf\xe9", 0, false, &err),
	                      &err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_export_scalar(&b, "\xed\xa0\x80", 0, false, &err), &err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_export_scalar(&b, "\xc0\xaf", 0, false, &err),
	                      &err);
	cmr_buf_release(&b);
}

static void test_export__env_names(void **state)
{
	const char *parts[] = { "Cluster 1", "hive", NULL, "db.password" };
	const char *odd[] = { "--", "Ünïcode", "x__y" };
	struct cmr_buf b = CMR_BUF_INIT;

	(void)state;
	assert_int_equal(cmr_export_env_name(&b, parts, 4), 0);
	assert_string_equal(b.ptr, "CMRECON_CLUSTER_1_HIVE_DB_PASSWORD");
	cmr_buf_reset(&b);
	assert_int_equal(cmr_export_env_name(&b, odd, 3), 0);
	assert_string_equal(b.ptr, "CMRECON_N_CODE_X_Y");
	cmr_buf_release(&b);
}

/* ----------------------------------------------------------------------
 * Whole files
 */

static struct cmr_service *add_service(struct fixture *f, const char *cluster,
                                       const char *name, const char *type)
{
	struct cmr_cluster *c;
	struct cmr_service *s;

	assert_cmr_ok(cmr_state_add_cluster(&c, f->live, cluster, &f->err),
	              &f->err);
	assert_cmr_ok(cmr_cluster_add_service(&s, f->live, c, name, &f->err),
	              &f->err);
	s->type = cmr_state_strdup(f->live, type);
	return s;
}

static struct cmr_role_config_group *
add_group(struct fixture *f, struct cmr_service *s, const char *name, bool base)
{
	struct cmr_role_config_group *g;

	assert_cmr_ok(cmr_service_add_group(&g, f->live, s, name, &f->err),
	              &f->err);
	g->base = base;
	return g;
}

static void set(struct fixture *f, struct cmr_config *cfg, const char *k,
                const char *v, bool sensitive)
{
	assert_cmr_ok(cmr_config_set_text(NULL, f->live, cfg, k, v, sensitive,
	                                  &f->err),
	              &f->err);
}

static void export_ok(struct fixture *f, const struct cmr_export_options *o)
{
	cmr_buf_reset(&f->out);
	assert_cmr_ok(cmr_export_yaml(&f->out, f->live, o, &f->err), &f->err);
}

/* Loads the export back; every problem fails the test. */
static void reload(struct fixture *f)
{
	int rc;

	cmr_state_free(f->back);
	f->back = NULL;
	assert_cmr_ok(cmr_state_new(&f->back, CMR_STATE_DESIRED, &f->err),
	              &f->err);
	rc = cmr_load_buffer(f->back, "export.yaml", f->out.ptr, f->out.len,
	                     &f->diags, &f->err);
	if (rc < 0 || f->diags.len) {
		fprintf(stderr, "%s\n", f->out.ptr);
		fail_msg("the export does not load: %s (%s)",
		         f->diags.len ? f->diags.items[0].msg : "", f->err.msg);
	}
}

/* Every literal of `want` is in `got` with the same text. */
static void same_config(const struct cmr_config *want,
                        const struct cmr_config *got, const char *where)
{
	size_t i;

	for (i = 0; i < want->len; i++) {
		const struct cmr_config_entry *w = want->items[i];
		const struct cmr_config_entry *g =
		        cmr_config_find(got, w->name);

		if (!g)
			fail_msg("%s: '%s' did not come back", where, w->name);
		if (w->sensitive || cmr_secret_name(w->name)) {
			assert_int_equal(g->value.kind, CMR_VALUE_ENV);
			continue;
		}
		assert_int_equal(g->value.kind, CMR_VALUE_TEXT);
		if (strcmp(g->value.text, w->value.text) != 0)
			fail_msg("%s: '%s' came back as [%s], not [%s]", where,
			         w->name, g->value.text, w->value.text);
	}
	assert_int_equal(want->len, got->len);
}

static void test_export__deployment_reloads_with_secrets(void **state)
{
	struct fixture *f = *state;
	struct cmr_export_options o;
	struct cmr_service *s, *m, *bs;
	struct cmr_role_config_group *g;
	struct cmr_parcel *p;
	struct cmr_cluster *c;
	struct cmr_role *r;
	const char *t;

	memset(&o, 0, sizeof(o));
	o.cm_url = "https://admin:hunter2@cm.example.com:7183";
	o.api_version = "v45";
	o.created = "2026-01-01T00:00:00Z";
	set(f, &f->live->manager.config, "PARCEL_UPDATE_FREQ", "60", false);
	set(f, &f->live->manager.config, "KDC_ADMIN_PASSWORD", "REDACTED",
	    true);
	assert_cmr_ok(cmr_manager_add_mgmt(&m, f->live, "mgmt", &f->err),
	              &f->err);
	g = add_group(f, m, "mgmt-SERVICEMONITOR-BASE", true);
	set(f, &g->config, "firehose_heapsize", "4294967296", false);
	add_group(f, m, "mgmt-HOSTMONITOR-BASE", true); /* empty: left out */
	s = add_service(f, "Cluster 1", "hive", "HIVE");
	set(f, &s->config, "hive_metastore_database_password", "REDACTED",
	    true);
	set(f, &s->config, "hive_metastore_database_host", "db1", false);
	/* a secret by name that CM does not redact: not written either */
	set(f, &s->config, "ldap_bind_pw", "canary-ldap-pw", false);
	set(f, &s->config, "hive_safety_valve",
	    "<property>\n  <name>a</name>\n</property>\n", false);
	g = add_group(f, s, "hive-HIVESERVER2-BASE", true);
	set(f, &g->config, "hiveserver2_keystore_password", "REDACTED", true);
	add_group(f, s, "hive-HIVESERVER2-1", false); /* non-base: kept */
	assert_cmr_ok(
	        cmr_service_add_role(&r, f->live, s, "hive-HS2-1", &f->err),
	        &f->err);
	set(f, &r->config, "hive_log_dir", "/var/log/x", false);
	set(f, &r->config, "serverId", "7", false); /* bookkeeping */
	/* A cluster whose name sanitizes to nothing, a service "HMAC" and
	 * a key "KEY": CMRECON_HMAC_KEY is cmrecon's own, so _2. */
	set(f, &add_service(f, "\xe6\x97\xa5", "hmac", "HDFS")->config, "key",
	    "REDACTED", true);
	bs = add_service(f, "Cluster 1", "hdfs", "HDFS");
	set(f, &bs->config, "dfs_replication", "3", false);
	c = cmr_state_find_cluster(f->live, "Cluster 1");
	assert_cmr_ok(
	        cmr_cluster_add_parcel(&p, f->live, c, "CDH", "7.1.9", &f->err),
	        &f->err);
	p->stage = CMR_PARCEL_ACTIVATED;
	assert_cmr_ok(
	        cmr_cluster_add_parcel(&p, f->live, c, "CDH", "7.1.8", &f->err),
	        &f->err);
	p->stage = CMR_PARCEL_DISTRIBUTED;
	assert_cmr_ok(cmr_cluster_add_parcel(&p, f->live, c, "SPARK3", "3.3",
	                                     &f->err),
	              &f->err);
	p->stage = CMR_PARCEL_AVAILABLE_REMOTELY;

	export_ok(f, &o);
	t = f->out.ptr;
	/* No credentials, no secret. */
	assert_null(strstr(t, "hunter2"));
	assert_null(strstr(t, "canary-ldap-pw"));
	assert_null(strstr(t, "REDACTED"));
	assert_non_null(strstr(t, "at https://cm.example.com:7183 (API v45)"));
	assert_non_null(strstr(t, "hive_metastore_database_password: {env: "
	                          "CMRECON_CLUSTER_1_HIVE_HIVE_METASTORE_"
	                          "DATABASE_PASSWORD}\n"));
	assert_non_null(strstr(t, "hiveserver2_keystore_password: {env: "
	                          "CMRECON_CLUSTER_1_HIVE_HIVESERVER2_BASE_"
	                          "HIVESERVER2_KEYSTORE_PASSWORD}\n"));
	assert_non_null(strstr(t, "KDC_ADMIN_PASSWORD: {env: "
	                          "CMRECON_CM_KDC_ADMIN_PASSWORD}\n"));
	assert_non_null(strstr(t, "ldap_bind_pw: {env: CMRECON_CLUSTER_1_"
	                          "HIVE_LDAP_BIND_PW}\n"));
	assert_non_null(strstr(t, "#   CMRECON_CLUSTER_1_HIVE_LDAP_BIND_PW"));
	/* Parcels: the active version only; the distributed one named. */
	assert_non_null(strstr(t, "      CDH: 7.1.9\n"));
	assert_non_null(strstr(t, "#   CDH 7.1.8 (DISTRIBUTED)\n"));
	assert_null(strstr(t, "SPARK3"));
	/* Groups: empty base groups left out, non-base kept. */
	assert_null(strstr(t, "mgmt-HOSTMONITOR-BASE"));
	assert_non_null(strstr(t, "hive-HIVESERVER2-1: {}\n"));
	/* Per-role overrides: a comment, not data. */
	assert_non_null(strstr(t, "#   hive-HS2-1: hive_log_dir\n"));
	assert_null(strstr(t, "serverId"));
	/* Never one of cmrecon's own variables. */
	assert_null(strstr(t, "{env: CMRECON_HMAC_KEY}"));
	assert_non_null(strstr(t, "{env: CMRECON_HMAC_KEY_2}"));
	/* Sorted: hdfs before hive; keys in order. */
	assert_true(strstr(t, "      hdfs:\n") < strstr(t, "      hive:\n"));
	assert_true(strstr(t, "hive_metastore_database_host") <
	            strstr(t, "hive_metastore_database_password: {"));
	assert_true(strstr(t, "version: 1\n") != NULL);

	reload(f);
	same_config(&f->live->manager.config, &f->back->manager.config, "CM");
	assert_non_null(f->back->manager.mgmt);
	g = cmr_service_find_group(f->back->manager.mgmt,
	                           "mgmt-SERVICEMONITOR-BASE");
	assert_non_null(g);
	assert_string_equal(g->config.items[0]->value.text, "4294967296");
	c = cmr_state_find_cluster(f->back, "Cluster 1");
	assert_non_null(c);
	same_config(&s->config, &cmr_cluster_find_service(c, "hive")->config,
	            "hive");
	assert_string_equal(cmr_cluster_find_service(c, "hive")->type, "HIVE");
	assert_int_equal(c->parcels.len, 1);
	assert_string_equal(c->parcels.items[0]->version, "7.1.9");
	assert_int_equal(c->parcels.items[0]->stage, CMR_PARCEL_ACTIVATED);
	/* The two secrets of one scope got distinct names. */
	assert_non_null(cmr_service_find_group(
	        cmr_cluster_find_service(c, "hive"), "hive-HIVESERVER2-1"));
}

static void test_export__selection_and_suggestions(void **state)
{
	struct fixture *f = *state;
	struct cmr_export_options o;
	struct cmr_state *sel = NULL;
	const char *clusters[] = { "Clustr 1" };
	const char *services[] = { "Cluster 1/hdfs" };
	const char *bad[] = { "Cluster 1/hfds" };
	const char *noslash[] = { "hdfs" };
	struct cmr_service *s;

	s = add_service(f, "Cluster 1", "hdfs", "HDFS");
	set(f, &s->config, "dfs_replication", "3", false);
	s = add_service(f, "Cluster 1", "yarn", "YARN");
	set(f, &s->config, "yarn_x", "1", false);
	add_service(f, "a/b", "zk", "ZOOKEEPER");
	set(f, &f->live->manager.config, "PARCEL_UPDATE_FREQ", "60", false);

	memset(&o, 0, sizeof(o));
	o.clusters = clusters;
	o.nclusters = 1;
	assert_cmr_fails_with(CMR_ENOTFOUND,
	                      cmr_export_yaml(&f->out, f->live, &o, &f->err),
	                      &f->err);
	assert_non_null(strstr(f->err.msg, "did you mean 'Cluster 1'?"));

	memset(&o, 0, sizeof(o));
	o.services = bad;
	o.nservices = 1;
	f->err = (struct cmr_error)CMR_ERROR_INIT;
	assert_cmr_fails_with(CMR_ENOTFOUND,
	                      cmr_export_yaml(&f->out, f->live, &o, &f->err),
	                      &f->err);
	assert_non_null(strstr(f->err.msg, "did you mean 'hdfs'?"));
	o.services = noslash;
	f->err = (struct cmr_error)CMR_ERROR_INIT;
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_export_yaml(&f->out, f->live, &o, &f->err),
	                      &f->err);

	/* One service: no CM settings, no other service. */
	o.services = services;
	f->err = (struct cmr_error)CMR_ERROR_INIT;
	export_ok(f, &o);
	assert_null(strstr(f->out.ptr, "PARCEL_UPDATE_FREQ"));
	assert_null(strstr(f->out.ptr, "yarn"));
	assert_non_null(strstr(f->out.ptr, "dfs_replication: 3"));
	reload(f);
	assert_cmr_ok(cmr_export_selection(&sel, f->live, &o, &f->err),
	              &f->err);
	assert_int_equal(sel->clusters.len, 1);
	assert_int_equal(sel->clusters.items[0]->services.len, 1);
	assert_int_equal(sel->manager.config.len, 0);
	cmr_state_free(sel);

	/* A '/' inside a name is written %2F. */
	services[0] = "a%2Fb/zk";
	export_ok(f, &o);
	assert_non_null(strstr(f->out.ptr, "  a/b:\n"));
}

static void test_export__omit_defaults(void **state)
{
	struct fixture *f = *state;
	struct cmr_export_options o;
	struct cmr_params *p = NULL;
	struct cmr_scope_params *sp;
	struct cmr_param *prm;
	struct cmr_service *s;

	s = add_service(f, "C", "hdfs", "HDFS");
	set(f, &s->config, "dfs_replication", "3", false);
	set(f, &s->config, "dfs_block_size", "268435456", false);
	assert_cmr_ok(cmr_params_new(&p, &f->err), &f->err);
	assert_cmr_ok(cmr_params_add_scope(&sp, p, "C/hdfs", &f->err), &f->err);
	assert_cmr_ok(
	        cmr_scope_add_param(&prm, p, sp, "dfs_replication", &f->err),
	        &f->err);
	prm->default_value = cmr_params_strdup(p, "3");
	assert_cmr_ok(
	        cmr_scope_add_param(&prm, p, sp, "dfs_block_size", &f->err),
	        &f->err);
	prm->default_value = cmr_params_strdup(p, "134217728");
	memset(&o, 0, sizeof(o));
	export_ok(f, &o);
	assert_non_null(strstr(f->out.ptr, "dfs_replication: 3\n"));
	o.flags = CMR_EXPORT_OMIT_DEFAULTS;
	o.params = p;
	export_ok(f, &o);
	assert_null(strstr(f->out.ptr, "dfs_replication"));
	assert_non_null(strstr(f->out.ptr, "dfs_block_size: 268435456\n"));
	reload(f);
	cmr_params_free(p);
}

/* ----------------------------------------------------------------------
 * The round-trip property over generated values
 */

static uint32_t next_rand(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 8) & 0xffffffu;
}

/* A string of 0..7 pieces that YAML treats specially somewhere. */
static void random_text(struct cmr_buf *b, uint32_t *seed)
{
	static const char *const pieces[] = {
		" ",
		"  ",
		"\n",
		"\n\n",
		":",
		": ",
		"#",
		" #",
		"'",
		"\"",
		"\\",
		"\t",
		"\r",
		"-",
		"- ",
		"?",
		"null",
		"NULL",
		"true",
		"False",
		"~",
		"022",
		"0x1F",
		"1e3",
		"{",
		"}",
		"[",
		"]",
		",",
		"&a",
		"*a",
		"!",
		"|",
		">",
		"%",
		"@",
		"`",
		"---",
		"...",
		"é",
		"日本",
		"\xc2\x85",
		"\xe2\x80\xa8",
		"\x01",
		"\x7f",
		"x",
		"abc",
		"/p/q",
		"=",
		"<<",
		"\xef\xbb\xbf",
	};
	uint32_t n = next_rand(seed) % 8, i;

	cmr_buf_reset(b);
	for (i = 0; i < n; i++)
		cmr_buf_adds(b,
		             pieces[next_rand(seed) % CMR_ARRAY_SIZE(pieces)]);
}

static void test_export__round_trip_property(void **state)
{
	struct fixture *f = *state;
	struct cmr_export_options o;
	struct cmr_buf v = CMR_BUF_INIT, k = CMR_BUF_INIT;
	struct cmr_service *s[3], *back;
	struct cmr_role_config_group *g[3];
	uint32_t seed = 20261128;
	char key[32], name[16];
	int i, r;

	for (r = 0; r < 3; r++) {
		snprintf(name, sizeof(name), "svc%d", r);
		s[r] = add_service(f, "Cluster 1", name, "HDFS");
		snprintf(name, sizeof(name), "svc%d-X-BASE", r);
		g[r] = add_group(f, s[r], name, true);
		for (i = 0; i < 2000; i++) {
			random_text(&v, &seed);
			snprintf(key, sizeof(key), "k%04d", i);
			set(f, i % 2 ? &s[r]->config : &g[r]->config, key,
			    v.ptr, false);
			/* tricky keys too (non-empty ones) */
			random_text(&k, &seed);
			if (k.len && !cmr_config_find(&s[r]->config, k.ptr) &&
			    !cmr_secret_name(k.ptr))
				set(f, &s[r]->config, k.ptr, v.ptr, false);
		}
	}
	memset(&o, 0, sizeof(o));
	export_ok(f, &o);
	reload(f);
	for (r = 0; r < 3; r++) {
		back = cmr_cluster_find_service(
		        cmr_state_find_cluster(f->back, "Cluster 1"),
		        s[r]->name);
		assert_non_null(back);
		same_config(&s[r]->config, &back->config, s[r]->name);
		same_config(&g[r]->config,
		            &cmr_service_find_group(back, g[r]->name)->config,
		            g[r]->name);
	}
	cmr_buf_release(&v);
	cmr_buf_release(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		        test_export__quotes_only_what_yaml_would_change),
		cmocka_unit_test(test_export__block_scalars_keep_every_byte),
		cmocka_unit_test(test_export__refuses_text_that_is_not_utf8),
		cmocka_unit_test(test_export__env_names),
		cmocka_unit_test_setup_teardown(
		        test_export__deployment_reloads_with_secrets, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(
		        test_export__selection_and_suggestions, setup,
		        teardown),
		cmocka_unit_test_setup_teardown(test_export__omit_defaults,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(
		        test_export__round_trip_property, setup, teardown),
	};

	return cmocka_run_group_tests_name("export", tests, NULL, NULL);
}
