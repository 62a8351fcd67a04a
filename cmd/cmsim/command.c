/*
 * command.c -- asynchronous CM commands over simulated time.
 *
 * A command is stored in the state (root.commands) as CM shows it, plus a
 * few private fields: its kind, start and end in simulated epoch ms, and
 * the names of the cluster/service/role it acts on (names, not pointers,
 * so the state file can be written and read back mid-command).  Children
 * are the per-role or per-service steps CM reports under a command.
 *
 * Nothing runs in the background.  cmsim_tick() is called before every
 * request: it finishes each step whose end time has passed and applies its
 * effect (a restarted role becomes STARTED and FRESH, a deployed client
 * configuration FRESH, ...).  A stopped clock (--time-scale 0) therefore
 * freezes every command until POST /_sim/clock?advance=N.
 *
 * Durations (simulated seconds; docs/cmsim.md): a role start, stop or
 * restart 30; a service start/stop/restart 30 (its roles in parallel); a
 * rolling restart 30 per role, one at a time; a cluster start/stop/restart
 * 30 per service, one service at a time; client-config deployment 10;
 * refresh 5; refreshParcelRepos 5.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/buf.h"

#include "sim.h"

#define ROLE_MS    30000
#define DEPLOY_MS  10000
#define REFRESH_MS 5000

struct kind_info {
	enum cmsim_cmd_kind kind;
	const char *name;
	const char *msg; /* resultMessage on success */
};

static const struct kind_info kinds[] = {
	{ CMSIM_CMD_SVC_START, "Start", "Successfully started service." },
	{ CMSIM_CMD_SVC_STOP, "Stop", "Successfully stopped service." },
	{ CMSIM_CMD_SVC_RESTART, "Restart", "Successfully restarted service." },
	{ CMSIM_CMD_SVC_ROLLING, "RollingRestart",
	  "Successfully completed rolling restart." },
	{ CMSIM_CMD_SVC_DEPLOY_CC, "DeployClientConfig",
	  "Successfully deployed client configuration." },
	{ CMSIM_CMD_SVC_REFRESH, "Refresh", "Successfully refreshed service." },
	{ CMSIM_CMD_ROLE_START, "Start", "Successfully started process." },
	{ CMSIM_CMD_ROLE_STOP, "Stop", "Successfully stopped process." },
	{ CMSIM_CMD_ROLE_RESTART, "Restart",
	  "Successfully restarted process." },
	{ CMSIM_CMD_ROLE_REFRESH, "Refresh",
	  "Successfully refreshed process." },
	{ CMSIM_CMD_CLUSTER, "Cluster", "Successfully completed command." },
	{ CMSIM_CMD_REPO_REFRESH, "RefreshParcelRepos",
	  "Successfully refreshed parcel repositories." },
};

static const struct kind_info *info_of(int kind)
{
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(kinds); i++)
		if ((int)kinds[i].kind == kind)
			return &kinds[i];
	return &kinds[0];
}

static int64_t next_id(struct cmsim *sim)
{
	int64_t id = cmsim_jint(sim->root, "nextId", 100);

	cmsim_jset_int(sim->root, "nextId", id + 1);
	return id;
}

static struct json_object *new_cmd(struct cmsim *sim, const char *name,
                                   enum cmsim_cmd_kind kind, int64_t start,
                                   int64_t end, struct json_object *cluster,
                                   struct json_object *service,
                                   struct json_object *role)
{
	struct json_object *c = json_object_new_object();

	cmsim_jset_int(c, "id", next_id(sim));
	cmsim_jset_str(c, "name", name);
	cmsim_jset_int(c, "kind", kind);
	cmsim_jset_int(c, "startMs", start);
	cmsim_jset_int(c, "endMs", end);
	cmsim_jset_bool(c, "active", true);
	if (cluster)
		cmsim_jset_str(c, "clusterName", cmsim_jstr(cluster, "name"));
	if (service)
		cmsim_jset_str(c, "serviceName", cmsim_jstr(service, "name"));
	if (service && !cluster)
		cmsim_jset_bool(c, "mgmt", true);
	if (role)
		cmsim_jset_str(c, "roleName", cmsim_jstr(role, "name"));
	return c;
}

static void add_child(struct json_object *parent, struct json_object *child)
{
	json_object_array_add(cmsim_jarr(parent, "children"), child);
}

