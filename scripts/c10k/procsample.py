"""Samples a process tree from /proc: CPU, RSS/PSS, threads, processes, context switches, and
the kernel's TCP socket memory (/proc/net/sockstat, machine-wide).

The tree is found by scanning /proc/*/stat for parent pids (this kernel has no
/proc/<pid>/task/<tid>/children). PSS comes from smaps_rollup because RSS counts the pages a
forking server shares with its children once per child.
"""
import os
import re
import shutil
import subprocess
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


def _threads(pid, thread_ns):
    """Context switches (voluntary, involuntary) summed over pid's live threads; records each
    thread's run time in nanoseconds (schedstat) in thread_ns[(pid, tid)]."""
    vol = invol = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0, 0
    for tid in tids:
        data = _read(f"/proc/{pid}/task/{tid}/status")
        if data:
            for line in data.split(b"\n"):
                if line.startswith(b"voluntary_ctxt_switches:"):
                    vol += int(line.split()[1])
                elif line.startswith(b"nonvoluntary_ctxt_switches:"):
                    invol += int(line.split()[1])
        data = _read(f"/proc/{pid}/task/{tid}/schedstat")
        if data:
            try:
                thread_ns[(pid, int(tid))] = int(data.split()[0])
            except (ValueError, IndexError):
                pass
    return vol, invol


class CpuTracker:
    """Keeps a tree's CPU total from going backwards when threads or processes exit.

    Per process the total is the larger of two lower bounds: utime+stime (exact time truncated to
    10 ms clock ticks, includes exited threads) and the live threads' schedstat run time
    (nanoseconds) plus the last run time seen of its threads that have exited since. Reaped
    children count through cutime+cstime, or the last total seen of the children that vanished,
    whichever is larger. Without this, a few cheap requests at low concurrency measure as 0 s.
    """

    def __init__(self):
        self.thread_ns = {}     # (pid, tid) -> last run time seen
        self.gone_thread_ns = {}  # pid -> run time of its threads that exited
        self.proc_total = {}    # pid -> (ppid, last total seen, in seconds)
        self.gone_child_s = {}  # ppid -> last totals of its children that vanished
        self.high_water = 0.0

    def total(self, tree, thread_ns):
        seen_threads = {}
        for (pid, tid), ns in thread_ns.items():
            seen_threads[(pid, tid)] = ns
        for key, ns in self.thread_ns.items():
            if key not in seen_threads and key[0] in tree:
                self.gone_thread_ns[key[0]] = self.gone_thread_ns.get(key[0], 0) + ns
        self.thread_ns = seen_threads
        for pid, (ppid, last) in self.proc_total.items():
            if pid not in tree:
                self.gone_child_s[ppid] = self.gone_child_s.get(ppid, 0.0) + last
        live_ns = {}
        for (pid, _), ns in seen_threads.items():
            live_ns[pid] = live_ns.get(pid, 0) + ns
        totals, grand = {}, 0.0
        for pid, st in tree.items():
            own = max((st["utime"] + st["stime"]) / CLK_TCK,
                      (live_ns.get(pid, 0) + self.gone_thread_ns.get(pid, 0)) / 1e9)
            reaped = max((st["cutime"] + st["cstime"]) / CLK_TCK, self.gone_child_s.get(pid, 0.0))
            totals[pid] = (st["ppid"], own + reaped)
            grand += own + reaped
        self.proc_total = totals
        self.high_water = max(self.high_water, grand)
        return self.high_water


def sample(root_pid, tracker=None):
    """One sample of root_pid's tree; None when root_pid no longer exists.

    Pass the same CpuTracker to successive calls for a monotonic, fine-grained cpu_total_s."""
    tree = descendants(root_pid)
    if not tree:
        return None
    tracker = tracker or CpuTracker()
    user = sys_ = 0
    rss = pss = threads = vol = invol = 0
    thread_ns = {}
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
        v, i = _threads(pid, thread_ns)
        vol += v
        invol += i
    return {"cpu_user_s": user / CLK_TCK, "cpu_sys_s": sys_ / CLK_TCK,
            "cpu_total_s": round(tracker.total(tree, thread_ns), 6),
            "rss_kib": rss, "pss_kib": pss, "threads": threads, "processes": len(tree),
            "ctx_voluntary": vol, "ctx_involuntary": invol}


