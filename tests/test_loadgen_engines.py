"""The two engines (--engine readiness, --engine uring) drive one connection state machine, so
the same run gives the same counts with either: completed and failed requests, the server's own
request count, keep-alive reuse, every error class (refused connects, resets, timeouts), stale
keep-alive retries, idle connections, open loop and several processes. Checked through counters,
never through time."""
import pytest

from hostile_servers import HostileServer, closed_port
from test_loadgen_util import parse_text_report, run_json, run_loadgen

ENGINES = ["readiness", "uring"]
# Counters that must not depend on how the connections wait for the kernel.
SAME = ["complete", "attempts", "failed", "body_bytes", "bytes_total", "keepalive_requests",
        "connections_opened", "non_2xx", "junk_after_response", "document_length",
        "idle_requested", "idle_opened", "idle_held_at_end", "idle_failed_to_open",
        "idle_closed_eof", "idle_closed_reset", "idle_closed_timeout_answer"]


def both(*args, check_rc=0, timeout=60):
    """Runs the same loadgen command with each engine; returns {engine: document}."""
    docs = {}
    for engine in ENGINES:
        doc, _ = run_json("--engine", engine, *args, check_rc=check_rc, timeout=timeout)
        assert doc["config"]["engine"] == engine
        docs[engine] = doc
    return docs


def assert_same(docs, skip=()):
    a, b = (docs[e] for e in ENGINES)
    for key in (k for k in SAME if k not in skip):
        assert a["summary"][key] == b["summary"][key], (key, a["summary"], b["summary"])
    assert a["errors"] == b["errors"]
    assert a["status_codes"] == b["status_codes"]


@pytest.mark.parametrize("keepalive, threads", [(True, 1), (False, 1), (True, 2), (False, 2)])
def test_same_counts_and_server_requests_against_server_epoll(server_factory, keepalive, threads):
    srv = server_factory("epoll")
    served = {}
    docs = {}
    for engine in ENGINES:
        before = srv.stats()["requests"]
        docs[engine], _ = run_json("--engine", engine, "-n", 2001, "-c", 20, "--threads", threads,
                                   *(["-k"] if keepalive else []), srv.url)
        served[engine] = srv.stats()["requests"] - before
    assert_same(docs)
    assert served == {"readiness": 2001, "uring": 2001}
    s = docs["uring"]["summary"]
    assert s["complete"] == 2001 and s["failed"] == 0
    assert s["keepalive_requests"] == (2001 - 20 if keepalive else 0)
    assert s["connections_opened"] == (20 if keepalive else 2001)
    # Busy-polling only pays with epoll: a uring poll is a system call that finds nothing.
    assert docs["readiness"]["config"]["busy_poll_us"] == 50
    assert docs["uring"]["config"]["busy_poll_us"] == 0


def test_refused_connects_count_the_same():
    docs = both("-n", 3, f"http://127.0.0.1:{closed_port()}/", check_rc=1)
    assert_same(docs)
    assert docs["uring"]["errors"]["connect"] == 3
    assert docs["uring"]["connect_failures"] == docs["readiness"]["connect_failures"]


@pytest.mark.parametrize("keepalive", [False, True])
def test_server_resets_count_the_same(keepalive):
    with HostileServer("reset") as srv:
        docs = both("-n", 20, "-c", 2, *(["-k"] if keepalive else []), srv.url)
    assert_same(docs)
    assert docs["uring"]["errors"]["read"] == 20


def test_timeouts_count_the_same():
    with HostileServer("silent") as srv:
        docs = both("-n", 4, "-c", 2, "-s", "0.3", srv.url)
    assert_same(docs)
    assert docs["uring"]["errors"]["timeout"] == 4


@pytest.mark.parametrize("behaviour", ["one_per_conn", "one_then_reset", "trailing", "chunked",
                                       "http10", "trickle", "early_413"])
def test_hostile_servers_count_the_same(behaviour):
    """Stale keep-alive connections (retried once, uncounted), bytes after a response, bodies
    delimited by the close, responses in pieces, an answer before the request was read."""
    with HostileServer(behaviour) as srv:
        docs = both("-n", 12, "-c", 3, "-k", srv.url)
    assert_same(docs)


@pytest.mark.parametrize("mode", ["request", "connect"])
def test_idle_connections_count_the_same(server_factory, mode):
    srv = server_factory("epoll")
    docs = both("-k", "-n", 500, "-c", 4, "--idle", 50, "--idle-mode", mode, srv.url)
    assert_same(docs)
    assert docs["uring"]["summary"]["idle_held_at_end"] == 50


@pytest.mark.parametrize("behaviour, cause", [("one_then_reset", "idle_closed_reset"),
                                             ("trailing", "idle_closed_timeout_answer")])
def test_idle_connections_closed_by_the_server_count_the_same(behaviour, cause):
    with HostileServer(behaviour) as srv:
        # The load (20 requests on a connection the server closes after each, 10 ms later)
        # outlasts the server's pause after the idle connections' answers.
        docs = both("-k", "-c", 1, "-n", 20, "--idle", 20, srv.url, timeout=30)
    assert_same(docs)
    assert docs["uring"]["summary"][cause] == 20


@pytest.mark.parametrize("extra", [["--rate", 2000], ["--processes", 2], ["-t", 0.3, "-n", 300]])
def test_open_loop_processes_and_time_limit(server_factory, extra):
    srv = server_factory("epoll")
    docs = both("-k", "-n", 300, "-c", 6, *extra, srv.url)
    # Open loop opens a connection when a slot comes due and none is free: how many depends on
    # timing, with either engine. Each request still either opened one or reused one.
    timing = ("keepalive_requests", "connections_opened") if "--rate" in extra else ()
    assert_same(docs, skip=timing)
    for doc in docs.values():
        s = doc["summary"]
        assert s["complete"] == 300 and s["keepalive_requests"] + s["connections_opened"] == 300


def test_engine_in_the_text_report(server_factory):
    srv = server_factory("epoll")
    for engine in ENGINES:
        proc = run_loadgen("-q", "--engine", engine, "-n", 5, srv.url, check_rc=0)
        assert parse_text_report(proc.stdout)["fields"]["Engine"] == engine


@pytest.mark.parametrize("args, message", [
    (["--engine", "poll"], "--engine needs 'readiness' or 'uring', got 'poll'"),
    (["--engine", ""], "--engine needs 'readiness' or 'uring'"),
    (["--engine", "uring", "https://127.0.0.1:1/"], "--engine uring speaks cleartext HTTP only"),
])
def test_bad_engine_is_a_usage_error(args, message):
    if args[-1].startswith("https"):
        proc = run_loadgen(*args, check_rc=2)
    else:
        proc = run_loadgen(*args, "http://127.0.0.1:1/", check_rc=2)
    assert message in proc.stderr
