/*
 * cmd_apply.c -- `cmrecon apply FILE... | PLANFILE`: make CM match.
 *
 * Two ways in:
 *   - desired-state files: load, read live, plan, print the plan, ask on a
 *     TTY (or need --yes), apply;
 *   - a saved plan (recognised by content, cmr_planfile_detect): read live
 *     state again, recompute the fingerprints of every scope the plan read
 *     and refuse (exit 3) if any moved, then apply exactly that plan.
 * An empty plan takes no lock and writes nothing (exit 0).
 *
 * Progress: one line per event on stderr (waits only with -v); with --json
 * one JSON object per event on stdout, then the final report.  Ctrl-C
 * stops new steps; CM keeps running what it started; the lock is released
 * and the journal kept.
 *
 * Exit codes (DESIGN.md): 0 converged; 1 error / failed / not converged /
 * interrupted; 2 finished with restarts deferred by choice; 3 saved plan
 * stale; 4 lock held, --max-changes exceeded, or no TTY and no --yes;
 * 64 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"
#include "cmr/client.h"
#include "cmr/exec.h"
#include "cmr/parse.h"
#include "cmr/planfile.h"
#include "cmr/render.h"
#include "cmr/vec.h"

#include "session.h"

/* The file arguments (a named type: see lib/exec/exec_int.h). */
struct arg_list {
	char **items;
	size_t len, alloc;
};

struct apply_args {
	bool yes, json, no_restart, accept_concerning, force_secrets;
	int64_t timeout_ms;
	int64_t max_changes; /* -1: no limit */
	const char *report_file;
	const char *metrics_file;
	bool window;
	int window_start, window_end; /* minutes after midnight, UTC */
	struct arg_list files;
};

static volatile sig_atomic_t got_sigint;

static void on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
}

static int need_value(int *i, int argc, char **argv, const char **out)
{
	if (*i + 1 >= argc)
		return cli_usage_error("'%s' needs a value", argv[*i]);
	*out = argv[++*i];
	return 0;
}

/* "HH:MM" -> minutes after midnight, or -1. */
static int parse_hhmm(const char *s, size_t len)
{
	int h, m;

	if (len != 5 || s[2] != ':' || s[0] < '0' || s[0] > '9' || s[1] < '0' ||
	    s[1] > '9' || s[3] < '0' || s[3] > '9' || s[4] < '0' || s[4] > '9')
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	return h > 24 || m > 59 || (h == 24 && m) ? -1 : h * 60 + m;
}

/* --restart-window HH:MM-HH:MM, UTC; may wrap midnight (22:00-04:00). */
static int parse_window(struct apply_args *a, const char *v)
{
	const char *dash = strchr(v, '-');

	if (!dash)
		return -1;
	a->window_start = parse_hhmm(v, (size_t)(dash - v));
	a->window_end = parse_hhmm(dash + 1, strlen(dash + 1));
	if (a->window_start < 0 || a->window_end < 0 ||
	    a->window_start == a->window_end)
		return -1;
	a->window = true;
	return 0;
}

static int parse_args(struct apply_args *a, int argc, char **argv)
{
	struct cmr_error err = CMR_ERROR_INIT;
	const char *v;
	bool rest = false;
	int i, rc;

	a->max_changes = -1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!rest && strcmp(arg, "--") == 0) {
			rest = true;
		} else if (rest || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (cmr_vec_push(&a->files, argv[i]) < 0)
				return CLI_EXIT_ERROR;
		} else if (strcmp(arg, "--yes") == 0 ||
		           strcmp(arg, "-y") == 0) {
			a->yes = true;
		} else if (strcmp(arg, "--json") == 0) {
			a->json = true;
		} else if (strcmp(arg, "--no-restart") == 0) {
			a->no_restart = true;
		} else if (strcmp(arg, "--accept-concerning") == 0) {
			a->accept_concerning = true;
		} else if (strcmp(arg, "--force-secrets") == 0) {
			a->force_secrets = true;
		} else if (strcmp(arg, "--timeout") == 0) {
			if ((rc = need_value(&i, argc, argv, &v)) != 0)
				return rc;
			if (cmr_parse_duration_ms(v, &a->timeout_ms, &err) < 0)
				return cli_usage_error("--timeout '%s': %s", v,
				                       err.msg);
		} else if (strcmp(arg, "--max-changes") == 0) {
			if ((rc = need_value(&i, argc, argv, &v)) != 0)
				return rc;
			if (cmr_parse_i64(v, &a->max_changes) < 0 ||
			    a->max_changes < 0)
				return cli_usage_error("--max-changes '%s': "
				                       "expected a count",
				                       v);
		} else if (strcmp(arg, "--report") == 0) {
			if ((rc = need_value(&i, argc, argv, &v)) != 0)
				return rc;
			a->report_file = v;
		} else if (strcmp(arg, "--metrics") == 0) {
			if ((rc = need_value(&i, argc, argv, &v)) != 0)
				return rc;
			a->metrics_file = v;
		} else if (strcmp(arg, "--restart-window") == 0) {
			if ((rc = need_value(&i, argc, argv, &v)) != 0)
				return rc;
			if (parse_window(a, v) < 0)
				return cli_usage_error("--restart-window '%s': "
				                       "expected HH:MM-HH:MM "
				                       "(UTC)",
				                       v);
		} else {
			return cli_usage_error("unknown option '%s' for "
			                       "'apply'",
			                       arg);
		}
	}
	if (a->files.len == 0)
		return cli_usage_error("'apply' needs desired-state files or "
		                       "a plan file");
	return 0;
}

