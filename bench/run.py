#!/usr/bin/env python3
"""The lab's Rust services beside their Python twins, in one run, on one machine.

    bench/run.py            # everything: about 10 minutes, plus the first builds
    bench/run.py --quick    # a tenth of the requests and one round, to try the script

Hit counter: db-service POST /hits/x (the static musl binary that ships, with mimalloc; the same
without it, on musl's own allocator; and a glibc build) against the seed lab's Flask + gunicorn
twin on the same Redis, and against raw `redis-benchmark -t incr`, in interleaved rounds (the
median is reported). Task API: api-service GET /tasks (100 tasks) and POST /tasks against the
FastAPI + uvicorn twin on the same PostgreSQL. The web page `/`, which calls both backends. Per
service: idle and peak RSS, start-to-healthy time, and the image size beside the Python image
built from the same Debian base.

Everything runs natively on loopback (Docker's port forwarding would be measured too): a
throwaway PostgreSQL and Redis from the machine's packages, the release binaries, the twins in
bench/.venv from PyPI. Load comes from oha, bounded by request count and by time, at one fixed
concurrency. Results: a Markdown table on stdout, bench/results/latest.{md,json}.
"""

import argparse
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
RESULTS = BENCH / "results"
MUSL = "x86_64-unknown-linux-musl"
CONCURRENCY = 50
HIT_COUNTER_ROUNDS = 3
RUN_TIME_LIMIT = 180  # seconds: a run that takes longer is stopped and reported as such


def log(message):
    print(f"\033[1m> {message}\033[0m", file=sys.stderr, flush=True)


def run(command, **options):
    return subprocess.run(command, check=True, **options)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- tools -------------------------------------------------------------------------------

def ensure_tools():
    if not shutil.which("oha"):
        log("installing oha (load generator) with cargo")
        run(["cargo", "install", "--locked", "--quiet", "oha@1.16.0"])
    for tool, package in [("redis-benchmark", "redis-tools"), ("redis-server", "redis-server"),
                          ("musl-gcc", "musl-tools")]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install {package}")
    if not (VENV / "bin" / "python").exists():
        log("creating bench/.venv with the Python twins' dependencies from PyPI")
        run([sys.executable, "-m", "venv", str(VENV)])
    run([str(VENV / "bin" / "pip"), "install", "--quiet", "-r", str(BENCH / "python" / "requirements.txt")])


