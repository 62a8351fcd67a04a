/*
 * plan.h -- the plan: what apply would do to bring CM to the desired state.
 *
 * cmr_plan_build() is a pure function of its inputs (the desired state,
 * the live state, the view=full metadata, and resolved secrets through a
 * callback): no I/O, deterministic output.  Every plan rule of DESIGN.md
 * "Plan semantics" is implemented there and testable without HTTP.
 *
 * A plan is a tree in its own arena, independent of the states it was
 * built from (everything it needs is copied), so it can be rendered,
 * saved to a plan file, read back from one and executed.
 *
 * Order (the order of the arrays, and the order apply follows):
 *   1. CM settings (scope kind CMR_SCOPE_CM), the management service and
 *      its groups;
 *   2. per cluster, by name: parcel changes (by product), then per
 *      service, by name: service-wide settings, then role config groups
 *      by name;
 *   3. restarts, refreshes and client-config deployments, per cluster in
 *      dependency order (ZooKeeper before HDFS before YARN ...).
 * Within a scope, changes are sorted by key.
 *
 * Redaction: a change whose `sensitive` flag is set never carries a value
 * (old_value and new_value are NULL).  Nothing secret is ever copied into
 * a plan, so rendering or saving one cannot leak.
 */
#ifndef CMR_PLAN_H
#define CMR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/arena.h"
#include "cmr/buf.h"
#include "cmr/common.h"
#include "cmr/error.h"
#include "cmr/model.h"
#include "cmr/params.h"
#include "cmr/vec.h"

/* Version of the JSON plan format (and of plan files). */
#define CMR_PLAN_FORMAT_VERSION 1

/* ======================================================================
 * Setting changes
 */

enum cmr_change_op {
	CMR_OP_SET = 0, /* "+": live leaves the key unset (default) */
	CMR_OP_UPDATE,  /* "~": live sets another value */
	CMR_OP_RESET,   /* "-": back to CM's default (null in the file,
	                 * or pruned) */
};

/* "set", "update", "reset". */
const char *cmr_change_op_name(enum cmr_change_op op);
int cmr_change_op_parse(enum cmr_change_op *out, const char *s) CMR_WARN_UNUSED;

/* Why a sensitive value is (or is not) written. */
enum cmr_secret_status {
	CMR_SECRET_NONE = 0,  /* not a secret */
	CMR_SECRET_NEW,       /* live unset: set it */
	CMR_SECRET_ROTATED,   /* record differs: the secret changed */
	CMR_SECRET_FORCED,    /* no record; written because of
	                       * --force-secrets */
	CMR_SECRET_UNVERIFIED /* no record: "cannot verify" (a note, not a
	                       * change; not written) */
};

const char *cmr_secret_status_name(enum cmr_secret_status s);
int cmr_secret_status_parse(enum cmr_secret_status *out,
                            const char *s) CMR_WARN_UNUSED;

/* What a change makes necessary, predicted by rule (flags). */
enum cmr_effect {
	CMR_EFFECT_NONE = 0,
	CMR_EFFECT_RESTART = 1 << 0,       /* roles become STALE */
	CMR_EFFECT_REFRESH = 1 << 1,       /* roles become STALE_REFRESHABLE */
	CMR_EFFECT_CLIENT_CONFIG = 1 << 2, /* client configs to redeploy */
};

struct cmr_change {
	const char *key;
	enum cmr_change_op op;
	/* Live value (NULL when unset, or when sensitive). */
	const char *old_value;
	/* CM's default for the key when known (view=full), else NULL. */
	const char *default_value;
	/* Desired value (NULL for RESET, and when sensitive). */
	const char *new_value;
	bool sensitive;
	enum cmr_secret_status secret;
	/*
	 * For a secret that is written: where its value comes from -- the
	 * file's {env: NAME} (kind CMR_VALUE_ENV) or {file: PATH}
	 * (CMR_VALUE_FILE) -- for the reader and for apply, which resolves
	 * it again; never the value.  Otherwise kind CMR_VALUE_TEXT with
	 * text NULL.  Shown as "env NAME" / "file PATH"
	 * (cmr_value_ref_text).
	 */
	struct cmr_value secret_source;
	bool pruned;     /* a reset caused by prune: true */
	unsigned effect; /* enum cmr_effect flags */
	/* CM's verdict on the live value from view=full, if any. */
	enum cmr_validation validation;
	const char *validation_message;
	/* Where the key is written in the desired state (file copied). */
	struct cmr_mark mark;
};

