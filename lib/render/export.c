/*
 * export.c -- a live model written as a desired-state file.
 *
 * The contract is the round trip: what this writes, cmrecon reads back as
 * the same values, so `plan --detailed-exitcode` on a fresh export against
 * the same CM finds nothing to change.  Two things make that hold.
 *
 * Scalars.  cmrecon keeps a plain scalar's text (022 stays "022"), except
 * that true/false in any case become "true"/"false", null/~ reset and an
 * empty plain value is an error.  So a value is written plain only when
 * YAML would hand the loader exactly its bytes as a plain scalar: no
 * leading indicator, no ": " or " #", no surrounding spaces, no line
 * breaks, nothing null- or boolean-like in another spelling.  Otherwise
 * single quotes (only '' needs escaping), double quotes when there are
 * characters that must be escaped (control characters, \r, the Unicode
 * line breaks NEL/LS/PS that YAML would fold), and literal block scalars
 * for multi-line text, whose chomping indicator (- none, clip one, + keep
 * all trailing newlines) and indentation indicator (when the text starts
 * with a space or an empty line) are chosen so the bytes survive.
 *
 * Secrets.  CM never gives the value of a sensitive setting (it answers
 * REDACTED), and a secret must never be written anyway: each becomes an
 * {env: NAME} reference, NAME generated from the scope and key and made
 * unique within the file, with a comment and a list in the header of what
 * to set.
 *
 * Everything is emitted in the model's order, which is sorted by name.
 */
#include "cmr/export.h"

#include <stdint.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/suggest.h"
#include "cmr/vec.h"

/* ======================================================================
 * UTF-8 and character classes
 */

/*
 * Decodes the code point at s (len bytes left) into *cp; returns its
 * length, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and values above U+10FFFF included).
 */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	size_t i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		c = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		c = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		c = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/*
 * Characters YAML does not take literally in a plain, single-quoted or
 * block scalar: C0 controls other than tab and newline, DEL, C1 controls
 * (NEL, U+0085, is a line break to YAML 1.1), the Unicode line and
 * paragraph separators, the byte-order mark and the non-characters.  They
 * are written escaped in double quotes.
 */
static bool must_escape(uint32_t c)
{
	return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ||
	       (c >= 0x80 && c <= 0x9f) || c == 0x2028 || c == 0x2029 ||
	       c == 0xfeff || c == 0xfffe || c == 0xffff;
}

static char lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	return c;
}

static bool ieq(const char *a, const char *b)
{
	while (*a && *b && lower(*a) == lower(*b)) {
		a++;
		b++;
	}
	return *a == '\0' && *b == '\0';
}

/* ======================================================================
 * Scalars
 */

enum style {
	STYLE_PLAIN = 0,
	STYLE_SINGLE,
	STYLE_DOUBLE,
	STYLE_BLOCK,
};

/* True when `text` may be written as a plain scalar and read back as is. */
static bool plain_ok(const char *text, size_t len, bool key)
{
	static const char indicators[] = "?:,[]{}#&*!|>'\"%@`";
	size_t i;

	if (len == 0 || text[0] == ' ' || text[len - 1] == ' ')
		return false;
	if (strchr(indicators, text[0]))
		return false;
	if (text[0] == '-' && (len == 1 || text[1] == ' ' || text[1] == '-'))
		return false;
	if (text[0] == '.' && len >= 3 && text[1] == '.' && text[2] == '.')
		return false;
	if (text[len - 1] == ':')
		return false;
	for (i = 0; i < len; i++) {
		if (text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
			return false;
		if (text[i] == ':' && text[i + 1] == ' ')
			return false;
		if (text[i] == '#' && i > 0 && text[i - 1] == ' ')
			return false;
	}
	/* What the loader would turn into something else. */
	if (strcmp(text, "~") == 0 || ieq(text, "null"))
		return false;
	if (ieq(text, "true") || ieq(text, "false"))
		return !key && (strcmp(text, "true") == 0 ||
		                strcmp(text, "false") == 0);
	return true;
}

/* Picks the style; CMR_EINVAL when text is not UTF-8. */
static int pick_style(enum style *out, const char *text, bool key)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text);
	size_t i = 0;
	size_t n;
	bool escape = false, newline = false, tab = false, content = false;
	uint32_t c;

	while (i < len) {
		n = utf8_next(s + i, len - i, &c);
		if (n == 0)
			return CMR_EINVAL;
		escape |= must_escape(c);
		newline |= c == '\n';
		tab |= c == '\t';
		content |= c != '\n';
		i += n;
	}
	if (escape)
		*out = STYLE_DOUBLE;
	else if (newline)
		*out = content && !key ? STYLE_BLOCK : STYLE_DOUBLE;
	else if (plain_ok(text, len, key))
		*out = STYLE_PLAIN;
	else
		*out = tab ? STYLE_DOUBLE : STYLE_SINGLE;
	return 0;
}