/* ----------------------------------------------------------------------
 * Progress
 */

struct progress {
	const struct cli_globals *g;
	bool json;
	bool tty;       /* stderr is a terminal: waits on one live line */
	bool live_line; /* that line is showing */
};

static void on_event(const struct cmr_exec_event *ev, void *ud)
{
	struct progress *p = ud;
	char el[32];

	if (p->json) {
		struct cmr_buf b = CMR_BUF_INIT;

		cmr_buf_adds(&b, "{\"event\":");
		cmr_buf_add_json_str(&b, cmr_exec_event_name(ev->kind));
		cmr_buf_adds(&b, ",\"phase\":");
		cmr_buf_add_json_str(&b, ev->phase);
		cmr_buf_adds(&b, ",\"target\":");
		cmr_buf_add_json_str(&b, ev->target);
		if (ev->command_id >= 0)
			cmr_buf_addf(&b, ",\"command_id\":%lld",
			             (long long)ev->command_id);
		cmr_buf_addf(&b, ",\"elapsed_ms\":%lld,\"message\":",
		             (long long)ev->elapsed_ms);
		cmr_buf_add_json_str(&b, ev->message);
		cmr_buf_adds(&b, "}\n");
		if (!cmr_buf_error(&b) &&
		    (ev->kind != CMR_EXEC_EV_WAIT || p->g->verbosity > 0)) {
			fwrite(b.ptr, 1, b.len, stdout);
			fflush(stdout);
		}
		cmr_buf_release(&b);
		return;
	}
	if (ev->kind == CMR_EXEC_EV_WAIT && p->tty && p->g->verbosity >= 0) {
		/* A live status line, overwritten by the next event. */
		cmr_format_duration(el, sizeof(el), ev->elapsed_ms);
		fprintf(stderr, "\r\033[K[%6s] %.140s", el, ev->message);
		fflush(stderr);
		p->live_line = true;
		return;
	}
	if (p->live_line) {
		fputs("\r\033[K", stderr);
		p->live_line = false;
	}
	if (ev->kind == CMR_EXEC_EV_WAIT && p->g->verbosity <= 0)
		return;
	if (p->g->verbosity < 0 && ev->kind != CMR_EXEC_EV_WARN &&
	    ev->kind != CMR_EXEC_EV_FAIL)
		return;
	cmr_format_duration(el, sizeof(el), ev->elapsed_ms);
	fprintf(stderr, "[%6s] %-13s %s%s%s%s\n", el, ev->phase, ev->target,
	        ev->target[0] ? ": " : "",
	        ev->kind == CMR_EXEC_EV_WARN   ? "warning: "
	        : ev->kind == CMR_EXEC_EV_FAIL ? "FAILED: "
	        : ev->kind == CMR_EXEC_EV_SKIP ? "skipped: "
	                                       : "",
	        ev->message);
	if (ev->command_id >= 0 && p->g->verbosity > 0)
		fprintf(stderr, "         (CM command %lld)\n",
		        (long long)ev->command_id);
}

/* ----------------------------------------------------------------------
 * Plan files
 */

