"""What the benchmarks share: the load generator on a core of its own, rounds that interleave
the contenders, CPU per request, and the static builds as docker/Dockerfile makes them. The throwaway servers and
the service processes come from docker/lib.py, which the checks share too.

Imported by bench/run.py, bench/profile.py and bench/release-profiles.py, which then import
docker/lib.py too (this module puts its folder on the path); not run on its own.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
from lib import ROOT, TOOLS, Servers, log, process_tree, run  # noqa: E402

MUSL = "x86_64-unknown-linux-musl"
CONCURRENCY = 32
RUN_TIME_LIMIT = 180  # seconds: a load run that takes longer is stopped and reported as such
OHA_VERSION = "1.16.0"


def split_cores():
    """(the servers' cores, the load generator's core): the last core this process may use
    drives the load, the others serve it. A load generator sharing the servers' cores takes
    CPU from them in proportion to the rate, which squeezes every ratio toward 1; on its own
    core it cannot. With one core there is nothing to split: (None, None)."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None, None
    return cores[:-1], cores[-1:]


SERVER_CORES, LOAD_CORES = split_cores()


def server_core_count():
    """The cores the servers have: what a Python twin sizes its workers by."""
    return len(SERVER_CORES or os.sched_getaffinity(0))


def cores_text(cores):
    return ",".join(map(str, cores))


def load_setup():
    """How load and servers share the machine, for every result's header."""
    if LOAD_CORES is None:
        return "the load generator shares the only core with the servers"
    return (f"the load generator pinned to core {cores_text(LOAD_CORES)}, the services, Redis and "
            f"PostgreSQL to core{'s' if len(SERVER_CORES) > 1 else ''} {cores_text(SERVER_CORES)} (taskset)")


def servers_on_server_cores(*kinds):
    """The throwaway servers (docker/lib.py's `Servers`: "postgres", "redis"), moved to the
    servers' cores."""
    servers = Servers(*kinds)
    for kind in kinds:
        move_to_server_cores(servers.pid({"redis": "redis-server"}.get(kind, kind)))
    return servers


def on_load_core(command):
    """`command` run on the load generator's core."""
    return command if LOAD_CORES is None else ["taskset", "-c", cores_text(LOAD_CORES), *command]


def on_server_cores(command):
    """`command` started on the servers' cores: what it sees as the machine (a tokio runtime
    sizes its workers by it), as a container limited with --cpuset-cpus would."""
    return command if SERVER_CORES is None else ["taskset", "-c", cores_text(SERVER_CORES), *command]


def move_to_server_cores(pid):
    """Moves a running server (every thread of its process tree) to the servers' cores; the
    processes it forks later, such as PostgreSQL's backends, inherit them."""
    if SERVER_CORES is None:
        return
    for member in process_tree(pid):
        for thread in Path(f"/proc/{member}/task").glob("*"):
            try:
                os.sched_setaffinity(int(thread.name), SERVER_CORES)
            except OSError:
                continue  # it ended meanwhile


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


def load(url, requests, method="GET", body=None):
    """oha at CONCURRENCY, on the load generator's core: req/s, p50 and p99 in ms, and the
    count of failed requests."""
    def oha(count):
        payload = [] if body is None else ["-T", "application/json", "-d", body]
        return on_load_core(["oha", "-n", str(count), "-c", str(CONCURRENCY), "--no-tui",
                             "--output-format", "json", "-m", method, *payload, url])

    warm_requests = min(2000, requests)
    warm, command = oha(warm_requests), oha(requests)
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