static void add_double(struct cmr_buf *b, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t len = strlen(text);
	size_t i = 0;
	size_t n;
	uint32_t c = 0;

	cmr_buf_addc(b, '"');
	while (i < len) {
		n = utf8_next(s + i, len - i, &c);
		if (n == 0)
			n = 1; /* not reached: pick_style checked */
		if (c == '"' || c == '\\') {
			cmr_buf_addc(b, '\\');
			cmr_buf_addc(b, (char)c);
		} else if (c == '\n') {
			cmr_buf_adds(b, "\\n");
		} else if (c == '\t') {
			cmr_buf_adds(b, "\\t");
		} else if (c == '\r') {
			cmr_buf_adds(b, "\\r");
		} else if (c == 0x85) {
			cmr_buf_adds(b, "\\N");
		} else if (c == 0x2028) {
			cmr_buf_adds(b, "\\L");
		} else if (c == 0x2029) {
			cmr_buf_adds(b, "\\P");
		} else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f)) {
			cmr_buf_addf(b, "\\x%02X", (unsigned)c);
		} else if (must_escape(c)) {
			cmr_buf_addf(b, "\\u%04X", (unsigned)c);
		} else {
			cmr_buf_add(b, s + i, n);
		}
		i += n;
	}
	cmr_buf_addc(b, '"');
}

static void add_single(struct cmr_buf *b, const char *text)
{
	const char *p;

	cmr_buf_addc(b, '\'');
	for (p = text; *p; p++) {
		if (*p == '\'')
			cmr_buf_addc(b, '\'');
		cmr_buf_addc(b, *p);
	}
	cmr_buf_addc(b, '\'');
}

static void add_spaces(struct cmr_buf *b, unsigned n)
{
	while (n--)
		cmr_buf_addc(b, ' ');
}

/*
 * A literal block scalar.  Chomping: no final newline "-", one "" (clip),
 * more "+" (keep).  An explicit indentation indicator when the first line
 * starts with a space or a tab or is empty, since YAML would otherwise
 * guess the indentation from the first line with text (and libyaml
 * refuses a tab while guessing).
 */
static void add_block(struct cmr_buf *b, const char *text, unsigned indent)
{
	size_t len = strlen(text);
	size_t trailing = 0;
	size_t i;
	size_t start;

	while (trailing < len && text[len - 1 - trailing] == '\n')
		trailing++;
	cmr_buf_addc(b, '|');
	if (text[0] == ' ' || text[0] == '\t' || text[0] == '\n')
		cmr_buf_addc(b, '2');
	if (trailing == 0)
		cmr_buf_addc(b, '-');
	else if (trailing > 1)
		cmr_buf_addc(b, '+');
	cmr_buf_addc(b, '\n');
	/* The lines up to the trailing newlines, each indented. */
	for (start = 0, i = 0; i <= len - trailing; i++) {
		if (i < len - trailing && text[i] != '\n')
			continue;
		if (i > start) {
			add_spaces(b, indent + 2);
			cmr_buf_add(b, text + start, i - start);
		}
		cmr_buf_addc(b, '\n');
		start = i + 1;
	}
	/* keep: the extra trailing newlines as empty lines */
	for (i = 1; i < trailing; i++)
		cmr_buf_addc(b, '\n');
}

int cmr_export_scalar(struct cmr_buf *out, const char *text, unsigned indent,
                      bool key, struct cmr_error *err)
{
	enum style st;

	if (pick_style(&st, text, key) < 0)
		return cmr_error_set(err, CMR_EINVAL, "not UTF-8 text");
	switch (st) {
	case STYLE_PLAIN:
		cmr_buf_adds(out, text);
		break;
	case STYLE_SINGLE:
		add_single(out, text);
		break;
	case STYLE_DOUBLE:
		add_double(out, text);
		break;
	case STYLE_BLOCK:
		add_block(out, text, indent);
		break;
	}
	if (cmr_buf_error(out))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

/* ======================================================================
 * Secret names
 */

int cmr_export_env_name(struct cmr_buf *out, const char *const *parts,
                        size_t nparts)
{
	size_t i;
	const char *p;

	cmr_buf_adds(out, "CMRECON");
	for (i = 0; i < nparts; i++) {
		bool sep = true, any = false;

		if (!parts[i])
			continue;
		for (p = parts[i]; *p; p++) {
			char c = *p;

			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
				if (sep)
					cmr_buf_addc(out, '_');
				cmr_buf_addc(out, c);
				sep = false;
				any = true;
			} else if (any) {
				sep = true;
			}
		}
	}
	return cmr_buf_error(out);
}

/* ======================================================================
 * Selection
 */