static int read_whole(const char *path, struct cmr_buf *out)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f) {
		if (errno == ENOENT) {
			cli_error("'%s': no such file", path);
			return CLI_EXIT_USAGE;
		}
		cli_error("cannot read '%s': %s", path, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (cmr_buf_add(out, chunk, n) < 0 ||
		    out->len > CMR_PLANFILE_MAX_SIZE)
			break;
	}
	fclose(f);
	return 0;
}

/*
 * Compares the saved plan's fingerprints with fresh ones; returns 0 or
 * CLI_EXIT_STALE naming the first scope that moved.
 */
static int check_fresh(const struct cmr_plan *saved,
                       const struct cmr_state *desired,
                       const struct cmr_state *live)
{
	struct cmr_plan *now = NULL;
	struct cmr_error err = CMR_ERROR_INIT;
	size_t i, j;
	int rc = CLI_EXIT_ERROR;

	if (cmr_plan_new(&now, &err) < 0 ||
	    cmr_plan_fingerprint(now, desired, live, &err) < 0) {
		cli_error("%s", err.msg);
		goto done;
	}
	for (i = 0; i < saved->fingerprints.len; i++) {
		const struct cmr_fingerprint *f = saved->fingerprints.items[i];
		const struct cmr_fingerprint *g = NULL;

		for (j = 0; j < now->fingerprints.len; j++)
			if (strcmp(now->fingerprints.items[j]->scope,
			           f->scope) == 0)
				g = now->fingerprints.items[j];
		if (!g || strcmp(g->sha256, f->sha256) != 0) {
			cli_error("the saved plan is stale: '%s' %s in CM "
			          "since the plan was made; make a new plan",
			          f->scope, g ? "changed" : "disappeared");
			rc = CLI_EXIT_STALE;
			goto done;
		}
	}
	if (now->fingerprints.len != saved->fingerprints.len) {
		cli_error("the saved plan is stale: CM has scopes the plan "
		          "did not read; make a new plan");
		rc = CLI_EXIT_STALE;
		goto done;
	}
	rc = 0;
done:
	cmr_plan_free(now);
	return rc;
}

/* ----------------------------------------------------------------------
 * Report
 */

static void report_json(struct cmr_buf *b, const struct cmr_plan *plan,
                        const struct cmr_exec_report *r, int rc,
                        const char *error)
{
	cmr_buf_adds(b, "{\"kind\":\"cmrecon-apply-report\",\"plan_id\":");
	cmr_buf_add_json_str(b, plan && plan->plan_id ? plan->plan_id : "");
	cmr_buf_addf(b,
	             ",\"exit_code\":%d,\"converged\":%s,\"verified\":%s,"
	             "\"interrupted\":%s,\"writes\":%zu,\"settings\":%zu,"
	             "\"secrets\":%zu,\"secret_records\":%zu,"
	             "\"commands\":%zu,\"parcel_steps\":%zu,"
	             "\"refreshed\":%zu,\"client_configs\":%zu,"
	             "\"restarted\":%zu,\"maintenance\":%zu,\"stopped\":%zu,"
	             "\"deferred\":%zu,"
	             "\"remaining\":%zu,\"elapsed_ms\":%lld,\"lock_id\":",
	             rc, r->converged ? "true" : "false",
	             r->verified ? "true" : "false",
	             r->interrupted ? "true" : "false", r->writes, r->settings,
	             r->secrets, r->secret_records, r->commands,
	             r->parcel_steps, r->refreshed, r->client_configs,
	             r->restarted, r->maintenance, r->stopped, r->deferred,
	             r->remaining, (long long)r->elapsed_ms);
	cmr_buf_add_json_str(b, r->lock_id);
	cmr_buf_adds(b, ",\"error\":");
	if (error)
		cmr_buf_add_json_str(b, error);
	else
		cmr_buf_adds(b, "null");
	cmr_buf_adds(b, "}\n");
}

/*
 * The report as Prometheus text exposition (node_exporter's textfile
 * collector), for monitoring scheduled applies.
 */
