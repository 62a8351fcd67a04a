#!/usr/bin/env python3
"""The apply benchmark: `cmrecon apply` against the naive pattern, on cmsim.

    tests/bench/bench_apply.py [--build DIR] [--sizes small,medium]
                               [--latency 0,20,100] [--time-scale 60]
                               [--naive-poll 5] [--change-every 100]

For each generated deployment (tests/bench/gen_deployment.py's seed) and
each injected latency, one cmsim (`--latency MS --time-scale X`) is
started, and on it, one after the other:

  1. `cmrecon -v apply --yes` of the change set: requests by method (from
     cmsim's /_sim/stats), the read waves of its plan phase (cmrecon -v
     says how many), wall time, CPU time (user + sys) and peak RSS of the
     process (os.wait4), the commands CM ran and their simulated duration,
     and the polls: GET /commands/{id} plus parcel polls (GET of a parcel
     or of the parcel list after the first read), per simulated hour of
     command time;
  2. the naive pattern of per-object scripts, over one keep-alive
     connection: one PUT per scope with a changed setting, one after the
     other, then a restart of every service of every cluster, one at a
     time, each polled with GET /commands/{id} every --naive-poll seconds
     of simulated time until it ends.

The change set: the values gen_deployment.py's desired-changed.yaml
changes (every --change-every-th value in file order), given values cmsim
accepts for their catalog type -- gen_deployment.py's generated values
("1001", "v3-changed") are fine for a plan but a boolean or numeric
parameter refuses them on a PUT, like real CM.  The file is written as
desired-changed-apply.yaml next to the seed.

Simulated time runs --time-scale times faster than real time (60: a 30 s
restart takes 0.5 s), so the runs stay short; cmrecon's waits use real
time (1 s backoff growing to 30 s), so its polls per simulated hour
depend on the scale -- the table says which scale was used.

Prints a Markdown table (and the machine) on stdout; progress on stderr.
The build directory must hold a release build (the script makes one with
cmake when DIR does not exist).
"""
import argparse
import base64
import datetime
import http.client
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
CATALOG = os.path.join(TOP, "cmd", "cmsim", "data", "catalog")
sys.path.insert(0, os.path.join(TOP, "tests", "support"))
sys.path.insert(0, HERE)
from cmsim import Cmsim  # noqa: E402
import gen_deployment  # noqa: E402

NUMERIC = ("long", "port", "memory", "double")
POLL_ENDPOINTS = re.compile(
    r"^GET /api/v\d+/(commands/\{commandId\}|clusters/\{clusterName\}/"
    r"parcels(/products/.*)?)$")


def q(s):
    return urllib.parse.quote(s, safe="")


def ensure_build(build):
    if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
        subprocess.run(["cmake", "-S", TOP, "-B", build,
                        "-DCMAKE_BUILD_TYPE=Release",
                        "-DCMR_BUILD_TESTS=OFF"], check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j2", "--target", "cmrecon",
                    "cmsim"], check=True, stdout=subprocess.DEVNULL)


# ----------------------------------------------------------------------
# The change set


def catalog_types():
    """(service type, scope, name) -> catalog type."""
    types = {}
    for stype in gen_deployment.TYPES:
        with open(os.path.join(CATALOG, stype + ".json")) as f:
            for scope, params in json.load(f)["scopes"].items():
                for p in params:
                    types[(stype, scope, p["name"])] = p.get("type")
    return types


def new_value(ptype, old):
    """A value different from old that cmsim accepts for the type."""
    if ptype == "boolean":
        return "false" if old.lower() == "true" else "true"
    if ptype in NUMERIC:
        try:
            return str(int(old) + 1)
        except ValueError:
            return "42"
    return old + "-changed"


def change_set(seed, every):
    """The desired state with every `every`-th value changed, as YAML text
    (the same walk and order as gen_deployment.desired), and the changes
    by scope: {(cluster, service, group or None): {name: value}}."""
    types = catalog_types()
    out = ["version: 1", "clusters:"]
    changes = {}
    n = 0

    def emit(indent, stype, scope, where, it):
        nonlocal n
        n += 1
        v = it["value"]
        if n % every == 0:
            v = new_value(types.get((stype, scope, it["name"])), v)
            changes.setdefault(where, {})[it["name"]] = v
        out.append("%s%s: %s" % (indent, it["name"], json.dumps(v)))

    for c in seed["clusters"]:
        out.append("  %s:" % json.dumps(c["name"]))
        out.append("    services:")
        for s in c["services"]:
            out.append("      %s:" % json.dumps(s["name"]))
            out.append("        type: %s" % s["type"])
            out.append("        config:")
            for it in s["config"]["items"]:
                emit(" " * 10, s["type"], "SERVICE",
                     (c["name"], s["name"], None), it)
            out.append("        role_config_groups:")
            for g in s["roleConfigGroups"]:
                out.append("          %s:" % json.dumps(g["name"]))
                out.append("            config:")
                for it in g["config"]["items"]:
                    emit(" " * 14, s["type"], g["roleType"],
                         (c["name"], s["name"], g["name"]), it)
    return "\n".join(out) + "\n", changes, n


