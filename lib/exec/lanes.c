/*
 * lanes.c -- independent clusters at the same time.
 *
 * After the CM-level steps (CM and management service settings, the
 * parcel repositories, the start of every download), each cluster of the
 * plan gets a lane: its service and role config group settings, its
 * parcel stages, its refreshes, client configurations and restarts
 * (run_cluster_steps in exec.c).  Clusters share nothing in CM that these
 * steps touch, so their lanes run at the same time, one thread each, and
 * an apply over three clusters whose restarts take 20 minutes each takes
 * 20 minutes, not an hour.  Inside a lane everything stays in order: one
 * service at a time, in dependency order, health-gated.
 *
 * A client is not thread-safe, so each lane talks to CM through its own
 * (cmr_client_dup: same server and credentials, own connections).  What
 * lanes share -- the progress callback, the journal, the lock -- is used
 * under one mutex (lanes_lock).  A lane's waits sleep in short slices so
 * that Ctrl-C, which may be delivered to any thread, is noticed at once.
 *
 * Compute clusters (clusterType COMPUTE_CLUSTER, Virtual Private Clusters)
 * run their services on a base cluster's data (HDFS, Hive metastore ...):
 * they are not independent of it, so their lanes start only after every
 * base cluster's lane has finished.  When the types cannot be read, or the
 * transport cannot be cloned (the unit tests' scripted fake), the lanes
 * run one after the other in the calling thread, as safe as before.
 *
 * When a lane fails, the others start no new step: each finishes the
 * command or wait it is in (never leaving a restart half-watched), then
 * stops, and the apply reports the first failure.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmr/alloc.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/vec.h"

#include "exec_int.h"

/* A lane's sleeps are cut into slices this long to notice Ctrl-C. */
#define LANE_SLICE_MS 100

/* The lane's clock: the apply's, with sleeps that end on Ctrl-C. */
struct lane_clock {
	struct cmr_clock base; /* first: cmr_container_of */
	struct cmr_clock *real;
	atomic_int *interrupted;
};

struct lane {
	struct run r;
	struct cmr_exec_report rep;
	struct cmr_client *own; /* this lane's client, or NULL */
	struct lane_clock clk;
	struct cmr_error err;
	int error;
	bool compute;
	bool ran;       /* a worker took it */
	int64_t t0, t1; /* when it started and ended */
};

/*
 * The workers of one group (base or compute clusters): at most
 * opt->max_lanes threads, each taking the next lane of the group until
 * none is left, a lane failed, or the user interrupted.
 */
struct pool {
	struct lane *lanes;
	size_t n;
	bool compute;
	size_t next; /* under sh->mu */
	struct lane_shared *sh;
	atomic_int *interrupted;
};

void lanes_lock(struct run *r)
{
	if (r->sh)
		pthread_mutex_lock(&r->sh->mu);
}

void lanes_unlock(struct run *r)
{
	if (r->sh)
		pthread_mutex_unlock(&r->sh->mu);
}

bool lanes_sibling_failed(struct run *r, struct cmr_error *err)
{
	char who[256] = "";
	bool failed;

	if (!r->sh)
		return false;
	pthread_mutex_lock(&r->sh->mu);
	failed = r->sh->failed && (!r->cluster || strcmp(r->sh->failed_cluster,
	                                                 r->cluster) != 0);
	if (failed)
		snprintf(who, sizeof(who), "%s", r->sh->failed_cluster);
	pthread_mutex_unlock(&r->sh->mu);
	if (failed)
		cmr_error_set(err, CMR_EINTR,
		              "cluster '%s' failed, so no new step was started "
		              "on cluster '%s'",
		              who, r->cluster ? r->cluster : "-");
	return failed;
}

static int64_t lane_now(struct cmr_clock *c)
{
	struct lane_clock *lc = cmr_container_of(c, struct lane_clock, base);

	return lc->real->now_ms(lc->real);
}

