#!/usr/bin/env bash
# The reference servers against nginx-light, as Markdown tables (scripts/c10k/bench_servers.py):
# zero-delay keep-alive throughput and server CPU per request, and 1,000 clients with a 1 s delay.
# Same as `bin/c10k bench servers`; `--help` lists the options, `--quick` checks that it works.
# Binaries: $C10K_BIN_DIR, else build/bin (built by scripts/build.sh when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${C10K_BIN_DIR:-}" ]; then
  [ -x "$root/build/bin/server-epoll" ] || "$root/scripts/build.sh" >&2
  export C10K_BIN_DIR="$root/build/bin"
fi
exec /usr/bin/python3 "$root/bin/c10k" bench servers "$@"
