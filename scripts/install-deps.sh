#!/usr/bin/env bash
# Installs the Debian packages c10k-bench needs, only when some are missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libuv1-dev libjansson-dev liburing-dev
  libssl-dev openssl  # the loadgen's TLS transport; openssl makes test certificates
  node-llhttp  # llhttp's generated C sources (/usr/share/llhttp), built as a static library
  clang libclang-rt-14-dev  # libFuzzer targets (-fsanitize=fuzzer)
  python3 python3-pytest python3-pytest-xdist python3-jsonschema gnuplot-nox
  apache2-utils wrk nghttp2-client nginx-light h2o curl
  util-linux procps valgrind strace iproute2
  openssh-server openssh-client parallel  # multi-host load over ssh (network-namespace tests)
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
