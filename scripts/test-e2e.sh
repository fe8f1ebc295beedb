#!/usr/bin/env bash
# End-to-end tests of the nd program: every script in tests/e2e/ gets the build folder.
set -euo pipefail
build=${1:-build}
pass=0; fail=0
for t in tests/e2e/*.sh; do
  [ -e "$t" ] || continue
  if bash "$t" "$build"; then pass=$((pass+1)); echo "e2e: PASS $t"; else fail=$((fail+1)); echo "e2e: FAIL $t"; fi
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
