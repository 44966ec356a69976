"""plot.py on synthetic results folders: every PNG/SVG, a valid index.html, the numbers behind
the lines, bad folders, and the page in headless Chromium."""
import html.parser
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zlib

import pytest

from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import overlay, pagecheck, plots, pngcheck, procsample, results, scenario as scen  # noqa: E402

PLOT = os.path.join(ROOT, "scripts", "plot.py")
PY = sys.executable
PLOTS = ["throughput", "latency", "memory", "cpu", "failures", "establishment"]
MODELS = ["blocking", "threaded", "forking", "select", "epoll", "libuv"]
SWEEP = [1, 10, 100, 1000, 10000]


def loadgen_doc(rate, d_s, duration, complete=None, failed=0, requests=None, p50=None, p99=None):
    """A loadgen --json document shaped like the real one (only the keys readers use)."""
    complete = round(rate * duration) if complete is None else complete
    seconds = int(duration)
    ts = [{"t_s": k, "completed": 0 if k < d_s else round(rate), "errors": 0, "p50_ms": 0, "p99_ms": 0,
           "open_connections": 0} for k in range(seconds)]
    pct = {"50": p50 or d_s * 1000, "99": p99 or d_s * 1100}
    return {"schema_version": 1, "tool": "c10k-loadgen",
            "config": {"requests": requests, "time_limit_s": None if requests else duration,
                       "warmup_s": d_s + 1},
            # Every connection answered once within the warm-up: the window is not moved.
            "establishment": {"connections": 1, "answered": 1, "all_answered_s": d_s},
            "summary": {"complete": complete, "failed": failed, "attempts": complete + failed,
                        "duration_s": duration, "requests_per_sec": complete / duration, "non_2xx": 0},
            "latency": {"total": {"count": complete, "mean_ms": d_s * 1000, "percentiles": pct}},
            "errors": {"connect": failed, "read": 0, "write": 0, "timeout": 0, "length": 0, "parse": 0,
                       "exceptions": 0},
            "status_codes": {"200": complete}, "timeseries": ts}


def usage(c, model, requests, cores_busy=0.01):
    samples = []
    for k in range(31):
        t = k / 10
        pss = 1500 + (0 if k == 0 else {"forking": 120, "threaded": 20, "blocking": 0}.get(model, 4) * c)
        samples.append({"t_s": t, "cpu_user_s": 0.0, "cpu_sys_s": 0.0, "cpu_total_s": t * cores_busy,
                        "rss_kib": 3 * pss, "pss_kib": pss,
                        "threads": c + 1 if model == "threaded" and k else 1,
                        "processes": c + 1 if model == "forking" and k else 1,
                        "ctx_voluntary": k, "ctx_involuntary": 0,
                        "tcp_mem_kib": 400 + (0 if k == 0 else 8 * c)})
    return procsample.summarize(samples, 0.1, c, requests)


def make_folder(path, repeats=2, with_points=True):
    """A c10k-like results folder with known numbers, one skipped point and some failures."""
    doc = {"schema_version": 1, "name": "synthetic", "description": "Synthetic results for the plot tests.",
           "server_options": {"delay_ms": 1000}, "loadgen": {"keepalive": True, "duration_s": 5},
           "series": MODELS, "concurrency": SWEEP, "repeats": repeats}
    sc = scen.validate(doc)
    os.makedirs(path)
    env = {"cpu_model": "Test CPU 3000", "cores": 2, "kernel": "Linux 6.0 test", "hostname": "testbox",
           "nofile_limit": 20000, "somaxconn": 4096, "port_range": [32768, 60999], "pid_max": 32768,
           "tool_versions": {"loadgen": "1.0.0"}, "git_revision": "deadbeef",
           "pinning": {"server_cpus": [0], "loadgen_cpus": [1]}}
    skipped = [{"series": "forking", "concurrency": 10000, "reason": "needs 10000 processes, test skip"}]
    results.write_json_atomic(os.path.join(path, "manifest.json"), {
        "schema_version": 1, "kind": "c10k-bench-results", "scenario": sc, "environment": env,
        "started": "2025-01-01T00:00:00+00:00", "finished": "2025-01-01T00:09:00+00:00",
        "skipped_points": skipped, "warnings": [{"series": "select", "concurrency": 10000,
                                                  "reason": "select() FD_SETSIZE"}]})
    if not with_points:
        return path, sc
    rnd = random.Random(7)
    for s in sc["series"]:
        m = s["server"]
        for c in s["concurrency"]:
            if m == "forking" and c == 10000:
                continue
            for k in range(1, repeats + 1):
                status, detail, lg = "ok", None, None
                rate = {"blocking": 1.0, "select": c if c < 1000 else 90.0,
                        "threaded": c if c < 10000 else c * 0.5}.get(m, float(c))
                rate *= rnd.uniform(0.97, 1.0)
                failed = int(c * 2) if m == "select" and c >= 1000 else 0
                lg = loadgen_doc(rate, 1.0, 5, failed=failed,
                                 p99=1000 * (c if m == "blocking" else 1.2))
                if m == "libuv" and c == 1000 and k == 2:
                    status, detail = "server_died", "server exited with status 134 during the point"
                if m == "threaded" and c == 1:
                    status, detail, lg = "loadgen_failed", "loadgen exited with status 1: boom", None
                complete = lg["summary"]["complete"] if lg else 0
                busy = 0.97 if m == "threaded" and c == 10000 else 0.01
                rep = {"series": s["name"], "server": m, "concurrency": c, "repetition": k, "status": status,
                       "detail": detail, "server_args": [f"/bin/server-{m}"], "loadgen_args": ["/bin/loadgen"],
                       "loadgen": lg, "server_usage": usage(c, m, complete, busy),
                       "server_stats": {"before": {"requests": 0, "errors": {"accept": 0}},
                                        "after": {"requests": complete + 1, "errors": {"accept": failed}}}}
                results.write_json_atomic(results.rep_path(path, s["name"], c, k), rep)
    return path, sc


