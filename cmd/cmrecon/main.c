/*
 * main.c -- the cmrecon command line: global options, the command table,
 * help, and the mapping to exit codes.
 *
 * Global options may appear anywhere before a "--" (before or after the
 * verb), so `cmrecon plan -v x.yaml` and `cmrecon -v plan x.yaml` both
 * work.  They are removed from argv before the command sees it.  Flags beat
 * the environment, which beats the desired-state file (the file is read by
 * the commands themselves).
 *
 * Each command lives in its own cmd_<verb>.c and returns the exit code;
 * this file only dispatches, so the exit-code table stays in one place
 * (cli.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"
#include "cmr/log.h"

#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv, const struct cli_globals *g);
	const char *summary;
	const char *usage; /* the synopsis and the command's own options */
};

static const struct command commands[] = {
	{ "validate", cmd_validate,
	  "check desired-state files offline, reporting every problem",
	  "usage: cmrecon validate FILE... [--json]\n"
	  "\n"
	  "Checks the files and their merge without contacting CM. Problems\n"
	  "are printed as FILE:LINE:COL: error: message on stderr.\n"
	  "\n"
	  "  --json    print the problems as JSON on stdout\n" },
	{ "plan", cmd_plan,
	  "show what apply would change (reads CM, writes nothing)",
	  "usage: cmrecon plan FILE... [--json] [-o PLANFILE]\n"
	  "                    [--detailed-exitcode] [--force-secrets]\n"
	  "                    [--target CLUSTER[/SERVICE[/GROUP]]]...\n"
	  "                    [--report FILE] [--metrics FILE]\n"
	  "\n"
	  "  --json                 the plan as versioned JSON on stdout\n"
	  "  -o PLANFILE            also save the plan for `apply PLANFILE`\n"
	  "  --detailed-exitcode    exit 2 when there are changes, 0 when none\n"
	  "  --target SCOPE         limit the plan to a cluster/service/group\n"
	  "  --force-secrets        write secrets that cannot be verified\n"
	  "  --report FILE          write a JSON run report (drift) to FILE\n"
	  "  --metrics FILE         write Prometheus metrics to FILE\n" },
	{ "apply", cmd_apply, "apply a plan: settings, parcels, restarts",
	  "usage: cmrecon apply FILE... | PLANFILE [--yes] [--json]\n"
	  "                    [--timeout DUR] [--no-restart]\n"
	  "                    [--accept-concerning] [--force-secrets]\n"
	  "                    [--max-changes N] [--restart-window SPEC]\n"
	  "                    [--parallel N] [--report FILE] [--metrics FILE]\n"
	  "\n"
	  "With desired-state files: plans, shows the plan and asks on a TTY.\n"
	  "With a plan file (from `plan -o`): applies exactly that plan after\n"
	  "checking that CM has not changed since (exit 3 if it has).\n"
	  "\n"
	  "  --yes                  do not ask (needed without a TTY)\n"
	  "  --json                 JSON event lines and a final report\n"
	  "  --timeout DUR          one deadline for every wait (30s, 5m, 2h)\n"
	  "  --no-restart           write settings, leave restarts (exit 2)\n"
	  "  --accept-concerning    let CONCERNING health pass the gate\n"
	  "  --force-secrets        write secrets that cannot be verified\n"
	  "  --max-changes N        refuse (exit 4) a plan with more changes\n"
	  "  --restart-window SPEC  restart only inside these times\n"
	  "  --parallel N           clusters applied at the same time (default\n"
	  "                         16; 1: one after the other)\n"
	  "  --report FILE          write a JSON report of the run\n"
	  "  --metrics FILE         write Prometheus metrics (textfile)\n" },
	{ "show", cmd_show, "render a saved plan file",
	  "usage: cmrecon show PLANFILE [--json]\n"
	  "\n"
	  "Renders a plan saved with `plan -o`, with where and when it was\n"
	  "made.  Reads no CM.\n"
	  "\n"
	  "  --json    print the plan file's JSON\n" },
	{ "export", cmd_export, "write live state as a desired-state file",
	  "usage: cmrecon export [--cluster NAME]... "
	  "[--service CLUSTER/SERVICE]... [-o FILE]\n"
	  "                      [--omit-defaults]\n"
	  "\n"
	  "  --cluster NAME         only this cluster (repeatable)\n"
	  "  --service C/SERVICE    only this service (repeatable)\n"
	  "  -o FILE                write to FILE (atomically, mode 0600)\n"
	  "  --omit-defaults        leave out settings equal to CM's default\n" },
	{ "unlock", cmd_unlock, "break a stale apply lock",
	  "usage: cmrecon unlock CLUSTER LOCK-ID\n"
	  "\n"
	  "Deletes the apply lock LOCK-ID from the cluster's tags in CM, for\n"
	  "when an apply died and its lock has not expired yet.  The refusal\n"
	  "message of apply names the holder and the LOCK-ID.\n" },
	{ "version", cmd_version, "print the version",
	  "usage: cmrecon version\n" },
};

