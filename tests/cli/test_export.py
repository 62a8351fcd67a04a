"""End-to-end tests of `cmrecon export` against cmsim.

The contract is the round trip: for each seed, `export` writes a file that
`validate` accepts and that `plan --detailed-exitcode` against the same CM
finds nothing to change in (secrets are "cannot verify" notes, not
changes).  Seeds: the demo deployment, a generated one
(tests/bench/gen_deployment.py small), and one built here with sensitive
values everywhere, non-base groups, per-role overrides and values YAML
would read differently if written carelessly.  Also: --cluster/--service
and their suggestions, -o (atomic, mode 0600), --omit-defaults, and that no
secret value ever reaches the output (a canary kept in CM with cmsim's
--keep-seed-secrets).
"""
import copy
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, DEMO_SEED  # noqa: E402

CMRECON = os.environ.get("CMRECON", "cmrecon")
SOURCE = os.environ.get(
    "CMR_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
GEN = os.path.join(SOURCE, "tests", "bench", "gen_deployment.py")
CANARY = "canary-7f3a-do-not-leak"
FAST = ["--time-scale", "0"]

TRICKY = {
    "dfs_umaskmode": "022",
    "leading_spaces_value": "  two leading spaces",
    "colon_value": "a: b",
    "hash_value": "x #not a comment",
    "bool_like": "True",
    "null_like": "null",
    "empty_value": "",
    "quote_value": "it's \"quoted\"",
    "tab_value": "a\tb",
    "unicode_value": "h\u00e9llo \u65e5\u672c",
    "hdfs_service_config_safety_valve":
        "<property>\n  <name>dfs.x</name>\n  <value>1</value>\n"
        "</property>\n",
    "no_final_newline": "line one\nline two",
    "keep_newlines": "a\n\n\n",
    "indented_block": "  indented\nnext\n",
    "crlf_value": "win\r\nline\r\n",
}


def secret_vars(text):
    """The CMRECON_* variables an export asks for, each set to 'x'."""
    return {v: "x" for v in re.findall(r"\{env: (CMRECON_[A-Z0-9_]+)\}",
                                       text)}


def tricky_seed():
    """The demo seed plus secrets everywhere, non-base groups with
    settings, tricky values and a per-role override."""
    with open(DEMO_SEED) as f:
        seed = json.load(f)
    seed = copy.deepcopy(seed)

    def item(name, value, sensitive=False):
        return {"name": name, "value": value, "sensitive": sensitive}

    seed["managerSettings"]["items"].append(
        item("KDC_ADMIN_PASSWORD", CANARY + "-cm", True))
    mgmt = seed["managementService"]
    mgmt["config"]["items"].append(
        item("mgmt_db_password", CANARY + "-mgmt", True))
    mgmt["roleConfigGroups"][0]["config"]["items"].append(
        item("firehose_heapsize", "4294967296"))
    cluster = seed["clusters"][0]
    svcs = {s["name"]: s for s in cluster["services"]}
    hdfs = svcs["hdfs"]
    for k, v in sorted(TRICKY.items()):
        hdfs["config"]["items"].append(item(k, v))
    hdfs["config"]["items"].append(
        item("hdfs_keystore_password", CANARY + "-hdfs", True))
    groups = {g["name"]: g for g in hdfs["roleConfigGroups"]}
    groups["hdfs-DATANODE-1"]["config"]["items"].append(
        item("ssl_server_keystore_password", CANARY + "-dn1", True))
    groups["hdfs-DATANODE-BASE"]["config"]["items"].append(
        item("ssl_server_keystore_password", CANARY + "-dnbase", True))
    groups["hdfs-DATANODE-1"]["config"]["items"].append(
        item("dfs_datanode_du_reserved", "21474836480"))
    # A non-base group with no settings, and one of yarn's with some.
    hdfs["roleConfigGroups"].append({
        "name": "hdfs-GATEWAY-1", "displayName": "Gateway 1",
        "roleType": "GATEWAY", "base": False, "config": {"items": []},
        "serviceRef": {"clusterName": cluster["name"],
                       "serviceName": "hdfs"}})
    # A per-role override: noted, not exported.
    hdfs["roles"][0]["config"]["items"].append(
        item("dfs_datanode_max_locked_memory", "1234"))
    return seed


class ExportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def cmrecon(self, sim, *args, env=None):
        e = dict(os.environ)
        e.pop("CMRECON_HMAC_KEY", None)
        e["CMRECON_URL"] = sim.base_url
        e["CMRECON_USER"] = "admin"
        e["CMRECON_PASSWORD"] = "admin"
        e["NO_COLOR"] = "1"
        e["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        e.update(env or {})
        p = subprocess.run([CMRECON] + list(args), env=e, cwd=self.dir,
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def write_seed(self, seed):
        path = os.path.join(self.dir, "seed.json")
        with open(path, "w") as f:
            json.dump(seed, f)
        return path

    def assertNoWrites(self, sim):
        req = sim.stats()["requests"]
        self.assertEqual(req.get("PUT", 0) + req.get("POST", 0) +
                         req.get("DELETE", 0), 0, req)

    def round_trip(self, sim, *extra):
        """export -o, validate, plan --detailed-exitcode: all 0."""
        path = os.path.join(self.dir, "exported.yaml")
        rc, out, err = self.cmrecon(sim, "export", "-o", path, *extra)
        self.assertEqual(rc, 0, out + err)
        with open(path) as f:
            text = f.read()
        rc, out, err = self.cmrecon(sim, "validate", path)
        self.assertEqual(rc, 0, text + out + err)
        rc, out, err = self.cmrecon(sim, "plan", path,
                                    "--detailed-exitcode",
                                    env=secret_vars(text))
        self.assertEqual(rc, 0, text + out + err)
        self.assertIn("No changes", out)
        self.assertNoWrites(sim)
        return text, out

    # ------------------------------------------------------------------

    def test_demo_seed_round_trip(self):
        with Cmsim(args=FAST) as sim:
            text, plan = self.round_trip(sim)
            self.assertTrue(text.startswith("# cmrecon desired state"))
            self.assertIn("\nversion: 1\n", text)
            self.assertIn("from Cloudera Manager 7.5.3 at " + sim.base_url,
                          text)
            self.assertIn("      CDH: 7.1.9-1.cdh7.1.9.p0.44702451\n", text)
            self.assertIn("CDH 7.1.8-1.cdh7.1.8.p0.30990532 (DISTRIBUTED)",
                          text)
            self.assertIn("hive_metastore_database_password: {env: "
                          "CMRECON_CLUSTER_1_HIVE_HIVE_METASTORE_DATABASE_"
                          "PASSWORD}", text)
            self.assertNotIn("cmsim-placeholder", text)
            self.assertIn("cannot verify", plan)
            # Sorted: services by name.
            names = re.findall(r"^      (\w+):$", text, re.M)
            self.assertEqual(names, sorted(names))
            self.assertEqual(names[:2], ["hdfs", "hive"])

    def test_generated_seed_round_trip(self):
        gen = os.path.join(self.dir, "gen")
        subprocess.run([sys.executable, GEN, "small", gen], check=True,
                       capture_output=True)
        with Cmsim(args=FAST, seed=os.path.join(gen, "seed.json"),
                   repo=False) as sim:
            text, _ = self.round_trip(sim)
            with open(os.path.join(gen, "seed.json")) as f:
                seed = json.load(f)
            nsvc = sum(len(c["services"]) for c in seed["clusters"])
            self.assertEqual(text.count("        type: "), nsvc)
            # Every value of the seed is in the export.
            nval = sum(len(s["config"]["items"]) +
                       sum(len(g["config"]["items"])
                           for g in s["roleConfigGroups"])
                       for c in seed["clusters"] for s in c["services"])
            self.assertGreater(nval, 250)
            values = len(re.findall(r"^(?: {10}| {14})[^ #].*: (?!\{\}$)",
                                    text, re.M))
            self.assertEqual(values, nval)

    def test_secrets_and_tricky_values_round_trip(self):
        seed = self.write_seed(tricky_seed())
        with Cmsim(args=FAST + ["--keep-seed-secrets"], seed=seed) as sim:
            # The canary is really in CM (export view), so a leak would
            # show.
            s, dep = sim.get("/cm/deployment", query={"view": "export"})
            self.assertEqual(s, 200)
            self.assertIn(CANARY, json.dumps(dep))
            text, plan = self.round_trip(sim)
            self.assertNotIn(CANARY, text)
            self.assertNotIn(CANARY, plan)
            self.assertNotIn("REDACTED", text)
            for var in ("CMRECON_CM_KDC_ADMIN_PASSWORD",
                        "CMRECON_MGMT_MGMT_DB_PASSWORD",
                        "CMRECON_CLUSTER_1_HDFS_HDFS_KEYSTORE_PASSWORD",
                        "CMRECON_CLUSTER_1_HDFS_DATANODE_1_SSL_SERVER_"
                        "KEYSTORE_PASSWORD",
                        "CMRECON_CLUSTER_1_HDFS_DATANODE_BASE_SSL_SERVER_"
                        "KEYSTORE_PASSWORD"):
                self.assertIn("{env: %s}" % var, text)
                self.assertIn("#   %s  (" % var, text)
            self.assertIn("hdfs-GATEWAY-1: {}", text)
            self.assertIn("firehose_heapsize: 4294967296", text)
            self.assertIn("Per-role overrides are not in format version 1",
                          text)
            self.assertIn("dfs_datanode_max_locked_memory", text)
            self.assertIn("dfs_umaskmode: 022\n", text)
            self.assertIn("bool_like: 'True'\n", text)
            self.assertIn("null_like: 'null'\n", text)
            self.assertIn("empty_value: ''\n", text)
            self.assertIn("hdfs_service_config_safety_valve: |\n", text)
            self.assertIn("no_final_newline: |-\n", text)
            self.assertIn("keep_newlines: |+\n", text)
            self.assertIn("indented_block: |2\n", text)
            self.assertIn('crlf_value: "win\\r\\nline\\r\\n"', text)
            # Every tricky value survives byte for byte: change one in
            # CM and plan names exactly that one.
            for k, v in TRICKY.items():
                self.assertNotIn("~ %s " % k, plan)
            with open(os.path.join(self.dir, "exported.yaml")) as f:
                exported = f.read()
            s, b = sim.put("/clusters/Cluster%201/services/hdfs/config",
                           {"items": [{"name": "indented_block",
                                       "value": " indented\nnext\n"}]})
            self.assertEqual(s, 200, b)
            rc, out, err = self.cmrecon(
                sim, "plan", os.path.join(self.dir, "exported.yaml"),
                "--detailed-exitcode", env=secret_vars(exported))
            self.assertEqual(rc, 2, out + err)
            self.assertIn("indented_block", out)
            self.assertIn("1 setting", out)

    def test_cluster_and_service_selection(self):
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "export", "--service",
                                        "Cluster 1/hdfs")
            self.assertEqual(rc, 0, err)
            self.assertIn("      hdfs:\n", out)
            self.assertNotIn("      yarn:", out)
            self.assertNotIn("PARCEL_UPDATE_FREQ", out)
            self.assertNotIn("parcels:", out)
            rc, out, err = self.cmrecon(sim, "export", "--cluster",
                                        "Cluster 1")
            self.assertEqual(rc, 0, err)
            self.assertIn("parcels:", out)
            self.assertIn("      yarn:\n", out)
            self.assertNotIn("manager:", out)
            path = os.path.join(self.dir, "one.yaml")
            with open(path, "w") as f:
                f.write(out)
            rc, pout, perr = self.cmrecon(sim, "plan", path,
                                          "--detailed-exitcode",
                                          env=secret_vars(out))
            self.assertEqual(rc, 0, out + pout + perr)
            rc, out, err = self.cmrecon(sim, "export", "--cluster",
                                        "Clustr 1")
            self.assertEqual(rc, 64, out + err)
            self.assertIn("did you mean 'Cluster 1'?", err)
            self.assertEqual(out, "")
            rc, out, err = self.cmrecon(sim, "export", "--service",
                                        "Cluster 1/hfds")
            self.assertEqual(rc, 64, out + err)
            self.assertIn("did you mean 'hdfs'?", err)
            rc, out, err = self.cmrecon(sim, "export", "--service", "hdfs")
            self.assertEqual(rc, 64, out + err)
            self.assertIn("CLUSTER/SERVICE", err)
            rc, out, err = self.cmrecon(sim, "export", "extra.yaml")
            self.assertEqual(rc, 64, out + err)
            rc, out, err = self.cmrecon(sim, "export", "--bogus")
            self.assertEqual(rc, 64, out + err)
            self.assertNoWrites(sim)

    def test_account_that_may_not_read_the_deployment(self):
        args = FAST + ["--user", "admin:admin:full-admin",
                       "--user", "viewer:viewer:read-only"]
        with Cmsim(args=args) as sim:
            rc, out, err = self.cmrecon(sim, "export",
                                        env={"CMRECON_USER": "viewer",
                                             "CMRECON_PASSWORD": "viewer"})
            self.assertEqual(rc, 1, out + err)
            self.assertIn("403", err)
            self.assertIn("Full or Cluster Administrator", err)
            self.assertEqual(out, "")

    def test_output_file_mode_and_atomic(self):
        with Cmsim(args=FAST) as sim:
            path = os.path.join(self.dir, "out.yaml")
            with open(path, "w") as f:
                f.write("old")
            os.chmod(path, 0o644)
            rc, out, err = self.cmrecon(sim, "export", "-o", path)
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(out, "")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            with open(path) as f:
                self.assertIn("version: 1", f.read())
            self.assertEqual(sorted(os.listdir(self.dir)),
                             ["out.yaml"])  # no temporary left behind
            rc, out, err = self.cmrecon(sim, "export", "-o",
                                        os.path.join(self.dir, "no", "x"))
            self.assertEqual(rc, 1, out + err)

    def test_omit_defaults(self):
        seed = tricky_seed()
        hdfs = [s for s in seed["clusters"][0]["services"]
                if s["name"] == "hdfs"][0]
        # dfs_replication's default is 3 (the catalog's): set to it.
        self.assertIn({"name": "dfs_replication", "value": "3",
                       "sensitive": False}, hdfs["config"]["items"])
        with Cmsim(args=FAST, seed=self.write_seed(seed)) as sim:
            rc, full, err = self.cmrecon(sim, "export")
            self.assertEqual(rc, 0, err)
            self.assertIn("dfs_replication: 3\n", full)
            text, _ = self.round_trip(sim, "--omit-defaults")
            self.assertNotIn("dfs_replication", text)
            self.assertIn("bool_like: 'True'", text)
            # the catalog's default of dfs_umaskmode is 022
            self.assertNotIn("dfs_umaskmode", text)
            self.assertIn("nor settings set to their default value", text)


if __name__ == "__main__":
    unittest.main(verbosity=2)