/* Registers a new top-level command (keeps the newest 1000). */
static void store(struct cmsim *sim, struct json_object *cmd)
{
	struct json_object *cmds = cmsim_jarr(sim->root, "commands");
	size_t i;

	json_object_array_add(cmds, cmd);
	for (i = 0; json_object_array_length(cmds) > 1000 &&
	            i < json_object_array_length(cmds);) {
		if (!cmsim_jbool(json_object_array_get_idx(cmds, i), "active",
		                 false))
			json_object_array_del_idx(cmds, i, 1);
		else
			i++;
	}
	sim->dirty = true;
}

/* A command-fail fault for this command, consumed if it matches. */
static void arm_failure(struct cmsim *sim, struct json_object *cmd,
                        struct json_object *cluster,
                        struct json_object *service)
{
	size_t i;

	for (i = 0; i < sim->faults.len; i++) {
		struct cmsim_fault *f = sim->faults.items[i];

		if (f->kind != CMSIM_FAULT_COMMAND_FAIL || f->count == 0)
			continue;
		if (f->command &&
		    strcmp(f->command, cmsim_jstr(cmd, "name")) != 0)
			continue;
		if (f->cluster &&
		    (!cluster ||
		     strcmp(f->cluster, cmsim_jstr(cluster, "name")) != 0))
			continue;
		if (f->service &&
		    (!service ||
		     strcmp(f->service, cmsim_jstr(service, "name")) != 0))
			continue;
		if (f->count > 0)
			f->count--;
		cmsim_jset_str(cmd, "failMessage",
		               f->message ? f->message
		                          : "Simulated failure (cmsim fault).");
		return;
	}
}

/* --- effects -------------------------------------------------------------- */

static bool bad_health(struct cmsim *sim, struct json_object *cluster,
                       struct json_object *service)
{
	size_t i;

	for (i = 0; i < sim->faults.len; i++) {
		struct cmsim_fault *f = sim->faults.items[i];

		if (f->kind != CMSIM_FAULT_BAD_HEALTH)
			continue;
		if (f->cluster &&
		    (!cluster ||
		     strcmp(f->cluster, cmsim_jstr(cluster, "name")) != 0))
			continue;
		if (f->service &&
		    strcmp(f->service, cmsim_jstr(service, "name")) != 0)
			continue;
		return true;
	}
	return false;
}

static void set_health(struct cmsim *sim, struct json_object *cluster,
                       struct json_object *svc)
{
	if (bad_health(sim, cluster, svc)) {
		struct json_object *checks = json_object_new_array();
		struct json_object *hc = json_object_new_object();
		struct cmr_buf name = CMR_BUF_INIT;

		cmr_buf_addf(&name, "%s_SERVICE_HEALTH",
		             cmsim_jstr(svc, "type"));
		cmsim_jset_str(hc, "name", name.ptr);
		cmsim_jset_str(hc, "summary", "BAD");
		cmsim_jset_str(hc, "explanation",
		               "The service is unhealthy (cmsim bad-health "
		               "fault).");
		cmsim_jset_bool(hc, "suppressed", false);
		json_object_array_add(checks, hc);
		json_object_object_add(svc, "healthChecks", checks);
		cmsim_jset_str(svc, "healthSummary", "BAD");
		cmr_buf_release(&name);
	} else {
		json_object_object_del(svc, "healthChecks");
		cmsim_jset_str(svc, "healthSummary", "GOOD");
	}
}

static void role_up(struct json_object *role, bool bad)
{
	if (cmsim_role_is_gateway(role))
		return;
	cmsim_jset_str(role, "roleState", "STARTED");
	cmsim_jset_str(role, "configStalenessStatus", "FRESH");
	cmsim_jset_str(role, "healthSummary", bad ? "BAD" : "GOOD");
}

static void role_down(struct json_object *role)
{
	if (cmsim_role_is_gateway(role))
		return;
	cmsim_jset_str(role, "roleState", "STOPPED");
}

static void role_refresh(struct json_object *role)
{
	const char *s = cmsim_jstr(role, "configStalenessStatus");

	if (s && strcmp(s, "STALE_REFRESHABLE") == 0)
		cmsim_jset_str(role, "configStalenessStatus", "FRESH");
}

