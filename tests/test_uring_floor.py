"""uring-floor, the lower-bound probe of scripts/bench-loadgen.sh: it completes exactly the requests
asked for against a fixed-size response, and bad input is a clear error, never a hang."""
import os
import socket
import subprocess

import pytest

import harness

PROBE = os.path.join(os.environ.get("C10K_BIN_DIR") or
                     os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                  "build", "bin"), "uring-floor")
pytestmark = pytest.mark.skipif(not os.access(PROBE, os.X_OK),
                                reason="uring-floor is built only when liburing is installed")
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def response_size(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(REQUEST)
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, body = data.split(b"\r\n\r\n", 1)
        length = int([line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")][0])
        return len(head) + 4 + length


def run(*args, timeout=60):
    proc = subprocess.run([PROBE, *map(str, args)], capture_output=True, text=True, timeout=timeout)
    if "io_uring_queue_init" in proc.stderr:  # kernel without io_uring, or a sandbox forbidding it
        pytest.skip(f"io_uring is not available here: {proc.stderr.strip()}")
    return proc


def test_completes_exactly_the_requests_asked_for(server_factory):
    srv = server_factory("epoll")
    size = response_size(srv.port)
    before = srv.stats()["requests"]
    proc = run(srv.port, 8, 2000, size)
    assert proc.returncode == 0, proc.stderr
    fields = dict(zip(proc.stdout.split()[::2], proc.stdout.split()[1::2]))
    assert int(fields["requests"]) == 2000
    assert float(fields["cpu_us_per_request"]) > 0
    assert srv.stats()["requests"] - before == 2000
    assert srv.stats()["accepted"] >= 8


def test_a_wrong_response_size_is_reported_not_miscounted(server_factory):
    srv = server_factory("epoll")
    proc = run(srv.port, 2, 100, response_size(srv.port) - 1)
    assert proc.returncode == 1 and "the response size is not fixed" in proc.stderr


@pytest.mark.parametrize("args, message", [
    ([], "usage: uring-floor"),
    (["x", 1, 1, 1], "PORT must be a number"),
    ([80, 0, 1, 1], "CONNECTIONS must be a number"),
    ([80, 1, -5, 1], "REQUESTS must be a number"),
])
def test_bad_arguments_exit_2(args, message):
    proc = run(*args)
    assert proc.returncode == 2 and message in proc.stderr


def test_a_refused_connection_is_an_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        proc = run(port, 1, 1, 10)
    assert proc.returncode == 1 and "Connection refused" in proc.stderr