struct cmr_change_list {
	struct cmr_change **items;
	size_t len, alloc;
};

/* The changes to one scope: one PUT at apply time. */
struct cmr_scope_change {
	/* Where: the names are the plan's (the mgmt service's is CM's). */
	struct cmr_scope scope;
	const char *service_type; /* e.g. "HDFS", "MGMT"; NULL for CM */

	/* sorted by key; may hold only UNVERIFIED secrets */
	struct cmr_change_list changes;
};

/* ======================================================================
 * Parcels
 */

/* One CM parcel command, in the order apply sends them. */
enum cmr_parcel_cmd {
	CMR_PARCEL_CMD_DOWNLOAD = 0,    /* startDownload */
	CMR_PARCEL_CMD_DISTRIBUTE,      /* startDistribution */
	CMR_PARCEL_CMD_ACTIVATE,        /* activate */
	CMR_PARCEL_CMD_DEACTIVATE,      /* deactivate */
	CMR_PARCEL_CMD_UNDISTRIBUTE,    /* startRemovalOfDistribution */
	CMR_PARCEL_CMD_REMOVE_DOWNLOAD, /* removeDownload */
};

/* CM's command name, e.g. "startDownload". */
const char *cmr_parcel_cmd_name(enum cmr_parcel_cmd cmd);
/* The word used in plans: "download", "distribute", "activate", ... */
const char *cmr_parcel_cmd_verb(enum cmr_parcel_cmd cmd);
int cmr_parcel_cmd_parse(enum cmr_parcel_cmd *out,
                         const char *verb) CMR_WARN_UNUSED;

#define CMR_PARCEL_MAX_STEPS 6

struct cmr_parcel_change {
	const char *cluster;
	const char *product;
	const char *version;        /* the version being moved */
	enum cmr_parcel_stage from; /* its live stage */
	enum cmr_parcel_stage to;   /* the target stage */
	/* The product's active version that activation replaces, if any
	 * (CM deactivates it), else NULL. */
	const char *replaces;
	enum cmr_parcel_cmd steps[CMR_PARCEL_MAX_STEPS];
	size_t nsteps;
	/* The version only becomes visible after refreshParcelRepos (the
	 * file also changes REMOTE_PARCEL_REPO_URLS). */
	bool needs_repo_refresh;
	struct cmr_mark mark;
};

/* ======================================================================
 * Restarts, refreshes, client configuration
 */

enum cmr_restart_action {
	CMR_ACTION_RESTART = 0,   /* service restart (stale roles) */
	CMR_ACTION_ROLLING,       /* rollingRestart, stale roles only */
	CMR_ACTION_REFRESH,       /* refresh of STALE_REFRESHABLE roles */
	CMR_ACTION_CLIENT_CONFIG, /* deployClientConfig */
	CMR_ACTION_DEFERRED,      /* restart: never -- left stale (exit 2) */
};

const char *cmr_restart_action_name(enum cmr_restart_action a);
int cmr_restart_action_parse(enum cmr_restart_action *out,
                             const char *s) CMR_WARN_UNUSED;

/* Why a service is listed (flags). */
enum cmr_restart_reason {
	CMR_REASON_SETTINGS = 1 << 0,      /* its settings change */
	CMR_REASON_PARCEL = 1 << 1,        /* a parcel is activated */
	CMR_REASON_ALREADY_STALE = 1 << 2, /* CM reports it stale now */
};