static const char global_help[] =
        "Global options (anywhere before --):\n"
        "  --url URL              CM base URL (env CMRECON_URL)\n"
        "  --user NAME            CM user (env CMRECON_USER)\n"
        "  --password-file FILE   read the password from FILE\n"
        "                         (or env CMRECON_PASSWORD; never on argv)\n"
        "  --ca-file FILE         CA certificate(s) for CM's TLS\n"
        "  --api-version vNN      pin the API version instead of asking CM\n"
        "  --insecure             skip TLS verification (dangerous)\n"
        "  --allow-insecure-http  allow http:// to a non-loopback host\n"
        "  -q, -v, -vv            quieter, more verbose, debug\n"
        "  -h, --help             help (also: cmrecon COMMAND --help)\n";

static const char exit_help[] =
        "Exit codes: 0 ok/no changes, 1 error, 2 changes present or work\n"
        "pending, 3 saved plan stale, 4 refused by a guard, 64 usage.\n";

/* ----------------------------------------------------------------------
 * Messages
 */

static void vreport(const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "cmrecon: %s: ", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
	fputs("Try 'cmrecon --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error", fmt, ap);
	va_end(ap);
}

void cli_warn(const struct cli_globals *g, const char *fmt, ...)
{
	va_list ap;

	if (g && g->verbosity < 0)
		return;
	va_start(ap, fmt);
	vreport("warning", fmt, ap);
	va_end(ap);
}

bool cli_is_help(const char *arg)
{
	return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

/*
 * The library's log messages go to stderr, one line each, prefixed with
 * the level and the component.  The library redacts at the source, so
 * nothing here needs to look at the text.
 */
static void stderr_logger(enum cmr_log_level level, const char *component,
                          const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "cmrecon: %s: [%s] %s\n", cmr_log_level_name(level),
	        component, msg);
}

/* ----------------------------------------------------------------------
 * Global options
 */

static const char *const value_flags[] = {
	"--url", "--user", "--password-file", "--ca-file", "--api-version",
};

/*
 * If argv[*i] is a global flag that takes a value ("--url X" or
 * "--url=X"), stores the value and advances *i past it.  Returns 1 when
 * consumed, 0 when argv[*i] is not such a flag, -1 on a missing value.
 */
static int take_value_flag(int argc, char **argv, int *i, const char **name,
                           const char **value)
{
	const char *arg = argv[*i];
	size_t k;

	for (k = 0; k < CMR_ARRAY_SIZE(value_flags); k++) {
		size_t n = strlen(value_flags[k]);

		if (strncmp(arg, value_flags[k], n) != 0)
			continue;
		if (arg[n] == '=') {
			*name = value_flags[k];
			*value = arg + n + 1;
			return 1;
		}
		if (arg[n] != '\0')
			continue;
		*name = value_flags[k];
		if (*i + 1 >= argc)
			return -1;
		*i += 1;
		*value = argv[*i];
		return 1;
	}
	return 0;
}

static void set_value_flag(struct cli_globals *g, const char *name,
                           const char *value)
{
	if (strcmp(name, "--url") == 0)
		g->url = value;
	else if (strcmp(name, "--user") == 0)
		g->user = value;
	else if (strcmp(name, "--password-file") == 0)
		g->password_file = value;
	else if (strcmp(name, "--ca-file") == 0)
		g->ca_file = value;
	else if (strcmp(name, "--api-version") == 0)
		g->api_version = value;
}

/* Returns 1 if argv[i] was a boolean global flag (and applies it). */
static int take_bool_flag(struct cli_globals *g, const char *arg)
{
	if (strcmp(arg, "--insecure") == 0)
		g->insecure = true;
	else if (strcmp(arg, "--allow-insecure-http") == 0)
		g->allow_insecure_http = true;
	else if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)
		g->verbosity = -1;
	else if (strcmp(arg, "-v") == 0)
		g->verbosity = g->verbosity < 1 ? 1 : g->verbosity;
	else if (strcmp(arg, "-vv") == 0)
		g->verbosity = 2;
	else
		return 0;
	return 1;
}

/*
 * Moves the global options out of argv (in place), leaving the verb and
 * its own arguments.  Returns the new argc, or -1 after printing a usage
 * error.
 */
