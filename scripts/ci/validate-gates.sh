#!/usr/bin/env bash
# Measures the performance gates' validation figures (A/A false alarms, A/B detections, instruction
# spread and smallest caught slowdown, wall time) and prints a Markdown summary.
# Run it on a quiet machine; the full run takes about 40 minutes on 2 cores:
#   scripts/ci/validate-gates.sh                       (10 A/A + 10 A/B sessions, full settings)
#   scripts/ci/validate-gates.sh --sessions 2 --quick --insn-runs 2 --insn-trials 1   (smoke)
# Options: see scripts/ci/validate_gates.py --help.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$root/scripts/ci/validate_gates.py" "$@"
