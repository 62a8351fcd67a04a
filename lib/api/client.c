/*
 * client.c -- the CM client: transport, API version, logging, and the
 * mapping of HTTP answers to cmr_error.
 *
 * The version is the one thing every path needs.  A pinned version is
 * checked at construction and never verified against the server (that
 * would cost the round trip pinning exists to save); a negotiated one is
 * the server's own answer to GET /api/version, which is the highest
 * version it speaks.  cmrecon uses that version as is (as Cloudera's
 * clients do), as long as it is not below the floor.
 */
#include "cmr/client.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/buf.h"

#include "api_int.h"

static int make(struct cmr_client **out, struct cmr_transport *t, bool take,
                const struct cmr_client_options *opts, struct cmr_error *err)
{
	struct cmr_client *c = NULL;
	unsigned version = 0;
	int error = CMR_ERROR;

	*out = NULL;
	if (t == NULL) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "client needs a transport");
		goto done;
	}
	if (opts != NULL && opts->api_version != NULL) {
		error = cmr_api_decode_version(&version, opts->api_version,
		                               strlen(opts->api_version), err);
		if (error < 0 ||
		    (error = cmr_api_check_version(version, err)) < 0)
			goto done;
	}
	c = cmr_calloc(1, sizeof(*c));
	if (c == NULL) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	c->transport = t;
	c->owns_transport = take;
	c->version = version;
	c->pinned = version != 0;
	c->logger = opts != NULL ? opts->logger : NULL;
	*out = c;
	c = NULL;
	error = 0;
done:
	if (error < 0 && take)
		cmr_transport_free(t);
	cmr_free(c);
	return error;
}

int cmr_client_new(struct cmr_client **out, struct cmr_transport *t,
                   const struct cmr_client_options *opts, struct cmr_error *err)
{
	return make(out, t, false, opts, err);
}

int cmr_client_new_take(struct cmr_client **out, struct cmr_transport *t,
                        const struct cmr_client_options *opts,
                        struct cmr_error *err)
{
	return make(out, t, true, opts, err);
}

int cmr_client_dup(struct cmr_client **out, const struct cmr_client *c,
                   struct cmr_error *err)
{
	struct cmr_transport *t = NULL;
	struct cmr_client *nc = NULL;
	struct cmr_client_options o;
	int error;

	*out = NULL;
	if ((error = cmr_transport_clone(&t, c->transport, err)) < 0)
		return error;
	memset(&o, 0, sizeof(o));
	o.logger = c->logger;
	if ((error = make(&nc, t, true, &o, err)) < 0)
		return error;
	assert(nc != NULL); /* make() succeeded with a transport */
	nc->version = c->version;
	nc->pinned = c->pinned;
	*out = nc;
	return 0;
}

void cmr_client_free(struct cmr_client *c)
{
	if (c == NULL)
		return;
	if (c->owns_transport)
		cmr_transport_free(c->transport);
	cmr_free(c);
}

struct cmr_transport *cmr_client_transport(const struct cmr_client *c)
{
	return c->transport;
}

const struct cmr_logger *cmr_client_logger(const struct cmr_client *c)
{
	return c->logger;
}

unsigned cmr_client_api_version(const struct cmr_client *c)
{
	return c->version;
}

bool cmr_client_version_pinned(const struct cmr_client *c)
{
	return c->pinned;
}

const struct cmr_read_report *cmr_client_last_read(const struct cmr_client *c)
{
	return &c->last_read;
}

int cmr_client_send_all(struct cmr_client *c,
                        const struct cmr_http_request *req,
                        struct cmr_http_response *resp, size_t n,
                        struct cmr_error *err)
{
	if (cmr_log_enabled(c->logger, CMR_LOG_DEBUG)) {
		size_t i;

		for (i = 0; i < n; i++)
			cmr_log(c->logger, CMR_LOG_DEBUG, "api",
			        "%s %s (wave of %zu)", req[i].method,
			        req[i].url, n);
	}
	return cmr_transport_send_all(c->transport, req, resp, n, err);
}

int cmr_api_check_response(const struct cmr_http_request *req,
                           const struct cmr_http_response *resp,
                           struct cmr_error *err)
{
	char what[512];

	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->status == 0)
		return cmr_error_set(err,
		                     resp->err.code != CMR_OK ? resp->err.code
		                                              : CMR_ETRANSPORT,
		                     "%s %s: %s", req->method, req->url,
		                     resp->err.msg[0] ? resp->err.msg
		                                      : "no answer");
	snprintf(what, sizeof(what), "%s %s", req->method, req->url);
	return cmr_api_decode_error(err, resp->status, what, resp->body.ptr,
	                            resp->body.len);
}

int cmr_client_negotiate(struct cmr_client *c, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_request req;
	struct cmr_http_response resp;
	struct cmr_error scratch = CMR_ERROR_INIT;
	unsigned version = 0;
	int error = CMR_ERROR;

	cmr_http_response_init(&resp);
	if (c->version != 0)
		return 0;
	if (cmr_api_build_version(&url) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.ptr;
	(void)cmr_client_send_all(c, &req, &resp, 1, &scratch);
	if ((error = cmr_api_check_response(&req, &resp, err)) < 0)
		goto done;
	error = cmr_api_decode_version(&version, resp.body.ptr, resp.body.len,
	                               err);
	if (error < 0) {
		cmr_error_prefix(err, "GET %s", url.ptr);
		goto done;
	}
	if ((error = cmr_api_check_version(version, err)) < 0)
		goto done;
	c->version = version;
	cmr_log(c->logger, CMR_LOG_DEBUG, "api", "CM speaks API v%u", version);
	if (version > CMR_API_VERSION_KNOWN)
		cmr_log(c->logger, CMR_LOG_DEBUG, "api",
		        "API v%u is newer than v%u, the newest cmrecon was written against",
		        version, CMR_API_VERSION_KNOWN);
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}
