#!/usr/bin/env bash
# `nd lab NAME` writes into its own folder (out/lab-NAME/) and never touches the
# full report of `nd labs` in out/; a rerun removes the figures of the last run
# in that folder (here: PNGs when the rerun draws SVGs) and nothing else.
set -u
nd="$(cd "$1" && pwd)/nd"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
fail=0
"$nd" labs > labs.log 2>&1 || { echo "lab_folder: nd labs failed"; tail -5 labs.log; exit 1; }
[ -s out/index.html ] || { echo "lab_folder: nd labs wrote no out/index.html"; exit 1; }
before=$(cat out/index.html out/*.png | md5sum)
"$nd" lab activations > lab.log 2>&1 || { echo "lab_folder: nd lab activations failed"; tail -5 lab.log; exit 1; }
[ -s out/lab-activations/index.html ] || { echo "lab_folder: no out/lab-activations/index.html"; fail=1; }
ls out/lab-activations/*.png > /dev/null 2>&1 || { echo "lab_folder: no figure in out/lab-activations"; fail=1; }
after=$(cat out/index.html out/*.png | md5sum)
[ "$before" = "$after" ] || { echo "lab_folder: nd lab changed the full report in out/"; fail=1; }
grep -q 'id="tensors"' out/index.html || { echo "lab_folder: out/index.html lost the other labs"; fail=1; }
grep -q 'id="tensors"' out/lab-activations/index.html && { echo "lab_folder: the lab's page holds other labs"; fail=1; }
# A rerun in SVG leaves no PNG of the last run behind, but keeps the student's own file.
echo "my notes" > out/lab-activations/notes.txt
"$nd" lab activations --format svg > lab.log 2>&1 || { echo "lab_folder: the svg rerun failed"; exit 1; }
if ls out/lab-activations/*.png > /dev/null 2>&1; then
  echo "lab_folder: stale PNG figures left in out/lab-activations:"; ls out/lab-activations; fail=1
fi
ls out/lab-activations/*.svg > /dev/null 2>&1 || { echo "lab_folder: the rerun wrote no SVG"; fail=1; }
[ -f out/lab-activations/notes.txt ] || { echo "lab_folder: the rerun removed a file it did not write"; fail=1; }
# --out still chooses the folder.
"$nd" lab tensors --out elsewhere > lab.log 2>&1 || { echo "lab_folder: nd lab tensors --out failed"; fail=1; }
[ -s elsewhere/index.html ] || { echo "lab_folder: --out elsewhere wrote no elsewhere/index.html"; fail=1; }
[ -e out/lab-tensors ] && { echo "lab_folder: --out was ignored"; fail=1; }
exit $fail
