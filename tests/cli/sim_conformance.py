#!/usr/bin/env python3
"""Swagger conformance of cmsim (DESIGN: "every successful response body
has the shape the CM API documents").

Walks every route cmsim serves (GET /_sim/routes), checks that the route
exists in the CM API v45 spec with that method, calls it with realistic
arguments, and validates each successful body against the v45
definitions: no undocumented field, the right JSON types (integers are
integers), valid enum values.  Error bodies must be exactly CM's
ApiErrorMessage shape {"message": str[, "causes": [str]]} (FACTS §1).

The spec is the project's copy in tests/fixtures/swagger/.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from cmsim import Cmsim, quote, SOURCE_DIR  # noqa: E402

SPEC = os.path.join(SOURCE_DIR, "tests", "fixtures", "swagger",
                    "cm-api-v45.swagger.json")
SPARK3 = "3.3.2.3.3.7190.0-91-1.p0.45265883"


class Validator:
    def __init__(self, spec):
        self.defs = spec["definitions"]
        self.errors = []

    def resolve(self, schema):
        while "$ref" in schema:
            schema = self.defs[schema["$ref"].split("/")[-1]]
        return schema

    def flatten(self, schema):
        """Merges allOf parts into one object schema."""
        schema = self.resolve(schema)
        if "allOf" not in schema:
            return schema
        props = {}
        for part in schema["allOf"]:
            props.update(self.flatten(part).get("properties", {}))
        props.update(schema.get("properties", {}))
        return {"type": "object", "properties": props}

    def check(self, value, schema, where):
        schema = self.flatten(schema)
        t = schema.get("type")
        if "enum" in schema and value not in schema["enum"]:
            self.errors.append("%s: %r not in enum %s" %
                               (where, value, schema["enum"]))
        if t == "object" or "properties" in schema:
            if not isinstance(value, dict):
                self.errors.append("%s: expected an object" % where)
                return
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties")
            for k, v in value.items():
                if k in props:
                    self.check(v, props[k], where + "." + k)
                elif extra:
                    if isinstance(extra, dict):
                        self.check(v, extra, where + "." + k)
                else:
                    self.errors.append("%s: undocumented field '%s'" %
                                       (where, k))
        elif t == "array":
            if not isinstance(value, list):
                self.errors.append("%s: expected an array" % where)
                return
            for i, v in enumerate(value):
                self.check(v, schema.get("items", {}),
                           "%s[%d]" % (where, i))
        elif t == "string":
            if not isinstance(value, str):
                self.errors.append("%s: expected a string, got %r" %
                                   (where, value))
        elif t == "integer":
            if not isinstance(value, int) or isinstance(value, bool):
                self.errors.append("%s: expected an integer, got %r" %
                                   (where, value))
        elif t == "number":
            if not isinstance(value, (int, float)) or \
                    isinstance(value, bool):
                self.errors.append("%s: expected a number" % where)
        elif t == "boolean":
            if not isinstance(value, bool):
                self.errors.append("%s: expected a boolean, got %r" %
                                   (where, value))


def error_shape(body):
    if not isinstance(body, dict) or not isinstance(body.get("message"),
                                                    str):
        return False
    if set(body) - {"message", "causes"}:
        return False
    causes = body.get("causes", [])
    return isinstance(causes, list) and all(isinstance(c, str)
                                            for c in causes)


def response_schema(op):
    for code in ("200", "201", "204"):
        r = op.get("responses", {}).get(code)
        if r and "schema" in r:
            return r["schema"]
    return None


def main():
    with open(SPEC) as f:
        spec = json.load(f)
    v = Validator(spec)
    problems = []
    checked = 0
    with Cmsim(args=["--time-scale", "0"]) as sim:
        # Make every kind of object exist: a command, tags, a new parcel.
        s, cmd = sim.post("/clusters/%s/services/hdfs/commands/restart" %
                          quote("Cluster 1"))
        sim.advance(10)
        sim.wait_command(sim.post("/cm/commands/refreshParcelRepos")[1]
                         ["id"], step=5)
        sim.put("/clusters/%s/tags" % quote("Cluster 1"),
                [{"name": "a", "value": "b"}])
        roles = {}
        for svc, path in (("hdfs", "/clusters/%s/services/hdfs/roles" %
                           quote("Cluster 1")),
                          ("mgmt", "/cm/service/roles")):
            roles[svc] = sim.get(path)[1]["items"][0]
        host = sim.get("/hosts")[1]["items"][0]["hostId"]
        params = {
            "clusterName": "Cluster 1", "serviceName": "hdfs",
            "product": "SPARK3", "version": SPARK3,
            "commandId": str(cmd["id"]), "hostId": host,
        }
        bodies = {
            "/config": {"items": [{"name": "dfs_replication",
                                   "value": "3"}]},
            "/tags": [{"name": "conformance", "value": "1"}],
            "roleCommands": {"items": [roles["hdfs"]["name"]]},
        }
        s, routes = sim.get("/_sim/routes")
        for r in routes:
            method, tpl = r["method"], r["path"]
            op = spec["paths"].get(tpl, {}).get(method.lower())
            if op is None:
                problems.append("%s %s: not in the v45 spec" %
                                (method, tpl))
                continue
            mgmt = tpl.startswith("/cm/service")
            p = dict(params)
            p["roleConfigGroupName"] = ("mgmt-SERVICEMONITOR-BASE" if mgmt
                                        else "hdfs-DATANODE-BASE")
            p["roleName"] = roles["mgmt" if mgmt else "hdfs"]["name"]
            if tpl.endswith("/abort"):
                # abort needs a command that is still running
                p["commandId"] = str(sim.post(
                    "/clusters/%s/commands/restart" %
                    quote("Cluster 1"))[1]["id"])
            path = tpl
            for k, val in p.items():
                path = path.replace("{%s}" % k, quote(val))
            body = None
            if method in ("PUT", "POST", "DELETE"):
                for key, b in bodies.items():
                    if key in tpl:
                        body = b
                if tpl.endswith("/config") and mgmt:
                    body = {"items": []}
                if tpl == "/cm/config":
                    body = {"items": [{"name": "PARCEL_UPDATE_FREQ",
                                       "value": "1"}]}
                if tpl.endswith("{roleConfigGroupName}"):
                    body = {"displayName": "Group"}
                if "/roleConfigGroups/" in tpl and tpl.endswith("/config"):
                    body = {"items": []}
                if "/roles/{roleName}/config" in tpl:
                    body = {"items": []}
            views = [None]
            if any(x.get("name") == "view" for x in op.get("parameters",
                                                           [])):
                views = [None, "summary", "full"]
                if tpl == "/cm/deployment":
                    views = [None, "export", "export_redacted"]
            for view in views:
                q = {"view": view} if view else None
                status, data, _ = sim.request(method, path, body=body,
                                              query=q)
                checked += 1
                where = "%s %s%s" % (method, tpl,
                                     "?view=" + view if view else "")
                if status == 200:
                    schema = response_schema(op)
                    if schema is None:
                        problems.append("%s: spec has no body schema" %
                                        where)
                        continue
                    v.errors = []
                    v.check(data, schema, where)
                    problems.extend(v.errors)
                elif status == 400 and "/parcels/" in tpl:
                    # an illegal stage for this parcel right now
                    if not error_shape(data):
                        problems.append("%s: bad error body %r" %
                                        (where, data))
                else:
                    problems.append("%s: HTTP %d %r" % (where, status,
                                                        data))
            if tpl.startswith("/clusters/{clusterName}/parcels/products/") \
                    and method == "POST":
                sim.advance(60)
        # Error bodies: 404, 400, 401, 403, 405.
        for status, (m, path, kw) in (
                (404, ("GET", "/clusters/nope", {})),
                (404, ("GET", "/nope", {})),
                (400, ("GET", "/clusters", {"query": {"view": "x"}})),
                (400, ("PUT", "/cm/config", {"body": {"items": [
                    {"name": "nope", "value": "1"}]}})),
                (401, ("GET", "/clusters", {"auth": ("admin", "x")})),
                (405, ("DELETE", "/clusters", {}))):
            got, data, _ = sim.request(m, path, **kw)
            checked += 1
            if got != status or not error_shape(data):
                problems.append("%s %s: expected %d with an error body, "
                                "got %d %r" % (m, path, status, got, data))
        got, text, resp = sim.request("GET", "/api/version")
        if got != 200 or text != "v45":
            problems.append("/api/version: %d %r" % (got, text))
    for p in problems:
        print("FAIL", p)
    print("%d routes, %d requests checked, %d problems" %
          (len(routes), checked, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
