"""loadgen --idle N: connections held open beside the load, checked through counters (the server's
/__stats and loadgen's report), never a stopwatch: the server holds N + C connections during the
load; the idle ones are in none of the load's counts; a server that closes them shows in the report
with the cause; an N this machine cannot hold is refused, naming the limit."""
import json

import pytest

from hostile_servers import HostileServer, closed_port
from test_loadgen_util import parse_text_report, run_json, run_json_while, run_loadgen, validate

IDLE = 300


def _run_watching(srv, args, idle, conc):
    """Runs loadgen (JSON on stdout) while polling the server's open connections; returns the
    document and the most connections /__stats ever showed open (its own included)."""
    def watch(proc):
        # The load runs for at least its requests' delays after every idle connection is held:
        # polling until the count is reached, or loadgen ended, cannot miss the window.
        most = 0
        while proc.poll() is None and most < idle + conc + 1:
            most = max(most, srv.stats()["active"])
        return most
    return run_json_while(args, watch)


@pytest.mark.parametrize("mode", ["request", "connect"])
def test_idle_connections_are_held_beside_the_load_and_counted_apart(server_factory, mode):
    srv = server_factory("epoll")
    before = srv.stats()
    # 2 connections x 15 requests x 20 ms: the load lasts at least 300 ms once the idle ones are held.
    doc, most = _run_watching(srv, ["-k", "-c", 2, "-n", 30, "--idle", IDLE, "--idle-mode", mode,
                                    srv.url + "?delay_ms=20"], IDLE, 2)
    assert most == IDLE + 2 + 1  # idle + load + the /__stats connection asking
    s = doc["summary"]
    assert s["complete"] == s["attempts"] == 30 and s["failed"] == 0
    assert doc["latency"]["total"]["count"] == 30
    assert s["connections_opened"] == 2 and doc["establishment"]["connections"] == 2
    assert all(e["open_connections"] <= 2 for e in doc["timeseries"])
    assert doc["config"]["idle"] == IDLE and doc["config"]["idle_mode"] == mode
    assert doc["idle"] == {"requested": IDLE, "opened": IDLE, "held_at_end": IDLE, "failed_to_open": 0,
                           "closed_by_server": {"eof": 0, "reset": 0, "timeout_answer": 0}}
    after = srv.stats()
    # Request mode: one request per idle connection, on top of the load's; connect mode: none.
    assert after["requests"] - before["requests"] == 30 + (IDLE if mode == "request" else 0)


@pytest.mark.parametrize("mode, server_flag, cause", [
    ("request", "--idle-timeout-ms", "eof"),            # keep-alive wait expires: the server closes
    ("connect", "--header-timeout-ms", "timeout_answer"),  # no request head in time: 408, then close
])
def test_a_server_closing_idle_connections_shows_with_the_cause(server_factory, tmp_path, mode,
                                                                server_flag, cause):
    srv = server_factory("epoll", server_flag, 100)
    path = tmp_path / "out.json"
    # The load (20 requests of 40 ms in turn: 800 ms) outlasts the server's 100 ms timeout, which
    # starts for every idle connection before the load does.
    proc = run_loadgen("-q", "-k", "-c", 1, "-n", 20, "--idle", 100, "--idle-mode", mode, "--json", path,
                       srv.url + "?delay_ms=40", timeout=30, check_rc=0)
    doc = json.loads(path.read_text())
    validate(doc)
    closed = {"eof": 0, "reset": 0, "timeout_answer": 0, cause: 100}
    assert doc["idle"] == {"requested": 100, "opened": 100, "held_at_end": 0, "failed_to_open": 0,
                           "closed_by_server": closed}
    assert doc["summary"]["complete"] == 20 and doc["summary"]["failed"] == 0
    report = parse_text_report(proc.stdout)["fields"]
    assert report["Idle connections"] == (f"100 requested ({mode}), 100 opened, 0 held at the end, "
                                          "0 failed to open")
    assert report["Idle closed by server"] == (
        f"100 (EOF: {closed['eof']}, reset: 0, timeout answer: {closed['timeout_answer']})")
    timeouts = srv.stats()["timeouts"]
    assert timeouts["idle" if cause == "eof" else "header"] == 100


