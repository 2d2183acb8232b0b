#!/usr/bin/env python3
"""Fuzzes api-service and db-service against the OpenAPI documents they serve, with schemathesis.

Each service runs from its debug build (overflow checks on) on loopback, on the tests' throwaway PostgreSQL or
Redis (test-support's `throwaway-servers`). schemathesis reads `GET /openapi.json` and runs
every phase (examples, coverage, fuzzing, and the stateful phase that follows the documents'
links: create a task, then read, replace, complete and delete it) with every check: no 5xx, no
status, header or body outside the document, no valid input refused, no invalid input
accepted, nothing still there after a DELETE. Any failure fails the check; schemathesis prints
the request that reproduces it, and its seed.

    checks/api-contracts.py                  # both services, 90 s of fuzzing each
    checks/api-contracts.py --max-time 600   # longer, before a release
    checks/api-contracts.py db-service

schemathesis is installed on first use under ~/.cache/rust-multistage-lab/tools.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
from lib import ROOT, TOOLS, Servers, Service, free_port, log, run  # noqa: E402

SCHEMATHESIS_VERSION = "4.32.5"
# What each service needs from throwaway-servers, and how it is told where that is.
SERVICES = {
    "api-service": ("postgres", "DATABASE_URL"),
    "db-service": ("redis", "REDIS_URL"),
}


def ensure_schemathesis():
    venv = TOOLS / "schemathesis"
    binary = venv / "bin" / "schemathesis"
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True) \
        if binary.exists() else None
    if version is None or SCHEMATHESIS_VERSION not in version.stdout:
        log(f"installing schemathesis {SCHEMATHESIS_VERSION} under {venv}")
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "--quiet", f"schemathesis=={SCHEMATHESIS_VERSION}"])
    return binary


def fuzz(schemathesis, name, servers, max_time, scratch):
    """True when schemathesis finds nothing wrong with `name`."""
    _, variable = SERVICES[name]
    # Warnings and errors only: a 5xx's cause is logged there, without 10,000 access lines.
    log_file = ROOT / "target" / "api-contracts" / f"{name}.log"
    service = Service(name, [str(ROOT / "target" / "debug" / name)],
                      {variable: servers.urls[variable], "RUST_LOG": "warn"}, free_port(),
                      log_file=log_file)
    try:
        log(f"{name}: schemathesis against {service.url}/openapi.json for {max_time} s")
        # One worker: with two, hypothesis has crashed in the coverage phase here ("AST
        # constructor recursion depth mismatch"), which is a failure of the tool, not the API.
        answer = subprocess.run([
            str(schemathesis), "run", f"{service.url}/openapi.json",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-time", str(max_time),
            "--workers", "1",
            "--request-timeout", "10",
        ], cwd=scratch)  # schemathesis keeps its example database in the working directory
        if answer.returncode != 0:
            log(f"{name}'s log: {log_file}")
        return answer.returncode == 0
    finally:
        service.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("services", nargs="*", metavar="SERVICE", help=", ".join(SERVICES))
    parser.add_argument("--max-time", type=int, default=90, help="seconds of testing per service")
    options = parser.parse_args()
    options.services = options.services or list(SERVICES)
    unknown = set(options.services) - set(SERVICES)
    if unknown:
        parser.error(f"no such service: {', '.join(sorted(unknown))}")

    schemathesis = ensure_schemathesis()
    log("building the services")
    run(["cargo", "build", "--quiet", "--locked",
         *(argument for name in options.services for argument in ("-p", name))], cwd=ROOT)
    servers = Servers(*sorted({SERVICES[name][0] for name in options.services}))
    try:
        with tempfile.TemporaryDirectory(prefix="schemathesis-") as scratch:
            failed = [name for name in options.services
                      if not fuzz(schemathesis, name, servers, options.max_time, scratch)]
    finally:
        servers.stop()
    if failed:
        log(f"schemathesis found failures in: {', '.join(failed)}")
        sys.exit(1)
    log(f"schemathesis found no failure in: {', '.join(options.services)}")


if __name__ == "__main__":
    main()
