"""scripts/ci/interleaved_ab.py: two builds take turns in one session, rounds merged, then compared.

A tiny scenario (one server, c=1, 0.2 s per repetition, 2 rounds) keeps this to a few seconds; it
checks the plumbing (order, merge, fixed loadgen, compare), not the statistics.
"""
import json
import shutil
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import harness  # noqa: E402
from perfcheck.results import Results  # noqa: E402

AB = os.path.join(ROOT, "scripts", "ci", "interleaved_ab.py")

TINY = {"schema_version": 1, "name": "tiny-ci", "description": "interleave plumbing test",
        "loadgen": {"keepalive": True, "duration_s": 0.2, "warmup_s": 0, "timeout_s": 5},
        "series": ["epoll"], "concurrency": [1], "repeats": 5}


@pytest.fixture
def scenario(tmp_path):
    path = tmp_path / "tiny-ci.json"
    path.write_text(json.dumps(TINY))
    return str(path)


def other_bin_dir(tmp_path):
    """A second 'build': symlinks to the real binaries, so its paths differ."""
    d = tmp_path / "other-bin"
    d.mkdir()
    for name in os.listdir(harness.BIN_DIR):
        os.symlink(os.path.join(os.path.abspath(harness.BIN_DIR), name), d / name)
    return str(d)


def run_ab(*args):
    p = subprocess.run([sys.executable, AB, *map(str, args)], capture_output=True, text=True, timeout=240)
    return p.returncode, p.stdout, p.stderr


def test_rounds_alternate_and_merge_into_two_results_folders(tmp_path, scenario):
    harness.binary("server-epoll")
    base_bin = other_bin_dir(tmp_path)
    status, out, err = run_ab("--scenario", scenario, "--baseline-bin", base_bin,
                              "--candidate-bin", harness.BIN_DIR, "--rounds", "2",
                              "--out", tmp_path / "ab", "--alpha", "0.5", "--correction", "none",
                              "--json", tmp_path / "cmp.json", "--syscalls", "none")
    assert status in (0, 1), out + err  # a verdict, whichever it is
    assert "round 1/2 (baseline then candidate)" in err
    assert "round 2/2 (candidate then baseline)" in err
    folders = dict(line.split(": ", 1) for line in out.splitlines() if line.startswith(("baseline: ", "candidate: ")))
    base, cand = Results(folders["baseline"]), Results(folders["candidate"])
    for res, side, bin_dir in ((base, "baseline", base_bin), (cand, "candidate", harness.BIN_DIR)):
        assert res.scenario_name == "tiny-ci"
        assert res.scenario["repeats"] == 2
        reps = res.points[("epoll", 1)]
        assert [r["repetition"] for r in reps] == [1, 2]
        assert all(r["status"] == "ok" for r in reps)
        meta = res.manifest["interleaved"]
        assert meta["side"] == side and meta["rounds"] == 2
        assert meta["session"] == base.manifest["interleaved"]["session"]  # one id for the pair
        assert meta["order"] == [["baseline", "candidate"], ["candidate", "baseline"]]
        assert os.path.abspath(meta["bin_dir"]) == os.path.abspath(bin_dir)
        # The instrument is fixed: both sides measured with the candidate's loadgen.
        assert os.path.abspath(meta["loadgen"]) == os.path.join(os.path.abspath(harness.BIN_DIR), "loadgen")
    rows = json.loads((tmp_path / "cmp.json").read_text())["rows"]
    assert {r["metric"] for r in rows if r["verdict"] != "n/a"} == {
        "throughput", "latency_p50", "latency_p99", "cpu_per_request"}


def test_default_rounds_come_from_the_scenario_and_too_few_is_an_error(tmp_path, scenario):
    status, out, err = run_ab("--scenario", scenario, "--baseline-bin", harness.BIN_DIR, "--rounds", "2",
                              "--out", tmp_path / "ab")
    # 2 rounds can never reach alpha 0.05: the runs happen, then a clear error instead of a verdict.
    assert status == 2 and "too few repetitions: 2 interleaved rounds" in err


def test_bad_arguments(tmp_path, scenario):
    status, _, err = run_ab("--scenario", scenario, "--baseline-bin", tmp_path / "nope", "--out", tmp_path / "ab")
    assert status == 2 and "does not exist" in err
    status, _, err = run_ab("--scenario", tmp_path / "missing.json", "--baseline-bin", harness.BIN_DIR)
    assert status == 2 and "missing.json: no such scenario file" in err
    status, _, err = run_ab("--scenario", scenario, "--baseline-bin", harness.BIN_DIR,
                            "--candidate-env", "JUSTANAME")
    assert status == 2 and "NAME=VALUE" in err


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace")
@pytest.mark.skipif(os.environ.get("C10K_SANITIZE") == "1",
                    reason="the shim cannot be preloaded ahead of ASan's runtime, which must come first")
def test_one_extra_system_call_per_request_fails_the_interleaved_gate(tmp_path, scenario):
    """The wall-clock verdict may or may not see one more fcntl per read on a shared machine; the
    system-call count beside it does, every time."""
    from perfcheck import slowdown
    env = [f"{k}={v}" for k, v in slowdown.extra_syscall_env().items()]
    args = ["--scenario", scenario, "--baseline-bin", harness.BIN_DIR, "--rounds", "2", "--alpha", "0.5",
            "--correction", "none"]
    for e in env:
        args += ["--candidate-env", e]
    status, out, err = run_ab(*args, "--out", tmp_path / "ab")
    assert status == 1, out + err
    assert "counting system calls per request of the candidate: epoll" in err
    row = next(line for line in out.splitlines() if "fcntl" in line)
    assert "server-epoll" in row and "REGRESSION" in row
    assert "counting system calls per request of the baseline: epoll" in err


def test_which_servers_have_their_system_calls_counted(scenario):
    """The scenario's own models by default, the ones named with --syscalls, or none."""
    import argparse
    import importlib.util
    spec = importlib.util.spec_from_file_location("interleaved_ab", AB)
    ab = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ab)
    ns = lambda v: argparse.Namespace(syscalls=v, quick=False)  # noqa: E731
    assert ab.syscall_models(ns(None), scenario) == ["epoll"]
    assert ab.syscall_models(ns(["threaded", "poll"]), scenario) == ["threaded", "poll"]
    assert ab.syscall_models(ns(["none"]), scenario) == []
