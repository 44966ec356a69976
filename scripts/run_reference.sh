#!/usr/bin/env bash
# The reference run: models (all the models over the C10K sweep) and seed into results/reference/,
# plus smoke (timed only), with plots,
# the headless-Chromium page check and each summary (summary.md) printed at the end.
# Needs a quiet machine: about 12 minutes with both cores to itself. c100k, peers and idle have their own
# runs (README).
# Usage: scripts/run_reference.sh [--out DIR]   (default DIR: results/reference)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/results/reference"
if [ "${1:-}" = "--out" ] && [ -n "${2:-}" ]; then out=$2; shift 2; fi
[ $# -eq 0 ] || { echo "run_reference.sh: unknown argument '$1' (usage: run_reference.sh [--out DIR])" >&2; exit 2; }
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
mkdir -p "$out"

"$root/scripts/build.sh"
export C10K_BIN_DIR="$root/build/bin"   # built just now: the runner does not build again

smoke_dir=$(mktemp -d)
trap 'rm -rf "$smoke_dir"' EXIT
for scenario in smoke models seed; do
  dest="$out"
  [ "$scenario" = smoke ] && dest="$smoke_dir"
  "$py" "$root/scripts/run_scenario.py" "$scenario" --out "$dest"
  folder=$(ls -d "$dest/$scenario"-* | sort | tail -n 1)
  if command -v chromium >/dev/null; then
    "$py" "$root/scripts/plot.py" "$folder" --check-page
  fi
  echo
  echo "===== $scenario: $folder"
  cat "$folder/summary.md"
  echo
done
