"""Interleaved A/B runs: the baseline and the candidate build take turns in one session.

Repeated runs of the same build here differ by 15-20 % from one run to the next, mostly as a
run-level offset (what else the machine does, where the kernel put things). Two folders measured
minutes apart inherit different offsets, and no test on their repetitions can tell that offset
from a regression. Alternating the builds round by round (A B, B A, A B, ...) gives both the same
share of every slow or fast stretch, so their difference is the builds' difference.

Each round runs the whole scenario once per build with repeats = 1 (scripts/run_scenario.py,
fresh server per point); the rounds are then merged into two ordinary results folders, one per
side, with rep<k>.json = round k, so scripts/compare.py reads them like any other run.

The measuring instrument is held fixed: by default both sides use the candidate build's loadgen
(loadgen_from="candidate"), so a change to the loadgen in the candidate cannot pass for a change in
the servers. "own" lets each side use its own loadgen.
"""
import copy
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

from c10k import results

from . import PerfCheckError
from .results import Results, read_json

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "scripts", "run_scenario.py")
SIDES = ("baseline", "candidate")


class Side:
    def __init__(self, name, bin_dir, env=None):
        if name not in SIDES:
            raise ValueError(name)
        self.name, self.bin_dir, self.env = name, bin_dir, dict(env or {})
        self.run_bin_dir = bin_dir  # what the runner gets (may hold another side's loadgen)
        self.loadgen = os.path.join(bin_dir, "loadgen")


def _with_loadgen(side, loadgen, workdir):
    """A bin dir of symlinks: the side's servers, the given loadgen."""
    if os.path.realpath(loadgen) == os.path.realpath(os.path.join(side.bin_dir, "loadgen")):
        return side.bin_dir
    if not os.access(loadgen, os.X_OK):
        raise PerfCheckError(f"{loadgen}: no loadgen to measure with")
    mixed = os.path.join(workdir, f"bin-{side.name}")
    os.makedirs(mixed)
    for name in os.listdir(side.bin_dir):
        if name != "loadgen":
            os.symlink(os.path.abspath(os.path.join(side.bin_dir, name)), os.path.join(mixed, name))
    os.symlink(os.path.abspath(loadgen), os.path.join(mixed, "loadgen"))
    return mixed


def one_round_scenario(scenario_path, workdir):
    """A copy of the scenario with repeats = 1 (the rounds provide the repetitions)."""
    doc = read_json(scenario_path, "scenario")
    if not isinstance(doc, dict):
        raise PerfCheckError(f"{scenario_path}: a scenario must be a JSON object")
    doc = copy.deepcopy(doc)
    repeats = doc.get("repeats", 1)
    quick_repeats = (doc.get("quick") or {}).get("repeats", repeats)
    doc["repeats"] = 1
    if isinstance(doc.get("quick"), dict):
        doc["quick"]["repeats"] = 1
    path = os.path.join(workdir, os.path.basename(scenario_path))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return path, repeats, quick_repeats


def _run_once(scenario_file, side, out_dir, quick, timeout_s, log):
    argv = [sys.executable, RUNNER, scenario_file, "--out", out_dir, "--bin-dir", side.run_bin_dir,
            "--no-build", "--no-plots", "--no-progress"]
    if quick:
        argv.append("--quick")
    env = dict(os.environ)
    env.pop("C10K_BIN_DIR", None)
    env.update(side.env)
    os.makedirs(out_dir, exist_ok=True)
    try:
        p = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise PerfCheckError(f"{side.name} round did not finish within {timeout_s:.0f} s") from None
    folders = [os.path.join(out_dir, d) for d in os.listdir(out_dir)
               if os.path.isfile(os.path.join(out_dir, d, "manifest.json"))]
    if p.returncode != 0 or len(folders) != 1:
        raise PerfCheckError(f"run_scenario.py for the {side.name} exited {p.returncode}:\n"
                             f"{p.stdout[-3000:]}")
    if log:
        log(f"  {side.name}: {folders[0]}")
    return folders[0]


