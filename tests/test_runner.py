"""The runner end to end: smoke on the real binaries, interruption and resume, bad input.

Every process the runner starts is its own session leader (sid == pid) and every repetition
records the server's and the loadgen's pid, so "nothing left behind" is checked exactly: no
process on the machine may still belong to one of those sessions.
"""
import glob
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import harness
from harness import ROOT

sys.path.insert(0, os.path.join(ROOT, "scripts"))
from c10k import results, scenario as scen  # noqa: E402

RUN = os.path.join(ROOT, "scripts", "run_scenario.py")
PY = sys.executable
SANITIZE = bool(os.environ.get("C10K_SANITIZE"))
READY_TIMEOUT = "30" if SANITIZE else "10"


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def guard_pid(runner_pid):
    """The runner's guard process (scripts/c10k/guard.py), or None."""
    for p, _ in harness.children_of(runner_pid):
        if any(arg.endswith(b"guard.py") for arg in _cmdline(p)):
            return p
    return None


def child_pids(pid):
    """The runner's children that it runs the scenario with (servers, loadgen), not its guard."""
    guard = guard_pid(pid)
    return [p for p, _ in harness.children_of(pid) if p != guard]


def runner_env(bin_dir=None):
    env = dict(os.environ)
    env["C10K_BIN_DIR"] = bin_dir or harness.BIN_DIR
    return env


def run_runner(*args, bin_dir=None, timeout=240):
    return subprocess.run([PY, RUN, *args, "--ready-timeout", READY_TIMEOUT], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, env=runner_env(bin_dir))


def start_runner(*args, bin_dir=None):
    return subprocess.Popen([PY, RUN, *args, "--ready-timeout", READY_TIMEOUT], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=runner_env(bin_dir), start_new_session=True)


def uptime_ticks():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * os.sysconf("SC_CLK_TCK")


def sessions_alive(sids, born_before=None):
    """Pids of processes that belong to any of the sessions `sids`. born_before (uptime_ticks()
    when the runner had exited) leaves out younger processes: with tests running in parallel, a
    pid of a dead child can come back as another test's session leader within seconds."""
    sids, alive = set(sids), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        if int(fields[3]) in sids and (born_before is None or int(fields[19]) <= born_before):
            alive.append(int(name))  # field 6: session id; field 22: start time in ticks
    return alive


def the_folder(out_dir):
    (folder,) = glob.glob(os.path.join(str(out_dir), "*-*"))
    return folder


def rep_files(folder):
    return sorted(glob.glob(os.path.join(folder, "points", "*", "c*", "rep*.json")))


def recorded_pids(folder):
    pids = set()
    for f in rep_files(folder):
        doc = results.read_repetition(f)
        pids.update(p for p in (doc.get("server_pid"), doc.get("loadgen_pid")) if p)
    return pids


def write_tiny_scenario(path, models=("epoll", "threaded", "forking"), concurrency=(1, 4), duration=0.4):
    doc = {"schema_version": 1, "name": "tiny", "description": "a tiny test scenario",
           "server_options": {"delay_ms": 20}, "loadgen": {"duration_s": duration, "timeout_s": 5},
           "series": list(models), "concurrency": list(concurrency)}
    path.write_text(json.dumps(doc))
    return str(path)


def assert_complete(folder, sc):
    manifest = results.read_manifest(folder)
    for s in sc["series"]:
        for c in s["concurrency"]:
            for k in range(1, sc["repeats"] + 1):
                path = results.rep_path(folder, s["name"], c, k)
                assert os.path.exists(path), path
    assert not glob.glob(os.path.join(folder, "points", "**", "*.tmp"), recursive=True)
    return manifest


