/*
 * model.h -- the one in-memory model of a CM deployment.
 *
 * The same types describe the DESIRED state (read from YAML by lib/load)
 * and the LIVE state (read from CM by lib/api); the planner compares two of
 * them.  Fields that only one side fills say so ("desired only", "live
 * only"); the other side leaves them zero.
 *
 * Ownership.  A whole tree -- clusters, services, role config groups,
 * parcels, config entries and every string they point at -- lives in the
 * arena of one struct cmr_state and is freed at once by cmr_state_free().
 * Pointers returned by the find/add functions are borrowed from the state
 * and stay valid until it is freed: nodes are allocated one by one and
 * never move, only the (sorted) arrays of pointers to them grow.  Strings
 * passed IN are always copied into the arena, so callers may pass
 * temporaries.
 *
 * Order.  Every collection is kept sorted by name (bytewise strcmp; parcels
 * by product, then version) as it is built, so iterating a state is
 * deterministic, lookups are binary searches, and two states can be
 * compared by walking their arrays side by side.
 *
 * Values.  CM's configuration values are strings.  The value rules of the
 * desired-state format (DESIGN.md "Values") live in this header and
 * model/value.c, in one place, because the loader applies them and the
 * planner compares through them:
 *   - a plain scalar keeps its text ("022" stays "022", "5.0" stays "5.0");
 *   - true/false in any case become "true"/"false";
 *   - null (any case) or ~ resets the key to CM's default;
 *   - a list of scalars becomes their texts joined with ",";
 *   - an empty plain value is an error ("write null to reset ...");
 *   - quoted and block scalars are taken byte for byte;
 *   - {env: NAME} / {file: PATH} are secret references, never literals.
 *
 * Nothing here does I/O.  Reading a secret reference's value is
 * cmr_secret_resolve() in load.h.
 */
#ifndef CMR_MODEL_H
#define CMR_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/arena.h"
#include "cmr/buf.h"
#include "cmr/common.h"
#include "cmr/error.h"

/* The desired-state format version this build reads. */
#define CMR_FORMAT_VERSION 1

/* ======================================================================
 * Values
 */

enum cmr_value_kind {
	CMR_VALUE_TEXT = 0, /* a literal: `text` is the value CM stores */
	CMR_VALUE_RESET,    /* null: back to CM's default; `text` is NULL */
	CMR_VALUE_ENV,      /* secret from an environment variable; `text`
	                     * is the variable's name */
	CMR_VALUE_FILE,     /* secret from a file; `text` is its path,
	                     * already made relative to the current
	                     * directory (absolute, or joined with the YAML
	                     * file's directory) */
};

struct cmr_value {
	enum cmr_value_kind kind;
	const char *text; /* see the kinds; borrowed from the state's arena */
};

/* How a YAML scalar was written, which decides how its text is read. */
enum cmr_scalar_style {
	CMR_SCALAR_PLAIN = 0, /* unquoted: null/true/false are recognised */
	CMR_SCALAR_QUOTED,    /* '...', "..." or a block (| >): byte for byte */
};

/*
 * Applies the scalar rules to one YAML scalar of `len` bytes (text need not
 * be NUL-terminated) and stores the result in *out, copying the text into
 * arena `a`.  A plain null/~ gives CMR_VALUE_RESET, a plain true/false in
 * any case gives "true"/"false", anything else its text.
 *
 * Returns 0; CMR_EINVAL for an empty plain scalar (with the message "empty
 * value; write null to reset to CM's default"); CMR_ENOMEM.
 */
int cmr_value_from_scalar(struct cmr_value *out, struct cmr_arena *a,
                          const char *text, size_t len,
                          enum cmr_scalar_style style, struct cmr_error *err);

/*
 * True when a PLAIN scalar of `len` bytes means null: empty, "~", or
 * "null" in any case.  (An empty value is null to YAML but an error in a
 * setting: cmr_value_from_scalar refuses it.)  The loader uses this for
 * every place a null may appear, so null means the same everywhere.
 */
bool cmr_scalar_is_null(const char *text, size_t len);

/*
 * Joins the already-normalised texts of a list's items with "," into *out
 * (kind CMR_VALUE_TEXT), in arena `a`.  Items must be literal texts: the
 * caller refuses null items and nested collections first.
 *
 * Returns 0; CMR_EINVAL when n == 0 ("empty list; write \"\" for an empty
 * value or null to reset"); CMR_ENOMEM.
 */
