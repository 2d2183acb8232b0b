#!/usr/bin/env bash
# The lab guide's first Dockerfile, exactly as the guide builds it: docker/Dockerfile.minimal
# must give a scratch image of db-service that starts, counts a hit in Redis and reports healthy.
#
#   docker/check-minimal.sh
set -euo pipefail
cd "$(dirname "$0")/.."
run="lab-minimal-$$"
cleanup() {
  docker rm -f --volumes "$run-redis" "$run-service" >/dev/null 2>&1 || true
  docker network rm "$run" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# shellcheck disable=SC2046  # base-args.sh prints separate options on purpose
docker build $(docker/base-args.sh) -q -f docker/Dockerfile.minimal -t lab/db-service:minimal . >/dev/null
size=$(docker/compare-sizes.py --facts lab/db-service:minimal |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["uncompressed"])')
echo "lab/db-service:minimal: $(awk -v b="$size" 'BEGIN { printf "%.2f MB", b / 1000000 }') uncompressed," \
  "$(docker image ls --format '{{.Size}}' lab/db-service:minimal) in docker images"

docker network create "$run" >/dev/null
docker run -d --name "$run-redis" --network "$run" "$(docker/base-image.sh REDIS_IMAGE)" >/dev/null
docker run -d --name "$run-service" --network "$run" -p 127.0.0.1::8001 \
  -e REDIS_URL="redis://$run-redis:6379" lab/db-service:minimal >/dev/null
address=$(docker port "$run-service" 8001/tcp | head -n 1)
for _ in $(seq 60); do
  answer=$(curl -s -m 2 -X POST "http://$address/hits/minimal" || true)
  [ -n "$answer" ] && [[ $answer != *error* ]] && break
  sleep 0.5
done
echo "POST /hits/minimal: $answer"
[[ $answer == *'"hits":1'* ]] || { echo "FAIL: the minimal image did not count the hit" >&2; docker logs "$run-service" >&2; exit 1; }
for _ in $(seq 30); do
  health=$(docker inspect --format '{{.State.Health.Status}}' "$run-service")
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || { echo "FAIL: the minimal image is $health" >&2; exit 1; }
echo "healthy; the guide's minimal multi-stage build works"
