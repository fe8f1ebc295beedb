#!/usr/bin/env bash
# Builds nd for WebAssembly with Debian's Emscripten: core, ops (nd's own
# matrix kernel, no BLAS/LAPACK), autograd and optimizers, without OpenMP,
# plus the page's C API (web/nd_web.c). Output: <build>/nd.js + nd.wasm.
# Usage: scripts/build-wasm.sh [build-dir]   (default build-wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-wasm}
mkdir -p "$build"
# Debian's emcc runs its JS optimizer on node with acorn from node-acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
sources=(src/core/*.c src/ops/*.c src/autograd/*.c src/optim/*.c web/nd_web.c)
sources=("${sources[@]/src\/ops\/linalg_decomp.c}") # LAPACK: linalg_nolapack.c instead
sources=("${sources[@]/src\/ops\/linalg_eig_svd.c}")
exports=_malloc,_free,_nd_web_version,_nd_web_error,_nd_web_matmul,_nd_web_gd_square
emcc -std=c11 -O2 -msimd128 -Wall -Wextra -Werror -Wno-unknown-pragmas \
  -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DNDEBUG -DND_NO_BLAS -Iinclude \
  "${sources[@]}" -o "$build/nd.js" \
  -sMODULARIZE -sEXPORT_NAME=createNd -sENVIRONMENT=web,node -sALLOW_MEMORY_GROWTH \
  -sEXPORTED_FUNCTIONS=$exports -sEXPORTED_RUNTIME_METHODS=UTF8ToString,HEAPF64
echo "build-wasm: $build/nd.js, $build/nd.wasm ($(stat -c %s "$build/nd.wasm") bytes)"
