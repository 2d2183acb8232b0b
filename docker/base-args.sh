#!/usr/bin/env sh
# Prints the --build-arg options that point a build at the base images .env names (the
# registry-free stand-ins of docker/offline/build-bases.sh), and nothing without .env, when the
# Dockerfile's defaults (the public images) apply. Compose reads .env; `docker build` does not:
#
#   docker build $(docker/base-args.sh) -f docker/Dockerfile --build-arg SERVICE=api-service .
set -eu
env_file="$(dirname "$0")/../.env"
[ -f "$env_file" ] || exit 0
# Only the bases the Dockerfiles take as arguments; a value never contains a space.
grep -E '^(RUST_IMAGE|DEBIAN_IMAGE|DISTROLESS_IMAGE)=' "$env_file" | sed 's/^/--build-arg /' | tr '\n' ' '