@pytest.mark.parametrize("behaviour, cause", [
    ("one_then_reset", "reset"),       # answers, then resets the connection while it is idle
    ("trailing", "timeout_answer"),    # bytes after the one answer: nobody asked for them
])
def test_idle_connections_ended_by_a_hostile_server_show_the_cause(behaviour, cause):
    with HostileServer(behaviour) as hs:
        # The load (20 requests, each waiting for the server's 10 ms pause before a close or reset
        # on its kept-alive connection) outlasts that pause after the idle ones' answers.
        doc, _ = run_json("-k", "-c", 1, "-n", 20, "--idle", 20, hs.url, timeout=30)
    closed = {"eof": 0, "reset": 0, "timeout_answer": 0, cause: 20}
    assert doc["idle"] == {"requested": 20, "opened": 20, "held_at_end": 0, "failed_to_open": 0,
                           "closed_by_server": closed}
    assert doc["summary"]["complete"] == 20


def test_idle_connections_split_over_processes_and_merge(server_factory):
    srv = server_factory("epoll")
    before = srv.stats()["requests"]
    doc, _ = run_json("-k", "-c", 2, "-n", 20, "--processes", 2, "--idle", 201, srv.url, timeout=30)
    assert doc["config"]["processes"] == 2 and doc["config"]["idle"] == 201
    assert doc["idle"]["requested"] == doc["idle"]["opened"] == doc["idle"]["held_at_end"] == 201
    assert doc["summary"]["idle_opened"] == 201
    assert srv.stats()["requests"] - before == 20 + 201


def test_idle_connections_that_cannot_open_are_counted_apart():
    port = closed_port()
    doc, _ = run_json("-c", 1, "-n", 1, "--idle", 5, f"http://127.0.0.1:{port}/", check_rc=1)
    assert doc["idle"]["requested"] == doc["idle"]["failed_to_open"] == 5
    assert doc["idle"]["opened"] == doc["idle"]["held_at_end"] == 0
    assert doc["summary"]["idle_failed_to_open"] == 5
    assert doc["errors"]["connect"] >= 1  # the load's own refusals, not the idle ones


@pytest.mark.parametrize("args, limit", [
    (["--processes", 1, "-c", 2, "-n", 2, "--idle", 25000], "the open-file limit (RLIMIT_NOFILE) is"),
    (["-c", 1, "-n", 1, "--idle", 30000], "so -c must be at least 2"),
    (["-c", 2, "-n", 2, "--idle", 29000, "--source", "127.0.0.1"], "local ports"),
    (["--idle", -1], "--idle needs a number of connections"),
    (["--idle-mode", "cold"], "--idle-mode needs 'request' or 'connect'"),
])
def test_an_impossible_idle_count_is_refused_naming_the_limit(args, limit):
    # A closed port: a run that started anyway would show connect failures, not this refusal.
    proc = run_loadgen(*args, f"http://127.0.0.1:{closed_port()}/", timeout=30)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert limit in proc.stderr
    assert proc.stdout == "" and "Benchmarking" not in proc.stderr


def test_help_lists_the_idle_options():
    out = run_loadgen("-h", timeout=10, check_rc=0).stdout
    assert "--idle N" in out and "--idle-mode M" in out


def test_each_host_of_a_multi_host_run_holds_its_share_of_idle_connections():
    from c10k import multihost
    args = ["loadgen", "-k", "-c", "3", "-n", "30", "--idle", "1001", "http://10.0.0.1:8080/"]
    shares = []
    for k in range(3):
        a = multihost.shard_args(args, {"loadgen": "loadgen", "source": None}, k, 3)
        shares.append(int(a[a.index("--idle") + 1]))
        assert a.count("--idle") == 1
    assert shares == [334, 334, 333]
