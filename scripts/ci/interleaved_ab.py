#!/usr/bin/env python3
"""Interleaved A/B: run a scenario with two builds taking turns in one session, then compare.

  scripts/ci/interleaved_ab.py --baseline-bin OLD/bin --candidate-bin NEW/bin [--scenario ci]
        [--rounds N] [--candidate-env NAME=VALUE ...] [--out DIR] [--quick] [compare options]

Round k runs the whole scenario once with each build (order A B, then B A, ...); the rounds are
merged into OUT/baseline/<scenario>-<stamp> and OUT/candidate/<scenario>-<stamp> (ordinary results
folders, rep<k> = round k) and compared with the same statistics as scripts/compare.py.
Why: see docs/perf-regression.md ("Why interleave").

The wall-clock verdict misses changes of a few percent on a shared machine (one more system call per
request costs about that). So both sides' servers also have their system calls per request counted
(strace, as scripts/syscall_gate.py does; deterministic, a few seconds per server), and a count that
grows fails the gate too: --syscalls MODEL chooses the servers (default: the scenario's own models),
--syscalls none skips the count.

Exit status: 0 pass, 1 regression, 2 bad input or a failed run.
"""
import argparse
import datetime
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import scenario  # noqa: E402
from perfcheck import PerfCheckError, cli, interleave, syscalls  # noqa: E402
from perfcheck.cli import EXIT_PASS, EXIT_REGRESSION, parse_env  # noqa: E402
from perfcheck.insn import regressed  # noqa: E402


def scenario_path(name):
    if os.sep in name or name.endswith(".json"):
        return name
    return os.path.join(ROOT, "scenarios", f"{name}.json")


def syscall_models(args, path):
    """The servers whose system calls per request are counted: --syscalls, or the scenario's models."""
    if args.syscalls == ["none"]:
        return []
    if args.syscalls:
        return args.syscalls
    try:
        return [s.server for s in scenario.load(path, quick=args.quick).series if s.kind == "server"]
    except scenario.ScenarioError as e:
        raise PerfCheckError(str(e)) from None


def count_syscalls(models, base, cand, loadgen, log):
    """Counts both sides' calls per request and prints the check; EXIT_REGRESSION when one grew."""
    reports = {}
    for side in (base, cand):
        targets = []
        for model in models:
            path = os.path.join(side.bin_dir, model if model.startswith("server-") else f"server-{model}")
            if not os.access(path, os.X_OK):
                raise PerfCheckError(f"--syscalls {model}: no {path}")
            targets.append(syscalls.Target(os.path.basename(path),
                                           [path, "--host", "127.0.0.1", "--port", "0"], side.env))
        log(f"counting system calls per request of the {side.name}: {', '.join(models)}")
        reports[side.name] = syscalls.measure(targets, loadgen)
    rows, warnings = syscalls.check(reports["baseline"], reports["candidate"])
    sys.stdout.write(syscalls.check_text(rows, warnings, syscalls.DEFAULT_TOLERANCE))
    return EXIT_REGRESSION if regressed(rows) else EXIT_PASS


def main(argv=None, prog=None):
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[1],
                                epilog="Exit status: 0 pass, 1 regression, 2 error.")
    p.add_argument("--scenario", default="ci", help="scenario name or file (default ci)")
    p.add_argument("--baseline-bin", required=True, help="bin dir of the baseline build")
    p.add_argument("--candidate-bin", help="bin dir of the candidate build (default: the baseline's: A/A)")
    p.add_argument("--baseline-env", action="append", default=[], metavar="NAME=VALUE",
                   help="environment for the baseline's runs")
    p.add_argument("--candidate-env", action="append", default=[], metavar="NAME=VALUE",
                   help="environment for the candidate's runs, e.g. C10K_EXTRA_WORK_US=1 to inject a slowdown")
    p.add_argument("--loadgen-from", choices=("candidate", "baseline", "own"), default="candidate",
                   help="whose loadgen both sides measure with (default candidate: the instrument "
                        "stays fixed, so a loadgen change cannot look like a server change)")
    p.add_argument("--rounds", type=int, help="rounds (default: the scenario's repeats)")
    p.add_argument("--quick", action="store_true", help="use the scenario's quick settings")
    p.add_argument("--out", help="where the two merged folders go (default results/ab-<stamp>)")
    p.add_argument("--syscalls", action="append", metavar="MODEL",
                   help="count the system calls per request of this model's server for both sides "
                        "(repeatable; default: the scenario's models; 'none' skips): deterministic, "
                        "catches one extra call per request that the wall-clock verdict can miss")
    cli.add_compare_options(p)
    args = p.parse_args(argv)
    args.allow_quick = args.allow_quick or args.quick  # asked for: a smoke test of the pipeline

    def go():
        cli.options_from_args(args)  # reject bad compare options before running anything
        out = args.out or os.path.join(ROOT, "results",
                                       "ab-" + datetime.datetime.now().strftime("%Y%m%d-%H%M%S"))
        base = interleave.Side("baseline", os.path.abspath(args.baseline_bin),
                               parse_env(args.baseline_env, "--baseline-env"))
        cand = interleave.Side("candidate", os.path.abspath(args.candidate_bin or args.baseline_bin),
                               parse_env(args.candidate_env, "--candidate-env"))
        log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        path = scenario_path(args.scenario)
        models = syscall_models(args, path)
        bdir, cdir = interleave.run(path, base, cand, out,
                                    rounds=args.rounds, quick=args.quick, log=log,
                                    loadgen_from=args.loadgen_from)
        print(f"baseline: {bdir}\ncandidate: {cdir}", flush=True)
        status = cli.run_compare(bdir, cdir, args)
        if models:
            loadgen = (base if args.loadgen_from == "baseline" else cand).loadgen
            status = max(status, count_syscalls(models, base, cand, loadgen, log))
        return status
    return cli.main_wrapper(go)


if __name__ == "__main__":
    sys.exit(main())
