/*
 * main.c -- cmsim's command line (DESIGN "cmsim, the simulator").
 *
 * Reads the flags, loads the catalog, the state file or the seed, the
 * parcel repositories and the start-up faults, starts the server, writes
 * the port file once connections are accepted, and waits for SIGINT or
 * SIGTERM.  Everything else lives in cmsim_core so the unit tests can
 * drive the simulation without HTTP.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmr/buf.h"

#include "sim.h"

#ifndef CMR_DATADIR
#define CMR_DATADIR "/usr/local/share/cmrecon"
#endif

static void usage(FILE *f)
{
	fputs("usage: cmsim [--listen HOST:PORT] [--port-file FILE] "
	      "[--seed FILE]\n"
	      "             [--state-file FILE] [--catalog DIR]\n"
	      "             [--parcel-repo URL=MANIFEST.json]... "
	      "[--api-version vNN]\n"
	      "             [--time-scale X] [--latency MS[:JITTER_MS]] "
	      "[--fault SPEC]...\n"
	      "             [--user "
	      "NAME:PASSWORD[:full-admin|cluster-admin|read-only]]...\n"
	      "             [--tls-cert FILE --tls-key FILE] "
	      "[--keep-seed-secrets] [--verbose]\n"
	      "See docs/cmsim.md for routes, durations and the fault "
	      "grammar.\n",
	      f);
}

static char *read_file(const char *path, struct cmr_error *err)
{
	struct cmr_buf b = CMR_BUF_INIT;
	FILE *f = fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (!f) {
		cmr_error_set(err, CMR_ENOTFOUND, "cannot open '%s': %s", path,
		              strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cmr_buf_add(&b, chunk, n);
	fclose(f);
	return cmr_buf_detach(&b, NULL);
}

static bool is_dir_file(const char *path)
{
	return access(path, R_OK) == 0;
}

static bool has_catalog(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/catalog/CM.json", dir);
	return is_dir_file(path);
}

/*
 * Where the installed data is: CMR_DATADIR (the configured prefix), else
 * ../share/cmrecon next to the executable (a relocated install), else the
 * source tree (running from a build directory).  A directory counts when
 * it has catalog/CM.json.
 */
static void data_dir(char *out, size_t size)
{
	char exe[4096];
	ssize_t n;
	char *slash;

	snprintf(out, size, "%s", CMR_DATADIR);
	if (has_catalog(out))
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			/* A path cut short by the buffer is not looked at. */
			if (snprintf(out, size, "%s/../share/cmrecon", exe) <
			            (int)size &&
			    has_catalog(out))
				return;
		}
	}
	snprintf(out, size, "%s", CMSIM_SOURCE_DATA);
}

static int add_user(struct cmsim *sim, const char *spec, struct cmr_error *err)
{
	char *copy = strdup(spec);
	char *c1 = copy ? strchr(copy, ':') : NULL;
	char *c2;
	struct cmsim_user *u;
	int role = CMSIM_FULL_ADMIN;

	if (!c1 || c1 == copy) {
		free(copy);
		return cmr_error_set(err, CMR_EINVAL,
		                     "--user: expected NAME:PASSWORD[:ROLE]");
	}
	*c1++ = '\0';
	c2 = strrchr(c1, ':');
	if (c2 && (strcmp(c2 + 1, "full-admin") == 0 ||
	           strcmp(c2 + 1, "cluster-admin") == 0 ||
	           strcmp(c2 + 1, "read-only") == 0)) {
		*c2++ = '\0';
		role = strcmp(c2, "full-admin") == 0      ? CMSIM_FULL_ADMIN
		       : strcmp(c2, "cluster-admin") == 0 ? CMSIM_CLUSTER_ADMIN
		                                          : CMSIM_READ_ONLY;
	}
	u = realloc(sim->users, (sim->nusers + 1) * sizeof(*u));
	if (!u) {
		free(copy);
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	}
	sim->users = u;
	u[sim->nusers].name = strdup(copy);
	u[sim->nusers].password = strdup(c1);
	u[sim->nusers].role = role;
	sim->nusers++;
	free(copy);
	return 0;
}

