#!/usr/bin/env bash
# Docker Engine with Compose v2 and buildx on Debian 12, from Debian's own packages: docker.io
# from bookworm, and the Compose and buildx plugins from trixie (bookworm ships neither),
# unpacked into Docker's CLI plugin folder. Starts dockerd in the background when nothing
# runs it (a container or CI machine without systemd). Does nothing that is already done.
set -euo pipefail

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v dockerd >/dev/null; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io
fi

if ! docker compose version >/dev/null 2>&1 || ! docker buildx version >/dev/null 2>&1; then
  work=$(mktemp -d)
  chmod 755 "$work"  # apt downloads as the _apt user
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial"
  # trixie from the mirror this machine's apt already uses for bookworm.
  echo "deb $("$(dirname "$0")/debian-mirror.sh") trixie main" > "$work/trixie.list"
  trixie=(-o "Dir::Etc::SourceList=$work/trixie.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache")
  apt-get "${trixie[@]}" update -q
  (cd "$work" && apt-get "${trixie[@]}" download docker-compose docker-buildx)
  for package in "$work"/*.deb; do dpkg-deb -x "$package" "$work/root"; done
  as_root install -D -m 755 -t /usr/local/lib/docker/cli-plugins \
    "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
    "$work/root/usr/libexec/docker/cli-plugins/docker-buildx"
fi

if ! docker info >/dev/null 2>&1; then
  as_root sh -c 'nohup dockerd > /var/log/dockerd.log 2>&1 &'
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; /var/log/dockerd.log says:" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi

echo "engine $(docker version --format '{{.Server.Version}}'), $(docker compose version), buildx $(docker buildx version | cut -d' ' -f2)"
