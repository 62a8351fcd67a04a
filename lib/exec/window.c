/*
 * window.c -- restart windows (`apply --restart-window SPEC`).
 *
 * The parser and the "is this time inside" check are pure functions over a
 * small struct, so the rules (day ranges wrapping the week, time ranges
 * wrapping midnight, 24:00 as an end) are unit-tested without a clock; only
 * cmr_window_contains touches the time zone, through localtime_r.
 *
 * A range belongs to the day it starts on: "Fri 22:00-02:00" is inside on
 * Friday from 22:00 and on Saturday until 02:00.  That is what an operator
 * means by "Friday night", and it keeps every range a single interval.
 */
#include "cmr/window.h"

#include <stdio.h>
#include <string.h>

#include "cmr/suggest.h"

#define MINUTES_PER_DAY (24 * 60)

static const char *const day_names[7] = { "Mon", "Tue", "Wed", "Thu",
	                                  "Fri", "Sat", "Sun" };

static const char *const day_long[7] = { "monday",   "tuesday", "wednesday",
	                                 "thursday", "friday",  "saturday",
	                                 "sunday" };

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}

/* Case-insensitive comparison of s[0..len) with the NUL-terminated t. */
static bool word_eq(const char *s, size_t len, const char *t)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (t[i] == '\0' || lower(s[i]) != lower(t[i]))
			return false;
	return t[len] == '\0';
}

/* The index (Monday 0) of the day named s[0..len), or -1. */
static int day_index(const char *s, size_t len)
{
	int d;

	for (d = 0; d < 7; d++)
		if (word_eq(s, len, day_names[d]) ||
		    word_eq(s, len, day_long[d]))
			return d;
	return -1;
}

static int bad_day(const char *s, size_t len, const char *part, size_t plen,
                   struct cmr_error *err)
{
	struct cmr_suggest sg;
	char word[32];
	int d;

	snprintf(word, sizeof(word), "%.*s", (int)(len < 31 ? len : 31), s);
	cmr_suggest_init(&sg, word);
	for (d = 0; d < 7; d++)
		cmr_suggest_offer(&sg, day_names[d]);
	if (sg.n)
		return cmr_error_set(err, CMR_EINVAL,
		                     "unknown day '%s' in '%.*s'; did you mean "
		                     "'%s'?",
		                     word, (int)plen, part, sg.names[0]);
	return cmr_error_set(err, CMR_EINVAL,
	                     "unknown day '%s' in '%.*s' (expected Mon, Tue, "
	                     "Wed, Thu, Fri, Sat or Sun)",
	                     word, (int)plen, part);
}

/*
 * Reads H:MM or HH:MM at *p (advancing it) into minutes after midnight.
 * 24:00 is accepted only when `end` is set.
 */
static int parse_time(int *out, const char **p, const char *stop, bool end,
                      const char *part, size_t plen, struct cmr_error *err)
{
	const char *s = *p;
	int h = 0;
	int m;
	int digits = 0;

	while (s < stop && is_digit(*s) && digits < 3) {
		h = h * 10 + (*s++ - '0');
		digits++;
	}
	if (digits == 0 || digits > 2 || s >= stop || *s != ':' ||
	    s + 3 > stop || !is_digit(s[1]) || !is_digit(s[2]) ||
	    (s + 3 < stop && is_digit(s[3])))
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%.*s': expected a time range "
		                     "HH:MM-HH:MM, optionally after days (as "
		                     "in 'Sat 01:00-05:00')",
		                     (int)plen, part);
	m = (s[1] - '0') * 10 + (s[2] - '0');
	if (h > 24 || m > 59 || (h == 24 && m != 0))
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%.*s': '%.*s' is not a time of day "
		                     "(00:00 to 24:00)",
		                     (int)plen, part, (int)(s + 3 - *p), *p);
	if (h == 24 && !end)
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%.*s': a range cannot start at 24:00",
		                     (int)plen, part);
	*out = h * 60 + m;
	*p = s + 3;
	return 0;
}

/* Bits of the days from a to b, wrapping the week (Fri-Mon). */
static unsigned day_mask(int a, int b)
{
	unsigned mask = 0;
	int d = a;

	for (;;) {
		mask |= 1u << d;
		if (d == b)
			break;
		d = (d + 1) % 7;
	}
	return mask;
}

/*
 * Reads "DAY[-DAY] " at *p (advancing it past the spaces) into the bits of
 * those days.  `part` is the whole range, for the messages.
 */
static int parse_days(unsigned *out, const char **p, const char *stop,
                      const char *part, size_t plen, struct cmr_error *err)
{
	const char *s = *p;
	const char *w;
	int a;
	int b;

	for (w = s; s < stop && is_alpha(*s); s++)
		;
	if ((a = day_index(w, (size_t)(s - w))) < 0)
		return bad_day(w, (size_t)(s - w), part, plen, err);
	b = a;
	if (s + 1 < stop && *s == '-' && is_alpha(s[1])) {
		for (w = ++s; s < stop && is_alpha(*s); s++)
			;
		if ((b = day_index(w, (size_t)(s - w))) < 0)
			return bad_day(w, (size_t)(s - w), part, plen, err);
	}
	if (s >= stop || !is_space(*s))
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%.*s': expected a space and "
		                     "HH:MM-HH:MM after the day",
		                     (int)plen, part);
	while (s < stop && is_space(*s))
		s++;
	*out = day_mask(a, b);
	*p = s;
	return 0;
}

