"""One server binary at a time, for the measuring scripts (check-timeouts.py, conn-memory.py):
which binaries a command line names, starting one on a free loopback port, asking it over HTTP/1.0,
and ending it. Standard library only."""
import glob
import json
import os
import resource
import select
import signal
import socket
import subprocess

from . import readyline


def server_paths(bin_dir, models):
    """Paths of the servers named on the command line (a model name means server-MODEL in bin_dir,
    anything with a slash is a path); every server-* in bin_dir when none is named. ValueError
    with the reason when one is not an executable or there is none."""
    if not os.path.isdir(bin_dir):
        raise ValueError(f"no such bin dir: {bin_dir}")
    paths = []
    for m in models or sorted(glob.glob(os.path.join(bin_dir, "server-*"))):
        p = m if os.sep in m else os.path.join(bin_dir, f"server-{m}")
        if not os.access(p, os.X_OK):
            raise ValueError(f"not an executable server: {p}")
        paths.append(p)
    if not paths:
        raise ValueError(f"no server-* in {bin_dir}")
    return paths


def raise_open_files(need):
    """Lifts the soft open-file limit to the hard one; ValueError when even that is below need."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if need > hard:
        raise ValueError(f"needs {need} open files; the limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start(path, args=()):
    """Starts the server on 127.0.0.1 and a free port; (process, (host, port)) once it printed its
    ready line. RuntimeError (with its stderr's end) when it does not within 10 s."""
    proc = subprocess.Popen([path, "--host", "127.0.0.1", "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline() if ready else ""
    try:
        address = readyline.parse(line)
    except ValueError:
        address = None
    if address is None:
        proc.kill()
        proc.wait()
        err = proc.stderr.read()[-500:]
        proc.stdout.close()
        proc.stderr.close()
        raise RuntimeError(f"{os.path.basename(path)} did not start: {line!r} {err!r}")
    return proc, address


def stop(proc):
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for f in (proc.stdout, proc.stderr):
        f.close()


def get(addr, path, timeout):
    """(status, body) of one HTTP/1.0 request, or (None, reason)."""
    try:
        with socket.create_connection(addr, timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError as e:
        return None, type(e).__name__
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), body
    except (IndexError, ValueError):
        return None, "no HTTP answer"


def read_response(s):
    """(head, body) of one whole response on a blocking socket, its body framed by Content-Length
    (none: an empty body). ConnectionError when the peer closes before the end."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed before a whole response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed inside the response body")
        body += chunk
    return head, body


def print_row(row, as_json, text):
    """One model's result: the row as a JSON object (--json), or the table line text(row)."""
    print(json.dumps(row) if as_json else text(row), flush=True)
