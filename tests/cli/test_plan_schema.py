#!/usr/bin/python3
"""The JSON plan format against its schema, schemas/cmrecon-plan.schema.json.

Checks, with the environment ctest gives script tests (CMRECON,
CMR_SOURCE_DIR):
  - the schema is a valid draft-07 schema and every property documented;
  - the plan-file fixtures written by test_planfile validate;
  - `cmrecon show --json FIXTURE` prints a document that validates and is
    byte-identical to the fixture (the reader and writer agree);
  - `cmrecon show FIXTURE` prints text without a secret, exit 0;
  - the schema rejects what the reader rejects (unknown op, a sensitive
    change carrying a value, an unknown member, another format version);
  - `cmrecon show` exits 64 for a missing file or usage, 1 for a bad file.
"""
import copy
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

SRC = os.environ.get("CMR_SOURCE_DIR",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
CMRECON = os.environ.get("CMRECON")
SCHEMA = os.path.join(SRC, "schemas", "cmrecon-plan.schema.json")
FIXTURES = [os.path.join(SRC, "tests", "fixtures", "render", name)
            for name in ("rich.plan.json", "empty.plan.json")]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, file=sys.stderr)


def undocumented(node, path="$"):
    """Paths of properties (at any depth) that lack a description."""
    out = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            if "description" not in sub:
                out.append(path + ".properties." + name)
        for key, sub in node.items():
            out += undocumented(sub, path + "." + key)
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            out += undocumented(sub, "%s[%d]" % (path, i))
    return out


def run(*args):
    return subprocess.run([CMRECON] + list(args), capture_output=True,
                          check=False)


def main():
    with open(SCHEMA, encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    missing = undocumented(schema)
    check(not missing, "properties without a description: %s" % missing)

    for path in FIXTURES:
        with open(path, "rb") as f:
            raw = f.read()
        doc = json.loads(raw)
        errors = list(validator.iter_errors(doc))
        check(not errors, "%s: %s" % (path, [e.message for e in errors]))
        if not CMRECON:
            continue
        res = run("show", "--json", path)
        check(res.returncode == 0, "show --json %s: exit %d: %s" %
              (path, res.returncode, res.stderr.decode()))
        check(res.stdout == raw, "show --json %s differs from the file" %
              path)
        errors = list(validator.iter_errors(json.loads(res.stdout)))
        check(not errors, "show --json output: %s" %
              [e.message for e in errors])
        res = run("show", path)
        check(res.returncode == 0 and b"cmrecon show" in res.stdout,
              "show %s: exit %d" % (path, res.returncode))
        check(b"\033" not in res.stdout, "show to a pipe used colour")

    # The schema refuses what the reader refuses.
    with open(FIXTURES[0], encoding="utf-8") as f:
        rich = json.load(f)
    bad = {}
    doc = copy.deepcopy(rich)
    doc["scopes"][0]["changes"][0]["op"] = "frob"
    bad["unknown op"] = doc
    doc = copy.deepcopy(rich)
    secret = next(c for s in doc["scopes"] for c in s["changes"]
                  if c["sensitive"])
    secret["new_value"] = "hunter2"
    bad["secret value"] = doc
    doc = copy.deepcopy(rich)
    doc["scopes"][0]["frob"] = 1
    bad["unknown member"] = doc
    doc = copy.deepcopy(rich)
    doc["format_version"] = 2
    bad["format version"] = doc
    doc = copy.deepcopy(rich)
    del doc["fingerprints"]
    bad["missing member"] = doc
    for what, doc in sorted(bad.items()):
        check(not validator.is_valid(doc), "schema accepts: " + what)
        if not CMRECON:
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".json",
                                         delete=False) as f:
            json.dump(doc, f)
        try:
            res = run("show", f.name)
            check(res.returncode == 1 and b"plan file: " in res.stderr,
                  "show accepts %s (exit %d)" % (what, res.returncode))
        finally:
            os.unlink(f.name)

    if CMRECON:
        res = run("show", os.path.join(SRC, "no", "such", "plan.json"))
        check(res.returncode == 64, "show of a missing file: exit %d" %
              res.returncode)
        res = run("show")
        check(res.returncode == 64, "show without a file: exit %d" %
              res.returncode)
        res = run("show", "--frob", FIXTURES[0])
        check(res.returncode == 64, "show --frob: exit %d" %
              res.returncode)
        res = run("show", SCHEMA)
        check(res.returncode == 1, "show of the schema: exit %d" %
              res.returncode)

    if failures:
        print("%d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("ok: schema, %d fixtures%s" %
          (len(FIXTURES), ", cmrecon show" if CMRECON else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
