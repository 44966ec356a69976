"""Westfall-Young step-down maxT: a family-wise correction that knows the rows are correlated.

Holm treats the 18 rows of a comparison as if each could be wrong on its own, so the first must
reach alpha/18. But the rows come from the same runs: throughput, p50 and CPU per request at one
point move together, and so does a noisy round across every point. maxT gets the joint null
distribution of all rows by re-labelling whole runs (a run keeps its values at every point and
metric), so correlated rows share one threshold instead of splitting alpha between them, and the
family-wise error rate stays at alpha exactly, for any correlation (Westfall & Young 1993).

Each row's statistic is the standardised Mann-Whitney U of "candidate worse" (tie-corrected), so
rows in different units compare. Re-labelling:
- paired (an interleaved session: baseline and candidate run k were measured back to back in
  round k): swap the two labels within any subset of rounds, 2^rounds re-labellings. This respects
  the design: a round's noise stays inside the round.
- unpaired (two separate folders): any split of the pooled runs into groups of the original sizes.
Up to EXACT_MAX re-labellings are enumerated; beyond that a fixed-seed sample of SAMPLES is drawn
(plus the observed labelling), so the same folders always give the same verdict.
"""
import collections
import itertools
import math
import random

from . import stats

EXACT_MAX = 1 << 16
SAMPLES = 20000
SEED = 20261121


class _Row:
    """One row's pooled values (oriented: larger = worse), their mid-ranks and the tie term."""

    def __init__(self, base, cand, units):
        # base/cand: {unit: value}; units: the ordered list of (side, unit) the labellings act on.
        self.slot = {}
        values = []
        for side, unit in units:
            v = (base if side == 0 else cand).get(unit)
            if v is not None:
                self.slot[(side, unit)] = len(values)
                values.append(v)
        self.rank = stats.midranks(values)
        ties = sum(t ** 3 - t for t in collections.Counter(values).values())
        self.total = len(values)
        self.tie_term = ties / (self.total * (self.total - 1)) if self.total > 1 else 0.0

    def z(self, rank_sum, m):
        """Standardised U of the candidate-labelled values (rank sum, count m); 0 if undefined."""
        n, big = self.total - m, self.total
        var = n * m / 12 * ((big + 1) - self.tie_term)
        if n == 0 or m == 0 or var <= 0:
            return 0.0
        return (rank_sum - m * (big + 1) / 2) / math.sqrt(var)


def labellings_count(n_rounds=None, n_base=None, n_cand=None):
    """How many distinct re-labellings there are: the smallest p-value is 1 / this."""
    if n_rounds is not None:
        return 2 ** n_rounds
    return math.comb(n_base + n_cand, n_cand)


def adjusted_p_values(rows, paired):
    """rows: list of (base, cand), dicts unit -> value oriented so that larger is worse.

    Returns (p_worse, p_better, info): step-down maxT adjusted p-values per row for "candidate
    worse" and for "candidate better", and a dict describing the permutation scheme.
    """
    base_units = sorted({u for b, _ in rows for u in b})
    cand_units = sorted({u for _, c in rows for u in c})
    if paired:
        rounds = sorted(set(base_units) & set(cand_units))
        units = [(side, u) for u in rounds for side in (0, 1)]
        units += [(0, u) for u in base_units if u not in rounds]
        units += [(1, u) for u in cand_units if u not in rounds]
        count = labellings_count(n_rounds=len(rounds))
    else:
        units = [(0, u) for u in base_units] + [(1, u) for u in cand_units]
        count = labellings_count(n_base=len(base_units), n_cand=len(cand_units))
    prepared = [_Row(b, c, units) for b, c in rows]

    stats_per_labelling = []
    if paired:
        stats_per_labelling = _paired_stats(prepared, rounds, count)
    else:
        stats_per_labelling = _unpaired_stats(prepared, base_units, cand_units, count)
    observed = stats_per_labelling[0]
    worse = _step_down(observed, stats_per_labelling, 1)
    better = _step_down(observed, stats_per_labelling, -1)
    exact = count <= EXACT_MAX
    info = {"method": "Westfall-Young step-down maxT on standardised Mann-Whitney U",
            "relabelling": ("swap baseline and candidate within rounds" if paired
                            else "split the pooled runs into groups of the original sizes"),
            "labellings": len(stats_per_labelling), "exact": exact,
            "smallest_p": 1 / min(count, len(stats_per_labelling))}
    return worse, better, info


