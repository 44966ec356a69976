#!/usr/bin/env bash
# The test command: builds, runs the C unit tests (CTest), then the pytest suite against the real
# binaries. Both always run; the exit status is non-zero if either failed. The output ends with
# ctest's summary line and then pytest's.
# Usage: scripts/test.sh [--sanitize | --tsan] [pytest args...]
#   --sanitize  build and test the ASan+UBSan binaries (build-asan/)
#   --tsan      build and test the ThreadSanitizer binaries (build-tsan/); only the tests marked
#               `threads` (the multi-threaded binaries) run, unless pytest args select others
# pytest runs its tests in C10K_TEST_JOBS worker processes (pytest-xdist; default 4, 1 = serially):
# most tests wait on sockets and timers, not on the CPU. Tests that measure CPU time or counts a
# busy neighbour would disturb share one xdist group (`serial`, tests/conftest.py) and run one
# after the other in a single worker.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_flags=()
dir="$root/build"
pytest_select=()
case "${1:-}" in
  --sanitize)
    shift; build_flags+=(--sanitize); dir="$root/build-asan"
    export C10K_SANITIZE=1  # tests that cannot run under ASan (e.g. valgrind) skip on this
    # Any leak or undefined behaviour fails the test that triggered it.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    ;;
  --tsan)
    shift; build_flags+=(--tsan); dir="$root/build-tsan"
    export C10K_SANITIZE=1 C10K_TSAN=1
    # A data race makes the binary exit non-zero (66), which fails the test that ran it.
    export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:exitcode=66:second_deadlock_stack=1}"
    [ $# -eq 0 ] && pytest_select=(-m threads)
    ;;
esac
[ -n "${C10K_WERROR:-}" ] && build_flags+=(--werror)
"$root/scripts/build.sh" "${build_flags[@]}"
export C10K_BIN_DIR="$dir/bin"
status=0
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" || status=1
# Debian's pytest lives with /usr/bin/python3; a pyenv python3 on PATH would not see it.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
jobs=${C10K_TEST_JOBS:-4}
parallel=()
if [ "$jobs" -gt 1 ] && "$py" -c 'import xdist' 2>/dev/null; then
  parallel=(-n "$jobs" --dist loadgroup)
fi
cd "$root"
"$py" -m pytest -q tests "${pytest_select[@]}" "${parallel[@]}" "$@" || status=1
exit "$status"
