/*
 * build.c -- request targets for the reads, and the choice of scopes.
 *
 * Paths are built from CM's v45 spec (shared/cm-api, copied where tests
 * need it): every name is one percent-encoded path segment, so "Cluster 1"
 * becomes "Cluster%201" and "a/b" becomes "a%2Fb".  The two scope choosers
 * are pure functions of the desired and live models, so the decision
 * "which scopes need a view=full read" is unit-tested without HTTP.
 */
#include <string.h>

#include "cmr/api.h"
#include "cmr/client.h"
#include "cmr/vec.h"

#include "api_int.h"

void api_path_prefix(struct cmr_buf *out, unsigned version)
{
	cmr_buf_addf(out, "/api/v%u", version);
}

void api_path_seg(struct cmr_buf *out, const char *name)
{
	cmr_buf_addc(out, '/');
	cmr_buf_add_urlenc(out, name != NULL ? name : "");
}

int cmr_api_build_version(struct cmr_buf *out)
{
	cmr_buf_adds(out, "/api/version");
	return cmr_buf_error(out);
}

int cmr_api_build_cm_version(struct cmr_buf *out, unsigned version)
{
	api_path_prefix(out, version);
	cmr_buf_adds(out, "/cm/version");
	return cmr_buf_error(out);
}

int cmr_api_build_deployment(struct cmr_buf *out, unsigned version)
{
	api_path_prefix(out, version);
	cmr_buf_adds(out, "/cm/deployment?view=export_redacted");
	return cmr_buf_error(out);
}

void api_cluster_path(struct cmr_buf *out, unsigned version,
                      const char *cluster)
{
	api_path_prefix(out, version);
	cmr_buf_adds(out, "/clusters");
	api_path_seg(out, cluster);
}

int cmr_api_build_services(struct cmr_buf *out, unsigned version,
                           const char *cluster)
{
	api_cluster_path(out, version, cluster);
	cmr_buf_adds(out, "/services");
	return cmr_buf_error(out);
}

int cmr_api_build_parcels(struct cmr_buf *out, unsigned version,
                          const char *cluster)
{
	api_cluster_path(out, version, cluster);
	cmr_buf_adds(out, "/parcels?view=full");
	return cmr_buf_error(out);
}

int cmr_api_build_tags(struct cmr_buf *out, unsigned version,
                       const char *cluster, unsigned limit, unsigned offset)
{
	api_cluster_path(out, version, cluster);
	cmr_buf_addf(out, "/tags?limit=%u&offset=%u", limit, offset);
	return cmr_buf_error(out);
}

int cmr_api_build_groups(struct cmr_buf *out, unsigned version,
                         const char *cluster, const char *service)
{
	if (cluster == NULL) {
		api_path_prefix(out, version);
		cmr_buf_adds(out, "/cm/service/roleConfigGroups");
	} else {
		api_cluster_path(out, version, cluster);
		cmr_buf_adds(out, "/services");
		api_path_seg(out, service);
		cmr_buf_adds(out, "/roleConfigGroups");
	}
	return cmr_buf_error(out);
}

int cmr_api_build_config(struct cmr_buf *out, unsigned version,
                         const struct cmr_scope *scope, const char *view)
{
	switch (scope->kind) {
	case CMR_SCOPE_CM:
		api_path_prefix(out, version);
		cmr_buf_adds(out, "/cm");
		break;
	case CMR_SCOPE_MGMT:
		api_path_prefix(out, version);
		cmr_buf_adds(out, "/cm/service");
		break;
	case CMR_SCOPE_MGMT_GROUP:
		cmr_api_build_groups(out, version, NULL, NULL);
		api_path_seg(out, scope->group);
		break;
	case CMR_SCOPE_SERVICE:
		api_cluster_path(out, version, scope->cluster);
		cmr_buf_adds(out, "/services");
		api_path_seg(out, scope->service);
		break;
	case CMR_SCOPE_GROUP:
		cmr_api_build_groups(out, version, scope->cluster,
		                     scope->service);
		api_path_seg(out, scope->group);
		break;
	}
	cmr_buf_adds(out, "/config");
	if (view != NULL) {
		cmr_buf_adds(out, "?view=");
		cmr_buf_add_urlenc(out, view);
	}
	return cmr_buf_error(out);
}

void cmr_api_scope_list_release(struct cmr_api_scope_list *l)
{
	cmr_vec_release(l);
}

/* ======================================================================
 * Choosing scopes
 */

static int push(struct cmr_api_scope_list *out, enum cmr_scope_kind kind,
                const char *cluster, const char *service, const char *group,
                struct cmr_error *err)
{
	struct cmr_scope s;

