#!/usr/bin/env python3
"""Instructions per request of the hit counter, counted by callgrind: a figure that does not
move with the machine's load, unlike req/s and CPU time (bench/run.py's rounds drift by 10 %
and more on a shared machine, which hides a cost of 2 %).

    bench/instructions.py              # 3 runs of 3,000 requests each, per contender
    bench/instructions.py --runs 5 --requests 5000
    bench/instructions.py --functions  # and where db-service's extra instructions are

Each contender runs under `valgrind --tool=callgrind` (Debian's `valgrind` package) on a
throwaway Redis, the binaries built as bench/run.py builds them (static musl, as shipped). oha
sends 500 requests to warm up, callgrind's counters are zeroed, oha sends the measured ones
(4 at a time), and the counters are dumped: everything the process did for them, its idle
threads included, divided by their number. callgrind runs one thread at a time, so this counts
work, not the cost of threads contending for cache lines, which only a timed run shows.

The contenders are a ladder, each adding one thing to the one before: HTTP alone (the minimal
counter's GET /health), the minimal counter's POST /hits/x, db-service without a log line
(its request ids, warm-up gate, timeout, panic catching, key check and JSON errors), with text
logs (a tracing span and event per request), as shipped (JSON access lines written straight
into the batch), and with metrics. `--functions` builds db-service and the minimal counter
again with symbols (in target/symbols), counts both, and lists the functions whose own
instructions per request differ most: where the difference between the two is spent. The
callgrind files stay in target/callgrind, for `callgrind_annotate --inclusive=yes`.
"""

import argparse
import collections
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
SYMBOLS = ROOT / "target" / "symbols"
CALLGRIND = ROOT / "target" / "callgrind"
JSON_LOGS = {"RUST_LOG": "info", "LOG_FORMAT": "json"}
HITS = ("POST", "/hits/x")
# (name, binary, environment, (method, path), the contender it adds to): the ladder of the
# module's documentation.
CONTENDERS = [
    ("HTTP alone: the minimal counter's GET /health", "minimal-counter", {}, ("GET", "/health"), None),
    ("minimal counter (bench/minimal-counter)", "minimal-counter", {}, HITS, "HTTP alone"),
    ("db-service without a log line (RUST_LOG=warn)", "db-service", {"RUST_LOG": "warn", "LOG_FORMAT": "json"}, HITS,
     "minimal counter"),
    ("db-service as shipped (a JSON access line)", "db-service", JSON_LOGS, HITS, "db-service without a log line"),
    ("db-service with metrics (METRICS_PORT), as the stacks run it", "db-service",
     {**JSON_LOGS, "METRICS_PORT": "{metrics_port}"}, HITS, "db-service as shipped"),
    ("db-service with text logs, as in dev (a span and an event)", "db-service", {"RUST_LOG": "info", "LOG_FORMAT": "text"},
     HITS, "db-service without a log line"),
]
FLOOR = CONTENDERS[1][0]


def oha(url, requests, method):
    run(["oha", "-n", str(requests), "-c", "4", "-m", method, "--no-tui", url], capture_output=True)


def count(binary, env, redis_url, requests, request, keep=None):
    """Instructions per request of `binary` answering `request` (method, path); `keep`: where
    to keep callgrind's file."""
    port, metrics_port = free_port(), free_port()
    env = {name: value.replace("{metrics_port}", str(metrics_port)) for name, value in env.items()}
    method, path = request
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
            oha(f"{url}{path}", 500, method)
            run(["callgrind_control", "--zero", str(process.pid)], capture_output=True)
            oha(f"{url}{path}", requests, method)
            run(["callgrind_control", "--dump", str(process.pid)], capture_output=True)
            dump = Path(f"{out}.1")
            deadline = time.monotonic() + 30
            while not (dump.exists() and re.search(r"^totals: (\d+)", dump.read_text(), re.M)):
                if time.monotonic() > deadline:
                    sys.exit(f"callgrind wrote no dump for {binary.name}")
                time.sleep(0.2)
            total = int(re.search(r"^totals: (\d+)", dump.read_text(), re.M).group(1))
            if keep is not None:
                keep.parent.mkdir(parents=True, exist_ok=True)
                keep.write_bytes(dump.read_bytes())
        finally:
            process.terminate()
            process.wait(timeout=60)
    return total / requests


