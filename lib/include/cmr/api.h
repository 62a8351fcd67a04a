/*
 * api.h -- the pure half of lib/api: request paths and response decoders.
 *
 * Nothing here does I/O.  Builders append a request target ("/api/v45/...",
 * percent-encoded, with its query) to a struct cmr_buf; decoders turn a
 * response body (JSON text as CM sends it) into the model (model.h) or the
 * parameter metadata (params.h).  The reader in client.h strings them
 * together; lib/exec and tests use them directly.
 *
 * Builders: `out` is appended to (not reset); they return 0, or the
 * buffer's sticky error (CMR_ENOMEM).  `version` is the API version number
 * (45 for v45).  Names are percent-encoded as one path segment each, so a
 * cluster called "Cluster 1" or "a/b" is safe.
 *
 * Decoders return 0, CMR_EINVAL (malformed answer) or CMR_ENOMEM.
 * `body` holds `len` bytes (need not be NUL-terminated) of a 200
 * answer; `what` names the request in messages (e.g.
 * "GET /api/v45/cm/deployment").  They follow CM's conventions (FACTS.md
 * §1): unknown fields are ignored, absent optional fields are fine (CM
 * omits nulls), a field of the wrong JSON type is CMR_EINVAL with a message
 * naming it ("...: clusters[0].services[2].name: expected a string, got
 * int"), as is text that is not JSON.  Enum strings this build does not
 * know are kept as the "unknown"/0 value, not refused, so a newer CM still
 * reads.  Strings are copied into the target state's (or params') arena;
 * no json-c object outlives the call.  On failure the target may hold part
 * of the answer; callers discard it.
 */
#ifndef CMR_API_H
#define CMR_API_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/buf.h"
#include "cmr/common.h"
#include "cmr/error.h"
#include "cmr/model.h"
#include "cmr/params.h"

/* How many tags one GET /clusters/{c}/tags asks for (CM's default is 10). */
#define CMR_API_TAGS_PAGE 1000u

/* ======================================================================
 * Configuration scopes (struct cmr_scope, model.h)
 */

struct cmr_api_scope_list {
	struct cmr_scope *items;
	size_t len, alloc;
};

/* Frees the list's array (not the names); the list is empty afterwards. */
void cmr_api_scope_list_release(struct cmr_api_scope_list *l);

/*
 * The scopes whose `view=full` metadata the planner needs (step 3 of the
 * read): every scope `desired` names at least one key in, that exists in
 * `live`, and in which at least one desired key is unset in live -- that
 * key's default, validity and sensitivity are only known from view=full.
 * With CMR_READ_ALL_PARAMS (client.h) every such existing scope is picked;
 * with CMR_READ_NO_PARAMS none.  Scopes missing from live are never
 * picked (the planner reports them).  Order: CM, management service, its
 * groups, then clusters, services, groups by name -- deterministic.
 *
 * Appends to *out (names borrowed from `desired`).  0 or CMR_ENOMEM.
 */
int cmr_api_full_scopes(struct cmr_api_scope_list *out,
                        const struct cmr_state *desired,
                        const struct cmr_state *live, unsigned flags,
                        struct cmr_error *err);

/*
 * The scopes read when /cm/deployment is refused (403): CM settings
 * always; the management service and each group of it `desired` names,
 * when desired names the management service; and, for each cluster of
 * `desired` present in `live` (its service list was read), each desired
 * service present in live, with each group desired names for it.  Order
 * as cmr_api_full_scopes.  Appends to *out (names borrowed from
 * `desired`).  0 or CMR_ENOMEM.
 */
int cmr_api_fallback_scopes(struct cmr_api_scope_list *out,
                            const struct cmr_state *desired,
                            const struct cmr_state *live,
                            struct cmr_error *err);

/* ======================================================================
 * Request targets
 */

/* "/api/version" (no version segment). */
int cmr_api_build_version(struct cmr_buf *out);

/* "/api/vN/cm/version" */
int cmr_api_build_cm_version(struct cmr_buf *out, unsigned version);

/* "/api/vN/cm/deployment?view=export_redacted" */
int cmr_api_build_deployment(struct cmr_buf *out, unsigned version);

/* "/api/vN/clusters/C/services" (summary view: state, staleness,
 * health, maintenance; no config) */
int cmr_api_build_services(struct cmr_buf *out, unsigned version,
                           const char *cluster);

/* "/api/vN/clusters/C/parcels?view=full" */
int cmr_api_build_parcels(struct cmr_buf *out, unsigned version,
                          const char *cluster);

/* "/api/vN/clusters/C/tags?limit=L&offset=O" (v41+) */
int cmr_api_build_tags(struct cmr_buf *out, unsigned version,
                       const char *cluster, unsigned limit, unsigned offset);

/* "/api/vN/clusters/C/services/S/roleConfigGroups" (each group with its
 * set values), or "/api/vN/cm/service/roleConfigGroups" when cluster is
 * NULL (the management service; `service` is then ignored). */
