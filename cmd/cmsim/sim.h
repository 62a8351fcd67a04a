/*
 * sim.h -- cmsim's internal interface: the simulated Cloudera Manager.
 *
 * cmsim keeps its whole state in one json-c document (struct cmsim.root),
 * shaped like CM's own export (ApiDeployment2) plus the runtime fields CM
 * reports beside it (serviceState, staleness, health, commands, parcel
 * stages).  Keeping the state in CM's wire shape makes the seed load, the
 * state file and /cm/deployment nearly free, and keeps cmsim independent of
 * libcmrecon's model (DESIGN: a shared mistake would be invisible).
 *
 * Threading: the HTTP server runs one thread per connection; every access
 * to struct cmsim happens under cmsim.lock (the server takes it around a
 * request).  Functions here assume the lock is held.
 *
 * Ownership: json_object pointers returned by lookups are borrowed from the
 * state and valid until the next change; "new" results are owned by the
 * caller (json_object_put).
 */
#ifndef CMSIM_SIM_H
#define CMSIM_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cmr/buf.h"
#include "cmr/error.h"

#define CMSIM_API_MAX    45
#define CMSIM_CM_VERSION "7.5.3"

/* --- catalog (catalog.c) -------------------------------------------------- */

/*
 * The parameter catalog: service type -> scope -> name -> parameter, where
 * scope is "SERVICE", a role type, "GATEWAY" (a role type too) or "CM".
 * Parameters are compact objects written by data/make-catalog.py.
 */
struct cmsim_catalog {
	struct json_object *types; /* owned */
};

int cmsim_catalog_load(struct cmsim_catalog *cat, const char *dir,
                       struct cmr_error *err);
void cmsim_catalog_release(struct cmsim_catalog *cat);

/* The scope's name -> parameter object, or NULL (borrowed). */
struct json_object *cmsim_catalog_scope(const struct cmsim_catalog *cat,
                                        const char *svc_type,
                                        const char *scope);

/* One parameter, or NULL (borrowed). */
struct json_object *cmsim_catalog_param(const struct cmsim_catalog *cat,
                                        const char *svc_type, const char *scope,
                                        const char *name);

/*
 * Makes `name` valid for the scope if the catalog lacks it (a name that a
 * seed sets is valid there): a lenient string parameter.  0 or CMR_ENOMEM.
 */
int cmsim_catalog_learn(struct cmsim_catalog *cat, const char *svc_type,
                        const char *scope, const char *name, bool sensitive);

/* Whether the parameter is sensitive (false for NULL). */
bool cmsim_param_sensitive(struct json_object *param);

/* "restart", "refresh" or "client"; "restart" for NULL. */
const char *cmsim_param_effect(struct json_object *param);

/*
 * Checks value against the parameter's type, valid values and limits.
 * Returns 0, or CMR_EINVAL with CM's wording in err.
 */
int cmsim_param_check(struct json_object *param, const char *value,
                      struct cmr_error *err);

/* --- faults (fault.c) ----------------------------------------------------- */

enum cmsim_fault_kind {
	CMSIM_FAULT_HTTP_ERROR,
	CMSIM_FAULT_DROP,
	CMSIM_FAULT_SLOW,
	CMSIM_FAULT_COMMAND_FAIL,
	CMSIM_FAULT_PARCEL_STALL,
	CMSIM_FAULT_UNAUTHORIZED,
	CMSIM_FAULT_BAD_HEALTH,
	CMSIM_FAULT_CONCURRENT_WRITE,
	CMSIM_FAULT_VALIDATION,
};

struct cmsim_fault {
	enum cmsim_fault_kind kind;
	char *spec;    /* the text it was parsed from (owned) */
	int status;    /* http-error */
	double rate;   /* probability per matching request, 0..1 */
	int64_t count; /* remaining uses; -1 = unlimited */
	int64_t ms;    /* slow: delay */
	bool after;    /* drop: after processing */
	char *method;  /* match: HTTP method, or NULL */
	char *path;    /* match: path prefix (after /api/vNN), or NULL */
	char *command; /* command-fail: command name, or NULL = any */
	char *cluster; /* scope selectors, or NULL */
	char *service;
	char *group;
	char *role;
	char *product; /* parcel-stall */
	char *version;
	char *name;      /* concurrent-write: setting name */
	char *value;     /* concurrent-write: value, NULL = reset */
	char *message;   /* command-fail / parcel-stall / validation text */
	char *state;     /* validation: WARNING or ERROR */
	int64_t at_ms;   /* concurrent-write: sim time, or -1 */
	int64_t after_n; /* concurrent-write: after N requests, or -1 */
	bool fired;
};

