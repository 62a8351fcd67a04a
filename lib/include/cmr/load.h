/*
 * load.h -- desired-state YAML files -> struct cmr_state.
 *
 * The loader reads format version 1 (DESIGN.md, docs/format.md) with
 * libyaml's event parser and checks everything that can be checked
 * offline: YAML syntax, duplicate keys at any level, unknown fields (with a
 * "did you mean"), types, the format version, parcel stages, empty names
 * and values, secret references and secret-named keys, and the limits
 * (anchors and aliases refused, core-schema tags only, 16 MiB per file,
 * nesting depth 64, UTF-8 only, no empty files).
 *
 * Problems in a file are not failures of the call: they are collected into
 * a caller-owned struct cmr_diag_list as "FILE:LINE:COL: error: message"
 * entries, every problem of a file in one run.  A YAML syntax error (or a
 * refused anchor, an over-deep nesting, a second document) stops that
 * file's parse, so it is reported alone for that file; other files are
 * still read.  At most CMR_LOAD_MAX_ERRORS problems are kept per file.
 *
 * Several files merge in order into one state: maps merge deeply, a later
 * scalar or list replaces an earlier one (a parcel's version and stage, a
 * setting's value, manager fields, restart, prune), null in a later file
 * resets a setting as anywhere else, and a service `type` that disagrees
 * with an earlier file's is an error naming both places.
 *
 * Paths in the file ({file: PATH} secrets, manager.ca_file) are relative
 * to the directory of the file that names them; the model stores them
 * joined with that directory, so they work from the current directory.
 *
 * libyaml types never appear here.
 */
#ifndef CMR_LOAD_H
#define CMR_LOAD_H

#include <stddef.h>

#include "cmr/buf.h"
#include "cmr/common.h"
#include "cmr/diag.h"
#include "cmr/error.h"
#include "cmr/model.h"

/* Limits of format version 1 (DESIGN.md "Limits"). */
#define CMR_LOAD_MAX_FILE_SIZE ((size_t)16 << 20) /* bytes */
#define CMR_LOAD_MAX_DEPTH     64                 /* nested collections */
#define CMR_LOAD_MAX_ERRORS    100                /* kept per file */

/*
 * Loads `n` files (n >= 1), in order, into one new desired state.
 *
 * On success returns 0 and sets *out to the merged state, which the caller
 * frees with cmr_state_free.  Every problem found in the files is added to
 * `diags` (caller-owned, initialised); if there is at least one error
 * diagnostic, *out is NULL and the call returns CMR_EINVAL with err saying
 * how many problems there were -- the diagnostics carry the details.
 *
 * Other returns (with *out NULL): CMR_ENOTFOUND when a file does not exist,
 * CMR_ERROR when one cannot be read (a directory, a permission problem),
 * CMR_ENOMEM.  These stop the call at that file; err names it.
 */
int cmr_load_files(struct cmr_state **out, const char *const *files, size_t n,
                   struct cmr_diag_list *diags, struct cmr_error *err);

/*
 * Reads one file and merges it into `st` (a state from cmr_state_new with
 * origin CMR_STATE_DESIRED, possibly holding earlier files).
 *
 * Returns 0 when the file had no problems; CMR_EINVAL when it had (they
 * are in `diags`; what was valid in the file has been merged); and as
 * cmr_load_files for files that cannot be read, or CMR_ENOMEM.
 */
int cmr_load_file(struct cmr_state *st, const char *path,
                  struct cmr_diag_list *diags, struct cmr_error *err);

/*
 * Like cmr_load_file, for `len` bytes already in memory.  `name` is the
 * file name used in diagnostics and marks, and the base for relative paths
 * (its directory part).  The data need not be NUL-terminated, may be NULL
 * when len is 0, and is not kept.  Used by tests and the fuzzer.
 */
int cmr_load_buffer(struct cmr_state *st, const char *name, const char *data,
                    size_t len, struct cmr_diag_list *diags,
                    struct cmr_error *err);

/*
 * Reads the secret a reference points at, appending it to `out`
 * (caller-owned): for CMR_VALUE_ENV the variable's value, for
 * CMR_VALUE_FILE the file's content less one trailing newline
 * (cmr_secret_trim_newline), at most 1 MiB.  The caller must wipe and
 * release `out` when done, and must never print it.
 *
 * Returns 0; CMR_ENOTFOUND when the variable is unset or the file does not
 * exist; CMR_ERROR when the file cannot be read or is too big; CMR_EINVAL
 * when `v` is not a reference; CMR_ENOMEM.  Messages name the variable or
 * file, never the value.
 */
int cmr_secret_resolve(struct cmr_buf *out, const struct cmr_value *v,
                       struct cmr_error *err);

#endif
