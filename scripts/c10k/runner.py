"""Runs a scenario end to end into a results folder (docs/results-format.md).

Order of work: validate the scenario and the binaries, check the machine's limits (points that
cannot run are listed with the reason), then for every series, concurrency and repetition start
a fresh server, run the loadgen (it does the warm-up), sample the server tree from /proc, write
the repetition atomically, and end the server. Ctrl-C/SIGTERM end the current loadgen and
server and keep every finished repetition; --resume continues where the run stopped.
"""
import argparse
import collections
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

from . import (DEFAULT_BIN_DIR, ROOT, default_results_dir, environment, multihost, procsample, processes,
               results, scenario as scen)
from .progress import Progress, fmt_duration
from .nested import dig

SAMPLE_INTERVAL_S = 0.1
STATS_TIMEOUT_S = 3.0
PORT_ATTEMPTS = 3  # picked ports that another process may take first
START_STOP_OVERHEAD_S = 1.0  # measured: server start + stats + stop per point, roughly
IDLE_OPEN_S_ESTIMATE = 0.0001  # per idle connection: opened, answered once, closed at the end (planned)


class Interrupted(Exception):
    def __init__(self, signame):
        super().__init__(signame)
        self.signame = signame


class UsageError(Exception):
    """Bad input: exit status 2 with the message."""


def _fetch_stats_once(host, port, timeout):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(b"GET /__stats HTTP/1.0\r\nHost: c10k\r\n\r\n")
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if head.startswith(b"HTTP/") else b"?"
    if status != b"200":
        return {"error": f"status {status.decode('latin-1')}"}
    return json.loads(body.decode("utf-8"))


def fetch_stats(host, port, timeout=STATS_TIMEOUT_S, attempts=12):
    """GET /__stats as a dict, or {"error": ...}: a busy or dead server must not stall the run.

    A refusal right after a big point (select answers 503 while its fds past FD_SETSIZE are still
    closing) is retried for up to 3 s, 0.25 s apart."""
    result = {"error": "not tried"}
    for i in range(attempts):
        try:
            result = _fetch_stats_once(host, port, timeout)
        except (OSError, ValueError, IndexError) as e:
            return {"error": f"{type(e).__name__}: {e}"}
        if "error" not in result:
            return result
        time.sleep(0.25)
    return result


def _requests_served(before, after, loadgen_doc):
    b, a = before.get("requests"), after.get("requests")
    if isinstance(a, int) and isinstance(b, int) and a >= b:
        return a - b  # the servers do not count /__stats itself
    summary = dig(loadgen_doc, "summary") or {}
    return summary.get("complete", 0) + summary.get("warmup_requests", 0)


def _steady(samples, load_s, loadgen_doc):
    """The server's CPU over the loadgen's measured window: the last duration_s seconds before the
    loadgen exited (load_s after its start), without the first sample interval after the window
    opens or the last before the exit (closing the idle connections)."""
    duration = dig(loadgen_doc, "summary", "duration_s")
    rate = dig(loadgen_doc, "summary", "requests_per_sec")
    if not isinstance(duration, (int, float)) or not isinstance(rate, (int, float)) or duration <= 0:
        return None
    return procsample.steady_usage(samples, load_s - duration + SAMPLE_INTERVAL_S, load_s - SAMPLE_INTERVAL_S, rate)


def _read_loadgen_json(path):
    try:
        return multihost.read_json_object(path)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


