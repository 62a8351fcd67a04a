/*
 * cmd_validate.c -- `cmrecon validate` (being written; see issue 4).
 */
#include "cli.h"

int cmd_validate(int argc, char **argv, const struct cli_globals *g)
{
	(void)argc;
	(void)g;
	cli_error("'%s' is not built yet in this version of cmrecon", argv[0]);
	return CLI_EXIT_ERROR;
}
