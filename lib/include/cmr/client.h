/*
 * client.h -- the Cloudera Manager client: a transport, the API version
 * spoken, a logger, and the reader of live state.
 *
 * A struct cmr_client wraps a struct cmr_transport (transport.h) and knows
 * which CM API version ("v45") to put in front of every path.  The version
 * is either pinned by the caller (desired file `manager.api_version`, the
 * --api-version flag) or negotiated once with `GET /api/version`, which
 * answers the highest version the server speaks.  Versions below
 * CMR_API_VERSION_MIN are refused: cmrecon relies on CM 6 behaviour
 * (docs/api.md "Version floor").
 *
 * The reader, cmr_api_read_live(), turns CM's live state into the same
 * model (model.h) the loader makes from YAML, plus the per-scope parameter
 * metadata (params.h) the planner validates names against.  It costs a
 * fixed number of parallel waves, independent of roles and hosts
 * (DESIGN.md "Reading live state"; docs/api.md has the exact request
 * lists).  Plan and read never send anything but GET.
 *
 * Ownership: a client is made by cmr_client_new (borrows the transport) or
 * cmr_client_new_take (owns it) and freed by cmr_client_free.  Every
 * pointer a getter returns is borrowed from the client.  A client is not
 * thread-safe: one call at a time.
 */
#ifndef CMR_CLIENT_H
#define CMR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmr/common.h"
#include "cmr/error.h"
#include "cmr/log.h"
#include "cmr/model.h"
#include "cmr/params.h"
#include "cmr/transport.h"

/*
 * The oldest CM API version cmrecon talks to: v30 (Cloudera Manager 6.0).
 * Older servers (CM 5, API <= v19) differ in ways the reader depends on
 * (see docs/api.md); they are refused with a clear message.
 */
#define CMR_API_VERSION_MIN 30u

/* The first version with entity tags (lock and secret records): v41. */
#define CMR_API_VERSION_TAGS 41u

/* The newest version whose spec cmrecon was written against. */
#define CMR_API_VERSION_KNOWN 45u

struct cmr_client;

struct cmr_client_options {
	/*
	 * A pinned API version, "v45" (or "45"), or NULL to negotiate with
	 * GET /api/version on first use.  Copied.
	 */
	const char *api_version;
	/* Where "api" messages go; NULL: nowhere.  Borrowed: must outlive
	 * the client. */
	const struct cmr_logger *logger;
};

/*
 * Makes a client over transport `t`, which stays the caller's: it must
 * outlive the client and is not freed by cmr_client_free.  `opts` may be
 * NULL (negotiate, no logging).
 *
 * Errors: CMR_EINVAL for a malformed pinned version or one below
 * CMR_API_VERSION_MIN; CMR_ENOMEM.  No request is sent.
 */
int cmr_client_new(struct cmr_client **out, struct cmr_transport *t,
                   const struct cmr_client_options *opts,
                   struct cmr_error *err);

/*
 * Same, but the client takes ownership of `t`: it is freed by
 * cmr_client_free, and also here when this call fails.
 */
int cmr_client_new_take(struct cmr_client **out, struct cmr_transport *t,
                        const struct cmr_client_options *opts,
                        struct cmr_error *err);

/*
 * A second client to the same CM for another thread: a clone of c's
 * transport (cmr_transport_clone: own connections, same credentials),
 * owned by the new client, with c's logger and API version (pinned or
 * already negotiated).  Call it from the thread that uses c.
 *
 * Errors: CMR_ENOTSUP when the transport cannot be cloned; those of
 * cmr_http_transport_new; CMR_ENOMEM.  No request is sent.
 */
int cmr_client_dup(struct cmr_client **out, const struct cmr_client *c,
                   struct cmr_error *err);

/* Frees the client (and its transport if it owns it).  Accepts NULL. */
void cmr_client_free(struct cmr_client *c);

/* The transport (borrowed), e.g. to read its stats. */
struct cmr_transport *cmr_client_transport(const struct cmr_client *c);

/* The logger given in the options, or NULL. */
const struct cmr_logger *cmr_client_logger(const struct cmr_client *c);

/*
 * Makes sure the API version is known: does nothing when it is pinned or
 * already negotiated, else sends GET /api/version (one wave of one).
 *
 * Errors: CMR_ETRANSPORT (no answer), CMR_EAPI (an HTTP error status,
 * with CM's message), CMR_EINVAL (a body that is not "vNN", or a version
 * below CMR_API_VERSION_MIN).  May be called again after a failure.
 */
int cmr_client_negotiate(struct cmr_client *c, struct cmr_error *err);

/* The API version number (45 for "v45"), or 0 while unknown. */
unsigned cmr_client_api_version(const struct cmr_client *c);

