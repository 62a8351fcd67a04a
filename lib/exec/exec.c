/*
 * exec.c -- cmr_exec_apply: a plan, step by step, against CM.
 *
 * The order is DESIGN.md's:
 *
 *   lock -> CM settings -> refreshParcelRepos -> start parcel downloads ->
 *   management service settings -> then per cluster (lanes.c: independent
 *   clusters at the same time): service and role config group settings,
 *   each read back -> finish download + distribution -> activation (and
 *   downward steps) -> refresh STALE_REFRESHABLE roles -> deploy stale
 *   client configs -> restarts, one service at a time in dependency order,
 *   health-gated -> and once every lane is done: unlock -> read live
 *   again, plan again: converged?
 *
 * Restarts act on what CM reports after the writes (the services are read
 * again), not on what the plan predicted: the plan's restart list only
 * gives the order and the action (restart, rolling, deferred).
 *
 * Before any command is started, the service's (or CM's) active commands
 * are read: a command of the same name still running -- from an apply that
 * was interrupted, on this machine or another -- is waited on instead of
 * being sent again.  A POST whose answer was lost (MAYBE_APPLIED) is looked
 * up the same way before it is re-sent once.
 *
 * Nothing here prints: progress goes to the caller's callback and the
 * journal, details to the logger.  Secrets are resolved just before their
 * PUT, wiped right after, and never reach an event, the journal or a log.
 */
#include "cmr/exec.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/hmac.h"
#include "cmr/params.h"
#include "cmr/vec.h"

#include "exec_int.h"

const char *cmr_exec_event_name(enum cmr_exec_event_kind k)
{
	switch (k) {
	case CMR_EXEC_EV_STEP:
		return "step";
	case CMR_EXEC_EV_DONE:
		return "done";
	case CMR_EXEC_EV_SKIP:
		return "skip";
	case CMR_EXEC_EV_WAIT:
		return "wait";
	case CMR_EXEC_EV_WARN:
		return "warning";
	case CMR_EXEC_EV_FAIL:
		return "failed";
	}
	return "?";
}

/* ----------------------------------------------------------------------
 * Events and the journal
 */

int cmr_exec_event_json(struct cmr_buf *out, const struct cmr_exec_event *ev)
{
	cmr_buf_adds(out, "\"event\":");
	cmr_buf_add_json_str(out, cmr_exec_event_name(ev->kind));
	cmr_buf_adds(out, ",\"phase\":");
	cmr_buf_add_json_str(out, ev->phase);
	cmr_buf_adds(out, ",\"target\":");
	cmr_buf_add_json_str(out, ev->target);
	if (ev->command_id >= 0)
		cmr_buf_addf(out, ",\"command_id\":%lld",
		             (long long)ev->command_id);
	cmr_buf_addf(out, ",\"elapsed_ms\":%lld,\"message\":",
	             (long long)ev->elapsed_ms);
	cmr_buf_add_json_str(out, ev->message);
	return cmr_buf_error(out);
}

static void journal_line(struct run *r, const struct cmr_exec_event *ev)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char when[40];
	size_t off = 0;

	if (r->journal_fd < 0)
		return;
	iso_time(when, sizeof(when), r->clock->wall_ms(r->clock));
	cmr_buf_adds(&b, "{\"time\":");
	cmr_buf_add_json_str(&b, when);
	cmr_buf_adds(&b, ",\"plan\":");
	cmr_buf_add_json_str(&b, r->plan->plan_id ? r->plan->plan_id : "");
	cmr_buf_addc(&b, ',');
	cmr_exec_event_json(&b, ev);
	cmr_buf_adds(&b, "}\n");
	if (cmr_buf_error(&b) == 0) {
		while (off < b.len) {
			ssize_t n =
			        write(r->journal_fd, b.ptr + off, b.len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		(void)fsync(r->journal_fd);
	}
	cmr_buf_release(&b);
}

void run_emit(struct run *r, enum cmr_exec_event_kind kind, const char *phase,
              const char *target, int64_t command_id, const char *fmt, ...)
{
	struct cmr_exec_event ev;
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ev.kind = kind;
	ev.phase = phase;
	ev.target = target ? target : "";
	ev.message = msg;
	ev.command_id = command_id;
	ev.elapsed_ms = r->clock->now_ms(r->clock) - r->start;
	cmr_log(r->opt->logger, CMR_LOG_DEBUG, "exec", "%s %s %s: %s",
	        cmr_exec_event_name(kind), phase, ev.target, msg);
	lanes_lock(r);
	if (kind != CMR_EXEC_EV_WAIT)
		journal_line(r, &ev);
	if (r->opt->progress)
		r->opt->progress(&ev, r->opt->progress_ud);
	lanes_unlock(r);
}

bool run_in_lane(const struct run *r, const char *cluster)
{
	return !r->cluster || (cluster && strcmp(cluster, r->cluster) == 0);
}

static bool interrupted(struct run *r)
{
	if (r->opt->interrupted && *r->opt->interrupted) {
		r->rep->interrupted = true;
		return true;
	}
	return false;
}

static int stop_if_interrupted(struct run *r, struct cmr_error *err)
{
	if (interrupted(r))
		return cmr_error_set(err, CMR_EINTR,
		                     "interrupted: no new step was started; "
		                     "commands already running in CM keep "
		                     "running");
	if (lanes_sibling_failed(r, err))
		return CMR_EINTR;
	return 0;
}

/* The waiter's tick: renew the lock, notice Ctrl-C. */
static int tick(const char *what, void *ud)
{
	struct run *r = ud;

	lock_renew(r);
	run_emit(r, CMR_EXEC_EV_WAIT, "wait", r->cluster ? r->cluster : "", -1,
	         "waiting: %s", what);
	return interrupted(r) ? 1 : 0;
}

/* ----------------------------------------------------------------------
 * Requests
 */

/* One request with transport flags (CMR_HTTP_REQ_*), answer checked;
 * *resp must be released by the caller. */
static int call_flags(struct run *r, const char *method, const char *url,
                      const struct cmr_buf *body, unsigned flags,
                      struct cmr_http_response *resp, struct cmr_error *err)
{
	struct cmr_http_request req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.flags = flags;
	if (body) {
		req.body = body->ptr;
		req.body_len = body->len;
	}
	cmr_http_response_release(resp);
	cmr_http_response_init(resp);
	(void)cmr_client_send_all(r->c, &req, resp, 1, NULL);
	return cmr_api_check_answer(&req, resp, err);
}

static int call(struct run *r, const char *method, const char *url,
                const struct cmr_buf *body, struct cmr_http_response *resp,
                struct cmr_error *err)
{
	return call_flags(r, method, url, body, 0, resp, err);
}

/*
 * A POST that failed in a way that leaves CM's side open: the answer was
 * lost after the request was sent (MAYBE_APPLIED), or a 502/503/504 from
 * CM or a proxy in front of it (a 504 may come after CM acted).  Such a
 * POST is looked up in CM before it is sent again, under a deadline.
 */
static bool post_unsettled(const struct cmr_http_response *resp)
{
	return (resp->flags & CMR_HTTP_RESP_MAYBE_APPLIED) ||
	       resp->status == 502 || resp->status == 503 ||
	       resp->status == 504;
}

/* How long a POST is retried that way, and its backoff. */
#define POST_RETRY_DEADLINE_MS ((int64_t)60 * 1000)
#define POST_RETRY_INITIAL_MS  200
#define POST_RETRY_MAX_MS      5000

/*
 * Looks for an active command called `name` (CM's spelling differs from
 * the endpoint's in case only: restart -> "Restart") in the list at
 * `list_url`.  *out_id is its id, or -1.
 */
static int find_active(int64_t *out_id, struct run *r, const char *list_url,
                       const char *name, struct cmr_error *err)
{
	struct cmr_http_response resp;
	struct cmr_api_command_list l;
	size_t i;
	int error;

	*out_id = -1;
	memset(&l, 0, sizeof(l));
	cmr_http_response_init(&resp);
	error = call(r, "GET", list_url, NULL, &resp, err);
	if (error == 0)
		error = cmr_api_decode_command_list(&l, list_url, resp.body.ptr,
		                                    resp.body.len, err);
	for (i = 0; error == 0 && i < l.len; i++) {
		if (l.items[i].active && l.items[i].id >= 0 &&
		    strcasecmp(l.items[i].name, name) == 0) {
			*out_id = l.items[i].id;
			break;
		}
	}
	cmr_api_command_list_release(&l);
	cmr_http_response_release(&resp);
	return error;
}

/*
 * After a POST whose outcome is open and with no such command active in
 * CM: is the work it was sent for done anyway?  A quick command can end
 * before it is looked for (CM restarts small services in seconds; an
 * answer can be lost after a long timeout), and sending it again would
 * repeat it.  A service's restart is done when the service is no longer
 * STALE, its client configuration deployment when that is no longer
 * stale.  Other commands (refreshParcelRepos) are safe to send again.
 */
static int work_done(bool *out, struct run *r, const char *cluster,
                     const char *service, const char *name,
                     struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_service_status st;
	int error = 0;

	*out = false;
	if (!cluster || !service)
		return 0;
	cmr_http_response_init(&resp);
	if (cmr_api_build_service(&url, r->ver, cluster, service) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = call(r, "GET", url.ptr, NULL, &resp, err)) < 0 ||
	    (error = cmr_api_decode_service(&st, url.ptr, resp.body.ptr,
	                                    resp.body.len, err)) < 0)
		goto done;
	if (strcasecmp(name, "deployClientConfig") == 0)
		*out = st.client_staleness != CMR_STALE_STALE &&
		       st.client_staleness != CMR_STALE_REFRESHABLE;
	else if (strcasecmp(name, "restart") == 0 ||
	         strcasecmp(name, "rollingRestart") == 0)
		*out = st.config_staleness != CMR_STALE_STALE;
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}

