#!/usr/bin/env bash
# libFuzzer targets (fuzz/fuzz_*.c) built with clang; `smoke` runs each for a
# bounded time (CI), `long` for longer.
set -euo pipefail
mode=${1:-smoke}
seconds=30
[ "$mode" = long ] && seconds=300
ls fuzz/fuzz_*.c > /dev/null 2>&1 || { echo "fuzz: no targets"; exit 0; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DND_BUILD_FUZZ=ON -DND_BUILD_TESTS=OFF -DND_NATIVE=OFF -DCMAKE_BUILD_TYPE=Debug > /dev/null
targets=$(for src in fuzz/fuzz_*.c; do basename "$src" .c; done)
# only the fuzz targets: the other programs are not linked with the fuzzer runtime
cmake --build build-fuzz -j "$(nproc)" --target $targets > build-fuzz.log 2>&1 || { tail -30 build-fuzz.log; exit 1; }
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus=fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  budget=$seconds
  [ "$mode" = smoke ] && [ "$name" = fuzz_csv ] && budget=60 # the CSV reader: about a minute in CI
  echo "fuzz: $name for ${budget}s"
  ./build-fuzz/"$name" -max_total_time="$budget" -max_len=65536 -rss_limit_mb=2048 "$work" > "build-fuzz/$name.log" 2>&1 || { tail -40 "build-fuzz/$name.log"; echo "fuzz: $name FAILED"; exit 1; }
  rm -rf "$work"
done
echo "fuzz: every target ran clean"
