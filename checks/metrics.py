#!/usr/bin/env python3
"""The services' metrics and the lab's Prometheus files, checked by Prometheus's own promtool
(Debian unstable's `promtool` package, unpacked under ~/.cache/rust-multistage-lab/tools):

- each service, run from its debug build on the tests' throwaway PostgreSQL and Redis with
  METRICS_PORT set, after a little traffic of every kind (pages, tasks, hits, a refusal, an
  unknown route), serves a /metrics that `promtool check metrics` accepts: the exposition
  format, and Prometheus's naming rules (units, `_total` counters, HELP text);
- deploy/prometheus/prometheus.yml and the Kubernetes scrape job: `promtool check config`;
- deploy/prometheus/rules: `promtool check rules`, then their unit tests, `promtool test rules`.

    checks/metrics.py
"""

import subprocess
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
from lib import ROOT, Servers, Service, catalogue, free_port, log, run  # noqa: E402

PROMETHEUS = ROOT / "deploy" / "prometheus"
SCRAPE_CONFIGS = [PROMETHEUS / "prometheus.yml",
                  ROOT / "deploy" / "kubernetes" / "components" / "metrics" / "prometheus-scrape.yml"]


def promtool():
    found = subprocess.run(["bash", "-c", ". docker/lib.sh && debian_tool unstable promtool promtool"],
                           cwd=ROOT, capture_output=True, text=True)
    if found.returncode != 0 or not Path(found.stdout.strip()).is_file():
        sys.exit(f"cannot get promtool from Debian unstable's promtool package: {found.stderr.strip()}")
    return found.stdout.strip()


def call(url, method="GET"):
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def start_services(servers):
    """The three services, each with a metrics port of its own; web-service over the other two."""
    def start(name, env):
        metrics_port = free_port()
        service = Service(name, [str(ROOT / "target" / "debug" / name)],
                          {**env, "METRICS_PORT": str(metrics_port), "RUST_LOG": "warn"}, free_port())
        return service, metrics_port
    api = start("api-service", {"DATABASE_URL": servers.urls["DATABASE_URL"]})
    db = start("db-service", {"REDIS_URL": servers.urls["REDIS_URL"]})
    web = start("web-service", {"API_URL": api[0].url, "COUNTER_URL": db[0].url,
                                "STATIC_DIR": str(ROOT / "web-service" / "static")})
    return {"api-service": api, "db-service": db, "web-service": web}


def traffic(services):
    api, db, web = (services[name][0].url for name in ("api-service", "db-service", "web-service"))
    for _ in range(5):
        assert call(f"{web}/")[0] == 200
    assert call(f"{api}/tasks")[0] == 200
    assert call(f"{api}/tasks/999999")[0] == 404
    assert call(f"{db}/hits/metrics-check", "POST")[0] == 200
    assert call(f"{db}/hits/not%20a%20key", "POST")[0] == 400
    for url in (api, db, web):
        assert call(f"{url}/no/such/route")[0] == 404


def main():
    tool = promtool()
    failures = []

    def gate(title, command, stdin=None):
        log(title)
        answer = subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=ROOT)
        output = (answer.stdout + answer.stderr).strip()
        if output:
            print(output)
        if answer.returncode != 0:
            failures.append(title)

    for config in SCRAPE_CONFIGS:
        gate(f"promtool check config {config.relative_to(ROOT)}",
             [tool, "check", "config", "--syntax-only", str(config)])
    rules = sorted(str(path.relative_to(ROOT)) for path in (PROMETHEUS / "rules").glob("*.yml"))
    gate(f"promtool check rules {' '.join(rules)}", [tool, "check", "rules", *rules])
    tests = sorted(str(path.relative_to(ROOT)) for path in (PROMETHEUS / "tests").glob("*.yml"))
    gate(f"promtool test rules {' '.join(tests)}", [tool, "test", "rules", *tests])

    log("building the services")
    run(["cargo", "build", "--quiet", "--locked", "-p", "api-service", "-p", "db-service", "-p", "web-service"],
        cwd=ROOT)
    servers = Servers("postgres", "redis")
    services = {}
    try:
        services = start_services(servers)
        traffic(services)
        for name, (_, metrics_port) in services.items():
            status, text = call(f"http://127.0.0.1:{metrics_port}/metrics")
            text = text.decode()
            series = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
            gate(f"promtool check metrics: {name}'s /metrics ({series} series, {len(text)} bytes)",
                 [tool, "check", "metrics"], stdin=text)
            if status != 200:
                failures.append(f"{name}'s /metrics answered {status}")
    finally:
        for service, _ in services.values():
            service.stop()
        servers.stop()
    if failures:
        sys.exit("failed: " + "; ".join(failures))
    log(f"promtool accepts the scrape configurations, {len(rules)} rule file(s) and their tests, "
        f"and the metrics of {len(services)} services (metrics port {catalogue('metrics')[0][0]} in the stacks)")


if __name__ == "__main__":
    main()
