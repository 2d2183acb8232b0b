#!/usr/bin/env bash
# The lab on the oldest Docker Engine it supports: 26.1 with the classic image store (Debian
# 13's docker.io, with its Compose 2.26 and buildx 0.13), run in a Docker-in-Docker node
# (docker/engine/node.sh) so that it leaves this machine's own engine alone. From a copy of
# the working tree, it runs what a learner on that engine runs:
#   1. the README's first command: the development stack, up and serving its page;
#   2. the README's second command: the test suite inside a build;
#   3. docker/check-images.sh: the scratch images, their size in this store's `docker images`;
#   4. docker/e2e.sh prod: the production stack end to end.
# Then it removes the node, its volumes and the copy.
#
#   checks/older-engine.sh               # Engine 26.1 (trixie), classic store
#   OLDER_ENGINE_SUITE=bookworm ...      # another Debian suite's engine (untested)
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/../docker/lib.sh"

suite=${OLDER_ENGINE_SUITE:-trixie}
node=lab-older-engine-$$
copy=$(mktemp -d "${TMPDIR:-/tmp}/lab-older-engine.XXXXXX")
cleanup() {
  docker/engine/node.sh remove "$node"
  rm -rf "$copy"
}
trap cleanup EXIT
cd "$repo"

step "the node: Debian $suite's Docker Engine, classic image store"
docker/engine/node.sh image "$suite" >/dev/null
# The working tree as Git sees it (tracked and new files, not ignored ones), at a path that is
# the same inside the node, so that the dev stack's bind mount finds the source.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
  tar --null -T - -c | tar -x -C "$copy"
docker/engine/node.sh start "$node" "$suite" --env DOCKER_STORE=classic \
  --volume "$copy:$copy" --workdir "$copy"
in_node() { docker exec --workdir "$copy" "$node" bash -c "$1"; }
echo "engine $(in_node "docker version --format '{{.Server.Version}}'"), $(in_node 'docker compose version')"
# The registry-free stand-ins come from this machine's engine: what the node would pull from
# a registry. Nothing else crosses over; every image of the lab is built in the node.
bases=()
for name in $(catalogue base 2); do
  [[ ${!name} == lab-offline/* ]] && bases+=("${!name}")
done
if [ ${#bases[@]} -gt 0 ]; then
  # This machine's platform only: the classic store keeps one platform per tag.
  docker save --platform "$(docker_platform)" "${bases[@]}" |
    docker exec -i "$node" docker load --quiet >/dev/null
  echo "loaded the registry-free stand-ins: ${bases[*]}"
fi

timed() {  # timed <what> <command in the node>
  local started=$SECONDS
  step "$1"
  if ! in_node "$2"; then
    # What the containers said: a service that exited names its cause only in its log.
    in_node 'for file in docker-compose.yml docker-compose.prod.yml; do
               docker compose -f "$file" logs --no-color --tail 40 2>/dev/null; done' >&2 || true
    return 1
  fi
  echo "($1: $((SECONDS - started)) s)"
}
mapfile -t readme < <(checks/readme-commands.sh)
timed "README, command 1: ${readme[0]}" \
  "${readme[0]} && curl -fsS -o /dev/null -w 'GET http://localhost:8030/: %{http_code}\n' http://localhost:8030/ &&
   docker compose down --volumes"
timed "README, command 2: ${readme[1]}" "${readme[1]}"
timed "docker/check-images.sh" docker/check-images.sh
timed "docker/e2e.sh prod" 'docker/e2e.sh prod --down'
step "Docker $(in_node "docker version --format '{{.Server.Version}}'"), classic store: every check passed"
