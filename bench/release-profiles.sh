#!/usr/bin/env bash
# Builds the three static (musl) binaries under several release profiles and prints their
# sizes, to choose the workspace's [profile.release]. Each profile builds into its own target
# folder under $PROFILES_TARGET (default /tmp/release-profiles): expect ~5 min per profile.
#
#   bench/release-profiles.sh            # all profiles
#   bench/release-profiles.sh s-fat z-fat
set -euo pipefail
cd "$(dirname "$0")/.."

target=x86_64-unknown-linux-musl
root=${PROFILES_TARGET:-/tmp/release-profiles}
rustup target list --installed | grep -qx "$target" || rustup target add "$target"
# mimalloc, the services' allocator, is C: the musl target needs musl's compiler wrapper.
command -v musl-gcc >/dev/null || { echo "musl-gcc is missing: apt-get install musl-tools" >&2; exit 1; }

# name: opt-level lto codegen-units strip
declare -A profiles=(
  [default]="3 false 16 none"
  [3-thin]="3 thin 16 symbols"
  [3-fat]="3 fat 1 symbols"
  [s-fat]="s fat 1 symbols"
  [z-fat]="z fat 1 symbols"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(default 3-thin 3-fat s-fat z-fat)

printf '| profile | opt-level | lto | codegen-units | strip | api-service | db-service | web-service | build |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
for name in "${names[@]}"; do
  read -r opt lto units strip <<<"${profiles[$name]}"
  started=$SECONDS
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt CARGO_PROFILE_RELEASE_LTO=$lto \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=$units CARGO_PROFILE_RELEASE_STRIP=$strip \
  CARGO_PROFILE_RELEASE_PANIC=unwind \
    cargo build --quiet --release --locked --target "$target" --target-dir "$root/$name" \
      -p api-service -p db-service -p web-service
  sizes=()
  for service in api-service db-service web-service; do
    bytes=$(stat -c %s "$root/$name/$target/release/$service")
    sizes+=("$(awk -v b="$bytes" 'BEGIN { printf "%.2f MB", b / 1000000 }')")
  done
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %d s |\n' \
    "$name" "$opt" "$lto" "$units" "$strip" "${sizes[@]}" $((SECONDS - started))
done
