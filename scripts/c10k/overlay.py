"""Several results folders on one set of plots: two machines, two builds, two kernels.

`plot.py A B ...` draws every series of every folder on each plot (the colour is the model, the
dash and point style the folder), labels each folder from its manifest (what differs among host,
CPU model, kernel and git revision) or from --label, and writes a table of per-point ratios against
the first folder. Everything lands in one output folder with an index.html.
"""
import datetime
import html
import os

from . import default_results_dir, plots, pngcheck, results

# (point summary key, heading, unit, higher is better) of each metric, as results.METRICS defines it
METRICS = [(m.point_key, m.label, m.unit, m.higher_is_better) for m in results.METRICS]
LABEL_KEYS = [("hostname", "host"), ("cpu_model", "CPU"), ("kernel", "kernel"), ("git_revision", "rev")]


class OverlayError(Exception):
    pass


def _short(key, value):
    if value is None:
        return "?"
    value = str(value)
    if key == "kernel":  # 'Linux 6.18.44-fc-v595': the build string after it adds length, not meaning
        return " ".join(value.split()[:2])
    return value[:10] if key == "git_revision" else value


def auto_labels(manifests, names):
    """A label per folder from the manifest fields that differ among them (host, CPU, kernel, git
    revision); the folder names when none differ. Labels are made unique."""
    envs = [m.get("environment") or {} for m in manifests]
    differing = [(k, title) for k, title in LABEL_KEYS if len({str(e.get(k)) for e in envs}) > 1]
    if differing:
        labels = [", ".join(f"{title} {_short(k, e.get(k))}" for k, title in differing) for e in envs]
    else:
        labels = list(names)
    seen = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 and labels.count(label) == 1 else f"{label} #{seen[label]}")
    return out


def ratio_rows(folders_points, series_order):
    """Rows (series, C, metric heading, first value, [ratio of each other folder or None])."""
    rows = []
    first = {(p["series"], p["concurrency"]): p for p in folders_points[0]}
    others = [{(p["series"], p["concurrency"]): p for p in pts} for pts in folders_points[1:]]
    concurrencies = sorted({p["concurrency"] for pts in folders_points for p in pts})
    for s in series_order:
        for c in concurrencies:
            base = first.get((s, c))
            for key, heading, unit, _ in METRICS:
                v0 = base.get(key) if base else None
                values = [(other.get((s, c)) or {}).get(key) for other in others]
                if v0 is None and all(v is None for v in values):
                    continue  # measured nowhere
                ratios = [v / v0 if v is not None and v0 else None for v in values]
                rows.append((s, c, f"{heading} ({unit})", v0, ratios))
    return rows


AGREEMENT = 0.05  # two runs of one point on one machine are meant to agree within 5 %


def disagreements(labels, folders_points, series_order):
    """Lines for the points whose throughput differs from the first folder's by more than
    AGREEMENT, each with what every folder's report says about that point (its diagnosis and how
    busy the rest of the machine was): a difference is either explained or shown as unexplained."""
    by = [{(p["series"], p["concurrency"]): p for p in pts} for pts in folders_points]
    throughput = f"{METRICS[0][1]} ({METRICS[0][2]})"
    lines = []
    for s, c, metric, _, ratios in ratio_rows(folders_points, series_order):
        if metric != throughput or not any(r is not None and abs(r - 1) > AGREEMENT for r in ratios):
            continue
        why = []
        for label, b in zip(labels, by):
            p = b.get((s, c))
            if p is None:
                continue
            reasons = [p["diagnosis"]] if p.get("diagnosis") else []
            other = p.get("other_cpu_cores")
            if other is not None and f"{other:.2f} cores busy" not in (p.get("diagnosis") or ""):
                reasons.append(f"other processes {other:.2f} cores")
            why.append(f"{label}: {_fmt_value(p.get('requests_per_sec'))} requests/s, "
                       + ("; ".join(reasons) if reasons else "no reason recorded"))
        lines.append(f"- {s} at C={c:,}: " + ", ".join(_fmt_ratio(r) for r in ratios) + " of the first. "
                     + " | ".join(why))
    return lines


def _fmt_value(v):
    if v is None:
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _fmt_ratio(r):
    return "–" if r is None else f"{r:.2f}x"


def markdown_table(labels, rows):
    head = [f"| series | C | metric | {labels[0]} | " + " | ".join(f"{label} / first" for label in labels[1:]) + " |",
            "|---|---:|---|---:|" + "---:|" * (len(labels) - 1)]
    return head + [f"| {s} | {c:,} | {metric} | {_fmt_value(v0)} | " + " | ".join(map(_fmt_ratio, ratios)) + " |"
                   for s, c, metric, v0, ratios in rows]


def combined_scenario(folders, labels):
    """(title, series, styles, {series name: (folder index, its name there)}): every (folder, series)
    pair as a series named 'series [label]', with the styles that keep a model's colour and marker
    shape and give each folder its own dash types and marker fill."""
    series, styles, by_name = [], {}, {}
    for i, (folder, label) in enumerate(zip(folders, labels)):
        folder_styles = plots.series_styles(folder.series(), plots.model_descriptions(
            folder.environment, folder.series()), folder_index=i)
        for s in folder.series():
            name = f"{s.name} [{label}]"
            series.append(s.renamed(name))
            styles[name] = folder_styles[s.name]
            by_name[name] = (i, s.name)
    names = sorted({f.scenario.get("name", "?") for f in folders})
    return " vs ".join(names) if len(names) > 1 else names[0], series, styles, by_name


