// panels.js — the five panels of interactive.html. Each recomputes with nd (the
// face in face.js) on every change; an error shows in the panel's .error line
// and the panel keeps working. Numbers are shown with 10 significant digits.
'use strict';
const $ = (id) => document.getElementById(id);
const num = (v) => (Number.isFinite(v) ? String(Number(v.toPrecision(10))) : String(v));
const span = (v) => `<span class="num">${num(v)}</span>`;
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
const range = (lo, hi, n) => Array.from({length: n}, (_, i) => lo + ((hi - lo) * i) / (n - 1));
// Runs f; an Error's message goes to the panel's error line (and returns undefined).
function guarded(errorId, f) {
  try {
    const r = f();
    $(errorId).textContent = '';
    return r;
  } catch (e) {
    $(errorId).textContent = e.message;
  }
}
function on(ids, f) {
  for (const id of ids) for (const ev of ['input', 'change']) $(id).addEventListener(ev, f);
}

// ------------------------------------------------------------ optimization
const OPT_PRESETS = { // the lab's settings for each function
  'x^2': {method: 'gd', lr: 0.2, steps: 10, x0: 10},
  xcos: {method: 'momentum', lr: 0.05, momentum: 0.9, steps: 100, x0: -1},
  xcos015: {method: 'newton', lr: 0.5, steps: 10, x0: 10},
  cosh: {method: 'newton', lr: 1, steps: 10, x0: 10},
  quad: {method: 'momentum', lr: 0.6, momentum: 0.5, steps: 20, x0: -5, x2: -2, a: 0.1, b: 2},
};
const OPT_F = {
  'x^2': (x) => x * x, xcos: (x) => x * Math.cos(Math.PI * x),
  xcos015: (x) => x * Math.cos(0.15 * Math.PI * x), cosh: (x) => Math.cosh(x / 2),
};
function optPreset() {
  const p = OPT_PRESETS[$('opt-f').value];
  for (const k of ['lr', 'momentum', 'steps', 'x0', 'x2', 'a', 'b']) if (p[k] !== undefined) $('opt-' + k).value = p[k];
  $('opt-method').value = p.method;
  optRun();
}
function optRun() {
  const f = $('opt-f').value, quad = f === 'quad';
  $('opt-2d').hidden = !quad;
  $('opt-x0-label').textContent = quad ? 'x1 start' : 'x0';
  const v = (id) => $('opt-' + id).value;
  const method = v('method');
  const r = guarded('opt-error', () => quad
    ? nd.gd2({method, a: v('a'), b: v('b'), x1: v('x0'), x2: v('x2'), lr: v('lr'), momentum: v('momentum'), steps: v('steps')})
    : nd.gd({f, method, x0: v('x0'), lr: v('lr'), momentum: v('momentum'), steps: v('steps')}));
  if (!r) return;
  const steps = r.fs.length - 1, t = range(0, steps, steps + 1);
  if (quad) {
    $('opt-result').innerHTML = `after ${steps} steps: x1 = ${span(r.final[0])}, x2 = ${span(r.final[1])}, f = ${span(r.fs[steps])}`;
    const a = Number(v('a')), b = Number(v('b'));
    const lim = (s) => Math.min(1e6, Math.max(...s.filter(Number.isFinite).map(Math.abs), 1) * 1.15);
    const m1 = lim(r.x1s), m2 = lim(r.x2s);
    chart($('opt-path'), {
      series: [{x: r.x1s, y: r.x2s, color: '#d62728', points: true, label: `${method}, η = ${v('lr')}`}],
      xrange: [-m1, m1], yrange: [-m2, m2], xlabel: 'x1', ylabel: 'x2',
      under: (ctx, map) => { // the contours: ellipses a·x1² + b·x2² = level
        ctx.strokeStyle = '#9ecae1';
        const top = a * m1 * m1 + b * m2 * m2;
        for (let k = 1; k <= 12; k++) {
          const level = (top * k * k) / 144;
          if (a <= 0 || b <= 0) break;
          ctx.beginPath();
          ctx.ellipse(map.X(0), map.Y(0), Math.abs(map.X(Math.sqrt(level / a)) - map.X(0)), Math.abs(map.Y(Math.sqrt(level / b)) - map.Y(0)), 0, 0, 7);
          ctx.stroke();
        }
      },
    });
  } else {
    $('opt-result').innerHTML = `after ${steps} steps: x = ${span(r.final)}, f(x) = ${span(r.fs[steps])}`;
    const finite = r.xs.filter(Number.isFinite), lo = Math.min(...finite), hi = Math.max(...finite);
    const pad = Math.max(1, 0.15 * (hi - lo)), grid = range(lo - pad, hi + pad, 301);
    chart($('opt-path'), {
      series: [{x: grid, y: grid.map(OPT_F[f]), color: '#6baed6', label: 'f(x)'},
        {x: r.xs, y: r.fs, color: '#d62728', points: true, label: `${method}, η = ${v('lr')}`}],
      xlabel: 'x', ylabel: 'f(x)',
    });
  }
  const positive = r.fs.every((y) => y > 0);
  chart($('opt-loss'), {series: [{x: t, y: positive ? r.fs.map(Math.log10) : r.fs, points: steps <= 50, color: '#d62728'}],
    xlabel: 'step', ylabel: positive ? 'log10 f' : 'f'});
}

