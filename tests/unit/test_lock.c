/*
 * test_lock.c -- the apply lock as an object (lib/exec/lock.c).
 *
 * The lock is tags on every cluster of the plan, "write, then look".
 * These tests drive it through a scripted transport that can be cloned,
 * so that two lanes -- two threads, each with its own client, as in a
 * real apply -- can renew it at the same moment.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/client.h"
#include "cmr/plan.h"
#include "cmr/vec.h"

#include "exec_int.h"
#include "fake_transport.h"
#include "support.h"

#define ANY CMR_FAKE_ANY_WAVE
#define V   "/api/v45"

/* A clock that moves only when slept on or pushed; safe from threads. */
struct tclock {
	struct cmr_clock base;
	atomic_llong now;
};

static int64_t tc_now(struct cmr_clock *c)
{
	return (int64_t)atomic_load(
	        &cmr_container_of(c, struct tclock, base)->now);
}

static void tc_sleep(struct cmr_clock *c, int64_t ms)
{
	atomic_fetch_add(&cmr_container_of(c, struct tclock, base)->now, ms);
}

static int64_t tc_wall(struct cmr_clock *c)
{
	/* 2026-01-01T00:00:00Z + the monotonic time */
	return (int64_t)1767225600000 + tc_now(c);
}

struct fixture {
	struct cmr_fake_transport *fake;
	struct cmr_client *client;
	struct tclock clock;
	struct cmr_plan *plan;
	struct cmr_exec_options opt;
	struct cmr_exec_report rep;
	struct cmr_exec__events ev;
	struct cmr_exec__lock lock;
	struct cmr_exec__apply a;
	struct cmr_exec__run r;
	struct cmr_buf events; /* every event, one per line */
	struct cmr_error err;
};

static void collect(const struct cmr_exec_event *ev, void *ud)
{
	struct cmr_buf *b = ud;

	cmr_buf_addf(b, "%s %s %s: %s\n", cmr_exec_event_name(ev->kind),
	             ev->phase, ev->target, ev->message);
}

static void run_on(struct cmr_exec__run *r, struct fixture *fx,
                   struct cmr_client *c)
{
	memset(r, 0, sizeof(*r));
	r->a = &fx->a;
	r->c = c;
	r->clock = &fx->clock.base;
	r->rep = &fx->rep;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct cmr_client_options copt;

	assert_non_null(fx);
	memset(&copt, 0, sizeof(copt));
	copt.api_version = "v45";
	fx->fake = cmr_fake_transport_new();
	cmr_fake_wave(fx->fake, ANY);
	cmr_fake_transport_allow_clone(fx->fake);
	assert_cmr_ok(cmr_client_new(&fx->client,
	                             cmr_fake_transport_base(fx->fake), &copt,
	                             &fx->err),
	              &fx->err);
	assert_cmr_ok(cmr_client_negotiate(fx->client, &fx->err), &fx->err);
	fx->clock.base.now_ms = tc_now;
	fx->clock.base.sleep_ms = tc_sleep;
	fx->clock.base.wall_ms = tc_wall;
	assert_cmr_ok(cmr_plan_new(&fx->plan, &fx->err), &fx->err);
	fx->plan->plan_id = "p1";
	assert_int_equal(cmr_vec_push(&fx->plan->clusters, "A"), 0);
	assert_int_equal(cmr_vec_push(&fx->plan->clusters, "B"), 0);
	fx->opt.holder = "ci@runner";
	fx->opt.host = "runner";
	fx->opt.lock_ttl_ms = 60000;
	fx->opt.progress = collect;
	fx->opt.progress_ud = &fx->events;
	cmr_buf_init(&fx->events, 0);
	assert_cmr_ok(cmr_exec__events_init(&fx->ev, fx->plan, &fx->opt,
	                                    &fx->clock.base, &fx->err),
	              &fx->err);
	assert_cmr_ok(
	        cmr_exec__lock_init(&fx->lock, fx->plan, &fx->opt, &fx->err),
	        &fx->err);
	fx->a.plan = fx->plan;
	fx->a.opt = &fx->opt;
	fx->a.ver = 45;
	fx->a.ev = &fx->ev;
	fx->a.lock = &fx->lock;
	run_on(&fx->r, fx, fx->client);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct cmr_error err = CMR_ERROR_INIT;