static int add_repo(struct cmsim *sim, const char *spec, struct cmr_error *err)
{
	const char *eq = strchr(spec, '=');
	struct json_object *manifest;
	struct cmsim_repo *r;
	size_t ulen;

	if (!eq || eq == spec)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "--parcel-repo: expected URL=MANIFEST.json");
	manifest = json_object_from_file(eq + 1);
	if (!manifest || !cmsim_jget(manifest, "parcels")) {
		json_object_put(manifest);
		return cmr_error_set(err, CMR_EINVAL,
		                     "--parcel-repo: cannot read manifest '%s' "
		                     "(expected manifest.json with 'parcels')",
		                     eq + 1);
	}
	r = realloc(sim->repos, (sim->nrepos + 1) * sizeof(*r));
	if (!r) {
		json_object_put(manifest);
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	}
	sim->repos = r;
	ulen = (size_t)(eq - spec);
	r[sim->nrepos].url = malloc(ulen + 2);
	if (!r[sim->nrepos].url) {
		json_object_put(manifest);
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	}
	memcpy(r[sim->nrepos].url, spec, ulen);
	if (spec[ulen - 1] != '/')
		r[sim->nrepos].url[ulen++] = '/';
	r[sim->nrepos].url[ulen] = '\0';
	r[sim->nrepos].manifest = manifest;
	sim->nrepos++;
	return 0;
}

static int write_port_file(const char *path, int port, struct cmr_error *err)
{
	struct cmr_buf tmp = CMR_BUF_INIT;
	FILE *f;
	int error = 0;

	cmr_buf_addf(&tmp, "%s.tmp", path);
	f = fopen(tmp.ptr, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp.ptr, path) != 0)
		error = cmr_error_set(err, CMR_ERROR,
		                      "cannot write port file '%s': %s", path,
		                      strerror(errno));
	cmr_buf_release(&tmp);
	return error;
}

enum {
	OPT_LISTEN = 256,
	OPT_PORT_FILE,
	OPT_SEED,
	OPT_STATE_FILE,
	OPT_CATALOG,
	OPT_PARCEL_REPO,
	OPT_API_VERSION,
	OPT_TIME_SCALE,
	OPT_LATENCY,
	OPT_FAULT,
	OPT_USER,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_KEEP_SECRETS,
	OPT_HELP,
	OPT_VERBOSE,
};

static const struct option options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "state-file", required_argument, NULL, OPT_STATE_FILE },
	{ "catalog", required_argument, NULL, OPT_CATALOG },
	{ "parcel-repo", required_argument, NULL, OPT_PARCEL_REPO },
	{ "api-version", required_argument, NULL, OPT_API_VERSION },
	{ "time-scale", required_argument, NULL, OPT_TIME_SCALE },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "user", required_argument, NULL, OPT_USER },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "keep-seed-secrets", no_argument, NULL, OPT_KEEP_SECRETS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *listen, *port_file, *seed, *state_file, *catalog;
	const char *tls_cert, *tls_key;
	const char **faults;
	size_t nfaults;
	double scale;
};

/* What parse_args and apply_opt return when main should go on. */
#define GO_ON (-1)

static int parse_double(const char *s, double *out)
{
	char *end = NULL;

	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end && end != s && *end == '\0' ? 0 : -1;
}

static int parse_api_version(struct cmsim *sim, const char *arg,
                             struct cmr_error *err)
{
	char *end = NULL;
	long v = strtol(arg[0] == 'v' ? arg + 1 : arg, &end, 10);

	if (!end || *end || v < 1 || v > CMSIM_API_MAX)
		return cmr_error_set(err, CMR_EINVAL,
		                     "--api-version: expected v1..v%d",
		                     CMSIM_API_MAX);
	sim->api_max = (int)v;
	return 0;
}

static int parse_latency(struct cmsim *sim, const char *arg,
                         struct cmr_error *err)
{
	char *end = NULL;

	sim->latency_ms = strtoll(arg, &end, 10);
	if (end && *end == ':')
		sim->jitter_ms = strtoll(end + 1, &end, 10);
	if (!end || *end || sim->latency_ms < 0 || sim->jitter_ms < 0)
		return cmr_error_set(err, CMR_EINVAL,
		                     "--latency: expected MS[:JITTER_MS]");
	return 0;
}

/*
 * Applies one option to a and sim.  Returns GO_ON, else the exit status
 * to stop with: 0 after --help, 64 for an unknown option, 1 for a bad
 * value (err says which).
 */
