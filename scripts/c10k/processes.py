"""Starting and ending the processes of a point: the server (ready line), the loadgen (bounded).

Every child runs in its own process group (its pid is the group id), so ending it ends whatever it
forked too, by that id only. The runner is a child subreaper: a forking server's children that
outlive it are re-parented to the runner, which reaps them, so nothing is left behind.
"""
import ctypes
import errno
import os
import shutil
import signal
import subprocess
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36
READY_PREFIX = "listening on "


# Every child group not yet ended, so an interruption at any moment can still end them all.
_live = {}


def end_all():
    """Ends every child group still registered (used when the run is interrupted)."""
    for proc in list(_live.values()):
        end_group(proc, term_timeout=2.0)


class ServerStartError(Exception):
    """The server exited or never printed its ready line."""


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def pinned(cmd, cpus):
    """Prefixes taskset so the process and everything it starts stay on `cpus` from the first
    instruction (setting the affinity after the fact would race with its first threads)."""
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", ",".join(map(str, cpus))] + list(cmd)
    return list(cmd)


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
        _live.pop(pgid, None)
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
                    _live.pop(pgid, None)
                    return proc.returncode
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
    if proc.poll() is None:
        proc.wait()
    _reap_orphans(pgid, me)
    _live.pop(pgid, None)
    return proc.returncode


def _reap_orphans(pgid, me):
    for pid, ppid in group_members(pgid).items():
        if ppid == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


class Server:
    """A server process started on port 0 whose ready line told us its address."""

    def __init__(self, args, cpus=None, ready_timeout=10.0, workdir=None):
        self.args = list(args)
        self._dir = tempfile.mkdtemp(prefix="c10k-server-", dir=workdir)
        self.stdout_path = os.path.join(self._dir, "stdout")
        self.stderr_path = os.path.join(self._dir, "stderr")
        # Files, not pipes: a server that logs a lot must never block on a full pipe.
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            try:
                self.proc = subprocess.Popen(pinned(self.args, cpus), stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=err, start_new_session=True)
            except OSError as e:
                shutil.rmtree(self._dir, ignore_errors=True)
                raise ServerStartError(f"cannot start {self.args[0]}: {e.strerror}")
        _live[self.proc.pid] = self.proc
        self.pid = self.proc.pid
        self.exit_status = None
        try:
            self.host, self.port = self._wait_ready(ready_timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            with open(self.stdout_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            for line in text.splitlines(keepends=True):
                if line.startswith(READY_PREFIX) and line.endswith("\n"):
                    hostport = line[len(READY_PREFIX):].strip()
                    host, _, port = hostport.rpartition(":")
                    if not port.isdigit():
                        raise ServerStartError(f"{self.args[0]}: unreadable ready line {line.strip()!r}")
                    return host.strip("[]"), int(port)
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.args[0]} exited with status {self.proc.returncode} before its ready line; "
                    f"stderr:\n{self.stderr_tail() or '(empty)'}")
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"{self.args[0]} printed no '{READY_PREFIX}HOST:PORT' line within {timeout:g} s; "
                    f"stdout: {text[-300:]!r}; stderr:\n{self.stderr_tail() or '(empty)'}")
            time.sleep(0.02)

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def alive(self):
        return self.proc.poll() is None

    def stderr_tail(self, limit=2000):
        return _tail(self.stderr_path, limit)

    def stop(self):
        """Ends the server and everything it forked; idempotent. Returns its exit status."""
        if self.exit_status is None:
            self.exit_status = end_group(self.proc)
        return self.exit_status

    def cleanup(self):
        shutil.rmtree(self._dir, ignore_errors=True)


class LoadgenResult:
    def __init__(self, exit_status, timed_out, stderr_tail, wall_s):
        self.exit_status, self.timed_out, self.stderr_tail, self.wall_s = exit_status, timed_out, stderr_tail, wall_s


def run_bounded(args, cpus, timeout_s, on_start=None, workdir=None, poll=None):
    """Runs a command in its own group with a hard wall-clock bound; ends the group on timeout
    or on any exception (Ctrl-C, SIGTERM) raised while waiting. `poll()` is called every 50 ms;
    when it returns true (e.g. the server died) the command is ended early. Returns a LoadgenResult."""
    fd, err_path = tempfile.mkstemp(prefix="c10k-loadgen-", suffix=".stderr", dir=workdir)
    t0 = time.monotonic()
    timed_out = False
    try:
        with os.fdopen(fd, "wb") as err:
            proc = subprocess.Popen(pinned(args, cpus), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=err, start_new_session=True)
        _live[proc.pid] = proc
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
