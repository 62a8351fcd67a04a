/*
 * banned.h -- libc functions that lib/ must not use (after git's banned.h).
 *
 * Every lib/ source is compiled with this header force-included (see
 * lib/CMakeLists.txt).  The system headers that declare the banned names are
 * included first, so their declarations stay intact; any later use of a
 * banned name in our code expands to an undeclared identifier and fails to
 * compile, with the reason in the identifier.
 *
 * Use instead: cmr_buf (sprintf, strcat, strcpy, strncpy, strncat), strtok_r
 * or explicit scanning (strtok), cmr_parse_i64 (atoi, atol), gmtime_r and
 * localtime_r (gmtime, localtime, ctime).
 */
#ifndef CMR_BASE_BANNED_H
#define CMR_BASE_BANNED_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CMR_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) CMR_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CMR_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CMR_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) CMR_BANNED(strncat)
#undef strtok
#define strtok(x, y) CMR_BANNED(strtok)
#undef sprintf
#define sprintf(...) CMR_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CMR_BANNED(vsprintf)
#undef atoi
#define atoi(x) CMR_BANNED(atoi)
#undef atol
#define atol(x) CMR_BANNED(atol)
#undef gmtime
#define gmtime(t) CMR_BANNED(gmtime)
#undef localtime
#define localtime(t) CMR_BANNED(localtime)
#undef ctime
#define ctime(t) CMR_BANNED(ctime)

#endif
