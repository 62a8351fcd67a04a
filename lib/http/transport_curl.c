/*
 * transport_curl.c -- the libcurl transport: the only file of cmrecon that
 * includes <curl/curl.h>.
 *
 * One transport talks to one CM.  It owns a CURLM multi handle, a CURLSH
 * share holding the cookie jar (so every easy handle sees CM's session
 * cookie), and a pool of at most max_connections easy handles that are
 * reused wave after wave.  The multi keeps the connections alive between
 * waves, so a plan's three waves pay for TLS handshakes once.
 *
 * A wave (send_all) runs every request as a "slot" through a small state
 * machine:
 *
 *     READY --(free easy handle, ready_at reached)--> RUNNING
 *     RUNNING --(answer or final failure)--> DONE
 *     RUNNING --(transient failure, 401 with cookie)--> READY (later)
 *
 * At most max_connections slots run at once (the multi is capped the same
 * way); the others wait for a handle.  Retried slots wait for their backoff
 * delay.  When nothing runs and a slot is waiting, the transport sleeps on
 * the cmr_clock, so tests with a fake clock retry instantly; while other
 * transfers run, it waits on the sockets instead.
 *
 * Invariants worth keeping when editing:
 *   - curl types never leave this file; cmr_transport is the only face;
 *   - nothing here logs a header, a cookie, the password or a body;
 *   - a non-idempotent request is re-sent only when libcurl reports that no
 *     byte of it was written (request size 0) -- never after it may have
 *     reached CM -- and it always goes out on a fresh connection, because
 *     libcurl silently re-sends a request whose reused connection turns out
 *     dead (Curl_retry_request), which is fine for a GET but not a POST.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cmr/alloc.h"
#include "cmr/transport.h"

#ifndef CMR_VERSION
#define CMR_VERSION "0"
#endif

/* ----------------------------------------------------------------------
 * Types
 */

enum slot_state { SLOT_READY, SLOT_RUNNING, SLOT_DONE };

struct slot {
	const struct cmr_http_request *req;
	struct cmr_http_response *resp;
	enum slot_state state;
	int64_t ready_at;  /* clock time at which it may start */
	int64_t deadline;  /* no retry may start after this */
	unsigned retries;  /* transient-failure retries so far */
	bool reauthed;     /* the one 401 re-authentication happened */
	bool force_basic;  /* send Basic even if a session exists */
	bool sent_basic;   /* the running attempt carries Basic */
	bool toobig;       /* the write callback hit the cap */
	bool oom;          /* the write callback ran out of memory */
	size_t pool_index; /* the easy handle while RUNNING */
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
};

struct curl_transport {
	struct cmr_transport base; /* first: cmr_container_of */
	CURLM *multi;
	CURLSH *share;
	CURL **pool; /* max_conns handles, created lazily */
	bool *busy;
	size_t max_conns;
	char *base_url; /* without trailing '/' */
	char *username;
	char *password;
	char *ca_file;
	char *user_agent;
	bool insecure;
	bool allow_insecure_http;
	bool have_session;    /* CM gave a cookie: send it instead of Basic */
	bool basic_always;    /* the cookie never worked: stop relying on it */
	unsigned cookie_401s; /* 401s to the cookie since it last worked */
	bool global_init;
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	int64_t retry_deadline_ms;
	int64_t backoff_initial_ms;
	int64_t backoff_max_ms;
	size_t max_body;
	const struct cmr_logger *log;
	struct cmr_clock *clock;
	atomic_int *interrupted;
};

/* ----------------------------------------------------------------------
 * Small helpers
 */

/*
 * Logs one "http" line.  A function rather than the cmr_log macro so the
 * level test is written once; the message is formatted only when the
 * level is enabled, as with the macro.
 */
static void hlog(const struct curl_transport *t, enum cmr_log_level level,
                 const char *fmt, ...) CMR_PRINTF(3, 4);

