"""The demo: a quick C10K comparison with the project's own loadgen.

It runs a shipped scenario (c10k unless --scenario says otherwise) with its quick overrides, prints
the summary table and a terminal bar chart of throughput per model at the largest C, and says where
the HTML report is. What it runs (which models, which sweep) is read from the scenario, so the help
says what the demo does.
"""
import argparse
import os
import sys

from . import results, runner, scenario

SCENARIO = "c10k"
BAR_WIDTH = 40


def bar_chart(rows, width=BAR_WIDTH, unit="req/s"):
    """Text bars for [(label, value or None, note)], scaled to the largest value."""
    top = max((v for _, v, _ in rows if v), default=0)
    label_w = max((len(label) for label, _, _ in rows), default=0)
    lines = []
    for label, value, note in rows:
        if value is None:
            lines.append(f"{label:<{label_w}}  {'':<{width}}  {note or 'no result'}")
            continue
        n = round(width * value / top) if top else 0
        bar = "#" * n if n or not value else "|"
        text = f"{value:,.0f} {unit}" + (f"  {note}" if note else "")
        lines.append(f"{label:<{label_w}}  {bar:<{width}}  {text}")
    return lines


def largest_c_rows(folder):
    """(series, requests/s, share of C/D) at the largest concurrency each series reached."""
    res = results.Folder(folder)
    points = res.points()
    if not points:
        return None, []
    top_c = max(p["concurrency"] for p in points)
    rows = []
    for s in res.series():
        p = next((p for p in points if p["series"] == s.name and p["concurrency"] == top_c), None)
        if p is None:
            rows.append((s.name, None, "not measured"))
            continue
        ideal = p.get("ideal_requests_per_sec")
        rps = p["requests_per_sec"]
        note = f"({100 * rps / ideal:.0f}% of C/D)" if rps is not None and ideal else ", ".join(p["statuses"])
        rows.append((s.name, rps, note))
    return top_c, rows


def show(folder, out=sys.stdout):
    """Prints the bar chart and the results folder (the run itself printed the summary tables and
    where the report is)."""
    top_c, rows = largest_c_rows(folder)
    if rows:
        print(f"\nThroughput per model at C={top_c:,} (ideal C/D = {top_c:,} requests/s):\n", file=out)
        for line in bar_chart(rows):
            print("  " + line, file=out)
    print(f"Results folder: {folder}", file=out)


def _and(items):
    items = list(items)
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else "".join(items)


def what_it_runs(name=SCENARIO):
    """'the c10k scenario's quick sweep: 6 series (blocking, ...), C = 1, 10, 100 and 1,000, ...',
    from the scenario itself."""
    try:
        sc = scenario.load(name, quick=True)
    except scenario.ScenarioError as e:
        return f"the {name} scenario's quick sweep (unreadable here: {e})"
    cs = _and(f"{c:,}" for c in sorted({c for s in sc.series for c in s.concurrency}))
    ds = {s.service_time_s for s in sc.series}
    d = f", each request waiting {ds.pop():g} s in the server" if len(ds) == 1 and 0 not in ds else ""
    return (f"the {sc.name} scenario's quick sweep: {len(sc.series)} series ({_and(s.name for s in sc.series)}), "
            f"C = {cs}{d}")


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="c10k demo", description=f"The demo: a quick C10K comparison with the project's own loadgen. "
        f"It runs {what_it_runs()}; prints the summary table and a bar chart of requests/s per series at the "
        "largest C; and writes the HTML report with the plots.")
    ap.add_argument("--out", metavar="DIR", help="parent folder of the results folder (default: ./results)")
    ap.add_argument("--scenario", default=SCENARIO, help=f"scenario to run quickly (default: {SCENARIO})")
    ap.add_argument("--bin-dir", metavar="DIR", help="where server-* and loadgen are")
    args = ap.parse_args(argv)
    parent = os.path.abspath(args.out or os.path.join(os.getcwd(), "results"))
    os.makedirs(parent, exist_ok=True)
    before = set(os.listdir(parent))
    run_args = [args.scenario, "--quick", "--out", parent]
    if args.bin_dir:
        run_args += ["--bin-dir", args.bin_dir]
    status = runner.main(run_args)
    new = sorted(set(os.listdir(parent)) - before)
    folder = os.path.join(parent, new[-1]) if new else None
    if folder is None or not os.path.isfile(os.path.join(folder, "manifest.json")):
        print("demo: the run wrote no results folder", file=sys.stderr)
        return status or 1
    print()
    show(folder)
    return status
