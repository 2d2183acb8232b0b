#!/usr/bin/env python3
"""Floods the running production web-service with stalled connections and asserts that it keeps
serving under its memory limit: the slowloris attack, on the one published service.

Each stalled connection sends half a request head and nothing more. For each step of the flood
this opens that many at once, then records web-service's memory (its cgroup's, what the limit
is enforced on, and the process's RSS) and how long a real page load takes meanwhile. It fails
if a page is not answered 200, if memory reaches the limit, or if the container is restarted or
OOM-killed. The server holds at most MAX_CONNECTIONS of them and closes each after
HEADER_READ_TIMEOUT; the rest wait in the kernel's accept queue.

Run it from the repository root with the production stack up (`docker/e2e.sh prod` leaves it
so, or `docker compose -f docker-compose.prod.yml up -d --wait`):

    checks/slow-clients.py [--steps 500,1000,2000,4000] [--url http://127.0.0.1:8031]
"""

import argparse
import json
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

COMPOSE_FILE = "docker-compose.prod.yml"
STALLED_HEAD = b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Stalled: "
# A page load waits in the accept queue, and while that queue is full the kernel drops its SYN
# and retries it 1, 3, 7, 15, 31 and 63 s after the first: at 4,000 stalled connections the
# page usually gets in at the 7 or 15 s retry (answered in 8.9 or 19.5 s), sometimes only at
# the 31 s one, and once (CI, 2026-12-07) missed that one too. The limit sits past the 63 s
# retry, so that the check measures the server, not the retry schedule.
PAGE_TIMEOUT = 75


def container_id():
    ids = subprocess.run(
        ["docker", "compose", "-f", COMPOSE_FILE, "ps", "-q", "web-service"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    if not ids:
        sys.exit("web-service is not running: start the production stack first "
                 f"(docker compose -f {COMPOSE_FILE} up -d --wait)")
    return ids[0]


def inspect(container):
    out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def cgroup_memory(container):
    """The container's memory as the limit counts it: usage without the page cache."""
    for path in (
        f"/sys/fs/cgroup/memory/docker/{container}/memory.usage_in_bytes",  # cgroup v1
        f"/sys/fs/cgroup/system.slice/docker-{container}.scope/memory.current",  # v2, systemd
        f"/sys/fs/cgroup/docker/{container}/memory.current",  # v2, cgroupfs
    ):
        if Path(path).exists():
            return int(Path(path).read_text())
    return None


def rss(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def stall(address, count):
    """Opens `count` connections that send half a request head; returns those that connected."""
    held = []
    for _ in range(count):
        try:
            connection = socket.create_connection(address, timeout=3)
            connection.sendall(STALLED_HEAD)
            held.append(connection)
        except OSError:
            pass
    return held


def load_page(url):
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url + "/", timeout=PAGE_TIMEOUT) as response:
            status = response.status
    except OSError as error:
        status = f"failed: {error}"
    return status, time.monotonic() - started


def mib(size):
    return "n/a" if size is None else f"{size / 2**20:.1f} MiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8031")
    parser.add_argument("--steps", default="500,1000,2000,4000")
    args = parser.parse_args()
    steps = [int(step) for step in args.steps.split(",")]
    host, port = args.url.removeprefix("http://").split(":")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = max(steps) + 100
    if hard != resource.RLIM_INFINITY and hard < needed:
        sys.exit(f"this shell allows {hard} open files, the flood needs {needed}: raise `ulimit -Hn`")
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))

    container = container_id()
    before = inspect(container)
    limit = before["HostConfig"]["Memory"]
    pid = before["State"]["Pid"]
    if not limit:
        sys.exit("web-service runs without a memory limit: this check is for the production stack")
    status, took = load_page(args.url)
    if status != 200:
        sys.exit(f"the page does not answer before the flood: {status}")

    print(f"web-service {container[:12]}: memory limit {mib(limit)}, "
          f"idle {mib(cgroup_memory(container))} (RSS {mib(rss(pid))})")
    print(f"{'stalled':>8}  {'connected':>9}  {'cgroup memory':>13}  {'RSS':>9}  page")
    failures = []
    for count in steps:
        held = stall((host, int(port)), count)
        time.sleep(1)
        memory, resident = cgroup_memory(container), rss(pid)
        status, took = load_page(args.url)
        peak = max(memory or 0, cgroup_memory(container) or 0)
        print(f"{count:>8}  {len(held):>9}  {mib(peak):>13}  {mib(resident):>9}  {status} in {took:.1f} s")
        if status != 200:
            failures.append(f"with {count} stalled connections the page answered {status}")
        if peak >= limit * 0.9:
            failures.append(f"with {count} stalled connections memory reached {mib(peak)} of {mib(limit)}")
        for connection in held:
            connection.close()
        time.sleep(1)

    after = inspect(container)
    if after["State"]["OOMKilled"] or not after["State"]["Running"] or after["State"]["Pid"] != pid:
        failures.append("web-service was restarted or OOM-killed during the flood")
    status, took = load_page(args.url)
    print(f"after the flood: page {status} in {took:.2f} s, memory {mib(cgroup_memory(container))}")
    if status != 200:
        failures.append(f"after the flood the page answered {status}")
    for failure in failures:
        print(f"FAIL {failure}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print("ok: web-service kept serving under its memory limit")


if __name__ == "__main__":
    main()
