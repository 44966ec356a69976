"""Benchmark of the load generator against the usual clients, as one Markdown report:

1. keep-alive, c=100, median of N runs side by side: requests/s and generator CPU per request
   (user+sys of the generator process) for loadgen (default and --busy-poll 0), wrk -t1, ab -k,
   h2load --h1 -t1 and, when built, uring-floor (a lower bound: io_uring, no parsing, no timing),
   with nginx's CPU utilisation and CPU per request in each run;
2. without keep-alive: loadgen against ab;
3. loadgen's peak RSS at a large -n against a small one (it must be flat);
4. the largest -c loadgen holds against nginx with zero errors (the limit read from the tool);
5. TLS: the same nginx serving https with a self-signed certificate made by `openssl req`:
   keep-alive, c=50 (loadgen, wrk, ab -k, h2load --h1), and a connection per request (loadgen with
   resumption off and on, ab), in CPU per request and handshakes per CPU-second.

nginx-light (1 worker, `return 200`) runs pinned to cpu 0 from its own temporary prefix; every
generator runs pinned to cpu 1. Everything is bounded and stops by itself.
Run it on a quiet machine: figures taken while other work runs are not comparable.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

from . import benchtools, procsample
from .oneserver import read_response
from .benchtools import BenchError

CLIENTS = 100
TLS_CLIENTS = 50
GEN_CPUS = [1]


class Run:
    """One generator run: requests/s, CPU per request (s), failures, wall time, completions, and
    nginx's busy share and CPU per request (µs) during it."""

    def __init__(self, rps, cpu_per_req_s, failed, duration_s, complete):
        self.rps, self.cpu_per_req_s, self.failed = rps, cpu_per_req_s, failed
        self.duration_s, self.complete = duration_s, complete
        self.nginx_busy = self.nginx_cpu_us = None


class Generators:
    """The clients, each run against one URL on the generator CPU."""

    def __init__(self, bin_dir, url, clients=CLIENTS):
        self.loadgen_bin = os.path.join(bin_dir, "loadgen")
        self.uring_floor_bin = os.path.join(bin_dir, "uring-floor")
        self.url, self.clients = url, clients

    def loadgen_json(self, args, timeout=600):
        run = benchtools.run_pinned([self.loadgen_bin, "-q", *args, "--json", "-", self.url], GEN_CPUS, timeout)
        try:
            return json.loads(run.stdout), run
        except ValueError:
            raise BenchError(f"loadgen printed no JSON (exit {run.returncode}): {run.stderr.strip()}") from None

    def loadgen(self, n, keepalive=True, extra=()):
        doc, run = self.loadgen_json([*(["-k"] if keepalive else []), "-n", str(n), "-c", str(self.clients),
                                      *extra])
        s = doc["summary"]
        return Run(s["requests_per_sec"], run.cpu_s / max(s["complete"], 1), s["failed"], s["duration_s"],
                   s["complete"])

    def _tool(self, cmd, parse, timeout=600):
        run = benchtools.run_pinned(cmd, GEN_CPUS, timeout)
        rep = parse(run.stdout)
        return Run(rep.rps, run.cpu_s / max(rep.requests, 1), rep.failed, None, rep.requests)

    def wrk(self, secs):
        return self._tool(["wrk", "-t1", f"-c{self.clients}", f"-d{secs}s", self.url], benchtools.parse_wrk,
                          secs + 60)

    def ab(self, n, keepalive):
        return self._tool(["ab", "-q", *(["-k"] if keepalive else []), "-n", str(n), "-c", str(self.clients),
                           self.url], benchtools.parse_ab)

    def h2load(self, n):
        return self._tool(["h2load", "--h1", "-t1", f"-c{self.clients}", "-n", str(n), self.url],
                          benchtools.parse_h2load)

    def uring_floor(self, n):
        port = self.url.rsplit(":", 1)[1].strip("/")
        run = benchtools.run_pinned([self.uring_floor_bin, port, str(CLIENTS), str(n),
                                     str(response_bytes(self.url))], GEN_CPUS, 600)
        if run.returncode != 0:
            raise BenchError(f"uring-floor failed: {run.stderr.strip()}")
        f = parse_uring_floor(run.stdout)
        done = int(f["requests"])
        return Run(float(f["requests_per_sec"]), run.cpu_s / max(done, 1), 0, None, done)


