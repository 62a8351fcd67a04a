/*
 * state.c -- building and looking up the deployment tree.
 *
 * Every node is allocated on its own in the state's arena and never moves;
 * collections are arrays of pointers to nodes, kept sorted by name as they
 * grow.  That gives stable pointers for the loader (which holds a service
 * while it fills the service's groups), binary-search lookups for lib/api
 * (which reads hundreds of settings per scope), and a deterministic order
 * for the planner and the renderers, with no sort step anyone could forget.
 *
 * The pointer arrays live in the arena too.  Growing one allocates a
 * doubled array and abandons the old one to the arena, which wastes at most
 * as much as the final array uses; in exchange there is nothing to free
 * node by node.
 */
#include <stdlib.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/model.h"

/* ----------------------------------------------------------------------
 * Sorted pointer arrays
 *
 * One pair of functions per element type, generated: a lower-bound search
 * by name and an insertion at a position.  Generated rather than written
 * once over void ** because reading a `struct x *` through a `void *`
 * lvalue is not something C promises to work.  (clang-tidy cannot see that
 * `T` is a type, which must not be parenthesised, nor that sizeof of an
 * element of an array of pointers is meant to be the size of a pointer.)
 */
/* NOLINTBEGIN(bugprone-macro-parentheses, bugprone-sizeof-expression) */

#define DEFINE_SORTED(fn, T, field)                                           \
	static size_t fn##_pos(T *const *items, size_t len, const char *key,  \
	                       bool *found)                                   \
	{                                                                     \
		size_t lo = 0;                                                \
		size_t hi = len;                                              \
		while (lo < hi) {                                             \
			size_t mid = lo + (hi - lo) / 2;                      \
			int c = strcmp(items[mid]->field, key);               \
			if (c == 0) {                                         \
				*found = true;                                \
				return mid;                                   \
			}                                                     \
			if (c < 0)                                            \
				lo = mid + 1;                                 \
			else                                                  \
				hi = mid;                                     \
		}                                                             \
		*found = false;                                               \
		return lo;                                                    \
	}                                                                     \
	static int fn##_insert(struct cmr_arena *a, T ***items, size_t *len,  \
	                       size_t *alloc, size_t pos, T *node)            \
	{                                                                     \
		if (*len == *alloc) {                                         \
			size_t n = *alloc ? *alloc * 2 : 4;                   \
			T **bigger = cmr_arena_calloc(a, n, sizeof(*bigger)); \
			if (!bigger)                                          \
				return CMR_ENOMEM;                            \
			if (*len)                                             \
				memcpy(bigger, *items,                        \
				       *len * sizeof(*bigger));               \
			*items = bigger;                                      \
			*alloc = n;                                           \
		}                                                             \
		memmove(*items + pos + 1, *items + pos,                       \
		        (*len - pos) * sizeof(**items));                      \
		(*items)[pos] = node;                                         \
		(*len)++;                                                     \
		return 0;                                                     \
	}

DEFINE_SORTED(cluster, struct cmr_cluster, name)
DEFINE_SORTED(service, struct cmr_service, name)
DEFINE_SORTED(group, struct cmr_role_config_group, name)
DEFINE_SORTED(role, struct cmr_role, name)
DEFINE_SORTED(entry, struct cmr_config_entry, name)

/* NOLINTEND(bugprone-macro-parentheses, bugprone-sizeof-expression) */

/* Parcels sort by product, then version. */
static int parcel_cmp(const struct cmr_parcel *p, const char *product,
                      const char *version)
{
	int c = strcmp(p->product, product);

	if (c != 0 || !version)
		return c;
	return strcmp(p->version, version);
}

/*
 * Lower bound of (product, version); with version NULL, the first parcel
 * of the product.
 */