def merge_rounds(folders, dest_parent, side, order, session=None):
    """Round folders (each with rep1 per point) -> one results folder with rep<k> = round k."""
    first = Results(folders[0])
    manifest = copy.deepcopy(first.manifest)
    manifest["scenario"]["repeats"] = len(folders)
    runs, skipped, warnings = [], {}, {}
    for k, folder in enumerate(folders, 1):
        res = Results(folder)
        if res.scenario != {**first.scenario}:
            raise PerfCheckError(f"round {k} ran a different scenario than round 1")
        runs.extend(res.manifest.get("runs", []))
        for p in res.manifest.get("skipped_points", []):
            skipped[(p.get("series"), p.get("concurrency"))] = p
        for w in res.manifest.get("warnings", []):
            warnings[(w.get("series"), w.get("concurrency"))] = w
    manifest["runs"] = runs
    manifest["skipped_points"] = list(skipped.values())
    manifest["warnings"] = list(warnings.values())
    manifest["started"] = first.manifest.get("started")
    manifest["finished"] = Results(folders[-1]).manifest.get("finished")
    # session: the same id on both sides of one session, so compare pairs round k of each side
    # only when the two folders really were measured together.
    manifest["interleaved"] = {"side": side.name, "session": session,
                               "rounds": len(folders), "order": order,
                               "bin_dir": side.bin_dir, "loadgen": side.loadgen, "env": side.env}
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = os.path.join(dest_parent, side.name, f"{first.scenario_name}-{stamp}")
    if os.path.exists(dest):
        raise PerfCheckError(f"{dest} already exists")
    os.makedirs(os.path.join(dest, "points"))
    for k, folder in enumerate(folders, 1):
        res = Results(folder)
        for (series, conc), reps in res.points.items():
            for rep in reps:
                doc = dict(rep, repetition=k, interleaved_round=k)
                results.write_json_atomic(results.rep_path(dest, series, conc, k), doc)
    results.write_json_atomic(os.path.join(dest, "manifest.json"), manifest)
    return dest


def run(scenario_path, baseline, candidate, out_dir, rounds=None, quick=False, log=None,
        round_timeout_s=900, loadgen_from="candidate"):
    """Runs the interleaved session; returns (baseline folder, candidate folder)."""
    if not os.path.exists(RUNNER):
        raise PerfCheckError(f"{RUNNER} is missing (the scenario runner)")
    if loadgen_from not in ("candidate", "baseline", "own"):
        raise PerfCheckError(f"loadgen_from must be candidate, baseline or own, got {loadgen_from!r}")
    for side in (baseline, candidate):
        if not os.path.isdir(side.bin_dir):
            raise PerfCheckError(f"{side.name} bin dir {side.bin_dir} does not exist")
    workdir = tempfile.mkdtemp(prefix="c10k-ab-")
    try:
        if loadgen_from != "own":
            source = candidate if loadgen_from == "candidate" else baseline
            for side in (baseline, candidate):
                side.loadgen = os.path.join(source.bin_dir, "loadgen")
                side.run_bin_dir = _with_loadgen(side, side.loadgen, workdir)
        scenario_file, repeats, quick_repeats = one_round_scenario(scenario_path, workdir)
        rounds = rounds or (quick_repeats if quick else repeats)
        if rounds < 1:
            raise PerfCheckError(f"rounds must be >= 1, got {rounds}")
        order, done = [], {s.name: [] for s in (baseline, candidate)}
        t0 = time.monotonic()
        for k in range(1, rounds + 1):
            # A B, B A, A B, ...: a linear drift over the session hits both sides equally.
            sides = (baseline, candidate) if k % 2 else (candidate, baseline)
            order.append([s.name for s in sides])
            if log:
                log(f"round {k}/{rounds} ({' then '.join(s.name for s in sides)}), "
                    f"{time.monotonic() - t0:.0f} s so far")
            for side in sides:
                done[side.name].append(_run_once(
                    scenario_file, side, os.path.join(workdir, side.name, f"round{k}"), quick,
                    round_timeout_s, log))
        session = f"{datetime.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return tuple(merge_rounds(done[s.name], out_dir, s, order, session)
                     for s in (baseline, candidate))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