static void hlog(const struct curl_transport *t, enum cmr_log_level level,
                 const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (!cmr_log_enabled(t->log, level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cmr_log_emit(t->log, level, "http", "%s", msg);
}

static char *dup_opt(const char *s, bool *oom)
{
	char *copy;

	if (s == NULL)
		return NULL;
	copy = cmr_strdup(s);
	if (copy == NULL)
		*oom = true;
	return copy;
}

/* Overwrites a secret before freeing it; volatile so it is not elided. */
static void free_secret(char *s)
{
	volatile char *p = s;

	if (s == NULL)
		return;
	while (*p != '\0')
		*p++ = '\0';
	cmr_free(s);
}

static long clamp_long(int64_t v)
{
	if (v > LONG_MAX)
		return LONG_MAX;
	if (v < 0)
		return 0;
	return (long)v;
}

static int64_t now_ms(const struct curl_transport *t)
{
	return t->clock->now_ms(t->clock);
}

/*
 * The length of the path part of a request target, for log lines and
 * messages: the query is left out (it can carry an audit message; harmless,
 * but long).
 */
static int path_len(const char *url)
{
	size_t n = strcspn(url, "?");

	return n > 200 ? 200 : (int)n;
}

/* ----------------------------------------------------------------------
 * The retry table (docs/http.md keeps the human version in sync)
 */

/*
 * curl results worth another attempt: the server was unreachable, reset
 * the connection, went silent, or closed before answering.  TLS and
 * certificate failures, DNS failures and protocol errors are permanent
 * for our purposes: retrying them only delays the real message.
 */
static bool curl_error_transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

/* HTTP answers that mean "try again shortly": gateway trouble, overload. */
static bool status_transient(long status)
{
	return status == 502 || status == 503 || status == 504;
}

/*
 * The backoff before retry number `retry` (1-based): initial doubling up to
 * max, then "equal jitter" -- a uniform value in [d/2, d] -- so a crowd of
 * clients restarting with CM does not return in lockstep.
 */
static int64_t backoff_ms(const struct curl_transport *t, unsigned retry)
{
	int64_t d = t->backoff_initial_ms;
	unsigned i;

	for (i = 1; i < retry && d < t->backoff_max_ms; i++)
		d *= 2;
	if (d > t->backoff_max_ms)
		d = t->backoff_max_ms;
	return d / 2 + (int64_t)cmr_jitter_rand((uint64_t)(d - d / 2) + 1);
}

/*
 * Decides whether a finished attempt is retried and when.  Returns true and
 * sets *delay when it is.  `retry_after_s` is CM's Retry-After (0: none).
 */
static bool schedule_retry(const struct curl_transport *t, const struct slot *s,
                           int64_t retry_after_s, int64_t *delay)
{
	int64_t d;

	if (t->retry_deadline_ms < 0 || (s->req->flags & CMR_HTTP_REQ_NO_RETRY))
		return false;
	d = backoff_ms(t, s->retries + 1);
	if (retry_after_s > 0 && retry_after_s < INT64_MAX / 1000 &&
	    retry_after_s * 1000 > d)
		d = retry_after_s * 1000;
	if (now_ms(t) + d > s->deadline)
		return false;
	*delay = d;
	return true;
}

/* ----------------------------------------------------------------------
 * Setting up one attempt
 */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
	struct slot *s = ud;
	size_t n = size * nmemb;

	if (cmr_buf_add(&s->resp->body, data, n) < 0) {
		if (cmr_buf_toobig(&s->resp->body))
			s->toobig = true;
		else
			s->oom = true;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	return n;
}

/*
 * Option setters that keep the first failure in *rc, so a run of options
 * is checked once at the end.  (Through these, curl's compile-time option
 * type checks do not apply: each setter takes the one type it passes.)
 */
static void opt_long(CURL *h, CURLoption opt, long v, CURLcode *rc)
{
	if (*rc == CURLE_OK)
		*rc = curl_easy_setopt(h, opt, v);
}

static void opt_ptr(CURL *h, CURLoption opt, const void *v, CURLcode *rc)
{
	if (*rc == CURLE_OK)
		*rc = curl_easy_setopt(h, opt, v);
}

static void opt_off(CURL *h, CURLoption opt, curl_off_t v, CURLcode *rc)
{
	if (*rc == CURLE_OK)
		*rc = curl_easy_setopt(h, opt, v);
}

static bool method_is(const struct cmr_http_request *req, const char *m)
{
	return strcmp(req->method, m) == 0;
}

/* Accept, no Expect: 100-continue, and the body's Content-Type. */
static int build_headers(struct slot *s, struct cmr_error *err)
{
	const struct cmr_http_request *req = s->req;
	struct cmr_buf ct = CMR_BUF_INIT;
	struct curl_slist *l;

	curl_slist_free_all(s->headers);
	s->headers = NULL;
	l = curl_slist_append(NULL, "Accept: application/json");
	if (l == NULL)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	s->headers = l;
	/* no "Expect: 100-continue" round trip before a PUT body */
	if (curl_slist_append(s->headers, "Expect:") == NULL)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if (req->body == NULL && !method_is(req, "POST") &&
	    !method_is(req, "PUT"))
		return 0;
	cmr_buf_addf(&ct, "Content-Type: %s",
	             req->content_type ? req->content_type
	                               : "application/json");
	l = cmr_buf_error(&ct) ? NULL : curl_slist_append(s->headers, ct.ptr);
	cmr_buf_release(&ct);
	if (l == NULL)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

/* The options every attempt gets, whatever its method. */
static void set_common(const struct curl_transport *t, struct slot *s, CURL *h,
                       const char *url, CURLcode *rc)
{
	opt_ptr(h, CURLOPT_URL, url, rc);
	opt_ptr(h, CURLOPT_PRIVATE, s, rc);
	opt_ptr(h, CURLOPT_SHARE, t->share, rc);
	/* The cookie engine, in memory only (the share holds the jar). */
	opt_ptr(h, CURLOPT_COOKIEFILE, "", rc);
	opt_long(h, CURLOPT_NOSIGNAL, 1L, rc);
	opt_ptr(h, CURLOPT_PROTOCOLS_STR, "http,https", rc);
	opt_long(h, CURLOPT_FOLLOWLOCATION, 0L, rc);
	opt_long(h, CURLOPT_TCP_KEEPALIVE, 1L, rc);
	opt_long(h, CURLOPT_CONNECTTIMEOUT_MS,
	         clamp_long(t->connect_timeout_ms), rc);
	opt_long(h, CURLOPT_TIMEOUT_MS, clamp_long(t->request_timeout_ms), rc);
	opt_off(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body, rc);
	/*
	 * Let CM compress (a deployment export shrinks ~10x).  The cap still
	 * holds: write_cb sees the decoded bytes, so a "zip bomb" stops at
	 * max_body like any other large answer.
	 */
	opt_ptr(h, CURLOPT_ACCEPT_ENCODING, "", rc);
	if (*rc == CURLE_OK)
		*rc = curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	opt_ptr(h, CURLOPT_WRITEDATA, s, rc);
	opt_ptr(h, CURLOPT_ERRORBUFFER, s->errbuf, rc);
	opt_ptr(h, CURLOPT_USERAGENT, t->user_agent, rc);
	opt_ptr(h, CURLOPT_HTTPHEADER, s->headers, rc);
	opt_long(h, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L, rc);
	opt_long(h, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L, rc);
	if (t->ca_file != NULL)
		opt_ptr(h, CURLOPT_CAINFO, t->ca_file, rc);
	/* See the file comment: a POST never rides a reused connection. */
	if (!cmr_http_request_idempotent(s->req))
		opt_long(h, CURLOPT_FRESH_CONNECT, 1L, rc);
}

/* The method and the body (borrowed by libcurl until the attempt ends). */
static void set_method(const struct cmr_http_request *req, CURL *h,
                       CURLcode *rc)
{
	if (method_is(req, "GET") && req->body == NULL) {
		opt_long(h, CURLOPT_HTTPGET, 1L, rc);
		return;
	}
	if (method_is(req, "HEAD")) {
		opt_long(h, CURLOPT_NOBODY, 1L, rc);
		return;
	}
	if (!method_is(req, "POST"))
		opt_ptr(h, CURLOPT_CUSTOMREQUEST, req->method, rc);
	if (req->body == NULL && method_is(req, "DELETE"))
		return;
	opt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len, rc);
	opt_ptr(h, CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "", rc);
}

/* Basic credentials, unless the session cookie will do. */
static void set_auth(const struct curl_transport *t, struct slot *s, CURL *h,
                     CURLcode *rc)
{
	s->sent_basic = false;
	if (t->username == NULL)
		return;
	if (t->have_session && !s->force_basic && !t->basic_always)
		return;
	opt_long(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC, rc);
	opt_ptr(h, CURLOPT_USERNAME, t->username, rc);
	opt_ptr(h, CURLOPT_PASSWORD, t->password ? t->password : "", rc);
	s->sent_basic = true;
}

/*
 * Fills the easy handle for slot s's next attempt.  The handle is reset
 * first, so nothing of the previous request (a body, a custom method,
 * credentials) can leak into this one; the connection cache lives in the
 * multi and the cookies in the share, so the reset costs nothing.
 */
static int setup_attempt(const struct curl_transport *t, struct slot *s,
                         CURL *h, const char *url, struct cmr_error *err)
{
	CURLcode rc = CURLE_OK;
	int error;

	/*
	 * libcurl keeps the list of cookie "files" (our "") outside what
	 * curl_easy_reset frees, and loses it: clear it first (the cookies
	 * themselves live in the share and stay).
	 */
	(void)curl_easy_setopt(h, CURLOPT_COOKIEFILE, NULL);
	curl_easy_reset(h);
	s->errbuf[0] = '\0';
	s->toobig = false;
	s->oom = false;
	cmr_buf_reset(&s->resp->body);
	if ((error = build_headers(s, err)) < 0)
		return error;
	set_common(t, s, h, url, &rc);
	set_method(s->req, h, &rc);
	set_auth(t, s, h, &rc);
	if (rc != CURLE_OK)
		return cmr_error_set(err, CMR_ETRANSPORT,
		                     "setting up '%s %.*s': %s", s->req->method,
		                     path_len(s->req->url), s->req->url,
		                     curl_easy_strerror(rc));
	return 0;
}

/* Checks a request before anything is sent. */
static int check_request(const struct cmr_http_request *req,
                         struct cmr_error *err)
{
	const char *m;

	if (req->method == NULL || *req->method == '\0')
		return cmr_error_set(err, CMR_EINVAL, "request without method");
	for (m = req->method; *m; m++) {
		if (*m < 'A' || *m > 'Z')
			return cmr_error_set(err, CMR_EINVAL,
			                     "invalid HTTP method '%s'",
			                     req->method);
	}
	if (req->url == NULL || req->url[0] != '/' || req->url[1] == '/')
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "request target '%s' is not a path starting with '/'",
		        req->url ? req->url : "(null)");
	if (strpbrk(req->url, " \r\n\t") != NULL)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "request target contains white space or line breaks");
	return 0;
}

