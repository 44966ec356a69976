#!/usr/bin/env python3
"""Save a performance baseline and check a new run against it.

  scripts/baseline.py save RESULTS_DIR [--insn INSN.json] [--dir DIR]
      copies the results folder (manifest + repetitions) to DIR/results, the instruction-count
      report to DIR/insn.json, and writes DIR/fingerprint.json (the machine it was measured on).
  scripts/baseline.py check RESULTS_DIR [--insn INSN.json] [--dir DIR] [compare options]
      warns when the environment differs (CPU model, cores, kernel; for instruction counts also
      libc, compiler, libuv, valgrind), then runs the wall-clock compare and, with --insn, the
      instruction-count check. Exit status: the worse of the two (0 pass, 1 regression, 2 error).
  scripts/baseline.py show [--dir DIR]

DIR defaults to baselines/<scenario name>.
"""
import argparse
import datetime
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perfcheck import PerfCheckError, cli, insn  # noqa: E402
from perfcheck.environment import (INSTRUCTION_KEYS, WALL_CLOCK_KEYS,  # noqa: E402
                                   environment_differences, fingerprint)
from perfcheck.results import Results, read_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KIND = "c10k-bench-baseline"


def _default_dir(args, results=None):
    if args.dir:
        return args.dir
    if results is None:
        raise PerfCheckError("--dir is required here")
    return os.path.join(ROOT, "baselines", results.scenario_name)


def _copy_results(src, dst):
    """Only what the compare tool reads: manifest.json and points/**/rep<k>.json."""
    os.makedirs(dst)
    shutil.copy2(os.path.join(src.path, "manifest.json"), os.path.join(dst, "manifest.json"))
    for (series, conc) in src.points:
        rel = os.path.join("points", series, f"c{conc}")
        os.makedirs(os.path.join(dst, rel))
        for name in os.listdir(os.path.join(src.path, rel)):
            if name.startswith("rep") and name.endswith(".json"):
                shutil.copy2(os.path.join(src.path, rel, name), os.path.join(dst, rel, name))


def do_save(args):
    results = Results(args.results)
    insn_report = insn.load_report(args.insn) if args.insn else None
    target = _default_dir(args, results)
    # Build the new baseline beside the old one and swap, so a failure leaves the old one intact.
    tmp = f"{target.rstrip(os.sep)}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _copy_results(results, os.path.join(tmp, "results"))
        if insn_report:
            cli.write_json(os.path.join(tmp, "insn.json"), insn_report)
        cli.write_json(os.path.join(tmp, "fingerprint.json"), {
            "schema_version": 1, "kind": KIND,
            "saved": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "source": os.path.abspath(args.results),
            "scenario": results.scenario_name,
            "environment": results.environment,
            "machine": fingerprint(ROOT),
            "has_insn": insn_report is not None,
        })
        old = None
        if os.path.exists(target):
            old = f"{target.rstrip(os.sep)}.old{os.getpid()}"
            os.rename(target, old)
        os.rename(tmp, target)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"baseline saved to {target} (scenario {results.scenario_name}, "
          f"{sum(len(r) for r in results.points.values())} repetitions"
          f"{', instruction counts' if insn_report else ''})")
    return cli.EXIT_PASS


def load_fingerprint(directory):
    fp = read_json(os.path.join(directory, "fingerprint.json"), "baseline fingerprint")
    if not isinstance(fp, dict) or fp.get("kind") != KIND:
        raise PerfCheckError(f"{directory}: not a baseline saved by scripts/baseline.py save")
    return fp


def machine_warnings(fp, live):
    """Differences of the build environment (libc, compiler, ...) from the baseline's machine.

    CPU model, cores and kernel are compared by the compare tool itself (from the manifests).
    """
    keys = tuple(k for k in INSTRUCTION_KEYS if k not in WALL_CLOCK_KEYS)
    return [f"baseline machine differs: {d}"
            for d in environment_differences(fp.get("machine"), live, keys)]


def do_check(args):
    candidate = Results(args.results)
    directory = _default_dir(args, candidate)
    fp = load_fingerprint(directory)
    warnings = machine_warnings(fp, fingerprint(ROOT))
    status = cli.run_compare(os.path.join(directory, "results"), args.results, args,
                             extra_warnings=warnings)
    if args.insn:
        base_insn = os.path.join(directory, "insn.json")
        if not os.path.exists(base_insn):
            raise PerfCheckError(f"{directory} has no instruction-count baseline (save with --insn)")
        baseline, cand = insn.load_report(base_insn), insn.load_report(args.insn)
        tolerance = cli.parse_fraction(args.insn_tolerance)
        rows, insn_warnings = insn.check(baseline, cand, tolerance)
        sys.stdout.write(insn.check_text(rows, insn_warnings, tolerance))
        if args.markdown:
            with open(args.markdown, "a", encoding="utf-8") as f:
                f.write("\n" + insn.check_markdown(rows, insn_warnings, tolerance))
        if any(r["verdict"] == "REGRESSION" for r in rows):
            status = cli.EXIT_REGRESSION
    return status


def do_show(args):
    directory = args.dir or os.path.join(ROOT, "baselines", "ci")
    fp = load_fingerprint(directory)
    print(f"baseline {directory}: scenario {fp.get('scenario')}, saved {fp.get('saved')} "
          f"from {fp.get('source')}")
    for key in ("cpu_model", "cores", "kernel", "hostname", "git_revision"):
        print(f"  {key}: {(fp.get('environment') or {}).get(key)}")
    for key in ("libc", "compiler", "libuv", "valgrind"):
        print(f"  {key}: {(fp.get('machine') or {}).get(key)}")
    print(f"  instruction counts: {'yes' if fp.get('has_insn') else 'no'}")
    return cli.EXIT_PASS


def main(argv=None):
    parser = argparse.ArgumentParser(description="Save a performance baseline, check a run against it.",
                                     epilog="Exit status: 0 pass, 1 regression, 2 error.")
    sub = parser.add_subparsers(dest="command", required=True)
    ps = sub.add_parser("save", help="save a results folder (+ instruction counts) as the baseline")
    ps.add_argument("results", help="results folder to keep as the baseline")
    ps.add_argument("--insn", metavar="FILE", help="instruction-count report (insn_gate.py measure --out)")
    ps.add_argument("--dir", help="baseline directory (default baselines/<scenario>)")
    pc = sub.add_parser("check", help="compare a results folder (+ instruction counts) with the baseline")
    pc.add_argument("results", help="results folder of the candidate")
    pc.add_argument("--insn", metavar="FILE", help="candidate instruction-count report")
    pc.add_argument("--insn-tolerance", default=f"{insn.DEFAULT_TOLERANCE:.0%}",
                    help="allowed increase of instructions per request (default %(default)s)")
    pc.add_argument("--dir", help="baseline directory (default baselines/<scenario>)")
    cli.add_compare_options(pc)
    pw = sub.add_parser("show", help="print a baseline's fingerprint")
    pw.add_argument("--dir", help="baseline directory (default baselines/ci)")
    args = parser.parse_args(argv)
    action = {"save": do_save, "check": do_check, "show": do_show}[args.command]
    return cli.main_wrapper(lambda: action(args))


if __name__ == "__main__":
    sys.exit(main())
