/*
 * common.h -- small portability macros shared by every cmrecon header.
 */
#ifndef CMR_COMMON_H
#define CMR_COMMON_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
/* printf-style checking of format strings (fmt is argument a, args at b). */
#define CMR_PRINTF(a, b) __attribute__((format(printf, a, b)))
/* The result of this function must be looked at. */
#define CMR_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define CMR_PRINTF(a, b)
#define CMR_WARN_UNUSED
#endif

/* Number of elements of a true array (not a pointer). */
#define CMR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* From a pointer to a member back to its containing struct (git, Linux). */
#define cmr_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
