// cdp.mjs — a headless Chromium driven over the DevTools protocol, with
// nothing but Node (the WebSocket: ws.mjs, as Debian's Node 18 has none).
// open(url) → {evaluate(expr, ms) (awaits promises, returns the value), errors
// (console errors and uncaught exceptions, as text), send(method, params),
// close() (a promise)}; bidi.mjs gives the same for Firefox.
import {connect} from './ws.mjs';
import {launch, waitFor, within} from './browser.mjs';

export async function open(url, {chromium = 'chromium', timeoutMs = 30000} = {}) {
  const browser = launch(chromium, (profile) => ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--allow-file-access-from-files', `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'], 'nd-cdp-');
  let ws;
  const close = async () => {
    try {
      if (ws) ws.close();
    } catch {}
    await browser.kill();
  };
  try {
    const [, wsUrl] = await waitFor(browser, /DevTools listening on (ws:\S+)/, timeoutMs, chromium);
    ws = await within(connect(wsUrl), timeoutMs, 'the DevTools WebSocket');
  } catch (e) {
    await close();
    throw e;
  }
  let id = 0;
  const pending = new Map(), errors = [];
  let onLoad = () => {};
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id && pending.has(msg.id)) {
      const {ok, fail} = pending.get(msg.id);
      pending.delete(msg.id);
      msg.error ? fail(new Error(msg.error.message)) : ok(msg.result);
    } else if (msg.method === 'Page.loadEventFired') {
      onLoad();
    } else if (msg.method === 'Runtime.exceptionThrown') {
      const d = msg.params.exceptionDetails;
      errors.push('uncaught: ' + ((d.exception && d.exception.description) || d.text));
    } else if (msg.method === 'Runtime.consoleAPICalled' && ['error', 'assert'].includes(msg.params.type)) {
      errors.push('console.error: ' + msg.params.args.map((a) => a.value ?? a.description).join(' '));
    } else if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error') {
      errors.push('log: ' + msg.params.entry.text);
    }
  };
  ws.onclose = () => {
    for (const {fail} of pending.values()) fail(new Error('chromium closed the connection'));
    pending.clear();
  };
  const send = (method, params = {}, sessionId, ms = timeoutMs, what = method) => within(new Promise((ok, fail) => {
    const mid = ++id;
    pending.set(mid, {ok, fail});
    ws.send(JSON.stringify({id: mid, method, params, ...(sessionId ? {sessionId} : {})}));
  }), ms, what);
  let sessionId, loaded;
  try {
    const {targetId} = await send('Target.createTarget', {url: 'about:blank'});
    ({sessionId} = await send('Target.attachToTarget', {targetId, flatten: true}));
    for (const domain of ['Runtime', 'Log', 'Page']) await send(domain + '.enable', {}, sessionId);
    const loadFired = new Promise((ok) => (onLoad = ok));
    loaded = Date.now();
    await send('Page.navigate', {url}, sessionId);
    await within(loadFired, timeoutMs, 'the load event');
  } catch (e) {
    await close();
    throw e;
  }
  return {
    loadedAt: loaded,
    errors,
    send: (method, params) => send(method, params, sessionId), // any other DevTools call
    async evaluate(expression, ms = timeoutMs) {
      const r = await send('Runtime.evaluate', {expression, awaitPromise: true, returnByValue: true}, sessionId, ms, expression.slice(0, 80));
      if (r.exceptionDetails) throw new Error((r.exceptionDetails.exception && r.exceptionDetails.exception.description) || r.exceptionDetails.text);
      return r.result.value;
    },
    close,
  };
}
