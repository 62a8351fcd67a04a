#!/bin/sh
# The `fuzz` ctests.  Builds the libFuzzer targets (build.sh), then either
#
#   run.sh TARGET       fuzzes TARGET (load | api | planfile) for a short
#                       while (CMR_FUZZ_SECONDS; default 20 s for load,
#                       15 s for the others) from its seed
#                       corpus (seeds.sh) and dictionary; or
#   run.sh --replay     runs every target once over each file of its seed
#                       corpus and of tests/fuzz/regressions/<target>/ (the
#                       inputs that once found a bug: they must stay fixed).
#
# Any crash, sanitizer report, leak or broken promise of a harness fails the
# test; libFuzzer leaves the input as <target>-crash-* in the build
# directory.  With no argument, TARGET is load (the original fuzz.load).
#
# Longer runs: see docs/fuzzing.md.
set -u
top=${CMR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CMR_BUILD_DIR:-$top/build}/fuzz
target=${1:-load}
# 20 s for the loader (as docs/format.md says), 15 s for the others: the
# whole fuzz label stays near a minute.
case $target in
load) seconds=${CMR_FUZZ_SECONDS:-20} ;;
*) seconds=${CMR_FUZZ_SECONDS:-15} ;;
esac

"$top/tests/fuzz/build.sh" "$build"
rc=$?
[ $rc -eq 0 ] || exit $rc

dict_of() {
	case $1 in
	load) echo "$top/tests/fuzz/yaml.dict" ;;
	*) echo "$top/tests/fuzz/$1.dict" ;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "$target" = --replay ]; then
	bad=0
	for t in load api planfile; do
		sh "$top/tests/fuzz/seeds.sh" "$t" "$tmp/$t" || exit 1
		files=$(find "$tmp/$t" -type f | sort)
		if [ -d "$top/tests/fuzz/regressions/$t" ]; then
			files="$files $(find "$top/tests/fuzz/regressions/$t" \
				-type f ! -name README.md | sort)"
		fi
		n=$(echo "$files" | wc -w)
		# shellcheck disable=SC2086
		if "$build/fuzz_$t" -timeout=10 -rss_limit_mb=2048 \
			$files >"$tmp/$t.log" 2>&1; then
			echo "fuzz: $t: $n inputs replayed, all clean"
		else
			cat "$tmp/$t.log" >&2
			echo "fuzz: $t: replay failed" >&2
			bad=1
		fi
	done
	exit $bad
fi

case $target in
load | api | planfile) ;;
*)
	echo "run.sh: unknown target '$target'" >&2
	exit 64
	;;
esac
sh "$top/tests/fuzz/seeds.sh" "$target" "$tmp/seeds" || exit 1
mkdir -p "$tmp/corpus"
cd "$build" || exit 1
"$build/fuzz_$target" -dict="$(dict_of "$target")" -max_len=16384 \
	-timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" \
	-artifact_prefix="$build/$target-" -print_final_stats=1 \
	"$tmp/corpus" "$tmp/seeds"
rc=$?
if [ $rc -ne 0 ]; then
	echo "fuzz: fuzz_$target failed (exit $rc); the input is in $build" >&2
	exit 1
fi
echo "fuzz: $target: $seconds s without a failure"
