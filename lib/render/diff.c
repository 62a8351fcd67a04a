/*
 * diff.c -- a small line-based unified diff for multi-line values.
 *
 * Safety valves hold XML or properties text; a reviewer wants to see the
 * lines that change, not two walls of text.  The diff is the classic
 * longest-common-subsequence table over lines, after stripping the lines
 * the two texts share at the head and the tail (which is most of a
 * typical edit, and keeps the table small).  The table is bounded
 * (MAX_CELLS entries of 4 bytes); a larger middle is shown as removed and
 * added as one block, which is still a correct diff, only a coarser one.
 *
 * A line is compared with its terminator: "a\n" and a final "a" without a
 * newline differ, and the output says "\ No newline at end of file" like
 * diff(1), so a change of the trailing newline is visible.
 */
#include <stdint.h>
#include <string.h>

#include "cmr/alloc.h"
#include "cmr/render.h"

#include "render_int.h"

#define CONTEXT   ((size_t)3)
#define MAX_CELLS ((size_t)1 << 20)

struct line {
	const char *p;
	size_t len;
	bool nl; /* ends with '\n' */
};

enum op { OP_EQ, OP_DEL, OP_INS };

/* Splits s into lines; *out is cmr_free'd by the caller. */
static int split(struct line **out, size_t *n, const char *s)
{
	size_t count = 0;
	size_t k = 0;
	const char *q;

	for (q = s; *q; q++)
		if (*q == '\n')
			count++;
	if (*s && s[strlen(s) - 1] != '\n')
		count++;
	*n = count;
	*out = cmr_calloc(count ? count : 1, sizeof(**out));
	if (!*out)
		return CMR_ENOMEM;
	while (*s) {
		const char *e = strchr(s, '\n');
		struct line *l = &(*out)[k++];

		l->p = s;
		l->len = e ? (size_t)(e - s) : strlen(s);
		l->nl = e != NULL;
		s += l->len + (e ? 1 : 0);
	}
	return 0;
}

void cmr_render_add_safe(struct cmr_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	size_t run = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 0x20 && c != 0x7f) || c == '\t')
			continue;
		cmr_buf_add(b, s + run, i - run);
		cmr_buf_adds(b, "\\x");
		cmr_buf_addc(b, hex[c >> 4]);
		cmr_buf_addc(b, hex[c & 15]);
		run = i + 1;
	}
	cmr_buf_add(b, s + run, len - run);
}

static bool same(const struct line *x, const struct line *y)
{
	return x->len == y->len && x->nl == y->nl &&
	       memcmp(x->p, y->p, x->len) == 0;
}

/*
 * The edit script of the middle parts a[0..m) and b[0..n), appended to
 * ops at *k: the LCS table when it fits, else delete-all then insert-all.
 * Within a change, deletions come before insertions, as in diff(1).
 */
/* t[i*w + j] = length of the LCS of a[i..m) and b[j..n), w = n + 1. */
static void fill_table(uint32_t *t, const struct line *a, size_t m,
                       const struct line *b, size_t n)
{
	size_t i;
	size_t j;
	size_t w = n + 1;

	for (i = m; i-- > 0;)
		for (j = n; j-- > 0;) {
			uint32_t down = t[(i + 1) * w + j];
			uint32_t right = t[i * w + j + 1];

			if (same(&a[i], &b[j]))
				t[i * w + j] = t[(i + 1) * w + j + 1] + 1;
			else
				t[i * w + j] = down >= right ? down : right;
		}
}

/*
 * The edit script of the middle parts a[0..m) and b[0..n), appended to
 * ops at *k: the LCS table when it fits, else delete-all then insert-all.
 * Within a change, deletions come before insertions, as in diff(1).
 */
static int script_middle(enum op *ops, size_t *k, const struct line *a,
                         size_t m, const struct line *b, size_t n)
{
	uint32_t *t = NULL;
	size_t i = 0;
	size_t j = 0;
	size_t w = n + 1;

	if (m > 0 && n > 0 && m + 1 <= MAX_CELLS / w) {
		t = cmr_calloc((m + 1) * w, sizeof(*t));
		if (!t)
			return CMR_ENOMEM;
		fill_table(t, a, m, b, n);
	}
	while (t && i < m && j < n) {
		if (same(&a[i], &b[j])) {
			ops[(*k)++] = OP_EQ;
			i++;
			j++;
		} else if (t[(i + 1) * w + j] >= t[i * w + j + 1]) {
			ops[(*k)++] = OP_DEL;
			i++;
		} else {
			ops[(*k)++] = OP_INS;
			j++;
		}
	}
	for (; i < m; i++)
		ops[(*k)++] = OP_DEL;
	for (; j < n; j++)
		ops[(*k)++] = OP_INS;
	cmr_free(t);
	return 0;
}

static void range(struct cmr_buf *out, char sign, size_t start, size_t len)
{
	/* diff(1): an empty range names the line before it. */
	if (len == 1)
		cmr_buf_addf(out, "%c%zu", sign, start + 1);
	else
		cmr_buf_addf(out, "%c%zu,%zu", sign, len ? start + 1 : start,
		             len);
}