def parse_uring_floor(text):
    """uring-floor prints `key value` pairs."""
    words = text.split()
    return dict(zip(words[::2], words[1::2]))


def response_bytes(url):
    """Size of the server's whole keep-alive response to uring-floor's request (its only framing)."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            head, body = read_response(s)
        except ConnectionError as e:
            raise BenchError(str(e)) from None
        if not re.search(rb"(?i)content-length:\s*(\d+)", head):
            raise BenchError("the server's response has no Content-Length")
        return len(head) + 4 + len(body)


def with_nginx_usage(nginx, fn, *args):
    """fn's Run plus nginx's busy share of the run's wall time and its CPU per request (µs)."""
    def worker_ticks():
        tree = procsample.descendants(nginx.pid)
        return sum(st["utime"] + st["stime"] for pid, st in tree.items() if pid != nginx.pid)
    t0, c0 = time.monotonic(), worker_ticks()
    run = fn(*args)
    wall, secs = time.monotonic() - t0, (worker_ticks() - c0) / procsample.CLK_TCK
    run.nginx_busy, run.nginx_cpu_us = secs / wall, secs / max(run.complete, 1) * 1e6
    return run


class Median:
    """Medians of a generator's runs (CPU per request in µs), failures summed."""

    def __init__(self, runs):
        self.rps = statistics.median(r.rps for r in runs)
        self.cpu_us = statistics.median(r.cpu_per_req_s for r in runs) * 1e6
        self.failed = sum(r.failed for r in runs)
        with_usage = [r for r in runs if r.nginx_busy is not None]
        self.nginx_busy = statistics.median(r.nginx_busy for r in with_usage) if with_usage else None
        self.nginx_cpu_us = statistics.median(r.nginx_cpu_us for r in with_usage) if with_usage else None


def peers_round(ka, nginx, gens, have, n, wrk_secs):
    """One keep-alive round of the other clients that are installed: wrk for wrk_secs, ab -k and
    h2load for n requests each."""
    if have["wrk"]:
        ka["wrk"].append(with_nginx_usage(nginx, gens.wrk, wrk_secs))
    if have["ab"]:
        ka["ab"].append(with_nginx_usage(nginx, gens.ab, n, True))
    if have["h2load"]:
        ka["h2load"].append(with_nginx_usage(nginx, gens.h2load, n))


def keepalive_section(t, nginx, gens, opts, have):
    ka = {k: [] for k in ("loadgen", "loadgen-sleep", "wrk", "ab", "h2load", "uring-floor")}
    wrk_secs = 2  # wrk runs for as long as loadgen's first run took (at least 2 s)
    for r in range(opts.runs):
        run = with_nginx_usage(nginx, gens.loadgen, opts.requests)
        ka["loadgen"].append(run)
        if r == 0:
            wrk_secs = max(2, round(run.duration_s))
        ka["loadgen-sleep"].append(with_nginx_usage(nginx, gens.loadgen, opts.requests, True,
                                                    ("--busy-poll", "0")))
        peers_round(ka, nginx, gens, have, opts.requests, wrk_secs)
        if os.access(gens.uring_floor_bin, os.X_OK):
            ka["uring-floor"].append(with_nginx_usage(nginx, gens.uring_floor, opts.requests))
    names = {"loadgen": "loadgen -k --threads 1", "loadgen-sleep": "loadgen -k --busy-poll 0",
             "wrk": f"wrk -t1 -d{wrk_secs}s", "ab": "ab -k", "h2load": "h2load --h1 -t1",
             "uring-floor": "uring-floor (lower bound: io_uring, no parsing, no timing)"}
    t.emit(f"## Keep-alive, c={CLIENTS}")
    t.emit()
    t.emit("nginx busy: the worker's CPU time over the run's wall time (100 % = its core is saturated, "
           "and no generator can get more requests/s out of it).")
    t.emit()
    t.emit("| generator | req/s (median) | generator CPU per request (user+sys) | failed "
           "| nginx busy | nginx CPU per request |")
    t.emit("|---|---:|---:|---:|---:|---:|")
    rows = {k: Median(runs) for k, runs in ka.items() if runs}
    for k, m in rows.items():
        t.emit(f"| {names[k]} | {m.rps:,.0f} | {m.cpu_us:.2f} µs | {m.failed} | {m.nginx_busy:.0%} "
               f"| {m.nginx_cpu_us:.2f} µs |")
    t.emit()
    if "ab" in rows:
        t.emit(f"- loadgen CPU per request / ab -k's: **{rows['loadgen'].cpu_us / rows['ab'].cpu_us:.2f}x**")
        if "uring-floor" in rows:
            t.emit(f"- uring-floor's CPU per request / ab -k's: "
                   f"{rows['uring-floor'].cpu_us / rows['ab'].cpu_us:.2f}x (the floor for any design here)")
    if "wrk" in rows:
        t.emit(f"- loadgen req/s / wrk's: **{rows['loadgen'].rps / rows['wrk'].rps:.2f}x**")
    t.emit()


