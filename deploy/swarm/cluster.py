#!/usr/bin/env python3
"""The production stack on a swarm of three nodes, and what a user sees while the nodes are
drained, killed and brought back, under steady page load (about 20 pages a second):

 setup      three Docker Engines in containers (docker/engine/node.sh), each a manager with
            its own address on a network of their own; a registry on that network, which the
            nodes pull the images from; nginx in front of the nodes, as a load balancer; the
            stack of deploy/swarm/stack.yml and deploy/swarm/cluster.yml
 1. drain   a node that runs replicas: no page may fail or degrade
 2. node loss
            a node that runs replicas but no database and is not the leader drops off the
            network and dies: no page may fail; at most 1 % degrade, none once Swarm noticed
 3. leader loss
            the leader dies: a new one is elected, pages as in 2, and a rolling update still
            succeeds with two managers of three
 4. database node loss
            the node that keeps the databases dies: pages degrade and never fail; when it
            returns, the stack recovers by itself and no task or counted view is lost
 5. rejoin  every node is back; Swarm does not move running tasks to them, a forced update
            does: a rolling update across the nodes, no page may fail or degrade

A killed node first leaves the network, then dies: its peers hear nothing more, as from a
machine that loses power (a process killed with its network still there would close its
connections). Each killed node is started again, and rejoins, before the next step.

It prints one line per step and exits 1 when a promise is broken. It removes everything it
made (containers, network, volumes); the machine's own engine never joins the swarm. It
needs the production images (it builds them: docker compose -f docker-compose.prod.yml build).

    deploy/swarm/cluster.py
"""

import ipaddress
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docker"))
from lib import ROOT, STARTED, base_images, fail, log, step  # noqa: E402
from pages import PageLoad, fetch, is_whole, views, wait_for  # noqa: E402

SUITE = "unstable"  # the nodes run Debian unstable's Engine, the newest Debian has
IMAGE = f"lab/docker-node:{SUITE}"
NODE_SH = ROOT / "docker" / "engine" / "node.sh"
NETWORK = "lab-cluster"
NODES = [f"lab-cluster-node-{number}" for number in (1, 2, 3)]
REGISTRY = "lab-cluster-registry"
BALANCER = "lab-cluster-balancer"
STACK = "lab"
WEB_PORT = 8032  # published by web-service on each node (stack.yml)
# The node that keeps the databases' volumes, labelled lab.data=true (cluster.yml).
DATA_NODE = NODES[2]
DEGRADED_AT_MOST = 0.01
SPREAD = ("api-service", "db-service")