static int parse_globals(struct cli_globals *g, int argc, char **argv)
{
	int i;
	int out = 0;
	bool rest = false;

	for (i = 0; i < argc; i++) {
		const char *name = NULL;
		const char *value = NULL;
		int r;

		if (rest) {
			argv[out++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			rest = true;
			argv[out++] = argv[i];
			continue;
		}
		if (take_bool_flag(g, argv[i]))
			continue;
		r = take_value_flag(argc, argv, &i, &name, &value);
		if (r < 0) {
			cli_usage_error("option '%s' needs a value", name);
			return -1;
		}
		if (r > 0) {
			set_value_flag(g, name, value);
			continue;
		}
		if (strcmp(argv[i], "--password") == 0 ||
		    strncmp(argv[i], "--password=", 11) == 0) {
			cli_usage_error("passwords are not accepted on the "
			                "command line (other users can read "
			                "it); use --password-file or "
			                "CMRECON_PASSWORD");
			return -1;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

/*
 * Reads the password file: the first line, without its newline.  The file
 * must not be empty.
 */
static int read_password_file(struct cli_globals *g)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char chunk[512];
	size_t n;
	FILE *f = fopen(g->password_file, "r");

	if (!f) {
		cli_error("cannot read password file '%s': %s",
		          g->password_file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	cmr_buf_init(&b, (size_t)64 * 1024);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cmr_buf_add(&b, chunk, n);
	fclose(f);
	memset(chunk, 0, sizeof(chunk));
	cmr_buf_truncate(&b, strcspn(b.ptr, "\r\n"));
	if (cmr_buf_error(&b) || b.len == 0) {
		cli_error("password file '%s' is empty or too large",
		          g->password_file);
		cmr_buf_release(&b);
		return CLI_EXIT_USAGE;
	}
	g->password = cmr_buf_detach(&b, NULL);
	return g->password ? 0 : CLI_EXIT_ERROR;
}

static int load_env(struct cli_globals *g)
{
	const char *v;

	if (!g->url && (v = getenv("CMRECON_URL")) && *v)
		g->url = v;
	if (!g->user && (v = getenv("CMRECON_USER")) && *v)
		g->user = v;
	if (g->password_file)
		return read_password_file(g);
	if ((v = getenv("CMRECON_PASSWORD")) && *v) {
		g->password = cmr_strdup(v);
		if (!g->password)
			return CLI_EXIT_ERROR;
	}
	return 0;
}

static void setup_output(struct cli_globals *g)
{
	const char *nc = getenv("NO_COLOR");

	g->color = isatty(STDOUT_FILENO) && !(nc && *nc);
	g->logger.fn = stderr_logger;
	g->logger.ud = NULL;
	if (g->verbosity < 0)
		g->logger.level = CMR_LOG_ERROR;
	else if (g->verbosity == 0)
		g->logger.level = CMR_LOG_WARN;
	else if (g->verbosity == 1)
		g->logger.level = CMR_LOG_INFO;
	else
		g->logger.level = CMR_LOG_TRACE;
}

/* ----------------------------------------------------------------------
 * Commands that live here
 */

int cmd_version(int argc, char **argv, const struct cli_globals *g)
{
	(void)g;
	if (argc > 1)
		return cli_usage_error("'version' takes no arguments, got '%s'",
		                       argv[1]);
	printf("cmrecon %s\n", CMR_VERSION);
	return CLI_EXIT_OK;
}

static void print_help(FILE *out)
{
	size_t k;

	fputs("usage: cmrecon [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
	      "cmrecon reconciles a Cloudera Manager deployment with a "
	      "desired state\nwritten in YAML: validate, plan, apply.\n\n"
	      "Commands:\n",
	      out);
	for (k = 0; k < CMR_ARRAY_SIZE(commands); k++)
		fprintf(out, "  %-10s %s\n", commands[k].name,
		        commands[k].summary);
	fputc('\n', out);
	fputs(global_help, out);
	fputc('\n', out);
	fputs(exit_help, out);
}

static const struct command *find_command(const char *name)
{
	size_t k;

	for (k = 0; k < CMR_ARRAY_SIZE(commands); k++)
		if (strcmp(commands[k].name, name) == 0)
			return &commands[k];
	return NULL;
}

static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (cli_is_help(argv[i]))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	struct cli_globals g;
	const struct command *cmd;
	int rc;

	memset(&g, 0, sizeof(g));
	argc = parse_globals(&g, argc - 1, argv + 1);
	argv++;
	if (argc < 0)
		return CLI_EXIT_USAGE;
	if (argc == 0) {
		print_help(stderr);
		return CLI_EXIT_USAGE;
	}
	if (cli_is_help(argv[0]) || strcmp(argv[0], "help") == 0) {
		if (argc > 1 && (cmd = find_command(argv[1])) != NULL) {
			fputs(cmd->usage, stdout);
			return CLI_EXIT_OK;
		}
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[0], "--version") == 0)
		return cmd_version(1, argv, &g);
	cmd = find_command(argv[0]);
	if (!cmd) {
		if (argv[0][0] == '-')
			return cli_usage_error("unknown option '%s'", argv[0]);
		return cli_usage_error("unknown command '%s'", argv[0]);
	}
	if (wants_help(argc, argv)) {
		printf("%s\n%s\n", cmd->summary, cmd->usage);
		fputs(global_help, stdout);
		return CLI_EXIT_OK;
	}
	setup_output(&g);
	rc = load_env(&g);
	if (rc == 0)
		rc = cmd->fn(argc, argv, &g);
	if (g.password) {
		memset(g.password, 0, strlen(g.password));
		cmr_free(g.password);
	}
	return rc;
}
