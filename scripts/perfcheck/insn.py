"""The deterministic gate: instructions per request, counted by valgrind.

This machine has no hardware counters for `perf stat`, and wall clocks are noisy, so we count the
instructions the program executes under valgrind's cachegrind (with the cache simulation off it
counts only Ir, instructions read, and is the cheapest valgrind tool), as SQLite and iai-callgrind
do. The count does not depend on the machine's load, so a 1 % change is visible.

Per target we run the program twice, for N1 and N2 requests (one keep-alive connection, so the
server sees one request per wake-up and the work per request does not depend on timing), and
report (I(N2) - I(N1)) / (N2 - N1): start-up and shut-down cost cancel out.

Targets: "server-<model>" (the server under valgrind, the loadgen native) and "loadgen" (the
loadgen under valgrind against a native server).
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from c10k import readyline

from . import PerfCheckError, stats
from .environment import INSTRUCTION_KEYS, environment_differences, fingerprint

KIND = "c10k-insn-counts"
DEFAULT_N1, DEFAULT_N2 = 500, 2500
# The loadgen's event loop still does a little timing-dependent work (a once-a-second tick), so
# it gets more requests for the same precision.
DEFAULT_LOADGEN_N1, DEFAULT_LOADGEN_N2 = 2000, 12000
DEFAULT_TOLERANCE = 0.01
# The loadgen's once-a-second work (closing a second of its time series, reading its own CPU
# time) costs some 6,000 instructions per second of wall time, not per request: on a busy machine
# the long run lasts more seconds and the count per request drifted by about 0.5 % per extra
# second. Counting pauses inside these functions (callgrind toggles collection at their entry and
# exit); they are called only from inside the loadgen's collected event loop.
LOADGEN_PER_SECOND_FNS = ("lg_ts_close_second", "lg_selfwatch_second")
READY_TIMEOUT_S = 60  # valgrind start-up is slow, more so on a busy machine
RUN_TIMEOUT_S = 300


class Target:
    """What to measure: a server binary (+ args, + env) or the loadgen against a server.

    collect_fn: count only instructions executed inside this function and its callees (callgrind
    --toggle-collect). The loadgen needs it: its report at exit (histogram percentiles, JSON)
    costs a timing-dependent amount that would not cancel between the two runs.
    """

    def __init__(self, name, kind, server_cmd, env=None, collect_fn=None, n1=None, n2=None):
        self.name, self.kind = name, kind  # kind: "server" or "loadgen"
        self.server_cmd = server_cmd
        self.env = dict(env or {})
        self.collect_fn = collect_fn or None
        self.n1, self.n2 = n1, n2  # None: the measurement's n1/n2


def _valgrind_argv(tool, out_pattern, collect_fn=None, pause_in=()):
    if not shutil.which("valgrind"):
        raise PerfCheckError("valgrind is not installed (scripts/install-deps.sh installs it)")
    if collect_fn:
        tool = "callgrind"  # only callgrind can count inside one function
    argv = ["valgrind", f"--tool={tool}", "-q", "--trace-children=yes"]
    if tool == "cachegrind":
        argv += ["--cache-sim=no", "--branch-sim=no", f"--cachegrind-out-file={out_pattern}"]
    elif tool == "callgrind":
        argv += [f"--callgrind-out-file={out_pattern}"]
        if collect_fn:
            argv += [f"--toggle-collect={fn}" for fn in (collect_fn, *pause_in)]
    else:
        raise PerfCheckError(f"unknown valgrind tool {tool!r} (cachegrind or callgrind)")
    return argv


def total_instructions(out_dir):
    """Sum of Ir over every valgrind output file in out_dir (one per process, children included)."""
    files = sorted(glob.glob(os.path.join(out_dir, "vg.out.*")))
    if not files:
        raise PerfCheckError(f"valgrind wrote no output file in {out_dir} (did the process exit?)")
    total = 0
    for path in files:
        events, summary = None, None
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("summary:") or line.startswith("totals:"):
                    summary = [int(x) for x in line.split()[1:]]
        if not events or summary is None or "Ir" not in events:
            raise PerfCheckError(f"{path}: no Ir summary line (truncated valgrind output?)")
        total += summary[events.index("Ir")]
    return total


class _Proc:
    """A child whose stdout/stderr go to files (so it can never block on a full pipe)."""

    def __init__(self, argv, workdir, tag, env):
        self.out_path = os.path.join(workdir, f"{tag}.stdout")
        self.err_path = os.path.join(workdir, f"{tag}.stderr")
        self.argv = argv
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            try:
                self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                             env=env)
            except OSError as e:
                raise PerfCheckError(f"cannot start {argv[0]}: {e}") from None

    def stderr_tail(self, limit=800):
        try:
            with open(self.err_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-limit:]
        except OSError:
            return ""

    def wait_ready(self, timeout):
        """The address from the 'listening on HOST:PORT' line."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.out_path, encoding="utf-8", errors="replace") as f:
                try:
                    address = readyline.find(f.read())
                except ValueError as e:
                    self.kill()
                    raise PerfCheckError(f"{' '.join(self.argv)}: {e}") from None
            if address:
                return address
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise PerfCheckError(f"{' '.join(self.argv)} did not print 'listening on HOST:PORT' within "
                             f"{timeout} s; stderr: {self.stderr_tail()!r}")

    def stop(self, timeout=60):
        """SIGTERM and wait (valgrind writes its counts at exit); SIGKILL as a last resort."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise PerfCheckError(f"{self.argv[0]} did not exit within {timeout} s of SIGTERM")
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _url(addr):
    host, port = addr
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


_BUSY_POLL_SUPPORT = {}


def _busy_poll_off(loadgen):
    """['--busy-poll', '0'] when this loadgen has the option (older builds, e.g. a baseline
    revision, do not): polling spins for wall-clock microseconds, a timing-dependent number of
    instructions, while sleeping at once makes the count depend on the requests alone."""
    if loadgen not in _BUSY_POLL_SUPPORT:
        try:
            h = subprocess.run([loadgen, "-h"], capture_output=True, text=True, timeout=30)
            _BUSY_POLL_SUPPORT[loadgen] = "--busy-poll" in h.stdout
        except (OSError, subprocess.TimeoutExpired):
            _BUSY_POLL_SUPPORT[loadgen] = False
    return ["--busy-poll", "0"] if _BUSY_POLL_SUPPORT[loadgen] else []


def _loadgen_argv(loadgen, n, url):
    # One keep-alive connection, one thread: every request is one read and one write on each side.
    return [loadgen, "-n", str(n), "-c", "1", "-k", "--threads", "1", "--no-progress",
            *_busy_poll_off(loadgen), "--json", "-", url]


def _check_loadgen_output(stdout, n, what):
    try:
        doc = json.loads(stdout)
        summary = doc["summary"]
    except (ValueError, KeyError, TypeError):
        raise PerfCheckError(f"{what}: loadgen printed no JSON result: {stdout[:300]!r}") from None
    if summary.get("complete") != n or summary.get("failed") or summary.get("non_2xx"):
        raise PerfCheckError(f"{what}: expected {n} successful requests, loadgen reports "
                             f"complete={summary.get('complete')} failed={summary.get('failed')} "
                             f"non_2xx={summary.get('non_2xx')}")


def _env(extra):
    env = dict(os.environ)
    env.update(extra)
    return env


def count_once(target, loadgen, n, tool, native_server_cmd):
    """Total instructions of one valgrind run of the target serving / sending n requests."""
    workdir = tempfile.mkdtemp(prefix="c10k-insn-")
    try:
        vg_dir = os.path.join(workdir, "vg")
        os.mkdir(vg_dir)
        vg = _valgrind_argv(tool, os.path.join(vg_dir, "vg.out.%p"), target.collect_fn,
                            LOADGEN_PER_SECOND_FNS if target.kind == "loadgen" else ())
        if target.kind == "server":
            server = _Proc(vg + target.server_cmd, workdir, "server", _env(target.env))
            try:
                addr = server.wait_ready(READY_TIMEOUT_S)
                try:
                    lg = subprocess.run(_loadgen_argv(loadgen, n, _url(addr)), capture_output=True,
                                        text=True, timeout=RUN_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    raise PerfCheckError(f"{target.name}: loadgen did not finish {n} requests "
                                         f"within {RUN_TIMEOUT_S} s") from None
                if lg.returncode != 0:
                    raise PerfCheckError(f"{target.name}: loadgen exited {lg.returncode}: "
                                         f"{lg.stderr[-500:]!r}")
                _check_loadgen_output(lg.stdout, n, target.name)
                server.stop()
            finally:
                server.kill()
        else:
            server = _Proc(native_server_cmd, workdir, "server", _env({}))
            try:
                addr = server.wait_ready(READY_TIMEOUT_S)
                lg = _Proc(vg + _loadgen_argv(loadgen, n, _url(addr)), workdir, "loadgen",
                           _env(target.env))
                try:
                    lg.proc.wait(RUN_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    lg.kill()
                    raise PerfCheckError(f"loadgen under valgrind did not finish {n} requests "
                                         f"within {RUN_TIMEOUT_S} s") from None
                if lg.proc.returncode != 0:
                    raise PerfCheckError(f"loadgen under valgrind exited {lg.proc.returncode}: "
                                         f"{lg.stderr_tail()!r}")
                with open(lg.out_path, encoding="utf-8", errors="replace") as f:
                    _check_loadgen_output(f.read(), n, "loadgen")
            finally:
                server.stop()
                server.kill()
        total = total_instructions(vg_dir)
        if total == 0:
            raise PerfCheckError(f"{target.name}: no instruction counted"
                                 + (f" inside {target.collect_fn}() (is that function in the binary?)"
                                    if target.collect_fn else ""))
        return total
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(targets, loadgen, native_server_cmd, n1=DEFAULT_N1, n2=DEFAULT_N2, runs=1,
            tool="cachegrind", root=None, progress=None):
    """The report dict: per target the median instructions per request over `runs` runs."""
    for t in targets:
        a, b = t.n1 or n1, t.n2 or n2
        if not 0 < a < b:
            raise PerfCheckError(f"{t.name}: need 0 < N1 < N2, got N1={a} N2={b}")
    if runs < 1:
        raise PerfCheckError(f"runs must be >= 1, got {runs}")
    report = {"schema_version": 1, "kind": KIND,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "environment": fingerprint(root),
              "params": {"tool": tool, "n1": n1, "n2": n2, "concurrency": 1, "keepalive": True,
                         "runs": runs},
              "targets": {}}
    for t in targets:
        a, b = t.n1 or n1, t.n2 or n2
        per_run = []
        for k in range(runs):
            i1 = count_once(t, loadgen, a, tool, native_server_cmd)
            i2 = count_once(t, loadgen, b, tool, native_server_cmd)
            per_run.append({"i_n1": i1, "i_n2": i2, "insn_per_request": (i2 - i1) / (b - a)})
            if progress:
                progress(f"{t.name} run {k + 1}/{runs}: {per_run[-1]['insn_per_request']:.1f} "
                         f"instructions/request")
        values = [r["insn_per_request"] for r in per_run]
        med = stats.median(values)
        report["targets"][t.name] = {
            "kind": t.kind,
            "command": t.server_cmd if t.kind == "server" else ["loadgen"],
            "env": t.env,
            "collect_fn": t.collect_fn,
            "n1": a, "n2": b,
            "insn_per_request": med,
            "min_insn_per_request": min(values), "max_insn_per_request": max(values),
            "spread": (max(values) - min(values)) / med if med else 0.0,
            "runs": per_run,
        }
    return report


def read_gate_report(path, kind, noun, article):
    """Reads a deterministic gate's JSON report (instruction or system-call counts) of `kind`;
    `noun` and its `article` name it in the errors."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except FileNotFoundError:
        raise PerfCheckError(f"{path}: no such {noun}") from None
    except (OSError, ValueError) as e:
        raise PerfCheckError(f"{path}: not a readable {noun}: {e}") from None
    if not isinstance(doc, dict) or doc.get("kind") != kind or doc.get("schema_version") != 1:
        raise PerfCheckError(f"{path}: not {article} {noun} (kind {kind!r}, schema 1)")
    if not isinstance(doc.get("targets"), dict) or not isinstance(doc.get("params"), dict):
        raise PerfCheckError(f"{path}: {noun} lacks 'targets' or 'params'")
    return doc