def build_rust():
    log("building the release binaries: static (musl) as shipped, and two db-service variants")
    run(["rustup", "target", "add", MUSL], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    services = ["-p", "api-service", "-p", "db-service", "-p", "web-service"]
    release = ["cargo", "build", "--quiet", "--release", "--locked"]
    run([*release, "--target", MUSL, *services], cwd=ROOT)
    run([*release, "-p", "db-service"], cwd=ROOT)
    musl_allocator = ROOT / "target" / "musl-allocator"
    run([*release, "--target", MUSL, "-p", "db-service", "--no-default-features",
         "--target-dir", str(musl_allocator)], cwd=ROOT)
    return {
        "musl": ROOT / "target" / MUSL / "release",
        "musl_allocator": musl_allocator / MUSL / "release",
        "glibc": ROOT / "target" / "release",
    }


# --- throwaway servers -------------------------------------------------------------------

class Servers:
    """Redis and PostgreSQL on free loopback ports, in a temporary folder."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="lab-bench-"))
        self.redis_port = free_port()
        self.pg_port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        self.pg_bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                             key=lambda path: int(path.parent.name))[-1]
        # PostgreSQL refuses root: as root, run it as the postgres (or nobody) account.
        self.account = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.account = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            os.chown(self.dir, self.account.pw_uid, self.account.pw_gid)
        self.pg(["initdb", "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
                 "-E", "UTF8", "--locale=C", "-N"])
        # synchronous_commit off: POST /tasks should measure the services, not the disk's flush.
        options = (f"-p {self.pg_port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                   "-c max_connections=200 -c synchronous_commit=off")
        self.pg(["pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "pg.log"),
                 "-o", options, "-w", "start"])
        for name in ("bench_rust", "bench_python"):
            self.sql("postgres", f"CREATE DATABASE {name}")

    def pg(self, command):
        user = {"user": self.account.pw_uid, "group": self.account.pw_gid} if self.account else {}
        run([str(self.pg_bin / command[0]), *command[1:]], cwd=self.dir, stdout=subprocess.DEVNULL, **user)

    def sql(self, database, statement):
        run([str(self.pg_bin / "psql"), "-q", "-h", "127.0.0.1", "-p", str(self.pg_port),
             "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-c", statement],
            stdout=subprocess.DEVNULL)

    def database_url(self, name):
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{name}"

    @property
    def redis_url(self):
        return f"redis://127.0.0.1:{self.redis_port}"

    def stop(self):
        self.redis.terminate()
        self.redis.wait()
        try:
            self.pg(["pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "stop"])
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


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
    """A server process, timed from start until GET /health answers 200."""

    def __init__(self, name, command, env, port, cwd=ROOT):
        self.name, self.port = name, port
        command = [part.replace("{port}", str(port)) for part in command]
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env, "PORT": str(port)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
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
    subprocess.run(warm, check=True, capture_output=True, timeout=RUN_TIME_LIMIT)
    report = json.loads(subprocess.run(command, check=True, capture_output=True, text=True,
                                       timeout=RUN_TIME_LIMIT).stdout)
    ok = sum(count for status, count in report["statusCodeDistribution"].items()
             if status.startswith("2"))
    return {"requests": requests, "rps": round(report["summary"]["requestsPerSec"]),
            "p50_ms": round(report["latencyPercentiles"]["p50"] * 1000, 2),
            "p99_ms": round(report["latencyPercentiles"]["p99"] * 1000, 2),
            "errors": requests - ok}


def interleaved(contenders, rounds):
    """Runs each (label, endpoint, measure) once per round, in turn, and yields the median round
    of each with the req/s of every round. On a shared machine throughput drifts by a quarter
    from one minute to the next: interleaving gives every contender the same drift, and the
    median drops a disturbed round."""
    results = {label: [] for label, _, _ in contenders}
    for round_number in range(1, rounds + 1):
        log(f"round {round_number} of {rounds}")
        for label, _, measure in contenders:
            results[label].append(measure())
    for label, endpoint, _ in contenders:
        ordered = sorted(results[label], key=lambda result: result["rps"])
        yield label, endpoint, {**ordered[len(ordered) // 2],
                                "rps_rounds": [result["rps"] for result in results[label]]}


def raw_redis(port, requests):
    output = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "incr", "-n", str(requests),
         "-c", str(CONCURRENCY), "--csv"], check=True, capture_output=True, text=True,
        timeout=RUN_TIME_LIMIT).stdout
    header, values = [line.replace('"', "").split(",") for line in output.strip().splitlines()[:2]]
    row = dict(zip(header, values))
    return {"requests": requests, "rps": round(float(row["rps"])),
            "p50_ms": float(row["p50_latency_ms"]), "p99_ms": float(row["p99_latency_ms"]),
            "errors": 0}


# --- images -----------------------------------------------------------------------------

def image_sizes():
    """Image sizes in MB: the Rust scratch images and the Python twins' images."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return {}
    env_file = ROOT / ".env"
    settings = dict(line.split("=", 1) for line in env_file.read_text().splitlines()
                    if "=" in line and not line.startswith("#")) if env_file.exists() else {}
    debian = settings.get("DEBIAN_IMAGE", "debian:bookworm-slim")
    sizes = {}
    for service in ("api-service", "db-service", "web-service"):
        image = f"lab/{service}:scratch"
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            log(f"building {image}")
            run(["bash", "-c", f'. docker/lib.sh && lab_build docker/Dockerfile runtime-scratch {service} {image} --quiet'],
                cwd=ROOT, stdout=subprocess.DEVNULL)
        sizes[service] = image
    for target, twin in (("hit-counter", "flask-hit-counter"), ("task-api", "fastapi-task-api")):
        image = f"lab/{twin}:python"
        log(f"building {image} from {debian}")
        run(["docker", "build", "--quiet", "--build-arg", f"DEBIAN_IMAGE={debian}", "--target", target,
             "-f", str(BENCH / "python" / "Dockerfile"), "-t", image, str(BENCH / "python")],
            stdout=subprocess.DEVNULL)
        sizes[twin] = image
    return {name: {"image": image, "mb": round(int(subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Size}}", image], check=True,
        capture_output=True, text=True).stdout) / 1e6, 2)} for name, image in sizes.items()}


