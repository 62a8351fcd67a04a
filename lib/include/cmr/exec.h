/*
 * exec.h -- the executor: applies a plan to CM through lib/api.
 *
 * The executor is the only part of cmrecon with side effects.  It follows
 * DESIGN.md "Applying": take the lock (entity tags on every cluster of the
 * plan), write CM settings, refresh the parcel repositories when the plan
 * says so, start parcel downloads, write service and role config group
 * settings (one PUT per scope, with CM's audit message), read them back,
 * finish download and distribution, activate (and any downward parcel
 * steps), refresh STALE_REFRESHABLE roles, deploy stale client
 * configurations, restart what CM reports STALE -- one service at a time in
 * the plan's dependency order, each health-gated -- then read live state
 * again, plan again, and report whether CM converged.
 *
 * From the service settings to the restarts, each cluster of the plan is a
 * lane of its own, and independent clusters run at the same time (one
 * thread and one cloned client each; compute clusters after the base
 * clusters; the first failure stops every lane from starting a new step).
 * Progress callbacks then come from several threads, one at a time.
 *
 * Every wait on CM goes through one waiter (cmr_wait_command,
 * cmr_wait_parcel) with an absolute deadline per kind, capped exponential
 * backoff with jitter (1 s growing to 30 s), all through struct cmr_clock so
 * tests run instantly.  A deadline that passes is CMR_ETIMEOUT: a failure
 * whose outcome is unknown, never a success.
 *
 * Secrets: a sensitive change is written with the value resolved again at
 * apply time (opt->resolve on the desired state's reference); it is never
 * logged, journaled or reported.  Each secret written gets its record tag
 * (cmrecon.secret.<H>) when an HMAC key is given.
 */
#ifndef CMR_EXEC_H
#define CMR_EXEC_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/client.h"
#include "cmr/clock.h"
#include "cmr/error.h"
#include "cmr/log.h"
#include "cmr/model.h"
#include "cmr/plan.h"
#include "cmr/window.h"

/* ======================================================================
 * The waiter
 */

enum cmr_wait_kind {
	CMR_WAIT_REFRESH = 0,   /* refreshParcelRepos, role refresh: 10 min */
	CMR_WAIT_CLIENT_CONFIG, /* deployClientConfig: 10 min */
	CMR_WAIT_RESTART,       /* a service restart + health: 60 min */
	CMR_WAIT_DOWNLOAD,      /* parcel download: 2 h */
	CMR_WAIT_DISTRIBUTE,    /* parcel distribution (and removal): 1 h */
	CMR_WAIT_ACTIVATE,      /* activation / deactivation: 1 h */
};

/* The default deadline of a kind, in milliseconds. */
int64_t cmr_wait_default_ms(enum cmr_wait_kind kind);

/*
 * Called once per poll with what the wait is about; a non-zero return
 * stops the wait with CMR_EINTR (used for Ctrl-C and lock renewal).
 */
typedef int cmr_wait_tick_fn(const char *what, void *ud);

#define CMR_WAIT_INITIAL_MS       1000
#define CMR_WAIT_MAX_MS           30000
#define CMR_WAIT_TRANSPORT_ERRORS 5

struct cmr_waiter {
	struct cmr_client *client; /* borrowed */
	struct cmr_clock *clock;   /* borrowed; NULL: the system clock */
	const struct cmr_logger *logger;
	/* Deadline for every kind (--timeout); 0: the per-kind default. */
	int64_t timeout_ms;
	/* Backoff; 0: CMR_WAIT_INITIAL_MS / CMR_WAIT_MAX_MS. */
	int64_t initial_ms, max_ms;
	cmr_wait_tick_fn *tick;
	void *tick_ud;
	/* Counters, for reports and tests. */
	uint64_t polls;
	uint64_t transport_errors;
};

/*
 * Polls GET /commands/ID until `active` is false.  *out (may be NULL)
 * receives the final command.  Returns 0 when it succeeded; CMR_EAPI when
 * success=false, the message naming the command, its id and the deepest
 * failing child's resultMessage; CMR_ETIMEOUT at the deadline ("outcome
 * unknown"); CMR_ETRANSPORT after more than CMR_WAIT_TRANSPORT_ERRORS
 * consecutive failed polls (5xx answers and no answers alike); CMR_EINTR
 * when the tick stopped it.
 */
int cmr_wait_command(struct cmr_api_command *out, struct cmr_waiter *w,
                     int64_t id, enum cmr_wait_kind kind,
                     struct cmr_error *err);

/*
 * Polls the parcel until its stage is `target`.  Fails (CMR_EAPI) as soon
 * as state.errors is non-empty, naming the parcel and the errors; same
 * deadline, transport and tick rules as cmr_wait_command.
 */
