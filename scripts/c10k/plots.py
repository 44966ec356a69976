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
import zlib

from . import DEFAULT_BIN_DIR, models, results
from .nested import dig

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gnuplot")
PLOTS = ["throughput", "latency", "memory", "cpu", "failures", "establishment"]
# A model's colour is keyed by its rank in the C10K story (its --describe: 10, 20, ... 120, and
# models slotted in between such as 115), one colour per step of 5, so a model keeps its colour on
# every plot and overlay whatever else ran. The story's ranks (multiples of 10) take the twelve
# strongest colours (Tableau 10 and two darker ones); the in-between ranks the next twelve.
STORY_COLORS = ["#d62728", "#ff7f0e", "#8c564b", "#9467bd", "#1f77b4", "#2ca02c",
                "#17becf", "#e377c2", "#7f7f7f", "#bcbd22", "#393b79", "#ad494a"]
BETWEEN_COLORS = ["#637939", "#e6ab02", "#843c39", "#7b4173", "#6b6ecf", "#8c6d31",
                  "#d6616b", "#3182bd", "#9c9ede", "#e7969c", "#00796b", "#5254a3"]
# Servers without a description (peers such as nginx, or a model unknown here): keyed by name.
OTHER_COLORS = ["#000000", "#5f5f5f", "#b15928", "#6a3d9a", "#a6761d", "#1b9e77", "#666600", "#990066"]
# Families of concurrency model, from a model's traits; each has its marker (gnuplot point types:
# filled circle, square, triangle, diamond, pentagon; the open shape is one less).
FAMILIES = [("one connection at a time", 7), ("a thread or process per connection", 5),
            ("pools of threads or processes", 9), ("event loops", 13), ("other servers", 15)]
FAMILY_POINTS = dict(FAMILIES)
# Dash types (gnuplot dt) for a line and its variant (p99, kernel memory, non-2xx): one pair per
# series of one model and, in overlays, per results folder, so no two lines look alike.
DASH_PAIRS = [("1", "2"), ("4", "3"), ("5", "'_ _ '"), ("'__ . '", "'. . '"), ("'___ '", "'_. '")]
COLUMNS = ["concurrency", "requests_per_sec", "requests_per_sec_min", "requests_per_sec_max",
           "latency_p50_ms", "latency_p99_ms", "pss_per_connection_kib", "cpu_per_request_us",
           "failed_pct", "ideal_requests_per_sec", "non_2xx_pct", "errors_pct", "establishment_s",
           "establishment_rate_per_s", "tcp_mem_per_connection_kib"]
COL = {name: i + 1 for i, name in enumerate(COLUMNS)}
SIZE = (1100, 640)
MAX_WIDTH = 2400
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


