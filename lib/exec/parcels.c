/*
 * parcels.c -- parcel stages, up (download, distribute, activate) and down
 * (deactivate, remove the distribution, remove the download).
 *
 * A parcel command is sent only when the parcel is not already in (or
 * moving to) the stage it leads to, so a resumed apply picks up where the
 * last one stopped.  CM answers a parcel command with 400 while the
 * parcel's state settles (right after a refresh, or another stage); those
 * are retried with backoff for a minute.  A POST whose answer was lost is
 * never blindly sent again: the stage is read first, on the next turn.
 * Every wait goes through the waiter, which fails as soon as CM reports
 * state.errors.
 *
 * Downloads start early, right after the CM settings, so that the bytes
 * move while the other settings are written; each cluster's lane then
 * waits for them and distributes, and activates once its settings are in.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/api_write.h"
#include "cmr/buf.h"

#include "exec_int.h"

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
static int parcel_read(struct cmr_api_parcel_status *st,
                       struct cmr_exec__run *r,
                       const struct cmr_parcel_change *pc, const char *purl,
                       struct cmr_http_response *resp, struct cmr_error *err)
{
	struct cmr_error e = CMR_ERROR_INIT;
	int error;

	error = cmr_exec__call(r, "GET", purl, NULL, 0, resp, &e);
	if (error < 0 && resp->status == 404)
		return cmr_error_set(
		        err, CMR_EAPI,
		        "parcel %s %s is not offered to cluster '%s'%s; "
		        "check REMOTE_PARCEL_REPO_URLS (CM: %s)",
		        pc->product, pc->version, pc->cluster,
		        r->a->plan->refresh_parcel_repos
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
static int parcel_posted(struct cmr_exec__run *r, enum cmr_parcel_cmd cmd,
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
	cmr_exec__remit(r, CMR_EXEC_EV_STEP, "parcel", tgt, -1, "%s started",
	                cmr_parcel_cmd_verb(cmd));
	return 0;
}

/*
 * Whether a parcel POST that failed is sent again: a lost answer or a 5xx
 * (the stage read on the next turn tells whether CM acted) and a
 * transient 400 are, but only until the deadline.
 */
static bool parcel_retry(struct cmr_exec__run *r,
                         const struct cmr_http_response *resp, int64_t deadline)
{
	return (cmr_exec__post_unsettled(resp) || resp->status == 400) &&
	       r->clock->now_ms(r->clock) < deadline;
}

/*
 * Sends one parcel command, unless the parcel is already in (or moving
 * to) the stage it leads to -- a resumed apply.  Transient 400s (CM's
 * parcel state settling) are retried with backoff for a short deadline.
 */
static int parcel_start(struct cmr_exec__run *r,
                        const struct cmr_parcel_change *pc,
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
	if (cmr_api_build_parcel_command(&url, r->a->ver, pc->cluster,
	                                 pc->product, pc->version,
	                                 cmr_parcel_cmd_name(cmd)) < 0 ||
	    cmr_api_build_parcel(&purl, r->a->ver, pc->cluster, pc->product,
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
			cmr_exec__remit(r, CMR_EXEC_EV_STEP, "parcel", tgt, -1,
			                "%s: in progress or done (%s)",
			                cmr_parcel_cmd_verb(cmd),
			                cmr_parcel_stage_name(st.stage));
			error = 0;
			goto done;
		}
		error = cmr_exec__call(r, "POST", url.ptr, NULL, 0, &resp, &e);
		if (error == 0) {
			error = parcel_posted(r, cmd, tgt, url.ptr, &resp, err);
			goto done;
		}
		if (!parcel_retry(r, &resp, deadline)) {
			if (err && err->code == CMR_OK)
				*err = e;
			goto done;
		}
		if ((error = cmr_exec__stop_check(r, err)) < 0)
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

static int parcel_step(struct cmr_exec__run *r,
                       const struct cmr_parcel_change *pc,
                       enum cmr_parcel_cmd cmd, struct cmr_error *err)
{
	struct cmr_api_parcel_status st;
	char tgt[512];
	int error;

	snprintf(tgt, sizeof(tgt), "%s %s %s", pc->cluster, pc->product,
	         pc->version);
	if ((error = cmr_exec__stop_check(r, err)) < 0 ||
	    (error = parcel_start(r, pc, cmd, err)) < 0)
		goto fail;
	error = cmr_wait_parcel(&st, &r->w, pc->cluster, pc->product,
	                        pc->version, step_result(cmd), step_kind(cmd),
	                        err);
	if (error < 0)
		goto fail;
	cmr_exec__remit(r, CMR_EXEC_EV_DONE, "parcel", tgt, -1, "%s: %s",
	                cmr_parcel_cmd_verb(cmd),
	                cmr_parcel_stage_name(st.stage));
	return 0;
fail:
	cmr_exec__remit(r, CMR_EXEC_EV_FAIL, "parcel", tgt, -1, "%s",
	                err ? err->msg : "failed");
	return error;
}

static bool early_step(enum cmr_parcel_cmd c)
{
	return c == CMR_PARCEL_CMD_DOWNLOAD || c == CMR_PARCEL_CMD_DISTRIBUTE;
}

int cmr_exec__parcels_start_downloads(struct cmr_exec__run *r,
                                      struct cmr_error *err)
{
	const struct cmr_plan *p = r->a->plan;
	size_t i;
	int error;

	for (i = 0; i < p->parcels.len; i++) {
		const struct cmr_parcel_change *pc = p->parcels.items[i];

		if (pc->nsteps == 0 || pc->steps[0] != CMR_PARCEL_CMD_DOWNLOAD)
			continue;
		if ((error = cmr_exec__stop_check(r, err)) < 0 ||
		    (error = parcel_start(r, pc, CMR_PARCEL_CMD_DOWNLOAD,
		                          err)) < 0)
			return error;
	}
	return 0;
}

int cmr_exec__parcels_run(struct cmr_exec__run *r, bool early,
                          struct cmr_error *err)
{
	const struct cmr_plan *p = r->a->plan;
	size_t i;
	size_t k;
	int error;

	for (i = 0; i < p->parcels.len; i++) {
		const struct cmr_parcel_change *pc = p->parcels.items[i];

		if (!cmr_exec__in_lane(r, pc->cluster))
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

int cmr_exec__refresh_parcel_repos(struct cmr_exec__run *r,
                                   struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf list = CMR_BUF_INIT;
	struct cmr_exec__command cc;
	int error;

	memset(&cc, 0, sizeof(cc));
	if (cmr_api_build_refresh_parcel_repos(&url, r->a->ver) < 0 ||
	    cmr_api_build_active_commands(&list, r->a->ver, NULL, NULL) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	} else {
		cc.phase = "parcel";
		cc.target = "CM";
		cc.url = url.ptr;
		cc.list_url = list.ptr;
		cc.name = "refreshParcelRepos";
		cc.kind = CMR_WAIT_REFRESH;
		error = cmr_exec__run_command(r, &cc, err);
	}
	cmr_buf_release(&url);
	cmr_buf_release(&list);
	return error;
}
