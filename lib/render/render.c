/*
 * render.c -- a plan as text a reviewer reads at a glance, and as JSON.
 *
 * The text follows the illustration in DESIGN.md ("What a plan looks
 * like"): a header naming the CM, then one section per place that
 * changes -- Cloudera Manager settings, the management service, each
 * cluster (its parcels first, then its services and their role config
 * groups) -- then the restarts the plan expects, the notes and errors, and
 * a one-line summary.  The order is the plan's own (which is sorted and is
 * the order apply follows), so two renderings of one plan are identical.
 *
 * One line per change, with a symbol in front: '+' the key is set where
 * live leaves it at its default, '~' it changes, '-' it goes back to the
 * default, '!' a secret that cannot be verified (a note, not a change).
 * Keys are padded to a common column within a scope.  Values are quoted
 * and escaped so a trailing space or a tab is visible; a value with
 * several lines is shown as a unified diff under its key instead.
 *
 * Secrets: a change flagged `sensitive` is rendered from its flags only
 * ("(sensitive)" and the secret status); its value fields are never read.
 *
 * The JSON form is the plan-file format, written by lib/plan/planfile.c:
 * `plan --json` and `plan -o` produce the same document.
 */
#include "cmr/render.h"

#include <string.h>

#include "cmr/planfile.h"

#include "render_int.h"

/* Keys longer than this do not widen their scope's key column. */
#define KEY_COLUMN_MAX 40

struct out {
	struct cmr_buf *b;
	bool color;
};

/* ======================================================================
 * Small pieces
 */

static void sgr(struct out *o, const char *code)
{
	if (o->color)
		cmr_buf_adds(o->b, code);
}

static void spaces(struct cmr_buf *b, size_t n)
{
	while (n-- > 0)
		cmr_buf_addc(b, ' ');
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

static void section(struct out *o, const char *fmt_title, const char *arg)
{
	cmr_buf_addc(o->b, '\n');
	sgr(o, CMR_SGR_BOLD);
	if (arg) {
		cmr_buf_adds(o->b, fmt_title);
		cmr_buf_adds(o->b, " \"");
		cmr_buf_adds(o->b, arg);
		cmr_buf_addc(o->b, '"');
	} else {
		cmr_buf_adds(o->b, fmt_title);
	}
	sgr(o, CMR_SGR_RESET);
	cmr_buf_addc(o->b, '\n');
}

/*
 * A value in double quotes, with '"', '\\' and control characters escaped
 * so that what is printed is unambiguous (a trailing space shows, a tab
 * is \t).  Bytes >= 0x80 are copied (UTF-8 text stays readable).
 */
static void quoted(struct cmr_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	cmr_buf_addc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			cmr_buf_addc(b, '\\');
			cmr_buf_addc(b, (char)c);
		} else if (c == '\t') {
			cmr_buf_adds(b, "\\t");
		} else if (c == '\r') {
			cmr_buf_adds(b, "\\r");
		} else if (c == '\n') {
			cmr_buf_adds(b, "\\n");
		} else if (c < 0x20 || c == 0x7f) {
			cmr_buf_adds(b, "\\x");
			cmr_buf_addc(b, hex[c >> 4]);
			cmr_buf_addc(b, hex[c & 15]);
		} else {
			cmr_buf_addc(b, (char)c);
		}
	}
	cmr_buf_addc(b, '"');
}

static bool multiline(const char *s)
{
	return s && strchr(s, '\n') != NULL;
}

/* ======================================================================
 * Changes
 */

/* The texts a non-sensitive change goes from and to, for the diff view. */
static void change_texts(const struct cmr_change *c, const char **from,
                         const char **to)
{
	*from = NULL;
	*to = NULL;
	switch (c->op) {
	case CMR_OP_SET:
		*from = c->default_value;
		*to = c->new_value;
		break;
	case CMR_OP_UPDATE:
		*from = c->old_value;
		*to = c->new_value;
		break;
	case CMR_OP_RESET:
		*from = c->old_value;
		*to = c->default_value;
		break;
	}
	if (!*from)
		*from = "";
	if (!*to)
		*to = "";
}