/* What run_command sends, and where it looks for it in CM. */
struct command_call {
	const char *phase;
	const char *target;
	const char *url; /* POST */
	const struct cmr_buf *body;
	const char *list_url; /* the active commands */
	const char *name;
	const char *cluster; /* with service: a service's command */
	const char *service;
};

/*
 * CM accepted the POST: the command it started (*id), or -1 when it
 * finished at once; a command that failed at once is an error.
 */
static int post_accepted(int64_t *id, struct run *r,
                         const struct command_call *cc,
                         const struct cmr_http_response *resp,
                         struct cmr_error *err)
{
	struct cmr_api_command cmd;
	int error;

	error = cmr_api_decode_command(&cmd, cc->url, resp->body.ptr,
	                               resp->body.len, err);
	if (error < 0)
		return error;
	*id = cmd.id;
	r->rep->commands++;
	run_emit(r, CMR_EXEC_EV_STEP, cc->phase, cc->target, *id, "%s started",
	         cc->name);
	if (*id < 0 && cmd.has_success && !cmd.success)
		return cmr_error_set(err, CMR_EAPI, "%s on %s failed: %s",
		                     cc->name, cc->target, cmd.result_message);
	return 0;
}

/*
 * After a POST whose outcome is open (post_unsettled): says so, then looks
 * in CM for the command (*id, to wait on) and, when it is not there, for
 * its work done anyway (*done: it is not sent again).
 */
static int look_up_unsettled(int64_t *id, bool *done, struct run *r,
                             const struct command_call *cc,
                             const struct cmr_http_response *resp,
                             struct cmr_error *err)
{
	int error;

	if (resp->flags & CMR_HTTP_RESP_MAYBE_APPLIED)
		run_emit(r, CMR_EXEC_EV_WARN, cc->phase, cc->target, -1,
		         "the answer to %s was lost; looking for it "
		         "in CM before sending it again",
		         cc->name);
	else
		run_emit(r, CMR_EXEC_EV_WARN, cc->phase, cc->target, -1,
		         "%s: CM answered HTTP %ld; looking for it in "
		         "CM before sending it again",
		         cc->name, resp->status);
	if ((error = find_active(id, r, cc->list_url, cc->name, err)) < 0)
		return error;
	if (*id >= 0) {
		run_emit(r, CMR_EXEC_EV_STEP, cc->phase, cc->target, *id,
		         "%s is running in CM; waiting for it", cc->name);
		return 0;
	}
	if ((error = work_done(done, r, cc->cluster, cc->service, cc->name,
	                       err)) < 0)
		return error;
	if (*done) {
		r->rep->commands++;
		run_emit(r, CMR_EXEC_EV_DONE, cc->phase, cc->target, -1,
		         "%s already took effect in CM; not sent again",
		         cc->name);
	}
	return 0;
}

/*
 * POSTs the command until its outcome is known, retrying a POST whose
 * outcome is open with backoff for up to POST_RETRY_DEADLINE_MS.  *id is
 * the command to wait on, or -1 when there is none: it finished at once,
 * or its work was found done.
 */
static int post_command(int64_t *id, struct run *r,
                        const struct command_call *cc, struct cmr_error *err)
{
	struct cmr_http_response resp;
	struct cmr_error e = CMR_ERROR_INIT;
	int64_t deadline = r->clock->now_ms(r->clock) + POST_RETRY_DEADLINE_MS;
	int64_t delay = POST_RETRY_INITIAL_MS;
	bool done_anyway = false;
	int error;

	cmr_http_response_init(&resp);
	for (;;) {
		cmr_error_clear(&e);
		error = call(r, "POST", cc->url, cc->body, &resp, &e);
		if (error == 0) {
			error = post_accepted(id, r, cc, &resp, err);
			break;
		}
		if (!post_unsettled(&resp) ||
		    r->clock->now_ms(r->clock) >= deadline) {
			if (err && err->code == CMR_OK)
				*err = e;
			break;
		}
		error = look_up_unsettled(id, &done_anyway, r, cc, &resp, err);
		if (error < 0 || *id >= 0 || done_anyway)
			break;
		if ((error = stop_if_interrupted(r, err)) < 0)
			break;
		r->clock->sleep_ms(r->clock, delay);
		delay = delay * 2 > POST_RETRY_MAX_MS ? POST_RETRY_MAX_MS
		                                      : delay * 2;
	}
	cmr_http_response_release(&resp);
	return error;
}

/*
 * Starts a command with POST url (body may be NULL) and waits for it,
 * unless one of that name is already active in `list_url`, which is then
 * waited on instead.  A POST whose outcome is open (post_unsettled: a
 * lost answer, a 5xx) is looked up the same way -- and, for a service
 * (cluster and service set), its work checked with work_done -- before it
 * is sent again, with backoff, for up to POST_RETRY_DEADLINE_MS.
 */
static int run_command(struct run *r, const char *phase, const char *target,
                       const char *url, const struct cmr_buf *body,
                       const char *list_url, const char *name,
                       const char *cluster, const char *service,
                       enum cmr_wait_kind kind, struct cmr_error *err)
{
	const struct command_call cc = { phase,    target, url,     body,
		                         list_url, name,   cluster, service };
	struct cmr_api_command cmd;
	int64_t id = -1;
	int error;

	if ((error = stop_if_interrupted(r, err)) < 0)
		return error;
	if ((error = find_active(&id, r, list_url, name, err)) < 0)
		return error;
	if (id >= 0)
		run_emit(r, CMR_EXEC_EV_STEP, phase, target, id,
		         "%s is already running in CM; waiting for it", name);
	else if ((error = post_command(&id, r, &cc, err)) < 0)
		return error;
	if (id < 0)
		return 0; /* synchronous and it succeeded, or done anyway */
	error = cmr_wait_command(&cmd, &r->w, id, kind, err);
	if (error == 0)
		run_emit(r, CMR_EXEC_EV_DONE, phase, target, id, "%s finished",
		         name);
	else
		run_emit(r, CMR_EXEC_EV_FAIL, phase, target, id, "%s",
		         err ? err->msg : name);
	return error;
}

/* ----------------------------------------------------------------------
 * Settings
 */

