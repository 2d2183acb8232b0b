#!/usr/bin/env python3
"""Times the development loop of a checkout of this repository: the cold first start of its
development stack, then how long a saved edit takes to show in a response.

    bench/dev-loop.py                       # this checkout, its own docker-compose.yml
    bench/dev-loop.py --checkout DIR        # another checkout (an older commit, say)
    bench/dev-loop.py --rounds 5 --warm     # more edits; skip the cold start (stack kept)

Cold means what a fresh clone meets: the build cache emptied (`docker builder prune -af`),
the dev image and the stack's volumes removed; the base images stay. The edits, each made,
timed until a response shows it, then undone:
  template  the <h1> of web-service/templates/home.html, until GET / on 8030 shows it;
  shared    the 404 message of shared/src/error.rs, compiled into all three services,
            until GET /nope on api-service (8000) shows it.
A stack with `develop.watch` is watched with `docker compose watch --no-up`; one without it
(the watchexec image of earlier commits) watches itself. The stack is removed at the end.
"""

import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EDITS = {
    "template": ("web-service/templates/home.html", "<h1>Hello from Rust", "http://127.0.0.1:8030/"),
    "shared": ("shared/src/error.rs", 'not_found("no such route', "http://127.0.0.1:8000/nope"),
}


def log(message):
    print(f"\033[1m> {message}\033[0m", file=sys.stderr, flush=True)


def compose(checkout, *arguments, **options):
    return subprocess.run(["docker", "compose", *arguments], cwd=checkout, check=True, **options)


def body(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        return error.read().decode()
    except OSError:
        return ""


def cold_start(checkout):
    compose(checkout, "down", "--volumes", "--remove-orphans", capture_output=True)
    images = compose(checkout, "config", "--images", capture_output=True, text=True).stdout.split()
    subprocess.run(["docker", "rmi", *[i for i in images if i.startswith("rust-lab/")]], capture_output=True)
    subprocess.run(["docker", "builder", "prune", "-af"], check=True, capture_output=True)
    log("cold start: docker compose up --build --wait")
    started = time.monotonic()
    up = subprocess.run(["docker", "compose", "up", "--build", "--wait"], cwd=checkout,
                        capture_output=True, text=True)
    if up.returncode != 0:
        logs = subprocess.run(["docker", "compose", "logs", "--tail", "20"], cwd=checkout,
                              capture_output=True, text=True).stdout
        raise SystemExit(f"docker compose up failed:\n{up.stdout[-3000:]}{up.stderr[-3000:]}\n{logs}")
    return time.monotonic() - started


def timed_edit(checkout, name, marker, limit=300):
    """Makes one edit, returns the seconds until the response shows it."""
    path, anchor, url = EDITS[name]
    file = checkout / path
    text = file.read_text()
    assert anchor in text, f"{path} no longer holds {anchor!r}"
    file.write_text(text.replace(anchor, anchor + marker, 1))
    started = time.monotonic()
    while marker not in body(url):
        if time.monotonic() - started > limit:
            raise SystemExit(f"{name}: {url} did not show the edit within {limit} s")
        time.sleep(0.1)
    return time.monotonic() - started, text


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkout", type=Path, default=ROOT)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warm", action="store_true", help="skip the cold start: use the stack as it is")
    args = parser.parse_args()
    checkout = args.checkout.resolve()
    watched = "develop:" in (checkout / "docker-compose.yml").read_text()
    results = {"checkout": str(checkout), "loop": "Compose Watch" if watched else "watchexec in the image"}
    if args.warm:
        compose(checkout, "up", "--wait", capture_output=True)
    else:
        results["cold start"] = cold_start(checkout)
        log(f"cold start: {results['cold start']:.0f} s")
    watcher = None
    if watched:
        watcher = subprocess.Popen(["docker", "compose", "watch", "--no-up"], cwd=checkout,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)
    try:
        for name in EDITS:
            times = []
            for round_ in range(args.rounds):
                seconds, original = timed_edit(checkout, name, f" dev-loop {round_} {time.time():.0f}")
                times.append(seconds)
                log(f"{name} edit {round_ + 1}: {seconds:.1f} s")
                (checkout / EDITS[name][0]).write_text(original)
                # Wait for the undo to be served too, so that the next edit starts from rest.
                while " dev-loop " in body(EDITS[name][2]):
                    time.sleep(0.2)
            results[name] = times
    finally:
        if watcher:
            watcher.terminate()
            watcher.wait()
        compose(checkout, "down", "--volumes", capture_output=True)
    print(f"{results['loop']} ({checkout}):")
    if "cold start" in results:
        print(f"  cold first start: {results['cold start']:.0f} s")
    for name in EDITS:
        times = sorted(results[name])
        print(f"  {name} edit to response: median {times[len(times) // 2]:.1f} s "
              f"({', '.join(f'{t:.1f}' for t in results[name])})")


if __name__ == "__main__":
    main()
