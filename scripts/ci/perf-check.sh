#!/usr/bin/env bash
# The CI performance check: runs the `ci` scenario and the three gates, writes the reports.
#
# Usage: scripts/ci/perf-check.sh [mode] [options]
#   Modes (pick one):
#     --baseline-rev REV    build git revision REV as the baseline and run baseline and candidate
#                           interleaved in this session (recommended for pull requests)
#     --baseline-bin DIR    same, with an already built baseline (DIR holds server-* and loadgen)
#     --baseline-dir DIR    compare with a baseline saved by scripts/baseline.py (main-branch runs)
#   Options:
#     --candidate-bin DIR   candidate binaries (default: build this checkout with scripts/build.sh)
#     --candidate-env N=V   environment for the candidate's servers (validation: C10K_EXTRA_WORK_US=1)
#     --save-baseline DIR   afterwards, save this run (results + instruction counts) as a baseline
#     --scenario NAME|FILE  the scenario to run (default ci; e.g. your copy listing your server)
#     --out DIR             reports go here (default perf-report/)
#     --quick               the scenario's quick settings (pipeline smoke test, low power)
#     --no-insn             skip the instruction-count gate
#     --no-syscalls         skip the system-call gate (needs strace)
#     --no-wall             skip the wall-clock gate
#     --                    the rest goes to the compare tool (e.g. --threshold 10%)
#
# Outputs in OUT: report.md (every gate, Markdown; also appended to $GITHUB_STEP_SUMMARY),
# compare.json, bmf.json (Bencher), gab-smaller.json / gab-bigger.json (github-action-benchmark),
# insn-*.json, syscalls-*.json, results/. Exit status: 0 pass, 1 regression in any gate, 2 error.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || py=python3

mode= ; baseline_arg= ; candidate_bin= ; save_dir= ; out="$root/perf-report" ; scenario=ci
quick=() ; allow_quick=() ; insn=1 ; syscalls=1 ; wall=1 ; cand_env=() ; compare_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --baseline-rev|--baseline-bin|--baseline-dir|--candidate-bin|--candidate-env|--save-baseline|--out|--scenario)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "perf-check: $1 needs a value" >&2; exit 2; } ;;
  esac
  case "$1" in
    --baseline-rev|--baseline-bin|--baseline-dir)
      [ -z "$mode" ] || { echo "perf-check: give only one of --baseline-rev/-bin/-dir" >&2; exit 2; }
      mode=${1#--baseline-}; baseline_arg=$2; shift 2 ;;
    --candidate-bin) candidate_bin=$2; shift 2 ;;
    --candidate-env) cand_env+=("$2"); shift 2 ;;
    --save-baseline) save_dir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --scenario) scenario=$2; shift 2 ;;
    --quick) quick=(--quick); allow_quick=(--allow-quick); shift ;;
    --no-insn) insn=0; shift ;;
    --no-syscalls) syscalls=0; shift ;;
    --no-wall) wall=0; shift ;;
    --) shift; compare_args=("$@"); break ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "perf-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$mode" ] || [ -n "$save_dir" ] || { echo "perf-check: give --baseline-rev, --baseline-bin or --baseline-dir (or only --save-baseline)" >&2; exit 2; }

started=$(date +%s)
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d /tmp/c10k-perf-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
log() { echo "perf-check: $*" >&2; }

# --- builds --------------------------------------------------------------------------------
if [ -z "$candidate_bin" ]; then
  log "building the candidate (scripts/build.sh)"
  "$root/scripts/build.sh" >/dev/null || { log "building the candidate failed"; exit 2; }
  candidate_bin="$root/build/bin"
