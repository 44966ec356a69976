"""Injecting a known slowdown without editing code: the slowdown_preload.c shim.

env_for(iters) builds the shim (once, into a per-user cache in the temporary directory named after
the source's hash, so a changed source is rebuilt and a child started later still finds it) and returns
the environment that makes every program named server-* run `iters` extra iterations of a
multiply-add chain before each write: a deterministic cost per response, so the instruction-count
gate sees exactly the same extra count on every run, and the wall-clock gate a fixed extra CPU time.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from . import PerfCheckError

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "slowdown_preload.c")
_built = {}


def build():
    """Path of the compiled shim (compiled on first use with the system C compiler)."""
    if "path" in _built:
        return _built["path"]
    try:
        with open(SOURCE, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
    except OSError as e:
        raise PerfCheckError(f"cannot read {SOURCE}: {e}") from None
    cache = os.path.join(tempfile.gettempdir(), f"c10k-slowdown-{os.getuid()}")
    out = os.path.join(cache, f"libc10k_slowdown-{digest}.so")
    if not os.path.exists(out):
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            raise PerfCheckError("no C compiler (cc) to build the slowdown shim")
        os.makedirs(cache, mode=0o700, exist_ok=True)
        tmp = f"{out}.tmp{os.getpid()}"
        argv = [cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
                "-o", tmp, SOURCE, "-ldl"]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise PerfCheckError(f"cannot build the slowdown shim: {e}") from None
        if p.returncode != 0:
            raise PerfCheckError(f"building the slowdown shim failed:\n{p.stderr[-2000:]}")
        os.replace(tmp, out)  # atomic: a concurrent build never sees half a library
    _built["path"] = out
    return out


def _check(iters):
    if not isinstance(iters, int) or iters < 0 or iters > 1_000_000_000:
        raise PerfCheckError(f"slowdown iterations must be 0..1000000000, got {iters!r}")


def _preload():
    existing = os.environ.get("LD_PRELOAD", "")
    return f"{build()} {existing}".strip()


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
