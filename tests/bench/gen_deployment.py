#!/usr/bin/env python3
"""Generate a CM deployment of a given size for the benchmarks.

    gen_deployment.py SIZE OUTDIR

writes OUTDIR/seed.json (a cmsim seed in the GET /cm/deployment shape),
OUTDIR/desired.yaml (a desired state equal to the seed: a no-change plan)
and OUTDIR/desired-changed.yaml (about 1% of the values changed).

Sizes (clusters x services per cluster, role config groups, values):
  small   1 x 10,   ~30 groups,    ~300 values,   2 roles per group
  medium  3 x 20, ~1,000 groups,   ~6,000 values, 3 roles per group
  large   3 x 20, ~1,000 groups,  ~50,000 values, 3 roles per group
Setting names come from cmsim's catalog (cmd/cmsim/data/catalog) where
the scope has enough, else generated names (a seed may set any name).
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CATALOG = os.path.join(HERE, "..", "..", "cmd", "cmsim", "data", "catalog")
TYPES = ["HDFS", "YARN", "HIVE", "IMPALA", "HBASE", "ZOOKEEPER", "KAFKA",
         "OOZIE", "HUE", "SPARK_ON_YARN"]
SIZES = {
    #        clusters, services, groups/service, values/group, values/svc,
    #        roles/group, hosts/cluster
    "small": (1, 10, 3, 8, 10, 2, 5),
    "medium": (3, 20, 17, 5, 10, 3, 20),
    "large": (3, 20, 17, 48, 30, 3, 20),
}


def catalog(stype):
    with open(os.path.join(CATALOG, stype + ".json")) as f:
        scopes = json.load(f)["scopes"]
    out = {}
    for scope, params in scopes.items():
        out[scope] = [p["name"] for p in params
                      if not p.get("sensitive") and "suppression" not in
                      p["name"]]
    return out


def names_for(cat, scope, n, prefix):
    have = cat.get(scope, [])[:n]
    return have + ["%s_bench_param_%d" % (prefix, i)
                   for i in range(n - len(have))]


def item(name, value):
    return {"name": name, "value": value, "sensitive": False}


def generate(size):
    ncl, nsvc, ngrp, nval, nsval, nroles, nhosts = SIZES[size]
    cats = {t: catalog(t) for t in TYPES}
    clusters, hosts = [], []
    for c in range(ncl):
        cname = "Cluster %d" % (c + 1)
        chosts = []
        for h in range(nhosts):
            hid = "c%02dh%03d" % (c, h)
            chosts.append(hid)
            hosts.append({"hostId": hid, "ipAddress": "10.%d.%d.%d" %
                          (c, h // 250, h % 250 + 1),
                          "hostname": "n%03d.c%d.example.com" % (h, c),
                          "rackId": "/default",
                          "clusterRef": {"clusterName": cname}})
        services = []
        for s in range(nsvc):
            stype = TYPES[s % len(TYPES)]
            sname = "%s-%d" % (stype.lower(), s // len(TYPES) + 1)
            cat = cats[stype]
            rtypes = [k for k in sorted(cat) if k != "SERVICE"]
            svc_cfg = [item(n, "v%d" % i) for i, n in enumerate(
                names_for(cat, "SERVICE", nsval, sname.replace("-", "_")))]
            groups, roles = [], []
            for g in range(ngrp):
                rt = rtypes[g % len(rtypes)]
                idx = g // len(rtypes)
                gname = "%s-%s-%s" % (sname, rt, "BASE" if idx == 0
                                      else str(idx))
                cfg = [item(n, str(1000 + i)) for i, n in enumerate(
                    names_for(cat, rt, nval, rt.lower()))]
                groups.append({"name": gname, "roleType": rt,
                               "base": idx == 0, "displayName": gname,
                               "serviceRef": {"clusterName": cname,
                                              "serviceName": sname},
                               "config": {"items": cfg}})
                for r in range(nroles):
                    hid = chosts[(g * nroles + r) % len(chosts)]
                    roles.append({"name": "%s-%s-%s-%d" % (sname, rt, hid,
                                                           g * nroles + r),
                                  "type": rt, "hostRef": {"hostId": hid},
                                  "roleConfigGroupRef": {
                                      "roleConfigGroupName": gname},
                                  "config": {"items": []}})
            services.append({"name": sname, "type": stype,
                             "displayName": sname,
                             "config": {"items": svc_cfg},
                             "roleConfigGroups": groups, "roles": roles})
        clusters.append({"name": cname, "displayName": cname,
                         "version": "CDH7", "fullVersion": "7.1.9",
                         "services": services, "parcels": [
                             {"product": "CDH", "version":
                              "7.1.9-1.cdh7.1.9.p0.44702451",
                              "stage": "ACTIVATED"}]})
    return {"timestamp": "2026-11-28T00:00:00.000Z",
            "versionInfo": {"version": "7.11.3"},
            "clusters": clusters, "hosts": hosts, "users": [],
            "managerSettings": {"items": []}}


def yaml_str(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted one


def desired(seed, change_every=0):
    out = ["version: 1", "clusters:"]
    n = 0
    for c in seed["clusters"]:
        out.append("  %s:" % yaml_str(c["name"]))
        out.append("    services:")
        for s in c["services"]:
            out.append("      %s:" % yaml_str(s["name"]))
            out.append("        type: %s" % s["type"])
            out.append("        config:")
            for it in s["config"]["items"]:
                n += 1
                v = it["value"]
                if change_every and n % change_every == 0:
                    v += "-changed"
                out.append("          %s: %s" % (it["name"], yaml_str(v)))
            out.append("        role_config_groups:")
            for g in s["roleConfigGroups"]:
                out.append("          %s:" % yaml_str(g["name"]))
                out.append("            config:")
                for it in g["config"]["items"]:
                    n += 1
                    v = it["value"]
                    if change_every and n % change_every == 0:
                        v = str(int(v) + 1)
                    out.append("              %s: %s" %
                               (it["name"], yaml_str(v)))
    return "\n".join(out) + "\n", n


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SIZES:
        sys.exit("usage: gen_deployment.py small|medium|large OUTDIR")
    size, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    seed = generate(size)
    with open(os.path.join(outdir, "seed.json"), "w") as f:
        json.dump(seed, f)
    text, n = desired(seed)
    with open(os.path.join(outdir, "desired.yaml"), "w") as f:
        f.write(text)
    text, _ = desired(seed, change_every=100)
    with open(os.path.join(outdir, "desired-changed.yaml"), "w") as f:
        f.write(text)
    print("%s: %d values, %d services, %d groups, %d roles" % (
        size, n, sum(len(c["services"]) for c in seed["clusters"]),
        sum(len(s["roleConfigGroups"]) for c in seed["clusters"]
            for s in c["services"]),
        sum(len(s["roles"]) for c in seed["clusters"]
            for s in c["services"])))


if __name__ == "__main__":
    main()