struct cmsim_fault_list {
	struct cmsim_fault **items;
	size_t len, alloc;
};

/*
 * Parses one fault spec (grammar in docs/cmsim.md).  *out is owned by the
 * caller (cmsim_fault_free).  now_ms anchors relative times.
 */
int cmsim_fault_parse(struct cmsim_fault **out, const char *spec,
                      int64_t now_ms, struct cmr_error *err);
void cmsim_fault_free(struct cmsim_fault *f);
void cmsim_fault_list_clear(struct cmsim_fault_list *l);

/*
 * Fires the timed concurrent-write faults whose moment has come (sim time
 * now, or after the N-th counted request).  Called by cmsim_tick.
 */
struct cmsim;
void cmsim_faults_tick(struct cmsim *sim, int64_t now);

/*
 * Parses spec and installs it (after=N counts from now on).  0, or
 * CMR_EINVAL / CMR_ENOMEM with nothing installed.
 */
int cmsim_faults_add(struct cmsim *sim, const char *spec,
                     struct cmr_error *err);

/* Whether f matches a request (method, path below /api/vNN). */
bool cmsim_fault_matches(const struct cmsim_fault *f, const char *method,
                         const char *subpath);

/* --- the simulator -------------------------------------------------------- */

struct cmsim_user {
	char *name;
	char *password;
	int role; /* enum cmsim_auth_role */
};

enum cmsim_auth_role {
	CMSIM_FULL_ADMIN = 0,
	CMSIM_CLUSTER_ADMIN = 1,
	CMSIM_READ_ONLY = 2,
};

struct cmsim_repo {
	char *url;                    /* normalised: ends with '/' */
	struct json_object *manifest; /* owned */
};

struct cmsim {
	pthread_mutex_t lock;
	struct json_object *root; /* the state (owned) */
	struct cmsim_catalog catalog;
	struct cmsim_repo *repos;
	size_t nrepos;
	struct cmsim_fault_list faults;
	struct cmsim_user *users; /* owned, freed by cmsim_release */
	size_t nusers;
	struct json_object *sessions; /* session id -> user name */
	int64_t latency_ms, jitter_ms;
	char *state_file; /* or NULL */
	int api_max;
	bool keep_seed_secrets;
	bool verbose; /* one stderr line per request (no bodies, no auth) */
	/* clock: sim = base_sim + (mono - base_mono) * scale */
	double time_scale;
	int64_t base_sim_ms;
	int64_t base_mono_ms;
	/* statistics (not persisted) */
	struct json_object *stats;
	int64_t requests_seen; /* counted API requests, for faults */
	uint64_t rng;
	bool dirty;
};

/*
 * Initialises sim (empty state, default clock).  The caller then loads a
 * catalog and a seed or state file.
 */
int cmsim_init(struct cmsim *sim, struct cmr_error *err);
void cmsim_release(struct cmsim *sim);

/* Monotonic real milliseconds. */
int64_t cmsim_mono_ms(void);

/* The simulated wall clock, in milliseconds since the Unix epoch. */
int64_t cmsim_now(struct cmsim *sim);

/* Moves the simulated clock forward by ms (any time scale). */
void cmsim_advance(struct cmsim *sim, int64_t ms);

/* Sets the time scale, keeping the current simulated time. */
void cmsim_set_time_scale(struct cmsim *sim, double scale);

/* A pseudo-random number in [0, 1) (faults, jitter). */
double cmsim_rand(struct cmsim *sim);

/* --- state (state.c) ------------------------------------------------------ */

/*
 * Loads a seed in the shape of GET /cm/deployment (ApiDeployment2) and
 * makes it the state: runtime fields added (everything STARTED, GOOD,
 * FRESH), active parcels de-duplicated, sensitive values replaced by
 * placeholders unless sim->keep_seed_secrets.  The seed is borrowed.
 */
int cmsim_state_from_seed(struct cmsim *sim, struct json_object *seed,
                          struct cmr_error *err);

/* Reads a state file written by cmsim_state_save (it wins over a seed). */
int cmsim_state_load(struct cmsim *sim, const char *path,
                     struct cmr_error *err);

