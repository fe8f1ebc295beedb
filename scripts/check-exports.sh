#!/usr/bin/env bash
# The shared libraries export exactly what their headers declare: every function
# of include/nd*.h (and, for libnd, of src/nd_ext.h, which nd's other libraries
# link against) and nothing else, since the libraries are built with
# -fvisibility=hidden and only ND_API declarations are visible. Fails on a
# declaration without ND_API (a program linking the .so could not call it) and
# on a helper that leaks out. Usage: scripts/check-exports.sh <build-dir>
set -euo pipefail
build=${1:?usage: check-exports.sh build-dir}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
# The function names a header declares: lines that start a declaration
# (optionally ND_API, a return type) and name a function of nd.
declared() {
  grep -hoE '^(ND_API )?(const |unsigned )?[a-z_0-9]+ *\**(nd_[a-z0-9_]+|nd__[a-z0-9_]+)\(' "$@" |
    grep -oE '(nd_[a-z0-9_]+|nd__[a-z0-9_]+)\($' | tr -d '(' | sort -u
}
check() { # library, headers...
  local lib="$build/$1.so"
  shift
  [ -e "$lib" ] || return 0
  local want got
  want=$(declared "$@")
  got=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWwDdBbRr]$/ {print $3}' | grep -E '^nd' | sort -u)
  local missing extra
  missing=$(comm -23 <(echo "$want") <(echo "$got"))
  extra=$(comm -13 <(echo "$want") <(echo "$got"))
  if [ -n "$missing" ]; then
    echo "exports: $(basename "$lib") does not export (no ND_API, or not defined): $(echo "$missing" | tr "\n" " ")"
    status=1
  fi
  if [ -n "$extra" ]; then
    echo "exports: $(basename "$lib") exports what no header declares: $(echo "$extra" | tr "\n" " ")"
    status=1
  fi
  [ -z "$missing$extra" ] && echo "exports: $(basename "$lib"): $(echo "$want" | wc -l) functions, as declared"
  return 0
}
# (internal.h: only what it marks ND_API, a test hook)
check libnd "$root/include/nd.h" "$root/src/nd_ext.h" <(grep '^ND_API' "$root/src/core/internal.h")
check libnd_frame "$root/include/nd_frame.h"
check libnd_image "$root/include/nd_image.h"
check libnd_plot "$root/include/nd_plot.h"
check libnd_dist "$root/include/nd_dist.h"
exit $status
