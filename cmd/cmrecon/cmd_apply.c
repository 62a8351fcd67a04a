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
#include <sys/ioctl.h>
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
	bool yes;
	bool json;
	bool no_restart;
	bool accept_concerning;
	bool force_secrets;
	int64_t timeout_ms;
	int64_t max_changes; /* -1: no limit */
	unsigned parallel;   /* --parallel; 0: the default */
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

/* A flag (an option without a value): set in *a; false when arg is none. */
static bool flag_option(struct apply_args *a, const char *arg)
{
	if (strcmp(arg, "--yes") == 0 || strcmp(arg, "-y") == 0)
		a->yes = true;
	else if (strcmp(arg, "--json") == 0)
		a->json = true;
	else if (strcmp(arg, "--no-restart") == 0)
		a->no_restart = true;
	else if (strcmp(arg, "--accept-concerning") == 0)
		a->accept_concerning = true;
	else if (strcmp(arg, "--force-secrets") == 0)
		a->force_secrets = true;
	else
		return false;
	return true;
}

/* The options that take a value (the next argument). */
static const char *const value_options[] = {
	"--timeout", "--max-changes",    "--report",
	"--metrics", "--restart-window", "--parallel"
};

static bool takes_value(const char *arg)
{
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(value_options); i++)
		if (strcmp(arg, value_options[i]) == 0)
			return true;
	return false;
}

/* Option `arg` (one of value_options) with its value v. */
static int value_option(struct apply_args *a, const char *arg, const char *v)
{
	struct cmr_error err = CMR_ERROR_INIT;

	if (strcmp(arg, "--timeout") == 0) {
		if (cmr_parse_duration_ms(v, &a->timeout_ms, &err) < 0)
			return cli_usage_error("--timeout '%s': %s", v,
			                       err.msg);
	} else if (strcmp(arg, "--max-changes") == 0) {
		if (cmr_parse_i64(v, &a->max_changes) < 0 || a->max_changes < 0)
			return cli_usage_error("--max-changes '%s': "
			                       "expected a count",
			                       v);
	} else if (strcmp(arg, "--parallel") == 0) {
		int64_t n = 0;

		if (cmr_parse_i64(v, &n) < 0 || n < 1 ||
		    n > (int64_t)CMR_EXEC_MAX_LANES)
			return cli_usage_error(
			        "--parallel '%s': expected a "
			        "number of clusters from 1 to %u",
			        v, CMR_EXEC_MAX_LANES);
		a->parallel = (unsigned)n;
	} else if (strcmp(arg, "--report") == 0) {
		a->report_file = v;
	} else if (strcmp(arg, "--metrics") == 0) {
		a->metrics_file = v;
	} else if (strcmp(arg, "--restart-window") == 0) {
		if (cmr_window_parse(&a->restart_window, v, &err) < 0)
			return cli_usage_error("--restart-window: %s", err.msg);
		a->window = true;
	}
	return 0;
}

static int parse_args(struct apply_args *a, int argc, char **argv)
{
	bool rest = false;
	int i;
	int rc;

	a->max_changes = -1;
	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!rest && strcmp(arg, "--") == 0) {
			rest = true;
		} else if (rest || arg[0] != '-' || strcmp(arg, "-") == 0) {
			if (cmr_vec_push(&a->files, argv[i]) < 0)
				return CLI_EXIT_ERROR;
		} else if (flag_option(a, arg)) {
			continue;
		} else if (takes_value(arg)) {
			if (i + 1 >= argc)
				return cli_usage_error("'%s' needs a value",
				                       arg);
			if ((rc = value_option(a, arg, argv[++i])) != 0)
				return rc;
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

/* What one cluster's lane is waiting on, for the live line. */
struct lane_wait {
	char cluster[128];
	char what[160];
};

#define LIVE_LANES 8

struct progress {
	const struct cli_globals *g;
	bool json;
	bool tty;       /* stderr is a terminal: waits on one live line */
	bool live_line; /* that line is showing */
	/* Several clusters at once: each lane's current wait, all shown on
	 * the one live line ("Cluster 1: ... | Cluster 2: ..."). */
	struct lane_wait lanes[LIVE_LANES];
	size_t nlanes;
	int64_t elapsed_ms;
};

/* The terminal's width (stderr), or 120. */
static size_t term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
		return ws.ws_col;
	return 120;
}

