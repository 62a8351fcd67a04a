/*
 * hmac.c -- SHA-256 and HMAC-SHA256 for cmrecon's records in CM.
 *
 * libcrypto does the cryptography; this file only formats.  The digests
 * are computed into stack buffers and wiped before returning, since the
 * HMAC input is a secret.
 */
#include "cmr/hmac.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

int cmr_sha256_hex(struct cmr_buf *out, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];
	size_t i;

	if (!SHA256(data, len, md))
		return CMR_ERROR;
	for (i = 0; i < sizeof(md); i++) {
		cmr_buf_addc(out, hex[md[i] >> 4]);
		cmr_buf_addc(out, hex[md[i] & 15]);
	}
	return cmr_buf_error(out);
}

int cmr_hmac_record(struct cmr_buf *out, const void *key, size_t key_len,
                    const void *data, size_t data_len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int md_len = 0;
	int n;

	if (key_len > (size_t)INT32_MAX)
		return CMR_EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, data, data_len, md, &md_len))
		return CMR_ERROR;
	n = EVP_EncodeBlock(b64, md, (int)md_len);
	memset(md, 0, sizeof(md));
	if (n < 0)
		return CMR_ERROR;
	cmr_buf_adds(out, "hmac-sha256:");
	cmr_buf_add(out, b64, (size_t)n);
	return cmr_buf_error(out);
}

int cmr_secure_streq(const char *a, const char *b)
{
	size_t la = strlen(a);
	size_t lb = strlen(b);
	size_t i;
	unsigned char diff = (unsigned char)(la != lb);

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}
