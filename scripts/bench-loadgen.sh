#!/usr/bin/env bash
# Closing-note figures for the load generator (issue 3), as one Markdown report:
#  1. keep-alive, c=100, median of N runs side by side: req/s and generator CPU per request
#     (user+sys of the generator process) for loadgen (default and --busy-poll 0), wrk -t1, ab -k,
#     h2load --h1 -t1 and, when built, uring-floor (the lower bound, loadgen/probe/uring_floor.c);
#     with nginx's CPU utilisation and CPU per request in each run;
#  2. without keep-alive: loadgen vs ab;
#  3. loadgen's peak RSS at -n 10,000,000 vs -n 100,000 (must be flat);
#  4. the largest -c loadgen holds against nginx with zero errors (limit read from the tool).
# nginx-light (1 worker, `return 200`) runs pinned to cpu 0 from its own temporary prefix; every
# generator runs pinned to cpu 1. Everything is bounded and stops by itself; nginx is ended by PID.
#
# Usage: scripts/bench-loadgen.sh [--quick] [--runs N] [--requests N] [--out FILE] [--bin DIR]
#   --quick      a short smoke run (1 run, small counts) that shows the script works
#   --runs N     runs per generator (default 5; the median is reported)
#   --requests N keep-alive requests per run for loadgen, ab and h2load (default 1000000);
#                wrk runs for the time loadgen's first run took (at least 2 s)
#   --out FILE   also write the Markdown report to FILE
#   --bin DIR    where loadgen is (default build/bin)
# Run it on a quiet machine: figures taken while other work runs are not comparable.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 - "$root" "$@" <<'PY'
import json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "scripts"))
from c10k import procsample  # noqa: E402  (the runner's /proc reader)
args = sys.argv[2:]
opts = {"runs": 5, "requests": 1_000_000, "nokeep": 50_000, "rss_big": 10_000_000,
        "rss_small": 100_000, "out": None, "bin": os.path.join(root, "build", "bin"),
        "maxc_time": 5}
quick = False
i = 0
while i < len(args):
    a = args[i]
    if a == "--quick":
        quick = True
    elif a in ("--runs", "--requests", "--out", "--bin") and i + 1 < len(args):
        key = a[2:]
        opts[key] = args[i + 1] if key in ("out", "bin") else int(args[i + 1])
        i += 1
    else:
        sys.exit(f"bench-loadgen.sh: unknown or incomplete option {a!r} (see the header for usage)")
    i += 1
if quick:
    opts.update(runs=1, requests=100_000, nokeep=5_000, rss_big=1_000_000, rss_small=100_000,
                maxc_time=2)
loadgen = os.path.join(opts["bin"], "loadgen")
uring_floor_bin = os.path.join(opts["bin"], "uring-floor")  # optional (built with liburing)
for tool in (loadgen, shutil.which("nginx") or "/usr/sbin/nginx"):
    if not os.access(tool, os.X_OK):
        sys.exit(f"bench-loadgen.sh: {tool} not found (build first: scripts/build.sh)")
