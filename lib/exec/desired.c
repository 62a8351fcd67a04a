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

/* Copies the next '/'-separated segment of *p, undoing %2F and %25. */
static int next_seg(struct cmr_buf *out, const char **p)
{
	const char *s = *p;

	cmr_buf_reset(out);
	while (*s && *s != '/') {
		if (s[0] == '%' &&
		    (strncmp(s, "%2F", 3) == 0 || strncmp(s, "%2f", 3) == 0)) {
			cmr_buf_addc(out, '/');
			s += 3;
		} else if (strncmp(s, "%25", 3) == 0) {
			cmr_buf_addc(out, '%');
			s += 3;
		} else {
			cmr_buf_addc(out, *s++);
		}
	}
	*p = *s == '/' ? s + 1 : s;
	return cmr_buf_error(out);
}

/* Adds the scope a fingerprint key names. */
static int add_key_scope(struct cmr_state *st, const char *key,
                         struct cmr_error *err)
{
	struct cmr_buf a = CMR_BUF_INIT;
	struct cmr_buf b = CMR_BUF_INIT;
	struct cmr_buf g = CMR_BUF_INIT;
	struct cmr_cluster *c = NULL;
	struct cmr_service *s = NULL;
	struct cmr_role_config_group *grp = NULL;
	const char *p = key;
	int error = 0;

	if (strcmp(key, "cm") == 0)
		return 0;
	if (strncmp(key, "parcels:", 8) == 0) {
		p = key + 8;
		if (next_seg(&a, &p) < 0)
			goto nomem;
		error = cmr_state_add_cluster(&c, st, a.ptr, err);
		goto done;
	}
	if (strcmp(key, "mgmt") == 0 || strncmp(key, "mgmt/", 5) == 0) {
		error = cmr_manager_add_mgmt(&s, st, NULL, err);
		p = key + 4;
		if (error == 0 && *p == '/') {
			p++;
			if (next_seg(&g, &p) < 0)
				goto nomem;
			error = cmr_service_add_group(&grp, st, s, g.ptr, err);
		}
		goto done;
	}
	if (next_seg(&a, &p) < 0 || next_seg(&b, &p) < 0 ||
	    next_seg(&g, &p) < 0)
		goto nomem;
	if (!b.len) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "plan file: fingerprint scope '%s' is "
		                      "not a scope key",
		                      key);
		goto done;
	}
	if ((error = cmr_state_add_cluster(&c, st, a.ptr, err)) < 0 ||
	    (error = cmr_cluster_add_service(&s, st, c, b.ptr, err)) < 0)
		goto done;
	if (g.len)
		error = cmr_service_add_group(&grp, st, s, g.ptr, err);
	goto done;
nomem:
	error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
done:
	cmr_buf_release(&a);
	cmr_buf_release(&b);
	cmr_buf_release(&g);
	return error;
}

/* The desired config of a plan scope, creating the scope. */
static int scope_config(struct cmr_config **out, struct cmr_state *st,
                        const struct cmr_scope_change *sc,
                        struct cmr_error *err)
{
	struct cmr_cluster *c = NULL;
	struct cmr_service *s = NULL;
	struct cmr_role_config_group *g = NULL;
	int error;

	*out = NULL;
	switch (sc->kind) {
	case CMR_SCOPE_CM:
		*out = &st->manager.config;
		return 0;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		error = cmr_manager_add_mgmt(&s, st, NULL, err);
		break;
	default:
		error = cmr_state_add_cluster(&c, st, sc->cluster, err);
		if (error == 0)
			error = cmr_cluster_add_service(&s, st, c, sc->service,
			                                err);
		if (error == 0 && sc->service_type && !s->type &&
		    !(s->type = cmr_state_strdup(st, sc->service_type)))
			error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		break;
	}
	if (error < 0)
		return error;
	if (sc->kind == CMR_SCOPE_MGMT || sc->kind == CMR_SCOPE_SERVICE) {
		*out = &s->config;
		return 0;
	}
	if ((error = cmr_service_add_group(&g, st, s, sc->group, err)) < 0)
		return error;
	*out = &g->config;
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
		const char *src = ch->secret_source ? ch->secret_source : "";

		sensitive = true;
		if (strncmp(src, "env ", 4) == 0) {
			v.kind = CMR_VALUE_ENV;
			v.text = src + 4;
		} else if (strncmp(src, "file ", 5) == 0) {
			v.kind = CMR_VALUE_FILE;
			v.text = src + 5;
		} else {
			return cmr_error_set(err, CMR_EINVAL,
			                     "plan file: secret '%s' has no "
			                     "source to resolve it from",
			                     ch->key);
		}
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
