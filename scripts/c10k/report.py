"""index.html (plots, a table per series with a row per point, environment, how to read it) and
summary.md (the headline numbers as Markdown tables, for READMEs and notes) of a results folder."""
import datetime
import html
import json
import os
import shlex
import statistics

from . import c10k_command, idleplots, idlereport, plots, pngcheck, results
from .nested import dig
from .series import as_series

PLOT_CAPTIONS = {
    "throughput": ("Throughput vs concurrency",
                   "Successful (2xx) responses per second each model sustained, median of the repetitions "
                   "(error bars: min and max), counted over the measured window after the warm-up. "
                   "The dashed black line is Little's law: C connections whose requests each take D seconds "
                   "can at best finish C/D requests per second."),
    "latency": ("Latency of successful responses vs concurrency",
                "Median (p50, solid) and 99th percentile (p99, dashed) time from sending a request to its full "
                "response, as the loadgen measured it, over the 2xx responses only: an immediate refusal (503) "
                "is not a fast answer. The ideal is D itself; queueing shows as growth above it. Refusals and "
                "errors are on the failures plot."),
    "memory": ("Memory per connection: user space and kernel",
               "Solid: (peak PSS - idle PSS) / C over the server's whole process tree. PSS shares each page among "
               "the processes that map it, so a forking server's shared code is not counted once per child. "
               "Dashed: the kernel's TCP socket buffer memory (/proc/net/sockstat, peak - first sample) / C. "
               "That figure is machine-wide: on loopback it holds both ends of every connection, the loadgen's "
               "too, and the socket structures themselves are not in it."),
    "cpu": ("Server CPU time per request",
            "User + system CPU of the server's process tree (including reaped children) divided by the requests "
            "it served, warm-up included in both."),
    "establishment": ("Establishment phase vs concurrency",
                      "Seconds from the loadgen's start until every one of the C connections had its first 2xx "
                      "answer: how fast the server takes connections on (accept for an event loop, a fork or a "
                      "thread spawn per connection for forking and threaded). C divided by it is the rate in "
                      "the table. The throughput window starts after this phase, skipping at most half of it; "
                      "a point that hit that bound says so under its row. A point where not every connection "
                      "was answered has no value here."),
    "failures": ("Errors and refusals vs concurrency",
                 "Solid: requests that ended in an error (connect, read, write, timeout, parse: no answer); "
                 "dashed: requests answered with a non-2xx status (refusals such as 503), each as a percentage "
                 "of the requests attempted. 100 % errors also marks a point where nothing came back."),
}

HOW_TO_READ = """
<p>Every point is one server model (a <em>series</em>) at one concurrency C: C connections each send a
request, wait for the full response, and send the next (closed loop). Each request costs the server
D = delay + work; Little's law then caps throughput at <strong>C / D</strong>, the dashed line on the
throughput plot. A model that keeps up with C concurrent connections sits on that line.</p>
{series_list}
<p>Each model has its own colour on every plot; the marker's shape is its family (one connection at
a time, a thread or process per connection, pools, event loops, other servers).</p>
<p>Log scales: equal distances are equal ratios. A point missing from a log plot had no value
(e.g. zero throughput); the tables below show every point, including those that failed or were skipped,
and the <em>why</em> line under a point gives the measured reason a point falls short of C/D. The server and the
loadgen run pinned to different CPUs when the machine has two or more. Raw data: the
<code>points/</code> folder (one JSON per repetition, format in docs/results-format.md) and
<code>plots/*.dat</code>.</p>
"""

