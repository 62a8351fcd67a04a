/*
 * render_plans.c -- see render_plans.h.
 *
 * Plans are built the way the planner and the plan-file reader build
 * them: structs in the plan's arena, arrays grown with cmr_vec_push, so
 * cmr_plan_free releases them the usual way.
 */
#include "render_plans.h"

#include <string.h>

#include "cmr/vec.h"

#include "support.h"

static const char *dup(struct cmr_plan *p, const char *s)
{
	const char *d;

	if (!s)
		return NULL;
	d = cmr_arena_strdup(&p->arena, s);
	assert_non_null(d);
	return d;
}

static void *alloc(struct cmr_plan *p, size_t n)
{
	void *x = cmr_arena_alloc(&p->arena, n);

	assert_non_null(x);
	return x;
}

struct cmr_plan *rp_new(void)
{
	struct cmr_plan *p = NULL;
	struct cmr_error err = CMR_ERROR_INIT;

	assert_cmr_ok(cmr_plan_new(&p, &err), &err);
	return p;
}

static struct cmr_scope_change *scope(struct cmr_plan *p,
                                      enum cmr_scope_kind kind,
                                      const char *cluster, const char *service,
                                      const char *type, const char *group)
{
	struct cmr_scope_change *sc = alloc(p, sizeof(*sc));

	sc->scope.kind = kind;
	sc->scope.cluster = dup(p, cluster);
	sc->scope.service = dup(p, service);
	sc->service_type = dup(p, type);
	sc->scope.group = dup(p, group);
	assert_int_equal(cmr_vec_push(&p->scopes, sc), 0);
	return sc;
}

static struct cmr_change *
change(struct cmr_plan *p, struct cmr_scope_change *sc, enum cmr_change_op op,
       const char *key, const char *old_value, const char *default_value,
       const char *new_value)
{
	struct cmr_change *c = alloc(p, sizeof(*c));

	c->key = dup(p, key);
	c->op = op;
	c->old_value = dup(p, old_value);
	c->default_value = dup(p, default_value);
	c->new_value = dup(p, new_value);
	c->effect = CMR_EFFECT_RESTART;
	assert_int_equal(cmr_vec_push(&sc->changes, c), 0);
	return c;
}

static struct cmr_change *secret(struct cmr_plan *p,
                                 struct cmr_scope_change *sc,
                                 enum cmr_change_op op, const char *key,
                                 enum cmr_secret_status st, const char *source)
{
	struct cmr_change *c = change(p, sc, op, key, NULL, NULL, NULL);

	c->sensitive = true;
	c->secret = st;
	if (source)
		assert_int_equal(
		        cmr_value_ref_parse(&c->secret_source, dup(p, source)),
		        0);
	return c;
}

static struct cmr_mark mark(struct cmr_plan *p, const char *file, uint32_t line,
                            uint32_t col)
{
	struct cmr_mark m;

	m.file = dup(p, file);
	m.line = line;
	m.col = col;
	return m;
}

void rp_add_header(struct cmr_plan *p)
{
	p->cm_url = dup(p, "https://cm.example.com:7183");
	p->cm_version = dup(p, "7.11.3");
	p->api_version = dup(p, "v54");
	p->plan_id = dup(p, "5f0c2a9e41d7b3c8");
	p->created = dup(p, "2026-11-28T05:00:00Z");
	assert_int_equal(cmr_vec_push(&p->clusters, dup(p, "Base Cluster")), 0);
	assert_int_equal(cmr_vec_push(&p->clusters, dup(p, "Edge")), 0);
	assert_int_equal(cmr_vec_push(&p->targets, dup(p, "Base Cluster")), 0);
	assert_int_equal(cmr_vec_push(&p->targets, dup(p, "Edge/solr")), 0);
}

void rp_add_cm(struct cmr_plan *p)
{
	struct cmr_scope_change *sc =
	        scope(p, CMR_SCOPE_CM, NULL, NULL, NULL, NULL);
	struct cmr_change *c;

	c = change(p, sc, CMR_OP_UPDATE, "PARCEL_UPDATE_FREQ", "60", "60", "1");
	c->effect = 0;
	c->mark = mark(p, "prod.yaml", 6, 5);
	c = change(p, sc, CMR_OP_SET, "REMOTE_PARCEL_REPO_URLS", NULL,
	           "https://archive.cloudera.com/cdh7/",
	           "https://archive.example.com/p/cdh7/7.1.9/parcels/");
	c->effect = 0;
	p->refresh_parcel_repos = true;
}

