/*
 * clock.c -- the real clock behind the time seam of clock.h.
 *
 * Monotonic time for deadlines (wall-clock jumps must not cut a wait short
 * or stretch it), real time only where a timestamp is shown or stored.
 */
#include "cmr/clock.h"

#include <errno.h>
#include <time.h>
#include <unistd.h>

static int64_t sys_now_ms(struct cmr_clock *clock)
{
	struct timespec ts;

	(void)clock;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t sys_wall_ms(struct cmr_clock *clock)
{
	struct timespec ts;

	(void)clock;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sys_sleep_ms(struct cmr_clock *clock, int64_t ms)
{
	struct timespec ts;

	(void)clock;
	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	/* One attempt: a signal (Ctrl-C) should end the sleep early so the
	 * caller can notice it. */
	nanosleep(&ts, NULL);
}

static struct cmr_clock system_clock = { sys_now_ms, sys_sleep_ms,
	                                 sys_wall_ms };

struct cmr_clock *cmr_clock_system(void)
{
	return &system_clock;
}

/*
 * xorshift64*, seeded lazily: enough spread for retry jitter.  One state
 * per thread (the executor's cluster lanes poll from several threads).
 */
static _Thread_local uint64_t jitter_state;

uint64_t cmr_jitter_rand(uint64_t n)
{
	uint64_t x;

	if (n == 0)
		return 0;
	if (jitter_state == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		jitter_state = ((uint64_t)ts.tv_nsec << 20) ^
		               (uint64_t)ts.tv_sec ^
		               ((uint64_t)getpid() << 40) ^
		               (uint64_t)(uintptr_t)&jitter_state;
		if (jitter_state == 0)
			jitter_state = 0x9e3779b97f4a7c15ULL;
	}
	x = jitter_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	jitter_state = x;
	return (x * 0x2545f4914f6cdd1dULL) % n;
}