/* serviceState follows its processes: STARTED while any runs. */
static void recompute_state(struct json_object *svc)
{
	struct json_object *roles = cmsim_jget(svc, "roles");
	size_t i;
	size_t n = roles ? json_object_array_length(roles) : 0;
	bool any = false, started = false;

	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);
		const char *st = cmsim_jstr(r, "roleState");

		if (cmsim_role_is_gateway(r))
			continue;
		any = true;
		if (st && strcmp(st, "STARTED") == 0)
			started = true;
	}
	if (any)
		cmsim_jset_str(svc, "serviceState",
		               started ? "STARTED" : "STOPPED");
}

static void for_roles(struct json_object *svc,
                      void (*fn)(struct json_object *role))
{
	struct json_object *roles = cmsim_jget(svc, "roles");
	size_t i;
	size_t n = roles ? json_object_array_length(roles) : 0;

	for (i = 0; i < n; i++)
		fn(json_object_array_get_idx(roles, i));
}

/* The service a command or step acts on (and its cluster), or NULL. */
static struct json_object *target_service(struct cmsim *sim,
                                          struct json_object *cmd,
                                          struct json_object **cluster)
{
	const char *cname = cmsim_jstr(cmd, "clusterName");
	const char *sname = cmsim_jstr(cmd, "serviceName");

	*cluster = cname ? cmsim_cluster(sim, cname) : NULL;
	if (cmsim_jbool(cmd, "mgmt", false))
		return cmsim_mgmt(sim);
	return *cluster && sname ? cmsim_service(*cluster, sname) : NULL;
}

/*
 * A service start, stop or restart step shows the transition while it
 * runs (serviceState STARTING or STOPPING), as CM does; the end of the
 * step, or an abort, settles it again.
 */
static void begin_step(struct cmsim *sim, struct json_object *cmd)
{
	int kind = (int)cmsim_jint(cmd, "kind", -1);
	struct json_object *cluster;
	struct json_object *svc;

	if (cmsim_jbool(cmd, "begun", false))
		return;
	cmsim_jset_bool(cmd, "begun", true);
	svc = target_service(sim, cmd, &cluster);
	if (!svc)
		return;
	if (kind == CMSIM_CMD_SVC_STOP)
		cmsim_jset_str(svc, "serviceState", "STOPPING");
	else if (kind == CMSIM_CMD_SVC_START || kind == CMSIM_CMD_SVC_RESTART)
		cmsim_jset_str(svc, "serviceState", "STARTING");
	sim->dirty = true;
}

static void apply_effect(struct cmsim *sim, struct json_object *cmd)
{
	int kind = (int)cmsim_jint(cmd, "kind", -1);
	const char *rname = cmsim_jstr(cmd, "roleName");
	struct json_object *cluster;
	struct json_object *svc = target_service(sim, cmd, &cluster);
	struct json_object *role = NULL;
	struct json_object *roles;
	bool bad;
	size_t i;
	size_t n;

	if (svc && rname)
		role = cmsim_role(svc, rname);
	sim->dirty = true;
	if (kind == CMSIM_CMD_REPO_REFRESH) {
		cmsim_parcels_refresh_repos(sim);
		return;
	}
	if (!svc)
		return;
	bad = bad_health(sim, cluster, svc);
	switch (kind) {
	case CMSIM_CMD_ROLE_START:
	case CMSIM_CMD_ROLE_RESTART:
		if (role)
			role_up(role, bad);
		recompute_state(svc);
		set_health(sim, cluster, svc);
		break;
	case CMSIM_CMD_ROLE_STOP:
		if (role)
			role_down(role);
		recompute_state(svc);
		break;
	case CMSIM_CMD_ROLE_REFRESH:
		if (role)
			role_refresh(role);
		break;
	case CMSIM_CMD_SVC_START:
	case CMSIM_CMD_SVC_RESTART:
		roles = cmsim_jget(svc, "roles");
		n = roles ? json_object_array_length(roles) : 0;
		for (i = 0; i < n; i++)
			role_up(json_object_array_get_idx(roles, i), bad);
		cmsim_jset_str(svc, "serviceState", "STARTED");
		set_health(sim, cluster, svc);
		if (kind == CMSIM_CMD_SVC_RESTART)
			cmsim_note_restart(sim, cluster, svc);
		break;
	case CMSIM_CMD_SVC_ROLLING:
		recompute_state(svc);
		set_health(sim, cluster, svc);
		cmsim_note_restart(sim, cluster, svc);
		break;
	case CMSIM_CMD_SVC_STOP:
		for_roles(svc, role_down);
		cmsim_jset_str(svc, "serviceState", "STOPPED");
		break;
	case CMSIM_CMD_SVC_DEPLOY_CC:
		cmsim_jset_str(svc, "clientConfigStalenessStatus", "FRESH");
		break;
	case CMSIM_CMD_SVC_REFRESH:
		for_roles(svc, role_refresh);
		break;
	default:
		break;
	}
}

