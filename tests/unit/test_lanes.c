/*
 * test_lanes.c -- the executor's generic pool (lib/exec/lanes.c).
 *
 * The pool knows nothing of CM: these tests give it step functions that
 * record when they ran, and check the pool's promises -- waves in order,
 * at most `width` lanes at a time, the first failure stops the rest,
 * Ctrl-C stops workers taking lanes, and a pool without threads runs
 * everything in the caller's thread.  The steps wait on each other with a
 * condition variable (never a sleep) to make the overlaps deterministic.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmr/clock.h"

#include "exec_int.h"
#include "support.h"

/* What the steps of one test share. */
struct rec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned seq; /* events so far */
	unsigned start[8], end[8];
	unsigned running, max_running, started;
	size_t n;
	pthread_t thread[8];
	unsigned waves_seen[4];
	size_t nwaves;
	atomic_int interrupted;
	int fail_index; /* -1: none fails */
	bool b_started;
};

static void rec_init(struct rec *r, size_t n)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->n = n;
	r->fail_index = -1;
}

static void rec_release(struct rec *r)
{
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
}

/* Waits on the condition until pred(r) holds, at most 5 s (a broken pool
 * then fails the test instead of hanging it). */
static void wait_for(struct rec *r, bool (*pred)(const struct rec *))
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	while (!pred(r))
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0)
			break;
}

static size_t index_of(const struct rec *r, const struct cmr_exec__lane *l,
                       const struct cmr_exec__lane *lanes)
{
	(void)r;
	return (size_t)(l - lanes);
}

static struct cmr_exec__lane *g_lanes; /* the test's lanes, for index_of */

static void on_wave(unsigned wave, void *ud)
{
	struct rec *r = ud;

	r->waves_seen[r->nwaves++] = wave;
}

static bool pair_running(const struct rec *r)
{
	return r->running >= 2 || r->started == r->n;
}

/* Records start/end and how many ran at once; pairs up with another. */
static int step_pair(struct cmr_exec__lane *l, struct cmr_exec__pool *p,
                     struct cmr_error *err)
{
	struct rec *r = l->ud;
	size_t i = index_of(r, l, g_lanes);

	(void)p;
	(void)err;
	pthread_mutex_lock(&r->mu);
	r->start[i] = ++r->seq;
	r->thread[i] = pthread_self();
	r->running++;
	r->started++;
	if (r->running > r->max_running)
		r->max_running = r->running;
	pthread_cond_broadcast(&r->cv);
	wait_for(r, pair_running);
	r->running--;
	r->end[i] = ++r->seq;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	return 0;
}

static void lanes_for(struct cmr_exec__lane *lanes, size_t n, struct rec *r,
                      const unsigned *waves)
{
	static const char *const names[] = { "A", "B", "C", "D",
		                             "E", "F", "G", "H" };
	size_t i;

	memset(lanes, 0, n * sizeof(*lanes));
	for (i = 0; i < n; i++) {
		lanes[i].name = names[i];
		lanes[i].wave = waves ? waves[i] : 0;
		lanes[i].ud = r;
	}
	g_lanes = lanes;
}

/* Wave 1 starts only after every lane of wave 0 ended; both waves are
 * announced, in order. */
static void test_lanes__waves_run_in_order(void **state)
{
	static const unsigned waves[] = { 0, 1, 0, 1, 0 };
	struct cmr_exec__lane lanes[5];
	struct cmr_exec__pool pool;
	struct cmr_error err = CMR_ERROR_INIT;
	struct rec r;
	unsigned last0 = 0;
	unsigned first1 = 1000;
	size_t i;

	(void)state;
	rec_init(&r, 5);
	lanes_for(lanes, 5, &r, waves);
	assert_cmr_ok(cmr_exec__pool_init(&pool, step_pair, 8, true, NULL,
	                                  cmr_clock_system(), &err),
	              &err);
	pool.on_wave = on_wave;
	pool.wave_ud = &r;
	assert_cmr_ok(cmr_exec__pool_run(&pool, lanes, 5, &err), &err);
	for (i = 0; i < 5; i++) {
		assert_true(lanes[i].ran);
		assert_int_equal(lanes[i].error, 0);
		if (waves[i] == 0 && r.end[i] > last0)
			last0 = r.end[i];
		if (waves[i] == 1 && r.start[i] < first1)
			first1 = r.start[i];
	}
	assert_true(last0 < first1);
	assert_int_equal(r.nwaves, 2);
	assert_int_equal(r.waves_seen[0], 0);
	assert_int_equal(r.waves_seen[1], 1);
	cmr_exec__pool_release(&pool);
	rec_release(&r);
}

/* With width 2, six lanes run two at a time: never more, and pairs do
 * overlap (each lane waits for a partner). */
static void test_lanes__width_bounds_the_overlap(void **state)
{
	struct cmr_exec__lane lanes[6];
	struct cmr_exec__pool pool;
	struct cmr_error err = CMR_ERROR_INIT;
	struct rec r;

	(void)state;
	rec_init(&r, 6);
	lanes_for(lanes, 6, &r, NULL);
	assert_cmr_ok(cmr_exec__pool_init(&pool, step_pair, 2, true, NULL,
	                                  cmr_clock_system(), &err),
	              &err);
	assert_cmr_ok(cmr_exec__pool_run(&pool, lanes, 6, &err), &err);
	assert_int_equal(r.max_running, 2);
	assert_int_equal(r.started, 6);
	cmr_exec__pool_release(&pool);
	rec_release(&r);
}

static bool b_started(const struct rec *r)
{
	return r->b_started;
}

