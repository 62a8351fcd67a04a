/*
 * fault.c -- the fault-injection grammar (docs/cmsim.md, "Faults").
 *
 * A fault spec is one line of text, the same on the command line
 * (--fault SPEC) and at run time (POST /_sim/faults takes a JSON list of
 * these strings):
 *
 *     KIND[,key=value]...
 *
 * `message=` must come last and takes the rest of the line, so a message
 * may contain commas.  Unknown kinds and keys are errors: a typo in a
 * test's fault must not silently test nothing.
 *
 * The request-level faults (http-error, drop, slow, unauthorized) are
 * applied by the server; command-fail, parcel-stall and bad-health are
 * looked up by the simulation when a command starts, a parcel moves, or a
 * service restarts; concurrent-write fires from cmsim_faults_tick.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static const struct {
	const char *name;
	enum cmsim_fault_kind kind;
} kind_names[] = {
	{ "http-error", CMSIM_FAULT_HTTP_ERROR },
	{ "drop", CMSIM_FAULT_DROP },
	{ "slow", CMSIM_FAULT_SLOW },
	{ "command-fail", CMSIM_FAULT_COMMAND_FAIL },
	{ "parcel-stall", CMSIM_FAULT_PARCEL_STALL },
	{ "unauthorized", CMSIM_FAULT_UNAUTHORIZED },
	{ "bad-health", CMSIM_FAULT_BAD_HEALTH },
	{ "concurrent-write", CMSIM_FAULT_CONCURRENT_WRITE },
	{ "validation", CMSIM_FAULT_VALIDATION },
};

void cmsim_fault_free(struct cmsim_fault *f)
{
	if (!f)
		return;
	free(f->spec);
	free(f->method);
	free(f->path);
	free(f->command);
	free(f->cluster);
	free(f->service);
	free(f->group);
	free(f->role);
	free(f->product);
	free(f->version);
	free(f->name);
	free(f->value);
	free(f->message);
	free(f->state);
	free(f);
}

void cmsim_fault_list_clear(struct cmsim_fault_list *l)
{
	size_t i;

	for (i = 0; i < l->len; i++)
		cmsim_fault_free(l->items[i]);
	l->len = 0;
}

static int num(const char *key, const char *v, double lo, double hi,
               double *out, struct cmr_error *err)
{
	char *end = NULL;

	errno = 0;
	*out = strtod(v, &end);
	if (errno != 0 || !end || *end != '\0' || end == v || *out < lo ||
	    *out > hi)
		return cmr_error_set(err, CMR_EINVAL,
		                     "fault: invalid %s '%s' (expected a "
		                     "number from %g to %g)",
		                     key, v, lo, hi);
	return 0;
}

/* The field of a key whose value is kept as a string; NULL: no such key. */
static char **string_field(struct cmsim_fault *f, const char *key)
{
	if (strcmp(key, "state") == 0)
		return &f->state;
	if (strcmp(key, "method") == 0)
		return &f->method;
	if (strcmp(key, "path") == 0)
		return &f->path;
	if (strcmp(key, "command") == 0)
		return &f->command;
	if (strcmp(key, "cluster") == 0)
		return &f->cluster;
	if (strcmp(key, "service") == 0)
		return &f->service;
	if (strcmp(key, "group") == 0)
		return &f->group;
	if (strcmp(key, "role") == 0)
		return &f->role;
	if (strcmp(key, "product") == 0)
		return &f->product;
	if (strcmp(key, "version") == 0)
		return &f->version;
	if (strcmp(key, "name") == 0)
		return &f->name;
	if (strcmp(key, "value") == 0)
		return &f->value;
	return NULL;
}

