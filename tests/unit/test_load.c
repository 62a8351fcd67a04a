/*
 * test_load.c -- the desired-state loader: what a valid file becomes in
 * the model, how several files merge, and how problems are reported (all
 * of them, located, never quoting a value).  The one-rule-per-file
 * fixtures of tests/fixtures/load are run through the real binary by
 * tests/load/run_fixture.py; these tests look inside the model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"
#include "cmr/load.h"
#include "cmr/model.h"

#include "support.h"

struct fixture {
	struct cmr_state *st;
	struct cmr_diag_list diags;
	struct cmr_error err;
	char *tmpdir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	cmr_diag_list_init(&f->diags);
	assert_cmr_ok(cmr_state_new(&f->st, CMR_STATE_DESIRED, &f->err),
	              &f->err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cmr_state_free(f->st);
	cmr_diag_list_release(&f->diags);
	if (f->tmpdir) {
		cmr_test_rmtree(f->tmpdir);
		cmr_free(f->tmpdir);
	}
	free(f);
	return 0;
}

static int load(struct fixture *f, const char *name, const char *yaml)
{
	cmr_error_clear(&f->err);
	return cmr_load_buffer(f->st, name, yaml, strlen(yaml), &f->diags,
	                       &f->err);
}

/* Prints the diagnostics, so a failing test shows what was reported. */
static void dump(const struct fixture *f)
{
	size_t i;

	for (i = 0; i < f->diags.len; i++)
		print_message("  %s:%u:%u: %s\n", f->diags.items[i].where.file,
		              (unsigned)f->diags.items[i].where.line,
		              (unsigned)f->diags.items[i].where.col,
		              f->diags.items[i].msg);
}

/* Loads a file that must add no diagnostic. */
static void load_ok(struct fixture *f, const char *name, const char *yaml)
{
	size_t before = f->diags.len;
	int rc = load(f, name, yaml);

	if (rc != 0 || f->diags.len != before)
		dump(f);
	assert_int_equal(rc, 0);
	assert_int_equal(f->diags.len, before);
}

/* The diagnostic at index i must be at line:col and contain `part`. */
static void assert_diag(const struct fixture *f, size_t i, unsigned line,
                        unsigned col, const char *part)
{
	if (i >= f->diags.len || f->diags.items[i].where.line != line ||
	    f->diags.items[i].where.col != col ||
	    !strstr(f->diags.items[i].msg, part)) {
		print_message("wanted #%zu at %u:%u containing '%s'; got:\n", i,
		              line, col, part);
		dump(f);
		fail();
	}
}

static const struct cmr_config_entry *
service_setting(const struct fixture *f, const char *cluster,
                const char *service, const char *group, const char *key)
{
	const struct cmr_cluster *c = cmr_state_find_cluster(f->st, cluster);
	const struct cmr_service *s;
	const struct cmr_role_config_group *g;

	assert_non_null(c);
	s = cmr_cluster_find_service(c, service);
	assert_non_null(s);
	if (!group)
		return cmr_config_find(&s->config, key);
	g = cmr_service_find_group(s, group);
	assert_non_null(g);
	return cmr_config_find(&g->config, key);
}

static const char design_example[] =
        "# yaml-language-server: $schema=../schemas/cmrecon.schema.json\n"
        "version: 1\n"
        "manager:\n"
        "  url: https://cm.example.com:7183\n"
        "  api_version: v45\n"
        "  ca_file: cmca.pem\n"
        "  username: admin\n"
        "  password: {env: CM_PASSWORD}\n"
        "  config:\n"
        "    REMOTE_PARCEL_REPO_URLS: https://archive.example.com/p/cdh7/7.1.9/parcels/\n"
        "  management_service:\n"
        "    config: {}\n"
        "    role_config_groups: {}\n"
        "clusters:\n"
        "  Cluster 1:\n"
        "    parcels:\n"
        "      CDH: 7.1.9-1.cdh7.1.9.p0.44702451\n"
        "      SPARK3: {version: 3.3.2.3.3.7190.0-91-1.p0.45265883, stage: DISTRIBUTED}\n"
        "    services:\n"
        "      hdfs:\n"
        "        type: HDFS\n"
        "        restart: rolling\n"
        "        prune: false\n"
        "        config:\n"
        "          dfs_replication: 2\n"
        "          dfs_umaskmode: 022\n"
        "          hdfs_service_config_safety_valve: |\n"
        "            <property><name>a</name><value>b</value></property>\n"
        "          ssl_server_keystore_password: {file: secrets/ks.pw}\n"
        "        role_config_groups:\n"
        "          hdfs-DATANODE-BASE:\n"
        "            config:\n"
        "              dfs_data_dir_list: [/data/1/dfs/dn, /data/2/dfs/dn]\n"
        "              process_auto_restart: TRUE\n"
        "              dfs_datanode_failed_volumes_tolerated: null\n";