	assert_cmr_ok(cmr_fake_transport_verify(fx->fake, &err), &err);
	cmr_exec__lock_free(&fx->lock);
	cmr_exec__events_release(&fx->ev);
	cmr_buf_release(&fx->events);
	fx->plan->plan_id = NULL;
	cmr_plan_free(fx->plan);
	cmr_client_free(fx->client);
	cmr_fake_transport_free(fx->fake);
	free(fx);
	return 0;
}

static void expect(struct fixture *fx, const char *method, const char *path,
                   const char *match, const char *body)
{
	cmr_fake_expect(fx->fake, method, path, match, 200, body);
}

static size_t count_requests(const struct fixture *fx, const char *method)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i < cmr_fake_transport_requests(fx->fake); i++)
		n += strcmp(cmr_fake_transport_request(fx->fake, i)->method,
		            method) == 0;
	return n;
}

/*
 * The lock is written on every cluster, the tags settle before they are
 * read, an expired rival is ignored, and release deletes the tags.
 */
static void test_lock__taken_on_every_cluster(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_fake_request *put;

	expect(fx, "PUT", V "/clusters/A/tags", "cmrecon.lock.", "[]");
	expect(fx, "PUT", V "/clusters/B/tags", "cmrecon.lock.", "[]");
	expect(fx, "GET", V "/clusters/A/tags?*", NULL,
	       "[{\"name\":\"cmrecon.lock.0001\",\"value\":\"holder=old;"
	       "created=2020-01-01T00:00:00.000Z;"
	       "expires=2020-01-01T00:15:00.000Z\"}]");
	expect(fx, "GET", V "/clusters/B/tags?*", NULL, "[]");
	assert_cmr_ok(cmr_exec__lock_acquire(&fx->lock, &fx->r, &fx->err),
	              &fx->err);
	assert_int_equal(strlen(fx->lock.id), 16);
	assert_true(fx->lock.locked);
	/* it settled: 500 ms, under a quarter of the 60 s lifetime */
	assert_int_equal(tc_now(&fx->clock.base), 500);
	put = cmr_fake_transport_request(fx->fake, 0);
	assert_non_null(strstr(put->body, "holder=ci@runner;host=runner;"
	                                  "plan=p1;created=2026-01-01T00:00:"
	                                  "00.000Z;expires=2026-01-01T00:01:"
	                                  "00.000Z"));
	assert_non_null(strstr(fx->events.ptr, "done lock : lock "));
	assert_non_null(strstr(fx->events.ptr, "taken on 2 clusters"));

	expect(fx, "DELETE", V "/clusters/A/tags", fx->lock.name, "[]");
	expect(fx, "DELETE", V "/clusters/B/tags", fx->lock.name, "[]");
	cmr_exec__lock_release(&fx->lock, &fx->r);
	assert_false(fx->lock.locked);
	/* a second release sends nothing */
	cmr_exec__lock_release(&fx->lock, &fx->r);
	assert_int_equal(count_requests(fx, "DELETE"), 2);
}

/* An earlier, live lock on one cluster wins: the message names its
 * holder and how to break it. */
static void test_lock__held_elsewhere(void **state)
{
	struct fixture *fx = *state;

	expect(fx, "PUT", V "/clusters/A/tags", NULL, "[]");
	expect(fx, "PUT", V "/clusters/B/tags", NULL, "[]");
	expect(fx, "GET", V "/clusters/A/tags?*", NULL, "[]");
	expect(fx, "GET", V "/clusters/B/tags?*", NULL,
	       "[{\"name\":\"cmrecon.lock.beef\",\"value\":\"holder=ops@r7;"
	       "host=r7;plan=x;created=2025-12-31T23:59:00.000Z;"
	       "expires=2999-01-01T00:00:00.000Z\"}]");
	assert_cmr_fails_with(
	        CMR_ECONFLICT,
	        cmr_exec__lock_acquire(&fx->lock, &fx->r, &fx->err), &fx->err);
	assert_non_null(strstr(fx->err.msg, "cluster 'B' is locked by "
	                                    "another apply: ops@r7"));
	assert_non_null(strstr(fx->err.msg, "cmrecon unlock 'B' beef"));
	/* what it wrote is taken back */
	expect(fx, "DELETE", V "/clusters/A/tags", NULL, "[]");
	expect(fx, "DELETE", V "/clusters/B/tags", NULL, "[]");
	cmr_exec__lock_release(&fx->lock, &fx->r);
}

/* Two lanes renew at the same moment, each through its own client: the
 * lock is renewed once (one PUT and one DELETE of the old value per
 * cluster), whichever lane gets there first. */