def close_section(t, gens, opts, have):
    nk = {"loadgen": [], "ab": []}
    for _ in range(opts.runs):
        nk["loadgen"].append(gens.loadgen(opts.nokeep, keepalive=False))
        if have["ab"]:
            nk["ab"].append(gens.ab(opts.nokeep, False))
    t.emit(f"## Without keep-alive (new connection per request), c={CLIENTS}, -n {opts.nokeep}")
    t.emit()
    t.emit("| generator | req/s (median) | generator CPU per request (user+sys) | failed |")
    t.emit("|---|---:|---:|---:|")
    for k, runs in nk.items():
        if runs:
            m = Median(runs)
            t.emit(f"| {k} | {m.rps:,.0f} | {m.cpu_us:.2f} µs | {m.failed} |")
    t.emit()


def rss_section(t, gens, opts):
    t.emit("## Peak RSS against -n (memory must not grow with -n)")
    t.emit()
    t.emit("| -n | peak RSS | complete | failed |")
    t.emit("|---:|---:|---:|---:|")
    for n in (opts.rss_small, opts.rss_big):
        doc, run = gens.loadgen_json(["-k", "-n", str(n), "-c", str(CLIENTS)], 3600)
        s = doc["summary"]
        t.emit(f"| {n:,} | {run.maxrss_kib / 1024:.1f} MiB | {s['complete']:,} | {s['failed']} |")
    t.emit()


def connection_limit(stderr):
    """(open-file limit, largest -c) from loadgen's refusal of a -c above its limit, or None."""
    m = re.search(r"open-file limit \(RLIMIT_NOFILE\) is (\d+): use -c (\d+) or less", stderr)
    return (int(m.group(1)), int(m.group(2))) if m else None


