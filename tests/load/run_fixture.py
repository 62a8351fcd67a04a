#!/usr/bin/env python3
"""Runs one loader fixture through the real `cmrecon validate`.

A case is tests/fixtures/load/<case>.yaml (or <case>.gen, a JSON recipe for
a file too big to keep in git) plus <case>.expected: the exact
`FILE:LINE:COL: error: message` lines validate must print on stderr, in
order.  An empty .expected means the file must be valid.  <case>.args, if
present, lists the files to pass instead of <case>.yaml (for merges).

Checked for each case:
  - the exit code (1 with problems, 0 without);
  - the diagnostic lines, exactly;
  - the --json form: same problems, same order, valid JSON on stdout;
  - the run takes under 5 seconds (generous for a loaded machine) (a billion-laughs file is refused at
    once, a 16 MiB file is refused without parsing).

Usage: run_fixture.py CASE          (env CMRECON: the binary)
       CMR_FIXTURE_UPDATE=1 run_fixture.py CASE   rewrites <case>.expected
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "load")
DIAG = re.compile(r"^[^:]+:\d+:\d+: (error|warning|note): ")


def fail(case, msg):
    print("FAIL %s: %s" % (case, msg))
    sys.exit(1)


def run(cmd, cwd):
    t0 = time.monotonic()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p, time.monotonic() - t0


def main():
    case = sys.argv[1]
    cmrecon = os.environ["CMRECON"]
    cwd = os.path.normpath(FIXTURES)
    tmp = None
    args_file = os.path.join(cwd, case + ".args")
    gen_file = os.path.join(cwd, case + ".gen")
    if os.path.exists(args_file):
        with open(args_file) as f:
            files = f.read().split()
    elif os.path.exists(gen_file):
        with open(gen_file) as f:
            recipe = json.load(f)
        tmp = tempfile.mkdtemp(prefix="cmr-fixture-")
        data = recipe["prefix"].encode()
        data += recipe["fill"].encode() * (recipe["size"] - len(data))
        with open(os.path.join(tmp, case + ".yaml"), "wb") as f:
            f.write(data)
        cwd = tmp
        files = [case + ".yaml"]
    else:
        files = [case + ".yaml"]

    try:
        p, secs = run([cmrecon, "validate"] + files, cwd)
        pj, _ = run([cmrecon, "validate", "--json"] + files, cwd)
    finally:
        if tmp:
            shutil.rmtree(tmp)

    stderr = p.stderr.decode("utf-8", "replace").splitlines()
    got = [l for l in stderr if DIAG.match(l)]
    other = [l for l in stderr if not DIAG.match(l)
             and not re.match(r"^cmrecon: \d+ problems? found$", l)]
    expected_path = os.path.join(FIXTURES, case + ".expected")

    if os.environ.get("CMR_FIXTURE_UPDATE") == "1":
        with open(expected_path, "w") as f:
            f.write("".join(l + "\n" for l in got))
        print("updated %s" % expected_path)
        return 0

    with open(expected_path) as f:
        want = f.read().splitlines()
    if got != want:
        fail(case, "diagnostics differ\n--- expected\n%s\n--- got\n%s" %
             ("\n".join(want), "\n".join(got)))
    if other:
        fail(case, "unexpected stderr lines: %r" % other)
    want_rc = 1 if want else 0
    if p.returncode != want_rc:
        fail(case, "exit code %d, expected %d" % (p.returncode, want_rc))
    if secs > 5.0:
        fail(case, "took %.2f s" % secs)

    # The JSON form says the same thing.
    if pj.returncode != want_rc:
        fail(case, "--json exit code %d, expected %d" %
             (pj.returncode, want_rc))
    doc = json.loads(pj.stdout.decode("utf-8"))
    if doc["valid"] != (not want) or doc["errors"] != len(want):
        fail(case, "--json valid/errors wrong: %r" % doc)
    as_text = ["%s:%d:%d: %s: %s" % (d["file"], d["line"], d["column"],
                                      d["severity"], d["message"])
               for d in doc["diagnostics"]]
    if as_text != want:
        fail(case, "--json diagnostics differ: %r" % as_text)
    if pj.stderr.strip():
        fail(case, "--json wrote to stderr: %r" % pj.stderr)
    print("ok %s (%d problem%s)" % (case, len(want),
                                    "" if len(want) == 1 else "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