// ------------------------------------------------------------ ReLU synthesis
let reluFit = null, reluDrag = -1, reluMap = null, reluRun = null;
function reluShow() {
  reluFit = guarded('relu-error', () => nd.fit($('relu-points').value));
  if (!reluFit) return;
  $('relu-formula').textContent = reluFit.formula;
  const {xs, ys} = reluFit, lo = xs[0] - 2, hi = xs[xs.length - 1] + 2, grid = range(lo, hi, 241);
  const f = (x) => reluFit.terms.reduce((s, t) => s + t.slope * Math.max(0, x - t.knot), reluFit.bias);
  const series = [{x: grid, y: grid.map(f), color: '#08519c', label: 'f(x), the sum of ReLUs'},
    {x: xs, y: ys, color: '#d62728', points: true, only_points: true, radius: 5}];
  if (reluRun && reluRun.fit) series.push({x: reluRun.x, y: reluRun.fit, color: '#2ca02c', dash: true, label: `1-${reluRun.hidden}-1 net, step ${reluRun.step}`});
  reluMap = chart($('relu-plot'), {series, xlabel: 'x (drag the points)', ylabel: 'f(x)'});
}
function reluPointer(ev) {
  if (!reluFit || !reluMap) return;
  const box = $('relu-plot').getBoundingClientRect(), px = ev.clientX - box.left, py = ev.clientY - box.top;
  if (ev.type === 'pointerdown') {
    reluDrag = reluFit.xs.findIndex((x, i) => Math.hypot(reluMap.X(x) - px, reluMap.Y(reluFit.ys[i]) - py) < 9);
    if (reluDrag >= 0) $('relu-plot').setPointerCapture(ev.pointerId);
  } else if (ev.type === 'pointermove' && reluDrag >= 0) {
    const xs = reluFit.xs.slice(), ys = reluFit.ys.slice();
    xs[reluDrag] = Number(reluMap.invX(px).toFixed(2)), ys[reluDrag] = Number(reluMap.invY(py).toFixed(2));
    $('relu-points').value = xs.map((x, i) => `${x},${ys[i]}`).join(' ');
    reluShow();
  } else if (ev.type === 'pointerup') {
    reluDrag = -1;
  }
}
// Adam in chunks between frames, so that the page stays responsive and Stop works.
function reluTrain() {
  const total = Number($('relu-steps').value) | 0, hidden = Number($('relu-hidden').value) | 0;
  const start = guarded('relu-error', () => {
    if (!(total >= 1)) throw new Error(`steps must be at least 1, not '${$('relu-steps').value}'`);
    return nd.reluNet.start($('relu-points').value, {hidden, lr: $('relu-lr').value});
  });
  if (!start) return;
  const run = (reluRun = {x: start.x, y: start.y, hidden, losses: [], step: 0, fit: null, stopped: false});
  $('relu-train').disabled = true, $('relu-stop').disabled = false;
  const chunk = () => {
    if (run !== reluRun) return;
    const r = guarded('relu-error', () => nd.reluNet.steps(Math.min(100, total - run.step)));
    if (r) run.losses.push(...r.losses), (run.step = r.step), (run.fit = r.fit);
    const done = !r || run.step >= total || run.stopped;
    const last = run.losses[run.losses.length - 1];
    $('relu-progress').innerHTML = `step ${run.step} / ${total}, MSE ${span(last)}${done ? (run.stopped ? ' (stopped)' : ' (done)') : ''}`;
    chart($('relu-loss'), {series: [{x: range(1, run.losses.length, run.losses.length), y: run.losses.map(Math.log10), color: '#d62728', width: 1}],
      xlabel: 'step', ylabel: 'log10 MSE'});
    reluShow();
    if (done) {
      $('relu-train').disabled = false, $('relu-stop').disabled = true;
      $('relu-progress').dataset.done = '1';
    } else {
      setTimeout(chunk, 0);
    }
  };
  $('relu-progress').dataset.done = '';
  chunk();
}

