#!/bin/sh
# The command-line contract that does not need CM: help for every command,
# exit code 64 for usage errors, version, and passwords refused on argv.
set -u
: "${CMRECON:?path of the cmrecon binary}"
fails=0
pass=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect CODE DESCRIPTION -- ARGS...
expect() {
	want=$1
	what=$2
	shift 3
	"$CMRECON" "$@" >"$out" 2>&1
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/    /' "$out"
		fails=$((fails + 1))
	else
		pass=$((pass + 1))
	fi
}

# expect_out PATTERN DESCRIPTION: the last command's output matches
expect_out() {
	if ! grep -q -- "$1" "$out"; then
		echo "FAIL: $2: output lacks '$1'"
		sed 's/^/    /' "$out"
		fails=$((fails + 1))
	else
		pass=$((pass + 1))
	fi
}

expect 0 "version" -- version
expect_out "^cmrecon [0-9]" "version text"
expect 0 "--version" -- --version
expect 0 "--help" -- --help
expect_out "validate" "help lists validate"
expect_out "Exit codes" "help lists exit codes"
expect 64 "no arguments" --
expect 64 "unknown command" -- frobnicate
expect_out "unknown command 'frobnicate'" "unknown command message"
expect 64 "unknown global flag" -- --frob
expect 64 "missing flag value" -- plan --url
expect_out "needs a value" "missing value message"
expect 64 "password on argv" -- plan --password hunter2 x.yaml
expect_out "not accepted on the command line" "password refused message"
if grep -q hunter2 "$out"; then
	echo "FAIL: the password was echoed"
	fails=$((fails + 1))
fi
for c in validate plan apply show export unlock version; do
	expect 0 "$c --help" -- "$c" --help
	expect_out "usage: cmrecon $c" "$c help synopsis"
done
expect 0 "help plan" -- help plan
expect_out "usage: cmrecon plan" "help plan synopsis"
expect 64 "version with argument" -- version extra
expect 64 "password file missing" -- --password-file /nonexistent/pw version

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]
