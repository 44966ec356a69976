"""How each model behaves under concurrency, proved with counters rather than timings: peak
in-flight requests, CPU burned, connections refused, children reaped, clean stops."""
import os
import signal
import socket
import time

import pytest

import harness
from test_servers_support import (EVENT_MODELS, FD_SETSIZE_MODELS, NON_BLOCKING_MODELS, PER_PROCESS_MODELS,
                                  SERIAL_MODELS, UNBOUNDED_EVENT_MODELS, RawClient, children_of, cpu_seconds,
                                  wait_stats, wait_until)
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

MODELS = harness.MODELS


def concurrent_requests(addr, n, path):
    """Open n connections, send one request on each, then collect every response.

    Connection: close, or the blocking model would (rightly) keep serving the first connection."""
    clients = [RawClient(addr) for _ in range(n)]
    try:
        for c in clients:
            c.request("GET", path, headers={"Connection": "close"})
        return [c.read_response() for c in clients]
    finally:
        for c in clients:
            c.close()


@pytest.mark.parametrize("model", MODELS)
def test_delay_is_honoured(server_factory, model):
    srv = server_factory(model, "--delay-ms", "60.5")
    with RawClient(srv.addr) as c:
        for path, floor in [("/", 0.0605), ("/?delay_ms=25", 0.025), ("/?delay_ms=0", 0.0)]:
            t0 = time.monotonic()
            c.request("GET", path)
            assert c.read_response().status == 200
            assert time.monotonic() - t0 >= floor, path
    # /__stats is never delayed (the runner reads it under load): against a 4 s delay, an answer
    # within half of it cannot have waited for it, however slow the machine (a sanitizer build
    # beside other tests can take tens of ms for any answer).
    slow = server_factory(model, "--delay-ms", "4000")
    t0 = time.monotonic()
    slow.stats()
    assert time.monotonic() - t0 < 2.0


@pytest.mark.parametrize("model", MODELS)
def test_peak_inflight_shows_the_model(server_factory, model):
    if model in SERIAL_MODELS:
        n, delay = 8, 40  # served one after another: keep it short
    else:
        n, delay = 20, 600
    srv = server_factory(model, "--delay-ms", delay)
    responses = concurrent_requests(srv.addr, n, "/")
    assert [r.status for r in responses] == [200] * n
    stats = srv.stats()
    assert stats["peak_inflight"] == min(n, harness.DESCRIPTIONS[model]["max_inflight"] or n)
    assert stats["requests"] == n and stats["inflight"] == 0


@pytest.mark.parametrize("model", EVENT_MODELS)
def test_event_loop_waits_without_spinning(server_factory, model):
    """20 clients wait 800 ms on timers: the loop must sleep in its poll call, not busy-wait."""
    srv = server_factory(model, "--delay-ms", 800)
    cpu0 = cpu_seconds(srv.proc.pid)
    concurrent_requests(srv.addr, 20, "/")
    assert cpu_seconds(srv.proc.pid) - cpu0 < 0.3


@pytest.mark.parametrize("model", MODELS)
def test_work_us_burns_cpu(server_factory, model):
    # 20 requests x 10 ms of CPU each; the environment variable adds to the option.
    srv = server_factory(model, "--work-us", 4000, env={"C10K_EXTRA_WORK_US": "6000"})
    cpu0 = cpu_seconds(srv.proc.pid)
    with RawClient(srv.addr) as c:
        for _ in range(20):
            c.request("GET", "/")
            c.read_response()
    # Clock ticks are 10 ms and forked children are counted once reaped: allow for both.
    used = wait_until(lambda: cpu_seconds(srv.proc.pid) - cpu0 >= 0.17, timeout=3)
    assert used, cpu_seconds(srv.proc.pid) - cpu0


@pytest.mark.parametrize("model", NON_BLOCKING_MODELS)
def test_max_conns_refuses_with_503(server_factory, model):
    srv = server_factory(model, "--max-conns", 2)
    c1, c2 = RawClient(srv.addr), RawClient(srv.addr)
    try:
        for c in (c1, c2):
            c.request("GET", "/")
            assert c.read_response().status == 200
        with RawClient(srv.addr) as c3:
            r = c3.read_response()
            assert r.status == 503 and r.header("connection") == "close"
            assert c3.at_eof()
        c1.close()
        # With c1 gone (for forking: reaped) the stats connection itself is admitted.
        stats = wait_stats(srv, lambda s: s["active"] <= 2)
        assert stats["errors"]["refused"] >= 1
        c2.request("GET", "/")
        assert c2.read_response().status == 200
    finally:
        c1.close()
        c2.close()