static bool change_is_multiline(const struct cmr_change *c)
{
	if (c->sensitive)
		return false;
	return multiline(c->old_value) || multiline(c->new_value) ||
	       (c->op != CMR_OP_UPDATE && multiline(c->default_value));
}

static char change_symbol(const struct cmr_change *c)
{
	if (c->sensitive && c->secret == CMR_SECRET_UNVERIFIED)
		return '!';
	switch (c->op) {
	case CMR_OP_SET:
		return '+';
	case CMR_OP_UPDATE:
		return '~';
	case CMR_OP_RESET:
		return '-';
	}
	return '?';
}

static const char *symbol_color(char sym)
{
	switch (sym) {
	case '+':
		return CMR_SGR_GREEN;
	case '-':
		return CMR_SGR_RED;
	default:
		return CMR_SGR_YELLOW;
	}
}

/* What a secret change does, from its status alone: never a value. */
static void sensitive_text(struct cmr_buf *b, const struct cmr_change *c)
{
	cmr_buf_adds(b, "(sensitive) ");
	switch (c->secret) {
	case CMR_SECRET_NEW:
		cmr_buf_adds(b, "not set in CM; will be written");
		break;
	case CMR_SECRET_ROTATED:
		cmr_buf_adds(b, "differs from the recorded value; will be "
		                "written");
		break;
	case CMR_SECRET_FORCED:
		cmr_buf_adds(b, "cannot verify; written because of "
		                "--force-secrets");
		break;
	case CMR_SECRET_UNVERIFIED:
		cmr_buf_adds(b, "cannot verify; use --force-secrets to write");
		break;
	case CMR_SECRET_NONE:
		cmr_buf_adds(b, c->op == CMR_OP_RESET ? "-> (default)"
		                                      : "will be written");
		break;
	}
	if (cmr_value_is_ref(&c->secret_source)) {
		cmr_buf_adds(b, " (from ");
		cmr_value_ref_text(b, &c->secret_source);
		cmr_buf_addc(b, ')');
	}
}

/* The one-line "old -> new" text of a non-sensitive change. */
static void value_text(struct cmr_buf *b, const struct cmr_change *c)
{
	switch (c->op) {
	case CMR_OP_SET:
		if (c->default_value) {
			cmr_buf_adds(b, "(default ");
			quoted(b, c->default_value);
			cmr_buf_addc(b, ')');
		} else {
			cmr_buf_adds(b, "(unset)");
		}
		break;
	case CMR_OP_UPDATE:
	case CMR_OP_RESET:
		if (c->old_value)
			quoted(b, c->old_value);
		else
			cmr_buf_adds(b, "(unset)");
		break;
	}
	cmr_buf_adds(b, " -> ");
	if (c->op != CMR_OP_RESET) {
		quoted(b, c->new_value ? c->new_value : "");
	} else if (c->default_value) {
		cmr_buf_adds(b, "(default ");
		quoted(b, c->default_value);
		cmr_buf_addc(b, ')');
	} else {
		cmr_buf_adds(b, "(default)");
	}
}

/* The words after the key of a multi-line change (its diff follows). */
static const char *multiline_label(const struct cmr_change *c)
{
	switch (c->op) {
	case CMR_OP_SET:
		return c->default_value ? "(default -> new value)"
		                        : "(unset -> new value)";
	case CMR_OP_UPDATE:
		return NULL;
	case CMR_OP_RESET:
		return c->default_value ? "(back to the default)"
		                        : "(back to the default, not known)";
	}
	return NULL;
}

/* The diff of a multi-line change, indented under its key. */
static int render_change_diff(struct out *o, const struct cmr_change *c,
                              size_t ind, struct cmr_error *err)
{
	const char *from;
	const char *to;
	char indent[64];
	size_t n = ind + 4 < sizeof(indent) - 1 ? ind + 4 : sizeof(indent) - 1;

	memset(indent, ' ', n);
	indent[n] = '\0';
	change_texts(c, &from, &to);
	return cmr_render_diff(o->b, from, to, indent, o->color, err);
}

