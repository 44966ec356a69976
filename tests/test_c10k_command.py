"""The `c10k` command: installed into a temporary prefix and run from another directory, its
subcommand dispatch, and the demo's output (summary, bar chart, where the report is)."""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

import harness
from c10k import demo

C10K = os.path.join(harness.ROOT, "bin", "c10k")
BUILD_DIR = os.path.dirname(os.path.abspath(harness.BIN_DIR))


def c10k(*args, cwd=None, timeout=60, env=None, command=C10K):
    return subprocess.run([sys.executable, command, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env or {**os.environ, "C10K_BIN_DIR": harness.BIN_DIR})


@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD_DIR, "CMakeCache.txt")),
                    reason="the binaries are not from a CMake build directory")
def test_install_into_a_prefix_and_run_smoke_from_another_directory(tmp_path):
    prefix, elsewhere = tmp_path / "prefix", tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run(["cmake", "--install", BUILD_DIR, "--prefix", str(prefix)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("c10k", "loadgen", "server-epoll", "server-blocking"):
        assert os.access(prefix / "bin" / name, os.X_OK), name
    share = prefix / "share" / "c10k-bench"
    assert (share / "scenarios" / "smoke.json").is_file()
    assert (share / "scripts" / "c10k" / "gnuplot" / "throughput.gp").is_file()
    # No C10K_BIN_DIR and no checkout on the way: the command must find everything from itself.
    env = {k: v for k, v in os.environ.items() if not k.startswith("C10K_")}
    env["PATH"] = f"{prefix / 'bin'}:{env.get('PATH', '')}"
    r = subprocess.run(["c10k", "run", "smoke", "--quick", "--no-progress"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    folders = os.listdir(elsewhere / "results")
    assert len(folders) == 1 and folders[0].startswith("smoke-")
    folder = elsewhere / "results" / folders[0]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["environment"]["bin_dir"] == str(prefix / "bin")
    # The run ends with its numbers and the report's path, not only folder names.
    assert "# smoke: summary" in r.stdout and "| epoll |" in r.stdout, r.stdout
    assert re.search(r"HTML report with the plots: (\S+)", r.stdout).group(1) == str(folder / "index.html")
    assert (folder / "summary.md").is_file() and (folder / "index.html").is_file()
    series = [s["name"] for s in manifest["scenario"]["series"]]
    for s in series:
        assert os.listdir(folder / "points" / s), s


def test_usage_and_unknown_commands_are_exit_2(tmp_path):
    r = c10k()
    assert r.returncode == 2 and "c10k run SCENARIO" in r.stderr
    r = c10k("frobnicate")
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr
    r = c10k("bench", "nothing")
    assert r.returncode == 2 and "servers|loadgen" in r.stderr
    r = c10k("--help")
    assert r.returncode == 0 and "c10k demo" in r.stdout


def test_check_and_scenarios_subcommands(tmp_path):
    r = c10k("scenarios", cwd=tmp_path)
    assert r.returncode == 0 and re.search(r"^smoke\s", r.stdout, re.M)
    r = c10k("check", "smoke", "--quick", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "server-epoll" in r.stdout and not os.path.exists(tmp_path / "results")


def test_compare_subcommand_reports_bad_folders(tmp_path):
    r = c10k("compare", tmp_path / "a", tmp_path / "b")
    assert r.returncode == 2 and "is not a directory" in r.stderr and "Traceback" not in r.stderr


def test_bar_chart_scales_to_the_largest_value():
    lines = demo.bar_chart([("epoll", 1000.0, "(100% of C/D)"), ("blocking", 10.0, None),
                            ("forking", None, "server_died")], width=20)
    assert lines[0].startswith("epoll   ") and "#" * 20 in lines[0] and "1,000 req/s  (100% of C/D)" in lines[0]
    assert "|" in lines[1] and "#" not in lines[1] and "10 req/s" in lines[1]  # too small for a #, still seen
    assert lines[2].rstrip().endswith("server_died")


def test_demo_prints_the_summary_the_chart_and_the_report(tmp_path):
    r = c10k("demo", "--scenario", "smoke", "--out", tmp_path, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "# smoke: summary" in r.stdout
    chart = r.stdout.split("Throughput per model at C=", 1)[1]
    for model in ("blocking", "epoll", "libuv"):
        assert re.search(rf"^  {model}\s+#+\s+[\d,]+ req/s", chart, re.M), chart
    report = re.search(r"HTML report with the plots: (\S+)", r.stdout).group(1)
    assert os.path.isfile(report) and report.startswith(str(tmp_path))


@pytest.mark.parametrize("sub", [["run"], ["check"], ["plot"], ["compare"], ["bench", "servers"],
                                 ["bench", "loadgen"], ["demo"], ["scenarios"]])
def test_every_subcommand_prints_its_help(sub):
    """--help is the first thing a new user types; argparse formats it lazily, so a stray % in
    one option's help text only shows here."""
    r = c10k(*sub, "--help")
    assert r.returncode == 0 and "usage" in r.stdout.lower() and "Traceback" not in r.stderr, r.stderr


def test_help_and_errors_name_the_subcommand(tmp_path):
    for sub in ("run", "check", "plot"):
        r = c10k(sub, "--help")
        assert r.returncode == 0 and r.stdout.startswith(f"usage: c10k {sub} "), r.stdout
    r = c10k("run")
    assert r.returncode == 2 and "c10k run: error: give a SCENARIO" in r.stderr, r.stderr
    r = c10k("check", "no-such-scenario")
    assert r.returncode == 2 and r.stderr.startswith("c10k check: error: "), r.stderr
    r = c10k("plot", tmp_path / "none")
    assert r.returncode == 2 and r.stderr.startswith("c10k plot: error: "), r.stderr
    assert "run_scenario" not in r.stderr + c10k("run", "--help").stdout


def test_scenarios_name_shows_that_scenario():
    r = c10k("scenarios", "seed")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("seed (") and "smoke" not in r.stdout
    assert re.search(r"^  blocking\s+server-blocking\s+c=\[5\]\s.*--delay-ms 3000", r.stdout, re.M), r.stdout
    r = c10k("scenarios", "no-such-scenario")
    assert r.returncode == 2 and "c10k scenarios: error: " in r.stderr and "no such scenario file" in r.stderr


def test_the_resume_hint_after_ctrl_c_is_a_command_that_works(tmp_path):
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"schema_version": 1, "name": "tiny", "description": "a tiny test scenario",
                                    "server_options": {"delay_ms": 20}, "series": ["epoll"], "concurrency": [1],
                                    "loadgen": {"duration_s": 4, "timeout_s": 5}}))
    env = {**os.environ, "C10K_BIN_DIR": harness.BIN_DIR}
    proc = subprocess.Popen([C10K, "run", str(scenario), "--out", str(tmp_path), "--no-plots", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().startswith("results: ")
        time.sleep(1.5)  # the point is under way: its loadgen runs for 4 s
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGINT, stderr
    hint = re.search(r"resume with: (.*)$", stderr, re.M)
    assert hint and shlex.split(hint.group(1))[:2] == [C10K, "run"], stderr
    r = subprocess.run(shlex.split(hint.group(1)) + ["--no-plots", "--no-progress"], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    (folder,) = [p for p in tmp_path.iterdir() if p.name.startswith("tiny-")]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["finished"] and [run["interrupted"] for run in manifest["runs"]] == ["SIGINT", None]