def run_plot(*args):
    return subprocess.run([PY, PLOT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=300)


class StrictHTML(html.parser.HTMLParser):
    """Checks that every element is closed in order (void elements excepted) and collects imgs."""
    VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr", "source"}
    IMPLIED = {"p", "li", "td", "th", "tr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.imgs, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack and self.stack[-1] != tag and self.stack[-1] in self.IMPLIED:
            self.stack.pop()
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> with open {self.stack[-3:]}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder, sc = make_folder(str(tmp_path_factory.mktemp("plots") / "synthetic-20250101-000000"))
    r = run_plot(folder)
    assert r.returncode == 0, r.stderr
    return folder, sc


def test_every_png_and_svg_is_written_and_not_blank(rendered):
    folder, _ = rendered
    for name in PLOTS:
        png = os.path.join(folder, "plots", f"{name}.png")
        ink, colours, size = pngcheck.ink_fraction(png)
        assert size[0] == 1100 and size[1] >= 640, name  # the legend's rows below the plot add height
        assert f'src="plots/{name}.png" width="{size[0]}" height="{size[1]}"' in open(
            os.path.join(folder, "index.html"), encoding="utf-8").read()
        assert colours > 10 and ink > 0.01, f"{name}.png looks blank ({colours} colours, {ink:.4f} ink)"
        svg = os.path.join(folder, "plots", f"{name}.svg")
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        text = open(svg, encoding="utf-8").read()
        assert "concurrent connections C" in text and "<path" in text
        assert not os.path.exists(png + ".tmp") and not os.path.exists(svg + ".tmp")


def test_legends_and_axes_name_every_series(rendered):
    folder, _ = rendered
    svg = open(os.path.join(folder, "plots", "throughput.svg"), encoding="utf-8").read()
    for m in MODELS:
        assert f">{m}<" in svg or f"{m}</text>" in svg, m
    assert "ideal C/D (D = 1 s)" in svg and "log scale" in svg
    lat = open(os.path.join(folder, "plots", "latency.svg"), encoding="utf-8").read()
    assert "epoll p50" in lat and "epoll p99" in lat
    mem = open(os.path.join(folder, "plots", "memory.svg"), encoding="utf-8").read()
    assert "epoll kernel TCP buffers" in mem  # kernel memory apart from the user-space PSS


def test_data_files_hold_the_aggregated_numbers(rendered):
    folder, sc = rendered
    points = {(p["series"], p["concurrency"]): p for p in results.load(folder).points()}
    rows = {}
    with open(os.path.join(folder, "plots", "epoll.dat")) as f:
        header = [l for l in f if l.startswith("# concurrency")][0].split()[1:]
    with open(os.path.join(folder, "plots", "epoll.dat")) as f:
        for line in f:
            if not line.startswith("#"):
                vals = line.split()
                rows[int(vals[0])] = dict(zip(header, vals))
    assert sorted(rows) == SWEEP
    for c in SWEEP:
        p = points[("epoll", c)]
        assert float(rows[c]["requests_per_sec"]) == pytest.approx(p["requests_per_sec"], rel=1e-5)
        assert float(rows[c]["ideal_requests_per_sec"]) == pytest.approx(c)  # C / 1 s
        assert 0.96 * c <= p["requests_per_sec"] <= c
        assert p["loadgen_requests_per_sec"] == pytest.approx(p["requests_per_sec"])  # all 2xx
    with open(os.path.join(folder, "plots", "forking.dat")) as f:
        assert not any(l.startswith("10000 ") for l in f)  # the skipped point has no row


def test_aggregation_medians_failures_and_diagnosis(rendered):
    folder, _ = rendered
    points = {(p["series"], p["concurrency"]): p for p in results.load(folder).points()}
    died = points[("libuv", 1000)]
    assert died["repetitions"] == 2 and died["ok_repetitions"] == 1
    assert died["statuses"] == ["ok", "server_died"] and "status 134" in died["detail"]
    lg_failed = points[("threaded", 1)]
    assert lg_failed["requests_per_sec"] is None and lg_failed["failed_pct"] == 100.0
    assert "boom" in lg_failed["diagnosis"]
    sel = points[("select", 10000)]
    assert sel["failed_pct"] > 50 and "connect" in sel["diagnosis"]
    thr = points[("threaded", 10000)]
    assert "The server's CPU was saturated (0.97 cores busy)." in thr["diagnosis"]
    assert points[("epoll", 1000)]["diagnosis"] is None
    assert points[("blocking", 100)]["requests_per_sec"] == pytest.approx(1.0, rel=0.05)
    fork = points[("forking", 1000)]
    assert fork["pss_per_connection_kib"] == pytest.approx(120)
    assert fork["peak_processes"] == 1001


def test_index_html_is_valid_and_complete(rendered):
    folder, sc = rendered
    page = open(os.path.join(folder, "index.html"), encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>")
    parser = StrictHTML()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and [t for t in parser.stack if t not in StrictHTML.IMPLIED] == []
    srcs = [img["src"] for img in parser.imgs]
    assert srcs == [f"plots/{n}.png" for n in PLOTS]
    for img in parser.imgs:
        assert img.get("alt") and os.path.exists(os.path.join(folder, img["src"]))
    text = " ".join(parser.text)
    assert "How to read this" in text and "Environment" in text
    assert "Test CPU 3000" in text and "deadbeef" in text and "20000" in text
    assert "needs 10000 processes, test skip" in text
    assert "server_died" in text and "select() FD_SETSIZE" in text
    # One row per point of every series (skipped ones included).
    for s in sc["series"]:
        assert f'id="series-{s["name"]}"' in page
    point_rows = re.findall(r"<tr(?: class=\w+)?><td>([0-9,]+)</td>", page)
    assert point_rows == [f"{c:,}" for _ in MODELS for c in SWEEP]
    for link in ("points/epoll/c1000/rep1.json", "points/epoll/c1000/rep2.json", "plots/throughput.svg"):
        assert link in page and os.path.exists(os.path.join(folder, link))


def test_summary_md_has_the_headline_tables(rendered):
    folder, _ = rendered
    text = open(os.path.join(folder, "summary.md"), encoding="utf-8").read()
    assert "| series | C=1 | C=10 | C=100 | C=1,000 | C=10,000 |" in text
    assert "| forking |" in text and "skipped" in text
    assert "threaded at C=10,000" in text and "CPU was saturated" in text


def test_replotting_is_idempotent(rendered, tmp_path):
    folder, _ = rendered
    copy = str(tmp_path / "again")
    shutil.copytree(folder, copy)
    r = run_plot(copy)
    assert r.returncode == 0, r.stderr
    for n in PLOTS:
        assert os.path.exists(os.path.join(copy, "plots", f"{n}.png"))
    gp = open(os.path.join(copy, "plots", "throughput-png.gp")).read()
    assert "throughput.png\"" in gp and ".tmp" not in gp


def test_folder_without_points_still_renders_every_plot(tmp_path):
    folder, _ = make_folder(str(tmp_path / "empty"), with_points=False)
    r = run_plot(folder)
    assert r.returncode == 0, r.stderr
    for name in PLOTS:
        ink, colours, _ = pngcheck.ink_fraction(os.path.join(folder, "plots", f"{name}.png"))
        assert ink > 0.002 and colours > 2
    assert "no data for this plot" in open(os.path.join(folder, "plots", "throughput.svg")).read()
    assert "not run (yet)" in open(os.path.join(folder, "index.html")).read()


def test_plot_refuses_what_is_not_a_results_folder(tmp_path):
    r = run_plot(str(tmp_path))
    assert r.returncode == 2 and "is not a results folder (no manifest.json)" in r.stderr
    r = run_plot(str(tmp_path / "nope"))
    assert r.returncode == 2 and "is not a directory" in r.stderr
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "c10k-bench-results", "schema_version": 2,
                                                        "scenario": {}, "environment": {},
                                                        "skipped_points": []}))
    r = run_plot(str(tmp_path))
    assert r.returncode == 2 and "schema_version 2" in r.stderr
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 1}))
    r = run_plot(str(tmp_path))
    assert r.returncode == 2 and "kind" in r.stderr


