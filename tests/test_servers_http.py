"""HTTP behaviour every reference server must share: methods, keep-alive, pipelining, overrides,
/__stats, and the command line."""
import json
import os
import socket
import subprocess

import pytest

import harness
from test_servers_support import RawClient, build_request, exchange
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

MODELS = harness.MODELS
STATS_KEYS = {"model", "accepted", "active", "requests", "inflight", "peak_inflight", "errors"}
ERROR_KEYS = {"bad_request", "header_too_large", "body_too_large", "refused", "accept", "spawn", "io"}


@pytest.mark.parametrize("model", MODELS)
def test_get_head_post(server_factory, model):
    srv = server_factory(model, "--body-bytes", 100)
    with RawClient(srv.addr) as c:
        c.request("GET", "/")
        get = c.read_response()
        assert get.status == 200 and get.version == "HTTP/1.1"
        assert get.header("content-length") == "100" and len(get.body) == 100
        assert get.header("connection") == "keep-alive"
        assert get.header("server") == f"c10k-{model}"

        c.request("HEAD", "/")
        head = c.read_response(head=True)
        assert head.status == 200 and head.header("content-length") == "100"

        c.request("POST", "/", body=b"x" * 5000)
        post = c.read_response()
        assert post.status == 200 and len(post.body) == 100

        # A HEAD body or an unconsumed POST body would corrupt this next exchange.
        c.request("GET", "/?bytes=7")
        assert len(c.read_response().body) == 7
    stats = srv.stats()
    assert stats["requests"] == 4 and stats["model"] == model


@pytest.mark.parametrize("model", MODELS)
def test_keep_alive_many_requests_one_connection(server_factory, model):
    srv = server_factory(model)
    before = srv.stats()
    with RawClient(srv.addr) as c:
        for i in range(100):
            c.request("GET", f"/?bytes={i}")
            r = c.read_response()
            assert r.status == 200 and len(r.body) == i
    after = srv.stats()
    assert after["accepted"] - before["accepted"] == 2  # our connection + this stats request
    assert after["requests"] - before["requests"] == 100


@pytest.mark.parametrize("model", MODELS)
def test_pipelined_requests_answered_in_order(server_factory, model):
    srv = server_factory(model)
    sizes = [5, 0, 300, 17, 1, 4000, 2, 64, 9, 123] * 5
    # A few delayed requests in the middle: later ones must still wait their turn.
    paths = [f"/?bytes={n}" + ("&delay_ms=20" if i % 7 == 3 else "") for i, n in enumerate(sizes)]
    raw = b"".join(build_request("GET", p) for p in paths) + build_request("HEAD", "/?bytes=77")
    with RawClient(srv.addr) as c:
        c.send(raw)
        got = [len(c.read_response().body) for _ in sizes]
        last = c.read_response(head=True)
    assert got == sizes
    assert last.header("content-length") == "77"


@pytest.mark.parametrize("model", MODELS)
def test_pipelined_burst_larger_than_buffers(server_factory, model):
    """More pipelined requests than one read or one writev holds."""
    srv = server_factory(model)
    raw = build_request("GET", "/?bytes=3") * 600
    with RawClient(srv.addr) as c:
        c.send(raw)
        for _ in range(600):
            assert c.read_response().body == b"c10"


