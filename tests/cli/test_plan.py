"""End-to-end tests of `cmrecon plan` (and `show`) against cmsim.

Each test starts cmsim on a free loopback port with the demo seed, runs the
real cmrecon binary against it, and checks the output, the exit code and
what cmsim saw (GET /_sim/stats): plan never writes, costs a fixed number
of round-trip waves, and its request count does not grow with the size of
the deployment.
"""
import base64
import copy
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, DEMO_SEED, quote  # noqa: E402

CMRECON = os.environ.get("CMRECON", "cmrecon")
CLUSTER = "Cluster 1"


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


class PlanTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def cmrecon(self, sim, *args, env=None, user=("admin", "admin")):
        e = dict(os.environ)
        e.pop("CMRECON_HMAC_KEY", None)
        e["CMRECON_URL"] = sim.base_url
        e["CMRECON_USER"] = user[0]
        e["CMRECON_PASSWORD"] = user[1]
        e["NO_COLOR"] = "1"
        e.update(env or {})
        p = subprocess.run([CMRECON] + list(args), env=e, cwd=self.dir,
                           capture_output=True, text=True, timeout=60)
        return p.returncode, p.stdout, p.stderr

    def assertNoWrites(self, sim):
        req = sim.stats()["requests"]
        self.assertEqual(req.get("PUT", 0) + req.get("POST", 0) +
                         req.get("DELETE", 0), 0, req)

    # ------------------------------------------------------------------

    def test_changes_and_detailed_exitcode(self):
        f = write(self.dir, "a.yaml", """version: 1
manager:
  config:
    PARCEL_UPDATE_FREQ: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        type: HDFS
        config:
          dfs_replication: 2
""")
        with Cmsim() as sim:
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "plan", "--detailed-exitcode",
                                        f)
            self.assertEqual(rc, 2, err)
            self.assertIn('~ dfs_replication  "3" -> "2"', out)
            self.assertIn('~ PARCEL_UPDATE_FREQ', out)
            self.assertIn("Restarts expected", out)
            self.assertIn("hdfs", out)
            self.assertNoWrites(sim)
            # without --detailed-exitcode, changes are still success
            rc, out, err = self.cmrecon(sim, "plan", f)
            self.assertEqual(rc, 0, err)
            self.assertNoWrites(sim)

    def test_no_change_plan_wave_count(self):
        f = write(self.dir, "same.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 3
""")
        with Cmsim() as sim:
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "-v", "--api-version", "v45",
                                        "plan", "--detailed-exitcode", f)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("No changes", out)
            # pinned, and nothing unset to look up: one wave
            self.assertIn("in 1 round-trip wave", err)
            stats = sim.stats()
            self.assertNotIn("GET /api/version", stats["endpoints"])
            self.assertNoWrites(sim)
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "-v", "plan", f)
            self.assertEqual(rc, 0, err)
            # negotiated: GET /api/version first
            self.assertIn("in 2 round-trip waves", err)

    def test_full_view_only_where_needed(self):
        # a key live leaves unset needs view=full (defaults, valid names)
        f = write(self.dir, "unset.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        role_config_groups:
          hdfs-DATANODE-BASE:
            config:
              dfs_datanode_du_reserved: 21474836480
""")
        with Cmsim() as sim:
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "plan", f)
            self.assertEqual(rc, 0, err)
            self.assertIn("dfs_datanode_du_reserved", out)
            paths = sim.stats()["paths"]
            full = [p for p in paths if p.endswith("/config")]
            self.assertEqual(len(full), 1, paths)
            self.assertIn("hdfs-DATANODE-BASE", full[0])

    def test_unknown_key_is_an_error_with_suggestion(self):
        f = write(self.dir, "typo.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replicaton: 2
""")
        with Cmsim() as sim:
            rc, out, err = self.cmrecon(sim, "plan", f)
            self.assertEqual(rc, 1)
            self.assertIn("typo.yaml:7:11", out)
            self.assertIn("unknown setting 'dfs_replicaton'", out)
            self.assertIn("did you mean 'dfs_replication'", out)
            self.assertNoWrites(sim)

    def test_missing_service_and_type_mismatch(self):
        f = write(self.dir, "bad.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hbase:
        config: {x: 1}
      hdfs:
        type: YARN
""")
        with Cmsim() as sim:
            rc, out, err = self.cmrecon(sim, "plan", f)
            self.assertEqual(rc, 1)
            self.assertIn("service 'hbase' does not exist in CM", out)
            self.assertIn("has type HDFS in CM, not YARN", out)

    def test_request_count_does_not_grow_with_size(self):
        with open(DEMO_SEED) as fh:
            seed = json.load(fh)
        big = copy.deepcopy(seed)
        # 40x the hosts and roles: the plan must not read them one by one
        cl = big["clusters"][0]
        for svc in cl["services"]:
            roles = list(svc.get("roles", []))
            for i in range(40):
                for r in roles:
                    nr = copy.deepcopy(r)
                    nr["name"] = "%s-x%d" % (r["name"], i)
                    svc["roles"].append(nr)
        big_path = write(self.dir, "big-seed.json", json.dumps(big))
        f = write(self.dir, "a.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 2
      yarn:
        role_config_groups:
          yarn-NODEMANAGER-1:
            config:
              yarn_nodemanager_resource_memory_mb: 16384
""")
        counts = []
        for s in (DEMO_SEED, big_path):
            with Cmsim(seed=s) as sim:
                sim.reset_stats()
                rc, out, err = self.cmrecon(sim, "plan", f)
                self.assertEqual(rc, 0, err)
                counts.append(sim.stats()["requests"]["GET"])
        self.assertEqual(counts[0], counts[1])
        self.assertLessEqual(counts[0], 8)

    def test_fallback_when_deployment_is_forbidden(self):
        f = write(self.dir, "a.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 2
""")
        with Cmsim(args=["--user", "admin:admin:full-admin",
                         "--user", "viewer:secret:read-only"]) as sim:
            sim.reset_stats()
            rc, out, err = self.cmrecon(sim, "-v", "plan", f,
                                        user=("viewer", "secret"))
            self.assertEqual(rc, 0, out + err)
            self.assertIn('~ dfs_replication  "3" -> "2"', out)
            self.assertIn("fallback", err)
            self.assertNoWrites(sim)

    def test_secret_records(self):
        f = write(self.dir, "s.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hive:
        config:
          hive_metastore_database_password: {env: HIVE_DB_PW}
""")
        key = "hmac-test-key"
        scope = "%s/hive" % CLUSTER
        tag = secret_tag(scope, "hive_metastore_database_password")
        env = {"HIVE_DB_PW": "s3cret-canary", "CMRECON_HMAC_KEY": key}
        with Cmsim() as sim:
            # no record: cannot verify (a note, not a change)
            rc, out, err = self.cmrecon(sim, "plan", "--detailed-exitcode",
                                        f, env=env)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("cannot verify", out)
            # with --force-secrets it is a change
            rc, out, err = self.cmrecon(sim, "plan", "--detailed-exitcode",
                                        "--force-secrets", f, env=env)
            self.assertEqual(rc, 2, out + err)
            # a record equal to the secret: no change
            st, _ = sim.put("/clusters/%s/tags" % quote(CLUSTER),
                            [{"name": tag, "value": secret_record(
                                key, "s3cret-canary")}])
            self.assertEqual(st, 200)
            rc, out, err = self.cmrecon(sim, "plan", "--detailed-exitcode",
                                        f, env=env)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("No changes", out)
            # the secret rotated: the record differs, write it
            env["HIVE_DB_PW"] = "rotated-canary"
            rc, out, err = self.cmrecon(sim, "plan", "--detailed-exitcode",
                                        f, env=env)
            self.assertEqual(rc, 2, out + err)
            self.assertIn("differs from the recorded value", out)
            for text in (out, err):
                self.assertNotIn("canary", text)
            # the variable unset: an error naming it, not the value
            del env["HIVE_DB_PW"]
            rc, out, err = self.cmrecon(sim, "plan", f, env=env)
            self.assertEqual(rc, 1)
            self.assertIn("HIVE_DB_PW", err)

    def test_target_limits_the_plan(self):
        f = write(self.dir, "t.yaml", """version: 1
manager:
  config:
    PARCEL_UPDATE_FREQ: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 2
      yarn:
        role_config_groups:
          yarn-NODEMANAGER-1:
            config:
              yarn_nodemanager_resource_memory_mb: 16384
""")
        with Cmsim() as sim:
            rc, out, err = self.cmrecon(sim, "plan", "--target",
                                        "Cluster 1/yarn", f)
            self.assertEqual(rc, 0, err)
            self.assertIn("yarn_nodemanager_resource_memory_mb", out)
            self.assertNotIn("dfs_replication", out)
            self.assertNotIn("PARCEL_UPDATE_FREQ", out)
            rc, out, err = self.cmrecon(sim, "plan", "--target",
                                        "Cluster 1/hbase", f)
            self.assertEqual(rc, 64)
            self.assertIn("no service 'hbase'", err)

    def test_saved_plan_and_show(self):
        f = write(self.dir, "a.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 2
      hive:
        config:
          hive_metastore_database_password: {env: HIVE_DB_PW}
""")
        env = {"HIVE_DB_PW": "planfile-canary"}
        with Cmsim() as sim:
            rc, out, err = self.cmrecon(sim, "plan", "--force-secrets",
                                        "-o", "saved.plan", f, env=env)
            self.assertEqual(rc, 0, err)
            path = os.path.join(self.dir, "saved.plan")
            with open(path) as fh:
                text = fh.read()
            self.assertNotIn("canary", text)
            doc = json.loads(text)
            self.assertEqual(doc["kind"], "cmrecon-plan")
            self.assertEqual(doc["cm_url"], sim.base_url)
            self.assertTrue(doc["fingerprints"])
            rc, shown, err = self.cmrecon(sim, "show", "saved.plan")
            self.assertEqual(rc, 0, err)
            self.assertIn('~ dfs_replication  "3" -> "2"', shown)
            self.assertNotIn("canary", shown)
            rc, js, err = self.cmrecon(sim, "show", "--json", "saved.plan")
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(js)["kind"], "cmrecon-plan")

    def test_json_output(self):
        f = write(self.dir, "a.yaml", """version: 1
clusters:
  Cluster 1:
    services:
      hdfs:
        config:
          dfs_replication: 2
""")
        with Cmsim() as sim:
            rc, out, err = self.cmrecon(sim, "plan", "--json", f)
            self.assertEqual(rc, 0, err)
            doc = json.loads(out)
            self.assertEqual(doc["format_version"], 1)
            keys = [c["key"] for s in doc["scopes"] for c in s["changes"]]
            self.assertEqual(keys, ["dfs_replication"])

    def test_connection_policy(self):
        f = write(self.dir, "a.yaml", "version: 1\n")
        with Cmsim() as sim:
            rc, out, err = self.cmrecon(
                sim, "plan", f,
                env={"CMRECON_URL": "http://cm.example.com:7180"})
            self.assertEqual(rc, 64)
            self.assertIn("http", err)
            rc, out, err = self.cmrecon(sim, "plan", f,
                                        user=("admin", "wrong"))
            self.assertEqual(rc, 1)
            self.assertIn("401", err)
            self.assertNotIn("wrong", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
