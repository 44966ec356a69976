"""c10k-bench scripts: scenarios, the runner, the /proc sampler, results folders, plots and report.

Standard library only, so the entry scripts run with any python3 >= 3.9.

Two layouts: the repository checkout (scripts/c10k, binaries in build/bin, results in results/)
and an installed prefix P (P/share/c10k-bench/scripts/c10k, binaries in P/bin, results in
./results of the current directory).
"""
import os

SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(SCRIPTS_DIR)
SCENARIOS_DIR = os.path.join(ROOT, "scenarios")
# An install has no CMakeLists.txt next to the scenarios; its binaries are in <prefix>/bin.
INSTALLED = not os.path.exists(os.path.join(ROOT, "CMakeLists.txt")) and \
    os.path.basename(ROOT) == "c10k-bench" and os.path.basename(os.path.dirname(ROOT)) == "share"
DEFAULT_BIN_DIR = os.path.join(os.path.dirname(os.path.dirname(ROOT)), "bin") if INSTALLED \
    else os.path.join(ROOT, "build", "bin")


def default_results_dir():
    """Where a run writes its results folder when --out is not given."""
    return os.path.join(os.getcwd(), "results") if INSTALLED else os.path.join(ROOT, "results")


def c10k_command(subcommand):
    """A `c10k SUBCOMMAND` command line that works from any directory: the command installed beside
    the binaries, or the checkout's bin/c10k."""
    c10k = os.path.join(DEFAULT_BIN_DIR, "c10k") if INSTALLED else os.path.join(ROOT, "bin", "c10k")
    return f"{c10k} {subcommand}"