/* CM's warning or error about the current value, if it reported one. */
static void render_validation(struct out *o, const struct cmr_change *c,
                              size_t ind)
{
	bool e = c->validation == CMR_VALIDATION_ERROR;

	if (c->sensitive || (c->validation != CMR_VALIDATION_WARNING && !e))
		return;
	spaces(o->b, ind + 4);
	sgr(o, e ? CMR_SGR_RED : CMR_SGR_YELLOW);
	cmr_buf_addf(o->b, "CM %s", e ? "error" : "warning");
	sgr(o, CMR_SGR_RESET);
	if (c->validation_message) {
		cmr_buf_adds(o->b, ": ");
		cmr_render_add_safe(o->b, c->validation_message,
		                    strlen(c->validation_message));
	} else {
		cmr_buf_adds(o->b, " on the current value");
	}
	cmr_buf_addc(o->b, '\n');
}

static int render_change(struct out *o, const struct cmr_change *c, size_t ind,
                         size_t keycol, struct cmr_error *err)
{
	char sym = change_symbol(c);
	bool ml = change_is_multiline(c);
	const char *label = ml ? multiline_label(c) : NULL;
	bool words = !ml || label; /* something follows the key */
	size_t klen = strlen(c->key);

	spaces(o->b, ind);
	sgr(o, symbol_color(sym));
	cmr_buf_addc(o->b, sym);
	sgr(o, CMR_SGR_RESET);
	cmr_buf_addc(o->b, ' ');
	cmr_render_add_safe(o->b, c->key, klen);
	if (words || c->pruned)
		spaces(o->b, (klen < keycol ? keycol - klen : 0) + 2);
	if (c->sensitive)
		sensitive_text(o->b, c);
	else if (!ml)
		value_text(o->b, c);
	else if (label)
		cmr_buf_adds(o->b, label);
	if (c->pruned)
		cmr_buf_adds(o->b, words ? "  (pruned)" : "(pruned)");
	cmr_buf_addc(o->b, '\n');
	if (ml && render_change_diff(o, c, ind, err) < 0)
		return CMR_ENOMEM;
	render_validation(o, c, ind);
	return 0;
}

static int render_changes(struct out *o, const struct cmr_scope_change *sc,
                          size_t ind, struct cmr_error *err)
{
	size_t i;
	size_t keycol = 0;
	int error = 0;

	for (i = 0; i < sc->changes.len; i++) {
		size_t n = strlen(sc->changes.items[i]->key);

		if (n <= KEY_COLUMN_MAX && n > keycol)
			keycol = n;
	}
	for (i = 0; error == 0 && i < sc->changes.len; i++)
		error = render_change(o, sc->changes.items[i], ind, keycol,
		                      err);
	return error;
}

/* ======================================================================
 * Sections
 */

static bool same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool is_cluster_scope(const struct cmr_scope_change *sc)
{
	return cmr_scope_in_cluster(sc->scope.kind);
}

static bool is_mgmt_scope(const struct cmr_scope_change *sc)
{
	return sc->scope.kind == CMR_SCOPE_MGMT ||
	       sc->scope.kind == CMR_SCOPE_MGMT_GROUP;
}

/*
 * The service and group scopes of one section (a cluster, or the
 * management service): `service NAME (TYPE)` once per service, then its
 * changes, then `role config group NAME` and the group's changes.
 */
/* Does scope sc belong in the section of the management service or of
 * `cluster`? */
static bool in_section(const struct cmr_scope_change *sc, bool mgmt,
                       const char *cluster)
{
	if (sc->changes.len == 0)
		return false;
	if (mgmt)
		return is_mgmt_scope(sc);
	return is_cluster_scope(sc) && same_str(sc->scope.cluster, cluster);
}