int cmr_value_join(struct cmr_value *out, struct cmr_arena *a,
                   const char *const *items, size_t n, struct cmr_error *err);

/*
 * True when the two values are the same: same kind and, for kinds with a
 * text, byte-identical texts.  Two references to the same variable or file
 * are equal (their resolved secrets are compared elsewhere, through the
 * records kept in CM).
 */
bool cmr_value_equal(const struct cmr_value *a, const struct cmr_value *b);

/* True when the value is the literal text "true" or "false". */
bool cmr_value_is_bool(const struct cmr_value *v);

/* "text", "reset", "env", "file". */
const char *cmr_value_kind_name(enum cmr_value_kind kind);

/* True for a secret reference: kind CMR_VALUE_ENV or CMR_VALUE_FILE. */
bool cmr_value_is_ref(const struct cmr_value *v);

/*
 * A secret reference as one line of text, "env NAME" or "file PATH" --
 * where the secret comes from, never its value -- appended to out (the
 * spelling of plans and plan files).  0, CMR_EINVAL (not a reference),
 * CMR_ENOMEM.
 */
int cmr_value_ref_text(struct cmr_buf *out, const struct cmr_value *ref);

/*
 * Reads "env NAME" / "file PATH" back into *out; its text points into s.
 * 0, or CMR_EINVAL for any other text (or an empty name).
 */
int cmr_value_ref_parse(struct cmr_value *out, const char *s);

/*
 * The offline secret rule of `validate` (DESIGN.md "Secrets by name"): true
 * when a key's name marks it as a secret -- it contains "password" or
 * "secret", or ends in "_pw" (case-insensitive) -- and it is not a
 * "*_suppression_*" key (CM's switches that silence a warning about the
 * secret).
 */
bool cmr_secret_name(const char *key);

/*
 * True when `v` may not be written for `key` because it would put a
 * secret into the file as a literal: the key is secret-named and the value
 * is literal text that is not a boolean.  Resets and references are fine.
 */
bool cmr_secret_literal_refused(const char *key, const struct cmr_value *v);

/*
 * A secret file's content as the value to send: `len` bytes of `data` less
 * ONE trailing "\n" (or "\r\n"), as editors add one.  Returns the new
 * length; never allocates.
 */
size_t cmr_secret_trim_newline(const char *data, size_t len);

/* ======================================================================
 * Enumerations read from CM (live) or written in the file (desired)
 *
 * Each has a 0 value meaning "not known / not read", and a name table:
 * *_name() gives CM's spelling (never NULL; "" for the 0 value) and
 * *_parse() maps CM's spelling back, returning 0, or CMR_EINVAL for a
 * string it does not know (*out untouched).
 */

enum cmr_parcel_stage {
	CMR_PARCEL_STAGE_NONE = 0,
	CMR_PARCEL_AVAILABLE_REMOTELY,
	CMR_PARCEL_DOWNLOADING,
	CMR_PARCEL_DOWNLOADED,
	CMR_PARCEL_DISTRIBUTING,
	CMR_PARCEL_DISTRIBUTED,
	CMR_PARCEL_UNDISTRIBUTING,
	CMR_PARCEL_ACTIVATING,
	CMR_PARCEL_ACTIVATED,
	CMR_PARCEL_UNAVAILABLE,   /* known to CM but not obtainable */
	CMR_PARCEL_STAGE_UNKNOWN, /* CM's own "UNKNOWN" */
};

const char *cmr_parcel_stage_name(enum cmr_parcel_stage stage);
int cmr_parcel_stage_parse(enum cmr_parcel_stage *out,
                           const char *s) CMR_WARN_UNUSED;

/*
 * True for the stages a desired-state file may ask for: the stable ones
 * AVAILABLE_REMOTELY, DOWNLOADED, DISTRIBUTED, ACTIVATED.
 */
bool cmr_parcel_stage_is_target(enum cmr_parcel_stage stage);

