#!/usr/bin/env python3
"""`cmrecon validate` as a command: arguments, exit codes, output streams.

The per-rule fixtures (run_fixture.py) check what is reported; this checks
how: usage errors and unreadable files exit 64, problems exit 1 with sorted
FILE:LINE:COL lines on stderr and nothing on stdout, success exits 0 with a
summary on stdout (none with -q), --json puts one document on stdout, and
a literal secret in a file never reaches any output.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

CMRECON = os.environ["CMRECON"]
failures = 0


def run(args, cwd):
    p = subprocess.run([CMRECON] + args, cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def expect(name, cond, detail=""):
    global failures
    print("%s %s%s" % ("ok" if cond else "FAIL", name,
                       "" if cond else ": " + detail))
    if not cond:
        failures += 1


def write(d, name, text):
    with open(os.path.join(d, name), "w") as f:
        f.write(text)


def main():
    d = tempfile.mkdtemp(prefix="cmr-validate-")
    try:
        write(d, "good.yaml", "version: 1\nclusters:\n  c:\n    services:\n"
              "      hdfs: {type: HDFS, config: {dfs_replication: 2}}\n")
        write(d, "b.yaml", "version: 1\nclusterz: {}\n")
        write(d, "a.yaml", "version: 1\nmanager:\n  password: hunter2\n"
              "  config:\n    KDC_ADMIN_PASSWORD: hunter2\n"
              "clusters: []\n")

        rc, out, err = run(["validate"], d)
        expect("no file is a usage error", rc == 64 and "no file" in err,
               repr((rc, err)))
        rc, out, err = run(["validate", "--bogus", "good.yaml"], d)
        expect("unknown option is a usage error",
               rc == 64 and "--bogus" in err, repr((rc, err)))
        rc, out, err = run(["validate", "missing.yaml"], d)
        expect("missing file exits 64 naming it",
               rc == 64 and "missing.yaml" in err, repr((rc, err)))
        os.mkdir(os.path.join(d, "dir.yaml"))
        rc, out, err = run(["validate", "dir.yaml"], d)
        expect("a directory exits 64", rc == 64 and "directory" in err,
               repr((rc, err)))

        rc, out, err = run(["validate", "good.yaml"], d)
        expect("valid file exits 0 with a summary on stdout",
               rc == 0 and out.startswith("valid: 1 file;") and err == "",
               repr((rc, out, err)))
        rc, out, err = run(["-q", "validate", "good.yaml"], d)
        expect("-q prints nothing on success", rc == 0 and out == ""
               and err == "", repr((rc, out, err)))
        rc, out, err = run(["validate", "--", "good.yaml"], d)
        expect("-- ends the options", rc == 0, repr((rc, err)))

        rc, out, err = run(["validate", "b.yaml", "good.yaml", "a.yaml"], d)
        lines = [l for l in err.splitlines() if ": error: " in l]
        expect("problems exit 1, stdout empty", rc == 1 and out == "",
               repr((rc, out)))
        expect("every file's problems, sorted by file and line",
               [l.split(":")[0] for l in lines] == ["a.yaml"] * 3 +
               ["b.yaml"] and lines == sorted(
                   lines, key=lambda l: (l.split(":")[0],
                                         int(l.split(":")[1]),
                                         int(l.split(":")[2]))),
               repr(lines))
        expect("a count line ends the report",
               err.splitlines()[-1] == "cmrecon: 4 problems found",
               repr(err.splitlines()[-1:]))
        expect("a literal secret is never printed", "hunter2" not in err
               and "hunter2" not in out, err)

        rc, out, err = run(["validate", "--json", "a.yaml", "b.yaml"], d)
        doc = json.loads(out)
        expect("--json: one document, exit 1, nothing on stderr",
               rc == 1 and err == "" and doc["valid"] is False
               and doc["errors"] == 4 and len(doc["diagnostics"]) == 4
               and doc["files"] == ["a.yaml", "b.yaml"],
               repr((rc, err, doc)))
        expect("--json never prints the secret either", "hunter2" not in out,
               out)
        rc, out, err = run(["validate", "good.yaml", "--json"], d)
        doc = json.loads(out)
        expect("--json on success has a summary",
               rc == 0 and doc["valid"] is True and
               doc["summary"] == {"clusters": 1, "services": 1,
                                  "parcels": 0, "settings": 1},
               repr(doc))
    finally:
        shutil.rmtree(d)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
