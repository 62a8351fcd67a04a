/*
 * plan.c -- diff(desired, live) -> an ordered, deterministic plan.
 *
 * This is the functional core of cmrecon: no I/O, no clock, no network.
 * Everything it needs arrives as arguments -- the desired state, the live
 * state, the view=full metadata, and a callback that resolves secret
 * references -- so every rule of DESIGN.md "Plan semantics" can be tested
 * with two small models and no HTTP.
 *
 * How the rules map onto the code:
 *   - diff_config() compares one scope: updates, sets, resets, the default
 *     rule ("equal to CM's default while unset is no change"), prune, the
 *     sensitive-value rules and unknown names (with suggestions);
 *   - plan_parcels() turns a target stage into CM's parcel commands, up or
 *     down the stage ladder;
 *   - effect_of() predicts, by rule, whether a change needs a restart, a
 *     refresh or a client-config deployment; plan_restarts() collects the
 *     services that will need one (or already do) in dependency order.
 * Apply acts on what CM reports after the writes, so the restart section
 * is a forecast, and says so.
 *
 * The plan copies every string it keeps into its own arena, so it outlives
 * both states.  Secrets never enter it: a sensitive change carries no
 * value, only where the value comes from ("env NAME").
 */
#include "cmr/plan.h"

#include <assert.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/hmac.h"
#include "cmr/suggest.h"
#include "cmr/vec.h"

/* Everything one cmr_plan_build call carries around. */
struct planner {
	struct cmr_plan *plan;
	const struct cmr_state *desired;
	const struct cmr_state *live;
	const struct cmr_params *params;
	const struct cmr_plan_options *opt;
	/* The cluster whose tags hold CM-level and mgmt secret records. */
	const struct cmr_cluster *record_cluster;
	bool warned_no_hmac;
	struct cmr_error *err;
};

static int oom(struct planner *p)
{
	return cmr_error_set(p->err, CMR_ENOMEM, "out of memory");
}

static const char *pdup(struct planner *p, const char *s)
{
	return s ? cmr_arena_strdup(&p->plan->arena, s) : NULL;
}

/* Copies a mark, with its file name, into the plan's arena. */
static struct cmr_mark pmark(struct planner *p, const struct cmr_mark *m)
{
	struct cmr_mark out = { NULL, 0, 0 };

	if (m) {
		out = *m;
		out.file = pdup(p, m->file);
	}
	return out;
}

/* ----------------------------------------------------------------------
 * Notes
 */

static int add_note(struct planner *p, enum cmr_note_level level,
                    const char *scope, const struct cmr_mark *mark,
                    const char *fmt, ...) CMR_PRINTF(5, 6);

static int add_note(struct planner *p, enum cmr_note_level level,
                    const char *scope, const struct cmr_mark *mark,
                    const char *fmt, ...)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_note *n;
	va_list ap;

	n = cmr_arena_alloc(&p->plan->arena, sizeof(*n));
	va_start(ap, fmt);
	cmr_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	if (!n || cmr_buf_error(&b)) {
		cmr_buf_release(&b);
		return oom(p);
	}
	n->level = level;
	n->scope = pdup(p, scope ? scope : "");
	n->message = pdup(p, b.ptr);
	n->mark = pmark(p, mark);
	cmr_buf_release(&b);
	if (!n->scope || !n->message || cmr_vec_push(&p->plan->notes, n) < 0)
		return oom(p);
	return 0;
}

/* Appends ": did you mean 'a', 'b' or 'c'?" when there are suggestions. */
static void add_suggestions(struct cmr_buf *b, const struct cmr_suggest *s)
{
	size_t i;

	if (s->n == 0)
		return;
	cmr_buf_adds(b, "; did you mean ");
	for (i = 0; i < s->n; i++) {
		if (i > 0)
			cmr_buf_adds(b, i + 1 == s->n ? " or " : ", ");
		cmr_buf_addf(b, "'%s'", s->names[i]);
	}
	cmr_buf_addc(b, '?');
}

/* The label of a service (cluster NULL: the management service). */
static void service_label(struct cmr_buf *b, const char *cluster,
                          const char *service)
{
	struct cmr_scope s = { cluster ? CMR_SCOPE_SERVICE : CMR_SCOPE_MGMT,
		               cluster, service, NULL };

	cmr_scope_label(b, &s);
}

/* ----------------------------------------------------------------------
 * Targets
 */

/* Splits "a/b%2Fc/d" into up to three unescaped segments. */
static int split_target(char seg[3][256], size_t *nseg, const char *t)
{
	size_t n = 0;
	size_t len = 0;

	memset(seg, 0, 3 * sizeof(*seg));
	for (; *t; t++) {
		char c = *t;

		if (c == '/') {
			if (len == 0 || ++n >= 3)
				return CMR_EINVAL;
			len = 0;
			continue;
		}
		if (c == '%' && t[1] == '2' && (t[2] == 'F' || t[2] == 'f')) {
			c = '/';
			t += 2;
		} else if (c == '%' && t[1] == '2' && t[2] == '5') {
			c = '%';
			t += 2;
		}
		if (len >= 255)
			return CMR_EINVAL;
		seg[n][len++] = c;
	}
	if (len == 0)
		return CMR_EINVAL;
	*nseg = n + 1;
	return 0;
}

/*
 * --target selection.  selects(): the scope (cluster, service, group) lies
 * inside one of the targets, so its settings are planned -- "C/hdfs"
 * selects hdfs's service-wide settings and all of its groups, "C/hdfs/G"
 * only that group.  touches(): some target lies inside the container
 * (cluster, service), so it must be walked.  Without targets everything
 * is selected; CM-level scopes (cluster NULL) only then.
 */
static bool target_match(const struct planner *p, const char *cluster,
                         const char *service, const char *group, bool inside)
{
	size_t i;

	if (p->opt->ntargets == 0)
		return true;
	if (!cluster)
		return false;
	for (i = 0; i < p->opt->ntargets; i++) {
		char seg[3][256];
		size_t n;

		if (split_target(seg, &n, p->opt->targets[i]) < 0 ||
		    strcmp(seg[0], cluster) != 0)
			continue;
		if (inside) {
			/* the target's segments are a prefix of the scope */
			if (n >= 2 &&
			    (!service || strcmp(seg[1], service) != 0))
				continue;
			if (n >= 3 && (!group || strcmp(seg[2], group) != 0))
				continue;
		} else if (n >= 2 && service && strcmp(seg[1], service) != 0) {
			continue;
		}
		return true;
	}
	return false;
}

static bool selects(const struct planner *p, const char *cluster,
                    const char *service, const char *group)
{
	return target_match(p, cluster, service, group, true);
}

static bool touches(const struct planner *p, const char *cluster,
                    const char *service)
{
	return target_match(p, cluster, service, NULL, false);
}

/* Does --target `t` name something in the desired state? */
static int check_target(struct planner *p, const char *t)
{
	char seg[3][256];
	const struct cmr_cluster *c;
	const struct cmr_service *s;
	size_t n;

	if (split_target(seg, &n, t) < 0)
		return cmr_error_set(p->err, CMR_EINVAL,
		                     "invalid --target '%s': expected "
		                     "CLUSTER[/SERVICE[/GROUP]]",
		                     t);
	c = cmr_state_find_cluster(p->desired, seg[0]);
	if (!c)
		return cmr_error_set(p->err, CMR_EINVAL,
		                     "--target '%s': the desired state has no "
		                     "cluster '%s'",
		                     t, seg[0]);
	if (n < 2)
		return 0;
	s = cmr_cluster_find_service(c, seg[1]);
	if (!s)
		return cmr_error_set(p->err, CMR_EINVAL,
		                     "--target '%s': the desired state has no "
		                     "service '%s' in cluster '%s'",
		                     t, seg[1], seg[0]);
	if (n >= 3 && !cmr_service_find_group(s, seg[2]))
		return cmr_error_set(p->err, CMR_EINVAL,
		                     "--target '%s': the desired state has no "
		                     "role config group '%s' in service '%s'",
		                     t, seg[2], seg[1]);
	return 0;
}

