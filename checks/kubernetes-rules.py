#!/usr/bin/env python3
"""The rules the Kubernetes manifests must keep, checked on what `kubectl kustomize
deploy/kubernetes` renders (so on what a cluster would receive). No cluster runs here: this and
`kubernetes-validate --strict` are the proof there is (checks/kubernetes.sh runs both).

    checks/kubernetes-rules.py rendered.yaml               # every rule; exit 1 naming each broken one
    checks/kubernetes-rules.py --self-test rendered.yaml   # and each rule catches what it should

Needs PyYAML (checks/kubernetes.sh runs it from the venv that holds kubectl).
"""

import copy
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
from lib import catalogue, services  # noqa: E402

NAMESPACE = "rust-lab"
# Each service's port, from the catalogue (catalogue.txt): the manifests are held to it.
SERVICES = {name: facts["port"] for name, facts in services().items()}
DATABASES = {"postgres": 5432, "redis": 6379}
# The outside world reaches web-service through the ingress controller, in its own namespace.
INGRESS_CONTROLLER = ("ingress-nginx", {})
ALLOWED_FLOWS = {("ingress", "web-service"), ("web-service", "api-service"), ("web-service", "db-service"),
                 ("api-service", "postgres"), ("db-service", "redis")}
# With the metrics component: the cluster's Prometheus, and it alone, reaches each service's
# metrics port (the catalogue's).
METRICS_PORT = int(catalogue("metrics")[0][0])
SCRAPER = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
METRICS_FLOWS = {("prometheus", name) for name in SERVICES}
SOURCE = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def named(objects, kind, name):
    return next((o for o in by_kind(objects, kind) if o["metadata"]["name"] == name), None)


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"].get("labels", {})


def matches(selector, labels):
    """A label selector against labels: matchLabels, and matchExpressions with In (the only
    operator the manifests use; another is an error, not a guess)."""
    if selector is None:
        return False
    for expression in selector.get("matchExpressions", []):
        if expression["operator"] != "In":
            raise ValueError(f"matchExpressions operator {expression['operator']} is not modelled")
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return all(labels.get(key) == value for key, value in selector.get("matchLabels", {}).items())


def metrics_ports(objects):
    """Each service whose Deployment has a `metrics` container port, with that port."""
    ports = {}
    for name in SERVICES:
        deployment = named(objects, "Deployment", name)
        for container in deployment["spec"]["template"]["spec"]["containers"] if deployment else []:
            for port in container.get("ports", []):
                if port.get("name") == "metrics":
                    ports[name] = port["containerPort"]
    return ports


def metrics_problems(objects):
    """With the metrics component, each service exports on the catalogue's metrics port, says
    so to Prometheus's pod discovery, and sets METRICS_PORT to it; all three or none."""
    problems = []
    ports = metrics_ports(objects)
    if ports and set(ports) != set(SERVICES):
        problems.append(f"metrics on {sorted(ports)} only: all three services export, or none")
    for name, port in ports.items():
        deployment = named(objects, "Deployment", name)
        template = deployment["spec"]["template"]
        annotations = template["metadata"].get("annotations", {})
        env = {variable["name"]: variable.get("value")
               for variable in template["spec"]["containers"][0].get("env", [])}
        found = {"containerPort": port, "METRICS_PORT": env.get("METRICS_PORT"),
                 "prometheus.io/port": annotations.get("prometheus.io/port")}
        for what, value in found.items():
            if str(value) != str(METRICS_PORT):
                problems.append(f"{name}: metrics {what} is {value}, where catalogue.txt says {METRICS_PORT}")
        if annotations.get("prometheus.io/scrape") != "true":
            problems.append(f"{name}: metrics without the annotation prometheus.io/scrape: \"true\"")
    return problems


def namespace_problems(objects):
    problems = []
    if [o["metadata"]["name"] for o in by_kind(objects, "Namespace")] != [NAMESPACE]:
        problems.append(f"the rendering must create exactly the namespace {NAMESPACE}")
    for o in objects:
        if o["kind"] != "Namespace" and o["metadata"].get("namespace") != NAMESPACE:
            problems.append(f"{o['kind']} {o['metadata']['name']} is not in the namespace {NAMESPACE}")
    return problems