def _write_png(path, width, height, rgb):
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    with open(path, "wb") as f:
        f.write(pngcheck.SIGNATURE + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_png_check_tells_blank_from_drawn(tmp_path, rendered):
    blank = str(tmp_path / "blank.png")
    _write_png(blank, 40, 30, (255, 255, 255))
    ink, colours, size = pngcheck.ink_fraction(blank)
    assert (ink, colours, size) == (0.0, 1, (40, 30))
    with pytest.raises(pagecheck.PageCheckError, match="looks blank"):
        pagecheck.check_png(blank)
    folder, _ = rendered
    assert pagecheck.check_png(os.path.join(folder, "plots", "latency.png")) > 0.01
    (tmp_path / "not.png").write_text("hello")
    with pytest.raises(pngcheck.PngError, match="not a PNG"):
        pngcheck.decode(str(tmp_path / "not.png"))


chromium = pytest.mark.skipif(pagecheck.find_chromium() is None,
                              reason="chromium is not installed (scripts/install-deps.sh installs it)")


@chromium
def test_page_loads_in_headless_chromium_with_every_image(rendered):
    folder, _ = rendered
    r = run_plot(folder, "--check-page")
    assert r.returncode == 0, r.stderr
    assert "chromium loaded 6/6 images" in r.stdout


@chromium
def test_chromium_check_catches_a_blank_or_missing_image(rendered, tmp_path):
    folder, _ = rendered
    broken = str(tmp_path / "broken")
    shutil.copytree(folder, broken)
    _write_png(os.path.join(broken, "plots", "cpu.png"), 1100, 640, (255, 255, 255))
    with pytest.raises(pagecheck.PageCheckError, match="cpu.png looks blank"):
        pagecheck.check_page(os.path.join(broken, "index.html"))
    os.unlink(os.path.join(broken, "plots", "cpu.png"))
    with pytest.raises(pagecheck.PageCheckError, match="plots/cpu.png referenced by the page does not exist"):
        pagecheck.check_page(os.path.join(broken, "index.html"))


def edited_copy(folder, where, old, new):
    """A copy of a rendered folder at `where` whose index.html has old replaced by new; its path."""
    shutil.copytree(folder, where)
    index = os.path.join(where, "index.html")
    page = open(index, encoding="utf-8").read()
    assert old in page
    open(index, "w", encoding="utf-8").write(page.replace(old, new))
    return index


@chromium
def test_chromium_itself_reports_an_image_it_cannot_decode(rendered, tmp_path):
    folder, _ = rendered
    broken = str(tmp_path / "undecodable")
    index = edited_copy(folder, broken, 'src="plots/cpu.png"', 'src="plots/cpu.gif"')
    with open(os.path.join(broken, "plots", "cpu.gif"), "wb") as f:
        f.write(b"GIF89a not really")
    with pytest.raises(pagecheck.PageCheckError, match="chromium loaded 5 of 6 images"):
        pagecheck.check_page(index)


def test_throughput_counts_only_successful_responses():
    doc = loadgen_doc(1000, 1.0, 5)
    doc["status_codes"] = {"200": 500, "503": 4500}
    doc["summary"]["non_2xx"] = 4500
    series = {"name": "select", "server": "select", "server_options": {"delay_ms": 1000}}
    assert results.repetition_rate({"loadgen": doc}, series) == pytest.approx(100.0)
    assert results.repetition_rate({"loadgen": None}, series) is None


def _point(rps, **kw):
    return dict({"series": "epoll", "concurrency": 1000, "ok_repetitions": 1, "detail": None,
                 "ideal_requests_per_sec": 1000.0, "requests_per_sec": rps, "failed_pct": 0.0}, **kw)


def test_a_point_more_than_5_percent_short_gets_a_reason_and_a_busy_machine_is_named():
    assert results.diagnose(_point(960.0)) is None
    assert results.diagnose(_point(930.0)) == "Throughput reached 93% of C/D."
    why = results.diagnose(_point(930.0, other_cpu_cores=1.3))
    assert "Other processes kept 1.30 cores busy meanwhile (not a quiet machine)." in why
    assert "ther processes" not in results.diagnose(_point(930.0, other_cpu_cores=0.1))
    assert "The hypervisor gave 0.40 cores to other guests meanwhile (steal time)." in results.diagnose(
        _point(930.0, steal_cores=0.4))


def test_overlay_lists_the_points_that_disagree_with_each_runs_reasons():
    first = [_point(1000.0, diagnosis=None, other_cpu_cores=0.05), _point(500.0, concurrency=10, diagnosis=None)]
    second = [_point(900.0, diagnosis="90% of C/D; other processes kept 1.10 cores busy meanwhile (not a quiet "
                     "machine)", other_cpu_cores=1.1), _point(510.0, concurrency=10, diagnosis=None)]
    lines = overlay.disagreements(["run 1", "run 2"], [first, second], ["epoll"])
    assert len(lines) == 1, lines  # 510 against 500 is within 5 %
    assert lines[0].startswith("- epoll at C=1,000: 0.90x of the first.")
    assert "run 1: 1,000 requests/s, other processes 0.05 cores" in lines[0]
    assert "run 2: 900 requests/s, 90% of C/D; other processes kept 1.10 cores busy" in lines[0]
    assert "other processes 1.10 cores" not in lines[0]  # said once


def test_a_point_past_pid_max_is_skipped_with_a_readable_reason():
    from c10k import environment
    env = {"nofile_limit": 1_000_000, "pid_max": 32768, "port_range": [1024, 65535],
           "models": {"forking": {"model": "forking", "task_per_connection": "process", "processes": 1}}}
    series = {"server": "forking", "server_options": {}, "loadgen": {"source": "127.0.0.1-127.0.0.8"}}
    reason, _ = environment.check_point(env, series, 100_000, 99)
    assert reason == "needs 100000 processes (one per connection) with 99 tasks already running, pid_max is 32768"


def test_how_to_read_lists_each_series_in_its_own_words():
    class Res:
        environment = {"models": {"epoll": {"description": "one loop over epoll"}}}

        @staticmethod
        def series():
            return [{"name": "epoll", "server": "epoll"},
                    {"name": "nginx", "command": ["nginx", "-c", "x"], "description": "nginx, one worker"},
                    {"name": "far", "url": "http://10.0.0.1/"}]
    from c10k import report
    html_text = report.series_list_html(Res)
    assert "<li><strong>epoll</strong>: one loop over epoll</li>" in html_text
    assert "<li><strong>nginx</strong>: nginx, one worker</li>" in html_text
    assert "<li><strong>far</strong>: http://10.0.0.1/</li>" in html_text


@pytest.mark.parametrize("content, key", [
    ({}, '"status"'),
    ({"status": "ok", "loadgen": {"summary": {"requests_per_sec": "fast"}}}, '"loadgen.summary.requests_per_sec"'),
    ({"status": "ok", "loadgen": {"summary": []}}, '"loadgen.summary"'),
    ({"status": "ok", "loadgen": None, "server_usage": {"peak_pss_kib": True}}, '"server_usage.peak_pss_kib"'),
    ({"status": "ok", "loadgen": {"latency": {"total": {"percentiles": {"99": "1 ms"}}}}},
     '"loadgen.latency.total.percentiles.99"'),
])
def test_a_repetition_with_bad_content_is_refused_naming_the_file_and_the_key(tmp_path, content, key):
    folder, _ = make_folder(str(tmp_path / "r"), repeats=2)
    rep = os.path.join(folder, "points", "epoll", "c10", "rep2.json")
    with open(rep, "w") as f:
        json.dump(content, f)
    r = run_plot(folder)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert rep in r.stderr and key in r.stderr, r.stderr


def test_the_report_of_an_unfinished_run_says_how_to_resume_it_with_a_command_that_exists(tmp_path):
    import shlex
    folder, _ = make_folder(str(tmp_path / "r w"), repeats=1)
    path = os.path.join(folder, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    manifest.update(finished=None, interrupted="SIGINT")
    results.write_json_atomic(path, manifest)
    r = run_plot(folder)
    assert r.returncode == 0, r.stderr
    text = open(os.path.join(folder, "index.html"), encoding="utf-8").read()
    hint = html.unescape(re.search(r"resume with <code>(.*?)</code>", text).group(1))
    words = shlex.split(hint)
    assert words == [os.path.join(ROOT, "bin", "c10k"), "run", "--resume", os.path.abspath(folder)]
    assert os.access(words[0], os.X_OK)


MODELS_REFERENCE = os.path.join(ROOT, "results", "reference", "models-20261130-045031")
C100K_REFERENCE = os.path.join(ROOT, "results", "reference", "c100k-20261130-035441")


def _reference_styles(folder_index=0, reverse=False):
    folder = results.Folder(MODELS_REFERENCE)
    series = folder.series()[::-1] if reverse else folder.series()
    return plots.series_styles(series, folder.environment["models"], folder_index), folder


def test_every_model_of_the_thirteen_has_its_own_colour_whatever_its_place_in_the_run():
    styles, folder = _reference_styles()
    assert len(styles) == 13
    colours = {st["color"] for st in styles.values()}
    assert len(colours) == 13, sorted(st["color"] for st in styles.values())
    assert len(set(plots.STORY_COLORS + plots.BETWEEN_COLORS)) >= 16
    assert _reference_styles(reverse=True)[0] == {k: dict(v, ps=_reference_styles(reverse=True)[0][k]["ps"])
                                                   for k, v in styles.items()}
    # A model alone in a run keeps the colour it has among thirteen.
    for s in folder.series():
        alone = plots.series_styles([s], folder.environment["models"])
        assert alone[s.name]["color"] == styles[s.name]["color"]


def test_marker_shape_follows_the_family_read_from_the_traits():
    def desc(**traits):
        return dict({"rank": 500, "driver": "readiness loop", "task_per_connection": None,
                     "max_inflight": None}, **traits)
    assert plots.family(desc(driver="blocking", max_inflight=1)) == "one connection at a time"
    assert plots.family(desc(driver="blocking", task_per_connection="process")) == \
        "a thread or process per connection"
    assert plots.family(desc(driver="blocking", max_inflight=64)) == "pools of threads or processes"
    assert plots.family(desc(driver="io_uring")) == "event loops"
    assert plots.family(None) == plots.family({}) == "other servers"
    styles, folder = _reference_styles()
    by_family = {}
    for s in folder.series():
        by_family.setdefault(styles[s.name]["family"], set()).add(styles[s.name]["pt"])
    assert len(by_family) == 4 and all(len(pts) == 1 for pts in by_family.values())
    assert len({pt for pts in by_family.values() for pt in pts}) == 4


def test_overlaid_folders_keep_the_models_colour_and_never_draw_two_lines_alike():
    first, folder = _reference_styles(0)
    second, _ = _reference_styles(1)
    looks = []
    for styles in (first, second):
        for st in styles.values():
            looks += [(st["color"], st["dt"], st["pt"]), tuple(plots.variant(st)[k] for k in ("color", "dt", "pt"))]
    assert len(looks) == len(set(looks))
    assert all(first[name]["color"] == second[name]["color"] for name in first)


def test_overlay_of_results_without_recorded_descriptions_reads_them_from_the_binaries(tmp_path):
    folder = results.Folder(os.path.join(ROOT, "results", "reference", "c10k-20261122-005523"))
    assert not folder.environment.get("models")
    descriptions = plots.model_descriptions(folder.environment, folder.series(), harness_bin_dir())
    styles = plots.series_styles(folder.series(), descriptions)
    assert len({st["color"] for st in styles.values()}) == len(styles) == 6
    models_styles, _ = _reference_styles()
    assert all(styles[name]["color"] == models_styles[name]["color"] for name in styles)


def harness_bin_dir():
    import harness
    return harness.BIN_DIR


def _scripts(folder):
    return {name: open(os.path.join(folder, "plots", f"{name}-png.gp")).read() for name in PLOTS}


@pytest.fixture(scope="module")
def replotted(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    copies = []
    for ref in (MODELS_REFERENCE, C100K_REFERENCE):
        copy = str(out / os.path.basename(ref))
        shutil.copytree(ref, copy)
        r = run_plot(copy)
        assert r.returncode == 0, r.stderr
        copies.append(copy)
    return copies


def test_legend_sits_below_the_plot_and_titles_fit_the_canvas(replotted):
    for folder in replotted:
        for name, script in _scripts(folder).items():
            w, h = map(int, re.search(r"size (\d+),(\d+)", script).group(1, 2))
            key = re.search(r"set key maxcols (\d+) at screen [0-9.e-]+, [0-9.e-]+ center bottom", script)
            assert key, name
            bottom = float(re.search(r"set bmargin at screen ([0-9.e-]+)", script).group(1))
            entries = len(re.findall(r' title "', script))
            rows = -(-entries // int(key.group(1)))
            assert bottom * h >= rows * plots.KEY_ROW_PX + plots.AXIS_LABEL_PX, name
            title = re.search(r'set title "(.*)" noenhanced', script).group(1)
            assert all(len(line) * plots.CHAR_PX <= w - 40 for line in title.split("\\n")), (name, title)


def _ticks_in_range(script):
    lo, hi = map(float, re.search(r"set yrange \[([0-9.e+-]+):([0-9.e+-]+)\]", script).group(1, 2))
    ticks = [float(t) for t in re.findall(r'"[^"]*" ([0-9.e+-]+)', re.search(r"set ytics \((.*)\)", script).group(1))]
    return [t for t in ticks if lo <= t <= hi]


def test_every_log_axis_has_tick_labels_even_for_a_narrow_range(replotted):
    for folder in replotted:
        for name, script in _scripts(folder).items():
            if name != "failures" and "set logscale xy" in script and "plot \"" in script:
                assert len(_ticks_in_range(script)) >= 2, (folder, name)
    establishment = _scripts(replotted[1])["establishment"]
    assert len(_ticks_in_range(establishment)) >= 3
    for lo, hi in [(12, 16), (1000, 1010), (0.5, 0.5), (3e-3, 2e4), (0.9, 1.4), (95, 250)]:
        low, high, ticks = plots.log_axis([lo, hi])
        assert low < lo and high > hi and len([t for t in ticks if low <= t <= high]) >= 3, (lo, hi, ticks)


def test_a_bound_hit_reads_as_sentences_that_each_say_one_thing():
    p = _point(1.0, concurrency=10, ideal_requests_per_sec=10.0, establishment_bound_hit=1,
               establishment_answered=1, establishment_s=None, server_cpu_cores=0.0,
               loadgen_errors={"timeout": 9}, failed_pct=64.3)
    why = results.diagnose(p, 1.0, {"max_inflight": 1})
    assert ";" not in why and ": longer than" not in why
    sentences = re.split(r"(?<=\.) (?=[A-Z0-9])", why)
    assert sentences == [
        "Throughput reached 10% of C/D.",
        "The server's CPU was not saturated (0.00 cores busy).",
        "The model serves one connection at a time by design, so its throughput is 1/D.",
        "The loadgen counted errors: timeout 9.",
        "Establishment never ended: only 1 of 10 connections was ever answered.",
        "That is longer than its bound, the warm-up plus half the measured window.",
        "The throughput of 1 repetition therefore comes from the second half of the window, "
        "which may still include establishment.",
        "64.3% of requests failed."]
    took = results.diagnose(dict(p, establishment_s=12.5, establishment_bound_hit=2), 1.0)
    assert "Establishing the 10 connections took 12.50 s. That is longer" in took
    assert "The throughput of 2 repetitions therefore" in took


def test_the_summary_says_how_busy_the_machine_was_one_thing_per_sentence():
    from c10k import report
    points = [{"series": "epoll", "concurrency": c, "other_cpu_cores": o, "steal_cores": 0.2}
              for c, o in ((10, 0.02), (100, 1.11), (1000, 0.01))]
    (_, line), = [report.machine_load_lines(points)]
    assert line.split(". ") == [
        "Other processes on the machine kept a median of 0.02 cores busy during a point",
        "The most was 1.11 cores, at epoll C=100",
        "1 of 3 points ran beside 0.25 cores or more of other work",
        "Their figures are those of a shared machine",
        "Besides, the hypervisor's steal time: a median of 0.20 cores."]


SHIPPED = scen.available()


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("quick", [True, False], ids=["quick", "full"])
def test_a_shipped_scenario_does_not_trip_its_own_bound_rule(name, quick):
    """Establishment takes at least the ramp plus one D: with the warm-up the scenario gives, the
    summary's rule (results.window_skip) must not call that phase longer than its bound."""
    sc = scen.load(name, quick=quick)
    for s in sc.series:
        lg = s.loadgen
        if not lg.get("duration_s") or lg.get("rate"):
            continue  # a request-count run, or an open loop: no window to move
        least = lg.get("ramp_s", 0) + s.service_time_s
        skip, hit = results.window_skip(least, lg.get("warmup_s", 0), lg["duration_s"], s.service_time_s)
        assert not hit, (f"{name}{' --quick' if quick else ''} {s.name}: warm-up {lg.get('warmup_s', 0)} s, "
                         f"D {s.service_time_s} s, window {lg['duration_s']} s")


def test_a_quick_report_names_the_sweep_it_ran_not_the_full_one(tmp_path):
    folder, sc = make_folder(str(tmp_path / "quick"), with_points=False)
    manifest = json.load(open(os.path.join(folder, "manifest.json")))
    manifest["quick"] = True
    manifest["scenario"]["description"] = "All six models, concurrency 1 to 10,000 on a log scale."
    for s in manifest["scenario"]["series"]:
        s["concurrency"] = [1, 10, 100, 1000]
        s["loadgen"].update(duration_s=3, warmup_s=1.5)
    results.write_json_atomic(os.path.join(folder, "manifest.json"), manifest)
    r = run_plot(folder)
    assert r.returncode == 0, r.stderr
    page = open(os.path.join(folder, "index.html"), encoding="utf-8").read()
    assert "<p>The full scenario: All six models, concurrency 1 to 10,000" in page
    assert "This run's sweep: C = 1, 10, 100 and 1,000 (the quick sweep), 3 s measured after a 1.5 s warm-up." in page
    summary = open(os.path.join(folder, "summary.md"), encoding="utf-8").read()
    assert "This run's sweep: C = 1, 10, 100 and 1,000 (the quick sweep)" in summary


NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def test_the_demo_says_which_series_it_runs_as_its_scenario_lists_them():
    from c10k import demo
    sc = scen.load(demo.SCENARIO, quick=True)
    names = [s.name for s in sc.series]
    r = subprocess.run([PY, os.path.join(ROOT, "bin", "c10k"), "demo", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    text = " ".join(r.stdout.split())
    assert "every model" not in text and "every server model" not in text
    assert f"{len(names)} series ({', '.join(names[:-1])} and {names[-1]})" in text
    readme = " ".join(open(os.path.join(ROOT, "README.md"), encoding="utf-8").read().split())
    claim = readme[readme.index("The demo runs"):][:400]
    assert f"the {NUMBER_WORDS[len(names)]} classic models ({', '.join(names)};" in claim
    for path in ("README.md", os.path.join("scripts", "demo.sh"), os.path.join("scripts", "c10k", "cli.py")):
        assert "comparison of every" not in open(os.path.join(ROOT, path), encoding="utf-8").read(), path


@chromium
def test_the_reports_of_the_reference_runs_fit_a_1280_px_window(replotted):
    for folder in replotted:
        report = pagecheck.check_page(os.path.join(folder, "index.html"))
        assert "fits 1280 px" in report


@chromium
def test_the_page_check_catches_a_table_wider_than_the_window(rendered, tmp_path):
    folder, _ = rendered
    index = edited_copy(folder, str(tmp_path / "wide"), "<h2 id=environment>", "<div class=tw><table><tr>"
                        + "<td>12,345,678.9</td>" * 60 + "</tr></table></div><h2 id=environment>")
    with pytest.raises(pagecheck.PageCheckError, match="wider than a 1280 px window"):
        pagecheck.check_page(index)


def test_a_run_of_many_series_gets_small_multiples_per_family_linked_from_the_report(replotted, rendered):
    models_copy = replotted[0]
    page = open(os.path.join(models_copy, "index.html"), encoding="utf-8").read()
    for name in PLOTS:
        script = open(os.path.join(models_copy, "plots", f"{name}-families-png.gp")).read()
        assert "set multiplot" in script and "unset multiplot" in script
        panels = re.findall(r'^set title "(.*) \((\d+)\)" noenhanced$', script, re.M)
        assert panels == [("one connection at a time", "1"), ("a thread or process per connection", "2"),
                          ("pools of threads or processes", "2"), ("event loops", "8")], name
        ink, colours, size = pngcheck.ink_fraction(os.path.join(models_copy, "plots", f"{name}-families.png"))
        assert colours > 10 and ink > 0.01
        assert f'href="plots/{name}-families.png"' in page
    # Six series: one plot each, no small multiples and no link to them.
    folder, _ = rendered
    assert not [n for n in os.listdir(os.path.join(folder, "plots")) if "families" in n]
    assert "families" not in open(os.path.join(folder, "index.html"), encoding="utf-8").read()


def test_how_to_read_shows_each_series_colour_and_family(replotted):
    page = open(os.path.join(replotted[0], "index.html"), encoding="utf-8").read()
    styles, _ = _reference_styles()
    for name in ("blocking", "epoll-threads", "prefork"):
        st = styles[name]
        assert (f'<li><span style="color:{st["color"]}">&#9632;</span> <strong>{name}</strong>: ' in page
                and f"<em>({st['family']})</em></li>" in page), name
