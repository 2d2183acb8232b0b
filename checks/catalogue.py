#!/usr/bin/env python3
"""Holds to the catalogue (catalogue.txt) the files that cannot read it: the Dockerfiles'
defaults and port line, the Compose and Swarm files, the Kubernetes manifests and the GitHub
workflow. Each service's port, wherever a file names it (a published or exposed port, a
container port, a Service port, a `http://<service>:<port>` URL); each base image's public
default; each service's release profile, which Cargo.toml must define; and the workflow's list
of services; the metrics port, wherever METRICS_PORT is set or Prometheus is told where to
scrape; and the lab's version, whose home is Cargo.toml. Prints every disagreement and exits 1
if there is one.

    checks/catalogue.py            (PyYAML: checks/catalogue.sh runs it in a venv that has it)
"""

import re
import sys
import tomllib
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
from lib import ROOT, catalogue, services  # noqa: E402

SERVICES = services()
PORTS = {name: facts["port"] for name, facts in SERVICES.items()}
BASES = dict(catalogue("base"))
METRICS_PORT = int(catalogue("metrics")[0][0])
DOCKERFILES = ["docker/Dockerfile", "docker/Dockerfile.single-stage", "docker/Dockerfile.minimal",
               *sorted(str(path.relative_to(ROOT)) for path in (ROOT / "docker" / "offline").glob("*.Dockerfile")),
               "docker/engine/node.Dockerfile", "bench/python/Dockerfile"]
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.prod.yml", "deploy/swarm/stack.yml", "deploy/swarm/cluster.yml",
                 "deploy/swarm/observability.yml"]
URL = re.compile(r"http://([a-z-]+):(\d+)")
DEFAULT = re.compile(r"\$\{(\w+):-([^}]+)\}")
problems = []


def disagree(where, found, wanted):
    if found != wanted:
        problems.append(f"{where}: {found}, where catalogue.txt says {wanted}")


def strings(node):
    """Every string in a parsed YAML document, with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from ((f"{key}.{path}" if path else str(key), text) for path, text in strings(value))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from ((f"[{index}].{path}" if path else f"[{index}]", text) for path, text in strings(value))
    elif isinstance(node, str):
        yield "", node


def check_strings(where, document):
    """URLs that name a service, `${BASE_IMAGE:-default}` defaults, and METRICS_PORT's value,
    anywhere in a file."""
    for path, text in strings(document):
        if path.endswith("METRICS_PORT") or path.endswith("prometheus.io/port"):
            disagree(f"{where} {path}", int(text), METRICS_PORT)
        for name, port in URL.findall(text):
            if name in PORTS:
                disagree(f"{where} {path} ({text})", int(port), PORTS[name])
        for variable, default in DEFAULT.findall(text):
            if variable in BASES:
                disagree(f"{where} {path} (${{{variable}}})", default, BASES[variable])


def check_dockerfiles():
    for name in DOCKERFILES:
        text = (ROOT / name).read_text()
        for variable, default in re.findall(r"^ARG (\w+)=(\S+)$", text, re.M):
            if variable in BASES:
                disagree(f"{name} ARG {variable}", default, BASES[variable])
    # docker/Dockerfile finds each service's port from its name (`${SERVICE/db-service/8001}`).
    text = (ROOT / "docker/Dockerfile").read_text()
    mapped = {name: int(port) for name, port in re.findall(r"\$\{\w+/([a-z-]+)/(\d+)\}", text)}
    disagree("docker/Dockerfile, the ports found from SERVICE", mapped, PORTS)
    # docker/Dockerfile.minimal builds db-service alone.
    exposed = re.findall(r"^EXPOSE (\d+)$", (ROOT / "docker/Dockerfile.minimal").read_text(), re.M)
    disagree("docker/Dockerfile.minimal EXPOSE", [int(port) for port in exposed], [PORTS["db-service"]])


def container_port(mapping):
    """The container's side of a Compose port: "127.0.0.1:8030:8080", or the long form."""
    if isinstance(mapping, dict):
        return int(mapping["target"])
    return int(str(mapping).rsplit(":", 1)[-1].split("/")[0])


def check_compose():
    for name in COMPOSE_FILES:
        document = yaml.safe_load((ROOT / name).read_text())
        check_strings(name, document)
        for service, spec in document["services"].items():
            if service in PORTS:
                for mapping in spec.get("ports", []):
                    disagree(f"{name} {service}.ports ({mapping})", container_port(mapping), PORTS[service])


def check_kubernetes():
    for path in sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml")):
        where = str(path.relative_to(ROOT))
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            check_strings(where, document)
            kind, name = document.get("kind"), document.get("metadata", {}).get("name")
            if name not in PORTS:
                continue
            if kind == "Deployment":
                for container in document["spec"]["template"]["spec"]["containers"]:
                    for port in container.get("ports", []):
                        disagree(f"{where} Deployment {name} containerPort", port["containerPort"], PORTS[name])
            if kind == "Service":
                for port in document["spec"]["ports"]:
                    disagree(f"{where} Service {name} port", port["port"], PORTS[name])


def check_prometheus():
    """Every target Prometheus's DNS discovery builds is on the metrics port."""
    where = "deploy/prometheus/prometheus.yml"
    document = yaml.safe_load((ROOT / where).read_text())
    for job in document["scrape_configs"]:
        for discovery in job.get("dns_sd_configs", []):
            disagree(f"{where} {job['job_name']} port", discovery["port"], METRICS_PORT)
        disagree(f"{where} job {job['job_name']}", job["job_name"] in PORTS, True)


def check_version():
    """The lab's version has its home in Cargo.toml: the Dockerfile's default and the Compose
    and Swarm files' `${LAB_VERSION:-...}` hold copies of it."""
    version = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]["package"]["version"]
    for variable, default in re.findall(r"^ARG (VERSION)=(\S+)$", (ROOT / "docker/Dockerfile").read_text(), re.M):
        disagree(f"docker/Dockerfile ARG {variable}", default, version)
    for name in COMPOSE_FILES:
        for default in re.findall(r"\$\{LAB_VERSION:-([^}]+)\}", (ROOT / name).read_text()):
            disagree(f"{name} ${{LAB_VERSION}}", default, version)


def check_profiles():
    manifest = tomllib.loads((ROOT / "Cargo.toml").read_text())
    defined = {"release", "dev", "test", "bench", *manifest.get("profile", {})}
    for name, facts in SERVICES.items():
        if facts["profile"] not in defined:
            problems.append(f"catalogue.txt: {name}'s profile {facts['profile']} is not a profile of Cargo.toml")


def check_workflow():
    text = (ROOT / ".github/workflows/images.yml").read_text()
    matrix = yaml.safe_load(text)["jobs"]["image"]["strategy"]["matrix"]["service"]
    disagree(".github/workflows/images.yml matrix.service", matrix, list(PORTS))


def main():
    check_dockerfiles()
    check_compose()
    check_kubernetes()
    check_prometheus()
    check_version()
    check_profiles()
    check_workflow()
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"every file agrees with catalogue.txt: {len(PORTS)} services, {len(BASES)} base images")


if __name__ == "__main__":
    main()