/* ----------------------------------------------------------------------
 * A valid file in the model
 */

static void test_load__design_example_becomes_the_model(void **state)
{
	struct fixture *f = *state;
	const struct cmr_config_entry *e;
	const struct cmr_cluster *c;
	const struct cmr_service *s;

	load_ok(f, "conf/prod.yaml", design_example);
	assert_string_equal(f->st->manager.url, "https://cm.example.com:7183");
	assert_string_equal(f->st->manager.api_version, "v45");
	/* Relative paths are relative to the file. */
	assert_string_equal(f->st->manager.ca_file, "conf/cmca.pem");
	assert_string_equal(f->st->manager.username, "admin");
	assert_non_null(f->st->manager.password);
	assert_int_equal(f->st->manager.password->value.kind, CMR_VALUE_ENV);
	assert_string_equal(f->st->manager.password->value.text, "CM_PASSWORD");
	assert_non_null(f->st->manager.mgmt);
	assert_null(f->st->manager.mgmt->name);
	e = cmr_config_find(&f->st->manager.config, "REMOTE_PARCEL_REPO_URLS");
	assert_non_null(e);
	assert_string_equal(
	        e->value.text,
	        "https://archive.example.com/p/cdh7/7.1.9/parcels/");

	c = cmr_state_find_cluster(f->st, "Cluster 1");
	assert_non_null(c);
	assert_int_equal(c->parcels.len, 2);
	assert_string_equal(c->parcels.items[0]->product, "CDH");
	assert_int_equal(c->parcels.items[0]->stage, CMR_PARCEL_ACTIVATED);
	assert_string_equal(c->parcels.items[1]->version,
	                    "3.3.2.3.3.7190.0-91-1.p0.45265883");
	assert_int_equal(c->parcels.items[1]->stage, CMR_PARCEL_DISTRIBUTED);

	s = cmr_cluster_find_service(c, "hdfs");
	assert_non_null(s);
	assert_string_equal(s->type, "HDFS");
	assert_int_equal(s->restart, CMR_RESTART_ROLLING);
	assert_false(s->prune);
	assert_int_equal(s->mark.line, 20);
	assert_int_equal(s->mark.col, 7);
	assert_string_equal(s->mark.file, "conf/prod.yaml");

	e = service_setting(f, "Cluster 1", "hdfs", NULL, "dfs_replication");
	assert_string_equal(e->value.text, "2");
	assert_int_equal(e->mark.line, 25);
	assert_int_equal(e->mark.col, 11);
	e = service_setting(f, "Cluster 1", "hdfs", NULL, "dfs_umaskmode");
	assert_string_equal(e->value.text, "022");
	e = service_setting(f, "Cluster 1", "hdfs", NULL,
	                    "hdfs_service_config_safety_valve");
	assert_string_equal(
	        e->value.text,
	        "<property><name>a</name><value>b</value></property>\n");
	e = service_setting(f, "Cluster 1", "hdfs", NULL,
	                    "ssl_server_keystore_password");
	assert_int_equal(e->value.kind, CMR_VALUE_FILE);
	assert_string_equal(e->value.text, "conf/secrets/ks.pw");
	assert_true(e->sensitive);

	e = service_setting(f, "Cluster 1", "hdfs", "hdfs-DATANODE-BASE",
	                    "dfs_data_dir_list");
	assert_string_equal(e->value.text, "/data/1/dfs/dn,/data/2/dfs/dn");
	e = service_setting(f, "Cluster 1", "hdfs", "hdfs-DATANODE-BASE",
	                    "process_auto_restart");
	assert_string_equal(e->value.text, "true");
	e = service_setting(f, "Cluster 1", "hdfs", "hdfs-DATANODE-BASE",
	                    "dfs_datanode_failed_volumes_tolerated");
	assert_int_equal(e->value.kind, CMR_VALUE_RESET);
}