class Runner:
    def __init__(self, scenario, folder, env, bin_dir, progress, ready_timeout, log):
        self.scenario, self.folder, self.env = scenario, folder, env
        self.bin_dir, self.progress, self.ready_timeout, self.log = bin_dir, progress, ready_timeout, log
        self.pinning = env["pinning"]
        self.hosts, self.server_address = None, "127.0.0.1"  # --loadgen-hosts, --server-address
        self.server = None
        self.written = 0
        self.failures = []  # (label, status, detail) of the repetitions of this run that failed

    def run_point(self, series, concurrency, reps, idle=0, rate=None):
        """Runs the missing repetitions `reps` of one point (C active connections, `idle` held
        beside them, at the point's rate), each against a fresh server: the repetitions stay
        independent and each one's idle baseline (memory per connection is measured against it)
        is not inflated by the connections of the one before."""
        point = results.point_label(series.name, concurrency, idle, rate)
        for k in reps:
            label = f"{point} rep {k}/{self.scenario.repeats}"
            self.progress.start_item(label)
            t0 = time.monotonic()
            try:
                self.server = self.start_server(series)
                doc = self.run_repetition(series, concurrency, k, getattr(self.server, "args", None), idle, rate)
            finally:
                self._stop_server()
            results.write_json_atomic(results.rep_path(self.folder, series.name, concurrency, k, idle, rate), doc)
            self.written += 1
            self.progress.finish_item(time.monotonic() - t0)
            if doc["status"] != "ok":
                self.progress.message(f"{label}: {doc['status']}: {doc['detail']}")
                self.failures.append((point, doc["status"], doc["detail"]))

    def start_server(self, series):
        """A ready server for one repetition: one of our models, any command, or a running URL."""
        cpus = self.pinning["server_cpus"]
        if series.kind == "server":
            args = series.server_argv(os.path.join(self.bin_dir, f"server-{series.server}"), self.server_address)
            return processes.Server(args, cpus, self.ready_timeout)
        if series.kind == "url":
            return processes.RunningServer(series.url, series.pid, series.pidfile)
        host = "127.0.0.1"
        for attempt in range(PORT_ATTEMPTS):
            port = processes.free_port(host) if series.uses_port else None
            setup = lambda d: series.command_setup({"host": host, "port": str(port), "dir": d})  # noqa: E731
            try:
                return processes.Server(setup, cpus, series.start_timeout_s or self.ready_timeout,
                                        ready=series.ready, port=port, host=host)
            except processes.ServerStartError as e:
                # Another process may take the picked port before the server binds it.
                if port is None or "in use" not in str(e) or attempt == PORT_ATTEMPTS - 1:
                    raise
                self.log(f"{series.name}: port {port} was taken before the server bound it; another one")

    def _stop_server(self):
        if self.server is not None:
            try:
                self.server.stop()
            finally:
                self.server.cleanup()
                self.server = None

    def run_repetition(self, series, concurrency, k, server_args, idle=0, rate=None):
        server = self.server
        started = results.now_iso()
        t_start = time.monotonic()
        json_path = os.path.join(results.point_dir(self.folder, series.name, concurrency, idle, rate),
                                 f".rep{k}.loadgen.json.tmp")
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        lg_args = series.loadgen_argv(os.path.join(self.bin_dir, "loadgen"), concurrency, server.url, json_path,
                                      idle, rate)
        timeout = self.scenario.timeout_for(series, idle)
        # /__stats is ours: another server may not have it (one try, and the columns say n/a).
        stats_attempts = 12 if series.kind == "server" else 1
        before = fetch_stats(server.host, server.port, attempts=stats_attempts)
        local = server.host in ("127.0.0.1", "::1", "localhost") or server.host.startswith("127.")
        # `ss` over thousands of idle sockets takes most of a second: at a point with idle
        # connections it would leave the measured window with too few CPU samples.
        sampler = procsample.Sampler(server.pid, SAMPLE_INTERVAL_S,
                                     port=server.port if local and not idle else None).start()
        died = []

        def server_gone():
            if not server.alive():
                died.append(True)
                return True
            return False

        load_t0 = time.monotonic()
        loadgen_pid = []
        shards = None
        try:
            if self.hosts:
                res, shards = multihost.run_point(self.hosts, lg_args, json_path, timeout, lg_args[0])
            else:
                res = processes.run_bounded(lg_args, self.pinning["loadgen_cpus"], timeout, poll=server_gone,
                                            on_start=lambda proc: loadgen_pid.append(proc.pid))
        finally:
            load_s = time.monotonic() - load_t0
            samples = sampler.stop(load_t0)
        server_alive = server.alive()
        after = (fetch_stats(server.host, server.port, attempts=stats_attempts) if server_alive
                 else {"error": "server exited"})
        loadgen_doc = _read_loadgen_json(json_path)
        status, detail = "ok", None
        if died or not server_alive:
            status = "server_died"
            detail = (f"server exited with status {server.exit_code()} during the point" if server.exit_code()
                      is not None else f"server process {server.pid} is gone")
        elif res.timed_out:
            status = "loadgen_failed"
            detail = f"loadgen did not finish within {timeout:g} s and was stopped"
        elif res.exit_status != 0:
            status = "loadgen_failed"
            last = res.stderr_tail.strip().splitlines()[-1:] or [""]
            detail = f"loadgen exited with status {res.exit_status}: {last[0][:200]}"
        elif loadgen_doc is None:
            status = "loadgen_failed"
            detail = "loadgen exited 0 but wrote no readable --json document"
        requests = _requests_served(before, after, loadgen_doc)
        # Memory is shared by the connections that were open: the idle ones the loadgen opened.
        opened = dig(loadgen_doc, "idle", "opened") if idle else 0
        held = opened if isinstance(opened, int) and opened > 0 else idle
        usage = procsample.summarize(samples, SAMPLE_INTERVAL_S, concurrency + held, requests)
        usage["steady"] = _steady(samples, load_s, loadgen_doc) if status == "ok" else None
        return {
            "series": series.name, "server": series.server, "concurrency": concurrency,
            "idle": idle, "rate": rate, "repetition": k, "status": status, "detail": detail,
            "started": started, "wall_s": round(time.monotonic() - t_start, 3),
            "server_args": server_args, "loadgen_args": lg_args,
            "server_pid": server.pid, "loadgen_pid": loadgen_pid[0] if loadgen_pid else None,
            "loadgen_exit": res.exit_status, "loadgen_stderr_tail": res.stderr_tail[-2000:],
            "server_exit": server.exit_code() if status == "server_died" else None,
            "server_stderr_tail": server.stderr_tail() if status != "ok" else "",
            "loadgen": loadgen_doc,
            "server_usage": usage,
            "server_stats": {"before": before, "after": after},
            **({"shards": shards} if shards is not None else {}),
        }


