/*
 * render_plans.h -- hand-built plans for the render and plan-file tests.
 *
 * Each rp_add_* function appends one aspect of a plan (CM settings, the
 * management service, parcels, ...) in the plan's own order, so a focused
 * test uses one of them and rp_rich() stacks them all into a plan that
 * exercises every part of the format.  Every function fails the test on
 * out-of-memory.
 */
#ifndef CMR_TEST_RENDER_PLANS_H
#define CMR_TEST_RENDER_PLANS_H

#include "cmr/plan.h"

/* A secret the leaky builders put where no secret should ever be. */
#define RP_SECRET "Sup3r-S3cret-Value!"

/* An empty plan (cmr_plan_free it). */
struct cmr_plan *rp_new(void);

void rp_add_header(struct cmr_plan *p);   /* URL, versions, id, clusters */
void rp_add_cm(struct cmr_plan *p);       /* CM settings + repo refresh */
void rp_add_mgmt(struct cmr_plan *p);     /* management service + group */
void rp_add_parcels(struct cmr_plan *p);  /* up, down, after a refresh */
void rp_add_diff(struct cmr_plan *p);     /* multi-line values */
void rp_add_ops(struct cmr_plan *p);      /* set/update/reset/pruned */
void rp_add_secrets(struct cmr_plan *p);  /* every secret status */
void rp_add_restarts(struct cmr_plan *p); /* every action, maintenance */
void rp_add_notes(struct cmr_plan *p);    /* info/warning/error, marks */
void rp_add_fingerprints(struct cmr_plan *p);

/* All of the above, in order. */
struct cmr_plan *rp_rich(void);

/*
 * A plan that breaks plan.h's promise: its sensitive changes carry
 * RP_SECRET in every value field.  Renderers and the writer must still
 * print none of it.
 */
struct cmr_plan *rp_leaky(void);

#endif