/* ----------------------------------------------------------------------
 * Effects: what a change will make necessary, by rule (FACTS.md 10)
 */

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s);
	size_t lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * Settings that feed only Cloudera Manager's monitoring (health test
 * thresholds, suppressions, alerts) change no process configuration, so
 * no role becomes stale.
 */
static bool monitoring_only(const char *key)
{
	return strstr(key, "_suppression_") || strstr(key, "health") ||
	       has_suffix(key, "_thresholds") || has_suffix(key, "_window") ||
	       strncmp(key, "enable_alerts", 13) == 0 ||
	       strncmp(key, "enable_config_alerts", 20) == 0;
}

/*
 * Settings in refreshable files: host include/exclude lists, DataNode data
 * directories, scheduler and pool allocations.  A refresh applies them
 * without a restart.
 */
static bool refreshable(const char *key)
{
	static const char *const keys[] = {
		"dfs_data_dir_list",
		"namenode_hosts_exclude_safety_valve",
		"rm_hosts_exclude_safety_valve",
		"yarn_fs_scheduled_allocations",
		"impala_scheduled_allocations",
		"resourcemanager_fair_scheduler_configuration",
	};
	size_t k;

	for (k = 0; k < CMR_ARRAY_SIZE(keys); k++)
		if (strcmp(key, keys[k]) == 0)
			return true;
	return false;
}

static unsigned effect_of(enum cmr_scope_kind kind, const char *role_type,
                          const char *key)
{
	if (kind == CMR_SCOPE_CM || monitoring_only(key))
		return CMR_EFFECT_NONE;
	if (role_type && strcmp(role_type, "GATEWAY") == 0)
		return CMR_EFFECT_CLIENT_CONFIG;
	if (refreshable(key))
		return CMR_EFFECT_REFRESH;
	return CMR_EFFECT_RESTART;
}

/* ----------------------------------------------------------------------
 * Secrets
 */

static const struct cmr_cluster *record_cluster_for(struct planner *p,
                                                    const char *cluster)
{
	if (!cluster)
		return p->record_cluster;
	return cmr_state_find_cluster(p->live, cluster);
}

/*
 * Without an HMAC key a redacted secret cannot be compared: warn once per
 * plan, and report it UNVERIFIED (or FORCED with --force-secrets).
 */
static int judge_without_key(struct planner *p, enum cmr_secret_status *status,
                             bool force)
{
	if (!p->warned_no_hmac) {
		int error;

		p->warned_no_hmac = true;
		error = add_note(p, CMR_NOTE_WARNING, "", NULL,
		                 "CMRECON_HMAC_KEY is not set: secrets "
		                 "cannot be recorded or compared");
		if (error < 0)
			return error;
	}
	*status = force ? CMR_SECRET_FORCED : CMR_SECRET_UNVERIFIED;
	return 0;
}

/*
 * Compares the resolved secret `value` with the HMAC record kept in the
 * record cluster's tags: NONE when it matches, ROTATED when it differs,
 * UNVERIFIED (or FORCED) when there is no record to compare with.
 */
static int judge_by_record(struct planner *p, enum cmr_secret_status *status,
                           const char *cluster, const char *scope_key,
                           const struct cmr_config_entry *want,
                           const struct cmr_buf *value, bool force)
{
	struct cmr_buf tag = CMR_BUF_INIT;
	struct cmr_buf rec = CMR_BUF_INIT;
	const struct cmr_cluster *rc = record_cluster_for(p, cluster);
	const struct cmr_config_entry *stored = NULL;
	int error = 0;

	if (cmr_plan_secret_tag(&tag, scope_key, want->name) < 0 ||
	    cmr_hmac_record(&rec, p->opt->hmac_key, p->opt->hmac_key_len,
	                    value->ptr, value->len) < 0) {
		error = oom(p);
		goto done;
	}
	if (rc)
		stored = cmr_config_find(&rc->tags, tag.ptr);
	if (!stored || stored->value.kind != CMR_VALUE_TEXT)
		*status = force ? CMR_SECRET_FORCED : CMR_SECRET_UNVERIFIED;
	else if (cmr_secure_streq(stored->value.text, rec.ptr))
		*status = CMR_SECRET_NONE;
	else
		*status = CMR_SECRET_ROTATED;
done:
	cmr_buf_release(&tag);
	cmr_buf_release(&rec);
	return error;
}

/*
 * Compares a secret with the record cmrecon keeps in CM's tags.  Sets
 * *status to NEW (live unset), ROTATED, UNVERIFIED or FORCED, or NONE when
 * the record matches (no change).
 */
static int judge_secret(struct planner *p, enum cmr_secret_status *status,
                        const char *cluster, const char *scope_key,
                        const struct cmr_config_entry *want,
                        const struct cmr_config_entry *have)
{
	struct cmr_buf value = CMR_BUF_INIT;
	bool force = p->opt->flags & CMR_PLAN_FORCE_SECRETS;
	int error = 0;

	/* The reference must resolve even when the value is not compared:
	 * DESIGN.md requires it to be set whenever plan runs. */
	if (!p->opt->resolve) {
		error = cmr_error_set(p->err, CMR_EINVAL,
		                      "no secret resolver configured");
		goto done;
	}
	error = p->opt->resolve(&value, &want->value, p->opt->resolve_ud,
	                        p->err);
	if (error < 0)
		goto done;
	if (!have) {
		*status = CMR_SECRET_NEW;
		goto done;
	}
	/* A key CM does not redact shows its value: compare directly. */
	if (!have->sensitive && have->value.kind == CMR_VALUE_TEXT &&
	    strcmp(have->value.text, "REDACTED") != 0) {
		*status = cmr_secure_streq(have->value.text, value.ptr)
		                  ? CMR_SECRET_NONE
		                  : CMR_SECRET_ROTATED;
		goto done;
	}
	if (!p->opt->hmac_key)
		error = judge_without_key(p, status, force);
	else
		error = judge_by_record(p, status, cluster, scope_key, want,
		                        &value, force);
done:
	/* The resolved secret must not linger in freed memory. */
	if (value.alloc)
		memset(value.ptr, 0, value.len);
	cmr_buf_release(&value);
	return error;
}

/* ----------------------------------------------------------------------
 * One scope's settings
 */

struct scope_ref {
	struct cmr_scope scope;
	const char *service_type;
	const char *role_type; /* the live group's role type, if any */
	bool prune;
};

/* An empty scope change for ref, in the plan's arena; NULL on OOM. */
static struct cmr_scope_change *new_scope(struct planner *p,
                                          const struct scope_ref *ref)
{
	struct cmr_scope_change *sc;

	sc = cmr_arena_alloc(&p->plan->arena, sizeof(*sc));
	if (!sc)
		return NULL;
	sc->scope.kind = ref->scope.kind;
	sc->scope.cluster = pdup(p, ref->scope.cluster);
	sc->scope.service = pdup(p, ref->scope.service);
	sc->scope.group = pdup(p, ref->scope.group);
	sc->service_type = pdup(p, ref->service_type);
	return sc;
}

static int push_change(struct planner *p, struct cmr_scope_change *sc,
                       struct cmr_change *ch)
{
	return cmr_vec_push(&sc->changes, ch) < 0 ? oom(p) : 0;
}

static bool is_sensitive(const struct cmr_config_entry *live,
                         const struct cmr_param *prm)
{
	return (live && live->sensitive) || (prm && prm->sensitive);
}

