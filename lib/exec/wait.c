/*
 * wait.c -- the one waiter for CM commands, parcel stages and health.
 *
 * Every wait has an absolute deadline fixed when it starts (per kind, or
 * --timeout for all), and polls with capped exponential backoff: the first
 * look is immediate (a command may already be done), then the delay
 * starts at 1 s and doubles up to 30 s, each delay jittered into [d/2, d]
 * so that several cmrecon runs do not poll in step.  Time only moves
 * through struct cmr_clock, so the unit tests run these loops instantly.
 *
 * A failed poll (no answer, or a 5xx while CM restarts) is tolerated up to
 * CMR_WAIT_TRANSPORT_ERRORS times in a row; the next success resets the
 * count.  Any other HTTP error (404 for a command CM forgot ...) ends the
 * wait at once.  Reaching the deadline is CMR_ETIMEOUT with "outcome
 * unknown": CM may still finish the work, so it is never reported as a
 * success.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/buf.h"
#include "cmr/exec.h"

int64_t cmr_wait_default_ms(enum cmr_wait_kind kind)
{
	const int64_t min = (int64_t)60 * 1000;

	switch (kind) {
	case CMR_WAIT_REFRESH:
	case CMR_WAIT_CLIENT_CONFIG:
		return 10 * min;
	case CMR_WAIT_RESTART:
		return 60 * min;
	case CMR_WAIT_DOWNLOAD:
		return 120 * min;
	case CMR_WAIT_DISTRIBUTE:
	case CMR_WAIT_ACTIVATE:
		return 60 * min;
	}
	return 60 * min;
}

struct poll {
	struct cmr_waiter *w;
	struct cmr_clock *clock;
	int64_t start, deadline, delay;
	unsigned failures;
};

static void poll_init(struct poll *p, struct cmr_waiter *w,
                      enum cmr_wait_kind kind)
{
	p->w = w;
	p->clock = w->clock ? w->clock : cmr_clock_system();
	p->start = p->clock->now_ms(p->clock);
	p->deadline =
	        p->start +
	        (w->timeout_ms > 0 ? w->timeout_ms : cmr_wait_default_ms(kind));
	p->delay = w->initial_ms > 0 ? w->initial_ms : CMR_WAIT_INITIAL_MS;
	p->failures = 0;
}

/*
 * Sleeps before the next poll.  Returns CMR_ETIMEOUT when the deadline has
 * passed, CMR_EINTR when the tick asks to stop, else 0.
 */
static int poll_sleep(struct poll *p, const char *what, struct cmr_error *err)
{
	int64_t max = p->w->max_ms > 0 ? p->w->max_ms : CMR_WAIT_MAX_MS;
	int64_t now = p->clock->now_ms(p->clock);
	int64_t d;

	if (now >= p->deadline)
		return cmr_error_set(err, CMR_ETIMEOUT,
		                     "%s: no result after %lld s; the outcome "
		                     "is unknown (CM may still be working "
		                     "on it)",
		                     what,
		                     (long long)((now - p->start) / 1000));
	if (p->w->tick && p->w->tick(what, p->w->tick_ud) != 0)
		return cmr_error_set(err, CMR_EINTR,
		                     "%s: interrupted; CM keeps running it",
		                     what);
	d = p->delay / 2 +
	    (int64_t)cmr_jitter_rand((uint64_t)(p->delay / 2) + 1);
	if (d > p->deadline - now)
		d = p->deadline - now;
	if (d > 0)
		p->clock->sleep_ms(p->clock, d);
	p->delay = p->delay * 2 > max ? max : p->delay * 2;
	return 0;
}

/*
 * One GET.  Returns 0 with a 200 answer in resp; 1 for a tolerated failure
 * (no answer, 5xx) while fewer than the limit happened in a row; or the
 * error.
 */
