#!/usr/bin/env python3
"""The production stack on a one-node Docker Swarm, end to end, measured:

 1. init       a swarm on 127.0.0.1, unless this engine is already a manager of one
 2. build      `docker compose -f docker-compose.prod.yml build` (the images the stack runs)
 3. deploy     `docker stack deploy -c deploy/swarm/stack.yml`, until the page is whole
 4. scale      api-service and db-service to 3 replicas each
 5. spread     page loads, then each replica's access lines counted: every replica must serve
 6. metrics    the stack deployed again with deploy/swarm/observability.yml merged over it:
               Prometheus scrapes every replica (found by DNS) on the internal metrics network
 7. update     `docker service update --force` of api-service, then db-service, under steady
               page traffic: no page may be degraded or fail; then web-service, whose update
               is stop-first (it holds the node's port): how long the page is away
 8. rollback   an update the service rejects at start-up (PORT=none): Swarm must roll it back
               on its own, again with no degraded page
 9. data       a task and the view count survive `docker stack rm` and a new deploy
10. remove     the stack, the volumes it made, and the swarm if this script made it

It prints each step's time and figures, and exits 1 on the first broken promise. It leaves the
machine as it found it. Run from anywhere:

    deploy/swarm/run.py

The stack is named `lab` unless STACK is set; web-service answers on 127.0.0.1:8032.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docker"))
from lib import ROOT, STARTED, base_images, fail, log, step  # noqa: E402
from pages import PageLoad, fetch, is_whole, views, wait_for  # noqa: E402

STACK = os.environ.get("STACK", "lab")
STACK_FILE = ROOT / "deploy" / "swarm" / "stack.yml"
OBSERVABILITY_FILE = ROOT / "deploy" / "swarm" / "observability.yml"
PAGE = "http://127.0.0.1:8032/"
REPLICAS = 3
SPREAD_PAGES = 300
def docker(*arguments, check=True, capture=True, env=None):
    result = subprocess.run(["docker", *arguments], capture_output=capture, text=True, env=env)
    if check and result.returncode != 0:
        fail(f"docker {' '.join(arguments)} failed: {(result.stderr or '').strip()}")
    return (result.stdout or "").strip()


def lab_environment():
    """The variables the stack file reads: .env's bases (docker stack deploy reads no .env),
    and the version the images are tagged with."""
    environment = {**base_images(), **os.environ}
    version = re.search(r'^version = "(.*)"', (ROOT / "Cargo.toml").read_text(), re.M).group(1)
    environment.setdefault("LAB_VERSION", version)
    return environment


def service(name):
    return f"{STACK}_{name}"


def page_is_whole():
    return is_whole(*fetch(PAGE))


def running_replicas(name):
    """How many of the service's tasks run (with a health check: are healthy)."""
    tasks = docker("service", "ps", service(name), "--filter", "desired-state=running",
                   "--format", "{{.CurrentState}}", check=False)
    return sum(1 for line in tasks.splitlines() if line.startswith("Running"))


def under_load(what, action, tolerate=False):
    """Runs `action` under steady page traffic; fails if any page was degraded or failed,
    unless `tolerate`, which reports how long pages failed instead."""
    load = PageLoad(PAGE)
    load.start()
    time.sleep(2)
    seconds = action()
    time.sleep(2)
    outcomes = load.stop()
    total = sum(outcomes.values())
    log(f"{what}: {seconds:.1f} s; {total} pages under load: {outcomes['whole']} whole, "
        f"{outcomes['degraded']} degraded, {outcomes['failed']} failed")
    if tolerate:
        gap = load.bad[-1][0] - load.bad[0][0] if load.bad else 0.0
        first = f", first: {load.bad[0][1]}" if load.bad else ""
        log(f"{what}: pages failed for {gap:.1f} s ({len(load.bad)} pages{first})")
        return seconds, gap
    if load.bad:
        for at, problem in load.bad[:10]:
            print(f"  at {at - STARTED:.1f} s: {problem}", file=sys.stderr)
        fail(f"{what}: {len(load.bad)} page(s) degraded or failed")
    return seconds, total


def inspect(name):
    return json.loads(docker("service", "inspect", service(name)))[0]


def update_state(name):
    return (inspect(name).get("UpdateStatus") or {}).get("State", "")


def forced_update(name):
    begun = time.monotonic()
    docker("service", "update", "--detach", "--force", service(name))
    wait_for(f"the update of {name}", lambda: update_state(name) == "completed", 180)
    return time.monotonic() - begun


