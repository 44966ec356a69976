"""The server models, discovered from the binaries: every `server-*` in a bin dir describes itself.

`server-MODEL --describe` prints one JSON object (servers/core/describe.c): its name, a one-line
description, its rank in the C10K story, how it drives connections and the limits it is subject to.
Nothing in the scripts or tests knows a model by name; they read these descriptions.

Order: discover() lists models by their "rank" (blocking, threaded, forking, select, epoll, libuv,
then the later models), then by name, so every listing, plot and table shows them in one order.
"""
import json
import os
import select
import subprocess
import time

from .nested import dig

PREFIX = "server-"
DESCRIBE_TIMEOUT_S = 3
REQUIRED = {"model": str, "rank": int, "description": str, "driver": str, "processes": int,
            "limits": dict, "options": list}


class ModelError(Exception):
    pass


_cache = {}


def _run_describe(path, args=()):
    """The first stdout line of `path ARGS --describe`; a binary that ignores the flag and starts
    serving (it prints no JSON) is stopped at once, one that prints nothing after a timeout."""
    proc = subprocess.Popen([path, *args, "--describe"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = ""
        deadline = time.monotonic() + DESCRIBE_TIMEOUT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.05)
            if ready:
                line = proc.stdout.readline()
                break
            if proc.poll() is not None:
                line = proc.stdout.readline()
                break
        try:
            proc.wait(timeout=1 if line.startswith("{") else 0.01)
        except subprocess.TimeoutExpired:
            pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            raise ModelError(f"{path} --describe printed {line.strip()[:60]!r} and did not exit")
        err = proc.stderr.read().strip()
        if proc.returncode != 0:
            raise ModelError(f"{path} --describe failed (status {proc.returncode}): {err or line.strip()}")
        return line
    finally:
        for f in (proc.stdout, proc.stderr):
            f.close()


def describe(path, args=()):
    """The description of one server binary run with args (e.g. --workers 8: its process count
    follows); ModelError when it gives none."""
    try:
        key = (os.path.abspath(path), os.stat(path).st_mtime_ns, tuple(args))
    except OSError as e:
        raise ModelError(f"{path}: {e.strerror}") from None
    if key not in _cache:
        line = _run_describe(path, args)
        try:
            doc = json.loads(line)
        except ValueError:
            raise ModelError(f"{path} --describe did not print JSON: {line.strip()[:80]!r}") from None
        problems = [k for k, t in REQUIRED.items() if not isinstance(doc.get(k), t)] if isinstance(doc, dict) \
            else ["(not an object)"]
        if problems:
            raise ModelError(f"{path} --describe: missing or mistyped {', '.join(problems)}")
        expected = os.path.basename(path)[len(PREFIX):]
        if doc["model"] != expected:
            raise ModelError(f"{path} --describe names itself {doc['model']!r}, not {expected!r}")
        _cache[key] = doc
    return _cache[key]


def binaries(bin_dir):
    """Paths of the executable server-* files in bin_dir, sorted by name."""
    try:
        names = sorted(n for n in os.listdir(bin_dir) if n.startswith(PREFIX))
    except OSError:
        return []
    paths = [os.path.join(bin_dir, n) for n in names]
    return [p for p in paths if os.path.isfile(p) and os.access(p, os.X_OK)]


def discover(bin_dir, errors=None):
    """Descriptions of every model in bin_dir, in story order (rank, then name). A binary that does
    not describe itself is left out; its ModelError is appended to `errors` when given."""
    found = []
    for path in binaries(bin_dir):
        try:
            found.append(describe(path))
        except ModelError as e:
            if errors is not None:
                errors.append(str(e))
    return sorted(found, key=lambda d: (d["rank"], d["model"]))


def names(bin_dir):
    return [d["model"] for d in discover(bin_dir)]


def by_name(bin_dir, wanted=None):
    """{name: description} for the models in bin_dir (only `wanted` ones when given); models that
    do not describe themselves are absent."""
    out = {}
    for name in (sorted(set(wanted)) if wanted is not None else names(bin_dir)):
        try:
            out[name] = describe(os.path.join(bin_dir, PREFIX + name))
        except ModelError:
            pass
    return out


# Readers of a description's traits, so callers need not know its layout.

def task_per_connection(desc):
    """"thread" or "process" when the model spawns one per connection, else None."""
    return desc.get("task_per_connection")


def fd_setsize(desc):
    """The fd number the model's wait mechanism cannot reach (FD_SETSIZE for select), or None."""
    return dig(desc, "limits", "fd_setsize")


def max_inflight(desc):
    """Requests the model serves at once by design (1, a pool's size), or None: one per connection."""
    return desc.get("max_inflight")


def connection_capacity(desc, open_files):
    """Connections the server's open-file limits allow: one process's limit times its processes;
    None when each connection lives in its own process (no shared fd table to fill)."""
    if task_per_connection(desc) == "process" or not open_files:
        return None
    return open_files * max(1, desc.get("processes") or 1)


def label(desc):
    """A legend label: the model name and its mechanism."""
    mech = desc.get("mechanism")
    return f"{desc['model']} ({mech})" if mech else desc["model"]
