#!/usr/bin/env bash
# A node's first process: starts its engine, then stays, so that the container lives as long
# as the engine should. docker/engine/node.sh passes the settings:
#   DOCKER_STORE    containerd (the default) or classic
#   CGROUP_PARENT   the cgroup the node's containers go under, one per node: the nodes share
#                   the machine's cgroup tree, and the machine's own engine uses /docker
#   INSECURE_REGISTRY  host:port of a registry served over plain HTTP, on the nodes' own
#                   network (deploy/swarm/cluster.py's)
set -euo pipefail
options=()
[ "${DOCKER_STORE:-containerd}" = classic ] && options+=(--classic-store)
options+=(--)
[ -n "${CGROUP_PARENT:-}" ] && options+=(--cgroup-parent "$CGROUP_PARENT")
[ -n "${INSECURE_REGISTRY:-}" ] && options+=(--insecure-registry "$INSECURE_REGISTRY")
/opt/lab/engine/start.sh /usr/local/lib/docker-engine "${options[@]}" "$@"
exec sleep infinity
