"""End-to-end tests of scheduled drift runs against cmsim: the --report
(JSON) and --metrics (Prometheus text) files of `plan` and `apply`, checked
with a strict little parser of the exposition format; --max-changes
refusing and allowing; --restart-window deferring restarts outside the
window (settings still applied, exit 2) and restarting inside it.
"""
import datetime
import json
import math
import os
import re
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, quote  # noqa: E402

CMRECON = os.environ.get("CMRECON", "cmrecon")
SOURCE = os.environ.get(
    "CMR_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
QUICKSTART = os.path.join(SOURCE, "examples", "quickstart.yaml")
CLUSTER = "Cluster 1"
FAST = ["--time-scale", "1000"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{(%s(?:,%s)*)?\})? (\S+)$" %
                    (NAME, LABEL, LABEL))


def parse_prometheus(text):
    """A strict parser of the text exposition format (version 0.0.4) as
    node_exporter's textfile collector reads it.  Returns
    {(name, frozenset(labels.items())): float}; raises ValueError."""
    if not text.endswith("\n"):
        raise ValueError("no final newline")
    helps, types, samples = {}, {}, {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("# HELP "):
            parts = line.split(" ", 3)
            if len(parts) != 4 or not re.fullmatch(NAME, parts[2]):
                raise ValueError("line %d: bad HELP: %r" % (n, line))
            if parts[2] in helps:
                raise ValueError("line %d: second HELP" % n)
            helps[parts[2]] = parts[3]
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or not re.fullmatch(NAME, parts[2]) or \
                    parts[3] not in ("counter", "gauge", "untyped",
                                     "histogram", "summary"):
                raise ValueError("line %d: bad TYPE: %r" % (n, line))
            if parts[2] in types:
                raise ValueError("line %d: second TYPE" % n)
            if any(k[0] == parts[2] for k in samples):
                raise ValueError("line %d: TYPE after samples" % n)
            types[parts[2]] = parts[3]
        elif line.startswith("#") or not line.strip():
            raise ValueError("line %d: unexpected %r" % (n, line))
        else:
            m = SAMPLE.match(line)
            if not m:
                raise ValueError("line %d: bad sample: %r" % (n, line))
            name, labels, value = m.group(1), m.group(2), m.group(3)
            if name not in types:
                raise ValueError("line %d: %s has no TYPE" % (n, name))
            v = float(value)  # raises on anything that is not a float
            if math.isnan(v):
                raise ValueError("line %d: NaN" % n)
            pairs = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|'
                               r'\\.)*)"', labels or "")
            names = [k for k, _ in pairs]
            if len(set(names)) != len(names):
                raise ValueError("line %d: duplicate label" % n)
            key = (name, frozenset(pairs))
            if key in samples:
                raise ValueError("line %d: duplicate sample" % n)
            samples[key] = v
    for name in types:
        if name not in helps:
            raise ValueError("%s has no HELP" % name)
    return samples


def sample(samples, name, **labels):
    return samples[(name, frozenset(labels.items()))]


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")


