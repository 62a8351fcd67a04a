/*
 * window.h -- restart windows: when apply may start a service restart.
 *
 * `apply --restart-window SPEC` lets a scheduled apply write settings at
 * any time but restart services only in a maintenance window.  SPEC is a
 * comma-separated list of ranges, each
 *
 *     [DAY[-DAY]] HH:MM-HH:MM
 *
 * for example "Sat 01:00-05:00,Sun 01:00-05:00", "Mon-Fri 22:00-04:00" or
 * "02:00-03:00" (no day: every day).  Days are Mon, Tue, Wed, Thu, Fri,
 * Sat, Sun (any case; the full names are accepted too); a day range may
 * wrap the week ("Fri-Mon").  Times are in the LOCAL time zone (TZ is
 * respected), 00:00 to 24:00.  A range whose end is not after its start
 * wraps midnight: "Fri 22:00-02:00" runs from Friday 22:00 to Saturday
 * 02:00 -- the day names the day the range STARTS on.  The start is
 * inside the window, the end is not.
 *
 * Daylight saving time: the check looks at the local wall-clock time, so
 * a window keeps its local hours all year.  On the night clocks spring
 * forward, the skipped hour does not exist and so is never inside; on the
 * night they fall back, the repeated hour is inside both times.
 *
 * Everything here is pure except cmr_window_contains, which converts a
 * time_t with localtime_r (after tzset).  No allocation: a window is a
 * small value the caller owns.
 */
#ifndef CMR_WINDOW_H
#define CMR_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cmr/error.h"

/* At most this many ranges in one SPEC. */
#define CMR_WINDOW_MAX_RANGES 32

/* Every day of the week, as a day mask (bit 0 Monday ... bit 6 Sunday). */
#define CMR_WINDOW_EVERY_DAY 0x7fu

struct cmr_window_range {
	unsigned days; /* the days it may start on: bit 0 Monday ... 6 Sunday */
	int start;     /* minutes after local midnight, 0 .. 1439 */
	int end;       /* 1 .. 1440; end <= start: ends on the next day */
};

struct cmr_window {
	struct cmr_window_range ranges[CMR_WINDOW_MAX_RANGES];
	size_t n; /* ranges in use (>= 1 after a successful parse) */
};

/*
 * Parses SPEC (see above) into *out (overwritten).  Returns 0, or
 * CMR_EINVAL with a message naming the part that is wrong and what was
 * expected ("unknown day 'Sta' in 'Sta 01:00-05:00'; did you mean
 * 'Sat'?", "'25:00': the hour must be 00 to 24", "empty range"...).  *out
 * is unspecified after a failure.
 */
int cmr_window_parse(struct cmr_window *out, const char *spec,
                     struct cmr_error *err);

/*
 * True when the local time broken down in `tm` (tm_wday, tm_hour,
 * tm_min; as localtime_r gives it) is inside the window.  Pure.
 */
bool cmr_window_contains_tm(const struct cmr_window *w, const struct tm *tm);

/*
 * True when the instant `t` is inside the window in the local time zone
 * (TZ respected: tzset is called first).  A time localtime_r cannot
 * convert is outside.
 */
bool cmr_window_contains(const struct cmr_window *w, time_t t);

/*
 * The first minute boundary at or after `from` (at most 8 days ahead)
 * that is inside the window, in the local time zone, into *out.  Returns
 * false when there is none (an empty window).  For "the window opens at
 * ..." messages.
 */
bool cmr_window_next(time_t *out, const struct cmr_window *w, time_t from);

/*
 * Appends the canonical spelling of the window ("Sat 01:00-05:00, Sun
 * 01:00-05:00"; a range on every day has no day part) to `out` (at most
 * `size` bytes, always NUL-terminated when size > 0), for messages and
 * reports.
 */
void cmr_window_format(char *out, size_t size, const struct cmr_window *w);

#endif
