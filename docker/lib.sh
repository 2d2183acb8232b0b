# Shared by the docker/*.sh scripts: which base images, which build arguments, small helpers.
# Sourced, not run.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# .env (written by docker/offline/build-bases.sh) points the bases at local stand-ins.
if [ -f "$repo/.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$repo/.env"
  set +a
fi
RUST_IMAGE=${RUST_IMAGE:-rust:1.95-slim-bookworm}
DEBIAN_IMAGE=${DEBIAN_IMAGE:-debian:bookworm-slim}
DISTROLESS_IMAGE=${DISTROLESS_IMAGE:-gcr.io/distroless/static-debian12:nonroot}
POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:15-bookworm}
REDIS_IMAGE=${REDIS_IMAGE:-redis:7-bookworm}
export DOCKER_BUILDKIT=1

SERVICES=(api-service db-service web-service)

service_port() {
  case "$1" in
    api-service) echo 8000 ;;
    db-service) echo 8001 ;;
    web-service) echo 8080 ;;
    *) echo "unknown service $1" >&2; return 1 ;;
  esac
}

lab_version() { sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1; }
lab_revision() { git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown; }

# lab_build <dockerfile> <target or ""> <service> <tag> [docker build options...]
# The one place images are built: every script that builds one calls this. The context is the
# repository, or $LAB_CONTEXT (docker/compare-sizes.py times builds from a copy).
# With `--platform` for another platform than the engine's, the local stand-ins of
# docker/offline/build-bases.sh need care: the stages that run the toolchain take the machine's
# own (FROM --platform=$BUILDPLATFORM), the distroless-style base holds both platforms (on the
# classic image store, the other one is a tag of its own, with its architecture), and
# runtime-debian has no Debian stand-in for the other platform.
lab_build() {
  local dockerfile=$1 target=$2 service=$3 tag=$4 context=${LAB_CONTEXT:-$repo}
  shift 4
  local target_option=() platform="" distroless=$DISTROLESS_IMAGE arguments=("$@")
  [ -n "$target" ] && target_option=(--target "$target")
  while [ ${#arguments[@]} -gt 0 ]; do
    case "${arguments[0]}" in
      --platform) platform=${arguments[1]}; break ;;
      --platform=*) platform=${arguments[0]#--platform=}; break ;;
    esac
    arguments=("${arguments[@]:1}")
  done
  if [ -n "$platform" ] && [ "$platform" != "$(docker_platform)" ]; then
    if [ "$target" = runtime-debian ] && [[ $DEBIAN_IMAGE == lab-offline/* ]]; then
      echo "runtime-debian for $platform needs a Debian image for $platform, and the local" \
        "stand-in $DEBIAN_IMAGE is for $(docker_platform) only: build it where a registry" \
        "answers (delete .env to use the public debian image)." >&2
      return 1
    fi
    if [ "$target" = runtime-distroless ] && [[ $distroless == lab-offline/* ]] &&
       [ "$(image_store)" = classic ]; then
      distroless=$DISTROLESS_IMAGE-${platform#*/}
      if ! docker image inspect "$distroless" >/dev/null 2>&1; then
        echo "no $distroless: docker/offline/build-bases.sh builds it" >&2
        return 1
      fi
    fi
  fi
  docker build --file "$context/$dockerfile" "${target_option[@]}" \
    --build-arg RUST_IMAGE="$RUST_IMAGE" \
    --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" \
    --build-arg DISTROLESS_IMAGE="$distroless" \
    --build-arg SERVICE="$service" \
    --build-arg PORT="$(service_port "$service")" \
    --build-arg VERSION="$(lab_version)" \
    --build-arg REVISION="$(lab_revision)" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --tag "$tag" "$@" "$context"
}

# Milliseconds since the epoch, for timing docker commands.
now_ms() { date +%s%3N; }

# wait_healthy <container> <seconds>: until Docker reports the container healthy.
wait_healthy() {
  local container=$1 deadline=$((SECONDS + $2)) status
  while [ $SECONDS -lt $deadline ]; do
    status=$(docker inspect --format '{{.State.Health.Status}}' "$container" 2>/dev/null || echo gone)
    case "$status" in
      healthy) return 0 ;;
      unhealthy | gone) break ;;
    esac
    sleep 1
  done
  echo "$container is not healthy ($status); its last log lines:" >&2
  docker logs --tail 20 "$container" >&2 || true
  return 1
}

