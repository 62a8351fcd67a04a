/*
 * server.c -- cmsim's HTTP front: libmicrohttpd, auth, faults, statistics.
 *
 * One thread per connection (libmicrohttpd's THREAD_PER_CONNECTION), so a
 * slow response (--latency, a `slow` fault) delays only its own client.
 * All state is touched under sim->lock; sleeping happens outside it.
 *
 * The path is taken raw: libmicrohttpd's unescaping is switched off so a
 * name containing an encoded slash (%2F) stays one segment, and each
 * segment and query value is decoded here.  The literal path in the
 * statistics is therefore the path as the client sent it.
 *
 * Order of checks for an API request: statistics (every request below
 * /api, the simulator endpoints excluded), request faults (unauthorized, drop
 * before, http-error), authentication (Basic or the CLOUDERA_MANAGER_SESSIONID
 * cookie; 401), authorisation (403), routing (404 unknown path or API
 * version, 405 wrong method), body parsing (400), the handler, the state
 * file, then delays and drop-after faults.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cmr/buf.h"

#include "sim.h"

#define MAX_BODY ((size_t)16 << 20)
#define MAX_SEGS 24
#define COOKIE   "CLOUDERA_MANAGER_SESSIONID"

struct cmsim_server {
	struct MHD_Daemon *daemon;
	struct cmsim *sim;
	int port;
};

struct conn_ctx {
	struct cmr_buf body;
};

struct outcome {
	int status;
	struct json_object *json; /* owned */
	char *text;               /* owned */
	char session[40];
	bool drop;
	bool www_auth;
	int64_t delay_ms;
};

