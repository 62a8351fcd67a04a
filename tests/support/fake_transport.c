/*
 * fake_transport.c -- the scripted transport (see fake_transport.h).
 *
 * curl's tests/data idea in a few hundred lines: each expectation is a
 * canned answer plus the request it answers.  The fake is deliberately
 * strict -- an unexpected request is an error the code under test sees, and
 * every problem is also recorded for cmr_fake_transport_verify() -- because
 * a lenient fake lets a test pass while the code sends requests nobody
 * looked at.
 */
#include "fake_transport.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/buf.h"
#include "cmr/common.h"

struct expectation {
	unsigned wave; /* CMR_FAKE_ANY_WAVE: any */
	char *method;
	char *path;
	char *body_match; /* NULL: any body */
	long status;
	char *body;
	size_t body_len;
	int error_code; /* != 0: answer with this transport error */
	unsigned resp_flags;
	char *error_msg;
	bool used;
};

struct cmr_fake_transport {
	struct cmr_transport base; /* first: cmr_container_of */
	struct expectation *exp;
	size_t nexp, allocexp;
	struct cmr_fake_request *sent;
	size_t nsent, allocsent;
	unsigned cur_wave;   /* where cmr_fake_expect adds */
	unsigned wave_count; /* waves received */
	char *failures;      /* one problem per line */
	size_t failures_len;
	/* Clones (cmr_fake_transport_allow_clone) send through this one,
	 * one wave at a time. */
	bool cloneable;
	pthread_mutex_t mu;
	size_t clones; /* made so far */
};

/* A clone: its own transport object, the parent's script. */
struct fake_clone {
	struct cmr_transport base; /* first: cmr_container_of */
	struct cmr_fake_transport *parent;
};

/* ----------------------------------------------------------------------
 * Bookkeeping with plain malloc (aborting: a test cannot go on without it)
 */

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		fprintf(stderr, "fake transport: out of memory\n");
		abort();
	}
	return q;
}

