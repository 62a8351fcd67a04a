/*
 * test_http.c -- the libcurl transport against a real HTTP server.
 *
 * Each test starts a small libmicrohttpd server inside this process on
 * 127.0.0.1, port 0 (thread per connection, so a handler may block to prove
 * concurrency).  The server understands a handful of paths:
 *
 *   /echo              200, body "METHOD /echo", records the request
 *   /barrier?n=N       answers once N requests are in the server at once
 *                      (500 after 5 s), proving a wave is concurrent
 *   /script            answers the next status of srv.script (then 200)
 *   /drop              closes the connection without an answer
 *   /hang              never answers (until teardown)
 *   /big?n=N           N bytes of 'x'
 *   /redirect          302 to /target; /target counts its hits
 *
 * With srv.require_auth every request needs Basic admin:s3cret-pw or the
 * current session cookie (named SIMSESSION, to prove the transport does
 * not hard-code CM's cookie name); Basic answers set a fresh cookie.
 *
 * Backoff never sleeps for real: the retrying tests give the transport a
 * fake clock whose sleep just moves its time forward.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cmr/transport.h"

#include "support.h"

#define USER      "admin"
#define PASSWORD  "s3cret-pw"
#define BASIC_HDR "Basic YWRtaW46czNjcmV0LXB3"

/*
 * A throw-away test CA and a server certificate it signed for IP
 * 127.0.0.1 only (EC P-256, valid until 2126).  Test material: the key
 * protects nothing.
 */
static const char test_ca_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBmzCCAUGgAwIBAgIUerMpy64nXMh41k036AkVWKixQ7AwCgYIKoZIzj0EAwIw\n"
        "GjEYMBYGA1UEAwwPY21yZWNvbiB0ZXN0IENBMCAXDTI2MTEyODA1NDI0OVoYDzIx\n"
        "MjYxMTA0MDU0MjQ5WjAaMRgwFgYDVQQDDA9jbXJlY29uIHRlc3QgQ0EwWTATBgcq\n"
        "hkjOPQIBBggqhkjOPQMBBwNCAATTG/kfzuLkxSLmOvX3WYWcHMtBKF002gEu89iM\n"
        "BvTjrNji3iF/uvlwXcHptbtTtE3HiNShIRW1iGVDspUqmz68o2MwYTAdBgNVHQ4E\n"
        "FgQUTcc6UAUwvtN6apOPgxWbjWtsv8gwHwYDVR0jBBgwFoAUTcc6UAUwvtN6apOP\n"
        "gxWbjWtsv8gwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI\n"
        "zj0EAwIDSAAwRQIhAL4Q1YqBrhqVVmRQFaD8fk4D6Nam6UwhGY/RCKgS6b4EAiBr\n"
        "mX8f1GAXnOU46nj/PAvzjstKEHmy36hkyfToI0Dzng==\n"
        "-----END CERTIFICATE-----\n";

static const char test_srv_pem[] =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBtzCCAV2gAwIBAgIUZTNbnRlYWc0ly4nS2e/kdLkvOs0wCgYIKoZIzj0EAwIw\n"
        "GjEYMBYGA1UEAwwPY21yZWNvbiB0ZXN0IENBMCAXDTI2MTEyODA1NDI0OVoYDzIx\n"
        "MjYxMTA0MDU0MjQ5WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIB\n"
        "BggqhkjOPQMBBwNCAAS8hhT8FHa/4l+UXhAKvFocNPs8MHhRiUFaSkInyJXZjBcr\n"
        "u8Fe//m+zymhS0Uc23+YJYM+dNZY7Q3PQmfQzzkbo4GEMIGBMA8GA1UdEQQIMAaH\n"
        "BH8AAAEwCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYB\n"
        "BQUHAwEwHQYDVR0OBBYEFLiZrkW7OEhLPNYfAj/tq/2TXSasMB8GA1UdIwQYMBaA\n"
        "FE3HOlAFML7TemqTj4MVm41rbL/IMAoGCCqGSM49BAMCA0gAMEUCIBM3Ic7AIclH\n"
        "Zf9yu/hTsCqy/0pnkVY3id+4EQt6EEU3AiEAjlA3kdfOkTn/pYyaqZyz5iwvZiAt\n"
        "XvDI3IYobF+7q1s=\n"
        "-----END CERTIFICATE-----\n";

static const char test_srv_key[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbO//7jDIDhuqUGkG\n"
        "2BbPeRdo1CyM6YMS6wWuYi68YeGhRANCAAS8hhT8FHa/4l+UXhAKvFocNPs8MHhR\n"
        "iUFaSkInyJXZjBcru8Fe//m+zymhS0Uc23+YJYM+dNZY7Q3PQmfQzzkb\n"
        "-----END PRIVATE KEY-----\n";

/* ----------------------------------------------------------------------
 * The in-process server
 */

struct server {
	struct MHD_Daemon *d;
	unsigned short port;
	char base[64];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool released;     /* teardown: blocked handlers give up */
	bool barrier_open; /* /barrier reached its count */
	int connections;
	int in_flight, max_in_flight;
	int requests;
	/* auth */
	bool require_auth;
	char session[32];        /* the valid session id, "" when none */
	const char *cookie_path; /* Path= of the cookie; NULL: "/" */
	int session_gen;
	int basic_requests;  /* requests carrying Authorization */
	int cookie_requests; /* requests carrying the cookie only */
	int unauthorized;
	/* script */
	long script[16];
	size_t nscript, iscript;
	int hits_script, hits_drop, hits_hang, hits_target;
	/* the last /echo request */
	char last_method[16];
	char last_ctype[128];
	char last_body[512];
	size_t last_body_len;
};

static struct server srv;

struct req_ctx {
	char body[512];
	size_t len;
};

static void sleep_real_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const char *body, const char *set_cookie,
                             const char *location)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	        strlen(body), (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	MHD_add_response_header(r, "Content-Type", "application/json");
	if (set_cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", set_cookie);
	if (location != NULL)
		MHD_add_response_header(r, "Location", location);
	if (status == 401)
		MHD_add_response_header(r, "WWW-Authenticate",
		                        "Basic realm=\"test\"");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static long arg_long(struct MHD_Connection *c, const char *name, long dflt)
{
	const char *v =
	        MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);

	return v ? strtol(v, NULL, 10) : dflt;
}

/* Waits (unlocked on return) until cond holds, teardown, or 5 s. */
static bool wait_for_in_flight(int n)
{
	struct timespec until;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&srv.mu);
	pthread_cond_broadcast(&srv.cv);
	/* once open, the barrier stays open: early finishers lower
	 * in_flight before the last waiters look at it */
	while (!srv.barrier_open && srv.in_flight < n && !srv.released) {
		if (pthread_cond_timedwait(&srv.cv, &srv.mu, &until) != 0)
			break;
	}
	if (srv.in_flight >= n)
		srv.barrier_open = true;
	ok = srv.barrier_open;
	pthread_mutex_unlock(&srv.mu);
	return ok;
}

