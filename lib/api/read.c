/*
 * read.c -- reading CM's live state in a fixed number of parallel waves.
 *
 * DESIGN.md "Reading live state" is the contract: the version (unless
 * pinned), then one wave with the whole configuration (/cm/deployment) and
 * the per-cluster run-time reads, then -- only when the file names keys
 * live leaves unset -- one wave of view=full reads.  The number of
 * requests depends on the clusters, services and groups the FILE names,
 * never on roles or hosts.  docs/api.md lists every request.
 *
 * When CM refuses the deployment (403: not a full or cluster
 * administrator), the third wave instead reads every scope the file names
 * with view=full, which answers both the set values and the metadata, so
 * the sequence stays at three waves at most.
 *
 * "Absent" is not an error: a cluster CM does not have answers 404 to its
 * per-cluster reads, and is left out of the live state for the planner to
 * report.  Any other status is an error carrying CM's message.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/buf.h"
#include "cmr/client.h"
#include "cmr/vec.h"

#include "api_int.h"

/* ======================================================================
 * A wave of GET requests
 */

struct wave {
	size_t n;
	struct cmr_buf *url;
	struct cmr_http_request *req;
	struct cmr_http_response *resp;
};

static int wave_init(struct wave *w, size_t n, struct cmr_error *err)
{
	size_t i;

	memset(w, 0, sizeof(*w));
	w->url = cmr_calloc(n ? n : 1, sizeof(*w->url));
	w->req = cmr_calloc(n ? n : 1, sizeof(*w->req));
	w->resp = cmr_calloc(n ? n : 1, sizeof(*w->resp));
	if (w->url == NULL || w->req == NULL || w->resp == NULL) {
		cmr_free(w->url);
		cmr_free(w->req);
		cmr_free(w->resp);
		memset(w, 0, sizeof(*w));
		cmr_error_set(err, CMR_ENOMEM, "out of memory");
		return CMR_ENOMEM;
	}
	w->n = n;
	for (i = 0; i < n; i++) {
		cmr_buf_init(&w->url[i], 0);
		cmr_http_response_init(&w->resp[i]);
	}
	return 0;
}

static void wave_release(struct wave *w)
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		cmr_buf_release(&w->url[i]);
		cmr_http_response_release(&w->resp[i]);
	}
	cmr_free(w->url);
	cmr_free(w->req);
	cmr_free(w->resp);
	memset(w, 0, sizeof(*w));
}

/*
 * Sends the wave (URLs built).  A request without an answer is not
 * reported here: each answer is judged by its consumer, which names it.
 */
static int wave_send(struct cmr_client *c, struct wave *w,
                     struct cmr_error *err)
{
	struct cmr_error scratch = CMR_ERROR_INIT;
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (cmr_buf_error(&w->url[i]) < 0)
			return cmr_error_set(err, CMR_ENOMEM, "out of memory");
		w->req[i].method = "GET";
		w->req[i].url = w->url[i].ptr;
	}
	if (w->n > 0)
		(void)cmr_client_send_all(c, w->req, w->resp, w->n, &scratch);
	return 0;
}

static long status_of(const struct wave *w, size_t i)
{
	return w->resp[i].status;
}

/* Checks answer i is a 2xx (else the error, naming the request). */
static int ok(const struct wave *w, size_t i, struct cmr_error *err)
{
	return cmr_api_check_response(&w->req[i], &w->resp[i], err);
}

/* The name decoders use in messages: "GET /api/v45/...". */
static const char *what_of(const struct wave *w, size_t i, char *buf,
                           size_t size)
{
	snprintf(buf, size, "GET %s", w->req[i].url);
	return buf;
}

/* ======================================================================
 * Wave 2: the deployment and the per-cluster reads
 */

struct cluster_vec {
	struct cmr_cluster **items;
	size_t len;
	size_t alloc;
};

struct main_ctx {
	struct cmr_client *c;
	struct cmr_state *live;
	const struct cmr_state *desired;
	struct cluster_vec more_tags; /* whose page of tags came back full */
	size_t per;                   /* requests per cluster: 2 or 3 */
	bool tags;                    /* API v41+ */
	bool fallback;                /* /cm/deployment answered 403 */
	bool all_clusters;            /* CMR_READ_ALL_CLUSTERS */
};

