import os
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402

def pytest_configure(config):
    config.addinivalue_line(
        "markers", "threads: runs a multi-threaded binary (a server model that runs threads, loadgen "
                   "--threads); scripts/test.sh --tsan runs these under ThreadSanitizer")
    config.addinivalue_line(
        "markers", "serial: measures CPU time or is itself a heavy load (valgrind, network namespaces); "
                   "in a parallel run (scripts/test.sh, pytest-xdist --dist loadgroup) these run one "
                   "after the other in one worker, beside at most the other workers' light tests")


def _multi_threaded_models():
    """Models whose description says they run threads (server-MODEL --describe)."""
    where = getattr(harness, "models_where", None)
    if where is None:
        return set()
    return set(where(lambda d: d.get("task_per_connection") == "thread" or "threads" in d.get("options", [])))


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups in the same hook
def pytest_collection_modifyitems(config, items):
    """Marks `threads` every test parametrized with a multi-threaded model or loadgen threads > 1,
    and puts the `serial` tests in one xdist group."""
    threaded = _multi_threaded_models()
    for item in items:
        if item.get_closest_marker("serial"):
            item.add_marker(pytest.mark.xdist_group("serial"))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("model") in threaded or (isinstance(params.get("threads"), int) and params["threads"] > 1):
            item.add_marker(pytest.mark.threads)


def _stop_and_check(srv):
    """Stops srv and returns why the test must fail, if it must: a sanitizer report on the
    server's stderr or an abort. Servers a test stopped itself are only checked for an abort."""
    err = ""
    if srv.proc.stderr is not None and not srv.proc.stderr.closed:
        if srv.proc.poll() is None:
            srv.proc.send_signal(signal.SIGTERM)
        try:
            _, err = srv.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            srv.proc.kill()
            _, err = srv.proc.communicate()
        except ValueError:  # the test closed the server's stdout itself
            err = ""
    status = srv.stop()
    why = harness.sanitizer_report(err, status)
    return f"{srv.proc.args[0]} {why}" if why else None


@pytest.fixture
def server_factory():
    """Start servers with harness.start_server; every one is stopped when the test ends, and a
    sanitizer report from any of them fails the test."""
    started = []

    def start(model, *args, **kw):
        srv = harness.start_server(model, *args, **kw)
        started.append(srv)
        return srv

    yield start
    problems = [p for p in (_stop_and_check(srv) for srv in started) if p]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
