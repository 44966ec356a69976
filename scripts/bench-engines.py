#!/usr/bin/python3
"""The loadgen's two engines beside uring-floor: client CPU per keep-alive request.

server-epoll runs on cpu 0, each client on cpu 1 (taskset); every round runs
`loadgen --engine readiness`, `loadgen --engine uring` and `uring-floor` in turn, each with -n
requests over -c connections. CPU per request = the client's user+system time (its rusage) / the
requests it completed. Prints every round, the medians and their ratio to uring-floor's.
Run on a quiet machine; figures are only comparable within one sitting.

usage: scripts/bench-engines.py [--bin DIR] [-c C] [-n N] [--rounds R] [-- extra loadgen args]"""
import argparse
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c10k import benchtools, readyline  # noqa: E402
from c10k.bench_loadgen import response_bytes  # noqa: E402


def cpu_per_request(run, name):
    m = re.search(r"Complete requests:\s+(\d+)", run.stdout) or re.search(r"requests (\d+)", run.stdout)
    failed = re.search(r"Failed requests:\s+(\d+)", run.stdout)
    if run.returncode != 0 or not m or (failed and int(failed.group(1))):
        sys.exit(f"bench-engines: {name} failed (status {run.returncode}):\n{run.stdout}{run.stderr}")
    return run.cpu_s / int(m.group(1)) * 1e6


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(root, "build", "bin"))
    ap.add_argument("-c", type=int, default=100)
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("extra", nargs="*", help="more loadgen arguments (after --)")
    a = ap.parse_args()
    srv = subprocess.Popen(benchtools.pinned([os.path.join(a.bin, "server-epoll"), "--port", "0"], [0]),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        host, port = readyline.parse(srv.stdout.readline())
        url = f"http://{host}:{port}/"
        lg = [os.path.join(a.bin, "loadgen"), "-q", "-k", "-n", str(a.n), "-c", str(a.c), *a.extra]
        cmds = {"readiness": [*lg[:1], "--engine", "readiness", *lg[1:], url],
                "uring": [*lg[:1], "--engine", "uring", *lg[1:], url],
                "uring-floor": [os.path.join(a.bin, "uring-floor"), str(port), str(a.c), str(a.n),
                                str(response_bytes(url))]}
        for name, cmd in cmds.items():
            print(f"{name}: taskset -c 1 {' '.join(cmd)}")
        res = {k: [] for k in cmds}
        for r in range(a.rounds):
            for name, cmd in cmds.items():
                res[name].append(cpu_per_request(benchtools.run_pinned(cmd, [1], 600), name))
            print(f"round {r + 1}: " + "  ".join(f"{k} {v[-1]:.2f}" for k, v in res.items()), flush=True)
        floor = statistics.median(res["uring-floor"])
        for k, v in res.items():
            med = statistics.median(v)
            print(f"{k:12s} median {med:7.2f} us CPU/request  {med / floor:.2f}x uring-floor")
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    main()
