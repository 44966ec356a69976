"""Outputs existing CI tooling reads: Bencher Metric Format and github-action-benchmark JSON.

BMF (https://bencher.dev/docs/reference/bencher-metric-format):
    {"<benchmark>": {"<measure slug>": {"value": n, "lower_value": n, "upper_value": n}}}
github-action-benchmark, tools customSmallerIsBetter / customBiggerIsBetter: a JSON array of
    {"name": str, "unit": str, "value": n, "range": str (optional), "extra": str (optional)}
one file per direction, because the action takes one tool per step.

Each metric is reported as the median over the run's successful repetitions; the range is the
min..max of those repetitions.
"""
from . import stats

# Bencher's built-in "throughput" measure is ops/s, which req/s is; the others are custom slugs
# that name their unit, since Bencher's built-in "latency" is in nanoseconds.
BMF_SLUGS = {
    "throughput": "throughput",
    "latency_p50": "latency-p50-ms",
    "latency_p99": "latency-p99-ms",
    "cpu_per_request": "server-cpu-per-request-us",
    "mem_per_connection": "memory-per-connection-kib",
}


def benchmark_name(scenario, point):
    series, conc = point
    return f"{scenario}/{series}/c{conc}"


def summarize(results, metrics):
    """[(benchmark name, metric, median, min, max, n)] for every point and recorded metric."""
    out = []
    for point in sorted(results.points):
        for metric in metrics:
            if point[1] < metric.min_concurrency:
                continue
            values = [v for v, _ in results.values(metric, point)]
            if values:
                out.append((benchmark_name(results.scenario_name, point), metric,
                            stats.median(values), min(values), max(values), len(values)))
    return out


def bmf(results, metrics):
    doc = {}
    for name, metric, med, lo, hi, _ in summarize(results, metrics):
        doc.setdefault(name, {})[BMF_SLUGS.get(metric.key, metric.key)] = {
            "value": med, "lower_value": lo, "upper_value": hi}
    return doc


def github_action_benchmark(results, metrics):
    """(smaller_is_better list, bigger_is_better list)."""
    smaller, bigger = [], []
    for name, metric, med, lo, hi, n in summarize(results, metrics):
        entry = {
            "name": f"{name} {metric.label}",
            "unit": metric.unit,
            "value": med,
            "range": f"± {(hi - lo) / 2:.4g}",
            "extra": f"median of {n} repetitions; min {lo:.6g}, max {hi:.6g}",
        }
        (bigger if metric.higher_is_better else smaller).append(entry)
    return smaller, bigger


def insn_bmf(report):
    """BMF for an instruction-count report (perfcheck.insn)."""
    return {f"insn/{name}": {"instructions-per-request": {
        "value": t["insn_per_request"],
        "lower_value": t["min_insn_per_request"], "upper_value": t["max_insn_per_request"]}}
        for name, t in report["targets"].items()}


def insn_github_action_benchmark(report):
    return [{"name": f"insn/{name} instructions per request", "unit": "instructions",
             "value": t["insn_per_request"],
             "range": f"± {(t['max_insn_per_request'] - t['min_insn_per_request']) / 2:.4g}",
             "extra": f"{report['params']['tool']}, (I(N2)-I(N1))/(N2-N1), "
                      f"N1={t.get('n1', report['params']['n1'])}, "
                      f"N2={t.get('n2', report['params']['n2'])}, {len(t['runs'])} run(s)"}
            for name, t in report["targets"].items()]
