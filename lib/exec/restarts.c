/*
 * restarts.c -- after the writes: what CM reports stale, brought fresh.
 *
 * The plan's restart list is a forecast; this file acts on what CM
 * reports once the settings are written and the parcels activated: it
 * reads the lane's services again, then
 *
 *   1. refreshes the STALE_REFRESHABLE roles of each service and deploys
 *      stale client configurations (no restart needed, so first);
 *   2. restarts each STALE service, one at a time in the plan's order
 *      (dependency order: ZooKeeper before HDFS before YARN ...) and then
 *      the others by name, with the plan's action (restart or rolling) or
 *      the service's policy -- each followed by the health gate.
 *
 * Never restarted: services in maintenance mode, stopped services (a
 * restart would start them), and restarts deferred by choice (`restart:
 * never`, --no-restart, outside --restart-window); each is reported and
 * remembered as pending, so the verdict can tell "left by choice" from
 * "not converged".
 */
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/vec.h"

#include "exec_int.h"

struct svc_todo {
	const char *cluster; /* borrowed from the scratch state */
	const char *service;
	enum cmr_restart_action action;
	const struct cmr_service *live; /* what CM reports now */
};

struct todo_list {
	struct svc_todo *items;
	size_t len, alloc;
};

static struct svc_todo *todo_find(struct todo_list *l, const char *cluster,
                                  const char *service)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->items[i].cluster, cluster) == 0 &&
		    strcmp(l->items[i].service, service) == 0)
			return &l->items[i];
	return NULL;
}

/* Reads GET /clusters/C/services for every cluster of the plan into a
 * scratch state: what CM reports after the writes and activations. */
static int read_services(struct cmr_state **out, struct cmr_exec__run *r,
                         struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	size_t i;
	int error;

	cmr_http_response_init(&resp);
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0)
		goto done;
	for (i = 0; i < r->a->plan->clusters.len; i++) {
		const char *name = r->a->plan->clusters.items[i];
		struct cmr_cluster *c = NULL;

		if (!cmr_exec__in_lane(r, name))
			continue;
		cmr_buf_reset(&url);
		if ((error = cmr_state_add_cluster(&c, st, name, err)) < 0)
			goto done;
		if (cmr_api_build_services(&url, r->a->ver, name) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
		if ((error = cmr_exec__call(r, "GET", url.ptr, NULL, 0, &resp,
		                            err)) < 0 ||
		    (error = cmr_api_decode_services(st, c, url.ptr,
		                                     resp.body.ptr,
		                                     resp.body.len, err)) < 0)
			goto done;
	}
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	if (error < 0) {
		cmr_state_free(st);
		st = NULL;
	}
	*out = st;
	return error;
}

/* The action for a service the plan's restart list does not name: its
 * restart policy in the desired state, else a plain restart. */
static enum cmr_restart_action policy_action(const struct cmr_exec__run *r,
                                             const char *cluster,
                                             const char *service)
{
	const struct cmr_state *d = r->a->opt->desired;
	const struct cmr_cluster *c =
	        d ? cmr_state_find_cluster(d, cluster) : NULL;
	const struct cmr_service *s =
	        c ? cmr_cluster_find_service(c, service) : NULL;

	if (s && s->restart == CMR_RESTART_ROLLING)
		return CMR_ACTION_ROLLING;
	if (s && s->restart == CMR_RESTART_NEVER)
		return CMR_ACTION_DEFERRED;
	return CMR_ACTION_RESTART;
}

/*
 * A service of the plan's restart list that CM still has, with the plan's
 * action (or, for a refresh or client configuration only, its restart
 * policy).  Listed twice, the stronger restart action wins.
 */
