"""The idle-connection part of a run's report (summary.md and index.html): tables of server CPU per
request, p99 and memory against idle connections, the open-loop reply rate against the offered
rate, and one sentence per curve saying what it does and why, from the measured points and each
model's own --describe.
"""
import html
import math
import os

from . import idleplots, models, pngcheck
from .nested import dig

# A curve whose last point is within this factor of its first is flat: repeated runs of one point
# differ by 15-20 % within a phase and more between phases on a shared machine.
FLAT = 2.0
# What an idle connection adds per request, at the highest level against the lowest: beyond this
# factor either way the curve is not linear.
STEEPER = 1.5
# Replies below this share of the offered rate: the server (or the machine) no longer keeps up.
KEEPS_UP = 0.9

CAPTIONS = {
    "idle-cpu": "Server CPU (user + system, whole process tree) per request, over the loadgen's measured "
                "window only (the set-up of the idle connections before it and their closing after it left "
                "out), against the idle connections held beside the active load. Colour: model; dash: the "
                "active C (closed loop, keep-alive, zero delay). A line that stays flat pays nothing for "
                "connections that are silent; one that climbs pays for each of them on every wake-up.",
    "idle-p99": "99th percentile latency of the 2xx responses, same points: the CPU spent on idle "
                "connections is time the active requests wait.",
    "idle-rate": "Open loop: the loadgen sends at a fixed rate whatever the answers do (latency from the "
                 "intended send time), and the plot shows the 2xx replies per second against it, one dash "
                 "per idle level. On the dotted diagonal every request is answered; where a line leaves it "
                 "the server is saturated (Gammo, Brecht, Shukla and Pariag's figure).",
    "idle-memory": "(peak PSS - PSS before the load) / (idle + active connections) of the server's process "
                   "tree, at the lowest active C: what holding one more silent connection costs in memory.",
}


def _e(v):
    return html.escape(str(v))


def _n(v, digits=3):
    if v is None:
        return "–"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def levels(points):
    return sorted({p["idle"] for p in points if p.get("swept_rate") is None})


def per_idle_us(pts):
    """[(idle, µs each idle connection adds to a request's CPU)] of a curve: (cost at N idle - cost at
    0) / N at every level N > 0; [] without a point at 0."""
    base = [idleplots.cpu_us(p) for p in pts if p["idle"] == 0 and idleplots.cpu_us(p)]
    if not base:
        return []
    return [(p["idle"], (idleplots.cpu_us(p) - base[0]) / p["idle"]) for p in pts
            if p["idle"] and idleplots.cpu_us(p)]


def _shape(first, last, pts):
    """How a curve grows from its first to its last point: 'flat' (within FLAT, the noise of a shared
    machine), else by what each idle connection adds to a request at the lowest and the highest
    level: 'about linear' when that stays within STEEPER, else 'steeper than linear' or 'less than
    linear'; 'growing' with one level only."""
    if last <= FLAT * first:
        return "flat"
    added = per_idle_us(pts)
    if len(added) < 2 or added[0][1] <= 0:
        return "growing"
    ratio = added[-1][1] / added[0][1]
    return "steeper than linear" if ratio > STEEPER else "less than linear" if ratio < 1 / STEEPER else "about linear"


def cpu_rows(points):
    """[(series, C, {idle: µs}, ratio last/first, last idle)] of the closed-loop curves."""
    out = []
    for (series, c), pts in idleplots.closed_loop(points).items():
        vals = {p["idle"]: idleplots.cpu_us(p) for p in pts}
        known = [(i, v) for i, v in sorted(vals.items()) if v]
        ratio = known[-1][1] / known[0][1] if len(known) > 1 and known[0][0] == 0 else None
        out.append((series, c, vals, ratio, known[-1][0] if known else None))
    return out


def _plural(word):
    return word + ("es" if word.endswith("s") else "s")


