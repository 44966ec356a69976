#!/usr/bin/env python3
"""Measure the gates' error rates and costs; prints a Markdown summary (the validation figures).

  scripts/ci/validate-gates.sh [--sessions 10] [--slowdown 10] [--quick] [--out DIR] ...

1. Calibration: how many nanoseconds one iteration of the slowdown shim costs natively (server-epoll
   at c=1 with and without a large count, interleaved), so "a 10 % slower server" is a known amount.
2. A/A: SESSIONS interleaved runs of the ci scenario with the same build on both sides: false alarms.
   Also the naive way: each session's baseline against the next session's candidate (separate runs).
3. A/B: SESSIONS interleaved runs where the candidate's servers are slowed by SLOWDOWN % of their
   CPU per request at the scenario's highest concurrency (the busy server): detections.
4. Instruction counts: the run-to-run spread of instructions per request over INSN_RUNS runs, then
   injected slowdowns of 0.25-3 % (shim, deterministic) checked INSN_TRIALS times each: the smallest
   one caught every time.
5. Wall time of the whole check (scripts/ci/perf-check.sh, interleaved, both gates).

Needs a quiet machine: every other load on the 2 cores is noise the A/A figure will count.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from perfcheck import PerfCheckError, insn, interleave, slowdown, stats  # noqa: E402
from perfcheck.compare import Options, compare  # noqa: E402
from perfcheck.metrics import METRICS  # noqa: E402
from perfcheck.results import Results  # noqa: E402

PY = sys.executable
CALIBRATION_ITERS = 5000


def log(msg):
    print(f"[validate {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def write_scenario(path, doc):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
    return path


def calibrate_ns_per_iter(bin_dir, workdir, rounds):
    """ns of server CPU per shim iteration, from server-epoll at c=1 (no batching effects)."""
    scen = write_scenario(os.path.join(workdir, "calibrate.json"), {
        "schema_version": 1, "name": "calibrate", "description": "slowdown shim calibration",
        "loadgen": {"keepalive": True, "duration_s": 1, "warmup_s": 0.2, "timeout_s": 5},
        "series": ["epoll"], "concurrency": [1], "repeats": 1})
    base = interleave.Side("baseline", bin_dir)
    slow = interleave.Side("candidate", bin_dir,
                           slowdown.env_per_program({"server-epoll": CALIBRATION_ITERS}))
    bdir, cdir = interleave.run(scen, base, slow, os.path.join(workdir, "calibration"), rounds=rounds)
    cpu = {}
    for name, folder in (("base", bdir), ("slow", cdir)):
        reps = Results(folder).ok_reps(("epoll", 1))
        values = [r["server_usage"]["cpu_per_request_us"] for r in reps
                  if r.get("server_usage", {}).get("cpu_per_request_us") is not None]
        if not values:
            raise PerfCheckError(f"calibration: no CPU figures in {folder}")
        cpu[name] = stats.median(values)
    ns = (cpu["slow"] - cpu["base"]) * 1000 / CALIBRATION_ITERS
    if ns <= 0:
        raise PerfCheckError(f"calibration failed: CPU per request {cpu['base']:.2f} us without the "
                             f"shim, {cpu['slow']:.2f} us with {CALIBRATION_ITERS} iterations")
    return ns, cpu


def scenario_series(scenario_file, quick):
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    from c10k import scenario as scen  # the runner's validator expands series and sweeps
    doc = scen.load(scenario_file, quick=quick)
    return [(s["name"], s["server"], max(s["concurrency"])) for s in doc["series"]]


def run_sessions(kind, n, scenario_file, bin_dir, cand_env, workdir, quick, options):
    """n interleaved sessions; returns [{seconds, failed, regressions, baseline, candidate}]."""
    out = []
    for i in range(1, n + 1):
        log(f"{kind} session {i}/{n}")
        t0 = time.monotonic()
        bdir, cdir = interleave.run(
            scenario_file, interleave.Side("baseline", bin_dir),
            interleave.Side("candidate", bin_dir, cand_env),
            os.path.join(workdir, f"{kind}-{i}"), quick=quick)
        seconds = time.monotonic() - t0
        cmp = compare(Results(bdir), Results(cdir), options)
        out.append({"seconds": seconds, "failed": cmp.failed, "baseline": bdir, "candidate": cdir,
                    "regressions": [f"{r.point[0]} c={r.point[1]} {r.metric.key} x{r.ratio:.3f}"
                                    for r in cmp.regressions],
                    "failures": cmp.failures,
                    "ratios": {f"{r.point[0]} c={r.point[1]} {r.metric.key}": r.ratio
                               for r in cmp.rows if r.ratio is not None}})
        log(f"  {'REGRESSION' if cmp.failed else 'pass'} in {seconds:.0f} s "
            f"{'; '.join(out[-1]['regressions'])}")
    return out


def separate_runs(sessions, options):
    """Naive comparisons: session i's baseline folder against session i+1's candidate folder."""
    results = []
    for a, b in zip(sessions, sessions[1:]):
        cmp = compare(Results(a["baseline"]), Results(b["candidate"]), options)
        results.append(cmp.failed)
    return results


def insn_measure(bin_dir, runs, out, slowdown_args=(), quiet=True):
    argv = [PY, os.path.join(ROOT, "scripts", "insn_gate.py"), "measure", "--bin-dir", bin_dir,
            "--runs", str(runs), "--out", out, *slowdown_args]
    if quiet:
        argv.append("--quiet")
    p = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    if p.returncode != 0:
        raise PerfCheckError(f"insn_gate.py measure failed:\n{p.stderr[-2000:]}")
    return insn.load_report(out)


def insn_validation(bin_dir, workdir, runs, trials, levels):
    """Spread over `runs` runs, then detection of injected slowdowns over `trials` each.

    Each level (percent of a target's instructions per request) becomes a shim iteration count
    from a two-point cost model (the shim's wrapper is a fixed cost, each iteration a slope); the
    increase actually injected is measured and reported, since the wrapper sets a floor (~10
    instructions per write: 0.3 % of a server request, 1.4 % of a loadgen request).
    """
    log(f"instruction counts: {runs} runs of the unchanged build")
    t0 = time.monotonic()
    base = insn_measure(bin_dir, runs, os.path.join(workdir, "insn-base.json"))
    one_run_s = (time.monotonic() - t0) / runs
    spread = {name: {"median": t["insn_per_request"], "min": t["min_insn_per_request"],
                     "max": t["max_insn_per_request"], "spread": t["spread"]}
              for name, t in base["targets"].items()}
    model = {}
    for iters in (0, 40):
        rep = insn_measure(bin_dir, 1, os.path.join(workdir, f"insn-cal{iters}.json"),
                           ["--slowdown-iters", str(iters), "--loadgen-slowdown-iters", str(iters)])
        for name, t in rep["targets"].items():
            model.setdefault(name, {})[iters] = t["insn_per_request"]
    results = {name: [] for name in model}
    for level in levels:
        iters = {}
        for name, m in model.items():
            slope = (m[40] - m[0]) / 40
            fixed = m[0] - base["targets"][name]["insn_per_request"]
            want = level / 100 * base["targets"][name]["insn_per_request"]
            iters[name] = max(0, round((want - fixed) / slope)) if slope > 0 else 0
        for k in range(trials):
            log(f"instruction counts: level {level}% (iterations {iters}), trial {k + 1}/{trials}")
            cand = insn_measure(bin_dir, 1, os.path.join(workdir, f"insn-{level}-{k}.json"),
                                ["--slowdown-iters", str(iters.get("server-epoll", 0)),
                                 "--loadgen-slowdown-iters", str(iters.get("loadgen", 0))])
            rows, _ = insn.check(base, cand, insn.DEFAULT_TOLERANCE)
            for r in rows:
                results[r["target"]].append({"level_pct": level, "iters": iters[r["target"]],
                                             "injected_pct": 100 * (r["ratio"] - 1),
                                             "caught": r["verdict"] == "REGRESSION"})
    per_target = {}
    for name, items in results.items():
        by_iters = {}
        for it in items:
            entry = by_iters.setdefault(it["iters"], {"injected": [], "trials": 0, "caught": 0})
            entry["injected"].append(it["injected_pct"])
            entry["trials"] += 1
            entry["caught"] += it["caught"]
        injections = {}
        for iters, e in sorted(by_iters.items()):
            injections[iters] = {"injected_pct": stats.median(e["injected"]),
                                 "min_pct": min(e["injected"]), "max_pct": max(e["injected"]),
                                 "trials": e["trials"], "caught": e["caught"]}
        always = [e["max_pct"] for e in injections.values() if e["caught"] == e["trials"]]
        missed = [e["min_pct"] for e in injections.values() if e["caught"] < e["trials"]]
        per_target[name] = {"injections": injections,
                            "smallest_always_caught_pct": min(always) if always else None,
                            "largest_missed_pct": max(missed) if missed else None}
    return {"runs": runs, "spread": spread, "targets": per_target, "trials": trials,
            "one_run_s": one_run_s}


def time_perf_check(bin_dir, workdir, quick):
    log("wall time of scripts/ci/perf-check.sh (interleaved A/B, both gates)")
    argv = [os.path.join(HERE, "perf-check.sh"), "--baseline-bin", bin_dir, "--candidate-bin", bin_dir,
            "--out", os.path.join(workdir, "perf-check")]
    if quick:
        argv.append("--quick")
    t0 = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    seconds = time.monotonic() - t0
    if p.returncode not in (0, 1):
        raise PerfCheckError(f"perf-check.sh exited {p.returncode}:\n{p.stderr[-3000:]}")
    return seconds, p.returncode


def fmt_pct(x):
    return f"{100 * x:+.1f} %"


def summary(args, data):
    out = ["# Performance gates: validation", "",
           f"Machine: {data['machine']}. Scenario `{args.scenario}`"
           f"{' (quick settings)' if args.quick else ''}; compare defaults (alpha {args.alpha} "
           f"family-wise by Westfall-Young maxT, threshold {args.threshold:.0%}); "
           f"{args.sessions} session(s) each.", ""]
    aa, ab = data.get("aa"), data.get("ab")
    out += ["| figure | measured | goal |", "|---|---|---|"]
    if aa is not None:
        fa = sum(s["failed"] for s in aa)
        out.append(f"| A/A false alarms, interleaved | {fa} of {len(aa)} | <= 1 in 10 |")
        if data.get("aa_separate") is not None:
            sep = data["aa_separate"]
            out.append(f"| A/A false alarms, separate runs (naive) | {sum(sep)} of {len(sep)} | (for contrast) |")
    if ab is not None:
        det = sum(s["failed"] for s in ab)
        out.append(f"| A/B {args.slowdown:g} % slower servers detected | {det} of {len(ab)} | >= 9 in 10 |")
    ins = data.get("insn")
    if ins:
        worst = max(t["spread"] for t in ins["spread"].values())
        out.append(f"| instructions/request, run-to-run spread (worst target, {ins['runs']} runs) "
                   f"| {100 * worst:.3f} % | < 0.5 % |")
        parts = []
        for name, t in ins["targets"].items():
            s_ = t["smallest_always_caught_pct"]
            parts.append(f"{name} {'%.2f %%' % s_ if s_ is not None else 'none'}"
                         + (f" (largest missed {t['largest_missed_pct']:.2f} %)"
                            if t["largest_missed_pct"] is not None else ""))
        out.append(f"| smallest injected instruction increase caught every time | {'; '.join(parts)} | <= 2 % |")
    if data.get("wall"):
        w = data["wall"]
        out.append(f"| wall time, perf-check.sh (ci scenario interleaved A/B + both gates) | "
                   f"{w['perf_check_s']:.0f} s | ci scenario <= 3 min |")
        if w.get("session_median_s"):
            out.append(f"| wall time, one interleaved A/B session of the ci scenario | "
                       f"{w['session_median_s']:.0f} s | |")
        if w.get("insn_one_run_s"):
            out.append(f"| wall time, one instruction-count measurement (all targets) | "
                       f"{w['insn_one_run_s']:.0f} s | |")
    if data.get("calibration"):
        c = data["calibration"]
        out += ["", f"Slowdown calibration: one shim iteration costs {c['ns_per_iter']:.3f} ns of server "
                    f"CPU (server-epoll c=1: {c['cpu']['base']:.2f} us/request without, "
                    f"{c['cpu']['slow']:.2f} us with {CALIBRATION_ITERS} iterations). Injected per "
                    f"request: " + ", ".join(f"{k} {v} iterations ({c['target_us'][k]:.2f} us = "
                                             f"{args.slowdown:g} % of {c['cost_us'][k]:.2f} us)"
                                             for k, v in c["iters"].items()) + "."]
    for title, sessions in (("A/A sessions", aa), (f"A/B sessions ({args.slowdown:g} % slower)", ab)):
        if not sessions:
            continue
        out += ["", f"## {title}", "", "| session | verdict | seconds | regressions flagged |",
                "|---:|---|---:|---|"]
        for i, s in enumerate(sessions, 1):
            out.append(f"| {i} | {'REGRESSION' if s['failed'] else 'pass'} | {s['seconds']:.0f} | "
                       f"{'; '.join(s['regressions'] + s['failures']) or '-'} |")
        keys = sorted({k for s in sessions for k in s["ratios"]})
        out += ["", "Median over sessions of the candidate/baseline ratio of medians, with the range:", "",
                "| point and metric | median ratio | min | max |", "|---|---:|---:|---:|"]
        for k in keys:
            v = [s["ratios"][k] for s in sessions if k in s["ratios"]]
            out.append(f"| {k} | {stats.median(v):.3f} | {min(v):.3f} | {max(v):.3f} |")
    if ins:
        out += ["", "## Instruction counts", "", "| target | median insn/request | min | max | spread |",
                "|---|---:|---:|---:|---:|"]
        for name, t in ins["spread"].items():
            out.append(f"| {name} | {t['median']:,.1f} | {t['min']:,.1f} | {t['max']:,.1f} | "
                       f"{100 * t['spread']:.3f} % |")
        out += ["", f"Injected slowdowns (shim; tolerance {insn.DEFAULT_TOLERANCE:.0%}):", "",
                "| target | shim iterations | measured increase (median, range) | caught |",
                "|---|---:|---:|---:|"]
        for name, t in ins["targets"].items():
            for iters, e in t["injections"].items():
                out.append(f"| {name} | {iters} | {e['injected_pct']:.2f} % ({e['min_pct']:.2f}-"
                           f"{e['max_pct']:.2f}) | {e['caught']}/{e['trials']} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description="Measure the performance gates' error rates and costs.")
    p.add_argument("--bin-dir", help="binaries to use (default: build this checkout with scripts/build.sh)")
    p.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "ci.json"))
    p.add_argument("--sessions", type=int, default=10, help="A/A and A/B sessions each (default 10)")
    p.add_argument("--slowdown", type=float, default=10.0, help="injected A/B slowdown in percent (default 10)")
    p.add_argument("--quick", action="store_true", help="the scenario's quick settings (a smoke test)")
    p.add_argument("--calibration-rounds", type=int, default=4)
    p.add_argument("--insn-runs", type=int, default=10, help="runs for the instruction spread (default 10)")
    p.add_argument("--insn-trials", type=int, default=5, help="trials per injected level (default 5)")
    p.add_argument("--insn-levels", default="0.25,0.5,1,1.5,2,3",
                   help="injected instruction slowdowns in percent (default %(default)s)")
    p.add_argument("--skip", default="", help="comma list of parts to skip: aa,ab,insn,wall")
    p.add_argument("--out", default=os.path.join(ROOT, "results", "validate-" + time.strftime("%Y%m%d-%H%M%S")))
    p.add_argument("--alpha", type=float, default=0.05)
    p.add_argument("--threshold", type=float, default=0.05)
    args = p.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    unknown = skip - {"aa", "ab", "insn", "wall"}
    if unknown:
        p.error(f"--skip: unknown part(s) {', '.join(sorted(unknown))}")
    try:
        levels = [float(x) for x in args.insn_levels.split(",") if x.strip()]
    except ValueError:
        p.error("--insn-levels wants comma-separated percentages")
    if args.sessions < 1 or args.insn_runs < 1 or args.insn_trials < 1:
        p.error("--sessions, --insn-runs and --insn-trials must be >= 1")

    os.makedirs(args.out, exist_ok=True)
    bin_dir = args.bin_dir
    if not bin_dir:
        log("building (scripts/build.sh)")
        subprocess.run([os.path.join(ROOT, "scripts", "build.sh")], check=True, stdout=subprocess.DEVNULL)
        bin_dir = os.path.join(ROOT, "build", "bin")
    bin_dir = os.path.abspath(bin_dir)
    options = Options(alpha=args.alpha, threshold=args.threshold, metrics=METRICS, allow_quick=args.quick)
    from perfcheck.environment import fingerprint
    fp = fingerprint(ROOT)
    data = {"machine": f"{fp['cpu_model']}, {fp['cores']} cores, kernel {fp['kernel']}, "
                       f"load average at start {os.getloadavg()[0]:.2f}", "args": vars(args)}
    t_start = time.monotonic()
    try:
        if "aa" not in skip:
            data["aa"] = run_sessions("aa", args.sessions, args.scenario, bin_dir, {}, args.out,
                                      args.quick, options)
            data["aa_separate"] = separate_runs(data["aa"], options) if len(data["aa"]) > 1 else None
        if "ab" not in skip:
            log("calibrating the slowdown shim")
            ns, cpu = calibrate_ns_per_iter(bin_dir, args.out, args.calibration_rounds)
            # The servers' CPU per request at the highest concurrency, from the A/A sessions when
            # there are some (else a quick interleaved A/A), is what "x % slower" is relative to.
            ref = data.get("aa") or run_sessions("reference", 1, args.scenario, bin_dir, {}, args.out,
                                                 args.quick, options)
            cost, iters, target = {}, {}, {}
            for series, server, conc in scenario_series(args.scenario, args.quick):
                values = [r["server_usage"]["cpu_per_request_us"] for s in ref
                          for r in Results(s["baseline"]).ok_reps((series, conc))
                          if r.get("server_usage", {}).get("cpu_per_request_us") is not None]
                if not values:
                    raise PerfCheckError(f"no CPU per request for {series} c={conc} to calibrate against")
                prog = f"server-{server}"
                cost[prog] = stats.median(values)
                target[prog] = cost[prog] * args.slowdown / 100
                iters[prog] = max(1, round(target[prog] * 1000 / ns))
            data["calibration"] = {"ns_per_iter": ns, "cpu": cpu, "cost_us": cost, "iters": iters,
                                   "target_us": target}
            env = slowdown.env_per_program(iters)
            data["ab"] = run_sessions("ab", args.sessions, args.scenario, bin_dir, env, args.out,
                                      args.quick, options)
        if "insn" not in skip:
            data["insn"] = insn_validation(bin_dir, args.out, args.insn_runs, args.insn_trials, levels)
        if "wall" not in skip:
            seconds, rc = time_perf_check(bin_dir, args.out, args.quick)
            sessions = (data.get("aa") or []) + (data.get("ab") or [])
            data["wall"] = {"perf_check_s": seconds, "perf_check_exit": rc,
                            "session_median_s": stats.median([s["seconds"] for s in sessions]) if sessions else None,
                            "insn_one_run_s": (data.get("insn") or {}).get("one_run_s")}
    except PerfCheckError as e:
        log(f"error: {e}")
        return 2
    finally:
        with open(os.path.join(args.out, "validation.json"), "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, default=str)
    text = summary(args, data) + f"\nTotal validation time: {(time.monotonic() - t_start) / 60:.1f} min.\n"
    with open(os.path.join(args.out, "validation.md"), "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    log(f"summary: {os.path.join(args.out, 'validation.md')}")
    return 0


if __name__ == "__main__":
    if not shutil.which("valgrind"):
        print("warning: valgrind missing: the instruction-count part will fail", file=sys.stderr)
    sys.exit(main())
