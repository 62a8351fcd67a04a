/*
 * report.c -- run reports and metrics for scheduled plan/apply runs.
 *
 * A drift timer needs three answers from every run, whether it succeeded
 * or not: when it ran and for how long, what drifted (the plan: changes
 * per scope, parcels, restarts), and what happened to it (apply: what was
 * corrected, what was deferred, what failed).  The JSON report answers
 * them for people and scripts; the metrics answer them for Prometheus,
 * with a "last success" time that survives failed runs (it is carried
 * over from the previous metrics file), so an alert can fire on "no
 * successful drift check for 2 hours" as well as on "drift found".
 *
 * Nothing secret is ever in a plan (plan.h), so nothing secret can reach a
 * report: keys are named, values are not written at all.
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/parse.h"

#include "session.h"

static int64_t wall_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void iso_ms(char *out, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32] = "1970-01-01T00:00:00";

	if (gmtime_r(&t, &tm))
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03dZ", base, (int)(ms % 1000));
}

void report_init(struct run_report *r, const char *command)
{
	memset(r, 0, sizeof(*r));
	r->command = command;
	r->started_ms = wall_now_ms();
}

void report_set_error(struct run_report *r, const char *msg)
{
	if (r->error || !msg)
		return;
	snprintf(r->error_buf, sizeof(r->error_buf), "%s", msg);
	r->error = r->error_buf;
}

void report_finish(struct run_report *r, int exit_code)
{
	if (!r->finished) {
		r->ended_ms = wall_now_ms();
		r->finished = true;
	}
	r->exit_code = exit_code;
}

static bool succeeded(const struct run_report *r)
{
	return r->exit_code == 0 || r->exit_code == 2;
}

/* Setting changes of a scope that would be written (not "cannot
 * verify" notes), and the notes. */
static void scope_counts(const struct cmr_scope_change *sc, size_t *changes,
                         size_t *unverified)
{
	size_t i;

	*changes = *unverified = 0;
	for (i = 0; i < sc->changes.len; i++) {
		if (sc->changes.items[i]->secret == CMR_SECRET_UNVERIFIED)
			(*unverified)++;
		else
			(*changes)++;
	}
}

static void json_str_or_null(struct cmr_buf *b, const char *s)
{
	if (s)
		cmr_buf_add_json_str(b, s);
	else
		cmr_buf_adds(b, "null");
}

/* ----------------------------------------------------------------------
 * JSON
 */

/* The drift's "scopes": each changed scope, its counts and its keys. */
static void json_drift_scopes(struct cmr_buf *b, const struct cmr_plan *plan)
{
	struct cmr_buf label = CMR_BUF_INIT;
	size_t i;
	size_t j;
	size_t n;
	size_t u;

	for (i = 0; i < plan->scopes.len; i++) {
		const struct cmr_scope_change *sc = plan->scopes.items[i];

		scope_counts(sc, &n, &u);
		cmr_buf_reset(&label);
		cmr_scope_label(&label, &sc->scope);
		cmr_buf_adds(b, i ? ",{\"scope\":" : "{\"scope\":");
		cmr_buf_add_json_str(b, label.ptr);
		cmr_buf_adds(b, ",\"kind\":");
		cmr_buf_add_json_str(b, cmr_scope_kind_name(sc->scope.kind));
		cmr_buf_addf(b,
		             ",\"settings\":%zu,\"unverified_secrets\":%zu,"
		             "\"keys\":[",
		             n, u);
		for (j = 0; j < sc->changes.len; j++) {
			if (j)
				cmr_buf_addc(b, ',');
			cmr_buf_add_json_str(b, sc->changes.items[j]->key);
		}
		cmr_buf_adds(b, "]}");
	}
	cmr_buf_release(&label);
}