fi
[ -x "$candidate_bin/loadgen" ] || { log "--candidate-bin: no loadgen in $candidate_bin"; exit 2; }
baseline_bin=
case "$mode" in
  rev)
    log "building the baseline revision $baseline_arg"
    mkdir -p "$work/base-src"
    if ! git -C "$root" rev-parse --verify --quiet "$baseline_arg^{commit}" >/dev/null; then
      log "--baseline-rev: '$baseline_arg' is not a commit of this repository"; exit 2
    fi
    git -C "$root" archive --format=tar "$baseline_arg" | tar -x -C "$work/base-src"
    if ! { cmake -S "$work/base-src" -B "$work/base-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/base-build.log" 2>&1 &&
           cmake --build "$work/base-build" -j "$(nproc)" >>"$work/base-build.log" 2>&1; }; then
      tail -n 30 "$work/base-build.log" >&2; log "building the baseline revision failed"; exit 2
    fi
    baseline_bin="$work/base-build/bin" ;;
  bin) baseline_bin=$baseline_arg
       [ -x "$baseline_bin/loadgen" ] || { log "--baseline-bin: no loadgen in $baseline_bin"; exit 2; } ;;
  dir) [ -f "$baseline_arg/fingerprint.json" ] || { log "--baseline-dir: $baseline_arg is not a saved baseline"; exit 2; } ;;
esac

status=0
worst() { if [ "$1" -eq 2 ] || { [ "$1" -eq 1 ] && [ "$status" -ne 2 ]; }; then status=$1; fi; }
: >"$out/report.md"
env_args=()
for e in "${cand_env[@]+"${cand_env[@]}"}"; do env_args+=(--candidate-env "$e"); done
outputs=(--markdown "$out/compare.md" --json "$out/compare.json" --bmf "$out/bmf.json"
         --gab-smaller "$out/gab-smaller.json" --gab-bigger "$out/gab-bigger.json")

# --- wall-clock gate -------------------------------------------------------------------------
results_dir=
if [ "$wall" = 1 ]; then
  if [ -n "$baseline_bin" ]; then
    log "interleaved A/B run of the ci scenario"
    rc=0
    "$py" "$root/scripts/ci/interleaved_ab.py" --scenario "$scenario" --baseline-bin "$baseline_bin" \
      --candidate-bin "$candidate_bin" "${env_args[@]+"${env_args[@]}"}" --out "$out/results" \
      "${quick[@]+"${quick[@]}"}" "${outputs[@]}" "${compare_args[@]+"${compare_args[@]}"}" \
      | tee "$out/compare.txt" || rc=${PIPESTATUS[0]}
    worst "$rc"
    results_dir=$(sed -n 's/^candidate: //p' "$out/compare.txt" | tail -n 1)
  else
    log "run of the $scenario scenario"
    rc=0
    env "${cand_env[@]+"${cand_env[@]}"}" "$py" "$root/scripts/run_scenario.py" "$scenario" --out "$out/results" \
      --bin-dir "$candidate_bin" --no-build --no-plots --no-progress "${quick[@]+"${quick[@]}"}" \
      >"$work/run.txt" || rc=$?
    cat "$work/run.txt" >&2
    results_dir=$(sed -n 's/^results: //p' "$work/run.txt" | tail -n 1)
    if [ "$rc" -ne 0 ] || [ -z "$results_dir" ]; then log "the $scenario scenario failed (exit $rc)"; worst 2; fi
  fi
fi

# --- instruction-count gate ------------------------------------------------------------------
insn_env=()
for e in "${cand_env[@]+"${cand_env[@]}"}"; do insn_env+=(--env "$e"); done
if [ "$insn" = 1 ]; then
  log "counting instructions per request under valgrind (candidate)"
  rc=0
  "$py" "$root/scripts/insn_gate.py" measure --bin-dir "$candidate_bin" "${insn_env[@]+"${insn_env[@]}"}" \
    --out "$out/insn-candidate.json" --bmf "$out/insn-bmf.json" --gab "$out/insn-gab.json" --quiet || rc=$?
  if [ "$rc" -ne 0 ]; then worst 2; insn=0; fi
fi
if [ "$insn" = 1 ] && [ -n "$baseline_bin" ]; then
  log "counting instructions per request under valgrind (baseline)"
  rc=0
  "$py" "$root/scripts/insn_gate.py" measure --bin-dir "$baseline_bin" --out "$out/insn-baseline.json" --quiet || rc=$?
  if [ "$rc" -eq 0 ]; then
    "$py" "$root/scripts/insn_gate.py" check "$out/insn-candidate.json" --baseline "$out/insn-baseline.json" \
      --markdown "$out/insn.md" || rc=$?
  fi
  worst "$rc"
