"""The wall-clock gate: compare a candidate results folder with a baseline, per point and metric.

A row is a regression when the candidate is worse with significance (one-sided Mann-Whitney U,
family-wise over every test in the comparison: Westfall-Young maxT by default, see maxt.py) AND its
median is worse than the baseline median by more than the threshold. Either condition alone is not
enough: the test alone flags 1 % differences that nobody cares about once repetitions are many;
the threshold alone cries wolf on noise.

Folders measured in separate runs (not one interleaved session) carry each run's offset: what the
rest of the machine did then. The test sees that offset as an effect, so for them the threshold is
at least the A/A spread: the largest difference two separate runs of one build showed here.
"""
import statistics

from c10k.nested import dig
from c10k.results import BUSY_MACHINE_CORES

from . import PerfCheckError, maxt, stats
from .environment import environment_differences
from .metrics import METRICS
from .results import point_label

DEFAULT_ALPHA = 0.05
DEFAULT_THRESHOLD = 0.05
# The A/A spread: how much worse one separate run of a build measured than another run of the same
# build, per metric: `c10k gate calibrate` over 10 full `ci` runs (5 back-to-back pairs) on this
# 2-core VM on 2026-12-07, shared with other engineers' builds and test suites (load average 5-44;
# 0.7-1.7 of the 2 cores busy with other work), rounded up to 5 %. The worst was a ping-pong at
# c=1 42x slower in one run than in the next. A sequential comparison calls a row a regression
# only beyond it (docs/perf-regression.md, "Separate runs"); calibrate measures another machine's,
# --aa-spread / --aa-spread-for override it.
DEFAULT_AA_SPREAD = {"throughput": 42.00, "latency_p50": 32.90, "latency_p99": 78.50, "cpu_per_request": 43.55,
                     "mem_per_connection": 0.0}
# Scenario keys that may differ between two runs that are still comparable.
IGNORED_SCENARIO_KEYS = {"description", "repeats"}

REGRESSION = "REGRESSION"
WORSE_WITHIN = "worse, within threshold"
BETTER = "better"
SAME = "no significant change"
NOT_AVAILABLE = "n/a"
FAILED_RUNS = "FAILED RUNS"
CORRECTIONS = ("maxt", "holm", "none")


class Options:
    def __init__(self, alpha=DEFAULT_ALPHA, threshold=DEFAULT_THRESHOLD, thresholds=None,
                 metrics=None, correction="maxt", allow_scenario_diff=False, aa_spread=None,
                 allow_quick=False):
        """aa_spread: a fraction for every metric, or {metric key: fraction} over DEFAULT_AA_SPREAD;
        it applies to separate runs only."""
        if not 0 < alpha < 1:
            raise PerfCheckError(f"alpha must be between 0 and 1, got {alpha}")
        if threshold < 0:
            raise PerfCheckError(f"threshold must be >= 0, got {threshold}")
        if correction not in CORRECTIONS:
            raise PerfCheckError(f"correction must be one of {', '.join(CORRECTIONS)}, "
                                 f"got {correction!r}")
        self.alpha, self.threshold = alpha, threshold
        self.thresholds = dict(thresholds or {})
        self.metrics = list(metrics or METRICS)
        self.correction = correction
        self.allow_scenario_diff = allow_scenario_diff
        if isinstance(aa_spread, (int, float)):
            aa_spread = dict.fromkeys(DEFAULT_AA_SPREAD, aa_spread)
        self.aa_spread = {**DEFAULT_AA_SPREAD, **(aa_spread or {})}
        if any(v < 0 for v in self.aa_spread.values()):
            raise PerfCheckError("the A/A spread must be >= 0")
        self.allow_quick = allow_quick

    def threshold_for(self, metric, paired=True):
        """The threshold a row must exceed: for separate runs at least the metric's A/A spread."""
        t = self.thresholds.get(metric.key, self.threshold)
        return t if paired else max(t, self.aa_spread.get(metric.key, 0.0))