static int apply_opt(int opt, const char *arg, struct args *a,
                     struct cmsim *sim, struct cmr_error *err)
{
	switch (opt) {
	case OPT_LISTEN:
		a->listen = arg;
		break;
	case OPT_PORT_FILE:
		a->port_file = arg;
		break;
	case OPT_SEED:
		a->seed = arg;
		break;
	case OPT_STATE_FILE:
		a->state_file = arg;
		break;
	case OPT_CATALOG:
		a->catalog = arg;
		break;
	case OPT_PARCEL_REPO:
		return add_repo(sim, arg, err) < 0 ? 1 : GO_ON;
	case OPT_API_VERSION:
		return parse_api_version(sim, arg, err) < 0 ? 1 : GO_ON;
	case OPT_TIME_SCALE:
		if (parse_double(arg, &a->scale) < 0 || a->scale < 0) {
			cmr_error_set(err, CMR_EINVAL,
			              "--time-scale: expected a number >= 0");
			return 1;
		}
		break;
	case OPT_LATENCY:
		return parse_latency(sim, arg, err) < 0 ? 1 : GO_ON;
	case OPT_FAULT:
		a->faults[a->nfaults++] = arg;
		break;
	case OPT_USER:
		return add_user(sim, arg, err) < 0 ? 1 : GO_ON;
	case OPT_TLS_CERT:
		a->tls_cert = arg;
		break;
	case OPT_TLS_KEY:
		a->tls_key = arg;
		break;
	case OPT_KEEP_SECRETS:
		sim->keep_seed_secrets = true;
		break;
	case OPT_VERBOSE:
		sim->verbose = true;
		break;
	case OPT_HELP:
		usage(stdout);
		return 0;
	default:
		usage(stderr);
		return 64;
	}
	return GO_ON;
}

/* Reads the command line into a and sim; returns as apply_opt does. */
static int parse_args(struct args *a, struct cmsim *sim, int argc, char **argv,
                      struct cmr_error *err)
{
	int opt;
	int rc;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		rc = apply_opt(opt, optarg, a, sim, err);
		if (rc != GO_ON)
			return rc;
	}
	if (optind < argc) {
		usage(stderr);
		return 64;
	}
	if (!!a->tls_cert != !!a->tls_key) {
		cmr_error_set(err, CMR_EINVAL,
		              "--tls-cert and --tls-key go together");
		return 64;
	}
	return GO_ON;
}

/* Splits --listen HOST:PORT; *host is the caller's to free. */
static int parse_listen(const char *listen, char **host, int *port,
                        struct cmr_error *err)
{
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	char *end = NULL;
	long p;

	if (!colon)
		return cmr_error_set(err, CMR_EINVAL,
		                     "--listen: expected HOST:PORT");
	*host = strndup(listen, (size_t)(colon - listen));
	p = strtol(colon + 1, &end, 10);
	if (!end || *end || p < 0 || p > 65535)
		return cmr_error_set(err, CMR_EINVAL, "--listen: bad port '%s'",
		                     colon + 1);
	*port = (int)p;
	return 0;
}

/* Loads the catalog from dir (--catalog), else from the data dir's. */
static int load_catalog(struct cmsim *sim, const char *dir, const char *datadir,
                        struct cmr_error *err)
{
	struct cmr_buf def = CMR_BUF_INIT;
	int error;

	if (!dir) {
		cmr_buf_addf(&def, "%s/catalog", datadir);
		dir = def.ptr;
	}
	error = cmsim_catalog_load(&sim->catalog, dir, err);
	if (error >= 0)
		fprintf(stderr, "cmsim: catalog %s\n", dir);
	cmr_buf_release(&def);
	return error;
}

/*
 * Starts from a seed: --seed (file), else the demo seed of the data dir,
 * else the source tree's.
 */
static int load_seed(struct cmsim *sim, const char *file, const char *datadir,
                     struct cmr_error *err)
{
	struct cmr_buf path = CMR_BUF_INIT;
	struct json_object *seed;
	int error;

	if (!file) {
		cmr_buf_addf(&path, "%s/demo-seed.json", datadir);
		file = is_dir_file(path.ptr) ? path.ptr
		                             : CMSIM_SOURCE_EXAMPLES
		               "/demo-seed.json";
	}
	fprintf(stderr, "cmsim: seed %s\n", file);
	seed = json_object_from_file(file);
	if (!seed) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "cannot read seed '%s': %s", file,
		                      json_util_get_last_err());
		goto done;
	}
	error = cmsim_state_from_seed(sim, seed, err);
	json_object_put(seed);
	if (error < 0)
		goto done;
	/* CM reads its parcel repositories when it starts: what the
	 * seed's REMOTE_PARCEL_REPO_URLS lists is visible at once.
	 * Later changes need refreshParcelRepos. */
	cmsim_parcels_refresh_repos(sim);