static void json_drift(struct cmr_buf *b, const struct cmr_plan *plan)
{
	struct cmr_plan_summary sum;
	size_t i;
	size_t shown = 0;

	if (!plan) {
		cmr_buf_adds(b, "null");
		return;
	}
	cmr_plan_summarize(&sum, plan);
	cmr_buf_addf(b,
	             "{\"changes\":%zu,\"settings\":%zu,"
	             "\"unverified_secrets\":%zu,\"parcels\":%zu,"
	             "\"restarts\":%zu,\"refreshes\":%zu,"
	             "\"client_configs\":%zu,\"deferred\":%zu,"
	             "\"maintenance\":%zu,\"errors\":%zu,\"warnings\":%zu,"
	             "\"scopes\":[",
	             sum.settings + sum.parcels + sum.restarts, sum.settings,
	             sum.unverified, sum.parcels, sum.restarts, sum.refreshes,
	             sum.client_configs, sum.deferred, sum.maintenance,
	             sum.errors, sum.warnings);
	json_drift_scopes(b, plan);
	cmr_buf_adds(b, "],\"parcel_changes\":[");
	for (i = 0; i < plan->parcels.len; i++) {
		const struct cmr_parcel_change *p = plan->parcels.items[i];

		cmr_buf_adds(b, i ? ",{\"cluster\":" : "{\"cluster\":");
		cmr_buf_add_json_str(b, p->cluster);
		cmr_buf_adds(b, ",\"product\":");
		cmr_buf_add_json_str(b, p->product);
		cmr_buf_adds(b, ",\"version\":");
		cmr_buf_add_json_str(b, p->version);
		cmr_buf_adds(b, ",\"from\":");
		cmr_buf_add_json_str(b, cmr_parcel_stage_name(p->from));
		cmr_buf_adds(b, ",\"to\":");
		cmr_buf_add_json_str(b, cmr_parcel_stage_name(p->to));
		cmr_buf_addc(b, '}');
	}
	cmr_buf_adds(b, "],\"restarts_expected\":[");
	for (i = 0; i < plan->restarts.len; i++) {
		const struct cmr_restart *r = plan->restarts.items[i];

		cmr_buf_adds(b, i ? ",{\"cluster\":" : "{\"cluster\":");
		cmr_buf_add_json_str(b, r->cluster);
		cmr_buf_adds(b, ",\"service\":");
		cmr_buf_add_json_str(b, r->service);
		cmr_buf_adds(b, ",\"action\":");
		cmr_buf_add_json_str(b, cmr_restart_action_name(r->action));
		cmr_buf_addf(b, ",\"maintenance\":%s}",
		             r->maintenance ? "true" : "false");
	}
	cmr_buf_adds(b, "],\"problems\":[");
	for (i = 0, shown = 0; i < plan->notes.len; i++) {
		const struct cmr_note *nt = plan->notes.items[i];

		if (nt->level == CMR_NOTE_INFO)
			continue;
		cmr_buf_adds(b, shown++ ? ",{\"level\":" : "{\"level\":");
		cmr_buf_add_json_str(b, cmr_note_level_name(nt->level));
		cmr_buf_adds(b, ",\"scope\":");
		cmr_buf_add_json_str(b, nt->scope ? nt->scope : "");
		cmr_buf_adds(b, ",\"message\":");
		cmr_buf_add_json_str(b, nt->message ? nt->message : "");
		cmr_buf_addc(b, '}');
	}
	cmr_buf_adds(b, "]}");
}

/* What apply did per cluster: ,"clusters":[{...},...] */
static void json_clusters(struct cmr_buf *b, const struct cmr_exec_report *x)
{
	size_t i;

	cmr_buf_adds(b, ",\"clusters\":[");
	for (i = 0; i < x->nclusters; i++) {
		const struct cmr_exec_cluster_report *c = &x->clusters[i];

		cmr_buf_adds(b, i ? ",{\"cluster\":" : "{\"cluster\":");
		cmr_buf_add_json_str(b, c->cluster ? c->cluster : "");
		cmr_buf_addf(b,
		             ",\"state\":\"%s\",\"writes\":%zu,"
		             "\"commands\":%zu,\"parcel_steps\":%zu,"
		             "\"restarted\":%zu,\"elapsed_ms\":%lld}",
		             cmr_lane_state_name(c->state), c->writes,
		             c->commands, c->parcel_steps, c->restarted,
		             (long long)c->elapsed_ms);
	}
	cmr_buf_addc(b, ']');
}

/* The fields apply --json always had, first, then the common ones. */
static void json_apply_head(struct cmr_buf *b, const struct run_report *r)
{
	static const struct cmr_exec_report none;
	const struct cmr_exec_report *x = r->exec ? r->exec : &none;

	cmr_buf_addf(b,
	             ",\"converged\":%s,\"verified\":%s,"
	             "\"interrupted\":%s,\"writes\":%zu,\"settings\":%zu,"
	             "\"secrets\":%zu,\"secret_records\":%zu,"
	             "\"commands\":%zu,\"parcel_steps\":%zu,"
	             "\"refreshed\":%zu,\"client_configs\":%zu,"
	             "\"restarted\":%zu,\"maintenance\":%zu,\"stopped\":%zu,"
	             "\"deferred\":%zu,"
	             "\"remaining\":%zu,\"elapsed_ms\":%lld,\"lock_id\":",
	             x->converged ? "true" : "false",
	             x->verified ? "true" : "false",
	             x->interrupted ? "true" : "false", x->writes, x->settings,
	             x->secrets, x->secret_records, x->commands,
	             x->parcel_steps, x->refreshed, x->client_configs,
	             x->restarted, x->maintenance, x->stopped, x->deferred,
	             x->remaining, (long long)x->elapsed_ms);
	cmr_buf_add_json_str(b, x->lock_id);
	json_clusters(b, x);
}