/* ----------------------------------------------------------------------
 * The session cookie
 */

/* True when the shared jar holds at least one cookie (from CM). */
static bool jar_has_cookie(CURL *h)
{
	struct curl_slist *cookies = NULL;
	bool any;

	if (curl_easy_getinfo(h, CURLINFO_COOKIELIST, &cookies) != CURLE_OK)
		return false;
	any = cookies != NULL;
	curl_slist_free_all(cookies);
	return any;
}

/* Forgets the session: the next requests carry Basic again. */
static void drop_session(struct curl_transport *t, CURL *h)
{
	if (curl_easy_setopt(h, CURLOPT_COOKIELIST, "ALL") != CURLE_OK)
		hlog(t, CMR_LOG_DEBUG, "could not clear the cookie jar");
	t->have_session = false;
}

/* ----------------------------------------------------------------------
 * Finishing an attempt
 */

static void finish_slot(struct curl_transport *t, struct slot *s,
                        int64_t wave_start)
{
	s->state = SLOT_DONE;
	s->resp->duration_ms = now_ms(t) - wave_start;
	if (s->retries > 0)
		s->resp->flags |= CMR_HTTP_RESP_RETRIED;
	if (s->resp->status == 0)
		t->base.stats.failures++;
	else
		t->base.stats.bytes_received += s->resp->body.len;
	curl_slist_free_all(s->headers);
	s->headers = NULL;
}

