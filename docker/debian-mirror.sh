#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt already uses, so that the scripts that fetch
# Debian packages outside apt (debootstrap, docker/engine/install.sh) take the same one and the
# repository names no package host. Reads the one-line (.list) and deb822 (.sources) formats.
#
#   docker/debian-mirror.sh             # the archive: the source of the release's own suites
#   docker/debian-mirror.sh --security  # the source of its -security suite
#
# DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR, when set, are printed instead, for example
# DEBIAN_MIRROR=http://<your mirror>/debian. A testing or unstable machine names its suite
# "testing", "sid" or "unstable" in its sources, not its codename (forky), and has no
# -security suite: its security mirror is the archive's sibling folder, <mirror>-security,
# where Debian's mirrors keep it.
set -euo pipefail

. /etc/os-release
codename=${VERSION_CODENAME:-sid}
case "${1:-}" in
  "") wanted="$codename $codename-updates sid unstable testing stable" override=${DEBIAN_MIRROR:-} ;;
  --security) wanted="$codename-security" override=${DEBIAN_SECURITY_MIRROR:-} ;;
  *) sed -n '7,8p' "$0" >&2; exit 2 ;;
esac
if [ -n "$override" ]; then
  echo "$override"
  exit 0
fi

sources=()
for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$file" ] && sources+=("$file")
done
[ ${#sources[@]} -gt 0 ] || { echo "no apt sources on this machine" >&2; exit 1; }

# Each source as "URI SUITE" lines: a .list line is `deb [options] URI SUITE COMPONENTS...`;
# a .sources stanza has URIs: and Suites: fields, each possibly listing several.
mirror=$(awk -v wanted=" $wanted " '
  function flush() {
    if (is_deb) for (u in uris) for (s in suites) if (index(wanted, " " suites[s] " ")) { print uris[u]; exit }
    delete uris; delete suites; is_deb = 0
  }
  FILENAME ~ /\.sources$/ {
    if (FILENAME != current) { flush(); current = FILENAME }
    if ($0 ~ /^[ \t]*$/) { flush(); next }
    if ($1 == "Types:") for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1
    if ($1 == "URIs:") for (i = 2; i <= NF; i++) uris[i] = $i
    if ($1 == "Suites:") for (i = 2; i <= NF; i++) suites[i] = $i
    next
  }
  $1 == "deb" {
    i = 2
    if ($i ~ /^\[/) while ($i !~ /\]$/) i++
    if ($i ~ /^\[/ || $i ~ /\]$/) i++
    if (index(wanted, " " $(i + 1) " ")) { print $i; exit }
  }
  END { flush() }
' "${sources[@]}" | head -n 1)
mirror=${mirror%/}
if [ -z "$mirror" ] && [ "${1:-}" = --security ] && archive=$("$0"); then
  mirror=$archive-security
fi
if [ -z "$mirror" ]; then
  echo "no apt source on this machine serves Debian's $codename suite: set DEBIAN_MIRROR" \
    "to a Debian mirror, such as DEBIAN_MIRROR=http://<your mirror>/debian" >&2
  exit 1
fi
echo "$mirror"