/* True when the version was pinned rather than negotiated. */
bool cmr_client_version_pinned(const struct cmr_client *c);

/*
 * Sends one wave of n GET/PUT/... requests through the transport, logging
 * each at debug level (method and path only: bodies are never logged).
 * Same contract as cmr_transport_send_all (transport.h).
 */
int cmr_client_send_all(struct cmr_client *c,
                        const struct cmr_http_request *req,
                        struct cmr_http_response *resp, size_t n,
                        struct cmr_error *err);

/*
 * Judges one answer of a wave: 0 for a 2xx status; CMR_EAPI with
 * http_status and CM's own message (cmr_api_decode_error in api.h) for an
 * HTTP error status; the transport's error (CMR_ETRANSPORT, ...) when
 * there was no answer.  Messages start with "METHOD URL: ".
 */
int cmr_api_check_response(const struct cmr_http_request *req,
                           const struct cmr_http_response *resp,
                           struct cmr_error *err);

/* ======================================================================
 * Reading live state
 */

enum cmr_read_flags {
	/* Skip the view=full wave even when desired names keys that live
	 * leaves unset (the planner then cannot check names or defaults).
	 * No effect after a 403: the per-scope reads then carry the values. */
	CMR_READ_NO_PARAMS = 1 << 0,
	/* Read view=full for EVERY scope the desired state names keys in,
	 * not only for those with keys live leaves unset. */
	CMR_READ_ALL_PARAMS = 1 << 1,
	/*
	 * Keep every cluster of the deployment in live (for export), not
	 * only those `desired` names; `desired` may then be NULL.  The
	 * per-cluster run-time reads (services, parcels, tags) are still made
	 * only for the clusters `desired` names, and after a 403 only those
	 * clusters can be read at all.
	 */
	CMR_READ_ALL_CLUSTERS = 1 << 2,
};

struct cmr_read_options {
	unsigned flags; /* enum cmr_read_flags */
};

/*
 * What the last cmr_api_read_live call did, for -vv summaries, plan
 * headers and tests.  waves/requests are the transport's counters over
 * the call (version negotiation included).
 */
struct cmr_read_report {
	unsigned api_version; /* the version used, e.g. 45 */
	bool negotiated;      /* GET /api/version was sent by this call */
	bool fallback;        /* /cm/deployment was refused (403) and the
	                       * per-scope reads were used instead */
	bool tags_read;       /* false below v41: no entity tags */
	size_t full_scopes;   /* scopes read with view=full */
	uint64_t waves;       /* transport waves used by the call */
	uint64_t requests;    /* requests sent by the call */
};

/* The report of the last read (zeroed before the first).  Borrowed. */
const struct cmr_read_report *cmr_client_last_read(const struct cmr_client *c);

/*
 * Reads CM's live state for the clusters `desired` names, following
 * DESIGN.md "Reading live state":
 *
 *   1. GET /api/version, unless pinned or already known;
 *   2. one parallel wave: GET /cm/deployment?view=export_redacted and, per
 *      cluster named in `desired`, its services (run state, staleness,
 *      health), parcels and (API v41+) tags;
 *   3. only when needed, one parallel wave of `view=full` config reads for
 *      the scopes cmr_api_full_scopes() picks (into *out_params).
 *
 * If CM refuses the deployment (403: the account is not a full or cluster
 * administrator), step 3 is replaced by one wave of per-scope reads
 * (cmr_api_fallback_scopes(); each with view=full, which returns values
 * and metadata in one answer), so the sequence still has at most three
 * waves.  docs/api.md lists every request.
 *
 * *out_live (origin CMR_STATE_LIVE) holds the CM settings, the management
 * service, and the clusters of `desired` that CM has -- a cluster,
 * service or role config group `desired` names that CM does not have is
 * simply absent (the planner reports it).  *out_params holds the scopes
 * read with view=full (possibly none).  Both belong to the caller
 * (cmr_state_free, cmr_params_free); on failure both are NULL.
 *
 * `opt` may be NULL.  The report is available afterwards from
 * cmr_client_last_read().
 *
 * Errors: CMR_EINVAL (desired NULL without CMR_READ_ALL_CLUSTERS, or a
 * malformed answer: the message
 * names the request and the field), CMR_EAPI (CM answered an error
 * status; CM's message and http_status are kept), CMR_ETRANSPORT,
 * CMR_ENOMEM.
 */
int cmr_api_read_live(struct cmr_state **out_live,
                      struct cmr_params **out_params, struct cmr_client *c,
                      const struct cmr_state *desired,
                      const struct cmr_read_options *opt,
                      struct cmr_error *err);

#endif