def test_smoke_end_to_end(tmp_path):
    r = run_runner("smoke", "--quick", "--out", str(tmp_path), "--no-progress")
    assert r.returncode == 0, r.stderr
    folder = the_folder(tmp_path)
    assert os.path.basename(folder).startswith("smoke-")
    sc = scen.load("smoke", quick=True)
    manifest = assert_complete(folder, sc)
    assert manifest["schema_version"] == 1 and manifest["kind"] == "c10k-bench-results"
    assert manifest["scenario"] == sc and manifest["quick"] is True
    assert manifest["finished"] and manifest["started"] <= manifest["finished"]
    assert manifest["interrupted"] is None and manifest["skipped_points"] == []
    env = manifest["environment"]
    for key in ("cpu_model", "cores", "kernel", "hostname", "nofile_limit", "somaxconn", "port_range",
                "pid_max", "tool_versions", "git_revision"):
        assert key in env, key
    assert env["nofile_limit"] > 1000 and len(env["port_range"]) == 2 and env["pid_max"] > 0
    assert "loadgen" in env["tool_versions"]
    if (os.cpu_count() or 1) >= 2:
        assert env["pinning"]["server_cpus"] != env["pinning"]["loadgen_cpus"]

    for f in rep_files(folder):
        doc = results.read_repetition(f)
        assert doc["status"] == "ok", (f, doc["detail"], doc["loadgen_stderr_tail"], doc["server_stderr_tail"])
        assert doc["server_args"][0].endswith("server-" + doc["server"])
        assert "--delay-ms" in doc["server_args"]
        summary = doc["loadgen"]["summary"]
        assert summary["complete"] > 0 and summary["failed"] == 0
        assert doc["loadgen"]["latency"]["total"]["percentiles"]["50"] >= 50  # the 50 ms delay
        usage = doc["server_usage"]
        assert usage["interval_s"] == 0.1 and len(usage["samples"]) >= 3
        for key in ("t_s", "cpu_user_s", "cpu_sys_s", "rss_kib", "pss_kib", "threads", "processes",
                    "ctx_voluntary", "ctx_involuntary"):
            assert key in usage["samples"][0]
        assert usage["peak_pss_kib"] > 0 and usage["peak_threads"] >= 1 and usage["peak_processes"] >= 1
        assert usage["requests"] >= summary["complete"]
        stats = doc["server_stats"]
        assert stats["after"]["requests"] > stats["before"]["requests"]
        if doc["server"] == "forking" and doc["concurrency"] > 1:
            assert usage["peak_processes"] > 1  # a child per connection was seen
        if doc["server"] == "threaded" and doc["concurrency"] > 1:
            assert usage["peak_threads"] > 1
    # The report came with it.
    for name in ("throughput", "latency", "memory", "cpu", "failures"):
        assert os.path.getsize(os.path.join(folder, "plots", f"{name}.png")) > 0
    assert os.path.exists(os.path.join(folder, "index.html"))
    assert sessions_alive(recorded_pids(folder)) == []


def test_sigterm_mid_run_keeps_finished_points_and_resume_completes(tmp_path):
    scenario_file = write_tiny_scenario(tmp_path / "tiny.json")
    out = tmp_path / "out"
    out.mkdir()
    proc = start_runner(scenario_file, "--out", str(out), "--no-plots", "--no-progress")
    try:
        deadline = time.monotonic() + 60
        folder = None
        while time.monotonic() < deadline:
            found = glob.glob(os.path.join(str(out), "tiny-*"))
            if found and len(rep_files(found[0])) >= 2:
                folder = found[0]
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert folder, "no repetition finished in time"
        # Mid-point: the runner has a server (and usually a loadgen) running right now.
        live_children = child_pids(proc.pid)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
        exited = uptime_ticks()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM" in stderr and "--resume" in stderr
    manifest = results.read_manifest(folder)
    assert manifest["interrupted"] == "SIGTERM" and manifest["finished"] is None
    kept = {f: open(f).read() for f in rep_files(folder)}
    assert len(kept) >= 2
    for text in kept.values():
        json.loads(text)  # whole files only
    assert sessions_alive(recorded_pids(folder) | set(live_children), born_before=exited) == []

    r = run_runner("--resume", folder, "--no-plots", "--no-progress")
    assert r.returncode == 0, r.stderr
    sc = scen.load(scenario_file)
    manifest = assert_complete(folder, sc)
    assert manifest["finished"] and manifest["interrupted"] is None and len(manifest["runs"]) == 2
    for f, text in kept.items():
        assert open(f).read() == text, f"{f} was redone on resume"
    assert sessions_alive(recorded_pids(folder)) == []

    # A finished folder resumes to nothing.
    r = run_runner("--resume", folder, "--no-plots", "--no-progress")
    assert r.returncode == 0 and "already finished" in r.stderr


def test_sigint_stops_cleanly(tmp_path):
    scenario_file = write_tiny_scenario(tmp_path / "tiny.json", models=("forking",), concurrency=(8,),
                                        duration=3)
    out = tmp_path / "out"
    out.mkdir()
    proc = start_runner(scenario_file, "--out", str(out), "--no-plots", "--no-progress")
    try:
        # Wait until the server and the loadgen both run, then Ctrl-C.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(child_pids(proc.pid)) < 2:
            time.sleep(0.05)
        kids = child_pids(proc.pid)
        assert len(kids) >= 2, "server and loadgen never both ran"
        time.sleep(0.5)  # the forking server has children now
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGINT, stderr
    folder = the_folder(out)
    assert rep_files(folder) == []  # the point in progress is not half-written
    assert results.read_manifest(folder)["interrupted"] == "SIGINT"
    assert sessions_alive(kids) == []


