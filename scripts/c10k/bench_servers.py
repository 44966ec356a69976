"""Benchmark of the reference servers against nginx-light, printed as Markdown tables:

1. zero delay, keep-alive, `wrk -t1 -c100`, server pinned to cpu 0 and wrk to cpu 1, median of N
   runs with the servers interleaved run by run: requests/s and server CPU per request, with
   nginx-light (1 worker, `return 200`, same body size) measured in the same session as 1.00x;
2. `--delay-ms 1000` with 1,000 concurrent keep-alive clients (`wrk -t1 -c1000`): requests/s of
   each model against the ideal 1,000/s.

The models are the server-* binaries of the bin dir that describe themselves (--describe). Every
run is bounded (wrk -d) and every server is ended by its process group.
"""
import argparse
import os
import statistics
import time

from . import benchtools, models, procsample, processes
from .progress import Progress
from .benchtools import BenchError, log

BODY_BYTES = 64  # the servers' default body; nginx returns the same size
CLIENTS = 100
DELAY_CLIENTS = 1000


def tree_cpu_s(pid):
    """CPU seconds of pid, its reaped children, and its live descendants."""
    ticks = sum(st["utime"] + st["stime"] + st["cutime"] + st["cstime"]
                for st in procsample.descendants(pid).values())
    return ticks / procsample.CLK_TCK


def wrk(url, conns, duration_s, timeout_s=10):
    run = benchtools.run_pinned(["wrk", "-t1", f"-c{conns}", f"-d{duration_s}s", "--timeout", f"{timeout_s}s",
                                 url], [1], duration_s + 60)
    if run.returncode != 0:
        raise BenchError(f"wrk failed (exit {run.returncode}): {run.stdout}{run.stderr}")
    return benchtools.parse_wrk(run.stdout)


class ModelServer:
    """One reference server on port 0, pinned to cpu 0."""

    def __init__(self, bin_dir, model, *extra):
        self.server = processes.Server([os.path.join(bin_dir, f"server-{model}"), "--port", "0",
                                        "--backlog", "4096", *map(str, extra)], cpus=[0])
        self.url, self.pid = self.server.url, self.server.pid

    def stop(self):
        self.server.stop()
        self.server.cleanup()


def measure(start, duration_s):
    """Requests/s and server CPU per request of one run (after a 1 s warm-up on the same server)."""
    srv = start()
    try:
        wrk(srv.url, CLIENTS, 1)  # warm-up: connections, page faults, caches
        cpu0 = tree_cpu_s(srv.pid)
        rep = wrk(srv.url, CLIENTS, duration_s)
        time.sleep(0.3)  # forking: let children exit and be reaped into cutime
        cpu_s = tree_cpu_s(srv.pid) - cpu0
    finally:
        srv.stop()
    rep.cpu_us_per_req = cpu_s * 1e6 / rep.requests if rep.requests else float("nan")
    return rep


def throughput_table(table, series, results, runs, duration_s, reference):
    table.emit(f"### Zero delay, keep-alive: wrk -t1 -c{CLIENTS} -d{duration_s}s, server on cpu 0, wrk on cpu 1, "
               f"median of {runs}")
    table.emit()
    table.emit("| server | requests/s | server CPU per request (µs) | CPU/request vs nginx | wrk errors |")
    table.emit("|---|---:|---:|---:|---|")
    ref_cpu = None
    if reference and results.get(reference):
        ref_cpu = statistics.median(r.cpu_us_per_req for r in results[reference])
    for name in series:
        rs = results.get(name) or []
        if not rs:
            table.emit(f"| {name} | failed | | | |")
            continue
        rps = statistics.median(r.rps for r in rs)
        cpu = statistics.median(r.cpu_us_per_req for r in rs)
        ratio = f"{cpu / ref_cpu:.2f}x" if ref_cpu else "-"
        errs = "; ".join(sorted({r.detail for r in rs if r.detail})) or "none"
        table.emit(f"| {name} | {rps:,.0f} | {cpu:.2f} | {ratio} | {errs} |")
    table.emit()
    table.emit("The blocking model serves one keep-alive connection at a time: its figures are those of a "
               "single client, the others wait.")


