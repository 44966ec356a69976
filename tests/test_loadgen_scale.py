"""loadgen at scale: a time series that stays small for any run length and still merges exactly."""
import copy
import json
import os
import subprocess

from test_loadgen_util import loadgen_path, run_json, run_json_while, run_loadgen, validate

SERIES_HALF_MAG = 5  # 64 sub-buckets, as documented in docs/loadgen-json.md
FINE_HALF_MAG = 10   # the whole-run layout, 2048 sub-buckets


def loglin_index(v, half_mag):
    """The counts index of v in the log-linear layout (mirrors loadgen/hist.h)."""
    pow2ceil = max(v | ((2 << half_mag) - 1), 1).bit_length()
    bucket = pow2ceil - (half_mag + 1)
    return ((bucket + 1) << half_mag) + ((v >> bucket) - (1 << half_mag))


def loglin_lowest(idx, half_mag):
    b = (idx >> half_mag) - 1
    s = (idx & ((1 << half_mag) - 1)) + (1 << half_mag)
    if b < 0:
        s -= 1 << half_mag
        b = 0
    return s << b


def test_layouts_nest_so_fine_buckets_map_exactly():
    """Every bucket of the whole-run layout lies inside one bucket of the series layout."""
    for v in list(range(0, 5000)) + [2 ** k + d for k in range(12, 36) for d in (-1, 0, 1, 12345)]:
        fine = loglin_index(v, FINE_HALF_MAG)
        lo = loglin_lowest(fine, FINE_HALF_MAG)
        hi = loglin_lowest(fine + 1, FINE_HALF_MAG) - 1
        assert loglin_index(lo, SERIES_HALF_MAG) == loglin_index(hi, SERIES_HALF_MAG) == \
            loglin_index(v, SERIES_HALF_MAG)


def test_series_histograms_are_coarse_exact_in_summary_and_streamed(server_factory):
    srv = server_factory("epoll")
    doc, proc = run_json("-t", "2.5", "-c", 4, "-k", srv.url, timeout=30)
    ts = doc["timeseries"]
    assert [e["t_s"] for e in ts] == [0, 1, 2]
    total = doc["latency"]["total"]["histogram"]
    assert sum(e["histogram"]["count"] for e in ts) == total["count"] == doc["summary"]["complete"]
    assert sum(e["histogram"]["sum_us"] for e in ts) == total["sum_us"]
    assert max(e["histogram"]["max_us"] for e in ts) == total["max_us"]
    assert min(e["histogram"]["min_us"] for e in ts if e["completed"]) == total["min_us"]
    # The series histograms, re-bucketed from the whole-run one, add up to it exactly.
    coarse_total = {}
    for v, n in total["buckets"]:
        i = loglin_index(v, SERIES_HALF_MAG)
        coarse_total[i] = coarse_total.get(i, 0) + n
    coarse_series = {}
    for e in ts:
        h = e["histogram"]
        assert h["sub_bucket_count"] == 64 and len(h["buckets"]) <= 1024
        for v, n in h["buckets"]:
            assert loglin_lowest(loglin_index(v, SERIES_HALF_MAG), SERIES_HALF_MAG) == v
            coarse_series[v] = coarse_series.get(v, 0) + n
    assert {loglin_lowest(i, SERIES_HALF_MAG): n for i, n in coarse_total.items()} == coarse_series
    # Streamed: the head, then one compact line per second.
    lines = proc.stdout.splitlines()
    start = lines.index(' "timeseries": [')
    assert [json.loads(line.rstrip(",")) for line in lines[start + 1:start + 4]] == ts
    assert lines[start + 4:] == [" ]", "}"]


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


