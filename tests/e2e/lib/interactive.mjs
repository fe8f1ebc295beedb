// interactive.mjs — drives out/interactive.html (nd compiled to WebAssembly) in
// a headless browser from file:// and holds every panel's numbers against
// native nd's for the same settings: the page's C functions run natively
// (nd_web_native, web/native.c) and the nd program itself (nd fit, nd autodiff).
// One list of checks for both browsers: Chromium over the DevTools protocol
// (cdp.mjs), Firefox over WebDriver BiDi (bidi.mjs); each gives the same page
// object (evaluate, errors, close).
// Usage: node interactive.mjs BUILD_DIR PAGE.html [chromium|firefox [COMMAND]]
// (from the repository's root). Prints one line per check; exit status 1 when
// one fails.
import {execFileSync} from 'node:child_process';
import {resolve} from 'node:path';
import * as cdp from './cdp.mjs';
import * as bidi from './bidi.mjs';

const [build, pagePath, browser = 'chromium', command] = process.argv.slice(2);
const drivers = {chromium: (url) => cdp.open(url, command ? {chromium: command} : {}),
  firefox: (url) => bidi.open(url, command ? {firefox: command} : {})};
if (!drivers[browser]) {
  console.log(`interactive: no driver for '${browser}' (chromium, firefox)`);
  process.exit(1);
}
const open = drivers[browser];
const name = `interactive (${browser})`;
const native = (...args) => execFileSync(resolve(build, 'nd_web_native'), args, {encoding: 'utf8', maxBuffer: 1 << 26}).trim().split('\n').map((l) => JSON.parse(l));
const nativeError = (...args) => {
  try {
    execFileSync(resolve(build, 'nd_web_native'), args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    return e.stderr.trim().replace(/^nd_web_native: /, '');
  }
  return null;
};
const cli = (...args) => {
  try {
    return execFileSync(resolve(build, 'nd'), args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    return e.stdout + e.stderr;
  }
};
let failures = 0, checks = 0;
const fail = (what, why) => (failures++, console.log(`${name}: FAIL ${what}: ${why}`));
const pass = (what) => (checks++, process.env.VERBOSE && console.log(`${name}: ok ${what}`));
const rel = 1e-6;
// Numbers shown (10 significant digits) against native ones, to 1e-6 relative.
function close(what, got, want, tol = rel) {
  if (!Array.isArray(got) || !Array.isArray(want)) return fail(what, `not lists: ${got} vs ${want}`);
  if (got.length !== want.length) return fail(what, `${got.length} numbers shown, native has ${want.length}: ${got} vs ${want}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i], w = want[i];
    if (!(Math.abs(g - w) <= tol * Math.max(Math.abs(w), 1e-300) || (Math.abs(w) < 1e-12 && Math.abs(g) < 1e-12)))
      return fail(what, `number ${i}: page ${g}, native ${w} (relative ${Math.abs(g - w) / Math.abs(w)})`);
  }
  pass(what);
}
// Against a number the lab prints with %f (and checks): within its last digit.
const printed = (what, got, want) => (got.every((g, i) => Math.abs(g - want[i]) <= 5e-7) ? pass(what) : fail(what, `${got} vs the lab's ${want}`));
const same = (what, got, want) => (got === want ? pass(what) : fail(what, `page '${got}', native '${want}'`));
const truthy = (what, ok, why) => (ok ? pass(what) : fail(what, why));

// Time to first result: from the document's arrival to the first panel's
// numbers; the best of up to three loads, this machine being shared. The
// arrival is responseEnd; Firefox leaves that 0 for file://, so there it is
// when the document began to be parsed (domLoading, of the older
// performance.timing). Also shown: from the moment nd begins to load
// (window.ndStartMs, the page's first script), which leaves out the
// browser's own first layout. The checks then go on in the last browser.
const url = 'file://' + resolve(pagePath);
const timings = [];
let page;
const ev = (js, ms) => page.evaluate(js, ms);
try {
  for (let i = 0; i < 3 && !timings.some((t) => t.arrived < 1000); i++) {
    if (page) await page.close(); // each load in a fresh browser, none warmed by the one before
    page = await open(url);
    timings.push(JSON.parse(await ev(`window.ndPanelsReady.then(() => {
      const end = performance.getEntriesByType('navigation')[0].responseEnd;
      const arrived = end > 0 ? end : performance.timing.domLoading - performance.timing.navigationStart;
      return JSON.stringify({arrived: ndFirstResultMs - arrived, first: ndFirstResultMs - ndStartMs, all: ndAllPanelsMs - ndStartMs});
    })`)));
  }
} catch (e) {
  fail(`loading the page in ${browser}`, e.stack || e.message);
  if (page) await page.close();
  console.log(`${name}: ${checks} checks passed, ${failures} failed`);
  process.exit(1);
}
const best = timings.reduce((a, b) => (a.arrived <= b.arrived ? a : b));
console.log(`${name}: first result ${Math.round(best.arrived)} ms after the page arrived (best of ${timings.length}: ` +
  `${timings.map((t) => Math.round(t.arrived)).join(', ')} ms); ${Math.round(best.first)} ms after nd began to load, every panel ${Math.round(best.all)} ms`);
truthy('usable within 1 s of loading', best.arrived < 1000, `first result ${Math.round(best.arrived)} ms after the page arrived`);

try {
  await ev(`(async () => {
    window.t = {
      set(id, v) { const el = document.getElementById(id); el.value = v;
        for (const e of ['input', 'change']) el.dispatchEvent(new Event(e, {bubbles: true})); },
      nums: (id) => Array.from(document.querySelectorAll('#' + id + ' .num')).map((e) => Number(e.textContent)),
      text: (id) => document.getElementById(id).textContent,
      async done(id) { while (document.getElementById(id).dataset.done !== '1') await new Promise((r) => setTimeout(r, 20)); },
    };
  })()`);
  await ev('window.ndPanelsReady');
  same('nd.version() is nd info\'s', await ev('nd.version()'), cli('info').match(/^nd (\S+)/)[1]);

  // ------------------------------------------------------------ optimization
  const gd = (f, m, x0, lr, b, steps) => native('gd', f, m, String(x0), String(lr), String(b), String(steps))[0];
  let n = gd('x^2', 'gd', 10, 0.2, 0, 10);
  close('optimization, defaults (x^2, GD, eta 0.2, 10 steps)', await ev('t.nums("opt-result")'), [n.final, n.fs[10]]);
  printed('optimization, the lab\'s printed x', [n.final], [0.060466]);
  await ev('t.set("opt-method", "momentum"); t.set("opt-momentum", 0.4); t.set("opt-lr", 0.3); t.set("opt-steps", 12); t.set("opt-x0", 4)');
  n = gd('x^2', 'momentum', 4, 0.3, 0.4, 12);
  close('optimization, momentum 0.4, eta 0.3, 12 steps from 4', await ev('t.nums("opt-result")'), [n.final, n.fs[12]]);
  await ev('t.set("opt-f", "xcos015")');
  n = gd('xcos015', 'newton', 10, 0.5, 0, 10);
  close('optimization, Newton on x·cos(0.15πx) (the lab\'s preset)', await ev('t.nums("opt-result")'), [n.final, n.fs[10]]);
  printed('optimization, Newton: the lab\'s 7.269860', [n.final], [7.26986]);
  await ev('t.set("opt-f", "quad")');
  n = native('gd2', 'momentum', '0.1', '2', '-5', '-2', '0.6', '0.5', '20')[0];
  close('optimization, the slides\' quadratic 0.1·x1² + 2·x2², momentum 0.5, eta 0.6', await ev('t.nums("opt-result")'), [...n.final, n.fs[20]]);
  printed('optimization, quadratic: the lab\'s (0.007188, 0.002553)', n.final, [0.007188, 0.002553]);
  const api = await ev('JSON.stringify(nd.gd({f: "x^2", lr: 0.2, steps: 10, x0: 10}))');
  close('nd.gd({f: "x^2", lr, steps, x0}).xs', JSON.parse(api).xs, gd('x^2', 'gd', 10, 0.2, 0, 10).xs, 1e-15);
  await ev('t.set("opt-lr", "")');
  truthy('optimization: an empty rate shows an error', /must be a number/.test(await ev('t.text("opt-error")')), await ev('t.text("opt-error")'));
  await ev('t.set("opt-lr", 0.4); t.set("opt-method", "gd")');
  n = native('gd2', 'gd', '0.1', '2', '-5', '-2', '0.4', '0', '20')[0];
  close('optimization keeps working after the error (GD, eta 0.4)', await ev('t.nums("opt-result")'), [...n.final, n.fs[20]]);
  same('optimization: the error line clears', await ev('t.text("opt-error")'), '');

  // ------------------------------------------------------------ ReLU synthesis
  const formulaOf = (pts) => cli('fit', pts).match(/^f\(x\) = (.*)$/m)[1];
  same('ReLU formula, the course\'s points (nd fit)', await ev('t.text("relu-formula")'), formulaOf('-10,-10 0,0 5,-5 10,20'));
  same('ReLU formula is the slide\'s', await ev('t.text("relu-formula")'), '-10 + relu(x + 10) - 2 relu(x) + 6 relu(x - 5)');
  await ev('t.set("relu-points", "0,0 1,2 3,1 4,4")');
  same('ReLU formula, edited points (nd fit)', await ev('t.text("relu-formula")'), formulaOf('0,0 1,2 3,1 4,4'));
  const fitApi = JSON.parse(await ev('JSON.stringify(nd.fit("-10,-10 0,0 5,-5 10,20"))'));
  close('nd.fit(...).terms', fitApi.terms.flatMap((t) => [t.slope, t.knot]), [1, -10, -2, 0, 6, 5], 1e-15);
  await ev('t.set("relu-points", "1,1 1,2")');
  same('ReLU synthesis: repeated x shows nd fit\'s error', await ev('t.text("relu-error")'), 'nd fit: ' + cli('fit', '1,1 1,2').replace(/^nd fit: /, '').trim());
  await ev('t.set("relu-points", "-10,-10 0,0 5,-5 10,20")');
  same('ReLU synthesis works again', await ev('t.text("relu-error")'), '');
  await ev('t.set("relu-steps", 300); document.getElementById("relu-train").click()');
  await ev('t.done("relu-progress")', 120000);
  n = native('relu-net', '-10,-10 0,0 5,-5 10,20', '32', '0.01', '300');
  const shownLoss = await ev('t.nums("relu-progress")');
  close('ReLU net, Adam: MSE after 300 steps (float32)', shownLoss, [n[1].losses[299]], 1e-4);
  const losses = JSON.parse(await ev('(nd.reluNet.start("-10,-10 0,0 5,-5 10,20"), JSON.stringify(nd.reluNet.steps(20).losses))'));
  close('ReLU net, Adam: the first 20 losses', losses, n[1].losses.slice(0, 20), 1e-5);
  // the stop button: a long run stops
  await ev('t.set("relu-steps", 100000); document.getElementById("relu-train").click(); setTimeout(() => document.getElementById("relu-stop").click(), 50)');
  await ev('t.done("relu-progress")', 60000);
  truthy('ReLU net: Stop stops', /stopped/.test(await ev('t.text("relu-progress")')), await ev('t.text("relu-progress")'));

  // ------------------------------------------------------------ autodiff
  const adInputs = 'x=[1,2,3]\nw=[0.5,-1,2]\ny=1';
  const allNums = (r) => [...r.value, ...r.nodes.flatMap((x) => x.value), ...Object.values(r.forward).flat().flatMap((x) => x.value),
    ...r.backward.flatMap((x) => x.value), ...Object.values(r.grads).flat()];
  n = native('autodiff', '(dot(x,w)-y)^2', adInputs)[0];
  close('autodiff: value, nodes, forward and backward tables, gradients', await ev('[...t.nums("ad-value"), ...t.nums("ad-tables")]'), allNums(n));
  truthy('autodiff: nd autodiff prints the same z and dz/dw', /^z = tensor\(12\.2500, grad_fn=<pow>\)/m.test(cli('autodiff', '(dot(x,w)-y)^2', 'x=[1,2,3]', 'w=[0.5,-1,2]', 'y=1'))
    && n.value[0] === 12.25 && n.grads.w.join() === '7,14,21', 'nd autodiff disagrees');
  truthy('autodiff: the graph is drawn', (await ev('document.querySelectorAll("#ad-graph rect").length')) === 6, 'not 6 boxes');
  const expr2 = 'a = sum(relu(x) * sigmoid(w)); z = tanh(a) + exp(y) / 3';
  await ev(`t.set("ad-expr", ${JSON.stringify(expr2)})`);
  n = native('autodiff', expr2, adInputs)[0];
  close('autodiff: statements, relu, sigmoid, tanh, exp', await ev('[...t.nums("ad-value"), ...t.nums("ad-tables")]'), allNums(n));
  const apiAd = JSON.parse(await ev('JSON.stringify(nd.autodiff("(dot(x,w)-y)^2", {x: [1, 2, 3], w: [0.5, -1, 2], y: 1}))'));
  close('nd.autodiff(expr, {x, w, y}).grads', [...apiAd.grads.x, ...apiAd.grads.w, ...apiAd.grads.y], [3.5, -7, 14, 7, 14, 21, -7], 1e-15);
  truthy('nd.autodiff(...).dot is nd_graph_dot\'s', apiAd.dot.startsWith('digraph'), apiAd.dot.slice(0, 40));
  await ev('t.set("ad-expr", "(dot(x,w)-y")');
  same('autodiff: a parse error shows nd\'s message', await ev('t.text("ad-error")'), nativeError('autodiff', '(dot(x,w)-y', adInputs));
  truthy('autodiff: the CLI says the same', cli('autodiff', '(dot(x,w)-y', 'x=1').includes((await ev('t.text("ad-error")')).replace(/ \(column \d+\)$/, '').replace(/^nd autodiff: /, '')), 'differs');
  await ev('t.set("ad-expr", "log(y)"); t.set("ad-inputs", "y=-1")');
  truthy('autodiff: NaN shows an error', /NaN or infinite/.test(await ev('t.text("ad-error")')), await ev('t.text("ad-error")'));
  await ev('t.set("ad-expr", "log(y)"); t.set("ad-inputs", "y=2")');
  n = native('autodiff', 'log(y)', 'y=2')[0];
  close('autodiff keeps working after errors', await ev('[...t.nums("ad-value"), ...t.nums("ad-tables")]'), allNums(n));
  same('autodiff: the error line clears', await ev('t.text("ad-error")'), '');
  const thrown = await ev('(() => { try { nd.autodiff("1 +", {}); return "no error"; } catch (e) { return e.message; } })()');
  same('nd.autodiff throws nd\'s message', thrown, nativeError('autodiff', '1 +', ''));

  // ------------------------------------------------------------ affine
  const card = resolve('data', 'testcard.png'); // run from the repository's root
  const warpCheck = async (what) => {
    const m = await ev('[0, 1].flatMap((i) => [0, 1, 2].map((j) => document.getElementById(`aff-m${i}${j}`).value))');
    const want = native('warp', card, ...m)[0];
    // the picture drawn (the canvas's copy has its half-transparent edge premultiplied)
    const got = JSON.parse(await ev('JSON.stringify(Array.from(window.ndLastWarp.data))')); // as one string: BiDi's value of 300k numbers is slow
    let differ = 0, worst = 0;
    for (let i = 0; i < want.length; i++) (differ += got[i] !== want[i]), (worst = Math.max(worst, Math.abs(got[i] - want[i])));
    truthy(what, got.length === want.length && differ === 0, `${differ} of ${want.length} bytes differ from native nd_warp_affine, by up to ${worst}`);
  };
  await warpCheck('affine: rotation 30° about the centre equals native nd_warp_affine (every byte)');
  await ev('t.set("aff-kind", "shear")');
  await warpCheck('affine: shear 0.4 equals native');
  await ev('t.set("aff-kind", "translate"); t.set("aff-p1", 25.5)');
  await warpCheck('affine: translation by 25.5, 40 equals native');
  await ev('t.set("aff-m00", 2); t.set("aff-m01", 0.5); t.set("aff-m10", -0.3)');
  await warpCheck('affine: a typed matrix equals native');
  await ev('t.set("aff-m00", 0); t.set("aff-m01", 0); t.set("aff-m10", 0); t.set("aff-m11", 0)');
  same('affine: a singular matrix shows nd\'s message', await ev('t.text("aff-error")'), 'nd.warp: ' + nativeError('warp', card, '0', '0', '25.5', '0', '0', '40').replace(/^nd.warp: /, ''));
  await ev('t.set("aff-m02", "")');
  truthy('affine: an empty entry shows an error', /must be a number/.test(await ev('t.text("aff-error")')), await ev('t.text("aff-error")'));
  await ev('t.set("aff-kind", "scale")');
  await warpCheck('affine keeps working after errors (scaling 0.6, 0.8)');
  same('affine: the error line clears', await ev('t.text("aff-error")'), '');
  await ev('document.getElementById("aff-start").click()');
  await ev('t.done("aff-progress")', 180000);
  n = native('affine', card, '0.01', '300');
  const shown = await ev('[...t.nums("aff-progress"), ...t.nums("aff-theta").slice(0, 6)]');
  close('affine recovery: MSE and theta after 300 Adam steps (float32)', shown, [n[1].losses[299], ...n[1].theta], 1e-3);
  close('affine recovery: theta recovered within 0.02 of the truth', n[1].theta, n[0].truth, 0.05);
  close('affine recovery: the page\'s test card is the lab\'s (source pixels)', await ev('JSON.parse(JSON.stringify(nd.affineRecovery.start(document.getElementById("aff-src").getContext("2d").getImageData(0,0,320,240)).source))'), n[0].source, 0);

  // ------------------------------------------------------------ activations
  for (const fn of ['relu', 'sigmoid', 'tanh', 'leaky-relu', 'gelu']) {
    await ev(`t.set("act-fn", "${fn}")`);
    const r = native('activation', fn, '-8', '8', '321')[0];
    const at = [-3, -1, -0.5, 0, 0.5, 2].map((x) => Math.round((x + 8) * 20));
    close(`activations: ${fn} and its derivative at the lab's points`, await ev('t.nums("act-table")'), at.flatMap((i) => [r.x[i], r.y[i], r.dy[i]]));
  }
  for (const N of [2, 8, 32, 64]) {
    await ev(`t.set("act-n", ${N})`);
    const r = native('sin-relu', String(N))[0];
    close(`sin by ${N} ReLUs: max error and bound`, await ev('t.nums("act-sin-result")'), [r.error, r.bound]);
  }
  const lab = cli('lab', 'relu-synthesis', '--help'); // the lab's table is checked by its own test
  truthy('the nd program answers', lab.length > 0, 'nothing');
  await ev('new Promise((r) => setTimeout(r, 100))');
  truthy('no console error', page.errors.length === 0, page.errors.join(' | '));
} catch (e) {
  fail('driving the page', e.stack || e.message);
} finally {
  if (page) await page.close();
}
console.log(`${name}: ${checks} checks passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
