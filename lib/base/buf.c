/*
 * buf.c -- the string builder.
 *
 * Three rules keep callers simple: ptr is never NULL (an empty buffer
 * points at the shared cmr_buf_empty), the contents are always
 * NUL-terminated, and a failed append is sticky, so a sequence of appends
 * is checked once at the end.  The size cap (curl's dynbuf "toobig") keeps
 * a misbehaving server or a huge file from growing a buffer without bound.
 */
#include "cmr/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"

char cmr_buf_empty[1];

static size_t cap_of(const struct cmr_buf *b)
{
	return b->cap ? b->cap : CMR_BUF_DEFAULT_CAP;
}

void cmr_buf_init(struct cmr_buf *b, size_t cap)
{
	b->ptr = cmr_buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->cap = cap;
	b->oom = false;
	b->toobig = false;
}

void cmr_buf_release(struct cmr_buf *b)
{
	if (b->alloc)
		cmr_free(b->ptr);
	cmr_buf_init(b, b->cap);
}

void cmr_buf_reset(struct cmr_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->ptr[0] = '\0';
	b->oom = false;
	b->toobig = false;
}

int cmr_buf_error(const struct cmr_buf *b)
{
	return (b->oom || b->toobig) ? CMR_ENOMEM : 0;
}

char *cmr_buf_detach(struct cmr_buf *b, size_t *len_out)
{
	char *p;

	if (cmr_buf_error(b)) {
		cmr_buf_release(b);
		return NULL;
	}
	if (b->alloc) {
		p = b->ptr;
	} else {
		p = cmr_malloc(1);
		if (p)
			p[0] = '\0';
	}
	if (len_out)
		*len_out = p ? b->len : 0;
	cmr_buf_init(b, b->cap);
	return p;
}

int cmr_buf_grow(struct cmr_buf *b, size_t extra)
{
	size_t need;
	size_t n;
	char *p;

	if (cmr_buf_error(b))
		return CMR_ENOMEM;
	if (extra > cap_of(b) - b->len) {
		b->toobig = true;
		return CMR_ENOMEM;
	}
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	n = b->alloc ? b->alloc : 64;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = cmr_realloc(b->alloc ? b->ptr : NULL, n);
	if (!p) {
		b->oom = true;
		return CMR_ENOMEM;
	}
	if (!b->alloc)
		p[0] = '\0';
	b->ptr = p;
	b->alloc = n;
	return 0;
}

int cmr_buf_add(struct cmr_buf *b, const void *data, size_t len)
{
	if (cmr_buf_grow(b, len) < 0)
		return CMR_ENOMEM;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
	return 0;
}

int cmr_buf_adds(struct cmr_buf *b, const char *s)
{
	return cmr_buf_add(b, s, strlen(s));
}

int cmr_buf_addc(struct cmr_buf *b, char c)
{
	return cmr_buf_add(b, &c, 1);
}

int cmr_buf_vaddf(struct cmr_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (cmr_buf_error(b))
		return CMR_ENOMEM;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->oom = true;
		return CMR_ENOMEM;
	}
	if (cmr_buf_grow(b, (size_t)n) < 0)
		return CMR_ENOMEM;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int cmr_buf_addf(struct cmr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cmr_buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

int cmr_buf_add_urlenc(struct cmr_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			cmr_buf_addc(b, (char)c);
		} else {
			char enc[3] = { '%', hex[c >> 4], hex[c & 15] };

			cmr_buf_add(b, enc, 3);
		}
	}
	return cmr_buf_error(b);
}

int cmr_buf_add_json_str(struct cmr_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	cmr_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			cmr_buf_adds(b, "\\\"");
			break;
		case '\\':
			cmr_buf_adds(b, "\\\\");
			break;
		case '\n':
			cmr_buf_adds(b, "\\n");
			break;
		case '\r':
			cmr_buf_adds(b, "\\r");
			break;
		case '\t':
			cmr_buf_adds(b, "\\t");
			break;
		case '\b':
			cmr_buf_adds(b, "\\b");
			break;
		case '\f':
			cmr_buf_adds(b, "\\f");
			break;
		default:
			if (c < 0x20) {
				char esc[6] = {
					'\\', 'u',         '0',
					'0',  hex[c >> 4], hex[c & 15]
				};

				cmr_buf_add(b, esc, 6);
			} else {
				cmr_buf_addc(b, (char)c);
			}
		}
	}
	cmr_buf_addc(b, '"');
	return cmr_buf_error(b);
}

void cmr_buf_truncate(struct cmr_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->ptr[len] = '\0';
}