/* The unknown-name check, with suggestions from view=full. */
static int unknown_key(struct planner *p, const char *label,
                       const struct cmr_scope_params *sp,
                       const struct cmr_config_entry *want)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_suggest s;
	size_t i;
	int error;

	cmr_suggest_init(&s, want->name);
	for (i = 0; i < sp->params.len; i++)
		cmr_suggest_offer(&s, sp->params.items[i]->name);
	cmr_buf_addf(&b, "unknown setting '%s'", want->name);
	add_suggestions(&b, &s);
	if (cmr_buf_error(&b)) {
		cmr_buf_release(&b);
		return oom(p);
	}
	error = add_note(p, CMR_NOTE_ERROR, label, &want->mark, "%s", b.ptr);
	cmr_buf_release(&b);
	return error;
}

/*
 * Is a literal value already in place?  It is when it equals the live
 * value, or -- while the key is unset -- CM's default (the default rule).
 */
static bool text_in_place(const struct cmr_config_entry *want,
                          const struct cmr_config_entry *have,
                          const char *default_value)
{
	if (have)
		return have->value.kind == CMR_VALUE_TEXT &&
		       strcmp(have->value.text, want->value.text) == 0;
	return default_value && strcmp(default_value, want->value.text) == 0;
}

/*
 * Copies a decided change into the plan's arena, with the parameter's
 * validation, the key's mark and the change's effect; *chp receives it.
 */
static int keep_change(struct planner *p, struct cmr_change **chp,
                       const struct cmr_change *ch, const struct scope_ref *ref,
                       const struct cmr_param *prm,
                       const struct cmr_config_entry *want)
{
	struct cmr_change *out = cmr_arena_alloc(&p->plan->arena, sizeof(*out));

	if (!out)
		return oom(p);
	*out = *ch;
	if (prm) {
		out->validation = prm->validation;
		out->validation_message = prm->validation_message;
	}
	out->key = pdup(p, want->name);
	out->old_value = pdup(p, ch->old_value);
	out->new_value = pdup(p, ch->new_value);
	out->default_value = pdup(p, ch->default_value);
	out->validation_message = pdup(p, out->validation_message);
	out->mark = pmark(p, &want->mark);
	out->secret_source.text = pdup(p, ch->secret_source.text);
	out->effect = effect_of(ref->scope.kind, ref->role_type, want->name);
	*chp = out;
	return 0;
}

/*
 * Decides what to do about one key the file names.  On return *chp is a
 * new change, or NULL when the key needs nothing.
 */
static int diff_key(struct planner *p, struct cmr_change **chp,
                    const struct scope_ref *ref, const char *label,
                    const char *scope_key, const struct cmr_scope_params *sp,
                    const struct cmr_config_entry *want,
                    const struct cmr_config_entry *have)
{
	const struct cmr_param *prm = cmr_scope_find_param(sp, want->name);
	struct cmr_change ch;
	int error;

	*chp = NULL;
	memset(&ch, 0, sizeof(ch));
	if (sp && !prm && !have)
		return unknown_key(p, label, sp, want);
	ch.sensitive = is_sensitive(have, prm);
	ch.default_value = prm ? prm->default_value : NULL;
	switch (want->value.kind) {
	case CMR_VALUE_RESET:
		if (!have)
			return 0;
		ch.op = CMR_OP_RESET;
		ch.old_value = ch.sensitive ? NULL : have->value.text;
		break;
	case CMR_VALUE_TEXT:
		if (ch.sensitive)
			return add_note(p, CMR_NOTE_ERROR, label, &want->mark,
			                "'%s' is sensitive in CM: write it as "
			                "a secret reference ({env: NAME} or "
			                "{file: PATH}), not a literal",
			                want->name);
		if (text_in_place(want, have, ch.default_value))
			return 0;
		ch.op = have ? CMR_OP_UPDATE : CMR_OP_SET;
		ch.old_value = have ? have->value.text : NULL;
		ch.new_value = want->value.text;
		break;
	case CMR_VALUE_ENV:
	case CMR_VALUE_FILE:
		ch.sensitive = true;
		ch.default_value = NULL;
		error = judge_secret(p, &ch.secret, ref->scope.cluster,
		                     scope_key, want, have);
		if (error < 0)
			return error;
		if (ch.secret == CMR_SECRET_NONE)
			return 0;
		ch.op = have ? CMR_OP_UPDATE : CMR_OP_SET;
		ch.secret_source.kind = want->value.kind;
		ch.secret_source.text = want->value.text;
		break;
	}
	return keep_change(p, chp, &ch, ref, prm, want);
}

/* prune: a live key the file does not name goes back to its default. */
static int prune_key(struct planner *p, struct cmr_change **chp,
                     const struct scope_ref *ref,
                     const struct cmr_scope_params *sp,
                     const struct cmr_config_entry *have)
{
	const struct cmr_param *prm = cmr_scope_find_param(sp, have->name);
	struct cmr_change *out;

	*chp = NULL;
	if (is_sensitive(have, prm))
		return 0; /* sensitive keys are never pruned */
	/* Nor are references to other services (hdfs_service,
	 * zookeeper_service ...): resetting one would cut the service off
	 * from its dependency, which no one means by "prune". */
	if (has_suffix(have->name, "_service"))
		return 0;
	out = cmr_arena_alloc(&p->plan->arena, sizeof(*out));
	if (!out)
		return oom(p);
	out->key = pdup(p, have->name);
	out->op = CMR_OP_RESET;
	out->old_value = pdup(p, have->value.text);
	out->default_value = pdup(p, prm ? prm->default_value : NULL);
	out->pruned = true;
	out->effect = effect_of(ref->scope.kind, ref->role_type, have->name);
	*chp = out;
	return 0;
}

/*
 * The side-by-side walk of diff_config(): both configs are sorted by name,
 * want[i] and have[j] are the next entries to look at.  have may be NULL
 * (nothing live to compare with).
 */
struct scope_walk {
	const struct scope_ref *ref;
	const char *label; /* cmr_scope_label(), for notes */
	const char *key;   /* cmr_scope_key(), for secret tags */
	const struct cmr_scope_params *sp; /* view=full metadata, or NULL */
	const struct cmr_config *want;
	const struct cmr_config *have;
	size_t i;
	size_t j;
};

/* True while the walk has entries left to look at. */
static bool walk_more(const struct scope_walk *w)
{
	return w->i < w->want->len ||
	       (w->ref->prune && w->have && w->j < w->have->len);
}

/*
 * One step of the walk: a key the file names is diffed against its live
 * entry (if any); a live key the file does not name is pruned (with
 * prune) or skipped.  Advances past the entries used; *chp is the
 * resulting change, or NULL.
 */
static int walk_step(struct planner *p, struct scope_walk *w,
                     struct cmr_change **chp)
{
	bool has_want = w->i < w->want->len;
	bool has_have = w->have && w->j < w->have->len;
	const struct cmr_config_entry *have = NULL;
	int c;

	*chp = NULL;
	/* walk_more() holds, so one side has an entry; entries are never
	 * NULL, so which side goes next follows from the indexes alone. */
	assert(has_want || has_have);
	if (has_have)
		have = w->have->items[w->j];
	if (has_want && has_have)
		c = strcmp(w->want->items[w->i]->name, have->name);
	else
		c = has_want ? -1 : 1;
	if (c <= 0) {
		const struct cmr_config_entry *want = w->want->items[w->i];

		w->i++;
		if (c == 0)
			w->j++;
		return diff_key(p, chp, w->ref, w->label, w->key, w->sp, want,
		                c == 0 ? have : NULL);
	}
	w->j++;
	if (!w->ref->prune)
		return 0;
	return prune_key(p, chp, w->ref, w->sp, have);
}

/*
 * Diffs one scope.  *effects receives the OR of the changes' effects (for
 * the restart forecast).  The scope is added to the plan only when it has
 * something to show.
 */
