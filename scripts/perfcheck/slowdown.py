"""Injecting a known slowdown without editing code: the slowdown_preload.c shim.

env_for(iters) builds the shim (once per process, into a private temporary directory) and returns
the environment that makes every program named server-* run `iters` extra iterations of a
multiply-add chain before each write: a deterministic cost per response, so the instruction-count
gate sees exactly the same extra count on every run, and the wall-clock gate a fixed extra CPU time.
"""
import atexit
import os
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
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise PerfCheckError("no C compiler (cc) to build the slowdown shim")
    tmp = tempfile.mkdtemp(prefix="c10k-slowdown-")
    atexit.register(shutil.rmtree, tmp, True)
    out = os.path.join(tmp, "libc10k_slowdown.so")
    argv = [cc, "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC", "-shared",
            "-o", out, SOURCE, "-ldl"]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise PerfCheckError(f"cannot build the slowdown shim: {e}") from None
    if p.returncode != 0:
        raise PerfCheckError(f"building the slowdown shim failed:\n{p.stderr[-2000:]}")
    _built["path"] = out
    return out


def env_for(iters, match="server-"):
    """Environment additions that slow programs whose name contains `match` by `iters` per write."""
    if iters is None or iters == 0:
        return {}
    if iters < 0 or iters > 1_000_000_000:
        raise PerfCheckError(f"slowdown iterations must be 0..1000000000, got {iters}")
    preload = build()
    existing = os.environ.get("LD_PRELOAD", "")
    return {"LD_PRELOAD": f"{preload} {existing}".strip(), "C10K_SLOWDOWN_ITERS": str(iters),
            "C10K_SLOWDOWN_MATCH": match}
