/*
 * parse.h -- checked parsing of numbers and durations.
 *
 * Unlike atoi/strtol used bare, these reject empty strings, trailing
 * garbage, leading spaces and overflow, and never touch errno for the
 * caller.  They return 0 or CMR_EINVAL and leave *out untouched on error.
 */
#ifndef CMR_PARSE_H
#define CMR_PARSE_H

#include <stdint.h>

#include "cmr/common.h"
#include "cmr/error.h"

/* A decimal integer with optional sign ("-12", "+7", "0"). */
int cmr_parse_i64(const char *s, int64_t *out) CMR_WARN_UNUSED;

/* A decimal integer without sign, 0..UINT64_MAX. */
int cmr_parse_u64(const char *s, uint64_t *out) CMR_WARN_UNUSED;

/* A finite decimal number ("1.5", "-2", "1e3"); no hex, no inf or nan. */
int cmr_parse_double(const char *s, double *out) CMR_WARN_UNUSED;

/*
 * A duration as a sequence of <integer><unit> parts, unit one of ms, s, m,
 * h, d: "30s", "5m", "2h", "1h30m", "250ms".  A bare number is refused
 * (is "30" seconds or minutes?).  The result is in milliseconds and must be
 * positive and fit in int64.  On failure err says why (err may be NULL).
 */
int cmr_parse_duration_ms(const char *s, int64_t *out_ms,
                          struct cmr_error *err) CMR_WARN_UNUSED;

/*
 * Writes a duration as the largest units that fit, e.g. 5400000 ->
 * "1h30m", 1500 -> "1.5s", 250 -> "250ms".  dst gets at most size bytes,
 * always NUL-terminated.
 */
void cmr_format_duration(char *dst, size_t size, int64_t ms);

#endif