def broken_update(name):
    begun = time.monotonic()
    docker("service", "update", "--detach", "--env-add", "PORT=none", service(name))

    def ended():
        state = update_state(name)
        return state if state in ("completed", "paused", "rollback_completed", "rollback_paused") else None
    state, _ = wait_for(f"the rollback of {name}", ended, 180)
    if state != "rollback_completed":
        fail(f"the broken update of {name} ended {state!r}, not rolled back")
    if "PORT=none" in inspect(name)["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env", []):
        fail(f"{name} still has PORT=none after the rollback")
    return time.monotonic() - begun


def access_lines_by_replica(name, prefix):
    """Each replica's count of access lines for request ids starting with `prefix`. Read from
    each task's container (this swarm has one node): `docker service logs` of Docker 20.10
    sometimes never ends."""
    containers = docker("ps", "--filter", f"label=com.docker.swarm.service.name={service(name)}",
                        "--format", '{{.ID}} {{.Label "com.docker.swarm.task.name"}}')
    counts = Counter()
    for line in containers.splitlines():
        container, task = line.split(" ", 1)
        output = docker("logs", container)
        counts[task] = sum(1 for text in output.splitlines()
                           if f'"request_id":"{prefix}' in text and '"message":"request"' in text)
    return counts


def deploy(environment):
    docker("stack", "deploy", "--prune", "-c", str(STACK_FILE), STACK, env=environment)
    _, seconds = wait_for("a whole page from the new stack", page_is_whole, 180)
    return seconds


def scraped_replicas():
    """How many replicas of each service Prometheus scraped last time, asked from inside its
    container (promtool is in the image), so that the check needs nothing published."""
    container = docker("ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service('prometheus')}",
                       check=False).split()
    if not container:
        return {}
    answer = docker("exec", container[0], "promtool", "query", "instant", "--format=json", "http://127.0.0.1:9090",
                    "count by (job) (up == 1)", check=False)
    try:
        return {series["metric"]["job"]: int(series["value"][1]) for series in json.loads(answer)}
    except (ValueError, KeyError, TypeError):
        return {}


def deploy_with_metrics(environment):
    """The stack again, with observability.yml merged over it, scaled as in step 4; returns how
    long until Prometheus scraped each of the 3 + 3 + 1 replicas."""
    docker("stack", "deploy", "-c", str(STACK_FILE), "-c", str(OBSERVABILITY_FILE), STACK, env=environment)
    # The stack file's replica counts came back with the deploy: scale again, so that DNS
    # service discovery has several replicas of a service to find.
    docker("service", "scale", "--detach", f"{service('api-service')}={REPLICAS}", f"{service('db-service')}={REPLICAS}")

    def every_replica_scraped():
        expected = {"api-service": REPLICAS, "db-service": REPLICAS, "web-service": 1}
        running = {name: running_replicas(name) for name in expected}
        return running == expected and scraped_replicas() == expected and page_is_whole()
    _, seconds = wait_for("Prometheus scraping every replica", every_replica_scraped, 240)
    return seconds


def remove_stack():
    """`docker stack rm`, then waits until its containers and networks are gone."""
    docker("stack", "rm", STACK, check=False)

    def gone():
        containers = docker("ps", "-aq", "--filter", f"label=com.docker.stack.namespace={STACK}", check=False)
        networks = docker("network", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}", check=False)
        return not containers and not networks
    _, seconds = wait_for(f"stack {STACK} removed", gone, 120)
    return seconds


