#!/usr/bin/env python3
"""Builds every image variant of every service and compares them: size, layers, and how many
times smaller than the single-stage baseline; with --times, also how long builds take.

    docker/compare-sizes.py            # sizes: builds the 24 images (3 services x 8 variants:
                                       # the production targets also for linux/arm64; 21 when the
                                       # Debian base is the amd64-only local stand-in)
    docker/compare-sizes.py --times    # and build times: cold, and after touching one file,
                                       # with and without the cargo-chef layer, and for arm64
                                       # (~45 min on 2 cores)
    docker/compare-sizes.py --times arm64   # time only the builds named (single-stage,
                                       # multi-stage, arm64); the others keep their last figures
    docker/compare-sizes.py --clean    # remove the lab-compare/* tags it made, and stop
    docker/compare-sizes.py --facts lab/db-service:scratch   # one image's sizes, as JSON
    docker/compare-sizes.py --out docs # write the figures the README shows (maintainers)

Writes image-sizes.md, .json and .svg (a log-scale bar chart) to .tmp/image-sizes/, which Git
ignores, so your checkout stays clean; `--out docs` replaces the published ones. Without a
registry it uses the local stand-ins of docker/offline/build-bases.sh (through .env), and
builds them first when needed. Every timing carries the date and command that measured it. The timings build from a temporary copy of the working tree,
so touching a file never changes yours.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lib import ROOT, base_images, image_facts, log, services  # noqa: E402

DOCS = ROOT / "docs"
SERVICES = list(services())
ARM64 = "linux/arm64"
# (variant, Dockerfile, target, platform: None for the engine's own), biggest first; the
# production targets again for arm64, cross-compiled (docker/Dockerfile's `cross` stage).
VARIANTS = [
    ("single-stage", "docker/Dockerfile.single-stage", None, None),
    ("dev", "docker/Dockerfile", "dev", None),
    ("runtime-debian", "docker/Dockerfile", "runtime-debian", None),
    ("runtime-debian, arm64", "docker/Dockerfile", "runtime-debian", ARM64),
    ("runtime-distroless", "docker/Dockerfile", "runtime-distroless", None),
    ("runtime-distroless, arm64", "docker/Dockerfile", "runtime-distroless", ARM64),
    ("runtime-scratch", "docker/Dockerfile", "runtime-scratch", None),
    ("runtime-scratch, arm64", "docker/Dockerfile", "runtime-scratch", ARM64),
]
COLORS = {"single-stage": "#b42318", "dev": "#c4641c", "runtime-debian": "#b7950b",
          "runtime-distroless": "#2e7d9a", "runtime-scratch": "#1d7a46",
          "runtime-debian, arm64": "#d9c36a", "runtime-distroless, arm64": "#7fb7cc",
          "runtime-scratch, arm64": "#72b98f"}
# A BuildKit progress line that starts a build step (not its internal bookkeeping).
STEP = re.compile(r"#\d+ \[(?!internal\])[^\]]*\] ")
# The handler whose edit the rebuild timing simulates.
TOUCHED = "web-service/src/routes/home.rs"


def ensure_bases():
    """The base images, building the local stand-ins first where no registry answers."""
    if not (ROOT / ".env").exists():
        subprocess.run([str(ROOT / "docker/offline/build-bases.sh"), "--if-offline"], check=True)
    return base_images()


def build(label, dockerfile, target, service, tag, context=ROOT, no_cache=False, platform=None):
    """Builds one image with docker/lib.sh's lab_build (the bases of .env, the build arguments
    every script passes), showing each step as it starts; returns (seconds, plain log)."""
    command = ["bash", "-c", '. "$0/docker/lib.sh" && lab_build "$@"', str(ROOT),
               dockerfile, target or "", service, tag, "--progress=plain"]
    if no_cache:
        command.append("--no-cache")
    if platform:
        command += ["--platform", platform]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "LAB_CONTEXT": str(context)})
    lines = []
    for line in process.stdout:
        lines.append(line)
        # "#12 [builder 4/5] RUN cargo ..." starts a step: show which image and which step.
        if STEP.match(line):
            log(f"  {label}: {line.split(' ', 1)[1].strip()[:110]}")
    if process.wait() != 0:
        sys.stdout.writelines(lines[-40:])
        sys.exit(f"building {tag} failed")
    return time.monotonic() - started, "".join(lines)


def dependency_layer_reused(plain_log):
    """Whether the build reused the `cargo chef cook` layer instead of running it."""
    step = next((line.split(" ")[0] for line in plain_log.splitlines()
                 if "cargo chef cook" in line and "--release" in line and line.startswith("#")), None)
    return step is not None and f"{step} CACHED" in plain_log


def working_tree_copy():
    """The working tree as git sees it (tracked and untracked, not ignored), in a temp folder."""
    copy = Path(tempfile.mkdtemp(prefix="lab-compare-"))
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            (copy / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name.decode())
    return copy


# The builds --times measures: (key for --times, name, Dockerfile, target, platform).
TIMINGS = [
    ("single-stage", "single-stage (no dependency layer)", "docker/Dockerfile.single-stage", None, None),
    ("multi-stage", "multi-stage (cargo-chef dependency layer)", "docker/Dockerfile", "runtime-scratch", None),
    ("arm64", "multi-stage for linux/arm64, cross-compiled", "docker/Dockerfile", "runtime-scratch", ARM64),
]


def measure_times(keys):
    """Cold builds and one-file rebuilds of all three services, for each build in `keys`."""
    results = []
    context = working_tree_copy()
    try:
        for key, name, dockerfile, target, platform in TIMINGS:
            if key not in keys:
                continue
            # Cold: the first build ignores every cached layer; the next two may reuse what it built.
            log(f"cold build, {name}")
            cold = sum(build(f"cold {service}", dockerfile, target, service, f"lab-compare/timing:{service}",
                             context, no_cache=(index == 0), platform=platform)[0]
                       for index, service in enumerate(SERVICES))
            with open(context / TOUCHED, "a") as handler:
                handler.write(f"// touched by docker/compare-sizes.py at {time.time()}\n")
            log(f"rebuild after touching {TOUCHED}, {name}")
            rebuild, reused = 0.0, []
            for service in SERVICES:
                seconds, plain = build(f"rebuild {service}", dockerfile, target, service,
                                       f"lab-compare/timing:{service}", context, platform=platform)
                rebuild += seconds
                reused.append(dependency_layer_reused(plain))
            results.append({"build": name, "cold_s": round(cold), "rebuild_s": round(rebuild),
                            "dependency_layer_reused": all(reused) if target else False,
                            "date": today(), "docker": docker_version(),
                            "command": f"docker/compare-sizes.py --times {key}"})
    finally:
        shutil.rmtree(context, ignore_errors=True)
        subprocess.run(["docker", "rmi", *[f"lab-compare/timing:{s}" for s in SERVICES]], capture_output=True)
    return results


def merged_times(measured, previous):
    """This run's timings, and the previous run's for the builds it did not time, in TIMINGS order;
    each keeps the date it was measured (rows written before rows had dates take the file's)."""
    by_name = {row["build"]: {"date": previous.get("times_date", previous.get("date")), **row}
               for row in previous.get("times", [])}
    by_name.update({row["build"]: row for row in measured})
    return [by_name[name] for _, name, *_ in TIMINGS if name in by_name]


def docker_version():
    return subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                          capture_output=True, text=True).stdout.strip()


