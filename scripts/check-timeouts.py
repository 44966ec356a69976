#!/usr/bin/python3
"""Do silent connections lock normal clients out? For each server model: start it with
--header-timeout-ms 1000, open connections that never send a byte, then try a normal request
until it is served or 3 s have passed. One row per model.

    scripts/check-timeouts.py [--bin-dir build/bin] [--silent N] [--within S] [MODEL ...]

Silent connections per model, from `server-MODEL --describe` (max_inflight): 1 for a model that
serves one connection at a time, 60 for a fixed pool, 1,100 otherwise (more than select's
FD_SETSIZE). Without --describe the model is probed: two delayed requests at once, and its
/__stats peak_inflight says whether it serves one connection at a time.

Standard library only. Exit status: 0 if every model served the client in time, 1 if one did
not, 2 on bad input."""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c10k.oneserver import get, print_row, raise_open_files, server_paths, start, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER_TIMEOUT_MS = 1000
SILENT_MANY, SILENT_POOL = 1100, 60


def fail(msg):
    print(f"check-timeouts: {msg}", file=sys.stderr)
    sys.exit(2)


def describe(path):
    p = subprocess.run([path, "--describe"], capture_output=True, text=True, timeout=10)
    if p.returncode != 0:
        return None
    try:
        return json.loads(p.stdout)
    except ValueError:
        return None


def serves_one_at_a_time(path):
    """Probe for models without --describe: two requests delayed 300 ms, sent together."""
    proc, addr = start(path)
    try:
        socks = [socket.create_connection(addr, timeout=10) for _ in range(2)]
        for s in socks:
            s.sendall(b"GET /?delay_ms=300 HTTP/1.0\r\nHost: x\r\n\r\n")
        for s in socks:
            while s.recv(65536):
                pass
            s.close()
        status, body = get(addr, "/__stats", 10)
        return status == 200 and json.loads(body)["peak_inflight"] == 1
    finally:
        stop(proc)


def silent_count(path, override):
    if override:
        return override
    d = describe(path)
    if d is not None:
        cap = d.get("max_inflight")
        return SILENT_MANY if cap is None else 1 if cap == 1 else SILENT_POOL
    return 1 if serves_one_at_a_time(path) else SILENT_MANY


def check(path, silent, within):
    proc, addr = start(path, ["--header-timeout-ms", str(HEADER_TIMEOUT_MS)])
    quiet = []
    try:
        for _ in range(silent):
            s = socket.socket()
            s.setblocking(False)
            if s.connect_ex(addr) not in (0, 115):  # 115: EINPROGRESS
                s.close()
                continue
            quiet.append(s)
        t0 = time.monotonic()
        first, served_after = None, None
        while (left := within - (time.monotonic() - t0)) > 0:
            status, _ = get(addr, "/", timeout=left)
            first = first if first is not None else status
            if status == 200:
                served_after = time.monotonic() - t0
                break
            time.sleep(0.05)
        # Counted once the silent connections' header timeout has passed.
        time.sleep(max(0.0, t0 + HEADER_TIMEOUT_MS / 1000 + 0.5 - time.monotonic()))
        status, body = get(addr, "/__stats", 5)
        header_timeouts = json.loads(body).get("timeouts", {}).get("header") if status == 200 else None
    finally:
        for s in quiet:
            s.close()
        stop(proc)
    return {"model": os.path.basename(path)[len("server-"):], "silent": len(quiet),
            "served": served_after is not None,
            "served_after_s": None if served_after is None else round(served_after, 2),
            "first_answer": first, "header_timeouts": header_timeouts}


def table_line(r):
    after = "-" if r["served_after_s"] is None else f"{r['served_after_s']:.2f}"
    return (f"{r['model']:<12} {r['silent']:>6} {'yes' if r['served'] else 'NO':>20} {after:>7} "
            f"{str(r['first_answer']):>12} {str(r['header_timeouts']):>15}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="*", help="model names or server paths (default: every server-*)")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--silent", type=int, default=0, help="silent connections for every model (default: per model)")
    ap.add_argument("--within", type=float, default=3.0, help="seconds the normal client may wait (default 3)")
    ap.add_argument("--json", action="store_true", help="one JSON object per model instead of a table")
    a = ap.parse_args()
    if a.silent < 0 or not 0 < a.within <= 600:
        fail("--silent must be >= 0 and --within from 0 to 600 s")
    try:
        raise_open_files(max(a.silent, SILENT_MANY) + 64)  # the silent sockets, the client's, the pipes
        paths = server_paths(a.bin_dir, a.models)
    except ValueError as e:
        fail(str(e))
    if not a.json:
        print(f"{'model':<12} {'silent':>6} {'served within ' + str(a.within) + ' s':>20} {'after s':>7} "
              f"{'first answer':>12} {'header timeouts':>15}")
    all_served = True
    for p in paths:
        r = check(p, silent_count(p, a.silent), a.within)
        all_served &= r["served"]
        print_row(r, a.json, table_line)
    sys.exit(0 if all_served else 1)


if __name__ == "__main__":
    main()
