"""The models describe themselves (--describe), are discovered from the binaries, and refuse flags
they do not use; plus each model's own trait, shown with counters (never stopwatches)."""
import ctypes
import glob
import json
import os
import platform
import re
import resource
import subprocess
import sys

import pytest

import harness
from harness import ROOT
from test_servers_support import RawClient, children_of, delayed_wave, wait_stats, wait_until
from test_servers_support import server_factory  # noqa: F401  (overrides conftest: checked teardown)

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import models  # noqa: E402

MODELS = harness.MODELS
MODEL_FLAGS = {"threads": "threads", "workers": "workers"}  # flag -> the "options" entry that allows it


def run(model, *args, **kw):
    return subprocess.run([harness.server_binary(model), *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=10, **kw)


def optional_library_missing(source):
    """The pkg-config module of a PkgConfig:: target the model's Build: line names that this
    machine lacks (CMake then skips the model with a note), or None."""
    with open(source) as f:
        build = next((line for line in f if line.startswith(" * Build: ")), "")
    for target in re.findall(r"PkgConfig::(\w+)", build):
        module = target.lower()
        if subprocess.run(["pkg-config", "--exists", module]).returncode != 0:
            return module
    return None


def test_every_model_file_is_built_and_describes_itself():
    """CMake builds every file in servers/models/: each one is a server-<file> that describes
    itself under that name (the one source of truth for scripts and tests); only a model whose
    optional library is not installed is left out."""
    sources = glob.glob(os.path.join(ROOT, "servers", "models", "*.c"))
    expected = sorted(os.path.basename(p)[:-2] for p in sources if not optional_library_missing(p))
    assert expected and sorted(MODELS) == expected


def test_discovery_lists_models_in_story_order():
    found = models.discover(harness.BIN_DIR)
    ranks = [d["rank"] for d in found]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)
    names = [d["model"] for d in found]
    classic = ["blocking", "threaded", "forking", "select", "epoll", "libuv"]
    assert [n for n in names if n in classic] == classic  # the C10K story holds
    assert names[:len(classic)] == classic  # later models come after it


@pytest.mark.parametrize("model", MODELS)
def test_describe_prints_one_json_object_with_the_limits(model):
    r = run(model, "--describe")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1
    d = json.loads(r.stdout)
    assert d["model"] == model and d["description"].strip() and "\n" not in d["description"]
    limits = d["limits"]
    assert limits["open_files_per_process"] == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if d["task_per_connection"]:
        with open("/proc/sys/kernel/pid_max") as f:
            assert limits["pid_max"] == int(f.read())
    else:
        assert limits["pid_max"] is None
    assert d["processes"] >= 1
    assert set(d["options"]) <= set(MODEL_FLAGS.values())


@pytest.mark.parametrize("model", MODELS)
def test_describe_reads_the_open_file_limit_of_the_process(model):
    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (321, 321))
    r = run(model, "--describe", preexec_fn=lower)
    assert json.loads(r.stdout)["limits"]["open_files_per_process"] == 321


def test_select_describes_fd_setsize():
    limited = [m for m in MODELS if harness.DESCRIPTIONS[m]["limits"]["fd_setsize"] is not None]
    assert "select" in limited
    assert harness.DESCRIPTIONS["select"]["limits"]["fd_setsize"] == 1024


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("flag", sorted(MODEL_FLAGS))
def test_a_flag_the_model_does_not_use_is_an_error_naming_it(model, flag):
    d = harness.DESCRIPTIONS[model]
    r = run(model, f"--{flag}", 2, "--describe")
    if MODEL_FLAGS[flag] in d["options"]:
        assert r.returncode == 0, r.stderr
        described = json.loads(r.stdout)
        assert (described["threads"] if flag == "threads" else described["processes"]) == 2
    else:
        assert r.returncode == 2 and r.stdout == ""
        assert f"server-{model}: --{flag} is not used by this model" in r.stderr


@pytest.mark.parametrize("model", MODELS)
def test_model_flags_are_validated(model):
    for flag in sorted(MODEL_FLAGS):
        if MODEL_FLAGS[flag] in harness.DESCRIPTIONS[model]["options"]:
            for bad in ("0", "-1", "x", "99999999"):
                r = run(model, f"--{flag}", bad)
                assert r.returncode == 2 and f"invalid value '{bad}' for --{flag}" in r.stderr


def test_discovery_reports_a_binary_that_does_not_describe_itself(tmp_path):
    fake = tmp_path / "server-mute"
    fake.write_text("#!/bin/sh\necho 'listening on 127.0.0.1:1'\nexec sleep 30\n")
    fake.chmod(0o755)
    os.symlink(harness.server_binary("epoll"), tmp_path / "server-epoll")
    errors = []
    found = models.discover(str(tmp_path), errors)
    assert [d["model"] for d in found] == ["epoll"]
    assert len(errors) == 1 and "server-mute --describe printed 'listening on" in errors[0]


def pool_models():
    """Models that serve a fixed number of requests at once, set by a flag (thread or process pools)."""
    return [m for m in MODELS if harness.DESCRIPTIONS[m]["options"] and harness.DESCRIPTIONS[m]["max_inflight"]]


@pytest.mark.parametrize("model", pool_models())
def test_a_pool_serves_n_at_once_however_many_wait(server_factory, model):
    """More delayed clients than workers: the peak in flight is exactly N, and all are served."""
    flag = harness.DESCRIPTIONS[model]["options"][0]
    srv = server_factory(model, f"--{flag}", 3)
    assert delayed_wave(srv.addr, 8, 150) == [200] * 8
    stats = wait_stats(srv, lambda s: s["inflight"] == 0)
    assert stats["peak_inflight"] == 3 and stats["requests"] == 8


