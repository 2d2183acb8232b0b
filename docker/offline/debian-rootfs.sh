#!/usr/bin/env bash
# The root filesystem of the Debian stand-in: debootstrap's minimal system, slimmed the way
# debian:bookworm-slim is. Run as root (debootstrap needs it) by build-bases.sh, which imports
# the result; nothing else of that script runs as root.
#
#   debian-rootfs.sh <suite> <empty folder> <mirror> <security mirror>
set -euo pipefail
suite=$1 rootfs=$2 mirror=$3 security_mirror=$4

debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >/dev/null
cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
SOURCES
# As in debian:*-slim: documentation and man pages are never installed.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
DPKG
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
rm -rf "$rootfs"/usr/share/{man,info,locale}/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