def workload_problems(objects):
    problems = []
    for name in SERVICES:
        deployment = named(objects, "Deployment", name)
        if deployment is None:
            problems.append(f"no Deployment {name}")
            continue
        if named(objects, "Service", name) is None:
            problems.append(f"no Service {name}")
        autoscaler = next((h for h in by_kind(objects, "HorizontalPodAutoscaler")
                           if h["apiVersion"] == "autoscaling/v2"
                           and h["spec"]["scaleTargetRef"]["name"] == name
                           and h["spec"].get("minReplicas", 1) >= 2), None)
        if deployment["spec"].get("replicas", 1) < 2 and autoscaler is None:
            problems.append(f"Deployment {name} has fewer than two replicas and no autoscaling/v2 HPA with minReplicas >= 2")
        if not any(matches(p["spec"].get("selector"), pod_labels(deployment))
                   for p in by_kind(objects, "PodDisruptionBudget")):
            problems.append(f"no PodDisruptionBudget selects the pods of {name}")
    for name in DATABASES:
        statefulset = named(objects, "StatefulSet", name)
        if statefulset is None:
            problems.append(f"no StatefulSet {name}")
            continue
        if not statefulset["spec"].get("volumeClaimTemplates"):
            problems.append(f"StatefulSet {name} has no volumeClaimTemplates: its data would die with the pod")
        for container in statefulset["spec"]["template"]["spec"]["containers"]:
            if "readinessProbe" not in container:
                problems.append(f"StatefulSet {name}: container {container['name']} has no readiness probe")
        if named(objects, "Service", name) is None:
            problems.append(f"no Service {name}")
    return problems


def secret_problems(objects):
    problems = []
    secrets = [s for s in by_kind(objects, "Secret") if s["metadata"]["name"].startswith("postgres-password-")]
    if len(secrets) != 1:
        problems.append("no Secret postgres-password-<hash>: the password must come from kustomize's secretGenerator")
    password = (SOURCE / "secrets" / "postgres-password.txt").read_text().strip()
    for manifest in sorted(SOURCE.glob("*.yaml")):
        text = manifest.read_text()
        if password in text or "kind: Secret" in text:
            problems.append(f"{manifest.name} holds a Secret or the password itself: it must only come from the file")
    return problems


def ingress_problems(objects):
    backends = [path["backend"]["service"]["name"]
                for ingress in by_kind(objects, "Ingress")
                for rule in ingress["spec"].get("rules", [])
                for path in rule.get("http", {}).get("paths", [])]
    return [] if backends == ["web-service"] else [f"the Ingress must send to web-service only, not {backends}"]


def container_problems(objects):
    """Every rule for each container of the three services."""
    problems = []
    for name in SERVICES:
        deployment = named(objects, "Deployment", name)
        if deployment is None:
            continue
        pod = deployment["spec"]["template"]["spec"]
        pod_security = pod.get("securityContext", {})
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: automountServiceAccountToken is not false")
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            security = container.get("securityContext", {})
            if not (security.get("runAsNonRoot", pod_security.get("runAsNonRoot")) is True):
                problems.append(f"{where}: runAsNonRoot is not true")
            if security.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem is not true")
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if security.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: capabilities do not drop ALL")
            seccomp = security.get("seccompProfile", pod_security.get("seccompProfile", {}))
            if seccomp.get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccomp profile is not RuntimeDefault")
            liveness = container.get("livenessProbe", {}).get("httpGet", {}).get("path")
            if liveness != "/health":
                problems.append(f"{where}: the liveness probe must ask /health, not {liveness}")
            readiness = container.get("readinessProbe", {})
            if readiness.get("httpGet", {}).get("path") != "/ready" and \
                    readiness.get("exec", {}).get("command", [])[-1:] != ["healthcheck"]:
                problems.append(f"{where}: the readiness probe must ask /ready (or run the healthcheck mode)")
            resources = container.get("resources", {})
            for kind, resource in (("requests", "cpu"), ("requests", "memory"), ("limits", "memory")):
                if resource not in resources.get(kind, {}):
                    problems.append(f"{where}: no {resource} in resources.{kind}")
            image = container.get("image", "")
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
            if not tag or tag == "latest":
                problems.append(f"{where}: image {image!r} is not pinned to a version tag")
    return problems


