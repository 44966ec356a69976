"""Every hostile server behaviour is classified into the right error class, and none of them
hangs the run: each run is bounded by a subprocess timeout well above what it should take."""
import time

import pytest

from hostile_servers import BODY, HostileServer, closed_port
from test_loadgen_util import run_json, run_loadgen

ERRORS = ["connect", "read", "write", "timeout", "length", "parse", "exceptions"]


def only_errors(doc, **expected):
    """The error counts, with every class not named expected to be zero."""
    want = {k: 0 for k in ERRORS}
    want.update(expected)
    assert doc["errors"] == want, doc["errors"]
    assert doc["summary"]["failed"] == sum(want.values())


def test_refused_connections_give_a_message_a_report_and_no_hang():
    url = f"http://127.0.0.1:{closed_port()}/"
    t0 = time.monotonic()
    doc, proc = run_json("-n", 100000, "-c", 5, url, timeout=30, check_rc=1)
    assert time.monotonic() - t0 < 10
    assert "refused every connection" in proc.stderr
    assert "Connection refused" in proc.stderr
    assert doc["summary"]["complete"] == 0
    assert doc["summary"]["stop_reason"] == "refused"
    # Like ab, it gives up after about 10 refusals instead of trying 100,000 times.
    assert 10 <= doc["errors"]["connect"] <= 20
    only_errors(doc, connect=doc["errors"]["connect"])


def test_few_refused_requests_are_each_counted():
    doc, proc = run_json("-n", 3, f"http://127.0.0.1:{closed_port()}/", timeout=30, check_rc=1)
    only_errors(doc, connect=3)
    assert doc["summary"]["attempts"] == 3


@pytest.mark.parametrize("keepalive", [False, True])
def test_reset_mid_response_is_a_read_error(keepalive):
    with HostileServer("reset") as srv:
        doc, _ = run_json("-n", 20, "-c", 2, *(["-k"] if keepalive else []), srv.url, timeout=30)
    only_errors(doc, read=20)
    assert doc["summary"]["complete"] == 0


def test_close_before_the_body_ends_is_a_read_error():
    with HostileServer("close_early") as srv:
        doc, _ = run_json("-n", 20, "-c", 2, srv.url, timeout=30)
    only_errors(doc, read=20)
    assert doc["summary"]["complete"] == 0


def test_garbage_is_a_parse_error():
    with HostileServer("garbage") as srv:
        doc, _ = run_json("-n", 20, "-c", 2, srv.url, timeout=30)
    only_errors(doc, parse=20)


def test_never_answering_is_a_timeout_within_s():
    with HostileServer("silent") as srv:
        t0 = time.monotonic()
        doc, _ = run_json("-n", 4, "-c", 2, "-s", "0.3", srv.url, timeout=30)
        elapsed = time.monotonic() - t0
    only_errors(doc, timeout=4)
    assert 0.55 <= elapsed < 5  # two rounds of 0.3 s timeouts, not the default 30 s


def test_time_limit_stops_a_run_against_a_silent_server():
    with HostileServer("silent") as srv:
        t0 = time.monotonic()
        doc, _ = run_json("-t", "0.5", "-c", 3, srv.url, timeout=30)
        elapsed = time.monotonic() - t0
    assert elapsed < 3
    assert doc["summary"]["stop_reason"] == "time"
    assert doc["summary"]["complete"] == 0
    assert abs(doc["summary"]["duration_s"] - 0.5) < 0.05


def test_trickling_server_completes_slowly():
    with HostileServer("trickle", trickle_delay=0.02) as srv:
        doc, _ = run_json("-n", 4, "-c", 2, "-k", srv.url, timeout=30)
    only_errors(doc)
    assert doc["summary"]["complete"] == 4
    # The 51-byte response goes out in 7 pieces of 8 bytes, 20 ms apart: 120 ms at least.
    assert doc["latency"]["total"]["min_ms"] >= 115
    assert doc["latency"]["waiting"]["min_ms"] < doc["latency"]["total"]["min_ms"]


def test_trickling_server_times_out_with_short_s():
    with HostileServer("trickle", trickle_delay=0.05) as srv:
        doc, _ = run_json("-n", 2, "-c", 2, "-s", "0.2", srv.url, timeout=30)
    only_errors(doc, timeout=2)


def test_500_is_counted_as_non_2xx_not_as_failure():
    with HostileServer("status500") as srv:
        doc, _ = run_json("-n", 50, "-c", 2, "-k", srv.url, timeout=30)
    only_errors(doc)
    s = doc["summary"]
    assert s["complete"] == 50 and s["non_2xx"] == 50
    assert doc["status_codes"] == {"500": 50}


