#!/usr/bin/env bash
# Docker nodes in containers (Docker in Docker), from docker/engine/node.Dockerfile.
#
#   docker/engine/node.sh image <suite>                   # builds lab/docker-node:<suite>
#   docker/engine/node.sh start <name> <suite> [docker run options...]
#                                                         # starts a node, waits for its engine
#   docker/engine/node.sh remove <name>...                # removes nodes and their volumes
#
# A node runs containers, so it needs what a container normally may not do: the machine's
# capabilities, every device, no seccomp or AppArmor filter, writable /proc/sys, and the
# machine's cgroup tree. `--privileged` grants all of that at once, where the machine allows
# it; this project's CI machine does not ("unable to apply caps: operation not permitted":
# its capability bounding set lacks CAP_SYS_RESOURCE), so the node gets each of those by
# name, every capability the bounding set holds. Each node's containers go under a cgroup of
# its own, named after it. Machines with the unified cgroup hierarchy (cgroup v2) only are not
# supported: this was run on the hybrid (v1) hierarchy alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=docker/lib.sh
. "$here/../lib.sh"

# Capability names by bit number, as in linux/capability.h.
CAPABILITIES=(CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP
  LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE
  SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME
  SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG
  WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE)

# What a node may do: --privileged where every capability is in the bounding set, else the
# same by parts.
node_privileges() {
  local bounding missing=0 bit options=()
  bounding=$((16#$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)))
  for bit in "${!CAPABILITIES[@]}"; do
    if (((bounding >> bit) & 1)); then
      options+=(--cap-add "${CAPABILITIES[$bit]}")
    else
      missing=1
    fi
  done
  if [ "$missing" = 0 ]; then
    echo --privileged
  else
    printf '%s\n' "${options[@]}" --device-cgroup-rule 'a *:* rwm' \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --security-opt systempaths=unconfined
  fi
}

image() {
  local suite=$1
  docker build --quiet --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" --build-arg DOCKER_SUITE="$suite" \
    --build-context certificates=/etc/ssl/certs \
    -f "$here/node.Dockerfile" -t "lab/docker-node:$suite" "$here/.." >/dev/null
  echo "lab/docker-node:$suite"
}

start() {
  local name=$1 suite=$2 privileges
  shift 2
  if [ ! -d /sys/fs/cgroup/cpu ]; then
    echo "Docker nodes need the cgroup v1 hierarchy; this machine has only cgroup v2." >&2
    return 1
  fi
  mapfile -t privileges < <(node_privileges)
  # /run on a tmpfs, as on a machine: a node killed and started again must not find its last
  # engine's pid files and network namespace handles there, as a rebooted machine does not.
  docker run -d --name "$name" --hostname "$name" --init "${privileges[@]}" \
    --tmpfs /run:rw,exec,nosuid,nodev,mode=755 \
    --volume /sys/fs/cgroup:/sys/fs/cgroup --volume /lib/modules:/lib/modules:ro \
    --volume "$name-docker:/var/lib/docker" --volume "$name-containerd:/var/lib/containerd" \
    --env CGROUP_PARENT="/lab-node-$name" "$@" "lab/docker-node:$suite" >/dev/null
  wait_healthy "$name" 120
}

remove() {
  local name
  for name in "$@"; do
    docker rm -f --volumes "$name" >/dev/null 2>&1 || true
    docker volume rm "$name-docker" "$name-containerd" >/dev/null 2>&1 || true
    # The cgroups its engine made, empty once its processes are gone.
    find /sys/fs/cgroup/*/"lab-node-$name" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

case "${1:-}" in
  image) image "${2:?a Debian suite: unstable, trixie}" ;;
  start) shift; start "$@" ;;
  remove) shift; remove "$@" ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