static int todo_add_restart(struct todo_list *out,
                            const struct cmr_exec__run *r,
                            const struct cmr_state *now,
                            const struct cmr_restart *rs, struct cmr_error *err)
{
	const struct cmr_cluster *c = cmr_state_find_cluster(now, rs->cluster);
	const struct cmr_service *ls =
	        c ? cmr_cluster_find_service(c, rs->service) : NULL;
	struct svc_todo t;
	struct svc_todo *have;

	if (!ls)
		return 0;
	t.cluster = c->name;
	t.service = ls->name;
	t.live = ls;
	t.action = rs->action;
	if (rs->action == CMR_ACTION_REFRESH ||
	    rs->action == CMR_ACTION_CLIENT_CONFIG)
		t.action = policy_action(r, c->name, ls->name);
	have = todo_find(out, t.cluster, t.service);
	if (have) {
		if (rs->action == CMR_ACTION_ROLLING ||
		    rs->action == CMR_ACTION_DEFERRED)
			have->action = rs->action;
		return 0;
	}
	if (cmr_vec_push(out, t) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

/*
 * Every service of the plan's clusters, in order: the plan's restart list
 * first (dependency order, with its actions), then the others by cluster
 * and name, with their desired restart policy.
 */
static int build_todo(struct todo_list *out, struct cmr_exec__run *r,
                      const struct cmr_state *now, struct cmr_error *err)
{
	const struct cmr_plan *p = r->a->plan;
	size_t i;
	size_t j;
	int error;

	for (i = 0; i < p->restarts.len; i++)
		if ((error = todo_add_restart(out, r, now, p->restarts.items[i],
		                              err)) < 0)
			return error;
	for (i = 0; i < now->clusters.len; i++) {
		const struct cmr_cluster *c = now->clusters.items[i];

		for (j = 0; j < c->services.len; j++) {
			const struct cmr_service *ls = c->services.items[j];
			struct svc_todo t;

			if (todo_find(out, c->name, ls->name))
				continue;
			t.cluster = c->name;
			t.service = ls->name;
			t.live = ls;
			t.action = policy_action(r, c->name, ls->name);
			if (cmr_vec_push(out, t) < 0)
				return cmr_error_set(err, CMR_ENOMEM,
				                     "out of memory");
		}
	}
	return 0;
}

struct name_list {
	const char **items;
	size_t len, alloc;
};

/*
 * Reads the roles of cluster/service into the scratch state st and lists
 * the STALE_REFRESHABLE ones not in maintenance mode (names borrowed from
 * st).
 */
static int refreshable_roles(struct name_list *names, struct cmr_state *st,
                             struct cmr_exec__run *r, const char *cluster,
                             const char *service, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_cluster *c = NULL;
	struct cmr_service *s = NULL;
	size_t i;
	int error;

	cmr_http_response_init(&resp);
	if ((error = cmr_state_add_cluster(&c, st, cluster, err)) < 0 ||
	    (error = cmr_cluster_add_service(&s, st, c, service, err)) < 0)
		goto done;
	if (cmr_api_build_roles(&url, r->a->ver, cluster, service) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = cmr_exec__call(r, "GET", url.ptr, NULL, 0, &resp, err)) <
	            0 ||
	    (error = cmr_api_decode_roles(st, s, url.ptr, resp.body.ptr,
	                                  resp.body.len, err)) < 0)
		goto done;
	for (i = 0; i < s->roles.len; i++) {
		const struct cmr_role *ro = s->roles.items[i];

		if (ro->config_staleness == CMR_STALE_REFRESHABLE &&
		    !ro->maintenance_mode &&
		    cmr_vec_push(names, ro->name) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
	}
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}

/* Waits for the refresh commands CM started, one after the other. */
static int wait_refreshes(struct cmr_exec__run *r,
                          const struct cmr_api_command_list *l,
                          struct cmr_error *err)
{
	size_t i;
	int error;

	for (i = 0; i < l->len; i++) {
		if (l->items[i].id < 0)
			continue;
		error = cmr_wait_command(NULL, &r->w, l->items[i].id,
		                         CMR_WAIT_REFRESH, err);
		if (error < 0)
			return error;
	}
	return 0;
}

/* roleCommands/refresh for the STALE_REFRESHABLE roles of a service. */
static int refresh_roles(struct cmr_exec__run *r, const char *cluster,
                         const char *service, const char *tgt,
                         struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_state *st = NULL;
	struct cmr_api_command_list l;
	struct name_list names = { NULL, 0, 0 };
	int error;

	memset(&l, 0, sizeof(l));
	cmr_http_response_init(&resp);
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0 ||
	    (error = refreshable_roles(&names, st, r, cluster, service, err)) <
	            0)
		goto done;
	if (names.len == 0)
		goto done;
	if (cmr_api_build_role_command(&url, r->a->ver, cluster, service,
	                               "refresh") < 0 ||
	    cmr_api_body_role_names(&body, names.items, names.len) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = cmr_exec__stop_check(r, err)) < 0)
		goto done;
	cmr_exec__remit(r, CMR_EXEC_EV_STEP, "refresh", tgt, -1,
	                "refreshing %zu role%s", names.len,
	                names.len == 1 ? "" : "s");
	/* Refreshing a role twice is harmless (no restart): the transport
	 * may re-send this POST like a GET. */
	if ((error = cmr_exec__call(r, "POST", url.ptr, &body,
	                            CMR_HTTP_REQ_IDEMPOTENT, &resp, err)) < 0 ||
	    (error = cmr_api_decode_command_list(&l, url.ptr, resp.body.ptr,
	                                         resp.body.len, err)) < 0)
		goto done;
	r->rep->commands += l.len;
	if (l.errors[0]) {
		error = cmr_error_set(err, CMR_EAPI, "refresh of %s: %s", tgt,
		                      l.errors);
		goto done;
	}
	if ((error = wait_refreshes(r, &l, err)) < 0)
		goto done;
	r->rep->refreshed++;
	cmr_exec__remit(r, CMR_EXEC_EV_DONE, "refresh", tgt, -1,
	                "roles refreshed");
done:
	if (error < 0)
		cmr_exec__remit(r, CMR_EXEC_EV_FAIL, "refresh", tgt, -1, "%s",
		                err ? err->msg : "failed");
	cmr_vec_release(&names);
	cmr_api_command_list_release(&l);
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	cmr_buf_release(&body);
	cmr_state_free(st);
	return error;
}