/* --- the clock moves ------------------------------------------------------ */

static void finish(struct json_object *cmd, int64_t end, bool ok,
                   const char *msg)
{
	cmsim_jset_bool(cmd, "active", false);
	cmsim_jset_bool(cmd, "success", ok);
	cmsim_jset_int(cmd, "endMs", end);
	cmsim_jset_str(cmd, "resultMessage", msg);
}

/* After a failed or aborted step: the state its processes are in. */
static void settle(struct cmsim *sim, struct json_object *cmd)
{
	struct json_object *cluster;
	struct json_object *svc = target_service(sim, cmd, &cluster);

	if (svc && cmsim_jbool(cmd, "begun", false))
		recompute_state(svc);
	sim->dirty = true;
}

static void parent_failure_msg(struct json_object *cmd, struct cmr_buf *msg)
{
	const char *svc = cmsim_jstr(cmd, "serviceName");
	const char *cl = cmsim_jstr(cmd, "clusterName");

	if (svc)
		cmr_buf_addf(msg, "Failed to execute command %s on service %s",
		             cmsim_jstr(cmd, "name"), svc);
	else
		cmr_buf_addf(msg, "Failed to execute command %s on cluster %s",
		             cmsim_jstr(cmd, "name"), cl ? cl : "");
}

static void tick_command(struct cmsim *sim, struct json_object *cmd,
                         int64_t now)
{
	struct json_object *children = cmsim_jget(cmd, "children");
	const char *fail = cmsim_jstr(cmd, "failMessage");
	const struct kind_info *ki;
	size_t i;
	size_t n = children ? json_object_array_length(children) : 0;
	bool child_failed = false;

	for (i = 0; i < n; i++) {
		struct json_object *ch = json_object_array_get_idx(children, i);
		int64_t end = cmsim_jint(ch, "endMs", 0);

		if (!cmsim_jbool(ch, "active", false)) {
			if (!cmsim_jbool(ch, "success", true))
				child_failed = true;
			continue;
		}
		if (cmsim_jint(ch, "startMs", now) <= now)
			begin_step(sim, ch);
		if (end > now)
			continue;
		ki = info_of((int)cmsim_jint(ch, "kind", 0));
		if (fail && i == n - 1) {
			/* The armed failure hits the last step. */
			finish(ch, end, false, fail);
			settle(sim, ch);
			child_failed = true;
			continue;
		}
		finish(ch, end, true, ki->msg);
		apply_effect(sim, ch);
	}
	if (cmsim_jint(cmd, "endMs", 0) > now)
		return;
	ki = info_of((int)cmsim_jint(cmd, "kind", 0));
	if (child_failed || (fail && n == 0)) {
		struct cmr_buf msg = CMR_BUF_INIT;

		if (n == 0)
			cmr_buf_adds(&msg, fail);
		else
			parent_failure_msg(cmd, &msg);
		finish(cmd, cmsim_jint(cmd, "endMs", now), false, msg.ptr);
		settle(sim, cmd);
		cmr_buf_release(&msg);
		sim->dirty = true;
		return;
	}
	finish(cmd, cmsim_jint(cmd, "endMs", now), true,
	       cmsim_jstr(cmd, "okMessage") ? cmsim_jstr(cmd, "okMessage")
	                                    : ki->msg);
	apply_effect(sim, cmd);
}

void cmsim_tick(struct cmsim *sim)
{
	struct json_object *cmds = cmsim_jget(sim->root, "commands");
	int64_t now = cmsim_now(sim);
	size_t i;
	size_t n = cmds ? json_object_array_length(cmds) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cmds, i);

		if (cmsim_jbool(c, "active", false))
			tick_command(sim, c, now);
	}
	cmsim_parcels_tick(sim, now);
	cmsim_faults_tick(sim, now);
}

/* --- starting commands ---------------------------------------------------- */