/*
 * Rank of a stage on the way up (AVAILABLE_REMOTELY 1, DOWNLOADED 2,
 * DISTRIBUTED 3, ACTIVATED 4; transient stages rank with the stage they
 * leave from; 0 for NONE, UNAVAILABLE and UNKNOWN), for ordering
 * transitions.
 */
int cmr_parcel_stage_rank(enum cmr_parcel_stage stage);

/* serviceState and roleState. */
enum cmr_run_state {
	CMR_RUN_NONE = 0,
	CMR_RUN_HISTORY_NOT_AVAILABLE,
	CMR_RUN_UNKNOWN,
	CMR_RUN_STARTING,
	CMR_RUN_STARTED,
	CMR_RUN_BUSY, /* roles only */
	CMR_RUN_STOPPING,
	CMR_RUN_STOPPED,
	CMR_RUN_NA, /* e.g. gateway roles */
};

const char *cmr_run_state_name(enum cmr_run_state state);
int cmr_run_state_parse(enum cmr_run_state *out, const char *s) CMR_WARN_UNUSED;

/* configStalenessStatus and clientConfigStalenessStatus. */
enum cmr_staleness {
	CMR_STALE_NONE = 0,
	CMR_STALE_FRESH,
	CMR_STALE_REFRESHABLE, /* CM's STALE_REFRESHABLE */
	CMR_STALE_STALE,
};

const char *cmr_staleness_name(enum cmr_staleness s);
int cmr_staleness_parse(enum cmr_staleness *out, const char *s) CMR_WARN_UNUSED;

/* healthSummary. */
enum cmr_health {
	CMR_HEALTH_NONE = 0,
	CMR_HEALTH_DISABLED,
	CMR_HEALTH_HISTORY_NOT_AVAILABLE,
	CMR_HEALTH_NOT_AVAILABLE,
	CMR_HEALTH_GOOD,
	CMR_HEALTH_CONCERNING,
	CMR_HEALTH_BAD,
};

const char *cmr_health_name(enum cmr_health h);
int cmr_health_parse(enum cmr_health *out, const char *s) CMR_WARN_UNUSED;

/* How a service's stale roles are restarted (desired only). */
enum cmr_restart_policy {
	CMR_RESTART_RESTART = 0, /* the default: restart the service */
	CMR_RESTART_ROLLING,     /* CM's rollingRestart of stale roles */
	CMR_RESTART_NEVER,       /* leave it stale; apply exits 2 */
};

/* "restart", "rolling", "never" (the spelling used in the file). */
const char *cmr_restart_policy_name(enum cmr_restart_policy p);
int cmr_restart_policy_parse(enum cmr_restart_policy *out,
                             const char *s) CMR_WARN_UNUSED;

/* ======================================================================
 * The tree
 */

/*
 * Sorted arrays of pointers to nodes, one type per kind of node (see
 * "Order" above).  `len` nodes are in items[0..len); `alloc` is internal.
 */
struct cmr_group_list {
	struct cmr_role_config_group **items;
	size_t len, alloc;
};

struct cmr_role_list {
	struct cmr_role **items;
	size_t len, alloc;
};

struct cmr_parcel_list {
	struct cmr_parcel **items;
	size_t len, alloc;
};

struct cmr_service_list {
	struct cmr_service **items;
	size_t len, alloc;
};

struct cmr_cluster_list {
	struct cmr_cluster **items;
	size_t len, alloc;
};

/* One setting of one scope (or one entity tag: see cmr_cluster.tags). */
struct cmr_config_entry {
	const char *name; /* CM's API name, e.g. "dfs_replication" */
	struct cmr_value value;
	/*
	 * Desired: the value is a secret reference.  Live: CM marks the
	 * parameter `sensitive` (its text is then usually "REDACTED").
	 */
	bool sensitive;
	struct cmr_mark mark; /* desired: where the key is written */
};

/*
 * True for a per-role setting CM keeps itself rather than one a person
 * made: sensitive ones (e.g. role_jceks_password) and the ids CM sets on
 * every role (serverId, namenode_id, rm_id).  Plan leaves them out of its
 * per-role override notes, export out of its comments.
 */
bool cmr_config_is_bookkeeping(const struct cmr_config_entry *e);

/* The settings of one scope, sorted by name, at most one entry per name. */
struct cmr_config {
	struct cmr_config_entry **items;
	size_t len, alloc;
};