def image_store():
    """containerd or classic, as docker/lib.sh's image_store says."""
    return subprocess.run(["bash", "-c", '. "$0/docker/lib.sh" && image_store', str(ROOT)],
                          check=True, capture_output=True, text=True).stdout.strip()


def today():
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def human(size):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.2f} {unit}" if size < 10 * scale else f"{size / scale:.0f} {unit}"
    return f"{size} B"


def svg_chart(rows):
    """Horizontal bars on a log scale, one per variant, grouped by service: the whole bar is the
    uncompressed size, its darker part the compressed one."""
    bar, gap, group_gap, left, width = 20, 6, 30, 200, 560
    low, high = 5, 10  # 10^5 (100 kB) to 10^10 (10 GB)
    x = lambda size: left + width * (math.log10(max(size, 10 ** low)) - low) / (high - low)  # noqa: E731
    height = 60 + len(SERVICES) * group_gap + len(rows) * (bar + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 190}" height="{height}" '
             f'font-family="system-ui, sans-serif" font-size="13">',
             '<rect width="100%" height="100%" fill="#ffffff"/>',
             f'<text x="{left}" y="22" font-weight="600">Image size by variant (log scale)</text>',
             f'<text x="{left}" y="40" fill="#444">whole bar: uncompressed (unpacked files); '
             'dark part: compressed (what a pull transfers)</text>']
    y = 60
    for service in SERVICES:
        y += group_gap
        parts.append(f'<text x="10" y="{y - 10}" font-weight="600">{service}</text>')
        for row in [r for r in rows if r["service"] == service]:
            end, packed = x(row["uncompressed"]), x(row["compressed"])
            color = COLORS[row["variant"]]
            parts.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end" fill="#444">{row["variant"]}</text>')
            parts.append(f'<rect x="{left}" y="{y}" width="{end - left:.1f}" height="{bar}" rx="3" '
                         f'fill="{color}" fill-opacity="0.45"/>')
            parts.append(f'<rect x="{left}" y="{y}" width="{packed - left:.1f}" height="{bar}" rx="3" fill="{color}"/>')
            parts.append(f'<text x="{end + 6:.1f}" y="{y + 14}" fill="#222">{human(row["uncompressed"])} '
                         f'({human(row["compressed"])} compressed)</text>')
            y += bar + gap
    axis = y + 8
    parts.append(f'<line x1="{left}" y1="{axis}" x2="{left + width}" y2="{axis}" stroke="#999"/>')
    for power, label in zip(range(low, high + 1), ["100 kB", "1 MB", "10 MB", "100 MB", "1 GB", "10 GB"]):
        tick = left + width * (power - low) / (high - low)
        parts.append(f'<line x1="{tick}" y1="60" x2="{tick}" y2="{axis}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{tick}" y="{axis + 16}" text-anchor="middle" fill="#666">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def factor(times):
    """1.3×, 16×, 541×: a decimal only where it tells something."""
    return f"{times:.1f}×" if times < 10 else f"{times:,.0f}×"


def markdown(result):
    shown_on = "containerd store" if result["store"] == "containerd" else "classic store"
    lines = [f"Sizes measured {result['date']} on {result['machine']} with Docker {result['docker']} "
             f"({result['store']} image store) and `docker/compare-sizes.py`; "
             f"base images: {result['bases']['RUST_IMAGE']}, "
             f"{result['bases']['DEBIAN_IMAGE']}, {result['bases']['DISTROLESS_IMAGE']}.", "",
             "Three sizes of one image: **uncompressed**, the files it unpacks to, which is also what "
             "`docker images` shows on the classic image store (Docker Engine before 29, unless "
             "configured); **compressed**, its gzipped layers and config, what a pull transfers and "
             "a registry stores; and what `docker images` shows on the **containerd image store** "
             "(Docker Desktop, Engine 29): the unpacked files, counted in disk blocks, plus the "
             "compressed layers it keeps beside them. An image built for another platform is not "
             "unpacked until it first runs, so there it shows its compressed size alone. \"vs "
             "single-stage\" compares uncompressed sizes.", "",
             f"| service | variant | uncompressed | compressed | `docker images`, {shown_on} | layers | vs single-stage |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in result["images"]:
        versus = ("baseline" if row["variant"] == "single-stage"
                  else f"{factor(row['smaller_than_single_stage'])} smaller")
        shown = human(row["shown"]) if row.get("shown") else "—"
        lines.append(f"| {row['service']} | {row['variant']} | {human(row['uncompressed'])} | "
                     f"{human(row['compressed'])} | {shown} | {row['layers']} | {versus} |")
    if result["times"]:
        lines += ["", f"Build times of all three services' images (one touched file: `{TOUCHED}`):", "",
                  "| Dockerfile | cold build | rebuild after touching one file | dependency layer reused | measured |",
                  "| --- | ---: | ---: | --- | --- |"]
        for row in result["times"]:
            command = row.get("command", "docker/compare-sizes.py --times")
            engine = f", Docker {row['docker']}" if row.get("docker") else ""
            lines.append(f"| {row['build']} | {row['cold_s']} s | {row['rebuild_s']} s | "
                         f"{'yes' if row['dependency_layer_reused'] else 'no'} | {row['date']}{engine}, `{command}` |")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", nargs="*", choices=[key for key, *_ in TIMINGS], metavar="BUILD",
                        help="also measure cold and one-file rebuild times: of every build, or only of the "
                             f"ones named ({', '.join(key for key, *_ in TIMINGS)})")
    parser.add_argument("--clean", action="store_true", help="remove the lab-compare/* tags and stop")
    parser.add_argument("--facts", metavar="IMAGE", help="print one image's sizes as JSON and stop "
                        "(with --platform for one platform of it): docker/check-images.sh reads them")
    parser.add_argument("--platform", help="with --facts: the platform to measure")
    parser.add_argument("--out", type=Path, default=ROOT / ".tmp" / "image-sizes",
                        help="where to write the figures (default .tmp/image-sizes; `docs` for the published ones)")
    args = parser.parse_args()
    if args.clean:
        # By tag, not by image ID: an ID can carry other tags too (lab/*, rust-lab/*), which stay.
        tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", "lab-compare/*"],
                              capture_output=True, text=True).stdout.split()
        if tags:
            subprocess.run(["docker", "rmi", *tags], check=True, stdout=subprocess.DEVNULL)
        log(f"removed {len(tags)} lab-compare tag(s)")
        return

    if args.facts:
        print(json.dumps(image_facts(args.facts, args.platform)))
        return

    bases = ensure_bases()
    if args.times is None:
        measured = []
    else:
        measured = measure_times(args.times or [key for key, *_ in TIMINGS])
    variants = VARIANTS
    if bases["DEBIAN_IMAGE"].startswith("lab-offline/"):
        log(f"runtime-debian for arm64 is left out: the Debian stand-in {bases['DEBIAN_IMAGE']} is for "
            "this engine's platform only (docker/offline/build-bases.sh makes no arm64 one)")
        variants = [v for v in VARIANTS if v[0] != "runtime-debian, arm64"]
    rows = []
    total = len(SERVICES) * len(variants)
    for index, (service, (variant, dockerfile, target, platform)) in enumerate(
            ((s, v) for s in SERVICES for v in variants), start=1):
        tag = f"lab-compare/{service}:{variant.replace(', ', '-')}"
        log(f"[{index:2}/{total}] {tag}")
        build(f"{service} {variant}", dockerfile, target, service, tag, platform=platform)
        rows.append({"service": service, "variant": variant, "image": tag, **image_facts(tag, platform)})
    for row in rows:
        baseline = next(r["uncompressed"] for r in rows
                        if r["service"] == row["service"] and r["variant"] == "single-stage")
        row["smaller_than_single_stage"] = round(baseline / row["uncompressed"], 1)

    cores = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    path = out / "image-sizes.json"
    # The timings this run did not measure come from the last run here, or the published ones.
    earlier = path if path.exists() else DOCS / "image-sizes.json"
    previous = json.loads(earlier.read_text()) if earlier.exists() else {}
    result = {"date": today(), "machine": f"{cores} cores", "docker": docker_version(), "store": image_store(),
              "bases": bases, "images": rows, "times": merged_times(measured, previous)}
    path.write_text(json.dumps(result, indent=2) + "\n")
    (out / "image-sizes.svg").write_text(svg_chart(rows))
    table = markdown(result)
    (out / "image-sizes.md").write_text(table)
    print(table)
    log(f"wrote image-sizes.md, .json and .svg to {out}")


if __name__ == "__main__":
    main()