static bool selected(struct json_object *list, const char *name)
{
	size_t i;
	size_t n;

	if (!list || !json_object_is_type(list, json_type_array))
		return true;
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		const char *s = json_object_get_string(
		        json_object_array_get_idx(list, i));

		if (s && strcmp(s, name) == 0)
			return true;
	}
	return false;
}

int cmsim_cmd_service(struct json_object **out, struct cmsim *sim,
                      struct json_object *cluster, struct json_object *service,
                      enum cmsim_cmd_kind kind, struct json_object *args,
                      struct cmr_error *err)
{
	const struct kind_info *ki = info_of((int)kind);
	struct json_object *roles = cmsim_jget(service, "roles");
	struct json_object *cmd;
	int64_t now = cmsim_now(sim);
	int64_t end;
	size_t i;
	size_t n = roles ? json_object_array_length(roles) : 0;
	enum cmsim_cmd_kind child_kind = CMSIM_CMD_ROLE_RESTART;
	bool stale_only = cmsim_jbool(args, "staleConfigsOnly", false);
	struct json_object *types = cmsim_jget(args, "restartRoleTypes");
	struct json_object *names = cmsim_jget(args, "restartRoleNames");

	(void)err;
	switch (kind) {
	case CMSIM_CMD_SVC_START:
		child_kind = CMSIM_CMD_ROLE_START;
		end = now + ROLE_MS;
		break;
	case CMSIM_CMD_SVC_STOP:
		child_kind = CMSIM_CMD_ROLE_STOP;
		end = now + ROLE_MS;
		break;
	case CMSIM_CMD_SVC_DEPLOY_CC:
		end = now + DEPLOY_MS;
		n = 0;
		break;
	case CMSIM_CMD_SVC_REFRESH:
		child_kind = CMSIM_CMD_ROLE_REFRESH;
		end = now + REFRESH_MS;
		break;
	case CMSIM_CMD_SVC_ROLLING:
		/* One role at a time: the end grows with each step. */
		end = now;
		break;
	default:
		end = now + ROLE_MS;
		break;
	}
	cmd = new_cmd(sim, ki->name, kind, now, end, cluster, service, NULL);
	for (i = 0; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(roles, i);
		int64_t cend = end;

		if (cmsim_role_is_gateway(r))
			continue;
		if (kind == CMSIM_CMD_SVC_ROLLING) {
			const char *st = cmsim_jstr(r, "configStalenessStatus");

			if (stale_only && st && strcmp(st, "FRESH") == 0)
				continue;
			if (!selected(types, cmsim_jstr(r, "type")) ||
			    !selected(names, cmsim_jstr(r, "name")))
				continue;
			if (cmsim_in_maintenance(cluster, service, r))
				continue;
			end += ROLE_MS;
			cend = end;
		}
		add_child(cmd,
		          new_cmd(sim, info_of((int)child_kind)->name,
		                  child_kind, now, cend, cluster, service, r));
	}
	cmsim_jset_int(cmd, "endMs", end);
	arm_failure(sim, cmd, cluster, service);
	store(sim, cmd);
	begin_step(sim, cmd);
	*out = cmd;
	return 0;
}

static struct json_object *service_step(struct cmsim *sim,
                                        struct json_object *cluster,
                                        struct json_object *svc,
                                        enum cmsim_cmd_kind kind, int64_t start,
                                        int64_t end)
{
	return new_cmd(sim, info_of((int)kind)->name, kind, start, end, cluster,
	               svc, NULL);
}

static bool service_stale(struct json_object *svc)
{
	return strcmp(cmsim_service_staleness(svc), "FRESH") != 0;
}

/* The cluster commands: the path's last segment, the name, the message. */
static const struct {
	const char *what, *name, *ok;
} cluster_cmds[] = {
	{ "start", "Start", "Successfully started cluster." },
	{ "stop", "Stop", "Successfully stopped cluster." },
	{ "restart", "Restart", "Successfully restarted cluster." },
	{ "rollingRestart", "RollingRestart",
	  "Successfully completed rolling restart of cluster." },
	{ "refresh", "RefreshCluster", "Successfully refreshed cluster." },
	{ "deployClientConfig", "DeployClusterClientConfig",
	  "Successfully deployed client configuration." },
	{ "deployClientConfigsAndRefresh", "DeployClientConfigsAndRefresh",
	  "Successfully deployed client configuration and refreshed." },
};