static void wait_released(void)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&srv.mu);
	while (!srv.released) {
		if (pthread_cond_timedwait(&srv.cv, &srv.mu, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&srv.mu);
}

/* Returns true when authorized; *set_cookie gets a cookie to send. */
static bool check_auth(struct MHD_Connection *c, char *set_cookie, size_t n)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                               "Authorization");
	const char *cookie =
	        MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "SIMSESSION");
	bool ok = false;

	set_cookie[0] = '\0';
	pthread_mutex_lock(&srv.mu);
	if (auth != NULL) {
		srv.basic_requests++;
		if (strcmp(auth, BASIC_HDR) == 0) {
			if (srv.session[0] == '\0')
				snprintf(srv.session, sizeof(srv.session),
				         "sess%d", ++srv.session_gen);
			snprintf(set_cookie, n,
			         "SIMSESSION=%s;Path=%s;HttpOnly", srv.session,
			         srv.cookie_path ? srv.cookie_path : "/");
			ok = true;
		}
	} else if (cookie != NULL) {
		srv.cookie_requests++;
		ok = srv.session[0] != '\0' && strcmp(cookie, srv.session) == 0;
	}
	if (!ok)
		srv.unauthorized++;
	pthread_mutex_unlock(&srv.mu);
	return ok;
}

/* What a route handler gets: the request and the cookie to set. */
struct call {
	struct MHD_Connection *c;
	const char *url;
	const char *method;
	const struct req_ctx *ctx;
	const char *cookie; /* Set-Cookie value, or NULL */
};

static void bump(int *counter)
{
	pthread_mutex_lock(&srv.mu);
	(*counter)++;
	pthread_mutex_unlock(&srv.mu);
}

static enum MHD_Result route_echo(const struct call *k)
{
	const char *ct = MHD_lookup_connection_value(k->c, MHD_HEADER_KIND,
	                                             "Content-Type");
	char body[256];

	pthread_mutex_lock(&srv.mu);
	snprintf(srv.last_method, sizeof(srv.last_method), "%s", k->method);
	snprintf(srv.last_ctype, sizeof(srv.last_ctype), "%s", ct ? ct : "");
	memcpy(srv.last_body, k->ctx->body, k->ctx->len + 1);
	srv.last_body_len = k->ctx->len;
	pthread_mutex_unlock(&srv.mu);
	snprintf(body, sizeof(body), "%s %s", k->method, k->url);
	return reply(k->c, 200, body, k->cookie, NULL);
}

static enum MHD_Result route_barrier(const struct call *k)
{
	bool ok = wait_for_in_flight((int)arg_long(k->c, "n", 1));

	return reply(k->c, ok ? 200 : 500,
	             ok ? "{}" : "{\"message\":\"barrier\"}", k->cookie, NULL);
}

static enum MHD_Result route_script(const struct call *k)
{
	long status = 200;
	char body[64];

	pthread_mutex_lock(&srv.mu);
	srv.hits_script++;
	if (srv.iscript < srv.nscript)
		status = srv.script[srv.iscript++];
	pthread_mutex_unlock(&srv.mu);
	snprintf(body, sizeof(body), "{\"message\":\"status %ld\"}", status);
	return reply(k->c, (unsigned)status, body, k->cookie, NULL);
}

static enum MHD_Result route_drop(const struct call *k)
{
	(void)k;
	bump(&srv.hits_drop);
	return MHD_NO; /* close without an answer */
}

static enum MHD_Result route_hang(const struct call *k)
{
	(void)k;
	bump(&srv.hits_hang);
	wait_released();
	return MHD_NO;
}

static enum MHD_Result route_big(const struct call *k)
{
	long n = arg_long(k->c, "n", 0);
	char *big = malloc((size_t)n + 1);
	enum MHD_Result ret;

	if (big == NULL)
		return MHD_NO;
	memset(big, 'x', (size_t)n);
	big[n] = '\0';
	ret = reply(k->c, 200, big, NULL, NULL);
	free(big);
	return ret;
}

static enum MHD_Result route_redirect(const struct call *k)
{
	char loc[128];

	snprintf(loc, sizeof(loc), "%s/target", srv.base);
	return reply(k->c, 302, "", NULL, loc);
}

static enum MHD_Result route_target(const struct call *k)
{
	bump(&srv.hits_target);
	return reply(k->c, 200, "{}", NULL, NULL);
}

static const struct {
	const char *path;
	enum MHD_Result (*fn)(const struct call *k);
} routes[] = {
	{ "/echo", route_echo },         { "/barrier", route_barrier },
	{ "/script", route_script },     { "/drop", route_drop },
	{ "/hang", route_hang },         { "/big", route_big },
	{ "/redirect", route_redirect }, { "/target", route_target },
};

