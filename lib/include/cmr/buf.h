/*
 * buf.h -- the string builder (after git's strbuf and curl's dynbuf).
 *
 * Invariants, true after every call:
 *   - ptr is never NULL: CMR_BUF_INIT points it at a shared empty string,
 *     so a fresh buffer can be printed or compared without checks;
 *   - ptr[len] == '\0';
 *   - len never exceeds cap (the size cap; 0 means the default cap).
 *
 * Errors are sticky: an append that fails (out of memory, or the cap would
 * be exceeded) sets `oom` or `toobig`, leaves the contents as they were, and
 * turns every later append into a no-op.  A whole sequence of appends is
 * therefore checked once, with cmr_buf_error(), at the end.
 *
 * Ownership: the buffer owns ptr.  cmr_buf_detach() hands it to the caller
 * (who frees it with cmr_free); cmr_buf_release() frees it.
 */
#ifndef CMR_BUF_H
#define CMR_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "cmr/common.h"
#include "cmr/error.h"

/* Default cap: 64 MiB, far above anything cmrecon builds. */
#define CMR_BUF_DEFAULT_CAP ((size_t)64 << 20)

extern char cmr_buf_empty[];

struct cmr_buf {
	char *ptr;
	size_t len;
	size_t alloc; /* bytes allocated; 0 while ptr == cmr_buf_empty */
	size_t cap;   /* maximum len; 0 means CMR_BUF_DEFAULT_CAP */
	bool oom;     /* an allocation failed */
	bool toobig;  /* an append would have exceeded cap */
};

#define CMR_BUF_INIT                                 \
	{                                            \
		cmr_buf_empty, 0, 0, 0, false, false \
	}

/* Initialises an empty buffer whose contents may not exceed `cap` bytes. */
void cmr_buf_init(struct cmr_buf *b, size_t cap);

/* Frees the contents; the buffer is CMR_BUF_INIT (with its cap) afterwards. */
void cmr_buf_release(struct cmr_buf *b);

/* Empties the buffer, keeping its allocation and clearing sticky errors. */
void cmr_buf_reset(struct cmr_buf *b);

/*
 * Hands the contents to the caller, who frees them with cmr_free, and
 * leaves the buffer empty.  Returns NULL (and releases the buffer) when a
 * sticky error is set, so the caller cannot take a truncated string.
 * An empty buffer yields a freshly allocated "" (or NULL if that fails).
 */
char *cmr_buf_detach(struct cmr_buf *b, size_t *len_out);

/* Makes room for at least `extra` more bytes.  0 or CMR_ENOMEM. */
int cmr_buf_grow(struct cmr_buf *b, size_t extra);

/* Appenders.  Each returns 0, or the sticky error's code. */
int cmr_buf_add(struct cmr_buf *b, const void *data, size_t len);
int cmr_buf_adds(struct cmr_buf *b, const char *s);
int cmr_buf_addc(struct cmr_buf *b, char c);
int cmr_buf_addf(struct cmr_buf *b, const char *fmt, ...) CMR_PRINTF(2, 3);
int cmr_buf_vaddf(struct cmr_buf *b, const char *fmt, va_list ap)
        CMR_PRINTF(2, 0);

/*
 * Percent-encodes s for one URL path segment or query value (RFC 3986:
 * everything but unreserved characters is encoded; space is %20).
 */
int cmr_buf_add_urlenc(struct cmr_buf *b, const char *s);

/*
 * Appends s as a JSON string literal, quotes included, escaping what RFC
 * 8259 requires.  Bytes are copied as they are (s is assumed to be UTF-8).
 */
int cmr_buf_add_json_str(struct cmr_buf *b, const char *s);

/* Shortens the contents to len bytes (no-op if already shorter). */
void cmr_buf_truncate(struct cmr_buf *b, size_t len);

/*
 * 0 if no append has failed since init/reset, else CMR_ENOMEM (also for
 * exceeding the cap; cmr_buf_toobig tells the two apart).
 */
int cmr_buf_error(const struct cmr_buf *b);

static inline bool cmr_buf_toobig(const struct cmr_buf *b)
{
	return b->toobig;
}

#endif
