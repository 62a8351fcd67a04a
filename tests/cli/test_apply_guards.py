"""End-to-end tests of apply's guards and failures against cmsim: failed
commands, BAD health, deferred restarts, the TTY guard, the lock (held,
expired, two applies at once, unlock) and Ctrl-C.  Helpers are shared with
test_apply.py.
"""
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_apply import (ApplyBase, CMRECON, CLUSTER, FAST,  # noqa: E402
                        QUICKSTART, Cmsim, count, quote, writes)


class ApplyGuardsTest(ApplyBase):
    def test_failing_command_stops_apply(self):
        msg = "Failed to start DataNode: port 9866 in use"
        fault = ("command-fail,command=RollingRestart,service=hdfs,"
                 "message=" + msg)
        with Cmsim(args=FAST + ["--fault", fault]) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 1, out + err)
            self.assertIn(msg, err)
            self.assertIn("RollingRestart", err)
            # Stopped there: yarn was not restarted after hdfs failed.
            stats = sim.stats()
            self.assertEqual(count(stats, "POST /api/v45/clusters/Cluster"
                                   "%201/services/yarn/commands/"), 0)

    def test_bad_health_stops_apply(self):
        with Cmsim(args=FAST + ["--fault", "bad-health,service=hdfs"]) \
                as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 1, out + err)
            self.assertIn("BAD", err)
            self.assertIn("HDFS_SERVICE_HEALTH", err)

    def test_no_restart_defers(self):
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--no-restart")
            self.assertEqual(rc, 2, out + err)
            stats = sim.stats()
            self.assertEqual(count(stats, "POST /api/v45/clusters/Cluster"
                                   "%201/services/hdfs/commands/"), 0)

    def test_outside_restart_window_defers(self):
        # the window is in local time (TZ respected), like cmrecon's
        t = time.localtime()
        start = (t.tm_hour + 2) % 24
        window = "%02d:00-%02d:00" % (start, (start + 1) % 24)
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--restart-window", window)
            self.assertEqual(rc, 2, out + err)
            self.assertIn("outside --restart-window", err)
            self.assertEqual(count(sim.stats(), "POST /api/v45/clusters/"
                                   "Cluster%201/services/"), 0)
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--restart-window", "25:00-01:00")
            self.assertEqual(rc, 64, out + err)

    def test_no_tty_without_yes_refused(self):
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART)
            self.assertEqual(rc, 4, out + err)
            self.assertIn("--yes", err)
            self.assertEqual(writes(sim.stats()), 0)

    def test_held_lock_refused_then_unlocked(self):
        with Cmsim(args=FAST) as sim:
            value = ("holder=ci@runner7;host=runner7;plan=feedbeef;"
                     "created=2020-01-01T00:00:00.000Z;"
                     "expires=2999-01-01T00:00:00.000Z")
            s, b = sim.put("/clusters/%s/tags" % quote(CLUSTER),
                           [{"name": "cmrecon.lock.0123456789abcdef",
                             "value": value}])
            self.assertEqual(s, 200, b)
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 4, out + err)
            self.assertIn("ci@runner7", err)
            self.assertIn("0123456789abcdef", err)
            rc, out, err = self.cmrecon(sim, "unlock", CLUSTER,
                                        "0123456789abcdef")
            self.assertEqual(rc, 0, out + err)
            rc, out, err = self.cmrecon(sim, "unlock", CLUSTER,
                                        "0123456789abcdef")
            self.assertEqual(rc, 1, out + err)
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 0, out + err)

    def test_expired_lock_ignored(self):
        with Cmsim(args=FAST) as sim:
            value = ("holder=old@gone;host=gone;plan=x;"
                     "created=2020-01-01T00:00:00.000Z;"
                     "expires=2020-01-01T00:15:00.000Z")
            s, b = sim.put("/clusters/%s/tags" % quote(CLUSTER),
                           [{"name": "cmrecon.lock.00", "value": value}])
            self.assertEqual(s, 200, b)
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 0, out + err)

    def test_two_applies_at_once_one_refused(self):
        # A slower clock so that the two runs overlap for sure.
        with Cmsim(args=["--time-scale", "100"]) as sim:
            procs = [subprocess.Popen(
                [CMRECON, "apply", QUICKSTART, "--yes"], env=self.env(sim),
                cwd=self.dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
            results = [p.communicate(timeout=180) for p in procs]
            codes = sorted(p.returncode for p in procs)
            self.assertEqual(codes, [0, 4], results)
            loser = [r for p, r in zip(procs, results)
                     if p.returncode == 4][0]
            self.assertIn("locked by another apply", loser[1])

    def test_below_v41_local_lock(self):
        # No entity tags below v41: the lock is a local file, so two
        # applies on this machine still exclude each other.
        with Cmsim(args=["--time-scale", "100", "--api-version",
                         "v40"]) as sim:
            procs = [subprocess.Popen(
                [CMRECON, "apply", QUICKSTART, "--yes"], env=self.env(sim),
                cwd=self.dir, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
            results = [p.communicate(timeout=180) for p in procs]
            codes = sorted(p.returncode for p in procs)
            self.assertEqual(codes, [0, 4], results)
            winner = [r for p, r in zip(procs, results)
                      if p.returncode == 0][0]
            self.assertIn("covers this machine only", winner[1])
            self.assertEqual(count(sim.stats(), "PUT /api/v40/clusters/"
                                   "Cluster%201/tags"), 0)

    def test_ctrl_c_stops_and_releases_lock(self):
        # A slow clock: the hdfs rolling restart takes long enough to be
        # interrupted while it runs.
        with Cmsim(args=["--time-scale", "20"]) as sim:
            p = subprocess.Popen([CMRECON, "apply", QUICKSTART, "--yes"],
                                 env=self.env(sim), cwd=self.dir,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                stats = sim.stats()
                if count(stats, "POST /api/v45/clusters/Cluster%201/"
                         "services/hdfs/commands/rollingRestart"):
                    break
                time.sleep(0.05)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 1, out + err)
            self.assertIn("interrupted", err)
            self.assertIn("keep", err)
            s, tags = sim.get("/clusters/%s/tags" % quote(CLUSTER))
            items = tags if isinstance(tags, list) else tags.get("items")
            self.assertFalse([t for t in items
                              if t["name"].startswith("cmrecon.lock.")])
            # yarn was not started after the interruption.
            self.assertEqual(count(sim.stats(), "POST /api/v45/clusters/"
                                   "Cluster%201/services/yarn/"), 0)



if __name__ == "__main__":
    unittest.main(verbosity=2)
