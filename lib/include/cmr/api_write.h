/*
 * api_write.h -- the pure half of CM's write calls and command reads.
 *
 * Like api.h, nothing here does I/O: builders append a request target
 * ("/api/v45/...", percent-encoded) or a JSON request body to a struct
 * cmr_buf, and decoders turn CM's answers into small plain structs.
 * lib/exec strings them together with cmr_client_send_all().  Every
 * endpoint and field is from CM's v45 spec (FACTS.md §3-§7):
 *
 *   PUT  .../config?message=M             a scope's settings (merge)
 *   POST /cm/commands/refreshParcelRepos
 *   GET  .../parcels/products/P/versions/V
 *   POST .../parcels/products/P/versions/V/commands/CMD
 *   POST .../services/S/commands/{restart,rollingRestart,deployClientConfig}
 *   POST .../services/S/roleCommands/refresh
 *   GET  /clusters/C (its type), .../services/S, .../services/S/roles
 *   GET  /commands/ID
 *   GET  /cm/commands, /clusters/C/commands, .../services/S/commands
 *   GET|PUT|DELETE /clusters/C/tags
 *
 * Builders return 0 or the buffer's sticky error (CMR_ENOMEM).  Decoders
 * return 0, CMR_EINVAL for an answer that is not what the spec says (the
 * message names `what` and the field), or CMR_ENOMEM.  Decoded texts live
 * in fixed arrays of the result (truncated if longer): no decoder result
 * needs freeing except the lists, released with their _release function.
 */
#ifndef CMR_API_WRITE_H
#define CMR_API_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/api.h"
#include "cmr/buf.h"
#include "cmr/error.h"
#include "cmr/model.h"
#include "cmr/transport.h"

#define CMR_API_TEXT_MAX 512
#define CMR_API_NAME_MAX 256

/* ======================================================================
 * Settings
 */

/* One setting to write; value NULL resets the key to CM's default. */
struct cmr_api_config_item {
	const char *name;
	const char *value;
};

/* The scope's config path with "?message=MESSAGE" (percent-encoded). */
int cmr_api_build_config_put(struct cmr_buf *out, unsigned version,
                             const struct cmr_scope *scope,
                             const char *message);

/* {"items":[{"name":N,"value":V|null},...]} (ApiConfigList; also a valid
 * ApiServiceConfig).  The body may hold secrets: never log it. */
int cmr_api_body_config(struct cmr_buf *out,
                        const struct cmr_api_config_item *items, size_t n);

/* ======================================================================
 * Commands
 */

struct cmr_api_command {
	int64_t id; /* -1 when CM gave none (a synchronous command) */
	char name[CMR_API_NAME_MAX];
	bool active;
	bool has_success; /* `success` was present (finished) */
	bool success;
	char result_message[CMR_API_TEXT_MAX];
	/* The deepest failing child, "NAME: resultMessage", or "". */
	char failure[CMR_API_TEXT_MAX];
	/* serviceRef.serviceName / clusterRef.clusterName, or "". */
	char service[CMR_API_NAME_MAX];
	char cluster[CMR_API_NAME_MAX];
};

struct cmr_api_command_list {
	struct cmr_api_command *items;
	size_t len, alloc;
	/* ApiBulkCommandList.errors, joined with "; " ("" when none). */
	char errors[CMR_API_TEXT_MAX];
};

void cmr_api_command_list_release(struct cmr_api_command_list *l);

/* "/api/vN/commands/ID" */
int cmr_api_build_command(struct cmr_buf *out, unsigned version, int64_t id);

/* "/api/vN/cm/commands/refreshParcelRepos" */
int cmr_api_build_refresh_parcel_repos(struct cmr_buf *out, unsigned version);

/* A service command: ".../clusters/C/services/S/commands/NAME" (restart,
 * rollingRestart, deployClientConfig). */
int cmr_api_build_service_command(struct cmr_buf *out, unsigned version,
                                  const char *cluster, const char *service,
                                  const char *name);

/* A bulk role command: ".../clusters/C/services/S/roleCommands/NAME". */
int cmr_api_build_role_command(struct cmr_buf *out, unsigned version,
                               const char *cluster, const char *service,
                               const char *name);

/*
 * The active commands: "/api/vN/cm/commands" (cluster NULL),
 * ".../clusters/C/commands" (service NULL) or ".../services/S/commands".
 */
int cmr_api_build_active_commands(struct cmr_buf *out, unsigned version,
                                  const char *cluster, const char *service);

/* ApiRollingRestartArgs {"staleConfigsOnly":true}: stale roles only. */
int cmr_api_body_rolling_restart(struct cmr_buf *out);