class Row:
    """One point and metric: samples, medians, ratio, interval, p-values and the verdict."""

    def __init__(self, point, metric, base_values, cand_values, base_units=(), cand_units=()):
        self.point, self.metric = point, metric
        self.base_values, self.cand_values = base_values, cand_values
        # Which run each value came from (the repetition number; in an interleaved session,
        # the round), so the maxT correction can re-label whole runs.
        self.base_units, self.cand_units = list(base_units), list(cand_units)
        self.base_median = self.cand_median = self.ratio = None
        self.estimate = self.ci_low = self.ci_high = None
        self.p_worse = self.p_better = None
        self.p_worse_adjusted = self.p_better_adjusted = None
        self.significant_worse = self.significant_better = False
        self.threshold = None
        self.verdict = NOT_AVAILABLE
        self.note = ""

    @property
    def testable(self):
        return bool(self.base_values) and bool(self.cand_values)

    @property
    def slowdown(self):
        return self.metric.slowdown(self.ratio)

    def to_json(self):
        series, conc = self.point
        return {
            "series": series, "concurrency": conc, "metric": self.metric.key,
            "unit": self.metric.unit, "higher_is_better": self.metric.higher_is_better,
            "baseline_values": self.base_values, "candidate_values": self.cand_values,
            "baseline_median": self.base_median, "candidate_median": self.cand_median,
            "ratio": self.ratio, "ratio_estimate_hl": self.estimate,
            "ratio_interval": [self.ci_low, self.ci_high],
            "p_worse": self.p_worse, "p_better": self.p_better,
            "p_worse_adjusted": self.p_worse_adjusted, "p_better_adjusted": self.p_better_adjusted,
            "threshold": self.threshold, "verdict": self.verdict, "note": self.note,
        }


class Comparison:
    def __init__(self, baseline, candidate, options):
        self.baseline, self.candidate, self.options = baseline, candidate, options
        self.rows, self.warnings, self.failures = [], [], []
        self.correction_info = None
        self.paired = is_paired(baseline, candidate)
        # What the reader must know before trusting the verdict: how the folders were measured.
        self.notes = []

    @property
    def regressions(self):
        return [r for r in self.rows if r.verdict == REGRESSION]

    @property
    def failed(self):
        return bool(self.regressions or self.failures)

    @property
    def interval_level(self):
        return 1 - 2 * self.options.alpha

    def to_json(self):
        o = self.options
        return {
            "schema_version": 1, "kind": "c10k-bench-compare",
            "scenario": self.candidate.scenario_name,
            "baseline": self.baseline.path, "candidate": self.candidate.path,
            "test": "one-sided Mann-Whitney U (exact, mid-ranks for ties)",
            "interval": f"Hodges-Lehmann ratio, {self.interval_level:.0%} (per test, uncorrected)",
            "alpha": o.alpha, "correction": o.correction,
            "correction_details": self.correction_info, "threshold": o.threshold,
            "thresholds": {m.key: o.threshold_for(m, self.paired) for m in o.metrics},
            "design": "interleaved" if self.paired else "separate runs",
            "machine_load": {"baseline": machine_load(self.baseline),
                             "candidate": machine_load(self.candidate)},
            "notes": self.notes,
            "verdict": "regression" if self.failed else "pass",
            "failures": self.failures, "warnings": self.warnings,
            "rows": [r.to_json() for r in self.rows],
        }


def check_same_scenario(baseline, candidate, allow_diff=False):
    if baseline.scenario_name != candidate.scenario_name:
        raise PerfCheckError(
            f"mismatched scenarios: baseline {baseline.path} ran {baseline.scenario_name!r}, "
            f"candidate {candidate.path} ran {candidate.scenario_name!r}; compare runs of one scenario")
    keys = (set(baseline.scenario) | set(candidate.scenario)) - IGNORED_SCENARIO_KEYS
    differing = sorted(k for k in keys if baseline.scenario.get(k) != candidate.scenario.get(k))
    if differing and not allow_diff:
        raise PerfCheckError(
            f"scenario {candidate.scenario_name!r} differs between the two runs in: "
            f"{', '.join(differing)} (the same name with different settings measures different "
            f"things; pass --allow-scenario-diff to compare anyway)")
    return differing


