"""Starting and ending the processes of a point: the server (ready line), the loadgen (bounded).

Every child runs in its own process group (its pid is the group id), so ending it ends whatever it
forked too, by that id only. The runner is a child subreaper: a forking server's children that
outlive it are re-parented to the runner, which reaps them, so nothing is left behind.

When the runner is killed outright (SIGKILL runs no cleanup), two things still end its work: each
child is started through die_with_parent.py (PR_SET_PDEATHSIG: the kernel kills it with the
runner), and the guard process (guard.py) kills every group and removes every temporary file the
runner had not yet ended or removed. Temporary names carry the runner's pid
(/tmp/c10k-server-<pid>-*), so `--resume` can remove what a killed run left if the guard was
killed too.
"""
import ctypes
import errno
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

from . import readyline

PR_SET_CHILD_SUBREAPER = 36
HERE = os.path.dirname(os.path.abspath(__file__))
TEMP_KINDS = ("server", "loadgen")


# Every child group not yet ended, so an interruption at any moment can still end them all.
_live = {}
_guard = None  # the guard process (see guard.py), while one runs


def end_all():
    """Ends every child group still registered (used when the run is interrupted)."""
    for proc in list(_live.values()):
        end_group(proc, term_timeout=2.0)


def start_guard():
    """Starts the guard: from now on, what the runner starts is ended even if it is SIGKILLed."""
    global _guard
    if _guard is None:
        _guard = subprocess.Popen([sys.executable, "-I", "-S", os.path.join(HERE, "guard.py")],
                                  stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
    return _guard.pid


def stop_guard(timeout=5.0):
    """Closes the guard's pipe (it then ends whatever is still registered) and waits for it."""
    global _guard
    guard, _guard = _guard, None
    if guard is None:
        return
    try:
        guard.stdin.close()
    except OSError:
        pass
    try:
        guard.wait(timeout)
    except subprocess.TimeoutExpired:
        guard.kill()
        guard.wait()


def _tell_guard(op, arg):
    if _guard is not None:
        try:
            _guard.stdin.write(f"{op} {arg}\n".encode("utf-8", "surrogateescape"))
            _guard.stdin.flush()
        except OSError:
            pass  # the guard is gone: the ordinary cleanup still runs


def _track(proc):
    _live[proc.pid] = proc
    _tell_guard("+group", proc.pid)


def _untrack(pgid):
    if _live.pop(pgid, None) is not None:
        _tell_guard("-group", pgid)


def temp_prefix(kind, pid=None):
    """Prefix of the runner's temporary files: c10k-<kind>-<runner pid>-."""
    return f"c10k-{kind}-{os.getpid() if pid is None else pid}-"


def remove_stale_temp(pid, tmpdir=None):
    """Removes the temporary files and folders a runner with this pid left behind; returns them."""
    removed = []
    for kind in TEMP_KINDS:
        pattern = os.path.join(tmpdir or tempfile.gettempdir(), glob.escape(temp_prefix(kind, pid)) + "*")
        for path in glob.glob(pattern):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    continue
            removed.append(path)
    return removed


class ServerStartError(Exception):
    """The server exited or never printed its ready line."""


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def child_command(cmd, cpus):
    """The command line that starts `cmd` as the runner's child: killed with the runner
    (die_with_parent.py), and pinned with taskset so the process and everything it starts stay on
    `cpus` from the first instruction (setting the affinity after the fact would race with its
    first threads). Both exec, so the pid is the command's own."""
    wrapper = [sys.executable, "-I", "-S", os.path.join(HERE, "die_with_parent.py"), str(os.getpid())]
    if cpus and shutil.which("taskset"):
        return wrapper + ["taskset", "-c", ",".join(map(str, cpus))] + list(cmd)
    return wrapper + list(cmd)


def _tail(path, limit=2000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - limit))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def group_members(pgid):
    """Pids (with ppid) of live or zombie processes in process group pgid."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("ascii", "replace")
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        if int(rest[2]) == pgid:
            out[int(name)] = int(rest[1])
    return out


def end_group(proc, term_timeout=5.0, kill_timeout=10.0):
    """SIGTERM to the group, then SIGKILL after term_timeout; reaps what the runner inherited.

    Returns the exit status of `proc` (negative signal number when killed)."""
    pgid = proc.pid
    me = os.getpid()
    if proc.poll() is not None and not group_members(pgid):
        _untrack(pgid)
        return proc.returncode  # nothing left; never signal a group id that may be reused
    for sig, timeout in ((signal.SIGTERM, term_timeout), (signal.SIGKILL, kill_timeout)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            break
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                _reap_orphans(pgid, me)
                if not group_members(pgid):
                    _untrack(pgid)
                    return proc.returncode
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
    if proc.poll() is None:
        proc.wait()
    _reap_orphans(pgid, me)
    _untrack(pgid)
    return proc.returncode


def _reap_orphans(pgid, me):
    for pid, ppid in group_members(pgid).items():
        if ppid == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def free_port(host="127.0.0.1"):
    """A port that is free on host now (the kernel's pick); the server binds it a moment later."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def tcp_accepts(host, port, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_status(host, port, path, timeout=1.0):
    """The status code of GET path (HTTP/1.0), or None when there is no readable answer."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("latin-1"))
            head = s.recv(64)
    except OSError:
        return None
    parts = head.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


def _ready_text(ready, host, port):
    if ready is None:
        return f"printed no '{readyline.PREFIX}HOST:PORT' line" + (f" and did not accept on {host}:{port}" if port else "")
    if ready == "tcp":
        return f"did not accept connections on {host}:{port}"
    if "line" in ready:
        return f"printed no line matching {ready['line']!r}"
    return f"did not answer GET {ready['http']} on {host}:{port} with a 2xx"


class Server:
    """A server the runner starts and waits for (docs/scenario-format.md, `ready`).

    `command` is an argv, or a function that gets the server's fresh temporary folder and returns
    (argv, env, cwd). ready: None waits for our servers' `listening on HOST:PORT` line (or, when
    the port is known, for the port to accept); "tcp", {"line": REGEX} (a (?P<port>) group gives
    the port) or {"http": PATH} (a 2xx answer)."""

    def __init__(self, command, cpus=None, ready_timeout=10.0, workdir=None, ready=None, port=None,
                 host="127.0.0.1"):
        self.proc = None
        self.exit_status = None
        self.ready, self.host, self.port = ready, host, port
        self._dir = tempfile.mkdtemp(prefix=temp_prefix("server"), dir=workdir)
        _tell_guard("+path", self._dir)
        self.stdout_path = os.path.join(self._dir, "stdout")
        self.stderr_path = os.path.join(self._dir, "stderr")
        try:
            env = cwd = None
            if callable(command):
                command, env, cwd = command(self._dir)
            self.args = list(command)
            # Files, not pipes: a server that logs a lot must never block on a full pipe.
            with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
                try:
                    self.proc = subprocess.Popen(child_command(self.args, cpus), stdin=subprocess.DEVNULL,
                                                 stdout=out, stderr=err, start_new_session=True, env=env,
                                                 cwd=cwd)
                except OSError as e:
                    raise ServerStartError(f"cannot start {self.args[0]}: {e.strerror}")
            _track(self.proc)
            self.pid = self.proc.pid
            self.host, self.port = self._wait_ready(ready_timeout)
        except BaseException:
            # Whatever stopped the start (no ready line, Ctrl-C), nothing of it may stay behind.
            if self.proc is not None:
                self.stop()
            self.cleanup()
            raise

    @property
    def dir(self):
        return self._dir

    def _ready_now(self, text):
        """(host, port) once the server is ready, else None."""
        host, port, ready = self.host, self.port, self.ready
        lines = [ln for ln in text.splitlines(keepends=True) if ln.endswith("\n")]
        if ready is None:
            try:
                found = readyline.find(text)
            except ValueError as e:
                raise ServerStartError(f"{self.args[0]}: {e}")
            if found:
                return found
            return (host, port) if port and tcp_accepts(host, port) else None
        if ready == "tcp":
            return (host, port) if tcp_accepts(host, port) else None
        if "line" in ready:
            for line in lines:
                m = re.search(ready["line"], line)
                if m:
                    p = m.groupdict().get("port")
                    if p is not None and not p.isdigit():
                        raise ServerStartError(f"{self.args[0]}: the port in {line.strip()!r} is not a number")
                    return host, int(p) if p is not None else port
            return None
        status = http_status(host, port, ready["http"])
        return (host, port) if status is not None and 200 <= status < 300 else None

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            with open(self.stdout_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            found = self._ready_now(text)
            if found:
                return found
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.args[0]} exited with status {self.proc.returncode} before it was ready; "
                    f"stdout: {text[-300:]!r}; stderr:\n{self.stderr_tail() or '(empty)'}")
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"{self.args[0]} {_ready_text(self.ready, self.host, self.port)} within {timeout:g} s; "
                    f"stdout: {text[-300:]!r}; stderr:\n{self.stderr_tail() or '(empty)'}")
            time.sleep(0.02)

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def alive(self):
        return self.proc.poll() is None

    def exit_code(self):
        return self.proc.returncode

    def stderr_tail(self, limit=2000):
        return _tail(self.stderr_path, limit)

    def stop(self):
        """Ends the server and everything it forked; idempotent. Returns its exit status."""
        if self.exit_status is None:
            self.exit_status = end_group(self.proc)
        return self.exit_status

    def cleanup(self):
        shutil.rmtree(self._dir, ignore_errors=True)
        _tell_guard("-path", self._dir)


class RunningServer:
    """A server that runs already (a `url` series): nothing to start or stop. Its process tree is
    sampled only when a pid (or a pidfile) says which it is."""

    def __init__(self, url, pid=None, pidfile=None):
        parts = urllib.parse.urlsplit(url)
        self.url, self.host, self.port = url, parts.hostname, parts.port or 80
        self.pid = pid
        if pidfile:
            try:
                with open(pidfile) as f:
                    self.pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError) as e:
                raise ServerStartError(f"cannot read a pid from {pidfile}: {e}")

    def alive(self):
        if self.pid is None:
            return True
        return os.path.exists(f"/proc/{self.pid}")

    def exit_code(self):
        return None

    def stderr_tail(self, limit=2000):
        return ""

    def stop(self):
        return None

    def cleanup(self):
        pass


class LoadgenResult:
    def __init__(self, exit_status, timed_out, stderr_tail, wall_s):
        self.exit_status, self.timed_out, self.stderr_tail, self.wall_s = exit_status, timed_out, stderr_tail, wall_s


def run_bounded(args, cpus, timeout_s, on_start=None, workdir=None, poll=None):
    """Runs a command in its own group with a hard wall-clock bound; ends the group on timeout
    or on any exception (Ctrl-C, SIGTERM) raised while waiting. `poll()` is called every 50 ms;
    when it returns true (e.g. the server died) the command is ended early. Returns a LoadgenResult."""
    fd, err_path = tempfile.mkstemp(prefix=temp_prefix("loadgen"), suffix=".stderr", dir=workdir)
    _tell_guard("+path", err_path)
    t0 = time.monotonic()
    timed_out = False
    try:
        with os.fdopen(fd, "wb") as err:
            proc = subprocess.Popen(child_command(args, cpus), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        _track(proc)
        if on_start:
            on_start(proc)
        try:
            deadline = t0 + timeout_s
            while proc.poll() is None:
                if time.monotonic() >= deadline:
                    timed_out = True
                    break
                if poll and poll():
                    break  # e.g. the server died: no point in loading nothing until the deadline
                try:
                    proc.wait(0.05)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            # Ends it on timeout or interruption, and anything it left in its group in any case.
            status = end_group(proc, term_timeout=2.0)
        return LoadgenResult(None if timed_out else status, timed_out, _tail(err_path), time.monotonic() - t0)
    finally:
        try:
            os.unlink(err_path)
        except OSError as e:
            if e.errno != errno.ENOENT:
                raise
        _tell_guard("-path", err_path)
