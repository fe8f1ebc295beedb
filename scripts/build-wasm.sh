#!/usr/bin/env bash
# Builds nd for WebAssembly with Debian's Emscripten: core, ops (nd's own
# matrix kernel, no BLAS/LAPACK), autograd and optimizers, without OpenMP,
# the image warps (no PNG/JPEG files), the CLI's expression language and ReLU
# sums, plus the page's C API (web/nd_web*.c, nd_web.h). Output: <build>/nd.js
# + nd.wasm, and <build>/interactive.html, the page of out/interactive.html with
# both inlined (web/interactive/assemble.mjs), which loads from file://.
# Usage: scripts/build-wasm.sh [build-dir]   (default build-wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-wasm}
mkdir -p "$build"
# Debian's emcc runs its JS optimizer on node with acorn from node-acorn.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
sources=(src/core/*.c src/ops/*.c src/autograd/*.c src/optim/*.c
  src/image/affine.c src/image/convert.c src/image/grid_sample.c src/image/warp.c
  cli/expr.c cli/expr_passes.c cli/text.c cli/relu_sum.c web/json.c web/nd_web*.c)
sources=("${sources[@]/src\/ops\/linalg_decomp.c}") # LAPACK: linalg_nolapack.c instead
sources=("${sources[@]/src\/ops\/linalg_eig_svd.c}")
# Every function of web/nd_web.h, and malloc/free for the buffers JS hands in.
exports=_malloc,_free$(grep -o '\bnd_web_[a-z0-9_]*(' web/nd_web.h | tr -d '(' | sed 's/^/,_/' | tr -d '\n')
# Compiled into objects, each only when it or a header changed.
mkdir -p "$build/obj"
objects=()
header=$(ls -t $(find include src web cli -name '*.h') | head -1) # the newest
for s in "${sources[@]}"; do
  [ -n "$s" ] || continue # the two LAPACK files, removed above
  o="$build/obj/$(echo "$s" | tr / _).o"
  objects+=("$o")
  [ "$o" -nt "$s" ] && [ "$o" -nt "$0" ] && [ "$o" -nt "$header" ] && continue
  emcc -std=c11 -O2 -msimd128 -Wall -Wextra -Werror -Wno-unknown-pragmas \
    -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DNDEBUG -DND_NO_BLAS -Iinclude -Isrc -Icli -Iweb \
    -c "$s" -o "$o" &
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
done
for job in $(jobs -p); do wait "$job"; done # set -e: a failed compile stops here
# Only what is out of date (make build runs this every time): the link when an
# object changed, the page when the module or the page's sources did.
page="$build/interactive.html"
newer() { [ ! -s "$1" ] || [ -n "$(find "${@:2}" -newer "$1" 2>/dev/null | head -1)" ]; }
link=(-O2 -sMODULARIZE -sEXPORT_NAME=createNd -sALLOW_MEMORY_GROWTH -sENVIRONMENT=web,node
  -sEXPORTED_FUNCTIONS=$exports -sEXPORTED_RUNTIME_METHODS=UTF8ToString,stringToUTF8,lengthBytesUTF8,HEAPF64,HEAPU8)
if newer "$build/nd.wasm" "${objects[@]}" "$0"; then
  emcc "${objects[@]}" -o "$build/nd.js" "${link[@]}"
fi
echo "build-wasm: $build/nd.js, $build/nd.wasm ($(stat -c %s "$build/nd.wasm") bytes)"
# out/interactive.html's page, all inlined (nd labs copies it beside index.html).
if newer "$page" "$build/nd.js" "$build/nd.wasm" web/interactive data/testcard.png; then
  node web/interactive/assemble.mjs "$build/nd.js" "$build/nd.wasm" data/testcard.png "$page"
fi
echo "build-wasm: $page ($(stat -c %s "$page") bytes)"