// ------------------------------------------------------------ autodiff
function table(caption, rows) {
  return `<table><tr><th colspan="3">${esc(caption)}</th></tr>` +
    rows.map((r) => `<tr><td>${esc(r.name)}</td><td>${esc(r.text || '')}</td><td>${r.value.map(span).join(', ')}</td></tr>`).join('') + '</table>';
}
function adRun() {
  const r = guarded('ad-error', () => nd.autodiff($('ad-expr').value, $('ad-inputs').value));
  if (!r) return;
  $('ad-value').innerHTML = `${esc(r.output)} = ${r.value.map(span).join(', ')}`;
  let html = table('nodes, in evaluation order', r.nodes);
  for (const [input, rows] of Object.entries(r.forward)) html += table(`forward accumulation: d(node)/d${input}`, rows);
  html += table(`backward propagation: d${r.output}/d(node)`, r.backward);
  html += table('gradients', Object.entries(r.grads).map(([k, v]) => ({name: `d${r.output}/d${k}`, value: v})));
  $('ad-tables').innerHTML = html;
  adGraph(r);
}
// The graph from nd_graph_dot's text: nodes t0, t1, ... with labels, edges
// "ti -> tj"; laid out in layers (inputs at the bottom, the output on top).
function adGraph(r) {
  const nodes = {}, edges = [];
  for (const m of r.dot.matchAll(/^\s*(t\d+) \[([^\n]*)\];$/gm)) {
    const label = (m[2].match(/label="((?:[^"\\]|\\.)*)"/) || [, m[1]])[1].split('\\n');
    nodes[m[1]] = {label, input: /ellipse/.test(m[2]), level: 0};
  }
  for (const m of r.dot.matchAll(/^\s*(t\d+) -> (t\d+);$/gm)) edges.push([m[1], m[2]]);
  for (let pass = 0; pass < 64; pass++) // a node sits above everything it is computed from
    for (const [from, to] of edges) if (nodes[from] && nodes[to]) nodes[to].level = Math.max(nodes[to].level, nodes[from].level + 1);
  const levels = [];
  for (const [id, n] of Object.entries(nodes)) (levels[n.level] = levels[n.level] || []).push(id);
  const bw = 150, bh = 16 + 13 * 3, gap = 40, W = 700, H = levels.length * (bh + gap) + 10;
  for (const [l, ids] of levels.entries()) ids.forEach((id, i) => {
    nodes[id].x = ((i + 1) * W) / (ids.length + 1), nodes[id].y = H - (l + 1) * (bh + gap) + gap / 2;
  });
  let svg = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="#525252"/></marker></defs>';
  for (const [from, to] of edges)
    if (nodes[from] && nodes[to]) svg += `<line x1="${nodes[from].x}" y1="${nodes[from].y}" x2="${nodes[to].x}" y2="${nodes[to].y + bh}" stroke="#525252" marker-end="url(#arrow)"/>`;
  for (const n of Object.values(nodes)) {
    svg += `<rect x="${n.x - bw / 2}" y="${n.y}" width="${bw}" height="${bh}" rx="${n.input ? 20 : 6}" fill="${n.input ? '#fdd0a2' : '#deebf7'}" stroke="#777"/>`;
    n.label.slice(0, 4).forEach((line, i) => (svg += `<text x="${n.x}" y="${n.y + 14 + 12 * i}" text-anchor="middle">${esc(line.slice(0, 22))}</text>`));
  }
  const g = $('ad-graph');
  g.setAttribute('height', H), g.innerHTML = svg;
}