def rank_color(rank):
    """The colour of a model of this rank (its --describe), or None for no rank."""
    if not isinstance(rank, int) or isinstance(rank, bool) or rank <= 0:
        return None
    slot = (rank // 5 - 2) % (len(STORY_COLORS) + len(BETWEEN_COLORS))
    return STORY_COLORS[slot // 2] if slot % 2 == 0 else BETWEEN_COLORS[slot // 2]


def family(desc):
    """The family of a model from its description's traits (--describe): a server without one
    (a peer, or a model not described) is in a family of its own."""
    if not isinstance(desc, dict) or not desc:
        return FAMILIES[-1][0]
    cap = models.max_inflight(desc)
    if cap == 1:
        return FAMILIES[0][0]
    if models.task_per_connection(desc):
        return FAMILIES[1][0]
    if isinstance(cap, int) and cap > 1:
        return FAMILIES[2][0]
    return FAMILIES[3][0]


def model_descriptions(environment, series_list, bin_dir=None):
    """{model: description} of the series' models: as recorded with the results, else (older results)
    from the binaries' own --describe in bin_dir when they are built there."""
    recorded = dict(dig(environment, "models") or {})
    missing = sorted({s.server for s in series_list if s.server and s.server not in recorded})
    if missing:
        recorded.update(models.by_name(bin_dir or os.environ.get("C10K_BIN_DIR") or DEFAULT_BIN_DIR, missing))
    return recorded


def _other_color(name, taken):
    """A colour for a server without a rank, from its name (stable across runs), skipping the
    colours this plot already uses when another is free."""
    start = zlib.crc32(name.encode()) % len(OTHER_COLORS)
    for k in range(len(OTHER_COLORS)):
        color = OTHER_COLORS[(start + k) % len(OTHER_COLORS)]
        if color not in taken:
            return color
    return OTHER_COLORS[start]


def series_styles(series_list, descriptions=None, folder_index=0):
    """Colour by server model (keyed by the model's rank, so a model looks the same on every plot),
    marker shape by the model's family, dash type by the series' place among its model's series
    and, in overlays, by the results folder (folder_index; odd folders draw open markers).
    descriptions: {model: its --describe} as recorded with the results."""
    styles, per_model, colors = {}, {}, {}
    for s in series_list:
        model = s.program  # e.g. nginx-1 and nginx-2 share nginx's colour
        desc = dig(descriptions, s.server) if s.server else None
        if model not in colors:
            colors[model] = rank_color(dig(desc, "rank")) or _other_color(model, set(colors.values()))
    per_folder = max(1, max((sum(1 for t in series_list if t.program == s.program) for s in series_list),
                            default=1))
    for i, s in enumerate(series_list):
        model = s.program
        n = per_model.get(model, 0)
        per_model[model] = n + 1
        fam = family(dig(descriptions, s.server) if s.server else None)
        pt = FAMILY_POINTS[fam] - (1 if folder_index % 2 else 0)
        dt, variant_dt = DASH_PAIRS[(folder_index * per_folder + n) % len(DASH_PAIRS)]
        # Shrinking point sizes: where lines coincide (several models at 0 % failures), the
        # earlier series' markers still show around the later ones.
        ps = max(0.7, 1.8 - 1.0 * i / max(1, len(series_list) - 1))
        styles[s.name] = {"color": colors[model], "dt": dt, "variant_dt": variant_dt, "pt": pt, "ps": ps,
                          "family": fam}
    return styles


def variant(style):
    """The style of a series' second line on one plot (p99, kernel memory, non-2xx): its colour,
    the variant dash and the open marker."""
    return dict(style, dt=style["variant_dt"], pt=style["pt"] - 1 if style["pt"] % 2 else style["pt"])


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
                p99 = variant(st)
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
                refused = variant(st)
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
                    kernel = variant(st)
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


def log_axis(ys):
    """(low, high, ticks) of a log axis drawing the positive values ys: the range pads the data by
    6 % of its span on each side (at least 8 %), and the ticks are the first of decades, 1-2-5,
    1-2-3-5-7 or 1..9 per decade that puts three inside the range, else evenly spaced round
    numbers: data in a narrow range (12 to 16 s) still gets labels. None when ys is empty."""
    if not ys:
        return None
    lo, hi = min(ys), max(ys)
    if hi / lo < 1.1:
        lo, hi = lo / 1.25, hi * 1.25
    pad = max(1.08, (hi / lo) ** 0.06)
    low, high = lo / pad, hi * pad
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 5, 7), tuple(range(1, 10))):
        ticks = []
        for exp in range(math.floor(math.log10(low)), math.floor(math.log10(high)) + 1):
            ticks += [float(f"{m * 10.0 ** exp:.6g}") for m in mantissas if low <= m * 10.0 ** exp <= high]
        if len(ticks) >= 3:
            return low, high, ticks
    return low, high, linear_ticks(low, high)


def linear_ticks(low, high, want=5):
    """Round numbers (a 1-2-5 step) from low to high, about `want` of them."""
    raw = (high - low) / want
    exp = math.floor(math.log10(raw))
    step = min((m * 10.0 ** exp for m in (1, 2, 5, 10) if m * 10.0 ** exp >= raw), default=raw)
    first = math.ceil(low / step) * step
    ticks, k = [], 0
    while first + k * step <= high:
        ticks.append(float(f"{first + k * step:.6g}"))
        k += 1
    return ticks


