#!/usr/bin/env python3
"""Print the environment that injects a known slowdown into server-* programs (no rebuild).

  env $(scripts/ci/slowdown_env.py 400) scripts/run_scenario.py ci
  scripts/ci/slowdown_env.py 400 --match loadgen     (slow the loadgen instead)

N = extra iterations of a multiply-add chain before every write/writev/send/sendmsg: about 4
instructions and ~1.1 ns each on this machine (scripts/perfcheck/slowdown_preload.c).
"""
import argparse
import os
import shlex
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from perfcheck import PerfCheckError, slowdown  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description="Environment for a known, injected slowdown.")
    p.add_argument("iters", type=int, help="extra multiply-add iterations per write (0..1e9)")
    p.add_argument("--match", default="server-", help="slow programs whose name contains this")
    args = p.parse_args(argv)
    try:
        env = slowdown.env_for(args.iters, match=args.match)
    except PerfCheckError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(" ".join(f"{k}={shlex.quote(v)}" for k, v in env.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
