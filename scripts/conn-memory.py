#!/usr/bin/python3
"""Server memory per waiting connection: opens N keep-alive connections to each server, each with
one delayed request in flight, and reports the server's PSS per connection (the whole process
tree: forked children included). With --idle, each connection is answered once and then stays
silent instead: an idle keep-alive client, the connection the C10K idle experiment holds by the
thousand.

    scripts/conn-memory.py [--bin-dir build/bin] [-n 10000] [--delay-ms 60000 | --idle] [MODEL ...]

MODEL is a name (server-MODEL in the bin dir) or a path; default: every server-* there. Memory
does not depend on timing, so the figure is good on a busy machine too. Models that serve fewer
connections at once (blocking, pools, select past FD_SETSIZE) are reported with the number they
actually hold in flight. docs/conn-memory.md says what each byte of an event loop's connection is.
Standard library only; exits 2 on bad input."""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c10k import procsample  # noqa: E402
from c10k.oneserver import get, print_row, raise_open_files, read_response, server_paths, start, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = 8  # source addresses 127.0.0.2.. spread the ports (connect slows past ~14k per pair)


def fail(msg):
    print(f"conn-memory: {msg}", file=sys.stderr)
    sys.exit(2)


def stats(addr):
    """The server's /__stats, or None."""
    status, body = get(addr, "/__stats", 5)
    return json.loads(body) if status == 200 else None


def open_connections(addr, n, delay_ms, idle):
    """n connections; each has a delayed request in flight, or (idle) was answered once and is silent."""
    request = (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" if idle
               else f"GET /?delay_ms={delay_ms} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    conns = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((f"127.0.0.{2 + i % SOURCES}", 0))
            s.settimeout(10)
            s.connect(addr)
            s.sendall(request)
            if idle:
                read_response(s)
        except OSError:
            s.close()
            break  # the server (or the backlog) is full: measure what it holds
        conns.append(s)
    return conns


def wait_held(addr, want, timeout, key):
    """Waits until the server's /__stats `key` reaches `want` (requests in flight, or open
    connections) or stops growing; returns the count. Open connections ("active") include the
    /__stats request's own, which is left out."""
    deadline = time.monotonic() + timeout
    best, since = -1, time.monotonic()
    own = 1 if key == "active" else 0
    while time.monotonic() < deadline:
        try:
            st = stats(addr)
        except ValueError:
            st = None
        if st:
            held = st[key] - own
            if held >= want:
                return held
            if held > best:
                best, since = held, time.monotonic()
            elif time.monotonic() - since > 3:
                return best  # a model that holds fewer at once
        time.sleep(0.2)
    return max(best, 0)


def timeout_flags(path):
    """Servers with timeouts get them off, so that nothing but the delay holds a connection."""
    help_text = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10).stdout
    return ["--header-timeout-ms", "0", "--idle-timeout-ms", "0"] if "--header-timeout-ms" in help_text else []


def measure(path, n, delay_ms, idle):
    """PSS before any connection, with the first half of n and with all of n. The per-connection
    figure divides the whole growth by n; the marginal one is the growth from n/2 to n over n/2:
    what one more connection costs, without fixed pools that the first connections touch (uring's
    shared receive buffers, for one)."""
    proc, addr = start(path, timeout_flags(path))
    conns = []
    key = "active" if idle else "inflight"
    try:
        time.sleep(0.2)
        base = procsample.sample(proc.pid)["pss_kib"]
        conns = open_connections(addr, n // 2, delay_ms, idle)
        half_held = wait_held(addr, len(conns), 60, key)
        half = procsample.sample(proc.pid)["pss_kib"]
        if len(conns) == n // 2:
            conns += open_connections(addr, n - n // 2, delay_ms, idle)
        held = wait_held(addr, len(conns), 60, key)
        loaded = procsample.sample(proc.pid)["pss_kib"]
    finally:
        for s in conns:
            s.close()
        stop(proc)
    per = (loaded - base) / held if held > 0 else None
    marginal = (loaded - half) / (held - half_held) if held - half_held > 0 else None
    return {"model": os.path.basename(path)[len("server-"):], "mode": "idle" if idle else "delayed",
            "connections": len(conns), ("open" if idle else "inflight"): held,
            "base_pss_kib": base, "pss_kib": loaded, "pss_per_connection_kib": None if per is None else round(per, 2),
            "marginal_pss_per_connection_kib": None if marginal is None else round(marginal, 2)}


def table_line(r):
    per, marginal = ("-" if r[k] is None else f"{r[k]:.2f}"
                     for k in ("pss_per_connection_kib", "marginal_pss_per_connection_kib"))
    held = r.get("inflight", r.get("open"))
    return (f"{r['model']:<13} {r['connections']:>11} {held:>9} {r['base_pss_kib']:>12} "
            f"{r['pss_kib']:>9} {per:>8} {marginal:>8}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="What each byte of a connection is: docs/conn-memory.md.")
    ap.add_argument("models", nargs="*", help="model names or server paths (default: every server-*)")
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("-n", "--connections", type=int, default=10000)
    ap.add_argument("--delay-ms", type=int, default=60000, help="each request's delay (longer than the measurement; at most 60000)")
    ap.add_argument("--idle", action="store_true",
                    help="connections answered once and then silent (idle keep-alive) instead of delayed requests")
    ap.add_argument("--json", action="store_true", help="one JSON object per model instead of a table")
    a = ap.parse_args()
    if a.connections < 2:
        fail("--connections must be at least 2")
    if not 1000 <= a.delay_ms <= 60000:  # the servers' /?delay_ms= bound
        fail("--delay-ms must be from 1000 to 60000")
    try:
        raise_open_files(a.connections + 64)  # the connections, the pipes, the /__stats requests
        paths = server_paths(a.bin_dir, a.models)
    except ValueError as e:
        fail(str(e))
    if not a.json:
        held = "open" if a.idle else "in flight"
        print(f"{'model':<13} {'connections':>11} {held:>9} {'base PSS KiB':>12} {'PSS KiB':>9} {'KiB/conn':>8} "
              f"{'marginal':>8}")
    for p in paths:
        r = measure(p, a.connections, a.delay_ms, a.idle)
        print_row(r, a.json, table_line)


if __name__ == "__main__":
    main()