static void requeue(struct curl_transport *t, struct slot *s, int64_t delay)
{
	s->state = SLOT_READY;
	s->ready_at = now_ms(t) + delay;
}

static void retry_later(struct curl_transport *t, struct slot *s, int64_t delay,
                        const char *why)
{
	hlog(t, CMR_LOG_DEBUG, "%s %.*s: %s; retrying in %lld ms (retry %u)",
	     s->req->method, path_len(s->req->url), s->req->url, why,
	     (long long)delay, s->retries + 1);
	s->retries++;
	t->base.stats.retries++;
	requeue(t, s, delay);
}

/*
 * A 401 to a request that carried only the session cookie: the session
 * expired (or CM restarted).  Re-sends the request once with Basic and
 * returns true; false when this 401 is the answer to hand over.
 */
static bool try_reauth(struct curl_transport *t, struct slot *s, CURL *h,
                       long status)
{
	if (status != 401 || s->sent_basic || t->username == NULL ||
	    s->reauthed)
		return false;
	hlog(t, CMR_LOG_DEBUG,
	     "%s %.*s: 401 to the session cookie; re-authenticating",
	     s->req->method, path_len(s->req->url), s->req->url);
	/*
	 * A cookie that is refused again and again (one that does not cover
	 * the API's path, say) would double every request: after three
	 * refusals in a row, send the credentials every time.  Only the
	 * first 401 to a given session counts: a wave's other requests in
	 * flight with the same expired cookie are one refusal, not several.
	 */
	if (t->have_session) {
		drop_session(t, h);
		if (++t->cookie_401s >= 3 && !t->basic_always) {
			hlog(t, CMR_LOG_DEBUG,
			     "the session cookie keeps being refused; sending credentials with every request");
			t->basic_always = true;
		}
	}
	s->reauthed = true;
	s->force_basic = true;
	s->resp->flags |= CMR_HTTP_RESP_REAUTHED;
	t->base.stats.reauths++;
	requeue(t, s, 0);
	return true;
}

/* 502/503/504 to an idempotent request, within the deadline. */
static bool try_retry_status(struct curl_transport *t, struct slot *s, CURL *h,
                             long status)
{
	curl_off_t retry_after = 0;
	char why[32];
	int64_t delay;

	if (!status_transient(status) || !cmr_http_request_idempotent(s->req))
		return false;
	if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) !=
	    CURLE_OK)
		retry_after = 0;
	if (!schedule_retry(t, s, (int64_t)retry_after, &delay))
		return false;
	snprintf(why, sizeof(why), "status %ld", status);
	retry_later(t, s, delay, why);
	return true;
}

/* Learns whether CM has given us a session cookie to use from now on. */
static void note_session(struct curl_transport *t, const struct slot *s,
                         CURL *h, long status)
{
	if (status == 401)
		return;
	if (!s->sent_basic) {
		t->cookie_401s = 0; /* the cookie works */
		return;
	}
	if (!t->have_session && jar_has_cookie(h)) {
		hlog(t, CMR_LOG_TRACE, "CM gave a session cookie; using it");
		t->have_session = true;
	}
}

static void copy_content_type(struct cmr_http_response *resp, CURL *h)
{
	const char *ctype = NULL;
	size_t n;

	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype) != CURLE_OK ||
	    ctype == NULL)
		return;
	n = strlen(ctype);
	if (n >= sizeof(resp->content_type))
		n = sizeof(resp->content_type) - 1;
	memcpy(resp->content_type, ctype, n);
	resp->content_type[n] = '\0';
}

/*
 * The attempt got an HTTP answer.  Either it is re-sent (re-auth, retry)
 * or it is the answer the caller gets, whatever its status.
 */