/* Writes the state atomically (temp file + rename) to sim->state_file. */
int cmsim_state_save(struct cmsim *sim, struct cmr_error *err);

/*
 * Removes the temporary files a cmsim killed in the middle of a save left
 * next to `state_file` ("<state_file>.tmp.<pid>" of a process that no
 * longer runs).  Returns how many were removed.
 */
size_t cmsim_state_sweep(const char *state_file);

/* Makes every config name the state sets valid for its scope. */
int cmsim_state_learn_names(struct cmsim *sim, struct cmr_error *err);

/* Lookups; NULL when absent (borrowed). A cluster matches name or
 * displayName. */
struct json_object *cmsim_cluster(struct cmsim *sim, const char *name);
struct json_object *cmsim_service(struct json_object *cluster,
                                  const char *name);
struct json_object *cmsim_mgmt(struct cmsim *sim);
struct json_object *cmsim_rcg(struct json_object *service, const char *name);
struct json_object *cmsim_role(struct json_object *service, const char *name);
struct json_object *cmsim_parcel(struct json_object *cluster,
                                 const char *product, const char *version);

/* A configuration scope: where its items live and which catalog scope. */
enum cmsim_scope_kind {
	CMSIM_SCOPE_CM,
	CMSIM_SCOPE_SERVICE,
	CMSIM_SCOPE_RCG,
	CMSIM_SCOPE_ROLE,
};

struct cmsim_scope {
	enum cmsim_scope_kind kind;
	struct json_object *cluster; /* NULL for CM and mgmt */
	struct json_object *service; /* NULL for CM */
	struct json_object *owner;   /* object holding "config" */
	const char *svc_type;        /* "CM" for CM settings */
	const char *scope;           /* "CM", "SERVICE" or a role type */
};

/* The config items array of a scope (created if missing; borrowed). */
struct json_object *cmsim_scope_items(const struct cmsim_scope *sc);

/* The value a scope sets for name, or NULL. */
const char *cmsim_scope_get(const struct cmsim_scope *sc, const char *name);

/*
 * Applies a config PUT body (ApiConfigList / ApiServiceConfig items) to a
 * scope: every item is checked first (unknown name, invalid value -> 400
 * text in err, nothing changed), then values are merged (null resets) and
 * the roles the changes affect are marked stale by the catalog's effects.
 * `message` is the audit text (may be NULL).  Returns 0 or CMR_EINVAL.
 */
int cmsim_config_put(struct cmsim *sim, const struct cmsim_scope *sc,
                     struct json_object *body, const char *message,
                     struct cmr_error *err);

/* Sets or resets (value NULL) one setting, with staleness (no checks). */
int cmsim_config_set(struct cmsim *sim, const struct cmsim_scope *sc,
                     const char *name, const char *value);

/* A service's configStalenessStatus: the worst of its roles. */
const char *cmsim_service_staleness(struct json_object *service);

/* Whether a role is a gateway (no process; roleState NA). */
bool cmsim_role_is_gateway(struct json_object *role);

/*
 * Maintenance mode is set on a cluster, a service or a role and inherited
 * downwards (CM's maintenanceOwners).  Whether an entity is effectively
 * in it: any of the given (non-NULL) levels set.
 */
bool cmsim_in_maintenance(struct json_object *cluster,
                          struct json_object *service,
                          struct json_object *role);

/*
 * Enters (on) or exits maintenance mode on the most specific of cluster,
 * service, role given; returns the finished command (borrowed).
 */
struct json_object *cmsim_cmd_maintenance(struct cmsim *sim,
                                          struct json_object *cluster,
                                          struct json_object *service,
                                          struct json_object *role, bool on);

/* Appends "cluster/service" as used in the restart statistics. */
void cmsim_note_restart(struct cmsim *sim, struct json_object *cluster,
                        struct json_object *service);

/* --- commands and parcels (command.c, parcel.c) --------------------------- */

/*
 * Advances the simulation to the current simulated time: finishes command
 * steps, moves parcels through transient stages, fires timed faults.
 */
void cmsim_tick(struct cmsim *sim);