def _paired_stats(prepared, rounds, count):
    """Statistics under every swap pattern (Gray code: one round flips per step) or a sample."""
    # Per row: rank sum and count of candidate-labelled values for the observed labelling, and
    # for each round the change when that round's labels swap.
    state = []
    for row in prepared:
        w = sum(row.rank[i] for (side, _), i in row.slot.items() if side == 1)
        m = sum(1 for (side, _) in row.slot if side == 1)
        deltas = []
        for u in rounds:
            b, c = row.slot.get((0, u)), row.slot.get((1, u))
            rb = row.rank[b] if b is not None else 0.0
            rc = row.rank[c] if c is not None else 0.0
            deltas.append((rb - rc, (b is not None) - (c is not None)))
        state.append([w, m, deltas])
    out = [[row.z(w, m) for row, (w, m, _) in zip(prepared, state)]]
    if count <= EXACT_MAX:
        swapped = [False] * len(rounds)
        for step in range(1, count):
            k = (step & -step).bit_length() - 1  # the bit that changes in the Gray code
            sign = -1 if swapped[k] else 1
            swapped[k] = not swapped[k]
            for st in state:
                dw, dm = st[2][k]
                st[0] += sign * dw
                st[1] += sign * dm
            out.append([row.z(w, m) for row, (w, m, _) in zip(prepared, state)])
        return out
    rng = random.Random(SEED)
    base_w = [(w, m) for w, m, _ in state]
    for _ in range(SAMPLES):
        pattern = [rng.random() < 0.5 for _ in rounds]
        zs = []
        for row, (w, m), (_, _, deltas) in zip(prepared, base_w, state):
            for flip, (dw, dm) in zip(pattern, deltas):
                if flip:
                    w += dw
                    m += dm
            zs.append(row.z(w, m))
        out.append(zs)
    return out


def _unpaired_stats(prepared, base_units, cand_units, count):
    pooled = [(0, u) for u in base_units] + [(1, u) for u in cand_units]
    n_cand = len(cand_units)

    def stats_for(chosen):
        zs = []
        for row in prepared:
            w, m = 0.0, 0
            for j in chosen:
                i = row.slot.get(pooled[j])
                if i is not None:
                    w += row.rank[i]
                    m += 1
            zs.append(row.z(w, m))
        return zs

    observed = tuple(range(len(base_units), len(pooled)))
    out = [stats_for(observed)]
    if count <= EXACT_MAX:
        for chosen in itertools.combinations(range(len(pooled)), n_cand):
            if chosen != observed:
                out.append(stats_for(chosen))
        return out
    rng = random.Random(SEED)
    for _ in range(SAMPLES):
        out.append(stats_for(rng.sample(range(len(pooled)), n_cand)))
    return out


def _step_down(observed, all_stats, sign):
    """Westfall-Young step-down adjusted p-values for the statistics sign * z."""
    k = len(observed)
    order = sorted(range(k), key=lambda i: -sign * observed[i])  # most extreme first
    exceed = [0] * k
    for zs in all_stats:
        running = -math.inf
        for pos in range(k - 1, -1, -1):  # successive maxima from the least extreme row up
            i = order[pos]
            running = max(running, sign * zs[i])
            if running >= sign * observed[i] - 1e-9:
                exceed[pos] += 1
    adjusted = [0.0] * k
    previous = 0.0
    for pos, i in enumerate(order):
        previous = max(previous, exceed[pos] / len(all_stats))
        adjusted[i] = previous
    return adjusted