	s.kind = kind;
	s.cluster = cluster;
	s.service = service;
	s.group = group;
	if (cmr_vec_push(out, s) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

/*
 * Whether a desired scope `want` needs view=full against live scope `have`
 * (NULL: the scope does not exist live, so nothing can be read).
 */
static bool needs_full(const struct cmr_config *want,
                       const struct cmr_config *have, unsigned flags)
{
	size_t i;

	if (have == NULL || want->len == 0 || (flags & CMR_READ_NO_PARAMS))
		return false;
	if (flags & CMR_READ_ALL_PARAMS)
		return true;
	for (i = 0; i < want->len; i++)
		if (cmr_config_find(have, want->items[i]->name) == NULL)
			return true;
	return false;
}

static int full_groups(struct cmr_api_scope_list *out,
                       const struct cmr_service *want,
                       const struct cmr_service *have, const char *cluster,
                       const char *service, enum cmr_scope_kind kind,
                       unsigned flags, struct cmr_error *err)
{
	size_t i;
	int error;

	for (i = 0; i < want->groups.len; i++) {
		const struct cmr_role_config_group *g = want->groups.items[i];
		const struct cmr_role_config_group *hg =
		        cmr_service_find_group(have, g->name);

		if (!needs_full(&g->config, hg ? &hg->config : NULL, flags))
			continue;
		error = push(out, kind, cluster, service, g->name, err);
		if (error < 0)
			return error;
	}
	return 0;
}

int cmr_api_full_scopes(struct cmr_api_scope_list *out,
                        const struct cmr_state *desired,
                        const struct cmr_state *live, unsigned flags,
                        struct cmr_error *err)
{
	const struct cmr_service *dm = desired->manager.mgmt;
	const struct cmr_service *lm = live->manager.mgmt;
	size_t i;
	size_t k;
	int error;

	if (needs_full(&desired->manager.config, &live->manager.config,
	               flags) &&
	    (error = push(out, CMR_SCOPE_CM, NULL, NULL, NULL, err)) < 0)
		return error;
	if (dm != NULL && lm != NULL) {
		if (needs_full(&dm->config, &lm->config, flags) &&
		    (error = push(out, CMR_SCOPE_MGMT, NULL, NULL, NULL, err)) <
		            0)
			return error;
		error = full_groups(out, dm, lm, NULL, NULL,
		                    CMR_SCOPE_MGMT_GROUP, flags, err);
		if (error < 0)
			return error;
	}
	for (i = 0; i < desired->clusters.len; i++) {
		const struct cmr_cluster *dc = desired->clusters.items[i];
		const struct cmr_cluster *lc =
		        cmr_state_find_cluster(live, dc->name);

		for (k = 0; lc != NULL && k < dc->services.len; k++) {
			const struct cmr_service *ds = dc->services.items[k];
			const struct cmr_service *ls =
			        cmr_cluster_find_service(lc, ds->name);

			if (ls == NULL)
				continue;
			if (needs_full(&ds->config, &ls->config, flags) &&
			    (error = push(out, CMR_SCOPE_SERVICE, dc->name,
			                  ds->name, NULL, err)) < 0)
				return error;
			error = full_groups(out, ds, ls, dc->name, ds->name,
			                    CMR_SCOPE_GROUP, flags, err);
			if (error < 0)
				return error;
		}
	}
	return 0;
}

int cmr_api_fallback_scopes(struct cmr_api_scope_list *out,
                            const struct cmr_state *desired,
                            const struct cmr_state *live, struct cmr_error *err)
{
	const struct cmr_service *dm = desired->manager.mgmt;
	size_t i;
	size_t k;
	size_t g;
	int error;

	if ((error = push(out, CMR_SCOPE_CM, NULL, NULL, NULL, err)) < 0)
		return error;
	if (dm != NULL) {
		if ((error = push(out, CMR_SCOPE_MGMT, NULL, NULL, NULL, err)) <
		    0)
			return error;
		for (g = 0; g < dm->groups.len; g++) {
			error = push(out, CMR_SCOPE_MGMT_GROUP, NULL, NULL,
			             dm->groups.items[g]->name, err);
			if (error < 0)
				return error;
		}
	}
	for (i = 0; i < desired->clusters.len; i++) {
		const struct cmr_cluster *dc = desired->clusters.items[i];
		const struct cmr_cluster *lc =
		        cmr_state_find_cluster(live, dc->name);

		for (k = 0; lc != NULL && k < dc->services.len; k++) {
			const struct cmr_service *ds = dc->services.items[k];

			if (cmr_cluster_find_service(lc, ds->name) == NULL)
				continue;
			error = push(out, CMR_SCOPE_SERVICE, dc->name, ds->name,
			             NULL, err);
			for (g = 0; error == 0 && g < ds->groups.len; g++)
				error = push(out, CMR_SCOPE_GROUP, dc->name,
				             ds->name,
				             ds->groups.items[g]->name, err);
			if (error < 0)
				return error;
		}
	}
	return 0;
}
