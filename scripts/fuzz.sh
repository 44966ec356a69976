#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (fuzz/fuzz_<name>.c) with ASan+UBSan.
# Usage: scripts/fuzz.sh [--list] [--runs N] [TARGET] [SECONDS]
#   --list     print the target names and exit
#   TARGET     one target (default: every target, one after the other)
#   SECONDS    time per target (default 30)
#   --runs N   stop a target after N executions instead (SECONDS still caps the time)
# Seeds come from fuzz/corpus/<target>/ (committed); what the fuzzer finds goes to
# build-fuzz/corpus/<target>/ and a crashing input to build-fuzz/artifacts/<target>/. Reproduce a
# crash with: build-fuzz/fuzz/fuzz_<target> <input>. Exit status: 0 when no target crashed, 1
# otherwise, 2 on bad usage. The last line is a summary of every target run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets=()
for f in "$root"/fuzz/fuzz_*.c; do
  n=${f##*/fuzz_}; targets+=("${n%.c}")
done

usage() { sed -n '3,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
list=0 runs=0 target="" seconds=30
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list=1 ;;
    --runs) [ $# -ge 2 ] && [[ "$2" =~ ^[1-9][0-9]*$ ]] || usage; runs=$2; shift ;;
    -h|--help) usage ;;
    -*) echo "fuzz.sh: unknown option '$1'" >&2; usage ;;
    *)
      if [ -z "$target" ] && ! [[ "$1" =~ ^[0-9]+$ ]]; then
        target=$1
      elif [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
        seconds=$1
      else
        echo "fuzz.sh: bad argument '$1'" >&2; usage
      fi ;;
  esac
  shift
done
if [ "$list" = 1 ]; then
  printf '%s\n' "${targets[@]}"
  exit 0
fi
if [ -n "$target" ]; then
  found=0
  for t in "${targets[@]}"; do [ "$t" = "$target" ] && found=1; done
  if [ "$found" = 0 ]; then
    echo "fuzz.sh: no target '$target' (targets: ${targets[*]})" >&2; exit 2
  fi
  targets=("$target")
fi

[ -n "${C10K_NO_INSTALL:-}" ] || "$root/scripts/install-deps.sh"
dir="$root/build-fuzz"
CC=clang cmake -S "$root" -B "$dir" -DC10K_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$(nproc)" --target fuzzers

failed=() summary=()
for t in "${targets[@]}"; do
  corpus="$dir/corpus/$t" artifacts="$dir/artifacts/$t/"
  mkdir -p "$corpus" "$artifacts"
  args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -artifact_prefix="$artifacts")
  [ "$runs" -gt 0 ] && args+=(-runs="$runs")
  [ -f "$root/fuzz/$t.dict" ] && args+=(-dict="$root/fuzz/$t.dict")
  limit="${seconds}s"; [ "$runs" -gt 0 ] && limit+=", up to $runs runs"
  echo "== fuzz $t: $limit"
  log="$dir/fuzz-$t.log"
  start=$(date +%s)
  rc=0
  # New inputs go to the first directory; the committed seeds are only read.
  "$dir/fuzz/fuzz_$t" "${args[@]}" "$corpus" "$root/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  wall=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  size=$(find "$corpus" "$root/fuzz/corpus/$t" -type f | wc -l)
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    grep -E 'ERROR|SUMMARY|differ|inconsistent|abort|Test unit written' "$log" | head -20 >&2 || true
    echo "fuzz $t: FAILED (exit $rc) after ${wall}s; input in $artifacts; log $log" >&2
    summary+=("$t=CRASH")
  else
    echo "fuzz $t: ${execs:-?} executions in ${wall}s, corpus $size inputs, no crash"
    summary+=("$t=ok(${execs:-?})")
  fi
done
echo "fuzz summary: ${#targets[@]} targets, ${#failed[@]} crashed: ${summary[*]}"
[ ${#failed[@]} -eq 0 ]
