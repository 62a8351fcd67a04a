/*
 * hmac.h -- the digests cmrecon keeps in CM (DESIGN "State kept in CM").
 *
 * Secret records are tags `cmrecon.secret.<H>` whose value is
 * `hmac-sha256:<base64>`: the HMAC-SHA256 of the secret under the key in
 * CMRECON_HMAC_KEY.  <H> is the first 16 hex digits of SHA-256 of the
 * scope path and key.  Both come from OpenSSL's libcrypto.
 */
#ifndef CMR_HMAC_H
#define CMR_HMAC_H

#include <stddef.h>

#include "cmr/buf.h"
#include "cmr/error.h"

/* Appends the lowercase hex SHA-256 of data (64 digits) to out. */
int cmr_sha256_hex(struct cmr_buf *out, const void *data, size_t len);

/*
 * Appends "hmac-sha256:" followed by the standard base64 (with padding) of
 * HMAC-SHA256(key, data).  Returns 0, CMR_ENOMEM, or CMR_ERROR when
 * libcrypto fails.
 */
int cmr_hmac_record(struct cmr_buf *out, const void *key, size_t key_len,
                    const void *data, size_t data_len);

/* Compares two NUL-terminated strings in time independent of content. */
int cmr_secure_streq(const char *a, const char *b);

#endif
