// bidi.mjs — a headless Firefox driven over WebDriver BiDi (Firefox has no
// DevTools protocol any more), with nothing but Node (the WebSocket: ws.mjs).
// open(url) → the page cdp.mjs gives for Chromium: {evaluate(expr, ms) (awaits
// promises, returns the value), errors (console errors and uncaught
// exceptions, as text), send(method, params), close() (a promise)}.
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {connect} from './ws.mjs';
import {launch, waitFor, within} from './browser.mjs';

// startMs bounds the start: the new session waits for the browser's idle
// startup tasks, 10-30 s on a busy machine.
export async function open(url, {firefox = 'firefox-esr', timeoutMs = 30000, startMs = 120000} = {}) {
  // The remote agent sets its own automation preferences; these only keep a
  // fresh profile from its first-run chores.
  const prefs = {'browser.shell.checkDefaultBrowser': false, 'browser.aboutwelcome.enabled': false,
    'datareporting.policy.dataSubmissionEnabled': false, 'toolkit.telemetry.reportingpolicy.firstRun': false,
    'app.update.disabledForTesting': true, 'browser.startup.homepage_override.mstone': 'ignore'};
  const browser = launch(firefox, (profile) => ['--headless', '--no-remote', '--profile', profile,
    '--remote-debugging-port=0', 'about:blank'], 'nd-bidi-', (profile) => writeFileSync(join(profile, 'user.js'),
    Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});\n`).join('')));
  let ws;
  const close = async () => {
    try {
      if (ws) ws.close();
    } catch {}
    await browser.kill();
  };
  let id = 0, context;
  const pending = new Map(), errors = [];
  const send = (method, params = {}, ms = timeoutMs, what = method) => within(new Promise((ok, fail) => {
    const mid = ++id;
    pending.set(mid, {ok, fail});
    ws.send(JSON.stringify({id: mid, method, params}));
  }), ms, what);
  try {
    const [, port] = await waitFor(browser, /WebDriver BiDi listening on ws:\/\/[^\s]+:(\d+)/, startMs, firefox);
    ws = await within(connect(`ws://127.0.0.1:${port}/session`), timeoutMs, 'the BiDi WebSocket');
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.id && pending.has(msg.id)) {
        const {ok, fail} = pending.get(msg.id);
        pending.delete(msg.id);
        msg.type === 'error' ? fail(new Error(`${msg.error}: ${msg.message}`)) : ok(msg.result);
      } else if (msg.method === 'log.entryAdded' && msg.params.level === 'error') {
        // console.error and console.assert (type console); uncaught exceptions,
        // promise rejections included (type javascript)
        errors.push((msg.params.type === 'console' ? 'console.error: ' : 'uncaught: ') + msg.params.text);
      }
    };
    ws.onclose = () => {
      for (const {fail} of pending.values()) fail(new Error('firefox closed the connection'));
      pending.clear();
    };
    await send('session.new', {capabilities: {}}, startMs);
    await send('session.subscribe', {events: ['log.entryAdded']});
    context = (await send('browsingContext.getTree', {})).contexts[0].context;
    await send('browsingContext.navigate', {context, url, wait: 'complete'}); // to the load event
  } catch (e) {
    await close();
    throw e;
  }
  return {
    errors,
    send, // any other BiDi call
    async evaluate(expression, ms = timeoutMs) {
      const r = await send('script.evaluate', {expression, target: {context}, awaitPromise: true, resultOwnership: 'none'}, ms, expression.slice(0, 80));
      if (r.type === 'exception') throw new Error(r.exceptionDetails.text);
      return value(r.result);
    },
    close,
  };
}

// A BiDi remote value as the JSON-like value CDP's returnByValue gives.
function value(v) {
  switch (v.type) {
    case 'undefined': return undefined;
    case 'null': return null;
    case 'string': case 'boolean': return v.value;
    case 'number': return typeof v.value === 'number' ? v.value : v.value === '-0' ? -0 : Number(v.value); // NaN, ±Infinity
    case 'array': return v.value.map(value);
    case 'object': return Object.fromEntries(v.value.map(([k, x]) => [typeof k === 'string' ? k : value(k), value(x)]));
    default: throw new Error(`a ${v.type} is not returned by value`);
  }
}
