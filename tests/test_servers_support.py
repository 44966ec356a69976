"""Helpers for the test_servers_* modules (no tests in here).

A raw HTTP/1.x client over a plain socket, so tests control every byte (pipelining, malformed,
truncated and reset requests), plus /proc readers for CPU time and child processes.
"""
import os
import signal
import socket
import struct
import subprocess
import time

import pytest

import harness
from harness import children_of, cpu_seconds  # noqa: F401  (re-exported for the tests)

TIMEOUT = 10  # seconds: any single socket operation in these tests; a hang fails, never blocks CI
SANITIZED = bool(os.environ.get("C10K_SANITIZE"))
# Traits from the models' own --describe (tests/harness.py), never from lists of names.
SERIAL_MODELS = harness.models_where(lambda d: d["max_inflight"] == 1)  # one connection at a time
NON_BLOCKING_MODELS = [m for m in harness.MODELS if m not in SERIAL_MODELS]
EVENT_MODELS = harness.models_where(lambda d: d["driver"] != "blocking")
FD_SETSIZE_MODELS = harness.models_where(lambda d: d["limits"]["fd_setsize"] is not None)
UNBOUNDED_EVENT_MODELS = [m for m in EVENT_MODELS if m not in FD_SETSIZE_MODELS]
PER_PROCESS_MODELS = harness.models_where(lambda d: d["task_per_connection"] == "process")


class Response:
    def __init__(self, status, reason, headers, body, version):
        self.status, self.reason, self.headers, self.body, self.version = status, reason, headers, body, version

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.headers} body={len(self.body)}B>"


class RawClient:
    """One connection; send raw bytes, read responses framed by Content-Length."""

    def __init__(self, addr, timeout=TIMEOUT):
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method="GET", path="/", version="1.1", headers=None, body=b""):
        self.send(build_request(method, path, version, headers, body))

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def read_response(self, head=False):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head_bytes, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head or int(status) in (100, 204, 304) else int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return Response(int(status), reason, headers, body, version)

    def at_eof(self, timeout=TIMEOUT):
        """True once the server closed the connection (EOF or reset), False if it is still open."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b"" and not self.buf
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def reset(self):
        """Close with RST instead of FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def build_request(method="GET", path="/", version="1.1", headers=None, body=b""):
    lines = [f"{method} {path} HTTP/{version}", "Host: test"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body and not any(k.lower() in ("content-length", "transfer-encoding") for k in (headers or {})):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(addr, raw, head=False):
    """Send raw bytes on a fresh connection, return the first response."""
    with RawClient(addr) as c:
        c.send(raw)
        return c.read_response(head=head)


def wait_until(predicate, timeout=5.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_stats(server, predicate, timeout=5.0):
    """Poll /__stats until predicate(stats) holds; returns the last stats."""
    last = {}

    def check():
        nonlocal last
        try:
            last = server.stats()
        except (ValueError, OSError):  # refused (503, not JSON) while the server is at a limit
            return False
        return predicate(last)

    wait_until(check, timeout)
    return last


def delayed_wave(addr, n, delay_ms):
    """n connections each ask for a delayed answer at once; returns the statuses."""
    clients = [RawClient(addr) for _ in range(n)]
    try:
        for c in clients:
            c.request("GET", f"/?delay_ms={delay_ms}", headers={"Connection": "close"})
        return [c.read_response().status for c in clients]
    finally:
        for c in clients:
            c.close()


@pytest.fixture
def server_factory(server_factory):
    """conftest's server_factory, plus a check at teardown: every server must stop on SIGTERM
    with status 0 and without a sanitizer report (leaks included) on stderr.

    Test modules import this fixture so that it overrides the conftest one for them."""
    started = []

    def start(model, *args, **kw):
        srv = server_factory(model, *args, **kw)
        started.append(srv)
        return srv

    yield start
    problems = []
    for srv in started:
        if srv.proc.poll() is None:
            srv.proc.send_signal(signal.SIGTERM)
            try:
                srv.proc.wait(10)
            except subprocess.TimeoutExpired:
                srv.proc.kill()
                srv.proc.wait()
                problems.append(f"pid {srv.proc.pid} ignored SIGTERM")
        err = srv.proc.stderr.read() if srv.proc.stderr and not srv.proc.stderr.closed else ""
        if srv.proc.returncode != 0 or "Sanitizer" in err or "runtime error" in err:
            problems.append(f"pid {srv.proc.pid} exited {srv.proc.returncode}: {err[-3000:]}")
    assert not problems, "\n".join(problems)