/* "a%2Fb" -> "a/b", "%25" -> "%"; other text as is.  Appends to out. */
static void unescape(struct cmr_buf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && s[i + 1] == '2' &&
		    (s[i + 2] == 'F' || s[i + 2] == 'f')) {
			cmr_buf_addc(out, '/');
			i += 2;
		} else if (s[i] == '%' && i + 2 < len && s[i + 1] == '2' &&
		           s[i + 2] == '5') {
			cmr_buf_addc(out, '%');
			i += 2;
		} else {
			cmr_buf_addc(out, s[i]);
		}
	}
}

/* Splits "CLUSTER/SERVICE" (escaped) into two unescaped names. */
static int split_service(struct cmr_buf *cluster, struct cmr_buf *service,
                         const char *spec, struct cmr_error *err)
{
	const char *slash = strchr(spec, '/');

	if (!slash || slash == spec || !slash[1] || strchr(slash + 1, '/'))
		return cmr_error_set(err, CMR_EINVAL,
		                     "--service '%s': expected CLUSTER/SERVICE "
		                     "(a '/' inside a name is written %%2F)",
		                     spec);
	unescape(cluster, spec, (size_t)(slash - spec));
	unescape(service, slash + 1, strlen(slash + 1));
	if (cmr_buf_error(cluster) || cmr_buf_error(service))
		return cmr_error_set(err, CMR_ENOMEM, "out of memory");
	return 0;
}

static int no_cluster(const struct cmr_state *live, const char *name,
                      struct cmr_error *err)
{
	struct cmr_suggest sg;
	size_t i;

	cmr_suggest_init(&sg, name);
	for (i = 0; i < live->clusters.len; i++)
		cmr_suggest_offer(&sg, live->clusters.items[i]->name);
	if (sg.n)
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "no cluster '%s' in CM; did you mean "
		                     "'%s'?",
		                     name, sg.names[0]);
	return cmr_error_set(
	        err, CMR_ENOTFOUND,
	        "no cluster '%s' in CM (it has %zu cluster%s%s%s)", name,
	        live->clusters.len, live->clusters.len == 1 ? "" : "s",
	        live->clusters.len ? ", e.g. " : "",
	        live->clusters.len ? live->clusters.items[0]->name : "");
}

static int no_service(const struct cmr_cluster *c, const char *name,
                      struct cmr_error *err)
{
	struct cmr_suggest sg;
	size_t i;

	cmr_suggest_init(&sg, name);
	for (i = 0; i < c->services.len; i++)
		cmr_suggest_offer(&sg, c->services.items[i]->name);
	if (sg.n)
		return cmr_error_set(err, CMR_ENOTFOUND,
		                     "no service '%s' in cluster '%s'; did you "
		                     "mean '%s'?",
		                     name, c->name, sg.names[0]);
	return cmr_error_set(err, CMR_ENOTFOUND,
	                     "no service '%s' in cluster '%s'", name, c->name);
}

int cmr_export_check(const struct cmr_state *live,
                     const struct cmr_export_options *opt,
                     struct cmr_error *err)
{
	struct cmr_buf cl = CMR_BUF_INIT;
	struct cmr_buf sv = CMR_BUF_INIT;
	const struct cmr_cluster *c;
	size_t i;
	int error = 0;

	for (i = 0; i < opt->nclusters && !error; i++)
		if (!cmr_state_find_cluster(live, opt->clusters[i]))
			error = no_cluster(live, opt->clusters[i], err);
	for (i = 0; i < opt->nservices && !error; i++) {
		cmr_buf_reset(&cl);
		cmr_buf_reset(&sv);
		if ((error = split_service(&cl, &sv, opt->services[i], err)) <
		    0)
			break;
		if (!(c = cmr_state_find_cluster(live, cl.ptr)))
			error = no_cluster(live, cl.ptr, err);
		else if (!cmr_cluster_find_service(c, sv.ptr))
			error = no_service(c, sv.ptr, err);
	}
	cmr_buf_release(&cl);
	cmr_buf_release(&sv);
	return error;
}

/*
 * What is selected: the whole cluster, some of its services, or nothing.
 * `svc` NULL asks about the cluster itself (its parcels).
 */
static bool selected(const struct cmr_export_options *opt,
                     const struct cmr_cluster *c, const struct cmr_service *s)
{
	struct cmr_buf cl = CMR_BUF_INIT;
	struct cmr_buf sv = CMR_BUF_INIT;
	bool yes = false;
	size_t i;

	if (opt->nclusters == 0 && opt->nservices == 0)
		return true;
	for (i = 0; i < opt->nclusters; i++)
		if (strcmp(opt->clusters[i], c->name) == 0)
			return true;
	if (!s) {
		/* The cluster appears (without parcels) when a service of it
		 * is selected; parcels only with --cluster. */
		return false;
	}
	for (i = 0; i < opt->nservices && !yes; i++) {
		cmr_buf_reset(&cl);
		cmr_buf_reset(&sv);
		if (split_service(&cl, &sv, opt->services[i], NULL) == 0 &&
		    strcmp(cl.ptr, c->name) == 0 &&
		    strcmp(sv.ptr, s->name) == 0)
			yes = true;
	}
	cmr_buf_release(&cl);
	cmr_buf_release(&sv);
	return yes;
}