def largest_held(try_c, cmax):
    """The largest -c that try_c holds: down from the tool's own limit until one holds, then bisect
    between it and the last failure (to within 1 % of it). None when none holds."""
    best, failed_at = None, None
    for c in [cmax, 19_000, 18_000, 16_000, 12_000, 8_000, 4_000, 1_000]:
        if c > cmax:
            continue
        if try_c(c):
            best = c
            break
        failed_at = c
    while best and failed_at and failed_at - best > max(failed_at // 100, 1):
        mid = (best + failed_at) // 2
        if try_c(mid):
            best = mid
        else:
            failed_at = mid
    return best


def max_connections_section(t, gens, opts):
    # One process: the per-process limit is what this section is about (more processes lift it).
    run = benchtools.run_pinned([gens.loadgen_bin, "-q", "--processes", "1", "-c", "1000000", "-n", "1000000", gens.url],
                                GEN_CPUS, 60)
    limit = connection_limit(run.stderr)
    if not limit:
        t.emit(f"(could not read the connection limit from loadgen: {run.stderr.strip()})")
        return
    nofile, cmax = limit
    t.emit("## Largest -c held against nginx with zero errors")
    t.emit()
    t.emit(f"loadgen reports open-file limit {nofile:,} and at most -c {cmax:,}. nginx "
           f"(1 worker, worker_connections 20000) has the same per-process limit.")
    t.emit()
    t.emit("| -c | complete | failed (by class) | open connections (most in a second) | result |")
    t.emit("|---:|---:|---:|---:|---|")

    def try_c(c):
        doc, _ = gens.loadgen_json(["-k", "-c", str(c), "-t", str(opts.maxc_time), "-s", "20", "--ramp", "1",
                                     "--source", "127.0.0.1-127.0.0.8"], 300)
        s = doc["summary"]
        held = max([e["open_connections"] for e in doc["timeseries"]] or [0])
        ok = s["failed"] == 0 and held >= c
        classes = ", ".join(f"{k} {v}" for k, v in doc["errors"].items() if v) or "0"
        result = ("held, zero errors" if ok else "errors" if s["failed"] else
                  f"not held: at most {held:,} open at once")
        t.emit(f"| {c:,} | {s['complete']:,} | {classes} | {held:,} | {result} |")
        return ok

    best = largest_held(try_c, cmax)
    t.emit()
    t.emit(f"- largest -c held with zero errors: **{best:,}**" if best else
           "- no tested -c was held with zero errors")


def self_signed_certificate(folder):
    """(certificate, key) for 127.0.0.1, made by `openssl req` in folder."""
    crt, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise BenchError(f"openssl req failed: {r.stderr.strip()}")
    return crt, key


def tls_section(t, bin_dir, opts, have):
    """TLS against nginx (https, 1 worker, cpu 0): keep-alive CPU per request, and handshakes per
    generator CPU-second with a connection per request, generators interleaved round by round."""
    folder = tempfile.mkdtemp(prefix="c10k-tls-")
    nginx = None
    try:
        nginx = benchtools.Nginx("ok\n", cpus=[0], tls=self_signed_certificate(folder))
        gens = Generators(bin_dir, nginx.url + "/", TLS_CLIENTS)
        ka = {k: [] for k in ("loadgen", "wrk", "ab", "h2load")}
        nk = {k: [] for k in ("loadgen", "loadgen-resume", "ab")}
        wrk_secs = 2
        for r in range(opts.runs):
            run = with_nginx_usage(nginx, gens.loadgen, opts.tls_requests)
            ka["loadgen"].append(run)
            if r == 0:
                wrk_secs = max(2, round(run.duration_s))
            peers_round(ka, nginx, gens, have, opts.tls_requests, wrk_secs)
            nk["loadgen"].append(gens.loadgen(opts.tls_handshakes, keepalive=False))
            nk["loadgen-resume"].append(gens.loadgen(opts.tls_handshakes, False, ("--tls-resume",)))
            if have["ab"]:
                nk["ab"].append(gens.ab(opts.tls_handshakes, False))
    finally:
        if nginx:
            nginx.stop()
        shutil.rmtree(folder, ignore_errors=True)
    names = {"loadgen": "loadgen -k", "wrk": f"wrk -t1 -d{wrk_secs}s", "ab": "ab -k", "h2load": "h2load --h1 -t1"}
    t.emit(f"## TLS keep-alive, c={TLS_CLIENTS}")
    t.emit()
    t.emit("nginx serves https (1 worker, cpu 0, TLS 1.2 and 1.3, RSA 2048 self-signed); each generator "
           "negotiates with its defaults (no -Z or -f).")
    t.emit()
    t.emit("| generator | req/s (median) | generator CPU per request (user+sys) | vs loadgen | failed | nginx busy |")
    t.emit("|---|---:|---:|---:|---:|---:|")
    rows = {k: Median(runs) for k, runs in ka.items() if runs}
    for k, m in rows.items():
        t.emit(f"| {names[k]} | {m.rps:,.0f} | {m.cpu_us:.2f} µs | {m.cpu_us / rows['loadgen'].cpu_us:.2f}x "
               f"| {m.failed} | {m.nginx_busy:.0%} |")
    others = [m.cpu_us for k, m in rows.items() if k != "loadgen"]
    if others:
        t.emit()
        t.emit(f"- loadgen CPU per request / the cheapest other's: **{rows['loadgen'].cpu_us / min(others):.2f}x**")
    t.emit()
    t.emit(f"## TLS, a connection per request, c={TLS_CLIENTS}, -n {opts.tls_handshakes}")
    t.emit()
    t.emit("| generator | handshakes/s (median) | generator CPU per handshake | handshakes per CPU-second | failed |")
    t.emit("|---|---:|---:|---:|---:|")
    names = {"loadgen": "loadgen", "loadgen-resume": "loadgen --tls-resume", "ab": "ab"}
    for k, runs in nk.items():
        if runs:
            m = Median(runs)
            t.emit(f"| {names[k]} | {m.rps:,.0f} | {m.cpu_us:.1f} µs | {1e6 / m.cpu_us:,.0f} | {m.failed} |")
    t.emit()


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="c10k bench loadgen", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="a short run (1 run, small counts) that shows it works")
    ap.add_argument("--runs", type=int, default=5, help="runs per generator (median reported; default 5)")
    ap.add_argument("--requests", type=int, default=1_000_000,
                    help="keep-alive requests per run for loadgen, ab and h2load (default 1000000)")
    ap.add_argument("--out", metavar="FILE", help="also write the Markdown report to FILE")
    ap.add_argument("--tls-only", action="store_true", help="only the TLS sections")
    ap.add_argument("--tls-requests", type=int, default=200_000,
                    help="TLS keep-alive requests per run (default 200000)")
    ap.add_argument("--tls-handshakes", type=int, default=10_000,
                    help="TLS requests per run with a connection each (default 10000)")
    args = ap.parse_args(argv)
    args.nokeep, args.rss_big, args.rss_small, args.maxc_time = 50_000, 10_000_000, 100_000, 5
    if args.quick:
        args.runs, args.requests, args.nokeep, args.rss_big, args.maxc_time = 1, 100_000, 5_000, 1_000_000, 2
        args.tls_requests, args.tls_handshakes = 20_000, 1_000
    if args.tls_requests < TLS_CLIENTS or args.tls_handshakes < TLS_CLIENTS:
        ap.error(f"--tls-requests and --tls-handshakes >= {TLS_CLIENTS}")
    if args.runs < 1 or args.requests < CLIENTS:
        ap.error(f"--runs >= 1 and --requests >= {CLIENTS}")
    return args


