/*
 * test_window.c -- restart windows: the SPEC grammar, the "inside" check
 * with an injected time, wrapping (midnight and the week), time zones
 * (TZ=UTC and TZ=America/New_York through setenv/tzset) and the DST
 * nights, and the messages for bad specs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmr/window.h"

#include "support.h"

/* Day of week as tm_wday: Sunday 0. */
enum { SUN = 0, MON, TUE, WED, THU, FRI, SAT };

static bool inside(const struct cmr_window *w, int wday, int h, int m)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_wday = wday;
	tm.tm_hour = h;
	tm.tm_min = m;
	return cmr_window_contains_tm(w, &tm);
}

static void parse_ok(struct cmr_window *w, const char *spec)
{
	struct cmr_error err = CMR_ERROR_INIT;

	assert_cmr_ok(cmr_window_parse(w, spec, &err), &err);
}

/* The spec must be refused with a message containing `want`. */
static void parse_bad(const char *spec, const char *want)
{
	struct cmr_window w;
	struct cmr_error err = CMR_ERROR_INIT;

	assert_cmr_fails_with(CMR_EINVAL, cmr_window_parse(&w, spec, &err),
	                      &err);
	if (!strstr(err.msg, want))
		fail_msg("'%s': message '%s' lacks '%s'", spec, err.msg, want);
}

static void test_window__days_and_times(void **state)
{
	struct cmr_window w;
	char s[128];

	(void)state;
	parse_ok(&w, "Sat 01:00-05:00,Sun 01:00-05:00");
	assert_int_equal(w.n, 2);
	assert_true(inside(&w, SAT, 1, 0));
	assert_true(inside(&w, SAT, 4, 59));
	assert_false(inside(&w, SAT, 5, 0)); /* the end is outside */
	assert_false(inside(&w, SAT, 0, 59));
	assert_true(inside(&w, SUN, 3, 0));
	assert_false(inside(&w, MON, 3, 0));
	assert_false(inside(&w, FRI, 3, 0));
	cmr_window_format(s, sizeof(s), &w);
	assert_string_equal(s, "Sat 01:00-05:00, Sun 01:00-05:00");

	/* No day: every day.  Case and spaces are forgiven. */
	parse_ok(&w, " 02:00-03:30 ");
	assert_true(inside(&w, WED, 2, 0));
	assert_true(inside(&w, SUN, 3, 29));
	assert_false(inside(&w, SUN, 3, 30));
	parse_ok(&w, "mon-FRI  9:00-17:00 , saturday 10:00-12:00");
	assert_true(inside(&w, MON, 9, 0));
	assert_true(inside(&w, FRI, 16, 59));
	assert_false(inside(&w, SUN, 10, 0));
	assert_true(inside(&w, SAT, 11, 0));
	assert_false(inside(&w, SAT, 9, 0));
	cmr_window_format(s, sizeof(s), &w);
	assert_string_equal(s, "Mon-Fri 09:00-17:00, Sat 10:00-12:00");

	/* A whole day, up to 24:00. */
	parse_ok(&w, "Sun 00:00-24:00");
	assert_true(inside(&w, SUN, 0, 0));
	assert_true(inside(&w, SUN, 23, 59));
	assert_false(inside(&w, MON, 0, 0));
	assert_false(inside(&w, SAT, 23, 59));
}

static void test_window__wraps_midnight_and_week(void **state)
{
	struct cmr_window w;
	char s[128];

	(void)state;
	/* Friday night: Friday 22:00 to Saturday 02:00. */
	parse_ok(&w, "Fri 22:00-02:00");
	assert_true(inside(&w, FRI, 22, 0));
	assert_true(inside(&w, FRI, 23, 59));
	assert_true(inside(&w, SAT, 0, 0));
	assert_true(inside(&w, SAT, 1, 59));
	assert_false(inside(&w, SAT, 2, 0));
	assert_false(inside(&w, FRI, 1, 0)); /* Thursday night is not in */
	assert_false(inside(&w, SAT, 22, 0));

	/* The week wraps too: Sunday night ends on Monday morning, and a
	 * day range may cross Sunday. */
	parse_ok(&w, "Sun 23:00-01:00");
	assert_true(inside(&w, MON, 0, 30));
	assert_false(inside(&w, SUN, 0, 30));
	parse_ok(&w, "Fri-Mon 22:00-04:00");
	assert_true(inside(&w, SAT, 23, 0));
	assert_true(inside(&w, SUN, 3, 0));
	assert_true(inside(&w, TUE, 3, 0)); /* Monday night */
	assert_false(inside(&w, TUE, 22, 0));
	assert_false(inside(&w, FRI, 3, 0)); /* Thursday night */
	cmr_window_format(s, sizeof(s), &w);
	assert_string_equal(s, "Fri-Mon 22:00-04:00");

	/* Every night. */
	parse_ok(&w, "22:00-04:00");
	assert_true(inside(&w, THU, 23, 0));
	assert_true(inside(&w, THU, 3, 0));
	assert_false(inside(&w, THU, 12, 0));
}

