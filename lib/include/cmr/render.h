/*
 * render.h -- plans as text for people and as JSON for tools.
 *
 * Rendering never does I/O: every function appends to a struct cmr_buf
 * the caller owns, and the CLI prints it.  Output is a pure function of
 * the plan and the options (no clock, no environment, no locale), so it
 * can be golden-tested byte for byte.
 *
 * Redaction: a plan never holds a secret value (plan.h).  The renderers
 * additionally never print a value of a change flagged `sensitive`: such
 * a change is shown as "(sensitive)" with its secret status, whatever the
 * struct holds.
 */
#ifndef CMR_RENDER_H
#define CMR_RENDER_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/buf.h"
#include "cmr/error.h"
#include "cmr/plan.h"

struct cmr_render_options {
	/* ANSI colours (green +, yellow ~, red -, bold headers).  The CLI
	 * sets it when stdout is a TTY and NO_COLOR is unset. */
	bool color;
	/* The first words of the header line, e.g. "cmrecon plan prod.yaml"
	 * or "cmrecon show prod.plan"; NULL means "cmrecon plan". */
	const char *title;
	/* Also print where the plan comes from: its id, creation time and
	 * --target scopes (for `show`; `plan` leaves it off so its output
	 * does not depend on the random id). */
	bool show_origin;
};

/*
 * Appends the plan, as a reviewer reads it, to `out`:
 *   header line     TITLE  (CM 7.11.3 at https://cm:7183, API v54)
 *   sections        Cloudera Manager settings / Management service /
 *                   Cluster "NAME" (parcels, then `service NAME (TYPE)`
 *                   and `role config group NAME`), one change a line:
 *                     ~ key  "old" -> "new"
 *                     + key  (default "x") -> "y"      (or (unset))
 *                     - key  "x" -> (default "y")
 *                     ! key  (sensitive) cannot verify; ...
 *                   multi-line values as a unified diff (@@ hunks)
 *   restarts        "Restarts expected (apply acts on what CM reports)"
 *   notes, errors   FILE:LINE:COL: LEVEL: SCOPE: message
 *   summary         "Plan: N settings to change, ..." or "No changes. ..."
 * `opt` may be NULL (no colour, default title).  `plan` is only read.
 *
 * Returns 0 or CMR_ENOMEM (out of memory, or `out`'s cap exceeded); `out`
 * may then hold partial text.  Can be called again.
 */
int cmr_render_plan_text(struct cmr_buf *out, const struct cmr_plan *plan,
                         const struct cmr_render_options *opt,
                         struct cmr_error *err);

/*
 * Appends the plan's JSON form (docs/plan-format.md, described by
 * schemas/cmrecon-plan.schema.json): exactly the plan-file format of
 * cmr_planfile_write, so `plan --json` output can be saved and shown or
 * applied.  Options are accepted for symmetry; colour is never used in
 * JSON.  Returns 0 or CMR_ENOMEM.
 */
int cmr_render_plan_json(struct cmr_buf *out, const struct cmr_plan *plan,
                         const struct cmr_render_options *opt,
                         struct cmr_error *err);

/*
 * Appends a unified diff of two texts, line by line (the view of a
 * multi-line value such as an XML safety valve): "@@ -a,b +c,d @@" hunk
 * headers with up to 3 lines of context, lines prefixed ' ', '-' or '+',
 * and "\ No newline at end of file" where a text's last line has none.
 * Each output line starts with `indent`.  Memory is bounded: the line
 * comparison uses at most ~4 MiB; beyond that the differing middle (after
 * the common head and tail) is shown as removed and added as a block.
 * Identical texts append nothing.  `color` colours the lines.
 *
 * Returns 0 or CMR_ENOMEM.
 */
int cmr_render_diff(struct cmr_buf *out, const char *a, const char *b,
                    const char *indent, bool color, struct cmr_error *err);

#endif
