/*
 * clock.h -- the time seam.
 *
 * Everything in lib/ that waits (retry backoff in http/, command polling in
 * exec/) asks a struct cmr_clock for the time and for sleeps, never libc
 * directly, so tests run those waits instantly with a fake clock.
 * cmr_clock_system() is the real one: monotonic milliseconds, nanosleep.
 */
#ifndef CMR_CLOCK_H
#define CMR_CLOCK_H

#include <stdint.h>

struct cmr_clock {
	/* Monotonic time in milliseconds (arbitrary origin). */
	int64_t (*now_ms)(struct cmr_clock *clock);
	/* Sleeps for ms milliseconds (may return early on a signal). */
	void (*sleep_ms)(struct cmr_clock *clock, int64_t ms);
	/* Wall-clock time in milliseconds since the Unix epoch. */
	int64_t (*wall_ms)(struct cmr_clock *clock);
};

/* The process-wide real clock (borrowed; never freed). */
struct cmr_clock *cmr_clock_system(void);

/*
 * A uniformly distributed random number in [0, n) for jitter; n > 0.
 * Seeded once per process from the time and pid: jitter needs spread, not
 * secrecy.  Not for anything security-related.
 */
uint64_t cmr_jitter_rand(uint64_t n);

#endif
