/*
 * cli.h -- what the cmrecon commands share: global options, exit codes and
 * the stderr logger.  Only cmd/cmrecon includes this.
 *
 * Every command is `int cmd_<verb>(int argc, char **argv, const struct
 * cli_globals *g)`: argv[0] is the verb, the global options are already
 * parsed out, and the return value is the process exit code (the table in
 * docs/cli.md, from DESIGN.md).  Commands print plans/JSON on stdout and
 * diagnostics on stderr, through the logger for anything library-side.
 */
#ifndef CMR_CLI_H
#define CMR_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cmr/common.h"
#include "cmr/log.h"

/* Exit codes, the same for every command (DESIGN.md). */
enum cli_exit {
	CLI_EXIT_OK = 0,      /* success / no changes / converged */
	CLI_EXIT_ERROR = 1,   /* bad input, CM error, failed command */
	CLI_EXIT_CHANGES = 2, /* changes present / work pending by choice */
	CLI_EXIT_STALE = 3,   /* saved plan is stale, refused */
	CLI_EXIT_REFUSED = 4, /* refused by a guard (lock, max-changes, TTY) */
	CLI_EXIT_USAGE = 64,  /* unknown flag, missing argument, no file */
};

/*
 * Global options, after flags > environment (and later > the file).  The
 * password is never taken from argv: only --password-file or
 * CMRECON_PASSWORD.  Strings are borrowed from argv or the environment;
 * `password` is owned by main and wiped at exit.
 */
struct cli_globals {
	const char *url;           /* --url, CMRECON_URL */
	const char *user;          /* --user, CMRECON_USER */
	const char *password_file; /* --password-file */
	char *password;            /* from the file or CMRECON_PASSWORD */
	const char *ca_file;       /* --ca-file */
	const char *api_version;   /* --api-version, e.g. "v45" */
	bool insecure;             /* --insecure */
	bool allow_insecure_http;  /* --allow-insecure-http */
	int verbosity;             /* -q: -1, default 0, -v: 1, -vv: 2 */
	bool color;                /* stdout is a TTY and NO_COLOR unset */
	struct cmr_logger logger;  /* writes to stderr at the verbosity */
};

/*
 * Prints "cmrecon: error: <msg>" to stderr; returns CLI_EXIT_USAGE so
 * argument errors read `return cli_usage_error("...")`.
 */
int cli_usage_error(const char *fmt, ...) CMR_PRINTF(1, 2);

/* Prints "cmrecon: error: <msg>" to stderr. */
void cli_error(const char *fmt, ...) CMR_PRINTF(1, 2);

/* Prints "cmrecon: warning: <msg>" to stderr (unless -q). */
void cli_warn(const struct cli_globals *g, const char *fmt, ...)
        CMR_PRINTF(2, 3);

/* True if argv[i] is "-h" or "--help". */
bool cli_is_help(const char *arg);

/* The commands. */
int cmd_validate(int argc, char **argv, const struct cli_globals *g);
int cmd_plan(int argc, char **argv, const struct cli_globals *g);
int cmd_apply(int argc, char **argv, const struct cli_globals *g);
int cmd_show(int argc, char **argv, const struct cli_globals *g);
int cmd_export(int argc, char **argv, const struct cli_globals *g);
int cmd_unlock(int argc, char **argv, const struct cli_globals *g);
int cmd_version(int argc, char **argv, const struct cli_globals *g);

#endif