static const char *scope_target(char *out, size_t cap,
                                const struct cmr_scope_change *s)
{
	switch (s->kind) {
	case CMR_SCOPE_CM:
		snprintf(out, cap, "CM");
		break;
	case CMR_SCOPE_MGMT:
		snprintf(out, cap, "mgmt");
		break;
	case CMR_SCOPE_MGMT_GROUP:
		snprintf(out, cap, "mgmt/%s", s->group);
		break;
	case CMR_SCOPE_SERVICE:
		snprintf(out, cap, "%s/%s", s->cluster, s->service);
		break;
	case CMR_SCOPE_GROUP:
		snprintf(out, cap, "%s/%s/%s", s->cluster, s->service,
		         s->group);
		break;
	}
	return out;
}

static void api_scope(struct cmr_api_scope *out,
                      const struct cmr_scope_change *s)
{
	memset(out, 0, sizeof(*out));
	out->kind = (enum cmr_api_scope_kind)s->kind;
	out->cluster = s->cluster;
	out->service = s->service;
	out->group = s->group;
}

static bool written(const struct cmr_change *ch)
{
	return ch->secret != CMR_SECRET_UNVERIFIED;
}

/* The desired-state config of a scope, or NULL. */
static const struct cmr_config *desired_config(const struct cmr_state *d,
                                               const struct cmr_scope_change *s)
{
	const struct cmr_cluster *c;
	const struct cmr_service *sv;
	const struct cmr_role_config_group *g;

	if (!d)
		return NULL;
	switch (s->kind) {
	case CMR_SCOPE_CM:
		return &d->manager.config;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		sv = d->manager.mgmt;
		break;
	case CMR_SCOPE_SERVICE:
	case CMR_SCOPE_GROUP:
		c = cmr_state_find_cluster(d, s->cluster);
		sv = c ? cmr_cluster_find_service(c, s->service) : NULL;
		break;
	default:
		return NULL;
	}
	if (!sv)
		return NULL;
	if (s->kind == CMR_SCOPE_MGMT || s->kind == CMR_SCOPE_SERVICE)
		return &sv->config;
	g = cmr_service_find_group(sv, s->group);
	return g ? &g->config : NULL;
}

/* Wipes and releases a buffer that held secrets. */
static void wipe(struct cmr_buf *b)
{
	assert(b->ptr != NULL); /* a cmr_buf's ptr is never NULL (buf.h) */
	if (b->alloc)
		memset(b->ptr, 0, b->alloc);
	cmr_buf_release(b);
}

/*
 * Resolves the secret that change ch of scope s writes into val, and
 * appends it, NUL-terminated, to `secrets`.  val is wiped on failure.
 */
static int resolve_secret(struct cmr_buf *val, struct cmr_buf *secrets,
                          const struct run *r, const struct cmr_config *dc,
                          const struct cmr_scope_change *s,
                          const struct cmr_change *ch, struct cmr_error *err)
{
	const struct cmr_plan_options *po = r->opt->plan_opt;
	const struct cmr_config_entry *e =
	        dc ? cmr_config_find(dc, ch->key) : NULL;
	int error;

	if (!e || !po || !po->resolve ||
	    (e->value.kind != CMR_VALUE_ENV && e->value.kind != CMR_VALUE_FILE))
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "secret '%s' of %s: no reference to resolve", ch->key,
		        s->service ? s->service : "CM");
	error = po->resolve(val, &e->value, po->resolve_ud, err);
	if (error < 0) {
		wipe(val);
		return error;
	}
	cmr_buf_add(secrets, val->ptr, val->len);
	cmr_buf_addc(secrets, '\0');
	return 0;
}

/* One {"name":...,"value":...} item of a PUT body; v NULL: null. */
static void add_item(struct cmr_buf *body, const struct cmr_change *ch,
                     const char *v, bool first)
{
	cmr_buf_adds(body, first ? "{\"name\":" : ",{\"name\":");
	cmr_buf_add_json_str(body, ch->key);
	cmr_buf_adds(body, ",\"value\":");
	if (ch->op == CMR_OP_RESET || !v)
		cmr_buf_adds(body, "null");
	else
		cmr_buf_add_json_str(body, v);
	cmr_buf_addc(body, '}');
}

/*
 * The body of one scope's PUT: every written change, secrets resolved now.
 * `secrets` receives the resolved values (one per sensitive change, in
 * order) for the records; the caller wipes both.
 */
static int scope_body(struct cmr_buf *body, struct cmr_buf *secrets,
                      struct run *r, const struct cmr_scope_change *s,
                      size_t *nitems, struct cmr_error *err)
{
	const struct cmr_config *dc = desired_config(r->opt->desired, s);
	size_t i;
	bool first = true;

	*nitems = 0;
	cmr_buf_adds(body, "{\"items\":[");
	for (i = 0; i < s->changes.len; i++) {
		const struct cmr_change *ch = s->changes.items[i];
		struct cmr_buf val = CMR_BUF_INIT;
		const char *v = ch->new_value;

		if (!written(ch))
			continue;
		if (ch->sensitive && ch->op != CMR_OP_RESET) {
			int error = resolve_secret(&val, secrets, r, dc, s, ch,
			                           err);

			if (error < 0)
				return error;
			v = val.ptr;
		}
		add_item(body, ch, v, first);
		first = false;
		wipe(&val);
		(*nitems)++;
	}
	cmr_buf_adds(body, "]}");
	if (cmr_buf_error(body) || cmr_buf_error(secrets))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

/* Compares what CM holds after the write with what was written. */
static int check_readback(const struct cmr_scope_change *s, const char *what,
                          const struct cmr_buf *body, struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	struct cmr_config *cfg;
	char tgt[512];
	size_t i;
	int error;

	/* A scratch state; its CM config slot holds what was read. */
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0)
		return error;
	cfg = &st->manager.config;
	error = cmr_api_decode_config(st, cfg, NULL, NULL, what, body->ptr,
	                              body->len, err);
	for (i = 0; error == 0 && i < s->changes.len; i++) {
		const struct cmr_change *ch = s->changes.items[i];
		const struct cmr_config_entry *e =
		        cmr_config_find(cfg, ch->key);

		if (!written(ch))
			continue;
		if (ch->op == CMR_OP_RESET ? e == NULL
		    : ch->sensitive
		            ? e != NULL
		            : e && e->value.text && ch->new_value &&
		                      strcmp(e->value.text, ch->new_value) == 0)
			continue;
		error = cmr_error_set(
		        err, CMR_EAPI,
		        "CM did not keep the write of '%s' in %s: it holds "
		        "%s%s%s after the PUT was accepted",
		        ch->key, scope_target(tgt, sizeof(tgt), s),
		        e ? "\"" : "(unset)",
		        e ? (ch->sensitive ? "(sensitive)" : e->value.text)
		          : "",
		        e ? "\"" : "");
	}
	cmr_state_free(st);
	return error;
}

/* Records each secret written in scope s (cmrecon.secret.<H> tags). */
static int record_secrets(struct run *r, const struct cmr_scope_change *s,
                          const struct cmr_buf *secrets, struct cmr_error *err)
{
	const struct cmr_plan_options *po = r->opt->plan_opt;
	const char *cluster = s->cluster;
	const char *p = secrets->ptr;
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_buf name = CMR_BUF_INIT;
	struct cmr_buf rec = CMR_BUF_INIT;
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_http_response resp;
	size_t i;
	int error = 0;

	cmr_http_response_init(&resp);
	if (!cluster && r->plan->clusters.len)
		cluster = r->plan->clusters.items[0];
	for (i = 0; i < s->changes.len && error == 0; i++) {
		const struct cmr_change *ch = s->changes.items[i];
		struct cmr_api_tag tag;
		size_t n;

		if (!written(ch) || !ch->sensitive || ch->op == CMR_OP_RESET)
			continue;
		n = strlen(p);
		if (!po || !po->hmac_key || !cluster ||
		    r->ver < CMR_API_VERSION_TAGS) {
			run_emit(r, CMR_EXEC_EV_WARN, "settings", ch->key, -1,
			         "secret '%s' written but not recorded (%s): "
			         "later plans cannot tell whether it changed",
			         ch->key,
			         !po || !po->hmac_key ? "CMRECON_HMAC_KEY is "
			                                "not set"
			                              : "no entity tags");
			p += n + 1;
			continue;
		}
		cmr_buf_reset(&key);
		cmr_buf_reset(&name);
		cmr_buf_reset(&rec);
		cmr_buf_reset(&url);
		cmr_buf_reset(&body);
		if (cmr_scope_key(&key, s->cluster,
		                  s->kind == CMR_SCOPE_CM ? NULL : s->service,
		                  s->group) < 0 ||
		    cmr_plan_secret_tag(&name, key.ptr, ch->key) < 0 ||
		    cmr_hmac_record(&rec, po->hmac_key, po->hmac_key_len, p,
		                    n) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM,
			                      "recording secret '%s': out of "
			                      "memory",
			                      ch->key);
			break;
		}
		p += n + 1;
		tag.name = name.ptr;
		tag.value = rec.ptr;
		if (cmr_api_build_tags_path(&url, r->ver, cluster) < 0 ||
		    cmr_api_body_tags(&body, &tag, 1) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			break;
		}
		error = call(r, "PUT", url.ptr, &body, &resp, err);
		if (error == 0)
			r->rep->secret_records++;
	}
	cmr_http_response_release(&resp);
	cmr_buf_release(&key);
	cmr_buf_release(&name);
	cmr_buf_release(&rec);
	cmr_buf_release(&url);
	cmr_buf_release(&body);
	return error;
}

