#!/usr/bin/env python3
"""Instructions per request of the hit counter, counted by callgrind: a figure that does not
move with the machine's load, unlike req/s and CPU time (bench/run.py's rounds drift by 10 %
and more on a shared machine, which hides a cost of 2 %).

    bench/instructions.py              # 3 runs of 3,000 POST /hits/x each, per contender
    bench/instructions.py --runs 5 --requests 5000

Each contender runs under `valgrind --tool=callgrind` (Debian's `valgrind` package) on a
throwaway Redis, the binaries built as bench/run.py builds them (static musl, as shipped). oha
sends 500 requests to warm up, callgrind's counters are zeroed, oha sends the measured ones
(4 at a time), and the counters are dumped: everything the process did for them, its idle
threads included, divided by their number. callgrind runs one thread at a time, so this counts
work, not the cost of threads contending for cache lines, which only a timed run shows.
"""

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import MUSL, ROOT, static_build
from lib import Servers, free_port, log, run, services

# db-service's profile, as the images ship it; the minimal counter is built the same way.
PROFILE = services()["db-service"]["profile"]
RELEASE = ROOT / "target" / MUSL / PROFILE
JSON_LOGS = {"RUST_LOG": "info", "LOG_FORMAT": "json"}
# (name, binary, environment): db-service's layers appear one at a time against the minimal counter.
CONTENDERS = [
    ("minimal counter (bench/minimal-counter)", "minimal-counter", {}),
    ("db-service without access lines (RUST_LOG=warn)", "db-service", {"RUST_LOG": "warn", "LOG_FORMAT": "json"}),
    ("db-service as shipped (an access line per request)", "db-service", JSON_LOGS),
    ("db-service with metrics (METRICS_PORT)", "db-service", {**JSON_LOGS, "METRICS_PORT": "{metrics_port}"}),
]


def oha(url, requests):
    run(["oha", "-n", str(requests), "-c", "4", "-m", "POST", "--no-tui", url], capture_output=True)


def instructions_per_request(binary, env, redis_url, requests):
    port, metrics_port = free_port(), free_port()
    env = {name: value.replace("{metrics_port}", str(metrics_port)) for name, value in env.items()}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        process = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", str(binary)],
            env={"PATH": "/usr/bin:/bin", "PORT": str(port), "REDIS_URL": redis_url, **env},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while subprocess.run(["curl", "-sf", "-o", "/dev/null", f"{url}/health"]).returncode != 0:
                if process.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"{binary.name} did not start under valgrind")
                time.sleep(0.2)
            oha(f"{url}/hits/x", 500)
            run(["callgrind_control", "--zero", str(process.pid)], capture_output=True)
            oha(f"{url}/hits/x", requests)
            run(["callgrind_control", "--dump", str(process.pid)], capture_output=True)
            dump = Path(f"{out}.1")
            deadline = time.monotonic() + 30
            while not (dump.exists() and re.search(r"^totals: (\d+)", dump.read_text(), re.M)):
                if time.monotonic() > deadline:
                    sys.exit(f"callgrind wrote no dump for {binary.name}")
                time.sleep(0.2)
            total = int(re.search(r"^totals: (\d+)", dump.read_text(), re.M).group(1))
        finally:
            process.terminate()
            process.wait(timeout=60)
    return total / requests


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    arguments = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "oha"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            sys.exit(f"{tool} is missing: apt-get install valgrind (oha: bench/run.py installs it)")
    log("building the static binaries as bench/run.py does")
    static_build("--profile", PROFILE, "-p", "db-service", "-p", "minimal-counter")
    servers = Servers("redis")
    results = {}
    try:
        for run_number in range(1, arguments.runs + 1):
            for name, binary, env in CONTENDERS:
                log(f"run {run_number} of {arguments.runs}: {name}")
                results.setdefault(name, []).append(
                    instructions_per_request(RELEASE / binary, env, servers.redis_url, arguments.requests))
    finally:
        servers.stop()
    floor = statistics.median(results[CONTENDERS[0][0]])
    print(f"\nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: callgrind, {arguments.runs} runs of "
          f"{arguments.requests:,} POST /hits/x each (4 at a time), static musl release builds. "
          f"Reproduce: `bench/instructions.py`.\n")
    print("| hit counter | instructions per request (median) | runs | against the minimal counter |")
    print("| --- | ---: | --- | ---: |")
    for name, _, _ in CONTENDERS:
        values = results[name]
        print(f"| {name} | {statistics.median(values):,.0f} | {', '.join(f'{v:,.0f}' for v in values)} | "
              f"{statistics.median(values) / floor:.2f}× |")


if __name__ == "__main__":
    main()
