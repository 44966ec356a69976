"""The `c10k` command: one front-end for running scenarios, plotting, comparing and benchmarking.

    c10k run SCENARIO [--quick] [--out DIR] ...   run a scenario (shipped name or path to a file)
    c10k check SCENARIO [--quick]                 machine limits and the plan, nothing run
    c10k plot RESULTS_DIR [RESULTS_DIR ...]       plots and HTML report (several folders: overlaid)
    c10k compare BASELINE_DIR CANDIDATE_DIR       statistical regression gate over two folders
    c10k gate ab|insn|syscalls|calibrate ...      the regression gates (--help: when to use which)
    c10k bench servers|loadgen [--quick] ...      the servers' and the loadgen's benchmarks
    c10k demo                                     the c10k scenario's quick sweep (--help: what it runs)
    c10k scenarios [NAME]                         the shipped scenarios, or one in full
    c10k --version                                the version the binaries were built as

Every subcommand takes --help. Binaries are found next to the command when installed
(<prefix>/bin), else in build/bin of the checkout; --bin-dir or $C10K_BIN_DIR override that.
"""
import argparse
import os
import shutil
import sys

from . import DEFAULT_BIN_DIR, INSTALLED, ROOT

USAGE = __doc__.split("\n\n")[1]


def _bin_dir(argv):
    """--bin-dir DIR taken out of argv (for the commands that do not parse it themselves)."""
    for i, a in enumerate(argv):
        if a == "--bin-dir" and i + 1 < len(argv):
            return argv[i + 1], argv[:i] + argv[i + 2:]
        if a.startswith("--bin-dir="):
            return a.split("=", 1)[1], argv[:i] + argv[i + 1:]
    return os.environ.get("C10K_BIN_DIR") or DEFAULT_BIN_DIR, argv


def _run(argv):
    from . import runner
    return runner.main(argv, prog="c10k run", command=f"{sys.argv[0]} run")


def _check(argv):
    from . import runner
    return runner.main([*argv, "--check"], prog="c10k check")


def _plot(argv):
    return plot_main(argv, prog="c10k plot")


def _compare(argv):
    from perfcheck import cli  # perfcheck sits beside this package
    return cli.compare_main(argv, prog="c10k compare")


def _gate(argv):
    from perfcheck import gatecmd  # perfcheck sits beside this package
    return gatecmd.main(argv, prog="c10k gate")


def _bench(argv):
    from . import bench_loadgen, bench_servers, benchtools
    kinds = {"servers": bench_servers, "loadgen": bench_loadgen}
    if not argv or argv[0] not in kinds:
        print("usage: c10k bench servers|loadgen [--quick] [options]  (--help after the kind lists them)",
              file=sys.stderr)
        return 2
    bin_dir, rest = _bin_dir(argv[1:])
    try:
        return kinds[argv[0]].run(bin_dir, rest)
    except benchtools.BenchError as e:
        print(f"c10k bench {argv[0]}: error: {e}", file=sys.stderr)
        return 2


def _demo(argv):
    from . import demo
    return demo.main(argv)


def _scenarios(argv):
    from . import runner, scenario as scen
    p = argparse.ArgumentParser(prog="c10k scenarios", description="The shipped scenarios, or one of them in full.")
    p.add_argument("name", nargs="?", help="a shipped scenario's name or a scenario file: show its series")
    p.add_argument("--quick", action="store_true", help="with NAME: with the scenario's 'quick' overrides")
    args = p.parse_args(argv)
    if args.name is None:
        return runner.main(["--list"], prog="c10k scenarios")
    try:
        sc = scen.load(args.name, quick=args.quick)
    except scen.ScenarioError as e:
        print(f"c10k scenarios: error: {e}", file=sys.stderr)
        return 2
    print(f"{sc.name} ({scen.resolve_path(args.name)}){' with --quick' if args.quick else ''}")
    print(f"  {sc.description}")
    print(f"  {len(sc.series)} series, {sc.repeats} repetition(s) per point")
    for line in runner.series_lines(sc, flags=True):
        print(line)
    return 0