static void test_load__quoted_and_block_scalars_are_byte_for_byte(void **state)
{
	struct fixture *f = *state;
	const struct cmr_config_entry *e;

	load_ok(f, "q.yaml",
	        "version: 1\n"
	        "clusters:\n"
	        "  c:\n"
	        "    services:\n"
	        "      s:\n"
	        "        config:\n"
	        "          a: 'TRUE'\n"
	        "          b: \"null\"\n"
	        "          c: \"\"\n"
	        "          d: !!str 010\n"
	        "          e: |-\n"
	        "            no newline\n"
	        "          f: >\n"
	        "            folded\n"
	        "            line\n"
	        "          g: [\"x,y\", 'z', 5.10, No]\n");
	e = service_setting(f, "c", "s", NULL, "a");
	assert_string_equal(e->value.text, "TRUE");
	e = service_setting(f, "c", "s", NULL, "b");
	assert_int_equal(e->value.kind, CMR_VALUE_TEXT);
	assert_string_equal(e->value.text, "null");
	e = service_setting(f, "c", "s", NULL, "c");
	assert_string_equal(e->value.text, "");
	e = service_setting(f, "c", "s", NULL, "d");
	assert_string_equal(e->value.text, "010");
	e = service_setting(f, "c", "s", NULL, "e");
	assert_string_equal(e->value.text, "no newline");
	e = service_setting(f, "c", "s", NULL, "f");
	assert_string_equal(e->value.text, "folded line\n");
	e = service_setting(f, "c", "s", NULL, "g");
	assert_string_equal(e->value.text, "x,y,z,5.10,No");
}

/* ----------------------------------------------------------------------
 * Several files
 */

static const char base_yaml[] = "version: 1\n"
                                "clusters:\n"
                                "  Cluster 1:\n"
                                "    parcels:\n"
                                "      CDH: 7.1.8-1.cdh7.1.8.p0.30990532\n"
                                "    services:\n"
                                "      hdfs:\n"
                                "        type: HDFS\n"
                                "        config:\n"
                                "          dfs_replication: 3\n"
                                "          dfs_umaskmode: '022'\n"
                                "        role_config_groups:\n"
                                "          hdfs-DATANODE-BASE:\n"
                                "            config:\n"
                                "              dfs_datanode_du_reserved: 1\n";

static void test_load__overlay_merges_deeply(void **state)
{
	struct fixture *f = *state;
	const struct cmr_config_entry *e;
	const struct cmr_cluster *c;
	const struct cmr_service *s;

	load_ok(f, "base.yaml", base_yaml);
	load_ok(f, "prod.yaml",
	        "version: 1\n"
	        "clusters:\n"
	        "  Cluster 1:\n"
	        "    parcels:\n"
	        "      CDH: 7.1.9-1.cdh7.1.9.p0.44702451\n"
	        "    services:\n"
	        "      hdfs:\n"
	        "        restart: never\n"
	        "        config:\n"
	        "          dfs_replication: 2\n"
	        "          dfs_umaskmode: null\n"
	        "        role_config_groups:\n"
	        "          hdfs-DATANODE-1:\n"
	        "            config:\n"
	        "              dfs_datanode_du_reserved: 2\n"
	        "      yarn:\n"
	        "        type: YARN\n");
	c = cmr_state_find_cluster(f->st, "Cluster 1");
	/* One version per product: the later file's. */
	assert_int_equal(c->parcels.len, 1);
	assert_string_equal(c->parcels.items[0]->version,
	                    "7.1.9-1.cdh7.1.9.p0.44702451");
	s = cmr_cluster_find_service(c, "hdfs");
	assert_string_equal(s->type, "HDFS"); /* kept from the base */
	assert_int_equal(s->restart, CMR_RESTART_NEVER);
	e = service_setting(f, "Cluster 1", "hdfs", NULL, "dfs_replication");
	assert_string_equal(e->value.text, "2");
	assert_string_equal(e->mark.file, "prod.yaml");
	e = service_setting(f, "Cluster 1", "hdfs", NULL, "dfs_umaskmode");
	assert_int_equal(e->value.kind, CMR_VALUE_RESET);
	/* Both groups, each with its own setting. */
	assert_int_equal(s->groups.len, 2);
	e = service_setting(f, "Cluster 1", "hdfs", "hdfs-DATANODE-BASE",
	                    "dfs_datanode_du_reserved");
	assert_string_equal(e->value.text, "1");
	e = service_setting(f, "Cluster 1", "hdfs", "hdfs-DATANODE-1",
	                    "dfs_datanode_du_reserved");
	assert_string_equal(e->value.text, "2");
	assert_non_null(cmr_cluster_find_service(c, "yarn"));
}