class DriftTest(unittest.TestCase):
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
        e["TZ"] = "UTC"
        e["XDG_STATE_HOME"] = os.path.join(self.dir, "state")
        return e

    def cmrecon(self, sim, *args, env=None):
        e = self.env(sim)
        e.update(env or {})
        p = subprocess.run([CMRECON] + list(args), env=e, cwd=self.dir,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def path(self, name):
        return os.path.join(self.dir, name)

    def read_report(self, name="report.json"):
        with open(self.path(name)) as f:
            text = f.read()
        self.assertEqual(text.count("\n"), 1)
        return json.loads(text)

    def read_metrics(self, name="drift.prom"):
        p = self.path(name)
        self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o644)
        with open(p) as f:
            return parse_prometheus(f.read())

    def hdfs_value(self, sim, key):
        s, b = sim.get("/clusters/%s/services/hdfs/config" %
                       quote(CLUSTER))
        self.assertEqual(s, 200, b)
        return {i["name"]: i.get("value") for i in b["items"]}.get(key)

    def restarts(self, sim):
        paths = sim.stats()["paths"]
        return sum(n for p, n in paths.items()
                   if p.startswith("POST ") and
                   re.search(r"/commands/(rollingRestart|restart)$", p))

    # ------------------------------------------------------------------

    def test_parser_is_strict(self):
        good = ('# HELP a_b Help text.\n# TYPE a_b gauge\n'
                'a_b{x="1",y="q\\"z"} 1.5\na_b 2\n')
        self.assertEqual(len(parse_prometheus(good)), 2)
        for bad in ('a 1\n',                                   # no TYPE
                    '# TYPE a gauge\na 1\n',                   # no HELP
                    '# HELP a h\n# TYPE a gauge\na one\n',     # value
                    '# HELP a h\n# TYPE a gauge\na{x=1} 1\n',  # label
                    '# HELP a h\n# TYPE a gauge\na{x="1",x="2"} 1\n',
                    '# HELP a h\n# TYPE a gauge\na 1\na 2\n',
                    '# HELP a h\n# TYPE a gauge\na 1',         # newline
                    '# HELP 1a h\n# TYPE 1a gauge\n1a 1\n'):
            with self.assertRaises(ValueError, msg=bad):
                parse_prometheus(bad)

    def test_plan_report_and_metrics_on_drift(self):
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART,
                                        "--detailed-exitcode",
                                        "--report", "report.json",
                                        "--metrics", "drift.prom")
            self.assertEqual(rc, 2, out + err)
            r = self.read_report()
            self.assertEqual(r["kind"], "cmrecon-plan-report")
            self.assertEqual(r["command"], "plan")
            self.assertEqual(r["format_version"], 1)
            self.assertEqual(r["exit_code"], 2)
            self.assertFalse(r["failed"])
            self.assertIsNone(r["error"])
            self.assertEqual(r["cm_url"], sim.base_url)
            self.assertLessEqual(parse_time(r["started_at"]),
                                 parse_time(r["ended_at"]))
            self.assertGreaterEqual(r["duration_ms"], 0)
            d = r["drift"]
            scopes = {s["scope"]: s for s in d["scopes"]}
            self.assertEqual(scopes["Cluster 1/hdfs"]["keys"],
                             ["dfs_replication"])
            self.assertEqual(scopes["Cluster 1/hdfs"]["kind"], "service")
            self.assertIn("Cluster 1/yarn/yarn-NODEMANAGER-1", scopes)
            self.assertEqual(scopes["CM"]["keys"], ["PARCEL_UPDATE_FREQ"])
            self.assertEqual(d["settings"], 4)
            self.assertEqual(d["parcels"], 1)
            self.assertEqual(d["parcel_changes"][0]["product"], "SPARK3")
            self.assertEqual(d["parcel_changes"][0]["to"], "DISTRIBUTED")
            self.assertEqual(d["changes"], d["settings"] + d["parcels"] +
                             d["restarts"])
            self.assertEqual(sorted(x["service"]
                                    for x in d["restarts_expected"]),
                             ["hdfs", "yarn"])
            m = self.read_metrics()
            self.assertEqual(sample(m, "cmrecon_exit_code",
                                    command="plan"), 2)
            self.assertEqual(sample(m, "cmrecon_drift_total",
                                    command="plan"), d["changes"])
            self.assertEqual(sample(m, "cmrecon_drift", command="plan",
                                    kind="settings"), 4)
            self.assertEqual(sample(m, "cmrecon_drift_scope_settings",
                                    command="plan", scope="Cluster 1/hdfs",
                                    scope_kind="service"), 1)
            last_ok = sample(m, "cmrecon_last_success_timestamp_seconds",
                             command="plan")
            self.assertEqual(last_ok, sample(
                m, "cmrecon_last_run_timestamp_seconds", command="plan"))
            self.assertGreaterEqual(sample(
                m, "cmrecon_run_duration_seconds", command="plan"), 0)
            # Plan never writes, reports included.
            req = sim.stats()["requests"]
            self.assertEqual(req.get("PUT", 0) + req.get("POST", 0), 0)

            # CM refuses us: the run fails, says why, and keeps the last
            # success.
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART,
                                        "--detailed-exitcode",
                                        "--report", "report.json",
                                        "--metrics", "drift.prom",
                                        env={"CMRECON_PASSWORD": "wrong"})
        self.assertEqual(rc, 1, out + err)
        r = self.read_report()
        self.assertTrue(r["failed"])
        self.assertIsNone(r["drift"])
        self.assertIn("reading the live state", err)
        self.assertTrue(r["error"])
        m = self.read_metrics()
        self.assertEqual(sample(m, "cmrecon_exit_code", command="plan"), 1)
        self.assertEqual(sample(m, "cmrecon_last_success_timestamp_seconds",
                                command="plan"), last_ok)
        self.assertNotIn(("cmrecon_drift_total",
                          frozenset({("command", "plan")})), m)

    def test_plan_report_without_drift(self):
        same = self.path("same.yaml")
        with open(same, "w") as f:
            f.write("version: 1\nclusters:\n  Cluster 1:\n    services:\n"
                    "      hdfs:\n        config:\n"
                    "          dfs_replication: 3\n")
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "plan", same,
                                        "--detailed-exitcode",
                                        "--report", "report.json",
                                        "--metrics", "drift.prom")
            self.assertEqual(rc, 0, out + err)
            r = self.read_report()
            self.assertEqual(r["drift"]["changes"], 0)
            self.assertEqual(r["drift"]["scopes"], [])
            m = self.read_metrics()
            self.assertEqual(sample(m, "cmrecon_drift_total",
                                    command="plan"), 0)

    def test_apply_report_and_metrics(self):
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--report", "apply.json",
                                        "--metrics", "apply.prom")
            self.assertEqual(rc, 0, out + err)
            r = self.read_report("apply.json")
            self.assertEqual(r["kind"], "cmrecon-apply-report")
            self.assertTrue(r["converged"])
            self.assertEqual(r["drift"]["settings"], 4)
            self.assertEqual(r["corrected"]["settings"], 4)
            self.assertEqual(r["corrected"]["restarts"], 2)
            self.assertGreater(r["duration_ms"], 0)
            m = self.read_metrics("apply.prom")
            self.assertEqual(sample(m, "cmrecon_apply_converged"), 1)
            self.assertEqual(sample(m, "cmrecon_exit_code",
                                    command="apply"), 0)
            self.assertEqual(sample(m, "cmrecon_apply_changes",
                                    kind="restarts"), 2)
            # Converged: the next apply has nothing to do, and still
            # reports.
            os.unlink(self.path("apply.json"))
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--report", "apply.json",
                                        "--metrics", "apply.prom")
            self.assertEqual(rc, 0, out + err)
            r = self.read_report("apply.json")
            self.assertTrue(r["converged"])
            self.assertEqual(r["drift"]["changes"], 0)
            self.assertEqual(r["writes"], 0)
            self.read_metrics("apply.prom")

    def test_max_changes_refuses_and_allows(self):
        with Cmsim(args=FAST) as sim:
            # The demo plan: 4 settings + 1 parcel + 2 restarts = 7.
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--max-changes", "6",
                                        "--report", "apply.json",
                                        "--metrics", "apply.prom")
            self.assertEqual(rc, 4, out + err)
            self.assertIn("more than --max-changes 6", err)
            req = sim.stats()["requests"]
            self.assertEqual(req.get("PUT", 0) + req.get("POST", 0) +
                             req.get("DELETE", 0), 0, req)
            r = self.read_report("apply.json")
            self.assertTrue(r["failed"])
            self.assertEqual(r["exit_code"], 4)
            self.assertIn("--max-changes", r["error"])
            self.assertEqual(r["drift"]["changes"], 7)
            self.assertIsNone(r["corrected"])
            m = self.read_metrics("apply.prom")
            self.assertEqual(sample(m, "cmrecon_exit_code",
                                    command="apply"), 4)
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--max-changes", "abc")
            self.assertEqual(rc, 64, out + err)
            # Exactly at the limit: allowed (restarts left for later to
            # keep the test fast: exit 2).
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--max-changes", "7",
                                        "--no-restart")
            self.assertEqual(rc, 2, out + err)
            self.assertEqual(self.hdfs_value(sim, "dfs_replication"), "2")

    def test_restart_window_outside_defers_inside_restarts(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        # A whole day three days from now (UTC, as TZ=UTC is set):
        # outside, even if the date changes while the test runs.
        other = DAYS[(now.weekday() + 3) % 7]
        today = "%s-%s" % (DAYS[now.weekday()], DAYS[(now.weekday() + 1) %
                                                    7])
        with Cmsim(args=FAST) as sim:
            rc, out, err = self.cmrecon(sim, "apply", QUICKSTART, "--yes",
                                        "--restart-window",
                                        "%s 00:00-24:00" % other,
                                        "--report", "apply.json")
            self.assertEqual(rc, 2, out + err)
            self.assertIn("outside --restart-window", err)
            # Settings applied, restarts deferred.
            self.assertEqual(self.hdfs_value(sim, "dfs_replication"), "2")
            self.assertEqual(self.restarts(sim), 0)
            r = self.read_report("apply.json")
            self.assertEqual(r["exit_code"], 2)
            self.assertFalse(r["failed"])
            self.assertEqual(r["deferred"], 2)
            self.assertEqual(r["corrected"]["restarts"], 0)
            self.assertEqual(r["corrected"]["settings"], 4)
            self.assertEqual(r["restart_window"], "%s 00:00-24:00" % other)
            opens = parse_time(r["restart_window_next"])
            self.assertEqual(DAYS[opens.weekday()], other)
            self.assertEqual((opens.hour, opens.minute), (0, 0))
            self.assertIn("it opens next at %s" % other, err)
            # Inside the window (today and tomorrow, in a list with
            # another day and a range wrapping midnight): the stale
            # services restart.
            rc, out, err = self.cmrecon(
                sim, "apply", QUICKSTART, "--yes", "--restart-window",
                "%s 00:00-24:00, %s 23:00-01:00" % (today, other))
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(self.restarts(sim), 2)
            rc, out, err = self.cmrecon(sim, "plan", QUICKSTART,
                                        "--detailed-exitcode")
            self.assertEqual(rc, 0, out + err)

    def test_restart_window_bad_specs(self):
        with Cmsim(args=FAST) as sim:
            for spec, msg in (("Sta 01:00-05:00", "did you mean 'Sat'?"),
                              ("25:00-01:00", "not a time of day"),
                              ("Sat 01:00-05:00,", "empty range")):
                rc, out, err = self.cmrecon(sim, "apply", QUICKSTART,
                                            "--yes", "--restart-window",
                                            spec)
                self.assertEqual(rc, 64, out + err)
                self.assertIn(msg, err)
            self.assertEqual(sim.stats()["requests"].get("GET", 0), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
