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
 * (cmr_exec__lock_renew, from whichever lane is waiting: the lock has its
 * own mutex).  Below API v41 there are no tags: the lock is then a local
 * file, and says that it covers this machine only.
 *
 * Every request goes through call.c's one path to CM.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/hmac.h"

#include "exec_int.h"

#define LOCK_PREFIX    "cmrecon.lock."
#define DEFAULT_TTL_MS ((int64_t)15 * 60 * 1000)

/* How long a new lock tag settles before the tags are read back (at most
 * a quarter of the lock's lifetime, so a short-lived lock stays valid). */
#define LOCK_SETTLE_MS 500

int cmr_exec__lock_init(struct cmr_exec__lock *lk, const struct cmr_plan *plan,
                        const struct cmr_exec_options *opt,
                        struct cmr_error *err)
{
	memset(lk, 0, sizeof(*lk));
	lk->local_fd = -1;
	lk->plan = plan;
	lk->ttl_ms = opt->lock_ttl_ms > 0 ? opt->lock_ttl_ms : DEFAULT_TTL_MS;
	lk->holder = opt->holder ? opt->holder : "cmrecon";
	lk->host = opt->host ? opt->host : "unknown";
	if (pthread_mutex_init(&lk->mu, NULL) != 0)
		return cmr_error_set(err, CMR_ENOMEM,
		                     "cannot make a mutex for the lock");
	return 0;
}

void cmr_exec__lock_free(struct cmr_exec__lock *lk)
{
	if (lk->local_fd >= 0)
		close(lk->local_fd);
	lk->local_fd = -1;
	pthread_mutex_destroy(&lk->mu);
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

/* A fresh value (created and expires from now); sets renew_at. */
static void make_value(struct cmr_exec__lock *lk, int64_t now)
{
	char created[40];
	char expires[40];

	cmr_exec__iso_time(created, sizeof(created), now);
	cmr_exec__iso_time(expires, sizeof(expires), now + lk->ttl_ms);
	snprintf(lk->value, sizeof(lk->value),
	         "holder=%s;host=%s;plan=%s;created=%s;expires=%s", lk->holder,
	         lk->host, lk->plan->plan_id ? lk->plan->plan_id : "-", created,
	         expires);
	lk->renew_at = now + lk->ttl_ms / 3;
}

/* PUT or DELETE of one tag on one cluster. */
static int tag_call(struct cmr_client *c, unsigned ver, const char *method,
                    const char *cluster, const char *name, const char *value,
                    struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_tag tag = { name, value };
	int error;

	cmr_http_response_init(&resp);
	if (cmr_api_build_tags_path(&url, ver, cluster) < 0 ||
	    cmr_api_body_tags(&body, &tag, 1) < 0)
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	else
		error = cmr_exec__send(c, method, url.ptr, &body, 0, &resp,
		                       err);
	cmr_http_response_release(&resp);
	cmr_buf_release(&url);
	cmr_buf_release(&body);
	return error;
}

/* Reads a cluster's tags into a scratch state's cluster. */
static int read_tags(struct cmr_state **out, struct cmr_cluster **outc,
                     struct cmr_client *cl, unsigned ver, const char *cluster,
                     struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_state *st = NULL;
	struct cmr_cluster *c = NULL;
	int error;

	cmr_http_response_init(&resp);
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0 ||
	    (error = cmr_state_add_cluster(&c, st, cluster, err)) < 0)
		goto done;
	if (cmr_api_build_tags(&url, ver, cluster, CMR_API_TAGS_PAGE, 0) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = cmr_exec__send(cl, "GET", url.ptr, NULL, 0, &resp, err)) <
	    0)
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
static int local_lock(struct cmr_exec__lock *lk, struct cmr_exec__run *r,
                      struct cmr_error *err)
{
	struct cmr_buf path = CMR_BUF_INIT;
	struct cmr_buf hex = CMR_BUF_INIT;
	const char *url = lk->plan->cm_url ? lk->plan->cm_url : "";
	unsigned ver = r->a->ver;
	struct flock fl;
	char holder[512];
	ssize_t n;
	int fd = -1;
	int error = 0;