def test_merge_adds_series_exactly_including_finer_layouts(server_factory, tmp_path):
    srv = server_factory("epoll")
    a, _ = run_json("-t", "1.5", "-c", 2, "-k", srv.url, timeout=30)
    b, _ = run_json("-n", 3000, "-c", 3, srv.url, timeout=30)
    # An input written with the whole-run precision in its series (as earlier versions did):
    # its buckets must map into the series layout exactly.
    fine = copy.deepcopy(b)
    values = [3, 70, 71, 100, 2047, 2048, 5000, 5001, 123456, 7654321]
    fine_buckets = {}
    for v in values:
        lo = loglin_lowest(loglin_index(v, FINE_HALF_MAG), FINE_HALF_MAG)
        fine_buckets[lo] = fine_buckets.get(lo, 0) + 1
    # Its series must still add up to its summary (a merge checks): one second with every request.
    fine["timeseries"] = [{"t_s": 0, "completed": b["summary"]["complete"],
                           "errors": b["summary"]["failed"], "p50_ms": 0.1,
                           "p99_ms": 7.6, "open_connections": 0,
                           "histogram": {"unit": "us", "lowest_us": 1, "highest_us": 2 ** 36 - 1,
                                         "significant_digits": 3, "sub_bucket_count": 2048,
                                         "count": len(values), "min_us": 3, "max_us": 7654321,
                                         "sum_us": sum(values), "sum_sq_us2": float(sum(v * v for v in values)),
                                         "buckets": sorted([k, n] for k, n in fine_buckets.items())}}]
    files = [_write(tmp_path, "a.json", a), _write(tmp_path, "b.json", b), _write(tmp_path, "f.json", fine)]
    m, _ = run_json("--merge", *files, timeout=30)
    assert len(m["timeseries"]) == max(len(a["timeseries"]), len(b["timeseries"]))
    for t, e in enumerate(m["timeseries"]):
        parts = [d["timeseries"][t] for d in (a, b, fine) if t < len(d["timeseries"])]
        assert e["completed"] == sum(p["completed"] for p in parts)
        want = {}
        for p in parts:
            for v, n in p["histogram"]["buckets"]:
                lo = loglin_lowest(loglin_index(v, SERIES_HALF_MAG), SERIES_HALF_MAG)
                want[lo] = want.get(lo, 0) + n
        assert e["histogram"]["buckets"] == sorted([k, n] for k, n in want.items())
        assert e["histogram"]["count"] == sum(p["histogram"]["count"] for p in parts)
        assert e["histogram"]["sum_us"] == sum(p["histogram"]["sum_us"] for p in parts)


