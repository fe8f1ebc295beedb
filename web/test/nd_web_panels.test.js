// The page's functions (web/nd_web.h) in nd compiled to WebAssembly, loaded in
// Node: results worked out by hand or by the textbook formulas, and errors
// that carry nd's message. (tests/e2e/interactive.sh drives the page itself
// in Chromium against native nd.)
// Run: node --test web/test/   (after scripts/build-wasm.sh; ND_WASM_DIR picks another build)
'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.ND_WASM_DIR || path.join(__dirname, '..', '..', 'build-wasm');
const ready = require(path.join(dir, 'nd.js'))({wasmBinary: fs.readFileSync(path.join(dir, 'nd.wasm'))});
// face.js is a browser script: evaluated here with ImageData absent.
const face = new Function(fs.readFileSync(path.join(__dirname, '..', 'interactive', 'face.js'), 'utf8') + '\nreturn ndFace;')();
const near = (a, b, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);

test('nd.gd: plain gradient descent on x^2 is x0·(1 − 2η)^t', async () => {
  const nd = face(await ready);
  const r = nd.gd({f: 'x^2', lr: 0.2, steps: 10, x0: 10});
  r.xs.forEach((x, t) => near(x, 10 * Math.pow(0.6, t)));
  near(r.final, 10 * Math.pow(0.6, 10));
});

test('nd.gd: Newton on cosh(x/2) is x ← x − 2·tanh(x/2) (f″ by autograd)', async () => {
  const nd = face(await ready);
  const r = nd.gd({f: 'cosh', method: 'newton', lr: 1, steps: 5, x0: 1});
  let x = 1;
  for (let t = 0; t <= 5; t++) near(r.xs[t], x), (x -= 2 * Math.tanh(x / 2));
});

test('nd.gd2: the quadratic a·x1² + b·x2² descends each coordinate by (1 − 2ηa), (1 − 2ηb)', async () => {
  const nd = face(await ready);
  const r = nd.gd2({a: 1, b: 2, x1: -5, x2: -2, lr: 0.1, steps: 20});
  near(r.final[0], -5 * Math.pow(0.8, 20));
  near(r.final[1], -2 * Math.pow(0.6, 20));
});

test('nd.gd2: Newton solves with the Hessian: one step of η = 1 lands on the minimum; a singular one is an error', async () => {
  const nd = face(await ready);
  const r = nd.gd2({method: 'newton', a: 0.1, b: 2, x1: -5, x2: -2, lr: 1, steps: 3});
  assert.deepStrictEqual([r.x1s[1], r.x2s[1]], [0, 0]);
  const half = nd.gd2({method: 'newton', a: 0.1, b: 2, x1: -5, x2: -2, lr: 0.5, steps: 1});
  near(half.final[0], -2.5), near(half.final[1], -1);
  assert.throws(() => nd.gd2({method: 'newton', a: 0, b: 2, steps: 1}), /^Error: nd.gd: Newton's method needs an invertible Hessian, but at \(-5, -2\) it is \[\[0, 0\], \[0, 4\]\]/);
});

test('nd.fit: the course\'s points give the slide\'s formula; bad points give nd fit\'s message', async () => {
  const nd = face(await ready);
  const r = nd.fit('-10,-10 0,0 5,-5 10,20');
  assert.strictEqual(r.formula, '-10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)');
  assert.deepStrictEqual(r.terms, [{slope: 1, knot: -10}, {slope: -2, knot: 0}, {slope: 6, knot: 5}]);
  assert.throws(() => nd.fit('1,2'), /^Error: nd fit: /);
});

test('nd.autodiff: z = (<x, w> − y)² and its gradients 2(<x, w> − y)·(w, x, −1)', async () => {
  const nd = face(await ready);
  const r = nd.autodiff('(dot(x,w)-y)^2', {x: [1, 2, 3], w: [0.5, -1, 2], y: 1});
  assert.deepStrictEqual(r.value, [12.25]);
  assert.deepStrictEqual(r.grads, {x: [3.5, -7, 14], w: [7, 14, 21], y: [-7]});
  assert.deepStrictEqual(r.nodes.map((n) => n.text), ['dot(x, w)', 'v1 - y', 'v2 ^ 2']);
  assert.deepStrictEqual(r.forward.w.map((n) => n.value), [[1, 2, 3], [1, 2, 3], [7, 14, 21]]);
  assert.throws(() => nd.autodiff('(x', {x: 1}), /column/);
  assert.throws(() => nd.autodiff('log(x)', {x: -1}), /NaN or infinite/);
  assert.throws(() => nd.autodiff('x + q', {x: 1}), /q/);
});

test('nd.activation: sigmoid′ = s(1 − s), tanh′ = 1 − tanh², relu′(0) = 0', async () => {
  const nd = face(await ready);
  const s = nd.activation('sigmoid', {lo: -3, hi: 3, n: 7});
  s.y.forEach((y, i) => near(s.dy[i], y * (1 - y)));
  const t = nd.activation('tanh', {lo: -3, hi: 3, n: 7});
  t.y.forEach((y, i) => near(t.dy[i], 1 - y * y));
  assert.strictEqual(nd.activation('relu', {lo: -1, hi: 1, n: 3}).dy[1], 0);
  assert.throws(() => nd.activation('swish'), /unknown function/);
});

test('nd.sinRelu: the error is within h²/8 and falls about 4× when N doubles', async () => {
  const nd = face(await ready);
  const a = nd.sinRelu(32), b = nd.sinRelu(64);
  assert.ok(a.error <= a.bound && b.error <= b.bound);
  near(a.error / b.error, 4, 0.05);
  assert.throws(() => nd.sinRelu(0), /N must be/);
});

test('the ReLU net and the affine recovery: their losses fall; steps before start is an error', async () => {
  const m = await ready, nd = face(m);
  const start = nd.reluNet.start('-10,-10 0,0 5,-5 10,20', {hidden: 8, lr: 0.01});
  assert.strictEqual(start.x.length, 256);
  const r = nd.reluNet.steps(200);
  assert.ok(r.losses[199] < r.losses[0] / 2, `${r.losses[0]} → ${r.losses[199]}`);
  assert.throws(() => nd.affineRecovery.steps(1), /start it first/);
});
