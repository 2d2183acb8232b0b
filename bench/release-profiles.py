#!/usr/bin/env python3
"""Builds the three static (musl) binaries under several release profiles and prints their
sizes, then what each profile costs in speed: db-service's POST /hits/x req/s against one
throwaway Redis on loopback, with production logging (the median of interleaved rounds,
bench/run.py's load). Together they chose the workspace's two profiles: `release` (3-fat) for
db-service, `release-small` (s-fat) for api-service and web-service. Each profile is the
`release` profile of Cargo.toml with the overrides below, built into its own target folder
under $PROFILES_TARGET (default /tmp/release-profiles): expect ~5 min per profile. Needs
redis-server; installs oha, and zig with cargo-zigbuild as bench/common.py says.

    bench/release-profiles.py                  # all profiles
    bench/release-profiles.py s-fat deps-s     # some of them
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from common import (MUSL, ROOT, ensure_oha, interleaved, load, on_server_cores, servers_on_server_cores,
                    static_build)
from lib import Service, free_port, log  # noqa: E402

# The crates db-service's flame graph spends its time in (bench/profiles/).
HOT_CRATES = ("tokio", "hyper", "hyper-util", "axum", "axum-core", "http", "http-body", "bytes",
              "redis", "combine", "tracing", "tracing-core", "tracing-subscriber", "matchit",
              "serde_json", "itoa", "ryu", "memchr", "futures-util", "futures-core",
              "futures-channel", "tower", "tower-http")

# name: Cargo `--config` overrides of [profile.release]
PROFILES = {
    "default": {"lto": "false", "codegen-units": "16", "strip": '"none"'},
    "3-fat": {},
    "s-fat": {"opt-level": '"s"'},
    "z-fat": {"opt-level": '"z"'},
    "deps-s": {'package."*".opt-level': '"s"'},
    "deps-s-hot-3-bins-s": {'package."*".opt-level': '"s"', "package.api-service.opt-level": '"s"',
                            "package.web-service.opt-level": '"s"',
                            **{f"package.{crate}.opt-level": "3" for crate in HOT_CRATES}},
}
SERVICES = ("api-service", "db-service", "web-service")
ROUNDS = 3


def build(name, target_dir):
    """Builds the services under the profile; returns the seconds it took."""
    overrides = [arg for key, value in PROFILES[name].items()
                 for arg in ("--config", f"profile.release.{key}={value}")]
    started = time.monotonic()
    static_build("--release", "--target-dir", str(target_dir), *overrides,
                 *[arg for s in SERVICES for arg in ("-p", s)])
    return round(time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="*", help=f"some of {', '.join(PROFILES)} (default: all)")
    names = parser.parse_args().profiles or list(PROFILES)
    if unknown := [name for name in names if name not in PROFILES]:
        parser.error(f"unknown profile {', '.join(unknown)}")
    if not shutil.which("redis-server"):
        sys.exit("redis-server is missing: apt-get install redis-server")
    ensure_oha()
    root = Path(os.environ.get("PROFILES_TARGET", "/tmp/release-profiles"))

    print("| profile | overrides of [profile.release] | api-service | db-service | web-service | build |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in names:
        log(f"building the {name} profile")
        seconds = build(name, root / name)
        sizes = [f"{(root / name / MUSL / 'release' / s).stat().st_size / 1e6:.2f} MB" for s in SERVICES]
        overrides = ", ".join(f"{key} = {value}" for key, value in PROFILES[name].items()
                              if not key.startswith("package.") or key.startswith('package."*"'))
        if any(key.startswith("package.") and "*" not in key for key in PROFILES[name]):
            overrides += ", the binaries at \"s\", the hot crates at 3"
        print(f"| {name} | {overrides or '—'} | {' | '.join(sizes)} | {seconds} s |", flush=True)

    servers = servers_on_server_cores("redis")
    try:
        def requests_per_second(name):
            binary = root / name / MUSL / "release" / "db-service"
            service = Service(name, on_server_cores([str(binary)]), {"REDIS_URL": servers.redis_url, "RUST_LOG": "info",
                                                    "LOG_FORMAT": "json"}, free_port(),
                              log_file=ROOT / "target" / "bench-logs" / f"profile-{name}.log")
            try:
                return load(f"{service.url}/hits/x", 50_000, "POST")
            finally:
                service.stop()

        contenders = [(name, "POST /hits/x", lambda name=name: requests_per_second(name)) for name in names]
        print("\n| profile | db-service POST /hits/x, req/s (median) | each round |\n| --- | ---: | --- |")
        for name, _, result in interleaved(contenders, ROUNDS):
            print(f"| {name} | {result['rps']:,} | {', '.join(f'{r:,}' for r in result['rps_rounds'])} |")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