/* A rolling restart takes one step per role that has a process. */
static int64_t rolling_ms(struct json_object *svc)
{
	struct json_object *roles = cmsim_jget(svc, "roles");
	size_t k;
	size_t m = roles ? json_object_array_length(roles) : 0;
	int64_t step = 0;

	for (k = 0; k < m; k++)
		if (!cmsim_role_is_gateway(json_object_array_get_idx(roles, k)))
			step += ROLE_MS;
	return step;
}

/*
 * The service steps of a cluster Restart or RollingRestart, one after
 * the other from *t; *t and *end move to the end of the last.
 */
static void add_restarts(struct json_object *cmd, struct cmsim *sim,
                         struct json_object *cluster, bool rolling,
                         bool stale_only, struct json_object *only, int64_t *t,
                         int64_t *end)
{
	struct json_object *svcs = cmsim_jget(cluster, "services");
	size_t i;
	size_t n = svcs ? json_object_array_length(svcs) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(svcs, i);

		if (stale_only && !service_stale(s))
			continue;
		if (!selected(only, cmsim_jstr(s, "name")))
			continue;
		if (cmsim_in_maintenance(cluster, s, NULL))
			continue;
		*end += rolling ? rolling_ms(s) : ROLE_MS;
		add_child(cmd, service_step(sim, cluster, s,
		                            CMSIM_CMD_SVC_RESTART, *t, *end));
		*t = *end;
	}
}

int cmsim_cmd_cluster(struct json_object **out, struct cmsim *sim,
                      struct json_object *cluster, const char *what,
                      struct json_object *args, struct cmr_error *err)
{
	struct json_object *svcs = cmsim_jget(cluster, "services");
	struct json_object *cmd;
	int64_t now = cmsim_now(sim);
	int64_t t = now;
	int64_t end = now;
	size_t i;
	size_t n = svcs ? json_object_array_length(svcs) : 0;
	const char *name = NULL;
	const char *ok = NULL;
	bool stale_only =
	        cmsim_jbool(args, "restartOnlyStaleServices", false) ||
	        cmsim_jbool(args, "staleConfigsOnly", false);
	bool redeploy = cmsim_jbool(args, "redeployClientConfiguration", false);
	struct json_object *only = cmsim_jget(args, "restartServiceNames");

	for (i = 0; i < CMR_ARRAY_SIZE(cluster_cmds) && !name; i++)
		if (strcmp(what, cluster_cmds[i].what) == 0) {
			name = cluster_cmds[i].name;
			ok = cluster_cmds[i].ok;
		}
	if (!name)
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "Command '%s' not found.", what);
	cmd = new_cmd(sim, name, CMSIM_CMD_CLUSTER, now, now, cluster, NULL,
	              NULL);
	cmsim_jset_str(cmd, "okMessage", ok);
	if (redeploy || strncmp(what, "deployClient", 12) == 0) {
		for (i = 0; i < n; i++)
			add_child(cmd, service_step(sim, cluster,
			                            json_object_array_get_idx(
			                                    svcs, i),
			                            CMSIM_CMD_SVC_DEPLOY_CC,
			                            now, now + DEPLOY_MS));
		t = end = now + DEPLOY_MS;
	}
	if (strcmp(what, "refresh") == 0 ||
	    strcmp(what, "deployClientConfigsAndRefresh") == 0) {
		for (i = 0; i < n; i++)
			add_child(cmd, service_step(sim, cluster,
			                            json_object_array_get_idx(
			                                    svcs, i),
			                            CMSIM_CMD_SVC_REFRESH, t,
			                            t + REFRESH_MS));
		end = t + REFRESH_MS;
	}
	for (i = 0; i < n && strcmp(name, "Start") == 0; i++) {
		end += ROLE_MS;
		add_child(cmd, service_step(sim, cluster,
		                            json_object_array_get_idx(svcs, i),
		                            CMSIM_CMD_SVC_START, t, end));
		t = end;
	}
	/* Stop in reverse (dependency) order. */
	for (i = n; i > 0 && strcmp(name, "Stop") == 0; i--) {
		end += ROLE_MS;
		add_child(cmd,
		          service_step(sim, cluster,
		                       json_object_array_get_idx(svcs, i - 1),
		                       CMSIM_CMD_SVC_STOP, t, end));
		t = end;
	}
	if (strcmp(name, "Restart") == 0 || strcmp(name, "RollingRestart") == 0)
		add_restarts(cmd, sim, cluster,
		             strcmp(name, "RollingRestart") == 0, stale_only,
		             only, &t, &end);
	cmsim_jset_int(cmd, "endMs", end);
	arm_failure(sim, cmd, cluster, NULL);
	store(sim, cmd);
	*out = cmd;
	return 0;
}