static void service_header(struct out *o, const struct cmr_scope_change *sc)
{
	cmr_buf_addf(o->b, "  service %s",
	             sc->scope.service ? sc->scope.service : "?");
	if (sc->service_type)
		cmr_buf_addf(o->b, " (%s)", sc->service_type);
	cmr_buf_addc(o->b, '\n');
}

static int render_services(struct out *o, const struct cmr_plan *plan,
                           bool mgmt, const char *cluster,
                           struct cmr_error *err)
{
	const struct cmr_scope_change *prev = NULL;
	size_t i;
	int error = 0;

	for (i = 0; error == 0 && i < plan->scopes.len; i++) {
		const struct cmr_scope_change *sc = plan->scopes.items[i];
		bool group = cmr_scope_is_group(sc->scope.kind);

		if (!in_section(sc, mgmt, cluster))
			continue;
		if (!prev || !same_str(sc->scope.service, prev->scope.service))
			service_header(o, sc);
		prev = sc;
		if (group)
			cmr_buf_addf(o->b, "    role config group %s\n",
			             sc->scope.group ? sc->scope.group : "?");
		error = render_changes(o, sc, group ? 6 : 4, err);
	}
	return error;
}

static bool has_steps(const struct cmr_parcel_change *p, enum cmr_parcel_cmd a,
                      enum cmr_parcel_cmd b)
{
	size_t i;

	for (i = 0; i < p->nsteps && i < CMR_PARCEL_MAX_STEPS; i++)
		if (p->steps[i] == a || p->steps[i] == b)
			return true;
	return false;
}

static const char *stage_text(enum cmr_parcel_stage s)
{
	const char *n = cmr_parcel_stage_name(s);

	return *n ? n : "(not listed)";
}

static void render_parcel(struct out *o, const struct cmr_parcel_change *p)
{
	size_t i;

	cmr_buf_addf(o->b, "  parcel %s %s  %s -> %s\n", p->product, p->version,
	             stage_text(p->from), stage_text(p->to));
	spaces(o->b, 6);
	for (i = 0; i < p->nsteps && i < CMR_PARCEL_MAX_STEPS; i++)
		cmr_buf_addf(o->b, "%s%s", i ? " -> " : "",
		             cmr_parcel_cmd_verb(p->steps[i]));
	if (p->nsteps == 0)
		cmr_buf_adds(o->b, "(no command)");
	if (has_steps(p, CMR_PARCEL_CMD_ACTIVATE, CMR_PARCEL_CMD_DEACTIVATE))
		cmr_buf_adds(o->b, " (then restart)");
	cmr_buf_addc(o->b, '\n');
	if (p->replaces)
		cmr_buf_addf(o->b, "      replaces %s %s (CM deactivates it)\n",
		             p->product, p->replaces);
	if (p->needs_repo_refresh)
		cmr_buf_adds(
		        o->b,
		        "      not listed yet: appears after refreshParcelRepos\n");
}

/*
 * The smallest cluster name after `prev` (NULL: the first) among the
 * parcels and the cluster scopes with changes; NULL when there is none.
 * Walking clusters this way needs no memory and gives sorted order.
 */
static const char *next_cluster(const struct cmr_plan *plan, const char *prev)
{
	const char *best = NULL;
	size_t i;

	for (i = 0; i < plan->parcels.len + plan->scopes.len; i++) {
		const char *c;

		if (i < plan->parcels.len) {
			c = plan->parcels.items[i]->cluster;
		} else {
			const struct cmr_scope_change *sc =
			        plan->scopes.items[i - plan->parcels.len];

			if (!is_cluster_scope(sc) || sc->changes.len == 0)
				continue;
			c = sc->scope.cluster;
		}
		if (!c || (prev && strcmp(c, prev) <= 0))
			continue;
		if (!best || strcmp(c, best) < 0)
			best = c;
	}
	return best;
}

static int render_sections(struct out *o, const struct cmr_plan *plan,
                           struct cmr_error *err)
{
	bool cm = plan->refresh_parcel_repos, mgmt = false;
	const char *c = NULL;
	size_t i;
	size_t j;
	int error = 0;