static void test_load__conflicting_type_names_both_places(void **state)
{
	struct fixture *f = *state;

	load_ok(f, "base.yaml", base_yaml);
	assert_int_equal(load(f, "prod.yaml",
	                      "version: 1\n"
	                      "clusters:\n"
	                      "  Cluster 1:\n"
	                      "    services:\n"
	                      "      hdfs:\n"
	                      "        type: YARN\n"),
	                 CMR_EINVAL);
	assert_int_equal(f->diags.len, 1);
	assert_diag(f, 0, 6, 15,
	            "has type 'YARN' here but 'HDFS' at base.yaml:8:15");
	assert_string_equal(f->diags.items[0].where.file, "prod.yaml");
	/* The same type again is fine. */
	load_ok(f, "same.yaml",
	        "version: 1\nclusters: {Cluster 1: {services: {hdfs: {type: HDFS}}}}\n");
}

static void test_load__files_are_all_read(void **state)
{
	struct fixture *f = *state;
	struct cmr_state *st = (struct cmr_state *)1;
	const char *files[2];
	char a[512];
	char b[512];
	FILE *fp;

	f->tmpdir = cmr_test_mkdtemp();
	snprintf(a, sizeof(a), "%s/a.yaml", f->tmpdir);
	snprintf(b, sizeof(b), "%s/b.yaml", f->tmpdir);
	fp = fopen(a, "w");
	assert_non_null(fp);
	fputs("version: 1\nclusters: []\n", fp);
	fclose(fp);
	fp = fopen(b, "w");
	assert_non_null(fp);
	fputs("version: 2\n", fp);
	fclose(fp);
	files[0] = a;
	files[1] = b;
	/* Both files' problems, and no state. */
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_load_files(&st, files, 2, &f->diags, &f->err),
	                      &f->err);
	assert_null(st);
	assert_int_equal(f->diags.errors, 2);
	assert_non_null(strstr(f->err.msg, "2 problems"));

	/* A missing file is a failure of the call, naming the file. */
	cmr_error_clear(&f->err);
	files[1] = "/nonexistent/x.yaml";
	assert_cmr_fails_with(CMR_ENOTFOUND,
	                      cmr_load_files(&st, files, 2, &f->diags, &f->err),
	                      &f->err);
	assert_non_null(strstr(f->err.msg, "/nonexistent/x.yaml"));
	cmr_error_clear(&f->err);
	assert_cmr_fails_with(CMR_ERROR,
	                      cmr_load_files(&st, (const char *[]){ f->tmpdir },
	                                     1, &f->diags, &f->err),
	                      &f->err);

	/* And a good one gives a state. */
	fp = fopen(a, "w");
	assert_non_null(fp);
	fputs("version: 1\nclusters: {c: {}}\n", fp);
	fclose(fp);
	cmr_diag_list_release(&f->diags);
	cmr_diag_list_init(&f->diags);
	assert_cmr_ok(cmr_load_files(&st, files, 1, &f->diags, &f->err),
	              &f->err);
	assert_non_null(st);
	assert_non_null(cmr_state_find_cluster(st, "c"));
	cmr_state_free(st);
}

