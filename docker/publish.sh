#!/usr/bin/env bash
# Publishes each service as one multi-platform image: builds it for linux/amd64 and
# linux/arm64, pushes both, then pushes an image index naming the two under one tag, so that
# `docker pull` on either architecture gets its own. Prints each index's platforms, then pulls
# each platform back through the index and checks that it is the one asked for.
#
#   docker/publish.sh                        # to a throwaway registry on 127.0.0.1 (Debian's
#                                            # docker-registry), removed at the end
#   docker/publish.sh registry.example.com/team             # to a registry you are logged in to
#   docker/publish.sh --target runtime-distroless 127.0.0.1:5000
#
# Images: <registry>/rust-lab/<service>:<version> (the index), and one tag per platform beside
# it, <version>-amd64 and <version>-arm64. This engine keeps one platform per local tag, so the
# two platforms are built and pushed under tags of their own and `docker manifest` joins them.
# With buildx's docker-container driver, one `docker buildx build --platform
# linux/amd64,linux/arm64 --push` does all of it (.github/workflows/images.yml), but that driver
# runs BuildKit from an image that only a registry can provide.
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

PLATFORMS=(linux/amd64 linux/arm64)
target=runtime-scratch
if [ "${1:-}" = --target ]; then
  target=${2:?--target needs a target of docker/Dockerfile}
  shift 2
fi
registry=${1:-}
version=$(lab_version)
manifest_options=()

# Debian's docker-registry: the installed one, or the package's binary unpacked under ~/.cache.
# Unpacked rather than installed, so that no sudo is needed and no registry service is left
# running on the machine.
registry_binary() {
  local tools=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/tools/docker-registry download
  if command -v docker-registry; then return; fi
  if [ ! -x "$tools/usr/bin/docker-registry" ]; then
    download=$(mktemp -d)
    (cd "$download" && apt-get download -q docker-registry >&2) ||
      { echo "apt-get download docker-registry failed: run apt-get update, or give a registry" >&2; return 1; }
    dpkg-deb -x "$download"/docker-registry_*.deb "$tools"
    rm -rf "$download"
  fi
  echo "$tools/usr/bin/docker-registry"
}

if [ -z "$registry" ]; then
  registry_command=$(registry_binary)
  work=$(mktemp -d)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$work/config.yml" <<CONFIG
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
CONFIG
  "$registry_command" serve "$work/config.yml" > "$work/registry.log" 2>&1 &
  registry_pid=$!
  # `|| true`: errexit holds in traps too, and the registry ends with the status of SIGTERM.
  trap 'kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
  for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/v2/" && break
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:$port/v2/" ||
    { echo "the throwaway registry did not start:" >&2; cat "$work/registry.log" >&2; exit 1; }
  registry=127.0.0.1:$port
  # Plain HTTP: the engine allows it for 127.0.0.0/8, `docker manifest` only when told.
  manifest_options=(--insecure)
  echo "throwaway registry on $registry (Debian's docker-registry), removed at the end"
fi

failures=0
for service in "${SERVICES[@]}"; do
  index=$registry/rust-lab/$service:$version
  step "$index: $target for ${PLATFORMS[*]}"
  images=()
  for platform in "${PLATFORMS[@]}"; do
    image=$index-${platform#*/}
    lab_build docker/Dockerfile "$target" "$service" "$image" --platform "$platform" --quiet >/dev/null
    docker push --quiet "$image" >/dev/null
    echo "pushed $image"
    images+=("$image")
  done
  docker manifest rm "$index" >/dev/null 2>&1 || true  # a list left by an earlier run
  docker manifest create "${manifest_options[@]}" "$index" "${images[@]}" >/dev/null
  digest=$(docker manifest push "${manifest_options[@]}" --purge "$index")
  echo "pushed the index $index ($digest):"
  docker manifest inspect "${manifest_options[@]}" "$index" | python3 -c '
import json, sys
for entry in json.load(sys.stdin)["manifests"]:
    platform, digest = entry["platform"], entry["digest"]
    print("  {os}/{architecture}".format(**platform), digest)'

  # Pulled through the index, each platform must come back as itself.
  for platform in "${PLATFORMS[@]}"; do
    docker pull --quiet --platform "$platform" "$index" >/dev/null
    got=$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$index")
    if [ "$got" = "$platform" ]; then
      echo "  docker pull --platform $platform: $got"
    else
      echo "  FAIL: docker pull --platform $platform gave $got" >&2
      failures=$((failures + 1))
    fi
  done
  docker rmi "$index" "${images[@]}" >/dev/null
done

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "published ${#SERVICES[@]} multi-platform images to $registry"
