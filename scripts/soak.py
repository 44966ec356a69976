#!/usr/bin/python3
"""Soak: does a server hold up for many minutes under a normal load beside hostile clients?

    scripts/soak.py [--minutes M] [--interval S] [--rate R] [--idle N] [--slowloris N] [--json FILE] MODEL...

For each model (a name means build/bin/server-MODEL, or a path), one server with its default
timeouts, and for M minutes at once:
  - normal clients: the loadgen, keep-alive, 10 connections at --rate requests/s, run interval by
    interval so that every interval has its own count of requests and failures;
  - --idle keep-alive connections, each answered once and then silent (reopened when the server
    closes them, which its idle timeout does);
  - --slowloris connections that send a header line a second and never end the head (the header
    timeout answers them 408);
  - a client that connects and resets (SO_LINGER 0) every 10 ms;
  - a client that asks for 64 MiB of answers and never reads them, with a 4 KiB receive buffer (the
    write timeout closes it).
Every interval prints one row: the normal clients' requests and failures, the server's RSS and open
fds (its whole process tree) and its timeouts by kind (from /__stats), and how often the server
closed each kind of hostile client, by cause (EOF, reset, a 408 answer).

Pass rule: no normal-client failure, RSS growth under 1 MiB from the end of the first interval to
the end of the last, and the server's fds back to where they were after one warm-up request (before
the soak's clients) once the clients leave. The warm-up lets a server open what it opens once, with
its first connection: libuv opens a spare fd (loop->emfile_fd, for uv_accept at EMFILE) in the
first uv_tcp_init and keeps it for the loop's life. Exit status: 0 every model passed, 1 one did not, 2 bad input or a server that did
not start. Standard library only; a benchmark to run by hand, not a test (it takes M minutes).
"""
import argparse
import errno
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c10k.oneserver import get, raise_open_files, server_paths, start, stop  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NORMAL_CONNECTIONS = 10
RESET_EVERY_S = 0.010
SLOWLORIS_LINE_EVERY_S = 1.0
OPENS_PER_TICK = 100  # reopened hostile connections per 0.1 s: a burst must not overflow the listen queue
RSS_GROWTH_LIMIT_KIB = 1024
IDLE_REQUEST = b"GET / HTTP/1.1\r\nHost: soak\r\n\r\n"
# 64 pipelined answers of 1 MiB (the most one request may ask for): more than any socket buffers hold.
NEVER_READ_REQUEST = b"GET /?bytes=1048576 HTTP/1.1\r\nHost: soak\r\n\r\n" * 64
RDHUP = getattr(select, "POLLRDHUP", 0x2000)


class Conn:
    __slots__ = ("kind", "sock", "state", "buf", "next_line")

    def __init__(self, kind, sock):
        self.kind, self.sock, self.state, self.buf, self.next_line = kind, sock, "connecting", b"", 0.0


