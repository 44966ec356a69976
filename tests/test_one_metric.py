"""One meaning per number: the summary (which the plots, the report and overlays draw from), the
compare tool and the CI gate's exports read each metric of a repetition the same way: 2xx latency
and the rate of 2xx responses over the steady window, under one label."""
import ast
import glob
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import overlay, results  # noqa: E402
from perfcheck import ci_formats, compare, metrics, report, synthetic  # noqa: E402
from perfcheck.results import Results  # noqa: E402


def _split_meanings(path):
    """Rewrites every repetition of a synthetic folder so that each metric has two readings that
    differ: all responses against 2xx only, the loadgen's raw rate against the steady window's."""
    for (series, c), reps in results.read_repetitions(path).items():
        for rep in reps:
            lg = rep["loadgen"]
            complete = lg["summary"]["complete"]
            lg["status_codes"] = {"200": complete * 4 // 5, "503": complete - complete * 4 // 5}
            lg["summary"]["non_2xx"] = complete - complete * 4 // 5
            # The 503s were answered at once: over all responses the percentiles are lower.
            total = lg["latency"]["total"]
            lg["latency_2xx"] = {"total": dict(total, count=complete * 4 // 5, percentiles={
                q: v * 3 for q, v in total["percentiles"].items()})}
            # A time-bound run whose connections were all answered 1 s into its 2 s window: the
            # steady window is the second second, which ran at half the rate of the first.
            lg["config"] = {"time_limit_s": 2.0, "warmup_s": 0.0}
            lg["establishment"] = {"all_answered_s": 1.0, "answered": c, "connections": c}
            lg["timeseries"] = [{"t_s": 0, "completed": complete * 2 // 3},
                                {"t_s": 1, "completed": complete - complete * 2 // 3}]
            results.write_json_atomic(results.rep_path(path, series, c, rep["repetition"]), rep)
    return path


# The expanded form the runner records: each series with its concurrency levels.
SCENARIO = dict(synthetic.SCENARIO, series=[{"name": "epoll", "server": "epoll", "concurrency": [10, 100]}])


def _folders(tmp_path):
    base = _split_meanings(synthetic.make_results(str(tmp_path), "a", 1, repeats=5, scenario=SCENARIO))
    cand = _split_meanings(synthetic.make_results(str(tmp_path), "b", 2, repeats=5, scenario=SCENARIO))
    return base, cand


def test_summary_compare_and_gate_exports_give_one_number_per_metric(tmp_path):
    base, cand = _folders(tmp_path)
    summary = {(p["series"], p["concurrency"]): p for p in results.Folder(base).points()}
    cmp = compare.compare(Results(cand), Results(base), compare.Options(aa_spread=0.0))
    checked = 0
    for row in cmp.rows:
        if not row.testable:
            continue
        # The candidate side of this comparison is folder `base`: its medians are the summary's.
        assert row.cand_median == summary[row.point][row.metric.point_key], (row.point, row.metric.key)
        checked += 1
    assert checked == 9  # 2 points x 5 metrics, minus memory per connection at c=10
    exported = {(name, m.key): med for name, m, med, *_ in ci_formats.summarize(Results(base), metrics.METRICS)}
    for (series, c), p in summary.items():
        name = ci_formats.benchmark_name("synthetic", (series, c))
        for m in metrics.METRICS:
            if c >= m.min_concurrency:
                assert exported[(name, m.key)] == p[m.point_key]


def test_the_numbers_are_2xx_latency_and_the_steady_window_rate(tmp_path):
    base, _ = _folders(tmp_path)
    folder = results.Folder(base)
    (p,) = [p for p in folder.points() if p["concurrency"] == 100]
    reps = folder.repetitions_by_point()[("epoll", 100)]
    raw = sorted(r["loadgen"]["summary"]["requests_per_sec"] for r in reps)[2]
    steady = sorted(r["loadgen"]["summary"]["complete"] - r["loadgen"]["summary"]["complete"] * 2 // 3
                    for r in reps)
    # The median rate is that of the second second (1 s long), times the 2xx share.
    assert p["requests_per_sec"] != raw
    assert abs(p["requests_per_sec"] - sorted(s * 0.8 for s in steady)[2]) < 0.05 * p["requests_per_sec"]
    p99_total = sorted(r["loadgen"]["latency"]["total"]["percentiles"]["99"] for r in reps)[2]
    assert abs(p["latency_p99_ms"] - 3 * p99_total) < 1e-9
    gate = Results(base)
    values = sorted(v for v, _ in gate.values(metrics.BY_KEY["latency_p99"], ("epoll", 100)))
    assert values[2] == p["latency_p99_ms"]


def test_one_label_per_metric_in_the_gate_and_the_overlay(tmp_path):
    base, cand = _folders(tmp_path)
    cmp = compare.compare(Results(base), Results(cand), compare.Options(aa_spread=0.0))
    text = report.text_table(cmp) + report.markdown(cmp)
    for m in metrics.METRICS:
        heading = f"{m.label} ({m.unit})"
        assert heading in text, heading
        assert (m.point_key, m.label, m.unit, m.higher_is_better) in overlay.METRICS
    # The labels say what the numbers are.
    assert "2xx" in metrics.BY_KEY["throughput"].label and "steady window" in metrics.BY_KEY["throughput"].label
    assert "2xx" in metrics.BY_KEY["latency_p50"].label and "2xx" in metrics.BY_KEY["latency_p99"].label


REPETITION_FILE = ("rep_path", "rep_files", "rep1.json", "rep*.json", "rep{")


def _json_reads_of_repetitions(path):
    """Lines of a Python file where json.load/json.loads reads what the two lines before it or
    its own line name as a repetition file."""
    with open(path, encoding="utf-8") as f:
        source = f.read()
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("load", "loads") and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "json"):
            near = "\n".join(lines[max(0, node.lineno - 3):node.lineno])
            if any(name in near for name in REPETITION_FILE):
                yield f"{os.path.relpath(path, ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}"


def test_results_py_is_the_only_reader_of_repetition_files():
    # Whoever opens a rep<k>.json with json outside results.py (read_repetition) reads the format
    # a second time, and can take another number from it under the same name.
    own = os.path.join(ROOT, "scripts", "c10k", "results.py")
    paths = (glob.glob(os.path.join(ROOT, "scripts", "**", "*.py"), recursive=True)
             + glob.glob(os.path.join(ROOT, "tests", "*.py")))
    offenders = [hit for path in paths if not os.path.samefile(path, own)
                 for hit in _json_reads_of_repetitions(path)]
    assert offenders == []


def test_the_reader_check_finds_a_second_reader(tmp_path):
    other = tmp_path / "other.py"
    other.write_text("import json\nwith open(results.rep_path(f, s, c, 1)) as fh:\n    doc = json.load(fh)\n")
    assert len(list(_json_reads_of_repetitions(str(other)))) == 1


def test_the_report_and_plots_say_which_throughput_and_latency(tmp_path):
    from c10k import report as c10k_report
    base, _ = _folders(tmp_path)
    res = results.Folder(base)
    c10k_report.write_summary(base, res, res.points())
    with open(os.path.join(base, "summary.md"), encoding="utf-8") as f:
        assert "Throughput, 2xx responses/s over the steady window" in f.read()
    gnuplot = os.path.join(ROOT, "scripts", "c10k", "gnuplot")
    with open(os.path.join(gnuplot, "throughput.gp"), encoding="utf-8") as f:
        assert "2xx responses/s over the steady window" in f.read()
    with open(os.path.join(gnuplot, "latency.gp"), encoding="utf-8") as f:
        assert "latency of 2xx responses" in f.read()
