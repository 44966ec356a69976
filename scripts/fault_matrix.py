#!/usr/bin/env python3
"""Fault matrix: how every server model copes when a system call on its path fails.

  scripts/fault_matrix.py [--model M ...] [--call C ...] [--error E ...] [--markdown FILE] [--json FILE]
  scripts/fault_matrix.py --from-json FILE --markdown FILE      (the table of an earlier run again)

For each model, `strace -f -c` is first attached to the ready server under a short load to learn
which system calls it makes while serving (start-up calls do not count). Then, for every call of
the list below that the model makes and every error the kernel can return there, a fresh server
is started, strace is attached to all its processes and threads with
`-e inject=CALL:error=E:when=1..3` (the first three calls of each process or thread fail, later
ones succeed, so recovery can be seen), a bounded load runs, strace detaches once it has failed
three calls in all (the server's processes stopped meanwhile, so no thread is caught inside an
injected call), and the cell is judged:

  survived            every request of the load succeeded, the server still answers, no fd leaked
  failed the request  some requests of the load failed, but the server goes on, no fd leaked
  worker exited       the server goes on, but one of its worker processes ended badly (status or signal)
  leaked fds          the server answers, but holds more fds than before once the clients are gone
  hung                the process lives but does not answer within the timeout
  exited              the server process ended (exit status and its last stderr line are shown)
  not hit             strace injected nothing during the load (the call is off this load's path)

Every load is bounded (requests and seconds); every process started here is ended by PID.
Exit status: 0 when the matrix ran (whatever the outcomes), 2 on bad input or a broken setup.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from c10k import models, oneserver, procsample  # noqa: E402
from perfcheck import PerfCheckError  # noqa: E402
from perfcheck.insn import _Proc, _url  # noqa: E402
from perfcheck.syscalls import _wait_attached, parse_strace_summary  # noqa: E402

ROOT = os.path.dirname(HERE)
DEFAULT_BIN_DIR = os.path.join(ROOT, "build", "bin")

# (class, the call names of that class, the errors the kernel can return there)
CALL_CLASSES = [
    ("accept", ("accept4", "accept"), ("EMFILE", "ENFILE", "ECONNABORTED", "ENOBUFS", "EINTR")),
    ("read", ("read", "readv", "recvfrom", "recvmsg"), ("EINTR", "EAGAIN", "ECONNRESET", "ENOMEM")),
    ("write", ("write", "writev", "sendto", "sendmsg"), ("EINTR", "EAGAIN", "EPIPE", "ENOBUFS")),
    ("wait", ("epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "ppoll", "pselect6",
              "io_uring_enter"), ("EINTR", "EAGAIN", "ENOMEM")),
    ("spawn", ("clone", "clone3", "fork", "vfork"), ("EAGAIN",)),
    ("memory", ("mmap",), ("ENOMEM",)),
]
CALL_CLASS = {call: cls for cls, calls, _ in CALL_CLASSES for call in calls}
OUTCOMES = ("survived", "failed the request", "worker exited", "leaked fds", "hung", "exited", "not hit")

INJECT_WHEN = "1..3"      # per process/thread: three failures, then calls succeed again
INJECT_CAP = 3            # in all: strace detaches once it has failed this many calls
LOAD_REQUESTS, LOAD_CONCURRENCY = 200, 10
REQUEST_TIMEOUT_S = 5     # each request of the load and of the probes
LOAD_TIMEOUT_S = 60       # the whole load
READY_TIMEOUT_S = 20
STOP_TIMEOUT_S = 5        # from SIGTERM to the server's exit, after the cell
SETTLE_TIMEOUT_S = 5      # for the fd count to come back once the clients are gone
# Small pools keep strace's attach (one ptrace per thread/process) quick.
POOL_OPTIONS = {"threads": ["--threads", "4"], "workers": ["--workers", "2"]}


class MatrixError(Exception):
    """Bad input or a broken setup (no strace, a server that does not start): exit status 2."""


def cells_for(calls_seen):
    """(call, error) pairs of the list that apply to a model making calls_seen, in list order."""
    return [(call, err) for _, calls, errors in CALL_CLASSES for call in calls if call in calls_seen
            for err in errors]


def server_argv(bin_dir, model):
    desc = models.describe(os.path.join(bin_dir, f"server-{model}"))
    argv = [os.path.join(bin_dir, f"server-{model}"), "--host", "127.0.0.1", "--port", "0"]
    for opt in desc.get("options") or ():
        argv += POOL_OPTIONS.get(opt, [])
    return argv


def tree_fds(pids):
    """Open fds of the given live processes (threads share their process's table)."""
    total = 0
    for pid in pids:
        try:
            total += len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            pass
    return total


def probe(addr, path="/"):
    """One HTTP/1.0 request: (status, body), or (None, why) when it fails or times out."""
    return oneserver.get(addr, path, REQUEST_TIMEOUT_S)


def server_stats(addr):
    got = probe(addr, "/__stats")
    if not got or got[0] != 200:
        return None
    try:
        return json.loads(got[1])
    except ValueError:
        return None


def error_counters(stats):
    return dict((stats or {}).get("errors") or {})


def loadgen_argv(loadgen, addr, requests, concurrency, keepalive=False):
    # -l: a refusal (503) has another length than a 200; without it, ab's rule would count every
    # later 200 as a length failure.
    argv = [loadgen, "-q", "-l", "-n", str(requests), "-c", str(concurrency), "-s", str(REQUEST_TIMEOUT_S),
            "--connect-timeout", str(REQUEST_TIMEOUT_S), "--busy-poll", "0", "--json", "-"]
    return argv + (["-k"] if keepalive else []) + [_url(addr)]


def load_result(stdout, requests):
    """(completed, failed) from the loadgen's JSON: failed counts transport failures and non-2xx
    answers (a refusal is a failed request too). Without a result, every request failed."""
    try:
        res = json.loads(stdout)["summary"]
        return int(res["complete"]), int(res["failed"]) + int(res.get("non_2xx") or 0)
    except (ValueError, KeyError, TypeError):
        return 0, requests


def run_load(loadgen, addr, requests=LOAD_REQUESTS, concurrency=LOAD_CONCURRENCY, keepalive=False):
    """(completed, failed) of a bounded loadgen run; a loadgen that overruns is killed."""
    try:
        lg = subprocess.run(loadgen_argv(loadgen, addr, requests, concurrency, keepalive), capture_output=True,
                            text=True, timeout=LOAD_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return 0, requests
    return load_result(lg.stdout, requests)


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def count_injected(path):
    return read_text(path).count("(INJECTED)")


def abnormal_ends(text, server_pid):
    """'PID exited with N' / 'PID killed by SIG' for each traced process other than the server's
    own that ended badly while strace watched (a worker, a forked child)."""
    ends = []
    for pid, how in re.findall(r"^(\d+)\s+\+\+\+ (exited with [1-9]\d*|killed by \w+)", text, re.M):
        if int(pid) != server_pid:
            ends.append(f"{pid} {how}")
    return ends


def load_while_injecting(cell, loadgen, out):
    """Runs the cell's load; detaches strace as soon as it has failed INJECT_CAP calls, so that the
    rest of the load meets a server whose calls succeed again (with when=1..3 alone, a model with
    a thread or process per connection would see every connection's first calls fail).
    Returns (completed, failed, injected)."""
    with tempfile.TemporaryFile("w+") as stdout:
        lg = subprocess.Popen(loadgen_argv(loadgen, cell.addr, LOAD_REQUESTS, LOAD_CONCURRENCY), stdout=stdout,
                              stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        try:
            while lg.poll() is None and time.monotonic() < deadline:
                if cell.strace is not None and count_injected(out) >= INJECT_CAP:
                    cell.detach(quiesce=True)
                time.sleep(0.01)
        finally:
            if lg.poll() is None:
                lg.kill()
            lg.wait()
        cell.detach(quiesce=True)
        stdout.seek(0)
        completed, failed = load_result(stdout.read(), LOAD_REQUESTS)
    return completed, failed, count_injected(out)


def live_tasks(pids):
    """Thread ids (as text) of the given processes that are still alive (not zombies)."""
    tids = []
    for pid in pids:
        try:
            names = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in names:
            data = procsample._read(f"/proc/{pid}/task/{tid}/stat")
            if data and procsample.parse_stat(data)["state"] not in "ZX":
                tids.append(tid)
    return tids


class Cell:
    """One server started for one cell; knows its tree, fds and stderr; ends everything by PID."""

    def __init__(self, bin_dir, model, workdir):
        self.workdir = workdir
        self.server = _Proc(server_argv(bin_dir, model), workdir, "server", dict(os.environ))
        try:
            self.addr = self.server.wait_ready(READY_TIMEOUT_S)
        except PerfCheckError as e:
            raise MatrixError(str(e)) from None
        self.strace = None
        self.out = None
        self.quiesce_timed_out = False
        self.seen = set()

    @property
    def pid(self):
        return self.server.proc.pid

    def tree(self):
        tree = procsample.descendants(self.pid)
        self.seen.update(tree)
        return tree

    def attach(self, strace_args, tag):
        """strace -f on every process and thread of the tree, with strace_args; waits for the attach."""
        tree = self.tree()
        out = self.out = os.path.join(self.workdir, f"{tag}.strace")
        err_path = os.path.join(self.workdir, f"{tag}.strace.stderr")
        argv = ["strace", "-f", "-o", out, *strace_args]
        for pid in sorted(tree):
            argv += ["-p", str(pid)]
        with open(err_path, "wb") as err:
            self.strace = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=err)
        try:
            _wait_attached(self.strace, err_path, sum(st["num_threads"] for st in tree.values()))
        except PerfCheckError as e:
            self.detach()
            raise MatrixError(str(e)) from None
        return out

    def detach(self, quiesce=False):
        """SIGINT makes strace detach (tracees go on); SIGKILL only if it does not.

        quiesce: stop the server's processes first (SIGSTOP, then SIGCONT once strace is gone). A
        thread detached between an injected call's entry and exit would see ENOSYS from the
        replaced call number instead of the injected error, failing a request the fault did not
        fail; a stopped thread is never inside a call."""
        if self.strace is None:
            return
        frozen = self.freeze() if quiesce and self.strace.poll() is None else []
        try:
            if self.strace.poll() is None:
                self.strace.send_signal(signal.SIGINT)
                try:
                    self.strace.wait(15)
                except subprocess.TimeoutExpired:
                    self.strace.kill()
                    self.strace.wait()
        finally:
            for pid in frozen:
                try:
                    os.kill(pid, signal.SIGCONT)
                except OSError:
                    pass
        self.strace = None

    def freeze(self, timeout=5.0):
        """SIGSTOP to every process of the tree; waits until strace has seen each of their threads
        enter the group stop ('--- stopped by SIGSTOP ---'): a thread merely in a ptrace stop
        (state 't' too) may still be between an injected call's entry and exit. A process forked
        while the others were being stopped is stopped in the next round."""
        start = os.path.getsize(self.out) if os.path.exists(self.out) else 0
        deadline = time.monotonic() + timeout
        pids = set()
        while True:
            new = set(self.tree()) - pids
            if not new:
                return sorted(pids)
            for pid in sorted(new):
                try:
                    os.kill(pid, signal.SIGSTOP)
                except OSError:
                    pass
            pids |= new
            while True:
                with open(self.out, encoding="utf-8", errors="replace") as f:
                    f.seek(start)
                    stopped = set(re.findall(r"^(\d+)\s+--- stopped by SIGSTOP ---", f.read(), re.M))
                if all(tid in stopped for tid in live_tasks(pids)):
                    break
                if time.monotonic() > deadline:
                    self.quiesce_timed_out = True  # reported with the cell: its verdict is less certain
                    return sorted(pids)
                time.sleep(0.01)

    def stderr_last_line(self):
        lines = [l for l in self.server.stderr_tail(4000).splitlines() if l.strip()]
        return lines[-1].strip() if lines else ""

    def settled_fds(self, baseline=None):
        """The tree's fd count once it is back at baseline (or, without one, the same on three reads
        in a row), else its lowest within the settle time: closing takes a moment after the clients
        have gone (a forked child exiting, a loop reaching its next wake-up)."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        low, last, same = None, None, 0
        while True:
            n = tree_fds(self.tree())
            low = n if low is None else min(low, n)
            same = same + 1 if n == last else 0
            last = n
            if (baseline is not None and low <= baseline) or (baseline is None and same >= 2) \
                    or time.monotonic() > deadline:
                return low
            time.sleep(0.1)

    def close(self):
        """Ends strace, the server and anything it left; False when SIGTERM did not stop the server."""
        self.detach()
        self.tree()
        stopped = True
        if self.server.proc.poll() is None:
            self.server.proc.send_signal(signal.SIGTERM)
            try:
                self.server.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                stopped = False
                self.server.kill()
        else:
            self.server.kill()
        # Workers or children of ours left behind (a killed parent does not take them along).
        for pid in self.seen - {self.pid}:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return stopped


def profile(bin_dir, loadgen, model):
    """{syscall: calls} of the ready server under a short load (plain and keep-alive)."""
    workdir = tempfile.mkdtemp(prefix="c10k-faults-")
    cell = None
    try:
        cell = Cell(bin_dir, model, workdir)
        out = cell.attach(["-c"], "profile")
        run_load(loadgen, cell.addr, 100, 5)
        run_load(loadgen, cell.addr, 100, 5, keepalive=True)
        cell.detach()
        with open(out, encoding="utf-8", errors="replace") as f:
            return parse_strace_summary(f.read())
    except (PerfCheckError, OSError) as e:
        raise MatrixError(f"{model}: cannot profile its system calls: {e}") from None
    finally:
        if cell:
            cell.close()
        shutil.rmtree(workdir, ignore_errors=True)


def run_cell(bin_dir, loadgen, model, call, error):
    """Injects `error` into `call` of a fresh server under load; returns the cell's verdict (a dict)."""
    workdir = tempfile.mkdtemp(prefix="c10k-faults-")
    cell = None
    t0 = time.monotonic()
    result = {"model": model, "call": call, "error": error, "class": CALL_CLASS[call]}
    try:
        cell = Cell(bin_dir, model, workdir)
        # Warm up once (lazy allocations, a first thread or child), then take the baseline.
        run_load(loadgen, cell.addr, 20, 2)
        before_stats = server_stats(cell.addr)
        baseline = cell.settled_fds()
        out = cell.attach(["-e", f"trace={call}", "-e", f"inject={call}:error={error}:when={INJECT_WHEN}"],
                          "inject")
        completed, failed, injected = load_while_injecting(cell, loadgen, out)
        result.update(injected=injected, completed=completed, failed=failed,
                      ended=abnormal_ends(read_text(out), cell.pid))
        if cell.quiesce_timed_out:
            result["quiesce_timed_out"] = True
        if cell.server.proc.poll() is not None:
            result.update(outcome="exited", status=cell.server.proc.returncode, message=cell.stderr_last_line())
            return result
        answers = [probe(cell.addr) for _ in range(3)]
        if not any(a and a[0] == 200 for a in answers):
            if cell.server.proc.poll() is not None:
                result.update(outcome="exited", status=cell.server.proc.returncode,
                              message=cell.stderr_last_line())
            else:
                result.update(outcome="hung")
            return result
        after_stats = server_stats(cell.addr)
        before, after = error_counters(before_stats), error_counters(after_stats)
        result["counted"] = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
        fds = cell.settled_fds(baseline)
        result.update(fds_before=baseline, fds_after=fds)
        if injected == 0:
            result["outcome"] = "not hit"
        elif fds > baseline:
            result["outcome"] = "leaked fds"
        elif result["ended"]:
            result["outcome"] = "worker exited"
        elif failed or completed < LOAD_REQUESTS:
            result["outcome"] = "failed the request"
        else:
            result["outcome"] = "survived"
        return result
    finally:
        if cell and not cell.close() and result.get("outcome") not in (None, "exited"):
            result["ignored_sigterm"] = True
        result["seconds"] = round(time.monotonic() - t0, 1)
        shutil.rmtree(workdir, ignore_errors=True)


def clear_exit(r):
    """A fatal exit is acceptable only as a deliberate exit with a message, never as a signal."""
    st = r.get("status")
    return isinstance(st, int) and st > 0 and bool(r.get("message"))


def detail(r):
    """One short line on what happened in a cell."""
    bits = [f"{r.get('injected', 0)} injected"]
    if "completed" in r:
        bits.append(f"{r['failed']}/{LOAD_REQUESTS} requests failed")
    if r.get("outcome") == "exited":
        st = r.get("status")
        how = f"killed by signal {-st}" if isinstance(st, int) and st < 0 else f"exit status {st}"
        bits.append(f"{how}: {r.get('message') or '(no message)'}")
        if not clear_exit(r):
            bits.append("not a clear exit")
    if r.get("ended"):
        hows = {}
        for end in r["ended"]:  # "PID how": pids change from run to run, the table should not
            how = end.split(" ", 1)[1]
            hows[how] = hows.get(how, 0) + 1
        bits.append("processes ended: " + ", ".join(f"{n} {how}" for how, n in sorted(hows.items())))
    if r.get("counted"):
        bits.append("counted " + ", ".join(f"{k} +{v}" for k, v in sorted(r["counted"].items())))
    if r.get("quiesce_timed_out"):
        bits.append("(its threads did not all stop before strace detached: the server was stopped 5 s)")
    if r.get("ignored_sigterm"):
        bits.append(f"did not stop within {STOP_TIMEOUT_S} s of SIGTERM (killed)")
    if "fds_after" in r and r["fds_after"] != r["fds_before"]:
        bits.append(f"fds {r['fds_before']} -> {r['fds_after']}")
    return "; ".join(bits)


def summary_rows(results):
    by_model = {}
    for r in results:
        by_model.setdefault(r["model"], {o: 0 for o in OUTCOMES})[r["outcome"]] += 1
    return by_model


def markdown(results, meta):
    lines = ["# Fault matrix", "",
             "How each server model copes when one system call on its path fails. Generated by",
             "`scripts/fault_matrix.py --markdown docs/fault-matrix.md`; do not edit by hand.", "",
             "## How it is made", "",
             "For each model, `strace -f -c` is attached to the ready server under a short load to learn which",
             "system calls it makes while serving. For each of those calls in the list below and each error the",
             "kernel can return there, a fresh server is started, `strace -f` is attached to all its processes",
             f"and threads with `-e inject=CALL:error=ERR:when={INJECT_WHEN}` (the first three calls of that name in",
             "each process or thread fail, later ones succeed again), the loadgen sends",
             f"{LOAD_REQUESTS} requests over {LOAD_CONCURRENCY} connections (a connection per request, "
             f"{REQUEST_TIMEOUT_S} s timeout), strace",
             "detaches, and the server is probed: three plain requests, `/__stats`, and its open fds (all its",
             "processes) once the clients are gone, against the count taken before the injection.", "",
             f"strace detaches as soon as it has failed {INJECT_CAP} calls in all: a model with a thread or a process per",
             "connection would otherwise see the first calls of every connection fail. Before detaching, the",
             "server's processes are stopped (SIGSTOP, SIGCONT after): a thread detached inside an injected call",
             "would get ENOSYS instead of the injected error. Detaching takes a moment, so a few more calls than",
             f"{INJECT_CAP} may fail (the detail gives the number); models with several workers count per worker.", "",
             "| class | calls | errors injected |", "|---|---|---|"]
    for cls, calls, errors in CALL_CLASSES:
        lines.append(f"| {cls} | {', '.join(calls)} | {', '.join(errors)} |")
    lines += ["", "## How to read it", "",
              "- **survived**: every request of the load succeeded, the server still answers, no fd leaked.",
              "- **failed the request**: some requests of the load failed (the hit ones), the server goes on,"
              " no fd leaked. Right for errors that belong to one connection (ECONNRESET, EPIPE, ENOMEM).",
              "- **worker exited**: the server goes on (a new worker took over, or the others carry on), but a"
              " worker process or child it forked ended with a non-zero status or a signal.",
              "- **leaked fds**: the server answers but holds more fds than before once the clients are gone.",
              "- **hung**: the process lives but answers none of three requests within "
              f"{REQUEST_TIMEOUT_S} s after strace detached.",
              "- **exited**: the server process ended; the detail gives the exit status and its last stderr line.",
              "  A fatal exit is acceptable only with a clear message, and only for errors that leave no way on.",
              "- **not hit**: the call was on the profiled path but strace injected nothing during this load.", "",
              "Some injections are faults a kernel would not produce there: EAGAIN from read or write on a socket",
              "with data or room, EINTR from epoll_ctl. An edge-triggered loop told EAGAIN waits for an edge that",
              "does not come, so the hit connection waits for a timeout (a real EAGAIN is followed by an edge).", "",
              "The detail column: how many calls strace failed, how many of the load's requests failed, the",
              "`/__stats` error counters that grew, and the fd count before -> after when it changed.", "",
              "## Rerun", "", "```sh", "scripts/build.sh",
              "/usr/bin/python3 scripts/fault_matrix.py --markdown docs/fault-matrix.md   # every model, every cell",
              "/usr/bin/python3 scripts/fault_matrix.py --model uring --call io_uring_enter  # a slice",
              "/usr/bin/python3 scripts/fault_matrix.py --json cells.json     # the cells as JSON; --from-json"
              " cells.json --markdown FILE writes the table again without running anything",
              "```", "", "`tests/test_fault_matrix.py` runs a subset in CI: cells covering every driver family and call class,"
              " with the cells of known server defects marked `xfail` until they are fixed.",
              "", f"Last run: {meta['date']}, kernel {meta['kernel']}, {meta['cells']} cells in "
              f"{meta['seconds']:.0f} s.", "", "## Summary (cells per outcome)", "",
              "| model | " + " | ".join(OUTCOMES) + " |", "|---|" + "---|" * len(OUTCOMES)]
    for model, counts in summary_rows(results).items():
        lines.append(f"| {model} | " + " | ".join(str(counts[o]) for o in OUTCOMES) + " |")
    lines += ["", "## Cells that neither survived nor only failed the request", "",
              "| model | call | error | outcome | detail |", "|---|---|---|---|---|"]
    bad = [r for r in results if r["outcome"] not in ("survived", "failed the request")]
    for r in bad:
        lines.append(f"| {r['model']} | {r['call']} | {r['error']} | {r['outcome']} | {detail(r)} |")
    if not bad:
        lines.append("| (none) | | | | |")
    lines += ["", "## Full matrix", "", "| model | call | error | outcome | detail |", "|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['model']} | {r['call']} | {r['error']} | {r['outcome']} | {detail(r)} |")
    return "\n".join(lines) + "\n"


def read_results(path):
    """(meta, cells) of a --json file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        meta, cells = data["meta"], data["cells"]
        if not all(isinstance(c, dict) and c.get("outcome") in OUTCOMES for c in cells):
            raise ValueError("a cell without a known outcome")
        return meta, cells
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise MatrixError(f"{path}: not a fault matrix JSON file ({e})") from None


def write_outputs(args, results, meta):
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as f:
            f.write(markdown(results, meta))
    if args.json:
        text = json.dumps({"meta": meta, "cells": results}, indent=1) + "\n"
        if args.json == "-":
            sys.stdout.write(text)
        else:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin-dir", default=os.environ.get("C10K_BIN_DIR", DEFAULT_BIN_DIR))
    p.add_argument("--model", action="append", help="only this model (repeatable; default: every server-*)")
    p.add_argument("--call", action="append", help="only this system call (repeatable)")
    p.add_argument("--error", action="append", help="only this error name (repeatable)")
    p.add_argument("--markdown", metavar="FILE", help="write the matrix as Markdown")
    p.add_argument("--json", metavar="FILE", help="write the cells as JSON (- for stdout)")
    p.add_argument("--from-json", metavar="FILE", help="run nothing: read the cells of an earlier --json run "
                                                        "(to write its --markdown again)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.from_json:
            meta, results = read_results(args.from_json)
            write_outputs(args, results, meta)
            return 0
        if not shutil.which("strace"):
            raise MatrixError("strace is not installed (scripts/install-deps.sh installs it)")
        loadgen = os.path.join(args.bin_dir, "loadgen")
        if not os.access(loadgen, os.X_OK):
            raise MatrixError(f"{loadgen} is not built: run scripts/build.sh")
        errors = []
        found = [d["model"] for d in models.discover(args.bin_dir, errors)]
        if not found:
            raise MatrixError(f"no server-* binaries in {args.bin_dir}: run scripts/build.sh")
        unknown = sorted(set(args.model or ()) - set(found))
        if unknown:
            raise MatrixError(f"unknown model(s): {', '.join(unknown)} (known: {', '.join(found)})")
        bad_calls = sorted(set(args.call or ()) - set(CALL_CLASS))
        if bad_calls:
            raise MatrixError(f"call(s) not in the matrix: {', '.join(bad_calls)}")
        all_errors = {e for _, _, errs in CALL_CLASSES for e in errs}
        bad_errors = sorted(set(args.error or ()) - all_errors)
        if bad_errors:
            raise MatrixError(f"error(s) not in the matrix: {', '.join(bad_errors)}")
        t0 = time.monotonic()
        results = []
        for model in [m for m in found if not args.model or m in args.model]:
            seen = profile(args.bin_dir, loadgen, model)
            cells = [(c, e) for c, e in cells_for(seen)
                     if (not args.call or c in args.call) and (not args.error or e in args.error)]
            print(f"{model}: {len(cells)} cells ({', '.join(sorted({c for c, _ in cells}))})", file=sys.stderr)
            for call, error in cells:
                r = run_cell(args.bin_dir, loadgen, model, call, error)
                print(f"  {call:<15} {error:<13} {r['outcome']:<19} {detail(r)}", file=sys.stderr)
                results.append(r)
        meta = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "kernel": os.uname().release,
                "cells": len(results), "seconds": time.monotonic() - t0}
        write_outputs(args, results, meta)
        for model, counts in summary_rows(results).items():
            print(f"{model}: " + ", ".join(f"{o} {n}" for o, n in counts.items() if n), file=sys.stderr)
        print(f"{len(results)} cells in {meta['seconds']:.0f} s", file=sys.stderr)
        return 0
    except MatrixError as e:
        print(f"fault_matrix: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
