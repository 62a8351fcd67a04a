/*
 * suggest.c -- edit distance and "did you mean".
 *
 * Names in CM are long snake_case identifiers, and typos are usually one
 * or two keystrokes (a dropped letter, a swap), so optimal string
 * alignment distance with a threshold relative to the length catches them
 * without suggesting unrelated names.  Two rows of a fixed-size matrix
 * keep it allocation-free.
 */
#include "cmr/suggest.h"

#include <ctype.h>
#include <string.h>

#define MAXLEN 256

static int ieq(char a, char b)
{
	return tolower((unsigned char)a) == tolower((unsigned char)b);
}

size_t cmr_edit_distance(const char *a, const char *b)
{
	size_t rows[3][MAXLEN + 1];
	size_t la = strnlen(a, MAXLEN);
	size_t lb = strnlen(b, MAXLEN);
	size_t i;
	size_t j;
	size_t *prev2 = rows[0];
	size_t *prev = rows[1];
	size_t *cur = rows[2];

	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = ieq(a[i - 1], b[j - 1]) ? 0 : 1;
			size_t v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && ieq(a[i - 1], b[j - 2]) &&
			    ieq(a[i - 2], b[j - 1]) && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

int cmr_suggest_plausible(const char *typed, const char *candidate)
{
	size_t lt = strlen(typed);
	size_t lc = strlen(candidate);
	size_t limit = lt / 3 > 1 ? lt / 3 : 1;

	if (lt == 0 || lc == 0)
		return 0;
	if (cmr_edit_distance(typed, candidate) <= limit)
		return 1;
	if (lt >= 4 && lc >= 4 &&
	    (strstr(candidate, typed) || strstr(typed, candidate)))
		return 1;
	return 0;
}

void cmr_suggest_init(struct cmr_suggest *s, const char *typed)
{
	memset(s, 0, sizeof(*s));
	s->typed = typed;
}

void cmr_suggest_offer(struct cmr_suggest *s, const char *candidate)
{
	size_t d;
	size_t k;

	if (!cmr_suggest_plausible(s->typed, candidate) ||
	    strcmp(s->typed, candidate) == 0)
		return;
	d = cmr_edit_distance(s->typed, candidate);
	for (k = 0; k < s->n; k++)
		if (strcmp(s->names[k], candidate) == 0)
			return;
	/* Find the insertion point: by distance, then by name. */
	for (k = 0; k < s->n; k++)
		if (d < s->dist[k] ||
		    (d == s->dist[k] && strcmp(candidate, s->names[k]) < 0))
			break;
	if (k >= CMR_SUGGEST_MAX)
		return;
	if (s->n < CMR_SUGGEST_MAX)
		s->n++;
	memmove(&s->names[k + 1], &s->names[k],
	        (s->n - 1 - k) * sizeof(s->names[0]));
	memmove(&s->dist[k + 1], &s->dist[k],
	        (s->n - 1 - k) * sizeof(s->dist[0]));
	s->names[k] = candidate;
	s->dist[k] = d;
}
