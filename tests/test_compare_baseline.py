"""scripts/baseline.py: save a baseline with its fingerprint, check runs against it."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from perfcheck import synthetic  # noqa: E402

BASELINE = os.path.join(ROOT, "scripts", "baseline.py")


def run(*args):
    p = subprocess.run([sys.executable, BASELINE, *map(str, args)], capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout, p.stderr


def insn_report(path, server_ipr, loadgen_ipr=9000.0, cpu="Synthetic CPU"):
    doc = {"schema_version": 1, "kind": "c10k-insn-counts",
           "params": {"tool": "cachegrind", "n1": 500, "n2": 2500, "concurrency": 1, "keepalive": True},
           "environment": {"cpu_model": cpu},
           "targets": {name: {"kind": kind, "command": [name], "insn_per_request": v,
                              "min_insn_per_request": v, "max_insn_per_request": v, "spread": 0.0,
                              "runs": [{}]}
                       for name, kind, v in (("server-epoll", "server", server_ipr),
                                             ("loadgen", "loadgen", loadgen_ipr))}}
    with open(path, "w") as f:
        json.dump(doc, f)
    return str(path)


def test_save_then_check(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1)
    same = synthetic.make_results(str(tmp_path), "same", 2)
    slow = synthetic.make_results(str(tmp_path), "slow", 3, slowdown=1.3)
    bdir = tmp_path / "baselines" / "ci"
    status, out, err = run("save", base, "--dir", bdir)
    assert status == 0, err
    assert "baseline saved" in out
    fp = json.loads((bdir / "fingerprint.json").read_text())
    assert fp["kind"] == "c10k-bench-baseline" and fp["scenario"] == "synthetic"
    assert fp["environment"]["cpu_model"] == "Synthetic CPU"
    assert fp["machine"]["cores"] == os.cpu_count()
    assert (bdir / "results" / "points" / "epoll" / "c100" / "rep8.json").exists()
    assert run("check", same, "--dir", bdir)[0] == 0
    # A stored baseline is a separate run: the synthetic folders have no offset between runs.
    status, out, _ = run("check", slow, "--dir", bdir, "--aa-spread", "0", "--markdown", tmp_path / "s.md")
    assert status == 1 and "REGRESSION" in out
    assert "REGRESSION" in (tmp_path / "s.md").read_text()
    status, out, _ = run("show", "--dir", bdir)
    assert status == 0 and "scenario synthetic" in out


def test_save_replaces_the_previous_baseline(tmp_path):
    old = synthetic.make_results(str(tmp_path), "old", 1, concurrency=(10, 100, 1000))
    new = synthetic.make_results(str(tmp_path), "new", 2, concurrency=(10,))
    bdir = tmp_path / "b"
    assert run("save", old, "--dir", bdir)[0] == 0
    assert run("save", new, "--dir", bdir)[0] == 0
    assert not (bdir / "results" / "points" / "epoll" / "c1000").exists()
    assert [p for p in os.listdir(tmp_path) if ".tmp" in p or ".old" in p] == []


def test_environment_difference_is_warned(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1)
    other = synthetic.make_results(str(tmp_path), "other", 2,
                                   env=synthetic.environment(kernel="5.10.0-other"))
    bdir = tmp_path / "b"
    run("save", base, "--dir", bdir)
    status, out, _ = run("check", other, "--dir", bdir)
    assert status == 0
    assert "environment differs: kernel: baseline '6.0.0-test', candidate '5.10.0-other'" in out


def test_default_directory_is_named_after_the_scenario(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1)
    status, _, err = run("show")
    # No argument: show looks at baselines/ci of the repository; it either exists or is a clear error.
    assert status in (0, 2) and "Traceback" not in err
    status, _, err = run("check", base, "--dir", tmp_path / "nothing-here")
    assert status == 2 and "fingerprint.json does not exist" in err


def test_instruction_counts_in_the_baseline(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1)
    same = synthetic.make_results(str(tmp_path), "same", 2)
    bdir = tmp_path / "b"
    assert run("save", base, "--dir", bdir, "--insn", insn_report(tmp_path / "i0.json", 15000.0))[0] == 0
    assert (bdir / "insn.json").exists()
    # Same wall clock, 0.5 % more instructions: within the 1 % tolerance.
    status, out, _ = run("check", same, "--dir", bdir, "--insn", insn_report(tmp_path / "i1.json", 15075.0))
    assert status == 0 and "PASS: every target within 1.0%" in out
    # 2 % more instructions in the server: an instruction-count regression alone fails the check.
    status, out, _ = run("check", same, "--dir", bdir, "--insn", insn_report(tmp_path / "i2.json", 15300.0),
                         "--markdown", tmp_path / "s.md")
    assert status == 1 and "server-epoll" in out and "REGRESSION" in out
    md = (tmp_path / "s.md").read_text()
    assert "## Performance check" in md and "## Instruction counts" in md


def test_insn_check_without_an_insn_baseline_is_an_error(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1)
    bdir = tmp_path / "b"
    run("save", base, "--dir", bdir)
    status, _, err = run("check", base, "--dir", bdir, "--insn", insn_report(tmp_path / "i.json", 1.0))
    assert status == 2 and "no instruction-count baseline" in err


def test_save_rejects_a_non_results_folder(tmp_path):
    (tmp_path / "junk").mkdir()
    status, _, err = run("save", tmp_path / "junk", "--dir", tmp_path / "b")
    assert status == 2 and "manifest.json" in err
    assert not (tmp_path / "b").exists()


def test_compare_accepts_a_saved_baseline_directory(tmp_path):
    base = synthetic.make_results(str(tmp_path), "base", 1)
    slow = synthetic.make_results(str(tmp_path), "slow", 3, slowdown=1.3)
    bdir = tmp_path / "b"
    run("save", base, "--dir", bdir)
    p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "compare.py"), str(bdir), slow,
                        "--aa-spread", "0"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and f"baseline {bdir}/results" in p.stdout