/* First call of a request: count it in. */
static enum MHD_Result begin_request(void **con_cls)
{
	struct req_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return MHD_NO;
	*con_cls = ctx;
	pthread_mutex_lock(&srv.mu);
	srv.requests++;
	srv.in_flight++;
	if (srv.in_flight > srv.max_in_flight)
		srv.max_in_flight = srv.in_flight;
	pthread_cond_broadcast(&srv.cv);
	pthread_mutex_unlock(&srv.mu);
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	struct req_ctx *ctx = *con_cls;
	struct call k = { c, url, method, ctx, NULL };
	char cookie[128];
	size_t i;

	(void)cls;
	(void)version;
	if (ctx == NULL)
		return begin_request(con_cls);
	if (*upload_size > 0) {
		size_t room = sizeof(ctx->body) - 1 - ctx->len;
		size_t take = *upload_size < room ? *upload_size : room;

		memcpy(ctx->body + ctx->len, upload, take);
		ctx->len += take;
		*upload_size = 0;
		return MHD_YES;
	}
	cookie[0] = '\0';
	if (srv.require_auth && !check_auth(c, cookie, sizeof(cookie)))
		return reply(c, 401, "{\"message\":\"Bad credentials\"}", NULL,
		             NULL);
	k.cookie = cookie[0] ? cookie : NULL;
	for (i = 0; i < CMR_ARRAY_SIZE(routes); i++) {
		if (strcmp(url, routes[i].path) == 0)
			return routes[i].fn(&k);
	}
	return reply(c, 404, "{\"message\":\"not found\"}", NULL, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	if (*con_cls == NULL)
		return;
	free(*con_cls);
	*con_cls = NULL;
	pthread_mutex_lock(&srv.mu);
	srv.in_flight--;
	pthread_mutex_unlock(&srv.mu);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **sock_ctx,
                          enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)c;
	(void)sock_ctx;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&srv.mu);
	srv.connections++;
	pthread_mutex_unlock(&srv.mu);
}

static void server_start(bool tls)
{
	struct sockaddr_in sa;
	const union MHD_DaemonInfo *info;
	unsigned flags =
	        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;

	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.mu, NULL);
	pthread_cond_init(&srv.cv, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* MHD ignores the key and certificate without MHD_USE_TLS */
	if (tls)
		flags |= MHD_USE_TLS;
	srv.d = MHD_start_daemon(
	        flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
	        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
	        on_completed, NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
	        NULL, MHD_OPTION_HTTPS_MEM_KEY, test_srv_key,
	        MHD_OPTION_HTTPS_MEM_CERT, test_srv_pem, MHD_OPTION_END);
	assert_non_null(srv.d);
	info = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	srv.port = info->port;
	snprintf(srv.base, sizeof(srv.base), "%s://127.0.0.1:%u",
	         tls ? "https" : "http", (unsigned)srv.port);
}

static void server_stop(void)
{
	pthread_mutex_lock(&srv.mu);
	srv.released = true;
	pthread_cond_broadcast(&srv.cv);
	pthread_mutex_unlock(&srv.mu);
	if (srv.d != NULL)
		MHD_stop_daemon(srv.d);
	srv.d = NULL;
	pthread_cond_destroy(&srv.cv);
	pthread_mutex_destroy(&srv.mu);
}

static int server_get(const int *field)
{
	int v;

	pthread_mutex_lock(&srv.mu);
	v = *field;
	pthread_mutex_unlock(&srv.mu);
	return v;
}

/* A loopback port nothing listens on (bound, then closed). */
static unsigned short closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

/* ----------------------------------------------------------------------
 * A fake clock and a capturing logger
 */

struct fake_clock {
	struct cmr_clock base;
	int64_t now;
	int64_t sleeps[64];
	size_t nsleeps;
	atomic_int *interrupt_on_sleep; /* plays Ctrl-C */
};

static int64_t fake_now(struct cmr_clock *c)
{
	return cmr_container_of(c, struct fake_clock, base)->now;
}

static void fake_sleep(struct cmr_clock *c, int64_t ms)
{
	struct fake_clock *fc = cmr_container_of(c, struct fake_clock, base);

	if (fc->nsleeps < CMR_ARRAY_SIZE(fc->sleeps))
		fc->sleeps[fc->nsleeps++] = ms;
	if (ms > 0)
		fc->now += ms;
	if (fc->interrupt_on_sleep != NULL)
		*fc->interrupt_on_sleep = 1;
}

struct log_capture {
	char text[32768];
	size_t len;
};

static void capture_log(enum cmr_log_level level, const char *component,
                        const char *msg, void *ud)
{
	struct log_capture *lc = ud;
	int n;

	(void)level;
	n = snprintf(lc->text + lc->len, sizeof(lc->text) - lc->len,
	             "[%s] %s\n", component, msg);
	if (n > 0 && (size_t)n < sizeof(lc->text) - lc->len)
		lc->len += (size_t)n;
}

/* ----------------------------------------------------------------------
 * Fixture
 */

struct fixture {
	struct fake_clock clock;
	struct log_capture log;
	struct cmr_logger logger;
	struct cmr_http_options opts;
	struct cmr_transport *t;
	struct cmr_http_response resp[24];
	struct cmr_error err;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	size_t i;

	assert_non_null(fx);
	server_start(false);
	fx->clock.base.now_ms = fake_now;
	fx->clock.base.sleep_ms = fake_sleep;
	fx->clock.base.wall_ms = fake_now;
	fx->clock.now = 1000000;
	fx->logger.fn = capture_log;
	fx->logger.ud = &fx->log;
	fx->logger.level = CMR_LOG_TRACE;
	fx->opts.base_url = srv.base;
	fx->opts.username = USER;
	fx->opts.password = PASSWORD;
	fx->opts.clock = &fx->clock.base;
	fx->opts.logger = &fx->logger;
	fx->opts.retry_deadline_ms = 2000; /* fake milliseconds */
	for (i = 0; i < CMR_ARRAY_SIZE(fx->resp); i++)
		cmr_http_response_init(&fx->resp[i]);
	cmr_error_clear(&fx->err);
	*state = fx;
	return 0;
}

