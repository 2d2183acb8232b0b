#!/usr/bin/env python3
"""Writes the SBOM of a service's binary, in CycloneDX JSON: the packages compiled into it,
read from the dependency list the binary carries (section .dep-v0, which cargo-auditable
embeds at build time).

    docker/sbom.py <binary> <service> <rust target triple> > sbom.cdx.json

auditable2cdx, the cargo-auditable project's converter (installed with cargo on first use),
turns the list into CycloneDX. The list names more than the binary holds, so what is not
compiled into it is left out, with the dependency edges that name it: what `cargo tree`
compiles for this service and target stays. The rest is of three kinds:
- what only ran while the binary was built: build scripts' crates, which auditable2cdx marks
  `cdx:rustc:dependency_kind` = `build`, and proc macros with their own dependencies, which
  the list records as runtime ones;
- what another service of the workspace pulls in: cargo-auditable reads the graph from
  `cargo metadata`, which resolves features for the whole workspace at once
  (rust-secure-code/cargo-auditable#66), so db-service's list names hyper-util's client
  dependencies that only web-service compiles.
The packages left out are named on stderr.
checks/sbom.py holds the result to the binary's list and to `cargo tree`.

BuildKit can attach an SBOM too (`docker build --sbom=true`), but its generator is a scanner
image (docker/buildkit-syft-scanner) pulled from a registry, and a scanner finds a static
Rust binary's crates only through this same section.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lib import compiled_packages  # noqa: E402

AUDITABLE2CDX_VERSION = "0.1.0"


def compiled_only(bom, compiled):
    """The SBOM without the packages the binary does not contain."""
    def kept(component):
        built_with = {"name": "cdx:rustc:dependency_kind", "value": "build"} in component.get("properties", [])
        return not built_with and (component["name"], component["version"]) in compiled
    left_out = [c for c in bom["components"] if not kept(c)]
    if left_out:
        print(f"left out {len(left_out)} packages the binary does not contain: "
              f"{', '.join(c['name'] + ' ' + c['version'] for c in left_out)}", file=sys.stderr)
    gone = {component["bom-ref"] for component in left_out}
    bom["components"] = [c for c in bom["components"] if c["bom-ref"] not in gone]
    bom["dependencies"] = [
        {**edge, **({"dependsOn": [d for d in edge["dependsOn"] if d not in gone]} if "dependsOn" in edge else {})}
        for edge in bom.get("dependencies", []) if edge["ref"] not in gone]
    return bom


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    binary, service, target = sys.argv[1:]
    if not shutil.which("auditable2cdx"):
        subprocess.run(["cargo", "install", "--locked", "--quiet", f"auditable2cdx@{AUDITABLE2CDX_VERSION}"],
                       check=True)
    bom = json.loads(subprocess.run(["auditable2cdx", binary], check=True, capture_output=True).stdout)
    json.dump(compiled_only(bom, compiled_packages(service, target)), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
