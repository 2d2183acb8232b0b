#!/usr/bin/env bash
# The files that cannot read catalogue.txt, held to it (checks/catalogue.py), with PyYAML from
# PyPI in a venv under ~/.cache/rust-multistage-lab/tools, made on first use.
#
#   checks/catalogue.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYYAML_VERSION=6.0.3
venv=${XDG_CACHE_HOME:-$HOME/.cache}/rust-multistage-lab/tools/pyyaml
if ! "$venv/bin/pip" show pyyaml 2>/dev/null | grep -qx "Version: $PYYAML_VERSION"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "pyyaml==$PYYAML_VERSION"
fi
"$venv/bin/python" checks/catalogue.py
