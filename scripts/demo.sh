#!/usr/bin/env bash
# Quick demo comparison of the six reference servers with a real client (wrk), under a minute:
# builds if needed, starts each server on a free port with a small per-request delay, drives it
# with wrk (bounded: -d seconds), then prints one line per model: requests/s against the ideal
# concurrency/delay, and the peak number of requests in flight reported by the server itself.
# Usage: scripts/demo.sh [--delay-ms D] [--conns C] [--duration S]   (defaults 100, 50, 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${C10K_BIN_DIR:-$root/build/bin}"
if [ -z "${C10K_BIN_DIR:-}" ]; then
  "$root/scripts/build.sh" >&2
fi
command -v wrk >/dev/null || { echo "demo: wrk is missing (scripts/install-deps.sh)" >&2; exit 1; }
exec /usr/bin/python3 - "$bin" "$@" <<'PYTHON'
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys

MODELS = ["blocking", "threaded", "forking", "select", "epoll", "libuv"]
bin_dir = sys.argv[1]
ap = argparse.ArgumentParser(prog="demo.sh")
ap.add_argument("--delay-ms", type=float, default=100)
ap.add_argument("--conns", type=int, default=50)
ap.add_argument("--duration", type=int, default=3)
args = ap.parse_args(sys.argv[2:])
if not (0 < args.delay_ms <= 10000 and 1 <= args.conns <= 1000 and 1 <= args.duration <= 60):
    sys.exit("demo: --delay-ms in (0, 10000], --conns in [1, 1000], --duration in [1, 60]")


def stats(addr):
    with socket.create_connection(addr, timeout=10) as s:
        s.sendall(b"GET /__stats HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return json.loads(data.partition(b"\r\n\r\n")[2])


ideal = args.conns / (args.delay_ms / 1000)
print(f"Each server: --delay-ms {args.delay_ms:g}; client: wrk -t1 -c{args.conns} -d{args.duration}s (keep-alive).")
print(f"A server that overlaps all {args.conns} clients reaches {args.conns} / {args.delay_ms / 1000:g} s "
      f"= {ideal:,.0f} requests/s.\n")
print(f"{'model':<10} {'requests/s':>11} {'of ideal':>9} {'peak in-flight':>15} {'connections':>12} {'errors':>7}")
for model in MODELS:
    path = os.path.join(bin_dir, f"server-{model}")
    proc = subprocess.Popen([path, "--port", "0", "--delay-ms", str(args.delay_ms)], stdout=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("listening on "):
            print(f"{model:<10} failed to start")
            continue
        host, _, port = line.split()[-1].rpartition(":")
        addr = (host, int(port))
        r = subprocess.run(["wrk", "-t1", f"-c{args.conns}", f"-d{args.duration}s", "--timeout",
                            f"{args.duration + 10}s", f"http://{host}:{port}/"],
                           capture_output=True, text=True, timeout=args.duration + 60)
        m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
        rps = float(m.group(1)) if m else 0.0
        st = stats(addr)
        errors = sum(st["errors"].values())
        print(f"{model:<10} {rps:>11,.1f} {rps / ideal:>8.0%} {st['peak_inflight']:>15} {st['accepted'] - 1:>12} "
              f"{errors:>7}", flush=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
print("\nblocking answers one connection at a time (peak in-flight 1): with keep-alive it serves a single "
      "client\nfor the whole run. The others overlap every client's delay (peak in-flight = clients).")
PYTHON