def render(paths, out_dir, labels=None):
    """Overlaid plots, comparison.md and index.html of several results folders in out_dir."""
    if len(paths) < 2:
        raise OverlayError("overlaying needs two results folders or more")
    folders = [results.Folder(p) for p in paths]
    if labels and len(labels) != len(folders):
        raise OverlayError(f"{len(labels)} --label for {len(folders)} folders: give one per folder, in order")
    labels = labels or auto_labels([f.manifest for f in folders],
                                   [os.path.basename(os.path.normpath(p)) for p in paths])
    if len(set(labels)) != len(labels):
        raise OverlayError(f"labels must differ: {labels}")
    points = [f.points() for f in folders]
    title, series, styles, by_name = combined_scenario(folders, labels)
    plot_dir = os.path.join(out_dir, "plots")
    os.makedirs(plot_dir, exist_ok=True)
    data = {}
    for s in series:
        i, original = by_name[s.name]
        rows = [dict(p, series=s.name) for p in points[i] if p["series"] == original]
        data.update(plots.write_data(paths[i], rows, [s], plot_dir))
    concurrencies = sorted({c for s in series for c in s.concurrency})
    images = plots.render_plots(plot_dir, title, series, data, styles, folders[0].environment, concurrencies)
    series_order = []
    for f in folders:
        series_order += [s.name for s in f.series() if s.name not in series_order]
    rows = ratio_rows(points, series_order)
    table = markdown_table(labels, rows)
    with open(os.path.join(out_dir, "comparison.md"), "w", encoding="utf-8") as f:
        f.write(f"# {title}: {len(folders)} results folders compared\n\n")
        for path, label in zip(paths, labels):
            f.write(f"- {label}: `{os.path.abspath(path)}`\n")
        differ = disagreements(labels, points, series_order)
        f.write(f"\n## Throughput differing by more than {AGREEMENT:.0%} from the first folder\n\n")
        f.write("\n".join(differ) + "\n" if differ else "- none: every point agrees within "
                f"{AGREEMENT:.0%}\n")
        f.write("\n## Every point\n\nRatios are each folder's median over the first folder's, point by point.\n\n")
        f.write("\n".join(table) + "\n")
    write_html(out_dir, folders, paths, labels, title, rows)
    return images


def _env_rows(folders, labels):
    keys = ["hostname", "cpu_model", "cores", "kernel", "git_revision", "mem_total_kib", "nofile_limit"]
    e = html.escape
    head = "<tr><th></th>" + "".join(f"<th>{e(label)}</th>" for label in labels) + "</tr>"
    body = "".join("<tr><th>" + e(k) + "</th>" + "".join(f"<td>{e(str(f.environment.get(k)))}</td>" for f in folders)
                   + "</tr>" for k in keys)
    return f"<table>{head}{body}</table>"


def write_html(out_dir, folders, paths, labels, title, rows):
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en">', '<head><meta charset="utf-8">',
             f"<title>c10k-bench: {e(title)}, {len(folders)} runs compared</title>",
             "<style>body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 8px;"
             "text-align:right}th{background:#f4f4f4}td.l,th.l{text-align:left}"
             ".worse{background:#fde2e2}.better{background:#e2f5e2}</style></head><body>",
             f"<h1>c10k-bench: <code>{e(title)}</code>, {len(folders)} results folders</h1>",
             "<p>Each plot overlays every folder: the colour is the server model, the dash and point style "
             "the folder. The table gives each folder's median over the first folder's, point by point; "
             "cells 10 % or more worse are tinted red, 10 % or more better green.</p><ul>"]
    for path, label, f in zip(paths, labels, folders):
        parts.append(f"<li><strong>{e(label)}</strong>: <code>{e(os.path.abspath(path))}</code> "
                     f"(started {e(str(f.manifest.get('started')))})</li>")
    parts.append("</ul><h2>Machines and builds</h2>" + _env_rows(folders, labels) + "<h2>Plots</h2>")
    for name in plots.PLOTS:
        w, h = pngcheck.size(os.path.join(out_dir, "plots", f"{name}.png"))
        parts.append(f'<figure><a href="plots/{name}.svg"><img src="plots/{name}.png" width="{w}" height="{h}" '
                     f'alt="{e(plots.TITLES[name])}"></a><figcaption>{e(plots.TITLES[name])}.'
                     f'{plots.families_link(os.path.join(out_dir, "plots"), name, e)}</figcaption></figure>')
    higher = {f"{h} ({u})": hb for _, h, u, hb in METRICS}
    parts.append("<h2>Ratios against the first folder</h2><table><tr><th class=l>series</th><th>C</th>"
                 f"<th class=l>metric</th><th>{e(labels[0])}</th>"
                 + "".join(f"<th>{e(label)} / first</th>" for label in labels[1:]) + "</tr>")
    for s, c, metric, v0, ratios in rows:
        cells = []
        for r in ratios:
            cls = ""
            if r is not None:
                better = r > 1 if higher[metric] else r < 1
                if abs(r - 1) >= 0.1:
                    cls = " class=better" if better else " class=worse"
            cells.append(f"<td{cls}>{_fmt_ratio(r)}</td>")
        parts.append(f"<tr><td class=l>{e(s)}</td><td>{c:,}</td><td class=l>{e(metric)}</td>"
                     f"<td>{_fmt_value(v0)}</td>{''.join(cells)}</tr>")
    parts += ["</table>", f"<p>Generated {e(datetime.datetime.now().isoformat(timespec='seconds'))} by "
              "scripts/plot.py; the same table is in <a href=comparison.md>comparison.md</a>.</p>", "</body></html>"]
    path = os.path.join(out_dir, "index.html")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write("\n".join(parts) + "\n")
    os.replace(path + ".tmp", path)


def default_out_dir():
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join(default_results_dir(), f"overlay-{stamp}")
