#!/usr/bin/env python3
"""Measures how loadgen's memory and JSON size grow with the length of a run.

Starts server-epoll, runs `loadgen -t DURATION -c C -k --json FILE` against it at full rate,
samples the loadgen's RSS every --interval seconds, and at the end records its peak RSS (wait4's
ru_maxrss, which includes writing the JSON), the JSON's size and how many bytes each second of
the time series takes in it. Fits the slope of RSS over time and extrapolates both figures to one
hour. Writes samples.csv and summary.json to --out and prints the summary.

    scripts/loadgen-memory.py --duration 900            # the 15-minute measurement (quiet machine)
    scripts/loadgen-memory.py --duration 60 -c 50 --out /tmp/mem
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import processes  # noqa: E402

HOUR_S = 3600


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def slope(points):
    """Least-squares slope of [(x, y), ...]; 0 with fewer than two distinct x."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def series_bytes(path):
    """Bytes of the time series in the document (one line per second) and its entry count."""
    total = entries = 0
    inside = False
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b' "timeseries": ['):
                inside = True
            elif inside and line.startswith(b"  {"):
                total += len(line)
                entries += 1
    return total, entries


def measure(args):
    binary = os.path.join(args.bin_dir, "loadgen")
    server = processes.Server([os.path.join(args.bin_dir, "server-epoll"), "--port", "0"])
    os.makedirs(args.out, exist_ok=True)
    json_path = os.path.join(args.out, "loadgen.json")
    samples = []
    try:
        cmd = [binary, "-q", "-k", "-t", str(args.duration), "-c", str(args.concurrency),
               "--threads", str(args.threads), "--json", json_path, server.url]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        try:
            # wait4, not poll(): its rusage carries the peak RSS.
            deadline = t0 + args.duration + 120
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            while pid == 0 and time.monotonic() < deadline:
                rss = rss_kib(proc.pid)
                if rss is not None:
                    samples.append((round(time.monotonic() - t0, 1), rss))
                time.sleep(args.interval)
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid == 0:
                proc.terminate()
                _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        stderr = proc.stderr.read().decode(errors="replace")
    finally:
        server.stop()
        server.cleanup()
    if proc.returncode != 0:
        sys.exit(f"loadgen exited with {proc.returncode}: {stderr.strip()}")
    with open(json_path) as f:
        doc = json.load(f)
    size = os.path.getsize(json_path)
    ts_bytes, ts_entries = series_bytes(json_path)
    # Skip the first tenth: allocations at start-up are not growth.
    steady = [(t, kib) for t, kib in samples if t >= args.duration / 10]
    rss_slope_kib_s = slope(steady)
    peak_kib = usage.ru_maxrss
    per_s = ts_bytes / ts_entries if ts_entries else 0.0
    summary = {
        "command": " ".join(cmd),
        "duration_s": doc["summary"]["duration_s"],
        "complete": doc["summary"]["complete"],
        "requests_per_sec": doc["summary"]["requests_per_sec"],
        "peak_rss_kib": peak_kib,
        "rss_slope_kib_per_s": round(rss_slope_kib_s, 3),
        "json_bytes": size,
        "json_series_entries": ts_entries,
        "json_bytes_per_second_of_run": round(per_s, 1),
        "extrapolated_1h_peak_rss_mib": round(
            (peak_kib + max(rss_slope_kib_s, 0) * (HOUR_S - args.duration)) / 1024, 1),
        "extrapolated_1h_json_mib": round((size + per_s * (HOUR_S - ts_entries)) / 2**20, 1),
    }
    with open(os.path.join(args.out, "samples.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "rss_kib"])
        w.writerows(samples)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=900, help="seconds of load (default 900)")
    ap.add_argument("-c", "--concurrency", type=int, default=50)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--interval", type=float, default=5.0, help="RSS sampling interval, s")
    ap.add_argument("--bin-dir", default=os.environ.get("C10K_BIN_DIR", os.path.join(ROOT, "build", "bin")))
    ap.add_argument("--out", default=None, help="output directory (default: a new temp dir)")
    args = ap.parse_args()
    if args.duration <= 0 or args.interval <= 0 or args.concurrency < 1 or args.threads < 1:
        ap.error("--duration, --interval, -c and --threads must be positive")
    for name in ("loadgen", "server-epoll"):
        if not os.access(os.path.join(args.bin_dir, name), os.X_OK):
            ap.error(f"{name} not found in {args.bin_dir} (build first: scripts/build.sh)")
    if args.out is None:
        args.out = tempfile.mkdtemp(prefix="loadgen-memory-")
    summary = measure(args)
    for k, v in summary.items():
        print(f"{k}: {v}")
    print(f"samples: {os.path.join(args.out, 'samples.csv')}")


if __name__ == "__main__":
    main()
