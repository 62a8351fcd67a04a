/*
 * apply.c -- cmr_exec_apply: a plan, phase by phase, against CM.
 *
 * The order is DESIGN.md's:
 *
 *   lock -> CM settings -> refreshParcelRepos -> start parcel downloads ->
 *   management service settings -> then per cluster, each in a lane of
 *   its own (independent clusters at the same time, compute clusters
 *   after the base clusters): service and role config group settings,
 *   each read back -> finish download + distribution -> activation (and
 *   downward steps) -> refresh STALE_REFRESHABLE roles -> deploy stale
 *   client configs -> restarts, one service at a time in dependency
 *   order, health-gated -> and once every lane is done: unlock -> read
 *   live again, plan again: converged?
 *
 * Each phase is given the set of scope kinds it writes.  The phases
 * themselves live in settings.c, parcels.c and restarts.c; the path to CM
 * in call.c; the lanes are lanes.c's generic pool, given this file's
 * per-cluster step as a function pointer.
 *
 * Restarts act on what CM reports after the writes (the services are read
 * again), not on what the plan predicted: the plan's restart list only
 * gives the order and the action (restart, rolling, deferred).
 *
 * Nothing here prints: progress goes to the caller's callback and the
 * journal (events.c), details to the logger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/vec.h"

#include "exec_int.h"

/* The scope kinds each settings phase writes. */
#define KINDS_CM CMR_EXEC__KIND(CMR_SCOPE_CM)
#define KINDS_MGMT \
	(CMR_EXEC__KIND(CMR_SCOPE_MGMT) | CMR_EXEC__KIND(CMR_SCOPE_MGMT_GROUP))
#define KINDS_CLUSTER \
	(CMR_EXEC__KIND(CMR_SCOPE_SERVICE) | CMR_EXEC__KIND(CMR_SCOPE_GROUP))

/* A lane's sleeps are cut into slices this long to notice Ctrl-C. */
#define LANE_SLICE_MS 100

/* ----------------------------------------------------------------------
 * Runs
 */

/* The waiter's tick: renew the lock, say what is waited for, notice
 * Ctrl-C. */
static int tick(const char *what, void *ud)
{
	struct cmr_exec__run *r = ud;

	if (r->a->lock)
		cmr_exec__lock_renew(r->a->lock, r);
	cmr_exec__remit(r, CMR_EXEC_EV_WAIT, "wait",
	                r->cluster ? r->cluster : "", -1, "waiting: %s", what);
	return cmr_exec__interrupted(r) ? 1 : 0;
}

static void run_init(struct cmr_exec__run *r, const struct cmr_exec__apply *a,
                     struct cmr_client *c, struct cmr_clock *clock,
                     struct cmr_exec_report *rep, const char *cluster)
{
	const struct cmr_exec_options *opt = a->opt;

	memset(r, 0, sizeof(*r));
	r->a = a;
	r->c = c;
	r->clock = clock;
	r->rep = rep;
	r->cluster = cluster;
	r->w.client = c;
	r->w.clock = clock;
	r->w.logger = opt->logger;
	r->w.timeout_ms = opt->timeout_ms;
	r->w.initial_ms = opt->poll_initial_ms;
	r->w.max_ms = opt->poll_max_ms;
	r->w.tick = tick;
	r->w.tick_ud = r;
}

static void free_pending(struct cmr_exec__str_list *l)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		cmr_free(l->items[i]);
	cmr_vec_release(l);
}

static void report_add(struct cmr_exec_report *to,
                       const struct cmr_exec_report *from)
{
	to->writes += from->writes;
	to->settings += from->settings;
	to->secrets += from->secrets;
	to->secret_records += from->secret_records;
	to->commands += from->commands;
	to->parcel_steps += from->parcel_steps;
	to->refreshed += from->refreshed;
	to->client_configs += from->client_configs;
	to->restarted += from->restarted;
	to->maintenance += from->maintenance;
	to->stopped += from->stopped;
	to->deferred += from->deferred;
	to->interrupted = to->interrupted || from->interrupted;
}

