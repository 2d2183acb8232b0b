#!/usr/bin/env bash
# Prints the --build-arg options that point a build at the base images .env names (the
# registry-free stand-ins of docker/offline/build-bases.sh), and nothing without .env, when the
# Dockerfile's defaults (the public images) apply. Compose reads .env; `docker build` does not:
#
#   docker build $(docker/base-args.sh) -f docker/Dockerfile --build-arg SERVICE=api-service .
set -euo pipefail
# lib.sh reads .env, as every other script does. A value never contains a space.
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"
[ -f "$repo/.env" ] || exit 0
for name in RUST_IMAGE DEBIAN_IMAGE DISTROLESS_IMAGE; do
  printf -- '--build-arg %s=%s ' "$name" "${!name}"
done