	if (cmr_exec_journal_dir(&path, NULL) < 0 ||
	    cmr_sha256_hex(&hex, url, strlen(url)) < 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
		                "API v%u has no entity tags and there is no "
		                "local state directory: no lock is taken",
		                ver);
		goto done;
	}
	cmr_buf_addf(&path, "/lock-%.16s", hex.ptr);
	if (cmr_buf_error(&path)) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	fd = open(path.ptr, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
		                "cannot open the local lock '%s': %s; no lock "
		                "is taken",
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
	make_value(lk, r->clock->wall_ms(r->clock));
	if (ftruncate(fd, 0) == 0 &&
	    pwrite(fd, lk->value, strlen(lk->value), 0) < 0)
		cmr_log(r->a->opt->logger, CMR_LOG_DEBUG, "exec",
		        "cannot write the local lock's holder");
	lk->local_fd = fd;
	fd = -1;
	cmr_exec__remit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
	                "API v%u has no entity tags: the lock is a local file "
	                "and covers this machine only",
	                ver);
done:
	if (fd >= 0)
		close(fd);
	cmr_buf_release(&path);
	cmr_buf_release(&hex);
	return error;
}

/* Looks at one cluster's tags: 0 when our lock wins there, else
 * CMR_ECONFLICT naming the holder. */
static int check_cluster(struct cmr_exec__lock *lk, struct cmr_exec__run *r,
                         const char *cluster, const char *now_iso,
                         struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	struct cmr_cluster *c = NULL;
	char wname[64];
	char wvalue[512];
	char holder[256];
	char created[64];
	int error;

	error = read_tags(&st, &c, r->c, r->a->ver, cluster, err);
	if (error < 0)
		return error;
	winner(wname, sizeof(wname), wvalue, sizeof(wvalue), c, now_iso);
	cmr_state_free(st);
	if (!wname[0] || strcmp(wname, lk->name) == 0)
		return 0;
	field(holder, sizeof(holder), wvalue, "holder");
	field(created, sizeof(created), wvalue, "created");
	return cmr_error_set(err, CMR_ECONFLICT,
	                     "cluster '%s' is locked by another apply: %s "
	                     "(lock %s, since %s); if that apply is gone, "
	                     "run `cmrecon unlock '%s' %s`",
	                     cluster, holder[0] ? holder : "unknown",
	                     wname + strlen(LOCK_PREFIX), created, cluster,
	                     wname + strlen(LOCK_PREFIX));
}

int cmr_exec__lock_acquire(struct cmr_exec__lock *lk, struct cmr_exec__run *r,
                           struct cmr_error *err)
{
	const struct cmr_plan *p = lk->plan;
	char now_iso[40];
	unsigned char rnd[8];
	int64_t settle;
	size_t i;
	size_t k;
	int error = 0;

	if (p->clusters.len == 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_WARN, "lock", "", -1,
		                "the plan names no cluster: no lock is taken");
		return 0;
	}
	if (r->a->ver < CMR_API_VERSION_TAGS)
		return local_lock(lk, r, err);
	for (k = 0; k < sizeof(rnd); k++)
		rnd[k] = (unsigned char)cmr_jitter_rand(256);
	snprintf(lk->id, sizeof(lk->id), "%02x%02x%02x%02x%02x%02x%02x%02x",
	         rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	         rnd[7]);
	snprintf(lk->name, sizeof(lk->name), LOCK_PREFIX "%s", lk->id);
	make_value(lk, r->clock->wall_ms(r->clock));
	lk->locked = true; /* from here on, release deletes what was put */
	for (i = 0; i < p->clusters.len; i++) {
		error = tag_call(r->c, r->a->ver, "PUT", p->clusters.items[i],
		                 lk->name, lk->value, err);
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
	settle = lk->ttl_ms / 4 < LOCK_SETTLE_MS ? lk->ttl_ms / 4
	                                         : LOCK_SETTLE_MS;
	r->clock->sleep_ms(r->clock, settle);
	cmr_exec__iso_time(now_iso, sizeof(now_iso),
	                   r->clock->wall_ms(r->clock));
	for (i = 0; i < p->clusters.len; i++)
		if ((error = check_cluster(lk, r, p->clusters.items[i], now_iso,
		                           err)) < 0)
			return error;
	cmr_exec__remit(r, CMR_EXEC_EV_DONE, "lock", "", -1,
	                "lock %s taken on %zu cluster%s", lk->id,
	                p->clusters.len, p->clusters.len == 1 ? "" : "s");
	return 0;
}

