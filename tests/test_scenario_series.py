"""scenario.load() gives frozen Series: each carries its service time D and the argv of its
server and its loadgen, built once from the one table of flags."""
import dataclasses
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from c10k import scenario as scen, series as ser  # noqa: E402

DOC = {"schema_version": 1, "name": "t", "description": "a test scenario",
       "server_options": {"delay_ms": 250, "work_us": 40, "backlog": 64, "extra_args": ["--x"]},
       "loadgen": {"timeout_s": 7, "keepalive": True, "warmup_s": 0.5, "threads": 2},
       "series": [{"server": "epoll", "loadgen": {"duration_s": 2}},
                  {"name": "per-conn", "server": "epoll", "loadgen": {"requests_per_connection": 3, "keepalive": False}},
                  {"name": "peer", "command": ["srv", "--port", "{port}"], "loadgen": {"duration_s": 1}}],
       "concurrency": [1, 10]}


def series():
    return ser.Scenario.from_dict(scen.validate(DOC)).series


def test_series_carry_their_service_time():
    epoll, per_conn, peer = series()
    assert epoll.service_time_s == pytest.approx(0.25 + 40e-6)
    assert per_conn.service_time_s == epoll.service_time_s
    assert peer.service_time_s == 0  # the top-level server options are our models' flags only
    assert (epoll.kind, peer.kind, peer.program, peer.uses_port) == ("server", "command", "srv", True)


def test_series_are_frozen():
    epoll = series()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        epoll.service_time_s = 1.0
    with pytest.raises(TypeError):
        epoll.server_options["delay_ms"] = 1
    epoll["server_options"]["delay_ms"] = 1  # the manifest's form is a copy
    assert epoll.server_options["delay_ms"] == 250 and epoll["server_options"]["delay_ms"] == 250


def test_argv_is_built_once_from_the_flag_table():
    epoll, per_conn, _ = series()
    assert epoll.server_flags == ("--delay-ms", "250", "--work-us", "40", "--backlog", "64", "--x")
    assert epoll.server_argv("/b/server-epoll") == ["/b/server-epoll", "--host", "127.0.0.1", "--port", "0",
                                                    *epoll.server_flags]
    # The flags are the table's: every option with a flag becomes that flag, none other.
    for key, field in ser.SERVER_OPTION_FIELDS.items():
        if field.flag and key in epoll.server_options:
            assert field.flag in epoll.server_flags
    argv = epoll.loadgen_argv("/b/loadgen", 10, "http://h:1/", "/t/j.json")
    assert argv[:3] == ["/b/loadgen", "-c", "10"] and argv[-1] == "http://h:1/"
    assert argv[3:-1] == ["-l", "--no-progress", "--json", "/t/j.json", *epoll.loadgen_flags]
    assert epoll.loadgen_flags == ("-s", "7", "-k", "--duration", "2", "--threads", "2", "--warmup", "0.5")
    # -n per connection is the one flag that depends on the point.
    argv = per_conn.loadgen_argv("/b/loadgen", 10, "http://h:1/", "j")
    assert argv[argv.index("-n") + 1] == "30" and "-k" not in argv and "--duration" not in argv


def test_a_manifest_round_trip_gives_the_same_series():
    sc = ser.Scenario.from_dict(scen.validate(DOC))
    again = scen.check_expanded(sc.to_dict(), "manifest")
    assert again == sc and [s.loadgen_flags for s in again.series] == [s.loadgen_flags for s in sc.series]
