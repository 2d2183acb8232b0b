#!/usr/bin/env python3
"""Where db-service's time goes under load: a flame graph of POST /hits/x.

    bench/profile.py                 # bench/profiles/db-service.svg (the stacks: target/)
    bench/profile.py --name before   # bench/profiles/db-service-before.svg, to compare

db-service is built as it ships (static, musl, the release profile), plus frame pointers and
line tables so that perf can walk and name the stacks, and runs with production logging (JSON
access lines to a file) against the tests' throwaway Redis. perf (Debian's linux-perf) samples
it on the CPU clock while oha sends 100,000 requests; inferno (cargo install inferno) folds
the stacks and draws the graph. The kernel's share (the loopback TCP stack) is in it too.
"""

import argparse
import shutil
import signal
import subprocess
import sys
import time

from common import MUSL, ROOT, ensure_oha, load, static_build
from lib import Servers, Service, free_port, log, run  # noqa: E402

PROFILES = ROOT / "bench" / "profiles"
TARGET_DIR = ROOT / "target" / "profiling"
REQUESTS = 100_000


def ensure_tools():
    ensure_oha()
    if not shutil.which("perf"):
        sys.exit("perf is missing: apt-get install linux-perf")
    if not shutil.which("inferno-flamegraph"):
        log("installing inferno (flame graphs) with cargo")
        run(["cargo", "install", "--locked", "--quiet", "inferno"])


def build():
    log("building db-service as shipped, with frame pointers and line tables")
    static_build("--release", "-p", "db-service", "--target-dir", str(TARGET_DIR),
                 "--config", "profile.release.strip=false", "--config", 'profile.release.debug="line-tables-only"',
                 env={"RUSTFLAGS": "-C force-frame-pointers=yes"})
    return TARGET_DIR / MUSL / "release" / "db-service"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="", help="a suffix for the output files")
    suffix = parser.parse_args().name
    name = "db-service" + (f"-{suffix}" if suffix else "")
    ensure_tools()
    binary = build()
    PROFILES.mkdir(exist_ok=True)
    data = ROOT / "target" / f"{name}.perf"
    servers = Servers("redis")
    try:
        service = Service("db-service", [str(binary)],
                          {"REDIS_URL": servers.redis_url, "RUST_LOG": "info", "LOG_FORMAT": "json"},
                          free_port(), log_file=ROOT / "target" / "bench-logs" / f"{name}.log")
        load(f"{service.url}/hits/x", 20_000, "POST")  # warm: connections, allocator, caches
        perf = subprocess.Popen(["perf", "record", "--quiet", "-F", "1999", "-g", "-e", "cpu-clock",
                                 "-p", str(service.process.pid), "-o", str(data)])
        time.sleep(0.5)
        result = load(f"{service.url}/hits/x", REQUESTS, "POST")
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=60)
        service.stop()
    finally:
        servers.stop()
    log(f"{result['rps']} req/s while sampled (perf slows it)")
    script = subprocess.run(["perf", "script", "-i", str(data)], check=True, capture_output=True).stdout
    folded = subprocess.run(["inferno-collapse-perf"], input=script, check=True, capture_output=True).stdout
    (ROOT / "target" / f"{name}.folded").write_bytes(folded)
    # Frames under 2 pixels wide are left out: they cannot be read, and they would make the
    # committed file several times larger.
    svg = subprocess.run(["inferno-flamegraph", "--title", f"{name}: POST /hits/x, {REQUESTS:,} requests",
                          "--width", "1600", "--minwidth", "2"], input=folded, check=True,
                         capture_output=True).stdout
    (PROFILES / f"{name}.svg").write_bytes(svg)
    print(PROFILES / f"{name}.svg")


if __name__ == "__main__":
    main()