struct cmr_role_config_group {
	const char *name;         /* e.g. "hdfs-DATANODE-BASE" */
	const char *role_type;    /* live only, e.g. "DATANODE" */
	const char *display_name; /* live only */
	bool base;                /* live only */
	struct cmr_config config;
	struct cmr_mark mark; /* desired: where the group's name is written */
};

/* A role (live only): enough for restarts and the override summary. */
struct cmr_role {
	const char *name;
	const char *type;
	const char *group;   /* its role config group's name */
	const char *host_id; /* hostRef.hostId */
	const char *hostname;
	enum cmr_run_state state;
	enum cmr_staleness config_staleness;
	enum cmr_health health;
	bool maintenance_mode;
	struct cmr_config config; /* the role's own overrides */
};

struct cmr_service {
	const char *name;         /* CM's name; NULL for the desired management
	                           * service, whose name the file does not give */
	const char *type;         /* e.g. "HDFS"; NULL when the file omits it */
	const char *display_name; /* live only */
	struct cmr_mark mark;     /* desired: where the name is written */
	struct cmr_mark type_mark; /* desired: where `type` was (last) set */

	/* desired only */
	enum cmr_restart_policy restart;
	bool prune;

	/* live only */
	enum cmr_run_state state;
	enum cmr_staleness config_staleness;
	enum cmr_staleness client_config_staleness;
	enum cmr_health health;
	bool maintenance_mode;

	struct cmr_config config; /* service-wide settings */

	struct cmr_group_list groups; /* sorted by name */

	struct cmr_role_list roles; /* live only; sorted by name */
};

struct cmr_parcel {
	const char *product;         /* e.g. "CDH" */
	const char *version;         /* the full parcel version */
	enum cmr_parcel_stage stage; /* desired: the target stage */
	struct cmr_mark mark;        /* desired: where the product is written */

	/* live only: ApiParcelState */
	int64_t progress, total_progress; /* bytes while downloading */
	int64_t count, total_count;       /* hosts while distributing */
	const char *error; /* the first of state.errors, or NULL */
};

struct cmr_cluster {
	const char *name;         /* the API name, e.g. "Cluster 1" */
	const char *display_name; /* live only */
	const char *version;      /* live only, e.g. "CDH7" */
	const char *full_version; /* live only, e.g. "7.1.9" */
	struct cmr_mark mark;

	/* Sorted by product, then version; desired: one version per product. */
	struct cmr_parcel_list parcels;
	struct cmr_service_list services; /* sorted by name */
	/*
	 * Live only: the cluster's entity tags (API v41+), as TEXT entries,
	 * where cmrecon keeps its lock and its secret records.
	 */
	struct cmr_config tags;
};

/* CM itself: the connection (desired) and the CM-level state. */
struct cmr_manager {
	/* desired only: the connection, each NULL when not written */
	const char *url;
	const char *api_version; /* e.g. "v45" */
	const char *ca_file;     /* made relative to the current directory */
	const char *username;
	struct cmr_config_entry *password; /* a secret reference, or NULL */
	struct cmr_mark mark;              /* where `manager:` is written */

	const char *cm_version; /* live only, e.g. "7.11.3" */

	struct cmr_config config; /* /cm/config */
	/*
	 * The management service (/cm/service), or NULL when the file does
	 * not name it or CM has none.  Created with cmr_manager_add_mgmt.
	 */
	struct cmr_service *mgmt;
};

enum cmr_state_origin {
	CMR_STATE_DESIRED = 0,
	CMR_STATE_LIVE,
};

struct cmr_state {
	struct cmr_arena arena; /* owns every node and string of the tree */
	enum cmr_state_origin origin;
	struct cmr_manager manager;

	struct cmr_cluster_list clusters; /* sorted by name */
};

/* ======================================================================
 * Building and looking up
 *
 * The add functions are "find or add": when a node of that name already
 * exists they deliver it unchanged, so the loader can merge several files
 * and lib/api can fill a state in any order.  They return 0, CMR_EINVAL for
 * an empty or NULL name, or CMR_ENOMEM (the state is then unusable except
 * for cmr_state_free).  *out is borrowed from the state.
 *
 * The find functions return a borrowed pointer, or NULL when absent.
 */