/* --- decoding ------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s in place; '+' becomes a space when plus is set. */
static void urldecode(char *s, bool plus)
{
	char *out = s;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*out++ = (char)(hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		} else if (plus && *s == '+') {
			*out++ = ' ';
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
	struct json_object *q = cls;
	char *v = strdup(value ? value : "");
	char *k = strdup(key ? key : "");

	(void)kind;
	if (v && k) {
		urldecode(v, true);
		urldecode(k, true);
		cmsim_jset_str(q, k, v);
	}
	free(v);
	free(k);
	return MHD_YES;
}

static const unsigned char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64decode(const char *in, char *out, size_t size)
{
	unsigned int acc = 0;
	int bits = 0;
	size_t n = 0;

	for (; *in && *in != '='; in++) {
		const unsigned char *p =
		        (const unsigned char *)strchr((const char *)b64, *in);

		if (!p || !*in)
			return 0;
		acc = (acc << 6) | (unsigned int)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n + 1 >= size)
				return 0;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	return n;
}

/* --- statistics ----------------------------------------------------------- */

void cmsim_stats_reset(struct cmsim *sim)
{
	struct json_object *req = json_object_new_object();

	cmsim_jset_int(req, "GET", 0);
	cmsim_jset_int(req, "PUT", 0);
	cmsim_jset_int(req, "POST", 0);
	cmsim_jset_int(req, "DELETE", 0);
	json_object_object_add(sim->stats, "requests", req);
	json_object_object_add(sim->stats, "endpoints",
	                       json_object_new_object());
	json_object_object_add(sim->stats, "paths", json_object_new_object());
	json_object_object_add(sim->stats, "restarts",
	                       json_object_new_object());
}

static void bump(struct json_object *o, const char *key)
{
	cmsim_jset_int(o, key, cmsim_jint(o, key, 0) + 1);
}

static void count(struct cmsim *sim, const char *method, const char *path,
                  const char *tpl, int ver)
{
	struct cmr_buf key = CMR_BUF_INIT;

	if (!cmsim_jget(sim->stats, "requests"))
		cmsim_stats_reset(sim);
	bump(cmsim_jget(sim->stats, "requests"), method);
	cmr_buf_addf(&key, "%s %s", method, path);
	if (!cmr_buf_error(&key))
		bump(cmsim_jget(sim->stats, "paths"), key.ptr);
	if (tpl) {
		cmr_buf_reset(&key);
		if (ver > 0)
			cmr_buf_addf(&key, "%s /api/v%d%s", method, ver, tpl);
		else
			cmr_buf_addf(&key, "%s %s", method, tpl);
		if (!cmr_buf_error(&key))
			bump(cmsim_jget(sim->stats, "endpoints"), key.ptr);
	}
	cmr_buf_release(&key);
}

/* --- authentication ------------------------------------------------------- */

static const struct cmsim_user *find_user(struct cmsim *sim, const char *name)
{
	size_t i;

	for (i = 0; name && i < sim->nusers; i++)
		if (strcmp(sim->users[i].name, name) == 0)
			return &sim->users[i];
	return NULL;
}

static void new_session(struct cmsim *sim, char *out, size_t size)
{
	snprintf(out, size, "%08x%08x%08x%08x",
	         (unsigned)(cmsim_rand(sim) * 4294967295.0),
	         (unsigned)(cmsim_rand(sim) * 4294967295.0),
	         (unsigned)(cmsim_rand(sim) * 4294967295.0),
	         (unsigned)(cmsim_rand(sim) * 4294967295.0));
}

/* The authenticated user, or NULL; out->session is set for the cookie. */
static const struct cmsim_user *authenticate(struct cmsim *sim,
                                             struct MHD_Connection *conn,
                                             struct outcome *out)
{
	const char *cookie =
	        MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
	const char *auth = MHD_lookup_connection_value(
	        conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const struct cmsim_user *u = NULL;
	char creds[512];
	char *colon;

	if (auth && strncmp(auth, "Basic ", 6) == 0 &&
	    b64decode(auth + 6, creds, sizeof(creds)) > 0 &&
	    (colon = strchr(creds, ':')) != NULL) {
		*colon = '\0';
		u = find_user(sim, creds);
		if (!u || strcmp(u->password, colon + 1) != 0)
			return NULL; /* wrong Basic credentials: 401 */
		if (cookie && strlen(cookie) < sizeof(out->session) &&
		    cmsim_jstr(sim->sessions, cookie) &&
		    strcmp(cmsim_jstr(sim->sessions, cookie), u->name) == 0) {
			snprintf(out->session, sizeof(out->session), "%s",
			         cookie);
		} else {
			/* Clients that ignore the cookie would grow the table
			 * without end: forget old sessions past a bound. */
			if (json_object_object_length(sim->sessions) >= 10000) {
				json_object_put(sim->sessions);
				sim->sessions = json_object_new_object();
			}
			new_session(sim, out->session, sizeof(out->session));
			cmsim_jset_str(sim->sessions, out->session, u->name);
		}
		return u;
	}
	if (cookie && strlen(cookie) < sizeof(out->session)) {
		u = find_user(sim, cmsim_jstr(sim->sessions, cookie));
		if (u)
			snprintf(out->session, sizeof(out->session), "%s",
			         cookie);
	}
	return u;
}

/* --- the simulator endpoints (/_sim/...) ---------------------------------- */

static struct json_object *fault_list(struct cmsim *sim)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < sim->faults.len; i++)
		json_object_array_add(arr, json_object_new_string(
		                                   sim->faults.items[i]->spec));
	return arr;
}

static struct json_object *clock_info(struct cmsim *sim)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	cmsim_iso_time(when, sizeof(when), cmsim_now(sim));
	cmsim_jset_str(o, "now", when);
	cmsim_jset_int(o, "nowMs", cmsim_now(sim));
	json_object_object_add(o, "timeScale",
	                       json_object_new_double(sim->time_scale));
	return o;
}

static void sim_error(struct outcome *out, int status, const char *msg)
{
	out->status = status;
	out->json = json_object_new_object();
	cmsim_jset_str(out->json, "message", msg);
}

/*
 * /_sim/clock: POST with ?advance=SECONDS moves the clock on, with
 * ?scale=X sets the time scale; any method answers the clock.  False
 * when it answered with an error (and changed nothing after it).
 */
