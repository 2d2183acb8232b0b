"""What the benchmarks share: the load generator, the throwaway servers the tests use, a
service process under test with its memory, and rounds that interleave the contenders.

Imported by bench/run.py and bench/release-profiles.py; not run on its own.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUSL = "x86_64-unknown-linux-musl"
CONCURRENCY = 32
RUN_TIME_LIMIT = 180  # seconds: a load run that takes longer is stopped and reported as such
OHA_VERSION = "1.16.0"
TOOLS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rust-multistage-lab" / "tools"


def log(message):
    print(f"\033[1m> {message}\033[0m", file=sys.stderr, flush=True)


def run(command, **options):
    return subprocess.run(command, check=True, **options)


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_oha():
    if not shutil.which("oha"):
        log(f"installing oha {OHA_VERSION} (load generator) with cargo")
        run(["cargo", "install", "--locked", "--quiet", f"oha@{OHA_VERSION}"])


def dockerfile_default(name):
    """An ARG's default in docker/Dockerfile, so the benchmarks build with the versions it pins."""
    found = re.search(rf"^ARG {name}=(\S+)$", (ROOT / "docker" / "Dockerfile").read_text(), re.M)
    if not found:
        raise RuntimeError(f"docker/Dockerfile declares no ARG {name}=<default>")
    return found.group(1)


def static_build(*arguments, env=None):
    """`cargo build` of static musl binaries as docker/Dockerfile builds them: cargo-zigbuild with
    zig as the C compiler and linker, `-pie` for a static-pie, the versions the Dockerfile pins
    (installed on first use in a venv under ~/.cache/rust-multistage-lab/tools)."""
    zig, cargo_zigbuild = dockerfile_default("ZIG_VERSION"), dockerfile_default("CARGO_ZIGBUILD_VERSION")
    venv = TOOLS / f"zig-{zig}-cargo-zigbuild-{cargo_zigbuild}"
    if not (venv / "bin" / "cargo-zigbuild").exists():
        log(f"installing zig {zig} and cargo-zigbuild {cargo_zigbuild} under {venv}")
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "--quiet", f"ziglang=={zig}",
             f"cargo-zigbuild=={cargo_zigbuild}"])
    run(["rustup", "target", "add", MUSL], capture_output=True)
    env = {**os.environ, **(env or {})}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    # RUSTFLAGS, when a caller sets it, replaces the per-target flags: carry `-pie` over.
    if "RUSTFLAGS" in env:
        env["RUSTFLAGS"] += " -C link-arg=-pie"
    else:
        env[f"CARGO_TARGET_{MUSL.upper().replace('-', '_')}_RUSTFLAGS"] = "-C link-arg=-pie"
    run(["cargo", "zigbuild", "--quiet", "--locked", "--target", MUSL, *arguments], cwd=ROOT, env=env)


# --- throwaway servers -------------------------------------------------------------------

class Servers:
    """PostgreSQL and/or Redis on free loopback ports, started by the tests' own
    `throwaway-servers` (test-support), which removes them when this process lets go."""

    def __init__(self, *kinds):
        run(["cargo", "build", "--quiet", "--locked", "-p", "test-support", "--bin", "throwaway-servers"], cwd=ROOT)
        self.process = subprocess.Popen([str(ROOT / "target" / "debug" / "throwaway-servers"), *kinds],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.urls = dict(self.process.stdout.readline().strip().split("=", 1) for _ in kinds)

    def sql(self, database, statement):
        psql = shutil.which("psql") or str(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))[-1])
        run([psql, "-q", self.database_url(database), "-v", "ON_ERROR_STOP=1", "-c", statement],
            stdout=subprocess.DEVNULL)

    def database_url(self, name):
        return self.urls["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"

    def pid(self, program):
        """The pid of the server whose command is `program` (redis-server, postgres) and whose
        command line names its port: its process tree is that server's CPU. (pg_ctl detaches
        PostgreSQL, so it is not under throwaway-servers.)"""
        url = self.urls["REDIS_URL" if program == "redis-server" else "DATABASE_URL"]
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        candidates = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "comm").read_text().strip() == program:
                    arguments = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if f"-p {port} " in arguments or f":{port}" in arguments or f"--port {port}" in arguments:
                        candidates.append(int(entry.name))
            except OSError:
                continue
        if not candidates:
            raise RuntimeError(f"no {program} on port {port}")
        return min(candidates)

    @property
    def redis_url(self):
        return self.urls["REDIS_URL"]

    @property
    def redis_port(self):
        return int(self.redis_url.rsplit(":", 1)[1])

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