static void handle_answer(struct curl_transport *t, struct slot *s, CURL *h,
                          long status, int64_t wave_start)
{
	if (try_reauth(t, s, h, status) || try_retry_status(t, s, h, status))
		return;
	note_session(t, s, h, status);
	s->resp->status = status;
	copy_content_type(s->resp, h);
	finish_slot(t, s, wave_start);
	hlog(t, CMR_LOG_DEBUG, "%s %.*s -> %ld (%lld ms, %zu bytes)",
	     s->req->method, path_len(s->req->url), s->req->url, status,
	     (long long)s->resp->duration_ms, s->resp->body.len);
}

/* Sets the final error of an attempt that got no answer. */
static void set_failure(const struct curl_transport *t, struct slot *s,
                        CURLcode rc, bool maybe_applied)
{
	const struct cmr_http_request *req = s->req;
	const char *sep = s->errbuf[0] ? ": " : "";

	if (s->oom || rc == CURLE_OUT_OF_MEMORY) {
		cmr_error_set(&s->resp->err, CMR_ENOMEM,
		              "out of memory reading the answer to '%s %.*s'",
		              req->method, path_len(req->url), req->url);
	} else if (s->toobig || rc == CURLE_FILESIZE_EXCEEDED) {
		s->resp->flags |= CMR_HTTP_RESP_TOOBIG;
		cmr_error_set(
		        &s->resp->err, CMR_ETRANSPORT,
		        "the answer to '%s %.*s' is larger than the limit of %zu bytes",
		        req->method, path_len(req->url), req->url, t->max_body);
	} else if (maybe_applied) {
		s->resp->flags |= CMR_HTTP_RESP_MAYBE_APPLIED;
		cmr_error_set(
		        &s->resp->err, CMR_ETRANSPORT,
		        "'%s %.*s': %s%s%s; the request may have reached CM, so it was not re-sent",
		        req->method, path_len(req->url), req->url,
		        curl_easy_strerror(rc), sep, s->errbuf);
	} else {
		cmr_error_set(&s->resp->err, CMR_ETRANSPORT,
		              "'%s %.*s': %s%s%s%s", req->method,
		              path_len(req->url), req->url,
		              curl_easy_strerror(rc), sep, s->errbuf,
		              s->retries > 0 ? " (gave up retrying)" : "");
	}
}

/* The attempt failed without an HTTP answer: retry, or fail the slot. */
static void handle_failure(struct curl_transport *t, struct slot *s, CURL *h,
                           CURLcode rc, int64_t wave_start)
{
	bool idempotent = cmr_http_request_idempotent(s->req);
	bool retryable;
	long req_size = 1;
	int64_t delay;

	/*
	 * "May have been sent": libcurl wrote at least part of the request.
	 * A request that never left (refused, connect timeout) is safe to
	 * repeat whatever its method.
	 */
	if (curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &req_size) != CURLE_OK)
		req_size = 1;
	retryable = !s->oom && !s->toobig && curl_error_transient(rc) &&
	            (idempotent || req_size == 0);
	if (retryable && schedule_retry(t, s, 0, &delay)) {
		retry_later(t, s, delay, curl_easy_strerror(rc));
		return;
	}
	set_failure(t, s, rc, !idempotent && req_size > 0);
	finish_slot(t, s, wave_start);
	hlog(t, CMR_LOG_DEBUG, "%s %.*s failed: %s", s->req->method,
	     path_len(s->req->url), s->req->url, s->resp->err.msg);
}

/* ----------------------------------------------------------------------
 * The wave
 */

/* A free easy handle's index in *out; CMR_ERROR (no message) if none. */
static int get_handle(struct curl_transport *t, size_t *out,
                      struct cmr_error *err)
{
	size_t i;

	for (i = 0; i < t->max_conns; i++) {
		if (t->busy[i])
			continue;
		if (t->pool[i] == NULL) {
			t->pool[i] = curl_easy_init();
			if (t->pool[i] == NULL)
				return cmr_error_set(err, CMR_ENOMEM,
				                     "out of memory");
		}
		*out = i;
		return 0;
	}
	return CMR_ERROR;
}

/*
 * Starts slot s on a free handle.  Returns CMR_ERROR when no handle is
 * free (the slot stays READY), else 0 -- a setup failure finishes the slot
 * with its error.
 */
static int start_slot(struct curl_transport *t, struct slot *s,
                      struct cmr_buf *url, int64_t wave_start)
{
	struct cmr_error *err = &s->resp->err;
	size_t idx = 0;
	CURLMcode mrc;

