"""loadgen's command line: ab's flags, clear usage errors with exit status 2, help, version."""
import re

import pytest

from hostile_servers import HostileServer, closed_port
from test_loadgen_util import parse_text_report, run_loadgen, number


@pytest.mark.parametrize("args, message", [
    ([], "missing the URL"),
    (["-n", "0", "http://127.0.0.1:1/"], "-n needs a positive number"),
    (["-n", "ten", "http://127.0.0.1:1/"], "-n needs a positive number"),
    (["-c", "-3", "http://127.0.0.1:1/"], "-c needs a concurrency"),
    (["-n", "5", "-c", "10", "http://127.0.0.1:1/"], "concurrency level greater than total"),
    (["-t", "0", "http://127.0.0.1:1/"], "-t needs a positive number"),
    (["-s", "x", "http://127.0.0.1:1/"], "-s needs a positive number"),
    (["--rate", "0", "http://127.0.0.1:1/"], "--rate needs requests per second"),
    # 1e-14/s once overflowed the schedule's microseconds and ran unthrottled.
    (["--rate", "1e-14", "-t", "2", "http://127.0.0.1:1/"], "--rate needs requests per second"),
    (["--rate", "1e300", "http://127.0.0.1:1/"], "--rate needs requests per second"),
    (["--rate", "nan", "http://127.0.0.1:1/"], "--rate needs requests per second"),
    (["-t", "1e300", "http://127.0.0.1:1/"], "-t needs a positive number"),
    (["-s", "inf", "http://127.0.0.1:1/"], "-s needs a positive number"),
    (["--warmup", "1e30", "http://127.0.0.1:1/"], "--warmup needs a number"),
    (["--ramp", "-1", "http://127.0.0.1:1/"], "--ramp needs a number"),
    (["--duration", "1e12h", "http://127.0.0.1:1/"], "--duration needs a positive duration"),
    (["http://user:pw@127.0.0.1/"], "user:password@ is not supported"),
    (["http://user@127.0.0.1:8080/x"], "user:password@ is not supported"),
    (["--source", "10.0.0.1", "http://127.0.0.1:1/"], "cannot bind to 10.0.0.1"),
    (["--duration", "5parsecs", "http://127.0.0.1:1/"], "--duration needs a positive duration"),
    (["--threads", "0", "http://127.0.0.1:1/"], "--threads needs a number"),
    (["--busy-poll", "-1", "http://127.0.0.1:1/"], "--busy-poll needs microseconds"),
    (["--busy-poll", "2000000", "http://127.0.0.1:1/"], "--busy-poll needs microseconds"),
    (["--busy-poll", "fast", "http://127.0.0.1:1/"], "--busy-poll needs microseconds"),
    (["--source", "127.0.0.9-127.0.0.1", "http://127.0.0.1:1/"], "--source needs an address"),
    (["--source", "bogus", "http://127.0.0.1:1/"], "--source needs an address"),
    (["-H", "NoColon", "http://127.0.0.1:1/"], "-H needs 'Name: value'"),
    (["-p", "/nonexistent/body", "http://127.0.0.1:1/"], "cannot read body file"),
    (["-Z", "AES128-SHA", "http://127.0.0.1:1/"], "need an https:// URL"),
    (["--tls-resume", "http://127.0.0.1:1/"], "need an https:// URL"),
    (["-f", "SSL2", "https://127.0.0.1:1/"], "OpenSSL 3 has no SSL 2"),
    (["-f", "TLS9", "https://127.0.0.1:1/"], "-f needs SSL3, TLS1"),
    (["-Z", "NO-SUCH-CIPHER", "https://127.0.0.1:1/"], "no cipher OpenSSL knows"),
    (["--tls-verify", "--cacert", "/nonexistent.pem", "https://127.0.0.1:1/"], "cannot load trusted"),
    (["ftp://127.0.0.1/"], "invalid URL"),
    (["http://127.0.0.1:99999/"], "bad port"),
    (["http://[::1/"], "unterminated IPv6"),
    (["--bogus", "http://127.0.0.1:1/"], "unknown option --bogus"),
    (["-Z"], "option -Z needs an argument"),
    (["-n"], "option -n needs an argument"),
    (["http://127.0.0.1:1/", "extra"], "unexpected argument 'extra'"),
    (["--merge"], "--merge needs at least one JSON result file"),
    (["--processes", "1", "-c", "25000", "-n", "25000", "http://127.0.0.1:1/"], "open-file limit"),
    (["http://no-such-host.invalid/"], "cannot resolve host"),
])
def test_bad_arguments_exit_2_with_a_clear_message(args, message):
    proc = run_loadgen(*args, timeout=30)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert message in proc.stderr
    assert proc.stdout == ""


def test_help_and_version_exit_0():
    h = run_loadgen("-h", timeout=10, check_rc=0)
    for flag in ["-n requests", "-c concurrency", "-t timelimit", "-s timeout", "-k", "-H header",
                 "-m method", "-p file", "-T type", "-q", "-v level", "-l", "-r", "--threads",
                 "--rate", "--duration", "--warmup", "--ramp", "--busy-poll", "--json", "--source", "--progress",
                 "--no-progress", "--merge", "--version"]:
        assert flag in h.stdout, flag
    v = run_loadgen("--version", timeout=10, check_rc=0)
    assert re.match(r"^loadgen \(c10k-bench\) \d+\.\d+\.\d+ \(", v.stdout)
    assert run_loadgen("-V", timeout=10, check_rc=0).stdout == v.stdout