/*
 * One cluster's lane (or every cluster, when r->cluster is NULL): the
 * cluster's settings, download and distribution to the end, then
 * activation, then refresh, client configuration and restarts of what
 * CM reports stale.
 */
static int cluster_steps(struct cmr_exec__run *r, struct cmr_error *err)
{
	int error;

	if ((error = cmr_exec__write_scopes(r, KINDS_CLUSTER, err)) < 0 ||
	    (error = cmr_exec__parcels_run(r, true, err)) < 0 ||
	    (error = cmr_exec__parcels_run(r, false, err)) < 0)
		return error;
	return cmr_exec__stale_services(r, err);
}

/* ----------------------------------------------------------------------
 * Cluster lanes
 */

/* The lane's clock: the apply's, with sleeps that end on Ctrl-C. */
struct slice_clock {
	struct cmr_clock base; /* first: cmr_container_of */
	struct cmr_clock *real;
	atomic_int *interrupted;
};

static int64_t slice_now(struct cmr_clock *c)
{
	struct slice_clock *sc = cmr_container_of(c, struct slice_clock, base);

	return sc->real->now_ms(sc->real);
}

static int64_t slice_wall(struct cmr_clock *c)
{
	struct slice_clock *sc = cmr_container_of(c, struct slice_clock, base);

	return sc->real->wall_ms(sc->real);
}

static void slice_sleep(struct cmr_clock *c, int64_t ms)
{
	struct slice_clock *sc = cmr_container_of(c, struct slice_clock, base);

	while (ms > 0 && !(sc->interrupted && *sc->interrupted)) {
		int64_t d = ms < LANE_SLICE_MS ? ms : LANE_SLICE_MS;

		sc->real->sleep_ms(sc->real, d);
		ms -= d;
	}
}

/* One cluster's lane: its run, client, clock and report. */
struct cluster_lane {
	struct cmr_exec__run r;
	struct cmr_exec_report rep;
	struct cmr_client *own; /* the lane's client, or NULL */
	struct slice_clock clk;
};

/* The pool's step for a cluster lane. */
static int lane_step(struct cmr_exec__lane *lane, struct cmr_exec__pool *pool,
                     struct cmr_error *err)
{
	struct cluster_lane *cl = lane->ud;
	int error = cluster_steps(&cl->r, err);

	if (error == CMR_EINTR &&
	    cmr_exec__pool_stopped(pool, cl->r.cluster, NULL))
		cmr_exec__remit(&cl->r, CMR_EXEC_EV_WARN, "apply",
		                cl->r.cluster, -1, "%s", err->msg);
	return error;
}

/*
 * Reads every cluster's type in one wave (compute clusters go in wave 1).
 * Returns 0, or the error of a cluster that could not be read.
 */
static int read_types(struct cmr_exec__lane *lanes, size_t n,
                      struct cmr_exec__run *r, struct cmr_error *err)
{
	struct cmr_http_request *req;
	struct cmr_http_response *resp;
	struct cmr_buf *urls;
	size_t i;
	int error = 0;

	req = cmr_calloc(n, sizeof(*req));
	resp = cmr_calloc(n, sizeof(*resp));
	urls = cmr_calloc(n, sizeof(*urls));
	if (!req || !resp || !urls) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		cmr_buf_init(&urls[i], 0);
		cmr_http_response_init(&resp[i]);
		if (cmr_api_build_cluster(&urls[i], r->a->ver, lanes[i].name) <
		    0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
		req[i].method = "GET";
		req[i].url = urls[i].ptr;
	}
	(void)cmr_client_send_all(r->c, req, resp, n, NULL);
	for (i = 0; i < n && error == 0; i++) {
		bool compute = false;

		error = cmr_api_check_answer(&req[i], &resp[i], err);
		if (error == 0)
			error = cmr_api_decode_cluster_type(
			        &compute, urls[i].ptr, resp[i].body.ptr,
			        resp[i].body.len, err);
		lanes[i].wave = compute ? 1 : 0;
	}
done:
	for (i = 0; urls && resp && i < n; i++) {
		cmr_buf_release(&urls[i]);
		cmr_http_response_release(&resp[i]);
	}
	cmr_free(req);
	cmr_free(resp);
	cmr_free(urls);
	return error;
}

