/*
 * call.c -- the one path from an apply to CM.
 *
 * Every writer of lib/exec -- settings, parcels, restarts, the lock --
 * talks to CM through here, so the rules are kept once:
 *
 *   - a request's answer is checked (2xx, else CM's message);
 *   - a command is never sent while CM still runs one of that name: the
 *     service's (or CM's) active commands are read first -- a command left
 *     running by an interrupted apply, on this machine or another, is
 *     waited on instead;
 *   - a POST whose answer was lost (or a 502/503/504, after which CM may
 *     have acted) is looked up in CM before it is sent again: among the
 *     active commands, then -- for a restart or a client configuration --
 *     in its effect (the service no longer stale);
 *   - between steps, a run stops when the user interrupted it or another
 *     lane failed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmr/api_write.h"
#include "cmr/buf.h"

#include "exec_int.h"

bool cmr_exec__interrupted(struct cmr_exec__run *r)
{
	if (r->a->opt->interrupted && *r->a->opt->interrupted) {
		r->rep->interrupted = true;
		return true;
	}
	return false;
}

int cmr_exec__stop_check(struct cmr_exec__run *r, struct cmr_error *err)
{
	if (cmr_exec__interrupted(r))
		return cmr_error_set(err, CMR_EINTR,
		                     "interrupted: no new step was started; "
		                     "commands already running in CM keep "
		                     "running");
	if (cmr_exec__pool_stopped(r->a->pool, r->cluster, err))
		return CMR_EINTR;
	return 0;
}

bool cmr_exec__in_lane(const struct cmr_exec__run *r, const char *cluster)
{
	return !r->cluster || (cluster && strcmp(cluster, r->cluster) == 0);
}

int cmr_exec__send(struct cmr_client *c, const char *method, const char *url,
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
	(void)cmr_client_send_all(c, &req, resp, 1, NULL);
	return cmr_api_check_answer(&req, resp, err);
}

int cmr_exec__call(struct cmr_exec__run *r, const char *method, const char *url,
                   const struct cmr_buf *body, unsigned flags,
                   struct cmr_http_response *resp, struct cmr_error *err)
{
	return cmr_exec__send(r->c, method, url, body, flags, resp, err);
}

bool cmr_exec__post_unsettled(const struct cmr_http_response *resp)
{
	return (resp->flags & CMR_HTTP_RESP_MAYBE_APPLIED) ||
	       resp->status == 502 || resp->status == 503 ||
	       resp->status == 504;
}

/* How long a POST is retried after an open outcome, and its backoff. */
#define POST_RETRY_DEADLINE_MS ((int64_t)60 * 1000)
#define POST_RETRY_INITIAL_MS  200
#define POST_RETRY_MAX_MS      5000

/*
 * Looks for an active command called `name` (CM's spelling differs from
 * the endpoint's in case only: restart -> "Restart") in the list at
 * `list_url`.  *out_id is its id, or -1.
 */
static int find_active(int64_t *out_id, struct cmr_exec__run *r,
                       const char *list_url, const char *name,
                       struct cmr_error *err)
{
	struct cmr_http_response resp;
	struct cmr_api_command_list l;
	size_t i;
	int error;

	*out_id = -1;
	memset(&l, 0, sizeof(l));
	cmr_http_response_init(&resp);
	error = cmr_exec__call(r, "GET", list_url, NULL, 0, &resp, err);
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
static int work_done(bool *out, struct cmr_exec__run *r,
                     const struct cmr_exec__command *cc, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_service_status st;
	int error = 0;

	*out = false;
	if (!cc->cluster || !cc->service)
		return 0;
	cmr_http_response_init(&resp);
	if (cmr_api_build_service(&url, r->a->ver, cc->cluster, cc->service) <
	    0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = cmr_exec__call(r, "GET", url.ptr, NULL, 0, &resp, err)) <
	            0 ||
	    (error = cmr_api_decode_service(&st, url.ptr, resp.body.ptr,
	                                    resp.body.len, err)) < 0)
		goto done;
	if (strcasecmp(cc->name, "deployClientConfig") == 0)
		*out = st.client_staleness != CMR_STALE_STALE &&
		       st.client_staleness != CMR_STALE_REFRESHABLE;
	else if (strcasecmp(cc->name, "restart") == 0 ||
	         strcasecmp(cc->name, "rollingRestart") == 0)
		*out = st.config_staleness != CMR_STALE_STALE;
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}

