#!/usr/bin/env python3
"""The lab's Rust services beside their Python twins, in one run, on one machine.

    bench/run.py            # everything: about 5 minutes, plus the first builds
    bench/run.py --quick    # a tenth of the requests and one round, to try the script

Hit counter: db-service POST /hits/x as it ships (static, musl, mimalloc, opt-level 3, an access
line per request as JSON into a file), in interleaved rounds (the median is reported) against
raw `redis-benchmark -t incr` on the same Redis, the smallest axum + Redis counter
(bench/minimal-counter: what the middleware, logging and error handling cost), HTTP alone
(its GET /health, no Redis: the floor of any HTTP counter here), db-service recording its
metrics (METRICS_PORT, as the stacks run it), db-service built with the size profile, on musl's own allocator and with Debian's musl-gcc instead of zig (as the images were
built before they were cross-compiled), and the seed lab's Flask + gunicorn twin. Task API:
api-service GET /tasks (100 tasks) and POST /tasks against the FastAPI + uvicorn twin on the
same PostgreSQL. The web page `/`, which calls both backends. Every run reports the CPU time
per request of each process it involves, which says what bounds its rate. Per service: idle and
peak RSS, start-to-healthy time, and the image size beside the Python image built from the same
Debian base.

Everything runs natively on loopback (Docker's port forwarding would be measured too): the
tests' throwaway PostgreSQL and Redis (test-support's `throwaway-servers`), the binaries built
as the Dockerfile builds them, the twins in bench/.venv from PyPI. Load comes from oha, bounded
by request count and by time, at one fixed concurrency, pinned to a core of its own (the last
one; redis-benchmark too), with the services, Redis and PostgreSQL on the others (taskset):
a load generator sharing their cores would take CPU from them in proportion to the rate. The
headline is each service's CPU time per request, which does not depend on the load generator;
the targets are on it (db-service with metrics against the minimal counter) and on throughput.
Results: a Markdown table on stdout, bench/results/latest.{md,json}.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

from common import (CONCURRENCY, MUSL, ROOT, RUN_TIME_LIMIT, ensure_oha, interleaved, load, load_setup,
                    on_load_core, on_server_cores, server_core_count, servers_on_server_cores,
                    static_build, with_cpu)
from lib import Service, base_images, free_port, image_facts, log, run, services  # noqa: E402

BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
RESULTS = BENCH / "results"
HIT_COUNTER_ROUNDS = 5
LOGS = ROOT / "target" / "bench-logs"
# Production logging: an access line per request, as JSON, to a file (see Service).
RUST_ENV = {"RUST_LOG": "info", "LOG_FORMAT": "json"}
# Each service's release profile, as the catalogue gives it and the images ship it.
PROFILES = {name: facts["profile"] for name, facts in services().items()}
# db-service built otherwise, beside the shipped binary: with the other profile (the one the
# other two ship with, so in their folder), and on musl's own allocator (in a folder of its
# own, since only a feature differs from the shipped build).
OTHER_PROFILE = next(profile for profile in sorted(set(PROFILES.values())) if profile != PROFILES["db-service"])
VARIANTS = {
    "size profile": ["--profile", OTHER_PROFILE],
    "musl's allocator": ["--profile", PROFILES["db-service"], "--no-default-features",
                         "--target-dir", str(ROOT / "target" / "bench-musl-allocator")],
}
# db-service as the images held it before they were cross-compiled with zig: plain `cargo build`,
# Debian's musl-gcc compiling mimalloc and linking. Kept to show that zig costs no speed.
GCC_TOOLCHAIN = "built with musl-gcc (before zig)"
GCC_TARGET_DIR = ROOT / "target" / "bench-musl-gcc"


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
    """The static binaries as the Dockerfile builds them, the minimal counter as db-service,
    and the db-service variants; returns the path of each."""
    log("building the release binaries: static (musl) as shipped, the minimal counter, and three "
        "db-service variants")
    # The minimal counter is built as db-service is, to compare like with like.
    built = {**PROFILES, "minimal-counter": PROFILES["db-service"]}
    for profile in sorted(set(built.values())):
        packages = [name for name, its_profile in built.items() if its_profile == profile]
        static_build("--profile", profile, *[option for name in packages for option in ("-p", name)])
    binaries = {name: ROOT / "target" / MUSL / profile / name for name, profile in built.items()}
    for variant, options in VARIANTS.items():
        static_build("-p", "db-service", *options)
        target_dir = Path(options[options.index("--target-dir") + 1]) if "--target-dir" in options else ROOT / "target"
        profile = options[options.index("--profile") + 1]
        binaries[f"db-service, {variant}"] = target_dir / MUSL / profile / "db-service"
    run(["cargo", "build", "--quiet", "--locked", "--profile", PROFILES["db-service"], "--target", MUSL,
         "-p", "db-service", "--target-dir", str(GCC_TARGET_DIR)], cwd=ROOT)
    binaries[f"db-service, {GCC_TOOLCHAIN}"] = GCC_TARGET_DIR / MUSL / PROFILES["db-service"] / "db-service"
    return binaries


def access_lines(log_file):
    """The access lines a service wrote: one per request answered."""
    with log_file.open() as lines:
        return sum(json.loads(line).get("message") == "request" for line in lines)


def raw_redis(port, requests):
    output = subprocess.run(
        on_load_core(["redis-benchmark", "-p", str(port), "-t", "incr", "-n", str(requests),
                      "-c", str(CONCURRENCY), "--csv"]), check=True, capture_output=True, text=True,
        timeout=RUN_TIME_LIMIT).stdout
    header, values = [line.replace('"', "").split(",") for line in output.strip().splitlines()[:2]]
    row = dict(zip(header, values))
    return {"requests": requests, "sent": requests, "rps": round(float(row["rps"])),
            "p50_ms": float(row["p50_latency_ms"]), "p99_ms": float(row["p99_latency_ms"]),
            "errors": 0}


# --- images -----------------------------------------------------------------------------

def image_sizes():
    """Image sizes in MB, uncompressed: the Rust scratch images and the Python twins' images."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        return {}
    debian = base_images()["DEBIAN_IMAGE"]
    sizes = {}
    for service in PROFILES:
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
    # Uncompressed, the size every engine agrees on (docker/lib.py's image_facts).
    return {name: {"image": image, "mb": round(image_facts(image)["uncompressed"] / 1e6, 2)}
            for name, image in sizes.items()}


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
    servers = servers_on_server_cores("postgres", "redis")
    for name in ("bench_rust", "bench_python"):
        servers.sql("postgres", f"CREATE DATABASE {name}")
    runs, resources = [], []

    def record(group, implementation, endpoint, result):
        runs.append({"group": group, "implementation": implementation, "endpoint": endpoint, **result})
        log(f"{implementation} {endpoint}: {result['rps']} req/s, p99 {result['p99_ms']} ms, {result['errors']} errors")

    def rust_service(name, binary, env):
        log_name = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        return Service(name, on_server_cores([str(binary)]), {**RUST_ENV, **env}, free_port(),
                       log_file=LOGS / f"{log_name}.log")

    try:
        python = VENV / "bin"
        redis, postgres = servers.pid("redis-server"), servers.pid("postgres")

        log("hit counter")
        counter_env = {"REDIS_URL": servers.redis_url}
        counters = [rust_service(label, binaries[name], counter_env)
                    for label, name in (("db-service (static, musl)", "db-service"),
                                        ("db-service, size profile", "db-service, size profile"),
                                        ("db-service, musl's allocator", "db-service, musl's allocator"),
                                        (f"db-service, {GCC_TOOLCHAIN}", f"db-service, {GCC_TOOLCHAIN}"))]
        # What the access line costs: the same binary, logging only warnings and errors.
        counters.append(rust_service("db-service without access lines (RUST_LOG=warn)", binaries["db-service"],
                                     {**counter_env, "RUST_LOG": "warn"}))
        # What the metrics cost: the same binary recording them (a histogram per request and
        # per Redis command, the in-flight gauge), as the stacks run it.
        counters.append(rust_service("db-service with metrics (METRICS_PORT)", binaries["db-service"],
                                     {**counter_env, "METRICS_PORT": str(free_port())}))
        minimal = Service("minimal counter (bench/minimal-counter)", on_server_cores([str(binaries["minimal-counter"])]),
                          counter_env, free_port())
        workers = str(2 * server_core_count() + 1)  # gunicorn's advice, for the cores it has
        flask = Service("Flask + gunicorn", on_server_cores([str(python / "gunicorn"), "--workers", workers,
                                                             "--bind", "127.0.0.1:{port}", "hit_counter:app"]),
                        counter_env, free_port(), cwd=BENCH / "python")

        def hits(service, count):
            return lambda: with_cpu(lambda: load(f"{service.url}/hits/x", count, "POST"),
                                    service=service.process.pid, redis=redis)

        contenders = [("raw Redis (redis-benchmark)", "INCR",
                       lambda: with_cpu(lambda: raw_redis(servers.redis_port, n(200_000)), redis=redis))]
        contenders += [(service.name, "POST /hits/x", hits(service, n(50_000))) for service in [*counters, minimal]]
        contenders.append(("HTTP alone: the minimal counter's GET /health, no Redis", "GET /health",
                           lambda: with_cpu(lambda: load(f"{minimal.url}/health", n(50_000)),
                                            service=minimal.process.pid)))
        contenders.append((f"Flask + gunicorn ({workers} workers)", "POST /hits/x", hits(flask, n(20_000))))
        for label, endpoint, result in interleaved(contenders, rounds):
            record("hit counter", label, endpoint, result)
        for service in [*counters, minimal, flask]:
            resources.append(service.resources())
            service.stop()  # which writes out the last lines of its log
        shipped = counters[0]
        sent = rounds * next(run["sent"] for run in runs if run["implementation"] == shipped.name)
        resources[0]["access_lines"] = access_lines(shipped.log_file)
        log(f"{shipped.name}: {resources[0]['access_lines']} access lines for {sent} requests in {shipped.log_file}")
        if resources[0]["access_lines"] != sent:
            sys.exit("the access log lost lines: the measurement is void")

        log("task API")
        migration = next((ROOT / "api-service" / "migrations").glob("*.sql")).read_text()
        servers.sql("bench_python", migration)
        for database in ("bench_rust", "bench_python"):
            if database == "bench_rust":  # api-service migrates its own database on first start
                rust_service("migrate", binaries["api-service"], {"DATABASE_URL": servers.database_url(database)}).stop()
            servers.sql(database, "INSERT INTO tasks (title, description) SELECT 'Task ' || n, "
                                  "'Benchmark task number ' || n FROM generate_series(1, 100) AS n")
        api = rust_service("api-service (static, musl)", binaries["api-service"],
                           {"DATABASE_URL": servers.database_url("bench_rust")})
        tasks = lambda service, count, *body: with_cpu(  # noqa: E731
            lambda: load(f"{service.url}/tasks", count, *body), service=service.process.pid, postgres=postgres)
        record("task API", api.name, "GET /tasks", tasks(api, n(20_000)))

        log("web page")
        counter = rust_service("db-service", binaries["db-service"], counter_env)
        web = rust_service("web-service (static, musl)", binaries["web-service"],
                           {"API_URL": api.url, "COUNTER_URL": counter.url})
        record("web page", web.name, "GET /", with_cpu(
            lambda: load(f"{web.url}/", n(10_000)), service=web.process.pid, api_service=api.process.pid,
            db_service=counter.process.pid, postgres=postgres, redis=redis))
        resources.append(web.resources())
        web.stop()
        counter.stop()

        body = json.dumps({"title": "A benchmark task", "description": "posted by oha"})
        record("task API", api.name, "POST /tasks", tasks(api, n(20_000), "POST", body))
        resources.append(api.resources())
        api.stop()
        fastapi = Service("FastAPI + uvicorn", on_server_cores([str(python / "uvicorn"), "task_api:app", "--host",
                                                                 "127.0.0.1", "--port", "{port}", "--workers",
                                                                 str(server_core_count()), "--log-level", "warning",
                                                                 "--no-access-log"]),
                          {"DATABASE_URL": servers.database_url("bench_python")}, free_port(), cwd=BENCH / "python")
        label = f"FastAPI + uvicorn ({server_core_count()} workers)"
        record("task API", label, "GET /tasks", tasks(fastapi, n(20_000)))
        record("task API", label, "POST /tasks", tasks(fastapi, n(20_000), "POST", body))
        resources.append(fastapi.resources())
        fastapi.stop()
    finally:
        servers.stop()
    return runs, resources