static void emit_line(struct cmr_buf *out, const char *indent, bool color,
                      char sign, const struct line *l)
{
	const char *sgr = sign == '-'   ? CMR_SGR_RED
	                  : sign == '+' ? CMR_SGR_GREEN
	                                : NULL;

	cmr_buf_adds(out, indent);
	if (color && sgr)
		cmr_buf_adds(out, sgr);
	cmr_buf_addc(out, sign);
	cmr_render_add_safe(out, l->p, l->len);
	if (color && sgr)
		cmr_buf_adds(out, CMR_SGR_RESET);
	cmr_buf_addc(out, '\n');
	if (!l->nl) {
		cmr_buf_adds(out, indent);
		cmr_buf_adds(out, "\\ No newline at end of file\n");
	}
}

/* One hunk: ops[s..e), where a and b are at lines ia and ib. */
static void emit_hunk(struct cmr_buf *out, const char *indent, bool color,
                      const enum op *ops, size_t s, size_t e,
                      const struct line *a, size_t ia, const struct line *b,
                      size_t ib)
{
	size_t k;
	size_t alen = 0;
	size_t blen = 0;

	for (k = s; k < e; k++) {
		alen += ops[k] != OP_INS;
		blen += ops[k] != OP_DEL;
	}
	cmr_buf_adds(out, indent);
	if (color)
		cmr_buf_adds(out, CMR_SGR_CYAN);
	cmr_buf_adds(out, "@@ ");
	range(out, '-', ia, alen);
	cmr_buf_addc(out, ' ');
	range(out, '+', ib, blen);
	cmr_buf_adds(out, " @@");
	if (color)
		cmr_buf_adds(out, CMR_SGR_RESET);
	cmr_buf_addc(out, '\n');
	for (k = s; k < e; k++) {
		switch (ops[k]) {
		case OP_EQ:
			emit_line(out, indent, color, ' ', &a[ia++]);
			ib++;
			break;
		case OP_DEL:
			emit_line(out, indent, color, '-', &a[ia++]);
			break;
		case OP_INS:
			emit_line(out, indent, color, '+', &b[ib++]);
			break;
		}
	}
}

/*
 * Where the hunk that holds the change at c ends: past every later change
 * separated from the previous one by at most 2*CONTEXT equal lines, plus
 * CONTEXT lines of trailing context.
 */
static size_t hunk_end(const enum op *ops, size_t nops, size_t c)
{
	size_t e = c;

	for (;;) {
		size_t r;

		while (e < nops && ops[e] != OP_EQ)
			e++;
		r = e;
		while (r < nops && ops[r] == OP_EQ)
			r++;
		if (r == nops || r - e > 2 * CONTEXT)
			break;
		e = r;
	}
	return e + CONTEXT < nops ? e + CONTEXT : nops;
}

/* Advances the line counters over ops[*pos..to). */
static void advance(const enum op *ops, size_t *pos, size_t to, size_t *ia,
                    size_t *ib)
{
	for (; *pos < to; (*pos)++) {
		*ia += ops[*pos] != OP_INS;
		*ib += ops[*pos] != OP_DEL;
	}
}

/* Groups the script into hunks with CONTEXT lines around each change. */
static void emit_hunks(struct cmr_buf *out, const char *indent, bool color,
                       const enum op *ops, size_t nops, const struct line *a,
                       const struct line *b)
{
	size_t pos = 0;
	size_t ia = 0;
	size_t ib = 0;
	size_t next = 0;

	for (;;) {
		size_t c = next;
		size_t s;
		size_t e;

		while (c < nops && ops[c] == OP_EQ)
			c++;
		if (c == nops)
			break;
		s = c >= next + CONTEXT ? c - CONTEXT : next;
		e = hunk_end(ops, nops, c);
		advance(ops, &pos, s, &ia, &ib);
		emit_hunk(out, indent, color, ops, s, e, a, ia, b, ib);
		advance(ops, &pos, e, &ia, &ib);
		next = e;
	}
}

int cmr_render_diff(struct cmr_buf *out, const char *a, const char *b,
                    const char *indent, bool color, struct cmr_error *err)
{
	struct line *la = NULL;
	struct line *lb = NULL;
	enum op *ops = NULL;
	size_t na;
	size_t nb;
	size_t pre = 0;
	size_t suf = 0;
	size_t k = 0;
	size_t i;
	int error = CMR_ENOMEM;

	if (split(&la, &na, a) < 0 || split(&lb, &nb, b) < 0)
		goto done;
	while (pre < na && pre < nb && same(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre &&
	       same(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	ops = cmr_calloc(na + nb + 1, sizeof(*ops));
	if (!ops)
		goto done;
	for (i = 0; i < pre; i++)
		ops[k++] = OP_EQ;
	if (script_middle(ops, &k, la + pre, na - pre - suf, lb + pre,
	                  nb - pre - suf) < 0)
		goto done;
	for (i = 0; i < suf; i++)
		ops[k++] = OP_EQ;
	emit_hunks(out, indent, color, ops, k, la, lb);
	error = cmr_buf_error(out);
done:
	cmr_free(ops);
	cmr_free(la);
	cmr_free(lb);
	if (error < 0)
		return cmr_error_set(err, CMR_ENOMEM,
		                     "render: out of memory building a diff");
	return 0;
}
