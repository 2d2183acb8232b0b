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
# Images: <registry>/rust-lab/<service>:<version>, an index of one image per platform. On the
# containerd image store (Docker Desktop, Engine 29), one local tag holds both platforms, so one
# `docker build --platform linux/amd64,linux/arm64 --push` builds and pushes the index. The
# classic store keeps one platform per local tag: there each platform is built and pushed under
# a tag of its own (<version>-amd64, <version>-arm64) and `docker manifest` joins them.
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
# What the script leaves behind, removed at the end whatever happens: the throwaway registry,
# its folder and the local tags it made.
registry_pid="" work="" made=()
cleanup() {
  [ ${#made[@]} -eq 0 ] || docker rmi "${made[@]}" >/dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then
    # `|| true`: errexit holds in traps too, and the registry ends with the status of SIGTERM.
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null || true
  fi
  [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$registry" ]; then
  work=$(mktemp -d)
  start_registry "$work"
  registry=$REGISTRY registry_pid=$REGISTRY_PID
  # Plain HTTP: the engine allows it for 127.0.0.0/8, `docker manifest` only when told.
  manifest_options=(--insecure)
  echo "throwaway registry on $registry (Debian's docker-registry), removed at the end"
fi

store=$(image_store)

# push_index <index>: builds both platforms and pushes them as one index.
push_index() {
  local index=$1 platform images=()
  if [ "$store" = containerd ]; then
    made+=("$index")
    lab_build docker/Dockerfile "$target" "$service" "$index" \
      --platform "$(IFS=,; echo "${PLATFORMS[*]}")" --push --quiet >/dev/null
    return
  fi
  for platform in "${PLATFORMS[@]}"; do
    images+=("$index-${platform#*/}")
    made+=("$index-${platform#*/}")
    lab_build docker/Dockerfile "$target" "$service" "${images[-1]}" --platform "$platform" --quiet >/dev/null
    docker push --quiet "${images[-1]}" >/dev/null
    echo "pushed ${images[-1]}"
  done
  docker manifest rm "$index" >/dev/null 2>&1 || true  # a list left by an earlier run
  docker manifest create "${manifest_options[@]}" "$index" "${images[@]}" >/dev/null
  docker manifest push "${manifest_options[@]}" --purge "$index" >/dev/null
}

# platform_of <image> <platform>: the platform of the local image pulled for that platform.
platform_of() {
  if [ "$store" = containerd ]; then
    docker image inspect --platform "$2" --format '{{.Os}}/{{.Architecture}}' "$1"
  else
    docker image inspect --format '{{.Os}}/{{.Architecture}}' "$1"
  fi
}

failures=0
for service in "${SERVICES[@]}"; do
  index=$registry/rust-lab/$service:$version
  step "$index: $target for ${PLATFORMS[*]}"
  push_index "$index"
  # What the registry holds under the tag: an image per platform, and, where the builder
  # attached them, attestations (provenance) as entries of platform unknown/unknown.
  docker buildx imagetools inspect --raw "$index" | python3 -c '
import hashlib, json, sys
raw = sys.stdin.buffer.read()
print("pushed the index", sys.argv[1], "(sha256:" + hashlib.sha256(raw).hexdigest() + "):")
for entry in json.loads(raw)["manifests"]:
    platform = entry.get("platform", {})
    kind = entry.get("annotations", {}).get("vnd.docker.reference.type", "image")
    print("  {}/{}".format(platform.get("os"), platform.get("architecture")), entry["digest"], "" if kind == "image" else kind)
' "$index"

  # Pulled through the index, each platform must come back as itself.
  for platform in "${PLATFORMS[@]}"; do
    docker pull --quiet --platform "$platform" "$index" >/dev/null
    made+=("$index")
    got=$(platform_of "$index" "$platform")
    if [ "$got" = "$platform" ]; then
      echo "  docker pull --platform $platform: $got"
    else
      echo "  FAIL: docker pull --platform $platform gave $got" >&2
      failures=$((failures + 1))
    fi
  done
done

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "published ${#SERVICES[@]} multi-platform images to $registry"