done:
	cmr_buf_release(&path);
	return error;
}

/* The state: the --state-file when it exists, else a seed. */
static int load_state(struct cmsim *sim, const struct args *a,
                      const char *datadir, struct cmr_error *err)
{
	int error;

	if (a->state_file) {
		size_t swept = cmsim_state_sweep(a->state_file);

		if (swept)
			fprintf(stderr,
			        "cmsim: removed %zu temporary state file%s "
			        "left by a cmsim killed while saving\n",
			        swept, swept == 1 ? "" : "s");
		sim->state_file = strdup(a->state_file);
		if (access(a->state_file, F_OK) == 0) {
			error = cmsim_state_load(sim, a->state_file, err);
			if (error < 0)
				return error;
			fprintf(stderr, "cmsim: resuming from %s\n",
			        a->state_file);
		}
	}
	if (!a->state_file || access(a->state_file, F_OK) != 0)
		return load_seed(sim, a->seed, datadir, err);
	return 0;
}

/*
 * Serves until SIGINT or SIGTERM: starts the server, writes the port
 * file once connections are accepted, waits for the signal, stops the
 * server and saves the state file.
 */
static int serve(struct cmsim *sim, const char *host, int port,
                 const char *cert, const char *key, const char *port_file,
                 struct cmr_error *err)
{
	struct cmsim_server *srv = NULL;
	sigset_t sigs;
	int sig = 0;
	int error;

	/* Block the signals before threads start, so only sigwait sees
	 * them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	error = cmsim_server_start(&srv, sim, host, port, cert, key, err);
	if (error < 0)
		goto done;
	if (port_file) {
		error = write_port_file(port_file, cmsim_server_port(srv), err);
		if (error < 0)
			goto done;
	}
	fprintf(stderr, "cmsim: listening on %s://%s:%d (API v%d)\n",
	        cert ? "https" : "http", host, cmsim_server_port(srv),
	        sim->api_max);
	sigwait(&sigs, &sig);
	fprintf(stderr, "cmsim: signal %d, stopping\n", sig);
	cmsim_server_stop(srv);
	srv = NULL;
	pthread_mutex_lock(&sim->lock);
	error = sim->state_file ? cmsim_state_save(sim, err) : 0;
	pthread_mutex_unlock(&sim->lock);
done:
	cmsim_server_stop(srv);
	return error;
}

int main(int argc, char **argv)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmsim sim;
	struct args a;
	char datadir[4096];
	char *host = NULL;
	char *cert = NULL;
	char *key = NULL;
	int port = 7180;
	int rc = 1;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.listen = "127.0.0.1:7180";
	a.scale = 1.0;
	if (cmsim_init(&sim, &err) < 0)
		goto done;
	a.faults = calloc((size_t)argc + 1, sizeof(*a.faults));
	rc = parse_args(&a, &sim, argc, argv, &err);
	if (rc != GO_ON)
		goto done;
	rc = 1;
	if (sim.nusers == 0 &&
	    add_user(&sim, "admin:admin:full-admin", &err) < 0)
		goto done;
	if (parse_listen(a.listen, &host, &port, &err) < 0) {
		rc = 64;
		goto done;
	}
	/* Catalog: --catalog, the install's data dir, the source tree. */
	data_dir(datadir, sizeof(datadir));
	if (load_catalog(&sim, a.catalog, datadir, &err) < 0 ||
	    load_state(&sim, &a, datadir, &err) < 0)
		goto done;
	cmsim_set_time_scale(&sim, a.scale);
	for (i = 0; i < a.nfaults; i++)
		if (cmsim_faults_add(&sim, a.faults[i], &err) < 0)
			goto done;
	cmsim_stats_reset(&sim);
	if (sim.state_file && cmsim_state_save(&sim, &err) < 0)
		goto done;
	if (a.tls_cert) {
		cert = read_file(a.tls_cert, &err);
		key = cert ? read_file(a.tls_key, &err) : NULL;
		if (!cert || !key)
			goto done;
	}
	if (serve(&sim, host, port, cert, key, a.port_file, &err) < 0)
		goto done;
	rc = 0;
done:
	if (err.code != CMR_OK)
		fprintf(stderr, "cmsim: error: %s\n", err.msg);
	cmsim_release(&sim);
	free(a.faults);
	free(host);
	free(cert);
	free(key);
	return rc;
}