COMMANDS = {"run": _run, "check": _check, "plot": _plot, "compare": _compare, "gate": _gate, "bench": _bench,
            "demo": _demo, "scenarios": _scenarios}


def version_line(bin_dir):
    """The build's version line (cmake/version.cmake writes it beside the binaries' build, and the
    install puts it in share/c10k-bench), or None when neither exists (nothing built yet)."""
    for path in (os.path.join(bin_dir, os.pardir, "generated", "VERSION"), os.path.join(ROOT, "VERSION")):
        try:
            with open(path, encoding="utf-8") as f:
                return f.read().strip()
        except OSError:
            continue
    return None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if INSTALLED:
        # Never build: an installed command runs the binaries installed beside it.
        os.environ.setdefault("C10K_BIN_DIR", DEFAULT_BIN_DIR)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(f"usage:\n{USAGE}\n\n{__doc__.split(chr(10) * 2, 2)[2]}", file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] in ("--version", "-V"):
        line = version_line(os.environ.get("C10K_BIN_DIR") or DEFAULT_BIN_DIR)
        if line is None:
            print("c10k: no VERSION file: build first (scripts/build.sh)", file=sys.stderr)
            return 2
        print(f"c10k (c10k-bench) {line}")
        return 0
    command = COMMANDS.get(argv[0])
    if command is None:
        print(f"c10k: unknown command {argv[0]!r} (one of: {', '.join(COMMANDS)})", file=sys.stderr)
        return 2
    try:
        return command(argv[1:])
    except BrokenPipeError:  # the reader of our output left (e.g. `| head`): nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def plot_main(argv=None, prog="plot.py"):
    """scripts/plot.py and `c10k plot`: one folder's report, or several folders overlaid."""
    p = argparse.ArgumentParser(prog=prog, description="Plots (PNG, SVG) and index.html of a results folder; "
                                "of several folders, the same plots overlaid with a table of ratios to the first.")
    p.add_argument("results_dir", nargs="+", help="a results folder written by run_scenario.py (or several)")
    p.add_argument("--label", action="append", metavar="TEXT",
                   help="with several folders: a folder's label, once per folder in order (default: what differs "
                        "among their hosts, CPUs, kernels and git revisions)")
    p.add_argument("--out", metavar="DIR", help="with several folders: where the overlay goes "
                   "(default: results/overlay-<timestamp>)")
    p.add_argument("--check-page", action="store_true",
                   help="then load index.html in headless Chromium and check every image is present and non-blank")
    args = p.parse_args(sys.argv[1:] if argv is None else argv)
    if len(args.results_dir) == 1 and (args.label or args.out):
        p.error("--label and --out are for overlaying several results folders")
    if shutil.which("gnuplot") is None:
        print(f"{prog}: error: gnuplot is not installed (Debian: apt-get install gnuplot-nox)", file=sys.stderr)
        return 1
    from . import overlay, plots, report, results
    out_dir = args.results_dir[0] if len(args.results_dir) == 1 else (args.out or overlay.default_out_dir())
    try:
        if len(args.results_dir) == 1:
            images = report.render_folder(out_dir)
        else:
            images = overlay.render(args.results_dir, out_dir, args.label)
    except (results.ResultsError, overlay.OverlayError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except plots.PlotError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {len(images)} images in {os.path.join(out_dir, 'plots')} and {os.path.join(out_dir, 'index.html')}")
    if args.check_page:
        from . import pagecheck
        try:
            report = pagecheck.check_page(os.path.join(out_dir, "index.html"))
        except pagecheck.PageCheckError as e:
            print(f"{prog}: page check failed: {e}", file=sys.stderr)
            return 1
        print(f"page check: {report}")
    return 0
