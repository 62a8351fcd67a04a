#!/usr/bin/env python3
"""Write the demo deployment: examples/demo-seed.json (the shape of
GET /cm/deployment, ApiDeployment2) and examples/parcel-repo/manifest.json
(a parcel repository's manifest.json).

Usage: make-demo-seed.py EXAMPLES_DIR

The demo is shared with examples/quickstart.yaml: one CDH 7 cluster
"Cluster 1" on node1..node4.example.com with zookeeper, hdfs, yarn, hive,
impala and spark_on_yarn, plus the management service mgmt.  Role names
follow CM's convention <service>-<ROLETYPE>-<32 hex per host>; the hex is
derived from the host name so the output is stable.
"""
import hashlib
import json
import os
import sys

HOSTS = ["node%d.example.com" % i for i in range(1, 5)]
REPO_URL = "https://archive.example.com/p/cdh7/7.1.9/parcels/"
CDH_ACTIVE = "7.1.9-1.cdh7.1.9.p0.44702451"
CDH_OLD = "7.1.8-1.cdh7.1.8.p0.30990532"
SPARK3 = "3.3.2.3.3.7190.0-91-1.p0.45265883"

DISPLAY = {
    "SERVER": "Server", "NAMENODE": "NameNode",
    "SECONDARYNAMENODE": "SecondaryNameNode", "DATANODE": "DataNode",
    "BALANCER": "Balancer", "GATEWAY": "Gateway",
    "RESOURCEMANAGER": "ResourceManager", "NODEMANAGER": "NodeManager",
    "JOBHISTORY": "JobHistory Server", "HIVEMETASTORE": "Hive Metastore Server",
    "HIVESERVER2": "HiveServer2", "STATESTORE": "Impala StateStore",
    "CATALOGSERVER": "Impala Catalog Server", "IMPALAD": "Impala Daemon",
    "SPARK_YARN_HISTORY_SERVER": "History Server",
    "SERVICEMONITOR": "Service Monitor", "HOSTMONITOR": "Host Monitor",
    "EVENTSERVER": "Event Server", "ALERTPUBLISHER": "Alert Publisher",
}


def host_id(h):
    d = hashlib.sha256(h.encode()).hexdigest()
    return "%s-%s-%s-%s-%s" % (d[:8], d[8:12], d[12:16], d[16:20], d[20:32])


def suffix(h):
    return hashlib.md5(h.encode()).hexdigest()


def cfg(items):
    out = []
    for k, v in items.items():
        e = {"name": k, "value": v, "sensitive": False}
        if k.endswith("_password"):
            e["sensitive"] = True
        out.append(e)
    return {"items": out}


def service(cluster, name, stype, display, roles, config=None,
            groups=None):
    """roles: [(ROLETYPE, host, group-or-None)]; groups: {name: (type,
    config)} non-base groups; base groups get `config` from groups too
    when named <svc>-<TYPE>-BASE."""
    groups = groups or {}
    rtypes = []
    for rt, _, _ in roles:
        if rt not in rtypes:
            rtypes.append(rt)
    rcgs = []
    for rt in rtypes:
        gname = "%s-%s-BASE" % (name, rt)
        gcfg = groups.get(gname, (rt, {}))[1]
        rcgs.append({
            "name": gname, "displayName": "%s Default Group" % DISPLAY[rt],
            "roleType": rt, "base": True, "config": cfg(gcfg),
            "serviceRef": ref(cluster, name)})
    for gname, (rt, gcfg) in groups.items():
        if gname.endswith("-BASE"):
            continue
        rcgs.append({
            "name": gname, "displayName": "%s Group 1" % DISPLAY[rt],
            "roleType": rt, "base": False, "config": cfg(gcfg),
            "serviceRef": ref(cluster, name)})
    rl = []
    for rt, h, g in roles:
        rl.append({
            "name": "%s-%s-%s" % (name, rt, suffix(h)), "type": rt,
            "hostRef": {"hostId": host_id(h)}, "config": {"items": []},
            "roleConfigGroupRef": {
                "roleConfigGroupName": g or "%s-%s-BASE" % (name, rt)}})
    svc = {"name": name, "type": stype, "displayName": display,
           "config": cfg(config or {}), "roles": rl,
           "roleConfigGroups": rcgs}
    return svc


def ref(cluster, name):
    r = {"serviceName": name}
    if cluster:
        r["clusterName"] = cluster
    return r


