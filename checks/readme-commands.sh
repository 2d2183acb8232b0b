#!/usr/bin/env bash
# Prints the README's quick-start commands, one per line, as a learner would paste them: the
# first `sh` block under "## Quick start", without its comments. The checks that run them
# (.ci/run, checks/older-engine.sh) read them here, so that they run what the README says.
set -euo pipefail
awk '
  /^## Quick start/ { section = 1; next }
  section && /^## / { exit }
  section && /^```sh$/ { block = 1; next }
  block && /^```$/ { exit }
  block && NF && $1 !~ /^#/ { print }
' "$(dirname "$0")/../README.md"
