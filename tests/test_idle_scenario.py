"""Idle connections and open-loop rates as sweep axes: the format, the flags, the limits check, the
results layout, and the shipped `idle` scenario's quick run end to end on the real binaries."""
import copy
import json
import os
import sys

import pytest

import harness
from harness import ROOT
from test_runner import recorded_pids, run_runner, sessions_alive, the_folder

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import environment, models, pngcheck, procsample, results, scenario as scen  # noqa: E402
from c10k.series import Series  # noqa: E402

BASE = {"schema_version": 1, "name": "t", "description": "d", "series": ["epoll"], "concurrency": [1, 50],
        "loadgen": {"keepalive": True, "duration_s": 1}}


def doc(**kw):
    d = copy.deepcopy(BASE)
    d.update(kw)
    return d


def problems(d, quick=False):
    with pytest.raises(scen.ScenarioError) as e:
        scen.validate(d, "t.json", quick=quick)
    return e.value.problems


def test_idle_and_rates_expand_into_points_in_run_order():
    sc = scen.Scenario.from_dict(scen.validate(doc(idle=[0, 1000], series=[
        "epoll", {"name": "open", "server": "poll", "concurrency": [200], "idle": [0, 10000], "rates": [500, 2000]}])))
    epoll, open_ = sc.series
    assert epoll.points() == [(1, 0, None), (1, 1000, None), (50, 0, None), (50, 1000, None)]
    assert open_.points() == [(200, 0, 500), (200, 0, 2000), (200, 10000, 500), (200, 10000, 2000)]


def test_a_scenario_without_the_axes_keeps_one_point_per_concurrency():
    (s,) = scen.Scenario.from_dict(scen.validate(doc())).series
    assert s.points() == [(1, 0, None), (50, 0, None)]


@pytest.mark.parametrize("change, expected", [
    (dict(idle=[1000, 0]), "/idle: idle levels must be strictly increasing"),
    (dict(idle=[-1]), "/idle/0: must be >= 0"),
    (dict(idle=[]), "/idle: must not be empty"),
    (dict(rates=[100, 100]), "/rates: rates must be strictly increasing"),
    (dict(rates=[0]), "/rates/0: must be > 0"),
    (dict(rates=[100], loadgen={"duration_s": 1, "rate": 50}), "give the open-loop rate once"),
    (dict(loadgen={"duration_s": 1, "idle_mode": "cold"}), "/loadgen/idle_mode"),
    (dict(server_options={"idle_timeout_ms": -1}), "/server_options/idle_timeout_ms: must be >= 0"),
])
def test_bad_axes_are_refused_with_the_key(change, expected):
    found = problems(doc(**change))
    assert any(expected in p for p in found), found


def test_quick_keeps_the_shared_levels_else_the_first_and_last():
    d = doc(idle=[0, 1000, 10000], series=[
        "epoll", {"name": "open", "server": "epoll", "idle": [0, 10000], "rates": [100, 200, 400]}],
        quick={"idle": [0, 1000]})
    epoll, open_ = scen.validate(d, quick=True)["series"]
    assert epoll["idle"] == [0, 1000]
    assert open_["idle"] == [0] and open_["rates"] == [100, 400]
    full = scen.validate(copy.deepcopy(d))["series"]
    assert full[0]["idle"] == [0, 1000, 10000] and full[1]["rates"] == [100, 200, 400]


def test_flags_of_a_point():
    s = Series.from_dict(scen.validate(doc(
        server_options={"idle_timeout_ms": 0, "header_timeout_ms": 0},
        loadgen={"keepalive": True, "duration_s": 1, "idle_mode": "connect"}))["series"][0])
    assert s.server_argv("srv")[-4:] == ["--idle-timeout-ms", "0", "--header-timeout-ms", "0"]
    argv = s.loadgen_argv("lg", 50, "http://x/", "j.json", idle=1000, rate=2500.0)
    assert argv[argv.index("--idle") + 1] == "1000" and argv[argv.index("--idle-mode") + 1] == "connect"
    assert argv[argv.index("--rate") + 1] == "2500"
    # No idle connections: neither --idle nor its mode (the loadgen of a plain point is unchanged).
    plain = s.loadgen_argv("lg", 50, "http://x/", "j.json")
    assert "--idle" not in plain and "--idle-mode" not in plain and "--rate" not in plain


