/*
 * transport.h -- the HTTP seam between lib/api and the network.
 *
 * lib/api never talks to libcurl.  It builds struct cmr_http_request
 * values, hands a batch of them to a struct cmr_transport, and decodes the
 * struct cmr_http_response values that come back.  Two implementations
 * exist:
 *
 *   - the libcurl transport (lib/http/transport_curl.c), made with
 *     cmr_http_transport_new() below: TLS, HTTP Basic then session cookie,
 *     keep-alive, at most 8 connections, retries with backoff, a body cap;
 *   - a scripted fake for tests (tests/support/fake_transport.h).
 *
 * The unit of work is a *wave*: n independent requests sent concurrently,
 * costing one round trip when n <= max_connections.  A single request is a
 * wave of one.  docs/http.md has the retry table, the URL policy and the
 * authentication flow.
 *
 * The contract of a wave (every implementation keeps it):
 *
 *   - resp[i] answers req[i].  On entry the contents of resp[0..n) are
 *     ignored and overwritten, so pass fresh (or released) responses: a
 *     response that still owns a body would leak.  After the call, and
 *     whatever it returned, every resp[i] owns its body and must be
 *     released with cmr_http_response_release().
 *   - A request that got an HTTP answer -- any status, 4xx and 5xx
 *     included -- has resp[i].status set (100..599) and resp[i].err.code
 *     == CMR_OK.  HTTP error statuses are NOT errors at this layer: the
 *     body (CM's {"message": ..., "causes": [...]}) is returned so that
 *     lib/api can turn it into a CMR_EAPI error with CM's own words.
 *   - A request that got no answer has resp[i].status == 0 and its failure
 *     in resp[i].err: CMR_ETRANSPORT (connection, TLS, timeout, protocol,
 *     body over the cap; the text comes from curl_easy_strerror plus
 *     curl's detail), CMR_EINVAL (a malformed request), CMR_EINTR (not
 *     sent because of the `interrupted` flag) or CMR_ENOMEM.  A POST whose
 *     answer was lost after it may have reached CM also has
 *     CMR_HTTP_RESP_MAYBE_APPLIED in resp[i].flags: it was not re-sent.
 *   - send_all returns 0 when every request got an HTTP answer.  Otherwise
 *     it returns the code of the first failed request in req[] order and
 *     copies that request's message into err; the other responses are
 *     still filled in, so a caller may use the answers that did arrive.
 *   - Requests of one wave must not depend on each other: they may be sent
 *     in any order, and concurrently.
 */
#ifndef CMR_TRANSPORT_H
#define CMR_TRANSPORT_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/buf.h"
#include "cmr/clock.h"
#include "cmr/common.h"
#include "cmr/error.h"
#include "cmr/log.h"

/* ----------------------------------------------------------------------
 * Requests and responses
 */

enum cmr_http_req_flags {
	/*
	 * The request may be repeated safely even though its method is not
	 * idempotent (e.g. a POST that only reads, such as a batch of GETs).
	 * GET, HEAD, PUT, DELETE and OPTIONS are idempotent anyway.
	 */
	CMR_HTTP_REQ_IDEMPOTENT = 1 << 0,
	/* Never retry this request (one attempt, plus a 401 re-auth). */
	CMR_HTTP_REQ_NO_RETRY = 1 << 1,
};

/*
 * One request.  Every pointer is borrowed and must stay valid until
 * send_all returns.
 */
struct cmr_http_request {
	/* "GET", "PUT", "POST", "DELETE", ... (upper case) */
	const char *method;
	/*
	 * The target as a path-absolute reference with an optional query,
	 * e.g. "/api/v45/clusters?view=summary", already percent-encoded
	 * (cmr_buf_add_urlenc).  It is appended to the transport's base URL,
	 * so a CM behind a reverse proxy at https://h/cm gets
	 * https://h/cm/api/v45/...  Absolute URLs are refused (CMR_EINVAL):
	 * the credentials must only ever go to the configured CM.
	 */
	const char *url;
	/* Content-Type of body; NULL means "application/json" when there is
	 * a body and no header when there is none. */
	const char *content_type;
	/* The request body (NULL or body_len bytes, not NUL-terminated).
	 * Never logged: PUT bodies can hold secrets. */
	const char *body;
	size_t body_len;
	/* enum cmr_http_req_flags */
	unsigned flags;
};

enum cmr_http_resp_flags {
	/* The request was retried at least once (transient failure). */
	CMR_HTTP_RESP_RETRIED = 1 << 0,
	/* CM answered 401 to the session cookie; the request was re-sent
	 * once with HTTP Basic credentials. */
	CMR_HTTP_RESP_REAUTHED = 1 << 1,
	/*
	 * Outcome unknown: a non-idempotent request (POST) failed after it
	 * may have reached CM -- the connection broke or timed out after the
	 * request was sent, so CM may have acted on it.  It was NOT re-sent.
	 * The caller must find out what happened (e.g. look for the command
	 * among the cluster's active commands) before sending it again.
	 * Set together with err.code == CMR_ETRANSPORT and status == 0.
	 */
	CMR_HTTP_RESP_MAYBE_APPLIED = 1 << 2,
	/* The body exceeded the size cap (err.code == CMR_ETRANSPORT). */
	CMR_HTTP_RESP_TOOBIG = 1 << 3,
};

