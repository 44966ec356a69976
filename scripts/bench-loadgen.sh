#!/usr/bin/env bash
# The load generator against wrk, ab, h2load and an io_uring lower bound, as one Markdown report
# (scripts/c10k/bench_loadgen.py): CPU per request with and without keep-alive, peak RSS against -n,
# and the largest -c held with zero errors. Same as `bin/c10k bench loadgen`; `--help` lists the
# options, `--quick` checks that it works. Run it on a quiet machine.
# Binaries: $C10K_BIN_DIR, else build/bin (built by scripts/build.sh when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${C10K_BIN_DIR:-}" ]; then
  [ -x "$root/build/bin/loadgen" ] || "$root/scripts/build.sh" >&2
  export C10K_BIN_DIR="$root/build/bin"
fi
exec /usr/bin/python3 "$root/bin/c10k" bench loadgen "$@"