def main():
    environment = lab_environment()
    info = json.loads(docker("info", "--format", "{{json .Swarm}}"))
    created_swarm = False
    volumes_before = set(docker("volume", "ls", "-q").split())
    timings = {}

    step("1. a one-node swarm")
    if info.get("LocalNodeState") == "active":
        if not info.get("ControlAvailable"):
            fail("this engine is a swarm worker: run this on a manager")
        if STACK in docker("stack", "ls", "--format", "{{.Name}}").split():
            fail(f"a stack named {STACK} runs already: set STACK to another name")
        log("this engine is already a swarm manager: using its swarm, leaving it afterwards")
    else:
        # Loopback only: the swarm's control port is not opened to the network.
        docker("swarm", "init", "--advertise-addr", "127.0.0.1", "--listen-addr", "127.0.0.1:2377")
        created_swarm = True
        log("swarm initialised on 127.0.0.1 (left at the end)")

    try:
        step("2. the images: docker compose -f docker-compose.prod.yml build")
        begun = time.monotonic()
        subprocess.run(["docker", "compose", "-f", str(ROOT / "docker-compose.prod.yml"), "build", "--quiet"],
                       check=True, env=environment, cwd=ROOT)
        timings["build"] = time.monotonic() - begun
        log(f"built in {timings['build']:.0f} s: " + ", ".join(
            f"rust-lab/{name}:{environment['LAB_VERSION']}" for name in ("api-service", "db-service", "web-service")))

        step(f"3. docker stack deploy -c deploy/swarm/stack.yml {STACK}")
        timings["deploy"] = deploy(environment)
        log(f"the page is whole {timings['deploy']:.1f} s after the deploy command")

        step(f"4. scale api-service and db-service to {REPLICAS}")
        begun = time.monotonic()
        docker("service", "scale", "--detach", f"{service('api-service')}={REPLICAS}", f"{service('db-service')}={REPLICAS}")
        for name in ("api-service", "db-service"):
            wait_for(f"{REPLICAS} healthy {name} replicas", lambda name=name: running_replicas(name) == REPLICAS, 120)
        timings["scale"] = time.monotonic() - begun
        log(f"{REPLICAS} healthy replicas of each in {timings['scale']:.1f} s")

        step(f"5. how {SPREAD_PAGES} page loads spread over the replicas")
        time.sleep(3)  # web-service resolves the names again every 2 s
        for number in range(SPREAD_PAGES):
            status, _ = fetch(PAGE, request_id=f"spread-{number}")
            if status != 200:
                fail(f"page {number} answered {status}")
        time.sleep(2)  # the log lines reach `docker service logs`
        for name in ("api-service", "db-service"):
            counts = access_lines_by_replica(name, "spread-")
            total = sum(counts.values())
            shares = ", ".join(f"{count} ({count / total:.0%})" for _, count in sorted(counts.items()))
            log(f"{name}: {total} calls over {len(counts)} replicas: {shares}")
            if len(counts) != REPLICAS or min(counts.values()) < total / REPLICAS / 2:
                fail(f"{name}'s calls did not reach all {REPLICAS} replicas evenly: {dict(counts)}")

        step(f"6. docker stack deploy -c deploy/swarm/stack.yml -c deploy/swarm/observability.yml {STACK}")
        timings["metrics"] = deploy_with_metrics(environment)
        log(f"Prometheus scraped every replica ({scraped_replicas()}) {timings['metrics']:.1f} s after the deploy command")

        step("7. rolling updates under steady page traffic, metrics on")
        for name in ("api-service", "db-service"):
            timings[f"update {name}"], _ = under_load(
                f"docker service update --force {service(name)}", lambda name=name: forced_update(name))

        # web-service holds the node's port: its update is stop-first, and the page is away
        # while the new task starts (deploy/swarm/stack.yml says why).
        timings["update web-service"], timings["web-service away"] = under_load(
            f"docker service update --force {service('web-service')} (stop-first)",
            lambda: forced_update("web-service"), tolerate=True)

        step("8. a broken update (PORT=none, refused at start-up), rolled back by Swarm")
        timings["rollback"], _ = under_load(
            f"docker service update --env-add PORT=none {service('api-service')}", lambda: broken_update("api-service"))

        step("9. the data survives docker stack rm and a new deploy")
        title = f"survives the stack {int(time.time())}"
        status, _ = fetch(PAGE + "tasks", data=urllib.parse.urlencode({"title": title}).encode())
        if status != 200:  # the form redirects to the page, which urllib follows
            fail(f"adding a task through the form answered {status}")
        views_before = views(fetch(PAGE)[1])
        timings["stack rm"] = remove_stack()
        timings["redeploy"] = deploy(environment)
        body = fetch(PAGE)[1]
        views_after = views(body)
        if title not in body or views_after is None or views_after <= views_before:
            fail(f"after the new deploy: task listed {title in body}, views {views_before} then {views_after}")
        log(f"removed in {timings['stack rm']:.1f} s, whole again {timings['redeploy']:.1f} s after the new deploy; "
            f"the task is listed and the count went on ({views_before}, then {views_after})")
    finally:
        step("10. remove the stack, its volumes, and the swarm if this script made it")
        remove_stack()
        made = set(docker("volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={STACK}",
                          check=False).split()) - volumes_before
        for volume in sorted(made):
            docker("volume", "rm", volume, check=False)
        if created_swarm:
            docker("swarm", "leave", "--force", check=False)
        log(f"removed the stack and {len(made)} volume(s)" + ("; left the swarm" if created_swarm else ""))

    step("figures")
    for what, seconds in timings.items():
        print(f"  {what:<24} {seconds:6.1f} s")
    print(f"all steps passed in {time.monotonic() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
