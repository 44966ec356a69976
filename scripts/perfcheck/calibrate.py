"""The A/A spread of separate runs: how much worse one run of a build measures than another run of
the same build on this machine, per metric (`c10k gate calibrate DIR DIR [DIR ...]`).

The folders are runs of one build and one scenario, made one after another (not interleaved). Each
folder is compared with the next, in both directions, with no threshold and no spread: every row
the test finds significantly worse is a difference the machine made, not the build. The spread of
a metric is the largest such slowdown; a comparison of separate runs (compare.py) calls a row a
regression only beyond it, so the same runs could not have failed each other.
"""
import math

from . import PerfCheckError
from .compare import Options, compare
from .results import Results, point_label


def measure(paths, options):
    """{metric key: (spread fraction, "A vs B: point")} over consecutive pairs, both directions."""
    if len(paths) < 2:
        raise PerfCheckError("calibrate needs at least two results folders of one build, run one after another")
    folders = [Results(p) for p in paths]
    probe = Options(alpha=options.alpha, threshold=0.0, metrics=options.metrics, correction=options.correction,
                    aa_spread=0.0, allow_quick=options.allow_quick)
    worst = {m.key: (0.0, "no significant difference") for m in options.metrics}
    comparisons = []
    for a, b in zip(folders, folders[1:]):
        for base, cand in ((a, b), (b, a)):
            cmp = compare(base, cand, probe)
            comparisons.append(cmp)
            for row in cmp.rows:
                if not row.significant_worse or row.slowdown is None:
                    continue
                spread = row.slowdown - 1
                if spread > worst[row.metric.key][0]:
                    worst[row.metric.key] = (spread, f"{cand.path} vs {base.path} at {point_label(row.point)}")
    return worst, comparisons


def rounded_up(fraction):
    """Up to the next whole 5 %, so a flag written from it still covers the largest difference."""
    return math.ceil(round(fraction * 100, 6) / 5) * 5 / 100


def text(worst, comparisons):
    failed = sum(1 for c in comparisons if any(r.significant_worse for r in c.rows))
    lines = [f"{len(comparisons)} comparisons of separate runs of one build ({failed} with a significantly "
             f"worse row: what a threshold below the spread would have called regressions)",
             "metric                 A/A spread  largest at"]
    for key, (spread, where) in worst.items():
        lines.append(f"{key:<22} {spread:>10.1%}  {where}")
    flags = " ".join(f"--aa-spread-for {k}={rounded_up(s):.0%}" for k, (s, _) in worst.items())
    lines.append(f"to use it: c10k compare A B {flags}")
    return "\n".join(lines) + "\n"