# check_user_and_stop <container> [budget ms]: what production needs of a running Rust
# container. Its image and every process run as uid 65532, and `docker stop` ends it within the
# budget (a second by default) with status 0 (SIGTERM handled, no SIGKILL after the grace
# period). Leaves the container stopped, sets CHECKED_UIDS, STOP_MS and EXIT_CODE for a report,
# prints each failure and returns 1 if any.
check_user_and_stop() {
  local container=$1 budget_ms=${2:-1000} user started problems=0
  user=$(docker inspect --format '{{.Config.User}}' "$container")
  [ "$user" = 65532:65532 ] || { echo "  FAIL: $container runs as '$user', expected 65532:65532" >&2; problems=1; }
  CHECKED_UIDS=$(docker top "$container" -eo pid,uid | awk 'NR > 1 { print $2 }' | sort -u | tr '\n' ' ' | sed 's/ $//')
  [ "$CHECKED_UIDS" = 65532 ] || { echo "  FAIL: $container has processes of uid $CHECKED_UIDS" >&2; problems=1; }
  started=$(now_ms)
  docker stop "$container" >/dev/null
  STOP_MS=$(($(now_ms) - started))
  EXIT_CODE=$(docker inspect --format '{{.State.ExitCode}}' "$container")
  [ "$STOP_MS" -lt "$budget_ms" ] || { echo "  FAIL: docker stop $container took $STOP_MS ms" >&2; problems=1; }
  [ "$EXIT_CODE" = 0 ] || { echo "  FAIL: $container exited with $EXIT_CODE after SIGTERM" >&2; problems=1; }
  return "$problems"
}

# The engine's own platform, such as linux/amd64.
docker_platform() { docker version --format '{{.Server.Os}}/{{.Server.Arch}}'; }

# elf_machine <platform>: how readelf names that platform's machine.
elf_machine() {
  case "$1" in
    linux/amd64) echo 'Advanced Micro Devices X86-64' ;;
    linux/arm64) echo AArch64 ;;
    *) echo "unknown platform $1" >&2; return 1 ;;
  esac
}

# copy_service_binary <image> <file>: the image's /service, copied out without running it
# (an image of another platform is created for its own platform, so nothing asks a registry).
copy_service_binary() {
  local container
  container=$(docker create --platform "$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$1")" "$1")
  docker cp "$container:/service" - | tar -xO > "$2"
  docker rm "$container" >/dev/null
}

# binary_machine <image>: the machine the image's /service is built for, from its ELF header.
binary_machine() {
  local binary
  binary=$(mktemp)
  copy_service_binary "$1" "$binary"
  readelf --file-header "$binary" | sed -n 's/^ *Machine: *//p'
  rm -f "$binary"
}

step() { printf '\n\033[1m=== %s ===\033[0m\n' "$*"; }

# The engine's image store: containerd (Docker Desktop, new installs of Engine 29, or the
# containerd-snapshotter feature) or classic (graph drivers such as overlay2). It decides what
# `docker images` shows and whether one tag can hold several platforms.
image_store() {
  case "$(docker info --format '{{json .DriverStatus}}')" in
    *io.containerd.snapshotter*) echo containerd ;;
    *) echo classic ;;
  esac
}

# Debian's docker-registry (the Distribution project's registry): the installed one, or the
# package's binary unpacked under ~/.cache, so that no sudo is needed and no registry service
# is left running on the machine.
registry_binary() {
  local tools=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/tools/docker-registry download
  if command -v docker-registry; then return; fi
  if [ ! -x "$tools/usr/bin/docker-registry" ]; then
    download=$(mktemp -d)
    chmod 755 "$download"  # apt downloads as the _apt user
    if ! (cd "$download" && apt-get download -q docker-registry 2>&1 | grep -v unsandboxed >&2) ||
       ! compgen -G "$download/docker-registry_*.deb" >/dev/null; then
      echo "apt-get download docker-registry failed: run apt-get update, or give a registry" >&2
      rm -rf "$download"
      return 1
    fi
    mkdir -p "$tools"
    dpkg-deb -x "$download"/docker-registry_*.deb "$tools"
    rm -rf "$download"
  fi
  echo "$tools/usr/bin/docker-registry"
}

# start_registry <folder>: a throwaway registry on 127.0.0.1, storing in <folder>; sets
# REGISTRY (127.0.0.1:<port>) and REGISTRY_PID. The caller stops it and removes the folder.
start_registry() {
  local folder=$1 binary port
  binary=$(registry_binary) || return 1
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$folder/config.yml" <<CONFIG
version: 0.1
storage:
  filesystem:
    rootdirectory: $folder/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
CONFIG
  "$binary" serve "$folder/config.yml" > "$folder/registry.log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  for _ in $(seq 50); do
    curl -fs -o /dev/null "http://$REGISTRY/v2/" && return 0
    sleep 0.1
  done
  echo "the throwaway registry did not start:" >&2
  cat "$folder/registry.log" >&2
  return 1
}
