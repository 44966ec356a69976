"""The command line of the per-request gates (scripts/insn_gate.py, scripts/syscall_gate.py): each
measures a report, checks a report against a baseline report, or does both (`run`); they differ in
what they count. Exit status: 0 pass, 1 regression, 2 error."""
import argparse
import os
import sys

from . import PerfCheckError
from .cli import EXIT_ERROR, EXIT_PASS, EXIT_REGRESSION, main_wrapper, parse_fraction, write_json, write_text

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bin_dir(args):
    return args.bin_dir or os.environ.get("C10K_BIN_DIR") or os.path.join(ROOT, "build", "bin")


def binary(directory, name_or_path):
    """A program of the bin dir by name, or any program by path; an error unless it can run."""
    path = name_or_path if os.sep in name_or_path else os.path.join(directory, name_or_path)
    if not os.access(path, os.X_OK):
        raise PerfCheckError(f"{path}: not an executable (build first: scripts/build.sh)")
    return path


def server_path(directory, spec):
    """--server MODEL (server-MODEL in the bin dir) or PATH."""
    return binary(directory, spec if os.sep in spec else f"server-{spec}")


def add_server_options(p, verb):
    """--bin-dir, --server, --server-arg, --env: which servers a gate measures, and how they run."""
    p.add_argument("--bin-dir", help="where server-* and loadgen are (default $C10K_BIN_DIR or build/bin)")
    p.add_argument("--server", action="append", metavar="MODEL|PATH",
                   help=f"server to {verb} (repeatable; default epoll). A PATH is any server that "
                        "takes --host/--port 0 and prints 'listening on HOST:PORT'")
    p.add_argument("--server-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for the measured servers, e.g. --server-arg=--body-bytes=64")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                   help="environment for the measured servers, e.g. C10K_EXTRA_WORK_ITERS=100")


def add_check_options(p, tolerance_default, tolerance_help, baseline_required=True):
    p.add_argument("--baseline", required=baseline_required, metavar="FILE",
                   help="baseline report (from 'measure --out')")
    p.add_argument("--tolerance", default=tolerance_default, help=tolerance_help + " (default %(default)s)")
    p.add_argument("--markdown", metavar="FILE", help="write a Markdown summary")


def progress(args):
    """Where measure's progress lines go: stderr, unless --quiet."""
    return (lambda m: print(m, file=sys.stderr)) if not args.quiet else None


def write_outputs(args, report, bmf, gab):
    """--out: the report; --bmf and --gab: the report in CI formats, made by bmf(report) and gab(report)."""
    if args.out:
        write_json(args.out, report)
    if args.bmf:
        write_json(args.bmf, bmf(report))
    if args.gab:
        write_json(args.gab, gab(report))


def do_check(kind, candidate, args):
    """Compares a candidate report with --baseline; kind is the gate's module (load_report, check,
    check_text, check_markdown, regressed)."""
    baseline = kind.load_report(args.baseline)
    tolerance = parse_fraction(args.tolerance)
    rows, warnings = kind.check(baseline, candidate, tolerance)
    sys.stdout.write(kind.check_text(rows, warnings, tolerance))
    if args.markdown:
        write_text(args.markdown, kind.check_markdown(rows, warnings, tolerance))
    return EXIT_REGRESSION if kind.regressed(rows) else EXIT_PASS


def main(argv, doc, kind, what, add_measure_options, add_gate_check_options, do_measure, commands=(), prog=None):
    """Parses measure / check / run (and the gate's own `commands`: (name, help, add_options,
    do(args) -> status) each) and runs one. add_measure_options(p) adds what measure and run take,
    add_gate_check_options(p, baseline_required) what check and run take."""
    parser = argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0],
                                     epilog="Exit status: 0 pass, 1 regression, 2 error.")
    sub = parser.add_subparsers(dest="command", required=True)
    add_measure_options(sub.add_parser("measure", help=f"{what} and write a report"))
    pc = sub.add_parser("check", help="compare a report with a baseline report")
    pc.add_argument("candidate", help="report from 'measure --out'")
    add_gate_check_options(pc, True)
    pr = sub.add_parser("run", help="measure, then check against --baseline")
    add_measure_options(pr)
    add_gate_check_options(pr, True)
    actions = {}
    for name, help_text, add_options, action in commands:
        add_options(sub.add_parser(name, help=help_text))
        actions[name] = action
    args = parser.parse_args(argv)
    if getattr(args, "server", None) is None and args.command != "check":
        args.server = ["epoll"]
    if getattr(args, "runs", 1) < 1:
        parser.error("--runs must be >= 1")

    def go():
        if args.command == "measure":
            do_measure(args)
            return EXIT_PASS
        if args.command == "check":
            return do_check(kind, kind.load_report(args.candidate), args)
        if args.command in actions:
            return actions[args.command](args)
        kind.load_report(args.baseline)  # fail before spending time measuring
        return do_check(kind, do_measure(args), args)
    status = main_wrapper(go)
    return status if status in (EXIT_PASS, EXIT_REGRESSION) else EXIT_ERROR