def sentences(points, models_by_series):
    """One sentence per curve of the idle plots, from the measured points."""
    out = []
    curves = idleplots.closed_loop(points)
    growth = {}  # (series, C) -> cost at the most idle / at 0
    for (series, c), pts in curves.items():
        known = [p for p in pts if idleplots.cpu_us(p)]
        if len(known) < 2:  # said, not left out: a missing curve would read as a missing model
            out.append(f"{series} at C = {c}: no curve; its server CPU per request was measured at "
                       f"{len(known)} of its {len(pts)} idle levels (the sampler needs several samples inside "
                       f"the measured window: a longer duration_s gives them).")
            continue
        first, last = known[0], known[-1]
        a, b = idleplots.cpu_us(first), idleplots.cpu_us(last)
        growth[(series, c)] = b / a
        shape = _shape(a, b, known)
        model = models_by_series.get(series) or {}
        desc = dig(model, "description")
        task = models.task_per_connection(model)
        if task:
            why = (f"each connection has its own {task}, asleep in the kernel until its socket is ready, so "
                   f"silent ones cost no CPU (they cost memory instead)" if shape == "flat" else
                   f"its idle {_plural(task)} sleep in the kernel, yet each request costs more beside them")
        else:
            why = {"flat": "it is told which connections are ready, so silent ones cost it nothing per request",
                   "growing": "its cost follows the connections it holds, not those that are ready",
                   "about linear": "every wake-up walks all the connections it holds, active or not",
                   "less than linear": "every wake-up walks all the connections it holds, active or not",
                   "steeper than linear": "every wake-up walks all the connections it holds, and past a few "
                                          "thousand their kernel state (one socket and file each) no longer fits "
                                          "in the CPU caches, so each one walked costs more too"}[shape]
        text = (f"{series} at C = {c}: {_n(a)} µs of CPU per request at {first['idle']:,} idle, {_n(b)} µs at "
                f"{last['idle']:,} ({b / a:.2g}x): {shape}")
        added = per_idle_us(known)
        if shape != "flat" and added:
            text += (" (each idle connection adds " + ", ".join(
                f"{_n(us * 1000)} ns at {n:,}" for n, us in added) + " to a request)")
        text += f"; {why}"
        lower = [cc for (ss, cc) in growth if ss == series and cc < c]
        if shape != "flat" and lower and growth[(series, lower[-1])] > 1.5 * growth[(series, c)]:
            text += (f"; it grows {growth[(series, lower[-1])] / growth[(series, c)]:.2g}x less than at "
                     f"C = {lower[-1]}: one walk serves every request that is ready at that wake-up")
        if desc:
            text += f" (the model: {desc})"
        p99a, p99b = first.get("latency_p99_ms"), last.get("latency_p99_ms")
        if p99a and p99b:
            text += f". Its p99 goes from {_n(p99a)} ms to {_n(p99b)} ms"
        out.append(text + ".")
    for (series, idle), pts in idleplots.open_loop(points).items():
        sat = max((p["requests_per_sec"] or 0 for p in pts), default=0)
        behind = [p for p in pts
                  if p["requests_per_sec"] is not None and p["requests_per_sec"] < KEEPS_UP * p["swept_rate"]]
        if behind:
            knee = behind[0]["swept_rate"]
            out.append(f"{series} with {idle:,} idle connections answers every request up to "
                       f"{_n(max((p['swept_rate'] for p in pts if p['swept_rate'] < knee), default=0))} requests/s "
                       f"offered; from {_n(knee)} on it falls behind, and the most it replied was {_n(sat)}/s.")
        else:
            out.append(f"{series} with {idle:,} idle connections kept up with every offered rate, up to "
                       f"{_n(max(p['swept_rate'] for p in pts))}/s (the most it replied: {_n(sat)}/s).")
    for (series, c), pts in idleplots.closed_loop(points).items():
        mem = [p for p in pts if p["idle"] and p.get("pss_per_connection_kib") is not None]
        if mem and c == min(cc for _, cc in idleplots.closed_loop(points)):
            top = mem[-1]
            out.append(f"{series} holds a connection in {_n(top['pss_per_connection_kib'])} KiB of PSS at "
                       f"{top['idle']:,} idle connections.")
    return out


def held_notes(points):
    """Points whose idle connections were not all held to the end, with the server's causes."""
    out = []
    for p in points:
        s = p.get("idle_connections")
        if not s or not s.get("requested") or s.get("held_at_end") == s["requested"]:
            continue
        causes = ", ".join(f"{k} {v:,}" for k, v in sorted((s.get("closed_by_server") or {}).items()) if v)
        out.append(f"{p['series']} at C = {p['concurrency']:,}, {p['idle']:,} idle: {s['held_at_end']:,} of "
                   f"{s['requested']:,} held at the end ({s['opened']:,} opened, {s['failed_to_open']:,} failed "
                   f"to open" + (f"; closed by the server: {causes}" if causes else "") + ")")
    return out