def test_merge_rejects_a_series_layout_it_cannot_map(server_factory, tmp_path):
    srv = server_factory("epoll")
    a, _ = run_json("-n", 200, "-c", 2, srv.url, timeout=30)
    a["timeseries"][0]["histogram"]["sub_bucket_count"] = 32
    proc = run_loadgen("--merge", _write(tmp_path, "a.json", a), timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert "sub_bucket_count" in proc.stderr


def _peak_rss_kib_and_json(args, tmp_path, name):
    path = tmp_path / name
    proc = subprocess.Popen([loadgen_path(), "-q", "--json", str(path), *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    doc = json.loads(path.read_text())
    validate(doc)
    lines = path.read_text().splitlines()
    series_lines = lines[lines.index(' "timeseries": [') + 1:-2]
    return usage.ru_maxrss, max(map(len, series_lines)), doc


def test_memory_and_json_grow_by_little_per_second(server_factory, tmp_path):
    """A long run's growth per second is bounded by the series layout: a few KiB per second
    (the whole-run layout took about 80 KiB a second in the file)."""
    srv = server_factory("epoll")
    url = srv.url
    short_rss, _, _ = _peak_rss_kib_and_json(["-t", 1, "-c", 20, "-k", url], tmp_path, "s.json")
    long_rss, longest_line, doc = _peak_rss_kib_and_json(["-t", 6, "-c", 20, "-k", url], tmp_path,
                                                         "l.json")
    assert len(doc["timeseries"]) >= 6
    # A second's line: at most 1,024 buckets of ~12 bytes and ~250 bytes of fields.
    assert longest_line < 13000, longest_line
    # Building the whole document as JSON values grew the peak by ~1.9 MiB over these 5 s here.
    assert long_rss - short_rss < 512, (short_rss, long_rss)


# ---- the generator watches itself -----------------------------------------------------------

def test_server_bound_run_has_no_generator_warning(server_factory):
    """The server takes 20 ms a request: loadgen's loop waits nearly all the time."""
    srv = server_factory("epoll", "--delay-ms", 20)
    doc, proc = run_json("-t", 2, "-c", 4, "-k", srv.url, timeout=30)
    g = doc["generator"]
    assert len(g["threads"]) == 1 and g["open_loop"] is None and g["warnings"] == []
    t = g["threads"][0]
    assert len(t["busy_permille"]) == len(t["cpu_permille"]) == len(doc["timeseries"])
    assert max(t["busy_permille"]) < g["saturated_permille"]
    assert 0 <= t["busy_s"] <= doc["summary"]["duration_s"] + 0.5
    assert all(e["loadgen_busy_max"] < 0.9 for e in doc["timeseries"])
    text = run_loadgen("-q", "-t", 1, "-c", 4, "-k", srv.url, timeout=30, check_rc=0).stdout
    assert "Load generator (its own load):" in text and "WARNING" not in text


def test_a_rate_no_thread_can_send_is_reported_with_counters(server_factory):
    """5,000,000 requests/s is beyond any one thread here: the schedule falls behind."""
    srv = server_factory("epoll")
    doc, _ = run_json("-t", 2, "-c", 200, "-k", "--rate", 5000000, srv.url, timeout=30)
    ol = doc["generator"]["open_loop"]
    assert ol["target_rate"] == 5000000
    assert ol["not_sent"] > 0 and ol["achieved_send_rate"] < 0.5 * ol["target_rate"]
    assert ol["sent"] == sum(e["sent"] for e in doc["timeseries"]) == ol["send_lag"]["count"]
    assert ol["waited_for_connection"] == sum(e["waited_for_connection"] for e in doc["timeseries"])
    assert ol["send_lag"]["max_ms"] > 0
    assert any("of the --rate 5000000 asked" in w for w in doc["generator"]["warnings"])
    for e in doc["timeseries"]:
        assert e["send_lag_histogram"]["count"] == e["sent"]


def test_an_achievable_rate_keeps_its_schedule(server_factory):
    srv = server_factory("epoll")
    # 100 connections for 200 requests/s: only a server stalled for half a second (a loaded box)
    # could keep them all busy and make a request wait, which the warning would rightly report.
    doc, _ = run_json("-n", 200, "-c", 100, "-k", "--rate", 200, srv.url, timeout=30)
    ol = doc["generator"]["open_loop"]
    assert ol["sent"] == 200 and ol["not_sent"] == 0 and ol["waited_for_connection"] == 0
    assert doc["generator"]["warnings"] == []


def test_saturated_seconds_give_the_plain_warning_and_merge_keeps_threads(server_factory, tmp_path):
    """The warning is drawn from the per-second busy shares; a merge keeps every input's threads
    and draws the warnings again (here from a recorded run with its busy shares set as a
    saturated generator leaves them). The recorded run waits on a delayed server, so its own
    thread is never near saturation: against a fast server one loadgen thread can be."""
    srv = server_factory("epoll", "--delay-ms", 20)
    a, _ = run_json("-t", 3.5, "-c", 2, "-k", srv.url, timeout=30)
    assert a["generator"]["warnings"] == []
    b = copy.deepcopy(a)
    b["generator"]["threads"][0]["busy_permille"] = [950, 970, 990, 100]
    m, _ = run_json("--merge", _write(tmp_path, "a.json", a), _write(tmp_path, "b.json", b), timeout=30)
    assert len(m["generator"]["threads"]) == 2
    a["environment"]["cpus_allowed"] = b["environment"]["cpus_allowed"] = 4
    m, _ = run_json("--merge", _write(tmp_path, "a.json", a), _write(tmp_path, "b.json", b), timeout=30)
    assert m["generator"]["warnings"] == [
        "loadgen thread 1 was 97 % busy in seconds 0-2: raise --threads or --processes "
        "(2 loadgen threads on 4 cores)"]
    text = run_loadgen("--merge", _write(tmp_path, "a2.json", a), _write(tmp_path, "b2.json", b),
                       timeout=30, check_rc=0).stdout
    assert text.rstrip().endswith(
        "WARNING: loadgen thread 1 was 97 % busy in seconds 0-2: raise --threads or --processes "
        "(2 loadgen threads on 4 cores)")


def test_runner_report_marks_points_the_generator_paced(tmp_path):
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "scripts"))
    from c10k import report, results
    import test_plots
    folder, _ = test_plots.make_folder(str(tmp_path / "r"))
    rep = results.rep_path(folder, "epoll", 100, 1)
    doc = results.read_repetition(rep)
    doc["loadgen"]["generator"] = {"warnings": [
        "loadgen thread 0 was 97 % busy in seconds 3-9: raise --threads or --processes"]}
    results.write_json_atomic(rep, doc)
    res = results.load(folder)
    report.write_summary(folder, res, res.points())
    summary = open(os.path.join(folder, "summary.md")).read()
    assert ("- epoll at C=100: The load generator set the pace: loadgen thread 0 was 97 % busy in "
            "seconds 3-9: raise --threads or --processes.") in summary
    assert summary.count("load generator set the pace") == 1


# ---- shards: one command, several worker processes -------------------------------------------

def test_processes_split_exactly_and_merge_into_one_report(server_factory):
    srv = server_factory("epoll")
    before = srv.stats()["requests"]
    doc, _ = run_json("-n", 3001, "-c", 7, "-k", "--processes", 3, srv.url, timeout=60)
    assert srv.stats()["requests"] - before == 3001
    s = doc["summary"]
    assert s["complete"] == s["attempts"] == 3001 and s["failed"] == 0
    assert doc["config"]["concurrency"] == 7 and doc["config"]["processes"] == 3
    assert [m["complete"] for m in doc["merged_from"]] == [1001, 1000, 1000]
    assert [m["file"] for m in doc["merged_from"]] == ["worker 0 of 3", "worker 1 of 3", "worker 2 of 3"]
    assert len(doc["generator"]["threads"]) == 3
    assert doc["summary"]["connections_opened"] == 7
    total = doc["latency"]["total"]["histogram"]
    assert total["count"] == 3001 == sum(e["completed"] for e in doc["timeseries"])


def test_processes_split_the_rate(server_factory):
    srv = server_factory("epoll")
    doc, _ = run_json("-n", 300, "-c", 6, "-k", "--rate", 600, "--processes", 2, srv.url, timeout=60)
    assert doc["config"]["rate"] == 600
    ol = doc["generator"]["open_loop"]
    assert ol["target_rate"] == 600 and ol["sent"] == 300 and ol["not_sent"] == 0


def test_processes_are_started_by_themselves_past_the_open_file_limit(server_factory):
    """With 200 open files a process holds 182 connections: -c 400 needs 3 processes."""
    import resource
    srv = server_factory("epoll")

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (200, 200))
    proc = subprocess.run([loadgen_path(), "--no-progress", "--json", "-", "-n", "800", "-c", "400",
                           "-k", srv.url],
                          capture_output=True, text=True, timeout=60, preexec_fn=low_limit)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("running 3 worker processes (--processes 3)") == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["summary"]["complete"] == 800 and doc["summary"]["failed"] == 0
    assert doc["config"]["processes"] == 3


