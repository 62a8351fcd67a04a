/*
 * lock.c -- the apply lock, kept as entity tags on the plan's clusters
 * (DESIGN.md "State kept in CM itself").
 *
 * Tags have no compare-and-swap, so the lock is "write, then look": add
 * `cmrecon.lock.<ID>` to every cluster of the plan, read each cluster's
 * tags back, and proceed only if our tag is the earliest unexpired lock on
 * every one of them (ties broken by ID).  Two applies that write at the
 * same moment both see both tags and agree on the winner; the loser deletes
 * its own tags and reports the holder.  The value is
 *
 *     holder=USER@HOST;host=HOST;plan=ID;created=ISO;expires=ISO
 *
 * with ISO-8601 UTC times (with milliseconds) that sort as text.  An
 * expired lock is ignored; `expires` is pushed forward during long waits
 * (lock_renew).  Below API v41 there are no tags: the lock then covers
 * nothing and a warning says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/hmac.h"

#include "exec_int.h"

#define LOCK_PREFIX    "cmrecon.lock."
#define DEFAULT_TTL_MS ((int64_t)15 * 60 * 1000)

void iso_time(char *out, size_t cap, int64_t wall_ms)
{
	time_t t = (time_t)(wall_ms / 1000);
	struct tm tm;
	char base[32];

	memset(&tm, 0, sizeof(tm));
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, cap, "%s.%03dZ", base, (int)(wall_ms % 1000));
}

static int64_t wall(struct run *r)
{
	return r->clock->wall_ms(r->clock);
}

static int64_t ttl(const struct run *r)
{
	return r->opt->lock_ttl_ms > 0 ? r->opt->lock_ttl_ms : DEFAULT_TTL_MS;
}

/* Finds "key=" in a lock value and copies what follows up to ';'. */
static void field(char *out, size_t cap, const char *value, const char *key)
{
	size_t klen = strlen(key);
	const char *p = value;

	out[0] = '\0';
	while (p && *p) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
			const char *v = p + klen + 1;
			size_t n = strcspn(v, ";");

			snprintf(out, cap, "%.*s", (int)n, v);
			return;
		}
		p = strchr(p, ';');
		if (p)
			p++;
	}
}

/* How long a new lock tag settles before the tags are read back (at most
 * a quarter of the lock's lifetime, so a short-lived lock stays valid). */
#define LOCK_SETTLE_MS 500

static void make_value(struct run *r, char *out, size_t cap)
{
	char created[40];
	char expires[40];
	int64_t now = wall(r);

	iso_time(created, sizeof(created), now);
	iso_time(expires, sizeof(expires), now + ttl(r));
	snprintf(out, cap, "holder=%s;host=%s;plan=%s;created=%s;expires=%s",
	         r->opt->holder ? r->opt->holder : "cmrecon",
	         r->opt->host ? r->opt->host : "unknown",
	         r->plan->plan_id ? r->plan->plan_id : "-", created, expires);
	r->lk->renew_at = now + ttl(r) / 3;
}

