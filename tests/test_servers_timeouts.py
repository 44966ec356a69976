"""Timeouts in every model: a half-sent or never-sent head (408, then close), an idle keep-alive
connection (close), a peer that stops reading (close); each expiry counted in /__stats; 0
disables. Short timeouts and generous socket limits: nothing here depends on a stopwatch."""
import socket
import time

import pytest

from test_servers_contract import BINARIES, IDS
from test_servers_support import RawClient, build_request, wait_stats, wait_until
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

SHORT = "300"


def expect_408_then_close(c):
    r = c.read_response()
    assert r.status == 408 and r.header("connection") == "close"
    assert c.at_eof()


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_header_timeout_answers_408(server_factory, path):
    srv = server_factory(path, "--header-timeout-ms", SHORT)
    with RawClient(srv.addr) as c:  # half a head, then silence
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
        expect_408_then_close(c)
    with RawClient(srv.addr) as c:  # a connection that never sends a byte
        expect_408_then_close(c)
    with RawClient(srv.addr) as c:  # a second request's head, cut short after a good first one
        c.request("GET", "/")
        assert c.read_response().status == 200
        c.send(b"GET / HTT")
        expect_408_then_close(c)
    stats = wait_stats(srv, lambda s: s["timeouts"]["header"] >= 3 and s["active"] == 1)
    assert stats["timeouts"] == {"header": 3, "idle": 0, "write": 0}
    assert stats["active"] == 1 and stats["requests"] == 1


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_idle_timeout_closes_keep_alive(server_factory, path):
    srv = server_factory(path, "--idle-timeout-ms", SHORT)
    with RawClient(srv.addr) as c:
        for _ in range(3):
            c.request("GET", "/")
            assert c.read_response().status == 200
        assert c.at_eof()  # no answer: an idle connection just closes
    stats = wait_stats(srv, lambda s: s["timeouts"]["idle"] >= 1 and s["active"] == 1)
    assert stats["timeouts"] == {"header": 0, "idle": 1, "write": 0}
    assert stats["active"] == 1


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_write_timeout_closes_a_peer_that_stops_reading(server_factory, path):
    srv = server_factory(path, "--write-timeout-ms", SHORT)
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        sock.settimeout(10)
        sock.connect(srv.addr)
        # 16 MiB of answers: far more than the server's send buffer (4 MiB at most) and ours hold.
        sock.sendall(build_request("GET", "/?bytes=1048576") * 16)
        stats = wait_stats(srv, lambda s: s.get("timeouts", {}).get("write", 0) >= 1, timeout=15)
        assert stats["timeouts"] == {"header": 0, "idle": 0, "write": 1}
        assert stats["errors"]["io"] == 0
    assert wait_stats(srv, lambda s: s["active"] == 1)["active"] == 1


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_waiting_for_a_delay_is_not_a_timeout(server_factory, path):
    """The delay is the server's own wait: no header, idle or write timeout runs during it."""
    srv = server_factory(path, "--header-timeout-ms", "100", "--idle-timeout-ms", "100",
                         "--write-timeout-ms", "100")
    with RawClient(srv.addr) as c:
        c.request("GET", "/?delay_ms=400&bytes=5")
        r = c.read_response()
        assert r.status == 200 and r.body == b"c10k-"
    stats = wait_stats(srv, lambda s: s["requests"] == 1)
    assert stats["timeouts"]["header"] == 0 and stats["timeouts"]["write"] == 0


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_zero_disables_timeouts(server_factory, path):
    srv = server_factory(path, "--header-timeout-ms", "0", "--idle-timeout-ms", "0")
    with RawClient(srv.addr) as c:
        c.request("GET", "/")
        assert c.read_response().status == 200
        assert not c.at_eof(timeout=0.8)
        c.send(b"GET / HTTP/1.1\r\n")
        assert not c.at_eof(timeout=0.8)
        c.send(b"Host: x\r\n\r\n")
        assert c.read_response().status == 200


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_http09_request_is_answered_at_once(server_factory, path):
    """`GET /` + CRLF is HTTP/0.9: an error right away, not a wait for headers that never come."""
    srv = server_factory(path, "--header-timeout-ms", "60000")
    with RawClient(srv.addr, timeout=5) as c:
        c.send(b"GET /\r\n")
        r = c.read_response()
        assert r.status == 505
        assert c.at_eof()


