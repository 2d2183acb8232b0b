#!/usr/bin/env bash
# Installs the Docker Engine of one Debian suite into a folder of its own, from Debian's
# packages and nothing else: dockerd, the docker CLI, containerd, runc, docker-init (tini) and
# the buildx and Compose plugins. The packages are downloaded with a private apt state and
# unpacked, not installed, so the machine's own packages stay as they are.
#
#   docker/engine/install.sh unstable /usr/local/lib/docker-engine   # Engine 28.5, Compose 2.40
#   docker/engine/install.sh trixie /usr/local/lib/docker-engine     # Engine 26.1, Compose 2.26
#
# The folder gets bin/ (every program, the CLI plugins under libexec/docker/cli-plugins) and
# lib/. Most of these programs need only the C library of Debian 12 (2.34 or older); the ones
# that were linked against a newer one (runc, in unstable) are pointed at the suite's own C
# library, copied into lib/ (patchelf sets their loader and library path), so nothing of the
# machine is upgraded. start.sh runs the daemons. Takes the mirror of this machine's apt
# sources (docker/debian-mirror.sh). Needs root for apt-get, once, for patchelf and iptables.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
suite=${1:?usage: $0 <debian suite: unstable, trixie...> <folder>}
prefix=${2:?usage: $0 <debian suite> <folder>}

PACKAGES=(docker.io docker-cli docker-buildx docker-compose containerd runc)
# libc6 and libseccomp2: what a program linked against the suite's newer C library loads.
LIBRARIES=(libc6 libseccomp2)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"  # apt downloads as the _apt user

missing=()
command -v patchelf >/dev/null || missing+=(patchelf)
command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || missing+=(iptables)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The suite's package lists, in a private apt state. Check-Valid-Until off: a Release file
# past its Valid-Until date (as unstable's can be on a snapshot mirror) is still the one the
# mirror serves.
mkdir -p "$work/state/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb $("$here/../debian-mirror.sh") $suite main" > "$work/sources.list"
apt_options=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State=$work/state" -o "Dir::Cache=$work/cache"
             -o Acquire::Check-Valid-Until=false)
apt-get "${apt_options[@]}" update -q >/dev/null
# docker-init is tini's static build: its own package in newer suites, part of tini in older.
if apt-cache "${apt_options[@]}" show tini-static >/dev/null 2>&1; then tini=tini-static; else tini=tini; fi
(cd "$work/debs" && apt-get "${apt_options[@]}" download -q "${PACKAGES[@]}" "$tini" "${LIBRARIES[@]}" 2>&1 |
  grep -v 'unsandboxed' >&2 || true)

rm -rf "$prefix"
mkdir -p "$prefix/bin" "$prefix/lib" "$prefix/libexec/docker"
for package in "${PACKAGES[@]}" "$tini"; do
  dpkg-deb -x "$work"/debs/"${package}"_*.deb "$work/root"
done
for library in "${LIBRARIES[@]}"; do
  dpkg-deb -x "$work"/debs/"${library}"_*.deb "$work/libraries"
done
for program in dockerd docker-proxy runc containerd containerd-shim-runc-v2 ctr docker; do
  for folder in usr/sbin usr/bin; do
    if [ -f "$work/root/$folder/$program" ]; then
      cp "$work/root/$folder/$program" "$prefix/bin/"
      break
    fi
  done
  [ -x "$prefix/bin/$program" ] || { echo "$suite's packages have no $program" >&2; exit 1; }
done
cp "$work/root/usr/bin/tini-static" "$prefix/bin/docker-init"
cp -r "$work/root/usr/libexec/docker/cli-plugins" "$prefix/libexec/docker/"

# The newest C library version this machine's libc provides, and each program's newest need.
machine_glibc=$(ldd --version | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')
newest_need() { { objdump -T "$1" 2>/dev/null || true; } | grep -o "GLIBC_[0-9.]*" | sed "s/GLIBC_//" | sort -V | tail -n 1 || true; }
relinked=()
for program in "$prefix"/bin/* "$prefix"/libexec/docker/cli-plugins/*; do
  need=$(newest_need "$program")
  [ -n "$need" ] || continue  # static
  if [ "$(printf '%s\n%s\n' "$need" "$machine_glibc" | sort -V | tail -n 1)" != "$machine_glibc" ]; then
    relinked+=("$(basename "$program") (C library $need)")
    loader=$(basename "$(patchelf --print-interpreter "$program")")
    patchelf --set-interpreter "$prefix/lib/$loader" --set-rpath "$prefix/lib" "$program"
  fi
done
if [ ${#relinked[@]} -gt 0 ]; then
  find "$work"/libraries/usr/lib/*-linux-gnu -maxdepth 1 -name '*.so*' -exec cp -a {} "$prefix/lib/" \;
fi

version=$(dpkg-deb -f "$work"/debs/docker.io_*.deb Version)
note=
[ ${#relinked[@]} -eq 0 ] || note=" (with the suite's own C library: ${relinked[*]})"
echo "$suite: docker.io $version installed in $prefix$note"
