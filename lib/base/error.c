/*
 * error.c -- the caller-owned error struct.
 *
 * The rule that makes errors readable: the message is written once, where
 * the failure is understood best, and callers only add context in front at
 * module boundaries.  cmr_error_set therefore never replaces a message
 * that is already there.
 */
#include "cmr/error.h"

#include <stdio.h>
#include <string.h>

void cmr_error_clear(struct cmr_error *err)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
}

int cmr_error_setv(struct cmr_error *err, enum cmr_code code, const char *fmt,
                   va_list ap)
{
	if (!err || err->code != CMR_OK)
		return code;
	err->code = code;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int cmr_error_set(struct cmr_error *err, enum cmr_code code, const char *fmt,
                  ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmr_error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

int cmr_error_set_http(struct cmr_error *err, int http_status, const char *fmt,
                       ...)
{
	va_list ap;
	int first = err && err->code == CMR_OK;

	va_start(ap, fmt);
	cmr_error_setv(err, CMR_EAPI, fmt, ap);
	va_end(ap);
	if (first)
		err->http_status = http_status;
	return CMR_EAPI;
}

int cmr_error_prefix(struct cmr_error *err, const char *fmt, ...)
{
	char prefix[CMR_ERROR_MSG_MAX];
	size_t room = sizeof(err->msg) - 1;
	size_t plen;
	size_t olen;
	size_t keep;
	va_list ap;

	if (!err)
		return CMR_ERROR;
	if (err->code == CMR_OK)
		err->code = CMR_ERROR;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* "<prefix>: <old message>", cut at the end to fit. */
	plen = strlen(prefix);
	if (plen > room - 2)
		plen = room - 2;
	olen = strlen(err->msg);
	keep = olen < room - plen - 2 ? olen : room - plen - 2;
	memmove(err->msg + plen + 2, err->msg, keep);
	memcpy(err->msg, prefix, plen);
	err->msg[plen] = ':';
	err->msg[plen + 1] = ' ';
	err->msg[plen + 2 + keep] = '\0';
	return err->code;
}

const char *cmr_code_name(int code)
{
	switch (code) {
	case CMR_OK:
		return "OK";
	case CMR_ERROR:
		return "ERROR";
	case CMR_ENOMEM:
		return "ENOMEM";
	case CMR_EINVAL:
		return "EINVAL";
	case CMR_ENOTFOUND:
		return "ENOTFOUND";
	case CMR_ETRANSPORT:
		return "ETRANSPORT";
	case CMR_EAPI:
		return "EAPI";
	case CMR_ETIMEOUT:
		return "ETIMEOUT";
	case CMR_ECONFLICT:
		return "ECONFLICT";
	case CMR_EREFUSED:
		return "EREFUSED";
	case CMR_EINTR:
		return "EINTR";
	case CMR_ENOTSUP:
		return "ENOTSUP";
	default:
		return "UNKNOWN";
	}
}