// ------------------------------------------------------------ affine
let card = null, affRun = null;
const mul3 = (A, B) => A.map((row) => [0, 1, 2].map((j) => row[0] * B[0][j] + row[1] * B[1][j] + row[2] * B[2][j]));
const T = (tx, ty) => [[1, 0, tx], [0, 1, ty], [0, 0, 1]];
const AFF_PARAMS = { // labels and the lab's values of the two parameters
  identity: [['–', 0], ['–', 0]], translate: [['tx', 60], ['ty', 40]], scale: [['sx', 0.6], ['sy', 0.8]],
  rotate: [['θ°', 30], ['–', 0]], shear: [['ex', 0.4], ['ey', 0]], matrix: [['–', 0], ['–', 0]],
};
// The course's matrices (as nd_affine_*), about the centre for scale/rotate/shear.
function affMatrix(kind, p1, p2) {
  const c = Math.cos((p1 * Math.PI) / 180), s = Math.sin((p1 * Math.PI) / 180);
  const M = {identity: T(0, 0), translate: T(p1, p2), scale: [[p1, 0, 0], [0, p2, 0], [0, 0, 1]],
    rotate: [[c, s, 0], [-s, c, 0], [0, 0, 1]], shear: [[1, p1, 0], [p2, 1, 0], [0, 0, 1]]}[kind];
  const cx = (card.width - 1) / 2, cy = (card.height - 1) / 2;
  return ['scale', 'rotate', 'shear'].includes(kind) ? mul3(T(cx, cy), mul3(M, T(-cx, -cy))) : M;
}
function affKind() {
  const kind = $('aff-kind').value, p = AFF_PARAMS[kind];
  $('aff-p1-label').textContent = p[0][0], $('aff-p2-label').textContent = p[1][0];
  if (kind !== 'matrix') $('aff-p1').value = p[0][1], $('aff-p2').value = p[1][1];
  affRun2(true);
}
function affRun2(fromKind) {
  if (!card) return;
  const kind = $('aff-kind').value;
  const inputs = [0, 1, 2].map((i) => [0, 1, 2].map((j) => $(`aff-m${i}${j}`)));
  if (kind !== 'matrix' && fromKind !== 'typed') {
    const p1 = Number($('aff-p1').value), p2 = Number($('aff-p2').value);
    affMatrix(kind, p1, p2).forEach((row, i) => row.forEach((v, j) => (inputs[i][j].value = Number(v.toPrecision(10)))));
  }
  const M = inputs.map((row) => row.map((el) => el.value));
  const out = guarded('aff-error', () => nd.warp(card, M));
  // kept for the tests: the canvas's copy is premultiplied by alpha, which
  // changes the colour of the half-transparent pixels at the picture's edge
  if (out) $('aff-out').getContext('2d').putImageData((window.ndLastWarp = out), 0, 0);
}
function affDraw(canvas, rgba, size) {
  const img = new ImageData(new Uint8ClampedArray(rgba), size, size), tmp = document.createElement('canvas');
  tmp.width = tmp.height = size;
  tmp.getContext('2d').putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d');
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tmp, 0, 0, canvas.width, canvas.height);
}
function affRecover() {
  const total = Number($('aff-steps').value) | 0;
  const start = guarded('aff-rec-error', () => {
    if (!(total >= 1)) throw new Error(`steps must be at least 1, not '${$('aff-steps').value}'`);
    return nd.affineRecovery.start(card, {lr: $('aff-lr').value});
  });
  if (!start) return;
  const run = (affRun = {losses: [], step: 0, stopped: false});
  affDraw($('aff-source'), start.source, start.size), affDraw($('aff-target'), start.target, start.size);
  $('aff-start').disabled = true, $('aff-stop').disabled = false, ($('aff-progress').dataset.done = '');
  const chunk = () => {
    if (run !== affRun) return;
    const r = guarded('aff-rec-error', () => nd.affineRecovery.steps(Math.min(10, total - run.step)));
    if (r) run.losses.push(...r.losses), (run.step = r.step), affDraw($('aff-current'), r.current, start.size);
    const done = !r || run.step >= total || run.stopped;
    $('aff-progress').innerHTML = `step ${run.step} / ${total}, MSE ${span(run.losses[run.losses.length - 1])}${done ? (run.stopped ? ' (stopped)' : ' (done)') : ''}`;
    if (r) $('aff-theta').innerHTML = `theta = [[${r.theta.slice(0, 3).map(span).join(', ')}], [${r.theta.slice(3).map(span).join(', ')}]]; true: [[${start.truth.slice(0, 3).map(span).join(', ')}], [${start.truth.slice(3).map(span).join(', ')}]]`;
    chart($('aff-loss'), {series: [{x: range(1, run.losses.length, run.losses.length), y: run.losses.map(Math.log10), color: '#d62728'}], xlabel: 'step', ylabel: 'log10 MSE'});
    if (done) $('aff-start').disabled = false, ($('aff-stop').disabled = true), ($('aff-progress').dataset.done = '1');
    else setTimeout(chunk, 0);
  };
  chunk();
}