/* How many workers a wave of `count` lanes gets (--parallel). */
static size_t lane_width(const struct cmr_exec_options *opt, size_t count)
{
	size_t max = opt->max_lanes ? opt->max_lanes : CMR_EXEC_DEFAULT_LANES;

	if (max > CMR_EXEC_MAX_LANES)
		max = CMR_EXEC_MAX_LANES;
	return count < max ? count : max;
}

/* What announce needs. */
struct announce_ud {
	struct cmr_exec__run *r;
	const struct cmr_exec__lane *lanes;
	size_t n;
};

/* The pool's wave hook: says which clusters of a wave run, and how many
 * at a time. */
static void announce(unsigned wave, void *ud)
{
	const struct announce_ud *au = ud;
	struct cmr_exec__run *r = au->r;
	const struct cmr_exec__lane *lanes = au->lanes;
	size_t n = au->n;
	struct cmr_buf names = CMR_BUF_INIT;
	const char *list;
	size_t count = 0;
	size_t width;
	size_t i;
	bool compute = wave == 1;
	char how[96];

	for (i = 0; i < n; i++) {
		if (lanes[i].wave != wave)
			continue;
		cmr_buf_adds(&names, names.len ? ", " : "");
		cmr_buf_adds(&names, lanes[i].name);
		count++;
	}
	if (count == 0)
		return;
	width = lane_width(r->a->opt, count);
	list = cmr_buf_error(&names) ? "" : names.ptr;
	if (width >= count)
		snprintf(how, sizeof(how), "at the same time");
	else if (width == 1)
		snprintf(how, sizeof(how), "one at a time (--parallel 1)");
	else
		snprintf(how, sizeof(how), "%zu at a time (--parallel %zu)",
		         width, width);
	if (count == 1)
		cmr_exec__remit(r, CMR_EXEC_EV_STEP, "apply", "", -1,
		                "%s cluster %s%s", compute ? "compute" : "base",
		                list,
		                compute ? ", after the base clusters"
		                        : ", before the compute clusters");
	else
		cmr_exec__remit(r, CMR_EXEC_EV_STEP, "apply", "", -1,
		                "%zu %sclusters %s%s: %s", count,
		                compute ? "compute " : "", how,
		                compute ? ", after the base clusters" : "",
		                list);
	cmr_buf_release(&names);
}

/* Names the lanes no worker took: a lane failed, or Ctrl-C. */
static void report_unstarted(struct cmr_exec__run *r,
                             const struct cmr_exec__lane *lanes, size_t n,
                             const struct cmr_exec__pool *pool)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lanes[i].ran)
			continue;
		if (pool->failed && pool->first.code != CMR_EINTR)
			cmr_exec__remit(
			        r, CMR_EXEC_EV_WARN, "apply", lanes[i].name, -1,
			        "not started: cluster '%s' failed, so no "
			        "step was started on cluster '%s'",
			        pool->failed_name, lanes[i].name);
		else
			cmr_exec__remit(r, CMR_EXEC_EV_WARN, "apply",
			                lanes[i].name, -1,
			                "not started: interrupted");
	}
}

static enum cmr_lane_state lane_state(bool ran, int error)
{
	if (!ran)
		return CMR_LANE_NOT_STARTED;
	if (error >= 0)
		return CMR_LANE_DONE;
	return error == CMR_EINTR ? CMR_LANE_STOPPED : CMR_LANE_FAILED;
}

