"""scripts/conn-memory.py on a real server: idle keep-alive connections (answered once, then silent)
and delayed ones are all held and measured (memory, unlike time, does not move with the machine's
load: an event loop's idle connection stays under 0.40 KiB)."""
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


def first_model_per_event_loop_driver():
    """One single-process model per event-loop driver (readiness loop, libuv, io_uring), in story
    order, leaving out those whose wait cannot watch 2,000 fds (select)."""
    firsts = {}
    for model, d in harness.DESCRIPTIONS.items():
        if d["driver"] in ("readiness loop", "libuv", "io_uring") and d["processes"] == 1 \
                and not d["limits"]["fd_setsize"]:
            firsts.setdefault(d["driver"], model)
    return list(firsts.values())


@pytest.mark.parametrize("model", first_model_per_event_loop_driver())
def test_idle_keepalive_connections_are_held_and_measured(model):
    [row] = conn_memory("--idle", "-n", 2000, model)
    assert row["mode"] == "idle" and row["open"] == 2000
    # A resting connection holds its struct and its session, not a parser, an output queue or an
    # input buffer (docs/conn-memory.md): well under the 0.40 KiB of nginx's connection slot.
    assert 0 < row["marginal_pss_per_connection_kib"] < 0.40, row


def test_delayed_requests_are_held_and_measured():
    [row] = conn_memory("-n", 400, "--delay-ms", 5000, "poll")
    assert row["mode"] == "delayed" and row["inflight"] == 400
    assert row["pss_per_connection_kib"] is not None and row["pss_per_connection_kib"] > 0


def test_bad_input_is_exit_2():
    r = subprocess.run([sys.executable, SCRIPT, "--bin-dir", harness.BIN_DIR, "-n", "1", "epoll"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "at least 2" in r.stderr
