"""The benchmark commands (`c10k bench servers|loadgen`): readers of wrk/ab/h2load reports, the
nginx reference, the largest-C search, and a short real run of the servers' benchmark."""
import os
import resource
import shutil
import subprocess
import sys

import pytest

import harness
from c10k import bench_loadgen, benchtools

C10K = os.path.join(harness.ROOT, "bin", "c10k")

WRK_REPORT = """Running 1s test @ http://127.0.0.1:45401/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   507.28us    2.36ms  35.41ms   96.17%
    Req/Sec    71.25k    30.11k  114.40k    66.67%
  84865 requests in 1.25s, 14.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  67698.06
Transfer/sec:     11.17MB
"""

AB_REPORT = """Complete requests:      100
Failed requests:        3
Keep-Alive requests:    100
Total transferred:      17300 bytes
Requests per second:    67385.44 [#/sec] (mean)
"""

H2LOAD_REPORT = """finished in 4.26ms, 23474.18 req/s, 3.87MB/s
requests: 100 total, 100 started, 98 done, 97 succeeded, 1 failed, 0 errored, 0 timeout
"""


def test_wrk_report_counts_socket_errors_and_non_2xx_as_failures():
    rep = benchtools.parse_wrk(WRK_REPORT)
    assert (rep.requests, rep.rps, rep.failed) == (84865, 67698.06, 7)
    assert "read 2" in rep.detail and "non-2xx 4" in rep.detail


def test_ab_and_h2load_reports():
    ab = benchtools.parse_ab(AB_REPORT)
    assert (ab.requests, ab.rps, ab.failed) == (100, 67385.44, 3)
    h2 = benchtools.parse_h2load(H2LOAD_REPORT)
    assert (h2.requests, h2.rps, h2.failed) == (98, 23474.18, 1)


@pytest.mark.parametrize("parse", [benchtools.parse_wrk, benchtools.parse_ab, benchtools.parse_h2load])
def test_an_unreadable_report_is_a_clear_error(parse):
    with pytest.raises(benchtools.BenchError, match="cannot read its report"):
        parse("connection refused\n")


def test_loadgen_connection_limit_is_read_from_its_refusal():
    # The refusal of the loadgen as built, in one process (the way the benchmark asks), not a copy of it.
    r = subprocess.run([os.path.join(harness.BIN_DIR, "loadgen"), "-q", "--processes", "1", "-c", "1000000",
                        "-n", "1000000", "http://127.0.0.1:9/"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r.stderr
    nofile, cmax = bench_loadgen.connection_limit(r.stderr)
    assert nofile == resource.getrlimit(resource.RLIMIT_NOFILE)[0] and 0 < cmax < nofile
    assert bench_loadgen.connection_limit("something else") is None


@pytest.mark.parametrize("holds_up_to", [19980, 13_500, 500])
def test_largest_held_searches_down_then_bisects(holds_up_to):
    tried = []

    def try_c(c):
        tried.append(c)
        return c <= holds_up_to
    best = bench_loadgen.largest_held(try_c, 19980)
    if holds_up_to >= 1000:
        # Within 1 % of the true limit, never above it.
        assert best <= holds_up_to and best >= holds_up_to * 0.99 - 1
    else:
        assert best is None
    assert len(tried) < 30


def test_nginx_config_quotes_the_body():
    conf = benchtools.nginx_config("/p", 8080, 'a"b\n', workers=2)
    assert 'return 200 "a\\"b\\n";' in conf and "worker_processes 2;" in conf
    assert "listen 127.0.0.1:8080" in conf and "/p/nginx.pid" in conf


@pytest.mark.skipif(not benchtools.nginx_path(), reason="nginx-light is not installed")
def test_nginx_reference_answers_and_is_stopped():
    ngx = benchtools.Nginx("hello\n")
    try:
        status, _, body = harness.http_get(("127.0.0.1", ngx.port), "/")
        assert status == 200 and body == "hello\n"
    finally:
        ngx.stop()
    assert not ngx.server.alive() and not os.path.exists(ngx.prefix)


def test_bench_servers_rejects_an_unknown_model():
    r = subprocess.run([sys.executable, C10K, "bench", "servers", "--models", "nosuch"], capture_output=True,
                       text=True, timeout=30, env={**os.environ, "C10K_BIN_DIR": harness.BIN_DIR})
    assert r.returncode == 2 and "unknown model 'nosuch'" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk is not installed")
def test_bench_servers_quick_prints_the_tables(tmp_path):
    out = tmp_path / "bench.md"
    r = subprocess.run([sys.executable, C10K, "bench", "servers", "--quick", "--models", "epoll", "--no-delay",
                        "--out", str(out)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "C10K_BIN_DIR": harness.BIN_DIR})
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "| epoll | " in text and "failed" not in text.split("| epoll |")[1].split("\n")[0]
    if benchtools.nginx_path():
        assert "| nginx-light (1 worker) |" in text and "1.00x" in text


def test_median_of_runs():
    runs = [bench_loadgen.Run(100, 2e-6, 1, 1.0, 100), bench_loadgen.Run(300, 4e-6, 0, 1.0, 300),
            bench_loadgen.Run(200, 3e-6, 2, 1.0, 200)]
    m = bench_loadgen.Median(runs)
    assert (m.rps, round(m.cpu_us, 6), m.failed, m.nginx_busy) == (200, 3.0, 3, None)
