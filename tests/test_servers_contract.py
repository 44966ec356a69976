"""The connection contract, checked on every server binary in the bin dir (server-*): pipelined
large, small and delayed requests, read by a slow reader, all arrive whole and in order.

Each driver (blocking I/O, the readiness loops, libuv, io_uring, ...) applies the same session
decisions its own way; orders of events that differ between them (a delay ending while a large
write is still in flight, a pipelined burst parsed while the peer does not read) must not lose or
reorder an answer."""
import glob
import os
import time

import pytest

import harness
from test_servers_support import RawClient, build_request, wait_stats
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

MIB = 1 << 20


def server_binaries():
    found = sorted(glob.glob(os.path.join(harness.BIN_DIR, "server-*")))
    return [p for p in found if os.access(p, os.X_OK)] or [harness.server_binary(m) for m in harness.MODELS]


BINARIES = server_binaries()
IDS = [os.path.basename(p)[len("server-"):] for p in BINARIES]

# (path, body bytes expected): distinct sizes, so an answer out of order or cut short shows.
PIPELINE = [
    ("/?bytes=1048576", MIB),
    ("/?delay_ms=10&bytes=11", 11),    # its delay ends while the 1 MiB answer is still being written
    ("/?bytes=12", 12),
    ("/?bytes=700000&delay_ms=5", 700000),
    ("/", None),                        # the default body
    ("/?delay_ms=20&bytes=13", 13),
    ("/?bytes=1048575", MIB - 1),
    ("/?bytes=14", 14),
]


def slow_read_responses(client, count, pause=0.002, chunk=16384):
    """Reads `count` responses in small pieces with pauses, as a slow client would."""
    got = []
    original_fill = client._fill

    def slow_fill():
        time.sleep(pause)
        data = client.sock.recv(chunk)
        if not data:
            raise EOFError("connection closed by the server")
        client.buf += data

    client._fill = slow_fill
    try:
        for _ in range(count):
            got.append(client.read_response())
    finally:
        client._fill = original_fill
    return got


def check_answers(responses, pipeline, default_bytes):
    assert len(responses) == len(pipeline)
    for (path, expected), r in zip(pipeline, responses):
        want = default_bytes if expected is None else expected
        assert r.status == 200, (path, r)
        assert len(r.body) == want == int(r.header("content-length")), (path, len(r.body))
        assert r.body[:4] == b"c10k", path


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_pipelined_large_small_delayed_to_a_slow_reader(server_factory, path):
    srv = server_factory(path, "--body-bytes", "64")
    with RawClient(srv.addr, timeout=30) as c:
        c.send(b"".join(build_request("GET", p) for p, _ in PIPELINE))
        time.sleep(0.5)  # the peer reads nothing for a while: writes block, delays end meanwhile
        check_answers(slow_read_responses(c, len(PIPELINE)), PIPELINE, 64)
        # The connection is still good for more, sent in pieces this time.
        raw = b"".join(build_request("GET", p) for p, _ in PIPELINE[:4])
        for i in range(0, len(raw), 7):
            c.send(raw[i:i + 7])
        check_answers([c.read_response() for _ in range(4)], PIPELINE[:4], 64)
    stats = wait_stats(srv, lambda s: s["inflight"] == 0 and s["requests"] >= len(PIPELINE) + 4)
    assert stats["requests"] == len(PIPELINE) + 4 and stats["inflight"] == 0
    assert stats["errors"]["io"] == 0


@pytest.mark.parametrize("path", BINARIES, ids=IDS)
def test_delayed_answers_interleaved_with_reads(server_factory, path):
    """A request is sent only after the previous answer began to arrive, while delays run."""
    srv = server_factory(path, "--body-bytes", "10")
    with RawClient(srv.addr, timeout=30) as c:
        for i in range(6):
            c.request("GET", f"/?delay_ms={5 * (i % 3)}&bytes={300000 * (i % 2) + 1 + i}")
            c.request("GET", f"/?bytes={i + 20}")
            first = c.read_response()
            second = c.read_response()
            assert len(first.body) == 300000 * (i % 2) + 1 + i
            assert len(second.body) == i + 20