def plan(scenario, folder, skipped):
    """[(series, concurrency, [missing repetitions], idle, rate)] in run order; with no folder,
    every repetition."""
    skip = {results.point_key(p["series"], p["concurrency"], p.get("idle", 0), p.get("rate")) for p in skipped}
    plan = []
    for s in scenario.series:
        for c, i, r in s.points():
            if results.point_key(s.name, c, i, r) in skip:
                continue
            missing = [k for k in range(1, scenario.repeats + 1)
                       if folder is None or not os.path.exists(results.rep_path(folder, s.name, c, k, i, r))]
            if missing:
                plan.append((s, c, missing, i, r))
    return plan


def _estimate(plan):
    total = 0.0
    for s, _, reps, idle, _ in plan:
        lg = s.loadgen
        per = lg.get("warmup_s", 0) + lg.get("duration_s", 0) + s.service_time_s + 0.5 + idle * IDLE_OPEN_S_ESTIMATE
        if "duration_s" not in lg:
            per += max(1.0, s.service_time_s)
        total += per * len(reps) + START_STOP_OVERHEAD_S
    return total


def _remove_stale_tmp(folder):
    for dirpath, _, files in os.walk(os.path.join(folder, "points")):
        for f in files:
            if f.endswith(".tmp"):
                try:
                    os.unlink(os.path.join(dirpath, f))
                except OSError:
                    pass


