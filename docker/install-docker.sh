#!/usr/bin/env bash
# A current Docker Engine on Debian 12, from Debian's own packages, with the containerd image
# store that Docker Desktop and Engine 29 use: Debian unstable's docker.io 28.5 with docker-cli,
# buildx 0.29, Compose 2.40, containerd 2.1 and runc. Debian 12 itself ships Engine 20.10 (end
# of life) without Compose v2 or buildx. Installed in /usr/local/lib/docker-engine and linked
# into /usr/local/bin and Docker's CLI plugin folder; started in the background where nothing
# (no systemd) runs it. Does nothing that is already done.
#
#   docker/install-docker.sh                  # as root, or it asks for sudo
#   DOCKER_SUITE=trixie docker/install-docker.sh --classic-store   # Engine 26.1, the oldest
#                                             # the lab supports, with the classic store
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=docker/lib.sh
. "$here/lib.sh"
suite=${DOCKER_SUITE:-unstable}
prefix=/usr/local/lib/docker-engine

installed_suite() { cat "$prefix/suite" 2>/dev/null || true; }
if [ "$(installed_suite)" != "$suite" ]; then
  as_root "$here/engine/install.sh" "$suite" "$prefix"
  echo "$suite" | as_root tee "$prefix/suite" >/dev/null
  for program in "$prefix"/bin/*; do
    as_root ln -sf "$program" /usr/local/bin/
  done
  as_root mkdir -p /usr/local/lib/docker/cli-plugins
  as_root ln -sf "$prefix"/libexec/docker/cli-plugins/* /usr/local/lib/docker/cli-plugins/
fi
as_root "$here/engine/start.sh" "$prefix" "$@"
echo "engine $(docker version --format '{{.Server.Version}}')" \
  "($(docker info --format '{{.Driver}}') image store: $(docker info --format '{{.DriverStatus}}' |
  grep -q 'io.containerd.snapshotter' && echo containerd || echo classic))," \
  "$(docker compose version), buildx $(docker buildx version | cut -d' ' -f2)"
