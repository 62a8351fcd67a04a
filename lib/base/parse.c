/*
 * parse.c -- checked number and duration parsing.
 *
 * strtol and friends accept leading spaces, stop silently at garbage and
 * report overflow through errno; every caller would have to remember all
 * three.  These wrappers take the whole string or nothing.
 */
#include "cmr/parse.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmr_parse_i64(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;
	const char *p = s;

	if (!s || !*s)
		return CMR_EINVAL;
	if (*p == '+' || *p == '-')
		p++;
	if (!isdigit((unsigned char)*p))
		return CMR_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return CMR_EINVAL;
	*out = (int64_t)v;
	return 0;
}

int cmr_parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return CMR_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end != '\0')
		return CMR_EINVAL;
	*out = (uint64_t)v;
	return 0;
}

int cmr_parse_double(const char *s, double *out)
{
	char *end = NULL;
	double v;
	const char *p = s;

	if (!s || !*s)
		return CMR_EINVAL;
	if (*p == '+' || *p == '-')
		p++;
	/* Refuse what strtod takes but CM values never mean: hex, inf, nan,
	 * and a bare "." */
	if (!isdigit((unsigned char)*p) &&
	    !(*p == '.' && isdigit((unsigned char)p[1])))
		return CMR_EINVAL;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return CMR_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || *end != '\0' || !isfinite(v))
		return CMR_EINVAL;
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	int64_t ms;
};

/* Longest names first so "ms" is not read as "m" followed by "s". */
static const struct unit units[] = {
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", (int64_t)60 * 1000 },
	{ "h", (int64_t)3600 * 1000 },
	{ "d", (int64_t)86400 * 1000 },
};

int cmr_parse_duration_ms(const char *s, int64_t *out_ms, struct cmr_error *err)
{
	const char *p = s;
	int64_t total = 0;

	if (!s || !*s)
		return cmr_error_set(err, CMR_EINVAL, "empty duration");
	while (*p) {
		int64_t n = 0;
		size_t k;
		size_t ulen = 0;
		const struct unit *u = NULL;

		if (!isdigit((unsigned char)*p))
			return cmr_error_set(err, CMR_EINVAL,
			                     "invalid duration '%s': expected "
			                     "a number at '%s'",
			                     s, p);
		while (isdigit((unsigned char)*p)) {
			int d = *p - '0';

			if (n > (INT64_MAX - d) / 10)
				return cmr_error_set(err, CMR_EINVAL,
				                     "duration '%s' is too "
				                     "long",
				                     s);
			n = n * 10 + d;
			p++;
		}
		for (k = 0; k < CMR_ARRAY_SIZE(units); k++) {
			size_t l = strlen(units[k].name);

			if (strncmp(p, units[k].name, l) == 0 &&
			    !isalpha((unsigned char)p[l])) {
				u = &units[k];
				ulen = l;
				break;
			}
		}
		if (!u)
			return cmr_error_set(err, CMR_EINVAL,
			                     "invalid duration '%s': a unit "
			                     "(ms, s, m, h, d) must follow "
			                     "each number, as in 30s, 5m, 2h",
			                     s);
		if (n > INT64_MAX / u->ms || total > INT64_MAX - n * u->ms)
			return cmr_error_set(err, CMR_EINVAL,
			                     "duration '%s' is too long", s);
		total += n * u->ms;
		p += ulen;
	}
	if (total <= 0)
		return cmr_error_set(err, CMR_EINVAL,
		                     "duration '%s' must be positive", s);
	*out_ms = total;
	return 0;
}

void cmr_format_duration(char *dst, size_t size, int64_t ms)
{
	int64_t h;
	int64_t m;
	int64_t s;

	if (size == 0)
		return;
	if (ms < 1000) {
		snprintf(dst, size, "%" PRId64 "ms", ms);
		return;
	}
	if (ms < (int64_t)60 * 1000) {
		if (ms % 1000 == 0)
			snprintf(dst, size, "%" PRId64 "s", ms / 1000);
		else
			snprintf(dst, size, "%.1fs", (double)ms / 1000.0);
		return;
	}
	s = ms / 1000;
	h = s / 3600;
	m = (s % 3600) / 60;
	s %= 60;
	if (h && m)
		snprintf(dst, size, "%" PRId64 "h%" PRId64 "m", h, m);
	else if (h)
		snprintf(dst, size, "%" PRId64 "h", h);
	else if (s)
		snprintf(dst, size, "%" PRId64 "m%" PRId64 "s", m, s);
	else
		snprintf(dst, size, "%" PRId64 "m", m);
}
