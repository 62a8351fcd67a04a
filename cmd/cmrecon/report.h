/*
 * report.h -- the run report (--report FILE, JSON) and the metrics
 * (--metrics FILE, Prometheus text for node_exporter's textfile
 * collector) that `plan` and `apply` write for scheduled drift runs.
 *
 * One implementation for both commands: a struct run_report collects what
 * a run knows -- when it started and ended, its exit code, why it failed,
 * the plan (what drifted) and, for apply, the executor's report (what was
 * corrected) -- and report_write() renders it to the files, each written
 * atomically (temporary file, fsync, rename) so a collector or a monitor
 * never reads half a file: the report with mode 0600, the metrics with
 * 0644 (node_exporter usually runs as another user).  Fields that a run did not
 * reach (no plan when CM could not be read) are null in the JSON and absent
 * from the metrics. docs/scheduled.md describes both formats.
 */
#ifndef CMR_CLI_REPORT_H
#define CMR_CLI_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/buf.h"
#include "cmr/exec.h"
#include "cmr/plan.h"

/* Version of the JSON report format. */
#define REPORT_FORMAT_VERSION 1

struct run_report {
	const char *command; /* "plan" or "apply" */
	int64_t started_ms;  /* wall clock, ms since the epoch */
	int64_t ended_ms;    /* set by report_finish */
	int exit_code;       /* the process exit code */
	bool finished;
	/* Why the run failed, one line, never a secret; NULL when it did
	 * not, or when the reason went to stderr only. */
	const char *error;
	const char *cm_url;          /* borrowed; may be NULL */
	const struct cmr_plan *plan; /* borrowed; NULL: not planned */
	/* apply only: what the executor did (NULL: it did not run). */
	const struct cmr_exec_report *exec;
	/* apply --restart-window, as cmr_window_format spells it ("" when
	 * none), and when it next opens if restarts were deferred (wall
	 * clock ms; 0: not computed). */
	char restart_window[256];
	int64_t window_next_ms;
	char error_buf[512]; /* storage for `error` when copied */
};

/* Starts a report for `command` now. */
void report_init(struct run_report *r, const char *command);

/* Records the reason of a failure (copied; the first one is kept). */
void report_set_error(struct run_report *r, const char *msg);

/* Stamps the end (once) and the exit code. */
void report_finish(struct run_report *r, int exit_code);

/*
 * The report as one line of JSON (ends with "\n").  For apply the object
 * is the "cmrecon-apply-report" apply --json prints last, for plan a
 * "cmrecon-plan-report".  0 or CMR_ENOMEM.
 */
int report_json(struct cmr_buf *out, const struct run_report *r);

/*
 * The metrics, in Prometheus text exposition format.  `previous` (may be
 * NULL) is the metrics file as the last run left it: the time of the last
 * success is carried over from it when this run failed.  0 or CMR_ENOMEM.
 */
int report_metrics(struct cmr_buf *out, const struct run_report *r,
                   const char *previous);

/*
 * Finishes the report (if not yet) and writes the files that are not
 * NULL.  Returns 0, or CLI_EXIT_ERROR after printing why a file could not
 * be written.
 */
int report_write(struct run_report *r, const char *json_file,
                 const char *metrics_file);

#endif
