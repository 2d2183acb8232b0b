#!/usr/bin/env python3
"""Compares two OCI image layouts (`docker buildx build --output type=oci,tar=false`) platform
by platform: the manifest digests, and where they differ, why. It unpacks each layer and names
the files that differ (content, mode, owner, time, link), the config fields that differ, or the
layers one image has and the other lacks. Exits 1 when a platform differs.

    docker/compare-layouts.py <layout> <other layout>

docker/reproduce.sh runs it on two builds of one commit. (diffoci does this, but is not
packaged for Debian.)
"""

import gzip
import hashlib
import io
import json
import sys
import tarfile
from pathlib import Path


def blob(layout, digest):
    algorithm, value = digest.split(":")
    return layout / "blobs" / algorithm / value


def read_blob(layout, digest):
    """The blob's bytes, after checking that they are whole: their hash is their name."""
    data = blob(layout, digest).read_bytes()
    algorithm, value = digest.split(":")
    if hashlib.new(algorithm, data).hexdigest() != value:
        sys.exit(f"{layout}: blob {digest} is damaged: its content does not hash to its name")
    return data


def read_json(layout, digest):
    return json.loads(read_blob(layout, digest))


def check_complete(layout, descriptor):
    """Every blob the manifest names is in the layout, whole (a digest alone proves nothing
    about a layout that lacks its layers)."""
    manifest = read_json(layout, descriptor["digest"])
    for part in [manifest["config"], *manifest["layers"]]:
        read_blob(layout, part["digest"])


def manifests(layout):
    """{platform: manifest descriptor} of the layout's image index (one level of nesting)."""
    found = {}
    pending = json.loads((layout / "index.json").read_text())["manifests"]
    while pending:
        descriptor = pending.pop(0)
        if descriptor["mediaType"].endswith(("image.index.v1+json", "manifest.list.v2+json")):
            pending.extend(read_json(layout, descriptor["digest"])["manifests"])
            continue
        platform = descriptor.get("platform", {})
        found[f"{platform.get('os', '?')}/{platform.get('architecture', '?')}"] = descriptor
    return found


def layer_entries(layout, descriptor):
    """{path: (kind, mode, owner, mtime, link, sha256 of content)} of one layer."""
    data = read_blob(layout, descriptor["digest"])
    if descriptor["mediaType"].endswith("gzip"):
        data = gzip.decompress(data)
    entries = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as layer:
        for member in layer:
            content = layer.extractfile(member).read() if member.isreg() else b""
            entries[member.name] = (member.type, oct(member.mode), f"{member.uid}:{member.gid}",
                                    member.mtime, member.linkname, hashlib.sha256(content).hexdigest())
    return entries


FIELDS = ("kind", "mode", "owner", "time", "link", "content")


def explain(one, other, left, right):
    """Prints why two manifests differ: config fields, layer counts, then files."""
    manifest_one, manifest_other = read_json(one, left["digest"]), read_json(other, right["digest"])
    config_one = read_json(one, manifest_one["config"]["digest"])
    config_other = read_json(other, manifest_other["config"]["digest"])
    for key in sorted(set(config_one) | set(config_other)):
        if config_one.get(key) != config_other.get(key):
            print(f"    config {key}: {json.dumps(config_one.get(key))[:200]} / "
                  f"{json.dumps(config_other.get(key))[:200]}")
    layers_one, layers_other = manifest_one["layers"], manifest_other["layers"]
    if len(layers_one) != len(layers_other):
        print(f"    {len(layers_one)} layers / {len(layers_other)} layers")
    for number, (layer_one, layer_other) in enumerate(zip(layers_one, layers_other), start=1):
        if layer_one["digest"] == layer_other["digest"]:
            continue
        entries_one, entries_other = layer_entries(one, layer_one), layer_entries(other, layer_other)
        differing = 0
        for path in sorted(set(entries_one) | set(entries_other)):
            first, second = entries_one.get(path), entries_other.get(path)
            if first == second:
                continue
            differing += 1
            if first is None or second is None:
                print(f"    layer {number}: {path} only in the {'second' if first is None else 'first'} build")
                continue
            what = [f"{name} {a} / {b}" for name, a, b in zip(FIELDS, first, second) if a != b]
            print(f"    layer {number}: {path}: {'; '.join(what)}")
        if differing == 0:
            print(f"    layer {number}: the same files, archived differently (order or tar headers)")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    one, other = Path(sys.argv[1]), Path(sys.argv[2])
    first, second = manifests(one), manifests(other)
    different = False
    for platform in sorted(set(first) | set(second)):
        left, right = first.get(platform), second.get(platform)
        if left is None or right is None:
            print(f"  {platform}: only in the {'second' if left is None else 'first'} build")
            different = True
            continue
        check_complete(one, left)
        check_complete(other, right)
        if left["digest"] == right["digest"]:
            print(f"  {platform}: {left['digest']} both times")
        else:
            print(f"  {platform}: {left['digest']} / {right['digest']}: different")
            explain(one, other, left, right)
            different = True
    sys.exit(1 if different else 0)


if __name__ == "__main__":
    main()
