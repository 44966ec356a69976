"""Models that run --threads event loops in one process, one per thread, each with its own
SO_REUSEPORT listener and counters; and /__stats's per-instance breakdown wherever a model runs
several instances. Shown with counters, never stopwatches."""
import json
import os
import signal
import time

import pytest

import harness
from test_servers_support import RawClient, delayed_wave, wait_stats
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

# Traits from the models' own --describe: one loop (one instance) per thread.
LOOP_THREAD_MODELS = harness.models_where(lambda d: "threads" in d["options"] and d["instances"] == d["threads"])
# TSan runs a background thread of its own.
EXTRA_THREADS = {0, 1} if os.environ.get("C10K_TSAN") else {0}


def thread_count(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def test_some_model_runs_loops_in_threads():
    assert LOOP_THREAD_MODELS, "no model describes itself as one loop per thread"


@pytest.mark.parametrize("model", LOOP_THREAD_MODELS)
def test_loops_serve_together_and_share_the_load(server_factory, model):
    """40 delayed clients over 4 loops: all 40 are in flight at once, more than one loop served
    them, the per-loop counts add up to the totals, and the process runs exactly 4 threads."""
    srv = server_factory(model, "--threads", 4, "--delay-ms", 200)
    assert thread_count(srv.proc.pid) - 4 in EXTRA_THREADS
    assert delayed_wave(srv.addr, 40, 500) == [200] * 40  # 500 ms: all 40 arrive well within it
    stats = wait_stats(srv, lambda s: s["inflight"] == 0)
    per = stats["per_instance"]
    assert stats["peak_inflight"] == 40 and stats["requests"] == 40, stats
    assert len(per["requests"]) == 4 and sum(per["requests"]) == 40, per
    assert sum(per["accepted"]) == stats["accepted"] >= 41, stats  # the /__stats connection too
    assert sum(1 for n in per["requests"] if n > 0) >= 2, per
    assert thread_count(srv.proc.pid) - 4 in EXTRA_THREADS  # no thread per connection


@pytest.mark.parametrize("model", LOOP_THREAD_MODELS)
def test_threads_default_to_one_loop_per_cpu(model):
    desc = harness.DESCRIPTIONS[model]  # described without flags
    assert desc["threads"] == desc["instances"] == os.sysconf("SC_NPROCESSORS_ONLN")
    assert desc["processes"] == 1 and desc["max_inflight"] is None


@pytest.mark.parametrize("model", LOOP_THREAD_MODELS)
def test_max_conns_bounds_the_whole_server(server_factory, model):
    """--max-conns 5 over 3 loops: 5 connections are served wherever the kernel put them, the
    next ones get 503, counted once each."""
    srv = server_factory(model, "--threads", 3, "--max-conns", 5)
    held = [RawClient(srv.addr) for _ in range(5)]
    try:
        for c in held:
            c.request("GET", "/")
            assert c.read_response().status == 200
        for _ in range(4):
            extra = RawClient(srv.addr)
            try:
                assert extra.read_response().status == 503
            finally:
                extra.close()
    finally:
        for c in held:
            c.close()
    # Until the server has seen the closes, a /__stats connection is refused (and counted) too.
    polls_refused, stats = 0, None
    while stats is None or stats["active"] > 1:  # the /__stats connection itself is open
        try:
            status, _, body = harness.http_get(srv.addr, "/__stats")
        except OSError:  # refused: the 503 reset away with the unread request
            status, body = 503, ""
        polls_refused += status == 503
        stats = json.loads(body) if status == 200 else None
        assert polls_refused < 250, "the held connections never closed"
        time.sleep(0.02 if stats is None or stats["active"] > 1 else 0)
    assert stats["errors"]["refused"] == 4 + polls_refused and stats["requests"] == 5, stats


@pytest.mark.parametrize("model", LOOP_THREAD_MODELS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_ends_every_loop(server_factory, model, sig):
    """Connections idle or waiting in a delay on several loops: one signal (landing on one thread)
    stops them all, and the process exits 0."""
    srv = server_factory(model, "--threads", 4)
    idle = [RawClient(srv.addr) for _ in range(12)]
    waiting = [RawClient(srv.addr) for _ in range(12)]
    try:
        for c in idle:
            c.request("GET", "/")
            assert c.read_response().status == 200
        for c in waiting:
            c.request("GET", "/?delay_ms=60000")
        stats = wait_stats(srv, lambda s: s["inflight"] == 12)
        assert sum(1 for n in stats["per_instance"]["accepted"] if n > 0) >= 2, stats
        srv.proc.send_signal(sig)
        assert srv.proc.wait(10) == 0
    finally:
        for c in idle + waiting:
            c.close()


def test_stats_list_each_instance_of_multi_instance_models(server_factory):
    """Wherever a model runs several instances (worker processes, loop threads), /__stats lists
    each one's accepted and requests, and they add up to the totals."""
    checked = 0
    for model in harness.MODELS:
        flags = harness.DESCRIPTIONS[model]["options"]
        if not flags:
            continue
        srv = server_factory(model, f"--{flags[0]}", 3)
        assert delayed_wave(srv.addr, 6, 0) == [200] * 6
        stats = wait_stats(srv, lambda s: s["requests"] == 6 and s["inflight"] == 0)
        per = stats["per_instance"]
        expected = 3 if model in LOOP_THREAD_MODELS or "workers" in flags else 1
        assert len(per["requests"]) == len(per["accepted"]) == expected, (model, per)
        assert sum(per["requests"]) == 6 and sum(per["accepted"]) == stats["accepted"], (model, stats)
        checked += 1
        srv.proc.send_signal(signal.SIGTERM)  # the fixture checks its exit and stderr
        srv.proc.wait(10)
    assert checked > 0
