#!/usr/bin/env bash
# The repository needs nothing beside it: its git-tracked files alone, copied
# into an empty temporary folder (so `..` holds nothing but the copy), configure,
# build the unit tests and pass them. A test or build step that reads a file
# outside the tree (a sibling folder of the checkout, an absolute path on the
# developer's machine) fails here, as it would for someone who just cloned nd. Nothing is reused from
# the build folder given as $1: the copy builds from scratch.
set -u
root=$(git rev-parse --show-toplevel 2> /dev/null) || { echo "standalone: not a git checkout"; exit 1; }
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
copy="$top/nd"
mkdir "$copy"
# Tracked files as they are in the working tree (what the next commit holds);
# a file deleted but not yet committed is skipped.
(cd "$root" && git ls-files -z | tar --null -T - --ignore-failed-read -cf - 2> /dev/null) | tar -C "$copy" -xf - ||
  { echo "standalone: copying the tracked files failed"; exit 1; }
[ "$(ls -A "$top")" = nd ] || { echo "standalone: $top holds more than the copy"; exit 1; }

build="$copy/build"
log="$top/nd/build.log"
cmake -S "$copy" -B "$build" -DCMAKE_BUILD_TYPE=Release > "$log" 2>&1 ||
  { tail -30 "$log"; echo "standalone: configure failed"; exit 1; }
# Only the programs CTest runs (not the nd program or the benchmarks): a test
# named after its executable, or one whose command line holds a path in the
# build folder (test_dist, started by mpiexec). Before the build, ctest knows
# only the second kind by path, hence both.
tests=$(cd "$build" && {
  ctest -N | sed -n 's/^ *Test *#[0-9]*: *//p'
  ctest --show-only=json-v1 | grep -o "\"$build/[^\"]*\"" | tr -d '"' | xargs -r -n1 basename
} | sort -u)
targets=$(cmake --build "$build" --target help | sed -n 's/^\.\.\. \([^ ]*\).*/\1/p')
wanted=$(comm -12 <(sort <<< "$tests") <(sort <<< "$targets"))
# ops_md_current runs gen_ops_md, whose path ctest shows only once it is built
grep -qx gen_ops_md <<< "$targets" && wanted="$wanted gen_ops_md"
[ -n "$wanted" ] || { echo "standalone: no unit tests found"; exit 1; }
# shellcheck disable=SC2086  # one target per word
cmake --build "$build" -j 2 --target $wanted >> "$log" 2>&1 ||
  { tail -30 "$log"; echo "standalone: build failed"; exit 1; }
(cd "$build" && ctest -j 2 --output-on-failure > "$log" 2>&1) ||
  { grep -v '^ *Start\|Passed' "$log" | tail -60; echo "standalone: unit tests failed in a lone copy"; exit 1; }
echo "standalone: a lone copy of the tracked files builds and passes $(grep -c ' Passed ' "$log") unit tests"
