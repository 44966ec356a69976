#!/usr/bin/env python3
"""Run a c10k-bench scenario end to end: scripts/run_scenario.py SCENARIO [--out DIR] [--resume DIR] [--quick]

See docs/scenario-format.md and docs/results-format.md; --help lists every option.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c10k.runner import main  # noqa: E402

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `--list | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