static int64_t lane_wall(struct cmr_clock *c)
{
	struct lane_clock *lc = cmr_container_of(c, struct lane_clock, base);

	return lc->real->wall_ms(lc->real);
}

static void lane_sleep(struct cmr_clock *c, int64_t ms)
{
	struct lane_clock *lc = cmr_container_of(c, struct lane_clock, base);

	while (ms > 0 && !(lc->interrupted && *lc->interrupted)) {
		int64_t d = ms < LANE_SLICE_MS ? ms : LANE_SLICE_MS;

		lc->real->sleep_ms(lc->real, d);
		ms -= d;
	}
}

static void copy_err(struct cmr_error *to, const struct cmr_error *from)
{
	if (to)
		*to = *from;
}

/* Records the first failure of any lane; the others then stop. */
static void note_failure(struct lane *l)
{
	struct lane_shared *sh = l->r.sh;

	if (!sh)
		return;
	pthread_mutex_lock(&sh->mu);
	if (!sh->failed) {
		sh->failed = true;
		snprintf(sh->failed_cluster, sizeof(sh->failed_cluster), "%s",
		         l->r.cluster);
		sh->first = l->err;
	}
	pthread_mutex_unlock(&sh->mu);
}

static void lane_run(struct lane *l)
{
	l->ran = true;
	l->t0 = l->r.clock->now_ms(l->r.clock);
	l->error = run_cluster_steps(&l->r, &l->err);
	l->t1 = l->r.clock->now_ms(l->r.clock);
	if (l->error >= 0)
		return;
	if (l->error == CMR_EINTR && lanes_sibling_failed(&l->r, NULL)) {
		run_emit(&l->r, CMR_EXEC_EV_WARN, "apply", l->r.cluster, -1,
		         "%s", l->err.msg);
		return;
	}
	note_failure(l);
}

/* The next lane for a worker, or NULL when it should stop. */
static struct lane *pool_take(struct pool *p)
{
	struct lane *l = NULL;

	pthread_mutex_lock(&p->sh->mu);
	while (p->next < p->n && p->lanes[p->next].compute != p->compute)
		p->next++;
	if (p->next < p->n && !p->sh->failed &&
	    !(p->interrupted && *p->interrupted)) {
		l = &p->lanes[p->next++];
		l->ran = true;
	}
	pthread_mutex_unlock(&p->sh->mu);
	return l;
}

static void *pool_worker(void *arg)
{
	struct lane *l;

	while ((l = pool_take(arg)) != NULL)
		lane_run(l);
	return NULL;
}

/* A lane over `cluster`, a copy of the apply's run with its own report,
 * client (NULL: the apply's) and pending list. */
static void lane_init(struct lane *l, const struct run *r, const char *cluster,
                      struct lane_shared *sh)
{
	l->r = *r;
	memset(&l->rep, 0, sizeof(l->rep));
	memset(&l->r.pending, 0, sizeof(l->r.pending));
	l->r.rep = &l->rep;
	l->r.cluster = cluster;
	l->r.sh = sh;
	l->r.c = l->own ? l->own : r->c;
	l->r.w.client = l->r.c;
	l->r.w.tick_ud = &l->r;
	l->r.w.polls = 0;
	l->r.w.transport_errors = 0;
	if (sh) {
		l->clk.base.now_ms = lane_now;
		l->clk.base.sleep_ms = lane_sleep;
		l->clk.base.wall_ms = lane_wall;
		l->clk.real = r->clock;
		l->clk.interrupted = r->opt->interrupted;
		l->r.clock = &l->clk.base;
		l->r.w.clock = &l->clk.base;
	}
	cmr_error_clear(&l->err);
	l->error = 0;
}

/*
 * Reads every cluster's type in one wave.  Returns 0, or the error of a
 * cluster that could not be read (the caller then runs the lanes one
 * after the other).
 */