/* PUT or DELETE of one tag on one cluster. */
static int tag_call(struct run *r, const char *method, const char *cluster,
                    const char *name, const char *value, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_http_request req;
	struct cmr_http_response resp;
	struct cmr_api_tag tag = { name, value };
	int error;

	cmr_http_response_init(&resp);
	memset(&req, 0, sizeof(req));
	if (cmr_api_build_tags_path(&url, r->ver, cluster) < 0 ||
	    cmr_api_body_tags(&body, &tag, 1) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	req.method = method;
	req.url = url.ptr;
	req.body = body.ptr;
	req.body_len = body.len;
	(void)cmr_client_send_all(r->c, &req, &resp, 1, NULL);
	error = cmr_api_check_answer(&req, &resp, err);
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	cmr_buf_release(&body);
	return error;
}

/* Reads a cluster's tags into a scratch state's cluster. */
static int read_tags(struct cmr_state **out, struct cmr_cluster **outc,
                     struct run *r, const char *cluster, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_request req;
	struct cmr_http_response resp;
	struct cmr_state *st = NULL;
	struct cmr_cluster *c = NULL;
	int error;

	cmr_http_response_init(&resp);
	memset(&req, 0, sizeof(req));
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0 ||
	    (error = cmr_state_add_cluster(&c, st, cluster, err)) < 0)
		goto done;
	if (cmr_api_build_tags(&url, r->ver, cluster, CMR_API_TAGS_PAGE, 0) <
	    0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	req.method = "GET";
	req.url = url.ptr;
	(void)cmr_client_send_all(r->c, &req, &resp, 1, NULL);
	if ((error = cmr_api_check_answer(&req, &resp, err)) < 0)
		goto done;
	error = cmr_api_decode_tags(NULL, st, c, url.ptr, resp.body.ptr,
	                            resp.body.len, err);
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	if (error < 0) {
		cmr_state_free(st);
		st = NULL;
		c = NULL;
	}
	*out = st;
	*outc = c;
	return error;
}

/*
 * The winner among a cluster's unexpired locks: earliest `created`, then
 * smallest name.  Copies the winner's tag name and value.
 */
static void winner(char *name, size_t ncap, char *value, size_t vcap,
                   const struct cmr_cluster *c, const char *now_iso)
{
	char best_created[64] = "";
	char created[64];
	char expires[64];
	size_t i;

	name[0] = value[0] = '\0';
	for (i = 0; i < c->tags.len; i++) {
		const struct cmr_config_entry *e = c->tags.items[i];
		const char *v = e->value.text ? e->value.text : "";

		if (strncmp(e->name, LOCK_PREFIX, strlen(LOCK_PREFIX)) != 0)
			continue;
		field(expires, sizeof(expires), v, "expires");
		field(created, sizeof(created), v, "created");
		if (expires[0] && strcmp(expires, now_iso) <= 0)
			continue; /* expired: ignored */
		if (name[0] && (strcmp(created, best_created) > 0 ||
		                (strcmp(created, best_created) == 0 &&
		                 strcmp(e->name, name) > 0)))
			continue;
		snprintf(best_created, sizeof(best_created), "%s", created);
		snprintf(name, ncap, "%s", e->name);
		snprintf(value, vcap, "%s", v);
	}
}

/*
 * Below API v41 there are no tags: the lock falls back to a file in the
 * local state directory, one per CM URL, held with a POSIX record lock for
 * as long as the apply runs (the kernel drops it if the process dies).  It
 * only keeps applies on this machine apart, and says so.
 */
static int local_lock(struct run *r, struct cmr_error *err)
{
	struct cmr_buf path = CMR_BUF_INIT;
	struct cmr_buf hex = CMR_BUF_INIT;
	const char *url = r->plan->cm_url ? r->plan->cm_url : "";
	struct flock fl;
	char holder[512];
	ssize_t n;
	int fd = -1;
	int error = 0;

	if (cmr_exec_journal_dir(&path, NULL) < 0 ||
	    cmr_sha256_hex(&hex, url, strlen(url)) < 0) {
		run_emit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
		         "API v%u has no entity tags and there is no local "
		         "state directory: no lock is taken",
		         r->ver);
		goto done;
	}
	cmr_buf_addf(&path, "/lock-%.16s", hex.ptr);
	if (cmr_buf_error(&path)) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		run_emit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
		         "cannot open the local lock '%s': %s; no lock is "
		         "taken",
		         path.ptr, strerror(errno));
		goto done;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) < 0) {
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		error = cmr_error_set(err, CMR_ECONFLICT,
		                      "another apply on this machine holds the "
		                      "lock '%s': %s",
		                      path.ptr, holder[0] ? holder : "unknown");
		goto done;
	}
	make_value(r, r->lk->value, sizeof(r->lk->value));
	if (ftruncate(fd, 0) == 0 &&
	    pwrite(fd, r->lk->value, strlen(r->lk->value), 0) < 0)
		cmr_log(r->opt->logger, CMR_LOG_DEBUG, "exec",
		        "cannot write the local lock's holder");
	r->lk->local_fd = fd;
	fd = -1;
	run_emit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
	         "API v%u has no entity tags: the lock is a local file and "
	         "covers this machine only",
	         r->ver);
done:
	if (fd >= 0)
		close(fd);
	cmr_buf_release(&path);
	cmr_buf_release(&hex);
	return error;
}