def main():
    ex = sys.argv[1]
    c = "Cluster 1"
    gw = [("GATEWAY", h, None) for h in HOSTS]
    services = [
        service(c, "zookeeper", "ZOOKEEPER", "ZooKeeper",
                [("SERVER", h, None) for h in HOSTS[:3]]),
        service(c, "hdfs", "HDFS", "HDFS",
                [("NAMENODE", HOSTS[0], None),
                 ("SECONDARYNAMENODE", HOSTS[1], None),
                 ("BALANCER", HOSTS[0], None),
                 ("DATANODE", HOSTS[1], None), ("DATANODE", HOSTS[2], None),
                 ("DATANODE", HOSTS[3], "hdfs-DATANODE-1")] + gw,
                {"dfs_replication": "3", "zookeeper_service": "zookeeper"},
                {"hdfs-DATANODE-BASE": ("DATANODE", {
                    "dfs_data_dir_list": "/data/1/dfs/dn,/data/2/dfs/dn"}),
                 "hdfs-DATANODE-1": ("DATANODE", {
                     "dfs_data_dir_list":
                     "/data/1/dfs/dn,/data/2/dfs/dn,/data/3/dfs/dn"})}),
        service(c, "yarn", "YARN", "YARN",
                [("RESOURCEMANAGER", HOSTS[0], None),
                 ("JOBHISTORY", HOSTS[0], None),
                 ("NODEMANAGER", HOSTS[1], None),
                 ("NODEMANAGER", HOSTS[2], None),
                 ("NODEMANAGER", HOSTS[3], "yarn-NODEMANAGER-1")] + gw,
                {"hdfs_service": "hdfs", "zookeeper_service": "zookeeper"},
                {"yarn-NODEMANAGER-1": ("NODEMANAGER", {
                    "yarn_nodemanager_resource_memory_mb": "8192"})}),
        service(c, "hive", "HIVE", "Hive",
                [("HIVEMETASTORE", HOSTS[0], None),
                 ("HIVESERVER2", HOSTS[0], None)] + gw,
                {"mapreduce_yarn_service": "yarn",
                 "zookeeper_service": "zookeeper",
                 "hive_metastore_database_host": HOSTS[0],
                 "hive_metastore_database_password":
                 "demo-seed-password-not-a-secret"}),
        service(c, "impala", "IMPALA", "Impala",
                [("STATESTORE", HOSTS[0], None),
                 ("CATALOGSERVER", HOSTS[0], None)] +
                [("IMPALAD", h, None) for h in HOSTS[1:]],
                {"hdfs_service": "hdfs", "hive_service": "hive"}),
        service(c, "spark_on_yarn", "SPARK_ON_YARN", "Spark",
                [("SPARK_YARN_HISTORY_SERVER", HOSTS[0], None)] + gw,
                {"yarn_service": "yarn"}),
    ]
    mgmt = service(None, "mgmt", "MGMT", "Cloudera Management Service",
                   [(rt, HOSTS[0], None) for rt in
                    ("SERVICEMONITOR", "HOSTMONITOR", "EVENTSERVER",
                     "ALERTPUBLISHER")])
    cref = {"clusterName": c, "displayName": c}
    parcels = [
        {"product": "CDH", "version": CDH_ACTIVE, "stage": "DISTRIBUTED",
         "clusterRef": cref},
        {"product": "CDH", "version": CDH_ACTIVE, "stage": "ACTIVATED",
         "clusterRef": cref},
        {"product": "CDH", "version": CDH_OLD, "stage": "DISTRIBUTED",
         "clusterRef": cref},
    ]
    hosts = [{"hostId": host_id(h), "ipAddress": "10.0.0.%d" % (i + 11),
              "hostname": h, "rackId": "/default",
              "maintenanceMode": False, "commissionState": "COMMISSIONED",
              "numCores": 16, "numPhysicalCores": 8,
              "totalPhysMemBytes": 68719476736,
              "clusterRef": {"clusterName": c}}
             for i, h in enumerate(HOSTS)]
    seed = {
        "timestamp": "2026-11-28T00:00:00.000Z",
        "clusters": [{"name": c, "displayName": c, "version": "CDH7",
                      "fullVersion": "7.1.9",
                      "uuid": "5f0a2c3e-1d2b-4c5d-9e8f-0a1b2c3d4e5f",
                      "services": services, "parcels": parcels}],
        "hosts": hosts,
        "users": [{"name": "admin"}],
        "versionInfo": {"version": "7.5.3", "snapshot": False,
                        "buildUser": "jenkins",
                        "buildTimestamp": "20211110-1505",
                        "gitHash": "d20a80d0a0b7b1fbf13a7d1f4c64d3e6d8d4b2a1"},
        "managementService": mgmt,
        "managerSettings": {"items": [
            {"name": "REMOTE_PARCEL_REPO_URLS", "value": REPO_URL,
             "sensitive": False},
            {"name": "PARCEL_UPDATE_FREQ", "value": "60",
             "sensitive": False}]},
        "allHostsConfig": {"items": []},
        "peers": [],
        "hostTemplates": {"items": []},
    }
    with open(os.path.join(ex, "demo-seed.json"), "w") as f:
        json.dump(seed, f, indent=2)
        f.write("\n")

    def entry(product, version, comps):
        return {"parcelName": "%s-%s-el7.parcel" % (product, version),
                "components": [{"name": n, "version": v, "pkg_version": v}
                               for n, v in comps],
                "hash": hashlib.sha1((product + version).encode())
                .hexdigest(),
                "replaces": "" if product == "CDH" else "SPARK2",
                "depends": "" if product == "CDH" else "CDH (>= 7.1.9)"}
    manifest = {"lastUpdated": 1732752000000, "parcels": [
        entry("SPARK3", SPARK3, [("spark3", "3.3.2.3.3.7190.0-91")]),
        entry("CDH", CDH_ACTIVE, [("hadoop", "3.1.1+7.1.9.0-387"),
                                  ("hive", "3.1.3000+7.1.9.0-387")]),
        entry("CDH", CDH_OLD, [("hadoop", "3.1.1+7.1.8.0-801"),
                               ("hive", "3.1.3000+7.1.8.0-801")]),
    ]}
    os.makedirs(os.path.join(ex, "parcel-repo"), exist_ok=True)
    with open(os.path.join(ex, "parcel-repo", "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
