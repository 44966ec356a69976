"""The environment fingerprint stored with a baseline, and how two fingerprints differ.

Wall-clock figures move with the CPU, the core count and the kernel; instruction counts move with
the compiler, the C library and the libraries the servers link. A baseline from another machine is
still compared (CI fleets change), but the report warns, so a red build is read with that in mind.
"""
import os
import platform
import re
import shutil
import socket
import subprocess

from c10k.environment import cpu_model  # the same reading the results manifest records

# Differences worth a warning for the wall-clock gate: what moves wall-clock figures.
WALL_CLOCK_KEYS = ("cpu_model", "cores", "kernel")
# The instruction-count gate also depends on the code actually executed.
INSTRUCTION_KEYS = ("cpu_model", "libc", "compiler", "libuv", "valgrind")


def environment_differences(base, cand, keys=WALL_CLOCK_KEYS):
    """Human-readable differences of the given keys between two environment dicts."""
    diffs = []
    for key in keys:
        a, b = (base or {}).get(key), (cand or {}).get(key)
        if a is None or b is None:
            continue  # unknown on one side: nothing to say
        if a != b:
            diffs.append(f"{key}: baseline {a!r}, candidate {b!r}")
    return diffs


def _command_version(argv, pattern):
    if not shutil.which(argv[0]):
        return None
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(pattern, out.stdout + out.stderr)
    return m.group(1) if m else None


def _pkg_version(name):
    return _command_version(["pkg-config", "--modversion", name], r"(\S+)")


def _git_revision(root):
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def fingerprint(root=None):
    """The live machine's fingerprint (keys shared with the results manifest's environment)."""
    libc = os.confstr("CS_GNU_LIBC_VERSION") if hasattr(os, "confstr") else None
    fp = {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "hostname": socket.gethostname(),
        "libc": libc,
        "compiler": _command_version(["cc", "--version"], r"([^\n]+)"),
        "libuv": _pkg_version("libuv"),
        "valgrind": _command_version(["valgrind", "--version"], r"(valgrind-\S+)"),
    }
    if root:
        fp["git_revision"] = _git_revision(root)
    return fp
