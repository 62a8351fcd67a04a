/*
 * settings.c -- the settings phase: one PUT per scope, then read back.
 *
 * Each scope of the plan is one PUT of CM's ApiConfigList (lib/api
 * encodes it), carrying CM's audit message.  CM merges: keys not in the
 * body keep their values; a null value resets a key to its default.  The
 * scope is then read again and compared with what was written, because a
 * write CM accepted but did not keep (a value it normalised away, a
 * plugin that vetoed it) must not pass for done.
 *
 * Secrets: a sensitive change is written with the value its reference
 * ({env: NAME} / {file: PATH}, carried typed by the plan) resolves to now.
 * The resolved values live in buffers that are wiped as soon as the
 * scope's PUT and its records are done; they never reach an event, the
 * journal or a log.  Each secret written gets its record tag
 * (cmrecon.secret.<H>: an HMAC of the value under CMRECON_HMAC_KEY) so
 * that later plans can tell whether it changed.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/api.h"
#include "cmr/api_write.h"
#include "cmr/buf.h"
#include "cmr/hmac.h"

#include "exec_int.h"

/* A change the plan writes (an unverifiable secret is only a note). */
static bool written(const struct cmr_change *ch)
{
	return ch->secret != CMR_SECRET_UNVERIFIED;
}

/* A secret whose value is written (not reset). */
static bool secret_value(const struct cmr_change *ch)
{
	return written(ch) && ch->sensitive && ch->op != CMR_OP_RESET;
}

/* Wipes and releases a buffer that held secrets. */
static void wipe(struct cmr_buf *b)
{
	assert(b->ptr != NULL); /* a cmr_buf's ptr is never NULL (buf.h) */
	if (b->alloc)
		memset(b->ptr, 0, b->alloc);
	cmr_buf_release(b);
}

/*
 * One scope's write: its body, the resolved secrets (one buffer per
 * secret change, in the order of the changes; (pointer, length) each),
 * and how many settings it writes.
 */
struct scope_write {
	const struct cmr_scope_change *sc;
	struct cmr_buf body;
	struct cmr_buf *secrets; /* [sc->changes.len]; wiped */
	size_t n;                /* settings written */
	size_t nsecrets;         /* secret values among them */
	char target[512];        /* its label, for events */
};

static void scope_write_release(struct scope_write *sw)
{
	size_t i;

	wipe(&sw->body);
	for (i = 0; sw->secrets && i < sw->sc->changes.len; i++)
		wipe(&sw->secrets[i]);
	cmr_free(sw->secrets);
	sw->secrets = NULL;
}

/* Resolves the secret change ch writes into *val (wiped on failure). */
static int resolve_secret(struct cmr_buf *val, const struct cmr_exec__run *r,
                          const struct scope_write *sw,
                          const struct cmr_change *ch, struct cmr_error *err)
{
	const struct cmr_plan_options *po = r->a->opt->plan_opt;
	int error;

	if (!cmr_value_is_ref(&ch->secret_source) || !po || !po->resolve)
		return cmr_error_set(
		        err, CMR_EINVAL,
		        "secret '%s' of %s: no reference to resolve", ch->key,
		        sw->target);
	error = po->resolve(val, &ch->secret_source, po->resolve_ud, err);
	if (error < 0)
		wipe(val);
	return error;
}

/*
 * Builds the scope's body: every written change, secrets resolved now
 * into sw->secrets.  The caller releases sw (wiping the secrets).
 */
static int build_body(struct scope_write *sw, const struct cmr_exec__run *r,
                      struct cmr_error *err)
{
	const struct cmr_scope_change *sc = sw->sc;
	struct cmr_api_config_item *items = NULL;
	size_t i;
	int error = 0;

	sw->secrets = cmr_calloc(sc->changes.len + 1, sizeof(*sw->secrets));
	items = cmr_calloc(sc->changes.len + 1, sizeof(*items));
	if (!sw->secrets || !items) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	for (i = 0; i < sc->changes.len; i++)
		cmr_buf_init(&sw->secrets[i], 0);
	for (i = 0; i < sc->changes.len; i++) {
		const struct cmr_change *ch = sc->changes.items[i];
		struct cmr_api_config_item *it = &items[sw->n];

		if (!written(ch))
			continue;
		it->name = ch->key;
		it->value = ch->op == CMR_OP_RESET ? NULL : ch->new_value;
		if (secret_value(ch)) {
			error = resolve_secret(&sw->secrets[i], r, sw, ch, err);
			if (error < 0)
				goto done;
			it->value = sw->secrets[i].ptr;
			sw->nsecrets++;
		}
		sw->n++;
	}
	if (cmr_api_body_config(&sw->body, items, sw->n) < 0)
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
done:
	cmr_free(items);
	return error;
}

