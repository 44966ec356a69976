"""The machine a run happens on: facts for the manifest and the limits check of every point.

The limits check says up front which points cannot run here and why (open files, ports,
pid_max), instead of letting them fail half-way through a long run.
"""
import os
import platform
import resource
import socket
import subprocess
import sys

from . import ROOT, models
from .nested import dig
from .series import as_series

FIXED_FDS = 8  # what a server holds besides its connections: stdio, the listening socket, /__stats
FD_MARGIN = 64  # listening socket, stdio, /__stats, files the server or loadgen keep open


def _read_int(path, default=None):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_kib():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _first_line(cmd, timeout=5):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = out.stdout.strip().splitlines()
    return lines[0].strip() if out.returncode == 0 and lines else None


def git_revision():
    rev = _first_line(["git", "-C", ROOT, "rev-parse", "HEAD"])
    if not rev:
        return None
    try:
        dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=10)
        if dirty.stdout.strip():
            rev += "+dirty"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return rev


def raise_nofile_limit():
    """Soft RLIMIT_NOFILE up to the hard limit; children (servers, loadgen) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_pinning():
    """{"server_cpus": [a], "loadgen_cpus": [b]} on two or more CPUs, else both None."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = []
    if len(cpus) >= 2:
        return {"server_cpus": [cpus[0]], "loadgen_cpus": [cpus[1]]}
    return {"server_cpus": None, "loadgen_cpus": None}


def count_tasks():
    """Threads that exist on the machine now (they all take a pid)."""
    n = 0
    try:
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    n += len(os.listdir(f"/proc/{name}/task"))
                except OSError:
                    pass
    except OSError:
        pass
    return n


def collect(bin_dir, servers=()):
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    lo_hi = None
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo_hi = [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        pass
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    tools = {"python": platform.python_version(),
             "gnuplot": _first_line(["gnuplot", "--version"]),
             "cc": _first_line(["cc", "--version"]),
             "cmake": _first_line(["cmake", "--version"])}
    for name in ["loadgen"] + [f"server-{s}" for s in sorted(set(servers))]:
        path = os.path.join(bin_dir, name)
        if os.access(path, os.X_OK):
            # Short timeout: a binary that ignores --version and starts serving must not stall us.
            tools[name] = _first_line([path, "--version"], timeout=2) or "unknown (no --version)"
    uname = platform.uname()
    described = models.by_name(bin_dir, servers)
    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": f"{uname.system} {uname.release} {uname.version} {uname.machine}",
        "hostname": socket.gethostname(),
        "nofile_limit": None if nofile == resource.RLIM_INFINITY else nofile,
        "somaxconn": _read_int("/proc/sys/net/core/somaxconn"),
        "tcp_max_syn_backlog": _read_int("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
        "port_range": lo_hi,
        "pid_max": _read_int("/proc/sys/kernel/pid_max"),
        "threads_max": _read_int("/proc/sys/kernel/threads-max"),
        "nproc_limit": None if nproc == resource.RLIM_INFINITY else nproc,
        "mem_total_kib": _mem_total_kib(),
        "tool_versions": tools,
        "git_revision": git_revision(),
        "pinning": cpu_pinning(),
        "bin_dir": os.path.abspath(bin_dir),
        # What each model is and which limits bind it, from its own --describe.
        "models": described,
        "argv": sys.argv,
    }


def check_point(env, series, concurrency, tasks_now, idle=0):
    """(skip_reason or None, warning or None) for one point on this machine: C active connections
    and `idle` more held open beside them, each a file descriptor (and a port, a thread or a
    process) like an active one."""
    series, c = as_series(series), concurrency + idle
    nofile = env.get("nofile_limit")
    model = dig(env, "models", series.server) or {}
    extra = series.server_options.get("extra_args") or []
    if model and extra and env.get("bin_dir"):  # e.g. --workers: the model says what it becomes
        try:
            model = models.describe(os.path.join(env["bin_dir"], models.PREFIX + series.server), extra)
        except models.ModelError:
            pass
    # loadgen splits itself over worker processes past one process's limit: only the server counts.
    if not model and nofile is not None and c + FD_MARGIN > nofile:
        return (f"needs about {c + FD_MARGIN} open files in the server, "
                f"the limit is {nofile} (ulimit -n)"), None
    capacity = models.connection_capacity(model, nofile) if model else None
    if capacity is not None and c + FD_MARGIN > capacity:
        return (f"needs about {c + FD_MARGIN} open files in server-{series.server} "
                f"({model['processes']} process(es) x {nofile})"), None
    lg = series.loadgen
    ports = env.get("port_range")
    if ports and not lg.get("source"):
        n_ports = ports[1] - ports[0] + 1
        if c > n_ports:
            return (f"needs {c} connections to one address:port, only {n_ports} ephemeral ports "
                    f"({ports[0]}-{ports[1]}); set loadgen.source to spread source addresses"), None
    per_conn = models.task_per_connection(model) if model else None
    if per_conn:
        caps = [("pid_max", env.get("pid_max")), ("threads-max", env.get("threads_max")),
                ("ulimit -u", env.get("nproc_limit"))]
        for name, cap in caps:
            if cap is not None and c + tasks_now + FD_MARGIN > cap:
                plural = {"process": "processes"}.get(per_conn, per_conn + "s")
                return (f"needs {c} {plural} (one per connection) with {tasks_now} tasks already "
                        f"running, {name} is {cap}"), None
    warnings = []
    fd_setsize = models.fd_setsize(model) if model else None
    if fd_setsize is not None and idle and c + FIXED_FDS > fd_setsize:
        # The idle connections open first and take the fds below FD_SETSIZE: the active ones land
        # past it and are refused, so the point would measure refusals, not the load beside them.
        return (f"server-{series.server} watches fds below FD_SETSIZE ({fd_setsize}) only: {idle} idle "
                f"connections + C {concurrency} + {FIXED_FDS} of its own need more, and the active "
                f"connections opened last would be refused"), None
    if fd_setsize is not None and not idle and c + FD_MARGIN > fd_setsize:
        warnings.append(f"server-{series.server} cannot watch fds >= FD_SETSIZE ({fd_setsize}): refused "
                        f"or failed connections expected")
    somaxconn = env.get("somaxconn")
    backlog = series.server_options.get("backlog", somaxconn)
    cap = min(x for x in (backlog, somaxconn) if x is not None) if (backlog or somaxconn) else None
    # Only the C active connections open at once: the idle ones are paced like --ramp.
    if cap is not None and concurrency > cap:
        warnings.append(f"{concurrency} connects at once exceed the listen backlog ({cap}, somaxconn "
                        f"{somaxconn}): SYNs beyond it are retried, connect times grow")
    return None, "; ".join(warnings) or None
