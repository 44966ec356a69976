#!/usr/bin/env python3
"""System-call gate: system calls per request of servers, by name, counted with strace.

  scripts/syscall_gate.py measure [--server MODEL|PATH ...] [--out FILE]     count, write a report
  scripts/syscall_gate.py check CANDIDATE.json --baseline BASE.json          compare two reports
  scripts/syscall_gate.py run --baseline BASE.json [measure options]         measure, then check
  scripts/syscall_gate.py validate [--runs 10] [--server MODEL]              spread and detection

A server runs under `strace -f -c` while the loadgen sends N1 and then N2 requests on one keep-alive
connection; the figure per system call is (calls(N2) - calls(N1)) / (N2 - N1). `validate` measures
the spread over --runs runs and whether a candidate with one extra fcntl(F_GETFL) before each read
(an LD_PRELOAD shim) is caught in every run. See docs/perf-regression.md.

Exit status: 0 pass, 1 a count above the tolerance (or, for validate, a missed detection),
2 bad input or a failed measurement.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perfcheck import PerfCheckError, slowdown, syscalls  # noqa: E402
from perfcheck.cli import (EXIT_ERROR, EXIT_PASS, EXIT_REGRESSION, main_wrapper, parse_env,  # noqa: E402
                           parse_fraction, write_json, write_text)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bin_dir(args):
    return args.bin_dir or os.environ.get("C10K_BIN_DIR") or os.path.join(ROOT, "build", "bin")


def _binary(path):
    if not os.access(path, os.X_OK):
        raise PerfCheckError(f"{path}: not an executable (build first: scripts/build.sh)")
    return path


def targets_from_args(args, extra_env=None):
    bin_dir = _bin_dir(args)
    env = parse_env(args.env, "--env")
    env.update(extra_env or {})
    targets = []
    for spec in args.server:
        path = _binary(spec if os.sep in spec else os.path.join(bin_dir, f"server-{spec}"))
        name = os.path.basename(path)
        targets.append(syscalls.Target(name, [path, "--host", "127.0.0.1", "--port", "0"] + args.server_arg, env))
    return targets, _binary(os.path.join(bin_dir, "loadgen"))


def _progress(args):
    return (lambda m: print(m, file=sys.stderr)) if not args.quiet else None


def write_outputs(report, args):
    if args.out:
        write_json(args.out, report)
    if args.bmf:
        write_json(args.bmf, syscalls.bmf(report))
    if args.gab:
        write_json(args.gab, syscalls.github_action_benchmark(report))


def do_measure(args):
    extra = slowdown.extra_syscall_env() if args.extra_fcntl else None
    targets, loadgen = targets_from_args(args, extra)
    report = syscalls.measure(targets, loadgen, n1=args.n1, n2=args.n2, runs=args.runs, root=ROOT,
                              progress=_progress(args))
    for name, t in report["targets"].items():
        top = sorted(t["per_request"].items(), key=lambda kv: -kv[1])
        detail = ", ".join(f"{sc} {v:.3f}" for sc, v in top if v >= syscalls.SHOWN_MIN)
        print(f"{name}: {t['total_per_request']:.3f} system calls/request ({detail})")
    write_outputs(report, args)
    return report


def do_check(candidate, args):
    baseline = syscalls.load_report(args.baseline)
    tolerance = parse_fraction(args.tolerance)
    rows, warnings = syscalls.check(baseline, candidate, tolerance)
    sys.stdout.write(syscalls.check_text(rows, warnings, tolerance))
    if args.markdown:
        write_text(args.markdown, syscalls.check_markdown(rows, warnings, tolerance))
    return EXIT_REGRESSION if syscalls.regressed(rows) else EXIT_PASS


def do_validate(args):
    """Spread of the plain build over --runs runs, then the one-extra-fcntl candidate against the
    first run as baseline, --runs times: how many times the gate catches it."""
    tolerance = parse_fraction(args.tolerance)
    targets, loadgen = targets_from_args(args)
    bad_targets, _ = targets_from_args(args, slowdown.extra_syscall_env())
    progress = _progress(args)
    plain = [syscalls.measure(targets, loadgen, args.n1, args.n2, 1, ROOT, progress) for _ in range(args.runs)]
    baseline = plain[0]
    false_alarms = sum(bool(syscalls.regressed(syscalls.check(baseline, r, tolerance)[0])) for r in plain[1:])
    caught, deltas = 0, []
    for _ in range(args.runs):
        cand = syscalls.measure(bad_targets, loadgen, args.n1, args.n2, 1, ROOT, progress)
        rows, _ = syscalls.check(baseline, cand, tolerance)
        caught += bool(syscalls.regressed(rows))
        deltas += [r["delta"] for r in rows if r["syscall"] == "fcntl"]
    lines = [f"## System-call gate validation ({args.runs} runs, N1={args.n1}, N2={args.n2}, "
             f"tolerance {tolerance:g} calls/request)", "",
             "| target | total calls/request (median) | min | max | spread (max - min) |",
             "|---|---:|---:|---:|---:|"]
    for name in baseline["targets"]:
        totals = [r["targets"][name]["total_per_request"] for r in plain]
        lines.append(f"| {name} | {sorted(totals)[len(totals) // 2]:.4f} | {min(totals):.4f} | {max(totals):.4f} "
                     f"| {max(totals) - min(totals):.4f} |")
    lines += ["", "Largest spread of one system call's count per request across the runs:", ""]
    for name in baseline["targets"]:
        spread = {}
        for r in plain:
            for sc, v in r["targets"][name]["per_request"].items():
                lo, hi = spread.get(sc, (v, v))
                spread[sc] = (min(lo, v), max(hi, v))
        widest = sorted(spread.items(), key=lambda kv: kv[1][0] - kv[1][1])[:3]
        lines.append(f"- {name}: " + ", ".join(f"{sc} {lo:.4f}..{hi:.4f}" for sc, (lo, hi) in widest))
    lines += ["", f"- plain runs flagged against the first (false alarms): {false_alarms} of {args.runs - 1}",
              f"- one extra fcntl(F_GETFL) before each read caught: **{caught} of {args.runs}** "
              f"(fcntl per request up by {min(deltas or [0]):.3f}..{max(deltas or [0]):.3f})"]
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.markdown:
        write_text(args.markdown, text)
    return EXIT_PASS if caught == args.runs and not false_alarms else EXIT_REGRESSION


def add_measure_options(p):
    p.add_argument("--bin-dir", help="where server-* and loadgen are (default $C10K_BIN_DIR or build/bin)")
    p.add_argument("--server", action="append", metavar="MODEL|PATH",
                   help="server to count (repeatable; default epoll). A PATH is any server that takes "
                        "--host/--port 0 and prints 'listening on HOST:PORT'")
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for the servers, e.g. --server-arg=--body-bytes=64")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment for the servers")
    p.add_argument("--n1", type=int, default=syscalls.DEFAULT_N1,
                   help="requests of the short run (default %(default)s)")
    p.add_argument("--n2", type=int, default=syscalls.DEFAULT_N2,
                   help="requests of the long run (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def add_output_options(p):
    p.add_argument("--runs", type=int, default=1, help="count each server this many times, keep the median")
    p.add_argument("--extra-fcntl", action="store_true",
                   help="count a candidate that makes one extra fcntl(F_GETFL) before each read (LD_PRELOAD shim)")
    p.add_argument("--out", metavar="FILE", help="write the report (JSON; a baseline is such a report)")
    p.add_argument("--bmf", metavar="FILE", help="write Bencher Metric Format JSON")
    p.add_argument("--gab", metavar="FILE", help="write github-action-benchmark customSmallerIsBetter JSON")


def add_check_options(p, baseline_required=True):
    if baseline_required:
        p.add_argument("--baseline", required=True, metavar="FILE", help="baseline report (from 'measure --out')")
    p.add_argument("--tolerance", default=f"{syscalls.DEFAULT_TOLERANCE:g}",
                   help="allowed increase of one system call's count per request, and of the total "
                        "(default %(default)s calls per request)")
    p.add_argument("--markdown", metavar="FILE", help="write a Markdown summary")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Exit status: 0 pass, 1 regression, 2 error.")
    sub = parser.add_subparsers(dest="command", required=True)
    pm = sub.add_parser("measure", help="count system calls per request and write a report")
    add_measure_options(pm)
    add_output_options(pm)
    pc = sub.add_parser("check", help="compare a report with a baseline report")
    pc.add_argument("candidate", help="report from 'measure --out'")
    add_check_options(pc)
    pr = sub.add_parser("run", help="measure, then check against --baseline")
    add_measure_options(pr)
    add_output_options(pr)
    add_check_options(pr)
    pv = sub.add_parser("validate", help="spread over --runs runs and detection of one extra syscall per read")
    add_measure_options(pv)
    pv.add_argument("--runs", type=int, default=10, help="runs of each build (default %(default)s)")
    add_check_options(pv, baseline_required=False)
    args = parser.parse_args(argv)
    if getattr(args, "server", None) is None and args.command != "check":
        args.server = ["epoll"]
    if getattr(args, "runs", 1) < 1 or (args.command == "validate" and args.runs < 2):
        parser.error("--runs must be >= 1 (>= 2 for validate)")

    def go():
        if args.command == "measure":
            do_measure(args)
            return EXIT_PASS
        if args.command == "check":
            return do_check(syscalls.load_report(args.candidate), args)
        if args.command == "validate":
            return do_validate(args)
        syscalls.load_report(args.baseline)  # fail before spending time measuring
        return do_check(do_measure(args), args)
    status = main_wrapper(go)
    return status if status in (EXIT_PASS, EXIT_REGRESSION) else EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
