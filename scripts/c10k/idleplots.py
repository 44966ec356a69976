"""The plots of a run that sweeps idle connections or open-loop rates (scenarios/idle.json): server
CPU per request and p99 against idle connections, reply rate against offered rate, and server
memory per idle connection. Drawn through plots.py's gnuplot layer and styles, so a model keeps
its colour; which series is which comes from the points (their idle level and rate), not from names.
"""
import math
import os

from . import plots

IDLE_PLOTS = ["idle-cpu", "idle-p99", "idle-rate", "idle-memory"]
# A log axis has no 0: the points without idle connections sit one decade below the lowest idle
# level, labelled "0".
ZERO_BELOW = 10
# Line styles of the second axis: the active C on the idle plots, the idle level on the rate plot.
DASHES = ["1", "2", "4", "5", "'__ . '"]
TITLES = {
    "idle-cpu": "server CPU per request vs idle connections (measured window)",
    "idle-p99": "p99 latency of 2xx responses vs idle connections",
    "idle-rate": "reply rate vs offered request rate (open loop)",
    "idle-memory": "server memory per held connection (PSS) vs idle connections",
}
YLABELS = {
    "idle-cpu": "server CPU per request, µs (log scale)",
    "idle-p99": "p99 latency, ms (log scale)",
    "idle-rate": "2xx replies per second (log scale)",
    "idle-memory": "PSS per connection, KiB (log scale)",
}


def cpu_us(p):
    """A point's server CPU per request over the measured window. Without idle connections the whole
    run's figure stands in when the window had too few samples; with them it cannot: the whole run
    counts the idle connections' own requests and their set-up (None then)."""
    return p.get("steady_cpu_per_request_us") or (p.get("cpu_per_request_us") if not p["idle"] else None)


def closed_loop(points):
    """{(series, C): [points by idle level]} of the points without a swept rate."""
    out = {}
    for p in sorted(points, key=lambda p: p["idle"]):
        if p.get("swept_rate") is None:
            out.setdefault((p["series"], p["concurrency"]), []).append(p)
    return out


def open_loop(points):
    """{(series, idle): [points by offered rate]} of the points with a swept rate."""
    out = {}
    for p in sorted(points, key=lambda p: p["swept_rate"] or 0):
        if p.get("swept_rate") is not None:
            out.setdefault((p["series"], p["idle"]), []).append(p)
    return out


def _x(idle, lowest):
    return idle if idle else lowest / ZERO_BELOW


def _write(path, header, rows):
    with open(path + ".tmp", "w") as f:
        f.write("# " + " ".join(header) + "\n")
        for r in rows:
            f.write(" ".join(plots._fmt(v) for v in r) + "\n")
    os.replace(path + ".tmp", path)


def _lines(name, points, plot_dir, styles):
    """[(data path, title, style, dash)] of one plot, after writing its data files; and its x values."""
    lines, xs = [], []
    if name == "idle-rate":
        groups = open_loop(points)
        levels = sorted({idle for _, idle in groups})
        for (series, idle), rows in groups.items():
            path = os.path.join(plot_dir, f"{plots._safe(series)}-idle{idle}-rate.dat")
            _write(path, ["offered_rate", "reply_rate", "cpu_us", "p99_ms"],
                   [(p["swept_rate"], p["requests_per_sec"], cpu_us(p), p["latency_p99_ms"]) for p in rows])
            lines.append((path, f"{series}, {idle:,} idle", styles.get(series, {}), DASHES[levels.index(idle) % 5]))
            xs += [(p["swept_rate"], f"{p['swept_rate']:,.0f}") for p in rows]
        return lines, xs
    groups = closed_loop(points)
    lowest = min((p["idle"] for rows in groups.values() for p in rows if p["idle"]), default=1000)
    cs = sorted({c for _, c in groups})
    for (series, c), rows in groups.items():
        if name == "idle-memory":
            rows = [p for p in rows if p["idle"]]
            if c != cs[0] or not rows:
                continue  # memory per connection: one line per model, at the lowest C
        path = os.path.join(plot_dir, f"{plots._safe(series)}-c{c}-idle.dat")
        _write(path, ["x", "idle", "cpu_us", "p50_ms", "p99_ms", "requests_per_sec", "pss_per_connection_kib"],
               [(_x(p["idle"], lowest), p["idle"], cpu_us(p), p["latency_p50_ms"], p["latency_p99_ms"],
                 p["requests_per_sec"], p["pss_per_connection_kib"]) for p in rows])
        title = series if name == "idle-memory" else f"{series}, C = {c}"
        lines.append((path, title, styles.get(series, {}), DASHES[cs.index(c) % 5]))
        xs += [(_x(p["idle"], lowest), f"{p['idle']:,}") for p in rows]
    return lines, xs