def docker(*arguments, check=True, env=None, timeout=300):
    result = subprocess.run(["docker", *arguments], capture_output=True, text=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        fail(f"docker {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def on(node, *arguments, check=True, environment=None):
    """A docker command run by the engine of `node`, as on that machine."""
    variables = [option for name, value in (environment or {}).items() for option in ("--env", f"{name}={value}")]
    return docker("exec", *variables, node, "docker", *arguments, check=check)


class Cluster:
    """The machines of the swarm and what the steps know of them."""

    def __init__(self, subnet):
        hosts = list(subnet.hosts())
        self.subnet = subnet
        self.registry_address = str(hosts[1])
        self.balancer_address = str(hosts[2])
        self.addresses = {node: str(hosts[10 + index]) for index, node in enumerate(NODES)}
        self.down = set()
        self.page = f"http://{self.balancer_address}:8080/"

    def manager(self):
        """A manager that is up, to run swarm commands on."""
        return next(node for node in NODES if node not in self.down)

    def swarm(self, *arguments, check=True, environment=None):
        return on(self.manager(), *arguments, check=check, environment=environment)

    def nodes(self):
        """Each node's status and manager status, as the swarm sees them ('' while it has no
        leader to ask)."""
        listing = self.swarm("node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}", check=False)
        return {name: rest for name, _, rest in (line.partition(" ") for line in listing.splitlines())}

    def leader(self):
        return next((name for name, state in self.nodes().items() if state.endswith("Leader")), None)

    def tasks_by_node(self, service):
        """How many running tasks of a service each node runs."""
        listing = self.swarm("service", "ps", f"{STACK}_{service}", "--filter", "desired-state=running",
                             "--format", "{{.Node}} {{.CurrentState}}", check=False)
        return Counter(line.split()[0] for line in listing.splitlines() if " Running" in line)

    def converged(self):
        """Every service runs as many healthy tasks as it should on the nodes that are up.
        (`docker service ls` counts a lost node's tasks as running until the node returns.)"""
        listing = self.swarm("service", "ls", "--filter", f"label=com.docker.stack.namespace={STACK}",
                             "--format", "{{.Name}} {{.Replicas}}", check=False)
        wanted = {name.removeprefix(f"{STACK}_"): int(replicas.split("/")[1])
                  for name, replicas, *_ in (line.split() for line in listing.splitlines())}
        if len(wanted) != 5:
            return False
        return all(sum(count for node, count in self.tasks_by_node(service).items() if node not in self.down) == number
                   for service, number in wanted.items())

    def kill(self, node):
        """The node drops off the network, then dies: its peers hear nothing more from it."""
        docker("network", "disconnect", "--force", NETWORK, node)
        docker("kill", node)
        self.down.add(node)

    def revive(self, node):
        """Starts the node again with its disks and address; returns when the swarm has it back
        as Ready."""
        docker("network", "connect", "--ip", self.addresses[node], NETWORK, node)
        docker("start", node)
        self.down.discard(node)
        wait_for(f"{node} back in the swarm", lambda: self.nodes().get(node, "").startswith("Ready"), 180)

    def spread(self):
        return {service: len(self.tasks_by_node(service)) for service in (*SPREAD, "web-service")}


def free_subnet():
    """A /24 for the cluster's network that no route of this machine and no Docker network
    already covers."""
    used = [ipaddress.ip_network(line.split()[0], strict=False)
            for line in subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout.splitlines()
            if line.split()[0][0].isdigit()]
    for network in docker("network", "ls", "-q").split():
        for config in json.loads(docker("network", "inspect", network))[0]["IPAM"]["Config"] or []:
            if ":" not in config.get("Subnet", ":"):
                used.append(ipaddress.ip_network(config["Subnet"]))
    for third in range(64, 256):
        candidate = ipaddress.ip_network(f"172.30.{third}.0/24")
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    fail("no free /24 in 172.30.0.0/16 for the cluster's network")


def remove_everything():
    """Removes whatever an earlier or this run left: the nodes with their volumes, the
    registry, the balancer, the network."""
    subprocess.run([str(NODE_SH), "remove", *NODES], check=False)
    docker("rm", "-f", "--volumes", REGISTRY, BALANCER, check=False)
    docker("network", "rm", NETWORK, check=False)


def lab_environment():
    """The variables the stack files read: the base images (.env's or the catalogue's) and the
    version the images are tagged with."""
    environment = {**base_images(), **os.environ}
    version = next(line.split('"')[1] for line in (ROOT / "Cargo.toml").read_text().splitlines()
                   if line.startswith("version = "))
    environment.setdefault("LAB_VERSION", version)
    return environment


def write_configuration(folder, cluster):
    """The registry's configuration (no authentication: it serves the cluster's private
    network only) and nginx's: each page goes to a node in turn; a node that does not answer
    within 500 ms, or fails a page, gets the page's second try and is left out for 10 s."""
    (folder / "registry.yml").write_text(
        "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/docker-registry\n"
        "http:\n  addr: :5000\n")
    servers = "\n".join(f"    server {address}:{WEB_PORT} max_fails=1 fail_timeout=10s;"
                        for address in cluster.addresses.values())
    (folder / "nginx.conf").write_text(f"""daemon off;
worker_processes 1;
error_log stderr error;
pid /tmp/nginx.pid;
events {{}}
http {{
  access_log off;
  upstream nodes {{
{servers}
  }}
  server {{
    listen 8080;
    location / {{
      proxy_pass http://nodes;
      proxy_connect_timeout 500ms;
      proxy_read_timeout 10s;
      # Pages (GET) only: nginx never sends a POST twice.
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 2;
    }}
  }}
}}
""")


def start_machines(cluster, folder, environment):
    """The registry, filled with the images; the three nodes; the balancer."""
    docker("network", "create", "--subnet", str(cluster.subnet), NETWORK)
    docker("run", "-d", "--name", REGISTRY, "--network", NETWORK, "--ip", cluster.registry_address,
           "--no-healthcheck", "--publish", "127.0.0.1::5000", "--volume", f"{folder}/registry.yml:/etc/lab/registry.yml:ro",
           "--entrypoint", "docker-registry", IMAGE, "serve", "/etc/lab/registry.yml")
    # Pushed through the port published on loopback: this machine's engine trusts a registry
    # without TLS on loopback only. The nodes are told to trust it at its address.
    pushed_at = docker("port", REGISTRY, "5000/tcp").splitlines()[0]
    version = environment["LAB_VERSION"]
    images = [*(f"rust-lab/{name}:{version}" for name in ("api-service", "db-service", "web-service")),
              environment["POSTGRES_IMAGE"], environment["REDIS_IMAGE"]]
    wait_for("the registry", lambda: fetch(f"http://{pushed_at}/v2/")[0] == 200, 30)
    for image in images:
        docker("tag", image, f"{pushed_at}/{image}")
        docker("push", "--quiet", f"{pushed_at}/{image}")
        docker("rmi", f"{pushed_at}/{image}")
    # tcp_retries2=5: a connection whose peer stopped answering breaks after about 13 s of
    # retransmissions instead of 15 minutes (Linux's default, 15). Without it, a manager's
    # connection to a leader that died went on waiting, and the tasks the new leader gave to
    # that node stayed "Assigned" in its view for minutes while they ran.
    starts = [subprocess.Popen([str(NODE_SH), "start", node, SUITE, "--network", NETWORK, "--ip", address,
                                "--sysctl", "net.ipv4.tcp_retries2=5",
                                "--env", f"INSECURE_REGISTRY={cluster.registry_address}:5000",
                                "--volume", f"{ROOT}:/lab:ro"])
              for node, address in cluster.addresses.items()]
    if any(start.wait() != 0 for start in starts):
        fail("a node did not start")
    docker("run", "-d", "--name", BALANCER, "--network", NETWORK, "--ip", cluster.balancer_address,
           "--no-healthcheck", "--volume", f"{folder}/nginx.conf:/etc/lab/nginx.conf:ro",
           "--entrypoint", "nginx", IMAGE, "-c", "/etc/lab/nginx.conf")
    return images


def form_swarm(cluster):
    first, *others = NODES
    on(first, "swarm", "init", "--advertise-addr", cluster.addresses[first])
    token = on(first, "swarm", "join-token", "-q", "manager")
    for node in others:
        on(node, "swarm", "join", "--token", token, f"{cluster.addresses[first]}:2377")
    on(first, "node", "update", "--label-add", "lab.data=true", DATA_NODE)
    managers = sum(1 for state in cluster.nodes().values() if state.split()[-1] in ("Leader", "Reachable"))
    engine = on(first, "version", "--format", "{{.Server.Version}}")
    print(f"nodes: {managers} managers, engine {engine}", flush=True)
    if managers != 3:
        fail(f"the swarm has {managers} managers, not 3")


def wait_whole(cluster, pages=30):
    """Until `pages` pages in a row are whole: every web-service replica, through the balancer,
    reaches backends that reach their databases. (A replica waiting for its database counts as
    healthy, so Swarm's view is not enough.)"""
    last = {}

    def whole_in_a_row():
        for _ in range(pages):
            status, body = fetch(cluster.page, timeout=15)
            if not is_whole(status, body):
                last["page"] = f"status {status}: " + "; ".join(
                    line.strip() for line in body.splitlines() if "unavailable right now" in line)
                return False
        return True
    try:
        _, seconds = wait_for(f"{pages} whole pages in a row", whole_in_a_row, 180)
    except SystemExit:
        print(f"  the last page that was not whole: {last.get('page')}", file=sys.stderr)
        raise
    return seconds


def deploy(cluster, environment):
    variables = {name: environment[name] for name in ("LAB_VERSION", "POSTGRES_IMAGE", "REDIS_IMAGE")}
    variables["LAB_REGISTRY"] = f"{cluster.registry_address}:5000"
    cluster.swarm("stack", "deploy", "--detach=true", "-c", "/lab/deploy/swarm/stack.yml",
                  "-c", "/lab/deploy/swarm/cluster.yml", STACK, environment=variables)
    _, seconds = wait_for("every service running", cluster.converged, 300, every=2)
    wait_whole(cluster)
    spread = cluster.spread()
    print("spread: " + ", ".join(f"{service} on {count} nodes" for service, count in spread.items()), flush=True)
    log(f"deployed: every service ran {seconds:.0f} s after the deploy command")
    if any(spread[service] < 2 for service in SPREAD) or spread["web-service"] < 2:
        fail(f"the services are not spread over the nodes: {spread}")


class Step:
    """Steady page load around a step; its figures and broken promises."""

    def __init__(self, cluster):
        self.load = PageLoad(cluster.page, timeout=15)

    def __enter__(self):
        self.load.start()
        time.sleep(2)
        return self

    def __exit__(self, *_):
        if self.load.is_alive():
            self.stop()

    def stop(self, settle=3):
        time.sleep(settle)
        outcomes = self.load.stop()
        self.pages = sum(outcomes.values())
        self.failed, self.degraded = outcomes["failed"], outcomes["degraded"]
        return self

    def figures(self):
        return f"{self.pages} pages, {self.failed} failed, {self.degraded} degraded"

    def require(self, what, *, degraded_at_most=0, none_after=None):
        """Fails if a page failed, more than `degraded_at_most` of them (a fraction) were
        degraded, or any was degraded after `none_after` (time.monotonic())."""
        problems = []
        if self.failed:
            problems.append(f"{self.failed} page(s) failed")
        if self.degraded > degraded_at_most * self.pages:
            problems.append(f"{self.degraded} of {self.pages} pages degraded (at most {degraded_at_most:.0%})")
        late = [at for at, _ in self.load.bad if none_after is not None and at > none_after]
        if late:
            problems.append(f"{len(late)} page(s) degraded after Swarm had noticed")
        if problems:
            for at, problem in self.load.bad[:10]:
                print(f"  at {at - STARTED:.1f} s: {problem}", file=sys.stderr)
            fail(f"{what}: " + "; ".join(problems))


def wait_down(cluster, node, since):
    """Seconds until the swarm marks `node` down."""
    wait_for(f"Swarm noticing that {node} is down", lambda: cluster.nodes().get(node, "").startswith("Down"), 120)
    return time.monotonic() - since


def drain(cluster, node):
    with Step(cluster) as measured:
        begun = time.monotonic()
        cluster.swarm("node", "update", "--availability", "drain", node)
        wait_for(f"{node}'s tasks moved", lambda: cluster.converged() and not any(
            node in cluster.tasks_by_node(service) for service in (*SPREAD, "web-service")), 180)
        moved = time.monotonic() - begun
        cluster.swarm("node", "update", "--availability", "active", node)
        measured.stop()
    print(f"drain: {measured.figures()}, tasks moved in {moved:.1f} s", flush=True)
    measured.require("drain")


def node_loss(cluster, node):
    with Step(cluster) as measured:
        killed = time.monotonic()
        cluster.kill(node)
        noticed = wait_down(cluster, node, killed)
        _, _ = wait_for("the lost node's tasks replaced", cluster.converged, 180)
        replaced = time.monotonic() - killed
        measured.stop(settle=10)  # and then no page may degrade
    print(f"node loss: {measured.figures()}, noticed in {noticed:.1f} s, tasks replaced in {replaced:.1f} s", flush=True)
    measured.require("node loss", degraded_at_most=DEGRADED_AT_MOST, none_after=killed + noticed)
    cluster.revive(node)


def forced_update(cluster, service, *options):
    """`docker service update --force`: each task replaced in turn; returns when Swarm says
    the update completed."""
    name = f"{STACK}_{service}"
    cluster.swarm("service", "update", "--detach", "--force", *options, name)

    def state():
        inspected = json.loads(cluster.swarm("service", "inspect", name, check=False) or "[{}]")[0]
        return (inspected.get("UpdateStatus") or {}).get("State")
    def ended():
        now = state()
        return now if now in ("completed", "paused", "rollback_completed") else None
    ended, _ = wait_for(f"the update of {service}", ended, 300, every=1)
    if ended != "completed":
        fail(f"the update of {service} ended {ended}")


def leader_loss(cluster):
    leader = cluster.leader()
    with Step(cluster) as measured:
        killed = time.monotonic()
        cluster.kill(leader)
        wait_for("a new leader", lambda: cluster.leader() not in (None, leader), 120, every=0.2)
        elected = time.monotonic() - killed
        noticed = wait_down(cluster, leader, killed)
        wait_for("the lost leader's tasks replaced", cluster.converged, 180)
        updating = time.monotonic()
        forced_update(cluster, "db-service")
        updated = time.monotonic() - updating
        measured.stop()
    print(f"leader loss: {measured.figures()}, new leader in {elected:.1f} s ({cluster.leader()}), "
          f"update ok with 2 of 3 managers in {updated:.1f} s", flush=True)
    measured.require("leader loss", degraded_at_most=DEGRADED_AT_MOST, none_after=killed + noticed)
    cluster.revive(leader)


def database_node_loss(cluster):
    title = f"written before the database node is lost {int(time.time())}"
    status, body = fetch(cluster.page + "tasks", data=urllib.parse.urlencode({"title": title}).encode(), timeout=15)
    if not is_whole(status, body) or title not in body:
        fail(f"adding a task before the database node is lost answered {status}")
    with Step(cluster) as measured:
        killed = time.monotonic()
        cluster.kill(DATA_NODE)
        wait_down(cluster, DATA_NODE, killed)
        time.sleep(5)
        seen_before = measured.load.most_views
        cluster.revive(DATA_NODE)
        back = time.monotonic()
        wait_for("a whole page after the database node returned", lambda: is_whole(*fetch(cluster.page, timeout=15)), 180)
        recovered = time.monotonic() - back
        wait_whole(cluster)
        measured.stop()
    body = fetch(cluster.page, timeout=15)[1]
    count = views(body)
    intact = title in body and count is not None and count > max(seen_before, measured.load.most_views)
    print(f"database node loss: {measured.figures()}, recovered in {recovered:.1f} s after the node returned, "
          f"data {'intact' if intact else 'LOST'}", flush=True)
    measured.require("database node loss", degraded_at_most=1)
    if not intact:
        fail(f"after the database node returned: task listed {title in body}, views {count}, "
             f"highest count seen before {measured.load.most_views}")


def rejoin(cluster):
    before = cluster.spread()
    with Step(cluster) as measured:
        begun = time.monotonic()
        # Stop-first: the old task leaves its node before the scheduler places the new one,
        # on the node that runs the fewest of the service. Start-first (the stack's order, which
        # keeps every replica serving) places the new task while the old one still counts, and
        # can put it beside another. The stack's order is restored afterwards (no task restarts).
        for service in SPREAD:
            forced_update(cluster, service, "--update-order", "stop-first")
            cluster.swarm("service", "update", "--detach", "--update-order", "start-first", f"{STACK}_{service}")
        rebalanced = time.monotonic() - begun
        measured.stop()
    after = cluster.spread()
    print(f"rejoin: tasks rebalanced in {rebalanced:.0f} s ("
          + ", ".join(f"{service} on {before[service]} then {after[service]} nodes" for service in SPREAD)
          + f"), rolling update {measured.figures()}", flush=True)
    measured.require("rejoin")
    if any(after[service] < len(NODES) for service in SPREAD):
        fail(f"after the forced update the replicas are not on every node: {after}")


def main():
    environment = lab_environment()
    step("the production images: docker compose -f docker-compose.prod.yml build")
    subprocess.run(["docker", "compose", "-f", str(ROOT / "docker-compose.prod.yml"), "build", "--quiet"],
                   check=True, env=environment, cwd=ROOT)
    step(f"the machines: a node image ({IMAGE}), three nodes, a registry, a load balancer")
    subprocess.run([str(NODE_SH), "image", SUITE], check=True, stdout=subprocess.DEVNULL)
    remove_everything()
    folder = Path(tempfile.mkdtemp(prefix="lab-cluster."))
    cluster = Cluster(free_subnet())
    write_configuration(folder, cluster)
    try:
        images = start_machines(cluster, folder, environment)
        log(f"network {cluster.subnet}; registry {cluster.registry_address}:5000 holds {', '.join(images)}; "
            f"balancer {cluster.page}")
        step("the swarm and the stack")
        form_swarm(cluster)
        deploy(cluster, environment)
        step("1-5: nodes drained, lost and back, under steady page load")
        drain(cluster, NODES[0])
        node_loss(cluster, NODES[1])
        leader_loss(cluster)
        database_node_loss(cluster)
        rejoin(cluster)
    finally:
        step("remove the nodes, their volumes, the registry, the balancer and the network")
        remove_everything()
        subprocess.run(["rm", "-rf", str(folder)], check=False)
        left = [name for name in docker("ps", "-a", "--format", "{{.Names}}").split() if name.startswith(NETWORK)]
        left += [name for name in docker("volume", "ls", "-q").split() if name.startswith(NETWORK)]
        left += [name for name in docker("network", "ls", "--format", "{{.Name}}").split() if name == NETWORK]
        if left:
            fail(f"left behind: {left}")
        log("nothing left behind")
    print(f"all steps passed in {time.monotonic() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