IMAGE_LIMIT_MB = 2.5
IDLE_RSS_LIMIT_MB = 10


def ratios(runs):
    def run_of(implementation, endpoint):
        """The run whose label starts with `implementation`: the shipped binary is
        "db-service (static, musl)", exactly; the twins' labels end in their worker count."""
        return next(run for run in runs
                    if run["implementation"].startswith(implementation) and run["endpoint"] == endpoint)

    def rps(implementation, endpoint):
        return run_of(implementation, endpoint)["rps"]

    def cpu(implementation):
        """The service's own CPU time per request, µs: what it costs, whatever drives the load."""
        return run_of(implementation, "POST /hits/x")["service_cpu_us"]

    counter = rps("db-service (static, musl)", "POST /hits/x")
    minimal = rps("minimal counter", "POST /hits/x")
    raw = rps("raw Redis", "INCR")
    # (ratio, value, target, whether the value must stay at most (rather than at least) the target)
    rows = [
        ("CPU per request: db-service with metrics (as the stacks run it) / minimal counter",
         cpu("db-service with metrics") / cpu("minimal counter"), 1.25, True),
        ("CPU per request: db-service / minimal counter", cpu("db-service (static, musl)") / cpu("minimal counter"),
         1.25, True),
        ("CPU per request: db-service without access lines / minimal counter",
         cpu("db-service without access lines") / cpu("minimal counter"), None, True),
        ("db-service with metrics / minimal counter, POST /hits/x", rps("db-service with metrics", "POST /hits/x") / minimal,
         0.85, False),
        ("db-service / minimal counter, POST /hits/x", counter / minimal, 0.85, False),
        ("db-service / raw Redis INCR", counter / raw, 0.8, False),
        ("db-service / Flask, POST /hits/x", counter / rps("Flask + gunicorn", "POST /hits/x"), 30.0, False),
        ("db-service as shipped (opt-level 3) / built with the size profile",
         counter / rps("db-service, size profile", "POST /hits/x"), None, False),
        ("db-service as shipped (zig) / built with musl-gcc",
         counter / rps(f"db-service, {GCC_TOOLCHAIN}", "POST /hits/x"), None, False),
        ("db-service without access lines / minimal counter",
         rps("db-service without access lines", "POST /hits/x") / minimal, None, False),
        ("db-service with metrics / without, POST /hits/x", rps("db-service with metrics", "POST /hits/x") / counter,
         0.97, False),
        ("minimal counter / raw Redis INCR (the floor of an HTTP counter)", minimal / raw, None, False),
        ("HTTP alone, no Redis / raw Redis INCR", rps("HTTP alone", "GET /health") / raw, None, False),
        ("api-service / FastAPI, GET /tasks", rps("api-service", "GET /tasks") / rps("FastAPI + uvicorn", "GET /tasks"),
         None, False),
        ("api-service / FastAPI, POST /tasks",
         rps("api-service", "POST /tasks") / rps("FastAPI + uvicorn", "POST /tasks"), None, False),
    ]
    return [{"ratio": name, "value": round(value, 2), "target": target, "at_most": at_most,
             "met": None if target is None else (value <= target if at_most else value >= target)}
            for name, value, target, at_most in rows]


