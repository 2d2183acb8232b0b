#!/usr/bin/env bash
# The published images, verified as a receiver would, on a registry of its own (Debian's
# docker-registry on 127.0.0.1), with a key pair of its own:
#   publish    docker/publish.sh pushes, signs and attests each service's image index
#   signature  `cosign verify` accepts each index with the public key
#   SBOM       `cosign verify-attestation` accepts each SBOM, which names exactly the packages
#              compiled into the service's binary, every one in the binary's own list
#              (checks/sbom.py), and none with a known advisory (checks/audit.sh --sbom)
#   provenance each index's provenance names the Dockerfile, the build arguments and the commit
#   re-tag     another image pushed under a signed tag fails `cosign verify`
#
#   checks/signatures.sh
set -euo pipefail
# shellcheck source=docker/lib.sh
. "$(dirname "$0")/../docker/lib.sh"
cd "$repo"

work=$(mktemp -d)
cleanup() {
  [ -z "${REGISTRY_PID:-}" ] || { kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work"
cosign=$(debian_tool unstable cosign cosign)
export COSIGN_PASSWORD=lab-signatures-check
"$cosign" generate-key-pair --output-key-prefix "$work/cosign" >/dev/null 2>&1
verify_options=(--key "$work/cosign.pub" --insecure-ignore-tlog=true --allow-http-registry)
version=$(lab_version)
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

step "docker/publish.sh $REGISTRY, signed with a key of this check's own"
COSIGN_KEY=$work/cosign.key docker/publish.sh "$REGISTRY"

for service in "${SERVICES[@]}"; do
  index=$REGISTRY/rust-lab/$service:$version
  step "$index, as a receiver checks it"
  if "$cosign" verify "${verify_options[@]}" "$index" >/dev/null 2>"$work/verify.log"; then
    echo "cosign verify: the signature of $index checks out against the public key"
  else
    fail "cosign verify rejected $index: $(tail -n 3 "$work/verify.log")"
  fi
  if "$cosign" verify-attestation "${verify_options[@]}" --type cyclonedx "$index" \
       > "$work/attestation.json" 2>"$work/verify.log"; then
    # The attestation is a signed in-toto statement; the SBOM is its predicate.
    python3 -c '
import base64, json, sys
envelope = json.loads(open(sys.argv[1]).readline())
json.dump(json.loads(base64.b64decode(envelope["payload"]))["predicate"], open(sys.argv[2], "w"))
' "$work/attestation.json" "$work/$service.cdx.json"
    docker pull --quiet --platform linux/amd64 "$index" >/dev/null
    copy_service_binary "$index" "$work/$service"
    docker rmi "$index" >/dev/null
    checks/sbom.py "$work/$service.cdx.json" "$work/$service" "$service" x86_64-unknown-linux-musl ||
      fail "the SBOM of $index is not what its binary is built from"
    # What a receiver does with it: its packages against the advisory database.
    checks/audit.sh --sbom "$work/$service.cdx.json" > "$work/audit.log" 2>&1 ||
      { cat "$work/audit.log" >&2; fail "the SBOM of $index names a package with a known advisory"; }
    echo "cargo audit: no known advisory for the packages of the SBOM"
  else
    fail "cosign verify-attestation rejected the SBOM of $index: $(tail -n 3 "$work/verify.log")"
  fi
  # Provenance, read offline from the registry: what built the image, from which source.
  docker buildx imagetools inspect --format '{{json .Provenance}}' "$index" > "$work/provenance.json"
  if ! python3 - "$work/provenance.json" "$service" "$(git rev-parse HEAD)" <<'PYTHON'
import json, sys
provenance, service, commit = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
if "SLSA" in provenance:  # an image of one platform: no map by platform
    provenance = {"the image": provenance}
# One SLSA provenance (v0.2) per platform, of the build that made that platform's image.
for platform, entry in sorted(provenance.items()):
    slsa = entry["SLSA"]
    vcs = slsa["metadata"]["https://mobyproject.org/buildkit@v1#metadata"]["vcs"]
    dockerfile = f"{vcs.get('localdir:dockerfile', '?')}/{slsa['invocation']['configSource']['entryPoint']}"
    facts = {"the Dockerfile": (dockerfile, "docker/Dockerfile"),
             "SERVICE": (slsa["invocation"]["parameters"]["args"].get("build-arg:SERVICE"), service),
             "the commit": (vcs.get("revision"), commit)}
    wrong = [f"{what} is {got!r}, not {wanted!r}" for what, (got, wanted) in facts.items() if got != wanted]
    if wrong:
        sys.exit(f"the provenance of {platform}: {'; '.join(wrong)}")
    bases = ", ".join(m["uri"].split("?")[0].removeprefix("pkg:docker/") for m in slsa["materials"])
    print(f"provenance of {platform}: {dockerfile}, SERVICE={service}, commit {commit[:12]}, "
          f"base images {bases} (by digest)")
PYTHON
  then
    fail "the provenance of $index is incomplete"
  fi
done

step "another image under a signed tag"
tampered=$REGISTRY/rust-lab/db-service:$version
# What someone with write access to the registry, but not the key, can do: point the tag at
# another image. The signatures stay where they were, on db-service's digest.
docker buildx imagetools create --tag "$tampered" "$REGISTRY/rust-lab/api-service:$version" >/dev/null 2>&1
if "$cosign" verify "${verify_options[@]}" "$tampered" >/dev/null 2>"$work/verify.log"; then
  fail "cosign verify accepted api-service's image pushed under db-service's tag"
else
  echo "cosign verify rejects $tampered once api-service's image is pushed under it: $(grep -m 1 -io 'no signatures found\|no matching signatures[^.]*' "$work/verify.log" || tail -n 1 "$work/verify.log")"
fi

[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
echo "every index is signed, carries a verified SBOM of its binary and its provenance; a re-tagged image fails"