static bool any_service_selected(const struct cmr_export_options *opt,
                                 const struct cmr_cluster *c)
{
	size_t i;

	if (selected(opt, c, NULL))
		return true;
	for (i = 0; i < c->services.len; i++)
		if (selected(opt, c, c->services.items[i]))
			return true;
	return false;
}

static bool whole_deployment(const struct cmr_export_options *opt)
{
	return opt->nclusters == 0 && opt->nservices == 0;
}

/* Base groups appear when they hold settings; non-base groups always. */
static bool group_shown(const struct cmr_role_config_group *g)
{
	return !g->base || g->config.len > 0;
}

static int copy_config(struct cmr_state *st, struct cmr_config *dst,
                       const struct cmr_config *src, struct cmr_error *err)
{
	size_t i;
	int error;

	for (i = 0; i < src->len; i++) {
		const struct cmr_config_entry *e = src->items[i];

		error = cmr_config_set(NULL, st, dst, e->name, &e->value,
		                       e->sensitive, NULL, err);
		if (error < 0)
			return error;
	}
	return 0;
}

static int copy_groups(struct cmr_state *st, struct cmr_service *dst,
                       const struct cmr_service *src, struct cmr_error *err)
{
	struct cmr_role_config_group *g;
	size_t i;
	int error;

	for (i = 0; i < src->groups.len; i++) {
		const struct cmr_role_config_group *lg = src->groups.items[i];

		if (!group_shown(lg))
			continue;
		if ((error = cmr_service_add_group(&g, st, dst, lg->name,
		                                   err)) < 0 ||
		    (error = copy_config(st, &g->config, &lg->config, err)) < 0)
			return error;
	}
	return 0;
}

int cmr_export_selection(struct cmr_state **out, const struct cmr_state *live,
                         const struct cmr_export_options *opt,
                         struct cmr_error *err)
{
	struct cmr_state *st = NULL;
	struct cmr_cluster *dc;
	struct cmr_service *ds;
	size_t i;
	size_t j;
	int error;

	*out = NULL;
	if ((error = cmr_export_check(live, opt, err)) < 0 ||
	    (error = cmr_state_new(&st, CMR_STATE_DESIRED, err)) < 0)
		goto done;
	if (whole_deployment(opt)) {
		if ((error = copy_config(st, &st->manager.config,
		                         &live->manager.config, err)) < 0)
			goto done;
		if (live->manager.mgmt &&
		    ((error = cmr_manager_add_mgmt(&ds, st, NULL, err)) < 0 ||
		     (error = copy_config(st, &ds->config,
		                          &live->manager.mgmt->config, err)) <
		             0 ||
		     (error = copy_groups(st, ds, live->manager.mgmt, err)) <
		             0))
			goto done;
	}
	for (i = 0; i < live->clusters.len; i++) {
		const struct cmr_cluster *c = live->clusters.items[i];

		if (!any_service_selected(opt, c))
			continue;
		if ((error = cmr_state_add_cluster(&dc, st, c->name, err)) < 0)
			goto done;
		for (j = 0; j < c->services.len; j++) {
			const struct cmr_service *s = c->services.items[j];

			if (!selected(opt, c, s))
				continue;
			if ((error = cmr_cluster_add_service(
			             &ds, st, dc, s->name, err)) < 0 ||
			    (error = copy_config(st, &ds->config, &s->config,
			                         err)) < 0 ||
			    (error = copy_groups(st, ds, s, err)) < 0)
				goto done;
			ds->type = cmr_state_strdup(st, s->type);
		}
	}
	*out = st;
	st = NULL;
	error = 0;
done:
	cmr_state_free(st);
	return error;
}

/* ======================================================================
 * The writer
 */

/* One secret of the file, for the header list. */
struct secret {
	char *env;   /* the variable */
	char *where; /* "Cluster 1/hive: hive_metastore_database_password" */
};

struct secret_list {
	struct secret *items;
	size_t len, alloc;
};

struct writer {
	struct cmr_buf *out;
	const struct cmr_export_options *opt;
	struct secret_list secrets;
	struct cmr_error *err;
};

/* Text for a comment: one line, control characters as '?'. */
static void add_comment_text(struct cmr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		char c = *s;

		if ((unsigned char)c < 0x20 || c == 0x7f)
			c = '?';
		cmr_buf_addc(b, c);
	}
}

static int key_line(struct writer *w, unsigned indent, const char *key)
{
	add_spaces(w->out, indent);
	if (cmr_export_scalar(w->out, key, indent, true, w->err) < 0)
		return cmr_error_prefix(w->err, "key '%s'", key);
	cmr_buf_addc(w->out, ':');
	return 0;
}

