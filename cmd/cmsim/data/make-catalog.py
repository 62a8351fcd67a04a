#!/usr/bin/env python3
"""Generate cmsim's parameter catalog from the project's shared CM data.

Usage: make-catalog.py SRC_DIR OUT_DIR
  SRC_DIR  a copy of shared/data/catalog/cm-parameters (one JSON per service
           type, plus CM_SETTINGS.json) -- see README.md next to this script
  OUT_DIR  cmd/cmsim/data/catalog

cmsim only needs a compact view of each parameter: name, scope, type,
default, sensitive, valid values/min/max, display/related name, whether the
type is exact (from a CSD) or inferred, and what a change requires
("restart", "refresh" or "client").  The source data has no per-parameter
restart/refresh flag (the CM API does not expose one), so `effect` is set
by the documented rules below and every output file says so in "rules".
"""
import json
import os
import re
import sys

# FACTS.md section 10: refreshable files.  HDFS host include/exclude files,
# DataNode data directories, scheduler / pool (fair-scheduler, capacity,
# admission control) files and queue lists can be re-read by a refresh.
REFRESH_RULES = [
    r"^dfs_hosts_(include|exclude)",
    r"hosts_(include|exclude)",
    r"^dfs_data_dir_list$",
    r"^dfs_datanode_data_dir",
    r"fair_scheduler",
    r"capacity_scheduler",
    r"^yarn_fs_",
    r"scheduled_allocations",
    r"schedule_rules",
    r"^admission_control_",
    r"_queues?$",
    r"^mapred_queue",
]

RULES_TEXT = (
    "effect is derived by rule, not from CM (no public source has a "
    "per-parameter flag): GATEWAY scope -> client (client configuration "
    "must be redeployed); names matching the refreshable families "
    + ", ".join(REFRESH_RULES)
    + " -> refresh; everything else -> restart.  lenient=true when the "
    "type was inferred (typeBasis) rather than taken from a CSD.  "
    "extrapolated=true marks the generic role/service/gateway parameters "
    "of _COMMON_ROLE_PARAMS.json added to scopes that lack them (e.g. MGMT "
    "roles): very likely valid, not observed for that scope."
)


def effect_of(scope, name):
    if scope == "GATEWAY":
        return "client"
    for rx in REFRESH_RULES:
        if re.search(rx, name):
            return "refresh"
    return "restart"


def compact(p):
    out = {"name": p["name"], "scope": p["scope"]}
    t = p.get("type") or "string"
    out["type"] = t
    basis = p.get("typeBasis")
    # Exact only when the type came from a CSD descriptor ("CSD SDL type
    # <- ..."); every other typeBasis is an inference.
    out["lenient"] = p.get("type") is None or not (
        basis and basis.startswith("CSD"))
    if p.get("default") is not None:
        out["default"] = str(p["default"])
    sens = p.get("sensitive")
    if sens is None:
        sens = t == "password" or bool(p.get("sensitiveLikelyByName"))
    out["sensitive"] = bool(sens)
    for k in ("validValues", "min", "max", "displayName", "relatedName"):
        if p.get(k) is not None:
            out[k] = p[k]
    if p.get("required"):
        out["required"] = True
    out["effect"] = effect_of(p["scope"], p["name"])
    return out


def common_params(src):
    """The parameters CM attaches to (almost) every daemon role, service
    and gateway (_COMMON_ROLE_PARAMS.json).  Its own purpose note says to
    use them for role types without a catalog of their own (MGMT roles,
    CDP-only roles); they are added to scopes without a complete catalog
    (no view=full dump or CSD behind them), marked "extrapolated" and
    validated leniently."""
    path = os.path.join(src, "_COMMON_ROLE_PARAMS.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def extrapolate(common, st, scope, have):
    if common is None or scope == "CM":
        return []
    if scope == "SERVICE":
        plist = common["serviceLevelParameters"]
    elif scope == "GATEWAY":
        plist = common["gatewayParameters"]
    else:
        plist = common["daemonRoleParameters"]
    out = []
    for c in plist:
        if c["name"] in have:
            continue
        default = c.get("defaultMostCommon")
        for value, where in (c.get("defaultVariants") or {}).items():
            if "%s/%s" % (st, scope) in where:
                default = value
        if default in ("true", "false"):
            t = "boolean"
        elif default is not None and default.lstrip("-").isdigit():
            t = "long"
        else:
            t = "string"
        p = {"name": c["name"], "scope": scope, "type": t,
             "lenient": True, "sensitive": False, "extrapolated": True,
             "effect": effect_of(scope, c["name"])}
        if default is not None:
            p["default"] = default
        if c.get("displayNameExample"):
            p["displayName"] = c["displayNameExample"]
        out.append(p)
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    common = common_params(src)
    total = 0
    added = 0
    for fn in sorted(os.listdir(src)):
        if not fn.endswith(".json") or fn.startswith("_"):
            continue
        with open(os.path.join(src, fn)) as f:
            d = json.load(f)
        if "parameters" not in d:
            continue
        st = d["serviceType"]
        scopes = {}
        seen = set()
        # Scopes with a complete catalog of their own (a view=full dump or
        # a CSD descriptor) get no extrapolated parameters; scopes known
        # only from doc pages or observed settings (MGMT) do.
        defined = {p["scope"] for p in d["parameters"]
                   if any("view=full" in x or ".sdl" in x
                          for x in p.get("sources") or [])}
        for p in d["parameters"]:
            key = (p["scope"], p["name"])
            if key in seen:
                continue
            seen.add(key)
            scopes.setdefault(p["scope"], []).append(compact(p))
            total += 1
        for scope, v in scopes.items():
            extra = [] if scope in defined else extrapolate(
                common, st, scope, {x["name"] for x in v})
            v.extend(extra)
            added += len(extra)
            v.sort(key=lambda x: x["name"])
        out = {
            "serviceType": st,
            "source": "shared/data/catalog/cm-parameters/" + fn,
            "rules": RULES_TEXT,
            "scopes": scopes,
        }
        with open(os.path.join(dst, st + ".json"), "w") as f:
            json.dump(out, f, indent=0, sort_keys=True)
            f.write("\n")
    print("%d parameters written to %s (+%d extrapolated common ones)" %
          (total, dst, added))


if __name__ == "__main__":
    main()
