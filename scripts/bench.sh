#!/usr/bin/env bash
# Runs every benchmark program (build/bench/bench_*) and the peers (bench/peers.py)
# for 1 and 2 threads, and W12 in the browser (bench/web/run.sh: optional, it
# needs chromium and npm), then prints the nd/peer ratio table (BENCHMARKS.md).
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
    case $(basename "$program") in # these run under mpirun: W11 below, bench_allreduce by hand
    bench_ddp | bench_allreduce) continue ;;
    esac
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

# W11: data-parallel training, 1 process and then 2 processes × 1 thread over
# shared memory (libnd_dist; the torch DDP peer runs in peers.py at threads=1).
# mpirun gets no tuning a user's would not have: nd_dist_init itself asks Open
# MPI for the ring allreduce (src/dist/comm.c).
# Open MPI refuses to start as root unless told. CI runs `make bench` as root,
# as it runs the tests: there, and only there (the caller has not said
# otherwise), this script allows it for its own mpirun; a user running the
# bench as themselves gets nothing set.
if [ -x "$build/bench/bench_ddp" ] && command -v mpirun > /dev/null; then
  echo "== bench_ddp 1 and 2 processes" >&2
  ddp=("${clean_env[@]}" OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "${quick_env[@]}")
  if [ "$(id -u)" = 0 ] && [ -z "${OMPI_ALLOW_RUN_AS_ROOT:-}" ]; then
    ddp+=(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
  fi
  one=$(cd "$build" && "${ddp[@]}" bench/bench_ddp 1 $quick_arg | tee -a "$results" /dev/stderr |
    sed -n 's/.*metric=steps_per_s_1proc value=\([^ ]*\).*/\1/p') || true
  (cd "$build" && "${ddp[@]}" mpirun --oversubscribe --mca btl self,vader \
    --mca oob_tcp_if_include lo -np 2 bench/bench_ddp 1 "${quick_arg:-full}" "${one:-0}") |
    tee -a "$results" || echo "bench.sh: bench_ddp failed" >&2
fi
# W12: W6 and W4 in headless Chromium, nd.wasm against TensorFlow.js. Optional:
# when chromium, the WebAssembly build or the npm packages cannot be had, the
# table says `W12 skipped` and why (bench/web/run.sh).
echo "== W12 browser (bench/web)" >&2
"$root/bench/web/run.sh" "$mode" | tee -a "$results" || echo "bench.sh: W12 failed" >&2
echo
/usr/bin/python3 "$root/bench/peers.py" table "$results"