static int read_types(struct lane *lanes, size_t n, struct run *r,
                      struct cmr_error *err)
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
		if (cmr_api_build_cluster(&urls[i], r->ver,
		                          lanes[i].r.cluster) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
		req[i].method = "GET";
		req[i].url = urls[i].ptr;
	}
	(void)cmr_client_send_all(r->c, req, resp, n, NULL);
	for (i = 0; i < n && error == 0; i++) {
		error = cmr_api_check_answer(&req[i], &resp[i], err);
		if (error == 0)
			error = cmr_api_decode_cluster_type(
			        &lanes[i].compute, urls[i].ptr,
			        resp[i].body.ptr, resp[i].body.len, err);
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

/* Starts the lanes whose type is `compute`, then waits for them. */
/*
 * Runs the group's lanes on at most `width` workers (threads; the calling
 * thread when none can be had).  Returns the error of a failed lane, or
 * 0.
 */
static int run_group(struct lane *lanes, size_t n, bool compute, size_t width,
                     struct lane_shared *sh, atomic_int *interrupted)
{
	pthread_t workers[CMR_EXEC_MAX_LANES];
	struct pool p;
	size_t i;
	size_t started = 0;
	int error = 0;

	memset(&p, 0, sizeof(p));
	p.lanes = lanes;
	p.n = n;
	p.compute = compute;
	p.sh = sh;
	p.interrupted = interrupted;
	if (width > CMR_EXEC_MAX_LANES)
		width = CMR_EXEC_MAX_LANES;
	for (i = 0; i < width; i++) {
		if (pthread_create(&workers[started], NULL, pool_worker, &p) !=
		    0)
			break;
		started++;
	}
	if (started == 0)
		(void)pool_worker(&p); /* no thread to be had: here */
	for (i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	for (i = 0; i < n; i++)
		if (lanes[i].compute == compute && lanes[i].error < 0)
			error = lanes[i].error;
	return error;
}

/* Names the lanes of a group for the progress line. */
static void group_names(struct cmr_buf *out, const struct lane *lanes, size_t n,
                        bool compute)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lanes[i].compute != compute)
			continue;
		cmr_buf_adds(out, out->len ? ", " : "");
		cmr_buf_adds(out, lanes[i].r.cluster);
	}
}

/* Adds the lanes' reports and pending services to the apply's. */
static int merge(struct run *r, struct lane *lanes, size_t n,
                 struct cmr_error *err)
{
	size_t i;
	size_t j;
	int error = 0;

	for (i = 0; i < n; i++) {
		struct lane *l = &lanes[i];

		report_add(r->rep, &l->rep);
		r->w.polls += l->r.w.polls;
		r->w.transport_errors += l->r.w.transport_errors;
		for (j = 0; j < l->r.pending.len; j++) {
			if (error == 0 &&
			    cmr_vec_push(&r->pending, l->r.pending.items[j]) ==
			            0)
				continue;
			cmr_free(l->r.pending.items[j]);
			if (error == 0)
				error = cmr_error_set(err, CMR_ENOMEM,
				                      "out of memory");
		}
		cmr_vec_release(&l->r.pending);
	}
	return error;
}

/* Runs the lanes one after the other in this thread, through r's client. */
static int run_in_turn(struct run *r, struct lane *lanes, size_t n,
                       struct cmr_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		lane_init(&lanes[i], r, r->plan->clusters.items[i], NULL);
		lane_run(&lanes[i]);
		if (lanes[i].error < 0) {
			copy_err(err, &lanes[i].err);
			return lanes[i].error;
		}
	}
	return 0;
}

/*
 * A client per lane.  CMR_ENOTSUP: this transport cannot be cloned and
 * stays alone; *threads is then cleared.  Any other failure is returned,
 * its message in *e.
 */
static int dup_clients(struct lane *lanes, size_t n, const struct run *r,
                       bool *threads, struct cmr_error *e)
{
	size_t i;
	int error;

	for (i = 0; i < n && *threads; i++) {
		error = cmr_client_dup(&lanes[i].own, r->c, e);
		if (error == CMR_ENOTSUP)
			*threads = false;
		else if (error < 0)
			return error;
	}
	return 0;
}

