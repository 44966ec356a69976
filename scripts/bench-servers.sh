#!/usr/bin/env bash
# The closing-note figures for the reference servers, printed as Markdown tables:
#   1. zero delay, keep-alive, `wrk -t1 -c100 -d5s`, server pinned to cpu 0 and wrk to cpu 1,
#      median of 3 runs (servers interleaved run by run): requests/s and server CPU per request,
#      with nginx-light (1 worker, `return 200`, same body size) measured in the same session;
#   2. `--delay-ms 1000` with 1,000 concurrent keep-alive clients (`wrk -t1 -c1000 -d10s`):
#      requests/s of each model against the ideal 1,000/s.
# Usage: scripts/bench-servers.sh [--quick] [--runs N] [--duration S] [--delay-duration S]
#                                 [--models "epoll libuv ..."] [--no-nginx] [--no-delay] [--out FILE]
#   --quick   1 run of 1 s and a 3 s delay run, to check the script works (figures not meaningful)
# Bounded: about 7 x 3 x 5 s + 6 x 10 s plus start-up, ~3 minutes with the defaults.
# Binaries: $C10K_BIN_DIR, else build/bin (built by scripts/build.sh when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="${C10K_BIN_DIR:-$root/build/bin}"
if [ -z "${C10K_BIN_DIR:-}" ] && [ ! -x "$bin/server-epoll" ]; then
  "$root/scripts/build.sh" >&2
fi
for tool in wrk taskset; do
  command -v "$tool" >/dev/null || { echo "bench-servers: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
C10K_SCRIPTS="$root/scripts" exec /usr/bin/python3 - "$bin" "$@" <<'PYTHON'
import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ["C10K_SCRIPTS"])
from c10k import procsample  # noqa: E402  (the runner's /proc reader)

MODELS = ["blocking", "threaded", "forking", "select", "epoll", "libuv"]
BODY_BYTES = 64  # the servers' default body; nginx returns the same size

bin_dir = sys.argv[1]
ap = argparse.ArgumentParser(prog="bench-servers.sh")
ap.add_argument("--quick", action="store_true")
ap.add_argument("--runs", type=int, default=3)
ap.add_argument("--duration", type=int, default=5)
ap.add_argument("--delay-duration", type=int, default=10)
ap.add_argument("--models", default=" ".join(MODELS))
ap.add_argument("--no-nginx", action="store_true")
ap.add_argument("--no-delay", action="store_true")
ap.add_argument("--out")
args = ap.parse_args(sys.argv[2:])
if args.quick:
    args.runs, args.duration, args.delay_duration = 1, 1, 3
models = args.models.split()
for m in models:
    if m not in MODELS:
        sys.exit(f"bench-servers: unknown model {m!r} (known: {' '.join(MODELS)})")
if args.runs < 1 or args.duration < 1 or args.delay_duration < 2:
    sys.exit("bench-servers: --runs >= 1, --duration >= 1, --delay-duration >= 2")
nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
use_nginx = not args.no_nginx and os.access(nginx_bin, os.X_OK)
if not args.no_nginx and not use_nginx:
    print("bench-servers: nginx not found, skipping the reference (install nginx-light)", file=sys.stderr)
scratch = tempfile.mkdtemp(prefix="c10k-bench-servers-")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def tree_cpu(pid):
    """CPU seconds of pid, its reaped children, and its live descendants."""
    ticks = sum(st["utime"] + st["stime"] + st["cutime"] + st["cstime"]
                for st in procsample.descendants(pid).values())
    return ticks / procsample.CLK_TCK


class Proc:
    def __init__(self, cmd, ready):
        self.log = open(os.path.join(scratch, f"proc-{len(os.listdir(scratch))}.log"), "w+")
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.addr = ready(self)

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def ready_line(proc):
    line = proc.p.stdout.readline()  # the servers print it once, flushed, when they accept
    if not line.startswith("listening on "):
        proc.stop()
        raise RuntimeError(f"server did not start: {line!r}")
    host, _, port = line.split()[-1].rpartition(":")
    return host, int(port)


