/*
 * exec_int.h -- lib/exec internals shared by its files.
 *
 * lib/exec is split by phase, each file one job, and calls only go down
 * this list (a file never calls into one above it; the one way up is a
 * function pointer -- the lane step the pool runs, the waiter's tick):
 *
 *   apply.c     cmr_exec_apply: the phase order, each cluster's lane
 *               step, verification by planning again
 *   settings.c  the settings phase: one PUT per scope, read back, secret
 *               records
 *   parcels.c   parcel stages up and down
 *   restarts.c  refresh, client configuration, restarts, health gate
 *   lock.c      the apply lock: an object with its own mutex
 *   call.c      the one path to CM for every writer: a request, a command
 *               (active-command lookup, lost-POST recovery, the wait), and
 *               the check that stops a run between steps
 *   lanes.c     a generic pool: runs lanes of work in threads, waves in
 *               order, the first failure stops the others
 *   events.c    progress events, the journal, the event JSON
 *   wait.c      the waiter (exec.h)
 *
 * Names shared between files of lib/exec carry the module prefix
 * cmr_exec__ so that every external symbol of libcmrecon starts with
 * cmr_.
 */
#ifndef CMR_EXEC_EXEC_INT_H
#define CMR_EXEC_EXEC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmr/exec.h"

/* ======================================================================
 * events.c
 */

/*
 * Where one apply's events go: the caller's progress callback, the
 * journal (append-only, fsynced; every event but waits), and the logger.
 * Thread-safe: lanes emit from their threads, one event at a time.
 */
struct cmr_exec__events {
	pthread_mutex_t mu;
	const char *plan_id; /* borrowed */
	cmr_exec_progress_fn *progress;
	void *progress_ud;
	const struct cmr_logger *logger;
	struct cmr_clock *clock; /* for elapsed and journal times */
	int64_t start;           /* clock ms at the start of the apply */
	int journal_fd;          /* -1: none */
};

/* Sets up ev (no journal yet).  0 or CMR_ENOMEM (no mutex). */
int cmr_exec__events_init(struct cmr_exec__events *ev,
                          const struct cmr_plan *plan,
                          const struct cmr_exec_options *opt,
                          struct cmr_clock *clock, struct cmr_error *err);

/* Opens the journal at `path` (NULL: none); a failure is a warning. */
void cmr_exec__events_open_journal(struct cmr_exec__events *ev,
                                   const char *path);

/* Closes the journal and destroys the mutex. */
void cmr_exec__events_release(struct cmr_exec__events *ev);

/* One event: to the logger, the journal (not waits) and the callback. */
void cmr_exec__emit(struct cmr_exec__events *ev, enum cmr_exec_event_kind kind,
                    const char *phase, const char *target, int64_t command_id,
                    const char *fmt, ...) CMR_PRINTF(6, 7);

/* ISO-8601 UTC ("2026-11-28T05:44:44.123Z") of wall ms into out. */
void cmr_exec__iso_time(char *out, size_t cap, int64_t wall_ms);

/* ======================================================================
 * lanes.c -- a generic pool
 */

struct cmr_exec__pool;

/* One lane of work; the pool fills the results. */
struct cmr_exec__lane {
	const char *name; /* for messages ("cluster 'NAME' failed") */
	unsigned wave;    /* waves run in order: 0, then 1 */
	void *ud;         /* the step function's */
	/* results */
	bool ran; /* a worker took it */
	int error;
	struct cmr_error err;
	int64_t t0, t1; /* clock ms when it started and ended */
};

/* The work of one lane; returns 0 or an error set in *err. */
typedef int cmr_exec__lane_fn(struct cmr_exec__lane *lane,
                              struct cmr_exec__pool *pool,
                              struct cmr_error *err);

/* Called before a wave with lanes starts (e.g. to say which). */
typedef void cmr_exec__wave_fn(unsigned wave, void *ud);

struct cmr_exec__pool {
	pthread_mutex_t mu;
	cmr_exec__lane_fn *fn;
	cmr_exec__wave_fn *on_wave; /* may be NULL */
	void *wave_ud;
	size_t width;            /* workers per wave, at most
	                          * CMR_EXEC_MAX_LANES; 0: 1 */
	bool threads;            /* false: every lane in the calling thread */
	atomic_int *interrupted; /* may be NULL */
	struct cmr_clock *clock; /* for t0/t1 */
	/* The first failure (under mu): the other lanes start no new step. */
	bool failed;
	char failed_name[256];
	struct cmr_error first;
};

