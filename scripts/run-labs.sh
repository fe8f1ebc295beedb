#!/usr/bin/env bash
# `make run`: runs every lab into the output folder and says where the report is.
set -euo pipefail
build=${1:-build}
out=${2:-out}
if "$build/nd" list > /dev/null 2>&1; then
  "$build/nd" labs --out "$out"
else
  # Until the labs exist: what nd is and a short demonstration.
  "$build/nd" info
  "$build/nd" demo
fi