static int poll_get(struct poll *p, const char *url,
                    struct cmr_http_response *resp, struct cmr_error *err)
{
	struct cmr_http_request req;
	struct cmr_error e = CMR_ERROR_INIT;
	int error;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	cmr_http_response_release(resp);
	cmr_http_response_init(resp);
	p->w->polls++;
	(void)cmr_client_send_all(p->w->client, &req, resp, 1, &e);
	cmr_error_clear(&e);
	error = cmr_api_check_answer(&req, resp, &e);
	if (error == 0) {
		p->failures = 0;
		return 0;
	}
	if (error == CMR_ETRANSPORT || resp->status >= 500) {
		p->w->transport_errors++;
		if (++p->failures <= CMR_WAIT_TRANSPORT_ERRORS) {
			cmr_log(p->w->logger, CMR_LOG_DEBUG, "exec",
			        "poll failed (%u in a row): %s", p->failures,
			        e.msg);
			return 1;
		}
		return cmr_error_set(err, error,
		                     "%s (%u failed polls in a row)", e.msg,
		                     p->failures);
	}
	if (err && err->code == CMR_OK)
		*err = e;
	return error;
}

/*
 * One poll of command `id`: 0 when it has ended (in *cmd), 1 while it runs
 * or after a tolerated failed poll (what[] then names it), or the error.
 */
static int command_look(struct cmr_api_command *cmd, struct poll *p,
                        const char *url, struct cmr_http_response *resp,
                        int64_t id, char *what, size_t cap,
                        struct cmr_error *err)
{
	int error = poll_get(p, url, resp, err);

	if (error != 0)
		return error;
	error = cmr_api_decode_command(cmd, url, resp->body.ptr, resp->body.len,
	                               err);
	if (error < 0)
		return error;
	if (!cmd->active)
		return 0;
	snprintf(what, cap, "%s (command %lld)",
	         cmd->name[0] ? cmd->name : "command", (long long)id);
	return 1;
}