static bool secret_used(const struct writer *w, const char *env)
{
	/* cmrecon's own variables are never a secret's. */
	static const char *const reserved[] = {
		"CMRECON_URL",      "CMRECON_USER",       "CMRECON_PASSWORD",
		"CMRECON_HMAC_KEY", "CMRECON_CHANGE_REF",
	};
	size_t i;

	for (i = 0; i < CMR_ARRAY_SIZE(reserved); i++)
		if (strcmp(reserved[i], env) == 0)
			return true;
	for (i = 0; i < w->secrets.len; i++)
		if (strcmp(w->secrets.items[i].env, env) == 0)
			return true;
	return false;
}

/*
 * Generates the variable for a secret, unique in the file (a numeric
 * suffix when two scopes sanitize to the same name), and remembers it.
 */
static int add_secret(struct writer *w, struct cmr_buf *env,
                      const char *const *parts, size_t nparts,
                      const char *where)
{
	struct cmr_buf base = CMR_BUF_INIT;
	struct cmr_buf loc = CMR_BUF_INIT;
	struct secret s = { NULL, NULL };
	unsigned n = 1;
	int error = 0;

	cmr_export_env_name(&base, parts, nparts);
	cmr_buf_adds(env, base.ptr);
	while (!cmr_buf_error(env) && secret_used(w, env->ptr)) {
		cmr_buf_reset(env);
		cmr_buf_addf(env, "%s_%u", base.ptr, ++n);
	}
	add_comment_text(&loc, where);
	if (cmr_buf_error(&base) || cmr_buf_error(env) ||
	    !(s.env = cmr_strdup(env->ptr)) ||
	    !(s.where = cmr_buf_detach(&loc, NULL)) ||
	    cmr_vec_push(&w->secrets, s) < 0) {
		cmr_free(s.env);
		cmr_free(s.where);
		error = cmr_error_set(w->err, CMR_ENOMEM, "out of memory");
	}
	cmr_buf_release(&base);
	cmr_buf_release(&loc);
	return error;
}

/* The view=full default of `key` in scope sc. */
static const char *default_of(const struct writer *w,
                              const struct cmr_scope *sc, const char *key)
{
	struct cmr_buf sk = CMR_BUF_INIT;
	const struct cmr_scope_params *sp = NULL;
	const struct cmr_param *p = NULL;

	if (!w->opt->params)
		return NULL;
	if (cmr_scope_key(&sk, sc) == 0)
		sp = cmr_params_find_scope(w->opt->params, sk.ptr);
	cmr_buf_release(&sk);
	if (sp)
		p = cmr_scope_find_param(sp, key);
	return p ? p->default_value : NULL;
}

/* Whether the entry is left out as equal to its default. */
static bool omitted(const struct writer *w, const struct cmr_config_entry *e,
                    const struct cmr_scope *sc)
{
	const char *def;

	if (e->value.kind != CMR_VALUE_TEXT)
		return true;
	if (!(w->opt->flags & CMR_EXPORT_OMIT_DEFAULTS) || e->sensitive ||
	    cmr_secret_literal_refused(e->name, &e->value))
		return false;
	def = default_of(w, sc, e->name);
	return def && strcmp(def, e->value.text) == 0;
}

/* How many settings of the scope will be written. */
static size_t config_shown(const struct writer *w, const struct cmr_config *cfg,
                           const struct cmr_scope *sc)
{
	size_t i;
	size_t n = 0;

	for (i = 0; i < cfg->len; i++)
		if (!omitted(w, cfg->items[i], sc))
			n++;
	return n;
}

/*
 * Writes the settings of one scope under a "config:" key at `indent`.
 * `parts` (nparts, last slot free for the key) name the scope for secret
 * variables; `where` labels it for comments.
 */