/* Reads scope `as` back (GET url, into resp) and compares it with what
 * was written. */
static int read_back(struct run *r, const struct cmr_scope_change *s,
                     const struct cmr_api_scope *as, struct cmr_buf *url,
                     struct cmr_http_response *resp, struct cmr_error *err)
{
	int error;

	cmr_buf_reset(url);
	if (cmr_api_build_config(url, r->ver, as, NULL) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if ((error = call(r, "GET", url->ptr, NULL, resp, err)) < 0)
		return error;
	return check_readback(s, url->ptr, &resp->body, err);
}

/* The number of secrets scope s writes. */
static size_t count_secrets(const struct cmr_scope_change *s)
{
	size_t j;
	size_t n = 0;

	for (j = 0; j < s->changes.len; j++)
		if (written(s->changes.items[j]) &&
		    s->changes.items[j]->sensitive &&
		    s->changes.items[j]->op != CMR_OP_RESET)
			n++;
	return n;
}

/*
 * Writes one scope's changes (nothing when none is written), reads them
 * back and records its secrets.
 */
static int write_scope(struct run *r, const struct cmr_scope_change *s,
                       struct cmr_http_response *resp, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_buf secrets = CMR_BUF_INIT;
	struct cmr_api_scope as;
	char tgt[512];
	size_t n = 0;
	int error;

	scope_target(tgt, sizeof(tgt), s);
	api_scope(&as, s);
	error = scope_body(&body, &secrets, r, s, &n, err);
	if (error == 0 && n == 0) {
		wipe(&body);
		wipe(&secrets);
		return 0;
	}
	if (error == 0 &&
	    cmr_api_build_config_put(&url, r->ver, &as, r->message) < 0)
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if (error == 0) {
		run_emit(r, CMR_EXEC_EV_STEP, "settings", tgt, -1,
		         "writing %zu setting%s", n, n == 1 ? "" : "s");
		error = call(r, "PUT", url.ptr, &body, resp, err);
		r->rep->writes++;
	}
	wipe(&body);
	if (error == 0)
		error = read_back(r, s, &as, &url, resp, err);
	if (error == 0) {
		r->rep->settings += n;
		r->rep->secrets += count_secrets(s);
		error = record_secrets(r, s, &secrets, err);
	}
	wipe(&secrets);
	cmr_buf_release(&url);
	if (error == 0)
		run_emit(r, CMR_EXEC_EV_DONE, "settings", tgt, -1,
		         "%zu setting%s written and read back", n,
		         n == 1 ? "" : "s");
	else
		run_emit(r, CMR_EXEC_EV_FAIL, "settings", tgt, -1, "%s",
		         err ? err->msg : "failed");
	return error;
}

/* Writes the scopes of the plan whose kind is in [lo, hi], then reads
 * each one back. */
static int write_scopes(struct run *r, enum cmr_scope_kind lo,
                        enum cmr_scope_kind hi, struct cmr_error *err)
{
	const struct cmr_plan *p = r->plan;
	struct cmr_http_response resp;
	size_t i;
	int error = 0;

	cmr_http_response_init(&resp);
	for (i = 0; i < p->scopes.len && error == 0; i++) {
		const struct cmr_scope_change *s = p->scopes.items[i];

		if (s->kind < lo || s->kind > hi ||
		    (s->cluster && !run_in_lane(r, s->cluster)))
			continue;
		if ((error = stop_if_interrupted(r, err)) < 0)
			break;
		error = write_scope(r, s, &resp, err);
	}
	cmr_http_response_release(&resp);
	return error;
}

/* ----------------------------------------------------------------------
 * Parcels
 */

/* The stage a parcel command leads to, and the one it passes through. */
static enum cmr_parcel_stage step_result(enum cmr_parcel_cmd c)
{
	switch (c) {
	case CMR_PARCEL_CMD_DOWNLOAD:
		return CMR_PARCEL_DOWNLOADED;
	case CMR_PARCEL_CMD_DISTRIBUTE:
		return CMR_PARCEL_DISTRIBUTED;
	case CMR_PARCEL_CMD_ACTIVATE:
		return CMR_PARCEL_ACTIVATED;
	case CMR_PARCEL_CMD_DEACTIVATE:
		return CMR_PARCEL_DISTRIBUTED;
	case CMR_PARCEL_CMD_UNDISTRIBUTE:
		return CMR_PARCEL_DOWNLOADED;
	case CMR_PARCEL_CMD_REMOVE_DOWNLOAD:
		return CMR_PARCEL_AVAILABLE_REMOTELY;
	}
	return CMR_PARCEL_STAGE_NONE;
}

static enum cmr_parcel_stage step_transient(enum cmr_parcel_cmd c)
{
	switch (c) {
	case CMR_PARCEL_CMD_DOWNLOAD:
		return CMR_PARCEL_DOWNLOADING;
	case CMR_PARCEL_CMD_DISTRIBUTE:
		return CMR_PARCEL_DISTRIBUTING;
	case CMR_PARCEL_CMD_ACTIVATE:
		return CMR_PARCEL_ACTIVATING;
	case CMR_PARCEL_CMD_UNDISTRIBUTE:
		return CMR_PARCEL_UNDISTRIBUTING;
	default:
		return CMR_PARCEL_STAGE_NONE;
	}
}

static enum cmr_wait_kind step_kind(enum cmr_parcel_cmd c)
{
	switch (c) {
	case CMR_PARCEL_CMD_DOWNLOAD:
		return CMR_WAIT_DOWNLOAD;
	case CMR_PARCEL_CMD_DISTRIBUTE:
	case CMR_PARCEL_CMD_UNDISTRIBUTE:
		return CMR_WAIT_DISTRIBUTE;
	default:
		return CMR_WAIT_ACTIVATE;
	}
}

/* How long transient 400s of a parcel command are retried. */
#define PARCEL_400_DEADLINE_MS ((int64_t)60 * 1000)

/*
 * Reads the stage of parcel pc (GET purl, into resp) into st.  A 404 says
 * CM does not offer the parcel to the cluster.
 */
static int parcel_read(struct cmr_api_parcel_status *st, struct run *r,
                       const struct cmr_parcel_change *pc, const char *purl,
                       struct cmr_http_response *resp, struct cmr_error *err)
{
	struct cmr_error e = CMR_ERROR_INIT;
	int error;

