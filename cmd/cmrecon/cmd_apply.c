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
#include <stdatomic.h>
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
#include "cmr/window.h"

#include "report.h"
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
	struct cmr_window restart_window; /* --restart-window, local time */
	struct arg_list files;
};

/* Set by the SIGINT handler, read by the executor's threads: a lock-free
 * atomic, which (unlike volatile sig_atomic_t) may be shared by threads. */
static atomic_int got_sigint;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "a signal handler may only store to a lock-free atomic");

static void on_sigint(int sig)
{
	int saved = errno;

	(void)sig;
	got_sigint = 1;
	errno = saved;
}

static int need_value(int *i, int argc, char **argv, const char **out)
{
	if (*i + 1 >= argc)
		return cli_usage_error("'%s' needs a value", argv[*i]);
	*out = argv[++*i];
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
			if (cmr_window_parse(&a->restart_window, v, &err) < 0)
				return cli_usage_error("--restart-window: %s",
				                       err.msg);
			a->window = true;
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

		cmr_buf_addc(&b, '{');
		cmr_exec_event_json(&b, ev);
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
		/* A live status line, overwritten by the next event; with
		 * several clusters at once, it names the cluster. */
		cmr_format_duration(el, sizeof(el), ev->elapsed_ms);
		fprintf(stderr, "\r\033[K[%6s] %.60s%s%.120s", el, ev->target,
		        ev->target[0] ? ": " : "", ev->message);
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
 * Compares the saved plan's fingerprints with fresh ones -- the scopes
 * it read, and the secrets it writes (resolved again now) -- and returns 0
 * or CLI_EXIT_STALE naming the first that moved.
 */
static int check_fresh(const struct cmr_plan *saved,
                       const struct cmr_state *desired,
                       const struct cmr_state *live,
                       const struct cmr_plan_options *popt)
{
	struct cmr_plan *now = NULL;
	struct cmr_error err = CMR_ERROR_INIT;
	bool secrets = false;
	size_t i, j;
	int rc = CLI_EXIT_ERROR;

	/* A plan made without CMRECON_HMAC_KEY has no secret fingerprints:
	 * its secrets cannot be checked, so none are computed now. */
	for (i = 0; i < saved->fingerprints.len; i++)
		if (strncmp(saved->fingerprints.items[i]->scope,
		            "secret:", 7) == 0)
			secrets = true;
	if (cmr_plan_new(&now, &err) < 0 ||
	    cmr_plan_fingerprint(now, desired, live, &err) < 0 ||
	    (secrets &&
	     cmr_plan_secret_fingerprints(now, saved, popt, &err) < 0)) {
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
		if (!g && strncmp(f->scope, "secret:", 7) == 0) {
			cli_error("the saved plan is stale: it was made with "
			          "CMRECON_HMAC_KEY and the secret for '%s' "
			          "cannot be checked without it",
			          f->scope + 7);
			rc = CLI_EXIT_STALE;
			goto done;
		}
		if (!g || strcmp(g->sha256, f->sha256) != 0) {
			if (strncmp(f->scope, "secret:", 7) == 0)
				cli_error("the saved plan is stale: the secret "
				          "for '%s' changed since the plan was "
				          "made; make a new plan",
				          f->scope + 7);
			else
				cli_error("the saved plan is stale: '%s' %s in "
				          "CM since the plan was made; make a "
				          "new plan",
				          f->scope,
				          g ? "changed" : "disappeared");
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

/*
 * Restarts were deferred by --restart-window: say when the window opens
 * next (local time), on stderr and in the report.
 */
static void note_window(struct run_report *rr, const struct cmr_window *w,
                        const struct cli_globals *g)
{
	char when[64] = "";
	time_t next;
	struct tm tm;

	if (!cmr_window_next(&next, w, time(NULL)))
		return;
	rr->window_next_ms = (int64_t)next * 1000;
	if (localtime_r(&next, &tm))
		strftime(when, sizeof(when), "%a %Y-%m-%d %H:%M %Z", &tm);
	if (g->verbosity >= 0)
		fprintf(stderr,
		        "cmrecon: note: restarts deferred outside "
		        "--restart-window '%s' (local time); it opens next at "
		        "%s\n",
		        rr->restart_window, when);
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
	struct run_report rr;
	bool planfile = false, handler = false, parsed = false;
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
	report_init(&rr, "apply");
	if ((rc = parse_args(&a, argc, argv)) != 0)
		goto done;
	parsed = true;
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
			report_set_error(&rr, err.msg);
			rc = CLI_EXIT_ERROR;
			goto done;
		}
		session_plan_options(&s, &popt);
		if ((rc = check_fresh(plan, s.desired, live, &popt)) != 0)
			goto done;
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
			report_set_error(&rr, err.msg);
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
		rr.plan = plan;
		rr.cm_url = s.url;
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
	rr.plan = plan;
	rr.cm_url = s.url;
	cmr_plan_summarize(&sum, plan);
	if (sum.errors) {
		cli_error("the plan has %zu error%s; fix the desired state "
		          "before applying",
		          sum.errors, sum.errors == 1 ? "" : "s");
		report_set_error(&rr, "the plan has errors; nothing was "
		                      "applied");
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if (!cmr_plan_has_changes(plan)) {
		/* Nothing to do is a converged apply (and a report). */
		rep.converged = true;
		rr.exec = &rep;
		report_finish(&rr, CLI_EXIT_OK);
		if (a.json) {
			cmr_buf_reset(&out);
			report_json(&out, &rr);
			fwrite(out.ptr, 1, out.len, stdout);
		} else if (g->verbosity >= 0) {
			fprintf(stderr, "No changes: CM already matches; "
			                "nothing to apply.\n");
		}
		rc = CLI_EXIT_OK;
		goto done;
	}
	if (a.max_changes >= 0 && (int64_t)(sum.settings + sum.parcels +
	                                    sum.restarts) > a.max_changes) {
		char why[160];

		snprintf(why, sizeof(why),
		         "the plan has %zu changes, more than --max-changes "
		         "%lld; refusing",
		         sum.settings + sum.parcels + sum.restarts,
		         (long long)a.max_changes);
		cli_error("%s", why);
		report_set_error(&rr, why);
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
		eopt.window = &a.restart_window;
		cmr_window_format(rr.restart_window, sizeof(rr.restart_window),
		                  &a.restart_window);
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
	rr.exec = &rep;
	if (a.window && rep.deferred)
		note_window(&rr, &a.restart_window, g);
	if (error < 0) {
		cli_error("%s", err.msg);
		report_set_error(&rr, err.msg);
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
	report_finish(&rr, rc);
	report_json(&out, &rr);
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
done:
	/* Every run that got past its arguments reports, failures too: a
	 * scheduled run's monitoring needs those most. */
	if (parsed && (a.report_file || a.metrics_file)) {
		report_finish(&rr, rc);
		if (report_write(&rr, a.report_file, a.metrics_file) != 0 &&
		    rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
	}
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