const char *cmr_lane_state_name(enum cmr_lane_state s)
{
	switch (s) {
	case CMR_LANE_NOT_STARTED:
		return "not-started";
	case CMR_LANE_DONE:
		return "done";
	case CMR_LANE_FAILED:
		return "failed";
	case CMR_LANE_STOPPED:
		return "stopped";
	}
	return "unknown";
}

/* Adds the lanes' reports and pending services to the apply's. */
static int merge(struct cmr_exec__run *r, struct cmr_exec__lane *lanes,
                 struct cluster_lane *cls, size_t n, struct cmr_error *err)
{
	struct cmr_exec_report *rep = r->rep;
	size_t i;
	size_t j;
	int error = 0;

	for (i = 0; i < n; i++) {
		struct cluster_lane *cl = &cls[i];
		struct cmr_exec_cluster_report *c = &rep->clusters[i];

		report_add(rep, &cl->rep);
		r->w.polls += cl->r.w.polls;
		r->w.transport_errors += cl->r.w.transport_errors;
		if (i < CMR_EXEC_MAX_LANES) {
			c->cluster = cl->r.cluster;
			c->state = lane_state(lanes[i].ran, lanes[i].error);
			c->writes = cl->rep.writes;
			c->commands = cl->rep.commands;
			c->parcel_steps = cl->rep.parcel_steps;
			c->restarted = cl->rep.restarted;
			c->elapsed_ms =
			        lanes[i].ran ? lanes[i].t1 - lanes[i].t0 : 0;
			rep->nclusters = i + 1;
		}
		for (j = 0; j < cl->r.pending.len; j++) {
			if (error == 0 &&
			    cmr_vec_push(&r->pending, cl->r.pending.items[j]) ==
			            0)
				continue;
			cmr_free(cl->r.pending.items[j]);
			if (error == 0)
				error = cmr_error_set(err, CMR_ENOMEM,
				                      "out of memory");
		}
		cmr_vec_release(&cl->r.pending);
	}
	return error;
}

/*
 * A client per lane.  CMR_ENOTSUP: this transport cannot be cloned, so
 * the lanes run in turn through r's client; *threads is then cleared.
 */
static int dup_clients(struct cluster_lane *cls, size_t n,
                       const struct cmr_exec__run *r, bool *threads,
                       struct cmr_error *e)
{
	size_t i;
	int error;

	for (i = 0; i < n && *threads; i++) {
		error = cmr_client_dup(&cls[i].own, r->c, e);
		if (error == CMR_ENOTSUP)
			*threads = false;
		else if (error < 0)
			return error;
	}
	for (i = 0; !*threads && i < n; i++) {
		cmr_client_free(cls[i].own);
		cls[i].own = NULL;
	}
	return 0;
}

/*
 * Sets up a lane per cluster: its own client and sliced clock when the
 * lanes run in threads (*threads), its wave (compute clusters in wave 1).
 * When the types cannot be read, or the transport cannot be cloned, the
 * lanes run one after the other through r's client (*threads false).
 */
static int setup_lanes(struct cmr_exec__lane *lanes, struct cluster_lane *cls,
                       size_t n, struct cmr_exec__run *r, bool *threads,
                       struct cmr_error *err)
{
	const struct cmr_exec__apply *a = r->a;
	struct cmr_error e = CMR_ERROR_INIT;
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		lanes[i].name = a->plan->clusters.items[i];
		lanes[i].ud = &cls[i];
	}
	if ((error = dup_clients(cls, n, r, threads, &e)) < 0) {
		if (err)
			*err = e;
		return error;
	}
	if (*threads && read_types(lanes, n, r, &e) < 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_WARN, "apply", "", -1,
		                "cannot tell base from compute clusters (%s): "
		                "the clusters are applied one after the other",
		                e.msg);
		*threads = false;
		(void)dup_clients(cls, n, r, threads, &e);
		for (i = 0; i < n; i++)
			lanes[i].wave = 0;
	}
	for (i = 0; i < n; i++) {
		struct cluster_lane *cl = &cls[i];
		struct cmr_clock *clock = r->clock;

		if (*threads) {
			cl->clk.base.now_ms = slice_now;
			cl->clk.base.sleep_ms = slice_sleep;
			cl->clk.base.wall_ms = slice_wall;
			cl->clk.real = r->clock;
			cl->clk.interrupted = a->opt->interrupted;
			clock = &cl->clk.base;
		}
		run_init(&cl->r, a, cl->own ? cl->own : r->c, clock, &cl->rep,
		         lanes[i].name);
	}
	return 0;
}