FAKE_SERVER = textwrap.dedent("""\
    #!/usr/bin/env python3
    # A stand-in server with the servers' CLI: MODE decides how it misbehaves.
    import os, socket, sys, threading, time
    MODE = {mode!r}
    if MODE == "ignores_term":
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # only SIGKILL ends it: a slow shutdown
    with open(os.environ["FAKE_PID_FILE"], "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    if MODE == "never_ready":
        sys.stderr.write("fake server: stuck before listening\\n")
        sys.stderr.flush()
        time.sleep(600)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    print(f"listening on 127.0.0.1:{{s.getsockname()[1]}}", flush=True)
    served = [0]
    def handle(c):
        try:
            data = b""
            while b"\\r\\n\\r\\n" not in data:
                chunk = c.recv(4096)
                if not chunk:
                    return
                data += chunk
            served[0] += 1
            if MODE == "dies" and served[0] >= 3:
                sys.stderr.write("fake server: dying on purpose\\n")
                sys.stderr.flush()
                os._exit(3)
            body = b'{{"requests": %d}}' % served[0]
            c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body) + body)
        finally:
            c.close()
    while True:
        c, _ = s.accept()
        threading.Thread(target=handle, args=(c,), daemon=True).start()
    """)


def fake_bin_dir(tmp_path, modes):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(harness.binary("loadgen"), bin_dir / "loadgen")
    for model, mode in modes.items():
        if mode == "real":
            os.symlink(harness.server_binary(model), bin_dir / f"server-{model}")
            continue
        path = bin_dir / f"server-{model}"
        path.write_text(FAKE_SERVER.format(mode=mode).replace("/usr/bin/env python3", sys.executable, 1))
        path.chmod(0o755)
    return str(bin_dir)


def fake_pids(tmp_path):
    try:
        return {int(x) for x in (tmp_path / "fake.pids").read_text().split()}
    except FileNotFoundError:
        return set()