def tables(points):
    """[(title, header, rows)] of the idle section, shared by summary.md and index.html."""
    idle_levels = levels(points)
    out = []
    rows = []
    for series, c, vals, ratio, last in cpu_rows(points):
        rows.append([series, f"{c:,}"] + [_n(vals.get(i)) for i in idle_levels]
                    + [f"{ratio:.3g}x" + (f" (at {last:,})" if last != idle_levels[-1] else "") if ratio else "–"])
    out.append(("Server CPU per request, µs, over the measured window, by idle connections",
                ["series", "C"] + [f"{i:,} idle" for i in idle_levels] + ["most idle / 0 idle"], rows))
    rows = []
    for (series, c), pts in idleplots.closed_loop(points).items():
        by = {p["idle"]: p for p in pts}
        rows.append([series, f"{c:,}"] + [
            f"{_n(by[i]['requests_per_sec'])} / {_n(by[i]['latency_p50_ms'])} / {_n(by[i]['latency_p99_ms'])}"
            if i in by else "–" for i in idle_levels])
    out.append(("Throughput requests/s / p50 ms / p99 ms, by idle connections",
                ["series", "C"] + [f"{i:,} idle" for i in idle_levels], rows))
    rows = []
    for (series, c), pts in idleplots.closed_loop(points).items():
        by = {p["idle"]: p for p in pts}
        if c == min(cc for _, cc in idleplots.closed_loop(points)):
            rows.append([series] + [_n(by[i]["pss_per_connection_kib"]) if i in by and i else "–"
                                    for i in idle_levels if i])
    out.append(("Server memory per held connection, KiB of PSS ((peak - before) / (idle + C)), lowest C",
                ["series"] + [f"{i:,} idle" for i in idle_levels if i], rows))
    groups = idleplots.open_loop(points)
    rates = sorted({p["swept_rate"] for pts in groups.values() for p in pts})
    if groups:
        rows = []
        for (series, idle), pts in groups.items():
            by = {p["swept_rate"]: p for p in pts}
            rows.append([series, f"{idle:,}"] + [_n(by[r]["requests_per_sec"]) if r in by else "–" for r in rates]
                        + [_n(max((p["requests_per_sec"] or 0) for p in pts))])
        out.append(("Open loop: 2xx replies/s by offered rate (requests/s)",
                    ["series", "idle"] + [f"{r:,.0f}" for r in rates] + ["most replied"], rows))
    return out


def summary_lines(points, models_by_series):
    """The Markdown of the idle section of summary.md."""
    lines = ["", "## Idle connections", "",
             "CPU per request is taken over the loadgen's measured window only (the server's CPU time there "
             "over the requests it answered there), so the seconds spent opening and answering the idle "
             "connections before it, and closing them after it, are not in it. Other processes on the machine "
             "share the CPUs: compare figures within this run, as ratios."]
    for title, header, rows in tables(points):
        lines += ["", f"### {title}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "### What each curve shows", ""]
    lines += [f"- {s}" for s in sentences(points, models_by_series)] or ["- no curve has two points yet"]
    notes = held_notes(points)
    if notes:
        lines += ["", "### Idle connections not held to the end", ""] + [f"- {n}" for n in notes]
    return lines


def html_parts(folder, points, models_by_series):
    """The idle section of index.html: the plots with captions, the tables and the sentences."""
    parts = ["<h2 id=idle>Idle connections</h2>"]
    for name in idleplots.IDLE_PLOTS:
        w, h = pngcheck.size(os.path.join(folder, "plots", f"{name}.png"))
        t = idleplots.TITLES[name]
        parts.append(f'<figure id="plot-{name}"><a href="plots/{name}.svg"><img src="plots/{name}.png" '
                     f'width="{w}" height="{h}" alt="{_e(t)}"></a><figcaption><strong>{_e(t[:1].upper() + t[1:])}.'
                     f"</strong> {_e(CAPTIONS[name])} (<a href=\"plots/{name}.svg\">SVG</a>)</figcaption></figure>")
    for title, header, rows in tables(points):
        parts.append(f"<h3>{_e(title)}</h3><div class=tw><table><tr>"
                     + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td{' class=l' if i == 0 else ''}>{_e(v)}</td>" for i, v in enumerate(r))
                  + "</tr>" for r in rows]
        parts.append("</table></div>")
    parts.append("<h3>What each curve shows</h3><ul>")
    parts += [f"<li>{_e(s)}</li>" for s in sentences(points, models_by_series)]
    parts.append("</ul>")
    notes = held_notes(points)
    if notes:
        parts.append("<h3>Idle connections not held to the end</h3><ul>")
        parts += [f"<li>{_e(n)}</li>" for n in notes]
        parts.append("</ul>")
    return parts
