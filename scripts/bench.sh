#!/usr/bin/env bash
# Runs every benchmark program (build/bench/bench_*) and the peers (bench/peers.py)
# for 1 and 2 threads, then prints the nd/peer ratio table (BENCHMARKS.md).
#   scripts/bench.sh BUILD_DIR full|quick
# quick: fewer repeats and steps, under a minute or so. Results go to
# BUILD_DIR/bench_results.txt.
set -euo pipefail
build=${1:-build}
mode=${2:-full}
build=$(cd "$build" && pwd) # absolute: each program runs inside it
root=$(cd "$(dirname "$0")/.." && pwd)
results=$build/bench_results.txt
quick_arg=""
quick_env=()
if [ "$mode" = quick ]; then
  quick_arg=quick
  quick_env=(ND_BENCH_QUICK=1)
fi
: > "$results"

# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on some machines; they pin
# OpenBLAS to other kernels (Haswell's sgemm is half as fast as this CPU's).
# Every program, nd's and the peers', runs without them, so both sides use the
# same BLAS kernels; the caller's environment is left as it is.
clean_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

shopt -s nullglob
programs=("$build"/bench/bench_*)
if [ ${#programs[@]} -eq 0 ]; then
  echo "bench.sh: no programs in $build/bench (build first)" >&2
  exit 1
fi
for threads in 1 2; do
  for program in "${programs[@]}"; do
    [ -x "$program" ] || continue
    echo "== $(basename "$program") threads=$threads" >&2
    (cd "$build" && "${clean_env[@]}" OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
      "${quick_env[@]}" "$program" "$threads" $quick_arg) | tee -a "$results" ||
      echo "bench.sh: $(basename "$program") failed" >&2
  done
  echo "== peers threads=$threads" >&2
  "${clean_env[@]}" OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
    /usr/bin/python3 "$root/bench/peers.py" run "$threads" $quick_arg | tee -a "$results" ||
    echo "bench.sh: peers failed" >&2
done
echo
/usr/bin/python3 "$root/bench/peers.py" table "$results"
