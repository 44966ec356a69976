#!/usr/bin/env python3
"""Instruction-count gate: instructions per request of servers and of the loadgen, under valgrind.

  scripts/insn_gate.py measure [--server MODEL|PATH ...] [--out FILE]     count, write a report
  scripts/insn_gate.py check CANDIDATE.json --baseline BASE.json          compare two reports
  scripts/insn_gate.py run --baseline BASE.json [measure options]         measure, then check

A server is measured under valgrind while the (native) loadgen sends N1 and then N2 requests on one
keep-alive connection; the loadgen is measured under valgrind against a native server. The figure
is (I(N2) - I(N1)) / (N2 - N1). See docs/perf-regression.md.

Exit status: 0 pass, 1 a target above the tolerance, 2 bad input or a failed measurement.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perfcheck import PerfCheckError, ci_formats, gate, insn, slowdown  # noqa: E402
from perfcheck.cli import parse_env  # noqa: E402

ROOT = gate.ROOT


def targets_from_args(args):
    bin_dir = gate.bin_dir(args)
    loadgen = gate.binary(bin_dir, "loadgen")
    base_args = ["--host", "127.0.0.1", "--port", "0"]
    targets = []
    server_env = parse_env(args.env, "--env")
    # The shim slows programs whose name contains the match; for a server given by path, its name.
    for spec in args.server:
        path = gate.server_path(bin_dir, spec)
        name = f"server-{spec}" if os.sep not in spec else os.path.basename(spec)
        env = dict(server_env)
        env.update(slowdown.env_for(args.slowdown_iters, match=os.path.basename(path)))
        targets.append(insn.Target(name, "server", [path] + base_args + args.server_arg, env))
    native = [gate.server_path(bin_dir, args.loadgen_server)] + base_args
    if not args.no_loadgen:
        env = parse_env(args.loadgen_env, "--loadgen-env")
        env.update(slowdown.env_for(args.loadgen_slowdown_iters, match="loadgen"))
        targets.append(insn.Target("loadgen", "loadgen", native, env, collect_fn=args.loadgen_collect,
                                   n1=args.loadgen_n1, n2=args.loadgen_n2))
    if not targets:
        raise PerfCheckError("nothing to measure: give --server or drop --no-loadgen")
    return targets, loadgen, native


def do_measure(args):
    if os.environ.get("C10K_SANITIZE") == "1":
        print("warning: C10K_SANITIZE=1: valgrind cannot run ASan binaries; use a plain build",
              file=sys.stderr)
    targets, loadgen, native = targets_from_args(args)
    report = insn.measure(targets, loadgen, native, n1=args.n1, n2=args.n2, runs=args.runs,
                          tool=args.tool, root=ROOT,
                          progress=gate.progress(args))
    for name, t in report["targets"].items():
        spread = f", spread {t['spread']:.3%} over {args.runs} runs" if args.runs > 1 else ""
        print(f"{name}: {t['insn_per_request']:,.1f} instructions/request{spread}")
    gate.write_outputs(args, report, ci_formats.insn_bmf, ci_formats.insn_github_action_benchmark)
    return report


def add_measure_options(p):
    gate.add_server_options(p, "measure")
    p.add_argument("--loadgen-env", action="append", default=[], metavar="NAME=VALUE",
                   help="environment for the measured loadgen")
    p.add_argument("--slowdown-iters", type=int, metavar="N",
                   help="inject a known slowdown into the measured servers: N extra iterations of a "
                        "multiply-add chain per write (LD_PRELOAD shim, no rebuild; about 4 instructions each)")
    p.add_argument("--loadgen-slowdown-iters", type=int, metavar="N",
                   help="the same for the measured loadgen (0 loads the shim without extra work: "
                        "its wrapper alone adds ~10 instructions per write)")
    p.add_argument("--loadgen-collect", default="thread_main", metavar="FUNCTION",
                   help="count the loadgen only inside this function (its event loop; default "
                        "%(default)s) so its exit report does not add timing-dependent noise; '' = all")
    p.add_argument("--loadgen-server", default="epoll",
                   help="native server the loadgen is measured against (default epoll)")
    p.add_argument("--no-loadgen", action="store_true", help="do not measure the loadgen")
    p.add_argument("--n1", type=int, default=insn.DEFAULT_N1, help="requests of the short run (default %(default)s)")
    p.add_argument("--n2", type=int, default=insn.DEFAULT_N2, help="requests of the long run (default %(default)s)")
    p.add_argument("--loadgen-n1", type=int, default=insn.DEFAULT_LOADGEN_N1,
                   help="requests of the loadgen's short run (default %(default)s)")
    p.add_argument("--loadgen-n2", type=int, default=insn.DEFAULT_LOADGEN_N2,
                   help="requests of the loadgen's long run (default %(default)s)")
    p.add_argument("--runs", type=int, default=1,
                   help="measure each target this many times and keep the median (default 1)")
    p.add_argument("--tool", choices=("cachegrind", "callgrind"), default="cachegrind")
    p.add_argument("--out", metavar="FILE", help="write the report (JSON; a baseline is such a report)")
    p.add_argument("--bmf", metavar="FILE", help="write Bencher Metric Format JSON")
    p.add_argument("--gab", metavar="FILE", help="write github-action-benchmark customSmallerIsBetter JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def add_check_options(p, baseline_required=True):
    gate.add_check_options(p, f"{insn.DEFAULT_TOLERANCE:.0%}", "allowed increase of instructions per request",
                           baseline_required)


def main(argv=None, prog=None):
    return gate.main(argv, __doc__, insn, "count instructions per request", add_measure_options,
                     add_check_options, do_measure, prog=prog)


if __name__ == "__main__":
    sys.exit(main())
