"""The `c10k` command: one front-end for running scenarios, plotting, comparing and benchmarking.

    c10k run SCENARIO [--quick] [--out DIR] ...   run a scenario (shipped name or path to a file)
    c10k check SCENARIO [--quick]                 machine limits and the plan, nothing run
    c10k plot RESULTS_DIR [RESULTS_DIR ...]       plots and HTML report (several folders: overlaid)
    c10k compare BASELINE_DIR CANDIDATE_DIR       statistical regression gate over two folders
    c10k bench servers|loadgen [--quick] ...      the servers' and the loadgen's benchmarks
    c10k demo                                     a quick C10K comparison of every model
    c10k scenarios                                the shipped scenarios
    c10k --version                                the version the binaries were built as

Every subcommand takes --help. Binaries are found next to the command when installed
(<prefix>/bin), else in build/bin of the checkout; --bin-dir or $C10K_BIN_DIR override that.
"""
import os
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
    return runner.main(argv)


def _check(argv):
    from . import runner
    return runner.main([*argv, "--check"])


def _plot(argv):
    from . import plots
    return plots.main(argv)


def _compare(argv):
    from perfcheck import cli  # perfcheck sits beside this package
    return cli.compare_main(argv, prog="c10k compare")


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
    from . import runner
    return runner.main(["--list", *argv])


COMMANDS = {"run": _run, "check": _check, "plot": _plot, "compare": _compare, "bench": _bench,
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
