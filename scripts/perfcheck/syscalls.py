"""The system-call gate: system calls per request, by name, counted by `strace -f -c`.

Most of a server's cost per request on loopback is kernel work that valgrind cannot see; one more
system call per request (an fcntl before each read, a stray getsockopt) costs a measurable share
of the server's CPU while adding almost no user-space instructions. The number of system calls a
server makes per request, on the other hand, does not depend on the machine's speed or load.

As for the instruction gate, the server serves N1 and then N2 requests on one keep-alive connection
from the (untraced) loadgen. `strace -f -c` is attached to every process and thread of the server
once it is ready and detached before it stops, and the figure per system call name is
(calls(N2) - calls(N1)) / (N2 - N1): what attaching and detaching cost cancels out.
A target regresses when one name's calls per request, or the total, grow by more than the
tolerance (an absolute number of calls per request; default 0.1, a tenth of one extra call).
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from c10k import procsample

from . import PerfCheckError, stats
from .environment import environment_differences, fingerprint
from .insn import (RUN_TIMEOUT_S, _check_loadgen_output, _loadgen_argv, _Proc, _url, gate_markdown, gate_text,
                   read_gate_report, regressed)

KIND = "c10k-syscall-counts"
DEFAULT_N1, DEFAULT_N2 = 500, 2500
DEFAULT_TOLERANCE = 0.1
READY_TIMEOUT_S = 30
# Names whose calls per request stay below this in both reports are left out of the tables.
SHOWN_MIN = 0.005


class Target:
    """A server to count: its name, command line (taking --host/--port 0) and environment."""

    def __init__(self, name, command, env=None):
        self.name, self.command, self.env = name, list(command), dict(env or {})


def parse_strace_summary(text):
    """{syscall name: calls} from the table `strace -c` writes (the 'total' row left out)."""
    counts = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5 or not re.match(r"^[0-9.]+$", fields[0]):
            continue  # header, separator, or an unexpected line
        name = fields[-1]
        if name == "total":
            continue
        try:
            counts[name] = counts.get(name, 0) + int(fields[3])
        except ValueError:
            raise PerfCheckError(f"unreadable strace summary line: {line!r}") from None
    if not counts:
        raise PerfCheckError(f"strace wrote no summary table: {text[:300]!r}")
    return counts


def _strace_argv(out_path, pids):
    if not shutil.which("strace"):
        raise PerfCheckError("strace is not installed (scripts/install-deps.sh installs it)")
    argv = ["strace", "-f", "-c", "-o", out_path]
    for pid in pids:
        argv += ["-p", str(pid)]
    return argv


def _wait_attached(strace, err_path, tasks, timeout=10.0):
    """Waits until strace reports every task (thread) of the server tree attached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(err_path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        # "Process N attached", or "Process N attached with K threads" for a threaded one.
        attached = sum(int(k) if k else 1 for k in re.findall(r"Process \d+ attached(?: with (\d+) threads)?", text))
        if attached >= tasks:
            return
        if strace.poll() is not None:
            break
        time.sleep(0.02)
    with open(err_path, encoding="utf-8", errors="replace") as f:
        raise PerfCheckError(f"strace did not attach to the server's {tasks} threads: {f.read()[-500:]!r}")


def count_once(target, loadgen, n):
    """{syscall: calls} of the server tree while it answers n keep-alive requests.

    strace attaches (-p, every process and thread of the tree; -f follows what they start) once the
    server is ready and detaches before it is stopped: start-up and shut-down, whose calls depend on
    timing (a pre-forked pool's workers leaving accept()), are not counted at all."""
    workdir = tempfile.mkdtemp(prefix="c10k-syscalls-")
    try:
        summary = os.path.join(workdir, "strace.txt")
        env = dict(os.environ)
        env.update(target.env)
        server = _Proc(target.command, workdir, "server", env)
        strace = None
        try:
            addr = server.wait_ready(READY_TIMEOUT_S)
            tree = procsample.descendants(server.proc.pid)
            err_path = os.path.join(workdir, "strace.stderr")
            with open(err_path, "wb") as err:
                strace = subprocess.Popen(_strace_argv(summary, sorted(tree)), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL, stderr=err)
            _wait_attached(strace, err_path, sum(st["num_threads"] for st in tree.values()))
            try:
                lg = subprocess.run(_loadgen_argv(loadgen, n, _url(addr)), capture_output=True, text=True,
                                    timeout=RUN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise PerfCheckError(f"{target.name}: loadgen did not finish {n} requests within "
                                     f"{RUN_TIMEOUT_S} s") from None
            if lg.returncode != 0:
                raise PerfCheckError(f"{target.name}: loadgen exited {lg.returncode}: {lg.stderr[-500:]!r}")
            _check_loadgen_output(lg.stdout, n, target.name)
            strace.send_signal(signal.SIGINT)  # detach; -c then writes the table
            try:
                strace.wait(60)
            except subprocess.TimeoutExpired:
                raise PerfCheckError("strace did not detach within 60 s of SIGINT") from None
            server.stop()
        finally:
            if strace is not None and strace.poll() is None:
                strace.kill()
                strace.wait()
            server.kill()
        try:
            with open(summary, encoding="utf-8", errors="replace") as f:
                return parse_strace_summary(f.read())
        except FileNotFoundError:
            raise PerfCheckError(f"{target.name}: strace wrote no summary") from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def per_request(c1, c2, n1, n2):
    """Calls per request by name: (calls(N2) - calls(N1)) / (N2 - N1), names of either run."""
    return {name: (c2.get(name, 0) - c1.get(name, 0)) / (n2 - n1) for name in sorted(set(c1) | set(c2))}


def measure(targets, loadgen, n1=DEFAULT_N1, n2=DEFAULT_N2, runs=1, root=None, progress=None):
    """The report dict: per target the median calls per request, by name and in total, over `runs`."""
    if not 0 < n1 < n2:
        raise PerfCheckError(f"need 0 < N1 < N2, got N1={n1} N2={n2}")
    if runs < 1:
        raise PerfCheckError(f"runs must be >= 1, got {runs}")
    report = {"schema_version": 1, "kind": KIND, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "environment": fingerprint(root),
              "params": {"counter": "strace -f -c", "n1": n1, "n2": n2, "concurrency": 1, "keepalive": True,
                         "runs": runs},
              "targets": {}}
    for t in targets:
        per_run = []
        for k in range(runs):
            pr = per_request(count_once(t, loadgen, n1), count_once(t, loadgen, n2), n1, n2)
            per_run.append({"per_request": pr, "total_per_request": sum(pr.values())})
            if progress:
                progress(f"{t.name} run {k + 1}/{runs}: {per_run[-1]['total_per_request']:.3f} system calls/request")
        names = sorted({name for r in per_run for name in r["per_request"]})
        by_name = {name: stats.median([r["per_request"].get(name, 0.0) for r in per_run]) for name in names}
        totals = [r["total_per_request"] for r in per_run]
        report["targets"][t.name] = {
            "command": t.command, "env": t.env,
            "per_request": by_name,
            "total_per_request": stats.median(totals),
            "min_total_per_request": min(totals), "max_total_per_request": max(totals),
            "runs": per_run,
        }
    return report


def load_report(path):
    return read_gate_report(path, KIND, "system-call report", "a")


def _verdict(delta, tolerance):
    if delta > tolerance:
        return "REGRESSION"
    if delta < -tolerance:
        return "fewer (consider saving a new baseline)"
    return "ok"


def check(baseline, candidate, tolerance=DEFAULT_TOLERANCE):
    """Rows (one per target and syscall name, then the target's total) and warnings."""
    if tolerance < 0:
        raise PerfCheckError(f"tolerance must be >= 0, got {tolerance}")
    bp, cp = baseline["params"], candidate["params"]
    for key in ("n1", "n2", "concurrency", "keepalive"):
        if bp.get(key) != cp.get(key):
            raise PerfCheckError(f"system calls counted differently ({key}: baseline {bp.get(key)!r}, "
                                 f"candidate {cp.get(key)!r}); re-measure both the same way")
    warnings = [f"environment differs: {d}" for d in environment_differences(
        baseline.get("environment"), candidate.get("environment"), ("kernel",))]
    rows = []
    for name, bt in sorted(baseline["targets"].items()):
        ct = candidate["targets"].get(name)
        if ct is None:
            raise PerfCheckError(f"target {name!r} is in the baseline but was not measured")
        if bt.get("command", [])[1:] != ct.get("command", [])[1:]:
            warnings.append(f"{name}: command line differs: baseline {bt.get('command')}, "
                            f"candidate {ct.get('command')}")
        for sc in sorted(set(bt["per_request"]) | set(ct["per_request"])):
            b, c = bt["per_request"].get(sc, 0.0), ct["per_request"].get(sc, 0.0)
            if max(abs(b), abs(c)) < SHOWN_MIN and abs(c - b) <= tolerance:
                continue
            rows.append({"target": name, "syscall": sc, "baseline": b, "candidate": c, "delta": c - b,
                         "verdict": _verdict(c - b, tolerance)})
        b, c = bt["total_per_request"], ct["total_per_request"]
        rows.append({"target": name, "syscall": "total", "baseline": b, "candidate": c, "delta": c - b,
                     "verdict": _verdict(c - b, tolerance)})
    for name in sorted(set(candidate["targets"]) - set(baseline["targets"])):
        warnings.append(f"{name}: measured but not in the baseline, not checked")
    return rows, warnings


def check_text(rows, warnings, tolerance):
    head = ["target", "syscall", "baseline/req", "candidate/req", "change", "verdict"]
    body = [[r["target"], r["syscall"], f"{r['baseline']:.3f}", f"{r['candidate']:.3f}", f"{r['delta']:+.3f}",
             r["verdict"]] for r in rows]
    bad = regressed(rows)
    return gate_text(head, body, (2, 3, 4), warnings,
                     f"FAIL: {len(bad)} system-call count(s) up by more than {tolerance:g} per request" if bad
                     else f"PASS: every system-call count within {tolerance:g} per request of the baseline")


def check_markdown(rows, warnings, tolerance):
    body = [[r["target"], r["syscall"], f"{r['baseline']:.3f}", f"{r['candidate']:.3f}", f"{r['delta']:+.3f}",
             r["verdict"]] for r in rows]
    return gate_markdown("System calls per request", regressed(rows),
                         f"Counted with `strace -f -c`, tolerance {tolerance:g} calls per request per name.",
                         ["target", "syscall", "baseline/req", "candidate/req", "change", "verdict"],
                         ["---", "---", "---:", "---:", "---:", "---"], body, warnings)


def bmf(report):
    """Bencher Metric Format: one measure per syscall name, plus the total."""
    doc = {}
    for name, t in report["targets"].items():
        entry = {"syscalls-per-request": {"value": t["total_per_request"],
                                          "lower_value": t["min_total_per_request"],
                                          "upper_value": t["max_total_per_request"]}}
        for sc, v in t["per_request"].items():
            if v >= SHOWN_MIN:
                entry[f"syscalls-{sc.replace('_', '-')}-per-request"] = {"value": v}  # a Bencher slug
        doc[f"syscalls/{name}"] = entry
    return doc


def github_action_benchmark(report):
    """github-action-benchmark customSmallerIsBetter entries: the total and each name."""
    out = []
    for name, t in report["targets"].items():
        lo, hi = t["min_total_per_request"], t["max_total_per_request"]
        extra = f"strace -f -c, (calls(N2)-calls(N1))/(N2-N1), N1={report['params']['n1']}, " \
                f"N2={report['params']['n2']}, {len(t['runs'])} run(s)"
        out.append({"name": f"syscalls/{name} total system calls per request", "unit": "calls",
                    "value": t["total_per_request"], "range": f"± {(hi - lo) / 2:.4g}", "extra": extra})
        out += [{"name": f"syscalls/{name} {sc} per request", "unit": "calls", "value": v, "extra": extra}
                for sc, v in t["per_request"].items() if v >= SHOWN_MIN]
    return out