@pytest.mark.parametrize("path", BINARIES[:1], ids=IDS[:1])
def test_bad_timeout_values_are_rejected(path):
    import subprocess
    for flag in ("--header-timeout-ms", "--idle-timeout-ms", "--write-timeout-ms"):
        for value in ("-1", "abc", "1e3", "86400001"):
            p = subprocess.run([path, flag, value], capture_output=True, text=True, timeout=10)
            assert p.returncode == 2 and flag in p.stderr


def test_threadpool_times_a_queued_head_from_the_accept(server_factory):
    """A connection waiting in the pool's queue is on the header timeout's clock from its accept,
    not from a worker's pickup: behind a silent connection holding the only worker for the whole
    timeout, a head sent at one and a half timeouts is already late (408), however long the wait
    for the worker was."""
    timeout_ms = 1000
    srv = server_factory("threadpool", "--threads", 1, "--header-timeout-ms", timeout_ms)
    with RawClient(srv.addr) as holder, RawClient(srv.addr) as queued:
        expect_408_then_close(holder)  # the worker was this one's for a whole timeout
        time.sleep(timeout_ms / 2000)  # now 1.5 timeouts after both connects
        try:
            queued.send(build_request("GET", "/"))
        except OSError:
            pass  # already answered and closed: the head was late
        expect_408_then_close(queued)


def never_reading_client(srv, request):
    """A client with a 4 KiB receive window that sends `request` and then reads nothing."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    sock.settimeout(10)
    sock.connect(srv.addr)
    sock.sendall(request)
    return sock


def peer_sees_the_end(sock):
    """The connection is over for the peer (reset, or its FIN arrived), seen without reading."""
    tcpi_state = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
    return tcpi_state != 1  # TCP_ESTABLISHED


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_write_timeout_counts_what_the_peer_took(server_factory, path):
    """One 16 MiB answer (4 times the most a send buffer grows to) to a peer that never reads: the
    server's send buffer fills, and the kernel may grow it later and let more writes through, which
    are no progress: the peer took nothing. Closed (and counted) within 3 times the timeout,
    measured from the request. (The server builds its answer at start: time to be ready.)"""
    srv = server_factory(path, "--write-timeout-ms", "1000", "--body-bytes", str(16 << 20), ready_timeout=60)
    with never_reading_client(srv, build_request("GET", "/")):
        stats = wait_stats(srv, lambda s: s["timeouts"]["write"] >= 1 and s["active"] == 1, timeout=3)
        assert stats["timeouts"] == {"header": 0, "idle": 0, "write": 1}
        assert stats["active"] == 1 and stats["errors"]["io"] == 0


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_write_timeout_ends_the_connection_for_the_peer(server_factory, path):
    """64 pipelined answers of 1 MiB to a peer that never reads: after the timeout the peer's end
    is closed too (the server resets it), not left established behind megabytes that the server's
    kernel still tries to deliver; with io_uring, a send is still in flight when the timeout fires."""
    srv = server_factory(path, "--write-timeout-ms", "1000")
    with never_reading_client(srv, build_request("GET", "/?bytes=1048576") * 64) as sock:
        stats = wait_stats(srv, lambda s: s["timeouts"]["write"] >= 1 and s["active"] == 1, timeout=3)
        assert stats["timeouts"] == {"header": 0, "idle": 0, "write": 1}
        assert stats["active"] == 1 and stats["errors"]["io"] == 0
        assert wait_until(lambda: peer_sees_the_end(sock), 2)
