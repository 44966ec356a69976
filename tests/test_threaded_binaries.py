"""The multi-threaded binaries under concurrent load, stats reads and stop signals: server models
that run threads and loadgen --threads. Valid in every pass; scripts/test.sh --tsan runs them (and
every other test marked `threads`) under ThreadSanitizer, where a data race aborts the binary and
fails the test (loadgen's exit status, the server fixture's check of its server's stderr)."""
import json
import signal
import subprocess
import threading
import time

import pytest

from conftest import _multi_threaded_models
from test_loadgen_util import loadgen_path, run_json

pytestmark = pytest.mark.threads
THREADED_MODELS = sorted(_multi_threaded_models())


def _read_stats_until(srv, stop, seen):
    """Reads /__stats in a loop (the counters are written by the serving threads meanwhile)."""
    while not stop.is_set():
        try:
            seen.append(srv.stats()["requests"])
        except OSError:
            pass
        time.sleep(0.01)


@pytest.mark.parametrize("keepalive", [True, False])
def test_threaded_models_count_exactly_under_concurrent_load(server_factory, keepalive):
    if not THREADED_MODELS:
        pytest.skip("no server model describes itself as multi-threaded")
    for model in THREADED_MODELS:
        srv = server_factory(model, "--delay-ms", 1)
        stop, seen = threading.Event(), []
        reader = threading.Thread(target=_read_stats_until, args=(srv, stop, seen))
        reader.start()
        try:
            doc, _ = run_json("-n", 600, "-c", 30, *(["-k"] if keepalive else []), srv.url, timeout=120)
        finally:
            stop.set()
            reader.join()
        assert doc["summary"]["complete"] == 600 and doc["summary"]["failed"] == 0, model
        stats = srv.stats()
        assert stats["requests"] == 600 and stats["inflight"] == 0, (model, stats)
        assert seen == sorted(seen), model  # the counter only grows
        assert srv.stop() == 0, model


def test_threaded_models_stop_cleanly_under_load(server_factory):
    """SIGTERM while connections are being served: the server exits 0 within its stop timeout."""
    if not THREADED_MODELS:
        pytest.skip("no server model describes itself as multi-threaded")
    for model in THREADED_MODELS:
        srv = server_factory(model, "--delay-ms", 2)
        load = subprocess.Popen([loadgen_path(), "-q", "-t", "20", "-c", "20", "-k", srv.url],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            assert srv.stop() == 0, model
        finally:
            load.send_signal(signal.SIGINT)
            try:
                load.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                load.kill()
                load.communicate()
        assert load.returncode == 0, (model, load.returncode)


@pytest.mark.parametrize("args", [
    ["-n", 3000, "-c", 24, "--threads", 4, "-k"],
    ["-n", 600, "-c", 8, "--threads", 3],
    ["-t", 1, "--rate", 600, "-c", 8, "--threads", 2, "-k"],
], ids=["closed-keepalive", "closed-close", "open-loop"])
def test_loadgen_threads_add_up(server_factory, args):
    srv = server_factory("epoll")
    before = srv.stats()["requests"]
    doc, _ = run_json(*args, srv.url, timeout=120)
    s = doc["summary"]
    assert s["failed"] == 0 and s["complete"] > 0
    assert doc["latency"]["total"]["count"] == s["complete"]
    assert sum(e["completed"] for e in doc["timeseries"]) == s["complete"]
    assert srv.stats()["requests"] - before == s["complete"]


def test_loadgen_threads_stop_on_sigint(server_factory, tmp_path):
    srv = server_factory("epoll", "--delay-ms", 1)
    out = tmp_path / "r.json"
    proc = subprocess.Popen([loadgen_path(), "-q", "-t", "30", "-c", "8", "--threads", "4", "-k",
                             "--json", str(out), srv.url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        time.sleep(0.7)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    doc = json.loads(out.read_text())
    assert doc["summary"]["interrupted"] is True and doc["summary"]["complete"] > 0

