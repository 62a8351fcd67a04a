#!/bin/sh
# The `fuzz` ctest: builds the loader's libFuzzer target (build.sh) and runs
# it for a short while (CMR_FUZZ_SECONDS, default 20) from a corpus seeded
# with the examples and the loader fixtures.  Any crash, sanitizer report,
# leak or broken promise in fuzz_load.c fails the test; libFuzzer leaves
# the input as crash-* in the build directory.
#
# Longer runs (see docs/format.md, "Fuzzing"):
#   tests/fuzz/build.sh build-fuzz
#   mkdir -p fuzz-corpus && cp examples/*.yaml tests/fixtures/load/*.yaml fuzz-corpus/
#   build-fuzz/fuzz_load -dict=tests/fuzz/yaml.dict -max_len=65536 \
#       -timeout=10 -rss_limit_mb=2048 -jobs=2 -max_total_time=3600 fuzz-corpus
set -u
top=${CMR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CMR_BUILD_DIR:-$top/build}/fuzz
seconds=${CMR_FUZZ_SECONDS:-20}

"$top/tests/fuzz/build.sh" "$build"
rc=$?
[ $rc -eq 0 ] || exit $rc

corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT INT TERM
cp "$top"/examples/*.yaml "$top"/examples/overlay/*.yaml \
	"$top"/tests/fixtures/load/*.yaml "$corpus"/ 2>/dev/null

cd "$build" || exit 1
"$build/fuzz_load" -dict="$top/tests/fuzz/yaml.dict" -max_len=16384 \
	-timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds" \
	-print_final_stats=1 "$corpus"
rc=$?
if [ $rc -ne 0 ]; then
	echo "fuzz: fuzz_load failed (exit $rc); the input is in $build" >&2
	exit 1
fi
echo "fuzz: $seconds s without a failure"