struct cmr_restart {
	const char *cluster;
	const char *service;
	const char *service_type;
	enum cmr_restart_action action;
	unsigned reasons; /* enum cmr_restart_reason flags */
	/* In maintenance mode: reported, never restarted. */
	bool maintenance;
	/* Position in the cluster's dependency order (0 first). */
	unsigned order;
};

/* ======================================================================
 * Notes and problems
 */

enum cmr_note_level {
	CMR_NOTE_INFO = 0, /* e.g. per-role overrides in a managed service */
	CMR_NOTE_WARNING,  /* e.g. CM's validation warnings */
	CMR_NOTE_ERROR,    /* the plan cannot be applied (unknown key,
	                    * missing service, type mismatch ...) */
};

const char *cmr_note_level_name(enum cmr_note_level l);
int cmr_note_level_parse(enum cmr_note_level *out,
                         const char *s) CMR_WARN_UNUSED;

struct cmr_note {
	enum cmr_note_level level;
	/* The scope it is about, as "Cluster 1/hdfs/hdfs-DATANODE-BASE",
	 * "CM" or "" (the whole plan). */
	const char *scope;
	const char *message;
	struct cmr_mark mark; /* in the desired state, when known */
};

/* ======================================================================
 * The plan
 */

/* A hash of what was read for one scope, to detect a stale saved plan. */
struct cmr_fingerprint {
	const char *scope;  /* scope key (params.h), or "parcels:CLUSTER" */
	const char *sha256; /* 64 hex digits */
};

struct cmr_scope_change_list {
	struct cmr_scope_change **items;
	size_t len, alloc;
};

struct cmr_parcel_change_list {
	struct cmr_parcel_change **items;
	size_t len, alloc;
};

struct cmr_restart_list {
	struct cmr_restart **items;
	size_t len, alloc;
};

struct cmr_note_list {
	struct cmr_note **items;
	size_t len, alloc;
};

struct cmr_fingerprint_list {
	struct cmr_fingerprint **items;
	size_t len, alloc;
};

struct cmr_plan {
	struct cmr_arena arena;

	/* Where it was made: copied from the plan options. */
	const char *cm_url;
	const char *cm_version;
	const char *api_version;
	const char *plan_id; /* random hex, set by the caller */
	const char *created; /* ISO-8601 UTC, set by the caller */

	/* The clusters the desired state names (sorted), and the --target
	 * scopes as given. */
	struct cmr_str_vec clusters;
	struct cmr_str_vec targets;

	struct cmr_scope_change_list scopes;
	struct cmr_parcel_change_list parcels;
	bool refresh_parcel_repos; /* run refreshParcelRepos after the CM
	                            * settings are written */

	struct cmr_restart_list restarts;
	struct cmr_note_list notes;
	struct cmr_fingerprint_list fingerprints; /* sorted by scope */
};

/* Counts for the summary line and --detailed-exitcode. */
struct cmr_plan_summary {
	size_t settings;       /* setting changes that will be written */
	size_t unverified;     /* "cannot verify" secrets (notes) */
	size_t parcels;        /* parcel changes */
	size_t restarts;       /* services to restart (rolling included) */
	size_t refreshes;      /* services to refresh */
	size_t client_configs; /* services whose client config is deployed */
	size_t deferred;       /* restarts left pending by choice */
	size_t maintenance;    /* services skipped: maintenance mode */
	size_t errors;         /* CMR_NOTE_ERROR notes */
	size_t warnings;       /* CMR_NOTE_WARNING notes */
};

void cmr_plan_summarize(struct cmr_plan_summary *out,
                        const struct cmr_plan *plan);

/* True when applying the plan would change anything in CM. */
bool cmr_plan_has_changes(const struct cmr_plan *plan);