static void release_resp(struct fixture *fx)
{
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(fx->resp); i++)
		cmr_http_response_release(&fx->resp[i]);
	cmr_error_clear(&fx->err);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	release_resp(fx);
	/* stop the server first: a handler blocked in /hang lets go */
	server_stop();
	cmr_transport_free(fx->t);
	free(fx);
	return 0;
}

static void open_transport(struct fixture *fx)
{
	assert_cmr_ok(cmr_http_transport_new(&fx->t, &fx->opts, &fx->err),
	              &fx->err);
}

static int get(struct fixture *fx, const char *url)
{
	const struct cmr_http_request req = { .method = "GET", .url = url };

	release_resp(fx);
	return cmr_transport_send(fx->t, &req, &fx->resp[0], &fx->err);
}

static int send_one(struct fixture *fx, const char *method, const char *url)
{
	const struct cmr_http_request req = { .method = method, .url = url };

	release_resp(fx);
	return cmr_transport_send(fx->t, &req, &fx->resp[0], &fx->err);
}

/* ----------------------------------------------------------------------
 * URL policy
 */

static void test_http__url_policy(void **state)
{
	struct cmr_error err = CMR_ERROR_INIT;

	(void)state;
	assert_cmr_ok(
	        cmr_http_check_url("https://cm.example.com:7183", false, &err),
	        &err);
	assert_cmr_ok(
	        cmr_http_check_url("HTTPS://cm.example.com/cm/", false, &err),
	        &err);
	assert_cmr_ok(cmr_http_check_url("http://127.0.0.1:7180", false, &err),
	              &err);
	assert_cmr_ok(cmr_http_check_url("http://127.8.9.10", false, &err),
	              &err);
	assert_cmr_ok(cmr_http_check_url("http://localhost:7180", false, &err),
	              &err);
	assert_cmr_ok(cmr_http_check_url("http://[::1]:7180/", false, &err),
	              &err);
	assert_cmr_ok(
	        cmr_http_check_url("http://cm.example.com:7180", true, &err),
	        &err);
	assert_true(cmr_http_url_is_loopback("http://[::1]:1"));
	assert_false(cmr_http_url_is_loopback("http://128.0.0.1:1"));

	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_http_check_url("http://cm.example.com:7180", false, &err),
	        &err);
	assert_non_null(
	        strstr(err.msg, "refusing plain http to 'cm.example.com'"));
	assert_non_null(strstr(err.msg, "--allow-insecure-http"));
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_http_check_url("http://127.0.0.1.evil.com", false, &err),
	        &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_http_check_url("http://localhost.evil.com", false, &err),
	        &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_http_check_url("https://admin:pw@cm:7183", false, &err),
	        &err);
	assert_null(strstr(err.msg, "pw@"));
	assert_non_null(strstr(err.msg, "--password-file"));
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL, cmr_http_check_url("ftp://cm", false, &err), &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL,
	        cmr_http_check_url("cm.example.com:7183", false, &err), &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL, cmr_http_check_url("https://cm:99999", false, &err),
	        &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(
	        CMR_EINVAL, cmr_http_check_url("https://cm/?x=1", false, &err),
	        &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(CMR_EINVAL,
	                      cmr_http_check_url("https://:7183", false, &err),
	                      &err);
	cmr_error_clear(&err);
	assert_cmr_fails_with(CMR_EINVAL, cmr_http_check_url(NULL, false, &err),
	                      &err);
}

static void test_http__refuses_http_to_remote_host(void **state)
{
	struct fixture *fx = *state;

	fx->opts.base_url = "http://cm.example.com:7180";
	assert_cmr_fails_with(
	        CMR_EINVAL, cmr_http_transport_new(&fx->t, &fx->opts, &fx->err),
	        &fx->err);
	assert_null(fx->t);
	assert_non_null(strstr(fx->err.msg, "refusing plain http"));
	cmr_error_clear(&fx->err);
	fx->opts.allow_insecure_http = true;
	open_transport(fx); /* allowed; nothing is sent yet */
	cmr_transport_free(fx->t);
	fx->t = NULL;
	fx->opts.allow_insecure_http = false;
	fx->opts.base_url = "https://cm.example.com:7183";
	open_transport(fx);
}

static void test_http__refuses_bad_targets(void **state)
{
	struct fixture *fx = *state;

	open_transport(fx);
	assert_cmr_fails_with(CMR_EINVAL, get(fx, "http://evil.example/x"),
	                      &fx->err);
	assert_cmr_fails_with(CMR_EINVAL, get(fx, "//evil.example/x"),
	                      &fx->err);
	assert_cmr_fails_with(CMR_EINVAL, get(fx, "/a\r\nX-Evil: 1"), &fx->err);
	assert_cmr_fails_with(CMR_EINVAL, send_one(fx, "get", "/echo"),
	                      &fx->err);
	assert_int_equal(server_get(&srv.requests), 0);
}

/* ----------------------------------------------------------------------
 * Requests and waves
 */

