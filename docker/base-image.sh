#!/usr/bin/env bash
# Prints the image the lab uses for a base, the one .env names (the registry-free stand-ins of
# docker/offline/build-bases.sh) or else the public one, for the guide's `docker run` commands:
#
#   docker run -d --name lab-redis "$(docker/base-image.sh REDIS_IMAGE)"
set -euo pipefail
# lib.sh reads .env and holds the public defaults, as for every other docker/*.sh script.
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"
case "${1:-}" in
  RUST_IMAGE | DEBIAN_IMAGE | DISTROLESS_IMAGE | POSTGRES_IMAGE | REDIS_IMAGE | PROMETHEUS_IMAGE) echo "${!1}" ;;
  *) echo "usage: $0 RUST_IMAGE|DEBIAN_IMAGE|DISTROLESS_IMAGE|POSTGRES_IMAGE|REDIS_IMAGE|PROMETHEUS_IMAGE" >&2; exit 2 ;;
esac