int cmr_wait_parcel(struct cmr_api_parcel_status *out, struct cmr_waiter *w,
                    const char *cluster, const char *product,
                    const char *version, enum cmr_parcel_stage target,
                    enum cmr_wait_kind kind, struct cmr_error *err);

/*
 * Health gate: polls the service until serviceState is STARTED and
 * healthSummary GOOD (or CONCERNING when accept_concerning).  BAD seen
 * after the service is STARTED fails with CMR_EAPI naming the failing
 * health checks.  Deadline as CMR_WAIT_RESTART.
 */
int cmr_wait_healthy(struct cmr_api_service_status *out, struct cmr_waiter *w,
                     const char *cluster, const char *service,
                     bool accept_concerning, struct cmr_error *err);

/* ======================================================================
 * Progress
 */

enum cmr_exec_event_kind {
	CMR_EXEC_EV_STEP = 0, /* a step starts */
	CMR_EXEC_EV_DONE,     /* a step finished */
	CMR_EXEC_EV_SKIP,     /* a step is skipped (maintenance, deferred) */
	CMR_EXEC_EV_WAIT,     /* still waiting (progress) */
	CMR_EXEC_EV_WARN,     /* something the user must know */
	CMR_EXEC_EV_FAIL,     /* the step failed */
};

/* "step", "done", "skip", "wait", "warning", "failed". */
const char *cmr_exec_event_name(enum cmr_exec_event_kind k);

struct cmr_exec_event {
	enum cmr_exec_event_kind kind;
	const char *phase;   /* "lock", "settings", "parcel", "refresh",
	                      * "client-config", "restart", "verify" */
	const char *target;  /* "CM", "Cluster 1/hdfs", "Cluster 1 CDH 7.1.9"
	                      * ... ("" when none) */
	const char *message; /* one line, never a secret */
	int64_t command_id;  /* CM's command id, or -1 */
	int64_t elapsed_ms;  /* since the apply started */
};

/*
 * Appends an event's members as JSON, without the braces:
 *   "event":..,"phase":..,"target":..[,"command_id":N],"elapsed_ms":N,
 *   "message":..
 * The journal and `apply --json` both describe events with it, so the two
 * never drift apart.  Returns 0 or CMR_ENOMEM.
 */
int cmr_exec_event_json(struct cmr_buf *out, const struct cmr_exec_event *ev);

typedef void cmr_exec_progress_fn(const struct cmr_exec_event *ev, void *ud);

/* ======================================================================
 * Applying
 */

enum cmr_exec_flags {
	CMR_EXEC_NO_RESTART = 1 << 0,        /* --no-restart: defer */
	CMR_EXEC_ACCEPT_CONCERNING = 1 << 1, /* --accept-concerning */
	CMR_EXEC_NO_LOCK = 1 << 2,           /* tests: take no lock */
	CMR_EXEC_NO_VERIFY = 1 << 3,         /* skip the final re-plan */
	CMR_EXEC_RESTART_WINDOW = 1 << 4,    /* restart only inside the
	                                      * window below */
};

/* Clusters applied at the same time: by default, and at most. */
#define CMR_EXEC_DEFAULT_LANES 16u
#define CMR_EXEC_MAX_LANES     64u

struct cmr_exec_options {
	unsigned flags;     /* enum cmr_exec_flags */
	int64_t timeout_ms; /* --timeout for every wait; 0: per kind */
	/* CMRECON_CHANGE_REF (e.g. a git commit) for the audit message. */
	const char *change_ref;
	/*
	 * The desired state the plan was made from (or one made from a plan
	 * file): where secret references are found, and what the final
	 * verification plans against.  Required.
	 */
	const struct cmr_state *desired;
	/* Options for the verification plan (resolver, HMAC key, flags). */
	const struct cmr_plan_options *plan_opt;
	/* The lock: who holds it (user@host), the host, and its lifetime
	 * (0: 15 min), renewed during long waits. */
	const char *holder;
	const char *host;
	int64_t lock_ttl_ms;
	/* The journal file (append-only, fsynced); NULL: none. */
	const char *journal_path;
	/* Set (by a signal handler) to stop starting new steps; read by
	 * every lane's thread. */
	atomic_int *interrupted;
	cmr_exec_progress_fn *progress;
	void *progress_ud;
	struct cmr_clock *clock; /* NULL: the system clock */
	const struct cmr_logger *logger;
	/*
	 * --restart-window (with CMR_EXEC_RESTART_WINDOW): restarts start
	 * only while the wall clock is inside this window (window.h; local
	 * time); outside it they are deferred (exit 2).  Borrowed.
	 */
	const struct cmr_window *window;
	/* Backoff of the waiter (tests); 0: defaults. */
	int64_t poll_initial_ms, poll_max_ms;
	/*
	 * --parallel: how many clusters are applied at the same time; 0:
	 * CMR_EXEC_DEFAULT_LANES; never more than CMR_EXEC_MAX_LANES.  1
	 * applies them one after the other (base clusters first).
	 */
	unsigned max_lanes;
};

