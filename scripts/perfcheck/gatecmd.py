"""`c10k gate ab|insn|syscalls|calibrate`: the regression gates from the one command, installed or not.

The gates' own scripts (scripts/ci/interleaved_ab.py, scripts/insn_gate.py, scripts/syscall_gate.py)
sit beside this package in the checkout and in an install (share/c10k-bench/scripts); each is run
in-process with its arguments.
"""
import argparse
import importlib.util
import os
import sys

from . import calibrate
from .cli import add_compare_options, main_wrapper, options_from_args

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

WHEN = """which gate, when:

  ab         Two builds (or one build and an environment, e.g. LD_PRELOAD), run interleaved in one
             session: round k runs the scenario once with each, alternating order, so the machine's
             noise hits both alike. The wall-clock verdict to trust, even on a busy machine: use it
             for any before/after question (default scenario ci, 16 rounds, ~2.5 min here).
             It sees a change of the whole request's cost beyond its threshold (5 %); one that
             costs a few percent it catches in some sessions and misses in others on a shared
             machine. So it also counts both sides' system calls per request (strace; --syscalls
             MODEL, or none): one more call per request fails it every time (10 of 10 here).
  insn       Instructions per request under valgrind: deterministic, catches 1-2 % changes of the
             code's own (user-space) work; blind to the kernel's share.
  syscalls   System calls per request under strace: deterministic, catches one extra call per
             request (the kernel's work that insn cannot see), alone and without the rounds:
             one extra fcntl per read was caught in 10 of 10 runs here, the interleaved
             wall-clock verdict alone (ab, 8 rounds) in 5 of 10 sessions.
  calibrate  The A/A spread of separate runs on this machine (folders of one build run one after
             another), for `c10k compare` on folders that were not run interleaved.

`c10k compare A B` on two folders from separate runs calls a row a regression only when it is
significant and worse by more than the threshold and this machine's A/A spread: it cannot see
smaller effects, and says so. For those, use `c10k gate ab`.

Every gate exits 0 pass, 1 regression, 2 error; `c10k gate KIND --help` lists its options.
See docs/perf-regression.md."""

GATES = {"ab": ("ci", "interleaved_ab.py"), "insn": ("", "insn_gate.py"), "syscalls": ("", "syscall_gate.py")}


def _script_main(folder, name):
    path = os.path.join(SCRIPTS, folder, name)
    spec = importlib.util.spec_from_file_location(f"c10k_gate_{name[:-3]}", path)
    if spec is None or not os.path.isfile(path):
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def calibrate_main(argv, prog):
    p = argparse.ArgumentParser(prog=prog, description="The A/A spread of separate runs on this machine: "
                                "compares each results folder with the next, both ways, and reports per "
                                "metric the largest significant difference (the folders: one build, one "
                                "scenario, run one after another).",
                                epilog="Exit status: 0 measured, 2 bad input.")
    p.add_argument("folders", nargs="+", metavar="DIR", help="results folders of one build, in the order run")
    add_compare_options(p)

    def go():
        worst, comparisons = calibrate.measure(args.folders, options_from_args(args))
        sys.stdout.write(calibrate.text(worst, comparisons))
        return 0
    args = p.parse_args(argv)
    return main_wrapper(go)


def main(argv, prog="c10k gate"):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(f"usage: {prog} ab|insn|syscalls|calibrate [options]\n\n{WHEN}",
              file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    kind, rest = argv[0], argv[1:]
    if kind == "calibrate":
        return calibrate_main(rest, f"{prog} calibrate")
    if kind not in GATES:
        print(f"{prog}: unknown gate {kind!r} (one of: ab, insn, syscalls, calibrate; --help says when to "
              f"use which)", file=sys.stderr)
        return 2
    try:
        gate_main = _script_main(*GATES[kind])
    except FileNotFoundError as e:
        print(f"{prog}: error: {e} is missing (a broken install?)", file=sys.stderr)
        return 2
    return gate_main(rest, prog=f"{prog} {kind}")