static char *xstrndup(const char *s, size_t n)
{
	char *p = xrealloc(NULL, n + 1);

	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

static void record(struct cmr_fake_transport *f, const char *fmt, ...)
        CMR_PRINTF(2, 3);

static void record(struct cmr_fake_transport *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	f->failures = xrealloc(f->failures, f->failures_len + n + 2);
	memcpy(f->failures + f->failures_len, line, n);
	f->failures_len += n;
	f->failures[f->failures_len++] = '\n';
	f->failures[f->failures_len] = '\0';
}

static struct expectation *add_exp(struct cmr_fake_transport *f,
                                   const char *method, const char *path,
                                   const char *body_match)
{
	struct expectation *e;

	if (f->nexp == f->allocexp) {
		f->allocexp = f->allocexp ? 2 * f->allocexp : 16;
		f->exp = xrealloc(f->exp, f->allocexp * sizeof(*f->exp));
	}
	e = &f->exp[f->nexp++];
	memset(e, 0, sizeof(*e));
	e->wave = f->cur_wave;
	e->method = xstrdup(method);
	e->path = xstrdup(path);
	e->body_match = xstrdup(body_match);
	return e;
}

/* ----------------------------------------------------------------------
 * Scripting
 */

void cmr_fake_wave(struct cmr_fake_transport *f, unsigned wave)
{
	f->cur_wave = wave;
}

void cmr_fake_expect(struct cmr_fake_transport *f, const char *method,
                     const char *path, const char *body_match, long status,
                     const char *body)
{
	struct expectation *e = add_exp(f, method, path, body_match);

	e->status = status;
	e->body = xstrdup(body ? body : "");
	e->body_len = strlen(e->body);
}

void cmr_fake_expect_file(struct cmr_fake_transport *f, const char *method,
                          const char *path, const char *body_match, long status,
                          const char *file)
{
	struct expectation *e = add_exp(f, method, path, body_match);
	char full[4096];
	char *data = NULL;
	size_t len = 0;
	size_t n;
	char chunk[8192];
	FILE *fp;

	e->status = status;
	if (file[0] == '/')
		snprintf(full, sizeof(full), "%s", file);
	else
		snprintf(full, sizeof(full), "%s/%s", CMR_TEST_FIXTURES, file);
	fp = fopen(full, "rb");
	if (fp == NULL) {
		record(f, "cannot read body file '%s' for %s %s", full, method,
		       path);
		e->body = xstrdup("");
		return;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		data = xrealloc(data, len + n + 1);
		memcpy(data + len, chunk, n);
		len += n;
	}
	fclose(fp);
	if (data == NULL)
		data = xstrdup("");
	data[len] = '\0';
	e->body = data;
	e->body_len = len;
}

void cmr_fake_expect_error(struct cmr_fake_transport *f, const char *method,
                           const char *path, const char *body_match, int code,
                           unsigned resp_flags, const char *msg)
{
	struct expectation *e = add_exp(f, method, path, body_match);

	e->error_code = code ? code : CMR_ETRANSPORT;
	e->resp_flags = resp_flags;
	e->error_msg = xstrdup(msg ? msg : "scripted transport error");
}

/* ----------------------------------------------------------------------
 * Matching and answering
 */

static bool path_matches(const char *want, const char *got)
{
	size_t n = strlen(want);

	if (n > 0 && want[n - 1] == '*')
		return strncmp(want, got, n - 1) == 0;
	return strcmp(want, got) == 0;
}

static bool body_contains(const char *body, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	size_t i;

	if (n == 0)
		return true;
	for (i = 0; i + n <= len; i++) {
		if (memcmp(body + i, needle, n) == 0)
			return true;
	}
	return false;
}

static bool matches(const struct expectation *e,
                    const struct cmr_http_request *req)
{
	if (e->used || strcmp(e->method, req->method) != 0 ||
	    !path_matches(e->path, req->url))
		return false;
	if (e->body_match == NULL)
		return true;
	return req->body != NULL &&
	       body_contains(req->body, req->body_len, e->body_match);
}

static struct expectation *find(struct cmr_fake_transport *f,
                                const struct cmr_http_request *req,
                                unsigned wave)
{
	size_t i;

	for (i = 0; i < f->nexp; i++) {
		if (f->exp[i].wave == wave && matches(&f->exp[i], req))
			return &f->exp[i];
	}
	for (i = 0; i < f->nexp; i++) {
		if (f->exp[i].wave == CMR_FAKE_ANY_WAVE &&
		    matches(&f->exp[i], req))
			return &f->exp[i];
	}
	return NULL;
}

static void remember(struct cmr_fake_transport *f,
                     const struct cmr_http_request *req, unsigned wave)
{
	struct cmr_fake_request *r;

	if (f->nsent == f->allocsent) {
		f->allocsent = f->allocsent ? 2 * f->allocsent : 16;
		f->sent = xrealloc(f->sent, f->allocsent * sizeof(*f->sent));
	}
	r = &f->sent[f->nsent++];
	r->wave = wave;
	r->method = xstrdup(req->method ? req->method : "");
	r->url = xstrdup(req->url ? req->url : "");
	r->content_type = xstrdup(req->content_type);
	r->body = req->body ? xstrndup(req->body, req->body_len) : xstrdup("");
	r->body_len = req->body ? req->body_len : 0;
}

static int answer(struct cmr_fake_transport *f,
                  const struct cmr_http_request *req,
                  struct cmr_http_response *resp, unsigned wave)
{
	struct expectation *e;

	if (req->method == NULL || req->url == NULL) {
		record(f, "wave %u: request without method or url", wave);
		return cmr_error_set(
		        &resp->err, CMR_EINVAL,
		        "fake transport: request without method or url");
	}
	remember(f, req, wave);
	e = find(f, req, wave);
	if (e == NULL) {
		record(f, "wave %u: unexpected request %s %s", wave,
		       req->method, req->url);
		return cmr_error_set(
		        &resp->err, CMR_ERROR,
		        "fake transport: unexpected request %s %s in wave %u",
		        req->method, req->url, wave);
	}
	e->used = true;
	f->base.stats.attempts++;
	f->base.stats.bytes_sent += req->body_len;
	resp->attempts = 1;
	if (e->error_code != 0) {
		resp->flags = e->resp_flags;
		return cmr_error_set(&resp->err, e->error_code, "%s",
		                     e->error_msg);
	}
	if (cmr_buf_add(&resp->body, e->body, e->body_len) < 0)
		return cmr_error_set(&resp->err, CMR_ENOMEM, "out of memory");
	resp->status = e->status;
	snprintf(resp->content_type, sizeof(resp->content_type), "%s",
	         e->body_len > 0 && (e->body[0] == '{' || e->body[0] == '[')
	                 ? "application/json"
	                 : "text/plain");
	f->base.stats.bytes_received += e->body_len;
	return 0;
}

static int fake_send_all(struct cmr_transport *t,
                         const struct cmr_http_request *req,
                         struct cmr_http_response *resp, size_t n,
                         struct cmr_error *err)
{
	struct cmr_fake_transport *f =
	        cmr_container_of(t, struct cmr_fake_transport, base);
	unsigned wave;
	int first = 0;
	size_t i;

	for (i = 0; i < n; i++)
		cmr_http_response_init(&resp[i]);
	if (n == 0)
		return 0;
	wave = ++f->wave_count;
	f->base.stats.waves++;
	f->base.stats.requests += n;
	if (n > f->base.stats.max_in_flight)
		f->base.stats.max_in_flight = n;
	for (i = 0; i < n; i++) {
		int rc = answer(f, &req[i], &resp[i], wave);

		if (rc < 0) {
			f->base.stats.failures++;
			if (first == 0) {
				first = rc;
				cmr_error_set(err, rc, "%s", resp[i].err.msg);
			}
		}
	}
	for (i = 0; i < f->nexp; i++) {
		const struct expectation *e = &f->exp[i];

		if (!e->used && e->wave == wave)
			record(f,
			       "wave %u ended without the expected request %s %s",
			       wave, e->method, e->path);
	}
	return first;
}

/* ----------------------------------------------------------------------
 * Results and lifecycle
 */

int cmr_fake_transport_verify(struct cmr_fake_transport *f,
                              struct cmr_error *err)
{
	struct cmr_buf msg = CMR_BUF_INIT;
	bool bad = f->failures_len > 0;
	size_t i;
	int rc;

	if (bad)
		cmr_buf_adds(&msg, f->failures);
	for (i = 0; i < f->nexp; i++) {
		const struct expectation *e = &f->exp[i];

		/* expectations of past waves were reported when they ended */
		if (e->used ||
		    (e->wave != CMR_FAKE_ANY_WAVE && e->wave <= f->wave_count))
			continue;
		bad = true;
		if (e->wave == CMR_FAKE_ANY_WAVE)
			cmr_buf_addf(&msg, "never requested: %s %s\n",
			             e->method, e->path);
		else
			cmr_buf_addf(
			        &msg,
			        "never requested: %s %s (wave %u; only %u waves came)\n",
			        e->method, e->path, e->wave, f->wave_count);
	}
	if (!bad) {
		cmr_buf_release(&msg);
		return 0;
	}
	cmr_buf_truncate(&msg, msg.len > 0 ? msg.len - 1 : 0);
	rc = cmr_error_set(err, CMR_ERROR, "fake transport: %s", msg.ptr);
	cmr_buf_release(&msg);
	return rc;
}

const char *cmr_fake_transport_failures(const struct cmr_fake_transport *f)
{
	return f->failures ? f->failures : "";
}

size_t cmr_fake_transport_waves(const struct cmr_fake_transport *f)
{
	return f->wave_count;
}

size_t cmr_fake_transport_requests(const struct cmr_fake_transport *f)
{
	return f->nsent;
}

const struct cmr_fake_request *
cmr_fake_transport_request(const struct cmr_fake_transport *f, size_t i)
{
	return i < f->nsent ? &f->sent[i] : NULL;
}

static void fake_free(struct cmr_transport *t)
{
	struct cmr_fake_transport *f;
	size_t i;

	if (t == NULL)
		return;
	f = cmr_container_of(t, struct cmr_fake_transport, base);
	for (i = 0; i < f->nexp; i++) {
		free(f->exp[i].method);
		free(f->exp[i].path);
		free(f->exp[i].body_match);
		free(f->exp[i].body);
		free(f->exp[i].error_msg);
	}
	for (i = 0; i < f->nsent; i++) {
		free(f->sent[i].method);
		free(f->sent[i].url);
		free(f->sent[i].content_type);
		free(f->sent[i].body);
	}
	free(f->exp);
	free(f->sent);
	free(f->failures);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

static int fake_send_locked(struct cmr_transport *t,
                            const struct cmr_http_request *req,
                            struct cmr_http_response *resp, size_t n,
                            struct cmr_error *err)
{
	struct cmr_fake_transport *f =
	        cmr_container_of(t, struct cmr_fake_transport, base);
	int rc;

	pthread_mutex_lock(&f->mu);
	rc = fake_send_all(t, req, resp, n, err);
	pthread_mutex_unlock(&f->mu);
	return rc;
}

static int clone_send_all(struct cmr_transport *t,
                          const struct cmr_http_request *req,
                          struct cmr_http_response *resp, size_t n,
                          struct cmr_error *err)
{
	struct fake_clone *c = cmr_container_of(t, struct fake_clone, base);

	return fake_send_locked(&c->parent->base, req, resp, n, err);
}

static void clone_free(struct cmr_transport *t)
{
	free(t ? cmr_container_of(t, struct fake_clone, base) : NULL);
}

static int fake_clone(struct cmr_transport **out, struct cmr_transport *t,
                      struct cmr_error *err);

static const struct cmr_transport_ops clone_ops = {
	clone_send_all,
	clone_free,
	fake_clone,
};

static int fake_clone(struct cmr_transport **out, struct cmr_transport *t,
                      struct cmr_error *err)
{
	struct cmr_fake_transport *f;
	struct fake_clone *c;

	if (t->ops == &clone_ops)
		f = cmr_container_of(t, struct fake_clone, base)->parent;
	else
		f = cmr_container_of(t, struct cmr_fake_transport, base);
	if (!f->cloneable)
		return cmr_error_set(err, CMR_ENOTSUP,
		                     "the fake transport cannot be cloned");
	c = xrealloc(NULL, sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->base.ops = &clone_ops;
	c->parent = f;
	pthread_mutex_lock(&f->mu);
	f->clones++;
	pthread_mutex_unlock(&f->mu);
	*out = &c->base;
	return 0;
}

/* Without cmr_fake_transport_allow_clone, clone says CMR_ENOTSUP: the
 * executor's lanes then run one after the other. */
static const struct cmr_transport_ops fake_ops = {
	fake_send_locked,
	fake_free,
	fake_clone,
};

void cmr_fake_transport_allow_clone(struct cmr_fake_transport *f)
{
	f->cloneable = true;
}

size_t cmr_fake_transport_clones(const struct cmr_fake_transport *f)
{
	return f->clones;
}

struct cmr_fake_transport *cmr_fake_transport_new(void)
{
	struct cmr_fake_transport *f = xrealloc(NULL, sizeof(*f));

	memset(f, 0, sizeof(*f));
	f->base.ops = &fake_ops;
	f->cur_wave = 1;
	if (pthread_mutex_init(&f->mu, NULL) != 0)
		abort();
	return f;
}

struct cmr_transport *cmr_fake_transport_base(struct cmr_fake_transport *f)
{
	return &f->base;
}

void cmr_fake_transport_free(struct cmr_fake_transport *f)
{
	if (f != NULL)
		fake_free(&f->base);
}