def run(bin_dir, argv):
    opts = parse_args(argv)
    if not os.access(os.path.join(bin_dir, "loadgen"), os.X_OK):
        raise BenchError(f"no loadgen in {bin_dir} (build with scripts/build.sh)")
    benchtools.require_tools(["taskset"], "bench loadgen")
    have = {tool: shutil.which(tool) for tool in ("wrk", "ab", "h2load")}
    if opts.tls_only:
        benchtools.require_tools(["openssl"], "bench loadgen")
        t = benchtools.Table()
        t.emit(f"# Load generator benchmark, TLS ({'quick run, figures not meaningful' if opts.quick else 'full run'})")
        t.emit()
        t.emit(f"nginx-light on cpu 0, generator on cpu 1, median of {opts.runs} run(s), interleaved round-robin. "
               f"Machine: {os.cpu_count()} cores, kernel {os.uname().release}.")
        t.emit()
        tls_section(t, bin_dir, opts, have)
        t.save(opts.out)
        return 0
    nginx = benchtools.Nginx("ok\n", cpus=[0])
    try:
        t = benchtools.Table()
        gens = Generators(bin_dir, nginx.url)
        t.emit(f"# Load generator benchmark ({'quick run, figures not meaningful' if opts.quick else 'full run'})")
        t.emit()
        t.emit(f"nginx-light 1 worker `return 200` on cpu 0, generator on cpu 1, c={CLIENTS}, median of "
               f"{opts.runs} run(s), runs interleaved round-robin in one session. Machine: "
               f"{os.cpu_count()} cores, kernel {os.uname().release}.")
        t.emit()
        keepalive_section(t, nginx, gens, opts, have)
        close_section(t, gens, opts, have)
        rss_section(t, gens, opts)
        max_connections_section(t, gens, opts)
    finally:
        nginx.stop()
    if shutil.which("openssl"):
        tls_section(t, bin_dir, opts, have)
    t.save(opts.out)
    return 0