def test_chunked_responses_with_keepalive_reuse():
    with HostileServer("chunked") as srv:
        doc, _ = run_json("-n", 100, "-c", 4, "-k", srv.url, timeout=30)
        accepted = srv.accepted
    only_errors(doc)
    s = doc["summary"]
    assert s["complete"] == 100
    assert s["body_bytes"] == 100 * len(b"hello world\n")  # chunk framing not counted
    assert s["document_length"] == 12
    assert accepted == 4 and s["connections_opened"] == 4 and s["keepalive_requests"] == 96


def test_http10_body_delimited_by_close():
    with HostileServer("http10") as srv:
        doc, _ = run_json("-n", 20, "-c", 2, "-k", srv.url, timeout=30)
        accepted = srv.accepted
    only_errors(doc)
    assert doc["summary"]["complete"] == 20
    assert doc["summary"]["body_bytes"] == 20 * len(BODY)
    assert accepted == 20  # HTTP/1.0 without keep-alive: one connection per request


def test_variable_length_counts_length_failures_unless_l():
    with HostileServer("varlen") as srv:
        doc, _ = run_json("-n", 20, "-c", 1, "-k", srv.url, timeout=30)
    only_errors(doc, length=10)
    s = doc["summary"]
    assert s["complete"] == 20 and s["failed"] == 10 and s["attempts"] == 20
    with HostileServer("varlen") as srv:
        doc, _ = run_json("-l", "-n", 20, "-c", 1, "-k", srv.url, timeout=30)
    only_errors(doc)


def test_keepalive_connection_closed_while_idle_is_reopened_without_error():
    with HostileServer("one_per_conn") as srv:
        doc, _ = run_json("-n", 40, "-c", 2, "-k", srv.url, timeout=30)
        accepted = srv.accepted
    only_errors(doc)
    assert doc["summary"]["complete"] == 40
    assert accepted >= 40


def test_heads_that_differ_only_in_status_are_counted_apart():
    """Identical heads are parsed once per thread; one differing byte must not be missed."""
    with HostileServer("alternate") as srv:
        doc, _ = run_json("-n", 40, "-c", 1, "-k", srv.url, timeout=30)
    only_errors(doc)
    assert doc["status_codes"] == {"200": 20, "201": 20}
    assert doc["summary"]["non_2xx"] == 0 and doc["summary"]["complete"] == 40


@pytest.mark.parametrize("keepalive", [False, True])
def test_interim_1xx_responses_are_skipped(keepalive):
    with HostileServer("interim") as srv:
        doc, _ = run_json("-n", 20, "-c", 2, *(["-k"] if keepalive else []), srv.url, timeout=30)
    only_errors(doc)
    s = doc["summary"]
    assert doc["status_codes"] == {"200": 20}
    assert s["complete"] == 20 and s["non_2xx"] == 0
    assert s["body_bytes"] == 20 * len(BODY)


@pytest.mark.parametrize("keepalive", [[], ["-k"]])
def test_100_continue_before_the_final_answer_of_a_real_server(server_factory, tmp_path, keepalive):
    srv = server_factory("epoll")
    body = tmp_path / "body"
    body.write_bytes(b"x" * 100_000)
    doc, _ = run_json("-n", 20, "-c", 1, *keepalive, "-p", body, "-H", "Expect: 100-continue",
                      srv.url, timeout=60)
    only_errors(doc)
    assert doc["status_codes"] == {"200": 20} and doc["summary"]["complete"] == 20


def test_101_without_an_upgrade_request_is_a_parse_error():
    with HostileServer("switching") as srv:
        doc, proc = run_json("-v", 2, "-n", 5, "-c", 1, srv.url, timeout=30)
    only_errors(doc, parse=5)
    assert "101 Switching Protocols without an Upgrade in the request" in proc.stderr


def test_101_is_the_final_answer_to_a_request_that_asked_for_an_upgrade():
    with HostileServer("switching") as srv:
        doc, _ = run_json("-n", 5, "-c", 1, "-k", "-H", "Upgrade: websocket", srv.url, timeout=30)
        accepted = srv.accepted
    only_errors(doc)
    assert doc["status_codes"] == {"101": 5}
    assert accepted == 5  # the connection speaks another protocol afterwards: never reused


