"""Command-line plumbing shared by compare.py and baseline.py: options, outputs, exit codes."""
import argparse
import json
import os
import sys

from . import PerfCheckError, ci_formats, metrics, report
from .compare import CORRECTIONS, DEFAULT_ALPHA, DEFAULT_THRESHOLD, Options, compare
from .results import Results

EXIT_PASS, EXIT_REGRESSION, EXIT_ERROR = 0, 1, 2


def parse_env(items, flag):
    """NAME=VALUE options (repeatable) as a dict; flag names the option in the error."""
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PerfCheckError(f"{flag} wants NAME=VALUE, got {item!r}")
        env[key] = value
    return env


def parse_fraction(text):
    """'5%' or '0.05' -> 0.05."""
    t = text.strip()
    try:
        value = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise PerfCheckError(f"not a number or percentage: {text!r}") from None
    if value < 0:
        raise PerfCheckError(f"must not be negative: {text!r}")
    return value


def add_compare_options(parser):
    g = parser.add_argument_group("statistics")
    g.add_argument("--alpha", default=str(DEFAULT_ALPHA),
                   help=f"significance level of the one-sided test (default {DEFAULT_ALPHA}; "
                        "family-wise over all tests unless --correction none)")
    g.add_argument("--threshold", default=f"{DEFAULT_THRESHOLD:.0%}",
                   help="how much worse the candidate median must be to count as a regression, "
                        f"e.g. 5%% or 0.05 (default {DEFAULT_THRESHOLD:.0%}%)")
    g.add_argument("--threshold-for", action="append", default=[], metavar="METRIC=T",
                   help="a metric's own threshold, e.g. latency_p99=10%% (repeatable)")
    g.add_argument("--metrics", default=",".join(m.key for m in metrics.METRICS),
                   help="comma-separated metrics to compare (default: all: %(default)s)")
    g.add_argument("--correction", choices=CORRECTIONS, default="maxt",
                   help="multiple-testing correction over every point and metric: maxt "
                        "(Westfall-Young, re-labelling whole runs; default), holm, or none")
    g.add_argument("--allow-scenario-diff", action="store_true",
                   help="compare even if the scenario settings differ (same name required)")
    g.add_argument("--allow-quick", action="store_true",
                   help="compare runs made with --quick (refused by default: a smoke test of the "
                        "pipeline, not a verdict)")
    g.add_argument("--aa-spread", metavar="S",
                   help="separate (not interleaved) runs only: the A/A spread every metric's effect must "
                        "exceed besides the threshold, e.g. 40%% (default: measured on this kind of "
                        "machine, per metric; `c10k gate calibrate` measures yours)")
    g.add_argument("--aa-spread-for", action="append", default=[], metavar="METRIC=S",
                   help="one metric's A/A spread, e.g. throughput=60%% (repeatable)")
    o = parser.add_argument_group("outputs")
    o.add_argument("--markdown", metavar="FILE", help="write a Markdown summary (for CI logs)")
    o.add_argument("--json", metavar="FILE", help="write every row as JSON")
    o.add_argument("--bmf", metavar="FILE", help="write the candidate's figures as Bencher Metric Format")
    o.add_argument("--gab-smaller", metavar="FILE",
                   help="write github-action-benchmark customSmallerIsBetter JSON (latency, CPU, memory)")
    o.add_argument("--gab-bigger", metavar="FILE",
                   help="write github-action-benchmark customBiggerIsBetter JSON (throughput)")
    o.add_argument("--quiet", action="store_true", help="print only the verdict line")


def options_from_args(args):
    alpha = parse_fraction(args.alpha)
    try:
        chosen = metrics.select([k.strip() for k in args.metrics.split(",") if k.strip()])
    except ValueError as e:
        raise PerfCheckError(str(e)) from None
    if not chosen:
        raise PerfCheckError("--metrics selects no metric")
    spread = {m.key: parse_fraction(args.aa_spread) for m in metrics.METRICS} if args.aa_spread else {}
    spread.update(_per_metric(args.aa_spread_for, "--aa-spread-for"))
    return Options(alpha=alpha, threshold=parse_fraction(args.threshold),
                   thresholds=_per_metric(args.threshold_for, "--threshold-for"),
                   metrics=chosen, correction=args.correction,
                   allow_scenario_diff=args.allow_scenario_diff, aa_spread=spread,
                   allow_quick=args.allow_quick)


def _per_metric(items, flag):
    """METRIC=FRACTION options (repeatable) as {metric key: fraction}."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise PerfCheckError(f"{flag} wants METRIC=T, got {item!r}")
        try:
            metrics.select([key])
        except ValueError as e:
            raise PerfCheckError(f"{flag}: {e}") from None
        out[key] = parse_fraction(value)
    return out


def write_text(path, text):
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_json(path, doc):
    write_text(path, json.dumps(doc, indent=2, allow_nan=False) + "\n")


def _json_safe(doc):
    """inf/NaN are not JSON: write them as null."""
    if isinstance(doc, float) and (doc != doc or doc in (float("inf"), float("-inf"))):
        return None
    if isinstance(doc, dict):
        return {k: _json_safe(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_json_safe(v) for v in doc]
    return doc


def _results_path(path):
    """A saved baseline directory (scripts/baseline.py) stands for the results folder inside it."""
    inner = os.path.join(path, "results")
    if (not os.path.exists(os.path.join(path, "manifest.json"))
            and os.path.exists(os.path.join(path, "fingerprint.json"))
            and os.path.exists(os.path.join(inner, "manifest.json"))):
        return inner
    return path


def run_compare(baseline_path, candidate_path, args, extra_warnings=()):
    """Load, compare, print and write outputs; returns the exit status."""
    options = options_from_args(args)
    baseline_path, candidate_path = _results_path(baseline_path), _results_path(candidate_path)
    baseline, candidate = Results(baseline_path), Results(candidate_path)
    cmp = compare(baseline, candidate, options)
    cmp.warnings[:0] = list(extra_warnings)
    text = report.text_table(cmp)
    if args.quiet:
        text = text.splitlines()[-1] + "\n"
    sys.stdout.write(text)
    if args.markdown:
        write_text(args.markdown, report.markdown(cmp))
    if args.json:
        write_json(args.json, _json_safe(cmp.to_json()))
    if args.bmf:
        write_json(args.bmf, ci_formats.bmf(candidate, options.metrics))
    if args.gab_smaller or args.gab_bigger:
        smaller, bigger = ci_formats.github_action_benchmark(candidate, options.metrics)
        if args.gab_smaller:
            write_json(args.gab_smaller, smaller)
        if args.gab_bigger:
            write_json(args.gab_bigger, bigger)
    return EXIT_REGRESSION if cmp.failed else EXIT_PASS


def main_wrapper(fn):
    """Run fn() and turn PerfCheckError into a clear message and exit status 2."""
    try:
        return fn()
    except PerfCheckError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_ERROR


def compare_main(argv=None, prog=None):
    """`compare.py BASELINE CANDIDATE [options]` (also `c10k compare`): exit 0 pass, 1 regression, 2 bad input."""
    parser = argparse.ArgumentParser(
        prog=prog, description="Statistical wall-clock regression gate over two c10k-bench results folders.",
        epilog="Exit status: 0 pass, 1 regression, 2 bad input.")
    parser.add_argument("baseline", help="results folder of the baseline build")
    parser.add_argument("candidate", help="results folder of the candidate build")
    add_compare_options(parser)
    args = parser.parse_args(argv)
    return main_wrapper(lambda: run_compare(args.baseline, args.candidate, args))
