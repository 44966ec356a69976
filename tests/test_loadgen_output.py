"""What loadgen tells its user: the generator-bound warning only when it can judge and with advice
that fits the machine, -q that is quiet, and connects against a listen queue too small for the
burst (a SYN dropped and sent again 1 s later) that neither stall an -n run nor go unexplained."""
import json
import os
import subprocess

from hostile_servers import HostileServer
from test_loadgen_util import loadgen_path, run_json, run_loadgen, validate


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return str(path)


# ---- the generator-bound warning ------------------------------------------------------------

def test_a_run_shorter_than_a_second_never_warns(server_factory, tmp_path):
    """`-n 1000 -c 10 -k` takes milliseconds; its one partial second can be 95 % busy (all connects
    and first requests), which says nothing about what set the pace."""
    srv = server_factory("epoll")
    doc, _ = run_json("-n", 1000, "-c", 10, "-k", srv.url, timeout=30)
    assert doc["summary"]["duration_s"] < 1 and doc["generator"]["warnings"] == []
    doc["generator"]["threads"][0]["busy_permille"] = [950] * len(doc["timeseries"])
    m, _ = run_json("--merge", _write(tmp_path, "short.json", doc), timeout=30)
    assert m["generator"]["warnings"] == []
    text = run_loadgen("--merge", _write(tmp_path, "short2.json", doc), timeout=30, check_rc=0).stdout
    assert "WARNING" not in text


def _saturated_two_thread_run(server_factory):
    """A recorded 2-thread run with its busy shares set as a saturated generator leaves them (the
    run itself waits on a delayed server, so it never saturates by itself)."""
    srv = server_factory("epoll", "--delay-ms", 20)
    doc, _ = run_json("-t", 2.5, "-c", 4, "-k", "--threads", 2, srv.url, timeout=30)
    assert doc["generator"]["warnings"] == [] and len(doc["generator"]["threads"]) == 2
    for t in doc["generator"]["threads"]:
        t["busy_permille"] = [950, 970, 100][:len(t["busy_permille"])]
    return doc


def test_no_advice_to_add_threads_beyond_the_cores(server_factory, tmp_path):
    doc = _saturated_two_thread_run(server_factory)
    doc["environment"]["cpus_allowed"] = 2
    m, _ = run_json("--merge", _write(tmp_path, "two.json", doc), timeout=30)
    w = m["generator"]["warnings"]
    assert len(w) == 2 and all("raise --threads" not in x for x in w), w
    assert w[0] == ("loadgen thread 0 was 96 % busy in seconds 0-1: loadgen already runs 2 threads on "
                    "2 cores, so more would only take turns; if the server runs here too, the two "
                    "share the cores: pin them to separate cores (taskset) or run loadgen on another "
                    "host")
    doc["environment"]["cpus_allowed"] = 8
    m, _ = run_json("--merge", _write(tmp_path, "eight.json", doc), timeout=30)
    assert m["generator"]["warnings"][0] == (
        "loadgen thread 0 was 96 % busy in seconds 0-1: raise --threads or --processes "
        "(2 loadgen threads on 8 cores)")


def test_a_run_records_the_cpus_it_may_use(server_factory):
    srv = server_factory("epoll")
    doc, _ = run_json("-n", 10, "-c", 2, srv.url, timeout=30)
    assert doc["environment"]["cpus_allowed"] == len(os.sched_getaffinity(0))


# ---- -q -------------------------------------------------------------------------------------

def test_quiet_hides_notes_and_worker_processes_print_one(server_factory):
    """4,200 connections to loopback in 2 worker processes: each worker picks source addresses of
    its own (more than 2,048 connections each). Without -q that is one note, not one per worker;
    with -q none. The report still names the addresses."""
    srv = server_factory("epoll")
    args = ["-n", "4200", "-c", "4200", "-s", "20", "--processes", "2", srv.url]
    loud = subprocess_run([loadgen_path(), "--no-progress", *args])
    assert loud.returncode == 0, loud.stderr
    assert loud.stderr.count("loadgen: note:") == 1 and "source addresses" in loud.stderr, loud.stderr
    quiet = subprocess_run([loadgen_path(), "-q", *args])
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "", quiet.stderr
    assert "Complete requests:      4200" in quiet.stdout


