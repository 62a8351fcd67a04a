/*
 * desired.c -- a desired state rebuilt from a plan, for `apply PLANFILE`.
 *
 * A plan file carries no YAML, yet apply needs a desired state three
 * times: to recompute the fingerprints (cmr_plan_fingerprint walks the
 * scopes the desired state names), to find the secret references to
 * resolve at apply time, and to plan again at the end.  Everything needed
 * is in the plan: the fingerprint scope keys name every scope that was
 * read, the changes give the keys and values, the secret_source of a
 * secret change ("env NAME" / "file PATH") is its reference.
 */
#include <assert.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/buf.h"

#include "exec_int.h"

/*
 * Adds the scope a fingerprint names.  "parcels:C" names a cluster's
 * parcels; "secret:SCOPE/KEY" a secret the plan writes, whose scope is
 * one of the plan's own (and has its own fingerprint).
 */
static int add_key_scope(struct cmr_state *st, const char *key,
                         struct cmr_error *err)
{
	struct cmr_scope sc;
	struct cmr_config *cfg = NULL;
	struct cmr_cluster *c = NULL;
	const char *name = NULL;
	int error;

	if (strncmp(key, "secret:", 7) == 0)
		return 0;
	if (strncmp(key, "parcels:", 8) == 0) {
		error = cmr_scope_unescape(&name, &st->arena, key + 8, err);
		if (error < 0) {
			cmr_error_prefix(err, "plan file: fingerprint");
			return error;
		}
		return cmr_state_add_cluster(&c, st, name, err);
	}
	error = cmr_scope_from_key(&sc, &st->arena, key, err);
	if (error < 0) {
		cmr_error_prefix(err, "plan file: fingerprint");
		return error;
	}
	return cmr_scope_add_config(&cfg, st, &sc, err);
}

/* The desired config of a plan scope, creating the scope. */
static int scope_config(struct cmr_config **out, struct cmr_state *st,
                        const struct cmr_scope_change *sc,
                        struct cmr_error *err)
{
	struct cmr_cluster *c;
	struct cmr_service *s;
	int error;

	if ((error = cmr_scope_add_config(out, st, &sc->scope, err)) < 0)
		return error;
	if (!cmr_scope_in_cluster(sc->scope.kind) || !sc->service_type)
		return 0;
	c = cmr_state_find_cluster(st, sc->scope.cluster);
	s = c ? cmr_cluster_find_service(c, sc->scope.service) : NULL;
	if (s && !s->type &&
	    !(s->type = cmr_state_strdup(st, sc->service_type)))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

static int add_change(struct cmr_state *st, struct cmr_config *cfg,
                      const struct cmr_change *ch, struct cmr_error *err)
{
	struct cmr_value v;
	bool sensitive = false;

	memset(&v, 0, sizeof(v));
	if (ch->op == CMR_OP_RESET) {
		v.kind = CMR_VALUE_RESET;
	} else if (ch->sensitive) {
		sensitive = true;
		v = ch->secret_source;
		if (!cmr_value_is_ref(&v))
			return cmr_error_set(err, CMR_EINVAL,
			                     "plan file: secret '%s' has no "
			                     "source to resolve it from",
			                     ch->key);
	} else {
		v.kind = CMR_VALUE_TEXT;
		v.text = ch->new_value ? ch->new_value : "";
	}
	return cmr_config_set(NULL, st, cfg, ch->key, &v, sensitive, NULL, err);
}

/* The changes of one plan scope, into the scope's desired config. */
static int add_scope_changes(struct cmr_state *st,
                             const struct cmr_scope_change *sc,
                             struct cmr_error *err)
{
	struct cmr_config *cfg = NULL;
	size_t j;
	int error;

	error = scope_config(&cfg, st, sc, err);
	for (j = 0; error == 0 && j < sc->changes.len; j++)
		error = add_change(st, cfg, sc->changes.items[j], err);
	return error;
}

/* A parcel change: the parcel, at the stage the plan leads it to. */
static int add_parcel(struct cmr_state *st, const struct cmr_parcel_change *pc,
                      struct cmr_error *err)
{
	struct cmr_cluster *c = NULL;
	struct cmr_parcel *p = NULL;
	int error;

	error = cmr_state_add_cluster(&c, st, pc->cluster, err);
	if (error == 0)
		error = cmr_cluster_add_parcel(&p, st, c, pc->product,
		                               pc->version, err);
	if (error == 0)
		p->stage = pc->to;
	return error;
}

/* A restart: the service, with the restart policy its action implies. */
/*
 * Gives a service the plan restarts its restart policy -- only a service
 * the state already names.  The restart list also forecasts services the
 * file never named (a CDH activation makes every service stale); adding
 * them would add scopes the plan never read, and the saved plan would
 * look stale to check_fresh.  Their actions are in the plan's restart
 * list, which apply follows.
 */
static int add_restart(struct cmr_state *st, const struct cmr_restart *rs,
                       struct cmr_error *err)
{
	struct cmr_cluster *c = cmr_state_find_cluster(st, rs->cluster);
	struct cmr_service *s =
	        c ? cmr_cluster_find_service(c, rs->service) : NULL;

	if (!s)
		return 0;
	if (rs->action == CMR_ACTION_ROLLING)
		s->restart = CMR_RESTART_ROLLING;
	else if (rs->action == CMR_ACTION_DEFERRED)
		s->restart = CMR_RESTART_NEVER;
	if (rs->service_type && !s->type &&
	    !(s->type = cmr_state_strdup(st, rs->service_type)))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

int cmr_exec_desired_from_plan(struct cmr_state **out,
                               const struct cmr_plan *plan,
                               struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	size_t i;
	int error;

	*out = NULL;
	if ((error = cmr_state_new(&st, CMR_STATE_DESIRED, err)) < 0)
		return error;
	for (i = 0; error == 0 && i < plan->clusters.len; i++) {
		struct cmr_cluster *c = NULL;

		error = cmr_state_add_cluster(&c, st, plan->clusters.items[i],
		                              err);
	}
	for (i = 0; error == 0 && i < plan->fingerprints.len; i++)
		error = add_key_scope(st, plan->fingerprints.items[i]->scope,
		                      err);
	for (i = 0; error == 0 && i < plan->scopes.len; i++)
		error = add_scope_changes(st, plan->scopes.items[i], err);
	for (i = 0; error == 0 && i < plan->parcels.len; i++)
		error = add_parcel(st, plan->parcels.items[i], err);
	for (i = 0; error == 0 && i < plan->restarts.len; i++)
		error = add_restart(st, plan->restarts.items[i], err);
	if (error < 0) {
		cmr_state_free(st);
		return error;
	}
	*out = st;
	return 0;
}
