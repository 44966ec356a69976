"""scripts/ci/perf-check.sh end to end on a tiny scenario: injected CPU work fails all three gates.

The candidate's servers get C10K_EXTRA_WORK_US=200 (200 us of CPU per request, many times their
own cost), so the verdict does not depend on the machine's noise even with 2 rounds. Under the
ASan build the instruction-count gate is left out (valgrind cannot run ASan binaries).
"""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PERF_CHECK = os.path.join(ROOT, "scripts", "ci", "perf-check.sh")
TINY = {"schema_version": 1, "name": "tiny-perf", "description": "perf-check end-to-end test",
        "loadgen": {"keepalive": True, "duration_s": 0.3, "warmup_s": 0, "timeout_s": 5},
        "series": ["epoll"], "concurrency": [1], "repeats": 2}


@pytest.mark.serial  # its wall-clock gate compares throughput and CPU per request over 2 rounds
def test_injected_slowdown_fails_both_gates_and_every_report_is_written(tmp_path):
    harness.binary("server-epoll")
    scenario = tmp_path / "tiny-perf.json"
    scenario.write_text(json.dumps(TINY))
    sanitize = os.environ.get("C10K_SANITIZE") == "1"
    out = tmp_path / "report"
    argv = [PERF_CHECK, "--scenario", str(scenario), "--baseline-bin", harness.BIN_DIR,
            "--candidate-bin", harness.BIN_DIR, "--candidate-env", "C10K_EXTRA_WORK_US=200",
            "--out", str(out)]
    if sanitize:
        argv.append("--no-insn")
    # 2 rounds: only a loose, uncorrected alpha can be reached (2 vs 2 gives p >= 1/6).
    argv += ["--", "--alpha", "0.5", "--correction", "none"]
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env)
    assert p.returncode == 1, p.stdout + p.stderr

    report = (out / "report.md").read_text()
    assert "## Performance check: `tiny-perf` — ❌ regression" in report
    assert "Performance check: **REGRESSION**" in report
    rows = json.loads((out / "compare.json").read_text())["rows"]
    by_metric = {r["metric"]: r for r in rows if r["verdict"] != "n/a"}
    assert by_metric["cpu_per_request"]["verdict"] == "REGRESSION"
    assert by_metric["cpu_per_request"]["ratio"] > 3
    assert by_metric["throughput"]["verdict"] == "REGRESSION"
    assert set(json.loads((out / "bmf.json").read_text())) == {"tiny-perf/epoll/c1"}
    assert json.loads((out / "gab-bigger.json").read_text())[0]["unit"] == "req/s"
    assert len(json.loads((out / "gab-smaller.json").read_text())) == 3
    if not sanitize:
        assert "## Instruction counts — ❌ regression" in report
        insn_section = report.split("## Instruction counts", 1)[1].split("\n## ", 1)[0]
        insn_rows = {r.split("|")[1].strip(): r for r in insn_section.splitlines() if r.startswith("| server-epoll")}
        assert "REGRESSION" in insn_rows["server-epoll"]
        assert json.loads((out / "insn-bmf.json").read_text())["insn/server-epoll"]
    # The work loop reads the thread CPU clock, a real system call (no vDSO for it): caught too.
    assert "## System calls per request — ❌ regression" in report
    assert "| server-epoll | clock_gettime | 0.000 |" in report
    assert json.loads((out / "syscalls-bmf.json").read_text())["syscalls/server-epoll"]
    # The two merged results folders are kept for the upload.
    assert sorted(os.listdir(out / "results")) == ["baseline", "candidate"]
