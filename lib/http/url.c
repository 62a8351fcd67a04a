/*
 * url.c -- the URL policy for the CM base URL.
 *
 * cmrecon sends CM's admin credentials with its first requests, so the one
 * question that matters about --url is whether those credentials could
 * cross a network in clear.  https always passes; plain http passes only
 * when the host is loopback (the connection never leaves the machine, as
 * with cmsim in tests) or when the user said --allow-insecure-http.
 *
 * The parser is deliberately small: it splits scheme, authority and the
 * rest, and refuses anything unusual rather than guessing (user info, a
 * query, a fragment, a bad port).  It needs no libcurl, so the CLI can
 * check a URL before building a transport.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "cmr/transport.h"

struct url_parts {
	const char *scheme; /* points into the URL, not NUL-terminated */
	size_t scheme_len;
	char host[256]; /* without brackets for IPv6 */
	long port;      /* -1 when absent */
};

static bool is_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return true;
}

/* Parses the digits of a port ("7183"); false if it is not 1..65535. */
static bool parse_port(const char *s, size_t n, long *out)
{
	long port = 0;
	size_t i;

	if (!is_digits(s, n) || n > 5)
		return false;
	for (i = 0; i < n; i++)
		port = port * 10 + (s[i] - '0');
	*out = port;
	return port >= 1 && port <= 65535;
}

/*
 * Splits the authority [auth, end) -- user info already refused -- into
 * host (brackets of an IPv6 literal removed) and port.
 */
static int split_authority(struct url_parts *out, const char *auth,
                           const char *end, const char *url,
                           struct cmr_error *err)
{
	const char *host = auth;
	const char *host_end;
	const char *port = NULL;
	size_t n;

	if (*auth == '[') {
		host = auth + 1;
		host_end = memchr(auth, ']', (size_t)(end - auth));
		if (host_end == NULL ||
		    (host_end + 1 < end && host_end[1] != ':'))
			goto bad_host;
		if (host_end + 1 < end)
			port = host_end + 2;
	} else {
		host_end = memchr(auth, ':', (size_t)(end - auth));
		if (host_end == NULL)
			host_end = end;
		else
			port = host_end + 1;
	}
	n = (size_t)(host_end - host);
	if (n == 0 || n >= sizeof(out->host))
		goto bad_host;
	memcpy(out->host, host, n);
	out->host[n] = '\0';
	if (port != NULL && !parse_port(port, (size_t)(end - port), &out->port))
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "invalid CM URL '%s': port must be 1..65535", url);
	return 0;

bad_host:
	return cmr_error_set(err, CMR_EINVAL,
	                     "invalid CM URL '%s': bad or missing host", url);
}

/*
 * Splits url into its parts.  Returns 0 or CMR_EINVAL with a message that
 * names the URL (but never its user info, which may hold a password).
 */
static int split_url(struct url_parts *out, const char *url,
                     struct cmr_error *err)
{
	const char *sep;
	const char *auth;
	const char *auth_end;

	memset(out, 0, sizeof(*out));
	out->port = -1;
	if (url == NULL || *url == '\0')
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "no CM URL given; use --url https://HOST:PORT");
	sep = strstr(url, "://");
	if (sep == NULL || sep == url)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "invalid CM URL '%s': expected https://HOST[:PORT]",
		        url);
	out->scheme = url;
	out->scheme_len = (size_t)(sep - url);
	auth = sep + 3;
	auth_end = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(auth_end - auth)) != NULL)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "CM URL '%.*s://...' must not contain credentials; use --user and --password-file",
		        (int)out->scheme_len, url);
	if (strpbrk(auth_end, "?#") != NULL)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "invalid CM URL '%s': a query or fragment is not allowed in the base URL",
		        url);
	return split_authority(out, auth, auth_end, url, err);
}

static bool scheme_is(const struct url_parts *u, const char *s)
{
	return u->scheme_len == strlen(s) &&
	       strncasecmp(u->scheme, s, u->scheme_len) == 0;
}

static bool host_is_loopback(const char *host)
{
	unsigned char a[16];

	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char v4mapped[12] = { 0, 0, 0,    0,
			                                    0, 0, 0,    0,
			                                    0, 0, 0xff, 0xff };
		size_t i;

		for (i = 0; i < 15; i++) {
			if (a[i] != 0)
				break;
		}
		if (i == 15 && a[15] == 1)
			return true; /* ::1 */
		return memcmp(a, v4mapped, sizeof(v4mapped)) == 0 &&
		       a[12] == 127;
	}
	return false;
}

bool cmr_http_url_is_loopback(const char *url)
{
	struct url_parts u;

	if (split_url(&u, url, NULL) < 0)
		return false;
	return host_is_loopback(u.host);
}

int cmr_http_check_url(const char *url, bool allow_insecure_http,
                       struct cmr_error *err)
{
	struct url_parts u;
	int error;

	if ((error = split_url(&u, url, err)) < 0)
		return error;
	if (scheme_is(&u, "https"))
		return 0;
	if (!scheme_is(&u, "http"))
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "unsupported scheme '%.*s' in CM URL; use https://",
		        (int)u.scheme_len, u.scheme);
	if (host_is_loopback(u.host) || allow_insecure_http)
		return 0;
	return cmr_error_set(
	        err, CMR_EINVAL,
	        "refusing plain http to '%s': the credentials would cross the network unencrypted; use https, or --allow-insecure-http if you must",
	        u.host);
}