	if (get_handle(t, &idx, err) < 0) {
		if (err->code == CMR_OK)
			return CMR_ERROR; /* wait for a handle */
		goto failed;
	}
	cmr_buf_reset(url);
	cmr_buf_adds(url, t->base_url);
	cmr_buf_adds(url, s->req->url);
	if (cmr_buf_error(url)) {
		cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto failed;
	}
	if (setup_attempt(t, s, t->pool[idx], url->ptr, err) < 0)
		goto failed;
	mrc = curl_multi_add_handle(t->multi, t->pool[idx]);
	if (mrc != CURLM_OK) {
		cmr_error_set(err, CMR_ETRANSPORT, "'%s %.*s': %s",
		              s->req->method, path_len(s->req->url),
		              s->req->url, curl_multi_strerror(mrc));
		goto failed;
	}
	t->busy[idx] = true;
	s->pool_index = idx;
	s->state = SLOT_RUNNING;
	s->resp->attempts++;
	t->base.stats.attempts++;
	t->base.stats.bytes_sent += s->req->body_len;
	hlog(t, CMR_LOG_TRACE, "%s %.*s: sending (attempt %u, %s)",
	     s->req->method, path_len(s->req->url), s->req->url,
	     s->resp->attempts, s->sent_basic ? "basic auth" : "session");
	return 0;

failed:
	finish_slot(t, s, wave_start);
	return 0;
}

/* A transfer of the multi finished: take its handle back, judge it. */
static void on_done(struct curl_transport *t, CURLMsg *msg, int64_t wave_start)
{
	CURL *h = msg->easy_handle;
	CURLcode rc = msg->data.result;
	char *priv = NULL;
	struct slot *s;
	long status = 0;
	long connects = 0;

	if (curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv) != CURLE_OK ||
	    priv == NULL)
		return;
	s = (struct slot *)(void *)priv;
	curl_multi_remove_handle(t->multi, h);
	t->busy[s->pool_index] = false;
	if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK)
		connects = 0;
	if (connects > 0)
		t->base.stats.connects += (uint64_t)connects;
	if (rc == CURLE_OK &&
	    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	if (rc == CURLE_OK && status >= 100 && status <= 599)
		handle_answer(t, s, h, status, wave_start);
	else
		handle_failure(t, s, h, rc == CURLE_OK ? CURLE_GOT_NOTHING : rc,
		               wave_start);
}

/* Where a wave stands after start_ready. */
struct wave_state {
	size_t running;     /* slots RUNNING */
	size_t pending;     /* slots READY (waiting for a handle or backoff) */
	int64_t next_ready; /* earliest future ready_at; INT64_MAX if none */
};

/*
 * Ctrl-C: fails what has not been sent (or waits for a retry); what is in
 * flight finishes normally.
 */
static void interrupt_pending(struct curl_transport *t, struct slot *slots,
                              size_t n, int64_t wave_start)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (s->state != SLOT_READY)
			continue;
		cmr_error_set(&s->resp->err, CMR_EINTR,
		              "'%s %.*s': interrupted before it was sent",
		              s->req->method, path_len(s->req->url),
		              s->req->url);
		s->resp->status = 0;
		finish_slot(t, s, wave_start);
	}
}

/* Starts every slot that is due and has a handle; counts the rest. */
static void start_ready(struct curl_transport *t, struct slot *slots, size_t n,
                        struct cmr_buf *url, int64_t wave_start,
                        struct wave_state *ws)
{
	int64_t now = now_ms(t);
	size_t i;

	ws->running = 0;
	ws->pending = 0;
	ws->next_ready = INT64_MAX;
	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (s->state == SLOT_READY && s->ready_at <= now)
			(void)start_slot(t, s, url, wave_start);
		if (s->state == SLOT_RUNNING)
			ws->running++;
		if (s->state != SLOT_READY)
			continue;
		ws->pending++;
		if (s->ready_at > now && s->ready_at < ws->next_ready)
			ws->next_ready = s->ready_at;
	}
	if (ws->running > t->base.stats.max_in_flight)
		t->base.stats.max_in_flight = ws->running;
}

/*
 * Drives the transfers one step: lets libcurl work, judges what finished,
 * then waits for socket activity -- at most until the next backoff ends
 * (and at most 1 s, so the clock is looked at regularly).
 */
static int step_transfers(struct curl_transport *t, int64_t wave_start,
                          const struct wave_state *ws, struct cmr_error *err)
{
	int still = 0;
	int queued = 0;
	CURLMsg *msg;
	CURLMcode mrc;

	mrc = curl_multi_perform(t->multi, &still);
	while ((msg = curl_multi_info_read(t->multi, &queued)) != NULL) {
		if (msg->msg == CURLMSG_DONE)
			on_done(t, msg, wave_start);
	}
	if (mrc == CURLM_OK && still > 0) {
		int64_t wait = 1000;

		if (ws->next_ready != INT64_MAX) {
			int64_t d = ws->next_ready - now_ms(t);

			wait = d < 0 ? 0 : (d < wait ? d : wait);
		}
		mrc = curl_multi_poll(t->multi, NULL, 0, (int)wait, NULL);
	}
	if (mrc != CURLM_OK)
		return cmr_error_set(err, CMR_ETRANSPORT, "libcurl: %s",
		                     curl_multi_strerror(mrc));
	return 0;
}