def machine_cpu_s(path="/proc/stat"):
    """The whole machine's CPU seconds since boot, all cores (the first line of /proc/stat), as
    {"busy", "nice", "steal"}: busy is user, system, irq and softirq time at normal priority; nice
    is the user time of niced processes, kept apart because they yield to the benchmark; steal is
    time the hypervisor gave to other guests. None where /proc/stat cannot be read."""
    data = _read(path)
    if not data:
        return None
    fields = data.split(b"\n", 1)[0].split()
    if len(fields) < 9 or fields[0] != b"cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
    return {"busy": (user + system + irq + softirq) / CLK_TCK, "nice": nice / CLK_TCK, "steal": steal / CLK_TCK}


def harness_cpu_s():
    """CPU seconds of this process and of the children it has reaped (the loadgen once it ended,
    ss): with the server tree's, what the harness itself spent, so the rest of the machine's busy
    time is other processes."""
    me = os.times()
    return me.user + me.system + me.children_user + me.children_system


def sockstat(path="/proc/net/sockstat"):
    """The kernel's TCP socket counters, machine-wide: sockets in use, allocated, in TIME_WAIT,
    and the memory of all TCP socket buffers (KiB). On loopback both ends of every connection are
    in it, the loadgen's as well as the server's. {} when unreadable."""
    data = _read(path)
    if not data:
        return {}
    for line in data.decode("ascii", "replace").splitlines():
        if line.startswith("TCP:"):
            f = line.split()[1:]
            fields = dict(zip(f[::2], f[1::2]))
            try:
                return {"tcp_inuse": int(fields["inuse"]), "tcp_alloc": int(fields["alloc"]),
                        "tcp_tw": int(fields["tw"]), "tcp_mem_kib": int(fields["mem"]) * PAGE_KIB}
            except (KeyError, ValueError):
                return {}
    return {}


SKMEM_RE = re.compile(rb"skmem:\(([^)]*)\)")
SS_TIMEOUT_S = 10