/* ----------------------------------------------------------------------
 * Problems
 */

static void test_load__all_problems_of_a_file_in_one_run(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "p.yaml",
	                      "version: 1\n"
	                      "clusterz: {}\n"
	                      "clusters:\n"
	                      "  c:\n"
	                      "    services:\n"
	                      "      s:\n"
	                      "        prune: maybe\n"
	                      "        config:\n"
	                      "          a:\n"
	                      "          database_password: hunter2\n"
	                      "          ok: 1\n"),
	                 CMR_EINVAL);
	assert_int_equal(f->diags.errors, 4);
	assert_diag(f, 0, 2, 1, "unknown field 'clusterz'");
	assert_diag(f, 0, 2, 1, "did you mean 'clusters'?");
	assert_diag(f, 1, 7, 16, "'prune' must be true or false");
	assert_diag(f, 2, 9, 11, "'a': empty value; write null to reset");
	assert_diag(f, 3, 10, 30, "looks like a secret");
	/* What was valid was still merged. */
	assert_non_null(service_setting(f, "c", "s", NULL, "ok"));
}

static void test_load__values_never_appear_in_messages(void **state)
{
	struct fixture *f = *state;
	size_t i;

	assert_int_equal(load(f, "s.yaml",
	                      "version: 1\n"
	                      "manager:\n"
	                      "  password: hunter2-manager\n"
	                      "  config:\n"
	                      "    KDC_ADMIN_PASSWORD: hunter2-kdc\n"
	                      "    LDAP_BIND_PW: [hunter2, list]\n"
	                      "    SCM_CONFIG_SUPPRESSION_LDAP_BIND_PW: true\n"
	                      "    x_secret: {env: [hunter2-env]}\n"),
	                 CMR_EINVAL);
	assert_int_equal(f->diags.errors, 4);
	for (i = 0; i < f->diags.len; i++)
		assert_null(strstr(f->diags.items[i].msg, "hunter2"));
}

static void test_load__syntax_error_is_reported_alone(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "bad.yaml",
	                      "version: 1\n"
	                      "bogus: field\n"
	                      "clusters:\n"
	                      "  c: {services: [}\n"),
	                 CMR_EINVAL);
	assert_int_equal(f->diags.len, 1);
	assert_non_null(strstr(f->diags.items[0].msg, "YAML syntax error"));
	assert_int_equal(f->diags.items[0].where.line, 4);
}

