"""The system-call gate (scripts/syscall_gate.py): strace's summary read back, verdicts and
tolerance, the CI outputs, and real counts of a server with and without one extra fcntl per read."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

import harness
from perfcheck import PerfCheckError, syscalls
from test_compare_formats import validate_bmf, validate_gab

GATE = os.path.join(harness.ROOT, "scripts", "syscall_gate.py")
needs_strace = pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")

STRACE_SUMMARY = """% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 49.74    0.001644           3       501           write
 17.46    0.000577           1       509           read
 17.46    0.000577           1       503         1 epoll_pwait2
  0.00    0.000000           0        37        13 openat
------ ----------- ----------- --------- --------- ----------------
100.00    0.003305           1      1550        14 total
"""


def gate(*args, timeout=120):
    r = subprocess.run([sys.executable, GATE, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "C10K_BIN_DIR": harness.BIN_DIR})
    assert "Traceback" not in r.stderr, r.stderr
    return r


def report(per_request, name="server-epoll", n1=500, n2=2500):
    total = sum(per_request.values())
    return {"schema_version": 1, "kind": syscalls.KIND, "environment": {"kernel": "6.1"},
            "params": {"n1": n1, "n2": n2, "concurrency": 1, "keepalive": True, "runs": 1},
            "targets": {name: {"command": ["server-epoll"], "per_request": per_request, "total_per_request": total,
                               "min_total_per_request": total, "max_total_per_request": total,
                               "runs": [{"per_request": per_request, "total_per_request": total}]}}}


def test_strace_summary_is_read_by_name_with_errors_column_or_not():
    counts = syscalls.parse_strace_summary(STRACE_SUMMARY)
    assert counts == {"write": 501, "read": 509, "epoll_pwait2": 503, "openat": 37}
    with pytest.raises(PerfCheckError, match="no summary table"):
        syscalls.parse_strace_summary("strace: exec: No such file or directory\n")


def test_per_request_is_the_difference_of_two_runs():
    pr = syscalls.per_request({"read": 510, "execve": 1}, {"read": 2510, "execve": 1, "fcntl": 4}, 500, 2500)
    assert pr == {"execve": 0.0, "fcntl": 0.002, "read": 1.0}


def test_one_extra_call_per_request_is_a_regression_and_noise_is_not():
    base = report({"read": 1.0, "write": 1.0, "epoll_pwait2": 1.0})
    rows, _ = syscalls.check(base, report({"read": 1.0, "write": 1.0, "epoll_pwait2": 1.0, "fcntl": 1.0}))
    bad = {r["syscall"] for r in syscalls.regressed(rows)}
    assert bad == {"fcntl", "total"}
    rows, _ = syscalls.check(base, report({"read": 1.0, "write": 1.0, "epoll_pwait2": 1.0015}))
    assert not syscalls.regressed(rows)
    rows, _ = syscalls.check(base, report({"read": 1.0, "write": 1.0}))  # one fewer: better, not a failure
    assert not syscalls.regressed(rows) and any(r["verdict"].startswith("fewer") for r in rows)
    # A tolerance of 0.5 lets half a call per request through, not a whole one.
    rows, _ = syscalls.check(base, report({"read": 1.4, "write": 1.0, "epoll_pwait2": 1.0}), tolerance=0.5)
    assert not syscalls.regressed(rows)


def test_reports_counted_differently_are_not_compared():
    with pytest.raises(PerfCheckError, match="n2"):
        syscalls.check(report({"read": 1.0}), report({"read": 1.0}, n2=3000))
    with pytest.raises(PerfCheckError, match="not measured"):
        syscalls.check(report({"read": 1.0}), report({"read": 1.0}, name="server-select"))


def test_ci_outputs_have_the_shapes_the_tools_read():
    r = report({"read": 1.0, "write": 1.0, "epoll_pwait2": 1.0})
    validate_bmf(syscalls.bmf(r))
    validate_gab(syscalls.github_action_benchmark(r))
    assert syscalls.bmf(r)["syscalls/server-epoll"]["syscalls-per-request"]["value"] == 3.0


def test_bad_input_is_exit_2(tmp_path):
    r = gate("check", tmp_path / "missing.json", "--baseline", tmp_path / "missing.json")
    assert r.returncode == 2 and "no such system-call report" in r.stderr
    (tmp_path / "other.json").write_text(json.dumps({"kind": "c10k-insn-counts", "schema_version": 1}))
    r = gate("check", tmp_path / "other.json", "--baseline", tmp_path / "other.json")
    assert r.returncode == 2 and "not a system-call report" in r.stderr
    r = gate("measure", "--server", "nosuch")
    assert r.returncode == 2 and "not an executable" in r.stderr


@needs_strace
def test_real_counts_catch_one_extra_fcntl_per_read(tmp_path):
    base, md = tmp_path / "base.json", tmp_path / "check.md"
    r = gate("measure", "--server", "epoll", "--n1", "100", "--n2", "600", "--out", base,
             "--bmf", tmp_path / "bmf.json", "--gab", tmp_path / "gab.json", "--quiet")
    assert r.returncode == 0, r.stderr
    doc = json.loads(base.read_text())
    per = doc["targets"]["server-epoll"]["per_request"]
    # One read and one write per keep-alive request, plus the wait for the next one.
    assert per["read"] == pytest.approx(1.0, abs=0.02) and per["write"] == pytest.approx(1.0, abs=0.02)
    validate_bmf(json.loads((tmp_path / "bmf.json").read_text()))
    validate_gab(json.loads((tmp_path / "gab.json").read_text()))
    r = gate("run", "--server", "epoll", "--n1", "100", "--n2", "600", "--baseline", base, "--quiet")
    assert r.returncode == 0, r.stdout + r.stderr
    if os.environ.get("C10K_SANITIZE") == "1":
        return  # the shim cannot be preloaded ahead of ASan's runtime, which must come first
    r = gate("run", "--server", "epoll", "--n1", "100", "--n2", "600", "--baseline", base, "--extra-fcntl",
             "--markdown", md, "--quiet")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "fcntl" in r.stdout and "REGRESSION" in r.stdout
    # One fcntl per read: as many as the reads, which vary by up to 0.02 per request (above).
    row = re.search(r"\| server-epoll \| fcntl \| 0\.000 \| ([0-9.]+) \| \+([0-9.]+) \| REGRESSION \|",
                    md.read_text())
    assert row, md.read_text()
    assert float(row.group(1)) == pytest.approx(1.0, abs=0.02) == float(row.group(2))
