"""Pieces shared by the benchmark commands (`c10k bench servers`, `c10k bench loadgen`): a pinned
nginx-light reference started from its own temporary prefix, commands run on one CPU with their
own rusage, and readers of the reports of wrk, ab and h2load.
"""
import os
import re
import shutil
import subprocess
import sys

from . import processes


class BenchError(Exception):
    """A tool missing, a process that did not start, a report that cannot be read."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def require_tools(names, who):
    """Exits with a clear message (status 2) when one of the external tools is missing."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise BenchError(f"{who}: {' '.join(missing)} missing (scripts/install-deps.sh installs it)")


def nginx_path():
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def nginx_config(prefix, port, body, workers=1, tls=None, session_log=False):
    """nginx.conf for a `return 200 BODY` server on 127.0.0.1:port that keeps everything in prefix.
    tls: (certificate file, key file) to serve https; session_log: log each request's
    $ssl_session_reused ("r" or ".") to prefix/sessions.log, to count resumed handshakes."""
    quoted = body.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    listen = f"listen 127.0.0.1:{port} backlog=4096{' ssl' if tls else ''};"
    if tls:
        listen += (f"\n    ssl_certificate {tls[0]};\n    ssl_certificate_key {tls[1]};"
                   "\n    ssl_protocols TLSv1.2 TLSv1.3;")
    log = "access_log off;"
    if session_log:
        log = f"log_format sessions '$ssl_session_reused';\n  access_log {prefix}/sessions.log sessions;"
    return f"""worker_processes {workers};
worker_rlimit_nofile 20000;
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log crit;
events {{ worker_connections 20000; }}
http {{
  {log}
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;
  default_type text/plain;
  server {{
    {listen}
    location / {{ return 200 "{quoted}"; }}
  }}
}}
"""


class Nginx:
    """nginx-light answering `return 200 BODY` on a free port, pinned to `cpus`, started and ended
    like any server the runner starts (its config and logs in the server's temporary folder)."""

    def __init__(self, body, cpus=(0,), workers=1, ready_timeout=10.0, tls=None, session_log=False):
        binary = nginx_path()
        if not binary:
            raise BenchError("nginx not found (Debian package nginx-light)")
        self.port = processes.free_port()

        def command(prefix):
            conf = os.path.join(prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_config(prefix, self.port, body, workers, tls, session_log))
            return [binary, "-p", prefix, "-c", conf, "-e", f"{prefix}/error.log"], None, None
        try:
            self.server = processes.Server(command, cpus=list(cpus), ready_timeout=ready_timeout, ready="tcp",
                                           port=self.port)
        except processes.ServerStartError as e:
            raise BenchError(f"nginx did not start: {e}") from None
        self.url, self.pid, self.prefix = self.server.url, self.server.pid, self.server.dir
        if tls:
            self.url = self.url.replace("http://", "https://", 1)

    def stop(self):
        self.server.stop()
        self.server.cleanup()


def pinned(cmd, cpus):
    """cmd under taskset, so it runs on `cpus` from its first instruction (exec: same pid, and its
    rusage is the command's own)."""
    return ["taskset", "-c", ",".join(map(str, cpus)), *cmd] if cpus else list(cmd)


class _RusagePopen(subprocess.Popen):
    """Popen whose wait records the child's own rusage (taskset execs the measured command, so the
    child's rusage is the command's)."""
    rusage_cpu_s = 0.0
    rusage_maxrss_kib = 0

    def _try_wait(self, wait_flags):
        try:
            pid, sts, ru = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            return (self.pid, 0)
        if pid == self.pid:
            self.rusage_cpu_s = ru.ru_utime + ru.ru_stime
            self.rusage_maxrss_kib = ru.ru_maxrss
        return (pid, sts)


class Pinned:
    """What a command run on fixed CPUs printed, its exit status, CPU time (user+sys) and peak RSS."""

    def __init__(self, stdout, stderr, cpu_s, maxrss_kib, returncode):
        self.stdout, self.stderr, self.cpu_s = stdout, stderr, cpu_s
        self.maxrss_kib, self.returncode = maxrss_kib, returncode


def run_pinned(cmd, cpus, timeout):
    """Runs cmd on `cpus`, bounded by timeout seconds (then killed: BenchError)."""
    proc = _RusagePopen(pinned(cmd, cpus), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise BenchError(f"{cmd[0]} ran longer than {timeout} s and was killed")
    return Pinned(out, err, proc.rusage_cpu_s, proc.rusage_maxrss_kib, proc.returncode)


class ToolReport:
    """The figures read from one client's report: requests completed, requests/s, failures."""

    def __init__(self, requests, rps, failed, detail=""):
        self.requests, self.rps, self.failed, self.detail = requests, rps, failed, detail


def _search(pattern, text, tool):
    m = re.search(pattern, text)
    if not m:
        raise BenchError(f"{tool}: cannot read its report (no match for {pattern!r}):\n{text[-1500:]}")
    return m


def parse_wrk(text):
    """wrk's report: completed requests, Requests/sec; socket errors and non-2xx as failures."""
    n = int(_search(r"(\d+) requests in [\d.]+\w+", text, "wrk").group(1))
    rps = float(_search(r"Requests/sec:\s+([\d.]+)", text, "wrk").group(1))
    failed, detail = 0, []
    errs = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if errs:
        failed += sum(map(int, errs.groups()))
        detail.append(errs.group(0))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non2xx:
        failed += int(non2xx.group(1))
        detail.append(f"non-2xx {non2xx.group(1)}")
    return ToolReport(n, rps, failed, "; ".join(detail))


def parse_ab(text):
    """ab's report: Complete requests, Requests per second, Failed requests."""
    done = int(_search(r"Complete requests:\s+(\d+)", text, "ab").group(1))
    rps = float(_search(r"Requests per second:\s+([\d.]+)", text, "ab").group(1))
    failed = int(_search(r"Failed requests:\s+(\d+)", text, "ab").group(1))
    return ToolReport(done, rps, failed)


def parse_h2load(text):
    """h2load's report: requests done, req/s, failed."""
    rps = float(_search(r"finished in [\d.]+m?s, ([\d.]+) req/s", text, "h2load").group(1))
    m = _search(r"requests: \d+ total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed", text, "h2load")
    return ToolReport(int(m.group(1)), rps, int(m.group(2)))


class Table:
    """Markdown lines printed as they come and kept for --out."""

    def __init__(self):
        self.lines = []

    def emit(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def save(self, path):
        if path:
            with open(path, "w") as f:
                f.write("\n".join(self.lines) + "\n")