	error = call(r, "GET", purl, NULL, resp, &e);
	if (error < 0 && resp->status == 404)
		return cmr_error_set(
		        err, CMR_EAPI,
		        "parcel %s %s is not offered to cluster '%s'%s; "
		        "check REMOTE_PARCEL_REPO_URLS (CM: %s)",
		        pc->product, pc->version, pc->cluster,
		        r->plan->refresh_parcel_repos
		                ? " even after refreshParcelRepos"
		                : "",
		        e.msg);
	if (error < 0) {
		if (err && err->code == CMR_OK)
			*err = e;
		return error;
	}
	return cmr_api_decode_parcel(st, purl, resp->body.ptr, resp->body.len,
	                             err);
}

/* CM accepted parcel command `cmd` (POST url): counted, and an error when
 * its answer says it failed. */
static int parcel_posted(struct run *r, enum cmr_parcel_cmd cmd,
                         const char *tgt, const char *url,
                         const struct cmr_http_response *resp,
                         struct cmr_error *err)
{
	struct cmr_api_command c;

	r->rep->parcel_steps++;
	if (cmr_api_decode_command(&c, url, resp->body.ptr, resp->body.len,
	                           NULL) == 0 &&
	    c.has_success && !c.success)
		return cmr_error_set(err, CMR_EAPI, "%s of parcel %s: %s",
		                     cmr_parcel_cmd_verb(cmd), tgt,
		                     c.result_message);
	run_emit(r, CMR_EXEC_EV_STEP, "parcel", tgt, -1, "%s started",
	         cmr_parcel_cmd_verb(cmd));
	return 0;
}

/*
 * Whether a parcel POST that failed is sent again: a lost answer or a 5xx
 * (the stage read on the next turn tells whether CM acted) and a
 * transient 400 are, but only until the deadline.
 */
static bool parcel_retry(struct run *r, const struct cmr_http_response *resp,
                         int64_t deadline)
{
	return (post_unsettled(resp) || resp->status == 400) &&
	       r->clock->now_ms(r->clock) < deadline;
}

/*
 * Sends one parcel command, unless the parcel is already in (or moving
 * to) the stage it leads to -- a resumed apply.  Transient 400s (CM's
 * parcel state settling) are retried with backoff for a short deadline.
 */
static int parcel_start(struct run *r, const struct cmr_parcel_change *pc,
                        enum cmr_parcel_cmd cmd, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf purl = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_parcel_status st;
	char tgt[512];
	int64_t deadline;
	int64_t delay = 1000;
	int error;

	cmr_http_response_init(&resp);
	memset(&st, 0, sizeof(st));
	snprintf(tgt, sizeof(tgt), "%s %s %s", pc->cluster, pc->product,
	         pc->version);
	if (cmr_api_build_parcel_command(&url, r->ver, pc->cluster, pc->product,
	                                 pc->version,
	                                 cmr_parcel_cmd_name(cmd)) < 0 ||
	    cmr_api_build_parcel(&purl, r->ver, pc->cluster, pc->product,
	                         pc->version) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	deadline = r->clock->now_ms(r->clock) + PARCEL_400_DEADLINE_MS;
	for (;;) {
		struct cmr_error e = CMR_ERROR_INIT;

		if ((error = parcel_read(&st, r, pc, purl.ptr, &resp, err)) < 0)
			goto done;
		if (st.stage == step_result(cmd) ||
		    st.stage == step_transient(cmd)) {
			run_emit(r, CMR_EXEC_EV_STEP, "parcel", tgt, -1,
			         "%s: in progress or done (%s)",
			         cmr_parcel_cmd_verb(cmd),
			         cmr_parcel_stage_name(st.stage));
			error = 0;
			goto done;
		}
		error = call(r, "POST", url.ptr, NULL, &resp, &e);
		if (error == 0) {
			error = parcel_posted(r, cmd, tgt, url.ptr, &resp, err);
			goto done;
		}
		if (!parcel_retry(r, &resp, deadline)) {
			if (err && err->code == CMR_OK)
				*err = e;
			goto done;
		}
		if ((error = stop_if_interrupted(r, err)) < 0)
			goto done;
		r->clock->sleep_ms(r->clock, delay);
		delay = delay * 2 > 10000 ? 10000 : delay * 2;
	}
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	cmr_buf_release(&purl);
	return error;
}

static int parcel_step(struct run *r, const struct cmr_parcel_change *pc,
                       enum cmr_parcel_cmd cmd, struct cmr_error *err)
{
	struct cmr_api_parcel_status st;
	char tgt[512];
	int error;

	snprintf(tgt, sizeof(tgt), "%s %s %s", pc->cluster, pc->product,
	         pc->version);
	if ((error = stop_if_interrupted(r, err)) < 0 ||
	    (error = parcel_start(r, pc, cmd, err)) < 0)
		goto fail;
	error = cmr_wait_parcel(&st, &r->w, pc->cluster, pc->product,
	                        pc->version, step_result(cmd), step_kind(cmd),
	                        err);
	if (error < 0)
		goto fail;
	run_emit(r, CMR_EXEC_EV_DONE, "parcel", tgt, -1, "%s: %s",
	         cmr_parcel_cmd_verb(cmd), cmr_parcel_stage_name(st.stage));
	return 0;
fail:
	run_emit(r, CMR_EXEC_EV_FAIL, "parcel", tgt, -1, "%s",
	         err ? err->msg : "failed");
	return error;
}

static bool early_step(enum cmr_parcel_cmd c)
{
	return c == CMR_PARCEL_CMD_DOWNLOAD || c == CMR_PARCEL_CMD_DISTRIBUTE;
}

/* Starts every download now, so it runs while settings are written. */
static int parcels_start_downloads(struct run *r, struct cmr_error *err)
{
	size_t i;
	int error;

	for (i = 0; i < r->plan->parcels.len; i++) {
		const struct cmr_parcel_change *pc = r->plan->parcels.items[i];

		if (pc->nsteps == 0 || pc->steps[0] != CMR_PARCEL_CMD_DOWNLOAD)
			continue;
		if ((error = stop_if_interrupted(r, err)) < 0 ||
		    (error = parcel_start(r, pc, CMR_PARCEL_CMD_DOWNLOAD,
		                          err)) < 0)
			return error;
	}
	return 0;
}

/* The early (download, distribute) or the late steps of every parcel. */
static int parcels_run(struct run *r, bool early, struct cmr_error *err)
{
	size_t i;
	size_t k;
	int error;

	for (i = 0; i < r->plan->parcels.len; i++) {
		const struct cmr_parcel_change *pc = r->plan->parcels.items[i];

		if (!run_in_lane(r, pc->cluster))
			continue;
		for (k = 0; k < pc->nsteps; k++) {
			if (early_step(pc->steps[k]) != early)
				continue;
			if ((error = parcel_step(r, pc, pc->steps[k], err)) < 0)
				return error;
		}
	}
	return 0;
}

/* ----------------------------------------------------------------------
 * Refresh, client configuration, restarts
 */

struct svc_todo {
	const char *cluster; /* borrowed from the scratch state */
	const char *service;
	enum cmr_restart_action action;
	const struct cmr_service *live; /* what CM reports now */
};

struct todo_list {
	struct svc_todo *items;
	size_t len, alloc;
};

static struct svc_todo *todo_find(struct todo_list *l, const char *cluster,
                                  const char *service)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		if (strcmp(l->items[i].cluster, cluster) == 0 &&
		    strcmp(l->items[i].service, service) == 0)
			return &l->items[i];
	return NULL;
}

/* Reads GET /clusters/C/services for every cluster of the plan into a
 * scratch state: what CM reports after the writes and activations. */
static int read_services(struct cmr_state **out, struct run *r,
                         struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	size_t i;
	int error;

	cmr_http_response_init(&resp);
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0)
		goto done;
	for (i = 0; i < r->plan->clusters.len; i++) {
		const char *name = r->plan->clusters.items[i];
		struct cmr_cluster *c = NULL;

		if (!run_in_lane(r, name))
			continue;
		cmr_buf_reset(&url);
		if ((error = cmr_state_add_cluster(&c, st, name, err)) < 0)
			goto done;
		if (cmr_api_build_services(&url, r->ver, name) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
		if ((error = call(r, "GET", url.ptr, NULL, &resp, err)) < 0 ||
		    (error = cmr_api_decode_services(st, c, url.ptr,
		                                     resp.body.ptr,
		                                     resp.body.len, err)) < 0)
			goto done;
	}
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	if (error < 0) {
		cmr_state_free(st);
		st = NULL;
	}
	*out = st;
	return error;
}

/* The action for a service the plan's restart list does not name: its
 * restart policy in the desired state, else a plain restart. */
static enum cmr_restart_action
policy_action(const struct run *r, const char *cluster, const char *service)
{
	const struct cmr_state *d = r->opt->desired;
	const struct cmr_cluster *c =
	        d ? cmr_state_find_cluster(d, cluster) : NULL;
	const struct cmr_service *s =
	        c ? cmr_cluster_find_service(c, service) : NULL;

	if (s && s->restart == CMR_RESTART_ROLLING)
		return CMR_ACTION_ROLLING;
	if (s && s->restart == CMR_RESTART_NEVER)
		return CMR_ACTION_DEFERRED;
	return CMR_ACTION_RESTART;
}

/*
 * A service of the plan's restart list that CM still has, with the plan's
 * action (or, for a refresh or client configuration only, its restart
 * policy).  Listed twice, the stronger restart action wins.
 */
static int todo_add_restart(struct todo_list *out, const struct run *r,
                            const struct cmr_state *now,
                            const struct cmr_restart *rs, struct cmr_error *err)
{
	const struct cmr_cluster *c = cmr_state_find_cluster(now, rs->cluster);
	const struct cmr_service *ls =
	        c ? cmr_cluster_find_service(c, rs->service) : NULL;
	struct svc_todo t;
	struct svc_todo *have;

	if (!ls)
		return 0;
	t.cluster = c->name;
	t.service = ls->name;
	t.live = ls;
	t.action = rs->action;
	if (rs->action == CMR_ACTION_REFRESH ||
	    rs->action == CMR_ACTION_CLIENT_CONFIG)
		t.action = policy_action(r, c->name, ls->name);
	have = todo_find(out, t.cluster, t.service);
	if (have) {
		if (rs->action == CMR_ACTION_ROLLING ||
		    rs->action == CMR_ACTION_DEFERRED)
			have->action = rs->action;
		return 0;
	}
	if (cmr_vec_push(out, t) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

/*
 * Every service of the plan's clusters, in order: the plan's restart list
 * first (dependency order, with its actions), then the others by cluster
 * and name, with their desired restart policy.
 */
static int build_todo(struct todo_list *out, struct run *r,
                      const struct cmr_state *now, struct cmr_error *err)
{
	const struct cmr_plan *p = r->plan;
	size_t i;
	size_t j;
	int error;

	for (i = 0; i < p->restarts.len; i++)
		if ((error = todo_add_restart(out, r, now, p->restarts.items[i],
		                              err)) < 0)
			return error;
	for (i = 0; i < now->clusters.len; i++) {
		const struct cmr_cluster *c = now->clusters.items[i];

		for (j = 0; j < c->services.len; j++) {
			const struct cmr_service *ls = c->services.items[j];
			struct svc_todo t;

			if (todo_find(out, c->name, ls->name))
				continue;
			t.cluster = c->name;
			t.service = ls->name;
			t.live = ls;
			t.action = policy_action(r, c->name, ls->name);
			if (cmr_vec_push(out, t) < 0)
				return cmr_error_set(err, CMR_ENOMEM,
				                     "out of memory");
		}
	}
	return 0;
}

struct name_list {
	const char **items;
	size_t len, alloc;
};

/*
 * Reads the roles of cluster/service into the scratch state st and lists
 * the STALE_REFRESHABLE ones not in maintenance mode (names borrowed from
 * st).
 */
static int refreshable_roles(struct name_list *names, struct cmr_state *st,
                             struct run *r, const char *cluster,
                             const char *service, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_cluster *c = NULL;
	struct cmr_service *s = NULL;
	size_t i;
	int error;

	cmr_http_response_init(&resp);
	if ((error = cmr_state_add_cluster(&c, st, cluster, err)) < 0 ||
	    (error = cmr_cluster_add_service(&s, st, c, service, err)) < 0)
		goto done;
	if (cmr_api_build_roles(&url, r->ver, cluster, service) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = call(r, "GET", url.ptr, NULL, &resp, err)) < 0 ||
	    (error = cmr_api_decode_roles(st, s, url.ptr, resp.body.ptr,
	                                  resp.body.len, err)) < 0)
		goto done;
	for (i = 0; i < s->roles.len; i++) {
		const struct cmr_role *ro = s->roles.items[i];

		if (ro->config_staleness == CMR_STALE_REFRESHABLE &&
		    !ro->maintenance_mode &&
		    cmr_vec_push(names, ro->name) < 0) {
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
			goto done;
		}
	}
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}

/* Waits for the refresh commands CM started, one after the other. */
static int wait_refreshes(struct run *r, const struct cmr_api_command_list *l,
                          struct cmr_error *err)
{
	size_t i;
	int error;

	for (i = 0; i < l->len; i++) {
		if (l->items[i].id < 0)
			continue;
		error = cmr_wait_command(NULL, &r->w, l->items[i].id,
		                         CMR_WAIT_REFRESH, err);
		if (error < 0)
			return error;
	}
	return 0;
}

/* roleCommands/refresh for the STALE_REFRESHABLE roles of a service. */
static int refresh_roles(struct run *r, const char *cluster,
                         const char *service, const char *tgt,
                         struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_state *st = NULL;
	struct cmr_api_command_list l;
	struct name_list names = { NULL, 0, 0 };
	int error;

	memset(&l, 0, sizeof(l));
	cmr_http_response_init(&resp);
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0 ||
	    (error = refreshable_roles(&names, st, r, cluster, service, err)) <
	            0)
		goto done;
	if (names.len == 0)
		goto done;
	if (cmr_api_build_role_command(&url, r->ver, cluster, service,
	                               "refresh") < 0 ||
	    cmr_api_body_role_names(&body, names.items, names.len) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = stop_if_interrupted(r, err)) < 0)
		goto done;
	run_emit(r, CMR_EXEC_EV_STEP, "refresh", tgt, -1,
	         "refreshing %zu role%s", names.len, names.len == 1 ? "" : "s");
	/* Refreshing a role twice is harmless (no restart): the transport
	 * may re-send this POST like a GET. */
	if ((error = call_flags(r, "POST", url.ptr, &body,
	                        CMR_HTTP_REQ_IDEMPOTENT, &resp, err)) < 0 ||
	    (error = cmr_api_decode_command_list(&l, url.ptr, resp.body.ptr,
	                                         resp.body.len, err)) < 0)
		goto done;
	r->rep->commands += l.len;
	if (l.errors[0]) {
		error = cmr_error_set(err, CMR_EAPI, "refresh of %s: %s", tgt,
		                      l.errors);
		goto done;
	}
	if ((error = wait_refreshes(r, &l, err)) < 0)
		goto done;
	r->rep->refreshed++;
	run_emit(r, CMR_EXEC_EV_DONE, "refresh", tgt, -1, "roles refreshed");
done:
	if (error < 0)
		run_emit(r, CMR_EXEC_EV_FAIL, "refresh", tgt, -1, "%s",
		         err ? err->msg : "failed");
	cmr_vec_release(&names);
	cmr_api_command_list_release(&l);
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	cmr_buf_release(&body);
	cmr_state_free(st);
	return error;
}

