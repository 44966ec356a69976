"""scripts/compare.py on synthetic results folders whose distributions are known."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import results  # noqa: E402
from perfcheck import synthetic  # noqa: E402

COMPARE = os.path.join(ROOT, "scripts", "compare.py")
# Synthetic folders have no run-to-run offset (unless run_offset is given): they model runs as
# comparable as an interleaved session's, so the A/A spread of separate runs on a real machine is
# switched off where a test is about the statistics.
NO_SPREAD = ("--aa-spread", "0")


def run_compare(*args):
    """Run the real command line; returns (exit status, stdout, stderr)."""
    p = subprocess.run([sys.executable, COMPARE, *map(str, args)], capture_output=True, text=True,
                       timeout=60)
    return p.returncode, p.stdout, p.stderr


def make(tmp_path, name, seed, **kw):
    return synthetic.make_results(str(tmp_path), name, seed, **kw)


def rows(json_path):
    with open(json_path) as f:
        return json.load(f)["rows"]


def test_identical_folders_pass(tmp_path):
    a = make(tmp_path, "a", 1)
    status, out, err = run_compare(a, a, "--json", tmp_path / "r.json")
    assert status == 0, out + err
    assert "PASS" in out
    compared = [r for r in rows(tmp_path / "r.json") if r["verdict"] != "n/a"]
    assert len(compared) == 9  # 2 points x 5 metrics, minus memory/connection at c=10
    assert all(r["verdict"] == "no significant change" and r["ratio"] == 1.0 for r in compared)
    skipped = [r for r in rows(tmp_path / "r.json") if r["verdict"] == "n/a"]
    assert [(r["concurrency"], r["metric"], r["note"]) for r in skipped] == [
        (10, "mem_per_connection", "not compared below c=16")]


def test_same_distribution_different_runs_pass(tmp_path):
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2)
    status, out, err = run_compare(a, b)
    assert status == 0, out + err


def test_clearly_slower_fails(tmp_path):
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2, slowdown=1.30)
    status, out, err = run_compare(a, b, *NO_SPREAD, "--json", tmp_path / "r.json", "--markdown", tmp_path / "s.md")
    assert status == 1, out + err
    assert "FAIL" in out and "REGRESSION" in out
    verdicts = {(r["concurrency"], r["metric"]): r["verdict"] for r in rows(tmp_path / "r.json")}
    for c in (10, 100):
        for metric in ("throughput", "latency_p50", "latency_p99", "cpu_per_request"):
            assert verdicts[(c, metric)] == "REGRESSION"
    assert verdicts[(100, "mem_per_connection")] == "no significant change"  # memory did not change
    md = (tmp_path / "s.md").read_text()
    assert md.startswith("## Performance check: `synthetic`")
    assert "| point | metric |" in md and "REGRESSION" in md and "Regressions:" in md


def test_throughput_ratio_and_interval_reported(tmp_path):
    a, b = make(tmp_path, "a", 1, noise=0.01), make(tmp_path, "b", 2, slowdown=1.25, noise=0.01)
    status, _, _ = run_compare(a, b, *NO_SPREAD, "--json", tmp_path / "r.json")
    assert status == 1
    thr = [r for r in rows(tmp_path / "r.json") if r["metric"] == "throughput"][0]
    assert thr["ratio"] == pytest.approx(1 / 1.25, rel=0.03)
    low, high = thr["ratio_interval"]
    assert low < thr["ratio"] < high and high < 1
    assert thr["p_worse"] < 0.001


def test_slower_within_threshold_passes(tmp_path):
    # 2 % slower with very little noise: significant, but below the 5 % threshold.
    a = make(tmp_path, "a", 1, noise=0.002)
    b = make(tmp_path, "b", 2, slowdown=1.02, noise=0.002)
    status, out, err = run_compare(a, b, "--json", tmp_path / "r.json")
    assert status == 0, out + err
    verdicts = {r["verdict"] for r in rows(tmp_path / "r.json")}
    assert "worse, within threshold" in verdicts and "REGRESSION" not in verdicts


def test_threshold_option_moves_the_line(tmp_path):
    a = make(tmp_path, "a", 1, noise=0.005)
    b = make(tmp_path, "b", 2, slowdown=1.10, noise=0.005)
    assert run_compare(a, b, *NO_SPREAD)[0] == 1
    assert run_compare(a, b, *NO_SPREAD, "--threshold", "15%")[0] == 0
    assert run_compare(a, b, *NO_SPREAD, "--threshold", "0.15")[0] == 0
    # Per-metric threshold: only p99 keeps the default and fails.
    status, out, _ = run_compare(a, b, *NO_SPREAD, "--threshold", "15%", "--threshold-for", "latency_p99=5%")
    assert status == 1 and "p99" in [line for line in out.splitlines() if "REGRESSION" in line][0]


def test_improvement_passes_and_is_reported(tmp_path):
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2, slowdown=0.7)
    status, out, _ = run_compare(a, b, "--json", tmp_path / "r.json")
    assert status == 0
    assert {r["verdict"] for r in rows(tmp_path / "r.json")
            if r["metric"] != "mem_per_connection"} == {"better"}


def test_too_few_repetitions_is_an_error_not_a_verdict(tmp_path):
    a = make(tmp_path, "a", 1, repeats=3)
    b = make(tmp_path, "b", 2, repeats=3, slowdown=2.0)
    status, out, err = run_compare(a, b)
    assert status == 2
    assert "too few repetitions" in err and "at least" in err
    assert "PASS" not in out and "FAIL" not in out
    # Alone, without correction and with a looser alpha, 3 vs 3 can reach p = 0.05 < 0.1.
    assert run_compare(a, b, *NO_SPREAD, "--alpha", "0.1", "--correction", "none")[0] == 1


def test_one_repetition_is_an_error(tmp_path):
    a, b = make(tmp_path, "a", 1, repeats=1), make(tmp_path, "b", 2, repeats=1)
    status, _, err = run_compare(a, b, "--alpha", "0.5", "--correction", "none")
    assert status == 2 and "too few repetitions" in err


def test_mismatched_scenarios_are_an_error(tmp_path):
    other = dict(synthetic.SCENARIO, name="other")
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2, scenario=other)
    status, out, err = run_compare(a, b)
    assert status == 2
    assert "mismatched scenarios" in err and "'synthetic'" in err and "'other'" in err


def test_same_name_different_settings_is_an_error_unless_allowed(tmp_path):
    changed = dict(synthetic.SCENARIO, duration_s=10)
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2, scenario=changed)
    status, _, err = run_compare(a, b)
    assert status == 2 and "duration_s" in err
    status, out, _ = run_compare(a, b, "--allow-scenario-diff")
    assert status == 0 and "scenario settings differ in: duration_s" in out


def test_points_only_on_one_side_are_warned_about(tmp_path):
    a = make(tmp_path, "a", 1, concurrency=(10, 100))
    b = make(tmp_path, "b", 2, concurrency=(10,))
    status, out, _ = run_compare(a, b, "--allow-scenario-diff")
    assert status == 0
    assert "epoll c=100: only in the baseline, not compared" in out


def test_failed_candidate_runs_fail_the_check(tmp_path):
    a = make(tmp_path, "a", 1)
    b = make(tmp_path, "b", 2, failed={("epoll", 100): 2})
    status, out, _ = run_compare(a, b)
    assert status == 1
    assert "2 of 8 candidate repetitions failed (server_died)" in out


def test_environment_difference_is_a_warning(tmp_path):
    a = make(tmp_path, "a", 1)
    b = make(tmp_path, "b", 2, env=synthetic.environment(cpu_model="Other CPU", cores=4))
    status, out, _ = run_compare(a, b, "--markdown", tmp_path / "s.md")
    assert status == 0
    assert "environment differs: cpu_model" in out and "environment differs: cores" in out
    assert "cpu_model" in (tmp_path / "s.md").read_text()


@pytest.mark.parametrize("setup,message", [
    ("missing", "is not a directory"),
    ("no_manifest", "no manifest.json"),
    ("wrong_kind", "is not a results folder"),
    ("bad_json", "is not valid JSON"),
    ("no_points", "no finished repetitions"),
])
def test_bad_folders_are_clear_errors(tmp_path, setup, message):
    good = make(tmp_path, "good", 1)
    bad = str(tmp_path / "bad")
    if setup != "missing":
        os.makedirs(bad)
    if setup == "wrong_kind":
        (tmp_path / "bad" / "manifest.json").write_text('{"kind": "something-else", "schema_version": 1}')
    if setup == "bad_json":
        bad = make(tmp_path, "bad", 2)
        (tmp_path / "bad" / "points" / "epoll" / "c10" / "rep3.json").write_text("{truncated")
    if setup == "no_points":
        bad = make(tmp_path, "bad", 2)
        import shutil
        shutil.rmtree(os.path.join(bad, "points"))
    status, out, err = run_compare(good, bad)
    assert status == 2, out + err
    assert message in err and "Traceback" not in err


def test_temporary_files_are_ignored(tmp_path):
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2)
    (tmp_path / "b" / "points" / "epoll" / "c10" / "rep9.json.tmp").write_text("{half")
    (tmp_path / "b" / "points" / "epoll" / "c10" / ".rep9.json").write_text("{half")
    assert run_compare(a, b)[0] == 0


def test_bad_options_are_clear_errors(tmp_path):
    a = make(tmp_path, "a", 1)
    status, _, err = run_compare(a, a, "--metrics", "throughput,bogus")
    assert status == 2 and "unknown metric(s) bogus" in err
    status, _, err = run_compare(a, a, "--alpha", "1.5")
    assert status == 2 and "alpha" in err
    status, _, err = run_compare(a, a, "--threshold", "lots")
    assert status == 2 and "not a number" in err


def test_metric_selection(tmp_path):
    a, b = make(tmp_path, "a", 1), make(tmp_path, "b", 2, slowdown=1.3)
    status, _, _ = run_compare(a, b, "--metrics", "mem_per_connection", "--json", tmp_path / "r.json")
    assert status == 0
    assert {r["metric"] for r in rows(tmp_path / "r.json")} == {"mem_per_connection"}


def test_false_alarm_rate_and_power_on_the_noise_model(tmp_path):
    """The procedure's error rates under a known model: 4 % noise per repetition, 8 repetitions.

    Holm keeps the family-wise false alarm rate <= alpha = 5 % per comparison; the threshold lowers
    it further. A 10 % slowdown with this noise should be found essentially every time.
    """
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from perfcheck.compare import Options, compare
    from perfcheck.results import Results
    trials = 60
    false_alarms = detected = 0
    for i in range(trials):
        base = Results(make(tmp_path, f"base{i}", 1000 + i, noise=0.04))
        same = Results(make(tmp_path, f"same{i}", 2000 + i, noise=0.04))
        slow = Results(make(tmp_path, f"slow{i}", 3000 + i, noise=0.04, slowdown=1.10))
        false_alarms += compare(base, same, Options(aa_spread=0)).failed
        detected += compare(base, slow, Options(aa_spread=0)).failed
    assert false_alarms <= 3          # expected <= 5 % of 60 = 3
    assert detected >= trials - 3     # power >= 95 %


def test_zero_baseline_and_non_finite_values_do_not_break_the_comparison(tmp_path):
    a = make(tmp_path, "a", 1, memory_kib=0.0)
    b = make(tmp_path, "b", 2, memory_kib=5.0)
    # A NaN figure in one repetition is ignored, not sorted into the ranks.
    rep = tmp_path / "b" / "points" / "epoll" / "c100" / "rep1.json"
    doc = results.read_repetition(str(rep))
    doc["server_usage"]["cpu_per_request_us"] = float("nan")
    rep.write_text(json.dumps(doc))
    status, out, err = run_compare(a, b, *NO_SPREAD, "--json", tmp_path / "r.json")
    assert status == 1, out + err
    by_key = {(r["concurrency"], r["metric"]): r for r in rows(tmp_path / "r.json")}
    mem = by_key[(100, "mem_per_connection")]
    assert mem["verdict"] == "REGRESSION" and mem["ratio"] is None  # infinite ratio written as null
    assert len(by_key[(100, "cpu_per_request")]["candidate_values"]) == 7
