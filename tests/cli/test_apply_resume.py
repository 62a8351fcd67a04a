"""End-to-end tests of resuming `cmrecon apply` against cmsim: cmrecon
killed (SIGKILL) at every step of the demo plan and run again; Ctrl-C;
cmsim killed and restarted from its state file mid-restart; two applies
started at once.

The clock is under the test's control: cmsim runs with a stopped clock
(--time-scale 0) and `Apply.drive` moves it only when cmrecon reports that
it is waiting (cmrecon -v apply --json prints a "wait" event per poll), so
a command that was running when cmrecon was killed is still running when
the next apply starts -- the case where a blind re-send would restart a
service twice.  The writes are slowed down (a cmsim `slow` fault answers
after processing), so a kill that follows a step's journal line lands in
the middle of that step's request.

What every resumed run must show: `plan --detailed-exitcode` exits 0
afterwards, and cmsim's restart count per service (GET /_sim/stats) is the
one an uninterrupted apply leaves: hdfs 1, yarn 1.
"""
import concurrent.futures
import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_apply import (ApplyBase, CMRECON, CLUSTER, QUICKSTART,  # noqa: E402
                        Cmsim, quote, writes)

STOPPED = ["--time-scale", "0"]
SLOW_WRITES = ["slow,ms=100,method=%s" % m for m in ("PUT", "POST",
                                                     "DELETE")]
RESTARTS = {"Cluster 1/hdfs": 1, "Cluster 1/yarn": 1}
# Simulated seconds per wait event: enough for any command of the demo
# plan (a 2 GB download, 4 hosts' distribution, a rolling restart).
ADVANCE = 3600