/* Frees the lanes' own clients: they run through r's. */
static void drop_clients(struct lane *lanes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cmr_client_free(lanes[i].own);
		lanes[i].own = NULL;
	}
}

/* How many workers a group of `count` lanes gets. */
static size_t group_width(const struct run *r, size_t count)
{
	size_t max =
	        r->opt->max_lanes ? r->opt->max_lanes : CMR_EXEC_DEFAULT_LANES;

	if (max > CMR_EXEC_MAX_LANES)
		max = CMR_EXEC_MAX_LANES;
	return count < max ? count : max;
}

/* Says which clusters of a group run, and how many at a time. */
static void announce(struct run *r, const struct lane *lanes, size_t n,
                     bool compute, size_t count, size_t width)
{
	struct cmr_buf names = CMR_BUF_INIT;
	const char *list;
	char how[96];

	group_names(&names, lanes, n, compute);
	list = cmr_buf_error(&names) ? "" : names.ptr;
	if (width >= count)
		snprintf(how, sizeof(how), "at the same time");
	else if (width == 1)
		snprintf(how, sizeof(how), "one at a time (--parallel 1)");
	else
		snprintf(how, sizeof(how), "%zu at a time (--parallel %zu)",
		         width, width);
	if (count == 1)
		run_emit(r, CMR_EXEC_EV_STEP, "apply", "", -1,
		         "%s cluster %s%s", compute ? "compute" : "base", list,
		         compute ? ", after the base clusters"
		                 : ", before the compute clusters");
	else
		run_emit(r, CMR_EXEC_EV_STEP, "apply", "", -1,
		         "%zu %sclusters %s%s: %s", count,
		         compute ? "compute " : "", how,
		         compute ? ", after the base clusters" : "", list);
	cmr_buf_release(&names);
}

/* Names the lanes no worker took: a lane failed, or Ctrl-C. */
static void report_unstarted(struct run *r, const struct lane *lanes, size_t n,
                             const struct lane_shared *sh)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lanes[i].ran)
			continue;
		if (sh->failed && sh->first.code != CMR_EINTR)
			run_emit(r, CMR_EXEC_EV_WARN, "apply",
			         lanes[i].r.cluster, -1,
			         "not started: cluster '%s' failed, so no step "
			         "was started on cluster '%s'",
			         sh->failed_cluster, lanes[i].r.cluster);
		else
			run_emit(r, CMR_EXEC_EV_WARN, "apply",
			         lanes[i].r.cluster, -1,
			         "not started: interrupted");
	}
}

/*
 * Runs the lanes in threads sharing sh (its mutex initialised): the base
 * clusters', then the compute clusters', each group on at most
 * --parallel workers.  The first failure of any lane is the result.
 */
static int run_threads(struct run *r, struct lane *lanes, size_t n,
                       struct lane_shared *sh, struct cmr_error *err)
{
	size_t i;
	size_t ncompute = 0;
	size_t nbase;
	int error = 0;

