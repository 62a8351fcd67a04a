#!/bin/sh
# Builds the libFuzzer target for the loader with clang, in its own
# directory (the main build may use gcc and other flags).
#
# Usage: tests/fuzz/build.sh OUTDIR     -> OUTDIR/fuzz_load
# Exit 77 (skipped) when clang or its libFuzzer runtime is missing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: build.sh OUTDIR}
cc=${CMR_FUZZ_CC:-clang}
mkdir -p "$out"

if ! command -v "$cc" >/dev/null 2>&1; then
	echo "fuzz: $cc not found; skipping (install clang and libclang-rt-dev)"
	exit 77
fi
probe="$out/probe.c"
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe"
if ! "$cc" -fsanitize=fuzzer "$probe" -o "$out/probe" >/dev/null 2>&1; then
	echo "fuzz: $cc has no libFuzzer runtime; skipping (install libclang-rt-dev)"
	exit 77
fi
rm -f "$probe" "$out/probe"

# The loader and what it stands on: lib/base, lib/model, lib/load.  The
# same force-included banned.h and POSIX level as the real build.
yaml_cflags=$(pkg-config --cflags yaml-0.1 2>/dev/null || true)
yaml_libs=$(pkg-config --libs yaml-0.1 2>/dev/null || echo -lyaml)
# shellcheck disable=SC2086
"$cc" -std=c11 -D_POSIX_C_SOURCE=200809L -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer \
	-include "$top/lib/base/banned.h" \
	-I "$top/lib/include" -I "$top/lib" $yaml_cflags \
	"$top/tests/fuzz/fuzz_load.c" \
	"$top"/lib/base/*.c "$top"/lib/model/*.c "$top"/lib/load/*.c \
	$yaml_libs -lcrypto \
	-o "$out/fuzz_load.new"
mv "$out/fuzz_load.new" "$out/fuzz_load"
echo "fuzz: built $out/fuzz_load"
