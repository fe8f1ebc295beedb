#!/usr/bin/env bash
# Installs the Debian packages nd needs, only those that are missing.
# Idempotent and quick when everything is there. Usage:
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh bench    also the peers for `make bench` (numpy, torch, pandas, opencv)
#   scripts/install-deps.sh golden   also what regenerates tests/golden (numpy, torch, pandas, opencv)
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
  libopenblas-dev libopenblas-openmp-dev liblapacke-dev
  libpng-dev libjpeg62-turbo-dev
  libplplot-dev plplot-driver-cairo
  libgraphviz-dev graphviz
  libcriterion-dev
  libopenmpi-dev openmpi-bin
  chromium firefox-esr fonts-dejavu-core fonts-wqy-microhei
  emscripten node-acorn nodejs
)
case "${1:-}" in
  bench|golden)
    packages+=(python3-numpy python3-torch python3-pandas python3-opencv python3-threadpoolctl) ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
