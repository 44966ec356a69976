#!/usr/bin/env bash
# Installs the Debian packages c10k-bench needs, only when some are missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libuv1-dev libjansson-dev libhttp-parser-dev liburing-dev
  python3 python3-pytest gnuplot-nox
  apache2-utils wrk nghttp2-client nginx-light curl
  util-linux procps valgrind
  chromium  # headless check of the HTML report (tests/test_plots.py)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