@pytest.mark.parametrize("model", FD_SETSIZE_MODELS)
def test_select_refuses_fds_beyond_fd_setsize(server_factory, model):
    srv = server_factory(model)
    clients = []
    try:
        for _ in range(1040):
            clients.append(RawClient(srv.addr))
        # The last ones landed on fds >= FD_SETSIZE (1024): answered 503 and closed, no UB.
        last = clients[-1].read_response()
        assert last.status == 503
        clients[0].request("GET", "/")
        assert clients[0].read_response().status == 200
    finally:
        for c in clients:
            c.close()
    stats = wait_stats(srv, lambda s: s["active"] == 1)
    assert stats["errors"]["refused"] >= 10
    assert stats["active"] == 1


@pytest.mark.parametrize("model", UNBOUNDED_EVENT_MODELS)
def test_more_connections_than_fd_setsize(server_factory, model):
    srv = server_factory(model)
    clients = [RawClient(srv.addr) for _ in range(1100)]
    try:
        for c in clients:
            c.request("GET", "/?bytes=1")
        assert all(c.read_response().status == 200 for c in clients)
        assert srv.stats()["active"] == 1101
    finally:
        for c in clients:
            c.close()


@pytest.mark.parametrize("model", PER_PROCESS_MODELS)
def test_forking_reaps_every_child(server_factory, model):
    srv = server_factory(model)
    for _ in range(10):
        harness.http_get(srv.addr, "/")
    concurrent_requests(srv.addr, 5, "/?delay_ms=50")
    # Each child exits after its connection; the parent reaps it (no zombies, active back to 0).
    assert wait_until(lambda: not children_of(srv.proc.pid), timeout=5), children_of(srv.proc.pid)
    assert srv.stats()["active"] == 1


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_cleanly_on_signal(server_factory, model, sig):
    """With an idle keep-alive client and a request inside a long delay, the stop is prompt."""
    srv = server_factory(model, "--delay-ms", 20000)
    idle = RawClient(srv.addr)
    busy = RawClient(srv.addr)
    try:
        busy.request("GET", "/")
        if model in PER_PROCESS_MODELS:
            assert wait_until(lambda: len(children_of(srv.proc.pid)) >= 2, timeout=3)
        elif model not in SERIAL_MODELS:  # blocking is busy with `idle`: /__stats would wait
            wait_stats(srv, lambda s: s["inflight"] == 1)
        time.sleep(0.05)
        kids = [pid for pid, _ in children_of(srv.proc.pid)]
        t0 = time.monotonic()
        srv.proc.send_signal(sig)
        assert srv.proc.wait(timeout=5) == 0
        assert time.monotonic() - t0 < 3
        for pid in kids:  # forking: no child outlives the server
            assert wait_until(lambda: not os.path.exists(f"/proc/{pid}"), timeout=2), f"child {pid} survived"
        with pytest.raises(OSError):
            socket.create_connection(srv.addr, timeout=1).close()
    finally:
        idle.close()
        busy.close()


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_on_signal_before_any_connection(server_factory, model, sig):
    """A server that has never had a connection stops at once too: the stop must not wait for the
    first completion or event of a client."""
    srv = server_factory(model)
    time.sleep(0.2)  # settled in its wait for the first connection
    srv.proc.send_signal(sig)
    assert srv.proc.wait(timeout=5) == 0


def _block_stop_signals():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stops_on_signal_when_started_with_it_blocked(server_factory, model, sig):
    """A launcher (a shell script, a service manager, a CI step) may start the server with the stop
    signals blocked, and the mask survives exec: a server that does not unblock them leaves the
    signal pending forever and outlives whoever started it."""
    srv = server_factory(model, "--delay-ms", 5, preexec_fn=_block_stop_signals)
    assert harness.http_get(srv.addr, "/")[0] == 200
    srv.proc.send_signal(sig)
    assert srv.proc.wait(timeout=5) == 0
