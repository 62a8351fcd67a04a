/*
 * value.c -- the value rules of the desired-state format, in one place.
 *
 * CM stores every setting as a string, and the planner decides "change or
 * no change" by comparing strings.  So the one thing that must never drift
 * is how a YAML scalar becomes that string: the loader calls these
 * functions, the planner compares the results with cmr_value_equal, and
 * nothing else re-implements the rules.
 *
 * The rules keep a plain scalar's text exactly as written, because YAML's
 * own typing would corrupt CM values ("022" is an octal 18 to YAML 1.1, a
 * decimal 22 to YAML 1.2; "5.0" is the float 5).  Only three things are
 * recognised: booleans (CM's booleans are "true"/"false"), null (reset), and
 * lists (CM's list-valued settings are comma-separated).
 */
#include <stdint.h>
#include <string.h>

#include "cmr/model.h"

/* ASCII-only case folding: the locale must not change what a file means. */
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* True when the len bytes at s equal the lowercase word w, in any case. */
static bool word_eq(const char *s, size_t len, const char *w)
{
	size_t i;

	if (strlen(w) != len)
		return false;
	for (i = 0; i < len; i++)
		if (lower((unsigned char)s[i]) != w[i])
			return false;
	return true;
}

/* True when the lowercase word w occurs in s, in any case. */
static bool contains_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	size_t len = strlen(s);
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (word_eq(s + i, n, w))
			return true;
	return false;
}

bool cmr_scalar_is_null(const char *text, size_t len)
{
	return len == 0 || word_eq(text, len, "null") ||
	       word_eq(text, len, "~");
}

int cmr_value_from_scalar(struct cmr_value *out, struct cmr_arena *a,
                          const char *text, size_t len,
                          enum cmr_scalar_style style, struct cmr_error *err)
{
	const char *copy;

	out->kind = CMR_VALUE_TEXT;
	out->text = NULL;
	if (style == CMR_SCALAR_PLAIN) {
		if (len == 0)
			return cmr_error_set(
			        err, CMR_EINVAL,
			        "empty value; write null to reset to CM's default");
		if (cmr_scalar_is_null(text, len)) {
			out->kind = CMR_VALUE_RESET;
			return 0;
		}
		if (word_eq(text, len, "true")) {
			text = "true";
			len = 4;
		} else if (word_eq(text, len, "false")) {
			text = "false";
			len = 5;
		}
	}
	copy = cmr_arena_strndup(a, text, len);
	if (!copy)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	out->text = copy;
	return 0;
}

int cmr_value_join(struct cmr_value *out, struct cmr_arena *a,
                   const char *const *items, size_t n, struct cmr_error *err)
{
	size_t total = 0;
	size_t i;
	size_t at = 0;
	char *s;

	out->kind = CMR_VALUE_TEXT;
	out->text = NULL;
	if (n == 0)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "empty list; write \"\" for an empty value or null to reset to CM's default");
	for (i = 0; i < n; i++) {
		size_t l = strlen(items[i]);

		if (total > SIZE_MAX - l - 1)
			return cmr_error_set(err, CMR_ENOMEM, "list too long");
		total += l + 1; /* the separator, or the final NUL */
	}
	s = cmr_arena_alloc(a, total);
	if (!s)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		size_t l = strlen(items[i]);

		if (i > 0)
			s[at++] = ',';
		memcpy(s + at, items[i], l);
		at += l;
	}
	s[at] = '\0';
	out->text = s;
	return 0;
}

bool cmr_value_equal(const struct cmr_value *a, const struct cmr_value *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == CMR_VALUE_RESET)
		return true;
	if (!a->text || !b->text)
		return a->text == b->text;
	return strcmp(a->text, b->text) == 0;
}

bool cmr_value_is_bool(const struct cmr_value *v)
{
	return v->kind == CMR_VALUE_TEXT && v->text &&
	       (strcmp(v->text, "true") == 0 || strcmp(v->text, "false") == 0);
}

bool cmr_value_is_ref(const struct cmr_value *v)
{
	return v->kind == CMR_VALUE_ENV || v->kind == CMR_VALUE_FILE;
}