void rp_add_mgmt(struct cmr_plan *p)
{
	struct cmr_scope_change *sc;
	struct cmr_change *c;

	sc = scope(p, CMR_SCOPE_MGMT, NULL, "mgmt", "MGMT", NULL);
	change(p, sc, CMR_OP_SET, "enable_alerts", NULL, NULL, "true");
	sc = scope(p, CMR_SCOPE_MGMT_GROUP, NULL, "mgmt", "MGMT",
	           "mgmt-ALERTPUBLISHER-BASE");
	c = change(p, sc, CMR_OP_RESET, "alert_mailserver_port", "2525", "25",
	           NULL);
	c->effect = CMR_EFFECT_REFRESH;
}

void rp_add_parcels(struct cmr_plan *p)
{
	struct cmr_parcel_change *pc;

	pc = alloc(p, sizeof(*pc));
	pc->cluster = dup(p, "Base Cluster");
	pc->product = dup(p, "CDH");
	pc->version = dup(p, "7.1.9-1.cdh7.1.9.p0.44702451");
	pc->from = CMR_PARCEL_AVAILABLE_REMOTELY;
	pc->to = CMR_PARCEL_ACTIVATED;
	pc->replaces = dup(p, "7.1.8-1.cdh7.1.8.p0.30990532");
	pc->steps[0] = CMR_PARCEL_CMD_DOWNLOAD;
	pc->steps[1] = CMR_PARCEL_CMD_DISTRIBUTE;
	pc->steps[2] = CMR_PARCEL_CMD_ACTIVATE;
	pc->nsteps = 3;
	pc->mark = mark(p, "prod.yaml", 14, 7);
	assert_int_equal(cmr_vec_push(&p->parcels, pc), 0);

	pc = alloc(p, sizeof(*pc));
	pc->cluster = dup(p, "Base Cluster");
	pc->product = dup(p, "KAFKA");
	pc->version = dup(p, "3.4.1.1.7.1.9.p0.1");
	pc->from = CMR_PARCEL_AVAILABLE_REMOTELY;
	pc->to = CMR_PARCEL_DISTRIBUTED;
	pc->steps[0] = CMR_PARCEL_CMD_DOWNLOAD;
	pc->steps[1] = CMR_PARCEL_CMD_DISTRIBUTE;
	pc->nsteps = 2;
	pc->needs_repo_refresh = true;
	assert_int_equal(cmr_vec_push(&p->parcels, pc), 0);

	pc = alloc(p, sizeof(*pc));
	pc->cluster = dup(p, "Base Cluster");
	pc->product = dup(p, "SPARK3");
	pc->version = dup(p, "3.3.2.3.3.7190.0-91-1.p0.45265883");
	pc->from = CMR_PARCEL_ACTIVATED;
	pc->to = CMR_PARCEL_AVAILABLE_REMOTELY;
	pc->steps[0] = CMR_PARCEL_CMD_DEACTIVATE;
	pc->steps[1] = CMR_PARCEL_CMD_UNDISTRIBUTE;
	pc->steps[2] = CMR_PARCEL_CMD_REMOVE_DOWNLOAD;
	pc->nsteps = 3;
	assert_int_equal(cmr_vec_push(&p->parcels, pc), 0);
}

void rp_add_diff(struct cmr_plan *p)
{
	struct cmr_scope_change *sc;

	sc = scope(p, CMR_SCOPE_SERVICE, "Base Cluster", "hbase", "HBASE",
	           NULL);
	change(p, sc, CMR_OP_UPDATE, "hbase_service_config_safety_valve",
	       "<property>\n"
	       "  <name>hbase.a</name><value>1</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.b</name><value>2</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.c</name><value>3</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.d</name><value>4</value>\n"
	       "</property>\n",
	       NULL,
	       "<property>\n"
	       "  <name>hbase.a</name><value>10</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.b</name><value>2</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.c</name><value>3</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.d</name><value>4</value>\n"
	       "</property>\n"
	       "<property>\n"
	       "  <name>hbase.e</name><value>5</value>\n"
	       "</property>");
	sc = scope(p, CMR_SCOPE_GROUP, "Base Cluster", "hbase", "HBASE",
	           "hbase-REGIONSERVER-BASE");
	change(p, sc, CMR_OP_SET, "regionserver_java_opts_safety_valve", NULL,
	       NULL, "-XX:+UseG1GC\n-XX:MaxGCPauseMillis=100\n");
}