class Apply:
    """`cmrecon -v apply --json ...` in the background.  Its stdout
    events are read by a thread; `waits` counts the "wait" events."""

    def __init__(self, base, sim, *args):
        self.base = base
        self.sims = [sim]
        self.err = open(os.path.join(base.dir, "apply-%d.err" %
                                     len(os.listdir(base.dir))), "w+")
        self.p = subprocess.Popen(
            [CMRECON, "-v", "apply", "--json", "--yes"] + list(args),
            env=base.env(sim), cwd=base.dir, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        self.events = []
        self.waits = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            self.events.append(ev)
            if ev.get("event") == "wait":
                self.waits += 1

    def drive(self, stop=None, kill=True, timeout=120):
        """Moves the clock when cmrecon waits, until it exits or stop()
        says so (then SIGKILL, unless kill=False).  Returns True when
        stop() ended it."""
        seen = 0
        deadline = time.monotonic() + timeout
        while self.p.poll() is None:
            if time.monotonic() > deadline:
                self.p.kill()
                raise AssertionError("apply did not finish: " +
                                     self.stderr())
            waits = self.waits  # read before the journal: see below
            if stop and stop():
                if kill:
                    self.p.kill()
                    self.p.wait()
                return True
            # cmrecon writes a step's journal line before it waits for
            # it, so a wait counted above cannot belong to a step that
            # stop() has not seen yet: the clock never moves past a kill
            # point.
            if waits > seen:
                seen = waits
                try:
                    self.sims[-1].advance(ADVANCE)
                except (ConnectionError, OSError):
                    pass  # cmsim is being restarted
            time.sleep(0.005)
        return False

    def finish(self, timeout=120):
        self.drive(timeout=timeout)
        self.reader.join(timeout=10)
        return self.p.returncode

    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def output(self):
        """stderr, then the events' messages, one a line."""
        return self.stderr() + "".join(
            "%s %s %s: %s\n" % (e.get("event"), e.get("phase"),
                                 e.get("target"), e.get("message"))
            for e in self.events)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.p.stdout.close()
        self.err.close()


class ResumeBase(ApplyBase):
    def journal(self):
        """Every journal line of every apply so far, parsed (a torn line
        fails the test)."""
        jdir = os.path.join(self.dir, "state", "cmrecon")
        lines = []
        if not os.path.isdir(jdir):
            return lines
        for name in sorted(os.listdir(jdir)):
            with open(os.path.join(jdir, name)) as f:
                text = f.read()
            self.assertTrue(text == "" or text.endswith("\n"), text[-200:])
            lines += [json.loads(x) for x in text.splitlines()]
        return lines

    def lock_tags(self, sim):
        s, tags = sim.get("/clusters/%s/tags" % quote(CLUSTER))
        self.assertEqual(s, 200, tags)
        items = tags if isinstance(tags, list) else tags.get("items")
        return [t["name"] for t in items
                if t["name"].startswith("cmrecon.lock.")]

    def rerun(self, sim):
        """Runs apply again until it is done, breaking the lock a killed
        apply left (exit 4 names it, and `unlock` removes it), as an
        operator would.  Returns the final apply's exit code and stderr."""
        held = self.lock_tags(sim)
        if held:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            lock_id = held[0][len("cmrecon.lock."):]
            if rc == 0:
                # Killed after its last change: nothing left to do, so
                # no lock is taken; the stale one is still removed.
                self.assertIn("No changes", err)
            else:
                self.assertEqual(rc, 4, out + err)
                m = re.search(r"cmrecon unlock '([^']*)' ([0-9a-f]+)",
                              err)
                self.assertTrue(m, err)
                self.assertEqual((m.group(1), m.group(2)),
                                 (CLUSTER, lock_id))
            rc2, out, err2 = self.cmrecon(sim, "unlock", CLUSTER, lock_id)
            self.assertEqual(rc2, 0, out + err2)
            if rc == 0:
                return rc, err
        a = Apply(self, sim, QUICKSTART)
        try:
            rc = a.finish()
            return rc, a.output()
        finally:
            a.close()

    def assert_converged(self, sim, restarts=None):
        rc, out, err = self.cmrecon(sim, "plan", QUICKSTART,
                                    "--detailed-exitcode")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(restarts or sim.stats()["restarts"], RESTARTS)
        self.assertEqual(self.lock_tags(sim), [])


class ApplyResumeTest(ResumeBase):
    def reference_steps(self):
        """The journal's step lines of an uninterrupted apply."""
        with Cmsim(args=STOPPED) as sim:
            a = Apply(self, sim, QUICKSTART)
            try:
                self.assertEqual(a.finish(), 0, a.stderr())
            finally:
                a.close()
            self.assert_converged(sim)
        steps = [x for x in self.journal() if x["event"] == "step"]
        self.clear_journal()
        return steps

    def clear_journal(self):
        jdir = os.path.join(self.dir, "state", "cmrecon")
        for name in os.listdir(jdir) if os.path.isdir(jdir) else []:
            os.unlink(os.path.join(jdir, name))

    def test_killed_at_every_step_then_rerun(self):
        steps = self.reference_steps()
        # The demo plan: lock, CM settings, the SPARK3 download, three
        # scopes of settings, the parcel's stages, two restarts with
        # their health gates, verify.
        phases = [s["phase"] for s in steps]
        for p in ("settings", "parcel", "restart", "health", "verify"):
            self.assertIn(p, phases)
        # The kill points run side by side (each with its own cmsim and
        # state directory): most of their time is cmrecon sleeping between
        # polls.
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            jobs = [pool.submit(self.kill_at, i) for i in range(len(steps))]
        for i, step in enumerate(steps):
            with self.subTest(step=i, phase=step["phase"],
                              target=step["target"],
                              message=step["message"]):
                err = jobs[i].result()
                if step["phase"] == "restart":
                    # Killed while CM ran the restart: waited for, not
                    # sent again.
                    self.assertIn("already running in CM", err)

    def kill_at(self, i):
        # A copy of the test whose files live in a directory of its own.
        self = copy.copy(self)
        self.dir = os.path.join(self.dir, "kill-%02d" % i)
        os.mkdir(self.dir)
        args = STOPPED
        for f in SLOW_WRITES:
            args = args + ["--fault", f]
        with Cmsim(args=args) as sim:
            a = Apply(self, sim, QUICKSTART)

            def reached():
                return len([x for x in self.journal()
                            if x["event"] == "step"]) > i
            try:
                killed = a.drive(stop=reached)
                self.assertTrue(killed, a.stderr())
            finally:
                a.close()
            sim.clear_faults()
            rc, err = self.rerun(sim)
            self.assertEqual(rc, 0, err)
            self.assert_converged(sim)
            self.journal()  # every line still parses
            return err

    def test_ctrl_c_releases_lock_and_keeps_journal(self):
        with Cmsim(args=STOPPED) as sim:
            a = Apply(self, sim, QUICKSTART)

            def restarting():
                return any(x["phase"] == "restart" and x["event"] == "step"
                           for x in self.journal())
            # Not killed: SIGINT once the hdfs restart runs in CM.
            self.assertTrue(a.drive(stop=restarting, kill=False),
                            a.stderr())
            a.p.send_signal(signal.SIGINT)
            try:
                # The clock stays stopped: the wait ends at its next poll.
                rc = a.p.wait(timeout=60)
                err = a.stderr()
            finally:
                a.close()
            self.assertEqual(rc, 1, err)
            self.assertIn("interrupted", err)
            self.assertIn("keep running", err)
            self.assertEqual(self.lock_tags(sim), [])
            journal = self.journal()
            self.assertEqual(journal[-1]["event"], "failed", journal[-1])
            self.assertIn("interrupted", journal[-1]["message"])
            # The restart was left running in CM; the next apply waits for
            # it rather than starting another one.
            s, cmds = sim.get("/clusters/%s/services/hdfs/commands" %
                              quote(CLUSTER))
            self.assertEqual(len(cmds["items"]), 1, cmds)
            rc, err = self.rerun(sim)
            self.assertEqual(rc, 0, err)
            self.assertIn("already running in CM", err)
            self.assert_converged(sim)

    def test_cmsim_restarted_mid_restart(self):
        state = os.path.join(self.dir, "cmsim.state")
        sim = Cmsim(args=STOPPED, state_file=state).start()
        sim2 = None
        a = Apply(self, sim, QUICKSTART)
        try:
            def restarting():
                return any(x["phase"] == "restart" and x["event"] == "step"
                           for x in self.journal())
            # Drive until the hdfs rolling restart runs in CM.
            self.assertTrue(a.drive(stop=restarting, kill=False),
                            a.stderr())
            before = sim.stats()["restarts"]
            port = sim.port
            sim.stop(signal.SIGKILL)
            # CM is down for a moment; then it comes back from its state
            # file, on the same port, with the restart still running.
            time.sleep(0.3)
            sim2 = Cmsim(args=STOPPED + ["--listen", "127.0.0.1:%d" % port],
                         state_file=state).start()
            s, cmds = sim2.get("/clusters/%s/services/hdfs/commands" %
                               quote(CLUSTER))
            self.assertEqual(len(cmds["items"]), 1, cmds)
            a.sims.append(sim2)
            rc = a.finish()
            err = a.stderr()
            if rc != 0:
                # cmrecon may give up while CM is down: a re-run then
                # converges without restarting anything again.
                rc, err = self.rerun(sim2)
            self.assertEqual(rc, 0, err)
            after = sim2.stats()["restarts"]
            total = {k: before.get(k, 0) + after.get(k, 0)
                     for k in set(before) | set(after)}
            self.assert_converged(sim2, restarts=total)
        finally:
            a.close()
            sim.stop()
            if sim2:
                sim2.stop()

    def test_two_applies_at_once_one_runs_other_exits_4(self):
        # Both lock tags are written before either apply reads them back
        # (the tag PUTs answer late), so both must agree on the winner.
        with Cmsim(args=STOPPED + ["--fault", "slow,ms=300,method=PUT,"
                                   "path=/clusters/Cluster%201/tags"]) \
                as sim:
            both = [Apply(self, sim, QUICKSTART) for _ in range(2)]
            try:
                deadline = time.monotonic() + 120
                seen = 0
                while any(x.p.poll() is None for x in both):
                    self.assertLess(time.monotonic(), deadline)
                    w = sum(x.waits for x in both)
                    if w > seen:
                        seen = w
                        sim.advance(ADVANCE)
                    time.sleep(0.005)
                codes = sorted(x.p.returncode for x in both)
                errs = [x.stderr() for x in both]
            finally:
                for x in both:
                    x.close()
            self.assertEqual(codes, [0, 4], errs)
            loser = [e for e in errs if "locked by another apply" in e]
            self.assertEqual(len(loser), 1, errs)
            self.assert_converged(sim)
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(writes(sim.stats()), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
