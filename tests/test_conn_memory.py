"""scripts/conn-memory.py on a real server: idle keep-alive connections (answered once, then silent)
and delayed ones are all held and measured (memory, unlike time, does not move with the machine's
load: an event loop's idle connection stays under 1 KiB)."""
import json
import os
import subprocess
import sys

import pytest

import harness

SCRIPT = os.path.join(harness.ROOT, "scripts", "conn-memory.py")
pytestmark = pytest.mark.skipif(bool(os.environ.get("C10K_SANITIZE")),
                                reason="sanitizer builds carry shadow memory and redzones per allocation")


def conn_memory(*args):
    r = subprocess.run([sys.executable, SCRIPT, "--bin-dir", harness.BIN_DIR, "--json", *map(str, args)],
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_idle_keepalive_connections_are_held_and_measured():
    [row] = conn_memory("--idle", "-n", 2000, "epoll")
    assert row["mode"] == "idle" and row["open"] == 2000
    assert 0 < row["marginal_pss_per_connection_kib"] < 1.0, row


def test_delayed_requests_are_held_and_measured():
    [row] = conn_memory("-n", 400, "--delay-ms", 5000, "poll")
    assert row["mode"] == "delayed" and row["inflight"] == 400
    assert row["pss_per_connection_kib"] is not None and row["pss_per_connection_kib"] > 0


def test_bad_input_is_exit_2():
    r = subprocess.run([sys.executable, SCRIPT, "--bin-dir", harness.BIN_DIR, "-n", "1", "epoll"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "at least 2" in r.stderr