static bool sim_clock(struct cmsim *sim, struct MHD_Connection *conn,
                      const char *method, struct outcome *out)
{
	const char *arg = MHD_lookup_connection_value(
	        conn, MHD_GET_ARGUMENT_KIND, "advance");

	if (arg && strcmp(method, "POST") == 0) {
		char *end = NULL;
		double secs = strtod(arg, &end);

		if (!end || *end || secs < 0) {
			sim_error(out, 400,
			          "advance must be a number of seconds >= 0");
			return false;
		}
		cmsim_advance(sim, (int64_t)(secs * 1000.0));
		sim->dirty = true; /* the clock is saved state */
	}
	arg = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "scale");
	if (arg && strcmp(method, "POST") == 0) {
		char *end = NULL;
		double scale = strtod(arg, &end);

		if (!end || *end || scale < 0) {
			sim_error(out, 400, "scale must be >= 0");
			return false;
		}
		cmsim_set_time_scale(sim, scale);
		sim->dirty = true;
	}
	cmsim_tick(sim);
	out->json = clock_info(sim);
	return true;
}

/*
 * Adds the faults of a POST /_sim/faults body: a JSON list of fault
 * specs, or one spec as a JSON string.  False when it answered with an
 * error (the faults before the bad one stay added).
 */
static bool add_faults(struct cmsim *sim, const char *text, struct outcome *out)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct json_object *body = json_tokener_parse(text);
	size_t i;
	size_t n;

	if (body && json_object_is_type(body, json_type_string)) {
		struct json_object *arr = json_object_new_array();

		json_object_array_add(arr, body);
		body = arr;
	}
	if (!body || !json_object_is_type(body, json_type_array)) {
		json_object_put(body);
		sim_error(out, 400, "expected a JSON list of fault specs");
		return false;
	}
	n = json_object_array_length(body);
	for (i = 0; i < n; i++) {
		const char *spec = json_object_get_string(
		        json_object_array_get_idx(body, i));

		if (cmsim_faults_add(sim, spec ? spec : "", &err) < 0) {
			json_object_put(body);
			sim_error(out, 400, err.msg);
			return false;
		}
	}
	json_object_put(body);
	return true;
}

/* The routes the simulator knows, for GET /_sim/routes. */
static struct json_object *route_list(void)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; i < cmsim_nroutes; i++) {
		struct json_object *r = json_object_new_object();

		cmsim_jset_str(r, "method", cmsim_routes[i].method);
		cmsim_jset_str(r, "path", cmsim_routes[i].path);
		cmsim_jset_int(r, "minVersion", cmsim_routes[i].min_ver);
		json_object_array_add(arr, r);
	}
	return arr;
}

static void sim_endpoint(struct cmsim *sim, struct MHD_Connection *conn,
                         const char *path, const char *method,
                         struct conn_ctx *ctx, struct outcome *out)
{
	struct cmr_error err = CMR_ERROR_INIT;

	out->status = 200;
	cmsim_tick(sim);
	if (strcmp(path, "/_sim/stats") == 0 && strcmp(method, "GET") == 0) {
		if (!cmsim_jget(sim->stats, "requests"))
			cmsim_stats_reset(sim);
		out->json = cmsim_jdup(sim->stats);
	} else if (strcmp(path, "/_sim/reset-stats") == 0 &&
	           strcmp(method, "POST") == 0) {
		cmsim_stats_reset(sim);
		out->json = cmsim_jdup(sim->stats);
	} else if (strcmp(path, "/_sim/clock") == 0) {
		if (!sim_clock(sim, conn, method, out))
			return;
	} else if (strcmp(path, "/_sim/faults") == 0) {
		if (strcmp(method, "DELETE") == 0)
			cmsim_fault_list_clear(&sim->faults);
		else if (strcmp(method, "POST") == 0 &&
		         !add_faults(sim, ctx->body.ptr, out))
			return;
		out->json = fault_list(sim);
	} else if (strcmp(path, "/_sim/routes") == 0) {
		out->json = route_list();
	} else if (strcmp(path, "/_sim/audit") == 0) {
		out->json = cmsim_jdup(cmsim_jget(sim->root, "audit"));
		if (!out->json)
			out->json = json_object_new_array();
	} else if (strcmp(path, "/_sim/state") == 0) {
		out->json = cmsim_jdup(sim->root);
	} else {
		sim_error(out, 404, "unknown simulator endpoint");
	}
	if (sim->dirty && cmsim_state_save(sim, &err) < 0)
		fprintf(stderr, "cmsim: %s\n", err.msg);
}