def delay_table(table, bin_dir, names, duration_s, progress):
    ideal = DELAY_CLIENTS / 1.0
    table.emit()
    table.emit(f"### --delay-ms 1000, {DELAY_CLIENTS:,} concurrent keep-alive clients: wrk -t1 -c{DELAY_CLIENTS} "
               f"-d{duration_s}s (ideal: {ideal:,.0f} requests/s)")
    table.emit()
    table.emit("| model | requests/s | share of ideal | wrk errors |")
    table.emit("|---|---:|---:|---|")
    for m in names:
        progress.start_item(f"[delay] {m}")
        t0 = time.monotonic()
        try:
            srv = ModelServer(bin_dir, m, "--delay-ms", 1000)
            try:
                rep = wrk(srv.url, DELAY_CLIENTS, duration_s, timeout_s=duration_s + 5)
            finally:
                srv.stop()
        except (BenchError, processes.ServerStartError) as exc:
            progress.message(f"  {m}: {exc}")
            table.emit(f"| {m} | failed | | |")
            continue
        finally:
            progress.finish_item(time.monotonic() - t0)
        table.emit(f"| {m} | {rep.rps:,.1f} | {100 * rep.rps / ideal:.1f} % | {rep.detail or 'none'} |")
    table.emit()
    table.emit("Ideal: every client gets one answer per second. wrk divides the completions by the whole "
               f"{duration_s} s run, so whether the last round lands before the cut moves a short run's "
               "figure by up to one round.")


def parse_args(argv, known):
    ap = argparse.ArgumentParser(prog="c10k bench servers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1 run of 1 s and a 3 s delay run: shows the command works (figures not meaningful)")
    ap.add_argument("--runs", type=int, default=3, help="runs per server (median reported; default 3)")
    ap.add_argument("--duration", type=int, default=5, metavar="S", help="seconds per throughput run")
    ap.add_argument("--delay-duration", type=int, default=10, metavar="S", help="seconds of the delay run")
    ap.add_argument("--models", help=f"space-separated subset of: {' '.join(known)}")
    ap.add_argument("--no-nginx", action="store_true", help="leave out the nginx-light reference")
    ap.add_argument("--no-delay", action="store_true", help="leave out the 1,000-client delay table")
    ap.add_argument("--out", metavar="FILE", help="also write the Markdown to FILE")
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.duration, args.delay_duration = 1, 1, 3
    if args.runs < 1 or args.duration < 1 or args.delay_duration < 2:
        ap.error("--runs >= 1, --duration >= 1, --delay-duration >= 2")
    args.models = args.models.split() if args.models else list(known)
    unknown = [m for m in args.models if m not in known]
    if unknown:
        ap.error(f"unknown model {unknown[0]!r} (known: {' '.join(known)})")
    return args


def run(bin_dir, argv):
    known = models.names(bin_dir)  # every server-* that describes itself, in story order
    if not known:
        raise BenchError(f"no server-* binaries in {bin_dir} (build with scripts/build.sh)")
    args = parse_args(argv, known)
    benchtools.require_tools(["wrk", "taskset"], "bench servers")
    use_nginx = not args.no_nginx and benchtools.nginx_path() is not None
    if not args.no_nginx and not use_nginx:
        log("bench servers: nginx not found, leaving out the reference (install nginx-light)")
    body = "x" * (BODY_BYTES - 1) + "\n"
    series = {m: (lambda m=m: ModelServer(bin_dir, m)) for m in args.models}
    reference = None
    if use_nginx:
        reference = "nginx-light (1 worker)"
        series[reference] = lambda: benchtools.Nginx(body, cpus=[0])
    results = {name: [] for name in series}
    # Planned seconds per item: a throughput run is a 1 s warm-up, the run and the server's start and
    # stop; a delay run is the run and the start and stop.
    planned = [args.duration + 1.5] * (args.runs * len(series))
    if not args.no_delay:
        planned += [args.delay_duration + 1.0] * len(args.models)
    progress = Progress(len(planned), planned_s=planned)
    for r in range(1, args.runs + 1):
        for name, start in series.items():
            progress.start_item(f"[throughput] run {r}/{args.runs}: {name}")
            t0 = time.monotonic()
            try:
                results[name].append(measure(start, args.duration))
            except (BenchError, processes.ServerStartError) as exc:  # one broken series must not lose the others
                progress.message(f"  {name}: {exc}")
            progress.finish_item(time.monotonic() - t0)
    table = benchtools.Table()
    throughput_table(table, list(series), results, args.runs, args.duration, reference)
    if not args.no_delay:
        delay_table(table, bin_dir, args.models, args.delay_duration, progress)
    progress.close()
    table.save(args.out)
    return 0