/*
 * Resolves a secret reference (env or file) to its value, appending it to
 * `out`.  Supplied by the caller: the CLI reads the environment and files;
 * tests supply fixed values.  Returns 0, or an error (e.g. CMR_ENOTFOUND
 * for an unset variable) with a message naming the reference.
 */
typedef int cmr_secret_resolve_fn(struct cmr_buf *out,
                                  const struct cmr_value *ref, void *ud,
                                  struct cmr_error *err);

enum cmr_plan_flags {
	CMR_PLAN_FORCE_SECRETS = 1 << 0, /* write unverifiable secrets */
};

struct cmr_plan_options {
	unsigned flags; /* enum cmr_plan_flags */
	/* --target scopes ("CLUSTER[/SERVICE[/GROUP]]", %2F-escaped). */
	const char *const *targets;
	size_t ntargets;
	/* Secrets: the resolver, and the HMAC key of CMRECON_HMAC_KEY
	 * (NULL: secrets cannot be compared; a warning note says so). */
	cmr_secret_resolve_fn *resolve;
	void *resolve_ud;
	const char *hmac_key;
	size_t hmac_key_len;
	/* Copied into the plan. */
	const char *cm_url;
	const char *api_version;
};

/*
 * Builds the plan to take `live` to `desired`.  `params` (may be NULL)
 * holds the view=full metadata of the scopes that were read that way.
 * Problems in the desired state relative to CM (unknown keys, missing
 * clusters/services/groups, type mismatches) become CMR_NOTE_ERROR notes:
 * the plan is still returned so all of them can be shown at once; the
 * caller must not apply a plan with errors.
 *
 * *out belongs to the caller (cmr_plan_free).  Returns 0; CMR_EINVAL for
 * a --target that names nothing in the desired state; CMR_ENOMEM; or the
 * resolver's error.
 */
int cmr_plan_build(struct cmr_plan **out, const struct cmr_state *desired,
                   const struct cmr_state *live,
                   const struct cmr_params *params,
                   const struct cmr_plan_options *opt, struct cmr_error *err);

/* An empty plan (for the plan-file reader); 0 or CMR_ENOMEM. */
int cmr_plan_new(struct cmr_plan **out, struct cmr_error *err);

void cmr_plan_free(struct cmr_plan *plan);

/*
 * The fingerprints of what a plan depends on, computed from a live state:
 * one per configuration scope the desired state names (CM, mgmt, services,
 * groups: the names and values set), and one per cluster for its parcel
 * stages.  Health, run state and cmrecon's own tags are left out.  Apply
 * recomputes them on a fresh read and compares with the saved plan's.
 * Appended to plan->fingerprints (sorted).  0 or CMR_ENOMEM.
 */
int cmr_plan_fingerprint(struct cmr_plan *plan, const struct cmr_state *desired,
                         const struct cmr_state *live, struct cmr_error *err);

/*
 * The fingerprints of the secrets a plan writes, so that a secret changed
 * after `plan -o` makes the saved plan stale without the plan holding it:
 * for each change of `from` with a secret source that will be written
 * (NEW, ROTATED, FORCED), the secret is resolved again through
 * opt->resolve and a fingerprint "secret:SCOPE/KEY" is added to `out`,
 * holding SHA-256 of its HMAC record under opt->hmac_key.  Without an HMAC
 * key (or a resolver) nothing is added: such a change cannot be checked.
 * `out` may be `from`.  Returns 0, the resolver's error, or CMR_ENOMEM.
 */
int cmr_plan_secret_fingerprints(struct cmr_plan *out,
                                 const struct cmr_plan *from,
                                 const struct cmr_plan_options *opt,
                                 struct cmr_error *err);

/*
 * The tag name of the secret record for a scope key and setting key:
 * "cmrecon.secret." + the first 16 hex digits of SHA-256 of
 * "<scope>/<key>" (DESIGN.md "State kept in CM itself").
 */
int cmr_plan_secret_tag(struct cmr_buf *out, const char *scope_key,
                        const char *key);

#endif