CHECK_SCRIPT = """
<script>
// Lets a headless browser (scripts/c10k/pagecheck.py) confirm every image loaded.
window.addEventListener("load", function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;
  }
  document.body.setAttribute("data-images-total", String(imgs.length));
  document.body.setAttribute("data-images-ok", String(ok));
  // How wide the page and its widest table are laid out in this window: a table in a scrolling box
  // does not widen the page, yet is cut off on screen.
  var widest = 0, tables = document.getElementsByTagName("table");
  for (var t = 0; t < tables.length; t++) {
    widest = Math.max(widest, Math.ceil(tables[t].getBoundingClientRect().left + tables[t].scrollWidth));
  }
  document.body.setAttribute("data-window-width", String(window.innerWidth));
  document.body.setAttribute("data-page-width", String(document.documentElement.scrollWidth));
  document.body.setAttribute("data-widest-table", String(widest));
});
</script>
"""

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; padding: 0 12px; max-width: 1220px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 2px 3px; text-align: right; vertical-align: top; }
th { background: #f2f2f2; font-weight: normal; } td.l, th.l { text-align: left; } td { white-space: nowrap; }
table.points { font-size: 0.75em; } table.env td { white-space: normal; overflow-wrap: anywhere; } table.points th { vertical-align: bottom; }
tr.why td, tr.skip td { white-space: normal; }
tr.bad td { background: #fff0f0; } tr.why td { background: #fafafa; color: #444; border-top: none; } tr.skip td { background: #f6f6f6; color: #777; }
figure { margin: 1em 0 2em; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9em; color: #444; max-width: 1100px; }
.tw { overflow-x: auto; }
code { background: #f4f4f4; padding: 0 3px; }
"""


def _e(v):
    return html.escape("" if v is None else str(v))


def _num(v, digits=3):
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != 0 and abs(v) < 10 ** -(digits - 1):
            return f"{v:.2g}"
        return f"{v:,.{digits}g}" if abs(v) < 10 ** digits else f"{v:,.0f}"
    return f"{v:,}"


def _srv(v):
    """A server-side measurement: "n/a" when there was none (a server that was not sampled)."""
    return "n/a" if v is None else _num(v)


def _ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "–"


def _ratios(p, ref):
    """'1.23x, 0.80x': requests/s and CPU per request of point p over the reference point."""
    if p is None or ref is None:
        return "–"
    return (f"{_ratio(p['requests_per_sec'], ref['requests_per_sec'])}, "
            f"{_ratio(p['cpu_per_request_us'], ref['cpu_per_request_us'])}")


def _pct_of_ideal(p):
    if p["requests_per_sec"] is None or not p["ideal_requests_per_sec"]:
        return None
    return 100.0 * p["requests_per_sec"] / p["ideal_requests_per_sec"]


def _section(title, concurrencies):
    """A Markdown section heading and the head of its series x concurrency table."""
    return ["", f"## {title}", "",
            "| series | " + " | ".join(f"C={c:,}" for c in concurrencies) + " |",
            "|---|" + "---:|" * len(concurrencies)]


def _pct(pct):
    return f"{pct:.0f}%" if pct >= 9.5 else f"{pct:.2g}%"


def _rel(folder, *parts):
    return "/".join(parts)


def sweep_text(res):
    """The sweep this run ran, in words: 'C = 1, 10, 100 and 1,000 (the quick sweep), 3 s measured
    after a 1.5 s warm-up'. The scenario's description speaks of its full sweep; a quick run's
    report names its own."""
    cs = [f"{c:,}" for c in sorted({c for s in res.series() for c in s.concurrency})]
    text = "C = " + (", ".join(cs[:-1]) + " and " + cs[-1] if len(cs) > 1 else "".join(cs))
    if res.manifest.get("quick"):
        text += " (the quick sweep)"
    windows = {(s.loadgen.get("duration_s"), s.loadgen.get("warmup_s", 0)) for s in res.series()}
    if len(windows) == 1:
        duration, warmup = windows.pop()
        if duration:
            text += f", {duration:g} s measured" + (f" after a {warmup:g} s warm-up" if warmup else "")
    return text


def wall_time_text(manifest):
    """'6m12s over 1 run' from the runs the runner recorded (None when it recorded none)."""
    from .progress import fmt_duration
    walls = [r.get("wall_s") for r in manifest.get("runs") or [] if r.get("wall_s") is not None]
    if not walls:
        return None
    return f"{fmt_duration(sum(walls))} over {len(walls)} run{'s' if len(walls) > 1 else ''}"


def generator_bound(res):
    """point key (results.point_key) -> the loadgen's own warnings: points where the generator, not
    the server, set the pace (loadgen's JSON "generator.warnings")."""
    out = {}
    for r in res.repetitions():
        for w in dig(r, "loadgen", "generator", "warnings") or []:
            key = results.point_key(r["series"], r["concurrency"], r.get("idle") or 0, r.get("rate"))
            ws = out.setdefault(key, [])
            if w not in ws:
                ws.append(w)
    return out


def plain(entries):
    """The skipped points or warnings of points without idle connections or a swept rate: those the
    tables against C show (the idle section lists the others)."""
    return [p for p in entries if not p.get("idle") and p.get("rate") is None]


def where(p):
    """A skipped point or a warning in words: 'select at C=50', 'select at C=1 idle=3000'."""
    return results.point_label(p["series"], f"{p['concurrency']:,}", p.get("idle", 0), p.get("rate")).replace(
        " c=", " at C=", 1)


def write_summary(folder, res, points, extra=()):
    """summary.md: throughput against C/D and memory per connection, one row per series; extra:
    more Markdown lines (the idle section)."""
    concurrencies = sorted({c for s in res.series() for c in s.concurrency})
    by = {(p["series"], p["concurrency"]): p for p in points}
    skipped = {(p["series"], p["concurrency"]): p["reason"] for p in plain(res.skipped_points)}
    lines = [f"# {res.scenario['name']}: summary", "",
             f"Results folder `{os.path.basename(os.path.abspath(folder))}`, "
             f"started {res.manifest.get('started')}, finished {res.manifest.get('finished') or 'not finished'}"
             + (f", wall time {wall_time_text(res.manifest)}." if wall_time_text(res.manifest) else "."),
             "", f"This run's sweep: {sweep_text(res)}.",
             *machine_load_lines(points),
             *_section("Throughput, 2xx responses/s over the steady window (and % of the ideal C/D)", concurrencies)]
    for s in res.series():
        cells = []
        for c in concurrencies:
            p = by.get((s.name, c))
            if (s.name, c) in skipped:
                cells.append("skipped")
            elif p is None or p["requests_per_sec"] is None:
                cells.append("–" if p is None else ", ".join(p["statuses"]))
            else:
                pct = _pct_of_ideal(p)
                cells.append(_num(p["requests_per_sec"]) + (f" ({_pct(pct)})" if pct is not None else ""))
        lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    if any("duration_s" not in s.loadgen for s in res.series()):
        # Request-count runs (the seed's -n 5 -c 5): the time they took is the headline.
        lines += _section("Time taken per repetition, s (median)", concurrencies)
        for s in res.series():
            cells = [_num(by[(s.name, c)]["duration_s"]) if (s.name, c) in by else "–" for c in concurrencies]
            lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    lines += _section("Server CPU per request, µs (user + system, whole process tree)", concurrencies)
    for s in res.series():
        cells = [_srv(by[(s.name, c)]["cpu_per_request_us"]) if (s.name, c) in by else "–"
                 for c in concurrencies]
        lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    if any(s.compare_to for s in res.series()):
        lines += _section("Relative to the reference series: requests/s, CPU per request "
                          "(1.00x = the series named in compare_to)", concurrencies)
        for s in res.series():
            ref = s.compare_to
            if not ref:
                continue
            cells = [_ratios(by.get((s.name, c)), by.get((ref, c))) for c in concurrencies]
            lines.append(f"| {s.name} (vs {ref}) | " + " | ".join(cells) + " |")
    lines += _section("Establishment: seconds until all C connections were answered once "
                      "(and connections/s)", concurrencies)
    for s in res.series():
        cells = []
        for c in concurrencies:
            p = by.get((s.name, c))
            if p is None or (p.get("establishment_s") is None and p.get("establishment_answered") is None):
                cells.append("–")
            elif p.get("establishment_s") is None:
                cells.append(f"not all ({p['establishment_answered']:,} answered)")
            else:
                cells.append(f"{_num(p['establishment_s'])} ({_num(p['establishment_rate_per_s'])}/s)"
                             + (" bound hit" if p.get("establishment_bound_hit") else ""))
        lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    lines += _section("Server memory per connection, KiB of PSS ((peak - idle) / C)", concurrencies)
    for s in res.series():
        cells = []
        for c in concurrencies:
            p = by.get((s.name, c))
            cells.append(_num(p["pss_per_connection_kib"]) if p else "–")
        lines.append(f"| {s.name} | " + " | ".join(cells) + " |")
    lines += ["", "## Points short of C/D or with failures, and why (from the samples)", ""]
    n = 0
    for p in points:
        if p.get("diagnosis"):
            lines.append(f"- {p['series']} at C={p['concurrency']:,}: {p['diagnosis']}")
            n += 1
    for p in res.skipped_points:
        lines.append(f"- {where(p)}: {results.sentence('skipped: ' + p['reason'])}")
        n += 1
    for key, ws in generator_bound(res).items():
        p = dict(zip(("series", "concurrency", "idle", "rate"), key))
        lines.append(f"- {where(p)}: " + " ".join(point_notes(key, {}, {key: ws})))
        n += 1
    if not n:
        lines.append("- none")
    lines += list(extra)
    path = os.path.join(folder, "summary.md")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(path + ".tmp", path)


def point_notes(key, warnings, generator):
    """Sentences about a point besides its diagnosis: what the plan expected of it, and the load
    generator's own warnings that it, not the server, set the pace."""
    notes = [results.sentence("expected: " + warnings[key])] if key in warnings else []
    for w in generator.get(key, []):
        notes.append(results.sentence("the load generator set the pace: " + w))
    return notes


def series_list_html(res, styles=None):
    """What each series of this run is, in its own words: a model's one-line --describe (recorded in
    the manifest), a series' own description, or what it runs; with the plots' styles, each item
    also shows the series' colour and names its family (the marker shape on the plots)."""
    models = res.environment.get("models") or {}
    items = []
    for s in map(as_series, res.series()):
        d = dig(models, s.server, "description") if s.server else None
        d = d or s.description or s.command or s.url or ""
        if isinstance(d, (list, tuple)):
            d = " ".join(map(str, d))
        st = (styles or {}).get(s.name)
        swatch = f'<span style="color:{_e(st["color"])}">&#9632;</span> ' if st else ""
        family = f" <em>({_e(st['family'])})</em>" if st else ""
        items.append(f"<li>{swatch}<strong>{_e(s.name)}</strong>: {_e(d)}{family}</li>")
    return "<ul>\n" + "\n".join(items) + "\n</ul>" if items else ""


def machine_load_lines(points):
    """How busy the rest of the machine was while the points ran: the first thing to check when
    two runs of one scenario disagree."""
    loads = [(p["other_cpu_cores"], p["series"], p["concurrency"]) for p in points
             if p.get("other_cpu_cores") is not None]
    if not loads:
        return []
    worst = max(loads)
    busy = sum(1 for x in loads if x[0] >= results.BUSY_MACHINE_CORES)
    extra = []
    for key, what in (("niced_cpu_cores", "niced processes, which yield to the benchmark"),
                      ("steal_cores", "the hypervisor's steal time")):
        vals = [p[key] for p in points if p.get(key) is not None]
        if vals and statistics.median(vals) >= 0.05:
            extra.append(f"{what}: a median of {statistics.median(vals):.2f} cores")
    median = statistics.median(x[0] for x in loads)
    text = [f"Other processes on the machine kept a median of {median:.2f} cores busy during a point.",
            f"The most was {worst[0]:.2f} cores, at {worst[1]} C={worst[2]:,}."]
    if busy:
        text += [f"{busy} of {len(loads)} points ran beside {results.BUSY_MACHINE_CORES} cores or more of "
                 "other work.", "Their figures are those of a shared machine."]
    else:
        text.append("The machine was quiet.")
    text += [results.sentence(f"besides, {what}") for what in extra]
    return ["", " ".join(text)]


def _env_table(env):
    rows = []
    for key in ("cpu_model", "cores", "kernel", "hostname", "mem_total_kib", "nofile_limit", "somaxconn",
                "tcp_max_syn_backlog", "port_range", "pid_max", "threads_max", "nproc_limit", "pinning",
                "git_revision", "bin_dir"):
        if key in env:
            v = env[key]
            rows.append(f"<tr><th class=l>{_e(key)}</th><td class=l>{_e(json.dumps(v) if isinstance(v, (list, dict)) else v)}</td></tr>")
    for tool, version in sorted((env.get("tool_versions") or {}).items()):
        rows.append(f"<tr><th class=l>version of {_e(tool)}</th><td class=l>{_e(version)}</td></tr>")
    return "<table class=env>\n" + "\n".join(rows) + "\n</table>"


def _series_table(folder, s, points_by, skipped, warnings, repeats, generator):
    head = ("<tr><th>C</th><th>reps ok</th><th class=l>status</th><th title='2xx responses per second over the steady window'>2xx req/s</th><th>min–max</th><th>C/D</th>"
            "<th>% of C/D</th><th>loadgen req/s</th><th>time s</th><th>p50 ms (2xx)</th><th>p99 ms (2xx)</th><th title='until all C connections were answered once'>establish s</th><th>conn/s</th><th>errors %</th><th>non-2xx %</th><th>complete</th><th>failed</th>"
            "<th>server CPU cores</th><th>CPU/req µs</th><th>peak PSS MiB</th><th>PSS/conn KiB</th>"
            "<th title='kernel TCP socket memory, machine-wide, both ends of each loopback connection'>"
            "kernel TCP/conn KiB</th>"
            "<th>peak threads</th><th>peak procs</th><th class=l>files</th></tr>")
    rows = [head]
    for c in s.concurrency:
        key = (s.name, c)
        if key in skipped:
            rows.append(f"<tr class=skip><td>{c:,}</td><td colspan=24 class=l>skipped: {_e(skipped[key])}</td></tr>")
            continue
        p = points_by.get(key)
        if p is None:
            rows.append(f"<tr class=skip><td>{c:,}</td><td colspan=24 class=l>not run (yet)</td></tr>")
            continue
        pct = _pct_of_ideal(p)
        bad = p["ok_repetitions"] < p["repetitions"] or (p["failed_pct"] or 0) > 0
        why = " ".join([p.get("diagnosis") or ""] + point_notes(key, warnings, generator)).strip()
        files = " ".join(f'<a href="{_e(_rel(folder, "points", s.name, f"c{c}", f"rep{k}.json"))}">{k}</a>'
                         for k in range(1, repeats + 1)
                         if os.path.exists(results.rep_path(folder, s.name, c, k)))
        rng = ("–" if p["requests_per_sec_min"] is None else
               f"{_num(p['requests_per_sec_min'])}–{_num(p['requests_per_sec_max'])}")
        peak_mib = None if p["peak_pss_kib"] is None else p["peak_pss_kib"] / 1024
        rows.append(
            f"<tr{' class=bad' if bad else ''}><td>{c:,}</td><td>{p['ok_repetitions']}/{p['repetitions']}</td>"
            f"<td class=l>{_e(', '.join(p['statuses']))}</td><td>{_num(p['requests_per_sec'])}</td><td>{rng}</td>"
            f"<td>{_num(p['ideal_requests_per_sec'])}</td><td>{'–' if pct is None else _pct(pct)}</td>"
            f"<td>{_num(p['loadgen_requests_per_sec'])}</td><td>{_num(p['duration_s'])}</td>"
            f"<td>{_num(p['latency_p50_ms'])}</td><td>{_num(p['latency_p99_ms'])}</td>"
            f"<td>{_num(p.get('establishment_s'))}</td><td>{_num(p.get('establishment_rate_per_s'))}</td>"
            f"<td>{_num(p.get('errors_pct'))}</td><td>{_num(p.get('non_2xx_pct'))}</td><td>{_num(p['complete'])}</td><td>{_num(p['failed'])}</td>"
            f"<td>{_srv(p['server_cpu_cores'])}</td><td>{_srv(p['cpu_per_request_us'])}</td>"
            f"<td>{_srv(peak_mib)}</td><td>{_srv(p['pss_per_connection_kib'])}</td>"
            f"<td>{_srv(p.get('tcp_mem_per_connection_kib'))}</td>"
            f"<td>{_srv(p['peak_threads'])}</td><td>{_srv(p['peak_processes'])}</td>"
            f"<td class=l>{files}</td></tr>")
        if why:
            # On its own row under the point: a long reason in a narrow column would make the
            # whole row tall.
            rows.append(f"<tr class=why><td></td><td colspan=24 class=l>Why: {_e(why)}</td></tr>")
    return "<div class=tw><table class=points>\n" + "\n".join(rows) + "\n</table></div>"


def _options_text(s):
    opts = {k: v for k, v in s.server_options.items() if k != "extra_args" or v}
    lg = {k: v for k, v in s.loadgen.items() if v not in (None, []) }
    return f"{s.label} {json.dumps(opts) if opts else ''}; loadgen {json.dumps(lg)}"


def write_html(folder, res, points, styles, extra=()):
    m, sc = res.manifest, res.scenario
    points_by = {(p["series"], p["concurrency"]): p for p in points}
    skipped = {(p["series"], p["concurrency"]): p["reason"] for p in plain(res.skipped_points)}
    warnings = {(p["series"], p["concurrency"]): p["reason"] for p in plain(res.warnings)}
    generator = generator_bound(res)
    state = "finished " + _e(m.get("finished")) if m.get("finished") else (
        f"<strong>not finished</strong> (interrupted: {_e(m.get('interrupted') or 'running or killed')}; "
        f"resume with <code>{_e(c10k_command('run'))} --resume {_e(shlex.quote(os.path.abspath(folder)))}</code>)")
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>c10k-bench: {_e(sc['name'])} results</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>c10k-bench: <code>{_e(sc['name'])}</code> results</h1>",
        f"<p>{'The full scenario: ' if m.get('quick') else ''}{_e(sc['description'])}</p>",
        f"<p><strong>This run's sweep: {_e(sweep_text(res))}.</strong></p>",
        f"<p>Started {_e(m.get('started'))}, {state}. "
        f"{'Wall time ' + _e(wall_time_text(m)) + '. ' if wall_time_text(m) else ''}"
        f"{sc['repeats']} repetition(s) per point. Generated {_e(datetime.datetime.now().isoformat(timespec='seconds'))} "
        f"by scripts/plot.py. Machine: {_e(res.environment.get('cpu_model'))}, {_e(res.environment.get('cores'))} "
        f"cores, {_e(res.environment.get('kernel'))}.</p>",
        "<h2 id=how>How to read this</h2>", HOW_TO_READ.replace("{series_list}", series_list_html(res, styles)),
        "<h2 id=plots>Plots</h2>",
    ]
    for name in plots.PLOTS:
        title, caption = PLOT_CAPTIONS[name]
        w, h = pngcheck.size(os.path.join(folder, "plots", f"{name}.png"))
        parts.append(f'<figure id="plot-{name}"><a href="plots/{name}.svg"><img src="plots/{name}.png" '
                     f'width="{w}" height="{h}" alt="{_e(title)}"></a>'
                     f"<figcaption><strong>{_e(title)}.</strong> {_e(caption)} "
                     f'(<a href="plots/{name}.svg">SVG</a>)'
                     f"{plots.families_link(os.path.join(folder, 'plots'), name, _e)}</figcaption></figure>")
    parts += list(extra)
    parts.append("<h2 id=points>Points</h2>")
    parts.append("<p>One table per series, one row per concurrency; medians over the repetitions whose status is "
                 "<code>ok</code>. Rows with failures are tinted.</p>")
    for s in res.series():
        color = styles.get(s.name, {}).get("color", "#000")
        parts.append(f'<h3 id="series-{_e(s.name)}"><span style="color:{_e(color)}">&#9632;</span> {_e(s.name)}</h3>')
        parts.append(f"<p><code>{_e(_options_text(s))}</code></p>")
        if s.rates != (None,):
            parts.append("<p>An open-loop rate sweep: its points are in the idle section above.</p>")
            continue
        parts.append(_series_table(folder, s, points_by, skipped, warnings, sc["repeats"], generator))
    if res.skipped_points:
        parts.append("<h2 id=skipped>Points that could not run here</h2><ul>")
        parts += [f"<li>{_e(where(p))}: {_e(p['reason'])}</li>" for p in res.skipped_points]
        parts.append("</ul>")
    parts += ["<h2 id=environment>Environment</h2>", _env_table(res.environment),
              '<p>Everything above comes from <a href="manifest.json">manifest.json</a> and the '
              "<code>points/</code> folder.</p>", CHECK_SCRIPT, "</body>", "</html>"]
    path = os.path.join(folder, "index.html")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
    os.replace(path + ".tmp", path)


def render_folder(folder):
    """The report of a results folder: plots/*.png|svg|dat|gp, summary.md and index.html; returns the
    list of image paths."""
    res = results.load(folder)
    every_point = res.points()
    # The plots and tables against C show the points without idle connections or a swept rate;
    # the idle section shows all of them.
    points = [p for p in every_point if not p["idle"] and p["swept_rate"] is None]
    series_list = res.series()
    if not series_list:
        raise plots.PlotError(f"{folder}: the scenario in manifest.json has no series")
    plot_dir = os.path.join(folder, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    data = plots.write_data(folder, points, series_list, plot_dir)
    styles = plots.series_styles(series_list, plots.model_descriptions(res.environment, series_list))
    concurrencies = sorted({c for s in series_list for c in s.concurrency})
    images = plots.render_plots(plot_dir, res.scenario.get("name", "?"), series_list, data, styles,
                                res.environment, concurrencies)
    idle = None
    if res.has_idle_axis():
        images += idleplots.render(plot_dir, res.scenario.get("name", "?"), every_point, styles)
        by_series = {s.name: res.model(s.server) for s in series_list}
        idle = (idlereport.summary_lines(every_point, by_series),
                idlereport.html_parts(folder, every_point, by_series))
    write_summary(folder, res, points, idle[0] if idle else ())
    write_html(folder, res, points, styles, idle[1] if idle else ())
    return images