/* --- API requests --------------------------------------------------------- */

static bool is_write(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

/*
 * Where an API path points: /api/version sets *api_version; /api/vNN/...
 * sets *ver to NN and *subpath to the rest, from its '/'.  Anything else
 * leaves them alone.
 */
static void api_path(const char *path, int *ver, const char **subpath,
                     bool *api_version)
{
	if (strcmp(path, "/api/version") == 0) {
		*api_version = true;
	} else if (strncmp(path, "/api/v", 6) == 0) {
		char *end = NULL;
		long v = strtol(path + 6, &end, 10);

		if (end && end != path + 6 && (*end == '/' || !*end)) {
			*ver = (int)v;
			*subpath = end;
		}
	}
}

/*
 * Splits a subpath (a copy, which this cuts up and which must outlive
 * req: the route's parameters point into it) into decoded segments and
 * finds its route; *known tells whether the path exists for any method.
 */
static const struct cmsim_route *find_route(char *subpath, const char *method,
                                            struct cmsim_req *req, bool *known)
{
	char *segs[MAX_SEGS];
	size_t nsegs = 0;
	char *p;
	char *save = NULL;

	for (p = strtok_r(subpath, "/", &save); p;
	     p = strtok_r(NULL, "/", &save)) {
		if (nsegs == MAX_SEGS)
			break;
		urldecode(p, false);
		segs[nsegs++] = p;
	}
	return cmsim_route_match(method, segs, nsegs, req, known);
}

/* Uses up one firing of a fault (count=N; a negative count is forever). */
static void use_fault(struct cmsim_fault *f)
{
	if (f->count > 0)
		f->count--;
}

/*
 * The request faults, in the order documented: unauthorized first, then
 * drop (before), http-error, slow and drop (after).  True when a fault
 * answers the request; slow and drop-after only mark out.
 */
static bool request_faults(struct cmsim *sim, const char *method,
                           const char *subpath, struct outcome *out)
{
	size_t i;

	for (i = 0; i < sim->faults.len; i++) {
		struct cmsim_fault *f = sim->faults.items[i];

		if (f->kind == CMSIM_FAULT_UNAUTHORIZED &&
		    cmsim_fault_matches(f, method, subpath)) {
			use_fault(f);
			out->www_auth = true;
			sim_error(out, 401, "Authentication failed.");
			return true;
		}
	}
	for (i = 0; i < sim->faults.len; i++) {
		struct cmsim_fault *f = sim->faults.items[i];

		if (!cmsim_fault_matches(f, method, subpath))
			continue;
		if (f->rate < 1.0 && cmsim_rand(sim) >= f->rate)
			continue;
		if (f->kind == CMSIM_FAULT_DROP && !f->after) {
			use_fault(f);
			out->drop = true;
			return true;
		}
		if (f->kind == CMSIM_FAULT_HTTP_ERROR) {
			use_fault(f);
			sim_error(out, f->status,
			          "Simulated server error (cmsim fault).");
			return true;
		}
		if (f->kind == CMSIM_FAULT_SLOW) {
			use_fault(f);
			out->delay_ms += f->ms;
		}
		if (f->kind == CMSIM_FAULT_DROP && f->after) {
			use_fault(f);
			out->drop = true;
		}
	}
	return false;
}

/*
 * The checks between authentication and the handler: the API version
 * and the route (404, 405), then the user's role (403).  True when one
 * of them answers the request.
 */
static bool refused(const struct cmsim *sim, const struct cmsim_user *user,
                    const struct cmsim_route *route, bool known, int ver,
                    const char *method, struct outcome *out)
{
	if (ver < 1 || ver > sim->api_max || (!route && !known) ||
	    (route && ver < route->min_ver)) {
		sim_error(out, 404, "Not found.");
		return true;
	}
	if (!route) {
		sim_error(out, 405, "Method not allowed.");
		return true;
	}
	if (is_write(method) && user->role == CMSIM_READ_ONLY) {
		sim_error(out, 403, "Access denied: this user is read-only.");
		return true;
	}
	if (((route->flags & CMSIM_ROUTE_ADMIN) &&
	     user->role == CMSIM_READ_ONLY) ||
	    ((route->flags & CMSIM_ROUTE_FULL_ADMIN) &&
	     user->role != CMSIM_FULL_ADMIN)) {
		sim_error(out, 403,
		          "Access denied: this needs a Full or Cluster "
		          "Administrator.");
		return true;
	}
	return false;
}

/*
 * Parses the query and the body into req (which the caller releases)
 * and runs the route's handler; its answer moves to out.
 */
static void call_route(struct cmsim *sim, struct MHD_Connection *conn,
                       const struct cmsim_route *route, struct conn_ctx *ctx,
                       struct cmsim_req *req, struct outcome *out)
{
	req->query = json_object_new_object();
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query,
	                          req->query);
	if (ctx->body.len > 0) {
		enum json_tokener_error jerr = json_tokener_success;

		req->body = json_tokener_parse_verbose(ctx->body.ptr, &jerr);
		if (!req->body && jerr != json_tokener_success) {
			char msg[256];

			snprintf(msg, sizeof(msg),
			         "Malformed JSON in request body: %s",
			         json_tokener_error_desc(jerr));
			sim_error(out, 400, msg);
			return;
		}
	}
	cmsim_tick(sim);
	req->status = 500;
	route->fn(req);
	out->status = req->status;
	out->json = req->resp;
	req->resp = NULL;
	out->text = req->text;
	req->text = NULL;
	if (sim->dirty && sim->state_file) {
		struct cmr_error err = CMR_ERROR_INIT;

		if (cmsim_state_save(sim, &err) < 0)
			fprintf(stderr, "cmsim: %s\n", err.msg);
	}
}

