/*
 * lanes.c -- a pool that runs lanes of work at the same time.
 *
 * An apply over three clusters whose restarts take 20 minutes each should
 * take 20 minutes, not an hour: each cluster is a lane, and lanes run in
 * threads.  This file knows nothing of clusters or CM: it gets lanes, a
 * step function to run for each, and how many may run at once.
 *
 *   - Lanes come in waves run in order (wave 0, then wave 1): apply puts
 *     compute clusters, which use a base cluster's data, in wave 1.
 *   - At most `width` workers per wave; each takes the next lane of the
 *     wave until none is left.  A pool without threads (or when none can
 *     be had) runs the lanes in the calling thread, one after the other.
 *   - The first failure stops the pool: no worker takes another lane,
 *     and running lanes see it through cmr_exec__pool_stopped between
 *     their steps (each finishes the command or wait it is in).  A lane
 *     that then stops with CMR_EINTR is not a failure of its own.
 *   - Ctrl-C (the interrupted flag) also stops workers taking lanes.
 */
#include <stdio.h>
#include <string.h>

#include "exec_int.h"

int cmr_exec__pool_init(struct cmr_exec__pool *p, cmr_exec__lane_fn *fn,
                        size_t width, bool threads, atomic_int *interrupted,
                        struct cmr_clock *clock, struct cmr_error *err)
{
	memset(p, 0, sizeof(*p));
	p->fn = fn;
	p->width = width == 0                   ? 1
	           : width > CMR_EXEC_MAX_LANES ? CMR_EXEC_MAX_LANES
	                                        : width;
	p->threads = threads;
	p->interrupted = interrupted;
	p->clock = clock;
	cmr_error_clear(&p->first);
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return cmr_error_set(err, CMR_ENOMEM,
		                     "cannot make a mutex for the lanes");
	return 0;
}

void cmr_exec__pool_release(struct cmr_exec__pool *p)
{
	pthread_mutex_destroy(&p->mu);
}

bool cmr_exec__pool_stopped(struct cmr_exec__pool *p, const char *self,
                            struct cmr_error *err)
{
	char who[256] = "";
	bool failed;

	if (!p)
		return false;
	pthread_mutex_lock(&p->mu);
	failed = p->failed && (!self || strcmp(p->failed_name, self) != 0);
	if (failed)
		snprintf(who, sizeof(who), "%s", p->failed_name);
	pthread_mutex_unlock(&p->mu);
	if (failed)
		cmr_error_set(err, CMR_EINTR,
		              "cluster '%s' failed, so no new step was started "
		              "on cluster '%s'",
		              who, self ? self : "-");
	return failed;
}

static bool interrupted(const struct cmr_exec__pool *p)
{
	return p->interrupted && *p->interrupted;
}

/* Records the first failure of any lane; the others then stop. */
static void note_failure(struct cmr_exec__pool *p,
                         const struct cmr_exec__lane *l)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		p->failed = true;
		snprintf(p->failed_name, sizeof(p->failed_name), "%s",
		         l->name ? l->name : "");
		p->first = l->err;
	}
	pthread_mutex_unlock(&p->mu);
}

static void lane_run(struct cmr_exec__pool *p, struct cmr_exec__lane *l)
{
	l->t0 = p->clock->now_ms(p->clock);
	l->error = p->fn(l, p, &l->err);
	l->t1 = p->clock->now_ms(p->clock);
	if (l->error >= 0)
		return;
	/* Stopped because another lane failed: not a failure of its own. */
	if (l->error == CMR_EINTR && cmr_exec__pool_stopped(p, l->name, NULL))
		return;
	note_failure(p, l);
}

/* The work of one wave's workers. */
struct wave {
	struct cmr_exec__pool *p;
	struct cmr_exec__lane *lanes;
	size_t n;
	unsigned wave;
	size_t next; /* under p->mu */
};

/* The next lane for a worker, or NULL when it should stop. */
static struct cmr_exec__lane *take(struct wave *w)
{
	struct cmr_exec__lane *l = NULL;

	pthread_mutex_lock(&w->p->mu);
	while (w->next < w->n && w->lanes[w->next].wave != w->wave)
		w->next++;
	if (w->next < w->n && !w->p->failed && !interrupted(w->p)) {
		l = &w->lanes[w->next++];
		l->ran = true;
	}
	pthread_mutex_unlock(&w->p->mu);
	return l;
}

static void *worker(void *arg)
{
	struct wave *w = arg;
	struct cmr_exec__lane *l;

	while ((l = take(w)) != NULL)
		lane_run(w->p, l);
	return NULL;
}

static void run_wave(struct cmr_exec__pool *p, struct cmr_exec__lane *lanes,
                     size_t n, unsigned wave)
{
	pthread_t workers[CMR_EXEC_MAX_LANES];
	struct wave w;
	size_t count = 0;
	size_t width;
	size_t started = 0;
	size_t i;

	memset(&w, 0, sizeof(w));
	w.p = p;
	w.lanes = lanes;
	w.n = n;
	w.wave = wave;
	for (i = 0; i < n; i++)
		count += lanes[i].wave == wave;
	if (count == 0)
		return;
	if (p->on_wave)
		p->on_wave(wave, p->wave_ud);
	width = count < p->width ? count : p->width;
	for (i = 0; p->threads && width > 1 && i < width; i++) {
		if (pthread_create(&workers[started], NULL, worker, &w) != 0)
			break;
		started++;
	}
	if (started == 0)
		(void)worker(&w); /* here, one lane after the other */
	for (i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
}

int cmr_exec__pool_run(struct cmr_exec__pool *p, struct cmr_exec__lane *lanes,
                       size_t n, struct cmr_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		lanes[i].ran = false;
		lanes[i].error = 0;
		lanes[i].t0 = lanes[i].t1 = 0;
		cmr_error_clear(&lanes[i].err);
	}
	run_wave(p, lanes, n, 0);
	if (!p->failed && !interrupted(p))
		run_wave(p, lanes, n, 1);
	if (!p->failed)
		return 0;
	if (err)
		*err = p->first;
	return p->first.code;
}