	for (i = 0; i < plan->scopes.len; i++) {
		const struct cmr_scope_change *sc = plan->scopes.items[i];

		if (sc->changes.len == 0)
			continue;
		cm |= sc->scope.kind == CMR_SCOPE_CM;
		mgmt |= is_mgmt_scope(sc);
	}
	if (cm) {
		section(o, "Cloudera Manager settings", NULL);
		for (i = 0; error == 0 && i < plan->scopes.len; i++)
			if (plan->scopes.items[i]->scope.kind == CMR_SCOPE_CM)
				error = render_changes(o, plan->scopes.items[i],
				                       2, err);
		if (plan->refresh_parcel_repos)
			cmr_buf_adds(
			        o->b,
			        "  then refresh the parcel repositories (refreshParcelRepos)\n");
	}
	if (error == 0 && mgmt) {
		section(o, "Management service", NULL);
		error = render_services(o, plan, true, NULL, err);
	}
	while (error == 0 && (c = next_cluster(plan, c)) != NULL) {
		section(o, "Cluster", c);
		for (j = 0; j < plan->parcels.len; j++)
			if (same_str(plan->parcels.items[j]->cluster, c))
				render_parcel(o, plan->parcels.items[j]);
		error = render_services(o, plan, false, c, err);
	}
	return error;
}

/* ======================================================================
 * Restarts
 */

static bool same_group(const struct cmr_restart *a, const struct cmr_restart *b)
{
	return same_str(a->cluster, b->cluster) && a->action == b->action &&
	       a->reasons == b->reasons && a->maintenance == b->maintenance;
}

static void restart_reasons(struct cmr_buf *b, const struct cmr_restart *r)
{
	const char *sep = "";

	cmr_buf_adds(b, "(");
	if (r->action == CMR_ACTION_DEFERRED) {
		cmr_buf_adds(b, "restart: never");
		sep = "; ";
	}
	if (r->reasons & CMR_REASON_SETTINGS) {
		cmr_buf_addf(b, "%ssettings changed", sep);
		sep = "; ";
	}
	if (r->reasons & CMR_REASON_PARCEL) {
		cmr_buf_addf(b, "%snew parcel", sep);
		sep = "; ";
	}
	if (r->reasons & CMR_REASON_ALREADY_STALE) {
		cmr_buf_addf(b, "%salready stale in CM", sep);
		sep = "; ";
	}
	if (r->maintenance)
		cmr_buf_addf(b, "%sin maintenance mode: skipped", sep);
	cmr_buf_adds(b, ")");
}

/* One line: the action, the services of group [i, k), the reasons;
 * returns k. */
static size_t restart_line(struct out *o, const struct cmr_plan *plan, size_t i,
                           size_t ind, size_t width)
{
	const struct cmr_restart *r = plan->restarts.items[i];
	const char *name = cmr_restart_action_name(r->action);
	bool muted = r->maintenance || r->action == CMR_ACTION_DEFERRED;
	size_t k;

	spaces(o->b, ind);
	sgr(o, muted ? CMR_SGR_YELLOW : CMR_SGR_BOLD);
	cmr_buf_adds(o->b, name);
	sgr(o, CMR_SGR_RESET);
	spaces(o->b, width - strlen(name) + 2);
	for (k = i;
	     k < plan->restarts.len && same_group(plan->restarts.items[k], r);
	     k++)
		cmr_buf_addf(o->b, "%s%s", k > i ? ", " : "",
		             plan->restarts.items[k]->service);
	cmr_buf_adds(o->b, "   ");
	restart_reasons(o->b, r);
	cmr_buf_addc(o->b, '\n');
	return k;
}