/*
 * A fails once B runs; B, between two of its steps, sees the pool stopped
 * and ends with CMR_EINTR -- which is not a failure of its own; C and D
 * are never started; the pool's result is A's error.
 */
static int step_fail(struct cmr_exec__lane *l, struct cmr_exec__pool *p,
                     struct cmr_error *err)
{
	struct rec *r = l->ud;
	struct timespec tick = { 0, 1000000 };
	int n;

	pthread_mutex_lock(&r->mu);
	if (strcmp(l->name, "A") == 0) {
		wait_for(r, b_started);
		pthread_mutex_unlock(&r->mu);
		return cmr_error_set(err, CMR_EAPI, "A: CM said no");
	}
	r->b_started = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	/* B's "steps": it checks between them, as a lane does. */
	for (n = 0; n < 5000; n++) {
		if (cmr_exec__pool_stopped(p, l->name, err))
			return CMR_EINTR;
		nanosleep(&tick, NULL);
	}
	return 0;
}

static void test_lanes__first_failure_stops_the_rest(void **state)
{
	struct cmr_exec__lane lanes[4];
	struct cmr_exec__pool pool;
	struct cmr_error err = CMR_ERROR_INIT;
	struct rec r;

	(void)state;
	rec_init(&r, 4);
	lanes_for(lanes, 4, &r, NULL);
	assert_cmr_ok(cmr_exec__pool_init(&pool, step_fail, 2, true, NULL,
	                                  cmr_clock_system(), &err),
	              &err);
	assert_cmr_fails_with(CMR_EAPI,
	                      cmr_exec__pool_run(&pool, lanes, 4, &err), &err);
	assert_string_equal(err.msg, "A: CM said no");
	assert_string_equal(pool.failed_name, "A");
	assert_true(lanes[0].ran && lanes[1].ran);
	assert_int_equal(lanes[1].error, CMR_EINTR);
	assert_non_null(strstr(lanes[1].err.msg, "cluster 'A' failed"));
	assert_false(lanes[2].ran);
	assert_false(lanes[3].ran);
	/* the failed lane itself is not told that it stopped */
	assert_false(cmr_exec__pool_stopped(&pool, "A", NULL));
	assert_true(cmr_exec__pool_stopped(&pool, "C", NULL));
	cmr_exec__pool_release(&pool);
	rec_release(&r);
}

/* Runs in order in the calling thread; the second fails. */
static int step_in_turn(struct cmr_exec__lane *l, struct cmr_exec__pool *p,
                        struct cmr_error *err)
{
	struct rec *r = l->ud;
	size_t i = index_of(r, l, g_lanes);

	(void)p;
	r->start[i] = ++r->seq;
	r->thread[i] = pthread_self();
	if (i == 1)
		return cmr_error_set(err, CMR_ETIMEOUT, "B timed out");
	return 0;
}

static void test_lanes__without_threads_in_turn(void **state)
{
	struct cmr_exec__lane lanes[3];
	struct cmr_exec__pool pool;
	struct cmr_error err = CMR_ERROR_INIT;
	struct rec r;

	(void)state;
	rec_init(&r, 3);
	lanes_for(lanes, 3, &r, NULL);
	assert_cmr_ok(cmr_exec__pool_init(&pool, step_in_turn, 8, false, NULL,
	                                  cmr_clock_system(), &err),
	              &err);
	assert_cmr_fails_with(CMR_ETIMEOUT,
	                      cmr_exec__pool_run(&pool, lanes, 3, &err), &err);
	assert_int_equal(r.start[0], 1);
	assert_int_equal(r.start[1], 2);
	assert_true(pthread_equal(r.thread[0], pthread_self()));
	assert_true(pthread_equal(r.thread[1], pthread_self()));
	assert_false(lanes[2].ran);
	cmr_exec__pool_release(&pool);
	rec_release(&r);
}

/* Ctrl-C during the first lane: no worker takes another. */
static int step_interrupt(struct cmr_exec__lane *l, struct cmr_exec__pool *p,
                          struct cmr_error *err)
{
	struct rec *r = l->ud;

	(void)p;
	(void)err;
	r->started++;
	atomic_store(&r->interrupted, 1);
	return 0;
}

static void test_lanes__interrupt_stops_taking_lanes(void **state)
{
	static const unsigned waves[] = { 0, 0, 1 };
	struct cmr_exec__lane lanes[3];
	struct cmr_exec__pool pool;
	struct cmr_error err = CMR_ERROR_INIT;
	struct rec r;

	(void)state;
	rec_init(&r, 3);
	lanes_for(lanes, 3, &r, waves);
	assert_cmr_ok(cmr_exec__pool_init(&pool, step_interrupt, 1, true,
	                                  &r.interrupted, cmr_clock_system(),
	                                  &err),
	              &err);
	assert_cmr_ok(cmr_exec__pool_run(&pool, lanes, 3, &err), &err);
	assert_int_equal(r.started, 1);
	assert_true(lanes[0].ran);
	assert_false(lanes[1].ran);
	assert_false(lanes[2].ran);
	cmr_exec__pool_release(&pool);
	rec_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lanes__waves_run_in_order),
		cmocka_unit_test(test_lanes__width_bounds_the_overlap),
		cmocka_unit_test(test_lanes__first_failure_stops_the_rest),
		cmocka_unit_test(test_lanes__without_threads_in_turn),
		cmocka_unit_test(test_lanes__interrupt_stops_taking_lanes),
	};

	return cmocka_run_group_tests_name("lanes", tests, NULL, NULL);
}