@pytest.mark.parametrize("keepalive", [[], ["-k"]])
def test_an_answer_before_the_body_is_read_not_a_write_failure(tmp_path, keepalive):
    body = tmp_path / "big"
    body.write_bytes(b"x" * (4 << 20))  # far more than the socket buffers take
    with HostileServer("early_413") as srv:
        doc, _ = run_json("-n", 20, "-c", 1, *keepalive, "-p", body, srv.url, timeout=60)
        answered = srv.requests
    only_errors(doc)
    assert answered == 20
    assert doc["status_codes"] == {"413": 20}
    assert doc["summary"]["complete"] == 20 and doc["summary"]["non_2xx"] == 20


def test_a_real_servers_413_before_the_body_is_counted(server_factory, tmp_path):
    srv = server_factory("epoll")
    body = tmp_path / "big"
    body.write_bytes(b"x" * (3 << 20))  # past the servers' 1 MiB limit
    doc, _ = run_json("-n", 20, "-c", 1, "-p", body, srv.url, timeout=60)
    only_errors(doc)
    assert doc["status_codes"] == {"413": 20}
    assert srv.stats()["errors"]["body_too_large"] == 20


def test_total_transferred_counts_the_bytes_of_failed_requests():
    sent = len(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
    with HostileServer("close_early") as srv:
        doc, _ = run_json("-n", 20, "-c", 2, srv.url, timeout=30)
        proc = run_loadgen("-q", "-n", 20, "-c", 2, srv.url, timeout=30, check_rc=0)
    only_errors(doc, read=20)
    assert doc["summary"]["bytes_total"] == 20 * sent
    assert f"Total transferred:      {20 * sent} bytes" in proc.stdout


CHUNKED_OK = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n7\r\n world\n\r\n0\r\n\r\n")
# Responses RFC 9112 says a recipient must reject (or may, and a reference client should).
MALFORMED = {
    "space before the colon": b"HTTP/1.1 200 OK\r\nTransfer-Encoding : chunked\r\n\r\n"
                              b"5\r\nhello\r\n0\r\n\r\n",
    "no CRLF after chunk data": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"5\r\nhelloXX0\r\n\r\n",
    "bare LF line ends": b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
    "a bare LF in the head": b"HTTP/1.1 200 OK\r\nContent-Length: 5\nX: y\r\n\r\nhello",
    "Content-Length and chunked": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                  b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "two Content-Lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_framing_is_a_parse_error(name):
    with HostileServer("raw", raw=MALFORMED[name]) as srv:
        doc, _ = run_json("-n", 3, srv.url, timeout=30)
    only_errors(doc, parse=3)


@pytest.mark.parametrize("raw, errors", [(CHUNKED_OK, {}),
                                         (MALFORMED["no CRLF after chunk data"], {"parse": 2})])
def test_chunk_framing_is_checked_one_byte_at_a_time(raw, errors):
    with HostileServer("raw_bytewise", raw=raw, trickle_delay=0.001) as srv:
        doc, _ = run_json("-n", 2, srv.url, timeout=30)
    only_errors(doc, **errors)
    if not errors:
        assert doc["summary"]["body_bytes"] == 2 * len(b"hello world\n")


def test_a_target_that_dies_mid_run_is_retried_with_backoff():
    """After the server goes away, each connection retries with exponential backoff (2.5-5 ms
    doubling up to 0.5-1 s): about ten connects each in 1.5 s, not thousands."""
    import subprocess
    import json as _json
    from test_loadgen_util import loadgen_path, validate
    srv = HostileServer("ok")
    srv.__enter__()
    try:
        proc = subprocess.Popen([loadgen_path(), "-q", "--json", "-", "-c", "4", "-t", "2", srv.url],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(0.5)
    finally:
        srv.stop()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    doc = _json.loads(out)
    validate(doc)
    connects = doc["errors"]["connect"]
    assert doc["summary"]["complete"] > 0
    assert 4 <= connects <= 4 * 16, connects
    assert doc["connect_failures"]["refused"] == connects
    assert sum(doc["connect_failures"].values()) == connects


def test_bytes_after_a_keepalive_response_are_counted_and_warned_about():
    """A server that appends bytes to each answer makes -k reconnect every time: that must be
    said (a count in the JSON and the text report, a warning), never silent."""
    with HostileServer("trailing") as srv:
        doc, proc = run_json("-n", 20, "-c", 1, "-k", srv.url, timeout=30)
        text = run_loadgen("-q", "-n", 20, "-c", 1, "-k", srv.url, timeout=30, check_rc=0)
    only_errors(doc)
    s = doc["summary"]
    assert s["complete"] == 20 and s["keepalive_requests"] == 0 and s["connections_opened"] == 20
    assert s["junk_after_response"] == 20
    assert "20 responses were followed by bytes that belong to no response" in proc.stderr
    assert "Junk after response:    20" in text.stdout
    assert "warning" in text.stderr