static int service_command(struct cmr_exec__run *r, const char *phase,
                           const char *cluster, const char *service,
                           const char *tgt, const char *name,
                           const struct cmr_buf *body, enum cmr_wait_kind kind,
                           struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf list = CMR_BUF_INIT;
	struct cmr_exec__command cc;
	int error;

	if (cmr_api_build_service_command(&url, r->a->ver, cluster, service,
	                                  name) < 0 ||
	    cmr_api_build_active_commands(&list, r->a->ver, cluster, service) <
	            0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	} else {
		cc.phase = phase;
		cc.target = tgt;
		cc.url = url.ptr;
		cc.body = body;
		cc.list_url = list.ptr;
		cc.name = name;
		cc.cluster = cluster;
		cc.service = service;
		cc.kind = kind;
		error = cmr_exec__run_command(r, &cc, err);
	}
	cmr_buf_release(&url);
	cmr_buf_release(&list);
	return error;
}

static int restart_one(struct cmr_exec__run *r, const struct svc_todo *t,
                       const char *tgt, struct cmr_error *err)
{
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_api_service_status st;
	bool rolling = t->action == CMR_ACTION_ROLLING;
	int error;

	if (rolling && cmr_api_body_rolling_restart(&body) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	error = service_command(r, "restart", t->cluster, t->service, tgt,
	                        rolling ? "rollingRestart" : "restart",
	                        rolling ? &body : NULL, CMR_WAIT_RESTART, err);
	cmr_buf_release(&body);
	if (error < 0)
		return error;
	cmr_exec__remit(r, CMR_EXEC_EV_STEP, "health", tgt, -1,
	                "waiting for STARTED and GOOD health");
	error = cmr_wait_healthy(
	        &st, &r->w, t->cluster, t->service,
	        (r->a->opt->flags & CMR_EXEC_ACCEPT_CONCERNING) != 0, err);
	if (error < 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_FAIL, "health", tgt, -1, "%s",
		                err ? err->msg : "failed");
		return error;
	}
	r->rep->restarted++;
	cmr_exec__remit(r, CMR_EXEC_EV_DONE, "health", tgt, -1, "%s, health %s",
	                cmr_run_state_name(st.state),
	                cmr_health_name(st.health));
	return 0;
}

/* True when a restart may start now (no window, or inside it). */
static bool in_window(const struct cmr_exec__run *r)
{
	int64_t now = r->clock->wall_ms(r->clock) / 1000;

	if (!(r->a->opt->flags & CMR_EXEC_RESTART_WINDOW) || !r->a->opt->window)
		return true;
	return cmr_window_contains(r->a->opt->window, (time_t)now);
}