int report_json(struct cmr_buf *out, const struct run_report *r)
{
	bool apply = strcmp(r->command, "apply") == 0;
	char started[40];
	char ended[40];
	int64_t end = r->finished ? r->ended_ms : r->started_ms;

	iso_ms(started, sizeof(started), r->started_ms);
	iso_ms(ended, sizeof(ended), end);
	cmr_buf_addf(out, "{\"kind\":\"cmrecon-%s-report\",\"plan_id\":",
	             apply ? "apply" : "plan");
	cmr_buf_add_json_str(out, r->plan && r->plan->plan_id ? r->plan->plan_id
	                                                      : "");
	cmr_buf_addf(out, ",\"exit_code\":%d", r->exit_code);
	if (apply)
		json_apply_head(out, r);
	cmr_buf_addf(out,
	             ",\"format_version\":%d,\"command\":\"%s\","
	             "\"started_at\":\"%s\",\"ended_at\":\"%s\","
	             "\"duration_ms\":%lld,\"failed\":%s,\"cm_url\":",
	             REPORT_FORMAT_VERSION, apply ? "apply" : "plan", started,
	             ended, (long long)(end - r->started_ms),
	             succeeded(r) ? "false" : "true");
	json_str_or_null(out, r->cm_url);
	cmr_buf_adds(out, ",\"error\":");
	if (r->error)
		cmr_buf_add_json_str(out, r->error);
	else if (!succeeded(r))
		cmr_buf_addf(out, "\"exit code %d; the reason is on stderr\"",
		             r->exit_code);
	else
		cmr_buf_adds(out, "null");
	cmr_buf_adds(out, ",\"drift\":");
	json_drift(out, r->plan);
	if (apply) {
		const struct cmr_exec_report *x = r->exec;

		cmr_buf_adds(out, ",\"restart_window\":");
		json_str_or_null(out, r->restart_window[0] ? r->restart_window
		                                           : NULL);
		cmr_buf_adds(out, ",\"restart_window_next\":");
		if (r->window_next_ms > 0) {
			iso_ms(started, sizeof(started), r->window_next_ms);
			cmr_buf_add_json_str(out, started);
		} else {
			cmr_buf_adds(out, "null");
		}
		cmr_buf_adds(out, ",\"corrected\":");
		if (x)
			cmr_buf_addf(
			        out,
			        "{\"settings\":%zu,\"secrets\":%zu,"
			        "\"parcel_steps\":%zu,\"restarts\":%zu,"
			        "\"refreshes\":%zu,\"client_configs\":%zu}",
			        x->settings, x->secrets, x->parcel_steps,
			        x->restarted, x->refreshed, x->client_configs);
		else
			cmr_buf_adds(out, "null");
	}
	cmr_buf_adds(out, "}\n");
	return cmr_buf_error(out);
}

/* ----------------------------------------------------------------------
 * Prometheus text
 */

/* A label value: \ " and newline escaped. */
static void label_value(struct cmr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			cmr_buf_addc(b, '\\');
		if (*s == '\n')
			cmr_buf_adds(b, "\\n");
		else
			cmr_buf_addc(b, *s);
	}
}