def gate_text(head, body, right, warnings, verdict):
    """A gate's check as text: the table (the columns numbered in `right` right-aligned), its
    warnings, then the verdict line."""
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
             for cells in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"warning: {w}" for w in warnings]
    lines.append(verdict)
    return "\n".join(lines) + "\n"


def gate_markdown(title, failed, intro, head, aligns, body, warnings):
    """A gate's check as a Markdown section: verdict heading, one-line method, table, warnings."""
    out = [f"## {title} — {'❌ regression' if failed else '✅ pass'}", "", intro, "",
           "| " + " | ".join(head) + " |", "|" + "|".join(aligns) + "|"]
    out += ["| " + " | ".join(cells) + " |" for cells in body]
    if warnings:
        out += ["", "**Warnings:**"] + [f"- {w}" for w in warnings]
    return "\n".join(out) + "\n"


def load_report(path):
    return read_gate_report(path, KIND, "instruction-count report", "an")


def check(baseline, candidate, tolerance=DEFAULT_TOLERANCE):
    """Rows per baseline target and the warnings; raises PerfCheckError when not comparable."""
    if tolerance < 0:
        raise PerfCheckError(f"tolerance must be >= 0, got {tolerance}")
    bp, cp = baseline["params"], candidate["params"]
    for key in ("tool", "concurrency", "keepalive"):
        if bp.get(key) != cp.get(key):
            raise PerfCheckError(f"instruction counts measured differently ({key}: baseline "
                                 f"{bp.get(key)!r}, candidate {cp.get(key)!r}); re-measure both the same way")
    warnings = [f"environment differs: {d}" for d in environment_differences(
        baseline.get("environment"), candidate.get("environment"), INSTRUCTION_KEYS)]
    rows = []
    for name, bt in sorted(baseline["targets"].items()):
        ct = candidate["targets"].get(name)
        if ct is None:
            raise PerfCheckError(f"target {name!r} is in the baseline but was not measured")
        for key in ("n1", "n2"):
            if bt.get(key, bp.get(key)) != ct.get(key, cp.get(key)):
                raise PerfCheckError(f"{name}: measured with {key}={ct.get(key, cp.get(key))}, the "
                                     f"baseline with {bt.get(key, bp.get(key))}; re-measure both the same way")
        if bt.get("collect_fn") != ct.get("collect_fn"):
            raise PerfCheckError(f"{name}: counted inside {ct.get('collect_fn')!r} now, "
                                 f"{bt.get('collect_fn')!r} in the baseline; re-measure both the same way")
        if bt.get("command", [])[1:] != ct.get("command", [])[1:]:
            warnings.append(f"{name}: command line differs: baseline {bt.get('command')}, "
                            f"candidate {ct.get('command')}")
        b, c = bt["insn_per_request"], ct["insn_per_request"]
        ratio = c / b if b else float("inf")
        if ratio > 1 + tolerance:
            verdict = "REGRESSION"
        elif ratio < 1 - tolerance:
            verdict = "better (consider saving a new baseline)"
        else:
            verdict = "ok"
        rows.append({"target": name, "baseline": b, "candidate": c, "ratio": ratio,
                     "candidate_spread": ct.get("spread", 0.0), "verdict": verdict})
    for name in sorted(set(candidate["targets"]) - set(baseline["targets"])):
        warnings.append(f"{name}: measured but not in the baseline, not checked")
    return rows, warnings