/* Command kinds (what happens when a step ends). */
enum cmsim_cmd_kind {
	CMSIM_CMD_SVC_START,
	CMSIM_CMD_SVC_STOP,
	CMSIM_CMD_SVC_RESTART,
	CMSIM_CMD_SVC_ROLLING,
	CMSIM_CMD_SVC_DEPLOY_CC,
	CMSIM_CMD_SVC_REFRESH,
	CMSIM_CMD_ROLE_START,
	CMSIM_CMD_ROLE_STOP,
	CMSIM_CMD_ROLE_RESTART,
	CMSIM_CMD_ROLE_REFRESH,
	CMSIM_CMD_CLUSTER, /* a parent of service steps */
	CMSIM_CMD_REPO_REFRESH,
};

/*
 * Starts an asynchronous command on a service (kinds SVC_*); args is the
 * request body or NULL.  *out is borrowed from the state.  400 texts go
 * to err (CMR_EINVAL).
 */
int cmsim_cmd_service(struct json_object **out, struct cmsim *sim,
                      struct json_object *cluster, struct json_object *service,
                      enum cmsim_cmd_kind kind, struct json_object *args,
                      struct cmr_error *err);

/* A cluster command: "start", "stop", "restart", "rollingRestart",
 * "refresh", "deployClientConfig", "deployClientConfigsAndRefresh". */
int cmsim_cmd_cluster(struct json_object **out, struct cmsim *sim,
                      struct json_object *cluster, const char *what,
                      struct json_object *args, struct cmr_error *err);

/* One role command (kinds ROLE_*); NULL with a message in err if the role
 * cannot take it (gateways). */
int cmsim_cmd_role(struct json_object **out, struct cmsim *sim,
                   struct json_object *cluster, struct json_object *service,
                   struct json_object *role, enum cmsim_cmd_kind kind,
                   struct cmr_error *err);

/* refreshParcelRepos (a global command). */
int cmsim_cmd_refresh_repos(struct json_object **out, struct cmsim *sim,
                            struct cmr_error *err);

/* A command (or child step) by id, or NULL (borrowed). */
struct json_object *cmsim_cmd_find(struct cmsim *sim, int64_t id);

/* Aborts an active command; 0, or CMR_EINVAL if it is not active. */
int cmsim_cmd_abort(struct cmsim *sim, struct json_object *cmd,
                    struct cmr_error *err);

/* Re-reads the repositories REMOTE_PARCEL_REPO_URLS lists (now). */
void cmsim_parcels_refresh_repos(struct cmsim *sim);

/*
 * Runs a parcel stage command ("startDownload", ... see FACTS §7).
 * 0, CMR_EINVAL (illegal in the current stage; message in err).
 */
int cmsim_parcel_command(struct cmsim *sim, struct json_object *cluster,
                         struct json_object *parcel, const char *command,
                         struct cmr_error *err);

/* Moves parcels forward to `now` (called by cmsim_tick). */
void cmsim_parcels_tick(struct cmsim *sim, int64_t now);

/* --- rendering: state -> CM API bodies (render.c) ------------------------- */

/* Which view a GET asked for. */
enum cmsim_view {
	CMSIM_VIEW_SUMMARY,
	CMSIM_VIEW_FULL,
	CMSIM_VIEW_EXPORT,
	CMSIM_VIEW_EXPORT_REDACTED,
};

/* All render functions return a new object owned by the caller. */
/* "COMPUTE_CLUSTER" when the seed says so, else "BASE_CLUSTER". */
const char *cmsim_cluster_type(struct json_object *c);
struct json_object *cmsim_render_cluster(struct cmsim *sim,
                                         struct json_object *c, int ver);
struct json_object *cmsim_render_service(struct cmsim *sim,
                                         struct json_object *c,
                                         struct json_object *s, int ver,
                                         enum cmsim_view view);
struct json_object *cmsim_render_rcg(struct cmsim *sim, struct json_object *c,
                                     struct json_object *s,
                                     struct json_object *g, int ver);
struct json_object *cmsim_render_role(struct cmsim *sim, struct json_object *c,
                                      struct json_object *s,
                                      struct json_object *r, int ver);
/* ApiConfigList of a scope: summary (set values) or full (catalog). */
struct json_object *cmsim_render_config(struct cmsim *sim,
                                        const struct cmsim_scope *sc,
                                        enum cmsim_view view);
struct json_object *
cmsim_render_command(struct cmsim *sim, struct json_object *cmd, bool children);
struct json_object *cmsim_render_parcel(struct json_object *c,
                                        struct json_object *p);
