#!/usr/bin/env python3
"""The JSON Schema of the desired-state file, checked against reality.

  check_schema.py examples    the schema describes every property, and
                              every examples/**/*.yaml is valid under
                              schemas/cmrecon.schema.json, read as an editor
                              would (ruamel.yaml, YAML 1.2), and names the
                              schema in its first line with a path that
                              resolves to it
  check_schema.py validate    every example is valid for `cmrecon validate`
                              ($CMRECON), alone and (overlay/) merged
  check_schema.py names       every setting an example names exists for its
                              scope in CM's parameter catalog (the project's
                              copy in cmd/cmsim/data/catalog; skipped, exit
                              77, when it is absent)
  check_schema.py agreement   the loader's fixtures (tests/fixtures/load):
                              where `cmrecon validate` rejects a file, the
                              YAML reader or the schema rejects it too --
                              except for the rules the schema cannot
                              express, listed in CANNOT with the reason
                              (and mirrored in docs/format.md); where
                              cmrecon accepts a file, so does the schema.

Needs python3-jsonschema and python3-ruamel.yaml (Debian's /usr/bin/python3).
"""
import glob
import json
import os
import subprocess
import sys

import jsonschema
from ruamel.yaml import YAML

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))
SCHEMA = os.path.join(TOP, "schemas", "cmrecon.schema.json")
FIXTURES = os.path.join(TOP, "tests", "fixtures", "load")

# Fixtures that cmrecon rejects but a schema cannot, and why.  Each must
# really pass the reader and the schema (so this list stays true).
CANNOT = {
    "empty_value": "an empty value and null both read as null",
    "anchor": "the YAML reader resolves anchors and aliases before the "
              "schema sees the data",
    "billion_laughs": "the reader resolves aliases before the schema sees "
                      "the data, and the expansion is too large to walk",
    "nul_char": "a NUL character is a valid JSON string character",
    "too_big": "the schema sees data, not the file's size",
    "type_conflict": "a schema checks one file; the conflict is between "
                     "two merged files",
}

PROBLEM_FILES = {"type_conflict_base"}  # only half of a merge case


def load_schema():
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def read_yaml(path):
    """Reads YAML as editors do (YAML 1.2, safe types): returns (data, None)
    or (None, reason) when the reader itself refuses the file."""
    yaml = YAML(typ="safe", pure=True)
    try:
        with open(path, "rb") as f:
            return yaml.load(f), None
    except Exception as e:  # the reader's refusal is the result
        return None, "%s: %s" % (type(e).__name__, str(e).splitlines()[0])


def shares_nodes(data):
    """True when the data reuses a container (YAML aliases): walking it as
    a tree would walk the expansion, which for a "billion laughs" file
    never ends.  Visits each distinct container once."""
    seen = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        if id(node) in seen:
            return True
        seen.add(id(node))
        stack.extend(node.values() if isinstance(node, dict) else node)
    return False


def schema_errors(validator, data):
    """The first schema error's message, or None.  Lazy: a hostile file is
    not walked further than the first error."""
    err = next(iter(validator.iter_errors(data)), None)
    if err is None:
        return None
    # Not err.message: it quotes the offending data, which for a hostile
    # file (billion laughs, once the reader has built it) is enormous.
    where = "/".join(str(p) for p in err.absolute_path)
    rule = "/".join(str(p) for p in err.schema_path)
    return "%s: fails %s" % (where or "(top)", rule)


def examples():
    return sorted(glob.glob(os.path.join(TOP, "examples", "*.yaml")) +
                  glob.glob(os.path.join(TOP, "examples", "overlay",
                                         "*.yaml")))


def undescribed(schema):
    """Property paths of the schema whose schema (or its $ref target) has
    no description: editors show the description on hover, so every
    property needs one."""
    defs = schema.get("definitions", {})
    missing = []

    def has_description(node):
        if "description" in node:
            return True
        ref = node.get("$ref", "")
        return ref.startswith("#/definitions/") and \
            "description" in defs.get(ref[len("#/definitions/"):], {})

    def walk(node, path):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if not has_description(sub):
                    missing.append(path + "/" + name)
            for key, sub in node.items():
                walk(sub, path + "/" + key)
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, "%s/%d" % (path, i))

    walk(schema, "")
    return missing


def check_examples():
    validator = load_schema()
    bad = 0
    missing = undescribed(validator.schema)
    for path in missing:
        print("FAIL schema: property %s has no description" % path)
    bad += len(missing)
    files = examples()
    if not files:
        print("FAIL: no examples found")
        return 1
    for path in files:
        rel = os.path.relpath(path, TOP)
        with open(path) as f:
            first = f.readline().strip()
        prefix = "# yaml-language-server: $schema="
        if not first.startswith(prefix):
            print("FAIL %s: first line must be '%s<path>'" % (rel, prefix))
            bad += 1
        else:
            target = os.path.normpath(os.path.join(os.path.dirname(path),
                                                   first[len(prefix):]))
            if target != SCHEMA:
                print("FAIL %s: $schema path resolves to %s" % (rel, target))
                bad += 1
        data, why = read_yaml(path)
        if why:
            print("FAIL %s: YAML reader: %s" % (rel, why))
            bad += 1
            continue
        err = schema_errors(validator, data)
        if err:
            print("FAIL %s: schema: %s" % (rel, err))
            bad += 1
            continue
        print("ok %s" % rel)
    return 1 if bad else 0


