#!/usr/bin/env bash
# Known vulnerabilities, against the RustSec advisory database snapshot (no network):
#   lockfile   `cargo audit` on Cargo.lock, ignoring only what .cargo/audit.toml lists (with why)
#   ignores    the crate of each ignored advisory is compiled by no build (`cargo tree -i`)
#   binaries   each production binary embeds its dependency list (section .dep-v0, written by
#              cargo-auditable), `cargo audit bin` passes, and no ignored crate's code is in it
# The snapshot is $ADVISORY_DB, or ../shared/advisory-db beside the repository; it is copied
# to a temporary folder first, since cargo audit writes next to the database it reads.
#
#   checks/audit.sh                  # lockfile and ignores
#   checks/audit.sh --images         # and the binaries of the lab/<service>:scratch images
#                                    # (docker/check-images.sh builds them), and of the
#                                    # :scratch-arm64 ones where they exist
#   checks/audit.sh --sbom sbom.json # and the packages a CycloneDX SBOM names (docker/sbom.py's,
#                                    # or one taken from an image's attestation)
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_AUDIT_VERSION=0.22.2
source_db=${ADVISORY_DB:-$(pwd)/../shared/advisory-db}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

if [ ! -d "$source_db/crates" ]; then
  echo "No advisory database at $source_db. Where the network allows, \`cargo install" \
    "cargo-audit --locked\` and a first \`cargo audit\` fetch it to ~/.cargo/advisory-db: then" \
    "run ADVISORY_DB=~/.cargo/advisory-db $0. (The checks never fetch it themselves, so that" \
    "a run is reproducible.)" >&2
  exit 1
fi
cp -r "$source_db" "$work/advisory-db"
chmod -R u+w "$work/advisory-db"
db=$work/advisory-db
echo "advisory database: $(cat "$db/SNAPSHOT" 2>/dev/null || echo "$source_db (no SNAPSHOT file)")"

if ! cargo audit --version 2>/dev/null | grep -q "$CARGO_AUDIT_VERSION"; then
  cargo install --locked --quiet "cargo-audit@$CARGO_AUDIT_VERSION"
fi
audit() { cargo audit --db "$db" --no-fetch --deny warnings "$@"; }

printf '\n--- Cargo.lock\n'
audit || fail "cargo audit found advisories in Cargo.lock"

printf '\n--- ignored advisories stay out of every build\n'
ignored=$(sed -n 's/^ *"\(RUSTSEC-[0-9]*-[0-9]*\)",.*/\1/p' .cargo/audit.toml)
ignored_crates=()
for id in $ignored; do
  advisory=$(find "$db/crates" -name "$id.md" | head -n 1)
  [ -n "$advisory" ] || { fail "$id is ignored but not in the database"; continue; }
  crate=$(basename "$(dirname "$advisory")")
  ignored_crates+=("$crate")
  compiled=$(cargo tree --workspace --locked -i "$crate" --target all -e all 2>/dev/null || true)
  if [ -n "$compiled" ]; then
    fail "$id is ignored, but $crate is compiled:"$'\n'"$compiled"
  else
    echo "ok: $id ($crate) is in Cargo.lock but no build compiles it"
  fi
done

# dependency_count <binary>: how many packages the binary's .dep-v0 section lists.
dependency_count() {
  python3 -c 'import sys; sys.path.insert(0, "docker"); import lib; print(len(lib.dependency_list(sys.argv[1])))' "$1"
}

if [ "${1:-}" = --images ]; then
  # shellcheck source=docker/lib.sh
  . docker/lib.sh
  printf '\n--- production binaries\n'
  images=()
  for service in api-service db-service web-service; do
    images+=("lab/$service:scratch")
    # The arm64 images that `docker/check-images.sh runtime-scratch --platform linux/arm64` built.
    if docker image inspect "lab/$service:scratch-arm64" >/dev/null 2>&1; then
      images+=("lab/$service:scratch-arm64")
    fi
  done
  for image in "${images[@]}"; do
    binary=$work/$(basename "$image" | tr : -)
    copy_service_binary "$image" "$binary"
    if ! packages=$(dependency_count "$binary"); then
      fail "$image has no .dep-v0 section: it was not built with cargo auditable"
      continue
    fi
    echo "ok: $image embeds its dependency list (.dep-v0: $packages packages)"
    # cargo-auditable takes the list from `cargo metadata`, which also names crates the build
    # left out (rust-lang/cargo#10718): the ignore applies here too, so check that the ignored
    # crates' code is really absent. Compiled code carries its crate's source path in panic
    # locations (e.g. "sqlx-postgres-0.8.6/src/..."); none may name an ignored crate.
    for crate in "${ignored_crates[@]}"; do
      if strings "$binary" | grep -q "/$crate-[0-9][^/]*/src/"; then
        fail "$image contains code of $crate, whose advisory is ignored"
      fi
    done
    audit bin "$binary" || fail "cargo audit bin found advisories in $image"
  done
fi

if [ "${1:-}" = --sbom ]; then
  sbom=${2:?--sbom needs a CycloneDX JSON file}
  printf '\n--- the packages of %s\n' "$sbom"
  # cargo audit reads lock files: the SBOM's crates.io packages, written as one.
  python3 - "$sbom" > "$work/sbom.lock" <<'PYTHON'
import json, sys
bom = json.load(open(sys.argv[1]))
print("version = 4")
for component in bom["components"]:
    # crates.io packages only: the workspace's own crates carry a redacted download URL.
    if component.get("purl", "").startswith("pkg:cargo/") and "download_url=" not in component["purl"]:
        print(f'\n[[package]]\nname = "{component["name"]}"\nversion = "{component["version"]}"\n'
              'source = "registry+https://github.com/rust-lang/crates.io-index"')
PYTHON
  audit --file "$work/sbom.lock" || fail "cargo audit found advisories in the packages of $sbom"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures audit check(s) failed" >&2
  exit 1
fi
echo "no known vulnerability in what the workspace compiles"