static int diff_config(struct planner *p, unsigned *effects,
                       const struct scope_ref *ref,
                       const struct cmr_config *want,
                       const struct cmr_config *have)
{
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_buf label = CMR_BUF_INIT;
	struct cmr_scope_change *sc = NULL;
	struct scope_walk w;
	int error = 0;

	if (cmr_scope_key(&key, &ref->scope) < 0 ||
	    cmr_scope_label(&label, &ref->scope) < 0) {
		cmr_buf_release(&key);
		cmr_buf_release(&label);
		return oom(p);
	}
	memset(&w, 0, sizeof(w));
	w.ref = ref;
	w.label = label.ptr;
	w.key = key.ptr;
	w.sp = cmr_params_find_scope(p->params, key.ptr);
	w.want = want;
	w.have = have;
	sc = new_scope(p, ref);
	if (!sc) {
		error = oom(p);
		goto done;
	}
	while (walk_more(&w)) {
		struct cmr_change *ch = NULL;

		error = walk_step(p, &w, &ch);
		if (error < 0)
			goto done;
		if (!ch)
			continue;
		error = push_change(p, sc, ch);
		if (error < 0)
			goto done;
		if (ch->secret != CMR_SECRET_UNVERIFIED)
			*effects |= ch->effect;
	}
	if (sc->changes.len > 0 && cmr_vec_push(&p->plan->scopes, sc) < 0)
		error = oom(p);
done:
	if (error < 0 && sc)
		cmr_vec_release(&sc->changes);
	cmr_buf_release(&key);
	cmr_buf_release(&label);
	return error;
}

/* The scope changes own their arrays (cmr_realloc); cmr_plan_free frees
 * them.  Scopes never added to the plan release theirs in diff_config. */

/* ----------------------------------------------------------------------
 * Restarts
 */

/* Per live service of a cluster: what the plan predicts for it. */
struct svc_forecast {
	const struct cmr_service *live;
	const struct cmr_service *want; /* NULL when the file omits it */
	unsigned effects;
	unsigned reasons;
	unsigned rank;
};

/*
 * The usual start order of CM's service types; services that reference
 * others (`*_service` settings) come after them anyway.  Unknown types
 * rank after all of these.
 */
static unsigned type_rank(const char *type)
{
	static const char *const order[] = {
		"ZOOKEEPER", "HDFS", "KAFKA",      "HBASE", "YARN",
		"SENTRY",    "HIVE", "IMPALA",     "OOZIE", "SPARK_ON_YARN",
		"SOLR",      "HUE",  "KS_INDEXER", "FLUME",
	};
	size_t k;

	for (k = 0; type && k < CMR_ARRAY_SIZE(order); k++)
		if (strcmp(type, order[k]) == 0)
			return (unsigned)k;
	return (unsigned)CMR_ARRAY_SIZE(order);
}

/* True when service a's live config references service b by name. */
static bool depends_on(const struct cmr_service *a, const struct cmr_service *b)
{
	size_t i;

	for (i = 0; i < a->config.len; i++) {
		const struct cmr_config_entry *e = a->config.items[i];

		if (has_suffix(e->name, "_service") &&
		    e->value.kind == CMR_VALUE_TEXT &&
		    strcmp(e->value.text, b->name) == 0)
			return true;
	}
	return false;
}

/* a before b: by type rank, then by name. */
static bool ranks_before(const struct cmr_service *a,
                         const struct cmr_service *b)
{
	unsigned ra = type_rank(a->type);
	unsigned rb = type_rank(b->type);

	return ra != rb ? ra < rb : strcmp(a->name, b->name) < 0;
}

/* Does f[i] wait for another service still in f[from..n)? */
static bool waits(const struct svc_forecast *f, size_t from, size_t n, size_t i)
{
	size_t k;

	for (k = from; k < n; k++)
		if (k != i && depends_on(f[i].live, f[k].live) &&
		    !depends_on(f[k].live, f[i].live))
			return true;
	return false;
}

/*
 * Orders the forecast: repeatedly take, among the services that wait for
 * none of the remaining ones, the first by type rank and name (a cycle
 * falls back to rank and name alone).  Clusters have tens of services,
 * so the quadratic selection costs nothing.
 */
static void order_forecast(struct svc_forecast *f, size_t n)
{
	size_t done;
	size_t i;

	for (done = 0; done < n; done++) {
		size_t best = n;

		for (i = done; i < n; i++) {
			if (waits(f, done, n, i))
				continue;
			if (best == n || ranks_before(f[i].live, f[best].live))
				best = i;
		}
		for (i = done; best == n && i < n; i++)
			if (i == done || ranks_before(f[i].live, f[best].live))
				best = i;
		if (best != done) {
			struct svc_forecast t = f[done];

			f[done] = f[best];
			f[best] = t;
		}
		f[done].rank = (unsigned)done;
	}
}

static int add_restart(struct planner *p, const char *cluster,
                       const struct svc_forecast *f,
                       enum cmr_restart_action action)
{
	struct cmr_restart *r = cmr_arena_alloc(&p->plan->arena, sizeof(*r));

	if (!r)
		return oom(p);
	r->cluster = pdup(p, cluster);
	r->service = pdup(p, f->live->name);
	r->service_type = pdup(p, f->live->type);
	r->action = action;
	r->reasons = f->reasons;
	r->maintenance = f->live->maintenance_mode;
	r->order = f->rank;
	return cmr_vec_push(&p->plan->restarts, r) < 0 ? oom(p) : 0;
}

static int forecast_to_restarts(struct planner *p, const char *cluster,
                                struct svc_forecast *f, size_t n)
{
	size_t i;
	int error = 0;

	order_forecast(f, n);
	for (i = 0; i < n && error == 0; i++) {
		const struct cmr_service *ls = f[i].live;
		enum cmr_restart_policy pol =
		        f[i].want ? f[i].want->restart : CMR_RESTART_RESTART;
		bool restart = (f[i].effects & CMR_EFFECT_RESTART) ||
		               (f[i].reasons & CMR_REASON_PARCEL) ||
		               ls->config_staleness == CMR_STALE_STALE;
		bool refresh = !restart &&
		               ((f[i].effects & CMR_EFFECT_REFRESH) ||
		                ls->config_staleness == CMR_STALE_REFRESHABLE);
		bool client = (f[i].effects & CMR_EFFECT_CLIENT_CONFIG) ||
		              ls->client_config_staleness == CMR_STALE_STALE;

		if (client)
			error = add_restart(p, cluster, &f[i],
			                    CMR_ACTION_CLIENT_CONFIG);
		if (error == 0 && refresh)
			error = add_restart(p, cluster, &f[i],
			                    CMR_ACTION_REFRESH);
		if (error == 0 && restart)
			error = add_restart(p, cluster, &f[i],
			                    pol == CMR_RESTART_NEVER
			                            ? CMR_ACTION_DEFERRED
			                    : pol == CMR_RESTART_ROLLING
			                            ? CMR_ACTION_ROLLING
			                            : CMR_ACTION_RESTART);
	}
	return error;
}

/* ----------------------------------------------------------------------
 * Parcels
 */

static const enum cmr_parcel_cmd up_steps[] = {
	CMR_PARCEL_CMD_DOWNLOAD,   /* rank 1 -> 2 */
	CMR_PARCEL_CMD_DISTRIBUTE, /* 2 -> 3 */
	CMR_PARCEL_CMD_ACTIVATE,   /* 3 -> 4 */
};

static const enum cmr_parcel_cmd down_steps[] = {
	CMR_PARCEL_CMD_REMOVE_DOWNLOAD, /* 2 -> 1 */
	CMR_PARCEL_CMD_UNDISTRIBUTE,    /* 3 -> 2 */
	CMR_PARCEL_CMD_DEACTIVATE,      /* 4 -> 3 */
};

