#!/bin/sh
# Fails when lib/ uses a banned libc function (lib/base/banned.h makes them
# compile errors too; this catches them in files not yet built) or writes
# to stdio / exits (the library never prints or exits: STYLE.md 2.3).
set -eu
top=${CMR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
pat='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|atoi|atol|gmtime|localtime|ctime)[[:space:]]*\('
io='\b(printf|puts|perror|exit|abort)[[:space:]]*\(|\bf?printf[[:space:]]*\([[:space:]]*std(out|err)'
found=0
if grep -rnE "$pat" --include='*.c' --include='*.h' lib | grep -v 'lib/base/banned.h' | grep -vE '(snprintf|vsnprintf|_r[[:space:]]*\()'; then
	echo "banned functions used in lib/ (see lib/base/banned.h)"
	found=1
fi
if grep -rnE "$io" --include='*.c' lib; then
	echo "lib/ must not print or exit; return an error or use the logger"
	found=1
fi
[ "$found" -eq 0 ] && echo "no banned calls in lib/"
exit $found