/*
 * Whether the cluster of the answers at base.. is absent from CM: its
 * service list answers 404 and the deployment did not list it.  Its other
 * answers must then be 404 too (or fine); anything else is an error.
 */
static int cluster_absent(bool *out, const struct main_ctx *m,
                          const struct wave *w, size_t base,
                          const struct cmr_cluster *lc, struct cmr_error *err)
{
	size_t k;
	int error;

	*out = status_of(w, base) == 404 && lc == NULL;
	for (k = *out ? 1 : 0; k < m->per; k++) {
		if (*out && status_of(w, base + k) == 404)
			continue;
		if ((error = ok(w, base + k, err)) < 0)
			return error;
	}
	return 0;
}

/* The services, parcels and tags answers of one cluster onto lc. */
static int decode_cluster_answers(struct main_ctx *m, struct wave *w,
                                  size_t base, struct cmr_cluster *lc,
                                  struct cmr_error *err)
{
	const struct cmr_http_response *r = &w->resp[base];
	char what[512];
	size_t ntags = 0;
	int error;

	error = cmr_api_decode_services(m->live, lc,
	                                what_of(w, base, what, sizeof(what)),
	                                r[0].body.ptr, r[0].body.len, err);
	if (error < 0)
		return error;
	error = cmr_api_decode_parcels(m->live, lc,
	                               what_of(w, base + 1, what, sizeof(what)),
	                               r[1].body.ptr, r[1].body.len, err);
	if (error < 0 || !m->tags)
		return error;
	error = cmr_api_decode_tags(&ntags, m->live, lc,
	                            what_of(w, base + 2, what, sizeof(what)),
	                            r[2].body.ptr, r[2].body.len, err);
	if (error < 0)
		return error;
	/* the elements are pointers, as cmr_vec_push means */
	/* NOLINTNEXTLINE(bugprone-sizeof-expression) */
	if (ntags >= CMR_API_TAGS_PAGE && cmr_vec_push(&m->more_tags, lc) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

static int decode_cluster(struct main_ctx *m, struct wave *w, size_t base,
                          const char *name, struct cmr_error *err)
{
	struct cmr_cluster *lc = cmr_state_find_cluster(m->live, name);
	bool absent = false;
	int error;

	if ((error = cluster_absent(&absent, m, w, base, lc, err)) < 0)
		return error;
	if (absent) {
		/* A cluster CM does not have: left out of live. */
		cmr_log(m->c->logger, CMR_LOG_DEBUG, "api",
		        "cluster '%s' not found in CM", name);
		return 0;
	}
	if (lc == NULL && !m->fallback) {
		/* Created between the two reads, or named by its display
		 * name (CM accepts either in paths, the deployment has API
		 * names only): its settings are unknown, so it is left
		 * out. */
		cmr_log(m->c->logger, CMR_LOG_WARN, "api",
		        "cluster '%s' answers but is not in /cm/deployment (a display name? the file needs the API name); ignored",
		        name);
		return 0;
	}
	if (lc == NULL &&
	    (error = cmr_state_add_cluster(&lc, m->live, name, err)) < 0)
		return error;
	return decode_cluster_answers(m, w, base, lc, err);
}

static int main_wave(struct main_ctx *m, struct cmr_error *err)
{
	unsigned v = m->c->version;
	const struct cmr_state *d = m->desired;
	struct wave w;
	char what[512];
	size_t i;
	int error;

	m->tags = v >= CMR_API_VERSION_TAGS;
	m->per = m->tags ? 3 : 2;
	if ((error = wave_init(&w, 1 + d->clusters.len * m->per, err)) < 0)
		return error;
	cmr_api_build_deployment(&w.url[0], v);
	for (i = 0; i < d->clusters.len; i++) {
		const char *name = d->clusters.items[i]->name;
		size_t base = 1 + i * m->per;

		cmr_api_build_services(&w.url[base], v, name);
		cmr_api_build_parcels(&w.url[base + 1], v, name);
		if (m->tags)
			cmr_api_build_tags(&w.url[base + 2], v, name,
			                   CMR_API_TAGS_PAGE, 0);
	}
	if ((error = wave_send(m->c, &w, err)) < 0)
		goto done;

	if (status_of(&w, 0) == 403) {
		m->fallback = true;
		cmr_log(m->c->logger, CMR_LOG_INFO, "api",
		        "CM refused /cm/deployment (403: not a full or cluster administrator); reading scope by scope");
	} else if ((error = ok(&w, 0, err)) < 0) {
		goto done;
	} else {
		error = cmr_api_decode_deployment(
		        m->live, m->all_clusters ? NULL : d,
		        what_of(&w, 0, what, sizeof(what)), w.resp[0].body.ptr,
		        w.resp[0].body.len, err);
		if (error < 0)
			goto done;
	}
	for (i = 0; i < d->clusters.len; i++) {
		error = decode_cluster(m, &w, 1 + i * m->per,
		                       d->clusters.items[i]->name, err);
		if (error < 0)
			goto done;
	}
	error = 0;
done:
	wave_release(&w);
	return error;
}

/*
 * Further pages of tags, for clusters whose first page was full: one wave
 * per page for all such clusters.  Only a cluster with more than
 * CMR_API_TAGS_PAGE tags ever gets here.
 */
static int more_tags(struct main_ctx *m, struct cmr_error *err)
{
	unsigned offset = CMR_API_TAGS_PAGE;
	char what[512];
	int error = 0;

	while (m->more_tags.len > 0 && error == 0) {
		struct wave w;
		size_t i;
		size_t keep = 0;

		if ((error = wave_init(&w, m->more_tags.len, err)) < 0)
			break;
		for (i = 0; i < w.n; i++)
			cmr_api_build_tags(&w.url[i], m->c->version,
			                   m->more_tags.items[i]->name,
			                   CMR_API_TAGS_PAGE, offset);
		error = wave_send(m->c, &w, err);
		for (i = 0; error == 0 && i < w.n; i++) {
			size_t ntags = 0;

			if ((error = ok(&w, i, err)) < 0)
				break;
			error = cmr_api_decode_tags(
			        &ntags, m->live, m->more_tags.items[i],
			        what_of(&w, i, what, sizeof(what)),
			        w.resp[i].body.ptr, w.resp[i].body.len, err);
			if (ntags >= CMR_API_TAGS_PAGE)
				m->more_tags.items[keep++] =
				        m->more_tags.items[i];
		}
		m->more_tags.len = keep;
		offset += CMR_API_TAGS_PAGE;
		wave_release(&w);
	}
	return error;
}

/* ======================================================================
 * Wave 3: view=full reads (and, after a 403, the whole configuration)
 */

/* The live config a scope's values go to (NULL when absent). */
static struct cmr_config *scope_config(struct cmr_state *live,
                                       const struct cmr_scope *s, bool create,
                                       struct cmr_error *err, int *error)
{
	struct cmr_service *svc = NULL;
	struct cmr_role_config_group *g = NULL;
	struct cmr_cluster *lc;

	*error = 0;
	switch (s->kind) {
	case CMR_SCOPE_CM:
		return &live->manager.config;
	case CMR_SCOPE_MGMT:
	case CMR_SCOPE_MGMT_GROUP:
		svc = live->manager.mgmt;
		if (svc == NULL && create &&
		    (*error = cmr_manager_add_mgmt(&svc, live, "mgmt", err)) <
		            0)
			return NULL;
		break;
	case CMR_SCOPE_SERVICE:
	case CMR_SCOPE_GROUP:
		lc = cmr_state_find_cluster(live, s->cluster);
		svc = lc ? cmr_cluster_find_service(lc, s->service) : NULL;
		break;
	}
	if (svc == NULL)
		return NULL;
	if (s->kind == CMR_SCOPE_MGMT || s->kind == CMR_SCOPE_SERVICE)
		return &svc->config;
	g = cmr_service_find_group(svc, s->group);
	if (g == NULL && create &&
	    (*error = cmr_service_add_group(&g, live, svc, s->group, err)) < 0)
		return NULL;
	return g != NULL ? &g->config : NULL;
}

/* True for the scopes whose group list the fallback also reads. */
static bool has_group_list(const struct cmr_scope *s)
{
	return s->kind == CMR_SCOPE_MGMT || s->kind == CMR_SCOPE_SERVICE;
}

/*
 * The URLs: scope i's view=full read at index i; after a 403, then
 * /cm/version at index n and the group lists after it, in scope order.
 */
static int build_scopes_wave(struct wave *w, unsigned v,
                             const struct cmr_api_scope_list *scopes,
                             bool fallback, struct cmr_error *err)
{
	size_t n = scopes->len;
	size_t lists = 0;
	size_t i;
	size_t k;
	int error;

	for (i = 0; fallback && i < n; i++)
		lists += has_group_list(&scopes->items[i]) ? 1 : 0;
	if ((error = wave_init(w, n + (fallback ? 1 + lists : 0), err)) < 0)
		return error;
	for (i = 0; i < n; i++)
		cmr_api_build_config(&w->url[i], v, &scopes->items[i], "full");
	if (!fallback)
		return 0;
	k = n;
	cmr_api_build_cm_version(&w->url[k++], v);
	for (i = 0; i < n; i++) {
		const struct cmr_scope *s = &scopes->items[i];

		if (s->kind == CMR_SCOPE_MGMT)
			cmr_api_build_groups(&w->url[k++], v, NULL, NULL);
		else if (s->kind == CMR_SCOPE_SERVICE)
			cmr_api_build_groups(&w->url[k++], v, s->cluster,
			                     s->service);
	}
	return 0;
}

/* One group list of the fallback (answer k) onto its service. */
static int decode_group_list(struct wave *w, size_t k, struct cmr_state *live,
                             const struct cmr_scope *s, struct cmr_error *err)
{
	struct cmr_service *svc = NULL;
	struct cmr_cluster *lc;
	char what[512];
	int error;

	if (status_of(w, k) == 404)
		return 0; /* no management service, or the service went */
	if ((error = ok(w, k, err)) < 0)
		return error;
	if (s->kind == CMR_SCOPE_MGMT) {
		error = cmr_manager_add_mgmt(&svc, live, "mgmt", err);
		if (error < 0)
			return error;
	} else {
		lc = cmr_state_find_cluster(live, s->cluster);
		svc = lc ? cmr_cluster_find_service(lc, s->service) : NULL;
	}
	if (svc == NULL)
		return 0;
	return cmr_api_decode_groups(
	        live, svc, what_of(w, k, what, sizeof(what)),
	        w->resp[k].body.ptr, w->resp[k].body.len, err);
}

/* After a 403: /cm/version, then the group lists, which create the groups
 * with their role types before the per-group reads fill them. */
static int decode_fallback_lists(struct wave *w, struct cmr_state *live,
                                 const struct cmr_api_scope_list *scopes,
                                 struct cmr_error *err)
{
	size_t k = scopes->len;
	char what[512];
	size_t i;
	int error;

	if ((error = ok(w, k, err)) < 0)
		return error;
	error = cmr_api_decode_cm_version(
	        live, what_of(w, k, what, sizeof(what)), w->resp[k].body.ptr,
	        w->resp[k].body.len, err);
	if (error < 0)
		return error;
	k++;
	for (i = 0; i < scopes->len; i++) {
		if (!has_group_list(&scopes->items[i]))
			continue;
		error = decode_group_list(w, k++, live, &scopes->items[i], err);
		if (error < 0)
			return error;
	}
	return 0;
}

/* Scope i's view=full answer into params (and, after a 403, live). */
static int decode_scope(struct wave *w, size_t i, struct cmr_state *live,
                        struct cmr_params *params, const struct cmr_scope *s,
                        bool fallback, struct cmr_error *err)
{
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_config *cfg = NULL;
	char what[512];
	int error;

	/* After a 403 a named scope CM lacks (e.g. a group) is absent;
	 * otherwise the scope was seen live moments ago. */
	if (fallback && status_of(w, i) == 404 && s->kind != CMR_SCOPE_CM)
		return 0;
	if ((error = ok(w, i, err)) < 0)
		return error;
	if (fallback) {
		cfg = scope_config(live, s, true, err, &error);
		if (error < 0)
			return error;
	}
	if (cmr_scope_key(&key, s) < 0) {
		cmr_buf_release(&key);
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	}
	error = cmr_api_decode_config(
	        live, cfg, params, key.ptr, what_of(w, i, what, sizeof(what)),
	        w->resp[i].body.ptr, w->resp[i].body.len, err);
	cmr_buf_release(&key);
	return error;
}

/*
 * Reads `scopes` with view=full into params -- and, after a 403, their
 * set values into live, plus /cm/version and the group lists -- in one
 * wave.
 */
static int scopes_wave(struct cmr_client *c, struct cmr_state *live,
                       struct cmr_params *params,
                       const struct cmr_api_scope_list *scopes, bool fallback,
                       struct cmr_error *err)
{
	struct wave w;
	size_t i;
	int error;

	error = build_scopes_wave(&w, c->version, scopes, fallback, err);
	if (error < 0)
		return error;
	if ((error = wave_send(c, &w, err)) < 0)
		goto done;
	if (fallback &&
	    (error = decode_fallback_lists(&w, live, scopes, err)) < 0)
		goto done;
	for (i = 0; i < scopes->len; i++) {
		error = decode_scope(&w, i, live, params, &scopes->items[i],
		                     fallback, err);
		if (error < 0)
			goto done;
	}
	error = 0;
done:
	wave_release(&w);
	return error;
}

/* ======================================================================
 * The reader
 */

int cmr_api_read_live(struct cmr_state **out_live,
                      struct cmr_params **out_params, struct cmr_client *c,
                      const struct cmr_state *desired,
                      const struct cmr_read_options *opt, struct cmr_error *err)
{
	struct cmr_api_scope_list scopes = { 0 };
	struct cmr_state *empty = NULL;
	struct cmr_http_stats s0 = c->transport->stats;
	struct cmr_read_report *rep = &c->last_read;
	struct main_ctx m;
	unsigned flags = opt != NULL ? opt->flags : 0;
	int error = CMR_ERROR;

	memset(&m, 0, sizeof(m));
	memset(rep, 0, sizeof(*rep));
	*out_live = NULL;
	*out_params = NULL;
	if (desired == NULL && (flags & CMR_READ_ALL_CLUSTERS)) {
		/* nothing named: an empty desired state */
		if ((error = cmr_state_new(&empty, CMR_STATE_DESIRED, err)) < 0)
			goto done;
		desired = empty;
	}
	if (desired == NULL) {
		error = cmr_error_set(
		        err, CMR_EINVAL,
		        "reading live state needs the desired state (it names the clusters to read)");
		goto done;
	}
	rep->negotiated = c->version == 0;
	if ((error = cmr_client_negotiate(c, err)) < 0)
		goto done;
	rep->api_version = c->version;
	if ((error = cmr_state_new(&m.live, CMR_STATE_LIVE, err)) < 0 ||
	    (error = cmr_params_new(out_params, err)) < 0)
		goto done;
	m.c = c;
	m.desired = desired;
	m.all_clusters = (flags & CMR_READ_ALL_CLUSTERS) != 0;
	if ((error = main_wave(&m, err)) < 0 ||
	    (error = more_tags(&m, err)) < 0)
		goto done;
	rep->fallback = m.fallback;
	rep->tags_read = m.tags;
	if (!m.tags)
		cmr_log(c->logger, CMR_LOG_INFO, "api",
		        "API v%u has no entity tags (v%u+): the apply lock and secret records use the local state directory",
		        c->version, CMR_API_VERSION_TAGS);
	if (m.fallback)
		error = cmr_api_fallback_scopes(&scopes, desired, m.live, err);
	else
		error = cmr_api_full_scopes(&scopes, desired, m.live, flags,
		                            err);
	if (error < 0)
		goto done;
	rep->full_scopes = scopes.len;
	if (scopes.len > 0 &&
	    (error = scopes_wave(c, m.live, *out_params, &scopes, m.fallback,
	                         err)) < 0)
		goto done;
	*out_live = m.live;
	m.live = NULL;
	error = 0;
done:
	rep->waves = c->transport->stats.waves - s0.waves;
	rep->requests = c->transport->stats.requests - s0.requests;
	if (error < 0) {
		cmr_params_free(*out_params);
		*out_params = NULL;
	}
	cmr_state_free(m.live);
	cmr_state_free(empty);
	cmr_vec_release(&m.more_tags);
	cmr_api_scope_list_release(&scopes);
	return error;
}