def socket_memory(port, host="127.0.0.1"):
    """The server's own TCP sockets on host:port (established, server side), counted, with the
    kernel memory `ss -m` reports for them summed (KiB: receive and send queues, forward
    allocation, options: skmem r + w + f + o). None when ss is missing or fails."""
    if not port or not shutil.which("ss"):
        return None
    try:
        out = subprocess.run(["ss", "-Htmn", "state", "established", "sport", "=", f":{int(port)}"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=SS_TIMEOUT_S,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    count = total = 0
    for m in SKMEM_RE.finditer(out.stdout):
        fields = {}
        for item in m.group(1).split(b","):
            key = item.rstrip(b"0123456789")
            try:
                fields[key] = int(item[len(key):])
            except ValueError:
                continue
        count += 1
        total += sum(fields.get(k, 0) for k in (b"r", b"w", b"f", b"o"))
    return {"sockets": count, "sock_mem_kib": round(total / 1024, 1)}


class Sampler:
    """Samples a process tree on a background thread every `interval_s` until stop().

    start() takes a baseline sample first (the idle server). stop(t0) returns the samples with
    t_s measured from t0 (a time.monotonic() value: when the load started).
    """

    def __init__(self, pid, interval_s=0.1, port=None, socket_interval_s=1.0):
        self.pid, self.interval_s = pid, interval_s
        # ss over 10,000 sockets takes a while: the per-socket figure is taken about once a second.
        self.port, self.socket_interval_s, self._next_socket_t = port, socket_interval_s, 0.0
        self._taken = []  # (monotonic time, sample); appended by one thread at a time
        self._tracker = CpuTracker()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sampler-{pid}", daemon=True)

    def start(self):
        # The idle baseline has no connections: the first socket figure comes with the load.
        self._next_socket_t = float("inf")
        self._take()
        self._next_socket_t = 0.0
        self._thread.start()
        return self

    def _take(self):
        t = time.monotonic()
        s = sample(self.pid, self._tracker) if self.pid else None
        if s is not None:
            machine = machine_cpu_s()
            if machine is not None:
                s.update(machine_busy_s=round(machine["busy"], 3), machine_nice_s=round(machine["nice"], 3),
                         machine_steal_s=round(machine["steal"], 3), harness_cpu_s=round(harness_cpu_s(), 3))
            s.update(sockstat())
            if self.port and t >= self._next_socket_t:
                self._next_socket_t = t + self.socket_interval_s
                s.update(socket_memory(self.port) or {})
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


def other_cpu_cores(first, last, server_cpu_s):
    """Cores that processes outside the server, the loadgen and the runner kept busy between two
    samples: what makes two runs of one point differ on a shared machine. None without the figures."""
    if "machine_busy_s" not in first or "machine_busy_s" not in last:
        return None
    window = last.get("t_s", 0) - first.get("t_s", 0)
    if window <= 0:
        return None
    other = ((last["machine_busy_s"] - first["machine_busy_s"]) - server_cpu_s
             - (last["harness_cpu_s"] - first["harness_cpu_s"]))
    return round(max(0.0, other) / window, 2)


def _machine_rate(first, last, key):
    """Cores' worth of one /proc/stat figure between two samples, or None without it."""
    window = last.get("t_s", 0) - first.get("t_s", 0)
    if key not in first or key not in last or window <= 0:
        return None
    return round(max(0.0, last[key] - first[key]) / window, 2)


def steady_usage(samples, start_s, end_s, requests_per_sec):
    """The server's CPU over the loadgen's measured window only, [start_s, end_s] in the samples'
    time: {"from_s", "to_s", "cpu_cores", "cpu_per_request_us"}, or None with fewer than two
    samples in it. A point with idle connections spends seconds before the window opening and
    answering them, and more after it as they close: the whole run's CPU per request would count
    that set-up, where this counts the steady state the window measures (its cores busy over its
    request rate)."""
    inside = [s for s in samples if start_s <= s["t_s"] <= end_s]
    if len(inside) < 2 or not requests_per_sec:
        return None
    first, last = inside[0], inside[-1]
    window = last["t_s"] - first["t_s"]
    if window <= 0:
        return None
    cores = max(0.0, last["cpu_total_s"] - first["cpu_total_s"]) / window
    return {"from_s": first["t_s"], "to_s": last["t_s"], "cpu_cores": round(cores, 4),
            "cpu_per_request_us": round(cores / requests_per_sec * 1e6, 2)}


def summarize(samples, interval_s, concurrency, requests):
    """The server_usage block of a point file (see docs/results-format.md). concurrency: the
    connections the load held open (active and idle), which share the memory growth."""
    out = {"interval_s": interval_s, "samples": samples}
    if not samples:
        out.update({"cpu_s": None, "cpu_user_s": None, "cpu_sys_s": None, "requests": requests,
                    "cpu_per_request_us": None, "baseline_pss_kib": None, "peak_rss_kib": None,
                    "peak_pss_kib": None, "pss_per_connection_kib": None, "peak_threads": None,
                    "peak_processes": None, "peak_tcp_mem_kib": None, "tcp_mem_per_connection_kib": None,
                    "peak_sockets": None, "sock_mem_per_connection_kib": None, "other_cpu_cores": None,
                    "niced_cpu_cores": None, "steal_cores": None})
        return out
    first, last = samples[0], samples[-1]
    user = max(0.0, last["cpu_user_s"] - first["cpu_user_s"])
    sys_ = max(0.0, last["cpu_sys_s"] - first["cpu_sys_s"])
    cpu = max(0.0, last["cpu_total_s"] - first["cpu_total_s"])
    peak_pss = max(s["pss_kib"] for s in samples)
    out.update({
        "cpu_s": round(cpu, 6), "cpu_user_s": round(user, 3), "cpu_sys_s": round(sys_, 3),
        "requests": requests,
        "cpu_per_request_us": round(cpu / requests * 1e6, 2) if requests else None,
        "baseline_pss_kib": first["pss_kib"],
        "peak_rss_kib": max(s["rss_kib"] for s in samples),
        "peak_pss_kib": peak_pss,
        "pss_per_connection_kib": round((peak_pss - first["pss_kib"]) / concurrency, 3),
        "peak_threads": max(s["threads"] for s in samples),
        "peak_processes": max(s["processes"] for s in samples),
    })
    out["other_cpu_cores"] = other_cpu_cores(first, last, cpu)
    out["niced_cpu_cores"] = _machine_rate(first, last, "machine_nice_s")
    out["steal_cores"] = _machine_rate(first, last, "machine_steal_s")
    socks = [s for s in samples if "sock_mem_kib" in s]
    out["peak_sockets"] = max((s["sockets"] for s in socks), default=None)
    out["sock_mem_per_connection_kib"] = (round(max(s["sock_mem_kib"] for s in socks) / concurrency, 3)
                                          if socks else None)
    tcp = [s["tcp_mem_kib"] for s in samples if "tcp_mem_kib" in s]
    out["peak_tcp_mem_kib"] = max(tcp) if tcp else None
    out["tcp_mem_per_connection_kib"] = (round((max(tcp) - tcp[0]) / concurrency, 3)
                                         if tcp and "tcp_mem_kib" in first else None)
    return out
