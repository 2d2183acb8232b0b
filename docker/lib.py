"""What the lab's Python scripts share, as docker/lib.sh does for its shell scripts: the
catalogue's facts, the base images, what an image weighs, log headings, and the services run
natively on throwaway PostgreSQL and Redis servers.

Used by docker/compare-sizes.py, deploy/swarm/run.py, the checks (checks/api-contracts.py,
checks/catalogue.py, checks/kubernetes-rules.py, checks/slow-clients.py) and the benchmarks
(bench/common.py and the scripts that use it). A script beside this file imports it as
`import lib`; one elsewhere first puts this folder on its path (`sys.path.insert(0,
str(ROOT / "docker"))`). Not run on its own.
"""

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rust-multistage-lab" / "tools"


# --- log lines ---------------------------------------------------------------------------

STARTED = time.monotonic()


def log(message):
    """A line of progress, stamped with the seconds since the script started."""
    print(f"[{time.monotonic() - STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


def step(title):
    print(f"\n\033[1m=== {title} ===\033[0m", flush=True)


def fail(message):
    """Says what broke and stops the script with status 1."""
    print(f"FAIL: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(command, **options):
    return subprocess.run(command, check=True, **options)


# --- the catalogue -----------------------------------------------------------------------

def catalogue(kind):
    """The catalogue's lines of one kind (`service`, `base`), each as its list of columns after
    the kind: catalogue.txt is the one home of the facts about the services and the bases."""
    lines = (line.split() for line in (ROOT / "catalogue.txt").read_text().splitlines())
    return [columns[1:] for columns in lines if columns and columns[0] == kind]


def services():
    """Each service's port and release profile, by name, in the catalogue's order."""
    return {name: {"port": int(port), "profile": profile}
            for name, port, profile in catalogue("service")}


def base_images():
    """The base images: .env's (docker/offline/build-bases.sh points them at local stand-ins),
    or the catalogue's public ones."""
    images = dict(catalogue("base"))
    env_file = ROOT / ".env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            name, _, value = line.partition("=")
            if name in images and value and not line.startswith("#"):
                images[name] = value
    return images


# --- image sizes ------------------------------------------------------------------------

def image_facts(tag, platform=None):
    """What the image weighs, read from the image itself (`docker save`), the same way on both
    image stores, and what this engine's `docker images` shows for it:

    uncompressed  the size of its files: what the image takes unpacked, and what the classic
                  store's `docker images` shows;
    compressed    its gzipped layers and its config: what a pull transfers and a registry
                  stores (the containerd store keeps them as they were built; from the classic
                  store, whose layers are plain tar, they are gzipped here at gzip's default
                  level, as a push would, so the figure is close rather than exact);
    shown         `docker images` on this engine: on the containerd store, the unpacked files
                  plus the compressed content it keeps beside them (only the content for an
                  image of another platform, which is unpacked when it first runs)."""
    platform_option = ["--platform", platform] if platform else []
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["docker", "save", *platform_option, tag], check=True, stdout=archive)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as saved:
            manifest = json.load(saved.extractfile("manifest.json"))[0]
            uncompressed, compressed = 0, saved.getmember(manifest["Config"]).size
            for layer in manifest["Layers"]:
                blob = saved.extractfile(layer)
                gzipped = blob.read(2) == b"\x1f\x8b"
                blob.seek(0)
                files = layer_files_size(gzip.GzipFile(fileobj=blob) if gzipped else blob)
                compressed += saved.getmember(layer).size if gzipped else gzipped_length(saved.extractfile(layer))
                uncompressed += files
    shown = subprocess.run(["docker", "image", "ls", "--format", "{{.VirtualSize}}", tag],
                           check=True, capture_output=True, text=True).stdout.split()
    return {"uncompressed": uncompressed, "compressed": compressed, "layers": len(manifest["Layers"]),
            "shown": parse_size(shown[0]) if shown else None}


def layer_files_size(stream):
    """The sum of the sizes of the files in a layer's tar (a hard link adds nothing)."""
    with tarfile.open(fileobj=stream, mode="r|") as layer:
        return sum(member.size for member in layer if member.isreg())


def gzipped_length(stream):
    """How long the stream is once gzipped at gzip's default level (6)."""
    compressor, length = zlib.compressobj(6, zlib.DEFLATED, 31), 0
    while chunk := stream.read(1 << 20):
        length += len(compressor.compress(chunk))
    return length + len(compressor.flush())


def parse_size(text):
    """Bytes from a size as Docker prints it: 3.519MB, 480kB, 1.75GB (powers of 1000)."""
    number, unit = re.fullmatch(r"([0-9.]+)\s*([kMGT]?B)", text).groups()
    return round(float(number) * {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[unit])


# --- what a binary is built from --------------------------------------------------------

def dependency_list(binary):
    """The packages a binary lists in its .dep-v0 section (cargo-auditable's zlib-compressed
    JSON), each a dict with `name`, `version` and `kind` (`runtime` unless `build`). Found
    through readelf, which reads every architecture's ELF (objcopy only the machine's)."""
    headers = subprocess.run(["readelf", "--section-headers", "--wide", str(binary)],
                             check=True, capture_output=True, text=True).stdout
    found = re.search(r"\.dep-v0\s+\S+\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)", headers)
    if not found:
        raise ValueError(f"{binary} has no .dep-v0 section: not built with cargo auditable")
    offset, size = (int(value, 16) for value in found.groups())
    with open(binary, "rb") as file:
        file.seek(offset)
        packages = json.loads(zlib.decompress(file.read(size)))["packages"]
    return [{**package, "kind": package.get("kind", "runtime")} for package in packages]


def compiled_packages(service, target):
    """The packages compiled into a service's binary for a Rust target, as `cargo tree` resolves
    them for that package alone: its normal dependencies with the features it ships with, no
    proc macros (they run while compiling and leave nothing in the binary)."""
    tree = subprocess.run(["cargo", "tree", "--locked", "--quiet", "-p", service,
                           "-e", "normal,no-proc-macro", "--target", target,
                           "--prefix", "none", "--format", "{p}"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return {(name, version) for name, version in re.findall(r"^(\S+) v(\S+)", tree, re.M)}


# --- processes ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_tree(pid):
    """pid and all its descendants, from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
            except (OSError, IndexError):
                continue
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, []))
    return tree


def memory_mb(pid, field):
    """The sum of /proc/<pid>/status `field` (VmRSS, VmHWM) over the process tree, in MB."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return round(total_kb / 1024, 1)


class Servers:
    """PostgreSQL and/or Redis on free loopback ports, started by the tests' own
    `throwaway-servers` (test-support), which removes them when this process lets go."""

    def __init__(self, *kinds):
        run(["cargo", "build", "--quiet", "--locked", "-p", "test-support", "--bin", "throwaway-servers"], cwd=ROOT)
        self.process = subprocess.Popen([str(ROOT / "target" / "debug" / "throwaway-servers"), *kinds],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.urls = dict(self.process.stdout.readline().strip().split("=", 1) for _ in kinds)

    def sql(self, database, statement):
        psql = shutil.which("psql") or str(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))[-1])
        run([psql, "-q", self.database_url(database), "-v", "ON_ERROR_STOP=1", "-c", statement],
            stdout=subprocess.DEVNULL)

    def database_url(self, name):
        return self.urls["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"

    def pid(self, program):
        """The pid of the server whose command is `program` (redis-server, postgres) and whose
        command line names its port: its process tree is that server's CPU. (pg_ctl detaches
        PostgreSQL, so it is not under throwaway-servers.)"""
        url = self.urls["REDIS_URL" if program == "redis-server" else "DATABASE_URL"]
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        candidates = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "comm").read_text().strip() == program:
                    arguments = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                    if f"-p {port} " in arguments or f":{port}" in arguments or f"--port {port}" in arguments:
                        candidates.append(int(entry.name))
            except OSError:
                continue
        if not candidates:
            raise RuntimeError(f"no {program} on port {port}")
        return min(candidates)

    @property
    def redis_url(self):
        return self.urls["REDIS_URL"]

    @property
    def redis_port(self):
        return int(self.redis_url.rsplit(":", 1)[1])

    def stop(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


class Service:
    """A server process, timed from start until GET /health answers 200. With `log_file`, its
    stdout and stderr go there, as a container's go to Docker's json-file log: writing the log
    is part of the cost measured. Without, they are discarded (the Python twins log nothing
    per request)."""

    def __init__(self, name, command, env, port, cwd=ROOT, log_file=None):
        self.name, self.port, self.log_file = name, port, log_file
        command = [part.replace("{port}", str(port)) for part in command]
        output = subprocess.DEVNULL
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            output = log_file.open("w")
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env, "PORT": str(port)},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        if log_file is not None:
            output.close()  # the child holds its own descriptor
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=0.5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() - started > 60:
                raise RuntimeError(f"{name} did not become healthy")
            time.sleep(0.005)
        self.start_ms = round((time.monotonic() - started) * 1000)
        time.sleep(1)
        self.idle_mb = memory_mb(self.process.pid, "VmRSS")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def resources(self):
        return {"service": self.name, "start_to_healthy_ms": self.start_ms,
                "idle_rss_mb": self.idle_mb, "peak_rss_mb": memory_mb(self.process.pid, "VmHWM")}

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