int cmr_value_ref_text(struct cmr_buf *out, const struct cmr_value *ref)
{
	if (!cmr_value_is_ref(ref) || !ref->text)
		return CMR_EINVAL;
	cmr_buf_addf(out, "%s %s", ref->kind == CMR_VALUE_ENV ? "env" : "file",
	             ref->text);
	return cmr_buf_error(out);
}

int cmr_value_ref_parse(struct cmr_value *out, const char *s)
{
	if (strncmp(s, "env ", 4) == 0 && s[4]) {
		out->kind = CMR_VALUE_ENV;
		out->text = s + 4;
	} else if (strncmp(s, "file ", 5) == 0 && s[5]) {
		out->kind = CMR_VALUE_FILE;
		out->text = s + 5;
	} else {
		return CMR_EINVAL;
	}
	return 0;
}

const char *cmr_value_kind_name(enum cmr_value_kind kind)
{
	switch (kind) {
	case CMR_VALUE_TEXT:
		return "text";
	case CMR_VALUE_RESET:
		return "reset";
	case CMR_VALUE_ENV:
		return "env";
	case CMR_VALUE_FILE:
		return "file";
	}
	return "text";
}

/* ----------------------------------------------------------------------
 * Secrets by name
 *
 * validate runs offline, so it cannot ask CM which settings are sensitive;
 * it goes by the name.  The rule is deliberately broad (a false alarm costs
 * the user a {file: ...}, a miss costs a password in git), with the one
 * family of exceptions that is certainly not secret: CM's *_suppression_*
 * switches, which are booleans named after the setting they silence.
 */

bool cmr_secret_name(const char *key)
{
	size_t len = strlen(key);

	if (contains_word(key, "_suppression_"))
		return false;
	if (contains_word(key, "password") || contains_word(key, "secret"))
		return true;
	return len >= 3 && word_eq(key + len - 3, 3, "_pw");
}

bool cmr_secret_literal_refused(const char *key, const struct cmr_value *v)
{
	return v->kind == CMR_VALUE_TEXT && !cmr_value_is_bool(v) &&
	       cmr_secret_name(key);
}

size_t cmr_secret_trim_newline(const char *data, size_t len)
{
	if (len > 0 && data[len - 1] == '\n') {
		len--;
		if (len > 0 && data[len - 1] == '\r')
			len--;
	}
	return len;
}

/* ----------------------------------------------------------------------
 * Enumerations
 *
 * Each table is indexed by the enum value; index 0 is the "not known"
 * value and has the name "".  Parsing is exact (CM's spelling), except the
 * restart policy, which is written by people and is lowercase.
 */

static const char *const parcel_stages[] = {
	"",
	"AVAILABLE_REMOTELY",
	"DOWNLOADING",
	"DOWNLOADED",
	"DISTRIBUTING",
	"DISTRIBUTED",
	"UNDISTRIBUTING",
	"ACTIVATING",
	"ACTIVATED",
	"UNAVAILABLE",
	"UNKNOWN",
};

static const char *const run_states[] = {
	"",         "HISTORY_NOT_AVAILABLE",
	"UNKNOWN",  "STARTING",
	"STARTED",  "BUSY",
	"STOPPING", "STOPPED",
	"NA",
};

static const char *const stalenesses[] = {
	"",
	"FRESH",
	"STALE_REFRESHABLE",
	"STALE",
};

static const char *const healths[] = {
	"",
	"DISABLED",
	"HISTORY_NOT_AVAILABLE",
	"NOT_AVAILABLE",
	"GOOD",
	"CONCERNING",
	"BAD",
};

static const char *const restart_policies[] = {
	"restart",
	"rolling",
	"never",
};

static const char *name_of(const char *const *names, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n)
		return "";
	return names[v];
}