/* Cuts b to at most max bytes, not inside a UTF-8 sequence. */
static void cut_utf8(struct cmr_buf *b, size_t max)
{
	size_t n = max;

	if (b->len <= max)
		return;
	while (n > 0 && ((unsigned char)b->ptr[n] & 0xC0) == 0x80)
		n--;
	cmr_buf_truncate(b, n);
}

/* The cluster part of an event target: "Cluster 1/hdfs" -> "Cluster 1". */
static size_t cluster_len(const char *target)
{
	return strcspn(target, "/");
}

static void live_forget(struct progress *p, const char *target)
{
	size_t n = cluster_len(target);
	size_t i;

	for (i = 0; i < p->nlanes; i++) {
		if (strlen(p->lanes[i].cluster) == n &&
		    strncmp(p->lanes[i].cluster, target, n) == 0) {
			p->lanes[i] = p->lanes[--p->nlanes];
			return;
		}
	}
}

static void live_note(struct progress *p, const struct cmr_exec_event *ev)
{
	const char *what = ev->message;
	size_t i;

	if (strncmp(what, "waiting: ", 9) == 0)
		what += 9;
	for (i = 0; i < p->nlanes; i++)
		if (strcmp(p->lanes[i].cluster, ev->target) == 0)
			break;
	if (i == p->nlanes) {
		if (p->nlanes == LIVE_LANES)
			i = LIVE_LANES - 1; /* the last slot is shared */
		else
			p->nlanes++;
	}
	snprintf(p->lanes[i].cluster, sizeof(p->lanes[i].cluster), "%s",
	         ev->target);
	snprintf(p->lanes[i].what, sizeof(p->lanes[i].what), "%s", what);
}

/* Draws the live line: the one wait, or every lane's. */
static void live_draw(struct progress *p, const struct cmr_exec_event *ev)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char el[32];
	size_t i;

	cmr_format_duration(el, sizeof(el), p->elapsed_ms);
	cmr_buf_addf(&b, "[%6s] ", el);
	if (ev && !ev->target[0])
		cmr_buf_adds(&b, ev->message);
	for (i = 0; (!ev || ev->target[0]) && i < p->nlanes; i++)
		cmr_buf_addf(&b, "%s%s: %s", i ? " | " : "",
		             p->lanes[i].cluster, p->lanes[i].what);
	cut_utf8(&b, term_width() - 1);
	if (!cmr_buf_error(&b)) {
		fprintf(stderr, "\r\033[K%s", b.ptr);
		fflush(stderr);
		p->live_line = true;
	}
	cmr_buf_release(&b);
}

/* --json: the event as one line on stdout (waits only with -v). */
static void json_event(const struct progress *p,
                       const struct cmr_exec_event *ev)
{
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
}

static const char *event_prefix(enum cmr_exec_event_kind kind)
{
	switch (kind) {
	case CMR_EXEC_EV_WARN:
		return "warning: ";
	case CMR_EXEC_EV_FAIL:
		return "FAILED: ";
	case CMR_EXEC_EV_SKIP:
		return "skipped: ";
	default:
		return "";
	}
}

static void on_event(const struct cmr_exec_event *ev, void *ud)
{
	struct progress *p = ud;
	char el[32];

	if (p->json) {
		json_event(p, ev);
		return;
	}
	p->elapsed_ms = ev->elapsed_ms;
	if (ev->kind == CMR_EXEC_EV_WAIT && p->tty && p->g->verbosity >= 0) {
		/* A live status line, overwritten by the next event; with
		 * several clusters at once, one part per cluster. */
		if (ev->target[0])
			live_note(p, ev);
		live_draw(p, ev);
		return;
	}
	if (ev->target[0])
		live_forget(p, ev->target);
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
	        ev->target[0] ? ": " : "", event_prefix(ev->kind), ev->message);
	if (ev->command_id >= 0 && p->g->verbosity > 0)
		fprintf(stderr, "         (CM command %lld)\n",
		        (long long)ev->command_id);
	/* The other clusters are still waiting: show them again. */
	if (p->tty && p->nlanes > 0 && p->g->verbosity >= 0)
		live_draw(p, NULL);
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

/* True when a plan has secret fingerprints (it was made with
 * CMRECON_HMAC_KEY). */
