#!/usr/bin/env bash
# The demo: builds, then runs the c10k scenario's quick sweep (its series: `c10k demo --help`) with
# the project's own loadgen (about two minutes), prints the summary table and a bar chart of
# throughput per model at the largest C, and says where the HTML report is. Same as `bin/c10k demo`.
# Usage: scripts/demo.sh [--out DIR]   (results go to ./results by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${C10K_BIN_DIR:-}" ]; then
  "$root/scripts/build.sh" >&2
  export C10K_BIN_DIR="$root/build/bin"
fi
exec /usr/bin/python3 "$root/bin/c10k" demo "$@"
