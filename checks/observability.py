#!/usr/bin/env python3
"""The production stack's observability profile, end to end, as the guide has learners run it:

- `docker compose -f docker-compose.prod.yml --profile observability up` adds Prometheus, which
  finds every service's metrics port over the internal `metrics` network and has the lab's
  alert rules loaded; its UI answers on 127.0.0.1:9090, and no metrics port is published;
- under a steady trickle of page loads, Redis is stopped: the Redis failure metric rises, and
  the alerts an operator would get fire (LabRedisFailing, LabBackendFailing, LabPagesFailing),
  each timed from the stop; the page's p99 and its failed-or-degraded ratio are read with the
  PromQL the guide gives;
- Redis is started again: every alert resolves, timed from the start.

It starts the stack when it is not running (building the images if needed), and removes only
Prometheus and its data, before and after, so that `docker/e2e.sh prod` before it and the checks after it share the
stack. With --keep, Prometheus stays up (http://127.0.0.1:9090).

    checks/observability.py [--keep]
"""

import argparse
import json
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "deploy" / "swarm"))
from lib import ROOT, log  # noqa: E402
from pages import PageLoad, fetch, is_whole, wait_for  # noqa: E402

PAGE = "http://127.0.0.1:8031/"
PROMETHEUS = "http://127.0.0.1:9090"
JOBS = {"api-service", "db-service", "web-service"}
RULES = ROOT / "deploy" / "prometheus" / "rules"
# The alerts a Redis outage must fire: the cause, the backend call it breaks, and what users see.
OUTAGE_ALERTS = [("LabRedisFailing", "db-service"), ("LabBackendFailing", "web-service"),
                 ("LabPagesFailing", "")]
# The rules' `for:` plus a scrape and an evaluation interval each, twice over.
FIRE_WITHIN = 120
RESOLVE_WITHIN = 150
GUIDE = ROOT / "docs" / "lab-guide.md"
REDIS_FAILURES = 'sum(rate(redis_command_duration_seconds_count{outcome!="ok"}[1m]))'


def guide_queries():
    """The PromQL of the guide's topic "Metrics and alerts": its ```promql block, each query
    under its comment. The check runs them as written, so the guide's queries work."""
    text = GUIDE.read_text()
    block = re.search(r"### Metrics and alerts.*?```promql\n(.*?)```", text, re.DOTALL).group(1)
    queries = {}
    for part in re.split(r"\n\s*\n", block.strip()):
        lines = part.splitlines()
        name = lines[0].lstrip("# ").split(":")[0]
        queries[name] = " ".join(line.strip() for line in lines[1:])
    if len(queries) != 2:
        sys.exit(f"expected two queries in the guide's promql block, found {list(queries)}")
    return queries


def compose(*arguments, check=True):
    env_script = ". docker/lib.sh && export GIT_REVISION=${GIT_REVISION:-$(lab_revision)} " \
                 "LAB_VERSION=${LAB_VERSION:-$(lab_version)} BUILD_DATE=${BUILD_DATE:-$(lab_created)} && " \
                 'exec docker compose -f docker-compose.prod.yml --profile observability "$@"'
    return subprocess.run(["bash", "-c", env_script, "compose", *arguments], cwd=ROOT, check=check,
                          capture_output=True, text=True)


def fail(message):
    print(f"  FAIL {message}", file=sys.stderr)
    print(compose("ps", check=False).stdout, file=sys.stderr)
    print(compose("logs", "--tail", "20", "prometheus", check=False).stdout, file=sys.stderr)
    sys.exit(1)


def api(path, **query):
    url = f"{PROMETHEUS}/api/v1/{path}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)["data"]


def scalar(expression):
    result = api("query", query=expression)["result"]
    return float(result[0]["value"][1]) if result else float("nan")


def firing():
    """The alerts firing now, as (alertname, job) pairs (LabServiceDown's service as its job)."""
    return {(alert["labels"]["alertname"], alert["labels"].get("job", alert["labels"].get("service", "")))
            for alert in api("alerts")["alerts"] if alert["state"] == "firing"}


def expected_rules():
    return sum(len(re.findall(r"^\s*- alert:", path.read_text(), re.MULTILINE)) for path in RULES.glob("*.yml"))


def remove_prometheus():
    """Prometheus's container and its data: each run starts with no series and no alert
    state (Prometheus restores its alerts' pending time from its data)."""
    compose("rm", "--stop", "--force", "prometheus", check=False)
    project = json.loads(compose("config", "--format", "json").stdout)["name"]
    volumes = subprocess.run(["docker", "volume", "ls", "-q", "--filter", f"label=com.docker.compose.project={project}",
                              "--filter", "label=com.docker.compose.volume=prometheus-data"],
                             capture_output=True, text=True, check=True).stdout.split()
    if volumes:
        subprocess.run(["docker", "volume", "rm", *volumes], capture_output=True, check=True)