def network_problems(objects):
    """Which pod may open a connection to which, computed from the policies, against the list."""
    problems = []
    policies = by_kind(objects, "NetworkPolicy")
    if not any(p["spec"].get("podSelector") == {} and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
               and not p["spec"].get("ingress") and not p["spec"].get("egress") for p in policies):
        problems.append("no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)")
    pods = {}  # name -> (namespace, labels, port)
    for kind, names in (("Deployment", SERVICES), ("StatefulSet", DATABASES)):
        for name, port in names.items():
            workload = named(objects, kind, name)
            if workload is not None:
                pods[name] = (NAMESPACE, pod_labels(workload), port)
    pods["ingress"] = (*INGRESS_CONTROLLER, None)
    exported = metrics_ports(objects)
    if exported:
        pods["prometheus"] = (*SCRAPER, None)

    def peer_matches(peer, namespace, labels):
        if "namespaceSelector" in peer:
            namespace_labels = {"kubernetes.io/metadata.name": namespace}
            if not matches(peer["namespaceSelector"], namespace_labels) and peer["namespaceSelector"] != {}:
                return False
            return "podSelector" not in peer or matches(peer["podSelector"], labels) or peer["podSelector"] == {}
        return namespace == NAMESPACE and (matches(peer.get("podSelector"), labels) or peer.get("podSelector") == {})

    def allows(direction, policy_pod, peer_pod, port):
        """Whether the policies selecting policy_pod let traffic in `direction` with peer_pod."""
        namespace, labels, _ = pods[policy_pod]
        if namespace != NAMESPACE:
            return True  # not ours to restrict
        selecting = [p for p in policies
                     if direction in p["spec"].get("policyTypes", [])
                     and (p["spec"]["podSelector"] == {} or matches(p["spec"]["podSelector"], labels))]
        peer_namespace, peer_labels, _ = pods[peer_pod]
        key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
        for policy in selecting:
            for rule in policy["spec"].get(key, []):
                ports = [p.get("port") for p in rule.get("ports", [])]
                if ports and port not in ports:
                    continue
                peers = rule.get(peers_key)  # a rule without peers allows every peer
                if peers is None or any(peer_matches(peer, peer_namespace, peer_labels) for peer in peers):
                    return True
        return not selecting

    open_flows = set()
    for source in pods:
        for target, (_, _, port) in pods.items():
            if source != target and port is not None \
                    and allows("Egress", source, target, port) and allows("Ingress", target, source, port):
                open_flows.add((source, target))
    for flow in sorted(open_flows - ALLOWED_FLOWS):
        problems.append(f"the policies let {flow[0]} connect to {flow[1]}, which is not in the allowed list")
    for flow in sorted(ALLOWED_FLOWS - open_flows):
        problems.append(f"the policies keep {flow[0]} from connecting to {flow[1]}, which must be allowed")
    scrapes = {(source, target) for source in pods for target, port in exported.items()
               if source != target and allows("Egress", source, target, port)
               and allows("Ingress", target, source, port)}
    for flow in sorted(scrapes - METRICS_FLOWS):
        problems.append(f"the policies let {flow[0]} reach {flow[1]}'s metrics port, which only Prometheus may")
    for flow in sorted(METRICS_FLOWS - scrapes if exported else set()):
        problems.append(f"the policies keep {flow[0]} from scraping {flow[1]}'s metrics port")
    return problems


RULES = [namespace_problems, workload_problems, secret_problems, ingress_problems, container_problems,
         metrics_problems, network_problems]


def problems_of(objects):
    return [problem for rule in RULES for problem in rule(objects)]