#define CMR_HTTP_CONTENT_TYPE_MAX 128

/*
 * One response; owned by the caller, filled by send_all, released with
 * cmr_http_response_release().
 */
struct cmr_http_response {
	/* HTTP status of the final attempt, or 0 when there was no answer. */
	long status;
	/* The response body, NUL-terminated, capped at the transport's
	 * max_body.  Owned by the response. */
	struct cmr_buf body;
	/* Content-Type of the answer ("" when absent; truncated if longer
	 * than CMR_HTTP_CONTENT_TYPE_MAX - 1 bytes). */
	char content_type[CMR_HTTP_CONTENT_TYPE_MAX];
	/* enum cmr_http_resp_flags */
	unsigned flags;
	/* HTTP exchanges attempted for this request (1 without retries). */
	unsigned attempts;
	/* Time from the start of the wave to this request's completion,
	 * by the transport's clock, backoff included. */
	int64_t duration_ms;
	/* This request's failure when status == 0; CMR_OK otherwise. */
	struct cmr_error err;
};

/* A response with no body and no error. */
void cmr_http_response_init(struct cmr_http_response *resp);

/* Frees the body; the response is as after init.  Accepts NULL. */
void cmr_http_response_release(struct cmr_http_response *resp);

/* True for methods that may be repeated safely (or the flag says so). */
bool cmr_http_request_idempotent(const struct cmr_http_request *req);

/* ----------------------------------------------------------------------
 * The transport
 */

/*
 * Counters kept by every transport since it was made.  They only grow;
 * for per-wave numbers, copy the struct before a wave and subtract.
 * Meant for benchmarks, tests and -vv summaries.
 */
struct cmr_http_stats {
	uint64_t waves;          /* send_all calls with n > 0 */
	uint64_t requests;       /* requests asked for (sum of n) */
	uint64_t attempts;       /* HTTP exchanges tried, retries included */
	uint64_t retries;        /* re-sends after a transient failure */
	uint64_t reauths;        /* re-sends with Basic after a 401 */
	uint64_t failures;       /* requests that ended with no answer */
	uint64_t connects;       /* new connections opened (curl only) */
	uint64_t bytes_sent;     /* request body bytes */
	uint64_t bytes_received; /* response body bytes */
	uint64_t max_in_flight;  /* most requests in flight at once */
};

struct cmr_transport;

struct cmr_transport_ops {
	/*
	 * Performs n independent requests concurrently (one round-trip
	 * wave) and fills resp[i] for req[i]; see the contract at the top of
	 * this file.  n == 0 is a no-op returning 0.  May be called again
	 * and again; not thread-safe (one wave at a time per transport).
	 */
	int (*send_all)(struct cmr_transport *t,
	                const struct cmr_http_request *req,
	                struct cmr_http_response *resp, size_t n,
	                struct cmr_error *err);
	/* Frees the transport (the implementation's whole struct). */
	void (*free)(struct cmr_transport *t);
	/*
	 * Optional (NULL: not supported).  Makes an independent transport
	 * to the same server with the same options and credentials -- its
	 * own connections, its own session -- so that another thread can
	 * use it while this one is in use.  Call it from the thread that
	 * owns t, never while t is sending.
	 */
	int (*clone)(struct cmr_transport **out, struct cmr_transport *t,
	             struct cmr_error *err);
};

/*
 * The base every implementation embeds as its first member (and gets back
 * with cmr_container_of).  `stats` is maintained by the implementation and
 * may be read by anyone holding the transport.
 */
struct cmr_transport {
	const struct cmr_transport_ops *ops;
	struct cmr_http_stats stats;
};

/* t->ops->send_all(t, req, resp, n, err). */
int cmr_transport_send_all(struct cmr_transport *t,
                           const struct cmr_http_request *req,
                           struct cmr_http_response *resp, size_t n,
                           struct cmr_error *err);

/* A wave of one: cmr_transport_send_all(t, req, resp, 1, err). */
int cmr_transport_send(struct cmr_transport *t,
                       const struct cmr_http_request *req,
                       struct cmr_http_response *resp, struct cmr_error *err);

/* Frees any transport; accepts NULL. */
void cmr_transport_free(struct cmr_transport *t);

/*
 * t->ops->clone(out, t, err), or CMR_ENOTSUP when the transport cannot
 * be cloned (the scripted fake of the unit tests).
 */
int cmr_transport_clone(struct cmr_transport **out, struct cmr_transport *t,
                        struct cmr_error *err);