/* ApiRoleNameList {"items":[...]}; n == 0 gives {"items":[]} (all). */
int cmr_api_body_role_names(struct cmr_buf *out, const char *const *names,
                            size_t n);

/* One ApiCommand (a POST's answer or GET /commands/ID). */
int cmr_api_decode_command(struct cmr_api_command *out, const char *what,
                           const char *body, size_t len, struct cmr_error *err);

/* An ApiCommandList or ApiBulkCommandList, appended to out. */
int cmr_api_decode_command_list(struct cmr_api_command_list *out,
                                const char *what, const char *body, size_t len,
                                struct cmr_error *err);

/* ======================================================================
 * Parcels
 */

struct cmr_api_parcel_status {
	enum cmr_parcel_stage stage;
	int64_t progress, total_progress; /* bytes while downloading */
	int64_t count, total_count;       /* hosts while distributing */
	char error[CMR_API_TEXT_MAX];     /* state.errors joined, or "" */
};

/* ".../clusters/C/parcels/products/P/versions/V" */
int cmr_api_build_parcel(struct cmr_buf *out, unsigned version,
                         const char *cluster, const char *product,
                         const char *parcel_version);

/* The same, plus "/commands/NAME" (startDownload, ...). */
int cmr_api_build_parcel_command(struct cmr_buf *out, unsigned version,
                                 const char *cluster, const char *product,
                                 const char *parcel_version, const char *name);

int cmr_api_decode_parcel(struct cmr_api_parcel_status *out, const char *what,
                          const char *body, size_t len, struct cmr_error *err);

/* ======================================================================
 * Services and roles
 */

struct cmr_api_service_status {
	enum cmr_run_state state;
	enum cmr_health health;
	enum cmr_staleness config_staleness;
	enum cmr_staleness client_staleness;
	bool maintenance;
	/* The health checks whose summary is not GOOD (and not suppressed),
	 * "NAME (SUMMARY)" joined with ", ", or "". */
	char failing_checks[CMR_API_TEXT_MAX];
};

/* ".../clusters/C/services/S" (view full by default: health checks). */
int cmr_api_build_service(struct cmr_buf *out, unsigned version,
                          const char *cluster, const char *service);

/* ".../clusters/C/services/S/roles" */
int cmr_api_build_roles(struct cmr_buf *out, unsigned version,
                        const char *cluster, const char *service);

int cmr_api_decode_service(struct cmr_api_service_status *out, const char *what,
                           const char *body, size_t len, struct cmr_error *err);

/* ".../clusters/C" (ApiCluster: its type, maintenance, version) */
int cmr_api_build_cluster(struct cmr_buf *out, unsigned version,
                          const char *cluster);

/*
 * GET /clusters/C (ApiCluster): *compute is true when clusterType is
 * COMPUTE_CLUSTER (a Virtual Private Cluster's compute cluster, whose
 * services use a base cluster's data context), false for BASE_CLUSTER.
 * Without clusterType (before v32, or left out) the spec's rule applies:
 * a cluster with dataContextRefs is a compute cluster.
 */
int cmr_api_decode_cluster_type(bool *compute, const char *what,
                                const char *body, size_t len,
                                struct cmr_error *err);

/* ApiRoleList onto service `s` of `live` (name, type, roleState,
 * configStalenessStatus, healthSummary, maintenanceMode). */
int cmr_api_decode_roles(struct cmr_state *live, struct cmr_service *s,
                         const char *what, const char *body, size_t len,
                         struct cmr_error *err);

/* ======================================================================
 * Cluster tags (v41+)
 */

struct cmr_api_tag {
	const char *name;
	const char *value; /* NULL: (DELETE) every value of the name */
};

/* ".../clusters/C/tags" (for PUT and DELETE; GET uses
 * cmr_api_build_tags of api.h with its paging). */
int cmr_api_build_tags_path(struct cmr_buf *out, unsigned version,
                            const char *cluster);

/* [{"name":N,"value":V},...] -- a bare array, as the spec's body is. */
int cmr_api_body_tags(struct cmr_buf *out, const struct cmr_api_tag *tags,
                      size_t n);

/* ======================================================================
 * Answers
 */

/*
 * 0 when resp answers req with a 2xx status; otherwise CMR_EAPI with CM's
 * message ("PUT URL: HTTP 400: ..."), or the transport's own error when
 * there was no answer, both naming the request.
 */
int cmr_api_check_answer(const struct cmr_http_request *req,
                         const struct cmr_http_response *resp,
                         struct cmr_error *err);

#endif
