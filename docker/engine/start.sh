#!/usr/bin/env bash
# Starts the engine that docker/engine/install.sh put in a folder: containerd, then dockerd,
# in the background, for machines and containers without systemd. Logs go to
# /var/log/containerd.log and /var/log/dockerd.log. Does nothing when the engine answers.
#
#   docker/engine/start.sh /usr/local/lib/docker-engine                  # containerd image store
#   docker/engine/start.sh /usr/local/lib/docker-engine --classic-store  # overlay2, as before
#   docker/engine/start.sh <folder> [--classic-store] -- <more dockerd options>
#
# The containerd image store is what Docker Desktop and new installs of Engine 29 use: one
# store for Docker and containerd, multi-platform images under one tag, and the build cache
# exporters of the default builder. Engines older than 29 start with the classic store
# unless told; `--classic-store` keeps it, as a learner's older engine has it.
set -euo pipefail
prefix=${1:?usage: $0 <engine folder> [--classic-store] [-- dockerd options]}
shift
store=containerd
if [ "${1:-}" = --classic-store ]; then
  store=classic
  shift
fi
[ "${1:-}" = -- ] && shift
export PATH=$prefix/bin:$PATH

if docker info >/dev/null 2>&1; then
  exit 0
fi

mkdir -p "$prefix/etc"
# This machine's kernel and disks have no btrfs, ZFS or device-mapper thin pool, and no EROFS:
# containerd's snapshotters for them only fail to load, and in a folder install their failure
# took the metadata plugin (and so containerd) down with them. overlayfs is the one in use.
if containerd --version | grep -q ' v\?1\.'; then config_version=2; else config_version=3; fi
cat > "$prefix/etc/containerd.toml" <<CONFIG
version = $config_version
disabled_plugins = [
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
]
CONFIG
if [ "$store" = containerd ]; then
  echo '{ "features": { "containerd-snapshotter": true } }' > "$prefix/etc/daemon.json"
else
  echo '{ "features": { "containerd-snapshotter": false } }' > "$prefix/etc/daemon.json"
fi

wait_for() {  # wait_for <what> <log> <command...>
  local what=$1 log=$2
  shift 2
  for _ in $(seq 120); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "$what did not start; the end of $log:" >&2
  tail -n 20 "$log" >&2
  return 1
}

if ! ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
  nohup containerd --config "$prefix/etc/containerd.toml" > /var/log/containerd.log 2>&1 &
  wait_for containerd /var/log/containerd.log ctr --address /run/containerd/containerd.sock version
fi
nohup dockerd --config-file "$prefix/etc/daemon.json" \
  --containerd /run/containerd/containerd.sock "$@" > /var/log/dockerd.log 2>&1 &
wait_for dockerd /var/log/dockerd.log docker info