def wrap(text, width):
    """text broken at spaces into lines of at most width characters (a longer word stands alone)."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + ([line] if line else [])


CHAR_PX = 7.4  # the mean width of a DejaVu Sans 12 pt character in pngcairo, for wrapping titles
# gnuplot sizes a legend column as (longest title + sample and gaps) characters of its own, wider
# estimate, within the plot's width (the canvas less the side margins).
KEY_CHAR_PX = 10.5
KEY_EXTRA_CHARS = 8
KEY_ROW_PX = 21
KEY_BOX_PX = 30  # the legend's frame and padding
AXIS_LABEL_PX = 75  # below the plot: the tick labels and the axis label
SIDE_MARGINS_PX = 180


def key_layout(titles, width, margins=SIDE_MARGINS_PX):
    """(columns, rows) of a legend below the plot holding these titles, in a canvas this wide."""
    if not titles:
        return 1, 0
    column_px = KEY_CHAR_PX * (KEY_EXTRA_CHARS + max(len(t) for t in titles))
    columns = max(1, min(len(titles), int((width - margins) // column_px)))
    return columns, math.ceil(len(titles) / columns)


def clause_titles(clauses):
    return [m.group(1).replace('\\"', '"') for c in clauses
            for m in [re.search(r' title "((?:[^"\\]|\\.)*)"$', c)] if m]


def gnuplot_script(name, fmt, out_path, title, series_list, data, styles, env, concurrencies):
    """The gnuplot script of one plot: the title wrapped to the canvas, the legend below the plot
    in as many columns as fit (the canvas grows by its rows), the axes with their tick labels."""
    clauses = plot_commands(name, series_list, data, styles, env)
    lines = _preamble(name, fmt, out_path, title, series_list, concurrencies, clause_titles(clauses))
    lines += _y_axis(name, series_list, data, env, concurrencies)
    lines += _plot_or_empty(clauses, concurrencies)
    lines.append("unset output")
    return "\n".join(lines) + "\n"


def canvas(titles):
    """(width, height, key columns) of a plot whose legend holds these titles."""
    w, h = SIZE
    if titles:  # wide enough for the longest legend entry (overlays label series by machine)
        w = max(w, min(MAX_WIDTH, int(SIDE_MARGINS_PX + KEY_CHAR_PX * (KEY_EXTRA_CHARS + max(map(len, titles))))))
    columns, rows = key_layout(titles, w)
    return w, h + KEY_ROW_PX * rows + KEY_BOX_PX, columns


def _preamble(name, fmt, out_path, title, series_list, concurrencies, titles, size=None):
    with open(os.path.join(TEMPLATE_DIR, "common.gp")) as f:
        common = f.read()
    with open(os.path.join(TEMPLATE_DIR, f"{name}.gp")) as f:
        template = string.Template(f.read())
    w, h, columns = canvas(titles)
    rows = math.ceil(len(titles) / columns)
    if size:
        w, h = size
    desc = _describe(series_list)
    heading = wrap(f"{title}: {TITLES[name]}" + (f" ({desc})" if desc else ""), int((w - 60) / CHAR_PX))
    if fmt == "png":
        term = f'set terminal pngcairo size {w},{h} enhanced font "DejaVu Sans,12" background "#ffffff"'
    else:
        term = f'set terminal svg size {w},{h} dynamic enhanced font "DejaVu Sans,12" background "#ffffff"'
    lines = [f"# {name} plot of {title}, made by scripts/plot.py", term,
             f"set output {_gp_str(out_path)}", common,
             template.safe_substitute(title="\\n".join(heading).replace('"', "'")),
             # The legend sits at the bottom of the canvas, below the axis label, whose room the
             # bottom margin keeps free.
             f"set key maxcols {columns} at screen 0.5, {6 / h!r} center bottom",
             f"set bmargin at screen {(KEY_ROW_PX * rows + KEY_BOX_PX + AXIS_LABEL_PX) / h!r}",
             f"set tmargin {1 + len(heading)}"]
    lo, hi = min(concurrencies), max(concurrencies)
    lines.append(f"set xrange [{lo / 1.5!r}:{hi * 1.5!r}]")
    lines.append("set xtics (" + ", ".join(f'"{c:,}" {c}' for c in concurrencies) + ")")
    return lines


def _y_axis(name, series_list, data, env, concurrencies):
    """The y range and ticks of a log plot, from what it draws (none for the linear failures plot)."""
    axis = log_axis(_y_values(name, series_list, data, env, concurrencies)) if name != "failures" else None
    if not axis:
        return []
    low, high, ticks = axis
    return [f"set yrange [{low!r}:{high!r}]",
            "set ytics (" + ", ".join(f'"{t:g}" {t!r}' for t in ticks) + ")"]


def _plot_or_empty(clauses, concurrencies):
    if clauses:
        return ["plot " + ", \\\n     ".join(clauses)]
    # Nothing to draw (e.g. no point finished): say so on an empty frame instead of failing.
    return ["unset logscale y", "set yrange [0:1]", "unset ytics",
            'set label 1 "no data for this plot in this results folder" at graph 0.5, 0.5 center',
            f"plot {min(concurrencies)!r} with points lc rgb '#ffffff' notitle"]


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


# More series than this on one plot get small multiples too: one panel per family of model.
SMALL_MULTIPLES_OVER = 8
PANEL = (550, 300)  # a panel's plot area is about this; its title, axis labels and legend add to it
PANEL_TITLE_PX = 30
HEADING_PX = 50
PANEL_KEY_MARGINS_PX = 125  # gnuplot fits a panel's legend columns within the panel's plot width


def families_link(plot_dir, name, e):
    """HTML linking a plot's small multiples when they were drawn (e: an HTML escaper), else ''."""
    if not os.path.exists(os.path.join(plot_dir, f"{name}-families.png")):
        return ""
    return (f' One panel per family of model: <a href="plots/{e(name)}-families.png">small multiples</a> '
            f'(<a href="plots/{e(name)}-families.svg">SVG</a>).')


