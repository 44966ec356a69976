"""The plots of a results folder or of several overlaid, with gnuplot (PNG via pngcairo, SVG): the
list of plots, the series' styles, the data files and the rendering. The bottom layer: the folder
report (report.py) and the overlay (overlay.py) draw through it; it knows neither.

Data goes to plots/<series>.dat (one row per concurrency), each plot's script to plots/<name>.gp
(kept, so a plot can be re-made or tweaked by hand: `gnuplot plots/throughput-png.gp`).
"""
import math
import os
import re
import string
import subprocess

from . import results
from .nested import dig

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gnuplot")
PLOTS = ["throughput", "latency", "memory", "cpu", "failures", "establishment"]
# Indexed by a model's rank (its --describe: 10, 20, ... in C10K story order), so a model keeps its
# colour on every plot of every results folder.
RANK_COLORS = ["#d62728", "#ff7f0e", "#8c564b", "#9467bd", "#1f77b4", "#2ca02c",
               "#17becf", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#ad494a"]
EXTRA_COLORS = ["#000000", "#637939", "#843c39", "#7b4173"]  # models without a description
POINT_TYPES = [7, 5, 9, 13, 11, 15, 4, 6, 8, 10, 12, 14]
COLUMNS = ["concurrency", "requests_per_sec", "requests_per_sec_min", "requests_per_sec_max",
           "latency_p50_ms", "latency_p99_ms", "pss_per_connection_kib", "cpu_per_request_us",
           "failed_pct", "ideal_requests_per_sec", "non_2xx_pct", "errors_pct", "establishment_s",
           "establishment_rate_per_s", "tcp_mem_per_connection_kib"]
COL = {name: i + 1 for i, name in enumerate(COLUMNS)}
SIZE = (1100, 640)
GNUPLOT_TIMEOUT_S = 120


class PlotError(Exception):
    pass


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _fmt(v):
    if v is None:
        return "?"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _gp_str(s):
    """A gnuplot double-quoted string literal."""
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def series_styles(series_list, descriptions=None):
    """Colour by server model (so a model looks the same on every plot), dash type and point
    type by series, so two series of one model (keep-alive vs close) stay distinguishable.
    descriptions: {model: its --describe} as recorded with the results."""
    styles, per_model, colors, extra = {}, {}, {}, 0
    for i, s in enumerate(series_list):
        model = s.program  # e.g. nginx-1 and nginx-2 share nginx's colour
        if model not in colors:
            rank = dig(descriptions, model, "rank")
            if isinstance(rank, int) and rank > 0:
                colors[model] = RANK_COLORS[(rank // 10 - 1) % len(RANK_COLORS)]
            else:
                colors[model] = EXTRA_COLORS[extra % len(EXTRA_COLORS)]
                extra += 1
        n = per_model.get(model, 0)
        per_model[model] = n + 1
        # Shrinking point sizes: where lines coincide (several models at 0 % failures), the
        # earlier series' markers still show around the later ones.
        ps = max(0.7, 1.8 - 1.0 * i / max(1, len(series_list) - 1))
        styles[s.name] = {"color": colors[model], "dt": 1 + n, "pt": POINT_TYPES[i % len(POINT_TYPES)],
                             "ps": ps}
    return styles


def _describe(series_list):
    """'delay 1 s, keep-alive' from what every series shares."""
    parts = []
    delays = {s.server_options.get("delay_ms", 0) for s in series_list}
    works = {s.work_us for s in series_list}
    if len(delays) == 1 and delays != {0}:
        d = delays.pop()
        parts.append(f"delay {d / 1000:g} s" if d >= 1000 else f"delay {d} ms")
    if len(works) == 1 and works != {0}:
        parts.append(f"work {works.pop()} µs CPU")
    ka = {s.loadgen.get("keepalive") for s in series_list}
    if len(ka) == 1:
        parts.append("keep-alive" if ka.pop() else "new connection per request")
    return ", ".join(parts)


def write_data(folder, points, series_list, plot_dir):
    by_series = {}
    for p in points:
        by_series.setdefault(p["series"], []).append(p)
    paths = {}
    for s in series_list:
        rows = by_series.get(s.name, [])
        path = os.path.join(plot_dir, f"{_safe(s.name)}.dat")
        with open(path + ".tmp", "w") as f:
            f.write(f"# series {s.name} ({s.label}) from {os.path.abspath(folder)}\n")
            f.write("# " + " ".join(COLUMNS) + "\n")
            for p in rows:
                f.write(" ".join(_fmt(p[c]) for c in COLUMNS) + "\n")
        os.replace(path + ".tmp", path)
        paths[s.name] = (path, rows)
    return paths


def _has(rows, column, positive=True):
    return any(r[column] is not None and (r[column] > 0 or not positive) for r in rows)


def _positive(col):
    return f"(${col} > 0 ? ${col} : 1/0)"


def _line(path, using, title, style, lw=2):
    return (f"{_gp_str(path)} using {using} with linespoints lc rgb {_gp_str(style['color'])} "
            f"dt {style['dt']} pt {style['pt']} ps {style['ps']:.2f} lw {lw} title {_gp_str(title)}")


def plot_commands(name, series_list, data, styles, env):
    """The `plot ...` clauses of one plot (empty when there is nothing to draw)."""
    clauses = []
    if name == "throughput":
        for s in series_list:
            path, rows = data[s.name]
            if not _has(rows, "requests_per_sec"):
                continue
            c, y = COL["concurrency"], COL["requests_per_sec"]
            lo, hi = COL["requests_per_sec_min"], COL["requests_per_sec_max"]
            using = f"{c}:{_positive(y)}:{_positive(lo)}:{_positive(hi)}"
            clauses.append(_line(path, using, s.name, styles[s.name]).replace(
                "with linespoints", "with yerrorlines"))
        if clauses:
            # One ideal line per distinct (D, CPU cap): C/D, capped at CPUs/work when requests cost CPU.
            n_cpus = results.server_cpu_count(env)
            ideals = sorted({(s.service_time_s, s.work_us) for s in series_list if s.service_time_s > 0})
            for d, work_us in ideals:
                label = f"{d:g} s" if d >= 1 else f"{d * 1000:g} ms"
                if work_us:
                    cap = n_cpus * 1e6 / work_us
                    clauses.append(f"(x / {d!r} < {cap!r} ? x / {d!r} : {cap!r}) with lines lc rgb '#000000' "
                                   f"dt 2 lw 1.5 title {_gp_str(f'ideal min(C/D, {n_cpus} CPU / {label})')}")
                else:
                    clauses.append(f"x / {d!r} with lines lc rgb '#000000' dt 2 lw 1.5 "
                                   f"title {_gp_str(f'ideal C/D (D = {label})')}")
    elif name == "latency":
        for s in series_list:
            path, rows = data[s.name]
            st = styles[s.name]
            c = COL["concurrency"]
            if _has(rows, "latency_p50_ms"):
                clauses.append(_line(path, f"{c}:{_positive(COL['latency_p50_ms'])}", f"{s.name} p50", st))
            if _has(rows, "latency_p99_ms"):
                p99 = dict(st, dt=st["dt"] + 1, pt=st["pt"] - 1 if st["pt"] % 2 else st["pt"])
                clauses.append(_line(path, f"{c}:{_positive(COL['latency_p99_ms'])}", f"{s.name} p99", p99, 1.5))
        if clauses:
            for d_ms in sorted({1000.0 / v for v in {results.ideal_requests_per_sec(s, 1)
                                                   for s in series_list} - {None}}):
                clauses.append(f"{d_ms!r} with lines lc rgb '#000000' dt 2 lw 1.5 "
                               f"title {_gp_str(f'ideal: D = {d_ms:g} ms')}")
    elif name == "failures":
        # Refusals (answered, non-2xx) and errors (no answer) as separate lines: a server that
        # refuses fast and one that drops connections fail differently.
        for s in series_list:
            path, rows = data[s.name]
            st = styles[s.name]
            c = COL["concurrency"]
            if _has(rows, "errors_pct", False):
                clauses.append(_line(path, f"{c}:{COL['errors_pct']}", f"{s.name} errors", st))
            if _has(rows, "non_2xx_pct"):
                refused = dict(st, dt=st["dt"] + 1, pt=st["pt"] - 1 if st["pt"] % 2 else st["pt"])
                clauses.append(_line(path, f"{c}:{COL['non_2xx_pct']}", f"{s.name} non-2xx", refused, 1.5))
    else:
        column = {"memory": "pss_per_connection_kib", "cpu": "cpu_per_request_us",
                  "establishment": "establishment_s"}[name]
        for s in series_list:
            path, rows = data[s.name]
            if not _has(rows, column):
                continue
            y = _positive(COL[column])
            clauses.append(_line(path, f"{COL['concurrency']}:{y}", s.name, styles[s.name]))
        if name == "memory":
            # Kernel memory apart from the user-space PSS: the TCP buffers (sockstat) per connection.
            for s in series_list:
                path, rows = data[s.name]
                if _has(rows, "tcp_mem_per_connection_kib"):
                    st = styles[s.name]
                    kernel = dict(st, dt=st["dt"] + 1, pt=st["pt"] - 1 if st["pt"] % 2 else st["pt"])
                    clauses.append(_line(path, f"{COL['concurrency']}:{_positive(COL['tcp_mem_per_connection_kib'])}",
                                         f"{s.name} kernel TCP buffers", kernel, 1.5))
    return clauses


TITLES = {"throughput": "throughput vs concurrency", "latency": "latency of 2xx responses (p50 solid, p99 dashed) vs concurrency",
          "memory": "memory per connection (server PSS solid, kernel TCP buffers dashed) vs concurrency", "cpu": "server CPU time per request vs concurrency",
          "failures": "errors (solid) and non-2xx answers (dashed) vs concurrency",
          "establishment": "time until all C connections were answered once"}


Y_COLUMNS = {"throughput": ["requests_per_sec", "requests_per_sec_min", "requests_per_sec_max"],
             "latency": ["latency_p50_ms", "latency_p99_ms"], "memory": ["pss_per_connection_kib", "tcp_mem_per_connection_kib"],
             "cpu": ["cpu_per_request_us"], "establishment": ["establishment_s"]}


def _y_values(name, series_list, data, env, concurrencies):
    """Every positive y a log plot will draw (data and ideal lines), to choose its ticks."""
    ys = [r[c] for _, rows in data.values() for r in rows for c in Y_COLUMNS[name]
          if r[c] is not None and r[c] > 0]
    for s in series_list:
        d = s.service_time_s
        if d > 0 and name == "throughput":
            ys += [v for v in (results.ideal_requests_per_sec(s, c, results.server_cpu_count(env))
                               for c in (min(concurrencies), max(concurrencies))) if v]
        elif d > 0 and name == "latency":
            ys.append(d * 1000)
    return ys


def _log_ticks(ys):
    """1-2-5 ticks when the values span less than two decades: gnuplot's decade-only ticks would
    leave such a plot with one label or none. None (gnuplot's own ticks) otherwise."""
    if not ys:
        return None
    lo, hi = min(ys), max(ys)
    if hi / lo >= 100:
        return None
    lo, hi = lo / 2.6, hi * 2.6  # ticks beyond the drawn range are simply not shown
    ticks, exp = [], math.floor(math.log10(lo))
    while True:
        for m in (1, 2, 5):
            t = m * 10.0 ** exp
            if lo <= t <= hi:
                ticks.append(float(f"{t:.6g}"))
        if 10.0 ** exp > hi:
            break
        exp += 1
    return ticks if len(ticks) >= 2 else None


def gnuplot_script(name, fmt, out_path, title, series_list, data, styles, env, concurrencies):
    with open(os.path.join(TEMPLATE_DIR, "common.gp")) as f:
        common = f.read()
    with open(os.path.join(TEMPLATE_DIR, f"{name}.gp")) as f:
        template = string.Template(f.read())
    desc = _describe(series_list)
    heading = f"{title}: {TITLES[name]}" + (f" ({desc})" if desc else "")
    w, h = SIZE
    if fmt == "png":
        term = f'set terminal pngcairo size {w},{h} enhanced font "DejaVu Sans,12" background "#ffffff"'
    else:
        term = f'set terminal svg size {w},{h} dynamic enhanced font "DejaVu Sans,12" background "#ffffff"'
    lines = [f"# {name} plot of {title}, made by scripts/plot.py", term,
             f"set output {_gp_str(out_path)}", common,
             template.safe_substitute(title=heading.replace('"', "'"))]
    lo, hi = min(concurrencies), max(concurrencies)
    lines.append(f"set xrange [{lo / 1.5!r}:{hi * 1.5!r}]")
    lines.append("set xtics (" + ", ".join(f'"{c:,}" {c}' for c in concurrencies) + ")")
    clauses = plot_commands(name, series_list, data, styles, env)
    ticks = _log_ticks(_y_values(name, series_list, data, env, concurrencies)) if name != "failures" else None
    if ticks:
        lines.append("set ytics (" + ", ".join(f'"{t:g}" {t!r}' for t in ticks) + ")")
    if clauses:
        lines.append("plot " + ", \\\n     ".join(clauses))
    else:
        # Nothing to draw (e.g. no point finished): say so on an empty frame instead of failing.
        lines += ["unset logscale y", "set yrange [0:1]", "unset ytics",
                  'set label 1 "no data for this plot in this results folder" at graph 0.5, 0.5 center',
                  f"plot {lo!r} with points lc rgb '#ffffff' notitle"]
    lines.append("unset output")
    return "\n".join(lines) + "\n"


def _run_gnuplot(script_path):
    try:
        out = subprocess.run(["gnuplot", script_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=GNUPLOT_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise PlotError("gnuplot is not installed (Debian: apt-get install gnuplot-nox)")
    except subprocess.TimeoutExpired:
        raise PlotError(f"gnuplot {script_path} took longer than {GNUPLOT_TIMEOUT_S} s")
    if out.returncode != 0:
        raise PlotError(f"gnuplot {script_path} failed (exit {out.returncode}):\n{out.stderr[-2000:]}")


def render_plots(plot_dir, title, series_list, data, styles, env, concurrencies):
    """Runs gnuplot for every plot in both formats into plot_dir; returns the image paths. title:
    the scenario's name (or the names overlaid); series_list: Series, each with its rows in data."""
    images = []
    for name in PLOTS:
        for fmt in ("png", "svg"):
            out = os.path.join(plot_dir, f"{name}.{fmt}")
            script = os.path.join(plot_dir, f"{name}-{fmt}.gp")
            with open(script, "w") as f:
                f.write(gnuplot_script(name, fmt, out + ".tmp", title, series_list, data, styles, env,
                                       concurrencies))
            _run_gnuplot(script)
            tmp = out + ".tmp"
            if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
                raise PlotError(f"gnuplot wrote no {out}")
            os.replace(tmp, out)
            # The kept script should make the final file name when re-run by hand.
            with open(script) as f:
                text = f.read()
            with open(script, "w") as f:
                f.write(text.replace(_gp_str(tmp), _gp_str(out)))
            images.append(out)
    return images