# --- the run ------------------------------------------------------------------------------

def machine():
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": model,
            "cores": os.cpu_count(), "kernel": platform.release(), "os": platform.platform()}


def benchmark(scale, rounds):
    n = lambda count: max(1000, count // scale)  # noqa: E731 - a one-line scaling rule
    ensure_tools()
    binaries = build_rust()
    servers = Servers()
    runs, resources = [], []

    def record(group, implementation, endpoint, result):
        runs.append({"group": group, "implementation": implementation, "endpoint": endpoint, **result})
        log(f"{implementation} {endpoint}: {result['rps']} req/s, p99 {result['p99_ms']} ms, {result['errors']} errors")

    try:
        musl, glibc = binaries["musl"], binaries["glibc"]
        rust_env = {"RUST_LOG": "warn", "LOG_FORMAT": "json"}
        python = VENV / "bin"

        log("hit counter")
        counter_env = {**rust_env, "REDIS_URL": servers.redis_url}
        counters = [Service(label, [str(binary / "db-service")], counter_env, free_port())
                    for label, binary in (("db-service (static, musl)", musl),
                                          ("db-service (static, musl's allocator)", binaries["musl_allocator"]),
                                          ("db-service (glibc)", glibc))]
        workers = str(2 * (os.cpu_count() or 1) + 1)
        flask = Service("Flask + gunicorn", [str(python / "gunicorn"), "--workers", workers,
                                             "--bind", "127.0.0.1:{port}", "hit_counter:app"],
                        {"REDIS_URL": servers.redis_url}, free_port(), cwd=BENCH / "python")
        contenders = [("raw Redis (redis-benchmark)", "INCR", lambda: raw_redis(servers.redis_port, n(200_000)))]
        contenders += [(counter.name, "POST /hits/x", lambda counter=counter: load(f"{counter.url}/hits/x", n(50_000), "POST"))
                       for counter in counters]
        contenders.append((f"Flask + gunicorn ({workers} workers)", "POST /hits/x",
                           lambda: load(f"{flask.url}/hits/x", n(50_000), "POST")))
        for label, endpoint, result in interleaved(contenders, rounds):
            record("hit counter", label, endpoint, result)
        for service in [*counters, flask]:
            resources.append(service.resources())
            service.stop()

        log("task API")
        migration = next((ROOT / "api-service" / "migrations").glob("*.sql")).read_text()
        servers.sql("bench_python", migration)
        for database in ("bench_rust", "bench_python"):
            if database == "bench_rust":  # api-service migrates its own database on first start
                Service("migrate", [str(musl / "api-service")], {**rust_env, "DATABASE_URL": servers.database_url(database)}, free_port()).stop()
            servers.sql(database, "INSERT INTO tasks (title, description) SELECT 'Task ' || n, "
                                  "'Benchmark task number ' || n FROM generate_series(1, 100) AS n")
        api = Service("api-service (static, musl)", [str(musl / "api-service")],
                      {**rust_env, "DATABASE_URL": servers.database_url("bench_rust")}, free_port())
        record("task API", api.name, "GET /tasks", load(f"{api.url}/tasks", n(20_000)))

        log("web page")
        counter = Service("db-service", [str(musl / "db-service")], counter_env, free_port())
        web = Service("web-service (static, musl)", [str(musl / "web-service")],
                      {**rust_env, "API_URL": api.url, "COUNTER_URL": counter.url}, free_port())
        record("web page", web.name, "GET /", load(f"{web.url}/", n(10_000)))
        resources.append(web.resources())
        web.stop()
        counter.stop()

        body = json.dumps({"title": "A benchmark task", "description": "posted by oha"})
        record("task API", api.name, "POST /tasks", load(f"{api.url}/tasks", n(20_000), "POST", body))
        resources.append(api.resources())
        api.stop()
        fastapi = Service("FastAPI + uvicorn", [str(python / "uvicorn"), "task_api:app", "--host", "127.0.0.1",
                                                "--port", "{port}", "--workers", str(os.cpu_count() or 1),
                                                "--log-level", "warning", "--no-access-log"],
                          {"DATABASE_URL": servers.database_url("bench_python")}, free_port(), cwd=BENCH / "python")
        label = f"FastAPI + uvicorn ({os.cpu_count()} workers)"
        record("task API", label, "GET /tasks", load(f"{fastapi.url}/tasks", n(20_000)))
        record("task API", label, "POST /tasks", load(f"{fastapi.url}/tasks", n(20_000), "POST", body))
        resources.append(fastapi.resources())
        fastapi.stop()
    finally:
        servers.stop()
    return runs, resources


def ratios(runs):
    def rps(implementation, endpoint):
        """The run whose label starts with `implementation`: the shipped binary is
        "db-service (static, musl)", exactly; the twins' labels end in their worker count."""
        return next(run["rps"] for run in runs
                    if run["implementation"].startswith(implementation) and run["endpoint"] == endpoint)

    counter = rps("db-service (static, musl)", "POST /hits/x")
    rows = [
        ("db-service / Flask, POST /hits/x", counter / rps("Flask + gunicorn", "POST /hits/x"), 10.0),
        ("db-service / raw Redis INCR", counter / rps("raw Redis", "INCR"), 0.5),
        ("api-service / FastAPI, GET /tasks", rps("api-service", "GET /tasks") / rps("FastAPI + uvicorn", "GET /tasks"), None),
        ("api-service / FastAPI, POST /tasks", rps("api-service", "POST /tasks") / rps("FastAPI + uvicorn", "POST /tasks"), None),
    ]
    return [{"ratio": name, "value": round(value, 2), "target": target,
             "met": None if target is None else value >= target} for name, value, target in rows]


def markdown(result):
    m = result["machine"]
    lines = [f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}), {m['os']}; "
             f"{CONCURRENCY} concurrent connections, loopback. Reproduce: `bench/run.py`.", "",
             "| workload | implementation | req/s | p50 | p99 | errors | req/s of each round |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    lines += [f"| {r['group']}: {r['endpoint']} | {r['implementation']} | {r['rps']:,} | {r['p50_ms']} ms | "
              f"{r['p99_ms']} ms | {r['errors']} | {', '.join(f'{x:,}' for x in r.get('rps_rounds', [])) or '—'} |"
              for r in result["runs"]]
    lines += ["", "| ratio | measured | target |", "| --- | ---: | --- |"]
    for r in result["ratios"]:
        target = "—" if r["target"] is None else f"≥ {r['target']:g}× {'✓' if r['met'] else '✗ missed'}"
        lines.append(f"| {r['ratio']} | {r['value']}× | {target} |")
    lines += ["", "| service | start to healthy | idle RSS | peak RSS | image | image size |",
              "| --- | ---: | ---: | ---: | --- | ---: |"]
    images = result["images"]
    image_of = {"db-service (static, musl)": "db-service", "api-service (static, musl)": "api-service",
                "web-service (static, musl)": "web-service", "Flask + gunicorn": "flask-hit-counter",
                "FastAPI + uvicorn": "fastapi-task-api"}
    for r in result["resources"]:
        image = images.get(image_of.get(r["service"], ""), {})
        lines.append(f"| {r['service']} | {r['start_to_healthy_ms']} ms | {r['idle_rss_mb']} MB | "
                     f"{r['peak_rss_mb']} MB | {image.get('image', '—')} | "
                     f"{str(image['mb']) + ' MB' if image else '—'} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests, one round")
    args = parser.parse_args()
    runs, resources = benchmark(10 if args.quick else 1, 1 if args.quick else HIT_COUNTER_ROUNDS)
    result = {"machine": machine(), "concurrency": CONCURRENCY, "runs": runs,
              "ratios": ratios(runs), "resources": resources, "images": image_sizes()}
    RESULTS.mkdir(exist_ok=True)
    name = "quick" if args.quick else "latest"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (RESULTS / f"{name}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