fi

# --- system-call gate ----------------------------------------------------------------------
if [ "$syscalls" = 1 ]; then
  log "counting system calls per request under strace (candidate)"
  rc=0
  "$py" "$root/scripts/syscall_gate.py" measure --bin-dir "$candidate_bin" "${insn_env[@]+"${insn_env[@]}"}" \
    --out "$out/syscalls-candidate.json" --bmf "$out/syscalls-bmf.json" --gab "$out/syscalls-gab.json" --quiet \
    || rc=$?
  if [ "$rc" -ne 0 ]; then worst 2; syscalls=0; fi
fi
syscalls_base=
if [ "$syscalls" = 1 ] && [ -n "$baseline_bin" ]; then
  log "counting system calls per request under strace (baseline)"
  rc=0
  "$py" "$root/scripts/syscall_gate.py" measure --bin-dir "$baseline_bin" --out "$out/syscalls-baseline.json" \
    --quiet || rc=$?
  if [ "$rc" -eq 0 ]; then syscalls_base="$out/syscalls-baseline.json"; else worst 2; fi
elif [ "$syscalls" = 1 ] && [ "$mode" = dir ] && [ -f "$baseline_arg/syscalls.json" ]; then
  syscalls_base="$baseline_arg/syscalls.json"
fi
if [ -n "$syscalls_base" ]; then
  rc=0
  "$py" "$root/scripts/syscall_gate.py" check "$out/syscalls-candidate.json" --baseline "$syscalls_base" \
    --markdown "$out/syscalls.md" || rc=$?
  worst "$rc"
fi

# --- stored baseline -----------------------------------------------------------------------
if [ "$mode" = dir ] && [ -n "$results_dir" ]; then
  rc=0
  insn_opt=()
  if [ "$insn" = 1 ] && [ -f "$baseline_arg/insn.json" ]; then insn_opt=(--insn "$out/insn-candidate.json"); fi
  "$py" "$root/scripts/baseline.py" check "$results_dir" --dir "$baseline_arg" "${insn_opt[@]+"${insn_opt[@]}"}" \
    "${allow_quick[@]+"${allow_quick[@]}"}" "${outputs[@]}" "${compare_args[@]+"${compare_args[@]}"}" \
    | tee "$out/compare.txt" || rc=${PIPESTATUS[0]}
  worst "$rc"
elif [ "$mode" = dir ] && [ "$insn" = 1 ]; then
  rc=0
  "$py" "$root/scripts/insn_gate.py" check "$out/insn-candidate.json" --baseline "$baseline_arg/insn.json" \
    --markdown "$out/insn.md" || rc=$?
  worst "$rc"
fi

if [ -n "$save_dir" ] && [ -n "$results_dir" ]; then
  insn_opt=()
  [ -f "$out/insn-candidate.json" ] && insn_opt=(--insn "$out/insn-candidate.json")
  "$py" "$root/scripts/baseline.py" save "$results_dir" --dir "$save_dir" "${insn_opt[@]+"${insn_opt[@]}"}" || worst 2
  if [ -f "$out/syscalls-candidate.json" ] && [ -d "$save_dir" ]; then
    cp "$out/syscalls-candidate.json" "$save_dir/syscalls.json" || worst 2
  fi
fi

# --- report ----------------------------------------------------------------------------------
elapsed=$(( $(date +%s) - started ))
{
  for f in compare.md insn.md syscalls.md; do [ -f "$out/$f" ] && { cat "$out/$f"; echo; }; done
  case $status in 0) verdict="pass" ;; 1) verdict="REGRESSION" ;; *) verdict="ERROR" ;; esac
  echo "Performance check: **$verdict** (mode: ${mode:-save}, wall time ${elapsed} s)."
} >"$out/report.md"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$out/report.md" >>"$GITHUB_STEP_SUMMARY"; fi
log "report: $out/report.md (exit $status, ${elapsed} s)"
exit "$status"