int cmr_wait_command(struct cmr_api_command *out, struct cmr_waiter *w,
                     int64_t id, enum cmr_wait_kind kind, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_command cmd;
	struct poll p;
	char what[CMR_API_NAME_MAX + 64];
	int error;

	cmr_http_response_init(&resp);
	memset(&cmd, 0, sizeof(cmd));
	snprintf(what, sizeof(what), "command %lld", (long long)id);
	if (cmr_api_build_command(&url, cmr_client_api_version(w->client), id) <
	    0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	poll_init(&p, w, kind);
	for (;;) {
		error = command_look(&cmd, &p, url.ptr, &resp, id, what,
		                     sizeof(what), err);
		if (error < 0)
			goto done;
		if (error == 0)
			break;
		if ((error = poll_sleep(&p, what, err)) < 0)
			goto done;
	}
	if (cmd.has_success && !cmd.success) {
		error = cmr_error_set(
		        err, CMR_EAPI, "%s (command %lld) failed: %s",
		        cmd.name[0] ? cmd.name : "command", (long long)id,
		        cmd.failure[0]          ? cmd.failure
		        : cmd.result_message[0] ? cmd.result_message
		                                : "no message");
		goto done;
	}
	error = 0;
done:
	if (out)
		*out = cmd;
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}

/*
 * What a parcel wait shows at each poll: the stage and, while it moves,
 * the bytes (download) or hosts (distribution) done so far.
 */
static void progress_text(char *out, size_t cap, const char *product,
                          const char *version, const char *cluster,
                          enum cmr_parcel_stage target,
                          const struct cmr_api_parcel_status *st)
{
	char part[96] = "";

	if (st->total_progress > 0 && st->stage == CMR_PARCEL_DOWNLOADING)
		snprintf(part, sizeof(part), ", %lld%% of %lld MB",
		         (long long)(st->progress * 100 / st->total_progress),
		         (long long)(st->total_progress >> 20));
	else if (st->total_count > 0)
		snprintf(part, sizeof(part), ", %lld/%lld hosts",
		         (long long)st->count, (long long)st->total_count);
	snprintf(out, cap, "parcel %s %s on '%s': %s%s (to %s)", product,
	         version, cluster, cmr_parcel_stage_name(st->stage), part,
	         cmr_parcel_stage_name(target));
}

int cmr_wait_parcel(struct cmr_api_parcel_status *out, struct cmr_waiter *w,
                    const char *cluster, const char *product,
                    const char *version, enum cmr_parcel_stage target,
                    enum cmr_wait_kind kind, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_parcel_status st;
	struct poll p;
	char what[512];
	int error;

	cmr_http_response_init(&resp);
	memset(&st, 0, sizeof(st));
	snprintf(what, sizeof(what), "parcel %s %s on '%s' reaching %s",
	         product, version, cluster, cmr_parcel_stage_name(target));
	if (cmr_api_build_parcel(&url, cmr_client_api_version(w->client),
	                         cluster, product, version) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	poll_init(&p, w, kind);
	for (;;) {
		error = poll_get(&p, url.ptr, &resp, err);
		if (error < 0)
			goto done;
		if (error == 0) {
			error = cmr_api_decode_parcel(&st, url.ptr,
			                              resp.body.ptr,
			                              resp.body.len, err);
			if (error < 0)
				goto done;
			if (st.error[0]) {
				error = cmr_error_set(
				        err, CMR_EAPI,
				        "parcel %s %s on '%s' failed in stage "
				        "%s: %s",
				        product, version, cluster,
				        cmr_parcel_stage_name(st.stage),
				        st.error);
				goto done;
			}
			if (st.stage == target)
				break;
			progress_text(what, sizeof(what), product, version,
			              cluster, target, &st);
		}
		if ((error = poll_sleep(&p, what, err)) < 0)
			goto done;
	}
	error = 0;
done:
	if (out)
		*out = st;
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}

/*
 * One poll of a service's health: 0 when it is STARTED and GOOD (or
 * CONCERNING, when that is accepted), 1 while it is not yet or after a
 * tolerated failed poll, or the error -- CMR_EAPI when it is STARTED and
 * BAD.
 */
static int health_look(struct cmr_api_service_status *st, struct poll *p,
                       const char *url, struct cmr_http_response *resp,
                       const char *cluster, const char *service,
                       bool accept_concerning, struct cmr_error *err)
{
	int error = poll_get(p, url, resp, err);

	if (error != 0)
		return error;
	error = cmr_api_decode_service(st, url, resp->body.ptr, resp->body.len,
	                               err);
	if (error < 0)
		return error;
	if (st->state == CMR_RUN_STARTED && st->health == CMR_HEALTH_BAD)
		return cmr_error_set(err, CMR_EAPI,
		                     "service '%s/%s' is BAD after its "
		                     "restart: %s",
		                     cluster, service,
		                     st->failing_checks[0]
		                             ? st->failing_checks
		                             : "no failing health check "
		                               "named");
	if (st->state == CMR_RUN_STARTED &&
	    (st->health == CMR_HEALTH_GOOD ||
	     (accept_concerning && st->health == CMR_HEALTH_CONCERNING)))
		return 0;
	return 1;
}

/* A health wait that timed out says what it saw last. */
static void note_last_seen(struct cmr_error *err, int error,
                           const struct cmr_api_service_status *st)
{
	if (error == CMR_ETIMEOUT && st->state != CMR_RUN_NONE)
		cmr_error_prefix(
		        err,
		        "last seen %s/%s%s%s: ", cmr_run_state_name(st->state),
		        cmr_health_name(st->health),
		        st->failing_checks[0] ? " " : "", st->failing_checks);
}

int cmr_wait_healthy(struct cmr_api_service_status *out, struct cmr_waiter *w,
                     const char *cluster, const char *service,
                     bool accept_concerning, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_service_status st;
	struct poll p;
	char what[512];
	int error;

	cmr_http_response_init(&resp);
	memset(&st, 0, sizeof(st));
	snprintf(what, sizeof(what), "health of '%s/%s'", cluster, service);
	if (cmr_api_build_service(&url, cmr_client_api_version(w->client),
	                          cluster, service) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	poll_init(&p, w, CMR_WAIT_RESTART);
	for (;;) {
		error = health_look(&st, &p, url.ptr, &resp, cluster, service,
		                    accept_concerning, err);
		if (error < 0)
			goto done;
		if (error == 0)
			break;
		if ((error = poll_sleep(&p, what, err)) < 0) {
			note_last_seen(err, error, &st);
			goto done;
		}
	}
	error = 0;
done:
	if (out)
		*out = st;
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	return error;
}