/* How one cluster's lane ended. */
enum cmr_lane_state {
	CMR_LANE_NOT_STARTED = 0, /* never started: another failed first,
	                           * or Ctrl-C */
	CMR_LANE_DONE,            /* every step succeeded */
	CMR_LANE_FAILED,          /* a step of its own failed */
	CMR_LANE_STOPPED,         /* stopped between steps: another lane
	                           * failed, or Ctrl-C */
};

/* "not-started", "done", "failed", "stopped" (the report's spelling). */
const char *cmr_lane_state_name(enum cmr_lane_state s);

/* What apply did on one cluster (its lane). */
struct cmr_exec_cluster_report {
	const char *cluster; /* borrowed from the plan */
	enum cmr_lane_state state;
	size_t writes;       /* config PUTs of its services and groups */
	size_t commands;     /* CM commands started for it */
	size_t parcel_steps; /* its parcel commands */
	size_t restarted;    /* its services restarted */
	int64_t elapsed_ms;  /* how long its lane ran */
};

struct cmr_exec_report {
	size_t writes;         /* config PUTs sent */
	size_t settings;       /* settings written */
	size_t secrets;        /* secrets written */
	size_t secret_records; /* secret records written */
	size_t commands;       /* CM commands started */
	size_t parcel_steps;   /* parcel commands sent */
	size_t refreshed;      /* services whose roles were refreshed */
	size_t client_configs; /* services whose client config was deployed */
	size_t restarted;      /* services restarted */
	size_t maintenance;    /* stale services skipped: maintenance mode */
	size_t stopped;        /* stale services skipped: stopped */
	size_t deferred;       /* stale services left by choice */
	bool verified;         /* the final re-plan ran */
	bool converged;        /* ... and had nothing left but deferrals */
	size_t remaining;      /* changes the re-plan still found */
	bool interrupted;      /* stopped by the user */
	char lock_id[40];      /* the lock tag's id, "" when none */
	int64_t elapsed_ms;
	/*
	 * Per cluster of the plan, in the plan's order (at most
	 * CMR_EXEC_MAX_LANES; the cluster names are the plan's).  Empty
	 * when the apply stopped before the clusters' steps.
	 */
	struct cmr_exec_cluster_report clusters[CMR_EXEC_MAX_LANES];
	size_t nclusters;
};

/*
 * Applies `plan` (which must have no CMR_NOTE_ERROR notes) to the CM
 * behind `c`.  *out (may be NULL) receives what was done, also on
 * failure.  The plan is only read.
 *
 * Returns 0 when every step succeeded (see out->converged for the verdict
 * of the final re-plan); CMR_ECONFLICT when another apply holds a lock
 * (the message names the holder); CMR_EAPI for a CM error or a failed
 * command; CMR_ETIMEOUT for a deadline (outcome unknown); CMR_EINTR when
 * interrupted; CMR_ETRANSPORT; CMR_EINVAL (a plan with errors, a secret
 * that cannot be resolved); CMR_ENOMEM.  On failure the lock is released
 * and CM commands already started keep running (the message says so).
 */
int cmr_exec_apply(struct cmr_exec_report *out, const struct cmr_plan *plan,
                   struct cmr_client *c, const struct cmr_exec_options *opt,
                   struct cmr_error *err);

/*
 * Deletes the lock tag cmrecon.lock.ID from `cluster` (`cmrecon unlock`).
 * Returns 0, CMR_ENOTFOUND when no such tag exists, or a CM error.
 */
int cmr_exec_unlock(struct cmr_client *c, const char *cluster, const char *id,
                    struct cmr_error *err);

/*
 * A desired state rebuilt from a plan (for `apply PLANFILE`, which has no
 * YAML): every scope its fingerprints name (so cmr_plan_fingerprint on it
 * covers the same scopes as when the plan was made), every change as a
 * setting (a secret as the reference its secret_source names), every
 * parcel change as a parcel at its target stage, the restart actions as
 * restart policies, and the service types.  Planning it against the live
 * state it was made from gives the same changes.  *out belongs to the
 * caller (cmr_state_free).  0, CMR_EINVAL (a scope key or secret source
 * that cannot be read back), CMR_ENOMEM.
 */
int cmr_exec_desired_from_plan(struct cmr_state **out,
                               const struct cmr_plan *plan,
                               struct cmr_error *err);

/*
 * The journal directory: $XDG_STATE_HOME/cmrecon, else
 * $HOME/.local/state/cmrecon; appended to out.  CMR_ENOTFOUND when
 * neither variable is set.
 */
int cmr_exec_journal_dir(struct cmr_buf *out, struct cmr_error *err);

#endif
