#!/bin/sh
# Writes the seed corpus of one fuzz target into DIR (created if missing).
#
# Usage: tests/fuzz/seeds.sh TARGET DIR     TARGET: load | api | planfile
#
#   load       examples/**/*.yaml and the loader's fixtures
#   api        every CM answer in tests/fixtures/api, tests/fixtures/
#              cm-responses and examples/demo-seed.json (an export), each
#              once per decoder: the first byte picks the decoder
#              (fuzz_api.c), so a seed is that byte followed by the body
#   planfile   tests/fixtures/render/*.plan.json and every golden
#              expected.plan.json (plans the real planner wrote)
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:?usage: seeds.sh TARGET DIR}
dir=${2:?usage: seeds.sh TARGET DIR}
mkdir -p "$dir"

case $target in
load)
	for f in "$top"/examples/*.yaml "$top"/examples/overlay/*.yaml \
		"$top"/tests/fixtures/load/*.yaml; do
		cp "$f" "$dir/$(basename "$f")"
	done
	;;
api)
	ndecoders=14 # NDECODERS in fuzz_api.c
	for f in "$top"/tests/fixtures/api/*.json \
		"$top"/tests/fixtures/cm-responses/*.json \
		"$top"/tests/fixtures/cm-responses/*.txt \
		"$top"/examples/demo-seed.json; do
		[ -f "$f" ] || continue
		name=$(basename "$f")
		sel=0
		while [ $sel -lt $ndecoders ]; do
			# shellcheck disable=SC2059
			printf "\\$(printf '%03o' $sel)" >"$dir/$sel-$name"
			cat "$f" >>"$dir/$sel-$name"
			sel=$((sel + 1))
		done
	done
	;;
planfile)
	for f in "$top"/tests/fixtures/render/*.plan.json; do
		cp "$f" "$dir/render-$(basename "$f")"
	done
	for f in "$top"/tests/golden/*/expected.plan.json; do
		[ -f "$f" ] || continue
		cp "$f" "$dir/golden-$(basename "$(dirname "$f")").plan.json"
	done
	;;
*)
	echo "seeds.sh: unknown target '$target'" >&2
	exit 64
	;;
esac
