"""Injecting a known slowdown without editing code: the slowdown_preload.c shim.

env_for(iters) builds the shim (once, into a per-user cache in the temporary directory named after
the source's hash, so a changed source is rebuilt and a child started later still finds it) and returns
the environment that makes every program named server-* run `iters` extra iterations of a
multiply-add chain before each write: a deterministic cost per response, so the instruction-count
gate sees exactly the same extra count on every run, and the wall-clock gate a fixed extra CPU time.
extra_syscall_env() does the same for extra_syscall_preload.c: one more system call per read, the
known-bad candidate of the system-call gate.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from . import PerfCheckError

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "slowdown_preload.c")
# The one-extra-system-call candidate for the syscall gate (extra_syscall_preload.c).
EXTRA_SYSCALL_SOURCE = os.path.join(HERE, "extra_syscall_preload.c")
_built = {}


def build(source=SOURCE):
    """Path of the compiled shim (compiled on first use with the system C compiler)."""
    if source in _built:
        return _built[source]
    try:
        with open(source, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError as e:
        raise PerfCheckError(f"cannot read {source}: {e}") from None
    cache = os.path.join(tempfile.gettempdir(), f"c10k-slowdown-{os.getuid()}")
    stem = os.path.splitext(os.path.basename(source))[0]
    out = os.path.join(cache, f"lib{stem}-{digest}.so")
    if not os.path.exists(out):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise PerfCheckError("no C compiler (cc) to build the slowdown shim")
        os.makedirs(cache, mode=0o700, exist_ok=True)
        tmp = f"{out}.tmp{os.getpid()}"
        argv = [cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
                "-o", tmp, source, "-ldl"]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise PerfCheckError(f"cannot build the slowdown shim: {e}") from None
        if p.returncode != 0:
            raise PerfCheckError(f"building the slowdown shim failed:\n{p.stderr[-2000:]}")
        os.replace(tmp, out)  # atomic: a concurrent build never sees half a library
    _built[source] = out
    return out


def _check(iters):
    if not isinstance(iters, int) or iters < 0 or iters > 1_000_000_000:
        raise PerfCheckError(f"slowdown iterations must be 0..1000000000, got {iters!r}")


def _preload(source=SOURCE):
    existing = os.environ.get("LD_PRELOAD", "")
    return f"{build(source)} {existing}".strip()


def extra_syscall_env(match="server-"):
    """Environment that makes programs whose name contains `match` call fcntl(F_GETFL) before every
    read() and recv(): exactly one more system call per read."""
    return {"LD_PRELOAD": _preload(EXTRA_SYSCALL_SOURCE), "C10K_EXTRA_FCNTL_MATCH": match}


def env_for(iters, match="server-"):
    """Environment additions that slow programs whose name contains `match` by `iters` per write.

    None: no shim. 0: the shim is loaded but burns nothing (its wrapper alone costs ~10
    instructions per write: the smallest slowdown it can inject).
    """
    if iters is None:
        return {}
    _check(iters)
    return {"LD_PRELOAD": _preload(), "C10K_SLOWDOWN_ITERS": str(iters), "C10K_SLOWDOWN_MATCH": match}


def env_per_program(iters_by_program):
    """Environment that slows each named program (e.g. "server-epoll") by its own count."""
    env = {}
    for program, iters in iters_by_program.items():
        _check(iters)
        if iters:
            env["C10K_SLOWDOWN_ITERS_" + re.sub(r"[^A-Za-z0-9]", "_", program)] = str(iters)
    if env:
        env["LD_PRELOAD"] = _preload()
    return env