class Hostiles:
    """Every hostile client in one poll loop on its own thread. closed[kind][cause] counts the
    connections the server ended; a closed one is reopened, so the pressure holds for the run."""

    def __init__(self, addr, idle, slowloris):
        self.addr = addr
        self.want = {"idle": idle, "slowloris": slowloris, "never-read": 1}
        self.closed = {k: {"eof": 0, "reset": 0, "408": 0} for k in self.want}
        self.resets_sent = 0
        self.open_errors = 0
        self.conns = {}
        self.poll = select.poll()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(30)
        for c in list(self.conns.values()):
            self._drop(c)

    def snapshot(self):
        with self.lock:
            return {"closed": json.loads(json.dumps(self.closed)), "resets_sent": self.resets_sent,
                    "open_errors": self.open_errors,
                    "open": {k: sum(1 for c in self.conns.values() if c.kind == k) for k in self.want}}

    def _open(self, kind):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if kind == "never-read":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        err = s.connect_ex(self.addr)
        if err not in (0, errno.EINPROGRESS):
            s.close()
            with self.lock:
                self.open_errors += 1
            return
        c = Conn(kind, s)
        self.conns[s.fileno()] = c
        self.poll.register(s, select.POLLOUT)

    def _drop(self, c):
        try:
            self.poll.unregister(c.sock)
        except (KeyError, ValueError):
            pass
        self.conns.pop(c.sock.fileno(), None)
        c.sock.close()

    def _server_closed(self, c, cause):
        with self.lock:
            self.closed[c.kind][cause] += 1
        self._drop(c)

    def _connected(self, c, now):
        if c.kind == "idle":
            c.sock.send(IDLE_REQUEST)
            c.state = "awaiting"
            self.poll.modify(c.sock, select.POLLIN | RDHUP)
        elif c.kind == "slowloris":
            c.sock.send(b"GET / HTTP/1.1\r\nHost: soak\r\n")
            c.state, c.next_line = "trickling", now + SLOWLORIS_LINE_EVERY_S
            self.poll.modify(c.sock, select.POLLIN | RDHUP)
        else:  # never-read: ask for a large body, then only watch for the server's close
            c.sock.sendall(NEVER_READ_REQUEST)
            c.state = "not reading"
            self.poll.modify(c.sock, RDHUP)

    def _readable(self, c):
        try:
            data = c.sock.recv(65536)
        except ConnectionResetError:
            return self._server_closed(c, "reset")
        except BlockingIOError:
            return None
        if not data:
            return self._server_closed(c, "408" if c.buf.startswith(b"HTTP/1.1 408") else "eof")
        c.buf += data
        if c.buf.startswith(b"HTTP/1.1 408"):
            return self._server_closed(c, "408")
        if c.kind == "idle" and c.state == "awaiting" and self._response_complete(c.buf):
            c.state, c.buf = "silent", b""
        return None

    @staticmethod
    def _response_complete(buf):
        head, sep, body = buf.partition(b"\r\n\r\n")
        if not sep:
            return False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return len(body) >= int(value)
        return True

    def _reset_one(self):
        """Connect and reset at once: the server sees a connection that dies under it."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.settimeout(1.0)
            s.connect(self.addr)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            with self.lock:
                self.resets_sent += 1
        except OSError:
            with self.lock:
                self.open_errors += 1
        finally:
            s.close()

    def _run(self):
        next_reset = next_tick = time.monotonic()
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= next_tick:  # top up every kind, paced
                next_tick = now + 0.1
                budget = OPENS_PER_TICK
                for kind, n in self.want.items():
                    have = sum(1 for c in self.conns.values() if c.kind == kind)
                    for _ in range(min(n - have, budget)):
                        self._open(kind)
                        budget -= 1
            if now >= next_reset:
                next_reset = now + RESET_EVERY_S
                self._reset_one()
            for c in list(self.conns.values()):
                if c.kind == "slowloris" and c.state == "trickling" and now >= c.next_line:
                    c.next_line = now + SLOWLORIS_LINE_EVERY_S
                    try:
                        c.sock.send(b"X-Soak: 1\r\n")
                    except OSError:
                        self._server_closed(c, "reset")
            for fd, ev in self.poll.poll(10):
                c = self.conns.get(fd)
                if c is None:
                    continue
                if c.state == "connecting":
                    err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        with self.lock:
                            self.open_errors += 1
                        self._drop(c)
                    else:
                        try:
                            self._connected(c, now)
                        except OSError:
                            self._server_closed(c, "reset")
                elif c.kind == "never-read":
                    self._server_closed(c, "reset" if ev & select.POLLERR else "eof")
                elif ev & (select.POLLIN | RDHUP | select.POLLHUP | select.POLLERR):
                    self._readable(c)


def tree_pids(pid):
    """pid and its descendants (reuseport's workers count as the server)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


def server_memory_and_fds(pid):
    rss_kib, fds = 0, 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss_kib += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except OSError:
            pass
    return rss_kib, fds


def normal_load(loadgen, addr, rate, seconds):
    """One interval of keep-alive load: (complete, failed), or (0, None) with the reason printed."""
    cmd = [loadgen, "-q", "-k", "-c", str(NORMAL_CONNECTIONS), "--rate", str(rate), "-t", f"{seconds:g}",
           "-n", str(int(rate * seconds * 2) + NORMAL_CONNECTIONS), "--json", "-", f"http://{addr[0]}:{addr[1]}/"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    try:
        summary = json.loads(p.stdout)["summary"]
    except (ValueError, KeyError):
        print(f"soak: loadgen failed (exit {p.returncode}): {p.stderr.strip()[-300:]}", file=sys.stderr)
        return 0, None
    return summary["complete"], summary["failed"]


def settled_fds(pid, timeout=2.0):
    """The server's open fds once two looks 0.1 s apart agree (a closed connection's fd is gone)."""
    _, last = server_memory_and_fds(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.1)
        _, fds = server_memory_and_fds(pid)
        if fds == last:
            break
        last = fds
    return last


def stats(addr):
    status, body = get(addr, "/__stats", 10)
    if status != 200:
        return {}
    try:
        return json.loads(body)
    except ValueError:
        return {}


def soak_one(path, args, loadgen):
    name = os.path.basename(path)
    proc, addr = start(path)
    rows, verdict = [], {}
    try:
        get(addr, "/", 10)  # the warm-up (see the pass rule)
        fds_before = settled_fds(proc.pid)
        hostiles = Hostiles(addr, args.idle, args.slowloris)
        hostiles.start()
        intervals = max(1, round(args.minutes * 60 / args.interval))
        print(f"\n## {name}: {intervals} x {args.interval:g} s; fds after a warm-up request: {fds_before}")
        print("| t (s) | normal requests | normal failures | RSS (MiB) | fds | timeouts header/idle/write | "
              "server closed idle eof/reset/408 | slowloris eof/reset/408 | never-read eof/reset | resets sent |")
        print("|---:|---:|---:|---:|---:|---|---|---|---|---:|")
        for i in range(1, intervals + 1):
            complete, failed = normal_load(loadgen, addr, args.rate, args.interval)
            if proc.poll() is not None:
                print(f"soak: {name} exited with status {proc.returncode} during interval {i}", file=sys.stderr)
                failed = None
            rss, fds = server_memory_and_fds(proc.pid)
            st, h = stats(addr), hostiles.snapshot()
            t = st.get("timeouts", {})
            cl = h["closed"]
            row = {"t_s": i * args.interval, "normal_requests": complete, "normal_failures": failed,
                   "rss_kib": rss, "fds": fds, "timeouts": t, "hostiles": h}
            rows.append(row)
            print(f"| {row['t_s']:g} | {complete:,} | {'lost' if failed is None else failed} | {rss / 1024:.1f} | "
                  f"{fds:,} | {t.get('header', '?')}/{t.get('idle', '?')}/{t.get('write', '?')} | "
                  f"{cl['idle']['eof']}/{cl['idle']['reset']}/{cl['idle']['408']} | "
                  f"{cl['slowloris']['eof']}/{cl['slowloris']['reset']}/{cl['slowloris']['408']} | "
                  f"{cl['never-read']['eof']}/{cl['never-read']['reset']} | {h['resets_sent']:,} |", flush=True)
            if failed is None:
                break
        hostiles.stop()
        fds_after, deadline = None, time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            _, fds_after = server_memory_and_fds(proc.pid)
            if fds_after <= fds_before:
                break
            time.sleep(0.2)
        failures = sum(r["normal_failures"] if r["normal_failures"] is not None else 1 for r in rows)
        growth = rows[-1]["rss_kib"] - rows[0]["rss_kib"] if len(rows) > 1 else 0
        verdict = {"model": name, "normal_failures": failures, "rss_first_kib": rows[0]["rss_kib"],
                   "rss_last_kib": rows[-1]["rss_kib"], "rss_growth_kib": growth, "fds_before": fds_before,
                   "fds_after": fds_after, "rows": rows}
        verdict["passed"] = (failures == 0 and growth < RSS_GROWTH_LIMIT_KIB and fds_after is not None
                             and fds_after <= fds_before and proc.poll() is None)
        print(f"\n{name}: {'PASS' if verdict['passed'] else 'FAIL'}: normal failures {failures}; RSS "
              f"{rows[0]['rss_kib'] / 1024:.1f} MiB after the first interval, {rows[-1]['rss_kib'] / 1024:.1f} MiB "
              f"at the end (growth {growth} KiB, limit {RSS_GROWTH_LIMIT_KIB}); fds {fds_before} before, "
              f"{fds_after} after the clients left", flush=True)
    finally:
        stop(proc)
    return verdict


def main(argv=None):
    ap = argparse.ArgumentParser(prog="soak.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", metavar="MODEL", help="model names (server-MODEL) or server paths")
    ap.add_argument("--bin-dir", default=os.environ.get("C10K_BIN_DIR") or os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--minutes", type=float, default=30.0, help="how long each model is held (default 30)")
    ap.add_argument("--interval", type=float, default=60.0, help="seconds per report row (default 60)")
    ap.add_argument("--rate", type=int, default=1000, help="normal requests/s (default 1000)")
    ap.add_argument("--idle", type=int, default=1000, help="idle keep-alive connections (default 1000)")
    ap.add_argument("--slowloris", type=int, default=200, help="slowloris connections (default 200)")
    ap.add_argument("--json", metavar="FILE", help="also write every row and verdict as JSON")
    args = ap.parse_args(argv)
    if args.minutes <= 0 or args.interval < 1 or args.rate < 1 or args.idle < 0 or args.slowloris < 0:
        ap.error("--minutes > 0, --interval >= 1, --rate >= 1, --idle and --slowloris >= 0")
    if args.interval > args.minutes * 60:
        ap.error("--interval is longer than the run (--minutes)")
    loadgen = os.path.join(args.bin_dir, "loadgen")
    try:
        paths = server_paths(args.bin_dir, args.models)
        if not os.access(loadgen, os.X_OK):
            raise ValueError(f"no loadgen in {args.bin_dir} (build with scripts/build.sh)")
        raise_open_files(args.idle + args.slowloris + 200)
    except ValueError as e:
        print(f"soak: {e}", file=sys.stderr)
        return 2
    verdicts = []
    for path in paths:
        try:
            verdicts.append(soak_one(path, args, loadgen))
        except RuntimeError as e:  # the server did not start
            print(f"soak: {e}", file=sys.stderr)
            return 2
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(verdicts, f, indent=1)
    return 0 if all(v.get("passed") for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
