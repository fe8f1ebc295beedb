#!/usr/bin/env bash
# Checks are shown, not only failures: a lab lists every check with expected and
# got in the terminal; a failing one (here: d2l's house_tiny.csv with one price
# changed) is printed in red on a terminal, marked in the report, and the exit
# status is 1.
set -u
nd="$1/nd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
out=$("$nd" lab data --out "$work/ok" 2>&1); status=$?
[ "$status" -eq 0 ] || { echo "checks: nd lab data exit $status"; echo "$out" | tail -5; fail=1; }
grep -qF "✓ NumRooms filled with the mean: 3 (expected 3 ± 1e-12)" <<< "$out" ||
  { echo "checks: a passing check is not shown with got and expected"; echo "$out" | grep '✓' | head -3; fail=1; }
grep -q '<details class="checks"><summary>Checks: [0-9]* passed</summary>' "$work/ok/index.html" ||
  { echo "checks: the report has no folded list of checks"; fail=1; }
grep -q '<td class="source">d2l 2.2: ' "$work/ok/index.html" ||
  { echo "checks: a check does not name its source"; fail=1; }

mkdir "$work/data"
cp data/*.csv data/*.png "$work/data/"
sed -i 's/^NA,NA,140000$/NA,NA,140001/' "$work/data/house_tiny.csv"
out=$(ND_DATA_DIR="$work/data" "$nd" lab data --out "$work/bad" 2>&1); status=$?
[ "$status" -eq 1 ] || { echo "checks: a failed check exits $status, expected 1"; fail=1; }
grep -qF "check failed: y: got tensor([127500., 106000., 178100., 140001.], dtype=torch.float64), expected [127500, 106000, 178100, 140000]" <<< "$out" ||
  { echo "checks: the failure does not show got and expected"; echo "$out" | grep -i fail; fail=1; }
grep -q '<tr class="fail">' "$work/bad/index.html" || { echo "checks: the failed check is not marked in the report"; fail=1; }
grep -q '<details class="checks fail"><summary>Checks: [0-9]* passed, 1 FAILED' "$work/bad/index.html" ||
  { echo "checks: the section's summary does not say a check failed"; fail=1; }
# On a terminal the failure is red (NO_COLOR turns it off).
tty=$(ND_DATA_DIR="$work/data" script -qec "$nd lab data --out $work/tty" /dev/null 2>&1)
grep -qF $'\033[1;31mnd: check failed: y' <<< "$tty" || { echo "checks: the failure is not red on a terminal"; fail=1; }
tty=$(NO_COLOR=1 ND_DATA_DIR="$work/data" script -qec "$nd lab data --out $work/tty" /dev/null 2>&1)
grep -qF $'\033[1;31m' <<< "$tty" && { echo "checks: NO_COLOR did not turn the red off"; fail=1; }
exit $fail
