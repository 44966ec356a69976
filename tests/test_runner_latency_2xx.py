"""Latency means the successful answers: refusals are counted, and plotted, on their own.

A server capped at 2 connections (--max-conns) answers every other one with an immediate 503
while the two it serves wait out a 20 ms delay: the 503s must not pull the latency down."""
import json
import os
import subprocess

import harness
from test_runner import results, run_runner, the_folder

LOADGEN = harness.binary("loadgen")


def run_json(*args):
    out = subprocess.run([LOADGEN, "-q", "--json", "-", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_loadgen_keeps_a_2xx_latency_table_beside_the_table_of_all_answers(tmp_path):
    server = harness.start_server("epoll", "--max-conns", 2, "--delay-ms", 20)
    try:
        doc = run_json("-n", 200, "-c", 8, "-k", "-l", server.url)
    finally:
        server.stop()
    ok = doc["status_codes"].get("200", 0)
    refused = doc["status_codes"].get("503", 0)
    assert ok > 0 and refused > 0 and ok + refused == doc["summary"]["complete"]
    everything, good = doc["latency"]["total"], doc["latency_2xx"]["total"]
    assert everything["count"] == ok + refused and good["count"] == ok
    assert good["percentiles"]["50"] >= 20.0  # the delay: every 200 waited for it
    assert good["min_ms"] >= 20.0 > everything["min_ms"]  # the 503s came at once

    # --merge adds the 2xx tables exactly, and leaves the table out when an input lacks it.
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(doc))
    old = dict(doc)
    del old["latency_2xx"]
    b.write_text(json.dumps(old))
    merged = run_json("--merge", a, a)
    assert merged["latency_2xx"]["total"]["count"] == 2 * ok
    assert merged["latency_2xx"]["total"]["histogram"]["sum_us"] == 2 * good["histogram"]["sum_us"]
    assert "latency_2xx" not in run_json("--merge", a, b)


def test_report_and_plots_show_2xx_latency_and_refusals_apart(tmp_path):
    doc = {"schema_version": 1, "name": "refusing", "description": "a server that refuses past 2 connections",
           "server_options": {"delay_ms": 20, "max_conns": 2},
           "loadgen": {"duration_s": 0.6, "keepalive": True, "timeout_s": 5},
           "series": ["epoll"], "concurrency": [8]}
    path = tmp_path / "refusing.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    r = run_runner(str(path), "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    folder = the_folder(out)
    (point,) = results.load(folder).points()
    assert point["non_2xx"] > 0 and point["non_2xx_pct"] > 0 and point["errors_pct"] == 0
    assert point["latency_p50_ms"] >= 20.0
    rep = results.read_repetition(results.rep_path(folder, "epoll", 8, 1))
    assert rep["loadgen"]["latency"]["total"]["percentiles"]["50"] < 20.0  # what the old plot showed
    gp = open(os.path.join(folder, "plots", "failures-png.gp")).read()
    assert '"epoll non-2xx"' in gp and '"epoll errors"' in gp
    html = open(os.path.join(folder, "index.html")).read()
    assert "p50 ms (2xx)" in html and "non-2xx %" in html