int cmr_api_build_groups(struct cmr_buf *out, unsigned version,
                         const char *cluster, const char *service);

/* The config path of a scope, with "?view=VIEW" unless view is NULL
 * ("summary", "full", ...). */
int cmr_api_build_config(struct cmr_buf *out, unsigned version,
                         const struct cmr_scope *scope, const char *view);

/* ======================================================================
 * Decoders
 */

/*
 * The body of GET /api/version: "v45" (surrounding whitespace and quotes
 * are trimmed) -> 45.  Also accepts a pinned "45".  CMR_EINVAL for
 * anything else; the floor is checked by cmr_api_check_version.
 */
int cmr_api_decode_version(unsigned *out, const char *body, size_t len,
                           struct cmr_error *err);

/* CMR_EINVAL when version < CMR_API_VERSION_MIN (client.h), naming both. */
int cmr_api_check_version(unsigned version, struct cmr_error *err);

/* GET /cm/version (ApiVersionInfo): `version` -> live->manager.cm_version. */
int cmr_api_decode_cm_version(struct cmr_state *live, const char *what,
                              const char *body, size_t len,
                              struct cmr_error *err);

/*
 * GET /cm/deployment (ApiDeployment2) into `live`:
 *   managerSettings          -> manager.config
 *   versionInfo.version      -> manager.cm_version
 *   managementService        -> manager.mgmt (config, groups, roles)
 *   clusters[]               -> clusters (name, displayName, version,
 *                               fullVersion, parcels, services with
 *                               config, roleConfigGroups and roles)
 * Only clusters `only` names are kept (all when `only` is NULL).  Config
 * items keep CM's `sensitive` flag; a value "REDACTED" is kept as that
 * text and marked sensitive.  Items without a value are skipped (unset).
 * A parcel listed twice (an active parcel appears as DISTRIBUTED and as
 * ACTIVATED) is kept once, with the higher stage.
 */
int cmr_api_decode_deployment(struct cmr_state *live,
                              const struct cmr_state *only, const char *what,
                              const char *body, size_t len,
                              struct cmr_error *err);

/*
 * GET /clusters/C/services (ApiServiceList) merged onto cluster `c` of
 * `live`: each service is found or added, and gets type (when unknown),
 * displayName, serviceState, configStalenessStatus,
 * clientConfigStalenessStatus, healthSummary and maintenanceMode.
 */
int cmr_api_decode_services(struct cmr_state *live, struct cmr_cluster *c,
                            const char *what, const char *body, size_t len,
                            struct cmr_error *err);

/*
 * GET /clusters/C/parcels (ApiParcelList) merged onto cluster `c`:
 * product, version, stage and state (progress, totalProgress, count,
 * totalCount, the first of errors).  The list is authoritative for stages:
 * it replaces what the deployment said; a pair listed twice keeps the
 * higher stage.
 */
int cmr_api_decode_parcels(struct cmr_state *live, struct cmr_cluster *c,
                           const char *what, const char *body, size_t len,
                           struct cmr_error *err);

/*
 * GET /clusters/C/tags: a bare JSON array of ApiEntityTag {name, value}
 * (not wrapped in "items") into c->tags as text entries.  *out_count (may
 * be NULL) receives how many tags the page held, so the caller can ask
 * for the next page when it was full.
 */
int cmr_api_decode_tags(size_t *out_count, struct cmr_state *live,
                        struct cmr_cluster *c, const char *what,
                        const char *body, size_t len, struct cmr_error *err);

/*
 * GET /cm/service/roleConfigGroups or .../services/S/roleConfigGroups
 * (ApiRoleConfigGroupList) onto service `s`: name, roleType, base,
 * displayName and the set values of `config`.
 */
int cmr_api_decode_groups(struct cmr_state *live, struct cmr_service *s,
                          const char *what, const char *body, size_t len,
                          struct cmr_error *err);

/*
 * Any config read (ApiConfigList, or ApiServiceConfig whose
 * roleTypeConfigs are ignored), in any view:
 *   - when `cfg` is non-NULL, the items with a value are set in it (state
 *     `live`), with the same REDACTED rule as the deployment;
 *   - when `scope_key` is non-NULL, every item becomes a parameter of that
 *     scope in `params`: default, displayName, relatedName (NULL when
 *     absent or ""), sensitive, required, validationState and
 *     validationMessage (view=full).
 */
int cmr_api_decode_config(struct cmr_state *live, struct cmr_config *cfg,
                          struct cmr_params *params, const char *scope_key,
                          const char *what, const char *body, size_t len,
                          struct cmr_error *err);

/*
 * An error answer: sets err to CMR_EAPI with http_status and the message
 * "WHAT: HTTP STATUS: CM's message (cause; cause)" when the body is CM's
 * {"message": ..., "causes": [...]}, else "WHAT: HTTP STATUS" plus the
 * body's first line (at most 200 printable bytes).  Returns CMR_EAPI.
 */
int cmr_api_decode_error(struct cmr_error *err, long status, const char *what,
                         const char *body, size_t len);

#endif