static void report_metrics(struct cmr_buf *b, const struct cmr_exec_report *r,
                           int rc)
{
	static const char *const head[][2] = {
		{ "exit_code", "Exit code of the last apply." },
		{ "converged", "1 when the last apply converged." },
		{ "duration_seconds", "Duration of the last apply." },
		{ "last_run_timestamp_seconds", "When the last apply ended." },
	};
	struct timespec ts;
	double values[4];
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	values[0] = rc;
	values[1] = r->converged ? 1 : 0;
	values[2] = (double)r->elapsed_ms / 1000.0;
	values[3] = (double)ts.tv_sec;
	for (i = 0; i < CMR_ARRAY_SIZE(head); i++)
		cmr_buf_addf(b,
		             "# HELP cmrecon_apply_%s %s\n"
		             "# TYPE cmrecon_apply_%s gauge\n"
		             "cmrecon_apply_%s %.3f\n",
		             head[i][0], head[i][1], head[i][0], head[i][0],
		             values[i]);
	cmr_buf_adds(b, "# HELP cmrecon_apply_changes What the last apply "
	                "did, by kind.\n"
	                "# TYPE cmrecon_apply_changes gauge\n");
	cmr_buf_addf(b,
	             "cmrecon_apply_changes{kind=\"settings\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"parcel_steps\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"restarts\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"refreshes\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"client_configs\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"deferred\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"maintenance\"} %zu\n"
	             "cmrecon_apply_changes{kind=\"remaining\"} %zu\n",
	             r->settings, r->parcel_steps, r->restarted, r->refreshed,
	             r->client_configs, r->deferred, r->maintenance,
	             r->remaining);
}

static int confirm(const struct apply_args *a)
{
	char line[32];

	if (a->yes)
		return 0;
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		cli_error("refusing to apply without confirmation: no "
		          "terminal to ask on; pass --yes");
		return CLI_EXIT_REFUSED;
	}
	fputs("Apply these changes? [y/N] ", stderr);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin) ||
	    (strcmp(line, "y\n") != 0 && strcmp(line, "yes\n") != 0 &&
	     strcmp(line, "Y\n") != 0)) {
		cli_error("apply cancelled; nothing was changed");
		return CLI_EXIT_REFUSED;
	}
	return 0;
}

static int journal_path(struct cmr_buf *out, const struct cmr_plan *plan)
{
	struct cmr_buf dir = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	size_t i;
	int rc = -1, error;

	if (cmr_exec_journal_dir(&dir, &err) < 0)
		goto done;
	/* mkdir -p, mode 0700: the journal names hosts and services. */
	for (i = 1; i <= dir.len; i++) {
		char c = dir.ptr[i];

		if (c != '/' && c != '\0')
			continue;
		dir.ptr[i] = '\0';
		error = mkdir(dir.ptr, 0700) < 0 && errno != EEXIST;
		dir.ptr[i] = c;
		if (error)
			goto done;
	}
	cmr_buf_addf(out, "%s/%s.journal", dir.ptr,
	             plan->plan_id ? plan->plan_id : "plan");
	rc = cmr_buf_error(out);
done:
	cmr_buf_release(&dir);
	return rc;
}

static int exit_code(int error, const struct cmr_exec_report *r)
{
	if (error == CMR_ECONFLICT || error == CMR_EREFUSED)
		return CLI_EXIT_REFUSED;
	if (error < 0)
		return CLI_EXIT_ERROR;
	if (r->verified && !r->converged)
		return CLI_EXIT_ERROR;
	if (r->deferred || r->maintenance || r->stopped)
		return CLI_EXIT_CHANGES;
	return CLI_EXIT_OK;
}

/* ----------------------------------------------------------------------
 * The command
 */

