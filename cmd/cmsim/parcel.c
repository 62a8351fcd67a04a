/*
 * parcel.c -- parcel stages (FACTS §7) and parcel repositories.
 *
 * Parcel commands are synchronous: they check the transition table, move
 * the parcel into its transient stage and return at once.  The transient
 * stages then advance with simulated time in cmsim_parcels_tick, which
 * also fills the progress counters clients poll: bytes for a download,
 * hosts (count/totalCount) for a distribution.
 *
 * Durations: a download moves sizeBytes (2 GB unless the manifest says
 * otherwise) at 100 MB/s; distribution takes 10 s per host, one host at a
 * time; removing a distribution 5 s; activation 5 s.  Activation finishing
 * deactivates the product's previously active version (one active version
 * per product and cluster) and marks the cluster's roles STALE: running
 * processes keep the old bits until restarted.
 *
 * Repositories: --parcel-repo URL=MANIFEST gives what a URL offers.  A
 * parcel becomes visible only once REMOTE_PARCEL_REPO_URLS lists the URL
 * and refreshParcelRepos has run, as in CM.
 */
#include <stdio.h>
#include <string.h>

#include "cmr/buf.h"

#include "sim.h"

#define DOWNLOAD_BYTES_PER_S   100000000LL
#define DISTRIBUTE_MS_PER_HOST 10000
#define UNDISTRIBUTE_MS        5000
#define ACTIVATE_MS            5000

static struct json_object *state_of(struct json_object *parcel)
{
	struct json_object *st = cmsim_jget(parcel, "state");

	if (!st) {
		st = json_object_new_object();
		json_object_object_add(parcel, "state", st);
	}
	return st;
}

static void reset_state(struct json_object *parcel)
{
	struct json_object *st = state_of(parcel);

	cmsim_jset_int(st, "progress", 0);
	cmsim_jset_int(st, "totalProgress", 0);
	cmsim_jset_int(st, "count", 0);
	cmsim_jset_int(st, "totalCount", 0);
	json_object_object_add(st, "errors", json_object_new_array());
	json_object_object_add(st, "warnings", json_object_new_array());
}

static int64_t cluster_hosts(struct json_object *cluster)
{
	/* Hosts with a role of this cluster, counted once. */
	struct json_object *seen = json_object_new_object();
	struct json_object *svcs = cmsim_jget(cluster, "services");
	size_t i;
	size_t j;
	size_t n = svcs ? json_object_array_length(svcs) : 0;
	int64_t count;

	for (i = 0; i < n; i++) {
		struct json_object *roles =
		        cmsim_jget(json_object_array_get_idx(svcs, i), "roles");
		size_t m = roles ? json_object_array_length(roles) : 0;

		for (j = 0; j < m; j++) {
			const char *h = cmsim_jstr(
			        cmsim_jget(json_object_array_get_idx(roles, j),
			                   "hostRef"),
			        "hostId");

			if (h)
				json_object_object_add(seen, h, NULL);
		}
	}
	count = json_object_object_length(seen);
	json_object_put(seen);
	return count > 0 ? count : 1;
}

static bool stalled(struct cmsim *sim, struct json_object *cluster,
                    struct json_object *parcel, const char **msg)
{
	size_t i;

	for (i = 0; i < sim->faults.len; i++) {
		struct cmsim_fault *f = sim->faults.items[i];

		if (f->kind != CMSIM_FAULT_PARCEL_STALL)
			continue;
		if (f->cluster &&
		    strcmp(f->cluster, cmsim_jstr(cluster, "name")) != 0)
			continue;
		if (f->product &&
		    strcmp(f->product, cmsim_jstr(parcel, "product")) != 0)
			continue;
		if (f->version &&
		    strcmp(f->version, cmsim_jstr(parcel, "version")) != 0)
			continue;
		*msg = f->message ? f->message
		                  : "Parcel transfer stalled (cmsim fault).";
		return true;
	}
	return false;
}