/* Sets up the pool (no on_wave: set it after).  0, or CMR_ENOMEM (no
 * mutex). */
int cmr_exec__pool_init(struct cmr_exec__pool *p, cmr_exec__lane_fn *fn,
                        size_t width, bool threads, atomic_int *interrupted,
                        struct cmr_clock *clock, struct cmr_error *err);
void cmr_exec__pool_release(struct cmr_exec__pool *p);

/*
 * Runs the lanes: wave 0 on at most `width` workers (threads, or the
 * calling thread when none can be had or threads is false), then, unless
 * a lane failed or the run was interrupted, wave 1.  A lane that fails
 * makes the others start no new step (they see it through
 * cmr_exec__pool_stopped).  Returns 0, or the first failure's code with
 * its message in *err.
 */
int cmr_exec__pool_run(struct cmr_exec__pool *p, struct cmr_exec__lane *lanes,
                       size_t n, struct cmr_error *err);

/*
 * True when another lane than `self` failed; *err (may be NULL) then says
 * so as CMR_EINTR ("cluster 'A' failed, so no new step was started on
 * cluster 'B'").  p may be NULL (no pool: false).
 */
bool cmr_exec__pool_stopped(struct cmr_exec__pool *p, const char *self,
                            struct cmr_error *err);

/* ======================================================================
 * The run: what one thread of an apply works with
 */

/* A list of owned strings.  (Named rather than an anonymous struct
 * member: clang-format 14 does not settle on a layout for the latter.) */
struct cmr_exec__str_list {
	char **items;
	size_t len, alloc;
};

struct cmr_exec__lock;

/* What every run of one apply shares; read-only while lanes run. */
struct cmr_exec__apply {
	const struct cmr_plan *plan;
	const struct cmr_exec_options *opt;
	unsigned ver;      /* the API version number */
	char message[512]; /* CM's audit message */
	struct cmr_exec__events *ev;
	struct cmr_exec__lock *lock; /* NULL: no lock (NO_LOCK) */
	struct cmr_exec__pool *pool; /* NULL: no other lane runs */
};

/*
 * One thread of work: the CM-level steps of the apply, or one cluster's
 * lane.  Each has its own client (a client is not thread-safe), waiter,
 * report and list of services left stale by choice.
 */
struct cmr_exec__run {
	const struct cmr_exec__apply *a;
	struct cmr_client *c;
	struct cmr_clock *clock;
	struct cmr_waiter w;
	struct cmr_exec_report *rep;
	/* "cluster/service" of the services left stale by choice. */
	struct cmr_exec__str_list pending;
	/* The lane's cluster; NULL: every cluster of the plan. */
	const char *cluster;
};

/* True when `cluster` belongs to r's lane. */
bool cmr_exec__in_lane(const struct cmr_exec__run *r, const char *cluster);

/* Emits through the apply's events. */
#define cmr_exec__remit(r, ...) cmr_exec__emit((r)->a->ev, __VA_ARGS__)

/* ======================================================================
 * call.c -- the path to CM
 */

/* True when the user interrupted (and notes it in the report). */
bool cmr_exec__interrupted(struct cmr_exec__run *r);

/*
 * 0 while the run may start a new step; CMR_EINTR (with the message) after
 * Ctrl-C or when another lane failed.
 */
int cmr_exec__stop_check(struct cmr_exec__run *r, struct cmr_error *err);

/*
 * One request through client c (flags: CMR_HTTP_REQ_*), its answer
 * checked (2xx, else CMR_EAPI with CM's message, or the transport's
 * error); *resp must be initialised and is released by the caller.
 */
int cmr_exec__send(struct cmr_client *c, const char *method, const char *url,
                   const struct cmr_buf *body, unsigned flags,
                   struct cmr_http_response *resp, struct cmr_error *err);

/* cmr_exec__send through the run's client. */
int cmr_exec__call(struct cmr_exec__run *r, const char *method, const char *url,
                   const struct cmr_buf *body, unsigned flags,
                   struct cmr_http_response *resp, struct cmr_error *err);

