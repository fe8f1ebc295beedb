// assemble.mjs — writes the self-contained interactive.html: page.html with
// nd compiled to WebAssembly inlined (Emscripten's nd.js, and nd.wasm as
// base64 in a text element that panels.js decodes into wasmBinary: as text
// the browser only tokenizes it, where inside the JS, as SINGLE_FILE puts it,
// the JS parser had to read 600 kB of string, a quarter second here), the
// page's scripts and the test card as a data URL, so that it loads from
// file:// with nothing beside it.
// Usage: node web/interactive/assemble.mjs ND_JS ND_WASM TESTCARD_PNG OUT_HTML
import {readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [module, wasm, testcard, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node assemble.mjs ND_JS ND_WASM TESTCARD_PNG OUT_HTML');
  process.exit(2);
}
const read = (p) => readFileSync(p, 'utf8');
const scripts = ['face.js', 'charts.js', 'panels.js'].map((f) => read(join(here, f))).join('\n');
const nd = read(module);
for (const [name, text] of [['nd.js', nd], ['the page scripts', scripts]])
  if (/<\/script/i.test(text)) {
    console.error(`assemble: ${name} holds "</script", which would end the inline script early`);
    process.exit(1);
  }
const page = read(join(here, 'page.html'))
  .replace('<!--TESTCARD-->', () => 'data:image/png;base64,' + readFileSync(testcard).toString('base64'))
  .replace('<!--ND_MODULE-->', () => nd)
  .replace('<!--ND_WASM-->', () => readFileSync(wasm).toString('base64'))
  .replace('<!--ND_SCRIPTS-->', () => scripts)
  .replace('<!--ND_MISSING-->', '');
writeFileSync(out, page);