static void parcel_steps(struct cmr_parcel_change *pc, int from, int to)
{
	int r;

	pc->nsteps = 0;
	for (r = from; r < to; r++)
		pc->steps[pc->nsteps++] = up_steps[r - 1];
	for (r = from; r > to; r--)
		pc->steps[pc->nsteps++] = down_steps[r - 2];
}

/* Does the desired state change REMOTE_PARCEL_REPO_URLS? */
static bool repo_urls_change(const struct planner *p)
{
	const struct cmr_config_entry *w = cmr_config_find(
	        &p->desired->manager.config, "REMOTE_PARCEL_REPO_URLS");
	const struct cmr_config_entry *h = cmr_config_find(
	        &p->live->manager.config, "REMOTE_PARCEL_REPO_URLS");

	if (!w || w->value.kind != CMR_VALUE_TEXT)
		return false;
	return !h || h->value.kind != CMR_VALUE_TEXT ||
	       strcmp(h->value.text, w->value.text) != 0;
}

static const struct cmr_parcel *active_version(const struct cmr_cluster *c,
                                               const char *product)
{
	size_t i;

	for (i = 0; i < c->parcels.len; i++) {
		const struct cmr_parcel *x = c->parcels.items[i];

		if (strcmp(x->product, product) == 0 &&
		    x->stage == CMR_PARCEL_ACTIVATED)
			return x;
	}
	return NULL;
}

/*
 * Services an activation puts under new bits.  CDH carries every service;
 * an add-on parcel the services whose type starts with its product name
 * (SPARK3 -> SPARK3_ON_YARN, KAFKA -> KAFKA).
 */
static bool parcel_affects(const char *product, const struct cmr_service *s)
{
	if (strcmp(product, "CDH") == 0)
		return true;
	return s->type && strncmp(s->type, product, strlen(product)) == 0;
}

static int plan_parcel(struct planner *p, struct svc_forecast *f, size_t nf,
                       const struct cmr_cluster *dc,
                       const struct cmr_cluster *lc,
                       const struct cmr_parcel *want)
{
	const struct cmr_parcel *have =
	        cmr_cluster_find_parcel(lc, want->product, want->version);
	const struct cmr_parcel *act;
	struct cmr_parcel_change *pc;
	int from;
	int to;
	size_t i;

	if (!have && !repo_urls_change(p))
		return add_note(p, CMR_NOTE_ERROR, dc->name, &want->mark,
		                "parcel %s %s is not known to CM; add the "
		                "repository that offers it to "
		                "REMOTE_PARCEL_REPO_URLS",
		                want->product, want->version);
	if (have && (have->stage == CMR_PARCEL_UNAVAILABLE ||
	             have->stage == CMR_PARCEL_STAGE_UNKNOWN))
		return add_note(p, CMR_NOTE_ERROR, dc->name, &want->mark,
		                "parcel %s %s is %s in CM: its repository no "
		                "longer offers it, or it does not match the "
		                "hosts' OS",
		                want->product, want->version,
		                cmr_parcel_stage_name(have->stage));
	if (have && have->stage == want->stage)
		return 0;
	pc = cmr_arena_alloc(&p->plan->arena, sizeof(*pc));
	if (!pc)
		return oom(p);
	pc->cluster = pdup(p, dc->name);
	pc->product = pdup(p, want->product);
	pc->version = pdup(p, want->version);
	pc->from = have ? have->stage : CMR_PARCEL_AVAILABLE_REMOTELY;
	pc->to = want->stage;
	pc->needs_repo_refresh = !have;
	pc->mark = pmark(p, &want->mark);
	from = cmr_parcel_stage_rank(pc->from);
	to = cmr_parcel_stage_rank(pc->to);
	parcel_steps(pc, from, to);
	act = active_version(lc, want->product);
	if (pc->to == CMR_PARCEL_ACTIVATED && act &&
	    strcmp(act->version, want->version) != 0)
		pc->replaces = pdup(p, act->version);
	if (pc->needs_repo_refresh)
		p->plan->refresh_parcel_repos = true;
	if (cmr_vec_push(&p->plan->parcels, pc) < 0)
		return oom(p);
	/* Activation and deactivation change the bits under running roles. */
	if ((from < 4 && to == 4) || (from == 4 && to < 4))
		for (i = 0; i < nf; i++)
			if (parcel_affects(want->product, f[i].live))
				f[i].reasons |= CMR_REASON_PARCEL;
	return 0;
}

/* ----------------------------------------------------------------------
 * Services, groups, per-role overrides
 */

/*
 * Counts the keys role r overrides (bookkeeping aside) and, while fewer
 * than three roles are shown, appends "; name (key, key)" to b.  `shown`
 * is the number of roles already described.
 */
static size_t describe_overrides(struct cmr_buf *b, const struct cmr_role *r,
                                 size_t shown)
{
	size_t keys = 0;
	size_t j;

	for (j = 0; j < r->config.len; j++) {
		if (cmr_config_is_bookkeeping(r->config.items[j]))
			continue;
		if (keys == 0 && shown < 3)
			cmr_buf_addf(b, "%s%s (", shown ? "; " : "", r->name);
		if (shown < 3)
			cmr_buf_addf(b, "%s%s", keys ? ", " : "",
			             r->config.items[j]->name);
		keys++;
	}
	if (keys && shown < 3)
		cmr_buf_addc(b, ')');
	return keys;
}

/* An info note naming the roles with per-role overrides (the first three). */
static int note_overrides(struct planner *p, const char *cluster,
                          const struct cmr_service *ls)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_buf label = CMR_BUF_INIT;
	size_t i;
	size_t roles = 0;
	int error = 0;

	for (i = 0; i < ls->roles.len; i++)
		if (describe_overrides(&b, ls->roles.items[i], roles) > 0)
			roles++;
	if (roles == 0)
		goto done;
	service_label(&label, cluster, ls->name);
	if (cmr_buf_error(&b) || cmr_buf_error(&label)) {
		error = oom(p);
		goto done;
	}
	error = add_note(p, CMR_NOTE_INFO, label.ptr, NULL,
	                 "%zu role%s carr%s per-role overrides, which format "
	                 "version 1 does not manage: %s%s",
	                 roles, roles == 1 ? "" : "s", roles == 1 ? "ies" : "y",
	                 b.ptr, roles > 3 ? "; ..." : "");
done:
	cmr_buf_release(&b);
	cmr_buf_release(&label);
	return error;
}

static int missing_note(struct planner *p, const char *what, const char *name,
                        const char *where_label, const struct cmr_mark *mark,
                        const char *const *names, size_t n, const char *hint)
{
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_suggest s;
	size_t i;
	int error;

	cmr_suggest_init(&s, name);
	for (i = 0; i < n; i++)
		cmr_suggest_offer(&s, names[i]);
	cmr_buf_addf(&b, "%s '%s' does not exist in CM", what, name);
	add_suggestions(&b, &s);
	if (hint)
		cmr_buf_addf(&b, " (%s)", hint);
	if (cmr_buf_error(&b)) {
		cmr_buf_release(&b);
		return oom(p);
	}
	error = add_note(p, CMR_NOTE_ERROR, where_label, mark, "%s", b.ptr);
	cmr_buf_release(&b);
	return error;
}

