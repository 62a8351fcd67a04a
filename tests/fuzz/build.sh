#!/bin/sh
# Builds the libFuzzer targets with clang, in their own directory (the main
# build may use gcc and other flags):
#
#   fuzz_load       the desired-state loader (cmr_load_buffer)
#   fuzz_api        every JSON decoder of CM's answers (cmr_api_decode_*)
#   fuzz_planfile   the plan-file reader and its write/read round trip
#
# Usage: tests/fuzz/build.sh OUTDIR     -> OUTDIR/fuzz_{load,api,planfile}
# Exit 77 (skipped) when clang or its libFuzzer runtime is missing.
#
# libcmrecon is compiled once (-fsanitize=fuzzer-no-link,address,undefined,
# CMR_DEBUG_ARENA so every arena allocation is its own malloc and ASan sees
# its bounds) into OUTDIR/libcmrecon-fuzz.a, then each harness is linked
# against it.  Several ctest runs may call this at once: a lock serialises
# them, and a stamp makes the later ones a no-op when no source changed.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
cc=${CMR_FUZZ_CC:-clang}
jobs=${CMR_FUZZ_JOBS:-2}
targets="load api planfile"
mkdir -p "$out"

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found; skipping (install clang and libclang-rt-dev)"
	exit 77
fi

# One builder at a time (flock is in util-linux; without it, go on).
if [ -z "${CMR_FUZZ_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
	CMR_FUZZ_LOCKED=1 exec flock "$out/.lock" "$0" "$@"
fi

# Up to date: every target exists and nothing under lib/ or tests/fuzz/
# is newer than the stamp.
stamp="$out/.stamp"
if [ -f "$stamp" ]; then
	uptodate=1
	for t in $targets; do
		[ -x "$out/fuzz_$t" ] || uptodate=0
	done
	if [ $uptodate = 1 ] && [ -z "$(find "$top/lib" "$top/tests/fuzz" \
		-newer "$stamp" \( -name '*.[ch]' -o -name build.sh \) \
		-print 2>/dev/null | head -n 1)" ]; then
		echo "fuzz: targets in $out are up to date"
		exit 0
	fi
fi

probe="$out/probe.c"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! "$cc" -fsanitize=fuzzer "$probe" -o "$out/probe" >/dev/null 2>&1; then
	echo "fuzz: $cc has no libFuzzer runtime; skipping (install libclang-rt-dev)"
	rm -f "$probe"
	exit 77
fi
rm -f "$probe" "$out/probe"

# The same force-included banned.h and POSIX level as the real build.
yaml_cflags=$(pkg-config --cflags yaml-0.1 2>/dev/null || true)
yaml_libs=$(pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)
json_cflags=$(pkg-config --cflags json-c 2>/dev/null || true)
json_libs=$(pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
curl_libs=$(pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-std=c11 -D_POSIX_C_SOURCE=200809L -DCMR_DEBUG_ARENA=1 -g -O1
	$san -fno-omit-frame-pointer -I $top/lib/include -I $top/lib
	$yaml_cflags $json_cflags"

# libcmrecon: every lib/ source, compiled in parallel.
objdir="$out/obj"
rm -rf "$objdir"
mkdir -p "$objdir"
export cc cflags top objdir
# shellcheck disable=SC2016
find "$top/lib" -name '*.c' | sort | xargs -P "$jobs" -I{} sh -c '
	src=$1
	obj=$objdir/$(echo "${src#"$top"/lib/}" | tr / _ | sed "s/\.c$/.o/")
	# shellcheck disable=SC2086
	"$cc" $cflags -fsanitize=fuzzer-no-link \
		-include "$top/lib/base/banned.h" -c "$src" -o "$obj"
' sh {}
rm -f "$out/libcmrecon-fuzz.a"
ar rcs "$out/libcmrecon-fuzz.a" "$objdir"/*.o

for t in $targets; do
	# shellcheck disable=SC2086
	"$cc" $cflags -fsanitize=fuzzer \
		"$top/tests/fuzz/fuzz_$t.c" "$out/libcmrecon-fuzz.a" \
		$yaml_libs $json_libs $curl_libs -lcrypto \
		-o "$out/fuzz_$t.new"
	mv "$out/fuzz_$t.new" "$out/fuzz_$t"
	echo "fuzz: built $out/fuzz_$t"
done
touch "$stamp"