static void api_request(struct cmsim *sim, struct MHD_Connection *conn,
                        const char *path, const char *method,
                        struct conn_ctx *ctx, struct outcome *out)
{
	char *copy = strdup(path);
	const char *subpath = "";
	int ver = -1;
	const struct cmsim_route *route = NULL;
	const struct cmsim_user *user;
	struct cmsim_req req;
	bool known = false;
	bool api_version = false;

	memset(&req, 0, sizeof(req));
	if (!copy) {
		sim_error(out, 500, "out of memory");
		return;
	}
	/* /api/version, or /api/vNN/<route> */
	api_path(path, &ver, &subpath, &api_version);
	if (ver > 0)
		route = find_route(copy + (subpath - path), method, &req,
		                   &known);
	sim->requests_seen++;
	count(sim, method, path,
	      api_version ? "/api/version"
	      : route     ? route->path
	                  : NULL,
	      api_version ? 0 : ver);
	if (request_faults(sim, method, subpath, out))
		goto done;
	user = authenticate(sim, conn, out);
	if (!user) {
		out->www_auth = true;
		out->session[0] = '\0';
		sim_error(out, 401, "Authentication failed.");
		goto done;
	}
	if (api_version) {
		char text[16];

		snprintf(text, sizeof(text), "v%d", sim->api_max);
		out->status = 200;
		out->text = strdup(text);
		goto done;
	}
	if (refused(sim, user, route, known, ver, method, out))
		goto done;
	assert(route != NULL); /* refused answers 404 or 405 without one */
	req.sim = sim;
	req.method = method;
	req.ver = ver;
	req.auth_role = user->role;
	call_route(sim, conn, route, ctx, &req, out);
done:
	json_object_put(req.query);
	json_object_put(req.body);
	json_object_put(req.resp);
	free(req.text);
	free(copy);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct outcome *out)
{
	struct MHD_Response *resp;
	const char *body = "";
	enum MHD_Result rc;

	if (out->json)
		body = json_object_to_json_string_ext(
		        out->json, JSON_C_TO_STRING_PRETTY |
		                           JSON_C_TO_STRING_NOSLASHESCAPE);
	else if (out->text)
		body = out->text;
	resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
	                                       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        out->json ? "application/json;charset=utf-8"
	                                  : "text/plain;charset=utf-8");
	if (out->session[0]) {
		char cookie[128];

		snprintf(cookie, sizeof(cookie), "%s=%s;Path=/;HttpOnly",
		         COOKIE, out->session);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE,
		                        cookie);
	}
	if (out->www_auth)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
		                        "Basic realm=\"Cloudera Manager\"");
	rc = MHD_queue_response(conn, (unsigned int)out->status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
	struct cmsim_server *srv = cls;
	struct cmsim *sim = srv->sim;
	struct conn_ctx *ctx = *con_cls;
	struct outcome out;
	enum MHD_Result rc;
	int64_t delay;

	(void)version;
	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		cmr_buf_init(&ctx->body, MAX_BODY);
		*con_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size) {
		cmr_buf_add(&ctx->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	memset(&out, 0, sizeof(out));
	if (cmr_buf_error(&ctx->body)) {
		sim_error(&out, 413, "Request body too large.");
		rc = respond(conn, &out);
		json_object_put(out.json);
		return rc;
	}
	pthread_mutex_lock(&sim->lock);
	if (strncmp(url, "/_sim/", 6) == 0)
		sim_endpoint(sim, conn, url, method, ctx, &out);
	else
		api_request(sim, conn, url, method, ctx, &out);
	delay = out.delay_ms;
	if (sim->latency_ms > 0 || sim->jitter_ms > 0)
		delay += sim->latency_ms +
		         (int64_t)(cmsim_rand(sim) * (double)sim->jitter_ms);
	pthread_mutex_unlock(&sim->lock);
	if (strncmp(url, "/_sim/", 6) != 0)
		sleep_ms(delay);
	if (out.drop) {
		rc = MHD_NO; /* closes the connection without an answer */
	} else {
		rc = respond(conn, &out);
	}
	if (sim->verbose)
		/* The path only: no query, body or credentials, so no secret
		 * can reach the log. */
		fprintf(stderr, "cmsim: %s %s -> %d%s\n", method, url,
		        out.status, out.drop ? " (dropped)" : "");
	json_object_put(out.json);
	free(out.text);
	return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct conn_ctx *ctx = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!ctx)
		return;
	cmr_buf_release(&ctx->body);
	free(ctx);
	*con_cls = NULL;
}