have = {t: shutil.which(t) for t in ("wrk", "ab", "h2load", "taskset")}
if not have["taskset"]:
    sys.exit("bench-loadgen.sh: taskset (util-linux) is needed to pin nginx and the generators")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_nginx():
    prefix = tempfile.mkdtemp(prefix="bench-loadgen-nginx-")
    port = free_port()
    os.makedirs(os.path.join(prefix, "logs"))
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes 1;
worker_rlimit_nofile 20000;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log crit;
events {{ worker_connections 20000; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path {prefix}/tmp;
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{ return 200 "ok\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen(["taskset", "-c", "0", shutil.which("nginx") or "/usr/sbin/nginx",
                             "-p", prefix, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, prefix, f"http://127.0.0.1:{port}/"
        except OSError:
            if proc.poll() is not None:
                sys.exit("nginx did not start: " + proc.stderr.read().decode(errors="replace"))
            time.sleep(0.05)
    proc.kill()
    sys.exit("nginx did not start listening within 10 s")


def run_pinned(cmd, timeout):
    """Runs cmd on cpu 1; returns (stdout, stderr, cpu seconds user+sys, peak RSS KiB, rc)."""
    proc = subprocess.Popen(["taskset", "-c", "1", *cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return out, err, proc.rusage_cpu, proc.rusage_rss, proc.returncode


class RusagePopen(subprocess.Popen):
    """Popen whose wait records the child's own rusage (taskset execs the generator)."""
    rusage_cpu = 0.0
    rusage_rss = 0

    def _try_wait(self, wait_flags):
        try:
            pid, sts, ru = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)
        if pid == self.pid:
            self.rusage_cpu = ru.ru_utime + ru.ru_stime
            self.rusage_rss = ru.ru_maxrss
        return (pid, sts)


subprocess.Popen = RusagePopen  # used by run_pinned only (nginx is started before this point)


def loadgen_ka(url, n, extra=()):
    out, err, cpu, rss, rc = run_pinned([loadgen, "-q", "-k", "-n", str(n), "-c", "100", *extra,
                                         "--json", "-", url], 600)
    s = json.loads(out)["summary"]
    return s["requests_per_sec"], cpu / max(s["complete"], 1), s["failed"], s["duration_s"], \
        s["complete"]


def loadgen_nokeep(url, n):
    out, err, cpu, rss, rc = run_pinned([loadgen, "-q", "-n", str(n), "-c", "100", "--json", "-",
                                         url], 600)
    s = json.loads(out)["summary"]
    return s["requests_per_sec"], cpu / max(s["complete"], 1), s["failed"], s["duration_s"], \
        s["complete"]


def wrk(url, secs):
    out, err, cpu, rss, rc = run_pinned(["wrk", "-t1", "-c100", f"-d{secs}s", url], secs + 60)
    n = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = sum(map(int, errs.groups())) if errs else 0
    return rps, cpu / max(n, 1), failed, None, n


def ab(url, n, keepalive):
    cmd = ["ab", "-q", *(["-k"] if keepalive else []), "-n", str(n), "-c", "100", url]
    out, err, cpu, rss, rc = run_pinned(cmd, 600)
    done = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    return rps, cpu / max(done, 1), failed, None, done


def h2load(url, n):
    out, err, cpu, rss, rc = run_pinned(["h2load", "--h1", "-t1", "-c100", "-n", str(n), url], 600)
    m = re.search(r"finished in [\d.]+m?s, ([\d.]+) req/s", out)
    done = int(re.search(r"requests: \d+ total, \d+ started, (\d+) done", out).group(1))
    failed = int(re.search(r"(\d+) failed", out).group(1))
    return float(m.group(1)), cpu / max(done, 1), failed, None, done


def response_bytes(url):
    """Size of nginx's whole keep-alive response to uring-floor's request (its only framing)."""
    port = int(url.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        while len(body) < length:
            body += s.recv(4096)
        return len(head) + 4 + length


def uring_floor(url, n):
    port = url.rsplit(":", 1)[1].strip("/")
    out, err, cpu, rss, rc = run_pinned([uring_floor_bin, port, "100", str(n),
                                         str(response_bytes(url))], 600)
    if rc != 0:
        sys.exit(f"uring-floor failed: {err.strip()}")
    f = dict(zip(out.split()[::2], out.split()[1::2]))
    done = int(f["requests"])
    return float(f["requests_per_sec"]), cpu / max(done, 1), 0, None, done


def nginx_worker_ticks():
    """CPU ticks (user+sys) of nginx's workers: the server side of every run, for its utilisation."""
    tree = procsample.descendants(nginx.pid)
    return sum(st["utime"] + st["stime"] for pid, st in tree.items() if pid != nginx.pid)


def with_nginx_usage(fn, *args):
    """fn's result plus nginx's busy share of the run's wall time and its CPU per request (µs)."""
    hz = procsample.CLK_TCK
    t0, c0 = time.monotonic(), nginx_worker_ticks()
    res = fn(*args)
    wall, ticks = time.monotonic() - t0, nginx_worker_ticks() - c0
    return (*res, ticks / hz / wall, ticks / hz / max(res[4], 1) * 1e6)


def median_row(name, results):
    rps = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    failed = sum(r[2] for r in results)
    busy = statistics.median(r[5] for r in results) if len(results[0]) > 5 else None
    ngx = statistics.median(r[6] for r in results) if len(results[0]) > 5 else None
    return name, rps, cpu * 1e6, failed, busy, ngx


lines = []


def emit(s=""):
    print(s, flush=True)
    lines.append(s)


nginx, prefix, url = start_nginx()
try:
    emit(f"# loadgen closing-note figures ({'quick smoke run' if quick else 'full run'})")
    emit()
    emit(f"nginx-light 1 worker `return 200` on cpu 0, generator on cpu 1, c=100, median of "
         f"{opts['runs']} run(s), runs interleaved round-robin in one session. Machine: "
         f"{os.cpu_count()} cores, kernel {os.uname().release}.")
    emit()
    # Keep-alive round robin. wrk runs for as long as loadgen's run took (>= 2 s).
    ka = {k: [] for k in ("loadgen", "loadgen-sleep", "wrk", "ab", "h2load", "uring-floor")}
    wrk_secs = 2
    for r in range(opts["runs"]):
        res = with_nginx_usage(loadgen_ka, url, opts["requests"])
        ka["loadgen"].append(res)
        if r == 0:
            wrk_secs = max(2, round(res[3]))
        ka["loadgen-sleep"].append(with_nginx_usage(loadgen_ka, url, opts["requests"],
                                                    ("--busy-poll", "0")))
        if have["wrk"]:
            ka["wrk"].append(with_nginx_usage(wrk, url, wrk_secs))
        if have["ab"]:
            ka["ab"].append(with_nginx_usage(ab, url, opts["requests"], True))
        if have["h2load"]:
            ka["h2load"].append(with_nginx_usage(h2load, url, opts["requests"]))
        if os.access(uring_floor_bin, os.X_OK):
            ka["uring-floor"].append(with_nginx_usage(uring_floor, url, opts["requests"]))
    emit("## Keep-alive, c=100")
    emit()
    emit("nginx busy: the worker's CPU time over the run's wall time (100 % = its core is saturated, "
         "and no generator can get more requests/s out of it).")
    emit()
    emit("| generator | req/s (median) | generator CPU per request (user+sys) | failed "
         "| nginx busy | nginx CPU per request |")
    emit("|---|---:|---:|---:|---:|---:|")
    names = {"loadgen": "loadgen -k --threads 1", "loadgen-sleep": "loadgen -k --busy-poll 0",
             "wrk": f"wrk -t1 -d{wrk_secs}s", "ab": "ab -k", "h2load": "h2load --h1 -t1",
             "uring-floor": "uring-floor (lower bound: io_uring, no parsing, no timing)"}
    rows = {}
    for k, res in ka.items():
        if res:
            rows[k] = median_row(names[k], res)
            n, rps, cpu, failed, busy, ngx = rows[k]
            emit(f"| {n} | {rps:,.0f} | {cpu:.2f} µs | {failed} | {busy:.0%} | {ngx:.2f} µs |")
    emit()
    if "ab" in rows:
        emit(f"- loadgen CPU per request / ab -k's: **{rows['loadgen'][2] / rows['ab'][2]:.2f}x** "
             f"(goal <= 0.70x)")
        if "uring-floor" in rows:
            emit(f"- uring-floor's CPU per request / ab -k's: "
                 f"{rows['uring-floor'][2] / rows['ab'][2]:.2f}x (the floor for any design here)")
    if "wrk" in rows:
        emit(f"- loadgen req/s / wrk's: **{rows['loadgen'][1] / rows['wrk'][1]:.2f}x** (goal >= 1.10x)")
    emit()

    nk = {"loadgen": [], "ab": []}
    for r in range(opts["runs"]):
        nk["loadgen"].append(loadgen_nokeep(url, opts["nokeep"]))
        if have["ab"]:
            nk["ab"].append(ab(url, opts["nokeep"], False))
    emit(f"## Without keep-alive (new connection per request), c=100, -n {opts['nokeep']}")
    emit()
    emit("| generator | req/s (median) | generator CPU per request (user+sys) | failed |")
    emit("|---|---:|---:|---:|")
    for k, res in nk.items():
        if res:
            n, rps, cpu, failed, _, _ = median_row(k, res)
            emit(f"| {n} | {rps:,.0f} | {cpu:.2f} µs | {failed} |")
    emit()

    emit("## Peak RSS against -n (memory must not grow with -n)")
    emit()
    emit("| -n | peak RSS | complete | failed |")
    emit("|---:|---:|---:|---:|")
    for n in (opts["rss_small"], opts["rss_big"]):
        out, err, cpu, rss, rc = run_pinned([loadgen, "-q", "-k", "-n", str(n), "-c", "100",
                                             "--json", "-", url], 3600)
        s = json.loads(out)["summary"]
        emit(f"| {n:,} | {rss / 1024:.1f} MiB | {s['complete']:,} | {s['failed']} |")
    emit()

    # Largest -c: the tool itself says how many connections the open-file limit allows.
    out, err, cpu, rss, rc = run_pinned([loadgen, "-q", "-c", "1000000", "-n", "1000000", url], 60)
    m = re.search(r"open-file limit \(RLIMIT_NOFILE\) is (\d+): use -c (\d+) or less", err)
    if not m:
        emit(f"(could not read the connection limit from loadgen: {err.strip()})")
    else:
        nofile, cmax = int(m.group(1)), int(m.group(2))
        emit(f"## Largest -c held against nginx with zero errors")
        emit()
        emit(f"loadgen reports open-file limit {nofile:,} and at most -c {cmax:,}. nginx "
             f"(1 worker, worker_connections 20000) has the same per-process limit.")
        emit()
        emit("| -c | complete | failed (by class) | open connections (most in a second) | result |")
        emit("|---:|---:|---:|---:|---|")

        def try_c(c):
            out, err, cpu, rss, rc = run_pinned(
                [loadgen, "-q", "-k", "-c", str(c), "-t", str(opts["maxc_time"]), "-s", "20",
                 "--ramp", "1", "--source", "127.0.0.1-127.0.0.8", "--json", "-", url], 300)
            doc = json.loads(out)
            s = doc["summary"]
            held = max([e["open_connections"] for e in doc["timeseries"]] or [0])
            ok = s["failed"] == 0 and held >= c
            classes = ", ".join(f"{k} {v}" for k, v in doc["errors"].items() if v) or "0"
            emit(f"| {c:,} | {s['complete']:,} | {classes} | {held:,} | "
                 f"{'held, zero errors' if ok else 'errors'} |")
            return ok

        # Down from the tool's own limit until one holds, then bisect between it and the last
        # failure (to within 1 % of it).
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
        emit()
        emit(f"- largest -c held with zero errors: **{best:,}**" if best else
             "- no tested -c was held with zero errors")
finally:
    nginx.send_signal(signal.SIGTERM)
    try:
        nginx.wait(10)
    except subprocess.TimeoutExpired:
        nginx.kill()
        nginx.wait()
    shutil.rmtree(prefix, ignore_errors=True)
if opts["out"]:
    with open(opts["out"], "w") as f:
        f.write("\n".join(lines) + "\n")
PY