static void test_http__methods_and_bodies(void **state)
{
	struct fixture *fx = *state;
	const char *json = "{\"items\":[{\"name\":\"a\",\"value\":\"1\"}]}";
	const struct cmr_http_request put = { .method = "PUT",
		                              .url = "/echo?message=x",
		                              .body = json,
		                              .body_len = strlen(json) };

	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_string_equal(fx->resp[0].body.ptr, "GET /echo");
	assert_string_equal(fx->resp[0].content_type, "application/json");
	assert_int_equal(fx->resp[0].attempts, 1);

	release_resp(fx);
	assert_cmr_ok(cmr_transport_send(fx->t, &put, fx->resp, &fx->err),
	              &fx->err);
	assert_string_equal(fx->resp[0].body.ptr, "PUT /echo");
	assert_string_equal(srv.last_method, "PUT");
	assert_string_equal(srv.last_ctype, "application/json");
	assert_string_equal(srv.last_body, json);

	assert_cmr_ok(send_one(fx, "DELETE", "/echo"), &fx->err);
	assert_string_equal(fx->resp[0].body.ptr, "DELETE /echo");
	assert_int_equal(srv.last_body_len, 0);

	assert_cmr_ok(send_one(fx, "POST", "/echo"), &fx->err);
	assert_string_equal(fx->resp[0].body.ptr, "POST /echo");

	/* HTTP error statuses are answers, not transport errors */
	assert_cmr_ok(get(fx, "/nowhere"), &fx->err);
	assert_int_equal(fx->resp[0].status, 404);
	assert_string_equal(fx->resp[0].body.ptr,
	                    "{\"message\":\"not found\"}");
	assert_int_equal(fx->t->stats.waves, 5);
	assert_int_equal(fx->t->stats.bytes_sent, strlen(json));
}

static void test_http__wave_of_8_is_concurrent(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_request req[8];
	size_t i;

	open_transport(fx);
	for (i = 0; i < 8; i++)
		req[i] = (struct cmr_http_request){ .method = "GET",
			                            .url = "/barrier?n=8" };
	assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 8, &fx->err),
	              &fx->err);
	for (i = 0; i < 8; i++)
		assert_int_equal(fx->resp[i].status, 200);
	assert_int_equal(server_get(&srv.max_in_flight), 8);
	assert_true(server_get(&srv.connections) <= 8);
	assert_int_equal(fx->t->stats.waves, 1);
	assert_int_equal(fx->t->stats.requests, 8);
	assert_int_equal(fx->t->stats.max_in_flight, 8);
}

static void test_http__wave_of_20_uses_at_most_8_connections(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_request req[20];
	size_t i;

	open_transport(fx);
	for (i = 0; i < 20; i++)
		req[i] = (struct cmr_http_request){
			.method = "GET", .url = i < 8 ? "/barrier?n=8" : "/echo"
		};
	assert_cmr_ok(
	        cmr_transport_send_all(fx->t, req, fx->resp, 20, &fx->err),
	        &fx->err);
	for (i = 0; i < 20; i++)
		assert_int_equal(fx->resp[i].status, 200);
	assert_true(server_get(&srv.connections) <= 8);
	assert_true(server_get(&srv.max_in_flight) <= 8);
	assert_true(fx->t->stats.max_in_flight <= 8);
	assert_int_equal(server_get(&srv.requests), 20);
}

static void test_http__max_connections_option(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_request req[6];
	size_t i;

	fx->opts.max_connections = 2;
	open_transport(fx);
	for (i = 0; i < 6; i++)
		req[i] = (struct cmr_http_request){ .method = "GET",
			                            .url = "/echo" };
	assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 6, &fx->err),
	              &fx->err);
	assert_true(server_get(&srv.connections) <= 2);
	assert_true(server_get(&srv.max_in_flight) <= 2);
}

static void test_http__keepalive_reuses_connections(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_request req[4];
	int after_first;
	size_t i;

	open_transport(fx);
	for (i = 0; i < 4; i++)
		req[i] = (struct cmr_http_request){ .method = "GET",
			                            .url = "/barrier?n=4" };
	assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 4, &fx->err),
	              &fx->err);
	after_first = server_get(&srv.connections);
	assert_int_equal(after_first, 4);
	for (i = 0; i < 3; i++) {
		release_resp(fx);
		assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 4,
		                                     &fx->err),
		              &fx->err);
	}
	assert_int_equal(server_get(&srv.connections), after_first);
	assert_int_equal(fx->t->stats.connects, 4);
	assert_int_equal(fx->t->stats.waves, 4);
	assert_int_equal(server_get(&srv.requests), 16);
}

/* ----------------------------------------------------------------------
 * Authentication
 */

static void test_http__basic_then_cookie(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_request req[3];
	size_t i;

	srv.require_auth = true;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(server_get(&srv.basic_requests), 1);

	for (i = 0; i < 3; i++)
		req[i] = (struct cmr_http_request){ .method = "GET",
			                            .url = "/echo" };
	release_resp(fx);
	assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 3, &fx->err),
	              &fx->err);
	for (i = 0; i < 3; i++)
		assert_int_equal(fx->resp[i].status, 200);
	/* the session cookie alone, no more credentials on the wire */
	assert_int_equal(server_get(&srv.basic_requests), 1);
	assert_int_equal(server_get(&srv.cookie_requests), 3);
	assert_int_equal(server_get(&srv.unauthorized), 0);
}

/* A clone signs in with the same credentials, on its own connections,
 * and keeps working after the original is gone. */
static void test_http__clone_is_independent(void **state)
{
	struct fixture *fx = *state;
	struct cmr_transport *c = NULL;
	const struct cmr_http_request req = { .method = "GET", .url = "/echo" };
	struct cmr_http_response r;

	srv.require_auth = true;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_cmr_ok(cmr_transport_clone(&c, fx->t, &fx->err), &fx->err);
	assert_non_null(c);
	cmr_transport_free(fx->t);
	fx->t = NULL;
	cmr_http_response_init(&r);
	assert_cmr_ok(cmr_transport_send(c, &req, &r, &fx->err), &fx->err);
	assert_int_equal(r.status, 200);
	/* its own session: Basic once more, then the cookie */
	assert_int_equal(server_get(&srv.basic_requests), 2);
	assert_int_equal(c->stats.requests, 1);
	assert_int_equal(c->stats.connects, 1);
	cmr_http_response_release(&r);
	cmr_transport_free(c);
}