def own_instructions(callgrind_file, requests):
    """Each function's own instructions per request (inlined code counts as its caller's), by
    name, whatever file callgrind attributes the lines to."""
    output = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", str(callgrind_file)],
                            check=True, capture_output=True, text=True).stdout
    functions = collections.Counter()
    for line in output.splitlines():
        found = re.match(r"\s*([\d,]+) \([^)]*\)\s+(?:[^:]*:)?(.+?)(?: \[[^]]*\])?$", line)
        if found and "PROGRAM TOTALS" not in line:
            functions[found.group(2)] += int(found.group(1).replace(",", "")) / requests
    return functions


def where_the_difference_is(servers, requests):
    """Both counters with symbols, and the functions whose own instructions differ most."""
    log("building db-service and the minimal counter with symbols (target/symbols)")
    static_build("--profile", PROFILE, "-p", "db-service", "-p", "minimal-counter",
                 env={f"CARGO_PROFILE_{PROFILE.upper().replace('-', '_')}_STRIP": "none",
                      f"CARGO_PROFILE_{PROFILE.upper().replace('-', '_')}_DEBUG": "line-tables-only",
                      "CARGO_TARGET_DIR": str(SYMBOLS)})
    floor, shipped = CONTENDERS[1], CONTENDERS[4]
    files = {}
    for name, binary, env, request, _ in (floor, shipped):
        files[name] = CALLGRIND / f"{binary}.out"
        log(f"counting {name} with symbols")
        count(SYMBOLS / MUSL / PROFILE / binary, env, servers.redis_url, requests, request, keep=files[name])
    minimal, db_service = (own_instructions(files[name], requests) for name, *_ in (floor, shipped))
    # A thread's entry point that callgrind cannot name holds the whole thread as its own: left out.
    whole = max(db_service.values())
    differences = sorted(((db_service[name] - minimal[name], name) for name in set(minimal) | set(db_service)
                          if db_service[name] < whole / 2), reverse=True)
    print(f"\nWhere db-service ({shipped[0]}) spends more instructions per request than the minimal counter: "
          "each function's own instructions (code inlined into it counts as its own). "
          f"The callgrind files: {', '.join(str(path.relative_to(ROOT)) for path in files.values())}.\n")
    print("| function | minimal counter | db-service | difference |\n| --- | ---: | ---: | ---: |")
    for difference, name in differences[:30]:
        print(f"| `{name[:110]}` | {minimal[name]:,.0f} | {db_service[name]:,.0f} | {difference:+,.0f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--functions", action="store_true",
                        help="also list the functions where db-service spends more than the minimal counter")
    arguments = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate", "oha"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            sys.exit(f"{tool} is missing: apt-get install valgrind (oha: bench/run.py installs it)")
    log("building the static binaries as bench/run.py does")
    static_build("--profile", PROFILE, "-p", "db-service", "-p", "minimal-counter")
    servers = Servers("redis")
    try:
        results = {}
        for run_number in range(1, arguments.runs + 1):
            for name, binary, env, request, _ in CONTENDERS:
                log(f"run {run_number} of {arguments.runs}: {name}")
                results.setdefault(name, []).append(
                    count(RELEASE / binary, env, servers.redis_url, arguments.requests, request))
        print_ladder(results, arguments)
        if arguments.functions:
            where_the_difference_is(servers, arguments.requests)
    finally:
        servers.stop()


def print_ladder(results, arguments):
    floor = statistics.median(results[FLOOR])
    print(f"\nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: callgrind, {arguments.runs} runs of "
          f"{arguments.requests:,} requests each (4 at a time), static musl release builds. "
          f"Reproduce: `bench/instructions.py`.\n")
    print("| contender | instructions per request (median) | runs | against the minimal counter | added |")
    print("| --- | ---: | --- | ---: | --- |")
    medians = {name: statistics.median(values) for name, values in results.items()}
    for name, _, _, _, base in CONTENDERS:
        values = results[name]
        if base is None:
            added = "—"
        else:
            base_name = next(other for other in medians if other.startswith(base))
            added = f"{medians[name] - medians[base_name]:+,.0f} to {base}"
        print(f"| {name} | {medians[name]:,.0f} | {', '.join(f'{v:,.0f}' for v in values)} | "
              f"{medians[name] / floor:.2f}× | {added} |", flush=True)


if __name__ == "__main__":
    main()