def test_threadpool_runs_exactly_its_threads(server_factory):
    srv = server_factory("threadpool", "--threads", 5)
    delayed_wave(srv.addr, 12, 20)
    with open(f"/proc/{srv.proc.pid}/status") as f:
        threads = next(int(l.split()[1]) for l in f if l.startswith("Threads:"))
    assert threads == 5 + 1  # the pool and the accepting thread, however many clients came


@pytest.mark.parametrize("model", harness.models_where(lambda d: "workers" in d["options"]))
def test_workers_are_separate_processes_and_stats_total_them(server_factory, model):
    srv = server_factory(model, "--workers", 3)
    assert wait_until(lambda: len(children_of(srv.proc.pid)) == 3), children_of(srv.proc.pid)
    # Three delayed requests at once: three processes serve them (peak 3), one /__stats counts all.
    assert delayed_wave(srv.addr, 3, 300) == [200] * 3
    assert delayed_wave(srv.addr, 27, 0) == [200] * 27
    stats = wait_stats(srv, lambda s: s["inflight"] == 0)
    assert stats["requests"] == 30 and stats["peak_inflight"] == 3 and stats["accepted"] >= 31


def test_reuseport_spreads_connections_over_the_workers_listeners(server_factory):
    srv = server_factory("reuseport", "--workers", 3)
    assert wait_until(lambda: len(children_of(srv.proc.pid)) == 3)
    clients = [RawClient(srv.addr) for _ in range(30)]
    try:
        for c in clients:
            c.request("GET", "/")
            assert c.read_response().status == 200
        # Each worker holds its own listener and the connections the kernel gave it.
        holding = [sockets_of(pid) - 1 for pid, _ in children_of(srv.proc.pid)]
        assert sum(holding) == 30 and sum(1 for n in holding if n > 0) >= 2, holding
    finally:
        for c in clients:
            c.close()


def sockets_of(pid):
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass
    return n


@pytest.mark.parametrize("model", harness.models_where(lambda d: "workers" in d["options"]))
def test_a_dead_worker_is_replaced(server_factory, model):
    srv = server_factory(model, "--workers", 2)
    assert wait_until(lambda: len(children_of(srv.proc.pid)) == 2)
    victim = children_of(srv.proc.pid)[0][0]
    os.kill(victim, 9)
    assert wait_until(lambda: victim not in [p for p, _ in children_of(srv.proc.pid)]
                      and len(children_of(srv.proc.pid)) == 2)
    for _ in range(10):
        assert harness.http_get(srv.addr, "/")[0] == 200


def test_reuseport_holds_more_connections_than_one_process_can(server_factory):
    """Each worker has its own open-file limit: 4 workers at 64 fds each hold 120 connections,
    where one process at that limit cannot."""
    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    srv = server_factory("reuseport", "--workers", 4, preexec_fn=lower)
    clients = [RawClient(srv.addr) for _ in range(120)]
    try:
        for c in clients:
            c.request("GET", "/?bytes=1")
        assert all(c.read_response().status == 200 for c in clients)
        stats = srv.stats()
        assert stats["active"] == 121 and stats["errors"]["accept"] == 0
    finally:
        for c in clients:
            c.close()


# ---- io_uring: completion-based; runs wherever the kernel allows io_uring (it does here) ----

needs_uring = pytest.mark.skipif("uring" not in MODELS, reason="server-uring not built (liburing-dev missing)")


@needs_uring
def test_uring_basic_pipelined_and_delayed(server_factory):
    srv = server_factory("uring", "--delay-ms", 30)
    with RawClient(srv.addr) as c:
        # Pipelined in one write: a large answer, a small one, a delayed one; all whole, in order.
        c.send(b"GET /?bytes=1048576&delay_ms=0 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /?bytes=7&delay_ms=0 HTTP/1.1\r\nHost: x\r\n\r\n"
               b"GET /?bytes=3 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert [len(c.read_response().body) for _ in range(3)] == [1048576, 7, 3]
    # Delays are timeouts in the ring, not blocked threads: 20 wait at once.
    assert delayed_wave(srv.addr, 20, 300) == [200] * 20
    stats = wait_stats(srv, lambda s: s["inflight"] == 0)
    assert stats["peak_inflight"] == 20 and stats["requests"] == 23


def refuse_io_uring():
    """In the child before exec: a seccomp filter that fails io_uring_setup with EPERM, as a
    kernel with io_uring disabled would (x86-64 and arm64 share the syscall number)."""
    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                    ("k", ctypes.c_uint32)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(Filter))]

    nr_io_uring_setup, ret_errno_eperm, ret_allow = 425, 0x00050000 | 1, 0x7fff0000
    insns = (Filter * 4)(Filter(0x20, 0, 0, 0),                        # load the syscall number
                         Filter(0x15, 0, 1, nr_io_uring_setup),        # io_uring_setup?
                         Filter(0x06, 0, 0, ret_errno_eperm),          # then EPERM
                         Filter(0x06, 0, 0, ret_allow))                # else allow
    prog = Prog(4, insns)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:  # NO_NEW_PRIVS, SECCOMP
        os._exit(99)


@needs_uring
@pytest.mark.skipif(platform.machine() not in ("x86_64", "aarch64"), reason="io_uring_setup number")
def test_uring_refused_by_the_kernel_exits_2_and_tests_skip_with_its_message():
    r = run("uring", "--port", 0, preexec_fn=refuse_io_uring)
    assert r.returncode == 2, r.stderr
    assert "server-uring: not available here: io_uring_setup: Operation not permitted" in r.stderr
    with pytest.raises(pytest.skip.Exception) as skipped:
        harness.start_server("uring", preexec_fn=refuse_io_uring)
    assert "not available here" in str(skipped.value)