/* Compares what CM holds after the write with what was written. */
static int check_readback(const struct scope_write *sw, const char *what,
                          const struct cmr_buf *body, struct cmr_error *err)
{
	const struct cmr_scope_change *s = sw->sc;
	struct cmr_state *st = NULL;
	struct cmr_config *cfg;
	size_t i;
	int error;

	/* A scratch state; its CM config slot holds what was read. */
	if ((error = cmr_state_new(&st, CMR_STATE_LIVE, err)) < 0)
		return error;
	cfg = &st->manager.config;
	error = cmr_api_decode_config(st, cfg, NULL, NULL, what, body->ptr,
	                              body->len, err);
	for (i = 0; error == 0 && i < s->changes.len; i++) {
		const struct cmr_change *ch = s->changes.items[i];
		const struct cmr_config_entry *e =
		        cmr_config_find(cfg, ch->key);

		if (!written(ch))
			continue;
		if (ch->op == CMR_OP_RESET ? e == NULL
		    : ch->sensitive
		            ? e != NULL
		            : e && e->value.text && ch->new_value &&
		                      strcmp(e->value.text, ch->new_value) == 0)
			continue;
		error = cmr_error_set(
		        err, CMR_EAPI,
		        "CM did not keep the write of '%s' in %s: it holds "
		        "%s%s%s after the PUT was accepted",
		        ch->key, sw->target, e ? "\"" : "(unset)",
		        e ? (ch->sensitive ? "(sensitive)" : e->value.text)
		          : "",
		        e ? "\"" : "");
	}
	cmr_state_free(st);
	return error;
}

/* The cluster whose tags hold a scope's secret records: its own, or for
 * CM-level scopes the plan's first cluster. */
static const char *record_cluster(const struct cmr_exec__run *r,
                                  const struct cmr_scope_change *sc)
{
	const struct cmr_plan *p = r->a->plan;

	if (sc->scope.cluster)
		return sc->scope.cluster;
	return p->clusters.len ? p->clusters.items[0] : NULL;
}

/* The record tag of one secret written. */
static int record_secret(struct cmr_exec__run *r, const struct scope_write *sw,
                         const struct cmr_change *ch,
                         const struct cmr_buf *value, struct cmr_error *err)
{
	const struct cmr_plan_options *po = r->a->opt->plan_opt;
	struct cmr_buf key = CMR_BUF_INIT;
	struct cmr_buf name = CMR_BUF_INIT;
	struct cmr_buf rec = CMR_BUF_INIT;
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf body = CMR_BUF_INIT;
	struct cmr_http_response resp;
	struct cmr_api_tag tag;
	int error;

	cmr_http_response_init(&resp);
	if (cmr_scope_key(&key, &sw->sc->scope) < 0 ||
	    cmr_plan_secret_tag(&name, key.ptr, ch->key) < 0 ||
	    cmr_hmac_record(&rec, po->hmac_key, po->hmac_key_len, value->ptr,
	                    value->len) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM,
		                      "recording secret '%s': out of memory",
		                      ch->key);
		goto done;
	}
	tag.name = name.ptr;
	tag.value = rec.ptr;
	if (cmr_api_build_tags_path(&url, r->a->ver,
	                            record_cluster(r, sw->sc)) < 0 ||
	    cmr_api_body_tags(&body, &tag, 1) < 0) {
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	error = cmr_exec__call(r, "PUT", url.ptr, &body, 0, &resp, err);
	if (error == 0)
		r->rep->secret_records++;
done:
	cmr_http_response_release(&resp);
	cmr_buf_release(&key);
	cmr_buf_release(&name);
	cmr_buf_release(&rec);
	cmr_buf_release(&url);
	cmr_buf_release(&body);
	return error;
}

/* Records each secret written in the scope (cmrecon.secret.<H> tags). */
static int record_secrets(struct cmr_exec__run *r, const struct scope_write *sw,
                          struct cmr_error *err)
{
	const struct cmr_plan_options *po = r->a->opt->plan_opt;
	const struct cmr_scope_change *sc = sw->sc;
	size_t i;
	int error = 0;

