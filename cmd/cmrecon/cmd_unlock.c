/*
 * cmd_unlock.c -- `cmrecon unlock CLUSTER LOCK-ID`: break a stale lock.
 *
 * An apply that died (killed runner, lost network) leaves its lock tag
 * `cmrecon.lock.<ID>` on its clusters until it expires.  The refusal
 * message of the next apply names the holder and the ID; this deletes
 * that tag from one cluster.  It needs no desired-state file: the
 * connection comes from --url/--user and the environment.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/client.h"
#include "cmr/exec.h"
#include "cmr/model.h"

#include "session.h"

int cmd_unlock(int argc, char **argv, const struct cli_globals *g)
{
	struct session s;
	struct cmr_error err = CMR_ERROR_INIT;
	const char *args[2];
	int i;
	int n = 0;
	int rc;
	int error;

	memset(&s, 0, sizeof(s));
	s.g = g;
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && strcmp(argv[i], "-") != 0)
			return cli_usage_error("unknown option '%s' for "
			                       "'unlock'",
			                       argv[i]);
		if (n == 2)
			return cli_usage_error("'unlock' takes CLUSTER and "
			                       "LOCK-ID");
		args[n++] = argv[i];
	}
	if (n != 2)
		return cli_usage_error("'unlock' takes CLUSTER and LOCK-ID");
	if (cmr_state_new(&s.desired, CMR_STATE_DESIRED, &err) < 0) {
		cli_error("%s", err.msg);
		return CLI_EXIT_ERROR;
	}
	rc = session_connect(&s);
	if (rc)
		goto done;
	error = cmr_exec_unlock(s.client, args[0], args[1], &err);
	if (error < 0) {
		cli_error("%s", err.msg);
		rc = CLI_EXIT_ERROR;
		goto done;
	}
	if (g->verbosity >= 0)
		fprintf(stderr, "Removed lock %s from cluster '%s'.\n", args[1],
		        args[0]);
	rc = CLI_EXIT_OK;
done:
	session_release(&s);
	return rc;
}