def _worker_pids(pid):
    import harness
    return [p for p, _ in harness.children_of(pid)]


def test_sigint_gives_one_merged_partial_report(server_factory):
    import signal
    import time
    srv = server_factory("epoll")
    def interrupt_once_workers_run(proc):
        deadline = time.monotonic() + 10
        while len(_worker_pids(proc.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
    doc, _ = run_json_while(["-t", "30", "-c", "6", "-k", "--processes", "3", srv.url],
                            interrupt_once_workers_run, timeout=20)
    assert doc["summary"]["interrupted"] is True and doc["summary"]["stop_reason"] == "interrupted"
    assert len(doc["merged_from"]) == 3 and doc["summary"]["complete"] > 0
    assert doc["summary"]["duration_s"] < 20


def test_a_killed_parent_leaves_no_worker(server_factory):
    import signal
    import time
    srv = server_factory("epoll")
    proc = subprocess.Popen([loadgen_path(), "-q", "-t", "30", "-c", "6", "-k", "--processes", "3", srv.url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    workers = []
    while len(workers) < 3 and time.monotonic() < deadline:
        workers = _worker_pids(proc.pid)
        time.sleep(0.05)
    assert len(workers) == 3
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        alive = [p for p in workers if os.path.exists(f"/proc/{p}") and
                 open(f"/proc/{p}/stat").read().split(")")[-1].split()[0] != "Z"]
        time.sleep(0.05)
    assert alive == []


def test_start_at_checks_its_value_and_notes_a_late_start(server_factory):
    srv = server_factory("epoll")
    bad = run_loadgen("--start-at", "soon", srv.url, timeout=30)
    assert bad.returncode == 2 and "--start-at needs a Unix time" in bad.stderr
    late = run_loadgen("-q", "-n", 5, "--start-at", 1000, srv.url, timeout=30, check_rc=0)
    assert "started" in late.stderr and "after --start-at" in late.stderr


# ---- the c100k scenario ------------------------------------------------------------------------

def test_c100k_plan_names_the_limit_of_each_point_it_cannot_run():
    import harness
    import sys
    run = os.path.join(harness.ROOT, "scripts", "run_scenario.py")
    r = subprocess.run([sys.executable, run, "c100k", "--check", "--bin-dir", harness.BIN_DIR],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    skipped = [line for line in r.stderr.splitlines() if line.startswith("cannot run")]
    import resource
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if nofile < 30000:
        assert (f"cannot run epoll at c=30000 here: needs about 30064 open files in server-epoll "
                f"(1 process(es) x {nofile})") in skipped
    assert any(line.startswith("cannot run forking at c=100000") and "pid_max" in line for line in skipped)
    # reuseport's 8 workers (its own --describe with --workers 8) hold 100,000 between them; the
    # loadgen splits itself, so no point is skipped for the loadgen's open-file limit.
    assert not any("reuseport" in line for line in skipped), skipped
    assert not any("loadgen" in line for line in skipped), skipped


def test_a_window_that_misreads_a_long_delay_is_noted():
    import harness
    import sys
    sys.path.insert(0, os.path.join(harness.ROOT, "scripts"))
    from c10k import scenario as scen
    series = {"server_options": {"delay_ms": 10000}, "loadgen": {"duration_s": 10, "warmup_s": 10.5, "ramp_s": 2}}
    notes = scen.window_notes(series)
    assert len(notes) == 2 and "shorter than two delays (2 x 10 s)" in notes[0] and "ramp 2 s + D 10 s" in notes[1]
    assert scen.window_notes({"server_options": {"delay_ms": 10000},
                              "loadgen": {"duration_s": 20, "warmup_s": 12.5, "ramp_s": 2}}) == []
    assert scen.window_notes({"server_options": {"delay_ms": 1000},  # c10k: 5 s window, D = 1 s
                              "loadgen": {"duration_s": 5, "warmup_s": 3.5}}) == []
    # The shipped c100k scenario is laid out so that no such note is printed.
    run = os.path.join(harness.ROOT, "scripts", "run_scenario.py")
    r = subprocess.run([sys.executable, run, "c100k", "--check", "--bin-dir", harness.BIN_DIR],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "measured window" not in r.stderr and "warm-up" not in r.stderr, r.stderr
