#!/usr/bin/env bash
# Builds the three static (musl) binaries under several release profiles and prints their
# sizes, then what each profile costs in speed: db-service's POST /hits/x req/s against a
# throwaway Redis on loopback (oha, 50 connections, bounded in requests; the median of 3
# interleaved rounds). Together they choose the workspace's [profile.release]. Each profile
# builds into its own target folder under $PROFILES_TARGET (default /tmp/release-profiles):
# expect ~5 min per profile. Needs musl-tools, redis-server and oha (bench/run.py installs it).
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
command -v redis-server >/dev/null || { echo "redis-server is missing: apt-get install redis-server" >&2; exit 1; }
command -v oha >/dev/null || { echo "oha is missing: cargo install --locked oha@1.16.0" >&2; exit 1; }

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

# --- speed: the same db-service under each profile, against one Redis ---------------------
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null &
redis_pid=$!
service_pid=
trap 'kill $service_pid $redis_pid 2>/dev/null || true' EXIT

# Prints the req/s of one oha run against the profile's db-service, started and stopped here.
requests_per_second() {
  local port
  port=$(free_port)
  PORT=$port REDIS_URL="redis://127.0.0.1:$redis_port" RUST_LOG=warn \
    "$root/$1/$target/release/db-service" >/dev/null 2>&1 &
  service_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
  oha -n 2000 -c 50 --no-tui -m POST "http://127.0.0.1:$port/hits/x" >/dev/null  # warm-up
  oha -n 50000 -c 50 --no-tui --output-format json -m POST "http://127.0.0.1:$port/hits/x" |
    python3 -c 'import json, sys; print(round(json.load(sys.stdin)["summary"]["requestsPerSec"]))'
  kill "$service_pid"; wait "$service_pid" 2>/dev/null || true
}

# Rounds interleave the profiles so that a slow minute of a shared machine hits them all.
declare -A rounds=()
for round in 1 2 3; do
  for name in "${names[@]}"; do rounds[$name]+="$(requests_per_second "$name") "; done
done
printf '\n| profile | db-service POST /hits/x, req/s (median) | each round |\n| --- | ---: | --- |\n'
for name in "${names[@]}"; do
  read -r -a each <<<"${rounds[$name]}"
  median=$(printf '%s\n' "${each[@]}" | sort -n | sed -n 2p)
  printf '| %s | %s | %s |\n' "$name" "$median" "${each[*]}"
done