/* Runs the slots until every one is DONE. */
static int run_wave(struct curl_transport *t, struct slot *slots, size_t n,
                    int64_t wave_start, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct wave_state ws;
	int error = 0;

	for (;;) {
		if (t->interrupted != NULL && *t->interrupted)
			interrupt_pending(t, slots, n, wave_start);
		start_ready(t, slots, n, &url, wave_start, &ws);
		if (ws.running > 0) {
			if ((error = step_transfers(t, wave_start, &ws, err)) <
			    0)
				break;
			continue;
		}
		if (ws.pending == 0)
			break;
		if (ws.next_ready == INT64_MAX) {
			/* cannot happen: a free handle and nothing due */
			error = cmr_error_set(
			        err, CMR_ERROR,
			        "http: a request could not be started");
			break;
		}
		/* Only backoff is left: sleep on the clock. */
		t->clock->sleep_ms(t->clock, ws.next_ready - now_ms(t));
	}
	cmr_buf_release(&url);
	return error;
}

/* After a hard failure: detach what is attached, fail what is unfinished. */
static void abort_unfinished(struct curl_transport *t, struct slot *slots,
                             size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (s->state == SLOT_RUNNING) {
			curl_multi_remove_handle(t->multi,
			                         t->pool[s->pool_index]);
			t->busy[s->pool_index] = false;
		}
		if (s->state != SLOT_DONE) {
			s->resp->status = 0;
			cmr_error_set(&s->resp->err, CMR_ETRANSPORT,
			              "'%s %.*s': aborted", s->req->method,
			              path_len(s->req->url), s->req->url);
		}
		curl_slist_free_all(s->headers);
		s->headers = NULL;
	}
}

static int curl_send_all(struct cmr_transport *base,
                         const struct cmr_http_request *req,
                         struct cmr_http_response *resp, size_t n,
                         struct cmr_error *err)
{
	struct curl_transport *t =
	        cmr_container_of(base, struct curl_transport, base);
	struct slot *slots = NULL;
	int64_t wave_start;
	size_t i;
	int error;

	for (i = 0; i < n; i++) {
		cmr_http_response_init(&resp[i]);
		cmr_buf_init(&resp[i].body, t->max_body);
	}
	if (n == 0)
		return 0;
	t->base.stats.waves++;
	t->base.stats.requests += n;
	slots = cmr_calloc(n, sizeof(*slots));
	if (slots == NULL)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	wave_start = now_ms(t);
	for (i = 0; i < n; i++) {
		slots[i].req = &req[i];
		slots[i].resp = &resp[i];
		slots[i].deadline = wave_start + t->retry_deadline_ms;
		slots[i].state = SLOT_READY;
		if (check_request(&req[i], &resp[i].err) < 0)
			finish_slot(t, &slots[i], wave_start);
	}
	error = run_wave(t, slots, n, wave_start, err);
	abort_unfinished(t, slots, n);
	/* the first failure in req[] order is the wave's */
	for (i = 0; error == 0 && i < n; i++) {
		if (resp[i].err.code != CMR_OK)
			error = cmr_error_set(err, resp[i].err.code, "%s",
			                      resp[i].err.msg);
	}
	cmr_free(slots);
	return error;
}

/* ----------------------------------------------------------------------
 * Lifecycle
 */

static void curl_transport_free(struct cmr_transport *base)
{
	struct curl_transport *t;
	size_t i;

	if (base == NULL)
		return;
	t = cmr_container_of(base, struct curl_transport, base);
	for (i = 0; t->pool != NULL && i < t->max_conns; i++) {
		if (t->pool[i] != NULL)
			curl_easy_cleanup(t->pool[i]);
	}
	if (t->multi != NULL)
		curl_multi_cleanup(t->multi);
	if (t->share != NULL)
		curl_share_cleanup(t->share);
	if (t->global_init)
		curl_global_cleanup();
	cmr_free(t->pool);
	cmr_free(t->busy);
	cmr_free(t->base_url);
	cmr_free(t->username);
	free_secret(t->password);
	cmr_free(t->ca_file);
	cmr_free(t->user_agent);
	cmr_free(t);
}

static int curl_transport_clone(struct cmr_transport **out,
                                struct cmr_transport *base,
                                struct cmr_error *err);

static const struct cmr_transport_ops curl_ops = {
	curl_send_all,
	curl_transport_free,
	curl_transport_clone,
};

static int64_t or_default(int64_t v, int64_t dflt)
{
	return v > 0 ? v : dflt;
}