int cmsim_cmd_role(struct json_object **out, struct cmsim *sim,
                   struct json_object *cluster, struct json_object *service,
                   struct json_object *role, enum cmsim_cmd_kind kind,
                   struct cmr_error *err)
{
	const struct kind_info *ki = info_of((int)kind);
	int64_t now = cmsim_now(sim);
	struct json_object *cmd;

	*out = NULL;
	if (cmsim_role_is_gateway(role))
		return cmr_error_set(err, CMR_EINVAL,
		                     "Role '%s' is a gateway role: it has no "
		                     "process to %s.",
		                     cmsim_jstr(role, "name"),
		                     kind == CMSIM_CMD_ROLE_REFRESH ? "refresh"
		                     : kind == CMSIM_CMD_ROLE_STOP  ? "stop"
		                                                    : "start");
	cmd = new_cmd(
	        sim, ki->name, kind, now,
	        now + (kind == CMSIM_CMD_ROLE_REFRESH ? REFRESH_MS : ROLE_MS),
	        cluster, service, role);
	arm_failure(sim, cmd, cluster, service);
	store(sim, cmd);
	*out = cmd;
	return 0;
}

int cmsim_cmd_refresh_repos(struct json_object **out, struct cmsim *sim,
                            struct cmr_error *err)
{
	int64_t now = cmsim_now(sim);
	struct json_object *cmd;

	(void)err;
	cmd = new_cmd(sim, "RefreshParcelRepos", CMSIM_CMD_REPO_REFRESH, now,
	              now + REFRESH_MS, NULL, NULL, NULL);
	store(sim, cmd);
	*out = cmd;
	return 0;
}

struct json_object *cmsim_cmd_find(struct cmsim *sim, int64_t id)
{
	struct json_object *cmds = cmsim_jget(sim->root, "commands");
	size_t i;
	size_t j;
	size_t n = cmds ? json_object_array_length(cmds) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cmds, i);
		struct json_object *ch = cmsim_jget(c, "children");
		size_t m = ch ? json_object_array_length(ch) : 0;

		if (cmsim_jint(c, "id", -1) == id)
			return c;
		for (j = 0; j < m; j++)
			if (cmsim_jint(json_object_array_get_idx(ch, j), "id",
			               -1) == id)
				return json_object_array_get_idx(ch, j);
	}
	return NULL;
}

int cmsim_cmd_abort(struct cmsim *sim, struct json_object *cmd,
                    struct cmr_error *err)
{
	struct json_object *ch = cmsim_jget(cmd, "children");
	int64_t now = cmsim_now(sim);
	size_t i;
	size_t n = ch ? json_object_array_length(ch) : 0;

	if (!cmsim_jbool(cmd, "active", false))
		return cmr_error_set(err, CMR_EINVAL,
		                     "Command %lld is not active.",
		                     (long long)cmsim_jint(cmd, "id", -1));
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(ch, i);

		if (cmsim_jbool(c, "active", false)) {
			finish(c, now, false, "Command aborted.");
			settle(sim, c);
		}
	}
	finish(cmd, now, false, "Command aborted.");
	settle(sim, cmd);
	sim->dirty = true;
	return 0;
}

struct json_object *cmsim_cmd_maintenance(struct cmsim *sim,
                                          struct json_object *cluster,
                                          struct json_object *service,
                                          struct json_object *role, bool on)
{
	struct json_object *target = role ? role : service ? service : cluster;
	int64_t now = cmsim_now(sim);
	struct json_object *cmd;

	/* Instant in CM too: the command is finished when it is returned. */
	cmd = new_cmd(sim, on ? "EnterMaintenanceMode" : "ExitMaintenanceMode",
	              CMSIM_CMD_CLUSTER, now, now, cluster, service, role);
	cmsim_jset_bool(target, "maintenanceMode", on);
	finish(cmd, now, true,
	       on ? "Entered maintenance mode." : "Exited maintenance mode.");
	store(sim, cmd);
	return cmd;
}