static int write_config(struct writer *w, unsigned indent,
                        const struct cmr_config *cfg,
                        const struct cmr_scope *sc, const char **parts,
                        size_t nparts, const char *where)
{
	struct cmr_buf env = CMR_BUF_INIT;
	struct cmr_buf loc = CMR_BUF_INIT;
	size_t i;
	size_t shown = 0;
	int error = 0;

	for (i = 0; i < cfg->len; i++) {
		const struct cmr_config_entry *e = cfg->items[i];
		bool secret = e->sensitive ||
		              cmr_secret_literal_refused(e->name, &e->value);

		if (omitted(w, e, sc))
			continue;
		if (shown++ == 0) {
			add_spaces(w->out, indent);
			cmr_buf_adds(w->out, "config:\n");
		}
		if (!secret) {
			if ((error = key_line(w, indent + 2, e->name)) < 0)
				goto done;
			cmr_buf_addc(w->out, ' ');
			if (cmr_export_scalar(w->out, e->value.text, indent + 2,
			                      false, w->err) < 0) {
				error = cmr_error_prefix(w->err, "%s: '%s'",
				                         where, e->name);
				goto done;
			}
			if (w->out->ptr[w->out->len - 1] != '\n')
				cmr_buf_addc(w->out, '\n');
			continue;
		}
		cmr_buf_reset(&env);
		cmr_buf_reset(&loc);
		cmr_buf_addf(&loc, "%s: %s", where, e->name);
		parts[nparts] = e->name;
		if ((error = add_secret(w, &env, parts, nparts + 1, loc.ptr)) <
		    0)
			goto done;
		add_spaces(w->out, indent + 2);
		if (e->sensitive)
			cmr_buf_addf(w->out,
			             "# secret (CM does not reveal it): set "
			             "%s to its value\n",
			             env.ptr);
		else
			cmr_buf_addf(
			        w->out,
			        "# its name marks it a secret, so its value "
			        "is not exported: set %s to it\n",
			        env.ptr);
		if ((error = key_line(w, indent + 2, e->name)) < 0)
			goto done;
		cmr_buf_addf(w->out, " {env: %s}\n", env.ptr);
	}
done:
	cmr_buf_release(&env);
	cmr_buf_release(&loc);
	return error;
}

static int write_groups(struct writer *w, unsigned indent,
                        const struct cmr_service *s, const char *cluster,
                        const char *service_key, const char **parts,
                        size_t nparts, const char *where)
{
	struct cmr_buf loc = CMR_BUF_INIT;
	size_t i;
	size_t shown = 0;
	size_t plen = strlen(s->name);
	int error = 0;

	for (i = 0; i < s->groups.len; i++) {
		const struct cmr_role_config_group *g = s->groups.items[i];
		const char *short_name = g->name;
		struct cmr_scope sc = { cluster ? CMR_SCOPE_GROUP
			                        : CMR_SCOPE_MGMT_GROUP,
			                cluster, service_key, g->name };

		if (!group_shown(g))
			continue;
		if (shown++ == 0) {
			add_spaces(w->out, indent);
			cmr_buf_adds(w->out, "role_config_groups:\n");
		}
		if ((error = key_line(w, indent + 2, g->name)) < 0)
			goto done;
		if (config_shown(w, &g->config, &sc) == 0) {
			cmr_buf_adds(w->out,
			             g->config.len
			                     ? " {}  # its settings equal "
			                       "CM's defaults\n"
			                     : " {}\n");
			continue;
		}
		cmr_buf_addc(w->out, '\n');
		/* "hdfs-DATANODE-BASE" -> "DATANODE-BASE" in variables */
		if (strncmp(short_name, s->name, plen) == 0 &&
		    short_name[plen] == '-' && short_name[plen + 1])
			short_name += plen + 1;
		parts[nparts] = short_name;
		cmr_buf_reset(&loc);
		cmr_buf_addf(&loc, "%s/%s", where, g->name);
		if (cmr_buf_error(&loc)) {
			error = cmr_error_set(w->err, CMR_ENOMEM,
			                      "out of memory");
			goto done;
		}
		error = write_config(w, indent + 4, &g->config, &sc, parts,
		                     nparts + 1, loc.ptr);
		if (error < 0)
			goto done;
	}
done:
	cmr_buf_release(&loc);
	return error;
}

/* A comment naming the roles that carry per-role overrides. */
static void write_overrides(struct writer *w, unsigned indent,
                            const struct cmr_service *s)
{
	size_t i;
	size_t j;
	size_t roles = 0;

	for (i = 0; i < s->roles.len; i++) {
		const struct cmr_role *r = s->roles.items[i];
		size_t keys = 0;

		for (j = 0; j < r->config.len; j++)
			if (!cmr_config_is_bookkeeping(r->config.items[j]))
				keys++;
		if (!keys)
			continue;
		if (roles++ == 0) {
			add_spaces(w->out, indent);
			cmr_buf_adds(w->out,
			             "# Per-role overrides are not in format "
			             "version 1 and are not exported:\n");
		}
		if (roles > 5)
			continue;
		add_spaces(w->out, indent);
		cmr_buf_adds(w->out, "#   ");
		add_comment_text(w->out, r->name);
		cmr_buf_adds(w->out, ":");
		for (j = 0; j < r->config.len; j++)
			if (!cmr_config_is_bookkeeping(r->config.items[j])) {
				cmr_buf_addc(w->out, ' ');
				add_comment_text(w->out,
				                 r->config.items[j]->name);
			}
		cmr_buf_addc(w->out, '\n');
	}
	if (roles > 5) {
		add_spaces(w->out, indent);
		cmr_buf_addf(w->out, "#   ... and %zu more roles\n", roles - 5);
	}
}

