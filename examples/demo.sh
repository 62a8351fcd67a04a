#!/bin/sh
# The demo: cmsim (a simulated Cloudera Manager) with the example
# deployment, then validate, plan, apply, plan again -- with the real
# binaries, on a free loopback port.  Run it through `make demo`.
#
# Usage: examples/demo.sh [BUILD_DIR]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
cmrecon=$build/cmd/cmrecon/cmrecon
cmsim=$build/cmd/cmsim/cmsim
file=$top/examples/quickstart.yaml
tmp=$(mktemp -d)
sim_pid=""
summary=""

cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

banner() {
	printf '\n\033[1m==> %s\033[0m\n' "$*" 2>/dev/null || printf '\n==> %s\n' "$*"
}

# The exit codes of docs/DESIGN.md, in words.
meaning() {
	case $1 in
	0) echo "success / no changes" ;;
	1) echo "error" ;;
	2) echo "changes present" ;;
	3) echo "saved plan stale" ;;
	4) echo "refused by a guard" ;;
	*) echo "usage" ;;
	esac
}

# step NAME COMMAND...: runs one demo step and records how it went.
step() {
	name=$1
	shift
	banner "$name:  $(echo "$*" | sed "s|$build/cmd/[a-z]*/||")"
	"$@" 2>"$tmp/stderr"
	rc=$?
	cat "$tmp/stderr" >&2
	summary="$summary\n  $name: exit $rc ($(meaning "$rc"))"
	return $rc
}

if [ ! -x "$cmrecon" ]; then
	echo "demo: $cmrecon is missing; run 'make demo' (it builds first)" >&2
	exit 1
fi

if [ -x "$cmsim" ] && [ -f "$top/examples/demo-seed.json" ]; then
	banner "starting cmsim with examples/demo-seed.json"
	"$cmsim" --listen 127.0.0.1:0 --port-file "$tmp/port" \
		--seed "$top/examples/demo-seed.json" \
		--parcel-repo "https://archive.example.com/p/cdh7/7.1.9/parcels/=$top/examples/parcel-repo/manifest.json" \
		--time-scale 1000 >"$tmp/cmsim.log" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$tmp/port" ]; then
		echo "demo: cmsim did not start:" >&2
		cat "$tmp/cmsim.log" >&2
		exit 1
	fi
	port=$(cat "$tmp/port")
	echo "cmsim listens on 127.0.0.1:$port (simulated time runs 1000x)"
	CMRECON_URL=http://127.0.0.1:$port
	CMRECON_USER=admin
	CMRECON_PASSWORD=admin
	export CMRECON_URL CMRECON_USER CMRECON_PASSWORD
	summary="$summary\n  cmsim: started on port $port"
else
	echo "demo: $cmsim or examples/demo-seed.json is missing" >&2
	exit 1
fi

if [ -f "$file" ]; then
	step validate "$cmrecon" validate "$file"
	step plan "$cmrecon" plan --detailed-exitcode "$file"
	step apply "$cmrecon" apply --yes "$file"
	apply_rc=$?
	step "plan again" "$cmrecon" plan --detailed-exitcode "$file"
	again_rc=$?
else
	summary="$summary\n  examples/quickstart.yaml: not written yet"
fi

banner "what the demo did"
printf "$summary\n"
# The demo succeeds when apply converged and nothing is left to change.
[ "${apply_rc:-1}" -eq 0 ] && [ "${again_rc:-1}" -eq 0 ]