void cmr_exec__lock_renew(struct cmr_exec__lock *lk, struct cmr_exec__run *r)
{
	char old[512];
	size_t i;
	int64_t now = r->clock->wall_ms(r->clock);

	/* Lanes share the lock: one renews it, through its own client. */
	pthread_mutex_lock(&lk->mu);
	if (!lk->locked || now < lk->renew_at) {
		pthread_mutex_unlock(&lk->mu);
		return;
	}
	snprintf(old, sizeof(old), "%s", lk->value);
	make_value(lk, now);
	for (i = 0; i < lk->plan->clusters.len; i++) {
		const char *cl = lk->plan->clusters.items[i];

		/* PUT replaces the value where CM keeps one value per name;
		 * where it keeps several, the old one is deleted. */
		if (tag_call(r->c, r->a->ver, "PUT", cl, lk->name, lk->value,
		             NULL) < 0) {
			cmr_log(r->a->opt->logger, CMR_LOG_WARN, "exec",
			        "could not renew the lock on '%s'", cl);
			continue;
		}
		if (strcmp(old, lk->value) != 0)
			(void)tag_call(r->c, r->a->ver, "DELETE", cl, lk->name,
			               old, NULL);
	}
	pthread_mutex_unlock(&lk->mu);
}

void cmr_exec__lock_release(struct cmr_exec__lock *lk, struct cmr_exec__run *r)
{
	size_t i;

	pthread_mutex_lock(&lk->mu);
	if (lk->local_fd >= 0) {
		close(lk->local_fd); /* drops the record lock */
		lk->local_fd = -1;
	}
	for (i = 0; lk->locked && i < lk->plan->clusters.len; i++) {
		struct cmr_error e = CMR_ERROR_INIT;
		const char *cl = lk->plan->clusters.items[i];

		if (tag_call(r->c, r->a->ver, "DELETE", cl, lk->name, NULL,
		             &e) < 0)
			cmr_exec__remit(r, CMR_EXEC_EV_WARN, "lock", cl, -1,
			                "could not release lock %s: %s; run "
			                "`cmrecon unlock` once it is reachable",
			                lk->id, e.msg);
	}
	lk->locked = false;
	pthread_mutex_unlock(&lk->mu);
}

int cmr_exec_unlock(struct cmr_client *c, const char *cluster, const char *id,
                    struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	struct cmr_cluster *lc = NULL;
	char name[128];
	unsigned ver;
	int error;

	if ((error = cmr_client_negotiate(c, err)) < 0)
		return error;
	ver = cmr_client_api_version(c);
	if (ver < CMR_API_VERSION_TAGS)
		return cmr_error_set(err, CMR_EINVAL,
		                     "API v%u has no entity tags, so there is "
		                     "no lock to break",
		                     ver);
	snprintf(name, sizeof(name), LOCK_PREFIX "%s", id);
	if ((error = read_tags(&st, &lc, c, ver, cluster, err)) < 0)
		return error;
	if (!cmr_config_find(&lc->tags, name)) {
		cmr_state_free(st);
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "cluster '%s' has no lock '%s'", cluster,
		                     id);
	}
	cmr_state_free(st);
	return tag_call(c, ver, "DELETE", cluster, name, NULL, err);
}
