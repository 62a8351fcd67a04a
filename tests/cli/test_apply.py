"""End-to-end tests of `cmrecon apply` (and `unlock`) against cmsim.

Each test starts cmsim on a free loopback port with the demo seed and a
fast clock (--time-scale 1000: a 30 s restart takes 30 ms), runs the real
cmrecon binary, and checks the exit code, the output and what cmsim saw
(GET /_sim/stats, the state read back through the API).
"""
import base64
import hashlib
import hmac
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

CMRECON = os.environ.get("CMRECON", "cmrecon")
SOURCE = os.environ.get(
    "CMR_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
QUICKSTART = os.path.join(SOURCE, "examples", "quickstart.yaml")
CLUSTER = "Cluster 1"
SPARK3 = "3.3.2.3.3.7190.0-91-1.p0.45265883"
FAST = ["--time-scale", "1000"]


def write(dirname, name, text):
    path = os.path.join(dirname, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def secret_tag(scope, key):
    h = hashlib.sha256(("%s/%s" % (scope, key)).encode()).hexdigest()
    return "cmrecon.secret." + h[:16]


def secret_record(key, value):
    mac = hmac.new(key.encode(), value.encode(), hashlib.sha256).digest()
    return "hmac-sha256:" + base64.b64encode(mac).decode()


def writes(stats):
    r = stats["requests"]
    return r.get("PUT", 0) + r.get("POST", 0) + r.get("DELETE", 0)


def count(stats, prefix):
    return sum(n for p, n in stats["paths"].items() if p.startswith(prefix))


class ApplyBase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def env(self, sim):
        e = dict(os.environ)
        e.pop("CMRECON_HMAC_KEY", None)
        e["CMRECON_URL"] = sim.base_url
        e["CMRECON_USER"] = "admin"
        e["CMRECON_PASSWORD"] = "admin"
        e["NO_COLOR"] = "1"
        e["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        return e

    def cmrecon(self, sim, *args, stdin=subprocess.DEVNULL, env=None):
        e = self.env(sim)
        e.update(env or {})
        p = subprocess.run([CMRECON] + list(args), env=e,
                           cwd=self.dir, stdin=stdin,
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def parcel_stage(self, sim, product, version):
        s, b = sim.get("/clusters/%s/parcels/products/%s/versions/%s" %
                       (quote(CLUSTER), quote(product), quote(version)))
        self.assertEqual(s, 200, b)
        return b["stage"]


class ApplyTest(ApplyBase):
    def test_apply_converges_then_nothing_to_do(self):
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertIn("converged", err)
            stats = sim.stats()
            # Only what CM reported stale was restarted: hdfs (rolling,
            # settings changed) and yarn, not the other services.
            base = "POST /api/v45/clusters/Cluster%201/services/"
            self.assertEqual(count(stats, base + "hdfs/commands/"
                                   "rollingRestart"), 1, stats["paths"])
            self.assertEqual(count(stats, base + "yarn/commands/restart"),
                             1, stats["paths"])
            for svc in ("zookeeper", "hive", "impala", "spark_on_yarn"):
                self.assertEqual(count(stats, base + svc + "/commands/"),
                                 0, svc)
            # The parcel went AVAILABLE_REMOTELY -> DISTRIBUTED.
            self.assertEqual(self.parcel_stage(sim, "SPARK3", SPARK3),
                             "DISTRIBUTED")
            # The lock is gone.
            s, tags = sim.get("/clusters/%s/tags" % quote(CLUSTER))
            self.assertEqual(s, 200)
            items = tags if isinstance(tags, list) else tags.get("items")
            self.assertFalse([t for t in items
                              if t["name"].startswith("cmrecon.lock.")])
            # plan afterwards: no changes.
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART,
                                        "--detailed-exitcode")
            self.assertEqual(rc, 0, out + err)
            # A second apply: no lock, no write, no command.
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--json")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(writes(sim.stats()), 0, sim.stats())
            report = json.loads(out.strip().splitlines()[-1])
            self.assertEqual(report["exit_code"], 0)
            self.assertEqual(report["writes"], 0)

    def test_audit_message_and_journal(self):
        with Cmsim(args=FAST) as sim:
            e = self.env(sim)
            e["CMRECON_CHANGE_REF"] = "abc1234"
            p = subprocess.run([CMRECON, "apply", QUICKSTART, "--yes",
                                "--json", "--report", "report.json",
                                "--metrics", "apply.prom"], env=e,
                               cwd=self.dir,
                               stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            lines = [json.loads(x) for x in p.stdout.splitlines()]
            self.assertEqual(lines[-1]["kind"], "cmrecon-apply-report")
            self.assertTrue(lines[-1]["converged"])
            [one] = lines[-1]["clusters"]
            self.assertEqual((one["cluster"], one["state"], one["restarted"]),
                             ("Cluster 1", "done", 2), one)
            self.assertGreater(lines[-1]["restarted"], 0)
            self.assertTrue(any(x.get("event") == "step" for x in lines))
            self.assertEqual(lines[0]["event"], "plan")
            with open(os.path.join(self.dir, "report.json")) as f:
                self.assertEqual(json.load(f), lines[-1])
            with open(os.path.join(self.dir, "apply.prom")) as f:
                prom = f.read()
            self.assertIn("cmrecon_apply_converged 1.000", prom)
            self.assertIn('cmrecon_apply_changes{kind="restarts"} 2', prom)
            s, audit = sim.get("/_sim/audit")
            if s == 200:
                text = json.dumps(audit)
                self.assertIn("cmrecon", text)
                self.assertIn("abc1234", text)
            jdir = os.path.join(self.dir, "state", "cmrecon")
            names = os.listdir(jdir)
            self.assertEqual(len(names), 1)
            with open(os.path.join(jdir, names[0])) as f:
                events = [json.loads(x) for x in f]
            self.assertTrue(any("command_id" in x for x in events))

    def test_parcel_activated(self):
        with Cmsim(args=FAST) as sim:
            f = write(self.dir, "spark.yaml", """version: 1
clusters:
  Cluster 1:
    parcels:
      SPARK3: %s
""" % SPARK3)
            self.assertEqual(self.parcel_stage(sim, "SPARK3", SPARK3),
                             "AVAILABLE_REMOTELY")
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(self.parcel_stage(sim, "SPARK3", SPARK3),
                             "ACTIVATED")
            # ...and back down the ladder: deactivate, remove the
            # distribution, remove the download
            down = write(self.dir, "spark-down.yaml", """version: 1
clusters:
  Cluster 1:
    parcels:
      SPARK3: {version: %s, stage: AVAILABLE_REMOTELY}
""" % SPARK3)
            rc, out, err = self.cmrecon(sim, "plan", down)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("deactivate -> remove distribution -> remove "
                          "download", out)
            rc, out, err = self.cmrecon(sim, "apply", down, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(self.parcel_stage(sim, "SPARK3", SPARK3),
                             "AVAILABLE_REMOTELY")
            rc, out, err = self.cmrecon(sim, "plan", "--detailed-exitcode",
                                        down)
            self.assertEqual(rc, 0, out + err)

    def test_repo_change_refreshes_repositories(self):
        with Cmsim(args=FAST) as sim:
            s, b = sim.put("/cm/config", {"items": [
                {"name": "REMOTE_PARCEL_REPO_URLS",
                 "value": "https://other.example.com/"}]})
            self.assertEqual(s, 200, b)
            s, cmd = sim.post("/cm/commands/refreshParcelRepos")
            self.assertEqual(s, 200, cmd)
            time.sleep(0.5)
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(count(sim.stats(), "POST /api/v45/cm/commands/"
                                   "refreshParcelRepos"), 1)
            self.assertEqual(self.parcel_stage(sim, "SPARK3", SPARK3),
                             "DISTRIBUTED")

    def test_forced_secret_without_key_converges(self):
        f = write(self.dir, "hive.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hive:
        restart: never
        config:
          hive_metastore_database_password: {env: HIVE_DB_PW}
""")
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes",
                                        "--force-secrets",
                                        env={"HIVE_DB_PW": "pw-123456"})
            # hive is left stale by `restart: never`: exit 2, converged.
            self.assertEqual(rc, 2, out + err)
            self.assertIn("not recorded", err)
            self.assertNotIn("pw-123456", out + err)

    def test_refresh_and_client_config_without_restart(self):
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
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes")
            self.assertEqual(rc, 0, out + err)
            stats = sim.stats()
            base = "POST /api/v45/clusters/Cluster%201/services/hdfs/"
            self.assertEqual(count(stats, base + "roleCommands/refresh"), 1)
            self.assertEqual(count(stats, base + "commands/"
                                   "deployClientConfig"), 1)
            self.assertEqual(count(stats, base + "commands/restart"), 0)
            self.assertEqual(count(stats, base + "commands/rollingRestart"),
                             0)
            s, svc = sim.get("/clusters/%s/services/hdfs" % quote(CLUSTER))
            self.assertEqual(svc["configStalenessStatus"], "FRESH")
            self.assertEqual(svc["clientConfigStalenessStatus"], "FRESH")

    def test_saved_plan_applies_and_stale_plan_refused(self):
        with Cmsim(args=FAST) as sim:
            planfile = os.path.join(self.dir, "p.json")
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART, "-o",
                                        planfile)
            self.assertEqual(rc, 0, out + err)
            # Someone changes a setting the plan read: refused, exit 3.
            s, b = sim.put("/clusters/%s/services/hdfs/config" %
                           quote(CLUSTER),
                           {"items": [{"name": "dfs_replication",
                                       "value": "1"}]})
            self.assertEqual(s, 200, b)
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes")
            self.assertEqual(rc, 3, out + err)
            self.assertIn("stale", err)
            self.assertEqual(writes(sim.stats()), 0)
            # A fresh saved plan applies and converges.
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART, "-o",
                                        planfile)
            self.assertEqual(rc, 0, out + err)
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes")
            self.assertEqual(rc, 0, out + err)
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART,
                                        "--detailed-exitcode")
            self.assertEqual(rc, 0, out + err)

    def test_saved_plan_activating_cdh_is_not_stale(self):
        # A CDH activation forecasts a restart of every service, also of
        # those the file does not name.  The saved plan must still match
        # what it read (the soak found it refused as stale every time).
        f = write(self.dir, "cdh.yaml", """version: 1
clusters:
  Cluster 1:
    parcels:
      CDH: 7.1.8-1.cdh7.1.8.p0.30990532
    services:
      hdfs:
        type: HDFS
        config:
          dfs_replication: 2
""")
        with Cmsim(args=FAST) as sim:
            planfile = os.path.join(self.dir, "p.json")
            rc, out, err = self.cmrecon(sim, "plan", f, "-o", planfile)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("zookeeper", out)  # forecast, not named
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes")
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(self.parcel_stage(
                sim, "CDH", "7.1.8-1.cdh7.1.8.p0.30990532"), "ACTIVATED")
            rc, out, err = self.cmrecon(sim, "plan", f,
                                        "--detailed-exitcode")
            self.assertEqual(rc, 0, out + err)

    def test_saved_plan_stale_when_a_secret_changed(self):
        f = write(self.dir, "hive.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hive:
        restart: never
        config:
          hive_metastore_database_password: {env: HIVE_DB_PW}
""")
        planfile = os.path.join(self.dir, "secret.plan")
        env = {"HIVE_DB_PW": "first-canary", "CMRECON_HMAC_KEY": "k3y"}
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "plan", f, "--force-secrets",
                                        "-o", planfile, env=env)
            self.assertEqual(rc, 0, out + err)
            with open(planfile) as fh:
                text = fh.read()
            self.assertNotIn("canary", text)
            self.assertIn("secret:Cluster 1/hive/hive_metastore_"
                          "database_password", text)
            # The secret changes after the plan was made: refused.
            env["HIVE_DB_PW"] = "second-canary"
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes",
                                        env=env)
            self.assertEqual(rc, 3, out + err)
            self.assertIn("the secret for 'Cluster 1/hive/hive_metastore_"
                          "database_password' changed", err)
            self.assertNotIn("canary", out + err)
            self.assertEqual(writes(sim.stats()), 0)
            # Without the HMAC key it cannot be checked: refused too.
            del env["CMRECON_HMAC_KEY"]
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes",
                                        env=env)
            self.assertEqual(rc, 3, out + err)
            # The secret the plan was made with: applies (exit 2: the
            # service is left stale, restart: never).
            env["HIVE_DB_PW"] = "first-canary"
            env["CMRECON_HMAC_KEY"] = "k3y"
            rc, out, err = self.cmrecon(sim, "apply", planfile, "--yes",
                                        env=env)
            self.assertEqual(rc, 2, out + err)

    def test_secret_written_and_recorded(self):
        f = write(self.dir, "hive.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hive:
        type: HIVE
        restart: never
        config:
          hive_metastore_database_password: {env: HIVE_DB_PW}
""")
        env = {"HIVE_DB_PW": "n3w-s3cret", "CMRECON_HMAC_KEY": "k3y"}
        with Cmsim(args=FAST) as sim:
            # No record yet: "cannot verify", nothing to apply.
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes", env=env)
            self.assertEqual(rc, 0, out + err)
            # --force-secrets writes it and records it.
            rc, out, err = self.cmrecon(sim, "apply", f, "--yes",
                                        "--force-secrets", env=env)
            self.assertIn(rc, (0, 2), out + err)
            self.assertNotIn("n3w-s3cret", out + err)
            s, tags = sim.get("/clusters/%s/tags" % quote(CLUSTER))
            items = tags if isinstance(tags, list) else tags.get("items")
            tag = secret_tag("Cluster 1/hive",
                             "hive_metastore_database_password")
            got = {t["name"]: t["value"] for t in items}
            self.assertEqual(got.get(tag),
                             secret_record("k3y", "n3w-s3cret"), got)
            for name in os.listdir(os.path.join(self.dir, "state",
                                                "cmrecon")):
                with open(os.path.join(self.dir, "state", "cmrecon",
                                       name)) as j:
                    self.assertNotIn("n3w-s3cret", j.read())
            # The record now matches: no setting change is left.
            rc, out, err = self.cmrecon(sim, "plan", f, env=env)
            self.assertEqual(rc, 0, out + err)
            self.assertNotIn("hive_metastore_database_password  (sens",
                             out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
