#!/usr/bin/env bash
# Configures and builds c10k-bench. Usage: scripts/build.sh [--sanitize | --tsan] [--werror]
# Installs missing Debian packages first (set C10K_NO_INSTALL=1 to skip).
# Plain build goes to build/, the ASan+UBSan build to build-asan/, the ThreadSanitizer build to
# build-tsan/; binaries land in <dir>/bin, the C unit tests in <dir>/unit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/build"
flags=()
for arg in "$@"; do
  case "$arg" in
    --sanitize) dir="$root/build-asan"; flags+=(-DC10K_SANITIZE=ON) ;;
    --tsan)     dir="$root/build-tsan"; flags+=(-DC10K_TSAN=ON) ;;
    --werror)   flags+=(-DC10K_WERROR=ON) ;;
    *) echo "build.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done
# A fresh Debian box has none of the packages: install what is missing (a no-op when all are there).
[ -n "${C10K_NO_INSTALL:-}" ] || "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$dir" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