struct json_object *cmsim_render_host(struct json_object *h, int ver);
struct json_object *cmsim_render_deployment(struct cmsim *sim, int ver,
                                            bool redacted);
struct json_object *cmsim_render_template(struct cmsim *sim,
                                          struct json_object *c);
struct json_object *cmsim_render_tags(struct json_object *owner);

/* --- routes (api.c) ------------------------------------------------------- */

/* One API request, as the server hands it to a route handler. */
struct cmsim_req {
	struct cmsim *sim;
	const char *method;
	int ver;               /* the NN of /api/vNN */
	const char *params[8]; /* decoded {placeholders}, in order */
	size_t nparams;
	bool mgmt;                 /* a /cm/service route */
	struct json_object *query; /* decoded query arguments (borrowed) */
	struct json_object *body;  /* parsed request body or NULL */
	int auth_role;             /* enum cmsim_auth_role */
	/* results */
	int status;
	struct json_object *resp; /* owned; JSON body */
	char *text;               /* owned; plain-text body instead */
};

enum cmsim_route_flags {
	CMSIM_ROUTE_MGMT = 1 << 0,       /* /cm/service/...: service = mgmt */
	CMSIM_ROUTE_ADMIN = 1 << 1,      /* full or cluster admin only */
	CMSIM_ROUTE_FULL_ADMIN = 1 << 2, /* full admin only */
};

struct cmsim_route {
	const char *method;
	const char *path; /* template below /api/vNN, spec placeholders */
	void (*fn)(struct cmsim_req *req);
	int flags;
	int min_ver;
};

extern const struct cmsim_route cmsim_routes[];
extern const size_t cmsim_nroutes;

/*
 * Finds the route for method and path segments (decoded, below /api/vNN)
 * and fills req->params.  NULL if none; *path_known tells a wrong method
 * (405) from an unknown path (404).
 */
const struct cmsim_route *cmsim_route_match(const char *method,
                                            char *const *segs, size_t nsegs,
                                            struct cmsim_req *req,
                                            bool *path_known);

/* Sets req's result to CM's error body {"message": ...}. */
void cmsim_req_error(struct cmsim_req *req, int status, const char *fmt, ...)
        CMR_PRINTF(3, 4);

/* --- the HTTP server (server.c) ------------------------------------------- */

struct cmsim_server;

/*
 * Starts serving sim on host:port (port 0 picks a free one), over TLS when
 * cert_pem and key_pem (PEM texts) are given.  Returns 0 and *out, which
 * the caller stops with cmsim_server_stop.
 */
int cmsim_server_start(struct cmsim_server **out, struct cmsim *sim,
                       const char *host, int port, const char *cert_pem,
                       const char *key_pem, struct cmr_error *err);

/* The port the server listens on. */
int cmsim_server_port(const struct cmsim_server *srv);

/* Stops the server (waits for running requests) and frees it. */
void cmsim_server_stop(struct cmsim_server *srv);

/* Zeroes the request statistics (GET /_sim/stats). */
void cmsim_stats_reset(struct cmsim *sim);

/* --- small json-c helpers (util.c) ---------------------------------------- */

const char *cmsim_jstr(struct json_object *o, const char *key);
bool cmsim_jbool(struct json_object *o, const char *key, bool dflt);
int64_t cmsim_jint(struct json_object *o, const char *key, int64_t dflt);
struct json_object *cmsim_jget(struct json_object *o, const char *key);
/* The array at key, created empty if missing (NULL if o is NULL). */
struct json_object *cmsim_jarr(struct json_object *o, const char *key);
void cmsim_jset_str(struct json_object *o, const char *key, const char *v);
void cmsim_jset_int(struct json_object *o, const char *key, int64_t v);
void cmsim_jset_bool(struct json_object *o, const char *key, bool v);
/* Copies o[key] into dst[key] (deep), if present. */
void cmsim_jcopy(struct json_object *dst, struct json_object *src,
                 const char *key);
/* A deep copy, or NULL. */
struct json_object *cmsim_jdup(struct json_object *o);
/* ISO-8601 UTC with milliseconds and Z. */
void cmsim_iso_time(char *dst, size_t size, int64_t epoch_ms);
/* Case-insensitive ASCII compare (view names). */
bool cmsim_streq_ci(const char *a, const char *b);

#endif
