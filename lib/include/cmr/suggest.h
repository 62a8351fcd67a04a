/*
 * suggest.h -- "did you mean" for misspelt names.
 *
 * One implementation for every place that suggests names: unknown fields
 * in the desired-state file, unknown CM parameters at plan time, unknown
 * --target scopes.
 */
#ifndef CMR_SUGGEST_H
#define CMR_SUGGEST_H

#include <stddef.h>

/*
 * The optimal-string-alignment distance between a and b (insertions,
 * deletions, substitutions and adjacent transpositions each cost 1),
 * comparing ASCII letters case-insensitively.  Strings longer than 256
 * bytes are compared by their first 256.  Never allocates.
 */
size_t cmr_edit_distance(const char *a, const char *b);

/*
 * True when `candidate` is a plausible correction of `typed`: within an
 * edit distance of max(1, strlen(typed) / 3), or one contains the other
 * and the shorter is at least 4 characters long.
 */
int cmr_suggest_plausible(const char *typed, const char *candidate);

/*
 * A running "best suggestions" list: feed it candidates in any order with
 * cmr_suggest_offer; it keeps the `CMR_SUGGEST_MAX` closest plausible
 * ones, ordered by distance then name.  Pointers are borrowed.
 */
#define CMR_SUGGEST_MAX 3

struct cmr_suggest {
	const char *typed;
	size_t n;
	const char *names[CMR_SUGGEST_MAX];
	size_t dist[CMR_SUGGEST_MAX];
};

void cmr_suggest_init(struct cmr_suggest *s, const char *typed);
void cmr_suggest_offer(struct cmr_suggest *s, const char *candidate);

#endif
