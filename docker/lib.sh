# Shared by the lab's shell scripts (docker/*.sh, checks/*.sh, .ci/run): the catalogue's facts,
# the base images, the build, and small helpers. docker/lib.py is its twin for the Python
# scripts. Sourced, not run.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# catalogue <kind> <column>: a column of the catalogue's lines of that kind (catalogue.txt, the
# one home of the facts about the services and the base images).
catalogue() {
  awk -v kind="$1" -v column="$2" '$1 == kind { print $column }' "$repo/catalogue.txt"
}
mapfile -t SERVICES < <(catalogue service 2)

# service_port <service>: the port the catalogue gives it.
service_port() {
  local port
  port=$(awk -v name="$1" '$1 == "service" && $2 == name { print $3 }' "$repo/catalogue.txt")
  [ -n "$port" ] || { echo "catalogue.txt names no service $1" >&2; return 1; }
  echo "$port"
}

# The base images: .env's (docker/offline/build-bases.sh points them at local stand-ins), or
# the catalogue's public ones.
if [ -f "$repo/.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$repo/.env"
  set +a
fi
while read -r _ name image; do
  [ -n "${!name:-}" ] || printf -v "$name" '%s' "$image"
done < <(grep '^base ' "$repo/catalogue.txt")
export DOCKER_BUILDKIT=1

lab_version() { sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1; }
lab_revision() { git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown; }
# The last commit's time, in seconds since the epoch: SOURCE_DATE_EPOCH, which BuildKit writes
# for every timestamp of an image, so that the same commit builds the same image.
lab_epoch() { git -C "$repo" log -1 --format=%ct 2>/dev/null || true; }
# The same time, as the image's `created` label: 2026-12-07T01:02:03Z, or unknown outside Git.
lab_created() {
  local epoch
  epoch=$(lab_epoch)
  if [ -n "$epoch" ]; then date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ; else echo unknown; fi
}

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
  # The labels say the commit the image is built from and that commit's time, not the build's:
  # two builds of one commit carry the same labels. SOURCE_DATE_EPOCH reaches BuildKit only
  # when the caller exports it (docker/publish.sh, docker/reproduce.sh, .ci/run): BuildKit
  # keys its cache on it, so builds with it and builds without it (Compose's, a plain `docker
  # build`) would each compile the workspace.
  docker build --file "$context/$dockerfile" "${target_option[@]}" \
    --build-arg RUST_IMAGE="$RUST_IMAGE" \
    --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" \
    --build-arg DISTROLESS_IMAGE="$distroless" \
    --build-arg SERVICE="$service" \
    --build-arg VERSION="$(lab_version)" \
    --build-arg REVISION="$(lab_revision)" \
    --build-arg CREATED="$(lab_created)" \
    --tag "$tag" "$@" "$context"
}

# A multi-platform build with rewrite-timestamp=true (docker/publish.sh, docker/reproduce.sh):
# both platforms share a layer (the assets, built once on this machine; for the backends an
# empty one), and when both rewrite it at once BuildKit 0.29 prints "ERROR: (*service).Write
# failed: ... locked for ...: unavailable" and goes on, with the other writer's copy. Those
# scripts leave that line out (`2> >(grep -v "$SHARED_LAYER_RACE" >&2)`); any other error
# still fails the build.
# shellcheck disable=SC2034  # read by the scripts that source this file
SHARED_LAYER_RACE='Write failed: .* locked for .*: unavailable'

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

# copy_service_binary <image> <file> [platform]: the image's /service, copied out without
# running it. An image of another platform is created for its own platform, so nothing asks a
# registry; of a multi-platform image (containerd store), the platform given.
copy_service_binary() {
  local container platform=${3:-}
  [ -n "$platform" ] || platform=$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$1")
  container=$(docker create --platform "$platform" "$1")
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

# as_root <command...>: runs it as root, through sudo unless the script already is root.
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# step <title>: a heading for what comes next, after how long the step before it took.
STEP_STARTED=
step() {
  [ -z "$STEP_STARTED" ] || printf '(%s s)\n' "$((SECONDS - STEP_STARTED))"
  STEP_STARTED=$SECONDS
  printf '\n\033[1m=== %s ===\033[0m\n' "$*"
}

# The engine's image store: containerd (Docker Desktop, new installs of Engine 29, or the
# containerd-snapshotter feature) or classic (graph drivers such as overlay2). It decides what
# `docker images` shows and whether one tag can hold several platforms.
image_store() {
  case "$(docker info --format '{{json .DriverStatus}}')" in
    *io.containerd.snapshotter*) echo containerd ;;
    *) echo classic ;;
  esac
}

# debian_tool <suite> <package> <program>: the path of a program of a Debian package: the one
# on this machine's PATH, or else the package of that suite unpacked under ~/.cache, with a
# private apt state (no sudo, nothing installed, no service started). Check-Valid-Until is off
# because unstable's Release file can be past it on a snapshot mirror.
debian_tool() {
  local suite=$1 package=$2 program=$3 folder work options
  if command -v "$program" >/dev/null; then command -v "$program"; return; fi
  folder=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/tools/$package
  if [ ! -x "$folder/usr/bin/$program" ]; then
    work=$(mktemp -d)
    chmod 755 "$work"  # apt downloads as the _apt user
    mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial"
    echo "deb $("$repo/docker/debian-mirror.sh") $suite main" > "$work/sources.list"
    options=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache" -o Acquire::Check-Valid-Until=false)
    if ! apt-get "${options[@]}" update -q >/dev/null ||
       ! (cd "$work" && apt-get "${options[@]}" download -q "$package" 2>&1 | grep -v unsandboxed >&2) ||
       ! compgen -G "$work/${package}_*.deb" >/dev/null; then
      echo "cannot download Debian $suite's $package: is the Debian mirror reachable?" >&2
      rm -rf "$work"
      return 1
    fi
    mkdir -p "$folder"
    dpkg-deb -x "$work/${package}"_*.deb "$folder"
    rm -rf "$work"
  fi
  echo "$folder/usr/bin/$program"
}

# start_registry <folder>: a throwaway registry on 127.0.0.1, storing in <folder>; sets
# REGISTRY (127.0.0.1:<port>) and REGISTRY_PID. The caller stops it and removes the folder.
start_registry() {
  local folder=$1 binary port
  # Debian's docker-registry, the Distribution project's registry, of this machine's release.
  binary=$(debian_tool "$(. /etc/os-release && echo "$VERSION_CODENAME")" docker-registry docker-registry) ||
    return 1
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