/* Numbers from the options, defaults for the zeros. */
static void apply_limits(struct curl_transport *t,
                         const struct cmr_http_options *opts)
{
	t->max_conns = opts->max_connections ? opts->max_connections
	                                     : CMR_HTTP_DEFAULT_MAX_CONNECTIONS;
	t->connect_timeout_ms = or_default(opts->connect_timeout_ms,
	                                   CMR_HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
	t->request_timeout_ms = or_default(opts->request_timeout_ms,
	                                   CMR_HTTP_DEFAULT_REQUEST_TIMEOUT_MS);
	/* negative stays negative: "never retry" */
	t->retry_deadline_ms = opts->retry_deadline_ms != 0
	                               ? opts->retry_deadline_ms
	                               : CMR_HTTP_DEFAULT_RETRY_DEADLINE_MS;
	t->backoff_initial_ms = or_default(opts->backoff_initial_ms,
	                                   CMR_HTTP_DEFAULT_BACKOFF_INITIAL_MS);
	t->backoff_max_ms = or_default(opts->backoff_max_ms,
	                               CMR_HTTP_DEFAULT_BACKOFF_MAX_MS);
	if (t->backoff_max_ms < t->backoff_initial_ms)
		t->backoff_max_ms = t->backoff_initial_ms;
	t->max_body =
	        opts->max_body ? opts->max_body : CMR_HTTP_DEFAULT_MAX_BODY;
}

/* Copies the strings of the options; 0 or CMR_ENOMEM. */
static int copy_strings(struct curl_transport *t,
                        const struct cmr_http_options *opts,
                        struct cmr_error *err)
{
	bool oom = false;
	size_t len;

	t->base_url = dup_opt(opts->base_url, &oom);
	t->username = dup_opt(opts->username, &oom);
	t->password = dup_opt(opts->password, &oom);
	t->ca_file = dup_opt(opts->ca_file, &oom);
	t->user_agent = dup_opt(opts->user_agent ? opts->user_agent
	                                         : "cmrecon/" CMR_VERSION,
	                        &oom);
	if (oom)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	len = strlen(t->base_url);
	while (len > 0 && t->base_url[len - 1] == '/')
		t->base_url[--len] = '\0';
	return 0;
}

/* The multi (with its connection limits) and the cookie share. */
static int init_curl(struct curl_transport *t, struct cmr_error *err)
{
	long max = (long)t->max_conns;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return cmr_error_set(err, CMR_ETRANSPORT,
		                     "libcurl could not be initialised");
	t->global_init = true;
	t->multi = curl_multi_init();
	t->share = curl_share_init();
	if (t->multi == NULL || t->share == NULL)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if (curl_share_setopt(t->share, CURLSHOPT_SHARE,
	                      CURL_LOCK_DATA_COOKIE) != CURLSHE_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max) !=
	            CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max) !=
	            CURLM_OK ||
	    curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, max) != CURLM_OK)
		return cmr_error_set(
		        err, CMR_ETRANSPORT,
		        "libcurl lacks a needed feature (cookie sharing or connection limits)");
	return 0;
}

int cmr_http_transport_new(struct cmr_transport **out,
                           const struct cmr_http_options *opts,
                           struct cmr_error *err)
{
	struct curl_transport *t = NULL;
	int error;

	*out = NULL;
	error = cmr_http_check_url(opts->base_url, opts->allow_insecure_http,
	                           err);
	if (error < 0)
		return error;
	if (opts->password != NULL && opts->username == NULL)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "a password was given without a user name");
	t = cmr_calloc(1, sizeof(*t));
	if (t == NULL)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	t->base.ops = &curl_ops;
	t->insecure = opts->insecure;
	t->allow_insecure_http = opts->allow_insecure_http;
	t->log = opts->logger;
	t->clock = opts->clock ? opts->clock : cmr_clock_system();
	t->interrupted = opts->interrupted;
	apply_limits(t, opts);
	if ((error = copy_strings(t, opts, err)) < 0)
		goto done;
	t->pool = cmr_calloc(t->max_conns, sizeof(*t->pool));
	t->busy = cmr_calloc(t->max_conns, sizeof(*t->busy));
	if (t->pool == NULL || t->busy == NULL) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = init_curl(t, err)) < 0)
		goto done;
	hlog(t, CMR_LOG_DEBUG, "transport for %s (%s, up to %zu connections)",
	     t->base_url,
	     t->insecure ? "TLS verification OFF" : "TLS verification on",
	     t->max_conns);
	*out = &t->base;
	t = NULL;

done:
	curl_transport_free(t ? &t->base : NULL);
	return error;
}

/*
 * The same options again (the strings are copied once more by
 * cmr_http_transport_new); the session cookie is not shared: the clone
 * signs in on its first request.
 */
static int curl_transport_clone(struct cmr_transport **out,
                                struct cmr_transport *base,
                                struct cmr_error *err)
{
	const struct curl_transport *t =
	        cmr_container_of(base, struct curl_transport, base);
	struct cmr_http_options o;

	memset(&o, 0, sizeof(o));
	o.base_url = t->base_url;
	o.username = t->username;
	o.password = t->password;
	o.ca_file = t->ca_file;
	o.insecure = t->insecure;
	o.allow_insecure_http = t->allow_insecure_http;
	o.connect_timeout_ms = t->connect_timeout_ms;
	o.request_timeout_ms = t->request_timeout_ms;
	o.retry_deadline_ms = t->retry_deadline_ms;
	o.backoff_initial_ms = t->backoff_initial_ms;
	o.backoff_max_ms = t->backoff_max_ms;
	o.max_body = t->max_body;
	o.max_connections = (unsigned)t->max_conns;
	o.user_agent = t->user_agent;
	o.logger = t->log;
	o.clock = t->clock;
	o.interrupted = t->interrupted;
	return cmr_http_transport_new(out, &o, err);
}
