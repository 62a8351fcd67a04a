/*
 * exec_int.h -- lib/exec internals shared by its files.
 */
#ifndef CMR_EXEC_EXEC_INT_H
#define CMR_EXEC_EXEC_INT_H

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

/* One run of cmr_exec_apply. */
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

	/* The lock (lock.c). */
	bool locked;
	char lock_name[64];
	char lock_value[512];
	int64_t lock_renew_at; /* wall ms */
	int local_lock_fd;     /* below v41: the local lock file, or -1 */

	int journal_fd; /* -1: none */
	/* "cluster/service" of the services left stale by choice. */
	struct str_list pending;
};

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
