"""The instruction-count gate (scripts/insn_gate.py): parsing, verdicts, and real tiny runs.

The runs under valgrind are skipped in the ASan build (C10K_SANITIZE=1): valgrind cannot run
AddressSanitizer binaries. They are kept tiny (a few hundred requests) because valgrind is slow.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from perfcheck import PerfCheckError, insn  # noqa: E402

GATE = os.path.join(ROOT, "scripts", "insn_gate.py")

_valgrind_usable = pytest.mark.skipif(
    os.environ.get("C10K_SANITIZE") == "1" or not shutil.which("valgrind"),
    reason="valgrind cannot run ASan+UBSan binaries (C10K_SANITIZE=1), or valgrind is missing")


def needs_valgrind(test):
    """Skipped where valgrind cannot run; `serial`: valgrind keeps a core busy, one run at a time."""
    return pytest.mark.serial(_valgrind_usable(test))


def gate(*args, timeout=300):
    p = subprocess.run([sys.executable, GATE, *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def report(targets, n1=500, n2=2500, tool="cachegrind"):
    return {"schema_version": 1, "kind": insn.KIND, "environment": {},
            "params": {"tool": tool, "n1": n1, "n2": n2, "concurrency": 1, "keepalive": True},
            "targets": {name: {"kind": "server", "command": ["/x/" + name, "--port", "0"],
                               "insn_per_request": v, "min_insn_per_request": v,
                               "max_insn_per_request": v, "spread": 0.0, "runs": [{}],
                               "collect_fn": None}
                        for name, v in targets.items()}}


def write(path, doc):
    path.write_text(json.dumps(doc))
    return str(path)


# ----- parsing valgrind output ------------------------------------------------------------------

def test_total_instructions_sums_every_process(tmp_path):
    # A forking server leaves one file per process; cachegrind and callgrind formats differ a little.
    (tmp_path / "vg.out.100").write_text("desc: I1 cache:\ncmd: server\nevents: Ir\nfl=a.c\n1 5\nsummary: 1000\n")
    (tmp_path / "vg.out.101").write_text("# callgrind format\nevents: Ir Dr\nfn=main\n1 5 1\ntotals: 250 7\n")
    assert insn.total_instructions(str(tmp_path)) == 1250


def test_total_instructions_rejects_missing_or_truncated_output(tmp_path):
    with pytest.raises(PerfCheckError, match="no output file"):
        insn.total_instructions(str(tmp_path))
    (tmp_path / "vg.out.7").write_text("events: Ir\nfl=a.c\n")
    with pytest.raises(PerfCheckError, match="no Ir summary"):
        insn.total_instructions(str(tmp_path))


# ----- verdicts on stored reports -----------------------------------------------------------------

def test_check_verdicts():
    base = report({"server-epoll": 3000.0, "server-libuv": 4000.0, "loadgen": 5000.0})
    cand = report({"server-epoll": 3020.0, "server-libuv": 4100.0, "loadgen": 4800.0})
    rows, warnings = insn.check(base, cand, 0.01)
    verdicts = {r["target"]: r["verdict"] for r in rows}
    assert verdicts["server-epoll"] == "ok"                      # +0.67 %
    assert verdicts["server-libuv"] == "REGRESSION"              # +2.5 %
    assert verdicts["loadgen"].startswith("better")              # -4 %
    assert warnings == []
    rows, _ = insn.check(base, cand, 0.03)
    assert all(r["verdict"] != "REGRESSION" for r in rows)


def test_check_refuses_reports_measured_differently():
    with pytest.raises(PerfCheckError, match="n1"):
        insn.check(report({"server-epoll": 1.0}), report({"server-epoll": 1.0}, n1=100), 0.01)
    with pytest.raises(PerfCheckError, match="tool"):
        insn.check(report({"server-epoll": 1.0}), report({"server-epoll": 1.0}, tool="callgrind"), 0.01)
    with pytest.raises(PerfCheckError, match="not measured"):
        insn.check(report({"server-epoll": 1.0, "loadgen": 1.0}), report({"server-epoll": 1.0}), 0.01)


def test_check_command_line(tmp_path):
    base = write(tmp_path / "base.json", report({"server-epoll": 3000.0}))
    same = write(tmp_path / "same.json", report({"server-epoll": 3000.0}))
    slow = write(tmp_path / "slow.json", report({"server-epoll": 3060.0}))
    status, out, _ = gate("check", same, "--baseline", base)
    assert status == 0 and "PASS" in out
    status, out, _ = gate("check", slow, "--baseline", base, "--markdown", tmp_path / "m.md")
    assert status == 1 and "REGRESSION" in out and "1.0200" in out
    assert "## Instruction counts" in (tmp_path / "m.md").read_text()
    assert gate("check", slow, "--baseline", base, "--tolerance", "3%")[0] == 0
    (tmp_path / "junk.json").write_text("{}")
    status, _, err = gate("check", slow, "--baseline", tmp_path / "junk.json")
    assert status == 2 and "not an instruction-count report" in err
    status, _, err = gate("check", slow, "--baseline", tmp_path / "missing.json")
    assert status == 2 and "no such" in err


def test_bad_measure_options_are_clear_errors(tmp_path):
    status, _, err = gate("measure", "--bin-dir", tmp_path)
    assert status == 2 and "not an executable" in err
    status, _, err = gate("measure", "--bin-dir", harness.BIN_DIR, "--n1", "10", "--n2", "5", "--no-loadgen")
    assert status == 2 and "N1 < N2" in err
    status, _, err = gate("measure", "--bin-dir", harness.BIN_DIR, "--env", "NOEQUALS", "--no-loadgen")
    assert status == 2 and "NAME=VALUE" in err


# ----- real runs under valgrind -------------------------------------------------------------------

TINY = ["--n1", "50", "--n2", "250", "--loadgen-n1", "200", "--loadgen-n2", "1200", "--quiet"]


@needs_valgrind
def test_gate_passes_an_unchanged_build_and_catches_injected_work(tmp_path):
    harness.binary("loadgen")
    base = tmp_path / "base.json"
    status, out, err = gate("measure", "--bin-dir", harness.BIN_DIR, "--out", base, *TINY)
    assert status == 0, err
    doc = json.loads(base.read_text())
    per_request = {name: t["insn_per_request"] for name, t in doc["targets"].items()}
    assert set(per_request) == {"server-epoll", "loadgen"}
    # A request costs a server thousands of user-space instructions, not millions, not tens.
    assert 500 < per_request["server-epoll"] < 100000
    assert 500 < per_request["loadgen"] < 100000

    # The same build again: within the 1 % tolerance (the server's count is exact).
    status, out, err = gate("run", "--bin-dir", harness.BIN_DIR, "--baseline", base, *TINY)
    assert status == 0, out + err
    assert "PASS" in out

    # The servers' own knob: 1 us of extra CPU work per request.
    status, out, err = gate("run", "--bin-dir", harness.BIN_DIR, "--baseline", base,
                            "--env", "C10K_EXTRA_WORK_US=1", *TINY)
    assert status == 1, out + err
    assert [line.split()[0] for line in out.splitlines() if "REGRESSION" in line] == ["server-epoll"]


@needs_valgrind
def test_gate_catches_a_small_deterministic_slowdown(tmp_path):
    base = tmp_path / "base.json"
    assert gate("measure", "--bin-dir", harness.BIN_DIR, "--no-loadgen", "--out", base, *TINY)[0] == 0
    base_ipr = json.loads(base.read_text())["targets"]["server-epoll"]["insn_per_request"]
    cand = tmp_path / "cand.json"
    # A few multiply-add iterations per response (LD_PRELOAD shim): about +1.5 % instructions.
    status, out, err = gate("measure", "--bin-dir", harness.BIN_DIR, "--no-loadgen", "--out", cand,
                            "--slowdown-iters", "8", *TINY)
    assert status == 0, err
    cand_ipr = json.loads(cand.read_text())["targets"]["server-epoll"]["insn_per_request"]
    assert 1.01 < cand_ipr / base_ipr < 1.03
    status, out, _ = gate("check", cand, "--baseline", base)
    assert status == 1 and "REGRESSION" in out


@needs_valgrind
def test_loadgen_count_does_not_depend_on_how_long_the_run_lasts(tmp_path):
    """A server that answers 4 ms late stretches the loadgen's long run by some 5 s, as a busy
    machine does; the loadgen's work per second of wall time must not show in its count per request."""
    slow = tmp_path / "server-slow"
    slow.write_text(f'#!/bin/sh\nexec {harness.server_binary("epoll")} --delay-ms 4 "$@"\n')
    slow.chmod(0o755)
    common = ["measure", "--bin-dir", harness.BIN_DIR, "--n1", "5", "--n2", "10", *TINY[4:]]
    per_request = []
    for extra in ([], ["--loadgen-server", slow]):
        out = tmp_path / f"{len(per_request)}.json"
        status, _, err = gate(*common, *extra, "--out", out)
        assert status == 0, err
        per_request.append(json.loads(out.read_text())["targets"]["loadgen"]["insn_per_request"])
    fast, late = per_request
    assert abs(late / fast - 1) < 0.005, per_request
