/*
 * transport.c -- the parts of the HTTP seam that every transport shares:
 * response lifecycle, the idempotency rule and the dispatch wrappers.
 *
 * Kept apart from transport_curl.c so that a test linking only the fake
 * transport still gets them, and so that <curl/curl.h> stays in one file.
 */
#include "cmr/transport.h"

#include <assert.h>
#include <string.h>

void cmr_http_response_init(struct cmr_http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	cmr_buf_init(&resp->body, 0);
	cmr_error_clear(&resp->err);
}

void cmr_http_response_release(struct cmr_http_response *resp)
{
	if (resp == NULL)
		return;
	cmr_buf_release(&resp->body);
	cmr_http_response_init(resp);
}

/*
 * RFC 9110 section 9.2.2: PUT, DELETE and the safe methods are idempotent.
 * POST and PATCH are not, unless the caller vouches for the request.
 */
bool cmr_http_request_idempotent(const struct cmr_http_request *req)
{
	static const char *const idempotent[] = { "GET", "HEAD", "PUT",
		                                  "DELETE", "OPTIONS" };
	size_t i;

	if (req->flags & CMR_HTTP_REQ_IDEMPOTENT)
		return true;
	if (req->method == NULL)
		return false;
	for (i = 0; i < CMR_ARRAY_SIZE(idempotent); i++) {
		if (strcmp(req->method, idempotent[i]) == 0)
			return true;
	}
	return false;
}

int cmr_transport_send_all(struct cmr_transport *t,
                           const struct cmr_http_request *req,
                           struct cmr_http_response *resp, size_t n,
                           struct cmr_error *err)
{
	assert(t != NULL && t->ops != NULL && t->ops->send_all != NULL);
	return t->ops->send_all(t, req, resp, n, err);
}

int cmr_transport_send(struct cmr_transport *t,
                       const struct cmr_http_request *req,
                       struct cmr_http_response *resp, struct cmr_error *err)
{
	return cmr_transport_send_all(t, req, resp, 1, err);
}

void cmr_transport_free(struct cmr_transport *t)
{
	if (t != NULL && t->ops != NULL && t->ops->free != NULL)
		t->ops->free(t);
}

int cmr_transport_clone(struct cmr_transport **out, struct cmr_transport *t,
                        struct cmr_error *err)
{
	*out = NULL;
	if (t == NULL || t->ops == NULL || t->ops->clone == NULL)
		return cmr_error_set(err, CMR_ENOTSUP,
		                     "this transport cannot be cloned");
	return t->ops->clone(out, t, err);
}
