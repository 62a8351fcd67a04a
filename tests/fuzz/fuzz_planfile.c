/*
 * fuzz_planfile.c -- libFuzzer target for the plan-file reader.
 *
 * Feeds arbitrary bytes (no terminating NUL) to cmr_planfile_read, as
 * `apply PLANFILE` and `show PLANFILE` would, and checks:
 *   - the return code is 0, CMR_EINVAL or CMR_ENOMEM, err->code agrees,
 *     a failure has a message starting "plan file: ", and *out is NULL
 *     unless the read succeeded;
 *   - a file it accepts is recognised as a plan by cmr_planfile_detect;
 *   - the round trip: an accepted plan is written (cmr_planfile_write),
 *     the text is read again (it must be accepted), written again, and
 *     both writes are byte-identical -- write(read(write(p))) ==
 *     write(p), the promise of planfile.h.
 * A broken promise aborts; libFuzzer reports it with the input.
 *
 * Built by tests/fuzz/build.sh; see docs/fuzzing.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmr/buf.h"
#include "cmr/plan.h"
#include "cmr/planfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PREFIX "plan file: "

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_planfile: broken promise: %s\n", what);
		abort();
	}
}

/* Reads text; checks the contract of every outcome; returns the code. */
static int read_checked(struct cmr_plan **out, const char *text, size_t len)
{
	static struct cmr_plan sentinel;
	struct cmr_error err = CMR_ERROR_INIT;
	int rc;

	*out = &sentinel; /* must be overwritten either way */
	rc = cmr_planfile_read(out, text, len, &err);
	check(memchr(err.msg, '\0', sizeof(err.msg)) != NULL,
	      "message is NUL-terminated in its buffer");
	if (rc == 0) {
		check(*out != NULL, "success gives a plan");
		check(err.code == CMR_OK && err.msg[0] == '\0',
		      "success leaves the error untouched");
		return rc;
	}
	check(*out == NULL, "no plan on failure");
	check(rc == CMR_EINVAL || rc == CMR_ENOMEM,
	      "planfile_read returns 0, CMR_EINVAL or CMR_ENOMEM");
	check((int)err.code == rc, "err->code is the return code");
	check(rc == CMR_ENOMEM || strncmp(err.msg, PREFIX, strlen(PREFIX)) == 0,
	      "a refusal starts with 'plan file: '");
	return rc;
}

static void dump(const char *label, const struct cmr_buf *b)
{
	fprintf(stderr, "--- %s (%zu bytes)\n%.*s\n", label, b->len,
	        (int)(b->len > 4000 ? 4000 : b->len), b->ptr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cmr_error err = CMR_ERROR_INIT;
	struct cmr_buf first = CMR_BUF_INIT;
	struct cmr_buf second = CMR_BUF_INIT;
	struct cmr_plan *plan = NULL;
	struct cmr_plan *again = NULL;
	int rc;

	rc = read_checked(&plan, (const char *)data, size);
	if (rc < 0)
		goto done;
	check(cmr_planfile_detect((const char *)data, size),
	      "an accepted plan file is detected as one");

	if (cmr_planfile_write(&first, plan, &err) < 0)
		goto done; /* only CMR_ENOMEM */
	rc = read_checked(&again, first.ptr, first.len);
	if (rc == CMR_ENOMEM)
		goto done;
	if (rc != 0)
		dump("written", &first);
	check(rc == 0, "what planfile_write writes, planfile_read reads");
	check(cmr_planfile_detect(first.ptr, first.len),
	      "a written plan is detected as one");
	if (cmr_planfile_write(&second, again, &err) < 0)
		goto done;
	if (first.len != second.len ||
	    memcmp(first.ptr, second.ptr, first.len) != 0) {
		dump("first write", &first);
		dump("second write", &second);
	}
	check(first.len == second.len &&
	              memcmp(first.ptr, second.ptr, first.len) == 0,
	      "write(read(write(p))) is byte-identical to write(p)");
done:
	cmr_plan_free(plan);
	cmr_plan_free(again);
	cmr_buf_release(&first);
	cmr_buf_release(&second);
	return 0;
}