static int service_command(struct run *r, const char *phase,
                           const char *cluster, const char *service,
                           const char *tgt, const char *name,
                           const struct cmr_buf *body, enum cmr_wait_kind kind,
                           struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf list = CMR_BUF_INIT;
	int error;

	if (cmr_api_build_service_command(&url, r->ver, cluster, service,
	                                  name) < 0 ||
	    cmr_api_build_active_commands(&list, r->ver, cluster, service) < 0)
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	else
		error = run_command(r, phase, tgt, url.ptr, body, list.ptr,
		                    name, cluster, service, kind, err);
	cmr_buf_release(&url);
	cmr_buf_release(&list);
	return error;
}

static int restart_one(struct run *r, const struct svc_todo *t, const char *tgt,
                       struct cmr_error *err)
{
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_api_service_status st;
	bool rolling = t->action == CMR_ACTION_ROLLING;
	int error;

	if (rolling && cmr_api_body_rolling_restart(&body) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	error = service_command(r, "restart", t->cluster, t->service, tgt,
	                        rolling ? "rollingRestart" : "restart",
	                        rolling ? &body : NULL, CMR_WAIT_RESTART, err);
	cmr_buf_release(&body);
	if (error < 0)
		return error;
	run_emit(r, CMR_EXEC_EV_STEP, "health", tgt, -1,
	         "waiting for STARTED and GOOD health");
	error = cmr_wait_healthy(
	        &st, &r->w, t->cluster, t->service,
	        (r->opt->flags & CMR_EXEC_ACCEPT_CONCERNING) != 0, err);
	if (error < 0) {
		run_emit(r, CMR_EXEC_EV_FAIL, "health", tgt, -1, "%s",
		         err ? err->msg : "failed");
		return error;
	}
	r->rep->restarted++;
	run_emit(r, CMR_EXEC_EV_DONE, "health", tgt, -1, "%s, health %s",
	         cmr_run_state_name(st.state), cmr_health_name(st.health));
	return 0;
}

/* True when a restart may start now (no window, or inside it). */
static bool in_window(const struct run *r)
{
	int64_t now = r->clock->wall_ms(r->clock) / 1000;

	if (!(r->opt->flags & CMR_EXEC_RESTART_WINDOW) || !r->opt->window)
		return true;
	return cmr_window_contains(r->opt->window, (time_t)now);
}

/* Remembers a service left stale by choice, for the verdict. */
static int note_pending(struct run *r, const char *cluster, const char *service,
                        struct cmr_error *err)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char *k;