def self_test(objects):
    """Breaks the rendering in one way after another; each must be caught, naming what broke."""
    def container(copy_, name):
        return named(copy_, "Deployment", name)["spec"]["template"]["spec"]["containers"][0]

    def web_to_postgres(objects):
        named(objects, "NetworkPolicy", "web-service")["spec"]["egress"].append({})
        named(objects, "NetworkPolicy", "postgres")["spec"]["ingress"][0]["from"].append({"podSelector": {}})

    breakages = {
        "runAsNonRoot": lambda o: (container(o, "api-service")["securityContext"].pop("runAsNonRoot"),
                                   named(o, "Deployment", "api-service")["spec"]["template"]["spec"]["securityContext"].pop("runAsNonRoot")),
        "readOnlyRootFilesystem": lambda o: container(o, "db-service")["securityContext"].update(readOnlyRootFilesystem=False),
        "capabilities": lambda o: container(o, "web-service")["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
        "liveness probe": lambda o: container(o, "api-service").pop("livenessProbe"),
        "readiness probe": lambda o: container(o, "db-service")["readinessProbe"]["httpGet"].update(path="/health"),
        "no memory in resources.limits": lambda o: container(o, "web-service")["resources"].pop("limits"),
        "not pinned": lambda o: container(o, "api-service").update(image="rust-lab/api-service:latest"),
        "automountServiceAccountToken": lambda o: named(o, "Deployment", "db-service")["spec"]["template"]["spec"].pop("automountServiceAccountToken"),
        "fewer than two replicas": lambda o: named(o, "Deployment", "web-service")["spec"].update(replicas=1),
        "volumeClaimTemplates": lambda o: named(o, "StatefulSet", "redis")["spec"].pop("volumeClaimTemplates"),
        "default-deny": lambda o: o.remove(named(o, "NetworkPolicy", "default-deny")),
        "web-service connect to postgres": web_to_postgres,
        "keep db-service from connecting to redis": lambda o: named(o, "NetworkPolicy", "redis")["spec"]["ingress"][0]["ports"][0].update(port=6380),
        "PodDisruptionBudget": lambda o: o.remove(named(o, "PodDisruptionBudget", "api-service")),
    }
    if metrics_ports(objects):
        scrape = lambda o: named(o, "NetworkPolicy", "metrics-scrape")["spec"]["ingress"][0]  # noqa: E731
        breakages.update({
            "ingress reach api-service's metrics port": lambda o: scrape(o)["from"].append(
                {"namespaceSelector": {}}),
            "keep prometheus from scraping db-service": lambda o: scrape(o)["ports"][0].update(port=9465),
            "prometheus.io/port is 9100": lambda o: named(o, "Deployment", "api-service")["spec"]["template"]
            ["metadata"]["annotations"].update({"prometheus.io/port": "9100"}),
        })
    failures = 0
    for expected, breakage in breakages.items():
        broken = copy.deepcopy(objects)
        breakage(broken)
        caught = [p for p in problems_of(broken) if expected in p]
        if caught:
            print(f"self-test: breaking {expected!r} is caught: {caught[0]}")
        else:
            print(f"self-test FAILED: breaking {expected!r} went unnoticed", file=sys.stderr)
            failures += 1
    return failures


def main():
    arguments = sys.argv[1:]
    test_rules = arguments[:1] == ["--self-test"]
    rendered = Path(arguments[-1] if arguments else "")
    if not rendered.is_file():
        sys.exit(__doc__)
    objects = [o for o in yaml.safe_load_all(rendered.read_text()) if o]
    problems = problems_of(objects)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        sys.exit(f"{len(problems)} rule(s) broken")
    # The self-test breaks manifests that keep every rule, so it runs only on those.
    if test_rules and self_test(objects):
        sys.exit(1)
    print(f"{len(objects)} objects keep every rule: namespace, replicas and disruption budgets, "
          "StatefulSets with volumes and readiness, the generated Secret, the Ingress, container "
          f"security, probes, resources and pinned images, and exactly {len(ALLOWED_FLOWS)} allowed flows"
          + (f", and Prometheus's {len(METRICS_FLOWS)} scrapes on port {METRICS_PORT}" if metrics_ports(objects) else ""))


if __name__ == "__main__":
    main()