static size_t parcel_pos(struct cmr_parcel *const *items, size_t len,
                         const char *product, const char *version, bool *found)
{
	size_t lo = 0;
	size_t hi = len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (parcel_cmp(items[mid], product, version) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < len && parcel_cmp(items[lo], product, version) == 0;
	return lo;
}

static int name_ok(const char *name, const char *what, struct cmr_error *err)
{
	if (!name || !*name)
		return cmr_error_set(err, CMR_EINVAL, "empty %s name", what);
	return 0;
}

static int nomem(struct cmr_error *err)
{
	return cmr_error_set(err, CMR_ENOMEM, "out of memory building state");
}

/* ----------------------------------------------------------------------
 * The state
 */

int cmr_state_new(struct cmr_state **out, enum cmr_state_origin origin,
                  struct cmr_error *err)
{
	struct cmr_state *st = cmr_calloc(1, sizeof(*st));

	*out = NULL;
	if (!st)
		return nomem(err);
	cmr_arena_init(&st->arena);
	st->origin = origin;
	*out = st;
	return 0;
}

void cmr_state_free(struct cmr_state *st)
{
	if (!st)
		return;
	cmr_arena_release(&st->arena);
	cmr_free(st);
}

const char *cmr_state_strdup(struct cmr_state *st, const char *s)
{
	return cmr_arena_strdup(&st->arena, s);
}

struct cmr_cluster *cmr_state_find_cluster(const struct cmr_state *st,
                                           const char *name)
{
	bool found;
	size_t pos;

	if (!name)
		return NULL;
	pos = cluster_pos(st->clusters.items, st->clusters.len, name, &found);
	return found ? st->clusters.items[pos] : NULL;
}

int cmr_state_add_cluster(struct cmr_cluster **out, struct cmr_state *st,
                          const char *name, struct cmr_error *err)
{
	struct cmr_cluster *c;
	bool found;
	size_t pos;

	*out = NULL;
	if (name_ok(name, "cluster", err) < 0)
		return CMR_EINVAL;
	pos = cluster_pos(st->clusters.items, st->clusters.len, name, &found);
	if (found) {
		*out = st->clusters.items[pos];
		return 0;
	}
	c = cmr_arena_alloc(&st->arena, sizeof(*c));
	if (!c || !(c->name = cmr_arena_strdup(&st->arena, name)) ||
	    cluster_insert(&st->arena, &st->clusters.items, &st->clusters.len,
	                   &st->clusters.alloc, pos, c) < 0)
		return nomem(err);
	*out = c;
	return 0;
}

/* ----------------------------------------------------------------------
 * Services, groups and roles
 */

struct cmr_service *cmr_cluster_find_service(const struct cmr_cluster *c,
                                             const char *name)
{
	bool found;
	size_t pos;

	if (!name)
		return NULL;
	pos = service_pos(c->services.items, c->services.len, name, &found);
	return found ? c->services.items[pos] : NULL;
}

int cmr_cluster_add_service(struct cmr_service **out, struct cmr_state *st,
                            struct cmr_cluster *c, const char *name,
                            struct cmr_error *err)
{
	struct cmr_service *s;
	bool found;
	size_t pos;

	*out = NULL;
	if (name_ok(name, "service", err) < 0)
		return CMR_EINVAL;
	pos = service_pos(c->services.items, c->services.len, name, &found);
	if (found) {
		*out = c->services.items[pos];
		return 0;
	}
	s = cmr_arena_alloc(&st->arena, sizeof(*s));
	if (!s || !(s->name = cmr_arena_strdup(&st->arena, name)) ||
	    service_insert(&st->arena, &c->services.items, &c->services.len,
	                   &c->services.alloc, pos, s) < 0)
		return nomem(err);
	*out = s;
	return 0;
}

int cmr_manager_add_mgmt(struct cmr_service **out, struct cmr_state *st,
                         const char *name, struct cmr_error *err)
{
	struct cmr_service *s = st->manager.mgmt;

	*out = NULL;
	if (s) {
		*out = s;
		return 0;
	}
	s = cmr_arena_alloc(&st->arena, sizeof(*s));
	if (!s || !(s->type = cmr_arena_strdup(&st->arena, "MGMT")))
		return nomem(err);
	if (name && !(s->name = cmr_arena_strdup(&st->arena, name)))
		return nomem(err);
	st->manager.mgmt = s;
	*out = s;
	return 0;
}

struct cmr_role_config_group *
cmr_service_find_group(const struct cmr_service *s, const char *name)
{
	bool found;
	size_t pos;

	if (!name)
		return NULL;
	pos = group_pos(s->groups.items, s->groups.len, name, &found);
	return found ? s->groups.items[pos] : NULL;
}

int cmr_service_add_group(struct cmr_role_config_group **out,
                          struct cmr_state *st, struct cmr_service *s,
                          const char *name, struct cmr_error *err)
{
	struct cmr_role_config_group *g;
	bool found;
	size_t pos;

	*out = NULL;
	if (name_ok(name, "role config group", err) < 0)
		return CMR_EINVAL;
	pos = group_pos(s->groups.items, s->groups.len, name, &found);
	if (found) {
		*out = s->groups.items[pos];
		return 0;
	}
	g = cmr_arena_alloc(&st->arena, sizeof(*g));
	if (!g || !(g->name = cmr_arena_strdup(&st->arena, name)) ||
	    group_insert(&st->arena, &s->groups.items, &s->groups.len,
	                 &s->groups.alloc, pos, g) < 0)
		return nomem(err);
	*out = g;
	return 0;
}

struct cmr_role *cmr_service_find_role(const struct cmr_service *s,
                                       const char *name)
{
	bool found;
	size_t pos;

	if (!name)
		return NULL;
	pos = role_pos(s->roles.items, s->roles.len, name, &found);
	return found ? s->roles.items[pos] : NULL;
}

int cmr_service_add_role(struct cmr_role **out, struct cmr_state *st,
                         struct cmr_service *s, const char *name,
                         struct cmr_error *err)
{
	struct cmr_role *r;
	bool found;
	size_t pos;

	*out = NULL;
	if (name_ok(name, "role", err) < 0)
		return CMR_EINVAL;
	pos = role_pos(s->roles.items, s->roles.len, name, &found);
	if (found) {
		*out = s->roles.items[pos];
		return 0;
	}
	r = cmr_arena_alloc(&st->arena, sizeof(*r));
	if (!r || !(r->name = cmr_arena_strdup(&st->arena, name)) ||
	    role_insert(&st->arena, &s->roles.items, &s->roles.len,
	                &s->roles.alloc, pos, r) < 0)
		return nomem(err);
	*out = r;
	return 0;
}

/* ----------------------------------------------------------------------
 * Parcels
 */

struct cmr_parcel *cmr_cluster_find_parcel(const struct cmr_cluster *c,
                                           const char *product,
                                           const char *version)
{
	bool found;
	size_t pos;

	if (!product || !version)
		return NULL;
	pos = parcel_pos(c->parcels.items, c->parcels.len, product, version,
	                 &found);
	return found ? c->parcels.items[pos] : NULL;
}

struct cmr_parcel *cmr_cluster_find_product(const struct cmr_cluster *c,
                                            const char *product)
{
	bool found;
	size_t pos;

	if (!product)
		return NULL;
	pos = parcel_pos(c->parcels.items, c->parcels.len, product, NULL,
	                 &found);
	return found ? c->parcels.items[pos] : NULL;
}

/* Arrays of pointers, as above: sizeof an element is a pointer's size. */
/* NOLINTBEGIN(bugprone-sizeof-expression) */
int cmr_cluster_add_parcel(struct cmr_parcel **out, struct cmr_state *st,
                           struct cmr_cluster *c, const char *product,
                           const char *version, struct cmr_error *err)
{
	struct cmr_parcel *p;
	bool found;
	size_t pos;
	size_t n;

	*out = NULL;
	if (name_ok(product, "parcel product", err) < 0 ||
	    name_ok(version, "parcel version", err) < 0)
		return CMR_EINVAL;
	pos = parcel_pos(c->parcels.items, c->parcels.len, product, version,
	                 &found);
	if (found) {
		*out = c->parcels.items[pos];
		return 0;
	}
	p = cmr_arena_alloc(&st->arena, sizeof(*p));
	if (!p || !(p->product = cmr_arena_strdup(&st->arena, product)) ||
	    !(p->version = cmr_arena_strdup(&st->arena, version)))
		return nomem(err);
	if (c->parcels.len == c->parcels.alloc) {
		struct cmr_parcel **bigger;

		n = c->parcels.alloc ? c->parcels.alloc * 2 : 4;
		bigger = cmr_arena_calloc(&st->arena, n, sizeof(*bigger));
		if (!bigger)
			return nomem(err);
		if (c->parcels.len)
			memcpy(bigger, c->parcels.items,
			       c->parcels.len * sizeof(*bigger));
		c->parcels.items = bigger;
		c->parcels.alloc = n;
	}
	memmove(c->parcels.items + pos + 1, c->parcels.items + pos,
	        (c->parcels.len - pos) * sizeof(*c->parcels.items));
	c->parcels.items[pos] = p;
	c->parcels.len++;
	*out = p;
	return 0;
}

void cmr_cluster_remove_parcel(struct cmr_cluster *c,
                               const struct cmr_parcel *p)
{
	size_t i;

	for (i = 0; i < c->parcels.len; i++) {
		if (c->parcels.items[i] != p)
			continue;
		memmove(c->parcels.items + i, c->parcels.items + i + 1,
		        (c->parcels.len - i - 1) * sizeof(*c->parcels.items));
		c->parcels.len--;
		return;
	}
}

/* NOLINTEND(bugprone-sizeof-expression) */

/* ----------------------------------------------------------------------
 * Config entries
 */

struct cmr_config_entry *cmr_config_find(const struct cmr_config *cfg,
                                         const char *name)
{
	bool found;
	size_t pos;

	if (!name)
		return NULL;
	pos = entry_pos(cfg->items, cfg->len, name, &found);
	return found ? cfg->items[pos] : NULL;
}

int cmr_config_set(struct cmr_config_entry **out, struct cmr_state *st,
                   struct cmr_config *cfg, const char *name,
                   const struct cmr_value *value, bool sensitive,
                   const struct cmr_mark *mark, struct cmr_error *err)
{
	struct cmr_config_entry *e;
	const char *text = NULL;
	bool found;
	size_t pos;

	if (out)
		*out = NULL;
	if (name_ok(name, "setting", err) < 0)
		return CMR_EINVAL;
	if (value->kind != CMR_VALUE_RESET && !value->text)
		return cmr_error_set(err, CMR_EINVAL,
		                     "setting '%s': %s value without text",
		                     name, cmr_value_kind_name(value->kind));
	if (value->kind != CMR_VALUE_RESET &&
	    !(text = cmr_arena_strdup(&st->arena, value->text)))
		return nomem(err);
	pos = entry_pos(cfg->items, cfg->len, name, &found);
	if (found) {
		e = cfg->items[pos];
	} else {
		e = cmr_arena_alloc(&st->arena, sizeof(*e));
		if (!e || !(e->name = cmr_arena_strdup(&st->arena, name)) ||
		    entry_insert(&st->arena, &cfg->items, &cfg->len,
		                 &cfg->alloc, pos, e) < 0)
			return nomem(err);
	}
	e->value.kind = value->kind;
	e->value.text = text;
	e->sensitive = sensitive;
	if (mark)
		e->mark = *mark;
	else
		memset(&e->mark, 0, sizeof(e->mark));
	if (out)
		*out = e;
	return 0;
}

int cmr_config_set_text(struct cmr_config_entry **out, struct cmr_state *st,
                        struct cmr_config *cfg, const char *name,
                        const char *text, bool sensitive, struct cmr_error *err)
{
	struct cmr_value v;

	v.kind = CMR_VALUE_TEXT;
	v.text = text;
	return cmr_config_set(out, st, cfg, name, &v, sensitive, NULL, err);
}

/* ----------------------------------------------------------------------
 * Whole-state helpers
 */

static size_t service_settings(const struct cmr_service *s)
{
	size_t n = s->config.len;
	size_t i;

	for (i = 0; i < s->groups.len; i++)
		n += s->groups.items[i]->config.len;
	return n;
}

size_t cmr_state_count_settings(const struct cmr_state *st)
{
	size_t n = st->manager.config.len;
	size_t i;
	size_t j;

	if (st->manager.mgmt)
		n += service_settings(st->manager.mgmt);
	for (i = 0; i < st->clusters.len; i++) {
		const struct cmr_cluster *c = st->clusters.items[i];

		for (j = 0; j < c->services.len; j++)
			n += service_settings(c->services.items[j]);
	}
	return n;
}