def test_help_says_what_quiet_hides():
    out = run_loadgen("-h", check_rc=0).stdout
    assert "-q               Quiet: no progress and no notes" in out


def subprocess_run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


# ---- a listen queue too small for the burst -------------------------------------------------

def tiny_backlog_server(delay=0.0):
    """listen(1): the kernel queues two finished handshakes and drops the SYNs beyond them, so
    they come again 1 s later. The server accepts nothing for its first 0.3 s, then answers
    every request after `delay` seconds, each connection in a thread of its own."""
    return HostileServer("ok", delay=delay, backlog=1, accept_after=0.3)


def test_connects_stuck_behind_a_full_listen_queue_do_not_hold_an_n_run():
    """-c 8 at once: 2 handshakes queue, 6 SYNs are dropped. The 2 connections that got through
    take all 20 requests (fast answers: well before the SYNs come again at 1 s), and the run ends
    then: the 6 stuck connects are abandoned, neither requests nor failures. Before, each held one
    of the 20 requests and the run waited for the resent SYNs (connects of 1 s or more)."""
    with tiny_backlog_server() as srv:
        doc, _ = run_json("-n", 20, "-c", 8, srv.url, timeout=60)
    s = doc["summary"]
    assert s["complete"] == 20 and s["failed"] == 0 and s["attempts"] == 20
    assert s["connections_opened"] == 20 == srv.accepted  # no connect the run did not use
    # A box loaded enough to take 0.7 s for 20 answers lets a resent SYN in: then that connect
    # serves a request and counts as slow instead of abandoned. Every dropped SYN is one or other.
    assert s["connects_abandoned"] + doc["slow_connects"]["count"] == 6
    assert s["connects_abandoned"] >= 1


def test_connects_of_a_second_are_named_as_a_full_listen_queue(tmp_path):
    """-c 4: 2 SYNs dropped. Each answer takes 0.1 s, so the 2 connections that got through are
    still busy with the 30 requests when the resent SYNs come in at 1 s (kept alive, they leave
    the queue empty for them): those 2 connects, of 1 s or more, serve requests and the report
    names them, with what to try."""
    out = tmp_path / "r.json"
    with tiny_backlog_server(delay=0.1) as srv:
        proc = run_loadgen("--no-progress", "--json", str(out), "-n", 30, "-c", 4, "-k", srv.url,
                           timeout=60, check_rc=0)
    doc = json.loads(out.read_text())
    validate(doc)
    assert doc["summary"]["complete"] == 30 and doc["summary"]["failed"] == 0
    assert doc["summary"]["connects_abandoned"] == 0
    slow = doc["slow_connects"]
    assert slow["threshold_ms"] == 1000 and slow["count"] == 2
    assert slow["note"].startswith("2 connects took 1 s or more (the longest ")
    assert "listen queue was likely full" in slow["note"] and "--ramp" in slow["note"]
    assert f"NOTE: {slow['note']}." in proc.stdout


def test_a_run_without_slow_connects_has_no_note(server_factory):
    srv = server_factory("epoll")
    doc, _ = run_json("-n", 200, "-c", 10, srv.url, timeout=30)
    assert doc["slow_connects"] == {"threshold_ms": 1000, "count": 0, "note": None}
    assert doc["summary"]["connects_abandoned"] == 0
    assert doc["summary"]["connections_opened"] == 200


def test_open_loop_keeps_each_request_on_its_own_connect():
    """--rate: a request belongs to its slot, so a stuck connect is waited for and its request
    counted, not abandoned (its latency is what the server's queue cost)."""
    with tiny_backlog_server() as srv:
        doc, _ = run_json("-n", 8, "-c", 4, "--rate", 1000, srv.url, timeout=60)
    assert doc["summary"]["complete"] == 8 and doc["summary"]["connects_abandoned"] == 0
    assert doc["slow_connects"]["count"] >= 1