/*
 * Creates an empty state.  *out belongs to the caller, who frees it with
 * cmr_state_free.  Returns 0 or CMR_ENOMEM.
 */
int cmr_state_new(struct cmr_state **out, enum cmr_state_origin origin,
                  struct cmr_error *err);

/* Frees the state and everything in it.  NULL is accepted. */
void cmr_state_free(struct cmr_state *st);

/* A copy of s in the state's arena, or NULL when out of memory. */
const char *cmr_state_strdup(struct cmr_state *st, const char *s);

struct cmr_cluster *cmr_state_find_cluster(const struct cmr_state *st,
                                           const char *name);
int cmr_state_add_cluster(struct cmr_cluster **out, struct cmr_state *st,
                          const char *name, struct cmr_error *err);

struct cmr_service *cmr_cluster_find_service(const struct cmr_cluster *c,
                                             const char *name);
int cmr_cluster_add_service(struct cmr_service **out, struct cmr_state *st,
                            struct cmr_cluster *c, const char *name,
                            struct cmr_error *err);

/*
 * The management service: delivers manager.mgmt, creating it (type "MGMT",
 * the given name, which may be NULL for a desired state) if needed.
 */
int cmr_manager_add_mgmt(struct cmr_service **out, struct cmr_state *st,
                         const char *name, struct cmr_error *err);

struct cmr_role_config_group *
cmr_service_find_group(const struct cmr_service *s, const char *name);
int cmr_service_add_group(struct cmr_role_config_group **out,
                          struct cmr_state *st, struct cmr_service *s,
                          const char *name, struct cmr_error *err);

struct cmr_role *cmr_service_find_role(const struct cmr_service *s,
                                       const char *name);
int cmr_service_add_role(struct cmr_role **out, struct cmr_state *st,
                         struct cmr_service *s, const char *name,
                         struct cmr_error *err);

/* The parcel of that product and version, or NULL. */
struct cmr_parcel *cmr_cluster_find_parcel(const struct cmr_cluster *c,
                                           const char *product,
                                           const char *version);

/* The first (lowest-versioned, by strcmp) parcel of a product, or NULL. */
struct cmr_parcel *cmr_cluster_find_product(const struct cmr_cluster *c,
                                            const char *product);

/* Find or add by product and version; both must be non-empty. */
int cmr_cluster_add_parcel(struct cmr_parcel **out, struct cmr_state *st,
                           struct cmr_cluster *c, const char *product,
                           const char *version, struct cmr_error *err);

/*
 * Removes a parcel from the cluster's list (its memory stays in the arena
 * until the state is freed).  Used when a later file asks for another
 * version of the same product.  Does nothing if p is not in the list.
 */
void cmr_cluster_remove_parcel(struct cmr_cluster *c,
                               const struct cmr_parcel *p);

/* The entry named `name`, or NULL. */
struct cmr_config_entry *cmr_config_find(const struct cmr_config *cfg,
                                         const char *name);

/*
 * Sets `name` to `value` (its text is copied), replacing an existing
 * entry's value, sensitivity and mark, or adding a new entry in order.
 * `mark` may be NULL; a non-NULL mark's file must already live in the
 * state's arena or outlive the state (lib/load passes its own copies).
 * *out (may be NULL) receives the entry.  Returns 0, CMR_EINVAL for an
 * empty name or a TEXT/ENV/FILE value without text, or CMR_ENOMEM.
 */
int cmr_config_set(struct cmr_config_entry **out, struct cmr_state *st,
                   struct cmr_config *cfg, const char *name,
                   const struct cmr_value *value, bool sensitive,
                   const struct cmr_mark *mark, struct cmr_error *err);

/*
 * Shorthand for a literal text value, as lib/api reads them from CM.
 * Same contract as cmr_config_set.
 */
int cmr_config_set_text(struct cmr_config_entry **out, struct cmr_state *st,
                        struct cmr_config *cfg, const char *name,
                        const char *text, bool sensitive,
                        struct cmr_error *err);

