#!/usr/bin/env sh
# Prints the image the lab uses for a base, the one .env names (the registry-free stand-ins of
# docker/offline/build-bases.sh) or else the public one, for the guide's `docker run` commands:
#
#   docker run -d --name lab-redis "$(docker/base-image.sh REDIS_IMAGE)"
set -eu
case "${1:-}" in
  RUST_IMAGE) public=rust:1.95-slim-bookworm ;;
  DEBIAN_IMAGE) public=debian:bookworm-slim ;;
  DISTROLESS_IMAGE) public=gcr.io/distroless/static-debian12:nonroot ;;
  POSTGRES_IMAGE) public=postgres:15-bookworm ;;
  REDIS_IMAGE) public=redis:7-bookworm ;;
  *) echo "usage: $0 RUST_IMAGE|DEBIAN_IMAGE|DISTROLESS_IMAGE|POSTGRES_IMAGE|REDIS_IMAGE" >&2; exit 2 ;;
esac
env_file="$(dirname "$0")/../.env"
local_image=$( [ -f "$env_file" ] && sed -n "s/^$1=//p" "$env_file" | tail -n 1 || true)
echo "${local_image:-$public}"