// ------------------------------------------------------------ activations
function actRun() {
  const name = $('act-fn').value;
  const r = guarded('act-error', () => nd.activation(name, {lo: -8, hi: 8, n: 321}));
  if (!r) return;
  chart($('act-plot'), {series: [{x: r.x, y: r.y, color: '#08519c', label: `${name}(x)`}, {x: r.x, y: r.dy, color: '#d62728', dash: true, label: `${name}'(x) (autograd)`}],
    xlabel: 'x', yrange: name === 'sigmoid' || name === 'tanh' ? [-1.1, 1.4] : [-1.5, 8.5]});
  const at = [-3, -1, -0.5, 0, 0.5, 2].map((x) => Math.round((x + 8) * 20)); // the lab's check points
  $('act-table').innerHTML = '<tr><th>x</th><th>f(x)</th><th>f\'(x)</th></tr>' + at.map((i) => `<tr><td>${span(r.x[i])}</td><td>${span(r.y[i])}</td><td>${span(r.dy[i])}</td></tr>`).join('');
}
function actSin() {
  const n = $('act-n').value;
  $('act-n-value').textContent = n;
  const r = guarded('act-sin-error', () => nd.sinRelu(n));
  if (!r) return;
  $('act-sin-result').innerHTML = `N = ${r.n}: max |sin − ReLU sum| = ${span(r.error)}, bound h²/8 = ${span(r.bound)}`;
  chart($('act-sin'), {series: [{x: r.x, y: r.sin, color: '#08519c', label: 'sin(x)'}, {x: r.x, y: r.approx, color: '#d62728', dash: true, label: `${r.n} ReLUs`}],
    xlabel: 'x', yrange: [-1.2, 1.5]});
}

// ------------------------------------------------------------ start
function setup() {
  on(['opt-method', 'opt-lr', 'opt-momentum', 'opt-steps', 'opt-x0', 'opt-x2', 'opt-a', 'opt-b'], optRun);
  $('opt-f').addEventListener('change', optPreset);
  on(['relu-points'], reluShow);
  for (const ev of ['pointerdown', 'pointermove', 'pointerup']) $('relu-plot').addEventListener(ev, reluPointer);
  $('relu-train').addEventListener('click', reluTrain);
  $('relu-stop').addEventListener('click', () => reluRun && (reluRun.stopped = true));
  on(['ad-expr', 'ad-inputs'], adRun);
  $('aff-matrix').innerHTML = [0, 1, 2].map((i) => '<tr>' + [0, 1, 2].map((j) => `<td><input id="aff-m${i}${j}" type="number" value="${i === j ? 1 : 0}"></td>`).join('') + '</tr>').join('');
  $('aff-kind').addEventListener('change', affKind);
  on(['aff-p1', 'aff-p2'], () => affRun2(false));
  for (let i = 0; i < 9; i++) on([`aff-m${Math.floor(i / 3)}${i % 3}`], () => (($('aff-kind').value = 'matrix'), affRun2('typed')));
  $('aff-start').addEventListener('click', affRecover);
  $('aff-stop').addEventListener('click', () => affRun && (affRun.stopped = true));
  on(['act-fn'], actRun);
  on(['act-n'], actSin);
  const img = $('testcard');
  const cardReady = (img.complete ? Promise.resolve() : new Promise((ok, no) => ((img.onload = ok), (img.onerror = no)))).then(() => {
    const c = $('aff-src'), ctx = c.getContext('2d');
    c.width = img.naturalWidth, c.height = img.naturalHeight, $('aff-out').width = c.width, $('aff-out').height = c.height;
    ctx.drawImage(img, 0, 0);
    card = ctx.getImageData(0, 0, c.width, c.height);
  });
  optRun(); // the first panel's result: the page is usable from here on
  window.ndFirstResultMs = performance.now();
  reluShow(), adRun(), actRun(), actSin();
  window.ndAllPanelsMs = performance.now();
  return cardReady.then(() => affKind());
}
// nd.wasm, inlined as base64 text (web/interactive/assemble.mjs)
function ndWasmBinary() {
  const text = atob(document.getElementById('nd-wasm').textContent.trim()), bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
window.ndReady = (typeof createNd === 'function'
  ? createNd({wasmBinary: ndWasmBinary()}).then((m) => (window.nd = ndFace(m)))
  : Promise.reject(new Error('this page was written without nd compiled to WebAssembly: run scripts/build-wasm.sh (make build does), then nd labs again')));
// nd may be ready before the parser has reached the test card's <img>, after
// the scripts (seen under load: setup found no #testcard): wait for the document.
const parsed = () => document.readyState !== 'loading' ? null : new Promise((ok) => document.addEventListener('DOMContentLoaded', ok, {once: true}));
window.ndPanelsReady = window.ndReady.then(parsed).then(setup).then(() => {
  $('status').textContent = `nd ${nd.version()} (WebAssembly): first result ${Math.round(window.ndFirstResultMs - window.ndStartMs)} ms after it began to load.`;
}, (e) => {
  $('status').textContent = e.message;
  $('status').className = 'error';
  throw e;
});
