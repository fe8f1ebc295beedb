// run.mjs — W12 of BENCHMARKS.md: W6 and W4 in headless Chromium, nd.wasm
// against TensorFlow.js (its wasm and cpu backends), plus the .wasm's size and
// out/interactive.html's time to first result. Prints scripts/bench.sh's
// `workload=… impl=… threads=1 metric=… value=… unit=…` lines.
//   node bench/web/run.mjs WASM_BUILD_DIR [quick]
// Needs bench/web/node_modules (run.sh installs it) and chromium. The page is
// served over http on 127.0.0.1 (tfjs's wasm backend fetches its .wasm, which
// file:// refuses); the interactive page opens from file://, as a student's does.
import {createServer} from 'node:http';
import {readFileSync, statSync} from 'node:fs';
import {dirname, extname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {open} from '../../tests/e2e/lib/cdp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const wasmDir = resolve(process.argv[2] || 'build-wasm');
const quick = process.argv[3] === 'quick';
const tfjs = join(here, 'node_modules/@tensorflow');
const roots = {'/nd/': wasmDir, '/tfjs/': join(tfjs, 'tfjs/dist'), '/tfjs-wasm/': join(tfjs, 'tfjs-backend-wasm/dist'), '/': here};
const types = {'.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm'};

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === '/favicon.ico') return res.writeHead(204).end(); // not a failed load
  const prefix = Object.keys(roots).find((p) => path.startsWith(p)); // '/' last
  const file = join(roots[prefix], path.slice(prefix.length) || 'bench.html');
  try {
    const body = readFileSync(file);
    res.writeHead(200, {'content-type': types[extname(file)] || 'application/octet-stream'});
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/bench.html`;

const line = (workload, impl, metric, value, unit) =>
  console.log(`workload=${workload} impl=${impl} threads=1 metric=${metric} value=${value.toPrecision(6)} unit=${unit}`);

// The ids of BENCHMARKS.md: W12_browser_relu_fit (W6), W12_browser_autograd
// (W4, scalar), and W4 on (64,) vectors beside it.
const results = {};
async function measure(impl, call) {
  const page = await open(url, {timeoutMs: 600000});
  try {
    const r = await page.evaluate(call, 600000);
    results[impl] = r;
    line('W12_browser_relu_fit', impl, 'steps_per_s', r.w6.steps_per_s, 'steps/s');
    line('W12_browser_relu_fit', impl, 'final_mse', r.w6.final_mse, 'mse');
    line('W12_browser_autograd', impl, 'ns_per_op', r.w4.scalar, 'ns');
    line('W12_browser_autograd_vec64', impl, 'ns_per_op', r.w4.vec64, 'ns');
    if (page.errors.length) console.error(`W12 ${impl}: ${page.errors.join('; ')}`);
  } finally {
    await page.close();
  }
}

let failed = 0;
const steps = quick ? 1000 : 5000;
for (const [impl, call] of [['nd', `bench.nd({steps: ${steps}, runs: 5})`],
  ['tfjs-wasm', `bench.tfjs({backend: 'wasm', steps: ${steps}, runs: 1})`],
  ['tfjs-cpu', `bench.tfjs({backend: 'cpu', steps: ${steps}, runs: 1})`]]) {
  try {
    await measure(impl, call);
  } catch (e) {
    console.error(`W12 ${impl} failed: ${e.message}`);
    failed = 1;
  }
}
server.close();

// The target is a ratio within one run (the machine may be shared): nd against
// the faster TensorFlow.js backend, with both numbers, on stderr (stdout keeps
// only result lines; make bench's table computes the same ratios from them).
if (results.nd) {
  const peers = ['tfjs-wasm', 'tfjs-cpu'].filter((p) => results[p]);
  const ratio = (name, get, higher) => {
    if (!peers.length) return;
    const best = peers.reduce((a, b) => ((get(results[b]) > get(results[a])) === higher ? b : a));
    const nd = get(results.nd), peer = get(results[best]);
    const x = higher ? nd / peer : peer / nd;
    console.error(`# W12 ${name}: nd ${nd.toPrecision(4)}, ${best} ${peer.toPrecision(4)}: ${x.toFixed(1)}x (target 20x)`);
  };
  ratio('relu_fit steps/s', (r) => r.w6.steps_per_s, true);
  ratio('autograd scalar ns/op', (r) => r.w4.scalar, false);
  ratio('autograd vec64 ns/op', (r) => r.w4.vec64, false);
}

line('W12_page', 'nd', 'wasm_size', statSync(join(wasmDir, 'nd.wasm')).size / 1e6, 'MB');
// out/interactive.html from file://: the document's arrival to the first
// panel's numbers, the best of three loads (as tests/e2e/lib/interactive.mjs);
// a load whose page fails is reported and not counted.
const page = join(wasmDir, 'interactive.html');
const times = [];
for (let i = 0; i < 3; i++) {
  const p = await open('file://' + page);
  try {
    times.push(await p.evaluate(`window.ndPanelsReady.then(() =>
      ndFirstResultMs - performance.getEntriesByType('navigation')[0].responseEnd)`));
  } catch (e) {
    console.error(`W12 first result, load ${i + 1}: ${e.message.split('\n')[0]}`);
  } finally {
    await p.close();
  }
}
if (times.length) line('W12_page', 'nd', 'first_result', Math.min(...times), 'ms');
else failed = 1;
process.exit(failed);