@pytest.mark.parametrize("model", MODELS)
def test_http10_closes_and_keep_alive_header_keeps_open(server_factory, model):
    srv = server_factory(model)
    with RawClient(srv.addr) as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.header("connection") == "close"
        assert c.at_eof()
    # ab's style: HTTP/1.0 with Connection: Keep-Alive.
    with RawClient(srv.addr) as c:
        for _ in range(3):
            c.send(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: x\r\n\r\n")
            r = c.read_response()
            assert r.status == 200 and r.header("connection") == "keep-alive"
        assert not c.at_eof(timeout=0.2)


@pytest.mark.parametrize("model", MODELS)
def test_http11_connection_close(server_factory, model):
    srv = server_factory(model)
    with RawClient(srv.addr) as c:
        c.send(build_request("GET", "/", headers={"Connection": "close"}) + build_request("GET", "/"))
        r = c.read_response()
        assert r.status == 200 and r.header("connection") == "close"
        assert c.at_eof()  # the second, pipelined request is not answered


@pytest.mark.parametrize("model", MODELS)
def test_chunked_and_expect_continue_bodies(server_factory, model):
    srv = server_factory(model)
    with RawClient(srv.addr) as c:
        c.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n")
        assert c.read_response().status == 200
        c.send(b"POST /?bytes=2 HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert c.read_response().status == 100
        c.send(b"data")
        r = c.read_response()
        assert r.status == 200 and r.body == b"c1"


@pytest.mark.parametrize("model", MODELS)
def test_query_overrides_validated(server_factory, model):
    srv = server_factory(model)
    assert len(exchange(srv.addr, build_request("GET", "/?bytes=1048576")).body) == 1048576
    assert exchange(srv.addr, build_request("GET", "/?delay_ms=1.5&bytes=3&other=x")).body == b"c10"
    for bad in ["bytes=1048577", "bytes=-1", "bytes=abc", "bytes=", "delay_ms=60001", "delay_ms=1e3",
                "delay_ms=nan", "delay_ms=-5", "bytes=99999999999999999999999"]:
        r = exchange(srv.addr, build_request("GET", f"/?{bad}"))
        assert r.status == 400, bad
        assert r.header("connection") == "close"
    assert srv.stats()["errors"]["bad_request"] == 9


@pytest.mark.parametrize("model", ["epoll", "threaded", "libuv", "uring"])
def test_a_second_host_header_is_a_bad_request(server_factory, model):
    """RFC 9112 3.2: a request with more than one Host field gets 400 and the connection closes."""
    srv = server_factory(model)
    r = exchange(srv.addr, build_request("GET", "/", headers={"hOST": "other"}))
    assert r.status == 400
    assert r.header("connection") == "close"
    assert srv.stats()["errors"]["bad_request"] == 1
    assert exchange(srv.addr, build_request("GET", "/")).status == 200


@pytest.mark.parametrize("model", ["epoll", "threaded", "libuv", "uring"])
def test_a_space_in_a_header_name_is_a_bad_request(server_factory, model):
    """RFC 9110 5.1: a field name is a token; RFC 9112 5.1: no whitespace before the colon."""
    srv = server_factory(model)
    for name in ["Foo Bar", "Foo ", "X-Long-Name-Of-Sorts Here"]:
        r = exchange(srv.addr, build_request("GET", "/", headers={name: "y"}))
        assert r.status == 400, name
        assert r.header("connection") == "close"
    assert srv.stats()["errors"]["bad_request"] == 3
    assert exchange(srv.addr, build_request("GET", "/", headers={"X-Fine_1!#$%&'*+.^`|~": "y"})).status == 200


@pytest.mark.parametrize("model", MODELS)
def test_stats_document(server_factory, model):
    srv = server_factory(model)
    status, headers, body = harness.http_get(srv.addr, "/__stats")
    assert status == 200 and headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    stats = json.loads(body)
    assert STATS_KEYS <= set(stats) and ERROR_KEYS <= set(stats["errors"])
    assert stats["model"] == model
    assert stats["accepted"] >= 1 and stats["active"] >= 1
    # /__stats is not workload: it is neither counted nor in flight.
    assert stats["requests"] == 0 and stats["inflight"] == 0 and stats["peak_inflight"] == 0
    harness.http_get(srv.addr, "/")
    assert srv.stats()["requests"] == 1


@pytest.mark.parametrize("model", MODELS)
def test_ipv6_loopback(server_factory, model):
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    srv = server_factory(model, host="::1")
    assert srv.host == "::1"
    line_addr = srv.url
    assert line_addr.startswith("http://[::1]:")
    assert exchange(srv.addr, build_request("GET", "/?bytes=5")).body == b"c10k-"


def run_cli(model, *args, env=None):
    return subprocess.run([harness.server_binary(model), *map(str, args)], capture_output=True, text=True,
                          timeout=10, env=env)


@pytest.mark.parametrize("model", MODELS)
def test_cli_help_and_bad_options(model):
    r = run_cli(model, "--help")
    assert r.returncode == 0 and "--delay-ms" in r.stdout and "--max-conns" in r.stdout
    bad = [["--bogus"], ["--delay-ms", "-1"], ["--delay-ms", "abc"], ["--delay-ms", "inf"], ["--port", "65536"],
           ["--port", "x"], ["--work-us", "1.5"], ["--body-bytes", "99999999999"], ["--backlog", "0"],
           ["--max-conns", "-2"], ["--host", ""], ["stray"], ["--port"]]
    for args in bad:
        r = run_cli(model, *args)
        assert r.returncode == 2, (args, r)
        assert r.stderr.strip() and "Traceback" not in r.stderr and r.stdout == "", args
    env = dict(os.environ, C10K_EXTRA_WORK_US="lots")
    r = run_cli(model, "--port", "0", env=env)
    assert r.returncode == 2 and "C10K_EXTRA_WORK_US" in r.stderr


@pytest.mark.parametrize("model", ["blocking", "epoll", "libuv"])
def test_port_in_use_exits_with_message(server_factory, model):
    srv = server_factory(model)
    r = run_cli(model, "--host", "127.0.0.1", "--port", srv.port)
    assert r.returncode == 1 and "Address already in use" in r.stderr
