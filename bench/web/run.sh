#!/usr/bin/env bash
# W12 (BENCHMARKS.md): nd.wasm against TensorFlow.js in headless Chromium
# (bench/web/run.mjs). Optional: it needs chromium, node, the WebAssembly build
# (scripts/build-wasm.sh, with Debian's emcc) and the npm packages of
# package-lock.json, which `npm ci` fetches into bench/web/node_modules (the
# network; nothing else in nd needs them). When one is missing it prints
# `# W12 skipped: why` instead of the result lines, and exits 0.
#   bench/web/run.sh [full|quick]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=${1:-full}
skip() {
  echo "# W12 skipped: $*"
  exit 0
}
command -v chromium > /dev/null || skip "no chromium (apt-get install chromium)"
command -v node > /dev/null || skip "no node"
if command -v emcc > /dev/null; then
  "$root/scripts/build-wasm.sh" "$root/build-wasm" >&2 || skip "scripts/build-wasm.sh failed"
fi
[ -s "$root/build-wasm/nd.wasm" ] && [ -s "$root/build-wasm/interactive.html" ] ||
  skip "no WebAssembly build (scripts/build-wasm.sh needs emcc: apt-get install emscripten)"
if [ ! -d "$here/node_modules/@tensorflow/tfjs-backend-wasm" ] ||
  [ "$here/package-lock.json" -nt "$here/node_modules" ]; then
  command -v npm > /dev/null || skip "no npm to install TensorFlow.js (apt-get install npm)"
  echo "== npm ci in bench/web (TensorFlow.js 4.22, for W12 only)" >&2
  log=$(cd "$here" && timeout 600 npm ci --no-audit --no-fund 2>&1) ||
    skip "npm ci failed (the network?): $(echo "$log" | grep -m1 -i 'err' || echo "$log" | tail -1)"
  touch "$here/node_modules"
fi
quick=""
[ "$mode" = quick ] && quick=quick
node "$here/run.mjs" "$root/build-wasm" $quick || echo "# W12: run.mjs failed (see above)" >&2