/* ----------------------------------------------------------------------
 * The libcurl transport
 */

#define CMR_HTTP_DEFAULT_CONNECT_TIMEOUT_MS ((int64_t)10 * 1000)
#define CMR_HTTP_DEFAULT_REQUEST_TIMEOUT_MS ((int64_t)120 * 1000)
#define CMR_HTTP_DEFAULT_RETRY_DEADLINE_MS  ((int64_t)60 * 1000)
#define CMR_HTTP_DEFAULT_BACKOFF_INITIAL_MS ((int64_t)200)
#define CMR_HTTP_DEFAULT_BACKOFF_MAX_MS     ((int64_t)5000)
#define CMR_HTTP_DEFAULT_MAX_BODY           ((size_t)32 << 20)
#define CMR_HTTP_DEFAULT_MAX_CONNECTIONS    8u

/*
 * Options of cmr_http_transport_new.  Zero means "the default" for every
 * number; strings are copied, so the struct and its strings may be
 * discarded after the call.
 */
struct cmr_http_options {
	/* CM's base URL, e.g. "https://cm.example.com:7183" (a path prefix
	 * is allowed; no query, fragment or user info).  Checked with
	 * cmr_http_check_url(). */
	const char *base_url;
	/* HTTP Basic credentials.  The password is never logged and is
	 * wiped from memory when the transport is freed.  NULL username: no
	 * authentication at all. */
	const char *username;
	const char *password;
	/* PEM file of CA certificates to trust instead of the system's. */
	const char *ca_file;
	/* Skip TLS certificate and host name verification.  The transport
	 * only obeys; the caller must warn loudly (it is never the
	 * default). */
	bool insecure;
	/* Allow http:// to a host that is not loopback (credentials in
	 * clear on the network). */
	bool allow_insecure_http;
	/* Time to establish a connection (TCP + TLS); default 10 s. */
	int64_t connect_timeout_ms;
	/* Time for one whole exchange; default 120 s (a large deployment
	 * export is slow). */
	int64_t request_timeout_ms;
	/* How long, from the start of a wave, a request may keep being
	 * retried; default 60 s.  Negative: never retry. */
	int64_t retry_deadline_ms;
	/* Backoff: first delay (default 200 ms), doubling up to the max
	 * (default 5 s); each delay is jittered to [d/2, d]. */
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
	/* Cap on a response body; default 32 MiB. */
	size_t max_body;
	/* Most connections open at once (also the most requests in flight);
	 * default 8. */
	unsigned max_connections;
	/* User-Agent; default "cmrecon/<version>". */
	const char *user_agent;
	/* Where debug/trace lines go ("http" component); NULL: nowhere.
	 * Borrowed: must outlive the transport. */
	const struct cmr_logger *logger;
	/* Time source for backoff and deadlines; NULL: cmr_clock_system().
	 * Borrowed: must outlive the transport. */
	struct cmr_clock *clock;
	/*
	 * Set by a signal handler (Ctrl-C) to stop a wave early: requests not
	 * yet sent, or waiting to be retried, end with CMR_EINTR; requests
	 * already in flight are left to finish (aborting one could leave a
	 * POST's outcome unknown).  Checked at least once a second.  NULL:
	 * never interrupted.  Borrowed: must outlive the transport.  An
	 * atomic (lock-free, so a handler may store to it) because other
	 * threads read it: the executor's cluster lanes.
	 */
	atomic_int *interrupted;
};

/*
 * Makes a libcurl transport for the CM at opts->base_url and stores it in
 * *out (free with cmr_transport_free).  No connection is opened yet.
 *
 * Errors: CMR_EINVAL for a URL the policy refuses (see cmr_http_check_url)
 * or a password without a username; CMR_ETRANSPORT when libcurl cannot be
 * initialised or lacks a needed feature; CMR_ENOMEM.
 */
int cmr_http_transport_new(struct cmr_transport **out,
                           const struct cmr_http_options *opts,
                           struct cmr_error *err);

/*
 * The URL policy, for the CLI to check --url early (the transport applies
 * it again).  Accepts "https://HOST[:PORT][/PATH]".  "http://" is accepted
 * only when HOST is loopback (localhost, 127.0.0.0/8, ::1) or when
 * allow_insecure_http is set, because the credentials would otherwise
 * cross the network in clear.  Refuses other schemes, user info in the
 * URL ("https://user:pw@host": use --user and --password-file), a query
 * or fragment, a bad port, and an empty host.
 *
 * Returns 0, or CMR_EINVAL with a one-line message saying why and what to
 * do instead.  Needs no network.
 */
int cmr_http_check_url(const char *url, bool allow_insecure_http,
                       struct cmr_error *err);

/*
 * True when url's host is loopback (localhost, 127.0.0.0/8, ::1), so
 * plain http would not leave the machine.  False for anything unparsable.
 */
bool cmr_http_url_is_loopback(const char *url);

#endif
