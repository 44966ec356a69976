"""The Westfall-Young maxT correction (scripts/perfcheck/maxt.py), against brute force and against
what it must do: reduce to the exact per-row test for one row, share one threshold between
perfectly correlated rows, keep the false-alarm rate at alpha, and re-label within rounds when the
folders come from one interleaved session."""
import itertools
import json
import math
import os
import random
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from perfcheck import maxt, stats, synthetic  # noqa: E402
from perfcheck.compare import Options, compare  # noqa: E402
from perfcheck.results import Results  # noqa: E402


def as_dicts(base, cand):
    return ({i: v for i, v in enumerate(base, 1)}, {i: v for i, v in enumerate(cand, 1)})


@pytest.mark.parametrize("base, cand", [
    ([1.0, 2.0, 3.0, 4.0, 5.0], [2.5, 3.5, 6.0, 7.0, 8.0]),
    ([5, 5, 6, 7, 7, 8], [6, 7, 7, 9, 9, 9]),        # ties
    ([10, 11, 12, 13], [1, 2, 3, 4, 5, 6]),          # better, unequal sizes
])
def test_one_row_unpaired_equals_the_exact_mann_whitney_p(base, cand):
    worse, better, info = maxt.adjusted_p_values([as_dicts(base, cand)], paired=False)
    mw = stats.mann_whitney(base, cand)
    assert info["exact"] and info["labellings"] == math.comb(len(base) + len(cand), len(cand))
    assert worse[0] == pytest.approx(mw["p_greater"])
    assert better[0] == pytest.approx(mw["p_less"])


def test_one_row_paired_equals_brute_force_over_swaps():
    rng = random.Random(7)
    base = [rng.gauss(0, 1) for _ in range(8)]
    cand = [b + 0.8 + rng.gauss(0, 0.5) for b in base]
    worse, _, info = maxt.adjusted_p_values([as_dicts(base, cand)], paired=True)
    assert info["labellings"] == 2 ** 8 and "within rounds" in info["relabelling"]
    pooled = base + cand
    ranks = stats.midranks(pooled)
    observed = sum(ranks[8:])
    hits = 0
    for swaps in itertools.product((0, 1), repeat=8):
        s = sum(ranks[i] if sw else ranks[8 + i] for i, sw in enumerate(swaps))
        hits += s >= observed - 1e-9
    assert worse[0] == pytest.approx(hits / 2 ** 8)


def test_identical_rows_share_one_threshold_where_holm_would_split_it():
    base = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    cand = [3.5, 4.5, 6.5, 7.0, 8.0, 9.0]
    single, _, _ = maxt.adjusted_p_values([as_dicts(base, cand)], paired=False)
    five, _, _ = maxt.adjusted_p_values([as_dicts(base, cand)] * 5, paired=False)
    assert five == pytest.approx(single * 5)  # Holm would give 5 x the smallest p-value


def test_adjusted_p_values_are_monotone_and_at_least_the_raw_ones():
    rng = random.Random(3)
    rows = []
    for shift in (0.0, 0.3, 1.0, 2.0):
        b = [rng.gauss(0, 1) for _ in range(7)]
        c = [rng.gauss(shift, 1) for _ in range(7)]
        rows.append(as_dicts(b, c))
    worse, _, _ = maxt.adjusted_p_values(rows, paired=True)
    raw, _, _ = zip(*[maxt.adjusted_p_values([r], paired=True) for r in rows])
    for adj, r in zip(worse, raw):
        assert adj >= r[0] - 1e-12
    z_order = sorted(range(4), key=lambda i: raw[i][0])
    assert [worse[i] for i in z_order] == sorted(worse[i] for i in z_order)


def test_large_designs_are_sampled_with_a_fixed_seed():
    rng = random.Random(11)
    rows = [as_dicts([rng.gauss(0, 1) for _ in range(20)], [rng.gauss(0.2, 1) for _ in range(20)])]
    a = maxt.adjusted_p_values(rows, paired=True)
    b = maxt.adjusted_p_values(rows, paired=True)
    assert a == b and not a[2]["exact"] and a[2]["labellings"] == maxt.SAMPLES + 1


def test_false_alarm_rate_is_alpha_with_correlated_rows():
    """Six rows driven by one shared noise per run plus their own: under the null the family-wise
    false-alarm rate stays near alpha, never above it by more than the sampling error."""
    rng = random.Random(2026)
    trials, alarms = 300, 0
    for _ in range(trials):
        rows = []
        shared_b = [rng.gauss(0, 1) for _ in range(8)]
        shared_c = [rng.gauss(0, 1) for _ in range(8)]
        for _ in range(6):
            rows.append(as_dicts([s + rng.gauss(0, 0.5) for s in shared_b],
                                 [s + rng.gauss(0, 0.5) for s in shared_c]))
        worse, _, _ = maxt.adjusted_p_values(rows, paired=True)
        alarms += min(worse) < 0.05
    assert alarms / trials <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / trials)


def _interleaved(path, side, rounds, session="s1"):
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["interleaved"] = {"side": side, "session": session, "rounds": rounds, "order": [],
                               "bin_dir": "x", "loadgen": "x", "env": {}}
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_interleaved_folders_are_compared_round_by_round(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1, repeats=8)
    cand = synthetic.make_results(str(tmp_path), "cand", 2, repeats=8, slowdown=1.3)
    unpaired = compare(Results(base), Results(cand), Options(aa_spread=0))
    assert "split the pooled runs" in unpaired.correction_info["relabelling"]
    _interleaved(tmp_path / "base", "baseline", 8)
    _interleaved(tmp_path / "cand", "candidate", 8)
    paired = compare(Results(base), Results(cand), Options())
    assert "within rounds" in paired.correction_info["relabelling"]
    # Folders of two different sessions are not pairs, whatever their round numbers say.
    _interleaved(tmp_path / "cand", "candidate", 8, session="s2")
    assert "split the pooled" in compare(Results(base), Results(cand),
                                         Options()).correction_info["relabelling"]
    _interleaved(tmp_path / "cand", "candidate", 8)
    paired = compare(Results(base), Results(cand), Options())
    assert paired.correction_info["labellings"] == 2 ** 8
    assert paired.failed and unpaired.failed
    row = paired.regressions[0]
    assert row.p_worse_adjusted >= row.p_worse


def test_too_few_interleaved_rounds_is_an_error(tmp_path):
    from perfcheck import PerfCheckError
    base = synthetic.make_results(str(tmp_path), "base", 1, repeats=4)
    cand = synthetic.make_results(str(tmp_path), "cand", 2, repeats=4, slowdown=2.0)
    _interleaved(tmp_path / "base", "baseline", 4)
    _interleaved(tmp_path / "cand", "candidate", 4)
    with pytest.raises(PerfCheckError, match=r"too few repetitions: 4 interleaved rounds.*1/16.*at least 5"):
        compare(Results(base), Results(cand), Options())
    # Holm on the per-row exact test needs even more: 4 vs 4 cannot reach alpha / 8.
    with pytest.raises(PerfCheckError, match="too few repetitions"):
        compare(Results(base), Results(cand), Options(correction="holm"))
