#!/usr/bin/env bash
# Publishes each service as one multi-platform image a receiver can verify: builds it for
# linux/amd64 and linux/arm64 and pushes both as one image index, so that `docker pull` on
# either architecture gets its own; signs the index with cosign; attaches its SBOM as a signed
# attestation; and, on the containerd image store, its build provenance (mode=max). Prints
# each index's entries, then pulls each platform back through the index and checks that it
# is the one asked for.
#
#   docker/publish.sh                        # to a throwaway registry on 127.0.0.1 (Debian's
#                                            # docker-registry), removed at the end
#   docker/publish.sh registry.example.com/team             # to a registry you are logged in to
#   COSIGN_KEY=cosign.key COSIGN_PASSWORD=... docker/publish.sh 127.0.0.1:5000
#   docker/publish.sh --target runtime-distroless 127.0.0.1:5000
#
# Images: <registry>/rust-lab/<service>:<version>, an index of one image per platform. On the
# containerd image store (Docker Desktop, Engine 29), one `docker build --platform
# linux/amd64,linux/arm64` writes both, with their provenance, into one OCI layout, every file
# time rewritten to the commit's, and crane (Debian's) pushes it as one index. The classic
# store builds one platform at a time: there each platform is built and pushed under a tag of
# its own (<version>-amd64, <version>-arm64), with its files' own times, and `docker manifest`
# joins them.
#
# Signing: cosign (Debian's, unpacked under ~/.cache) with the key pair COSIGN_KEY names (its
# password in COSIGN_PASSWORD), or else a throwaway pair made in .tmp/cosign/ (the public key's
# path is printed). Signatures and attestations stay offline: a signing configuration that
# names no transparency log, so nothing is sent to Sigstore's public log, and a verifier says
# `--insecure-ignore-tlog=true` (docs/lab-guide.md, "Trust an image you did not build", says
# what that gives up). The SBOM is docker/sbom.py's CycloneDX, from the binary's own list.
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/lib.sh"

PLATFORMS=(linux/amd64 linux/arm64)
target=runtime-scratch
if [ "${1:-}" = --target ]; then
  target=${2:?--target needs a target of docker/Dockerfile}
  shift 2
