/*
 * scope.c -- the one way to name a place settings live in CM.
 *
 * Before this file there were four: the planner's scope kind, lib/api's
 * own copy of it (cast from one to the other), keys built from loose
 * (cluster, service, group) triples, and three readers of "%2F".  A scope
 * is now a struct cmr_scope wherever it goes, its key is written and read
 * here only, and finding a scope's settings in a state is one function.
 *
 * A key round-trips: cmr_scope_from_key(cmr_scope_key(s)) names s again
 * (the management service's name aside: its key is "mgmt" whatever CM
 * calls it).
 */
#include <string.h>

#include "cmr/model.h"

static const char *const kind_names[] = { "cm", "mgmt", "mgmt-group", "service",
	                                  "group" };

const char *cmr_scope_kind_name(enum cmr_scope_kind kind)
{
	if ((size_t)kind >= CMR_ARRAY_SIZE(kind_names))
		return "";
	return kind_names[kind];
}

int cmr_scope_kind_parse(enum cmr_scope_kind *out, const char *s)
{
	size_t i;

	for (i = 0; s && i < CMR_ARRAY_SIZE(kind_names); i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (enum cmr_scope_kind)i;
			return 0;
		}
	}
	return CMR_EINVAL;
}

bool cmr_scope_in_cluster(enum cmr_scope_kind kind)
{
	return kind == CMR_SCOPE_SERVICE || kind == CMR_SCOPE_GROUP;
}

bool cmr_scope_is_group(enum cmr_scope_kind kind)
{
	return kind == CMR_SCOPE_MGMT_GROUP || kind == CMR_SCOPE_GROUP;
}

