#!/usr/bin/env bash
# The C behind each result: nd lab prints the nd calls ("nd> CALL") before the
# result they produced, and every such call is the lab's own code, character for
# character (whitespace aside): LAB_CALL records #expr of the expression it runs.
set -u
nd="$1/nd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
"$nd" labs --out "$work/out" > "$work/labs.log" 2> "$work/errors.log" || { echo "snippets: nd labs failed"; exit 1; }
# the example of the issue, just before the frame it produced
grep -A1 -F "nd> nd_frame_fillna_mean(inputs)" "$work/labs.log" | grep -qF "inputs = inputs.fillna(inputs.mean()):" ||
  { echo "snippets: nd_frame_fillna_mean(inputs) is not shown before its result"; fail=1; }
# every lab shows calls
for id in $(grep -o '<section id="[^"]*"' "$work/out/index.html" | cut -d'"' -f2); do
  awk -v id="$id" 'index($0, "<section id=\"" id "\"") {on = 1; next} /<section id=/ {on = 0} on' \
    "$work/out/index.html" | grep -q '<pre class="code"><code>nd_' || { echo "snippets: section $id shows no nd call"; fail=1; }
done
# every call shown is in the labs' source
source=$(cat cli/labs/*.c | tr -d '[:space:]')
n=0
while IFS= read -r call; do
  n=$((n + 1))
  squeezed=$(tr -d '[:space:]' <<< "$call")
  [[ "$source" == *"$squeezed"* ]] || { echo "snippets: '$call' is not in cli/labs/*.c"; fail=1; }
done < <(sed -n 's/^  nd> //p' "$work/labs.log" | sort -u)
[ "$n" -ge 50 ] || { echo "snippets: only $n distinct calls shown"; fail=1; }
exit $fail