/* Remembers a service left stale by choice, for the verdict. */
static int note_pending(struct cmr_exec__run *r, const char *cluster,
                        const char *service, struct cmr_error *err)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char *k;

	cmr_buf_addf(&b, "%s/%s", cluster, service);
	k = cmr_buf_detach(&b, NULL);
	if (!k || cmr_vec_push(&r->pending, k) < 0) {
		cmr_free(k);
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * A service's changes that need no restart: refreshes its
 * STALE_REFRESHABLE roles and deploys its stale client configuration
 * (`empty` is the deployment's body).  Nothing in maintenance mode.
 */
static int refresh_service(struct cmr_exec__run *r, const struct svc_todo *t,
                           const struct cmr_buf *empty, struct cmr_error *err)
{
	const struct cmr_service *ls = t->live;
	char tgt[512];
	int error;

	snprintf(tgt, sizeof(tgt), "%s/%s", t->cluster, t->service);
	if (ls->maintenance_mode)
		return 0;
	if (ls->config_staleness == CMR_STALE_REFRESHABLE &&
	    (error = refresh_roles(r, t->cluster, t->service, tgt, err)) < 0)
		return error;
	if (ls->client_config_staleness == CMR_STALE_STALE ||
	    ls->client_config_staleness == CMR_STALE_REFRESHABLE) {
		error = service_command(r, "client-config", t->cluster,
		                        t->service, tgt, "deployClientConfig",
		                        empty, CMR_WAIT_CLIENT_CONFIG, err);
		if (error < 0)
			return error;
		r->rep->client_configs++;
	}
	return 0;
}

/* Why a stale service's restart is deferred, for the event. */
static const char *defer_reason(const struct cmr_exec__run *r,
                                const struct svc_todo *t)
{
	if (t->action == CMR_ACTION_DEFERRED)
		return "restart: never";
	if (r->a->opt->flags & CMR_EXEC_NO_RESTART)
		return "--no-restart";
	return "outside --restart-window";
}

/*
 * Restarts a service CM reports STALE, health-gated -- unless it is in
 * maintenance mode, stopped, or its restart is deferred (by its policy,
 * --no-restart or --restart-window): it is then left stale, and noted.
 */
static int restart_stale(struct cmr_exec__run *r, const struct svc_todo *t,
                         struct cmr_error *err)
{
	const struct cmr_service *ls = t->live;
	bool stale = ls->config_staleness == CMR_STALE_STALE;
	char tgt[512];
	int error;

	snprintf(tgt, sizeof(tgt), "%s/%s", t->cluster, t->service);
	if (ls->maintenance_mode &&
	    (stale || ls->config_staleness == CMR_STALE_REFRESHABLE ||
	     ls->client_config_staleness == CMR_STALE_STALE)) {
		r->rep->maintenance++;
		cmr_exec__remit(r, CMR_EXEC_EV_SKIP, "restart", tgt, -1,
		                "stale, but in maintenance mode: left alone");
		return note_pending(r, t->cluster, t->service, err);
	}
	if (!stale)
		return 0;
	if (ls->state == CMR_RUN_STOPPED || ls->state == CMR_RUN_STOPPING) {
		/* A restart would start it: stopped services stay stopped;
		 * they read their settings when started. */
		r->rep->stopped++;
		cmr_exec__remit(r, CMR_EXEC_EV_SKIP, "restart", tgt, -1,
		                "stale, but %s: not started by cmrecon",
		                cmr_run_state_name(ls->state));
		return note_pending(r, t->cluster, t->service, err);
	}
	if (t->action == CMR_ACTION_DEFERRED ||
	    (r->a->opt->flags & CMR_EXEC_NO_RESTART) || !in_window(r)) {
		r->rep->deferred++;
		cmr_exec__remit(r, CMR_EXEC_EV_SKIP, "restart", tgt, -1,
		                "stale; restart deferred (%s)",
		                defer_reason(r, t));
		return note_pending(r, t->cluster, t->service, err);
	}
	if ((error = cmr_exec__stop_check(r, err)) < 0)
		return error;
	return restart_one(r, t, tgt, err);
}

int cmr_exec__stale_services(struct cmr_exec__run *r, struct cmr_error *err)
{
	struct todo_list todo = { NULL, 0, 0 };
	struct cmr_state *now = NULL;
	struct cmr_buf empty = CMR_BUF_INIT;
	size_t i;
	int error;

	if ((error = read_services(&now, r, err)) < 0 ||
	    (error = build_todo(&todo, r, now, err)) < 0)
		goto done;
	if (cmr_buf_adds(&empty, "{\"items\":[]}") < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	/* Refreshes and client configurations first: no restart needed. */
	for (i = 0; i < todo.len; i++)
		if ((error = refresh_service(r, &todo.items[i], &empty, err)) <
		    0)
			goto done;
	for (i = 0; i < todo.len; i++)
		if ((error = restart_stale(r, &todo.items[i], err)) < 0)
			goto done;
	error = 0;
done:
	cmr_buf_release(&empty);
	cmr_vec_release(&todo);
	cmr_state_free(now);
	return error;
}