def test_server_that_never_gets_ready_is_an_error_with_its_stderr(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "fake.pids"))
    bin_dir = fake_bin_dir(tmp_path, {"stuck": "never_ready"})
    scenario_file = write_tiny_scenario(tmp_path / "s.json", models=("stuck",), concurrency=(1,))
    out = tmp_path / "out"
    out.mkdir()
    t0 = time.monotonic()
    r = subprocess.run([PY, RUN, scenario_file, "--out", str(out), "--no-plots", "--no-progress",
                        "--ready-timeout", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=60, env=runner_env(bin_dir))
    assert r.returncode == 1
    assert "printed no 'listening on HOST:PORT' line within 1 s" in r.stderr
    assert "fake server: stuck before listening" in r.stderr
    assert time.monotonic() - t0 < 20
    pids = fake_pids(tmp_path)
    assert pids and sessions_alive(pids) == []
    assert results.read_manifest(the_folder(out))["interrupted"] == "error"


def test_server_that_dies_mid_point_is_recorded_and_the_suite_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "fake.pids"))
    bin_dir = fake_bin_dir(tmp_path, {"dying": "dies", "epoll": "real"})
    scenario_file = write_tiny_scenario(tmp_path / "s.json", models=("dying", "epoll"), concurrency=(2,),
                                        duration=4)
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run([PY, RUN, scenario_file, "--out", str(out), "--no-progress", "--ready-timeout",
                        READY_TIMEOUT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                       env=runner_env(bin_dir))
    assert r.returncode == 0, r.stderr
    folder = the_folder(out)
    died = results.read_repetition(results.rep_path(folder, "dying", 2, 1))
    assert died["status"] == "server_died" and died["server_exit"] == 3
    assert died["wall_s"] < 3.5  # the loadgen was stopped when the server died, not at its 4 s end
    assert "dying on purpose" in died["server_stderr_tail"]
    assert "server_died" in r.stderr
    assert results.read_repetition(results.rep_path(folder, "epoll", 2, 1))["status"] == "ok"
    assert sessions_alive(fake_pids(tmp_path) | recorded_pids(folder)) == []
    # The report shows the failure instead of hiding it.
    html = open(os.path.join(folder, "index.html")).read()
    assert "server_died" in html


def test_a_run_in_which_every_repetition_failed_exits_non_zero_with_a_summary(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "fake.pids"))
    bin_dir = fake_bin_dir(tmp_path, {"dying": "dies"})
    scenario_file = write_tiny_scenario(tmp_path / "s.json", models=("dying",), concurrency=(2,), duration=4)
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run([PY, RUN, scenario_file, "--out", str(out), "--no-plots", "--no-progress", "--ready-timeout",
                        READY_TIMEOUT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                       env=runner_env(bin_dir))
    assert r.returncode == 1, r.stderr
    assert "every repetition of this run failed (1 server_died)" in r.stderr
    assert "dying c=2: server exited with status 3" in r.stderr
    manifest = results.read_manifest(the_folder(out))
    assert manifest["finished"] and manifest["interrupted"] is None  # the failures are kept, as results
    assert sessions_alive(fake_pids(tmp_path)) == []


def test_check_refuses_a_loadgen_hosts_file_it_cannot_read(tmp_path):
    scenario_file = write_tiny_scenario(tmp_path / "s.json", models=("epoll",), concurrency=(1,))
    missing = tmp_path / "nonexistent"
    r = run_runner(scenario_file, "--check", "--loadgen-hosts", str(missing))
    assert r.returncode == 2 and f"cannot read --loadgen-hosts file {missing}" in r.stderr, r.stderr
    assert "scenario tiny" not in r.stdout  # no plan for a run that cannot start
    binary = tmp_path / "hosts"
    binary.write_bytes(b"root@198.18.0.2 source=127.0.0.1\nh\xff\xfe\n")
    for extra in (["--check"], ["--out", str(tmp_path), "--no-plots"]):
        r = run_runner(scenario_file, *extra, "--loadgen-hosts", str(binary))
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert f"--loadgen-hosts file {binary} is not UTF-8 text (line 2)" in r.stderr, r.stderr
    assert not glob.glob(str(tmp_path / "tiny-*"))  # refused before a results folder was made


def test_resume_refuses_what_is_not_a_results_folder(tmp_path):
    r = run_runner("--resume", str(tmp_path), "--no-plots")
    assert r.returncode == 2 and "is not a results folder (no manifest.json)" in r.stderr
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "something-else"}))
    r = run_runner("--resume", str(tmp_path), "--no-plots")
    assert r.returncode == 2 and "is not a results folder" in r.stderr
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "c10k-bench-results", "schema_version": 7}))
    r = run_runner("--resume", str(tmp_path), "--no-plots")
    assert r.returncode == 2 and "schema_version 7" in r.stderr
    (tmp_path / "manifest.json").write_text("{not json")
    r = run_runner("--resume", str(tmp_path), "--no-plots")
    assert r.returncode == 2 and "not valid JSON" in r.stderr
    r = run_runner("--resume", str(tmp_path / "missing"), "--no-plots")
    assert r.returncode == 2 and "is not a directory" in r.stderr
    (tmp_path / "manifest.json").write_text(json.dumps({
        "kind": "c10k-bench-results", "schema_version": 1, "environment": {}, "skipped_points": [],
        "scenario": {"schema_version": 1, "name": "x", "repeats": 1, "series": [{"name": "epoll"}]}}))
    r = run_runner("--resume", str(tmp_path), "--no-plots")
    assert r.returncode == 2 and "series[0] is not a complete expanded series" in r.stderr


def test_resume_refuses_another_scenario(tmp_path):
    scenario_file = write_tiny_scenario(tmp_path / "tiny.json", models=("epoll",), concurrency=(1,), duration=0.2)
    out = tmp_path / "out"
    out.mkdir()
    r = run_runner(scenario_file, "--out", str(out), "--no-plots")
    assert r.returncode == 0, r.stderr
    assert "0/1 epoll c=1 rep 1/1" in r.stderr and "ETA" in r.stderr  # the progress line
    r = run_runner("smoke", "--resume", the_folder(out), "--no-plots")
    assert r.returncode == 2 and "holds scenario 'tiny', not 'smoke'" in r.stderr


def test_check_reports_points_that_cannot_run_here(tmp_path):
    doc = {"schema_version": 1, "name": "big", "description": "beyond this machine",
           "server_options": {"delay_ms": 1000}, "loadgen": {"duration_s": 1},
           "series": ["threaded", "select", "epoll"], "concurrency": [100, 2000, 50000]}
    f = tmp_path / "big.json"
    f.write_text(json.dumps(doc))
    r = run_runner(str(f), "--check")
    assert r.returncode == 0, r.stderr
    nofile = int(subprocess.run(["sh", "-c", "ulimit -Hn"], stdout=subprocess.PIPE, text=True).stdout.strip())
    if nofile < 50000:
        assert "cannot run epoll at c=50000 here: needs about 50064 open files" in r.stderr
    assert "note: select at c=2000: server-select cannot watch fds >= FD_SETSIZE (1024)" in r.stderr
    assert "cannot run epoll at c=100" not in r.stderr
    assert "3 series" in r.stdout
    assert not os.path.exists(os.path.join(ROOT, "results", "big-"))  # --check writes nothing