static int write_service(struct writer *w, unsigned indent,
                         const struct cmr_cluster *c,
                         const struct cmr_service *s)
{
	struct cmr_buf where = CMR_BUF_INIT;
	struct cmr_scope sc = { CMR_SCOPE_SERVICE, c->name, s->name, NULL };
	const char *parts[4];
	int error;

	write_overrides(w, indent, s);
	if ((error = key_line(w, indent, s->name)) < 0)
		goto done;
	cmr_buf_addc(w->out, '\n');
	if (s->type) {
		add_spaces(w->out, indent + 2);
		cmr_buf_adds(w->out, "type: ");
		if ((error = cmr_export_scalar(w->out, s->type, indent + 2,
		                               false, w->err)) < 0)
			goto done;
		cmr_buf_addc(w->out, '\n');
	}
	cmr_buf_addf(&where, "%s/%s", c->name, s->name);
	parts[0] = c->name;
	parts[1] = s->name;
	if (cmr_buf_error(&where)) {
		error = cmr_error_set(w->err, CMR_ENOMEM, "out of memory");
		goto done;
	}
	if ((error = write_config(w, indent + 2, &s->config, &sc, parts, 2,
	                          where.ptr)) < 0 ||
	    (error = write_groups(w, indent + 2, s, c->name, s->name, parts, 2,
	                          where.ptr)) < 0)
		goto done;
done:
	cmr_buf_release(&where);
	return error;
}

static int write_parcels(struct writer *w, unsigned indent,
                         const struct cmr_cluster *c)
{
	size_t i;
	size_t active = 0;
	size_t other = 0;
	int error;

	for (i = 0; i < c->parcels.len; i++) {
		const struct cmr_parcel *p = c->parcels.items[i];

		if (p->stage != CMR_PARCEL_ACTIVATED)
			continue;
		if (active++ == 0) {
			add_spaces(w->out, indent);
			cmr_buf_adds(w->out, "parcels:\n");
		}
		if ((error = key_line(w, indent + 2, p->product)) < 0)
			return error;
		cmr_buf_addc(w->out, ' ');
		if ((error = cmr_export_scalar(w->out, p->version, indent + 2,
		                               false, w->err)) < 0)
			return error;
		cmr_buf_addc(w->out, '\n');
	}
	/* Versions present on the cluster but not active: named only. */
	for (i = 0; i < c->parcels.len; i++) {
		const struct cmr_parcel *p = c->parcels.items[i];

		if (p->stage == CMR_PARCEL_ACTIVATED ||
		    cmr_parcel_stage_rank(p->stage) < 2)
			continue;
		if (other++ == 0) {
			add_spaces(w->out, indent);
			cmr_buf_adds(w->out,
			             "# Not exported (only the active version "
			             "of a product is):\n");
		}
		add_spaces(w->out, indent);
		cmr_buf_adds(w->out, "#   ");
		add_comment_text(w->out, p->product);
		cmr_buf_addc(w->out, ' ');
		add_comment_text(w->out, p->version);
		cmr_buf_addf(w->out, " (%s)\n",
		             cmr_parcel_stage_name(p->stage));
	}
	return 0;
}

static int write_clusters(struct writer *w, const struct cmr_state *live)
{
	size_t i;
	size_t j;
	size_t shown = 0;
	int error;

	for (i = 0; i < live->clusters.len; i++) {
		const struct cmr_cluster *c = live->clusters.items[i];
		size_t svcs = 0;

		if (!any_service_selected(w->opt, c))
			continue;
		if (shown++ == 0)
			cmr_buf_adds(w->out, "clusters:\n");
		if ((error = key_line(w, 2, c->name)) < 0)
			return error;
		cmr_buf_addc(w->out, '\n');
		if (selected(w->opt, c, NULL) &&
		    (error = write_parcels(w, 4, c)) < 0)
			return error;
		for (j = 0; j < c->services.len; j++) {
			const struct cmr_service *s = c->services.items[j];

			if (!selected(w->opt, c, s))
				continue;
			if (svcs++ == 0)
				cmr_buf_adds(w->out, "    services:\n");
			if ((error = write_service(w, 6, c, s)) < 0)
				return error;
		}
		if (svcs == 0)
			cmr_buf_adds(w->out, "    services: {}\n");
	}
	return 0;
}

static int write_manager(struct writer *w, const struct cmr_state *live)
{
	const struct cmr_service *m = live->manager.mgmt;
	const struct cmr_scope cm = { CMR_SCOPE_CM, NULL, NULL, NULL };
	const struct cmr_scope ms = { CMR_SCOPE_MGMT, NULL, m ? m->name : NULL,
		                      NULL };
	const char *parts[3];
	bool groups = false;
	size_t i;
	int error;

	if (live->manager.config.len == 0 && !m)
		return 0;
	cmr_buf_adds(w->out, "manager:\n");
	parts[0] = "CM";
	if ((error = write_config(w, 2, &live->manager.config, &cm, parts, 1,
	                          "CM")) < 0)
		return error;
	if (!m)
		return 0;
	cmr_buf_adds(w->out, "  management_service:");
	for (i = 0; i < m->groups.len && !groups; i++)
		groups = group_shown(m->groups.items[i]);
	if (!groups && config_shown(w, &m->config, &ms) == 0) {
		cmr_buf_adds(w->out, " {}\n");
		return 0;
	}
	cmr_buf_addc(w->out, '\n');
	parts[0] = "MGMT";
	if ((error = write_config(w, 4, &m->config, &ms, parts, 1,
	                          "management service")) < 0 ||
	    (error = write_groups(w, 4, m, NULL, m->name, parts, 1,
	                          "management service")) < 0)
		return error;
	return 0;
}

