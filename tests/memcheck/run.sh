#!/bin/sh
# `make memcheck`: the whole ctest suite under valgrind memcheck.
#
# Usage: tests/memcheck/run.sh [BUILD_DIR] [ctest args...]
#        (BUILD_DIR defaults to build-memcheck; e.g. run.sh build-memcheck
#        -R unit.plan runs one test)
#
# 1. Configures and builds BUILD_DIR: Debug, no sanitizers (valgrind and
#    ASan do not mix), CMR_DEBUG_ARENA=ON so every arena allocation is its
#    own malloc and valgrind sees its bounds.
# 2. Puts every program the tests run behind valgrind: each unit-test
#    executable (test_*), cmrecon and cmsim is moved to <name>.real and
#    replaced by a small shell script that execs
#        valgrind --leak-check=full --errors-for-leak-kinds=definite
#                 --error-exitcode=99 --suppressions=cmrecon.supp ...
#    on it.  The script-driven tests (cli, load fixtures, golden, ...) run
#    $CMRECON and $CMSIM, which CMake points at those paths, so they need
#    no change; every process of every test is checked.  (A rebuild
#    replaces a wrapper by the real program again; this script re-wraps.)
# 3. Runs ctest (without the fuzz label: the libFuzzer targets are clang
#    ASan builds, which valgrind cannot run) and then reads every valgrind
#    log: any error, or any definitely lost block, fails the run even when
#    the test around it passed (a test that expects a failure exit code
#    would otherwise hide the 99).
#
# Exit 0 when the suite passed and valgrind found nothing.  Logs: BUILD_DIR/
# memcheck/logs/<program>.<pid>.log.  See docs/memcheck.md.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build-memcheck}
[ $# -gt 0 ] && shift
case $build in
/*) ;;
*) build=$top/$build ;;
esac
jobs=${JOBS:-2}
supp=$top/tests/memcheck/cmrecon.supp
vgdir=$build/memcheck
logs=$vgdir/logs

if ! command -v valgrind >/dev/null 2>&1; then
	echo "memcheck: valgrind not found (apt-get install valgrind)" >&2
	exit 1
fi

cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMR_SANITIZE= \
	-DCMR_WERROR=ON -DCMR_DEBUG_ARENA=ON -DCMR_BUILD_TESTS=ON || exit 1
cmake --build "$build" -j "$jobs" || exit 1

rm -rf "$logs"
mkdir -p "$logs"

# wrap PROGRAM: PROGRAM becomes a script running PROGRAM.real under
# valgrind.  A program already wrapped (a script) is left as it is.
wrap() {
	prog=$1
	if head -c 4 "$prog" | grep -q ELF; then
		mv -f "$prog" "$prog.real"
	elif [ ! -x "$prog.real" ]; then
		echo "memcheck: $prog is neither a program nor a wrapper" >&2
		return 1
	fi
	name=$(basename "$prog")
	# The real program is looked for next to the wrapper, so a wrapper
	# copied elsewhere (cli.sim_state copies cmsim into a relocated
	# install layout) takes a copy of the program along and the program
	# still finds its data relative to itself.
	cat >"$prog.tmp" <<EOF
#!/bin/sh
# Written by tests/memcheck/run.sh: runs $name under valgrind memcheck.
real="\$0.real"
[ -x "\$real" ] || cp "$prog.real" "\$real" || exit 127
exec valgrind --tool=memcheck --quiet --leak-check=full \\
	--errors-for-leak-kinds=definite --show-leak-kinds=definite \\
	--error-exitcode=99 --num-callers=40 \\
	--suppressions="$supp" \\
	--log-file="$logs/$name.%p.log" \\
	"\$real" "\$@"
EOF
	chmod +x "$prog.tmp"
	mv -f "$prog.tmp" "$prog"
}

progs=$(find "$build" -path "$vgdir" -prune -o -type f -perm -u+x \
	\( -name 'test_*' -o -name cmrecon -o -name cmsim \) \
	! -name '*.real' ! -name '*.tmp' -print)
n=0
for p in $progs; do
	case $p in
	"$build"/fuzz/*) continue ;;
	esac
	wrap "$p" || exit 1
	n=$((n + 1))
done
echo "memcheck: $n programs run under valgrind"

# schema.agreement (tests/load/check_schema.py) can, for some Python hash
# seeds, walk the expanded billion-laughs fixture and take tens of GB; a
# fixed seed keeps this long run from being killed by it.
PYTHONHASHSEED=${PYTHONHASHSEED:-0}
export PYTHONHASHSEED

start=$(date +%s)
(cd "$build" && ctest -j "$jobs" -LE fuzz --timeout 1800 \
	--output-on-failure "$@")
rc=$?
end=$(date +%s)

# Every log, whatever the tests said.  --quiet leaves a log empty unless
# valgrind had something to say.
bad=0
runs=0
for f in "$logs"/*.log; do
	[ -f "$f" ] || continue
	runs=$((runs + 1))
	if [ -s "$f" ]; then
		echo "memcheck: valgrind reported in $f:" >&2
		cat "$f" >&2
		bad=$((bad + 1))
	fi
done
echo "memcheck: $runs processes checked, $bad with reports;" \
	"ctest exit $rc; $((end - start)) s"
[ "$rc" -eq 0 ] && [ "$bad" -eq 0 ]