def _runner_alive(pid):
    """True when pid is a live run_scenario.py (a pid reused by something else does not count)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return False
    words = cmdline.split(b"\0")
    return (b"run_scenario" in cmdline or b"c10k.runner" in cmdline
            or any(os.path.basename(w) == b"c10k" and nxt == b"run" for w, nxt in zip(words, words[1:])))


def _close_killed_runs(manifest, log):
    """Before a resume: a run the manifest lists as neither finished nor interrupted ended
    without its cleanup (SIGKILL, power loss). Mark it "killed" and remove the temporary files
    its guard could not remove. Refuses while that runner still lives."""
    for run in manifest.unfinished_runs():
        pid = run.get("pid")
        if isinstance(pid, int) and pid != os.getpid() and _runner_alive(pid):
            raise UsageError(f"a runner (pid {pid}) is still writing this folder; stop it first "
                             f"(kill {pid}) or wait for it")
        manifest.mark_killed(run)
        if isinstance(pid, int):
            for path in processes.remove_stale_temp(pid):
                log(f"removed {path}, left by the killed run (pid {pid})")


def _build(log):
    build = os.path.join(ROOT, "scripts", "build.sh")
    log(f"building with {build} ...")
    try:
        out = subprocess.run([build], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             stdin=subprocess.DEVNULL, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UsageError(f"build failed: {e}")
    if out.returncode != 0:
        raise UsageError(f"build failed (scripts/build.sh exit {out.returncode}):\n{out.stdout[-4000:]}")


def parse_args(argv, prog="run_scenario.py"):
    p = argparse.ArgumentParser(
        prog=prog,
        description="Run a c10k-bench scenario end to end into results/<scenario>-<timestamp>/.")
    p.add_argument("scenario", nargs="?", help="scenario name (scenarios/NAME.json) or path to a scenario file; "
                   "optional with --resume")
    p.add_argument("--out", metavar="DIR", help="parent folder for the results folder (default: results/)")
    p.add_argument("--resume", metavar="DIR", help="continue an interrupted run in this results folder")
    p.add_argument("--quick", action="store_true", help="apply the scenario's 'quick' overrides (short run)")
    p.add_argument("--bin-dir", metavar="DIR",
                   help="where server-* and loadgen are (default: $C10K_BIN_DIR or build/bin, built if needed)")
    p.add_argument("--no-build", action="store_true", help="never run scripts/build.sh")
    p.add_argument("--check", action="store_true", help="validate and check limits, print the plan, run nothing")
    p.add_argument("--no-plots", action="store_true", help="do not run plot.py at the end")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--ready-timeout", type=float, default=10.0, metavar="S",
                   help="seconds a server may take to print its ready line (default 10)")
    p.add_argument("--list", action="store_true", help="list the shipped scenarios and exit")
    p.add_argument("--loadgen-hosts", metavar="FILE",
                   help="run the load from these ssh hosts (one per line; docs/scale-out.md), merged exactly")
    p.add_argument("--server-address", metavar="ADDR", default="127.0.0.1",
                   help="address the server listens on and the load goes to (default 127.0.0.1)")
    args = p.parse_args(argv)
    if not args.list and not args.scenario and not args.resume:
        p.error("give a SCENARIO, or --resume DIR")
    if args.resume and args.out:
        p.error("--out and --resume exclude each other (a resumed run writes into its own folder)")
    return args


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def _install_signal_handlers():
    """The first SIGTERM/SIGHUP/SIGINT interrupts the run; any later one, of the same kind or
    another, is ignored: it must neither cut the (bounded) cleanup short, which would leave a
    server or its temporary folder behind, nor replace the signal the manifest records."""
    received = []

    def handler(signum, _frame):
        if received:
            return
        received.append(signal.Signals(signum).name)
        raise Interrupted(received[0])
    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)


def main(argv=None, prog="run_scenario.py", command=None):
    """The runner's command line. prog: its name in help and messages; command: what runs it again
    (for the resume hint), sys.argv[0] by default."""
    args = parse_args(sys.argv[1:] if argv is None else argv, prog)
    # Hints name the command that was run: `scripts/run_scenario.py --resume DIR` or `c10k run --resume DIR`.
    args.prog, args.command = prog, command or sys.argv[0]
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.list:
        for name in scen.available():
            try:
                doc = scen.load(name)
                first = doc.description.split(". ")[0].rstrip(".")
                print(f"{name:12s} {first[:110]}{'...' if len(first) > 110 else ''}")
            except scen.ScenarioError as e:
                print(f"{name:12s} INVALID: {e}")
        return 0
    try:
        return _main(args, log)
    except (UsageError, scen.ScenarioError, results.ResultsError, processes.ServerStartError,
            multihost.HostsError) as e:
        log(f"{prog}: error: {e}")
        return 1 if isinstance(e, processes.ServerStartError) else 2


def _main(args, log):
    bin_dir = args.bin_dir or os.environ.get("C10K_BIN_DIR") or DEFAULT_BIN_DIR
    scenario, manifest = load(args)
    checked = check(args, scenario, bin_dir, log)
    if args.check:
        print_plan(scenario, plan(scenario, None, checked.skipped))
        return 0
    manifest = _results_folder(args, scenario, manifest, checked, log)
    return run(args, scenario, manifest, checked, plan(scenario, manifest.folder, checked.skipped), bin_dir, log)


def _results_folder(args, scenario, manifest, checked, log):
    """The Manifest of a new results folder, or of the one to resume, cleared of what a killed run
    left behind."""
    if manifest is None:
        return results.Manifest.create(args.out or default_results_dir(), scenario, checked.environment)
    _remove_stale_tmp(manifest.folder)
    _close_killed_runs(manifest, log)
    return manifest


def load(args):
    """(the Scenario, the Manifest of the folder to resume or None)."""
    if not args.resume:
        return scen.load(args.scenario, quick=args.quick), None
    manifest = results.Manifest.open(args.resume)
    scenario = scen.check_expanded(manifest.doc["scenario"], manifest.path)
    if args.scenario:
        wanted = scen.load(args.scenario, quick=args.quick)
        if wanted.name != scenario.name:
            raise UsageError(f"{args.resume} holds scenario {scenario.name!r}, not {wanted.name!r}")
    return scenario, manifest


class Checked:
    """What the checks before a run found: the environment, the points that cannot run here and
    why, the points that may misbehave, and the loadgen hosts (with their clock offsets)."""

    def __init__(self, environment, skipped, warnings, hosts):
        self.environment, self.skipped, self.warnings, self.hosts = environment, skipped, warnings, hosts


def check(args, scenario, bin_dir, log):
    """Binaries, hosts and the machine's limits, point by point; says what it finds."""
    source = args.resume or scen.resolve_path(args.scenario)
    if not args.bin_dir and not os.environ.get("C10K_BIN_DIR") and not args.no_build and not args.check:
        _build(log)
    scen.check_binaries(scenario, bin_dir, source)
    hosts = None
    if args.loadgen_hosts:
        hosts = multihost.read_hosts(args.loadgen_hosts, os.path.join(bin_dir, "loadgen"))
        if not args.check:  # measured over ssh: --check only reads the file
            hosts = multihost.clock_offsets(hosts)
    environment.raise_nofile_limit()
    env = environment.collect(bin_dir, [s.server for s in scenario.series if s.server])
    tasks_now = environment.count_tasks()
    skipped, warnings = [], []
    for s in scenario.series:
        missing = s.missing_reason(bin_dir)
        for c, idle, rate in s.points():
            reason, warning = (missing, None) if missing else environment.check_point(env, s, c, tasks_now, idle)
            where = {"series": s.name, "concurrency": c, **({"idle": idle} if idle else {}),
                     **({"rate": rate} if rate is not None else {})}
            if reason:
                skipped.append({**where, "reason": reason})
            elif warning:
                warnings.append({**where, "reason": warning})
    grouped = {}  # one line per series and reason (a peer that is not installed: every C)
    for p in skipped:
        point = results.point_label("", p["concurrency"], p.get("idle", 0), p.get("rate")).strip()
        grouped.setdefault((p["series"], p["reason"]), []).append(point[2:])
    for (series, reason), points in grouped.items():
        log(f"cannot run {series} at c={', '.join(points)} here: {reason}")
    for w in warnings:
        point = results.point_label(w["series"], w["concurrency"], w.get("idle", 0), w.get("rate"))
        log(f"note: {point.replace(' c=', ' at c=', 1)}: {w['reason']}")
    for s in scenario.series:
        for note in s.window_notes():
            log(f"note: {s.name}: {note}")
    return Checked(env, skipped, warnings, hosts)