static void test_http__reauth_once_on_401(void **state)
{
	struct fixture *fx = *state;

	srv.require_auth = true;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(server_get(&srv.cookie_requests), 1);

	/* CM restarted: the session is gone */
	pthread_mutex_lock(&srv.mu);
	srv.session[0] = '\0';
	pthread_mutex_unlock(&srv.mu);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[0].attempts, 2);
	assert_true(fx->resp[0].flags & CMR_HTTP_RESP_REAUTHED);
	assert_int_equal(server_get(&srv.unauthorized), 1);
	assert_int_equal(server_get(&srv.basic_requests), 2);
	assert_int_equal(fx->t->stats.reauths, 1);

	/* and the new session is used from then on */
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_int_equal(server_get(&srv.basic_requests), 2);
	assert_int_equal(server_get(&srv.cookie_requests), 3);
}

static void test_http__reauth_in_a_wave_counts_once(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_request req[4];
	size_t i;

	srv.require_auth = true;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	for (i = 0; i < 4; i++)
		req[i] = (struct cmr_http_request){ .method = "GET",
			                            .url = "/barrier?n=4" };
	/* two CM restarts in a row, each met by a whole wave */
	for (i = 0; i < 2; i++) {
		size_t j;

		pthread_mutex_lock(&srv.mu);
		srv.session[0] = '\0';
		srv.barrier_open = false;
		pthread_mutex_unlock(&srv.mu);
		release_resp(fx);
		assert_cmr_ok(cmr_transport_send_all(fx->t, req, fx->resp, 4,
		                                     &fx->err),
		              &fx->err);
		for (j = 0; j < 4; j++)
			assert_int_equal(fx->resp[j].status, 200);
	}
	/* the cookie is still trusted: the next request carries it alone */
	i = (size_t)server_get(&srv.basic_requests);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_int_equal(server_get(&srv.basic_requests), (int)i);
}

static void test_http__stops_relying_on_a_refused_cookie(void **state)
{
	struct fixture *fx = *state;
	int i;

	/* a cookie the client never sends back to /echo */
	srv.require_auth = true;
	srv.cookie_path = "/elsewhere";
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	for (i = 0; i < 3; i++) {
		assert_cmr_ok(get(fx, "/echo"), &fx->err);
		assert_int_equal(fx->resp[0].status, 200);
		assert_int_equal(fx->resp[0].attempts, 2);
	}
	/* from now on the credentials go with every request */
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_int_equal(server_get(&srv.unauthorized), 3);
}

static void test_http__bad_credentials_answer_401(void **state)
{
	struct fixture *fx = *state;

	srv.require_auth = true;
	fx->opts.password = "wrong";
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 401);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_string_equal(fx->resp[0].body.ptr,
	                    "{\"message\":\"Bad credentials\"}");
	assert_int_equal(server_get(&srv.requests), 1);
}

/* ----------------------------------------------------------------------
 * Retries
 */

static void test_http__retries_503_then_succeeds(void **state)
{
	struct fixture *fx = *state;

	srv.script[0] = 503;
	srv.script[1] = 502;
	srv.script[2] = 504;
	srv.nscript = 3;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[0].attempts, 4);
	assert_true(fx->resp[0].flags & CMR_HTTP_RESP_RETRIED);
	assert_int_equal(server_get(&srv.hits_script), 4);
	assert_int_equal(fx->t->stats.retries, 3);
	/* capped exponential backoff with jitter: [d/2, d] for 200, 400, 800 */
	assert_int_equal(fx->clock.nsleeps, 3);
	assert_in_range(fx->clock.sleeps[0], 100, 200);
	assert_in_range(fx->clock.sleeps[1], 200, 400);
	assert_in_range(fx->clock.sleeps[2], 400, 800);
	assert_non_null(
	        strstr(fx->log.text, "GET /script: status 503; retrying"));
}

static void test_http__gives_up_at_retry_deadline(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(srv.script); i++)
		srv.script[i] = 503;
	srv.nscript = CMR_ARRAY_SIZE(srv.script);
	fx->opts.backoff_max_ms = 400;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/script"), &fx->err);
	/* the last answer is handed over as it is */
	assert_int_equal(fx->resp[0].status, 503);
	assert_true(fx->resp[0].attempts >= 4);
	assert_true(fx->resp[0].duration_ms <= 2000);
	for (i = 0; i < fx->clock.nsleeps; i++)
		assert_true(fx->clock.sleeps[i] <= 400);
}

