/*
 * planfile.h -- saved plans: the versioned JSON form of a struct cmr_plan.
 *
 * One format serves both `cmrecon plan --json` and plan files (`plan -o
 * PLANFILE`, `apply PLANFILE`, `show PLANFILE`): a JSON object with
 * "kind": "cmrecon-plan" and "format_version": CMR_PLAN_FORMAT_VERSION,
 * described by schemas/cmrecon-plan.schema.json and docs/plan-format.md.
 * It carries everything in struct cmr_plan -- the CM it was made against
 * (URL, versions, cluster names), the --target scopes, the plan id and
 * creation time, the changes, parcel transitions, restarts, notes and the
 * fingerprints of the live scopes it read -- so a plan read back from a
 * file is the plan that was saved, field for field.
 *
 * Secrets: a plan never holds a secret value (plan.h), and the writer
 * enforces it again: for a change flagged `sensitive` it writes null for
 * old_value, default_value and new_value whatever the struct holds.  The
 * reader refuses a sensitive change that carries a value.
 *
 * Determinism: members are written in a fixed order, arrays in the plan's
 * order, two-space indentation, one trailing newline.  write(read(write(p)))
 * is byte-identical to write(p).
 */
#ifndef CMR_PLAN_PLANFILE_H
#define CMR_PLAN_PLANFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/buf.h"
#include "cmr/common.h"
#include "cmr/error.h"
#include "cmr/plan.h"

/* The value of the "kind" member. */
#define CMR_PLANFILE_KIND "cmrecon-plan"

/* Plan files larger than this are refused (far above any real plan). */
#define CMR_PLANFILE_MAX_SIZE ((size_t)64 << 20)

/*
 * Appends the JSON form of `plan` to `out` (pretty-printed, ending in a
 * newline).  The derived members "summary" and "has_changes" are computed
 * with cmr_plan_summarize / cmr_plan_has_changes.  `plan` is only read.
 *
 * Returns 0, or CMR_ENOMEM (also when `out`'s cap is exceeded); on error
 * `out` may hold a partial document.  Can be called again.
 */
int cmr_planfile_write(struct cmr_buf *out, const struct cmr_plan *plan,
                       struct cmr_error *err);

/*
 * Parses a plan file of `len` bytes (need not be NUL-terminated) into a new
 * plan; *out belongs to the caller (cmr_plan_free) and is set only on
 * success.  Every member is checked; unknown members are refused, so a
 * typo cannot silently change what apply does.
 *
 * Returns 0; CMR_EINVAL for anything that is not a valid plan file, with a
 * message starting "plan file: " that locates the problem, e.g.
 *   plan file: scopes[2].changes[0].op: unknown value 'frob'
 *   plan file: format_version 2 is not supported (this cmrecon reads 1)
 *   plan file: invalid JSON at line 3, column 7: unexpected character
 * or CMR_ENOMEM.
 */
int cmr_planfile_read(struct cmr_plan **out, const char *text, size_t len,
                      struct cmr_error *err);

/*
 * True when `text` (len bytes) is a JSON object whose "kind" is
 * "cmrecon-plan": how `apply` tells a plan file from a desired-state YAML
 * file (by content, not by name).  Never fails; false for anything else,
 * including files too large to be a plan.
 */
bool cmr_planfile_detect(const char *text, size_t len);

#endif