# --- services under test -----------------------------------------------------------------

def process_tree(pid):
    """pid and all its descendants, from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
            except (OSError, IndexError):
                continue
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def cpu_seconds(pid):
    """User and system CPU time of pid and its descendants, in seconds, from /proc."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def with_cpu(measure, **processes):
    """Runs `measure` and adds, for each named process tree, its CPU time per request in µs:
    what each part of a request costs on the shared cores, and so what bounds the rate."""
    before = {name: cpu_seconds(pid) for name, pid in processes.items()}
    result = measure()
    for name, pid in processes.items():
        used = cpu_seconds(pid) - before[name]
        result[f"{name}_cpu_us"] = round(used * 1e6 / result["sent"], 1)
    return result


def memory_mb(pid, field):
    """The sum of /proc/<pid>/status `field` (VmRSS, VmHWM) over the process tree, in MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


class Service:
    """A server process, timed from start until GET /health answers 200. With `log_file`, its
    stdout and stderr go there, as a container's go to Docker's json-file log: writing the log
    is part of the cost measured. Without, they are discarded (the Python twins log nothing
    per request)."""

    def __init__(self, name, command, env, port, cwd=ROOT, log_file=None):
        self.name, self.port, self.log_file = name, port, log_file
        command = [part.replace("{port}", str(port)) for part in command]
        output = subprocess.DEVNULL
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            output = log_file.open("w")
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env, "PORT": str(port)},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        if log_file is not None:
            output.close()  # the child holds its own descriptor
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=0.5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() - started > 60:
                raise RuntimeError(f"{name} did not become healthy")
            time.sleep(0.005)
        self.start_ms = round((time.monotonic() - started) * 1000)
        time.sleep(1)
        self.idle_mb = memory_mb(self.process.pid, "VmRSS")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def resources(self):
        return {"service": self.name, "start_to_healthy_ms": self.start_ms,
                "idle_rss_mb": self.idle_mb, "peak_rss_mb": memory_mb(self.process.pid, "VmHWM")}

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def load(url, requests, method="GET", body=None):
    """oha at CONCURRENCY: req/s, p50 and p99 in ms, and the count of failed requests."""
    command = ["oha", "-n", str(requests), "-c", str(CONCURRENCY), "--no-tui",
               "--output-format", "json", "-m", method, url]
    if body is not None:
        command[1:1] = ["-T", "application/json", "-d", body]
    warm = [*command]
    warm[warm.index("-n") + 1] = str(min(2000, requests))
    warm_requests = int(warm[warm.index("-n") + 1])
    subprocess.run(warm, check=True, capture_output=True, timeout=RUN_TIME_LIMIT)
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                       timeout=RUN_TIME_LIMIT).stdout)
    ok = sum(count for status, count in report["statusCodeDistribution"].items()
             if status.startswith("2"))
    return {"requests": requests, "sent": requests + warm_requests,
            "rps": round(report["summary"]["requestsPerSec"]),
            "p50_ms": round(report["latencyPercentiles"]["p50"] * 1000, 2),
            "p99_ms": round(report["latencyPercentiles"]["p99"] * 1000, 2),
            "errors": requests - ok}


def interleaved(contenders, rounds):
    """Runs each (label, endpoint, measure) once per round, in turn, and yields the median round
    of each with the req/s of every round. On a shared machine throughput drifts by a quarter
    from one minute to the next: interleaving gives every contender the same drift, and the
    median drops a disturbed round."""
    results = {(label, endpoint): [] for label, endpoint, _ in contenders}
    if len(results) != len(contenders):
        raise ValueError("two contenders share a label and an endpoint")
    for round_number in range(1, rounds + 1):
        log(f"round {round_number} of {rounds}")
        for label, endpoint, measure in contenders:
            results[label, endpoint].append(measure())
    for label, endpoint, _ in contenders:
        ordered = sorted(results[label, endpoint], key=lambda result: result["rps"])
        yield label, endpoint, {**ordered[len(ordered) // 2],
                                "rps_rounds": [result["rps"] for result in results[label, endpoint]]}



