#!/usr/bin/env python3
"""Compare two results folders of one scenario and fail on a significant regression.

Usage: scripts/compare.py BASELINE_DIR CANDIDATE_DIR [options]

For every point (series, concurrency) and metric (throughput, p50, p99, server CPU per request,
memory per connection) it runs a one-sided Mann-Whitney U test over the repetitions and prints
the ratio of medians, a Hodges-Lehmann interval and a verdict. See docs/perf-regression.md.

Exit status: 0 no significant regression beyond the threshold, 1 regression (or candidate runs
that failed where the baseline's did not), 2 bad input (unreadable folders, mismatched scenarios,
too few repetitions for the test to ever reach significance).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from perfcheck import cli  # noqa: E402

if __name__ == "__main__":
    sys.exit(cli.compare_main())