	for (i = 0; i < n; i++) {
		lane_init(&lanes[i], r, r->plan->clusters.items[i], sh);
		ncompute += lanes[i].compute;
	}
	nbase = n - ncompute;
	if (nbase > 0) {
		announce(r, lanes, n, false, nbase, group_width(r, nbase));
		error = run_group(lanes, n, false, group_width(r, nbase), sh,
		                  r->opt->interrupted);
	}
	if (error == 0 && !sh->failed && ncompute > 0 &&
	    !(r->opt->interrupted && *r->opt->interrupted)) {
		announce(r, lanes, n, true, ncompute, group_width(r, ncompute));
		error = run_group(lanes, n, true, group_width(r, ncompute), sh,
		                  r->opt->interrupted);
	}
	report_unstarted(r, lanes, n, sh);
	if (sh->failed) {
		copy_err(err, &sh->first);
		error = sh->first.code;
	}
	return error;
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

static enum cmr_lane_state lane_state(bool ran, int error)
{
	if (!ran)
		return CMR_LANE_NOT_STARTED;
	if (error >= 0)
		return CMR_LANE_DONE;
	return error == CMR_EINTR ? CMR_LANE_STOPPED : CMR_LANE_FAILED;
}

/* The report's line for each lane. */
static void report_lanes(struct cmr_exec_report *rep, const struct lane *lanes,
                         size_t n)
{
	size_t i;

	for (i = 0; i < n && i < CMR_EXEC_MAX_LANES; i++) {
		struct cmr_exec_cluster_report *c = &rep->clusters[i];
		const struct lane *l = &lanes[i];

		c->cluster = l->r.cluster;
		c->state = lane_state(l->ran, l->error);
		c->writes = l->rep.writes;
		c->commands = l->rep.commands;
		c->parcel_steps = l->rep.parcel_steps;
		c->restarted = l->rep.restarted;
		c->elapsed_ms = l->ran ? l->t1 - l->t0 : 0;
	}
	rep->nclusters = i;
}

/* One cluster, or none: its steps here, and its report line. */
static int run_alone(struct run *r, struct cmr_error *err)
{
	struct cmr_exec_report before = *r->rep;
	struct cmr_exec_cluster_report *c = &r->rep->clusters[0];
	int64_t t0 = r->clock->now_ms(r->clock);
	int error = run_cluster_steps(r, err);

	if (r->plan->clusters.len == 0)
		return error;
	c->cluster = r->plan->clusters.items[0];
	c->state = lane_state(true, error);
	c->writes = r->rep->writes - before.writes;
	c->commands = r->rep->commands - before.commands;
	c->parcel_steps = r->rep->parcel_steps - before.parcel_steps;
	c->restarted = r->rep->restarted - before.restarted;
	c->elapsed_ms = r->clock->now_ms(r->clock) - t0;
	r->rep->nclusters = 1;
	return error;
}

int lanes_run(struct run *r, struct cmr_error *err)
{
	struct lane_shared sh;
	struct lane *lanes = NULL;
	struct cmr_error e = CMR_ERROR_INIT;
	size_t n = r->plan->clusters.len;
	size_t i;
	bool threads = true;
	int error;

	if (n <= 1)
		return run_alone(r, err);
	memset(&sh, 0, sizeof(sh));
	lanes = cmr_calloc(n, sizeof(*lanes));
	if (!lanes)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	for (i = 0; i < n; i++)
		lanes[i].r.cluster = r->plan->clusters.items[i];
	if ((error = dup_clients(lanes, n, r, &threads, &e)) < 0) {
		copy_err(err, &e);
		goto done;
	}
	if (threads && read_types(lanes, n, r, &e) < 0) {
		run_emit(r, CMR_EXEC_EV_WARN, "apply", "", -1,
		         "cannot tell base from compute clusters (%s): the "
		         "clusters are applied one after the other",
		         e.msg);
		threads = false;
	}
	if (!threads) {
		drop_clients(lanes, n);
		error = run_in_turn(r, lanes, n, err);
	} else if (pthread_mutex_init(&sh.mu, NULL) != 0) {
		error = cmr_error_set(err, CMR_ENOMEM,
		                      "cannot make a mutex for the lanes");
		goto done;
	} else {
		error = run_threads(r, lanes, n, &sh, err);
		pthread_mutex_destroy(&sh.mu);
		for (i = 0; i < n; i++)
			lanes[i].r.sh = NULL;
	}
	report_lanes(r->rep, lanes, n);
	cmr_error_clear(&e); /* (it may hold read_types' message) */
	if (merge(r, lanes, n, &e) < 0 && error == 0) {
		copy_err(err, &e);
		error = CMR_ENOMEM;
	}
done:
	for (i = 0; lanes && i < n; i++)
		cmr_client_free(lanes[i].own);
	cmr_free(lanes);
	return error;
}
