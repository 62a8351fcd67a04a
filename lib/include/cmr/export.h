/*
 * export.h -- a live state written out as a desired-state file
 * (`cmrecon export`).
 *
 * cmr_export_yaml() is a pure function: a live model (as
 * cmr_api_read_live reads it) in, YAML text out, in format version 1, such
 * that cmrecon reads it back to the same values (docs/export.md, "The
 * round trip").  It writes:
 *   - a header comment: what this is, when, from which CM, what is left
 *     out, and the environment variables the secrets need;
 *   - `version: 1`;
 *   - manager.config (CM settings) and manager.management_service (its
 *     settings and role config groups) -- unless the export is limited
 *     to some clusters or services;
 *   - per cluster: the ACTIVATED version of each product (short form;
 *     other downloaded or distributed versions are named in a comment),
 *     and every service with its `type`, its settings and its role config
 *     groups (base groups only when they hold settings; non-base groups
 *     always, since their existence matters);
 *   - a comment on each service whose roles carry per-role overrides,
 *     which format version 1 does not manage.
 * Everything is sorted by name (the model's order).  Only settings CM has
 * SET are written (CM's export does not list defaults); with
 * CMR_EXPORT_OMIT_DEFAULTS, also not those set to their default value
 * (which needs the view=full metadata in opt->params).
 *
 * Values are written so the loader gives back the same text: plain when
 * that is unambiguous, single-quoted when YAML would otherwise read it
 * differently (true/false/null/~ in other spellings, empty, leading or
 * trailing spaces, indicators, ": ", " #" ...), double-quoted with escapes
 * for control characters, and as literal block scalars (`|`, with the
 * chomping and indentation indicators the text needs) for multi-line text.
 * Text that is not UTF-8 cannot be written (CMR_EINVAL naming the key).
 *
 * Secrets.  A value CM marks sensitive -- and a literal whose NAME marks
 * it a secret (cmr_secret_literal_refused), which `validate` would refuse
 * -- is never written: it becomes {env: CMRECON_<CLUSTER>_<SERVICE>_...}
 * (cmr_export_env_name) with a comment saying what to set.
 *
 * Ownership: everything is appended to a caller-owned struct cmr_buf;
 * nothing is kept.
 */
#ifndef CMR_EXPORT_H
#define CMR_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "cmr/buf.h"
#include "cmr/error.h"
#include "cmr/model.h"
#include "cmr/params.h"

enum cmr_export_flags {
	/* Leave out settings whose value equals CM's default (needs
	 * opt->params for the scopes that have settings). */
	CMR_EXPORT_OMIT_DEFAULTS = 1 << 0,
};

struct cmr_export_options {
	unsigned flags; /* enum cmr_export_flags */
	/* view=full metadata (may be NULL without OMIT_DEFAULTS). */
	const struct cmr_params *params;
	/*
	 * The selection.  With none, everything is exported.  With any,
	 * only the named clusters (in full: parcels and every service) and
	 * the named services ("CLUSTER/SERVICE", '/' and '%' inside a name
	 * written %2F and %25, as --target) are, and the CM settings and the
	 * management service are left out.
	 */
	const char *const *clusters;
	size_t nclusters;
	const char *const *services;
	size_t nservices;
	/* For the header comment; each may be NULL. */
	const char *cm_url;      /* userinfo, if any, is not written */
	const char *api_version; /* "v45" */
	const char *created;     /* ISO-8601 UTC */
};

/*
 * Checks the selection against `live`: every --cluster and --service must
 * exist.  Returns 0, or CMR_ENOTFOUND with a message naming the first
 * unknown name and the closest existing ones ("no cluster 'Clustr 1' in
 * CM; did you mean 'Cluster 1'?"), or CMR_EINVAL for a --service without
 * a '/'.
 */
int cmr_export_check(const struct cmr_state *live,
                     const struct cmr_export_options *opt,
                     struct cmr_error *err);

/*
 * A desired state naming what the export will write: the selected
 * clusters, services and role config groups, each with the keys live sets
 * (values copied as text), and, when CM settings and the management
 * service are exported, theirs.  Reading live state again with it (and
 * CMR_READ_ALL_PARAMS) fetches exactly the view=full metadata
 * CMR_EXPORT_OMIT_DEFAULTS needs, and the per-cluster parcel lists.
 * *out belongs to the caller (cmr_state_free).  0, the errors of
 * cmr_export_check, CMR_ENOMEM.
 */
int cmr_export_selection(struct cmr_state **out, const struct cmr_state *live,
                         const struct cmr_export_options *opt,
                         struct cmr_error *err);

/*
 * Appends the desired-state YAML for `live` (see above) to `out`.
 * Returns 0; the errors of cmr_export_check; CMR_EINVAL for a value that
 * is not UTF-8 (the message names the scope and key, never the value);
 * CMR_ENOMEM.  On failure `out` may hold part of the text.
 */
int cmr_export_yaml(struct cmr_buf *out, const struct cmr_state *live,
                    const struct cmr_export_options *opt,
                    struct cmr_error *err);

/*
 * Appends `text` as a YAML scalar in block context, as the value of a
 * mapping key written at column `indent` (block scalar lines are indented
 * by indent + 2): plain, 'single', "double" or |block, whichever reads
 * back as the same bytes through cmr_load_buffer.  `key`: a mapping key
 * (never a block scalar; true/false are quoted too).  A block scalar ends
 * with its last line's "\n"; the other styles add no newline.  Returns 0,
 * CMR_EINVAL for text that is not UTF-8, CMR_ENOMEM.
 */
int cmr_export_scalar(struct cmr_buf *out, const char *text, unsigned indent,
                      bool key, struct cmr_error *err);

/*
 * The environment variable name for a secret: "CMRECON_" and the parts
 * that are not NULL, upper-cased, every run of characters other than A-Z
 * and 0-9 turned into one '_', joined with '_'.  Parts that sanitize to
 * nothing are skipped.  Appended to `out`; 0 or CMR_ENOMEM.
 */
int cmr_export_env_name(struct cmr_buf *out, const char *const *parts,
                        size_t nparts);

#endif