# ----------------------------------------------------------------------
# Measuring


def command_seconds(sim, since_ms):
    """Simulated seconds of the top-level commands started since since_ms
    (cmsim's clock), and how many there were."""
    _, state = sim.get("/_sim/state")
    total = 0.0
    count = 0
    for cmd in state.get("commands", []):
        start = cmd.get("startMs", cmd.get("startTimeMs"))
        end = cmd.get("endMs", cmd.get("endTimeMs"))
        if start is None:
            start = iso_ms(cmd.get("startTime"))
            end = iso_ms(cmd.get("endTime"))
        if start is None or start < since_ms or cmd.get("parent"):
            continue
        count += 1
        if end is not None:
            total += (end - start) / 1000.0
    return total, count


def iso_ms(s):
    if not s:
        return None
    s = s.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s).timestamp() * 1000.0


def sim_now_ms(sim):
    _, clock = sim.get("/_sim/clock")
    return clock["nowMs"]


def polls(stats):
    return sum(n for ep, n in stats["endpoints"].items()
               if POLL_ENDPOINTS.match(ep))


def run_cmrecon(build, sim, desired):
    env = dict(os.environ, CMRECON_URL=sim.base_url, CMRECON_USER="admin",
               CMRECON_PASSWORD="admin", NO_COLOR="1")
    # apply -v does not count its waves; the plan it starts with reads
    # exactly what `plan -v` reads, which does.
    binary = os.path.join(build, "cmd", "cmrecon", "cmrecon")
    p = subprocess.run([binary, "-v", "plan", desired], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True)
    m = re.search(r"in (\d+) round-trip wave", p.stderr)
    waves = int(m.group(1)) if m else None
    sim.reset_stats()
    t_sim = sim_now_ms(sim)
    argv = [binary, "-v", "apply", "--yes", desired]
    with tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as errf:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=out, stderr=errf)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        rc = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read()
    if rc != 0:
        raise RuntimeError("cmrecon apply exited %d:\n%s" % (rc, err[-4000:]))
    stats = sim.stats()
    secs, ncmd = command_seconds(sim, t_sim)
    return {
        "requests": stats["requests"],
        "waves": waves,
        "wall": wall,
        "cpu": ru.ru_utime + ru.ru_stime,
        "rss_kib": ru.ru_maxrss,
        "polls": polls(stats),
        "commands": ncmd,
        "command_s": secs,
        "restarts": sum(stats.get("restarts", {}).values()),
    }


class Naive:
    """The per-object script: sequential requests on one connection."""

    def __init__(self, sim, poll_s, scale):
        u = urllib.parse.urlparse(sim.base_url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port,
                                               timeout=300)
        self.auth = "Basic " + base64.b64encode(b"admin:admin").decode()
        self.sleep = poll_s / scale

    def call(self, method, path, body=None):
        headers = {"Authorization": self.auth}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers["Content-Type"] = "application/json"
        self.conn.request(method, "/api/v45" + path, body=data,
                          headers=headers)
        r = self.conn.getresponse()
        text = r.read()
        if r.status != 200:
            raise RuntimeError("naive %s %s: %d %s" % (method, path,
                                                       r.status, text[:200]))
        return json.loads(text) if text else None

    def run(self, seed, changes):
        for (c, s, g), kv in sorted(changes.items(),
                                    key=lambda x: tuple(i or ""
                                                        for i in x[0])):
            path = "/clusters/%s/services/%s" % (q(c), q(s))
            if g:
                path += "/roleConfigGroups/%s" % q(g)
            self.call("PUT", path + "/config",
                      {"items": [{"name": k, "value": v}
                                 for k, v in sorted(kv.items())]})
        for c in seed["clusters"]:
            cn = q(c["name"])
            for s in self.call("GET", "/clusters/%s/services" % cn)["items"]:
                cmd = self.call("POST", "/clusters/%s/services/%s/commands/"
                                "restart" % (cn, q(s["name"])))
                while cmd.get("active"):
                    time.sleep(self.sleep)
                    cmd = self.call("GET", "/commands/%d" % cmd["id"])
                if not cmd.get("success"):
                    raise RuntimeError("naive restart of %s failed: %s" %
                                       (s["name"], cmd.get("resultMessage")))
        self.conn.close()


