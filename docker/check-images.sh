#!/usr/bin/env bash
# Builds the production images and checks what production needs from them:
#   size       each scratch image within 2.5 MB uncompressed (the others add their base to
#              it); and the size `docker images` shows on this engine's image store is the
#              one docs/image-sizes.json quotes for that store, within 2 %
#   port       exposes its service's own port (the catalogue's), built with no PORT given, and
#              listens on it
#   user       runs as uid 65532, never root
#   health     Docker's HEALTHCHECK (the binary's own self-probe) turns healthy
#   /health    answers over HTTP from a hardened container (read-only, no capabilities)
#   stop       `docker stop` takes under a second and the exit is clean (status 0, no SIGKILL)
#   platform   with --platform: the image and its binary are for that platform
# The services run on a Docker network this script creates, with PostgreSQL and Redis, and
# publish only on 127.0.0.1. Everything it starts is removed at the end.
#
#   docker/check-images.sh                                        # runtime-scratch
#   docker/check-images.sh runtime-distroless
#   docker/check-images.sh runtime-scratch --platform linux/arm64 # under emulation
#
# Another platform than the machine's runs under emulation (docker/arm64-emulation.sh sets it
# up): slower, so its stop may take up to 3 s. Its images are tagged with the architecture,
# lab/<service>:scratch-arm64, beside the machine's own.
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

variant=${1:-runtime-scratch}
platform=
if [ "${2:-}" = --platform ]; then
  platform=${3:?--platform needs a platform, such as linux/arm64}
fi
budget=2500000
stop_budget_ms=1000
tag_suffix=
platform_options=()
if [ -n "$platform" ]; then
  platform_options=(--platform "$platform")
  if [ "$platform" != "$(docker_platform)" ]; then
    stop_budget_ms=3000
    tag_suffix=-${platform#*/}
    docker/arm64-emulation.sh --check
  fi
fi
run=lab-check-$$
failures=0

cleanup() {
  docker rm -f --volumes "$run-postgres" "$run-redis" "${SERVICES[@]/#/$run-}" >/dev/null 2>&1 || true
  docker network rm "$run" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "build the $variant images"
# Each build's log is kept until it succeeds: --quiet would hide the output of the step that
# failed (a download's error, say), and only its exit status would be left.
build_log=$(mktemp)
for service in "${SERVICES[@]}"; do
  echo "building $service"
  if ! lab_build docker/Dockerfile "$variant" "$service" "lab/$service:${variant#runtime-}$tag_suffix" \
    "${platform_options[@]}" --progress=plain >"$build_log" 2>&1; then
    tail -n 60 "$build_log" >&2
    rm -f "$build_log"
    exit 1
  fi
done
rm -f "$build_log"

step "start them with PostgreSQL and Redis on network $run"
docker network create "$run" >/dev/null
docker run -d --name "$run-postgres" --network "$run" --network-alias postgres \
  -e POSTGRES_USER=tasks -e POSTGRES_PASSWORD=check -e POSTGRES_DB=tasks "$POSTGRES_IMAGE" >/dev/null
docker run -d --name "$run-redis" --network "$run" --network-alias redis "$REDIS_IMAGE" >/dev/null
start_service() {
  local service=$1
  shift
  docker run -d --name "$run-$service" --network "$run" --network-alias "$service" \
    --read-only --cap-drop ALL --security-opt no-new-privileges:true \
    --publish "127.0.0.1::$(service_port "$service")" "${platform_options[@]}" "$@" \
    "lab/$service:${variant#runtime-}$tag_suffix" >/dev/null
}
start_service api-service -e DATABASE_URL=postgres://tasks:check@postgres/tasks
start_service db-service -e REDIS_URL=redis://redis:6379
start_service web-service -e API_URL=http://api-service:8000 -e COUNTER_URL=http://db-service:8001

fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }
fact() { python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$facts" "$1"; }
store=$(image_store)
# documented_size_problem <service> <variant> <store> <bytes shown>: says what is wrong when
# `docker images` shows a size more than 2 % away from the one the docs quote for this store.
documented_size_problem() {
  python3 - "$@" "$repo/docs/image-sizes.json" <<'PYTHON'
import json, sys
service, variant, store, shown, path = sys.argv[1:]
sizes = json.load(open(path))
row = next((r for r in sizes["images"] if r["service"] == service and r["variant"] == variant), None)
if row is None:
    sys.exit(f"docs/image-sizes.json has no {variant} of {service}")
documented = row["uncompressed"] if store == "classic" else row["shown"] if sizes["store"] == store else None
if documented is None:
    sys.exit(0)  # measured on the other store: nothing quoted for this one
if abs(int(shown) - documented) > 0.02 * documented:
    sys.exit(f"docker images shows {int(shown) / 1e6:.2f} MB for the {variant} image of {service} on the "
             f"{store} store, docs/image-sizes.json quotes {documented / 1e6:.2f} MB: measure again with "
             "docker/compare-sizes.py --out docs and update the docs that quote it")
PYTHON
}

step "check each image"
report=$'| service | image | uncompressed | docker images | user | health | /health | docker stop | exit |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
for service in "${SERVICES[@]}"; do
  image="lab/$service:${variant#runtime-}$tag_suffix"
  container="$run-$service"
  echo "$service"

  if [ -n "$platform" ]; then
    built=$(docker image inspect --format '{{.Os}}/{{.Architecture}}' "$image")
    [ "$built" = "$platform" ] || fail "$image is for $built, not $platform"
    machine=$(binary_machine "$image")
    [ "$machine" = "$(elf_machine "$platform")" ] || fail "$image's /service is built for $machine"
  fi

  exposed=$(docker image inspect --format '{{range $port, $_ := .Config.ExposedPorts}}{{$port}} {{end}}' "$image")
  [ "$exposed" = "$(service_port "$service")/tcp " ] ||
    fail "$image exposes '$exposed', not $service's port $(service_port "$service")/tcp"

  facts=$(docker/compare-sizes.py --facts "$image" ${platform:+--platform "$platform"})
  bytes=$(fact uncompressed)
  size=$(awk -v b="$bytes" 'BEGIN { printf "%.2f MB", b / 1000000 }')
  shown=$(docker image ls --format '{{.Size}}' "$image")
  if [ "$variant" = runtime-scratch ] && [ "$bytes" -gt "$budget" ]; then
    fail "$image is $size uncompressed, over the 2.5 MB budget"
  fi
  if [ -z "$platform" ] || [ "$platform" = "$(docker_platform)" ]; then
    problem=$(documented_size_problem "$service" "$variant" "$store" "$(fact shown)" 2>&1) || fail "$problem"
  fi

  health=healthy
  wait_healthy "$container" 90 || { health=unhealthy; fail "$container never turned healthy"; }

  address=$(docker port "$container" "$(service_port "$service")/tcp" | head -n 1)
  # Healthy includes "waiting" for a database still starting next door (shared/src/health/warm_up.rs);
  # the check wants the service serving.
  deadline=$((SECONDS + 60))
  until answer=$(curl -s -m 5 "http://$address/health" || true)
    [ "$answer" = '{"status":"ok"}' ] || [ $SECONDS -ge $deadline ]; do
    sleep 1
  done
  [ "$answer" = '{"status":"ok"}' ] || fail "GET /health on $container answered '$answer'"

  check_user_and_stop "$container" "$stop_budget_ms" || failures=$((failures + 1))

  report+=$'\n'"| $service | $image | $size | $shown | $CHECKED_UIDS | $health | $answer | $STOP_MS ms | $EXIT_CODE |"
done

step "result"
echo "$report"
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