/* Diffs a service (or the management service) and its named groups. */
static int plan_service(struct planner *p, unsigned *effects,
                        const char *cluster, const struct cmr_service *ds,
                        const struct cmr_service *ls)
{
	struct scope_ref ref;
	size_t i;
	int error;

	memset(&ref, 0, sizeof(ref));
	ref.scope.kind = cluster ? CMR_SCOPE_SERVICE : CMR_SCOPE_MGMT;
	ref.scope.cluster = cluster;
	ref.scope.service = ls->name;
	ref.service_type = ls->type;
	ref.prune = ds->prune;
	if (!cluster || selects(p, cluster, ls->name, NULL)) {
		error = diff_config(p, effects, &ref, &ds->config, &ls->config);
		if (error < 0)
			return error;
	}
	for (i = 0; i < ds->groups.len; i++) {
		const struct cmr_role_config_group *dg = ds->groups.items[i];
		const struct cmr_role_config_group *lg =
		        cmr_service_find_group(ls, dg->name);

		if (cluster && !selects(p, cluster, ls->name, dg->name))
			continue;
		if (!lg) {
			struct cmr_buf label = CMR_BUF_INIT;
			const char **names = NULL;
			size_t k;

			service_label(&label, cluster, ls->name);
			names = cmr_calloc(ls->groups.len + 1, sizeof(*names));
			if (!names || cmr_buf_error(&label)) {
				cmr_free(names);
				cmr_buf_release(&label);
				return oom(p);
			}
			for (k = 0; k < ls->groups.len; k++)
				names[k] = ls->groups.items[k]->name;
			error = missing_note(p, "role config group", dg->name,
			                     label.ptr, &dg->mark, names,
			                     ls->groups.len,
			                     "creating role config groups is "
			                     "not supported yet");
			cmr_free(names);
			cmr_buf_release(&label);
			if (error < 0)
				return error;
			continue;
		}
		ref.scope.kind =
		        cluster ? CMR_SCOPE_GROUP : CMR_SCOPE_MGMT_GROUP;
		ref.scope.group = dg->name;
		ref.role_type = lg->role_type;
		error = diff_config(p, effects, &ref, &dg->config, &lg->config);
		if (error < 0)
			return error;
	}
	return 0;
}

/* A cluster the file names but CM lacks: an error note with suggestions. */
static int missing_cluster(struct planner *p, const struct cmr_cluster *dc)
{
	size_t n = p->live->clusters.len;
	const char **names = cmr_calloc(n + 1, sizeof(*names));
	size_t i;
	int error;

	if (!names)
		return oom(p);
	for (i = 0; i < n; i++)
		names[i] = p->live->clusters.items[i]->name;
	error = missing_note(p, "cluster", dc->name, "", &dc->mark, names, n,
	                     "creating clusters is out of scope; use "
	                     "the cluster's API name, not its display "
	                     "name");
	cmr_free(names);
	return error;
}

/* A service the file names but the live cluster lacks: the same. */
static int missing_service(struct planner *p, const struct cmr_cluster *dc,
                           const struct cmr_cluster *lc,
                           const struct cmr_service *ds)
{
	struct cmr_buf label = CMR_BUF_INIT;
	size_t n = lc->services.len;
	const char **names;
	size_t k;
	int error;

	cmr_buf_adds(&label, dc->name);
	names = cmr_calloc(n + 1, sizeof(*names));
	if (!names || cmr_buf_error(&label)) {
		error = oom(p);
		goto done;
	}
	for (k = 0; k < n; k++)
		names[k] = lc->services.items[k]->name;
	error = missing_note(p, "service", ds->name, label.ptr, &ds->mark,
	                     names, n, "creating services is out of scope");
done:
	cmr_free(names);
	cmr_buf_release(&label);
	return error;
}

/* The file's service type disagrees with CM's: an error note. */
static int type_mismatch(struct planner *p, const struct cmr_cluster *dc,
                         const struct cmr_service *ds,
                         const struct cmr_service *ls)
{
	struct cmr_buf label = CMR_BUF_INIT;
	int error;

	service_label(&label, dc->name, ds->name);
	error = add_note(p, CMR_NOTE_ERROR, label.ptr, &ds->type_mark,
	                 "service '%s' has type %s in CM, not "
	                 "%s as the file says",
	                 ds->name, ls->type, ds->type);
	cmr_buf_release(&label);
	return error;
}

/*
 * One forecast entry per live service of lc (nf of them, plus one spare
 * so the array is never empty), with the desired service if the file
 * names it, and whether CM reports it stale already.  NULL on OOM.
 */
static struct svc_forecast *new_forecast(const struct cmr_cluster *dc,
                                         const struct cmr_cluster *lc,
                                         size_t nf)
{
	struct svc_forecast *f = cmr_calloc(nf + 1, sizeof(*f));
	size_t i;

	if (!f)
		return NULL;
	for (i = 0; i < nf; i++) {
		const struct cmr_service *ls = lc->services.items[i];

		f[i].live = ls;
		f[i].want = cmr_cluster_find_service(dc, ls->name);
		if (ls->config_staleness == CMR_STALE_STALE ||
		    ls->config_staleness == CMR_STALE_REFRESHABLE ||
		    ls->client_config_staleness == CMR_STALE_STALE)
			f[i].reasons |= CMR_REASON_ALREADY_STALE;
	}
	return f;
}

/*
 * Plans one service the file names in cluster dc: its settings, whose
 * effects go into the service's forecast entry, and a note about the
 * per-role overrides CM has for it.
 */
static int plan_cluster_service(struct planner *p, const struct cmr_cluster *dc,
                                const struct cmr_cluster *lc,
                                const struct cmr_service *ds,
                                struct svc_forecast *f, size_t nf)
{
	const struct cmr_service *ls = cmr_cluster_find_service(lc, ds->name);
	struct svc_forecast *fs = NULL;
	size_t k;

	if (!ls)
		return missing_service(p, dc, lc, ds);
	if (ds->type && ls->type && strcmp(ds->type, ls->type) != 0)
		return type_mismatch(p, dc, ds, ls);
	for (k = 0; k < nf; k++)
		if (f[k].live == ls)
			fs = &f[k];
	if (fs) {
		unsigned eff = 0;
		int error = plan_service(p, &eff, dc->name, ds, ls);

		if (error < 0)
			return error;
		fs->effects |= eff;
		if (eff & (CMR_EFFECT_RESTART | CMR_EFFECT_REFRESH |
		           CMR_EFFECT_CLIENT_CONFIG))
			fs->reasons |= CMR_REASON_SETTINGS;
	}
	return note_overrides(p, dc->name, ls);
}

/*
 * The restart forecast keeps only the services the plan touches, or that
 * are stale already; f is compacted in place.
 */
static int cluster_restarts(struct planner *p, const struct cmr_cluster *dc,
                            struct svc_forecast *f, size_t nf)
{
	size_t m = 0;
	size_t i;

	for (i = 0; i < nf; i++)
		if (f[i].reasons && touches(p, dc->name, f[i].live->name))
			f[m++] = f[i];
	return forecast_to_restarts(p, dc->name, f, m);
}

static int plan_cluster(struct planner *p, const struct cmr_cluster *dc)
{
	const struct cmr_cluster *lc =
	        cmr_state_find_cluster(p->live, dc->name);
	struct svc_forecast *f;
	size_t nf;
	size_t i;
	int error = 0;

	if (!lc)
		return missing_cluster(p, dc);
	nf = lc->services.len;
	f = new_forecast(dc, lc, nf);
	if (!f)
		return oom(p);
	for (i = 0; i < dc->parcels.len && selects(p, dc->name, NULL, NULL);
	     i++) {
		error = plan_parcel(p, f, nf, dc, lc, dc->parcels.items[i]);
		if (error < 0)
			goto done;
	}
	for (i = 0; i < dc->services.len; i++) {
		const struct cmr_service *ds = dc->services.items[i];

		if (!touches(p, dc->name, ds->name))
			continue;
		error = plan_cluster_service(p, dc, lc, ds, f, nf);
		if (error < 0)
			goto done;
	}
	error = cluster_restarts(p, dc, f, nf);
done:
	cmr_free(f);
	return error;
}

/* ----------------------------------------------------------------------
 * The CM level
 */

