import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


@pytest.fixture
def server_factory():
    """Start servers with harness.start_server; every one is stopped when the test ends."""
    started = []

    def start(model, *args, **kw):
        srv = harness.start_server(model, *args, **kw)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.stop()
