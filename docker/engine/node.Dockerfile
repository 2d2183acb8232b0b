# A Docker node in a container (Docker in Docker): a Debian 12 system running the Docker Engine
# of one Debian suite, installed by docker/engine/install.sh from Debian's packages. The lab
# runs its older-engine check in one (checks/older-engine.sh, Engine 26.1 from trixie) and its
# three-node swarm in three (deploy/swarm/cluster.py, Engine 28.5 from unstable).
#
#   docker build -f docker/engine/node.Dockerfile --build-arg DOCKER_SUITE=trixie \
#     --build-context certificates=/etc/ssl/certs -t lab/docker-node:trixie docker
#
# docker/engine/node.sh builds and runs it with what it needs: a node runs containers, so it
# needs nearly every capability, its own cgroup folder and /var/lib/docker on a volume.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# What install.sh needs (binutils for objdump, patchelf), what dockerd needs (iptables), and
# what the lab's scripts run on a node (bash, curl, python3, git). The three-node swarm's
# other machines run this image too: its registry (docker-registry, the Distribution
# project's) and the load balancer in front of the nodes (nginx).
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils ca-certificates curl docker-registry git \
      iproute2 iptables nginx-light patchelf procps python3 \
 && rm -rf /var/lib/apt/lists/*
# This machine's CA bundle: the nodes' builds reach crates.io through the same TLS proxy.
# `certificates` is a build context (docker build --build-context), not a stage.
# hadolint ignore=DL3022
COPY --from=certificates ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY debian-mirror.sh /opt/lab/debian-mirror.sh
COPY engine/install.sh engine/start.sh engine/node-entrypoint.sh /opt/lab/engine/
ARG DOCKER_SUITE=unstable
RUN /opt/lab/engine/install.sh "$DOCKER_SUITE" /usr/local/lib/docker-engine \
 && ln -s /usr/local/lib/docker-engine/bin/* /usr/local/bin/ \
 && mkdir -p /usr/local/lib/docker/cli-plugins \
 && ln -s /usr/local/lib/docker-engine/libexec/docker/cli-plugins/* /usr/local/lib/docker/cli-plugins/
# Images, containers and build cache: on a volume, since overlayfs cannot stack on the
# container's own overlay filesystem.
VOLUME /var/lib/docker /var/lib/containerd
# A node is healthy when its engine answers.
HEALTHCHECK --interval=2s --timeout=5s --start-period=60s --retries=3 CMD ["docker", "info"]
ENTRYPOINT ["/opt/lab/engine/node-entrypoint.sh"]