def check_setup():
    remove_prometheus()
    started = time.monotonic()
    # --no-recreate: a stack docker/e2e.sh left running stays as it is; Prometheus joins it.
    compose("up", "-d", "--wait", "--quiet-pull", "--no-recreate")
    log(f"stack with the observability profile up in {time.monotonic() - started:.0f} s")
    wait_for("every service's metrics target up", lambda: {
        target["labels"]["job"] for target in api("targets")["activeTargets"] if target["health"] == "up"} >= JOBS, 60)
    targets = sorted((t["labels"]["job"], t["scrapeUrl"]) for t in api("targets")["activeTargets"])
    print("  ok  targets up: " + ", ".join(f"{job} ({url})" for job, url in targets))
    rules = [rule for group in api("rules")["groups"] for rule in group["rules"] if rule["type"] == "alerting"]
    if len(rules) != expected_rules() or any(rule["health"] != "ok" for rule in rules):
        fail(f"{len(rules)} alert rules loaded ({expected_rules()} in {RULES.relative_to(ROOT)}), "
             f"health {sorted({rule['health'] for rule in rules})}")
    print(f"  ok  {len(rules)} alert rules loaded, all healthy")
    # A service that started after Prometheus may have been absent long enough to fire
    # LabServiceDown; it resolves at the next evaluation after its first scrape.
    _, quiet = wait_for("no alert firing", lambda: not firing(), 60)
    print(f"  ok  no alert firing ({quiet:.0f} s after every target was up)")
    code, _ = fetch("http://127.0.0.1:8031/metrics")
    if code != 404:
        fail(f"GET /metrics on web-service's public port answered {code}, not 404")
    published = compose("ps", "--format", "{{.Service}} {{.Publishers}}").stdout
    if "9464" in re.sub(r'"TargetPort":9464,"PublishedPort":0', "", published.replace(" ", "")):
        fail(f"a metrics port is published: {published}")
    print("  ok  metrics are reached over the metrics network only: /metrics on port 8031 is 404, 9464 is not published")


def check_outage():
    pages = PageLoad(PAGE)
    pages.start()
    time.sleep(15)  # a rate over a minute needs a few scrapes of traffic before the outage
    compose("stop", "redis")
    try:
        fire_alerts(time.monotonic())
    finally:
        compose("start", "redis")
    restarted = time.monotonic()
    _, back = wait_for("the whole page back", lambda: is_whole(*fetch(PAGE)), 60)
    print(f"  ok  the whole page back {back:.1f} s after Redis started")
    wait_for("every alert resolved", lambda: not firing(), RESOLVE_WITHIN)
    print(f"  ok  every alert resolved {time.monotonic() - restarted:.1f} s after Redis started")
    outcomes = pages.stop()
    print(f"      pages loaded meanwhile: {outcomes['whole']} whole, {outcomes['degraded']} degraded "
          f"(view count unavailable), {outcomes['failed']} failed")
    if outcomes["failed"]:
        fail(f"{outcomes['failed']} pages failed: a Redis outage must only degrade the page")


def fire_alerts(stopped):
    """Waits for each alert of OUTAGE_ALERTS to fire, then reads the guide's queries."""
    times = {}
    while len(times) < len(OUTAGE_ALERTS):
        if time.monotonic() - stopped > FIRE_WITHIN:
            fail(f"with Redis stopped, only {sorted(times)} fired within {FIRE_WITHIN} s")
        now = firing()
        for alert in OUTAGE_ALERTS:
            if alert not in times and any(name == alert[0] and (not alert[1] or job == alert[1]) for name, job in now):
                times[alert] = time.monotonic() - stopped
                print(f"  ok  {alert[0]}{'{job=' + alert[1] + '}' if alert[1] else ''} firing "
                      f"{times[alert]:.1f} s after Redis stopped")
        time.sleep(0.5)
    outage = {name: scalar(query) for name, query in guide_queries().items()}
    outage["Redis commands failing a second"] = scalar(REDIS_FAILURES)
    if not outage["Redis commands failing a second"] > 0:
        fail(f"the Redis failure metric did not rise: {outage}")
    print("  ok  during the outage: " + ", ".join(f"{name} {value:.3g}" for name, value in outage.items()))
    also = sorted(f"{name}{{job={job}}}" if job else name for name, job in firing() - set(OUTAGE_ALERTS))
    print(f"      also firing: {', '.join(also) or 'none'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave Prometheus running")
    arguments = parser.parse_args()
    try:
        check_setup()
        check_outage()
    finally:
        if not arguments.keep:
            remove_prometheus()
    log("observability: targets, rules, and a Redis outage's alerts checked")


if __name__ == "__main__":
    main()