def regressed(rows):
    return [r for r in rows if r["verdict"] == "REGRESSION"]


def check_text(rows, warnings, tolerance):
    head = ["target", "baseline insn/req", "candidate insn/req", "ratio", "verdict"]
    body = [[r["target"], f"{r['baseline']:,.1f}", f"{r['candidate']:,.1f}", f"{r['ratio']:.4f}",
             r["verdict"] + (f" (>{tolerance:.1%})" if r["verdict"] == "REGRESSION" else "")]
            for r in rows]
    bad = regressed(rows)
    return gate_text(head, body, (1, 2, 3), warnings,
                     f"FAIL: {len(bad)} target(s) above the {tolerance:.1%} tolerance" if bad
                     else f"PASS: every target within {tolerance:.1%} of the baseline")


def check_markdown(rows, warnings, tolerance):
    body = [[r["target"], f"{r['baseline']:,.1f}", f"{r['candidate']:,.1f}", f"{r['ratio']:.4f}", r["verdict"]]
            for r in rows]
    return gate_markdown("Instruction counts", regressed(rows),
                         f"Instructions per request under valgrind, tolerance {tolerance:.1%}.",
                         ["target", "baseline insn/req", "candidate insn/req", "ratio", "verdict"],
                         ["---", "---:", "---:", "---:", "---"], body, warnings)