struct renewer {
	struct fixture *fx;
	struct cmr_client *c;
	struct cmr_exec__run r;
	pthread_barrier_t *go;
};

static void *renew_thread(void *arg)
{
	struct renewer *rn = arg;

	pthread_barrier_wait(rn->go);
	cmr_exec__lock_renew(&rn->fx->lock, &rn->r);
	return NULL;
}

static void test_lock__renewed_once_by_two_lanes(void **state)
{
	struct fixture *fx = *state;
	struct renewer rn[2];
	pthread_t th[2];
	pthread_barrier_t go;
	char old[512];
	size_t i;

	expect(fx, "PUT", V "/clusters/A/tags", NULL, "[]");
	expect(fx, "PUT", V "/clusters/B/tags", NULL, "[]");
	expect(fx, "GET", V "/clusters/A/tags?*", NULL, "[]");
	expect(fx, "GET", V "/clusters/B/tags?*", NULL, "[]");
	assert_cmr_ok(cmr_exec__lock_acquire(&fx->lock, &fx->r, &fx->err),
	              &fx->err);
	snprintf(old, sizeof(old), "%s", fx->lock.value);

	/* not due yet: nothing is sent */
	cmr_exec__lock_renew(&fx->lock, &fx->r);
	assert_int_equal(cmr_fake_transport_requests(fx->fake), 4);

	tc_sleep(&fx->clock.base, 30000); /* past a third of the lifetime */
	expect(fx, "PUT", V "/clusters/A/tags", "2026-01-01T00:01:30.500Z",
	       "[]");
	expect(fx, "PUT", V "/clusters/B/tags", "2026-01-01T00:01:30.500Z",
	       "[]");
	expect(fx, "DELETE", V "/clusters/A/tags", old, "[]");
	expect(fx, "DELETE", V "/clusters/B/tags", old, "[]");
	assert_int_equal(pthread_barrier_init(&go, NULL, 2), 0);
	for (i = 0; i < 2; i++) {
		rn[i].fx = fx;
		rn[i].go = &go;
		assert_cmr_ok(cmr_client_dup(&rn[i].c, fx->client, &fx->err),
		              &fx->err);
		run_on(&rn[i].r, fx, rn[i].c);
		assert_int_equal(
		        pthread_create(&th[i], NULL, renew_thread, &rn[i]), 0);
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		cmr_client_free(rn[i].c);
	}
	pthread_barrier_destroy(&go);
	assert_int_equal(cmr_fake_transport_clones(fx->fake), 2);
	assert_int_equal(count_requests(fx, "PUT"), 4);
	assert_int_equal(count_requests(fx, "DELETE"), 2);

	expect(fx, "DELETE", V "/clusters/A/tags", NULL, "[]");
	expect(fx, "DELETE", V "/clusters/B/tags", NULL, "[]");
	cmr_exec__lock_release(&fx->lock, &fx->r);
}

/* A tag that cannot be deleted is a warning that says what to run. */
static void test_lock__release_failure_is_reported(void **state)
{
	struct fixture *fx = *state;

	expect(fx, "PUT", V "/clusters/A/tags", NULL, "[]");
	expect(fx, "PUT", V "/clusters/B/tags", NULL, "[]");
	expect(fx, "GET", V "/clusters/A/tags?*", NULL, "[]");
	expect(fx, "GET", V "/clusters/B/tags?*", NULL, "[]");
	assert_cmr_ok(cmr_exec__lock_acquire(&fx->lock, &fx->r, &fx->err),
	              &fx->err);
	expect(fx, "DELETE", V "/clusters/A/tags", NULL, "[]");
	cmr_fake_expect(fx->fake, "DELETE", V "/clusters/B/tags", NULL, 500,
	                "{\"message\":\"database is gone\"}");
	cmr_exec__lock_release(&fx->lock, &fx->r);
	assert_non_null(strstr(fx->events.ptr, "warning lock B: could not "
	                                       "release lock "));
	assert_non_null(strstr(fx->events.ptr, "database is gone"));
	assert_non_null(strstr(fx->events.ptr, "run `cmrecon unlock`"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_lock__taken_on_every_cluster),
		T(test_lock__held_elsewhere),
		T(test_lock__renewed_once_by_two_lanes),
		T(test_lock__release_failure_is_reported),
#undef T
	};

	return cmocka_run_group_tests_name("lock", tests, NULL, NULL);
}
