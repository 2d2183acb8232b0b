#!/usr/bin/env python3
"""Asserts the hardening of the production Compose stack, on the configuration Compose itself
resolves (`docker compose -f docker-compose.prod.yml config --format json`), so anchors, merges
and variables are already applied.

Every Rust service (built from docker/Dockerfile) must be read-only, drop all capabilities,
forbid new privileges, run as a non-root user, have memory and pids limits, and an exec-form
health check. PostgreSQL and Redis must publish no port. No service may carry a password in
`environment`. Run it from the repository root:

    checks/compose-hardening.py [docker-compose.prod.yml]
"""

import json
import re
import subprocess
import sys

COMPOSE_FILE = sys.argv[1] if len(sys.argv) > 1 else "docker-compose.prod.yml"
DATABASES = ("postgres", "redis")
# A variable that holds a password (not a path to one), or a URL with one in it.
PASSWORD_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET)(?!_FILE$)", re.IGNORECASE)
PASSWORD_IN_URL = re.compile(r"://[^/:@]+:[^/@]+@")


def rust_service_problems(name, service):
    """What is missing from one Rust service's hardening, as sentences."""
    problems = []
    if service.get("read_only") is not True:
        problems.append("read_only is not true: the container could modify its own filesystem")
    if service.get("cap_drop") != ["ALL"]:
        problems.append(f"cap_drop is {service.get('cap_drop')}, expected [ALL]: it keeps Linux capabilities it never uses")
    if "no-new-privileges:true" not in service.get("security_opt", []):
        problems.append("security_opt lacks no-new-privileges:true: a setuid binary could raise privileges")
    user = str(service.get("user", ""))
    if not user or user.split(":")[0] in ("0", "root"):
        problems.append(f"user is {user or 'unset'}: it would run as root")
    limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
    if not (limits.get("memory") or service.get("mem_limit")):
        problems.append("no memory limit (deploy.resources.limits.memory): a leak could take the host's memory")
    if not (limits.get("pids") or service.get("pids_limit")):
        problems.append("no pids limit (deploy.resources.limits.pids): a fork bomb could exhaust the host")
    test = service.get("healthcheck", {}).get("test")
    if not (isinstance(test, list) and test[:1] == ["CMD"]):
        problems.append(f"health check {test!r} is not exec form ['CMD', ...]: it would need a shell the image does not have")
    return problems


def main():
    resolved = subprocess.run(
        ["docker", "compose", "-f", COMPOSE_FILE, "config", "--format", "json"],
        check=True, capture_output=True, text=True,
    )
    services = json.loads(resolved.stdout)["services"]
    failures = 0

    def report(name, problems):
        nonlocal failures
        if problems:
            failures += len(problems)
            for problem in problems:
                print(f"FAIL {name}: {problem}")
        else:
            print(f"ok   {name}")

    rust = [name for name, service in services.items()
            if service.get("build", {}).get("dockerfile") == "docker/Dockerfile"]
    if not rust:
        report(COMPOSE_FILE, ["no service is built from docker/Dockerfile"])
    for name in sorted(rust):
        report(name, rust_service_problems(name, services[name]))
    for name in DATABASES:
        if name not in services:
            report(name, ["missing from the stack"])
        elif services[name].get("ports"):
            report(name, [f"publishes {services[name]['ports']}: only web-service may be reachable from outside"])
        else:
            report(name, [])
    leaks = [f"{name}: environment {key} holds a password; read it from a *_FILE secret instead"
             for name, service in sorted(services.items())
             for key, value in (service.get("environment") or {}).items()
             if PASSWORD_NAME.search(key) or PASSWORD_IN_URL.search(str(value or ""))]
    report("environment", leaks)

    print(f"{failures} problem(s)" if failures else "the production stack is hardened")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
