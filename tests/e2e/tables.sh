#!/usr/bin/env bash
# Terminal tables line up in display columns (a Chinese character takes two,
# x³ or η one though they take two or three bytes): every column that starts in
# a table's header row starts at the same display column in each of its rows.
set -u
nd="$1/nd"
export LC_ALL=C.UTF-8
fail=0
declare -A width_of
# The display columns where a field starts, " 0 c1 c2 ... " into $starts:
# column 0, and each column after at least `gap` spaces. wc -L measures each
# character's display width (wcwidth), kept in width_of.
starts() {
  local line=$1 gap=$2 col=0 spaces=0 i ch w
  starts=" 0 "
  for ((i = 0; i < ${#line}; i++)); do
    ch=${line:i:1}
    if [ "$ch" = " " ]; then spaces=$((spaces + 1)); col=$((col + 1)); continue; fi
    [ "$spaces" -ge "$gap" ] && [ "$col" -gt 0 ] && starts+="$col "
    spaces=0
    w=${width_of[$ch]:-}
    if [ -z "$w" ]; then w=$(printf '%s' "$ch" | wc -L); width_of[$ch]=$w; fi
    col=$((col + w))
  done
}
# check_table NAME < ROWS: (not in a pipe, which would lose $fail) stdin holds the header row then the rows.
check_table() {
  local name=$1 header row columns c rows=0
  IFS= read -r header
  starts "$header" 2
  columns=$starts
  [ "$(wc -w <<< "$columns")" -ge 2 ] || { echo "tables: $name: no columns in '$header'"; fail=1; return; }
  while IFS= read -r row; do
    [ -n "$row" ] || continue
    rows=$((rows + 1))
    starts "$row" 1
    for c in $columns; do
      if [[ "$starts" != *" $c "* ]]; then
        echo "tables: $name: in '$row' no field starts at display column $c (header: '$header')"
        fail=1
      fi
    done
  done
  [ "$rows" -ge 2 ] || { echo "tables: $name: only $rows rows"; fail=1; }
}
out=$(mktemp -d)
calculus=$("$nd" lab calculus --out "$out/calculus" 2> /dev/null) || { echo "tables: nd lab calculus failed"; fail=1; }
optimization=$("$nd" lab optimization --out "$out/optimization" 2> /dev/null) || { echo "tables: nd lab optimization failed"; fail=1; }
# the slide's table of derivatives: after its heading (skipping the checks' "  ✓ ..." and the calls' "  nd> ..." lines), up to the blank line
check_table derivatives < <(awk '/^-- 基本函数与复合函数/ {on = 1; next} on && /^  (✓|≠|✗|nd>) / {next} on && /^$/ {exit} on' <<< "$calculus")
# the shapes of derivatives: its rows start with "nd_jacobian" and "y:" / "Y:"
check_table shapes < <(grep -E '^(nd_jacobian|[yY]: )' <<< "$calculus")
# SGD's learning-rate schedules (η in the first column): the first line is the header
check_table schedules < <(grep -E '^(constant η|η·)' <<< "$optimization")
# the momentum runs: aligned by their epoch column
check_table momentum < <(grep -E '^eta = [0-9.]+, beta' <<< "$optimization")
rm -rf "$out"
exit $fail