int cmsim_server_start(struct cmsim_server **out, struct cmsim *sim,
                       const char *host, int port, const char *cert_pem,
                       const char *key_pem, struct cmr_error *err)
{
	struct cmsim_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in addr;
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION |
	                     MHD_USE_INTERNAL_POLLING_THREAD |
	                     MHD_USE_ERROR_LOG;

	*out = NULL;
	if (!srv)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	srv->sim = sim;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		free(srv);
		return cmr_error_set(err, CMR_EINVAL,
		                     "--listen: '%s' is not an IPv4 address",
		                     host);
	}
	if (!sim->sessions)
		sim->sessions = json_object_new_object();
	if (cert_pem && key_pem)
		flags |= MHD_USE_TLS;
	srv->daemon = MHD_start_daemon(
	        flags, (uint16_t)port, NULL, NULL, on_request, srv,
	        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
	        MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
	        cert_pem && key_pem ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
	        key_pem, MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_END);
	if (!srv->daemon) {
		free(srv);
		return cmr_error_set(err, CMR_ERROR,
		                     "cannot listen on %s:%d (in use, or TLS "
		                     "setup failed)",
		                     host, port);
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : port;
	*out = srv;
	return 0;
}

int cmsim_server_port(const struct cmsim_server *srv)
{
	return srv->port;
}

void cmsim_server_stop(struct cmsim_server *srv)
{
	if (!srv)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
