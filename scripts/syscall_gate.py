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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perfcheck import PerfCheckError, gate, slowdown, syscalls  # noqa: E402
from perfcheck.cli import EXIT_PASS, EXIT_REGRESSION, parse_env, parse_fraction, write_text  # noqa: E402

ROOT = gate.ROOT


def targets_from_args(args, extra_env=None):
    bin_dir = gate.bin_dir(args)
    env = parse_env(args.env, "--env")
    env.update(extra_env or {})
    targets = []
    for spec in args.server:
        path = gate.server_path(bin_dir, spec)
        name = os.path.basename(path)
        targets.append(syscalls.Target(name, [path, "--host", "127.0.0.1", "--port", "0"] + args.server_arg, env))
    return targets, gate.binary(bin_dir, "loadgen")


def do_measure(args):
    extra = slowdown.extra_syscall_env() if args.extra_fcntl else None
    targets, loadgen = targets_from_args(args, extra)
    report = syscalls.measure(targets, loadgen, n1=args.n1, n2=args.n2, runs=args.runs, root=ROOT,
                              progress=gate.progress(args))
    for name, t in report["targets"].items():
        top = sorted(t["per_request"].items(), key=lambda kv: -kv[1])
        detail = ", ".join(f"{sc} {v:.3f}" for sc, v in top if v >= syscalls.SHOWN_MIN)
        print(f"{name}: {t['total_per_request']:.3f} system calls/request ({detail})")
    gate.write_outputs(args, report, syscalls.bmf, syscalls.github_action_benchmark)
    return report


def do_validate(args):
    """Spread of the plain build over --runs runs, then the one-extra-fcntl candidate against the
    first run as baseline, --runs times: how many times the gate catches it."""
    if args.runs < 2:
        raise PerfCheckError("validate wants --runs >= 2")
    tolerance = parse_fraction(args.tolerance)
    targets, loadgen = targets_from_args(args)
    bad_targets, _ = targets_from_args(args, slowdown.extra_syscall_env())
    progress = gate.progress(args)
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
    gate.add_server_options(p, "count")
    p.add_argument("--n1", type=int, default=syscalls.DEFAULT_N1,
                   help="requests of the short run (default %(default)s)")
    p.add_argument("--n2", type=int, default=syscalls.DEFAULT_N2,
                   help="requests of the long run (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def add_measure_and_output_options(p):
    add_measure_options(p)
    p.add_argument("--runs", type=int, default=1, help="count each server this many times, keep the median")
    p.add_argument("--extra-fcntl", action="store_true",
                   help="count a candidate that makes one extra fcntl(F_GETFL) before each read (LD_PRELOAD shim)")
    p.add_argument("--out", metavar="FILE", help="write the report (JSON; a baseline is such a report)")
    p.add_argument("--bmf", metavar="FILE", help="write Bencher Metric Format JSON")
    p.add_argument("--gab", metavar="FILE", help="write github-action-benchmark customSmallerIsBetter JSON")


def add_check_options(p, baseline_required=True):
    gate.add_check_options(p, f"{syscalls.DEFAULT_TOLERANCE:g}",
                           "allowed increase of one system call's count per request, and of the total "
                           "(calls per request)", baseline_required)


def add_validate_options(p):
    add_measure_options(p)
    p.add_argument("--runs", type=int, default=10, help="runs of each build (default %(default)s)")
    add_check_options(p, baseline_required=False)


def main(argv=None, prog=None):
    validate = ("validate", "spread over --runs runs and detection of one extra syscall per read",
                add_validate_options, do_validate)
    return gate.main(argv, __doc__, syscalls, "count system calls per request", add_measure_and_output_options,
                     add_check_options, do_measure, [validate], prog=prog)


if __name__ == "__main__":
    sys.exit(main())
