/*
 * api_int.h -- lib/api internals shared by its files (never included
 * outside lib/api: json-c types stay in this module).
 */
#ifndef CMR_API_API_INT_H
#define CMR_API_API_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cmr/api.h"
#include "cmr/client.h"
#include "cmr/error.h"
#include "cmr/log.h"
#include "cmr/transport.h"

/*
 * Request targets (build.c; write.c uses them too): "/api/vN", one
 * percent-encoded path segment "/NAME" (NULL as ""), and
 * "/api/vN/clusters/C".
 */
void api_path_prefix(struct cmr_buf *out, unsigned version);
void api_path_seg(struct cmr_buf *out, const char *name);
void api_cluster_path(struct cmr_buf *out, unsigned version,
                      const char *cluster);

struct cmr_client {
	struct cmr_transport *transport;
	bool owns_transport;
	unsigned version; /* 0 until pinned or negotiated */
	bool pinned;
	const struct cmr_logger *logger;
	struct cmr_read_report last_read;
};

/* ----------------------------------------------------------------------
 * JSON decoding with a field path for messages (json.c)
 *
 * A struct jctx travels through one decode: it holds the request name for
 * messages and the path of the field being looked at, so every error
 * reads "WHAT: clusters[0].services[2].name: expected a string, got
 * number".  Path segments are pushed with jpath_key/jpath_index, which
 * return the previous length for jpath_pop.
 */
struct jctx {
	const char *what;
	struct cmr_error *err;
	char path[256];
	size_t len;
};

void jctx_init(struct jctx *j, const char *what, struct cmr_error *err);
size_t jpath_key(struct jctx *j, const char *key);
size_t jpath_index(struct jctx *j, size_t i);
void jpath_pop(struct jctx *j, size_t old);

/* "WHAT: PATH: MESSAGE" as CMR_EINVAL; returns CMR_EINVAL. */
int jfail(struct jctx *j, const char *fmt, ...) CMR_PRINTF(2, 3);

/* Parses the whole text (trailing whitespace allowed) into *out, which the
 * caller releases with json_object_put.  CMR_EINVAL "WHAT: not JSON: ...".
 */
int jparse(struct json_object **out, const char *what, const char *body,
           size_t len, struct cmr_error *err);

/* The node itself must be an object / array. */
int jexpect(struct jctx *j, struct json_object *o, enum json_type type);

/*
 * Members of object `o` by key.  Absent or null: *out is NULL / false /
 * untouched and 0 is returned (CM omits nulls).  Present with another
 * type: jfail naming the member.  Borrowed pointers live as long as o.
 */
int jget_str(const char **out, struct jctx *j, struct json_object *o,
             const char *key);
int jget_bool(bool *out, struct jctx *j, struct json_object *o,
              const char *key);
int jget_i64(int64_t *out, struct jctx *j, struct json_object *o,
             const char *key);
int jget_obj(struct json_object **out, struct jctx *j, struct json_object *o,
             const char *key);
int jget_arr(struct json_object **out, struct jctx *j, struct json_object *o,
             const char *key);

/* Like jget_str, but the member must be present and non-empty. */
int jneed_str(const char **out, struct jctx *j, struct json_object *o,
              const char *key);

/* ----------------------------------------------------------------------
 * Shared decoding steps (decode.c), working on parsed trees
 */

/* An ApiConfigList object ({"items": [...]}) -> cfg / params scope. */
int dec_config_list(struct jctx *j, struct cmr_state *live,
                    struct cmr_config *cfg, struct cmr_params *params,
                    const char *scope_key, struct json_object *list);

#endif