static void test_http__404_not_retried(void **state)
{
	struct fixture *fx = *state;

	srv.script[0] = 404;
	srv.script[1] = 409;
	srv.script[2] = 500;
	srv.nscript = 3;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 404);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_cmr_ok(get(fx, "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 409);
	assert_cmr_ok(get(fx, "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 500);
	assert_int_equal(server_get(&srv.hits_script), 3);
	assert_int_equal(fx->clock.nsleeps, 0);
	assert_int_equal(fx->t->stats.retries, 0);
}

static void test_http__no_retry_flag_and_negative_deadline(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req = { .method = "GET",
		                              .url = "/script",
		                              .flags = CMR_HTTP_REQ_NO_RETRY };

	srv.script[0] = 503;
	srv.script[1] = 503;
	srv.nscript = 2;
	open_transport(fx);
	assert_cmr_ok(cmr_transport_send(fx->t, &req, fx->resp, &fx->err),
	              &fx->err);
	assert_int_equal(fx->resp[0].status, 503);
	cmr_transport_free(fx->t);
	fx->t = NULL;
	fx->opts.retry_deadline_ms = -1;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 503);
	assert_int_equal(server_get(&srv.hits_script), 2);
}

static void test_http__post_not_retried_after_send(void **state)
{
	struct fixture *fx = *state;

	open_transport(fx);
	/* warm up, so a kept-alive connection exists to be (not) reused */
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_cmr_fails_with(CMR_ETRANSPORT, send_one(fx, "POST", "/drop"),
	                      &fx->err);
	assert_int_equal(fx->resp[0].status, 0);
	assert_true(fx->resp[0].flags & CMR_HTTP_RESP_MAYBE_APPLIED);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_non_null(strstr(fx->err.msg, "may have reached CM"));
	assert_int_equal(server_get(&srv.hits_drop), 1);

	/* the same failure on a GET is retried */
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/drop"), &fx->err);
	assert_false(fx->resp[0].flags & CMR_HTTP_RESP_MAYBE_APPLIED);
	assert_true(fx->resp[0].attempts > 1);
	assert_true(server_get(&srv.hits_drop) > 2);
}

static void test_http__post_503_not_retried(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request idem = {
		.method = "POST",
		.url = "/script",
		.flags = CMR_HTTP_REQ_IDEMPOTENT
	};

	srv.script[0] = 503;
	srv.script[1] = 503;
	srv.nscript = 2;
	open_transport(fx);
	assert_cmr_ok(send_one(fx, "POST", "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 503);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_int_equal(server_get(&srv.hits_script), 1);
	/* unless the caller vouches that it is safe to repeat */
	release_resp(fx);
	assert_cmr_ok(cmr_transport_send(fx->t, &idem, fx->resp, &fx->err),
	              &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_int_equal(fx->resp[0].attempts, 2);
}

static void test_http__connection_refused_retried(void **state)
{
	struct fixture *fx = *state;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u",
	         (unsigned)closed_port());
	fx->opts.base_url = url;
	fx->opts.retry_deadline_ms = 1000;
	open_transport(fx);
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 0);
	assert_true(fx->resp[0].attempts >= 3);
	assert_non_null(strstr(fx->err.msg, "'GET /echo': "));
	assert_non_null(strstr(fx->err.msg, "onnect"));
	assert_true(fx->clock.now - 1000000 <= 1000);

	/* a POST that never left is safe to repeat, and not "maybe applied" */
	assert_cmr_fails_with(CMR_ETRANSPORT, send_one(fx, "POST", "/echo"),
	                      &fx->err);
	assert_true(fx->resp[0].attempts >= 2);
	assert_false(fx->resp[0].flags & CMR_HTTP_RESP_MAYBE_APPLIED);
}

static void test_http__timeout(void **state)
{
	struct fixture *fx = *state;

	fx->opts.request_timeout_ms = 100;
	fx->opts.retry_deadline_ms = -1;
	open_transport(fx);
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/hang"), &fx->err);
	assert_non_null(strstr(fx->err.msg, "imeout"));
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_false(fx->resp[0].flags & CMR_HTTP_RESP_MAYBE_APPLIED);
	assert_cmr_fails_with(CMR_ETRANSPORT, send_one(fx, "POST", "/hang"),
	                      &fx->err);
	assert_true(fx->resp[0].flags & CMR_HTTP_RESP_MAYBE_APPLIED);
	assert_int_equal(server_get(&srv.hits_hang), 2);
}

static void test_http__timeout_retried_for_get(void **state)
{
	struct fixture *fx = *state;

	fx->opts.request_timeout_ms = 50;
	fx->opts.retry_deadline_ms = 500; /* fake: 200 then 400 backoff */
	open_transport(fx);
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/hang"), &fx->err);
	assert_true(fx->resp[0].attempts >= 2);
	assert_true(server_get(&srv.hits_hang) >= 2);
}

/* ----------------------------------------------------------------------
 * Limits and policy
 */

static void test_http__interrupt_stops_pending_requests(void **state)
{
	struct fixture *fx = *state;
	atomic_int interrupted = 0;

	srv.script[0] = 503;
	srv.nscript = 1;
	fx->opts.interrupted = &interrupted;
	fx->clock.interrupt_on_sleep = &interrupted;
	open_transport(fx);
	/* Ctrl-C during the backoff: the retry is not sent */
	assert_cmr_fails_with(CMR_EINTR, get(fx, "/script"), &fx->err);
	assert_int_equal(fx->resp[0].status, 0);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_non_null(strstr(fx->err.msg, "interrupted"));
	assert_int_equal(server_get(&srv.hits_script), 1);
	/* and nothing at all once it is set */
	assert_cmr_fails_with(CMR_EINTR, get(fx, "/echo"), &fx->err);
	assert_int_equal(server_get(&srv.requests), 1);
}

static void test_http__body_cap(void **state)
{
	struct fixture *fx = *state;

	fx->opts.max_body = 1024;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/big?n=1024"), &fx->err);
	assert_int_equal(fx->resp[0].body.len, 1024);
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/big?n=5000"), &fx->err);
	assert_true(fx->resp[0].flags & CMR_HTTP_RESP_TOOBIG);
	assert_non_null(
	        strstr(fx->err.msg, "larger than the limit of 1024 bytes"));
	assert_int_equal(fx->resp[0].attempts, 1);
}

static void test_http__redirect_not_followed(void **state)
{
	struct fixture *fx = *state;

	open_transport(fx);
	assert_cmr_ok(get(fx, "/redirect"), &fx->err);
	assert_int_equal(fx->resp[0].status, 302);
	sleep_real_ms(20);
	assert_int_equal(server_get(&srv.hits_target), 0);
}

static void test_http__tls_is_verified(void **state)
{
	struct fixture *fx = *state;
	char url[64];

	/* https to a plain-http server: the handshake fails, no retry */
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned)srv.port);
	fx->opts.base_url = url;
	open_transport(fx);
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_non_null(strstr(fx->err.msg, "SSL"));
}

/* Restarts the fixture's server with TLS and writes the CA to a file. */
static void go_tls(struct fixture *fx, char *ca_path)
{
	int fd = mkstemp(ca_path);
	size_t n = strlen(test_ca_pem);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, test_ca_pem, n), (ssize_t)n);
	close(fd);
	server_stop();
	server_start(true);
	fx->opts.base_url = srv.base;
}