def series_lines(scenario, flags=False):
    """One line per series: its name, what it runs, its sweep (and with flags, its server's and its
    loadgen's flags)."""
    lines = []
    for s in scenario.series:
        opts = " ".join(s.server_flags + s.loadgen_flags) if flags else ""
        axes = ((f" idle={list(s.idle)}" if s.idle != (0,) else "")
                + (f" rates={list(s.rates)}" if s.rates != (None,) else ""))
        lines.append(f"  {s.name:20s} {s.label:20s} c={list(s.concurrency)}{axes}" + (f"  {opts}" if opts else ""))
    return lines


def print_plan(scenario, plan):
    print(f"scenario {scenario.name}: {len(scenario.series)} series, {len(plan)} points, "
          f"{scenario.repeats} repetition(s) each, about {fmt_duration(_estimate(plan))}")
    print("\n".join(series_lines(scenario)))


def run(args, scenario, manifest, checked, plan, bin_dir, log):
    """Runs the plan into the manifest's folder, then plots it; the exit status."""
    folder = manifest.folder
    manifest.begin(checked.skipped, checked.warnings, checked.hosts)
    print(f"results: {folder}", flush=True)
    progress = Progress(sum(len(r) for _, _, r, _, _ in plan), enabled=not args.no_progress)
    progress.set_estimate(_estimate(plan))
    if not plan:
        log("every point of this run is already finished")
    processes.become_subreaper()
    pinning = checked.environment["pinning"]
    if pinning["loadgen_cpus"]:
        # The sampler reads /proc a lot at high C (10,000 forked children): keep that work off the
        # server's CPU, on the loadgen's, which has room to spare at these request rates.
        try:
            os.sched_setaffinity(0, pinning["loadgen_cpus"])
        except OSError:
            pass
    runner = Runner(scenario, folder, checked.environment, bin_dir, progress, args.ready_timeout, log)
    runner.hosts, runner.server_address = checked.hosts, args.server_address
    t0 = time.monotonic()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    _install_signal_handlers()
    processes.start_guard()
    try:
        for s, c, reps, idle, rate in plan:
            runner.run_point(s, c, reps, idle, rate)
    except (Interrupted, KeyboardInterrupt) as e:
        signame = e.signame if isinstance(e, Interrupted) else "SIGINT"
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second signal must not cut the cleanup short
        progress.close()
        processes.end_all()
        runner.server = None
        manifest.interrupt(signame)
        log(f"{args.prog}: interrupted by {signame}; {runner.written} repetition(s) written this run are kept "
            f"in {folder}\n  resume with: {args.command} --resume {shlex.quote(folder)}")
        return 128 + getattr(signal, signame)
    except processes.ServerStartError:
        progress.close()
        manifest.interrupt("error")
        raise
    finally:
        processes.stop_guard()
        for sig, h in previous.items():
            signal.signal(sig, h)
    progress.close()
    manifest.finish()
    log(f"{args.prog}: {scenario.name} done in {fmt_duration(time.monotonic() - t0)} "
        f"({runner.written} repetition(s) this run); results in {folder}")
    status = _failure_summary(runner, lambda msg: log(f"{args.prog}: {msg}"))
    if not args.no_plots:
        from . import plots, report
        try:
            report.render_folder(folder)
            log(f"plots: {os.path.join(folder, 'plots')}")
        except plots.PlotError as e:
            log(f"{args.prog}: plotting failed: {e}")
            return 1
        show_outcome(folder)
    return status


def show_outcome(folder, out=None):
    """The run's numbers on stdout, where a user looks first: the summary tables, then the report."""
    out = out or sys.stdout
    summary = os.path.join(folder, "summary.md")
    if os.path.exists(summary):
        with open(summary, encoding="utf-8") as f:
            out.write("\n" + f.read())
    page = os.path.join(folder, "index.html")
    if os.path.exists(page):
        print(f"\nHTML report with the plots: {page}", file=out, flush=True)


def _failure_summary(runner, log):
    """Says how many repetitions of this run failed; 1 when every one did (nothing was measured:
    a server that always dies, a loadgen that cannot run, no host reachable), else 0."""
    if not runner.failures:
        return 0
    counts = collections.Counter(status for _, status, _ in runner.failures)
    kinds = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    label, _, detail = runner.failures[0]
    if len(runner.failures) < runner.written:
        log(f"{len(runner.failures)} of {runner.written} repetition(s) failed ({kinds}); "
            f"the first: {label}: {detail}")
        return 0
    log(f"error: every repetition of this run failed ({kinds}); the first: {label}: {detail}")
    return 1