/* ======================================================================
 * Scopes
 *
 * A scope is one place settings live in CM.  The same struct names it
 * everywhere: the planner's changes, the executor's writes, lib/api's
 * request paths, the fingerprints of plan files and export.  Names are
 * borrowed from whoever made the scope.
 *
 * A scope has a key, a text that names it uniquely and round-trips
 * (cmr_scope_key / cmr_scope_from_key):
 *   "cm"                              CM settings (/cm/config)
 *   "mgmt"  "mgmt/GROUP"              the management service, its groups
 *   "CLUSTER/SERVICE"                 a service's service-wide settings
 *   "CLUSTER/SERVICE/GROUP"           a role config group
 * with '/' and '%' inside names written %2F and %25 (the escaping
 * --target uses), and a label for people (cmr_scope_label): the same
 * without the escaping, and "CM" for the CM scope.
 */

enum cmr_scope_kind {
	CMR_SCOPE_CM = 0,     /* /cm/config */
	CMR_SCOPE_MGMT,       /* /cm/service/config */
	CMR_SCOPE_MGMT_GROUP, /* /cm/service/roleConfigGroups/{g}/config */
	CMR_SCOPE_SERVICE,    /* /clusters/{c}/services/{s}/config */
	CMR_SCOPE_GROUP,      /* .../roleConfigGroups/{g}/config */
};

/* "cm", "mgmt", "mgmt-group", "service", "group" (the JSON spelling). */
const char *cmr_scope_kind_name(enum cmr_scope_kind kind);
int cmr_scope_kind_parse(enum cmr_scope_kind *out,
                         const char *s) CMR_WARN_UNUSED;

struct cmr_scope {
	enum cmr_scope_kind kind;
	const char *cluster; /* SERVICE, GROUP; else NULL */
	/* SERVICE, GROUP; for the MGMT kinds the management service's name
	 * when known (a desired state does not give it), else NULL */
	const char *service;
	const char *group; /* MGMT_GROUP, GROUP; else NULL */
};

/* True when the kind's scope lives under a cluster (SERVICE, GROUP). */
bool cmr_scope_in_cluster(enum cmr_scope_kind kind);

/* True when the kind's scope is a role config group (MGMT_GROUP, GROUP). */
bool cmr_scope_is_group(enum cmr_scope_kind kind);

/* True when a and b name the same scope (the mgmt service's name aside). */
bool cmr_scope_equal(const struct cmr_scope *a, const struct cmr_scope *b);

/* The scope's key (see above), appended to out.  0 or CMR_ENOMEM. */
int cmr_scope_key(struct cmr_buf *out, const struct cmr_scope *s);

/*
 * Reads a key back into *out; the names are copied into arena `a`.
 * Returns 0; CMR_EINVAL for a text that is not a key (an empty name, more
 * than three segments, a cluster without a service), with a message
 * naming it; CMR_ENOMEM.
 */
int cmr_scope_from_key(struct cmr_scope *out, struct cmr_arena *a,
                       const char *key, struct cmr_error *err);

/* One name as a key segment ('/' as %2F, '%' as %25), appended. */
int cmr_scope_escape(struct cmr_buf *out, const char *name);

/*
 * One escaped name read back (*out, copied into arena a).  0; CMR_EINVAL
 * for an empty name or one with a '/' (not one segment); CMR_ENOMEM.
 */
int cmr_scope_unescape(const char **out, struct cmr_arena *a, const char *seg,
                       struct cmr_error *err);

/* The scope's label ("CM", "mgmt/G", "C/S/G"), appended to out. */
int cmr_scope_label(struct cmr_buf *out, const struct cmr_scope *s);

/*
 * The config of scope s in state st, or NULL when the state does not
 * hold the scope.  Borrowed from st.
 */
const struct cmr_config *cmr_scope_find_config(const struct cmr_state *st,
                                               const struct cmr_scope *s);

/*
 * Find or add: the config of scope s in st, creating the cluster,
 * service and group as needed (a desired state rebuilt from a plan).
 * *out is borrowed from st.  0, CMR_EINVAL, CMR_ENOMEM.
 */
int cmr_scope_add_config(struct cmr_config **out, struct cmr_state *st,
                         const struct cmr_scope *s, struct cmr_error *err);

/* ======================================================================
 * Whole-state helpers
 */

/*
 * Number of settings the state holds: CM settings plus the service-wide
 * and role config group settings of every service, the management service
 * included (not role overrides, not tags).  For summaries.
 */
size_t cmr_state_count_settings(const struct cmr_state *st);

#endif
