/*
 * fake_transport.h -- a scripted struct cmr_transport for tests.
 *
 * A test scripts what CM should answer, wave by wave, hands the transport
 * to the code under test, and at teardown asks whether everything went as
 * scripted:
 *
 *     struct cmr_fake_transport *f = cmr_fake_transport_new();
 *     cmr_fake_expect(f, "GET", "/api/version", NULL, 200, "v45");
 *     cmr_fake_wave(f, 2);
 *     cmr_fake_expect_file(f, "GET", "/api/v45/clusters", NULL, 200,
 *                          "clusters.json");
 *     cmr_fake_expect(f, "GET", "/api/v45/cm/deployment*", NULL, 200, "{}");
 *     ... run the code with cmr_fake_transport_base(f) ...
 *     assert_cmr_ok(cmr_fake_transport_verify(f, &err), &err);
 *     cmr_fake_transport_free(f);
 *
 * Matching.  Each send_all call is one wave, numbered from 1.  A request is
 * matched against the unconsumed expectations of its wave, in the order they
 * were added, regardless of its position in the wave, then against the
 * "any wave" pool.  An expectation matches when the method is equal, the
 * path is equal (or, if the expected path ends in '*', starts with the part
 * before it; the path includes the query string), and -- if a body match
 * was given -- the request body contains it.  Each expectation is used once.
 *
 * Failures.  A request nothing matches gets status 0 and the error
 * CMR_ERROR "fake transport: unexpected request ...", makes send_all fail,
 * and is recorded.  When a wave ends, its expectations that were not used
 * are recorded too.  cmr_fake_transport_verify() reports every recorded
 * problem plus the expectations never used; call it at teardown.
 *
 * Memory: the fake's own bookkeeping uses plain malloc (so allocation-
 * failure tests count only the library's allocations); response bodies
 * are struct cmr_buf and are released by the caller as for any transport.
 * Allocation failures while scripting abort the test program.
 */
#ifndef CMR_TEST_FAKE_TRANSPORT_H
#define CMR_TEST_FAKE_TRANSPORT_H

#include <stddef.h>

#include "cmr/error.h"
#include "cmr/transport.h"

/* The wave number that matches any wave (see cmr_fake_wave). */
#define CMR_FAKE_ANY_WAVE 0u

struct cmr_fake_transport;

/* A request as the fake received it; all strings NUL-terminated. */
struct cmr_fake_request {
	unsigned wave; /* 1-based */
	char *method;
	char *url;
	char *content_type; /* NULL when the request had none */
	char *body;         /* "" when the request had none */
	size_t body_len;
};

/* A new fake with no expectations.  Never NULL (aborts on OOM). */
struct cmr_fake_transport *cmr_fake_transport_new(void);

/* The seam to hand to the code under test (borrowed from f). */
struct cmr_transport *cmr_fake_transport_base(struct cmr_fake_transport *f);

/* Frees the fake and everything it recorded; accepts NULL.  The same as
 * cmr_transport_free(cmr_fake_transport_base(f)). */
void cmr_fake_transport_free(struct cmr_fake_transport *f);

/*
 * Expectations added from now on belong to wave `wave` (1-based), or to
 * the any-wave pool for CMR_FAKE_ANY_WAVE.  The initial wave is 1.
 */
void cmr_fake_wave(struct cmr_fake_transport *f, unsigned wave);

/*
 * Expects `method path` (body containing body_match, unless NULL) and
 * answers with `status` and `body` (NULL: empty).  Strings are copied.
 */
void cmr_fake_expect(struct cmr_fake_transport *f, const char *method,
                     const char *path, const char *body_match, long status,
                     const char *body);

/*
 * Like cmr_fake_expect, with the body read from `file` now (a relative
 * path is taken relative to CMR_TEST_FIXTURES).  An unreadable file is
 * recorded as a failure and the expectation answers with an empty body.
 */
void cmr_fake_expect_file(struct cmr_fake_transport *f, const char *method,
                          const char *path, const char *body_match, long status,
                          const char *file);

/*
 * Expects the request and answers it with no HTTP answer at all: status 0,
 * error `code` with message `msg`, response flags `resp_flags` (e.g.
 * CMR_HTTP_RESP_MAYBE_APPLIED to play a POST whose answer was lost).
 */
void cmr_fake_expect_error(struct cmr_fake_transport *f, const char *method,
                           const char *path, const char *body_match, int code,
                           unsigned resp_flags, const char *msg);

/*
 * 0 when no unexpected request came and every expectation was used;
 * otherwise CMR_ERROR with the problems listed in err->msg (as many as
 * fit).  May be called more than once.
 */
int cmr_fake_transport_verify(struct cmr_fake_transport *f,
                              struct cmr_error *err);

/* All the problems recorded so far, one per line ("" when none). */
const char *cmr_fake_transport_failures(const struct cmr_fake_transport *f);

/*
 * Lets the fake be cloned (cmr_transport_clone, cmr_client_dup): each
 * clone is a transport of its own that sends through f's script, one
 * wave at a time under f's mutex, from any thread.  Free the clones before
 * f.  Expectations for threads should use CMR_FAKE_ANY_WAVE: their waves
 * interleave in no set order.  Without this call cloning fails with
 * CMR_ENOTSUP, as for a transport that cannot be cloned.
 */
void cmr_fake_transport_allow_clone(struct cmr_fake_transport *f);

/* How many clones were made. */
size_t cmr_fake_transport_clones(const struct cmr_fake_transport *f);

/* Number of waves (send_all calls with n > 0) and requests received. */
size_t cmr_fake_transport_waves(const struct cmr_fake_transport *f);
size_t cmr_fake_transport_requests(const struct cmr_fake_transport *f);

/* The i-th request received (0-based, arrival order); NULL past the end.
 * Borrowed from f. */
const struct cmr_fake_request *
cmr_fake_transport_request(const struct cmr_fake_transport *f, size_t i);

#endif
