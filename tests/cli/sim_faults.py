#!/usr/bin/env python3
"""End-to-end tests of cmsim's test hooks: faults (start-up and run-time),
latency, and the simulated clock.  See docs/cmsim.md for the grammar."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, quote  # noqa: E402

C = "/clusters/" + quote("Cluster 1")
HDFS = C + "/services/hdfs"
SPARK3 = "3.3.2.3.3.7190.0-91-1.p0.45265883"
STOPPED = ["--time-scale", "0"]
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


@test
def http_error_with_count_and_path():
    with Cmsim(args=STOPPED + ["--fault",
                               "http-error,status=503,count=2,"
                               "method=GET,path=/clusters"]) as sim:
        s1, b1 = sim.get("/clusters")
        s2, _ = sim.get(C + "/services")
        s3, _ = sim.get("/clusters")
        expect((s1, s2, s3) == (503, 503, 200), (s1, s2, s3))
        expect("message" in b1, b1)
        s, _ = sim.put(HDFS + "/config", {"items": []})
        expect(s == 200, "other methods unaffected")


@test
def http_error_rate_is_a_probability():
    with Cmsim(args=STOPPED) as sim:
        sim.faults(["http-error,status=500,rate=0.5"])
        codes = [sim.get("/cm/version")[0] for _ in range(200)]
        errors = codes.count(500)
        expect(40 < errors < 160, "about half fail: %d/200" % errors)
        expect(set(codes) == {200, 500}, set(codes))
        sim.clear_faults()
        expect(all(sim.get("/cm/version")[0] == 200 for _ in range(20)),
               "DELETE /_sim/faults clears them")


@test
def drop_before_and_after():
    with Cmsim(args=STOPPED) as sim:
        sim.faults(["drop,when=before,count=1,method=PUT"])
        try:
            sim.put(HDFS + "/config", {"items": [
                {"name": "dfs_replication", "value": "2"}]})
            raise AssertionError("the connection was not dropped")
        except ConnectionError:
            pass
        s, b = sim.get(HDFS + "/config")
        expect({"name": "dfs_replication", "value": "3",
                "sensitive": False} in b["items"],
               "dropped before: nothing changed")
        sim.faults(["drop,when=after,count=1,method=POST"])
        try:
            sim.post(HDFS + "/commands/restart")
            raise AssertionError("the connection was not dropped")
        except ConnectionError:
            pass
        s, active = sim.get(C + "/commands")
        expect(len(active["items"]) == 1 and
               active["items"][0]["name"] == "Restart",
               "dropped after: the command runs anyway: %r" % active)


@test
def slow_responses_and_latency():
    with Cmsim(args=STOPPED + ["--latency", "150:0"]) as sim:
        t0 = time.monotonic()
        sim.get("/cm/version")
        expect(time.monotonic() - t0 >= 0.15, "latency applies")
        t0 = time.monotonic()
        sim.get("/_sim/stats")
        expect(time.monotonic() - t0 < 0.15, "not to /_sim")
    with Cmsim(args=STOPPED) as sim:
        sim.faults(["slow,ms=300,count=1,path=/cm/version"])
        t0 = time.monotonic()
        sim.get("/cm/version")
        expect(time.monotonic() - t0 >= 0.3, "slow fault")
        t0 = time.monotonic()
        sim.get("/cm/version")
        expect(time.monotonic() - t0 < 0.3, "count=1: once")


@test
def unauthorized_next_n():
    with Cmsim(args=STOPPED) as sim:
        sim.faults(["unauthorized,count=2"])
        codes = [sim.get("/clusters")[0] for _ in range(3)]
        expect(codes == [401, 401, 200], codes)


@test
def command_fail_with_child_message():
    with Cmsim(args=STOPPED) as sim:
        sim.faults(["command-fail,command=Restart,service=hdfs,"
                    "message=Failed to start DataNode, port in use"])
        s, cmd = sim.post(HDFS + "/commands/restart")
        c = sim.wait_command(cmd["id"])
        expect(c["success"] is False, c)
        failing = [ch for ch in c["children"]["items"] if not ch["success"]]
        expect(len(failing) == 1 and failing[0]["resultMessage"] ==
               "Failed to start DataNode, port in use", failing)


@test
def parcel_stall_reports_errors():
    with Cmsim(args=STOPPED + ["--fault",
                               "parcel-stall,product=SPARK3,"
                               "message=Unable to download: 403"]) as sim:
        sim.wait_command(sim.post("/cm/commands/refreshParcelRepos")[1]["id"],
                         step=5)
        P = C + "/parcels/products/SPARK3/versions/" + SPARK3
        sim.post(P + "/commands/startDownload")
        sim.advance(3600)
        p = sim.get(P)[1]
        expect(p["stage"] == "DOWNLOADING" and
               p["state"]["errors"] == ["Unable to download: 403"], p)
        sim.clear_faults()
        sim.advance(1)
        p = sim.get(P)[1]
        expect(p["stage"] == "DOWNLOADED" and p["state"]["errors"] == [], p)


@test
def bad_health_after_restart():
    with Cmsim(args=STOPPED + ["--fault", "bad-health,service=hive"]) as sim:
        s, cmd = sim.post(C + "/services/hive/commands/restart")
        sim.wait_command(cmd["id"])
        s, svc = sim.get(C + "/services/hive")
        expect(svc["healthSummary"] == "BAD" and
               svc["healthChecks"][0]["summary"] == "BAD", svc)
        s, svc = sim.get(HDFS)
        expect(svc["healthSummary"] == "GOOD", "other services fine")


@test
def concurrent_writer_after_requests_and_at_time():
    with Cmsim(args=STOPPED) as sim:
        sim.faults(["concurrent-write,after=2,cluster=Cluster 1,"
                    "service=hdfs,name=dfs_replication,value=1",
                    "concurrent-write,at=100,name=PARCEL_UPDATE_FREQ,"
                    "value=5"])
        s, b = sim.get(HDFS + "/config")
        expect({"name": "dfs_replication", "value": "3",
                "sensitive": False} in b["items"], "not yet")
        sim.get("/cm/version")
        s, b = sim.get(HDFS + "/config")
        expect({"name": "dfs_replication", "value": "1",
                "sensitive": False} in b["items"], "changed by someone")
        sim.advance(100)
        s, b = sim.get("/cm/config")
        expect({"name": "PARCEL_UPDATE_FREQ", "value": "5",
                "sensitive": False} in b["items"], b)


@test
def validation_states_in_full_view():
    with Cmsim(args=STOPPED) as sim:
        def item(path, name):
            s, b = sim.get(path, query={"view": "full"})
            return [i for i in b["items"] if i["name"] == name][0]
        rep = item(HDFS + "/config", "dfs_replication")
        expect(rep["validationState"] == "OK" and
               "validationMessage" not in rep, rep)
        # the one real rule: more replicas than DataNodes
        sim.put(HDFS + "/config", {"items": [
            {"name": "dfs_replication", "value": "4"}]})
        rep = item(HDFS + "/config", "dfs_replication")
        expect(rep["validationState"] == "WARNING" and
               "number of DataNodes (3)" in rep["validationMessage"], rep)
        # and any parameter, by fault, scoped to one group
        sim.faults(["validation,name=dfs_datanode_du_reserved,state=ERROR,"
                    "group=hdfs-DATANODE-1,message=Reserved space exceeds "
                    "the volume size"])
        g = C + "/services/hdfs/roleConfigGroups/"
        bad = item(g + "hdfs-DATANODE-1/config", "dfs_datanode_du_reserved")
        expect(bad["validationState"] == "ERROR" and
               bad["validationMessage"] ==
               "Reserved space exceeds the volume size", bad)
        ok = item(g + "hdfs-DATANODE-BASE/config", "dfs_datanode_du_reserved")
        expect(ok["validationState"] == "OK", ok)
        s, b = sim.post("/_sim/faults", ["validation,state=BAD"])
        expect(s == 400, b)


@test
def bad_fault_specs_are_refused():
    with Cmsim(args=STOPPED) as sim:
        s, b = sim.post("/_sim/faults", ["http-eror,rate=1"])
        expect(s == 400 and "unknown kind" in b["message"], b)
        s, b = sim.post("/_sim/faults", {"not": "a list"})
        expect(s == 400, b)
        expect(sim.get("/_sim/faults")[1] == [], "nothing installed")
    sim = Cmsim(args=["--fault", "slow"])
    try:
        sim.start()
        raise AssertionError("cmsim started with a bad --fault")
    except RuntimeError as e:
        expect("slow needs ms" in str(e), str(e))


@test
def clock_scale_runs_time():
    with Cmsim(args=["--time-scale", "1000"]) as sim:
        s, cmd = sim.post(HDFS + "/commands/restart")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            c = sim.get("/commands/%d" % cmd["id"])[1]
            if not c["active"]:
                break
            time.sleep(0.01)
        expect(not c["active"] and c["success"],
               "30 simulated seconds pass in ~30 ms")
        s, clk = sim.post("/_sim/clock", query={"scale": "0"})
        expect(clk["timeScale"] == 0, clk)
        t = sim.get("/_sim/clock")[1]["nowMs"]
        time.sleep(0.05)
        expect(sim.get("/_sim/clock")[1]["nowMs"] == t, "stopped")


def main():
    failed = 0
    only = sys.argv[1:]
    for fn in TESTS:
        if only and fn.__name__ not in only:
            continue
        try:
            fn()
            print("ok   %s" % fn.__name__)
        except Exception as e:
            failed += 1
            print("FAIL %s: %s: %s" % (fn.__name__, type(e).__name__, e))
    print("%d tests, %d failed" % (len(TESTS), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
