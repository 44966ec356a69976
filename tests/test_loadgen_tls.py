"""loadgen over https://: against nginx-light serving TLS with a certificate made here by
`openssl req`, and against servers that fail the handshake in each way the counters name.
Every assertion is on counters (loadgen's JSON, nginx's $ssl_session_reused log), never on time."""
import json
import os
import shutil
import subprocess
import sys

import pytest

import harness
from hostile_servers import HostileServer
from test_loadgen_util import run_json, run_loadgen

sys.path.insert(0, os.path.join(harness.ROOT, "scripts"))
from c10k import benchtools  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not benchtools.nginx_path(), reason="nginx-light is not installed"),
    pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed"),
]


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for localhost and 127.0.0.1, and its key."""
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(crt), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return str(crt), str(key)


@pytest.fixture(scope="module")
def nginx(cert):
    """nginx-light on https, logging $ssl_session_reused ("r" or ".") per request."""
    ngx = benchtools.Nginx("hello\n", cpus=(), tls=cert, session_log=True)
    yield ngx
    ngx.stop()


def session_log(ngx):
    """The requests nginx logged so far: (resumed, full)."""
    path = os.path.join(ngx.prefix, "sessions.log")
    words = open(path).read().split() if os.path.exists(path) else []
    return words.count("r"), words.count(".")


def counted(ngx, *args):
    """Runs loadgen against ngx; returns its JSON and the requests nginx logged meanwhile
    (resumed, full)."""
    before = session_log(ngx)
    doc, _ = run_json(*args, ngx.url + "/")
    after = session_log(ngx)
    return doc, (after[0] - before[0], after[1] - before[1])


def test_keepalive_handshakes_once_per_connection(nginx):
    doc, (resumed, full) = counted(nginx, "-k", "-n", "200", "-c", "4")
    s = doc["summary"]
    assert (s["complete"], s["failed"], s["connections_opened"], s["keepalive_requests"]) == (200, 0, 4, 196)
    assert (s["tls_handshakes"], s["tls_resumed"]) == (4, 0)
    assert s["tls_negotiated"].startswith("TLSv1.3") and s["tls_negotiated"].endswith("ALPN http/1.1")
    assert doc["latency"]["tls_handshake"]["count"] == 4 and doc["latency"]["first_byte"]["count"] == 4
    assert doc["config"]["tls"] == {"verify": False, "cacert": None, "resume": False, "protocol": "ALL",
                                    "ciphers": None}
    assert (resumed, full) == (0, 200)


@pytest.mark.parametrize("protocol", ["TLS1.2", "TLS1.3"])
def test_a_connection_per_request_without_resumption(nginx, protocol):
    doc, (resumed, full) = counted(nginx, "-n", "60", "-c", "3", "-f", protocol)
    s = doc["summary"]
    assert (s["complete"], s["failed"], s["connections_opened"]) == (60, 0, 60)
    assert (s["tls_handshakes"], s["tls_resumed"]) == (60, 0)
    assert s["tls_negotiated"].startswith("TLSv" + protocol[3:])
    assert (resumed, full) == (0, 60)


@pytest.mark.parametrize("protocol, threads", [("TLS1.2", 1), ("TLS1.3", 1), ("TLS1.3", 2)])
def test_resumption_reuses_the_threads_session(nginx, protocol, threads):
    # TLS 1.2 hands the session over inside the handshake; TLS 1.3 only after it, in a ticket the
    # client reads with the first response. So with TLS 1.3 a connection that starts its handshake
    # before an earlier one has read a response has no session yet, and how many do depends on the
    # timing: one connection per thread makes every later handshake find its thread's ticket.
    conns = 4 if protocol == "TLS1.2" else threads
    doc, (resumed, full) = counted(nginx, "-n", "60", "-c", str(conns), "-f", protocol, "--tls-resume",
                                   "--threads", str(threads))
    s = doc["summary"]
    assert (s["complete"], s["failed"], s["tls_handshakes"]) == (60, 0, 60)
    # A thread's connections that start before it holds a session handshake in full (at most one
    # per connection); all later ones resume.
    assert 60 - conns <= s["tls_resumed"] <= 60 - threads
    assert (resumed, full) == (s["tls_resumed"], 60 - s["tls_resumed"])  # nginx agrees


def test_verification_fails_on_a_self_signed_certificate_and_passes_with_cacert(nginx, cert):
    doc, proc = run_json("--tls-verify", "-n", "20", "-c", "2", nginx.url + "/", check_rc=1)
    assert "no TLS handshake with the target succeeded" in proc.stderr
    s = doc["summary"]
    assert s["complete"] == 0 and s["tls_failed_verify"] > 0
    assert s["tls_failed_verify"] == doc["errors"]["connect"]
    assert s["tls_failed_protocol"] == s["tls_failed_reset"] == s["tls_handshakes"] == 0
    url = nginx.url.replace("127.0.0.1", "localhost") + "/"  # the name in the certificate
    doc, _ = run_json("--tls-verify", "--cacert", cert[0], "-n", "20", "-c", "2", url)
    assert (doc["summary"]["complete"], doc["summary"]["tls_failed_verify"]) == (20, 0)
    assert doc["config"]["tls"]["verify"] is True


def test_the_text_report_says_verification_is_off_and_shows_the_handshake(nginx):
    out = run_loadgen("-q", "-n", "10", "-c", "2", "--tls-resume", nginx.url + "/", check_rc=0).stdout
    assert "TLS certificate:        not verified" in out
    assert "TLS handshakes:         10 (resumed: " in out
    assert "\nHandshake: " in out and "\nFirst byte: " in out


def test_a_cleartext_server_on_the_tls_port_is_a_protocol_failure():
    ngx = benchtools.Nginx("hello\n", cpus=())  # plain http on the port we call with https
    try:
        doc, _ = run_json("-n", "20", "-c", "2", ngx.url.replace("http://", "https://") + "/", check_rc=1)
    finally:
        ngx.stop()
    s = doc["summary"]
    assert s["complete"] == 0 and s["tls_failed_protocol"] > 0
    assert s["tls_failed_protocol"] == doc["errors"]["connect"]
    assert s["tls_failed_verify"] == s["tls_failed_reset"] == 0


def test_a_reset_during_the_handshake_is_counted_as_such():
    with HostileServer("tls_reset") as srv:
        doc, _ = run_json("-n", "20", "-c", "2", srv.url.replace("http://", "https://"), check_rc=1)
        assert srv.requests > 0  # it did read ClientHellos
    s = doc["summary"]
    assert s["complete"] == 0 and s["tls_failed_reset"] > 0
    assert s["tls_failed_reset"] == doc["errors"]["connect"] == doc["connect_failures"]["reset"]
    assert s["tls_failed_protocol"] == s["tls_failed_verify"] == 0


def test_a_server_that_never_answers_the_hello_is_a_handshake_timeout():
    with HostileServer("silent") as srv:
        doc, _ = run_json("-n", "2", "-c", "2", "--connect-timeout", "0.3",
                          srv.url.replace("http://", "https://"), check_rc=1)
    s = doc["summary"]
    assert s["tls_failed_timeout"] == doc["errors"]["connect"] > 0
    assert doc["connect_failures"]["timed_out"] == s["tls_failed_timeout"]


def test_processes_and_merge_sum_the_tls_counters(nginx, tmp_path):
    # TLS 1.2: the session comes with the handshake, so resumption does not hang on timing (above).
    doc, (resumed, _) = counted(nginx, "-n", "40", "-c", "4", "--processes", "2", "--tls-resume",
                                "-f", "TLS1.2")
    s = doc["summary"]
    assert (s["complete"], s["tls_handshakes"]) == (40, 40)
    assert s["tls_resumed"] == resumed >= 40 - 4  # at most one full handshake per connection
    parts = []
    for i in range(2):
        d, _ = run_json("-n", "10", "-c", "1", nginx.url + "/")
        p = tmp_path / f"part{i}.json"
        p.write_text(json.dumps(d))
        parts.append(str(p))
    merged, _ = run_json("--merge", *parts)
    assert merged["summary"]["tls_handshakes"] == 20
    assert merged["latency"]["tls_handshake"]["count"] == 20
    assert merged["summary"]["tls_negotiated"] == d["summary"]["tls_negotiated"]


def test_open_loop_rate_over_tls(nginx):
    doc, _ = counted(nginx, "-k", "-n", "30", "-c", "2", "--rate", "300")
    s = doc["summary"]
    assert (s["complete"], s["failed"]) == (30, 0)
    # A keep-alive connection opens when a slot finds none free: one or both, each with a handshake.
    assert 1 <= s["tls_handshakes"] == s["connections_opened"] <= 2


def test_idle_connections_over_tls_are_refused_up_front():
    proc = subprocess.run([harness.binary("loadgen"), "--idle", "5", "-n", "1", "https://127.0.0.1:9/"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--idle holds plain TCP connections only" in proc.stderr
