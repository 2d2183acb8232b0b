#!/usr/bin/env bash
# Lets this amd64 machine run arm64 binaries, in containers too, to check the arm64 images:
# Debian's qemu-user-static, registered with the kernel's binfmt_misc. Its `F` flag makes the
# kernel open the emulator once, at registration, so a container needs no emulator inside.
# Only running is emulated: the images' binaries are cross-compiled (docker/Dockerfile).
#
#   docker/arm64-emulation.sh          # set it up (root, or sudo): install, mount, register
#   docker/arm64-emulation.sh --check  # only say whether it is set up, and how if not
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

binfmt=/proc/sys/fs/binfmt_misc
entry=$binfmt/qemu-aarch64

registered() { [ -f "$entry" ] && grep -q '^enabled' "$entry" && grep -q '^flags:.*F' "$entry"; }

if registered; then
  echo "arm64 emulation: $(sed -n 's/^interpreter //p' "$entry") is registered with binfmt_misc"
  exit 0
fi
if [ "${1:-}" = --check ]; then
  echo "arm64 binaries cannot run here: no qemu-aarch64 entry with the F flag in $binfmt." >&2
  echo "Set it up with docker/arm64-emulation.sh (as root, or with sudo)." >&2
  exit 1
fi

if [ ! -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-user-static
fi
# In a container or a minimal VM, nothing has mounted binfmt_misc yet.
[ -f "$binfmt/register" ] || as_root mount -t binfmt_misc binfmt_misc "$binfmt"
# The package's own registration runs through systemd, which such a machine may not run: the
# line in its binfmt.d file is what the kernel's register file takes.
[ -f "$entry" ] || as_root sh -c "cat /usr/lib/binfmt.d/qemu-aarch64.conf > $binfmt/register"
registered || { echo "qemu-aarch64 did not register with the F flag: see $entry" >&2; exit 1; }
echo "arm64 emulation: registered $(sed -n 's/^interpreter //p' "$entry")"