def test_text_report_parses_and_is_consistent():
    with HostileServer("ok") as srv:
        proc = run_loadgen("-n", 200, "-c", 4, "-k", "-H", "X-Test: 1", srv.url, timeout=60,
                           check_rc=0)
    rep = parse_text_report(proc.stdout)
    f = rep["fields"]
    assert f["Server Software"] == "hostile/1"
    assert f["Server Hostname"] == "127.0.0.1"
    assert int(f["Server Port"]) == srv.port
    assert f["Document Path"] == "/"
    assert f["Document Length"] == "12 bytes"
    assert int(f["Concurrency Level"]) == 4
    assert int(f["Complete requests"]) == 200
    assert int(f["Failed requests"]) == 0
    assert int(f["Keep-Alive requests"]) == 200 - 4
    assert int(f["HTML transferred"].split()[0]) == 200 * 12
    secs = number(f["Time taken for tests"])
    assert secs > 0
    rps = number(f["Requests per second"])
    # The time is printed to 1 ms: allow for that rounding.
    assert rps * max(secs - 0.0005, 1e-9) <= 200 * 1.0001 and rps * (secs + 0.0005) >= 200 * 0.9999
    assert set(rep["times"]) == {"Connect", "Processing", "Waiting", "Total"}
    for row in rep["times"].values():
        mn, mean, sd, median, mx = row
        assert 0 <= mn <= median <= mx and mn <= mean <= mx and sd >= 0
    assert list(rep["percentiles"]) == ["50", "66", "75", "80", "90", "95", "98", "99", "99.9",
                                        "99.99", "100"]
    vals = list(rep["percentiles"].values())
    assert vals == sorted(vals)
    assert vals[-1] == rep["times"]["Total"][4]
    assert rep["status"] == {"200": 200}


def test_failed_requests_breakdown_in_text_report():
    proc = run_loadgen("-n", 3, f"http://127.0.0.1:{closed_port()}/", timeout=30)
    rep = parse_text_report(proc.stdout)
    assert int(rep["fields"]["Failed requests"]) == 3
    assert rep["failed_breakdown"]["Connect"] == 3
    assert rep["failed_breakdown"]["Receive"] == 0
    assert rep["fields"]["Connect failures"] == "refused: 3"


def test_progress_lines_on_stderr_when_asked():
    with HostileServer("ok") as srv:
        proc = run_loadgen("--progress", "-t", "1.6", "-c", 2, "-k", srv.url, timeout=30,
                           check_rc=0)
        quiet = run_loadgen("-q", "--progress", "-n", 5, srv.url, timeout=30, check_rc=0)
    lines = [l for l in proc.stderr.splitlines() if "completed" in l]
    assert len(lines) >= 1 and "rate" in lines[0] and "errors 0" in lines[0]
    assert "completed" not in quiet.stderr  # -q wins, as in ab


def test_verbose_levels_print_failures_and_status():
    with HostileServer("status500") as srv:
        proc = run_loadgen("-v", 3, "-n", 2, srv.url, timeout=30, check_rc=0)
    assert proc.stderr.count("LOG: Response code = 500") == 2
    proc = run_loadgen("-v", 2, "-n", 1, f"http://127.0.0.1:{closed_port()}/", timeout=30)
    assert "WARNING: request failed (connect): Connection refused" in proc.stderr


def test_low_rate_sends_on_schedule_and_no_more():
    """--rate 0.5 in a 1 s window: the first slot only (the next is 2 s later)."""
    with HostileServer("ok") as srv:
        proc = run_loadgen("-q", "--rate", "0.5", "-t", "1", "-c", 1, "-k", srv.url, timeout=30,
                           check_rc=0)
        requests = srv.requests
    assert requests == 1, proc.stdout


def test_a_long_method_is_sent_whole():
    method = "X" * 3000
    with HostileServer("ok") as srv:
        run_loadgen("-q", "-n", 2, "-m", method, "-H", "X-After: yes", srv.url, timeout=30,
                     check_rc=0)
        last = srv.last_request
    head = last.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert head[0] == method.encode() + b" / HTTP/1.1"
    assert b"X-After: yes" in head and any(h.startswith(b"Host: ") for h in head)


def test_every_cookie_is_sent():
    with HostileServer("ok") as srv:
        run_loadgen("-q", "-n", 1, "-C", "a=1", "-H", "X-Mid: 1", "-C", "b=2", "-C", "c=3", srv.url,
                    timeout=30, check_rc=0)
        last = srv.last_request
    head = last.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert [h for h in head if h.lower().startswith(b"cookie:")] == [b"Cookie: a=1; b=2; c=3"]
    # In the place of the first -C, as given.
    assert head.index(b"Cookie: a=1; b=2; c=3") < head.index(b"X-Mid: 1")
