/*
 * log.c -- delivery of log messages to the caller's hook.
 *
 * Formatting happens into a fixed stack buffer: logging must work when
 * memory is short, and a log line longer than 1 KiB is cut, not lost.
 */
#include "cmr/log.h"

#include <stdio.h>

void cmr_log_emit(const struct cmr_logger *lg, enum cmr_log_level level,
                  const char *component, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!cmr_log_enabled(lg, level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lg->fn(level, component, msg, lg->ud);
}

const char *cmr_log_level_name(enum cmr_log_level level)
{
	switch (level) {
	case CMR_LOG_ERROR:
		return "error";
	case CMR_LOG_WARN:
		return "warning";
	case CMR_LOG_INFO:
		return "info";
	case CMR_LOG_DEBUG:
		return "debug";
	case CMR_LOG_TRACE:
		return "trace";
	}
	return "log";
}
