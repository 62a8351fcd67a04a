"""End-to-end tests of `cmrecon apply` under injected faults (cmsim's
--fault grammar, docs/cmsim.md): 5xx bursts, dropped connections before
and after the request is processed, a lost answer to the restart POST,
401s mid-run, slow answers, a stalled parcel, and a concurrent writer
between plan and apply.  Helpers are shared with test_apply.py.

Every run that should ride a fault out must converge (exit 0, then
`plan --detailed-exitcode` exits 0) with each stale service restarted
exactly once (cmsim's GET /_sim/stats "restarts").
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_apply import (ApplyBase, CLUSTER, QUICKSTART, SPARK3,  # noqa: E402
                        Cmsim, count, quote, write, writes)

# Simulated time a million times faster than real: a 30 s restart ends
# in microseconds, so a command is often over before cmrecon looks again
# (the hardest case for "was my lost POST applied?").
VERY_FAST = ["--time-scale", "1000000"]
FAST = ["--time-scale", "1000"]
RESTARTS = {"Cluster 1/hdfs": 1, "Cluster 1/yarn": 1}
SVC = "/clusters/Cluster%201/services/"


class ApplyFaultsTest(ApplyBase):
    def converges(self, sim, *extra, restarts=RESTARTS):
        rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                    *extra)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("converged", err)
        self.assertEqual(sim.stats()["restarts"], restarts, err)
        rc, out2, err2 = self.cmrecon(sim, "plan", QUICKSTART,
                                      "--detailed-exitcode")
        self.assertEqual(rc, 0, out2 + err2)
        return out, err

    # --- 5xx ---------------------------------------------------------
    def test_5xx_bursts_ridden_out(self):
        # Every method, about a quarter of the requests: GETs and PUTs
        # are retried by the transport, POSTs by the executor once it has
        # checked that CM did not act on them.
        args = VERY_FAST
        for status in (502, 503, 504):
            args = args + ["--fault", "http-error,status=%d,rate=0.1" %
                           status]
        with Cmsim(args=args) as sim:
            self.converges(sim)

    def test_5xx_burst_on_every_post(self):
        # 503s in a row on each command POST.
        specs = ["http-error,status=503,count=2,method=POST,path=" +
                 SVC + s for s in ("hdfs/commands/rollingRestart",
                                   "yarn/commands/restart")]
        specs.append("http-error,status=503,count=2,method=POST,path="
                     "/clusters/Cluster%201/parcels")
        args = VERY_FAST
        for s in specs:
            args = args + ["--fault", s]
        with Cmsim(args=args) as sim:
            self.converges(sim)

    # --- dropped connections -------------------------------------------
    def test_drops_before_and_after_ridden_out(self):
        for when in ("before", "after"):
            with self.subTest(when=when):
                spec = "drop,when=%s,rate=0.25" % when
                with Cmsim(args=VERY_FAST + ["--fault", spec]) as sim:
                    self.converges(sim)

    def test_lost_restart_answer_does_not_restart_twice(self):
        # The restart POSTs are processed, then their connection drops:
        # the executor must find the command (still running, or already
        # finished) instead of sending a second restart.
        for speed in (FAST, VERY_FAST):
            with self.subTest(speed=speed[1]):
                args = speed + [
                    "--fault", "drop,when=after,count=1,method=POST,path=" +
                    SVC + "yarn/commands/restart",
                    "--fault", "drop,when=after,count=1,method=POST,path=" +
                    SVC + "hdfs/commands/rollingRestart"]
                with Cmsim(args=args) as sim:
                    out, err = self.converges(sim)
                    self.assertIn("lost", err)
                    stats = sim.stats()
                    self.assertEqual(count(stats, "POST /api/v45" + SVC +
                                           "yarn/commands/restart"), 1)
                    self.assertEqual(count(stats, "POST /api/v45" + SVC +
                                           "hdfs/commands/rollingRestart"),
                                     1)

    def test_lost_refresh_and_client_config_answers(self):
        # The same for the client configuration (not sent again once CM
        # reports it fresh) and the role refresh (safe to repeat).
        f = write(self.dir, "refresh.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        role_config_groups:
          hdfs-DATANODE-BASE:
            config:
              dfs_datanode_data_dir_perm: "750"
          hdfs-GATEWAY-BASE:
            config:
              dfs_client_use_trash: true
""")
        args = VERY_FAST + [
            "--fault", "drop,when=after,count=1,method=POST,path=" + SVC +
            "hdfs/commands/deployClientConfig",
            "--fault", "drop,when=after,count=1,method=POST,path=" + SVC +
            "hdfs/roleCommands/refresh"]
        with Cmsim(args=args) as sim:
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(count(sim.stats(), "POST /api/v45" + SVC +
                                   "hdfs/commands/deployClientConfig"), 1)
            self.assertEqual(sim.stats()["restarts"], {})
            s, svc = sim.get("/clusters/%s/services/hdfs" % quote(CLUSTER))
            self.assertEqual(svc["configStalenessStatus"], "FRESH")
            self.assertEqual(svc["clientConfigStalenessStatus"], "FRESH")

    def test_lost_parcel_and_settings_answers(self):
        args = VERY_FAST + [
            "--fault", "drop,when=after,count=2,method=POST,path="
            "/clusters/Cluster%201/parcels",
            "--fault", "drop,when=after,count=2,method=PUT"]
        with Cmsim(args=args) as sim:
            self.converges(sim)
            self.assertEqual(self.parcel_stage(sim, "SPARK3", SPARK3),
                             "DISTRIBUTED")

    # --- authentication ---------------------------------------------------
    def test_401_mid_run_reauthenticates(self):
        # Once cmrecon holds a session, the next requests are refused: the
        # session is dropped and Basic used again, run after run.
        with Cmsim(args=VERY_FAST) as sim:
            sim.faults(["unauthorized,count=1,method=PUT",
                        "unauthorized,count=1,method=POST",
                        "unauthorized,count=1,path=/commands/"])
            self.converges(sim)

    def test_401_on_next_n_requests(self):
        # Three refusals in a row: the session is dropped, and Basic is
        # refused too -- to cmrecon that is a wrong password, so it stops
        # (exit 1, lock released, nothing done twice); the next run, with
        # CM accepting the credentials again, converges.
        with Cmsim(args=VERY_FAST) as sim:
            sim.faults(["unauthorized,count=3,method=POST"])
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertIn(rc, (0, 1), out + err)
            if rc == 1:
                self.assertIn("401", err)
            s, tags = sim.get("/clusters/%s/tags" % quote(CLUSTER))
            items = tags if isinstance(tags, list) else tags.get("items")
            self.assertFalse([t for t in items
                              if t["name"].startswith("cmrecon.lock.")])
            self.converges(sim)

    # --- slow answers ----------------------------------------------------
    def test_slow_answers(self):
        with Cmsim(args=VERY_FAST + ["--fault", "slow,ms=300,rate=0.2",
                                "--latency", "5:20"]) as sim:
            self.converges(sim)

    # --- failures that must stop the apply --------------------------------
    def test_stalled_parcel_fails_with_message(self):
        msg = "Hash verification failed"
        with Cmsim(args=VERY_FAST + ["--fault", "parcel-stall,product=SPARK3,"
                                "message=" + msg]) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 1, out + err)
            self.assertIn(msg, err)
            self.assertIn("SPARK3", err)
            # Stopped at the parcel: no restart was started.
            self.assertEqual(count(sim.stats(), "POST /api/v45" + SVC), 0)
            # The lock was released; once the fault is gone, a re-run
            # converges.
            sim.clear_faults()
            self.converges(sim)

    def test_concurrent_writer_makes_saved_plan_stale(self):
        with Cmsim(args=VERY_FAST) as sim:
            planfile = os.path.join(self.dir, "p.json")
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART, "-o",
                                        planfile)
            self.assertEqual(rc, 0, out + err)
            # "Someone else" changes a setting the plan read, one request
            # into the apply.
            sim.faults(["concurrent-write,after=1,cluster=Cluster 1,"
                        "service=yarn,group=yarn-NODEMANAGER-1,"
                        "name=yarn_nodemanager_resource_memory_mb,"
                        "value=4096"])
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes")
            self.assertEqual(rc, 3, out + err)
            self.assertIn("stale", err)
            self.assertIn("yarn-NODEMANAGER-1", err)
            self.assertEqual(writes(sim.stats()), 0, sim.stats())
            # A new plan applies.
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART, "-o",
                                        planfile)
            self.assertEqual(rc, 0, out + err)
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes")
            self.assertEqual(rc, 0, out + err)

    def test_concurrent_writer_during_apply(self):
        # A setting the file names is changed back by someone else while
        # the apply runs (after its writes): verify notices, exit 1; a
        # re-run converges.
        f = write(self.dir, "d.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 2
""")
        with Cmsim(args=VERY_FAST) as sim:
            sim.faults(["concurrent-write,after=14,cluster=Cluster 1,"
                        "service=hdfs,name=dfs_replication,value=3"])
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes")
            self.assertIn(rc, (0, 1), out + err)
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes")
            self.assertEqual(rc, 0, out + err)
            s, cfg = sim.get("/clusters/%s/services/hdfs/config" %
                             quote(CLUSTER))
            got = {i["name"]: i.get("value") for i in cfg["items"]}
            self.assertEqual(got.get("dfs_replication"), "2")


if __name__ == "__main__":
    unittest.main(verbosity=2)