static void test_load__billion_laughs_is_refused_at_once(void **state)
{
	struct fixture *f = *state;
	struct cmr_buf b = CMR_BUF_INIT;
	struct timespec t0;
	struct timespec t1;
	double ms;
	int i;
	int j;

	/* Ten levels of ten aliases each: 10^10 nodes if expanded. */
	cmr_buf_adds(&b, "version: 1\nclusters:\n  a0: &a0 [x, x, x]\n");
	for (i = 1; i < 10; i++) {
		cmr_buf_addf(&b, "  a%d: &a%d [", i, i);
		for (j = 0; j < 10; j++)
			cmr_buf_addf(&b, "%s*a%d", j ? ", " : "", i - 1);
		cmr_buf_adds(&b, "]\n");
	}
	assert_int_equal(cmr_buf_error(&b), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cmr_load_buffer(f->st, "lol.yaml", b.ptr, b.len,
	                                 &f->diags, &f->err),
	                 CMR_EINVAL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	cmr_buf_release(&b);
	assert_int_equal(f->diags.len, 1);
	assert_diag(f, 0, 3, 7,
	            "anchor '&a0': anchors and aliases are not allowed");
	assert_true(ms < 100.0);
}

static void test_load__nesting_limit(void **state)
{
	struct fixture *f = *state;
	char deep[256];
	int depth;

	/* version map (1) + clusters value nested lists: 64 levels ok. */
	for (depth = 64; depth <= 65; depth++) {
		size_t at = 0;
		int i;

		at += (size_t)snprintf(deep, sizeof(deep), "{version: 1, x: ");
		for (i = 1; i < depth; i++)
			deep[at++] = '[';
		for (i = 1; i < depth; i++)
			deep[at++] = ']';
		deep[at++] = '}';
		deep[at] = '\0';
		cmr_diag_list_release(&f->diags);
		cmr_diag_list_init(&f->diags);
		assert_int_equal(load(f, "deep.yaml", deep), CMR_EINVAL);
		assert_int_equal(f->diags.len, 1);
		if (depth == 64)
			assert_diag(f, 0, 1, 14, "unknown field 'x'");
		else
			assert_diag(f, 0, 1, 80,
			            "nesting deeper than 64 levels");
	}
}

static void test_load__file_size_limit(void **state)
{
	struct fixture *f = *state;
	size_t len = CMR_LOAD_MAX_FILE_SIZE + 1;
	char *big = malloc(len);

	assert_non_null(big);
	/* "version: 1" and a comment up to the limit (no NUL: a buffer). */
	memset(big, '#', len);
	snprintf(big, 12, "version: 1\n");
	big[11] = '#'; /* over snprintf's NUL */
	assert_int_equal(cmr_load_buffer(f->st, "big.yaml", big, len, &f->diags,
	                                 &f->err),
	                 CMR_EINVAL);
	assert_int_equal(f->diags.len, 1);
	assert_diag(f, 0, 1, 1, "larger than 16 MiB");
	/* Exactly at the limit is fine (a long comment). */
	cmr_diag_list_release(&f->diags);
	cmr_diag_list_init(&f->diags);
	assert_int_equal(cmr_load_buffer(f->st, "big.yaml", big, len - 1,
	                                 &f->diags, &f->err),
	                 0);
	free(big);
}

static void test_load__problems_are_capped_per_file(void **state)
{
	struct fixture *f = *state;
	struct cmr_buf b = CMR_BUF_INIT;
	int i;

	cmr_buf_adds(&b, "version: 1\nclusters:\n  c:\n    services:\n"
	                 "      s:\n        config:\n");
	for (i = 0; i < 150; i++)
		cmr_buf_adds(&b, "          k:\n");
	assert_int_equal(cmr_buf_error(&b), 0);
	assert_int_equal(cmr_load_buffer(f->st, "many.yaml", b.ptr, b.len,
	                                 &f->diags, &f->err),
	                 CMR_EINVAL);
	cmr_buf_release(&b);
	assert_int_equal(f->diags.len, CMR_LOAD_MAX_ERRORS + 1);
	assert_non_null(strstr(f->diags.items[CMR_LOAD_MAX_ERRORS].msg,
	                       "too many problems"));
}

static void test_load__empty_and_non_utf8_files(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(
	        cmr_load_buffer(f->st, "e.yaml", "", 0, &f->diags, &f->err),
	        CMR_EINVAL);
	assert_diag(f, 0, 1, 1, "empty file");
	assert_int_equal(load(f, "c.yaml", "# only a comment\n\n"), CMR_EINVAL);
	assert_diag(f, 1, 1, 1, "empty file");
	assert_int_equal(load(f, "l.yaml", "version: 1\n# caf\xe9\n"),
	                 CMR_EINVAL);
	assert_diag(f, 2, 2, 6, "invalid UTF-8 (byte 0xe9)");
	/* A UTF-8 byte-order mark and multi-byte text are fine. */
	load_ok(f, "bom.yaml", "\xef\xbb\xbfversion: 1\n# caf\xc3\xa9\n");
}

/* ----------------------------------------------------------------------
 * Secrets
 */

static void test_load__secret_resolve(void **state)
{
	struct fixture *f = *state;
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_value env = { CMR_VALUE_ENV, "CMR_TEST_SECRET_X" };
	struct cmr_value lit = { CMR_VALUE_TEXT, "x" };
	struct cmr_value file;
	char path[512];
	FILE *fp;

	setenv("CMR_TEST_SECRET_X", "s3cr3t", 1);
	assert_cmr_ok(cmr_secret_resolve(&b, &env, &f->err), &f->err);
	assert_string_equal(b.ptr, "s3cr3t");
	cmr_buf_reset(&b);
	unsetenv("CMR_TEST_SECRET_X");
	assert_cmr_fails_with(CMR_ENOTFOUND,
	                      cmr_secret_resolve(&b, &env, &f->err), &f->err);
	assert_non_null(strstr(f->err.msg, "CMR_TEST_SECRET_X"));

	f->tmpdir = cmr_test_mkdtemp();
	snprintf(path, sizeof(path), "%s/pw", f->tmpdir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("line one\n\n", fp);
	fclose(fp);
	file.kind = CMR_VALUE_FILE;
	file.text = path;
	cmr_error_clear(&f->err);
	assert_cmr_ok(cmr_secret_resolve(&b, &file, &f->err), &f->err);
	assert_string_equal(b.ptr, "line one\n"); /* one newline dropped */
	cmr_buf_reset(&b);
	file.text = "/nonexistent/pw";
	assert_cmr_fails_with(CMR_ENOTFOUND,
	                      cmr_secret_resolve(&b, &file, &f->err), &f->err);
	cmr_error_clear(&f->err);
	assert_cmr_fails_with(CMR_EINVAL, cmr_secret_resolve(&b, &lit, &f->err),
	                      &f->err);
	cmr_buf_release(&b);
}

/* A secret file with a NUL byte is refused, naming the file, and leaves
 * nothing of itself in the buffer. */
static void test_load__secret_file_with_nul(void **state)
{
	struct fixture *f = *state;
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_value file;
	char path[512];
	FILE *fp;

	f->tmpdir = cmr_test_mkdtemp();
	snprintf(path, sizeof(path), "%s/pw", f->tmpdir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite("ab\0cd\n", 1, 6, fp), 6);
	fclose(fp);
	file.kind = CMR_VALUE_FILE;
	file.text = path;
	assert_int_equal(cmr_buf_adds(&b, "kept"), 0);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_secret_resolve(&b, &file, &f->err), &f->err);
	assert_non_null(strstr(f->err.msg, path));
	assert_non_null(strstr(f->err.msg, "NUL"));
	assert_int_equal(b.len, 4);
	assert_string_equal(b.ptr, "kept");
	cmr_buf_release(&b);
}

/* Every allocation of ours that fails gives CMR_ENOMEM and no leak. */
static void test_load__out_of_memory_is_reported(void **state)
{
	long n;
	int rc = -1;

	(void)state;
	for (n = 0; n < 5000 && rc != 0; n++) {
		struct cmr_error err = CMR_ERROR_INIT;
		struct cmr_diag_list diags;
		struct cmr_state *st = NULL;

		cmr_diag_list_init(&diags);
		cmr_test_fail_alloc_after(n);
		rc = cmr_state_new(&st, CMR_STATE_DESIRED, &err);
		if (rc == 0)
			rc = cmr_load_buffer(st, "x.yaml", design_example,
			                     strlen(design_example), &diags,
			                     &err);
		cmr_test_alloc_reset();
		if (rc != 0)
			assert_int_equal(rc, CMR_ENOMEM);
		cmr_state_free(st);
		cmr_diag_list_release(&diags);
	}
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_load__design_example_becomes_the_model),
		T(test_load__quoted_and_block_scalars_are_byte_for_byte),
		T(test_load__overlay_merges_deeply),
		T(test_load__conflicting_type_names_both_places),
		T(test_load__files_are_all_read),
		T(test_load__all_problems_of_a_file_in_one_run),
		T(test_load__values_never_appear_in_messages),
		T(test_load__syntax_error_is_reported_alone),
		T(test_load__billion_laughs_is_refused_at_once),
		T(test_load__nesting_limit),
		T(test_load__file_size_limit),
		T(test_load__problems_are_capped_per_file),
		T(test_load__empty_and_non_utf8_files),
		T(test_load__secret_resolve),
		T(test_load__secret_file_with_nul),
		T(test_load__out_of_memory_is_reported),
#undef T
	};

	return cmocka_run_group_tests_name("load", tests, NULL, NULL);
}