static int set_key(struct cmsim_fault *f, const char *key, const char *v,
                   int64_t now_ms, struct cmr_error *err)
{
	char **field = NULL;
	double d;
	int rc;

	if (strcmp(key, "status") == 0) {
		rc = num(key, v, 400, 599, &d, err);
		f->status = (int)d;
		return rc;
	}
	if (strcmp(key, "rate") == 0)
		return num(key, v, 0, 1, &f->rate, err);
	if (strcmp(key, "count") == 0) {
		rc = num(key, v, 1, 1e12, &d, err);
		f->count = (int64_t)d;
		return rc;
	}
	if (strcmp(key, "ms") == 0) {
		rc = num(key, v, 0, 600000, &d, err);
		f->ms = (int64_t)d;
		return rc;
	}
	if (strcmp(key, "at") == 0) {
		rc = num(key, v, 0, 1e9, &d, err);
		f->at_ms = now_ms + (int64_t)(d * 1000.0);
		return rc;
	}
	if (strcmp(key, "after") == 0) {
		rc = num(key, v, 0, 1e12, &d, err);
		f->after_n = (int64_t)d;
		return rc;
	}
	if (strcmp(key, "when") == 0) {
		if (strcmp(v, "before") != 0 && strcmp(v, "after") != 0)
			return cmr_error_set(err, CMR_EINVAL,
			                     "fault: when must be 'before' or "
			                     "'after', not '%s'",
			                     v);
		f->after = strcmp(v, "after") == 0;
		return 0;
	}
	if (strcmp(key, "state") == 0 && strcmp(v, "WARNING") != 0 &&
	    strcmp(v, "ERROR") != 0)
		return cmr_error_set(err, CMR_EINVAL,
		                     "fault: state must be WARNING or "
		                     "ERROR, not '%s'",
		                     v);
	field = string_field(f, key);
	if (!field)
		return cmr_error_set(err, CMR_EINVAL, "fault: unknown key '%s'",
		                     key);
	free(*field);
	*field = strdup(v);
	return *field ? 0 : cmr_error_set(err, CMR_ENOMEM, "out of memory");
}

/* Looks up a fault kind by name; false for an unknown name. */
static bool find_kind(const char *name, enum cmsim_fault_kind *out)
{
	bool known = false;
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(kind_names); i++)
		if (strcmp(kind_names[i].name, name) == 0) {
			*out = kind_names[i].kind;
			known = true;
		}
	return known;
}

/*
 * Parses the key=value list that follows the kind (p, which the parse
 * cuts up in place; NULL for none) into f.
 */
static int parse_keys(struct cmsim_fault *f, char *p, const char *spec,
                      int64_t now_ms, struct cmr_error *err)
{
	char *comma = NULL;
	int error;

	for (; p && *p; p = comma) {
		char *eq = strchr(p, '=');

		if (!eq)
			return cmr_error_set(err, CMR_EINVAL,
			                     "fault: expected key=value, got "
			                     "'%s' in '%s'",
			                     p, spec);
		*eq = '\0';
		if (strcmp(p, "message") == 0) {
			f->message = strdup(eq + 1);
			break;
		}
		comma = strchr(eq + 1, ',');
		if (comma)
			*comma++ = '\0';
		error = set_key(f, p, eq + 1, now_ms, err);
		if (error < 0)
			return error;
	}
	return 0;
}

/* The keys that some kinds cannot do without. */
static int check_needed(const struct cmsim_fault *f, struct cmr_error *err)
{
	if (f->kind == CMSIM_FAULT_SLOW && f->ms <= 0)
		return cmr_error_set(err, CMR_EINVAL,
		                     "fault: slow needs ms=MILLISECONDS");
	if (f->kind == CMSIM_FAULT_VALIDATION && !f->name)
		return cmr_error_set(err, CMR_EINVAL,
		                     "fault: validation needs name=");
	if (f->kind == CMSIM_FAULT_CONCURRENT_WRITE &&
	    (!f->name || (f->at_ms < 0 && f->after_n < 0)))
		return cmr_error_set(err, CMR_EINVAL,
		                     "fault: concurrent-write needs name= "
		                     "and at=SECONDS or after=REQUESTS");
	return 0;
}