@pytest.mark.parametrize("c, idle, rate, name", [
    (50, 0, None, "c50"), (1, 1000, None, "c1-i1000"), (200, 0, 1500, "c200-r1500"),
    (200, 10000, 2.5, "c200-i10000-r2.5")])
def test_point_folder_names_round_trip(c, idle, rate, name):
    assert results.point_name(c, idle, rate) == name
    assert results.parse_point_name(name) == (c, idle, rate)


@pytest.mark.parametrize("name", ["c", "x1", "c1-i", "c1-q5", "c1-r1-i5", "c1-i5-i6"])
def test_other_folder_names_are_not_points(name):
    assert results.parse_point_name(name) is None


def model(name, **traits):
    return {"model": name, "processes": 1, "limits": {"fd_setsize": traits.pop("fd_setsize", None)}, **traits}


def env_with(nofile=20000, **models_by_name):
    return {"nofile_limit": nofile, "port_range": [32768, 60999], "pid_max": 32768, "threads_max": 192730,
            "nproc_limit": 96365, "somaxconn": 4096, "models": models_by_name}


def point(server, c, idle, nofile=20000):
    return environment.check_point(env_with(nofile, **{server: MODELS[server]}),
                                   Series.from_dict({"name": server, "server": server, "concurrency": [c],
                                                    "loadgen": {"source": "127.0.0.1-127.0.0.8"}}),
                                   c, 100, idle)


MODELS = {"sel": model("sel", fd_setsize=1024), "loop": model("loop"),
          "thr": model("thr", task_per_connection="thread")}


def test_check_counts_idle_and_active_file_descriptors():
    assert point("loop", 50, 15000) == (None, None)
    reason, _ = point("loop", 50, 19950)
    assert "open files" in reason and "20064" in reason  # C + idle + the margin for the server's own


def test_check_skips_idle_points_past_fd_setsize_and_says_why():
    assert point("sel", 1, 1000) == (None, None)  # 1,009 fds: below FD_SETSIZE
    reason, _ = point("sel", 50, 1000)
    assert "FD_SETSIZE (1024)" in reason and "1000 idle" in reason
    # Without idle connections a select point past FD_SETSIZE still runs, with a note (as before).
    reason, warning = point("sel", 2000, 0)
    assert reason is None and "FD_SETSIZE" in warning


def test_check_counts_a_thread_per_idle_connection():
    reason, _ = point("thr", 50, 32700, nofile=100000)
    assert "threads (one per connection)" in reason and "pid_max" in reason


def test_idle_connections_do_not_count_as_connects_at_once():
    # They open paced before the load; only the C active ones hit the listen backlog together.
    assert point("loop", 1, 15000) == (None, None)