def families_present(series_list, styles):
    """[(family, [series])] in FAMILIES order, for the families this plot's series fall in."""
    by = {}
    for s in series_list:
        by.setdefault(styles[s.name]["family"], []).append(s)
    return [(f, by[f]) for f, _ in FAMILIES if f in by]


def wants_small_multiples(series_list, styles):
    return len(series_list) > SMALL_MULTIPLES_OVER and len(families_present(series_list, styles)) > 1


def families_script(name, fmt, out_path, title, series_list, data, styles, env, concurrencies):
    """The gnuplot script of one plot as small multiples: a panel per family (gnuplot multiplot),
    two panels a row, every panel on the combined plot's axes so the panels compare, each with
    its legend below it."""
    groups = [(f, g, plot_commands(name, g, data, styles, env)) for f, g in families_present(series_list, styles)]
    rows_of_key = max(key_layout(clause_titles(c), PANEL[0], PANEL_KEY_MARGINS_PX)[1] for _, _, c in groups)
    per_row = 2
    w = PANEL[0] * per_row
    ph = PANEL_TITLE_PX + PANEL[1] + AXIS_LABEL_PX + KEY_ROW_PX * rows_of_key + KEY_BOX_PX
    h = HEADING_PX + ph * math.ceil(len(groups) / per_row)
    lines = _preamble(name, fmt, out_path, title, series_list, concurrencies, [], size=(w, h))
    heading = re.search(r'^set title "(.*)" noenhanced$', "\n".join(lines), re.M).group(1)
    lines += _y_axis(name, series_list, data, env, concurrencies)
    # Narrow panels: smaller tick labels, so 1,000 and 3,000 do not run into each other.
    lines += ["set tics font ',9'"]
    lines += ["unset title", f"set multiplot title {_gp_str(heading.split(chr(92) + 'n')[0] + ', by family')}"]
    for k, (fam, group, clauses) in enumerate(groups):
        col, row = k % per_row, k // per_row
        x0, top = col * PANEL[0], HEADING_PX + row * ph
        columns = key_layout(clause_titles(clauses), PANEL[0], PANEL_KEY_MARGINS_PX)[0]
        lines += [f"set title {_gp_str(f'{fam} ({len(group)})')} noenhanced",
                  f"set lmargin at screen {(x0 + 100) / w!r}", f"set rmargin at screen {(x0 + PANEL[0] - 25) / w!r}",
                  f"set tmargin at screen {1 - (top + PANEL_TITLE_PX) / h!r}",
                  f"set bmargin at screen {1 - (top + PANEL_TITLE_PX + PANEL[1]) / h!r}",
                  f"set key maxcols {columns} at screen {(x0 + PANEL[0] / 2) / w!r}, "
                  f"{1 - (top + PANEL_TITLE_PX + PANEL[1] + AXIS_LABEL_PX) / h!r} center top"]
        lines += _plot_or_empty(clauses, concurrencies)
    lines += ["unset multiplot", "unset output"]
    return "\n".join(lines) + "\n"


def _render(script_text, script, out):
    """Writes script (drawing into out.tmp), runs gnuplot, moves the image into place and leaves a
    script that re-makes out itself."""
    tmp = out + ".tmp"
    with open(script, "w") as f:
        f.write(script_text)
    _run_gnuplot(script)
    if not os.path.exists(tmp) or os.path.getsize(tmp) == 0:
        raise PlotError(f"gnuplot wrote no {out}")
    os.replace(tmp, out)
    with open(script, "w") as f:
        f.write(script_text.replace(_gp_str(tmp), _gp_str(out)))


def render_plots(plot_dir, title, series_list, data, styles, env, concurrencies):
    """Runs gnuplot for every plot in both formats into plot_dir; returns the image paths. title:
    the scenario's name (or the names overlaid); series_list: Series, each with its rows in data.
    With more than SMALL_MULTIPLES_OVER series of several families, each plot also comes as
    small multiples, NAME-families.png|svg (a stale one from an earlier rendering is removed)."""
    images = []
    multiples = wants_small_multiples(series_list, styles)
    for name in PLOTS:
        for fmt in ("png", "svg"):
            out = os.path.join(plot_dir, f"{name}.{fmt}")
            _render(gnuplot_script(name, fmt, out + ".tmp", title, series_list, data, styles, env, concurrencies),
                    os.path.join(plot_dir, f"{name}-{fmt}.gp"), out)
            images.append(out)
            out = os.path.join(plot_dir, f"{name}-families.{fmt}")
            script = os.path.join(plot_dir, f"{name}-families-{fmt}.gp")
            if multiples:
                _render(families_script(name, fmt, out + ".tmp", title, series_list, data, styles, env,
                                        concurrencies), script, out)
                images.append(out)
            else:
                for stale in (out, script):
                    if os.path.exists(stale):
                        os.unlink(stale)
    return images
