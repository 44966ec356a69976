"""What an installed prefix gives a user for scenarios and verdicts: the scenario schema beside the
scenarios (the installed loader validates with it), and the gates reachable from `c10k gate`."""
import json
import subprocess

from test_install import installed_env, prefix  # noqa: F401 (the installed prefix, built once)


def c10k(prefix, *args, timeout=60):
    return subprocess.run([str(prefix / "bin" / "c10k"), *args], capture_output=True, text=True,
                          timeout=timeout, env=installed_env(prefix))


def test_the_installed_scenarios_are_validated_with_the_installed_schema(prefix, tmp_path):
    schema = prefix / "share" / "c10k-bench" / "scenarios" / "scenario.schema.json"
    assert json.loads(schema.read_text())["properties"]["schema_version"] == {"const": 1}
    r = c10k(prefix, "scenarios", "ci")
    assert r.returncode == 0, r.stderr
    bad = tmp_path / "bad.json"
    doc = json.loads((prefix / "share" / "c10k-bench" / "scenarios" / "ci.json").read_text())
    doc["loadgen"]["warmup_s"] = "soon"
    bad.write_text(json.dumps(doc))
    r = c10k(prefix, "scenarios", str(bad))
    assert r.returncode == 2
    assert f'{bad}: /loadgen/warmup_s: must be a number, got a string "soon"' in r.stderr
    assert "Traceback" not in r.stderr


def test_the_gates_are_installed_and_reachable_from_c10k(prefix):
    for kind in ("ab", "insn", "syscalls", "calibrate"):
        r = c10k(prefix, "gate", kind, "--help")
        assert r.returncode == 0 and r.stdout.startswith(f"usage: c10k gate {kind}"), r.stderr
    r = c10k(prefix, "gate", "--help")
    assert r.returncode == 0 and "interleaved" in r.stdout


def test_an_interleaved_session_runs_from_the_install(prefix, tmp_path):
    scenario = tmp_path / "tiny-ab.json"
    scenario.write_text(json.dumps({
        "schema_version": 1, "name": "tiny-ab", "description": "interleaved A/B from an install",
        "loadgen": {"keepalive": True, "duration_s": 0.2, "warmup_s": 0, "timeout_s": 5},
        "series": ["epoll"], "concurrency": [1], "repeats": 2}))
    r = c10k(prefix, "gate", "ab", "--baseline-bin", str(prefix / "bin"), "--scenario", str(scenario),
             "--out", str(tmp_path / "ab"), "--alpha", "0.5", "--correction", "none", "--metrics", "throughput",
             timeout=300)
    assert r.returncode in (0, 1), r.stdout + r.stderr  # one build on both sides: the verdict is the machine's
    assert "note: interleaved: both builds ran in one session" in r.stdout
    for side in ("baseline", "candidate"):
        (folder,) = (tmp_path / "ab" / side).iterdir()
        assert json.loads((folder / "manifest.json").read_text())["interleaved"]["side"] == side