static void mark_cluster_stale(struct json_object *cluster)
{
	struct json_object *svcs = cmsim_jget(cluster, "services");
	size_t i;
	size_t j;
	size_t n = svcs ? json_object_array_length(svcs) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *roles =
		        cmsim_jget(json_object_array_get_idx(svcs, i), "roles");
		size_t m = roles ? json_object_array_length(roles) : 0;

		for (j = 0; j < m; j++) {
			struct json_object *r =
			        json_object_array_get_idx(roles, j);

			if (!cmsim_role_is_gateway(r))
				cmsim_jset_str(r, "configStalenessStatus",
				               "STALE");
		}
	}
}

static void finish_activation(struct json_object *cluster,
                              struct json_object *parcel)
{
	struct json_object *arr = cmsim_jget(cluster, "parcels");
	const char *prod = cmsim_jstr(parcel, "product");
	size_t i;
	size_t n = json_object_array_length(arr);

	for (i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(arr, i);
		const char *st = cmsim_jstr(p, "stage");

		if (p != parcel &&
		    strcmp(cmsim_jstr(p, "product"), prod) == 0 && st &&
		    strcmp(st, "ACTIVATED") == 0)
			cmsim_jset_str(p, "stage", "DISTRIBUTED");
	}
	cmsim_jset_str(parcel, "stage", "ACTIVATED");
	mark_cluster_stale(cluster);
	if (strcmp(prod, "CDH") == 0) {
		/* The cluster's fullVersion follows its active CDH. */
		const char *v = cmsim_jstr(parcel, "version");
		const char *dash = strchr(v, '-');
		char buf[64];

		snprintf(buf, sizeof(buf), "%.*s",
		         (int)(dash ? (size_t)(dash - v) : strlen(v)), v);
		cmsim_jset_str(cluster, "fullVersion", buf);
	}
}

/*
 * How long a transient stage takes, in sim milliseconds; false for a
 * stage that is not transient.  (Separate ifs, not an else-if chain:
 * UNDISTRIBUTE_MS and ACTIVATE_MS happen to be equal.)
 */
static bool stage_ms(const char *stage, int64_t size, int64_t hosts,
                     int64_t *out)
{
	if (strcmp(stage, "DOWNLOADING") == 0) {
		*out = size * 1000 / DOWNLOAD_BYTES_PER_S;
		return true;
	}
	if (strcmp(stage, "DISTRIBUTING") == 0) {
		*out = hosts * DISTRIBUTE_MS_PER_HOST;
		return true;
	}
	if (strcmp(stage, "UNDISTRIBUTING") == 0) {
		*out = UNDISTRIBUTE_MS;
		return true;
	}
	if (strcmp(stage, "ACTIVATING") == 0) {
		*out = ACTIVATE_MS;
		return true;
	}
	return false;
}

/* Moves a parcel whose transient stage has run its course to the next. */
static void finish_stage(struct json_object *cluster, struct json_object *p,
                         const char *stage)
{
	reset_state(p);
	if (strcmp(stage, "DOWNLOADING") == 0 ||
	    strcmp(stage, "UNDISTRIBUTING") == 0)
		cmsim_jset_str(p, "stage", "DOWNLOADED");
	else if (strcmp(stage, "DISTRIBUTING") == 0)
		cmsim_jset_str(p, "stage", "DISTRIBUTED");
	else
		finish_activation(cluster, p);
}

/* The progress counters of a parcel part of the way through a stage. */
static void set_progress(struct json_object *st, const char *stage,
                         int64_t size, int64_t hosts, int64_t elapsed,
                         int64_t duration)
{
	if (strcmp(stage, "DOWNLOADING") == 0) {
		cmsim_jset_int(st, "totalProgress", size);
		cmsim_jset_int(st, "progress",
		               duration > 0 ? size * elapsed / duration : 0);
	} else if (strcmp(stage, "DISTRIBUTING") == 0 ||
	           strcmp(stage, "UNDISTRIBUTING") == 0) {
		int64_t done = duration > 0 ? hosts * elapsed / duration : 0;

		cmsim_jset_int(st, "totalCount", hosts);
		cmsim_jset_int(st, "count", done);
		cmsim_jset_int(st, "totalProgress", size * hosts);
		cmsim_jset_int(st, "progress",
		               duration > 0 ? size * hosts * elapsed / duration
		                            : 0);
	} else {
		cmsim_jset_int(st, "totalProgress", 100);
		cmsim_jset_int(st, "progress",
		               duration > 0 ? 100 * elapsed / duration : 0);
	}
}

