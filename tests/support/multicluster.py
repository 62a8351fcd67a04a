"""Several clusters for cmsim: the demo deployment with its cluster copied.

    from multicluster import seed_with
    seed = seed_with(3, compute=["Cluster 2"])   # a dict, the seed's shape

"Cluster 1" is the demo seed's cluster as it is; "Cluster 2", "Cluster 3"
... carry the same services under their own names, because CM's service,
role config group and role names are unique across the deployment: hdfs2,
hdfs2-DATANODE-BASE, hdfs2-DATANODE-<hash>, and references between them
(yarn2's hdfs_service: hdfs2) follow.  Names in `compute` become compute
clusters (clusterType COMPUTE_CLUSTER).  The copies' roles stay on the
demo's hosts: cmsim does not check which cluster a host belongs to, and
nothing cmrecon does depends on it.
"""
import copy
import json

from cmsim import DEMO_SEED

SERVICES = ["zookeeper", "hdfs", "yarn", "hive", "impala", "spark_on_yarn"]


def renamed(value, suffix):
    """The cluster's subtree with every service-derived name suffixed."""
    if isinstance(value, dict):
        return {k: renamed(v, suffix) for k, v in value.items()}
    if isinstance(value, list):
        return [renamed(v, suffix) for v in value]
    if isinstance(value, str):
        for name in SERVICES:
            if value == name or value.startswith(name + "-"):
                return name + suffix + value[len(name):]
    return value


def seed_with(n, compute=()):
    """The demo seed with n clusters; names in `compute` are compute
    clusters (clusterType COMPUTE_CLUSTER)."""
    with open(DEMO_SEED) as f:
        seed = json.load(f)
    first = seed["clusters"][0]
    for i in range(2, n + 1):
        c = renamed(copy.deepcopy(first), str(i))
        c["name"] = c["displayName"] = "Cluster %d" % i
        c["uuid"] = "%s-%d" % (first.get("uuid", "c"), i)
        seed["clusters"].append(c)
    for c in seed["clusters"]:
        if c["name"] in compute:
            c["clusterType"] = "COMPUTE_CLUSTER"
    return seed