def start_model(model, *extra):
    cmd = ["taskset", "-c", "0", os.path.join(bin_dir, f"server-{model}"), "--port", "0",
           "--backlog", "4096", *map(str, extra)]
    return Proc(cmd, ready_line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nginx():
    port = free_port()
    d = tempfile.mkdtemp(dir=scratch, prefix="nginx-")
    body = ("x" * (BODY_BYTES - 1)) + "\\n"
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
    uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
    default_type text/plain;
    server {{ listen 127.0.0.1:{port} backlog=4096; location / {{ return 200 "{body}"; }} }}
}}
""")
    cmd = ["taskset", "-c", "0", nginx_bin, "-p", d, "-c", os.path.join(d, "nginx.conf"), "-e", f"{d}/error.log"]

    def ready(proc):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return ("127.0.0.1", port)
            except OSError:
                if proc.p.poll() is not None:
                    break
                time.sleep(0.05)
        proc.stop()
        raise RuntimeError("nginx did not start")
    return Proc(cmd, ready)


def wrk(addr, conns, duration, timeout="10s"):
    host, port = addr
    url = f"http://{host}:{port}/"
    r = subprocess.run(["taskset", "-c", "1", "wrk", "-t1", f"-c{conns}", f"-d{duration}s", "--timeout", timeout,
                        url], capture_output=True, text=True, timeout=duration + 60)
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed: {r.stdout}{r.stderr}")
    errors = re.search(r"Socket errors: (.*)", r.stdout)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", r.stdout)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", r.stdout).group(1))
    return {"requests": int(m.group(1)), "rps": rps, "errors": errors.group(1) if errors else "",
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def measure(start, conns, duration):
    proc = start()
    try:
        wrk(proc.addr, conns, 1)  # warm-up: connections, page faults, caches
        cpu0 = tree_cpu(proc.p.pid)
        res = wrk(proc.addr, conns, duration)
        time.sleep(0.3)  # forking: let children exit and be reaped into cutime
        res["cpu_s"] = tree_cpu(proc.p.pid) - cpu0
    finally:
        proc.stop()
    res["cpu_us_per_req"] = res["cpu_s"] * 1e6 / res["requests"] if res["requests"] else float("nan")
    return res


out_lines = []


def emit(line=""):
    print(line, flush=True)
    out_lines.append(line)


series = [(m, (lambda m=m: start_model(m))) for m in models]
if use_nginx:
    series.append(("nginx-light (1 worker)", start_nginx))
results = {name: [] for name, _ in series}
for run in range(1, args.runs + 1):
    for name, start in series:
        log(f"[throughput] run {run}/{args.runs}: {name}")
        try:
            results[name].append(measure(start, 100, args.duration))
        except Exception as exc:  # one broken series must not lose the others
            log(f"  {name}: {exc}")

emit(f"### Zero delay, keep-alive: wrk -t1 -c100 -d{args.duration}s, server on cpu 0, wrk on cpu 1, "
     f"median of {args.runs}")
emit()
emit("| server | requests/s | server CPU per request (µs) | CPU/request vs nginx | wrk errors |")
emit("|---|---:|---:|---:|---|")
nginx_cpu = None
if use_nginx and results[series[-1][0]]:
    nginx_cpu = statistics.median(r["cpu_us_per_req"] for r in results[series[-1][0]])
for name, _ in series:
    rs = results[name]
    if not rs:
        emit(f"| {name} | failed | | | |")
        continue
    rps = statistics.median(r["rps"] for r in rs)
    cpu = statistics.median(r["cpu_us_per_req"] for r in rs)
    ratio = f"{cpu / nginx_cpu:.2f}x" if nginx_cpu else "-"
    errs = "; ".join(sorted({r["errors"] for r in rs if r["errors"]} |
                            {f"non-2xx {r['non2xx']}" for r in rs if r["non2xx"]})) or "none"
    emit(f"| {name} | {rps:,.0f} | {cpu:.2f} | {ratio} | {errs} |")
emit()
emit("The blocking model serves one keep-alive connection at a time: its figures are those of a single "
     "client, the 99 others wait.")

if not args.no_delay:
    emit()
    emit(f"### --delay-ms 1000, 1,000 concurrent keep-alive clients: wrk -t1 -c1000 -d{args.delay_duration}s "
         "(ideal: 1,000 requests/s)")
    emit()
    emit("| model | requests/s | share of ideal | wrk errors |")
    emit("|---|---:|---:|---|")
    for m in models:
        log(f"[delay] {m}")
        try:
            proc = start_model(m, "--delay-ms", 1000)
            try:
                res = wrk(proc.addr, 1000, args.delay_duration, timeout=f"{args.delay_duration + 5}s")
            finally:
                proc.stop()
        except Exception as exc:
            log(f"  {m}: {exc}")
            emit(f"| {m} | failed | | |")
            continue
        emit(f"| {m} | {res['rps']:,.1f} | {res['rps'] / 10:.1f} % | {res['errors'] or 'none'} |")
    emit()
    emit("Ideal: every client gets one answer per second, 1,000/s. wrk divides the completions by the "
         f"whole {args.delay_duration} s run, so whether the last round lands before the cut moves a "
         "short run's figure by up to one round.")

if args.out:
    with open(args.out, "w") as f:
        f.write("\n".join(out_lines) + "\n")
shutil.rmtree(scratch, ignore_errors=True)
PYTHON
