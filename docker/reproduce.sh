#!/usr/bin/env bash
# Builds the same commit twice, from two clones in different folders whose files have
# different times, and compares the images bit for bit: the same per-platform manifest digest
# means the same config and the same layers. When they differ, it says which file of which
# layer differs.
#
#   docker/reproduce.sh                                 # the three services' runtime-scratch
#   docker/reproduce.sh --service db-service --target runtime-distroless
#   docker/reproduce.sh --cold                          # `docker builder prune -af` before
#                                                       # each build: nothing comes from cache
#
# Both builds use BuildKit's interface for reproducible builds: SOURCE_DATE_EPOCH, the time of
# the last commit, for every timestamp BuildKit writes (the config, the history), and
# `rewrite-timestamp=true`, which sets each file's time in the layers to it. That option
# conflicts with the engine's own image store (it unpacks the layers it writes), so the
# images go to OCI layouts, as a registry push would take them. Provenance and SBOM are off:
# they record the build itself (its time, its machine), so an index with them differs by
# design. Without --cold, the second build of each service compiles the workspace and its
# dependencies again and compresses the assets again (--no-cache-filter builder,assets), and
# takes the toolchain stages from the cache: the cheaper check CI runs (`--service db-service`).
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

services=() target=runtime-scratch platforms=linux/amd64,linux/arm64 cold=false
while [ $# -gt 0 ]; do
  case "$1" in
    --service) services+=("$2"); shift 2 ;;
    --target) target=$2; shift 2 ;;
    --platform) platforms=$2; shift 2 ;;
    --cold) cold=true; shift ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
  esac
done
[ ${#services[@]} -gt 0 ] || services=("${SERVICES[@]}")

work=$(mktemp -d "${TMPDIR:-/tmp}/lab-reproduce.XXXXXX")
trap 'rm -rf "$work"' EXIT
epoch=$(git -C "$repo" log -1 --format=%ct)
export SOURCE_DATE_EPOCH=$epoch
copies=("$work/one/lab" "$work/two/somewhere/else/lab")
for copy in "${copies[@]}"; do
  git clone --quiet "$repo" "$copy"
done
# Every file of the second clone a day older than the first: a build that copied file times
# into the image would show it.
find "${copies[1]}" -exec touch --no-dereference --date="@$((epoch - 86400))" {} +
echo "commit $(git -C "$repo" rev-parse --short HEAD), SOURCE_DATE_EPOCH=$epoch ($(date -u -d "@$epoch" +%FT%TZ))"

# build <copy> <service> <layout> [more docker build options...]: as docker/publish.sh builds
# (lab_build: the same arguments and labels), so the digests compare with a published index's.
build() {
  local copy=$1 service=$2 layout=$3
  shift 3
  # compare-layouts.py checks that every blob is there, whole, despite SHARED_LAYER_RACE.
  LAB_CONTEXT=$copy lab_build docker/Dockerfile "$target" "$service" "rust-lab/$service:reproduce" \
    --platform "$platforms" --provenance=false --sbom=false --quiet \
    --output "type=oci,dest=$layout,tar=false,rewrite-timestamp=true" "$@" \
    2> >(grep -v "$SHARED_LAYER_RACE" >&2) >/dev/null
}

failures=0
for service in "${services[@]}"; do
  step "$service, $target, $platforms: two builds"
  for number in 0 1; do
    options=()
    if [ "$cold" = true ]; then
      docker builder prune -af >/dev/null
    elif [ "$number" = 1 ]; then
      options=(--no-cache-filter builder,assets)
    fi
    started=$SECONDS
    build "${copies[$number]}" "$service" "$work/$service-$number" "${options[@]}"
    echo "build $((number + 1)) from ${copies[$number]}: $((SECONDS - started)) s"
  done
  if ! python3 "$repo/docker/compare-layouts.py" "$work/$service-0" "$work/$service-1"; then
    failures=$((failures + 1))
  fi
done
[ "$failures" -eq 0 ] || { echo "$failures image(s) differ between the two builds" >&2; exit 1; }
echo "every image is the same, bit for bit, from both clones"
