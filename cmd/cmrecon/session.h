/*
 * session.h -- what plan, apply and export share: loading the desired
 * state (with diagnostics printed), connecting to CM with the connection
 * settings resolved flag > environment > file, and resolving secrets.
 */
#ifndef CMR_CLI_SESSION_H
#define CMR_CLI_SESSION_H

#include <stdbool.h>
#include <sys/types.h>

#include "cmr/client.h"
#include "cmr/diag.h"
#include "cmr/error.h"
#include "cmr/model.h"
#include "cmr/plan.h"

#include "cli.h"

struct session {
	const struct cli_globals *g;
	struct cmr_state *desired;
	struct cmr_client *client;
	const char *url; /* the CM URL in use (borrowed) */
	char *hmac_key;  /* CMRECON_HMAC_KEY (owned, wiped) */
	size_t hmac_key_len;
};

/*
 * Prints diagnostics as "FILE:LINE:COL: error: message" lines on stderr,
 * sorted by position.
 */
void session_print_diags(struct cmr_diag_list *diags);

/*
 * Loads and merges the files into s->desired, printing every problem.
 * Returns a CLI exit code: 0, CLI_EXIT_ERROR (problems in the files),
 * CLI_EXIT_USAGE (a file that does not exist).
 */
int session_load(struct session *s, char **files, int nfiles);

/*
 * Connects: resolves the URL, user, password, CA file and API version
 * (flags and environment beat the file), enforces the URL policy, and
 * makes the transport and client.  Returns a CLI exit code.
 */
int session_connect(struct session *s);

/* Fills the secret-related plan options (resolver, HMAC key). */
void session_plan_options(struct session *s, struct cmr_plan_options *opt);

/* Sets plan->plan_id (random) and plan->created (now, UTC). */
int session_stamp_plan(struct cmr_plan *plan);

/*
 * Writes `len` bytes to `path` atomically (temporary file in the same
 * directory, fsync, rename), mode 0600.  Returns 0 or prints an error and
 * returns CLI_EXIT_ERROR.
 */
int session_write_file(const char *path, const char *data, size_t len);

/* The same with another mode (e.g. 0644 for metrics node_exporter reads). */
int session_write_file_mode(const char *path, const char *data, size_t len,
                            mode_t mode);

void session_release(struct session *s);

#endif