static void render_restarts(struct out *o, const struct cmr_plan *plan)
{
	bool several = false;
	size_t i;
	size_t width = 0;

	if (plan->restarts.len == 0)
		return;
	for (i = 0; i < plan->restarts.len; i++) {
		const struct cmr_restart *r = plan->restarts.items[i];
		size_t n = strlen(cmr_restart_action_name(r->action));

		if (n > width)
			width = n;
		if (!same_str(r->cluster, plan->restarts.items[0]->cluster))
			several = true;
	}
	section(o, "Restarts expected (apply acts on what CM reports)", NULL);
	for (i = 0; i < plan->restarts.len;) {
		const char *c = plan->restarts.items[i]->cluster;

		/* With several clusters, group the lines under each. */
		if (several &&
		    (i == 0 ||
		     !same_str(plan->restarts.items[i - 1]->cluster, c))) {
			if (c)
				cmr_buf_addf(o->b, "  Cluster \"%s\"\n", c);
			else
				cmr_buf_adds(o->b, "  Management service\n");
		}
		i = restart_line(o, plan, i, several ? 4 : 2, width);
	}
}

/* ======================================================================
 * Notes, errors, summary
 */

static void render_note(struct out *o, const struct cmr_note *n)
{
	const char *level = cmr_note_level_name(n->level);

	cmr_buf_adds(o->b, "  ");
	if (n->mark.file) {
		cmr_buf_adds(o->b, n->mark.file);
		if (n->mark.line)
			cmr_buf_addf(o->b, ":%u", (unsigned)n->mark.line);
		if (n->mark.line && n->mark.col)
			cmr_buf_addf(o->b, ":%u", (unsigned)n->mark.col);
		cmr_buf_adds(o->b, ": ");
	}
	sgr(o, n->level == CMR_NOTE_ERROR     ? CMR_SGR_RED
	       : n->level == CMR_NOTE_WARNING ? CMR_SGR_YELLOW
	                                      : CMR_SGR_BOLD);
	cmr_buf_adds(o->b, level);
	sgr(o, CMR_SGR_RESET);
	cmr_buf_adds(o->b, ": ");
	if (n->scope && *n->scope) {
		cmr_render_add_safe(o->b, n->scope, strlen(n->scope));
		cmr_buf_adds(o->b, ": ");
	}
	if (n->message)
		cmr_render_add_safe(o->b, n->message, strlen(n->message));
	cmr_buf_addc(o->b, '\n');
}

static void render_notes(struct out *o, const struct cmr_plan *plan,
                         bool errors, const char *title)
{
	bool any = false;
	size_t i;

	for (i = 0; i < plan->notes.len; i++) {
		const struct cmr_note *n = plan->notes.items[i];

		if ((n->level == CMR_NOTE_ERROR) != errors)
			continue;
		if (!any)
			section(o, title, NULL);
		any = true;
		render_note(o, n);
	}
}

/* Appends ", N what" to an "Also:" list, when N is not zero. */
static void also(struct cmr_buf *b, bool *first, size_t n, const char *what,
                 const char *whats)
{
	if (n == 0)
		return;
	cmr_buf_addf(b, "%s%zu %s", *first ? "Also: " : ", ", n,
	             n == 1 ? what : whats);
	*first = false;
}

