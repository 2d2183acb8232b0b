#!/usr/bin/env bash
# Why docker/Dockerfile cross-compiles instead of building under emulation, in one figure:
# the same rustc 1.95 compiles the same crate for aarch64, once as this machine's own x86_64
# binary and once as the aarch64 rustc running under qemu-user, which is what an arm64 build
# stage (`FROM rust` without --platform=$BUILDPLATFORM) does on an amd64 machine.
#
#   bench/emulated-compile.sh [runs]     # default 3 runs of each; prints the times
#
# The crate is regex-syntax, at the version in Cargo.lock: one rustc call (no build script, no
# C), compiled as cargo's release profile does (opt-level 3). Needs qemu-user-static registered
# (docker/arm64-emulation.sh) and, for the emulated rustc, arm64 glibc and zlib: installs
# Debian's arm64 cross libraries with sudo when missing and unpacks zlib under ~/.cache.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
toolchain=$(rustc --version | awk '{print $2}')
cache=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/emulated-compile
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

docker/arm64-emulation.sh --check

# The aarch64 toolchain, as an aarch64 program; rustup installs it beside the native one.
rustup toolchain install "$toolchain-aarch64-unknown-linux-gnu" --force-non-host --profile minimal >&2
rustup target add --toolchain "$toolchain" aarch64-unknown-linux-gnu >&2
if [ ! -e /usr/aarch64-linux-gnu/lib/libc.so.6 ]; then
  as_root apt-get install -y -q --no-install-recommends \
    libc6-arm64-cross libstdc++6-arm64-cross libgcc-s1-arm64-cross >&2
fi
zlib_dir=$cache/zlib
if [ ! -e "$zlib_dir/lib/aarch64-linux-gnu/libz.so.1" ]; then
  # Same version as the machine's own zlib1g; the pool's file name drops the epoch.
  zlib_version=$(dpkg-query -W -f='${Version}' zlib1g)
  mkdir -p "$cache"
  curl -fsSL -o "$cache/zlib.deb" \
    "$(docker/debian-mirror.sh)/pool/main/z/zlib/zlib1g_${zlib_version#*:}_arm64.deb"
  dpkg-deb -x "$cache/zlib.deb" "$zlib_dir"
fi

cargo fetch --locked >&2
version=$(awk '/^name = "regex-syntax"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
source=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"regex-syntax-$version" | head -1)
[ -f "$source/src/lib.rs" ] || { echo "regex-syntax $version is not in cargo's registry" >&2; exit 1; }

# Its default features, as cargo passes them.
features=()
for feature in default std unicode unicode-age unicode-bool unicode-case unicode-gencat \
  unicode-perl unicode-script unicode-segment; do
  features+=(--cfg "feature=\"$feature\"")
done

compile() { # <toolchain> <out dir>
  rm -rf "$2" && mkdir -p "$2"
  local start end
  start=$(date +%s.%N)
  rustc "+$1" --edition 2021 --crate-name regex_syntax --crate-type lib \
    --target aarch64-unknown-linux-gnu -C opt-level=3 -C codegen-units=16 \
    "${features[@]}" \
    --out-dir "$2" "$source/src/lib.rs"
  end=$(date +%s.%N)
  awk -v start="$start" -v end="$end" 'BEGIN { print end - start }'
}

echo "rustc $toolchain compiling regex-syntax $version for aarch64 ($(date -u +%F), $(nproc) cores)"
for run in $(seq "$runs"); do
  native=$(compile "$toolchain" "$cache/native")
  emulated=$(QEMU_LD_PREFIX=/usr/aarch64-linux-gnu \
    LD_LIBRARY_PATH="$zlib_dir/lib/aarch64-linux-gnu" \
    compile "$toolchain-aarch64-unknown-linux-gnu" "$cache/emulated")
  printf 'run %s: native x86_64 rustc %.1f s, aarch64 rustc under qemu-user %.1f s (%.0fx)\n' \
    "$run" "$native" "$emulated" "$(awk -v a="$emulated" -v b="$native" 'BEGIN { print a / b }')"
done
