"""End-to-end tests of applying several clusters at once (lib/exec/lanes.c).

The seed is the demo deployment with its cluster copied: "Cluster 1" as in
examples/demo-seed.json, "Cluster 2" and "Cluster 3" the same services
under their own names (CM's service, role config group and role names are
unique across the deployment: hdfs2, hdfs2-DATANODE-BASE, ...).  The
desired file changes hdfs and yarn settings in every cluster, so each
cluster has two restarts to make, each taking 30 simulated seconds.

What is checked is what CM saw: the restart commands' own start and end
times (GET /commands/ID) tell whether two clusters restarted at the same
time, and /_sim/stats counts the restarts.
"""
import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, quote  # noqa: E402
from multicluster import seed_with  # noqa: E402

CMRECON = os.environ.get("CMRECON", "cmrecon")
# 30 s restarts take 0.3 s: long enough to see two clusters overlap.
SCALE = ["--time-scale", "100"]


def desired(n):
    out = ["version: 1", "clusters:"]
    for i in range(1, n + 1):
        sfx = "" if i == 1 else str(i)
        out += ["  Cluster %d:" % i,
                "    services:",
                "      hdfs%s:" % sfx,
                "        type: HDFS",
                "        config:",
                "          dfs_replication: 2",
                "      yarn%s:" % sfx,
                "        type: YARN",
                "        role_config_groups:",
                "          yarn%s-NODEMANAGER-1:" % sfx,
                "            config:",
                "              yarn_nodemanager_resource_memory_mb: 16384"]
    return "\n".join(out) + "\n"


def when(text):
    return datetime.datetime.strptime(text.replace("Z", "+0000"),
                                      "%Y-%m-%dT%H:%M:%S.%f%z")


class LanesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def env(self, sim):
        e = dict(os.environ)
        e.pop("CMRECON_HMAC_KEY", None)
        e.update({"CMRECON_URL": sim.base_url, "CMRECON_USER": "admin",
                  "CMRECON_PASSWORD": "admin", "NO_COLOR": "1",
                  "XDG_STATE_HOME": os.path.join(self.dir, "state")})
        return e

    def cmrecon(self, sim, *args):
        p = subprocess.run([CMRECON] + list(args), env=self.env(sim),
                           cwd=self.dir, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def apply_json(self, sim, f, *extra):
        rc, out, err = self.cmrecon(sim, "apply", f, "--yes", "--json",
                                    *extra)
        events = [json.loads(x) for x in out.splitlines() if x.strip()]
        return rc, events, out + err

    def restarts(self, sim, events):
        """{target: (start, end)} of every restart command, from CM."""
        spans = {}
        for ev in events:
            if ev.get("phase") != "restart" or "command_id" not in ev:
                continue
            if ev["target"] in spans:
                continue
            s, cmd = sim.get("/commands/%d" % ev["command_id"])
            self.assertEqual(s, 200, cmd)
            spans[ev["target"]] = (when(cmd["startTime"]),
                                   when(cmd["endTime"]))
        return spans

    def restart_posts(self, sim, cluster):
        prefix = "POST /api/v45/clusters/%s/services/" % quote(cluster)
        return sum(n for p, n in sim.stats()["paths"].items()
                   if p.startswith(prefix) and "estart" in p)

    def test_clusters_restart_at_the_same_time(self):
        seed = self.write("seed.json", seed_with(3))
        f = self.write("three.yaml", desired(3))
        with Cmsim(args=SCALE, seed=seed) as sim:
            rc, events, text = self.apply_json(sim, f)
            self.assertEqual(rc, 0, text)
            self.assertTrue(events[-1]["converged"], text)
            self.assertEqual(events[-1]["restarted"], 6, text)
            # the report says what happened on each cluster
            per = {c["cluster"]: c for c in events[-1]["clusters"]}
            self.assertEqual(sorted(per), ["Cluster 1", "Cluster 2",
                                           "Cluster 3"], text)
            for c in per.values():
                self.assertEqual((c["state"], c["writes"], c["restarted"],
                                  c["commands"]), ("done", 2, 2, 2), c)
                self.assertGreater(c["elapsed_ms"], 0, c)
            self.assertTrue(any("3 clusters at the same time" in
                                e.get("message", "") for e in events), text)
            spans = self.restarts(sim, events)
            self.assertEqual(len(spans), 6, spans)
            # Inside a cluster: one service at a time, hdfs before yarn.
            for i, sfx in ((1, ""), (2, "2"), (3, "3")):
                hdfs = spans["Cluster %d/hdfs%s" % (i, sfx)]
                yarn = spans["Cluster %d/yarn%s" % (i, sfx)]
                self.assertLessEqual(hdfs[1], yarn[0], spans)
            # Across clusters: the hdfs restarts overlap.
            h = [spans["Cluster 1/hdfs"], spans["Cluster 2/hdfs2"],
                 spans["Cluster 3/hdfs3"]]
            self.assertLess(max(s for s, _ in h), min(e for _, e in h),
                            spans)
            for c in ("Cluster 1", "Cluster 2", "Cluster 3"):
                self.assertEqual(self.restart_posts(sim, c), 2, c)
            rc, out, err = self.cmrecon(sim, "plan", f,
                                        "--detailed-exitcode")
            self.assertEqual(rc, 0, out + err)

    def test_one_failing_cluster_stops_the_others(self):
        # Cluster 2's first settings write fails at once (HTTP 500 is not
        # retried); every request takes 20 ms, so the other lanes are
        # still writing settings when it does, and start no restart.
        seed = self.write("seed.json", seed_with(3))
        f = self.write("three.yaml", desired(3))
        fault = ("http-error,status=500,method=PUT,path=/clusters/"
                 "Cluster%202/services/hdfs2/config")
        with Cmsim(args=SCALE + ["--latency", "20", "--fault", fault],
                   seed=seed) as sim:
            rc, events, text = self.apply_json(sim, f, "--metrics",
                                               "apply.prom")
            self.assertEqual(rc, 1, text)
            report = events[-1]
            with open(os.path.join(self.dir, "apply.prom")) as m:
                prom = m.read()
            for c, st in (("Cluster 1", "stopped"), ("Cluster 2", "failed"),
                          ("Cluster 3", "stopped")):
                self.assertIn('cmrecon_apply_cluster_state{cluster="%s",'
                              'state="%s"} 1\n' % (c, st), prom)
                self.assertIn('cmrecon_apply_cluster_state{cluster="%s",'
                              'state="done"} 0\n' % c, prom)
            self.assertIn("hdfs2", report["error"], text)
            self.assertIn("HTTP 500", report["error"], text)
            stopped = [e for e in events if e.get("event") == "warning" and
                       "no new step was started" in e.get("message", "")]
            self.assertEqual({e["target"] for e in stopped},
                             {"Cluster 1", "Cluster 3"}, text)
            states = {c["cluster"]: c["state"] for c in report["clusters"]}
            self.assertEqual(states, {"Cluster 1": "stopped",
                                      "Cluster 2": "failed",
                                      "Cluster 3": "stopped"}, text)
            for c in ("Cluster 1", "Cluster 2", "Cluster 3"):
                self.assertEqual(self.restart_posts(sim, c), 0, c)
            # The lock is released on every cluster.
            for c in ("Cluster 1", "Cluster 2", "Cluster 3"):
                s, tags = sim.get("/clusters/%s/tags" % quote(c))
                items = tags if isinstance(tags, list) else tags["items"]
                self.assertFalse([t for t in items if t["name"].startswith(
                    "cmrecon.lock.")], c)
            # Without the fault, a second apply finishes the job.
            s, _ = sim.delete("/_sim/faults")
            rc, events, text = self.apply_json(sim, f)
            self.assertEqual(rc, 0, text)
            self.assertTrue(events[-1]["converged"], text)

    def test_parallel_one_applies_the_clusters_in_turn(self):
        seed = self.write("seed.json", seed_with(3, compute=["Cluster 1"]))
        f = self.write("three.yaml", desired(3))
        with Cmsim(args=SCALE, seed=seed) as sim:
            rc, events, text = self.apply_json(sim, f, "--parallel", "1")
            self.assertEqual(rc, 0, text)
            self.assertTrue(any("2 clusters one at a time (--parallel 1): "
                                "Cluster 2, Cluster 3" in e.get("message", "")
                                for e in events), text)
            spans = self.restarts(sim, events)
            self.assertEqual(len(spans), 6, spans)
            # Whole clusters one after the other, the compute cluster
            # (Cluster 1) last although the plan names it first.
            order = ["Cluster 2", "Cluster 3", "Cluster 1"]
            for a, b in zip(order, order[1:]):
                end_a = max(e for t, (_, e) in spans.items()
                            if t.startswith(a + "/"))
                start_b = min(s for t, (s, _) in spans.items()
                              if t.startswith(b + "/"))
                self.assertLessEqual(end_a, start_b, spans)

    def test_a_failure_leaves_later_clusters_unstarted(self):
        # Two at a time: Cluster 1 fails at once, Cluster 2 stops after
        # its current step, Cluster 3 is never started.
        seed = self.write("seed.json", seed_with(3))
        f = self.write("three.yaml", desired(3))
        fault = ("http-error,status=500,method=PUT,path=/clusters/"
                 "Cluster%201/services/hdfs/config")
        with Cmsim(args=SCALE + ["--latency", "20", "--fault", fault],
                   seed=seed) as sim:
            sim.reset_stats()
            rc, events, text = self.apply_json(sim, f, "--parallel", "2")
            self.assertEqual(rc, 1, text)
            self.assertTrue(any(e.get("target") == "Cluster 3" and
                                "not started: cluster 'Cluster 1' failed"
                                in e.get("message", "") for e in events),
                            text)
            # (the plan read Cluster 3; the apply wrote nothing there)
            touched = [p for p in sim.stats()["paths"]
                       if "Cluster%203/services" in p and
                       not p.startswith("GET ")]
            states = {c["cluster"]: c["state"]
                      for c in events[-1]["clusters"]}
            self.assertEqual(states, {"Cluster 1": "failed",
                                      "Cluster 2": "stopped",
                                      "Cluster 3": "not-started"}, text)
            self.assertEqual(touched, [], touched)
            for c in ("Cluster 1", "Cluster 2", "Cluster 3"):
                self.assertEqual(self.restart_posts(sim, c), 0, c)

    def test_compute_cluster_waits_for_the_base_clusters(self):
        seed = self.write("seed.json", seed_with(3, compute=["Cluster 2"]))
        f = self.write("three.yaml", desired(3))
        with Cmsim(args=SCALE, seed=seed) as sim:
            s, c2 = sim.get("/clusters/%s" % quote("Cluster 2"))
            self.assertEqual(c2["clusterType"], "COMPUTE_CLUSTER")
            rc, events, text = self.apply_json(sim, f)
            self.assertEqual(rc, 0, text)
            self.assertTrue(any("2 clusters at the same time: Cluster 1, "
                                "Cluster 3" in e.get("message", "")
                                for e in events), text)
            spans = self.restarts(sim, events)
            base_end = max(spans[t][1] for t in spans
                           if not t.startswith("Cluster 2/"))
            compute_start = min(spans[t][0] for t in spans
                                if t.startswith("Cluster 2/"))
            self.assertLessEqual(base_end, compute_start, spans)
            one, three = spans["Cluster 1/hdfs"], spans["Cluster 3/hdfs3"]
            self.assertLess(max(one[0], three[0]), min(one[1], three[1]),
                            spans)

    def test_ctrl_c_stops_every_lane_promptly(self):
        # Restarts of 30 s at a tenth of real speed: 3 s each.  Ctrl-C
        # during the first restarts must end the apply well before the
        # waiter's next poll in any lane.
        seed = self.write("seed.json", seed_with(2))
        f = self.write("two.yaml", desired(2))
        with Cmsim(args=["--time-scale", "10"], seed=seed) as sim:
            p = subprocess.Popen([CMRECON, "apply", f, "--yes", "--json"],
                                 env=self.env(sim), cwd=self.dir,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            started = set()
            deadline = time.monotonic() + 60
            while len(started) < 2 and time.monotonic() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                ev = json.loads(line)
                if ev.get("phase") == "restart" and "command_id" in ev:
                    started.add(ev["target"].split("/")[0])
            self.assertEqual(started, {"Cluster 1", "Cluster 2"})
            t0 = time.monotonic()
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
            took = time.monotonic() - t0
            self.assertEqual(p.returncode, 1, out + err)
            self.assertLess(took, 2.5, out + err)
            report = json.loads(out.strip().splitlines()[-1])
            self.assertTrue(report["interrupted"], out)
            self.assertIn("keep running", err)


    def test_ctrl_c_with_parallel_one_leaves_the_next_unstarted(self):
        seed = self.write("seed.json", seed_with(2))
        f = self.write("two.yaml", desired(2))
        with Cmsim(args=["--time-scale", "10"], seed=seed) as sim:
            p = subprocess.Popen([CMRECON, "apply", f, "--yes", "--json",
                                  "--parallel", "1"],
                                 env=self.env(sim), cwd=self.dir,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = p.stdout.readline()
                if not line:
                    break
                ev = json.loads(line)
                if ev.get("phase") == "restart" and "command_id" in ev:
                    break
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 1, out + err)
            events = [json.loads(x) for x in out.splitlines() if x.strip()]
            report = events[-1]
            states = {c["cluster"]: c["state"] for c in report["clusters"]}
            self.assertEqual(states, {"Cluster 1": "stopped",
                                      "Cluster 2": "not-started"}, out)
            self.assertTrue(any(e.get("target") == "Cluster 2" and
                                e.get("message") == "not started: "
                                "interrupted" for e in events), out)
            self.assertEqual(self.restart_posts(sim, "Cluster 2"), 0)

    def test_live_line_shows_every_cluster_on_a_terminal(self):
        # stderr on an 80-column pseudo-terminal: the waits of both
        # clusters share the one live line, each part named by its
        # cluster, cut to the terminal's width.
        import fcntl
        import pty
        import struct
        import termios
        seed = self.write("seed.json", seed_with(2))
        f = self.write("two.yaml", desired(2))
        with Cmsim(args=["--time-scale", "20"], seed=seed) as sim:
            master, slave = pty.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ,
                        struct.pack("HHHH", 24, 80, 0, 0))
            p = subprocess.Popen([CMRECON, "apply", f, "--yes"],
                                 env=self.env(sim), cwd=self.dir,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=slave)
            os.close(slave)
            chunks = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            p.communicate(timeout=120)
            os.close(master)
            text = b"".join(chunks).decode("utf-8", "replace")
            self.assertEqual(p.returncode, 0, text[-3000:])
            # live lines: drawn after "\r\033[K", ended by the next "\r"
            live = [x[len("\033[K"):] for x in
                    text.replace("\r\n", "\n").split("\r")
                    if x.startswith("\033[K[") and "\n" not in x]
            both = [x for x in live
                    if "Cluster 1: " in x and "Cluster 2: " in x]
            self.assertTrue(both, live[:20])
            self.assertTrue(any("Restart (command" in x for x in both),
                            both[:5])
            for x in live:
                self.assertLess(len(x), 80, x)


if __name__ == "__main__":
    unittest.main(verbosity=2)
