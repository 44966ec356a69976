"""Real clients against every server: curl, ab (apache2-utils) and wrk, each a small bounded run
that must finish with zero failures."""
import re
import shutil
import subprocess

import pytest

import harness
from test_servers_support import SERIAL_MODELS
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

MODELS = harness.MODELS


def need(tool):
    path = shutil.which(tool)
    if not path:
        pytest.skip(f"{tool} is not installed (scripts/install-deps.sh)")
    return path


def run(cmd, timeout=30):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("model", MODELS)
def test_curl(server_factory, model):
    curl = need("curl")
    srv = server_factory(model, "--body-bytes", 1000)
    r = run([curl, "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", srv.url])
    assert r.returncode == 0 and r.stdout == "200 1000", r
    r = run([curl, "-sS", "--max-time", "10", "-I", srv.url + "?bytes=12"])
    assert r.returncode == 0 and "HTTP/1.1 200" in r.stdout and "Content-Length: 12" in r.stdout
    r = run([curl, "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary",
             "x" * 100000, srv.url])
    assert r.returncode == 0 and r.stdout == "200", r
    # Several URLs in one invocation reuse one keep-alive connection.
    before = srv.stats()["accepted"]
    r = run([curl, "-sS", "--max-time", "10", "-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
             "-w", "%{http_code}\n", srv.url, srv.url + "?bytes=5", srv.url + "?delay_ms=5"])
    assert r.returncode == 0 and r.stdout.split() == ["200"] * 3, r
    assert srv.stats()["accepted"] - before == 2  # curl's one connection + this stats request


def ab_field(out, name):
    m = re.search(rf"^{name}:\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else None


@pytest.mark.parametrize("model", MODELS)
def test_ab(server_factory, model):
    ab = need("ab")
    srv = server_factory(model)
    r = run([ab, "-q", "-n", "200", "-c", "10", "-s", "10", srv.url])
    assert r.returncode == 0, r.stderr
    assert ab_field(r.stdout, "Complete requests") == 200
    assert ab_field(r.stdout, "Failed requests") == 0
    assert "Non-2xx" not in r.stdout
    # Keep-alive (HTTP/1.0 + Connection: Keep-Alive). The blocking model serves one connection
    # until the client closes it, so ab can only use a single connection there.
    conc = "1" if model in SERIAL_MODELS else "10"
    r = run([ab, "-q", "-k", "-n", "200", "-c", conc, "-s", "10", srv.url])
    assert r.returncode == 0, r.stderr
    assert ab_field(r.stdout, "Complete requests") == 200
    assert ab_field(r.stdout, "Failed requests") == 0
    assert ab_field(r.stdout, "Keep-Alive requests") == 200


@pytest.mark.parametrize("model", MODELS)
def test_wrk(server_factory, model):
    wrk = need("wrk")
    srv = server_factory(model, "--body-bytes", 200)
    conns = "1" if model in SERIAL_MODELS else "10"
    r = run([wrk, "-t1", f"-c{conns}", "-d1s", "--timeout", "5s", srv.url])
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) requests in", r.stdout)
    assert m and int(m.group(1)) > 0, r.stdout
    assert "Socket errors" not in r.stdout and "Non-2xx" not in r.stdout, r.stdout
    assert srv.stats()["errors"]["bad_request"] == 0
