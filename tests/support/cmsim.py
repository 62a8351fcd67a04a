"""Start cmsim for a test and talk to it (stdlib only).

    from cmsim import Cmsim
    with Cmsim(args=["--time-scale", "0"]) as sim:
        status, body = sim.get("/clusters")          # /api/v45 prefix added
        sim.put("/cm/config", {"items": [...]})
        sim.advance(60)                              # POST /_sim/clock
        stats = sim.stats()

Cmsim() starts $CMSIM (or the `binary` argument) with
`--listen 127.0.0.1:0 --port-file <tmp>`, waits for the port file (cmsim
writes it once connections are accepted), and stops the process with
SIGTERM on exit, failing loudly if it does not stop.  The demo seed and the
demo parcel repository from examples/ are used unless `seed=None` or
`repo=False`; cmsim runs with --verbose (one line per request, readable
with output(), handy when a test fails) unless `verbose=False`.  Requests use HTTP Basic (admin:admin unless `auth=`), and
return (status, parsed JSON or text); a dropped connection raises
ConnectionError.  Other tests (cmrecon's CLI tests) reuse this helper.
"""
import base64
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.parse

SOURCE_DIR = os.environ.get(
    "CMR_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DEMO_SEED = os.path.join(SOURCE_DIR, "examples", "demo-seed.json")
DEMO_REPO_URL = "https://archive.example.com/p/cdh7/7.1.9/parcels/"
DEMO_REPO = os.path.join(SOURCE_DIR, "examples", "parcel-repo",
                         "manifest.json")
CATALOG = os.path.join(SOURCE_DIR, "cmd", "cmsim", "data", "catalog")


def quote(name):
    """One path segment, URL-encoded ('/' too)."""
    return urllib.parse.quote(name, safe="")


class Cmsim:
    def __init__(self, args=None, seed=DEMO_SEED, repo=True,
                 binary=None, auth=("admin", "admin"), api="v45",
                 state_file=None, timeout=10.0, verbose=True,
                 catalog=CATALOG):
        self.binary = binary or os.environ.get("CMSIM", "cmsim")
        self.args = list(args or [])
        self.seed = seed
        self.repo = repo
        self.auth = auth
        self.api = api
        self.state_file = state_file
        self.timeout = timeout
        self.verbose = verbose
        self.catalog = catalog
        self.proc = None
        self.port = None
        self.tmp = None
        self.cookie = None

    # --- lifecycle -------------------------------------------------------
    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="cmsim-")
        port_file = os.path.join(self.tmp, "port")
        cmd = [self.binary, "--listen", "127.0.0.1:0",
               "--port-file", port_file]
        if self.catalog:
            cmd += ["--catalog", self.catalog]
        if self.seed:
            cmd += ["--seed", self.seed]
        if self.repo:
            cmd += ["--parcel-repo", DEMO_REPO_URL + "=" + DEMO_REPO]
        if self.state_file:
            cmd += ["--state-file", self.state_file]
        if self.verbose:
            cmd += ["--verbose"]  # one line per request in output()
        cmd += self.args
        self.log = open(os.path.join(self.tmp, "cmsim.log"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError("cmsim exited (%d): %s" %
                                   (self.proc.returncode, self.output()))
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("cmsim did not write its port file")

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self, sig=signal.SIGTERM):
        """Stops cmsim; returns its exit code."""
        if not self.proc:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("cmsim did not stop on signal %d" % sig)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        rc = self.stop()
        if rc not in (0, None) and exc[0] is None:
            raise RuntimeError("cmsim exited with %d: %s" %
                               (rc, self.output()))

    # --- requests --------------------------------------------------------
    @property
    def base_url(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path):
        return self.base_url + self.api_path(path)

    def api_path(self, path):
        if path.startswith("/api/") or path.startswith("/_sim/"):
            return path
        return "/api/%s%s" % (self.api, path)

    def request(self, method, path, body=None, query=None, auth=True,
                headers=None, raw=False):
        """Returns (status, body, response headers)."""
        p = self.api_path(path)
        if query:
            p += "?" + urllib.parse.urlencode(query)
        h = {"Accept": "application/json"}
        if auth is True and self.auth:
            tok = base64.b64encode(("%s:%s" % self.auth).encode()).decode()
            h["Authorization"] = "Basic " + tok
        elif isinstance(auth, tuple):
            tok = base64.b64encode(("%s:%s" % auth).encode()).decode()
            h["Authorization"] = "Basic " + tok
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) \
                else json.dumps(body)
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=30)
        try:
            conn.request(method, p, body=data, headers=h)
            resp = conn.getresponse()
            text = resp.read().decode()
        except (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError) as e:
            raise ConnectionError(str(e))
        finally:
            conn.close()
        if raw:
            return resp.status, text, resp
        ctype = resp.getheader("Content-Type") or ""
        parsed = json.loads(text) if "json" in ctype and text else text
        return resp.status, parsed, resp

    def get(self, path, **kw):
        s, b, _ = self.request("GET", path, **kw)
        return s, b

    def put(self, path, body, **kw):
        s, b, _ = self.request("PUT", path, body=body, **kw)
        return s, b

    def post(self, path, body=None, **kw):
        s, b, _ = self.request("POST", path, body=body, **kw)
        return s, b

    def delete(self, path, body=None, **kw):
        s, b, _ = self.request("DELETE", path, body=body, **kw)
        return s, b

    # --- simulator hooks ---------------------------------------------------
    def advance(self, seconds):
        s, b = self.post("/_sim/clock", query={"advance": str(seconds)})
        assert s == 200, b
        return b

    def stats(self):
        s, b = self.get("/_sim/stats")
        assert s == 200, b
        return b

    def reset_stats(self):
        s, b = self.post("/_sim/reset-stats")
        assert s == 200, b

    def faults(self, specs):
        s, b = self.post("/_sim/faults", specs)
        assert s == 200, b
        return b

    def clear_faults(self):
        s, b = self.delete("/_sim/faults")
        assert s == 200, b

    def wait_command(self, cmd_id, step=30, limit=100):
        """With a stopped clock: advances until the command finishes."""
        for _ in range(limit):
            s, c = self.get("/commands/%d" % cmd_id)
            assert s == 200, c
            if not c["active"]:
                return c
            self.advance(step)
        raise AssertionError("command %d still active" % cmd_id)
