"""Helpers shared by the test modules: where the binaries are, and running servers safely.

Every process started here is tracked and ended by PID when its test finishes, pass or fail.
"""
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import models, procsample, readyline  # noqa: E402  (the runner's /proc reader, ready line)
BIN_DIR = os.environ.get("C10K_BIN_DIR", os.path.join(ROOT, "build", "bin"))

# Every server-* binary that describes itself, in story order: tests never list models by name.
_discovery_errors = []
DESCRIPTIONS = {d["model"]: d for d in models.discover(BIN_DIR, _discovery_errors)}
if _discovery_errors:
    raise RuntimeError("servers that do not describe themselves: " + "; ".join(_discovery_errors))
MODELS = list(DESCRIPTIONS)


def models_where(pred):
    """The models whose description satisfies pred, in story order."""
    return [m for m, d in DESCRIPTIONS.items() if pred(d)]


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        raise FileNotFoundError(f"{path} is not built: run scripts/build.sh")
    return path


def server_binary(model):
    return binary(f"server-{model}")


class Server:
    """A running server started on port 0; knows its address from its ready line."""

    def __init__(self, proc, host, port):
        self.proc, self.host, self.port = proc, host, port

    @property
    def addr(self):
        return (self.host, self.port)

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def stats(self):
        return json.loads(http_get(self.addr, "/__stats")[2])

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()
        return self.proc.returncode


def start_server(model_or_path, *args, host="127.0.0.1", ready_timeout=10, env=None, preexec_fn=None):
    """env: variables added to this process's environment; preexec_fn: run in the child before
    exec (e.g. to lower resource limits)."""
    path = model_or_path if os.sep in model_or_path else server_binary(model_or_path)
    proc = subprocess.Popen([path, "--host", host, "--port", "0", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, **env) if env else None, preexec_fn=preexec_fn)
    deadline = time.monotonic() + ready_timeout
    line = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            break
        if proc.poll() is not None:
            break
    try:
        address = readyline.parse(line)
    except ValueError:
        address = None
    if address is None:
        proc.kill()
        proc.wait()
        err = proc.stderr.read()
        if proc.returncode == 2 and "not available here" in err:
            # A model the kernel refuses (e.g. io_uring disabled) says so and exits 2.
            pytest.skip(err.strip())
        raise RuntimeError(f"{path} did not become ready (stdout {line!r}, stderr {err!r})")
    return Server(proc, *address)


def http_get(addr, path="/", timeout=10, method="GET"):
    """One HTTP/1.0 request on a fresh connection: (status, headers dict, body str)."""
    with socket.create_connection(addr, timeout=timeout) as s:
        s.sendall(f"{method} {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        # A server at its open-file limit sheds the connection unanswered: callers that poll
        # (wait_stats) retry on OSError, as they do on a refusal.
        raise ConnectionError(f"{path}: the server closed the connection without a response")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return status, headers, body.decode("latin-1")


def children_of(pid):
    """(pid, state) of the live or zombie children of pid."""
    return [(p, st["state"]) for p, st in procsample.descendants(pid).items() if st["ppid"] == pid]


def cpu_seconds(pid):
    """User+system CPU of a process and all its descendants: live ones (worker processes) and
    reaped ones (forking's children, in their parent's cutime/cstime)."""
    tree = procsample.descendants(pid)
    if pid not in tree:
        raise ProcessLookupError(pid)
    ticks = sum(st["utime"] + st["stime"] + st["cutime"] + st["cstime"] for st in tree.values())
    return ticks / procsample.CLK_TCK


# Sanitizer builds abort the process on their first report (scripts/test.sh sets the options).
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer",
                   "runtime error:")


def sanitizer_report(stderr, returncode):
    """Why a process's end is a sanitizer failure (a report on its stderr, or an abort), or None."""
    mark = next((m for m in SANITIZER_MARKS if m in (stderr or "")), None)
    if mark or returncode == -signal.SIGABRT:
        return f"{'reported ' + repr(mark) if mark else 'aborted'}:\n{(stderr or '')[-4000:]}"
    return None