static int plan_manager(struct planner *p)
{
	const struct cmr_service *dm = p->desired->manager.mgmt;
	const struct cmr_service *lm = p->live->manager.mgmt;
	struct scope_ref ref;
	unsigned eff = 0;
	int error;

	if (!selects(p, NULL, NULL, NULL))
		return 0;
	memset(&ref, 0, sizeof(ref));
	ref.scope.kind = CMR_SCOPE_CM;
	error = diff_config(p, &eff, &ref, &p->desired->manager.config,
	                    &p->live->manager.config);
	if (error < 0 || !dm)
		return error;
	if (!lm)
		return add_note(p, CMR_NOTE_ERROR, "mgmt", &dm->mark,
		                "the file configures the management service, "
		                "but CM has none (creating it is out of "
		                "scope)");
	eff = 0;
	error = plan_service(p, &eff, NULL, dm, lm);
	if (error == 0 && (eff & ~(unsigned)CMR_EFFECT_CLIENT_CONFIG)) {
		struct svc_forecast f;

		memset(&f, 0, sizeof(f));
		f.live = lm;
		f.want = dm;
		f.effects = eff;
		f.reasons = CMR_REASON_SETTINGS;
		error = forecast_to_restarts(p, NULL, &f, 1);
	}
	return error;
}

/* ----------------------------------------------------------------------
 * Entry points
 */

int cmr_plan_new(struct cmr_plan **out, struct cmr_error *err)
{
	struct cmr_plan *plan = cmr_calloc(1, sizeof(*plan));

	if (!plan)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	cmr_arena_init(&plan->arena);
	*out = plan;
	return 0;
}

void cmr_plan_free(struct cmr_plan *plan)
{
	size_t i;

	if (!plan)
		return;
	for (i = 0; i < plan->scopes.len; i++)
		cmr_vec_release(&plan->scopes.items[i]->changes);
	cmr_vec_release(&plan->scopes);
	cmr_vec_release(&plan->parcels);
	cmr_vec_release(&plan->restarts);
	cmr_vec_release(&plan->notes);
	cmr_vec_release(&plan->fingerprints);
	cmr_vec_release(&plan->clusters);
	cmr_vec_release(&plan->targets);
	cmr_arena_release(&plan->arena);
	cmr_free(plan);
}

static int plan_header(struct planner *p)
{
	struct cmr_plan *plan = p->plan;
	size_t i;

	plan->cm_url = pdup(p, p->opt->cm_url);
	plan->api_version = pdup(p, p->opt->api_version);
	plan->cm_version = pdup(p, p->live->manager.cm_version);
	for (i = 0; i < p->desired->clusters.len; i++) {
		const char *name = pdup(p, p->desired->clusters.items[i]->name);

		if (!name || cmr_vec_push(&plan->clusters, name) < 0)
			return oom(p);
	}
	for (i = 0; i < p->opt->ntargets; i++) {
		const char *t = pdup(p, p->opt->targets[i]);

		if (!t || cmr_vec_push(&plan->targets, t) < 0)
			return oom(p);
	}
	return cmr_arena_error(&plan->arena) < 0 ? oom(p) : 0;
}

int cmr_plan_build(struct cmr_plan **out, const struct cmr_state *desired,
                   const struct cmr_state *live,
                   const struct cmr_params *params,
                   const struct cmr_plan_options *opt, struct cmr_error *err)
{
	struct planner p;
	size_t i;
	int error;

	memset(&p, 0, sizeof(p));
	p.desired = desired;
	p.live = live;
	p.params = params;
	p.opt = opt;
	p.err = err;
	for (i = 0; i < opt->ntargets; i++) {
		error = check_target(&p, opt->targets[i]);
		if (error < 0)
			return error;
	}
	error = cmr_plan_new(&p.plan, err);
	if (error < 0)
		return error;
	assert(p.plan != NULL); /* cmr_plan_new sets it when it succeeds */
	/* CM-level records live on the first cluster (by name) of the file
	 * that CM has. */
	for (i = 0; i < desired->clusters.len && !p.record_cluster; i++)
		p.record_cluster = cmr_state_find_cluster(
		        live, desired->clusters.items[i]->name);
	error = plan_header(&p);
	if (error == 0)
		error = plan_manager(&p);
	for (i = 0; error == 0 && i < desired->clusters.len; i++)
		if (touches(&p, desired->clusters.items[i]->name, NULL))
			error = plan_cluster(&p, desired->clusters.items[i]);
	if (error == 0 && cmr_arena_error(&p.plan->arena) < 0)
		error = oom(&p);
	if (error == 0)
		error = cmr_plan_fingerprint(p.plan, desired, live, err);
	if (error == 0)
		error = cmr_plan_secret_fingerprints(p.plan, p.plan, opt, err);
	if (error < 0) {
		cmr_plan_free(p.plan);
		return error;
	}
	*out = p.plan;
	return 0;
}

static bool streq_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool same_service(const struct cmr_restart *a,
                         const struct cmr_restart *b)
{
	return streq_null(a->cluster, b->cluster) &&
	       streq_null(a->service, b->service);
}

void cmr_plan_summarize(struct cmr_plan_summary *out,
                        const struct cmr_plan *plan)
{
	size_t i;
	size_t j;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < plan->scopes.len; i++) {
		const struct cmr_scope_change *sc = plan->scopes.items[i];

		for (j = 0; j < sc->changes.len; j++) {
			if (sc->changes.items[j]->secret ==
			    CMR_SECRET_UNVERIFIED)
				out->unverified++;
			else
				out->settings++;
		}
	}
	out->parcels = plan->parcels.len;
	for (i = 0; i < plan->restarts.len; i++) {
		const struct cmr_restart *r = plan->restarts.items[i];

		if (r->maintenance) {
			/* count services, not their actions */
			if (i == 0 ||
			    !same_service(plan->restarts.items[i - 1], r))
				out->maintenance++;
			continue;
		}
		switch (r->action) {
		case CMR_ACTION_RESTART:
		case CMR_ACTION_ROLLING:
			out->restarts++;
			break;
		case CMR_ACTION_REFRESH:
			out->refreshes++;
			break;
		case CMR_ACTION_CLIENT_CONFIG:
			out->client_configs++;
			break;
		case CMR_ACTION_DEFERRED:
			out->deferred++;
			break;
		}
	}
	for (i = 0; i < plan->notes.len; i++) {
		if (plan->notes.items[i]->level == CMR_NOTE_ERROR)
			out->errors++;
		else if (plan->notes.items[i]->level == CMR_NOTE_WARNING)
			out->warnings++;
	}
}

bool cmr_plan_has_changes(const struct cmr_plan *plan)
{
	struct cmr_plan_summary s;

	cmr_plan_summarize(&s, plan);
	return s.settings || s.parcels || s.restarts || s.refreshes ||
	       s.client_configs || s.deferred || plan->refresh_parcel_repos;
}

int cmr_plan_secret_tag(struct cmr_buf *out, const char *scope_key,
                        const char *key)
{
	struct cmr_buf path = CMR_BUF_INIT;
	struct cmr_buf hex = CMR_BUF_INIT;
	int error;

	cmr_buf_addf(&path, "%s/%s", scope_key, key);
	error = cmr_buf_error(&path);
	if (error == 0)
		error = cmr_sha256_hex(&hex, path.ptr, path.len);
	if (error == 0) {
		cmr_buf_adds(out, "cmrecon.secret.");
		cmr_buf_add(out, hex.ptr, 16);
		error = cmr_buf_error(out);
	}
	cmr_buf_release(&path);
	cmr_buf_release(&hex);
	return error;
}

/* ----------------------------------------------------------------------
 * Fingerprints
 */

/* Adds "name=value\n" for each entry (sensitive values as given: CM
 * redacts them, so their text does not move with the secret). */
