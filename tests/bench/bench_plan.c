/*
 * bench_plan.c -- CPU and memory of the pure part of a plan: diffing a
 * desired state against a live one and rendering the result, without any
 * network.  Reports JSON on stdout:
 *
 *   {"values": N, "load_ms": .., "decode_ms": .., "plan_ms": ..,
 *    "render_ms": .., "plan_render_ms": .., "plan_bytes": ..,
 *    "output_bytes": .., "peak_rss_kib": ..}
 *
 * Times are process CPU time (CLOCK_PROCESS_CPUTIME_ID), the median of
 * RUNS repetitions of plan+render.  Usage:
 *   bench_plan DESIRED.yaml DEPLOYMENT.json [RUNS]
 * where DEPLOYMENT.json is GET /cm/deployment?view=export_redacted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cmr/api.h"
#include "cmr/buf.h"
#include "cmr/diag.h"
#include "cmr/load.h"
#include "cmr/model.h"
#include "cmr/plan.h"
#include "cmr/render.h"

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *slurp(const char *path, size_t *len)
{
	struct cmr_buf b = CMR_BUF_INIT;
	char chunk[65536];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	cmr_buf_init(&b, (size_t)256 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		cmr_buf_add(&b, chunk, n);
	fclose(f);
	return cmr_buf_detach(&b, len);
}

int main(int argc, char **argv)
{
	struct cmr_diag_list diags;
	struct cmr_state *desired = NULL, *live = NULL;
	struct cmr_plan *plan = NULL;
	struct cmr_plan_options opt;
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_buf out = CMR_BUF_INIT;
	struct rusage ru;
	double t0, load_ms, decode_ms, times[64], plan_t[64], render_t[64];
	const char *files[1];
	size_t len = 0, plan_bytes = 0;
	int runs = argc > 3 ? atoi(argv[3]) : 5, i;
	char *json;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_plan DESIRED.yaml "
		                "DEPLOYMENT.json [RUNS]\n");
		return 64;
	}
	if (runs < 1 || runs > 64)
		runs = 5;
	cmr_diag_list_init(&diags);
	files[0] = argv[1];
	t0 = cpu_ms();
	if (cmr_load_files(&desired, files, 1, &diags, &err) < 0) {
		fprintf(stderr, "bench_plan: %s\n", err.msg);
		return 1;
	}
	load_ms = cpu_ms() - t0;
	json = slurp(argv[2], &len);
	if (!json) {
		fprintf(stderr, "bench_plan: cannot read %s\n", argv[2]);
		return 1;
	}
	t0 = cpu_ms();
	if (cmr_state_new(&live, CMR_STATE_LIVE, &err) < 0 ||
	    cmr_api_decode_deployment(live, desired, "deployment", json, len,
	                              &err) < 0) {
		fprintf(stderr, "bench_plan: %s\n", err.msg);
		return 1;
	}
	decode_ms = cpu_ms() - t0;
	free(json);
	memset(&opt, 0, sizeof(opt));
	opt.cm_url = "https://cm.example.com:7183";
	opt.api_version = "v45";
	for (i = 0; i < runs; i++) {
		double a, b, c;

		cmr_plan_free(plan);
		plan = NULL;
		cmr_buf_reset(&out);
		a = cpu_ms();
		if (cmr_plan_build(&plan, desired, live, NULL, &opt, &err) <
		    0) {
			fprintf(stderr, "bench_plan: %s\n", err.msg);
			return 1;
		}
		b = cpu_ms();
		if (cmr_render_plan_text(&out, plan, NULL, &err) < 0) {
			fprintf(stderr, "bench_plan: %s\n", err.msg);
			return 1;
		}
		c = cpu_ms();
		plan_t[i] = b - a;
		render_t[i] = c - b;
		times[i] = c - a;
	}
	plan_bytes = cmr_arena_bytes(&plan->arena);
	qsort(times, (size_t)runs, sizeof(double), cmp_double);
	qsort(plan_t, (size_t)runs, sizeof(double), cmp_double);
	qsort(render_t, (size_t)runs, sizeof(double), cmp_double);
	getrusage(RUSAGE_SELF, &ru);
	printf("{\"values\": %zu, \"load_ms\": %.1f, \"decode_ms\": %.1f, "
	       "\"plan_ms\": %.1f, \"render_ms\": %.1f, "
	       "\"plan_render_ms\": %.1f, \"plan_bytes\": %zu, "
	       "\"output_bytes\": %zu, \"peak_rss_kib\": %ld}\n",
	       cmr_state_count_settings(desired), load_ms, decode_ms,
	       plan_t[runs / 2], render_t[runs / 2], times[runs / 2],
	       plan_bytes, out.len, ru.ru_maxrss);
	cmr_buf_release(&out);
	cmr_plan_free(plan);
	cmr_state_free(live);
	cmr_state_free(desired);
	cmr_diag_list_release(&diags);
	return 0;
}
