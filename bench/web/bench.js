// bench.js — W6 (1-32-1 ReLU fit, full-batch Adam lr 0.01, 5000 steps) and W4
// (1000 × {y·1.0001 + 0.5} and backward: 2000 small ops) for nd.wasm and for
// TensorFlow.js on one backend, as bench/bench_train.c, bench_autograd.c and
// bench/peers.py do natively. Each returns {w6: {steps_per_s, final_mse},
// w4: {scalar, vec64} (ns per op)}: the median of `runs` timings after a warm-up.
'use strict';
const median = (a) => a.slice().sort((p, q) => p - q)[Math.floor(a.length / 2)];

// The W6 data of bench_train.c: 256 points of linspace(-10, 10), the target
// piecewise linear through (-10,-10), (0,0), (5,-5), (10,20).
function w6data() {
  const xs = new Float32Array(256), ys = new Float32Array(256);
  for (let i = 0; i < 256; i++) {
    const x = -10 + (20 * i) / 255;
    xs[i] = x;
    ys[i] = x < 0 ? x : x < 5 ? -x : 5 * x - 30;
  }
  return {xs, ys};
}

window.bench = {
  async nd({steps, runs}) {
    const m = await createNd({locateFile: (p) => '/nd/' + p});
    m._nd_web_bench_w6(100); // warm-up: the engine compiles the wasm's hot code
    const rates = [];
    let final = NaN;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      final = m._nd_web_bench_w6(steps);
      rates.push(steps / ((performance.now() - t0) / 1e3));
    }
    if (!Number.isFinite(final)) throw new Error('nd W6 failed');
    const w4 = {};
    // A chain takes about a millisecond, and the page's clock ticks in 0.1 ms
    // (Chromium coarsens performance.now() on pages not cross-origin isolated):
    // each timing is of 20 chains.
    for (const [name, n] of [['scalar', 0], ['vec64', 64]]) {
      m._nd_web_bench_w4(n);
      const t = [];
      for (let r = 0; r < 21; r++) {
        const t0 = performance.now();
        for (let c = 0; c < 20; c++)
          if (!Number.isFinite(m._nd_web_bench_w4(n))) throw new Error('nd W4 failed');
        t.push((performance.now() - t0) / 20);
      }
      w4[name] = (median(t) / 2000) * 1e6;
    }
    return {w6: {steps_per_s: median(rates), final_mse: final}, w4};
  },

  async tfjs({backend, steps, runs}) {
    if (backend === 'wasm') tf.wasm.setWasmPaths('/tfjs-wasm/');
    if (!(await tf.setBackend(backend))) throw new Error('tfjs: no ' + backend + ' backend');
    await tf.ready();
    const {xs, ys} = w6data();
    const x = tf.tensor2d(xs, [256, 1]), y = tf.tensor2d(ys, [256, 1]);
    // nn.Linear's initialization: uniform(±1/√fan_in), as peers.py's torch net.
    const fit = (n) => {
      const w1 = tf.variable(tf.randomUniform([1, 32], -1, 1, 'float32', 0));
      const b1 = tf.variable(tf.randomUniform([32], -1, 1, 'float32', 1));
      const k = 1 / Math.sqrt(32);
      const w2 = tf.variable(tf.randomUniform([32, 1], -k, k, 'float32', 2));
      const b2 = tf.variable(tf.randomUniform([1], -k, k, 'float32', 3));
      const adam = tf.train.adam(0.01);
      const loss = () => tf.losses.meanSquaredError(y, x.matMul(w1).add(b1).relu().matMul(w2).add(b2));
      for (let i = 0; i < n - 1; i++) adam.minimize(loss);
      const last = adam.minimize(loss, true);
      const value = last.dataSync()[0]; // waits for the last step, on any backend
      last.dispose();
      adam.dispose();
      for (const v of [w1, b1, w2, b2]) v.dispose();
      return value;
    };
    fit(20); // warm-up
    const rates = [];
    let final = NaN;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      final = fit(steps);
      rates.push(steps / ((performance.now() - t0) / 1e3));
    }
    const w4 = {};
    for (const [name, shape] of [['scalar', []], ['vec64', [64]]]) {
      const f = (v) => {
        let u = v;
        for (let i = 0; i < 1000; i++) u = u.mul(1.0001).add(0.5);
        return shape.length ? u.sum() : u;
      };
      const grad = tf.grad(f);
      const chain = () => {
        const v = tf.ones(shape);
        const t0 = performance.now();
        const g = grad(v);
        g.dataSync();
        const ms = performance.now() - t0;
        g.dispose();
        v.dispose();
        return ms;
      };
      chain();
      const t = [];
      for (let r = 0; r < 7; r++) t.push(chain());
      w4[name] = (median(t) / 2000) * 1e6;
    }
    x.dispose();
    y.dispose();
    return {w6: {steps_per_s: median(rates), final_mse: final}, w4, tensors: tf.memory().numTensors};
  },
};
