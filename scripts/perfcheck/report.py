"""Readable output of a Comparison: an aligned text table for terminals, Markdown for CI logs."""
from .compare import FAILED_RUNS, REGRESSION
from .results import point_label


def fmt_num(v):
    if v is None:
        return "-"
    if v == float("inf"):
        return "inf"
    if v == 0:
        return "0"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def fmt_ratio(v):
    return "-" if v is None else ("inf" if v == float("inf") else f"{v:.3f}")


def fmt_p(p):
    if p is None:
        return "-"
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


def fmt_interval(row):
    if row.ci_low is None or row.ci_high is None:
        return "-"
    return f"[{fmt_ratio(row.ci_low)}, {fmt_ratio(row.ci_high)}]"


def _cells(cmp):
    head = ["point", "metric", "n", "baseline", "candidate", "ratio",
            f"{cmp.interval_level:.0%} CI", "p(worse)", "adj. p", "verdict"]
    body = []
    for r in cmp.rows:
        unit = r.metric.unit
        body.append([
            point_label(r.point), f"{r.metric.label} ({unit})",
            f"{len(r.base_values)}/{len(r.cand_values)}",
            fmt_num(r.base_median), fmt_num(r.cand_median), fmt_ratio(r.ratio),
            fmt_interval(r), fmt_p(r.p_worse), fmt_p(_adjusted(r, cmp)),
            r.verdict + (f" (>{r.threshold:.0%})" if r.verdict == REGRESSION else "")
            + (f" [{r.note}]" if r.note else ""),
        ])
    return head, body


def _adjusted(row, cmp):
    """The p-value the verdict used: family-wise adjusted (maxT), else the per-row one."""
    if cmp.options.correction == "maxt":
        return row.p_worse_adjusted
    return row.p_worse


CORRECTION_TEXT = {
    "maxt": "family-wise by Westfall-Young maxT over all tests",
    "holm": "Holm-corrected over all tests",
    "none": "per test",
}


def _summary_line(cmp):
    o = cmp.options
    n_reg = len(cmp.regressions)
    if cmp.failed:
        parts = []
        if n_reg:
            parts.append(f"{n_reg} significant regression(s) beyond the threshold")
        if cmp.failures:
            parts.append(f"{len(cmp.failures)} point(s) with failed candidate runs")
        verdict = "FAIL: " + "; ".join(parts)
    else:
        verdict = "PASS: no significant regression beyond the threshold"
    corr = CORRECTION_TEXT[o.correction]
    if o.correction == "maxt" and cmp.correction_info:
        info = cmp.correction_info
        corr += (f", {info['labellings']:,} {'' if info['exact'] else 'sampled '}re-labellings: "
                 f"{info['relabelling']}")
    threshold = f"threshold {o.threshold:.0%}" if cmp.paired else \
        f"threshold {o.threshold:.0%} or the A/A spread of separate runs, whichever is larger"
    return (f"{verdict} (alpha {o.alpha} {corr}, {threshold}, "
            f"one-sided Mann-Whitney U; ratio = candidate/baseline medians)")


def text_table(cmp):
    head, body = _cells(cmp)
    widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
    right = {2, 3, 4, 5, 7, 8}
    lines = [f"scenario {cmp.candidate.scenario_name}: baseline {cmp.baseline.path}, "
             f"candidate {cmp.candidate.path}"]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    lines.append(line(head))
    lines.append("  ".join("-" * w for w in widths))
    lines.extend(line(row) for row in body)
    for f in cmp.failures:
        lines.append(f"{FAILED_RUNS}: {f}")
    for w in cmp.warnings:
        lines.append(f"warning: {w}")
    lines.extend(f"note: {n}" for n in cmp.notes)
    lines.append(_summary_line(cmp))
    return "\n".join(lines) + "\n"


def markdown(cmp):
    head, body = _cells(cmp)
    status = "❌ regression" if cmp.failed else "✅ pass"
    out = [f"## Performance check: `{cmp.candidate.scenario_name}` — {status}", "",
           _summary_line(cmp), "",
           f"Baseline `{cmp.baseline.path}`, candidate `{cmp.candidate.path}`.", ""]
    out.extend(f"- {n}" for n in cmp.notes)
    if cmp.notes:
        out.append("")
    if cmp.failures:
        out.append("**Failed candidate runs:**")
        out.extend(f"- {f}" for f in cmp.failures)
        out.append("")
    regressions = cmp.regressions
    if regressions:
        out.append("**Regressions:**")
        for r in regressions:
            out.append(f"- {point_label(r.point)} {r.metric.label}: {fmt_num(r.base_median)} -> "
                       f"{fmt_num(r.cand_median)} {r.metric.unit} (ratio {fmt_ratio(r.ratio)}, "
                       f"adj. p {fmt_p(_adjusted(r, cmp))})")
        out.append("")
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join("---:" if i in (2, 3, 4, 5, 7, 8) else "---" for i in range(len(head))) + "|")
    for row in body:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |")
    if cmp.warnings:
        out.append("")
        out.append("**Warnings:**")
        out.extend(f"- {w}" for w in cmp.warnings)
    return "\n".join(out) + "\n"