	cmr_buf_addf(&b, "%s/%s", cluster, service);
	k = cmr_buf_detach(&b, NULL);
	if (!k || cmr_vec_push(&r->pending, k) < 0) {
		cmr_free(k);
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	}
	return 0;
}

/*
 * A service's changes that need no restart: refreshes its
 * STALE_REFRESHABLE roles and deploys its stale client configuration
 * (`empty` is the deployment's body).  Nothing in maintenance mode.
 */
static int refresh_service(struct run *r, const struct svc_todo *t,
                           const struct cmr_buf *empty, struct cmr_error *err)
{
	const struct cmr_service *ls = t->live;
	char tgt[512];
	int error;

	snprintf(tgt, sizeof(tgt), "%s/%s", t->cluster, t->service);
	if (ls->maintenance_mode)
		return 0;
	if (ls->config_staleness == CMR_STALE_REFRESHABLE &&
	    (error = refresh_roles(r, t->cluster, t->service, tgt, err)) < 0)
		return error;
	if (ls->client_config_staleness == CMR_STALE_STALE ||
	    ls->client_config_staleness == CMR_STALE_REFRESHABLE) {
		error = service_command(r, "client-config", t->cluster,
		                        t->service, tgt, "deployClientConfig",
		                        empty, CMR_WAIT_CLIENT_CONFIG, err);
		if (error < 0)
			return error;
		r->rep->client_configs++;
	}
	return 0;
}

/* Why a stale service's restart is deferred, for the event. */
static const char *defer_reason(const struct run *r, const struct svc_todo *t)
{
	if (t->action == CMR_ACTION_DEFERRED)
		return "restart: never";
	if (r->opt->flags & CMR_EXEC_NO_RESTART)
		return "--no-restart";
	return "outside --restart-window";
}

/*
 * Restarts a service CM reports STALE, health-gated -- unless it is in
 * maintenance mode, stopped, or its restart is deferred (by its policy,
 * --no-restart or --restart-window): it is then left stale, and noted.
 */
static int restart_stale(struct run *r, const struct svc_todo *t,
                         struct cmr_error *err)
{
	const struct cmr_service *ls = t->live;
	bool stale = ls->config_staleness == CMR_STALE_STALE;
	char tgt[512];
	int error;

	snprintf(tgt, sizeof(tgt), "%s/%s", t->cluster, t->service);
	if (ls->maintenance_mode &&
	    (stale || ls->config_staleness == CMR_STALE_REFRESHABLE ||
	     ls->client_config_staleness == CMR_STALE_STALE)) {
		r->rep->maintenance++;
		run_emit(r, CMR_EXEC_EV_SKIP, "restart", tgt, -1,
		         "stale, but in maintenance mode: left alone");
		return note_pending(r, t->cluster, t->service, err);
	}
	if (!stale)
		return 0;
	if (ls->state == CMR_RUN_STOPPED || ls->state == CMR_RUN_STOPPING) {
		/* A restart would start it: stopped services stay stopped;
		 * they read their settings when started. */
		r->rep->stopped++;
		run_emit(r, CMR_EXEC_EV_SKIP, "restart", tgt, -1,
		         "stale, but %s: not started by cmrecon",
		         cmr_run_state_name(ls->state));
		return note_pending(r, t->cluster, t->service, err);
	}
	if (t->action == CMR_ACTION_DEFERRED ||
	    (r->opt->flags & CMR_EXEC_NO_RESTART) || !in_window(r)) {
		r->rep->deferred++;
		run_emit(r, CMR_EXEC_EV_SKIP, "restart", tgt, -1,
		         "stale; restart deferred (%s)", defer_reason(r, t));
		return note_pending(r, t->cluster, t->service, err);
	}
	if ((error = stop_if_interrupted(r, err)) < 0)
		return error;
	return restart_one(r, t, tgt, err);
}