static void tick_parcel(struct cmsim *sim, struct json_object *cluster,
                        struct json_object *p, int64_t now)
{
	const char *stage = cmsim_jstr(p, "stage");
	int64_t t0 = cmsim_jint(p, "t0", now);
	int64_t size = cmsim_jint(p, "sizeBytes", 2000000000);
	int64_t hosts = cluster_hosts(cluster);
	int64_t elapsed = now - t0;
	int64_t duration;
	struct json_object *st = state_of(p);
	const char *msg = NULL;
	bool stall;

	if (!stage || !stage_ms(stage, size, hosts, &duration))
		return;
	stall = stalled(sim, cluster, p, &msg);
	if (stall && elapsed > duration / 2)
		elapsed = duration / 2;
	if (elapsed < 0)
		elapsed = 0;
	sim->dirty = true;
	if (stall) {
		struct json_object *errs = json_object_new_array();

		json_object_array_add(errs, json_object_new_string(msg));
		json_object_object_add(st, "errors", errs);
	} else if (json_object_array_length(cmsim_jarr(st, "errors")) > 0) {
		json_object_object_add(st, "errors", json_object_new_array());
	}
	if (!stall && elapsed >= duration) {
		finish_stage(cluster, p, stage);
		return;
	}
	set_progress(st, stage, size, hosts, elapsed, duration);
}

void cmsim_parcels_tick(struct cmsim *sim, int64_t now)
{
	struct json_object *clusters = cmsim_jget(sim->root, "clusters");
	size_t i;
	size_t j;
	size_t n = clusters ? json_object_array_length(clusters) : 0;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(clusters, i);
		struct json_object *arr = cmsim_jget(c, "parcels");
		size_t m = arr ? json_object_array_length(arr) : 0;

		for (j = 0; j < m; j++)
			tick_parcel(sim, c, json_object_array_get_idx(arr, j),
			            now);
	}
}

/* Stage changes by command: {command, from, to (transient or final)}. */
static const struct {
	const char *command, *from, *to;
} transitions[] = {
	{ "startDownload", "AVAILABLE_REMOTELY", "DOWNLOADING" },
	{ "cancelDownload", "DOWNLOADING", "AVAILABLE_REMOTELY" },
	{ "removeDownload", "DOWNLOADED", "AVAILABLE_REMOTELY" },
	{ "startDistribution", "DOWNLOADED", "DISTRIBUTING" },
	{ "cancelDistribution", "DISTRIBUTING", "DOWNLOADED" },
	{ "startRemovalOfDistribution", "DISTRIBUTED", "UNDISTRIBUTING" },
	{ "activate", "DISTRIBUTED", "ACTIVATING" },
	{ "deactivate", "ACTIVATED", "DISTRIBUTED" },
};

int cmsim_parcel_command(struct cmsim *sim, struct json_object *cluster,
                         struct json_object *parcel, const char *command,
                         struct cmr_error *err)
{
	const char *stage = cmsim_jstr(parcel, "stage");
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(transitions); i++) {
		if (strcmp(transitions[i].command, command) != 0)
			continue;
		if (!stage || strcmp(stage, transitions[i].from) != 0)
			return cmr_error_set(
			        err, CMR_EINVAL,
			        "Cannot %s parcel %s %s: it is in stage %s "
			        "(allowed only from %s).",
			        command, cmsim_jstr(parcel, "product"),
			        cmsim_jstr(parcel, "version"),
			        stage ? stage : "UNKNOWN", transitions[i].from);
		cmsim_jset_str(parcel, "stage", transitions[i].to);
		cmsim_jset_int(parcel, "t0", cmsim_now(sim));
		reset_state(parcel);
		(void)cluster;
		sim->dirty = true;
		return 0;
	}
	return cmr_error_set(err, CMR_ENOTFOUND, "Command '%s' not found.",
	                     command);
}

/* --- repositories --------------------------------------------------------- */