/* Index of s in names[first..n), or -1. */
static int index_of(const char *const *names, size_t n, size_t first,
                    const char *s)
{
	size_t i;

	if (!s)
		return -1;
	for (i = first; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *cmr_parcel_stage_name(enum cmr_parcel_stage stage)
{
	return name_of(parcel_stages, CMR_ARRAY_SIZE(parcel_stages),
	               (int)stage);
}

int cmr_parcel_stage_parse(enum cmr_parcel_stage *out, const char *s)
{
	int i = index_of(parcel_stages, CMR_ARRAY_SIZE(parcel_stages), 1, s);

	if (i < 0)
		return CMR_EINVAL;
	*out = (enum cmr_parcel_stage)i;
	return 0;
}

bool cmr_parcel_stage_is_target(enum cmr_parcel_stage stage)
{
	return stage == CMR_PARCEL_AVAILABLE_REMOTELY ||
	       stage == CMR_PARCEL_DOWNLOADED ||
	       stage == CMR_PARCEL_DISTRIBUTED || stage == CMR_PARCEL_ACTIVATED;
}

int cmr_parcel_stage_rank(enum cmr_parcel_stage stage)
{
	switch (stage) {
	case CMR_PARCEL_AVAILABLE_REMOTELY:
	case CMR_PARCEL_DOWNLOADING:
		return 1;
	case CMR_PARCEL_DOWNLOADED:
	case CMR_PARCEL_DISTRIBUTING:
		return 2;
	case CMR_PARCEL_DISTRIBUTED:
	case CMR_PARCEL_UNDISTRIBUTING:
	case CMR_PARCEL_ACTIVATING:
		return 3;
	case CMR_PARCEL_ACTIVATED:
		return 4;
	case CMR_PARCEL_STAGE_NONE:
	case CMR_PARCEL_UNAVAILABLE:
	case CMR_PARCEL_STAGE_UNKNOWN:
		break;
	}
	return 0;
}

const char *cmr_run_state_name(enum cmr_run_state state)
{
	return name_of(run_states, CMR_ARRAY_SIZE(run_states), (int)state);
}

int cmr_run_state_parse(enum cmr_run_state *out, const char *s)
{
	int i = index_of(run_states, CMR_ARRAY_SIZE(run_states), 1, s);

	if (i < 0)
		return CMR_EINVAL;
	*out = (enum cmr_run_state)i;
	return 0;
}

const char *cmr_staleness_name(enum cmr_staleness s)
{
	return name_of(stalenesses, CMR_ARRAY_SIZE(stalenesses), (int)s);
}

int cmr_staleness_parse(enum cmr_staleness *out, const char *s)
{
	int i = index_of(stalenesses, CMR_ARRAY_SIZE(stalenesses), 1, s);

	if (i < 0)
		return CMR_EINVAL;
	*out = (enum cmr_staleness)i;
	return 0;
}

const char *cmr_health_name(enum cmr_health h)
{
	return name_of(healths, CMR_ARRAY_SIZE(healths), (int)h);
}

int cmr_health_parse(enum cmr_health *out, const char *s)
{
	int i = index_of(healths, CMR_ARRAY_SIZE(healths), 1, s);

	if (i < 0)
		return CMR_EINVAL;
	*out = (enum cmr_health)i;
	return 0;
}

const char *cmr_restart_policy_name(enum cmr_restart_policy p)
{
	return name_of(restart_policies, CMR_ARRAY_SIZE(restart_policies),
	               (int)p);
}

int cmr_restart_policy_parse(enum cmr_restart_policy *out, const char *s)
{
	int i = index_of(restart_policies, CMR_ARRAY_SIZE(restart_policies), 0,
	                 s);

	if (i < 0)
		return CMR_EINVAL;
	*out = (enum cmr_restart_policy)i;
	return 0;
}

bool cmr_config_is_bookkeeping(const struct cmr_config_entry *e)
{
	static const char *const ids[] = { "serverId", "namenode_id", "rm_id",
		                           "role_jceks_password" };
	size_t k;

	if (e->sensitive)
		return true;
	for (k = 0; k < CMR_ARRAY_SIZE(ids); k++)
		if (strcmp(e->name, ids[k]) == 0)
			return true;
	return false;
}
