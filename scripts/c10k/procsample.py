"""Samples a process tree from /proc: CPU, RSS/PSS, threads, processes, context switches.

The tree is found by scanning /proc/*/stat for parent pids (this kernel has no
/proc/<pid>/task/<tid>/children). PSS comes from smaps_rollup because RSS counts the pages a
forking server shares with its children once per child.
"""
import os
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None  # the process went away (or is not ours): skip it
    except OSError:
        return None


def parse_stat(data):
    """Fields of /proc/<pid>/stat after the comm (which may contain spaces and parentheses).

    Returns a dict with ppid, utime, stime, cutime, cstime (clock ticks), num_threads, state.
    """
    text = data.decode("ascii", "replace")
    rest = text[text.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); field n is rest[n - 3].
    return {"state": rest[0], "ppid": int(rest[1]), "utime": int(rest[11]), "stime": int(rest[12]),
            "cutime": int(rest[13]), "cstime": int(rest[14]), "num_threads": int(rest[17])}


def descendants(root_pid):
    """Pids of root_pid and all its descendants (root first), with their parsed stat."""
    children, stats = {}, {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return {}
    for name in names:
        if not name.isdigit():
            continue
        data = _read(f"/proc/{name}/stat")
        if not data:
            continue
        try:
            st = parse_stat(data)
        except (ValueError, IndexError):
            continue
        pid = int(name)
        stats[pid] = st
        children.setdefault(st["ppid"], []).append(pid)
    if root_pid not in stats:
        return {}
    tree, todo = {}, [root_pid]
    while todo:
        pid = todo.pop()
        if pid in tree or pid not in stats:
            continue
        tree[pid] = stats[pid]
        todo.extend(children.get(pid, ()))
    return tree


def _smaps_rollup(pid):
    data = _read(f"/proc/{pid}/smaps_rollup")
    rss = pss = 0
    if data:
        for line in data.split(b"\n"):
            if line.startswith(b"Rss:"):
                rss = int(line.split()[1])
            elif line.startswith(b"Pss:"):
                pss = int(line.split()[1])
    return rss, pss


def _ctx_switches(pid):
    vol = invol = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for tid in tids:
        data = _read(f"/proc/{pid}/task/{tid}/status")
        if not data:
            continue
        for line in data.split(b"\n"):
            if line.startswith(b"voluntary_ctxt_switches:"):
                vol += int(line.split()[1])
            elif line.startswith(b"nonvoluntary_ctxt_switches:"):
                invol += int(line.split()[1])
    return vol, invol


def sample(root_pid):
    """One sample of root_pid's tree; None when root_pid no longer exists."""
    tree = descendants(root_pid)
    if not tree:
        return None
    user = sys_ = 0
    rss = pss = threads = vol = invol = 0
    for pid, st in tree.items():
        user += st["utime"]
        sys_ += st["stime"]
        # Children a process already reaped (a forking server's finished connections) are no
        # longer in the tree; the kernel moved their time into the reaper's cutime/cstime.
        user += st["cutime"]
        sys_ += st["cstime"]
        threads += st["num_threads"]
        if st["state"] == "Z":
            continue
        r, p = _smaps_rollup(pid)
        rss += r
        pss += p
        v, i = _ctx_switches(pid)
        vol += v
        invol += i
    return {"cpu_user_s": user / CLK_TCK, "cpu_sys_s": sys_ / CLK_TCK, "rss_kib": rss, "pss_kib": pss,
            "threads": threads, "processes": len(tree), "ctx_voluntary": vol, "ctx_involuntary": invol}


class Sampler:
    """Samples a process tree on a background thread every `interval_s` until stop().

    start() takes a baseline sample first (the idle server). stop(t0) returns the samples with
    t_s measured from t0 (a time.monotonic() value: when the load started).
    """

    def __init__(self, pid, interval_s=0.1):
        self.pid, self.interval_s = pid, interval_s
        self._taken = []  # (monotonic time, sample); appended by one thread at a time
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{pid}", daemon=True)

    def start(self):
        self._take()
        self._thread.start()
        return self

    def _take(self):
        t = time.monotonic()
        s = sample(self.pid)
        if s is not None:
            self._taken.append((t, s))

    def _run(self):
        next_t = time.monotonic() + self.interval_s
        while not self._stop.wait(max(0.0, next_t - time.monotonic())):
            self._take()
            # A slow sample (huge tree) pushes the next one back instead of piling up.
            next_t = max(next_t + self.interval_s, time.monotonic())

    def stop(self, t0):
        """Stops the thread, takes one last sample, returns the samples with t_s from t0."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._take()
        return [{"t_s": round(t - t0, 3), **s} for t, s in self._taken]


def summarize(samples, interval_s, concurrency, requests):
    """The server_usage block of a point file (see docs/results-format.md)."""
    out = {"interval_s": interval_s, "samples": samples}
    if not samples:
        out.update({"cpu_s": None, "cpu_user_s": None, "cpu_sys_s": None, "requests": requests,
                    "cpu_per_request_us": None, "baseline_pss_kib": None, "peak_rss_kib": None,
                    "peak_pss_kib": None, "pss_per_connection_kib": None, "peak_threads": None,
                    "peak_processes": None})
        return out
    first, last = samples[0], samples[-1]
    user = max(0.0, last["cpu_user_s"] - first["cpu_user_s"])
    sys_ = max(0.0, last["cpu_sys_s"] - first["cpu_sys_s"])
    cpu = user + sys_
    peak_pss = max(s["pss_kib"] for s in samples)
    out.update({
        "cpu_s": round(cpu, 3), "cpu_user_s": round(user, 3), "cpu_sys_s": round(sys_, 3),
        "requests": requests,
        "cpu_per_request_us": round(cpu / requests * 1e6, 2) if requests else None,
        "baseline_pss_kib": first["pss_kib"],
        "peak_rss_kib": max(s["rss_kib"] for s in samples),
        "peak_pss_kib": peak_pss,
        "pss_per_connection_kib": round((peak_pss - first["pss_kib"]) / concurrency, 3),
        "peak_threads": max(s["threads"] for s in samples),
        "peak_processes": max(s["processes"] for s in samples),
    })
    return out
