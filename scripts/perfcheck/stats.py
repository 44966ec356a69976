"""Distribution-free statistics for small samples: Mann-Whitney U and the Hodges-Lehmann interval.

Why these: repetitions of a benchmark point are few (5-12), not normal (one noisy repetition is
common) and sometimes tied (memory figures). The Mann-Whitney U test uses ranks only, so one outlier
cannot dominate, and its exact null distribution needs no assumption about the shape of the noise.
With ties we use the exact permutation distribution of the sum of mid-ranks (the conditional test),
so tied samples get honest p-values instead of normal-approximation guesses.
"""
import math

# Above these sizes the exact distribution is not needed: the normal approximation is excellent.
EXACT_MAX_TOTAL = 100
EXACT_MAX_SMALLER = 50


def median(values):
    s = sorted(values)
    if not s:
        raise ValueError("median of an empty sample")
    mid = len(s) // 2
    return s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def midranks(pooled):
    """1-based ranks of pooled values, ties given the mean of the ranks they span."""
    order = sorted(range(len(pooled)), key=lambda i: pooled[i])
    ranks = [0.0] * len(pooled)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and pooled[order[j + 1]] == pooled[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def _rank_sum_distribution(doubled_ranks, m):
    """Counts of every possible sum of m of the given (integer) doubled ranks, as {sum: count}.

    Dynamic programming over "how many chosen so far"; each count polynomial is packed into one
    Python integer (coefficient of x^s in bits [s*B, (s+1)*B)), so adding an item is a shift and an
    add done in C instead of a Python loop over every sum.
    """
    n_total = len(doubled_ranks)
    bits = math.comb(n_total, m).bit_length() + 1
    poly = [1] + [0] * m
    for i, r in enumerate(doubled_ranks):
        for k in range(min(m, i + 1), 0, -1):
            poly[k] += poly[k - 1] << (r * bits)
    mask = (1 << bits) - 1
    counts = {}
    value, s = poly[m], 0
    while value:
        c = value & mask
        if c:
            counts[s] = c
        value >>= bits
        s += 1
    return counts


def mann_whitney(baseline, candidate):
    """One-sided Mann-Whitney U test in both directions.

    Returns a dict: u (pairs candidate > baseline, ties counted 1/2), p_greater (P-value for
    "candidate tends to be larger"), p_less (for "smaller"), method ("exact" or "normal").
    """
    n, m = len(baseline), len(candidate)
    if n < 1 or m < 1:
        raise ValueError("both samples need at least one value")
    pooled = list(baseline) + list(candidate)
    ranks = midranks(pooled)
    cand_rank_sum = sum(ranks[n:])
    u = cand_rank_sum - m * (m + 1) / 2
    if len(set(pooled)) == 1:
        return {"u": u, "p_greater": 1.0, "p_less": 1.0, "method": "exact"}
    if n + m <= EXACT_MAX_TOTAL and min(n, m) <= EXACT_MAX_SMALLER:
        doubled = [int(round(2 * r)) for r in ranks]
        observed = int(round(2 * cand_rank_sum))
        dist = _rank_sum_distribution(doubled, m)
        total = sum(dist.values())
        ge = sum(c for s, c in dist.items() if s >= observed)
        le = sum(c for s, c in dist.items() if s <= observed)
        return {"u": u, "p_greater": ge / total, "p_less": le / total, "method": "exact"}
    # Normal approximation with tie correction and continuity correction.
    big_n = n + m
    ties = {}
    for v in pooled:
        ties[v] = ties.get(v, 0) + 1
    tie_term = sum(t ** 3 - t for t in ties.values()) / (big_n * (big_n - 1))
    var = n * m / 12 * ((big_n + 1) - tie_term)
    mean = n * m / 2
    sd = math.sqrt(var)
    z_greater = (u - mean - 0.5) / sd
    z_less = (u - mean + 0.5) / sd
    return {"u": u, "p_greater": _norm_sf(z_greater), "p_less": _norm_cdf(z_less), "method": "normal"}


def _norm_cdf(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _norm_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2))


def _norm_quantile(q):
    """Inverse of the standard normal CDF by bisection (precise enough for interval indices)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if _norm_cdf(mid) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def min_p_value(n, m):
    """Smallest one-sided p-value the exact test can give with n vs m untied values: 1/C(n+m, n)."""
    return 1 / math.comb(n + m, n)


def repeats_needed(alpha):
    """Smallest equal sample size k for which k vs k can reach p < alpha."""
    k = 1
    while min_p_value(k, k) >= alpha:
        k += 1
    return k


def _u_null_cdf(n, m):
    """P(U <= u) for u = 0..n*m under the null without ties (for interval order statistics)."""
    # Counts of U over all arrangements: standard recurrence on sizes, tabulated bottom-up.
    table = {}

    def counts(a, b):
        key = (a, b)
        if key in table:
            return table[key]
        if a == 0 or b == 0:
            res = [1]
        else:
            # The largest value is in the candidate sample (adds a to U) or in the baseline.
            with_b = [0] * a + counts(a, b - 1)
            with_a = counts(a - 1, b)
            size = a * b + 1
            res = [(with_b[i] if i < len(with_b) else 0) + (with_a[i] if i < len(with_a) else 0)
                   for i in range(size)]
        table[key] = res
        return res

    # Iterate sizes upward so recursion depth stays small.
    for a in range(n + 1):
        for b in range(m + 1):
            counts(a, b)
    c = counts(n, m)
    total = sum(c)
    cdf, acc = [], 0
    for x in c:
        acc += x
        cdf.append(acc / total)
    return cdf


def hodges_lehmann_interval(baseline, candidate, alpha):
    """Estimate and (1 - 2*alpha) interval for the candidate/baseline ratio (shift on log scale).

    The interval is the set of ratios r for which the one-sided Mann-Whitney tests of
    candidate/r against baseline do not reject at level alpha (Moses' order-statistic
    construction), so "lower bound > 1" agrees with the test of "candidate larger". Values must be
    positive; otherwise the shift is computed on the raw scale and divided by the baseline median.
    Returns (estimate, low, high); low/high are None when the sample is too small for any bound.
    """
    n, m = len(baseline), len(candidate)
    positive = all(v > 0 for v in baseline) and all(v > 0 for v in candidate)
    if positive:
        diffs = sorted(math.log(c) - math.log(b) for b in baseline for c in candidate)
        to_ratio = math.exp
    else:
        base_med = median(baseline)
        if base_med == 0:
            return (None, None, None)
        diffs = sorted(c - b for b in baseline for c in candidate)
        to_ratio = lambda d: 1 + d / base_med  # noqa: E731
    estimate = to_ratio(median(diffs))
    # k = largest k >= 1 with P(U <= k-1) < alpha; bounds are the k-th smallest and largest diffs.
    if n + m <= EXACT_MAX_TOTAL:
        cdf = _u_null_cdf(n, m)
        k = 0
        while k < len(cdf) and cdf[k] < alpha:
            k += 1
    else:
        z = _norm_quantile(1 - alpha)
        k = int(math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12)))
        k = max(0, min(k, len(diffs) // 2))
    if k == 0:
        return (estimate, None, None)
    return (estimate, to_ratio(diffs[k - 1]), to_ratio(diffs[len(diffs) - k]))


def holm(p_values, alpha):
    """Holm-Bonferroni step-down: which hypotheses are rejected at family-wise level alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    total = len(p_values)
    for step, i in enumerate(order):
        if p_values[i] < alpha / (total - step):
            rejected[i] = True
        else:
            break
    return rejected
