#!/usr/bin/env python3
"""Plots and the HTML report of a results folder: scripts/plot.py RESULTS_DIR [--check-page]

Writes RESULTS_DIR/plots/*.png and *.svg (gnuplot) and RESULTS_DIR/index.html.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from c10k.cli import plot_main as main  # noqa: E402

if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader of our output left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
