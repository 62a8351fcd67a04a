#!/usr/bin/env python3
"""The plan benchmark: cmrecon against the naive per-object pattern.

    tests/bench/run_bench.py [--build DIR] [--sizes small,medium,large]
                             [--latency 0,20,100] [--runs 3]

For each generated deployment size and each injected latency it starts
cmsim (`--latency MS`) with the generated seed and measures, on the same
cmsim in the same run:
  - `cmrecon plan` (no-change desired state; API version negotiated):
    requests and round-trip waves (cmsim's /_sim/stats and cmrecon -v),
    wall time (median of --runs), peak RSS of the process;
  - the naive pattern existing tools use: one sequential request per
    service config, per role config group config and per role (after the
    cluster and service lists), over one keep-alive connection;
and once per size, without network, `bench_plan` for the CPU time and
memory of diffing + rendering (release build).  Prints a Markdown table.
The build directory must hold a release build (the script makes one with
cmake when DIR does not exist).
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "support"))
from cmsim import Cmsim  # noqa: E402


def q(s):
    return urllib.parse.quote(s, safe="")


def ensure_build(build):
    if not os.path.exists(os.path.join(build, "cmd", "cmrecon", "cmrecon")):
        subprocess.run(["cmake", "-S", TOP, "-B", build,
                        "-DCMAKE_BUILD_TYPE=Release",
                        "-DCMR_BUILD_TESTS=ON"], check=True,
                       stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j2", "--target", "cmrecon",
                    "cmsim", "bench_plan"], check=True,
                   stdout=subprocess.DEVNULL)


def plan_once(build, sim, desired):
    env = dict(os.environ, CMRECON_URL=sim.base_url, CMRECON_USER="admin",
               CMRECON_PASSWORD="admin", NO_COLOR="1")
    sim.reset_stats()
    # os.wait4 gives this child's own rusage (peak RSS), and timing the
    # child directly keeps interpreter start-up out of the figure.
    argv = [os.path.join(build, "cmd", "cmrecon", "cmrecon"), "-v", "plan",
            desired]
    with tempfile.TemporaryFile("w+") as out, \
            tempfile.TemporaryFile("w+") as errf:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=out, stderr=errf)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        errf.seek(0)
        err = errf.read()
    if p.returncode not in (0, 2):
        raise RuntimeError("plan failed: %s" % err)
    rss = ru.ru_maxrss
    waves = int(re.search(r"in (\d+) round-trip wave", err).group(1))
    stats = sim.stats()["requests"]
    return wall, rss, waves, sum(stats.values())


def naive_once(sim):
    """One sequential request per object, as per-object scripts do."""
    u = urllib.parse.urlparse(sim.base_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    import base64
    auth = "Basic " + base64.b64encode(b"admin:admin").decode()
    n = 0

    def get(path):
        nonlocal n
        conn.request("GET", "/api/v45" + path,
                     headers={"Authorization": auth})
        r = conn.getresponse()
        body = r.read()
        n += 1
        if r.status != 200:
            raise RuntimeError("%s: %d" % (path, r.status))
        return json.loads(body)

    sim.reset_stats()
    t0 = time.perf_counter()
    get("/cm/config")
    for c in get("/clusters")["items"]:
        cn = q(c["name"])
        get("/clusters/%s/parcels" % cn)
        for s in get("/clusters/%s/services" % cn)["items"]:
            sn = q(s["name"])
            base = "/clusters/%s/services/%s" % (cn, sn)
            get(base + "/config")
            for g in get(base + "/roleConfigGroups")["items"]:
                get(base + "/roleConfigGroups/%s/config" % q(g["name"]))
            for r in get(base + "/roles")["items"]:
                get(base + "/roles/%s" % q(r["name"]))
    wall = time.perf_counter() - t0
    conn.close()
    return wall, n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(TOP, "build-bench"))
    ap.add_argument("--sizes", default="small,medium,large")
    ap.add_argument("--latency", default="0,20,100")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--naive-max-requests", type=int, default=20000)
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    ensure_build(build)
    os.environ["CMSIM"] = os.path.join(build, "cmd", "cmsim", "cmsim")
    tmp = tempfile.mkdtemp(prefix="cmrecon-bench-")
    rows = []
    cpu_rows = []
    for size in a.sizes.split(","):
        d = os.path.join(tmp, size)
        gen = subprocess.run([sys.executable,
                              os.path.join(HERE, "gen_deployment.py"),
                              size, d], check=True, capture_output=True,
                             text=True).stdout.strip()
        print(gen, file=sys.stderr)
        seed = os.path.join(d, "seed.json")
        desired = os.path.join(d, "desired.yaml")
        for lat in [int(x) for x in a.latency.split(",")]:
            args = ["--latency", str(lat)] if lat else []
            with Cmsim(seed=seed, repo=False, args=args,
                       timeout=60) as sim:
                if lat == 0:
                    st, dep = sim.get("/cm/deployment",
                                      query={"view": "export_redacted"})
                    dep_path = os.path.join(d, "deployment.json")
                    with open(dep_path, "w") as f:
                        json.dump(dep, f)
                    changed = os.path.join(d, "desired-changed.yaml")
                    out = subprocess.run(
                        [os.path.join(build, "tests", "bench",
                                      "bench_plan"), changed, dep_path,
                         "5"], check=True, capture_output=True,
                        text=True).stdout
                    cpu_rows.append((size, json.loads(out)))
                runs = [plan_once(build, sim, desired)
                        for _ in range(a.runs)]
                wall = statistics.median(r[0] for r in runs)
                rss = max(r[1] for r in runs)
                waves, reqs = runs[0][2], runs[0][3]
                nwall, nreq = naive_once(sim)
                rows.append((size, lat, reqs, waves, wall, rss, nreq,
                             nwall, nwall / wall if wall else 0))
                print(rows[-1], file=sys.stderr)
    print("| size | latency | cmrecon requests | waves | cmrecon wall "
          "(median) | peak RSS | naive requests | naive wall | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d ms | %d | %d | %.3f s | %.1f MiB | %d | %.3f s "
              "| %.1fx |" % (r[0], r[1], r[2], r[3], r[4], r[5] / 1024.0,
                             r[6], r[7], r[8]))
    print()
    print("| size | values | load YAML | decode deployment | diff "
          "| render | diff+render | plan arena | peak RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size, c in cpu_rows:
        print("| %s | %d | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f ms "
              "| %.1f KiB | %.1f MiB |" % (
                  size, c["values"], c["load_ms"], c["decode_ms"],
                  c["plan_ms"], c["render_ms"], c["plan_render_ms"],
                  c["plan_bytes"] / 1024.0, c["peak_rss_kib"] / 1024.0))


if __name__ == "__main__":
    main()
