/*
 * names.c -- the spellings of the plan's enumerations.
 *
 * One table per enum, used both ways: the JSON plan and plan files write
 * these names, and the plan-file reader parses them back, so a name can
 * never be written one way and read another.
 */
#include <string.h>

#include "cmr/plan.h"

static int parse_name(int *out, const char *const *names, size_t n,
                      const char *s)
{
	size_t k;

	if (!s)
		return CMR_EINVAL;
	for (k = 0; k < n; k++)
		if (names[k] && strcmp(names[k], s) == 0) {
			*out = (int)k;
			return 0;
		}
	return CMR_EINVAL;
}

#define NAME_OF(table, v) \
	((size_t)(v) < CMR_ARRAY_SIZE(table) ? (table)[(size_t)(v)] : "")

#define PARSE_ENUM(type, table, out, s)                                   \
	do {                                                              \
		int v_;                                                   \
		if (parse_name(&v_, table, CMR_ARRAY_SIZE(table), s) < 0) \
			return CMR_EINVAL;                                \
		*(out) = (type)v_;                                        \
		return 0;                                                 \
	} while (0)

static const char *const change_ops[] = { "set", "update", "reset" };

const char *cmr_change_op_name(enum cmr_change_op op)
{
	return NAME_OF(change_ops, op);
}

int cmr_change_op_parse(enum cmr_change_op *out, const char *s)
{
	int v;

	if (parse_name(&v, change_ops, CMR_ARRAY_SIZE(change_ops), s) < 0)
		return CMR_EINVAL;
	*out = (enum cmr_change_op)v;
	return 0;
}

static const char *const secret_statuses[] = { "none", "new", "rotated",
	                                       "forced", "unverified" };

const char *cmr_secret_status_name(enum cmr_secret_status s)
{
	return NAME_OF(secret_statuses, s);
}

int cmr_secret_status_parse(enum cmr_secret_status *out, const char *s)
{
	int v;

	if (parse_name(&v, secret_statuses, CMR_ARRAY_SIZE(secret_statuses),
	               s) < 0)
		return CMR_EINVAL;
	*out = (enum cmr_secret_status)v;
	return 0;
}

static const char *const parcel_cmds[] = {
	"startDownload", "startDistribution",          "activate",
	"deactivate",    "startRemovalOfDistribution", "removeDownload",
};

static const char *const parcel_verbs[] = {
	"download",   "distribute",          "activate",
	"deactivate", "remove distribution", "remove download",
};

const char *cmr_parcel_cmd_name(enum cmr_parcel_cmd cmd)
{
	return NAME_OF(parcel_cmds, cmd);
}

const char *cmr_parcel_cmd_verb(enum cmr_parcel_cmd cmd)
{
	return NAME_OF(parcel_verbs, cmd);
}

int cmr_parcel_cmd_parse(enum cmr_parcel_cmd *out, const char *verb)
{
	int v;

	if (parse_name(&v, parcel_verbs, CMR_ARRAY_SIZE(parcel_verbs), verb) <
	    0)
		return CMR_EINVAL;
	*out = (enum cmr_parcel_cmd)v;
	return 0;
}

static const char *const restart_actions[] = {
	"restart",  "rolling restart", "refresh", "deploy client config",
	"deferred",
};

const char *cmr_restart_action_name(enum cmr_restart_action a)
{
	return NAME_OF(restart_actions, a);
}

int cmr_restart_action_parse(enum cmr_restart_action *out, const char *s)
{
	int v;

	if (parse_name(&v, restart_actions, CMR_ARRAY_SIZE(restart_actions),
	               s) < 0)
		return CMR_EINVAL;
	*out = (enum cmr_restart_action)v;
	return 0;
}

static const char *const note_levels[] = { "info", "warning", "error" };

const char *cmr_note_level_name(enum cmr_note_level l)
{
	return NAME_OF(note_levels, l);
}

int cmr_note_level_parse(enum cmr_note_level *out, const char *s)
{
	int v;

	if (parse_name(&v, note_levels, CMR_ARRAY_SIZE(note_levels), s) < 0)
		return CMR_EINVAL;
	*out = (enum cmr_note_level)v;
	return 0;
}