static void hash_config(struct cmr_buf *b, const struct cmr_config *cfg)
{
	size_t i;

	for (i = 0; cfg && i < cfg->len; i++) {
		const struct cmr_config_entry *e = cfg->items[i];

		cmr_buf_addf(b, "%s=", e->name);
		if (e->value.text)
			cmr_buf_add_json_str(b, e->value.text);
		cmr_buf_addc(b, '\n');
	}
}

static int add_fingerprint(struct cmr_plan *plan, const char *scope,
                           const struct cmr_buf *content, struct cmr_error *err)
{
	struct cmr_buf hex = CMR_BUF_INIT;
	struct cmr_fingerprint *fp;
	size_t i;

	fp = cmr_arena_alloc(&plan->arena, sizeof(*fp));
	if (!fp || cmr_buf_error(content) ||
	    cmr_sha256_hex(&hex, content->ptr, content->len) < 0)
		goto nomem;
	fp->scope = cmr_arena_strdup(&plan->arena, scope);
	fp->sha256 = cmr_arena_strdup(&plan->arena, hex.ptr);
	cmr_buf_release(&hex);
	if (!fp->scope || !fp->sha256 ||
	    cmr_vec_reserve(&plan->fingerprints, plan->fingerprints.len + 1))
		goto nomem;
	/* Keep them sorted by scope. */
	for (i = plan->fingerprints.len; i > 0; i--) {
		int c = strcmp(plan->fingerprints.items[i - 1]->scope, scope);

		if (c == 0) {
			plan->fingerprints.items[i - 1] = fp;
			return 0;
		}
		if (c < 0)
			break;
	}
	memmove(&plan->fingerprints.items[i + 1], &plan->fingerprints.items[i],
	        (plan->fingerprints.len - i) *
	                sizeof(struct cmr_fingerprint *));
	plan->fingerprints.items[i] = fp;
	plan->fingerprints.len++;
	return 0;
nomem:
	cmr_buf_release(&hex);
	return cmr_error_set(err, CMR_ENOMEM, "out of memory");
}

static int fingerprint_scope(struct cmr_plan *plan, enum cmr_scope_kind kind,
                             const char *cluster, const char *service,
                             const char *group, const struct cmr_config *cfg,
                             struct cmr_error *err)
{
	struct cmr_scope s = { kind, cluster, service, group };
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_buf content = CMR_BUF_INIT;
	int error;

	cmr_scope_key(&key, &s);
	hash_config(&content, cfg);
	error = cmr_buf_error(&key) < 0
	                ? cmr_error_set(err, CMR_ENOMEM, "out of memory")
	                : add_fingerprint(plan, key.ptr, &content, err);
	cmr_buf_release(&key);
	cmr_buf_release(&content);
	return error;
}

static int fingerprint_service(struct cmr_plan *plan, const char *cluster,
                               const struct cmr_service *ds,
                               const struct cmr_service *ls,
                               struct cmr_error *err)
{
	size_t i;
	int error;

	error = fingerprint_scope(plan,
	                          cluster ? CMR_SCOPE_SERVICE : CMR_SCOPE_MGMT,
	                          cluster, ls->name, NULL, &ls->config, err);
	for (i = 0; error == 0 && i < ds->groups.len; i++) {
		const struct cmr_role_config_group *lg =
		        cmr_service_find_group(ls, ds->groups.items[i]->name);

		if (lg)
			error = fingerprint_scope(
			        plan,
			        cluster ? CMR_SCOPE_GROUP
			                : CMR_SCOPE_MGMT_GROUP,
			        cluster, ls->name, lg->name, &lg->config, err);
	}
	return error;
}

int cmr_plan_fingerprint(struct cmr_plan *plan, const struct cmr_state *desired,
                         const struct cmr_state *live, struct cmr_error *err)
{
	size_t i;
	size_t j;
	int error;

	error = fingerprint_scope(plan, CMR_SCOPE_CM, NULL, NULL, NULL,
	                          &live->manager.config, err);
	if (error == 0 && desired->manager.mgmt && live->manager.mgmt)
		error = fingerprint_service(plan, NULL, desired->manager.mgmt,
		                            live->manager.mgmt, err);
	for (i = 0; error == 0 && i < desired->clusters.len; i++) {
		const struct cmr_cluster *dc = desired->clusters.items[i];
		const struct cmr_cluster *lc =
		        cmr_state_find_cluster(live, dc->name);
		struct cmr_buf b = CMR_BUF_INIT;
		struct cmr_buf scope = CMR_BUF_INIT;

		if (!lc)
			continue;
		for (j = 0; j < lc->parcels.len; j++)
			cmr_buf_addf(&b, "%s %s %s\n",
			             lc->parcels.items[j]->product,
			             lc->parcels.items[j]->version,
			             cmr_parcel_stage_name(
			                     lc->parcels.items[j]->stage));
		cmr_buf_adds(&scope, "parcels:");
		cmr_scope_escape(&scope, dc->name);
		error = cmr_buf_error(&scope) < 0
		                ? cmr_error_set(err, CMR_ENOMEM,
		                                "out of memory")
		                : add_fingerprint(plan, scope.ptr, &b, err);
		cmr_buf_release(&b);
		cmr_buf_release(&scope);
		for (j = 0; error == 0 && j < dc->services.len; j++) {
			const struct cmr_service *ds = dc->services.items[j];
			const struct cmr_service *ls =
			        cmr_cluster_find_service(lc, ds->name);

			if (ls)
				error = fingerprint_service(plan, dc->name, ds,
				                            ls, err);
		}
	}
	return error;
}

static bool secret_written(const struct cmr_change *ch)
{
	return cmr_value_is_ref(&ch->secret_source) &&
	       (ch->secret == CMR_SECRET_NEW ||
	        ch->secret == CMR_SECRET_ROTATED ||
	        ch->secret == CMR_SECRET_FORCED);
}

static int secret_fingerprint(struct cmr_plan *out,
                              const struct cmr_scope_change *sc,
                              const struct cmr_change *ch,
                              const struct cmr_plan_options *opt,
                              struct cmr_error *err)
{
	struct cmr_buf value = CMR_BUF_INIT;
	struct cmr_buf rec = CMR_BUF_INIT;
	struct cmr_buf scope = CMR_BUF_INIT;
	int error;

	error = opt->resolve(&value, &ch->secret_source, opt->resolve_ud, err);
	if (error == 0 &&
	    (cmr_hmac_record(&rec, opt->hmac_key, opt->hmac_key_len, value.ptr,
	                     value.len) < 0 ||
	     cmr_buf_adds(&scope, "secret:") < 0 ||
	     cmr_scope_key(&scope, &sc->scope) < 0 ||
	     cmr_buf_addf(&scope, "/%s", ch->key) < 0))
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if (error == 0)
		error = add_fingerprint(out, scope.ptr, &rec, err);
	/* The resolved secret must not linger in freed memory. */
	if (value.alloc)
		memset(value.ptr, 0, value.len);
	cmr_buf_release(&value);
	cmr_buf_release(&rec);
	cmr_buf_release(&scope);
	return error;
}

int cmr_plan_secret_fingerprints(struct cmr_plan *out,
                                 const struct cmr_plan *from,
                                 const struct cmr_plan_options *opt,
                                 struct cmr_error *err)
{
	size_t i;
	size_t j;
	int error = 0;

	if (!opt->hmac_key || !opt->resolve)
		return 0;
	for (i = 0; error == 0 && i < from->scopes.len; i++) {
		const struct cmr_scope_change *sc = from->scopes.items[i];

		for (j = 0; error == 0 && j < sc->changes.len; j++)
			if (secret_written(sc->changes.items[j]))
				error = secret_fingerprint(out, sc,
				                           sc->changes.items[j],
				                           opt, err);
	}
	return error;
}
