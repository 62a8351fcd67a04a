#!/usr/bin/env python3
"""End-to-end tests of cmsim's --state-file: resume after a crash in the
middle of a command, state wins over the seed, atomic saves, and seed
secrets never written to disk unless --keep-seed-secrets."""
import json
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, quote  # noqa: E402

C = "/clusters/" + quote("Cluster 1")
HDFS = C + "/services/hdfs"
STOPPED = ["--time-scale", "0"]
SECRET = "demo-seed-password-not-a-secret"
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


@test
def resume_mid_command_after_kill():
    d = tempfile.mkdtemp(prefix="cmsim-state-")
    state = os.path.join(d, "state.json")
    sim = Cmsim(args=STOPPED, state_file=state).start()
    try:
        sim.put(HDFS + "/config", {"items": [
            {"name": "dfs_replication", "value": "2"}]})
        s, cmd = sim.post(HDFS + "/commands/restart")
        sim.advance(10)
    finally:
        sim.stop(signal.SIGKILL)  # a crash: no shutdown save
    expect(os.path.exists(state), "saved after every change")
    expect(not [f for f in os.listdir(d) if ".tmp" in f],
           "no temporary files left: %r" % os.listdir(d))
    with Cmsim(args=STOPPED, state_file=state) as sim:
        s, c = sim.get("/commands/%d" % cmd["id"])
        expect(s == 200 and c["active"], "the command survived: %r" % c)
        s, svc = sim.get(HDFS)
        expect(svc["configStalenessStatus"] == "STALE", svc)
        sim.advance(20)
        c = sim.get("/commands/%d" % cmd["id"])[1]
        expect(not c["active"] and c["success"],
               "it finishes at its simulated time: %r" % c)
        s, b = sim.get(HDFS + "/config")
        expect({"name": "dfs_replication", "value": "2",
                "sensitive": False} in b["items"], b)
        s, new = sim.post(HDFS + "/commands/restart")
        expect(new["id"] > cmd["id"], "ids keep increasing")


@test
def state_wins_over_seed():
    d = tempfile.mkdtemp(prefix="cmsim-state-")
    state = os.path.join(d, "state.json")
    with Cmsim(args=STOPPED, state_file=state) as sim:
        sim.put(C + "/tags", [{"name": "kept", "value": "yes"}])
    other = os.path.join(d, "other-seed.json")
    with open(other, "w") as f:
        json.dump({"clusters": [{"name": "Other", "services": []}]}, f)
    with Cmsim(args=STOPPED, state_file=state, seed=other) as sim:
        s, b = sim.get("/clusters")
        expect([c["name"] for c in b["items"]] == ["Cluster 1"], b)
        expect(sim.get(C + "/tags")[1] == [{"name": "kept",
                                             "value": "yes"}], "tags kept")
    with Cmsim(args=STOPPED, seed=other) as sim:
        s, b = sim.get("/clusters")
        expect([c["name"] for c in b["items"]] == ["Other"], b)


@test
def seed_secrets_not_on_disk():
    d = tempfile.mkdtemp(prefix="cmsim-state-")
    state = os.path.join(d, "state.json")
    with Cmsim(args=STOPPED, state_file=state):
        pass
    with open(state) as f:
        text = f.read()
    expect(SECRET not in text and "cmsim-placeholder" in text,
           "placeholders replace seed secrets")
    state2 = os.path.join(d, "state2.json")
    with Cmsim(args=STOPPED + ["--keep-seed-secrets"], state_file=state2) \
            as sim:
        s, dep = sim.get("/cm/deployment")
        expect(SECRET in json.dumps(dep), "kept with --keep-seed-secrets")
    with open(state2) as f:
        expect(SECRET in f.read(), "and saved")


@test
def sigterm_exits_cleanly():
    sim = Cmsim(args=STOPPED).start()
    rc = sim.stop(signal.SIGTERM)
    expect(rc == 0, "exit code %r" % rc)
    sim = Cmsim(args=STOPPED).start()
    rc = sim.stop(signal.SIGINT)
    expect(rc == 0, "exit code %r" % rc)


@test
def temporary_files_of_a_killed_save_are_swept():
    # A cmsim SIGKILLed mid-save leaves state.json.tmp.<pid>; the next
    # cmsim on that state file removes it (its process is gone), and
    # leaves alone one whose process still runs, and other files.
    import subprocess
    d = tempfile.mkdtemp(prefix="cmsim-state-")
    state = os.path.join(d, "state.json")
    gone = subprocess.Popen(["true"])
    gone.wait()
    names = {"dead": "state.json.tmp.%d" % gone.pid,
             "alive": "state.json.tmp.%d" % os.getpid(),
             "other": "state.json.tmp.notapid",
             "else": "other.json.tmp.%d" % gone.pid}
    for n in names.values():
        with open(os.path.join(d, n), "w") as f:
            f.write("{")
    with Cmsim(args=STOPPED, state_file=state) as sim:
        s, _ = sim.get("/cm/version")
        expect(s == 200, "serves")
    left = set(os.listdir(d))
    expect(names["dead"] not in left, left)
    for k in ("alive", "other", "else"):
        expect(names[k] in left, (k, left))


@test
def bad_state_file_is_an_error():
    d = tempfile.mkdtemp(prefix="cmsim-state-")
    state = os.path.join(d, "state.json")
    with open(state, "w") as f:
        f.write('{"not": "a state"}')
    sim = Cmsim(args=STOPPED, state_file=state)
    try:
        sim.start()
        raise AssertionError("cmsim accepted a foreign state file")
    except RuntimeError as e:
        expect("not a cmsim state file" in str(e), str(e))


@test
def installed_layout_finds_its_data():
    """bin/cmsim finds ../share/cmrecon/{catalog,demo-seed.json} with no
    --catalog or --seed (a relocated install), as `cmake --install`
    lays them out."""
    import shutil
    from cmsim import CATALOG, DEMO_SEED
    root = tempfile.mkdtemp(prefix="cmsim-inst-")
    os.makedirs(os.path.join(root, "bin"))
    share = os.path.join(root, "share", "cmrecon")
    os.makedirs(share)
    binary = os.path.join(root, "bin", "cmsim")
    shutil.copy(os.environ.get("CMSIM", "cmsim"), binary)
    shutil.copytree(CATALOG, os.path.join(share, "catalog"))
    shutil.copy(DEMO_SEED, os.path.join(share, "demo-seed.json"))
    sim = Cmsim(binary=binary, seed=None, repo=False, catalog=None,
                args=STOPPED)
    with sim:
        s, b = sim.get("/clusters")
        expect(s == 200 and b["items"][0]["name"] == "Cluster 1", b)
        log = sim.output()
    expect("catalog %s/bin/../share/cmrecon/catalog" % root in log, log)
    expect("seed %s/bin/../share/cmrecon/demo-seed.json" % root in log, log)


def main():
    failed = 0
    for fn in TESTS:
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
