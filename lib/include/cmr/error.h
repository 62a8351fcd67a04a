/*
 * error.h -- status codes and the caller-owned error struct.
 *
 * Every fallible function returns int: 0 (CMR_OK) on success or a negative
 * enum cmr_code.  It also takes a `struct cmr_error *err` as its last
 * argument, which may be NULL.  The message is set once, where the failure
 * happens, and never overwritten by callers: the first message wins.  Module
 * boundaries may add context in front with cmr_error_prefix.
 *
 * The message is a fixed array so that reporting an error never allocates
 * (an out-of-memory error must still be describable).
 */
#ifndef CMR_ERROR_H
#define CMR_ERROR_H

#include <stdarg.h>
#include <stdint.h>

#include "cmr/common.h"

enum cmr_code {
	CMR_OK = 0,
	CMR_ERROR = -1,      /* generic failure */
	CMR_ENOMEM = -2,     /* out of memory */
	CMR_EINVAL = -3,     /* invalid input (desired state, flags, data) */
	CMR_ENOTFOUND = -4,  /* a file, object or name does not exist */
	CMR_ETRANSPORT = -5, /* network / TLS / protocol failure */
	CMR_EAPI = -6,       /* CM answered with an error status */
	CMR_ETIMEOUT = -7,   /* a deadline passed; outcome unknown */
	CMR_ECONFLICT = -8,  /* stale plan, held lock, concurrent change */
	CMR_EREFUSED = -9,   /* refused by a guard (max-changes, no TTY) */
	CMR_EINTR = -10,     /* interrupted by the user */
	CMR_ENOTSUP = -11,   /* the operation is not supported here */
};

/*
 * A place in a desired-state file.  `file` is borrowed: it points at a name
 * owned by whoever produced the mark (the loader keeps the names alive for
 * as long as the model that carries the marks).  line and col are 1-based;
 * 0 means unknown.
 */
struct cmr_mark {
	const char *file;
	uint32_t line;
	uint32_t col;
};

#define CMR_ERROR_MSG_MAX 512

struct cmr_error {
	enum cmr_code code;
	int http_status;       /* set for CMR_EAPI, else 0 */
	struct cmr_mark where; /* set for desired-state problems */
	char msg[CMR_ERROR_MSG_MAX];
};

#define CMR_ERROR_INIT                        \
	{                                     \
		CMR_OK, 0, { NULL, 0, 0 }, "" \
	}

/* Resets err to "no error".  err may be NULL. */
void cmr_error_clear(struct cmr_error *err);

/*
 * Records a failure and returns `code`, so the idiom is
 *   return cmr_error_set(err, CMR_EINVAL, "unknown key '%s'", name);
 * If err already holds an error, it is kept (the first message wins) and
 * only the return value is `code`.  err may be NULL.
 */
int cmr_error_set(struct cmr_error *err, enum cmr_code code, const char *fmt,
                  ...) CMR_PRINTF(3, 4);
int cmr_error_setv(struct cmr_error *err, enum cmr_code code, const char *fmt,
                   va_list ap) CMR_PRINTF(3, 0);

/*
 * Like cmr_error_set, but also records the HTTP status (for CMR_EAPI).
 */
int cmr_error_set_http(struct cmr_error *err, int http_status, const char *fmt,
                       ...) CMR_PRINTF(3, 4);

/*
 * Puts context in front of the existing message ("loading 'a.yaml': ...").
 * Returns the error's code, so it can be returned directly.  Truncates
 * rather than fails when the message would not fit.
 */
int cmr_error_prefix(struct cmr_error *err, const char *fmt, ...)
        CMR_PRINTF(2, 3);

/* A short, stable name for a code ("ENOMEM"); never NULL. */
const char *cmr_code_name(int code);

#endif