def run_naive(sim, seed, changes, poll_s, scale):
    sim.reset_stats()
    t_sim = sim_now_ms(sim)
    c0 = time.process_time()
    t0 = time.perf_counter()
    Naive(sim, poll_s, scale).run(seed, changes)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    stats = sim.stats()
    secs, ncmd = command_seconds(sim, t_sim)
    return {
        "requests": stats["requests"],
        "waves": "all %d" % sum(stats["requests"].values()),
        "wall": wall,
        "cpu": cpu,
        "rss_kib": None,
        "polls": polls(stats),
        "commands": ncmd,
        "command_s": secs,
        "restarts": sum(stats.get("restarts", {}).values()),
    }


# ----------------------------------------------------------------------
# Output


def machine():
    model = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPUs (nproc), %s, %s" % (os.cpu_count() or 0, model,
                                         platform.platform())


def methods(r):
    req = r["requests"]
    return "%d (%s)" % (sum(req.values()), ", ".join(
        "%s %d" % (m, req[m]) for m in ("GET", "PUT", "POST", "DELETE")
        if req.get(m)))


def per_hour(r):
    if not r["command_s"]:
        return "-"
    return "%.0f" % (r["polls"] / (r["command_s"] / 3600.0))


def row(size, lat, who, r):
    return ("| %s | %d ms | %s | %s | %s | %.2f s | %s | %s | %d | %d | "
            "%.0f s | %d | %s |" % (
                size, lat, who, methods(r),
                "-" if r["waves"] is None else str(r["waves"]),
                r["wall"], "%.2f s" % r["cpu"],
                "%.1f MiB" % (r["rss_kib"] / 1024.0)
                if r["rss_kib"] else "-",
                r["commands"], r["restarts"], r["command_s"], r["polls"],
                per_hour(r)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(TOP,
                                                    "build-bench-apply"))
    ap.add_argument("--sizes", default="small,medium")
    ap.add_argument("--latency", default="0,20,100")
    ap.add_argument("--time-scale", type=float, default=60.0)
    ap.add_argument("--naive-poll", type=float, default=5.0,
                    help="the naive pattern's poll interval, simulated s")
    ap.add_argument("--change-every", type=int, default=100)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    ensure_build(build)
    cmsim_bin = os.path.join(build, "cmd", "cmsim", "cmsim")
    tmp = tempfile.mkdtemp(prefix="cmrecon-bench-apply-")
    rows = []
    for size in a.sizes.split(","):
        d = os.path.join(tmp, size)
        os.makedirs(d)
        seed = gen_deployment.generate(size)
        seed_path = os.path.join(d, "seed.json")
        with open(seed_path, "w") as f:
            json.dump(seed, f)
        text, changes, nvalues = change_set(seed, a.change_every)
        desired = os.path.join(d, "desired-changed-apply.yaml")
        with open(desired, "w") as f:
            f.write(text)
        nchg = sum(len(kv) for kv in changes.values())
        print("%s: %d values, %d changed in %d scopes of %d services" % (
            size, nvalues, nchg, len(changes),
            len({(c, s) for c, s, _ in changes})), file=sys.stderr)
        for lat in [int(x) for x in a.latency.split(",")]:
            args = ["--time-scale", "%g" % a.time_scale]
            if lat:
                args += ["--latency", str(lat)]
            with Cmsim(binary=cmsim_bin, seed=seed_path, repo=False,
                       args=args, timeout=60, verbose=False) as sim:
                mine = run_cmrecon(build, sim, desired)
                print(size, lat, "cmrecon", mine, file=sys.stderr)
                naive = run_naive(sim, seed, changes, a.naive_poll,
                                  a.time_scale)
                print(size, lat, "naive", naive, file=sys.stderr)
            rows.append(row(size, lat, "cmrecon", mine))
            rows.append(row(size, lat, "naive", naive))
    print("Machine: %s" % machine())
    print("Date: %s" % datetime.datetime.now(datetime.timezone.utc)
          .strftime("%Y-%m-%d %H:%M UTC"))
    print("cmsim --time-scale %g; naive polls every %g s simulated "
          "(%.3f s real).  waves: cmrecon's read waves (its plan phase, "
          "from plan -v); the naive client sends every request as its own "
          "round trip." % (a.time_scale, a.naive_poll,
                           a.naive_poll / a.time_scale))
    print()
    print("| size | latency | client | requests (by method) | waves "
          "| wall | CPU | peak RSS | commands | service restarts "
          "| command time (sim) | polls | polls per command-hour |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
