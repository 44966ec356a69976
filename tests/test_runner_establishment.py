"""The establishment phase: the loadgen reports when every connection had its first 2xx answer,
and the runner opens the throughput window after that phase (within a bound), saying so when the
bound was hit."""
import json
import subprocess

import harness
from test_runner import results, run_runner, the_folder

LOADGEN = harness.binary("loadgen")


def run_json(*args):
    out = subprocess.run([LOADGEN, "-q", "--json", "-", *map(str, args)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_loadgen_reports_when_every_connection_was_answered_once(tmp_path):
    server = harness.start_server("forking", "--delay-ms", 100)
    try:
        doc = run_json("-c", 20, "-k", "--duration", 0.5, "--warmup", 0.2, server.url)
    finally:
        server.stop()
    est = doc["establishment"]
    assert est["connections"] == 20 and est["answered"] == 20
    assert 0.1 <= est["all_answered_s"] < 10  # at least the delay, from the start of the warm-up

    capped = harness.start_server("epoll", "--max-conns", 2, "--delay-ms", 20)
    try:
        short = run_json("-c", 6, "-k", "-l", "--duration", 0.3, capped.url)
    finally:
        capped.stop()
    # Two connections hold the two slots: the other four only ever get 503s.
    assert short["establishment"] == {"connections": 6, "answered": 2, "all_answered_s": None}

    a, b, old = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "old.json"
    a.write_text(json.dumps(doc))
    b.write_text(json.dumps(short))
    legacy = dict(doc)
    del legacy["establishment"]
    old.write_text(json.dumps(legacy))
    assert run_json("--merge", a, a)["establishment"] == {"connections": 40, "answered": 40,
                                                          "all_answered_s": est["all_answered_s"]}
    assert run_json("--merge", "--allow-mixed-targets", a, b)["establishment"]["all_answered_s"] is None
    assert "establishment" not in run_json("--merge", a, old)


def rep(warmup, duration, all_answered, answered=10, seconds=()):
    return {"loadgen": {
        "config": {"time_limit_s": duration, "warmup_s": warmup},
        "summary": {"duration_s": duration, "requests_per_sec": sum(seconds) / duration, "complete": sum(seconds)},
        "status_codes": {"200": sum(seconds)},
        "establishment": {"connections": 10, "answered": answered, "all_answered_s": all_answered},
        "timeseries": [{"t_s": i, "completed": n} for i, n in enumerate(seconds)]}}


def test_the_window_opens_after_the_phase_within_the_bound():
    assert results.steady_window(rep(1.0, 4, 0.8)) == (0.0, False)   # done within the warm-up
    assert results.steady_window(rep(1.0, 4, 2.5)) == (2.0, False)   # 1.5 s into the window
    assert results.steady_window(rep(1.0, 4, 4.0)) == (2.0, True)    # 3 s: past half the window
    assert results.steady_window(rep(1.0, 4, None, answered=7)) == (2.0, True)
    # D = 10 s (c100k): a skip of whole rounds, so the 10 s left count each connection once.
    assert results.steady_window(rep(12.5, 20, 15.8), 10.0) == (10.0, False)
    assert results.steady_window(rep(12.5, 20, 25.0), 10.0) == (10.0, True)
    assert results.steady_window(rep(12.5, 20, 12.0), 10.0) == (0.0, False)
    assert results.steady_window(rep(1.0, 4, 2.5), 0.02) == (2.0, False)  # short D: whole seconds
    no_phase = rep(1.0, 4, 2.5)
    del no_phase["loadgen"]["establishment"]
    assert results.steady_window(no_phase) == (0.0, False)           # an older loadgen
    counted = rep(0, 4, 2.5)
    counted["loadgen"]["config"]["time_limit_s"] = None                # -n: nothing to move
    assert results.steady_window(counted) == (0.0, False)
    # The rate is the per-second counts after the skipped seconds.
    ramping = rep(0.0, 4, 1.5, seconds=(10, 50, 100, 100))
    assert results.repetition_rate(ramping, {}) == 100.0
    # 0.5 s into the window: the counts start on whole seconds, so the first one is skipped.
    assert results.repetition_rate(rep(0.0, 4, 0.5, seconds=(10, 50, 100, 100)), {}) == 250 / 3
    assert results.repetition_rate(rep(1.0, 4, 0.5, seconds=(10, 50, 100, 100)), {}) == 65.0


def test_runner_measures_the_phase_and_moves_the_window(tmp_path):
    # --ramp opens the 20 connections over 2 s: the phase ends about 1.5 s into the 6 s window
    # (the bound, half the window, leaves room for a slow machine).
    doc = {"schema_version": 1, "name": "ramped", "description": "connections opened over 2 s",
           "server_options": {"delay_ms": 100},
           "loadgen": {"keepalive": True, "duration_s": 6, "warmup_s": 0.5, "ramp_s": 2, "timeout_s": 5},
           "series": ["epoll", {"name": "capped", "server": "epoll", "server_options": {"max_conns": 2},
                                "loadgen": {"ramp_s": 0, "duration_s": 1, "extra_args": ["-l"]}}],
           "concurrency": [20]}
    path = tmp_path / "ramped.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    r = run_runner(str(path), "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    folder = the_folder(out)
    points = {p["series"]: p for p in results.load(folder).points()}
    ramped, capped = points["epoll"], points["capped"]
    assert 1.5 <= ramped["establishment_s"] < 3.5 and not ramped["establishment_bound_hit"], ramped
    assert ramped["establishment_rate_per_s"] == round(20 / ramped["establishment_s"], 1)
    # The steady rate (C/D = 200/s at most) is above the loadgen's rate over the whole window.
    assert ramped["requests_per_sec"] > ramped["loadgen_requests_per_sec"]
    assert capped["establishment_s"] is None and capped["establishment_answered"] == 2
    assert capped["establishment_bound_hit"] == 1
    assert "only 2 of 20 connections were ever answered" in capped["diagnosis"]
    summary = open(f"{folder}/summary.md").read()
    assert "## Establishment" in summary and "not all (2 answered)" in summary
    assert (tmp_path / "out").joinpath(folder, "plots", "establishment.png").stat().st_size > 0
