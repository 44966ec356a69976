"""What a verdict of `c10k compare` means: quick runs refused, folders from separate runs judged
against this machine's A/A spread (and said to be so, with each folder's machine load), interleaved
folders against the threshold alone; `c10k gate calibrate` measures the spread."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from perfcheck import synthetic  # noqa: E402
from perfcheck.compare import DEFAULT_AA_SPREAD  # noqa: E402

C10K = os.path.join(ROOT, "bin", "c10k")


def c10k(*args):
    p = subprocess.run([sys.executable, C10K, *map(str, args)], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def interleaved(path, side, session="s1"):
    """Marks a folder as interleaved_ab.py does: both sides of one session share its id."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["interleaved"] = {"side": side, "session": session, "rounds": manifest["scenario"]["repeats"],
                               "order": [], "bin_dir": "x", "loadgen": "x", "env": {}}
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_quick_runs_are_refused_unless_allowed(tmp_path):
    a = synthetic.make_results(str(tmp_path), "a", 1, quick=True)
    b = synthetic.make_results(str(tmp_path), "b", 2, quick=True)
    status, out, err = c10k("compare", a, b)
    assert status == 2 and out == ""
    assert f"baseline {a} and candidate {b} were run with --quick" in err
    assert "--allow-quick" in err and "Traceback" not in err
    status, out, _ = c10k("compare", a, b, "--allow-quick")
    assert status == 0 and "PASS" in out


def test_separate_runs_within_the_aa_spread_pass_and_say_why(tmp_path):
    # One build, two separate runs a whole-run offset of 30 % apart (what a busy neighbour does):
    # the test finds it significant, as it found the 0.69x of two back-to-back quick runs.
    offset = 0.26  # log(1.30)
    assert DEFAULT_AA_SPREAD["cpu_per_request"] > 0.30
    a = synthetic.make_results(str(tmp_path), "a", 1, machine_load=0.05)
    b = synthetic.make_results(str(tmp_path), "b", 2, run_offset=offset, machine_load=0.9)
    status, out, _ = c10k("compare", a, b, "--aa-spread", "0")
    assert status == 1 and "FAIL" in out  # the verdict without the rule: a false alarm
    status, out, err = c10k("compare", a, b)
    assert status == 0, out + err
    assert "worse, within threshold" in out and "REGRESSION" not in out
    assert "note: NOT interleaved" in out
    assert "Machine load: baseline 0.05 cores busy with other work" in out
    assert "candidate 0.90 cores busy with other work" in out
    assert "warning: the machine was busy" in out
    assert "rule for separate runs: a row is a regression only when it is significant AND worse by more " \
           "than the threshold or this machine's A/A spread" in out
    assert "c10k gate ab" in out


def test_separate_runs_beyond_the_aa_spread_still_fail(tmp_path):
    a = synthetic.make_results(str(tmp_path), "a", 1)
    b = synthetic.make_results(str(tmp_path), "b", 2, slowdown=1.5)
    assert c10k("compare", a, b, "--aa-spread", "60%")[0] == 0
    status, out, _ = c10k("compare", a, b, "--aa-spread", "40%", "--json", tmp_path / "r.json")
    assert status == 1 and "REGRESSION" in out and "Machine load: baseline not recorded" in out
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["design"] == "separate runs" and doc["thresholds"]["throughput"] == 0.4
    assert doc["machine_load"] == {"baseline": None, "candidate": None}
    status, _, err = c10k("compare", a, b, "--aa-spread-for", "speed=5%")
    assert status == 2 and "unknown metric" in err


def test_interleaved_folders_are_judged_by_the_threshold_alone(tmp_path):
    a = synthetic.make_results(str(tmp_path), "a", 1)
    b = synthetic.make_results(str(tmp_path), "b", 2, slowdown=1.3)
    interleaved(tmp_path / "a", "baseline")
    interleaved(tmp_path / "b", "candidate")
    status, out, _ = c10k("compare", a, b, "--json", tmp_path / "r.json")
    assert status == 1 and "REGRESSION" in out
    assert "note: interleaved: both builds ran in one session" in out and "NOT interleaved" not in out
    assert json.loads((tmp_path / "r.json").read_text())["thresholds"]["throughput"] == 0.05


def test_calibrate_measures_the_spread_that_silences_the_same_runs(tmp_path):
    runs = [synthetic.make_results(str(tmp_path), f"r{i}", i, run_offset=off)
            for i, off in enumerate((0.0, 0.18, -0.05))]  # separate runs up to 1.26x apart
    status, out, err = c10k("gate", "calibrate", *runs)
    assert status == 0, err
    assert out.startswith("4 comparisons of separate runs of one build")
    spread = {line.split()[0]: float(line.split()[1].rstrip("%")) / 100
              for line in out.splitlines() if line.split()[0] in DEFAULT_AA_SPREAD}
    assert 0.20 < spread["cpu_per_request"] < 0.40  # r1 vs r2: exp(0.23) = 1.26, and the noise
    flags = out.splitlines()[-1].split("c10k compare A B ")[1].split()
    for a, b in zip(runs, runs[1:]):
        assert c10k("compare", a, b, *flags)[0] == 0
        assert c10k("compare", b, a, *flags)[0] == 0
        assert c10k("compare", a, b, "--aa-spread", "0")[0] == 1 or c10k("compare", b, a, "--aa-spread", "0")[0] == 1
    assert c10k("gate", "calibrate", runs[0])[0] == 2


@pytest.mark.parametrize("kind", ["ab", "insn", "syscalls", "calibrate"])
def test_every_gate_is_reachable_from_c10k(kind):
    status, out, _ = c10k("gate", kind, "--help")
    assert status == 0 and out.startswith(f"usage: c10k gate {kind}")


def test_gate_help_says_when_to_use_which():
    status, out, _ = c10k("gate", "--help")
    assert status == 0
    for kind in ("ab ", "insn ", "syscalls ", "calibrate "):
        assert f"\n  {kind}" in out
    assert "interleaved" in out and "A/A spread" in out
    # The wall-clock verdict misses one extra system call per request in part of its sessions on a
    # shared machine, so the interleaved gate counts the calls too, and the help says so.
    assert "one more call per request fails it every time" in " ".join(out.split())
    status, _, err = c10k("gate", "wall")
    assert status == 2 and "unknown gate 'wall'" in err
