"""plot.py with several results folders: the plots overlaid, labels from the manifests or --label,
the table of per-point ratios against the first folder, and one HTML page with it all."""
import json
import os
import re
import subprocess
import sys

import pytest

import harness
from c10k import overlay, pngcheck

PLOT = os.path.join(harness.ROOT, "scripts", "plot.py")
RUN = os.path.join(harness.ROOT, "scripts", "run_scenario.py")


def run_tiny(tmp_path, name):
    """A real two-model run on this box, into tmp_path/name/<scenario>-<stamp>."""
    scenario = tmp_path / "tiny.json"
    scenario.write_text(json.dumps({
        "schema_version": 1, "name": "tiny", "description": "two models, short runs",
        "server_options": {"delay_ms": 20}, "loadgen": {"duration_s": 0.4, "timeout_s": 5},
        "series": ["epoll", "threaded"], "concurrency": [1, 4]}))
    out = tmp_path / name
    r = subprocess.run([sys.executable, RUN, str(scenario), "--out", str(out), "--no-plots", "--no-progress",
                        "--bin-dir", harness.BIN_DIR], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (folder,) = os.listdir(out)
    return str(out / folder)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("overlay")
    return tmp, run_tiny(tmp, "first"), run_tiny(tmp, "second")


def test_two_folders_under_two_labels(two_runs):
    tmp, a, b = two_runs
    out = tmp / "overlay"
    r = subprocess.run([sys.executable, PLOT, a, b, "--label", "build A", "--label", "build B", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for name in ("throughput", "latency", "memory", "cpu", "failures"):
        assert pngcheck.ink_fraction(str(out / "plots" / f"{name}.png"))[0] > 0.01, name
        assert (out / "plots" / f"{name}.svg").stat().st_size > 0
    gp = (out / "plots" / "throughput-png.gp").read_text()
    for series in ("epoll [build A]", "epoll [build B]", "threaded [build A]", "threaded [build B]"):
        assert f'title "{series}"' in gp
    table = (out / "comparison.md").read_text()
    # One throughput row per series and C; a point that failed in one run (a loaded machine) has no
    # ratio, so only some of them need one.
    rows = [line for line in table.splitlines() if "| 2xx throughput, steady window (req/s) |" in line]
    assert sorted(r.split("|")[1:3] for r in rows) == sorted(
        [f" {s} ", f" {c} "] for s in ("epoll", "threaded") for c in (1, 4)), table
    assert any(re.search(r"\| [\d.]+x \|$", r) for r in rows), table
    page = (out / "index.html").read_text()
    assert "build A" in page and "build B" in page and "plots/throughput.png" in page
    assert page.count("<tr><td class=l>") == table.count("\n| ") - 1  # every ratio row on the page


def test_labels_must_match_the_folders(two_runs):
    tmp, a, b = two_runs
    r = subprocess.run([sys.executable, PLOT, a, b, "--label", "only one", "--out", str(tmp / "x")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "one per folder" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, PLOT, a, str(tmp / "nothing")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "is not a directory" in r.stderr
    r = subprocess.run([sys.executable, PLOT, a, "--label", "x"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "several results folders" in r.stderr


def test_automatic_labels_say_what_differs():
    env = {"hostname": "box", "cpu_model": "CPU X", "kernel": "6.1", "git_revision": "0123456789abcdef"}
    other = dict(env, hostname="other", git_revision="fedcba9876543210")
    labels = overlay.auto_labels([{"environment": env}, {"environment": other}], ["a", "b"])
    assert labels == ["host box, rev 0123456789", "host other, rev fedcba9876"]
    # Nothing differs (two runs on one box of one build): the folder names.
    assert overlay.auto_labels([{"environment": env}] * 2, ["run-1", "run-2"]) == ["run-1", "run-2"]
    assert overlay.auto_labels([{"environment": env}] * 2, ["same", "same"]) == ["same #1", "same #2"]


def test_ratios_are_against_the_first_folder():
    first = [{"series": "epoll", "concurrency": 10, "requests_per_sec": 100.0, "latency_p50_ms": 2.0}]
    second = [{"series": "epoll", "concurrency": 10, "requests_per_sec": 150.0, "latency_p50_ms": 1.0},
              {"series": "libuv", "concurrency": 10, "requests_per_sec": 50.0}]
    rows = overlay.ratio_rows([first, second], ["epoll", "libuv"])
    by = {(s, c, m): (v0, r) for s, c, m, v0, r in rows}
    assert by[("epoll", 10, "2xx throughput, steady window (req/s)")] == (100.0, [1.5])
    assert by[("epoll", 10, "2xx p50 latency (ms)")] == (2.0, [0.5])
    assert by[("libuv", 10, "2xx throughput, steady window (req/s)")] == (None, [None])  # no baseline: no ratio
    assert ("epoll", 10, "2xx p99 latency (ms)") not in by  # measured nowhere: no row


def test_labels_give_the_kernel_release_and_legends_widen_the_canvas_to_hold_them():
    from c10k import plots
    env = {"hostname": "box", "kernel": "Linux 6.18.44-fc-v595 #1 SMP PREEMPT_DYNAMIC @0 x86_64"}
    other = dict(env, kernel="Linux 6.18.44-fc-v657 #1 SMP PREEMPT_DYNAMIC @0 x86_64")
    assert overlay.auto_labels([{"environment": env}, {"environment": other}], ["a", "b"]) == [
        "kernel Linux 6.18.44-fc-v595", "kernel Linux 6.18.44-fc-v657"]
    long_title = "epoll-threads [CPU Intel(R) Xeon(R) Processor, kernel Linux 6.18.44-fc-v657, rev 40adef09d0] p99"
    w, h, columns = plots.canvas([long_title, "ideal: D = 1000 ms"])
    assert w >= plots.SIDE_MARGINS_PX + plots.KEY_CHAR_PX * (plots.KEY_EXTRA_CHARS + len(long_title))
    assert plots.canvas(["epoll p50"])[0] == plots.SIZE[0]