/*
 * True for a POST whose outcome is open: the answer was lost after it was
 * sent, or a 502/503/504 (CM or a proxy may have acted before failing).
 */
bool cmr_exec__post_unsettled(const struct cmr_http_response *resp);

/* A CM command to start and wait for. */
struct cmr_exec__command {
	const char *phase;  /* of its events */
	const char *target; /* of its events */
	const char *url;    /* POST */
	const struct cmr_buf *body;
	const char *list_url; /* its active commands */
	const char *name;     /* CM's name, e.g. "restart" */
	/* With service: a service's command, whose work (no longer stale)
	 * is checked when a lost POST left no command behind. */
	const char *cluster;
	const char *service;
	enum cmr_wait_kind kind;
};

/*
 * Starts the command and waits for it -- unless one of that name is
 * already active in CM, which is waited on instead.  A POST whose outcome
 * is open is looked up in CM (and, for a service, its work checked) before
 * it is sent again, with backoff, for up to a minute.  Never sends a
 * command CM still runs.
 */
int cmr_exec__run_command(struct cmr_exec__run *r,
                          const struct cmr_exec__command *cc,
                          struct cmr_error *err);

/* ======================================================================
 * lock.c
 */

/* The apply lock: its state and mutex (lanes renew it from threads). */
struct cmr_exec__lock {
	pthread_mutex_t mu;
	bool locked;
	char name[64];
	char value[512];
	char id[40];
	int64_t renew_at; /* wall ms */
	int64_t ttl_ms;
	int local_fd; /* below v41: the local lock file, or -1 */
	const char *holder;
	const char *host;
	/* The plan's clusters, id and CM URL (borrowed). */
	const struct cmr_plan *plan;
};

/* Sets up an unlocked lock for plan.  0 or CMR_ENOMEM (no mutex). */
int cmr_exec__lock_init(struct cmr_exec__lock *lk, const struct cmr_plan *plan,
                        const struct cmr_exec_options *opt,
                        struct cmr_error *err);

/*
 * Takes the lock on every cluster of the plan through run r (tags, or a
 * local file below v41).  CMR_ECONFLICT names the holder.  lk->id is the
 * lock's id.
 */
int cmr_exec__lock_acquire(struct cmr_exec__lock *lk, struct cmr_exec__run *r,
                           struct cmr_error *err);

/* Pushes the lock's expiry forward when it is due (any run's thread). */
void cmr_exec__lock_renew(struct cmr_exec__lock *lk, struct cmr_exec__run *r);

/* Deletes the lock's tags (warns when it cannot); no-op when unlocked. */
void cmr_exec__lock_release(struct cmr_exec__lock *lk, struct cmr_exec__run *r);

/* Releases and destroys the mutex. */
void cmr_exec__lock_free(struct cmr_exec__lock *lk);

/* ======================================================================
 * The phases
 */

/*
 * settings.c: writes the plan's scopes whose kind is in `kinds` (a bit
 * per enum cmr_scope_kind: CMR_EXEC__KINDS(...)) and in r's lane, one PUT
 * each, read back, secrets recorded.
 */
#define CMR_EXEC__KIND(k) (1u << (unsigned)(k))
int cmr_exec__write_scopes(struct cmr_exec__run *r, unsigned kinds,
                           struct cmr_error *err);

/* parcels.c: starts every download of the plan (it runs meanwhile). */
int cmr_exec__parcels_start_downloads(struct cmr_exec__run *r,
                                      struct cmr_error *err);

/* parcels.c: the early (download, distribute) or the late steps of every
 * parcel of r's lane, each waited for. */
int cmr_exec__parcels_run(struct cmr_exec__run *r, bool early,
                          struct cmr_error *err);

/* parcels.c / call.c: refreshParcelRepos unless one runs already. */
int cmr_exec__refresh_parcel_repos(struct cmr_exec__run *r,
                                   struct cmr_error *err);

/*
 * restarts.c: what CM reports stale in r's lane after the writes:
 * refreshes and client configurations first, then restarts, one service
 * at a time in the plan's order, health-gated.
 */
int cmr_exec__stale_services(struct cmr_exec__run *r, struct cmr_error *err);

#endif