fi
registry=${1:-}
version=$(lab_version)
# Reproducible: every time BuildKit writes (the config, the history) is the last commit's, and
# so is every file's in the layers (rewrite-timestamp on push), so anyone can rebuild the
# commit and get the digests of each platform (docker/reproduce.sh).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(lab_epoch)}
export SOURCE_DATE_EPOCH
manifest_options=()
# What the script leaves behind, removed at the end whatever happens: the throwaway registry,
# its folder and the local tags it made.
registry_pid="" made=()
work=$(mktemp -d)
cleanup() {
  [ ${#made[@]} -eq 0 ] || docker rmi "${made[@]}" >/dev/null 2>&1 || true
  if [ -n "$registry_pid" ]; then
    # `|| true`: errexit holds in traps too, and the registry ends with the status of SIGTERM.
    kill "$registry_pid" 2>/dev/null
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "$registry" ]; then
  start_registry "$work"
  registry=$REGISTRY registry_pid=$REGISTRY_PID
  echo "throwaway registry on $registry (Debian's docker-registry), removed at the end"
fi
# Plain HTTP on loopback: the engine allows it for 127.0.0.0/8, the other tools only when told.
cosign_options=()
if [[ $registry == 127.0.0.1:* || $registry == localhost:* ]]; then
  manifest_options=(--insecure)
  cosign_options=(--allow-http-registry)
fi

store=$(image_store)
cosign=$(debian_tool unstable cosign cosign)
[ "$store" != containerd ] || crane=$(debian_tool unstable crane crane 2>/dev/null)
if [ -z "${COSIGN_KEY:-}" ]; then
  mkdir -p "$repo/.tmp/cosign"
  rm -f "$repo/.tmp/cosign/cosign.key" "$repo/.tmp/cosign/cosign.pub"
  COSIGN_PASSWORD="" "$cosign" generate-key-pair --output-key-prefix "$repo/.tmp/cosign/cosign" >/dev/null 2>&1
  export COSIGN_KEY=$repo/.tmp/cosign/cosign.key COSIGN_PASSWORD=""
  echo "no COSIGN_KEY: signing with a throwaway key pair; its public key is $repo/.tmp/cosign/cosign.pub"
fi
"$cosign" signing-config create --out "$work/signing-config.json" >/dev/null
cosign_sign() {  # cosign_sign <sign|attest> <options...>
  "$cosign" "$1" --yes --key "$COSIGN_KEY" --signing-config "$work/signing-config.json" \
    "${cosign_options[@]}" "${@:2}" >/dev/null 2>"$work/cosign.log" ||
    { cat "$work/cosign.log" >&2; return 1; }
}

# push_index <index>: builds both platforms and pushes them as one index.
push_index() {
  local index=$1 platform images=()
  if [ "$store" = containerd ]; then
    # The engine's own builder cannot push with rewrite-timestamp (its exporter unpacks what it
    # writes into the image store, and the two conflict), so the build writes an OCI layout
    # and crane (Debian's) pushes it as it is.
    made+=("$index")
    lab_build docker/Dockerfile "$target" "$service" "$index" \
      --platform "$(IFS=,; echo "${PLATFORMS[*]}")" --provenance=mode=max \
      --output "type=oci,dest=$work/$service.oci,tar=false,rewrite-timestamp=true" --quiet \
      2> >(grep -v "$SHARED_LAYER_RACE" >&2) >/dev/null
    "$crane" push "${manifest_options[@]}" "$work/$service.oci" "$index" >/dev/null 2>"$work/crane.log" ||
      { cat "$work/crane.log" >&2; return 1; }
    return
  fi
  for platform in "${PLATFORMS[@]}"; do
    images+=("$index-${platform#*/}")
    made+=("$index-${platform#*/}")
    lab_build docker/Dockerfile "$target" "$service" "${images[-1]}" --platform "$platform" --quiet >/dev/null
    docker push --quiet "${images[-1]}" >/dev/null
    echo "pushed ${images[-1]}"
  done
  docker manifest rm "$index" >/dev/null 2>&1 || true  # a list left by an earlier run
  docker manifest create "${manifest_options[@]}" "$index" "${images[@]}" >/dev/null
  docker manifest push "${manifest_options[@]}" --purge "$index" >/dev/null
}

# local_image <index> <platform>: the local image of one platform of what push_index built.
local_image() {
  if [ "$store" = containerd ]; then echo "$1"; else echo "$1-${2#*/}"; fi
}

# platform_of <image> <platform>: the platform of the local image pulled for that platform.
platform_of() {
  if [ "$store" = containerd ]; then
    docker image inspect --platform "$2" --format '{{.Os}}/{{.Architecture}}' "$1"
  else
    docker image inspect --format '{{.Os}}/{{.Architecture}}' "$1"
  fi
}

# sbom <index>: the SBOM of the service's binary, the same for every platform (checked), in
# $work/<service>.cdx.json.
sbom() {
  local index=$1 platform binary triple first=""
  for platform in "${PLATFORMS[@]}"; do
    binary=$work/$service-${platform#*/}
    triple=$(case "$platform" in linux/amd64) echo x86_64-unknown-linux-musl ;; linux/arm64) echo aarch64-unknown-linux-musl ;; esac)
    copy_service_binary "$(local_image "$index" "$platform")" "$binary" "$platform"
    "$repo/docker/sbom.py" "$binary" "$service" "$triple" > "$binary.cdx.json" 2>/dev/null
    if [ -z "$first" ]; then
      first=$binary.cdx.json
    elif ! python3 - "$first" "$binary.cdx.json" <<'PYTHON'
import json, sys
packages = [{(c["name"], c["version"]) for c in json.load(open(path))["components"]} for path in sys.argv[1:]]
sys.exit(packages[0] != packages[1])
PYTHON
    then
      echo "the SBOMs of $service differ between platforms" >&2
      return 1
    fi
  done
  cp "$first" "$work/$service.cdx.json"
}

failures=0
for service in "${SERVICES[@]}"; do
  index=$registry/rust-lab/$service:$version
  step "$index: $target for ${PLATFORMS[*]}"
  push_index "$index"
  # What the registry holds under the tag: an image per platform, and, where the builder
  # attached them, attestations (provenance) as entries of platform unknown/unknown.
  digest=$(docker buildx imagetools inspect --raw "$index" | python3 -c '
import hashlib, json, sys
raw = sys.stdin.buffer.read()
print("sha256:" + hashlib.sha256(raw).hexdigest())
for entry in json.loads(raw)["manifests"]:
    platform = entry.get("platform", {})
    kind = entry.get("annotations", {}).get("vnd.docker.reference.type", "image")
    print("  {}/{}".format(platform.get("os"), platform.get("architecture")), entry["digest"],
          *([] if kind == "image" else [kind]), file=sys.stderr)
' 2>"$work/entries")
  echo "pushed the index $index ($digest):"
  cat "$work/entries"

  signed=${index%:*}@$digest
  cosign_sign sign "$signed"
  echo "signed $signed"

  # Pulled through the index, each platform must come back as itself.
  for platform in "${PLATFORMS[@]}"; do
    docker pull --quiet --platform "$platform" "$index" >/dev/null
    made+=("$index")
    got=$(platform_of "$index" "$platform")
    if [ "$got" = "$platform" ]; then
      echo "  docker pull --platform $platform: $got"
    else
      echo "  FAIL: docker pull --platform $platform gave $got" >&2
      failures=$((failures + 1))
    fi
  done
  # The SBOM, from the binaries just pulled: what the registry holds, not what was built.
  sbom "$index"
  cosign_sign attest --type cyclonedx --predicate "$work/$service.cdx.json" "$signed"
  echo "attested the SBOM of $signed ($(python3 -c 'import json, sys; print(1 + len(json.load(open(sys.argv[1]))["components"]))' "$work/$service.cdx.json") packages, CycloneDX)"
done

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "published ${#SERVICES[@]} signed multi-platform images to $registry"