	for (i = 0; i < sc->changes.len && error == 0; i++) {
		const struct cmr_change *ch = sc->changes.items[i];

		if (!secret_value(ch))
			continue;
		if (!po || !po->hmac_key || !record_cluster(r, sc) ||
		    r->a->ver < CMR_API_VERSION_TAGS) {
			cmr_exec__remit(
			        r, CMR_EXEC_EV_WARN, "settings", ch->key, -1,
			        "secret '%s' written but not recorded (%s): "
			        "later plans cannot tell whether it changed",
			        ch->key,
			        !po || !po->hmac_key ? "CMRECON_HMAC_KEY is "
			                               "not set"
			                             : "no entity tags");
			continue;
		}
		error = record_secret(r, sw, ch, &sw->secrets[i], err);
	}
	return error;
}

/* Reads the scope back (GET, into resp) and compares. */
static int read_back(struct cmr_exec__run *r, const struct scope_write *sw,
                     struct cmr_buf *url, struct cmr_http_response *resp,
                     struct cmr_error *err)
{
	int error;

	cmr_buf_reset(url);
	if (cmr_api_build_config(url, r->a->ver, &sw->sc->scope, NULL) < 0)
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if ((error = cmr_exec__call(r, "GET", url->ptr, NULL, 0, resp, err)) <
	    0)
		return error;
	return check_readback(sw, url->ptr, &resp->body, err);
}

/*
 * Writes one scope's changes (nothing when none is written), reads them
 * back and records its secrets.
 */
static int write_scope(struct cmr_exec__run *r,
                       const struct cmr_scope_change *sc,
                       struct cmr_http_response *resp, struct cmr_error *err)
{
	struct cmr_buf url = CMR_BUF_INIT;
	struct cmr_buf label = CMR_BUF_INIT;
	struct scope_write sw;
	int error;

	memset(&sw, 0, sizeof(sw));
	sw.sc = sc;
	cmr_buf_init(&sw.body, 0);
	cmr_scope_label(&label, &sc->scope);
	snprintf(sw.target, sizeof(sw.target), "%s",
	         cmr_buf_error(&label) ? "?" : label.ptr);
	cmr_buf_release(&label);
	error = build_body(&sw, r, err);
	if (error == 0 && sw.n == 0)
		goto done;
	if (error == 0 && cmr_api_build_config_put(&url, r->a->ver, &sc->scope,
	                                           r->a->message) < 0)
		error = cmr_error_set(err, CMR_ENOMEM, "out of memory");
	if (error == 0) {
		cmr_exec__remit(r, CMR_EXEC_EV_STEP, "settings", sw.target, -1,
		                "writing %zu setting%s", sw.n,
		                sw.n == 1 ? "" : "s");
		error = cmr_exec__call(r, "PUT", url.ptr, &sw.body, 0, resp,
		                       err);
		r->rep->writes++;
	}
	if (error == 0)
		error = read_back(r, &sw, &url, resp, err);
	if (error == 0) {
		r->rep->settings += sw.n;
		r->rep->secrets += sw.nsecrets;
		error = record_secrets(r, &sw, err);
	}
	if (error == 0)
		cmr_exec__remit(r, CMR_EXEC_EV_DONE, "settings", sw.target, -1,
		                "%zu setting%s written and read back", sw.n,
		                sw.n == 1 ? "" : "s");
	else
		cmr_exec__remit(r, CMR_EXEC_EV_FAIL, "settings", sw.target, -1,
		                "%s", err ? err->msg : "failed");
done:
	scope_write_release(&sw);
	cmr_buf_release(&url);
	return error;
}

int cmr_exec__write_scopes(struct cmr_exec__run *r, unsigned kinds,
                           struct cmr_error *err)
{
	const struct cmr_plan *p = r->a->plan;
	struct cmr_http_response resp;
	size_t i;
	int error = 0;

	cmr_http_response_init(&resp);
	for (i = 0; i < p->scopes.len && error == 0; i++) {
		const struct cmr_scope_change *s = p->scopes.items[i];

		if (!(kinds & CMR_EXEC__KIND(s->scope.kind)) ||
		    (s->scope.cluster &&
		     !cmr_exec__in_lane(r, s->scope.cluster)))
			continue;
		if ((error = cmr_exec__stop_check(r, err)) < 0)
			break;
		error = write_scope(r, s, &resp, err);
	}
	cmr_http_response_release(&resp);
	return error;
}
