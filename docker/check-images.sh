#!/usr/bin/env bash
# Builds the production images and checks what production needs from them:
#   size       each scratch image within 2.5 MB (the others add their base to it)
#   user       runs as uid 65532, never root
#   health     Docker's HEALTHCHECK (the binary's own self-probe) turns healthy
#   /health    answers over HTTP from a hardened container (read-only, no capabilities)
#   stop       `docker stop` takes under a second and the exit is clean (status 0, no SIGKILL)
# The services run on a Docker network this script creates, with PostgreSQL and Redis, and
# publish only on 127.0.0.1. Everything it starts is removed at the end.
#
#   docker/check-images.sh                      # runtime-scratch
#   docker/check-images.sh runtime-distroless
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

variant=${1:-runtime-scratch}
budget=2500000
run=lab-check-$$
failures=0

cleanup() {
  docker rm -f "$run-postgres" "$run-redis" "${SERVICES[@]/#/$run-}" >/dev/null 2>&1 || true
  docker network rm "$run" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "build the $variant images"
for service in "${SERVICES[@]}"; do
  echo "building $service"
  lab_build docker/Dockerfile "$variant" "$service" "lab/$service:${variant#runtime-}" --quiet >/dev/null
done

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
    --publish "127.0.0.1::$(service_port "$service")" "$@" "lab/$service:${variant#runtime-}" >/dev/null
}
start_service api-service -e DATABASE_URL=postgres://tasks:check@postgres/tasks
start_service db-service -e REDIS_URL=redis://redis:6379
start_service web-service -e API_URL=http://api-service:8000 -e COUNTER_URL=http://db-service:8001

fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }

step "check each image"
report=$'| service | image | size | user | health | /health | docker stop | exit |\n| --- | --- | --- | --- | --- | --- | --- | --- |'
for service in "${SERVICES[@]}"; do
  image="lab/$service:${variant#runtime-}"
  container="$run-$service"
  echo "$service"

  bytes=$(docker image inspect --format '{{.Size}}' "$image")
  size=$(awk -v b="$bytes" 'BEGIN { printf "%.2f MB", b / 1000000 }')
  if [ "$variant" = runtime-scratch ] && [ "$bytes" -gt "$budget" ]; then
    fail "$image is $size, over the 2.5 MB budget"
  fi

  health=healthy
  wait_healthy "$container" 90 || { health=unhealthy; fail "$container never turned healthy"; }

  address=$(docker port "$container" "$(service_port "$service")/tcp" | head -n 1)
  answer=$(curl -s -m 5 "http://$address/health" || true)
  [ "$answer" = '{"status":"ok"}' ] || fail "GET /health on $container answered '$answer'"

  check_user_and_stop "$container" || failures=$((failures + 1))

  report+=$'\n'"| $service | $image | $size | $CHECKED_UIDS | $health | $answer | $STOP_MS ms | $EXIT_CODE |"
done

step "result"
echo "$report"
if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