/* One "[DAY[-DAY]] HH:MM-HH:MM" of `plen` bytes, already trimmed. */
static int parse_range(struct cmr_window_range *out, const char *part,
                       size_t plen, struct cmr_error *err)
{
	const char *p = part;
	const char *stop = part + plen;

	out->days = CMR_WINDOW_EVERY_DAY;
	if (p < stop && is_alpha(*p) &&
	    parse_days(&out->days, &p, stop, part, plen, err) < 0)
		return CMR_EINVAL;
	if (parse_time(&out->start, &p, stop, false, part, plen, err) < 0)
		return CMR_EINVAL;
	if (p >= stop || *p != '-')
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%.*s': expected '-' and the end time "
		                     "after the start time",
		                     (int)plen, part);
	p++;
	if (parse_time(&out->end, &p, stop, true, part, plen, err) < 0)
		return CMR_EINVAL;
	if (p != stop)
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%.*s': unexpected '%.*s' after the time "
		                     "range",
		                     (int)plen, part, (int)(stop - p), p);
	if (out->start == out->end)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "'%.*s': the range is empty (start and end "
		        "are the same); write 00:00-24:00 for a "
		        "whole day",
		        (int)plen, part);
	return 0;
}

int cmr_window_parse(struct cmr_window *out, const char *spec,
                     struct cmr_error *err)
{
	const char *p = spec;
	const char *comma;
	const char *a;
	const char *b;

	memset(out, 0, sizeof(*out));
	if (!spec)
		return cmr_error_set(err, CMR_EINVAL, "no restart window");
	for (;;) {
		comma = strchr(p, ',');
		a = p;
		b = comma ? comma : p + strlen(p);
		while (a < b && is_space(*a))
			a++;
		while (b > a && is_space(b[-1]))
			b--;
		if (a == b)
			return cmr_error_set(
			        err, CMR_EINVAL,
			        "'%s': empty range%s; expected "
			        "[DAY[-DAY]] HH:MM-HH:MM[,...]",
			        spec,
			        comma || p != spec ? " around a ','" : "");
		if (out->n == CMR_WINDOW_MAX_RANGES)
			return cmr_error_set(err, CMR_EINVAL,
			                     "'%s': more than %d ranges", spec,
			                     CMR_WINDOW_MAX_RANGES);
		if (parse_range(&out->ranges[out->n], a, (size_t)(b - a), err) <
		    0)
			return CMR_EINVAL;
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

bool cmr_window_contains_tm(const struct cmr_window *w, const struct tm *tm)
{
	int m = tm->tm_hour * 60 + tm->tm_min;
	int today = (tm->tm_wday + 6) % 7; /* tm_wday: Sunday 0 */
	int yesterday = (today + 6) % 7;
	size_t i;

	if (m < 0 || m >= MINUTES_PER_DAY || today < 0)
		return false;
	for (i = 0; i < w->n; i++) {
		const struct cmr_window_range *r = &w->ranges[i];

		if (r->start < r->end) {
			if ((r->days & (1u << today)) && m >= r->start &&
			    m < r->end)
				return true;
			continue;
		}
		/* Wraps midnight: the start day's evening, the next
		 * day's morning. */
		if ((r->days & (1u << today)) && m >= r->start)
			return true;
		if ((r->days & (1u << yesterday)) && m < r->end)
			return true;
	}
	return false;
}

bool cmr_window_contains(const struct cmr_window *w, time_t t)
{
	struct tm tm;

	tzset();
	if (!localtime_r(&t, &tm))
		return false;
	return cmr_window_contains_tm(w, &tm);
}

bool cmr_window_next(time_t *out, const struct cmr_window *w, time_t from)
{
	time_t t = from - from % 60; /* minute boundaries (UTC offsets in
	                              * use today are whole minutes) */
	int i;

	if (t < from)
		t += 60;
	tzset();
	/* Minute by minute: simple, and right across DST changes, since
	 * each instant is converted on its own.  8 days: 11,520 steps. */
	for (i = 0; i <= 8 * MINUTES_PER_DAY; i++, t += 60) {
		struct tm tm;

		if (localtime_r(&t, &tm) && cmr_window_contains_tm(w, &tm)) {
			*out = t;
			return true;
		}
	}
	return false;
}

/*
 * "Mon " or "Mon-Fri " for the days of a range; "" for every day (or
 * none).
 */
static void format_days(char *out, size_t cap, unsigned days)
{
	int first;
	int last;
	int d;

	out[0] = '\0';
	if (days == CMR_WINDOW_EVERY_DAY || days == 0)
		return;
	/* A contiguous run (parse makes no other): find the day whose
	 * predecessor is not in it. */
	for (first = 0; first < 7; first++)
		if ((days & (1u << first)) &&
		    !(days & (1u << ((first + 6) % 7))))
			break;
	for (last = first, d = 0; d < 7; d++)
		if (days & (1u << ((first + d) % 7)))
			last = (first + d) % 7;
	if (first == last)
		snprintf(out, cap, "%s ", day_names[first]);
	else
		snprintf(out, cap, "%s-%s ", day_names[first], day_names[last]);
}

void cmr_window_format(char *out, size_t size, const struct cmr_window *w)
{
	size_t i;
	size_t len = 0;
	int n;

	if (size == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < w->n && len < size; i++) {
		const struct cmr_window_range *r = &w->ranges[i];
		char days[16];

		format_days(days, sizeof(days), r->days);
		n = snprintf(out + len, size - len, "%s%s%02d:%02d-%02d:%02d",
		             i ? ", " : "", days, r->start / 60, r->start % 60,
		             r->end / 60, r->end % 60);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}
