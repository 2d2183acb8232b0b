#!/usr/bin/env bash
# Registry-free base images. Builds, from Debian's packages, a local stand-in for every image
# this project pulls, tags them lab-offline/*, and writes .env at the repo root so that
# `docker compose` and docker/*.sh use them. Idempotent: images that exist are kept.
#
#   docker/offline/build-bases.sh                 # build what is missing, write .env
#   docker/offline/build-bases.sh --if-offline    # do nothing when Docker Hub and gcr.io answer
#   docker/offline/build-bases.sh --rebuild       # build every stand-in again
#
# Needs a Docker engine the user can reach. Only the Debian stand-in needs root (debootstrap,
# installed when missing): that step alone runs under sudo, and only when the image is missing,
# so `--if-offline` with a registry, or with the stand-ins built, never asks for a password,
# and .env belongs to the user. Remove the stand-ins, by tag, with
# `docker images --format '{{.Repository}}:{{.Tag}}' 'lab-offline/*' | xargs -r docker rmi`
# and delete .env to use the public images.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=docker/lib.sh
. "$here/../lib.sh"

suite=bookworm
DEBIAN_IMAGE=lab-offline/debian:bookworm-slim
RUST_IMAGE=lab-offline/rust:1.95-slim-bookworm
DISTROLESS_IMAGE=lab-offline/distroless-static:nonroot
POSTGRES_IMAGE=lab-offline/postgres:15-bookworm
REDIS_IMAGE=lab-offline/redis:7-bookworm
PROMETHEUS_IMAGE=lab-offline/prometheus:v3.5.0

store=$(image_store)
rebuild=false
case "${1:-}" in
  --if-offline)
    if curl -s -m 10 -o /dev/null https://registry-1.docker.io/v2/ &&
       curl -s -m 10 -o /dev/null https://gcr.io/v2/; then
      echo "Docker Hub and gcr.io answer: the public base images will be used."
      exit 0
    fi
    echo "No container registry answers: building local stand-ins for the base images." ;;
  --rebuild) rebuild=true ;;
  "") ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 2 ;;
esac

# have <image> [platform]: the image is there (for that platform, where the store holds several).
have() { [ "$rebuild" = false ] && docker image inspect ${2:+--platform "$2"} "$1" >/dev/null 2>&1; }
say() { printf '\033[1m> %s\033[0m\n' "$*"; }

# The Debian base: debootstrap's minimal system, slimmed the way debian:bookworm-slim is.
if have "$DEBIAN_IMAGE"; then
  say "$DEBIAN_IMAGE exists"
else
  say "$DEBIAN_IMAGE: debootstrap $suite (a few minutes)"
  # /usr/sbin is on root's PATH only: look there too, not to install it twice.
  if ! command -v debootstrap >/dev/null && [ ! -x /usr/sbin/debootstrap ]; then
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
  fi
  # The mirrors this machine's apt uses (DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR override them).
  mirror=$("$here/../debian-mirror.sh")
  security_mirror=$("$here/../debian-mirror.sh" --security)
  rootfs=$(mktemp -d)
  trap 'as_root rm -rf "$rootfs"' EXIT
  as_root "$here/debian-rootfs.sh" "$suite" "$rootfs" "$mirror" "$security_mirror"
  as_root tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  as_root rm -rf "$rootfs"
  trap - EXIT
fi

build() {  # build <image> <dockerfile> [--platform <platforms>] [extra files for the context...]
  local image=$1 dockerfile=$2 platform=()
  shift 2
  if [ "${1:-}" = --platform ]; then
    platform=(--platform "$2")
    shift 2
  fi
  local last_platform=""
  [ "$store" = containerd ] && [ ${#platform[@]} -gt 0 ] && last_platform=${platform[1]##*,}
  if have "$image" "$last_platform"; then
    say "$image exists"
    return
  fi
  say "$image"
  local context
  context=$(mktemp -d)
  cp "$here/$dockerfile" "$@" "$context/"
  # The build's output is kept, and shown only when it fails: it says why (a TLS error, a
  # package missing from the mirror), which a bare exit code does not.
  if ! DOCKER_BUILDKIT=1 docker build --progress=plain "${platform[@]}" \
       --build-arg DEBIAN_IMAGE="$DEBIAN_IMAGE" -f "$context/$dockerfile" -t "$image" "$context" \
       > "$context/build.log" 2>&1; then
    echo "building $image failed; the end of its output:" >&2
    tail -n 40 "$context/build.log" >&2
    rm -rf "$context"
    return 1
  fi
  rm -rf "$context"
}

# The host's CA bundle goes into a temporary build context only, never into the repository.
cp /etc/ssl/certs/ca-certificates.crt "${TMPDIR:-/tmp}/host-ca-certificates.crt"
build "$RUST_IMAGE" rust.Dockerfile "${TMPDIR:-/tmp}/host-ca-certificates.crt"
rm -f "${TMPDIR:-/tmp}/host-ca-certificates.crt"
# The distroless-style base is files only, so it is made for both platforms: BuildKit takes a
# local image for a build of another platform only when the tag holds that platform
# (otherwise it asks a registry). The containerd image store keeps both under one tag. The
# classic store keeps one platform per tag, so there the other platform gets a tag of its own,
# with its architecture, which docker/lib.sh picks for such builds. There is no Debian
# stand-in for the other platform: runtime-debian for it needs the public image.
if [ "$store" = containerd ]; then
  build "$DISTROLESS_IMAGE" distroless.Dockerfile --platform linux/amd64,linux/arm64
else
  build "$DISTROLESS_IMAGE" distroless.Dockerfile
  other_arch=$(case "$(docker version --format '{{.Server.Arch}}')" in arm64) echo amd64 ;; *) echo arm64 ;; esac)
  build "$DISTROLESS_IMAGE-$other_arch" distroless.Dockerfile --platform "linux/$other_arch"
fi
build "$POSTGRES_IMAGE" postgres.Dockerfile "$here/postgres-entrypoint.sh"
build "$REDIS_IMAGE" redis.Dockerfile "$here/redis-entrypoint.sh"
build "$PROMETHEUS_IMAGE" prometheus.Dockerfile

cat > "$repo/.env" <<ENV
# Written by docker/offline/build-bases.sh on $(date -u +%Y-%m-%d): local stand-ins for the
# public base images. Compose reads this file; delete it to use the public images again.
RUST_IMAGE=$RUST_IMAGE
DEBIAN_IMAGE=$DEBIAN_IMAGE
DISTROLESS_IMAGE=$DISTROLESS_IMAGE
POSTGRES_IMAGE=$POSTGRES_IMAGE
REDIS_IMAGE=$REDIS_IMAGE
PROMETHEUS_IMAGE=$PROMETHEUS_IMAGE
ENV
say "wrote .env:"
grep -v '^#' "$repo/.env"