void rp_add_ops(struct cmr_plan *p)
{
	struct cmr_scope_change *sc;
	struct cmr_change *c;

	sc = scope(p, CMR_SCOPE_SERVICE, "Base Cluster", "hdfs", "HDFS", NULL);
	change(p, sc, CMR_OP_UPDATE, "dfs_replication", "2", "3", "3");
	c = change(p, sc, CMR_OP_UPDATE, "dfs_umaskmode", "022", "022",
	           "027 \"strict\"\t");
	c->validation = CMR_VALIDATION_WARNING;
	c->validation_message = dup(p, "umask 027 hides files from Hue");
	sc = scope(p, CMR_SCOPE_GROUP, "Base Cluster", "hdfs", "HDFS",
	           "hdfs-DATANODE-BASE");
	c = change(p, sc, CMR_OP_RESET, "datanode_log_dir", "/var/log/dn", NULL,
	           NULL);
	c->pruned = true;
	change(p, sc, CMR_OP_SET, "dfs_data_dir_list", NULL, NULL,
	       "/data/1/dfs/dn,/data/2/dfs/dn");
	change(p, sc, CMR_OP_RESET, "dfs_datanode_failed_volumes_tolerated",
	       "1", "0", NULL);
	change(p, sc, CMR_OP_SET, "process_auto_restart", NULL, "false",
	       "true");
}

void rp_add_secrets(struct cmr_plan *p)
{
	struct cmr_scope_change *sc;

	sc = scope(p, CMR_SCOPE_SERVICE, "Base Cluster", "hive", "HIVE", NULL);
	secret(p, sc, CMR_OP_SET, "hive_keystore_password", CMR_SECRET_NEW,
	       "env HIVE_KS_PASSWORD");
	secret(p, sc, CMR_OP_UPDATE, "hive_metastore_database_password",
	       CMR_SECRET_UNVERIFIED, "env HMS_DB_PASSWORD");
	secret(p, sc, CMR_OP_UPDATE, "hive_truststore_password",
	       CMR_SECRET_FORCED, "file secrets/ts.pw");
	secret(p, sc, CMR_OP_UPDATE, "hiveserver2_ldap_bind_password",
	       CMR_SECRET_ROTATED, "env LDAP_BIND_PW");
	secret(p, sc, CMR_OP_RESET, "hiveserver2_old_password", CMR_SECRET_NONE,
	       NULL);
}

static void restart(struct cmr_plan *p, const char *cluster,
                    const char *service, const char *type,
                    enum cmr_restart_action action, unsigned reasons,
                    bool maintenance, unsigned order)
{
	struct cmr_restart *r = alloc(p, sizeof(*r));

	r->cluster = dup(p, cluster);
	r->service = dup(p, service);
	r->service_type = dup(p, type);
	r->action = action;
	r->reasons = reasons;
	r->maintenance = maintenance;
	r->order = order;
	assert_int_equal(cmr_vec_push(&p->restarts, r), 0);
}

