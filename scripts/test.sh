#!/usr/bin/env bash
# The test command: builds, then runs the pytest suite against the real binaries.
# Usage: scripts/test.sh [--sanitize] [pytest args...]
#   --sanitize  build and test the ASan+UBSan binaries (build-asan/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_flags=()
bin="$root/build/bin"
if [ "${1:-}" = "--sanitize" ]; then
  shift; build_flags+=(--sanitize); bin="$root/build-asan/bin"
  export C10K_SANITIZE=1  # tests that cannot run under ASan (e.g. valgrind) skip on this
fi
[ -n "${C10K_WERROR:-}" ] && build_flags+=(--werror)
"$root/scripts/build.sh" "${build_flags[@]}"
export C10K_BIN_DIR="$bin"
# Debian's pytest lives with /usr/bin/python3; a pyenv python3 on PATH would not see it.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
cd "$root"
exec "$py" -m pytest -q tests "$@"
