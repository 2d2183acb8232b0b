#!/usr/bin/env python3
"""Builds the three static (musl) binaries under several release profiles and prints their
sizes, then what each profile costs in speed: db-service's POST /hits/x req/s against one
throwaway Redis on loopback (the median of interleaved rounds, bench/run.py's load). Together
they choose the workspace's [profile.release]. Each profile builds into its own target folder
under $PROFILES_TARGET (default /tmp/release-profiles): expect ~5 min per profile. Needs
musl-tools and redis-server; installs oha.

    bench/release-profiles.py                  # all profiles
    bench/release-profiles.py s-fat z-fat      # some of them
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from common import MUSL, ROOT, Servers, Service, ensure_oha, free_port, interleaved, load, log, run

# name: opt-level, lto, codegen-units, strip
PROFILES = {
    "default": ("3", "false", "16", "none"),
    "3-thin": ("3", "thin", "16", "symbols"),
    "3-fat": ("3", "fat", "1", "symbols"),
    "s-fat": ("s", "fat", "1", "symbols"),
    "z-fat": ("z", "fat", "1", "symbols"),
}
SERVICES = ("api-service", "db-service", "web-service")
ROUNDS = 3


def build(name, target_dir):
    """Builds the services under the profile; returns the seconds it took."""
    opt, lto, units, strip = PROFILES[name]
    overrides = {"CARGO_PROFILE_RELEASE_OPT_LEVEL": opt, "CARGO_PROFILE_RELEASE_LTO": lto,
                 "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": units, "CARGO_PROFILE_RELEASE_STRIP": strip,
                 "CARGO_PROFILE_RELEASE_PANIC": "unwind"}
    started = time.monotonic()
    run(["cargo", "build", "--quiet", "--release", "--locked", "--target", MUSL,
         "--target-dir", str(target_dir), *[arg for s in SERVICES for arg in ("-p", s)]],
        cwd=ROOT, env={**os.environ, **overrides})
    return round(time.monotonic() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="*", help=f"some of {', '.join(PROFILES)} (default: all)")
    names = parser.parse_args().profiles or list(PROFILES)
    if unknown := [name for name in names if name not in PROFILES]:
        parser.error(f"unknown profile {', '.join(unknown)}")
    for tool, package in (("musl-gcc", "musl-tools"), ("redis-server", "redis-server")):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {package}")
    ensure_oha()
    run(["rustup", "target", "add", MUSL], capture_output=True)
    root = Path(os.environ.get("PROFILES_TARGET", "/tmp/release-profiles"))

    print("| profile | opt-level | lto | codegen-units | strip | api-service | db-service | web-service | build |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in names:
        log(f"building the {name} profile")
        seconds = build(name, root / name)
        sizes = [f"{(root / name / MUSL / 'release' / s).stat().st_size / 1e6:.2f} MB" for s in SERVICES]
        print(f"| {name} | {' | '.join(PROFILES[name])} | {' | '.join(sizes)} | {seconds} s |", flush=True)

    servers = Servers("redis")
    try:
        def requests_per_second(name):
            binary = root / name / MUSL / "release" / "db-service"
            service = Service(name, [str(binary)], {"REDIS_URL": servers.redis_url, "RUST_LOG": "warn"},
                              free_port())
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
