#!/usr/bin/env python3
"""Holds a service's SBOM to what its binary is built from, three ways: the packages of the
SBOM (docker/sbom.py's CycloneDX), `cargo tree` of the service for the binary's target with
the features it ships with, and the runtime packages of the binary's own list (.dep-v0). The
SBOM must name exactly what `cargo tree` compiles, at the same versions, and every one of them
must be in the binary's list. The list may name more, which are printed, not failed: proc
macros and their dependencies, which it records as runtime ones, and what other services of
the workspace compile (cargo-auditable resolves features for the whole workspace:
rust-secure-code/cargo-auditable#66).
Exits 1 and says what differs otherwise.

    checks/sbom.py <sbom.cdx.json> <binary> <service> <rust target triple>
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docker"))
from lib import compiled_packages, dependency_list  # noqa: E402


def from_sbom(path):
    bom = json.loads(Path(path).read_text())
    components = [*bom["components"], bom["metadata"]["component"]]
    return {(component["name"], component["version"]) for component in components}


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sbom_path, binary, service, target = sys.argv[1:]
    sbom, compiled = from_sbom(sbom_path), compiled_packages(service, target)
    listed = {(p["name"], p["version"]) for p in dependency_list(binary) if p["kind"] == "runtime"}
    problems = []
    if sbom != compiled:
        problems.append(f"the SBOM names {sorted(sbom - compiled)} that cargo tree does not compile, "
                        f"and lacks {sorted(compiled - sbom)}")
    if not compiled <= listed:
        problems.append(f"the binary's .dep-v0 lacks {sorted(compiled - listed)}, which cargo tree compiles")
    for problem in problems:
        print(f"FAIL: {service}: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    extra = sorted(listed - compiled)
    print(f"{service} ({target}): the SBOM names the {len(sbom)} packages cargo tree compiles, all in "
          f"the binary's .dep-v0" + (f", which also names {len(extra)} it does not contain (proc macros, "
                                      f"what other services compile): {', '.join(f'{n} {v}' for n, v in extra)}"
                                      if extra else ""))


if __name__ == "__main__":
    main()