static void metric_head(struct cmr_buf *b, const char *name, const char *help)
{
	cmr_buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The last success time the previous file recorded for the command. */
static bool previous_success(double *out, const char *previous,
                             const char *command)
{
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_buf num = CMR_BUF_INIT;
	const char *p = NULL;
	const char *end;
	bool found = false;

	cmr_buf_addf(
	        &key,
	        "\ncmrecon_last_success_timestamp_seconds{command=\"%s\"} ",
	        command);
	if (previous && !cmr_buf_error(&key))
		p = strstr(previous, key.ptr);
	if (p) {
		p += key.len;
		end = strchr(p, '\n');
		cmr_buf_add(&num, p, end ? (size_t)(end - p) : strlen(p));
		found = !cmr_buf_error(&num) &&
		        cmr_parse_double(num.ptr, out) == 0 && *out > 0;
	}
	cmr_buf_release(&key);
	cmr_buf_release(&num);
	return found;
}

static void metrics_drift(struct cmr_buf *b, const struct run_report *r)
{
	const struct cmr_plan *plan = r->plan;
	struct cmr_plan_summary sum;
	struct cmr_buf label = CMR_BUF_INIT;
	size_t i;
	size_t n;
	size_t u;

	cmr_plan_summarize(&sum, plan);
	metric_head(b, "cmrecon_drift",
	            "Differences between the desired state and CM found by "
	            "the last run, by kind.");
	cmr_buf_addf(
	        b,
	        "cmrecon_drift{command=\"%s\",kind=\"settings\"} %zu\n"
	        "cmrecon_drift{command=\"%s\",kind=\"parcels\"} %zu\n"
	        "cmrecon_drift{command=\"%s\",kind=\"restarts\"} %zu\n"
	        "cmrecon_drift{command=\"%s\",kind=\"unverified_secrets\"} "
	        "%zu\n"
	        "cmrecon_drift{command=\"%s\",kind=\"errors\"} %zu\n",
	        r->command, sum.settings, r->command, sum.parcels, r->command,
	        sum.restarts, r->command, sum.unverified, r->command,
	        sum.errors);
	metric_head(b, "cmrecon_drift_total",
	            "Changes found by the last run: settings, parcels and "
	            "restarts together (what --max-changes counts).");
	cmr_buf_addf(b, "cmrecon_drift_total{command=\"%s\"} %zu\n", r->command,
	             sum.settings + sum.parcels + sum.restarts);
	metric_head(b, "cmrecon_drift_scope_settings",
	            "Settings that differ, per configuration scope with "
	            "drift.");
	for (i = 0; i < plan->scopes.len; i++) {
		const struct cmr_scope_change *sc = plan->scopes.items[i];

		scope_counts(sc, &n, &u);
		if (n == 0)
			continue;
		cmr_buf_reset(&label);
		cmr_scope_label(&label, &sc->scope);
		cmr_buf_addf(b,
		             "cmrecon_drift_scope_settings{command=\"%s\","
		             "scope=\"",
		             r->command);
		label_value(b, label.ptr);
		cmr_buf_addf(b, "\",scope_kind=\"%s\"} %zu\n",
		             cmr_scope_kind_name(sc->scope.kind), n);
	}
	cmr_buf_release(&label);
}

/* Per cluster: 1 for the state its lane ended in, 0 for the others. */
static void metrics_clusters(struct cmr_buf *b, const struct cmr_exec_report *x)
{
	size_t i;
	size_t k;

	if (x->nclusters == 0)
		return;
	metric_head(b, "cmrecon_apply_cluster_state",
	            "How the last apply ended on each cluster: 1 for its "
	            "state (done, failed, stopped, not-started).");
	for (i = 0; i < x->nclusters; i++) {
		/* every state of enum cmr_lane_state, in its order */
		for (k = CMR_LANE_NOT_STARTED; k <= CMR_LANE_STOPPED; k++) {
			cmr_buf_adds(b,
			             "cmrecon_apply_cluster_state{cluster=\"");
			label_value(b, x->clusters[i].cluster
			                       ? x->clusters[i].cluster
			                       : "");
			cmr_buf_addf(
			        b, "\",state=\"%s\"} %d\n",
			        cmr_lane_state_name((enum cmr_lane_state)k),
			        x->clusters[i].state == k ? 1 : 0);
		}
	}
}

static void metrics_apply(struct cmr_buf *b, const struct run_report *r)
{
	static const struct cmr_exec_report none;
	const struct cmr_exec_report *x = r->exec ? r->exec : &none;
	static const char *const head[][2] = {
		{ "exit_code", "Exit code of the last apply." },
		{ "converged", "1 when the last apply converged." },
		{ "duration_seconds", "Duration of the last apply." },
		{ "last_run_timestamp_seconds", "When the last apply ended." },
	};
	double values[4];
	size_t i;

	values[0] = r->exit_code;
	values[1] = x->converged ? 1 : 0;
	values[2] = (double)(r->ended_ms - r->started_ms) / 1000.0;
	values[3] = (double)r->ended_ms / 1000.0;
	for (i = 0; i < CMR_ARRAY_SIZE(head); i++)
		cmr_buf_addf(b,
		             "# HELP cmrecon_apply_%s %s\n"
		             "# TYPE cmrecon_apply_%s gauge\n"
		             "cmrecon_apply_%s %.3f\n",
		             head[i][0], head[i][1], head[i][0], head[i][0],
		             values[i]);
	metric_head(b, "cmrecon_apply_changes",
	            "What the last apply did, by kind.");
	cmr_buf_addf(b,
	             "cmrecon_apply_changes{kind=\"settings\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"parcel_steps\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"restarts\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"refreshes\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"client_configs\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"deferred\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"maintenance\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"remaining\"} %zu\n",
	             x->settings, x->parcel_steps, x->restarted, x->refreshed,
	             x->client_configs, x->deferred, x->maintenance,
	             x->remaining);
	metrics_clusters(b, x);
}

int report_metrics(struct cmr_buf *out, const struct run_report *r,
                   const char *previous)
{
	const char *c = r->command;
	double last_ok = 0;
	bool have_ok;

	if (succeeded(r)) {
		last_ok = (double)r->ended_ms / 1000.0;
		have_ok = true;
	} else {
		have_ok = previous_success(&last_ok, previous, c);
	}
	metric_head(out, "cmrecon_exit_code", "Exit code of the last run.");
	cmr_buf_addf(out, "cmrecon_exit_code{command=\"%s\"} %d\n", c,
	             r->exit_code);
	metric_head(out, "cmrecon_last_run_timestamp_seconds",
	            "When the last run ended (Unix time).");
	cmr_buf_addf(out,
	             "cmrecon_last_run_timestamp_seconds{command=\"%s\"} "
	             "%.3f\n",
	             c, (double)r->ended_ms / 1000.0);
	if (have_ok) {
		metric_head(out, "cmrecon_last_success_timestamp_seconds",
		            "When a run last succeeded: exit code 0 or 2 (Unix "
		            "time).");
		cmr_buf_addf(out,
		             "cmrecon_last_success_timestamp_seconds{command="
		             "\"%s\"} %.3f\n",
		             c, last_ok);
	}
	metric_head(out, "cmrecon_run_duration_seconds",
	            "Duration of the last run.");
	cmr_buf_addf(out, "cmrecon_run_duration_seconds{command=\"%s\"} %.3f\n",
	             c, (double)(r->ended_ms - r->started_ms) / 1000.0);
	if (r->plan)
		metrics_drift(out, r);
	if (strcmp(c, "apply") == 0)
		metrics_apply(out, r);
	return cmr_buf_error(out);
}

/* ----------------------------------------------------------------------
 * Files
 */

/*
 * Like session_write_file (temporary file, fsync, rename), but mode 0644:
 * node_exporter's textfile collector usually runs as another user and
 * must be able to read the metrics.  They hold counts and names, no
 * values.
 */
static int write_public(const char *path, const char *data, size_t len)
{
	return session_write_file_mode(path, data, len, 0644);
}

/* The previous metrics file (at most 1 MiB), or nothing. */
static void read_previous(struct cmr_buf *out, const char *path)
{
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (!f)
		return;
	cmr_buf_addc(out, '\n'); /* so the first line matches "\nname" */
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 &&
	       out->len < ((size_t)1 << 20))
		cmr_buf_add(out, chunk, n);
	fclose(f);
}

int report_write(struct run_report *r, const char *json_file,
                 const char *metrics_file)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_buf prev = CMR_BUF_INIT;
	int rc = 0;

	if (!r->finished)
		report_finish(r, r->exit_code);
	if (json_file) {
		if (report_json(&b, r) < 0) {
			cli_error("writing the report: out of memory");
			rc = CLI_EXIT_ERROR;
		} else if (session_write_file(json_file, b.ptr, b.len) != 0) {
			rc = CLI_EXIT_ERROR;
		}
	}
	if (metrics_file) {
		cmr_buf_reset(&b);
		read_previous(&prev, metrics_file);
		if (report_metrics(&b, r,
		                   cmr_buf_error(&prev) ? NULL : prev.ptr) <
		    0) {
			cli_error("writing the metrics: out of memory");
			rc = CLI_EXIT_ERROR;
		} else if (write_public(metrics_file, b.ptr, b.len) != 0) {
			rc = CLI_EXIT_ERROR;
		}
	}
	cmr_buf_release(&b);
	cmr_buf_release(&prev);
	return rc;
}