static bool has_secret_fingerprints(const struct cmr_plan *plan)
{
	bool secrets = false;
	size_t i;

	for (i = 0; i < plan->fingerprints.len; i++)
		if (strncmp(plan->fingerprints.items[i]->scope, "secret:", 7) ==
		    0)
			secrets = true;
	return secrets;
}

/* The fingerprint of `scope` in plan (the last one), or NULL. */
static const struct cmr_fingerprint *
find_fingerprint(const struct cmr_plan *plan, const char *scope)
{
	const struct cmr_fingerprint *g = NULL;
	size_t j;

	for (j = 0; j < plan->fingerprints.len; j++)
		if (strcmp(plan->fingerprints.items[j]->scope, scope) == 0)
			g = plan->fingerprints.items[j];
	return g;
}

/*
 * Compares saved fingerprint f with the fresh one, g (NULL: none), and
 * returns 0 or CLI_EXIT_STALE after saying what moved.
 */
static int compare_fingerprint(const struct cmr_fingerprint *f,
                               const struct cmr_fingerprint *g)
{
	if (!g && strncmp(f->scope, "secret:", 7) == 0) {
		cli_error("the saved plan is stale: it was made with "
		          "CMRECON_HMAC_KEY and the secret for '%s' "
		          "cannot be checked without it",
		          f->scope + 7);
		return CLI_EXIT_STALE;
	}
	if (g && strcmp(g->sha256, f->sha256) == 0)
		return 0;
	if (strncmp(f->scope, "secret:", 7) == 0)
		cli_error("the saved plan is stale: the secret "
		          "for '%s' changed since the plan was "
		          "made; make a new plan",
		          f->scope + 7);
	else
		cli_error("the saved plan is stale: '%s' %s in "
		          "CM since the plan was made; make a "
		          "new plan",
		          f->scope, g ? "changed" : "disappeared");
	return CLI_EXIT_STALE;
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
	/* A plan made without CMRECON_HMAC_KEY has no secret fingerprints:
	 * its secrets cannot be checked, so none are computed now. */
	bool secrets = has_secret_fingerprints(saved);
	size_t i;
	int rc = CLI_EXIT_ERROR;

	if (cmr_plan_new(&now, &err) < 0 ||
	    cmr_plan_fingerprint(now, desired, live, &err) < 0 ||
	    (secrets &&
	     cmr_plan_secret_fingerprints(now, saved, popt, &err) < 0)) {
		cli_error("%s", err.msg);
		goto done;
	}
	for (i = 0; i < saved->fingerprints.len; i++) {
		const struct cmr_fingerprint *f = saved->fingerprints.items[i];

		rc = compare_fingerprint(f, find_fingerprint(now, f->scope));
		if (rc != 0)
			goto done;
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
	int rc = -1;
	int error;

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

/* What one `apply` holds from its arguments to its report. */
struct apply {
	const struct cli_globals *g;
	struct apply_args a;
	struct session s;
	struct cmr_state *live;
	struct cmr_params *params;
	struct cmr_plan *plan;
	struct cmr_plan_options popt;
	struct cmr_exec_report rep;
	struct cmr_plan_summary sum;
	struct cmr_buf text;   /* the single file argument */
	struct cmr_buf out;    /* the plan as text, then the report */
	struct cmr_buf jpath;  /* the journal's path */
	struct cmr_buf holder; /* user@host, for the lock */
	struct cmr_error err;
	struct sigaction old_sa;
	struct run_report rr;
	bool planfile; /* the argument is a saved plan */
	bool handler;  /* our SIGINT handler is installed */
	bool parsed;   /* the arguments were good */
	char ver[16];  /* the API version the plan is made for */
	char host[256];
};

static void apply_init(struct apply *x, const struct cli_globals *g)
{
	memset(x, 0, sizeof(*x));
	x->g = g;
	x->s.g = g;
	cmr_buf_init(&x->text, 0);
	cmr_buf_init(&x->out, 0);
	cmr_buf_init(&x->jpath, 0);
	cmr_buf_init(&x->holder, 0);
	report_init(&x->rr, "apply");
}

/* Reads the live state of what the desired state names. */
static int read_live(struct apply *x)
{
	if (cmr_api_read_live(&x->live, &x->params, x->s.client, x->s.desired,
	                      NULL, &x->err) < 0) {
		cli_error("reading the live state from %s: %s", x->s.url,
		          x->err.msg);
		report_set_error(&x->rr, x->err.msg);
		return CLI_EXIT_ERROR;
	}
	return 0;
}

/*
 * A saved plan: its desired state rebuilt from it, connected to the CM it
 * was made against, and refused (CLI_EXIT_STALE) when CM moved since.
 */
static int open_planfile(struct apply *x)
{
	const char *file = x->a.files.items[0];
	int rc;

	if (cmr_planfile_read(&x->plan, x->text.ptr, x->text.len, &x->err) <
	            0 ||
	    cmr_exec_desired_from_plan(&x->s.desired, x->plan, &x->err) < 0) {
		cli_error("'%s': %s", file, x->err.msg);
		return CLI_EXIT_ERROR;
	}
	x->s.desired->manager.url = x->plan->cm_url;
	if ((rc = session_connect(&x->s)) != 0)
		return rc;
	if (x->plan->cm_url && strcmp(x->plan->cm_url, x->s.url) != 0) {
		cli_error("the plan was made against %s, not %s; "
		          "refusing to apply it here",
		          x->plan->cm_url, x->s.url);
		return CLI_EXIT_STALE;
	}
	if ((rc = read_live(x)) != 0)
		return rc;
	session_plan_options(&x->s, &x->popt);
	if ((rc = check_fresh(x->plan, x->s.desired, x->live, &x->popt)) != 0)
		return rc;
	x->popt.targets = (const char *const *)x->plan->targets.items;
	x->popt.ntargets = x->plan->targets.len;
	return 0;
}

/* Desired-state files: loaded, connected, the live state read. */
static int open_desired(struct apply *x)
{
	int rc;

	if ((rc = session_load(&x->s, x->a.files.items, (int)x->a.files.len)) !=
	            0 ||
	    (rc = session_connect(&x->s)) != 0 || (rc = read_live(x)) != 0)
		return rc;
	session_plan_options(&x->s, &x->popt);
	snprintf(x->ver, sizeof(x->ver), "v%u",
	         cmr_client_api_version(x->s.client));
	x->popt.api_version = x->ver;
	return 0;
}

/* Plans the desired state, and prints the plan unless --json. */
static int make_plan(struct apply *x)
{
	struct cmr_render_options ropt;

	if (cmr_plan_build(&x->plan, x->s.desired, x->live, x->params, &x->popt,
	                   &x->err) < 0) {
		cli_error("%s", x->err.msg);
		return CLI_EXIT_ERROR;
	}
	if (session_stamp_plan(x->plan))
		return CLI_EXIT_ERROR;
	x->rr.plan = x->plan;
	x->rr.cm_url = x->s.url;
	if (x->a.json)
		return 0;
	memset(&ropt, 0, sizeof(ropt));
	ropt.color = x->g->color;
	ropt.title = "cmrecon apply";
	if (cmr_render_plan_text(&x->out, x->plan, &ropt, &x->err) < 0) {
		cli_error("rendering the plan: %s", x->err.msg);
		return CLI_EXIT_ERROR;
	}
	fwrite(x->out.ptr, 1, x->out.len, stdout);
	fflush(stdout);
	return 0;
}

/* The plan to apply: a saved one, or one made now from the files. */
static int get_plan(struct apply *x)
{
	int rc;

	if (x->a.files.len == 1) {
		if ((rc = read_whole(x->a.files.items[0], &x->text)) != 0)
			return rc;
		x->planfile = cmr_planfile_detect(x->text.ptr, x->text.len);
	}
	rc = x->planfile ? open_planfile(x) : open_desired(x);
	if (rc != 0)
		return rc;
	x->popt.flags = x->a.force_secrets ? CMR_PLAN_FORCE_SECRETS : 0;
	if (!x->planfile && (rc = make_plan(x)) != 0)
		return rc;
	x->rr.plan = x->plan;
	x->rr.cm_url = x->s.url;
	cmr_plan_summarize(&x->sum, x->plan);
	return 0;
}

static int refuse_plan_errors(struct apply *x)
{
	cli_error("the plan has %zu error%s; fix the desired state "
	          "before applying",
	          x->sum.errors, x->sum.errors == 1 ? "" : "s");
	report_set_error(&x->rr, "the plan has errors; nothing was "
	                         "applied");
	return CLI_EXIT_ERROR;
}

/* Nothing to do is a converged apply (and a report). */
static int no_changes(struct apply *x)
{
	x->rep.converged = true;
	x->rr.exec = &x->rep;
	report_finish(&x->rr, CLI_EXIT_OK);
	if (x->a.json) {
		cmr_buf_reset(&x->out);
		report_json(&x->out, &x->rr);
		fwrite(x->out.ptr, 1, x->out.len, stdout);
	} else if (x->g->verbosity >= 0) {
		fprintf(stderr, "No changes: CM already matches; "
		                "nothing to apply.\n");
	}
	return CLI_EXIT_OK;
}

/* --max-changes: 0, or CLI_EXIT_REFUSED when the plan has more. */
static int check_max_changes(struct apply *x)
{
	size_t n = x->sum.settings + x->sum.parcels + x->sum.restarts;
	char why[160];

	if (x->a.max_changes < 0 || (int64_t)n <= x->a.max_changes)
		return 0;
	snprintf(why, sizeof(why),
	         "the plan has %zu changes, more than --max-changes "
	         "%lld; refusing",
	         n, (long long)x->a.max_changes);
	cli_error("%s", why);
	report_set_error(&x->rr, why);
	return CLI_EXIT_REFUSED;
}

/* With --json: the plan's counts, before the events. */
static void print_plan_event(const struct apply *x)
{
	const struct cmr_plan_summary *sum = &x->sum;

	printf("{\"event\":\"plan\",\"plan_id\":\"%s\",\"settings\":%zu,"
	       "\"parcels\":%zu,\"restarts\":%zu,\"refreshes\":%zu,"
	       "\"client_configs\":%zu,\"deferred\":%zu}\n",
	       x->plan->plan_id ? x->plan->plan_id : "", sum->settings,
	       sum->parcels, sum->restarts, sum->refreshes, sum->client_configs,
	       sum->deferred);
}

/* Ctrl-C: stop starting steps; the executor notices the flag. */
static void catch_sigint(struct apply *x)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	got_sigint = 0;
	x->handler = sigaction(SIGINT, &sa, &x->old_sa) == 0;
}

/* The executor's options: who holds the lock, the journal, progress. */
static void exec_options(struct cmr_exec_options *eopt, struct apply *x,
                         struct progress *prog)
{
	const char *user;

	if (gethostname(x->host, sizeof(x->host)) < 0)
		snprintf(x->host, sizeof(x->host), "unknown");
	x->host[sizeof(x->host) - 1] = '\0';
	user = getenv("USER");
	cmr_buf_addf(&x->holder, "%s@%s", user && *user ? user : "cmrecon",
	             x->host);
	memset(prog, 0, sizeof(*prog));
	prog->g = x->g;
	prog->json = x->a.json;
	prog->tty = isatty(STDERR_FILENO) != 0;
	memset(eopt, 0, sizeof(*eopt));
	eopt->flags = (x->a.no_restart ? CMR_EXEC_NO_RESTART : 0) |
	              (x->a.accept_concerning ? CMR_EXEC_ACCEPT_CONCERNING : 0);
	if (x->a.window) {
		eopt->flags |= CMR_EXEC_RESTART_WINDOW;
		eopt->window = &x->a.restart_window;
		cmr_window_format(x->rr.restart_window,
		                  sizeof(x->rr.restart_window),
		                  &x->a.restart_window);
	}
	eopt->timeout_ms = x->a.timeout_ms;
	eopt->max_lanes = x->a.parallel;
	eopt->change_ref = getenv("CMRECON_CHANGE_REF");
	eopt->desired = x->s.desired;
	eopt->plan_opt = &x->popt;
	eopt->holder = x->holder.ptr;
	eopt->host = x->host;
	eopt->journal_path =
	        journal_path(&x->jpath, x->plan) == 0 ? x->jpath.ptr : NULL;
	eopt->interrupted = &got_sigint;
	eopt->progress = on_event;
	eopt->progress_ud = prog;
	eopt->logger = &x->g->logger;
}

/* What went wrong, on stderr and in the report. */
static void say_failure(struct apply *x, int error, const char *journal)
{
	const struct cmr_exec_report *rep = &x->rep;

	if (error < 0) {
		cli_error("%s", x->err.msg);
		report_set_error(&x->rr, x->err.msg);
		if ((rep->commands || rep->parcel_steps) &&
		    error != CMR_ECONFLICT)
			fprintf(stderr,
			        "cmrecon: note: commands already started in CM "
			        "keep running; the journal is %s\n",
			        journal ? journal : "not available");
	} else if (rep->verified && !rep->converged) {
		cli_error("apply finished but CM did not converge: %zu "
		          "change%s remain (run `cmrecon plan` to see them)",
		          rep->remaining, rep->remaining == 1 ? "" : "s");
	}
}

/* The one-line summary of what was done. */
static void print_summary(const struct cmr_exec_report *rep, int error)
{
	printf("Apply %s: %zu setting%s in %zu write%s, %zu parcel "
	       "step%s, %zu restart%s, %zu refresh%s, %zu client "
	       "config%s, %zu deferred, %zu in maintenance, %zu "
	       "stopped.\n",
	       error < 0 ? "stopped" : "complete", rep->settings,
	       rep->settings == 1 ? "" : "s", rep->writes,
	       rep->writes == 1 ? "" : "s", rep->parcel_steps,
	       rep->parcel_steps == 1 ? "" : "s", rep->restarted,
	       rep->restarted == 1 ? "" : "s", rep->refreshed,
	       rep->refreshed == 1 ? "" : "es", rep->client_configs,
	       rep->client_configs == 1 ? "" : "s", rep->deferred,
	       rep->maintenance, rep->stopped);
}

/* Applies the plan and reports; returns the exit code. */
static int execute(struct apply *x)
{
	struct cmr_exec_options eopt;
	struct progress prog;
	int error;
	int rc;

	if (x->a.json)
		print_plan_event(x);
	catch_sigint(x);
	exec_options(&eopt, x, &prog);
	/* (A secret written without CMRECON_HMAC_KEY gets its own warning
	 * from the executor: it cannot be recorded.) */
	error = cmr_exec_apply(&x->rep, x->plan, x->s.client, &eopt, &x->err);
	if (prog.live_line)
		fputs("\r\033[K", stderr);
	rc = exit_code(error, &x->rep);
	x->rr.exec = &x->rep;
	if (x->a.window && x->rep.deferred)
		note_window(&x->rr, &x->a.restart_window, x->g);
	say_failure(x, error, eopt.journal_path);
	cmr_buf_reset(&x->out);
	report_finish(&x->rr, rc);
	report_json(&x->out, &x->rr);
	if (x->a.json)
		fwrite(x->out.ptr, 1, x->out.len, stdout);
	else if (x->g->verbosity >= 0)
		print_summary(&x->rep, error);
	fflush(stdout);
	return rc;
}

/*
 * Every run that got past its arguments reports, failures too: a
 * scheduled run's monitoring needs those most.  Then everything is
 * released; returns the exit code.
 */
static int apply_finish(struct apply *x, int rc)
{
	if (x->parsed && (x->a.report_file || x->a.metrics_file)) {
		report_finish(&x->rr, rc);
		if (report_write(&x->rr, x->a.report_file, x->a.metrics_file) !=
		            0 &&
		    rc == CLI_EXIT_OK)
			rc = CLI_EXIT_ERROR;
	}
	if (x->handler)
		sigaction(SIGINT, &x->old_sa, NULL);
	cmr_buf_release(&x->text);
	cmr_buf_release(&x->out);
	cmr_buf_release(&x->jpath);
	cmr_buf_release(&x->holder);
	cmr_plan_free(x->plan);
	cmr_params_free(x->params);
	cmr_state_free(x->live);
	session_release(&x->s);
	cmr_vec_release(&x->a.files);
	return rc;
}

int cmd_apply(int argc, char **argv, const struct cli_globals *g)
{
	struct apply x;
	int rc;

	apply_init(&x, g);
	if ((rc = parse_args(&x.a, argc, argv)) != 0)
		goto done;
	x.parsed = true;
	if ((rc = get_plan(&x)) != 0)
		goto done;
	if (x.sum.errors) {
		rc = refuse_plan_errors(&x);
		goto done;
	}
	if (!cmr_plan_has_changes(x.plan)) {
		rc = no_changes(&x);
		goto done;
	}
	if ((rc = check_max_changes(&x)) != 0 || (rc = confirm(&x.a)) != 0)
		goto done;
	rc = execute(&x);
done:
	return apply_finish(&x, rc);
}