static void write_header(struct writer *w, const struct cmr_state *live)
{
	struct cmr_buf *b = w->out;
	const char *url = w->opt->cm_url;
	const char *at;
	const char *scheme;
	size_t i;

	cmr_buf_adds(b,
	             "# cmrecon desired state (format version 1), written by "
	             "`cmrecon export`");
	if (w->opt->created) {
		cmr_buf_adds(b, " at ");
		add_comment_text(b, w->opt->created);
	}
	cmr_buf_adds(b, "\n# from Cloudera Manager");
	if (live->manager.cm_version) {
		cmr_buf_addc(b, ' ');
		add_comment_text(b, live->manager.cm_version);
	}
	if (url) {
		/* Never credentials: drop a user:password@ part. */
		scheme = strstr(url, "://");
		at = scheme ? strchr(scheme + 3, '@') : NULL;
		if (at && strchr(scheme + 3, '/') &&
		    strchr(scheme + 3, '/') < at)
			at = NULL;
		cmr_buf_adds(b, " at ");
		if (at) {
			cmr_buf_add(b, url, (size_t)(scheme + 3 - url));
			add_comment_text(b, at + 1);
		} else {
			add_comment_text(b, url);
		}
	}
	if (w->opt->api_version) {
		cmr_buf_adds(b, " (API ");
		add_comment_text(b, w->opt->api_version);
		cmr_buf_addc(b, ')');
	}
	cmr_buf_adds(b, ".\n#\n");
	cmr_buf_adds(b,
	             "# It names the settings CM has set (not CM's defaults");
	if (w->opt->flags & CMR_EXPORT_OMIT_DEFAULTS)
		cmr_buf_adds(b, ",\n# nor settings set to their default value");
	cmr_buf_adds(b, "), the active\n"
	                "# version of each parcel, and the role config groups "
	                "that hold settings\n"
	                "# (non-base groups always).  Not in format version 1, "
	                "so not exported:\n"
	                "# per-role overrides (noted where roles carry them), "
	                "host templates,\n"
	                "# /cm/allHosts/config.  The connection (manager.url, "
	                "username, password)\n"
	                "# is not written: give --url or set CMRECON_URL.\n");
	if (!whole_deployment(w->opt))
		cmr_buf_adds(b,
		             "# Limited to the clusters and services asked "
		             "for: CM settings and the\n# management service "
		             "are left out.\n");
	if (w->secrets.len) {
		cmr_buf_adds(b,
		             "#\n# Secrets are never exported.  Set these "
		             "variables to the secrets' values\n# before "
		             "`cmrecon plan` or `apply` (plan reports them as "
		             "\"cannot verify\"\n# until cmrecon has recorded "
		             "them; see CMRECON_HMAC_KEY):\n");
		for (i = 0; i < w->secrets.len; i++)
			cmr_buf_addf(b, "#   %s  (%s)\n",
			             w->secrets.items[i].env,
			             w->secrets.items[i].where);
	}
}

int cmr_export_yaml(struct cmr_buf *out, const struct cmr_state *live,
                    const struct cmr_export_options *opt, struct cmr_error *err)
{
	struct cmr_buf body = CMR_BUF_INIT;
	struct writer w;
	size_t i;
	int error;

	memset(&w, 0, sizeof(w));
	w.out = &body;
	w.opt = opt;
	w.err = err;
	if ((error = cmr_export_check(live, opt, err)) < 0)
		goto done;
	cmr_buf_adds(&body, "version: 1\n");
	if (whole_deployment(opt) && (error = write_manager(&w, live)) < 0)
		goto done;
	if ((error = write_clusters(&w, live)) < 0)
		goto done;
	/* The header lists the secrets, known only now. */
	w.out = out;
	write_header(&w, live);
	cmr_buf_add(out, body.ptr, body.len);
	error = cmr_buf_error(out) || cmr_buf_error(&body)
	                ? cmr_error_set(err, CMR_ENOMEM, "out of memory")
	                : 0;
done:
	for (i = 0; i < w.secrets.len; i++) {
		cmr_free(w.secrets.items[i].env);
		cmr_free(w.secrets.items[i].where);
	}
	cmr_vec_release(&w.secrets);
	cmr_buf_release(&body);
	return error;
}