COLUMN = {"idle-cpu": 3, "idle-p99": 5, "idle-memory": 7, "idle-rate": 2}


def _y_values(name, lines):
    ys = []
    col = COLUMN[name] - 1
    for path, *_ in lines:
        with open(path) as f:
            for row in f:
                if not row.startswith("#"):
                    v = row.split()[col]
                    if v != "?" and float(v) > 0:
                        ys.append(float(v))
    return ys


def script(name, fmt, out_path, title, points, plot_dir, styles):
    """The gnuplot script of one idle plot."""
    lines, xs = _lines(name, points, plot_dir, styles)
    titles = [t for _, t, _, _ in lines]
    w, h, columns = plots.canvas(titles or ["x"])
    rows = math.ceil(max(1, len(titles)) / columns)
    with open(os.path.join(plots.TEMPLATE_DIR, "common.gp")) as f:
        common = f.read()
    heading = plots.wrap(f"{title}: {TITLES[name]}", int((w - 60) / plots.CHAR_PX))
    term = (f'set terminal pngcairo size {w},{h} enhanced font "DejaVu Sans,12" background "#ffffff"' if fmt == "png"
            else f'set terminal svg size {w},{h} dynamic enhanced font "DejaVu Sans,12" background "#ffffff"')
    out = [f"# {name} plot of {title}, made by scripts/plot.py", term, f"set output {plots._gp_str(out_path)}",
           common, f"set title {plots._gp_str(chr(10).join(heading))} noenhanced",
           f"set ylabel {plots._gp_str(YLABELS[name])}", "set logscale xy", 'set format y "%g"',
           f"set key maxcols {columns} at screen 0.5, {6 / h!r} center bottom",
           f"set bmargin at screen {(plots.KEY_ROW_PX * rows + plots.KEY_BOX_PX + plots.AXIS_LABEL_PX) / h!r}",
           f"set tmargin {1 + len(heading)}"]
    if name == "idle-rate":
        out.append('set xlabel "offered request rate, requests/s (log scale; dotted: replies = offered)"')
    elif name == "idle-memory":
        out.append('set xlabel "idle connections held beside the active ones (log scale)"')
    else:
        out.append('set xlabel "idle connections held beside the active ones (log scale; 0 drawn a decade '
                   'below the lowest level)"')
    if xs:
        lo, hi = min(x for x, _ in xs), max(x for x, _ in xs)
        out.append(f"set xrange [{lo / 1.5!r}:{hi * 1.5!r}]")
        out.append("set xtics (" + ", ".join(f'"{label}" {x!r}' for x, label in sorted(set(xs))) + ")")
    axis = plots.log_axis(_y_values(name, lines) + ([x for x, _ in xs] if name == "idle-rate" else []))
    if axis:
        low, high, ticks = axis
        out += [f"set yrange [{low!r}:{high!r}]", "set ytics (" + ", ".join(f'"{t:g}" {t!r}' for t in ticks) + ")"]
    col = COLUMN[name]
    clauses = []
    for path, t, st, dash in lines:
        using = f"1:(${col} > 0 ? ${col} : 1/0)"
        clauses.append(f"{plots._gp_str(path)} using {using} with linespoints lc rgb "
                       f"{plots._gp_str(st.get('color', '#000000'))} dt {dash} pt {st.get('pt', 7)} "
                       f"ps {st.get('ps', 1.2):.2f} lw 2 title {plots._gp_str(t)}")
    if clauses and name == "idle-rate":
        clauses.append("x with lines lc rgb '#000000' dt 3 lw 1 title 'replies = offered'")
    if not clauses:
        out += ["unset logscale", "set xrange [0:1]", "set yrange [0:1]", "unset ytics", "unset xtics",
                'set label 1 "no data for this plot in this results folder" at graph 0.5, 0.5 center',
                "plot 0.5 with points lc rgb '#ffffff' notitle"]
    else:
        out.append("plot " + ", \\\n     ".join(clauses))
    return "\n".join(out) + "\n"


def render(plot_dir, title, points, styles):
    """Every idle plot in both formats into plot_dir; returns the image paths."""
    images = []
    for name in IDLE_PLOTS:
        for fmt in ("png", "svg"):
            out = os.path.join(plot_dir, f"{name}.{fmt}")
            plots._render(script(name, fmt, out + ".tmp", title, points, plot_dir, styles),
                          os.path.join(plot_dir, f"{name}-{fmt}.gp"), out)
            images.append(out)
    return images