static void test_http__tls_with_ca_file(void **state)
{
	struct fixture *fx = *state;
	char ca[] = "/tmp/cmr-test-ca-XXXXXX";

	go_tls(fx, ca);
	fx->opts.ca_file = ca;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
	assert_string_equal(fx->resp[0].body.ptr, "GET /echo");
	unlink(ca);
}

static void test_http__tls_rejects_unknown_ca(void **state)
{
	struct fixture *fx = *state;
	char ca[] = "/tmp/cmr-test-ca-XXXXXX";

	go_tls(fx, ca);
	unlink(ca);
	open_transport(fx); /* system CAs only: ours is not among them */
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_non_null(strstr(fx->err.msg, "'GET /echo': "));
	assert_int_equal(server_get(&srv.requests), 0);
	/* --insecure: the caller's explicit choice */
	cmr_transport_free(fx->t);
	fx->t = NULL;
	fx->opts.insecure = true;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].status, 200);
}

static void test_http__tls_rejects_wrong_host_name(void **state)
{
	struct fixture *fx = *state;
	char ca[] = "/tmp/cmr-test-ca-XXXXXX";
	char url[64];

	go_tls(fx, ca);
	/* the certificate names 127.0.0.1, not localhost */
	snprintf(url, sizeof(url), "https://localhost:%u", (unsigned)srv.port);
	fx->opts.base_url = url;
	fx->opts.ca_file = ca;
	open_transport(fx);
	assert_cmr_fails_with(CMR_ETRANSPORT, get(fx, "/echo"), &fx->err);
	assert_int_equal(fx->resp[0].attempts, 1);
	assert_int_equal(server_get(&srv.requests), 0);
	unlink(ca);
}

static void test_http__logs_without_secrets(void **state)
{
	struct fixture *fx = *state;
	const char *secret =
	        "{\"items\":[{\"name\":\"pw\",\"value\":\"TOPSECRET\"}]}";
	const struct cmr_http_request put = { .method = "PUT",
		                              .url = "/echo",
		                              .body = secret,
		                              .body_len = strlen(secret) };

	srv.require_auth = true;
	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	release_resp(fx);
	assert_cmr_ok(cmr_transport_send(fx->t, &put, fx->resp, &fx->err),
	              &fx->err);
	assert_non_null(strstr(fx->log.text, "GET /echo -> 200"));
	assert_non_null(strstr(fx->log.text, "PUT /echo -> 200"));
	assert_null(strstr(fx->log.text, PASSWORD));
	assert_null(strstr(fx->log.text, "YWRtaW46"));
	assert_null(strstr(fx->log.text, "Authorization"));
	assert_null(strstr(fx->log.text, "sess1"));
	assert_null(strstr(fx->log.text, "TOPSECRET"));
}

/* Every allocation of ours failing in turn: CMR_ENOMEM, no leak, no crash. */
static void test_http__out_of_memory_is_clean(void **state)
{
	struct fixture *fx = *state;
	const struct cmr_http_request req[] = {
		{ .method = "GET", .url = "/echo" },
		{ .method = "GET", .url = "/big?n=3000" },
	};
	long n;

	for (n = 0; n < 500; n++) {
		int rc;

		release_resp(fx);
		cmr_test_fail_alloc_after(n);
		rc = cmr_http_transport_new(&fx->t, &fx->opts, &fx->err);
		if (rc == 0)
			rc = cmr_transport_send_all(fx->t, req, fx->resp, 2,
			                            &fx->err);
		cmr_test_alloc_reset();
		cmr_transport_free(fx->t);
		fx->t = NULL;
		if (rc == 0)
			break;
		assert_int_equal(rc, CMR_ENOMEM);
	}
	assert_true(n > 3 && n < 500);
	assert_int_equal(fx->resp[1].status, 200);
	assert_int_equal(fx->resp[1].body.len, 3000);
}

static void test_http__stats_count_bytes(void **state)
{
	struct fixture *fx = *state;
	struct cmr_http_stats before;

	open_transport(fx);
	assert_cmr_ok(get(fx, "/echo"), &fx->err);
	before = fx->t->stats;
	assert_cmr_ok(get(fx, "/big?n=100"), &fx->err);
	assert_int_equal(fx->t->stats.waves - before.waves, 1);
	assert_int_equal(fx->t->stats.attempts - before.attempts, 1);
	assert_int_equal(fx->t->stats.bytes_received - before.bytes_received,
	                 100);
	assert_int_equal(fx->t->stats.failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_http__url_policy),
		T(test_http__refuses_http_to_remote_host),
		T(test_http__refuses_bad_targets),
		T(test_http__methods_and_bodies),
		T(test_http__wave_of_8_is_concurrent),
		T(test_http__wave_of_20_uses_at_most_8_connections),
		T(test_http__max_connections_option),
		T(test_http__keepalive_reuses_connections),
		T(test_http__basic_then_cookie),
		T(test_http__clone_is_independent),
		T(test_http__reauth_once_on_401),
		T(test_http__reauth_in_a_wave_counts_once),
		T(test_http__stops_relying_on_a_refused_cookie),
		T(test_http__bad_credentials_answer_401),
		T(test_http__retries_503_then_succeeds),
		T(test_http__gives_up_at_retry_deadline),
		T(test_http__404_not_retried),
		T(test_http__no_retry_flag_and_negative_deadline),
		T(test_http__post_not_retried_after_send),
		T(test_http__post_503_not_retried),
		T(test_http__connection_refused_retried),
		T(test_http__timeout),
		T(test_http__timeout_retried_for_get),
		T(test_http__interrupt_stops_pending_requests),
		T(test_http__body_cap),
		T(test_http__redirect_not_followed),
		T(test_http__tls_is_verified),
		T(test_http__tls_with_ca_file),
		T(test_http__tls_rejects_unknown_ca),
		T(test_http__tls_rejects_wrong_host_name),
		T(test_http__logs_without_secrets),
		T(test_http__stats_count_bytes),
		T(test_http__out_of_memory_is_clean),
#undef T
	};

	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