static void render_summary(struct out *o, const struct cmr_plan *plan)
{
	struct cmr_plan_summary s;
	bool first = true;

	cmr_plan_summarize(&s, plan);
	cmr_buf_addc(o->b, '\n');
	sgr(o, CMR_SGR_BOLD);
	if (cmr_plan_has_changes(plan))
		cmr_buf_addf(
		        o->b,
		        "Plan: %zu setting%s to change, %zu parcel%s to change, %zu service%s to restart.",
		        s.settings, plural(s.settings), s.parcels,
		        plural(s.parcels), s.restarts, plural(s.restarts));
	else if (s.errors == 0)
		cmr_buf_adds(o->b, "No changes. CM matches the desired state.");
	else
		cmr_buf_adds(o->b, "No changes can be planned.");
	sgr(o, CMR_SGR_RESET);
	cmr_buf_addc(o->b, '\n');

	also(o->b, &first, s.refreshes, "service to refresh",
	     "services to refresh");
	also(o->b, &first, s.client_configs, "client configuration to deploy",
	     "client configurations to deploy");
	also(o->b, &first, s.deferred, "restart deferred (restart: never)",
	     "restarts deferred (restart: never)");
	also(o->b, &first, s.maintenance,
	     "service in maintenance mode (not restarted)",
	     "services in maintenance mode (not restarted)");
	if (!first)
		cmr_buf_adds(o->b, ".\n");
	if (s.unverified)
		cmr_buf_addf(
		        o->b,
		        "%zu secret%s cannot be verified and will not be written (use --force-secrets).\n",
		        s.unverified, plural(s.unverified));
	if (s.errors) {
		sgr(o, CMR_SGR_RED);
		cmr_buf_addf(o->b, "%zu error%s: this plan cannot be applied.",
		             s.errors, plural(s.errors));
		sgr(o, CMR_SGR_RESET);
		cmr_buf_addc(o->b, '\n');
	}
}

/* ======================================================================
 * Entry points
 */

/* For show: the plan's id, age, clusters and targets. */
static void render_origin(struct out *o, const struct cmr_plan *plan)
{
	size_t i;

	cmr_buf_addf(o->b, "plan %s, made %s\n",
	             plan->plan_id ? plan->plan_id : "(no id)",
	             plan->created ? plan->created : "(time unknown)");
	if (plan->clusters.len) {
		cmr_buf_adds(o->b, "clusters: ");
		for (i = 0; i < plan->clusters.len; i++)
			cmr_buf_addf(o->b, "%s\"%s\"", i ? ", " : "",
			             plan->clusters.items[i]);
		cmr_buf_addc(o->b, '\n');
	}
	if (plan->targets.len) {
		cmr_buf_adds(o->b, "targets: ");
		for (i = 0; i < plan->targets.len; i++)
			cmr_buf_addf(o->b, "%s%s", i ? ", " : "",
			             plan->targets.items[i]);
		cmr_buf_addc(o->b, '\n');
	}
}

static void render_header(struct out *o, const struct cmr_plan *plan,
                          const struct cmr_render_options *opt)
{
	const char *title = opt && opt->title ? opt->title : "cmrecon plan";

	sgr(o, CMR_SGR_BOLD);
	cmr_buf_adds(o->b, title);
	sgr(o, CMR_SGR_RESET);
	if (plan->cm_version || plan->cm_url || plan->api_version) {
		cmr_buf_adds(o->b, "   (CM");
		if (plan->cm_version)
			cmr_buf_addf(o->b, " %s", plan->cm_version);
		if (plan->cm_url)
			cmr_buf_addf(o->b, " at %s", plan->cm_url);
		if (plan->api_version)
			cmr_buf_addf(o->b, ", API %s", plan->api_version);
		cmr_buf_addc(o->b, ')');
	}
	cmr_buf_addc(o->b, '\n');
	if (opt && opt->show_origin)
		render_origin(o, plan);
}

int cmr_render_plan_text(struct cmr_buf *out, const struct cmr_plan *plan,
                         const struct cmr_render_options *opt,
                         struct cmr_error *err)
{
	struct out o;
	int error;

	o.b = out;
	o.color = opt && opt->color;
	render_header(&o, plan, opt);
	error = render_sections(&o, plan, err);
	if (error < 0)
		return error;
	render_restarts(&o, plan);
	render_notes(&o, plan, false, "Notes");
	render_notes(&o, plan, true, "Errors (the plan cannot be applied)");
	render_summary(&o, plan);
	if (cmr_buf_error(out) < 0)
		return cmr_error_set(
		        err, CMR_ENOMEM,
		        "render: out of memory rendering the plan");
	return 0;
}

int cmr_render_plan_json(struct cmr_buf *out, const struct cmr_plan *plan,
                         const struct cmr_render_options *opt,
                         struct cmr_error *err)
{
	(void)opt;
	return cmr_planfile_write(out, plan, err);
}