def cpu_per_request(run, service):
    """The service's CPU per request (`service_cpu_us`), or the others': "redis 5.2, ..."."""
    if service:
        return f"{run['service_cpu_us']}" if "service_cpu_us" in run else "—"
    return ", ".join(f"{key.removesuffix('_cpu_us').replace('_', '-')} {value}"
                     for key, value in run.items() if key.endswith("_cpu_us") and key != "service_cpu_us") or "—"


def within(value, limit):
    return f"{value} MB {'✓' if value <= limit else '✗ over ' + str(limit)}"


def markdown(result):
    m = result["machine"]
    raw = next(r["rps"] for r in result["runs"] if r["endpoint"] == "INCR")
    lines = [f"Measured {m['date']} on {m['cores']} cores ({m['cpu']}), {m['os']}; "
             f"{result['load_setup']}; {CONCURRENCY} concurrent connections, loopback; raw Redis INCR "
             f"{raw:,} req/s on this machine in this run; the Rust services log every request as JSON to a "
             "file. CPU per request is the headline: the service's own CPU time (user + system, from /proc) "
             "divided by the requests sent, which does not depend on the load generator. "
             "Reproduce: `bench/run.py`.", "",
             "| workload | implementation | service CPU per request, µs | req/s | p50 | p99 | errors | "
             "CPU per request of the others, µs | req/s of each round |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    lines += [f"| {r['group']}: {r['endpoint']} | {r['implementation']} | {cpu_per_request(r, True)} | {r['rps']:,} | "
              f"{r['p50_ms']} ms | {r['p99_ms']} ms | {r['errors']} | {cpu_per_request(r, False)} | "
              f"{', '.join(f'{x:,}' for x in r.get('rps_rounds', [])) or '—'} |"
              for r in result["runs"]]
    lines += ["", "| ratio | measured | target |", "| --- | ---: | --- |"]
    for r in result["ratios"]:
        bound = "≤" if r["at_most"] else "≥"
        target = "—" if r["target"] is None else f"{bound} {r['target']:g}× {'✓' if r['met'] else '✗ missed'}"
        lines.append(f"| {r['ratio']} | {r['value']}× | {target} |")
    lines += ["", f"Limits for the Rust services: idle RSS ≤ {IDLE_RSS_LIMIT_MB} MB, scratch image "
              f"≤ {IMAGE_LIMIT_MB} MB.", "",
              "| service | start to healthy | idle RSS | peak RSS | image | image size |",
              "| --- | ---: | ---: | ---: | --- | ---: |"]
    images = result["images"]
    image_of = {"db-service (static, musl)": "db-service", "api-service (static, musl)": "api-service",
                "web-service (static, musl)": "web-service", "Flask + gunicorn": "flask-hit-counter",
                "FastAPI + uvicorn": "fastapi-task-api"}
    for r in result["resources"]:
        image = images.get(image_of.get(r["service"], ""), {})
        shipped = r["service"] in ("db-service (static, musl)", "api-service (static, musl)", "web-service (static, musl)")
        idle = within(r["idle_rss_mb"], IDLE_RSS_LIMIT_MB) if shipped else f"{r['idle_rss_mb']} MB"
        size = "—" if not image else within(image["mb"], IMAGE_LIMIT_MB) if shipped else f"{image['mb']} MB"
        lines.append(f"| {r['service']} | {r['start_to_healthy_ms']} ms | {idle} | "
                     f"{r['peak_rss_mb']} MB | {image.get('image', '—')} | {size} |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the requests, one round")
    args = parser.parse_args()
    runs, resources = benchmark(10 if args.quick else 1, 1 if args.quick else HIT_COUNTER_ROUNDS)
    result = {"machine": machine(), "load_setup": load_setup(), "concurrency": CONCURRENCY, "runs": runs,
              "ratios": ratios(runs), "resources": resources, "images": image_sizes()}
    RESULTS.mkdir(exist_ok=True)
    name = "quick" if args.quick else "latest"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (RESULTS / f"{name}.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