int lock_acquire(struct run *r, struct cmr_error *err)
{
	const struct cmr_plan *p = r->plan;
	char now_iso[40];
	char wname[64];
	char wvalue[512];
	char holder[256];
	char created[64];
	unsigned char rnd[8];
	size_t i;
	size_t k;
	int error = 0;

	if (p->clusters.len == 0) {
		run_emit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
		         "the plan names no cluster: no lock is taken");
		return 0;
	}
	if (r->ver < CMR_API_VERSION_TAGS)
		return local_lock(r, err);
	for (k = 0; k < sizeof(rnd); k++)
		rnd[k] = (unsigned char)cmr_jitter_rand(256);
	snprintf(r->rep->lock_id, sizeof(r->rep->lock_id),
	         "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
	         rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	snprintf(r->lk->name, sizeof(r->lk->name), LOCK_PREFIX "%s",
	         r->rep->lock_id);
	make_value(r, r->lk->value, sizeof(r->lk->value));
	r->lk->locked = true; /* from here on, release deletes what was put */
	for (i = 0; i < p->clusters.len; i++) {
		error = tag_call(r, "PUT", p->clusters.items[i], r->lk->name,
		                 r->lk->value, err);
		if (error < 0)
			return error;
	}
	/*
	 * Settle before looking.  Without it, an apply that wrote its tag
	 * and read at once sees only itself and proceeds, while a rival
	 * created a moment earlier whose PUT landed a moment later also
	 * finds itself earliest: both run.  After the pause each sees every
	 * tag written around the same time and they agree on one winner.
	 */
	r->clock->sleep_ms(r->clock, ttl(r) / 4 < LOCK_SETTLE_MS
	                                     ? ttl(r) / 4
	                                     : LOCK_SETTLE_MS);
	iso_time(now_iso, sizeof(now_iso), wall(r));
	for (i = 0; i < p->clusters.len; i++) {
		struct cmr_state *st = NULL;
		struct cmr_cluster *c = NULL;

		error = read_tags(&st, &c, r, p->clusters.items[i], err);
		if (error < 0)
			return error;
		winner(wname, sizeof(wname), wvalue, sizeof(wvalue), c,
		       now_iso);
		cmr_state_free(st);
		if (wname[0] && strcmp(wname, r->lk->name) != 0) {
			field(holder, sizeof(holder), wvalue, "holder");
			field(created, sizeof(created), wvalue, "created");
			return cmr_error_set(
			        err, CMR_ECONFLICT,
			        "cluster '%s' is locked by another apply: %s "
			        "(lock %s, since %s); if that apply is gone, "
			        "run `cmrecon unlock '%s' %s`",
			        p->clusters.items[i],
			        holder[0] ? holder : "unknown",
			        wname + strlen(LOCK_PREFIX), created,
			        p->clusters.items[i],
			        wname + strlen(LOCK_PREFIX));
		}
	}
	run_emit(r, CMR_EXEC_EV_DONE, "lock", "", -1,
	         "lock %s taken on %zu "
	         "cluster%s",
	         r->rep->lock_id, p->clusters.len,
	         p->clusters.len == 1 ? "" : "s");
	return 0;
}

void lock_renew(struct run *r)
{
	char old[512];
	size_t i;

	/* Lanes share the lock: one renews it, through its own client. */
	lanes_lock(r);
	if (!r->lk->locked || wall(r) < r->lk->renew_at) {
		lanes_unlock(r);
		return;
	}
	snprintf(old, sizeof(old), "%s", r->lk->value);
	make_value(r, r->lk->value, sizeof(r->lk->value));
	for (i = 0; i < r->plan->clusters.len; i++) {
		const char *cl = r->plan->clusters.items[i];

		/* PUT replaces the value where CM keeps one value per name;
		 * where it keeps several, the old one is deleted. */
		if (tag_call(r, "PUT", cl, r->lk->name, r->lk->value, NULL) <
		    0) {
			cmr_log(r->opt->logger, CMR_LOG_WARN, "exec",
			        "could not renew the lock on '%s'", cl);
			continue;
		}
		if (strcmp(old, r->lk->value) != 0)
			(void)tag_call(r, "DELETE", cl, r->lk->name, old, NULL);
	}
	lanes_unlock(r);
}

void lock_release(struct run *r)
{
	size_t i;

	if (r->lk->local_fd >= 0) {
		close(r->lk->local_fd); /* drops the record lock */
		r->lk->local_fd = -1;
	}
	if (!r->lk->locked)
		return;
	for (i = 0; i < r->plan->clusters.len; i++) {
		struct cmr_error e = CMR_ERROR_INIT;

		if (tag_call(r, "DELETE", r->plan->clusters.items[i],
		             r->lk->name, NULL, &e) < 0)
			run_emit(r, CMR_EXEC_EV_WARN, "lock",
			         r->plan->clusters.items[i], -1,
			         "could not release lock %s: %s; run "
			         "`cmrecon unlock` once it is reachable",
			         r->rep->lock_id, e.msg);
	}
	r->lk->locked = false;
}

int cmr_exec_unlock(struct cmr_client *c, const char *cluster, const char *id,
                    struct cmr_error *err)
{
	struct run r;
	struct cmr_exec_options opt;
	struct cmr_exec_report rep;
	struct cmr_state *st = NULL;
	struct cmr_cluster *lc = NULL;
	char name[128];
	int error;

	memset(&r, 0, sizeof(r));
	memset(&opt, 0, sizeof(opt));
	memset(&rep, 0, sizeof(rep));
	r.lk = &r.lk_own;
	r.lk->local_fd = -1;
	r.c = c;
	r.opt = &opt;
	r.rep = &rep;
	r.clock = cmr_clock_system();
	if ((error = cmr_client_negotiate(c, err)) < 0)
		return error;
	r.ver = cmr_client_api_version(c);
	if (r.ver < CMR_API_VERSION_TAGS)
		return cmr_error_set(err, CMR_EINVAL,
		                     "API v%u has no entity tags, so there is "
		                     "no lock to break",
		                     r.ver);
	snprintf(name, sizeof(name), LOCK_PREFIX "%s", id);
	if ((error = read_tags(&st, &lc, &r, cluster, err)) < 0)
		return error;
	if (!cmr_config_find(&lc->tags, name)) {
		cmr_state_free(st);
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "cluster '%s' has no lock '%s'", cluster,
		                     id);
	}
	cmr_state_free(st);
	return tag_call(&r, "DELETE", cluster, name, NULL, err);
}
