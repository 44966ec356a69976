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
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perfcheck import PerfCheckError, ci_formats, insn, slowdown  # noqa: E402
from perfcheck.cli import (EXIT_ERROR, EXIT_PASS, EXIT_REGRESSION, main_wrapper, parse_env,  # noqa: E402
                           parse_fraction, write_json, write_text)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bin_dir(args):
    return args.bin_dir or os.environ.get("C10K_BIN_DIR") or os.path.join(ROOT, "build", "bin")


def _binary(bin_dir, name_or_path):
    path = name_or_path if os.sep in name_or_path else os.path.join(bin_dir, name_or_path)
    if not os.access(path, os.X_OK):
        raise PerfCheckError(f"{path}: not an executable (build first: scripts/build.sh)")
    return path


def _server_path(bin_dir, spec):
    return _binary(bin_dir, spec if os.sep in spec else f"server-{spec}")


def targets_from_args(args):
    bin_dir = _bin_dir(args)
    loadgen = _binary(bin_dir, "loadgen")
    base_args = ["--host", "127.0.0.1", "--port", "0"]
    targets = []
    server_env = parse_env(args.env, "--env")
    # The shim slows programs whose name contains the match; for a server given by path, its name.
    for spec in args.server:
        path = _server_path(bin_dir, spec)
        name = f"server-{spec}" if os.sep not in spec else os.path.basename(spec)
        env = dict(server_env)
        env.update(slowdown.env_for(args.slowdown_iters, match=os.path.basename(path)))
        targets.append(insn.Target(name, "server", [path] + base_args + args.server_arg, env))
    native = [_server_path(bin_dir, args.loadgen_server)] + base_args
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
                          progress=lambda m: print(m, file=sys.stderr) if not args.quiet else None)
    for name, t in report["targets"].items():
        spread = f", spread {t['spread']:.3%} over {args.runs} runs" if args.runs > 1 else ""
        print(f"{name}: {t['insn_per_request']:,.1f} instructions/request{spread}")
    if args.out:
        write_json(args.out, report)
    if args.bmf:
        write_json(args.bmf, ci_formats.insn_bmf(report))
    if args.gab:
        write_json(args.gab, ci_formats.insn_github_action_benchmark(report))
    return report


def do_check(candidate, args):
    baseline = insn.load_report(args.baseline)
    tolerance = parse_fraction(args.tolerance)
    rows, warnings = insn.check(baseline, candidate, tolerance)
    sys.stdout.write(insn.check_text(rows, warnings, tolerance))
    if args.markdown:
        write_text(args.markdown, insn.check_markdown(rows, warnings, tolerance))
    return EXIT_REGRESSION if any(r["verdict"] == "REGRESSION" for r in rows) else EXIT_PASS


def add_measure_options(p):
    p.add_argument("--bin-dir", help="where server-* and loadgen are (default $C10K_BIN_DIR or build/bin)")
    p.add_argument("--server", action="append", metavar="MODEL|PATH",
                   help="server to measure (repeatable; default epoll). A PATH is any server that "
                        "takes --host/--port 0 and prints 'listening on HOST:PORT'")
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for the measured servers, e.g. --server-arg=--body-bytes=64")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="environment for the measured servers, e.g. C10K_EXTRA_WORK_ITERS=100")
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
    p.add_argument("--baseline", required=baseline_required, metavar="FILE",
                   help="baseline report (from 'measure --out')")
    p.add_argument("--tolerance", default=f"{insn.DEFAULT_TOLERANCE:.0%}",
                   help="allowed increase of instructions per request (default %(default)s)")
    p.add_argument("--markdown", metavar="FILE", help="write a Markdown summary")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Exit status: 0 pass, 1 regression, 2 error.")
    sub = parser.add_subparsers(dest="command", required=True)
    pm = sub.add_parser("measure", help="count instructions per request and write a report")
    add_measure_options(pm)
    pc = sub.add_parser("check", help="compare a report with a baseline report")
    pc.add_argument("candidate", help="report from 'measure --out'")
    add_check_options(pc)
    pr = sub.add_parser("run", help="measure, then check against --baseline")
    add_measure_options(pr)
    add_check_options(pr)
    args = parser.parse_args(argv)
    if getattr(args, "server", None) is None and args.command != "check":
        args.server = ["epoll"]

    def go():
        if args.command == "measure":
            do_measure(args)
            return EXIT_PASS
        if args.command == "check":
            return do_check(insn.load_report(args.candidate), args)
        insn.load_report(args.baseline)  # fail before spending minutes measuring
        return do_check(do_measure(args), args)
    status = main_wrapper(go)
    return status if status in (EXIT_PASS, EXIT_REGRESSION) else EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
