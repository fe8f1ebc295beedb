// nd compiled to WebAssembly (scripts/build-wasm.sh), loaded in Node: its
// numbers against results worked out independently of nd.
// Run: node --test web/test/   (after scripts/build-wasm.sh; ND_WASM_DIR picks another build)
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');

const dir = process.env.ND_WASM_DIR || path.join(__dirname, '..', '..', 'build-wasm');
// The .wasm handed over as bytes: this Emscripten would fetch() a file path,
// which Node's fetch does not take.
const ready = require(path.join(dir, 'nd.js'))({
  wasmBinary: require('node:fs').readFileSync(path.join(dir, 'nd.wasm')),
});

// The page's JavaScript face (web/interactive/face.js, a browser script),
// evaluated here with ImageData absent.
const face = new Function(require('node:fs').readFileSync(path.join(__dirname, '..', 'interactive', 'face.js'), 'utf8') + '\nreturn ndFace;')();

// Copies doubles into the module's heap; returns the pointer (caller frees).
function heapDoubles(nd, values) {
  const ptr = nd._malloc(8 * Math.max(values.length, 1));
  nd.HEAPF64.set(values, ptr / 8);
  return ptr;
}

test('version is a string like nd info prints', async () => {
  const nd = await ready;
  assert.match(nd.UTF8ToString(nd._nd_web_version()), /^\d+\.\d+\.\d+/);
});

test('matmul equals the product worked by hand, and large ones the plain triple loop', async () => {
  const nd = await ready;
  const product = (a, n, k, b, m) => {
    const pa = heapDoubles(nd, a), pb = heapDoubles(nd, b), pc = nd._malloc(8 * n * m);
    assert.strictEqual(nd._nd_web_matmul(pa, n, k, pb, m, pc), 0, nd.UTF8ToString(nd._nd_web_error()));
    const c = Array.from(nd.HEAPF64.subarray(pc / 8, pc / 8 + n * m));
    nd._free(pa), nd._free(pb), nd._free(pc);
    return c;
  };
  assert.deepStrictEqual(product([1, 2, 3, 4, 5, 6], 2, 3, [7, 8, 9, 10, 11, 12], 2), [58, 64, 139, 154]);
  // Big enough for the packed, SIMD128 path, with edge tiles (not multiples of 6 or 4).
  const n = 67, k = 130, m = 45;
  const a = Array.from({length: n * k}, (_, i) => Math.sin(i)), b = Array.from({length: k * m}, (_, i) => Math.cos(3 * i));
  const c = product(a, n, k, b, m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * m + j];
      assert.ok(Math.abs(c[i * m + j] - s) <= 1e-12 * (1 + Math.abs(s)), `c[${i}][${j}] = ${c[i * m + j]}, expected ${s}`);
    }
});

test('gradient descent on x^2 follows the SGD recurrence with momentum (PyTorch form)', async () => {
  const nd = face(await ready);
  for (const [x0, lr, momentum] of [[3, 0.1, 0], [-2, 0.05, 0.9], [1.5, 1.1, 0]]) {
    const steps = 100;
    const xs = nd.gd({f: 'x^2', method: momentum ? 'momentum' : 'gd', lr, momentum, steps, x0}).xs;
    assert.strictEqual(xs.length, steps + 1);
    let x = x0, v = 0;
    for (let t = 0; t <= steps; t++) {
      assert.ok(Math.abs(xs[t] - x) <= 1e-12 * (1 + Math.abs(x)), `x0=${x0} lr=${lr} m=${momentum} step ${t}: ${xs[t]} vs ${x}`);
      const g = 2 * x;
      v = t === 0 ? g : momentum * v + g;
      x -= lr * v;
    }
  }
});
