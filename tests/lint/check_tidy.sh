#!/bin/sh
# Fails when a .c file under lib/ or cmd/ has a clang-tidy finding
# (.clang-tidy makes every warning an error; STYLE.md 2.11).  Headers are checked through the files that include them
# (HeaderFilterRegex).
#
# Usage: check_tidy.sh [FILE...]   (default: the list below)
#   CMR_BUILD_DIR   a configured build tree with compile_commands.json
#                   (ctest sets it; default: build/)
#   CMR_SOURCE_DIR  the repository root (default: found from this script)
#   CLANG_TIDY      the clang-tidy to run (default: clang-tidy)
# Skips, and passes, only when clang-tidy is not installed.
set -euf
top=${CMR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CMR_BUILD_DIR:-$top/build}
build=$(cd "$build" 2>/dev/null && pwd || echo "$build") # before the cd
tidy=${CLANG_TIDY:-clang-tidy}
cd "$top"

if ! command -v "$tidy" >/dev/null 2>&1; then
	echo "SKIPPED: $tidy not found; install clang-tidy 14 or later" \
	     "(Debian: apt-get install clang-tidy) to run this check"
	exit 0
fi
if [ ! -f "$build/compile_commands.json" ]; then
	echo "no compile database: $build/compile_commands.json is missing" \
	     "(configure with CMake; CMAKE_EXPORT_COMPILE_COMMANDS is ON)" >&2
	exit 1
fi

# Every .c file under lib/ and cmd/, found rather than listed, so a new
# file is checked from the day it is added.
files=$(find lib cmd -name '*.c' | LC_ALL=C sort)
if [ $# -gt 0 ]; then
	files=$*
fi

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT INT TERM

# Two files at a time (the CI runners and dev boxes have two cores).  Each
# run keeps its output, and marks the file .ok only when clang-tidy passed,
# so a run that did not happen counts as a failure too.  -UNDEBUG keeps the
# asserts that state invariants to the analyzer in release builds as well.
# The list is split on whitespace on purpose (no globbing: set -f).
# shellcheck disable=SC2016,SC2086
printf '%s\n' $files | xargs -P2 -n1 sh -c '
	log=$1/$(printf "%s" "$4" | tr / _)
	if "$2" -p "$3" --quiet --extra-arg=-UNDEBUG "$4" >"$log.log" 2>&1; then
		: >"$log.ok"
	fi
' check_tidy "$logs" "$tidy" "$build"

bad=0
for f in $files; do
	log=$logs/$(printf '%s' "$f" | tr / _)
	if [ ! -f "$log.ok" ]; then
		echo "not clang-tidy clean: $f"
		grep -v ' warnings\? generated\.$' "$log.log" 2>/dev/null || true
		bad=$((bad + 1))
	fi
done
# shellcheck disable=SC2086
n=$(echo $files | wc -w)
echo "clang-tidy checked $n files, $bad with findings"
[ "$bad" -eq 0 ]