int cmd_apply(int argc, char **argv, const struct cli_globals *g)
{
	struct apply_args a;
	struct session s;
	struct cmr_state *live = NULL;
	struct cmr_params *params = NULL;
	struct cmr_plan *plan = NULL;
	struct cmr_plan_options popt;
	struct cmr_exec_options eopt;
	struct cmr_exec_report rep;
	struct cmr_render_options ropt;
	struct cmr_plan_summary sum;
	struct cmr_buf text = CMR_BUF_INIT, out = CMR_BUF_INIT;
	struct cmr_buf jpath = CMR_BUF_INIT, holder = CMR_BUF_INIT;
	struct cmr_error err = CMR_ERROR_INIT;
	struct progress prog;
	struct sigaction sa, old_sa;
	bool planfile = false, handler = false;
	char ver[16], host[256];
	const char *user;
	int rc, error;

	memset(&a, 0, sizeof(a));
	memset(&s, 0, sizeof(s));
	memset(&popt, 0, sizeof(popt));
	memset(&eopt, 0, sizeof(eopt));
	memset(&rep, 0, sizeof(rep));
	memset(&ropt, 0, sizeof(ropt));
	s.g = g;
	if ((rc = parse_args(&a, argc, argv)) != 0)
		goto done;
	if (a.files.len == 1) {
		if ((rc = read_whole(a.files.items[0], &text)) != 0)
			goto done;
		planfile = cmr_planfile_detect(text.ptr, text.len);
	}

	if (planfile) {
		if (cmr_planfile_read(&plan, text.ptr, text.len, &err) < 0) {
			cli_error("'%s': %s", a.files.items[0], err.msg);
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		if (cmr_exec_desired_from_plan(&s.desired, plan, &err) < 0) {
			cli_error("'%s': %s", a.files.items[0], err.msg);
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		s.desired->manager.url = plan->cm_url;
		if ((rc = session_connect(&s)) != 0)
			goto done;
		if (plan->cm_url && strcmp(plan->cm_url, s.url) != 0) {
			cli_error("the plan was made against %s, not %s; "
			          "refusing to apply it here",
			          plan->cm_url, s.url);
			rc = CLI_EXIT_STALE;
			goto done;
		}
		if (cmr_api_read_live(&live, &params, s.client, s.desired, NULL,
		                      &err) < 0) {
			cli_error("reading the live state from %s: %s", s.url,
			          err.msg);
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		if ((rc = check_fresh(plan, s.desired, live)) != 0)
			goto done;
		session_plan_options(&s, &popt);
		popt.targets = (const char *const *)plan->targets.items;
		popt.ntargets = plan->targets.len;
	} else {
		if ((rc = session_load(&s, a.files.items, (int)a.files.len)) !=
		            0 ||
		    (rc = session_connect(&s)) != 0)
			goto done;
		if (cmr_api_read_live(&live, &params, s.client, s.desired, NULL,
		                      &err) < 0) {
			cli_error("reading the live state from %s: %s", s.url,
			          err.msg);
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		session_plan_options(&s, &popt);
		snprintf(ver, sizeof(ver), "v%u",
		         cmr_client_api_version(s.client));
		popt.api_version = ver;
	}
	popt.flags = a.force_secrets ? CMR_PLAN_FORCE_SECRETS : 0;
	if (!planfile) {
		if (cmr_plan_build(&plan, s.desired, live, params, &popt,
		                   &err) < 0) {
			cli_error("%s", err.msg);
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		if (session_stamp_plan(plan)) {
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		if (!a.json) {
			ropt.color = g->color;
			ropt.title = "cmrecon apply";
			if (cmr_render_plan_text(&out, plan, &ropt, &err) < 0) {
				cli_error("rendering the plan: %s", err.msg);
				rc = CLI_EXIT_ERROR;
				goto done;
			}
			fwrite(out.ptr, 1, out.len, stdout);
			fflush(stdout);
		}
	}
	cmr_plan_summarize(&sum, plan);
	if (sum.errors) {
		cli_error("the plan has %zu error%s; fix the desired state "
		          "before applying",
		          sum.errors, sum.errors == 1 ? "" : "s");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if (!cmr_plan_has_changes(plan)) {
		if (a.json)
			printf("{\"kind\":\"cmrecon-apply-report\","
			       "\"exit_code\":0,\"converged\":true,"
			       "\"writes\":0,\"commands\":0}\n");
		else if (g->verbosity >= 0)
			fprintf(stderr, "No changes: CM already matches; "
			                "nothing to apply.\n");
		rc = CLI_EXIT_OK;
		goto done;
	}
	if (a.max_changes >= 0 && (int64_t)(sum.settings + sum.parcels +
	                                    sum.restarts) > a.max_changes) {
		cli_error("the plan has %zu changes, more than --max-changes "
		          "%lld; refusing",
		          sum.settings + sum.parcels + sum.restarts,
		          (long long)a.max_changes);
		rc = CLI_EXIT_REFUSED;
		goto done;
	}
	if ((rc = confirm(&a)) != 0)
		goto done;
	if (a.json)
		printf("{\"event\":\"plan\",\"plan_id\":\"%s\",\"settings\":%zu,"
		       "\"parcels\":%zu,\"restarts\":%zu,\"refreshes\":%zu,"
		       "\"client_configs\":%zu,\"deferred\":%zu}\n",
		       plan->plan_id ? plan->plan_id : "", sum.settings,
		       sum.parcels, sum.restarts, sum.refreshes,
		       sum.client_configs, sum.deferred);

	/* Ctrl-C: stop starting steps; the executor notices the flag. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	got_sigint = 0;
	handler = sigaction(SIGINT, &sa, &old_sa) == 0;

	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "unknown");
	host[sizeof(host) - 1] = '\0';
	user = getenv("USER");
	cmr_buf_addf(&holder, "%s@%s", user && *user ? user : "cmrecon", host);
	memset(&prog, 0, sizeof(prog));
	prog.g = g;
	prog.json = a.json;
	prog.tty = isatty(STDERR_FILENO) != 0;
	eopt.flags = (a.no_restart ? CMR_EXEC_NO_RESTART : 0) |
	             (a.accept_concerning ? CMR_EXEC_ACCEPT_CONCERNING : 0);
	if (a.window) {
		eopt.flags |= CMR_EXEC_RESTART_WINDOW;
		eopt.window_start = a.window_start;
		eopt.window_end = a.window_end;
	}
	eopt.timeout_ms = a.timeout_ms;
	eopt.change_ref = getenv("CMRECON_CHANGE_REF");
	eopt.desired = s.desired;
	eopt.plan_opt = &popt;
	eopt.holder = holder.ptr;
	eopt.host = host;
	eopt.journal_path = journal_path(&jpath, plan) == 0 ? jpath.ptr : NULL;
	eopt.interrupted = &got_sigint;
	eopt.progress = on_event;
	eopt.progress_ud = &prog;
	eopt.logger = &g->logger;
	/* (A secret written without CMRECON_HMAC_KEY gets its own warning
	 * from the executor: it cannot be recorded.) */
	error = cmr_exec_apply(&rep, plan, s.client, &eopt, &err);
	if (prog.live_line)
		fputs("\r\033[K", stderr);
	rc = exit_code(error, &rep);
	if (error < 0) {
		cli_error("%s", err.msg);
		if ((rep.commands || rep.parcel_steps) &&
		    error != CMR_ECONFLICT)
			fprintf(stderr,
			        "cmrecon: note: commands already started in CM "
			        "keep running; the journal is %s\n",
			        eopt.journal_path ? eopt.journal_path
			                          : "not available");
	} else if (rep.verified && !rep.converged) {
		cli_error("apply finished but CM did not converge: %zu "
		          "change%s remain (run `cmrecon plan` to see them)",
		          rep.remaining, rep.remaining == 1 ? "" : "s");
	}
	cmr_buf_reset(&out);
	report_json(&out, plan, &rep, rc, error < 0 ? err.msg : NULL);
	if (a.json) {
		fwrite(out.ptr, 1, out.len, stdout);
	} else if (g->verbosity >= 0) {
		printf("Apply %s: %zu setting%s in %zu write%s, %zu parcel "
		       "step%s, %zu restart%s, %zu refresh%s, %zu client "
		       "config%s, %zu deferred, %zu in maintenance, %zu "
		       "stopped.\n",
		       error < 0 ? "stopped" : "complete", rep.settings,
		       rep.settings == 1 ? "" : "s", rep.writes,
		       rep.writes == 1 ? "" : "s", rep.parcel_steps,
		       rep.parcel_steps == 1 ? "" : "s", rep.restarted,
		       rep.restarted == 1 ? "" : "s", rep.refreshed,
		       rep.refreshed == 1 ? "" : "es", rep.client_configs,
		       rep.client_configs == 1 ? "" : "s", rep.deferred,
		       rep.maintenance, rep.stopped);
	}
	fflush(stdout);
	if (a.report_file &&
	    session_write_file(a.report_file, out.ptr, out.len) != 0 &&
	    rc == CLI_EXIT_OK)
		rc = CLI_EXIT_ERROR;
	if (a.metrics_file) {
		cmr_buf_reset(&out);
		report_metrics(&out, &rep, rc);
		if ((cmr_buf_error(&out) ||
		     session_write_file(a.metrics_file, out.ptr, out.len) !=
		             0) &&
		    rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
	}
done:
	if (handler)
		sigaction(SIGINT, &old_sa, NULL);
	cmr_buf_release(&text);
	cmr_buf_release(&out);
	cmr_buf_release(&jpath);
	cmr_buf_release(&holder);
	cmr_plan_free(plan);
	cmr_params_free(params);
	cmr_state_free(live);
	session_release(&s);
	cmr_vec_release(&a.files);
	return rc;
}