/*
 * Every cluster of the plan in its lane: independent clusters at the same
 * time, each in a thread with its own client; compute clusters after the
 * base clusters (lanes.c's pool, with cluster_steps as the step).
 */
static int run_lanes(struct cmr_exec__run *r, struct cmr_exec__apply *a,
                     struct cmr_error *err)
{
	struct cmr_exec__pool pool;
	struct announce_ud au = { r, NULL, 0 };
	struct cmr_exec__lane *lanes = NULL;
	struct cluster_lane *cls = NULL;
	struct cmr_error e = CMR_ERROR_INIT;
	size_t n = a->plan->clusters.len;
	size_t i;
	bool threads = true;
	int error;

	lanes = cmr_calloc(n + 1, sizeof(*lanes));
	cls = cmr_calloc(n + 1, sizeof(*cls));
	if (!lanes || !cls) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = setup_lanes(lanes, cls, n, r, &threads, err)) < 0 ||
	    (error = cmr_exec__pool_init(
	             &pool, lane_step, lane_width(a->opt, n), threads,
	             a->opt->interrupted, r->clock, err)) < 0)
		goto done;
	a->pool = &pool;
	au.lanes = lanes;
	au.n = n;
	pool.on_wave = threads ? announce : NULL;
	pool.wave_ud = &au;
	error = cmr_exec__pool_run(&pool, lanes, n, err);
	if (threads)
		report_unstarted(r, lanes, n, &pool);
	if (merge(r, lanes, cls, n, &e) < 0 && error == 0) {
		if (err)
			*err = e;
		error = CMR_ENOMEM;
	}
	a->pool = NULL;
	cmr_exec__pool_release(&pool);
done:
	for (i = 0; cls && i < n; i++)
		cmr_client_free(cls[i].own);
	cmr_free(cls);
	cmr_free(lanes);
	return error;
}

/* One cluster, or none: its steps here, and its report line. */
static int run_alone(struct cmr_exec__run *r, struct cmr_error *err)
{
	const struct cmr_plan *p = r->a->plan;
	struct cmr_exec_report before = *r->rep;
	struct cmr_exec_cluster_report *c = &r->rep->clusters[0];
	int64_t t0 = r->clock->now_ms(r->clock);
	int error = cluster_steps(r, err);

	if (p->clusters.len == 0)
		return error;
	c->cluster = p->clusters.items[0];
	c->state = lane_state(true, error);
	c->writes = r->rep->writes - before.writes;
	c->commands = r->rep->commands - before.commands;
	c->parcel_steps = r->rep->parcel_steps - before.parcel_steps;
	c->restarted = r->rep->restarted - before.restarted;
	c->elapsed_ms = r->clock->now_ms(r->clock) - t0;
	r->rep->nclusters = 1;
	return error;
}

/* ----------------------------------------------------------------------
 * Verify
 */

/*
 * Services the new plan still wants restarted, refreshed or redeployed,
 * less those left stale by choice (deferred, maintenance mode).
 */
