#!/usr/bin/env python3
"""End-to-end tests of cmsim's CM API routes against a live cmsim.

Each test starts its own cmsim (demo seed, demo parcel repository, stopped
clock) through tests/support/cmsim.py and checks CM's semantics: auth and
cookies, versions, error bodies, config reads and writes with validation
and staleness, commands over simulated time, parcels, tags, deployment
export, the management service, and the request statistics.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, quote  # noqa: E402

C = "/clusters/" + quote("Cluster 1")
HDFS = C + "/services/hdfs"
SPARK3 = "3.3.2.3.3.7190.0-91-1.p0.45265883"
CDH_NEW = "7.1.9-1.cdh7.1.9.p0.44702451"
CDH_OLD = "7.1.8-1.cdh7.1.8.p0.30990532"
STOPPED = ["--time-scale", "0"]
USERS = ["--user", "admin:admin:full-admin", "--user", "ro:ro:read-only",
         "--user", "ca:ca:cluster-admin"]

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


@test
def auth_basic_cookie_and_401():
    with Cmsim(args=STOPPED) as sim:
        s, body, resp = sim.request("GET", "/clusters")
        expect(s == 200, "basic auth works")
        cookie = resp.getheader("Set-Cookie")
        expect(cookie and cookie.startswith("CLOUDERA_MANAGER_SESSIONID=")
               and "Path=/" in cookie and "HttpOnly" in cookie, cookie)
        sid = cookie.split(";")[0]
        s, body, resp = sim.request("GET", "/clusters", auth=False,
                                    headers={"Cookie": sid})
        expect(s == 200, "the session cookie replaces Basic: %d" % s)
        expect(resp.getheader("Set-Cookie").split(";")[0] == sid,
               "the cookie is set on every authenticated response")
        s, body = sim.get("/clusters", auth=False)
        expect(s == 401 and "message" in body, "no credentials: 401")
        s, body = sim.get("/clusters", auth=("admin", "wrong"))
        expect(s == 401, "bad password: 401")
        s, body = sim.get("/clusters", auth=False,
                          headers={"Cookie": "CLOUDERA_MANAGER_SESSIONID=x"})
        expect(s == 401, "unknown session: 401")


@test
def read_only_and_cluster_admin():
    with Cmsim(args=STOPPED + USERS) as sim:
        s, _ = sim.get("/clusters", auth=("ro", "ro"))
        expect(s == 200, "read-only may read")
        s, b = sim.put(HDFS + "/config", {"items": []}, auth=("ro", "ro"))
        expect(s == 403 and "message" in b, "read-only may not write")
        s, _ = sim.post(HDFS + "/commands/restart", auth=("ro", "ro"))
        expect(s == 403, "read-only may not run commands")
        s, _ = sim.get("/cm/deployment", auth=("ro", "ro"))
        expect(s == 403, "deployment needs an administrator")
        s, _ = sim.get("/cm/deployment", auth=("ca", "ca"))
        expect(s == 200, "cluster admin may read the deployment")
        s, _ = sim.put("/cm/config", {"items": []}, auth=("ca", "ca"))
        expect(s == 403, "CM settings need a full administrator")
        s, _ = sim.put(HDFS + "/config", {"items": []}, auth=("ca", "ca"))
        expect(s == 200, "cluster admin may change service config")


@test
def versions_and_not_found():
    with Cmsim(args=STOPPED + ["--api-version", "v43"]) as sim:
        s, text = sim.get("/api/version")
        expect(s == 200 and text == "v43", "plain-text version: %r" % text)
        s, _ = sim.get("/api/v43/clusters")
        expect(s == 200, "v43 served")
        s, _ = sim.get("/api/v19/clusters")
        expect(s == 200, "older versions served")
        s, b = sim.get("/api/v45/clusters")
        expect(s == 404 and "message" in b, "higher version: 404")
        s, _ = sim.get("/api/v40" + C + "/tags")
        expect(s == 404, "tags need v41")
        s, b = sim.get("/api/v40" + C)
        expect(s == 200 and "tags" not in b, "no tags field before v41")
    with Cmsim(args=STOPPED) as sim:
        s, b = sim.get("/clusters/nope")
        expect(s == 404 and b == {"message": "Cluster 'nope' not found."}, b)
        s, b = sim.get(C + "/services/nope")
        expect(s == 404 and "nope" in b["message"], b)
        s, b = sim.get("/no/such/path")
        expect(s == 404, "unknown path: 404")
        s, b = sim.get(C + "/services", query={"view": "sideways"})
        expect(s == 400 and b["message"].startswith("Illegal view='sideways'"),
               b)
        s, b = sim.get(C + "/services", query={"view": "FULL"})
        expect(s == 200, "views are case-insensitive")
        s, b = sim.request("PUT", HDFS + "/config", body="{not json")[:2]
        expect(s == 400, "malformed JSON: 400")
        s, b = sim.get("/clusters/" + quote("Cluster 1"))
        expect(s == 200 and b["name"] == "Cluster 1", b)


@test
def cm_version_config_and_deployment():
    with Cmsim(args=STOPPED) as sim:
        s, v = sim.get("/cm/version")
        expect(s == 200 and v["version"], v)
        s, cfg = sim.get("/cm/config")
        names = {i["name"]: i.get("value") for i in cfg["items"]}
        expect(names.get("REMOTE_PARCEL_REPO_URLS", "").startswith(
            "https://archive.example.com/"), names)
        s, full = sim.get("/cm/config", query={"view": "full"})
        expect(len(full["items"]) > 200, "full lists the catalog")
        item = [i for i in full["items"] if i["name"] == "PARCEL_UPDATE_FREQ"]
        expect(item and item[0]["default"] == "60" and
               item[0]["value"] == "60" and "validationState" in item[0],
               item)
        s, b = sim.put("/cm/config", {"items": [
            {"name": "PARCEL_UPDATE_FREQ", "value": 1}]},
            query={"message": "cmrecon plan 1"})
        expect(s == 200 and {"name": "PARCEL_UPDATE_FREQ", "value": "1",
                             "sensitive": False} in b["items"], b)
        s, audit = sim.get("/_sim/audit")
        expect(audit[-1]["message"] == "cmrecon plan 1", audit[-1])
        s, d = sim.get("/cm/deployment")
        expect(s == 200 and d["clusters"][0]["name"] == "Cluster 1", "")
        hive = [x for x in d["clusters"][0]["services"]
                if x["name"] == "hive"][0]
        pw = [i for i in hive["config"]["items"]
              if i["name"] == "hive_metastore_database_password"][0]
        expect(pw["sensitive"] is True and
               pw["value"] == "cmsim-placeholder",
               "seed secrets are placeholders: %r" % pw)
        expect("serviceState" not in hive, "no runtime fields in export")
        s, d = sim.get("/cm/deployment", query={"view": "export_redacted"})
        hive = [x for x in d["clusters"][0]["services"]
                if x["name"] == "hive"][0]
        pw = [i for i in hive["config"]["items"]
              if i["name"] == "hive_metastore_database_password"][0]
        expect(pw["value"] == "REDACTED", pw)
        parcels = [(p["product"], p["version"], p["stage"])
                   for p in d["clusters"][0]["parcels"]]
        expect(parcels.count(("CDH", CDH_NEW, "DISTRIBUTED")) == 1 and
               parcels.count(("CDH", CDH_NEW, "ACTIVATED")) == 1,
               "an active parcel is exported twice: %r" % parcels)
        expect(d["managementService"]["name"] == "mgmt", "mgmt exported")
        s, b = sim.get("/cm/deployment", query={"view": "summary"})
        expect(s == 400, "deployment only has export views")


@test
def service_config_validation_and_staleness():
    with Cmsim(args=STOPPED) as sim:
        s, b = sim.put(HDFS + "/config", {"items": [
            {"name": "dfs_replication", "value": "2"},
            {"name": "dfs_replicaton", "value": "2"}]})
        expect(s == 400 and b["message"] ==
               "Unknown configuration attribute 'dfs_replicaton'.", b)
        s, b = sim.get(HDFS + "/config")
        expect({"name": "dfs_replication", "value": "3",
                "sensitive": False} in b["items"], "nothing changed")
        s, b = sim.put(C + "/services/hdfs/roleConfigGroups/"
                       "hdfs-DATANODE-BASE/config",
                       {"items": [{"name": "process_auto_restart",
                                   "value": "perhaps"}]})
        expect(s == 400 and "process_auto_restart" in b["message"], b)
        s, b = sim.put(HDFS + "/config", {"items": [
            {"name": "dfs_replication", "value": 2}]})
        expect(s == 200, b)
        s, svc = sim.get(HDFS)
        expect(svc["configStalenessStatus"] == "STALE" and
               svc["configStale"] is True, svc)
        s, full = sim.get(HDFS + "/config", query={"view": "full"})
        rep = [i for i in full["items"] if i["name"] == "dfs_replication"][0]
        expect(rep["value"] == "2" and rep["default"] == "3", rep)
        expect(len(full["items"]) > 100, "full lists every parameter")
        # null resets to the default
        s, b = sim.put(HDFS + "/config", {"items": [
            {"name": "dfs_replication", "value": None}]})
        expect(all(i["name"] != "dfs_replication" for i in b["items"]), b)
        # a sensitive value is redacted in ordinary reads
        s, b = sim.get(C + "/services/hive/config")
        pw = [i for i in b["items"]
              if i["name"] == "hive_metastore_database_password"][0]
        expect(pw["value"] == "REDACTED" and pw["sensitive"] is True, pw)


@test
def restart_over_simulated_time():
    with Cmsim(args=STOPPED) as sim:
        sim.put(HDFS + "/config", {"items": [
            {"name": "dfs_replication", "value": "2"}]})
        s, cmd = sim.post(HDFS + "/commands/restart")
        expect(s == 200 and cmd["active"] is True and "children" not in cmd
               and "success" not in cmd and "endTime" not in cmd, cmd)
        s, active = sim.get(C + "/commands")
        expect([c["id"] for c in active["items"]] == [cmd["id"]], active)
        s, active = sim.get(HDFS + "/commands")
        expect(len(active["items"]) == 1, active)
        sim.advance(10)
        s, c = sim.get("/commands/%d" % cmd["id"])
        expect(c["active"] and len(c["children"]["items"]) == 6, c)
        s, svc = sim.get(HDFS)
        expect(svc["serviceState"] == "STARTING" and
               svc["entityStatus"] == "STARTING", svc)
        sim.advance(20)
        s, c = sim.get("/commands/%d" % cmd["id"])
        expect(not c["active"] and c["success"] and
               c["resultMessage"] and c["endTime"], c)
        expect(all(ch["success"] and ch["roleRef"]["roleName"]
                   for ch in c["children"]["items"]), c)
        s, svc = sim.get(HDFS)
        expect(svc["configStalenessStatus"] == "FRESH" and
               svc["serviceState"] == "STARTED" and
               svc["healthSummary"] == "GOOD", svc)
        s, active = sim.get(C + "/commands")
        expect(active["items"] == [], "nothing active any more")
        expect(sim.stats()["restarts"] == {"Cluster 1/hdfs": 1},
               sim.stats()["restarts"])


@test
def cluster_commands_and_abort():
    with Cmsim(args=STOPPED) as sim:
        sim.put(C + "/services/yarn/config", {"items": [
            {"name": "hdfs_service", "value": "hdfs"},
            {"name": "zookeeper_service", "value": None}]})
        s, cmd = sim.post(C + "/commands/restart",
                          {"restartOnlyStaleServices": True,
                           "redeployClientConfiguration": True})
        expect(s == 200 and cmd["name"] == "Restart", cmd)
        c = sim.wait_command(cmd["id"])
        names = [(ch["name"], ch["serviceRef"]["serviceName"])
                 for ch in c["children"]["items"]]
        expect(("Restart", "yarn") in names and
               ("Restart", "hdfs") not in names, names)
        expect(c["success"], c)
        # nothing stale: finishes at once, successfully
        s, cmd = sim.post(C + "/commands/restart",
                          {"restartOnlyStaleServices": True})
        c = sim.wait_command(cmd["id"], step=0)
        expect(c["success"] and c["children"]["items"] == [], c)
        s, cmd = sim.post(C + "/commands/stop")
        sim.advance(30)
        s, c = sim.post("/commands/%d/abort" % cmd["id"])
        expect(s == 200 and not c["active"] and not c["success"], c)
        s, c = sim.post("/commands/%d/abort" % cmd["id"])
        expect(s == 400, "abort of a finished command: 400")
        s, c = sim.get("/commands/999999")
        expect(s == 404, "unknown command: 404")
        for what, name in (("refresh", "RefreshCluster"),
                           ("deployClientConfig",
                            "DeployClusterClientConfig")):
            s, cmd = sim.post(C + "/commands/" + what)
            expect(s == 200 and cmd["name"] == name, cmd)
            expect(sim.wait_command(cmd["id"], step=10)["success"], name)


@test
def rolling_restart_and_bulk_role_commands():
    with Cmsim(args=STOPPED) as sim:
        sim.put(C + "/services/yarn/roleConfigGroups/yarn-NODEMANAGER-1/"
                "config", {"items": [{
                    "name": "yarn_nodemanager_resource_memory_mb",
                    "value": "16384"}]})
        s, cmd = sim.post(C + "/services/yarn/commands/rollingRestart",
                          {"staleConfigsOnly": True, "slaveBatchSize": 1})
        expect(s == 200 and cmd["name"] == "RollingRestart", cmd)
        c = sim.wait_command(cmd["id"])
        expect(c["success"] and len(c["children"]["items"]) == 1, c)
        s, roles = sim.get(C + "/services/yarn/roles",
                           query={"filter": "type==NODEMANAGER"})
        expect(len(roles["items"]) == 3 and
               all(r["configStalenessStatus"] == "FRESH"
                   for r in roles["items"]), roles)
        nm = roles["items"][0]["name"]
        gw = [r["name"] for r in
              sim.get(C + "/services/yarn/roles",
                      query={"filter": "type==GATEWAY"})[1]["items"]][0]
        s, bulk = sim.post(C + "/services/yarn/roleCommands/stop",
                           {"items": [nm, gw, "ghost"]})
        expect(s == 200 and len(bulk["items"]) == 1 and
               len(bulk["errors"]) == 2, bulk)
        expect(bulk["items"][0]["roleRef"]["roleName"] == nm, bulk)
        sim.wait_command(bulk["items"][0]["id"])
        s, r = sim.get(C + "/services/yarn/roles/" + nm)
        expect(r["roleState"] == "STOPPED", r)
        s, g = sim.get(C + "/services/yarn/roles/" + gw)
        expect(g["roleState"] == "NA", "gateways report NA")


@test
def parcels_repo_refresh_and_stages():
    with Cmsim(args=STOPPED) as sim:
        P = C + "/parcels/products/SPARK3/versions/" + SPARK3
        repo = [i for i in sim.get("/cm/config")[1]["items"]
                if i["name"] == "REMOTE_PARCEL_REPO_URLS"][0]["value"]
        s, b = sim.get(P)
        expect(s == 200 and b["stage"] == "AVAILABLE_REMOTELY",
               "the seed's repositories are read at start")
        # Drop the repository: the parcel goes away only after a refresh.
        sim.put("/cm/config", {"items": [
            {"name": "REMOTE_PARCEL_REPO_URLS",
             "value": "https://elsewhere.example.com/"}]})
        expect(sim.get(P)[0] == 200, "still listed before the refresh")
        sim.wait_command(sim.post("/cm/commands/refreshParcelRepos")[1]
                         ["id"], step=5)
        s, b = sim.get(P)
        expect(s == 404 and "SPARK3" in b["message"], b)
        # Back again: visible once refreshParcelRepos has run.
        sim.put("/cm/config", {"items": [
            {"name": "REMOTE_PARCEL_REPO_URLS", "value": repo}]})
        expect(sim.get(P)[0] == 404, "not before the refresh")
        s, cmd = sim.post("/cm/commands/refreshParcelRepos")
        expect(s == 200 and cmd["active"] and
               cmd["name"] == "RefreshParcelRepos", cmd)
        s, glob = sim.get("/cm/commands")
        expect(len(glob["items"]) == 1, glob)
        sim.wait_command(cmd["id"], step=5)
        s, p = sim.get(P)
        expect(s == 200 and p["stage"] == "AVAILABLE_REMOTELY", p)
        s, b = sim.post(P + "/commands/activate")
        expect(s == 400 and "message" in b, "illegal transition: 400")
        s, b = sim.post(P + "/commands/startDownload")
        expect(s == 200 and b["active"] is False and b["success"], b)
        sim.advance(10)
        s, p = sim.get(P)
        expect(p["stage"] == "DOWNLOADING" and
               0 < p["state"]["progress"] < p["state"]["totalProgress"], p)
        sim.advance(10)
        expect(sim.get(P)[1]["stage"] == "DOWNLOADED", "downloaded")
        sim.post(P + "/commands/startDistribution")
        sim.advance(20)
        p = sim.get(P)[1]
        expect(p["stage"] == "DISTRIBUTING" and p["state"]["count"] == 2 and
               p["state"]["totalCount"] == 4, p)
        sim.advance(20)
        sim.post(P + "/commands/activate")
        sim.advance(5)
        expect(sim.get(P)[1]["stage"] == "ACTIVATED", "activated")
        s, svc = sim.get(HDFS)
        expect(svc["configStalenessStatus"] == "STALE",
               "activation makes roles stale")
        # one active version per product
        CP = C + "/parcels/products/CDH/versions/"
        sim.post(CP + CDH_OLD + "/commands/activate")
        sim.advance(5)
        expect(sim.get(CP + CDH_OLD)[1]["stage"] == "ACTIVATED" and
               sim.get(CP + CDH_NEW)[1]["stage"] == "DISTRIBUTED",
               "the previous version was deactivated")
        s, b = sim.post(CP + CDH_NEW + "/commands/cancelDownload")
        expect(s == 400, "cancelDownload only while DOWNLOADING")
        # going down: deactivate, undistribute, remove the download
        sim.post(CP + CDH_OLD + "/commands/deactivate")
        sim.post(CP + CDH_OLD + "/commands/startRemovalOfDistribution")
        sim.advance(5)
        sim.post(CP + CDH_OLD + "/commands/removeDownload")
        expect(sim.get(CP + CDH_OLD)[1]["stage"] == "AVAILABLE_REMOTELY",
               "walked back down")


@test
def tags_on_clusters_services_roles():
    with Cmsim(args=STOPPED) as sim:
        s, b = sim.get(C + "/tags")
        expect(s == 200 and b == [], b)
        s, b = sim.put(C + "/tags", [{"name": "cmrecon.lock.a1",
                                      "value": "holder=ci"},
                                     {"name": "owner", "value": "x"}])
        expect(s == 200 and len(b) == 2, b)
        s, b = sim.put(C + "/tags", [{"name": "owner", "value": "y"}])
        expect({"name": "owner", "value": "y"} in b and len(b) == 2, b)
        s, b = sim.get(C + "/tags", query={"limit": 1, "offset": 1})
        expect(b == [{"name": "owner", "value": "y"}], b)
        s, cl = sim.get(C)
        expect(len(cl["tags"]) == 2, "tags in the cluster object")
        s, b = sim.delete(C + "/tags", [{"name": "cmrecon.lock.a1"}])
        expect(s == 200 and b == [{"name": "owner", "value": "y"}], b)
        s, b = sim.put(HDFS + "/tags", [{"name": "t", "value": "1"}])
        expect(s == 200 and b == [{"name": "t", "value": "1"}], b)
        expect(sim.get(HDFS)[1]["tags"] == b, "service tags")
        many = [{"name": "t%02d" % i, "value": str(i)} for i in range(15)]
        sim.put(C + "/tags", many)
        s, b = sim.get(C + "/tags")
        expect(len(b) == 10, "the spec's default limit is 10: %d" % len(b))
        s, b = sim.get(C + "/tags", query={"limit": 100, "offset": -5})
        expect(len(b) == 16, "all 16 with a larger limit: %d" % len(b))
        s, b = sim.put(C + "/tags", {"name": "not a list"})
        expect(s == 400, "tags body is a list")


@test
def management_service_and_groups():
    with Cmsim(args=STOPPED) as sim:
        s, m = sim.get("/cm/service")
        expect(s == 200 and m["name"] == "mgmt" and m["type"] == "MGMT" and
               "clusterRef" not in m, m)
        s, groups = sim.get("/cm/service/roleConfigGroups")
        expect(any(g["name"] == "mgmt-SERVICEMONITOR-BASE"
                   for g in groups["items"]), groups)
        s, roles = sim.get("/cm/service/roles")
        expect(len(roles["items"]) == 4, roles)
        s, cmd = sim.post("/cm/service/commands/restart")
        expect(s == 200 and cmd["serviceRef"]["serviceName"] == "mgmt", cmd)
        expect(sim.wait_command(cmd["id"])["success"], "mgmt restart")
        s, groups = sim.get(HDFS + "/roleConfigGroups")
        names = {g["name"]: g for g in groups["items"]}
        expect("hdfs-DATANODE-1" in names and
               names["hdfs-DATANODE-1"]["base"] is False and
               names["hdfs-NAMENODE-BASE"]["base"] is True, names.keys())
        s, members = sim.get(HDFS + "/roleConfigGroups/hdfs-DATANODE-1/roles")
        expect(len(members["items"]) == 1, members)
        s, rt = sim.get(HDFS + "/roleTypes")
        expect("DATANODE" in rt["items"], rt)
        s, b = sim.put(HDFS + "/roleConfigGroups/hdfs-DATANODE-1",
                       {"displayName": "Big DataNodes"})
        expect(s == 200 and b["displayName"] == "Big DataNodes", b)
        s, t = sim.get(C + "/export")
        expect(s == 200 and t["products"] and t["services"] and
               t["instantiator"]["clusterName"] == "Cluster 1", t.keys())
        hive = [x for x in t["services"] if x["refName"] == "hive"][0]
        pw = [x for x in hive["serviceConfigs"]
              if x["name"] == "hive_metastore_database_password"][0]
        expect("variable" in pw and "value" not in pw, pw)


@test
def statistics_by_method_template_and_path():
    with Cmsim(args=STOPPED) as sim:
        sim.reset_stats()
        sim.get(C + "/services")
        sim.get(C + "/services")
        sim.put(HDFS + "/config", {"items": []})
        sim.post(HDFS + "/commands/restart")
        sim.get("/_sim/audit")
        st = sim.stats()
        expect(st["requests"] == {"GET": 2, "PUT": 1, "POST": 1,
                                  "DELETE": 0}, st["requests"])
        expect(st["endpoints"]["GET /api/v45/clusters/{clusterName}/"
                               "services"] == 2, st["endpoints"])
        expect(st["paths"]["POST /api/v45/clusters/Cluster%201/services/"
                           "hdfs/commands/restart"] == 1, st["paths"])
        expect(not any("_sim" in k for k in st["paths"]), "no /_sim")
        log = sim.output()
        expect("cmsim: PUT /api/v45/clusters/Cluster%201/services/hdfs/"
               "config -> 200" in log, "--verbose logs requests: " + log)
        expect("Authorization" not in log and "Basic" not in log,
               "no credentials in the log")
        sim.reset_stats()
        st = sim.stats()
        expect(st["requests"]["GET"] == 0 and st["paths"] == {}, st)


@test
def maintenance_mode_is_inherited_and_respected():
    with Cmsim(args=STOPPED) as sim:
        HIVE = C + "/services/hive"
        s, cmd = sim.post(HIVE + "/commands/enterMaintenanceMode")
        expect(s == 200 and cmd["name"] == "EnterMaintenanceMode" and
               cmd["success"] is True and cmd["active"] is False, cmd)
        s, svc = sim.get(HIVE)
        expect(svc["maintenanceMode"] is True and
               svc["maintenanceOwners"] == ["SERVICE"], svc)
        s, roles = sim.get(HIVE + "/roles")
        expect(all(r["maintenanceMode"] and
                   r["maintenanceOwners"] == ["SERVICE"]
                   for r in roles["items"]), "roles inherit it")
        s, cmd = sim.post(C + "/commands/restart")
        c = sim.wait_command(cmd["id"])
        restarted = [ch["serviceRef"]["serviceName"]
                     for ch in c["children"]["items"]]
        expect("hive" not in restarted and "hdfs" in restarted, restarted)
        sim.post(HIVE + "/commands/exitMaintenanceMode")
        expect(sim.get(HIVE)[1]["maintenanceMode"] is False, "exited")
        sim.post(C + "/commands/enterMaintenanceMode")
        s, svc = sim.get(HDFS)
        expect(svc["maintenanceOwners"] == ["CLUSTER"], svc)
        expect(sim.get(C)[1]["maintenanceMode"] is True, "cluster MM")
        role = sim.get(HDFS + "/roles")[1]["items"][0]["name"]
        sim.post(HDFS + "/roles/" + role + "/commands/enterMaintenanceMode")
        s, r = sim.get(HDFS + "/roles/" + role)
        expect(r["maintenanceOwners"] == ["CLUSTER", "ROLE"], r)


@test
def concurrent_clients_are_serialised_safely():
    import threading
    with Cmsim(args=["--time-scale", "1000"]) as sim:
        sim.reset_stats()
        errors = []

        def worker(k):
            try:
                for i in range(25):
                    s, _ = sim.put(HDFS + "/config", {"items": [
                        {"name": "dfs_replication", "value": str(1 + i % 3)}]})
                    s2, _ = sim.get(C + "/services")
                    s3, _ = sim.post(C + "/services/yarn/roleCommands/"
                                     "refresh", {"items": []})
                    s4, _ = sim.put(C + "/tags", [{"name": "w%d" % k,
                                                   "value": str(i)}])
                    if (s, s2, s3, s4) != (200, 200, 200, 200):
                        errors.append((k, i, s, s2, s3, s4))
            except Exception as e:  # report, do not hang the test
                errors.append((k, repr(e)))

        threads = [threading.Thread(target=worker, args=(k,))
                   for k in range(8)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        expect(not errors, errors[:5])
        st = sim.stats()
        expect(st["requests"]["PUT"] == 400 and
               st["requests"]["GET"] == 200 and
               st["requests"]["POST"] == 200, st["requests"])
        tags = sim.get(C + "/tags", query={"limit": 100})[1]
        expect(sorted(t["name"] for t in tags) ==
               sorted("w%d" % k for k in range(8)) and
               all(t["value"] == "24" for t in tags), tags)


@test
def hostile_inputs_get_errors_not_crashes():
    import socket
    with Cmsim(args=STOPPED) as sim:
        cases = [
            ("PUT", HDFS + "/config", b"\xff\xfe{not utf8"),
            ("PUT", HDFS + "/config", "[" * 5000),
            ("PUT", HDFS + "/config", {"items": "nope"}),
            ("PUT", HDFS + "/config", {"items": [1, None, "x"]}),
            ("PUT", HDFS + "/config", {"items": [{"name": 5}]}),
            ("PUT", HDFS + "/config", {"items": [
                {"name": "dfs_replication", "value": {"a": 1}}]}),
            ("PUT", C + "/tags", [{"value": "no name"}]),
            ("POST", HDFS + "/roleCommands/restart", {"items": [1, {}]}),
            ("POST", C + "/commands/restart", ["not", "an", "object"]),
            ("GET", "/api/v99999999999999999999/clusters", None),
            ("GET", "/api/vx/clusters", None),
            ("GET", "/api/v45/" + "a/" * 200, None),
            ("GET", "/api/v45/clusters/%00", None),
            ("GET", "/api/v45/clusters/%", None),
            ("GET", "/commands/-1", None),
            ("GET", "/commands/12abc", None),
        ]
        for method, path, body in cases:
            s, b, _ = sim.request(method, path, body=body)
            expect(400 <= s < 500 or (s == 200 and method == "POST"),
                   "%s %s: %d %r" % (method, path, s, b))
        # 16 MiB is the body cap
        s, b, _ = sim.request("PUT", HDFS + "/config",
                              body="x" * (17 << 20))
        expect(s == 413, "too large: %d" % s)
        # a client that hangs up mid-request
        with socket.create_connection(("127.0.0.1", sim.port)) as sock:
            sock.sendall(b"PUT /api/v45/cm/config HTTP/1.1\r\n"
                         b"Content-Length: 1000\r\n\r\n{")
        s, b = sim.get("/cm/version")
        expect(s == 200, "still serving after all that")


@test
def compute_clusters_and_the_cluster_type_filter():
    import json
    import subprocess
    import tempfile
    from cmsim import DEMO_SEED
    with open(DEMO_SEED) as f:
        seed = json.load(f)
    compute = {"name": "Compute 1", "displayName": "Compute 1",
               "version": "CDH7", "fullVersion": "7.1.9",
               "clusterType": "COMPUTE_CLUSTER", "services": [],
               "parcels": []}
    seed["clusters"].append(compute)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "seed.json")
        with open(path, "w") as f:
            json.dump(seed, f)
        with Cmsim(args=STOPPED, seed=path) as sim:
            s, c = sim.get("/clusters/" + quote("Compute 1"))
            expect(s == 200 and c["clusterType"] == "COMPUTE_CLUSTER", c)
            s, c = sim.get(C)
            expect(c["clusterType"] == "BASE_CLUSTER", c)
            names = {}
            for q in (None, "base", "compute", "any", "ANY"):
                s, b = sim.get("/clusters",
                               query={"clusterType": q} if q else None)
                expect(s == 200, b)
                names[q] = sorted(x["name"] for x in b["items"])
            # CM's default is base clusters only (FACTS: since v32)
            expect(names[None] == ["Cluster 1"], names)
            expect(names["base"] == ["Cluster 1"], names)
            expect(names["compute"] == ["Compute 1"], names)
            expect(names["any"] == ["Cluster 1", "Compute 1"], names)
            expect(names["ANY"] == names["any"], names)
            s, b = sim.get("/clusters", query={"clusterType": "edge"})
            expect(s == 400 and "clusterType" in b["message"], b)
            s, d2 = sim.get("/cm/deployment")
            types = {x["name"]: x["clusterType"] for x in d2["clusters"]}
            expect(types == {"Cluster 1": "BASE_CLUSTER",
                             "Compute 1": "COMPUTE_CLUSTER"}, types)
        compute["clusterType"] = "EDGE_CLUSTER"
        with open(path, "w") as f:
            json.dump(seed, f)
        p = subprocess.run([os.environ.get("CMSIM", "cmsim"), "--seed", path,
                            "--listen", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode != 0 and "clusters[1].clusterType" in p.stderr,
               p.stderr)


def main():
    failed = 0
    only = sys.argv[1:]
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
            print("ok   %s" % fn.__name__)
        except Exception as e:  # report every failure, then fail
            failed += 1
            print("FAIL %s: %s: %s" % (fn.__name__, type(e).__name__, e))
    print("%d tests, %d failed" % (len(TESTS), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
