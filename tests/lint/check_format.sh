#!/bin/sh
# Fails when any tracked-or-new C file is not clang-format clean.
# Usage: check_format.sh   (CMR_SOURCE_DIR defaults to the repository root)
set -eu
top=${CMR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top"
if ! command -v clang-format >/dev/null 2>&1; then
	echo "clang-format not found: install clang-format (make deps does)" >&2
	exit 1
fi
files=$(find cmd lib tests -name '*.[ch]' -not -path '*/build*' | sort)
bad=0
for f in $files; do
	if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
		echo "not clang-format clean: $f (run: clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
n=$(echo "$files" | wc -w)
echo "checked $n files, $bad not formatted"
[ "$bad" -eq 0 ]
