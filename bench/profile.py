#!/usr/bin/env python3
"""Where the hit counter's time goes under load: flame graphs of POST /hits/x, db-service's and
the minimal counter's, side by side.

    bench/profile.py                 # bench/profiles/{db-service,minimal-counter}.svg
    bench/profile.py --name before   # bench/profiles/db-service-before.svg ..., to compare

Both are built as db-service ships (static, musl, the release profile), plus frame pointers and
line tables so that perf can walk and name the stacks. db-service runs as the stacks run it:
JSON access lines to a file, metrics recorded (METRICS_PORT). Each serves the tests' throwaway
Redis on the servers' core while oha, on its own core, sends 100,000 requests and perf
(Debian's linux-perf) samples the service on the CPU clock; inferno (cargo install inferno)
folds the stacks and draws the graph. The kernel's share (the loopback TCP stack) is in it too.
"""

import argparse
import shutil
import signal
import subprocess
import sys
import time

from common import MUSL, ROOT, ensure_oha, load, on_server_cores, servers_on_server_cores, static_build
from lib import Service, free_port, log, run  # noqa: E402

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
    log("building db-service and the minimal counter as shipped, with frame pointers and line tables")
    static_build("--release", "-p", "db-service", "-p", "minimal-counter", "--target-dir", str(TARGET_DIR),
                 "--config", "profile.release.strip=false", "--config", 'profile.release.debug="line-tables-only"',
                 env={"RUSTFLAGS": "-C force-frame-pointers=yes"})
    return TARGET_DIR / MUSL / "release"


def flame_graph(name, binary, env, servers):
    """Samples `binary` under load; writes bench/profiles/<name>.svg."""
    data = ROOT / "target" / f"{name}.perf"
    service = Service(name, on_server_cores([str(binary)]), {"REDIS_URL": servers.redis_url, **env},
                      free_port(), log_file=ROOT / "target" / "bench-logs" / f"{name}.log")
    try:
        load(f"{service.url}/hits/x", 20_000, "POST")  # warm: connections, allocator, caches
        perf = subprocess.Popen(["perf", "record", "--quiet", "-F", "1999", "-g", "-e", "cpu-clock",
                                 "-p", str(service.process.pid), "-o", str(data)])
        time.sleep(0.5)
        result = load(f"{service.url}/hits/x", REQUESTS, "POST")
        perf.send_signal(signal.SIGINT)
        perf.wait(timeout=60)
    finally:
        service.stop()
    log(f"{name}: {result['rps']} req/s while sampled (perf slows it)")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="", help="a suffix for the output files")
    suffix = parser.parse_args().name
    ensure_tools()
    binaries = build()
    PROFILES.mkdir(exist_ok=True)
    servers = servers_on_server_cores("redis")
    try:
        for counter, env in (("db-service", {"RUST_LOG": "info", "LOG_FORMAT": "json",
                                             "METRICS_PORT": str(free_port())}),
                             ("minimal-counter", {})):
            flame_graph(counter + (f"-{suffix}" if suffix else ""), binaries / counter, env, servers)
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