def validate(files, cwd=TOP):
    p = subprocess.run([os.environ["CMRECON"], "validate"] + files,
                       cwd=cwd, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def check_validate():
    bad = 0
    runs = [[os.path.relpath(p, TOP)] for p in examples()]
    overlay = [os.path.relpath(p, TOP) for p in
               (os.path.join(TOP, "examples", "overlay", "base.yaml"),
                os.path.join(TOP, "examples", "overlay", "prod.yaml"))]
    runs.append(overlay)
    for files in runs:
        rc, err = validate(files)
        if rc != 0:
            print("FAIL cmrecon validate %s: exit %d\n%s" %
                  (" ".join(files), rc, err))
            bad += 1
        else:
            print("ok cmrecon validate %s" % " ".join(files))
    return 1 if bad else 0


CATALOG = os.path.join(TOP, "cmd", "cmsim", "data", "catalog")


def deep_merge(a, b):
    """The loader's merge, for the overlay pair: maps merge, the rest of
    the later file replaces."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = deep_merge(a[k], v) if k in a else v
        return out
    return b


def check_names():
    if not os.path.isdir(CATALOG):
        print("skip: no catalog at %s" % CATALOG)
        return 77
    known = {}
    try:
        for path in glob.glob(os.path.join(CATALOG, "*.json")):
            with open(path) as f:
                cat = json.load(f)
            for scope, params in cat["scopes"].items():
                known[(cat["serviceType"], scope)] = {p["name"]
                                                      for p in params}
    except (KeyError, TypeError, ValueError) as e:
        # cmsim's data, in cmsim's format: if that changes, say so and
        # skip rather than fail on someone else's change.
        print("skip: unexpected catalog format in %s (%r)" % (CATALOG, e))
        return 77
    if not known:
        print("skip: empty catalog at %s" % CATALOG)
        return 77

    docs = {}
    for path in examples():
        docs[os.path.relpath(path, TOP)] = read_yaml(path)[0]
    base = os.path.join("examples", "overlay", "base.yaml")
    prod = os.path.join("examples", "overlay", "prod.yaml")
    merged = deep_merge(docs.pop(base), docs.pop(prod))
    docs["%s + %s" % (base, prod)] = merged

    bad = 0

    def check(where, stype, scope, config):
        nonlocal bad
        names = known.get((stype, scope))
        for key in (config or {}):
            if names is None or key not in names:
                print("FAIL %s: '%s' is not a %s %s setting in the catalog"
                      % (where, key, stype, scope))
                bad += 1

    def groups(where, sname, stype, rcgs):
        for gname, g in (rcgs or {}).items():
            # <service>-<ROLETYPE>-<BASE or a number>
            role = gname[len(sname) + 1:].rsplit("-", 1)[0]
            check("%s: group %s" % (where, gname), stype, role,
                  (g or {}).get("config"))

    for where, doc in docs.items():
        manager = doc.get("manager") or {}
        check(where, "CM", "CM", manager.get("config"))
        mgmt = manager.get("management_service") or {}
        check(where + ": management service", "MGMT", "SERVICE",
              mgmt.get("config"))
        groups(where, "mgmt", "MGMT", mgmt.get("role_config_groups"))
        for cname, cluster in (doc.get("clusters") or {}).items():
            for sname, svc in ((cluster or {}).get("services") or {}).items():
                stype = svc.get("type")
                sw = "%s: %s/%s" % (where, cname, sname)
                if not stype:
                    print("FAIL %s: no type to check the names against" % sw)
                    bad += 1
                    continue
                check(sw, stype, "SERVICE", svc.get("config"))
                groups(sw, sname, stype, svc.get("role_config_groups"))
        print("%s %s" % ("ok" if not bad else "..", where))
    return 1 if bad else 0


def check_agreement():
    validator = load_schema()
    bad = 0
    cases = sorted(os.path.splitext(os.path.basename(p))[0]
                   for p in glob.glob(os.path.join(FIXTURES, "*.expected")))
    for case in cases:
        with open(os.path.join(FIXTURES, case + ".expected")) as f:
            loader_rejects = bool(f.read().strip())
        args = os.path.join(FIXTURES, case + ".args")
        if os.path.exists(args):
            with open(args) as f:
                files = [n for n in f.read().split()
                         if os.path.splitext(n)[0] not in PROBLEM_FILES]
        elif os.path.exists(os.path.join(FIXTURES, case + ".yaml")):
            files = [case + ".yaml"]
        else:
            files = []  # generated (too big to keep); nothing to read
        verdicts = []
        for name in files:
            data, why = read_yaml(os.path.join(FIXTURES, name))
            if why:
                verdicts.append("reader: " + why)
                continue
            if shares_nodes(data):
                # Never hand an alias graph to the validator: how far it
                # walks before its first error depends on set order, and
                # for billion laughs the walk never ends.  A schema cannot
                # say "no aliases" anyway (see CANNOT).
                continue
            err = schema_errors(validator, data)
            if err:
                verdicts.append("schema: " + err)
        schema_rejects = bool(verdicts)

        if not loader_rejects:
            ok = not schema_rejects
            note = "both accept" if ok else "schema rejects a valid file"
        elif case in CANNOT:
            ok = not schema_rejects
            note = ("schema cannot express it: " + CANNOT[case] if ok else
                    "listed as inexpressible, but the schema rejects it "
                    "(update CANNOT and docs/format.md)")
        else:
            ok = schema_rejects
            note = verdicts[0] if ok else "cmrecon rejects, schema accepts"
        print("%s %s: %s" % ("ok" if ok else "FAIL", case, note))
        bad += 0 if ok else 1
    return 1 if bad else 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "examples":
        return check_examples()
    if mode == "validate":
        return check_validate()
    if mode == "names":
        return check_names()
    if mode == "agreement":
        return check_agreement()
    print("usage: check_schema.py examples|validate|names|agreement")
    return 64


if __name__ == "__main__":
    sys.exit(main())