void rp_add_restarts(struct cmr_plan *p)
{
	restart(p, NULL, "mgmt", "MGMT", CMR_ACTION_REFRESH,
	        CMR_REASON_SETTINGS, false, 0);
	restart(p, "Base Cluster", "zookeeper", "ZOOKEEPER", CMR_ACTION_RESTART,
	        CMR_REASON_ALREADY_STALE, false, 0);
	restart(p, "Base Cluster", "hdfs", "HDFS", CMR_ACTION_CLIENT_CONFIG,
	        CMR_REASON_SETTINGS | CMR_REASON_PARCEL, false, 1);
	restart(p, "Base Cluster", "hdfs", "HDFS", CMR_ACTION_ROLLING,
	        CMR_REASON_SETTINGS | CMR_REASON_PARCEL, false, 1);
	restart(p, "Base Cluster", "hbase", "HBASE", CMR_ACTION_RESTART,
	        CMR_REASON_SETTINGS | CMR_REASON_PARCEL, true, 2);
	restart(p, "Base Cluster", "yarn", "YARN", CMR_ACTION_RESTART,
	        CMR_REASON_PARCEL, false, 3);
	restart(p, "Base Cluster", "hive", "HIVE", CMR_ACTION_RESTART,
	        CMR_REASON_PARCEL, false, 4);
	restart(p, "Base Cluster", "impala", "IMPALA", CMR_ACTION_RESTART,
	        CMR_REASON_PARCEL, false, 5);
	restart(p, "Base Cluster", "kafka", "KAFKA", CMR_ACTION_DEFERRED,
	        CMR_REASON_SETTINGS, false, 6);
	restart(p, "Edge", "solr", "SOLR", CMR_ACTION_REFRESH,
	        CMR_REASON_SETTINGS, false, 0);
}

static void note(struct cmr_plan *p, enum cmr_note_level level,
                 const char *scope_name, const char *msg, struct cmr_mark m)
{
	struct cmr_note *n = alloc(p, sizeof(*n));

	n->level = level;
	n->scope = dup(p, scope_name);
	n->message = dup(p, msg);
	n->mark = m;
	assert_int_equal(cmr_vec_push(&p->notes, n), 0);
}

void rp_add_notes(struct cmr_plan *p)
{
	struct cmr_mark none = { NULL, 0, 0 };

	note(p, CMR_NOTE_INFO, "Base Cluster/hdfs",
	     "2 roles carry per-role overrides (not managed in format "
	     "version 1)",
	     none);
	note(p, CMR_NOTE_WARNING, "CM",
	     "CMRECON_HMAC_KEY is not set: secrets cannot be compared",
	     mark(p, "prod.yaml", 3, 1));
	note(p, CMR_NOTE_ERROR, "Base Cluster/hdfs",
	     "unknown key 'dfs_replicaton'; did you mean 'dfs_replication'?",
	     mark(p, "prod.yaml", 21, 11));
	note(p, CMR_NOTE_ERROR, "Base Cluster", "no service 'hue' in CM",
	     mark(p, "overlay.yaml", 40, 0));
	note(p, CMR_NOTE_ERROR, "", "cluster 'Lab' does not exist in CM", none);
}

void rp_add_fingerprints(struct cmr_plan *p)
{
	static const char *const fp[][2] = {
		{ "Base Cluster/hdfs",
		  "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0" },
		{ "cm",
		  "a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90" },
		{ "parcels:Base Cluster",
		  "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" },
	};
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(fp); i++) {
		struct cmr_fingerprint *f = alloc(p, sizeof(*f));

		f->scope = dup(p, fp[i][0]);
		f->sha256 = dup(p, fp[i][1]);
		assert_int_equal(cmr_vec_push(&p->fingerprints, f), 0);
	}
}

struct cmr_plan *rp_rich(void)
{
	struct cmr_plan *p = rp_new();

	rp_add_header(p);
	rp_add_cm(p);
	rp_add_mgmt(p);
	rp_add_parcels(p);
	rp_add_diff(p);
	rp_add_ops(p);
	rp_add_secrets(p);
	rp_add_restarts(p);
	rp_add_notes(p);
	rp_add_fingerprints(p);
	return p;
}

struct cmr_plan *rp_leaky(void)
{
	struct cmr_plan *p = rp_new();
	size_t i, j;

	rp_add_header(p);
	rp_add_secrets(p);
	for (i = 0; i < p->scopes.len; i++)
		for (j = 0; j < p->scopes.items[i]->changes.len; j++) {
			struct cmr_change *c =
			        p->scopes.items[i]->changes.items[j];

			c->old_value = RP_SECRET;
			c->new_value = RP_SECRET;
			c->default_value = RP_SECRET;
			c->validation = CMR_VALIDATION_WARNING;
			c->validation_message = "bad value " RP_SECRET;
		}
	return p;
}
