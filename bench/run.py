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

Everything runs natively on loopback (Docker's port forwarding would be measured too): the
tests' throwaway PostgreSQL and Redis (test-support's `throwaway-servers`), the release
binaries, the twins in bench/.venv from PyPI. Load comes from oha, bounded by request count and by time, at one fixed
concurrency. Results: a Markdown table on stdout, bench/results/latest.{md,json}.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from common import (CONCURRENCY, MUSL, ROOT, RUN_TIME_LIMIT, Servers, Service, ensure_oha,
                    free_port, interleaved, load, log, run)

BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
RESULTS = BENCH / "results"
HIT_COUNTER_ROUNDS = 3


# --- tools -------------------------------------------------------------------------------

def ensure_tools():
    ensure_oha()
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
    servers = Servers("postgres", "redis")
    for name in ("bench_rust", "bench_python"):
        servers.sql("postgres", f"CREATE DATABASE {name}")
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
