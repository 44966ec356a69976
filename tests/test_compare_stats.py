"""The statistics behind scripts/compare.py, checked against brute force and textbook values."""
import itertools
import math
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from perfcheck import stats  # noqa: E402


def brute_force_p(baseline, candidate):
    """P(rank sum of the candidate >= / <= observed) over every split of the pooled values."""
    pooled = baseline + candidate
    ranks = stats.midranks(pooled)
    n = len(baseline)
    observed = sum(ranks[n:])
    ge = le = total = 0
    for chosen in itertools.combinations(range(len(pooled)), len(candidate)):
        s = sum(ranks[i] for i in chosen)
        total += 1
        ge += s >= observed - 1e-9
        le += s <= observed + 1e-9
    return ge / total, le / total


def test_midranks_average_ties():
    assert stats.midranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert stats.midranks([5, 5, 5]) == [2, 2, 2]


def test_median():
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5
    with pytest.raises(ValueError):
        stats.median([])


@pytest.mark.parametrize("n,m", [(3, 3), (4, 4), (5, 5), (8, 8), (5, 9), (12, 12)])
def test_complete_separation_gives_the_smallest_p(n, m):
    base = [float(i) for i in range(n)]
    cand = [float(100 + i) for i in range(m)]
    r = stats.mann_whitney(base, cand)
    assert r["method"] == "exact"
    assert r["p_greater"] == pytest.approx(1 / math.comb(n + m, n))
    assert r["p_less"] == pytest.approx(1.0)
    assert r["u"] == n * m
    assert stats.min_p_value(n, m) == pytest.approx(1 / math.comb(n + m, n))


def test_textbook_critical_value_5_vs_5():
    # Tables of the U distribution: for n1 = n2 = 5, P(U <= 4) = 0.0476 and P(U <= 5) = 0.0754...
    cdf = stats._u_null_cdf(5, 5)
    assert cdf[4] == pytest.approx(12 / 252)
    assert cdf[5] == pytest.approx(19 / 252)
    assert cdf[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(12))
def test_exact_p_matches_brute_force_with_and_without_ties(seed):
    rng = random.Random(seed)
    n, m = rng.randint(2, 6), rng.randint(2, 6)
    levels = rng.choice([3, 5, 1000])  # few levels -> many ties
    base = [float(rng.randrange(levels)) for _ in range(n)]
    cand = [float(rng.randrange(levels) + rng.choice([0, 1])) for _ in range(m)]
    ge, le = brute_force_p(base, cand)
    r = stats.mann_whitney(base, cand)
    assert r["p_greater"] == pytest.approx(ge)
    assert r["p_less"] == pytest.approx(le)


def test_all_values_equal_is_never_significant():
    r = stats.mann_whitney([7.0] * 6, [7.0] * 6)
    assert r["p_greater"] == 1.0 and r["p_less"] == 1.0


def test_normal_approximation_is_close_to_exact(monkeypatch):
    rng = random.Random(3)
    base = [rng.gauss(100, 5) for _ in range(25)]
    cand = [rng.gauss(103, 5) for _ in range(25)]
    exact = stats.mann_whitney(base, cand)
    monkeypatch.setattr(stats, "EXACT_MAX_TOTAL", 0)
    approx = stats.mann_whitney(base, cand)
    assert exact["method"] == "exact" and approx["method"] == "normal"
    assert approx["p_greater"] == pytest.approx(exact["p_greater"], abs=0.005)
    assert approx["p_less"] == pytest.approx(exact["p_less"], abs=0.005)


def test_large_samples_use_the_normal_approximation():
    base = list(range(80))
    cand = [v + 20 for v in range(80)]
    r = stats.mann_whitney(base, cand)
    assert r["method"] == "normal"
    assert r["p_greater"] < 0.01 < r["p_less"]


@pytest.mark.parametrize("seed", range(30))
def test_interval_agrees_with_the_test(seed):
    """Untied data: the lower bound of the (1 - 2 alpha) interval is above 1 iff p < alpha."""
    rng = random.Random(seed)
    n, m = rng.randint(4, 10), rng.randint(4, 10)
    shift = rng.choice([1.0, 1.03, 1.08])
    base = [100 * math.exp(rng.gauss(0, 0.04)) for _ in range(n)]
    cand = [100 * shift * math.exp(rng.gauss(0, 0.04)) for _ in range(m)]
    alpha = 0.05
    est, low, high = stats.hodges_lehmann_interval(base, cand, alpha)
    assert low <= est <= high
    assert (low > 1) == (stats.mann_whitney(base, cand)["p_greater"] < alpha)
    assert (high < 1) == (stats.mann_whitney(base, cand)["p_less"] < alpha)


def test_interval_recovers_a_known_ratio():
    base = [100.0, 101.0, 99.0, 102.0, 98.0, 100.5, 99.5, 101.5]
    cand = [v * 1.10 for v in base]
    est, low, high = stats.hodges_lehmann_interval(base, cand, 0.05)
    assert est == pytest.approx(1.10, rel=1e-9)
    assert low < 1.10 < high and low > 1.05


def test_interval_is_absent_when_samples_are_too_small():
    est, low, high = stats.hodges_lehmann_interval([1.0, 2.0], [3.0, 4.0], 0.05)
    assert est is not None and low is None and high is None


def test_repeats_needed():
    assert stats.repeats_needed(0.05) == 4      # 3 vs 3 gives at best 1/20 = 0.05, not below
    assert stats.repeats_needed(0.005) == 5     # 1/252
    assert stats.repeats_needed(0.002) == 6     # 1/924
    assert stats.repeats_needed(0.001) == 7     # 1/924 is not below 0.001; 1/3432 is


def test_holm_step_down():
    assert stats.holm([0.001, 0.04, 0.03], 0.05) == [True, False, False]
    assert stats.holm([0.001, 0.02, 0.04], 0.05) == [True, True, True]
    assert stats.holm([0.2, 0.001], 0.05) == [False, True]
    assert stats.holm([], 0.05) == []
