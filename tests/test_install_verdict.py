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