/*
 * CM accepted the POST: the command it started (*id), or -1 when it
 * finished at once; a command that failed at once is an error.
 */
static int post_accepted(int64_t *id, struct cmr_exec__run *r,
                         const struct cmr_exec__command *cc,
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
	cmr_exec__remit(r, CMR_EXEC_EV_STEP, cc->phase, cc->target, *id,
	                "%s started", cc->name);
	if (*id < 0 && cmd.has_success && !cmd.success)
		return cmr_error_set(err, CMR_EAPI, "%s on %s failed: %s",
		                     cc->name, cc->target, cmd.result_message);
	return 0;
}

/*
 * After a POST whose outcome is open: says so, then looks in CM for the
 * command (*id, to wait on) and, when it is not there, for its work done
 * anyway (*done: it is not sent again).
 */
static int look_up_unsettled(int64_t *id, bool *done, struct cmr_exec__run *r,
                             const struct cmr_exec__command *cc,
                             const struct cmr_http_response *resp,
                             struct cmr_error *err)
{
	int error;

	if (resp->flags & CMR_HTTP_RESP_MAYBE_APPLIED)
		cmr_exec__remit(r, CMR_EXEC_EV_WARN, cc->phase, cc->target, -1,
		                "the answer to %s was lost; looking for it "
		                "in CM before sending it again",
		                cc->name);
	else
		cmr_exec__remit(r, CMR_EXEC_EV_WARN, cc->phase, cc->target, -1,
		                "%s: CM answered HTTP %ld; looking for it in "
		                "CM before sending it again",
		                cc->name, resp->status);
	if ((error = find_active(id, r, cc->list_url, cc->name, err)) < 0)
		return error;
	if (*id >= 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_STEP, cc->phase, cc->target, *id,
		                "%s is running in CM; waiting for it",
		                cc->name);
		return 0;
	}
	if ((error = work_done(done, r, cc, err)) < 0)
		return error;
	if (*done) {
		r->rep->commands++;
		cmr_exec__remit(r, CMR_EXEC_EV_DONE, cc->phase, cc->target, -1,
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
static int post_command(int64_t *id, struct cmr_exec__run *r,
                        const struct cmr_exec__command *cc,
                        struct cmr_error *err)
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
		error = cmr_exec__call(r, "POST", cc->url, cc->body, 0, &resp,
		                       &e);
		if (error == 0) {
			error = post_accepted(id, r, cc, &resp, err);
			break;
		}
		if (!cmr_exec__post_unsettled(&resp) ||
		    r->clock->now_ms(r->clock) >= deadline) {
			if (err && err->code == CMR_OK)
				*err = e;
			break;
		}
		error = look_up_unsettled(id, &done_anyway, r, cc, &resp, err);
		if (error < 0 || *id >= 0 || done_anyway)
			break;
		if ((error = cmr_exec__stop_check(r, err)) < 0)
			break;
		r->clock->sleep_ms(r->clock, delay);
		delay = delay * 2 > POST_RETRY_MAX_MS ? POST_RETRY_MAX_MS
		                                      : delay * 2;
	}
	cmr_http_response_release(&resp);
	return error;
}

int cmr_exec__run_command(struct cmr_exec__run *r,
                          const struct cmr_exec__command *cc,
                          struct cmr_error *err)
{
	struct cmr_api_command cmd;
	int64_t id = -1;
	int error;

	if ((error = cmr_exec__stop_check(r, err)) < 0)
		return error;
	if ((error = find_active(&id, r, cc->list_url, cc->name, err)) < 0)
		return error;
	if (id >= 0)
		cmr_exec__remit(r, CMR_EXEC_EV_STEP, cc->phase, cc->target, id,
		                "%s is already running in CM; waiting for it",
		                cc->name);
	else if ((error = post_command(&id, r, cc, err)) < 0)
		return error;
	if (id < 0)
		return 0; /* synchronous and it succeeded, or done anyway */
	error = cmr_wait_command(&cmd, &r->w, id, cc->kind, err);
	if (error == 0)
		cmr_exec__remit(r, CMR_EXEC_EV_DONE, cc->phase, cc->target, id,
		                "%s finished", cc->name);
	else
		cmr_exec__remit(r, CMR_EXEC_EV_FAIL, cc->phase, cc->target, id,
		                "%s", err ? err->msg : cc->name);
	return error;
}