static bool same(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

bool cmr_scope_equal(const struct cmr_scope *a, const struct cmr_scope *b)
{
	if (a->kind != b->kind)
		return false;
	if (cmr_scope_in_cluster(a->kind) &&
	    (!same(a->cluster, b->cluster) || !same(a->service, b->service)))
		return false;
	return !cmr_scope_is_group(a->kind) || same(a->group, b->group);
}

/* ----------------------------------------------------------------------
 * Keys and labels
 */

int cmr_scope_escape(struct cmr_buf *out, const char *name)
{
	for (; *name; name++) {
		if (*name == '/')
			cmr_buf_adds(out, "%2F");
		else if (*name == '%')
			cmr_buf_adds(out, "%25");
		else
			cmr_buf_addc(out, *name);
	}
	return cmr_buf_error(out);
}

int cmr_scope_key(struct cmr_buf *out, const struct cmr_scope *s)
{
	switch (s->kind) {
	case CMR_SCOPE_CM:
		cmr_buf_adds(out, "cm");
		break;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		cmr_buf_adds(out, "mgmt");
		break;
	case CMR_SCOPE_SERVICE:
	case CMR_SCOPE_GROUP:
		cmr_scope_escape(out, s->cluster ? s->cluster : "");
		cmr_buf_addc(out, '/');
		cmr_scope_escape(out, s->service ? s->service : "");
		break;
	}
	if (cmr_scope_is_group(s->kind)) {
		cmr_buf_addc(out, '/');
		cmr_scope_escape(out, s->group ? s->group : "");
	}
	return cmr_buf_error(out);
}

int cmr_scope_label(struct cmr_buf *out, const struct cmr_scope *s)
{
	switch (s->kind) {
	case CMR_SCOPE_CM:
		cmr_buf_adds(out, "CM");
		break;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		cmr_buf_adds(out, "mgmt");
		break;
	case CMR_SCOPE_SERVICE:
	case CMR_SCOPE_GROUP:
		cmr_buf_addf(out, "%s/%s", s->cluster ? s->cluster : "",
		             s->service ? s->service : "");
		break;
	}
	if (cmr_scope_is_group(s->kind))
		cmr_buf_addf(out, "/%s", s->group ? s->group : "");
	return cmr_buf_error(out);
}

/*
 * The next '/'-separated segment of *p, unescaped, copied into arena a
 * (*seg); NULL for an empty segment.  *p moves past the segment and its
 * '/'.
 */
static int next_segment(const char **seg, struct cmr_arena *a, const char **p)
{
	const char *s = *p;
	char *out;
	size_t n = 0;

	out = cmr_arena_alloc(a, strcspn(s, "/") + 1);
	if (!out)
		return CMR_ENOMEM;
	while (*s && *s != '/') {
		if (strncmp(s, "%2F", 3) == 0 || strncmp(s, "%2f", 3) == 0) {
			out[n++] = '/';
			s += 3;
		} else if (strncmp(s, "%25", 3) == 0) {
			out[n++] = '%';
			s += 3;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	*seg = n ? out : NULL;
	*p = *s == '/' ? s + 1 : s;
	return 0;
}

int cmr_scope_unescape(const char **out, struct cmr_arena *a, const char *seg,
                       struct cmr_error *err)
{
	const char *p = seg;

	*out = NULL;
	if (next_segment(out, a, &p) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if (!*out || p != seg + strlen(seg) || strchr(seg, '/')) {
		*out = NULL;
		return cmr_error_set(err, CMR_EINVAL,
		                     "'%s' is not one escaped name", seg);
	}
	return 0;
}

int cmr_scope_from_key(struct cmr_scope *out, struct cmr_arena *a,
                       const char *key, struct cmr_error *err)
{
	const char *seg[4] = { NULL, NULL, NULL, NULL };
	const char *p = key;
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	if (strcmp(key, "cm") == 0)
		return 0;
	while (*p && n < 4) {
		if (next_segment(&seg[n], a, &p) < 0)
			return cmr_error_set(err, CMR_ENOMEM, "out of memory");
		if (!seg[n])
			goto bad;
		n++;
	}
	if (*p || n == 0 || n > 3 || key[strlen(key) - 1] == '/')
		goto bad;
	/* (A cluster called "mgmt" with a service shares its key with a
	 * management service group: such a key is read as the latter.) */
	if (strcmp(seg[0], "mgmt") == 0 && n <= 2 &&
	    strncmp(key, "mgmt", 4) == 0 && (key[4] == '\0' || key[4] == '/')) {
		out->kind = n == 1 ? CMR_SCOPE_MGMT : CMR_SCOPE_MGMT_GROUP;
		out->group = seg[1];
		return 0;
	}
	if (n < 2)
		goto bad;
	out->kind = n == 2 ? CMR_SCOPE_SERVICE : CMR_SCOPE_GROUP;
	out->cluster = seg[0];
	out->service = seg[1];
	out->group = seg[2];
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return cmr_error_set(err, CMR_EINVAL,
	                     "'%s' is not a scope key (cm, mgmt[/GROUP] or "
	                     "CLUSTER/SERVICE[/GROUP])",
	                     key);
}

/* ----------------------------------------------------------------------
 * A scope's settings in a state
 */

const struct cmr_config *cmr_scope_find_config(const struct cmr_state *st,
                                               const struct cmr_scope *s)
{
	const struct cmr_cluster *c;
	const struct cmr_service *sv = NULL;
	const struct cmr_role_config_group *g;

	switch (s->kind) {
	case CMR_SCOPE_CM:
		return &st->manager.config;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		sv = st->manager.mgmt;
		break;
	case CMR_SCOPE_SERVICE:
	case CMR_SCOPE_GROUP:
		c = cmr_state_find_cluster(st, s->cluster);
		sv = c ? cmr_cluster_find_service(c, s->service) : NULL;
		break;
	}
	if (!sv)
		return NULL;
	if (!cmr_scope_is_group(s->kind))
		return &sv->config;
	g = cmr_service_find_group(sv, s->group);
	return g ? &g->config : NULL;
}

int cmr_scope_add_config(struct cmr_config **out, struct cmr_state *st,
                         const struct cmr_scope *s, struct cmr_error *err)
{
	struct cmr_cluster *c = NULL;
	struct cmr_service *sv = NULL;
	struct cmr_role_config_group *g = NULL;
	int error;

	*out = NULL;
	switch (s->kind) {
	case CMR_SCOPE_CM:
		*out = &st->manager.config;
		return 0;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		error = cmr_manager_add_mgmt(&sv, st, s->service, err);
		break;
	case CMR_SCOPE_SERVICE:
	case CMR_SCOPE_GROUP:
	default:
		error = cmr_state_add_cluster(&c, st, s->cluster, err);
		if (error == 0)
			error = cmr_cluster_add_service(&sv, st, c, s->service,
			                                err);
		break;
	}
	if (error < 0)
		return error;
	if (!cmr_scope_is_group(s->kind)) {
		*out = &sv->config;
		return 0;
	}
	if ((error = cmr_service_add_group(&g, st, sv, s->group, err)) < 0)
		return error;
	*out = &g->config;
	return 0;
}