/* Splits "CDH-7.1.9-1.cdh7.1.9.p0.44702451-el7.parcel". */
static bool split_parcel_name(const char *file, char *product, size_t psize,
                              char *version, size_t vsize)
{
	const char *dash = strchr(file, '-');
	const char *end = strstr(file, ".parcel");
	const char *last;

	if (!dash || !end || end <= dash)
		return false;
	last = end;
	while (last > dash && *last != '-')
		last--;
	if (last <= dash)
		return false;
	snprintf(product, psize, "%.*s", (int)(dash - file), file);
	snprintf(version, vsize, "%.*s", (int)(last - dash - 1), dash + 1);
	return product[0] && version[0];
}

static bool url_listed(const char *list, const char *url)
{
	size_t ulen = strlen(url);
	const char *p = list;

	/* url ends with '/'; list entries may omit it. */
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\n')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\n'))
			len--;
		if ((len == ulen && strncmp(p, url, len) == 0) ||
		    (len == ulen - 1 && strncmp(p, url, len) == 0))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

static void offer(struct json_object *cluster, struct json_object *offered,
                  const char *product, const char *version, int64_t size)
{
	struct json_object *arr = cmsim_jarr(cluster, "parcels");
	struct json_object *p = cmsim_parcel(cluster, product, version);
	char key[512];

	snprintf(key, sizeof(key), "%s\n%s", product, version);
	json_object_object_add(offered, key, NULL);
	if (p)
		return;
	p = json_object_new_object();
	cmsim_jset_str(p, "product", product);
	cmsim_jset_str(p, "version", version);
	cmsim_jset_str(p, "stage", "AVAILABLE_REMOTELY");
	cmsim_jset_int(p, "sizeBytes", size > 0 ? size : 2000000000);
	cmsim_jset_int(p, "t0", 0);
	json_object_array_add(arr, p);
	reset_state(p);
}

void cmsim_parcels_refresh_repos(struct cmsim *sim)
{
	struct cmsim_scope sc;
	struct json_object *clusters = cmsim_jget(sim->root, "clusters");
	struct json_object *offered = json_object_new_object();
	const char *urls;
	size_t r;
	size_t i;
	size_t k;
	size_t n = clusters ? json_object_array_length(clusters) : 0;

	memset(&sc, 0, sizeof(sc));
	sc.kind = CMSIM_SCOPE_CM;
	sc.owner = cmsim_jget(sim->root, "managerSettings");
	sc.svc_type = "CM";
	sc.scope = "CM";
	urls = sc.owner ? cmsim_scope_get(&sc, "REMOTE_PARCEL_REPO_URLS")
	                : NULL;
	for (r = 0; urls && r < sim->nrepos; r++) {
		struct json_object *list;

		if (!url_listed(urls, sim->repos[r].url))
			continue;
		list = cmsim_jget(sim->repos[r].manifest, "parcels");
		for (k = 0; list && k < json_object_array_length(list); k++) {
			struct json_object *e =
			        json_object_array_get_idx(list, k);
			const char *file = cmsim_jstr(e, "parcelName");
			char product[128];
			char version[256];

			if (!file ||
			    !split_parcel_name(file, product, sizeof(product),
			                       version, sizeof(version)))
				continue;
			for (i = 0; i < n; i++)
				offer(json_object_array_get_idx(clusters, i),
				      offered, product, version,
				      cmsim_jint(e, "size", 0));
		}
	}
	/* What no listed repository offers any more disappears. */
	for (i = 0; i < n; i++) {
		struct json_object *arr = cmsim_jget(
		        json_object_array_get_idx(clusters, i), "parcels");

		for (k = 0; arr && k < json_object_array_length(arr);) {
			struct json_object *p =
			        json_object_array_get_idx(arr, k);
			const char *st = cmsim_jstr(p, "stage");
			char key[512];

			snprintf(key, sizeof(key), "%s\n%s",
			         cmsim_jstr(p, "product"),
			         cmsim_jstr(p, "version"));
			if (st && strcmp(st, "AVAILABLE_REMOTELY") == 0 &&
			    !cmsim_jget(offered, key) &&
			    !json_object_object_get_ex(offered, key, NULL))
				json_object_array_del_idx(arr, k, 1);
			else
				k++;
		}
	}
	json_object_put(offered);
	sim->dirty = true;
}