def is_quick(results):
    return results.manifest.get("quick") is True or results.scenario.get("quick") is True


def check_not_quick(baseline, candidate, allow_quick=False):
    """--quick runs are a smoke test of the pipeline (few, short repetitions): no verdict on them."""
    quick = [f"{side} {r.path}" for side, r in (("baseline", baseline), ("candidate", candidate))
             if is_quick(r)]
    if quick and not allow_quick:
        raise PerfCheckError(
            f"{' and '.join(quick)} {'was' if len(quick) == 1 else 'were'} run with --quick: a smoke "
            f"test of the pipeline (fewer, shorter repetitions), whose differences are mostly the "
            f"machine's; run the scenario without --quick for a verdict, or pass --allow-quick to "
            f"compare anyway")


def machine_load(results):
    """How busy the rest of the machine was while a folder was measured: per point the median of
    server_usage.other_cpu_cores over its repetitions (cores kept busy by other processes), then
    {"median": over the points, "max": the busiest point's, "point": it}, or None (not recorded)."""
    per_point = {}
    for point in results.points:
        values = [v for v in (dig(r, "server_usage", "other_cpu_cores") for r in results.ok_reps(point))
                  if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if values:
            per_point[point] = statistics.median(values)
    if not per_point:
        return None
    busiest = max(per_point, key=per_point.get)
    return {"median": round(statistics.median(per_point.values()), 2), "max": round(per_point[busiest], 2),
            "point": point_label(busiest)}


def describe_load(load):
    if load is None:
        return "not recorded"
    return (f"{load['median']:.2f} cores busy with other work (median over the points; "
            f"{load['max']:.2f} at {load['point']})")


def _design_notes(result, options):
    """How the two folders were measured, and the rule that follows from it."""
    if result.paired:
        result.notes.append("interleaved: both builds ran in one session, taking turns round by round, "
                            "so the machine's noise hit both alike; a row is a regression when it is "
                            "significant and worse by more than the threshold")
        return
    spread = ", ".join(f"{m.key} {options.threshold_for(m, False):.0%}" for m in options.metrics)
    result.notes.append(
        "NOT interleaved: the two folders come from separate runs, and each run carries what the rest "
        "of the machine did at the time. Machine load: baseline "
        f"{describe_load(machine_load(result.baseline))}; candidate {describe_load(machine_load(result.candidate))}")
    result.notes.append(
        f"rule for separate runs: a row is a regression only when it is significant AND worse by more "
        f"than the threshold or this machine's A/A spread between separate runs of one build, whichever "
        f"is larger ({spread}; --aa-spread, or measure it: c10k gate calibrate). Smaller effects need an "
        f"interleaved run: c10k gate ab")
    busy = [load for load in (machine_load(result.baseline), machine_load(result.candidate))
            if load is not None and load["max"] >= BUSY_MACHINE_CORES]
    if busy:
        result.warnings.append(
            f"the machine was busy with other work while these folders were measured (up to "
            f"{max(load['max'] for load in busy):.2f} cores): separate runs on a busy machine differ "
            f"by more than any regression worth catching; use c10k gate ab")


def compare(baseline, candidate, options):
    """Build the Comparison; raises PerfCheckError on input that cannot give a verdict."""
    check_not_quick(baseline, candidate, options.allow_quick)
    result = Comparison(baseline, candidate, options)
    _design_notes(result, options)
    differing = check_same_scenario(baseline, candidate, options.allow_scenario_diff)
    if differing:
        result.warnings.append(f"scenario settings differ in: {', '.join(differing)}")
    for diff in environment_differences(baseline.environment, candidate.environment):
        result.warnings.append(f"environment differs: {diff}")

    base_points, cand_points = set(baseline.points), set(candidate.points)
    for p in sorted(base_points - cand_points):
        result.warnings.append(f"{point_label(p)}: only in the baseline, not compared")
    for p in sorted(cand_points - base_points):
        result.warnings.append(f"{point_label(p)}: only in the candidate, not compared")
    points = sorted(base_points & cand_points)
    if not points:
        raise PerfCheckError("the two results folders have no point (series and concurrency) in common")

    for p in points:
        _note_failed_runs(result, p)
        base_ok, cand_ok = baseline.ok_reps(p), candidate.ok_reps(p)
        for metric in options.metrics:
            if p[1] < metric.min_concurrency:
                row = Row(p, metric, [], [])
                row.note = f"not compared below c={metric.min_concurrency}"
                result.rows.append(row)
                continue
            b, bu = _columns(baseline.values(metric, p))
            c, cu = _columns(candidate.values(metric, p))
            row = Row(p, metric, b, c, bu, cu)
            row.threshold = options.threshold_for(metric, result.paired)
            if not row.testable:
                row.note = "not recorded" if base_ok and cand_ok else "no successful repetition"
            result.rows.append(row)

    tests = [r for r in result.rows if r.testable]
    if not tests:
        raise PerfCheckError("no metric was recorded in both runs; nothing to compare")
    for row in tests:
        _analyse(row, options.alpha)
    if options.correction == "maxt":
        _apply_maxt(result, tests, result.paired, options)
    else:
        level = options.alpha / len(tests) if options.correction == "holm" else options.alpha
        _check_power(tests, options, level)
        for attr_p, attr_sig in (("p_worse", "significant_worse"),
                                 ("p_better", "significant_better")):
            ps = [getattr(r, attr_p) for r in tests]
            if options.correction == "holm":
                flags = stats.holm(ps, options.alpha)
            else:
                flags = [p < options.alpha for p in ps]
            for row, flag in zip(tests, flags):
                setattr(row, attr_sig, flag)
    for row in tests:
        row.verdict = _verdict(row)
    return result


def _columns(pairs):
    """The values of [(value, run)] and the run each came from, as two lists."""
    return [v for v, _ in pairs], [u for _, u in pairs]


def is_paired(baseline, candidate):
    """Both folders come from one interleaved session: run k of each side shares round k."""
    a = baseline.manifest.get("interleaved")
    b = candidate.manifest.get("interleaved")
    return (isinstance(a, dict) and isinstance(b, dict) and bool(a.get("session"))
            and a.get("session") == b.get("session") and a.get("rounds") == b.get("rounds")
            and a.get("side") != b.get("side"))


def _apply_maxt(result, tests, paired, options):
    data = []
    for row in tests:
        sign = -1.0 if row.metric.higher_is_better else 1.0  # oriented: larger is worse
        data.append(({u: sign * v for u, v in zip(row.base_units, row.base_values)},
                     {u: sign * v for u, v in zip(row.cand_units, row.cand_values)}))
    if any(len(set(r.base_units)) != len(r.base_units) or
           len(set(r.cand_units)) != len(r.cand_units) for r in tests):
        raise PerfCheckError("repetitions are not numbered consistently (two repetition files "
                             "of one point claim the same 'repetition')")
    _check_maxt_power(data, tests, paired, options)
    worse, better, info = maxt.adjusted_p_values(data, paired)
    result.correction_info = info
    for row, pw, pb in zip(tests, worse, better):
        row.p_worse_adjusted, row.p_better_adjusted = pw, pb
        row.significant_worse = pw < options.alpha
        row.significant_better = pb < options.alpha


def _check_maxt_power(data, tests, paired, options):
    """The smallest p-value maxT can give is 1 / (number of re-labellings): refuse below alpha."""
    base_units = {u for b, _ in data for u in b}
    cand_units = {u for _, c in data for u in c}
    if paired:
        count = maxt.labellings_count(n_rounds=len(base_units & cand_units))
        what = f"{len(base_units & cand_units)} interleaved rounds"
    else:
        count = maxt.labellings_count(n_base=len(base_units), n_cand=len(cand_units))
        what = f"{len(base_units)} baseline and {len(cand_units)} candidate repetitions"
    short = [r for r in tests if len(r.base_values) < 2 or len(r.cand_values) < 2]
    if 1 / count < options.alpha and not short:
        return
    need = 1
    while 1 / (maxt.labellings_count(n_rounds=need) if paired
               else maxt.labellings_count(n_base=need, n_cand=need)) >= options.alpha:
        need += 1
    need = max(need, 2)
    first = short[0] if short else tests[0]
    raise PerfCheckError(
        f"too few repetitions: {what} (at {point_label(first.point)} {first.metric.key}: "
        f"{len(first.base_values)} baseline and {len(first.cand_values)} candidate values); "
        f"the smallest p-value a re-labelling test can give is 1/{count} = {1 / count:.4g}, "
        f"not below alpha {options.alpha}. Run at least {need} repetitions per side "
        f"(scenario 'repeats', or interleaved rounds), or raise --alpha.")


def _note_failed_runs(result, point):
    base_failed = result.baseline.failed_reps(point)
    cand_failed = result.candidate.failed_reps(point)
    if cand_failed:
        kinds = sorted({r.get("status", "?") for r in cand_failed})
        msg = (f"{point_label(point)}: {len(cand_failed)} of {len(result.candidate.points[point])} "
               f"candidate repetitions failed ({', '.join(kinds)})")
        if base_failed:
            result.warnings.append(msg + f"; the baseline also had {len(base_failed)} failed")
        else:
            result.failures.append(msg + "; the baseline had none")
    elif base_failed:
        result.warnings.append(f"{point_label(point)}: {len(base_failed)} baseline repetitions failed")


def _check_power(tests, options, level):
    """Refuse to give a verdict the test could never reach: too few repetitions is an error."""
    for row in tests:
        n, m = len(row.base_values), len(row.cand_values)
        if n >= 2 and m >= 2 and stats.min_p_value(n, m) < level:
            continue
        need = stats.repeats_needed(level)
        corr = (f" (alpha {options.alpha} after Holm's correction over {len(tests)} tests)"
                if options.correction == "holm" else "")
        raise PerfCheckError(
            f"too few repetitions: {point_label(row.point)} {row.metric.key} has {n} baseline and "
            f"{m} candidate values; the smallest p-value a Mann-Whitney test can give with "
            f"{n} vs {m} is {stats.min_p_value(n, m):.4g}, never below {level:.4g}{corr}. "
            f"Run at least {need} repetitions per side (scenario 'repeats'), or raise --alpha.")


def _analyse(row, alpha):
    row.base_median = stats.median(row.base_values)
    row.cand_median = stats.median(row.cand_values)
    if row.base_median == 0:
        row.ratio = 1.0 if row.cand_median == 0 else float("inf")
    else:
        row.ratio = row.cand_median / row.base_median
    mw = stats.mann_whitney(row.base_values, row.cand_values)
    # "Worse" is larger for costs, smaller for throughput.
    if row.metric.higher_is_better:
        row.p_worse, row.p_better = mw["p_less"], mw["p_greater"]
    else:
        row.p_worse, row.p_better = mw["p_greater"], mw["p_less"]
    row.estimate, row.ci_low, row.ci_high = stats.hodges_lehmann_interval(
        row.base_values, row.cand_values, alpha)


def _verdict(row):
    if row.significant_worse:
        slow = row.slowdown
        return REGRESSION if slow is not None and slow > 1 + row.threshold else WORSE_WITHIN
    if row.significant_better:
        return BETTER
    return SAME
