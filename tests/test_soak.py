"""scripts/soak.py, short: its rows, its verdict and its pass rule on a real server (the long soaks
are benchmarks, run by hand), and bad input refused with exit status 2."""
import json
import os
import subprocess
import sys

import pytest

import harness

SOAK = os.path.join(harness.ROOT, "scripts", "soak.py")


def soak(*args, timeout=120):
    return subprocess.run([sys.executable, SOAK, "--bin-dir", harness.BIN_DIR, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(bool(os.environ.get("C10K_SANITIZE")),
                    reason="ASan's quarantine grows the server's RSS by megabytes in seconds: the pass rule's 1 MiB")
@pytest.mark.parametrize("model", ["epoll", "libuv"])  # libuv opens a spare fd with its first connection
def test_short_soak_reports_every_interval_and_passes(tmp_path, model):
    out = tmp_path / "soak.json"
    r = soak("--minutes", 0.1, "--interval", 3, "--rate", 200, "--idle", 20, "--slowloris", 5, "--json", out, model)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"server-{model}: PASS" in r.stdout
    [verdict] = json.loads(out.read_text())
    assert verdict["passed"] and verdict["normal_failures"] == 0
    assert len(verdict["rows"]) == 2
    last = verdict["rows"][-1]
    assert last["normal_requests"] > 0
    # The hostile clients were there: every idle and slowloris connection open, resets sent.
    assert last["hostiles"]["open"]["idle"] == 20 and last["hostiles"]["open"]["slowloris"] == 5
    assert last["hostiles"]["resets_sent"] > 100
    # Held connections show in the server's fds; they are gone once the clients leave.
    assert last["fds"] >= verdict["fds_before"] + 25
    assert verdict["fds_after"] <= verdict["fds_before"]


def test_bad_input_is_exit_2():
    r = soak("nosuchmodel")
    assert r.returncode == 2 and "not an executable server" in r.stderr
    r = soak("--minutes", 0.01, "--interval", 5, "epoll")
    assert r.returncode == 2 and "--interval is longer than the run" in r.stderr
    r = soak("--rate", 0, "epoll")
    assert r.returncode == 2 and "Traceback" not in r.stderr