static size_t stale_left(const struct cmr_exec__run *r,
                         const struct cmr_plan *again)
{
	size_t i;
	size_t j;
	size_t n = 0;

	for (i = 0; i < again->restarts.len; i++) {
		const struct cmr_restart *rs = again->restarts.items[i];
		size_t cl = strlen(rs->cluster);
		bool pending =
		        rs->action == CMR_ACTION_DEFERRED || rs->maintenance;

		for (j = 0; !pending && j < r->pending.len; j++) {
			const char *k = r->pending.items[j];

			pending = strncmp(k, rs->cluster, cl) == 0 &&
			          k[cl] == '/' &&
			          strcmp(k + cl + 1, rs->service) == 0;
		}
		if (!pending)
			n++;
	}
	return n;
}

static int verify(struct cmr_exec__run *r, struct cmr_error *err)
{
	const struct cmr_exec_options *opt = r->a->opt;
	struct cmr_state *live = NULL;
	struct cmr_params *params = NULL;
	struct cmr_plan *again = NULL;
	struct cmr_plan_summary sum;
	struct cmr_plan_options po;
	int error;

	if (!opt->desired || (opt->flags & CMR_EXEC_NO_VERIFY))
		return 0;
	cmr_exec__remit(r, CMR_EXEC_EV_STEP, "verify", "", -1,
	                "reading live state again");
	memset(&po, 0, sizeof(po));
	if (opt->plan_opt)
		po = *opt->plan_opt;
	/* A secret forced a moment ago cannot be verified without a record:
	 * in the verdict it is a note, not a change left. */
	po.flags &= ~(unsigned)CMR_PLAN_FORCE_SECRETS;
	if ((error = cmr_api_read_live(&live, &params, r->c, opt->desired, NULL,
	                               err)) < 0 ||
	    (error = cmr_plan_build(&again, opt->desired, live, params, &po,
	                            err)) < 0)
		goto done;
	cmr_plan_summarize(&sum, again);
	r->rep->verified = true;
	r->rep->remaining = sum.settings + sum.parcels + stale_left(r, again);
	if (again->refresh_parcel_repos)
		r->rep->remaining++;
	r->rep->converged = r->rep->remaining == 0;
	if (r->rep->converged)
		cmr_exec__remit(r, CMR_EXEC_EV_DONE, "verify", "", -1,
		                "converged: CM holds the desired state%s",
		                sum.deferred || r->rep->deferred
		                        ? " (restarts deferred by choice)"
		                        : "");
	else
		cmr_exec__remit(r, CMR_EXEC_EV_FAIL, "verify", "", -1,
		                "not converged: a new plan still has %zu "
		                "setting%s, %zu parcel change%s and %zu "
		                "service%s to restart, refresh or redeploy",
		                sum.settings, sum.settings == 1 ? "" : "s",
		                sum.parcels, sum.parcels == 1 ? "" : "s",
		                stale_left(r, again),
		                stale_left(r, again) == 1 ? "" : "s");
done:
	cmr_plan_free(again);
	cmr_params_free(params);
	cmr_state_free(live);
	return error;
}

/* ----------------------------------------------------------------------
 * The whole apply
 */

static int check_plan(const struct cmr_plan *p, struct cmr_error *err)
{
	struct cmr_plan_summary s;

	cmr_plan_summarize(&s, p);
	if (s.errors)
		return cmr_error_set(err, CMR_EINVAL,
		                     "the plan has %zu error%s; it cannot be "
		                     "applied",
		                     s.errors, s.errors == 1 ? "" : "s");
	return 0;
}

/* The phases, in order, once the lock is held. */
static int phases(struct cmr_exec__run *r, struct cmr_exec__apply *a,
                  struct cmr_error *err)
{
	int error;

