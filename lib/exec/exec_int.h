/*
 * exec_int.h -- lib/exec internals shared by its files.
 */
#ifndef CMR_EXEC_EXEC_INT_H
#define CMR_EXEC_EXEC_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmr/exec.h"

/*
 * A list of owned strings.  (Named rather than an anonymous struct
 * member: clang-format 14 does not settle on a layout for the latter.)
 */
struct str_list {
	char **items;
	size_t len, alloc;
};

/* The apply's lock (lock.c); its lanes share one. */
struct lock_state {
	bool locked;
	char name[64];
	char value[512];
	int64_t renew_at; /* wall ms */
	int local_fd;     /* below v41: the local lock file, or -1 */
};

/*
 * What the cluster lanes of one apply share while they run in threads
 * (lanes.c).  Everything here is read and written under `mu`.
 */
struct lane_shared {
	pthread_mutex_t mu;
	/* A lane failed: the others start no new step.  `failed_cluster`
	 * names it; `first` is its error, the apply's error. */
	bool failed;
	char failed_cluster[256];
	struct cmr_error first;
};

/*
 * One run of cmr_exec_apply, or one lane of it: the lanes are copies of
 * the apply's run with their own client, waiter, report and list of
 * pending services, restricted to one cluster (lanes.c).
 */
struct run {
	const struct cmr_plan *plan;
	struct cmr_client *c;
	const struct cmr_exec_options *opt;
	struct cmr_exec_report *rep;
	struct cmr_waiter w;
	struct cmr_clock *clock;
	unsigned ver;
	int64_t start;
	char message[512]; /* CM's audit message */

	/* The lock (lock.c): lk points at lk_own, or in a lane at the
	 * apply's. */
	struct lock_state *lk;
	struct lock_state lk_own;

	int journal_fd; /* -1: none; shared by the lanes */
	/* "cluster/service" of the services left stale by choice. */
	struct str_list pending;

	/* A lane: its cluster (NULL: every cluster of the plan), and what
	 * it shares with the other lanes (NULL: no other lane runs). */
	const char *cluster;
	struct lane_shared *sh;
};

/* True when `cluster` belongs to r's lane. */
bool run_in_lane(const struct run *r, const char *cluster);

/* exec.c: the steps of one cluster's lane -- its service and role
 * config group settings, its parcels, its refreshes, client
 * configurations and restarts. */
int run_cluster_steps(struct run *r, struct cmr_error *err);

/* exec.c: adds a lane's counters to the apply's report. */
void report_add(struct cmr_exec_report *to, const struct cmr_exec_report *from);

/*
 * lanes.c: runs run_cluster_steps for every cluster of the plan --
 * independent clusters at the same time, each in a thread with its own
 * client; then merges the lanes' reports and pending services into r.
 * One lane (a single cluster, or a transport that cannot be cloned) runs
 * in the calling thread.
 */
int lanes_run(struct run *r, struct cmr_error *err);

/* Serialise what lanes share (events, the journal, the lock); no-ops
 * when r runs alone. */
void lanes_lock(struct run *r);
void lanes_unlock(struct run *r);

/* True when another lane failed; *err then says so (CMR_EINTR). */
bool lanes_sibling_failed(struct run *r, struct cmr_error *err);

/* Progress: to the callback, the journal and the log. */
void run_emit(struct run *r, enum cmr_exec_event_kind kind, const char *phase,
              const char *target, int64_t command_id, const char *fmt, ...)
        CMR_PRINTF(6, 7);

/* lock.c */
int lock_acquire(struct run *r, struct cmr_error *err);
void lock_release(struct run *r);
void lock_renew(struct run *r);

/* ISO-8601 UTC ("2026-11-28T05:44:44.123Z") of wall ms into out. */
void iso_time(char *out, size_t cap, int64_t wall_ms);

#endif
