/*
 * render_int.h -- what the files of lib/render share: the ANSI colours.
 *
 * Colours are plain SGR sequences (no terminfo): every terminal cmrecon is
 * run on understands them, and the CLI turns them off for pipes and when
 * NO_COLOR is set.
 */
#ifndef CMR_RENDER_RENDER_INT_H
#define CMR_RENDER_RENDER_INT_H

#include <stddef.h>

#include "cmr/buf.h"

#define CMR_SGR_RESET  "\033[0m"
#define CMR_SGR_BOLD   "\033[1m"
#define CMR_SGR_RED    "\033[31m"
#define CMR_SGR_GREEN  "\033[32m"
#define CMR_SGR_YELLOW "\033[33m"
#define CMR_SGR_CYAN   "\033[36m"

/*
 * Appends len bytes of s with control characters other than tab written
 * as \xNN, so text from CM (a value line, a key, a message) can never
 * move the cursor, clear the screen or fake colours on a terminal.
 */
void cmr_render_add_safe(struct cmr_buf *b, const char *s, size_t len);

#endif