def test_steady_usage_takes_the_measured_window_only():
    samples = [{"t_s": t / 10, "cpu_total_s": (5.0 if t < 20 else 5.0 + (t - 20) * 0.01)} for t in range(60)]
    u = procsample.steady_usage(samples, 2.0, 5.0, 1000.0)
    assert u["from_s"] == 2.0 and u["to_s"] == 5.0
    assert u["cpu_cores"] == pytest.approx(0.1) and u["cpu_per_request_us"] == pytest.approx(100.0)
    assert procsample.steady_usage(samples[:1], 0, 5, 1000.0) is None


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("idle")
    r = run_runner("idle", "--quick", "--out", str(out), "--no-progress", timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return the_folder(out), r


@pytest.mark.serial  # a heavy load, run once: the three share one quick run in one worker
def test_idle_quick_runs_every_point_it_can(quick_run):
    folder, _ = quick_run
    sc = scen.load("idle", quick=True)
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    skipped = {results.point_key(p["series"], p["concurrency"], p.get("idle", 0), p.get("rate"))
               for p in manifest["skipped_points"]}
    by_point = results.read_repetitions(folder)
    for s in sc.series:
        for c, idle, rate in s.points():
            key = results.point_key(s.name, c, idle, rate)
            assert key in by_point or key in skipped, key
    assert sessions_alive(recorded_pids(folder)) == []


@pytest.mark.serial  # a heavy load, run once: the three share one quick run in one worker
def test_idle_connections_are_held_and_served_but_not_measured(quick_run):
    folder, _ = quick_run
    with open(os.path.join(folder, "manifest.json")) as f:
        described = json.load(f)["environment"]["models"]
    seen = 0
    for (series, c, *axes), reps in results.read_repetitions(folder).items():
        idle = axes[0] if axes else 0
        for rep in reps:
            assert rep["status"] == "ok", (series, c, idle, rep["detail"])
            lg = rep["loadgen"]
            served = rep["server_usage"]["requests"]  # the server's own /__stats count
            if not idle:
                continue
            assert lg["idle"]["requested"] == idle and lg["config"]["idle"] == idle
            assert "--idle" in rep["loadgen_args"]
            # Each idle connection sent one request the server answered, outside the loadgen's counts.
            assert served >= lg["summary"]["complete"] + lg["summary"]["warmup_requests"] + lg["idle"]["opened"]
            if not models.task_per_connection(described[rep["server"]]):
                # An event loop takes them all on, and the lifted idle timeout keeps them open.
                assert lg["idle"]["held_at_end"] == idle, (series, lg["idle"])
                seen += 1
    assert seen >= 5


@pytest.mark.serial  # a heavy load, run once: the three share one quick run in one worker
def test_idle_quick_skips_select_past_fd_setsize_and_reports_the_axes(quick_run):
    folder, r = quick_run
    assert os.path.isdir(os.path.join(folder, "points", "poll", "c1-i1000"))
    assert os.path.isdir(os.path.join(folder, "points", "epoll-open", "c200-r1000"))
    for name in ("idle-cpu", "idle-p99", "idle-rate", "idle-memory"):
        path = os.path.join(folder, "plots", f"{name}.png")
        assert pngcheck.size(path)[0] > 0 and pngcheck.ink_fraction(path)[0] > 0.01, name
    with open(os.path.join(folder, "summary.md")) as f:
        summary = f.read()
    assert "## Idle connections" in summary
    for s in ("poll", "epoll", "uring"):
        assert f"- {s} at C = 1: " in summary and f"| {s} | 1 |" in summary
    assert "- epoll-open with 0 idle connections" in summary
    with open(os.path.join(folder, "index.html")) as f:
        assert 'src="plots/idle-cpu.png"' in f.read()


def test_a_curve_without_cpu_figures_is_said_not_left_out():
    """A (series, C) whose CPU was measured at fewer than two idle levels gets a sentence that says
    so, so the summary never silently drops a model."""
    from c10k import idlereport
    pts = [{"series": "uring", "concurrency": 1, "idle": i, "swept_rate": None, "steady_cpu_per_request_us": cpu,
            "cpu_per_request_us": cpu, "latency_p99_ms": 1.0} for i, cpu in ((0, 40.0), (1000, None))]
    pts += [{"series": "epoll", "concurrency": 1, "idle": i, "swept_rate": None, "steady_cpu_per_request_us": 40.0,
             "cpu_per_request_us": 40.0, "latency_p99_ms": 1.0} for i in (0, 1000)]
    text = "\n".join(idlereport.sentences(pts, {}))
    assert "uring at C = 1: no curve; its server CPU per request was measured at 1 of its 2 idle levels" in text
    assert "epoll at C = 1: 40 µs of CPU per request at 0 idle, 40 µs at 1,000 (1x): flat" in text