int cmsim_fault_parse(struct cmsim_fault **out, const char *spec,
                      int64_t now_ms, struct cmr_error *err)
{
	struct cmsim_fault *f = calloc(1, sizeof(*f));
	char *copy = strdup(spec ? spec : "");
	char *comma;
	int error = CMR_ERROR;

	*out = NULL;
	if (!f || !copy) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	f->spec = strdup(spec ? spec : "");
	f->rate = 1.0;
	f->count = -1;
	f->at_ms = -1;
	f->after_n = -1;
	f->status = 503;
	comma = strchr(copy, ',');
	if (comma)
		*comma = '\0';
	if (!find_kind(copy, &f->kind)) {
		error = cmr_error_set(err, CMR_EINVAL,
		                      "fault: unknown kind '%s' in '%s'", copy,
		                      spec);
		goto done;
	}
	if (f->kind == CMSIM_FAULT_UNAUTHORIZED ||
	    f->kind == CMSIM_FAULT_COMMAND_FAIL)
		f->count = 1;
	error = parse_keys(f, comma ? comma + 1 : NULL, spec, now_ms, err);
	if (error < 0)
		goto done;
	error = check_needed(f, err);
	if (error < 0)
		goto done;
	*out = f;
	f = NULL;
	error = 0;
done:
	cmsim_fault_free(f);
	free(copy);
	return error;
}

bool cmsim_fault_matches(const struct cmsim_fault *f, const char *method,
                         const char *subpath)
{
	if (f->count == 0)
		return false;
	if (f->method && !cmsim_streq_ci(f->method, method))
		return false;
	if (f->path && strncmp(subpath, f->path, strlen(f->path)) != 0)
		return false;
	return true;
}

static void fire_write(struct cmsim *sim, struct cmsim_fault *f)
{
	struct cmsim_scope sc;
	struct json_object *cluster = NULL;
	struct json_object *svc = NULL;

	memset(&sc, 0, sizeof(sc));
	if (!f->cluster && !f->service) {
		sc.kind = CMSIM_SCOPE_CM;
		sc.owner = cmsim_jget(sim->root, "managerSettings");
		sc.svc_type = "CM";
		sc.scope = "CM";
	} else {
		if (f->cluster) {
			cluster = cmsim_cluster(sim, f->cluster);
			svc = cmsim_service(cluster, f->service);
		} else if (strcmp(f->service, "mgmt") == 0) {
			svc = cmsim_mgmt(sim);
		}
		if (!svc)
			return;
		sc.cluster = cluster;
		sc.service = svc;
		sc.svc_type = cmsim_jstr(svc, "type");
		sc.kind = CMSIM_SCOPE_SERVICE;
		sc.owner = svc;
		sc.scope = "SERVICE";
		if (f->group) {
			sc.kind = CMSIM_SCOPE_RCG;
			sc.owner = cmsim_rcg(svc, f->group);
			sc.scope = cmsim_jstr(sc.owner, "roleType");
		} else if (f->role) {
			sc.kind = CMSIM_SCOPE_ROLE;
			sc.owner = cmsim_role(svc, f->role);
			sc.scope = cmsim_jstr(sc.owner, "type");
		}
	}
	if (!sc.owner || !sc.scope || !sc.svc_type)
		return;
	cmsim_config_set(sim, &sc, f->name, f->value);
}

void cmsim_faults_tick(struct cmsim *sim, int64_t now)
{
	size_t i;

	for (i = 0; i < sim->faults.len; i++) {
		struct cmsim_fault *f = sim->faults.items[i];

		if (f->kind != CMSIM_FAULT_CONCURRENT_WRITE || f->fired)
			continue;
		if ((f->at_ms >= 0 && now >= f->at_ms) ||
		    (f->after_n >= 0 && sim->requests_seen >= f->after_n)) {
			f->fired = true;
			fire_write(sim, f);
		}
	}
}

int cmsim_faults_add(struct cmsim *sim, const char *spec, struct cmr_error *err)
{
	struct cmsim_fault *f = NULL;
	struct cmsim_fault_list *l = &sim->faults;
	int rc = cmsim_fault_parse(&f, spec, cmsim_now(sim), err);

	if (rc < 0)
		return rc;
	assert(f != NULL); /* cmsim_fault_parse sets it when it succeeds */
	/* after=N counts from the moment the fault is installed. */
	if (f->after_n >= 0)
		f->after_n += sim->requests_seen;
	if (l->len == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 8;
		/* NOLINTNEXTLINE(bugprone-sizeof-expression): item pointers */
		struct cmsim_fault **p = realloc(l->items, na * sizeof(*p));

		if (!p) {
			cmsim_fault_free(f);
			return cmr_error_set(err, CMR_ENOMEM, "out of memory");
		}
		l->items = p;
		l->alloc = na;
	}
	l->items[l->len++] = f;
	return 0;
}