static void test_window__bad_specs_say_why(void **state)
{
	(void)state;
	parse_bad("", "empty range");
	parse_bad("Sat 01:00-05:00,", "empty range around a ','");
	parse_bad("Sat 01:00-05:00,,Sun 01:00-02:00", "empty range");
	parse_bad("Sta 01:00-05:00", "did you mean 'Sat'?");
	parse_bad("Xyzzy 01:00-05:00", "expected Mon, Tue");
	parse_bad("Mon-Xyz 01:00-05:00", "unknown day 'Xyz'");
	parse_bad("Sat01:00-05:00", "expected a space");
	parse_bad("Sat", "expected a space");
	parse_bad("Sat 25:00-05:00", "not a time of day");
	parse_bad("01:60-02:00", "not a time of day");
	parse_bad("24:00-02:00", "cannot start at 24:00");
	parse_bad("01:00", "expected '-'");
	parse_bad("01:00-", "expected a time range");
	parse_bad("1-2", "expected a time range");
	parse_bad("001:00-02:00", "expected a time range");
	parse_bad("01:00-02:00 UTC", "unexpected ' UTC'");
	parse_bad("03:00-03:00", "the range is empty");
	parse_bad("01:00-02:00x", "unexpected 'x'");
}

/* Sets TZ for the process (the check reads it through tzset). */
static void set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static void test_window__local_time_zone(void **state)
{
	struct cmr_window w;
	/* Saturday 2026-01-10 06:30:00 UTC = 01:30 EST. */
	time_t t = 1768026600;

	(void)state;
	parse_ok(&w, "Sat 01:00-05:00");
	set_tz("UTC");
	assert_false(cmr_window_contains(&w, t));           /* 06:30 UTC */
	assert_true(cmr_window_contains(&w, t - 3 * 3600)); /* 03:30 */
	set_tz("America/New_York");
	assert_true(cmr_window_contains(&w, t));             /* 01:30 EST */
	assert_false(cmr_window_contains(&w, t - 3 * 3600)); /* Fri 22:30 */
	/* Friday 23:00 in New York is already Saturday 04:00 UTC. */
	parse_ok(&w, "Fri 22:00-23:30");
	assert_true(cmr_window_contains(&w, t - 7200 - 1800)); /* Fri 23:00 */
	set_tz("UTC");
	assert_false(cmr_window_contains(&w, t - 7200 - 1800));
	unsetenv("TZ");
	tzset();
}

static void test_window__dst_nights(void **state)
{
	struct cmr_window w;
	/* New York springs forward on Sunday 2026-03-08: 02:00 EST becomes
	 * 03:00 EDT at 07:00 UTC. */
	time_t spring = 1772953200; /* 2026-03-08 07:00:00 UTC */
	/* ... and falls back on Sunday 2026-11-01: 02:00 EDT becomes 01:00
	 * EST at 06:00 UTC, so 01:00-02:00 local happens twice. */
	time_t fall = 1793512800; /* 2026-11-01 06:00:00 UTC */

	(void)state;
	set_tz("America/New_York");
	parse_ok(&w, "Sun 01:00-03:30");
	assert_true(cmr_window_contains(&w, spring - 60));    /* 01:59 EST */
	assert_true(cmr_window_contains(&w, spring));         /* 03:00 EDT */
	assert_true(cmr_window_contains(&w, spring + 1740));  /* 03:29 */
	assert_false(cmr_window_contains(&w, spring + 1800)); /* 03:30 */
	/* The skipped hour never happens: a window inside it is never
	 * open that night. */
	parse_ok(&w, "Sun 02:00-03:00");
	assert_false(cmr_window_contains(&w, spring - 60));
	assert_false(cmr_window_contains(&w, spring));
	/* The repeated hour is inside both times. */
	parse_ok(&w, "Sun 01:00-02:00");
	assert_true(cmr_window_contains(&w, fall - 1800));  /* 01:30 EDT */
	assert_true(cmr_window_contains(&w, fall + 1800));  /* 01:30 EST */
	assert_false(cmr_window_contains(&w, fall + 3600)); /* 02:00 EST */
	unsetenv("TZ");
	tzset();
}

static void test_window__next_opening(void **state)
{
	struct cmr_window w;
	time_t t = 1768026600; /* Saturday 2026-01-10 06:30:00 UTC */
	time_t next = 0;

	(void)state;
	set_tz("UTC");
	parse_ok(&w, "Sat 01:00-05:00,Sun 01:00-05:00");
	assert_true(cmr_window_next(&next, &w, t));
	assert_int_equal(next, 1768093200); /* Sunday 01:00 UTC */
	/* Inside already: now (rounded up to the minute). */
	assert_true(cmr_window_next(&next, &w, t - 3 * 3600 - 30));
	assert_int_equal(next, t - 3 * 3600);
	/* In New York the same instant is Saturday 01:30: inside. */
	set_tz("America/New_York");
	assert_true(cmr_window_next(&next, &w, t));
	assert_int_equal(next, t);
	/* Across the spring-forward night: Sunday 2026-03-08, 02:30 does
	 * not exist; the window opens at 03:00 EDT = 07:00 UTC. */
	parse_ok(&w, "Sun 02:30-04:00");
	assert_true(cmr_window_next(&next, &w, 1772953200 - 7200));
	assert_int_equal(next, 1772953200);
	unsetenv("TZ");
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window__days_and_times),
		cmocka_unit_test(test_window__wraps_midnight_and_week),
		cmocka_unit_test(test_window__bad_specs_say_why),
		cmocka_unit_test(test_window__local_time_zone),
		cmocka_unit_test(test_window__dst_nights),
		cmocka_unit_test(test_window__next_opening),
	};

	return cmocka_run_group_tests_name("window", tests, NULL, NULL);
}
