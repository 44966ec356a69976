"""The runner killed outright or signalled twice: nothing it started may outlive it, no temporary
folder may stay, the manifest keeps the first signal, and --resume closes the killed run."""
import glob
import os
import signal
import tempfile
import time

from test_runner import (_cmdline, assert_complete, child_pids, fake_bin_dir, fake_pids, guard_pid, rep_files, results,
                         run_runner, scen, sessions_alive, start_runner, the_folder, write_tiny_scenario)
from c10k import procsample  # noqa: E402  (test_runner put scripts/ on the path)


def temp_leftovers(runner_pid):
    tmp = tempfile.gettempdir()
    return sorted(glob.glob(os.path.join(tmp, f"c10k-server-{runner_pid}-*")) +
                  glob.glob(os.path.join(tmp, f"c10k-loadgen-{runner_pid}-*")))


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def start_mid_point(tmp_path, models, concurrency, duration, bin_dir=None):
    """Starts the runner on a tiny scenario and returns (proc, out dir, its children) once the
    server and the loadgen of the first point both run."""
    scenario_file = write_tiny_scenario(tmp_path / "tiny.json", models=models, concurrency=concurrency,
                                        duration=duration)
    out = tmp_path / "out"
    out.mkdir()
    proc = start_runner(scenario_file, "--out", str(out), "--no-plots", "--no-progress", bin_dir=bin_dir)
    try:
        wait_for(lambda: proc.poll() is not None or (point_running(proc.pid) and guard_pid(proc.pid)), 30,
                 "the server, the loadgen and the guard")
    except AssertionError:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"runner exit {proc.returncode}; stderr:\n{err}")
    assert proc.poll() is None, proc.communicate()
    return proc, out, scenario_file


def point_running(runner_pid):
    """True once the runner's children include a server and the loadgen. Counting children is not
    enough: on a busy machine the commands it runs while it writes the manifest can be the two."""
    names = [{os.path.basename(a) for a in _cmdline(p)} for p in child_pids(runner_pid)]
    return (any(any(n.startswith(b"server-") for n in ns) for ns in names)
            and any(b"loadgen" in ns for ns in names))


def all_below(pid):
    """Every process under pid (the forking server's children included)."""
    return set(procsample.descendants(pid)) - {pid}


def test_sigkill_ends_server_and_loadgen_and_removes_temp_folders(tmp_path):
    proc, out, scenario_file = start_mid_point(tmp_path, ("forking",), (8,), 3)
    guard = guard_pid(proc.pid)
    # A forked child lives for one 20 ms request: keep the snapshot that caught one (a second
    # look may fall between two children).
    work = wait_for(lambda: (lambda w: w if len(w) >= 3 else None)(all_below(proc.pid) - {guard}), 30,
                    "server, loadgen and at least one forked child in one snapshot")
    assert temp_leftovers(proc.pid), "the server's temporary folder exists while it runs"
    proc.kill()
    proc.wait()
    # The kernel kills server and loadgen with the runner; the guard ends the forked children and
    # removes the folders. Seconds, not the 3 s point plus the 5 s timeout it would otherwise run.
    wait_for(lambda: not sessions_alive(work), 5, f"the runner's processes to end: {sessions_alive(work)}")
    wait_for(lambda: not temp_leftovers(proc.pid), 5, f"temporary files to go: {temp_leftovers(proc.pid)}")
    wait_for(lambda: not sessions_alive({guard}), 5, "the guard to exit")

    folder = the_folder(out)
    manifest = results.read_manifest(folder)
    assert manifest["runs"][0]["finished"] is None and manifest["runs"][0]["interrupted"] is None
    r = run_runner("--resume", folder, "--no-plots", "--no-progress")
    assert r.returncode == 0, r.stderr
    manifest = assert_complete(folder, scen.load(scenario_file))
    assert manifest["runs"][0]["interrupted"] == "killed"
    assert manifest["runs"][1]["interrupted"] is None and manifest["finished"]


def test_resume_removes_what_a_run_killed_with_its_guard_left(tmp_path):
    proc, out, _ = start_mid_point(tmp_path, ("epoll",), (4,), 3)
    work = all_below(proc.pid) - {guard_pid(proc.pid)}
    os.kill(guard_pid(proc.pid), signal.SIGKILL)  # nobody left to clean up but the kernel
    time.sleep(0.2)
    proc.kill()
    proc.wait()
    # PR_SET_PDEATHSIG alone still ends the server and the loadgen.
    wait_for(lambda: not sessions_alive(work), 5, f"the runner's processes to end: {sessions_alive(work)}")
    left = temp_leftovers(proc.pid)
    assert any(os.path.basename(p).startswith(f"c10k-server-{proc.pid}-") for p in left)
    folder = the_folder(out)
    r = run_runner("--resume", folder, "--no-plots", "--no-progress")
    assert r.returncode == 0, r.stderr
    assert temp_leftovers(proc.pid) == []
    for path in left:
        assert f"removed {path}, left by the killed run (pid {proc.pid})" in r.stderr
    assert results.read_manifest(folder)["runs"][0]["interrupted"] == "killed"


def test_resume_refuses_while_the_runner_still_runs(tmp_path):
    # A 60 s point, ended by the SIGTERM below: the runner must still run when --resume looks,
    # however long a busy machine takes to start the second runner.
    proc, out, _ = start_mid_point(tmp_path, ("epoll",), (2,), 60)
    try:
        r = run_runner("--resume", the_folder(out), "--no-plots", "--no-progress")
        assert r.returncode == 2 and f"a runner (pid {proc.pid}) is still writing this folder" in r.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


def test_second_signal_during_shutdown_neither_leaks_nor_replaces_the_first(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_PID_FILE", str(tmp_path / "fake.pids"))
    bin_dir = fake_bin_dir(tmp_path, {"slowstop": "ignores_term"})
    proc, out, _ = start_mid_point(tmp_path, ("slowstop",), (2,), 4, bin_dir=bin_dir)
    try:
        proc.send_signal(signal.SIGTERM)
        # The server ignores SIGTERM, so stopping it takes the 5 s until SIGKILL: a second,
        # different signal lands in the middle of that.
        time.sleep(1.0)
        assert proc.poll() is None, "the shutdown should still be waiting for the server"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "interrupted by SIGTERM" in stderr
    folder = the_folder(out)
    manifest = results.read_manifest(folder)
    assert manifest["interrupted"] == "SIGTERM" and manifest["runs"][0]["interrupted"] == "SIGTERM"
    assert temp_leftovers(proc.pid) == []
    assert rep_files(folder) == []
    pids = fake_pids(tmp_path)
    assert pids and sessions_alive(pids) == []
