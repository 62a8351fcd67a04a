/*
 * log.h -- the logging hook.  The library never writes to stdio: it calls
 * the logger its caller passed in (cmd/ installs one that writes to stderr,
 * controlled by -q/-v/-vv).  A NULL logger, or a NULL fn, discards messages.
 *
 * cmr_log() tests the level before formatting, so debug messages cost one
 * comparison when they are off.  Each message carries a component tag
 * ("http", "api", "plan", "exec") for filtering and context.
 *
 * Redaction happens at the source: never pass a secret, an Authorization
 * header or a cookie to the logger.
 */
#ifndef CMR_LOG_H
#define CMR_LOG_H

#include <stdarg.h>

#include "cmr/common.h"

enum cmr_log_level {
	CMR_LOG_ERROR = 0,
	CMR_LOG_WARN = 1,
	CMR_LOG_INFO = 2,
	CMR_LOG_DEBUG = 3,
	CMR_LOG_TRACE = 4,
};

typedef void cmr_log_fn(enum cmr_log_level level, const char *component,
                        const char *msg, void *ud);

struct cmr_logger {
	cmr_log_fn *fn;
	void *ud;
	enum cmr_log_level level; /* messages above this level are dropped */
};

/* Formats and delivers one message; use the cmr_log macro instead. */
void cmr_log_emit(const struct cmr_logger *lg, enum cmr_log_level level,
                  const char *component, const char *fmt, ...) CMR_PRINTF(4, 5);

/* True when a message at `level` would be delivered. */
#define cmr_log_enabled(lg, lvl) \
	((lg) != NULL && (lg)->fn != NULL && (int)(lvl) <= (int)(lg)->level)

#define cmr_log(lg, lvl, component, ...)                               \
	do {                                                           \
		if (cmr_log_enabled(lg, lvl))                          \
			cmr_log_emit(lg, lvl, component, __VA_ARGS__); \
	} while (0)

/* "error", "warning", "info", "debug", "trace". */
const char *cmr_log_level_name(enum cmr_log_level level);

#endif