static int stale_services(struct run *r, struct cmr_error *err)
{
	struct todo_list todo = { NULL, 0, 0 };
	struct cmr_state *now = NULL;
	struct cmr_buf empty = CMR_BUF_INIT;
	size_t i;
	int error;

	if ((error = read_services(&now, r, err)) < 0 ||
	    (error = build_todo(&todo, r, now, err)) < 0)
		goto done;
	if (cmr_buf_adds(&empty, "{\"items\":[]}") < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	/* Refreshes and client configurations first: no restart needed. */
	for (i = 0; i < todo.len; i++)
		if ((error = refresh_service(r, &todo.items[i], &empty, err)) <
		    0)
			goto done;
	for (i = 0; i < todo.len; i++)
		if ((error = restart_stale(r, &todo.items[i], err)) < 0)
			goto done;
	error = 0;
done:
	cmr_buf_release(&empty);
	cmr_vec_release(&todo);
	cmr_state_free(now);
	return error;
}

/*
 * One cluster's lane (or every cluster, when r->cluster is NULL): the
 * cluster's settings, download and distribution to the end, then
 * activation, then refresh, client configuration and restarts of what
 * CM reports stale.
 */
int run_cluster_steps(struct run *r, struct cmr_error *err)
{
	int error;

	if ((error = write_scopes(r, CMR_SCOPE_SERVICE, CMR_SCOPE_GROUP, err)) <
	            0 ||
	    (error = parcels_run(r, true, err)) < 0 ||
	    (error = parcels_run(r, false, err)) < 0)
		return error;
	return stale_services(r, err);
}

void report_add(struct cmr_exec_report *to, const struct cmr_exec_report *from)
{
	to->writes += from->writes;
	to->settings += from->settings;
	to->secrets += from->secrets;
	to->secret_records += from->secret_records;
	to->commands += from->commands;
	to->parcel_steps += from->parcel_steps;
	to->refreshed += from->refreshed;
	to->client_configs += from->client_configs;
	to->restarted += from->restarted;
	to->maintenance += from->maintenance;
	to->stopped += from->stopped;
	to->deferred += from->deferred;
	to->interrupted = to->interrupted || from->interrupted;
}

/* ----------------------------------------------------------------------
 * Verify
 */

/*
 * Services the new plan still wants restarted, refreshed or redeployed,
 * less those left stale by choice (deferred, maintenance mode).
 */
static size_t stale_left(const struct run *r, const struct cmr_plan *again)
{
	size_t i;
	size_t j;
	size_t n = 0;

	for (i = 0; i < again->restarts.len; i++) {
		const struct cmr_restart *rs = again->restarts.items[i];
		size_t cl = strlen(rs->cluster);
		bool pending =
		        rs->action == CMR_ACTION_DEFERRED || rs->maintenance;

		for (j = 0; !pending && j < r->pending.len; j++) {
			const char *k = r->pending.items[j];

			pending = strncmp(k, rs->cluster, cl) == 0 &&
			          k[cl] == '/' &&
			          strcmp(k + cl + 1, rs->service) == 0;
		}
		if (!pending)
			n++;
	}
	return n;
}

static int verify(struct run *r, struct cmr_error *err)
{
	struct cmr_state *live = NULL;
	struct cmr_params *params = NULL;
	struct cmr_plan *again = NULL;
	struct cmr_plan_summary sum;
	struct cmr_plan_options po;
	int error;

	if (!r->opt->desired || (r->opt->flags & CMR_EXEC_NO_VERIFY))
		return 0;
	run_emit(r, CMR_EXEC_EV_STEP, "verify", "", -1,
	         "reading live state again");
	memset(&po, 0, sizeof(po));
	if (r->opt->plan_opt)
		po = *r->opt->plan_opt;
	/* A secret forced a moment ago cannot be verified without a record:
	 * in the verdict it is a note, not a change left. */
	po.flags &= ~(unsigned)CMR_PLAN_FORCE_SECRETS;
	if ((error = cmr_api_read_live(&live, &params, r->c, r->opt->desired,
	                               NULL, err)) < 0 ||
	    (error = cmr_plan_build(&again, r->opt->desired, live, params, &po,
	                            err)) < 0)
		goto done;
	cmr_plan_summarize(&sum, again);
	r->rep->verified = true;
	r->rep->remaining = sum.settings + sum.parcels + stale_left(r, again);
	if (again->refresh_parcel_repos)
		r->rep->remaining++;
	r->rep->converged = r->rep->remaining == 0;
	if (r->rep->converged)
		run_emit(r, CMR_EXEC_EV_DONE, "verify", "", -1,
		         "converged: CM holds the desired state%s",
		         sum.deferred || r->rep->deferred
		                 ? " (restarts deferred by choice)"
		                 : "");
	else
		run_emit(r, CMR_EXEC_EV_FAIL, "verify", "", -1,
		         "not converged: a new plan still has %zu setting%s, "
		         "%zu parcel change%s and %zu service%s to restart, "
		         "refresh or redeploy",
		         sum.settings, sum.settings == 1 ? "" : "s",
		         sum.parcels, sum.parcels == 1 ? "" : "s",
		         stale_left(r, again),
		         stale_left(r, again) == 1 ? "" : "s");
done:
	cmr_plan_free(again);
	cmr_params_free(params);
	cmr_state_free(live);
	return error;
}

/* ----------------------------------------------------------------------
 * The whole apply
 */

static void open_journal(struct run *r)
{
	if (!r->opt->journal_path)
		return;
	r->journal_fd = open(r->opt->journal_path,
	                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (r->journal_fd < 0)
		run_emit(r, CMR_EXEC_EV_WARN, "journal", "", -1,
		         "cannot open the journal '%s': %s; going on without "
		         "one",
		         r->opt->journal_path, strerror(errno));
}

static int check_plan(const struct cmr_plan *p, struct cmr_error *err)
{
	struct cmr_plan_summary s;

	cmr_plan_summarize(&s, p);
	if (s.errors)
		return cmr_error_set(err, CMR_EINVAL,
		                     "the plan has %zu error%s; it cannot be "
		                     "applied",
		                     s.errors, s.errors == 1 ? "" : "s");
	return 0;
}

/* Sets up the run of one apply; *rep is its report. */
static void run_init(struct run *r, struct cmr_exec_report *rep,
                     const struct cmr_plan *plan, struct cmr_client *c,
                     const struct cmr_exec_options *opt)
{
	memset(rep, 0, sizeof(*rep));
	memset(r, 0, sizeof(*r));
	r->plan = plan;
	r->c = c;
	r->opt = opt;
	r->rep = rep;
	r->journal_fd = -1;
	r->lk = &r->lk_own;
	r->lk->local_fd = -1;
	r->clock = opt->clock ? opt->clock : cmr_clock_system();
	r->start = r->clock->now_ms(r->clock);
	r->w.client = c;
	r->w.clock = r->clock;
	r->w.logger = opt->logger;
	r->w.timeout_ms = opt->timeout_ms;
	r->w.initial_ms = opt->poll_initial_ms;
	r->w.max_ms = opt->poll_max_ms;
	r->w.tick = tick;
	r->w.tick_ud = r;
	snprintf(r->message, sizeof(r->message), "cmrecon apply, plan %s%s%s",
	         plan->plan_id ? plan->plan_id : "-",
	         opt->change_ref ? ", change " : "",
	         opt->change_ref ? opt->change_ref : "");
}

/* refreshParcelRepos, unless one is already running. */
static int refresh_parcel_repos(struct run *r, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf list = CMR_BUF_INIT;
	int error;

	if (cmr_api_build_refresh_parcel_repos(&url, r->ver) < 0 ||
	    cmr_api_build_active_commands(&list, r->ver, NULL, NULL) < 0)
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	else
		error = run_command(r, "parcel", "CM", url.ptr, NULL, list.ptr,
		                    "refreshParcelRepos", NULL, NULL,
		                    CMR_WAIT_REFRESH, err);
	cmr_buf_release(&url);
	cmr_buf_release(&list);
	return error;
}

int cmr_exec_apply(struct cmr_exec_report *out, const struct cmr_plan *plan,
                   struct cmr_client *c, const struct cmr_exec_options *opt,
                   struct cmr_error *err)
{
	struct cmr_exec_report rep;
	struct run r;
	size_t i;
	int error;

	run_init(&r, &rep, plan, c, opt);
	if ((error = check_plan(plan, err)) < 0 ||
	    (error = cmr_client_negotiate(c, err)) < 0)
		goto done;
	r.ver = cmr_client_api_version(c);
	open_journal(&r);
	run_emit(&r, CMR_EXEC_EV_STEP, "apply", "", -1, "applying plan %s",
	         plan->plan_id ? plan->plan_id : "-");
	if (!(opt->flags & CMR_EXEC_NO_LOCK) &&
	    (error = lock_acquire(&r, err)) < 0)
		goto done;

	/* 1. CM settings, then the parcel repositories. */
	if ((error = write_scopes(&r, CMR_SCOPE_CM, CMR_SCOPE_CM, err)) < 0 ||
	    (plan->refresh_parcel_repos &&
	     (error = refresh_parcel_repos(&r, err)) < 0))
		goto done;
	/* 2. Downloads start early; 3. the other settings meanwhile: the
	 * management service's here, each cluster's in its lane. */
	if ((error = parcels_start_downloads(&r, err)) < 0 ||
	    (error = write_scopes(&r, CMR_SCOPE_MGMT, CMR_SCOPE_MGMT_GROUP,
	                          err)) < 0)
		goto done;
	/* 4. and 5., per cluster, independent clusters at the same time. */
	if ((error = lanes_run(&r, err)) < 0)
		goto done;
	lock_release(&r);
	/* 6. Did CM converge? */
	error = verify(&r, err);
done:
	if (error < 0 && error != CMR_ECONFLICT)
		run_emit(&r, CMR_EXEC_EV_FAIL, "apply", "", -1, "%s",
		         err ? err->msg : "failed");
	lock_release(&r);
	if (r.journal_fd >= 0)
		close(r.journal_fd);
	for (i = 0; i < r.pending.len; i++)
		cmr_free(r.pending.items[i]);
	cmr_vec_release(&r.pending);
	rep.elapsed_ms = r.clock->now_ms(r.clock) - r.start;
	if (out)
		*out = rep;
	return error;
}

int cmr_exec_journal_dir(struct cmr_buf *out, struct cmr_error *err)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		cmr_buf_addf(out, "%s/cmrecon", xdg);
	else if (home && *home)
		cmr_buf_addf(out, "%s/.local/state/cmrecon", home);
	else
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "neither XDG_STATE_HOME nor HOME is set");
	return cmr_buf_error(out) < 0
	               ? cmr_error_set(err, CMR_ENOMEM, "out of memory")
	               : 0;
}