	/* 1. CM settings, then the parcel repositories. */
	if ((error = cmr_exec__write_scopes(r, KINDS_CM, err)) < 0 ||
	    (a->plan->refresh_parcel_repos &&
	     (error = cmr_exec__refresh_parcel_repos(r, err)) < 0))
		return error;
	/* 2. Downloads start early; 3. the other settings meanwhile: the
	 * management service's here, each cluster's in its lane. */
	if ((error = cmr_exec__parcels_start_downloads(r, err)) < 0 ||
	    (error = cmr_exec__write_scopes(r, KINDS_MGMT, err)) < 0)
		return error;
	/* 4. and 5., per cluster, independent clusters at the same time. */
	if (a->plan->clusters.len <= 1)
		return run_alone(r, err);
	return run_lanes(r, a, err);
}

int cmr_exec_apply(struct cmr_exec_report *out, const struct cmr_plan *plan,
                   struct cmr_client *c, const struct cmr_exec_options *opt,
                   struct cmr_error *err)
{
	struct cmr_exec_report rep;
	struct cmr_exec__events ev;
	struct cmr_exec__lock lock;
	struct cmr_exec__apply a;
	struct cmr_exec__run r;
	struct cmr_clock *clock = opt->clock ? opt->clock : cmr_clock_system();
	int64_t t0 = clock->now_ms(clock);
	bool ev_ready = false;
	bool lock_ready = false;
	int error;

	memset(&rep, 0, sizeof(rep));
	memset(&a, 0, sizeof(a));
	a.plan = plan;
	a.opt = opt;
	a.ev = &ev;
	snprintf(a.message, sizeof(a.message), "cmrecon apply, plan %s%s%s",
	         plan->plan_id ? plan->plan_id : "-",
	         opt->change_ref ? ", change " : "",
	         opt->change_ref ? opt->change_ref : "");
	run_init(&r, &a, c, clock, &rep, NULL);
	if ((error = cmr_exec__events_init(&ev, plan, opt, clock, err)) < 0)
		goto done;
	ev_ready = true;
	if ((error = cmr_exec__lock_init(&lock, plan, opt, err)) < 0)
		goto done;
	lock_ready = true;
	if ((error = check_plan(plan, err)) < 0 ||
	    (error = cmr_client_negotiate(c, err)) < 0)
		goto done;
	a.ver = cmr_client_api_version(c);
	cmr_exec__events_open_journal(&ev, opt->journal_path);
	cmr_exec__emit(&ev, CMR_EXEC_EV_STEP, "apply", "", -1,
	               "applying plan %s", plan->plan_id ? plan->plan_id : "-");
	if (!(opt->flags & CMR_EXEC_NO_LOCK)) {
		a.lock = &lock;
		error = cmr_exec__lock_acquire(&lock, &r, err);
		snprintf(rep.lock_id, sizeof(rep.lock_id), "%s", lock.id);
		if (error < 0)
			goto done;
	}
	if ((error = phases(&r, &a, err)) < 0)
		goto done;
	cmr_exec__lock_release(&lock, &r);
	/* 6. Did CM converge? */
	error = verify(&r, err);
done:
	if (error < 0 && error != CMR_ECONFLICT && ev_ready)
		cmr_exec__emit(&ev, CMR_EXEC_EV_FAIL, "apply", "", -1, "%s",
		               err ? err->msg : "failed");
	if (lock_ready) {
		cmr_exec__lock_release(&lock, &r);
		cmr_exec__lock_free(&lock);
	}
	if (ev_ready)
		cmr_exec__events_release(&ev);
	free_pending(&r.pending);
	rep.elapsed_ms = clock->now_ms(clock) - t0;
	if (out)
		*out = rep;
	return error;
}

int cmr_exec_journal_dir(struct cmr_buf *out, struct cmr_error *err)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		cmr_buf_addf(out, "%s/cmrecon", xdg);
	else if (home && *home)
		cmr_buf_addf(out, "%s/.local/state/cmrecon", home);
	else
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "neither XDG_STATE_HOME nor HOME is set");
	return cmr_buf_error(out) < 0
	               ? cmr_error_set(err, CMR_ENOMEM, "out of memory")
	               : 0;
}
